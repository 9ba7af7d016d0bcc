//! The JSON and SARIF reports of a run are byte-identical across repeated runs, with one
//! worker thread or many, and whatever order the files were created in, on real
//! third-party code present wherever `cargo test` runs: the sources of racelint's own
//! concurrency-heavy dependencies (from the Cargo registry, found with `cargo metadata`)
//! and modules of the host CPython's standard library. `tests/cli.rs` checks the same on
//! the fixtures.
//!
//! Each run is a new process, so every `HashMap` gets a new random seed: an iteration
//! order that leaked into a report would show as a difference between runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Dependencies (by package name) whose sources are sampled: thread pools, channels,
/// epochs, a parallel walker and a progress bar that ticks on its own thread.
const CRATES: &[&str] = &[
    "rayon-core",
    "crossbeam-channel",
    "crossbeam-deque",
    "crossbeam-epoch",
    "crossbeam-utils",
    "ignore",
    "indicatif",
];

/// Standard-library modules and packages that use threads, locks and event loops.
const STDLIB: &[&str] = &[
    "asyncio",
    "concurrent",
    "logging",
    "multiprocessing",
    "threading.py",
    "queue.py",
    "socketserver.py",
    "sched.py",
];

fn cargo() -> PathBuf {
    std::env::var_os("CARGO")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO")))
}

fn run(program: &Path, args: &[&str], what: &str) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{what}: {} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

/// The folders holding the sampled crates' sources, as `cargo metadata` reports them.
fn crate_folders() -> Vec<(String, PathBuf)> {
    let cargo = cargo();
    let version = run(&cargo, &["-vV"], "the host triple");
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("`cargo -vV` names the host");
    // Offline and for this platform only: every package it lists was built for the tests.
    let metadata = run(
        &cargo,
        &[
            "metadata",
            "--format-version",
            "1",
            "--offline",
            "--filter-platform",
            host,
        ],
        "the dependencies' sources",
    );
    let metadata: Value = serde_json::from_str(&metadata).expect("cargo metadata is JSON");
    let mut folders: Vec<(String, PathBuf)> = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .filter(|p| CRATES.contains(&p["name"].as_str().unwrap_or_default()))
        .map(|p| {
            let manifest = PathBuf::from(p["manifest_path"].as_str().expect("manifest_path"));
            let name = format!(
                "{}-{}",
                p["name"].as_str().unwrap_or_default(),
                p["version"].as_str().unwrap_or_default()
            );
            (name, manifest.parent().expect("crate folder").to_path_buf())
        })
        .collect();
    folders.sort();
    assert!(
        folders.len() >= 5,
        "cargo metadata lists too few of {CRATES:?}: {folders:?}"
    );
    folders
}

fn stdlib() -> PathBuf {
    let output = Command::new("python3")
        .args([
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['stdlib'])",
        ])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "this test needs `python3` on PATH (its sample includes the host CPython's \
                 standard library): {e}"
            )
        });
    assert!(output.status.success(), "python3 cannot name its stdlib");
    let path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    assert!(path.join("threading.py").is_file(), "{}", path.display());
    path
}

/// Every source file below `from` (Python and Rust only, no caches), with the path to
/// give it below the sample folder.
fn sources(from: &Path, under: &Path, files: &mut Vec<(PathBuf, PathBuf)>) {
    if from.is_file() {
        files.push((from.to_path_buf(), under.to_path_buf()));
        return;
    }
    for entry in std::fs::read_dir(from).expect("readable source folder") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("a name").to_owned();
        if path.is_dir() {
            if name != "__pycache__" {
                sources(&path, &under.join(&name), files);
            }
        } else if path
            .extension()
            .is_some_and(|e| e == "py" || e == "rs" || e == "toml")
        {
            files.push((path, under.join(&name)));
        }
    }
}

