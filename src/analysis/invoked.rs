//! Invoked callables: project functions a call runs right where it is made, on the
//! calling thread, though the call names another function.
//!
//! `retry(self.refresh)` with `def retry(fn): … fn()` runs `refresh` inside `retry`: a
//! call of `refresh` in the caller's context, under the locks held at the call.
//! Summaries say which parameters each function calls (`Function::calls_parameters`),
//! itself or by passing them on to another such function (`def run_quietly(fn): return
//! retry(fn)`), computed to a fixpoint for any arity and keyword, as `forwarding` does
//! for handoffs, and whether it may call them several times (in a loop).
//!
//! Not followed, as before this analysis (the function is then a value passed on):
//! - a parameter the helper calls while it holds a thread lock, or something it was
//!   given to hold (`with lock: fn()`): the edge would not carry that lock;
//! - a parameter the helper also keeps: stores, returns, packs or captures
//!   (`Function::keeps_params`), or gives to a library call other than those that
//!   only look at it (the catalogue's `[inspects-callables]`: `callable(fn)`, a log
//!   line), or to a project function that keeps it: it may run anywhere;
//! - the call of an `async def` not awaited right there, or of a generator function,
//!   which only builds what runs later, elsewhere;
//! - a bound method of an object other than the caller's own `self` (`retry(job.run)`),
//!   whose object racelint would lose track of.
//!
//! The call graph (`contexts`) gives the caller an edge to each invoked function at that
//! call (`Contexts::invoked`). Analyses that bind a call's arguments to its callee's
//! parameters ask `feeds` which of the call's arguments reach the invoked function's
//! parameter: the receiver of the bound method passed, or an argument the helper hands
//! on as it was given (`def call_with(fn, job): fn(job)`).

use super::catalogue::Catalogue;
use super::contexts::{api_call, callable_target, CallTarget};
use super::locks::held_thread_locks;
use super::resolve::{FuncId, Program, Target};
use crate::model::{
    parameter_of, returned_parameter, Arg, ArgSlot, CallSite, CalledParameter, Callee, FileId,
    Language, ValueOrigin,
};

/// A project function a call runs right there, through one of the called function's
/// parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invocation {
    pub function: FuncId,
    /// The function the call is made to, and its parameter (index into `call_params`)
    /// that was given `function`.
    pub helper: FuncId,
    pub parameter: usize,
    /// The helper may call it several times.
    pub repeated: bool,
}

/// Which argument of the call that invokes a function reaches one of its parameters.
pub enum Feed {
    /// The object whose bound method was passed at this argument.
    Receiver(ArgSlot),
    /// This argument, as it was passed to the helper's parameter (index into its
    /// `call_params`).
    Argument(ArgSlot, usize),
}

/// A parameter a function calls, and whether perhaps several times.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Called {
    index: usize,
    repeated: bool,
}

