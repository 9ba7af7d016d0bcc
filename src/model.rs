//! The language-neutral model that front-ends produce and the analysis consumes.
//!
//! Nothing here knows about Python or Rust syntax. Names are *dotted paths* that a
//! front-end has canonicalised as far as one file allows (through its own imports,
//! `self`, and known local types); the analysis finishes the job across files.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use thin_vec::ThinVec;

/// A 1-based line/column position; columns count Unicode scalar values.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

/// A source range, end exclusive; `offset`/`len` are byte offsets for code frames.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
    pub offset: usize,
    pub len: usize,
}

/// Index of a file in the program (the order files were sorted in).
pub type FileId = usize;

/// The language a file is written in: rules declare which languages they speak.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Language {
    #[default]
    Python,
    Rust,
}

impl Language {
    /// As rule front matter names it.
    pub fn id(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::Rust => "rust",
        }
    }
}

/// One parsed source file, lowered.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct FileModel {
    pub language: Language,
    /// Path as discovered (relative to the current directory when possible).
    pub path: PathBuf,
    /// Folder the module name is relative to (first ancestor that is not a package).
    pub root: PathBuf,
    /// Dotted module name, e.g. `shop.services.pricing`.
    pub module: String,
    /// A type stub (`.pyi`): it declares names but holds no state and runs nothing.
    pub is_stub: bool,
    /// The decoded source text, kept for code frames in reports. The cache leaves it
    /// out: the file itself is read anyway, to check the entry is for this text.
    #[serde(skip)]
    pub source: String,
    pub functions: Vec<Function>,
    pub classes: Vec<Class>,
    /// Module-level names and what they are bound to.
    pub symbols: Vec<Symbol>,
    pub syntax_errors: Vec<SyntaxError>,
    pub suppressions: Vec<Suppression>,
    /// `unsafe impl Sync/Send for T`: a promise of thread safety the compiler cannot check.
    pub unsafe_impls: Vec<UnsafeImpl>,
    /// Python: where a new module-level statement goes after the leading imports (and
    /// the docstring): where a fix creates a module lock, or adds `import threading`.
    pub after_imports: Option<InsertionPoint>,
    /// Python: attribute names this file stores into through something racelint does
    /// not name (`holder.meter = m` on a local it built or an untyped expression,
    /// `holders[0].meter = m`, `setattr(x, "meter", m)`, `x.__dict__["meter"] = m`),
    /// sorted: any object's attribute of that name may hold anything
    /// (`analysis::holders`).
    pub unseen_attribute_stores: Vec<String>,
    /// Python: this file stores attributes by computed names into objects other than a
    /// method's own `self` (`setattr(obj, key, value)`, `obj.__dict__.update(options)`),
    /// or hands `setattr` or a namespace on (`partial(setattr, x)`, `d = x.__dict__`):
    /// any attribute of any object may hold anything.
    #[serde(default)]
    pub sets_attributes_by_name: bool,
    /// Python: stores into an attribute through a receiver other than a method's own
    /// `self` (`state._pool = ThreadPoolExecutor()` with `state` a module's object), as
    /// (the location's canonical path, the value's canonical type when it has one); a
    /// store of the literal `None` is left out. Where every store agrees on a type, and
    /// the class itself only ever puts `None` there, the attribute has that type
    /// (`analysis::resolve`), so that `state._pool.submit(job)` is the pool's.
    #[serde(default)]
    pub typed_attribute_stores: Vec<(String, Option<String>)>,
}

impl FileModel {
    /// Gives back the spare capacity lowering left in the model's collections (a third
    /// of the whole program's call sites and accesses, measured on the library corpus:
    /// 160 MiB of 1.7 GiB): every lowered file stays in memory until the run ends. Of
    /// the small lists inside each call and access, only the owned arguments are fitted,
    /// where the Python front-end builds the call site (96 MiB); fitting all of them
    /// saved 14 MiB more for 5% more time, one reallocation each.
    pub fn shrink_to_fit(&mut self) {
        self.functions.shrink_to_fit();
        for function in &mut self.functions {
            function.shrink_to_fit();
        }
        self.classes.shrink_to_fit();
        for class in &mut self.classes {
            class.methods.shrink_to_fit();
            class.attributes.shrink_to_fit();
        }
        self.symbols.shrink_to_fit();
    }
}

/// Where a fix can insert a statement: at `offset`, the start of a line, written with
/// `indent` (the indentation of the block it joins).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsertionPoint {
    pub offset: usize,
    pub indent: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UnsafeImpl {
    /// `Sync` or `Send`.
    pub trait_name: String,
    /// Canonical path of the type the promise is made for.
    pub ty: String,
    pub span: Span,
    /// A `// SAFETY:` comment on or directly above the impl explains the invariant.
    pub documented: bool,
}

/// A comment that silences findings (see `suppression`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suppression {
    /// Upper-case rule codes.
    pub codes: Vec<String>,
    /// `ignore-file[…]`: the whole file.
    pub file_level: bool,
    pub reason: String,
    /// The comment.
    pub span: Span,
    /// Alone on its line: it also covers the line below.
    pub own_line: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

/// A module-level binding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    pub span: Span,
    /// A declared invariant on a module variable (`# racelint: loop-only`).
    pub invariant: Option<Invariant>,
}

/// The context a `racelint:` comment on a `def` declares the function runs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeclaredContext {
    WorkerThread,
    EventLoop,
}

