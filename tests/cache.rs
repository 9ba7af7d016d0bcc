//! The cache of lowered files (`.racelint_cache/`): a run that reads it finds exactly
//! what a run without it finds, after edits, deletions and configuration changes, and
//! whatever is wrong with an entry, it is rewritten rather than trusted.

mod common;
use common::racelint_in;

use std::fs;
use std::path::{Path, PathBuf};

/// A loop and a worker sharing `jobs` across two modules, and a clean third module.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let package = dir.path().join("service");
    fs::create_dir_all(&package).expect("package folder");
    fs::write(package.join("__init__.py"), "").expect("write");
    fs::write(package.join("store.py"), "jobs = {}\n").expect("write");
    fs::write(
        package.join("app.py"),
        "import asyncio\n\
         from service import store\n\
         \n\
         def work(key):\n    store.jobs[key] = 'done'\n\
         \n\
         async def handle(key):\n    store.jobs[key] = 'queued'\n    await asyncio.to_thread(work, key)\n",
    )
    .expect("write");
    fs::write(
        package.join("util.py"),
        "def double(x):\n    return 2 * x\n",
    )
    .expect("write");
    dir
}

/// The findings of `racelint check --select ALL` in `dir`, as JSON text, with the cache
/// (`cached`) or without it.
fn findings(dir: &Path, cached: bool) -> String {
    let mut args = vec!["check", "--select", "ALL", "--output-format", "json", "."];
    if !cached {
        args.push("--no-cache");
    }
    let output = racelint_in(dir, &args);
    assert!(
        output.status.code().is_some_and(|c| c < 2),
        "racelint failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The cache's entry files (not its `.gitignore` and `CACHEDIR.TAG`).
fn entries(dir: &Path) -> Vec<PathBuf> {
    let root = dir.join(".racelint_cache");
    let mut found = Vec::new();
    for folder in fs::read_dir(&root).into_iter().flatten().flatten() {
        if folder.path().is_dir() {
            found.extend(
                fs::read_dir(folder.path())
                    .expect("cache folder")
                    .flatten()
                    .map(|e| e.path()),
            );
        }
    }
    found.sort();
    found
}

#[test]
fn a_cached_run_finds_what_an_uncached_run_finds() {
    let dir = project();
    let uncached = findings(dir.path(), false);
    assert!(uncached.contains("RL101"), "the project races: {uncached}");
    assert!(
        !dir.path().join(".racelint_cache").exists(),
        "--no-cache writes nothing"
    );
    assert_eq!(
        findings(dir.path(), true),
        uncached,
        "the run that fills it"
    );
    assert_eq!(entries(dir.path()).len(), 4, "one entry per file");
    assert_eq!(
        findings(dir.path(), true),
        uncached,
        "the run that reads it"
    );
    let ignore = fs::read_to_string(dir.path().join(".racelint_cache/.gitignore"));
    assert!(
        ignore.is_ok_and(|text| text.lines().any(|l| l == "*")),
        "the cache keeps itself out of git"
    );
}

#[test]
fn an_edited_file_is_lowered_again() {
    let dir = project();
    findings(dir.path(), true);
    let app = dir.path().join("service/app.py");
    let text = fs::read_to_string(&app).expect("read");
    // The worker now only reads a local: the race is gone.
    fs::write(
        &app,
        text.replace("store.jobs[key] = 'done'", "key = 'done'"),
    )
    .expect("write");
    let after = findings(dir.path(), true);
    assert!(!after.contains("RL101"), "the edit is seen: {after}");
    assert_eq!(after, findings(dir.path(), false));
    assert_eq!(
        entries(dir.path()).len(),
        4,
        "the entry was replaced, not added"
    );
}

#[test]
fn a_deleted_file_leaves_the_analysis() {
    let dir = project();
    findings(dir.path(), true);
    fs::remove_file(dir.path().join("service/store.py")).expect("remove");
    let after = findings(dir.path(), true);
    assert!(
        !after.contains("RL101"),
        "`store.jobs` no longer exists: {after}"
    );
    assert_eq!(after, findings(dir.path(), false));
}

#[test]
fn a_configuration_that_changes_lowering_is_part_of_the_key() {
    let dir = tempfile::tempdir().expect("temporary folder");
    fs::create_dir_all(dir.path().join("src")).expect("src");
    fs::write(
        dir.path().join("src/lib.rs"),
        "use std::sync::Mutex;\n\
         static COUNT: Mutex<u32> = Mutex::new(0);\n\
         async fn tick() {}\n\
         pub async fn run() {\n    let guard = COUNT.lock_timeout();\n    tick().await;\n    drop(guard);\n}\n",
    )
    .expect("write");
    let before = findings(dir.path(), true);
    assert!(!before.contains("RL301"), "`lock_timeout` is no lock yet");
    // The Rust front-end reads `extra-locks` while lowering: a guard is now taken.
    fs::write(
        dir.path().join("racelint.toml"),
        "[rust]\nextra-locks = [\"lock_timeout\"]\n",
    )
    .expect("write");
    let after = findings(dir.path(), true);
    assert!(after.contains("RL301"), "the new lock is seen: {after}");
    assert_eq!(after, findings(dir.path(), false));
}

/// What is done to every entry's bytes.
type Damage = &'static dyn Fn(&[u8]) -> Vec<u8>;

#[test]
fn a_damaged_entry_is_rewritten_never_trusted() {
    let dir = project();
    let uncached = findings(dir.path(), false);
    findings(dir.path(), true);
    let written = entries(dir.path());
    let damage: [Damage; 4] = [
        &|bytes| bytes[..bytes.len() / 2].to_vec(),
        &|_| Vec::new(),
        &|bytes| bytes.iter().map(|b| b ^ 0x5a).collect(),
        // The right header and key, then a body from another file.
        &|bytes| {
            let mut forged = bytes[..24].to_vec();
            forged.extend_from_slice(&[7; 40]);
            forged
        },
    ];
    for (index, damaged) in damage.iter().enumerate() {
        for entry in &written {
            let bytes = fs::read(entry).expect("entry");
            fs::write(entry, damaged(&bytes)).expect("write");
        }
        assert_eq!(findings(dir.path(), true), uncached, "damage {index}");
        assert_eq!(entries(dir.path()), written, "rewritten in place");
        // Rewritten: the next run reads good entries again.
        assert_eq!(findings(dir.path(), true), uncached, "after damage {index}");
    }
}

#[test]
fn concurrent_runs_share_one_cache_safely() {
    let dir = project();
    let uncached = findings(dir.path(), false);
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let path = dir.path().to_path_buf();
            std::thread::spawn(move || findings(&path, true))
        })
        .collect();
    for run in runs {
        assert_eq!(run.join().expect("run"), uncached);
    }
    assert_eq!(
        entries(dir.path()).len(),
        4,
        "no temporary file left behind"
    );
    assert_eq!(findings(dir.path(), true), uncached);
}

