//! Platform tests (`sys.platform == "win32"`, `os.name != "nt"`,
//! `sys.platform.startswith("linux")`): code under contradictory tests never runs in
//! one process, which `analysis::platforms` uses to keep such pairs apart.

use super::*;
use crate::model::{PlatformBranch, PlatformTest};

impl Lowerer<'_> {
    /// The platform test an `if` condition is, if it is one: a comparison of
    /// `sys.platform` or `os.name` with a string, `sys.platform.startswith("…")`, or
    /// the negation of either.
    pub(super) fn platform_test(&self, test: &Expr) -> Option<PlatformTest> {
        match test {
            Expr::UnaryOp(u) if u.op == UnaryOp::Not => {
                self.platform_test(&u.operand).map(|t| t.negated())
            }
            Expr::Compare(c) if c.ops.len() == 1 && c.comparators.len() == 1 => {
                let holds = match c.ops[0] {
                    CmpOp::Eq => true,
                    CmpOp::NotEq => false,
                    _ => return None,
                };
                let (variable, value) = match (&*c.left, &c.comparators[0]) {
                    (Expr::StringLiteral(s), other) | (other, Expr::StringLiteral(s)) => {
                        (self.platform_variable(other)?, s.value.to_str().to_string())
                    }
                    _ => return None,
                };
                Some(PlatformTest {
                    variable,
                    value,
                    prefix: false,
                    holds,
                })
            }
            Expr::Call(call) => {
                let Expr::Attribute(method) = &*call.func else {
                    return None;
                };
                let [Expr::StringLiteral(s)] = &*call.arguments.args else {
                    return None;
                };
                (method.attr.as_str() == "startswith" && call.arguments.keywords.is_empty())
                    .then_some(())?;
                Some(PlatformTest {
                    variable: self.platform_variable(&method.value)?,
                    value: s.value.to_str().to_string(),
                    prefix: true,
                    holds: true,
                })
            }
            _ => None,
        }
    }

    /// `sys.platform` or `os.name` (through any import alias).
    fn platform_variable(&self, expr: &Expr) -> Option<String> {
        if !matches!(expr, Expr::Attribute(_)) {
            return None;
        }
        match self.callee_of(expr)? {
            Callee::Path(path) if path == "sys.platform" || path == "os.name" => Some(path),
            _ => None,
        }
    }

    /// Records which parts of an `if` run under a platform test: its body under the
    /// test, every later clause under its negation (an `elif` with a test of its own
    /// adds that test to its body).
    pub(super) fn note_platform_if(&mut self, i: &StmtIf) {
        let mut tests = vec![(self.platform_test(&i.test), i.body.as_slice())];
        tests.extend(i.elif_else_clauses.iter().map(|c| {
            (
                c.test.as_ref().and_then(|t| self.platform_test(t)),
                c.body.as_slice(),
            )
        }));
        let ranges: Vec<(usize, usize)> = tests.iter().map(|(_, body)| block_range(body)).collect();
        let end = ranges.last().map_or(0, |r| r.1);
        let mut branches = Vec::new();
        for (k, (test, _)) in tests.iter().enumerate() {
            let Some(test) = test else { continue };
            branches.push(PlatformBranch {
                start: ranges[k].0,
                end: ranges[k].1,
                test: test.clone(),
            });
            if let Some(next) = ranges.get(k + 1) {
                branches.push(PlatformBranch {
                    start: next.0,
                    end,
                    test: test.negated(),
                });
            }
        }
        let func = self.scope().func;
        self.functions[func].platform_branches.extend(branches);
    }

    /// `if sys.platform == "win32": …; return` with no `else`: the rest of the block
    /// runs only when the test fails.
    pub(super) fn note_platform_exits(&mut self, body: &[Stmt]) {
        let Some(last) = body.last() else { return };
        let end = last.range().end().to_usize();
        for stmt in body {
            let Stmt::If(i) = stmt else { continue };
            let exits = matches!(i.body.last(), Some(Stmt::Return(_) | Stmt::Raise(_)));
            if !exits || !i.elif_else_clauses.is_empty() {
                continue;
            }
            if let Some(test) = self.platform_test(&i.test) {
                let func = self.scope().func;
                self.functions[func].platform_branches.push(PlatformBranch {
                    start: stmt.range().end().to_usize(),
                    end,
                    test: test.negated(),
                });
            }
        }
    }

    /// The platform tests in force at `offset` of the current function's body, with
    /// those its definition is under: what a `def` written there is defined under.
    pub(super) fn platform_tests_at(&self, offset: usize) -> Vec<PlatformTest> {
        let function = &self.functions[self.scope().func];
        let mut tests = function.defined_under.clone();
        tests.extend(
            function
                .platform_branches
                .iter()
                .filter(|b| b.start <= offset && offset < b.end)
                .map(|b| b.test.clone()),
        );
        tests.to_vec()
    }
}

/// The byte range a block of statements spans.
fn block_range(body: &[Stmt]) -> (usize, usize) {
    match (body.first(), body.last()) {
        (Some(first), Some(last)) => (
            first.range().start().to_usize(),
            last.range().end().to_usize(),
        ),
        _ => (0, 0),
    }
}