/// A concurrency invariant the code declares in a `racelint:` comment; rules check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Invariant {
    /// Only ever touched on the event loop.
    LoopOnly,
    /// Every access holds this lock (a canonical path, like other lock expressions).
    GuardedBy(String),
    /// Only ever replaced whole, never mutated in place.
    ReplacedWholesale,
    /// Safe by the author's word: never reported.
    ThreadSafe,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SymbolKind {
    /// `import x.y as z` or `from x import y as z`: the canonical path it stands for.
    Alias(String),
    Function(usize),
    Class(usize),
    /// A variable; `ty` is the canonical path of the constructor it was bound to, if any.
    Variable {
        ty: Option<String>,
        /// Python: the type of the elements of a container annotated with one
        /// (`JOBS: dict[str, Job]` holds `Job`s).
        element: Option<String>,
        /// Python: the type of each item of a tuple annotated with a fixed length
        /// (`PAIR: tuple[str, Job]`), by position, which unpacking it gives.
        items: Vec<Option<String>>,
    },
    /// A Rust `static` item, `thread_local!` key or `lazy_static!` value.
    Static(Static),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Static {
    /// Every type path the declared type mentions (`Mutex<Vec<Rc<T>>>` mentions `Mutex`,
    /// `Vec`, `Rc` and `T`), canonical as far as the file knows; raw pointers as `*`.
    pub mentions: Vec<String>,
    /// `static mut`: every access is `unsafe` and unsynchronised.
    pub mutable: bool,
    /// A `thread_local!` key: each thread sees its own value.
    pub thread_local: bool,
    /// The declared type and initialiser as written, for fixes.
    pub type_text: String,
    pub init_text: String,
}

/// A class with the attributes its methods assign.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Class {
    /// Canonical dotted path, e.g. `shop.services.pricing.PriceCache`.
    pub path: String,
    pub name: String,
    pub span: Span,
    /// Canonical paths of the bases as written.
    pub bases: Vec<String>,
    /// Method name → index into `FileModel::functions`.
    pub methods: Vec<(String, usize)>,
    /// Attributes assigned in the class body or through `self.<attr> = …`, with the
    /// constructor type when it is known.
    pub attributes: Vec<Attribute>,
    /// An invariant declared in the class body for all its attributes.
    pub invariant: Option<Invariant>,
    /// Python: fields the class's own methods hold privately (`HeldField`).
    pub held_fields: Vec<HeldField>,
    /// Python: where a new first statement of the class body goes (after the docstring).
    pub body_start: Option<InsertionPoint>,
    /// Python: the class statement names a metaclass from outside the standard library,
    /// a decorator called with arguments or from the standard library other than those
    /// that hand the class back (`dataclass`), or a base racelint cannot name: calling
    /// the class may run code that hands back an object that exists already (a
    /// singleton's metaclass `__call__`, `functools.cache`). A project function named
    /// as a decorator is in `decorated_by`.
    pub custom_call: bool,
    /// Python: the project functions (as written) that decorate the class by name
    /// (`@register`): the class stays as it was only if each returns it
    /// (`Function::returns_argument`), which the analysis checks.
    pub decorated_by: Vec<String>,
    /// Python: a method of the class stores attributes by computed names
    /// (`setattr(self, key, value)`, `self.__dict__.update(options)`): any attribute of
    /// its objects may hold anything (`analysis::holders`).
    #[serde(default)]
    pub sets_attributes_by_name: bool,
}

/// A field that `__init__` sets once to an object it constructs (`self._history =
/// History()`), that no method of the class rebinds, and that the class's methods use
/// only through its members (`self._history.add(x)`, `self._history.max`), never as a
/// value (passed, aliased, returned, iterated): the object is its owner's alone, as far
/// as the owner's code goes (`analysis::containment` checks the rest of the program).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeldField {
    pub name: String,
    /// The constructor as written (`History`, canonical path).
    pub constructor: String,
    /// Where the constructor is called.
    pub span: Span,
    /// Members of the object passed on or stored (`render(self._history.max)`): each must
    /// be an attribute's value, not a bound method, which the analysis tells.
    pub members_passed: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    pub ty: Option<String>,
    /// Python: the type of the elements of a container annotated with one
    /// (`self.jobs: dict[str, Job]`).
    pub element: Option<String>,
    /// Every type path a declared field type mentions (Rust struct fields), as in `Static`.
    pub mentions: Vec<String>,
    pub span: Span,
    /// Assigned in the class body: one object shared by every instance.
    pub class_level: bool,
    /// Python: declared in the class body only as a field each instance sets: an
    /// annotated field of a dataclass (or attrs class), `TypedDict`, `NamedTuple` or
    /// pydantic model, not a `ClassVar`, with no default, a constant one or a field
    /// specifier's. The class holds no object of its own for instances to share, and
    /// the generated `__init__` stores its caller's argument there.
    pub instance_field: bool,
    /// Python: every value the class body gives it is a literal of an immutable type
    /// (`features = 0`, `name = None`, `("a", 1)`), or it gives none: an assignment
    /// through an instance (`self.features |= 2`) then gives that instance a value of
    /// its own, where over any other object (`seen = []`, `seen = make_bag()`, a
    /// descriptor) it may change the one object every instance shares.
    pub immutable_default: bool,
    pub invariant: Option<Invariant>,
    /// Python: every value the class gives it, in its body or through `self` in its
    /// methods, is the literal `None`, or it gives none (a bare annotation): the class
    /// itself never puts an object there (`analysis::resolve`'s stored types).
    #[serde(default)]
    pub only_none: bool,
}

