//! RL308 blocking-call-on-runtime: a thread-only API (`blocking_lock`, `blocking_recv`,
//! `block_on`, the `[runtime-blocking]` catalogue) called in code an async runtime
//! thread runs. Tokio panics there ("Cannot block the current thread from within a
//! runtime"); other executors block the thread, which deadlocks a current-thread
//! runtime. The Rust mirror of RL201.

use super::rust_facts::{rust_functions, text};
use super::shared::call_path;
use super::{find, Finding, Fix};
use crate::analysis::contexts::{api_call, resolve_call, Context};
use crate::analysis::Analysis;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL308").expect("RL308 is registered");
    let program = &analysis.program;
    let listed = &analysis.catalogue.rust.runtime_blocking;
    let mut findings = Vec::new();
    for function in rust_functions(analysis) {
        if analysis.contexts.reach[function][Context::EventLoop.index()].is_none() {
            continue;
        }
        let model = program.function(function);
        let file = program.file_of(function);
        for call in &model.calls {
            let api = api_call(program, call, &resolve_call(program, file, &call.callee));
            if !listed.matches(&api) {
                continue;
            }
            let written = text(analysis, file, call.span);
            let method = api.method.as_str();
            let consequence = if method == "block_on" {
                "starting an executor inside one panics (\"Cannot start a runtime from within a runtime\"), or \
                 blocks the runtime thread until the future completes, which never happens if it needs this thread"
            } else {
                "tokio panics (\"Cannot block the current thread from within a runtime\"); elsewhere the runtime \
                 thread blocks until another task acts, and on a current-thread runtime that task never runs"
            };
            let mut finding = Finding::new(
                rule,
                file,
                call.span,
                format!(
                    "`{method}` blocks the calling thread, and this runs on an async runtime thread \
                     (`{}`): {consequence}",
                    model.display
                ),
                "thread-only call on the runtime".to_string(),
            );
            finding.contexts = vec![Context::EventLoop];
            finding.flows.extend(
                call_path(analysis, function, Context::EventLoop)
                    .map(|f| f.ending_at(file, call.span, &finding.label)),
            );
            finding.fix = Some(fix(written, method, model.is_async));
            findings.push(finding);
        }
    }
    findings
}

/// Await the async twin (`m.lock().await`, `tx.send(v).await`, `fut.await`); in a sync
/// function, make it `async` or move the blocking call to `spawn_blocking`.
fn fix(written: &str, method: &str, is_async: bool) -> Fix {
    let awaited = awaited_twin(written, method);
    let description = if is_async {
        "Await the async form instead of blocking the runtime thread. If the blocking call is really needed \
         (a sync library callback), run it in `tokio::task::spawn_blocking(move || …)`, where blocking is allowed."
    } else {
        "This sync function is called from async code: make it `async` and await the async form, or have the \
         async caller run it in `tokio::task::spawn_blocking(move || …)`, where blocking is allowed."
    };
    let code = match awaited {
        Some(awaited) => format!("let value = {awaited};"),
        None => format!("let value = tokio::task::spawn_blocking(move || {written}).await;"),
    };
    Fix {
        description: description.to_string(),
        code,
    }
}

/// `m.blocking_lock()` → `m.lock().await`, `rt.block_on(fut)` → `fut.await`.
fn awaited_twin(written: &str, method: &str) -> Option<String> {
    let at = written.rfind(&format!("{method}("))?;
    let args = written[at + method.len() + 1..].trim_end();
    let args = args.strip_suffix(')')?.trim();
    if method == "block_on" {
        return (!args.is_empty()).then(|| format!("{args}.await"));
    }
    let receiver = written[..at].strip_suffix('.')?;
    let twin = method.strip_prefix("blocking_")?;
    Some(format!("{receiver}.{twin}({args}).await"))
}

#[cfg(test)]
mod tests {
    use super::awaited_twin;

    #[test]
    fn the_async_twin_of_each_blocking_call() {
        assert_eq!(
            awaited_twin("state.blocking_lock()", "blocking_lock").as_deref(),
            Some("state.lock().await")
        );
        assert_eq!(
            awaited_twin("tx.blocking_send(job)", "blocking_send").as_deref(),
            Some("tx.send(job).await")
        );
        assert_eq!(
            awaited_twin("Handle::current().block_on(load(id))", "block_on").as_deref(),
            Some("load(id).await")
        );
        assert_eq!(
            awaited_twin("futures::executor::block_on(f)", "block_on").as_deref(),
            Some("f.await")
        );
    }
}
