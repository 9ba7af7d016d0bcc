//! Thread locks: which `with x:` / `x.acquire()` expressions are thread locks, and which
//! locks a function inherits from every one of its callers.

use std::collections::BTreeSet;

use super::catalogue::Catalogue;
use super::contexts::{constructs_self, Contexts};
use super::identity::receiver_class;
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use super::state::{resolve_state, state_type, StateKey};
use crate::model::{returned_parameter, CallSite, FileId, Language, LOCAL_LOCK};

pub struct Locksets {
    /// Per function: thread locks held at *every* call of it (for functions only their
    /// calls run: see `inherits`).
    pub inherited: Vec<BTreeSet<StateKey>>,
    /// Per function: `asyncio` locks held at every call of it that runs it then: a sync
    /// function called, or a coroutine awaited, inside `async with lock:` (for
    /// functions only such calls run: `inherits`, and for a coroutine
    /// `runs_only_when_awaited`). A helper coroutine awaited under the lock holds it
    /// for all it does, including the worker it awaits.
    pub inherited_async: Vec<BTreeSet<StateKey>>,
}

impl Locksets {
    pub fn compute(program: &Program, catalogue: &Catalogue, contexts: &Contexts) -> Locksets {
        let count = program.functions.len();
        let site_locks =
            |held: fn(&CallSite) -> &[String], lock: LockKind| -> Vec<Vec<BTreeSet<StateKey>>> {
                (0..count)
                    .map(|f| {
                        let file = program.file_of(f);
                        program
                            .function(f)
                            .calls
                            .iter()
                            .map(|call| match lock {
                                LockKind::Thread => {
                                    held_thread_locks(program, catalogue, file, held(call))
                                }
                                LockKind::Asyncio => {
                                    held_asyncio_locks(program, catalogue, file, held(call))
                                }
                            })
                            .collect()
                    })
                    .collect()
            };
        let thread_sites = site_locks(|c| &c.locks, LockKind::Thread);
        let inherited = meet_over_callers(
            program,
            contexts,
            &thread_sites,
            &entry_locks(program, catalogue, contexts),
            |f| inherits(program, contexts, f),
            |_, _| true,
        );
        let async_sites = site_locks(|c| &c.async_locks, LockKind::Asyncio);
        let tasks: BTreeSet<FuncId> = contexts.task_entries.iter().map(|e| e.target).collect();
        let inherited_async = meet_over_callers(
            program,
            contexts,
            &async_sites,
            &vec![None; count],
            |f| match program.function(f).is_async {
                true => runs_only_when_awaited(program, contexts, &tasks, f),
                false => inherits(program, contexts, f),
            },
            // Calling a coroutine function without awaiting it only builds the
            // coroutine, which runs later, outside the caller's lock.
            |f, call| !program.function(f).is_async || call.awaited,
        );
        Locksets {
            inherited,
            inherited_async,
        }
    }
}

#[derive(Clone, Copy)]
enum LockKind {
    Thread,
    Asyncio,
}

/// Per function: the thread locks a library holds whenever it runs the function as an
/// entry point (`EntryPoint::holds`: a logging handler's `emit` under its `lock`), met
/// over such entries; `None` for a function no such entry runs.
fn entry_locks(
    program: &Program,
    catalogue: &Catalogue,
    contexts: &Contexts,
) -> Vec<Option<BTreeSet<StateKey>>> {
    let mut held: Vec<Option<BTreeSet<StateKey>>> = vec![None; program.functions.len()];
    let holding: BTreeSet<FuncId> = contexts
        .entries
        .iter()
        .filter(|e| e.holds.is_some())
        .map(|e| e.target)
        .collect();
    // Every entry of such a function counts: one that starts it bare (a thread whose
    // target is the handler's `emit`) holds nothing.
    for entry in contexts
        .entries
        .iter()
        .filter(|e| holding.contains(&e.target))
    {
        let locks: BTreeSet<StateKey> = entry
            .holds
            .as_ref()
            .zip(program.class_of_method(entry.target))
            .and_then(|(attribute, class)| {
                let lock = format!("{}.{attribute}", program.class(class).path);
                thread_lock(program, catalogue, program.class_file(class), &lock, 0)
            })
            .into_iter()
            .collect();
        let slot = &mut held[entry.target];
        *slot = Some(match slot.take() {
            None => locks,
            Some(before) => before.intersection(&locks).cloned().collect(),
        });
    }
    held
}

