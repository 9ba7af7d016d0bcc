//! Modules that implement a project's protocol.
//!
//! A module object can stand where a protocol is expected (PEP 544: "modules as
//! implementations of protocols"): a plugin loader keeps each imported plugin module
//! as `platform: PlatformModule`, a `typing.Protocol` whose methods are the plugin's
//! top-level functions, and hands `platform.setup_platform` to a thread pool. What runs
//! is not the protocol's stub but the top-level function of that name in whichever
//! module was loaded. The program does not show which, so every project module that
//! defines a top-level function of that name, as `async` as the stub and taking as
//! many parameters as the stub past its `self`, is taken to be one (plugins may live
//! anywhere: a namespace package, another import root).
//!
//! Only for a protocol that no project class implements. Where a class has every
//! method the protocol declares, its own or inherited (a `Closeable` protocol's
//! `close`, which `FileResource` defines), and every other member as a method, a
//! property or an attribute, the protocol describes such objects, and a module's
//! `close()` is no more its implementation than any other function of that name. A
//! class that defines some of the names and not others is no implementation (PEP 544
//! asks for every member): Home Assistant's `ComponentProtocol` declares `setup` beside
//! eight other hooks, and the `setup` method of some entity class does not make the
//! loader's `component.setup` that class's.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::resolve::{FuncId, Program};
use crate::model::Language;

const PROTOCOL_BASES: &[&str] = &["typing.Protocol", "typing_extensions.Protocol"];

#[derive(Default)]
pub struct ProtocolModules {
    /// Per method of a project protocol: the top-level functions that implement it.
    implementations: HashMap<FuncId, Vec<FuncId>>,
}

impl ProtocolModules {
    pub fn find(program: &Program) -> ProtocolModules {
        let mut stubs: HashMap<&str, Vec<FuncId>> = HashMap::default();
        let is_protocol = |class: usize| {
            let file = program.class_file(class);
            program.files[file].language == Language::Python
                && program
                    .class(class)
                    .bases
                    .iter()
                    .any(|b| PROTOCOL_BASES.contains(&b.as_str()))
        };
        let protocols: Vec<usize> = (0..program.classes.len())
            .filter(|&c| is_protocol(c))
            .collect();
        if protocols.is_empty() {
            return ProtocolModules::default();
        }
        // Per method name, the classes that define it (inherited or their own): a
        // protocol's classes are those among them that define all its methods.
        let mut defining: HashMap<&str, HashSet<usize>> = HashMap::default();
        for class in (0..program.classes.len()).filter(|c| !protocols.contains(c)) {
            for (name, _) in &program.class(class).methods {
                defining.entry(name.as_str()).or_default().insert(class);
            }
        }
        // Per class, its direct project subclasses, which inherit what it defines
        // (`class FileResource(CloseMixin, FlushMixin)` defines nothing itself).
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); program.classes.len()];
        for class in 0..program.classes.len() {
            for base in program.base_classes(class) {
                children[base].push(class);
            }
        }
        let implemented_by_a_class = |protocol: usize| {
            let file = program.class_file(protocol);
            // A property the protocol declares may be an attribute of the class.
            let members: Vec<(&str, bool)> = program
                .class(protocol)
                .methods
                .iter()
                .filter(|(name, _)| !name.starts_with("__"))
                .map(|(name, index)| {
                    let stub = program.function(program.function_id(file, *index));
                    (name.as_str(), stub.is_property())
                })
                .collect();
            let has_all = |class: usize| {
                members.iter().all(|&(name, property)| {
                    program.method(class, name).is_some()
                        || property && program.is_value_member(class, name)
                })
            };
            // The classes that define one of the names, the protocol's own subclasses,
            // and every class deriving from one of those.
            let mut pending: Vec<usize> = members
                .iter()
                .filter_map(|(name, _)| defining.get(name))
                .flatten()
                .chain(&children[protocol])
                .copied()
                .collect();
            let mut seen: HashSet<usize> = HashSet::default();
            while let Some(class) = pending.pop() {
                if !seen.insert(class) {
                    continue;
                }
                if !protocols.contains(&class) && has_all(class) {
                    return true;
                }
                pending.extend_from_slice(&children[class]);
            }
            false
        };
        for &class in protocols.iter().filter(|&&p| !implemented_by_a_class(p)) {
            let file = program.class_file(class);
            let model = program.class(class);
            for (name, index) in &model.methods {
                if !name.starts_with("__") {
                    stubs
                        .entry(name.as_str())
                        .or_default()
                        .push(program.function_id(file, *index));
                }
            }
        }
        let mut implementations: HashMap<FuncId, Vec<FuncId>> = HashMap::default();
        if stubs.is_empty() {
            return ProtocolModules { implementations };
        }
        for function in 0..program.functions.len() {
            let model = program.function(function);
            let Some(methods) = stubs.get(model.name.as_str()) else {
                continue;
            };
            let file = program.file_of(function);
            let top_level = model.class.is_none()
                && model.parent.is_none()
                && !model.nested
                && model.path == format!("{}.{}", program.files[file].module, model.name);
            if !top_level {
                continue;
            }
            for &stub in methods {
                let protocol = program.function(stub);
                if protocol.is_async == model.is_async
                    && protocol.call_params.len() == model.call_params.len()
                {
                    implementations.entry(stub).or_default().push(function);
                }
            }
        }
        ProtocolModules { implementations }
    }

    /// The top-level functions that run when `method`, a project protocol's, is called
    /// on a module held as that protocol.
    pub fn implementing(&self, method: FuncId) -> &[FuncId] {
        self.implementations.get(&method).map_or(&[], Vec::as_slice)
    }
}
