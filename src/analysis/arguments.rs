//! What calls do with the locations they are passed.
//!
//! The front-end records accesses through parameters by slot
//! (`Function::param_accesses`: `jobs[key] = job` in `def work(jobs, key)`), since only
//! a caller can name what they touch. Here each call that passes a location (`self.jobs`,
//! a module variable) binds the slot to it:
//!
//! - A handoff (`Thread(target=work, args=(self.jobs,))`, `pool.submit(work,
//!   self.jobs)`, the `args=` tuple a wrapper spreads into `submit(fn, *args)`) makes
//!   what the worker does through the parameter an access of the location, on the
//!   thread the handoff starts and there alone: the same function called elsewhere with
//!   other objects touches those (`HandedAccess`).
//! - A plain call of a project function (`save_json(path, self.items)`) reads the
//!   location where it is made, and also does there what the callee does with the
//!   object (`Effect`): iterate it, change it in place, under the locks the callee holds
//!   around that. The call runs on the caller's thread, so the caller's contexts, locks
//!   and ownership are the access's.
//!
//! Reading a location to pass it to a handoff only passes the reference on. A lock
//! passed as an argument (`with lock:` on a parameter) is the caller's lock. Parameters are
//! followed into callees through the calls that pass them on whole (`OwnedArg` with a
//! parameter owner), a few calls deep; a parameter rebound, or stored somewhere and used
//! from there, is not followed.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::catalogue::Catalogue;
use super::contexts::{Context, Contexts, EntryPoint};
use super::locks::held_thread_locks;
use super::resolve::{FuncId, Program};
use super::state::{resolve_state, StateKey};
use crate::model::{
    parameter_of, Access, AccessKind, Arg, ArgSlot, CallSite, Callee, FileId, Owner, LOCAL_LOCK,
};

/// How many calls deep a passed location is followed from the callee.
const DEPTH: usize = 4;

/// An access through a parameter that a handoff bound to a location.
pub struct HandedAccess<'m> {
    /// The function whose body makes the access.
    pub function: FuncId,
    pub access: &'m Access,
    /// The location touched, by canonical path, as written in `file` (the caller's).
    pub path: String,
    pub file: FileId,
    /// The thread locks held there that name the caller's locations (a lock passed as
    /// an argument). The body's own locks are the access's.
    pub passed_locks: BTreeSet<StateKey>,
    /// The context the handoff starts: the only one where this touches the location.
    pub context: Context,
    /// The handoff (index into `Contexts::entries`), and the calls from its target to
    /// `function`: how the access is reached.
    pub entry: usize,
    pub chain: Vec<FuncId>,
    /// The access touches the passed object itself (`items.append(x)`), not something
    /// reached through it: a later rebinding of the location leaves it as it was.
    pub passed_object: bool,
}

/// One way a plain call changes or iterates a location it is passed, through the
/// callee and the helpers it passes it to: their accesses of one kind, calling one
/// method (or none), on the object itself.
pub struct Effect {
    pub kind: AccessKind,
    /// The method called (`q.append(x)`): a container may make it atomic.
    pub method: Option<Box<str>>,
    /// The thread locks the callee holds around every such access.
    pub locks: BTreeSet<StateKey>,
}

/// What a plain call's callee does with a location it is passed.
#[derive(Default)]
pub struct Called {
    /// How it changes or iterates the object.
    pub effects: Vec<Effect>,
    /// The thread locks it holds around everything it does with the object. The read
    /// at the call stays a read (`len(d)` or keeping the object are not told apart from
    /// reading it), held under these too.
    pub read_locks: BTreeSet<StateKey>,
}

/// A location passed to a call, read there to be passed.
struct Pass {
    /// The call's byte range.
    start: usize,
    end: usize,
    path: String,
    /// For a plain call, what the callee does with it.
    called: Called,
    /// A handoff: the worker's accesses are `HandedAccess`es.
    handoff: bool,
}

