//! Programs: which entry points run in one process together.
//!
//! A tree holds more than one program. Tests, examples, scripts, docs and benchmarks
//! are programs of their own that import the package they exercise, and one test
//! module does not run concurrently with another. Two accesses can race only when one
//! program reaches both: the package's own entry points form one program; each
//! auxiliary module (a file under `tests/`, `test/`, `testing/`, `examples/`,
//! `docs/`, `benchmarks/`, `scripts/`, or named `test_*.py`, `*_test.py`,
//! `conftest.py`) is a program of its own, and so is each module's
//! `if __name__ == "__main__":` block (the module run as a script). A program is its
//! roots, the code they call, and the threads and tasks that code starts.

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

/// The program of the package's own entry points.
const PACKAGE: u32 = 0;

/// Per function and context, the programs that reach it.
pub struct Programs {
    /// Program ids, sorted: `PACKAGE`, or 1 + the file id of an auxiliary module or of
    /// a module run as a script (`if __name__ == "__main__":`).
    by_function: Vec<[Vec<u32>; 3]>,
}

impl Programs {
    pub fn compute(program: &Program, contexts: &Contexts) -> Programs {
        let count = program.functions.len();
        // Handoffs by the function they are written in: a program that runs that
        // function starts those threads too.
        let mut handoffs: Vec<Vec<usize>> = vec![Vec::new(); count];
        // Root entries by program: the package's entry points, each auxiliary
        // module's, each script's main block.
        let mut roots: std::collections::BTreeMap<u32, Vec<usize>> = Default::default();
        for (index, entry) in contexts.entries.iter().enumerate() {
            if let Some(caller) = entry.site.as_ref().and_then(|s| s.caller) {
                handoffs[caller].push(index);
            }
            let file = entry
                .site
                .as_ref()
                .map_or_else(|| program.file_of(entry.target), |s| s.file);
            let own =
                program.function(entry.target).program_root || is_auxiliary(&program.files[file]);
            let key = if own { file as u32 + 1 } else { PACKAGE };
            roots.entry(key).or_default().push(index);
        }
        let mut by_function: Vec<[Vec<u32>; 3]> = vec![Default::default(); count];
        for (key, group) in roots {
            let mut queue: VecDeque<(FuncId, Context)> = VecDeque::new();
            let mut visit = |f: FuncId, c: Context, queue: &mut VecDeque<(FuncId, Context)>| {
                let list = &mut by_function[f][c.index()];
                if list.last() != Some(&key) {
                    list.push(key);
                    queue.push_back((f, c));
                }
            };
            for &e in &group {
                let entry = &contexts.entries[e];
                visit(entry.target, entry.context, &mut queue);
            }
            while let Some((function, context)) = queue.pop_front() {
                for &(callee, _) in &contexts.callees[function] {
                    // The edges context propagation follows: a thread does not run
                    // the coroutines it creates, and each coroutine is an entry.
                    if !program.function(callee).is_async
                        && contexts.reach[callee][context.index()].is_some()
                    {
                        visit(callee, context, &mut queue);
                    }
                }
                for &e in &handoffs[function] {
                    let entry = &contexts.entries[e];
                    visit(entry.target, entry.context, &mut queue);
                }
            }
        }
        Programs { by_function }
    }

    /// Whether one program reaches `a` in context `ca` and `b` in context `cb`.
    pub fn together(&self, a: FuncId, ca: Context, b: FuncId, cb: Context) -> bool {
        let (x, y) = (
            &self.by_function[a][ca.index()],
            &self.by_function[b][cb.index()],
        );
        x.iter().any(|p| y.binary_search(p).is_ok())
    }
}
