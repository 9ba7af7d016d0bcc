//! RL201 loop-api-from-thread: a non-thread-safe event-loop API called on a worker
//! thread (`loop.call_soon`, `asyncio.create_task`, `future.set_result`, …).

use std::collections::HashSet;

use super::shared::{call_path, worker_calls};
use super::{find, Autofix, Edit, Finding, Fix, Related};
use crate::analysis::contexts::{api_call, resolve_call, CallTarget, Context};
use crate::analysis::programs::is_auxiliary;
use crate::analysis::threadsafe_use::ThreadsafeUse;
use crate::analysis::Analysis;
use crate::model::{CallSite, Callee, FileId, Language};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let program = &analysis.program;
    let mut findings = Vec::new();
    // Methods the project's own classes define: on a receiver whose type racelint
    // cannot see, such a name may be the project's (a thread-safe `call_later` of its
    // own event bus), so the name alone says nothing of asyncio. A receiver typed as
    // an asyncio loop still matches.
    // asyncio's own loop classes (the standard library analysed as the project) and
    // their subclasses are the API itself.
    let asyncio_class: Vec<bool> = (0..program.classes.len())
        .map(|class| {
            program.class(class).path.starts_with("asyncio.")
                || program
                    .ancestors(class)
                    .iter()
                    .any(|a| a.starts_with("asyncio."))
        })
        .collect();
    // A test's fake loop (`FakeLoop.call_soon` under `tests/`) vouches for nothing.
    let project_methods: HashSet<&str> = (0..program.functions.len())
        .filter(|&f| {
            let file = &program.files[program.file_of(f)];
            file.language == Language::Python && !is_auxiliary(file)
        })
        .filter(|&f| {
            program
                .class_of_method(f)
                .is_some_and(|c| !asyncio_class[c])
        })
        .map(|f| program.function(f).name.as_str())
        .collect();
    let unsafe_calls = &analysis.catalogue.loop_unsafe.calls;
    for (function, file, call, api) in worker_calls(analysis) {
        // A coroutine on a worker thread runs on the loop that thread runs
        // (`asyncio.run(...)`), and so does what only such coroutines call: loop APIs
        // there act on the thread's own loop. A loop-only function checks for the
        // application's own loop thread, which no worker is.
        let on_own_loop =
            program.function(function).is_async || analysis.contexts.on_worker_loop[function];
        let target = resolve_call(program, file, &call.callee);
        let loop_only = matches!(target, CallTarget::Function(f) if analysis.contexts.loop_only[f]);
        // Matched by the method's name alone, on a receiver of unknown type.
        let by_name_only = matches!(target, CallTarget::Method(_))
            && !api.paths.iter().any(|p| unsafe_calls.contains(p));
        let unsafe_api = analysis.catalogue.loop_unsafe.matches(&api)
            && !on_own_loop
            && !(by_name_only && project_methods.contains(api.method.as_str()));
        if !unsafe_api && !loop_only {
            continue;
        }
        let method = api.method.as_str();
        let message = match loop_only {
            true => format!(
                "`{method}` raises unless called on the event loop's thread, and this runs on a worker thread"
            ),
            false => format!("`{method}` is not thread-safe, and this runs on a worker thread"),
        };
        let mut finding = loop_call_finding(analysis, file, call, method, message);
        finding.contexts = vec![Context::WorkerThread];
        finding.flows.extend(
            call_path(analysis, function, Context::WorkerThread)
                .map(|f| f.ending_at(file, call.span, &finding.label)),
        );
        findings.push(finding);
    }
    findings.extend(inconsistent_calls(analysis, &project_methods));
    findings
}

