//! Runs the whole pipeline on one case — discovery, decoding, parsing, lowering, analysis,
//! every rule, every reporter — and judges it: a panic anywhere, a case over its time
//! limit, or a JSON/SARIF document that is not what the schema and our conventions say,
//! is a failure. A case runs on a thread of its own with a roomy stack (as racelint's
//! workers have), so that a hang can be abandoned and the fuzzer go on.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

use crate::cpu;
use racelint::check::{check, Options};
use racelint::report::{render, OutputFormat};
use racelint::rules::Rule;
use serde_json::Value;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Panic,
    Hang,
    InvalidOutput,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Panic => "panic",
            Kind::Hang => "hang",
            Kind::InvalidOutput => "invalid-output",
        }
    }
}

#[derive(Debug)]
pub struct Failure {
    pub kind: Kind,
    pub detail: String,
}

/// The first panic message since the last case began (the default hook would print it;
/// racelint's file workers catch the panic, so the message is only known here).
static PANIC: Mutex<Option<String>> = Mutex::new(None);

pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut slot) = PANIC.lock() {
            slot.get_or_insert_with(|| info.to_string());
        }
    }));
}

fn take_panic() -> String {
    PANIC
        .lock()
        .ok()
        .and_then(|mut slot| slot.take())
        .unwrap_or_else(|| "a panic (no message)".to_string())
}

/// Same stack as racelint's file workers: the parsers recurse on deep expressions.
const STACK: usize = 256 * 1024 * 1024;

/// Runs one case: `files` are written into a fresh folder under `work`, then checked.
/// On success, returns a signature of what the run found (the set of finding codes and
/// error kinds), which the driver uses to keep inputs that reach new behaviour.
pub fn run_case(
    work: &Path,
    case: usize,
    files: &[(String, Vec<u8>)],
    limit: Duration,
) -> Result<u64, Failure> {
    let dir = work.join(format!("case{}", case % 4));
    let _ = std::fs::remove_dir_all(&dir);
    let written = std::fs::create_dir_all(&dir).and_then(|()| {
        files
            .iter()
            .try_for_each(|(name, bytes)| std::fs::write(dir.join(name), bytes))
    });
    // Where a supervisor finds the case if this process dies on it.
    let written = written
        .and_then(|()| std::fs::write(work.join("current"), dir.as_os_str().as_encoded_bytes()));
    if let Err(e) = written {
        // The fuzzer's own trouble (disk full), not racelint's: stop loudly.
        eprintln!("fuzz: cannot write the case under {}: {e}", work.display());
        std::process::exit(2);
    }
    if let Ok(mut slot) = PANIC.lock() {
        *slot = None;
    }
    let relative = PathBuf::from(dir.file_name().unwrap_or_default());
    let (sender, receiver) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| pipeline(&relative));
            let _ = sender.send(outcome);
        });
    if let Err(e) = spawned {
        eprintln!("fuzz: cannot start a thread: {e}");
        std::process::exit(2);
    }
    // The limit is CPU time (one case runs at a time): on a loaded machine a slow wall
    // clock is no hang.
    let started = cpu::seconds();
    loop {
        match receiver.recv_timeout(Duration::from_millis(200)) {
            Ok(Ok(outcome)) => return outcome,
            Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Failure {
                    kind: Kind::Panic,
                    detail: take_panic(),
                })
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if cpu::seconds() - started > limit.as_secs_f64() {
                    return Err(Failure {
                        kind: Kind::Hang,
                        detail: format!("the case ran past {} CPU s", limit.as_secs()),
                    });
                }
            }
        }
    }
}

