//! Dynamic dispatch on `self`: a call `self.refresh()` in a method of `Base` runs
//! `Base.refresh` or any override a project subclass defines, whichever class the
//! object is (class-hierarchy analysis, restricted to calls on the method's own
//! receiver, where the template-method pattern puts them: a base class's `run()`
//! calling `self.process()` that each subclass overrides).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::resolve::{ClassId, FuncId, Program};

#[derive(Clone)]
pub struct Dispatch {
    /// Direct project subclasses of each class.
    children: Vec<Vec<ClassId>>,
    /// Direct project bases of each class.
    bases: Vec<Vec<ClassId>>,
    /// Overrides found so far, per method, with the class that defines each.
    overrides: HashMap<FuncId, Vec<(FuncId, ClassId)>>,
}

impl Dispatch {
    pub fn new(program: &Program) -> Dispatch {
        let mut children = vec![Vec::new(); program.classes.len()];
        let bases: Vec<Vec<ClassId>> = (0..program.classes.len())
            .map(|class| program.base_classes(class))
            .collect();
        for (class, direct) in bases.iter().enumerate() {
            for &base in direct {
                children[base].push(class);
            }
        }
        Dispatch {
            children,
            bases,
            overrides: HashMap::default(),
        }
    }

    /// The methods of project subclasses that override `method` (directly or through
    /// an intermediate override) and that a call on `self` in `caller` can run: only
    /// for an object whose class still runs `caller` itself, not an override of it
    /// (`SessionBase.aload` calling `self.load` never runs `load` of a store that
    /// overrides `aload`). Judged at the override's class, whose subclasses inherit
    /// its choice.
    pub fn overrides(&mut self, program: &Program, method: FuncId, caller: FuncId) -> Vec<FuncId> {
        let caller_model = program.function(caller);
        let found = self.all_overrides(program, method);
        found
            .iter()
            .filter(|&&(_, class)| {
                caller_model.class.is_none()
                    || program.method(class, &caller_model.name) == Some(caller)
            })
            .map(|&(f, _)| f)
            .collect()
    }

    /// Every override of `method` a project subclass defines itself or brings in with a
    /// mixin base, with that subclass.
    fn all_overrides(&mut self, program: &Program, method: FuncId) -> &[(FuncId, ClassId)] {
        let (children, bases) = (&self.children, &self.bases);
        self.overrides.entry(method).or_insert_with(|| {
            let model = program.function(method);
            let Some(class) = program.class_of_method(method) else {
                return Vec::new();
            };
            let mut found = Vec::new();
            let mut listed = HashSet::default();
            let mut seen = HashSet::from_iter([class]);
            let mut stack = children[class].clone();
            while let Some(sub) = stack.pop() {
                if !seen.insert(sub) {
                    continue;
                }
                stack.extend(children[sub].iter().copied());
                // Defined by the subclass, or by a mixin it adds (`class
                // ForkingTCPServer(ForkingMixIn, TCPServer)`), which may come first in
                // its method order.
                let mixins = bases[sub].iter().filter(|base| !seen.contains(*base));
                for f in std::iter::once(sub)
                    .chain(mixins.copied())
                    .filter_map(|owner| program.own_method(owner, &model.name))
                {
                    if listed.insert(f) {
                        found.push((f, sub));
                    }
                }
            }
            found
        })
    }
}
