//! Shared-state identity: which model accesses touch which state location, with the
//! thread locks held at each.

use std::collections::{BTreeMap, BTreeSet};

use super::arguments::{self, Effect, Passing};
use super::catalogue::Catalogue;
use super::contexts::{Context, Contexts};
use super::holders::Holders;
use super::identity::{receiver_class, Identity};
use super::locks::{held_asyncio_locks, held_thread_locks, Locksets};
use super::ordering::waits;
use super::ownership::Ownership;
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use super::sharing::Sharing;
use crate::model::{
    item_position, Access, AccessKind, CallSite, Callee, FileId, Invariant, Language, Span,
    SymbolKind, AWAITED, ELEMENT,
};

/// One state location: a module variable, or an attribute of a class (all instances of
/// a class count as one logical instance).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StateKey {
    Global {
        file: FileId,
        name: String,
    },
    Attribute {
        class: ClassId,
        name: String,
    },
    /// An attribute of an application-wide object a framework hands around
    /// (`app.state.cache`), named as the catalogue names it, per package root (one
    /// application each: `Program::root_id`).
    Framework {
        root: FileId,
        name: String,
    },
}

impl StateKey {
    /// The variable or attribute name (`_lock`, `jobs`).
    pub fn name(&self) -> &str {
        match self {
            StateKey::Global { name, .. }
            | StateKey::Attribute { name, .. }
            | StateKey::Framework { name, .. } => name,
        }
    }

    /// `metrics._counters` or `PriceCache._prices`, as users read it.
    pub fn display(&self, program: &Program) -> String {
        match self {
            StateKey::Global { file, name } => {
                let module = &program.files[*file].module;
                let last = module.rsplit('.').next().unwrap_or(module);
                format!("{last}.{name}")
            }
            StateKey::Attribute { class, name } => format!("{}.{name}", program.class(*class).name),
            StateKey::Framework { name, .. } => name.clone(),
        }
    }
}

/// A state location with the type it was constructed with, as resolved.
pub struct ResolvedState {
    pub key: StateKey,
    /// Where the type expression was written, and the expression.
    pub ty: Option<(FileId, String)>,
    /// Path segments past the location (the access reached inside it).
    pub residual: usize,
    /// A closure cell, or a location past one: each run of its function has its own.
    pub cell: bool,
}

pub fn resolve_state(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    path: &str,
) -> Option<ResolvedState> {
    let resolved = program.resolve(file, path);
    if let Some(state) = framework_state(catalogue, path, &resolved) {
        return Some(ResolvedState {
            key: StateKey::Framework {
                root: program.root_id(file),
                name: state.0,
            },
            ty: None,
            residual: state.1,
            cell: false,
        });
    }
    // An element of a container whose elements' type racelint does not know (or an item
    // of a tuple whose items' types it does not), or such an element itself, is no
    // location it can name; nor is what a coroutine gave whose type it does not know.
    let unresolved = path.rsplit('.').take(resolved.residual).any(|segment| {
        segment == ELEMENT || segment == AWAITED || item_position(segment).is_some()
    });
    if unresolved {
        return None;
    }
    let (key, ty, owner) = match resolved.target {
        // A closure cell (`mod.main.results`, `python::lower::names`): a local of the
        // function that the functions nested in it share.
        Target::Function(function) if resolved.residual > 0 => {
            let home = program.file_of(function);
            let local = path.rsplitn(resolved.residual, '.').last().unwrap_or(path);
            let module = &program.files[home].module;
            let name = local
                .strip_prefix(module.as_str())
                .map_or(local, |rest| rest.trim_start_matches('.'));
            let cell = StateKey::Global {
                file: home,
                name: name.to_string(),
            };
            return cell_state(program, cell, path, resolved.residual - 1);
        }
        Target::Global { name, .. } if name == ELEMENT => return None,
        Target::Global { file, name, ty } => {
            (StateKey::Global { file, name }, ty.map(|t| (file, t)), file)
        }
        Target::Attribute { class, name, ty } => {
            let file = program.class_file(class);
            (
                StateKey::Attribute { class, name },
                ty.map(|t| (file, t)),
                file,
            )
        }
        _ => return None,
    };
    if program.files[owner].is_stub {
        // A stub declares what exists elsewhere; it holds no state of its own.
        return None;
    }
    // Attributes past an untyped location are locations of their own: `sys.modules`
    // and `sys.meta_path` are two states, not one `sys`.
    let key = match (
        key,
        path.rsplitn(resolved.residual + 1, '.').collect::<Vec<_>>(),
    ) {
        (key, _) if resolved.residual == 0 => key,
        (StateKey::Global { file, name }, parts) => StateKey::Global {
            file,
            name: attribute_path(&name, &parts),
        },
        (StateKey::Attribute { class, name }, parts) => StateKey::Attribute {
            class,
            name: attribute_path(&name, &parts),
        },
        (key @ StateKey::Framework { .. }, _) => key,
    };
    Some(ResolvedState {
        key,
        ty: if resolved.residual == 0 { ty } else { None },
        residual: resolved.residual,
        cell: false,
    })
}

