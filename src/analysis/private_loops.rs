//! Event loops that worker threads run of their own, and the sync bridges into loops.
//!
//! A program may run more than one event loop: a class that keeps a loop on a thread
//! of its own (`Thread(target=self._loop.run_forever)`), a thread whose function runs
//! `self._loop.run_forever()`, or a coroutine that a thread runs with `asyncio.run(…)`
//! and that keeps its running loop (`self._loop = asyncio.get_running_loop()`). Such a
//! loop is a worker's *private* loop, named by the location that holds it
//! (`Publisher._loop`, a module's `LOOP`). What other threads hand to it
//! (`asyncio.run_coroutine_threadsafe(coro, self._loop)`, `self._loop.call_soon_threadsafe(f)`,
//! `self._loop.create_task(coro)`) runs on that worker's thread, beside the main loop,
//! not on it: racelint starts it there (`Context::WorkerThread`, with coroutines on the
//! worker's loop), instead of on the event loop.
//!
//! A sync function that blocks on a submission's result
//! (`asyncio.run_coroutine_threadsafe(coro, loop).result()`) is a *bridge*: it waits for
//! a loop that runs on another thread, so threads other than that loop's call it. It
//! is a worker entry point, and it never runs on the event loop when the loop it waits
//! for is the main one (there it would wait for itself). A public method of a class
//! that owns the private loop it bridges to (its constructor too, and the special
//! methods users' code calls: `__call__`, `__enter__`, `__getitem__`…) is that class's
//! sync API, which any number of threads may call at once (as Infer's RacerD takes a
//! class that synchronises to be meant for concurrent use).
//!
//! The API names are catalogue data (`[private-loops]` in `rules/python-apis.toml`).

use std::collections::HashSet;

use rayon::prelude::*;

use super::catalogue::Catalogue;
use super::contexts::{api_call, resolve_call, CallTarget, Context, EntryPoint, Reach, Site};
use super::resolve::{ClassId, FuncId, Program, Target};
use crate::model::{Arg, CallSite, Callee, FileId, Function, Language, Span, ValueOrigin, ELEMENT};

/// The locations that hold a worker's private loop.
pub struct PrivateLoops {
    loops: HashSet<Location>,
}

/// What the program hands to private loops, and its bridges.
#[derive(Default)]
pub struct LoopHandoffs {
    /// Worker entry points: coroutines handed to a private loop, and bridges.
    pub entries: Vec<EntryPoint>,
    /// `(caller, call span)` of handoffs to a loop that is a private one: the event
    /// loop entries the catalogue made of them are not the main loop's.
    pub moved: HashSet<(FuncId, Span)>,
    /// `(caller, coroutine)` for each coroutine a function creates to hand to a
    /// private loop: that call does not put the coroutine on the main loop.
    pub submitted: HashSet<(FuncId, FuncId)>,
    /// Per function: a bridge into the main loop, which never runs on the event loop.
    pub off_loop: Vec<bool>,
}

impl PrivateLoops {
    /// The private loops, given where worker threads reach (`worker`) and the
    /// coroutines only workers' loops run (`worker_loop_only`).
    pub fn find(
        program: &Program,
        catalogue: &Catalogue,
        targets: &[Vec<CallTarget>],
        worker: &[Option<Reach>],
        worker_loop_only: &[bool],
    ) -> PrivateLoops {
        let apis = &catalogue.private_loops;
        // Each function's loops, on all cores.
        let loops = (0..program.functions.len())
            .into_par_iter()
            .flat_map_iter(|id| {
                let file = program.file_of(id);
                let function = program.function(id);
                let mut loops = Vec::new();
                if program.files[file].language != Language::Python {
                    return loops;
                }
                for (call, target) in function.calls.iter().zip(&targets[id]) {
                    // `Thread(target=self._loop.run_forever)`: the worker runs the loop.
                    let runs_loop = |arg: &Arg| match arg {
                        Arg::Callable(Callee::Path(path)) => {
                            run_loop(program, file, path, &apis.runners)
                        }
                        _ => None,
                    };
                    let mut handed: Vec<Location> = call
                        .args
                        .iter()
                        .chain(call.keywords.iter().map(|(_, a)| a))
                        .filter_map(runs_loop)
                        .collect();
                    handed.extend(kept_loops_run(program, file, function, call, &apis.runners));
                    if !handed.is_empty() {
                        let api = api_call(program, call, target);
                        if catalogue.worker.iter().any(|h| h.matches(&api)) {
                            loops.extend(handed);
                        }
                    }
                    // `self._loop.run_forever()` on a worker thread outside any loop.
                    if worker[id].is_some() && !function.is_async {
                        if let Callee::Path(path) = &call.callee {
                            loops.extend(run_loop(program, file, path, &apis.runners));
                        }
                    }
                }
                // A coroutine on a worker's loop keeping that loop.
                if worker_loop_only[id] {
                    for (location, value) in &function.stored_callables {
                        let Arg::Coroutine(callee) = value else {
                            continue;
                        };
                        // Kept among a container's elements: no one location.
                        if location.ends_with(ELEMENT) {
                            continue;
                        }
                        if let CallTarget::External(path) = resolve_call(program, file, callee) {
                            if apis.current.contains(&path) {
                                loops.extend(self::location(program, file, location));
                            }
                        }
                    }
                }
                loops
            })
            .collect();
        PrivateLoops { loops }
    }

