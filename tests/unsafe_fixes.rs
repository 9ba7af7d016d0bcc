//! `--unsafe-fixes` and the fixes that declare invariants: the lock RL101/RL103 suggest,
//! RL104's double-checked locking, RL301's `drop` before the `.await`, RL107/RL108's
//! comments. Each is applied to a copy, the result is exact, and a second run finds
//! nothing of that rule there.

mod common;
use common::racelint_in;

use std::path::Path;

/// Shared by a worker thread and a coroutine, without a lock.
const CACHE: &str = "\
import asyncio


class Cache:
    def __init__(self) -> None:
        self.rows: dict[str, int] = {}

    def fill(self) -> None:
        self.rows[\"a\"] = 1

    async def refresh(self) -> None:
        await asyncio.to_thread(self.fill)

    async def size(self) -> int:
        return len(self.rows)


CACHE = Cache()
";

const CACHE_FIXED: &str = "\
import asyncio
import threading


class Cache:
    def __init__(self) -> None:
        self._rows_lock = threading.RLock()
        self.rows: dict[str, int] = {}

    def fill(self) -> None:
        with self._rows_lock:
            self.rows[\"a\"] = 1

    async def refresh(self) -> None:
        await asyncio.to_thread(self.fill)

    async def size(self) -> int:
        with self._rows_lock:
            return len(self.rows)


CACHE = Cache()
";

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).expect("read")
}

