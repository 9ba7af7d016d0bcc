//! Lowers one Python module's AST to the language-neutral model.
//!
//! Names are canonicalised as far as the file itself allows: through its imports
//! (relative ones included), `self`/`cls`, local constructor calls and annotations.
//! Everything that needs another file is left as a dotted path for the analysis.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use thin_vec::ThinVec;

use ruff_python_ast::helpers::any_over_expr;
use ruff_python_ast::visitor::{walk_expr, walk_stmt, Visitor};
use ruff_python_ast::{
    CmpOp, Comprehension, ExceptHandler, Expr, ExprCall, ExprContext, Parameters, Stmt,
    StmtClassDef, StmtFunctionDef, StmtIf, UnaryOp,
};
use ruff_text_size::Ranged;

use super::scope;

use crate::model::{
    item_segment, parameter_of, parameter_path, returned_parameter, Access, AccessKind, Arg,
    ArgSlot, Attribute, Await, CallSite, CalledParameter, Callee, Class, DeclaredContext,
    FileModel, Function, HeldField, InsertionPoint, Invariant, ItemUpdate, OwnedArg, Owner, Span,
    Symbol, SymbolKind, Thunk, AWAITED, ELEMENT, LOCAL_LOCK, SPREAD_VARARGS, SUPER,
};
use crate::source::LineIndex;

mod accesses;
mod calls;
mod definitions;
mod invariants;
mod names;
mod origins;
mod ownership;
pub(super) use ownership::class_like;
mod platforms;
mod statements;
mod stored;

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
    "move_to_end",
    "__setitem__",
    "__delitem__",
];

/// Mutating methods that change a container only when given arguments: called with
/// none (`client.update()`, `entity.add()`), the receiver is no builtin container but
/// some other object, whose method racelint cannot see into.
const MUTATING_WITH_ARGUMENTS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "remove",
    "update",
    "setdefault",
    "add",
    "discard",
    "appendleft",
    "extendleft",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
    "move_to_end",
];

/// Views that a `for` loop or comprehension iterates lazily over their receiver.
const ITERATED_VIEWS: &[&str] = &["items", "keys", "values"];

/// Lazy wrappers: iterating them iterates their arguments.
const LAZY_ITERATORS: &[&str] = &["enumerate", "zip", "reversed", "iter", "filter", "map"];

/// Functions that walk their first argument. Copying with `list(d)`, `dict(d)` or
/// `sorted(d)` is an iteration too: under free-threaded Python, and through views
/// (`list(d.values())`), another thread resizing `d` meanwhile breaks it; the fix
/// is a snapshot taken under the lock every writer holds.
const ITERATING_CALLS: &[&str] = &[
    "list",
    "tuple",
    "dict",
    "set",
    "frozenset",
    "sorted",
    "sum",
    "copy.copy",
    "copy.deepcopy",
    "json.dump",
    "json.dumps",
];

/// Methods that copy their receiver by walking it.
const COPYING_METHODS: &[&str] = &["copy"];

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
    /// Module-level names bound to what a class's constructor built (`POOL =
    /// ThreadPoolExecutor()`): objects, however they are named, never classes.
    module_objects: HashSet<String>,
    /// `FileModel::unseen_attribute_stores`.
    unseen_attribute_stores: HashSet<String>,
    /// `FileModel::sets_attributes_by_name`.
    attributes_set_by_name: bool,
    /// `FileModel::typed_attribute_stores`.
    typed_attribute_stores: Vec<(String, Option<String>)>,
    /// Generator expressions returned or stored in a location (`return (x for x in
    /// xs)`), by offset: kept to be consumed later (`Access::lazy`).
    kept_generators: HashSet<usize>,
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
    /// The module's functions that give the loop running on this thread or `None`
    /// (`def _running(): try: return asyncio.get_running_loop() except RuntimeError:
    /// return None`), by canonical path: calling one is a running-loop probe.
    running_loop_helpers: HashSet<String>,
    /// Storing the value of an assignment with several targets (`a = b = Info()`): no
    /// target holds the object alone (`Access::stores_unshared`).
    assigning_many: bool,
}

