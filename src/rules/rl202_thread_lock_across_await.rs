//! RL202 thread-lock-across-await: a `threading` lock held while a coroutine awaits.

use super::{find, Finding, Fix};
use crate::analysis::contexts::Context;
use crate::analysis::locks::held_thread_locks;
use crate::analysis::state::StateKey;
use crate::analysis::Analysis;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL202").expect("RL202 is registered");
    let program = &analysis.program;
    let mut findings = Vec::new();
    for function in 0..program.functions.len() {
        let model = program.function(function);
        if !model.is_async {
            continue;
        }
        let file = program.file_of(function);
        for suspension in &model.awaits {
            let held = held_thread_locks(program, &analysis.catalogue, file, &suspension.locks);
            let Some(lock) = held.iter().next() else {
                continue;
            };
            // As the code spells it: an attribute through `self`, a module lock by name.
            let (lock, lock_expr) = match lock {
                // A module lock by name; a coroutine's own local (`mod.flush.lock`) by
                // its last segment.
                StateKey::Global { name, .. } => {
                    let local = name.rsplit('.').next().unwrap_or(name).to_string();
                    (local.clone(), local)
                }
                StateKey::Attribute { name, .. } => (name.clone(), format!("self.{name}")),
                StateKey::Framework { name, .. } => (name.clone(), name.clone()),
            };
            let mut finding = Finding::new(
                rule,
                file,
                suspension.span,
                format!(
                    "`{}` awaits while holding the threading lock `{lock}`: the event loop thread can block on it, \
                     and another coroutine taking it deadlocks the loop",
                    model.display
                ),
                format!("awaits holding `{lock}`"),
            );
            finding.contexts = vec![Context::EventLoop];
            finding.fix = Some(Fix {
                description: format!(
                    "Release `{lock}` before awaiting: copy what you need inside the `with` block and await after it. \
                     If the state is only used on the event loop, use an `asyncio.Lock` instead."
                ),
code: format!(
                    "with {lock_expr}:\n    snapshot = ...  # read or update the state\nresult = await ...  # after the lock is released"
                ),
            });
            findings.push(finding);
        }
    }
    findings
}
