//! RL301 guard-across-await: a blocking (`std::sync`, `parking_lot`) guard live at an
//! `.await`. The front-end ends a guard where Rust drops it, so `drop(guard)` and inner
//! blocks that close before the await are not reported.

use super::rust_facts::{held_at_awaits, line, text, HeldAtAwait};
use super::shared::call_path;
use super::{find, Finding, Fix, Related};
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
