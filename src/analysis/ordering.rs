//! Happens-before between the event loop and the worker threads it starts.
//!
//! Two accesses in different contexts cannot race when one is ordered before the other.
//! The orderings modelled here are the ones a coroutine creates around a handoff it
//! makes itself:
//!
//! - everything the starter did before the handoff call (`to_thread`, `submit`,
//!   `run_in_executor`, `Thread(...)`) is visible to the worker: those writes are
//!   publication, not races;
//! - when the starter *awaits* the handoff (`await asyncio.to_thread(f)`,
//!   `await loop.run_in_executor(None, f)`), the worker has finished before the
//!   starter's following accesses run; so it has once the starter awaits the
//!   handoff's result kept in a local (`fut = loop.run_in_executor(None, f)` …
//!   `await fut`): what the starter does in between runs beside the worker.
//!
//! A synchronous starter that then waits (`t.join()`, `future.result()`,
//! `executor.shutdown()`) orders the worker before what follows the wait, as it
//! orders what preceded the handoff, since the waiting function's runs cannot overlap
//! each other's workers. On a script's main thread the order reaches up the single
//! chain of calls from a root that runs once (a `__main__` block, a console script)
//! to the starter: what the root and each function on the chain do before the call
//! that continues it comes before the worker (`spine`).
//!
//! For a coroutine, both hold for one run of the coroutine; a second run's accesses
//! meet the first run's worker only if two runs can be in progress at once. That
//! assumes a worker the run does not await is done before the next run reaches its
//! handoff, which is not always so (a periodic update that fires off its worker); it
//! is kept because such coroutines run once per object far more often: ordering only
//! each run's own objects before an unawaited handoff added 9 findings on the
//! applications corpus, all set-up that runs once per object (an entity's
//! `async_added_to_hass` calling `_process_config` before registering it as a
//! dispatcher target, a waiter's `wait`, a client's `start_channels`). They can
//! when the program launches the coroutine as a concurrent task or serves requests
//! with it (`Contexts::overlapping_runs`), and for a module-level coroutine, which any
//! number of tasks may call. A method a framework calls once per event (an update
//! method, a flow step) runs sequentially on its object, which orders the accesses to
//! that object's own attributes; module state and other objects are shared with runs
//! on other objects. Otherwise only an `asyncio.Lock` held at the handoff and at the
//! loop-side access serialises the runs. The ordering also needs the worker code to be
//! started from that one place: a function handed off elsewhere too, or in a loop
//! without waiting, runs unordered, and so does one whose starter some call runs in
//! a loop without the starter waiting for its workers (each call's handoff meets the
//! workers the earlier calls started).
//!
//! A closure cell (a local the starter shares with the nested function it hands off),
//! and an object the starter built and handed to the worker (`Access::handed_at`),
//! are each run's own, so its runs never meet another run's worker: the order of one
//! run is enough.
//!
//! Exclusion, not order: a worker awaited by a coroutine that holds an `asyncio.Lock`
//! (`async with lock: await asyncio.to_thread(f)`) runs entirely while that lock is
//! held, so no other coroutine holding the lock runs beside it, and no other worker
//! awaited under it either (barring cancellation of the awaiting task, which releases
//! the lock while the thread goes on).

use std::collections::{BTreeSet, VecDeque};

use super::catalogue::Catalogue;
use super::containment::Containment;
use super::contexts::{resolve_call, CallTarget, Context, Contexts};
use super::locks::{held_asyncio_locks, Locksets};
use super::resolve::{FuncId, Program};
use super::state::{StateAccess, StateKey};
use crate::model::{AccessKind, Arg, Callee, Span};

/// The one handoff that starts every worker path reaching a function.
#[derive(Debug, Clone, PartialEq)]
enum Starter {
    Unreached,
    /// Started only from this call, in this function.
    One {
        caller: FuncId,
        span: Span,
        /// The caller waits for the worker to finish at the call.
        awaited: bool,
        /// For a coroutine: where it first awaits the handoff's result, bound to a
        /// local (`fut = loop.run_in_executor(None, f)` … `await fut`).
        result_awaited_end: Option<u32>,
        /// `asyncio` locks held at the call: they serialise runs of the caller.
        serialised_by: BTreeSet<StateKey>,
        /// For a synchronous caller: the first call after the handoff that waits for
        /// threads to finish (`join()`, `result()`, `shutdown()`, `wait()`).
        waited_at: Option<Span>,
        /// The handoff runs several times: what comes before it is ordered only when
        /// it comes before the loop (the first line of the loop, `u32::MAX` when no
        /// line is known: then only the wait orders).
        repeated_from: Option<u32>,
    },
    /// Started from several places, from outside any function, or repeatedly.
    Many,
}

