//! Whole-program name resolution: dotted paths from the model to the definitions they
//! denote, across modules, re-exports, class hierarchies and instance types.

use rustc_hash::FxHashMap as HashMap;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::identity::receiver_class;
use super::programs::is_auxiliary;
use crate::model::{
    item_position, Callee, FileId, FileModel, Language, SymbolKind, AWAITED, ELEMENT, SUPER,
};

/// Global index of a function across all files.
pub type FuncId = usize;
/// Global index of a class across all files.
pub type ClassId = usize;

/// What a dotted path denotes.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Module(FileId),
    Function(FuncId),
    Class(ClassId),
    /// A module variable.
    Global {
        file: FileId,
        name: String,
        ty: Option<String>,
    },
    /// A class or instance attribute, owned by the class that declares it.
    Attribute {
        class: ClassId,
        name: String,
        ty: Option<String>,
    },
    /// Something outside the project (`asyncio.to_thread`, `fastapi.FastAPI.get`).
    External(String),
}

/// A resolution and the number of trailing path segments it could not follow.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub target: Target,
    pub residual: usize,
}

/// Resolution recurses through aliases, instance types and bases; deeper than this means
/// a cycle (`a` re-exports `b` re-exports `a`, or `x = x.copy()` typing `x` by itself).
const MAX_DEPTH: usize = 8;

/// How many library calls `external` follows in one chain (`get_running_loop()` gives a
/// loop, whose `create_future()` gives a future): a mapping that names its own call
/// must not loop.
const MAX_EXTERNAL_CHAIN: usize = 4;

pub struct Program<'m> {
    pub files: &'m [FileModel],
    /// Global function id → (file, index in that file).
    pub functions: Vec<(FileId, usize)>,
    pub classes: Vec<(FileId, usize)>,
    function_base: Vec<usize>,
    class_base: Vec<usize>,
    modules: HashMap<&'m str, Vec<FileId>>,
    /// Modules by the names they have if the folders above their import root are
    /// namespace packages (`namespace_names`), for imports no module's own name matches.
    namespaced: HashMap<String, Vec<FileId>>,
    /// Rust functions by canonical path: items in inline modules, methods of types
    /// declared in other files, and closures are reached by their full path.
    rust_functions: HashMap<&'m str, FuncId>,
    /// Rust inherent methods by (crate folder, name); `None` when the name is ambiguous.
    rust_methods: HashMap<(&'m Path, &'m str), Option<FuncId>>,
    /// Per file, the first file of its package root: one id per root.
    root_ids: Vec<FileId>,
    /// Python definitions by (file, canonical path): a `def` or `class` nested in a
    /// function is a member of that function's scope (`mod.outer.inner`), which no
    /// module symbol names.
    nested: HashMap<(FileId, &'m str), Target>,
    /// Per file, each module symbol's name to its last binding (the one a lookup sees):
    /// a module of N definitions would otherwise be scanned once per name resolved in it.
    symbols: Vec<HashMap<&'m str, usize>>,
    /// Per class (by `ClassId`), its members by name: a registry class of N methods
    /// would otherwise be scanned once per `self.method()` resolved in it.
    members: Vec<Members<'m>>,
    /// What library calls return, by type (`Catalogue::returns`): a member of such a
    /// call's result is the type's member.
    external_returns: BTreeMap<String, String>,
    /// Holders of one value and the methods that read it (`Catalogue::element_readers`).
    element_readers: BTreeMap<String, Vec<String>>,
    /// Per class (by `ClassId`), the library classes among its ancestors, by canonical
    /// path (`concurrent.futures.Executor` for a vendored thread pool).
    external_ancestors: Vec<Vec<String>>,
    /// The types of attributes their class declares without one, from what the
    /// program stores there through other receivers (`FileModel::typed_attribute_stores`):
    /// `_pool = None` in the class, `state._pool = ThreadPoolExecutor()` elsewhere.
    /// Only where the class itself puts nothing but `None` there (`Attribute::only_none`)
    /// and every other store, through a receiver of that very class, gives a value of one
    /// type. Stores in tests, examples and scripts (`programs::is_auxiliary`), programs
    /// of their own, do not type the package's attributes.
    stored_types: HashMap<(ClassId, &'m str), &'m str>,
}

/// A class's methods (name to index in its file's functions) and attributes (name to
/// index in `Class::attributes`), each name to its first declaration as the class
/// model lists them.
#[derive(Default)]
struct Members<'m> {
    methods: HashMap<&'m str, usize>,
    attributes: HashMap<&'m str, usize>,
}

