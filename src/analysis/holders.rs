//! Holders: fields that are the only way to the objects they hold.
//!
//! State is keyed by class, so `self.info.name` in two holder classes is one location
//! (`DeviceInfo.name`) even when each holder built its own `DeviceInfo`. A field (an
//! attribute name of a holder class) whose every store that can run on the holder's
//! objects is made in a method through `self` and puts there an object built on the
//! spot (`self.info = DeviceInfo(…)` of a class with no `__new__`, `self._seen = {}`,
//! `self._waiters = defaultdict(deque)`,
//! the one target of its assignment), or `None`, holds objects that no other location
//! was given when they were stored. A store through another receiver (`panel.info =
//! info`, a module's `PANEL.info = info`, an object reached through `self`), or
//! through anything racelint does not name (an untyped parameter or expression, a local
//! it built, an element: `holder.info = x`, `REG[k].info = x`; `setattr(x, "info", v)`,
//! `x.__dict__["info"] = v`, `object.__setattr__(x, "info", v)`:
//! `FileModel::unseen_attribute_stores`), may put anything in that attribute of any
//! object: the receiver's class is only what an annotation or a first constructor
//! suggests. Two such fields hold two objects, and one field holds one object per
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
//! cannot see at all (`setattr` with a computed name) is not counted: a known limit.
//!
//! Also which fields hold only immutable values (every store puts a literal there or
//! updates it: `self.count = 0`, `self.count += 1`): an update of one rebinds the
//! holder's own slot and changes no object another holder shares.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::catalogue::Catalogue;
use super::identity::Identity;
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use super::state::{resolve_state, StateKey};
use crate::model::{AccessKind, Arg, FileId, ItemUpdate, Language};

pub struct Holders {
    /// Per attribute name: the class of each method (or generated `__init__`) that
    /// stores into it (through `self`, or the receiver's class otherwise), and what the
    /// store puts there.
    stores: HashMap<String, Vec<(ClassId, Stored)>>,
    /// Names something stores into other than through `self` in a method, or through
    /// something racelint does not name.
    stored_elsewhere: HashSet<String>,
    /// Classes a method of which stores attributes by computed names
    /// (`Class::sets_attributes_by_name`).
    set_by_name: Vec<ClassId>,
    /// Some file stores attributes by computed names into other objects
    /// (`FileModel::sets_attributes_by_name`).
    set_by_name_anywhere: bool,
    /// Per attribute name: the constructions whose object a method stores there
    /// (`Function::stores_built`), by file and offset, with the method's class. The
    /// object a holder field holds is also the `self` its construction's `__init__`
    /// received.
    built_into: HashMap<String, Vec<(FileId, u32, ClassId)>>,
}

