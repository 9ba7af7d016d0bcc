//! RL104 lazy-init-race: check-then-create on shared state (`if self._x is None:
//! self._x = make()`) that two threads can run at once, without a lock.

use super::edits::wrap_lines;
use super::lock_fix::{
    creation_edits, dedent, display_path, exact_lock_expression, is_reentrant, lock_expression,
    lock_key, lock_setup, refused, through_instance, whole_statements,
};
use super::shared::{access_path, is_declared, lazy_init_writes, runs_in};
use super::snapshot_fix::suspends;
use super::{find, Applicability, Autofix, Finding, Fix, Related};
use crate::analysis::contexts::Context;
use crate::analysis::state::{StateAccess, StateKey};
use crate::analysis::Analysis;
use crate::model::{Await, Language};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL104").expect("RL104 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        if is_declared(analysis, state) {
            continue;
        }
        let Some(write) = lazy_init_writes(analysis, accesses).into_iter().next() else {
            continue;
        };
        let name = state.display(&analysis.program);
        let message = match write.start_checked_in {
            Some(_) => format!(
                "`{name}` is created by a thread that an unlocked check starts: two callers can both see it missing and both start the thread"
            ),
            None => format!(
                "`{name}` is created lazily without a lock: two threads can both see it missing and both create it"
            ),
        };
        let mut finding = Finding::new(
            rule,
            write.file,
            write.access.span,
            message,
            "check-then-create without a lock".to_string(),
        );
        finding.state = Some(name);
        finding.contexts = Context::ALL
            .into_iter()
            .filter(|c| runs_in(analysis, write, *c))
            .collect();
        finding.related.extend(starting_check(analysis, write));
        for context in Context::ALL {
            finding.flows.extend(
                access_path(analysis, write, context)
                    .map(|f| f.ending_at(write.file, write.access.span, &finding.label)),
            );
        }
        let (fix, autofix) = double_checked_fix(analysis, state, write);
        finding.fix = Some(fix);
        finding.autofix = autofix;
        findings.push(finding);
    }
    findings
}

/// Whether the lines from the check through the creation suspend (an `await` between
/// them, in the creating function or in the caller that checks): a thread lock held
/// across them would block the loop's thread while the coroutine waits (RL202).
fn check_suspends(analysis: &Analysis, write: &StateAccess, range: (u32, u32)) -> bool {
    let file = &analysis.program.files[write.file];
    let lines: Vec<&str> = file.source.lines().collect();
    let awaits: Vec<Await> = file
        .functions
        .iter()
        .flat_map(|f| f.awaits.iter().cloned())
        .collect();
    suspends(&lines, &awaits, range)
}

/// For a check that suspends before the creation: where the lock belongs instead, in
/// words, since no block of these lines may hold it.
fn awaiting_check_fix(
    analysis: &Analysis,
    write: &StateAccess,
    lock_expr: &str,
    setup: Option<String>,
    first: u32,
) -> Fix {
    let creation = write.access.statement_lines.0;
    let mut code = setup.unwrap_or_default();
    code.push_str(&format!(
        "\n# {}:{creation}\n# The check at line {first} and this creation have an `await` \
         between them: no thread lock may be held across it. Take `{lock_expr}` here, \
         repeat the check under it, and create only if the value is still missing.\n",
        display_path(analysis, write.file)
    ));
    Fix {
        description: "Use double-checked locking in the code that creates the value: keep the unlocked check, and repeat it under a thread lock taken right before creating, after the last `await`.".to_string(),
        code: code.trim_start_matches('\n').to_string(),
    }
}

/// For a value a started thread creates: the call, under the check, that leads to the
/// thread's start, in the function that two threads can run at once.
fn starting_check(analysis: &Analysis, write: &StateAccess) -> Option<Related> {
    let (checker, span) = write.start_checked_in?;
    let function = analysis.program.function(checker);
    Some(Related {
        file: analysis.program.file_of(checker),
        span,
        message: format!(
            "checked here with no lock, then this call starts the thread that creates it; `{}` can run on two threads at once",
            function.display
        ),
    })
}

