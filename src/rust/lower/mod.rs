//! Lowers one syn file to the model: items here (modules, functions, `impl` blocks,
//! structs, statics and the `thread_local!`/`lazy_static!` macros), names in `names`,
//! function bodies in `body` (calls, closures, awaits, accesses) and lock guards with
//! their live ranges in `guards`.

mod body;
mod extent;
mod guards;
mod names;
mod types;

use std::collections::{BTreeSet, HashMap, HashSet};

use proc_macro2::TokenStream;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;

use crate::analysis::catalogue::RustCatalogue;
use crate::model::{
    Attribute, Class, FileModel, Function, Span, Static, Symbol, SymbolKind, UnsafeImpl,
};
use crate::source::LineIndex;
use names::ModuleScope;

pub struct Lowerer<'a> {
    file_module: String,
    source: &'a str,
    lines: &'a LineIndex,
    catalogue: &'a RustCatalogue,
    safety_lines: &'a BTreeSet<u32>,
    /// The inline modules being lowered, innermost last (the file's own is implied).
    modules: Vec<String>,
    scopes: HashMap<String, ModuleScope>,
    /// The type of the `impl` block being lowered.
    self_type: Option<String>,
    /// Canonical paths of the statics this file declares.
    statics: HashSet<String>,
    /// Names the file's top-level `use` declarations export.
    exported: HashSet<String>,
    functions: Vec<Function>,
    classes: Vec<Class>,
    symbols: Vec<Symbol>,
    unsafe_impls: Vec<UnsafeImpl>,
    /// Function bodies being lowered, innermost last (closures nest in their parent).
    frames: Vec<body::Frame>,
    /// Nesting depth of the expression being lowered: generated code can nest deeper
    /// than any stack allows.
    depth: usize,
    /// The declared type of every field of the file's structs (`rs:m.Cache.entries`).
    field_types: HashMap<String, types::Known>,
}

/// Deeper expressions are not lowered: no human writes them, and recursion must end.
const MAX_DEPTH: usize = 200;

impl<'a> Lowerer<'a> {
    pub fn new(
        module: &str,
        source: &'a str,
        lines: &'a LineIndex,
        catalogue: &'a RustCatalogue,
        safety_lines: &'a BTreeSet<u32>,
    ) -> Self {
        Lowerer {
            file_module: module.to_string(),
            source,
            lines,
            catalogue,
            safety_lines,
            modules: Vec::new(),
            scopes: HashMap::new(),
            self_type: None,
            statics: HashSet::new(),
            exported: HashSet::new(),
            functions: Vec::new(),
            classes: Vec::new(),
            symbols: Vec::new(),
            unsafe_impls: Vec::new(),
            frames: Vec::new(),
            depth: 0,
            field_types: HashMap::new(),
        }
    }

    /// Three passes: names (items may be used before they are declared), field types,
    /// then everything.
    pub fn lower_file(&mut self, file: &syn::File) {
        let module = self.file_module.clone();
        self.declare_items(&module, &file.items);
        self.collect_field_types(&file.items);
        self.lower_items(&file.items, None);
    }

    pub fn into_model(self, model: &mut FileModel) {
        model.functions = self.functions;
        model.classes = self.classes;
        model.symbols = self.symbols;
        model.unsafe_impls = self.unsafe_impls;
    }

    fn span(&self, span: proc_macro2::Span) -> Span {
        super::span(self.lines, self.source, span)
    }

