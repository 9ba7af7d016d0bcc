//! Machine formats: SARIF 2.1.0 (validated against the OASIS schema for every fixture),
//! GitHub workflow commands and JSON Lines.

mod common;
use common::racelint_in;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SCHEMA: &str = "../shared/sarif/sarif-schema-2.1.0.json";
/// A fixture whose two findings are both suppressed with a reason.
const SUPPRESSED: &str = "fixtures/python/RL900/rl900_ok_used_suppressions.py";
/// A syntax error: its span runs onto the next line.
const BROKEN: &str = "fixtures/python/RL001/rl001_broken.py";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn document(dir: &Path, args: &[&str]) -> (Value, Option<i32>) {
    let output = racelint_in(dir, args);
    let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (value, output.status.code())
}

/// Every rule, opt-in ones included.
fn sarif_in(dir: &Path, target: &str) -> (Value, Option<i32>) {
    document(
        dir,
        &[
            "check",
            target,
            "--select",
            "ALL",
            "--output-format",
            "sarif",
        ],
    )
}

fn run(document: &Value) -> &Value {
    &document["runs"][0]
}

fn results(document: &Value) -> &Vec<Value> {
    run(document)["results"].as_array().expect("results")
}

/// The SARIF schema, or a visible note that it is missing (stderr written directly, so
/// the test harness does not swallow it).
fn validator() -> Option<jsonschema::Validator> {
    let path = manifest_dir().join(SCHEMA);
    let Ok(text) = std::fs::read_to_string(&path) else {
        let _ = writeln!(
            std::io::stderr(),
            "skipping: schema not found at {}",
            path.display()
        );
        return None;
    };
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    // Draft 4 knows no `uri-reference` format (used by `artifactLocation.uri`): check it
    // as RFC 3986 does, so a malformed URI fails here as it would on GitHub.
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .with_format("uri-reference", is_uri_reference)
        .build(&schema)
        .expect("the schema compiles");
    Some(validator)
}

/// RFC 3986 URI-reference characters, well-formed percent escapes, and no `:` in the
/// first segment of a relative reference.
fn is_uri_reference(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=".contains(&b);
        if !allowed {
            return false;
        }
        i += 1;
    }
    let path = text.split(['?', '#']).next().unwrap_or("");
    let scheme = path.split_once(':').is_some_and(|(s, _)| {
        !s.is_empty()
            && s.as_bytes()[0].is_ascii_alphabetic()
            && s.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
            && !s.contains('/')
    });
    scheme || !path.split('/').next().unwrap_or("").contains(':')
}

