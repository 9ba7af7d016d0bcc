//! RL101 loop-thread-shared-state: state written in one context (event loop or worker
//! thread) and accessed in the other, with no thread lock common to both accesses.

use super::lock_fix::lock_fix;
use super::shared::{
    by_anchor_order, call_path, entry_related, is_declared, lazy_init_writes, partially_locked,
    runs_in, verb,
};
use super::{find, Finding, Related};
use crate::analysis::contexts::Context;
use crate::analysis::state::StateAccess;
use crate::analysis::Analysis;
use crate::model::AccessKind;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL101").expect("RL101 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        // More specific rules own these states.
        if is_declared(analysis, state)
            || partially_locked(analysis, accesses).is_some()
            || !lazy_init_writes(analysis, accesses).is_empty()
        {
            continue;
        }
        let on = |context: Context| {
            by_anchor_order(
                analysis,
                accesses.iter().filter(|a| runs_in(analysis, a, context)),
            )
        };
        let (worker, event_loop) = (on(Context::WorkerThread), on(Context::EventLoop));
        let rebind_only = accesses
            .iter()
            .filter(|a| a.kind.is_write())
            .all(|a| a.kind == AccessKind::Rebind);
        let constant_flags = accesses
            .iter()
            .filter(|a| a.kind.is_write())
            .all(|a| a.kind == AccessKind::Rebind && a.access.writes_constant);
        if constant_flags {
            // `inited = True` from two threads: whoever wins, the flag ends the same.
            continue;
        }
        let conflict = |w: &StateAccess, l: &StateAccess| {
            (w.kind.is_write() || l.kind.is_write())
                && w.locks.is_disjoint(&l.locks)
                // A wholesale rebinding read elsewhere is atomic: RL108's business.
                && !(rebind_only && (!w.kind.is_write() || !l.kind.is_write()))
        };
        let pair = worker
            .iter()
            .find_map(|w| event_loop.iter().find(|l| conflict(w, l)).map(|l| (*w, *l)));
        let Some((w, l)) = pair else { continue };

        let name = state.display(&analysis.program);
        let mut finding = Finding::new(
            rule,
            w.file,
            w.access.span,
            message(&name, w.kind, l.kind),
            format!("{} on a worker thread", verb(w.kind)),
        );
        finding.state = Some(name.clone());
        finding.contexts = vec![Context::EventLoop, Context::WorkerThread];
        finding.related.push(Related {
            file: l.file,
            span: l.access.span,
            message: format!("{} on the event loop here", verb(l.kind)),
        });
        for (access, context) in [(w, Context::WorkerThread), (l, Context::EventLoop)] {
            finding
                .related
                .extend(entry_related(analysis, access.function, context));
            let label = format!("{} on {}", verb(access.kind), context.prose());
            finding.flows.extend(
                call_path(analysis, access.function, context)
                    .map(|f| f.ending_at(access.file, access.access.span, &label)),
            );
        }
        let mut fix = lock_fix(analysis, state, accesses, None);
        if rebind_only {
            // Both sides only ever replace the object whole: a lock is right for a
            // check-then-create, but a deliberate last-writer-wins wants documenting.
            fix.description = format!(
                "Every write replaces `{name}` whole, which is atomic: if the last writer winning is \
                 intended, document it where it is defined (\"replaced wholesale; never mutated \
                 in place\"). Otherwise: {}",
                fix.description
            );
        }
        finding.fix = Some(fix);
        findings.push(finding);
    }
    findings
}

/// "`jobs` is mutated in place on a worker thread and read on the event loop, …"
fn message(name: &str, worker: AccessKind, event_loop: AccessKind) -> String {
    let sides = if worker == event_loop {
        format!(
            "{} both on a worker thread and on the event loop",
            verb(worker)
        )
    } else {
        format!(
            "{} on a worker thread and {} on the event loop",
            verb(worker),
            verb(event_loop)
        )
    };
    format!("`{name}` is {sides}, with no thread lock held by both")
}