pub struct Invoked {
    /// Per function: the parameters it calls.
    called: Vec<Vec<Called>>,
    /// Per function: the parameters (indices into `call_params`) it keeps.
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
            // Held around the call: a thread lock, or what a caller gave it to hold.
            let locked = |locks: &[String]| {
                locks.iter().any(|lock| parameter_of(lock).is_some())
                    || !held_thread_locks(program, catalogue, file, locks).is_empty()
            };
            for k in 0..model.call_params.len() {
                let mut calls = model.calls_parameters.iter().filter(|c| c.index == k);
                let mut repeated = false;
                let mut any = false;
                let unlocked = calls.all(|c| {
                    any = true;
                    repeated |= c.in_loop;
                    !locked(&c.locks)
                });
                if any && unlocked {
                    invoked.called[f].push(Called { index: k, repeated });
                }
            }
            invoked.kept[f] = (0..model.call_params.len())
                .filter(|&k| {
                    model.keeps_params.contains(&(k + 1))
                        || model.returns.contains(&returned_parameter(k))
                })
                .collect();
        }
        // Only calls that pass a parameter on can make their function call or keep it.
        let passes_parameter = |c: &CallSite| {
            c.args
                .iter()
                .chain(c.keywords.iter().map(|(_, a)| a))
                .any(|a| a.passed_parameter().is_some())
        };
        let candidates: Vec<FuncId> = (0..count)
            .filter(|&f| python(f) && program.function(f).calls.iter().any(passes_parameter))
            .collect();
        loop {
            let mut changed = false;
            for &function in &candidates {
                let model = program.function(function);
                let file = program.file_of(function);
                let slot_of = |arg: &Arg| {
                    let name = arg.passed_parameter()?;
                    model.call_params.iter().position(|p| p == name)
                };
                for (call, target) in model.calls.iter().zip(&targets[function]) {
                    if !passes_parameter(call) {
                        continue;
                    }
                    let CallTarget::Function(callee) = *target else {
                        // A library's call (or one racelint cannot resolve) may keep
                        // what it is given, unless it only looks at it.
                        if !catalogue
                            .inspects_callables
                            .matches(&api_call(program, call, target))
                        {
                            for arg in call.args.iter().chain(call.keywords.iter().map(|(_, a)| a))
                            {
                                if let Some(k) = slot_of(arg) {
                                    changed |= add_kept(&mut invoked.kept[function], k);
                                }
                            }
                        }
                        continue;
                    };
                    let unlocked =
                        held_thread_locks(program, catalogue, file, &call.locks).is_empty();
                    let runs_here = runs_here(program, call, callee);
                    let called: Vec<Called> = invoked.called[callee]
                        .iter()
                        .filter(|_| unlocked && runs_here)
                        .filter_map(|c| {
                            let arg = argument(program, file, call, callee, c.index)?;
                            Some(Called {
                                index: slot_of(arg)?,
                                repeated: c.repeated || call.in_loop,
                            })
                        })
                        .collect();
                    let kept: Vec<usize> = invoked.kept[callee]
                        .iter()
                        .filter_map(|&k| argument(program, file, call, callee, k))
                        .filter_map(slot_of)
                        .collect();
                    for c in called {
                        changed |= add_called(&mut invoked.called[function], c);
                    }
                    for k in kept {
                        changed |= add_kept(&mut invoked.kept[function], k);
                    }
                }
            }
            if !changed {
                return invoked;
            }
        }
    }

    /// The project functions `call` (made in `file` by `caller`, resolved to `target`)
    /// runs right there: none that the function called also keeps, and no async
    /// function, whose call only builds a coroutine (every `async def` is an entry of
    /// its own).
    pub fn callables(
        &self,
        program: &Program,
        file: FileId,
        call: &CallSite,
        target: &CallTarget,
    ) -> Vec<Invocation> {
        let CallTarget::Function(helper) = *target else {
            return Vec::new();
        };
        if program.files[file].language != Language::Python || !runs_here(program, call, helper) {
            return Vec::new();
        }
        self.called[helper]
            .iter()
            .filter(|c| !self.kept[helper].contains(&c.index))
            .filter_map(|c| {
                let slot = argument_slot(program, file, call, helper, c.index)?;
                let arg = argument_at(call, &slot)?;
                // A bound method of another object than the caller's own receiver.
                let foreign = matches!(call.origin_at(&slot),
                    Some(ValueOrigin::Member(base, _)) if **base != ValueOrigin::Parameter(0));
                let function = callable_target(program, file, arg).filter(|_| !foreign)?;
                Some(Invocation {
                    function,
                    helper,
                    parameter: c.index,
                    repeated: c.repeated,
                })
            })
            .collect()
    }

    /// Which argument of `call` (made in `file`, through which `invocation` runs) gives
    /// the invoked function its parameter `slot` (0 its receiver, k ≥ 1
    /// `call_params[k - 1]`): for the receiver, the bound method passed; otherwise an
    /// argument of the call that the helper hands the function as it was given, when
    /// every call of it in the helper does (`def call_with(fn, job): fn(job)`) and the
    /// helper passes the function on to no other call (which may give it anything).
    /// Whether the helper lets that argument escape is its caller's question (`ownership`
    /// asks `Function::escaping_params`).
    pub fn feeds<'m>(
        program: &Program<'m>,
        file: FileId,
        call: &CallSite,
        invocation: &Invocation,
        slot: usize,
    ) -> Option<Feed> {
        let helper = program.function(invocation.helper);
        if slot == 0 {
            return argument_slot(program, file, call, invocation.helper, invocation.parameter)
                .map(Feed::Receiver);
        }
        let own = helper.call_params.get(invocation.parameter)?;
        let passed_on = helper.calls.iter().any(|c| {
            c.args
                .iter()
                .chain(c.keywords.iter().map(|(_, a)| a))
                .any(|a| a.passed_parameter() == Some(own.as_str()))
        });
        if passed_on {
            return None;
        }
        let invoked = program.function(invocation.function);
        let name = invoked.call_params.get(slot - 1)?;
        let positional = slot - 1 < invoked.positional_params;
        let keyword = ArgSlot::Keyword(name.clone());
        let position = ArgSlot::Position(slot - 1);
        let origin = |c: &'m CalledParameter| {
            c.origin_at(&keyword).or_else(|| {
                if positional {
                    c.origin_at(&position)
                } else {
                    None
                }
            })
        };
        let mut given = helper
            .calls_parameters
            .iter()
            .filter(|c| c.index == invocation.parameter)
            .map(origin);
        let first = given.next()??;
        if !given.all(|o| o == Some(first)) {
            return None;
        }
        // The helper's own parameter, as it was given (`fn(job)` in `def call_with(fn,
        // job)`); slot 0 is a method's receiver, no argument of the call.
        let ValueOrigin::Parameter(p) = first else {
            return None;
        };
        let k = p.checked_sub(1)?;
        argument_slot(program, file, call, invocation.helper, k).map(|at| Feed::Argument(at, k))
    }
}

