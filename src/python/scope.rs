//! Which names a Python function binds locally, decided as CPython's compiler does:
//! any binding anywhere in the body makes the name local unless `global`/`nonlocal`
//! says otherwise.

use rustc_hash::FxHashSet as HashSet;

use ruff_python_ast::visitor::{walk_expr, walk_pattern, walk_stmt, Visitor};
use ruff_python_ast::{ExceptHandler, Expr, ExprContext, Pattern, Stmt};

#[derive(Default)]
pub struct Bindings {
    pub locals: HashSet<String>,
    pub globals: HashSet<String>,
    /// Names declared `nonlocal` (also in `locals`: never module state).
    pub nonlocals: HashSet<String>,
    /// Locals bound more than once (two assignments, a loop target, an import and an
    /// assignment, …): a name bound once names one value wherever the body reads it.
    pub rebound: HashSet<String>,
    /// Locals bound only by augmented assignments (`events += batch`): each rebinds the
    /// name to what `__iadd__` returns, the same object for a list or a project class.
    pub augmented: HashSet<String>,
}

/// Names bound in `body` (not counting nested functions' and classes' own bodies).
pub fn bindings(body: &[Stmt]) -> Bindings {
    let mut collector = Collector::default();
    for stmt in body {
        collector.visit_stmt(stmt);
    }
    let mut out = collector.out;
    for name in &out.globals {
        out.locals.remove(name);
    }
    out
}

/// Every name that any function in `body` declares `global`: those are module variables
/// even when the module never assigns them at top level.
pub fn declared_globals(body: &[Stmt]) -> HashSet<String> {
    struct Globals(HashSet<String>);
    impl<'a> Visitor<'a> for Globals {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if let Stmt::Global(g) = stmt {
                self.0
                    .extend(g.names.iter().map(|n| n.as_str().to_string()));
            }
            walk_stmt(self, stmt);
        }
    }
    let mut globals = Globals(HashSet::default());
    for stmt in body {
        globals.visit_stmt(stmt);
    }
    globals.0
}

/// The locals of a function (`locals`) that a function or lambda nested in `body` names
/// without binding its own (or declares `nonlocal`): closure cells, one variable shared
/// by the function and every nested function that names it.
pub fn captured(body: &[Stmt], locals: &HashSet<String>) -> HashSet<String> {
    struct Free<'l> {
        locals: &'l HashSet<String>,
        /// The names each enclosing nested function binds itself.
        shadowing: Vec<HashSet<String>>,
        out: HashSet<String>,
    }
    impl Free<'_> {
        fn nested(&mut self, own: HashSet<String>, visit: impl FnOnce(&mut Self)) {
            self.shadowing.push(own);
            visit(self);
            self.shadowing.pop();
        }
    }
    impl<'a> Visitor<'a> for Free<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(f) => {
                    let bound = bindings(&f.body);
                    let mut own: HashSet<String> =
                        bound.locals.difference(&bound.nonlocals).cloned().collect();
                    own.extend(f.parameters.iter().map(|p| p.name().as_str().to_string()));
                    for name in &bound.nonlocals {
                        if self.locals.contains(name) {
                            self.out.insert(name.clone());
                        }
                    }
                    self.nested(own, |free| {
                        for stmt in &f.body {
                            free.visit_stmt(stmt);
                        }
                    });
                }
                _ => walk_stmt(self, stmt),
            }
        }

        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(n)
                    if !self.shadowing.is_empty()
                        && self.locals.contains(n.id.as_str())
                        && !self.shadowing.iter().any(|s| s.contains(n.id.as_str())) =>
                {
                    self.out.insert(n.id.to_string());
                }
                Expr::Lambda(l) => {
                    let own = l
                        .parameters
                        .iter()
                        .flat_map(|p| p.iter())
                        .map(|p| p.name().as_str().to_string())
                        .collect();
                    self.nested(own, |free| free.visit_expr(&l.body));
                }
                _ => walk_expr(self, expr),
            }
        }
    }
    let mut free = Free {
        locals,
        shadowing: Vec::new(),
        out: HashSet::default(),
    };
    for stmt in body {
        free.visit_stmt(stmt);
    }
    free.out
}

#[derive(Default)]
struct Collector {
    out: Bindings,
}

impl Collector {
    fn bind(&mut self, name: &str) {
        if !self.out.locals.insert(name.to_string()) {
            self.out.augmented.remove(name);
            self.out.rebound.insert(name.to_string());
        }
    }
}

/// The names that functions nested in `body`, at any depth, declare `nonlocal` (and so
/// may rebind).
pub fn rebound_by_nested(body: &[Stmt]) -> HashSet<String> {
    struct Nested(HashSet<String>);
    impl<'a> Visitor<'a> for Nested {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if let Stmt::FunctionDef(f) = stmt {
                self.0.extend(bindings(&f.body).nonlocals);
            }
            walk_stmt(self, stmt);
        }
    }
    // A name a deeper function declares `nonlocal` may be an intermediate function's:
    // counted all the same.
    let mut nested = Nested(HashSet::default());
    for stmt in body {
        nested.visit_stmt(stmt);
    }
    nested.0
}

impl<'a> Visitor<'a> for Collector {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => self.bind(f.name.as_str()),
            Stmt::ClassDef(c) => self.bind(c.name.as_str()),
            Stmt::Global(g) => {
                self.out
                    .globals
                    .extend(g.names.iter().map(|n| n.as_str().to_string()));
            }
            Stmt::Nonlocal(n) => {
                // Enclosing-function variables: never module state, so treat as local.
                let names = n.names.iter().map(|n| n.as_str().to_string());
                self.out.locals.extend(names.clone());
                self.out.nonlocals.extend(names);
            }
            Stmt::Import(i) => {
                for alias in &i.names {
                    let bound = match &alias.asname {
                        Some(asname) => asname.as_str(),
                        None => alias.name.as_str().split('.').next().unwrap_or_default(),
                    };
                    self.bind(bound);
                }
            }
            Stmt::ImportFrom(i) => {
                for alias in &i.names {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                    self.bind(bound.as_str());
                }
            }
            Stmt::AugAssign(a) => match &*a.target {
                Expr::Name(n) => {
                    if self.out.locals.insert(n.id.to_string()) {
                        self.out.augmented.insert(n.id.to_string());
                    }
                    self.visit_expr(&a.value);
                }
                _ => walk_stmt(self, stmt),
            },
            Stmt::Try(t) => {
                for ExceptHandler::ExceptHandler(h) in &t.handlers {
                    if let Some(name) = &h.name {
                        self.bind(name.as_str());
                    }
                }
                walk_stmt(self, stmt);
            }
            _ => walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(n) if matches!(n.ctx, ExprContext::Store | ExprContext::Del) => {
                self.bind(n.id.as_str());
            }
            Expr::Lambda(_) => {}
            _ => walk_expr(self, expr),
        }
    }

    /// `case Point(x=px) as p:`, `case [first, *rest]:`, `case {**others}:` bind names.
    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        let bound = match pattern {
            Pattern::MatchAs(p) => p.name.as_ref(),
            Pattern::MatchStar(p) => p.name.as_ref(),
            Pattern::MatchMapping(p) => p.rest.as_ref(),
            _ => None,
        };
        if let Some(name) = bound {
            self.bind(name.as_str());
        }
        walk_pattern(self, pattern);
    }
}
