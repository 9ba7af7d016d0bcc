//! JSON Lines (`--output-format json-lines`): one finding a line, each object exactly as
//! a finding of the JSON report (README, "JSON output"). Files that could not be read go
//! to stderr, as in the concise format, so stdout holds nothing but findings.

use std::io::{self, Write};

use super::json::finding;
use super::write_errors;
use crate::check::CheckResult;

pub fn render(result: &CheckResult, out: &mut dyn Write, err: &mut dyn Write) -> io::Result<()> {
    for f in &result.findings {
        serde_json::to_writer(&mut *out, &finding(result, f))?;
        writeln!(out)?;
    }
    write_errors(result, err)
}
