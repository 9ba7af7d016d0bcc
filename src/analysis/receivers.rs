//! Receiver classes per context: of which classes `self` can be an instance when a
//! method runs in a context. An attribute's state is keyed by the class that declares
//! it, so a base-class method's `self._value` is one location for every subclass; but
//! an object has one class. When a base method runs on a worker thread only as
//! `self._helper()` from `SqlSensor._update`, its `self` there is a `SqlSensor`; when
//! it runs on the loop only from `CommandSensor`'s coroutines, a `CommandSensor`. Unless
//! some class derives from both, the two runs touch different objects
//! (`Identity::may_alias`), as RacerD's receiver-sensitive summaries keep them apart.
//!
//! Per context, a method's bound is the union, over the ways it runs there, of: the
//! caller's bound for a call on the caller's own `self`; the starter's class for a
//! handoff of a bound method of the starter's `self` (`to_thread(self._update)`); and
//! the method's own class for anything else (a call on another receiver, an entry
//! point). A least fixpoint over the calls made in that context.

use super::contexts::{Context, Contexts};
use super::resolve::{ClassId, FuncId, Program};
use crate::model::{ArgSlot, CallSite, Owner};

pub struct Receivers {
    /// Per context, per function: the classes `self` is an instance of (of one of
    /// them, or of a subclass), sorted; empty for functions that are not methods or do
    /// not run there.
    bounds: [Vec<Vec<ClassId>>; 3],
}

impl Receivers {
    pub fn compute(program: &Program, contexts: &Contexts) -> Receivers {
        let count = program.functions.len();
        let class_of: Vec<Option<ClassId>> = (0..count)
            .map(|f| {
                let class = program.function(f).class.as_deref()?;
                program.class_of_type(program.file_of(f), class)
            })
            .collect();
        let mut entries_of = vec![Vec::new(); count];
        for entry in &contexts.entries {
            entries_of[entry.target].push(entry);
        }
        let bounds = Context::ALL.map(|context| {
            let c = context.index();
            let mut bounds: Vec<Vec<ClassId>> = vec![Vec::new(); count];
            loop {
                let mut changed = false;
                for f in 0..count {
                    let Some(own) = class_of[f] else { continue };
                    if contexts.reach[f][c].is_none() {
                        continue;
                    }
                    // What this pass finds that the bound lacks.
                    let mut missing: Vec<ClassId> = Vec::new();
                    let current = &bounds[f];
                    let mut add = |classes: &[ClassId]| {
                        for &class in classes {
                            if current.binary_search(&class).is_err() && !missing.contains(&class) {
                                missing.push(class);
                            }
                        }
                    };
                    for &(caller, index) in &contexts.callers[f] {
                        if contexts.reach[caller][c].is_none() {
                            continue;
                        }
                        let call = &program.function(caller).calls[index];
                        match class_of[caller].filter(|_| on_own_receiver(call)) {
                            Some(_) => add(&bounds[caller]),
                            None => add(&[own]),
                        }
                    }
                    for entry in entries_of[f].iter().filter(|e| e.context == context) {
                        let starter = entry.site.as_ref().and_then(|site| site.call(program));
                        // A bound method of the starter's `self` runs on that object.
                        match starter
                            .filter(|(_, call)| hands_own_method(call, &program.function(f).name))
                        {
                            Some((caller, _)) => add(&[class_of[caller].unwrap_or(own)]),
                            None => add(&[own]),
                        }
                    }
                    if !missing.is_empty() {
                        bounds[f].extend(missing);
                        bounds[f].sort_unstable();
                        changed = true;
                    }
                }
                if !changed {
                    return bounds;
                }
            }
        });
        Receivers { bounds }
    }

    /// The classes `self` in `function`, run in `context`, is an instance of (one of
    /// them or a subclass); empty for a function that is not a method run there.
    pub fn bounds(&self, context: Context, function: FuncId) -> &[ClassId] {
        &self.bounds[context.index()][function]
    }
}

/// A call on the caller's own `self` (`self._render()`).
fn on_own_receiver(call: &CallSite) -> bool {
    call.owned_args.iter().any(|arg| {
        arg.slot == ArgSlot::Receiver && arg.owner == Owner::Parameter(0) && arg.member.is_none()
    })
}

/// A call that passes the caller's own bound method `name` (`to_thread(self._update)`).
fn hands_own_method(call: &CallSite, name: &str) -> bool {
    call.owned_args
        .iter()
        .any(|arg| arg.owner == Owner::Parameter(0) && arg.member.as_deref() == Some(name))
}
