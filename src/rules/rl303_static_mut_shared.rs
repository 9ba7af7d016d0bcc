//! RL303 static-mut-shared: a `static mut` reached from two threads (the runtime and a
//! worker, or several workers) with a write among the accesses: a data race, which is
//! undefined behaviour in Rust even when the value "only" counts something.

use std::collections::{BTreeMap, BTreeSet};

use super::rust_facts::{runs_once, rust_functions, statics, worker_runs_concurrently, StaticItem};
use super::shared::call_path;
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::Context;
use crate::analysis::resolve::FuncId;
use crate::analysis::Analysis;
use crate::model::{Access, AccessKind};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL303").expect("RL303 is registered");
    let program = &analysis.program;
    let statics = statics(analysis);
    let mut by_static: BTreeMap<&str, Vec<(FuncId, &Access)>> = BTreeMap::new();
    for function in rust_functions(analysis).filter(|&f| !runs_once(analysis, f)) {
        for access in &program.function(function).accesses {
            if statics.get(&access.path).is_some_and(|s| s.item.mutable) {
                by_static
                    .entry(&access.path)
                    .or_default()
                    .push((function, access));
            }
        }
    }
    let contexts = &analysis.contexts;
    let mut findings = Vec::new();
    for (path, accesses) in by_static {
        let reached = |context: Context| -> Vec<(FuncId, &Access)> {
            accesses
                .iter()
                .copied()
                .filter(|(f, _)| contexts.reach[*f][context.index()].is_some())
                .collect()
        };
        let (worker, on_loop) = (reached(Context::WorkerThread), reached(Context::EventLoop));
        // Worker threads started at different places, or one started many times.
        let worker_entries: BTreeSet<usize> = worker
            .iter()
            .filter_map(|(f, _)| contexts.reach[*f][Context::WorkerThread.index()].map(|r| r.entry))
            .collect();
        let concurrent = worker
            .iter()
            .any(|(f, _)| worker_runs_concurrently(analysis, *f));
        let shared =
            (!worker.is_empty() && !on_loop.is_empty()) || worker_entries.len() > 1 || concurrent;
        let involved: Vec<(FuncId, &Access)> = worker.iter().chain(&on_loop).copied().collect();
        let Some(&(function, anchor)) = anchor(analysis, &involved) else {
            continue;
        };
        if !shared || !anchor.kind.is_write() {
            continue;
        }
        let item = &statics[path];
        let file = program.file_of(function);
        let context = if worker
            .iter()
            .any(|(f, a)| *f == function && std::ptr::eq(*a, anchor))
        {
            Context::WorkerThread
        } else {
            Context::EventLoop
        };
        let other = involved
            .iter()
            .find(|(f, a)| !std::ptr::eq(*a, anchor) && (*f != function || on_loop.is_empty()))
            .or_else(|| involved.iter().find(|(_, a)| !std::ptr::eq(*a, anchor)));
        let where_else = if !worker.is_empty() && !on_loop.is_empty() {
            "by async code and by a worker thread"
        } else {
            "by several worker threads at once"
        };
        let mut finding = Finding::new(
            rule,
            file,
            anchor.span,
            format!(
                "`static mut {}` is {} here and accessed {where_else} with no synchronisation: a data race, which is \
                 undefined behaviour (torn or lost updates, stale reads the optimiser keeps in registers)",
                item.name,
                if anchor.kind == AccessKind::ReadModifyWrite { "updated" } else { "written" },
            ),
            format!("written on {}", context.prose()),
        );
        finding.state = Some(item.name.to_string());
        finding.contexts = if on_loop.is_empty() {
            vec![Context::WorkerThread]
        } else {
            vec![Context::WorkerThread, Context::EventLoop]
        };
        finding.related.push(Related {
            file: item.file,
            span: item.span,
            message: "declared `static mut` here".to_string(),
        });
        if let Some((other_function, other_access)) = other {
            finding.related.push(Related {
                file: program.file_of(*other_function),
                span: other_access.span,
                message: format!(
                    "also accessed here, in `{}`",
                    program.function(*other_function).display
                ),
            });
        }
        for (side, context) in [
            (&worker, Context::WorkerThread),
            (&on_loop, Context::EventLoop),
        ] {
            if let Some((f, access)) = side.first() {
                let access_file = program.file_of(*f);
                finding.flows.extend(
                    call_path(analysis, *f, context).map(|flow| {
                        flow.ending_at(access_file, access.span, "accesses the static")
                    }),
                );
            }
        }
        finding.fix = Some(fix(item, anchor.kind));
        findings.push(finding);
    }
    findings
}

/// Writes first, then by file and line: the access a finding points at.
fn anchor<'a, 'm>(
    analysis: &Analysis,
    accesses: &'a [(FuncId, &'m Access)],
) -> Option<&'a (FuncId, &'m Access)> {
    let program = &analysis.program;
    accesses.iter().min_by_key(|(f, a)| {
        (
            !a.kind.is_write(),
            program.files[program.file_of(*f)].path.clone(),
            a.span.start,
        )
    })
}

/// An atomic of the same width for integers and flags, a `Mutex` for anything else.
fn fix(item: &StaticItem, kind: AccessKind) -> Fix {
    let name = item.name;
    let ty = item.item.type_text.trim();
    let init = item.item.init_text.trim();
    let atomic = atomic_for(ty);
    match atomic {
        Some(atomic) => {
            let usage = match (kind, ty) {
                (_, "bool") => format!("{name}.store(true, Ordering::Release);\nlet set = {name}.load(Ordering::Acquire);"),
                (AccessKind::ReadModifyWrite, _) => format!("{name}.fetch_add(1, Ordering::Relaxed);"),
                _ => format!("{name}.store(value, Ordering::Relaxed);\nlet current = {name}.load(Ordering::Relaxed);"),
            };
            Fix {
                description: format!(
                    "Make `{name}` an `{atomic}`: no `unsafe`, no `mut`, and every access is a single atomic operation. \
                     Use `fetch_add`/`fetch_update` for read-modify-write, never a `load` followed by a `store`."
                ),
                code: format!(
                    "use std::sync::atomic::{{{atomic}, Ordering}};\n\nstatic {name}: {atomic} = {atomic}::new({init});\n\n{usage}"
                ),
            }
        }
        None => Fix {
            description: format!(
                "Put `{name}` behind a `Mutex` (`Mutex::new` is `const`, so it stays a plain `static`), and take the \
                 lock for every read and write."
            ),
            code: format!(
                "use std::sync::Mutex;\n\nstatic {name}: Mutex<{ty}> = Mutex::new({init});\n\nlet mut value = {name}.lock().unwrap();\n// read or update `*value` here"
            ),
        },
    }
}

/// The atomic type that holds a value of this primitive type, if there is one.
fn atomic_for(ty: &str) -> Option<&'static str> {
    Some(match ty {
        "bool" => "AtomicBool",
        "u8" => "AtomicU8",
        "u16" => "AtomicU16",
        "u32" => "AtomicU32",
        "u64" => "AtomicU64",
        "usize" => "AtomicUsize",
        "i8" => "AtomicI8",
        "i16" => "AtomicI16",
        "i32" => "AtomicI32",
        "i64" => "AtomicI64",
        "isize" => "AtomicIsize",
        _ => return None,
    })
}
