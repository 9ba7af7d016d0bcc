//! Invoked callables: project functions a call runs right where it is made, on the
//! calling thread, though the call names another function.
//!
//! `retry(self.refresh)` with `def retry(fn): … fn()` runs `refresh` inside `retry`: a
//! call of `refresh` in the caller's context, under the locks held at the call.
//! Summaries say which parameters each function calls (`Function::calls_parameters`),
//! itself or by passing them on to another such function (`def run_quietly(fn): return
//! retry(fn)`), computed to a fixpoint for any arity and keyword, as `forwarding` does
//! for handoffs. Not followed: a parameter called while the function holds a thread
//! lock (`with LOCK: fn()`; the edge would not carry that lock), and calls of an `async
//! def` not awaited there or of a generator function, which only build a coroutine or
//! generator that runs wherever it is driven.
//!
//! The call graph (`contexts`) gives the caller an edge to each invoked function at that
//! call (`Contexts::invoked`). The call's own arguments are the wrapper's, not the
//! invoked function's, so analyses that bind a call's arguments to its callee's
//! parameters skip these edges, as they skip calls through locations.
//!
//! Such a pass is a call, not a callable value let loose (`contexts::passed_callables`,
//! which lock inheritance reads), unless the function also keeps the parameter: stores,
//! returns or captures it (`Function::escaping_params`), or passes it to a library's
//! call or to a project function that keeps it.

use super::catalogue::Catalogue;
use super::contexts::{callable_target, CallTarget};
use super::locks::held_thread_locks;
use super::resolve::{FuncId, Program, Target};
use crate::model::{returned_parameter, Arg, CallSite, Callee, FileId, Language};

/// A project function a call runs right there.
pub struct Invocation {
    pub function: FuncId,
    /// The function the call is made to also keeps what it is given, which may then
    /// run anywhere.
    pub kept: bool,
}

pub struct Invoked {
    /// Per function: the parameters (indices into `call_params`) it calls.
    called: Vec<Vec<usize>>,
    /// Per function: the parameters it lets escape.
    kept: Vec<Vec<usize>>,
}

impl Invoked {
    /// Summaries for every function, given each function's calls resolved
    /// (`targets[function][call]`).
    pub fn compute(
        program: &Program,
        catalogue: &Catalogue,
        targets: &[Vec<CallTarget>],
    ) -> Invoked {
        let count = program.functions.len();
        let python = |f: FuncId| program.files[program.file_of(f)].language == Language::Python;
        let mut invoked = Invoked {
            called: vec![Vec::new(); count],
            kept: vec![Vec::new(); count],
        };
        for f in (0..count).filter(|&f| python(f)) {
            let model = program.function(f);
            let file = program.file_of(f);
            let unlocked = |k: usize| {
                model
                    .calls_parameters
                    .iter()
                    .filter(|c| c.index == k)
                    .all(|c| held_thread_locks(program, catalogue, file, &c.locks).is_empty())
            };
            for called in &model.calls_parameters {
                if unlocked(called.index) && !invoked.called[f].contains(&called.index) {
                    invoked.called[f].push(called.index);
                }
            }
            invoked.kept[f] = (0..model.call_params.len())
                .filter(|&k| {
                    model.escaping_params.contains(&(k + 1))
                        || model.returns.contains(&returned_parameter(k))
                })
                .collect();
        }
        // Only calls that pass a parameter on can make their function call or keep it.
        let passes_parameter = |c: &CallSite| {
            c.args
                .iter()
                .chain(c.keywords.iter().map(|(_, a)| a))
                .any(|a| matches!(a, Arg::Parameter(_)))
        };
        let candidates: Vec<FuncId> = (0..count)
            .filter(|&f| python(f) && program.function(f).calls.iter().any(passes_parameter))
            .collect();
        loop {
            let mut changed = false;
            for &function in &candidates {
                let model = program.function(function);
                let file = program.file_of(function);
                for (call, target) in model.calls.iter().zip(&targets[function]) {
                    if !passes_parameter(call) {
                        continue;
                    }
                    let slot_of = |name: &str| model.call_params.iter().position(|p| p == name);
                    let CallTarget::Function(callee) = *target else {
                        // A library's call (or one racelint cannot resolve) may keep
                        // whatever it is given.
                        for arg in call.args.iter().chain(call.keywords.iter().map(|(_, a)| a)) {
                            if let Some(k) = parameter(arg).and_then(slot_of) {
                                changed |= add(&mut invoked.kept[function], k);
                            }
                        }
                        continue;
                    };
                    let unlocked =
                        held_thread_locks(program, catalogue, file, &call.locks).is_empty();
                    let runs_here = invoked.runs_here(program, call, callee);
                    let called: Vec<usize> = invoked
                        .arguments(program, file, call, callee, &invoked.called[callee])
                        .into_iter()
                        .filter_map(|arg| parameter(arg).and_then(slot_of))
                        .filter(|_| unlocked && runs_here)
                        .collect();
                    let kept: Vec<usize> = invoked
                        .arguments(program, file, call, callee, &invoked.kept[callee])
                        .into_iter()
                        .filter_map(|arg| parameter(arg).and_then(slot_of))
                        .collect();
                    for k in called {
                        changed |= add(&mut invoked.called[function], k);
                    }
                    for k in kept {
                        changed |= add(&mut invoked.kept[function], k);
                    }
                }
            }
            if !changed {
                return invoked;
            }
        }
    }

