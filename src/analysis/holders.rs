//! Holders: fields that are the only way to the objects they hold.
//!
//! State is keyed by class, so `self.info.name` in two holder classes is one location
//! (`DeviceInfo.name`) even when each holder built its own `DeviceInfo`. A field (an
//! attribute name of a holder class) whose every store that can run on the holder's
//! objects is made in a method through `self` and puts there an object built on the
//! spot (`self.info = DeviceInfo(…)` of a class with no `__new__`, `self._seen = {}`,
//! the one target of its assignment), or `None`, and which nothing stores into through
//! another receiver, holds objects that no other location was given when they were
//! stored. Two such fields hold two objects, and one field holds one object per
//! holder. So two accesses of an attribute made through holder fields
//! (`self.info.name`, or `info = self.info; info.name`) can touch one object only
//! through the same field of holders whose classes can be one object: RacerD's access
//! paths rooted at different objects, kept apart.
//!
//! Fields are matched by name across a class family: a subclass's `self.info` and its
//! base's are one attribute of one object, whichever class racelint keys them by.
//! Which stores can run on a holder's objects: those in methods of a class that can be
//! one object with the holder's (`Identity::may_alias`), so sibling subclasses of a
//! base that declares the field (`Entity._attr_device_info`) are judged apart. A
//! dataclass's (or attrs, pydantic, `NamedTuple`) declared field is stored by the
//! generated `__init__` from its caller's argument: never a holder; nor is a field the
//! class body gives an object (`batch = Batch()`), which every instance that stores
//! none of its own shares. A change of the held object in place (`self.counts[k] += 1`)
//! stores nothing new in the field. What a holder hands
//! out afterwards (`return self.info`, `register(self.info)`) is reached through other
//! paths, which name no holder and may touch any object of the class. A store racelint
//! cannot see (`setattr`, `__dict__`) is not counted: a known limit.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::catalogue::Catalogue;
use super::identity::Identity;
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use super::state::{resolve_state, StateKey};
use crate::model::{AccessKind, Arg, ItemUpdate, Language};

pub struct Holders {
    /// Per attribute name: the class of each method (or generated `__init__`) that
    /// stores into it through `self`, and whether that store puts a fresh object there.
    stores: HashMap<String, Vec<(ClassId, bool)>>,
    /// Names something stores into other than through `self` in a method.
    stored_elsewhere: HashSet<String>,
}

impl Holders {
    pub fn compute(program: &Program, catalogue: &Catalogue) -> Holders {
        let mut stores: HashMap<String, Vec<(ClassId, bool)>> = HashMap::default();
        let mut stored_elsewhere = HashSet::default();
        for class in 0..program.classes.len() {
            let file = program.class_file(class);
            if program.files[file].language != Language::Python {
                continue;
            }
            // A dataclass's field, which its generated `__init__` stores from the
            // caller, and a class-body object every instance that never stores its own
            // shares (`batch = Batch()`): neither holds only objects built into it.
            for field in program
                .class(class)
                .attributes
                .iter()
                .filter(|a| a.instance_field || (a.class_level && !a.immutable_default))
            {
                stores
                    .entry(field.name.clone())
                    .or_default()
                    .push((class, false));
            }
        }
        for function in 0..program.functions.len() {
            let file = program.file_of(function);
            if program.files[file].language != Language::Python {
                continue;
            }
            let model = program.function(function);
            // A class or static method's first parameter is no instance.
            let method_class = program
                .class_of_method(function)
                .filter(|_| !model.is_class_or_static_method());
            for access in model.accesses.iter().filter(|a| a.kind.is_write()) {
                // A mutation reaches inside the held object (`self.info["name"] = x`,
                // `self._seen.add(x)`, `self.counts[k] += 1`): the field still holds the
                // same one.
                if access.kind == AccessKind::Mutation || access.item != ItemUpdate::None {
                    continue;
                }
                let Some(state) = resolve_state(program, catalogue, file, &access.path) else {
                    continue;
                };
                let StateKey::Attribute { name, .. } = state.key else {
                    continue;
                };
                if state.residual != 0 {
                    continue;
                }
                // `None` is no object to share.
                if access.stores_unshared && access.writes_constant.is_some() {
                    continue;
                }
                match method_class.filter(|_| access.root == Some(0)) {
                    Some(class) => {
                        let fresh = access.stores_unshared
                            && access.kind == AccessKind::Rebind
                            && builds_new_object(program, function, &access.path);
                        stores.entry(name).or_default().push((class, fresh));
                    }
                    None => {
                        stored_elsewhere.insert(name);
                    }
                }
            }
        }
        Holders {
            stores,
            stored_elsewhere,
        }
    }