/// The locks held at every call of each function that `inherits` (the others get
/// none), and of each function a library runs holding some (`entry_held`, met with its
/// callers' whatever its name): the greatest fixpoint of the meet, over callers, of the
/// locks held at the call site and those the caller inherits. A call `runs` says
/// whether the callee runs inside the call at all.
fn meet_over_callers(
    program: &Program,
    contexts: &Contexts,
    site_locks: &[Vec<BTreeSet<StateKey>>],
    entry_held: &[Option<BTreeSet<StateKey>>],
    inherits: impl Fn(FuncId) -> bool,
    runs: impl Fn(FuncId, &CallSite) -> bool,
) -> Vec<BTreeSet<StateKey>> {
    let count = program.functions.len();
    // Only what some call made under a lock reaches can inherit one: the rest start,
    // and stay, at none (most functions; locks are rare, and the meet is not cheap).
    let mut under_lock = vec![false; count];
    let mut stack: Vec<FuncId> = (0..count)
        .flat_map(|caller| {
            contexts.callees[caller]
                .iter()
                .filter(move |&&(_, call)| !site_locks[caller][call].is_empty())
                .map(|&(callee, _)| callee)
        })
        .chain((0..count).filter(|&f| entry_held[f].as_ref().is_some_and(|l| !l.is_empty())))
        .collect();
    while let Some(f) = stack.pop() {
        if !std::mem::replace(&mut under_lock[f], true) {
            stack.extend(contexts.callees[f].iter().map(|&(callee, _)| callee));
        }
    }
    let candidate: Vec<bool> = (0..count)
        .map(|f| under_lock[f] && (inherits(f) || entry_held[f].is_some()))
        .collect();
    // `None` is "every lock" (not yet constrained): the greatest fixpoint starts there.
    let mut inherited: Vec<Option<BTreeSet<StateKey>>> = candidate
        .iter()
        .map(|&c| if c { None } else { Some(BTreeSet::new()) })
        .collect();
    loop {
        let mut changed = false;
        for f in (0..count).filter(|&f| candidate[f]) {
            let mut meet: Option<BTreeSet<StateKey>> = entry_held[f].clone();
            for &(caller, call) in &contexts.callers[f] {
                // A constructor's call on its own class's method runs on the
                // object it builds, which no context reaches through that call
                // (`contexts::constructs_self`): it holds nothing back. A test (or
                // example) that no thread or loop runs calls alone: its bare call
                // holds nothing back either.
                if constructs_self(program, caller, &program.function(caller).calls[call], f)
                    || contexts.alone[caller]
                {
                    continue;
                }
                let Some(caller_locks) = &inherited[caller] else {
                    continue;
                };
                let held: BTreeSet<StateKey> = match runs(f, &program.function(caller).calls[call])
                {
                    true => site_locks[caller][call]
                        .union(caller_locks)
                        .cloned()
                        .collect(),
                    false => BTreeSet::new(),
                };
                meet = Some(match meet {
                    None => held,
                    Some(acc) => acc.intersection(&held).cloned().collect(),
                });
            }
            if meet.is_some() && meet != inherited[f] {
                inherited[f] = meet;
                changed = true;
            }
        }
        if !changed {
            return inherited
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect();
        }
    }
}

/// A coroutine that runs only where a caller awaits it: called in the project, never
/// passed as a value or kept in a location (whatever its name: a private coroutine
/// handed to a library runs where the library awaits it), and never launched as a
/// task, handed off, served as a route or decorated.
fn runs_only_when_awaited(
    program: &Program,
    contexts: &Contexts,
    tasks: &BTreeSet<FuncId>,
    function: FuncId,
) -> bool {
    let model = program.function(function);
    contexts.package_passes[function] == 0
        && !model.name.starts_with("__")
        && model.decorators.is_empty()
        && program.files[program.file_of(function)].language == Language::Python
        && !contexts.callers[function].is_empty()
        && !contexts.started_elsewhere[function]
        && !tasks.contains(&function)
}

/// The thread locks among the lock expressions held at some point of `file`.
pub fn held_thread_locks(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    held: &[String],
) -> BTreeSet<StateKey> {
    held.iter()
        .filter_map(|path| thread_lock(program, catalogue, file, path, 0))
        .collect()
}

/// The coroutine locks among expressions held with `async with` in `file`: typed as an
/// asyncio lock, or of a type we cannot name and named like a lock (an `async with`
/// target is never a thread lock, but it may be a session or a transaction).
pub fn held_asyncio_locks(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    held: &[String],
) -> BTreeSet<StateKey> {
    held.iter()
        .filter_map(|path| {
            resolve_state(program, catalogue, file, path).filter(|s| s.residual == 0)
        })
        .filter(|state| match state_type(program, &state.ty) {
            Some(ty) => catalogue.is_asyncio_lock(&ty),
            None => named_like_a_lock(&state.key),
        })
        .map(|state| state.key)
        .collect()
}