impl Holders {
    pub fn compute(program: &Program, catalogue: &Catalogue) -> Holders {
        let mut stores: HashMap<String, Vec<(ClassId, Stored)>> = HashMap::default();
        let mut stored_elsewhere = HashSet::default();
        let mut built_into: HashMap<String, Vec<(FileId, u32, ClassId)>> = HashMap::default();
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
                    .push((class, Stored::Other));
            }
        }
        for file in program.files {
            stored_elsewhere.extend(file.unseen_attribute_stores.iter().cloned());
        }
        for function in 0..program.functions.len() {
            let file = program.file_of(function);
            if program.files[file].language != Language::Python {
                continue;
            }
            let model = program.function(function);
            // Through a parameter (`holder.meter = m`), whatever the caller passes.
            for access in &model.param_accesses {
                if access.kind.is_write()
                    && access.kind != AccessKind::Mutation
                    && access.item == ItemUpdate::None
                {
                    if let Some((_, name)) = access.path.rsplit_once('.') {
                        stored_elsewhere.insert(name.to_string());
                    }
                }
            }
            // A class or static method's first parameter is no instance.
            let method_class = program
                .class_of_method(function)
                .filter(|_| !model.is_class_or_static_method());
            for (path, at) in &model.stores_built {
                let (Some(class), Some(state)) =
                    (method_class, resolve_state(program, catalogue, file, path))
                else {
                    continue;
                };
                if let (StateKey::Attribute { name, .. }, 0) = (state.key, state.residual) {
                    built_into.entry(name).or_default().push((file, *at, class));
                }
            }
            for access in model.accesses.iter().filter(|a| a.kind.is_write()) {
                // A mutation reaches inside the held object (`self.info["name"] = x`,
                // `self._seen.add(x)`, `self.counts[k] += 1`): the field still holds the
                // same one.
                if access.kind == AccessKind::Mutation || access.item != ItemUpdate::None {
                    continue;
                }
                // Into an attribute of an object racelint cannot name: that name may
                // hold anything, on any object.
                let unseen = |path: &str| path.rsplit('.').next().unwrap_or(path).to_string();
                let Some(state) = resolve_state(program, catalogue, file, &access.path) else {
                    stored_elsewhere.insert(unseen(&access.path));
                    continue;
                };
                if state.residual != 0 {
                    stored_elsewhere.insert(unseen(&access.path));
                    continue;
                }
                let StateKey::Attribute { name, .. } = state.key else {
                    continue;
                };
                // `None` is no object to share.
                if access.stores_unshared && access.writes_constant.is_some() {
                    continue;
                }
                // Into the receiver's own attribute (`self.info = …`), not into an
                // object reached through it (`self.panels[0].info = …`).
                let own = |class: ClassId| {
                    access.path.rsplit_once('.').map(|(receiver, _)| receiver)
                        == Some(program.class(class).path.as_str())
                };
                match method_class.filter(|&class| access.root == Some(0) && own(class)) {
                    Some(class) => {
                        let stored = if access.writes_constant.is_some() {
                            Stored::Literal
                        } else if access.kind == AccessKind::ReadModifyWrite
                            && access.literal_update
                        {
                            Stored::Augmented
                        } else if access.stores_unshared
                            && access.kind == AccessKind::Rebind
                            && builds_new_object(program, function, &access.path)
                        {
                            Stored::Fresh
                        } else {
                            Stored::Other
                        };
                        stores.entry(name).or_default().push((class, stored));
                    }
                    // Through another receiver (`other.info = x`, a module's `APP.info
                    // = x`, an object reached through `self`): racelint cannot tell
                    // which class's objects get it (an annotation, a default, a first
                    // constructor only suggest one), so any object's may.
                    None => {
                        stored_elsewhere.insert(name);
                    }
                }
            }
        }
        let set_by_name = (0..program.classes.len())
            .filter(|&class| program.class(class).sets_attributes_by_name)
            .collect();
        Holders {
            stores,
            stored_elsewhere,
            set_by_name,
            set_by_name_anywhere: program.files.iter().any(|f| f.sets_attributes_by_name),
            built_into,
        }
    }

    /// Whether every store into the attribute `name` is made through `self` in an
    /// instance method (none through a class object, another receiver or a module).
    pub fn stored_only_through_instances(&self, name: &str) -> bool {
        !self.stored_elsewhere.contains(name)
    }

    /// Whether the object the call at `offset` of `file` builds may be the one the
    /// attribute `name` of an object of class `holder` holds: that call's object is
    /// stored there by a method of a class that can be one object with the holder's.
    pub fn may_hold_built(
        &self,
        identity: &Identity,
        name: &str,
        holder: ClassId,
        (file, offset): (FileId, u32),
    ) -> bool {
        self.built_into.get(name).is_some_and(|sites| {
            sites.iter().any(|&(f, at, class)| {
                f == file && at == offset && identity.may_alias(class, holder)
            })
        })
    }

    /// Whether some code stores attributes by computed names into objects other than
    /// its own (`setattr(obj, key, value)` in a loader): then a field of an object
    /// nothing names may hold anything, whatever its class's own stores
    /// (`origins`). Where the holder is named, such stores stay a known limit.
    pub fn set_by_name_anywhere(&self) -> bool {
        self.set_by_name_anywhere
    }

    /// Whether the attribute `name` of an object of class `holder` holds only objects
    /// built into it.
    pub fn holds_alone(&self, identity: &Identity, name: &str, holder: ClassId) -> bool {
        self.every_store(identity, name, holder, |stored| stored == Stored::Fresh)
    }

    /// Whether the attribute `name` of an object of class `holder` holds only immutable
    /// values: every store puts a literal there (`self.count = 0`), or updates it by one
    /// (`self.count += 1`, which rebinds a number; not `self.log = self.log or LOG`). Reading or updating it touches the
    /// holder's own slot, never an object another holder shares.
    pub fn holds_immutable(&self, identity: &Identity, name: &str, holder: ClassId) -> bool {
        self.every_store(identity, name, holder, |stored| {
            matches!(stored, Stored::Literal | Stored::Augmented)
        })
    }

    /// Whether some store into `name` can run on objects of class `holder`, and each
    /// such store is what `wanted` accepts.
    fn every_store(
        &self,
        identity: &Identity,
        name: &str,
        holder: ClassId,
        wanted: impl Fn(Stored) -> bool,
    ) -> bool {
        if self.stored_elsewhere.contains(name)
            || self
                .set_by_name
                .iter()
                .any(|&class| identity.may_alias(class, holder))
        {
            return false;
        }
        let Some(stores) = self.stores.get(name) else {
            return false;
        };
        let mut related = stores
            .iter()
            .filter(|(class, _)| identity.may_alias(*class, holder))
            .peekable();
        related.peek().is_some() && related.all(|&(_, stored)| wanted(stored))
    }
}

/// What a store puts in a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// An object built on the spot, which no other location holds.
    Fresh,
    /// A literal constant (a number, a string, `True`).
    Literal,
    /// An augmented assignment by a literal (`+= 1`, `+= "!"`): of a literal's value,
    /// a number or string again (`+= arr` could make a `0` an array).
    Augmented,
    /// Anything else.
    Other,
}

/// Whether the value a function stores at `path` (which the front-end found to be a
/// display or a call of a class, `python::lower::ownership::names_a_class`) is a new
/// object: a display, a project class that builds one each time (`constructs_new`), or
/// a class outside the project. A function, even one named like a class, may return
/// what it returned before.
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