/// A `# racelint: <invariant>` comment, before it is tied to a definition.
pub struct Directive {
    pub text: String,
    /// The comment is alone on its line (so it may annotate the line below).
    pub own_line: bool,
    pub indent: usize,
}

/// A local bound to (part of) shared state: `data = self.data`.
#[derive(Clone)]
struct Alias {
    /// The state's canonical path.
    path: String,
    /// The parameter slot the aliased chain starts at (see `Access::root`): `data[k] =
    /// v` after `data = self.data` mutates `self`'s own field, as `self.data[k] = v`
    /// does.
    root: Option<usize>,
    /// How far inside the location the alias points (`Chain::depth`).
    depth: u8,
    /// The alias is one element of the container at `path` (`job = JOBS[key]`).
    element: bool,
}

/// How a name inside a function resolves.
enum Resolution {
    /// A canonical path: module global, import, class (through `self`), typed local.
    Path(String),
    /// A local variable holding (part of) the state at this path.
    Alias(Alias),
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
    /// The chain starts at an object the function constructed itself and has not
    /// handed to a call that may keep it.
    private: bool,
    /// The chain starts at an object the function constructed itself and handed to the
    /// call at this offset (`Access::handed_at`).
    handed_at: Option<u32>,
    /// The chain starts at a local bound once to the call at this offset, which may
    /// construct the object (`Access::built_at`).
    built_at: Option<u32>,
    /// The parameter slot the chain starts at (see `Access::root`).
    root: Option<usize>,
    /// How many steps the expression reaches inside the location (`d` 0, `d[k]` 1,
    /// `d[k][j]` 2; through an alias, from where the alias points).
    depth: u8,
    /// The chain starts at a local bound to something inside a location (`Alias` of
    /// depth ≥ 1, `Access::fetched`).
    fetched: bool,
}

/// What a chain says of the object an access goes through (`Lowerer::note_object`).
#[derive(Clone, Copy)]
struct ChainObject {
    handed_at: Option<u32>,
    built_at: Option<u32>,
    fetched: bool,
}

impl Chain {
    fn object(&self) -> ChainObject {
        ChainObject {
            handed_at: self.handed_at,
            built_at: self.built_at,
            fetched: self.fetched,
        }
    }

    /// A location named by its path itself, from no parameter: a class, a closure cell.
    fn location(path: String) -> Chain {
        Chain {
            path,
            inner: false,
            via_alias: false,
            bare_instance: false,
            private: false,
            handed_at: None,
            built_at: None,
            root: None,
            depth: 0,
            fetched: false,
        }
    }
}

