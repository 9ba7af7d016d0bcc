//! RL101 loop-thread-shared-state: state written in one context (event loop or worker
//! thread) and accessed in the other, with no thread lock common to both accesses.

use super::lock_fix::lock_fixes;
use super::rl306_unsafe_sync_impl::unsafe_field;
use super::rust_facts::{runs_once, rust_functions, statics};
use super::shared::{
    access_entry_related, access_path, by_anchor_order, call_path, is_declared, lazy_init_writes,
    may_race, partially_locked, runs_in, verb, ByLockset,
};
use super::{find, Finding, Fix, Related};
use crate::analysis::contexts::Context;
use crate::analysis::resolve::FuncId;
use crate::analysis::state::StateAccess;
use crate::analysis::Analysis;
use crate::model::{Access, AccessKind};
use std::collections::BTreeMap;

/// Whether every write among `accesses` rebinds the location to one and the same
/// literal (`Access::writes_constant`).
fn one_literal<'a, 'm: 'a>(accesses: impl Iterator<Item = &'a StateAccess<'m>>) -> bool {
    let mut literals = accesses.filter(|a| a.kind.is_write()).map(|a| {
        (a.kind == AccessKind::Rebind)
            .then_some(a.access.writes_constant)
            .flatten()
    });
    let first = literals.next().flatten();
    first.is_some() && literals.all(|c| c == first)
}

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL101").expect("RL101 is registered");
    let mut findings = Vec::new();
    for (state, accesses) in &analysis.state {
        // More specific rules own these states.
        if is_declared(analysis, state)
            || partially_locked(analysis, accesses).is_some()
            || !lazy_init_writes(analysis, accesses).is_empty()
        {
            continue;
        }
        let on = |context: Context| {
            by_anchor_order(
                analysis,
                accesses.iter().filter(|a| runs_in(analysis, a, context)),
            )
        };
        let worker = on(Context::WorkerThread);
        let rebind_only = accesses
            .iter()
            .filter(|a| a.kind.is_write())
            .all(|a| a.kind == AccessKind::Rebind);
        if one_literal(accesses.iter()) {
            // `inited = True` from two threads: whoever wins, the flag ends the same.
            // (`running = True` on one side and `False` on the other is a race over
            // which one stays.)
            continue;
        }
        // The same, among the writes a program running a pair makes: a test that
        // resets the flag to `False` is a program of its own.
        let literals = accesses
            .iter()
            .any(|a| a.kind.is_write() && a.access.writes_constant.is_some());
        let programs = &analysis.programs;
        let one_literal_between = |w: &StateAccess, l: &StateAccess| {
            literals
                && one_literal(accesses.iter().filter(|a| {
                    programs.may_run_both(&analysis.program, w.function, a.function)
                        && programs.may_run_both(&analysis.program, l.function, a.function)
                }))
        };
        // The event loop first; then the main thread of a script, which runs beside
        // the threads it starts just the same.
        let pair = [Context::EventLoop, Context::MainThread]
            .into_iter()
            .find_map(|other| {
                let races = |w: &StateAccess, l: &StateAccess| {
                    may_race(analysis, w, Context::WorkerThread, l, other)
                        && !one_literal_between(w, l)
                };
                first_conflict(&worker, &on(other), rebind_only, races).map(|(w, l)| (w, l, other))
            });
        let Some((w, l, other)) = pair else { continue };
        let more_worker = other_sites(&worker, (w, l), l, rebind_only, |a| {
            may_race(analysis, a, Context::WorkerThread, l, other) && !one_literal_between(a, l)
        });
        let more_other = other_sites(&on(other), (w, l), w, rebind_only, |b| {
            may_race(analysis, w, Context::WorkerThread, b, other) && !one_literal_between(w, b)
        });

        let name = state.display(&analysis.program);
        let mut finding = Finding::new(
            rule,
            w.file,
            w.access.span,
            message(&name, w.kind, l.kind, other),
            format!("{} on a worker thread", verb(w.kind)),
        );
        finding.state = Some(name.clone());
        finding.contexts = vec![other, Context::WorkerThread];
        finding.related.push(Related {
            file: l.file,
            span: l.access.span,
            message: format!("{} on {} here", verb(l.kind), other.prose()),
        });
        finding
            .related
            .extend(also_related(&more_worker, &more_other, other));
        for (access, context) in [(w, Context::WorkerThread), (l, other)] {
            finding
                .related
                .extend(access_entry_related(analysis, access, context));
            let label = format!("{} on {}", verb(access.kind), context.prose());
            finding.flows.extend(
                access_path(analysis, access, context)
                    .map(|f| f.ending_at(access.file, access.access.span, &label)),
            );
        }
        let (mut fix, autofix) = lock_fixes(analysis, state, accesses, None);
        finding.autofix = autofix;
        if rebind_only {
            // Both sides only ever replace the object whole: a lock is right for a
            // check-then-create, but a deliberate last-writer-wins wants documenting.
            fix.description = format!(
                "Every write replaces `{name}` whole, which is atomic: if the last writer winning is \
                 intended, document it where it is defined (\"replaced wholesale; never mutated \
                 in place\"). Otherwise: {}",
                fix.description
            );
        }
        finding.fix = Some(fix);
        findings.push(finding);
    }
    findings.extend(rust_statics(analysis));
    findings
}

