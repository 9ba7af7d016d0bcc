//! RL307 refcell-borrow-across-await: a `RefCell` borrow (`Ref`/`RefMut`) live at an
//! `.await`. Another task polled on the same thread meanwhile that borrows the same
//! cell panics (`BorrowMutError`). Live ranges are RL301's: `drop(borrow)` and inner
//! blocks ended before the await are understood.

use super::rust_facts::{held_at_awaits, rust_functions, text, HeldAtAwait};
use super::shared::call_path;
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::{resolve_call, CallTarget, Context};
use crate::analysis::resolve::FuncId;
use crate::analysis::rust_locks::{is_refcell, LockNames};
use crate::analysis::Analysis;
use crate::model::{Guard, GuardKind};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL307").expect("RL307 is registered");
    let program = &analysis.program;
    let names = LockNames::new(analysis);
    let borrows: Vec<(FuncId, &Guard)> = rust_functions(analysis)
        .flat_map(|f| program.function(f).guards.iter().map(move |g| (f, g)))
        .filter(|&(f, g)| is_borrow(analysis, program.file_of(f), g))
        .collect();
    let mut findings = Vec::new();
    for HeldAtAwait {
        function,
        file,
        guard,
        suspension,
    } in held_at_awaits(analysis, |file, guard| is_borrow(analysis, file, guard))
    {
        let held = match (&guard.binding, &guard.helper) {
            (Some(binding), Some(helper)) => {
                format!("The borrow `{binding}` returned by `{helper}()`")
            }
            (Some(binding), None) => {
                format!(
                    "The borrow `{binding}` from `{}`",
                    text(analysis, file, guard.span)
                )
            }
            (None, _) => format!(
                "The temporary borrow `{}`",
                text(analysis, file, guard.span)
            ),
        };
        let mut finding = Finding::new(
            rule,
            file,
            guard.span,
            format!(
                "{held} is still alive at the `.await` on line {}: while this task is suspended, another \
                 task on the same thread that borrows the cell panics with `BorrowMutError` (or \
                 `BorrowError`)",
                suspension.span.start.line
            ),
            format!("borrowed across the `.await` on line {}", suspension.span.start.line),
        );
        finding.state = Some(text(analysis, file, guard.span).to_string());
        finding.contexts = vec![Context::EventLoop];
        finding.related.push(Related {
            file,
            span: suspension.span,
            message: "suspends here with the cell borrowed".to_string(),
        });
        let name = names.of(function, guard);
        if let Some(&(other, other_guard)) = borrows.iter().find(|(f, g)| {
            *f != function
                && analysis.contexts.reach[*f][Context::EventLoop.index()].is_some()
                && LockNames::same(&name, &names.of(*f, g)).is_some()
        }) {
            finding.related.push(Related {
                file: program.file_of(other),
                span: other_guard.span,
                message: format!(
                    "`{}` borrows the same cell, and can run while this task is suspended",
                    program.function(other).display
                ),
            });
        }
        finding.flows.extend(
            call_path(analysis, function, Context::EventLoop)
                .map(|f| f.ending_at(file, suspension.span, "awaits with the cell borrowed")),
        );
        finding.fix = Some(fix(analysis, file, guard));
        findings.push(finding);
    }
    findings
}

/// A `borrow()`/`borrow_mut()` of a receiver declared a `RefCell`, or a value bound from
/// a sync helper declared to return a `Ref`/`RefMut`.
fn is_borrow(analysis: &Analysis, file: usize, guard: &Guard) -> bool {
    let program = &analysis.program;
    match (&guard.callee, guard.kind) {
        (None, GuardKind::Borrow) => is_refcell(analysis, file, guard),
        (Some(callee), _) => matches!(
            resolve_call(program, file, callee),
            CallTarget::Function(f) if program.function(f).returns_borrow
        ),
        (None, GuardKind::Lock) => false,
    }
}

/// Copy out of the cell, end the borrow, then await.
fn fix(analysis: &Analysis, file: usize, guard: &Guard) -> Fix {
    let borrowed = text(analysis, file, guard.span);
    let code = match &guard.binding {
        Some(binding) => format!(
            "let snapshot = {{\n    let {binding} = {borrowed};\n    // read or update the cell through `{binding}`, copy out what the await needs\n    {binding}.clone()\n}}; // the borrow ends here\nlet result = do_async_work(snapshot).await;"
        ),
        None => format!(
            "let snapshot = {borrowed}.clone(); // the temporary borrow ends at this `;`\nlet result = do_async_work(snapshot).await;"
        ),
    };
    Fix {
        description: "End the borrow before the `.await`: copy what the await needs out of the cell (`clone()`, \
             `std::mem::take`), let the `Ref`/`RefMut` go (an inner block, or `drop(borrow)`), then await; borrow again \
             afterwards to store the result."
            .to_string(),
        code,
    }
}
