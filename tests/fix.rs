//! `--fix` and `--diff` on copies of a project: what is fixed, what is left alone, and
//! that a fixed file keeps its encoding, byte-order mark and line endings.

mod common;
use common::racelint_in;

const COROUTINE: &str = "import asyncio\r\n\r\n\r\nasync def main() -> None:\r\n    loop = asyncio.get_event_loop()\r\n    await loop.run_in_executor(None, print)\r\n";

/// Imported by name: the fix would need `get_running_loop` imported, so it is left.
const BY_NAME: &str = "from asyncio import get_event_loop\n\n\nasync def main() -> None:\n    loop = get_event_loop()\n    await loop.run_in_executor(None, print)\n";

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut with_bom = b"\xef\xbb\xbf".to_vec();
    with_bom.extend_from_slice(COROUTINE.as_bytes());
    std::fs::write(dir.path().join("service.py"), with_bom).expect("write");
    std::fs::write(dir.path().join("by_name.py"), BY_NAME).expect("write");
    dir
}

#[test]
fn fix_applies_safe_edits_and_keeps_the_file_as_it_was_written() {
    let dir = project();
    let fixed = racelint_in(
        dir.path(),
        &["check", ".", "--fix", "--output-format", "concise"],
    );
    let stderr = String::from_utf8_lossy(&fixed.stderr);
    assert!(stderr.contains("fixed 1 findings in 1 files"), "{stderr}");
    // What is left is the finding the fix could not make.
    let stdout = String::from_utf8_lossy(&fixed.stdout);
    assert!(stdout.contains("by_name.py:5:12: RL205"), "{stdout}");
    assert!(!stdout.contains("service.py"), "{stdout}");
    assert_eq!(fixed.status.code(), Some(1));

    let bytes = std::fs::read(dir.path().join("service.py")).expect("read");
    let mut expected = b"\xef\xbb\xbf".to_vec();
    expected.extend_from_slice(
        COROUTINE
            .replace("get_event_loop", "get_running_loop")
            .as_bytes(),
    );
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("by_name.py")).expect("read"),
        BY_NAME
    );

    // A second run finds nothing left to fix there.
    let again = racelint_in(
        dir.path(),
        &["check", "service.py", "--output-format", "concise"],
    );
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stdout)
    );
}

#[test]
fn diff_shows_the_fix_and_writes_nothing() {
    let dir = project();
    let before = std::fs::read(dir.path().join("service.py")).expect("read");
    let diff = racelint_in(dir.path(), &["check", ".", "--diff"]);
    assert_eq!(diff.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&diff.stdout);
    assert!(
        stdout.contains(
            "@@ -2,5 +2,5 @@\n \n \n async def main() -> None:\n-    loop = asyncio.get_event_loop()\n+    loop = asyncio.get_running_loop()\n     await loop.run_in_executor(None, print)\n"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("by_name.py"), "{stdout}");
    assert_eq!(
        std::fs::read(dir.path().join("service.py")).expect("read"),
        before
    );
}

#[test]
fn fix_makes_call_soon_thread_safe_and_leaves_what_needs_a_redesign() {
    let dir = tempfile::tempdir().expect("temp dir");
    let worker = "import asyncio\n\n\ndef progress(loop: asyncio.AbstractEventLoop) -> None:\n    loop.call_soon(print, 1)\n    loop.call_later(2.0, print)\n\n\nasync def main() -> None:\n    await asyncio.to_thread(progress, asyncio.get_running_loop())\n";
    std::fs::write(dir.path().join("worker.py"), worker).expect("write");
    let fixed = racelint_in(
        dir.path(),
        &[
            "check",
            ".",
            "--select",
            "RL201",
            "--fix",
            "--output-format",
            "concise",
        ],
    );
    let stdout = String::from_utf8_lossy(&fixed.stdout);
    // `call_later` has no thread-safe twin: the loop must be handed the call.
    assert!(stdout.contains("worker.py:6:5: RL201"), "{stdout}");
    assert!(!stdout.contains("worker.py:5:"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("worker.py")).expect("read"),
        worker.replace("call_soon(", "call_soon_threadsafe(")
    );
}

/// A statement that awaits is never printed under a thread lock (that is RL202's
/// hazard): a reference it tests is taken under the lock before it, a value it stores
/// is stored under the lock after it is awaited, and a read of the contents gets
/// advice. Nothing of it is applied.
#[test]
fn lock_fix_keeps_every_await_outside_the_lock() {
    let fix = first_fix(
        "RL101/rl101_awaiting_statement_reads_under_the_lock.py",
        "users.py",
        "RL101",
    );
    let code = fix["code"].as_str().expect("a printed fix");
    for expected in [
        "# Line 28 uses `self._users` in a statement that suspends",
        "with self._users_lock:\n    users_now = self._users\nawait self._store.note_loaded(users_now is not None)\n",
        "users_now = await self._store.load()\nwith self._users_lock:\n    self._users = users_now\n",
        "with self._users_lock:\n    self._users[user_id] = secret",
    ] {
        assert!(code.contains(expected), "{expected:?} missing from:\n{code}");
    }
    // No line under a `with` of the lock awaits.
    let mut under_lock = false;
    for line in code.lines() {
        if line.starts_with("with self._users_lock:") {
            under_lock = true;
        } else if !line.starts_with(' ') {
            under_lock = false;
        } else if under_lock {
            assert!(!line.contains("await"), "awaits under the lock:\n{code}");
        }
    }
    assert!(
        fix["edits"].is_null(),
        "a snapshot is printed, never applied"
    );
    assert!(
        fix["description"]
            .as_str()
            .unwrap_or_default()
            .contains("`threading.Lock`"),
        "a snapshot holds the lock over one read, so no block takes it twice: {fix}"
    );
}

/// RL104's double-checked locking wraps the check and the creation in one `with`; when
/// an `await` lies between them it prints where the lock belongs instead, in words, and
/// no block of lines under the lock.
#[test]
fn double_checked_fix_never_spans_an_await() {
    let fix = first_fix(
        "RL104/rl104_lazy_cache_checked_across_await.py",
        "loader.py",
        "RL104",
    );
    let code = fix["code"].as_str().expect("a printed fix");
    assert!(
        code.contains(
            "# loader.py:32\n# The check at line 19 and this creation have an `await` between them"
        ),
        "advice at the creation expected:\n{code}"
    );
    assert!(
        !code.lines().any(|l| l.starts_with("with ")),
        "no block under the lock:\n{code}"
    );
    assert!(fix["edits"].is_null(), "advice is never applied");
}

/// The fix of the first finding of `rule` in a Python fixture checked alone, as `name`.
fn first_fix(fixture: &str, name: &str, rule: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().expect("temp dir");
    let fixture = format!("{}/fixtures/python/{fixture}", env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(fixture, dir.path().join(name)).expect("copy");
    let out = racelint_in(
        dir.path(),
        &["check", ".", "--select", rule, "--output-format", "json"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    report["findings"][0]["fix"].clone()
}