fn schema_errors(validator: &jsonschema::Validator, document: &Value) -> Vec<String> {
    validator
        .iter_errors(document)
        .take(20)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

/// What every racelint SARIF log must hold, beyond the schema.
fn check_conventions(target: &str, document: &Value, status: Option<i32>) {
    let rules = racelint::rules::all();
    assert_eq!(
        document["$schema"],
        "https://json.schemastore.org/sarif-2.1.0.json"
    );
    assert_eq!(document["version"], "2.1.0");
    assert_eq!(
        document["runs"].as_array().map(Vec::len),
        Some(1),
        "{target}"
    );
    let run = run(document);
    assert_eq!(run["columnKind"], "utf16CodeUnits", "{target}");
    // Described, never resolved to an absolute path: the log is the same wherever the
    // repository is checked out.
    let root = &run["originalUriBaseIds"]["%SRCROOT%"];
    assert!(root["description"]["text"].is_string(), "{root}");
    assert!(root.get("uri").is_none(), "{root}");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "racelint");
    assert_eq!(driver["semanticVersion"], env!("CARGO_PKG_VERSION"));
    let descriptors = driver["rules"].as_array().expect("rules");
    assert_eq!(descriptors.len(), rules.len(), "every rule, fired or not");
    for (descriptor, rule) in descriptors.iter().zip(rules) {
        assert_eq!(descriptor["id"], rule.code());
        let full = descriptor["fullDescription"]["text"].as_str().unwrap_or("");
        assert!(!full.is_empty() && full.chars().count() <= 1024, "{full}");
        assert_eq!(descriptor["help"]["markdown"], rule.body());
        assert!(descriptor["properties"]["tags"].is_array());
        assert!(descriptor.get("security-severity").is_none());
    }
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], true);
    assert_eq!(
        invocation["exitCode"].as_i64(),
        status.map(i64::from),
        "{target}"
    );
    for result in results(document) {
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(descriptors[index]["id"], result["ruleId"], "{target}");
        assert_eq!(
            result["level"],
            descriptors[index]["defaultConfiguration"]["level"]
        );
        let locations = result["locations"].as_array().expect("locations");
        assert_eq!(locations.len(), 1, "{target}: locations[0] only");
        let artifact = &locations[0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%", "{target}");
        let uri = artifact["uri"].as_str().unwrap_or("");
        assert!(
            !uri.contains(':') && !uri.starts_with('/') && !uri.contains(' '),
            "{target}: {uri}"
        );
        let fingerprints = &result["partialFingerprints"];
        assert!(
            fingerprints["racelintFingerprint/v1"].is_string(),
            "{target}"
        );
        assert!(fingerprints.get("primaryLocationLineHash").is_none());
        // Every `[text](id)` link names a related location.
        let ids: Vec<u64> = result["relatedLocations"]
            .as_array()
            .map(|r| r.iter().filter_map(|l| l["id"].as_u64()).collect())
            .unwrap_or_default();
        let text = result["message"]["text"].as_str().unwrap_or("");
        for link in text.split("](").skip(1) {
            let id: u64 = link
                .split(')')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("{target}: a link without an id in {text}"));
            assert!(ids.contains(&id), "{target}: [..]({id}) in {text}");
        }
        for flow in result["codeFlows"].as_array().into_iter().flatten() {
            for thread in flow["threadFlows"].as_array().expect("threadFlows") {
                assert!(!thread["locations"]
                    .as_array()
                    .expect("locations")
                    .is_empty());
            }
        }
    }
}