/// A closure cell's state, or a location past it (`results.items` past the cell
/// `main.results`, `residual` segments on): named as a module variable's would be.
fn cell_state(
    program: &Program,
    cell: StateKey,
    path: &str,
    residual: usize,
) -> Option<ResolvedState> {
    let StateKey::Global { file, name } = &cell else {
        return None;
    };
    if program.files[*file].language != crate::model::Language::Python {
        return None;
    }
    let key = match residual {
        0 => cell,
        _ => StateKey::Global {
            file: *file,
            name: attribute_path(name, &path.rsplitn(residual + 1, '.').collect::<Vec<_>>()),
        },
    };
    Some(ResolvedState {
        key,
        ty: None,
        residual,
        cell: true,
    })
}

/// An application-wide object's attribute (`catalogue::FrameworkState`), reached through
/// an external type (`request.app.state.x` with `request: Request`) or a typed
/// variable or attribute of the project (`app.state.x` with `app = FastAPI()`).
fn framework_state(
    catalogue: &Catalogue,
    path: &str,
    resolved: &Resolved,
) -> Option<(String, usize)> {
    let base = match &resolved.target {
        Target::External(external) => external.as_str(),
        Target::Global { ty: Some(ty), .. } | Target::Attribute { ty: Some(ty), .. }
            if resolved.residual > 0 =>
        {
            ty.as_str()
        }
        _ => return None,
    };
    let tail: Vec<&str> = path.rsplitn(resolved.residual + 1, '.').collect();
    let typed = match resolved.residual {
        0 => base.to_string(),
        _ => format!(
            "{base}.{}",
            tail[..resolved.residual]
                .iter()
                .rev()
                .copied()
                .collect::<Vec<_>>()
                .join(".")
        ),
    };
    catalogue.framework_state(&typed)
}

/// `base.a.b` from `base` and the reversed tail of a split path (`["b", "a", …]`).
fn attribute_path(base: &str, reversed: &[&str]) -> String {
    let residual: Vec<&str> = reversed[..reversed.len().saturating_sub(1)]
        .iter()
        .rev()
        .copied()
        .collect();
    format!("{base}.{}", residual.join("."))
}

/// The name a state is declared under: `sys` for `sys.modules`.
pub fn declared_name(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The invariant declared for a state: on its definition, or class-wide.
pub fn invariant<'m>(program: &Program<'m>, key: &StateKey) -> Option<&'m Invariant> {
    match key {
        StateKey::Global { file, name } => program.files[*file]
            .symbols
            .iter()
            .find(|s| {
                s.name == declared_name(name) && matches!(s.kind, SymbolKind::Variable { .. })
            })
            .and_then(|s| s.invariant.as_ref()),
        StateKey::Attribute { class, name } => {
            let model = program.class(*class);
            model
                .attributes
                .iter()
                .find(|a| a.name == declared_name(name))
                .and_then(|a| a.invariant.as_ref())
                .or(model.invariant.as_ref())
        }
        StateKey::Framework { .. } => None,
    }
}

/// A change in place, through `self`, of an object the class body assigned
/// (`self.registry[key] = self` with `registry = {}` in the class): every instance
/// shares that object, so a constructor changing it is no initialisation of its own
/// object. Assigning `self.x` creates an instance attribute instead, which is, and so
/// is a change of `self.x` in a function that assigns it anywhere (`self.tags = [];
/// self.tags.append(t)`) or in a class whose constructor does (every object built has
/// its own by then). A class-body value that cannot be changed in place (`None`, a
/// number: `Attribute::immutable_default`) is no object to change.
fn mutates_class_object(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    constructor: &crate::model::Function,
    access: &Access,
) -> bool {
    access.kind == AccessKind::Mutation
        && !constructor
            .accesses
            .iter()
            .any(|a| a.kind == AccessKind::Rebind && a.path == access.path)
        && resolve_state(program, catalogue, file, &access.path).is_some_and(|state| {
            matches!(&state.key, StateKey::Attribute { class, name }
                if is_class_level(program, *class, name)
                    && !immutable_default(program, *class, name)
                    && !constructor_assigns(program, *class, name))
        })
}

/// Whether every value the class body gives `name` is immutable (or there is none).
fn immutable_default(program: &Program, class: ClassId, name: &str) -> bool {
    let name = declared_name(name);
    program
        .class(class)
        .attributes
        .iter()
        .filter(|a| a.name == name && a.class_level)
        .all(|a| a.immutable_default)
}

