//! The catalogues of concurrency APIs (`rules/python-apis.toml`, `rules/rust-apis.toml`),
//! compiled in as data.

use serde::Deserialize;

use super::contexts::ApiCall;

/// Where a call hands a callable to another execution context.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    #[serde(default)]
    pub calls: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    pub arg: Option<usize>,
    pub keyword: Option<String>,
    /// The callable runs on several threads at once (`Executor.map`).
    #[serde(default)]
    pub concurrent: bool,
    /// The positional arguments after the callable are the callable's own, in order
    /// (`to_thread(f, a, b)` calls `f(a, b)`).
    #[serde(default, rename = "forwards-arguments")]
    pub forwards_arguments: bool,
    /// The keyword of a tuple whose items are the callable's arguments, in order
    /// (`Thread(target=f, args=(a, b))` calls `f(a, b)`).
    #[serde(rename = "arguments-tuple")]
    pub arguments_tuple: Option<String>,
    /// The 0-based position of that tuple when it is passed by position
    /// (`Timer(1.0, f, (job,))`: 2).
    #[serde(rename = "arguments-tuple-at")]
    pub arguments_tuple_at: Option<usize>,
    /// The keyword arguments other than the callable's own are the callable's, by name
    /// (`to_thread(f, jobs=q)` calls `f(jobs=q)`).
    #[serde(default, rename = "forwards-keywords")]
    pub forwards_keywords: bool,
    /// The keyword of a dict whose entries are the callable's keyword arguments
    /// (`Thread(target=f, kwargs={"jobs": q})` calls `f(jobs=q)`).
    #[serde(rename = "keyword-arguments")]
    pub keyword_arguments: Option<String>,
    /// The 0-based position of that dict when it is passed by position.
    #[serde(rename = "keyword-arguments-at")]
    pub keyword_arguments_at: Option<usize>,
    /// The call builds an object that runs the callable only once this method of it is
    /// called (`Thread(target=f)` … `.start()`): kept in a location, the object starts
    /// wherever that location's `start()` is called (`CallSite::kept_in`).
    #[serde(rename = "started-by")]
    pub started_by: Option<String>,
    /// Only on a receiver built by one of these methods earlier in the same chain
    /// (`v.par_iter().map(f)`, not `v.iter().map(f)`).
    #[serde(default)]
    pub after: Vec<String>,
    /// A worker handoff that runs a callable decorated with one of these (canonical
    /// paths) on the event loop instead, as Home Assistant runs an `@callback`.
    #[serde(default, rename = "loop-if-decorated")]
    pub loop_if_decorated: Vec<String>,
    /// A coroutine function handed over runs on the event loop instead (a framework
    /// serving async views on its loop and sync ones on threads).
    #[serde(default, rename = "loop-if-async")]
    pub loop_if_async: bool,
}

/// Calls matched by canonical path or, on untyped receivers, by method name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallList {
    #[serde(default)]
    pub calls: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
}

impl CallList {
    /// Whether a call to `path` (canonical, if known) or to a method named `method` (of a
    /// receiver whose type is unknown, or external) is listed.
    pub fn matches(&self, call: &ApiCall) -> bool {
        listed(&self.calls, &self.methods, call)
    }
}

fn listed(calls: &[String], methods: &[String], call: &ApiCall) -> bool {
    call.paths.iter().any(|p| calls.contains(p)) || (call.by_name && methods.contains(&call.method))
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub types: Vec<String>,
    pub methods: Vec<String>,
}

/// Callbacks a library keeps in attributes of its object (`client.on_message = f`) and
/// calls on the thread that one of the object's methods starts (`client.loop_start()`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CallbackAttributes {
    /// The object's classes by canonical path (a project subclass's objects too).
    pub types: Vec<String>,
    /// The attributes whose callables the library calls.
    pub attributes: Vec<String>,
    /// The methods that start the thread that calls them.
    pub started_by: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadClass {
    /// Base classes by canonical path; `*` matches any run of characters
    /// (`*_pb2_grpc.*Servicer`, a base generated per service).
    pub bases: Vec<String>,
    /// Methods of a subclass that the library calls on a thread of its own; `["*"]`
    /// for every public sync method the subclass defines.
    pub methods: Vec<String>,
    /// The library calls them from several threads at once (a logging handler is
    /// called by every thread that logs, a threading server runs a thread per request).
    #[serde(default)]
    pub concurrent: bool,
    /// The library calls them on an instance it creates for that call (a request
    /// handler per request): the instance is not shared by being called there.
    #[serde(default, rename = "fresh-instance")]
    pub fresh_instance: bool,
    /// Servers (or their project subclasses) that run each request on a thread of its
    /// own: a class passed to their constructor as the handler class runs concurrently
    /// with itself.
    #[serde(default, rename = "concurrent-servers")]
    pub concurrent_servers: Vec<String>,
    /// The attribute of the object, a thread lock, that the library holds while it
    /// calls the methods (`logging.Handler.handle` runs `emit` under `self.lock`).
    #[serde(default)]
    pub holds: Option<String>,
}