/// What calls pass as arguments, and what is done with it.
pub struct Handed<'m> {
    pub accesses: Vec<HandedAccess<'m>>,
    /// By caller.
    passes: HashMap<FuncId, Vec<Pass>>,
    /// Per function and parameter slot held as a lock (`with lock:`), the thread lock
    /// every call and handoff of the function passes there.
    lock_params: HashMap<(FuncId, usize), StateKey>,
}

/// How `access`, in `function`, takes part in passing a location on.
pub enum Passing<'a> {
    /// It does not: an access as any other.
    No,
    /// It reads the location to pass it to a handoff: the reference alone.
    Reference,
    /// It passes the location to a plain call, which, besides reading it, does this
    /// with the object.
    Call(&'a Called),
}

impl Handed<'_> {
    /// The thread locks among `locks`, held in `function`, that name a parameter every
    /// caller passes the same lock for (`def fill(items, lock): with lock: …`).
    pub fn passed_locks(&self, function: FuncId, locks: &[String]) -> BTreeSet<StateKey> {
        locks
            .iter()
            .filter_map(|lock| match parameter_of(lock)? {
                (slot, "") => self.lock_params.get(&(function, slot)).cloned(),
                _ => None,
            })
            .collect()
    }

    pub fn passing(&self, function: FuncId, access: &Access) -> Passing<'_> {
        if access.kind != AccessKind::Read || access.method.is_some() || access.element {
            return Passing::No;
        }
        let passes = self
            .passes
            .get(&function)
            .into_iter()
            .flatten()
            .filter(|pass| {
                (pass.start..pass.end).contains(&access.span.offset) && pass.path == access.path
            });
        // The innermost call the read is an argument of (`outer(inner(self.x))`).
        match passes.min_by_key(|pass| pass.end - pass.start) {
            None => Passing::No,
            Some(Pass { handoff: true, .. }) => Passing::Reference,
            Some(pass) => Passing::Call(&pass.called),
        }
    }
}

/// A parameter slot bound to a location of the caller's file.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Binding {
    slot: usize,
    path: String,
    /// The slot it was bound at in the call's own callee, as it is passed on.
    origin: usize,
}

/// An access through a bound parameter, found from a call.
struct Reached<'m> {
    function: FuncId,
    access: &'m Access,
    /// The bound location's path, then what the access reaches past it.
    location: String,
    /// The slot, in the called function, of the parameter that was bound (`walk`'s
    /// target): which of the call's arguments it reaches.
    slot: usize,
    rest: &'m str,
    /// Thread locks held by the calls on the way and through bound parameters.
    held: BTreeSet<StateKey>,
    /// The calls from the walk's target to `function` (both included).
    chain: Vec<FuncId>,
}

