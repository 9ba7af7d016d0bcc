//! Declared invariants: `# racelint: loop-only` and friends, tied to the definitions
//! they annotate.

use super::*;

impl Lowerer<'_> {
    /// The invariant declared for a definition on `line`: a trailing `racelint:` comment
    /// on that line, or one alone on the line above.
    pub(super) fn invariant_at(&self, line: u32, class: Option<usize>) -> Option<Invariant> {
        let directive = self.directive_for(line, line)?;
        self.parse_invariant(&directive.text, class)
    }

    /// The context declared for a `def` whose name is on `line` and whose statement
    /// (decorators included) starts on `first`.
    pub(super) fn declared_context_at(&self, line: u32, first: u32) -> Option<DeclaredContext> {
        match self.directive_for(line, first)?.text.as_str() {
            "worker-thread" => Some(DeclaredContext::WorkerThread),
            "event-loop" => Some(DeclaredContext::EventLoop),
            _ => None,
        }
    }

    /// The `racelint:` comment that annotates a definition: trailing on `line`, or alone
    /// on the line above `first` (the definition's first line).
    fn directive_for(&self, line: u32, first: u32) -> Option<&Directive> {
        self.directives
            .get(&line)
            .filter(|d| !d.own_line)
            .or_else(|| {
                self.directives
                    .get(&first.saturating_sub(1))
                    .filter(|d| d.own_line)
            })
    }

    /// A `racelint:` comment alone on a line of the class body (at the body's
    /// indentation), not directly above a class-level assignment: it covers every
    /// attribute of the class.
    pub(super) fn class_invariant(&self, def: &StmtClassDef, class: usize) -> Option<Invariant> {
        let first = def.body.first()?;
        let body_indent = self.span_of(first).start.column as usize - 1;
        let header = self.span_of(&def.name).start.line;
        let end = self.span_of(def).end.line;
        (header + 1..=end).find_map(|line| {
            let directive = self.directives.get(&line)?;
            if !directive.own_line || directive.indent != body_indent {
                return None;
            }
            let above_assignment = def.body.iter().any(|stmt| {
                matches!(stmt, Stmt::Assign(_) | Stmt::AnnAssign(_))
                    && self.span_of(stmt).start.line == line + 1
            });
            if above_assignment {
                return None;
            }
            self.parse_invariant(&directive.text, Some(class))
        })
    }

    pub(super) fn parse_invariant(&self, text: &str, class: Option<usize>) -> Option<Invariant> {
        match text {
            "loop-only" => Some(Invariant::LoopOnly),
            "replaced-wholesale" => Some(Invariant::ReplacedWholesale),
            "thread-safe" => Some(Invariant::ThreadSafe),
            _ => {
                let lock = text.strip_prefix("guarded-by=")?.trim();
                (!lock.is_empty()).then(|| Invariant::GuardedBy(self.canonical_lock(lock, class)))
            }
        }
    }

    /// A lock expression written in a comment (`self._lock`, `_jobs_lock`, `db.lock`) as
    /// a canonical path, the way lock expressions in code are lowered.
    pub(super) fn canonical_lock(&self, expr: &str, class: Option<usize>) -> String {
        let (head, rest) = expr.split_once('.').unwrap_or((expr, ""));
        let base = match class {
            Some(class) if head == "self" || head == "cls" => self.classes[class].path.clone(),
            _ => self
                .module_names
                .get(head)
                .cloned()
                .unwrap_or_else(|| self.qualify(head)),
        };
        if rest.is_empty() {
            base
        } else {
            format!("{base}.{rest}")
        }
    }
}
