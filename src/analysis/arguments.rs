//! What a handoff passes its callable: an object handed to a worker as an argument
//! (`Thread(target=work, args=(self.jobs,))`, `pool.submit(work, self.jobs)`, the
//! `args=` tuple a wrapper spreads into `submit(fn, *args)`) is the caller's location,
//! and what the worker does through that parameter (`jobs[key] = job`), or through the
//! helpers it passes it on to, touches that location on the thread the handoff starts.
//!
//! The front-end records accesses through parameters by slot
//! (`Function::param_accesses`), since only a caller can name what they touch. Here
//! each handoff that passes a location binds the slot to it, and the accesses become
//! the location's, in the handoff's context alone: the same function called elsewhere
//! with other objects touches those. A lock passed the same way (`with lock:` on a
//! parameter) is the caller's lock. Parameters are followed into callees through the
//! calls that pass them on whole (`OwnedArg` with a parameter owner), a few calls
//! deep; a location with a parameter's object stored in it, or a parameter rebound,
//! is not followed.

use std::collections::HashSet;

use super::catalogue::Catalogue;
use super::contexts::{Context, Contexts};
use super::resolve::{FuncId, Program};
use super::state::resolve_state;
use crate::model::{parameter_of, Access, AccessKind, Arg, ArgSlot, Callee, FileId, Owner};

/// How many calls deep a handed location is followed from the handoff's target.
const DEPTH: usize = 4;

/// An access through a parameter that a handoff bound to a location.
pub struct HandedAccess<'m> {
    /// The function whose body makes the access.
    pub function: FuncId,
    pub access: &'m Access,
    /// The location touched, by canonical path, as written in `file` (the handoff's).
    pub path: String,
    pub file: FileId,
    /// Locks held there that the caller's locations name: canonical paths as written
    /// in `file`. The body's own locks are the access's.
    pub passed_locks: Vec<String>,
    /// The only context in which the access touches the location: the handoff's.
    pub context: Context,
}

/// What handoffs pass as arguments.
pub struct Handed<'m> {
    pub accesses: Vec<HandedAccess<'m>>,
    /// Per handoff that binds a location, the starter, the site's byte range and the
    /// location: reading it there only passes the reference on, while what the worker
    /// does with the object is among `accesses`.
    passes: Vec<(FuncId, usize, usize, String)>,
}

impl Handed<'_> {
    /// Whether `access` in `function` is the read that passes a bound location to a
    /// handoff (`self.jobs` in `Thread(target=work, args=(self.jobs,))`).
    pub fn passes_reference(&self, function: FuncId, access: &Access) -> bool {
        access.kind == AccessKind::Read
            && access.method.is_none()
            && !access.element
            && self.passes.iter().any(|(starter, start, end, path)| {
                *starter == function
                    && (*start..*end).contains(&access.span.offset)
                    && *path == access.path
            })
    }
}

/// A parameter slot bound to a location of the handoff's file.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Binding {
    slot: usize,
    path: String,
}

/// Every access that a handoff's arguments make an access of the caller's locations.
pub fn handed<'m>(program: &Program<'m>, catalogue: &Catalogue, contexts: &Contexts) -> Handed<'m> {
    let mut out = Vec::new();
    let mut passes = Vec::new();
    for entry in &contexts.entries {
        let Some((caller, site)) = entry.site.as_ref().and_then(|s| s.call(program)) else {
            continue;
        };
        let file = program.file_of(caller);
        let bindings: Vec<Binding> = entry
            .arguments
            .iter()
            .enumerate()
            .filter_map(|(index, arg)| match arg {
                Arg::Callable(Callee::Path(path))
                    if resolve_state(program, catalogue, file, path).is_some() =>
                {
                    Some(Binding {
                        slot: index + 1,
                        path: path.clone(),
                    })
                }
                _ => None,
            })
            .collect();
        if bindings.is_empty() {
            continue;
        }
        passes.extend(bindings.iter().map(|b| {
            let start = site.span.offset;
            (caller, start, start + site.span.len, b.path.clone())
        }));
        let mut seen = HashSet::new();
        let mut work = vec![(entry.target, bindings, 0)];
        while let Some((function, bindings, depth)) = work.pop() {
            if !seen.insert((function, bindings.clone())) {
                continue;
            }
            let model = program.function(function);
            for access in &model.param_accesses {
                let Some((slot, rest)) = parameter_of(&access.path) else {
                    continue;
                };
                let Some(binding) = bindings.iter().find(|b| b.slot == slot) else {
                    continue;
                };
                let passed_locks = access
                    .locks
                    .iter()
                    .filter_map(|lock| {
                        let (slot, rest) = parameter_of(lock)?;
                        let bound = bindings.iter().find(|b| b.slot == slot)?;
                        Some(format!("{}{rest}", bound.path))
                    })
                    .collect();
                out.push(HandedAccess {
                    function,
                    access,
                    path: format!("{}{rest}", binding.path),
                    file,
                    passed_locks,
                    context: entry.context,
                });
            }
            if depth == DEPTH {
                continue;
            }
            for &(callee, index) in &contexts.callees[function] {
                let call = &model.calls[index];
                let callee_params = &program.function(callee).call_params;
                let passed: Vec<Binding> = call
                    .owned_args
                    .iter()
                    .filter(|arg| arg.member.is_none())
                    .filter_map(|arg| {
                        let Owner::Parameter(slot) = arg.owner else {
                            return None;
                        };
                        let bound = bindings.iter().find(|b| b.slot == slot)?;
                        let slot = match &arg.slot {
                            // The receiver's accesses are its class's attributes.
                            ArgSlot::Receiver => return None,
                            ArgSlot::Position(i) => i + 1,
                            ArgSlot::Keyword(name) => {
                                callee_params.iter().position(|p| p == name)? + 1
                            }
                        };
                        Some(Binding {
                            slot,
                            path: bound.path.clone(),
                        })
                    })
                    .collect();
                if !passed.is_empty() {
                    work.push((callee, passed, depth + 1));
                }
            }
        }
    }
    Handed {
        accesses: out,
        passes,
    }
}
