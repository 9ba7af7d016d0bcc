//! Function bodies: calls (with the closures, functions and futures they are handed),
//! closures and `async` blocks as functions of their own, `.await` points, and
//! accesses to statics. Evaluation order is kept, so the guards `guards` tracks are
//! live exactly where Rust holds them.

use std::collections::HashMap;

use thin_vec::ThinVec;

use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Pat, Stmt};

use super::extent;
use super::types::Known;
use super::{Lowerer, MAX_DEPTH};
use crate::model::{
    AccessKind, Arg, CallArgs, CallSite, Callee, Function, GuardKind, ItemUpdate, Param,
};

/// One function body being lowered.
pub(in crate::rust) struct Frame {
    pub func: usize,
    /// A closure or `async` block: names it does not bind are its parent's.
    pub captures: bool,
    /// Block scopes, innermost last.
    pub scopes: Vec<HashMap<String, Local>>,
    /// Guards bound to variables and live now.
    pub live: Vec<Live>,
    /// Temporary guards of the statements being lowered: dropped at their end.
    pub temps: Vec<usize>,
    pub statement_lines: (u32, u32),
    pub loop_depth: u32,
    /// Decisions in force (`if` conditions taken under a lock or from an atomic load).
    pub checks: Vec<super::guards::Check>,
    /// Atomic loads of the statement being lowered.
    pub loads: Vec<super::guards::Load>,
    /// The method has `&mut self` or `self`: nobody else can reach `self` meanwhile.
    pub self_exclusive: bool,
    /// Byte offset of the operand of the `.await` being lowered.
    pub awaited: Option<usize>,
    /// Byte range of the call a `let` is binding the result of.
    pub bound_call: Option<(usize, usize)>,
    /// Acts of a decision made by an `if` that leaves, recorded in the statement being
    /// lowered: (index in `Function::check_then_act`, index of the acting guard). One
    /// whose guard the statement binds is dropped at its end (`guards::drop_kept_acts`).
    pub leaving_acts: Vec<(usize, usize)>,
}

#[derive(Clone, Default)]
pub(in crate::rust) struct Local {
    /// What the value is: the binding it was cloned or borrowed from, else itself.
    pub identity: String,
    /// A closure or `async` block bound to this name (index in `functions`).
    pub closure: Option<usize>,
    /// A function item declared inside the body.
    pub function: Option<String>,
    /// A static declared inside the body (by `static`, `thread_local!`, …).
    pub static_path: Option<String>,
    /// Derived from a decision on shared state (`let n = c.load(..)`).
    pub derived: Option<super::guards::Check>,
    /// Its type, as far as the file says.
    pub known: Known,
    /// A file or socket this body opened (`TcpStream::connect(addr)?`).
    pub io_handle: bool,
}

/// What a call's arguments take over: guard bindings passed by value, and guards (or
/// lock futures) evaluated as arguments.
#[derive(Default)]
pub(in crate::rust) struct Moves {
    pub bindings: Vec<String>,
    pub temps: Vec<usize>,
    /// An open file or socket is among the arguments: the call does I/O on it.
    pub handles: bool,
}

pub(in crate::rust) struct Live {
    pub guard: usize,
    pub depth: usize,
    pub binding: String,
}