pub fn handed<'m>(program: &Program<'m>, catalogue: &Catalogue, contexts: &Contexts) -> Handed<'m> {
    let mut handed = Handed {
        accesses: Vec::new(),
        passes: HashMap::new(),
        lock_params: lock_params(program, catalogue, contexts),
    };
    // Argument `index` of a call of `callee` made in `file`, when it is a location and
    // the callee takes it by position.
    let located = |file: FileId, callee: FuncId, index: usize, arg: &Arg| match arg {
        Arg::Callable(Callee::Path(path))
            if index < program.function(callee).positional_params
                && resolve_state(program, catalogue, file, path).is_some() =>
        {
            Some(Binding {
                slot: index + 1,
                path: path.clone(),
                origin: index + 1,
            })
        }
        _ => None,
    };
    // An argument given to `callee`'s parameter `name` by keyword, when it is a location.
    let named = |file: FileId, callee: FuncId, name: &str, arg: &Arg| {
        let index = program
            .function(callee)
            .call_params
            .iter()
            .position(|p| p == name)?;
        match arg {
            Arg::Callable(Callee::Path(path))
                if resolve_state(program, catalogue, file, path).is_some() =>
            {
                Some(Binding {
                    slot: index + 1,
                    path: path.clone(),
                    origin: index + 1,
                })
            }
            _ => None,
        }
    };
    let walker = Walker {
        program,
        catalogue,
        contexts,
    };
    for (entry_index, entry) in contexts.entries.iter().enumerate() {
        let Some((caller, site)) = entry.site.as_ref().and_then(|s| s.call(program)) else {
            continue;
        };
        let file = program.file_of(caller);
        let bindings: Vec<Binding> = positional(&entry.arguments)
            .filter_map(|(index, arg)| located(file, entry.target, index, arg))
            .chain(
                entry
                    .keywords
                    .iter()
                    .filter_map(|(name, arg)| named(file, entry.target, name, arg)),
            )
            .collect();
        for binding in &bindings {
            handed.passes.entry(caller).or_default().push(Pass {
                start: site.span.offset,
                end: site.span.offset + site.span.len,
                path: binding.path.clone(),
                called: Called::default(),
                handoff: true,
            });
        }
        // A new thread holds none of the starter's locks.
        for reached in walker.walk(entry.target, bindings, file, BTreeSet::new()) {
            handed.accesses.push(HandedAccess {
                function: reached.function,
                access: reached.access,
                path: format!("{}{}", reached.location, reached.rest),
                file,
                passed_object: reached.rest.is_empty(),
                passed_locks: reached.held,
                context: entry.context,
                entry: entry_index,
                chain: reached.chain,
            });
        }
    }
    for caller in 0..program.functions.len() {
        if contexts.contexts_of(caller).next().is_none() {
            continue;
        }
        let file = program.file_of(caller);
        let model = program.function(caller);
        for &(callee, index) in &contexts.callees[caller] {
            if contexts.through_location.contains(&(caller, index))
                || contexts.invoked.contains_key(&(caller, index, callee))
            {
                continue;
            }
            let site = &model.calls[index];
            let by_keyword = site
                .keywords
                .iter()
                .filter_map(|(name, arg)| named(file, callee, name, arg));
            let bindings: Vec<Binding> = positional(&site.args)
                .filter_map(|(index, arg)| located(file, callee, index, arg))
                .chain(by_keyword)
                .collect();
            if bindings.is_empty() {
                continue;
            }
            // The caller's own locks at the call are its read's. All the call's
            // bindings at once: a lock passed beside the object is held around it.
            let reached = walker.walk(callee, bindings.clone(), file, BTreeSet::new());
            for binding in bindings {
                let touched: Vec<&Reached> = reached
                    .iter()
                    .filter(|r| r.slot == binding.origin)
                    .collect();
                let Some((first, rest)) = touched.split_first() else {
                    continue;
                };
                let mut read_locks = first.held.clone();
                for r in rest {
                    read_locks.retain(|lock| r.held.contains(lock));
                }
                handed.passes.entry(caller).or_default().push(Pass {
                    start: site.span.offset,
                    end: site.span.offset + site.span.len,
                    called: Called {
                        effects: effects(&touched),
                        read_locks,
                    },
                    path: binding.path,
                    handoff: false,
                });
            }
        }
    }
    handed
}

