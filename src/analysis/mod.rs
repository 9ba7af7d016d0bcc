//! Whole-program analysis: joins every file's model, resolves names across modules,
//! propagates execution contexts from entry points, and computes locksets.

pub mod catalogue;
pub mod contexts;
pub mod locks;
pub mod resolve;
pub mod rust_locks;
pub mod sharing;
pub mod state;

use std::collections::BTreeMap;

use catalogue::Catalogue;
use contexts::Contexts;
use locks::Locksets;
use resolve::Program;
use sharing::Sharing;
use state::{StateAccess, StateKey};

use crate::model::FileModel;

/// The analysed program: everything rules need, and nothing that needs an AST.
pub struct Analysis<'m> {
    pub program: Program<'m>,
    pub catalogue: Catalogue,
    pub contexts: Contexts,
    pub state: BTreeMap<StateKey, Vec<StateAccess<'m>>>,
}

impl<'m> Analysis<'m> {
    pub fn new(files: &'m [FileModel], catalogue: Catalogue) -> Self {
        let program = Program::new(files);
        let contexts = Contexts::compute(&program, &catalogue);
        let locksets = Locksets::compute(&program, &catalogue, &contexts);
        let sharing = Sharing::compute(&program, &catalogue, &contexts);
        let state = state::collect(&program, &catalogue, &contexts, &locksets, &sharing);
        Analysis {
            program,
            catalogue,
            contexts,
            state,
        }
    }
}