    fn text(&self, node: &impl Spanned) -> &'a str {
        let range = node.span().byte_range();
        self.source.get(range).unwrap_or("")
    }

    fn top_level(&self) -> bool {
        self.modules.is_empty()
    }

    /// Pass one: every item name and `use` of `module` and its inline modules.
    fn declare_items(&mut self, module: &str, items: &[syn::Item]) {
        for item in items {
            let name = match item {
                syn::Item::Fn(f) => Some(&f.sig.ident),
                syn::Item::Struct(s) => Some(&s.ident),
                syn::Item::Enum(e) => Some(&e.ident),
                syn::Item::Union(u) => Some(&u.ident),
                syn::Item::Static(s) => Some(&s.ident),
                syn::Item::Const(c) => Some(&c.ident),
                syn::Item::Trait(t) => Some(&t.ident),
                syn::Item::Type(t) => Some(&t.ident),
                syn::Item::Mod(m) => Some(&m.ident),
                _ => None,
            };
            if let Some(name) = name {
                // `mod x;` in `src/main.rs` is the crate's module `x` (see `module_name`).
                let parent = match item {
                    syn::Item::Mod(m) if m.content.is_none() && module.ends_with(".#main") => {
                        self.crate_root()
                    }
                    _ => module,
                };
                self.declare(module, &name.to_string(), format!("{parent}.{name}"));
            }
            if let syn::Item::Macro(m) = item {
                for (name, ..) in macro_statics(&m.mac).unwrap_or_default() {
                    self.declare(module, &name.to_string(), format!("{module}.{name}"));
                }
            }
        }
        for item in items {
            match item {
                syn::Item::Use(u) => self.declare_use(module, &u.tree, &[]),
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        self.declare_items(&format!("{module}.{}", m.ident), inner);
                    }
                }
                _ => {}
            }
        }
    }

    /// A sync function whose declared return type is a lock guard: its callers hold a
    /// lock.
    pub(super) fn returns_guard(&self, sig: &syn::Signature) -> bool {
        let syn::ReturnType::Type(_, ty) = &sig.output else {
            return false;
        };
        sig.asyncness.is_none()
            && self.mentions(ty).iter().any(|path| {
                let last = path.rsplit('.').next().unwrap_or(path);
                self.catalogue.syntax.guard_types.iter().any(|g| g == last)
            })
    }

    /// A sync function whose declared return type is a `RefCell` borrow (`Ref`, `RefMut`).
    pub(super) fn returns_borrow(&self, sig: &syn::Signature) -> bool {
        let syn::ReturnType::Type(_, ty) = &sig.output else {
            return false;
        };
        let borrow_types = &self.catalogue.syntax.borrow_types;
        sig.asyncness.is_none()
            && self.mentions(ty).first().is_some_and(|outer| {
                crate::analysis::catalogue::RustSyntax::names(borrow_types, outer)
            })
    }

    /// Pass three. `within` is the function a nested item is declared in.
    fn lower_items(&mut self, items: &[syn::Item], within: Option<&str>) {
        for item in items {
            match item {
                syn::Item::Fn(f) => {
                    let prefix = within.unwrap_or(self.module()).to_string();
                    let index = self.lower_fn(&prefix, &f.sig, &f.attrs, &f.block, None, false);
                    if within.is_none() && self.top_level() {
                        self.symbols.push(Symbol {
                            name: f.sig.ident.to_string(),
                            kind: SymbolKind::Function(index),
                            span: self.span(f.sig.ident.span()),
                            invariant: None,
                        });
                    }
                }
                syn::Item::Impl(i) => self.lower_impl(i),
                syn::Item::Trait(t) => {
                    let path = format!("{}.{}", self.module(), t.ident);
                    for item in &t.items {
                        if let syn::TraitItem::Fn(f) = item {
                            if let Some(block) = &f.default {
                                self.lower_fn(&path, &f.sig, &f.attrs, block, Some(&path), false);
                            }
                        }
                    }
                }
                syn::Item::Struct(s) => {
                    let attributes = self.fields(&s.fields, "");
                    self.push_class(&s.ident, attributes);
                }
                syn::Item::Enum(e) => {
                    let attributes = e
                        .variants
                        .iter()
                        .flat_map(|v| self.fields(&v.fields, &format!("{}.", v.ident)))
                        .collect();
                    self.push_class(&e.ident, attributes);
                }
                syn::Item::Static(s) => {
                    let is_mut = matches!(s.mutability, syn::StaticMutability::Mut(_));
                    let (ty, init) = (self.text(&s.ty), self.text(&s.expr));
                    let prefix = within.unwrap_or(self.module()).to_string();
                    self.push_static(&prefix, &s.ident, &s.ty, is_mut, false, ty, init);
                }
                syn::Item::Macro(m) => {
                    let prefix = within.unwrap_or(self.module()).to_string();
                    let thread_local = m
                        .mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "thread_local");
                    for (name, ty, init) in macro_statics(&m.mac).unwrap_or_default() {
                        let (type_text, init_text) = (self.text(&ty), self.tokens_text(&init));
                        self.push_static(
                            &prefix,
                            &name,
                            &ty,
                            false,
                            thread_local,
                            type_text,
                            init_text,
                        );
                    }
                }
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &m.content {
                        self.modules.push(format!("{}.{}", self.module(), m.ident));
                        self.lower_items(inner, None);
                        self.modules.pop();
                    }
                }
                syn::Item::Use(u) if self.top_level() && within.is_none() => {
                    self.export_use(&u.tree, &[]);
                }
                _ => {}
            }
        }
    }

    /// Top-level `use` declarations become aliases other files resolve through
    /// (`pub use inner::Thing;` re-exports).
    fn export_use(&mut self, tree: &syn::UseTree, prefix: &[String]) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut prefix = prefix.to_vec();
                prefix.push(p.ident.to_string());
                self.export_use(&p.tree, &prefix);
            }
            syn::UseTree::Name(n) if n.ident != "self" => {
                let name = n.ident.to_string();
                self.push_alias(name.clone(), &name);
            }
            syn::UseTree::Rename(r) => self.push_alias(r.rename.to_string(), &r.rename.to_string()),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.export_use(tree, prefix);
                }
            }
            _ => {}
        }
    }

    fn push_alias(&mut self, name: String, local: &str) {
        let Some(path) = self
            .scopes
            .get(&self.file_module)
            .and_then(|s| s.names.get(local))
            .cloned()
        else {
            return;
        };
        let own = format!("{}.{name}", self.file_module);
        if path != own && self.exported.insert(name.clone()) {
            self.symbols.push(Symbol {
                name,
                kind: SymbolKind::Alias(path),
                span: Span::default(),
                invariant: None,
            });
        }
    }

    fn tokens_text(&self, tokens: &TokenStream) -> &'a str {
        let mut iter = tokens.clone().into_iter();
        let Some(first) = iter.next() else {
            return "";
        };
        let start = first.span().byte_range().start;
        let end = iter
            .last()
            .map_or(first.span().byte_range().end, |t| t.span().byte_range().end);
        self.source.get(start..end).unwrap_or("")
    }

    fn fields(&self, fields: &syn::Fields, prefix: &str) -> Vec<Attribute> {
        fields
            .iter()
            .enumerate()
            .map(|(index, field)| Attribute {
                name: match &field.ident {
                    Some(ident) => format!("{prefix}{ident}"),
                    None => format!("{prefix}{index}"),
                },
                ty: self.type_path(&field.ty),
                mentions: self.mentions(&field.ty),
                span: self.span(field.span()),
                ..Attribute::default()
            })
            .collect()
    }

    fn push_class(&mut self, ident: &syn::Ident, attributes: Vec<Attribute>) {
        let index = self.classes.len();
        self.classes.push(Class {
            path: format!("{}.{ident}", self.module()),
            name: ident.to_string(),
            span: self.span(ident.span()),
            bases: Vec::new(),
            methods: Vec::new(),
            attributes,
            invariant: None,
            held_fields: Vec::new(),
            body_start: None,
            custom_call: false,
            decorated_by: Vec::new(),
            sets_attributes_by_name: false,
        });
        if self.top_level() {
            self.symbols.push(Symbol {
                name: ident.to_string(),
                kind: SymbolKind::Class(index),
                span: self.span(ident.span()),
                invariant: None,
            });
        }
    }

    /// A static declared in a module or (`prefix` a function's path) in a body.
    #[allow(clippy::too_many_arguments)] // the parts of one declaration, as syn gives them
    fn push_static(
        &mut self,
        prefix: &str,
        ident: &syn::Ident,
        ty: &syn::Type,
        mutable: bool,
        thread_local: bool,
        type_text: &str,
        init_text: &str,
    ) {
        let path = format!("{prefix}.{ident}");
        // Found by full path: `rs:c.m.X` is the symbol `m.X` of file module `rs:c`.
        let name = path
            .strip_prefix(&format!("{}.", self.file_module))
            .unwrap_or(&path)
            .to_string();
        self.statics.insert(path);
        let kind = SymbolKind::Static(Static {
            mentions: self.mentions(ty),
            mutable,
            thread_local,
            type_text: type_text.to_string(),
            init_text: init_text.to_string(),
        });
        self.symbols.push(Symbol {
            name,
            kind,
            span: self.span(ident.span()),
            invariant: None,
        });
    }

    fn lower_impl(&mut self, item: &syn::ItemImpl) {
        let Some(ty) = self.type_path(&item.self_ty) else {
            return;
        };
        if let (Some(unsafety), Some((_, trait_path, _))) = (&item.unsafety, &item.trait_) {
            let trait_name = trait_path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            if matches!(trait_name.as_str(), "Sync" | "Send") {
                // From `unsafe` to the opening brace: the header, not the body.
                let start = unsafety.span.byte_range().start;
                let end = item.brace_token.span.open().byte_range().end;
                let span = self.lines.span(self.source, start, end);
                self.unsafe_impls.push(UnsafeImpl {
                    trait_name,
                    ty: ty.clone(),
                    span,
                    documented: self.documented(span.start.line, &ty),
                });
            }
        }
        let previous = self.self_type.replace(ty.clone());
        let inherent = item.trait_.is_none();
        for impl_item in &item.items {
            if let syn::ImplItem::Fn(f) = impl_item {
                let index = self.lower_fn(&ty, &f.sig, &f.attrs, &f.block, Some(&ty), inherent);
                let name = f.sig.ident.to_string();
                if let Some(class) = self.classes.iter_mut().find(|c| c.path == ty) {
                    class.methods.push((name, index));
                }
            }
        }
        self.self_type = previous;
    }

    /// A `// SAFETY:` comment on the line, or in the comment and attribute lines
    /// directly above it; one comment may cover a run of one-line `unsafe impl`s
    /// (`Send` and `Sync` for one type, written together).
    fn documented(&self, line: u32, ty: &str) -> bool {
        let name = ty.rsplit('.').next().unwrap_or(ty);
        if self.safety_lines.contains(&line) {
            return true;
        }
        let mut current = line;
        while current > 1 {
            current -= 1;
            if self.safety_lines.contains(&current) {
                return true;
            }
            let start = self.lines.line_start(current);
            let end = self.lines.line_start(current + 1);
            let text = self.source.get(start..end).unwrap_or("").trim();
            let sibling_impl = text.starts_with("unsafe impl")
                && text.ends_with("{}")
                && text.contains(&format!("for {name}"));
            if !(text.starts_with("//")
                || text.starts_with("#[")
                || text.starts_with("/*")
                || text.starts_with('*')
                || sibling_impl)
            {
                return false;
            }
        }
        false
    }
}