impl ThreadClass {
    /// Whether the base pattern `pattern` names the class `path` (`*` matches any run of
    /// characters).
    pub fn names(pattern: &str, path: &str) -> bool {
        let mut parts = pattern.split('*');
        let first = parts.next().unwrap_or_default();
        let Some(mut rest) = path.strip_prefix(first) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        let Some((last, middle)) = parts.split_last() else {
            return rest.is_empty();
        };
        for part in middle {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

/// A container type's operations that are atomic (`collections.deque.append`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtomicMethods {
    #[serde(rename = "type")]
    pub ty: String,
    pub methods: Vec<String>,
}

/// One application-wide object, by every typed path that reaches it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameworkState {
    /// How findings name it (`app.state`).
    pub name: String,
    /// Typed paths to it (`starlette.requests.Request.app.state`).
    pub objects: Vec<String>,
}

impl Catalogue {
    /// The application-wide state a typed path reaches (`fastapi.Request.app.state.
    /// cache.entries` is `app.state.cache`, one more attribute deep; `homeassistant.
    /// core.HomeAssistant.data` is `hass.data` itself), with how many attributes lie
    /// past it.
    pub fn framework_state(&self, typed: &str) -> Option<(String, usize)> {
        self.framework_state.iter().find_map(|state| {
            state.objects.iter().find_map(|object| {
                let rest = typed.strip_prefix(object.as_str())?;
                if rest.is_empty() {
                    return Some((state.name.clone(), 0));
                }
                let mut parts = rest.strip_prefix('.')?.split('.');
                let first = parts.next().filter(|p| !p.is_empty())?;
                Some((format!("{}.{first}", state.name), parts.count()))
            })
        })
    }
}

/// How a thread comes to run an event loop of its own, and how other threads hand it
/// work (`analysis::private_loops`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivateLoopApis {
    /// Loop methods that run the loop on the calling thread (`run_forever`).
    pub runners: Vec<String>,
    /// Calls that give the calling thread's loop (`asyncio.get_running_loop`).
    pub current: Vec<String>,
    /// Calls `submit(coroutine, loop)` that run a coroutine on `loop` from any thread;
    /// their result's `result()` blocks until it is done.
    pub submit: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeList {
    pub types: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoopBound {
    pub types: Vec<String>,
    pub methods: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Catalogue {
    pub worker: Vec<Handoff>,
    #[serde(rename = "loop")]
    pub loop_: Vec<Handoff>,
    pub route: Vec<Route>,
    pub thread_class: Vec<ThreadClass>,
    pub callback_attributes: Vec<CallbackAttributes>,
    pub thread_safe: TypeList,
    /// Container operations that are atomic: two never interleave.
    pub atomic_methods: Vec<AtomicMethods>,
    pub thread_locks: TypeList,
    /// Calls that run a coroutine to completion on the calling thread's loop.
    pub loop_runners: CallList,
    /// Event loops worker threads run of their own, and how code reaches them.
    pub private_loops: PrivateLoopApis,
    /// Application start-up hooks (`FastAPI(lifespan=...)`): the function passed runs
    /// before requests are served, as initialisation.
    pub startup: Vec<Handoff>,
    /// Decorators that register the function as a start-up or shutdown hook
    /// (`@app.on_event("startup")`).
    pub startup_decorators: Vec<Route>,
    /// Decorators that make a function a command-line command, run on the main thread
    /// (`@click.command()`), and the methods a group they make names its commands by.
    pub cli_commands: Vec<Route>,
    pub tasks: CallList,
    /// Application-wide objects a framework hands to every request or callback
    /// (`request.app.state`, `hass.data`): one object however it is reached.
    pub framework_state: Vec<FrameworkState>,
    pub loop_unsafe: CallList,
    /// The thread-safe ways to hand work to a loop (`call_soon_threadsafe`).
    pub loop_threadsafe: CallList,
    /// Calls that raise unless made on the event loop's thread: a function that makes
    /// one is loop-only, and a worker that calls it gets the exception.
    pub loop_thread_checks: CallList,
    /// Decorators that make the function they wrap raise unless called on the event
    /// loop's thread, before its body runs: the function is loop-only.
    #[serde(default)]
    pub loop_thread_check_decorators: CallList,
    /// Library calls that look at a function they are given without calling or
    /// keeping it (`callable(fn)`, a log line): `analysis::invoked`.
    pub inspects_callables: CallList,
    /// Library calls that call their first argument with the rest, right there, on
    /// the calling thread (`contextvars.Context.run`): a thunk handed to a worker that
    /// makes one runs that argument there (`analysis::forwarding`).
    #[serde(default)]
    pub invokers: CallList,
    pub asyncio_locks: TypeList,
    /// asyncio objects bound to the loop that first waits on them (`asyncio.Event`,
    /// `asyncio.Queue`), and their waiting methods.
    pub loop_bound: LoopBound,
    pub blocking: CallList,
    pub deprecated_loop_getters: CallList,
    /// What a library call returns, by type (`concurrent.futures.ThreadPoolExecutor.submit`
    /// gives a `concurrent.futures.Future`): a method called on the result resolves
    /// through that type (`fut.add_done_callback(cb)`).
    #[serde(default)]
    pub returns: std::collections::BTreeMap<String, String>,
    /// The types of attributes library classes give their subclasses' objects
    /// (`logging.Handler.lock` is a `threading.RLock`): `with self.lock:` in a project
    /// handler takes a thread lock.
    #[serde(default)]
    pub attribute_types: std::collections::BTreeMap<String, String>,
    /// Holders of one value of their annotation's type argument (`ContextVar[Queue]`,
    /// `weakref.ref[Manager]`), and the methods that read it (`__call__` for a call).
    #[serde(default)]
    pub element_readers: std::collections::BTreeMap<String, Vec<String>>,
    /// The Rust catalogue, from its own file.
    #[serde(skip)]
    pub rust: RustCatalogue,
}

/// `rules/rust-apis.toml`. Paths are stored the way the model writes Rust paths.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RustCatalogue {
    pub worker: Vec<Handoff>,
    #[serde(rename = "loop")]
    pub loop_: Vec<Handoff>,
    pub tasks: CallList,
    pub pinned: CallList,
    pub once: CallList,
    pub blocking: CallList,
    pub runtime_blocking: CallList,
    pub syntax: RustSyntax,
    pub not_thread_safe: TypeList,
    pub ambiguous_methods: CallList,
    /// Types whose `unsafe impl Sync` the project vouches for (configuration only).
    #[serde(default)]
    pub thread_safe: TypeList,
}

/// Method and type names the Rust front-end needs to recognise guards and state.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RustSyntax {
    pub guard_methods: Vec<String>,
    pub guard_types: Vec<String>,
    pub mutating_methods: Vec<String>,
    pub clone_methods: Vec<String>,
    pub atomic_loads: Vec<String>,
    pub atomic_stores: Vec<String>,
    pub thread_local_methods: Vec<String>,
    pub await_macros: Vec<String>,
    pub pin_macros: Vec<String>,
    pub lock_types: Vec<String>,
    pub pointer_types: Vec<String>,
    pub constructors: Vec<String>,
    pub not_lock_types: Vec<String>,
    pub pointer_methods: Vec<String>,
    pub borrow_methods: Vec<String>,
    pub borrow_cells: Vec<String>,
    pub borrow_types: Vec<String>,
    pub io_openers: Vec<String>,
    pub io_macros: Vec<String>,
}

const PYTHON_APIS: &str = include_str!("../../rules/python-apis.toml");
const RUST_APIS: &str = include_str!("../../rules/rust-apis.toml");

/// How the model spells a Rust path: `tokio::task::spawn_blocking` becomes
/// `rs:tokio.task.spawn_blocking`, so Rust names never meet Python modules of the
/// same name (a PyO3 crate and its Python package) and dotted resolution applies.
pub fn rust_path(path: &str) -> String {
    if path == "*" || path.starts_with("rs:") {
        return path.to_string();
    }
    format!("rs:{}", path.replace("::", "."))
}

impl Catalogue {
    /// The built-in catalogues. They are part of the binary, so failing to parse one is
    /// a build defect that the test suite catches, not a user error.
    pub fn builtin() -> Catalogue {
        let mut catalogue: Catalogue = toml::from_str(PYTHON_APIS)
            .expect("rules/python-apis.toml is valid (checked by tests)");
        catalogue.rust = RustCatalogue::builtin();
        catalogue
    }