impl Starter {
    fn join(&self, other: &Starter) -> Starter {
        match (self, other) {
            (Starter::Unreached, x) | (x, Starter::Unreached) => x.clone(),
            (a, b) if a == b => a.clone(),
            // Two handoffs in one function that neither awaits nor waits for (a route
            // registered by two decorators): what comes before the first comes before
            // every run.
            (
                Starter::One {
                    caller: a,
                    span: first,
                    awaited: false,
                    result_awaited_end: None,
                    serialised_by: x,
                    waited_at: None,
                    repeated_from: p,
                },
                Starter::One {
                    caller: b,
                    span: second,
                    awaited: false,
                    result_awaited_end: None,
                    serialised_by: y,
                    waited_at: None,
                    repeated_from: q,
                },
            ) if a == b && x == y && p == q => Starter::One {
                caller: *a,
                span: *first.min(second),
                awaited: false,
                result_awaited_end: None,
                serialised_by: x.clone(),
                waited_at: None,
                repeated_from: *p,
            },
            _ => Starter::Many,
        }
    }
}

pub struct Ordering {
    starter: Vec<Starter>,
    /// Per entry point (`Contexts::entries`) on a worker thread: its own start, for
    /// what that one handoff passes its worker (`StateAccess::handoff`).
    entry_starter: Vec<Starter>,
    /// Objects held privately by an owner: their state is the owner's.
    containment: Containment,
    /// Per function: the `asyncio` locks held by the coroutine awaiting every
    /// worker-thread run of it (see the module doc); empty when some run is not awaited.
    awaited_under: Vec<BTreeSet<StateKey>>,
}

