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
use super::contexts::{api_call, resolve_call, ApiCall, CallTarget, Context};
use super::resolve::{FuncId, Program};
use crate::model::{Arg, ArgSlot, CallSite, Callee, FileId, Language, SPREAD_VARARGS};

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
    /// The keyword, and for a wrapper's parameter also the position, of a tuple whose
    /// items are the callable's arguments (`Handoff::arguments_tuple`; `args` in
    /// `def executor_submit(fn, args=()): pool.submit(fn, *args)`).
    pub arguments_tuple: Option<(String, Option<usize>)>,
    /// The call's keyword arguments other than the callable's are the callable's
    /// (`Handoff::forwards_keywords`).
    pub forwards_keywords: bool,
    /// The keyword and position of a dict whose entries are the callable's keyword
    /// arguments (`Handoff::keyword_arguments`).
    pub keyword_arguments: Option<(String, Option<usize>)>,
    /// For a wrapper that spreads its own `*args` into the handoff (`def run(fn,
    /// *args): pool.submit(fn, *args)`): the position of the call's first argument past
    /// the wrapper's own parameters, from which on they are the callable's.
    pub varargs_from: Option<usize>,
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
    /// The method of the object the call builds that starts the callable
    /// (`Handoff::started_by`); a wrapper's summary starts it at the call.
    pub started_by: Option<String>,
}

impl Handover {
    fn from_catalogue(context: Context, handoff: &Handoff) -> Handover {
        Handover {
            context,
            position: handoff.arg,
            keyword: handoff.keyword.clone(),
            concurrent: handoff.concurrent,
            forwards_arguments: handoff.forwards_arguments,
            arguments_tuple: handoff
                .arguments_tuple
                .clone()
                .map(|k| (k, handoff.arguments_tuple_at)),
            forwards_keywords: handoff.forwards_keywords,
            keyword_arguments: handoff
                .keyword_arguments
                .clone()
                .map(|k| (k, handoff.keyword_arguments_at)),
            varargs_from: None,
            waits: true,
            loop_if_decorated: handoff.loop_if_decorated.clone(),
            loop_if_async: handoff.loop_if_async,
            started_by: handoff.started_by.clone(),
        }
    }

    /// The argument of `call` this handover passes on, if the call has it.
    pub fn argument<'c>(&self, call: &'c CallSite) -> Option<&'c Arg> {
        by_keyword_or_position(call, self.keyword.as_deref(), self.position)
    }

    /// The arguments `call` gives the callable it hands over, in order: those after
    /// the callable (`to_thread(f, a, b)`), or the items of the arguments tuple
    /// (`Thread(target=f, args=(a, b))`). Empty when the call shows none.
    pub fn passed_arguments<'c>(&self, call: &'c CallSite) -> &'c [Arg] {
        let curried = call.curried.iter().any(|slot| match slot {
            ArgSlot::Keyword(k) => self.keyword.as_deref() == Some(k.as_str()),
            ArgSlot::Position(i) => self.position == Some(*i),
            ArgSlot::Receiver => false,
        });
        if curried {
            // `Thread(target=partial(f, a), args=(b,))`: `b` is not `f`'s first.
            return &[];
        }
        if let Some(from) = self.forwarded_from(call).or(self.varargs_from) {
            return call.args.get(from..).unwrap_or_default();
        }
        let tuple = self
            .arguments_tuple
            .as_ref()
            .and_then(|(keyword, position)| by_keyword_or_position(call, Some(keyword), *position));
        match tuple {
            Some(Arg::Tuple(items)) => items,
            _ => &[],
        }
    }

    /// The keyword arguments `call` gives the callable it hands over, by name: the
    /// call's own keywords past the callable's (`to_thread(f, jobs=q)`), or the entries
    /// of the keyword-arguments dict (`Thread(target=f, kwargs={"jobs": q})`).
    pub fn passed_keywords(&self, call: &CallSite) -> Vec<(String, Arg)> {
        let mut passed: Vec<(String, Arg)> = Vec::new();
        if self.forwards_keywords {
            passed.extend(
                call.keywords
                    .iter()
                    .filter(|(name, _)| self.keyword.as_deref() != Some(name.as_str()))
                    .cloned(),
            );
        }
        let dict = self
            .keyword_arguments
            .as_ref()
            .and_then(|(keyword, position)| by_keyword_or_position(call, Some(keyword), *position));
        if let Some(Arg::Keywords(entries)) = dict {
            passed.extend(entries.iter().cloned());
        }
        passed
    }

    /// Where the positional arguments passed on to the callable start in `call`: after
    /// the callable, when the callable is passed by position.
    pub fn forwarded_from(&self, call: &CallSite) -> Option<usize> {
        let by_keyword = self
            .keyword
            .as_ref()
            .is_some_and(|k| call.keywords.iter().any(|(name, _)| name == k));
        self.position
            .filter(|_| self.forwards_arguments && !by_keyword)
            .map(|i| i + 1)
    }

    /// The arguments tuple of a wrapper whose `call`, handing over its parameter, gives
    /// the callable the items of another parameter (`pool.submit(fn, *args)`, or
    /// `Thread(target=fn, args=args)`): that parameter's keyword and position.
    fn wrapper_tuple(&self, call: &CallSite, params: &[String]) -> Option<(String, Option<usize>)> {
        let spread = match self.passed_arguments(call) {
            [Arg::Spread(name)] if !name.is_empty() && name != SPREAD_VARARGS => Some(name),
            _ => self
                .arguments_tuple
                .as_ref()
                .and_then(|(keyword, position)| {
                    by_keyword_or_position(call, Some(keyword), *position)
                })
                .and_then(|arg| match arg {
                    Arg::Parameter(name) => Some(name),
                    _ => None,
                }),
        }?;
        let position = params.iter().position(|p| p == spread);
        Some((spread.clone(), position))
    }
}