/// A function, method, lambda or nested function.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Function {
    /// Canonical dotted path, e.g. `shop.api.orders.create_order`; lambdas get `<lambda@L>`.
    pub path: String,
    /// The name as the user reads it in messages (`PriceCache.refresh`, `flush`).
    pub display: String,
    pub name: String,
    /// Canonical path of the enclosing class for methods.
    pub class: Option<String>,
    pub is_async: bool,
    /// Python: the body yields (a generator, or an `async` generator): it runs a piece at
    /// a time, whenever its consumer asks, not where it is called.
    pub is_generator: bool,
    /// Where the name is (for labels).
    pub span: Span,
    pub decorators: ThinVec<CallSite>,
    pub calls: Vec<CallSite>,
    pub accesses: Vec<Access>,
    /// Python: accesses through a parameter of no known type other than the receiver
    /// (`jobs[key] = job` in `def work(jobs, key)`), by a path that starts at the
    /// parameter's slot (`parameter_path`); locks held there may name parameters too.
    /// They touch whatever each caller passes: a handoff that passes a location makes
    /// them that location's accesses on the thread it starts (`analysis::arguments`).
    pub param_accesses: ThinVec<Access>,
    /// Suspension points (`await`, `async for`, `async with`) and the locks held there.
    pub awaits: ThinVec<Await>,
    /// True for constructors (`__init__`): accesses there are initialisation.
    pub is_initializer: bool,
    /// For a closure, `async` block, nested `def` or lambda: the function it is written
    /// in (index in the file), whose locals it may capture. A Rust closure runs as part
    /// of that function unless it is handed off; a Python one runs where it is called.
    pub parent: Option<usize>,
    /// Python: a `def` in another function's body, which only that body can name.
    pub nested: bool,
    /// Python: when every `return` gives back an object the function built and kept
    /// to itself (`return Job(…)`, or a local `job = Job(…)` it has not let escape), the
    /// constructor of each as written; empty otherwise. A caller's `job = make_job()`
    /// owns what it gets, as if it had built it.
    pub returns_fresh: ThinVec<String>,
    /// Python: every `return` gives back the first parameter as it was passed, and the
    /// body ends with one (`def register(cls): REGISTRY.append(cls); return cls`): a
    /// decorator that leaves what it decorates as it was.
    pub returns_argument: bool,
    /// Python: the declared return type's canonical path (`-> Stats`, `-> Self` as the
    /// method's class), which a call chained on the result is resolved through
    /// (`runtime.stats().register(p)`).
    pub return_type: Option<String>,
    /// Python: the type of each item of a declared fixed-length tuple return (`->
    /// tuple[AbstractEventLoop, Thread]`), by position, which unpacking the result gives.
    pub return_items: ThinVec<Option<String>>,
    /// A method a call on an untyped receiver may mean when its name is unique in the
    /// crate (Rust inherent methods; trait methods are called through many types).
    pub by_name: bool,
    /// Lock guards taken here (Rust), with how long each lives.
    pub guards: ThinVec<Guard>,
    /// Decisions made under one lock acquisition and acted on under another.
    pub check_then_act: ThinVec<CheckThenAct>,
    /// Declared to run on a single-threaded runtime (`flavor = "current_thread"`).
    pub single_threaded: bool,
    /// The body of `#[tokio::main]`: `block_on` polls it on the main thread whatever the
    /// flavor (the tasks it spawns may move).
    pub block_on_body: bool,
    /// A sync function declared to return a lock guard (`-> MutexGuard<'_, T>`).
    pub returns_guard: bool,
    /// Where the code declares this function runs (`# racelint: worker-thread` or
    /// `# racelint: event-loop` on the `def`), for entries racelint cannot see: a
    /// callback a library runs on its own thread, or schedules on the loop.
    pub declared_context: Option<DeclaredContext>,
    /// The body of a module's `if __name__ == "__main__":` block: a program of its
    /// own, run on the main thread when the module is run as a script.
    pub program_root: bool,
    /// Python: the command a package's manifest installs to run this function
    /// (`[project.scripts]`, set by `python::console_scripts`): a program of its own,
    /// on the main thread, as a script's main block is.
    #[serde(skip)]
    pub console_script: Option<String>,
    /// Python: parameter names in the order a caller passes them positionally (a
    /// method's receiver excluded): how a call's arguments meet `Arg::Parameter`.
    pub call_params: Vec<String>,
    /// Python: how many of `call_params` a caller can pass by position (the rest are
    /// keyword-only, after `*args` or `*`).
    pub positional_params: usize,
    /// Python: the body's calls of its own parameters as they were passed (`def
    /// retry(fn): … fn()`): a project function a caller passes there runs right at that
    /// caller's call, on its thread (`analysis::invoked`).
    #[serde(default)]
    pub calls_parameters: ThinVec<CalledParameter>,
    /// Python: the state each `return` statement hands back, by canonical path
    /// (`return self._lock`; `return self._locks[key]` and
    /// `return self._locks.setdefault(key, Lock())` give the container), or a parameter
    /// returned as it was passed (`returned_parameter`): what a `with helper():` holds
    /// when the helper returns a lock.
    pub returns: ThinVec<String>,
    /// Python: the functions or classes whose call result a `return` hands back, as
    /// written (`return make_checker(s)`, or `remove = self._listen(…)` then `return
    /// remove`): a caller storing the result keeps what they return, not them.
    pub returns_result_of: ThinVec<String>,
    /// Python: the names a `return` hands back as they are, by canonical path (`return
    /// PollingWatcher`, `return cls` in a class method; not `self`, a parameter or a
    /// local): calling the result of a function that returns a class builds one.
    #[serde(default)]
    pub returns_named: ThinVec<String>,
    /// Python: the thread-lock expressions this function leaves held for the body of
    /// a `with` that uses it: those held at a generator's first `yield` (a
    /// `@contextmanager`: `with self._lock: yield`), or, for an `__enter__`, acquired
    /// and not released when it returns (`self._lock.acquire()`). `with
    /// self.locked():` and `with Guard(x):` then hold them (`analysis::locks`).
    pub leaves_held: ThinVec<String>,
    /// Python: parameter slots (as in `Access::root`) whose object the body lets escape:
    /// stores it, hands it to another object's method or to a thread, captures it. A
    /// bound method passed to an awaited call is not counted here: whether it escapes
    /// depends on what the call is (`OwnedArg::bound`, `analysis::ownership`).
    pub escaping_params: ThinVec<usize>,
    /// Python: of `escaping_params`, those the body keeps other than by passing them as
    /// a plain argument of a call (stores, returns, puts in a container, captures):
    /// what `analysis::invoked` follows through calls itself.
    #[serde(default)]
    pub keeps_params: ThinVec<usize>,
    /// A sync function declared to return a `RefCell` borrow (`-> Ref<'_, T>`, `RefMut`).
    pub returns_borrow: bool,
    /// Rust: the parameters in order (`self` first for methods), so that the analysis
    /// can follow what callers pass.
    pub params: Vec<Param>,
    /// Rust: for calls (index into `calls`) with arguments, what each argument denotes
    /// as shared state (`Arc::clone(&m)`, `&self.m`); a method call's receiver comes first.
    pub call_args: ThinVec<CallArgs>,
    /// Rust: calls (index into `calls`) that read or write a file or socket this body
    /// opened (`reg.write_to(&mut sock)`, `sock.flush()`): slow work.
    pub io_calls: ThinVec<usize>,
    /// Python, constructors only: where a new first statement of the body goes (after
    /// the docstring): where a fix creates an instance's lock.
    pub body_start: Option<InsertionPoint>,
    /// Python: callables this body keeps in state to be called later, by the canonical
    /// path of the location (`self._on_done = on_done`, `HANDLERS = {"reload": reload}`,
    /// `self._listeners.append(cb)`, `JOBS.put(job)`): what a call through the location
    /// (`self._on_done(r)`, `HANDLERS[name]()`) may run (`analysis::stored_callables`);
    /// and objects (`self.backend = MemoryBackend()`, as an `Arg::Instance`), whose
    /// class's methods a call through the location runs.
    pub stored_callables: ThinVec<(String, Arg)>,
    /// Python: locations the body stores what a call built into, with that call's byte
    /// offset: through a local bound once to it (`loop = asyncio.new_event_loop()` …
    /// `self._loop = loop`), where the object `CallSite::origins` names
    /// `ValueOrigin::Built(offset)` is then the one the location holds (a loop a thread
    /// runs by the local's name), or directly (`self._worker = Worker()`), where it is
    /// the object that construction's `__init__` receives.
    pub stores_built: ThinVec<(String, u32)>,
    /// Python: code of this body that runs only when a platform test holds (`if
    /// sys.platform == "win32":`, its `else`, the rest of a block after `if
    /// os.name == "nt": return`), by byte range in the file.
    pub platform_branches: ThinVec<PlatformBranch>,
    /// Python: the platform tests in force where this function is defined (a `def` in
    /// an `if sys.platform == "win32":` block exists only on Windows).
    pub defined_under: ThinVec<PlatformTest>,
}