struct Scope {
    func: usize,
    is_module: bool,
    class: Option<usize>,
    self_name: Option<String>,
    /// The name of the function's `*args` parameter.
    vararg: Option<String>,
    locals: HashSet<String>,
    globals: HashSet<String>,
    /// Locals declared `nonlocal`: the enclosing function's variables.
    nonlocals: HashSet<String>,
    /// Fresh locals passed to a call that may keep them, with the first such call's
    /// offset (`Access::handed_at`).
    handed: HashMap<String, u32>,
    /// Locals (not parameters) that a nested function or lambda names: closure cells,
    /// state shared with whatever runs that nested function (`scope::captured`).
    captured: HashSet<String>,
    /// Function-local imports and nested definitions.
    imports: HashMap<String, String>,
    /// Locals whose type we know (constructor call, annotation, `with X() as y`).
    types: HashMap<String, String>,
    /// Locals and parameters annotated as containers, with their elements' type
    /// (`jobs: dict[str, Job]`).
    elements: HashMap<String, String>,
    /// Locals and parameters annotated as fixed-length tuples, with each item's type
    /// (`pair: tuple[str, Job]`).
    items: HashMap<String, Vec<Option<String>>>,
    /// Locals and parameters annotated as containers of such tuples, with each item's
    /// type (`pairs: list[tuple[str, Job]]`).
    element_items: HashMap<String, Vec<Option<String>>>,
    /// Locals bound to shared state (`job = jobs[job_id]`).
    aliases: HashMap<String, Alias>,
    /// Locals bound to an entry looked up by key (`job = jobs.get(job_id)`, `pop`,
    /// `setdefault`): typed as the container's element, whose attributes and methods
    /// are its class's, and, through a subscript (`job["status"]`), the contents of an
    /// entry of the container (`Access::fetched`), as through `job = jobs[job_id]`.
    looked_up: HashMap<String, Alias>,
    /// Locals bound to an object this function constructed (`scratch = Session()`):
    /// nobody else holds it, so nothing reached through it is shared.
    fresh: HashSet<String>,
    /// Per local, the other types it was bound to before its latest binding (`pool =
    /// ThreadPoolExecutor()` … `pool = ProcessPoolExecutor()` in a branch): a `return`
    /// of it may give any of them (`Function::returns_fresh`).
    earlier_types: HashMap<String, Vec<String>>,
    /// Locals bound once, to a call of what may be a class, with that call's offset
    /// (`ValueOrigin::Built`), once the binding is lowered.
    built: HashMap<String, u32>,
    /// Locals (not parameters) bound more than once, each time to a call, with those
    /// calls' offsets (`ValueOrigin::BuiltEither`).
    built_each: HashMap<String, Vec<u32>>,
    /// Locals bound more than once, or that a nested function may rebind (`nonlocal`).
    rebound: HashSet<String>,
    /// Fresh locals the body has let escape (stored, returned, handed on): from then on
    /// they are not owned objects to pass on. The function's own accesses through them
    /// stay private, as the front-end has always treated constructed locals.
    escaped: HashSet<String>,
    /// In an `__init__`: fields used only through their members after one constructor
    /// assignment (`ownership::private_fields`), and of those, the ones assigned
    /// so far, with their constructor (`Owner::ConstructedField`).
    private_fields: HashSet<String>,
    constructed_fields: HashMap<String, String>,
    /// Members of fresh locals passed on so far (`print(job.name)`): whether that let
    /// the object escape depends on the member's kind, which `analysis::ownership`
    /// decides from the class.
    members_passed: HashMap<String, Vec<String>>,
    /// Some `return` gives back something other than a fresh object (see
    /// `Function::returns_fresh`).
    returns_other: bool,
    /// Whether every `return` so far gives back the first parameter as passed (`None`
    /// before the first): `Function::returns_argument`.
    returns_first_parameter: Option<bool>,
    /// Parameters the body rebinds: past that point the name is not the parameter.
    rebound_params: HashSet<String>,
    /// The thread locks held at every `yield` so far (`None` before the first).
    held_at_yields: Option<Vec<String>>,
    /// Locals bound to a call's result, with the call's index in the function's calls
    /// (`fut = loop.run_in_executor(…)`), until rebound: for `CallSite::result_awaited_end`.
    results: HashMap<String, usize>,
    /// Lock expressions held, each with the lines of the `with` that took it, and
    /// whether it was taken with `async with` (then it cannot be a thread lock).
    locks: Vec<HeldLock>,
    /// How many loops or comprehensions enclose the current point.
    loop_depth: usize,
    /// How many generator expressions enclose the current point (`Access::lazy`).
    lazy_depth: usize,
    /// How many enclosing branches only the event loop's thread takes
    /// (`Access::on_loop_thread`).
    on_loop_thread: usize,
    /// Locals ever bound to the running loop (`running = asyncio.get_running_loop()`),
    /// whatever a fallback binds them to (`except RuntimeError: running = None`):
    /// comparing one with the loop work is handed to tells which thread this is.
    running_loops: HashSet<String>,
    /// First line of the outermost enclosing loop, while `loop_depth > 0`.
    loop_start: u32,
    /// Locations read by the tests of enclosing `if`/`while`, with those statements' lines.
    checks: Vec<Check>,
    /// The same for the tests of earlier `if`s whose body exits (`if self._started:
    /// return`), in the enclosing blocks, or in a `with` body before it: what follows
    /// runs only when the test failed. Calls count them as checks (`CallSite::checked`);
    /// accesses do not.
    guards: Vec<Check>,
    /// Locations known to be unset here (`None` or falsy): inside `if x is None:`, or
    /// after `if x is not None: return` in the same block. Each says whether an
    /// `asyncio` lock was held when it was tested (then an `await` keeps it known).
    unset: Vec<(String, bool)>,
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
            module_names: HashMap::default(),
            module_objects: HashSet::default(),
            unseen_attribute_stores: HashSet::default(),
            attributes_set_by_name: false,
            typed_attribute_stores: Vec::new(),
            kept_generators: HashSet::default(),
            functions: Vec::new(),
            classes: Vec::new(),
            symbols: Vec::new(),
            scopes: Vec::new(),
            depth: 0,
            statement_lines: (0, 0),
            assigning_many: false,
            directives,
            awaited: None,
            running_loop_helpers: HashSet::default(),
        }
    }

    pub fn lower_module(&mut self, body: &[Stmt]) {
        self.collect_module_names(body);
        self.collect_module_objects(body);
        self.running_loop_helpers = body
            .iter()
            .filter_map(|stmt| match stmt {
                Stmt::FunctionDef(f) if !f.is_async && statements::gives_running_loop(&f.body) => {
                    Some(self.qualify(f.name.as_str()))
                }
                _ => None,
            })
            .collect();
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
            decorators: ThinVec::new(),
            calls: Vec::new(),
            accesses: Vec::new(),
            awaits: ThinVec::new(),
            is_initializer: true,
            ..Function::default()
        });
        self.scopes.push(Scope::new(module_fn, true));
        self.note_platform_exits(body);
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

    pub fn into_model(mut self, model: &mut FileModel) {
        for function in &mut self.functions {
            // What goes through a parameter is the caller's to name.
            let (through_parameters, accesses) = std::mem::take(&mut function.accesses)
                .into_iter()
                .partition(|a| parameter_of(&a.path).is_some());
            function.accesses = accesses;
            function.param_accesses = through_parameters.into();
            function
                .stored_callables
                .retain(|(path, _)| parameter_of(path).is_none());
            function.returns.retain(|path| parameter_of(path).is_none());
        }
        model.functions = self.functions;
        model.classes = self.classes;
        model.symbols = self.symbols;
        model.unseen_attribute_stores = self.unseen_attribute_stores.into_iter().collect();
        model.unseen_attribute_stores.sort_unstable();
        model.sets_attributes_by_name = self.attributes_set_by_name;
        model.typed_attribute_stores = self.typed_attribute_stores;
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

    /// Entering a loop or comprehension of the current function.
    fn enter_loop(&mut self) {
        let start = self.statement_lines.0;
        let scope = self.scope_mut();
        if scope.loop_depth == 0 {
            scope.loop_start = start;
        }
        scope.loop_depth += 1;
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
}

/// A lock expression held at some point of a function body.
struct HeldLock {
    path: String,
    block: Option<(u32, u32)>,
    is_async: bool,
}

impl Scope {
    /// Locks taken with `with`/`acquire()`.
    fn held<C: FromIterator<String>>(&self) -> C {
        self.held_where(false)
    }

    /// Locks taken with `async with`.
    fn held_async<C: FromIterator<String>>(&self) -> C {
        self.held_where(true)
    }

    /// Collected straight into the list the model keeps (a `ThinVec` for an access or
    /// a call), with no second copy.
    fn held_where<C: FromIterator<String>>(&self, is_async: bool) -> C {
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
            vararg: None,
            locals: HashSet::default(),
            globals: HashSet::default(),
            nonlocals: HashSet::default(),
            handed: HashMap::default(),
            captured: HashSet::default(),
            imports: HashMap::default(),
            types: HashMap::default(),
            aliases: HashMap::default(),
            looked_up: HashMap::default(),
            elements: HashMap::default(),
            items: HashMap::default(),
            element_items: HashMap::default(),
            fresh: HashSet::default(),
            earlier_types: HashMap::default(),
            built: HashMap::default(),
            built_each: HashMap::default(),
            rebound: HashSet::default(),
            escaped: HashSet::default(),
            private_fields: HashSet::default(),
            constructed_fields: HashMap::default(),
            members_passed: HashMap::default(),
            returns_other: false,
            returns_first_parameter: None,
            rebound_params: HashSet::default(),
            held_at_yields: None,
            results: HashMap::default(),
            locks: Vec::new(),
            loop_depth: 0,
            lazy_depth: 0,
            on_loop_thread: 0,
            running_loops: HashSet::default(),
            loop_start: 0,
            checks: Vec::new(),
            guards: Vec::new(),
            unset: Vec::new(),
        }
    }
}

