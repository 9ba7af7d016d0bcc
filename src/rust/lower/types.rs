//! What one file says about a value's type: the declared types of parameters, `let`
//! bindings and struct fields, and the types constructors build
//! (`Arc::new(Mutex::new(Registry::new()))`). With it a lock can be named by its type
//! when nothing better names it, a `RefCell` borrow is told apart from
//! `Borrow::borrow`, and a raw pointer's `read()` is not taken for a lock.

use std::collections::HashMap;

use syn::{Expr, Type};

use super::Lowerer;
use crate::analysis::catalogue::RustSyntax;

/// A value's type, as far as the file tells.
#[derive(Clone, Default, Debug)]
pub(in crate::rust) struct Known {
    /// Every type path the type mentions, outermost first; raw pointers as `*`.
    pub mentions: Vec<String>,
    /// The lock it is by type (`Mutex<rs:app.Registry>`), for `Arc<Mutex<Registry>>`,
    /// `&Mutex<Registry>` and the like.
    pub lock_type: Option<String>,
}

impl Lowerer<'_> {
    /// A declared type.
    pub(super) fn declared(&self, ty: &Type) -> Known {
        Known {
            mentions: self.mentions(ty),
            lock_type: self.lock_type(ty),
        }
    }

    /// `Arc<Mutex<Registry>>`, `&parking_lot::Mutex<Registry>`, `Box<RwLock<Registry>>`:
    /// `Mutex<path of Registry>`. Only a plain named type counts as the guarded type:
    /// a generic, a container (`Mutex<Vec<T>>`) or `Self` says nothing about which lock
    /// it is (the analysis also checks the name is one of the project's types).
    fn lock_type(&self, ty: &Type) -> Option<String> {
        let syntax = &self.catalogue.syntax;
        let last = outer_path(ty)?.segments.last()?;
        let name = last.ident.to_string();
        let inner = single_type_argument(last)?;
        if syntax.pointer_types.contains(&name) {
            return self.lock_type(inner);
        }
        if !syntax.lock_types.contains(&name) {
            return None;
        }
        let Type::Path(guarded) = strip(inner) else {
            return None;
        };
        let plain = guarded.qself.is_none()
            && !guarded.path.is_ident("Self")
            && guarded.path.segments.iter().all(|s| s.arguments.is_none());
        plain.then(|| format!("{name}<{}>", self.resolve_path(&guarded.path)))
    }

    /// The type a constructor call builds: `Rc::new(RefCell::new(..))`,
    /// `Arc::new(Mutex::new(Registry::default()))`, `Registry { .. }`.
    pub(super) fn constructed(&self, expr: &Expr) -> Known {
        let syntax = &self.catalogue.syntax;
        match expr {
            Expr::Struct(s) => Known {
                mentions: vec![self.resolve_path(&s.path)],
                lock_type: None,
            },
            Expr::Call(call) => {
                let Expr::Path(func) = &*call.func else {
                    return Known::default();
                };
                let segments = Self::path_segments(&func.path);
                let Some((constructor, ty)) = segments.split_last() else {
                    return Known::default();
                };
                if ty.is_empty() || !syntax.constructors.contains(constructor) {
                    return Known::default();
                }
                let ty = self.resolve(ty);
                let last = ty.rsplit('.').next().unwrap_or(&ty).to_string();
                let wraps =
                    syntax.pointer_types.contains(&last) || syntax.lock_types.contains(&last);
                let inner = match call.args.first() {
                    Some(arg) if wraps => self.constructed(arg),
                    _ => Known::default(),
                };
                let lock_type = if syntax.pointer_types.contains(&last) {
                    inner.lock_type
                } else if syntax.lock_types.contains(&last) {
                    inner
                        .mentions
                        .first()
                        .filter(|_| inner.mentions.len() == 1)
                        .map(|guarded| format!("{last}<{guarded}>"))
                } else {
                    None
                };
                let mut mentions = vec![ty];
                mentions.extend(inner.mentions);
                Known {
                    mentions,
                    lock_type,
                }
            }
            Expr::Paren(p) => self.constructed(&p.expr),
            _ => Known::default(),
        }
    }

    /// What the file knows about the type of an expression used as a receiver: a
    /// binding's declared or constructed type (through clones), a field of a struct the
    /// file declares, a pointer made by pointer arithmetic or a cast.
    pub(super) fn known(&self, expr: &Expr) -> Known {
        let syntax = &self.catalogue.syntax;
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                let Some(ident) = p.path.get_ident() else {
                    return Known::default();
                };
                if ident == "self" {
                    return Known {
                        mentions: self.self_type.iter().cloned().collect(),
                        lock_type: None,
                    };
                }
                self.local(&ident.to_string())
                    .map(|local| local.known.clone())
                    .unwrap_or_default()
            }
            Expr::Field(f) => {
                let base = self.known(&f.base);
                let Some(owner) = base.mentions.iter().find(|m| !is_pointer(syntax, m)) else {
                    return Known::default();
                };
                let member = match &f.member {
                    syn::Member::Named(ident) => ident.to_string(),
                    syn::Member::Unnamed(index) => index.index.to_string(),
                };
                self.field_types
                    .get(&format!("{owner}.{member}"))
                    .cloned()
                    .unwrap_or_default()
            }
            // `Arc::clone(&shared)`, `Rc::clone(&log)`
            Expr::Call(c) if c.args.len() == 1 => match &*c.func {
                Expr::Path(p)
                    if p.path
                        .segments
                        .last()
                        .is_some_and(|s| syntax.clone_methods.contains(&s.ident.to_string())) =>
                {
                    self.known(&c.args[0])
                }
                _ => Known::default(),
            },
            Expr::Paren(p) => self.known(&p.expr),
            Expr::Group(g) => self.known(&g.expr),
            Expr::Reference(r) => self.known(&r.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.known(&u.expr),
            Expr::Cast(c) if matches!(strip(&c.ty), Type::Ptr(_)) => pointer(),
            Expr::MethodCall(m) => {
                let method = m.method.to_string();
                if syntax.pointer_methods.contains(&method) {
                    pointer()
                } else if m.args.is_empty() && syntax.clone_methods.contains(&method) {
                    self.known(&m.receiver)
                } else {
                    Known::default()
                }
            }
            _ => Known::default(),
        }
    }

    /// Whether a receiver of this type takes no lock with `read()`/`write()`/`lock()`:
    /// a raw pointer, `NonNull`, an I/O handle.
    pub(super) fn not_a_lock(&self, known: &Known) -> bool {
        let syntax = &self.catalogue.syntax;
        known
            .mentions
            .iter()
            .find(|m| !is_pointer(syntax, m))
            .is_some_and(|outer| RustSyntax::names(&syntax.not_lock_types, outer))
    }

    /// Pass two: the declared types of the fields of every struct in the file, so that
    /// `self.cache.borrow()` knows `cache` is a `RefCell` wherever the `impl` is.
    pub(super) fn collect_field_types(&mut self, items: &[syn::Item]) {
        let mut found = HashMap::new();
        self.field_types_in(items, &mut found);
        self.field_types = found;
    }

    fn field_types_in(&mut self, items: &[syn::Item], found: &mut HashMap<String, Known>) {
        for item in items {
            match item {
                syn::Item::Struct(s) => {
                    for (index, field) in s.fields.iter().enumerate() {
                        let name = match &field.ident {
                            Some(ident) => ident.to_string(),
                            None => index.to_string(),
                        };
                        let path = format!("{}.{}.{name}", self.module(), s.ident);
                        found.insert(path, self.declared(&field.ty));
                    }
                }
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        self.modules.push(format!("{}.{}", self.module(), m.ident));
                        self.field_types_in(inner, found);
                        self.modules.pop();
                    }
                }
                _ => {}
            }
        }
    }
}

/// `Arc`, `Rc`, `Box`: they share or own the value without changing what it is.
fn is_pointer(syntax: &RustSyntax, ty: &str) -> bool {
    RustSyntax::ends_with(&syntax.pointer_types, ty)
}

fn pointer() -> Known {
    Known {
        mentions: vec!["*".to_string()],
        lock_type: None,
    }
}

/// A type without references, parentheses and invisible groups.
fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Reference(r) => strip(&r.elem),
        Type::Paren(p) => strip(&p.elem),
        Type::Group(g) => strip(&g.elem),
        other => other,
    }
}

fn outer_path(ty: &Type) -> Option<&syn::Path> {
    match strip(ty) {
        Type::Path(p) if p.qself.is_none() => Some(&p.path),
        _ => None,
    }
}

/// `Mutex<T>` → `T`, when the segment has exactly one type argument.
fn single_type_argument(segment: &syn::PathSegment) -> Option<&Type> {
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    let first = types.next()?;
    types.next().is_none().then_some(first)
}
