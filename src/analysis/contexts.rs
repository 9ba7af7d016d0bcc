//! Call graph, entry points, and the execution contexts each function can run in.

use std::collections::{HashSet, VecDeque};

use rustc_hash::FxHashMap as HashMap;

use rayon::prelude::*;

use super::catalogue::{Catalogue, Route, ThreadClass};
use super::dispatch::Dispatch;
use super::forwarding::Forwards;
use super::invoked::{Invocation, Invoked};
use super::kept_threads;
use super::library_threads::{self, Given};
use super::private_loops::PrivateLoops;
use super::programs::is_auxiliary;
use super::protocol_modules::ProtocolModules;
use super::resolve::{ClassId, FuncId, Program, Target};
use super::stored_callables::StoredCallables;
use crate::model::{
    through_super, Arg, CallSite, Callee, DeclaredContext, FileId, Language, PropertyUse, Span,
    ELEMENT,
};

/// Where code runs. Ordered so that reports list the worker side first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    WorkerThread,
    EventLoop,
    /// The thread a script starts on: code reached from `if __name__ == "__main__":`.
    /// It runs beside every worker thread the program starts; an event loop it runs
    /// (`asyncio.run`) runs on it, so it never runs beside its own loop.
    MainThread,
}

impl Context {
    pub const ALL: [Context; 3] = [
        Context::WorkerThread,
        Context::EventLoop,
        Context::MainThread,
    ];

    /// Whether code in `self` and code in `other` can run at the same time (for two
    /// worker-side accesses, only when they are on different threads; the caller
    /// decides that).
    pub fn overlaps(self, other: Context) -> bool {
        use Context::*;
        matches!((self, other), (WorkerThread, _) | (_, WorkerThread))
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// The stable identifier used in JSON output.
    pub fn id(self) -> &'static str {
        match self {
            Context::WorkerThread => "worker-thread",
            Context::EventLoop => "event-loop",
            Context::MainThread => "main-thread",
        }
    }

    /// As prose: "on a worker thread".
    pub fn prose(self) -> &'static str {
        match self {
            Context::WorkerThread => "a worker thread",
            Context::EventLoop => "the event loop",
            Context::MainThread => "the main thread",
        }
    }
}

/// The place where control is handed to a context: an offload call, a decorator, a
/// thread class. `async def` entry points have none: being a coroutine is the entry.
#[derive(Debug, Clone)]
pub struct Site {
    pub file: FileId,
    pub span: Span,
    pub text: String,
    /// The function the handoff is written in, if any.
    pub caller: Option<FuncId>,
    /// `text` describes the entry in words, quoting its code itself ("`Client.get`
    /// blocks on a loop on another thread"), rather than being its code.
    pub prose: bool,
}

impl Site {
    /// The text as a message shows it: code in backticks, a description as it is.
    pub fn shown(&self) -> String {
        match self.prose {
            true => self.text.clone(),
            false => format!("`{}`", self.text),
        }
    }

    /// The call site this handoff is, with the function that wrote it.
    pub fn call<'m>(&self, program: &Program<'m>) -> Option<(FuncId, &'m CallSite)> {
        let caller = self.caller?;
        let call = program
            .function(caller)
            .calls
            .iter()
            .find(|c| c.span == self.span)?;
        Some((caller, call))
    }
}

#[derive(Debug, Clone)]
pub struct EntryPoint {
    pub context: Context,
    pub target: FuncId,
    pub site: Option<Site>,
    /// The target runs on several threads (or as several tasks) at once: `Executor.map`,
    /// a handoff inside a loop or written twice, a sync route, a gathered coroutine.
    pub concurrent: bool,
    /// The target is a method called on an instance made for this call alone (a
    /// request handler per request): calling it shares nothing of the instance.
    pub fresh_receiver: bool,
    /// The starter awaits the target's return at the handoff (`await
    /// asyncio.to_thread(f)`, or an awaited wrapper that awaits one): nothing after
    /// the `await` runs beside it.
    pub awaited: bool,
    /// The position of the site call's first positional argument that the handoff
    /// passes to the target as its first parameter (`to_thread(f, job)`: 1).
    pub forwarded_from: Option<usize>,
    /// The site registers the target (a route), which the framework then runs any
    /// number of times: every run starts after the registration, however many overlap.
    pub registered: bool,
    /// Handed to a loop a worker thread runs (`analysis::private_loops`): it runs on that
    /// thread, with the loop running, as a coroutine there does.
    pub on_private_loop: bool,
    /// The attribute of the target's object, a thread lock, that the library holds
    /// while it runs the target (`ThreadClass::holds`: a logging handler's `lock`).
    pub holds: Option<String>,
    /// `concurrent` only because the target is handed to worker threads at other places
    /// too: the runs this site starts do not overlap one another.
    pub concurrent_elsewhere: bool,
    /// What the site passes the target, in the order of its parameters
    /// (`Handover::passed_arguments`): `to_thread(f, self.jobs)` gives `[self.jobs]`.
    pub arguments: Vec<Arg>,
    /// What the site passes the target by name (`Handover::passed_keywords`):
    /// `to_thread(f, jobs=self.jobs)` gives `[("jobs", self.jobs)]`.
    pub keywords: Vec<(String, Arg)>,
    /// The method of the object the site builds that starts the target, when the site
    /// keeps the object in a location (`Handoff::started_by`, `CallSite::kept_in`).
    pub started_by: Option<String>,
    /// For such an object: the calls `(function, call index)` that start it
    /// (`self._thread.start()` in whatever method), `analysis::kept_threads`.
    pub started_at: Vec<(FuncId, usize)>,
}

impl EntryPoint {
    /// An entry of `target` in `context` from `site`, run once at a time, not awaited,
    /// forwarding and registering nothing; a caller sets what differs.
    pub(super) fn new(context: Context, target: FuncId, site: Option<Site>) -> EntryPoint {
        EntryPoint {
            context,
            target,
            site,
            concurrent: false,
            fresh_receiver: false,
            awaited: false,
            forwarded_from: None,
            registered: false,
            on_private_loop: false,
            holds: None,
            concurrent_elsewhere: false,
            arguments: Vec::new(),
            keywords: Vec::new(),
            started_by: None,
            started_at: Vec::new(),
        }
    }
}

/// How a function was first reached in one context: from which entry point, and the
/// caller and call (index into the caller's `calls`) that reached it.
#[derive(Debug, Clone, Copy)]
pub struct Reach {
    pub entry: usize,
    pub via: Option<(FuncId, usize)>,
    /// Every run of the function in this context works on an object under
    /// construction: it is reached only through a constructor's call of its own
    /// class's method (`self.reset()`, `super().__init__()` in `__init__`), and from
    /// there only through calls on that same `self`. What it does through `self` there
    /// touches an object nobody else holds yet; anything else it touches (a registry, a
    /// module variable, another object) is shared as usual.
    pub constructing: bool,
}

/// What a call site calls, after whole-program resolution.
pub enum CallTarget {
    Function(FuncId),
    /// Outside the project, by canonical path.
    External(String),
    /// A method of a receiver we cannot type.
    Method(String),
    Unknown,
}

