//! Lowers one Python module's AST to the language-neutral model.
//!
//! Names are canonicalised as far as the file itself allows: through its imports
//! (relative ones included), `self`/`cls`, local constructor calls and annotations.
//! Everything that needs another file is left as a dotted path for the analysis.

use std::collections::{HashMap, HashSet};

use ruff_python_ast::helpers::any_over_expr;
use ruff_python_ast::visitor::{walk_expr, walk_stmt, Visitor};
use ruff_python_ast::{
    Comprehension, ExceptHandler, Expr, ExprCall, ExprContext, Parameters, Stmt, StmtClassDef,
    StmtFunctionDef,
};
use ruff_text_size::Ranged;

use super::scope;
use crate::model::{
    Access, AccessKind, Arg, Attribute, Await, CallSite, Callee, Class, FileModel, Function,
    Invariant, Span, Symbol, SymbolKind,
};
use crate::source::LineIndex;

/// Methods of builtin containers (and common mutable types) that change the receiver.
const MUTATING_METHODS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "pop",
    "remove",
    "clear",
    "update",
    "setdefault",
    "popitem",
    "add",
    "discard",
    "sort",
    "reverse",
    "appendleft",
    "extendleft",
    "popleft",
    "rotate",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
    "__setitem__",
    "__delitem__",
];

/// Views that a `for` loop or comprehension iterates lazily over their receiver.
const ITERATED_VIEWS: &[&str] = &["items", "keys", "values"];

/// Lazy wrappers: iterating them iterates their arguments.
const LAZY_ITERATORS: &[&str] = &["enumerate", "zip", "reversed", "iter", "filter", "map"];

/// Functions that walk their first argument in Python code, between other bytecodes,
/// so another thread can resize it meanwhile. (`list(d)`, `dict(d)`, `sorted(d)`,
/// `json.dumps(d)` copy in one C call: those are the snapshot the fix recommends.)
const ITERATING_CALLS: &[&str] = &["json.dump", "copy.deepcopy"];

/// Deeper expressions than this are not descended into: no real code needs it, and
/// generated test files with thousands of nested operators must not exhaust the stack.
const MAX_DEPTH: usize = 200;

/// Constructors whose instance methods treat their first parameter as the instance.
const INITIALIZERS: &[&str] = &["__init__", "__new__", "__post_init__", "__init_subclass__"];

pub struct Lowerer<'s> {
    module: String,
    package: String,
    src: &'s str,
    lines: &'s LineIndex,
    /// Module-level name → canonical path.
    module_names: HashMap<String, String>,
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    pub symbols: Vec<Symbol>,
    scopes: Vec<Scope>,
    depth: usize,
    /// Lines of the statement being lowered (see `Access::statement_lines`).
    statement_lines: (u32, u32),
    /// `racelint:` directives by line (see `Directive`).
    directives: &'s HashMap<u32, Directive>,
    /// Start offset of the expression an enclosing `await` awaits directly.
    awaited: Option<usize>,
}

/// A `# racelint: <invariant>` comment, before it is tied to a definition.
pub struct Directive {
    pub text: String,
    /// The comment is alone on its line (so it may annotate the line below).
    pub own_line: bool,
    pub indent: usize,
}

/// How a name inside a function resolves.
enum Resolution {
    /// A canonical path: module global, import, class (through `self`), typed local.
    Path(String),
    /// A local variable holding (part of) the state at this path.
    Alias(String),
    /// A local or parameter whose type we know (`cache: Cache`, `pool = Pool()`): its
    /// attributes are the type's attributes, but the object itself is no shared state.
    Typed(String),
    /// A plain local variable: nothing we can follow.
    Local,
    /// Not bound anywhere we can see: a builtin, or an undefined name.
    Unknown,
}

/// An expression that denotes a (possibly shared) location.
struct Chain {
    path: String,
    /// The expression reaches inside the location (subscript, attribute of an alias).
    inner: bool,
    via_alias: bool,
    /// The chain is a typed local itself, with no attribute reached through it.
    bare_instance: bool,
    /// The chain starts at an object the function constructed itself.
    private: bool,
}

struct Scope {
    func: usize,
    is_module: bool,
    class: Option<usize>,
    self_name: Option<String>,
    locals: HashSet<String>,
    globals: HashSet<String>,
    /// Function-local imports and nested definitions.
    imports: HashMap<String, String>,
    /// Locals whose type we know (constructor call, annotation, `with X() as y`).
    types: HashMap<String, String>,
    /// Locals bound to shared state (`job = jobs[job_id]`).
    aliases: HashMap<String, String>,
    /// Locals bound to an object this function constructed (`scratch = Session()`):
    /// nobody else holds it, so nothing reached through it is shared.
    fresh: HashSet<String>,
    /// Lock expressions held, each with the lines of the `with` that took it, and
    /// whether it was taken with `async with` (then it cannot be a thread lock).
    locks: Vec<HeldLock>,
    /// How many loops or comprehensions enclose the current point.
    loop_depth: usize,
    /// Locations read by the tests of enclosing `if`/`while`, with those statements' lines.
    checks: Vec<(Vec<String>, (u32, u32))>,
}

impl<'s> Lowerer<'s> {
    pub fn new(
        module: &str,
        is_package: bool,
        src: &'s str,
        lines: &'s LineIndex,
        directives: &'s HashMap<u32, Directive>,
    ) -> Self {
        let package = if is_package {
            module.to_string()
        } else {
            module
                .rsplit_once('.')
                .map(|(p, _)| p.to_string())
                .unwrap_or_default()
        };
        Lowerer {
            module: module.to_string(),
            package,
            src,
            lines,
            module_names: HashMap::new(),
            functions: Vec::new(),
            classes: Vec::new(),
            symbols: Vec::new(),
            scopes: Vec::new(),
            depth: 0,
            statement_lines: (0, 0),
            directives,
            awaited: None,
        }
    }