    /// Whether calling `method` on a `ty` is one atomic operation.
    pub fn is_atomic(&self, ty: &str, method: &str) -> bool {
        self.atomic_methods
            .iter()
            .any(|a| a.ty == ty && a.methods.iter().any(|m| m == method))
    }

    /// Whether some operations of a `ty` are atomic.
    pub fn has_atomic(&self, ty: &str) -> bool {
        self.atomic_methods.iter().any(|a| a.ty == ty)
    }

    pub fn is_thread_safe(&self, ty: &str) -> bool {
        self.thread_safe.types.iter().any(|t| t == ty) || self.is_thread_lock(ty)
    }

    pub fn is_thread_lock(&self, ty: &str) -> bool {
        self.thread_locks.types.iter().any(|t| t == ty)
    }

    pub fn is_asyncio_lock(&self, ty: &str) -> bool {
        self.asyncio_locks.types.iter().any(|t| t == ty)
    }
}

impl RustCatalogue {
    fn builtin() -> RustCatalogue {
        let mut catalogue: RustCatalogue =
            toml::from_str(RUST_APIS).expect("rules/rust-apis.toml is valid (checked by tests)");
        for handoff in catalogue.worker.iter_mut().chain(&mut catalogue.loop_) {
            handoff.calls = handoff.calls.iter().map(|c| rust_path(c)).collect();
        }
        for list in [
            &mut catalogue.tasks,
            &mut catalogue.pinned,
            &mut catalogue.blocking,
            &mut catalogue.runtime_blocking,
        ] {
            list.calls = list.calls.iter().map(|c| rust_path(c)).collect();
        }
        let syntax = &mut catalogue.syntax;
        for list in [
            &mut syntax.not_lock_types,
            &mut syntax.borrow_cells,
            &mut syntax.borrow_types,
            &mut syntax.io_openers,
        ] {
            *list = list.iter().map(|t| rust_path(t)).collect();
        }
        catalogue.not_thread_safe.types = catalogue
            .not_thread_safe
            .types
            .iter()
            .map(|t| {
                if t.contains("::") {
                    rust_path(t)
                } else {
                    t.clone()
                }
            })
            .collect();
        catalogue
    }