pub struct Contexts {
    pub entries: Vec<EntryPoint>,
    /// For each function, the calls (callee, call index) it makes to project functions.
    pub callees: Vec<Vec<(FuncId, usize)>>,
    /// For each function, who calls it (caller, call index in the caller).
    pub callers: Vec<Vec<(FuncId, usize)>>,
    /// The call edges `(caller, call index)` that run a callable kept in a location
    /// (`self._on_click()` running `Controller.handle`): the call's receiver is not the
    /// callee's `self`, nor are its arguments aligned with the callee's parameters
    /// past what the location's store says.
    pub through_location: HashSet<(FuncId, usize)>,
    /// The call edges `(caller, call index, callee)` that run a method of an object kept
    /// in the location the call's receiver names (`self.backend.write()` running
    /// `MemoryBackend.write`): the callee's `self` is an object of its own class,
    /// whatever the receiver's annotation says.
    pub through_holder: HashSet<(FuncId, usize, FuncId)>,
    /// The call edges `(caller, call index, callee)` that run a function the call is
    /// given (`retry(self.refresh)`: `analysis::invoked`): the call's arguments are not
    /// the callee's (`Invoked::feeds` says which reach it).
    pub invoked: HashMap<(FuncId, usize, FuncId), Invocation>,
    /// What locations hold: callables and project objects.
    pub stored: StoredCallables,
    /// Per function, per context: how it is reached, if it is.
    pub reach: Vec<[Option<Reach>; 3]>,
    /// Per function: how it is reached from a worker entry point that runs on several
    /// threads at once (entries index `entries`).
    pub concurrent: Vec<Option<Reach>>,
    /// Coroutines launched to run concurrently (`gather`, `create_task`).
    pub task_entries: Vec<EntryPoint>,
    /// Per function: how it is reached from a concurrently launched coroutine, through
    /// awaited coroutines too (entries index `task_entries`).
    pub task_reach: Vec<Option<Reach>>,
    /// Per function: whether some entry point targets it.
    pub is_entry: Vec<bool>,
    /// Per function: reached on worker threads only through coroutines their private
    /// loops run, so it runs with that loop running (loop APIs there are that loop's).
    pub on_worker_loop: Vec<bool>,
    /// `(caller, coroutine)` for each coroutine a function runs on its own thread's
    /// loop (`asyncio.run(coroutine())`, `loop.run_until_complete(…)`).
    pub loop_runs: HashSet<(FuncId, FuncId)>,
    /// Per function: whether it is started in a way other than being called (a handoff,
    /// a route, a thread class, a declaration). Being a coroutine is not such a way.
    pub started_elsewhere: Vec<bool>,
    /// Per coroutine: whether the program shows two runs of it in progress at once:
    /// it is launched as a concurrent task (`gather`, `create_task`), serves requests
    /// (an `async` route), or is awaited from such a coroutine. Otherwise runs of a
    /// method on one object are taken to be sequential, as a framework calling a
    /// method once per event runs them (`analysis::ordering`).
    pub overlapping_runs: Vec<bool>,
    /// Functions that only ever run while the program initialises (called only from
    /// module import code or an application's start-up hooks, directly or through
    /// other such functions).
    pub init_only: Vec<bool>,
    /// Per function: for module code that starts a worker thread itself, the byte
    /// offset of its first such handoff. What the module does from there on runs on
    /// the importing thread beside that worker (a script's main loop), not as
    /// initialisation (`script_code`).
    pub script_from: Vec<Option<usize>>,
    /// Per function: how many calls pass it as a callable value (to a handoff, to a
    /// library that calls it back, to anything), counting one more when a location
    /// keeps it (`analysis::stored_callables`).
    pub callable_passes: Vec<usize>,
    /// `callable_passes` without those a test or example makes in code that no thread
    /// or loop runs (`assertRaises(SMTPError, smtp.ehlo)` in a test function): such a
    /// call runs the function in no context, alone. What ownership and lock inheritance
    /// ask.
    pub package_passes: Vec<usize>,
    /// Per function: a function of a test or example module that no thread, loop or
    /// main-thread root runs (a test function that starts nothing). What it does
    /// happens alone, in a program of its own, and says nothing of the calls the
    /// package makes: its calls and passes count neither for lock inheritance nor as
    /// hidden calls.
    pub alone: Vec<bool>,
    /// Per function: loop-only, as it makes a call that raises off the event loop's
    /// thread (`Catalogue::loop_thread_checks`). Worker threads do not run into it: the
    /// call raises there, and RL201 reports it.
    pub loop_only: Vec<bool>,
}