fn origin_at<'o>(origins: &'o [(ArgSlot, ValueOrigin)], slot: &ArgSlot) -> Option<&'o ValueOrigin> {
    origins
        .iter()
        .find(|(at, _)| at == slot)
        .map(|(_, origin)| origin)
}

impl CalledParameter {
    /// Where what this call of the parameter passes at `slot` comes from.
    pub fn origin_at(&self, slot: &ArgSlot) -> Option<&ValueOrigin> {
        origin_at(&self.origins, slot)
    }
}

/// A call of a function's own parameter (`fn()` in `def retry(fn)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalledParameter {
    /// Index into `Function::call_params`.
    pub index: usize,
    /// The lock expressions held around the call, as `CallSite::locks`.
    pub locks: Vec<String>,
    /// In a loop: the function passed may run several times.
    pub in_loop: bool,
    /// Where what the call passes it comes from, as `CallSite::origins`.
    pub origins: Vec<(ArgSlot, ValueOrigin)>,
}

/// A test of the platform the process runs on, constant for its whole life:
/// `sys.platform == "win32"` (`variable` `sys.platform`, `value` `win32`), `os.name !=
/// "nt"` (`holds` false), `sys.platform.startswith("linux")` (`prefix`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PlatformTest {
    pub variable: String,
    pub value: String,
    pub prefix: bool,
    pub holds: bool,
}

impl PlatformTest {
    /// The test that holds exactly when this one fails.
    pub fn negated(&self) -> PlatformTest {
        PlatformTest {
            holds: !self.holds,
            ..self.clone()
        }
    }

    /// Whether no process passes both tests: one platform value cannot be `win32` and
    /// `linux`, nor `win32` and not `win32`, nor start with `win` and be `linux`.
    pub fn excludes(&self, other: &PlatformTest) -> bool {
        if self.variable != other.variable {
            return false;
        }
        // Whether every value this test admits fails `other`, for a test that holds.
        let disjoint = |a: &PlatformTest, b: &PlatformTest| match (a.prefix, b.prefix) {
            (false, false) => a.value != b.value,
            (false, true) => !a.value.starts_with(&b.value),
            (true, false) => !b.value.starts_with(&a.value),
            (true, true) => !a.value.starts_with(&b.value) && !b.value.starts_with(&a.value),
        };
        // What a failing test admits: every value but one (`!= "nt"`), or every value
        // without a prefix.
        let covered_by_negation =
            |held: &PlatformTest, failed: &PlatformTest| match (held.prefix, failed.prefix) {
                (_, true) => held.value.starts_with(&failed.value),
                (false, false) => held.value == failed.value,
                (true, false) => false,
            };
        match (self.holds, other.holds) {
            (true, true) => disjoint(self, other),
            (true, false) => covered_by_negation(self, other),
            (false, true) => covered_by_negation(other, self),
            (false, false) => false,
        }
    }
}

/// A byte range of a function's body that runs only when `test` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformBranch {
    pub start: usize,
    pub end: usize,
    pub test: PlatformTest,
}

impl Function {
    fn shrink_to_fit(&mut self) {
        self.calls.shrink_to_fit();
        self.decorators.shrink_to_fit();
        self.accesses.shrink_to_fit();
        self.awaits.shrink_to_fit();
        self.guards.shrink_to_fit();
        self.stored_callables.shrink_to_fit();
        self.stores_built.shrink_to_fit();
        self.call_params.shrink_to_fit();
        self.returns.shrink_to_fit();
        self.returns_result_of.shrink_to_fit();
        self.params.shrink_to_fit();
        self.call_args.shrink_to_fit();
    }

    /// Python: a getter run by reading the attribute (`@property`, `@cached_property`).
    pub fn is_property(&self) -> bool {
        self.decorators.iter().any(|d| {
            matches!(&d.callee, Callee::Path(p)
                if p == "property" || p.ends_with(".property") || p.ends_with("cached_property"))
        })
    }

