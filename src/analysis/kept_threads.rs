//! Threads kept in a location and started elsewhere.
//!
//! `self._thread = threading.Thread(target=self._run)` in `__init__` builds a thread
//! that runs nothing until some method calls `self._thread.start()`. The handoff's
//! site is the construction, but the start is what a check guards
//! (`if self._loop is None: self.start()`): two callers that both pass the check both
//! reach the start. For each worker entry whose site builds such an object
//! (`Handoff::started_by`) and keeps it in a location (`CallSite::kept_in`), this finds
//! the calls of that start method on the same location, in any function of the program
//! (`EntryPoint::started_at`).

use rustc_hash::FxHashMap as HashMap;

use super::catalogue::Catalogue;
use super::contexts::EntryPoint;
use super::resolve::Program;
use super::state::{resolve_state, StateKey};
use crate::model::Callee;

/// Fills `EntryPoint::started_at` for the entries whose object is kept and started
/// later. A location is matched by the state it resolves to, so a subclass's
/// `self._thread.start()` starts what its base's constructor kept.
pub fn find_starts(program: &Program, catalogue: &Catalogue, entries: &mut [EntryPoint]) {
    let mut wanted: HashMap<(StateKey, &str), Vec<usize>> = HashMap::default();
    let mut kept = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        let (Some(method), Some(site)) = (entry.started_by.as_deref(), &entry.site) else {
            continue;
        };
        let Some(path) = site
            .call(program)
            .and_then(|(_, call)| call.kept_in.as_deref())
        else {
            continue;
        };
        let Some(state) = resolve_state(program, catalogue, site.file, path) else {
            continue;
        };
        if state.residual == 0 {
            kept.push((index, state.key.clone(), method.to_string()));
        }
    }
    for (index, key, method) in &kept {
        wanted
            .entry((key.clone(), method.as_str()))
            .or_default()
            .push(*index);
    }
    if wanted.is_empty() {
        return;
    }
    let mut starts: Vec<Vec<(usize, usize)>> = vec![Vec::new(); entries.len()];
    for function in 0..program.functions.len() {
        let file = program.file_of(function);
        for (call_index, call) in program.function(function).calls.iter().enumerate() {
            let Callee::Path(path) = &call.callee else {
                continue;
            };
            let Some((receiver, method)) = path.rsplit_once('.') else {
                continue;
            };
            if !kept.iter().any(|(_, _, m)| m == method) {
                continue;
            }
            let Some(state) = resolve_state(program, catalogue, file, receiver) else {
                continue;
            };
            if state.residual != 0 {
                continue;
            }
            for &entry in wanted.get(&(state.key, method)).into_iter().flatten() {
                starts[entry].push((function, call_index));
            }
        }
    }
    for (entry, found) in entries.iter_mut().zip(starts) {
        entry.started_at = found;
    }
}
