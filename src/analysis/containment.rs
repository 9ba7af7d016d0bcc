//! Containment: objects each held privately by one owner object.
//!
//! A class whose every instance is built by an owner's `__init__` into a private field
//! that the owner's code only uses through its members (`HeldField`: `self._history =
//! History()`, then `self._history.add(x)`), and that no other code reaches, has one
//! owner per object: its state is the owner's state. What orders accesses to an
//! object's own attributes (runs of a method on one object are sequential,
//! `analysis::ordering`) orders accesses to what it holds too.
//!
//! The class qualifies only when the program builds it nowhere else (every call of its
//! constructor is such a field's, none passes the class as a factory), it has no
//! project subclasses, none of its methods lets `self` escape, the members the owner
//! passes on are values rather than bound methods, and no code outside the owner's own
//! methods (a subclass's included) names the field.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::contexts::Contexts;
use super::identity::Identity;
use super::ownership::Ownership;
use super::resolve::{ClassId, Program, Resolved, Target};
use crate::model::{Callee, Language, Span};

pub struct Containment {
    container: Vec<Option<ClassId>>,
}

impl Containment {
    pub fn compute(
        program: &Program,
        contexts: &Contexts,
        identity: &Identity,
        ownership: &Ownership,
    ) -> Containment {
        let mut container = vec![None; program.classes.len()];
        // Per held class: its owners' classes, fields and construction sites.
        let mut held: HashMap<ClassId, Vec<(ClassId, &str, Span)>> = HashMap::default();
        for owner in 0..program.classes.len() {
            let file = program.class_file(owner);
            if program.files[file].language != Language::Python {
                continue;
            }
            for field in &program.class(owner).held_fields {
                let Some(class) = program.class_of_type(file, &field.constructor) else {
                    continue;
                };
                if field
                    .members_passed
                    .iter()
                    .all(|m| program.is_value_member(class, m))
                {
                    held.entry(class)
                        .or_default()
                        .push((owner, field.name.as_str(), field.span));
                }
            }
        }
        let named_outside = named_outside_owner(program, &held);
        for (&class, fields) in &held {
            let owner = fields[0].0;
            let Some(init) = program.own_method(class, "__init__") else {
                continue;
            };
            let built_only_there = contexts.callable_passes[init] == 0
                && !contexts.started_elsewhere[init]
                && contexts.callers[init].iter().all(|&(caller, index)| {
                    let span = program.function(caller).calls[index].span;
                    program.class_of_method(caller) == Some(owner)
                        && fields.iter().any(|&(_, _, at)| at == span)
                });
            let private = fields
                .iter()
                .all(|&(o, name, _)| o == owner && !named_outside.contains(&(owner, name)));
            let keeps_itself = program.class(class).methods.iter().all(|&(_, index)| {
                let method = program.function_id(program.class_file(class), index);
                !ownership.receiver_escapes(method)
            });
            if built_only_there && private && keeps_itself && !identity.has_subclasses(class) {
                container[class] = Some(owner);
            }
        }
        Containment { container }
    }

    /// The class whose every instance privately holds each instance of `class`, if
    /// there is one.
    pub fn container(&self, class: ClassId) -> Option<ClassId> {
        self.container[class]
    }
}

/// The `(owner, field)` pairs among `held` that code other than the owner's own methods
/// names: an access or a call through `x.field` for an `x` of the owner's class.
fn named_outside_owner<'h>(
    program: &Program,
    held: &HashMap<ClassId, Vec<(ClassId, &'h str, Span)>>,
) -> HashSet<(ClassId, &'h str)> {
    let fields: HashMap<&str, Vec<ClassId>> =
        held.values()
            .flatten()
            .fold(HashMap::default(), |mut by_name, &(owner, name, _)| {
                by_name.entry(name).or_default().push(owner);
                by_name
            });
    let mut named = HashSet::default();
    for function in 0..program.functions.len() {
        let file = program.file_of(function);
        if program.files[file].language != Language::Python {
            continue;
        }
        let model = program.function(function);
        let own_class = program.class_of_method(function);
        let paths =
            model
                .accesses
                .iter()
                .map(|a| a.path.as_str())
                .chain(model.calls.iter().filter_map(|c| match &c.callee {
                    Callee::Path(p) => Some(p.as_str()),
                    Callee::Method(_) => None,
                }));
        for path in paths {
            for (end, _) in path.match_indices('.') {
                let rest = &path[end + 1..];
                let name = rest.split('.').next().unwrap_or(rest);
                let Some((&key, owners)) = fields.get_key_value(name) else {
                    continue;
                };
                if let Resolved {
                    target: Target::Attribute { class, .. },
                    residual: 0,
                } = program.resolve(file, &path[..end + 1 + name.len()])
                {
                    if owners.contains(&class) && own_class != Some(class) {
                        named.insert((class, key));
                    }
                }
            }
        }
    }
    named
}