impl Ordering {
    pub fn compute(
        program: &Program,
        catalogue: &Catalogue,
        contexts: &Contexts,
        locksets: &Locksets,
        containment: Containment,
    ) -> Ordering {
        let mut starter = vec![Starter::Unreached; program.functions.len()];
        let mut entry_starter = vec![Starter::Many; contexts.entries.len()];
        let mut queue = VecDeque::new();
        for (index, entry) in contexts
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.context == Context::WorkerThread)
        {
            let seed = |concurrent: bool| match &entry.site {
                Some(site) => match site.caller {
                    Some(caller) => {
                        let file = program.file_of(caller);
                        let calls = &program.function(caller).calls;
                        let call = site.call(program).map(|(_, call)| call);
                        // A wait in a generator expression may never run.
                        let waited_at = calls
                            .iter()
                            .filter(|c| !c.lazy && before(site.span, c.span))
                            .find(|c| waits(&c.callee))
                            .map(|c| c.span);
                        Starter::One {
                            caller,
                            span: site.span,
                            awaited: entry.awaited,
                            result_awaited_end: call.and_then(|c| c.result_awaited_end),
                            serialised_by: call.map_or_else(BTreeSet::new, |c| {
                                let mut held =
                                    held_asyncio_locks(program, catalogue, file, &c.async_locks);
                                held.extend(locksets.inherited_async[caller].iter().cloned());
                                held
                            }),
                            waited_at,
                            repeated_from: call
                                .filter(|c| c.in_loop && !c.awaited)
                                .map(|c| c.loop_start.unwrap_or(u32::MAX))
                                .or((concurrent && !entry.registered).then_some(u32::MAX))
                                .or((waited_at.is_none()
                                    && called_in_loop(program, contexts, caller))
                                .then_some(u32::MAX)),
                        }
                    }
                    _ => Starter::Many,
                },
                _ => Starter::Many,
            };
            entry_starter[index] = seed(entry.concurrent && !entry.concurrent_elsewhere);
            let joined = starter[entry.target].join(&seed(entry.concurrent));
            if joined != starter[entry.target] {
                starter[entry.target] = joined;
                queue.push_back(entry.target);
            }
        }
        // Into the synchronous callees, as context propagation goes.
        while let Some(function) = queue.pop_front() {
            for &(callee, _) in &contexts.callees[function] {
                if program.function(callee).is_async
                    || contexts.reach[callee][Context::WorkerThread.index()].is_none()
                {
                    continue;
                }
                let joined = starter[callee].join(&starter[function]);
                if joined != starter[callee] {
                    starter[callee] = joined;
                    queue.push_back(callee);
                }
            }
        }
        let awaited_under = awaited_under(program, catalogue, contexts, locksets);
        Ordering {
            starter,
            entry_starter,
            containment,
            awaited_under,
        }
    }

    /// Whether worker-thread runs of `a` and of `b` exclude each other: both are awaited
    /// under one `asyncio` lock.
    pub fn exclusive(&self, a: FuncId, b: FuncId) -> bool {
        !self.awaited_under[a].is_disjoint(&self.awaited_under[b])
    }

    /// Whether `other` (an access on the loop or the main thread) is ordered with every
    /// worker-thread run of `worker_function`.
    ///
    /// In a coroutine that starts the worker, under an `asyncio` lock it holds at the
    /// handoff too: before the handoff, or after the awaited handoff. In a synchronous
    /// function that starts the worker: before the handoff, or after a wait for threads
    /// (`join()`, `result()`, `shutdown()`), in that function or in a function it alone
    /// calls there.
    pub fn ordered(
        &self,
        program: &Program,
        catalogue: &Catalogue,
        contexts: &Contexts,
        worker: &StateAccess,
        other: &StateAccess,
        one_run: Option<usize>,
    ) -> bool {
        if !self.awaited_under[worker.function].is_disjoint(&other.asyncio_locks) {
            return true;
        }
        // What one handoff passed its worker is touched only by the runs that handoff
        // starts.
        let starter = match worker.handoff {
            Some(entry) => &self.entry_starter[entry],
            None => &self.starter[worker.function],
        };
        let Starter::One {
            caller,
            span,
            awaited,
            result_awaited_end,
            serialised_by,
            waited_at,
            repeated_from,
        } = starter
        else {
            return false;
        };
        if program.function(*caller).is_async {
            if repeated_from.is_some() {
                return false;
            }
            // Runs of the starter on this object are sequential, or serialised by a lock
            // held both at the handoff and at `locks` (the access, or the call that
            // reaches it).
            // A closure cell is each run's own: no other run of the starter touches it;
            // so is an object the run built and handed to this very handoff, also where
            // functions it calls reach it (`Origins::one_run`).
            let started_here = |e: usize| {
                contexts.entries[e]
                    .site
                    .as_ref()
                    .is_some_and(|site| site.caller == Some(*caller) && site.span == *span)
            };
            let own_object = other.cell_local
                || other.access.handed_at.map(|at| at as usize) == Some(span.offset)
                || one_run.is_some_and(started_here);
            let sequential = own_object
                || !contexts.overlapping_runs[*caller]
                    && receiver_of_method(program, &self.containment, *caller, other.receiver);
            let serialised =
                |locks: &BTreeSet<StateKey>| sequential || !serialised_by.is_disjoint(locks);
            // What a generator expression does runs where it is consumed: written
            // before the handoff, it may still run after it (`Access::lazy`).
            let in_order = |at: Span, lazy: bool| {
                (!lazy && before(at, *span))
                    || (*awaited && before(*span, at))
                    || result_awaited_end.is_some_and(|end| end as usize <= at.offset)
            };
            if *caller == other.function {
                return serialised(&other.asyncio_locks)
                    && in_order(other.access.span, other.access.lazy);
            }
            // In code that runs off the worker only through the starter, at calls in
            // order with the handoff (or callbacks it registers there).
            let file = program.file_of(*caller);
            // A call runs its callee there; a callback registered there runs later, so
            // only a registration after the awaited handoff is in order.
            let call_in_order = |call: &crate::model::CallSite, registration: bool| {
                (if registration {
                    *awaited && before(*span, call.span)
                } else {
                    in_order(call.span, call.lazy || other.access.lazy)
                }) && serialised(&held_asyncio_locks(
                    program,
                    catalogue,
                    file,
                    &call.async_locks,
                ))
            };
            return reached_only_through(program, contexts, *caller, other.function, call_in_order);
        }
        // What the starter did before the handoff is published to the worker
        // (`Thread.start()` orders it); after a wait (`join()`), the worker is done.
        let ahead = |at: Span, lazy: bool| {
            !lazy
                && match repeated_from {
                    None => before(at, *span),
                    Some(line) => *line != u32::MAX && at.end.line < *line,
                }
        };
        // A starter that runs on several worker threads at once starts one worker while
        // another run of it writes: only the wait orders those.
        let published = contexts.concurrent[*caller].is_none();
        let outside = |at: Span, lazy: bool| {
            (published && ahead(at, lazy)) || waited_at.is_some_and(|wait| before(wait, at))
        };
        if *caller == other.function {
            return outside(other.access.span, other.access.lazy);
        }
        let callers = &contexts.callers[other.function];
        if !callers.is_empty()
            && callers.iter().all(|&(from, call)| {
                let call = &program.function(from).calls[call];
                from == *caller
                    && !runs_at_block_end(call)
                    && outside(call.span, call.lazy || other.access.lazy)
            })
        {
            return true;
        }
        // What a script's main thread did before the call that leads to the handoff.
        published
            && repeated_from.is_none()
            && !other.access.lazy
            && spine(program, contexts, *caller, *span).is_some_and(|spine| {
                let last = other.access.statement_lines.1;
                before_spine(program, contexts, &spine, other.function, last, 0)
            })
    }
}