    /// Python: a `@classmethod` or `@staticmethod`, whose first parameter is no instance.
    pub fn is_class_or_static_method(&self) -> bool {
        self.decorators.iter().any(
            |d| matches!(&d.callee, Callee::Path(p) if p == "classmethod" || p == "staticmethod"),
        )
    }

    /// Python: a setter run by assigning the attribute (`@name.setter`, as written: the
    /// getter's name is no symbol the decorator's path resolves through).
    pub fn is_property_setter(&self) -> bool {
        let setter = format!("@{}.setter", self.name);
        self.decorators.iter().any(|d| d.text == setter)
    }
}

/// A parameter and what its declared type says about it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Param {
    pub name: String,
    /// The lock it is, by type: `Mutex<rs:app.Registry>` for `Arc<Mutex<Registry>>`,
    /// `&Mutex<Registry>` or `&parking_lot::Mutex<Registry>`, when the guarded type is a
    /// plain named type (the analysis then checks it is one of the project's).
    pub lock_type: Option<String>,
}

/// The state identities of one call's arguments (`None`: not a place or binding).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CallArgs {
    pub call: usize,
    pub args: Vec<Option<String>>,
}

/// What a guard holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GuardKind {
    /// A lock acquisition (`lock()`, `read()`, `write()`), or a value bound from a call
    /// that may return a guard (`callee`).
    Lock,
    /// `borrow()`/`borrow_mut()`: a `RefCell` borrow when the receiver's type is one.
    Borrow,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Await {
    pub span: Span,
    pub locks: Vec<String>,
    /// Python: the lock expression an `async with` takes at this suspension.
    pub acquires: Option<String>,
    /// Indexes into `Function::guards`: the blocking guards and borrows live here.
    pub guards: Vec<usize>,
}

/// A lock guard: the lock is held until the guard value is dropped. Also a `RefCell`
/// borrow, whose `Ref`/`RefMut` is held the same way.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Guard {
    /// Canonical path of the lock (or `RefCell`).
    pub lock: String,
    pub kind: GuardKind,
    /// The lock's identity by declared type (`Mutex<rs:app.Registry>`), when the
    /// receiver is a parameter, binding or field whose type the file declares.
    pub lock_type: Option<String>,
    /// Every type path the receiver's declared type mentions, outermost first
    /// (`Rc<RefCell<T>>`: `Rc`, `RefCell`, `T`), when the file knows it.
    pub receiver_type: Vec<String>,
    /// The acquisition (`m.lock().unwrap()`, or the helper call returning a guard).
    pub span: Span,
    /// The variable holding it; `None` for a temporary.
    pub binding: Option<String>,
    /// A thread-blocking guard (`std::sync`, `parking_lot`), not an async-aware one.
    pub blocking: bool,
    /// The sync helper that took the lock and returned the guard, as written.
    pub helper: Option<String>,
    /// For a value a `let` bound from a call: the callee. It is a guard only if the
    /// callee is declared to return one, which the analysis decides across files.
    pub callee: Option<Callee>,
    /// Lines of the statement that takes the guard, and the last line it is live on.
    pub statement_lines: (u32, u32),
    pub live_until: u32,
    /// Taken inside a loop of its function: a loop under it cannot be written around it.
    pub in_loop: bool,
}

/// A decision on shared state made under one lock acquisition (or atomic load) and
/// acted on under another: another thread can act in between.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckThenAct {
    pub state: String,
    /// The state as written at the check, for fixes (`self.peak`); empty for locks.
    pub subject: String,
    pub kind: CheckKind,
    pub check: Span,
    pub act: Span,
    /// Lines of the whole `if` (or load-to-store) sequence, for the fix.
    pub lines: (u32, u32),
    /// Other locks held from the check to the act: they make the sequence atomic.
    pub locks: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CheckKind {
    /// Two acquisitions of the same lock.
    Lock,
    /// An atomic `load`, then a `store` depending on it.
    Atomic,
}

/// What a call site calls.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Callee {
    /// A canonical dotted path (`asyncio.to_thread`, `shop.pricing.PriceCache.refresh`).
    Path(String),
    /// A method called on a receiver whose type is unknown: only its name.
    Method(String),
}

/// The path of a location reached through parameter `slot` (as in `Access::root`) of
/// the function being lowered, which names no module: `@2`, then `@2.items`.
pub fn parameter_path(slot: usize) -> String {
    format!("@{slot}")
}

/// The parameter slot a `parameter_path` starts at, and the rest of it (`.items`, or
/// empty).
pub fn parameter_of(path: &str) -> Option<(usize, &str)> {
    let rest = path.strip_prefix('@')?;
    let end = rest.find('.').unwrap_or(rest.len());
    Some((rest[..end].parse().ok()?, &rest[end..]))
}

/// `Arg::Spread` of the calling function's own `*args` (`def run(fn, *args):
/// pool.submit(fn, *args)`): the positional arguments its callers pass past its own.
pub const SPREAD_VARARGS: &str = "*";

/// A value passed to a call that may be a callable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Arg {
    /// A reference to something callable, by canonical path or receiver method.
    Callable(Callee),
    /// An anonymous function defined inline (lambda); index into `functions`.
    Inline(usize),
    /// A call passed as a value (`gather(self.probe(u))`): the coroutine it creates.
    Coroutine(Callee),
    /// A parameter of the calling function, passed on (`run_in_executor(None, fn)` in
    /// `def run_in_background(fn)`): the caller's caller decides what it is.
    Parameter(String),
    /// A local of a known type (`cache = Cache()`, `payload = reader.decode(…)`), by the
    /// type's path as written: an object, not the function or class that path names.
    Instance(String),
    /// A tuple or list display (`args=(queue, self.jobs)`), item by item: what an API
    /// that spreads it into its callable's parameters (`Thread(args=…)`) passes.
    Tuple(Vec<Arg>),
    /// A dict display with string keys (`kwargs={"jobs": self.jobs}`), entry by entry:
    /// what an API that spreads it into its callable's keyword parameters
    /// (`Thread(kwargs=…)`) passes.
    Keywords(Vec<(String, Arg)>),
    /// A parameter of the calling function spread into the call (`submit(fn, *args)`):
    /// the items of whatever the caller's caller passed for it; `SPREAD_VARARGS`, the
    /// function's own `*args`. Unnamed, anything else spread (`*pending`): the
    /// arguments after it are at positions nobody can tell.
    Spread(String),
    /// A callable that only calls a parameter of the calling function with the
    /// function's own `*args` (and any `**kwargs`): `functools.partial(fn, *args)`,
    /// `lambda: fn(*args, **kwargs)`, or through a library call that calls its first
    /// argument with the rest (`lambda: ctx.run(fn, *args)`): handed to a worker, it is
    /// `fn` handed over with those arguments (`analysis::forwarding`). Boxed: rare, and
    /// every argument of every call is an `Arg`.
    Thunk(Box<Thunk>),
    /// Anything else.
    Other,
}