/// The check, repeated under a `threading.Lock`: the cheap unlocked check stays for the
/// common case, and only the first creators contend for the lock. As edits too (unsafe:
/// a lock where there was none), where the check and the creation can be moved
/// exactly.
fn double_checked_fix(
    analysis: &Analysis,
    state: &StateKey,
    write: &StateAccess,
) -> (Fix, Option<Autofix>) {
    let (lock, setup) = lock_setup(analysis, state);
    let lock_expr = lock_expression(analysis, state, write, &lock);
    let source = &analysis.program.files[write.file].source;
    let (first, last) = whole_statements(
        source,
        write.checked_by.unwrap_or(write.access.statement_lines),
    );
    let lines = dedent(source, first, last);
    if check_suspends(analysis, write, (first, last)) {
        return (
            awaiting_check_fix(analysis, write, &lock_expr, setup, first),
            None,
        );
    }
    if write.start_checked_in.is_some() {
        return (
            started_thread_fix(analysis, write, &lock, &lock_expr, setup, &lines, first),
            None,
        );
    }
    let autofix = double_checked_edits(analysis, state, write, &lock, setup.is_some());
    let header = lines.first().cloned().unwrap_or_default();
    let simple = header.trim_end().ends_with(':')
        && !lines[1..]
            .iter()
            .any(|l| !l.starts_with(' ') && !l.trim().is_empty());
    let mut code = setup.unwrap_or_default();
    code.push_str(&format!(
        "\n# {}:{first}\n",
        display_path(analysis, write.file)
    ));
    if simple {
        code.push_str(&format!(
            "{header}\n    with {lock_expr}:\n        {header}\n"
        ));
        for line in &lines[1..] {
            code.push_str(&format!("        {line}\n"));
        }
    } else {
        code.push_str(&format!("with {lock_expr}:\n"));
        for line in &lines {
            code.push_str(&format!("    {line}\n"));
        }
    }
    let fix = Fix {
        description: format!(
            "Use double-checked locking: keep the unlocked check, and repeat it under `{lock}` before creating."
        ),
        code: code.trim_start_matches('\n').to_string(),
    };
    (fix, autofix)
}

/// For a value a started thread creates: the check and the start under one lock, held
/// until the value exists or with the start recorded under it. Repeating the check
/// under the lock, as double-checked locking does, passes again before the new thread
/// has made the value, so no edits are offered.
fn started_thread_fix(
    analysis: &Analysis,
    write: &StateAccess,
    lock: &str,
    lock_expr: &str,
    setup: Option<String>,
    lines: &[String],
    first: u32,
) -> Fix {
    let mut code = setup.unwrap_or_default();
    code.push_str(&format!(
        "\n# {}:{first}\n",
        display_path(analysis, write.file)
    ));
    code.push_str(&format!("with {lock_expr}:\n"));
    for line in lines {
        code.push_str(&format!("    {line}\n"));
    }
    Fix {
        description: format!(
            "Hold `{lock}` around the check and the start of the thread that creates the value, and keep it until that thread has made it (wait for it before the lock is released), or record under the lock that the thread was started (a flag set there) and test that: a check repeated under the lock alone passes again before the new thread has made the value, and a `Thread` started twice raises `RuntimeError`."
        ),
        code: code.trim_start_matches('\n').to_string(),
    }
}

/// The double-checked rewrite as edits: under a one-line `if` check, its body moves
/// under `with <lock>:` and the check repeated; without one, the creating statement is
/// wrapped. `new_lock`: the lock does not exist yet and is created too.
fn double_checked_edits(
    analysis: &Analysis,
    state: &StateKey,
    write: &StateAccess,
    lock: &str,
    new_lock: bool,
) -> Option<Autofix> {
    let file = &analysis.program.files[write.file];
    if file.language != Language::Python {
        return None;
    }
    let key = lock_key(state, lock);
    let lock_expr = exact_lock_expression(analysis, state, write, &key)?;
    let (first, last) = whole_statements(
        &file.source,
        write.checked_by.unwrap_or(write.access.statement_lines),
    );
    let lines = dedent(&file.source, first, last);
    if refused(
        analysis,
        write.function,
        write.file,
        (first, last),
        &lock_expr,
    ) || (!new_lock && !is_reentrant(analysis, &key))
    {
        return None;
    }
    let header = lines.first()?;
    // Repeated under the lock, the check must be a plain test of the state: no call,
    // which would run twice.
    let one_line_check = (header.starts_with("if ") || header.starts_with("if("))
        && header.trim_end().ends_with(':')
        && !header.contains('(')
        && last > first
        && lines[1..]
            .iter()
            .all(|l| l.starts_with([' ', '\t']) || l.trim().is_empty());
    let mut edits = if new_lock {
        creation_edits(
            analysis,
            state,
            lock,
            through_instance(analysis, state, &lock_expr),
        )?
    } else {
        Vec::new()
    };
    let with = format!("with {lock_expr}:");
    edits.extend(if one_line_check {
        wrap_lines(
            write.file,
            &file.source,
            (first + 1, last),
            &[with, header.trim_end().to_string()],
        )?
    } else {
        wrap_lines(write.file, &file.source, (first, last), &[with])?
    });
    Some(Autofix {
        applicability: Applicability::Unsafe,
        edits,
    })
}
