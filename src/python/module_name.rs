//! Python module names from file locations.

use std::path::{Path, PathBuf};

/// The import root of `file` (its first ancestor folder that is not a package, i.e. has
/// no `__init__.py`) and its dotted module name relative to that root.
///
/// `pkg/sub/mod.py` with `pkg/__init__.py` and `pkg/sub/__init__.py` gives
/// (`<parent of pkg>`, `pkg.sub.mod`); `pkg/__init__.py` itself is `pkg`.
pub fn module_name(file: &Path) -> (PathBuf, String) {
    // Discovery gives paths relative to the current folder, which may be inside the
    // package: `app.py` run from `pkg/` is still `pkg.app`.
    let absolute = normalised(&std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf()));
    let file = absolute.as_path();
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut parts = Vec::new();
    if stem != "__init__" {
        parts.push(stem);
    }
    let mut dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    while dir.join("__init__.py").is_file() || dir.join("__init__.pyi").is_file() {
        match dir.file_name() {
            Some(name) => parts.push(name.to_string_lossy().into_owned()),
            None => break,
        }
        match dir.parent() {
            Some(parent) => dir = parent.to_path_buf(),
            None => break,
        }
    }
    parts.reverse();
    (dir, parts.join("."))
}

/// `a/b/../c` as `a/c`: `racelint check ..` names its files through `..`, which is no
/// package's name.
fn normalised(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