impl<'m> Members<'m> {
    fn of(class: &'m crate::model::Class) -> Self {
        let mut members = Members::default();
        for (name, index) in &class.methods {
            members.methods.entry(name.as_str()).or_insert(*index);
        }
        for (index, attribute) in class.attributes.iter().enumerate() {
            members
                .attributes
                .entry(attribute.name.as_str())
                .or_insert(index);
        }
        members
    }
}

/// Library bases a class lists only for typing or abstractness: `super()` passes them
/// over.
const MEMBERLESS_BASES: &[&str] = &[
    "object",
    "typing.Generic",
    "typing.Protocol",
    "typing_extensions.Protocol",
    "abc.ABC",
];

/// How many folders above an import root may be namespace packages
/// (`google/cloud/storage/`: two).
const NAMESPACE_DEPTH: usize = 3;

/// The folders of the program's regular packages (the folders between each Python
/// file's import root and the file): a folder inside one is no entry of the import
/// path, so no name starts there.
fn package_folders(files: &[FileModel]) -> std::collections::HashSet<PathBuf> {
    let mut packages = std::collections::HashSet::new();
    for file in files.iter().filter(|f| f.language == Language::Python) {
        let mut folder = file.root.clone();
        let segments: Vec<&str> = file.module.split('.').collect();
        let inside = match file.path.file_stem().and_then(|s| s.to_str()) {
            Some("__init__") => segments.len(),
            _ => segments.len().saturating_sub(1),
        };
        for segment in &segments[..inside] {
            folder.push(segment);
            packages.insert(folder.clone());
        }
    }
    packages
}

/// The names a module of a regular package has if the folders above its import root
/// are namespace packages (PEP 420: folders without `__init__.py`): `agents.utils.aio`
/// under `livekit/` is also `livekit.agents.utils.aio`. One file cannot tell a
/// namespace package from a folder of sources (`src/`), so these names answer only
/// what no module's own name does, and only where Python could find them: a name
/// starts at a folder whose parent is no package (it could be on the import path),
/// each folder is a Python identifier, and none is a standard-library module's name
/// (a regular package, which an import finds first). A plain module directly in such
/// a folder (`ui/textual/app.py`) gets none: a folder of scripts named like a library
/// would take that library's imports.
fn namespace_names(
    root: &Path,
    module: &str,
    packages: &std::collections::HashSet<PathBuf>,
) -> Vec<String> {
    let mut names = Vec::new();
    let top = module.split('.').next().unwrap_or_default();
    if top.is_empty() || !packages.contains(&root.join(top)) {
        return names;
    }
    let mut name = module.to_string();
    for folder in root.ancestors().take(NAMESPACE_DEPTH) {
        let Some(segment) = folder.file_name().and_then(|f| f.to_str()) else {
            break;
        };
        let identifier = segment
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
            && segment.chars().all(|c| c.is_alphanumeric() || c == '_');
        // The standard library's modules: an import finds them before any namespace
        // package of the same name.
        if !identifier || crate::python::is_stdlib_module(segment) {
            break;
        }
        name = format!("{segment}.{name}");
        if folder
            .parent()
            .is_some_and(|parent| !packages.contains(parent))
        {
            names.push(name.clone());
        }
    }
    names
}

/// Each symbol name of a file to the index of its last binding: a later `def` or
/// assignment replaces an earlier one at module level.
fn last_bindings(file: &FileModel) -> HashMap<&str, usize> {
    file.symbols
        .iter()
        .enumerate()
        .map(|(index, symbol)| (symbol.name.as_str(), index))
        .collect()
}

