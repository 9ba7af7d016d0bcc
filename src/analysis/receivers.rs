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
//! handoff of a bound method of the starter's `self` (`to_thread(self._update)`); the
//! receiver's static class for a call on, or a handoff of a bound method of, a typed
//! receiver (`server.serve_forever()` with `server: HTTPServer`); and the method's own
//! class for anything else (an untyped receiver, an entry point). A least fixpoint over the calls made in that context. A class that cannot be
//! the method's own (unrelated to it) is dropped: a call on `self` dispatches to an
//! override only for objects of the override's classes, so a method reached only
//! through such calls does not run in that context at all; and a base class narrows
//! to the method's own (the base's `self._update()` runs a subclass's override only on
//! instances of that subclass).

use rustc_hash::FxHashMap as HashMap;

use super::contexts::{Context, Contexts};
use super::identity::{receiver_class, Identity};
use super::resolve::{ClassId, FuncId, Program};
use crate::model::{Arg, CallSite, Callee};

pub struct Receivers {
    /// Per context, per function: the classes `self` is an instance of (of one of
    /// them, or of a subclass), sorted; empty for functions that are not methods or do
    /// not run there.
    bounds: [Vec<Vec<ClassId>>; 3],
}

impl Receivers {
    pub fn compute(program: &Program, contexts: &Contexts, identity: &Identity) -> Receivers {
        let count = program.functions.len();
        let class_of: Vec<Option<ClassId>> =
            (0..count).map(|f| program.class_of_method(f)).collect();
        let mut entries_of = vec![Vec::new(); count];
        for entry in &contexts.entries {
            entries_of[entry.target].push(entry);
        }
        // Per call of a method through a receiver typed as a subclass (`server:
        // HTTPServer`, `server.serve_forever()` defined by `BaseServer`): that subclass.
        let mut typed: HashMap<(FuncId, usize), ClassId> = HashMap::default();
        for (f, own) in class_of.iter().enumerate() {
            let Some(own) = *own else { continue };
            for &(caller, index) in &contexts.callers[f] {
                let call = &program.function(caller).calls[index];
                if let Some(class) = static_receiver(program, caller, &call.callee, own) {
                    typed.insert((caller, index), class);
                }
            }
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
                    // A class no instance of which is also an instance of this method's
                    // class cannot dispatch here (`self.render()` in a base method run
                    // on a `SqlSensor` never runs another branch's override).
                    // A base class narrows to this method's own: `self._async_update()`
                    // in a base method reaches a subclass's override only for instances
                    // of that subclass.
                    let mut add = |classes: &[ClassId]| {
                        for &class in classes {
                            if !identity.may_alias(class, own) {
                                continue;
                            }
                            let class = if identity.derives(own, class) {
                                own
                            } else {
                                class
                            };
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
                        // A bound method kept in a location runs on its own object, of
                        // whatever class stored it: the call's receiver is the holder.
                        // So does a method of an object kept in the receiver's location.
                        if contexts.through_location.contains(&(caller, index))
                            || contexts.through_holder.contains(&(caller, index, f))
                        {
                            add(&[own]);
                            continue;
                        }
                        // A bound method a call is given (`retry(self.refresh)`) runs on
                        // the object it was taken from, as a handed-off one does.
                        if contexts.invoked.contains_key(&(caller, index, f)) {
                            let name = &program.function(f).name;
                            match call.hands_own_method(name) {
                                true => add(&bounds[caller]),
                                false => add(&[handed_receiver(program, caller, call, name, own)
                                    .unwrap_or(own)]),
                            }
                            continue;
                        }
                        match class_of[caller].filter(|_| call.on_own_receiver()) {
                            Some(_) => add(&bounds[caller]),
                            None => add(&[typed.get(&(caller, index)).copied().unwrap_or(own)]),
                        }
                    }
                    for entry in entries_of[f].iter().filter(|e| e.context == context) {
                        let starter = entry.site.as_ref().and_then(|site| site.call(program));
                        // A bound method of the starter's `self` runs on that object; one
                        // of a typed receiver (`Thread(target=server.serve_forever)`), on
                        // an instance of its type.
                        let name = &program.function(f).name;
                        match starter {
                            Some((caller, call)) if call.hands_own_method(name) => {
                                add(&[class_of[caller].unwrap_or(own)])
                            }
                            Some((caller, call)) => {
                                add(&[handed_receiver(program, caller, call, name, own)
                                    .unwrap_or(own)])
                            }
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
    /// them or a subclass). Empty for a method run there only through calls that
    /// cannot dispatch to it, and for a function that is not a method run there.
    pub fn bounds(&self, context: Context, function: FuncId) -> &[ClassId] {
        &self.bounds[context.index()][function]
    }
}

/// The class of the receiver a method is called through, when it is written as a typed
/// path whose class is not the method's own: a typed local (`server.serve_forever`
/// with `server: HTTPServer` is `http.server.HTTPServer.serve_forever`), global or
/// attribute (`self.server.serve_forever`).
fn static_receiver(
    program: &Program,
    caller: FuncId,
    callee: &Callee,
    own: ClassId,
) -> Option<ClassId> {
    let Callee::Path(path) = callee else {
        return None;
    };
    let (receiver, _) = path.rsplit_once('.')?;
    let own_name = &program.class(own).name;
    if receiver.rsplit('.').next() == Some(own_name.as_str()) {
        return None;
    }
    receiver_class(program, program.file_of(caller), receiver).filter(|&class| class != own)
}

/// The class of the receiver whose bound method `name` a handoff passes
/// (`Thread(target=server.serve_forever)`).
fn handed_receiver(
    program: &Program,
    caller: FuncId,
    call: &CallSite,
    name: &str,
    own: ClassId,
) -> Option<ClassId> {
    call.args
        .iter()
        .chain(call.keywords.iter().map(|(_, arg)| arg))
        .find_map(|arg| match arg {
            Arg::Callable(callee @ Callee::Path(path)) if path.rsplit('.').next() == Some(name) => {
                static_receiver(program, caller, callee, own)
            }
            _ => None,
        })
}