    /// Whether every store into the attribute `name` is made through `self` in an
    /// instance method (none through a class object, another receiver or a module).
    pub fn stored_only_through_instances(&self, name: &str) -> bool {
        !self.stored_elsewhere.contains(name)
    }

    /// Whether the attribute `name` of an object of class `holder` holds only objects
    /// built into it.
    pub fn holds_alone(&self, identity: &Identity, name: &str, holder: ClassId) -> bool {
        if self.stored_elsewhere.contains(name) {
            return false;
        }
        let Some(stores) = self.stores.get(name) else {
            return false;
        };
        let mut related = stores
            .iter()
            .filter(|(class, _)| identity.may_alias(*class, holder))
            .peekable();
        related.peek().is_some() && related.all(|(_, fresh)| *fresh)
    }
}

/// Whether the value a function stores at `path` (which the front-end found to be a
/// display or a capitalised call) is a new object: a display, a project class that
/// builds one each time (`constructs_new`), or a class outside the project. A
/// function, even one named like a class, may return what it returned before.
fn builds_new_object(program: &Program, function: FuncId, path: &str) -> bool {
    let file = program.file_of(function);
    program
        .function(function)
        .stored_callables
        .iter()
        .filter(|(at, _)| at == path)
        .all(|(_, value)| match value {
            Arg::Instance(constructor) => match program.resolve(file, constructor).target {
                Target::Class(class) => constructs_new(program, class),
                // A library's class is taken to build a new object (`deque()`,
                // `ClientSession()`): racelint cannot see its construction.
                Target::External(_) => true,
                _ => false,
            },
            _ => false,
        })
}

/// Whether calling a project class builds a new object each time: nothing in its
/// family customises its construction — no `__new__` or `__init_subclass__` (which
/// may install one), no class statement that lets other code run at the call
/// (`Class::custom_call`: a singleton's metaclass, a caching decorator) — and its
/// library bases are the standard library's (`standard_class`).
pub fn constructs_new(program: &Program, class: ClassId) -> bool {
    if program.method(class, "__new__").is_some()
        || program.method(class, "__init_subclass__").is_some()
        || !program
            .external_ancestors(class)
            .iter()
            .all(|a| standard_class(a))
    {
        return false;
    }
    let mut stack = vec![class];
    let mut seen = Vec::new();
    while let Some(member) = stack.pop() {
        if seen.contains(&member) {
            continue;
        }
        seen.push(member);
        if !plain_class_statement(program, member) {
            return false;
        }
        stack.extend(program.base_classes(member));
    }
    true
}

/// A class statement whose decorators all hand the class back as it was: named project
/// functions every `return` of which gives back their argument (`register`), and no
/// `Class::custom_call`.
fn plain_class_statement(program: &Program, class: ClassId) -> bool {
    let model = program.class(class);
    let file = program.class_file(class);
    !model.custom_call
        && model
            .decorated_by
            .iter()
            .all(|path| match program.resolve(file, path) {
                Resolved {
                    target: Target::Function(decorator),
                    residual: 0,
                } => program.function(decorator).returns_argument,
                _ => false,
            })
}

/// A library class whose call builds a new object: a builtin (`dict`, named without a
/// module) or a standard-library class, but no `enum`, whose members are looked up.
fn standard_class(path: &str) -> bool {
    match path.split_once('.') {
        Some((module, _)) => module != "enum" && crate::python::is_stdlib_module(module),
        None => true,
    }
}