impl Contexts {
    pub fn compute(program: &Program, catalogue: &Catalogue) -> Contexts {
        let count = program.functions.len();
        let mut callees = vec![Vec::new(); count];
        let mut callers = vec![Vec::new(); count];
        let mut entries = Vec::new();
        let mut task_entries = Vec::new();
        let mut request_entries = Vec::new();
        // Functions an application runs at start-up (`FastAPI(lifespan=...)`).
        let mut startup = Vec::new();
        // (caller, coroutine) for `asyncio.run(coroutine())` and the like.
        let mut runs: HashSet<(FuncId, FuncId)> = HashSet::new();
        let mut through_location: HashSet<(FuncId, usize)> = HashSet::new();
        let mut through_holder: HashSet<(FuncId, usize, FuncId)> = HashSet::new();
        let mut invoked_edges: HashMap<(FuncId, usize, FuncId), Invocation> = HashMap::default();
        let mut offloaded: Vec<(String, Site)> = Vec::new();
        let mut awaited: Vec<String> = Vec::new();
        let mut given: Vec<Given> = Vec::new();
        // Of those, the passes of a function that go nowhere else (`passed_callables`).

        // Resolution is most of the cost, and each call's is independent: all cores.
        let targets: Vec<Vec<CallTarget>> = (0..count)
            .into_par_iter()
            .map(|id| {
                let file = program.file_of(id);
                program
                    .function(id)
                    .calls
                    .iter()
                    .map(
                        |call| match (call.property, resolve_call(program, file, &call.callee)) {
                            (None, target) => target,
                            // A property read runs the getter; an assignment, its setter.
                            (Some(PropertyUse::Get), CallTarget::Function(f))
                                if program.function(f).is_property() =>
                            {
                                CallTarget::Function(f)
                            }
                            (Some(PropertyUse::Set), CallTarget::Function(f)) => {
                                match program.property_setter(f) {
                                    Some(setter) => CallTarget::Function(setter),
                                    None => CallTarget::Unknown,
                                }
                            }
                            (Some(_), _) => CallTarget::Unknown,
                        },
                    )
                    .collect()
            })
            .collect();
        // Four summaries of the resolved calls, independent of each other: both cores
        // (one after another, they were a fifth of the analysis's time on one core).
        let ((forwards, invoked), (stored, protocols)) = rayon::join(
            || {
                rayon::join(
                    || Forwards::compute(program, catalogue, &targets),
                    || Invoked::compute(program, catalogue, &targets),
                )
            },
            || {
                rayon::join(
                    || StoredCallables::compute(program, &targets),
                    || ProtocolModules::find(program),
                )
            },
        );
        // Only calls of a listed name are worth matching in full.
        let checks = &catalogue.loop_thread_checks;
        let check_names: HashSet<&str> = checks
            .calls
            .iter()
            .chain(&checks.methods)
            .map(|c| c.rsplit('.').next().unwrap_or(c))
            .collect();
        let loop_only: Vec<bool> = (0..count)
            .into_par_iter()
            .map(|id| {
                program
                    .function(id)
                    .calls
                    .iter()
                    .zip(&targets[id])
                    .any(|(call, target)| {
                        let name = match &call.callee {
                            Callee::Path(path) => path.rsplit('.').next().unwrap_or(path),
                            Callee::Method(method) => method,
                        };
                        check_names.contains(name)
                            && checks.matches(&api_call(program, call, target))
                    })
                    || decorated_by(program, id, &catalogue.loop_thread_check_decorators.calls)
            })
            .collect();
        let open = vec![false; count];

        // What each function contributes (its call edges, the entry points it starts,
        // start-up hooks, loop runs): independent per function, so on all cores, each
        // worker with its own memo of overrides; merged in function order.
        let template = Dispatch::new(program);
        let facts: Vec<FunctionFacts> = (0..count)
            .into_par_iter()
            .map_init(
                || template.clone(),
                |dispatch, id| {
                    let resolved = Resolved {
                        targets: &targets,
                        forwards: &forwards,
                        invoked: &invoked,
                        stored: &stored,
                        protocols: &protocols,
                    };
                    function_facts(program, catalogue, &resolved, dispatch, id)
                },
            )
            .collect();
        for (id, facts) in facts.into_iter().enumerate() {
            for &(callee, index) in &facts.callees {
                callers[callee].push((id, index));
            }
            callees[id] = facts.callees;
            entries.extend(facts.entries);
            task_entries.extend(facts.task_entries);
            request_entries.extend(facts.request_entries);
            startup.extend(facts.startup);
            runs.extend(facts.runs);
            through_location.extend(facts.through_location.into_iter().map(|call| (id, call)));
            through_holder.extend(
                facts
                    .through_holder
                    .into_iter()
                    .map(|(call, callee)| (id, call, callee)),
            );
            for (call, invocation) in facts.invoked {
                invoked_edges.insert((id, call, invocation.function), invocation);
            }
            offloaded.extend(facts.offloaded);
            awaited.extend(facts.awaited);
            given.extend(facts.given);
        }
        entries.extend(library_threads::entries(
            program, &offloaded, &awaited, given,
        ));
        entries.extend(thread_class_entries(program, catalogue, &targets));
        entries.extend(callback_attribute_entries(program, catalogue, &targets));
        detach_handed_off_closures(program, &entries, &mut callees, &mut callers);

        mark_repeated_handoffs(&mut entries);
        let script_from = script_code(program, &mut entries, &mut callees);
        let private = Coroutines::PrivateLoops(&runs);

        let worker_reach = |entries: &[EntryPoint]| {
            propagate(
                program,
                entries,
                &callees,
                |e| e.context == Context::WorkerThread,
                private,
                &loop_only,
                true,
            )
        };
        let mut worker = worker_reach(&entries);
        let mut worker_loop_only =
            private_loop_only(program, &worker, &callers, &runs, &HashSet::new());
        // Loops that workers run of their own take what is handed to them off the
        // main loop; then the workers reach further.
        let handed = PrivateLoops::find(program, catalogue, &targets, &worker, &worker_loop_only)
            .handoffs(program, catalogue, &targets);
        if !handed.entries.is_empty() || !handed.moved.is_empty() {
            // What the catalogue started on the loop from a call on a private loop runs
            // on that loop's worker.
            for entry in &mut entries {
                let moved = entry.site.as_ref().is_some_and(|site| {
                    site.caller
                        .is_some_and(|caller| handed.moved.contains(&(caller, site.span)))
                });
                if entry.context == Context::EventLoop && moved {
                    entry.context = Context::WorkerThread;
                    entry.on_private_loop = true;
                }
            }
            entries.extend(handed.entries);
            worker = worker_reach(&entries);
            worker_loop_only =
                private_loop_only(program, &worker, &callers, &runs, &handed.submitted);
        }
        drop_main_loop_entries(&mut entries, &worker_loop_only);
        kept_threads::find_starts(program, catalogue, &mut entries);
        let reach = Context::ALL.map(|context| {
            let coroutines = match context {
                Context::WorkerThread => private,
                _ => Coroutines::Never,
            };
            let barrier = match context {
                Context::WorkerThread => &loop_only,
                Context::EventLoop => &handed.off_loop,
                Context::MainThread => &open,
            };
            propagate(
                program,
                &entries,
                &callees,
                |e| e.context == context,
                coroutines,
                barrier,
                context == Context::WorkerThread,
            )
        });
        let reach: Vec<[Option<Reach>; 3]> = (0..count)
            .map(|f| [reach[0][f], reach[1][f], reach[2][f]])
            .collect();
        // Worker code outside any private loop.
        let bare_thread = propagate(
            program,
            &entries,
            &callees,
            |e| {
                e.context == Context::WorkerThread
                    && !e.on_private_loop
                    && !program.function(e.target).is_async
            },
            Coroutines::Never,
            &loop_only,
            true,
        );
        let on_worker_loop = (0..count)
            .map(|f: usize| {
                reach[f][Context::WorkerThread.index()].is_some() && bare_thread[f].is_none()
            })
            .collect();
        let concurrent = propagate(
            program,
            &entries,
            &callees,
            |e| e.context == Context::WorkerThread && e.concurrent,
            private,
            &loop_only,
            true,
        );
        let task_reach = propagate(
            program,
            &task_entries,
            &callees,
            |_| true,
            Coroutines::Always,
            &open,
            false,
        );
        let request_reach = propagate(
            program,
            &request_entries,
            &callees,
            |_| true,
            Coroutines::Always,
            &open,
            false,
        );
        let overlapping_runs = (0..count)
            .map(|f| task_reach[f].is_some() || request_reach[f].is_some())
            .collect();
        let mut is_entry = vec![false; count];
        let mut started_elsewhere = vec![false; count];
        for entry in &entries {
            is_entry[entry.target] = true;
            started_elsewhere[entry.target] |= entry.site.is_some();
        }
        let init_only = init_only(program, &is_entry, &callers, &startup, &script_from);
        let auxiliary: Vec<bool> = program.files.iter().map(is_auxiliary).collect();
        let alone: Vec<bool> = (0..count)
            .map(|f| reach[f].iter().all(Option::is_none) && auxiliary[program.file_of(f)])
            .collect();
        let passed = passed_callables(program, &invoked_edges);
        let (callable_passes, package_passes) = count_passes(program, &stored, &passed, &alone);
        Contexts {
            entries,
            callees,
            callers,
            through_location,
            through_holder,
            invoked: invoked_edges,
            reach,
            concurrent,
            task_entries,
            task_reach,
            is_entry,
            on_worker_loop,
            loop_runs: runs,
            started_elsewhere,
            overlapping_runs,
            init_only,
            script_from,
            callable_passes,
            package_passes,
            alone,
            loop_only,
            stored,
        }
    }

    /// Whether code running `function` in `context` runs `callee` on the same thread
    /// when it calls it: always for a plain function; for a coroutine, only on a worker
    /// thread that runs it on a private loop (`loop_runs`), or from such a coroutine.
    pub fn runs_on_same_thread(
        &self,
        program: &Program,
        function: FuncId,
        callee: FuncId,
        context: Context,
    ) -> bool {
        !program.function(callee).is_async
            || (context == Context::WorkerThread
                && on_private_loop(program, &self.loop_runs, function, callee))
    }

    pub fn contexts_of(&self, function: FuncId) -> impl Iterator<Item = Context> + '_ {
        Context::ALL
            .into_iter()
            .filter(move |c| self.reach[function][c.index()].is_some())
    }

    /// The chain from the entry point to `function` in `context`: the entry, then the
    /// functions in call order (the entry's target first, `function` last).
    pub fn path_to(&self, function: FuncId, context: Context) -> Option<(usize, Vec<FuncId>)> {
        chain_to(function, |f| self.reach[f][context.index()])
    }
}

/// Follows recorded reaches back from `function` to its entry point: the entry's index
/// and the functions in call order (the entry's target first, `function` last).
pub fn chain_to(
    function: FuncId,
    reach: impl Fn(FuncId) -> Option<Reach>,
) -> Option<(usize, Vec<FuncId>)> {
    let mut chain = vec![function];
    let mut current = reach(function)?;
    while let Some((caller, _)) = current.via {
        if chain.contains(&caller) {
            break;
        }
        chain.push(caller);
        current = reach(caller)?;
    }
    chain.reverse();
    Some((current.entry, chain))
}

/// A call as the API catalogues see it.
pub struct ApiCall {
    /// Every canonical name the call goes by: as written (through the file's imports),
    /// as resolved outside the project, and the project definition's own path (the
    /// standard library or a vendored framework may be part of the analysed tree).
    pub paths: Vec<String>,
    pub method: String,
    /// Whether the method name alone may match: only when the receiver's type is
    /// unknown or external. A project's own `create_task` is not asyncio's, nor is a
    /// project module's `call_later` helper.
    pub by_name: bool,
    /// Methods called earlier in the receiver's chain.
    pub chain: Vec<String>,
}