impl Arg {
    /// The calling function's parameter this argument passes on: as it is, or called by
    /// a thunk (`Arg::Thunk`), which runs what the caller's caller passed there.
    pub fn passed_parameter(&self) -> Option<&str> {
        match self {
            Arg::Parameter(name) => Some(name),
            Arg::Thunk(thunk) => Some(&thunk.parameter),
            _ => None,
        }
    }
}

/// What an `Arg::Thunk` calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thunk {
    /// The calling function's parameter it calls.
    pub parameter: String,
    /// The library call it makes that calls `parameter` (`ctx.run`), as written; `None`
    /// when it calls `parameter` itself.
    pub via: Option<Callee>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallSite {
    pub callee: Callee,
    pub span: Span,
    /// The call as written, shortened, for messages (`asyncio.to_thread(flush)`); empty
    /// when no argument could be a callable (such a call hands nothing off).
    pub text: String,
    pub args: ThinVec<Arg>,
    pub keywords: ThinVec<(String, Arg)>,
    /// Canonical paths of the lock expressions held at this call (`with x:` / `x.acquire()`).
    pub locks: ThinVec<String>,
    /// Lock expressions held through `async with` at this call.
    pub async_locks: ThinVec<String>,
    /// Lexically inside a loop or comprehension of its function: it may run many times.
    pub in_loop: bool,
    /// The first line of the outermost such loop (Python; `None` when unknown).
    pub loop_start: Option<u32>,
    /// The direct operand of `await`: the caller waits for it before going on, so a
    /// handoff in a loop still runs one at a time.
    pub awaited: bool,
    /// Lines of the innermost statement containing the call.
    pub statement_lines: (u32, u32),
    /// Lines of the innermost `with` statement that took a lock held here.
    pub lock_block: Option<(u32, u32)>,
    /// Methods called earlier in the receiver's chain (`par_iter` for
    /// `v.par_iter().map(f)`), nearest last.
    pub receiver_chain: ThinVec<String>,
    /// Python: the objects this call passes (receiver or arguments) that the caller
    /// owns, for `analysis::ownership`.
    pub owned_args: ThinVec<OwnedArg>,
    /// Python: the locations the tests of enclosing `if`/`while` statements read, with
    /// each statement's lines, and those of earlier `if`s that exit (`if self._loop is
    /// not None: return`), with the lines from there through this call's statement. A
    /// callee that creates one of them completes the caller's check-then-create (`if
    /// self._loop is None: self._start()`).
    pub checked: ThinVec<(String, (u32, u32))>,
    /// Python: `(location, lock)` for each of those tests made holding a lock (`with
    /// self._lock: if self._started: return`): with what the lock covers after it
    /// (`self._started = True`), a check and an act no other thread comes between.
    pub checked_holding: ThinVec<(String, String)>,
    /// Python: not a call as written but a use of an attribute that some class defines
    /// as a property (`report.total`, `report.total = 0`): it runs the getter or the
    /// setter when it resolves to a property, and is no call otherwise
    /// (`python::properties`).
    pub property: Option<PropertyUse>,
    /// Python: in a branch only the event loop's thread takes (`Access::on_loop_thread`).
    pub on_loop_thread: bool,
    /// Python: the byte offset where the caller's first await of the result this call
    /// gave, bound to a local, ends (`fut = loop.run_in_executor(None, load)` …
    /// `await fut`, or the local passed to an awaited call: `await
    /// asyncio.wait_for(fut, 5)`): from there on, the work the call started has
    /// finished. An offset rather than a span: every call site carries it.
    pub result_awaited_end: Option<u32>,
    /// Python: arguments given as `functools.partial(f, a, …)` with positional
    /// arguments of its own: those take the callable's first parameters, so what the
    /// call passes the callable after them lands at positions racelint does not follow.
    pub curried: ThinVec<ArgSlot>,
    /// Python: the location the call's result is stored in by the assignment it is the
    /// value of (`self._thread = threading.Thread(target=run)` keeps the thread in
    /// `mod.Worker._thread`), as accesses name it: a handoff whose object starts its
    /// work later (`Handoff::started_by`) starts where that location's object is
    /// started (`self._thread.start()`), in whatever method does it.
    pub kept_in: Option<String>,
    /// Python: where the objects the call passes (its receiver, its arguments) come
    /// from, when the function can tell (`analysis::origins`).
    pub origins: ThinVec<(ArgSlot, ValueOrigin)>,
    /// Python: inside a generator expression (`Access::lazy`).
    #[serde(default)]
    pub lazy: bool,
}

/// Where an object a function passes to a call comes from, as the function can tell it
/// alone; `analysis::origins` follows it across calls to the constructions it can be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueOrigin {
    /// What the call starting at this byte offset of the file returned, through a local
    /// bound once to it (`job = Job()`) or right there (`submit(fill, Job())`): an
    /// object built there, if that call constructs one.
    Built(u32),
    /// A local bound more than once, each time to what a call returned (`scope =
    /// Alarm()` in one branch, `scope = Watcher()` in the other), by those calls'
    /// offsets: an object one of them built, if each constructs one.
    BuiltEither(ThinVec<u32>),
    /// A parameter slot the body never rebinds (see `Access::root`).
    Parameter(usize),
    /// A local of an enclosing function, bound once there to what the call at this
    /// offset returned, which a nested function names (a closure's captured object).
    Captured(u32),
    /// An attribute of such an object (`self.cache`, `job.run`): its field's object,
    /// or the bound method that a handoff runs on the object.
    Member(Box<ValueOrigin>, String),
}

