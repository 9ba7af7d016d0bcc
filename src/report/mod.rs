//! Reporters: the only code that writes findings out.

mod concise;
pub mod fingerprint;
mod full;
mod github;
mod json;
mod json_lines;
pub mod lsp;
mod sarif;

use std::io::{self, Write};

use crate::check::CheckResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Code frames with labels, call paths and the fix (the default).
    Full,
    /// One line a finding: `path:line:col: CODE message`.
    Concise,
    /// One JSON document (schema in README).
    Json,
    /// One JSON object a finding, a line (the JSON document's finding objects).
    JsonLines,
    /// SARIF 2.1.0, for GitHub code scanning and IDEs.
    Sarif,
    /// GitHub Actions workflow commands: an annotation a finding.
    Github,
}

/// Writes the findings of a run to `out` and file errors to `err`. `exit_code` is the
/// status the run exits with (SARIF records it).
pub fn render(
    format: OutputFormat,
    result: &CheckResult,
    color: bool,
    exit_code: i32,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    match format {
        OutputFormat::Full => full::render(result, color, out, err),
        OutputFormat::Concise => concise::render(result, out, err),
        OutputFormat::Json => json::render(result, out),
        OutputFormat::JsonLines => json_lines::render(result, out, err),
        OutputFormat::Sarif => sarif::render(result, exit_code, out),
        OutputFormat::Github => github::render(result, out),
    }
}

/// "Found 3 findings (2 errors, 1 warning)." or "No findings."
fn summary(result: &CheckResult) -> String {
    use crate::rules::Severity;
    let count = |s: Severity| {
        result
            .findings
            .iter()
            .filter(|f| f.rule.meta().severity == s)
            .count()
    };
    let total = result.findings.len();
    let mut suppressed = match result.suppressed.len() {
        0 => String::new(),
        n => format!(" {n} suppressed."),
    };
    if !result.baselined.is_empty() {
        suppressed.push_str(&format!(" {} in the baseline.", result.baselined.len()));
    }
    if total == 0 {
        return format!("No findings.{suppressed}");
    }
    let fixable = |safe: bool| {
        result
            .findings
            .iter()
            .filter(|f| f.autofix.as_ref().is_some_and(|a| a.is_safe() == safe))
            .count()
    };
    let fixes = match (fixable(true), fixable(false)) {
        (0, 0) => String::new(),
        (safe, 0) => format!(" {safe} fixable with `--fix`."),
        (0, risky) => format!(" {risky} fixable with `--fix --unsafe-fixes`."),
        (safe, risky) => {
            format!(" {safe} fixable with `--fix`, {risky} more with `--unsafe-fixes`.")
        }
    };
    let parts: Vec<String> = [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Note, "note"),
    ]
    .into_iter()
    .filter_map(|(s, word)| {
        let n = count(s);
        (n > 0).then(|| format!("{n} {word}{}", if n == 1 { "" } else { "s" }))
    })
    .collect();
    format!(
        "Found {total} finding{} ({}).{fixes}{suppressed}",
        if total == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// A file's path as reports show it: `/`-separated.
fn path_text(path: &std::path::Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

fn write_errors(result: &CheckResult, err: &mut dyn Write) -> io::Result<()> {
    for error in &result.errors {
        writeln!(err, "error: {}: {}", path_text(&error.path), error.message)?;
    }
    for fixed in &result.fixed {
        writeln!(
            err,
            "note: {}: {} {} is no longer present; update the baseline",
            fixed.path, fixed.code, fixed.message
        )?;
    }
    Ok(())
}