fn pipeline(dir: &Path) -> Result<u64, Failure> {
    let every = |_: &Rule| true;
    let mut options = Options::new(&every);
    // The per-file budget is wall time; `run_case` watches CPU time instead.
    options.file_timeout = Duration::from_secs(24 * 3600);
    let result = check(&[dir.to_path_buf()], options).map_err(|e| Failure {
        kind: Kind::InvalidOutput,
        detail: format!("the run failed: {e}"),
    })?;
    for error in &result.errors {
        if error.message.contains("internal error") {
            return Err(Failure {
                kind: Kind::Panic,
                detail: take_panic(),
            });
        }
    }
    let mut outputs = Vec::new();
    for format in [
        OutputFormat::Full,
        OutputFormat::Concise,
        OutputFormat::Json,
        OutputFormat::JsonLines,
        OutputFormat::Sarif,
        OutputFormat::Github,
    ] {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        render(format, &result, false, 1, &mut out, &mut err).map_err(|e| Failure {
            kind: Kind::InvalidOutput,
            detail: format!("{format:?} could not be written: {e}"),
        })?;
        outputs.push((format, out));
    }
    for (format, out) in &outputs {
        let invalid = |detail: String| Failure {
            kind: Kind::InvalidOutput,
            detail: format!("{format:?}: {detail}"),
        };
        match format {
            OutputFormat::Json => check_json(&parse(out).map_err(invalid)?).map_err(invalid)?,
            OutputFormat::JsonLines => {
                for line in out.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    parse(line).map_err(invalid)?;
                }
            }
            OutputFormat::Sarif => check_sarif(&parse(out).map_err(invalid)?).map_err(invalid)?,
            _ => {}
        }
    }
    let mut seen = BTreeSet::new();
    for finding in &result.findings {
        seen.insert(finding.rule.code().to_string());
    }
    for error in &result.errors {
        // The kind of error, not where: line numbers would make every input look new.
        let kind: String = error
            .message
            .chars()
            .filter(|c| c.is_alphabetic())
            .collect();
        seen.insert(kind);
    }
    let mut hasher = DefaultHasher::new();
    seen.hash(&mut hasher);
    Ok(hasher.finish())
}

fn parse(bytes: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))
}

/// Paths stay relative to what the user named (a relative folder here).
fn check_json(document: &Value) -> Result<(), String> {
    for list in ["findings", "errors"] {
        let items = document[list]
            .as_array()
            .ok_or(format!("no `{list}` array"))?;
        for item in items {
            let path = item["path"].as_str().ok_or("an item without a path")?;
            if Path::new(path).is_absolute() {
                return Err(format!("an absolute path: {path}"));
            }
        }
    }
    Ok(())
}

/// The SARIF 2.1.0 schema when it is at hand (../shared/sarif), and always the shape
/// GitHub code scanning needs: a rule id, a relative URI, 1-based lines and columns.
fn check_sarif(document: &Value) -> Result<(), String> {
    if let Some(validator) = schema() {
        if let Some(error) = validator.iter_errors(document).next() {
            return Err(format!("schema: {}: {error}", error.instance_path()));
        }
    }
    if document["version"] != "2.1.0" {
        return Err("version is not 2.1.0".to_string());
    }
    let results = document["runs"][0]["results"]
        .as_array()
        .ok_or("no results array")?;
    for result in results {
        result["ruleId"].as_str().ok_or("a result without ruleId")?;
        let location = &result["locations"][0]["physicalLocation"];
        let uri = location["artifactLocation"]["uri"]
            .as_str()
            .ok_or("a result without a URI")?;
        if uri.is_empty() || uri.starts_with('/') || uri.contains(' ') {
            return Err(format!("a bad URI: {uri:?}"));
        }
        let region = &location["region"];
        let number = |key: &str| region[key].as_u64();
        let start = number("startLine").ok_or("a region without startLine")?;
        if start == 0 || number("startColumn") == Some(0) {
            return Err(format!("a 0 line or column: {region}"));
        }
        if number("endLine").is_some_and(|end| end < start) {
            return Err(format!("a region that ends before it starts: {region}"));
        }
    }
    Ok(())
}

fn schema() -> Option<&'static jsonschema::Validator> {
    static VALIDATOR: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../shared/sarif/sarif-schema-2.1.0.json");
            let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft4)
                .build(&schema)
                .ok()
        })
        .as_ref()
}
