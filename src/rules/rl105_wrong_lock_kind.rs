//! RL105 wrong-lock-kind: an `asyncio` lock guards state that a worker thread also
//! touches; asyncio locks order coroutines on one loop and do nothing against threads.
//! The same holds for an asyncio lock taken on two loops: on the main loop and on a
//! worker thread's own loop (`asyncio.run(...)` in the thread).

use super::lock_fix::{display_path, lock_fix};
use super::shared::{
    access_path, by_anchor_order, call_path, entry_related, is_declared, may_race, runs_in, verb,
};
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::Context;
use crate::analysis::locks::held_asyncio_locks;
use crate::analysis::resolve::FuncId;
use crate::analysis::state::{resolve_state, state_type, StateKey};
use crate::analysis::Analysis;
use crate::model::{Callee, Span};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL105").expect("RL105 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        if is_declared(analysis, state) || !accesses.iter().any(|a| a.kind.is_write()) {
            continue;
        }
        // The first guarded access in source order, read or write: where the wrong lock shows.
        let mut guarded: Vec<_> = accesses
            .iter()
            .filter(|a| !a.asyncio_locks.is_empty())
            .collect();
        guarded.sort_by_key(|a| (display_path(analysis, a.file), a.access.span.start));
        let worker = by_anchor_order(
            analysis,
            accesses
                .iter()
                .filter(|a| runs_in(analysis, a, Context::WorkerThread)),
        );
        // The first guarded access that a worker-side access can meet (a write on one
        // side), unordered by the lock's own serialisation of a handoff.
        let pair = guarded.iter().find_map(|g| {
            worker
                .iter()
                .find(|w| {
                    (w.kind.is_write() || g.kind.is_write())
                        && may_race(analysis, w, Context::WorkerThread, g, Context::EventLoop)
                })
                .map(|w| (*g, *w))
        });
        let Some((anchor, thread_side)) = pair else {
            continue;
        };
        let lock = anchor
            .asyncio_locks
            .iter()
            .next()
            .map_or_else(String::new, |k| k.name().to_string());
        let name = state.display(&analysis.program);
        let mut finding = Finding::new(
            rule,
            anchor.file,
            anchor.access.span,
            format!(
                "`{name}` is guarded by the asyncio lock `{lock}`, which does not exclude the worker thread that {} it",
                match thread_side.kind.is_write() {
                    true => "writes",
                    false => "reads",
                }
            ),
            format!("guarded only by asyncio lock `{lock}`"),
        );
        finding.state = Some(name);
        finding.contexts = vec![Context::EventLoop, Context::WorkerThread];
        finding.related.push(Related {
            file: thread_side.file,
            span: thread_side.access.span,
            message: format!(
                "{} on a worker thread here, without any thread lock",
                verb(thread_side.kind)
            ),
        });
        finding.related.extend(entry_related(
            analysis,
            thread_side.function,
            Context::WorkerThread,
        ));
        let label = format!("{} on a worker thread", verb(thread_side.kind));
        finding.flows.extend(
            access_path(analysis, thread_side, Context::WorkerThread)
                .map(|f| f.ending_at(thread_side.file, thread_side.access.span, &label)),
        );
        let mut fix = lock_fix(analysis, state, accesses, None);
        fix.description = format!(
            "An asyncio lock cannot keep a thread out. {} (Do not hold it across an `await`.) Or keep `{}` on the loop: \
             have the worker return its result, or hand it back with `loop.call_soon_threadsafe(...)`.",
            fix.description,
            finding.state.as_deref().unwrap_or_default()
        );
        finding.fix = Some(fix);
        findings.push(finding);
    }
    findings.extend(across_loops(analysis));
    findings
}

