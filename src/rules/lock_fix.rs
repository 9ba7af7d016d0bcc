//! The "add a lock" fix, written out for the code at hand: which lock (an existing
//! thread lock of the class or module, else a new one), where to create it, and each
//! unprotected statement wrapped in `with`.

use std::collections::BTreeSet;

use super::Fix;
use crate::analysis::state::{state_type, StateAccess, StateKey};
use crate::analysis::Analysis;
use crate::model::{FileId, SymbolKind};

/// Builds the lock fix for `state`, wrapping every access that lacks the lock.
/// `lock`, when given, is the lock to use (the one the code already takes elsewhere).
pub fn lock_fix(
    analysis: &Analysis,
    state: &StateKey,
    accesses: &[StateAccess],
    lock: Option<&StateKey>,
) -> Fix {
    let program = &analysis.program;
    let existing = lock
        .map(|l| l.name().to_string())
        .or_else(|| existing_lock(analysis, state));
    let owner_file = match state {
        StateKey::Attribute { class, .. } => program.class_file(*class),
        StateKey::Global { file, .. } => *file,
        StateKey::Framework { .. } => accesses.first().map_or(0, |a| a.file),
    };
    let (lock_name, setup) = match &existing {
        Some(lock) => (lock.clone(), None),
        None => lock_setup(analysis, state),
    };
    let lock_key = existing.as_ref().map(|_| lock_key(state, &lock_name));

    let mut code = setup.unwrap_or_default();
    let mut unprotected: Vec<&StateAccess> = accesses
        .iter()
        .filter(|a| lock_key.as_ref().is_none_or(|k| !a.locks.contains(k)))
        .collect();
    unprotected.sort_by_key(|a| (display_path(analysis, a.file), a.access.span.start));
    let functions: BTreeSet<usize> = unprotected.iter().map(|a| a.function).collect();
    if functions.len() > MAX_WRAPPED_FUNCTIONS {
        return design_fix(analysis, state, &unprotected);
    }
    let mut lines_listed: Vec<(String, u32)> = Vec::new();
    let mut covered: BTreeSet<(FileId, u32)> = BTreeSet::new();
    for group in unprotected.chunk_by(|a, b| a.function == b.function) {
        let first = group[0];
        let source = &program.files[first.file].source;
        let path = display_path(analysis, first.file);
        lines_listed.extend(
            group
                .iter()
                .map(|a| (path.clone(), a.access.span.start.line)),
        );
        let lock_expr = lock_expression(analysis, state, first, &lock_name);
        for (start, end) in blocks(source, group, &lock_expr) {
            if covered.contains(&(first.file, start)) {
                continue;
            }
            covered.extend((start..=end).map(|l| (first.file, l)));
            code.push_str(&format!("\n# {path}:{start}\n"));
            if first.file != owner_file && matches!(state, StateKey::Global { .. }) {
                code.push_str(&format!(
                    "# from {} import {lock_name}\n",
                    program.files[owner_file].module
                ));
            }
            code.push_str(&format!("with {lock_expr}:\n"));
            for text in dedent(source, start, end) {
                code.push_str("    ");
                code.push_str(&text);
                code.push('\n');
            }
        }
    }
    lines_listed.dedup();
    let state_name = state.display(program);
    let places = places(&lines_listed);
    let description = match &existing {
        Some(_) => format!(
            "Hold the existing lock `{lock_name}` around every access to `{state_name}` ({places})."
        ),
        None => format!(
            "Guard `{state_name}` with a `threading.Lock` held around every access ({places})."
        ),
    };
    Fix {
        description,
        code: code.trim_start_matches('\n').to_string(),
    }
}

/// Past this many functions to edit, a `with` block at every access is no fix anyone
/// applies: the fix is a design change instead, and the finding stays readable.
const MAX_WRAPPED_FUNCTIONS: usize = 8;

/// How many places a design-level fix names before it counts the rest.
const PLACES_NAMED: usize = 5;