fn check(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check", ".", "--output-format", "concise"];
    args.extend_from_slice(extra);
    let out = racelint_in(dir, &args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn unsafe_fixes_are_counted_but_not_applied_without_the_flag() {
    let dir = project(&[("cache.py", CACHE)]);
    let (_, stdout, _) = check(dir.path(), &["--select", "RL101"]);
    assert!(
        stdout.contains("1 fixable with `--fix --unsafe-fixes`"),
        "{stdout}"
    );
    let (code, stdout, stderr) = check(dir.path(), &["--select", "RL101", "--fix"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("cache.py:9:9: RL101"), "{stdout}");
    assert!(
        stderr
            .contains("fixed 0 findings in 0 files; 1 more fixes available with `--unsafe-fixes`"),
        "{stderr}"
    );
    assert_eq!(read(dir.path(), "cache.py"), CACHE);
}

#[test]
fn unsafe_fixes_add_the_lock_and_a_second_run_finds_nothing() {
    let dir = project(&[("cache.py", CACHE)]);
    let (code, stdout, stderr) = check(
        dir.path(),
        &["--select", "RL101,RL103", "--fix", "--unsafe-fixes"],
    );
    assert!(stderr.contains("fixed 1 findings in 1 files"), "{stderr}");
    assert_eq!(read(dir.path(), "cache.py"), CACHE_FIXED);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("No findings."), "{stdout}");
}

#[test]
fn diff_with_unsafe_fixes_shows_the_lock_and_writes_nothing() {
    let dir = project(&[("cache.py", CACHE)]);
    let (code, stdout, _) = check(
        dir.path(),
        &["--select", "RL101", "--diff", "--unsafe-fixes"],
    );
    assert_eq!(code, 1);
    assert!(
        stdout.contains(
            "     def fill(self) -> None:\n-        self.rows[\"a\"] = 1\n+        with self._rows_lock:\n+            self.rows[\"a\"] = 1\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("+import threading\n"), "{stdout}");
    assert_eq!(read(dir.path(), "cache.py"), CACHE);
}

#[test]
fn a_lock_fix_in_a_crlf_file_keeps_its_line_endings() {
    let dir = project(&[("cache.py", &CACHE.replace('\n', "\r\n"))]);
    check(
        dir.path(),
        &["--select", "RL101", "--fix", "--unsafe-fixes"],
    );
    assert_eq!(
        read(dir.path(), "cache.py"),
        CACHE_FIXED.replace('\n', "\r\n")
    );
}

#[test]
fn fixes_that_meet_are_applied_in_a_second_pass() {
    // Two states of one class: both locks go to the top of `__init__`.
    let two = CACHE
        .replace(
            "        self.rows: dict[str, int] = {}\n",
            "        self.rows: dict[str, int] = {}\n        self.hits = 0\n",
        )
        .replace(
            "        self.rows[\"a\"] = 1\n",
            "        self.rows[\"a\"] = 1\n\n    def hit(self) -> None:\n        self.hits += 1\n",
        )
        .replace(
            "        await asyncio.to_thread(self.fill)\n",
            "        await asyncio.to_thread(self.fill)\n        await asyncio.to_thread(self.hit)\n",
        )
        .replace(
            "        return len(self.rows)\n",
            "        return len(self.rows) + self.hits\n",
        );
    let dir = project(&[("cache.py", &two)]);
    let (_, stdout, stderr) = check(
        dir.path(),
        &["--select", "RL101,RL103", "--fix", "--unsafe-fixes"],
    );
    assert!(stderr.contains("fixed 2 findings in 1 files"), "{stderr}");
    assert!(stdout.contains("No findings."), "{stdout}");
    // The second pass sees `hits` read under the first fix's lock: RL103 then asks for
    // that lock at the write too.
    let fixed = read(dir.path(), "cache.py");
    assert!(
        fixed.contains("        with self._rows_lock:\n            self.hits += 1\n"),
        "{fixed}"
    );
}

/// Each change makes one fix unsafe to apply blindly: the fix is then printed only.
#[test]
fn fixes_that_could_hang_or_break_the_program_are_not_applied() {
    let refusals = [
        // The class's own plain `Lock`: one thread taking it twice would never return.
        (
            "        self.rows: dict[str, int] = {}\n",
            "        self.rows: dict[str, int] = {}\n        self._lock = threading.Lock()\n",
        ),
        // Blocking I/O under a lock the event loop takes too.
        (
            "        self.rows[\"a\"] = 1\n",
            "        self.rows[\"a\"] = len(open(\"rows.txt\").read())\n",
        ),
        // A wait on another thread while holding the lock.
        (
            "        self.rows[\"a\"] = 1\n",
            "        self.rows[\"a\"] = POOL.submit(len, \"a\").result()\n",
        ),
        // Instances are deep-copied: a lock inside would make that raise.
        ("CACHE = Cache()\n", "CACHE = copy.deepcopy(Cache())\n"),
        // A callable racelint cannot follow, built at import: it may block.
        (
            "        self.rows[\"a\"] = 1\n",
            "        self.rows[\"a\"] = TRACK(1)\n",
        ),
        // The module resets its state after fork(): a new lock could hang the child.
        (
            "CACHE = Cache()\n",
            "CACHE = Cache()\nos.register_at_fork(after_in_child=print)\n",
        ),
    ];
    // Unchanged, the same module is fixable: each change is what refuses the fix.
    let prelude = "import copy\nimport os\nimport threading\nfrom concurrent.futures import ThreadPoolExecutor\n\nPOOL = ThreadPoolExecutor()\nTRACK = abs\n";
    let dir = project(&[("cache.py", &format!("{prelude}{CACHE}"))]);
    let (_, stdout, _) = check(dir.path(), &["--select", "RL101,RL103"]);
    assert!(
        stdout.contains("1 fixable with `--fix --unsafe-fixes`"),
        "{stdout}"
    );
    for (from, to) in refusals {
        let code = format!("{prelude}{}", CACHE.replace(from, to));
        let dir = project(&[("cache.py", &code)]);
        let (_, stdout, _) = check(dir.path(), &["--select", "RL101,RL103"]);
        assert!(stdout.contains("RL10"), "{to}: {stdout}");
        assert!(!stdout.contains("fixable"), "{to}: {stdout}");
    }
}

#[test]
fn double_checked_locking_is_written_under_the_check() {
    let lazy = "\
from concurrent.futures import ThreadPoolExecutor

_engine = None


def engine() -> object:
    global _engine
    if _engine is None:
        _engine = object()
    return _engine


def run() -> None:
    with ThreadPoolExecutor() as pool:
        pool.submit(engine)
        pool.submit(engine)
";
    let dir = project(&[("db.py", lazy)]);
    let (code, stdout, _) = check(
        dir.path(),
        &["--select", "RL104", "--fix", "--unsafe-fixes"],
    );
    assert_eq!(
        read(dir.path(), "db.py"),
        lazy.replace(
            "from concurrent.futures import ThreadPoolExecutor\n",
            "from concurrent.futures import ThreadPoolExecutor\nimport threading\n\n_engine_lock = threading.RLock()\n",
        )
        .replace(
            "    if _engine is None:\n        _engine = object()\n",
            "    if _engine is None:\n        with _engine_lock:\n            if _engine is None:\n                _engine = object()\n",
        )
    );
    assert_eq!(code, 0, "{stdout}");
}

#[test]
fn a_guard_is_dropped_before_the_await_when_nothing_after_needs_it() {
    let guard = "\
use std::sync::Mutex;

async fn tick() {}

pub async fn bump(counter: &Mutex<u32>) {
    let mut value = counter.lock().unwrap();
    *value += 1;
    tick().await;
}

pub async fn read(counter: &Mutex<u32>) -> u32 {
    let value = counter.lock().unwrap();
    tick().await;
    *value
}
";
    let dir = project(&[("lib.rs", guard)]);
    let (_, stdout, _) = check(
        dir.path(),
        &["--select", "RL301", "--fix", "--unsafe-fixes"],
    );
    assert_eq!(
        read(dir.path(), "lib.rs"),
        guard.replacen(
            "    *value += 1;\n    tick().await;\n",
            "    *value += 1;\n    drop(value);\n    tick().await;\n",
            1
        )
    );
    // `read` needs the guard after the await: the fix is the user's to write.
    assert!(stdout.contains("lib.rs:13:17: RL301"), "{stdout}");
    assert!(!stdout.contains("lib.rs:6:"), "{stdout}");
}

#[test]
fn invariant_comments_are_safe_fixes() {
    let replaced = "\
import asyncio
import threading

PRICES: dict[str, float] = {}


def poll() -> None:
    global PRICES
    PRICES = {\"a\": 1.0}


async def price(name: str) -> float:
    return PRICES.get(name, 0.0)


def start() -> None:
    threading.Thread(target=poll).start()
";
    let dir = project(&[("feed.py", replaced)]);
    let (code, stdout, stderr) = check(dir.path(), &["--select", "RL108,RL109", "--fix"]);
    assert!(stderr.contains("fixed 1 findings in 1 files"), "{stderr}");
    assert_eq!(
        read(dir.path(), "feed.py"),
        replaced.replace(
            "PRICES: dict[str, float] = {}\n",
            "# racelint: replaced-wholesale\nPRICES: dict[str, float] = {}\n"
        )
    );
    assert_eq!(code, 0, "{stdout}");
}

/// Every fixture, fixed with every fix: each fixed file still parses, and no state a
/// fix was applied to is reported again by the rule that fixed it.
#[test]
fn every_fixture_fix_parses_and_silences_its_rule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&root, dir.path());
    let findings = |dir: &Path| -> Vec<serde_json::Value> {
        let out = racelint_in(
            dir,
            &["check", ".", "--select", "ALL", "--output-format", "json"],
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
        report["findings"].as_array().cloned().unwrap_or_default()
    };
    // Lines move when fixes insert lines: a finding is known by its rule, file, state
    // and message without its numbers.
    let key = |f: &serde_json::Value| {
        let message: String = f["message"]
            .as_str()
            .unwrap_or_default()
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect();
        (
            f["code"].as_str().unwrap_or_default().to_string(),
            f["path"].as_str().unwrap_or_default().to_string(),
            f["state"].as_str().unwrap_or_default().to_string(),
            message,
        )
    };
    let before = findings(dir.path());
    let fixable: Vec<_> = before
        .iter()
        .filter(|f| !f["fix"]["edits"].is_null())
        .map(key)
        .collect();
    assert!(fixable.len() > 50, "{} fixable", fixable.len());
    let out = racelint_in(
        dir.path(),
        &["check", ".", "--select", "ALL", "--fix", "--unsafe-fixes"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("racelint: fixed"), "{stderr}");
    for file in walk(dir.path()) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let parses = match file.extension().and_then(|e| e.to_str()) {
            Some("py") => racelint::python::parses(&text),
            Some("rs") => racelint::rust::parses(&text),
            _ => true,
        };
        let original = root.join(file.strip_prefix(dir.path()).expect("inside"));
        let was_valid = match file.extension().and_then(|e| e.to_str()) {
            Some("py") => {
                racelint::python::parses(&std::fs::read_to_string(&original).unwrap_or_default())
            }
            Some("rs") => {
                racelint::rust::parses(&std::fs::read_to_string(&original).unwrap_or_default())
            }
            _ => true,
        };
        assert!(parses || !was_valid, "{} no longer parses", file.display());
    }
    let after: Vec<_> = findings(dir.path()).iter().map(key).collect();
    for fixed in &fixable {
        assert!(
            !after.contains(fixed),
            "{fixed:?} is still reported after its fix"
        );
    }
    // A rule whose findings carry a fix says how safe it is.
    let codes: std::collections::BTreeSet<&String> = fixable.iter().map(|k| &k.0).collect();
    for code in codes {
        let doc = racelint_in(dir.path(), &["rule", code]);
        let text = String::from_utf8_lossy(&doc.stdout);
        assert!(
            text.contains("## Fix safety"),
            "{code} lacks a Fix safety section"
        );
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        if entry.path().is_dir() {
            files.extend(walk(&entry.path()));
        } else {
            files.push(entry.path());
        }
    }
    files
}

#[test]
fn sarif_carries_the_same_edits_as_json() {
    let dir = project(&[("cache.py", CACHE)]);
    let report = |format: &str| -> serde_json::Value {
        let out = racelint_in(
            dir.path(),
            &["check", ".", "--select", "RL101", "--output-format", format],
        );
        serde_json::from_slice(&out.stdout).expect("a JSON document")
    };
    let json = report("json");
    let edits: Vec<String> = json["findings"][0]["fix"]["edits"]
        .as_array()
        .expect("edits")
        .iter()
        .map(|e| e["content"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(json["findings"][0]["fix"]["applicability"], "unsafe");
    assert_eq!(edits.len(), 4, "{edits:?}");
    let sarif = report("sarif");
    let replacements: Vec<String> = sarif["runs"][0]["results"][0]["fixes"][0]["artifactChanges"]
        [0]["replacements"]
        .as_array()
        .expect("replacements")
        .iter()
        .map(|r| {
            r["insertedContent"]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect();
    assert_eq!(replacements, edits);
}