/// Private helpers (`_name`, not dunder, or a `def` nested in a function) that are
/// called in the project and are not entry points run under the locks their callers
/// hold. Public functions may be called from anywhere, so they inherit nothing.
fn inherits(program: &Program, contexts: &Contexts, function: usize) -> bool {
    let model = program.function(function);
    let name = &model.name;
    // A Python function nothing calls in a way the call graph does not show (no
    // decorator, never passed as a value, no protocol method) runs only where its
    // calls run, public or not: the contexts it runs in come from those calls too.
    let only_called = program.files[program.file_of(function)].language == Language::Python
        && (model.decorators.is_empty() || model.is_property() || model.is_property_setter())
        && contexts.package_passes[function] == 0;
    (name.starts_with('_') || model.nested || only_called)
        && !name.starts_with("__")
        && !contexts.callers[function].is_empty()
        && !contexts.is_entry[function]
}

/// A lock expression that is a thread lock: typed as one in the catalogue, or of a type
/// we cannot resolve to a class and named like one (`self._lock = make_lock()`).
fn thread_lock(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    path: &str,
    depth: usize,
) -> Option<StateKey> {
    if let Some((helper, first)) = returned_call(path) {
        return returned_lock(program, catalogue, file, helper, first, depth);
    }
    if let Some(local) = path.strip_suffix(LOCAL_LOCK) {
        // One function's own name: no other function holds the same lock by it.
        return Some(StateKey::Global {
            file,
            name: local.to_string(),
        });
    }
    match program.resolve(file, path) {
        // `self.acquire()` … `self.release()` in a class whose own `acquire` takes a
        // lock (logging's `Handler.handle`) holds that lock.
        Resolved {
            target: Target::Class(class),
            residual: 0,
        } => {
            return entered_lock(program, catalogue, class, depth)
                .or_else(|| acquired_lock(program, catalogue, class, depth))
        }
        // `with self.lock:` in a project subclass of a library class that gives its
        // objects a thread lock (`logging.Handler.lock`).
        Resolved {
            target: Target::External(attribute),
            residual: 0,
        } => {
            if let Some(lock) = inherited_lock(program, catalogue, file, path, &attribute) {
                return Some(lock);
            }
        }
        _ => {}
    }
    let state = resolve_state(program, catalogue, file, path).filter(|s| s.residual == 0)?;
    // An object whose `__enter__` (or `acquire`) takes a lock (`with self._guard:`)
    // holds it: one lock for every guard (a module's, a class-level one) is that lock;
    // a lock each guard has of its own is known by the guard's location.
    if let Some(lock) = state_type(program, &state.ty)
        .and_then(|ty| program.class_of_type(file, &ty))
        .and_then(|class| {
            entered_lock(program, catalogue, class, depth)
                .or_else(|| acquired_lock(program, catalogue, class, depth))
        })
    {
        return Some(match is_instance_attribute(program, &lock) {
            true => state.key,
            false => lock,
        });
    }
    let is_lock = match state_type(program, &state.ty) {
        // A factory the catalogue does not list (`self._lock = make_lock()` from a
        // library) makes an object whose class racelint cannot name: trust the name.
        Some(ty) => {
            catalogue.is_thread_lock(&ty) || (is_factory(&ty) && named_like_a_lock(&state.key))
        }
        // Untyped, or built by something we cannot name as a class
        // (`_once_lock = _allocate_lock()` through a module alias): trust the name.
        None => named_like_a_lock(&state.key),
    };
    is_lock.then_some(state.key)
}

/// `pkg.held(pkg._LOCK)` → (`pkg.held`, `pkg._LOCK`); `pkg.Store._lock_for()` →
/// (`pkg.Store._lock_for`, ``): a held call (`model::RETURNED`).
fn returned_call(path: &str) -> Option<(&str, &str)> {
    let inner = path.strip_suffix(')')?;
    let (helper, first) = inner.split_once('(')?;
    Some((helper, first))
}

