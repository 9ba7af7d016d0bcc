//! RL109 invariant-violated: code that contradicts a declared `racelint:` invariant.

use std::collections::BTreeSet;

use super::shared::{access_path, call_path, definition, runs_in, verb};
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::Context;
use crate::analysis::state::{invariant, resolve_state, StateAccess};
use crate::analysis::Analysis;
use crate::model::{AccessKind, DeclaredContext, Invariant};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL109").expect("RL109 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        let Some(declared) = invariant(&analysis.program, state) else {
            continue;
        };
        let name = state.display(&analysis.program);
        let Some((definition_file, definition_span)) = definition(analysis, state) else {
            continue;
        };
        let violations: Vec<(&StateAccess, String)> = match declared {
            Invariant::LoopOnly => accesses
                .iter()
                .filter(|a| runs_in(analysis, a, Context::WorkerThread))
                .map(|a| {
                    (
                        a,
                        format!(
                            "`{name}` is declared `loop-only` but is {} on a worker thread",
                            verb(a.kind)
                        ),
                    )
                })
                .collect(),
            Invariant::ReplacedWholesale => accesses
                .iter()
                .filter(|a| matches!(a.kind, AccessKind::Mutation | AccessKind::ReadModifyWrite))
                .map(|a| {
                    (
                        a,
                        format!(
                            "`{name}` is declared `replaced-wholesale` but is {} here",
                            verb(a.kind)
                        ),
                    )
                })
                .collect(),
            Invariant::GuardedBy(lock) => {
                let Some(lock_state) = resolve_state(
                    &analysis.program,
                    &analysis.catalogue,
                    definition_file,
                    lock,
                ) else {
                    let mut finding = Finding::new(
                        rule,
                        definition_file,
                        definition_span,
                        format!("`{name}` is declared `guarded-by={lock}`, but racelint finds no such lock"),
                        "unknown lock".to_string(),
                    );
                    finding.state = Some(name.clone());
                    findings.push(finding);
                    continue;
                };
                let short = lock.rsplit('.').next().unwrap_or(lock);
                accesses
                    .iter()
                    // Reading the reference alone (`x is None`, passing it on) touches
                    // nothing the lock guards.
                    .filter(|a| !a.reference_only)
                    .filter(|a| !a.locks.contains(&lock_state.key) && !a.asyncio_locks.contains(&lock_state.key))
                    .map(|a| (a, format!("`{name}` is declared guarded by `{short}` but is {} here without it", verb(a.kind))))
                    .collect()
            }
            Invariant::ThreadSafe => Vec::new(),
        };
        let mut seen = BTreeSet::new();
        for (access, message) in violations {
            if !seen.insert((access.file, access.access.span.start.line)) {
                continue;
            }
            let mut finding = Finding::new(
                rule,
                access.file,
                access.access.span,
                message,
                "contradicts the declared invariant".to_string(),
            );
            finding.state = Some(name.clone());
            finding.contexts = Context::ALL
                .into_iter()
                .filter(|c| runs_in(analysis, access, *c))
                .collect();
            finding.related.push(Related {
                file: definition_file,
                span: definition_span,
                message: "the invariant is declared here".to_string(),
            });
            if matches!(declared, Invariant::LoopOnly) {
                finding.flows.extend(
                    access_path(analysis, access, Context::WorkerThread)
                        .map(|f| f.ending_at(access.file, access.access.span, &finding.label)),
                );
            }
            finding.fix = Some(Fix {
                description: match declared {
                    Invariant::LoopOnly => "Keep this access on the event loop (have the worker return its result, or hand it back with `loop.call_soon_threadsafe`), or change the declaration and guard the state with a `threading.Lock`.".to_string(),
                    Invariant::ReplacedWholesale => "Build a new object and assign it instead of changing this one, or change the declaration and guard the state with a lock.".to_string(),
                    _ => "Hold the declared lock here, or change the declaration.".to_string(),
                },
                code: String::new(),
            });
            findings.push(finding);
        }
    }
    findings.extend(declared_contexts(analysis));
    findings
}

/// A function declared `# racelint: event-loop` that a worker thread reaches, or a
/// synchronous one declared `# racelint: worker-thread` that the event loop calls.
fn declared_contexts(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL109").expect("RL109 is registered");
    let program = &analysis.program;
    let mut findings = Vec::new();
    for id in 0..program.functions.len() {
        let function = program.function(id);
        let (declared, contrary) = match function.declared_context {
            Some(DeclaredContext::EventLoop) => ("event-loop", Context::WorkerThread),
            Some(DeclaredContext::WorkerThread) if !function.is_async => {
                ("worker-thread", Context::EventLoop)
            }
            _ => continue,
        };
        let Some(flow) = call_path(analysis, id, contrary) else {
            continue;
        };
        let file = program.file_of(id);
        let mut finding = Finding::new(
            rule,
            file,
            function.span,
            format!(
                "`{}` is declared `{declared}` but is reached from {}",
                function.display,
                contrary.prose()
            ),
            "contradicts the declared context".to_string(),
        );
        finding.contexts = vec![contrary];
        finding
            .flows
            .push(flow.ending_at(file, function.span, &finding.label));
        finding.fix = Some(Fix {
            description: format!(
                "Call `{}` only from {} (from the other side, hand it over with \
                 `loop.call_soon_threadsafe` or `asyncio.to_thread`), or correct the declaration.",
                function.display,
                match contrary {
                    Context::WorkerThread => "the event loop",
                    _ => "worker threads",
                }
            ),
            code: String::new(),
        });
        findings.push(finding);
    }
    findings
}
