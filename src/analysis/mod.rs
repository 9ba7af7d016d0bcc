//! Whole-program analysis: joins every file's model, resolves names across modules,
//! propagates execution contexts from entry points, and computes locksets.

pub mod arguments;
pub mod catalogue;
pub mod containment;
pub mod contexts;
pub mod copying;
pub mod dispatch;
pub mod forwarding;
pub mod holders;
pub mod identity;
pub mod import_order;
pub mod invoked;
pub mod kept_threads;
pub mod library_threads;
pub mod locks;
pub mod ordering;
pub mod origins;
pub mod ownership;
pub mod platforms;
pub mod private_loops;
pub mod programs;
pub mod protocol_modules;
pub mod receivers;
pub mod resolve;
pub mod rust_locks;
pub mod sharing;
pub mod state;
pub mod stored_callables;
pub mod threadsafe_use;

use std::collections::BTreeMap;

use catalogue::Catalogue;
use containment::Containment;
use contexts::Contexts;
use copying::Copying;
use holders::Holders;
use identity::Identity;
use locks::Locksets;
use ordering::Ordering;
use origins::Origins;
use ownership::Ownership;
use platforms::Platforms;
use programs::Programs;
use receivers::Receivers;
use resolve::Program;
use sharing::Sharing;
use state::{StateAccess, StateKey};

use crate::model::FileModel;

/// The analysed program: everything rules need, and nothing that needs an AST.
pub struct Analysis<'m> {
    pub program: Program<'m>,
    pub catalogue: Catalogue,
    pub contexts: Contexts,
    /// Happens-before between a coroutine and the workers it starts.
    pub ordering: Ordering,
    /// Which receivers' classes can be one object.
    pub identity: Identity,
    /// Of which classes `self` is an instance, per context.
    pub receivers: Receivers,
    /// Which constructions the objects behind parameters come from, per context.
    pub origins: Origins<'m>,
    /// Fields that are the only way to their objects.
    pub holders: Holders,
    /// Which programs (the package, each test or example module) reach each function.
    pub programs: Programs,
    /// Which functions run only under a platform test (`sys.platform == "win32"`).
    pub platforms: Platforms,
    pub state: BTreeMap<StateKey, Vec<StateAccess<'m>>>,
    /// Which classes' instances may be copied or pickled (asked by fixes only).
    pub copying: Copying,
}

impl<'m> Analysis<'m> {
    pub fn new(files: &'m [FileModel], catalogue: Catalogue) -> Self {
        let program = Program::new(
            files,
            catalogue.returns.clone(),
            catalogue.element_readers.clone(),
        );
        let contexts = Contexts::compute(&program, &catalogue);
        // The analyses after contexts form a small graph; independent ones run on
        // both cores (each is a pure function of its inputs, so results never depend
        // on the schedule).
        let ((locksets, sharing), (ownership, (identity, holders))) = rayon::join(
            || {
                rayon::join(
                    || Locksets::compute(&program, &catalogue, &contexts),
                    || Sharing::compute(&program, &catalogue, &contexts),
                )
            },
            || {
                rayon::join(
                    || Ownership::compute(&program, &contexts),
                    || {
                        (
                            Identity::compute(&program),
                            Holders::compute(&program, &catalogue),
                        )
                    },
                )
            },
        );
        let (state, ((receivers, origins), (ordering, (programs, platforms)))) = rayon::join(
            || {
                let objects = state::Objects {
                    ownership: &ownership,
                    identity: &identity,
                    holders: &holders,
                };
                state::collect(
                    &program, &catalogue, &contexts, &locksets, &sharing, &objects,
                )
            },
            || {
                rayon::join(
                    || {
                        (
                            Receivers::compute(&program, &contexts, &identity),
                            Origins::compute(&program, &contexts, &identity, &holders),
                        )
                    },
                    || {
                        let containment =
                            Containment::compute(&program, &contexts, &identity, &ownership);
                        (
                            Ordering::compute(
                                &program,
                                &catalogue,
                                &contexts,
                                &locksets,
                                containment,
                            ),
                            (
                                Programs::compute(&program, &contexts),
                                Platforms::compute(&program, &contexts),
                            ),
                        )
                    },
                )
            },
        );
        Analysis {
            program,
            catalogue,
            contexts,
            ordering,
            programs,
            platforms,
            identity,
            receivers,
            origins,
            holders,
            state,
            copying: Copying::default(),
        }
    }
}
