//! RL104 lazy-init-race: check-then-create on shared state (`if self._x is None:
//! self._x = make()`) that two threads can run at once, without a lock.

use super::lock_fix::{dedent, display_path, lock_expression, lock_setup};
use super::shared::{call_path, is_declared, lazy_init_writes, runs_in};
use super::{find, Finding, Fix};
use crate::analysis::contexts::Context;
use crate::analysis::state::{StateAccess, StateKey};
use crate::analysis::Analysis;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL104").expect("RL104 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        if is_declared(analysis, state) {
            continue;
        }
        let Some(write) = lazy_init_writes(analysis, accesses).into_iter().next() else {
            continue;
        };
        let name = state.display(&analysis.program);
        let mut finding = Finding::new(
            rule,
            write.file,
            write.access.span,
            format!(
                "`{name}` is created lazily without a lock: two threads can both see it missing and both create it"
            ),
            "check-then-create without a lock".to_string(),
        );
        finding.state = Some(name);
        finding.contexts = Context::ALL
            .into_iter()
            .filter(|c| runs_in(analysis, write, *c))
            .collect();
        for context in Context::ALL {
            finding.flows.extend(
                call_path(analysis, write.function, context)
                    .map(|f| f.ending_at(write.file, write.access.span, &finding.label)),
            );
        }
        finding.fix = Some(double_checked_fix(analysis, state, write));
        findings.push(finding);
    }
    findings
}

/// The check, repeated under a `threading.Lock`: the cheap unlocked check stays for the
/// common case, and only the first creators contend for the lock.
fn double_checked_fix(analysis: &Analysis, state: &StateKey, write: &StateAccess) -> Fix {
    let (lock, setup) = lock_setup(analysis, state);
    let lock_expr = lock_expression(analysis, state, write, &lock);
    let source = &analysis.program.files[write.file].source;
    let (first, last) = write.checked_by.unwrap_or(write.access.statement_lines);
    let lines = dedent(source, first, last);
    let header = lines.first().cloned().unwrap_or_default();
    let simple = header.trim_end().ends_with(':')
        && !lines[1..]
            .iter()
            .any(|l| !l.starts_with(' ') && !l.trim().is_empty());
    let mut code = setup.unwrap_or_default();
    code.push_str(&format!(
        "\n# {}:{first}\n",
        display_path(analysis, write.file)
    ));
    if simple {
        code.push_str(&format!(
            "{header}\n    with {lock_expr}:\n        {header}\n"
        ));
        for line in &lines[1..] {
            code.push_str(&format!("        {line}\n"));
        }
    } else {
        code.push_str(&format!("with {lock_expr}:\n"));
        for line in &lines {
            code.push_str(&format!("    {line}\n"));
        }
    }
    Fix {
        description: format!(
            "Use double-checked locking: keep the unlocked check, and repeat it under `{lock}` before creating."
        ),
        code: code.trim_start_matches('\n').to_string(),
    }
}
