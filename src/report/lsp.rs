//! Findings as Language Server Protocol diagnostics, per file (`racelint server`).
//!
//! Positions are LSP's: 0-based lines, columns in UTF-16 code units (the protocol's
//! default encoding), computed from each file's own text. A finding's other places
//! (the other side of the race, each entry point) become related information.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, Range, TextEdit, Uri, WorkspaceEdit,
};

use crate::check::CheckResult;
use crate::model::{FileId, Pos, Span};
use crate::rules::{Autofix, Finding, Severity};
use crate::source::LineIndex;

/// Where each rule's documentation is published (also `racelint rule CODE`).
const RULE_DOCS: &str = "https://github.com/racelint/racelint/blob/main/rules";

/// Every file's diagnostics, by absolute path (relative paths are taken from `root`);
/// files with nothing to show are absent.
pub fn diagnostics(result: &CheckResult, root: &Path) -> BTreeMap<PathBuf, Vec<Diagnostic>> {
    let mut by_file: BTreeMap<PathBuf, Vec<Diagnostic>> = BTreeMap::new();
    let mut lines = Lines::default();
    for finding in &result.findings {
        let file = &result.files[finding.file];
        by_file
            .entry(absolute(root, &file.path))
            .or_default()
            .push(diagnostic(result, root, finding, &mut lines));
    }
    by_file
}

/// Each file's lines, split once however many findings point into it.
#[derive(Default)]
struct Lines<'r> {
    of: HashMap<FileId, Vec<&'r str>>,
}

impl<'r> Lines<'r> {
    fn range(&mut self, result: &'r CheckResult, file: FileId, span: Span) -> Range {
        let lines = self
            .of
            .entry(file)
            .or_insert_with(|| result.files[file].source.split('\n').collect());
        Range {
            start: position(lines, span.start),
            end: position(lines, span.end),
        }
    }
}

fn diagnostic<'r>(
    result: &'r CheckResult,
    root: &Path,
    finding: &Finding,
    lines: &mut Lines<'r>,
) -> Diagnostic {
    let meta = finding.rule.meta();
    let related: Vec<DiagnosticRelatedInformation> = finding
        .related
        .iter()
        .filter_map(|related| {
            let other = &result.files[related.file];
            Some(DiagnosticRelatedInformation {
                location: Location {
                    uri: uri(&absolute(root, &other.path))?,
                    range: lines.range(result, related.file, related.span),
                },
                message: related.message.clone(),
            })
        })
        .collect();
    let mut message = finding.message.clone();
    for path in finding.call_paths() {
        message.push_str("\n• ");
        message.push_str(&path);
    }
    Diagnostic {
        range: lines.range(result, finding.file, finding.span),
        severity: Some(match meta.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Note => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(meta.code.to_string())),
        code_description: format!("{RULE_DOCS}/{}.md", meta.code)
            .parse()
            .ok()
            .map(|href| CodeDescription { href }),
        source: Some("racelint".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: finding
            .autofix
            .as_ref()
            .and_then(|autofix| fix_data(result, root, finding, autofix, lines)),
    }
}

/// The finding's fix as the code action offering it: a title, whether it is safe (then
/// the preferred action), and the workspace edit. Carried in the diagnostic's `data`,
/// which the client hands back with its code action request.
fn fix_data<'r>(
    result: &'r CheckResult,
    root: &Path,
    finding: &Finding,
    autofix: &Autofix,
    lines: &mut Lines<'r>,
) -> Option<serde_json::Value> {
    let mut by_file: BTreeMap<FileId, Vec<TextEdit>> = BTreeMap::new();
    for edit in &autofix.edits {
        let file = &result.files[edit.file];
        let span =
            LineIndex::new(&file.source).span(&file.source, edit.offset, edit.offset + edit.len);
        by_file.entry(edit.file).or_default().push(TextEdit {
            range: lines.range(result, edit.file, span),
            new_text: edit.replacement.clone(),
        });
    }
    let mut changes = Vec::new();
    for (file, edits) in by_file {
        changes.push((uri(&absolute(root, &result.files[file].path))?, edits));
    }
    let code = finding.rule.code();
    let title = if autofix.is_safe() {
        format!("Fix {code}")
    } else {
        format!("Fix {code} (unsafe: it changes what the code does; review it)")
    };
    serde_json::to_value(FixAction {
        title,
        safe: autofix.is_safe(),
        edit: WorkspaceEdit {
            changes: Some(changes.into_iter().collect()),
            ..WorkspaceEdit::default()
        },
    })
    .ok()
}

/// What `Diagnostic::data` holds for a finding with a fix (`racelint server` reads it).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct FixAction {
    pub title: String,
    pub safe: bool,
    pub edit: WorkspaceEdit,
}

/// A path as the analysis saw it (relative to the folder it ran in), made absolute.
pub fn absolute(root: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        root.join(path)
    }
}

/// `file://` URI of an absolute path, percent-encoding what a URI path may not hold.
pub fn uri(path: &Path) -> Option<Uri> {
    let mut text = String::from("file://");
    for byte in path.to_str()?.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                text.push(byte as char)
            }
            _ => text.push_str(&format!("%{byte:02X}")),
        }
    }
    text.parse().ok()
}

/// The absolute path a `file://` URI names.
pub fn path_of(uri: &Uri) -> Option<PathBuf> {
    let encoded = uri.as_str().strip_prefix("file://")?;
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded.as_bytes();
    while let Some((&byte, tail)) = rest.split_first() {
        if byte == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(byte);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok().map(PathBuf::from)
}

/// LSP position of a 1-based line and column (in Unicode scalar values).
fn position(lines: &[&str], pos: Pos) -> Position {
    let line = lines
        .get(pos.line.saturating_sub(1) as usize)
        .copied()
        .unwrap_or_default();
    let character: usize = line
        .chars()
        .take(pos.column.saturating_sub(1) as usize)
        .map(char::len_utf16)
        .sum();
    Position {
        line: pos.line.saturating_sub(1),
        character: character as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_through_percent_encoding() {
        let path = Path::new("/tmp/a dir/caf\u{e9}#1.py");
        let uri = uri(path).expect("a valid URI");
        assert_eq!(uri.as_str(), "file:///tmp/a%20dir/caf%C3%A9%231.py");
        assert_eq!(path_of(&uri).as_deref(), Some(path));
    }
}
