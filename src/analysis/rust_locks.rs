//! Which Rust lock a guard takes, named after the lock rather than the binding that
//! reaches it.
//!
//! The front-end names a lock by the place it is reached through: a static, a field of
//! a type (`Exporter.metrics`), or a binding with its clones (`start_exporter.metrics`).
//! A lock received as a parameter is the caller's value, so, as Infer's RacerD does with
//! access paths on formals, the parameter is first followed to the argument at every
//! resolved call site: when they all pass the same lock, that lock is the name. When the
//! callers are unknown (a `pub fn` of a library, a handler the framework calls), and for
//! fields, whose value someone else stored, the lock is also known by its declared type
//! (`Arc<Mutex<Registry>>` is the lock `Mutex<Registry>`) when the guarded type is one of
//! the project's named types: such a lock may be any lock of that type. Two locks of
//! known, different origins are never merged.

use std::cell::RefCell;
use std::collections::HashMap;

use super::catalogue::RustSyntax;
use super::resolve::{FuncId, Target};
use super::Analysis;
use crate::model::{FileId, Guard};

/// How deep parameters are followed back through callers.
const MAX_FOLLOW: usize = 8;

/// A lock's name, for telling whether two guards take the same lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockName {
    /// The place it was created or stored: a static, a field, a binding.
    pub binding: String,
    /// Its declared type, when the guarded type is one of the project's
    /// (`Mutex<rs:app.Registry>`).
    pub by_type: Option<String>,
    /// Whether `binding` is where the lock comes from (a static, a local, an argument
    /// every caller agrees on), or only where it was received (a parameter with unknown
    /// callers, a field).
    pub origin_known: bool,
}

/// Why two guards take one lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SameLock {
    /// Reached through the same binding, field or static.
    Binding,
    /// Received where its origin is unknown, and of the same lock type (`Mutex<Registry>`
    /// as the code writes it).
    Type(String),
}

pub struct LockNames<'a, 'm> {
    analysis: &'a Analysis<'m>,
    /// `function.parameter` → the function and the parameter's position.
    params: HashMap<String, (FuncId, usize)>,
    /// Names already worked out, by place and declared type: following parameters
    /// back through callers branches at every call.
    known: RefCell<HashMap<(String, Option<String>), LockName>>,
}

impl<'a, 'm> LockNames<'a, 'm> {
    pub fn new(analysis: &'a Analysis<'m>) -> Self {
        let program = &analysis.program;
        let mut params = HashMap::new();
        for function in 0..program.functions.len() {
            let model = program.function(function);
            for (index, param) in model.params.iter().enumerate() {
                params.insert(format!("{}.{}", model.path, param.name), (function, index));
            }
        }
        LockNames {
            analysis,
            params,
            known: RefCell::new(HashMap::new()),
        }
    }

    /// The lock `guard` (taken in `function`) takes.
    pub fn of(&self, function: FuncId, guard: &Guard) -> LockName {
        let file = self.analysis.program.file_of(function);
        self.name(file, &guard.lock, guard.lock_type.clone(), 0)
    }

    /// Whether two named locks are one, and why.
    pub fn same(a: &LockName, b: &LockName) -> Option<SameLock> {
        if a.binding == b.binding {
            return Some(SameLock::Binding);
        }
        match (&a.by_type, &b.by_type) {
            (Some(x), Some(y)) if x == y && !(a.origin_known && b.origin_known) => {
                Some(SameLock::Type(shown_type(x)))
            }
            _ => None,
        }
    }

    fn name(&self, file: FileId, path: &str, declared: Option<String>, depth: usize) -> LockName {
        let key = (path.to_string(), declared.clone());
        if let Some(name) = self.known.borrow().get(&key) {
            return name.clone();
        }
        let name = self.work_out(file, path, declared, depth);
        self.known.borrow_mut().insert(key, name.clone());
        name
    }

    fn work_out(
        &self,
        file: FileId,
        path: &str,
        declared: Option<String>,
        depth: usize,
    ) -> LockName {
        let program = &self.analysis.program;
        if let Some(&(callee, index)) = self.params.get(path) {
            let declared = program.function(callee).params[index]
                .lock_type
                .clone()
                .or(declared);
            let by_type = self.project_type(program.file_of(callee), declared);
            if depth < MAX_FOLLOW {
                if let Some(mut followed) = self.callers_agree(callee, index, &by_type, depth) {
                    followed.by_type = followed.by_type.or(by_type);
                    return followed;
                }
            }
            return LockName {
                binding: path.to_string(),
                by_type,
                origin_known: false,
            };
        }
        if let Some(field) = self.field_type(file, path) {
            return LockName {
                binding: path.to_string(),
                by_type: self.project_type(file, declared.or(field)),
                origin_known: false,
            };
        }
        LockName {
            binding: path.to_string(),
            by_type: self.project_type(file, declared),
            origin_known: true,
        }
    }

