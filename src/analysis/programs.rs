//! Programs: which entry points run in one process together.
//!
//! A tree holds more than one program. Tests, examples, scripts, docs and benchmarks
//! are programs of their own that import the package they exercise, and one test
//! module does not run concurrently with another. Two accesses can race only when one
//! program reaches both: the package's own entry points form the *main* program, and
//! each auxiliary module (a file under `tests/`, `test/`, `testing/`, `examples/`,
//! `docs/`, `benchmarks/`, `scripts/`, or named `test_*.py`, `*_test.py`,
//! `conftest.py`) is a program of its own, together with the package code it reaches.

use std::collections::VecDeque;

use super::contexts::{Context, Contexts};
use super::resolve::{FuncId, Program};
use crate::model::FileModel;

/// Folders whose modules are programs of their own.
const AUXILIARY_FOLDERS: &[&str] = &[
    "test",
    "tests",
    "testing",
    "example",
    "examples",
    "doc",
    "docs",
    "benchmark",
    "benchmarks",
    "scripts",
];

/// Whether a file is a program of its own rather than part of the package: judged on
/// its module name and the folder that name is relative to, never on folders above
/// the analysed tree.
pub fn is_auxiliary(file: &FileModel) -> bool {
    let module = file.module.trim_start_matches("rs:");
    let mut parts = module.split('.');
    let last = module.rsplit('.').next().unwrap_or(module);
    let root_folder = file
        .root
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    parts.any(|p| AUXILIARY_FOLDERS.contains(&p))
        || AUXILIARY_FOLDERS.contains(&root_folder)
        || last.starts_with("test_")
        || last.ends_with("_test")
        || last == "conftest"
}

/// Per function and context, the programs that reach it.
pub struct Programs {
    /// Reached by the main program's entry points.
    main: Vec<[bool; 2]>,
    /// Reached by these auxiliary programs (file ids, sorted).
    auxiliary: Vec<[Vec<u32>; 2]>,
}

impl Programs {
    pub fn compute(program: &Program, contexts: &Contexts) -> Programs {
        let count = program.functions.len();
        let mut main = vec![[false; 2]; count];
        let mut auxiliary: Vec<[Vec<u32>; 2]> = vec![[Vec::new(), Vec::new()]; count];
        // Entries grouped by the program they belong to: the file the handoff is
        // written in, or the entry's own file.
        let mut groups: std::collections::BTreeMap<Option<u32>, Vec<usize>> = Default::default();
        for (index, entry) in contexts.entries.iter().enumerate() {
            let file = entry
                .site
                .as_ref()
                .map_or_else(|| program.file_of(entry.target), |s| s.file);
            let key = is_auxiliary(&program.files[file]).then_some(file as u32);
            groups.entry(key).or_default().push(index);
        }
        for (key, group) in groups {
            for context in Context::ALL {
                let seeds = group
                    .iter()
                    .map(|&e| &contexts.entries[e])
                    .filter(|e| e.context == context)
                    .map(|e| e.target);
                let mut visit = |f: FuncId| match key {
                    None => !std::mem::replace(&mut main[f][context.index()], true),
                    Some(p) => {
                        let list = &mut auxiliary[f][context.index()];
                        if list.last() == Some(&p) {
                            false
                        } else {
                            list.push(p);
                            true
                        }
                    }
                };
                let mut queue: VecDeque<FuncId> = seeds.filter(|&f| visit(f)).collect();
                while let Some(function) = queue.pop_front() {
                    for &(callee, _) in &contexts.callees[function] {
                        // The edges context propagation follows: a thread does not run
                        // the coroutines it creates, and each coroutine is an entry.
                        if !program.function(callee).is_async
                            && contexts.reach[callee][context.index()].is_some()
                            && visit(callee)
                        {
                            queue.push_back(callee);
                        }
                    }
                }
            }
        }
        Programs { main, auxiliary }
    }

    /// Whether one program reaches `a` in context `ca` and `b` in context `cb`.
    pub fn together(&self, a: FuncId, ca: Context, b: FuncId, cb: Context) -> bool {
        if self.main[a][ca.index()] && self.main[b][cb.index()] {
            return true;
        }
        let (x, y) = (
            &self.auxiliary[a][ca.index()],
            &self.auxiliary[b][cb.index()],
        );
        x.iter().any(|p| y.binary_search(p).is_ok())
    }
}
