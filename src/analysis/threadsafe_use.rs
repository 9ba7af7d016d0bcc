//! Evidence that a class is called from threads other than its loop's: one of its sync
//! methods hands work to a loop, or to an asyncio object, that the class keeps, through
//! a thread-safe API (`self._loop.call_soon_threadsafe(cb)`,
//! `self._loop.call_soon_threadsafe(self._queue.put_nowait, key)`,
//! `run_coroutine_threadsafe(coro, self._loop)`). A loop-unsafe call on the same
//! location in another sync method of the class (`self._loop.call_later(…)`) is then
//! inconsistent with the class's own design, whoever calls it: RL201 reports it, as
//! RacerD takes a class's use of locks as evidence that it is used concurrently. Only a
//! location of the class itself counts (declared by it or a base, not `self.hass.loop`,
//! another object's loop that many classes use), and only outside tests and examples,
//! whose methods drive a loop from the test's own thread on purpose.

use rustc_hash::FxHashMap as HashMap;

use super::catalogue::Catalogue;
use super::contexts::{api_call, resolve_call};
use super::programs::is_auxiliary;
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use crate::model::{Arg, Callee, FileId, Language};

/// A thread-safe handoff: the method that makes it and the call's index there.
pub type Handoff = (FuncId, usize);

#[derive(Default)]
pub struct ThreadsafeUse {
    /// Per location a class keeps (the declaring class and the attribute's name), the
    /// first thread-safe handoff to it.
    by_location: HashMap<(ClassId, String), Handoff>,
}

impl ThreadsafeUse {
    pub fn compute(program: &Program, catalogue: &Catalogue) -> ThreadsafeUse {
        let mut found = ThreadsafeUse::default();
        let names: Vec<&str> = catalogue
            .loop_threadsafe
            .calls
            .iter()
            .chain(&catalogue.loop_threadsafe.methods)
            .map(|c| c.rsplit('.').next().unwrap_or(c))
            .collect();
        for function in 0..program.functions.len() {
            let model = program.function(function);
            let file = program.file_of(function);
            let Some(class) = program.class_of_method(function) else {
                continue;
            };
            if model.is_async || !is_project_code(program, file) {
                continue;
            }
            for (index, call) in model.calls.iter().enumerate() {
                let name = match &call.callee {
                    Callee::Path(path) => path.rsplit('.').next().unwrap_or(path),
                    Callee::Method(method) => method,
                };
                if !names.contains(&name) {
                    continue;
                }
                let target = resolve_call(program, file, &call.callee);
                if !catalogue
                    .loop_threadsafe
                    .matches(&api_call(program, call, &target))
                {
                    continue;
                }
                let receiver = match &call.callee {
                    Callee::Path(path) => path.rsplit_once('.').map(|(r, _)| r),
                    Callee::Method(_) => None,
                };
                // The loop called through, the loop passed (`run_coroutine_threadsafe(c,
                // self._loop)`), and the objects whose bound methods are handed over.
                let passed = call
                    .args
                    .iter()
                    .chain(call.keywords.iter().map(|(_, a)| a))
                    .filter_map(|arg| match arg {
                        Arg::Callable(Callee::Path(path)) => Some(path.as_str()),
                        _ => None,
                    })
                    .flat_map(|path| [Some(path), path.rsplit_once('.').map(|(r, _)| r)]);
                for path in receiver.into_iter().chain(passed.flatten()) {
                    if let Some(location) = own_location(program, file, path, class) {
                        found
                            .by_location
                            .entry(location)
                            .or_insert((function, index));
                    }
                }
            }
        }
        found
    }

    /// Whether no class hands work to a loop of its own thread-safely.
    pub fn is_empty(&self) -> bool {
        self.by_location.is_empty()
    }

    /// The thread-safe handoff to the location a call's receiver in `method` names
    /// (`mod.Scheduler._loop` for `self._loop.call_later(…)`), when the location is the
    /// method's class's own and the class makes one.
    pub fn handoff_to(&self, program: &Program, method: FuncId, receiver: &str) -> Option<Handoff> {
        if self.by_location.is_empty() {
            return None;
        }
        let file = program.file_of(method);
        if !is_project_code(program, file) {
            return None;
        }
        let class = program.class_of_method(method)?;
        let location = own_location(program, file, receiver, class)?;
        // A sibling subclass's handoff says nothing of this class's own use.
        self.by_location
            .get(&location)
            .copied()
            .filter(|&(other, _)| {
                program.class_of_method(other).is_some_and(|o| {
                    program.derives_from(class, o) || program.derives_from(o, class)
                })
            })
    }
}

/// Python code outside tests and examples.
fn is_project_code(program: &Program, file: FileId) -> bool {
    let model = &program.files[file];
    model.language == Language::Python && !is_auxiliary(model)
}

/// The attribute a path names, as its declaring class and name, when that class is
/// `class` or one of its bases.
fn own_location(
    program: &Program,
    file: FileId,
    path: &str,
    class: ClassId,
) -> Option<(ClassId, String)> {
    match program.resolve(file, path) {
        Resolved {
            target: Target::Attribute {
                class: owner, name, ..
            },
            residual: 0,
        } if program.derives_from(class, owner) => Some((owner, name)),
        _ => None,
    }
}
