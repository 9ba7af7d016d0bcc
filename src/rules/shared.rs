//! Facts several rules need: ordering accesses, how a function is reached (in words),
//! and the hazard patterns whose rule takes precedence over the general RL101.

use std::collections::{BTreeMap, BTreeSet};

use super::edits::comment_above;
use super::lock_fix::display_path;
use super::{Autofix, Flow, FlowStep, Related};
use crate::analysis::contexts::{
    api_call, chain_to, resolve_call, ApiCall, Context, EntryPoint, Reach,
};
use crate::analysis::import_order::initialised_at_import;
use crate::analysis::ordering::initialised_before;
use crate::analysis::resolve::{ClassId, FuncId};
use crate::analysis::state::{declared_name, invariant, StateAccess, StateKey};
use crate::analysis::Analysis;
use crate::model::{AccessKind, Invariant, Language};

/// Writes first, then source order: how rules pick the access to anchor a finding on.
pub fn by_anchor_order<'a, 'm>(
    analysis: &Analysis,
    accesses: impl IntoIterator<Item = &'a StateAccess<'m>>,
) -> Vec<&'a StateAccess<'m>>
where
    'm: 'a,
{
    let mut sorted: Vec<&StateAccess> = accesses.into_iter().collect();
    sorted.sort_by_key(|a| {
        (
            !a.kind.is_write(),
            display_path(analysis, a.file),
            a.access.span.start,
        )
    });
    sorted
}

/// Whether the access runs in `context` on state another run can reach (not through an
/// object each run there owns).
pub fn runs_in(analysis: &Analysis, access: &StateAccess, context: Context) -> bool {
    analysis.contexts.reach[access.function][context.index()].is_some()
        && !access.owned_in[context.index()]
        && !(context == Context::WorkerThread && access.access.on_loop_thread)
}

/// "read", "mutated in place", … as messages say it.
pub fn verb(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Read => "read",
        AccessKind::Iterate => "iterated",
        AccessKind::Mutation => "mutated in place",
        AccessKind::Rebind => "rebound",
        AccessKind::ReadModifyWrite => "read-modify-written",
    }
}

/// States whose declared invariant (`loop-only`, `guarded-by`, `replaced-wholesale`) is
/// checked by RL109 alone.
pub fn is_declared(analysis: &Analysis, state: &StateKey) -> bool {
    matches!(
        invariant(&analysis.program, state),
        Some(Invariant::LoopOnly | Invariant::GuardedBy(_) | Invariant::ReplacedWholesale)
    )
}

/// One side of a pair search (RL101, RL106), grouped by lockset and by a key of the
/// rule's choosing, so that a search for "the first access with no thread lock in
/// common with this one" compares each access with a few groups instead of with every
/// access. A registry of thousands of accesses that all hold one lock would otherwise
/// make every pair search quadratic. Each access keeps its position in the order given.
pub struct ByLockset<'a, 'm, K> {
    groups: BTreeMap<(K, &'a BTreeSet<StateKey>), Positioned<'a, 'm>>,
}

/// Accesses with their positions in the order a rule gave them.
type Positioned<'a, 'm> = Vec<(usize, &'a StateAccess<'m>)>;

impl<'a, 'm, K: Ord> ByLockset<'a, 'm, K> {
    pub fn new(side: &[&'a StateAccess<'m>], key: impl Fn(&StateAccess) -> K) -> Self {
        let mut groups: BTreeMap<_, Positioned> = BTreeMap::new();
        for (position, &access) in side.iter().enumerate() {
            groups
                .entry((key(access), &access.locks))
                .or_default()
                .push((position, access));
        }
        ByLockset { groups }
    }