impl<'m> Program<'m> {
    /// The program of `files`, where library calls return what `external_returns`
    /// says (`Catalogue::returns`), and reading a one-value holder gives its annotated
    /// value (`Catalogue::element_readers`).
    pub fn new(
        files: &'m [FileModel],
        external_returns: BTreeMap<String, String>,
        element_readers: BTreeMap<String, Vec<String>>,
    ) -> Self {
        let mut program = Program {
            files,
            functions: Vec::new(),
            classes: Vec::new(),
            function_base: Vec::new(),
            class_base: Vec::new(),
            modules: HashMap::default(),
            namespaced: HashMap::default(),
            rust_functions: HashMap::default(),
            rust_methods: HashMap::default(),
            nested: HashMap::default(),
            symbols: Vec::with_capacity(files.len()),
            members: Vec::new(),
            root_ids: Vec::with_capacity(files.len()),
            external_returns,
            element_readers,
            external_ancestors: Vec::new(),
            stored_types: HashMap::default(),
        };
        let packages = package_folders(files);
        let mut roots: HashMap<&Path, FileId> = HashMap::default();
        for (file_id, file) in files.iter().enumerate() {
            let id = *roots.entry(file.root.as_path()).or_insert(file_id);
            program.root_ids.push(id);
        }
        for (file_id, file) in files.iter().enumerate() {
            program.function_base.push(program.functions.len());
            program
                .functions
                .extend((0..file.functions.len()).map(|i| (file_id, i)));
            program.class_base.push(program.classes.len());
            program
                .classes
                .extend((0..file.classes.len()).map(|i| (file_id, i)));
            program
                .modules
                .entry(file.module.as_str())
                .or_default()
                .push(file_id);
            if file.language == Language::Python && !file.is_stub {
                for name in namespace_names(&file.root, &file.module, &packages) {
                    program.namespaced.entry(name).or_default().push(file_id);
                }
            }
            program.symbols.push(last_bindings(file));
            program.members.extend(file.classes.iter().map(Members::of));
            match file.language {
                Language::Rust => program.index_rust_functions(file_id, file),
                Language::Python => program.index_nested(file_id, file),
            }
        }
        program.external_ancestors = (0..program.classes.len())
            .map(|class| {
                let mut external = Vec::new();
                program.walk_ancestors(class, |_| {}, |path| external.push(path));
                external
            })
            .collect();
        program.stored_types = program.stored_attribute_types();
        program
    }

    /// `Program::stored_types`: each store's location resolved as the program stands
    /// without them, so a type never depends on another store's.
    fn stored_attribute_types(&self) -> HashMap<(ClassId, &'m str), &'m str> {
        let mut found: HashMap<(ClassId, &'m str), Option<&'m str>> = HashMap::default();
        for (file_id, file) in self.files.iter().enumerate() {
            if is_auxiliary(file) {
                continue;
            }
            for (path, ty) in &file.typed_attribute_stores {
                let Resolved {
                    target: Target::Attribute { class, name, .. },
                    residual: 0,
                } = self.resolve(file_id, path)
                else {
                    continue;
                };
                let Some(attribute) = self.class(class).attributes.iter().find(|a| a.name == name)
                else {
                    continue;
                };
                if attribute.ty.is_some() || !attribute.only_none {
                    continue;
                }
                // Through a subclass's object, the store says nothing of the others'.
                let receiver = path
                    .rsplit_once('.')
                    .and_then(|(receiver, _)| receiver_class(self, file_id, receiver));
                let agreed = ty.as_deref().filter(|_| receiver == Some(class));
                found
                    .entry((class, attribute.name.as_str()))
                    .and_modify(|known| {
                        if *known != agreed {
                            *known = None;
                        }
                    })
                    .or_insert(agreed);
            }
        }
        found
            .into_iter()
            .filter_map(|(key, ty)| Some((key, ty?)))
            .collect()
    }

    fn index_rust_functions(&mut self, file_id: FileId, file: &'m FileModel) {
        for (index, function) in file.functions.iter().enumerate() {
            let id = self.function_id(file_id, index);
            self.rust_functions.entry(&function.path).or_insert(id);
            if function.by_name {
                self.rust_methods
                    .entry((file.root.as_path(), function.name.as_str()))
                    .and_modify(|known| *known = None)
                    .or_insert(Some(id));
            }
        }
    }

    fn index_nested(&mut self, file_id: FileId, file: &'m FileModel) {
        for (index, function) in file.functions.iter().enumerate() {
            let id = self.function_id(file_id, index);
            self.nested
                .entry((file_id, function.path.as_str()))
                .or_insert(Target::Function(id));
        }
        for (index, class) in file.classes.iter().enumerate() {
            let id = self.class_base[file_id] + index;
            self.nested
                .entry((file_id, class.path.as_str()))
                .or_insert(Target::Class(id));
        }
    }

    /// A Rust function by its full canonical path, wherever it is declared.
    pub fn rust_function(&self, path: &str) -> Option<FuncId> {
        self.rust_functions.get(path).copied()
    }

    /// The one inherent method of this name in the crate of `file`, if it is unique.
    pub fn rust_method(&self, file: FileId, name: &str) -> Option<FuncId> {
        let root = self.files[file].root.as_path();
        self.rust_methods.get(&(root, name)).copied().flatten()
    }

    pub fn function(&self, id: FuncId) -> &'m crate::model::Function {
        let (file, index) = self.functions[id];
        &self.files[file].functions[index]
    }

    pub fn function_id(&self, file: FileId, index: usize) -> FuncId {
        self.function_base[file] + index
    }

    pub fn file_of(&self, id: FuncId) -> FileId {
        self.functions[id].0
    }

    pub fn class(&self, id: ClassId) -> &'m crate::model::Class {
        let (file, index) = self.classes[id];
        &self.files[file].classes[index]
    }

