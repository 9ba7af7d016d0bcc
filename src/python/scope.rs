//! Which names a Python function binds locally, decided as CPython's compiler does:
//! any binding anywhere in the body makes the name local unless `global`/`nonlocal`
//! says otherwise.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::visitor::{walk_expr, walk_pattern, walk_stmt, Visitor};
use ruff_python_ast::{ExceptHandler, Expr, ExprContext, Pattern, Stmt, StmtFunctionDef};
use ruff_text_size::Ranged;

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
    /// Locals bound more than once, every time by a plain assignment of a call named by
    /// a dotted name (`scope = Alarm()` in one branch, `scope = Watcher()` in the
    /// other): with the offsets of those calls. Wherever the body reads the name, it
    /// holds what one of them returned.
    pub built_each: HashMap<String, Vec<u32>>,
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
    out.built_each = collector
        .calls_bound
        .into_iter()
        .filter(|(name, calls)| {
            out.rebound.contains(name)
                && !out.nonlocals.contains(name)
                && !out.globals.contains(name)
                && collector.bindings.get(name) == Some(&calls.len())
        })
        .collect();
    out
}

/// A callee named by a dotted name (`Job`, `models.Job`), not one a call chain gives
/// (`Job().shared()`: what `shared` returns, which the call at the same offset does
/// not build).
pub fn names_a_callee(func: &Expr) -> bool {
    match func {
        Expr::Name(_) => true,
        Expr::Attribute(a) => names_a_callee(&a.value),
        _ => false,
    }
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
    let mut free = Free::new(locals);
    for stmt in body {
        free.visit_stmt(stmt);
    }
    free.out
}

/// The locals of a function (`locals`) that the function `def` nested in it names
/// without binding its own: what that one closure captures.
pub fn captured_by_def(def: &StmtFunctionDef, locals: &HashSet<String>) -> HashSet<String> {
    let mut free = Free::new(locals);
    free.function_def(def);
    free.out
}

/// The same for a lambda.
pub fn captured_by_lambda(lambda: &Expr, locals: &HashSet<String>) -> HashSet<String> {
    let mut free = Free::new(locals);
    free.visit_expr(lambda);
    free.out
}

struct Free<'l> {
    locals: &'l HashSet<String>,
    /// The names each enclosing nested function binds itself.
    shadowing: Vec<HashSet<String>>,
    out: HashSet<String>,
}
impl<'l> Free<'l> {
    fn new(locals: &'l HashSet<String>) -> Self {
        Free {
            locals,
            shadowing: Vec::new(),
            out: HashSet::default(),
        }
    }

    /// A nested `def`: the names it binds itself shadow the function's locals inside.
    fn function_def(&mut self, f: &StmtFunctionDef) {
        let bound = bindings(&f.body);
        let mut own: HashSet<String> = bound.locals.difference(&bound.nonlocals).cloned().collect();
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

    fn nested(&mut self, own: HashSet<String>, visit: impl FnOnce(&mut Self)) {
        self.shadowing.push(own);
        visit(self);
        self.shadowing.pop();
    }
}
impl<'a> Visitor<'a> for Free<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(f) => self.function_def(f),
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

#[derive(Default)]
struct Collector {
    out: Bindings,
    /// How many times each name is bound.
    bindings: HashMap<String, usize>,
    /// Per name, the calls it is bound to by a plain assignment (`x = Job()`).
    calls_bound: HashMap<String, Vec<u32>>,
}

impl Collector {
    /// `name = Job()`, one target given a call named by a dotted name: noted for
    /// `Bindings::built_each`.
    fn note_call_bound(&mut self, target: &Expr, value: &Expr) {
        if let (Expr::Name(n), Expr::Call(call)) = (target, value) {
            if names_a_callee(&call.func) {
                let at = u32::try_from(call.range().start().to_usize()).unwrap_or(u32::MAX);
                self.calls_bound
                    .entry(n.id.to_string())
                    .or_default()
                    .push(at);
            }
        }
    }

    fn bind(&mut self, name: &str) {
        *self.bindings.entry(name.to_string()).or_default() += 1;
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
            Stmt::Assign(a) => {
                if let [target] = &a.targets[..] {
                    self.note_call_bound(target, &a.value);
                }
                walk_stmt(self, stmt);
            }
            Stmt::AnnAssign(a) => {
                if let Some(value) = &a.value {
                    self.note_call_bound(&a.target, value);
                }
                walk_stmt(self, stmt);
            }
            Stmt::AugAssign(a) => match &*a.target {
                Expr::Name(n) => {
                    *self.bindings.entry(n.id.to_string()).or_default() += 1;
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
