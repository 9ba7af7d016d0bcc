//! RL305 thread-local-across-await: a `thread_local!` read or written on both sides of
//! an `.await` in one task. On a multi-thread runtime the task may resume on another
//! worker thread, and then sees that thread's value.

use std::collections::BTreeSet;

use super::rust_facts::{rust_functions, statics};
use super::shared::call_path;
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::{api_call, resolve_call, Context};
use crate::analysis::resolve::FuncId;
use crate::analysis::Analysis;
use crate::model::Arg;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL305").expect("RL305 is registered");
    let program = &analysis.program;
    let statics = statics(analysis);
    let mut findings = Vec::new();
    for function in rust_functions(analysis) {
        let model = program.function(function);
        if !model.is_async || single_threaded(analysis, function) {
            continue;
        }
        let file = program.file_of(function);
        let mut reported = BTreeSet::new();
        for access in &model.accesses {
            let Some(key) = statics.get(&access.path).filter(|s| s.item.thread_local) else {
                continue;
            };
            let after = |offset: usize| model.awaits.iter().find(|w| w.span.offset > offset);
            let Some(before) = model
                .accesses
                .iter()
                .filter(|a| a.path == access.path && a.span.offset < access.span.offset)
                .find(|a| after(a.span.offset).is_some_and(|w| w.span.offset < access.span.offset))
            else {
                continue;
            };
            if !reported.insert(&access.path) {
                continue;
            }
            let suspension = after(before.span.offset).map_or(before.span, |w| w.span);
            let mut finding = Finding::new(
                rule,
                file,
                access.span,
                format!(
                    "`{}` is a thread-local, used before the `.await` on line {} and again here: on a multi-thread \
                     runtime the task can resume on another worker thread, so this sees (and changes) that thread's \
                     value, not the one set before the await",
                    key.name, suspension.start.line
                ),
                "may run on another thread than the first use".to_string(),
            );
            finding.state = Some(key.name.to_string());
            finding.contexts = vec![Context::EventLoop];
            finding.related.push(Related {
                file,
                span: before.span,
                message: "first used here, before the await".to_string(),
            });
            finding.related.push(Related {
                file,
                span: suspension,
                message: "the task may move to another thread here".to_string(),
            });
            finding.flows.extend(
                call_path(analysis, function, Context::EventLoop).map(|f| {
                    f.ending_at(file, access.span, "uses the thread-local after the await")
                }),
            );
            let ty = key.item.type_text.trim();
            let name = key.name;
            finding.fix = Some(Fix {
                description: format!(
                    "Keep per-task state in a `tokio::task_local!` (it follows the task across threads), or pass it \
                     explicitly. `{name}` stays correct only for code that never awaits between its uses."
                ),
                code: format!(
                    "tokio::task_local! {{\n    static {name}: {ty};\n}}\n\n// run the task inside a scope that owns the value:\n{name}.scope(initial_value, async move {{\n    // `{name}.with(|value| …)` sees this task's value before and after every await\n}}).await;"
                ),
            });
            findings.push(finding);
        }
    }
    findings
}

/// Never moves between threads: declared to run on a single-threaded runtime, the body
/// of `#[tokio::main]` (which `block_on` polls on the main thread), or handed to an API
/// that polls it on one thread (`spawn_local`, `LocalSet::run_until`, `block_on`),
/// itself or the function it is written in. A task spawned from a multi-threaded
/// `#[tokio::main]` body may move.
fn single_threaded(analysis: &Analysis, function: FuncId) -> bool {
    let program = &analysis.program;
    let catalogue = &analysis.catalogue.rust;
    let file = program.file_of(function);
    let first = program.function_id(file, 0);
    let mut current = function;
    loop {
        let model = program.function(current);
        if model.single_threaded || model.block_on_body {
            return true;
        }
        let Some(parent) = model.parent else {
            return false;
        };
        let parent = program.function_id(file, parent);
        let handed_to = |list: &crate::analysis::catalogue::CallList| {
            program.function(parent).calls.iter().any(|call| {
                call.args.contains(&Arg::Inline(current - first))
                    && list.matches(&api_call(
                        program,
                        call,
                        &resolve_call(program, file, &call.callee),
                    ))
            })
        };
        if handed_to(&catalogue.pinned) {
            return true;
        }
        let parent_model = program.function(parent);
        if parent_model.block_on_body
            && !parent_model.single_threaded
            && handed_to(&catalogue.tasks)
        {
            return false;
        }
        current = parent;
    }
}