    /// The handoffs to private loops and the bridges, from every call's resolved
    /// target (`targets[function][call]`).
    pub fn handoffs(
        &self,
        program: &Program,
        catalogue: &Catalogue,
        targets: &[Vec<CallTarget>],
    ) -> LoopHandoffs {
        let mut found = LoopHandoffs {
            off_loop: vec![false; program.functions.len()],
            ..LoopHandoffs::default()
        };
        let submit = &catalogue.private_loops.submit;
        // Only calls with these last names can submit, block on a submission, or hand
        // work to a loop: the rest are not worth matching.
        let mut names: HashSet<&str> = submit
            .iter()
            .map(|s| s.rsplit('.').next().unwrap_or(s))
            .collect();
        names.insert("result");
        names.extend(catalogue.tasks.methods.iter().map(String::as_str));
        names.extend(
            catalogue
                .loop_
                .iter()
                .flat_map(|h| h.methods.iter().map(String::as_str)),
        );
        let named = |call: &CallSite| names.contains(last_name(&call.callee));
        // The functions making such a call, found on all cores.
        let relevant: Vec<FuncId> = (0..targets.len())
            .into_par_iter()
            .filter(|&id| {
                program.files[program.file_of(id)].language == Language::Python
                    && program.function(id).calls.iter().any(named)
            })
            .collect();
        for id in relevant {
            let function = program.function(id);
            let file = program.file_of(id);
            let private =
                |path: &str| location(program, file, path).filter(|l| self.loops.contains(l));
            // The private loops this function's submissions name (`None` for another).
            let mut bridged: Vec<Option<Location>> = Vec::new();
            let mut blocks = false;
            for (call, target) in function.calls.iter().zip(&targets[id]) {
                if !named(call) {
                    continue;
                }
                let api = api_call(program, call, target);
                if api.paths.iter().any(|p| submit.contains(p)) {
                    let lp = loop_argument(call).and_then(private);
                    let submitted = lp.is_some();
                    bridged.push(lp);
                    if submitted {
                        if let Some(Arg::Coroutine(callee)) = call.args.first() {
                            self.submit_coroutine(program, id, call, callee, &mut found);
                        }
                    }
                    continue;
                }
                if let Callee::Path(path) = &call.callee {
                    if api.paths.iter().any(|p| {
                        p.strip_suffix(".result")
                            .is_some_and(|s| submit.iter().any(|x| x == s))
                    }) {
                        blocks = true;
                        continue;
                    }
                    let Some((receiver, method)) = path.rsplit_once('.') else {
                        continue;
                    };
                    if private(receiver).is_none() {
                        continue;
                    }
                    self.hand_to_loop(program, catalogue, id, call, method, &mut found);
                }
            }
            if blocks && !function.is_async {
                self.bridge(program, id, &bridged, &mut found);
            }
        }
        found
    }

    /// `self._loop.call_soon_threadsafe(f)`, `self._loop.create_task(coro)` on a
    /// private loop: the catalogue's event-loop entries from this call are the
    /// worker's (`LoopHandoffs::moved`), and a task's coroutine starts there.
    fn hand_to_loop(
        &self,
        program: &Program,
        catalogue: &Catalogue,
        id: FuncId,
        call: &CallSite,
        method: &str,
        found: &mut LoopHandoffs,
    ) {
        if catalogue.tasks.methods.iter().any(|m| m == method) {
            if let Some(Arg::Coroutine(callee)) = call.args.first() {
                self.submit_coroutine(program, id, call, callee, found);
            }
            return;
        }
        if catalogue
            .loop_
            .iter()
            .any(|h| h.methods.iter().any(|m| m == method))
        {
            found.moved.insert((id, call.span));
        }
    }

    fn submit_coroutine(
        &self,
        program: &Program,
        id: FuncId,
        call: &CallSite,
        coroutine: &Callee,
        found: &mut LoopHandoffs,
    ) {
        let file = program.file_of(id);
        let CallTarget::Function(target) = resolve_call(program, file, coroutine) else {
            return;
        };
        if !program.function(target).is_async {
            return;
        }
        found.submitted.insert((id, target));
        found.entries.push(EntryPoint::new(
            Context::WorkerThread,
            target,
            Some(site(program, id, call)),
        ));
    }