/// The fix for state touched in many places: confine its writes to the event loop, or
/// make it an object that owns its lock. Names the first places and counts the rest.
fn design_fix(analysis: &Analysis, state: &StateKey, unprotected: &[&StateAccess]) -> Fix {
    let program = &analysis.program;
    let state_name = state.display(program);
    let lines: Vec<(String, u32)> = unprotected
        .iter()
        .map(|a| (display_path(analysis, a.file), a.access.span.start.line))
        .collect();
    let files: BTreeSet<&String> = lines.iter().map(|(path, _)| path).collect();
    let named = places(&lines[..lines.len().min(PLACES_NAMED)]);
    let rest = lines.len().saturating_sub(PLACES_NAMED);
    let class_name = format!(
        "Locked{}",
        state
            .name()
            .split(['.', '_'])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut chars = p.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_uppercase().collect::<String>() + chars.as_str()
                })
            })
            .collect::<String>()
    );
    Fix {
        description: format!(
            "`{state_name}` is accessed without a common lock in {} places in {} ({named}{}): \
             a lock around each is not a fix at this scale. Confine its writes to the event loop \
             (a worker hands each write over with `loop.call_soon_threadsafe(...)` or \
             `asyncio.run_coroutine_threadsafe(...)`), or replace it with an object that owns a \
             `threading.Lock` and takes it in every method.",
            lines.len(),
            match files.len() {
                1 => "1 file".to_string(),
                n => format!("{n} files"),
            },
            if rest > 0 {
                format!(", and {rest} more")
            } else {
                String::new()
            },
        ),
        code: format!(
            "# Either: the worker hands its write to the loop (`loop` taken with\n\
             # asyncio.get_running_loop() on the loop, before the handoff).\n\
             loop.call_soon_threadsafe(apply_update, key, value)\n\n\
             # Or: an object that owns its lock, used everywhere instead of the bare state.\n\
             class {class_name}:\n    \
                 def __init__(self) -> None:\n        \
                     self._lock = threading.Lock()\n        \
                     self._data = {{}}\n\n    \
                 def set(self, key, value) -> None:\n        \
                     with self._lock:\n            \
                         self._data[key] = value\n\n    \
                 def get(self, key, default=None):\n        \
                     with self._lock:\n            \
                         return self._data.get(key, default)\n"
        ),
    }
}

/// The lock to guard `state` with: the class's or module's existing thread lock, else a
/// new one, with the code that creates it.
pub fn lock_setup(analysis: &Analysis, state: &StateKey) -> (String, Option<String>) {
    if let Some(existing) = existing_lock(analysis, state) {
        return (existing, None);
    }
    let program = &analysis.program;
    match state {
        StateKey::Attribute { class, name } => {
            let lock = format!("_{}_lock", name.trim_start_matches('_'));
            let model = program.class(*class);
            let class_level = model
                .attributes
                .iter()
                .any(|a| a.name == *name && a.class_level);
            let setup = if class_level {
                format!(
                    "# In the body of class {}:\n{lock} = threading.Lock()\n",
                    model.name
                )
            } else {
                format!(
                    "# In {}.__init__:\nself.{lock} = threading.Lock()\n",
                    model.name
                )
            };
            (lock, Some(setup))
        }
        StateKey::Global { file, name } => {
            let lock = format!("_{}_lock", name.trim_start_matches('_').to_lowercase());
            let setup = format!(
                "# At module level in {} (with `import threading`):\n{lock} = threading.Lock()\n",
                display_path(analysis, *file)
            );
            (lock, Some(setup))
        }
        // On the application object itself, where every route reaches it.
        StateKey::Framework { name, .. } => {
            let lock = format!("{name}_lock");
            let setup = format!(
                "# Once, where the application is set up (at start-up, before serving):
{lock} = threading.Lock()
"
            );
            (lock, Some(setup))
        }
    }
}

