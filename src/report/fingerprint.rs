//! A finding's stable identity: the same race keeps the same fingerprint when lines are
//! added above it, so baselines and SARIF consumers do not see it as new.

use crate::check::CheckResult;
use crate::rules::Finding;

/// Rule, file, state, the call paths with their line numbers removed, and the text of
/// the anchored line: never a line number. Hex of a 64-bit FNV-1a hash.
pub fn fingerprint(result: &CheckResult, finding: &Finding) -> String {
    let file = &result.files[finding.file];
    let anchor_text = file
        .source
        .lines()
        .nth(finding.span.start.line.saturating_sub(1) as usize)
        .unwrap_or("")
        .trim();
    let mut parts = vec![
        finding.rule.code().to_string(),
        file.path.to_string_lossy().replace('\\', "/"),
        finding.state.clone().unwrap_or_default(),
        anchor_text.to_string(),
    ];
    parts.extend(finding.call_paths().iter().map(|p| without_line_numbers(p)));
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.join("\u{1f}").bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// `… (app/jobs.py:36) …` → `… (app/jobs.py) …`.
fn without_line_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_numbers_are_dropped_from_paths() {
        assert_eq!(
            super::without_line_numbers("`f` → `to_thread(g)` (app/jobs.py:36) → `g`"),
            "`f` → `to_thread(g)` (app/jobs.py) → `g`"
        );
    }
}