/// Whether the class's constructor (its own or inherited `__init__`) assigns
/// `self.<name>`, giving each object built an attribute of its own.
fn constructor_assigns(program: &Program, class: ClassId, name: &str) -> bool {
    let name = declared_name(name);
    program.method(class, "__init__").is_some_and(|init| {
        program.function(init).accesses.iter().any(|a| {
            matches!(a.kind, AccessKind::Rebind | AccessKind::ReadModifyWrite)
                && a.root == Some(0)
                && a.path.rsplit('.').next() == Some(name)
        })
    })
}

/// An attribute assigned in the class body: one object for every instance. A declared
/// field of a dataclass-like class (`Attribute::instance_field`) gives it none: each
/// instance sets its own.
fn is_class_level(program: &Program, class: ClassId, name: &str) -> bool {
    program
        .class(class)
        .attributes
        .iter()
        .any(|a| a.name == declared_name(name) && a.class_level && !a.instance_field)
}

/// The canonical type path of a state (`queue.Queue`, `shop.pricing.PriceCache`).
pub fn state_type(program: &Program, ty: &Option<(FileId, String)>) -> Option<String> {
    let (file, ty) = ty.as_ref()?;
    program.type_path(*file, ty)
}

#[derive(Debug, Clone)]
pub struct StateAccess<'m> {
    pub function: FuncId,
    pub file: FileId,
    pub access: &'m Access,
    /// The access kind once resolution is known (a store that reached inside the
    /// location is a mutation, not a rebinding).
    pub kind: AccessKind,
    /// Thread locks held: at the access, plus those every caller holds.
    pub locks: BTreeSet<StateKey>,
    /// `asyncio` locks held at the access (they exclude coroutines, not threads).
    pub asyncio_locks: BTreeSet<StateKey>,
    /// For an instance attribute: the static class of the receiver it is reached
    /// through (see `identity`); accesses through unrelated classes touch different
    /// objects.
    pub receiver: Option<ClassId>,
    /// For an attribute of an object reached through a field that is the only way to
    /// its objects (`self.info.name`, `analysis::holders`): that field, and the static
    /// class of the object holding it. Accesses through different such fields, or
    /// through one field of holders that cannot be one object, touch different objects.
    pub holder: Option<(String, ClassId)>,
    /// For a class attribute reached as `self.x` in an instance method: the method's
    /// class, and whether the access gives the instance an attribute of its own
    /// (`self.x = v` or `self.x |= v` over an immutable literal default), which shadows the
    /// class's for that object alone. Such a write and an access made through another
    /// object touch different attributes.
    pub own_attribute: Option<(ClassId, bool)>,
    /// The lines of the check this write acts on: its own enclosing `if`/`while`, or a
    /// caller's in the same file whose test read the same location and which calls
    /// here without a thread lock (`if self._loop is None: self._start()`, where
    /// `_start` assigns `self._loop`).
    pub checked_by: Option<(u32, u32)>,
    /// When the write runs on a thread that a check in another function leads to
    /// (`checked_by`): that function, which holds no thread lock to check and whose
    /// start of the thread no locked check of its own guards, with its call under the
    /// check. Two runs of it at once start two creating threads.
    pub start_checked_in: Option<CheckedStart>,
    /// Per context (`Context::index`): whether every run of the function there reaches
    /// the accessed object through one it owns (`analysis::ownership`), so that the
    /// access touches no shared state in that context.
    pub owned_in: [bool; 3],
    /// Through `self` to the object itself, not to an object its class body made
    /// (`mutates_class_object`), in a function that some context reaches only on an
    /// object under construction (`Reach::constructing`): there, that object is the
    /// run's own.
    pub on_own_object: bool,
    /// A write that runs only while the location is unset, of a location every
    /// rebinding of which is such a write: it happens once, before anything can use
    /// the value (`analysis::ordering::initialised_before`).
    pub initialises_once: bool,
    /// One atomic operation of a container that synchronises it (`deque.append`,
    /// `[[atomic-methods]]` in the catalogue): two such never interleave.
    pub atomic: bool,
    /// Through a closure cell, in code of its function's own run: the function's body,
    /// or a nested function it calls, not one it hands to a thread or a task
    /// (`Contexts::started_elsewhere`). Each run has its own cell, so two such accesses
    /// are one run's (one thread's) or two runs' with cells of their own: they never
    /// race.
    pub cell_local: bool,
    /// Through the object a handoff passed the worker (`Thread(target=f,
    /// args=(self.items,))`, then `items.append(x)` in `f`), not through the location:
    /// a rebinding of the location leaves the worker's object as it was.
    pub passed_object: bool,
    /// Reads the reference alone, not the object's contents: a test by identity (`x is
    /// None`, `Access::reference_only`), or a location read to be passed to a call
    /// (`arguments::Passing::Reference`). A change in place leaves it alone.
    pub reference_only: bool,
    /// For an access through what a handoff passed its worker (`arguments::HandedAccess`):
    /// that handoff (index into `Contexts::entries`), whose runs alone make it.
    pub handoff: Option<usize>,
    /// With `handoff`: the calls from the handoff's target to `function`.
    pub handoff_chain: Vec<FuncId>,
}