    /// The first access, in the order given, whose key `admits`, that holds no thread
    /// lock of `locks`, and for which `races` holds.
    pub fn first(
        &self,
        locks: &BTreeSet<StateKey>,
        admits: impl Fn(&K) -> bool,
        races: impl Fn(&StateAccess) -> bool,
    ) -> Option<&'a StateAccess<'m>> {
        self.groups
            .iter()
            .filter(|((key, held), _)| admits(key) && locks.is_disjoint(held))
            .filter_map(|(_, group)| group.iter().find(|(_, access)| races(access)))
            .min_by_key(|(position, _)| *position)
            .map(|&(_, access)| access)
    }
}

/// Methods that add or drop a container's entries without reading what one holds. A
/// mapping's `pop(key)` hands its entry back, but a local it binds is an entry fetched
/// like any other (`python::lower`'s `looked_up`); `setdefault` and `get` are left out,
/// as what their result is then called on (`d.setdefault(k, set()).add(x)`) is not
/// seen.
const ENTRY_BLIND_METHODS: &[&str] = &[
    "add",
    "append",
    "appendleft",
    "clear",
    "extend",
    "insert",
    "pop",
    "update",
];

/// Whether an access touches the container alone, never what an entry holds: a
/// rebinding of it, a store or deletion of one entry (`d[k] = v`, `del d[k]`), or a
/// method that adds or drops entries unseen (`ENTRY_BLIND_METHODS`). Anything else on
/// the container may stand for a change of an entry racelint does not see
/// (`d.setdefault(k, set()).add(x)`, `d[k] |= s`, `json.dump(d)`), so it still meets
/// an access through a fetched entry (`Access::fetched`).
fn touches_container_only(c: &StateAccess) -> bool {
    if c.access.element || c.access.fetched || c.passed_object {
        return false;
    }
    match c.kind {
        AccessKind::Rebind => true,
        AccessKind::Mutation => c
            .access
            .method
            .as_deref()
            .is_none_or(|m| ENTRY_BLIND_METHODS.contains(&m)),
        _ => false,
    }
}

/// Whether access `w`, run in context `cw`, and access `l`, run in context `cl`, can
/// happen at the same time as far as the analyses know: one program reaches both (a
/// test module is not concurrent with the package's own entry points, nor with another
/// test), their receivers can be one object (`analysis::identity`, and by where
/// objects are built, `analysis::origins`), and no
/// happens-before orders them (`analysis::ordering`: handoffs, joins, `asyncio` locks,
/// a one-time initialisation before any use of the value).
pub fn may_race(
    analysis: &Analysis,
    w: &StateAccess,
    cw: Context,
    l: &StateAccess,
    cl: Context,
) -> bool {
    if !analysis.programs.together(w.function, cw, l.function, cl) {
        return false;
    }
    if w.cell_local && l.cell_local {
        return false;
    }
    // `if sys.platform == "win32":` on one side and its `else` on the other.
    if analysis
        .platforms
        .exclusive(&analysis.program, w, cw, l, cl)
    {
        return false;
    }
    // Through `self`, the classes it can be in that context (`analysis::receivers`;
    // none when no call there can dispatch to the method); otherwise the receiver's
    // static class.
    let classes = |x: &StateAccess, static_class, context| match x.access.root {
        Some(0) if analysis.program.function(x.function).class.is_some() => {
            analysis.receivers.bounds(context, x.function).to_vec()
        }
        _ => vec![static_class],
    };
    let may_be_one = |ws: Vec<ClassId>, ls: Vec<ClassId>| {
        ws.iter()
            .any(|&a| ls.iter().any(|&b| analysis.identity.may_alias(a, b)))
    };
    if let (Some(a), Some(b)) = (w.receiver, l.receiver) {
        if !may_be_one(classes(w, a, cw), classes(l, b, cl)) {
            return false;
        }
    }
    // A class attribute an instance shadows with its own (`self.features |= X`) and one
    // reached through another object are two attributes.
    if let (Some((a, w_own)), Some((b, l_own))) = (w.own_attribute, l.own_attribute) {
        if (w_own || l_own) && !may_be_one(classes(w, a, cw), classes(l, b, cl)) {
            return false;
        }
    }
    // Objects held by fields that are the only way to them (`analysis::holders`): one
    // field of one holder holds one object.
    if let (Some((wf, a)), Some((lf, b))) = (&w.holder, &l.holder) {
        if wf != lf || !may_be_one(classes(w, *a, cw), classes(l, *b, cl)) {
            return false;
        }
    }
    // Two requests' objects built by one line (`analysis::origins`).
    if analysis
        .origins
        .apart(&analysis.holders, &analysis.identity, w, cw, l, cl)
    {
        return false;
    }
    if initialised_before(w, l) {
        return false;
    }
    // Two operations the container makes atomic (`deque.append` and `popleft`).
    if w.atomic && l.atomic {
        return false;
    }
    // `x is None` reads the reference; a mutation in place leaves the reference alone.
    let contents_apart = |r: &StateAccess, m: &StateAccess| {
        // Through a passed object, every write is a change in place.
        r.reference_only
            && (m.kind == AccessKind::Mutation || (m.passed_object && m.kind.is_write()))
    };
    if contents_apart(w, l) || contents_apart(l, w) {
        return false;
    }
    // `info = d[k]` read the container; `info["lock"]` afterwards touches only the
    // entry fetched then, which `d[k] = v`, `del d[k]` and `d = {}` leave alone.
    let fetched_apart =
        |f: &StateAccess, c: &StateAccess| f.access.fetched && touches_container_only(c);
    if fetched_apart(w, l) || fetched_apart(l, w) {
        return false;
    }
    // A worker keeps the object a handoff gave it when the location is rebound.
    let given = |a: &StateAccess, b: &StateAccess| a.passed_object && b.kind == AccessKind::Rebind;
    if given(w, l) || given(l, w) {
        return false;
    }
    let ordered = |worker: &StateAccess, cw, on_loop: &StateAccess, cl| {
        let one_run = analysis.origins.one_run(
            &analysis.holders,
            &analysis.identity,
            worker,
            cw,
            on_loop,
            cl,
        );
        analysis.ordering.ordered(
            &analysis.program,
            &analysis.catalogue,
            &analysis.contexts,
            worker,
            on_loop,
            one_run,
        )
    };
    match (cw, cl) {
        (Context::WorkerThread, Context::WorkerThread) => {
            !analysis.ordering.exclusive(w.function, l.function)
        }
        (Context::WorkerThread, _) => !ordered(w, cw, l, cl),
        (_, Context::WorkerThread) => !ordered(l, cl, w, cw),
        _ => true,
    }
}

/// Whether two accesses can run at the same time: one on a worker thread and the other
/// on the loop or the main thread, or both on worker threads that are not one thread.
pub fn can_overlap(analysis: &Analysis, a: &StateAccess, b: &StateAccess) -> bool {
    let contexts = &analysis.contexts;
    let on = |x: &StateAccess| {
        Context::ALL
            .into_iter()
            .filter(|c| runs_in(analysis, x, *c))
            .collect::<Vec<_>>()
    };
    let (on_a, on_b) = (on(a), on(b));
    // Two worker-side accesses are on different threads when several threads run one of
    // them, or when they start from different entry points; one `Thread.run` is one thread.
    let entry = |x: &StateAccess| match x.handoff {
        Some(handoff) => Some(contexts.entries[handoff].target),
        None => contexts.reach[x.function][Context::WorkerThread.index()]
            .map(|r| contexts.entries[r.entry].target),
    };
    // What two handoffs passed runs on the threads each starts.
    let two_handoffs = matches!((a.handoff, b.handoff), (Some(x), Some(y)) if x != y);
    let different_workers = || {
        on_several_threads(analysis, a)
            || on_several_threads(analysis, b)
            || two_handoffs
            || entry(a) != entry(b)
    };
    on_a.iter().any(|&ca| {
        on_b.iter().any(|&cb| {
            ca.overlaps(cb)
                && may_race(analysis, a, ca, b, cb)
                && (ca != Context::WorkerThread
                    || cb != Context::WorkerThread
                    || different_workers())
        })
    })
}

/// RL103's pattern: a thread lock held at some accesses of the state and not at others
/// that can overlap them, with a write among them. Returns the lock and the unprotected
/// accesses, in anchor order.
pub fn partially_locked<'a, 'm>(
    analysis: &Analysis,
    accesses: &'a [StateAccess<'m>],
) -> Option<(StateKey, Vec<&'a StateAccess<'m>>)> {
    if !accesses.iter().any(|a| a.kind.is_write()) {
        return None;
    }
    // Reading a reference that is only ever replaced whole is atomic: the unlocked outer
    // check of double-checked locking is fine.
    let rebind_only = accesses
        .iter()
        .filter(|a| a.kind.is_write())
        .all(|a| a.kind == AccessKind::Rebind);
    let locks: BTreeSet<&StateKey> = accesses.iter().flat_map(|a| a.locks.iter()).collect();
    locks.into_iter().find_map(|lock| {
        let (locked, unlocked): (Vec<&StateAccess>, Vec<&StateAccess>) =
            accesses.iter().partition(|a| a.locks.contains(lock));
        if locked.is_empty() {
            return None;
        }
        // RacerD's lock consistency: once the state is guarded somewhere, an unguarded
        // access races with anything that can run beside it without a common lock.
        // Somewhere in a program that runs it: a test's lock says nothing of how the
        // package guards the state.
        let programs = &analysis.programs;
        // Asked once per pair of functions, not per pair of accesses: a widely used
        // state has thousands of each.
        let guarded_in: BTreeSet<FuncId> = locked.iter().map(|g| g.function).collect();
        let mut evidence: BTreeMap<FuncId, bool> = BTreeMap::new();
        let exposed: Vec<&StateAccess> = unlocked
            .into_iter()
            .filter(|u| {
                *evidence.entry(u.function).or_insert_with(|| {
                    guarded_in
                        .iter()
                        .any(|&g| programs.may_run_both(&analysis.program, u.function, g))
                })
            })
            .filter(|u| !rebind_only || u.kind.is_write())
            .filter(|u| {
                accesses.iter().any(|x| {
                    (u.kind.is_write() || x.kind.is_write())
                        && u.locks.is_disjoint(&x.locks)
                        && can_overlap(analysis, u, x)
                })
            })
            .collect();
        (!exposed.is_empty()).then(|| (lock.clone(), by_anchor_order(analysis, exposed)))
    })
}