/// Loop-unsafe calls in a sync method on a loop or asyncio object that another method
/// of the class hands work to thread-safely (`analysis::threadsafe_use`): the class is
/// called from other threads, so the call is reported in its public methods whoever
/// calls them (a private method's callers decide where it runs). Not in methods
/// racelint sees run on a worker (reported above) or on the loop (loop code).
fn inconsistent_calls(analysis: &Analysis, project_methods: &HashSet<&str>) -> Vec<Finding> {
    let program = &analysis.program;
    let contexts = &analysis.contexts;
    let threadsafe = ThreadsafeUse::compute(program, &analysis.catalogue);
    if threadsafe.is_empty() {
        return Vec::new();
    }
    let unsafe_apis = &analysis.catalogue.loop_unsafe;
    // Only calls of a listed name are worth resolving.
    let names: HashSet<&str> = unsafe_apis
        .calls
        .iter()
        .chain(&unsafe_apis.methods)
        .map(|c| c.rsplit('.').next().unwrap_or(c))
        .collect();
    let mut findings = Vec::new();
    for function in 0..program.functions.len() {
        let model = program.function(function);
        let reach = &contexts.reach[function];
        if model.is_async
            || model.class.is_none()
            || model.name.starts_with('_')
            || reach[Context::WorkerThread.index()].is_some()
            || reach[Context::EventLoop.index()].is_some()
            || contexts.on_worker_loop[function]
            || contexts.loop_only[function]
        {
            continue;
        }
        let file = program.file_of(function);
        for call in model
            .calls
            .iter()
            .filter(|call| call.property.is_none() && !call.on_loop_thread)
        {
            let Callee::Path(path) = &call.callee else {
                continue;
            };
            let Some((receiver, name)) = path.rsplit_once('.') else {
                continue;
            };
            if !names.contains(name) {
                continue;
            }
            let target = resolve_call(program, file, &call.callee);
            let api = api_call(program, call, &target);
            let by_name_only = matches!(target, CallTarget::Method(_))
                && !api
                    .paths
                    .iter()
                    .any(|p| analysis.catalogue.loop_unsafe.calls.contains(p));
            if !analysis.catalogue.loop_unsafe.matches(&api)
                || (by_name_only && project_methods.contains(api.method.as_str()))
            {
                continue;
            }
            let Some((other, index)) = threadsafe
                .handoff_to(program, function, receiver)
                .filter(|&(other, _)| other != function)
            else {
                continue;
            };
            let method = api.method.as_str();
            let message = format!(
                "`{method}` is not thread-safe, and `{}` hands work to the same object with a thread-safe call: this class is called from other threads",
                program.function(other).display
            );
            let mut finding = loop_call_finding(analysis, file, call, method, message);
            finding.related.push(Related {
                file: program.file_of(other),
                span: program.function(other).calls[index].span,
                message: "handed over thread-safely here".to_string(),
            });
            findings.push(finding);
        }
    }
    findings
}

/// An RL201 finding at a loop-unsafe call, with the thread-safe call as its fix.
fn loop_call_finding(
    analysis: &Analysis,
    file: FileId,
    call: &CallSite,
    method: &str,
    message: String,
) -> Finding {
    let rule = find("RL201").expect("RL201 is registered");
    let text = analysis.program.files[file]
        .source
        .get(call.span.offset..call.span.offset + call.span.len)
        .unwrap_or("");
    let mut finding = Finding::new(
        rule,
        file,
        call.span,
        message,
        "event-loop API called off the loop".to_string(),
    );
    finding.fix = Some(threadsafe_call(text, method));
    finding.autofix = threadsafe_edit(text, method, file, call.span.offset);
    finding
}

/// The same call, made thread-safe.
fn threadsafe_call(text: &str, method: &str) -> Fix {
    let (receiver, args) = split_call(text, method);
    let code = match method {
        "call_soon" => format!("{receiver}.call_soon_threadsafe({args})"),
        "create_task" | "ensure_future" => {
            format!("asyncio.run_coroutine_threadsafe({args}, loop)  # `loop`: the running loop, passed in")
        }
        _ if receiver.is_empty() => format!("loop.call_soon_threadsafe({method}, {args})"),
        _ if args.is_empty() => format!("loop.call_soon_threadsafe({receiver}.{method})"),
        _ => format!("loop.call_soon_threadsafe({receiver}.{method}, {args})"),
    };
    Fix {
        description: "Hand the call to the loop's own thread: `loop.call_soon_threadsafe(...)`, or \
                      `asyncio.run_coroutine_threadsafe(coro, loop)` for coroutines (capture the loop with \
                      `asyncio.get_running_loop()` before offloading)."
            .to_string(),
        code,
    }
}

/// `loop.call_soon(cb, 1)` → `loop.call_soon_threadsafe(cb, 1)`: the same call, which
/// also wakes the loop's selector, so it is safe to apply (`--fix`). Only for a call on
/// a receiver: the other loop APIs need the loop passed in, which is a change of design.
fn threadsafe_edit(text: &str, method: &str, file: FileId, offset: usize) -> Option<Autofix> {
    if method != "call_soon" {
        return None;
    }
    let at = text.rfind("call_soon(")?;
    text[..at].trim_end().ends_with('.').then(|| {
        Autofix::safe(vec![Edit {
            file,
            offset: offset + at,
            len: "call_soon".len(),
            replacement: "call_soon_threadsafe".to_string(),
        }])
    })
}

/// `("self.loop", "cb, 1")` for `self.loop.call_soon(cb, 1)`.
fn split_call<'t>(text: &'t str, method: &str) -> (&'t str, &'t str) {
    let Some(at) = text.rfind(&format!("{method}(")) else {
        return ("", "");
    };
    let receiver = text[..at].trim_end_matches('.');
    let receiver = receiver
        .strip_prefix("asyncio")
        .filter(|r| r.is_empty())
        .unwrap_or(receiver);
    let args = text[at + method.len() + 1..].trim_end();
    let args = args.strip_suffix(')').unwrap_or(args);
    (receiver, args.trim())
}