/// A function that checks, then starts a thread: it and its call under the check.
type CheckedStart = (FuncId, Span);

/// For a creating write with no check of its own: the check of a caller in the same
/// file that tested the same location and called here with no thread lock held (one
/// call level: a helper's helper is not followed), with, when the write runs on a
/// thread that check leads to (`if self._loop is None: self._start()`, where `_start`
/// starts the thread that makes the loop), the function that checks and its call under
/// the check.
fn checked_in_caller(
    program: &Program,
    catalogue: &Catalogue,
    contexts: &Contexts,
    locksets: &Locksets,
    function: FuncId,
    access: &Access,
) -> Option<((u32, u32), Option<CheckedStart>)> {
    if !access.kind.is_write() || !access.writes_new {
        return None;
    }
    let file = program.file_of(function);
    let checked = |site: &CallSite| {
        site.checked
            .iter()
            .find(|(path, _)| *path == access.path)
            .filter(|_| held_thread_locks(program, catalogue, file, &site.locks).is_empty())
            .map(|(_, lines)| *lines)
    };
    let in_callers = |callee: FuncId| {
        contexts.callers[callee]
            .iter()
            .filter(|(caller, _)| program.file_of(*caller) == file)
            .find_map(|&(caller, call)| {
                let site = &program.function(caller).calls[call];
                checked(site).map(|lines| (lines, (caller, site.span)))
            })
    };
    if let Some((lines, _)) = in_callers(function) {
        return Some((lines, None));
    }
    // A thread that writes (its target, or a function the thread's first path here
    // runs), started under the check or by a function that a checked call runs: at its
    // handoff, or where the location the handoff kept it in is started
    // (`EntryPoint::started_at`). A start that a check of its own made holding a
    // thread lock makes happen once (`start_guarded`) is no race, and a checker whose
    // every caller holds a thread lock runs once at a time. A function no worker
    // thread reaches is on no started thread's way.
    let reached_from = contexts.reach[function][Context::WorkerThread.index()]?.entry;
    let on_the_way = worker_callers_in_file(program, contexts, function);
    contexts
        .entries
        .iter()
        .enumerate()
        .filter(|&(index, e)| {
            e.context == Context::WorkerThread
                && (on_the_way.contains(&e.target) || reached_from == index)
        })
        .flat_map(|(_, e)| {
            let handoff = e.site.as_ref().and_then(|s| s.call(program));
            let kept = handoff.and_then(|(_, call)| call.kept_in.as_deref());
            let starts: Vec<_> = match e.started_at.is_empty() {
                true => handoff.into_iter().collect(),
                false => e
                    .started_at
                    .iter()
                    .map(|&(starter, call)| (starter, &program.function(starter).calls[call]))
                    .collect(),
            };
            starts
                .into_iter()
                .map(move |(starter, site)| (starter, site, kept))
        })
        .filter(|&(starter, site, kept)| {
            program.file_of(starter) == file
                && !start_guarded(program, catalogue, starter, site, kept, &access.path)
        })
        .map(|(starter, site, _)| (starter, site))
        .find_map(|(starter, site)| match checked(site) {
            Some(lines) => Some((lines, (starter, site.span))),
            None => in_callers(starter),
        })
        .filter(|(_, (checker, _))| locksets.inherited[*checker].is_empty())
        .map(|(lines, checker)| (lines, Some(checker)))
}