    /// Whether a type path (canonical, or a bare name the file did not import) is one
    /// that is not thread-safe: a `Cell`, `RefCell`, `Rc` or raw pointer.
    pub fn is_not_thread_safe(&self, ty: &str) -> bool {
        let types = &self.not_thread_safe.types;
        types.iter().any(|t| t == ty)
            || ty
                .strip_prefix("rs:")
                .is_some_and(|bare| !bare.contains('.') && types.iter().any(|t| t == bare))
    }
}

impl RustSyntax {
    /// Whether a type path (canonical, or bare `rs:Name` when the file did not import
    /// it) is in `list`.
    pub fn names(list: &[String], ty: &str) -> bool {
        list.iter().any(|t| t == ty)
            || ty.strip_prefix("rs:").is_some_and(|bare| {
                !bare.contains('.')
                    && list.iter().any(|t| {
                        t.rsplit('.').next().map(|l| l.trim_start_matches("rs:")) == Some(bare)
                    })
            })
    }

    /// Whether `ty`'s last segment is one of `names` (`lock-types`, `pointer-types`).
    pub fn ends_with(names: &[String], ty: &str) -> bool {
        let last = ty.rsplit('.').next().unwrap_or(ty);
        names.iter().any(|n| n == last)
    }
}

impl Handoff {
    /// Whether a call to `path` (canonical) or to a method `method` matches this entry.
    pub fn matches(&self, call: &ApiCall) -> bool {
        listed(&self.calls, &self.methods, call)
            && (self.after.is_empty() || call.chain.iter().any(|m| self.after.contains(m)))
    }

    /// Whether the call matches this entry by its path, not only by the method's name.
    pub fn matches_path(&self, call: &ApiCall) -> bool {
        self.matches(call) && call.paths.iter().any(|p| self.calls.contains(p))
    }
}

#[cfg(test)]
mod tests {
    use super::ApiCall;

    #[test]
    fn builtin_catalogue_parses() {
        let catalogue = super::Catalogue::builtin();
        assert!(catalogue.is_thread_lock("threading.RLock"));
        assert!(!catalogue.is_thread_lock("asyncio.Lock"));
        let to_thread = ApiCall {
            paths: vec!["asyncio.to_thread".to_string()],
            method: "to_thread".to_string(),
            by_name: true,
            chain: Vec::new(),
        };
        assert!(catalogue.worker.iter().any(|w| w.matches(&to_thread)));
        let rust = &catalogue.rust;
        let par_map = |chain: &[&str]| ApiCall {
            paths: Vec::new(),
            method: "map".to_string(),
            by_name: true,
            chain: chain.iter().map(|m| m.to_string()).collect(),
        };
        assert!(rust
            .worker
            .iter()
            .any(|w| w.matches(&par_map(&["par_iter"]))));
        assert!(!rust.worker.iter().any(|w| w.matches(&par_map(&["iter"]))));
        assert!(rust.is_not_thread_safe("rs:std.cell.RefCell"));
        assert!(rust.is_not_thread_safe("rs:RefCell"));
        assert!(!rust.is_not_thread_safe("rs:std.sync.Mutex"));
    }
}
