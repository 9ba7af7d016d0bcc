//! RL900 unused-suppression: a suppression comment that silences nothing (the hazard was
//! fixed, or the code is misspelt), so it can quietly hide the next real finding.

use super::{find, Finding, Fix};
use crate::model::Suppression;

pub fn finding(file: usize, suppression: &Suppression, code: &str) -> Finding {
    let rule = find("RL900").expect("RL900 is registered");
    let message = if super::find(code).is_some() {
        format!("`racelint: ignore[{code}]` suppresses nothing here")
    } else {
        format!("`{code}` is not a racelint rule: this suppression suppresses nothing")
    };
    let mut finding = Finding::new(
        rule,
        file,
        suppression.span,
        message,
        "unused suppression".to_string(),
    );
    finding.fix = Some(Fix {
        description: format!("Remove `{code}` from the suppression (or the whole comment)."),
        code: String::new(),
    });
    finding
}