pub fn api_call(program: &Program, call: &CallSite, target: &CallTarget) -> ApiCall {
    let callee = &call.callee;
    let mut paths = Vec::new();
    if let Callee::Path(written) = callee {
        paths.push(written.clone());
    }
    match target {
        CallTarget::External(path) => paths.push(path.clone()),
        CallTarget::Function(f) => {
            let function = program.function(*f);
            paths.push(function.path.clone());
            if function.is_initializer {
                if let Some(class) = &function.class {
                    paths.push(class.clone());
                }
            } else if let Some(class) = program.class_of_method(*f) {
                // An override keeps its library base's contract: a thread pool's own
                // `submit` runs what it is given on a worker, as the base's does.
                paths.extend(
                    program
                        .external_ancestors(class)
                        .iter()
                        .map(|base| format!("{base}.{}", function.name)),
                );
            }
        }
        _ => {}
    }
    let method = match callee {
        Callee::Method(method) => method.clone(),
        Callee::Path(path) => path.rsplit('.').next().unwrap_or(path).to_string(),
    };
    let by_name = match target {
        CallTarget::Method(_) | CallTarget::External(_) => true,
        CallTarget::Function(f) => {
            program.function(*f).name == "__getattr__" && method != "__getattr__"
        }
        CallTarget::Unknown => false,
    };
    ApiCall {
        paths,
        method,
        // A project function, or a module-level name that is no function of ours
        // (`call_later = threaded_listener_factory(…)`), is not a method; a name a
        // proxy's `__getattr__` answers is some other object's method
        // (`proxy.run_in_executor(None, work)`), matched as one.
        by_name,
        chain: call.receiver_chain.to_vec(),
    }
}

pub fn resolve_call(program: &Program, file: FileId, callee: &Callee) -> CallTarget {
    let rust = program.files[file].language == Language::Rust;
    match callee {
        Callee::Method(method) => match program.rust_method(file, method).filter(|_| rust) {
            Some(function) => CallTarget::Function(function),
            None => CallTarget::Method(method.clone()),
        },
        Callee::Path(path) => {
            if let Some(function) = program.rust_function(path).filter(|_| rust) {
                return CallTarget::Function(function);
            }
            let resolved = program.resolve(file, path);
            if resolved.residual > 0 {
                let method = path.rsplit('.').next().unwrap_or(path);
                return CallTarget::Method(method.to_string());
            }
            match resolved.target {
                Target::Function(f) => CallTarget::Function(f),
                Target::Class(class) => match constructor(program, class) {
                    Some(init) => CallTarget::Function(init),
                    None => CallTarget::Unknown,
                },
                Target::External(path) => CallTarget::External(path),
                // Calling a module's object runs its class's `__call__` (`LIMIT()`); a
                // holder's read (`CURRENT.get()`, resolved to the value) calls nothing.
                Target::Global {
                    file: home,
                    ty: Some(ty),
                    name,
                } if name != ELEMENT => match program
                    .class_of_value(home, &ty)
                    .and_then(|class| program.method(class, "__call__"))
                {
                    Some(call) => CallTarget::Function(call),
                    None => CallTarget::Unknown,
                },
                _ => CallTarget::Unknown,
            }
        }
    }
}

/// What calling a class runs: `__init__`, or `__new__` when the class only customises
/// that (a singleton's check-then-create lives there). A class with both is followed
/// into `__init__` alone: a call has one target here.
fn constructor(program: &Program, class: usize) -> Option<FuncId> {
    program
        .method(class, "__init__")
        .or_else(|| program.method(class, "__new__"))
}

/// The project function an argument passes as a callable; `async def` targets are
/// dropped, as they run on the event loop whoever schedules them.
pub(super) fn callable_target(program: &Program, file: FileId, arg: &Arg) -> Option<FuncId> {
    let target = match arg {
        Arg::Inline(index) => Some(program.function_id(file, *index)),
        Arg::Callable(callee) => match resolve_call(program, file, callee) {
            CallTarget::Function(f) => Some(f),
            _ => None,
        },
        _ => None,
    };
    target.filter(|&f| !program.function(f).is_async)
}

/// The first decorator that is a method of one of `kinds`' types (`@app.get(...)` on a
/// `FastAPI` instance).
/// Whether `function` is decorated with one of `paths` (canonical).
fn decorated_by(program: &Program, function: FuncId, paths: &[String]) -> bool {
    let file = program.file_of(function);
    !paths.is_empty()
        && program
            .function(function)
            .decorators
            .iter()
            .any(|decorator| {
                let path = match resolve_call(program, file, &decorator.callee) {
                    CallTarget::Function(f) => program.function(f).path.clone(),
                    CallTarget::External(path) => path,
                    _ => return false,
                };
                paths.contains(&path)
            })
}

/// The decorator that makes `function` a command-line command: one of `commands`
/// (`@click.command()`), or a command method of a project function that is itself a
/// command group (`@cli.command()` where `cli` is decorated `@click.group()`).
fn cli_command<'a>(
    program: &Program,
    file: FileId,
    function: &'a crate::model::Function,
    commands: &[Route],
) -> Option<&'a CallSite> {
    if let Some(decorator) = decorator_of(program, file, &function.decorators, commands) {
        return Some(decorator);
    }
    function.decorators.iter().find(|decorator| {
        let Callee::Path(path) = &decorator.callee else {
            return false;
        };
        let Some((group, method)) = path.rsplit_once('.') else {
            return false;
        };
        if !commands
            .iter()
            .any(|c| c.methods.iter().any(|m| m == method))
        {
            return false;
        }
        let resolved = program.resolve(file, group);
        let Target::Function(group) = resolved.target else {
            return false;
        };
        resolved.residual == 0 && {
            let group_file = program.file_of(group);
            decorator_of(
                program,
                group_file,
                &program.function(group).decorators,
                commands,
            )
            .is_some()
        }
    })
}

fn decorator_of<'a>(
    program: &Program,
    file: FileId,
    decorators: &'a [CallSite],
    kinds: &[Route],
) -> Option<&'a CallSite> {
    decorators.iter().find(|decorator| {
        let CallTarget::External(path) = resolve_call(program, file, &decorator.callee) else {
            return false;
        };
        kinds.iter().any(|route| {
            route.types.iter().any(|ty| {
                path.strip_prefix(ty.as_str())
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|method| route.methods.iter().any(|m| m == method))
            })
        })
    })
}

fn thread_class_entries(
    program: &Program,
    catalogue: &Catalogue,
    targets: &[Vec<CallTarget>],
) -> Vec<EntryPoint> {
    let mut entries = Vec::new();
    let ancestors: Vec<Vec<String>> = (0..program.classes.len())
        .map(|class| program.ancestors(class))
        .collect();
    for thread_class in &catalogue.thread_class {
        let served = concurrently_served(
            program,
            targets,
            &ancestors,
            &thread_class.concurrent_servers,
        );
        for (class, ancestors) in ancestors.iter().enumerate() {
            let Some(base) = thread_class
                .bases
                .iter()
                .find(|b| ancestors.iter().any(|a| ThreadClass::names(b, a)))
            else {
                continue;
            };
            let model = program.class(class);
            let file = program.class_file(class);
            // Only the subclass's own overrides: the library's base methods are not ours.
            // `*`: every public sync method the class defines (a generated gRPC
            // servicer's base names the service's calls, which racelint does not see).
            let runs: Vec<FuncId> = match thread_class.methods.as_slice() {
                [all] if all == "*" => model
                    .methods
                    .iter()
                    .map(|(_, index)| program.function_id(file, *index))
                    .filter(|&f| {
                        let function = program.function(f);
                        !function.is_async && !function.name.starts_with('_')
                    })
                    .collect(),
                methods => methods
                    .iter()
                    .filter_map(|method| program.method(class, method))
                    .filter(|&f| program.function(f).class.as_deref() == Some(&model.path))
                    .collect(),
            };
            for run in runs {
                entries.push(EntryPoint {
                    site: Some(Site {
                        file,
                        span: model.span,
                        text: format!("class {}({base})", model.name),
                        caller: None,
                        prose: false,
                    }),
                    concurrent: thread_class.concurrent || served.contains(&class),
                    fresh_receiver: thread_class.fresh_instance,
                    holds: thread_class.holds.clone(),
                    ..EntryPoint::new(Context::WorkerThread, run, None)
                });
            }
        }
    }
    entries
}

