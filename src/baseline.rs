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

pub fn load(path: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {}", path.display(), crate::discover::io_reason(&e)))?;
    let baseline: Baseline = serde_json::from_str(&text)
        .map_err(|e| format!("{}: not a racelint baseline: {e}", path.display()))?;
    if baseline.version != VERSION {
        return Err(format!(
            "{}: baseline version {} is not supported (expected {VERSION})",
            path.display(),
            baseline.version
        ));
    }
    Ok(baseline)
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