/// Whether the body of `callee` runs at `call`: not a generator function's, nor a
/// coroutine function's unless the call is awaited right there.
fn runs_here(program: &Program, call: &CallSite, callee: FuncId) -> bool {
    let model = program.function(callee);
    !model.is_generator && (!model.is_async || call.awaited)
}

/// The argument `call` of `callee` gives its parameter `k` (index into `call_params`).
fn argument<'c>(
    program: &Program,
    file: FileId,
    call: &'c CallSite,
    callee: FuncId,
    k: usize,
) -> Option<&'c Arg> {
    argument_at(call, &argument_slot(program, file, call, callee, k)?)
}

/// Where `call` of `callee` passes its parameter `k`: by keyword, or by position before
/// any spread (`f(*args, g)`: unknown positions). A method called through its class
/// (`Base.run(self, fn)`) takes its receiver first.
fn argument_slot(
    program: &Program,
    file: FileId,
    call: &CallSite,
    callee: FuncId,
    k: usize,
) -> Option<ArgSlot> {
    let model = program.function(callee);
    let name = model.call_params.get(k)?;
    if call.keywords.iter().any(|(keyword, _)| keyword == name) {
        return Some(ArgSlot::Keyword(name.clone()));
    }
    let at = k + usize::from(through_class(program, file, call, callee));
    let spread = call.args.iter().position(|a| matches!(a, Arg::Spread(_)));
    (k < model.positional_params && spread.is_none_or(|s| at < s) && at < call.args.len())
        .then_some(ArgSlot::Position(at))
}

fn argument_at<'c>(call: &'c CallSite, slot: &ArgSlot) -> Option<&'c Arg> {
    match slot {
        ArgSlot::Position(i) => call.args.get(*i),
        ArgSlot::Keyword(name) => call
            .keywords
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, a)| a),
        ArgSlot::Receiver => None,
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

fn add_called(called: &mut Vec<Called>, new: Called) -> bool {
    match called.iter_mut().find(|c| c.index == new.index) {
        Some(c) if new.repeated && !c.repeated => {
            c.repeated = true;
            true
        }
        Some(_) => false,
        None => {
            called.push(new);
            true
        }
    }
}

fn add_kept(kept: &mut Vec<usize>, k: usize) -> bool {
    let new = !kept.contains(&k);
    if new {
        kept.push(k);
    }
    new
}