    pub fn class_file(&self, id: ClassId) -> FileId {
        self.classes[id].0
    }

    /// The file a module name denotes, as seen from `from` (same import root first).
    /// A module's source wins over its stub; the importer's own import root wins over
    /// others; an ambiguous name resolves to nothing rather than to a guess.
    fn module(&self, from: FileId, name: &str) -> Option<FileId> {
        let candidates = self
            .modules
            .get(name)
            .or_else(|| self.namespaced.get(name))?;
        if let [only] = candidates.as_slice() {
            return Some(*only);
        }
        let any_real = candidates.iter().any(|&f| !self.files[f].is_stub);
        let pool = || {
            candidates
                .iter()
                .copied()
                .filter(move |&f| !any_real || !self.files[f].is_stub)
        };
        let mut members = pool();
        if let (Some(only), None) = (members.next(), members.next()) {
            return Some(only);
        }
        let root = self.root_ids[from];
        pool().find(|&f| self.root_ids[f] == root)
    }

    /// One id for the package root `file` belongs to (the root's first file): what an
    /// application-wide object is keyed by, one application per root.
    pub fn root_id(&self, file: FileId) -> FileId {
        self.root_ids[file]
    }

    /// The project module a dotted path written in `from` names, or lies inside
    /// (`pkg.mod.func` is in `pkg.mod`): the longest prefix that is a module.
    pub fn module_of_path(&self, from: FileId, path: &str) -> Option<FileId> {
        std::iter::once(path.len())
            .chain(path.rmatch_indices('.').map(|(i, _)| i))
            .find_map(|end| self.module(from, &path[..end]))
    }

    /// Resolves a canonical dotted path written in file `from`.
    pub fn resolve(&self, from: FileId, path: &str) -> Resolved {
        self.resolve_at_depth(from, path, 0)
    }

    fn resolve_at_depth(&self, from: FileId, path: &str, depth: usize) -> Resolved {
        if depth > MAX_DEPTH {
            return Resolved {
                target: Target::External(path.to_string()),
                residual: 0,
            };
        }
        // The longest prefix that names a project module, then members from there.
        let ends = std::iter::once(path.len()).chain(path.rmatch_indices('.').map(|(i, _)| i));
        for end in ends {
            if let Some(file) = self.module(from, &path[..end]) {
                let rest: Vec<&str> = path
                    .get(end + 1..)
                    .map_or_else(Vec::new, |r| r.split('.').collect());
                return self.walk(Target::Module(file), &rest, depth);
            }
        }
        Resolved {
            target: self.external(path),
            residual: 0,
        }
    }

    /// A path outside the project, through the types the library calls in it return
    /// (`concurrent.futures.ThreadPoolExecutor.submit.add_done_callback` is
    /// `concurrent.futures.Future.add_done_callback`), a chain of them included
    /// (`asyncio.get_running_loop.create_future.set_result` is
    /// `asyncio.Future.set_result`).
    fn external(&self, path: &str) -> Target {
        let mut path = path.to_string();
        for _ in 0..MAX_EXTERNAL_CHAIN {
            let returned = path.match_indices('.').find_map(|(end, _)| {
                self.external_returns
                    .get(&path[..end])
                    .map(|ty| format!("{ty}{}", &path[end..]))
            });
            match returned {
                Some(next) => path = next,
                None => break,
            }
        }
        Target::External(path)
    }

    fn walk(&self, start: Target, segments: &[&str], depth: usize) -> Resolved {
        let mut current = start;
        let mut done = 0;
        while done < segments.len() {
            // `Class.__super__.name`: what `super().name` reaches from the class, a
            // step of two segments.
            let (next, step) = match (&current, segments[done], segments.get(done + 1)) {
                (Target::Class(class), SUPER, Some(name)) => {
                    (self.super_member(*class, name, depth), 2)
                }
                // `f.__await__`: an object of the type awaiting `f()` gives.
                (Target::Function(function), AWAITED, _) => (self.awaited(*function, depth), 1),
                (_, segment, _) => (self.member(&current, segment, depth), 1),
            };
            match next {
                Some(next) => current = next,
                None => {
                    return Resolved {
                        target: current,
                        residual: segments.len() - done,
                    }
                }
            }
            done += step;
        }
        Resolved {
            target: current,
            residual: 0,
        }
    }