/// The argument of `call` by `keyword`, or else at `position`.
fn by_keyword_or_position<'c>(
    call: &'c CallSite,
    keyword: Option<&str>,
    position: Option<usize>,
) -> Option<&'c Arg> {
    keyword
        .and_then(|k| call.keywords.iter().find(|(name, _)| name == k))
        .map(|(_, a)| a)
        .or_else(|| position.and_then(|i| call.args.get(i)))
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
                .any(|a| a.passed_parameter().is_some())
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
                        // The parameter handed over: as it is, or called with the
                        // function's own `*args` by a thunk, which passes the callable
                        // what the callers pass past the function's own parameters.
                        let (name, thunk) = match handover.argument(call) {
                            Some(Arg::Parameter(name)) => (name, false),
                            Some(Arg::Thunk(thunk))
                                if thunk.via.as_ref().is_none_or(|via| {
                                    invokes(program, catalogue, program.file_of(function), via)
                                }) =>
                            {
                                (&thunk.parameter, true)
                            }
                            _ => continue,
                        };
                        let summary = Handover {
                            context: handover.context,
                            position: model.call_params.iter().position(|p| p == name),
                            keyword: Some(name.clone()),
                            concurrent: handover.concurrent || (call.in_loop && !call.awaited),
                            forwards_arguments: false,
                            arguments_tuple: handover
                                .wrapper_tuple(call, &model.call_params)
                                .filter(|_| !thunk),
                            forwards_keywords: false,
                            keyword_arguments: None,
                            varargs_from: (thunk
                                || matches!(handover.passed_arguments(call),
                                    [Arg::Spread(s)] if s == SPREAD_VARARGS))
                            .then_some(model.positional_params),
                            waits: handover.waits && (call.awaited || !model.is_async),
                            loop_if_decorated: handover.loop_if_decorated.clone(),
                            loop_if_async: handover.loop_if_async,
                            started_by: None,
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

/// Whether `via`, called in `file`, is a library call that calls its first argument
/// with the rest right there (`contextvars.Context.run`: the catalogue's `[invokers]`).
fn invokes(program: &Program, catalogue: &Catalogue, file: FileId, via: &Callee) -> bool {
    let target = resolve_call(program, file, via);
    let mut paths: Vec<&str> = Vec::new();
    if let Callee::Path(written) = via {
        paths.push(written);
    }
    if let CallTarget::External(path) = &target {
        paths.push(path);
    }
    paths
        .iter()
        .any(|p| catalogue.invokers.calls.iter().any(|listed| listed == p))
}
