//! Which files a run looks at.

use std::path::{Component, Path, PathBuf};

use globset::GlobSet;
use ignore::WalkBuilder;

use crate::config;

use crate::{python, rust};

/// Folders no user wants linted: environments, build output, caches, VCS metadata.
pub const SKIPPED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".venv",
    "venv",
    "node_modules",
    "target",
    "__pycache__",
    "build",
    "dist",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
];

/// A file that could not be read or decoded.
#[derive(Debug, Clone)]
pub struct FileError {
    pub path: PathBuf,
    pub message: String,
}

pub struct Discovered {
    /// Sorted and without duplicates, so every run sees the files in the same order.
    pub files: Vec<PathBuf>,
    pub errors: Vec<FileError>,
}

/// Expands `paths` into source files. Named files are taken as they are; folders are
/// walked, honouring `.gitignore`, skipping hidden and well-known generated folders, and
/// never following symbolic links (so no walk leaves the tree or loops).
/// Files and folders matching `excludes` are left out of walks; named files too when
/// `force_exclude` is set (pre-commit passes every staged file by name).
/// A path that does not exist is a usage error.
pub fn discover(
    paths: &[PathBuf],
    excludes: &GlobSet,
    force_exclude: bool,
) -> Result<Discovered, String> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|e| format!("{}: {}", path.display(), io_reason(&e)))?;
        if metadata.is_file() {
            if is_source(path) && !(force_exclude && config::matches(excludes, &clean(path))) {
                files.push(clean(path));
            }
            continue;
        }
        let walker = WalkBuilder::new(path)
            .hidden(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(false)
            .parents(true)
            .follow_links(false)
            .filter_entry({
                // The walker wants an owned filter.
                let excludes = excludes.clone();
                move |entry| !config::matches(&excludes, &clean(entry.path()))
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    if entry.file_type().is_some_and(|t| t.is_file()) && is_source(entry.path()) {
                        files.push(clean(entry.path()));
                    }
                }
                Err(err) => errors.push(FileError {
                    path: err_path(&err).unwrap_or_else(|| path.clone()),
                    message: err.to_string(),
                }),
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(Discovered { files, errors })
}

/// A file one of the front-ends reads.
fn is_source(path: &Path) -> bool {
    python::is_python(path) || rust::is_rust(path)
}

fn err_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(clean(path)),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        _ => None,
    }
}

pub fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}

/// The path relative to the current directory when it lies below it, without `./`.
pub fn clean(path: &Path) -> PathBuf {
    let relative = std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf());
    relative
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}