    /// What `super().name` in a method of `class` reaches: the member of the first of
    /// the class's bases, in order, that has it. A library base before it may define
    /// it too, which racelint cannot see: then the call is the library's. Bases that
    /// define no methods of their own (`Generic[T]`, `Protocol`, `ABC`, `object`) are
    /// passed over.
    fn super_member(&self, class: ClassId, name: &str, depth: usize) -> Option<Target> {
        let file = self.class_file(class);
        for base in &self.class(class).bases {
            match self.resolve_at_depth(file, base, depth + 1).target {
                Target::Class(base) if base != class => {
                    if let Some(found) = self.class_member(base, name, depth) {
                        return Some(found);
                    }
                }
                Target::External(path) if MEMBERLESS_BASES.contains(&path.as_str()) => {}
                Target::External(path) => return Some(Target::External(format!("{path}.{name}"))),
                _ => {}
            }
        }
        None
    }

    fn member(&self, of: &Target, name: &str, depth: usize) -> Option<Target> {
        if name == ELEMENT {
            return self.element_of(of);
        }
        if let Some(position) = item_position(name) {
            // Not an element of what is no tuple declared item by item: unpacking a
            // mapping gives its keys.
            return self.item_of(of, position);
        }
        match of {
            Target::Module(file) => self.module_member(*file, name, depth),
            Target::Class(class) => self.class_member(*class, name, depth),
            Target::Global {
                file, ty: Some(ty), ..
            } => self
                .held_value_member(of, ty, name, depth)
                .or_else(|| self.instance_member(*file, ty, name, depth)),
            Target::Attribute {
                class,
                ty: Some(ty),
                ..
            } => self
                .held_value_member(of, ty, name, depth)
                .or_else(|| self.instance_member(self.class_file(*class), ty, name, depth)),
            Target::External(path) => Some(self.external(&format!("{path}.{name}"))),
            // A definition nested in the function, or else a member of what calling it
            // returns, by its declared type (`runtime.stats().register`, written
            // `…stats.register`; a property's value reads the same way). A coroutine
            // function's call returns a coroutine, not that type.
            Target::Function(function) => {
                let file = self.file_of(*function);
                let model = self.function(*function);
                let path = format!("{}.{name}", model.path);
                self.nested
                    .get(&(file, path.as_str()))
                    .cloned()
                    .or_else(|| self.returned_member(*function, name, depth))
            }
            _ => None,
        }
    }

    /// A read of the value a one-value holder keeps (`OUTBOX.get()` of a
    /// `ContextVar[Queue]`: the `Queue`), or, for a holder read by calling it
    /// (`weakref.ref[Manager]`), a member of the value (`self._manager().beat`, written
    /// `…_manager.beat`).
    fn held_value_member(
        &self,
        holder: &Target,
        ty: &str,
        name: &str,
        depth: usize,
    ) -> Option<Target> {
        let readers = self.element_readers.get(ty)?;
        if readers.iter().any(|r| r == name) {
            return self.element_of(holder);
        }
        let called = readers.iter().any(|r| r == "__call__") && !name.starts_with("__");
        called
            .then(|| self.element_of(holder))
            .flatten()
            .and_then(|value| self.member(&value, name, depth + 1))
    }

    /// One element of a container variable or attribute annotated with its elements'
    /// type (`JOBS: dict[str, Job]`): an instance of that type, which resolves members
    /// as a typed variable does.
    fn element_of(&self, container: &Target) -> Option<Target> {
        let (file, element) = match container {
            Target::Global { file, name, .. } => {
                let model = &self.files[*file];
                let symbol = self.symbols[*file]
                    .get(name.as_str())
                    .map(|&i| &model.symbols[i]);
                match symbol.map(|s| &s.kind) {
                    Some(SymbolKind::Variable {
                        element: Some(element),
                        ..
                    }) => (*file, element.clone()),
                    _ => return None,
                }
            }
            Target::Attribute { class, name, .. } => {
                let attribute = self
                    .class(*class)
                    .attributes
                    .iter()
                    .find(|a| &a.name == name);
                (self.class_file(*class), attribute?.element.clone()?)
            }
            _ => return None,
        };
        Some(Target::Global {
            file,
            name: ELEMENT.to_string(),
            ty: Some(element),
        })
    }