/// Whether a thread's start (`site`, in `starter`) happens once however many callers
/// reach it: a test made holding a thread lock reads a location the starter writes
/// holding that lock (`with self._lock: if self._started: return; self._started =
/// True`), which records the start for the next caller, or, with the lock still held
/// at the start, the kept thread's own location (`if not self._thread.is_alive():
/// self._thread.start()`). A test of anything else (`if self._closed: return`), or one
/// made before the lock was taken, lets a second caller start again. So does a test
/// of the value the thread creates, or of what the starter then waits on, unless it
/// waits before releasing the lock (`with self._lock: if self._loop is None:
/// self._thread.start(); self._ready.wait()`, or `if self._ready.is_set(): return`
/// before it); a `Condition`'s own `wait()` releases the lock meanwhile.
fn start_guarded(
    program: &Program,
    catalogue: &Catalogue,
    starter: FuncId,
    site: &CallSite,
    kept: Option<&str>,
    created: &str,
) -> bool {
    let file = program.file_of(starter);
    let model = program.function(starter);
    // What the starter waits for after the start, still holding `lock`: a `wait()` on
    // the lock itself (a `Condition`) releases it meanwhile.
    let waited_holding = |lock: &String| -> Vec<&str> {
        model
            .calls
            .iter()
            .filter(|c| {
                c.span.offset > site.span.offset && c.locks.contains(lock) && waits(&c.callee)
            })
            .filter_map(|c| match &c.callee {
                Callee::Path(path) => path.rsplit_once('.').map(|(receiver, _)| receiver),
                Callee::Method(_) => Some(""),
            })
            .filter(|receiver| receiver != lock)
            .collect()
    };
    site.checked_holding.iter().any(|(tested, lock)| {
        let still_held = site.locks.contains(lock);
        let waited = waited_holding(lock);
        !held_thread_locks(program, catalogue, file, std::slice::from_ref(lock)).is_empty()
            && ((kept == Some(tested.as_str()) && still_held)
                || (still_held
                    && !waited.is_empty()
                    && (tested == created || waited.contains(&tested.as_str())))
                || model
                    .accesses
                    .iter()
                    .any(|a| a.kind.is_write() && a.path == *tested && a.locks.contains(lock)))
    })
}

/// `function` and the functions of its file that call it on a worker thread, up to
/// four calls up: where a thread that reaches the write may have been started from
/// (its target), whichever path context propagation happened to record first.
fn worker_callers_in_file(program: &Program, contexts: &Contexts, function: FuncId) -> Vec<FuncId> {
    let file = program.file_of(function);
    let mut found = vec![function];
    let mut frontier = vec![function];
    for _ in 0..4 {
        let mut next = Vec::new();
        for &callee in &frontier {
            for &(caller, _) in &contexts.callers[callee] {
                if program.file_of(caller) == file
                    && contexts.reach[caller][Context::WorkerThread.index()].is_some()
                    && !found.contains(&caller)
                {
                    found.push(caller);
                    next.push(caller);
                }
            }
        }
        frontier = next;
    }
    found
}

/// `own_attribute` for an access of the class attribute `class.name`: through `self`
/// in an instance method, directly (`self.x`, not `self.x.y`).
fn own_attribute(
    program: &Program,
    function: FuncId,
    access: &Access,
    class: ClassId,
    name: &str,
    kind: AccessKind,
    holders: &Holders,
) -> Option<(ClassId, bool)> {
    let model = program.function(function);
    let method_class = program.class_of_method(function)?;
    // A class that takes over attribute stores (`__setattr__`) may keep them anywhere.
    if access.root != Some(0)
        || model.is_class_or_static_method()
        || !access.path.ends_with(&format!(".{name}"))
        || program.method(method_class, "__setattr__").is_some()
    {
        return None;
    }
    let receiver = &access.path[..access.path.len() - name.len() - 1];
    let resolved = program.resolve(program.file_of(function), receiver);
    if !matches!((resolved.target, resolved.residual), (Target::Class(_), 0)) {
        return None;
    }
    // Over an immutable default, a store through the instance is the instance's own;
    // an augmented one only while nothing but instances' own methods stores the
    // attribute (`Entity.seen = []` elsewhere makes `self.seen += [x]` grow that list).
    let immutable = program
        .class(class)
        .attributes
        .iter()
        .any(|a| a.name == declared_name(name) && a.immutable_default);
    let own = immutable
        && (kind == AccessKind::Rebind
            || (kind == AccessKind::ReadModifyWrite
                && holders.stored_only_through_instances(declared_name(name))));
    Some((method_class, own))
}

/// What the analyses tell of objects: which a function owns, which classes can be one
/// object, and which fields are the only way to theirs.
pub struct Objects<'a> {
    pub ownership: &'a Ownership,
    pub identity: &'a Identity,
    pub holders: &'a Holders,
}

/// The holder field an object is reached through (`receiver` is `mod.Light.info`, a
/// field of a `Light` that only holds what is built into it), with the holder's class.
fn holder_of(
    program: &Program,
    catalogue: &Catalogue,
    objects: &Objects,
    file: FileId,
    receiver: &str,
) -> Option<(String, ClassId)> {
    let (holder, _) = receiver.rsplit_once('.')?;
    let resolved = program.resolve(file, holder);
    let (Target::Class(class), 0) = (resolved.target, resolved.residual) else {
        return None;
    };
    let field = resolve_state(program, catalogue, file, receiver)?;
    let StateKey::Attribute { name, .. } = field.key else {
        return None;
    };
    (field.residual == 0 && objects.holders.holds_alone(objects.identity, &name, class))
        .then_some((name, class))
}

