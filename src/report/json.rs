//! The JSON document. Its schema is documented in README and only ever grows.

use std::io::{self, Write};

use serde::Serialize;

use super::path_text;
use crate::check::CheckResult;
use crate::rules::Finding;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    /// Findings silenced by a suppression comment, with its reason.
    suppressed: Vec<JsonSuppressed<'a>>,
    /// Findings the `--baseline` already knows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    baselined: Vec<JsonFinding<'a>>,
    /// Baseline entries no longer found: fixed; update the baseline.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixed: Vec<&'a crate::baseline::Entry>,
    errors: Vec<JsonError>,
}

#[derive(Serialize)]
struct JsonSuppressed<'a> {
    #[serde(flatten)]
    finding: JsonFinding<'a>,
    reason: &'a str,
}

#[derive(Serialize)]
pub(super) struct JsonFinding<'a> {
    code: &'a str,
    name: &'a str,
    severity: &'a str,
    path: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: &'a str,
    state: Option<&'a str>,
    contexts: Vec<&'static str>,
    related: Vec<JsonRelated<'a>>,
    call_paths: Vec<String>,
    fix: Option<JsonFix<'a>>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: String,
    line: u32,
    column: u32,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonFix<'a> {
    description: &'a str,
    code: &'a str,
    /// `safe` (`--fix` applies it) or `unsafe` (`--fix --unsafe-fixes`), when racelint
    /// can apply the fix itself; then `edits` are what it changes.
    applicability: Option<&'static str>,
    edits: Option<Vec<JsonEdit>>,
}

/// Replace the text from (`line`, `column`) to (`end_line`, `end_column`) with `content`.
#[derive(Serialize)]
struct JsonEdit {
    path: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    content: String,
}

#[derive(Serialize)]
struct JsonError {
    path: String,
    message: String,
}

pub fn render(result: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
    let document = Document {
        version: SCHEMA_VERSION,
        findings: result.findings.iter().map(|f| finding(result, f)).collect(),
        suppressed: result
            .suppressed
            .iter()
            .map(|(f, reason)| JsonSuppressed {
                finding: finding(result, f),
                reason,
            })
            .collect(),
        baselined: result
            .baselined
            .iter()
            .map(|f| finding(result, f))
            .collect(),
        fixed: result.fixed.iter().collect(),
        errors: result
            .errors
            .iter()
            .map(|e| JsonError {
                path: path_text(&e.path),
                message: e.message.clone(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &document)?;
    writeln!(out)
}

pub(super) fn finding<'a>(result: &CheckResult, f: &'a Finding) -> JsonFinding<'a> {
    let meta = f.rule.meta();
    JsonFinding {
        code: &meta.code,
        name: &meta.name,
        severity: meta.severity.as_str(),
        path: path_text(&result.files[f.file].path),
        line: f.span.start.line,
        column: f.span.start.column,
        end_line: f.span.end.line,
        end_column: f.span.end.column,
        message: &f.message,
        state: f.state.as_deref(),
        contexts: f.contexts.iter().map(|c| c.id()).collect(),
        related: f
            .related
            .iter()
            .map(|r| JsonRelated {
                path: path_text(&result.files[r.file].path),
                line: r.span.start.line,
                column: r.span.start.column,
                message: &r.message,
            })
            .collect(),
        call_paths: f.call_paths(),
        fix: f.fix.as_ref().map(|fix| JsonFix {
            description: &fix.description,
            code: &fix.code,
            applicability: f
                .autofix
                .as_ref()
                .map(|a| if a.is_safe() { "safe" } else { "unsafe" }),
            edits: f.autofix.as_ref().map(|autofix| {
                autofix
                    .edits
                    .iter()
                    .map(|edit| {
                        let file = &result.files[edit.file];
                        let span = crate::source::LineIndex::new(&file.source).span(
                            &file.source,
                            edit.offset,
                            edit.offset + edit.len,
                        );
                        JsonEdit {
                            path: path_text(&file.path),
                            line: span.start.line,
                            column: span.start.column,
                            end_line: span.end.line,
                            end_column: span.end.column,
                            content: edit.replacement.clone(),
                        }
                    })
                    .collect()
            }),
        }),
    }
}