/// What is known about one attribute assignment.
struct AttributeDef {
    ty: Option<String>,
    element: Option<String>,
    span: Span,
    class_level: bool,
    /// A field each instance sets, declared in the class body (`Attribute::instance_field`).
    instance_field: bool,
    /// The class body gives it an immutable literal or nothing (`Attribute::immutable_default`).
    immutable_default: bool,
    invariant: Option<Invariant>,
    /// The value given is the literal `None`, or there is none (`Attribute::only_none`).
    none: bool,
}

fn add_attribute(class: &mut Class, name: &str, def: AttributeDef) {
    match class.attributes.iter_mut().find(|a| a.name == name) {
        Some(existing) => {
            if existing.ty.is_none() {
                existing.ty = def.ty;
            }
            if existing.element.is_none() {
                existing.element = def.element;
            }
            if existing.invariant.is_none() {
                existing.invariant = def.invariant;
            }
            if def.class_level {
                existing.instance_field =
                    def.instance_field && (existing.instance_field || !existing.class_level);
            }
            if def.class_level {
                existing.immutable_default =
                    def.immutable_default && (existing.immutable_default || !existing.class_level);
            }
            existing.class_level |= def.class_level;
            existing.only_none &= def.none;
        }
        None => class.attributes.push(Attribute {
            name: name.to_string(),
            ty: def.ty,
            element: def.element,
            span: def.span,
            class_level: def.class_level,
            instance_field: def.instance_field,
            immutable_default: def.immutable_default,
            invariant: def.invariant,
            only_none: def.none,
            mentions: Vec::new(),
        }),
    }
}