    pub fn lower_module(&mut self, body: &[Stmt]) {
        self.collect_module_names(body);
        for name in scope::declared_globals(body) {
            let path = self.qualify(&name);
            self.module_names.entry(name).or_insert(path);
        }
        let declared = scope::declared_globals(body);
        let module_fn = self.push_function(Function {
            path: format!("{}.<module>", self.module),
            display: format!("module {}", self.module),
            name: "<module>".to_string(),
            class: None,
            is_async: false,
            span: Span::default(),
            decorators: Vec::new(),
            calls: Vec::new(),
            accesses: Vec::new(),
            awaits: Vec::new(),
            is_initializer: true,
        });
        self.scopes.push(Scope::new(module_fn, true));
        for stmt in body {
            self.visit_stmt(stmt);
        }
        self.scopes.pop();
        // Names only ever assigned through `global` inside functions are module variables too.
        for name in declared {
            if !self.symbols.iter().any(|s| s.name == name) {
                self.set_variable(&name, None, Span::default());
            }
        }
    }

    pub fn into_model(self, model: &mut FileModel) {
        model.functions = self.functions;
        model.classes = self.classes;
        model.symbols = self.symbols;
    }

    fn qualify(&self, name: &str) -> String {
        if self.module.is_empty() {
            name.to_string()
        } else {
            format!("{}.{}", self.module, name)
        }
    }

    fn span_of(&self, node: &impl Ranged) -> Span {
        let range = node.range();
        self.lines
            .span(self.src, range.start().to_usize(), range.end().to_usize())
    }