    /// The item at `position` of a module variable annotated as a fixed-length tuple, or
    /// of what a function declared to return one gives, awaited for a coroutine
    /// function (`name, job = PAIR`, `reader, writer = await self._open()`): an
    /// instance of its type, as an element is.
    fn item_of(&self, tuple: &Target, position: usize) -> Option<Target> {
        let (file, items) = match tuple {
            Target::Global { file, name, .. } => {
                let symbol = self.symbols[*file]
                    .get(name.as_str())
                    .map(|&i| &self.files[*file].symbols[i]);
                match symbol.map(|s| &s.kind) {
                    Some(SymbolKind::Variable { items, .. }) => (*file, items.as_slice()),
                    _ => return None,
                }
            }
            // A coroutine function's items are what awaiting its call gives: unpacking
            // the coroutine itself would fail, so no program does.
            Target::Function(function) => (
                self.file_of(*function),
                self.function(*function).return_items.as_slice(),
            ),
            _ => return None,
        };
        Some(Target::Global {
            file,
            name: ELEMENT.to_string(),
            ty: Some(items.get(position)?.clone()?),
        })
    }

    fn module_member(&self, file: FileId, name: &str, depth: usize) -> Option<Target> {
        let model = &self.files[file];
        let symbol = self.symbols[file].get(name).map(|&i| &model.symbols[i]);
        match symbol.map(|s| &s.kind) {
            Some(SymbolKind::Alias(path)) => {
                let resolved = self.resolve_at_depth(file, path, depth + 1);
                (resolved.residual == 0).then_some(resolved.target)
            }
            Some(SymbolKind::Function(index)) => {
                Some(Target::Function(self.function_id(file, *index)))
            }
            Some(SymbolKind::Class(index)) => Some(Target::Class(self.class_base[file] + index)),
            Some(SymbolKind::Variable { ty, .. }) => Some(Target::Global {
                file,
                name: name.to_string(),
                ty: ty.clone(),
            }),
            Some(SymbolKind::Static(_)) => Some(Target::Global {
                file,
                name: name.to_string(),
                ty: None,
            }),
            None => {
                let submodule = format!("{}.{name}", model.module);
                self.module(file, &submodule).map(Target::Module)
            }
        }
    }

    /// A method or attribute of a class, searched through its bases (depth first, as
    /// close to Python's MRO as single inheritance needs).
    fn class_member(&self, class: ClassId, name: &str, depth: usize) -> Option<Target> {
        let mut stack = vec![class];
        let mut seen = Vec::new();
        let mut external_base = None;
        let mut getattr = None;
        while let Some(current) = stack.pop() {
            if seen.contains(&current) {
                continue;
            }
            seen.push(current);
            let model = self.class(current);
            let file = self.class_file(current);
            let members = &self.members[current];
            if let Some(&index) = members.methods.get(name) {
                return Some(Target::Function(self.function_id(file, index)));
            }
            if let Some(&index) = members.methods.get("__getattr__") {
                getattr.get_or_insert(self.function_id(file, index));
            }
            if let Some(&index) = members.attributes.get(name) {
                let ty = model.attributes[index].ty.as_deref().or_else(|| {
                    self.stored_types
                        .get(&(current, model.attributes[index].name.as_str()))
                        .copied()
                });
                return Some(Target::Attribute {
                    class: current,
                    name: name.to_string(),
                    ty: ty.map(str::to_string),
                });
            }
            for base in model.bases.iter().rev() {
                match self.resolve_at_depth(file, base, depth + 1).target {
                    Target::Class(base_class) => stack.push(base_class),
                    Target::External(path) => {
                        external_base.get_or_insert(path);
                    }
                    _ => {}
                }
            }
        }
        // A name no class in the hierarchy defines goes through `__getattr__` (a lazy
        // proxy's usual shape) before any external base; never a special method, which
        // Python looks up on the type (`Proxy()` runs `object.__init__`, not
        // `__getattr__("__init__")`).
        let special = name.starts_with("__") && name.ends_with("__");
        getattr
            .filter(|_| !special)
            .map(Target::Function)
            .or_else(|| external_base.map(|base| Target::External(format!("{base}.{name}"))))
    }

