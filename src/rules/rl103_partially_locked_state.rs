//! RL103 partially-locked-state: state accessed under a thread lock in some places and
//! without it in others that can run at the same time (RacerD's lock consistency).

use super::lock_fix::lock_fixes;
use super::shared::{access_path, is_declared, partially_locked, runs_in, verb};
use super::{find, Finding, Related};
use crate::analysis::contexts::Context;
use crate::analysis::Analysis;

/// How many unguarded places besides the anchor a finding lists.
const MORE_UNGUARDED: usize = 5;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL103").expect("RL103 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        if is_declared(analysis, state) {
            continue;
        }
        let Some((lock, unlocked)) = partially_locked(analysis, accesses) else {
            continue;
        };
        let anchor = unlocked[0];
        let lock_name = lock.name().to_string();
        let name = state.display(&analysis.program);
        let mut finding = Finding::new(
            rule,
            anchor.file,
            anchor.access.span,
            format!(
                "`{name}` is {} here without `{lock_name}`, which guards it elsewhere; the two can run at the same time",
                verb(anchor.kind)
            ),
            format!("{} without `{lock_name}`", verb(anchor.kind)),
        );
        finding.state = Some(name.clone());
        finding.contexts = Context::ALL
            .into_iter()
            .filter(|c| accesses.iter().any(|a| runs_in(analysis, a, *c)))
            .collect();
        finding.contexts.sort_by_key(|c| c.id());
        let guarded = |a: &&crate::analysis::state::StateAccess| {
            a.locks.contains(&lock)
                && analysis
                    .programs
                    .may_run_both(&analysis.program, anchor.function, a.function)
        };
        // An unguarded read races with a guarded write: name one, where there is one.
        let conflicting = accesses
            .iter()
            .filter(guarded)
            .find(|a| anchor.kind.is_write() || a.kind.is_write());
        if let Some(locked) = conflicting.or_else(|| accesses.iter().find(guarded)) {
            finding.related.push(Related {
                file: locked.file,
                span: locked.access.span,
                message: format!("{} under `{lock_name}` here", verb(locked.kind)),
            });
        }
        // Every unguarded place needs the lock, not only the first: the next few are
        // listed, and the rest counted, so a widely used state stays readable.
        let others = &unlocked[1..];
        for (i, other) in others.iter().take(MORE_UNGUARDED).enumerate() {
            let rest = others.len().saturating_sub(MORE_UNGUARDED);
            let more = if i + 1 == MORE_UNGUARDED && rest > 0 {
                format!(" (and {rest} more places without it)")
            } else {
                String::new()
            };
            finding.related.push(Related {
                file: other.file,
                span: other.access.span,
                message: format!("also {} without `{lock_name}` here{more}", verb(other.kind)),
            });
        }
        for context in Context::ALL {
            finding.flows.extend(
                access_path(analysis, anchor, context)
                    .map(|f| f.ending_at(anchor.file, anchor.access.span, &finding.label)),
            );
        }
        let (mut fix, autofix) = lock_fixes(analysis, state, accesses, Some(&lock));
        finding.autofix = autofix;
        if unlocked.iter().any(|a| !a.kind.is_write()) {
            fix.description = format!(
                "{} Readers should return a copy (`list(...)`, `dict(...)`) taken under the lock, not the shared object.",
                fix.description
            );
        }
        finding.fix = Some(fix);
        findings.push(finding);
    }
    findings
}
