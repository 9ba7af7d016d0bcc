//! RL105 wrong-lock-kind: an `asyncio` lock guards state that a worker thread also
//! touches; asyncio locks order coroutines on one loop and do nothing against threads.

use super::lock_fix::{display_path, lock_fix};
use super::shared::{
    by_anchor_order, call_path, entry_related, is_declared, may_race, runs_in, verb,
};
use super::{find, Finding, Related};
use crate::analysis::contexts::Context;
use crate::analysis::Analysis;

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
            call_path(analysis, thread_side.function, Context::WorkerThread)
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
    findings
}
