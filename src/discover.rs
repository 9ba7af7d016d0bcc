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
    ".racelint_cache",
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
/// never following symbolic links (so no walk leaves the tree or loops, and a dangling
/// link in a tree is not a file of it).
/// Files and folders matching `excludes` are left out of walks; named files too when
/// `force_exclude` is set (pre-commit passes every staged file by name).
///
/// A path that does not exist is a usage error: most likely a typo. A named path that
/// exists but cannot be analysed (a dangling or looping symbolic link, a FIFO, a device)
/// is an error for that path alone, and the run goes on. A FIFO is never opened: that
/// would block until something writes to it.
pub fn discover(
    paths: &[PathBuf],
    excludes: &GlobSet,
    force_exclude: bool,
) -> Result<Discovered, String> {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let skipped = |what: String| FileError {
            path: clean(path),
            message: format!("{what}; it was skipped"),
        };
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(e) => match std::fs::symlink_metadata(path) {
                Ok(link) if link.file_type().is_symlink() => {
                    let target = std::fs::read_link(path)
                        .map(|t| format!(" to `{}`", t.display()))
                        .unwrap_or_default();
                    let why = match e.kind() {
                        std::io::ErrorKind::NotFound => "which does not exist".to_string(),
                        _ => format!("which cannot be followed ({})", io_reason(&e)),
                    };
                    errors.push(skipped(format!("is a symbolic link{target}, {why}")));
                    continue;
                }
                _ => return Err(format!("{}: {}", path.display(), io_reason(&e))),
            },
        };
        if metadata.is_file() {
            if is_source(path) && !(force_exclude && config::matches(excludes, &clean(path))) {
                files.push(clean(path));
            }
            continue;
        }
        if !metadata.is_dir() {
            errors.push(skipped(format!(
                "is not a regular file or a folder (it is {})",
                kind_of(&metadata.file_type())
            )));
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
                    path: err_path(&err).unwrap_or_else(|| clean(path)),
                    message: walk_error(&err),
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

/// What a walk could not do, without the path (the error is reported under it).
fn walk_error(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. } | ignore::Error::WithDepth { err, .. } => {
            walk_error(err)
        }
        // A line of an ignore file: that pattern is not applied, the walk goes on.
        ignore::Error::WithLineNumber { line, err } => format!("line {line}: {}", walk_error(err)),
        ignore::Error::Io(io) => format!("cannot be read: {}; it was skipped", io_reason(io)),
        ignore::Error::Loop { .. } => {
            "is a symbolic link back into a folder above it; it was skipped".to_string()
        }
        other => other.to_string(),
    }
}

/// What kind of file system entry this is, for messages.
pub fn kind_of(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "neither a file nor a folder"
    }
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