/// Whether the function initialises the object it receives (`__init__`,
/// `__post_init__`): accesses through that receiver are initialisation. `__new__` and
/// `__init_subclass__` receive a class, whose attributes every instance shares, and
/// anything a constructor reaches besides its own object (a module registry, a class
/// counter, `type(self).x`, another parameter) is shared state as anywhere else.
fn constructs_receiver(model: &crate::model::Function) -> bool {
    model.is_initializer
        && model.class.is_some()
        && matches!(
            model.path.rsplit('.').next(),
            Some("__init__" | "__post_init__")
        )
}

/// Whether the call of `function` at byte `offset` starts another thread or a task
/// (an entry point's site): an object handed to it is shared from there on.
pub fn hands_off_at(contexts: &Contexts, function: FuncId, offset: u32) -> bool {
    contexts.entries.iter().any(|entry| {
        entry.site.as_ref().is_some_and(|site| {
            site.caller == Some(function) && site.span.offset == offset as usize
        })
    })
}

/// Where an access's location is named: its own path in the function's file, or, for
/// an access through a parameter a handoff bound (`analysis::arguments`), the caller's
/// location in the caller's file, with the caller's locks the body holds through
/// parameters.
struct Located<'p> {
    path: &'p str,
    file: FileId,
    /// Thread locks held besides the access's own: a lock a handoff passed along.
    passed_locks: Option<&'p BTreeSet<StateKey>>,
    /// For a location passed to a plain call: what the callee does with it, which is
    /// what the access does.
    effect: Option<&'p Effect>,
    /// Through what a handoff passed (`HandedAccess`): no check in a caller of the
    /// body acts on the location.
    handed: bool,
    /// Through the object a handoff passed itself (`HandedAccess::passed_object`).
    passed_object: bool,
    /// Read to be passed to a call, which does nothing else with it here.
    reference: bool,
    /// The handoff that passed what the access goes through, and the calls from its
    /// target (`StateAccess::handoff`).
    handoff: Option<(usize, &'p [FuncId])>,
}

/// What `collect` consults to turn one access into an access of shared state.
struct Collector<'a, 'm> {
    program: &'a Program<'m>,
    catalogue: &'a Catalogue,
    contexts: &'a Contexts,
    locksets: &'a Locksets,
    sharing: &'a Sharing,
    objects: &'a Objects<'a>,
}