    /// The project functions `call` (made in `file`, resolved to `target`) runs right
    /// there: async functions excepted, whose call only builds a coroutine (every
    /// `async def` is an entry of its own).
    pub fn callables(
        &self,
        program: &Program,
        file: FileId,
        call: &CallSite,
        target: &CallTarget,
    ) -> Vec<Invocation> {
        let CallTarget::Function(callee) = *target else {
            return Vec::new();
        };
        if program.files[file].language != Language::Python
            || !self.runs_here(program, call, callee)
        {
            return Vec::new();
        }
        self.called[callee]
            .iter()
            .flat_map(|&k| {
                let kept = self.kept[callee].contains(&k);
                self.arguments(program, file, call, callee, &[k])
                    .into_iter()
                    .filter_map(|arg| callable_target(program, file, arg))
                    .map(move |function| Invocation { function, kept })
            })
            .collect()
    }

    /// Whether the body of `callee` runs at `call`: not a generator function's, nor a
    /// coroutine function's unless the call is awaited right there.
    fn runs_here(&self, program: &Program, call: &CallSite, callee: FuncId) -> bool {
        let model = program.function(callee);
        !model.is_generator && (!model.is_async || call.awaited)
    }

    /// What `call` of `callee` gives each of `slots` (indices into `call_params`): by
    /// keyword, or by position before any spread (`f(*args, g)`: unknown positions).
    /// A method called through its class (`Base.run(self, fn)`) takes its receiver
    /// first.
    fn arguments<'c>(
        &self,
        program: &Program,
        file: FileId,
        call: &'c CallSite,
        callee: FuncId,
        slots: &[usize],
    ) -> Vec<&'c Arg> {
        let model = program.function(callee);
        let spread = call.args.iter().position(|a| matches!(a, Arg::Spread(_)));
        let receiver_first = usize::from(through_class(program, file, call, callee));
        slots
            .iter()
            .filter_map(|&k| {
                let name = model.call_params[k].as_str();
                call.keywords
                    .iter()
                    .find(|(keyword, _)| keyword == name)
                    .map(|(_, arg)| arg)
                    .or_else(|| {
                        let at = k + receiver_first;
                        let by_position =
                            k < model.positional_params && spread.is_none_or(|s| at < s);
                        by_position.then(|| call.args.get(at)).flatten()
                    })
            })
            .collect()
    }
}

/// A call of an instance method through its class (`Base.__init__(self, fn)`), which
/// passes the receiver as the first argument.
fn through_class(program: &Program, file: FileId, call: &CallSite, callee: FuncId) -> bool {
    let Callee::Path(path) = &call.callee else {
        return false;
    };
    let instance_method = program.class_of_method(callee).is_some()
        && !program.function(callee).is_class_or_static_method();
    instance_method
        && path.rsplit_once('.').is_some_and(|(owner, _)| {
            let resolved = program.resolve(file, owner);
            resolved.residual == 0 && matches!(resolved.target, Target::Class(_))
        })
}

fn parameter(arg: &Arg) -> Option<&str> {
    match arg {
        Arg::Parameter(name) => Some(name),
        _ => None,
    }
}

fn add(slots: &mut Vec<usize>, k: usize) -> bool {
    let new = !slots.contains(&k);
    if new {
        slots.push(k);
    }
    new
}