impl Lowerer<'_> {
    pub(super) fn frame(&self) -> &Frame {
        self.frames
            .last()
            .expect("bodies are lowered inside a frame")
    }

    pub(super) fn frame_mut(&mut self) -> &mut Frame {
        self.frames
            .last_mut()
            .expect("bodies are lowered inside a frame")
    }

    pub(super) fn function_mut(&mut self) -> &mut Function {
        let func = self.frame().func;
        &mut self.functions[func]
    }

    /// A `fn` item or method: lowered with its body; returns its index.
    pub(super) fn lower_fn(
        &mut self,
        prefix: &str,
        sig: &syn::Signature,
        attrs: &[syn::Attribute],
        block: &syn::Block,
        class: Option<&str>,
        inherent: bool,
    ) -> usize {
        let name = sig.ident.to_string();
        let receiver = sig.receiver();
        let display = match class {
            Some(class) => format!("{}::{name}", class.rsplit('.').next().unwrap_or(class)),
            None => name.clone(),
        };
        let ambiguous = self.catalogue.ambiguous_methods.methods.contains(&name);
        let index = self.functions.len();
        self.functions.push(Function {
            path: format!("{prefix}.{name}"),
            display,
            name,
            class: class.map(str::to_string),
            is_async: sig.asyncness.is_some(),
            span: self.span(sig.ident.span()),
            by_name: inherent && receiver.is_some() && !ambiguous,
            single_threaded: single_threaded(attrs),
            block_on_body: has_attribute(attrs, &["tokio", "main"]),
            returns_guard: self.returns_guard(sig),
            returns_borrow: self.returns_borrow(sig),
            ..Function::default()
        });
        let exclusive = receiver.is_some_and(|r| {
            r.colon_token.is_none() && (r.reference.is_none() || r.mutability.is_some())
        });
        self.frames.push(Frame::new(index, false, exclusive));
        for input in &sig.inputs {
            match input {
                syn::FnArg::Typed(typed) => {
                    let known = self.declared(&typed.ty);
                    let name = simple_binding(&typed.pat);
                    self.functions[index].params.push(Param {
                        name: name.clone().unwrap_or_else(|| "_".to_string()),
                        lock_type: known.lock_type.clone(),
                    });
                    match name {
                        Some(name) => {
                            let identity = self.own_identity(&name);
                            self.bind(
                                &name,
                                Local {
                                    identity,
                                    known,
                                    ..Local::default()
                                },
                            );
                        }
                        None => self.bind_pattern(&typed.pat, None),
                    }
                }
                syn::FnArg::Receiver(_) => self.functions[index].params.push(Param {
                    name: "self".to_string(),
                    lock_type: None,
                }),
            }
        }
        self.block(block);
        let end = self.span(block.brace_token.span.close()).start.line;
        self.end_frame(end);
        index
    }

    /// A closure or `async` block: a function of its own, run as part of its parent
    /// unless it is handed off (the analysis decides which). One bound by `let` runs
    /// where it is called or passed, which records the call then (`use_closure`).
    fn anonymous(&mut self, node: &impl Spanned, kind: &str, is_async: bool, bound: bool) -> usize {
        let span = self.span(node.span());
        let parent = self.frame().func;
        let parent_model = &self.functions[parent];
        // Named after the function it is written in, however deeply nested.
        let mut outer = parent;
        while let Some(up) = self.functions[outer].parent {
            outer = up;
        }
        let outer = &self.functions[outer].display;
        let label = format!("{}@{}:{}", kind, span.start.line, span.start.column);
        let function = Function {
            path: format!("{}.<{label}>", parent_model.path),
            display: format!("{kind} in {outer} (line {})", span.start.line),
            name: format!("<{kind}>"),
            class: parent_model.class.clone(),
            is_async,
            span,
            parent: Some(parent),
            ..Function::default()
        };
        let index = self.functions.len();
        self.functions.push(function);
        if !bound {
            self.use_closure(index, span);
        }
        let exclusive = self.frame().self_exclusive;
        self.frames.push(Frame::new(index, true, exclusive));
        index
    }

    /// The current function runs closure `index` (or hands it off, which the analysis
    /// tells apart).
    fn use_closure(&mut self, index: usize, span: crate::model::Span) {
        let (locks, _) = self.held();
        let in_loop = self.frame().loop_depth > 0;
        let statement_lines = self.frame().statement_lines;
        let path = self.functions[index].path.clone();
        self.function_mut().calls.push(CallSite {
            callee: Callee::Path(path),
            span,
            text: String::new(),
            args: ThinVec::new(),
            keywords: ThinVec::new(),
            locks: locks.into(),
            async_locks: ThinVec::new(),
            in_loop,
            loop_start: None,
            awaited: false,
            statement_lines,
            lock_block: None,
            receiver_chain: ThinVec::new(),
            owned_args: ThinVec::new(),
            checked: ThinVec::new(),
            checked_holding: ThinVec::new(),
            property: None,
            on_loop_thread: false,
            result_awaited_end: None,
            curried: ThinVec::new(),
            kept_in: None,
            origins: ThinVec::new(),
            lazy: false,
        });
    }

    /// `repeated`: handed to a method (`iter().map(|x| …)`), which may call it many
    /// times, so what it hands off may run many times at once. `bound`: by `let`.
    pub(super) fn closure(
        &mut self,
        closure: &syn::ExprClosure,
        repeated: bool,
        bound: bool,
    ) -> usize {
        let index = self.anonymous(closure, "closure", closure.asyncness.is_some(), bound);
        if repeated {
            self.frame_mut().loop_depth = 1;
        }
        for input in &closure.inputs {
            self.bind_pattern(input, None);
        }
        self.statement(closure.body.span(), |lowerer| {
            lowerer.expr(&closure.body);
        });
        let end = self.span(closure.span()).end.line;
        self.end_frame(end);
        index
    }

    pub(super) fn async_block(&mut self, block: &syn::ExprAsync, bound: bool) -> usize {
        let index = self.anonymous(block, "async block", true, bound);
        self.block(&block.block);
        let end = self.span(block.span()).end.line;
        self.end_frame(end);
        index
    }

    fn end_frame(&mut self, end_line: u32) {
        let frame = self.frames.pop().expect("a frame to end");
        let guards = &mut self.functions[frame.func].guards;
        for guard in frame
            .live
            .iter()
            .map(|l| l.guard)
            .chain(frame.temps.iter().copied())
        {
            guards[guard].live_until = end_line;
        }
    }

    pub(super) fn block(&mut self, block: &syn::Block) {
        self.frame_mut().scopes.push(HashMap::new());
        // Decisions an `if` that leaves makes for the rest of this block end with it.
        let checks = self.frame().checks.len();
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
        self.frame_mut().checks.truncate(checks);
        let end = self.span(block.brace_token.span.close()).start.line;
        let depth = self.frame().scopes.len();
        self.release_scope(depth, end);
        self.frame_mut().scopes.pop();
    }

    /// Runs `lower` as one statement: temporaries created in it die at its end.
    fn statement(&mut self, span: proc_macro2::Span, lower: impl FnOnce(&mut Self)) {
        let lines = {
            let span = self.span(span);
            (span.start.line, span.end.line)
        };
        let saved = std::mem::replace(&mut self.frame_mut().statement_lines, lines);
        let mark = self.frame().temps.len();
        let loads = self.frame().loads.len();
        lower(self);
        self.drop_kept_acts();
        self.end_temporaries(mark, lines.1);
        self.frame_mut().loads.truncate(loads);
        self.frame_mut().statement_lines = saved;
    }

    fn stmt(&mut self, stmt: &Stmt) {
        self.statement(extent::stmt(stmt), |lowerer| match stmt {
            Stmt::Local(local) => lowerer.let_statement(local),
            Stmt::Item(item) => lowerer.nested_item(item),
            Stmt::Expr(expr, _) => {
                lowerer.expr(expr);
            }
            Stmt::Macro(m) if super::macro_statics(&m.mac).is_some() => {
                let item = syn::Item::Macro(syn::ItemMacro {
                    attrs: m.attrs.clone(),
                    ident: None,
                    mac: m.mac.clone(),
                    semi_token: m.semi_token,
                });
                lowerer.nested_item(&item);
            }
            Stmt::Macro(m) => lowerer.macro_call(&m.mac),
        });
    }

    fn nested_item(&mut self, item: &syn::Item) {
        let within = self.functions[self.frame().func].path.clone();
        // Statics declared in a body belong to it, and to the closures written in it.
        let statics: Vec<String> = match item {
            syn::Item::Static(s) => vec![s.ident.to_string()],
            syn::Item::Macro(m) => super::macro_statics(&m.mac)
                .unwrap_or_default()
                .into_iter()
                .map(|(name, ..)| name.to_string())
                .collect(),
            _ => Vec::new(),
        };
        for name in statics {
            let path = format!("{within}.{name}");
            self.bind(
                &name,
                Local {
                    identity: path.clone(),
                    static_path: Some(path),
                    ..Local::default()
                },
            );
        }
        if let syn::Item::Use(u) = item {
            // Kept in the module's names: a body's `use` only adds names nothing else
            // in valid code can mean differently.
            let module = self.module().to_string();
            self.declare_use(&module, &u.tree, &[]);
        }
        if let syn::Item::Fn(f) = item {
            let name = f.sig.ident.to_string();
            let path = format!("{within}.{name}");
            self.bind(
                &name,
                Local {
                    identity: path.clone(),
                    function: Some(path),
                    ..Local::default()
                },
            );
        }
        let frames = std::mem::take(&mut self.frames);
        self.lower_items(std::slice::from_ref(item), Some(&within));
        self.frames = frames;
    }

    fn let_statement(&mut self, local: &syn::Local) {
        let temps = self.frame().temps.len();
        let loads = self.frame().loads.len();
        let mut closure = None;
        let mut guard = None;
        let mut identity = None;
        let mut known = Known::default();
        let mut io_handle = false;
        let mut moved_guard = None;
        if let Some(init) = &local.init {
            match &*init.expr {
                Expr::Closure(c) => closure = Some(self.closure(c, false, true)),
                Expr::Async(a) => closure = Some(self.async_block(a, true)),
                expr => {
                    identity = self.alias_of(expr);
                    known = self.known(expr);
                    if known.mentions.is_empty() {
                        known = self.constructed(expr);
                    }
                    io_handle = self.opens_handle(expr);
                    moved_guard = self.live_binding(expr);
                    let range = expr.span().byte_range();
                    self.frame_mut().bound_call = Some((range.start, range.end));
                    guard = self.expr(expr).filter(|_| binds_guard(expr));
                    self.frame_mut().bound_call = None;
                }
            }
            if let Some((_, diverge)) = &init.diverge {
                self.expr(diverge);
            }
        }
        if let Pat::Type(typed) = &local.pat {
            known = self.declared(&typed.ty);
        }
        let Some(name) = simple_binding(&local.pat) else {
            self.bind_pattern(&local.pat, None);
            return;
        };
        let derived = self.decision(temps, loads, guard);
        let identity = identity.unwrap_or_else(|| self.own_identity(&name));
        // The old binding of a shadowed name can no longer be dropped by name; a guard
        // moved into the new binding (`let g2 = g;`) lives on under the new name.
        match moved_guard {
            Some(previous) => {
                if previous != name {
                    self.shadow_guard(&name);
                }
                self.rename_guard(&previous, &name);
            }
            None => self.shadow_guard(&name),
        }
        if let Some(guard) = guard {
            self.bind_guard(guard, &name);
        }
        self.bind(
            &name,
            Local {
                identity,
                closure,
                derived,
                known,
                io_handle,
                ..Local::default()
            },
        );
    }

    /// `TcpStream::connect(addr)?`, `File::create(path).unwrap()`: the value is an open
    /// file or socket.
    fn opens_handle(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Try(t) => self.opens_handle(&t.expr),
            Expr::Paren(p) => self.opens_handle(&p.expr),
            Expr::MethodCall(m) if matches!(m.method.to_string().as_str(), "unwrap" | "expect") => {
                self.opens_handle(&m.receiver)
            }
            Expr::Call(c) => match &*c.func {
                Expr::Path(p) => self
                    .catalogue
                    .syntax
                    .io_openers
                    .contains(&self.resolve_path(&p.path)),
                _ => false,
            },
            _ => false,
        }
    }

    /// A bare name holding a live guard (`let g2 = g;` moves it).
    fn live_binding(&self, expr: &Expr) -> Option<String> {
        let Expr::Path(p) = expr else {
            return None;
        };
        let name = p.path.get_ident()?.to_string();
        self.frame()
            .live
            .iter()
            .any(|l| l.binding == name)
            .then_some(name)
    }

    /// `let s = state.clone()`, `Arc::clone(&state)`, `&state`, `state`: the same value.
    fn alias_of(&self, expr: &Expr) -> Option<String> {
        let clone_methods = &self.catalogue.syntax.clone_methods;
        match expr {
            Expr::MethodCall(m)
                if m.args.is_empty() && clone_methods.contains(&m.method.to_string()) =>
            {
                self.identity(&m.receiver)
            }
            Expr::Call(c) if c.args.len() == 1 => match &*c.func {
                Expr::Path(p)
                    if p.path
                        .segments
                        .last()
                        .is_some_and(|s| clone_methods.contains(&s.ident.to_string())) =>
                {
                    self.identity(&c.args[0])
                }
                _ => None,
            },
            Expr::Reference(r) => self.alias_of(&r.expr).or_else(|| self.identity(&r.expr)),
            Expr::Path(_) | Expr::Field(_) => self.identity(expr),
            _ => None,
        }
    }

    fn own_identity(&self, name: &str) -> String {
        format!("{}.{name}", self.functions[self.frame().func].path)
    }

    pub(super) fn bind(&mut self, name: &str, local: Local) {
        if let Some(scope) = self.frame_mut().scopes.last_mut() {
            scope.insert(name.to_string(), local);
        }
    }

    fn bind_pattern(&mut self, pat: &Pat, identity: Option<String>) {
        match pat {
            Pat::Ident(ident) => {
                let name = ident.ident.to_string();
                let identity = identity.unwrap_or_else(|| self.own_identity(&name));
                self.bind(
                    &name,
                    Local {
                        identity,
                        ..Local::default()
                    },
                );
                if let Some((_, sub)) = &ident.subpat {
                    self.bind_pattern(sub, None);
                }
            }
            Pat::Type(typed) => self.bind_pattern(&typed.pat, identity),
            Pat::Reference(r) => self.bind_pattern(&r.pat, identity),
            Pat::Paren(p) => self.bind_pattern(&p.pat, identity),
            Pat::Tuple(t) => t.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            Pat::TupleStruct(t) => t.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            Pat::Slice(s) => s.elems.iter().for_each(|p| self.bind_pattern(p, None)),
            Pat::Or(o) => o.cases.iter().for_each(|p| self.bind_pattern(p, None)),
            Pat::Struct(s) => s
                .fields
                .iter()
                .for_each(|f| self.bind_pattern(&f.pat, None)),
            _ => {}
        }
    }

    /// A name bound in this body, or captured from the enclosing ones.
    pub(super) fn local(&self, name: &str) -> Option<&Local> {
        for frame in self.frames.iter().rev() {
            if let Some(local) = frame.scopes.iter().rev().find_map(|s| s.get(name)) {
                return Some(local);
            }
            if !frame.captures {
                break;
            }
        }
        None
    }

    /// What an expression denotes as shared state or a lock: a static, a field through
    /// `self`, a local binding (through clones), and fields of those.
    pub(super) fn identity(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(ident) = p.path.get_ident() {
                    let name = ident.to_string();
                    if name == "self" {
                        return self.self_type.clone();
                    }
                    if let Some(local) = self.local(&name) {
                        return Some(local.identity.clone());
                    }
                }
                Some(self.resolve_path(&p.path))
            }
            Expr::Field(f) => {
                let base = self.identity(&f.base)?;
                let member = match &f.member {
                    syn::Member::Named(ident) => ident.to_string(),
                    syn::Member::Unnamed(index) => index.index.to_string(),
                };
                Some(format!("{base}.{member}"))
            }
            Expr::Paren(p) => self.identity(&p.expr),
            Expr::Group(g) => self.identity(&g.expr),
            Expr::Reference(r) => self.identity(&r.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.identity(&u.expr),
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && self
                        .catalogue
                        .syntax
                        .clone_methods
                        .contains(&m.method.to_string()) =>
            {
                self.identity(&m.receiver)
            }
            _ => None,
        }
    }

    /// The static an expression's place starts from (`X`, `X.field`, `X[i]`), if any.
    fn static_root(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(ident) = p.path.get_ident() {
                    if let Some(local) = self.local(&ident.to_string()) {
                        return local.static_path.clone();
                    }
                    if ident == "self" {
                        return None;
                    }
                }
                let path = self.resolve_path(&p.path);
                let last = path.rsplit(['.', ':']).next().unwrap_or(&path);
                let screaming = last.chars().any(|c| c.is_ascii_uppercase())
                    && last
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                (self.statics.contains(&path) || screaming).then_some(path)
            }
            Expr::Field(f) => self.static_root(&f.base),
            Expr::Index(i) => self.static_root(&i.expr),
            Expr::Paren(p) => self.static_root(&p.expr),
            Expr::Group(g) => self.static_root(&g.expr),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => self.static_root(&u.expr),
            _ => None,
        }
    }

    /// Records an access when `expr` is a place in a static, lowering the index
    /// expressions inside it; false when it is no such place.
    fn static_place(&mut self, expr: &Expr, kind: AccessKind, method: Option<&str>) -> bool {
        let Some(path) = self.static_root(expr) else {
            return false;
        };
        self.lower_indexes(expr);
        let span = self.span(expr.span());
        let statement_lines = self.frame().statement_lines;
        let (locks, async_locks) = self.held();
        self.function_mut().accesses.push(crate::model::Access {
            path,
            kind,
            span,
            statement_lines,
            locks: locks.into(),
            async_locks: async_locks.into(),
            method: method.map(Box::from),
            checked_by: None,
            writes_constant: None,
            writes_new: false,
            initialises: false,
            reference_only: false,
            root: None,
            element: false,
            fetched: false,
            on_loop_thread: false,
            lazy: false,
            literal_update: false,
            item: ItemUpdate::None,
            stores_unshared: false,
            handed_at: None,
            built_at: None,
        });
        true
    }

    fn lower_indexes(&mut self, expr: &Expr) {
        match expr {
            Expr::Index(i) => {
                self.lower_indexes(&i.expr);
                self.expr(&i.index);
            }
            Expr::Field(f) => self.lower_indexes(&f.base),
            Expr::Paren(p) => self.lower_indexes(&p.expr),
            Expr::Unary(u) => self.lower_indexes(&u.expr),
            _ => {}
        }
    }

    /// Lowers an expression; returns the guard it evaluates to, if it is one.
    pub(super) fn expr(&mut self, expr: &Expr) -> Option<usize> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        let guard = self.expr_at_depth(expr);
        self.depth -= 1;
        guard
    }

    fn expr_at_depth(&mut self, expr: &Expr) -> Option<usize> {
        match expr {
            Expr::Array(a) => self.exprs(a.elems.iter()),
            Expr::Assign(a) => {
                let kind = if matches!(&*a.left, Expr::Path(_)) {
                    AccessKind::Rebind
                } else {
                    AccessKind::Mutation
                };
                self.expr(&a.right);
                if !self.static_place(&a.left, kind, None) {
                    self.expr(&a.left);
                }
                None
            }
            Expr::Async(a) => {
                self.async_block(a, false);
                None
            }
            Expr::Await(a) => {
                self.frame_mut().awaited = Some(a.base.span().byte_range().start);
                let guard = self.expr(&a.base);
                if let Some(guard) = guard {
                    self.function_mut().guards[guard].blocking = false;
                }
                self.awaitable_binding(&a.base);
                self.record_await(a.await_token.span);
                guard
            }
            Expr::Binary(b) => {
                if is_compound_assignment(&b.op) {
                    self.expr(&b.right);
                    if !self.static_place(&b.left, AccessKind::ReadModifyWrite, None) {
                        self.expr(&b.left);
                    }
                } else if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) {
                    // The second operand of `&&`/`||` is a temporary scope of its own.
                    self.expr(&b.left);
                    let mark = self.frame().temps.len();
                    self.expr(&b.right);
                    let line = self.span(b.right.span()).end.line;
                    self.end_temporaries(mark, line);
                } else {
                    self.expr(&b.left);
                    self.expr(&b.right);
                }
                None
            }
            Expr::Block(b) => {
                self.block(&b.block);
                None
            }
            Expr::Break(b) => self.exprs(b.expr.iter().map(|e| &**e)),
            Expr::Call(c) => self.call(c),
            Expr::Cast(c) => self.expr(&c.expr).and(None),
            Expr::Closure(c) => {
                self.closure(c, false, false);
                None
            }
            Expr::Const(c) => {
                self.block(&c.block);
                None
            }
            // A place inside a guard (`m.lock()?.items`) keeps the guard's temporary:
            // `let v = &mut m.lock()?.items;` extends it to the end of the block.
            Expr::Field(f) => {
                if self.static_place(expr, AccessKind::Read, None) {
                    return None;
                }
                self.expr(&f.base)
            }
            Expr::ForLoop(f) => {
                self.expr(&f.expr);
                self.frame_mut().loop_depth += 1;
                self.frame_mut().scopes.push(HashMap::new());
                self.bind_pattern(&f.pat, None);
                self.block(&f.body);
                self.frame_mut().scopes.pop();
                self.frame_mut().loop_depth -= 1;
                None
            }
            Expr::Group(g) => self.expr(&g.expr),
            Expr::If(i) => {
                self.if_expr(i);
                None
            }
            Expr::Index(i) => {
                if self.static_place(expr, AccessKind::Read, None) {
                    return None;
                }
                let guard = self.expr(&i.expr);
                self.expr(&i.index);
                guard
            }
            Expr::Let(l) => {
                self.expr(&l.expr);
                self.bind_pattern(&l.pat, None);
                None
            }
            Expr::Loop(l) => {
                self.frame_mut().loop_depth += 1;
                self.block(&l.body);
                self.frame_mut().loop_depth -= 1;
                None
            }
            Expr::Macro(m) => {
                self.macro_call(&m.mac);
                None
            }
            Expr::Match(m) => {
                self.expr(&m.expr);
                // Arm guards and arm bodies are temporary scopes of their own.
                for arm in &m.arms {
                    self.frame_mut().scopes.push(HashMap::new());
                    self.bind_pattern(&arm.pat, None);
                    let mark = self.frame().temps.len();
                    if let Some((_, guard)) = &arm.guard {
                        self.expr(guard);
                    }
                    self.expr(&arm.body);
                    let line = self.span(arm.body.span()).end.line;
                    self.end_temporaries(mark, line);
                    self.frame_mut().scopes.pop();
                }
                None
            }
            Expr::MethodCall(m) => self.method_call(m),
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::Path(_) => {
                self.static_place(expr, AccessKind::Read, None);
                None
            }
            Expr::Range(r) => {
                self.exprs(r.start.iter().chain(r.end.iter()).map(|e| &**e));
                None
            }
            Expr::RawAddr(r) => {
                let kind = match r.mutability {
                    syn::PointerMutability::Mut(_) => AccessKind::Mutation,
                    syn::PointerMutability::Const(_) => AccessKind::Read,
                };
                if !self.static_place(&r.expr, kind, None) {
                    self.expr(&r.expr);
                }
                None
            }
            Expr::Reference(r) => {
                let kind = if r.mutability.is_some() {
                    AccessKind::Mutation
                } else {
                    AccessKind::Read
                };
                if self.static_place(&r.expr, kind, None) {
                    return None;
                }
                self.expr(&r.expr)
            }
            Expr::Repeat(r) => {
                self.expr(&r.expr);
                self.expr(&r.len);
                None
            }
            Expr::Return(r) => self.exprs(r.expr.iter().map(|e| &**e)),
            Expr::Struct(s) => {
                self.exprs(s.fields.iter().map(|f| &f.expr));
                self.exprs(s.rest.iter().map(|e| &**e));
                None
            }
            Expr::Try(t) => {
                let guard = self.expr(&t.expr);
                self.widen_guard(guard, t);
                guard
            }
            Expr::TryBlock(t) => {
                self.block(&t.block);
                None
            }
            Expr::Tuple(t) => self.exprs(t.elems.iter()),
            Expr::Unary(u) => {
                let guard = self.expr(&u.expr);
                guard.filter(|_| matches!(u.op, syn::UnOp::Deref(_)))
            }
            Expr::Unsafe(u) => {
                self.block(&u.block);
                None
            }
            Expr::While(w) => {
                self.frame_mut().loop_depth += 1;
                let checks = self.frame().checks.len();
                match &*w.cond {
                    Expr::Let(_) => {
                        self.expr(&w.cond);
                    }
                    cond => self.condition(cond),
                }
                self.block(&w.body);
                self.frame_mut().checks.truncate(checks);
                self.frame_mut().loop_depth -= 1;
                None
            }
            Expr::Yield(y) => self.exprs(y.expr.iter().map(|e| &**e)),
            _ => None,
        }
    }

    fn exprs<'e>(&mut self, exprs: impl Iterator<Item = &'e Expr>) -> Option<usize> {
        for expr in exprs {
            self.expr(expr);
        }
        None
    }

    fn call(&mut self, call: &syn::ExprCall) -> Option<usize> {
        let callee = match &*call.func {
            Expr::Path(p) => Some(self.callee_path(&p.path)),
            other => {
                self.expr(other);
                None
            }
        };
        let mut moved = Moves::default();
        let args: Vec<Arg> = call
            .args
            .iter()
            .map(|a| self.arg(a, &mut moved, false))
            .collect();
        let mut guard = None;
        if let Some(path) = callee {
            if self.is_bound(call) {
                let helper = self.text(&*call.func).to_string();
                guard = Some(self.helper_guard(Callee::Path(path.clone()), helper, call));
            }
            let text = self.call_text(self.text(&*call.func), &call.args, &args);
            self.push_call(
                Callee::Path(path),
                extent::call(call),
                text,
                args,
                Vec::new(),
            );
            self.record_call_args(None, call.args.iter());
            self.record_io(moved.handles);
        }
        let line = self.span(extent::call(call)).end.line;
        self.release_moved(moved, line);
        guard
    }

    /// `m.lock().unwrap()`, `m.lock()?`: the acquisition is the whole expression, as a
    /// fix must copy it.
    fn widen_guard(&mut self, guard: Option<usize>, node: &impl Spanned) {
        if let Some(guard) = guard {
            let span = self.span(node.span());
            self.function_mut().guards[guard].span = span;
        }
    }

    /// A called path: a closure or function bound in the body, or a module path.
    fn callee_path(&self, path: &syn::Path) -> String {
        if let Some(ident) = path.get_ident() {
            if let Some(local) = self.local(&ident.to_string()) {
                if let Some(function) = &local.function {
                    return function.clone();
                }
                if let Some(closure) = local.closure {
                    return self.functions[closure].path.clone();
                }
            }
        }
        self.resolve_path(path)
    }

    fn method_call(&mut self, call: &syn::ExprMethodCall) -> Option<usize> {
        let method = call.method.to_string();
        if matches!(
            method.as_str(),
            "unwrap" | "expect" | "unwrap_or_else" | "unwrap_or_default" | "unwrap_unchecked"
        ) {
            let guard = self.expr(&call.receiver);
            self.exprs(call.args.iter());
            self.widen_guard(guard, call);
            return guard;
        }
        let syntax = &self.catalogue.syntax;
        let mutating = syntax.mutating_methods.contains(&method)
            || syntax.thread_local_methods.contains(&method) && method != "with" && method != "get";
        let is_load = syntax.atomic_loads.contains(&method);
        let is_store = syntax.atomic_stores.contains(&method) && !call.args.is_empty();
        let no_args = call.args.is_empty();
        let is_borrow = syntax.borrow_methods.contains(&method) && no_args;
        let known = self.known(&call.receiver);
        let is_guard =
            syntax.guard_methods.contains(&method) && no_args && !self.not_a_lock(&known);
        let on_handle = self.is_handle(&call.receiver);
        let kind = if mutating {
            AccessKind::Mutation
        } else {
            AccessKind::Read
        };
        if !self.static_place(&call.receiver, kind, Some(&method)) {
            self.expr(&call.receiver);
        }
        let state = self.identity(&call.receiver);
        let mut moved = Moves::default();
        let args: Vec<Arg> = call
            .args
            .iter()
            .map(|a| self.arg(a, &mut moved, true))
            .collect();
        let span = self.span(extent::method_call(call));
        if let (true, Some(state)) = (is_load, &state) {
            let subject = self.text(&*call.receiver).to_string();
            self.frame_mut().loads.push(super::guards::Load {
                state: state.clone(),
                span,
                subject,
            });
        }
        if let (true, Some(state)) = (is_store, &state) {
            self.atomic_store(state, &call.args[0], span);
        }
        if is_guard || is_borrow {
            let lock = state.unwrap_or_else(|| self.text(&*call.receiver).to_string());
            let kind = if is_guard {
                GuardKind::Lock
            } else {
                GuardKind::Borrow
            };
            return Some(self.new_guard(lock, kind, known, None, extent::method_call(call)));
        }
        let on_self = matches!(&*call.receiver, Expr::Path(p) if p.path.is_ident("self"));
        let callee = match (&self.self_type, on_self) {
            (Some(ty), true) => Callee::Path(format!("{ty}.{method}")),
            _ => Callee::Method(method.clone()),
        };
        let mut guard = None;
        if self.is_bound(call) {
            let receiver = self.text(&*call.receiver);
            let helper = format!("{receiver}.{method}");
            guard = Some(self.helper_guard(callee.clone(), helper, call));
        }
        let receiver = self.text(&*call.receiver);
        let receiver = if receiver.len() <= 40 {
            receiver
        } else {
            "…"
        };
        let text = self.call_text(&format!("{receiver}.{method}"), &call.args, &args);
        let mut chain = Vec::new();
        let mut current = &*call.receiver;
        while let Expr::MethodCall(inner) = current {
            chain.push(inner.method.to_string());
            current = &inner.receiver;
        }
        chain.reverse();
        self.push_call(callee, extent::method_call(call), text, args, chain);
        self.record_call_args(Some(&call.receiver), call.args.iter());
        self.record_io(moved.handles || on_handle);
        self.release_moved(moved, span.end.line);
        guard
    }

    /// A call's argument: the closure, function or future it may hand over. A guard
    /// passed by value moves into the callee (`drop(guard)`, `consume(m.lock()?)`),
    /// and a lock call passed unawaited is a future (`timeout(d, m.lock())`): either
    /// way the caller no longer holds it, noted in `moved`.
    fn arg(&mut self, arg: &Expr, moved: &mut Moves, repeated: bool) -> Arg {
        match arg {
            Expr::Closure(c) => Arg::Inline(self.closure(c, repeated, false)),
            Expr::Async(a) => Arg::Inline(self.async_block(a, false)),
            Expr::Block(b) if b.label.is_none() && ends_in_closure(&b.block) => {
                // `spawn({ let ready = ready.clone(); move || … })`: the block's value,
                // the closure, is what the call is handed.
                self.frame_mut().scopes.push(HashMap::new());
                let (last, statements) = b.block.stmts.split_last().expect("a tail closure");
                for stmt in statements {
                    self.stmt(stmt);
                }
                let handed = match last {
                    Stmt::Expr(tail, None) => self.arg(tail, moved, repeated),
                    _ => Arg::Other,
                };
                let end = self.span(b.block.brace_token.span.close()).start.line;
                let depth = self.frame().scopes.len();
                self.release_scope(depth, end);
                self.frame_mut().scopes.pop();
                handed
            }
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(ident) = p.path.get_ident() {
                    let name = ident.to_string();
                    if let Some(local) = self.local(&name) {
                        let local = local.clone();
                        moved.handles |= local.io_handle;
                        if self.frame().live.iter().any(|l| l.binding == name) {
                            moved.bindings.push(name);
                        }
                        return match (local.closure, local.function) {
                            (Some(closure), _) => {
                                let span = self.span(arg.span());
                                self.use_closure(closure, span);
                                Arg::Inline(closure)
                            }
                            (None, Some(function)) => Arg::Callable(Callee::Path(function)),
                            _ => Arg::Other,
                        };
                    }
                }
                self.expr(arg);
                Arg::Callable(Callee::Path(self.resolve_path(&p.path)))
            }
            Expr::Call(c) => {
                moved.temps.extend(self.expr(arg));
                match &*c.func {
                    Expr::Path(p) => Arg::Coroutine(Callee::Path(self.callee_path(&p.path))),
                    _ => Arg::Other,
                }
            }
            Expr::MethodCall(m) => {
                moved.temps.extend(self.expr(arg));
                let method = m.method.to_string();
                match (&self.self_type, &*m.receiver) {
                    (Some(ty), Expr::Path(p)) if p.path.is_ident("self") => {
                        Arg::Coroutine(Callee::Path(format!("{ty}.{method}")))
                    }
                    _ => Arg::Coroutine(Callee::Method(method)),
                }
            }
            _ => {
                moved.handles |= self.is_handle(arg);
                moved.temps.extend(self.expr(arg));
                Arg::Other
            }
        }
    }

    /// `sock`, `&mut sock`, `&sock`: a file or socket opened in this body.
    fn is_handle(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Reference(r) => self.is_handle(&r.expr),
            Expr::Path(p) => p
                .path
                .get_ident()
                .and_then(|ident| self.local(&ident.to_string()))
                .is_some_and(|local| local.io_handle),
            _ => false,
        }
    }

    /// What each argument denotes as shared state, for the analysis to follow
    /// parameters back to their callers' values; the receiver of a method call first.
    fn record_call_args<'e>(
        &mut self,
        receiver: Option<&Expr>,
        args: impl Iterator<Item = &'e Expr>,
    ) {
        let identities: Vec<Option<String>> = receiver
            .map(|r| self.identity(r))
            .into_iter()
            .chain(args.map(|a| self.alias_of(a)))
            .collect();
        if identities.iter().any(Option::is_some) {
            let call = self.function_mut().calls.len() - 1;
            self.function_mut().call_args.push(CallArgs {
                call,
                args: identities,
            });
        }
    }

    /// The call just recorded does I/O on a file or socket opened in this body.
    fn record_io(&mut self, handles: bool) {
        if handles {
            let call = self.function_mut().calls.len() - 1;
            self.function_mut().io_calls.push(call);
        }
    }

    fn push_call(
        &mut self,
        callee: Callee,
        span: proc_macro2::Span,
        text: String,
        args: Vec<Arg>,
        receiver_chain: Vec<String>,
    ) {
        let span = self.span(span);
        let (locks, async_locks) = self.held();
        let frame = self.frame();
        let site = CallSite {
            callee,
            span,
            text,
            args: args.into(),
            keywords: ThinVec::new(),
            locks: locks.into(),
            async_locks: async_locks.into(),
            in_loop: frame.loop_depth > 0,
            loop_start: None,
            awaited: frame.awaited == Some(span.offset),
            statement_lines: frame.statement_lines,
            lock_block: None,
            receiver_chain: receiver_chain.into(),
            owned_args: ThinVec::new(),
            checked: ThinVec::new(),
            checked_holding: ThinVec::new(),
            property: None,
            on_loop_thread: false,
            result_awaited_end: None,
            curried: ThinVec::new(),
            kept_in: None,
            origins: ThinVec::new(),
            lazy: false,
        };
        self.function_mut().calls.push(site);
    }

    /// `fut.await` or `pin_mut!(fut)` on a binding that holds a bare lock call
    /// (`let fut = fork.lock();`): the lock is an async one and `fut` its future, which
    /// blocks no thread.
    fn awaitable_binding(&mut self, expr: &Expr) {
        let Expr::Path(p) = expr else {
            return;
        };
        let Some(name) = p.path.get_ident().map(|i| i.to_string()) else {
            return;
        };
        let held: Vec<usize> = self
            .frame()
            .live
            .iter()
            .filter(|l| l.binding == name)
            .map(|l| l.guard)
            .collect();
        for guard in held {
            self.function_mut().guards[guard].blocking = false;
        }
    }

    /// `spawn_blocking(move || …)`: empty unless an argument may be a callable.
    fn call_text(
        &self,
        func: &str,
        written: &Punctuated<Expr, syn::Token![,]>,
        args: &[Arg],
    ) -> String {
        if !args
            .iter()
            .any(|a| matches!(a, Arg::Inline(_) | Arg::Callable(_)))
        {
            return String::new();
        }
        let shown: Vec<String> = written
            .iter()
            .map(|arg| match arg {
                Expr::Closure(c) => {
                    let head = if c.capture.is_some() { "move " } else { "" };
                    format!("{head}|…| …")
                }
                Expr::Async(a) => {
                    let head = if a.capture.is_some() {
                        "async move"
                    } else {
                        "async"
                    };
                    format!("{head} {{ … }}")
                }
                other => {
                    let text = self.text(other);
                    if text.chars().count() <= 24 {
                        text.to_string()
                    } else {
                        "…".to_string()
                    }
                }
            })
            .collect();
        format!("{func}({})", shown.join(", "))
    }

    /// A macro in a body: arguments that parse as expressions are lowered. Macros that
    /// await their operands (`join!`, `select!`), and any whose tokens hold `.await`,
    /// are a suspension point.
    pub(super) fn macro_call(&mut self, mac: &syn::Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let parsed = mac.parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated);
        // `writeln!(file, …)` on a file or socket this body opened: I/O, as a call.
        let writes_handle = parsed
            .as_ref()
            .is_ok_and(|args| args.first().is_some_and(|first| self.is_handle(first)));
        if writes_handle && self.catalogue.syntax.io_macros.contains(&name) {
            self.push_call(
                Callee::Method(name.clone()),
                mac.span(),
                String::new(),
                Vec::new(),
                Vec::new(),
            );
            self.record_io(true);
        }
        if self.catalogue.syntax.pin_macros.contains(&name) {
            for expr in parsed.iter().flatten() {
                self.awaitable_binding(expr);
            }
        }
        for expr in parsed.iter().flatten() {
            let kind = match name.as_str() {
                "addr_of_mut" => Some(AccessKind::Mutation),
                "addr_of" => Some(AccessKind::Read),
                _ => None,
            };
            if !kind.is_some_and(|kind| self.static_place(expr, kind, None)) {
                self.expr(expr);
            }
        }
        let awaits = self.catalogue.syntax.await_macros.contains(&name)
            || (parsed.is_err() && has_await(mac.tokens.clone()));
        if awaits && self.functions[self.frame().func].is_async {
            let span = mac
                .path
                .segments
                .last()
                .map_or_else(|| mac.bang_token.span, |segment| segment.ident.span());
            self.record_await(span);
        }
    }
}

