//! Graphical reports (miette): a code frame per finding with labels on the access and
//! on related places in the same file, then call paths and the fix.

use std::fmt;
use std::io::{self, Write};

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};

use super::{path_text, summary, write_errors};
use crate::check::CheckResult;
use crate::model::Span;
use crate::rules::{Finding, Severity};

pub fn render(
    result: &CheckResult,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> io::Result<()> {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    // Fix code is meant to be pasted: never re-wrap it.
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_wrap_lines(false)
        .with_context_lines(1);
    for finding in &result.findings {
        let diagnostic = FindingDiagnostic::new(result, finding);
        let mut text = String::new();
        handler
            .render_report(&mut text, &diagnostic)
            .map_err(|e| io::Error::other(e.to_string()))?;
        writeln!(out, "{text}")?;
    }
    write_errors(result, err)?;
    writeln!(out, "{}", summary(result))
}

struct FindingDiagnostic {
    message: String,
    code: String,
    severity: miette::Severity,
    source: NamedSource<String>,
    labels: Vec<LabeledSpan>,
    help: String,
}

impl FindingDiagnostic {
    fn new(result: &CheckResult, finding: &Finding) -> Self {
        let file = &result.files[finding.file];
        let mut labels = Vec::new();
        let mut help = Vec::new();
        let framed = framable(&file.source, finding.span);
        if framed {
            labels.push(LabeledSpan::new_primary_with_span(
                Some(finding.label.clone()),
                source_span(finding.span),
            ));
        } else {
            help.push(format!(
                "{}:{}:{}: {} (the line is too long to show)",
                path_text(&file.path),
                finding.span.start.line,
                finding.span.start.column,
                finding.label
            ));
        }
        for related in &finding.related {
            if framed && related.file == finding.file && framable(&file.source, related.span) {
                labels.push(LabeledSpan::new_with_span(
                    Some(related.message.clone()),
                    source_span(related.span),
                ));
            } else {
                help.push(format!(
                    "{}:{}:{}: {}",
                    path_text(&result.files[related.file].path),
                    related.span.start.line,
                    related.span.start.column,
                    related.message
                ));
            }
        }
        help.extend(finding.call_paths());
        if let Some(fix) = &finding.fix {
            help.push(format!("fix: {}", fix.description));
            help.push(String::new());
            help.extend(fix.code.lines().map(|l| {
                if l.is_empty() {
                    String::new()
                } else {
                    format!("    {l}")
                }
            }));
        }
        let meta = finding.rule.meta();
        FindingDiagnostic {
            message: finding.message.clone(),
            code: format!("{}({})", meta.code, meta.name),
            severity: match meta.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Note => miette::Severity::Advice,
            },
            source: NamedSource::new(path_text(&file.path), file.source.clone()),
            labels,
            help: help.join("\n"),
        }
    }
}

/// Lines longer than this get no code frame: miette pads a label to its column with a
/// format width, and Rust refuses widths past 65,535 (a panic), while a frame of a
/// minified or generated line would be unreadable anyway. Tabs count four columns.
const MAX_FRAMED_LINE: usize = 8 * 1024;

/// Whether the lines where `span` starts and ends are short enough for a code frame.
fn framable(source: &str, span: Span) -> bool {
    let bytes = source.as_bytes();
    let line_length = |at: usize| {
        let at = at.min(bytes.len());
        let start = bytes[..at]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let end = bytes[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| at + i);
        end - start
    };
    line_length(span.offset) <= MAX_FRAMED_LINE
        && line_length(span.offset + span.len) <= MAX_FRAMED_LINE
}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::from((span.offset, span.len))
}

impl fmt::Debug for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for FindingDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FindingDiagnostic {}

impl Diagnostic for FindingDiagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.help.is_empty()).then(|| Box::new(&self.help) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        (!self.labels.is_empty()).then_some(&self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty())
            .then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = LabeledSpan>>)
    }
}
