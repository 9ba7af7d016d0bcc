//! RL108 replaced-wholesale (note): every write replaces the state whole and the other
//! context only reads it: safe by reference atomicity, fragile if someone later mutates
//! it in place, and worth writing down.

use super::lock_fix::display_path;
use super::shared::{
    by_anchor_order, declaration_fix, definition, lazy_init_writes, may_race, runs_in,
};
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::Context;
use crate::analysis::state::invariant;
use crate::analysis::Analysis;
use crate::model::AccessKind;

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL108").expect("RL108 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        // A lazy creation two threads can both make is RL104's, not safe.
        if invariant(&analysis.program, state).is_some()
            || !lazy_init_writes(analysis, accesses).is_empty()
        {
            continue;
        }
        let writes: Vec<_> =
            by_anchor_order(analysis, accesses.iter().filter(|a| a.kind.is_write()));
        if writes.is_empty() || !writes.iter().all(|a| a.kind == AccessKind::Rebind) {
            continue;
        }
        // Writes in one context only; reads in one that runs beside it: worker threads
        // beside the event loop or a script's main thread (which never runs beside its
        // own loop).
        const BESIDE_WORKERS: [Context; 2] = [Context::EventLoop, Context::MainThread];
        let writes_on = |c: &Context| writes.iter().any(|a| runs_in(analysis, a, *c));
        let (writers, readers): (&[Context], &[Context]) = match (
            writes_on(&Context::WorkerThread),
            BESIDE_WORKERS.iter().any(writes_on),
        ) {
            (true, false) => (&[Context::WorkerThread], &BESIDE_WORKERS),
            (false, true) => (&BESIDE_WORKERS, &[Context::WorkerThread]),
            _ => continue,
        };
        // The first write and read that can meet: a write published before the worker
        // starts, or a test's own thread, is no sharing.
        let pair = writes.iter().find_map(|w| {
            writers
                .iter()
                .filter(|&&writer| runs_in(analysis, w, writer))
                .find_map(|&writer| {
                    readers.iter().find_map(|&reader| {
                        accesses
                            .iter()
                            .filter(|a| runs_in(analysis, a, reader))
                            .find(|r| may_race(analysis, w, writer, r, reader))
                            .map(|r| (*w, writer, r, reader))
                    })
                })
        });
        let Some((write, writer, read, reader)) = pair else {
            continue;
        };
        let name = state.display(&analysis.program);
        let mut finding = Finding::new(
            rule,
            write.file,
            write.access.span,
            format!(
                "`{name}` is replaced wholesale on {} and only read on {}: safe because rebinding is atomic, \
                 but only while nobody mutates it in place, and nothing says so",
                writer.prose(),
                reader.prose()
            ),
            "replaced wholesale".to_string(),
        );
        finding.state = Some(name.clone());
        // The context beside the workers first, as RL101 lists them.
        let other = if writer == Context::WorkerThread {
            reader
        } else {
            writer
        };
        finding.contexts = vec![other, Context::WorkerThread];
        finding.related.push(Related {
            file: read.file,
            span: read.access.span,
            message: format!("read on {} here", reader.prose()),
        });
        let Some((file, span)) = definition(analysis, state) else {
            continue;
        };
        finding.fix = Some(Fix {
            description: "Declare the invariant so racelint checks it from now on (RL109), and say it where the state is defined."
                .to_string(),
            code: format!(
                "# {}:{} — on the line above the definition of `{name}`:\n# racelint: replaced-wholesale\n\n\
                 # and in the docstring:\n# \"`{name}` is replaced wholesale on every refresh; never mutate it in place.\"",
                display_path(analysis, file),
                span.start.line
            ),
        });
        finding.autofix = declaration_fix(analysis, state, "replaced-wholesale");
        findings.push(finding);
    }
    findings
}