/// Whether some call runs `function` again and again (in a loop, or as a `while`
/// test, or as a function a call is given, which may call it any number of times:
/// `retry(start)`): a handoff in it then runs once per call, and what a later call does
/// before the handoff meets the worker an earlier call started.
fn called_in_loop(program: &Program, contexts: &Contexts, function: FuncId) -> bool {
    contexts.callers[function].iter().any(|&(caller, index)| {
        program.function(caller).calls[index].in_loop
            || contexts
                .invoked
                .get(&(caller, index, function))
                .is_some_and(|i| i.repeated)
    })
}

/// How deep `spine` climbs and `before_spine` follows callers.
const MAX_SPINE: usize = 8;

/// Whether `function` runs exactly where and when its calls run it: no coroutine or
/// generator (they run a piece at a time, when driven), no decorator (which may call
/// it again, or later), never passed as a callable or started another way (a
/// callback, a signal handler, a handoff runs it again elsewhere).
fn runs_where_called(program: &Program, contexts: &Contexts, function: FuncId) -> bool {
    let model = program.function(function);
    !model.is_async
        && !model.is_generator
        && model.decorators.is_empty()
        && contexts.callable_passes[function] == 0
        && !contexts.started_elsewhere[function]
}

/// The calls a script's main thread makes, once each, to reach a synchronous
/// `starter`'s handoff at `handoff`: the starter has one caller, which has one caller,
/// … up to a root that runs once (a `__main__` block, a console script), no call in a
/// loop, each function running where it is called (`runs_where_called`). Each element
/// is a function and the first line of the statement in it where the path to the
/// handoff continues. `None` when the handoff may run more than once or from
/// elsewhere.
fn spine(
    program: &Program,
    contexts: &Contexts,
    starter: FuncId,
    handoff: Span,
) -> Option<Vec<(FuncId, u32)>> {
    let calls = &program.function(starter).calls;
    let first = calls
        .iter()
        .find(|c| c.span == handoff)
        .map_or(handoff.start.line, |c| c.statement_lines.0);
    let mut spine = vec![(starter, first)];
    let mut current = starter;
    for _ in 0..MAX_SPINE {
        match contexts.callers[current][..] {
            [] => {
                let root = program.function(current);
                return (root.program_root || root.console_script.is_some()).then_some(spine);
            }
            [(caller, index)] => {
                let call = &program.function(caller).calls[index];
                if !runs_where_called(program, contexts, current)
                    || call.in_loop
                    || contexts
                        .invoked
                        .get(&(caller, index, current))
                        .is_some_and(|i| i.repeated)
                    || spine.iter().any(|&(f, _)| f == caller)
                {
                    return None;
                }
                spine.push((caller, call.statement_lines.0));
                current = caller;
            }
            _ => return None,
        }
    }
    None
}

/// Whether what ends on line `last` in `function` runs, on the script's main thread,
/// only before the `spine` reaches its handoff: in a function of the spine, in a
/// statement that ends before the one that continues it (an assignment's target is
/// written after the call on its right), or in a function running where it is called
/// every call of which is such code.
fn before_spine(
    program: &Program,
    contexts: &Contexts,
    spine: &[(FuncId, u32)],
    function: FuncId,
    last: u32,
    depth: usize,
) -> bool {
    if let Some(&(_, next)) = spine.iter().find(|&&(f, _)| f == function) {
        return last < next;
    }
    let callers = &contexts.callers[function];
    depth < MAX_SPINE
        && runs_where_called(program, contexts, function)
        && !callers.is_empty()
        && callers.iter().all(|&(caller, index)| {
            let call = &program.function(caller).calls[index];
            !runs_at_block_end(call)
                && before_spine(
                    program,
                    contexts,
                    spine,
                    caller,
                    call.statement_lines.1,
                    depth + 1,
                )
        })
}

