//! Thread locks: which `with x:` / `x.acquire()` expressions are thread locks, and which
//! locks a function inherits from every one of its callers.

use std::collections::BTreeSet;

use super::catalogue::Catalogue;
use super::contexts::{constructs_self, Contexts};
use super::resolve::{Program, Target};
use super::state::{resolve_state, state_type, StateKey};
use crate::model::{FileId, Language, LOCAL_LOCK, RETURNED};

pub struct Locksets {
    /// Per function: locks held at *every* call of it (for functions only their calls
    /// run: see `inherits`).
    pub inherited: Vec<BTreeSet<StateKey>>,
}

impl Locksets {
    pub fn compute(program: &Program, catalogue: &Catalogue, contexts: &Contexts) -> Locksets {
        let count = program.functions.len();
        // `None` is "every lock" (not yet constrained): the greatest fixpoint starts there.
        let mut inherited: Vec<Option<BTreeSet<StateKey>>> = (0..count)
            .map(|f| {
                if inherits(program, contexts, f) {
                    None
                } else {
                    Some(BTreeSet::new())
                }
            })
            .collect();
        let site_locks: Vec<Vec<BTreeSet<StateKey>>> = (0..count)
            .map(|f| {
                let file = program.file_of(f);
                program
                    .function(f)
                    .calls
                    .iter()
                    .map(|call| held_thread_locks(program, catalogue, file, &call.locks))
                    .collect()
            })
            .collect();
        loop {
            let mut changed = false;
            for f in 0..count {
                if !inherits(program, contexts, f) {
                    continue;
                }
                let mut meet: Option<BTreeSet<StateKey>> = None;
                for &(caller, call) in &contexts.callers[f] {
                    // A constructor's call on its own class's method runs on the
                    // object it builds, which no context reaches through that call
                    // (`contexts::constructs_self`): it holds nothing back.
                    if constructs_self(program, caller, f) {
                        continue;
                    }
                    let Some(caller_locks) = &inherited[caller] else {
                        continue;
                    };
                    let held: BTreeSet<StateKey> = site_locks[caller][call]
                        .union(caller_locks)
                        .cloned()
                        .collect();
                    meet = Some(match meet {
                        None => held,
                        Some(acc) => acc.intersection(&held).cloned().collect(),
                    });
                }
                if meet.is_some() && meet != inherited[f] {
                    inherited[f] = meet;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Locksets {
            inherited: inherited
                .into_iter()
                .map(Option::unwrap_or_default)
                .collect(),
        }
    }
}

/// The thread locks among the lock expressions held at some point of `file`.
pub fn held_thread_locks(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    held: &[String],
) -> BTreeSet<StateKey> {
    held.iter()
        .filter_map(|path| thread_lock(program, catalogue, file, path))
        .collect()
}

/// The coroutine locks among expressions held with `async with` in `file`: typed as an
/// asyncio lock, or of a type we cannot name and named like a lock (an `async with`
/// target is never a thread lock, but it may be a session or a transaction).
pub fn held_asyncio_locks(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    held: &[String],
) -> BTreeSet<StateKey> {
    held.iter()
        .filter_map(|path| {
            resolve_state(program, catalogue, file, path).filter(|s| s.residual == 0)
        })
        .filter(|state| match state_type(program, &state.ty) {
            Some(ty) => catalogue.is_asyncio_lock(&ty),
            None => named_like_a_lock(&state.key),
        })
        .map(|state| state.key)
        .collect()
}

/// Private helpers (`_name`, not dunder, or a `def` nested in a function) that are
/// called in the project and are not entry points run under the locks their callers
/// hold. Public functions may be called from anywhere, so they inherit nothing.
fn inherits(program: &Program, contexts: &Contexts, function: usize) -> bool {
    let model = program.function(function);
    let name = &model.name;
    // A Python function nothing calls in a way the call graph does not show (no
    // decorator, never passed as a value, no protocol method) runs only where its
    // calls run, public or not: the contexts it runs in come from those calls too.
    let only_called = program.files[program.file_of(function)].language == Language::Python
        && (model.decorators.is_empty() || model.is_property() || model.is_property_setter())
        && contexts.callable_passes[function] == 0;
    (name.starts_with('_') || model.nested || only_called)
        && !name.starts_with("__")
        && !contexts.callers[function].is_empty()
        && !contexts.is_entry[function]
}

/// A lock expression that is a thread lock: typed as one in the catalogue, or of a type
/// we cannot resolve to a class and named like one (`self._lock = make_lock()`).
fn thread_lock(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    path: &str,
) -> Option<StateKey> {
    if let Some(helper) = path.strip_suffix(RETURNED) {
        return returned_lock(program, catalogue, file, helper);
    }
    if let Some(local) = path.strip_suffix(LOCAL_LOCK) {
        // One function's own name: no other function holds the same lock by it.
        return Some(StateKey::Global {
            file,
            name: local.to_string(),
        });
    }
    let state = resolve_state(program, catalogue, file, path).filter(|s| s.residual == 0)?;
    let is_lock = match state_type(program, &state.ty) {
        Some(ty) => catalogue.is_thread_lock(&ty),
        // Untyped, or built by something we cannot name as a class
        // (`_once_lock = _allocate_lock()` through a module alias): trust the name.
        None => named_like_a_lock(&state.key),
    };
    is_lock.then_some(state.key)
}

/// `with self._lock_for(key):` holds the thread lock the helper returns: the one its
/// `return` statements hand back (`return self._lock`), or the container named like
/// locks they take it from (`return self._locks.setdefault(key, Lock())`: one lock per
/// key, which guards what that key guards). Helpers of helpers are not followed.
fn returned_lock(
    program: &Program,
    catalogue: &Catalogue,
    file: FileId,
    helper: &str,
) -> Option<StateKey> {
    let Target::Function(function) = program.resolve(file, helper).target else {
        return None;
    };
    let home = program.file_of(function);
    program
        .function(function)
        .returns
        .iter()
        .filter(|returned| !returned.ends_with(RETURNED))
        .find_map(|returned| {
            thread_lock(program, catalogue, home, returned).or_else(|| {
                // A container of locks (`self._locks: dict[str, Lock]`): its type is
                // the container's, so trust the name.
                resolve_state(program, catalogue, home, returned)
                    .filter(|s| s.residual == 0 && named_like_a_lock(&s.key))
                    .map(|s| s.key)
            })
        })
}

fn named_like_a_lock(key: &StateKey) -> bool {
    let name = key.name().to_lowercase();
    name.contains("lock") || name.contains("mutex")
}
