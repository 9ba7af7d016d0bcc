//! RL301 guard-across-await: a blocking (`std::sync`, `parking_lot`) guard live at an
//! `.await`. The front-end ends a guard where Rust drops it, so `drop(guard)` and inner
//! blocks that close before the await are not reported.

use super::rust_facts::{held_at_awaits, line, text, HeldAtAwait};
use super::shared::call_path;
use super::{find, Applicability, Autofix, Edit, Finding, Fix, Related};
use crate::analysis::contexts::{resolve_call, CallTarget, Context};
use crate::analysis::Analysis;
use crate::model::{Guard, GuardKind};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL301").expect("RL301 is registered");
    let mut findings = Vec::new();
    for HeldAtAwait {
        function,
        file,
        guard,
        suspension,
    } in held_at_awaits(analysis, |file, guard| is_guard(analysis, file, guard))
    {
        let taken = held_text(analysis, file, guard);
        let mut finding = Finding::new(
            rule,
            file,
            guard.span,
            format!(
                "{taken} is still held at the `.await` on line {}: the task keeps a blocking lock while suspended, \
                 so every other task or thread that wants it blocks a runtime thread (or deadlocks, if it runs on \
                 this one)",
                suspension.span.start.line
            ),
            format!("held across the `.await` on line {}", suspension.span.start.line),
        );
        finding.state = Some(text(analysis, file, guard.span).to_string());
        finding.contexts = vec![Context::EventLoop];
        finding.related.push(Related {
            file,
            span: suspension.span,
            message: "suspends here with the guard held".to_string(),
        });
        finding.flows.extend(
            call_path(analysis, function, Context::EventLoop)
                .map(|f| f.ending_at(file, suspension.span, "awaits holding the guard")),
        );
        let awaited = line(analysis, file, suspension.span.start.line);
        finding.fix = Some(fix(analysis, file, guard, awaited));
        finding.autofix = drop_before(analysis, file, guard, suspension.span.start.line);
        findings.push(finding);
    }
    findings
}

/// A lock guard, or a value bound from a call to a sync function declared to return
/// one (in any file of the crate). `RefCell` borrows are RL307's; a lock future
/// awaited or pinned later is an async lock's.
fn is_guard(analysis: &Analysis, file: usize, guard: &Guard) -> bool {
    if guard.kind != GuardKind::Lock || !guard.blocking {
        return false;
    }
    let Some(callee) = &guard.callee else {
        return true;
    };
    let program = &analysis.program;
    matches!(
        resolve_call(program, file, callee),
        CallTarget::Function(f) if program.function(f).returns_guard
    )
}

fn held_text(analysis: &Analysis, file: usize, guard: &Guard) -> String {
    let acquisition = text(analysis, file, guard.span);
    match (&guard.binding, &guard.helper) {
        (Some(binding), Some(helper)) => {
            format!(
                "The guard `{binding}` returned by `{helper}()` (a lock taken in a sync helper)"
            )
        }
        (Some(binding), None) => format!("The guard `{binding}` from `{acquisition}`"),
        (None, _) => format!("The temporary guard of `{acquisition}`"),
    }
}

/// `drop(guard);` on its own line before the awaiting statement, when that is where the
/// guard's use ends: the statement starts a line, in the block the guard was bound in
/// (the braces between balance: no loop or branch the drop would land in), and neither
/// the binding nor a name bound after it (which may borrow from it) is named from there
/// to where the guard would have been dropped, nor is the binding shadowed. Unsafe:
/// whatever the lock protected after that point is no longer protected.
fn drop_before(
    analysis: &Analysis,
    file: usize,
    guard: &Guard,
    await_line: u32,
) -> Option<Autofix> {
    let binding = guard.binding.as_deref().filter(|b| *b != "_")?;
    let source = &analysis.program.files[file].source;
    let lines: Vec<&str> = source.lines().collect();
    let bound_end = guard.statement_lines.1;
    if await_line <= bound_end || guard.live_until < await_line {
        return None;
    }
    let code = |n: u32| {
        let text = lines.get(n as usize - 1).copied().unwrap_or("");
        text.split("//").next().unwrap_or("").trim()
    };
    let previous = (bound_end..await_line)
        .rev()
        .map(code)
        .find(|t| !t.is_empty())?;
    if !previous.ends_with([';', '{', '}']) {
        return None;
    }
    let mut depth = 0i32;
    for n in bound_end + 1..await_line {
        for c in code(n).chars() {
            depth += match c {
                '{' => 1,
                '}' => -1,
                _ => 0,
            };
            if depth < 0 {
                return None;
            }
        }
    }
    // Names bound in between may borrow from the guard (`let session =
    // sessions.get_mut(id)?`), or shadow it: none may be named after the drop either.
    let mut watched = vec![binding.to_string()];
    for n in bound_end + 1..await_line {
        if let Some(rest) = code(n).strip_prefix("let ") {
            let rest = rest.trim_start_matches("mut ").trim_start();
            let name: String = rest
                .chars()
                .take_while(|c| {
                    c.is_alphanumeric() || *c == '_' || *c == '(' || *c == ',' || *c == ' '
                })
                .collect();
            for word in name.split(|c: char| !c.is_alphanumeric() && c != '_') {
                if word == binding {
                    return None;
                }
                if !word.is_empty() && word != "mut" {
                    watched.push(word.to_string());
                }
            }
        }
    }
    let named_later = (await_line..=guard.live_until).any(|n| {
        code(n)
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|word| watched.iter().any(|w| w == word))
    });
    if depth != 0 || named_later {
        return None;
    }
    let line_text = lines.get(await_line as usize - 1)?;
    let indent = &line_text[..line_text.len() - line_text.trim_start().len()];
    let offset = crate::source::LineIndex::new(source).line_start(await_line);
    Some(Autofix {
        applicability: Applicability::Unsafe,
        edits: vec![Edit {
            file,
            offset,
            len: 0,
            replacement: format!("{indent}drop({binding});\n"),
        }],
    })
}

/// End the critical section before the await: an inner block for a bound guard, a
/// separate statement for a temporary one.
fn fix(analysis: &Analysis, file: usize, guard: &Guard, awaited: &str) -> Fix {
    let acquisition = text(analysis, file, guard.span);
    // The awaiting statement as written, when it stands alone and no longer needs the
    // guard; otherwise a placeholder.
    let uses_guard = guard.binding.as_ref().is_some_and(|binding| {
        awaited
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|word| word == binding)
    });
    let balanced = [('(', ')'), ('[', ']'), ('{', '}')]
        .iter()
        .all(|&(open, close)| awaited.matches(open).count() == awaited.matches(close).count());
    let awaited = if awaited.ends_with(';')
        && awaited.contains(".await")
        && balanced
        && !uses_guard
        && !awaited.contains(acquisition)
    {
        awaited.to_string()
    } else {
        "do_async_work(snapshot).await;".to_string()
    };
    let description = "End the critical section before the `.await`: copy what you need out of the guard, \
        let the guard go (an inner block, or `drop(guard)`), then await. Lock again afterwards if the result must \
        be stored. If the lock really must be held across the await, use `tokio::sync::Mutex`, whose guard may be."
        .to_string();
    let code = match &guard.binding {
        Some(binding) => format!(
            "let snapshot = {{\n    let {binding} = {acquisition};\n    // read or update the state through `{binding}`, copy out what the await needs\n    {binding}.clone()\n}}; // `{binding}` is dropped here\n{awaited}"
        ),
        None => format!(
            "let snapshot = {acquisition}.clone(); // the temporary guard is dropped at this `;`\n{awaited}"
        ),
    };
    Fix { description, code }
}
