//! Callables kept in state and called later: a callback stored in an attribute
//! (`self._on_progress = on_progress` … `self._on_progress(i)`), a dispatch table
//! (`HANDLERS = {"reload": reload_config}` … `HANDLERS[name]()`), listeners
//! (`self._listeners.append(cb)` … `for cb in self._listeners: cb(event)`), a work queue
//! (`JOBS.put(make_thumbs)` … `task = JOBS.get(); task()`), and a factory's closure
//! (`Thread(target=make_checker(state))`).
//!
//! The answer is per location, flow-insensitive: a call through a module variable, or
//! through a class's attribute (all instances together, as the location is named), may
//! run every function the program ever stores there. A parameter stored
//! (`self._cb = cb`) stands for what each call of its function passes, followed through
//! wrappers that pass their own parameter on, and through bare decorators
//! (`@bus.subscribe`). Coroutine functions are left out: calling one only builds a
//! coroutine, which runs wherever it is awaited.
//!
//! The same stores say which project classes' objects a location holds
//! (`self.backend = backend`, given a `MemoryBackend()` by `Logger(MemoryBackend())`):
//! a method called through the location (`self.backend.write(line)`) runs that class's
//! method, whatever the annotation names (an abstract base, a `Protocol`), and an
//! object held by a shared one is shared. Only classes the program stores there count,
//! not every subclass of the annotation: dispatch by type flow, not by the hierarchy.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::contexts::{resolve_call, CallTarget};
use super::identity::receiver_class;
use super::programs::is_auxiliary;
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use crate::model::{Arg, ArgSlot, CallSite, Callee, FileId, ELEMENT};

/// A location that can hold callables.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    Global(FileId, String),
    Attribute(ClassId, String),
}

/// Where a store puts a value: in the location itself (`self.backend = b`), or among
/// its elements (`self._listeners.append(cb)`, `HANDLERS[name] = fn`), which a call
/// through an element runs but which do not make the location an object of their class.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Place {
    slot: Slot,
    element: bool,
}

/// A location filled from more places than this is a generic holder (a job wrapper, a
/// debouncer, a subscription table): each instance holds what its own creator passed,
/// so following every call through it to every function would make each function run
/// wherever any of them runs.
const MAX_ORIGINS: usize = 4;

#[derive(Default)]
struct Held {
    functions: Vec<FuncId>,
    /// The project classes of the objects stored there.
    classes: Vec<ClassId>,
    /// The project classes of the objects stored among its elements (`REGISTRY[k] =
    /// Env()`): whoever reaches the location reaches them, but a call through the
    /// location itself does not run their methods.
    element_classes: Vec<ClassId>,
    /// The functions that put them there: the storing body, or for a stored parameter
    /// the caller that passed the value.
    origins: HashSet<FuncId>,
}

#[derive(Default)]
pub struct StoredCallables {
    by_slot: HashMap<Slot, Held>,
    /// The last name of every location that holds something: most calls are of other
    /// names, and are answered without resolving their path.
    names: HashSet<String>,
    /// Every function some location keeps, coroutine functions included: each is
    /// called from wherever the location is, seen or not.
    kept: HashSet<FuncId>,
    /// The functions a store names itself (`self._on_force = self._update`), rather
    /// than a parameter some call fills.
    kept_by_name: HashSet<FuncId>,
    /// Per kept function, the functions whose code put it in a location (the one
    /// passing it to a storing parameter, for a stored parameter).
    kept_by: HashMap<FuncId, Vec<FuncId>>,
    /// The last name of every location that holds a project class's object.
    holder_names: HashSet<String>,
}

impl StoredCallables {
    /// What every location holds, given each function's calls resolved
    /// (`targets[function][call]`), which tell what each call of a function passes for
    /// a parameter it stores.
    pub fn compute(program: &Program, targets: &[Vec<CallTarget>]) -> StoredCallables {
        let mut stored = StoredCallables::default();
        // (function, parameter) → the locations the parameter is stored in.
        let mut parameters: HashMap<(FuncId, String), Vec<Place>> = HashMap::default();
        // Resolving each location is the cost: all cores, then kept in order.
        let stores: Vec<Vec<(Place, &Arg)>> = (0..program.functions.len())
            .into_par_iter()
            .map(|function| {
                let file = program.file_of(function);
                program
                    .function(function)
                    .stored_callables
                    .iter()
                    .filter_map(|(path, value)| {
                        let (location, element) =
                            match path.strip_suffix(ELEMENT).and_then(|p| p.strip_suffix('.')) {
                                Some(container) => (container, true),
                                None => (path.as_str(), false),
                            };
                        let slot = slot_of(program, file, location)?;
                        Some((Place { slot, element }, value))
                    })
                    .collect()
            })
            .collect();
        for (function, stores) in stores.into_iter().enumerate() {
            let file = program.file_of(function);
            for (place, value) in stores {
                match value.passed_parameter() {
                    Some(name) => parameters
                        .entry((function, name.to_string()))
                        .or_default()
                        .push(place),
                    None => {
                        stored.add_value(program, file, &[place], value, function);
                        stored.kept_by_name.extend(denoted(program, file, value));
                    }
                }
            }
        }
        stored.follow_parameters(program, targets, parameters);
        for held in stored.by_slot.values_mut() {
            held.functions.sort_unstable();
            held.functions.dedup();
            held.classes.sort_unstable();
            held.classes.dedup();
            held.element_classes.sort_unstable();
            held.element_classes.dedup();
        }
        stored
    }