/// A `with` statement's `__exit__`, which the call site places at the `with` line but
/// which runs when the body ends: after whatever the body started.
fn runs_at_block_end(call: &crate::model::CallSite) -> bool {
    matches!(&call.callee, Callee::Path(p) if p.ends_with(".__exit__") || p.ends_with(".__aexit__"))
}

/// Whether every run of `function` off worker threads (on the loop or the main thread)
/// comes from `starter` at a call `in_order` admits: following callers back, every
/// path ends at such a call in the starter. A function nobody calls counts when the
/// starter alone registers it, at such a call, as a callback
/// (`async_track_state_change(hass, ids, self._changed)` after the awaited handoff):
/// it cannot run before it is registered; so does one called only through a location
/// such a registration fills (a project `track(self._changed)` keeping it in a registry
/// a dispatcher calls). A coroutine created without being awaited
/// (`create_task(self._refresh())`) runs later too, so a path through such a call is
/// in order only as a registration is. Callers that run only on worker threads do not
/// place the function off them, and are skipped.
fn reached_only_through(
    program: &Program,
    contexts: &Contexts,
    starter: FuncId,
    function: FuncId,
    in_order: impl Fn(&crate::model::CallSite, bool) -> bool,
) -> bool {
    let off_worker = |f: FuncId| {
        contexts.reach[f][Context::EventLoop.index()].is_some()
            || contexts.reach[f][Context::MainThread.index()].is_some()
    };
    let starter_calls = &program.function(starter).calls;
    let file = program.file_of(starter);
    // (function, reached through a call that runs it later: a registration or a
    // coroutine created without being awaited)
    let mut seen = BTreeSet::from([(function, false)]);
    let mut stack = vec![(function, false)];
    while let Some((g, deferred)) = stack.pop() {
        let callers: Vec<_> = contexts.callers[g]
            .iter()
            .filter(|&&(from, _)| off_worker(from))
            .collect();
        // Other starts off worker threads (a start on a worker, such as the handoff
        // itself, does not place the function off them).
        let other_starts = contexts.entries.iter().any(|e| {
            e.target == g
                && e.context != Context::WorkerThread
                && e.site.as_ref().is_some_and(|site| {
                    site.caller != Some(starter)
                        || !starter_calls
                            .iter()
                            .any(|c| c.span == site.span && in_order(c, true))
                })
        });
        if other_starts {
            return false;
        }
        // A callback: registered only by the starter, in order. Calls through the
        // location a registration fills (`for listener in LISTENERS: listener(x)`) run
        // it only after that registration.
        let registered_in_order = || {
            let registered = starter_calls
                .iter()
                .filter(|c| {
                    c.args
                        .iter()
                        .chain(c.keywords.iter().map(|(_, a)| a))
                        .any(|a| matches!(a, Arg::Callable(callee)
                            if matches!(resolve_call(program, file, callee), CallTarget::Function(t) if t == g)))
                })
                .collect::<Vec<_>>();
            // A location the registration fills counts among the passes once more;
            // one filled from anywhere else runs the callback from there too.
            let kept = usize::from(contexts.stored.keeps(g));
            let kept_here = kept == 0 || contexts.stored.kept_only_through_calls_in(g, starter);
            kept_here
                && !registered.is_empty()
                && registered.len() + kept == contexts.callable_passes[g]
                && registered.iter().all(|c| in_order(c, true))
        };
        let (through_location, callers): (Vec<_>, Vec<_>) = callers
            .into_iter()
            .partition(|&&(from, index)| contexts.through_location.contains(&(from, index)));
        if (callers.is_empty() || !through_location.is_empty()) && !registered_in_order() {
            return false;
        }
        for &&(from, index) in &callers {
            let call = &program.function(from).calls[index];
            let later = deferred || (program.function(g).is_async && !call.awaited);
            if from == starter {
                if !in_order(call, later) {
                    return false;
                }
            } else if seen.insert((from, later)) {
                stack.push((from, later));
            }
        }
    }
    true
}

