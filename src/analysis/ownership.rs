//! Ownership, after RacerD: an object a function constructed and has not let escape is
//! owned by it, and accesses through an owned object are not shared state. Ownership
//! flows into callees: a parameter is owned when every call passes an owned object
//! (one the caller constructed, or an owned parameter of the caller) and the callee
//! does not let it escape either. So a result a worker builds and fills through
//! helpers (`result = Result(); _fill(result)`) is private to that worker, as each
//! request's own objects are private to the request.
//!
//! The front-end records, per call, which passed objects the caller owns
//! (`CallSite::owned_args`), per function which parameters escape (stored, handed to
//! another object's method or to a thread, captured; `Function::escaping_params`), and
//! per access the parameter its chain starts from (`Access::root`).
//!
//! A function qualifies only when the project calls it and nothing else can: it is no
//! entry point started another way (a handoff, a route, a thread class), it is not
//! passed as a callable, decorated, a dunder method (called by protocols), nor named
//! like a method that some call on an untyped receiver may mean.

use std::collections::HashSet;

use super::contexts::{resolve_call, CallTarget, Contexts};
use super::resolve::{FuncId, Program, Target};
use crate::model::{Access, Arg, ArgSlot, Callee, Language, Owner};

pub struct Ownership {
    /// Per function, per parameter slot (0 is the receiver): whether it is owned.
    owned: Vec<Vec<bool>>,
}

impl Ownership {
    pub fn compute(program: &Program, contexts: &Contexts) -> Ownership {
        let count = program.functions.len();
        let (callables, untyped_methods) = indirect_uses(program);
        let mut owned: Vec<Vec<bool>> = (0..count)
            .map(|f| {
                let model = program.function(f);
                let qualifies = program.files[program.file_of(f)].language == Language::Python
                    && !contexts.callers[f].is_empty()
                    && !contexts.started_elsewhere[f]
                    && !callables.contains(&f)
                    && model.decorators.is_empty()
                    && !model.name.starts_with("__")
                    && !(model.class.is_some() && untyped_methods.contains(model.name.as_str()));
                (0..=model.call_params.len())
                    .map(|slot| {
                        qualifies
                            && (slot > 0 || model.class.is_some())
                            && !model.escaping_params.contains(&slot)
                    })
                    .collect()
            })
            .collect();
        // Greatest fixpoint: drop a slot as soon as one call passes something unowned.
        loop {
            let mut changed = false;
            for f in 0..count {
                for slot in 0..owned[f].len() {
                    if owned[f][slot]
                        && !every_call_passes_owned(program, contexts, &owned, f, slot)
                    {
                        owned[f][slot] = false;
                        changed = true;
                    }
                }
            }
            if !changed {
                return Ownership { owned };
            }
        }
    }

    /// Whether `access`, made in `function`, goes through an object the function owns.
    pub fn owns(&self, function: FuncId, access: &Access) -> bool {
        access
            .root
            .is_some_and(|slot| self.owned[function].get(slot).copied().unwrap_or(false))
    }
}

fn every_call_passes_owned(
    program: &Program,
    contexts: &Contexts,
    owned: &[Vec<bool>],
    function: FuncId,
    slot: usize,
) -> bool {
    let params = &program.function(function).call_params;
    contexts.callers[function].iter().all(|&(caller, index)| {
        let call = &program.function(caller).calls[index];
        call.owned_args
            .iter()
            .find(|arg| match &arg.slot {
                ArgSlot::Receiver => slot == 0,
                ArgSlot::Position(i) => slot == i + 1,
                ArgSlot::Keyword(name) => slot > 0 && params.get(slot - 1) == Some(name),
            })
            .is_some_and(|arg| match &arg.owner {
                Owner::Fresh(constructor) => {
                    let built = program.resolve(program.file_of(caller), constructor);
                    built.residual == 0 && matches!(built.target, Target::Class(_))
                }
                Owner::Parameter(q) => owned[caller].get(*q).copied().unwrap_or(false),
            })
    })
}

/// Functions passed as callables anywhere (a library may call them with anything), and
/// the names of methods called on receivers whose type is unknown (such a call may
/// reach any method of that name with any object).
fn indirect_uses<'m>(program: &Program<'m>) -> (HashSet<FuncId>, HashSet<&'m str>) {
    let mut callables = HashSet::new();
    let mut untyped_methods = HashSet::new();
    for f in 0..program.functions.len() {
        let file = program.file_of(f);
        if program.files[file].language != Language::Python {
            continue;
        }
        let model = program.function(f);
        for call in model.calls.iter().chain(&model.decorators) {
            match &call.callee {
                Callee::Method(name) => {
                    untyped_methods.insert(name.as_str());
                }
                Callee::Path(path) => {
                    if let CallTarget::Method(_) = resolve_call(program, file, &call.callee) {
                        untyped_methods.insert(path.rsplit('.').next().unwrap_or(path));
                    }
                }
            }
            for arg in call.args.iter().chain(call.keywords.iter().map(|(_, a)| a)) {
                if let Arg::Callable(callee) = arg {
                    if let CallTarget::Function(target) = resolve_call(program, file, callee) {
                        callables.insert(target);
                    }
                }
            }
        }
    }
    (callables, untyped_methods)
}
