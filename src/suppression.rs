//! In-source suppressions: `# racelint: ignore[RL101] reason` on a finding's line or
//! alone on the line above, `# racelint: ignore-file[RL107] reason` for a whole file,
//! and `# noqa: RL101` as Ruff users write it. Front-ends hand comment text here, so
//! Python and Rust comments mean the same thing.

use crate::model::{Span, Suppression};

/// Parses one comment's text (without its `#` or `//`). `None` when it suppresses
/// nothing of racelint's.
pub fn parse(comment: &str, span: Span, own_line: bool) -> Option<Suppression> {
    let text = comment.trim();
    if let Some(rest) = text.strip_prefix("racelint:") {
        let rest = rest.trim_start();
        let (file_level, rest) = match rest.strip_prefix("ignore-file") {
            Some(rest) => (true, rest),
            None => (false, rest.strip_prefix("ignore")?),
        };
        let (codes, reason) = rest.strip_prefix('[')?.split_once(']')?;
        return Some(Suppression {
            codes: codes
                .split(',')
                .map(|c| c.trim().to_ascii_uppercase())
                .filter(|c| !c.is_empty())
                .collect(),
            file_level,
            reason: reason.trim().to_string(),
            span,
            own_line,
        });
    }
    // `# noqa: RL101, E501`: only racelint's codes are ours; a bare `noqa` is another
    // tool's business.
    let (_, codes) = text.split_once("noqa:")?;
    let codes: Vec<String> = codes
        .split([',', ' '])
        .map(|c| c.trim().to_ascii_uppercase())
        .take_while(|c| c.is_empty() || c.chars().next().is_some_and(|ch| ch.is_ascii_uppercase()))
        .filter(|c| c.starts_with("RL"))
        .collect();
    (!codes.is_empty()).then(|| Suppression {
        codes,
        file_level: false,
        reason: String::new(),
        span,
        own_line,
    })
}

impl Suppression {
    /// Whether this suppression covers a finding of `code` starting on `line`.
    pub fn covers(&self, code: &str, line: u32) -> bool {
        self.codes.iter().any(|c| c == code)
            && (self.file_level
                || self.span.start.line == line
                || (self.own_line && self.span.start.line + 1 == line))
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use crate::model::Span;

    #[test]
    fn all_three_forms() {
        let line = parse(
            "racelint: ignore[RL101, rl106] loop-only by design",
            Span::default(),
            false,
        )
        .unwrap();
        assert_eq!(line.codes, ["RL101", "RL106"]);
        assert_eq!(line.reason, "loop-only by design");
        assert!(!line.file_level);
        let file = parse("racelint: ignore-file[RL107]", Span::default(), true).unwrap();
        assert!(file.file_level && file.codes == ["RL107"]);
        let noqa = parse("type: ignore  # noqa: E501, RL101", Span::default(), false).unwrap();
        assert_eq!(noqa.codes, ["RL101"]);
        assert!(parse("noqa: E501", Span::default(), false).is_none());
        assert!(parse("racelint: loop-only", Span::default(), false).is_none());
    }
}