/// Callbacks kept in a library object's attributes and called on the thread one of its
/// methods starts (`[[callback-attributes]]`: `client.on_message = f` …
/// `client.loop_start()`): each callable stored in such an attribute of a receiver that
/// the program starts that thread on, with the starting call as its site. Receivers are
/// matched by the path written: a location (`self._client`, a module's `CLIENT`)
/// anywhere, a typed parameter only within one function (its path is its class's, which every
/// local of that class shares).
fn callback_attribute_entries(
    program: &Program,
    catalogue: &Catalogue,
    targets: &[Vec<CallTarget>],
) -> Vec<EntryPoint> {
    let specs = &catalogue.callback_attributes;
    if specs.is_empty() {
        return Vec::new();
    }
    let of_types = |target: &CallTarget, method: &str, types: &[String]| match target {
        CallTarget::External(path) => types
            .iter()
            .any(|t| path.strip_prefix(t.as_str()) == Some(&format!(".{method}"))),
        CallTarget::Function(f) => program.class_of_method(*f).is_some_and(|class| {
            let path = &program.class(class).path;
            let ancestors = program.ancestors(class);
            types
                .iter()
                .any(|t| t == path || ancestors.iter().any(|a| a == t))
        }),
        _ => false,
    };
    // (spec, receiver written, starting function, site) of each starting call.
    let mut starts: Vec<(usize, &str, FuncId, Site)> = Vec::new();
    for (id, targets) in targets.iter().enumerate() {
        let file = program.file_of(id);
        for (call, target) in program.function(id).calls.iter().zip(targets) {
            let Callee::Path(path) = &call.callee else {
                continue;
            };
            let Some((receiver, method)) = path.rsplit_once('.') else {
                continue;
            };
            for (k, spec) in specs.iter().enumerate() {
                if spec.started_by.iter().any(|m| m == method)
                    && of_types(target, method, &spec.types)
                {
                    let site = Site {
                        file,
                        span: call.span,
                        text: call.text.clone(),
                        caller: Some(id),
                        prose: false,
                    };
                    starts.push((k, receiver, id, site));
                }
            }
        }
    }
    let mut entries = Vec::new();
    if starts.is_empty() {
        return entries;
    }
    for id in 0..program.functions.len() {
        let file = program.file_of(id);
        for (path, value) in &program.function(id).stored_callables {
            let Some((receiver, attribute)) = path.rsplit_once('.') else {
                continue;
            };
            let Some(target) = callable_target(program, file, value) else {
                continue;
            };
            let location = || {
                let resolved = program.resolve(file, receiver);
                resolved.residual == 0
                    && matches!(
                        resolved.target,
                        Target::Global { .. } | Target::Attribute { .. }
                    )
            };
            for (k, started_on, starter, site) in &starts {
                if specs[*k].attributes.iter().any(|a| a == attribute)
                    && *started_on == receiver
                    && (*starter == id || location())
                {
                    entries.push(EntryPoint::new(
                        Context::WorkerThread,
                        target,
                        Some(site.clone()),
                    ));
                }
            }
        }
    }
    entries
}

/// The project classes a threading server serves: passed as the handler class (the
/// second argument, or `RequestHandlerClass=`) to the constructor of one of `servers`
/// or of a project class deriving from one, with their project bases, whose methods
/// those requests run too.
fn concurrently_served(
    program: &Program,
    targets: &[Vec<CallTarget>],
    ancestors: &[Vec<String>],
    servers: &[String],
) -> HashSet<ClassId> {
    let mut served = HashSet::new();
    if servers.is_empty() {
        return served;
    }
    // Only a call named like one of these servers, or like a project class deriving
    // from one, is worth resolving.
    let mut names: HashSet<&str> = servers
        .iter()
        .map(|s| s.rsplit('.').next().unwrap_or(s))
        .collect();
    for (class, ancestors) in ancestors.iter().enumerate() {
        if servers.iter().any(|s| ancestors.contains(s)) {
            names.insert(program.class(class).name.as_str());
        }
    }
    // The calls naming one, found on all cores.
    let candidates: Vec<(FuncId, usize)> = targets
        .par_iter()
        .enumerate()
        .flat_map_iter(|(id, _)| {
            let names = &names;
            program
                .function(id)
                .calls
                .iter()
                .enumerate()
                .filter(move |(_, call)| match &call.callee {
                    Callee::Path(written) => {
                        names.contains(written.rsplit('.').next().unwrap_or(written))
                    }
                    Callee::Method(_) => false,
                })
                .map(move |(index, _)| (id, index))
        })
        .collect();
    for (id, index) in candidates {
        let file = program.file_of(id);
        let call = &program.function(id).calls[index];
        let target = &targets[id][index];
        let threading = match (target, &call.callee) {
            (CallTarget::External(path), _) => servers.contains(path),
            (_, Callee::Path(path)) => match program.resolve(file, path).target {
                Target::Class(class) => servers.iter().any(|s| ancestors[class].contains(s)),
                _ => false,
            },
            _ => false,
        };
        if !threading {
            continue;
        }
        let handler = call.args.get(1).or_else(|| {
            call.keywords
                .iter()
                .find(|(k, _)| k == "RequestHandlerClass")
                .map(|(_, a)| a)
        });
        let Some(Arg::Callable(Callee::Path(path))) = handler else {
            continue;
        };
        if let Target::Class(class) = program.resolve(file, path).target {
            let mut stack = vec![class];
            while let Some(class) = stack.pop() {
                if served.insert(class) {
                    stack.extend(program.base_classes(class));
                }
            }
        }
    }
    served
}

/// Which coroutine calls a propagation follows.
#[derive(Clone, Copy)]
enum Coroutines<'a> {
    /// A thread does not run the coroutines it creates: the loop does.
    Never,
    /// A coroutine awaiting another runs it as part of the same task.
    Always,
    /// A thread runs a coroutine on a loop of its own when it passes it to a loop
    /// runner (`asyncio.run(main())`, listed as `(caller, coroutine)`), and then every
    /// coroutine that one awaits.
    PrivateLoops(&'a HashSet<(FuncId, FuncId)>),
}

/// Breadth-first from every entry point into the functions it calls (coroutines as
/// `coroutines` says), so each recorded path is a shortest one.
/// `barrier`: functions a run in these contexts does not enter (loop-only ones, on a
/// worker thread: the call raises). `off_loop`: the contexts are off the event loop's
/// thread, so calls in branches only its thread takes (`CallSite::on_loop_thread`)
/// are not followed.
fn propagate(
    program: &Program,
    entries: &[EntryPoint],
    callees: &[Vec<(FuncId, usize)>],
    select: impl Fn(&EntryPoint) -> bool,
    coroutines: Coroutines,
    barrier: &[bool],
    off_loop: bool,
) -> Vec<Option<Reach>> {
    let mut reach = vec![None; program.functions.len()];
    let mut queue = VecDeque::new();
    for (index, entry) in entries.iter().enumerate() {
        if select(entry) && reach[entry.target].is_none() && !barrier[entry.target] {
            reach[entry.target] = Some(Reach {
                entry: index,
                via: None,
                constructing: false,
            });
            queue.push_back(entry.target);
        }
    }
    while let Some(function) = queue.pop_front() {
        let Some(Reach {
            entry,
            constructing,
            ..
        }) = reach[function]
        else {
            continue;
        };
        for &(callee, call) in &callees[function] {
            let site = &program.function(function).calls[call];
            // Still on the object under construction: a constructor's call of its own
            // class's method, or, from such a method, a call on `self`.
            let building = match constructing {
                false => constructs_self(program, function, site, callee),
                true => {
                    site.on_own_receiver() && !program.function(callee).is_class_or_static_method()
                }
            };
            // A function reached only under construction is reached again, for all it
            // does, by a path that is not.
            let known = reach[callee].is_some_and(|r| building || !r.constructing);
            if known || barrier[callee] || (off_loop && site.on_loop_thread) {
                continue;
            }
            let follows = match coroutines {
                Coroutines::Never => false,
                Coroutines::Always => true,
                Coroutines::PrivateLoops(runs) => on_private_loop(program, runs, function, callee),
            };
            if program.function(callee).is_async && !follows {
                continue;
            }
            reach[callee] = Some(Reach {
                entry,
                via: Some((function, call)),
                constructing: building,
            });
            queue.push_back(callee);
        }
    }
    reach
}