impl<'m> Collector<'_, 'm> {
    /// Whether `access` in `function` touches an object the run owns: `None` when it
    /// does in every context the function runs in (the object under construction in
    /// a constructor, one handed to a call that keeps it on this thread, one only this
    /// run can reach); otherwise, per context, whether it does there, and whether it
    /// goes through an object under construction (`StateAccess::on_own_object`).
    fn private_in(
        &self,
        function: FuncId,
        access: &Access,
        constructing: bool,
    ) -> Option<([bool; 3], bool)> {
        let Collector {
            program,
            catalogue,
            contexts,
            objects,
            ..
        } = *self;
        let model = program.function(function);
        let file = program.file_of(function);
        if constructing
            && access.root == Some(0)
            && !mutates_class_object(program, catalogue, file, model, access)
        {
            // The object under construction: nobody else holds it yet.
            return None;
        }
        // Through a local bound to a call: the function's own object only if the call
        // builds it; a factory's shared object (`rec = get_recorder()`) is anyone's.
        let foreign = access
            .built_at
            .is_some_and(|at| !Ownership::builds_fresh(program, function, at));
        if !foreign && access.built_at.is_some() && access.handed_at.is_none() {
            // Built here and kept to itself.
            return None;
        }
        if !foreign
            && access
                .handed_at
                .is_some_and(|offset| !hands_off_at(contexts, function, offset))
        {
            // Handed to a call that keeps it in this thread: still the function's own.
            return None;
        }
        // A change in place, through `self`, of an object the class body made
        // (`seen = {}` on the class) changes what every instance shares, however
        // private the instance is.
        let class_object = std::cell::OnceCell::new();
        let class_object = || {
            *class_object.get_or_init(|| {
                access.root == Some(0)
                    && mutates_class_object(program, catalogue, file, model, access)
            })
        };
        if objects.ownership.owns(function, access) && !class_object() {
            // An object only this run of the function can reach.
            return None;
        }
        // Where every run of the function works on an object under construction
        // (`Reach::constructing`), that object is the run's own.
        let constructing = contexts.reach[function]
            .iter()
            .chain([&contexts.task_reach[function]])
            .any(|r| r.is_some_and(|r| r.constructing));
        let on_own_object = constructing && access.root == Some(0) && !class_object();
        let owned_in = Context::ALL.map(|c| {
            objects.ownership.owns_in(c, function, access) && !class_object()
                || on_own_object
                    && contexts.reach[function][c.index()].is_some_and(|r| r.constructing)
        });
        if Context::ALL
            .into_iter()
            .all(|c| owned_in[c.index()] || contexts.reach[function][c.index()].is_none())
            && contexts.contexts_of(function).next().is_some()
        {
            // Private to each run in every context the function runs in.
            return None;
        }
        Some((owned_in, on_own_object))
    }

    /// The access of shared state that `access` in `function` is, where `located`
    /// says, with `owned_in` and `on_own_object` as the caller judged them; `None` when
    /// it touches no shared state there (a location racelint cannot name, a typed
    /// object whose own methods speak, a thread-safe type, an unshared attribute).
    fn shared(
        &self,
        function: FuncId,
        access: &'m Access,
        located: Located,
        owned_in: [bool; 3],
        on_own_object: bool,
    ) -> Option<(StateKey, StateAccess<'m>)> {
        let Collector {
            program,
            catalogue,
            contexts,
            locksets,
            sharing,
            objects,
        } = *self;
        let file = program.file_of(function);
        let state = resolve_state(program, catalogue, located.file, located.path)?;
        let (kind, method) = match located.effect {
            Some(effect) => (effect.kind, effect.method.as_deref()),
            None => (access.kind, access.method.as_deref()),
        };
        if state.residual == 0 {
            let class = state
                .ty
                .as_ref()
                .and_then(|(f, ty)| program.class_of_value(*f, ty));
            if let Some(class) = class {
                // `store.put(x)`: the method's own accesses are what count. So it
                // is with the protocol methods the class defines: `store[k] = v`
                // and `del store[k]` call its `__setitem__`/`__delitem__`, `for x
                // in store` its `__iter__`.
                let protocol: &[&str] = match kind {
                    AccessKind::Mutation => &["__setitem__", "__delitem__"],
                    AccessKind::Iterate => &["__iter__"],
                    _ => &[],
                };
                if method.is_some() || protocol.iter().any(|m| program.method(class, m).is_some()) {
                    return None;
                }
            }
        }
        // `self.sink.add(x)` on a location that keeps project objects whose class
        // defines `add`: the method's own accesses count here too.
        if let Some(method) = method.filter(|_| state.residual == 0) {
            if !contexts
                .stored
                .held_methods(program, located.file, located.path, method)
                .is_empty()
            {
                return None;
            }
        }
        let ty = state_type(program, &state.ty);
        if ty.as_deref().is_some_and(|t| catalogue.is_thread_safe(t)) {
            return None;
        }
        // On a container that synchronises some operations, those are atomic, and
        // so is a plain read (its truth value, its length, one item).
        let atomic = state.residual == 0
            && ty.as_deref().is_some_and(|ty| match method {
                Some(method) => catalogue.is_atomic(ty, method),
                None => kind == AccessKind::Read && catalogue.has_atomic(ty),
            });
        if let StateKey::Attribute { class, name } = &state.key {
            if !sharing.is_shared(program, *class, name) {
                return None;
            }
        }
        if invariant(program, &state.key) == Some(&Invariant::ThreadSafe) {
            // The author vouches for it: no rule reports this state.
            return None;
        }
        let mut locks = held_thread_locks(program, catalogue, file, &access.locks);
        locks.extend(located.passed_locks.into_iter().flatten().cloned());
        locks.extend(
            located
                .effect
                .into_iter()
                .flat_map(|e| e.locks.iter().cloned()),
        );
        locks.extend(locksets.inherited[function].iter().cloned());
        let mut asyncio_locks = held_asyncio_locks(program, catalogue, file, &access.async_locks);
        asyncio_locks.extend(locksets.inherited_async[function].iter().cloned());
        let (receiver, holder) = match &state.key {
            StateKey::Attribute { class, name } if !is_class_level(program, *class, name) => {
                let receiver = located
                    .path
                    .rsplitn(state.residual + 2, '.')
                    .last()
                    .unwrap_or_default();
                (
                    receiver_class(program, located.file, receiver),
                    holder_of(program, catalogue, objects, located.file, receiver),
                )
            }
            _ => (None, None),
        };
        let own_attribute = match &state.key {
            StateKey::Attribute { class, name } if is_class_level(program, *class, name) => {
                own_attribute(
                    program,
                    function,
                    access,
                    *class,
                    name,
                    kind,
                    objects.holders,
                )
            }
            _ => None,
        };
        let (checked_by, start_checked_in) = match access.checked_by {
            Some(lines) => (Some(lines), None),
            None if located.handed => (None, None),
            None => checked_in_caller(program, catalogue, contexts, locksets, function, access)
                .map_or((None, None), |(lines, checker)| (Some(lines), checker)),
        };
        Some((
            state.key,
            StateAccess {
                function,
                file,
                access,
                kind,
                locks,
                asyncio_locks,
                receiver,
                holder,
                own_attribute,
                checked_by,
                start_checked_in,
                owned_in,
                on_own_object,
                initialises_once: false,
                atomic,
                cell_local: state.cell && !contexts.started_elsewhere[function],
                passed_object: located.passed_object,
                reference_only: access.reference_only || located.reference,
                handoff: located.handoff.map(|(entry, _)| entry),
                handoff_chain: located
                    .handoff
                    .map_or_else(Vec::new, |(_, chain)| chain.to_vec()),
            },
        ))
    }
}

