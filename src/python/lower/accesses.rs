//! Recording accesses to (possibly) shared state: reads, iterations, writes, and what
//! each write stores; the tests that make a write a check-then-act; suspension points.

use super::ownership::names_a_class;
use super::*;
use crate::python::scope::names_a_callee;

impl Lowerer<'_> {
    pub(super) fn record(
        &mut self,
        path: String,
        kind: AccessKind,
        span: Span,
        method: Option<&str>,
        root: Option<usize>,
        element: bool,
    ) {
        let scope = self.scope();
        let tested = |checks: &[Check]| {
            checks
                .iter()
                .rev()
                .find(|check| check.paths.contains(&path))
                .map(|check| check.lines)
        };
        // After an early exit, the check-then-act runs from the check through here.
        let through_here = |(first, _): (u32, u32)| (first, self.statement_lines.1);
        let checked_by = match kind.is_write() {
            true => tested(&scope.checks).or_else(|| tested(&scope.guards).map(through_here)),
            false => None,
        };
        let initialises =
            kind == AccessKind::Rebind && scope.unset.iter().any(|(unset, _)| *unset == path);
        // A generator expression kept for later runs under the locks held where it is
        // consumed, which may be none.
        let lazy = scope.lazy_depth > 0;
        let access = Access {
            path,
            kind,
            span,
            statement_lines: self.statement_lines,
            locks: if lazy { ThinVec::new() } else { scope.held() },
            async_locks: if lazy {
                ThinVec::new()
            } else {
                scope.held_async()
            },
            method: method.map(Box::from),
            checked_by,
            writes_constant: None,
            writes_new: false,
            initialises,
            reference_only: false,
            root,
            element,
            fetched: false,
            on_loop_thread: scope.on_loop_thread > 0,
            lazy,
            literal_update: false,
            item: ItemUpdate::None,
            stores_unshared: false,
            handed_at: None,
            built_at: None,
        };
        let func = scope.func;
        self.functions[func].accesses.push(access);
    }

    /// Records an access of `kind` to the object a chain denotes: the location (`d`) or
    /// something inside it (`d[k]`, `Access::element`).
    pub(super) fn record_chain(
        &mut self,
        chain: Chain,
        kind: AccessKind,
        span: Span,
        method: Option<&str>,
    ) {
        let element = chain.depth >= 1;
        let object = chain.object();
        self.record(chain.path, kind, span, method, chain.root, element);
        self.note_object(object);
    }

    /// The last access recorded goes through an object handed to the call at
    /// `handed_at` (`Access::handed_at`), or built by the call at `built_at`
    /// (`Access::built_at`), or fetched from inside the location (`Access::fetched`).
    fn note_object(&mut self, object: ChainObject) {
        let func = self.scope().func;
        if let Some(access) = self.functions[func].accesses.last_mut() {
            access.handed_at = object.handed_at;
            access.built_at = object.built_at;
            access.fetched = object.fetched;
        }
    }

    /// Records a write, noting whether it stores a literal constant.
    pub(super) fn record_write(
        &mut self,
        path: String,
        kind: AccessKind,
        span: Span,
        value: Option<&Expr>,
        root: Option<usize>,
        element: bool,
    ) {
        self.record(path, kind, span, None, root, element);
        let constant = value.filter(|v| is_literal(v)).map(|v| match v {
            // A string's value, however it is quoted (`'x'` is `"x"`).
            Expr::StringLiteral(s) => literal_hash(&format!("'{}", s.value.to_str())),
            // A number's digits (`- 1` is `-1`, `1_000` is `1000`).
            Expr::NumberLiteral(_) | Expr::UnaryOp(_) => literal_hash(
                &self
                    .text_of(v)
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != '_')
                    .collect::<String>(),
            ),
            _ => literal_hash(self.text_of(v)),
        });
        let new = value.is_some_and(|v| {
            matches!(
                v,
                Expr::Call(_)
                    | Expr::List(_)
                    | Expr::Dict(_)
                    | Expr::Set(_)
                    | Expr::ListComp(_)
                    | Expr::DictComp(_)
                    | Expr::SetComp(_)
            )
            // An object this function built a moment ago (`tok = Tokenizer();
            // cache[k] = tok`) is created here just the same. Only a class's
            // constructor (`names_a_class`) builds one: a local
            // taken from a call like `d.pop(k)` may be an existing object.
            || matches!(v, Expr::Name(n) if self.built_here(n.id.as_str()))
        });
        // A class's constructor (`names_a_class`) or a display, stored
        // by an assignment with one target: the object is in this location alone. `None`
        // is no object to share.
        let fresh = kind == AccessKind::Rebind
            && !self.assigning_many
            && value.is_some_and(|v| match v {
                Expr::NoneLiteral(_) => true,
                Expr::Call(_) => self.constructor_of(v).is_some_and(|p| names_a_class(&p)),
                other => is_display(other),
            });
        let func = self.scope().func;
        // The object the location now holds is the one that call builds
        // (`Function::stores_built`), as for a local bound to it and then stored.
        if let Some(Expr::Call(call)) = value
            .filter(|_| fresh)
            .filter(|v| matches!(v, Expr::Call(c) if names_a_callee(&c.func)))
        {
            let at = u32::try_from(call.range().start().to_usize()).unwrap_or(u32::MAX);
            let function = &mut self.functions[func];
            if let Some(path) = function.accesses.last().map(|a| a.path.clone()) {
                function.stores_built.push((path, at));
            }
        }
        if let Some(access) = self.functions[func].accesses.last_mut() {
            access.writes_constant = constant;
            access.writes_new = new;
            access.stores_unshared = fresh;
        }
    }

    /// Records a read of the location an expression denotes, then visits its parts.
    pub(super) fn load(&mut self, expr: &Expr) {
        // A bare local alias (`return sequence` after `sequence = self._sequence`) only
        // passes a value along; reading through it (`job["status"]`) touches the state.
        let chain = self.state_chain(expr).or_else(|| self.own_chain(expr));
        if let Some(chain) = chain.filter(|c| !c.via_alias || c.inner) {
            let span = self.span_of(expr);
            self.record_chain(chain, AccessKind::Read, span, None);
        }
        self.visit_chain_parts(expr);
    }

    /// Records a write of `kind` to the location an attribute or subscript target denotes.
    pub(super) fn write_through(&mut self, target: &Expr, kind: AccessKind) {
        if let Some(chain) = self.state_chain(target).or_else(|| self.own_chain(target)) {
            let span = self.span_of(target);
            // `d[k] += 1`, `del d[k]` change `d`; `d[k][j] += 1` changes `d[k]`.
            let element = chain.depth >= 2;
            let object = chain.object();
            let item = chain.inner && kind == AccessKind::ReadModifyWrite;
            self.record(chain.path, kind, span, None, chain.root, element);
            if item {
                let func = self.scope().func;
                if let Some(access) = self.functions[func].accesses.last_mut() {
                    access.item = ItemUpdate::Existing;
                }
            }
            self.note_object(object);
        }
        self.visit_chain_parts(target);
    }

    /// Visits the sub-expressions of a chain that are not the chain itself.
    pub(super) fn visit_chain_parts(&mut self, expr: &Expr) {
        match expr {
            Expr::Name(_) => {}
            Expr::Attribute(a) => self.visit_chain_parts(&a.value),
            Expr::Subscript(s) => {
                self.visit_chain_parts(&s.value);
                self.visit_expr(&s.slice);
            }
            other => self.visit_expr(other),
        }
    }

    pub(super) fn store(&mut self, target: &Expr, value: Option<&Expr>) {
        match target {
            Expr::Name(n) => self.store_name(n.id.as_str(), target, value, false),
            Expr::Attribute(_) | Expr::Subscript(_) => {
                if let Expr::Subscript(s) = target {
                    let span = self.span_of(target);
                    self.protocol_call(&s.value, "__setitem__", span);
                }
                let chain = self.state_chain(target);
                // Also a store into an attribute of an element (`REG["p"].meter = m`),
                // which the access records as a change of the container.
                let named = |c: &Chain| match target {
                    Expr::Attribute(a) => c
                        .path
                        .strip_suffix(a.attr.as_str())
                        .is_some_and(|p| p.ends_with('.')),
                    _ => true,
                };
                if !chain.as_ref().is_some_and(named) || matches!(target, Expr::Subscript(_)) {
                    self.note_unseen_store(target);
                }
                if let Some(chain) = chain {
                    let kind = self.store_kind(target, value, &chain);
                    self.register_self_attribute(target, value);
                    if matches!(kind, AccessKind::Rebind | AccessKind::ReadModifyWrite) {
                        self.note_typed_store(target, &chain.path, value);
                    }
                    let span = self.span_of(target);
                    if kind == AccessKind::Rebind {
                        self.detach_swapped_aliases(&chain.path);
                    }
                    let element = chain.depth >= 2;
                    let object = chain.object();
                    if let Some(value) = value {
                        // `d[k] = v` stores among the location's elements.
                        self.note_stored_value(&chain.path, value, chain.inner);
                    }
                    self.record_write(chain.path, kind, span, value, chain.root, element);
                    self.note_object(object);
                    if matches!(target, Expr::Subscript(_)) && kind == AccessKind::ReadModifyWrite {
                        let func = self.scope().func;
                        if let Some(access) = self.functions[func].accesses.last_mut() {
                            access.item = ItemUpdate::Inserted;
                        }
                    }
                } else if let Some(chain) = self.own_chain(target) {
                    // A field of an object the function may have built: the write only,
                    // for the analysis to keep if the object is not the function's own.
                    let kind = self.store_kind(target, value, &chain);
                    let span = self.span_of(target);
                    let element = chain.depth >= 2;
                    let object = ChainObject {
                        handed_at: None,
                        ..chain.object()
                    };
                    self.record_write(chain.path, kind, span, value, chain.root, element);
                    self.note_object(object);
                }
                self.visit_chain_parts(target);
            }
            Expr::Tuple(t) => {
                t.elts.iter().for_each(|e| self.store(e, None));
                // `self._loop, self._thread = loop, thread`: each location keeps its
                // local (`Function::stores_built`).
                if let Some(Expr::Tuple(values)) = value {
                    if values.elts.len() == t.elts.len() {
                        for (part, value) in t.elts.iter().zip(&values.elts) {
                            if let Some(chain) = self.state_chain(part).filter(|c| !c.inner) {
                                self.note_built_stored(&chain.path, value);
                            }
                        }
                    }
                }
                // `fn, args = JOBS.get()`: each part of an element taken from a
                // location is a part of what was stored there (`JOBS.put((fn, args))`).
                let taken = value.and_then(|v| self.element_taken(v));
                if let Some(element) = taken.filter(|e| e.ends_with(ELEMENT)) {
                    self.bind_parts(&t.elts, &element);
                } else if let Some(value) = value {
                    self.bind_items(&t.elts, value);
                }
            }
            Expr::List(l) => l.elts.iter().for_each(|e| self.store(e, None)),
            Expr::Starred(s) => self.store(&s.value, None),
            other => self.visit_expr(other),
        }
    }

    /// Types the names of an unpacking target (`fn, args = …`, `for cb, args in …`) as
    /// parts of a location's element, when they are locals.
    pub(super) fn bind_parts(&mut self, parts: &[Expr], element: &str) {
        if self.scope().is_module {
            return;
        }
        for part in parts {
            if let Expr::Name(n) = part {
                if !self.scope().globals.contains(n.id.as_str()) {
                    let name = n.id.to_string();
                    self.scope_mut().types.insert(name, element.to_string());
                }
            }
        }
    }

    /// `name, job = PAIR` (or `= load()`): each name gets the type of its position in
    /// the declared tuple. A starred part leaves the positions unknown.
    fn bind_items(&mut self, parts: &[Expr], value: &Expr) {
        if self.scope().is_module || parts.iter().any(|p| matches!(p, Expr::Starred(_))) {
            return;
        }
        let items = self.unpacked_items(value, parts.len());
        for (part, item) in parts.iter().zip(items) {
            if let (Expr::Name(n), Some(ty)) = (part, item) {
                if !self.scope().globals.contains(n.id.as_str()) {
                    self.scope_mut().types.insert(n.id.to_string(), ty);
                }
            }
        }
    }

    /// Whether a local holds an object this function built with a class's constructor.
    pub(super) fn built_here(&self, name: &str) -> bool {
        let scope = self.scope();
        scope.fresh.contains(name) && scope.types.get(name).is_some_and(|ty| names_a_class(ty))
    }

    /// The state a `return` hands back: a location, or the receiver of a method called
    /// on one (`self._locks.setdefault(key, Lock())` gives `self._locks`).
    pub(super) fn returned_state(&self, value: &Expr) -> Option<String> {
        match value {
            // An identity helper (`def held(lock): return lock`).
            Expr::Name(n) if self.is_call_parameter(n.id.as_str()) => {
                let func = self.scope().func;
                let params = &self.functions[func].call_params;
                params
                    .iter()
                    .position(|p| p == n.id.as_str())
                    .map(returned_parameter)
            }
            // A typed local by itself holds what a call gave (`remove =
            // self._listen(…)`): its path names the callee, which is not what is
            // returned.
            Expr::Name(_) => self
                .chain(value)
                .filter(|c| !c.bare_instance)
                .map(|c| c.path),
            Expr::Attribute(_) | Expr::Subscript(_) => self.chain(value).map(|c| c.path),
            Expr::Call(call) => match &*call.func {
                Expr::Attribute(a) => self.chain(&a.value).map(|c| c.path),
                _ => None,
            },
            _ => None,
        }
    }

    /// What a `return` names as it is (`Function::returns_named`): a module's name or a
    /// dotted path from one (`return PollingWatcher`, `return watchers.Polling`), or the
    /// class itself as a class method's `cls`; not `self`, a parameter, a local, or
    /// anything reached through them.
    pub(super) fn returned_name(&self, value: &Expr) -> Option<String> {
        let plain = |c: &Chain| !c.inner && !c.via_alias && !c.bare_instance;
        match value {
            // A static method has no receiver, so this is a class method's `cls`.
            Expr::Name(n) if self.scope().self_name.as_deref() == Some(n.id.as_str()) => self
                .functions[self.scope().func]
                .is_class_or_static_method()
                .then(|| self.chain(value))
                .flatten()
                .map(|c| c.path),
            Expr::Name(n) if self.is_call_parameter(n.id.as_str()) => None,
            Expr::Name(_) | Expr::Attribute(_) => self
                .chain(value)
                .filter(|c| plain(c) && c.root.is_none())
                .map(|c| c.path),
            _ => None,
        }
    }

    /// The callee whose result a `return` hands back: the call itself, or a local typed
    /// by the call that gave it (`remove = self._listen(…)`; `return remove`).
    pub(super) fn returned_result(&self, value: &Expr) -> Option<String> {
        match value {
            Expr::Call(_) => self.returned_by(value),
            Expr::Name(_) => self
                .chain(value)
                .filter(|c| c.bare_instance)
                .map(|c| c.path),
            _ => None,
        }
    }

    /// `pending = self._pending; self._pending = set()` under a lock swaps the object
    /// out: the local keeps the old one, which the state no longer holds and no other
    /// thread can reach once the lock is released. Accesses through the local are then
    /// not accesses of the state. Without a lock another thread may still hold the old
    /// object, so the alias stays.
    fn detach_swapped_aliases(&mut self, path: &str) {
        if self.scope().held::<Vec<_>>().is_empty() {
            return;
        }
        self.scope_mut()
            .aliases
            .retain(|_, aliased| aliased.path != path);
    }

    /// A store to a bare name: a local (tracking its type or state alias), or a
    /// module variable (a rebinding, or read-modify-write for `+=`).
    pub(super) fn store_name(
        &mut self,
        name: &str,
        target: &Expr,
        value: Option<&Expr>,
        augmented: bool,
    ) {
        let is_local = {
            let scope = self.scope();
            !scope.is_module && !scope.globals.contains(name)
        };
        if is_local {
            if value.is_some_and(|v| {
                super::statements::names_running_loop(v) && self.is_current_thread(v)
            }) {
                self.scope_mut().running_loops.insert(name.to_string());
            }
            // `x = param or Default()`: of the default's type, but maybe the caller's object.
            let caller_may_give = value.is_some_and(|v| !std::ptr::eq(self.defaulted(v), v));
            let value = value.map(|v| self.defaulted(v));
            // An element taken from a typed container (`job = jobs.get(key)`) is of its
            // element type, not an object this function built.
            let taken = value.and_then(|v| self.element_taken(v));
            let ty = value
                .filter(|_| taken.is_none())
                .and_then(|v| self.constructor_of(v));
            let awaited = value.and_then(|v| self.awaited_result(v));
            // `job = PAIR[1]`: of the item's declared type, not an alias of the tuple.
            let item = value.and_then(|v| self.indexed_item(v));
            let alias = value
                .filter(|_| !augmented && item.is_none())
                .filter(|v| matches!(v, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_)))
                .and_then(|v| self.state_chain(v))
                .map(|c| Alias {
                    path: c.path,
                    root: c.root,
                    depth: c.depth,
                    element: matches!(value, Some(Expr::Subscript(s))
                        if self.chain(&s.value).is_some_and(|c| c.depth == 0)),
                });
            let entry = value.filter(|_| !augmented).and_then(|v| self.looked_up(v));
            let is_param = self.parameter_slot(name).is_some();
            let was_taken = taken.is_some();
            let scope = self.scope_mut();
            if is_param {
                scope.rebound_params.insert(name.to_string());
            }
            if let Some(earlier) = scope.types.get(name).filter(|&t| Some(t) != ty.as_ref()) {
                let known = scope.earlier_types.entry(name.to_string()).or_default();
                if !known.contains(earlier) {
                    known.push(earlier.clone());
                }
            }
            scope.types.remove(name);
            scope.elements.remove(name);
            scope.items.remove(name);
            scope.element_items.remove(name);
            scope.aliases.remove(name);
            scope.looked_up.remove(name);
            scope.fresh.remove(name);
            scope.escaped.remove(name);
            scope.handed.remove(name);
            scope.members_passed.remove(name);
            if let Some(ty) = ty {
                scope.types.insert(name.to_string(), ty);
                if !caller_may_give {
                    scope.fresh.insert(name.to_string());
                }
            } else if let Some(alias) = alias {
                scope.aliases.insert(name.to_string(), alias);
            } else if let Some(element) = taken {
                scope.types.insert(name.to_string(), element);
                if let Some(entry) = entry {
                    scope.looked_up.insert(name.to_string(), entry);
                }
            } else if let Some(awaited) = awaited {
                scope.types.insert(name.to_string(), awaited);
            }
            if !augmented && !caller_may_give && !was_taken {
                self.note_built(name, value);
            }
            return;
        }
        let path = self.qualify(name);
        let reads_itself = value.is_some_and(|v| self.mentions(v, target, &path));
        let kind = if augmented || reads_itself {
            AccessKind::ReadModifyWrite
        } else {
            AccessKind::Rebind
        };
        if self.scope().is_module {
            let ty = value.and_then(|v| self.constructor_of(v));
            self.set_variable(name, ty, self.span_of(target));
        }
        let span = self.span_of(target);
        if let Some(value) = value {
            self.note_stored_value(&path, value, false);
        }
        self.record_write(path, kind, span, value, None, false);
    }

    /// `job = jobs.get(key)`, `jobs.pop(key)` and `jobs.setdefault(key, …)`: an entry of
    /// the mapping, which the local goes on touching after the lookup, or after taking
    /// it out, as whoever fetched it before does (`Scope::looked_up`).
    fn looked_up(&self, value: &Expr) -> Option<Alias> {
        let Expr::Call(call) = value else {
            return None;
        };
        let Expr::Attribute(method) = &*call.func else {
            return None;
        };
        let keyed = match method.attr.as_str() {
            "get" | "pop" => matches!(call.arguments.args.len(), 1 | 2),
            "setdefault" => call.arguments.args.len() == 2,
            _ => false,
        };
        if !keyed || !call.arguments.keywords.is_empty() {
            return None;
        }
        let chain = self.state_chain(&method.value).filter(|c| c.depth == 0)?;
        Some(Alias {
            path: chain.path,
            root: chain.root,
            depth: 1,
            element: true,
        })
    }

    /// A module variable annotated as a container holds elements of this type.
    pub(super) fn set_variable_element(&mut self, name: &str, element: String) {
        let symbol = self.symbols.iter_mut().find(|s| s.name == name);
        if let Some(SymbolKind::Variable { element: slot, .. }) = symbol.map(|s| &mut s.kind) {
            *slot = Some(element);
        }
    }

    /// A module variable annotated as a fixed-length tuple holds items of these types.
    pub(super) fn set_variable_items(&mut self, name: &str, items: Vec<Option<String>>) {
        let symbol = self.symbols.iter_mut().find(|s| s.name == name);
        if let Some(SymbolKind::Variable { items: slot, .. }) = symbol.map(|s| &mut s.kind) {
            *slot = items;
        }
    }

    pub(super) fn set_variable(&mut self, name: &str, ty: Option<String>, span: Span) {
        let invariant = self.invariant_at(span.start.line, None);
        if let Some(existing) = self.symbols.iter_mut().find(|s| s.name == name) {
            if let SymbolKind::Variable { ty: old, .. } = &mut existing.kind {
                if ty.is_some() {
                    *old = ty;
                }
                if existing.invariant.is_none() {
                    existing.invariant = invariant;
                }
                return;
            }
        }
        self.symbols.push(Symbol {
            name: name.to_string(),
            kind: SymbolKind::Variable {
                ty,
                element: None,
                items: Vec::new(),
            },
            span,
            invariant,
        });
    }

    /// `self.<attr> = value` inside a method declares an attribute of the class.
    pub(super) fn register_self_attribute(&mut self, target: &Expr, value: Option<&Expr>) {
        let ty = value.and_then(|v| self.value_type(v));
        self.note_constructed_field(target, value);
        let none = value.is_some_and(Expr::is_none_literal_expr);
        self.register_self_attribute_typed(target, ty, None, none);
    }

    /// `holder.<attr> = value` through a receiver other than the method's own `self`,
    /// with the value's type when it has one (`FileModel::typed_attribute_stores`); a
    /// store of `None` puts no object there. A location reached through an untyped
    /// parameter names no class, and is left out.
    fn note_typed_store(&mut self, target: &Expr, path: &str, value: Option<&Expr>) {
        let Expr::Attribute(a) = target else { return };
        let through_self = matches!(&*a.value, Expr::Name(n)
            if self.scope().class.is_some() && self.scope().self_name.as_deref() == Some(n.id.as_str()));
        if through_self
            || parameter_of(path).is_some()
            || value.is_some_and(Expr::is_none_literal_expr)
        {
            return;
        }
        let ty = value.and_then(|v| self.value_type(v));
        self.typed_attribute_stores.push((path.to_string(), ty));
    }

    /// `self.<attr>` gets type `ty` (a value's type, or an annotation's) and, from an
    /// annotation, its elements' type.
    pub(super) fn register_self_attribute_typed(
        &mut self,
        target: &Expr,
        ty: Option<String>,
        element: Option<String>,
        none: bool,
    ) {
        let Expr::Attribute(a) = target else { return };
        let Expr::Name(receiver) = &*a.value else {
            return;
        };
        let scope = self.scope();
        let Some(class) = scope.class else { return };
        if scope.self_name.as_deref() != Some(receiver.id.as_str()) {
            return;
        }
        let span = self.span_of(target);
        let invariant = self.invariant_at(span.start.line, Some(class));
        let def = AttributeDef {
            ty,
            element,
            span,
            class_level: false,
            instance_field: false,
            immutable_default: false,
            invariant,
            none,
        };
        add_attribute(&mut self.classes[class], a.attr.as_str(), def);
    }

    /// What storing `value` through `target`, whose chain is `chain`, does to the
    /// location: updates it when the value reads it (`self.n = self.n + 1`), changes
    /// the object inside it (`d[k] = v`, a field through an alias), or rebinds it.
    fn store_kind(&self, target: &Expr, value: Option<&Expr>, chain: &Chain) -> AccessKind {
        if value.is_some_and(|v| self.mentions(v, target, &chain.path)) {
            AccessKind::ReadModifyWrite
        } else if chain.inner || chain.via_alias {
            AccessKind::Mutation
        } else {
            AccessKind::Rebind
        }
    }

    /// Whether `expr` reads the location `path` that `target` names, directly. A local
    /// alias does not count: `saved = sys.excepthook … sys.excepthook = saved` restores,
    /// it does not update. Nor does another object of the same class, named by another
    /// typed local or parameter, or a local alias (`target.runs = source.runs`,
    /// `hub.config.url = old.url` after `old = hub.config; hub = await make()`): two
    /// objects' attributes share a path, as state is named by class. A name for one
    /// object (`self`, a class, `cls`, a module) reads what it names, however written
    /// (`Counter.created = self.created + 1`).
    pub(super) fn mentions(&self, expr: &Expr, target: &Expr, path: &str) -> bool {
        let root = root_name(target);
        let instance = |name: Option<&str>| {
            name.is_some_and(|n| {
                matches!(
                    self.resolve_name(n),
                    Resolution::Typed(_) | Resolution::Alias(_)
                )
            })
        };
        let other_object = |e: &Expr| {
            let name = root_name(e);
            name != root && instance(name) && instance(root)
        };
        any_over_expr(expr, |e| {
            matches!(e, Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_))
                && !other_object(e)
                && self
                    .state_chain(e)
                    .or_else(|| self.own_chain(e))
                    .is_some_and(|c| !c.via_alias && c.path == path)
        })
    }

    /// Visits an iterated expression (`for … in x`, a comprehension's source): `x`,
    /// `x.items()`, or `enumerate(x)` iterate `x` step by step.
    pub(super) fn iterate(&mut self, expr: &Expr) {
        match expr {
            // `x[:]` copies in one step: a read, then the copy is iterated.
            Expr::Subscript(s) if matches!(&*s.slice, Expr::Slice(_)) => self.visit_expr(expr),
            Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_) => {
                match self.state_chain(expr).or_else(|| self.own_chain(expr)) {
                    Some(chain) => {
                        let span = self.span_of(expr);
                        self.record_chain(chain, AccessKind::Iterate, span, None);
                        self.visit_chain_parts(expr);
                    }
                    None => self.visit_expr(expr),
                }
            }
            Expr::Call(call) if call.arguments.args.is_empty() => match &*call.func {
                Expr::Attribute(view) if ITERATED_VIEWS.contains(&view.attr.as_str()) => match self
                    .state_chain(&view.value)
                    .or_else(|| self.own_chain(&view.value))
                {
                    Some(chain) => {
                        let span = self.span_of(&*call.func);
                        self.record_chain(
                            chain,
                            AccessKind::Iterate,
                            span,
                            Some(view.attr.as_str()),
                        );
                        self.visit_chain_parts(&view.value);
                    }
                    None => self.visit_expr(expr),
                },
                _ => self.visit_expr(expr),
            },
            Expr::Call(call) if matches!(&*call.func, Expr::Name(n) if LAZY_ITERATORS.contains(&n.id.as_str())) =>
            {
                for arg in &call.arguments.args {
                    self.iterate(arg);
                }
                for keyword in &call.arguments.keywords {
                    self.visit_expr(&keyword.value);
                }
            }
            _ => self.visit_expr(expr),
        }
    }

    /// The locations a test reads (`hasattr(self, "_x")` reads `self._x`).
    /// The location an `if` test asks about and whether the test is true when it is
    /// unset: `x is None` and `not x` (true), `x is not None` and bare `x` (false).
    pub(super) fn unset_test(&self, test: &Expr) -> Option<(String, bool)> {
        let (subject, when_unset) = match test {
            Expr::Compare(c) if c.ops.len() == 1 && c.comparators[0].is_none_literal_expr() => {
                match c.ops[0] {
                    ruff_python_ast::CmpOp::Is | ruff_python_ast::CmpOp::Eq => (&*c.left, true),
                    ruff_python_ast::CmpOp::IsNot | ruff_python_ast::CmpOp::NotEq => {
                        (&*c.left, false)
                    }
                    _ => return None,
                }
            }
            Expr::UnaryOp(u) if u.op == ruff_python_ast::UnaryOp::Not => (&*u.operand, true),
            Expr::Name(_) | Expr::Attribute(_) => (test, false),
            _ => return None,
        };
        if !matches!(subject, Expr::Name(_) | Expr::Attribute(_)) {
            return None;
        }
        let chain = self.state_chain(subject)?;
        Some((chain.path, when_unset))
    }

    pub(super) fn test_paths(&self, test: &Expr) -> Vec<String> {
        let mut paths = Vec::new();
        any_over_expr(test, |e| {
            match e {
                Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_) => {
                    if let Some(chain) = self.state_chain(e) {
                        paths.push(chain.path);
                    }
                }
                Expr::Call(call) if matches!(&*call.func, Expr::Name(n) if n.id.as_str() == "hasattr") => {
                    if let [object, Expr::StringLiteral(name), ..] = &*call.arguments.args {
                        if let Some(chain) = self.chain(object).filter(|c| !c.inner) {
                            paths.push(format!("{}.{}", chain.path, name.value.to_str()));
                        }
                    }
                }
                _ => {}
            }
            false
        });
        paths
    }

    pub(super) fn record_await(&mut self, span: Span) {
        self.record_acquiring_await(span, None);
    }

    /// A suspension that takes a lock with `async with` (`acquires`), or `None`.
    pub(super) fn record_acquiring_await(&mut self, span: Span, acquires: Option<String>) {
        // Another coroutine may set what was tested unset, unless an `asyncio` lock
        // held since the test keeps it out.
        self.scope_mut().unset.retain(|(_, locked)| *locked);
        let locks = self.scope().held();
        let func = self.scope().func;
        self.functions[func].awaits.push(Await {
            span,
            locks,
            acquires,
            guards: Vec::new(),
        });
    }

    /// A store no access records (`holder.meter = m` through a local built here or an
    /// expression racelint cannot type, `x.__dict__["meter"] = m`): the attribute's
    /// name, for `FileModel::unseen_attribute_stores`. A store through the function's
    /// own `self` is always recorded.
    fn note_unseen_store(&mut self, target: &Expr) {
        match target {
            Expr::Attribute(a) => self.note_attribute_named(Some(a.attr.as_str()), None),
            // `x.__dict__[name] = v`, `vars(x)[name] = v`.
            Expr::Subscript(s) => {
                if let Some(object) = super::calls::namespace_of(&s.value) {
                    match &*s.slice {
                        Expr::StringLiteral(key) => {
                            self.note_attribute_named(Some(key.value.to_str()), Some(object))
                        }
                        _ => self.note_attribute_named(None, Some(object)),
                    }
                }
            }
            _ => {}
        }
    }

    /// A value that lets other code store attributes racelint cannot follow: `setattr`
    /// itself (`sa = setattr`), an object's namespace (`d = self.__dict__`, `ns |=
    /// vars(x)`) (`FileModel::sets_attributes_by_name`).
    pub(super) fn note_attribute_setter_value(&mut self, value: &Expr) {
        if super::calls::is_setattr(value) || super::calls::namespace_of(value).is_some() {
            self.attributes_set_by_name = true;
        }
    }
}

/// The name an attribute or subscript chain starts from (`hub` for `hub.config[k].url`).
fn root_name(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Name(n) => Some(n.id.as_str()),
        Expr::Attribute(a) => root_name(&a.value),
        Expr::Subscript(s) => root_name(&s.value),
        _ => None,
    }
}