/// Whether a worker thread running `function` runs the coroutine `callee` on its own
/// loop: `function` passes it to a loop runner, or is itself such a coroutine.
fn on_private_loop(
    program: &Program,
    runs: &HashSet<(FuncId, FuncId)>,
    function: FuncId,
    callee: FuncId,
) -> bool {
    program.function(function).is_async || runs.contains(&(function, callee))
}

/// Coroutines that run only on worker threads' private loops: reached on a worker
/// thread, and called only by a loop runner on a worker or by other such coroutines
/// (a greatest fixpoint). No main-loop code awaits them.
fn private_loop_only(
    program: &Program,
    worker: &[Option<Reach>],
    callers: &[Vec<(FuncId, usize)>],
    runs: &HashSet<(FuncId, FuncId)>,
    submitted: &HashSet<(FuncId, FuncId)>,
) -> Vec<bool> {
    let mut only: Vec<bool> = (0..program.functions.len())
        .map(|f| program.function(f).is_async && worker[f].is_some() && !callers[f].is_empty())
        .collect();
    loop {
        let mut changed = false;
        for f in 0..only.len() {
            if only[f]
                && !callers[f].iter().all(|&(caller, _)| {
                    only[caller]
                        || (runs.contains(&(caller, f)) && worker[caller].is_some())
                        || submitted.contains(&(caller, f))
                })
            {
                only[f] = false;
                changed = true;
            }
        }
        if !changed {
            return only;
        }
    }
}

/// Every `async def` is taken to run on the main event loop, except those only a
/// worker's private loop runs.
fn drop_main_loop_entries(entries: &mut Vec<EntryPoint>, only: &[bool]) {
    entries.retain(|e| !(e.context == Context::EventLoop && e.site.is_none() && only[e.target]));
}

/// A closure runs as part of the function it is written in (the front-end records a call
/// from the parent), unless that function hands it off: then it runs where it is handed.
fn detach_handed_off_closures(
    program: &Program,
    entries: &[EntryPoint],
    callees: &mut [Vec<(FuncId, usize)>],
    callers: &mut [Vec<(FuncId, usize)>],
) {
    for entry in entries {
        let Some(caller) = entry.site.as_ref().and_then(|s| s.caller) else {
            continue;
        };
        let target = entry.target;
        // A Python nested function runs where it is called: only a Rust closure runs
        // as part of the function it is written in.
        if program.files[program.file_of(target)].language != Language::Rust {
            continue;
        }
        let parent = program
            .function(target)
            .parent
            .map(|p| program.function_id(program.file_of(target), p));
        if parent == Some(caller) {
            callees[caller].retain(|&(callee, _)| callee != target);
            callers[target].retain(|&(from, _)| from != caller);
        }
    }
}

/// What one function contributes to the call graph and the entry points.
#[derive(Default)]
struct FunctionFacts {
    /// `(callee, call index)`, with the overrides a call on `self` may run.
    callees: Vec<(FuncId, usize)>,
    entries: Vec<EntryPoint>,
    task_entries: Vec<EntryPoint>,
    request_entries: Vec<EntryPoint>,
    /// Functions an application runs at start-up.
    startup: Vec<FuncId>,
    /// `(caller, coroutine)` for the coroutines it runs on a loop of its own.
    runs: Vec<(FuncId, FuncId)>,
    /// Calls (indices) that run a callable kept in a location.
    through_location: Vec<usize>,
    /// `(call index, callee)`: methods run on an object kept in a location.
    through_holder: Vec<(usize, FuncId)>,
    /// `(call index, invocation)`: functions the call is given and runs right there.
    invoked: Vec<(usize, Invocation)>,
    /// The external paths of library callables handed to worker threads, with the
    /// handoffs.
    offloaded: Vec<(String, Site)>,
    /// The external paths of the library calls it awaits.
    awaited: Vec<String>,
    /// Project callables given to external APIs by calls that hand nothing over, and
    /// those handed over along with an offloaded library callable.
    given: Vec<Given>,
}

/// What every call means, resolved once for all functions.
struct Resolved<'a> {
    /// `targets[function][call]`.
    targets: &'a [Vec<CallTarget>],
    forwards: &'a Forwards,
    invoked: &'a Invoked,
    stored: &'a StoredCallables,
    protocols: &'a ProtocolModules,
}

