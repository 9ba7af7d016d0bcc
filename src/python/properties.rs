//! Property uses as calls. Reading `report.total`, where `total` is a `@property`,
//! runs the getter (assigning it, the setter), and its accesses happen in the user's
//! context, under the user's locks. One file cannot tell a property from a data
//! attribute when the class is defined elsewhere, so this runs once every file is
//! lowered: a use of an attribute that some Python class defines as a property becomes
//! a call site, which the analysis keeps only when it resolves to that property.

use rayon::prelude::*;
use rustc_hash::FxHashSet as HashSet;
use thin_vec::ThinVec;

use crate::model::{
    AccessKind, ArgSlot, CallSite, Callee, FileModel, Language, OwnedArg, Owner, PropertyUse,
    ValueOrigin,
};

/// Adds a property call site (`CallSite::property`) for each use of an attribute named
/// like a property some class of `files` defines.
pub fn link(files: &mut [FileModel]) {
    let names: HashSet<String> = files
        .iter()
        .filter(|f| f.language == Language::Python)
        .flat_map(|f| f.functions.iter())
        .filter(|f| f.class.is_some() && f.is_property())
        .map(|f| f.name.clone())
        .collect();
    if names.is_empty() {
        return;
    }
    // Each file's functions gain their own call sites: on all cores.
    let python = files
        .par_iter_mut()
        .filter(|f| f.language == Language::Python);
    python.for_each(|file| {
        for function in &mut file.functions {
            let uses: Vec<CallSite> = function
                .accesses
                .iter()
                .filter(|a| {
                    a.path
                        .rsplit_once('.')
                        .is_some_and(|(_, name)| names.contains(name))
                })
                .filter_map(|access| {
                    let built_by = access.built_at.map(|at| built_by(&function.calls, at));
                    match built_by {
                        // An object built in place (`t = Thread(); t.daemon = True`):
                        // the function's own, as its fields are.
                        Some(None) => None,
                        built_by => Some((access, built_by.flatten())),
                    }
                })
                .map(|(access, built_by)| CallSite {
                    callee: Callee::Path(access.path.clone()),
                    span: access.span,
                    text: String::new(),
                    args: ThinVec::new(),
                    keywords: ThinVec::new(),
                    locks: access.locks.clone(),
                    async_locks: access.async_locks.clone(),
                    in_loop: false,
                    loop_start: None,
                    awaited: false,
                    statement_lines: access.statement_lines,
                    lock_block: None,
                    receiver_chain: ThinVec::new(),
                    // Read through a parameter's own field (`self.total`): a call on it;
                    // through what a factory returned (`rec = get_recorder();
                    // rec.total`): a call on that, the function's own if the factory
                    // builds it, which the analysis decides.
                    owned_args: access
                        .root
                        .map(Owner::Parameter)
                        .or_else(|| {
                            built_by.map(|constructor| Owner::Fresh {
                                constructor,
                                members_passed: Vec::new(),
                            })
                        })
                        .map(|owner| OwnedArg {
                            slot: ArgSlot::Receiver,
                            owner,
                            member: None,
                            member_of: None,
                            lent: false,
                        })
                        .into_iter()
                        .collect(),
                    checked: ThinVec::new(),
                    checked_holding: ThinVec::new(),
                    property: Some(use_of(access.kind)),
                    on_loop_thread: access.on_loop_thread,
                    lazy: access.lazy,
                    result_awaited_end: None,
                    curried: ThinVec::new(),
                    kept_in: None,
                    // Through the function's own `self`, the getter's or setter's.
                    origins: access
                        .root
                        .filter(|&slot| slot == 0)
                        .map(|slot| (ArgSlot::Receiver, ValueOrigin::Parameter(slot)))
                        .into_iter()
                        .collect(),
                })
                .collect();
            if !uses.is_empty() {
                // The calls were trimmed to size after lowering: growing by doubling
                // would leave the slack behind again.
                function.calls.reserve_exact(uses.len());
                function.calls.extend(uses);
            }
        }
    });
}

/// The constructor or factory a local bound to the call at offset `at` was given
/// (`Access::built_at`), when that call is no class's construction; `None` for one
/// named like a class (`Thread(…)`), which builds its object in place.
fn built_by(calls: &[CallSite], at: u32) -> Option<String> {
    let call = calls.iter().find(|c| c.span.offset == at as usize)?;
    match &call.callee {
        Callee::Path(path) if !super::lower::class_like(path) => Some(path.clone()),
        _ => None,
    }
}

/// Any use of the value reads it (`report.total`, `service.client.get()`, `self.items[k]
/// = v`); a plain assignment (`report.total = 0`) runs the setter. (`+=` reads and then
/// assigns: the getter is what touches state first.)
fn use_of(kind: AccessKind) -> PropertyUse {
    match kind {
        AccessKind::Rebind => PropertyUse::Set,
        _ => PropertyUse::Get,
    }
}
