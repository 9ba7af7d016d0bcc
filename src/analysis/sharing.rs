//! Which classes' instance attributes can be shared between threads.
//!
//! State identity is one logical instance per class, so without this every object of a
//! class would be "the same", and objects built and used inside one call (a parser's
//! tokenizer, an `ExitStack`) would race with themselves. An instance attribute counts
//! only when an instance of its class is observably shared: stored in module or class
//! state (or in an attribute of a shared object), as annotated or as the program stores
//! it there (`analysis::stored_callables`), or held in a container there that is
//! annotated with its elements' type (`JOBS: dict[str, Job]`), handed to a thread or loop API as a
//! bound method or argument, or a `threading.Thread` subclass. Class-level attributes
//! are one object for all instances and always count.

use super::catalogue::Catalogue;
use super::contexts::Contexts;
use super::resolve::{ClassId, Program};
use super::state::{declared_name, hands_off_at, resolve_state, StateKey};
use crate::model::{AccessKind, Arg, Callee, SymbolKind, ValueOrigin};
use rustc_hash::FxHashSet as HashSet;

pub struct Sharing {
    shared: Vec<bool>,
    /// Classes that synchronise themselves (their internals are not reported).
    self_synchronised: Vec<bool>,
}

impl Sharing {
    pub fn compute(program: &Program, catalogue: &Catalogue, contexts: &Contexts) -> Sharing {
        let count = program.classes.len();
        let mut shared = vec![false; count];
        let mut mark = |class: Option<ClassId>| {
            if let Some(class) = class {
                shared[class] = true;
            }
        };
        for (file_id, file) in program.files.iter().enumerate() {
            for symbol in &file.symbols {
                if let SymbolKind::Variable { ty, element, .. } = &symbol.kind {
                    // The variable's object, or the elements of the container it holds;
                    // not the value of a one-value holder (a `ContextVar`'s value is
                    // each context's own).
                    let holder = ty
                        .as_deref()
                        .is_some_and(|t| catalogue.element_readers.contains_key(t));
                    let element = element.iter().filter(|_| !holder);
                    for ty in ty.iter().chain(element) {
                        mark(program.class_of_value(file_id, ty));
                    }
                }
            }
        }
        // A class attribute is one object for all instances when the class body gives
        // it one, or when code rebinds it through the class object (`Summary.tally =
        // Tally()` at module level, `cls.tally = Tally()` in a class method); a bare
        // annotation (`tally: Tally`) only declares what each instance sets.
        let set_on_class = class_object_stores(program, catalogue);
        for class in 0..count {
            let file = program.class_file(class);
            for attribute in program.class(class).attributes.iter().filter(|a| {
                a.class_level
                    && (!a.immutable_default || set_on_class.contains(&(class, a.name.as_str())))
            }) {
                for ty in attribute.ty.iter().chain(&attribute.element) {
                    mark(program.class_of_value(file, ty));
                }
            }
        }
        for entry in &contexts.entries {
            let function = program.function(entry.target);
            if let Some(class) = function.class.as_ref().filter(|_| !entry.fresh_receiver) {
                let file = program.file_of(entry.target);
                mark(program.class_of_type(file, class));
            }
            // Objects passed along with the callable (`to_thread(f, cache)`).
            if let Some((caller, call)) = entry.site.as_ref().and_then(|site| site.call(program)) {
                mark_handed_objects(program, caller, call, &mut mark);
            }
            // Objects a handed-off closure captures (`processor = Processor()` … `def
            // fetch(): return processor.run()` … `to_thread(fetch)`): the starter still
            // holds them.
            for class in captured_classes(program, entry.target) {
                mark(Some(class));
            }
        }
        // An object a function built and handed to another thread or task
        // (`Thread(target=fill, args=(summary,))`), by the class of what is accessed
        // through it (`Access::handed_at`).
        for function in 0..program.functions.len() {
            let file = program.file_of(function);
            for access in &program.function(function).accesses {
                if access
                    .handed_at
                    .is_some_and(|offset| hands_off_at(contexts, function, offset))
                {
                    if let Some((object, _)) = access.path.rsplit_once('.') {
                        mark(program.class_of_type(file, object));
                    }
                }
            }
        }
        // Objects a module variable holds (`LOGGER = Logger(...)`), and, below, those a
        // shared object's attribute holds (`self.backend = backend`), as stored.
        let mut held_by: Vec<Vec<ClassId>> = vec![Vec::new(); count];
        for (owner, classes) in contexts.stored.holdings() {
            match owner {
                None => classes.iter().for_each(|&c| mark(Some(c))),
                Some(owner) => held_by[owner].extend_from_slice(classes),
            }
        }
        // An object held by a shared object is shared too.
        loop {
            let mut changed = false;
            for class in 0..count {
                if !shared[class] {
                    continue;
                }
                let file = program.class_file(class);
                let declared = program.class(class).attributes.iter().flat_map(|a| {
                    a.ty.iter()
                        .chain(&a.element)
                        .filter_map(|ty| program.class_of_value(file, ty))
                });
                for held in declared.chain(held_by[class].iter().copied()) {
                    if !shared[held] {
                        shared[held] = true;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        // Attributes are owned by the class that declares them: a shared instance of a
        // subclass shares its bases' attributes.
        let mut stack: Vec<ClassId> = (0..count).filter(|&c| shared[c]).collect();
        while let Some(class) = stack.pop() {
            for base in program.base_classes(class) {
                if !shared[base] {
                    shared[base] = true;
                    stack.push(base);
                }
            }
        }
        let self_synchronised = (0..count)
            .map(|class| {
                let model = program.class(class);
                std::iter::once(model.path.clone())
                    .chain(program.ancestors(class))
                    .any(|path| catalogue.is_thread_safe(&path))
            })
            .collect();
        Sharing {
            shared,
            self_synchronised,
        }
    }

    /// Whether attribute `name` owned by `class` can be shared state.
    pub fn is_shared(&self, program: &Program, class: ClassId, name: &str) -> bool {
        if self.self_synchronised[class] {
            return false;
        }
        let class_level = program
            .class(class)
            .attributes
            .iter()
            .any(|a| a.name == declared_name(name) && a.class_level);
        class_level || self.shared[class]
    }
}

/// Marks the classes of typed values passed as plain arguments at the handoff call.
fn mark_handed_objects(
    program: &Program,
    caller: usize,
    call: &crate::model::CallSite,
    mark: &mut impl FnMut(Option<ClassId>),
) {
    let file = program.file_of(caller);
    for arg in call.args.iter().chain(call.keywords.iter().map(|(_, a)| a)) {
        // A typed local, and a typed global or attribute, which lowers to its type's
        // path (naming a class).
        match arg {
            Arg::Instance(path) => mark(program.class_of_value(file, path)),
            Arg::Callable(Callee::Path(path)) => mark(program.class_of_type(file, path)),
            _ => {}
        }
    }
}

/// The project classes of the objects a closure uses from its enclosing functions'
/// locals, each bound once to a construction (`ValueOrigin::Captured`).
fn captured_classes(program: &Program, closure: usize) -> Vec<ClassId> {
    let model = program.function(closure);
    if model.parent.is_none() {
        return Vec::new();
    }
    model
        .calls
        .iter()
        .flat_map(|c| c.origins.iter().map(|(_, o)| o))
        .filter_map(|origin| {
            let mut origin = origin;
            while let ValueOrigin::Member(base, _) = origin {
                origin = base;
            }
            match origin {
                ValueOrigin::Captured(at) => program.captured_construction(closure, *at),
                _ => None,
            }
        })
        .map(|(_, class)| class)
        .collect()
}

/// The class attributes some code rebinds through the class object rather than an
/// instance: from module level or a class's own class or static method (`cls.x = …`),
/// or through the class's name anywhere (`Summary.x = …`).
fn class_object_stores<'p>(
    program: &'p Program,
    catalogue: &Catalogue,
) -> HashSet<(ClassId, &'p str)> {
    let mut stores = HashSet::default();
    for function in 0..program.functions.len() {
        let model = program.function(function);
        let file = program.file_of(function);
        let through_instance = |root: Option<usize>| {
            root == Some(0) && model.class.is_some() && !model.is_class_or_static_method()
        };
        for access in model
            .accesses
            .iter()
            .filter(|a| a.kind == AccessKind::Rebind && !through_instance(a.root))
        {
            let Some(state) = resolve_state(program, catalogue, file, &access.path) else {
                continue;
            };
            if let (StateKey::Attribute { class, name }, 0) = (state.key, state.residual) {
                let declared = program
                    .class(class)
                    .attributes
                    .iter()
                    .find(|a| a.name == declared_name(&name));
                if let Some(attribute) = declared {
                    stores.insert((class, attribute.name.as_str()));
                }
            }
        }
    }
    stores
}