/// `thread_local! { static K: T = init; }` and `lazy_static! { static ref K: T = init; }`:
/// the statics they declare.
pub(super) fn macro_statics(mac: &syn::Macro) -> Option<Vec<(syn::Ident, syn::Type, TokenStream)>> {
    let name = mac.path.segments.last()?.ident.to_string();
    if !matches!(name.as_str(), "thread_local" | "lazy_static") {
        return None;
    }
    let parser = |input: ParseStream| {
        let mut statics = Vec::new();
        while !input.is_empty() {
            input.call(syn::Attribute::parse_outer)?;
            input.parse::<syn::Visibility>()?;
            input.parse::<syn::Token![static]>()?;
            if input.peek(syn::Token![ref]) {
                input.parse::<syn::Token![ref]>()?;
            }
            let ident: syn::Ident = input.parse()?;
            input.parse::<syn::Token![:]>()?;
            let ty: syn::Type = input.parse()?;
            input.parse::<syn::Token![=]>()?;
            let mut init = TokenStream::new();
            while !input.is_empty() && !input.peek(syn::Token![;]) {
                init.extend([input.parse::<proc_macro2::TokenTree>()?]);
            }
            if input.peek(syn::Token![;]) {
                input.parse::<syn::Token![;]>()?;
            }
            statics.push((ident, ty, init));
        }
        Ok(statics)
    };
    parser.parse2(mac.tokens.clone()).ok()
}