/// For each function that holds a parameter as a thread lock (`with lock:`,
/// `lock.acquire()`), the lock every call and handoff passes for it, when they all pass
/// one and the same: the function holds that lock.
fn lock_params(
    program: &Program,
    catalogue: &Catalogue,
    contexts: &Contexts,
) -> HashMap<(FuncId, usize), StateKey> {
    let mut entries: HashMap<FuncId, Vec<&EntryPoint>> = HashMap::new();
    for entry in &contexts.entries {
        entries.entry(entry.target).or_default().push(entry);
    }
    let mut out = HashMap::new();
    for function in 0..program.functions.len() {
        // A function also passed around as a value may be called with any lock; one a
        // call runs (`invoked`) gets that call's arguments, not the callee's.
        if contexts.callable_passes[function] > 0
            || contexts.callers[function]
                .iter()
                .any(|&(caller, index)| contexts.invoked.contains_key(&(caller, index, function)))
        {
            continue;
        }
        let model = program.function(function);
        let slots: BTreeSet<usize> = model
            .accesses
            .iter()
            .flat_map(|a| &a.locks)
            .filter_map(|lock| parameter_of(lock).filter(|(_, rest)| rest.is_empty()))
            .map(|(slot, _)| slot)
            .collect();
        for slot in slots {
            let lock_at = |file: FileId, arg: Option<&Arg>| match arg {
                Some(Arg::Callable(Callee::Path(path))) => {
                    thread_lock(program, catalogue, file, path)
                }
                _ => None,
            };
            let by_entries = entries.get(&function).into_iter().flatten().map(|entry| {
                let (caller, _) = entry.site.as_ref()?.call(program)?;
                let name = model.call_params.get(slot - 1)?;
                let arg = passed_for(&entry.keywords, &entry.arguments, name, slot);
                lock_at(program.file_of(caller), arg)
            });
            let by_calls = contexts.callers[function].iter().map(|&(caller, index)| {
                let call = &program.function(caller).calls[index];
                let name = model.call_params.get(slot - 1)?;
                let arg = passed_for(&call.keywords, &call.args, name, slot);
                lock_at(program.file_of(caller), arg)
            });
            let mut locks = by_entries.chain(by_calls);
            let Some(Some(first)) = locks.next() else {
                continue;
            };
            if locks.all(|lock| lock.as_ref() == Some(&first)) {
                out.insert((function, slot), first);
            }
        }
    }
    out
}

/// The thread lock a location passed at `path` (written in `file`) is.
fn thread_lock(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    path: &str,
) -> Option<StateKey> {
    held_thread_locks(program, catalogue, file, &[path.to_string()])
        .into_iter()
        .next()
}

/// Arguments by position, up to the first one spread (`*pending`), past which no
/// position is known.
/// What a call passes for parameter `name` at `slot`: by keyword, or by position.
fn passed_for<'a>(
    keywords: &'a [(String, Arg)],
    args: &'a [Arg],
    name: &str,
    slot: usize,
) -> Option<&'a Arg> {
    keywords
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, a)| a)
        .or_else(|| positional(args).nth(slot - 1).map(|(_, a)| a))
}

fn positional(args: &[Arg]) -> impl Iterator<Item = (usize, &Arg)> {
    args.iter()
        .take_while(|arg| !matches!(arg, Arg::Spread(_)))
        .enumerate()
}

/// How `reached` changes or iterates the passed object itself, by kind and method,
/// each under the locks held around every such access. An access to an element or an
/// attribute of the object is another object's, which the call cannot stand for; a
/// read is the call's own.
fn effects(reached: &[&Reached]) -> Vec<Effect> {
    let mut out: Vec<Effect> = Vec::new();
    for r in reached
        .iter()
        .filter(|r| r.rest.is_empty() && !r.access.element)
    {
        // Through a parameter, a write can only change the object in place
        // (`counts[k] = counts.get(k, 0) + 1` may add a key).
        let kind = match r.access.kind {
            AccessKind::Read => continue,
            AccessKind::Iterate => AccessKind::Iterate,
            _ => AccessKind::Mutation,
        };
        let method = r.access.method.clone();
        match out
            .iter_mut()
            .find(|e| e.kind == kind && e.method == method)
        {
            Some(effect) => effect.locks.retain(|lock| r.held.contains(lock)),
            None => out.push(Effect {
                kind,
                method,
                locks: r.held.clone(),
            }),
        }
    }
    out
}

/// Follows bound parameters into accesses.
struct Walker<'a, 'm> {
    program: &'a Program<'m>,
    catalogue: &'a Catalogue,
    contexts: &'a Contexts,
}

