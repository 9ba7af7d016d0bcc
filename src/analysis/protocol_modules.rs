//! Modules that implement a project's protocol.
//!
//! A module object can stand where a protocol is expected (PEP 544: "modules as
//! implementations of protocols"): a plugin loader keeps each imported plugin module
//! as `platform: PlatformModule`, a `typing.Protocol` whose methods are the plugin's
//! top-level functions, and hands `platform.setup_platform` to a thread pool. What runs
//! is not the protocol's stub but the top-level function of that name in whichever
//! module was loaded. The program does not show which, so every project module that
//! defines a top-level function of that name, as `async` as the stub and taking as many
//! parameters as the stub past its `self`, is taken to be one. Only for a method that
//! no project class other than a protocol defines: where classes define it (a
//! `Closeable` protocol's `close`, which `FileResource` implements), the protocol
//! describes their objects, and a module's `close()` is no more its implementation
//! than any other function of that name.

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
        let class_methods: HashSet<&str> = (0..program.classes.len())
            .filter(|c| !protocols.contains(c))
            .flat_map(|c| {
                program
                    .class(c)
                    .methods
                    .iter()
                    .map(|(name, _)| name.as_str())
            })
            .collect();
        for &class in &protocols {
            let file = program.class_file(class);
            let model = program.class(class);
            for (name, index) in &model.methods {
                if !name.starts_with("__") && !class_methods.contains(name.as_str()) {
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
