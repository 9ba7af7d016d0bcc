//! GitHub Actions workflow commands (`--output-format github`): one annotation a
//! finding, `::error file=…,line=…,endLine=…,col=…,endColumn=…,title=RL101::message`.
//!
//! `warning` and `notice` stand for the warning and note severities. Columns (Unicode
//! characters, `endColumn` exclusive) are given only for one-line spans, as the runner
//! ignores them otherwise. Values are escaped as the Actions toolkit escapes them.

use std::io::{self, Write};

use super::path_text;
use crate::check::CheckResult;
use crate::rules::Severity;

pub fn render(result: &CheckResult, out: &mut dyn Write) -> io::Result<()> {
    for finding in &result.findings {
        let command = match finding.rule.meta().severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let span = &finding.span;
        let mut properties = vec![
            ("file", path_text(&result.files[finding.file].path)),
            ("line", span.start.line.to_string()),
            ("endLine", span.end.line.to_string()),
        ];
        if span.start.line == span.end.line {
            properties.push(("col", span.start.column.to_string()));
            properties.push(("endColumn", span.end.column.to_string()));
        }
        properties.push(("title", finding.rule.code().to_string()));
        writeln!(
            out,
            "::{command} {}::{}",
            join(&properties),
            escape_data(&finding.message)
        )?;
    }
    // Files that could not be read fail the run too: say which.
    for error in &result.errors {
        writeln!(
            out,
            "::error {}::{}",
            join(&[
                ("file", path_text(&error.path)),
                ("title", "racelint".to_string())
            ]),
            escape_data(&error.message)
        )?;
    }
    Ok(())
}

fn join(properties: &[(&str, String)]) -> String {
    properties
        .iter()
        .map(|(key, value)| format!("{key}={}", escape_property(value)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The toolkit's `escapeData`.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// The toolkit's `escapeProperty`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_toolkit() {
        assert_eq!(escape_data("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("50% a:b,c\r\nd"), "50%25 a%3Ab%2Cc%0D%0Ad");
    }
}