fn function_facts(
    program: &Program,
    catalogue: &Catalogue,
    resolved: &Resolved,
    dispatch: &mut Dispatch,
    id: FuncId,
) -> FunctionFacts {
    let Resolved {
        targets,
        forwards,
        invoked,
        stored,
        protocols,
    } = *resolved;
    let mut facts = FunctionFacts::default();
    let function = program.function(id);
    let file = program.file_of(id);
    let tasks = match program.files[file].language {
        Language::Python => &catalogue.tasks,
        Language::Rust => &catalogue.rust.tasks,
    };
    if let Some(declared) = function.declared_context {
        facts.entries.push(EntryPoint::new(
            match declared {
                DeclaredContext::WorkerThread => Context::WorkerThread,
                DeclaredContext::EventLoop => Context::EventLoop,
            },
            id,
            Some(Site {
                file,
                span: function.span,
                text: format!(
                    "# racelint: {} on `{}`",
                    match declared {
                        DeclaredContext::WorkerThread => "worker-thread",
                        DeclaredContext::EventLoop => "event-loop",
                    },
                    function.display
                ),
                caller: None,
                prose: true,
            }),
        ));
    }
    let root = match &function.console_script {
        Some(command) => Some((format!("console script `{command}`"), true)),
        None if function.program_root => Some(("if __name__ == \"__main__\"".to_string(), false)),
        None => cli_command(program, file, function, &catalogue.cli_commands)
            .map(|decorator| (format!("command-line command `{}`", decorator.text), true)),
    };
    if let Some((text, prose)) = root {
        facts.entries.push(EntryPoint::new(
            Context::MainThread,
            id,
            Some(Site {
                file,
                span: function.span,
                text,
                caller: None,
                prose,
            }),
        ));
    }
    if function.is_async {
        facts
            .entries
            .push(EntryPoint::new(Context::EventLoop, id, None));
    }
    for (index, (call, target)) in function.calls.iter().zip(&targets[id]).enumerate() {
        // `self.backend.write(line)` runs the `write` of each class whose objects the
        // program keeps in `self.backend`.
        let held = match (&call.callee, call.property) {
            (Callee::Path(path), None) => stored.dispatched(program, file, path),
            _ => Vec::new(),
        };
        match (target, &call.callee) {
            (&CallTarget::Function(callee), _) => {
                facts.callees.push((callee, index));
                // `self.refresh()` may run a subclass's override; `super().refresh()`
                // runs the base's own.
                let through_super = matches!(&call.callee, Callee::Path(p) if through_super(p));
                if call.on_own_receiver() && !through_super {
                    for over in dispatch.overrides(program, callee, id) {
                        facts.callees.push((over, index));
                    }
                }
            }
            // A call through a location that holds callables (`self._on_done(r)`).
            (_, Callee::Path(path)) if call.property.is_none() => {
                let called = stored.called(program, file, path);
                let made = stored.called_results(program, file, path);
                if !called.is_empty() || !made.is_empty() {
                    facts.through_location.push(index);
                }
                facts
                    .callees
                    .extend(called.iter().chain(&made).map(|&callee| (callee, index)));
            }
            _ => {}
        }
        for callee in held {
            if !matches!(target, &CallTarget::Function(f) if f == callee) {
                facts.callees.push((callee, index));
                facts.through_holder.push((index, callee));
            }
        }
        if call.property.is_some() {
            // A getter run by reading an attribute: no API to match.
            continue;
        }
        for invocation in invoked.callables(program, file, call, target) {
            facts.callees.push((invocation.function, index));
            facts.invoked.push((index, invocation));
        }
        let api = api_call(program, call, target);
        if tasks.matches(&api) {
            facts
                .task_entries
                .extend(launched_tasks(program, file, id, call));
        }
        for hook in catalogue.startup.iter().filter(|h| h.matches(&api)) {
            let passed = hook
                .keyword
                .as_ref()
                .and_then(|k| call.keywords.iter().find(|(name, _)| name == k))
                .map(|(_, a)| a)
                .or_else(|| hook.arg.and_then(|i| call.args.get(i)));
            if let Some(Arg::Callable(callee)) = passed {
                if let CallTarget::Function(f) = resolve_call(program, file, callee) {
                    facts.startup.push(f);
                }
            }
        }
        if program.files[file].language == Language::Python && catalogue.loop_runners.matches(&api)
        {
            facts.runs.extend(
                launched_tasks(program, file, id, call)
                    .into_iter()
                    .map(|e| (id, e.target)),
            );
        }
        let handovers = forwards.handovers(program, catalogue, id, &api, target);
        let python = program.files[file].language == Language::Python;
        // A base's constructor (`super().__init__(on_data=self._on_data)`) keeps the
        // callables on the project's own object, whose methods call them wherever
        // the object's methods run: no thread of the library's.
        // An awaited call is a coroutine's: an asyncio API, which calls back on a loop.
        let own_base = matches!(&call.callee, Callee::Path(path) if through_super(path));
        let library_call = handovers.is_empty() && !own_base && !call.awaited;
        let site = || Site {
            file,
            span: call.span,
            text: call.text.clone(),
            caller: Some(id),
            prose: false,
        };
        if let (true, CallTarget::External(api)) = (python, target) {
            if call.awaited {
                facts.awaited.push(api.clone());
            }
            if library_call {
                let arguments = call.args.iter().chain(call.keywords.iter().map(|(_, a)| a));
                facts
                    .given
                    .extend(library_threads::given(program, file, api, arguments, site));
            }
        }
        for handover in handovers {
            let Some(arg) = handover.argument(call) else {
                continue;
            };
            // Only a handoff that runs whatever it is given on a worker says the callable
            // blocks; one that decides by the callable's kind (a plain function in the
            // executor, an `@callback` on the loop) says nothing of a library's.
            let explicit = handover.context == Context::WorkerThread
                && handover.loop_if_decorated.is_empty()
                && !handover.loop_if_async;
            if let (true, true, Arg::Callable(callee)) = (python, explicit, arg) {
                if let CallTarget::External(path) = resolve_call(program, file, callee) {
                    // What the handoff passes the library's callable it may call back
                    // (`run_in_executor(None, panel.process, self._changed)`).
                    let passed = handover.passed_arguments(call);
                    let keywords = handover.passed_keywords(call);
                    let arguments = passed.iter().chain(keywords.iter().map(|(_, a)| a));
                    facts.given.extend(library_threads::given(
                        program, file, &path, arguments, site,
                    ));
                    facts.offloaded.push((path, site()));
                }
            }
            let mut started = Vec::new();
            if let Some(first) = callable_target(program, file, arg) {
                started.push(first);
                // `to_thread(platform.setup, …)` with `platform: PluginModule`.
                started.extend_from_slice(protocols.implementing(first));
                // `to_thread(self.update)` may run a subclass's override.
                if call.hands_own_method(&program.function(first).name) {
                    started.extend(dispatch.overrides(program, first, id));
                }
            } else {
                started.extend(stored.passed(program, file, arg));
            }
            for target in started {
                let on_loop = decorated_by(program, target, &handover.loop_if_decorated)
                    || (handover.loop_if_async && program.function(target).is_async);
                let context = match on_loop {
                    true => Context::EventLoop,
                    false => handover.context,
                };
                let site = Site {
                    file,
                    span: call.span,
                    text: call.text.clone(),
                    caller: Some(id),
                    prose: false,
                };
                facts.entries.push(EntryPoint {
                    concurrent: context == Context::WorkerThread
                        && (handover.concurrent || (call.in_loop && !call.awaited)),
                    awaited: call.awaited && handover.waits,
                    forwarded_from: handover.forwarded_from(call),
                    arguments: handover.passed_arguments(call).to_vec(),
                    keywords: handover.passed_keywords(call),
                    started_by: handover
                        .started_by
                        .clone()
                        .filter(|_| call.kept_in.is_some()),
                    ..EntryPoint::new(context, target, Some(site))
                });
            }
        }
    }
    if decorator_of(
        program,
        file,
        &function.decorators,
        &catalogue.startup_decorators,
    )
    .is_some()
    {
        facts.startup.push(id);
    }
    if let Some(route) = decorator_of(program, file, &function.decorators, &catalogue.route) {
        // A sync route runs in the framework's thread pool.
        let context = if function.is_async {
            Context::EventLoop
        } else {
            Context::WorkerThread
        };
        let site = Site {
            file,
            span: route.span,
            text: route.text.clone(),
            // A route defined in a function's body is registered when that
            // body reaches the `def`.
            caller: enclosing_function(program, file, function),
            prose: false,
        };
        let entry = EntryPoint {
            // Requests are served in parallel: one task, or one pool thread,
            // per request.
            concurrent: true,
            registered: true,
            ..EntryPoint::new(context, id, Some(site))
        };
        // An async route is a coroutine entry already; it only tells that
        // its runs overlap.
        match function.is_async {
            true => facts.request_entries.push(entry),
            false => facts.entries.push(entry),
        }
    }
    facts
}

/// The function whose body defines `function`, when it is a nested `def`.
fn enclosing_function(
    program: &Program,
    file: FileId,
    function: &crate::model::Function,
) -> Option<FuncId> {
    if !function.nested {
        return None;
    }
    let (outer, _) = function.path.rsplit_once('.')?;
    match program.resolve(file, outer) {
        super::resolve::Resolved {
            target: Target::Function(f),
            residual: 0,
        } => Some(f),
        _ => None,
    }
}

/// A function handed to worker threads at two or more places can run on two threads at
/// once.
fn mark_repeated_handoffs(entries: &mut [EntryPoint]) {
    // Distinct call sites: one call can match two catalogue entries (a path and a
    // method name), which is still one thread.
    let mut sites: std::collections::HashMap<FuncId, std::collections::HashSet<(FileId, usize)>> =
        std::collections::HashMap::new();
    for entry in entries
        .iter()
        .filter(|e| e.context == Context::WorkerThread)
    {
        if let Some(site) = &entry.site {
            sites
                .entry(entry.target)
                .or_default()
                .insert((site.file, site.span.offset));
        }
    }
    for entry in entries.iter_mut() {
        if entry.context == Context::WorkerThread
            && !entry.concurrent
            && sites.get(&entry.target).is_some_and(|s| s.len() > 1)
        {
            entry.concurrent = true;
            entry.concurrent_elsewhere = true;
        }
    }
}

