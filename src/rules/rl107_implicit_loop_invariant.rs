//! RL107 implicit-loop-invariant (note): state mutated by coroutines that run
//! concurrently, safe only because the event loop runs them on one thread, in code that
//! also hands work to threads, and nothing says so.

use std::collections::BTreeSet;

use super::lock_fix::display_path;
use super::shared::{by_anchor_order, call_path_in, declaration_fix, definition, runs_in};
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::{chain_to, Context, Site};
use crate::analysis::state::invariant;
use crate::analysis::Analysis;
use crate::model::AccessKind;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL107").expect("RL107 is registered");
    let contexts = &analysis.contexts;
    let offloading: BTreeSet<usize> = offloads(analysis).map(|s| s.file).collect();
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        if invariant(&analysis.program, state).is_some()
            || accesses
                .iter()
                .any(|a| runs_in(analysis, a, Context::WorkerThread))
        {
            continue;
        }
        let unguarded = accesses.iter().filter(|a| {
            matches!(a.kind, AccessKind::Mutation | AccessKind::ReadModifyWrite)
                && runs_in(analysis, a, Context::EventLoop)
                && a.locks.is_empty()
                && a.asyncio_locks.is_empty()
                // Tasks reaching it only while they build its object do not share it.
                && contexts.task_reach[a.function]
                    .is_some_and(|r| !(r.constructing && a.on_own_object))
        });
        let Some(mutation) = by_anchor_order(analysis, unguarded).into_iter().next() else {
            continue;
        };
        let Some((entry, _)) = chain_to(mutation.function, |f| contexts.task_reach[f]) else {
            continue;
        };
        let Some(launch) = &contexts.task_entries[entry].site else {
            continue;
        };
        let Some((definition_file, definition_span)) = definition(analysis, state) else {
            continue;
        };
        if !offloading.contains(&definition_file) && !offloading.contains(&launch.file) {
            continue;
        }
        let name = state.display(&analysis.program);
        let mut finding = Finding::new(
            rule,
            mutation.file,
            mutation.access.span,
            format!(
                "`{name}` is mutated by coroutines that run concurrently, safe only because the event loop runs \
                 them on one thread; nothing says so, and this code also hands work to threads"
            ),
            "mutated by concurrent coroutines".to_string(),
        );
        finding.state = Some(name.clone());
        finding.contexts = vec![Context::EventLoop];
        finding.related.push(Related {
            file: launch.file,
            span: launch.span,
            message: format!("launched concurrently here: {}", launch.shown()),
        });
        if let Some(offload) =
            offloads(analysis).find(|s| s.file == definition_file || s.file == launch.file)
        {
            finding.related.push(Related {
                file: offload.file,
                span: offload.span,
                message: format!("work goes to a thread here: {}", offload.shown()),
            });
        }
        finding.flows.extend(
            call_path_in(
                analysis,
                mutation.function,
                &contexts.task_entries,
                &contexts.task_reach,
                "concurrent coroutines",
            )
            .map(|f| f.ending_at(mutation.file, mutation.access.span, &finding.label)),
        );
        finding.fix = Some(Fix {
            description: "Declare the invariant so racelint checks it from now on (RL109), and say it in the docstring. \
                 Optionally add a defensive `threading.Lock` around the mutations."
                .to_string(),
            code: format!(
                "# {}:{} — on the line above the definition of `{name}`:\n# racelint: loop-only\n\n\
                 # and in the docstring:\n# \"`{name}` is mutated only on the event loop; do not touch it from \
                 `asyncio.to_thread` or executors.\"",
                display_path(analysis, definition_file),
                definition_span.start.line
            ),
        });
        finding.autofix = declaration_fix(analysis, state, "loop-only");
        findings.push(finding);
    }
    findings
}

/// Where work is handed to a thread. An entry whose site is its own definition (a
/// declaration, or a bridge that threads call) hands nothing to one.
fn offloads<'a>(analysis: &'a Analysis) -> impl Iterator<Item = &'a Site> {
    analysis
        .contexts
        .entries
        .iter()
        .filter(|e| e.context == Context::WorkerThread)
        .filter_map(|e| {
            let site = e.site.as_ref()?;
            let own =
                site.caller.is_none() && site.span == analysis.program.function(e.target).span;
            (!own).then_some(site)
        })
}
