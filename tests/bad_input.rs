//! Bad input: each kind gets a clear message naming the file, saying what was wrong and
//! what racelint did, with the exit code Ruff would give (1 when a file could not be
//! analysed, 2 for a usage or configuration error), and every other file in the same run
//! is still analysed: each test puts a known race next to the bad input and checks that
//! it is still reported.
//!
//! A file deleted, truncated or replaced between discovery and reading cannot be staged
//! from the outside; `check::tests` calls the reading function on such files directly.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const RACY: &str = "fixtures/python/RL101/rl101_fastapi_jobs_sync_task.py";
/// Where RACY's RL101 finding is.
const RACY_LINE: u64 = 24;
const RACY_COLUMN: u64 = 5;

/// A Rust race (RL303) without comments: a lone CR must not turn code into a comment.
const RUST_RACY: &str = "use std::thread;\n\nstatic mut HITS: u64 = 0;\n\npub fn bump() {\n    unsafe { HITS += 1 }\n}\n\nfn main() {\n    for _ in 0..4 {\n        thread::spawn(bump);\n    }\n}\n";
/// Where RUST_RACY's RL303 finding is.
const RUST_RACY_AT: (u64, u64) = (6, 14);

/// No run may take longer than this: a hang is a failure, not a stuck test suite.
const DEADLINE: Duration = Duration::from_secs(240);

fn racy_source() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(RACY)).expect("the racy fixture")
}

/// A temporary project holding the racy file as `racy.py`.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("racy.py"), racy_source()).expect("write");
    dir
}

/// Runs racelint in `dir`, killing it (and failing) if it outlives `DEADLINE`.
fn racelint_in(dir: &Path, args: &[&str]) -> Output {
    racelint_with(dir, args, &[])
}

fn racelint_with(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_racelint"));
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("racelint starts");
    // Drain the pipes on threads, so a large report cannot block the child.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut buffer).map(|_| buffer)
    });
    let err = std::thread::spawn(move || {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut buffer).map(|_| buffer)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("racelint {args:?} in {} hung", dir.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out.join().expect("stdout thread").expect("stdout"),
        stderr: err.join().expect("stderr thread").expect("stderr"),
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `racelint check <args> --select ALL --output-format json` in `dir`: the document and
/// the exit code.
fn check_json(dir: &Path, args: &[&str]) -> (Value, Option<i32>) {
    let mut all = vec!["check"];
    all.extend(args);
    all.extend(["--select", "ALL", "--output-format", "json"]);
    let output = racelint_in(dir, &all);
    let document = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            stderr(&output)
        )
    });
    (document, output.status.code())
}