    /// Whether some location keeps `function` (`self._on_force = self._update`).
    pub fn keeps(&self, function: FuncId) -> bool {
        self.kept.contains(&function)
    }

    /// The functions whose stores keep `function` in some location.
    pub fn keepers(&self, function: FuncId) -> &[FuncId] {
        self.kept_by.get(&function).map_or(&[], Vec::as_slice)
    }

    /// Whether every location that keeps `function` got it as the value of a
    /// parameter that calls in `origin` filled (`track(hass, self._changed)` storing
    /// its `action`), and no store names it itself.
    pub fn kept_only_through_calls_in(&self, function: FuncId, origin: FuncId) -> bool {
        self.kept.contains(&function)
            && !self.kept_by_name.contains(&function)
            && self
                .kept_by
                .get(&function)
                .is_some_and(|by| by.iter().all(|&f| f == origin))
    }

    /// Keeps `function` in `slot`, put there by `origin`. A coroutine function is only
    /// noted as kept: calling it builds a coroutine, which runs wherever it is awaited.
    fn add(&mut self, program: &Program, slot: Slot, function: FuncId, origin: FuncId) {
        self.kept.insert(function);
        let by = self.kept_by.entry(function).or_default();
        if !by.contains(&origin) {
            by.push(origin);
        }
        if program.function(function).is_async {
            return;
        }
        let name = match &slot {
            Slot::Global(_, name) | Slot::Attribute(_, name) => name.clone(),
        };
        self.names.insert(name);
        let held = self.by_slot.entry(slot).or_default();
        held.functions.push(function);
        held.origins.insert(origin);
    }

    /// Stored parameters stand for what callers pass: a callable, or a parameter of the
    /// caller's own, followed in turn (a worklist, so wrappers of wrappers count).
    fn follow_parameters(
        &mut self,
        program: &Program,
        targets: &[Vec<CallTarget>],
        mut pending: HashMap<(FuncId, String), Vec<Place>>,
    ) {
        let callers = callers_of(program, targets, pending.keys().map(|(f, _)| *f));
        let mut seen: HashSet<(FuncId, String, Place)> = pending
            .iter()
            .flat_map(|((f, p), slots)| slots.iter().map(|s| (*f, p.clone(), s.clone())))
            .collect();
        while !pending.is_empty() {
            let wanted = std::mem::take(&mut pending);
            for ((callee, name), slots) in &wanted {
                let position = program
                    .function(*callee)
                    .call_params
                    .iter()
                    .position(|p| p == name);
                for &(caller, ref passing) in callers.get(callee).into_iter().flatten() {
                    let file = program.file_of(caller);
                    let passed = match passing {
                        Passing::Decorates => {
                            // The decorated function is the only argument, passed by
                            // the module as it runs the definitions: one place for all
                            // the functions a module registers (`@bus.subscribe` on
                            // each).
                            if position == Some(0) {
                                let module = module_code(program, caller).unwrap_or(caller);
                                for place in slots {
                                    self.add(program, place.slot.clone(), caller, module);
                                }
                            }
                            continue;
                        }
                        Passing::Call(call) => {
                            let receiver =
                                usize::from(passes_receiver(program, caller, call, *callee));
                            call.keywords
                                .iter()
                                .find(|(keyword, _)| keyword == name)
                                .map(|(_, arg)| arg)
                                .or_else(|| position.and_then(|i| call.args.get(i + receiver)))
                        }
                    };
                    let Some(passed) = passed else {
                        continue;
                    };
                    match passed.passed_parameter() {
                        Some(outer) => {
                            for slot in slots {
                                let outer = outer.to_string();
                                if seen.insert((caller, outer.clone(), slot.clone())) {
                                    pending
                                        .entry((caller, outer))
                                        .or_default()
                                        .push(slot.clone());
                                }
                            }
                        }
                        None => self.add_value(program, file, slots, passed, caller),
                    }
                }
            }
        }
    }