/// How an attribute that is a property is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PropertyUse {
    /// Read: runs the getter.
    Get,
    /// Assigned: runs the setter.
    Set,
}

impl CallSite {
    /// Where what the call passes at `slot` comes from, when the front-end knows.
    pub fn origin_at(&self, slot: &ArgSlot) -> Option<&ValueOrigin> {
        origin_at(&self.origins, slot)
    }

    /// A call on the caller's own receiver (`self._render()`).
    pub fn on_own_receiver(&self) -> bool {
        self.owned_args.iter().any(|arg| {
            arg.slot == ArgSlot::Receiver
                && arg.owner == Owner::Parameter(0)
                && arg.member.is_none()
        })
    }

    /// A call that passes the caller's own bound method `name` (`to_thread(self._update)`).
    pub fn hands_own_method(&self, name: &str) -> bool {
        self.owned_args
            .iter()
            .any(|arg| arg.owner == Owner::Parameter(0) && arg.member.as_deref() == Some(name))
    }
}

/// An object a call passes that its caller owns: one the caller constructed and has not
/// let escape, or one of the caller's own parameters (owned if the caller's callers
/// pass owned objects).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnedArg {
    pub slot: ArgSlot,
    pub owner: Owner,
    /// The slot holds a member of the owned object, not the object itself
    /// (`to_thread(job.run)`, `render(self.hass)`): a bound method, which whoever calls
    /// it calls on that object, or an attribute's value, which is another object. For a
    /// parameter, `analysis::ownership` tells which from the class.
    pub member: Option<String>,
    /// For a member of a parameter other than `self`, the parameter's annotated type as
    /// written (`batch.rows` with `batch: Batch`): the class that tells a bound method
    /// from an attribute's value.
    pub member_of: Option<String>,
    /// Passed to an awaited call that may keep it (`await asyncio.to_thread(render,
    /// job)`): the object escapes the caller there, but when the call is an awaited
    /// handoff the worker has it only while the caller waits, which
    /// `analysis::ownership` tells from the catalogue. No other call counts it.
    pub lent: bool,
}

/// Where a call passes a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ArgSlot {
    /// The receiver of a method call (`job.run()`).
    Receiver,
    /// The n-th positional argument (from 0).
    Position(usize),
    Keyword(String),
}

/// Who owns a passed object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Owner {
    /// An object the calling function built with a call (`job = Job()`, by the callee's
    /// path as written) and has not yet let escape. It is fresh when that call is a
    /// constructor of a project class.
    Fresh {
        constructor: String,
        /// Members of the object the function passed on before (`print(job.name)`):
        /// it is still the function's own only if each is an attribute's value, not a
        /// bound method (`register(job.on_done)`), which the class tells.
        members_passed: Vec<String>,
    },
    /// A parameter slot of the calling function (see `Access::root`).
    Parameter(usize),
    /// A field of the object an `__init__` is building, set there to an object it
    /// constructs (`self._stats = Stats()`) and used there only through its members,
    /// none passed on (`self._stats.register(p)`): while `__init__` runs nobody else
    /// holds it,
    /// unless the object under construction escapes, which the analysis checks.
    ConstructedField { constructor: String },
}

/// How a read-modify-write touches an item of the location (`Access::item`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemUpdate {
    /// It updates no item: it rebinds the location (`self.n += 1`, `X = [s for s in X
    /// if s]`, which leaves the old object as it was).
    #[default]
    None,
    /// An item that must be there already (`d[k] += 1`).
    Existing,
    /// An item it may add (`d[k] = d.get(k, 0) + 1`), changing the container's size.
    Inserted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AccessKind {
    Read,
    /// Iterates the location (`for x in d`, `d.items()`, `list(d)`): a read that fails
    /// if another thread changes the size meanwhile.
    Iterate,
    /// Changes the object in place (`d[k] = v`, `lst.append(x)`).
    Mutation,
    /// Binds the name or attribute to a new object (`self.x = new`).
    Rebind,
    /// Reads then writes based on what it read (`x += 1`).
    ReadModifyWrite,
}

impl AccessKind {
    pub fn is_write(self) -> bool {
        !matches!(self, AccessKind::Read | AccessKind::Iterate)
    }
}

/// Suffix of a held lock's path that stands for what a call returns
/// (`pkg.Store._lock_for()` for `with self._lock_for(key):`). A call whose first
/// argument is a location names it inside (`pkg.held(pkg._LOCK)` for
/// `with held(_LOCK):`), for a helper that returns its parameter.
pub const RETURNED: &str = "()";

/// What `Function::returns` holds for a `return` of the function's own parameter `k`
/// (`call_params[k]`): `(k)`, a form no location's path takes.
pub fn returned_parameter(index: usize) -> String {
    format!("({index})")
}

/// Path segment that stands for one element of the container before it
/// (`mod.JOBS.__element__.cancel` for `JOBS[key].cancel()`): the analysis reads its
/// type from the container's annotation (`JOBS: dict[str, Job]`).
pub const ELEMENT: &str = "__element__";

/// Path segment that stands for what `super()` reaches from the class before it
/// (`mod.Child.__super__.save` for `super().save()` in a method of `Child`): the
/// analysis takes the first of the class's bases, in order, that has the member.
pub const SUPER: &str = "__super__";

/// Path segment that stands for what awaiting the call before it gives
/// (`mod.Integration.async_get_component.__await__` for `component = await
/// integration.async_get_component()`): the analysis reads it from the coroutine
/// function's declared return type. Calling a coroutine function gives a coroutine,
/// so the call's own path does not say it.
pub const AWAITED: &str = "__await__";

/// Whether a call's callee goes through `super()` (`SUPER`): it names the base's code
/// itself, which no override replaces.
pub fn through_super(path: &str) -> bool {
    path.split('.').any(|segment| segment == SUPER)
}

