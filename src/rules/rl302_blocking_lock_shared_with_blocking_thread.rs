//! RL302 blocking-lock-shared-with-blocking-thread: one blocking mutex locked by async
//! code and by a worker thread that holds it across slow work. While the worker does
//! its I/O or sleeps, every runtime thread whose task reaches the lock stalls with it.
//! Which guards take one lock is `LockNames`' to say (through parameters and types).

use super::rust_facts::{line, rust_display, rust_functions, text};
use super::shared::call_path;
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::{api_call, resolve_call, Context};
use crate::analysis::resolve::FuncId;
use crate::analysis::rust_locks::{LockNames, SameLock};
use crate::analysis::Analysis;
use crate::model::{CallSite, Guard};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL302").expect("RL302 is registered");
    let program = &analysis.program;
    let reached =
        |f: FuncId, context: Context| analysis.contexts.reach[f][context.index()].is_some();
    let blocking_guards = |context: Context| {
        rust_functions(analysis)
            .filter(move |&f| reached(f, context))
            .flat_map(move |f| {
                program
                    .function(f)
                    .guards
                    .iter()
                    .filter(|g| g.blocking && g.callee.is_none())
                    .map(move |g| (f, g))
            })
    };
    let names = LockNames::new(analysis);
    let on_loop_guards: Vec<_> = blocking_guards(Context::EventLoop)
        .map(|(f, g)| (f, g, names.of(f, g)))
        .collect();
    let mut findings = Vec::new();
    for (worker, guard) in blocking_guards(Context::WorkerThread) {
        let Some(slow) = slow_work_under(analysis, worker, guard) else {
            continue;
        };
        let name = names.of(worker, guard);
        let Some((on_loop, loop_guard, same)) = on_loop_guards
            .iter()
            .find_map(|(f, g, other)| LockNames::same(&name, other).map(|why| (*f, *g, why)))
        else {
            continue;
        };
        let followed = (name.binding != guard.lock || name.binding != loop_guard.lock)
            .then(|| rust_display(&name.binding));
        let file = program.file_of(worker);
        let loop_file = program.file_of(on_loop);
        let lock = written(analysis, file, guard);
        let loop_lock = written(analysis, loop_file, loop_guard);
        let why = match same {
            SameLock::Type(ty) if loop_lock != lock => {
                format!(", as `{loop_lock}`; one lock, since both are `{ty}`")
            }
            SameLock::Type(ty) => format!("; one lock, since both are `{ty}`"),
            SameLock::Binding => {
                let mut why = String::new();
                if loop_lock != lock {
                    why.push_str(&format!(", as `{loop_lock}`"));
                }
                if let Some(origin) = &followed {
                    let origin: Vec<&str> = origin.rsplit("::").take(2).collect();
                    let origin = origin.into_iter().rev().collect::<Vec<_>>().join("::");
                    why.push_str(&format!(
                        "; one lock: callers pass both the same `{origin}`"
                    ));
                }
                why
            }
        };
        let mut finding = Finding::new(
            rule,
            file,
            guard.span,
            format!(
                "`{lock}` is held on a worker thread across slow work (`{}`, line {}) and also locked by async code \
                 in `{}`{why}: while the worker holds it, every runtime thread whose task reaches the lock blocks, and the \
                 runtime stops making progress",
                shown(slow, text(analysis, file, slow.span)),
                slow.span.start.line,
                program.function(on_loop).display,
            ),
            "locked on a worker thread across slow work".to_string(),
        );
        finding.state = Some(lock.clone());
        finding.contexts = vec![Context::WorkerThread, Context::EventLoop];
        finding.related.push(Related {
            file,
            span: slow.span,
            message: "slow work while the lock is held".to_string(),
        });
        finding.related.push(Related {
            file: loop_file,
            span: loop_guard.span,
            message: "the same lock, taken by async code".to_string(),
        });
        finding.flows.extend(
            call_path(analysis, worker, Context::WorkerThread)
                .map(|f| f.ending_at(file, guard.span, &finding.label)),
        );
        finding.flows.extend(
            call_path(analysis, on_loop, Context::EventLoop)
                .map(|f| f.ending_at(loop_file, loop_guard.span, "locked by async code")),
        );
        finding.fix = Some(fix(analysis, file, guard, slow));
        findings.push(finding);
    }
    findings
}

/// The lock as the code names it where the guard is taken (`metrics` in
/// `metrics.lock().unwrap()`), else the last segment of its path.
fn written(analysis: &Analysis, file: usize, guard: &Guard) -> String {
    let taken = text(analysis, file, guard.span);
    let call = taken.split('(').next().unwrap_or("");
    match call.rsplit_once('.') {
        Some((receiver, _)) if !receiver.is_empty() && !receiver.contains(char::is_whitespace) => {
            receiver.to_string()
        }
        _ => {
            let lock = rust_display(&guard.lock);
            lock.rsplit("::").next().unwrap_or(&lock).to_string()
        }
    }
}

/// The call as messages show it: its text, or its first source line.
fn shown<'a>(call: &'a CallSite, source: &'a str) -> &'a str {
    if call.text.is_empty() {
        source.lines().next().unwrap_or(source)
    } else {
        &call.text
    }
}

/// Slow work made while `guard` is live: a call in the catalogue's list (file and
/// network I/O, sleeps, joins), else any call in a loop that runs under the guard.
fn slow_work_under<'m>(
    analysis: &Analysis<'m>,
    function: FuncId,
    guard: &Guard,
) -> Option<&'m CallSite> {
    let program = &analysis.program;
    let file = program.file_of(function);
    let model = program.function(function);
    let under: Vec<(usize, &CallSite)> = model
        .calls
        .iter()
        .enumerate()
        .filter(|(_, call)| {
            call.span.offset > guard.span.offset
                && call.span.start.line <= guard.live_until
                && call.locks.contains(&guard.lock)
        })
        .collect();
    let blocking = |(index, call): &(usize, &CallSite)| {
        let target = resolve_call(program, file, &call.callee);
        model.io_calls.contains(index)
            || analysis
                .catalogue
                .rust
                .blocking
                .matches(&api_call(program, call, &target))
    };
    let mut calls = under.iter();
    calls
        .clone()
        .find(|call| blocking(call))
        .or_else(|| calls.find(|(_, call)| call.in_loop && !guard.in_loop))
        .map(|&(_, call)| call)
}

fn fix(analysis: &Analysis, file: usize, guard: &Guard, slow: &CallSite) -> Fix {
    let acquisition = text(analysis, file, guard.span);
    let binding = guard.binding.as_deref().unwrap_or("guard");
    let slow_line = line(analysis, file, slow.span.start.line);
    let slow_line = if slow_line.ends_with(';') && !slow_line.contains(acquisition) {
        slow_line.to_string()
    } else {
        "write_out(&snapshot)?;".to_string()
    };
    Fix {
        description: format!(
            "Copy what the slow work needs while holding the lock, drop the guard, then do the slow work on the copy. \
             If the work must be serialised, send it to one dedicated thread through a channel instead of holding `{binding}`."
        ),
        code: format!(
            "let snapshot = {{\n    let {binding} = {acquisition};\n    {binding}.clone() // copy out under the lock\n}}; // the lock is released here\n// the slow work now uses `snapshot`, not the shared state:\n{slow_line}"
        ),
    }
}