    /// Keeps what a value written in `file` denotes in each of `places`, put there by
    /// `origin`: the functions it is, and the project class of the object it is when
    /// it is the location's own value. A test or example module storing into another
    /// module's location (`os.environ = EnvironmentVarGuard()`) changes that location
    /// in its own program only, so its objects are not the location's.
    fn add_value(
        &mut self,
        program: &Program,
        file: FileId,
        places: &[Place],
        value: &Arg,
        origin: FuncId,
    ) {
        for function in denoted(program, file, value) {
            for place in places {
                self.add(program, place.slot.clone(), function, origin);
            }
        }
        let Some(class) = instance_class(program, file, value) else {
            return;
        };
        let origin_file = program.file_of(origin);
        let auxiliary = is_auxiliary(&program.files[origin_file]);
        for place in places {
            let (home, name) = match &place.slot {
                Slot::Global(home, name) => (*home, name),
                Slot::Attribute(class, name) => (program.class_file(*class), name),
            };
            if auxiliary && home != origin_file {
                continue;
            }
            if place.element {
                let held = self.by_slot.entry(place.slot.clone()).or_default();
                held.element_classes.push(class);
                continue;
            }
            self.holder_names.insert(name.clone());
            let held = self.by_slot.entry(place.slot.clone()).or_default();
            held.classes.push(class);
            held.origins.insert(origin);
        }
    }

    /// The methods a call of `path` runs on the objects kept in the location its
    /// receiver names (`self.backend.write(line)` runs `MemoryBackend.write` when a
    /// `MemoryBackend` is stored in `Logger.backend`). A location filled from many
    /// places is a generic holder, as for callables, and is not followed.
    pub fn dispatched(&self, program: &Program, file: FileId, path: &str) -> Vec<FuncId> {
        match path.rsplit_once('.') {
            Some((receiver, method)) => self.held_methods(program, file, receiver, method),
            None => Vec::new(),
        }
    }

    /// The methods named `method` of the objects kept in the location `receiver`.
    pub fn held_methods(
        &self,
        program: &Program,
        file: FileId,
        receiver: &str,
        method: &str,
    ) -> Vec<FuncId> {
        let name = receiver.rsplit('.').next().unwrap_or(receiver);
        if !self.holder_names.contains(name) {
            return Vec::new();
        }
        let Some(held) = slot_of(program, file, receiver)
            .and_then(|slot| self.by_slot.get(&slot))
            .filter(|held| held.origins.len() <= MAX_ORIGINS)
        else {
            return Vec::new();
        };
        // A method the class defines or inherits; not its `__getattr__`, which stands
        // for any name (a lazy proxy's), whose calls the object's own path decides.
        let mut methods: Vec<FuncId> = held
            .classes
            .iter()
            .filter_map(|&class| program.method(class, method))
            .filter(|&f| program.function(f).name == method)
            .collect();
        methods.sort_unstable();
        methods.dedup();
        methods
    }

    /// Per location that holds project objects, the class whose attribute it is (none
    /// for a module variable) and the classes of the objects held, as its value or
    /// among its elements.
    pub fn holdings(&self) -> impl Iterator<Item = (Option<ClassId>, &[ClassId])> {
        self.by_slot.iter().flat_map(|(slot, held)| {
            let owner = match slot {
                Slot::Global(..) => None,
                Slot::Attribute(class, _) => Some(*class),
            };
            [held.classes.as_slice(), held.element_classes.as_slice()]
                .into_iter()
                .filter(|classes| !classes.is_empty())
                .map(move |classes| (owner, classes))
        })
    }

    /// The functions a call of `path` may run when the path names a location, or an
    /// element of one (`HANDLERS.__element__`), rather than a function.
    pub fn called(&self, program: &Program, file: FileId, path: &str) -> &[FuncId] {
        let location = path
            .strip_suffix(ELEMENT)
            .and_then(|p| p.strip_suffix('.'))
            .unwrap_or(path);
        let name = location.rsplit('.').next().unwrap_or(location);
        if !self.names.contains(name) {
            return &[];
        }
        slot_of(program, file, location)
            .and_then(|slot| self.by_slot.get(&slot))
            .filter(|held| held.origins.len() <= MAX_ORIGINS)
            .map_or(&[], |held| held.functions.as_slice())
    }

