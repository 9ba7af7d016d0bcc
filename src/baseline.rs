//! Baselines: adopt racelint on legacy code by recording today's findings, then report
//! only new ones. Findings are matched by fingerprint (rule, state, functions, anchored
//! text; never line numbers), so edits above a finding do not resurrect it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::check::CheckResult;
use crate::report::fingerprint::fingerprint;

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub fingerprint: String,
    pub code: String,
    pub path: String,
    pub state: Option<String>,
    pub message: String,
}

/// Records every current finding.
pub fn write(path: &Path, result: &CheckResult) -> Result<(), String> {
    let baseline = Baseline {
        version: VERSION,
        findings: result
            .findings
            .iter()
            .map(|f| Entry {
                fingerprint: fingerprint(result, f),
                code: f.rule.code().to_string(),
                path: result.files[f.file]
                    .path
                    .to_string_lossy()
                    .replace('\\', "/"),
                state: f.state.clone(),
                message: f.message.clone(),
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&baseline).map_err(|e| e.to_string())?;
    std::fs::write(path, text + "\n").map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// Reads a baseline. Anything but a baseline this version of racelint wrote is a usage
/// error naming the file: a file that is not JSON, JSON that is not a baseline, and a
/// baseline from a newer racelint (its version is read first, so fields a later version
/// adds do not hide the real reason).
pub fn load(path: &Path) -> Result<Baseline, String> {
    let file = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| format!("{file}: {}", crate::discover::io_reason(&e)))?;
    let rewrite = "write a new one with --write-baseline";
    let value: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{file}: not a racelint baseline: not JSON ({e}); {rewrite}"))?;
    match value.get("version").and_then(serde_json::Value::as_u64) {
        Some(version) if version > u64::from(VERSION) => {
            return Err(format!(
                "{file}: baseline version {version} was written by a newer racelint; this one \
                 reads version {VERSION} (upgrade racelint, or {rewrite})"
            ))
        }
        Some(version) if version != u64::from(VERSION) => {
            return Err(format!(
                "{file}: baseline version {version} is not supported (expected {VERSION}); \
                 {rewrite}"
            ))
        }
        Some(_) => {}
        None => {
            return Err(format!(
                "{file}: not a racelint baseline: no `version` number; {rewrite}"
            ))
        }
    }
    serde_json::from_value(value)
        .map_err(|e| format!("{file}: not a racelint baseline: {e}; {rewrite}"))
}

/// Moves findings the baseline knows into `result.baselined`, and returns the entries
/// that no longer occur (fixed: the baseline should be updated).
pub fn apply(result: &mut CheckResult, baseline: &Baseline) -> Vec<Entry> {
    let current: Vec<String> = result
        .findings
        .iter()
        .map(|f| fingerprint(result, f))
        .collect();
    let known: std::collections::HashSet<&str> = baseline
        .findings
        .iter()
        .map(|e| e.fingerprint.as_str())
        .collect();
    let findings = std::mem::take(&mut result.findings);
    for (finding, print) in findings.into_iter().zip(&current) {
        if known.contains(print.as_str()) {
            result.baselined.push(finding);
        } else {
            result.findings.push(finding);
        }
    }
    baseline
        .findings
        .iter()
        .filter(|e| !current.contains(&e.fingerprint))
        .cloned()
        .collect()
}
