//! Programs: which entry points run in one process together.
//!
//! A tree holds more than one program. Tests, examples, scripts, docs and benchmarks
//! are programs of their own that import the package they exercise, and one test
//! module does not run concurrently with another. Two accesses can race only when one
//! program reaches both: the package's own entry points form one program; each
//! auxiliary module (a file under `tests/`, `test/`, `testing/`, `examples/`,
//! `docs/`, `benchmarks/`, `scripts/`, or named `test_*.py`, `*_test.py`,
//! `conftest.py`) is a program of its own, and so is each main-thread root: a
//! module's `if __name__ == "__main__":` block (the module run as a script), a
//! console script, a command-line command, a script's module code that starts a
//! thread (`Contexts::script_from`). A program is its
//! roots, the code they call, and the threads and tasks that code starts.
//!
//! Within an auxiliary module, a test runner runs one test function (`test_*`, or a
//! method of a test class) at a time: the threads and tasks a test starts run beside
//! that test, not beside another test. Each test function is a program of its own,
//! joined by the module's other roots (module-level code, fixtures and helpers, which
//! any test may use). So is each command of a command line (a console script, a click
//! or typer command): one invocation runs one command.

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

/// The test function (`test_*`, or a test class's `test_*` method) that `function` is,
/// or is nested in, by its canonical path: what a test runner calls as one test.
fn test_function<'m>(program: &Program<'m>, function: FuncId) -> Option<&'m str> {
    let path = program.function(function).path.as_str();
    let module = &program.files[program.file_of(function)].module;
    let rest = path.strip_prefix(module.as_str())?.strip_prefix('.')?;
    let mut end = module.len();
    for segment in rest.split('.') {
        end += 1 + segment.len();
        if segment.starts_with("test") {
            return Some(&path[..end]);
        }
    }
    None
}

/// The program of the package's own entry points.
const PACKAGE: u32 = 0;

/// Per function and context, the programs that reach it.
pub struct Programs {
    /// Program ids, sorted: `PACKAGE`; 1 + the file id of an auxiliary module or of a
    /// module run as a script (`if __name__ == "__main__":`); past the files, one per
    /// test function (1 + file count + its function id).
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
        // Entries written in a test function, by the module's program key.
        let mut tests: std::collections::BTreeMap<u32, Vec<(&str, usize)>> = Default::default();
        for (index, entry) in contexts.entries.iter().enumerate() {
            if let Some(caller) = entry.site.as_ref().and_then(|s| s.caller) {
                handoffs[caller].push(index);
            }
            let file = entry
                .site
                .as_ref()
                .map_or_else(|| program.file_of(entry.target), |s| s.file);
            let auxiliary = is_auxiliary(&program.files[file]);
            // The main thread's roots (a script's main block or module code, a console
            // script, a command) start a process of their own.
            let main_root = entry.context == Context::MainThread
                && entry.site.as_ref().is_none_or(|s| s.caller.is_none());
            let own = main_root || auxiliary;
            let key = if own { file as u32 + 1 } else { PACKAGE };
            let anchor = entry
                .site
                .as_ref()
                .and_then(|s| s.caller)
                .unwrap_or(entry.target);
            // Each command of a command line (a console script, a click command) runs
            // in a process of its own: a program like a test's, joined by its module's
            // other roots.
            let target = program.function(entry.target);
            let command = (main_root && !target.program_root && target.name != "<module>")
                .then_some(target.path.as_str());
            match command.or_else(|| test_function(program, anchor).filter(|_| auxiliary)) {
                Some(test) => tests.entry(key).or_default().push((test, index)),
                None => roots.entry(key).or_default().push(index),
            }
        }
        // Each test's program: its own entries, and its module's other roots.
        let mut next = program.files.len() as u32 + 1;
        for (key, entries) in tests {
            let shared = roots.get(&key).cloned().unwrap_or_default();
            let mut keys: std::collections::BTreeMap<&str, u32> = Default::default();
            for (test, index) in entries {
                let test_key = *keys.entry(test).or_insert_with(|| {
                    next += 1;
                    next - 1
                });
                let group = roots.entry(test_key).or_default();
                if group.is_empty() {
                    group.extend(&shared);
                }
                group.push(index);
            }
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
                    // the coroutines it creates (unless on a private loop), and each
                    // coroutine is an entry.
                    if contexts.runs_on_same_thread(program, function, callee, context)
                        && contexts.reach[callee][context.index()].is_some()
                    {
                        visit(callee, context, &mut queue);
                    }
                }
                // A coroutine on a worker's private loop schedules callbacks and tasks
                // on that loop, not on the main one: they are not main-loop code of
                // this program.
                let private_loop =
                    context == Context::WorkerThread && program.function(function).is_async;
                for &e in &handoffs[function] {
                    let entry = &contexts.entries[e];
                    if private_loop && entry.context == Context::EventLoop {
                        continue;
                    }
                    visit(entry.target, entry.context, &mut queue);
                }
            }
        }
        Programs { by_function }
    }

    /// Whether one program may run both `a` and `b`, in any contexts: one program
    /// reaches both, or, for a function no program reaches (a library's public API),
    /// both are package code or one module's own.
    pub fn may_run_both(&self, program: &Program, a: FuncId, b: FuncId) -> bool {
        let reached = |f: FuncId| self.by_function[f].iter().any(|p| !p.is_empty());
        if reached(a) && reached(b) {
            return Context::ALL.into_iter().any(|ca| {
                Context::ALL
                    .into_iter()
                    .any(|cb| self.together(a, ca, b, cb))
            });
        }
        let (fa, fb) = (program.file_of(a), program.file_of(b));
        fa == fb || !is_auxiliary(&program.files[fa]) && !is_auxiliary(&program.files[fb])
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
