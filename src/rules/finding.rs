//! What a rule reports.

use super::Rule;
use crate::analysis::contexts::Context;
use crate::model::{FileId, Span};

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static Rule,
    pub file: FileId,
    pub span: Span,
    pub message: String,
    /// What the primary span shows, in a few words (`mutated on a worker thread`).
    pub label: String,
    /// The shared state, as users read it (`PriceCache._prices`).
    pub state: Option<String>,
    pub contexts: Vec<Context>,
    /// Other places that explain the finding: the other access, the entry points.
    pub related: Vec<Related>,
    /// How each side is reached, in words, from its entry point.
    pub call_paths: Vec<String>,
    pub fix: Option<Fix>,
}

#[derive(Debug, Clone)]
pub struct Related {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// A suggested change: what to do, and the code to write.
#[derive(Debug, Clone)]
pub struct Fix {
    pub description: String,
    pub code: String,
}

impl Finding {
    pub fn new(
        rule: &'static Rule,
        file: FileId,
        span: Span,
        message: String,
        label: String,
    ) -> Finding {
        Finding {
            rule,
            file,
            span,
            message,
            label,
            state: None,
            contexts: Vec::new(),
            related: Vec::new(),
            call_paths: Vec::new(),
            fix: None,
        }
    }
}
