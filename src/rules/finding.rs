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
    /// How each side is reached from its entry point, step by step.
    pub flows: Vec<Flow>,
    pub fix: Option<Fix>,
    /// The fix as edits racelint can apply itself (`--fix`, `--unsafe-fixes`).
    pub autofix: Option<Autofix>,
}

/// A fix racelint applies itself, and whether it may change what the program does.
#[derive(Debug, Clone, PartialEq)]
pub struct Autofix {
    pub applicability: Applicability,
    /// In one or more files; never overlapping one another.
    pub edits: Vec<Edit>,
}

/// Ruff's split: `--fix` applies safe fixes; unsafe ones need `--unsafe-fixes` too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applicability {
    /// Cannot change behaviour (the same call spelt as intended, a comment).
    Safe,
    /// Can change behaviour, to be reviewed: a lock taken where none was.
    Unsafe,
}

impl Autofix {
    pub fn safe(edits: Vec<Edit>) -> Autofix {
        Autofix {
            applicability: Applicability::Safe,
            edits,
        }
    }

    pub fn is_safe(&self) -> bool {
        self.applicability == Applicability::Safe
    }
}

/// A replacement in one file: `len` bytes at byte `offset` of the analysed source
/// become `replacement`. Line breaks in it are written `\n`; the file's own line
/// endings replace them when the fix is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub file: FileId,
    pub offset: usize,
    pub len: usize,
    pub replacement: String,
}

#[derive(Debug, Clone)]
pub struct Related {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// How one side of a finding is reached: from its entry point (an offload call, a
/// decorator, an `async def`) through the functions called, to the access.
#[derive(Debug, Clone)]
pub struct Flow {
    /// "a worker thread", "the event loop", …
    pub whence: String,
    /// The entry site and the functions on the way, in call order.
    pub steps: Vec<FlowStep>,
    /// Where the flow arrives: the access or call the finding is about.
    pub end: Option<FlowStep>,
}

#[derive(Debug, Clone)]
pub struct FlowStep {
    pub file: FileId,
    pub span: Span,
    /// As messages show it: `` `f` `` or `` `asyncio.to_thread(f)` (app/x.py:12) ``.
    pub label: String,
}

impl Flow {
    /// "reached from a worker thread: `periodic_flush` → `asyncio.to_thread(flush)`
    /// (metrics.py:26) → `flush`".
    pub fn text(&self) -> String {
        let steps: Vec<&str> = self.steps.iter().map(|s| s.label.as_str()).collect();
        format!("reached from {}: {}", self.whence, steps.join(" → "))
    }

    /// The same flow, arriving at the access at `span`.
    pub fn ending_at(mut self, file: FileId, span: Span, label: &str) -> Flow {
        self.end = Some(FlowStep {
            file,
            span,
            label: label.to_string(),
        });
        self
    }
}

/// A suggested change: what to do, and the code to write.
#[derive(Debug, Clone)]
pub struct Fix {
    pub description: String,
    pub code: String,
}

impl Finding {
    /// Each flow in words, as reports print them.
    pub fn call_paths(&self) -> Vec<String> {
        let mut texts: Vec<String> = Vec::new();
        for text in self.flows.iter().map(Flow::text) {
            if !texts.contains(&text) {
                texts.push(text);
            }
        }
        texts
    }

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
            flows: Vec::new(),
            fix: None,
            autofix: None,
        }
    }
}
