//! RL304 check-then-act: a decision made under one lock acquisition (or from one atomic
//! load) and acted on under another, in code that runs concurrently with itself.
//! Between the two, another thread can make the decision stale.

use super::rust_facts::{runs_concurrently, rust_display, rust_functions, text};
use super::shared::call_path;
use super::{find, Finding, Fix, Related};
use crate::analysis::Analysis;
use crate::model::{CheckKind, CheckThenAct};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL304").expect("RL304 is registered");
    let program = &analysis.program;
    let mut findings = Vec::new();
    for function in rust_functions(analysis) {
        if !runs_concurrently(analysis, function) {
            continue;
        }
        let contexts: Vec<_> = analysis.contexts.contexts_of(function).collect();
        let model = program.function(function);
        let file = program.file_of(function);
        for sequence in model.check_then_act.iter().filter(|c| c.locks.is_empty()) {
            let state = rust_display(&sequence.state);
            let state = state.rsplit("::").next().unwrap_or(&state).to_string();
            let check = text(analysis, file, sequence.check);
            let (message, label) = match sequence.kind {
                CheckKind::Lock => (
                    format!(
                        "`{state}` is checked under one lock acquisition (`{check}`, line {}) and changed under another: \
                         the first guard is dropped in between, so another thread can change `{state}` after the check \
                         and this act works on a stale decision",
                        sequence.check.start.line
                    ),
                    "acts under a second lock acquisition",
                ),
                CheckKind::Atomic => (
                    format!(
                        "`{state}` is stored from a value decided by an earlier `load` (line {}): another thread can \
                         store between the load and this store, and its update is lost",
                        sequence.check.start.line
                    ),
                    "store depends on an earlier load",
                ),
            };
            let mut finding = Finding::new(rule, file, sequence.act, message, label.to_string());
            finding.state = Some(state.clone());
            finding.contexts = contexts.clone();
            finding.related.push(Related {
                file,
                span: sequence.check,
                message: "the decision is made here".to_string(),
            });
            for &context in &contexts {
                finding.flows.extend(
                    call_path(analysis, function, context)
                        .map(|f| f.ending_at(file, sequence.act, label)),
                );
            }
            finding.fix = Some(fix(analysis, file, sequence, &state));
            findings.push(finding);
        }
    }
    findings
}

fn fix(analysis: &Analysis, file: usize, sequence: &CheckThenAct, state: &str) -> Fix {
    let check = text(analysis, file, sequence.check);
    // One guard both decides and acts: on an `RwLock`, the write guard.
    let check = match check.rsplit_once(".read()") {
        Some((lock, rest)) => format!("{lock}.write(){rest}"),
        None => check.to_string(),
    };
    match sequence.kind {
        CheckKind::Lock => Fix {
            description: "Take the lock once and keep the guard for the whole check-and-act. For a map, the `entry()` API does \
                 both in one call."
                .to_string(),
            code: format!(
                "let mut guard = {check};\n// decide and act through the one guard: nobody can change `{state}` in between\nlet value = guard.entry(key).or_insert_with(make_value);"
            ),
        },
        CheckKind::Atomic => {
            let receiver = &sequence.subject;
            Fix {
                description: "Make the read and the write one atomic operation: `fetch_add`/`fetch_sub` for arithmetic, \
                     `fetch_update` or a `compare_exchange` loop when the new value depends on the old one."
                .to_string(),
                code: format!(
                    "let _ = {receiver}.fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {{\n    // compute the new value from `current`; `None` keeps it unchanged\n    Some(current + 1)\n}});"
                ),
            }
        }
    }
}
