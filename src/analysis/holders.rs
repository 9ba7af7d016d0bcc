//! Holders: fields that are the only way to the objects they hold.
//!
//! State is keyed by class, so `self.info.name` in two holder classes is one location
//! (`DeviceInfo.name`) even when each holder built its own `DeviceInfo`. A field of a
//! holder class whose every store that can run on the holder's objects is made in a
//! method through `self` and puts there an object built on the spot (`self.info =
//! DeviceInfo(…)`, `self._seen = {}`, the one target of its assignment), or `None`,
//! and which nothing stores into through another receiver, holds objects that no other
//! location was given when they were stored. Two such fields hold two objects, and one
//! field holds one object per holder. So two accesses of an attribute made through
//! holder fields (`self.info.name`, or `info = self.info; info.name`) can touch one
//! object only through the same field of holders whose classes can be one object:
//! RacerD's access paths rooted at different objects, kept apart.
//!
//! Which stores can run on a holder's objects: those in methods of a class that can be
//! one object with the holder's (`Identity::may_alias`), so sibling subclasses of a
//! base that declares the field (`Entity._attr_device_info`) are judged apart. What a
//! holder hands out afterwards (`return self.info`, `register(self.info)`) is reached
//! through other paths, which name no holder and may touch any object of the class. A
//! store racelint cannot see (`setattr`, `__dict__`) is not counted.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::catalogue::Catalogue;
use super::identity::Identity;
use super::resolve::{ClassId, Program};
use super::state::{resolve_state, StateKey};
use crate::model::{AccessKind, Language};

pub struct Holders {
    /// Per field: the class of each method that stores into it through `self`, and
    /// whether that store puts a fresh object there.
    stores: HashMap<StateKey, Vec<(ClassId, bool)>>,
    /// Fields something stores into other than through `self` in a method.
    stored_elsewhere: HashSet<StateKey>,
}

impl Holders {
    pub fn compute(program: &Program, catalogue: &Catalogue) -> Holders {
        let mut stores: HashMap<StateKey, Vec<(ClassId, bool)>> = HashMap::default();
        let mut stored_elsewhere = HashSet::default();
        for function in 0..program.functions.len() {
            let file = program.file_of(function);
            if program.files[file].language != Language::Python {
                continue;
            }
            let model = program.function(function);
            let method_class = program.class_of_method(function);
            for access in model.accesses.iter().filter(|a| a.kind.is_write()) {
                // A mutation reaches inside the held object (`self.info["name"] = x`,
                // `self._seen.add(x)`): the field still holds the same one.
                if access.kind == AccessKind::Mutation {
                    continue;
                }
                let Some(state) = resolve_state(program, catalogue, file, &access.path) else {
                    continue;
                };
                if state.residual != 0 || !matches!(state.key, StateKey::Attribute { .. }) {
                    continue;
                }
                // `None` is no object to share.
                if access.stores_unshared && access.writes_constant.is_some() {
                    continue;
                }
                match method_class.filter(|_| access.root == Some(0)) {
                    Some(class) => stores.entry(state.key).or_default().push((
                        class,
                        access.stores_unshared && access.kind == AccessKind::Rebind,
                    )),
                    None => {
                        stored_elsewhere.insert(state.key);
                    }
                }
            }
        }
        Holders {
            stores,
            stored_elsewhere,
        }
    }

    /// Whether `field` of an object of class `holder` holds only objects built into it.
    pub fn holds_alone(&self, identity: &Identity, field: &StateKey, holder: ClassId) -> bool {
        if self.stored_elsewhere.contains(field) {
            return false;
        }
        let Some(stores) = self.stores.get(field) else {
            return false;
        };
        let mut related = stores
            .iter()
            .filter(|(class, _)| identity.may_alias(*class, holder))
            .peekable();
        related.peek().is_some() && related.all(|(_, fresh)| *fresh)
    }
}
