//! Names: what a path means in one file, through its modules, `use` declarations and
//! `crate`/`self`/`super`/`Self`; and which types a declared type mentions.

use std::collections::HashMap;

use syn::visit::Visit;

use super::Lowerer;

/// The names one module (a file or an inline `mod`) declares or imports.
#[derive(Default)]
pub(super) struct ModuleScope {
    /// Identifier → canonical path.
    pub names: HashMap<String, String>,
    /// Modules glob-imported (`use super::*`), canonical.
    pub globs: Vec<String>,
}

impl Lowerer<'_> {
    /// `rs:my_crate` for every module of the crate.
    pub(super) fn crate_root(&self) -> &str {
        let module = self.file_module.as_str();
        module.find('.').map_or(module, |dot| &module[..dot])
    }

    /// The canonical path of a path as written in the current module.
    pub(super) fn resolve(&self, segments: &[String]) -> String {
        let Some(first) = segments.first() else {
            return String::new();
        };
        let join = |base: &str, rest: &[String]| {
            let mut path = base.to_string();
            for segment in rest {
                path.push('.');
                path.push_str(segment);
            }
            path
        };
        match first.as_str() {
            "crate" => return join(self.crate_root(), &segments[1..]),
            "self" => return join(self.module(), &segments[1..]),
            "super" => {
                let mut module = self.module().to_string();
                let mut rest = segments;
                while rest.first().is_some_and(|s| s == "super") {
                    if let Some(dot) = module.rfind('.') {
                        module.truncate(dot);
                    }
                    rest = &rest[1..];
                }
                return join(&module, rest);
            }
            "Self" => {
                if let Some(ty) = &self.self_type {
                    return join(ty, &segments[1..]);
                }
            }
            _ => {}
        }
        if let Some(path) = self.lookup(self.module(), first, 0) {
            return join(&path, &segments[1..]);
        }
        join(&format!("rs:{first}"), &segments[1..])
    }

    /// A name in a module of this file, through its glob imports too.
    fn lookup(&self, module: &str, name: &str, depth: usize) -> Option<String> {
        let scope = self.scopes.get(module)?;
        if let Some(path) = scope.names.get(name) {
            return Some(path.clone());
        }
        if depth > 4 {
            return None;
        }
        scope
            .globs
            .iter()
            .find_map(|glob| self.lookup(glob, name, depth + 1))
    }

    pub(super) fn module(&self) -> &str {
        self.modules
            .last()
            .map_or(&self.file_module, String::as_str)
    }

    pub(super) fn path_segments(path: &syn::Path) -> Vec<String> {
        path.segments.iter().map(|s| s.ident.to_string()).collect()
    }

    pub(super) fn resolve_path(&self, path: &syn::Path) -> String {
        self.resolve(&Self::path_segments(path))
    }

    /// Records the names a `use` tree brings into `module`.
    pub(super) fn declare_use(&mut self, module: &str, tree: &syn::UseTree, prefix: &[String]) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut prefix = prefix.to_vec();
                prefix.push(p.ident.to_string());
                self.declare_use(module, &p.tree, &prefix);
            }
            syn::UseTree::Name(n) => {
                let name = n.ident.to_string();
                if name == "self" {
                    if let Some(last) = prefix.last() {
                        let path = self.resolve_in(module, prefix);
                        self.declare(module, last, path);
                    }
                } else {
                    let mut full = prefix.to_vec();
                    full.push(name.clone());
                    let path = self.resolve_in(module, &full);
                    self.declare(module, &name, path);
                }
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix.to_vec();
                full.push(r.ident.to_string());
                let path = self.resolve_in(module, &full);
                self.declare(module, &r.rename.to_string(), path);
            }
            syn::UseTree::Glob(_) => {
                let path = self.resolve_in(module, prefix);
                self.scopes
                    .entry(module.to_string())
                    .or_default()
                    .globs
                    .push(path);
            }
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.declare_use(module, tree, prefix);
                }
            }
        }
    }

    /// A `use` path as the 2018+ editions read it: a first segment the module declares
    /// is local, anything else an external crate. (2015 code, whose `use` paths start
    /// at the crate root, resolves to external names and loses those calls.)
    fn resolve_in(&mut self, module: &str, segments: &[String]) -> String {
        self.modules.push(module.to_string());
        let path = self.resolve(segments);
        self.modules.pop();
        path
    }

    pub(super) fn declare(&mut self, module: &str, name: &str, path: String) {
        self.scopes
            .entry(module.to_string())
            .or_default()
            .names
            .insert(name.to_string(), path);
    }

    /// Every type path a type mentions, resolved; raw pointers as `*`.
    pub(super) fn mentions(&self, ty: &syn::Type) -> Vec<String> {
        struct Mentions<'l, 'a> {
            lowerer: &'l Lowerer<'a>,
            found: Vec<String>,
        }
        impl<'ast> Visit<'ast> for Mentions<'_, '_> {
            fn visit_type_path(&mut self, node: &'ast syn::TypePath) {
                let path = self.lowerer.resolve_path(&node.path);
                if !self.found.contains(&path) {
                    self.found.push(path);
                }
                // `PhantomData<Rc<()>>` holds nothing: it only opts out of auto traits.
                if node
                    .path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident != "PhantomData")
                {
                    syn::visit::visit_type_path(self, node);
                }
            }
            fn visit_type_ptr(&mut self, node: &'ast syn::TypePtr) {
                // `*mut ()` is a marker that points at nothing.
                let marker = matches!(&*node.elem, syn::Type::Tuple(t) if t.elems.is_empty());
                if !marker && !self.found.iter().any(|f| f == "*") {
                    self.found.push("*".to_string());
                }
                syn::visit::visit_type_ptr(self, node);
            }
        }
        let mut visitor = Mentions {
            lowerer: self,
            found: Vec::new(),
        };
        visitor.visit_type(ty);
        visitor.found
    }

    /// The canonical path of a type's outermost name (`Arc<Mutex<T>>` → `std.sync.Arc`).
    pub(super) fn type_path(&self, ty: &syn::Type) -> Option<String> {
        match ty {
            syn::Type::Path(p) => Some(self.resolve_path(&p.path)),
            syn::Type::Reference(r) => self.type_path(&r.elem),
            syn::Type::Paren(p) => self.type_path(&p.elem),
            syn::Type::Group(g) => self.type_path(&g.elem),
            _ => None,
        }
    }
}
