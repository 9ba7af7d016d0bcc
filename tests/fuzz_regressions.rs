//! Inputs the fuzzer (`examples/fuzz`) found to break racelint, each reduced to its shape.
//! Each test names the failure it guards against.

mod common;
use common::racelint_in;

/// miette pads a label to its column with a format width, which Rust caps at 65,535: a
/// finding on a very long line made the default output panic.
#[test]
fn a_finding_on_a_line_longer_than_a_format_width_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let padding = "x".repeat(70_000);
    let source = format!(
        "import asyncio\n\nCOUNTS = {{}}\n\n\ndef work():\n    y = \"{padding}\"; COUNTS[\"k\"] = 1\n\n\n\
         async def main():\n    COUNTS[\"k\"] = 2\n    await asyncio.to_thread(work)\n"
    );
    std::fs::write(dir.path().join("long_line.py"), source).expect("write");
    let output = racelint_in(dir.path(), &["check", ".", "--select", "ALL"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains("long_line.py:7:") && stdout.contains("(the line is too long to show)"),
        "{stdout}"
    );
}