/// Asyncio locks taken with `async with`, and asyncio events and queues awaited
/// (`await ready.wait()`, `await jobs.get()`), both by a coroutine a worker thread runs
/// on a loop of its own and by one on the main loop. Such an object belongs to one
/// loop: on the other it raises "bound to a different event loop", or fails to exclude.
fn across_loops(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL105").expect("RL105 is registered");
    let program = &analysis.program;
    // Per object: the first use on a private loop, and on the main loop; whether it is
    // a lock (taken) or another loop-bound object (awaited).
    let mut uses: std::collections::BTreeMap<StateKey, [Option<(FuncId, Span)>; 2]> =
        Default::default();
    let mut awaited: std::collections::BTreeSet<StateKey> = Default::default();
    for function in 0..program.functions.len() {
        let model = program.function(function);
        if !model.is_async {
            continue;
        }
        let sides = [
            runs_in_context(analysis, function, Context::WorkerThread),
            runs_in_context(analysis, function, Context::EventLoop),
        ];
        let file = program.file_of(function);
        for suspension in &model.awaits {
            let Some(lock) = &suspension.acquires else {
                continue;
            };
            for key in held_asyncio_locks(
                program,
                &analysis.catalogue,
                file,
                std::slice::from_ref(lock),
            ) {
                let slots = uses.entry(key).or_default();
                for side in 0..2 {
                    if sides[side] && slots[side].is_none() {
                        slots[side] = Some((function, suspension.span));
                    }
                }
            }
        }
        for (key, span) in loop_bound_waits(analysis, function) {
            awaited.insert(key.clone());
            let slots = uses.entry(key).or_default();
            for side in 0..2 {
                if sides[side] && slots[side].is_none() {
                    slots[side] = Some((function, span));
                }
            }
        }
    }
    let mut findings = Vec::new();
    for (key, slots) in uses {
        let [Some((worker, at)), Some((main, main_at))] = slots else {
            continue;
        };
        let name = key.display(program);
        let file = program.file_of(worker);
        let (message, label, main_message) = match awaited.contains(&key) {
            false => (
                format!("`{name}`, an asyncio lock, is taken here on a worker thread's own event loop and also on the main loop; an asyncio lock belongs to one loop"),
                "asyncio lock taken on a second loop",
                "taken on the main loop here",
            ),
            true => (
                format!("`{name}`, an asyncio event or queue, is awaited here on a worker thread's own event loop and also on the main loop; it belongs to the loop that first waits on it"),
                "asyncio object awaited on a second loop",
                "awaited on the main loop here",
            ),
        };
        let mut finding = Finding::new(rule, file, at, message, label.to_string());
        finding.state = Some(name.clone());
        finding.contexts = vec![Context::WorkerThread, Context::EventLoop];
        finding.related.push(Related {
            file: program.file_of(main),
            span: main_at,
            message: main_message.to_string(),
        });
        finding
            .related
            .extend(entry_related(analysis, worker, Context::WorkerThread));
        finding.flows.extend(
            call_path(analysis, worker, Context::WorkerThread)
                .map(|f| f.ending_at(file, at, &finding.label)),
        );
        let otherwise = match awaited.contains(&key) {
            false => "Or, if the lock is never held across an `await`, make it a `threading.Lock`.",
            true => "Or give each loop an object of its own, created on that loop.",
        };
        finding.fix = Some(Fix {
            description: format!(
                "Run this coroutine on the main loop instead of a loop of the thread's own, so that \
                 `{name}` is only ever used there: from the thread, \
                 `asyncio.run_coroutine_threadsafe(coro, main_loop).result()` (capture `main_loop` \
                 with `asyncio.get_running_loop()` on the main loop). {otherwise}"
            ),
            code: "future = asyncio.run_coroutine_threadsafe(coro, main_loop)\nresult = future.result()"
                .to_string(),
        });
        findings.push(finding);
    }
    findings
}

/// The loop-bound objects (`[loop-bound]` in the catalogue) a coroutine awaits a
/// waiting method of (`await self._ready.wait()`), with where.
fn loop_bound_waits(analysis: &Analysis, function: FuncId) -> Vec<(StateKey, Span)> {
    let program = &analysis.program;
    let catalogue = &analysis.catalogue;
    let file = program.file_of(function);
    program
        .function(function)
        .calls
        .iter()
        .filter(|call| call.awaited)
        .filter_map(|call| {
            let Callee::Path(path) = &call.callee else {
                return None;
            };
            let (receiver, method) = path.rsplit_once('.')?;
            if !catalogue.loop_bound.methods.iter().any(|m| m == method) {
                return None;
            }
            let state =
                resolve_state(program, catalogue, file, receiver).filter(|s| s.residual == 0)?;
            let ty = state_type(program, &state.ty)?;
            catalogue
                .loop_bound
                .types
                .contains(&ty)
                .then_some((state.key, call.span))
        })
        .collect()
}

fn runs_in_context(analysis: &Analysis, function: FuncId, context: Context) -> bool {
    analysis.contexts.reach[function][context.index()].is_some()
}