/// RL104's pattern: check-then-create writes made without a thread lock, in code that
/// two threads can run at once.
pub fn lazy_init_writes<'a, 'm>(
    analysis: &Analysis,
    accesses: &'a [StateAccess<'m>],
) -> Vec<&'a StateAccess<'m>> {
    let writes = accesses.iter().filter(|a| {
        matches!(a.kind, AccessKind::Rebind | AccessKind::Mutation)
            && a.checked_by.is_some()
            // Creating means building a new value; setting a flag to a constant (two
            // threads lose nothing), evicting or re-inserting an existing object is not.
            && a.access.writes_new
            && a.locks.is_empty()
            && !initialised_at_import(analysis, a)
            && (may_race(analysis, a, Context::WorkerThread, a, Context::EventLoop)
                && runs_in(analysis, a, Context::WorkerThread)
                && runs_in(analysis, a, Context::EventLoop)
                || runs_concurrently(analysis, a)
                || a.start_checked_in
                    .is_some_and(|(checker, _)| checks_twice_at_once(analysis, checker)))
    });
    by_anchor_order(analysis, writes)
}

/// Whether two runs of a function that checks, then starts the thread that creates,
/// can overlap on one object: it runs on the loop and on a worker thread of one
/// program, or on several workers at once, no `asyncio` lock keeps its runs apart, and
/// it is no constructor (whose every run checks an object of its own).
fn checks_twice_at_once(analysis: &Analysis, checker: FuncId) -> bool {
    let reach = &analysis.contexts.reach[checker];
    let both = reach[Context::EventLoop.index()].is_some()
        && reach[Context::WorkerThread.index()].is_some()
        && analysis
            .programs
            .together(checker, Context::EventLoop, checker, Context::WorkerThread);
    (both || analysis.contexts.concurrent[checker].is_some())
        && !analysis.ordering.exclusive(checker, checker)
        && !analysis.program.function(checker).is_initializer
}