/// Worker accesses of one key `first_conflict` compares before it skips the rest.
const TRIES_PER_KEY: usize = 32;

/// The first conflicting pair in anchor order: the first worker access that has one,
/// with the first access on the other side that conflicts with it. A pair conflicts
/// when one of them writes (both, when every write rebinds: a wholesale rebinding read
/// elsewhere is atomic, RL108's business), no thread lock is common to both, and
/// `races` holds.
///
/// Comparing every pair is quadratic, so the other side is grouped by write-ness and
/// lockset (`ByLockset`). And once `TRIES_PER_KEY` worker accesses with the same
/// function, receiver, write-ness, lockset and object (the location's own, or one
/// fetched from inside it: `Access::fetched`) have found nothing, the rest with that
/// key are skipped, so that a function with thousands of accesses of one state stays
/// linear. Not after the first: `races` reads more of an access than the key (its
/// place, which orders it after a handoff or before one; a test by identity, `x is
/// None`, which meets no change in place), and a function's first access often finds
/// nothing where a later one races.
fn first_conflict<'a, 'm>(
    worker: &[&'a StateAccess<'m>],
    side: &[&'a StateAccess<'m>],
    rebind_only: bool,
    races: impl Fn(&StateAccess, &StateAccess) -> bool,
) -> Option<(&'a StateAccess<'m>, &'a StateAccess<'m>)> {
    let side = ByLockset::new(side, |l| l.kind.is_write());
    let mut tried = BTreeMap::new();
    for &w in worker {
        let object = (w.access.fetched, w.access.element);
        let tries = tried
            .entry((w.function, w.receiver, w.kind.is_write(), &w.locks, object))
            .or_insert(0);
        if *tries == TRIES_PER_KEY {
            continue;
        }
        *tries += 1;
        let writes = |l_writes: &bool| {
            if rebind_only {
                w.kind.is_write() && *l_writes
            } else {
                w.kind.is_write() || *l_writes
            }
        };
        if let Some(l) = side.first(&w.locks, writes, |l| races(w, l)) {
            return Some((w, l));
        }
    }
    None
}

/// How many more sites of a race a finding names, both sides together.
const MORE_SITES: usize = 6;

/// The race's other sites as related places, worker side first, at most `MORE_SITES`:
/// a site reached on both sides (a helper both call) is named once, with both.
fn also_related(
    worker: &[&StateAccess],
    other_side: &[&StateAccess],
    other: Context,
) -> Vec<Related> {
    let at = |a: &StateAccess| (a.file, a.access.span.start);
    let in_worker = |b: &&&StateAccess| worker.iter().any(|a| at(a) == at(b));
    let sides = |a: &StateAccess| {
        if other_side.iter().any(|b| at(b) == at(a)) {
            format!("a worker thread and on {}", other.prose())
        } else {
            "a worker thread".to_string()
        }
    };
    let worker = worker.iter().map(|a| (*a, sides(a)));
    let others = other_side
        .iter()
        .filter(|b| !in_worker(b))
        .map(|b| (*b, other.prose().to_string()));
    worker
        .chain(others)
        .take(MORE_SITES)
        .map(|(a, sides)| Related {
            file: a.file,
            span: a.access.span,
            message: format!("also {} on {sides} here", verb(a.kind)),
        })
        .collect()
}

/// The race's other sites on one side, in anchor order and one per line, at most
/// `MORE_SITES`: the accesses of `side`, other than the pair's, that conflict with
/// `with` (the pair's access on the opposite side) as the pair does. A fix must reach
/// them too, and an editor shows each.
fn other_sites<'a, 'm>(
    side: &[&'a StateAccess<'m>],
    pair: (&StateAccess<'m>, &StateAccess<'m>),
    with: &StateAccess<'m>,
    rebind_only: bool,
    races: impl Fn(&StateAccess) -> bool,
) -> Vec<&'a StateAccess<'m>> {
    let at = |a: &StateAccess| (a.file, a.access.span.start.line);
    let mut lines = vec![at(pair.0), at(pair.1)];
    let mut sites = Vec::new();
    for &a in side {
        if sites.len() == MORE_SITES {
            break;
        }
        let writes = if rebind_only {
            a.kind.is_write() && with.kind.is_write()
        } else {
            a.kind.is_write() || with.kind.is_write()
        };
        if writes && !lines.contains(&at(a)) && a.locks.is_disjoint(&with.locks) && races(a) {
            lines.push(at(a));
            sites.push(a);
        }
    }
    sites
}

