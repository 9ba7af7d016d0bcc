//! RL204 lock-held-during-io: a thread lock held around blocking I/O or sleep on a
//! worker thread; every other thread that wants the lock waits for the disk or network.

use super::lock_fix::{dedent, display_path};
use super::shared::{call_path, worker_calls};
use super::{find, Finding, Fix};
use crate::analysis::contexts::Context;
use crate::analysis::locks::held_thread_locks;
use crate::analysis::Analysis;
use crate::model::CallSite;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL204").expect("RL204 is registered");
    let program = &analysis.program;
    let mut findings = Vec::new();
    for (function, file, call, api) in worker_calls(analysis) {
        let held = held_thread_locks(program, &analysis.catalogue, file, &call.locks);
        let Some(lock) = held.iter().next() else {
            continue;
        };
        let Some(path) = api
            .paths
            .iter()
            .find(|p| analysis.catalogue.blocking.calls.contains(p))
        else {
            continue;
        };
        let lock = lock.name().to_string();
        let mut finding = Finding::new(
            rule,
            file,
            call.span,
            format!("`{path}` blocks while `{lock}` is held: every thread that needs the lock waits for it"),
            format!("blocking call under `{lock}`"),
        );
        finding.contexts = vec![Context::WorkerThread];
        finding.flows.extend(
            call_path(analysis, function, Context::WorkerThread)
                .map(|f| f.ending_at(file, call.span, &finding.label)),
        );
        finding.fix = Some(io_outside_lock(analysis, file, call, &lock));
        findings.push(finding);
    }
    findings
}

/// The `with` block split in two: what comes before the I/O stays under the lock (copy
/// the state there), the I/O and what follows it move after the block.
fn io_outside_lock(analysis: &Analysis, file: usize, call: &CallSite, lock: &str) -> Fix {
    let description = format!(
        "Copy what the I/O needs into a local while holding `{lock}`, release it, then do the I/O on the local copy, not on the shared state (seed 004: \"copy under lock, I/O outside\")."
    );
    let Some((start, end)) = call.lock_block else {
        return Fix {
            description,
            code: String::new(),
        };
    };
    let source = &analysis.program.files[file].source;
    let lines = dedent(source, start, end);
    // Split before the statement of the block itself that contains the I/O (the I/O
    // may sit deeper, inside `with open(...) as f:`).
    let indent = |l: &str| l.len() - l.trim_start().len();
    let body_indent = lines
        .iter()
        .skip(1)
        .find(|l| !l.trim().is_empty())
        .map_or(4, |l| indent(l));
    let mut io_start = call.statement_lines.0.max(start + 1);
    while io_start > start + 1 {
        let line = &lines[(io_start - start) as usize];
        if line.trim().is_empty() || indent(line) > body_indent {
            io_start -= 1;
        } else {
            break;
        }
    }
    let split = (io_start - start) as usize;
    let mut code = format!("# {}:{start}\n", display_path(analysis, file));
    code.push_str(&lines[0]);
    code.push('\n');
    let kept = &lines[1..split.min(lines.len())];
    if kept.iter().all(|l| l.trim().is_empty()) {
        code.push_str("    snapshot = ...  # copy the state the I/O needs\n");
    }
    for line in kept {
        code.push_str(line);
        code.push('\n');
    }
    for line in lines.iter().skip(split) {
        code.push_str(line.strip_prefix("    ").unwrap_or(line));
        code.push('\n');
    }
    Fix { description, code }
}