/// (source file, path in the sample) for the whole sample, sorted.
fn sample() -> Vec<(PathBuf, PathBuf)> {
    let mut files = Vec::new();
    for (name, folder) in crate_folders() {
        let crate_dir = Path::new("rs").join(name);
        files.push((folder.join("Cargo.toml"), crate_dir.join("Cargo.toml")));
        sources(&folder.join("src"), &crate_dir.join("src"), &mut files);
    }
    let stdlib = stdlib();
    for module in STDLIB {
        sources(
            &stdlib.join(module),
            &Path::new("py").join(module),
            &mut files,
        );
    }
    files.sort_by(|a, b| a.1.cmp(&b.1));
    files
}

/// Copies the sample into `to`, creating files (and so folders) in sorted order or in
/// the reverse.
fn copy(sample: &[(PathBuf, PathBuf)], to: &Path, reverse: bool) {
    let mut order: Vec<&(PathBuf, PathBuf)> = sample.iter().collect();
    if reverse {
        order.reverse();
    }
    for (from, relative) in order {
        let target = to.join(relative);
        std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
        std::fs::copy(from, &target).unwrap_or_else(|e| panic!("copy {}: {e}", from.display()));
    }
}

fn report(dir: &Path, format: &str, threads: Option<&str>) -> Vec<u8> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_racelint"));
    command
        .args(["check", ".", "--select", "ALL", "--output-format", format])
        .current_dir(dir)
        .env("NO_COLOR", "1");
    match threads {
        Some(n) => command.env("RAYON_NUM_THREADS", n),
        None => command.env_remove("RAYON_NUM_THREADS"),
    };
    let output = command.output().expect("racelint runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn reports_on_third_party_code_are_byte_identical() {
    let sample = sample();
    let rust = sample
        .iter()
        .filter(|(_, p)| p.extension().is_some_and(|e| e == "rs"));
    let python = sample
        .iter()
        .filter(|(_, p)| p.extension().is_some_and(|e| e == "py"));
    let (rust, python) = (rust.count(), python.count());
    assert!(
        rust > 50 && python > 40,
        "{rust} Rust and {python} Python files"
    );

    let forward = tempfile::tempdir().expect("temp dir");
    let backward = tempfile::tempdir().expect("temp dir");
    copy(&sample, forward.path(), false);
    copy(&sample, backward.path(), true);

    let first = report(forward.path(), "json", None);
    let document: Value = serde_json::from_slice(&first).expect("JSON");
    let paths: Vec<&str> = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    let in_rust = paths.iter().filter(|p| p.starts_with("rs/")).count();
    let in_python = paths.iter().filter(|p| p.starts_with("py/")).count();
    // Without findings in both languages, identical reports would prove little.
    assert!(
        in_rust >= 5 && in_python >= 1,
        "the sample should give findings in both languages: {in_rust} Rust, {in_python} \
         Python"
    );

    for format in ["json", "sarif"] {
        let first = report(forward.path(), format, None);
        assert!(first.len() > 10_000, "{format}: a real report");
        for (dir, threads, what) in [
            (forward.path(), None, "a second run"),
            (forward.path(), None, "a third run"),
            (forward.path(), Some("1"), "one worker thread"),
            (forward.path(), Some("1"), "one worker thread, again"),
            (backward.path(), None, "files created in the reverse order"),
        ] {
            let again = report(dir, format, threads);
            assert!(
                again == first,
                "{format} output changed with {what}:\n{}",
                first_difference(&first, &again)
            );
        }
    }
}

/// The first line where two reports differ, for the failure message.
fn first_difference(a: &[u8], b: &[u8]) -> String {
    let (a, b) = (String::from_utf8_lossy(a), String::from_utf8_lossy(b));
    a.lines()
        .zip(b.lines())
        .enumerate()
        .find(|(_, (x, y))| x != y)
        .map(|(n, (x, y))| format!("line {}:\n  {x}\n  {y}", n + 1))
        .unwrap_or_else(|| "one report is a prefix of the other".to_string())
}
