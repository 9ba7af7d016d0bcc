//! RL106 iteration-during-mutation: a container iterated in one context while another
//! context can change its size ("dictionary changed size during iteration").

use super::lock_fix::{display_path, lock_expression, lock_setup};
use super::shared::{access_path, by_anchor_order, can_overlap, is_declared, ByLockset};
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::Context;
use crate::analysis::state::{StateAccess, StateKey};
use crate::analysis::Analysis;
use crate::model::{AccessKind, ItemUpdate};

/// How many racing iterations besides the anchor a finding lists.
const MORE_ITERATIONS: usize = 5;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL106").expect("RL106 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        if is_declared(analysis, state) {
            continue;
        }
        let iterations = by_anchor_order(
            analysis,
            accesses.iter().filter(|a| a.kind == AccessKind::Iterate),
        );
        let resizes = by_anchor_order(
            analysis,
            // A read-modify-write that stores an item may insert it (`d[k] = d.get(k,
            // 0) + 1`).
            accesses.iter().filter(|a| match a.kind {
                AccessKind::Mutation => true,
                AccessKind::ReadModifyWrite => a.access.item == ItemUpdate::Inserted,
                _ => false,
            }),
        );
        // Grouped by lockset: thousands of accesses under one lock compare as one. And
        // by level: iterating the container (`for k in d`) meets an insert into it
        // (`d[k] = v`), iterating an element (`for x in d[k]`) meets a change of an
        // element (`d[k].append(x)`); across levels they are different objects.
        let resizes = ByLockset::new(&resizes, |m| m.access.element);
        let racing = |i: &StateAccess| {
            resizes.first(
                &i.locks,
                |&element| element == i.access.element,
                |m| can_overlap(analysis, i, m),
            )
        };
        let mut racing_iterations = iterations.iter().filter_map(|i| racing(i).map(|m| (*i, m)));
        let Some((iteration, resize)) = racing_iterations.next() else {
            continue;
        };
        // Every iteration that can meet a resize needs the snapshot, not only the
        // first: the next few are listed, and the rest counted.
        let others: Vec<&StateAccess> = racing_iterations.map(|(i, _)| i).collect();
        let name = state.display(&analysis.program);
        let mut finding = Finding::new(
            rule,
            iteration.file,
            iteration.access.span,
            format!("`{name}` is iterated here while another thread can add or remove entries: iteration fails or skips items"),
            "iterated while another thread resizes it".to_string(),
        );
        finding.state = Some(name);
        finding.contexts = vec![Context::EventLoop, Context::WorkerThread];
        finding.related.push(Related {
            file: resize.file,
            span: resize.access.span,
            message: "changes its size here, on another thread".to_string(),
        });
        let rest = others.len().saturating_sub(MORE_ITERATIONS);
        for (index, other) in others.iter().take(MORE_ITERATIONS).enumerate() {
            let more = match index + 1 == MORE_ITERATIONS && rest > 0 {
                true => format!(" (and {rest} more places)"),
                false => String::new(),
            };
            finding.related.push(Related {
                file: other.file,
                span: other.access.span,
                message: format!("also iterated here while another thread can resize it{more}"),
            });
        }
        for (access, label) in [(iteration, "iterated here"), (resize, "resized here")] {
            for context in Context::ALL {
                finding.flows.extend(
                    access_path(analysis, access, context)
                        .map(|f| f.ending_at(access.file, access.access.span, label)),
                );
            }
        }
        finding.fix = Some(snapshot_fix(analysis, state, iteration));
        findings.push(finding);
    }
    findings
}

/// Iterate a copy taken under the lock that the writers also take.
fn snapshot_fix(analysis: &Analysis, state: &StateKey, iteration: &StateAccess) -> Fix {
    let (lock, setup) = lock_setup(analysis, state);
    let lock_expr = lock_expression(analysis, state, iteration, &lock);
    let source = &analysis.program.files[iteration.file].source;
    let span = iteration.access.span;
    let text = source
        .get(span.offset..span.offset + span.len)
        .unwrap_or("")
        .trim();
    let iterated = if iteration.access.method.is_some() {
        format!("{text}()")
    } else {
        text.to_string()
    };
    let mut code = setup.unwrap_or_default();
    code.push_str(&format!(
        "\n# {}:{}\nwith {lock_expr}:\n    snapshot = list({iterated})\n# … then iterate `snapshot` instead of `{iterated}`.\n",
        display_path(analysis, iteration.file),
        span.start.line
    ));
    Fix {
        description: format!(
            "Iterate a snapshot taken under `{lock}`, and hold `{lock}` wherever entries are added or removed."
        ),
        code: code.trim_start_matches('\n').to_string(),
    }
}