/// Per function, the `asyncio` locks held around every worker-thread run of it: the
/// meet, over every worker entry point that reaches it, of the locks its awaiting
/// coroutine holds at the handoff (none for a handoff that is not awaited, or not made
/// by a coroutine). A greatest fixpoint over the calls made on worker threads.
fn awaited_under(
    program: &Program,
    catalogue: &Catalogue,
    contexts: &Contexts,
    locksets: &Locksets,
) -> Vec<BTreeSet<StateKey>> {
    let count = program.functions.len();
    // `None` is "every lock": not yet constrained.
    let mut under: Vec<Option<BTreeSet<StateKey>>> = vec![None; count];
    let meet = |slot: &mut Option<BTreeSet<StateKey>>, locks: &BTreeSet<StateKey>| {
        let next = match slot {
            None => locks.clone(),
            Some(held) => held.intersection(locks).cloned().collect(),
        };
        let changed = slot.as_ref() != Some(&next);
        *slot = Some(next);
        changed
    };
    let mut queue = VecDeque::new();
    for entry in contexts
        .entries
        .iter()
        .filter(|e| e.context == Context::WorkerThread)
    {
        let call = entry
            .site
            .as_ref()
            .filter(|_| entry.awaited)
            .and_then(|site| site.call(program))
            .filter(|(caller, _)| program.function(*caller).is_async);
        let locks = call.map_or_else(BTreeSet::new, |(caller, c)| {
            let mut held =
                held_asyncio_locks(program, catalogue, program.file_of(caller), &c.async_locks);
            held.extend(locksets.inherited_async[caller].iter().cloned());
            held
        });
        if meet(&mut under[entry.target], &locks) {
            queue.push_back(entry.target);
        }
    }
    while let Some(function) = queue.pop_front() {
        let Some(locks) = under[function].clone() else {
            continue;
        };
        for &(callee, _) in &contexts.callees[function] {
            if program.function(callee).is_async
                || contexts.reach[callee][Context::WorkerThread.index()].is_none()
            {
                continue;
            }
            if meet(&mut under[callee], &locks) {
                queue.push_back(callee);
            }
        }
    }
    under.into_iter().map(Option::unwrap_or_default).collect()
}

/// Whether `receiver` (the class an instance attribute is reached through) is the
/// receiver of `method`: its class, a base of it or a subclass, or a class held
/// privately by such an object (`analysis::containment`: a `self._history` built in
/// `__init__` is that object's alone). Runs of a method on one object are sequential
/// when nothing launches them concurrently, but that says nothing of module state or of
/// other objects, which runs on other objects touch too.
fn receiver_of_method(
    program: &Program,
    containment: &Containment,
    method: FuncId,
    receiver: Option<super::resolve::ClassId>,
) -> bool {
    let (Some(mut receiver), Some(own)) = (receiver, program.class_of_method(method)) else {
        return false;
    };
    let related = |receiver| {
        let receiver_path = &program.class(receiver).path;
        own == receiver
            || program.ancestors(own).contains(receiver_path)
            || program
                .ancestors(receiver)
                .contains(&program.class(own).path)
    };
    // Owners of owners, a few levels up (a cycle cannot go on longer).
    for _ in 0..4 {
        if related(receiver) {
            return true;
        }
        match containment.container(receiver) {
            Some(owner) => receiver = owner,
            None => return false,
        }
    }
    false
}

/// Methods that wait for threads or their results to finish.
const WAITS: &[&str] = &["join", "result", "shutdown", "wait"];

/// A call that waits for other work to finish (`ready.wait()`, `future.result()`).
pub(super) fn waits(callee: &Callee) -> bool {
    let name = match callee {
        Callee::Method(name) => name.as_str(),
        Callee::Path(path) => path.rsplit('.').next().unwrap_or(path),
    };
    WAITS.contains(&name)
}

/// `a` ends before `b` starts.
fn before(a: Span, b: Span) -> bool {
    a.offset + a.len <= b.offset
}

/// Whether `a` and `b` are ordered by initialisation: one is a write that runs only
/// while the location is unset (`if self._users is None:`, or after `if self._users
/// is not None: return`), and every rebinding of the location is such a write, and the
/// other needs the value set: it mutates or iterates the contents, or calls a method
/// on it. That access would fail on the unset value before the write; once the write
/// has run, nothing unsets the location again, so the write cannot run after it.
pub fn initialised_before(a: &StateAccess, b: &StateAccess) -> bool {
    let needs_value = |x: &StateAccess| {
        matches!(x.kind, AccessKind::Mutation | AccessKind::Iterate)
            || (x.kind == AccessKind::Read && x.access.method.is_some())
    };
    (a.initialises_once && needs_value(b)) || (b.initialises_once && needs_value(a))
}