/// Path segment that stands for the item at a position of the tuple before it
/// (`mod.PAIR.__item1__` for `name, job = PAIR`): the analysis reads its type from the
/// tuple's declaration.
pub fn item_segment(position: usize) -> String {
    format!("__item{position}__")
}

/// The position an `item_segment` names.
pub fn item_position(segment: &str) -> Option<usize> {
    segment
        .strip_prefix("__item")?
        .strip_suffix("__")?
        .parse()
        .ok()
}

/// Suffix of a held lock's path that stands for a local name whose type racelint
/// cannot see, held with a plain `with` in a coroutine and named like a lock
/// (`mod.flush.lock` for `with lock:` in `async def flush(lock)`): asyncio's locks only
/// support `async with`, so it is a thread lock.
pub const LOCAL_LOCK: &str = "<local>";

/// A touch of (possibly) shared state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Access {
    /// Canonical dotted path of the accessed location (`shop.metrics._counters`,
    /// `shop.pricing.PriceCache._prices`, `shop.app.holder.items`).
    pub path: String,
    pub kind: AccessKind,
    pub span: Span,
    /// First and last line of the innermost statement containing the access (a
    /// compound statement's whole extent when the access is in its header): what a fix
    /// wraps in a lock.
    pub statement_lines: (u32, u32),
    /// Canonical paths of the lock expressions held here (`with x:`, `x.acquire()`).
    pub locks: ThinVec<String>,
    /// Lock expressions held through `async with`: never thread locks.
    pub async_locks: ThinVec<String>,
    /// The method, when the access is a method call on the location (`x.append(…)`,
    /// `store.get(…)`). When the location's type is a project class, the method's own
    /// accesses speak instead; on a container, some methods are atomic.
    pub method: Option<Box<str>>,
    /// For a write: the lines of an enclosing `if`/`while` whose test read the same
    /// location (`if k not in cache: cache[k] = …`), a check-then-act; or, from an
    /// earlier `if` that exits (`if self._conn is not None: return self._conn` …
    /// `self._conn = connect()`), the lines from that check through the write's
    /// statement.
    pub checked_by: Option<(u32, u32)>,
    /// A write of a literal constant (`inited = True`), as a hash of the literal's text:
    /// writes of one constant are idempotent, so two threads doing them lose nothing,
    /// while writes of different constants (`running = True` here, `False` there) race
    /// over which one stays.
    pub writes_constant: Option<std::num::NonZeroU32>,
    /// A write of a value built right there (a call, a container display): what a lazy
    /// initialisation creates.
    pub writes_new: bool,
    /// Python: a rebinding that runs only while the location is unset: inside
    /// `if x is None:` / `if not x:`, or after `if x is not None: return` in the same
    /// block, with no `await` in between (unless an `asyncio` lock is held since the
    /// test).
    pub initialises: bool,
    /// Python: a read whose value is only compared by identity (`x is None`): it reads
    /// the reference, not the object's contents.
    pub reference_only: bool,
    /// Python: the parameter slot the accessed chain starts from (0 is a method's
    /// receiver `self`, k ≥ 1 is `call_params[k - 1]`), when it starts at one that is
    /// not rebound in the function: accesses through an owned parameter are not shared.
    pub root: Option<usize>,
    /// Python: the object touched is inside the location, not the location's own
    /// object: an element iterated (`for x in d[k]`) or changed (`d[k].append(x)`,
    /// `d[k][j] = v`), where `for x in d` and `d[k] = v` touch `d` itself.
    pub element: bool,
    /// Python: through a local bound to something inside the location (`info =
    /// d[k]`, then `info["lock"]` or `info.count += 1`): the location itself was read
    /// where the local was bound, and this touches only the object fetched then, which
    /// changes to the location (`d[k] = v`, `del d[k]`, `d = {}`) leave as it was.
    #[serde(default)]
    pub fetched: bool,
    /// Python: in a branch that code which checks its thread takes only on the event
    /// loop's thread: the other branch hands the work to the loop when called off it
    /// (`if tid != threading.get_ident(): loop.call_soon_threadsafe(f, x) else: f(x)`).
    pub on_loop_thread: bool,
    /// Python: inside a generator expression that other code consumes later (returned,
    /// or stored in a location: `return (x for x in self.items)`), which runs there,
    /// not where it is written: its place orders it with nothing, and it holds no lock.
    #[serde(default)]
    pub lazy: bool,
    /// Python: an augmented assignment by a literal (`self.count += 1`, `self.text +=
    /// "!"`): of a number or a string, it gives a number or a string again.
    #[serde(default)]
    pub literal_update: bool,
    /// Python: for a read-modify-write, the item it updates, if any: then it changes
    /// the location's object in place (`d[k] += 1`), where `self.n += 1` rebinds the
    /// location.
    pub item: ItemUpdate,
    /// Python: a rebinding that stores what no other location holds: an object built
    /// right there, by a class's constructor or a container display, as the one target
    /// of its assignment (`self.info = DeviceInfo(…)`, not `self.a = self.b = Info()`),
    /// or `None`. A field every store of which is such is the only way to its objects
    /// (`analysis::holders`).
    pub stores_unshared: bool,
    /// Python: through an object the function built and then passed to the call that
    /// starts at this byte offset, a call that may keep it (`Thread(target=fill,
    /// args=(summary,))`, `executor.submit(fill, summary)`): the object is shared from
    /// there on if that call hands it to another thread or task, which the analysis
    /// tells from the catalogue; otherwise it stays the function's own.
    pub handed_at: Option<u32>,
    /// Python: through a local the function bound once to the call that starts at this
    /// byte offset (`rec = make_recorder()`, `job = Job()`) and has not let escape. The
    /// object is the function's own only if that call builds a new one, which the
    /// analysis decides (`Ownership::builds_fresh`): a factory may hand back an object
    /// others hold (`rec = get_recorder()` returning a module's recorder).
    #[serde(default)]
    pub built_at: Option<u32>,
}