/// Each `fixtures/<language>/<folder>/` (every result of its files, in one document
/// per folder: one run per file would analyse the whole repository hundreds of times),
/// and the whole fixtures tree.
fn fixture_targets() -> Vec<String> {
    let mut targets = Vec::new();
    for language in ["python", "rust"] {
        let base = manifest_dir().join("fixtures").join(language);
        let mut folders: Vec<PathBuf> = std::fs::read_dir(&base)
            .expect("fixtures/<language>")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        folders.sort();
        for folder in folders {
            let relative = folder
                .strip_prefix(manifest_dir())
                .expect("inside the crate");
            targets.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
    targets.push("fixtures".to_string());
    targets
}

#[test]
fn every_fixture_is_valid_sarif() {
    let Some(validator) = validator() else {
        return;
    };
    let targets = fixture_targets();
    assert!(targets.len() > 20, "{} fixture folders", targets.len());
    let threads = std::thread::available_parallelism().map_or(4, |n| n.get());
    let chunk = targets.len().div_ceil(threads);
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = targets
            .chunks(chunk)
            .map(|part| {
                let validator = &validator;
                scope.spawn(move || {
                    let mut failures = Vec::new();
                    for target in part {
                        let (document, status) = sarif_in(manifest_dir(), target);
                        for error in schema_errors(validator, &document) {
                            failures.push(format!("{target}: {error}"));
                        }
                        check_conventions(target, &document, status);
                    }
                    failures
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_validator_rejects_what_github_rejects() {
    let Some(validator) = validator() else {
        return;
    };
    let (mut document, _) = sarif_in(manifest_dir(), BROKEN);
    assert!(schema_errors(&validator, &document).is_empty());
    const URI: &str = "/runs/0/results/0/locations/0/physicalLocation/artifactLocation/uri";
    *document.pointer_mut(URI).expect("a uri") = Value::from("a b.py");
    assert!(
        !schema_errors(&validator, &document).is_empty(),
        "a space in a URI"
    );
    *document.pointer_mut(URI).expect("a uri") = Value::from("a%20b.py");
    assert!(schema_errors(&validator, &document).is_empty());
    document["runs"][0]["results"][0]["extra"] = Value::from(1);
    assert!(
        !schema_errors(&validator, &document).is_empty(),
        "an extra property"
    );
}

/// A project outside any repository (a `git init`ed temp folder, or no git at all):
/// the root is the current directory.
fn unicode_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let _ = Command::new("git")
        .args(["init", "-q"])
        .current_dir(dir.path())
        .output();
    std::fs::create_dir(dir.path().join("src dir")).expect("mkdir");
    std::fs::write(dir.path().join("src dir/café%.py"), UNICODE_SOURCE).expect("write");
    dir
}

const UNICODE_SOURCE: &str = r#"import asyncio

CACHE = {}


def refresh():
    note = "é🦀"; CACHE["k"] = note  # the write follows non-ASCII text


async def main():
    await asyncio.to_thread(refresh)
    return CACHE.get("k")
"#;

#[test]
fn columns_are_utf16_and_uris_relative_and_percent_encoded() {
    let dir = unicode_project();
    let (sarif, _) = sarif_in(dir.path(), ".");
    let (json, _) = document(
        dir.path(),
        &["check", ".", "--select", "ALL", "--output-format", "json"],
    );
    if let Some(validator) = validator() {
        let errors = schema_errors(&validator, &sarif);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    let result = results(&sarif)
        .iter()
        .find(|r| r["ruleId"] == "RL101")
        .expect("an RL101 result");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "src%20dir/caf%C3%A9%25.py"
    );
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    // `CACHE["k"]` on line 7: `é` is one UTF-16 unit, `🦀` two.
    let line = UNICODE_SOURCE.lines().nth(6).expect("line 7");
    let start = line.find(r#"CACHE["k"] ="#).expect("the write");
    let utf16 = |s: &str| s.encode_utf16().count() as u64;
    let region = &location["region"];
    assert_eq!(region["startLine"], 7);
    assert_eq!(
        region["startColumn"].as_u64(),
        Some(utf16(&line[..start]) + 1)
    );
    let finding = &json["findings"][0];
    assert_eq!(finding["line"], 7);
    // JSON counts characters: the crab makes the difference of one.
    assert_eq!(
        region["startColumn"].as_u64(),
        finding["column"].as_u64().map(|c| c + 1)
    );
    assert_eq!(
        region["endColumn"].as_u64(),
        finding["end_column"].as_u64().map(|c| c + 1)
    );
    assert!(!serde_json::to_string(&sarif)
        .unwrap_or_default()
        .contains("file://"));
    // The thread flows start at the offload and end at an access.
    let threads = result["codeFlows"][0]["threadFlows"]
        .as_array()
        .expect("thread flows");
    assert_eq!(threads.len(), 2, "one a side");
    let worker = &threads[0]["locations"];
    let lines: Vec<u64> = worker
        .as_array()
        .expect("locations")
        .iter()
        .filter_map(|l| l["location"]["physicalLocation"]["region"]["startLine"].as_u64())
        .collect();
    assert_eq!(lines, [10, 11, 6, 7], "caller, offload, function, access");
}

#[test]
fn fingerprints_survive_a_line_inserted_above() {
    let dir = unicode_project();
    let before = sarif_in(dir.path(), ".").0;
    std::fs::write(
        dir.path().join("src dir/café%.py"),
        format!("\n{UNICODE_SOURCE}"),
    )
    .expect("write");
    let after = sarif_in(dir.path(), ".").0;
    let key = |document: &Value| -> Vec<(String, u64)> {
        results(document)
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"]["racelintFingerprint/v1"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap_or(0),
                )
            })
            .collect()
    };
    let (before, after) = (key(&before), key(&after));
    assert!(!before.is_empty());
    assert_eq!(before.len(), after.len());
    for ((print_before, line_before), (print_after, line_after)) in before.iter().zip(&after) {
        assert_eq!(print_before, print_after);
        assert_eq!(line_before + 1, *line_after);
    }
}

#[test]
fn suppressed_findings_are_results_with_a_suppression() {
    let (sarif, status) = sarif_in(manifest_dir(), SUPPRESSED);
    let (json, _) = document(
        manifest_dir(),
        &[
            "check",
            SUPPRESSED,
            "--select",
            "ALL",
            "--output-format",
            "json",
        ],
    );
    let reasons: Vec<&str> = json["suppressed"]
        .as_array()
        .expect("suppressed")
        .iter()
        .map(|s| s["reason"].as_str().unwrap_or(""))
        .collect();
    assert!(!reasons.is_empty(), "the fixture suppresses something");
    let suppressed: Vec<&Value> = results(&sarif)
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), reasons.len());
    for (result, reason) in suppressed.iter().zip(&reasons) {
        let suppression = &result["suppressions"][0];
        assert_eq!(suppression["kind"], "inSource");
        assert_eq!(
            suppression["justification"].as_str().unwrap_or(""),
            reason.trim()
        );
    }
    check_conventions(SUPPRESSED, &sarif, status);
}

#[test]
fn exit_code_is_recorded_and_file_errors_are_notifications() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("blob.py"), b"x = 1\0\n").expect("write");
    let (sarif, status) = document(
        dir.path(),
        &["check", ".", "--output-format", "sarif", "--exit-zero"],
    );
    assert_eq!(status, Some(0));
    let invocation = &run(&sarif)["invocations"][0];
    assert_eq!(invocation["exitCode"], 0);
    let notification = &invocation["toolExecutionNotifications"][0];
    assert_eq!(notification["level"], "error");
    assert!(notification["message"]["text"]
        .as_str()
        .unwrap_or("")
        .contains("blob.py"));
    if let Some(validator) = validator() {
        assert!(schema_errors(&validator, &sarif).is_empty());
    }
}

