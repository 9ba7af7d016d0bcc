//! RL101 loop-thread-shared-state: state written in one context (event loop or worker
//! thread) and accessed in the other, with no thread lock common to both accesses.

use super::lock_fix::{display_path, lock_fix};
use super::{find, Finding, Related};
use crate::analysis::contexts::{Context, Contexts};
use crate::analysis::resolve::Program;
use crate::analysis::state::StateAccess;
use crate::analysis::Analysis;
use crate::model::AccessKind;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL101").expect("RL101 is registered");
    let contexts = &analysis.contexts;
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        let on = |context: Context| -> Vec<&StateAccess> {
            let mut side: Vec<&StateAccess> = accesses
                .iter()
                .filter(|a| contexts.reach[a.function][context.index()].is_some())
                .collect();
            // Writes first, then source order: the anchor is the first worker-side write.
            side.sort_by_key(|a| {
                (
                    a.kind == AccessKind::Read,
                    display_path(analysis, a.file),
                    a.access.span.start,
                )
            });
            side
        };
        let (worker, event_loop) = (on(Context::WorkerThread), on(Context::EventLoop));
        let rebind_only = accesses
            .iter()
            .filter(|a| a.kind.is_write())
            .all(|a| a.kind == AccessKind::Rebind);
        let conflict = |w: &StateAccess, l: &StateAccess| {
            (w.kind.is_write() || l.kind.is_write())
                && w.locks.is_disjoint(&l.locks)
                // A wholesale rebinding read elsewhere is atomic: RL108's business.
                && !(rebind_only && (w.kind == AccessKind::Read || l.kind == AccessKind::Read))
        };
        let pair = worker
            .iter()
            .find_map(|w| event_loop.iter().find(|l| conflict(w, l)).map(|l| (*w, *l)));
        let Some((w, l)) = pair else { continue };

        let program = &analysis.program;
        let name = state.display(program);
        let mut finding = Finding::new(
            rule,
            w.file,
            w.access.span,
            message(&name, w.kind, l.kind),
            format!("{} on a worker thread", verb(w.kind)),
        );
        finding.state = Some(name);
        finding.contexts = vec![Context::EventLoop, Context::WorkerThread];
        finding.related.push(Related {
            file: l.file,
            span: l.access.span,
            message: format!("{} on the event loop here", verb(l.kind)),
        });
        for (access, context) in [(w, Context::WorkerThread), (l, Context::EventLoop)] {
            if let Some(entry_related) = entry_related(analysis, access, context) {
                finding.related.push(entry_related);
            }
            if let Some(path) = call_path(program, contexts, access, context) {
                finding.call_paths.push(path);
            }
        }
        let mut fix = lock_fix(analysis, state, accesses);
        if rebind_only {
            // Both sides only ever replace the object whole: a lock is right for a
            // check-then-create, but a deliberate last-writer-wins wants documenting.
            fix.description = format!(
                "Every write replaces `{}` whole, which is atomic: if the last writer winning is \
                 intended, document it where it is defined (\"replaced wholesale; never mutated \
                 in place\"). Otherwise (for example a check-then-create): {}",
                finding.state.as_deref().unwrap_or_default(),
                fix.description
            );
        }
        finding.fix = Some(fix);
        findings.push(finding);
    }
    findings
}

fn verb(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "read",
        AccessKind::Mutation => "mutated in place",
        AccessKind::Rebind => "rebound",
        AccessKind::ReadModifyWrite => "read-modify-written",
    }
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

/// The place where the access's context begins: the offload call or decorator, or the
/// `async def` itself.
fn entry_related(analysis: &Analysis, access: &StateAccess, context: Context) -> Option<Related> {
    let (entry, chain) = analysis.contexts.path_to(access.function, context)?;
    let entry = &analysis.contexts.entries[entry];
    Some(match &entry.site {
        Some(site) => Related {
            file: site.file,
            span: site.span,
            message: format!("{} starts here: `{}`", context_noun(context), site.text),
        },
        None => {
            let first = analysis.program.function(chain[0]);
            Related {
                file: analysis.program.file_of(chain[0]),
                span: first.span,
                message: format!("runs on the event loop: `async def {}`", first.display),
            }
        }
    })
}

fn context_noun(context: Context) -> &'static str {
    match context {
        Context::WorkerThread => "worker thread",
        Context::EventLoop => "event-loop callback",
    }
}

/// "reached from a worker thread: `periodic_flush` → `asyncio.to_thread(flush)`
/// (metrics.py:26) → `flush`".
fn call_path(
    program: &Program,
    contexts: &Contexts,
    access: &StateAccess,
    context: Context,
) -> Option<String> {
    let (entry, chain) = contexts.path_to(access.function, context)?;
    let entry = &contexts.entries[entry];
    let mut steps = Vec::new();
    match &entry.site {
        Some(site) => {
            if let Some(caller) = site
                .caller
                .filter(|c| !program.function(*c).path.ends_with(".<module>"))
            {
                steps.push(format!("`{}`", program.function(caller).display));
            }
            let path = program.files[site.file]
                .path
                .to_string_lossy()
                .replace('\\', "/");
            steps.push(format!("`{}` ({path}:{})", site.text, site.span.start.line));
            steps.extend(
                chain
                    .iter()
                    .map(|f| format!("`{}`", program.function(*f).display)),
            );
        }
        None => {
            let mut functions = chain.iter().map(|f| program.function(*f));
            if let Some(first) = functions.next() {
                steps.push(format!("`async def {}`", first.display));
            }
            steps.extend(functions.map(|f| format!("`{}`", f.display)));
        }
    }
    Some(format!(
        "reached from {}: {}",
        context.prose(),
        steps.join(" → ")
    ))
}