/// Whether several worker threads run the access at once: its function runs on several
/// (`Contexts::concurrent`); for what a handoff passed, the runs that handoff starts do
/// (`EntryPoint::concurrent_elsewhere`).
fn on_several_threads(analysis: &Analysis, a: &StateAccess) -> bool {
    let contexts = &analysis.contexts;
    match a.handoff {
        Some(handoff) => {
            let entry = &contexts.entries[handoff];
            entry.concurrent && !entry.concurrent_elsewhere
        }
        None => contexts.concurrent[a.function].is_some(),
    }
}

/// Whether several worker threads run the access at once, and no `asyncio` lock held
/// around every run (`analysis::ordering`) keeps them apart.
fn runs_concurrently(analysis: &Analysis, a: &StateAccess) -> bool {
    on_several_threads(analysis, a)
        && !a.cell_local
        && !a.owned_in[Context::WorkerThread.index()]
        && !analysis.ordering.exclusive(a.function, a.function)
}

/// A read-modify-write (or check-then-act write) without a thread lock, in a function
/// that several worker threads run at once.
pub fn concurrent_updates<'a, 'm>(
    analysis: &Analysis,
    accesses: &'a [StateAccess<'m>],
) -> Vec<&'a StateAccess<'m>> {
    let updates = accesses.iter().filter(|a| {
        (a.kind == AccessKind::ReadModifyWrite
            || (a.kind.is_write()
                && a.access.checked_by.is_some()
                && a.access.writes_constant.is_none()))
            && a.locks.is_empty()
            && runs_concurrently(analysis, a)
            && !initialised_at_import(analysis, a)
            && !each_thread_its_own(analysis, a, accesses)
    });
    by_anchor_order(analysis, updates)
}