/// Every access to shared mutable state, grouped by location; a constructor's accesses
/// to its own object are initialisation, not shared.
pub fn collect<'m>(
    program: &Program<'m>,
    catalogue: &Catalogue,
    contexts: &Contexts,
    locksets: &Locksets,
    sharing: &Sharing,
    objects: &Objects,
) -> BTreeMap<StateKey, Vec<StateAccess<'m>>> {
    let mut by_state: BTreeMap<StateKey, Vec<StateAccess<'m>>> = BTreeMap::new();
    let handed = arguments::handed(program, catalogue, contexts);
    let collector = Collector {
        program,
        catalogue,
        contexts,
        locksets,
        sharing,
        objects,
    };
    for function in 0..program.functions.len() {
        let model = program.function(function);
        let file = program.file_of(function);
        // Rust state has rules of its own (`rules/rust_facts.rs`): statics, guards.
        // Module code runs at import, and start-up hooks and what they call before
        // anything is served (`Contexts::init_only`).
        if program.files[file].language == Language::Rust
            || (model.is_initializer
                && model.class.is_none()
                && contexts.script_from[function].is_none())
            || contexts.init_only[function]
        {
            continue;
        }
        // A script's module code: what it does before starting its first worker is
        // initialisation.
        let script_from = contexts.script_from[function];
        let constructing = constructs_receiver(model);
        for access in &model.accesses {
            if script_from.is_some_and(|at| access.span.offset <= at) {
                continue;
            }
            // Passing a location to a handoff reads only the reference; passing it to
            // a plain call also does what the callee does with it (`arguments`).
            let (called, reference) = match handed.passing(function, access) {
                Passing::No => (None, false),
                Passing::Reference => (None, true),
                Passing::Call(called) => (Some(called), false),
            };
            let effects: &[Effect] = called.map_or(&[], |c| &c.effects);
            let Some((owned_in, on_own_object)) =
                collector.private_in(function, access, constructing)
            else {
                continue;
            };
            let mut passed_locks = handed.passed_locks(function, &access.locks);
            let parameter_locks = passed_locks.clone();
            passed_locks.extend(
                called
                    .into_iter()
                    .flat_map(|c| c.read_locks.iter().cloned()),
            );
            for effect in std::iter::once(None).chain(effects.iter().map(Some)) {
                let located = Located {
                    path: &access.path,
                    file,
                    // An effect carries the callee's locks of its own.
                    passed_locks: Some(match effect {
                        None => &passed_locks,
                        Some(_) => &parameter_locks,
                    }),
                    effect,
                    handed: false,
                    passed_object: false,
                    reference,
                    handoff: None,
                };
                if let Some((key, shared)) =
                    collector.shared(function, access, located, owned_in, on_own_object)
                {
                    by_state.entry(key).or_default().push(shared);
                }
            }
        }
    }
    // What handoffs' arguments make of accesses through parameters: the caller's
    // location, in the handoff's context alone.
    for handed in &handed.accesses {
        let function = handed.function;
        if contexts.init_only[function] {
            continue;
        }
        let owned_in = Context::ALL.map(|c| c != handed.context);
        let located = Located {
            path: &handed.path,
            file: handed.file,
            passed_locks: Some(&handed.passed_locks),
            effect: None,
            handed: true,
            passed_object: handed.passed_object,
            reference: false,
            handoff: Some((handed.entry, &handed.chain)),
        };
        if let Some((key, shared)) =
            collector.shared(function, handed.access, located, owned_in, false)
        {
            by_state.entry(key).or_default().push(shared);
        }
    }
    for accesses in by_state.values_mut() {
        let once = accesses
            .iter()
            .filter(|a| a.kind == AccessKind::Rebind)
            .all(|a| a.access.initialises);
        for access in accesses.iter_mut() {
            access.initialises_once = once && access.access.initialises;
        }
    }
    by_state
}
