//! Import-time initialisation: what a module's top-level code does runs when the
//! module is imported, and a module's imports run before the code that follows them.
//!
//! A lazily created value (`if _CONFIG is None: _CONFIG = load()`) that some module's
//! top-level code creates (`_config = get_config()`, through plain calls) is set once
//! that module has been imported. A thread started from a module that imports it at
//! top level, directly or through its own top-level imports, starts after that: on the
//! thread the check finds the value set, and the creating write never runs there.

use std::collections::{BTreeSet, HashSet};

use super::contexts::Context;
use super::resolve::{FuncId, Program};
use super::state::StateAccess;
use super::Analysis;
use crate::model::{FileId, Language, SymbolKind};

/// How far the walks go before giving up (and answering "not known to be ordered").
const MAX_FUNCTIONS: usize = 20_000;
const MAX_MODULES: usize = 20_000;

/// Whether `write`, a creating write that runs only while its location is unset (and
/// every rebinding of which is such a write), has always run before any worker thread
/// that reaches it starts: some module's top-level code performs it, and each such
/// thread (a worker, or several runs at once) is started from a module that imports
/// that module at top level. The write then never runs on those threads.
pub fn initialised_at_import(analysis: &Analysis, write: &StateAccess) -> bool {
    if !write.initialises_once {
        return false;
    }
    let program = &analysis.program;
    let contexts = &analysis.contexts;
    // Walk up the plain calls to the write: to module bodies, and to entry points.
    let mut seen: HashSet<FuncId> = HashSet::new();
    let mut stack = vec![write.function];
    let mut initialising: BTreeSet<FileId> = BTreeSet::new();
    while let Some(function) = stack.pop() {
        if !seen.insert(function) {
            continue;
        }
        if seen.len() > MAX_FUNCTIONS {
            return false;
        }
        if is_module_body(program, function) {
            initialising.insert(program.file_of(function));
            continue;
        }
        stack.extend(contexts.callers[function].iter().map(|(caller, _)| *caller));
    }
    if initialising.is_empty() {
        return false;
    }
    let mut threads = contexts
        .entries
        .iter()
        .filter(|e| seen.contains(&e.target))
        .filter(|e| e.context == Context::WorkerThread || e.concurrent)
        .peekable();
    threads.peek().is_some()
        && threads.all(|entry| {
            // A thread starts where its handoff is written; a function a library or the
            // loop calls runs once its own module is imported.
            let from = entry
                .site
                .as_ref()
                .map_or(program.file_of(entry.target), |site| site.file);
            imports_any(program, from, &initialising)
        })
}

/// The module-level code of a Python file (its `<module>` pseudo-function).
fn is_module_body(program: &Program, function: FuncId) -> bool {
    let file = program.file_of(function);
    program.files[file].language == Language::Python
        && program.function(function).name == "<module>"
}

/// Whether importing `from` runs one of `modules` first: it is one, or its top-level
/// imports (transitively) include one.
fn imports_any(program: &Program, from: FileId, modules: &BTreeSet<FileId>) -> bool {
    let mut seen: HashSet<FileId> = HashSet::new();
    let mut stack = vec![from];
    while let Some(file) = stack.pop() {
        if modules.contains(&file) {
            return true;
        }
        if !seen.insert(file) || seen.len() > MAX_MODULES {
            continue;
        }
        for symbol in &program.files[file].symbols {
            if let SymbolKind::Alias(path) = &symbol.kind {
                stack.extend(program.module_of_path(file, path));
            }
        }
    }
    false
}