/// Whether `.await` appears in a macro's tokens (`tokio::select!` arms).
fn has_await(tokens: proc_macro2::TokenStream) -> bool {
    let mut after_dot = false;
    for token in tokens {
        match token {
            proc_macro2::TokenTree::Punct(p) => after_dot = p.as_char() == '.',
            proc_macro2::TokenTree::Ident(ident) if after_dot && ident == "await" => return true,
            proc_macro2::TokenTree::Group(group) => {
                if has_await(group.stream()) {
                    return true;
                }
                after_dot = false;
            }
            _ => after_dot = false,
        }
    }
    false
}

impl Frame {
    fn new(func: usize, captures: bool, self_exclusive: bool) -> Frame {
        Frame {
            func,
            captures,
            scopes: vec![HashMap::new()],
            live: Vec::new(),
            temps: Vec::new(),
            statement_lines: (0, 0),
            loop_depth: 0,
            checks: Vec::new(),
            loads: Vec::new(),
            self_exclusive,
            awaited: None,
            bound_call: None,
            leaving_acts: Vec::new(),
        }
    }
}

/// A block whose value is a closure or `async` block.
fn ends_in_closure(block: &syn::Block) -> bool {
    matches!(
        block.stmts.last(),
        Some(Stmt::Expr(Expr::Closure(_) | Expr::Async(_), None))
    )
}