/// A literal's identity for `Access::writes_constant`: FNV-1a over its normalised
/// text (two different literals may share one, a 32-bit hash, which only ever hides a
/// race between those two values).
fn literal_hash(text: &str) -> std::num::NonZeroU32 {
    let hash = text.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    std::num::NonZeroU32::new(hash).unwrap_or(std::num::NonZeroU32::MIN)
}

/// The test of an `if` or `while`: the locations it reads, the statement's lines, and
/// the locks held when it ran.
#[derive(Clone)]
struct Check {
    paths: Vec<String>,
    lines: (u32, u32),
    locks: Vec<String>,
}

/// A container display or comprehension: a new object each time it runs.
fn is_display(expr: &Expr) -> bool {
    matches!(
        expr,
        Expr::List(_)
            | Expr::Dict(_)
            | Expr::Set(_)
            | Expr::ListComp(_)
            | Expr::DictComp(_)
            | Expr::SetComp(_)
    )
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

impl<'a> Visitor<'a> for Lowerer<'_> {
    fn visit_comprehension(&mut self, comprehension: &'a Comprehension) {
        let span = self.span_of(&comprehension.iter);
        let method = if comprehension.is_async {
            "__aiter__"
        } else {
            "__iter__"
        };
        self.protocol_call(&comprehension.iter, method, span);
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
            // `(items := [])` rebinds a parameter from here on, as an assignment does.
            Expr::Named(named) if matches!(&*named.target, Expr::Name(_)) => {
                if let Expr::Name(n) = &*named.target {
                    self.note_rebound(n.id.as_str());
                }
                walk_expr(self, expr);
            }
            // A generator suspended at a `yield` with a lock held hands that lock to
            // the body of the `with` that entered it (`@contextmanager`): the locks
            // held at every `yield` it has.
            Expr::Yield(_) | Expr::YieldFrom(_) if !self.scope().is_module => {
                let held = self.scope().held();
                let scope = self.scope_mut();
                scope.held_at_yields = Some(match scope.held_at_yields.take() {
                    None => held,
                    Some(before) => before.into_iter().filter(|l| held.contains(l)).collect(),
                });
                walk_expr(self, expr);
            }
            Expr::Name(n) if n.ctx == ExprContext::Load => {
                // A bare name used as a value (stored, returned, put in a container,
                // captured): the object it names may now be held elsewhere.
                self.load(expr);
                self.escape(n.id.as_str(), false);
            }
            // `x is None`, `a == b`: comparing lets nothing escape.
            // `x is None` reads the reference alone, never what it refers to.
            Expr::Compare(compare) => {
                let identity = compare
                    .ops
                    .iter()
                    .all(|op| matches!(op, CmpOp::Is | CmpOp::IsNot));
                for (op, container) in compare.ops.iter().zip(compare.comparators.iter()) {
                    if matches!(op, CmpOp::In | CmpOp::NotIn) {
                        let span = self.span_of(expr);
                        self.protocol_call(container, "__contains__", span);
                    }
                }
                for operand in std::iter::once(&*compare.left).chain(compare.comparators.iter()) {
                    let func = self.scope().func;
                    let before = self.functions[func].accesses.len();
                    match operand {
                        Expr::Name(_) => self.load(operand),
                        other => self.visit_expr(other),
                    }
                    if identity && matches!(operand, Expr::Name(_) | Expr::Attribute(_)) {
                        let span = self.span_of(operand);
                        for access in &mut self.functions[func].accesses[before..] {
                            if access.span == span && access.kind == AccessKind::Read {
                                access.reference_only = true;
                            }
                        }
                    }
                }
            }
            Expr::Attribute(a) if a.ctx == ExprContext::Load => self.load(expr),
            Expr::Subscript(s) if s.ctx == ExprContext::Load => {
                let span = self.span_of(expr);
                self.protocol_call(&s.value, "__getitem__", span);
                self.load(expr);
            }
            Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_) => {}
            Expr::Call(call) => self.call(call),
            Expr::Lambda(_) => {
                self.lower_arg(expr);
            }
            Expr::Await(awaited) => {
                let span = self.span_of(expr);
                self.record_await(span);
                self.note_result_awaited(&awaited.value, span);
                let outer = self
                    .awaited
                    .replace(awaited.value.range().start().to_usize());
                walk_expr(self, expr);
                self.awaited = outer;
            }
            // `{**d}` walks `d`.
            Expr::Dict(dict) if dict.items.iter().any(|item| item.key.is_none()) => {
                for item in &dict.items {
                    match &item.key {
                        None => self.iterate(&item.value),
                        Some(key) => {
                            self.visit_expr(key);
                            self.visit_expr(&item.value);
                        }
                    }
                }
            }
            Expr::ListComp(_) | Expr::SetComp(_) | Expr::DictComp(_) | Expr::Generator(_) => {
                // A generator expression iterates where it is consumed: kept for
                // later (returned, stored), all of it, its first iterable's iteration
                // included, is lazy.
                let lazy = matches!(expr, Expr::Generator(_))
                    && self
                        .kept_generators
                        .contains(&expr.range().start().to_usize());
                self.enter_loop();
                self.scope_mut().lazy_depth += usize::from(lazy);
                walk_expr(self, expr);
                let scope = self.scope_mut();
                scope.loop_depth -= 1;
                scope.lazy_depth -= usize::from(lazy);
            }
            _ => walk_expr(self, expr),
        }
        self.depth -= 1;
    }
}