    /// A sync function blocking on what it submitted to `loops`.
    fn bridge(
        &self,
        program: &Program,
        id: FuncId,
        loops: &[Option<Location>],
        found: &mut LoopHandoffs,
    ) {
        let function = program.function(id);
        let private: Vec<&Location> = loops.iter().flatten().collect();
        // Bridging into the main loop, it would wait for itself on the loop.
        found.off_loop[id] = private.is_empty();
        // A public method of the class that owns the loop (or inherits it): its sync API,
        // with the special methods its users' code calls (`Client(url)` connecting
        // through the loop).
        let public = !function.name.starts_with('_')
            || API_SPECIAL_METHODS.contains(&function.name.as_str());
        let api = public
            && program.class_of_method(id).is_some_and(|own| {
                let ancestors = program.ancestors(own);
                private.iter().any(|l| match l {
                    Location::Attribute(class, _) => {
                        *class == own || ancestors.contains(&program.class(*class).path)
                    }
                    Location::Global(..) => false,
                })
            });
        let file = program.file_of(id);
        let site = Site {
            file,
            span: function.span,
            text: format!("`{}` blocks on a loop on another thread", function.display),
            caller: None,
            prose: true,
        };
        found.entries.push(EntryPoint {
            concurrent: api,
            ..EntryPoint::new(Context::WorkerThread, id, Some(site))
        });
    }
}

/// Special methods that users' code calls as it calls public ones, from whatever thread:
/// not `__del__` (once per object, when nothing reaches it any more), nor those a class
/// statement runs (`__init_subclass__`, `__set_name__`, `__class_getitem__`).
const API_SPECIAL_METHODS: &[&str] = &[
    "__init__",
    "__call__",
    "__enter__",
    "__exit__",
    "__getattr__",
    "__getitem__",
    "__setitem__",
    "__delitem__",
    "__contains__",
    "__iter__",
    "__next__",
    "__len__",
];

/// The name a call ends with: `put` of `self._queue.put`.
fn last_name(callee: &Callee) -> &str {
    match callee {
        Callee::Path(path) => path.rsplit('.').next().unwrap_or(path),
        Callee::Method(method) => method,
    }
}

/// Where a loop is kept: a module variable, or an attribute by the class that declares
/// it (so a loop a base class starts is the one its subclasses' methods name).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Location {
    Global(FileId, String),
    Attribute(ClassId, String),
}

/// The locations that hold a loop `call` hands a runner of by a local's name
/// (`loop = new_event_loop()`, `Thread(target=loop.run_forever)`, `self._loop = loop`):
/// the local, bound once to a call, is stored there (`Function::stores_built`).
fn kept_loops_run(
    program: &Program,
    file: FileId,
    function: &Function,
    call: &CallSite,
    runners: &[String],
) -> Vec<Location> {
    let mut found = Vec::new();
    for (_, origin) in &call.origins {
        let ValueOrigin::Member(base, method) = origin else {
            continue;
        };
        let ValueOrigin::Built(at) = **base else {
            continue;
        };
        if !runners.iter().any(|r| r == method) {
            continue;
        }
        found.extend(
            function
                .stores_built
                .iter()
                .filter(|(_, built)| *built == at)
                .filter_map(|(path, _)| location(program, file, path)),
        );
    }
    found
}

/// `self._loop` of `self._loop.run_forever`, when it names a location.
fn run_loop(program: &Program, file: FileId, path: &str, runners: &[String]) -> Option<Location> {
    let (receiver, method) = path.rsplit_once('.')?;
    runners
        .iter()
        .any(|r| r == method)
        .then(|| location(program, file, receiver))
        .flatten()
}

/// The location `path` names: a module variable or an attribute of a project class, a
/// loop that code elsewhere can name. A local is typed by the call that made it
/// (`asyncio.new_event_loop`), which names every such loop at once.
fn location(program: &Program, file: FileId, path: &str) -> Option<Location> {
    let resolved = program.resolve(file, path);
    if resolved.residual != 0 {
        return None;
    }
    match resolved.target {
        Target::Global { file, name, .. } => Some(Location::Global(file, name)),
        Target::Attribute { class, name, .. } => Some(Location::Attribute(class, name)),
        _ => None,
    }
}

/// The loop a `submit(coroutine, loop)` call names, by location.
fn loop_argument(call: &CallSite) -> Option<&str> {
    let arg = call.args.get(1).or_else(|| {
        call.keywords
            .iter()
            .find(|(k, _)| k == "loop")
            .map(|(_, a)| a)
    })?;
    match arg {
        Arg::Callable(Callee::Path(path)) => Some(path),
        _ => None,
    }
}

fn site(program: &Program, caller: FuncId, call: &CallSite) -> Site {
    Site {
        file: program.file_of(caller),
        span: call.span,
        text: call.text.clone(),
        caller: Some(caller),
        prose: false,
    }
}