/// Whether every object `a` touches is built by the worker thread that touches it
/// (`analysis::origins`), so that its runs on several threads touch several objects,
/// and no other worker-side access of the state can touch one of them: a thread that
/// publishes its object (to a monitor, to a thread it starts) shares it.
fn each_thread_its_own(analysis: &Analysis, a: &StateAccess, accesses: &[StateAccess]) -> bool {
    let origins = &analysis.origins;
    let (holders, identity) = (&analysis.holders, &analysis.identity);
    let worker = Context::WorkerThread;
    origins.each_thread_its_own(holders, identity, a, worker)
        && accesses.iter().all(|x| {
            std::ptr::eq(x, a)
                || !runs_in(analysis, x, worker)
                || origins.apart(holders, identity, a, worker, x, worker)
        })
}

/// How a state access is reached in `context`: through the handoff that passed what it
/// touches (`StateAccess::handoff`, only in that handoff's context), or as its function
/// is.
pub fn access_path(analysis: &Analysis, access: &StateAccess, context: Context) -> Option<Flow> {
    match access.handoff {
        Some(handoff) => {
            let entry = &analysis.contexts.entries[handoff];
            (entry.context == context)
                .then(|| describe(analysis, entry, &access.handoff_chain, context.prose()))
        }
        None => call_path(analysis, access.function, context),
    }
}

/// The place a context begins for a state access (`access_path`).
pub fn access_entry_related(
    analysis: &Analysis,
    access: &StateAccess,
    context: Context,
) -> Option<Related> {
    match access.handoff {
        Some(handoff) => {
            let entry = &analysis.contexts.entries[handoff];
            let first = *access.handoff_chain.first()?;
            (entry.context == context).then(|| related_for(analysis, entry, first, context))
        }
        None => entry_related(analysis, access.function, context),
    }
}

/// The place a context begins for `function`: the offload call or decorator, or the
/// `async def` itself.
pub fn entry_related(analysis: &Analysis, function: FuncId, context: Context) -> Option<Related> {
    let (entry, chain) = analysis.contexts.path_to(function, context)?;
    Some(related_for(
        analysis,
        &analysis.contexts.entries[entry],
        chain[0],
        context,
    ))
}

pub fn related_for(
    analysis: &Analysis,
    entry: &EntryPoint,
    first: FuncId,
    context: Context,
) -> Related {
    match &entry.site {
        Some(site) => Related {
            file: site.file,
            span: site.span,
            message: match context {
                Context::WorkerThread if entry.concurrent => {
                    format!("runs on several worker threads at once: {}", site.shown())
                }
                Context::WorkerThread => {
                    format!("worker thread starts here: {}", site.shown())
                }
                Context::EventLoop => format!("runs on the event loop: {}", site.shown()),
                Context::MainThread => format!("runs on the main thread: {}", site.shown()),
            },
        },
        None => {
            let function = analysis.program.function(first);
            Related {
                file: analysis.program.file_of(first),
                span: function.span,
                message: format!("runs on the event loop: {}", coroutine(analysis, first)),
            }
        }
    }
}

/// How `function` is reached in `context`, step by step (the text reads "reached from
/// a worker thread: `periodic_flush` → `asyncio.to_thread(flush)` (metrics.py:26) →
/// `flush`").
pub fn call_path(analysis: &Analysis, function: FuncId, context: Context) -> Option<Flow> {
    let (entry, chain) = analysis.contexts.path_to(function, context)?;
    Some(describe(
        analysis,
        &analysis.contexts.entries[entry],
        &chain,
        context.prose(),
    ))
}

/// The same, along any recorded reach (concurrent workers, concurrently launched tasks).
pub fn call_path_in(
    analysis: &Analysis,
    function: FuncId,
    entries: &[EntryPoint],
    reach: &[Option<Reach>],
    whence: &str,
) -> Option<Flow> {
    let (entry, chain) = chain_to(function, |f| reach[f])?;
    Some(describe(analysis, &entries[entry], &chain, whence))
}

