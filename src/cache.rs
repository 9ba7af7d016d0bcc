//! The cache of lowered files (`.racelint_cache/`): parsing and lowering are most of a
//! run, and between two runs most files have not changed.
//!
//! One entry per source file, named by a hash of its path, so the cache never holds more
//! entries than the project has files. An entry records the key it was written for: a
//! hash of the file's text, its path, the module name and root the front-end derived
//! from the folders around it, the configuration that lowering reads (the Rust
//! catalogue), and the racelint build that wrote it. An entry whose key, header or body
//! or checksum does not match, or whose body does not decode, is ignored and rewritten,
//! never trusted. Entries are written to a
//! temporary file and renamed into place, so concurrent runs never see half an entry.
//!
//! Only the model is cached, never findings: the whole-program analysis always runs, so
//! an edit to one file is seen by every finding it touches.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Once;

use twox_hash::XxHash3_128;

use crate::model::FileModel;

/// The folder name at a project's root, as Ruff's `.ruff_cache`.
pub const DEFAULT_DIR: &str = ".racelint_cache";

/// The line of `CACHEDIR.TAG` that says racelint made the folder (`remove` checks it).
const TAG_CREATOR: &str = "This file is a cache directory tag created by racelint.";

/// First bytes of every entry; a file without them is not ours. Then the key (16 bytes),
/// a checksum of the body (16 bytes), and the body: the model, as postcard writes it.
const MAGIC: &[u8; 8] = b"rlcache1";

pub struct Cache {
    dir: PathBuf,
    /// What every key mixes in besides the file: the build and the lowering settings.
    salt: u128,
    marked: Once,
}

impl Cache {
    /// A cache in `dir` (created when the first entry is written) for this build of
    /// racelint and these lowering settings (`settings`: any text that changes when
    /// they do). None when the running build cannot be identified, or when `dir` is a
    /// folder racelint did not make (`is_foreign`).
    pub fn new(dir: PathBuf, settings: &str) -> Option<Cache> {
        if is_foreign(&dir) {
            return None;
        }
        let salt = format!(
            "{}\0{}\0{}",
            env!("CARGO_PKG_VERSION"),
            build_identity()?,
            settings
        );
        Some(Cache {
            dir,
            salt: XxHash3_128::oneshot(salt.as_bytes()),
            marked: Once::new(),
        })
    }

    /// The key of one file's lowering: everything the front-end reads to produce it.
    pub fn key(&self, path: &Path, root: &Path, module: &str, source: &str) -> u128 {
        let mut hasher = XxHash3_128::new();
        hasher.write(&self.salt.to_le_bytes());
        for part in [path.as_os_str(), root.as_os_str()] {
            hasher.write(part.as_encoded_bytes());
            hasher.write(&[0]);
        }
        hasher.write(module.as_bytes());
        hasher.write(&[0]);
        hasher.write(source.as_bytes());
        hasher.finish_128()
    }

    /// The model cached for `path` under `key`, if an intact entry holds it; its source
    /// text is `source`, which the caller has read (the entry does not repeat it).
    pub fn get(&self, path: &Path, key: u128, source: &str) -> Option<FileModel> {
        let bytes = fs::read(self.entry(path)).ok()?;
        let rest = bytes
            .strip_prefix(MAGIC.as_slice())?
            .strip_prefix(key.to_le_bytes().as_slice())?;
        let (checksum, body) = rest.split_at_checked(16)?;
        if checksum != XxHash3_128::oneshot(body).to_le_bytes() {
            return None;
        }
        let mut model: FileModel = postcard::from_bytes(body).ok()?;
        model.source = source.to_string();
        Some(model)
    }

    /// Records `model` as the lowering of `path` under `key`. A cache that cannot be
    /// written (a read-only checkout, a full disk) costs only the time it would save.
    pub fn put(&self, path: &Path, key: u128, model: &FileModel) {
        let Ok(body) = postcard::to_stdvec(model) else {
            return;
        };
        let entry = self.entry(path);
        let Some(folder) = entry.parent() else {
            return;
        };
        if fs::create_dir_all(folder).is_err() {
            return;
        }
        self.mark_folder();
        let Ok(mut temporary) = tempfile_in(folder) else {
            return;
        };
        let written = temporary
            .1
            .write_all(MAGIC)
            .and_then(|()| temporary.1.write_all(&key.to_le_bytes()))
            .and_then(|()| {
                temporary
                    .1
                    .write_all(&XxHash3_128::oneshot(&body).to_le_bytes())
            })
            .and_then(|()| temporary.1.write_all(&body));
        if written.is_err() || fs::rename(&temporary.0, &entry).is_err() {
            let _ = fs::remove_file(&temporary.0);
        }
    }

    fn entry(&self, path: &Path) -> PathBuf {
        let name = format!(
            "{:032x}",
            XxHash3_128::oneshot(path.as_os_str().as_encoded_bytes())
        );
        self.dir.join(&name[..2]).join(&name[2..])
    }

    /// Keeps the cache out of version control and backups, as Ruff's and Cargo's are.
    fn mark_folder(&self) {
        self.marked.call_once(|| {
            let ignore = self.dir.join(".gitignore");
            if !ignore.exists() {
                let _ = fs::write(ignore, "# Automatically created by racelint.\n*\n");
                let _ = fs::write(
                    self.dir.join("CACHEDIR.TAG"),
                    format!("Signature: 8a477f597d28d172789f06886806bc55\n# {TAG_CREATOR}\n"),
                );
            }
        });
    }
}

/// Whether `dir` is a folder with contents that racelint did not make (no
/// `CACHEDIR.TAG` of its own): a `cache-dir` set by mistake to a source folder. Such
/// a folder is never written to (its `.gitignore` would hide the sources from git) nor
/// removed.
pub fn is_foreign(dir: &Path) -> bool {
    let Ok(mut contents) = fs::read_dir(dir) else {
        return false;
    };
    contents.next().is_some()
        && !fs::read_to_string(dir.join("CACHEDIR.TAG")).is_ok_and(|tag| tag.contains(TAG_CREATOR))
}

/// Removes the cache folder `dir`; false when there is none. A foreign folder
/// (`is_foreign`) is refused, never emptied.
pub fn remove(dir: &Path) -> Result<bool, String> {
    if !dir.exists() {
        return Ok(false);
    }
    if is_foreign(dir) {
        return Err(format!(
            "{} is not a racelint cache (it has no CACHEDIR.TAG of racelint's); not removed",
            dir.display()
        ));
    }
    fs::remove_dir_all(dir)
        .map(|()| true)
        .map_err(|e| format!("{}: {}", dir.display(), crate::discover::io_reason(&e)))
}

/// A new file in `folder` no other process writes: the process id and a counter name it.
fn tempfile_in(folder: &Path) -> std::io::Result<(PathBuf, fs::File)> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = format!(
        ".tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let path = folder.join(name);
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)?;
    Ok((path, file))
}

/// Which build of racelint is running: a rebuild changes the model's layout without
/// changing the version, so the executable's size and modification time are part of
/// every key (a development build never reads a previous build's entries).
fn build_identity() -> Option<String> {
    let metadata = std::env::current_exe().and_then(fs::metadata).ok()?;
    let modified = metadata
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    Some(format!("{}:{}", metadata.len(), modified.as_nanos()))
}
