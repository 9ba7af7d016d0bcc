//! RL205 deprecated-get-event-loop: `asyncio.get_event_loop()` inside a coroutine, or on
//! a worker thread, where it finds or creates the wrong loop.

use super::shared::call_path;
use super::{find, Autofix, Edit, Finding, Fix};
use crate::analysis::contexts::{api_call, resolve_call, Context};
use crate::analysis::Analysis;
use crate::model::FileId;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL205").expect("RL205 is registered");
    let program = &analysis.program;
    let mut findings = Vec::new();
    for function in 0..program.functions.len() {
        let model = program.function(function);
        // Code that only a worker's private loop runs has that loop running.
        let on_worker = analysis.contexts.reach[function][Context::WorkerThread.index()].is_some()
            && !analysis.contexts.on_worker_loop[function];
        if !model.is_async && !on_worker {
            continue;
        }
        let file = program.file_of(function);
        for call in &model.calls {
            let target = resolve_call(program, file, &call.callee);
            let api = api_call(program, call, &target);
            if !analysis.catalogue.deprecated_loop_getters.matches(&api) {
                continue;
            }
            let (message, fix) = if model.is_async {
                (
                    "`asyncio.get_event_loop()` in a coroutine: its result depends on the loop policy, and outside a running loop it is deprecated; `get_running_loop()` says what is meant".to_string(),
                    Fix {
                        description: "Use `asyncio.get_running_loop()`.".to_string(),
                        code: "loop = asyncio.get_running_loop()".to_string(),
                    },
                )
            } else {
                (
                    "`asyncio.get_event_loop()` on a worker thread finds no running loop: it fails, or creates a new loop that nothing runs".to_string(),
                    Fix {
                        description: "Capture the loop with `asyncio.get_running_loop()` in the coroutine that offloads the work, and pass it in.".to_string(),
                        code: "loop = asyncio.get_running_loop()  # in the coroutine, before offloading\nawait asyncio.to_thread(work, loop)".to_string(),
                    },
                )
            };
            let mut finding = Finding::new(
                rule,
                file,
                call.span,
                message,
                "deprecated loop lookup".to_string(),
            );
            finding.contexts = vec![if model.is_async {
                Context::EventLoop
            } else {
                Context::WorkerThread
            }];
            if on_worker && !model.is_async {
                finding.flows.extend(
                    call_path(analysis, function, Context::WorkerThread)
                        .map(|f| f.ending_at(file, call.span, &finding.label)),
                );
            }
            if model.is_async {
                finding.autofix = running_loop_edit(&program.files[file].source, file, call.span);
            }
            finding.fix = Some(fix);
            findings.push(finding);
        }
    }
    findings
}

/// In a coroutine, `module.get_event_loop()` is the running loop, so
/// `module.get_running_loop()` is the same call with the intent said: the one edit
/// `--fix` makes. A bare `get_event_loop()` (imported by name) is left alone: its
/// replacement would need an import.
fn running_loop_edit(source: &str, file: FileId, span: crate::model::Span) -> Option<Autofix> {
    let text = source.get(span.offset..span.offset + span.len)?;
    let (before, after) = text.split_once("get_event_loop")?;
    let attribute = before.trim_end().ends_with('.');
    let no_arguments = after
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        == "()";
    (attribute && no_arguments).then(|| {
        Autofix::safe(vec![Edit {
            file,
            offset: span.offset + before.len(),
            len: "get_event_loop".len(),
            replacement: "get_running_loop".to_string(),
        }])
    })
}