    fn text_of(&self, node: &impl Ranged) -> &'s str {
        let range = node.range();
        self.src
            .get(range.start().to_usize()..range.end().to_usize())
            .unwrap_or("")
    }

    fn push_function(&mut self, function: Function) -> usize {
        self.functions.push(function);
        self.functions.len() - 1
    }

    fn scope(&self) -> &Scope {
        self.scopes
            .last()
            .expect("lowering always runs inside a scope")
    }

    fn scope_mut(&mut self) -> &mut Scope {
        self.scopes
            .last_mut()
            .expect("lowering always runs inside a scope")
    }

    // ----- module-level names -------------------------------------------------------

    /// Top-level bindings, including those inside `if`/`try`/`with` blocks.
    fn collect_module_names(&mut self, body: &[Stmt]) {
        for stmt in body {
            match stmt {
                Stmt::Import(_) | Stmt::ImportFrom(_) => {
                    for (name, path) in self.import_bindings(stmt) {
                        self.module_names.insert(name, path);
                    }
                }
                Stmt::FunctionDef(StmtFunctionDef { name, .. })
                | Stmt::ClassDef(StmtClassDef { name, .. }) => {
                    let path = self.qualify(name.as_str());
                    self.module_names.insert(name.as_str().to_string(), path);
                }
                Stmt::Assign(_) | Stmt::AnnAssign(_) | Stmt::AugAssign(_) | Stmt::For(_) => {
                    for name in scope::bindings(std::slice::from_ref(stmt)).locals {
                        let path = self.qualify(&name);
                        self.module_names.insert(name, path);
                    }
                }
                Stmt::If(s) => {
                    self.collect_module_names(&s.body);
                    for clause in &s.elif_else_clauses {
                        self.collect_module_names(&clause.body);
                    }
                }
                Stmt::Try(s) => {
                    self.collect_module_names(&s.body);
                    for ExceptHandler::ExceptHandler(h) in &s.handlers {
                        self.collect_module_names(&h.body);
                    }
                    self.collect_module_names(&s.orelse);
                    self.collect_module_names(&s.finalbody);
                }
                Stmt::With(s) => self.collect_module_names(&s.body),
                _ => {}
            }
        }
    }

    /// `(bound name, canonical path)` for an import statement.
    fn import_bindings(&self, stmt: &Stmt) -> Vec<(String, String)> {
        match stmt {
            Stmt::Import(i) => i
                .names
                .iter()
                .map(|alias| match &alias.asname {
                    Some(asname) => (asname.as_str().to_string(), alias.name.as_str().to_string()),
                    None => {
                        let first = alias.name.as_str().split('.').next().unwrap_or_default();
                        (first.to_string(), first.to_string())
                    }
                })
                .collect(),
            Stmt::ImportFrom(i) => {
                let base = self.import_base(i.level, i.module.as_ref().map(|m| m.as_str()));
                i.names
                    .iter()
                    .filter(|alias| alias.name.as_str() != "*")
                    .map(|alias| {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                        let path = if base.is_empty() {
                            alias.name.as_str().to_string()
                        } else {
                            format!("{base}.{}", alias.name.as_str())
                        };
                        (bound.to_string(), path)
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The absolute module a `from ... import` refers to.
    fn import_base(&self, level: u32, module: Option<&str>) -> String {
        let mut base = if level == 0 {
            String::new()
        } else {
            let mut package = self.package.clone();
            for _ in 1..level {
                package = package
                    .rsplit_once('.')
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default();
            }
            package
        };
        if let Some(module) = module {
            if !base.is_empty() {
                base.push('.');
            }
            base.push_str(module);
        }
        base
    }

    // ----- name resolution ----------------------------------------------------------

    fn resolve_name(&self, name: &str) -> Resolution {
        for scope in self.scopes.iter().rev() {
            if scope.is_module {
                break;
            }
            if scope.self_name.as_deref() == Some(name) {
                if let Some(class) = scope.class {
                    return Resolution::Path(self.classes[class].path.clone());
                }
            }
            if let Some(path) = scope.aliases.get(name) {
                return Resolution::Alias(path.clone());
            }
            if let Some(ty) = scope.types.get(name) {
                return Resolution::Typed(ty.clone());
            }
            if let Some(path) = scope.imports.get(name) {
                return Resolution::Path(path.clone());
            }
            if scope.globals.contains(name) {
                break;
            }
            if scope.locals.contains(name) {
                return Resolution::Local;
            }
        }
        match self.module_names.get(name) {
            Some(path) => Resolution::Path(path.clone()),
            None => Resolution::Unknown,
        }
    }

    fn chain(&self, expr: &Expr) -> Option<Chain> {
        match expr {
            Expr::Name(n) => {
                let (path, via_alias, bare_instance) = match self.resolve_name(n.id.as_str()) {
                    Resolution::Path(path) => (path, false, false),
                    Resolution::Alias(path) => (path, true, false),
                    Resolution::Typed(path) => (path, false, true),
                    Resolution::Local | Resolution::Unknown => return None,
                };
                let private = bare_instance && self.scope().fresh.contains(n.id.as_str());
                Some(Chain {
                    path,
                    inner: false,
                    via_alias,
                    bare_instance,
                    private,
                })
            }
            Expr::Attribute(a) => {
                let mut chain = self.chain(&a.value)?;
                if chain.inner || chain.via_alias {
                    chain.inner = true;
                } else {
                    chain.path.push('.');
                    chain.path.push_str(a.attr.as_str());
                    chain.bare_instance = false;
                }
                Some(chain)
            }
            Expr::Subscript(s) => {
                let mut chain = self.chain(&s.value)?;
                chain.inner = true;
                Some(chain)
            }
            _ => None,
        }
    }

    /// A chain that can denote shared state: not a typed local by itself.
    fn state_chain(&self, expr: &Expr) -> Option<Chain> {
        self.chain(expr).filter(|c| !c.bare_instance && !c.private)
    }

    /// What a call's function expression refers to, if anything we can name.
    fn callee_of(&self, func: &Expr) -> Option<Callee> {
        match func {
            Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                Resolution::Path(path) | Resolution::Typed(path) => Some(Callee::Path(path)),
                Resolution::Unknown => Some(Callee::Path(n.id.as_str().to_string())),
                Resolution::Alias(_) | Resolution::Local => None,
            },
            Expr::Attribute(a) => match self.chain(&a.value) {
                Some(chain) if !chain.inner && !chain.via_alias => {
                    Some(Callee::Path(format!("{}.{}", chain.path, a.attr.as_str())))
                }
                _ => Some(Callee::Method(a.attr.as_str().to_string())),
            },
            _ => None,
        }
    }

    /// A type annotation's canonical class path (`Optional[X]`, `X | None` → `X`).
    fn annotation_type(&self, annotation: &Expr) -> Option<String> {
        match annotation {
            Expr::Name(_) | Expr::Attribute(_) => match self.callee_of(annotation)? {
                Callee::Path(path) => Some(path),
                Callee::Method(_) => None,
            },
            Expr::Subscript(s) => {
                let outer = self.annotation_type(&s.value)?;
                if outer.ends_with("Optional") || outer.ends_with("Annotated") {
                    match &*s.slice {
                        Expr::Tuple(t) => t.elts.first().and_then(|e| self.annotation_type(e)),
                        other => self.annotation_type(other),
                    }
                } else {
                    Some(outer)
                }
            }
            Expr::BinOp(b) => match (&*b.left, &*b.right) {
                (other, Expr::NoneLiteral(_)) | (Expr::NoneLiteral(_), other) => {
                    self.annotation_type(other)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The constructor a value expression calls, e.g. `threading.Lock` for `threading.Lock()`.
    fn constructor_of(&self, value: &Expr) -> Option<String> {
        match value {
            Expr::Call(call) => match self.callee_of(&call.func)? {
                Callee::Path(path) => Some(path),
                Callee::Method(_) => None,
            },
            _ => None,
        }
    }

    // ----- recording ----------------------------------------------------------------

    fn record(&mut self, path: String, kind: AccessKind, span: Span, via_call: bool) {
        let scope = self.scope();
        let checked_by = if kind.is_write() {
            scope
                .checks
                .iter()
                .rev()
                .find(|(paths, _)| paths.contains(&path))
                .map(|(_, lines)| *lines)
        } else {
            None
        };
        let access = Access {
            path,
            kind,
            span,
            statement_lines: self.statement_lines,
            locks: scope.held(),
            async_locks: scope.held_async(),
            via_call,
            checked_by,
            writes_constant: false,
            writes_new: false,
        };
        let func = scope.func;
        self.functions[func].accesses.push(access);
    }

    /// Records a write, noting whether it stores a literal constant.
    fn record_write(&mut self, path: String, kind: AccessKind, span: Span, value: Option<&Expr>) {
        self.record(path, kind, span, false);
        let constant = value.is_some_and(is_literal);
        let new = value.is_some_and(|v| {
            matches!(
                v,
                Expr::Call(_)
                    | Expr::List(_)
                    | Expr::Dict(_)
                    | Expr::Set(_)
                    | Expr::ListComp(_)
                    | Expr::DictComp(_)
                    | Expr::SetComp(_)
            )
        });
        let func = self.scope().func;
        if let Some(access) = self.functions[func].accesses.last_mut() {
            access.writes_constant = constant;
            access.writes_new = new;
        }
    }

    /// Records a read of the location an expression denotes, then visits its parts.
    fn load(&mut self, expr: &Expr) {
        // A bare local alias (`return sequence` after `sequence = self._sequence`) only
        // passes a value along; reading through it (`job["status"]`) touches the state.
        if let Some(chain) = self.state_chain(expr).filter(|c| !c.via_alias || c.inner) {
            let span = self.span_of(expr);
            self.record(chain.path, AccessKind::Read, span, false);
        }
        self.visit_chain_parts(expr);
    }

    /// Records a write of `kind` to the location an attribute or subscript target denotes.
    fn write_through(&mut self, target: &Expr, kind: AccessKind) {
        if let Some(chain) = self.state_chain(target) {
            let span = self.span_of(target);
            self.record(chain.path, kind, span, false);
        }
        self.visit_chain_parts(target);
    }

    /// Visits the sub-expressions of a chain that are not the chain itself.
    fn visit_chain_parts(&mut self, expr: &Expr) {
        match expr {
            Expr::Name(_) => {}
            Expr::Attribute(a) => self.visit_chain_parts(&a.value),
            Expr::Subscript(s) => {
                self.visit_chain_parts(&s.value);
                self.visit_expr(&s.slice);
            }
            other => self.visit_expr(other),
        }
    }

    fn store(&mut self, target: &Expr, value: Option<&Expr>) {
        match target {
            Expr::Name(n) => self.store_name(n.id.as_str(), target, value, false),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                if let Some(chain) = self.state_chain(target) {
                    let reads_itself = value.is_some_and(|v| self.mentions(v, &chain.path));
                    let kind = if reads_itself {
                        AccessKind::ReadModifyWrite
                    } else if chain.inner || chain.via_alias {
                        AccessKind::Mutation
                    } else {
                        AccessKind::Rebind
                    };
                    self.register_self_attribute(target, value);
                    let span = self.span_of(target);
                    self.record_write(chain.path, kind, span, value);
                }
                self.visit_chain_parts(target);
            }
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.store(e, None)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.store(e, None)),
            Expr::Starred(s) => self.store(&s.value, None),
            other => self.visit_expr(other),
        }
    }

    /// A store to a bare name: a local (tracking its type or state alias), or a
    /// module variable (a rebinding, or read-modify-write for `+=`).
    fn store_name(&mut self, name: &str, target: &Expr, value: Option<&Expr>, augmented: bool) {
        let is_local = {
            let scope = self.scope();
            !scope.is_module && !scope.globals.contains(name)
        };
        if is_local {
            let ty = value.and_then(|v| self.constructor_of(v));
            let alias = value
                .filter(|_| !augmented)
                .filter(|v| matches!(v, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_)))
                .and_then(|v| self.state_chain(v))
                .map(|c| c.path);
            let scope = self.scope_mut();
            scope.types.remove(name);
            scope.aliases.remove(name);
            scope.fresh.remove(name);
            if let Some(ty) = ty {
                scope.types.insert(name.to_string(), ty);
                scope.fresh.insert(name.to_string());
            } else if let Some(alias) = alias {
                scope.aliases.insert(name.to_string(), alias);
            }
            return;
        }
        let path = self.qualify(name);
        let reads_itself = value.is_some_and(|v| self.mentions(v, &path));
        let kind = if augmented || reads_itself {
            AccessKind::ReadModifyWrite
        } else {
            AccessKind::Rebind
        };
        if self.scope().is_module {
            let ty = value.and_then(|v| self.constructor_of(v));
            self.set_variable(name, ty, self.span_of(target));
        }
        let span = self.span_of(target);
        self.record_write(path, kind, span, value);
    }

    fn set_variable(&mut self, name: &str, ty: Option<String>, span: Span) {
        let invariant = self.invariant_at(span.start.line, None);
        if let Some(existing) = self.symbols.iter_mut().find(|s| s.name == name) {
            if let SymbolKind::Variable { ty: old } = &mut existing.kind {
                if ty.is_some() {
                    *old = ty;
                }
                if existing.invariant.is_none() {
                    existing.invariant = invariant;
                }
                return;
            }
        }
        self.symbols.push(Symbol {
            name: name.to_string(),
            kind: SymbolKind::Variable { ty },
            span,
            invariant,
        });
    }

    /// `self.<attr> = value` inside a method declares an attribute of the class.
    fn register_self_attribute(&mut self, target: &Expr, value: Option<&Expr>) {
        let Expr::Attribute(a) = target else { return };
        let Expr::Name(receiver) = &*a.value else {
            return;
        };
        let scope = self.scope();
        let Some(class) = scope.class else { return };
        if scope.self_name.as_deref() != Some(receiver.id.as_str()) {
            return;
        }
        let ty = value.and_then(|v| self.constructor_of(v));
        let span = self.span_of(target);
        let invariant = self.invariant_at(span.start.line, Some(class));
        let def = AttributeDef {
            ty,
            span,
            class_level: false,
            invariant,
        };
        add_attribute(&mut self.classes[class], a.attr.as_str(), def);
    }

    /// Whether `expr` reads the location `path` directly. A local alias does not count:
    /// `saved = sys.excepthook … sys.excepthook = saved` restores, it does not update.
    fn mentions(&self, expr: &Expr, path: &str) -> bool {
        any_over_expr(expr, |e| {
            matches!(e, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_))
                && self
                    .state_chain(e)
                    .is_some_and(|c| !c.via_alias && c.path == path)
        })
    }

    // ----- declared invariants --------------------------------------------------------

    /// The invariant declared for a definition on `line`: a trailing `racelint:` comment
    /// on that line, or one alone on the line above.
    fn invariant_at(&self, line: u32, class: Option<usize>) -> Option<Invariant> {
        let directive = self
            .directives
            .get(&line)
            .filter(|d| !d.own_line)
            .or_else(|| {
                self.directives
                    .get(&line.saturating_sub(1))
                    .filter(|d| d.own_line)
            })?;
        self.parse_invariant(&directive.text, class)
    }

    /// A `racelint:` comment alone on a line of the class body (at the body's
    /// indentation), not directly above a class-level assignment: it covers every
    /// attribute of the class.
    fn class_invariant(&self, def: &StmtClassDef, class: usize) -> Option<Invariant> {
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

    fn parse_invariant(&self, text: &str, class: Option<usize>) -> Option<Invariant> {
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
    fn canonical_lock(&self, expr: &str, class: Option<usize>) -> String {
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

    // ----- calls --------------------------------------------------------------------

    fn call(&mut self, call: &ExprCall) {
        let callee = self.callee_of(&call.func);
        if let Expr::Attribute(a) = &*call.func {
            if let Some(chain) = self.state_chain(&a.value) {
                let method = a.attr.as_str();
                let kind = if MUTATING_METHODS.contains(&method) {
                    AccessKind::Mutation
                } else {
                    AccessKind::Read
                };
                let span = self.span_of(&*call.func);
                self.record(chain.path, kind, span, true);
            }
            self.visit_chain_parts(&a.value);
        } else if !matches!(&*call.func, Expr::Name(_)) {
            self.visit_expr(&call.func);
        }
        let iterates_first = matches!(&callee,
            Some(Callee::Path(p)) if ITERATING_CALLS.contains(&p.as_str()));
        let args: Vec<Arg> = call
            .arguments
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if i == 0 && iterates_first {
                    self.lower_iterated_arg(a)
                } else {
                    self.lower_arg(a)
                }
            })
            .collect();
        let keywords: Vec<(String, Arg)> = call
            .arguments
            .keywords
            .iter()
            .filter_map(|k| {
                let arg = self.lower_arg(&k.value);
                k.arg.as_ref().map(|name| (name.as_str().to_string(), arg))
            })
            .collect();
        if let Some(callee) = callee {
            let site = CallSite {
                callee,
                span: self.span_of(call),
                // Only calls that pass a callable can hand off to another context and
                // be named in a message; the rest skip the allocation.
                text: if args_and_keywords_pass_callable(&args, &keywords) {
                    self.call_text(call)
                } else {
                    String::new()
                },
                args,
                keywords,
                locks: self.scope().held(),
                in_loop: self.scope().loop_depth > 0,
                awaited: self.awaited == Some(call.range().start().to_usize()),
                statement_lines: self.statement_lines,
                lock_block: self
                    .scope()
                    .locks
                    .iter()
                    .rev()
                    .find(|l| !l.is_async)
                    .and_then(|l| l.block),
            };
            let func = self.scope().func;
            self.functions[func].calls.push(site);
        }
    }

    /// The call as the user wrote it, shortened for messages.
    fn call_text(&self, call: &ExprCall) -> String {
        let full = self.text_of(call);
        if full.len() <= 60 && !full.contains('\n') {
            return full.to_string();
        }
        let func = self.text_of(&*call.func);
        let first = call
            .arguments
            .args
            .first()
            .map(|a| self.text_of(a))
            .filter(|t| t.len() <= 30 && !t.contains('\n'));
        match first {
            Some(first) => format!("{func}({first}, …)"),
            None => format!("{func}(…)"),
        }
    }

    /// An argument, as a possible callable; the argument is visited for accesses too.
    fn lower_arg(&mut self, expr: &Expr) -> Arg {
        match expr {
            Expr::Lambda(l) => {
                let line = self.span_of(expr).start.line;
                let parent = self.functions[self.scope().func].path.clone();
                let index = self.push_function(Function {
                    path: format!("{parent}.<lambda@{line}>"),
                    display: format!("lambda (line {line})"),
                    name: "<lambda>".to_string(),
                    class: None,
                    is_async: false,
                    span: self.span_of(expr),
                    decorators: Vec::new(),
                    calls: Vec::new(),
                    accesses: Vec::new(),
                    awaits: Vec::new(),
                    is_initializer: false,
                });
                let mut scope = Scope::new(index, false);
                if let Some(params) = &l.parameters {
                    scope.locals.extend(parameter_names(params));
                }
                self.scopes.push(scope);
                self.visit_expr(&l.body);
                self.scopes.pop();
                Arg::Inline(index)
            }
            Expr::Name(_) | Expr::Attribute(_) => {
                self.load(expr);
                self.callee_of(expr).map_or(Arg::Other, Arg::Callable)
            }
            Expr::Call(call)
                if matches!(self.callee_of(&call.func),
                    Some(Callee::Path(p)) if p == "functools.partial") =>
            {
                let mut args = call.arguments.args.iter();
                let inner = args.next().map_or(Arg::Other, |f| self.lower_arg(f));
                for rest in args {
                    self.visit_expr(rest);
                }
                for keyword in &call.arguments.keywords {
                    self.visit_expr(&keyword.value);
                }
                inner
            }
            Expr::Call(call) => {
                self.visit_expr(expr);
                self.callee_of(&call.func)
                    .map_or(Arg::Other, Arg::Coroutine)
            }
            Expr::Starred(starred) => {
                self.visit_expr(expr);
                let element = match &*starred.value {
                    Expr::ListComp(c) => Some(&*c.elt),
                    Expr::Generator(g) => Some(&*g.elt),
                    Expr::List(l) => l.elts.first(),
                    Expr::Tuple(t) => t.elts.first(),
                    _ => None,
                };
                match element {
                    Some(Expr::Call(call)) => self
                        .callee_of(&call.func)
                        .map_or(Arg::Other, Arg::Coroutine),
                    _ => Arg::Other,
                }
            }
            other => {
                self.visit_expr(other);
                Arg::Other
            }
        }
    }

    /// The first argument of `list(x)`, `json.dumps(x)`, …: an iteration of `x`.
    fn lower_iterated_arg(&mut self, expr: &Expr) -> Arg {
        match self.state_chain(expr) {
            Some(chain)
                if matches!(
                    expr,
                    Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_)
                ) =>
            {
                let span = self.span_of(expr);
                self.record(chain.path, AccessKind::Iterate, span, false);
                self.visit_chain_parts(expr);
                Arg::Other
            }
            _ => self.lower_arg(expr),
        }
    }

    /// Visits an iterated expression (`for … in x`, a comprehension's source): `x`,
    /// `x.items()`, or `enumerate(x)` iterate `x` step by step.
    fn iterate(&mut self, expr: &Expr) {
        match expr {
            // `x[:]` copies in one step: a read, then the copy is iterated.
            Expr::Subscript(s) if matches!(&*s.slice, Expr::Slice(_)) => self.visit_expr(expr),
            Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_) => match self.state_chain(expr)
            {
                Some(chain) => {
                    let span = self.span_of(expr);
                    self.record(chain.path, AccessKind::Iterate, span, false);
                    self.visit_chain_parts(expr);
                }
                None => self.visit_expr(expr),
            },
            Expr::Call(call) if call.arguments.args.is_empty() => match &*call.func {
                Expr::Attribute(view) if ITERATED_VIEWS.contains(&view.attr.as_str()) => {
                    match self.state_chain(&view.value) {
                        Some(chain) => {
                            let span = self.span_of(&*call.func);
                            self.record(chain.path, AccessKind::Iterate, span, true);
                            self.visit_chain_parts(&view.value);
                        }
                        None => self.visit_expr(expr),
                    }
                }
                _ => self.visit_expr(expr),
            },
            Expr::Call(call) if matches!(&*call.func, Expr::Name(n) if LAZY_ITERATORS.contains(&n.id.as_str())) =>
            {
                for arg in &call.arguments.args {
                    self.iterate(arg);
                }
                for keyword in &call.arguments.keywords {
                    self.visit_expr(&keyword.value);
                }
            }
            _ => self.visit_expr(expr),
        }
    }

    /// The locations a test reads (`hasattr(self, "_x")` reads `self._x`).
    fn test_paths(&self, test: &Expr) -> Vec<String> {
        let mut paths = Vec::new();
        any_over_expr(test, |e| {
            match e {
                Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_) => {
                    if let Some(chain) = self.state_chain(e) {
                        paths.push(chain.path);
                    }
                }
                Expr::Call(call) if matches!(&*call.func, Expr::Name(n) if n.id.as_str() == "hasattr") => {
                    if let [object, Expr::StringLiteral(name), ..] = &*call.arguments.args {
                        if let Some(chain) = self.chain(object).filter(|c| !c.inner) {
                            paths.push(format!("{}.{}", chain.path, name.value.to_str()));
                        }
                    }
                }
                _ => {}
            }
            false
        });
        paths
    }

    fn record_await(&mut self, span: Span) {
        let locks = self.scope().held();
        let func = self.scope().func;
        self.functions[func].awaits.push(Await { span, locks });
    }

    /// `lock.acquire()` / `lock.release()` as a statement: the canonical lock path.
    fn lock_call(&self, expr: &Expr, method: &str) -> Option<String> {
        let Expr::Call(call) = expr else { return None };
        let Expr::Attribute(a) = &*call.func else {
            return None;
        };
        if a.attr.as_str() != method {
            return None;
        }
        self.chain(&a.value).filter(|c| !c.inner).map(|c| c.path)
    }

    // ----- definitions --------------------------------------------------------------

    fn function_def(&mut self, def: &StmtFunctionDef, class: Option<usize>) -> usize {
        let name = def.name.as_str();
        let decorators: Vec<CallSite> = def
            .decorator_list
            .iter()
            .filter_map(|d| self.decorator(&d.expression))
            .collect();
        let is_static = decorators
            .iter()
            .any(|d| d.callee == Callee::Path("staticmethod".to_string()));
        let (path, display, class_path) = match class {
            Some(c) => {
                let class = &self.classes[c];
                (
                    format!("{}.{name}", class.path),
                    format!("{}.{name}", class.name),
                    Some(class.path.clone()),
                )
            }
            None if self.scope().is_module => (self.qualify(name), name.to_string(), None),
            None => {
                let parent = &self.functions[self.scope().func];
                (
                    format!("{}.{name}", parent.path),
                    format!("{}.{name}", parent.display),
                    None,
                )
            }
        };
        let index = self.push_function(Function {
            path: path.clone(),
            display,
            name: name.to_string(),
            class: class_path,
            is_async: def.is_async,
            span: self.span_of(&def.name),
            decorators,
            calls: Vec::new(),
            accesses: Vec::new(),
            awaits: Vec::new(),
            is_initializer: class.is_some() && INITIALIZERS.contains(&name),
        });
        if !self.scope().is_module && class.is_none() {
            self.scope_mut().imports.insert(name.to_string(), path);
        }

        let bindings = scope::bindings(&def.body);
        let mut scope = Scope::new(index, false);
        scope.class = class;
        scope.locals = bindings.locals;
        scope.globals = bindings.globals;
        for param in def.parameters.iter() {
            let param_name = param.name().as_str().to_string();
            if let Some(ty) = param.annotation().and_then(|a| self.annotation_type(a)) {
                scope.types.insert(param_name.clone(), ty);
            }
            scope.locals.insert(param_name);
        }
        if class.is_some() && !is_static {
            scope.self_name = def
                .parameters
                .posonlyargs
                .iter()
                .chain(&def.parameters.args)
                .next()
                .map(|p| p.name().as_str().to_string());
        }
        self.scopes.push(scope);
        for stmt in &def.body {
            self.visit_stmt(stmt);
        }
        self.scopes.pop();
        index
    }

    fn decorator(&mut self, expr: &Expr) -> Option<CallSite> {
        let (func, call) = match expr {
            Expr::Call(call) => (&*call.func, Some(call)),
            other => (other, None),
        };
        let callee = self.callee_of(func)?;
        let (args, keywords) = match call {
            Some(call) => (
                call.arguments
                    .args
                    .iter()
                    .map(|a| self.lower_arg(a))
                    .collect(),
                call.arguments
                    .keywords
                    .iter()
                    .filter_map(|k| {
                        let arg = self.lower_arg(&k.value);
                        k.arg.as_ref().map(|n| (n.as_str().to_string(), arg))
                    })
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        Some(CallSite {
            callee,
            span: self.span_of(expr),
            text: format!("@{}", self.text_of(expr)),
            args,
            keywords,
            locks: Vec::new(),
            in_loop: false,
            awaited: false,
            statement_lines: self.statement_lines,
            lock_block: None,
        })
    }

    fn class_def(&mut self, def: &StmtClassDef) {
        let name = def.name.as_str();
        let path = if self.scope().is_module {
            self.qualify(name)
        } else {
            format!("{}.{name}", self.functions[self.scope().func].path)
        };
        let bases = def
            .arguments
            .iter()
            .flat_map(|a| a.args.iter())
            .filter_map(|b| match self.callee_of(b)? {
                Callee::Path(p) => Some(p),
                Callee::Method(_) => None,
            })
            .collect();
        self.classes.push(Class {
            path: path.clone(),
            name: name.to_string(),
            span: self.span_of(&def.name),
            bases,
            methods: Vec::new(),
            attributes: Vec::new(),
            invariant: None,
        });
        let class = self.classes.len() - 1;
        if !self.scope().is_module {
            self.scope_mut().imports.insert(name.to_string(), path);
        }
        for stmt in &def.body {
            match stmt {
                Stmt::FunctionDef(f) => {
                    let index = self.function_def(f, Some(class));
                    self.classes[class]
                        .methods
                        .push((f.name.as_str().to_string(), index));
                }
                Stmt::Assign(a) => {
                    self.visit_expr(&a.value);
                    for target in &a.targets {
                        if let Expr::Name(n) = target {
                            let ty = self.constructor_of(&a.value);
                            let span = self.span_of(target);
                            let invariant = self.invariant_at(span.start.line, Some(class));
                            let def = AttributeDef {
                                ty,
                                span,
                                class_level: true,
                                invariant,
                            };
                            add_attribute(&mut self.classes[class], n.id.as_str(), def);
                        }
                    }
                }
                Stmt::AnnAssign(a) => {
                    if let Some(value) = &a.value {
                        self.visit_expr(value);
                    }
                    if let Expr::Name(n) = &*a.target {
                        let ty = a
                            .value
                            .as_deref()
                            .and_then(|v| self.constructor_of(v))
                            .or_else(|| self.annotation_type(&a.annotation));
                        let span = self.span_of(&*a.target);
                        let invariant = self.invariant_at(span.start.line, Some(class));
                        let def = AttributeDef {
                            ty,
                            span,
                            class_level: true,
                            invariant,
                        };
                        add_attribute(&mut self.classes[class], n.id.as_str(), def);
                    }
                }
                other => self.visit_stmt(other),
            }
        }
        self.classes[class].invariant = self.class_invariant(def, class);
        if self.scope().is_module {
            self.symbols.push(Symbol {
                name: name.to_string(),
                kind: SymbolKind::Class(class),
                span: self.span_of(&def.name),
                invariant: None,
            });
        }
    }
}

/// A lock expression held at some point of a function body.
struct HeldLock {
    path: String,
    block: Option<(u32, u32)>,
    is_async: bool,
}

impl Scope {
    /// Locks taken with `with`/`acquire()`.
    fn held(&self) -> Vec<String> {
        self.held_where(false)
    }

    /// Locks taken with `async with`.
    fn held_async(&self) -> Vec<String> {
        self.held_where(true)
    }

    fn held_where(&self, is_async: bool) -> Vec<String> {
        self.locks
            .iter()
            .filter(|l| l.is_async == is_async)
            .map(|l| l.path.clone())
            .collect()
    }

    fn new(func: usize, is_module: bool) -> Self {
        Scope {
            func,
            is_module,
            class: None,
            self_name: None,
            locals: HashSet::new(),
            globals: HashSet::new(),
            imports: HashMap::new(),
            types: HashMap::new(),
            aliases: HashMap::new(),
            fresh: HashSet::new(),
            locks: Vec::new(),
            loop_depth: 0,
            checks: Vec::new(),
        }
    }
}

/// What is known about one attribute assignment.
struct AttributeDef {
    ty: Option<String>,
    span: Span,
    class_level: bool,
    invariant: Option<Invariant>,
}

fn add_attribute(class: &mut Class, name: &str, def: AttributeDef) {
    match class.attributes.iter_mut().find(|a| a.name == name) {
        Some(existing) => {
            if existing.ty.is_none() {
                existing.ty = def.ty;
            }
            if existing.invariant.is_none() {
                existing.invariant = def.invariant;
            }
            existing.class_level |= def.class_level;
        }
        None => class.attributes.push(Attribute {
            name: name.to_string(),
            ty: def.ty,
            span: def.span,
            class_level: def.class_level,
            invariant: def.invariant,
        }),
    }
}

fn is_literal(expr: &Expr) -> bool {
    match expr {
        Expr::NumberLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::BytesLiteral(_) => true,
        Expr::UnaryOp(op) => matches!(&*op.operand, Expr::NumberLiteral(_)),
        _ => false,
    }
}

fn args_and_keywords_pass_callable(args: &[Arg], keywords: &[(String, Arg)]) -> bool {
    args.iter()
        .chain(keywords.iter().map(|(_, a)| a))
        .any(|a| !matches!(a, Arg::Other))
}

fn parameter_names(params: &Parameters) -> impl Iterator<Item = String> + '_ {
    params.iter().map(|p| p.name().as_str().to_string())
}

impl Lowerer<'_> {
    /// Lowers one statement (the visitor's `visit_stmt` tracks its lines first).
    fn lower_stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::FunctionDef(def) => {
                let index = self.function_def(def, None);
                if self.scope().is_module {
                    self.symbols.push(Symbol {
                        name: def.name.as_str().to_string(),
                        kind: SymbolKind::Function(index),
                        span: self.span_of(&def.name),
                        invariant: None,
                    });
                }
            }
            Stmt::ClassDef(def) => self.class_def(def),
            Stmt::Assign(a) => {
                self.visit_expr(&a.value);
                for target in &a.targets {
                    self.store(target, Some(&a.value));
                }
            }
            Stmt::AnnAssign(a) => {
                if let Some(value) = &a.value {
                    self.visit_expr(value);
                    self.store(&a.target, Some(value));
                } else if let Expr::Name(n) = &*a.target {
                    // A bare declaration: only the annotation's type is learnt.
                    if let Some(ty) = self.annotation_type(&a.annotation) {
                        if self.scope().is_module {
                            let span = self.span_of(&*a.target);
                            self.set_variable(n.id.as_str(), Some(ty), span);
                        } else {
                            self.scope_mut().types.insert(n.id.as_str().to_string(), ty);
                        }
                    }
                }
                if let (Expr::Name(n), Some(_)) = (&*a.target, &a.value) {
                    if !self.scope().is_module && !self.scope().types.contains_key(n.id.as_str()) {
                        if let Some(ty) = self.annotation_type(&a.annotation) {
                            self.scope_mut().types.insert(n.id.as_str().to_string(), ty);
                        }
                    }
                }
            }
            Stmt::AugAssign(a) => {
                self.visit_expr(&a.value);
                match &*a.target {
                    Expr::Name(n) => self.store_name(n.id.as_str(), &a.target, None, true),
                    target => self.write_through(target, AccessKind::ReadModifyWrite),
                }
            }
            Stmt::Delete(d) => {
                for target in &d.targets {
                    match target {
                        Expr::Name(n) => {
                            let is_global = self.scope().is_module
                                || self.scope().globals.contains(n.id.as_str());
                            if is_global {
                                let span = self.span_of(target);
                                self.record(
                                    self.qualify(n.id.as_str()),
                                    AccessKind::Rebind,
                                    span,
                                    false,
                                );
                            }
                        }
                        _ => self.write_through(target, AccessKind::Mutation),
                    }
                }
            }
            Stmt::For(f) => {
                if f.is_async {
                    let span = self.span_of(&*f.iter);
                    self.record_await(span);
                }
                self.iterate(&f.iter);
                self.store(&f.target, None);
                self.scope_mut().loop_depth += 1;
                for s in &f.body {
                    self.visit_stmt(s);
                }
                self.scope_mut().loop_depth -= 1;
                for s in &f.orelse {
                    self.visit_stmt(s);
                }
            }
            Stmt::While(w) => {
                self.visit_expr(&w.test);
                let checked = (self.test_paths(&w.test), self.statement_lines);
                self.scope_mut().checks.push(checked);
                self.scope_mut().loop_depth += 1;
                for s in &w.body {
                    self.visit_stmt(s);
                }
                self.scope_mut().loop_depth -= 1;
                self.scope_mut().checks.pop();
                for s in &w.orelse {
                    self.visit_stmt(s);
                }
            }
            Stmt::With(w) => {
                let mut pushed = 0;
                for item in &w.items {
                    self.visit_expr(&item.context_expr);
                    if w.is_async {
                        let span = self.span_of(&item.context_expr);
                        self.record_await(span);
                    }
                    if matches!(item.context_expr, Expr::Name(_) | Expr::Attribute(_)) {
                        if let Some(chain) = self.chain(&item.context_expr).filter(|c| !c.inner) {
                            let block = self.statement_lines;
                            self.scope_mut().locks.push(HeldLock {
                                path: chain.path,
                                block: Some(block),
                                is_async: w.is_async,
                            });
                            pushed += 1;
                        }
                    }
                    if let Some(vars) = &item.optional_vars {
                        match (&**vars, self.constructor_of(&item.context_expr)) {
                            (Expr::Name(n), Some(ty)) if !self.scope().is_module => {
                                self.scope_mut().types.insert(n.id.as_str().to_string(), ty);
                            }
                            (target, _) => self.store(target, None),
                        }
                    }
                }
                for s in &w.body {
                    self.visit_stmt(s);
                }
                let locks = &mut self.scope_mut().locks;
                locks.truncate(locks.len().saturating_sub(pushed));
            }
            Stmt::If(i) => {
                self.visit_expr(&i.test);
                // Every branch acts on what the test saw: writes there are checked.
                let mut tested = self.test_paths(&i.test);
                for clause in &i.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        tested.extend(self.test_paths(test));
                    }
                }
                let lines = self.statement_lines;
                self.scope_mut().checks.push((tested, lines));
                let lock = self.lock_call(&i.test, "acquire");
                if let Some(lock) = &lock {
                    self.scope_mut().locks.push(HeldLock {
                        path: lock.clone(),
                        block: None,
                        is_async: false,
                    });
                }
                for s in &i.body {
                    self.visit_stmt(s);
                }
                if lock.is_some() {
                    self.scope_mut().locks.pop();
                }
                for clause in &i.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        self.visit_expr(test);
                    }
                    for s in &clause.body {
                        self.visit_stmt(s);
                    }
                }
                self.scope_mut().checks.pop();
            }
            Stmt::Expr(e) => {
                self.visit_expr(&e.value);
                if let Some(lock) = self.lock_call(&e.value, "acquire") {
                    self.scope_mut().locks.push(HeldLock {
                        path: lock,
                        block: None,
                        is_async: false,
                    });
                } else if let Some(lock) = self.lock_call(&e.value, "release") {
                    let locks = &mut self.scope_mut().locks;
                    if let Some(at) = locks.iter().rposition(|l| l.path == lock) {
                        locks.remove(at);
                    }
                }
            }
            Stmt::Import(_) | Stmt::ImportFrom(_) => {
                if !self.scope().is_module {
                    for (name, path) in self.import_bindings(stmt) {
                        self.scope_mut().imports.insert(name, path);
                    }
                } else {
                    for (name, path) in self.import_bindings(stmt) {
                        let span = self.span_of(stmt);
                        self.symbols.push(Symbol {
                            name,
                            kind: SymbolKind::Alias(path),
                            span,
                            invariant: None,
                        });
                    }
                }
            }
            Stmt::Try(t) if self.scope().is_module => {
                for s in &t.body {
                    self.visit_stmt(s);
                }
                let bound_in_try: HashSet<String> =
                    self.symbols.iter().map(|s| s.name.clone()).collect();
                let before_handlers = self.symbols.len();
                for ExceptHandler::ExceptHandler(h) in &t.handlers {
                    for s in &h.body {
                        self.visit_stmt(s);
                    }
                }
                // `try: from _c import f / except ImportError: def f(): …` — when the
                // import works (the usual case) the fallback never binds the name.
                let mut index = before_handlers;
                while index < self.symbols.len() {
                    if bound_in_try.contains(&self.symbols[index].name) {
                        self.symbols.remove(index);
                    } else {
                        index += 1;
                    }
                }
                for s in t.orelse.iter().chain(&t.finalbody) {
                    self.visit_stmt(s);
                }
            }
            Stmt::Global(_) | Stmt::Nonlocal(_) | Stmt::TypeAlias(_) => {}
            _ => walk_stmt(self, stmt),
        }
    }
}