impl<'m> Walker<'_, 'm> {
    /// The accesses through `bindings` (locations of `file`) in `target` and the
    /// callees it passes them on to, with the locks held on the way (`held` at the
    /// start).
    fn walk(
        &self,
        target: FuncId,
        bindings: Vec<Binding>,
        file: FileId,
        held: BTreeSet<StateKey>,
    ) -> Vec<Reached<'m>> {
        let Walker {
            program,
            catalogue,
            contexts,
        } = *self;
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut work = vec![(target, bindings, held, vec![target])];
        while let Some((function, bindings, held, chain)) = work.pop() {
            let depth = chain.len() - 1;
            if !seen.insert((function, bindings.clone(), held.clone())) {
                continue;
            }
            let body_file = program.file_of(function);
            // The thread locks among `locks`: the body's own, and those a parameter
            // names, which are the bound locations' (a lock no binding names is
            // nothing racelint can name).
            let thread_locks = |locks: &[String]| -> BTreeSet<StateKey> {
                let (through, own): (Vec<&String>, Vec<&String>) =
                    locks.iter().partition(|lock| parameter_of(lock).is_some());
                // A lock local to the body (`LOCAL_LOCK`) is nothing the caller holds.
                let own: Vec<String> = own
                    .into_iter()
                    .filter(|lock| !lock.ends_with(LOCAL_LOCK))
                    .cloned()
                    .collect();
                let through: Vec<String> = through
                    .into_iter()
                    .filter_map(|lock| {
                        let (slot, rest) = parameter_of(lock)?;
                        let bound = bindings.iter().find(|b| b.slot == slot)?;
                        Some(format!("{}{rest}", bound.path))
                    })
                    .collect();
                let mut held = held_thread_locks(program, catalogue, body_file, &own);
                held.extend(held_thread_locks(program, catalogue, file, &through));
                held
            };
            let model = program.function(function);
            for access in &model.param_accesses {
                let Some((slot, rest)) = parameter_of(&access.path) else {
                    continue;
                };
                let Some(binding) = bindings.iter().find(|b| b.slot == slot) else {
                    continue;
                };
                if rest.is_empty()
                    && access.kind == AccessKind::Read
                    && access.method.is_none()
                    && !access.element
                {
                    // The parameter itself, read to be kept or passed on: the
                    // reference, not the object.
                    continue;
                }
                let mut locks = held.clone();
                locks.extend(thread_locks(&access.locks));
                out.push(Reached {
                    function,
                    access,
                    location: binding.path.clone(),
                    slot: binding.origin,
                    rest,
                    held: locks,
                    chain: chain.clone(),
                });
            }
            if depth == DEPTH {
                continue;
            }
            for &(callee, index) in &contexts.callees[function] {
                if contexts.through_location.contains(&(function, index))
                    || contexts.invoked.contains_key(&(function, index, callee))
                {
                    continue;
                }
                let call: &CallSite = &model.calls[index];
                let passed = passed_on(program, call, callee, &bindings);
                if !passed.is_empty() {
                    // The callee runs under the locks held at the call.
                    let mut inner = held.clone();
                    inner.extend(thread_locks(&call.locks));
                    let mut chain = chain.clone();
                    chain.push(callee);
                    work.push((callee, passed, inner, chain));
                }
            }
        }
        out
    }
}

/// The bindings a call passes on to `callee`: its arguments that are bound parameters,
/// whole (not a member of one), at the callee's slots.
fn passed_on(
    program: &Program,
    call: &CallSite,
    callee: FuncId,
    bindings: &[Binding],
) -> Vec<Binding> {
    let callee_params = &program.function(callee).call_params;
    call.owned_args
        .iter()
        .filter(|arg| arg.member.is_none())
        .filter_map(|arg| {
            let Owner::Parameter(slot) = arg.owner else {
                return None;
            };
            let bound = bindings.iter().find(|b| b.slot == slot)?;
            let slot = match &arg.slot {
                // The receiver's accesses are its class's attributes.
                ArgSlot::Receiver => return None,
                ArgSlot::Position(i) if *i < program.function(callee).positional_params => i + 1,
                ArgSlot::Position(_) => return None,
                ArgSlot::Keyword(name) => callee_params.iter().position(|p| p == name)? + 1,
            };
            Some(Binding {
                slot,
                path: bound.path.clone(),
                origin: bound.origin,
            })
        })
        .collect()
}
