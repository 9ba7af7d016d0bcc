//! Which classes' instances the program may copy or pickle: a lock in an instance makes
//! `copy.deepcopy`, `copy.copy` and `pickle` refuse it (`cannot pickle '_thread.RLock'
//! object`), so a fix must not add one there.
//!
//! The copied value's type is rarely known, so this is by mention: a class counts as
//! copied when a file that calls one of those functions names the class, or the class
//! takes over its own copying or pickling (`__deepcopy__`, `__getstate__`, `__reduce__`).

use std::sync::OnceLock;

use super::resolve::{ClassId, Program};
use crate::model::{Callee, FileId};

/// Calls that copy or pickle whatever they are given.
const COPYING: &[&str] = &[
    "copy.deepcopy",
    "copy.copy",
    "pickle.dumps",
    "pickle.dump",
    "cloudpickle.dumps",
    "cloudpickle.dump",
    "dataclasses.asdict",
    "dataclasses.astuple",
    "dataclasses.replace",
];

/// Methods by which a class manages its own copies or pickles.
pub const COPY_METHODS: &[&str] = &[
    "__copy__",
    "__deepcopy__",
    "__getstate__",
    "__setstate__",
    "__reduce__",
    "__reduce_ex__",
];

/// Files that copy or pickle objects, found once per analysis when first asked.
#[derive(Default)]
pub struct Copying {
    files: OnceLock<Vec<FileId>>,
}

impl Copying {
    /// Whether instances of `class` may be copied or pickled.
    pub fn may_copy(&self, program: &Program, class: ClassId) -> bool {
        let model = program.class(class);
        if model
            .methods
            .iter()
            .any(|(name, _)| COPY_METHODS.contains(&name.as_str()))
        {
            return true;
        }
        let files = self.files.get_or_init(|| copying_files(program));
        files
            .iter()
            .any(|&file| mentions(&program.files[file].source, &model.name))
    }
}

fn copying_files(program: &Program) -> Vec<FileId> {
    (0..program.files.len())
        .filter(|&file| {
            program.files[file].functions.iter().any(|function| {
                function.calls.iter().any(|call| {
                    matches!(&call.callee, Callee::Path(path) if COPYING.contains(&path.as_str()))
                })
            })
        })
        .collect()
}

/// `name` as a whole word in `source`.
fn mentions(source: &str, name: &str) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    source.match_indices(name).any(|(at, _)| {
        !source[..at].ends_with(word) && !source[at + name.len()..].starts_with(word)
    })
}
