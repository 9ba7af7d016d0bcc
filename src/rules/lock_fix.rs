//! The "add a lock" fix, written out for the code at hand: which lock (an existing
//! thread lock of the class or module, else a new one), where to create it, and each
//! unprotected statement wrapped in `with`.

use std::collections::BTreeSet;

use super::Fix;
use crate::analysis::state::{external_type, StateAccess, StateKey};
use crate::analysis::Analysis;
use crate::model::{FileId, SymbolKind};

/// Builds the lock fix for `state`, wrapping every access that lacks the lock.
pub fn lock_fix(analysis: &Analysis, state: &StateKey, accesses: &[StateAccess]) -> Fix {
    let program = &analysis.program;
    let existing = existing_lock(analysis, state);
    let (lock_name, owner_file, setup) = match (state, &existing) {
        (StateKey::Attribute { class, .. }, Some(lock)) => {
            (lock.clone(), program.class_file(*class), None)
        }
        (StateKey::Attribute { class, name }, None) => {
            let lock = format!("_{}_lock", name.trim_start_matches('_'));
            let class_model = program.class(*class);
            let setup = format!(
                "# In {}.__init__:\nself.{lock} = threading.Lock()\n",
                class_model.name
            );
            (lock, program.class_file(*class), Some(setup))
        }
        (StateKey::Global { file, .. }, Some(lock)) => (lock.clone(), *file, None),
        (StateKey::Global { file, name }, None) => {
            let lock = format!("_{}_lock", name.trim_start_matches('_').to_lowercase());
            let setup = format!(
                "# At module level in {} (with `import threading`):\n{lock} = threading.Lock()\n",
                display_path(analysis, *file)
            );
            (lock, *file, Some(setup))
        }
    };
    let lock_key = existing.as_ref().map(|_| lock_key(state, &lock_name));

    let mut code = setup.unwrap_or_default();
    let mut covered: BTreeSet<(FileId, u32)> = BTreeSet::new();
    let mut sorted: Vec<&StateAccess> = accesses
        .iter()
        .filter(|a| lock_key.as_ref().is_none_or(|k| !a.locks.contains(k)))
        .collect();
    sorted.sort_by_key(|a| (display_path(analysis, a.file), a.access.span.start));
    let mut lines_listed = Vec::new();
    for access in sorted {
        let line = access.access.span.start.line;
        if covered.contains(&(access.file, line)) {
            continue;
        }
        let source = &program.files[access.file].source;
        let (first, last) = statement_lines(source, line, access.access.span.end.line);
        covered.extend((first..=last).map(|l| (access.file, l)));
        let lock_expr = lock_expression(analysis, state, access, &lock_name, owner_file);
        let path = display_path(analysis, access.file);
        lines_listed.push(format!("{path}:{line}"));
        code.push_str(&format!("\n# {path}:{line}\n"));
        if access.file != owner_file && matches!(state, StateKey::Global { .. }) {
            code.push_str(&format!(
                "# from {} import {lock_name}\n",
                program.files[owner_file].module
            ));
        }
        code.push_str(&format!("with {lock_expr}:\n"));
        for text in dedent(source, first, last) {
            code.push_str("    ");
            code.push_str(&text);
            code.push('\n');
        }
    }
    let state_name = state.display(program);
    let description = match &existing {
        Some(_) => format!(
            "Hold the existing lock `{lock_name}` around every access to `{state_name}` ({}).",
            lines_listed.join(", ")
        ),
        None => format!(
            "Guard `{state_name}` with a `threading.Lock` held around every access ({}).",
            lines_listed.join(", ")
        ),
    };
    Fix {
        description,
        code: code.trim_start_matches('\n').to_string(),
    }
}

/// A thread lock the class (or module) already has, by name.
fn existing_lock(analysis: &Analysis, state: &StateKey) -> Option<String> {
    let program = &analysis.program;
    let is_lock = |file: FileId, ty: &Option<String>| {
        external_type(program, &ty.clone().map(|t| (file, t)))
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
            SymbolKind::Variable { ty } if is_lock(*file, ty) => Some(s.name.clone()),
            _ => None,
        }),
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
    }
}

/// How the lock is spelt at one access: `self._x_lock`, `cache._x_lock` (the same
/// receiver the access uses), or the module-level name.
fn lock_expression(
    analysis: &Analysis,
    state: &StateKey,
    access: &StateAccess,
    lock: &str,
    _owner: FileId,
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

/// The lines of the statement around an access: the access's own lines, extended over
/// the block when they are a compound statement's header (`for … :`, `if … :`).
fn statement_lines(source: &str, first: u32, last: u32) -> (u32, u32) {
    let lines: Vec<&str> = source.lines().collect();
    let at = |n: u32| lines.get(n as usize - 1).copied().unwrap_or("");
    let mut end = last.max(first);
    if strip_comment(at(end)).trim_end().ends_with(':') {
        let indent = indentation(at(first));
        let mut next = end + 1;
        while (next as usize) <= lines.len() {
            let line = at(next);
            if !line.trim().is_empty() && indentation(line) <= indent {
                break;
            }
            if !line.trim().is_empty() {
                end = next;
            }
            next += 1;
        }
    }
    (first, end)
}

fn strip_comment(line: &str) -> &str {
    line.split_once(" #").map_or(line, |(code, _)| code)
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Lines `first..=last`, with their common indentation removed.
fn dedent(source: &str, first: u32, last: u32) -> Vec<String> {
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
