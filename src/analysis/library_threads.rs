//! Library threads: callbacks a blocking library calls off the event loop.
//!
//! Many device and service libraries block: they read a socket or a serial line on a
//! thread of their own and call the project back there (`device.subscribe(self._on_event)`,
//! `registry.on(device, None, self._changed)`), or call what they are given inside a
//! blocking call the project makes on a worker (`run_in_executor(None, panel.process,
//! self._changed)`). racelint cannot read the library, but the project says which
//! libraries block: it hands their functions, classes or methods to worker threads
//! itself (`await hass.async_add_executor_job(client.load_xml_db)`,
//! `to_thread(Gateway, host)`; not a handoff that decides by the callable's kind,
//! which runs any plain function in an executor, nor one to the loop). A project
//! function given to any API of such a library's module then runs on a worker thread,
//! either on the library's thread or on the worker the project offloaded the blocking
//! call to, never on the loop.
//!
//! A module is the external path up to its first capitalised component, or all but
//! the last component of a function's path (`pylutron.LutronEntity.subscribe` and
//! `pylutron.Lutron.load_xml_db` are both `pylutron`; `mysensors.get_const` is
//! `mysensors` and `mysensors.mysensors.AsyncMQTTGateway` is `mysensors.mysensors`), so
//! that an asyncio library whose one blocking helper a project offloads
//! (`aioswitcher.api.remotes`) does not make the rest of the package
//! (`aioswitcher.bridge`) blocking. It must be a module some file imports (or imports
//! from) of a third-party package: not the standard library (which racelint's
//! catalogue describes), not the project's own, and not a path racelint made up from
//! a value's type (`attr.ib` for a field `x = attr.ib()`). A class whose methods the
//! program awaits and never offloads is the library's asyncio client
//! (`httpx.AsyncClient` beside an offloaded `httpx.get`): it calls back on its loop,
//! and so does an awaited call.
//!
//! What counts as a callback: a sync function or method passed by name, bound method
//! or lambda, not a property (its value is passed) nor a class (`isinstance(x, C)`).
//! An `async def` given to a library runs on a loop, so it never counts; nor does a
//! callable given to a base class's constructor through `super().__init__(…)`, which
//! keeps it on the project's own object. A blocking library's API that calls what it
//! is given at once, on the caller's thread (`frame.apply(f)` of a library whose
//! reads the program offloads), is taken for one that calls back later: a known limit.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::contexts::{callable_target, Context, EntryPoint, Site};
use super::resolve::{FuncId, Program};
use crate::model::{Arg, FileId, Language, SymbolKind};
use crate::python::is_stdlib_module;

/// A callable the project gives to a library's API: a candidate callback.
pub struct Given {
    /// The external path of the API called.
    pub api: String,
    pub callback: FuncId,
    pub site: Site,
}

/// The index of a dotted path's first capitalised component past its root: the
/// library class the path names or names a member of.
fn class_at(components: &[&str]) -> Option<usize> {
    components
        .iter()
        .skip(1)
        .position(|c| c.starts_with(|c: char| c.is_ascii_uppercase()))
        .map(|i| i + 1)
}

/// The first `count` components of a dotted path.
fn prefix<'p>(path: &'p str, components: &[&str], count: usize) -> &'p str {
    let len: usize = components[..count].iter().map(|c| c.len()).sum();
    &path[..len + count.saturating_sub(1)]
}

/// The library class an external path names or names a member of
/// (`httpx.AsyncClient.get` and `httpx.AsyncClient` are `httpx.AsyncClient`).
fn library_class(path: &str) -> Option<&str> {
    let components: Vec<&str> = path.split('.').collect();
    class_at(&components).map(|class| prefix(path, &components, class + 1))
}

/// The library module an external path belongs to: up to its class, or all but a
/// function's last component.
fn library_module(path: &str) -> &str {
    let components: Vec<&str> = path.split('.').collect();
    let end = class_at(&components).unwrap_or(components.len().saturating_sub(1).max(1));
    prefix(path, &components, end)
}

/// Whether an offloaded path names a library's function, class or method, rather than
/// something reached through an attribute racelint typed by its declaration
/// (`traitlets.Any.io_loop.stop`: a trait's value, not the trait class's method).
fn names_an_api(path: &str) -> bool {
    let components: Vec<&str> = path.split('.').collect();
    class_at(&components).is_none_or(|class| components.len() <= class + 2)
}

/// The project functions passed as callbacks among `arguments` to the library API
/// `api`, at the call `site` builds.
pub fn given<'a>(
    program: &Program,
    file: FileId,
    api: &str,
    arguments: impl Iterator<Item = &'a Arg>,
    site: impl Fn() -> Site,
) -> Vec<Given> {
    arguments
        .filter_map(|arg| callable_target(program, file, arg))
        .filter(|&f| {
            let function = program.function(f);
            !function.is_initializer && !function.is_property() && !function.is_property_setter()
        })
        .map(|callback| Given {
            api: api.to_string(),
            callback,
            site: site(),
        })
        .collect()
}

