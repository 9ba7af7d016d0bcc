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
//! Both hold for one run of the coroutine. A coroutine is usually run by many tasks at
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
use crate::model::Span;

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
                Some(site) if !entry.concurrent => match site.caller {
                    Some(caller) => {
                        let file = program.file_of(caller);
                        let call = program
                            .function(caller)
                            .calls
                            .iter()
                            .find(|c| c.span == site.span);
                        Starter::One {
                            caller,
                            span: site.span,
                            awaited: call.is_some_and(|c| c.awaited),
                            serialised_by: call.map_or_else(BTreeSet::new, |c| {
                                held_asyncio_locks(program, catalogue, file, &c.async_locks)
                            }),
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

    /// Whether `on_loop` (an access on the event loop) is ordered with every worker-thread
    /// run of `worker_function`: it is in the coroutine that starts the worker, under an
    /// `asyncio` lock that coroutine holds at the handoff too, and it comes before the
    /// handoff or after the awaited handoff.
    pub fn ordered(&self, worker_function: FuncId, on_loop: &StateAccess) -> bool {
        match &self.starter[worker_function] {
            Starter::One {
                caller,
                span,
                awaited,
                serialised_by,
            } if *caller == on_loop.function
                && !serialised_by.is_disjoint(&on_loop.asyncio_locks) =>
            {
                let at = on_loop.access.span;
                before(at, *span) || (*awaited && before(*span, at))
            }
            _ => false,
        }
    }
}

/// `a` ends before `b` starts.
fn before(a: Span, b: Span) -> bool {
    a.offset + a.len <= b.offset
}