impl<'a> Visitor<'a> for Lowerer<'_> {
    fn visit_comprehension(&mut self, comprehension: &'a Comprehension) {
        self.iterate(&comprehension.iter);
        self.store(&comprehension.target, None);
        for condition in &comprehension.ifs {
            self.visit_expr(condition);
        }
    }

    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        let span = self.span_of(stmt);
        let outer = std::mem::replace(&mut self.statement_lines, (span.start.line, span.end.line));
        self.lower_stmt(stmt);
        self.statement_lines = outer;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        match expr {
            Expr::Name(n) if n.ctx == ExprContext::Load => self.load(expr),
            Expr::Attribute(a) if a.ctx == ExprContext::Load => self.load(expr),
            Expr::Subscript(s) if s.ctx == ExprContext::Load => self.load(expr),
            Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_) => {}
            Expr::Call(call) => self.call(call),
            Expr::Lambda(_) => {
                self.lower_arg(expr);
            }
            Expr::Await(awaited) => {
                let span = self.span_of(expr);
                self.record_await(span);
                let outer = self
                    .awaited
                    .replace(awaited.value.range().start().to_usize());
                walk_expr(self, expr);
                self.awaited = outer;
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                self.scope_mut().loop_depth += 1;
                walk_expr(self, expr);
                self.scope_mut().loop_depth -= 1;
            }
            _ => walk_expr(self, expr),
        }
        self.depth -= 1;
    }
}