/// The callbacks given to the APIs of blocking libraries, as worker-thread entry
/// points. `offloaded` are the external paths of the callables the program hands to
/// worker threads, with the handoffs; `given` the callables passed to library APIs by
/// calls that hand nothing over, and those passed along with an offloaded one.
pub fn entries(
    program: &Program,
    offloaded: &[(String, Site)],
    awaited: &[String],
    given: Vec<Given>,
) -> Vec<EntryPoint> {
    let modules = imported_modules(program);
    // Each blocking module, with the first handoff that says so.
    let mut blocking: HashMap<&str, &Site> = HashMap::default();
    for (path, site) in offloaded {
        let module = library_module(path);
        if names_an_api(path) && modules.contains(module) {
            blocking.entry(module).or_insert(site);
        }
    }
    // A class whose methods the program awaits and never offloads is an asyncio
    // client of a library that may block elsewhere (`httpx.AsyncClient` beside
    // `httpx.get`): it calls back on the loop that runs it.
    let offloaded_classes: HashSet<&str> = offloaded
        .iter()
        .filter_map(|(path, _)| library_class(path))
        .collect();
    let asyncio_classes: HashSet<&str> = awaited
        .iter()
        .filter_map(|path| library_class(path))
        .filter(|class| !offloaded_classes.contains(class))
        .collect();
    given
        .into_iter()
        .filter(|g| !library_class(&g.api).is_some_and(|class| asyncio_classes.contains(class)))
        .filter_map(|g| {
            let module = library_module(&g.api);
            let offload = blocking.get(module)?;
            let file = &program.files[offload.file];
            let text = format!(
                "`{}` gives a callback to `{}`, a library the program runs on worker threads ({}:{}: `{}`)",
                g.site.text,
                module,
                file.path.to_string_lossy().replace('\\', "/"),
                offload.span.start.line,
                offload.text,
            );
            let site = Site {
                text,
                prose: true,
                ..g.site
            };
            Some(EntryPoint::new(Context::WorkerThread, g.callback, Some(site)))
        })
        .collect()
}

/// The modules of third-party packages Python files import: each imported path and
/// the path it is imported from (`from pylutron import Lutron` gives `pylutron` and
/// `pylutron.Lutron`), neither the standard library's nor the project's own. A path
/// racelint made up from a value's type (`attr.ib` for a field `x = attr.ib()`, whose
/// methods `x.on(cb)` are no module's) is no module.
fn imported_modules<'p>(program: &'p Program<'_>) -> HashSet<&'p str> {
    let own: HashSet<&str> = program
        .files
        .iter()
        .map(|file| file.module.split('.').next().unwrap_or(&file.module))
        .collect();
    program
        .files
        .iter()
        .filter(|file| file.language == Language::Python)
        .flat_map(|file| &file.symbols)
        .filter_map(|symbol| match &symbol.kind {
            SymbolKind::Alias(path) => Some(path.as_str()),
            _ => None,
        })
        .filter(|path| {
            let root = path.split('.').next().unwrap_or(path);
            !own.contains(root) && !is_stdlib_module(root)
        })
        .flat_map(|path| [Some(path), path.rsplit_once('.').map(|(from, _)| from)])
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{library_class, library_module, names_an_api};

    #[test]
    fn modules_end_at_a_class_or_before_a_function() {
        assert_eq!(
            library_module("pylutron.LutronEntity.subscribe"),
            "pylutron"
        );
        assert_eq!(library_module("pylutron.Lutron"), "pylutron");
        assert_eq!(library_module("mysensors.get_const"), "mysensors");
        assert_eq!(
            library_module("mysensors.mysensors.AsyncMQTTGateway"),
            "mysensors.mysensors"
        );
        assert_eq!(
            library_module("aioswitcher.api.remotes.SwitcherBreezeRemoteManager.get_remote"),
            "aioswitcher.api.remotes"
        );
        assert_eq!(
            library_module("PySrDaliGateway.Scene.activate"),
            "PySrDaliGateway"
        );
        assert_eq!(library_module("pyhap.loader.get_loader"), "pyhap.loader");
        assert_eq!(library_module("pylutron"), "pylutron");
    }

    #[test]
    fn offloaded_apis_are_functions_classes_or_their_methods() {
        assert!(names_an_api("pylutron.Lutron.load_xml_db"));
        assert!(names_an_api("xiaomi_gateway.XiaomiGateway"));
        assert!(names_an_api("dask.order.order"));
        assert!(!names_an_api("traitlets.Any.io_loop.stop"));
    }

    #[test]
    fn classes_end_at_the_first_capitalised_name() {
        assert_eq!(
            library_class("httpx.AsyncClient.get"),
            Some("httpx.AsyncClient")
        );
        assert_eq!(
            library_class("httpx.AsyncClient"),
            Some("httpx.AsyncClient")
        );
        assert_eq!(
            library_class("PySrDaliGateway.Scene.activate"),
            Some("PySrDaliGateway.Scene")
        );
        assert_eq!(library_class("httpx.get"), None);
    }
}