/// The coroutine functions a `gather`/`create_task` call launches.
fn launched_tasks(
    program: &Program,
    file: FileId,
    caller: FuncId,
    call: &CallSite,
) -> Vec<EntryPoint> {
    call.args
        .iter()
        .chain(call.keywords.iter().map(|(_, a)| a))
        .filter_map(|arg| match arg {
            Arg::Coroutine(callee) => match resolve_call(program, file, callee) {
                CallTarget::Function(f) if program.function(f).is_async => Some(f),
                _ => None,
            },
            _ => None,
        })
        .map(|target| EntryPoint {
            site: Some(Site {
                file,
                span: call.span,
                text: call.text.clone(),
                caller: Some(caller),
                prose: false,
            }),
            concurrent: true,
            ..EntryPoint::new(Context::EventLoop, target, None)
        })
        .collect()
}

/// `__init__` calling a method of its own class on `self` (`self.reset()`,
/// `super().__init__()`): that call works on an object nobody else holds yet, so what
/// the method does through `self` is initialisation (`Reach::constructing`). Not a
/// class or static method, whose first parameter is no object under construction, nor
/// a `__new__`, which may hand back an object that exists already. A constructor that
/// lets `self` escape before such a call (starts a thread on it) is not told apart: a
/// known limit, as racelint takes every constructor's own accesses to `self`.
pub fn constructs_self(program: &Program, caller: FuncId, call: &CallSite, callee: FuncId) -> bool {
    let caller_model = program.function(caller);
    let callee_model = program.function(callee);
    if !caller_model.is_initializer
        || !matches!(caller_model.name.as_str(), "__init__" | "__post_init__")
        || !call.on_own_receiver()
        || callee_model.is_class_or_static_method()
    {
        return false;
    }
    let (Some(own), Some(target)) = (&caller_model.class, &callee_model.class) else {
        return false;
    };
    if own == target {
        return true;
    }
    program
        .class_of_type(program.file_of(caller), own)
        .is_some_and(|class| program.ancestors(class).contains(target))
}

/// A call made while the program initialises, before anything runs beside it:
/// import-time module code (up to a script's first thread start). A constructor's call
/// of its own class's method is no such call: constructors run whenever an object is
/// built, and only what the method does through `self` is initialisation
/// (`Reach::constructing`).
fn initialises(
    program: &Program,
    caller: FuncId,
    call: usize,
    script_from: &[Option<usize>],
) -> bool {
    let model = program.function(caller);
    let after_start = script_from[caller].is_some_and(|at| model.calls[call].span.offset > at);
    model.is_initializer && model.class.is_none() && !after_start
}

/// Module code that starts a worker thread itself (`threading.Thread(target=watch)
/// .start()` at the top level of a script) goes on running beside it on the importing
/// thread, the main thread of a script: such module code is a main-thread entry, and
/// what it does after the start is no initialisation. The start is a module-level
/// `.start()` at or after a module-level worker handoff (building a thread, or wrapping
/// a function with `sync_to_async`, starts nothing). Calls made before it carry no
/// context (their edges are dropped from `callees`). Returns, per function, the
/// start's offset.
fn script_code(
    program: &Program,
    entries: &mut Vec<EntryPoint>,
    callees: &mut [Vec<(FuncId, usize)>],
) -> Vec<Option<usize>> {
    let mut handoff: Vec<Option<Site>> = vec![None; program.functions.len()];
    for entry in entries.iter() {
        let Some(site) = &entry.site else { continue };
        let Some(caller) = site.caller else { continue };
        let model = program.function(caller);
        if entry.context != Context::WorkerThread
            || !(model.is_initializer && model.class.is_none())
            || program.files[site.file].language != Language::Python
            || handoff[caller]
                .as_ref()
                .is_some_and(|first| first.span.offset <= site.span.offset)
        {
            continue;
        }
        handoff[caller] = Some(site.clone());
    }
    let mut script_from = vec![None; program.functions.len()];
    for (module, site) in handoff.into_iter().enumerate() {
        let Some(site) = site else { continue };
        let calls = &program.function(module).calls;
        let Some(start) = calls.iter().find(|call| {
            call.span.offset >= site.span.offset
                && matches!(&call.callee, Callee::Path(p) if p.rsplit('.').next() == Some("start"))
        }) else {
            continue;
        };
        let at = start.span.offset;
        script_from[module] = Some(at);
        callees[module].retain(|&(_, call)| calls[call].span.offset > at);
        entries.push(EntryPoint::new(
            Context::MainThread,
            module,
            Some(Site {
                text: format!("module code goes on after `{}`", site.text),
                caller: None,
                prose: true,
                ..site
            }),
        ));
    }
    script_from
}

/// Greatest fixpoint: a function is construction-only when it is no entry point, has
/// callers, and every call to it initialises (see `initialises`) or comes from a
/// construction-only function. An application's start-up hooks (`startup`) are
/// construction-only themselves: they run before any request is served.
fn init_only(
    program: &Program,
    is_entry: &[bool],
    callers: &[Vec<(FuncId, usize)>],
    startup: &[FuncId],
    script_from: &[Option<usize>],
) -> Vec<bool> {
    let mut root = vec![false; program.functions.len()];
    for &f in startup {
        root[f] = true;
    }
    let mut result: Vec<bool> = (0..program.functions.len())
        .map(|f| root[f] || (!callers[f].is_empty() && !is_entry[f]))
        .collect();
    loop {
        let mut changed = false;
        for f in 0..result.len() {
            if result[f]
                && !root[f]
                && !callers[f].iter().all(|&(caller, call)| {
                    initialises(program, caller, call, script_from) || result[caller]
                })
            {
                result[f] = false;
                changed = true;
            }
        }
        if !changed {
            return result;
        }
    }
}

/// How often each function is passed as a callable value (`passed_callables`), and once
/// more when some location keeps it; and the same without what code that runs `alone`
/// passes (`Contexts::package_passes`).
fn count_passes(
    program: &Program,
    stored: &StoredCallables,
    passed: &[Vec<FuncId>],
    alone: &[bool],
) -> (Vec<usize>, Vec<usize>) {
    let mut passes: Vec<usize> = (0..program.functions.len())
        .map(|f| usize::from(stored.keeps(f)))
        .collect();
    let counts = |from: FuncId| !alone[from];
    let mut package_passes: Vec<usize> = (0..program.functions.len())
        .map(|f| usize::from(stored.keepers(f).iter().any(|&by| counts(by))))
        .collect();
    for (from, targets) in passed.iter().enumerate() {
        let counted = counts(from);
        for &target in targets {
            passes[target] += 1;
            package_passes[target] += usize::from(counted);
        }
    }
    (passes, package_passes)
}

/// Per function: the project functions it passes as callable values (a property's
/// getter never is), once per pass. A pass to a call that runs the function right
/// there (`retry(refresh)`: `invoked`, which leaves out helpers that also keep it) is
/// a call of it, an edge of the call graph, not a value let loose.
fn passed_callables(
    program: &Program,
    invoked: &HashMap<(FuncId, usize, FuncId), Invocation>,
) -> Vec<Vec<FuncId>> {
    // Resolving each passed name is the cost: all cores, collected in order.
    (0..program.functions.len())
        .into_par_iter()
        .map(|f| {
            let file = program.file_of(f);
            if program.files[file].language != Language::Python {
                return Vec::new();
            }
            let model = program.function(f);
            // Decorators are no calls of the body: their indices are none of `calls`'.
            let decorators = model.decorators.iter().map(|call| (None, call));
            model
                .calls
                .iter()
                .enumerate()
                .map(|(index, call)| (Some(index), call))
                .chain(decorators)
                .flat_map(|(index, call)| {
                    call.args
                        .iter()
                        .chain(call.keywords.iter().map(|(_, a)| a))
                        .map(move |arg| (index, arg))
                })
                .filter_map(|(index, arg)| match arg {
                    Arg::Callable(callee) => match resolve_call(program, file, callee) {
                        // A property named as a value is read (a call site of its
                        // own), not passed.
                        CallTarget::Function(target)
                            if !program.function(target).is_property()
                                && !index
                                    .is_some_and(|i| invoked.contains_key(&(f, i, target))) =>
                        {
                            Some(target)
                        }
                        _ => None,
                    },
                    _ => None,
                })
                .collect()
        })
        .collect()
}