    /// The lock every resolved caller passes for parameter `index` of `callee`, when
    /// there are callers and they all pass the same one.
    fn callers_agree(
        &self,
        callee: FuncId,
        index: usize,
        by_type: &Option<String>,
        depth: usize,
    ) -> Option<LockName> {
        let program = &self.analysis.program;
        let callers = &self.analysis.contexts.callers[callee];
        let mut agreed: Option<LockName> = None;
        for &(caller, call) in callers {
            let argument = program
                .function(caller)
                .call_args
                .iter()
                .find(|args| args.call == call)
                .and_then(|args| args.args.get(index).cloned().flatten())?;
            let name = self.name(
                program.file_of(caller),
                &argument,
                by_type.clone(),
                depth + 1,
            );
            match &agreed {
                Some(previous) if previous.binding != name.binding => return None,
                Some(_) => {}
                None => agreed = Some(name),
            }
        }
        agreed
    }

    /// The lock type a field path (`rs:app.Exporter.metrics`) is declared with, from the
    /// type paths its declaration mentions: `Arc<Mutex<Registry>>` mentions `Arc`,
    /// `Mutex`, `Registry`. `Some(None)` for a field that is no lock of a named type.
    fn field_type(&self, file: FileId, path: &str) -> Option<Option<String>> {
        let program = &self.analysis.program;
        let (owner, field) = path.rsplit_once('.')?;
        let resolved = program.resolve(file, owner);
        let Target::Class(class) = resolved.target else {
            return None;
        };
        if resolved.residual > 0 {
            return None;
        }
        let attribute = program
            .class(class)
            .attributes
            .iter()
            .find(|a| a.name == field)?;
        Some(self.lock_type_of(&attribute.mentions))
    }

    fn lock_type_of(&self, mentions: &[String]) -> Option<String> {
        let syntax = &self.analysis.catalogue.rust.syntax;
        let mut rest = mentions
            .iter()
            .skip_while(|m| RustSyntax::ends_with(&syntax.pointer_types, m));
        let lock = rest.next()?;
        let guarded = rest.next()?;
        if rest.next().is_some() || !RustSyntax::ends_with(&syntax.lock_types, lock) {
            return None;
        }
        let kind = lock.rsplit('.').next().unwrap_or(lock);
        Some(format!("{kind}<{guarded}>"))
    }

    /// A lock type whose guarded type is one of the project's named types; a generic,
    /// a primitive or an external type says nothing about which lock it is.
    fn project_type(&self, file: FileId, lock_type: Option<String>) -> Option<String> {
        let lock_type = lock_type?;
        let guarded = lock_type.split_once('<')?.1.strip_suffix('>')?;
        let resolved = self.analysis.program.resolve(file, guarded);
        (matches!(resolved.target, Target::Class(_)) && resolved.residual == 0).then_some(lock_type)
    }
}

/// `Mutex<rs:app.Registry>` as the code writes it: `Mutex<Registry>`.
pub fn shown_type(lock_type: &str) -> String {
    match lock_type.split_once('<') {
        Some((kind, guarded)) => {
            let guarded = guarded.strip_suffix('>').unwrap_or(guarded);
            let name = guarded.rsplit('.').next().unwrap_or(guarded);
            format!("{kind}<{}>", name.trim_start_matches("rs:"))
        }
        None => lock_type.to_string(),
    }
}

/// Whether a receiver's declared type (outermost first) is a `RefCell`, possibly behind
/// `Rc`/`Arc`/`Box`: its `borrow()` is a `RefCell` borrow, not `Borrow::borrow`.
pub fn is_refcell(analysis: &Analysis, file: FileId, guard: &Guard) -> bool {
    let syntax = &analysis.catalogue.rust.syntax;
    let declared: Vec<String> = if guard.receiver_type.is_empty() {
        field_mentions(analysis, file, &guard.lock)
    } else {
        guard.receiver_type.clone()
    };
    declared
        .iter()
        .find(|m| !RustSyntax::ends_with(&syntax.pointer_types, m))
        .is_some_and(|outer| RustSyntax::names(&syntax.borrow_cells, outer))
}

/// The type paths a field's declaration mentions, for a field of a project type
/// declared in another file.
fn field_mentions(analysis: &Analysis, file: FileId, path: &str) -> Vec<String> {
    let program = &analysis.program;
    let Some((owner, field)) = path.rsplit_once('.') else {
        return Vec::new();
    };
    let resolved = program.resolve(file, owner);
    match resolved.target {
        Target::Class(class) if resolved.residual == 0 => program
            .class(class)
            .attributes
            .iter()
            .find(|a| a.name == field)
            .map(|a| a.mentions.clone())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}