#[test]
fn github_annotations_escape_and_give_columns_only_on_one_line() {
    let dir = unicode_project();
    let output = racelint_in(
        dir.path(),
        &["check", ".", "--select", "ALL", "--output-format", "github"],
    );
    assert_eq!(output.status.code(), Some(1));
    let text = String::from_utf8_lossy(&output.stdout);
    // `,` and `:` are escaped in properties, `%` everywhere.
    assert_eq!(
        text.lines().next().unwrap_or(""),
        "::error file=src dir/café%25.py,line=7,endLine=7,col=18,endColumn=28,title=RL101::\
         `café%25.CACHE` is mutated in place on a worker thread and read on the event loop, \
         with no thread lock held by both"
    );
    std::fs::write(dir.path().join("a,b:c.py"), "def f(:\n    pass\n").expect("write");
    let output = racelint_in(
        dir.path(),
        &["check", "a,b:c.py", "--output-format", "github"],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.starts_with("::error file=a%2Cb%3Ac.py,line="),
        "{text}"
    );

    // A span across lines has no columns; a one-line span has both.
    let output = racelint_in(
        manifest_dir(),
        &[
            "check",
            BROKEN,
            "--select",
            "ALL",
            "--output-format",
            "github",
        ],
    );
    let (json, _) = document(
        manifest_dir(),
        &[
            "check",
            BROKEN,
            "--select",
            "ALL",
            "--output-format",
            "json",
        ],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let findings = json["findings"].as_array().expect("findings");
    assert_eq!(lines.len(), findings.len());
    let mut multi_line = 0;
    for (line, finding) in lines.iter().zip(findings) {
        let command = match finding["severity"].as_str() {
            Some("error") => "error",
            Some("warning") => "warning",
            _ => "notice",
        };
        let mut expected = format!(
            "::{command} file={},line={},endLine={}",
            finding["path"].as_str().unwrap_or(""),
            finding["line"],
            finding["end_line"]
        );
        if finding["line"] == finding["end_line"] {
            expected.push_str(&format!(
                ",col={},endColumn={}",
                finding["column"], finding["end_column"]
            ));
        } else {
            multi_line += 1;
        }
        expected.push_str(&format!(
            ",title={}::{}",
            finding["code"].as_str().unwrap_or(""),
            finding["message"]
                .as_str()
                .unwrap_or("")
                .replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        ));
        assert_eq!(*line, expected);
    }
    assert!(multi_line > 0, "the syntax error spans two lines");
}

#[test]
fn github_severities_map_to_commands() {
    let output = racelint_in(
        manifest_dir(),
        &[
            "check",
            "fixtures/python",
            "--select",
            "ALL",
            "--output-format",
            "github",
        ],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.lines().all(|l| l.starts_with("::error ")
        || l.starts_with("::warning ")
        || l.starts_with("::notice ")));
    for command in ["::error ", "::warning ", "::notice "] {
        assert!(text.contains(command), "{command}");
    }
}

#[test]
fn json_lines_are_the_json_findings() {
    let output = racelint_in(
        manifest_dir(),
        &[
            "check",
            "fixtures/python",
            "--select",
            "ALL",
            "--output-format",
            "json-lines",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let (json, _) = document(
        manifest_dir(),
        &[
            "check",
            "fixtures/python",
            "--select",
            "ALL",
            "--output-format",
            "json",
        ],
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let findings = json["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    assert_eq!(&lines, findings);
}

#[test]
fn with_a_baseline_results_say_new_or_unchanged() {
    let dir = unicode_project();
    let file = dir.path().join("src dir/café%.py");
    let write = racelint_in(
        dir.path(),
        &[
            "check",
            ".",
            "--select",
            "ALL",
            "--write-baseline",
            "baseline.json",
        ],
    );
    assert_eq!(write.status.code(), Some(0), "{write:?}");
    // A second race, in a new function.
    let added = format!(
        "{UNICODE_SOURCE}\n\nTOTALS = {{}}\n\n\ndef tally():\n    TOTALS[\"n\"] = 1\n\n\n\
         async def show():\n    await asyncio.to_thread(tally)\n    return TOTALS.get(\"n\")\n"
    );
    std::fs::write(&file, added).expect("write");
    let args = [
        "check",
        ".",
        "--select",
        "ALL",
        "--baseline",
        "baseline.json",
        "--output-format",
        "sarif",
    ];
    let (sarif, status) = document(dir.path(), &args);
    assert_eq!(status, Some(1), "the new race fails the run");
    let states: Vec<&str> = results(&sarif)
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap_or("(none)"))
        .collect();
    assert!(states.contains(&"new"), "{states:?}");
    assert!(states.contains(&"unchanged"), "{states:?}");
    assert!(
        states.iter().all(|s| *s == "new" || *s == "unchanged"),
        "{states:?}"
    );
    if let Some(validator) = validator() {
        let errors = schema_errors(&validator, &sarif);
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }
    // Every race fixed: the baseline's entries are reported as gone.
    std::fs::write(&file, "import asyncio\n").expect("write");
    let (sarif, status) = document(dir.path(), &args);
    assert_eq!(status, Some(0));
    assert!(results(&sarif).is_empty());
    let notes = run(&sarif)["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(!notes.is_empty());
    for note in notes {
        assert_eq!(note["level"], "note");
        assert!(note["message"]["text"]
            .as_str()
            .unwrap_or("")
            .contains("no longer present"));
    }
    if let Some(validator) = validator() {
        assert!(schema_errors(&validator, &sarif).is_empty());
    }
}