/// The `errors` of a JSON document: (path, message), in report order.
fn errors(document: &Value) -> Vec<(String, String)> {
    document["errors"]
        .as_array()
        .expect("errors is an array")
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap_or_default().to_string(),
                e["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The findings of a JSON document: (path, code, line, column, message).
fn findings(document: &Value) -> Vec<(String, String, u64, u64, String)> {
    document["findings"]
        .as_array()
        .expect("findings is an array")
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["code"].as_str().unwrap_or_default().to_string(),
                f["line"].as_u64().unwrap_or_default(),
                f["column"].as_u64().unwrap_or_default(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Findings in `path`, as (code, line, column, message).
fn findings_in(document: &Value, path: &str) -> Vec<(String, u64, u64, String)> {
    findings(document)
        .into_iter()
        .filter(|f| f.0 == path)
        .map(|(_, code, line, column, message)| (code, line, column, message))
        .collect()
}

/// The racy file next to the bad input was analysed as usual.
fn assert_race_found(document: &Value, path: &str) {
    let found: Vec<(String, u64, u64)> = findings_in(document, path)
        .into_iter()
        .map(|(code, line, column, _)| (code, line, column))
        .collect();
    assert_eq!(
        found,
        [("RL101".to_string(), RACY_LINE, RACY_COLUMN)],
        "{path} is still analysed"
    );
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn syntax_errors_are_rl001_and_the_rest_is_analysed() {
    let dir = project();
    let root = dir.path();
    std::fs::write(root.join("broken.rs"), "fn f( {\n").expect("write");
    // A Python syntax error after the race: the parser recovers, the race is still found.
    let mut half_broken = racy_source();
    half_broken.extend(b"\n\ndef broken(:\n    pass\n");
    std::fs::write(root.join("half_broken.py"), half_broken).expect("write");

    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    assert_eq!(errors(&document), Vec::new());
    assert_eq!(
        findings_in(&document, "broken.rs"),
        [(
            "RL001".to_string(),
            1,
            7,
            "syntax error: cannot parse string into token stream".to_string()
        )]
    );
    let half: Vec<(String, u64, u64)> = findings_in(&document, "half_broken.py")
        .into_iter()
        .map(|(code, line, column, _)| (code, line, column))
        .collect();
    assert_eq!(
        half,
        [
            ("RL101".to_string(), RACY_LINE, RACY_COLUMN),
            ("RL001".to_string(), 47, 12),
            ("RL001".to_string(), 47, 13),
        ]
    );
    assert_race_found(&document, "racy.py");
}

#[test]
fn undecodable_files_are_skipped_with_the_reason() {
    let dir = project();
    let root = dir.path();
    std::fs::write(root.join("mojibake.py"), b"x = 1\ny = '\xff'\n").expect("write");
    std::fs::write(
        root.join("klingon.py"),
        "# -*- coding: klingon -*-\nx = 1\n",
    )
    .expect("write");
    std::fs::write(
        root.join("bom_latin.py"),
        b"\xef\xbb\xbf# -*- coding: latin-1 -*-\nx = '\xe9'\n",
    )
    .expect("write");
    std::fs::write(
        root.join("bad.rs"),
        b"fn f() {}\nconst S: &str = \"\xff\";\n",
    )
    .expect("write");
    // Accepted: a BOM with a cookie that agrees, and a Latin-1 cookie. The race in each is
    // found one line further down.
    let mut agreeing = b"\xef\xbb\xbf# coding: utf-8\n".to_vec();
    agreeing.extend(racy_source());
    std::fs::write(root.join("bom_utf8.py"), agreeing).expect("write");
    let mut latin = b"# -*- coding: latin-1 -*-\n".to_vec();
    latin.extend(racy_source());
    std::fs::write(root.join("latin.py"), latin).expect("write");

    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    assert_eq!(
        errors(&document),
        owned(&[
            (
                "bad.rs",
                "not valid UTF-8 (line 2), as Rust source must be; it was skipped"
            ),
            (
                "bom_latin.py",
                "starts with a UTF-8 byte-order mark but its coding declaration names \
                 `latin-1`; it was skipped"
            ),
            (
                "klingon.py",
                "its coding declaration names `klingon`, an encoding racelint does not know; \
                 it was skipped"
            ),
            (
                "mojibake.py",
                "not valid UTF-8 (line 2) and no PEP 263 coding declaration names another \
                 encoding; it was skipped"
            ),
        ])
    );
    for shifted in ["bom_utf8.py", "latin.py"] {
        let found: Vec<(String, u64)> = findings_in(&document, shifted)
            .into_iter()
            .map(|(code, line, _, _)| (code, line))
            .collect();
        assert_eq!(found, [("RL101".to_string(), RACY_LINE + 1)], "{shifted}");
    }
    assert_race_found(&document, "racy.py");

    // Human formats print the same message on stderr, `error: <path>: <message>`.
    let concise = racelint_in(root, &["check", ".", "--output-format", "concise"]);
    assert!(
        stderr(&concise).lines().any(|l| l
            == "error: klingon.py: its coding declaration names `klingon`, an encoding \
                racelint does not know; it was skipped"),
        "{}",
        stderr(&concise)
    );
}

#[test]
fn nul_bytes_make_a_binary_file_in_either_language() {
    let dir = project();
    let root = dir.path();
    std::fs::write(root.join("blob.py"), b"x = 1\x00\n").expect("write");
    std::fs::write(root.join("blob.rs"), b"fn f() {}\x00\n").expect("write");
    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    assert_eq!(
        errors(&document),
        owned(&[
            (
                "blob.py",
                "binary file (contains NUL bytes); it was skipped"
            ),
            (
                "blob.rs",
                "binary file (contains NUL bytes); it was skipped"
            ),
        ])
    );
    assert_race_found(&document, "racy.py");
}

#[test]
fn empty_files_are_clean() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir(root.join("pkg")).expect("mkdir");
    for name in [
        "empty.py",
        "empty.rs",
        "pkg/__init__.py",
        "blank.py",
        "blank.rs",
    ] {
        let text = if name.starts_with("blank") {
            "\n\n   \n"
        } else {
            ""
        };
        std::fs::write(root.join(name), text).expect("write");
    }
    let (document, code) = check_json(root, &["."]);
    assert_eq!((errors(&document), findings(&document)), (vec![], vec![]));
    assert_eq!(code, Some(0), "nothing found, nothing skipped");

    std::fs::write(root.join("racy.py"), racy_source()).expect("write");
    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    assert_eq!(errors(&document), vec![]);
    assert_race_found(&document, "racy.py");
}

#[test]
fn a_50_mb_file_is_analysed_to_its_end() {
    let dir = project();
    let root = dir.path();
    let line = "# generated padding: a comment line that the analysis has to read past\n";
    let lines = 50 * 1024 * 1024 / line.len() + 1;
    let mut big = line.repeat(lines).into_bytes();
    big.extend(racy_source());
    assert!(big.len() > 50 * 1024 * 1024);
    std::fs::write(root.join("big.py"), big).expect("write");
    // A generous budget: the point is that the whole file is read, not how fast.
    let (document, code) = check_json(root, &[".", "--file-timeout", "120"]);
    assert_eq!(code, Some(1));
    assert_eq!(errors(&document), vec![]);
    let found: Vec<(String, u64, u64)> = findings_in(&document, "big.py")
        .into_iter()
        .map(|(code, line, column, _)| (code, line, column))
        .collect();
    assert_eq!(
        found,
        [("RL101".to_string(), lines as u64 + RACY_LINE, RACY_COLUMN)]
    );
    assert_race_found(&document, "racy.py");
}

/// Before, the 200,000-long chains (and brackets nested as deep) overflowed a worker's
/// stack, which aborts the whole process: the run did not go on.
#[test]
fn extreme_nesting_is_refused_with_rl001_and_the_run_goes_on() {
    let dir = project();
    let root = dir.path();
    let deep = 10_000;
    let write = |name: &str, text: String| std::fs::write(root.join(name), text).expect("write");
    write(
        "brackets.py",
        format!("x = {}1{}\n", "(".repeat(deep), ")".repeat(deep)),
    );
    write(
        "brackets.rs",
        format!("fn f() {}{}\n", "{".repeat(deep), "}".repeat(deep)),
    );
    // Indentation grows quadratically in bytes: 2,000 levels are already ten times
    // what racelint analyses (and twenty times what CPython accepts).
    let mut blocks = String::new();
    for level in 0..2_000 {
        blocks.push_str(&format!("{}if x:\n", "\t".repeat(level)));
    }
    blocks.push_str(&format!("{}pass\n", "\t".repeat(2_000)));
    write("blocks.py", blocks);
    write(
        "chain.py",
        format!("x = {}\n", vec!["a"; 200_000].join(" + ")),
    );
    write(
        "chain.rs",
        format!("fn f() {{ let x = a{}; }}\n", ".b()".repeat(200_000)),
    );

    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    assert_eq!(errors(&document), vec![]);
    let refused = |path: &str| findings_in(&document, path);
    let rl001 = |message: &str| vec![("RL001".to_string(), 1, 1, message.to_string())];
    assert_eq!(
        refused("brackets.py"),
        rl001(
            "syntax error: brackets nest 10000 levels deep; racelint analyses up to 1000 \
             (CPython refuses more than 200), so the file was not analysed"
        )
    );
    assert_eq!(
        refused("brackets.rs"),
        rl001(
            "syntax error: brackets nest 10000 levels deep; racelint analyses up to 1000, so \
             the file was not analysed"
        )
    );
    assert_eq!(
        refused("blocks.py"),
        rl001(
            "syntax error: indented blocks nest 2000 levels deep; racelint analyses up to \
             1000 (CPython refuses more than 100), so the file was not analysed"
        )
    );
    assert_eq!(
        refused("chain.py"),
        rl001(
            "syntax error: an expression chains 199999 operators, calls or attribute \
             accesses; racelint analyses up to 20000, so the file was not analysed"
        )
    );
    assert_eq!(
        refused("chain.rs"),
        rl001(
            "syntax error: an expression chains 200001 operators or method calls; racelint \
             analyses up to 20000, so the file was not analysed"
        )
    );
    assert_race_found(&document, "racy.py");
}

#[cfg(unix)]
#[test]
fn symbolic_links_that_dangle_or_loop_are_skipped() {
    use std::os::unix::fs::symlink;
    let dir = project();
    let root = dir.path();
    symlink("missing.py", root.join("dangling.py")).expect("symlink");
    symlink("loop_b.py", root.join("loop_a.py")).expect("symlink");
    symlink("loop_a.py", root.join("loop_b.py")).expect("symlink");
    symlink("racy.py", root.join("alias.py")).expect("symlink");
    symlink(".", root.join("here")).expect("symlink");

    // A walk never follows links: none of them is a file of the tree, nothing loops, and
    // the race is reported once, not again through `alias.py` or `here/`.
    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    assert_eq!(errors(&document), vec![]);
    assert_eq!(findings(&document).len(), 1, "{document}");
    assert_race_found(&document, "racy.py");

    // Named, they are reported one by one, and the run goes on.
    let (document, code) = check_json(root, &["dangling.py", "loop_a.py", "racy.py"]);
    assert_eq!(code, Some(1));
    let listed = errors(&document);
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(
        listed[0],
        (
            "dangling.py".to_string(),
            "is a symbolic link to `missing.py`, which does not exist; it was skipped".to_string()
        )
    );
    assert_eq!(listed[1].0, "loop_a.py");
    assert!(
        listed[1]
            .1
            .starts_with("is a symbolic link to `loop_b.py`, which cannot be followed (")
            && listed[1].1.ends_with("); it was skipped"),
        "{}",
        listed[1].1
    );
    assert_race_found(&document, "racy.py");

    // Alone, a dangling link is a file that could not be analysed (1); a path that does
    // not exist at all is a usage error (2), most likely a typo.
    let (_, code) = check_json(root, &["dangling.py"]);
    assert_eq!(code, Some(1));
    let missing = racelint_in(root, &["check", "missing.py"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing),
        "racelint: error: missing.py: no such file or directory\n"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_or_a_device_named_on_the_command_line_is_skipped_without_blocking() {
    let dir = project();
    let root = dir.path();
    let made = Command::new("mkfifo")
        .arg(root.join("pipe.py"))
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    // Reading the FIFO would block forever (nothing writes to it): `racelint_in` fails
    // the test if the run hangs.
    let (document, code) = check_json(root, &["pipe.py", "/dev/null", "racy.py"]);
    assert_eq!(code, Some(1));
    assert_eq!(
        errors(&document),
        owned(&[
            (
                "/dev/null",
                "is not a regular file or a folder (it is a character device); it was skipped"
            ),
            (
                "pipe.py",
                "is not a regular file or a folder (it is a FIFO); it was skipped"
            ),
        ])
    );
    assert_race_found(&document, "racy.py");

    // In a walk, a FIFO is not a source file: passed over, never opened.
    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    assert_eq!(errors(&document), vec![]);
    assert_race_found(&document, "racy.py");
}

/// Linux file systems take any bytes as a name; macOS's refuses names that are not UTF-8,
/// so the test has nothing to check there.
#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_are_analysed_and_reported() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let name = |bytes: &[u8]| root.join(std::ffi::OsStr::from_bytes(bytes));
    if std::fs::write(name(b"caf\xe9.py"), racy_source()).is_err() {
        eprintln!("this file system refuses names that are not UTF-8");
        return;
    }
    std::fs::write(name(b"blob\xff.py"), b"\x00").expect("write");

    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    // JSON is text: the bytes that are not UTF-8 show as U+FFFD.
    assert_eq!(
        errors(&document),
        owned(&[(
            "blob\u{fffd}.py",
            "binary file (contains NUL bytes); it was skipped"
        )])
    );
    assert_race_found(&document, "caf\u{fffd}.py");

    // SARIF URIs keep the exact bytes, percent-encoded, so a viewer can open the file.
    let sarif = racelint_in(
        root,
        &["check", ".", "--select", "ALL", "--output-format", "sarif"],
    );
    let sarif: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "caf%E9.py"
    );
    let notification = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert_eq!(
        notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "blob%FF.py"
    );
}

#[test]
fn line_endings_form_feeds_and_tabs_keep_findings_in_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let lf = String::from_utf8(racy_source()).expect("UTF-8 fixture");
    assert!(!lf.contains('\r') && !lf.contains('\t'));
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).expect("write");
    write("lf.py", &lf);
    write("crlf.py", &lf.replace('\n', "\r\n"));
    write("cr.py", &lf.replace('\n', "\r"));
    // A form feed on a blank line between definitions and before an indented line, as
    // CPython allows; the line count is unchanged.
    let form_feeds = lf.replacen("\n\n\ndef ", "\n\x0c\n\ndef ", 1).replacen(
        "\n    job = ",
        "\n\x0c    job = ",
        1,
    );
    assert_ne!(form_feeds, lf);
    write("form_feed.py", &form_feeds);
    // Tabs: the same code indented with tabs, and with a tab in one function while the
    // others use spaces (consistent within each block, so valid Python).
    write("tabs.py", &lf.replace("    ", "\t"));
    let mixed: String = lf
        .split_inclusive('\n')
        .enumerate()
        .map(|(index, line)| match index + 1 {
            // The body of `run_job`.
            23..=29 => line.replacen("    ", "\t", 1),
            _ => line.to_string(),
        })
        .collect();
    assert!(mixed.contains("\n\tjob[\"status\"] = \"running\"") && mixed.contains("\n    return"));
    write("mixed.py", &mixed);
    // Inconsistent (CPython: TabError): a syntax error, and the file is still analysed.
    let inconsistent = format!("{lf}\n\ndef f(x):\n        if x:\n\treturn 1\n        return 2\n");
    write("inconsistent.py", &inconsistent);
    let rust = |end: &str| RUST_RACY.replace('\n', end);
    std::fs::create_dir(root.join("rs")).expect("mkdir");
    write("rs/lf.rs", &rust("\n"));
    write("rs/crlf.rs", &rust("\r\n"));
    write("rs/cr.rs", &rust("\r"));

    let (document, code) = check_json(root, &["."]);
    assert_eq!(code, Some(1));
    assert_eq!(errors(&document), vec![]);
    let at = |path: &str| -> Vec<(String, u64, u64)> {
        findings_in(&document, path)
            .into_iter()
            .map(|(code, line, column, _)| (code, line, column))
            .collect()
    };
    for path in ["lf.py", "crlf.py", "cr.py", "form_feed.py"] {
        assert_eq!(
            at(path),
            [("RL101".to_string(), RACY_LINE, RACY_COLUMN)],
            "{path}"
        );
    }
    // Columns count characters: a tab is one.
    for path in ["tabs.py", "mixed.py"] {
        assert_eq!(at(path), [("RL101".to_string(), RACY_LINE, 2)], "{path}");
    }
    let inconsistent = at("inconsistent.py");
    assert_eq!(
        inconsistent.first(),
        Some(&("RL101".to_string(), RACY_LINE, RACY_COLUMN))
    );
    assert!(
        inconsistent
            .iter()
            .skip(1)
            .all(|(code, line, _)| code == "RL001" && *line > RACY_LINE),
        "{inconsistent:?}"
    );
    assert!(
        inconsistent.len() > 1,
        "the inconsistent indentation is reported"
    );
    for path in ["rs/lf.rs", "rs/crlf.rs", "rs/cr.rs"] {
        assert_eq!(
            at(path),
            [("RL303".to_string(), RUST_RACY_AT.0, RUST_RACY_AT.1)],
            "{path}"
        );
    }
    // The fix a lone-CR file gets quotes its lines, not the whole file as one.
    let fix = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["path"] == "cr.py")
        .map(|f| f["fix"]["code"].as_str().unwrap_or_default().to_string())
        .expect("cr.py has a finding");
    assert!(fix.contains("# cr.py:23\n"), "{fix}");
    assert!(!fix.contains("import uuid"), "{fix}");
}

#[test]
fn a_malformed_configuration_names_file_line_and_key_and_exits_2() {
    let dir = project();
    let root = dir.path();
    for (file, text, expected) in [
        (
            "racelint.toml",
            "select = [\"RL101\"]\nfile-timeout = \"soon\"\n",
            "racelint.toml:2: key `file-timeout`: invalid type: string \"soon\", expected f64",
        ),
        (
            "racelint.toml",
            "[python]\nextra-offloads = \"mylib.run\"\n",
            "racelint.toml:2: key `python.extra-offloads`: invalid type: string \
             \"mylib.run\", expected a sequence",
        ),
        (
            "racelint.toml",
            "select = [\"RL101\"]\nignore = [\n  \"RL102\",\n  \"RL777\",\n]\n",
            "racelint.toml:4: key `ignore`: unknown rule selector `RL777`; `racelint rules` \
             lists them",
        ),
        (
            "racelint.toml",
            "select = [\"RL101\"\n",
            "racelint.toml:2: invalid array; expected `]`",
        ),
        (
            "pyproject.toml",
            "[project]\nname = \"demo\"\n\n[tool.racelint]\nselect = \"RL101\"\n",
            "pyproject.toml:5: key `tool.racelint.select`: invalid type: string \"RL101\", \
             expected a sequence",
        ),
        (
            "pyproject.toml",
            "[tool.racelint]\nselect = [\"RL101\"]\n[tool.racelint.per-file-ignores]\n\"tests/[\" = [\"RL101\"]\n",
            // The glob is the key, and the message names it.
            "pyproject.toml:4: bad glob `tests/[`: ",
        ),
        (
            "pyproject.toml",
            "[project\nname = \"demo\"\n",
            "pyproject.toml:1: invalid table header; expected `.`, `]`",
        ),
    ] {
        for stale in ["racelint.toml", "pyproject.toml"] {
            let _ = std::fs::remove_file(root.join(stale));
        }
        std::fs::write(root.join(file), text).expect("write");
        let output = racelint_in(root, &["check", "--output-format", "json"]);
        assert_eq!(output.status.code(), Some(2), "{text}");
        assert!(output.stdout.is_empty(), "no report on a configuration error");
        let message = stderr(&output);
        assert!(
            message.starts_with(&format!("racelint: error: {expected}")),
            "{text}\n{message}"
        );
        assert_eq!(message.lines().count(), 1, "one line: {message}");
    }
}

#[test]
fn a_baseline_that_is_not_json_or_from_a_future_version_exits_2() {
    let dir = project();
    let root = dir.path();
    let rewrite = "write a new one with --write-baseline";
    for (text, expected) in [
        (
            "<html>not a baseline</html>\n".to_string(),
            format!(
                "base.json: not a racelint baseline: not JSON (expected value at line 1 \
                 column 1); {rewrite}"
            ),
        ),
        (
            // A future version may add fields: its version is what the user must hear of.
            "{\"version\": 2, \"findings\": [], \"tool\": \"racelint 0.9\"}".to_string(),
            format!(
                "base.json: baseline version 2 was written by a newer racelint; this one \
                 reads version 1 (upgrade racelint, or {rewrite})"
            ),
        ),
        (
            "{\"findings\": []}".to_string(),
            format!("base.json: not a racelint baseline: no `version` number; {rewrite}"),
        ),
    ] {
        std::fs::write(root.join("base.json"), text).expect("write");
        let output = racelint_in(root, &["check", "--baseline", "base.json"]);
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(stderr(&output), format!("racelint: error: {expected}\n"));
    }
}

/// Every file below `root` with its contents, in order.
fn snapshot(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("entry").path();
            let kind = std::fs::symlink_metadata(&path).expect("metadata");
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let contents = std::fs::read(&path).expect("read");
                files.push((path, contents));
            } else {
                files.push((path, Vec::new()));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn without_its_cache_racelint_writes_nothing_but_the_baseline_it_was_asked_for() {
    let project = project();
    let root = project.path();
    std::fs::write(root.join("broken.py"), "def f(:\n").expect("write");
    std::fs::write(root.join("blob.py"), b"\x00").expect("write");
    std::fs::write(root.join("racelint.toml"), "select = [\"ALL\"]\n").expect("write");
    // Where a tool might keep a cache or temporary files.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let home = elsewhere.path().join("home");
    let cache = elsewhere.path().join("cache");
    let tmp = elsewhere.path().join("tmp");
    for dir in [&home, &cache, &tmp] {
        std::fs::create_dir(dir).expect("mkdir");
    }
    let env = [
        ("HOME", home.as_path()),
        ("XDG_CACHE_HOME", cache.as_path()),
        ("TMPDIR", tmp.as_path()),
    ];
    let before = snapshot(root);
    for format in ["full", "concise", "json", "json-lines", "sarif", "github"] {
        let output = racelint_with(
            root,
            &["check", ".", "--no-cache", "--output-format", format],
            &env,
        );
        assert_eq!(output.status.code(), Some(1), "{format}");
    }
    let statistics = racelint_with(root, &["check", ".", "--no-cache", "--statistics"], &env);
    assert_eq!(statistics.status.code(), Some(1));
    assert_eq!(snapshot(root), before, "the project is untouched");
    assert_eq!(
        snapshot(elsewhere.path()),
        vec![],
        "nothing written elsewhere"
    );

    let written = racelint_with(
        root,
        &["check", ".", "--no-cache", "--write-baseline", "base.json"],
        &env,
    );
    assert_eq!(written.status.code(), Some(0), "{}", stderr(&written));
    let after = snapshot(root);
    let added: Vec<&PathBuf> = after
        .iter()
        .map(|(path, _)| path)
        .filter(|path| !before.iter().any(|(old, _)| old == *path))
        .collect();
    assert_eq!(added, [&root.join("base.json")]);
    let used = racelint_with(
        root,
        &["check", ".", "--no-cache", "--baseline", "base.json"],
        &env,
    );
    assert_eq!(
        used.status.code(),
        Some(1),
        "blob.py still could not be read"
    );
    assert_eq!(snapshot(root), after, "reading a baseline writes nothing");
    assert_eq!(snapshot(elsewhere.path()), vec![]);
}

#[test]
fn its_cache_is_all_a_default_run_writes() {
    let project = project();
    let root = project.path();
    std::fs::write(root.join("broken.py"), "def f(:\n").expect("write");
    std::fs::write(root.join("racelint.toml"), "select = [\"ALL\"]\n").expect("write");
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let env = [
        ("HOME", elsewhere.path()),
        ("XDG_CACHE_HOME", elsewhere.path()),
        ("TMPDIR", elsewhere.path()),
    ];
    let before = snapshot(root);
    let output = racelint_with(root, &["check", "."], &env);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let cache = root.join(".racelint_cache");
    let outside: Vec<_> = snapshot(root)
        .into_iter()
        .filter(|(path, _)| !path.starts_with(&cache))
        .collect();
    assert_eq!(outside, before, "only .racelint_cache/ is new");
    assert!(
        cache.join(".gitignore").is_file(),
        "the cache ignores itself"
    );
    assert_eq!(
        snapshot(elsewhere.path()),
        vec![],
        "nothing written elsewhere"
    );
}

#[test]
fn reports_hold_no_absolute_path_the_user_did_not_pass() {
    let dir = tempfile::tempdir().expect("temp dir");
    let top = dir.path();
    std::fs::create_dir_all(top.join("app")).expect("mkdir");
    std::fs::create_dir_all(top.join("other")).expect("mkdir");
    std::fs::write(top.join("app/racy.py"), racy_source()).expect("write");
    std::fs::write(top.join("app/blob.py"), b"\x00").expect("write");
    std::fs::write(top.join("other/racy2.py"), racy_source()).expect("write");
    std::fs::write(top.join("other/blob2.py"), b"\x00").expect("write");
    let app = top.join("app");
    let real = std::fs::canonicalize(top).expect("canonical");
    let absolute = |text: &str| {
        text.contains(&*top.to_string_lossy())
            || text.contains(&*real.to_string_lossy())
            || text.contains("file://")
    };
    for args in [
        vec!["."],
        vec!["racy.py"],
        vec!["../other"],
        vec!["../other/racy2.py", "../other/blob2.py", "racy.py"],
    ] {
        for format in ["json", "sarif"] {
            let mut all = vec!["check"];
            all.extend(&args);
            all.extend(["--select", "ALL", "--output-format", format]);
            let output = racelint_in(&app, &all);
            assert_eq!(output.status.code(), Some(1), "{args:?} {format}");
            let text = String::from_utf8_lossy(&output.stdout);
            assert!(text.len() > 500, "a real report: {text}");
            assert!(!absolute(&text), "{args:?} {format}:\n{text}");
        }
    }
    // A file outside the run's root is reached from it with `..`.
    let sarif = racelint_in(
        &app,
        &["check", "../other/blob2.py", "--output-format", "sarif"],
    );
    let sarif: Value = serde_json::from_slice(&sarif.stdout).expect("SARIF");
    let location = &sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
        ["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "../other/blob2.py");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");

    // Named by an absolute path, a file outside the folder is reported by it.
    let named = real.join("other/racy2.py");
    let named = named.to_string_lossy();
    for format in ["json", "sarif"] {
        let output = racelint_in(
            &app,
            &[
                "check",
                &named,
                "--select",
                "ALL",
                "--output-format",
                format,
            ],
        );
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(text.contains(&*named), "{format}: {text}");
    }
}