/// The Rust side: a `static` whose type is `Sync` only by an `unsafe impl` over fields
/// that are not thread-safe (or that mentions such a type itself), written in one
/// context and accessed in the other. (`static mut` is RL303's.)
fn rust_statics(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL101").expect("RL101 is registered");
    let program = &analysis.program;
    let statics = statics(analysis);
    let catalogue = &analysis.catalogue.rust;
    let unsafe_sync = |ty: &str| {
        !catalogue.thread_safe.types.iter().any(|t| t == ty)
            && program.files.iter().any(|f| {
                f.unsafe_impls
                    .iter()
                    .any(|u| u.trait_name == "Sync" && u.ty == ty)
            })
            && (0..program.classes.len())
                .map(|c| program.class(c))
                .any(|c| c.path == ty && unsafe_field(analysis, c).is_some())
    };
    let mut by_static: BTreeMap<&str, Vec<(FuncId, &Access)>> = BTreeMap::new();
    for function in rust_functions(analysis).filter(|&f| !runs_once(analysis, f)) {
        for access in &program.function(function).accesses {
            let Some(item) = statics.get(&access.path) else {
                continue;
            };
            let risky = !item.item.mutable
                && !item.item.thread_local
                && item
                    .item
                    .mentions
                    .iter()
                    .any(|m| catalogue.is_not_thread_safe(m) || unsafe_sync(m));
            if risky {
                by_static
                    .entry(&access.path)
                    .or_default()
                    .push((function, access));
            }
        }
    }
    let mut findings = Vec::new();
    for (path, accesses) in by_static {
        let on = |context: Context| -> Vec<(FuncId, &Access)> {
            let mut side: Vec<(FuncId, &Access)> = accesses
                .iter()
                .copied()
                .filter(|(f, _)| analysis.contexts.reach[*f][context.index()].is_some())
                .collect();
            side.sort_by_key(|(f, a)| {
                (
                    !a.kind.is_write(),
                    program.files[program.file_of(*f)].path.clone(),
                    a.span.start,
                )
            });
            side
        };
        let (worker, event_loop) = (on(Context::WorkerThread), on(Context::EventLoop));
        let (Some(&w), Some(&l)) = (worker.first(), event_loop.first()) else {
            continue;
        };
        if !w.1.kind.is_write() && !l.1.kind.is_write() {
            continue;
        }
        // Writes first, then by file and line, across both sides.
        let key = |(f, a): &(FuncId, &Access)| {
            (
                !a.kind.is_write(),
                program.files[program.file_of(*f)].path.clone(),
                a.span.start,
            )
        };
        let ((anchor, anchor_context), (other, other_context)) = if key(&w) <= key(&l) {
            ((w, Context::WorkerThread), (l, Context::EventLoop))
        } else {
            ((l, Context::EventLoop), (w, Context::WorkerThread))
        };
        let item = &statics[path];
        let name = item.name;
        let file = program.file_of(anchor.0);
        let mut finding = Finding::new(
            rule,
            file,
            anchor.1.span,
            format!(
                "`{name}` is {} on {} and {} on {}: its type is shared between threads only by an `unsafe impl Sync` over fields that are not thread-safe, so these accesses race",
                verb(anchor.1.kind),
                anchor_context.prose(),
                verb(other.1.kind),
                other_context.prose(),
            ),
            format!("{} on {}", verb(anchor.1.kind), anchor_context.prose()),
        );
        finding.state = Some(name.to_string());
        finding.contexts = vec![Context::EventLoop, Context::WorkerThread];
        finding.related.push(Related {
            file: program.file_of(other.0),
            span: other.1.span,
            message: format!("{} on {} here", verb(other.1.kind), other_context.prose()),
        });
        for ((function, access), context) in [(anchor, anchor_context), (other, other_context)] {
            let label = format!("{} on {}", verb(access.kind), context.prose());
            let access_file = program.file_of(function);
            finding.flows.extend(
                call_path(analysis, function, context)
                    .map(|f| f.ending_at(access_file, access.span, &label)),
            );
        }
        finding.fix = Some(Fix {
            description: format!(
                "Make `{name}` thread-safe by construction: `Cell<integer>` fields become atomics, `RefCell<T>` becomes `Mutex<T>`, and the `unsafe impl Sync` goes away. If only one thread may ever touch it, make that true (move the other access to that thread) and write the invariant in a `// SAFETY:` comment on the impl."
            ),
            code: format!(
                "use std::sync::Mutex;

// one lock around the state that was in `Cell`/`RefCell` fields:
static {name}: Mutex<State> = Mutex::new(State::new());

{name}.lock().unwrap().update();"
            ),
        });
        findings.push(finding);
    }
    findings
}

/// "`jobs` is mutated in place on a worker thread and read on the event loop, …"
fn message(name: &str, worker: AccessKind, other: AccessKind, context: Context) -> String {
    let where_ = context.prose();
    let sides = if worker == other {
        format!("{} both on a worker thread and on {where_}", verb(worker))
    } else {
        format!(
            "{} on a worker thread and {} on {where_}",
            verb(worker),
            verb(other)
        )
    };
    format!("`{name}` is {sides}, with no thread lock held by both")
}
