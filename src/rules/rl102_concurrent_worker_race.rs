//! RL102 concurrent-worker-race: a read-modify-write of shared state, without a thread
//! lock, in code several worker threads run at once (`Executor.map`, a handoff in a loop,
//! a sync route).

use super::lock_fix::lock_fixes;
use super::shared::{
    call_path_in, concurrent_updates, is_declared, lazy_init_writes, partially_locked, related_for,
    verb,
};
use super::{find, Finding};
use crate::analysis::contexts::{chain_to, Context};
use crate::analysis::Analysis;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL102").expect("RL102 is registered");
    let contexts = &analysis.contexts;
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        if is_declared(analysis, state)
            || partially_locked(analysis, accesses).is_some()
            || !lazy_init_writes(analysis, accesses).is_empty()
        {
            continue;
        }
        let Some(update) = concurrent_updates(analysis, accesses).into_iter().next() else {
            continue;
        };
        let name = state.display(&analysis.program);
        let function = analysis.program.function(update.function);
        let mut finding = Finding::new(
            rule,
            update.file,
            update.access.span,
            format!(
                "`{name}` is {} by `{}`, which runs on several worker threads at once, with no thread lock",
                verb(update.kind),
                function.display
            ),
            format!("{} on several threads at once", verb(update.kind)),
        );
        finding.state = Some(name.clone());
        finding.contexts = vec![Context::WorkerThread];
        if let Some((entry, chain)) = chain_to(update.function, |f| contexts.concurrent[f]) {
            finding.related.push(related_for(
                analysis,
                &contexts.entries[entry],
                chain[0],
                Context::WorkerThread,
            ));
        }
        finding.flows.extend(
            call_path_in(
                analysis,
                update.function,
                &contexts.entries,
                &contexts.concurrent,
                "several worker threads at once",
            )
            .map(|f| f.ending_at(update.file, update.access.span, &finding.label)),
        );
        let (mut fix, autofix) = lock_fixes(analysis, state, accesses, None);
        finding.autofix = autofix;
        fix.description = format!(
            "{} Or give each thread its own instance and merge the results once, after the \
             threads are joined, so nothing is shared while they run.",
            fix.description
        );
        finding.fix = Some(fix);
        findings.push(finding);
    }
    findings
}