/// Whether `let x = <init>` keeps the guard `init` evaluates to: the guard itself, or
/// a reference into it (temporary lifetime extension). `*m.lock()?` and
/// `m.lock()?.len` copy out of a temporary guard, dropped at the `;`.
fn binds_guard(init: &Expr) -> bool {
    match init {
        Expr::Paren(p) => binds_guard(&p.expr),
        Expr::Group(g) => binds_guard(&g.expr),
        Expr::Unary(_) | Expr::Field(_) | Expr::Index(_) => false,
        _ => true,
    }
}

/// `let name = …` or `let name: T = …`.
fn simple_binding(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Ident(ident) if ident.subpat.is_none() => Some(ident.ident.to_string()),
        Pat::Type(typed) => simple_binding(&typed.pat),
        _ => None,
    }
}

fn is_compound_assignment(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

/// An attribute with this path (`#[tokio::main]`, arguments or not).
fn has_attribute(attrs: &[syn::Attribute], path: &[&str]) -> bool {
    attrs.iter().any(|attr| {
        let segments = &attr.path().segments;
        segments.len() == path.len() && segments.iter().zip(path).all(|(s, p)| s.ident == p)
    })
}

/// `#[tokio::main(flavor = "current_thread")]`, or `#[tokio::test]` (single-threaded
/// unless it asks for `multi_thread`).
fn single_threaded(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let segments: Vec<String> = attr
            .path()
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let tokens = match &attr.meta {
            syn::Meta::List(list) => list.tokens.to_string(),
            _ => String::new(),
        };
        match segments
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["tokio", "main"] => tokens.contains("current_thread"),
            ["tokio", "test"] => !tokens.contains("multi_thread"),
            _ => false,
        }
    })
}