fn describe(analysis: &Analysis, entry: &EntryPoint, chain: &[FuncId], whence: &str) -> Flow {
    let program = &analysis.program;
    let step = |f: FuncId, label: String| FlowStep {
        file: program.file_of(f),
        span: program.function(f).span,
        label,
    };
    let mut steps = Vec::new();
    match &entry.site {
        Some(site) => {
            if let Some(caller) = site
                .caller
                .filter(|c| !program.function(*c).path.ends_with(".<module>"))
            {
                steps.push(step(
                    caller,
                    format!("`{}`", program.function(caller).display),
                ));
            }
            steps.push(FlowStep {
                file: site.file,
                span: site.span,
                label: format!(
                    "{} ({}:{})",
                    site.shown(),
                    display_path(analysis, site.file),
                    site.span.start.line
                ),
            });
            steps.extend(
                chain
                    .iter()
                    .map(|f| step(*f, format!("`{}`", program.function(*f).display))),
            );
        }
        None => {
            for (index, f) in chain.iter().enumerate() {
                let label = if index == 0 {
                    coroutine(analysis, *f)
                } else {
                    format!("`{}`", program.function(*f).display)
                };
                steps.push(step(*f, label));
            }
        }
    }
    Flow {
        whence: whence.to_string(),
        steps,
        end: None,
    }
}

/// An event-loop entry as its language writes it: `` `async def f` ``, `` `async fn f` ``,
/// or an `async` block by where it is.
fn coroutine(analysis: &Analysis, function: FuncId) -> String {
    let model = analysis.program.function(function);
    match analysis.program.files[analysis.program.file_of(function)].language {
        Language::Python => format!("`async def {}`", model.display),
        Language::Rust if model.parent.is_some() => model.display.clone(),
        Language::Rust => format!("`async fn {}`", model.display),
    }
}

/// Where a state is defined: the module variable's binding, or the attribute's first
/// assignment. A framework object's attribute is defined in no file of the project.
pub fn definition(analysis: &Analysis, state: &StateKey) -> Option<(usize, crate::model::Span)> {
    let program = &analysis.program;
    Some(match state {
        StateKey::Global { file, name } => {
            let span = program.files[*file]
                .symbols
                .iter()
                .find(|s| s.name == declared_name(name))
                .map(|s| s.span)
                .unwrap_or_default();
            (*file, span)
        }
        StateKey::Attribute { class, name } => {
            let model = program.class(*class);
            let span = model
                .attributes
                .iter()
                .find(|a| a.name == declared_name(name))
                .map_or(model.span, |a| a.span);
            (program.class_file(*class), span)
        }
        StateKey::Framework { .. } => return None,
    })
}

/// The fix that declares an invariant on the state's definition (`# racelint:
/// loop-only` above `self._jobs = {}`): a comment, so it is safe. Only where the
/// definition is known exactly, since a comment elsewhere declares nothing.
pub fn declaration_fix(analysis: &Analysis, state: &StateKey, directive: &str) -> Option<Autofix> {
    let program = &analysis.program;
    let (file, span) = match state {
        StateKey::Global { file, name } => {
            let symbol = program.files[*file]
                .symbols
                .iter()
                .find(|s| s.name == declared_name(name))?;
            (*file, symbol.span)
        }
        StateKey::Attribute { class, name } => {
            let name = declared_name(name);
            let attribute = program
                .class(*class)
                .attributes
                .iter()
                .find(|a| a.name == name)?;
            // Defined first in a base class: the comment belongs there, where it would
            // speak for other subclasses too; left to the author.
            let mut bases = program.base_classes(*class);
            let mut seen = BTreeSet::new();
            while let Some(base) = bases.pop() {
                if !seen.insert(base) {
                    continue;
                }
                if program
                    .class(base)
                    .attributes
                    .iter()
                    .any(|a| a.name == name)
                {
                    return None;
                }
                bases.extend(program.base_classes(base));
            }
            (program.class_file(*class), attribute.span)
        }
        StateKey::Framework { .. } => return None,
    };
    let edit = comment_above(file, &program.files[file].source, span, directive)?;
    Some(Autofix::safe(vec![edit]))
}

/// Every call made in a function that runs on a worker thread, with how the API
/// catalogues see it.
pub fn worker_calls<'a>(
    analysis: &'a Analysis,
) -> impl Iterator<Item = (FuncId, usize, &'a crate::model::CallSite, ApiCall)> + 'a {
    let program = &analysis.program;
    (0..program.functions.len())
        .filter(|&f| analysis.contexts.reach[f][Context::WorkerThread.index()].is_some())
        .flat_map(move |function| {
            let file = program.file_of(function);
            // A property read is no API call; a call in a branch only the loop's thread
            // takes is not made on a worker.
            let calls = program.function(function).calls.iter();
            calls
                .filter(|call| call.property.is_none() && !call.on_loop_thread)
                .map(move |call| {
                    let target = resolve_call(program, file, &call.callee);
                    (function, file, call, api_call(program, call, &target))
                })
        })
}
