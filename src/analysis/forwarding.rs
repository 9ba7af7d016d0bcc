//! Handovers: the ways a call passes a callable to another execution context. Either
//! the call is a catalogued API (`asyncio.to_thread(f)`), or it calls a project function
//! that forwards one of its own parameters to one (a *forwarding wrapper*):
//!
//! ```python
//! def run_in_background(fn, *args):
//!     return asyncio.get_running_loop().run_in_executor(None, fn, *args)
//! ```
//!
//! Each function gets a summary, "parameter `fn` reaches a worker thread", computed to
//! a fixpoint so wrappers of wrappers count too, for any arity and keyword.

use super::catalogue::{Catalogue, Handoff};
use super::contexts::{api_call, ApiCall, CallTarget, Context};
use super::resolve::{FuncId, Program};
use crate::model::{Arg, CallSite, Language};

/// One way a call hands over a callable: which argument, and where it will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub context: Context,
    /// Position among the call's positional arguments.
    pub position: Option<usize>,
    /// Keyword naming the same argument.
    pub keyword: Option<String>,
    /// The callable runs on several threads at once (`Executor.map`).
    pub concurrent: bool,
    /// The positional arguments after the callable are passed to it
    /// (`Handoff::forwards_arguments`; a wrapper's summary does not say).
    pub forwards_arguments: bool,
    /// Awaiting the call waits until the callable has returned: true of the catalogued
    /// APIs that can be awaited (`to_thread`, `run_in_executor`). A coroutine wrapper
    /// waits only when it awaits the handoff it forwards to, not when it starts a
    /// thread and returns; a plain function wrapper can be awaited only if it returns
    /// an awaitable, which is then its handoff's future (`return
    /// loop.run_in_executor(None, fn)`).
    pub waits: bool,
    /// A callable decorated with one of these runs on the event loop instead
    /// (`Handoff::loop_if_decorated`).
    pub loop_if_decorated: Vec<String>,
    /// A coroutine function runs on the event loop instead (`Handoff::loop_if_async`).
    pub loop_if_async: bool,
}

impl Handover {
    fn from_catalogue(context: Context, handoff: &Handoff) -> Handover {
        Handover {
            context,
            position: handoff.arg,
            keyword: handoff.keyword.clone(),
            concurrent: handoff.concurrent,
            forwards_arguments: handoff.forwards_arguments,
            waits: true,
            loop_if_decorated: handoff.loop_if_decorated.clone(),
            loop_if_async: handoff.loop_if_async,
        }
    }

    /// The argument of `call` this handover passes on, if the call has it.
    pub fn argument<'c>(&self, call: &'c CallSite) -> Option<&'c Arg> {
        self.keyword
            .as_ref()
            .and_then(|k| call.keywords.iter().find(|(name, _)| name == k))
            .map(|(_, a)| a)
            .or_else(|| self.position.and_then(|i| call.args.get(i)))
    }
}

/// Per function: the handovers a call to it makes with its own parameters.
pub struct Forwards {
    by_function: Vec<Vec<Handover>>,
}

impl Forwards {
    /// Summaries for every function, given each function's calls resolved
    /// (`targets[function][call]`).
    pub fn compute(
        program: &Program,
        catalogue: &Catalogue,
        targets: &[Vec<CallTarget>],
    ) -> Forwards {
        let mut forwards = Forwards {
            by_function: vec![Vec::new(); program.functions.len()],
        };
        // Only calls that pass a parameter on can make their function a wrapper.
        let passes_parameter = |c: &CallSite| {
            c.args
                .iter()
                .chain(c.keywords.iter().map(|(_, a)| a))
                .any(|a| matches!(a, Arg::Parameter(_)))
        };
        let candidates: Vec<FuncId> = (0..program.functions.len())
            .filter(|&f| program.function(f).calls.iter().any(passes_parameter))
            .collect();
        loop {
            let mut changed = false;
            for &function in &candidates {
                let targets = &targets[function];
                let model = program.function(function);
                for (call, target) in model.calls.iter().zip(targets) {
                    if !passes_parameter(call) {
                        continue;
                    }
                    let api = api_call(program, call, target);
                    for handover in forwards.handovers(program, catalogue, function, &api, target) {
                        let Some(Arg::Parameter(name)) = handover.argument(call) else {
                            continue;
                        };
                        let summary = Handover {
                            context: handover.context,
                            position: model.call_params.iter().position(|p| p == name),
                            keyword: Some(name.clone()),
                            concurrent: handover.concurrent || (call.in_loop && !call.awaited),
                            forwards_arguments: false,
                            waits: handover.waits && (call.awaited || !model.is_async),
                            loop_if_decorated: handover.loop_if_decorated.clone(),
                            loop_if_async: handover.loop_if_async,
                        };
                        if !forwards.by_function[function].contains(&summary) {
                            forwards.by_function[function].push(summary);
                            changed = true;
                        }
                    }
                }
            }
            if !changed {
                return forwards;
            }
        }
    }

    /// Every handover a call (made in `function`, seen by the catalogues as `api`,
    /// resolved to `target`) makes: as a catalogued API, or else as a call to a
    /// forwarding wrapper.
    pub fn handovers(
        &self,
        program: &Program,
        catalogue: &Catalogue,
        function: FuncId,
        api: &ApiCall,
        target: &CallTarget,
    ) -> Vec<Handover> {
        let (worker, loop_) = match program.files[program.file_of(function)].language {
            Language::Python => (&catalogue.worker, &catalogue.loop_),
            Language::Rust => (&catalogue.rust.worker, &catalogue.rust.loop_),
        };
        let matched: Vec<(Context, &Handoff)> =
            [(Context::WorkerThread, worker), (Context::EventLoop, loop_)]
                .into_iter()
                .flat_map(|(context, handoffs)| {
                    handoffs
                        .iter()
                        .filter(|h| h.matches(api))
                        .map(move |h| (context, h))
                })
                .collect();
        // An entry that names the call's path is more specific than one that names its
        // method: `concurrent.futures.Future.add_done_callback` runs the callback on the
        // worker that completes the future, whatever an asyncio future's method of that
        // name does.
        let by_path = matched.iter().any(|(_, h)| h.matches_path(api));
        let mut out: Vec<Handover> = matched
            .into_iter()
            .filter(|(_, h)| !by_path || h.matches_path(api))
            .map(|(context, h)| Handover::from_catalogue(context, h))
            .collect();
        // A catalogued API is what the catalogue says, even when the project defines
        // it (an application's own `async_add_executor_job`): its summary as a
        // wrapper would miss what the catalogue knows, such as that awaiting it waits.
        if let (CallTarget::Function(callee), true) = (target, out.is_empty()) {
            out.extend(self.by_function[*callee].iter().cloned());
        }
        out
    }
}