/// `with self._lock_for(key):` holds the thread lock the helper returns: the one its
/// `return` statements hand back (`return self._lock`), or the container named like
/// locks they take it from (`return self._locks.setdefault(key, Lock())`: one lock per
/// key, which guards what that key guards), or, for an identity helper that returns its
/// first parameter (`def held(lock): return lock`), the lock passed (`first`, written
/// in `file`). Helpers of helpers are not followed.
fn returned_lock(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    helper: &str,
    first: &str,
    depth: usize,
) -> Option<StateKey> {
    let function = match program.resolve(file, helper).target {
        Target::Function(function) => function,
        // `with Guard():` holds what the class's `__enter__` takes, when that is one
        // lock for every guard: a guard built right there with a lock of its own (or
        // one passed in) excludes nobody else.
        Target::Class(class) => {
            return entered_lock(program, catalogue, class, depth)
                .filter(|lock| !is_instance_attribute(program, lock))
        }
        _ => return None,
    };
    let home = program.file_of(function);
    // A `@contextmanager` that yields with a lock held (`with self._lock: yield`).
    if let Some(lock) = left_held(program, catalogue, function, depth) {
        return Some(lock);
    }
    let returns = &program.function(function).returns;
    if !first.is_empty() && returns.iter().any(|r| *r == returned_parameter(0)) {
        return thread_lock(program, catalogue, file, first, depth);
    }
    returns
        .iter()
        .filter(|returned| returned_call(returned).is_none())
        .find_map(|returned| {
            thread_lock(program, catalogue, home, returned, depth).or_else(|| {
                // A container of locks (`self._locks: dict[str, Lock]`): its type is
                // the container's, so trust the name.
                resolve_state(program, catalogue, home, returned)
                    .filter(|s| s.residual == 0 && named_like_a_lock(&s.key))
                    .map(|s| s.key)
            })
        })
}

const MAX_GUARD_DEPTH: usize = 3;

/// The thread lock a function leaves held for the body of the `with` that uses it
/// (`Function::leaves_held`: held at a generator's `yield`, or acquired by an
/// `__enter__`), resolved where the function is written.
fn left_held(
    program: &Program,
    catalogue: &Catalogue,
    function: FuncId,
    depth: usize,
) -> Option<StateKey> {
    // Guards built on guards are followed a few deep (and cycles not at all).
    if depth >= MAX_GUARD_DEPTH {
        return None;
    }
    let home = program.file_of(function);
    program
        .function(function)
        .leaves_held
        .iter()
        .find_map(|held| thread_lock(program, catalogue, home, held, depth + 1))
}

/// The thread lock `with obj:` takes for an object of `class`: what its `__enter__`
/// (its own or inherited) leaves held.
fn entered_lock(
    program: &Program,
    catalogue: &Catalogue,
    class: ClassId,
    depth: usize,
) -> Option<StateKey> {
    left_held(
        program,
        catalogue,
        program.method(class, "__enter__")?,
        depth,
    )
}

/// The key of a thread lock that a library base class gives the objects of a project
/// class (`attribute`, the library's, typed in the catalogue's `[attribute-types]`),
/// written as `path` on `self`: the attribute of the topmost project class that
/// inherits it, so that every subclass's methods name one lock.
fn inherited_lock(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    path: &str,
    attribute: &str,
) -> Option<StateKey> {
    let ty = catalogue.attribute_types.get(attribute)?;
    if !catalogue.is_thread_lock(ty) {
        return None;
    }
    let (owner, name) = path.rsplit_once('.')?;
    // `self.lock`, or the lock of a handler kept in a variable (`SHIPPER.lock`).
    let mut class = receiver_class(program, file, owner)?;
    let inherits_it = |base: ClassId| {
        let from_base = format!("{}.{name}", program.class(base).path);
        matches!(
            program.resolve(program.class_file(base), &from_base).target,
            Target::External(ref a) if a == attribute
        )
    };
    for _ in 0..MAX_BASE_CLIMB {
        match program
            .base_classes(class)
            .into_iter()
            .find(|&b| inherits_it(b))
        {
            Some(base) => class = base,
            None => break,
        }
    }
    Some(StateKey::Attribute {
        class,
        name: name.to_string(),
    })
}

/// How far `inherited_lock` climbs a chain of project bases (a cycle of bad bases ends).
const MAX_BASE_CLIMB: usize = 16;

/// The thread lock an object of `class` takes in its own `acquire()` (its own or
/// inherited), held until its `release()`.
fn acquired_lock(
    program: &Program,
    catalogue: &Catalogue,
    class: ClassId,
    depth: usize,
) -> Option<StateKey> {
    left_held(program, catalogue, program.method(class, "acquire")?, depth)
}

/// Whether `key` is an attribute each instance has its own of (not a class-level one).
fn is_instance_attribute(program: &Program, key: &StateKey) -> bool {
    match key {
        StateKey::Attribute { class, name } => !program
            .class(*class)
            .attributes
            .iter()
            .any(|a| a.name == *name && a.class_level),
        _ => false,
    }
}

/// A type known only as the function that made the object (`mylib.make_lock`): a
/// factory, whose result's class racelint cannot name.
fn is_factory(ty: &str) -> bool {
    ty.rsplit('.')
        .next()
        .and_then(|name| name.trim_start_matches('_').chars().next())
        .is_some_and(char::is_lowercase)
}

fn named_like_a_lock(key: &StateKey) -> bool {
    let name = key.name().to_lowercase();
    name.contains("lock") || name.contains("mutex")
}
