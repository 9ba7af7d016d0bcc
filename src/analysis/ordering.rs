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
//!   starter's following accesses run.
//!
//! A synchronous starter that then waits (`t.join()`, `future.result()`,
//! `executor.shutdown()`) orders the worker before what follows the wait, as it
//! orders what preceded the handoff, since the waiting function's runs cannot overlap
//! each other's workers.
//!
//! For a coroutine, both hold for one run of the coroutine. A coroutine is usually run by many tasks at
//! once (a request handler, a method any caller may await), and then the second run's
//! accesses meet the first run's worker. So the ordering is used only where the runs
//! are serialised: the handoff and the loop-side access hold the same `asyncio.Lock`
//! (`async with self._lock: … await asyncio.to_thread(f) …`). It also needs the worker
//! code to be started from that one place: a function handed off elsewhere too, or in
//! a loop without waiting, runs unordered.

use std::collections::{BTreeSet, VecDeque};

use super::catalogue::Catalogue;
use super::contexts::{Context, Contexts};
use super::locks::held_asyncio_locks;
use super::resolve::{FuncId, Program};
use super::state::{StateAccess, StateKey};
use crate::model::{Callee, Span};

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
            _ => Starter::Many,
        }
    }
}

pub struct Ordering {
    starter: Vec<Starter>,
}

impl Ordering {
    pub fn compute(program: &Program, catalogue: &Catalogue, contexts: &Contexts) -> Ordering {
        let mut starter = vec![Starter::Unreached; program.functions.len()];
        let mut queue = VecDeque::new();
        for entry in contexts
            .entries
            .iter()
            .filter(|e| e.context == Context::WorkerThread)
        {
            let seed = match &entry.site {
                Some(site) => match site.caller {
                    Some(caller) => {
                        let file = program.file_of(caller);
                        let calls = &program.function(caller).calls;
                        let call = calls.iter().find(|c| c.span == site.span);
                        let waited_at = calls
                            .iter()
                            .filter(|c| before(site.span, c.span))
                            .find(|c| waits(&c.callee))
                            .map(|c| c.span);
                        Starter::One {
                            caller,
                            span: site.span,
                            awaited: call.is_some_and(|c| c.awaited),
                            serialised_by: call.map_or_else(BTreeSet::new, |c| {
                                held_asyncio_locks(program, catalogue, file, &c.async_locks)
                            }),
                            waited_at,
                            repeated_from: call
                                .filter(|c| c.in_loop && !c.awaited)
                                .map(|c| c.loop_start.unwrap_or(u32::MAX))
                                .or(entry.concurrent.then_some(u32::MAX)),
                        }
                    }
                    _ => Starter::Many,
                },
                _ => Starter::Many,
            };
            let joined = starter[entry.target].join(&seed);
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
        Ordering { starter }
    }

    /// Whether `other` (an access on the loop or the main thread) is ordered with every
    /// worker-thread run of `worker_function`.
    ///
    /// In a coroutine that starts the worker, under an `asyncio` lock it holds at the
    /// handoff too: before the handoff, or after the awaited handoff. In a synchronous
    /// function that starts the worker and then waits for threads (`join()`,
    /// `result()`, `shutdown()`): before the handoff or after the wait, in that function
    /// or in a function it alone calls there.
    pub fn ordered(
        &self,
        program: &Program,
        contexts: &Contexts,
        worker_function: FuncId,
        other: &StateAccess,
    ) -> bool {
        let Starter::One {
            caller,
            span,
            awaited,
            serialised_by,
            waited_at,
            repeated_from,
        } = &self.starter[worker_function]
        else {
            return false;
        };
        if program.function(*caller).is_async {
            return *caller == other.function
                && repeated_from.is_none()
                && !serialised_by.is_disjoint(&other.asyncio_locks)
                && (before(other.access.span, *span)
                    || (*awaited && before(*span, other.access.span)));
        }
        let Some(wait) = waited_at else {
            return false;
        };
        let ahead = |at: Span| match repeated_from {
            None => before(at, *span),
            Some(line) => at.end.line < *line,
        };
        let outside = |at: Span| ahead(at) || before(*wait, at);
        if *caller == other.function {
            return outside(other.access.span);
        }
        let callers = &contexts.callers[other.function];
        !callers.is_empty()
            && callers.iter().all(|&(from, call)| {
                from == *caller && outside(program.function(from).calls[call].span)
            })
    }
}

/// Methods that wait for threads or their results to finish.
const WAITS: &[&str] = &["join", "result", "shutdown", "wait"];

fn waits(callee: &Callee) -> bool {
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
