//! `path:line:col: CODE message`, one line a finding.

use std::io::{self, Write};

use super::{path_text, summary, write_errors};
use crate::check::CheckResult;

pub fn render(result: &CheckResult, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
    for finding in &result.findings {
        writeln!(
            out,
            "{}:{}:{}: {} {}",
            path_text(&result.files[finding.file].path),
            finding.span.start.line,
            finding.span.start.column,
            finding.rule.code(),
            finding.message
        )?;
    }
    write_errors(result, err)?;
    writeln!(out, "{}", summary(result))
}