/// "shop/db.py lines 40, 43; shop/api.py line 7"
fn places(lines: &[(String, u32)]) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (path, line) in lines {
        match groups.last_mut() {
            Some((last, numbers)) if last == path => numbers.push(line.to_string()),
            _ => groups.push((path.clone(), vec![line.to_string()])),
        }
    }
    groups
        .iter()
        .map(|(path, numbers)| {
            let word = if numbers.len() == 1 { "line" } else { "lines" };
            format!("{path} {word} {}", numbers.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A thread lock the class (or module) already has, by name.
fn existing_lock(analysis: &Analysis, state: &StateKey) -> Option<String> {
    let program = &analysis.program;
    let is_lock = |file: FileId, ty: &Option<String>| {
        state_type(program, &ty.clone().map(|t| (file, t)))
            .is_some_and(|t| analysis.catalogue.is_thread_lock(&t))
    };
    match state {
        StateKey::Attribute { class, .. } => {
            let file = program.class_file(*class);
            program
                .class(*class)
                .attributes
                .iter()
                .find(|a| is_lock(file, &a.ty))
                .map(|a| a.name.clone())
        }
        StateKey::Global { file, .. } => program.files[*file].symbols.iter().find_map(|s| match &s
            .kind
        {
            SymbolKind::Variable { ty, .. } if is_lock(*file, ty) => Some(s.name.clone()),
            _ => None,
        }),
        StateKey::Framework { .. } => None,
    }
}

fn lock_key(state: &StateKey, lock: &str) -> StateKey {
    match state {
        StateKey::Attribute { class, .. } => StateKey::Attribute {
            class: *class,
            name: lock.to_string(),
        },
        StateKey::Global { file, .. } => StateKey::Global {
            file: *file,
            name: lock.to_string(),
        },
        StateKey::Framework { root, .. } => StateKey::Framework {
            root: *root,
            name: lock.to_string(),
        },
    }
}

/// How the lock is spelt at one access: `self._x_lock`, `cache._x_lock` (the same
/// receiver the access uses), or the module-level name.
pub fn lock_expression(
    analysis: &Analysis,
    state: &StateKey,
    access: &StateAccess,
    lock: &str,
) -> String {
    let StateKey::Attribute { name, .. } = state else {
        return lock.to_string();
    };
    let source = &analysis.program.files[access.file].source;
    let span = access.access.span;
    let text = source
        .get(span.offset..span.offset + span.len)
        .unwrap_or("");
    match text.find(&format!(".{name}")) {
        Some(at) if at > 0 => format!("{}.{lock}", &text[..at]),
        _ => format!("self.{lock}"),
    }
}

/// The line ranges to wrap for one function's accesses: one block spanning all of them
/// when that is valid Python and safe to hold the lock over, else each access's own
/// statement.
fn blocks(source: &str, group: &[&StateAccess], lock_expr: &str) -> Vec<(u32, u32)> {
    let lines: Vec<&str> = source.lines().collect();
    let start = group
        .iter()
        .map(|a| a.access.statement_lines.0)
        .min()
        .unwrap_or(1);
    let end = group
        .iter()
        .map(|a| a.access.statement_lines.1)
        .max()
        .unwrap_or(start);
    let whole = valid_block(&lines, start, end);
    // One block must not span an `await` (a thread lock across it blocks the loop), nor
    // a place that already takes the lock (re-taking a plain `Lock` deadlocks).
    let retakes = format!("with {lock_expr}:");
    let unsafe_to_span = (whole.0..=whole.1).any(|n| {
        let text = line(&lines, n);
        text.contains("await ")
            || text.contains(&retakes)
            || text.contains(&format!("{lock_expr}.acquire("))
    });
    if group.len() == 1 || !unsafe_to_span {
        return vec![whole];
    }
    group
        .iter()
        .map(|a| {
            valid_block(
                &lines,
                a.access.statement_lines.0,
                a.access.statement_lines.1,
            )
        })
        .collect()
}

/// Widens `start..=end` until it is a run of whole statements of one block: up to the
/// statement a deeper first line belongs to, down over deeper lines, and on through
/// `elif`/`else`/`except`/`finally` clauses that continue a compound statement.
fn valid_block(lines: &[&str], mut start: u32, mut end: u32) -> (u32, u32) {
    let code_lines =
        |from: u32, to: u32| (from..=to).filter(|&n| !line(lines, n).trim().is_empty());
    let base = code_lines(start, end)
        .map(|n| indentation(line(lines, n)))
        .min()
        .unwrap_or(0);
    while start > 1 && indentation(line(lines, start)) > base {
        start -= 1;
        while start > 1 && line(lines, start).trim().is_empty() {
            start -= 1;
        }
    }
    loop {
        let next = (end + 1..=lines.len() as u32).find(|&n| !line(lines, n).trim().is_empty());
        let Some(next) = next else { break };
        let text = line(lines, next);
        let continues = indentation(text) > base
            || (indentation(text) == base
                && ["elif", "else", "except", "finally"]
                    .iter()
                    .any(|k| text.trim_start().starts_with(k)));
        if !continues {
            break;
        }
        end = next;
    }
    (start, end)
}

fn line<'s>(lines: &[&'s str], number: u32) -> &'s str {
    lines.get(number as usize - 1).copied().unwrap_or("")
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Lines `first..=last`, with their common indentation removed.
pub fn dedent(source: &str, first: u32, last: u32) -> Vec<String> {
    let lines: Vec<&str> = source
        .lines()
        .skip(first as usize - 1)
        .take((last - first + 1) as usize)
        .collect();
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indentation(l))
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(common..).unwrap_or("").trim_end().to_string())
        .collect()
}

/// The file's path as reports show it.
pub fn display_path(analysis: &Analysis, file: FileId) -> String {
    analysis.program.files[file]
        .path
        .to_string_lossy()
        .replace('\\', "/")
}