#[test]
fn clean_removes_the_cache_and_nothing_else() {
    let dir = project();
    findings(dir.path(), true);
    assert!(dir.path().join(".racelint_cache").is_dir());
    let cleaned = racelint_in(dir.path(), &["clean"]);
    assert_eq!(cleaned.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&cleaned.stderr).contains("removed"));
    assert!(!dir.path().join(".racelint_cache").exists());
    let again = racelint_in(dir.path(), &["clean"]);
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stderr).contains("no cache"));
    // A `cache-dir` set by mistake to a source folder: refused, the sources kept.
    fs::write(
        dir.path().join("racelint.toml"),
        "cache-dir = \"service\"\n",
    )
    .expect("write");
    let refused = racelint_in(dir.path(), &["clean"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not a racelint cache"));
    assert!(dir.path().join("service/app.py").is_file());
}

#[test]
fn a_cache_dir_that_holds_other_files_is_never_written() {
    let dir = project();
    let uncached = findings(dir.path(), false);
    fs::write(
        dir.path().join("racelint.toml"),
        "cache-dir = \"service\"\n",
    )
    .expect("write");
    let before: Vec<_> = fs::read_dir(dir.path().join("service"))
        .expect("service")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    let output = racelint_in(
        dir.path(),
        &["check", "--select", "ALL", "--output-format", "json", "."],
    );
    assert_eq!(String::from_utf8_lossy(&output.stdout), uncached);
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a racelint cache folder"));
    let after: Vec<_> = fs::read_dir(dir.path().join("service"))
        .expect("service")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(after, before, "no .gitignore, no entries among the sources");
}