    /// What calling the result of a factory runs (`watcher_class =
    /// watcher_class_for(kind)` … `watcher_class(path, cb)`, written
    /// `mod.watcher_class_for.__call__`): the functions it returns, and the
    /// constructors of the classes it returns.
    pub fn called_results(&self, program: &Program, file: FileId, path: &str) -> Vec<FuncId> {
        match path.strip_suffix(".__call__") {
            Some(factory) => produced(program, file, &Callee::Path(factory.to_string())),
            None => Vec::new(),
        }
    }

    /// The functions an argument passed as a callable may be, beyond a function named
    /// directly: one kept in a location (`Thread(target=self._on_tick)`), or the
    /// closure a factory returns (`Thread(target=make_checker(state))`).
    pub fn passed(&self, program: &Program, file: FileId, arg: &Arg) -> Vec<FuncId> {
        match arg {
            Arg::Callable(Callee::Path(path)) => self.called(program, file, path).to_vec(),
            Arg::Coroutine(callee) => produced(program, file, callee),
            _ => Vec::new(),
        }
    }
}

/// How a function passes arguments to a project function it calls.
enum Passing<'m> {
    Call(&'m CallSite),
    /// As its bare decorator (`@bus.subscribe`): the function itself is the argument.
    Decorates,
}

/// Who passes arguments to the functions a stored parameter can be followed into: the
/// functions that store one (`stored`), and every function that passes a parameter of
/// its own on (a wrapper, which the worklist may reach). Indexed once, on all cores, as
/// the worklist visits each function's callers again at every step.
fn callers_of<'m>(
    program: &Program<'m>,
    targets: &'m [Vec<CallTarget>],
    stored: impl Iterator<Item = FuncId>,
) -> HashMap<FuncId, Vec<(FuncId, Passing<'m>)>> {
    let mut relevant: HashSet<FuncId> = stored.collect();
    relevant.extend((0..program.functions.len()).filter(|&f| {
        program.function(f).calls.iter().any(|call| {
            call.args
                .iter()
                .chain(call.keywords.iter().map(|(_, a)| a))
                .any(|a| a.passed_parameter().is_some())
        })
    }));
    let edges: Vec<Vec<(FuncId, FuncId, Passing<'m>)>> = targets
        .par_iter()
        .enumerate()
        .map(|(caller, caller_targets)| {
            passings(program, caller, caller_targets)
                .filter(|(callee, _)| relevant.contains(callee))
                .map(|(callee, passing)| (callee, caller, passing))
                .collect()
        })
        .collect();
    let mut callers: HashMap<FuncId, Vec<(FuncId, Passing<'m>)>> = HashMap::default();
    for (callee, caller, passing) in edges.into_iter().flatten() {
        callers.entry(callee).or_default().push((caller, passing));
    }
    callers
}

/// The project functions `caller` passes arguments to, and how.
fn passings<'m>(
    program: &Program<'m>,
    caller: FuncId,
    targets: &'m [CallTarget],
) -> impl Iterator<Item = (FuncId, Passing<'m>)> + 'm {
    let model = program.function(caller);
    let file = program.file_of(caller);
    let calls = model
        .calls
        .iter()
        .zip(targets)
        .filter_map(|(call, target)| match target {
            CallTarget::Function(f) => Some((*f, Passing::Call(call))),
            _ => None,
        });
    let decorators: Vec<(FuncId, Passing<'m>)> = model
        .decorators
        .iter()
        .filter(|d| d.args.is_empty() && d.keywords.is_empty())
        .filter_map(|d| match resolve_call(program, file, &d.callee) {
            CallTarget::Function(f) => Some((f, Passing::Decorates)),
            _ => None,
        })
        .collect();
    calls.chain(decorators)
}

/// The function that runs a file's module-level code (`<module>`, the first one the
/// front-end lowers), for the file `function` is in.
fn module_code(program: &Program, function: FuncId) -> Option<FuncId> {
    let module = program.function_id(program.file_of(function), 0);
    (program.function(module).name == "<module>").then_some(module)
}

/// Whether a call of a method passes its receiver as the first argument: called through
/// its class (`Base.__init__(self, cb)`), where `call_params` leave the receiver out.
/// A call on an object (`self.run(cb)`, whose path also names the class) has its
/// receiver recorded apart (`OwnedArg` in the receiver slot).
fn passes_receiver(program: &Program, caller: FuncId, call: &CallSite, method: FuncId) -> bool {
    if call
        .owned_args
        .iter()
        .any(|arg| arg.slot == ArgSlot::Receiver)
    {
        return false;
    }
    let model = program.function(method);
    let bound = model.class.is_some()
        && !model.decorators.iter().any(|d| {
            matches!(&d.callee, Callee::Path(p)
                if p.ends_with("staticmethod") || p.ends_with("classmethod"))
        });
    let Callee::Path(path) = &call.callee else {
        return false;
    };
    bound
        && path.rsplit_once('.').is_some_and(|(owner, _)| {
            matches!(
                program.resolve(program.file_of(caller), owner),
                Resolved {
                    target: Target::Class(_),
                    residual: 0,
                }
            )
        })
}

/// The location a path names, when it is one.
fn slot_of(program: &Program, file: FileId, path: &str) -> Option<Slot> {
    match program.resolve(file, path) {
        Resolved {
            target: Target::Global { file, name, .. },
            residual: 0,
        } => Some(Slot::Global(file, name)),
        Resolved {
            target: Target::Attribute { class, name, .. },
            residual: 0,
        } => Some(Slot::Attribute(class, name)),
        _ => None,
    }
}

/// The functions a stored value denotes: a function or bound method named, a lambda,
/// what a factory returns, or an object's `__call__`.
fn denoted(program: &Program, file: FileId, value: &Arg) -> Vec<FuncId> {
    match value {
        Arg::Inline(index) => vec![program.function_id(file, *index)],
        // A property named (`self.headers`) stores the value its getter gives, not the
        // getter.
        Arg::Callable(callee) => match resolve_call(program, file, callee) {
            CallTarget::Function(f) if !program.function(f).is_property() => vec![f],
            _ => Vec::new(),
        },
        Arg::Coroutine(callee) => produced(program, file, callee),
        Arg::Instance(ty) => program
            .class_of_value(file, ty)
            .and_then(|class| program.method(class, "__call__"))
            .into_iter()
            .collect(),
        Arg::Parameter(_)
        | Arg::Thunk(_)
        | Arg::Tuple(_)
        | Arg::Keywords(_)
        | Arg::Spread(_)
        | Arg::Other => Vec::new(),
    }
}

/// The project class of the object a stored value is: a typed local or parameter
/// (`Instance`), an object constructed in place (`MemoryBackend()`, lowered as the
/// call it is), or a module variable or attribute holding one by its type (`MEM` after
/// `MEM = MemoryBackend()`).
fn instance_class(program: &Program, file: FileId, value: &Arg) -> Option<ClassId> {
    match value {
        Arg::Instance(ty) => program.class_of_value(file, ty),
        Arg::Coroutine(Callee::Path(path)) => program.class_of_type(file, path),
        // A class named as a value is the class object, not one of its instances.
        Arg::Callable(Callee::Path(path))
            if !matches!(program.resolve(file, path).target, Target::Class(_)) =>
        {
            receiver_class(program, file, path)
        }
        _ => None,
    }
}

/// The functions a sync factory returns (`return check`, a `def` in its body), the
/// constructors of the classes it returns (`return PollingWatcher`: calling the result
/// builds one), and those the factories whose results it returns give (`return
/// make_check(s)`).
fn produced(program: &Program, file: FileId, factory: &Callee) -> Vec<FuncId> {
    let CallTarget::Function(factory) = resolve_call(program, file, factory) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    produced_by(program, factory, FACTORY_DEPTH, &mut found);
    let mut seen = HashSet::default();
    found.retain(|f| seen.insert(*f));
    found
}

/// How many factories returning another's result `produced` follows: a chain of
/// wrappers is short, and recursion must end.
const FACTORY_DEPTH: usize = 4;

fn produced_by(program: &Program, factory: FuncId, depth: usize, found: &mut Vec<FuncId>) {
    let model = program.function(factory);
    if model.is_async {
        return;
    }
    let file = program.file_of(factory);
    let function = |path: &String| match program.resolve(file, path) {
        Resolved {
            target: Target::Function(f),
            residual: 0,
        } if !program.function(f).is_async => Some(f),
        _ => None,
    };
    let constructor = |path: &String| match program.resolve(file, path) {
        Resolved {
            target: Target::Class(class),
            residual: 0,
        } => program
            .method(class, "__init__")
            .or_else(|| program.method(class, "__new__")),
        _ => None,
    };
    found.extend(model.returns.iter().filter_map(function));
    found.extend(model.returns_named.iter().filter_map(constructor));
    if depth == 0 {
        return;
    }
    for inner in model.returns_result_of.iter().filter_map(function) {
        produced_by(program, inner, depth - 1, found);
    }
}
