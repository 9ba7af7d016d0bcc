//! Object identity for instance attributes: which accesses can touch the same object.
//!
//! State is keyed by the class that declares an attribute, so `self.entity_id` in two
//! unrelated subclasses of one base is one location. But an access made through a
//! receiver of static class `A` touches an instance of `A` (or of a subclass), and one
//! through `B` an instance of `B`: the two can be the same object only when some class
//! is both an `A` and a `B` (one derives from the other, or a third derives from
//! both). Otherwise the two receivers are different objects, as RacerD keeps access
//! paths rooted at different objects apart.

use std::sync::OnceLock;

use super::resolve::{ClassId, Program, Resolved, Target};
use crate::model::FileId;

pub struct Identity {
    /// Direct project subclasses of each class.
    children: Vec<Vec<ClassId>>,
    /// Each class and all its descendants, sorted, computed on first use.
    family: Vec<OnceLock<Vec<ClassId>>>,
}

impl Identity {
    pub fn compute(program: &Program) -> Identity {
        let count = program.classes.len();
        let mut children = vec![Vec::new(); count];
        for class in 0..count {
            for base in program.base_classes(class) {
                children[base].push(class);
            }
        }
        Identity {
            children,
            family: (0..count).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Whether an instance of `a` and an instance of `b` can be one object.
    pub fn may_alias(&self, a: ClassId, b: ClassId) -> bool {
        if a == b {
            return true;
        }
        // A framework base has thousands of descendants, a leaf class one: look the
        // smaller family up in the larger.
        let (x, y) = (self.family(a), self.family(b));
        let (small, large) = if x.len() <= y.len() { (x, y) } else { (y, x) };
        small.iter().any(|class| large.binary_search(class).is_ok())
    }

    /// Whether some project class derives from `class`.
    pub fn has_subclasses(&self, class: ClassId) -> bool {
        !self.children[class].is_empty()
    }

    /// Whether `class` is `base` or derives from it.
    pub fn derives(&self, class: ClassId, base: ClassId) -> bool {
        self.family(base).binary_search(&class).is_ok()
    }

    fn family(&self, class: ClassId) -> &[ClassId] {
        self.family[class].get_or_init(|| {
            let mut seen = std::collections::HashSet::from([class]);
            let mut stack = vec![class];
            while let Some(current) = stack.pop() {
                for &child in &self.children[current] {
                    if seen.insert(child) {
                        stack.push(child);
                    }
                }
            }
            let mut out: Vec<ClassId> = seen.into_iter().collect();
            out.sort_unstable();
            out
        })
    }
}

/// The static class of the receiver an attribute path is reached through
/// (`mod.Sensor` for `mod.Sensor._value`, the instance type for `mod.REPORT.rows`).
pub fn receiver_class(program: &Program, file: FileId, receiver: &str) -> Option<ClassId> {
    match program.resolve(file, receiver) {
        Resolved {
            target: Target::Class(class),
            residual: 0,
        } => Some(class),
        Resolved {
            target: Target::Global {
                file, ty: Some(ty), ..
            },
            residual: 0,
        } => program.class_of_value(file, &ty),
        Resolved {
            target:
                Target::Attribute {
                    class,
                    ty: Some(ty),
                    ..
                },
            residual: 0,
        } => program.class_of_value(program.class_file(class), &ty),
        _ => None,
    }
}