    /// A member reached through an instance of type `ty` (written in `file`).
    fn instance_member(&self, file: FileId, ty: &str, name: &str, depth: usize) -> Option<Target> {
        match self.resolve_at_depth(file, ty, depth + 1) {
            Resolved {
                target: Target::Class(class),
                residual: 0,
            } => self.class_member(class, name, depth + 1),
            // A value a call gave (`stats = runtime.stats()`): typed by its callee.
            Resolved {
                target: Target::Function(function),
                residual: 0,
            } => self.returned_member(function, name, depth + 1),
            Resolved {
                target: Target::External(path),
                ..
            } => Some(self.external(&format!("{path}.{name}"))),
            _ => None,
        }
    }

    /// The declared type of what calling `function` returns. A coroutine function's call
    /// returns a coroutine, not that type.
    ///
    /// Without a declaration, the one class whose objects every `return` builds
    /// (`def make_pool(n): return ThreadPoolExecutor(n)`: `Function::returns_fresh`),
    /// for a plain function or static method: a generator's call gives the generator,
    /// a decorator may give anything, and a class method's `cls()` builds the class
    /// it is called on.
    fn returned_type(&self, function: FuncId) -> Option<&'m str> {
        let model = self.function(function);
        if model.is_async {
            return None;
        }
        result_type(model)
    }

    /// What awaiting a call of `function`, a coroutine function, gives: its declared
    /// return type, resolved as a typed value's type is (the class; a library type's
    /// path). Without a declaration, the one class whose objects every `return` builds,
    /// as for a plain function (`returned_type`).
    fn awaited(&self, function: FuncId, depth: usize) -> Option<Target> {
        let model = self.function(function);
        if !model.is_async || model.is_generator {
            return None;
        }
        let ty = result_type(model)?;
        match self.resolve_at_depth(self.file_of(function), ty, depth + 1) {
            Resolved {
                target: target @ (Target::Class(_) | Target::External(_)),
                residual: 0,
            } => Some(target),
            _ => None,
        }
    }

    /// `name` on what calling `function` returns, by its declared return type.
    fn returned_member(&self, function: FuncId, name: &str, depth: usize) -> Option<Target> {
        let returned = self.returned_type(function)?;
        self.instance_member(self.file_of(function), returned, name, depth + 1)
    }

    /// Whether reading `name` on an instance of `class` gives a value rather than a
    /// bound method: a data attribute the class or its bases assign, or a property
    /// (`@property`, `@cached_property`). Not a method, nor a name racelint cannot see.
    pub fn is_value_member(&self, class: ClassId, name: &str) -> bool {
        match self.class_member(class, name, 0) {
            Some(Target::Attribute { .. }) => true,
            Some(Target::Function(f)) => self.function(f).is_property(),
            _ => false,
        }
    }

    /// The setter of the property whose getter (or setter) is `property`: a method of
    /// the same class and name decorated `@name.setter`, which the class's members,
    /// keyed by name, do not list beside the getter.
    pub fn property_setter(&self, property: FuncId) -> Option<FuncId> {
        let model = self.function(property);
        if model.is_property_setter() {
            return Some(property);
        }
        let file = self.file_of(property);
        self.files[file]
            .functions
            .iter()
            .position(|f| f.name == model.name && f.class == model.class && f.is_property_setter())
            .map(|index| self.function_id(file, index))
    }

    /// For a closure's captured local bound to the call at byte offset `at`
    /// (`ValueOrigin::Captured`): the enclosing function that makes that call, and the
    /// project class it calls, when it calls one.
    pub fn captured_construction(&self, closure: FuncId, at: u32) -> Option<(FuncId, ClassId)> {
        let file = self.file_of(closure);
        let mut parent = self.function(closure).parent;
        while let Some(index) = parent {
            let function = self.function_id(file, index);
            let call = self
                .function(function)
                .calls
                .iter()
                .find(|call| call.span.offset == at as usize && call.property.is_none());
            if let Some(call) = call {
                let crate::model::Callee::Path(path) = &call.callee else {
                    return None;
                };
                return match self.resolve(file, path) {
                    Resolved {
                        target: Target::Class(class),
                        residual: 0,
                    } => Some((function, class)),
                    _ => None,
                };
            }
            parent = self.function(function).parent;
        }
        None
    }

    /// The project class a method is defined in.
    pub fn class_of_method(&self, method: FuncId) -> Option<ClassId> {
        let class = self.function(method).class.as_deref()?;
        self.class_of_type(self.file_of(method), class)
    }

    /// A method the class itself defines (not one it inherits).
    pub fn own_method(&self, class: ClassId, name: &str) -> Option<FuncId> {
        let index = *self.members[class].methods.get(name)?;
        Some(self.function_id(self.class_file(class), index))
    }

    /// A method of a class or its bases.
    pub fn method(&self, class: ClassId, name: &str) -> Option<FuncId> {
        match self.class_member(class, name, 0) {
            Some(Target::Function(f)) => Some(f),
            _ => None,
        }
    }

    /// The canonical path of a type written in `file`: the class's own path for project
    /// classes (so the catalogue still knows `threading.Lock` when `threading.py` itself
    /// is analysed), the external path otherwise.
    pub fn type_path(&self, file: FileId, ty: &str) -> Option<String> {
        match self.resolve(file, ty) {
            Resolved {
                target: Target::Class(class),
                residual: 0,
            } => Some(self.class(class).path.clone()),
            Resolved {
                target: Target::External(path),
                ..
            } => Some(path),
            _ => None,
        }
    }

    /// The class of an instance type written in `file`, if it is a project class.
    pub fn class_of_type(&self, file: FileId, ty: &str) -> Option<ClassId> {
        match self.resolve(file, ty) {
            Resolved {
                target: Target::Class(class),
                residual: 0,
            } => Some(class),
            _ => None,
        }
    }

    /// The class of a value whose type is recorded as written in `file`: a class, or
    /// the callee of the call that gave the value (`STATS = runtime.stats()`), typed by
    /// its declared return type.
    pub fn class_of_value(&self, file: FileId, ty: &str) -> Option<ClassId> {
        match self.resolve(file, ty) {
            Resolved {
                target: Target::Class(class),
                residual: 0,
            } => Some(class),
            Resolved {
                target: Target::Function(function),
                residual: 0,
            } => self.class_of_type(self.file_of(function), self.returned_type(function)?),
            _ => None,
        }
    }

    /// Whether `class` is `base` or derives from it through project classes.
    pub fn derives_from(&self, class: ClassId, base: ClassId) -> bool {
        let mut stack = vec![class];
        let mut seen = Vec::new();
        while let Some(next) = stack.pop() {
            if next == base {
                return true;
            }
            if !seen.contains(&next) {
                seen.push(next);
                stack.extend(self.base_classes(next));
            }
        }
        false
    }

    /// The project classes a class directly derives from.
    pub fn base_classes(&self, class: ClassId) -> Vec<ClassId> {
        let file = self.class_file(class);
        self.class(class)
            .bases
            .iter()
            .filter_map(|base| match self.resolve(file, base).target {
                Target::Class(base) if base != class => Some(base),
                _ => None,
            })
            .collect()
    }

    /// All bases of a class, project and external, as canonical paths (transitively).
    pub fn ancestors(&self, class: ClassId) -> Vec<String> {
        let out = std::cell::RefCell::new(Vec::new());
        self.walk_ancestors(
            class,
            |base| out.borrow_mut().push(self.class(base).path.clone()),
            |path| out.borrow_mut().push(path),
        );
        out.into_inner()
    }

    /// The library classes among a class's ancestors (`ancestors`, external only).
    pub fn external_ancestors(&self, class: ClassId) -> &[String] {
        &self.external_ancestors[class]
    }

    /// Visits every base of `class`, transitively: project classes with `project`, and
    /// library classes, which end the walk upward, with `external`.
    fn walk_ancestors(
        &self,
        class: ClassId,
        mut project: impl FnMut(ClassId),
        mut external: impl FnMut(String),
    ) {
        let mut stack = vec![class];
        let mut seen = Vec::new();
        while let Some(current) = stack.pop() {
            if seen.contains(&current) {
                continue;
            }
            seen.push(current);
            let file = self.class_file(current);
            for base in &self.class(current).bases {
                match self.resolve(file, base).target {
                    Target::Class(base_class) => {
                        project(base_class);
                        stack.push(base_class);
                    }
                    Target::External(path) => external(path),
                    _ => {}
                }
            }
        }
    }
}

/// The type a function's result has (awaited, for a coroutine function): the declared
/// one, or without a declaration the one class whose objects every `return` builds,
/// for a plain function or static method.
fn result_type(model: &crate::model::Function) -> Option<&str> {
    let plain = !model.is_generator
        && model
            .decorators
            .iter()
            .all(|d| matches!(&d.callee, Callee::Path(p) if p == "staticmethod"));
    model
        .return_type
        .as_deref()
        .or_else(|| match model.returns_fresh.as_slice() {
            [first, rest @ ..] if plain && rest.iter().all(|r| r == first) => Some(first.as_str()),
            _ => None,
        })
}
