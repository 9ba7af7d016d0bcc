//! Statements: assignments and their targets, loops, `with` (locks), `if` (checks),
//! imports, and module-level `try` fallbacks.

use super::*;

impl Lowerer<'_> {
    /// A condition (`if x:`, `while not x:`, `elif a and b:`): a name tested only for
    /// its truth lets nothing escape (`bool(x)` keeps no reference), as a comparison
    /// does not; anything else is lowered as any expression.
    fn visit_test(&mut self, test: &Expr) {
        match test {
            Expr::Name(n) if n.ctx == ExprContext::Load => self.load(test),
            Expr::UnaryOp(u) if u.op == UnaryOp::Not => self.visit_test(&u.operand),
            Expr::BoolOp(b) => {
                for value in &b.values {
                    self.visit_test(value);
                }
            }
            _ => self.visit_expr(test),
        }
    }

    /// A block of statements. Locks acquired in a block that always leaves the function
    /// (`return`, `raise`) or the loop (`break`, `continue`) are not held after it:
    /// the code that follows never runs with them.
    /// `with lock:` in a coroutine, on a local or parameter of a type racelint cannot
    /// see, named like a lock: asyncio's locks only support `async with`, so this is a
    /// thread lock (`LOCAL_LOCK`).
    fn untyped_local_lock(&self, expr: &Expr, is_async_with: bool) -> Option<String> {
        let Expr::Name(n) = expr else { return None };
        let name = n.id.as_str();
        let function = &self.functions[self.scope().func];
        let lowered = name.to_lowercase();
        let untyped = matches!(
            self.resolve_name(name),
            Resolution::Local | Resolution::Unknown
        );
        (function.is_async
            && !is_async_with
            && untyped
            && (lowered.contains("lock") || lowered.contains("mutex")))
        .then(|| format!("{}.{name}{LOCAL_LOCK}", function.path))
    }

    pub(super) fn visit_body(&mut self, body: &[Stmt]) {
        self.visit_block(body, false);
    }

    /// A block; with `keeps_guards` (a `with` body, which always runs), an early exit's
    /// guard goes on holding after it (`Scope::guards`).
    fn visit_block(&mut self, body: &[Stmt], keeps_guards: bool) {
        self.note_platform_exits(body);
        let held_before = self.scope().locks.len();
        let unset_before = self.scope().unset.len();
        let guards_before = self.scope().guards.len();
        let on_loop_thread = self.scope().on_loop_thread;
        for stmt in body {
            self.visit_stmt(stmt);
        }
        // A branch after an early exit (`if off the loop: hand over; return`) lasts to
        // the end of this block.
        self.scope_mut().on_loop_thread = on_loop_thread;
        // What an early exit here showed unset stays so only to the end of this block.
        let unset = &mut self.scope_mut().unset;
        unset.truncate(unset_before.min(unset.len()));
        if !keeps_guards {
            let guards = &mut self.scope_mut().guards;
            guards.truncate(guards_before.min(guards.len()));
        }
        let leaves = matches!(
            body.last(),
            Some(Stmt::Return(_) | Stmt::Raise(_) | Stmt::Break(_) | Stmt::Continue(_))
        );
        if leaves {
            self.scope_mut().locks.truncate(held_before);
        }
    }

    /// Lowers one statement (the visitor's `visit_stmt` tracks its lines first).
    pub(super) fn lower_stmt(&mut self, stmt: &Stmt) {
        // A generator expression returned, or stored in a location, is consumed later
        // by other code (`Access::lazy`). One bound to a local is taken to run where
        // it is written: most are consumed a line later, under the same locks.
        let kept = match stmt {
            Stmt::Assign(a) if !matches!(a.targets.as_slice(), [Expr::Name(_)]) => Some(&*a.value),
            Stmt::Return(r) => r.value.as_deref(),
            _ => None,
        };
        if let Some(Expr::Generator(g)) = kept {
            self.kept_generators.insert(g.range().start().to_usize());
        }
        match stmt {
            Stmt::FunctionDef(def) => {
                if !self.scope().is_module {
                    let names = scope::captured_by_def(def, &self.closable_names());
                    self.escape_captured(names);
                }
                let index = self.function_def(def, None);
                if self.scope().is_module {
                    self.symbols.push(Symbol {
                        name: def.name.as_str().to_string(),
                        kind: SymbolKind::Function(index),
                        span: self.span_of(&def.name),
                        invariant: None,
                    });
                }
            }
            Stmt::ClassDef(def) => self.class_def(def),
            Stmt::Assign(a)
                if self.scope().is_module && self.type_alias(&a.targets, &a.value, false) =>
            {
                self.visit_expr(&a.value);
            }
            Stmt::AnnAssign(a)
                if self.scope().is_module
                    && is_type_alias_annotation(&a.annotation)
                    && a.value.as_deref().is_some_and(|v| {
                        self.type_alias(std::slice::from_ref(&*a.target), v, true)
                    }) => {}
            Stmt::TypeAlias(t) if self.scope().is_module => {
                self.type_alias(std::slice::from_ref(&*t.name), &t.value, true);
            }
            Stmt::Assign(a) => {
                self.visit_expr(&a.value);
                self.note_attribute_setter_value(&a.value);
                self.assigning_many = a.targets.len() > 1;
                for target in &a.targets {
                    self.store(target, Some(&a.value));
                }
                self.assigning_many = false;
                self.note_result_bound(&a.targets, &a.value);
            }
            Stmt::AnnAssign(a) => {
                let element = self.element_annotation(&a.annotation);
                if matches!(&*a.target, Expr::Attribute(_)) {
                    // `self.x: T = v` or `self.x: T`: an explicit annotation wins over
                    // a type guessed from the value.
                    let declared = self.annotation_type(&a.annotation);
                    if declared.is_some() || element.is_some() {
                        let none = a.value.as_deref().is_none_or(Expr::is_none_literal_expr);
                        self.register_self_attribute_typed(
                            &a.target,
                            declared,
                            element.clone(),
                            none,
                        );
                    }
                    if let Some(value) = &a.value {
                        self.visit_expr(value);
                        self.store(&a.target, Some(value));
                        self.note_result_bound(std::slice::from_ref(&*a.target), value);
                    }
                } else if let Some(value) = &a.value {
                    self.visit_expr(value);
                    self.store(&a.target, Some(value));
                } else if let Expr::Name(n) = &*a.target {
                    // A bare declaration: only the annotation's type is learnt.
                    if let Some(ty) = self.annotation_type(&a.annotation) {
                        if self.scope().is_module {
                            let span = self.span_of(&*a.target);
                            self.set_variable(n.id.as_str(), Some(ty), span);
                        } else {
                            self.scope_mut().types.insert(n.id.as_str().to_string(), ty);
                        }
                    }
                }
                if let (Expr::Name(n), Some(value)) = (&*a.target, &a.value) {
                    // The annotation wins over the type of what a standard-library
                    // function returned (`plugin: PluginModule = import_module(name)`),
                    // which racelint cannot follow; a project function's result
                    // (`obj: Base = make()`, `make() -> Impl`) is the more precise.
                    let guessed = self
                        .constructor_of(value)
                        .and_then(|path| {
                            path.split('.').next().map(crate::python::is_stdlib_module)
                        })
                        .unwrap_or(false);
                    if !self.scope().is_module
                        && (guessed || !self.scope().types.contains_key(n.id.as_str()))
                    {
                        if let Some(ty) = self.annotation_type(&a.annotation) {
                            let scope = self.scope_mut();
                            scope.types.insert(n.id.as_str().to_string(), ty);
                            // Of the annotated type, but whatever the function returned:
                            // not an object this function built (`Owner::Fresh` names
                            // the local's type as its constructor).
                            if guessed {
                                scope.fresh.remove(n.id.as_str());
                            }
                        }
                    }
                }
                if let Expr::Name(n) = &*a.target {
                    let items = self.item_annotations(&a.annotation);
                    self.declare_contents(n.id.as_str(), a, element, items);
                    let element_items = self.element_item_annotations(&a.annotation);
                    if !self.scope().is_module && !element_items.is_empty() {
                        let name = n.id.to_string();
                        self.scope_mut().element_items.insert(name, element_items);
                    }
                }
            }
            Stmt::AugAssign(a) => {
                self.visit_expr(&a.value);
                self.note_attribute_setter_value(&a.target);
                match &*a.target {
                    // `jobs += [job]` on a parameter: only a container takes a display,
                    // and a list, set or dict extends itself in place (`__iadd__`,
                    // `__ior__`): the caller's object changes, and stays the parameter.
                    Expr::Name(n)
                        if is_display(&a.value)
                            && self.passed_parameter(n.id.as_str()).is_some() =>
                    {
                        self.write_through(&a.target, AccessKind::Mutation)
                    }
                    Expr::Name(n) => self.store_name(n.id.as_str(), &a.target, None, true),
                    target => {
                        let func = self.scope().func;
                        let update = self.functions[func].accesses.len();
                        self.write_through(target, AccessKind::ReadModifyWrite);
                        if is_literal(&a.value) {
                            if let Some(access) = self.functions[func].accesses.get_mut(update) {
                                access.literal_update = true;
                            }
                        }
                    }
                }
            }
            Stmt::Delete(d) => {
                for target in &d.targets {
                    match target {
                        Expr::Name(n) => {
                            let is_global = self.scope().is_module
                                || self.scope().globals.contains(n.id.as_str());
                            if is_global {
                                let span = self.span_of(target);
                                self.record(
                                    self.qualify(n.id.as_str()),
                                    AccessKind::Rebind,
                                    span,
                                    None,
                                    None,
                                    false,
                                );
                            }
                        }
                        _ => {
                            if let Expr::Subscript(s) = target {
                                let span = self.span_of(target);
                                self.protocol_call(&s.value, "__delitem__", span);
                            }
                            self.write_through(target, AccessKind::Mutation)
                        }
                    }
                }
            }
            Stmt::For(f) => {
                let span = self.span_of(&*f.iter);
                if f.is_async {
                    self.record_await(span);
                }
                let method = if f.is_async { "__aiter__" } else { "__iter__" };
                self.protocol_call(&f.iter, method, span);
                self.iterate(&f.iter);
                self.store(&f.target, None);
                self.bind_iterated(&f.target, &f.iter);
                self.enter_loop();
                self.visit_body(&f.body);
                self.scope_mut().loop_depth -= 1;
                self.visit_body(&f.orelse);
            }
            Stmt::While(w) => {
                // The test runs again before every iteration: its calls are in the loop.
                self.enter_loop();
                self.visit_test(&w.test);
                let checked = Check {
                    paths: self.test_paths(&w.test),
                    lines: self.statement_lines,
                    locks: self.scope().held(),
                };
                self.scope_mut().checks.push(checked);
                self.visit_body(&w.body);
                self.scope_mut().loop_depth -= 1;
                self.scope_mut().checks.pop();
                self.visit_body(&w.orelse);
            }
            Stmt::Return(r) => {
                self.note_returned(r.value.as_deref());
                let first = matches!(r.value.as_deref(), Some(Expr::Name(n))
                    if self.parameter_slot(n.id.as_str()) == Some(1));
                let scope = self.scope_mut();
                scope.returns_first_parameter =
                    Some(scope.returns_first_parameter != Some(false) && first);
                if let Some(value) = &r.value {
                    match &**value {
                        // A parameter handed back (`return self` in a fluent setter)
                        // goes back to the caller that passed it: ownership stays
                        // with the caller, so the callee lets nothing escape.
                        Expr::Name(n) if self.parameter_slot(n.id.as_str()).is_some() => {
                            self.load(value)
                        }
                        _ => self.visit_expr(value),
                    }
                    let func = self.scope().func;
                    if let Some(path) = self.returned_state(value) {
                        self.functions[func].returns.push(path);
                    }
                    if let Some(path) = self.returned_result(value) {
                        self.functions[func].returns_result_of.push(path);
                    }
                    if let Some(path) = self.returned_name(value) {
                        self.functions[func].returns_named.push(path);
                    }
                }
            }
            Stmt::With(w) => {
                let mut pushed = 0;
                for item in &w.items {
                    self.visit_expr(&item.context_expr);
                    let span = self.span_of(&item.context_expr);
                    let (enter, exit) = if w.is_async {
                        ("__aenter__", "__aexit__")
                    } else {
                        ("__enter__", "__exit__")
                    };
                    self.protocol_call(&item.context_expr, enter, span);
                    self.protocol_call(&item.context_expr, exit, span);
                    if w.is_async {
                        let span = self.span_of(&item.context_expr);
                        let lock = match &item.context_expr {
                            Expr::Name(_) | Expr::Attribute(_) => self
                                .chain(&item.context_expr)
                                .filter(|c| !c.inner)
                                .map(|c| c.path),
                            _ => None,
                        };
                        self.record_acquiring_await(span, lock);
                    }
                    // `with lock:` on a parameter: the lock each caller passes (and,
                    // in a coroutine, named like a lock, also a thread lock it holds
                    // across awaits: `untyped_local_lock`).
                    let passed = match &item.context_expr {
                        Expr::Name(n) => self.passed_parameter(n.id.as_str()).map(parameter_path),
                        _ => None,
                    };
                    let held = match &item.context_expr {
                        Expr::Name(_) if passed.is_some() => None,
                        Expr::Name(_) | Expr::Attribute(_) => self
                            .chain(&item.context_expr)
                            .filter(|c| !c.inner)
                            .map(|c| c.path),
                        // `with self._lock_for(key):` holds what the helper returns; the
                        // analysis decides whether that is a lock (`returned_lock`). A
                        // location passed first is named inside, for a helper that
                        // returns it (`with held(_LOCK):` → `mod.held(mod._LOCK)`).
                        Expr::Call(call) => match self.callee_of(&call.func) {
                            Some(Callee::Path(path)) => {
                                let first = call
                                    .arguments
                                    .args
                                    .first()
                                    .filter(|a| matches!(a, Expr::Name(_) | Expr::Attribute(_)))
                                    .and_then(|a| self.chain(a))
                                    .filter(|c| !c.inner)
                                    .map(|c| c.path)
                                    .unwrap_or_default();
                                Some(format!("{path}({first})"))
                            }
                            _ => None,
                        },
                        _ => None,
                    }
                    .or_else(|| self.untyped_local_lock(&item.context_expr, w.is_async));
                    for path in held.into_iter().chain(passed) {
                        let block = self.statement_lines;
                        self.scope_mut().locks.push(HeldLock {
                            path,
                            block: Some(block),
                            is_async: w.is_async,
                        });
                        pushed += 1;
                    }
                    if let Some(vars) = &item.optional_vars {
                        match (&**vars, self.constructor_of(&item.context_expr)) {
                            (Expr::Name(n), Some(ty)) if !self.scope().is_module => {
                                self.note_rebound(n.id.as_str());
                                self.scope_mut().types.insert(n.id.as_str().to_string(), ty);
                            }
                            (target, _) => self.store(target, None),
                        }
                    }
                }
                let held_before = self.scope().locks.len();
                self.visit_block(&w.body, true);
                // The `with` releases its own locks; an `acquire()` left unreleased in
                // the body stays held, as it does at run time.
                let block = Some(self.statement_lines);
                let locks = &mut self.scope_mut().locks;
                let own = held_before.saturating_sub(pushed);
                let mut index = own;
                let mut released = 0;
                while index < locks.len() && released < pushed {
                    if locks[index].block == block {
                        locks.remove(index);
                        released += 1;
                    } else {
                        index += 1;
                    }
                }
            }
            Stmt::If(i)
                if self.scope().is_module
                    && i.elif_else_clauses.is_empty()
                    && is_main_guard(&i.test) =>
            {
                self.main_block(i);
            }
            // `if TYPE_CHECKING:` never runs: only what type checkers read there is
            // kept (imports that annotations name, stubs of definitions), not what it
            // would do (`assert platform.config_entry is not None` reads nothing).
            Stmt::If(i) if is_type_checking(&i.test) => {
                for stmt in &i.body {
                    if matches!(
                        stmt,
                        Stmt::Import(_)
                            | Stmt::ImportFrom(_)
                            | Stmt::FunctionDef(_)
                            | Stmt::ClassDef(_)
                    ) {
                        self.visit_stmt(stmt);
                    }
                }
                for clause in &i.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        self.visit_test(test);
                    }
                    self.visit_body(&clause.body);
                }
            }
            Stmt::If(i) => {
                self.note_platform_if(i);
                self.visit_test(&i.test);
                // Every branch acts on what the test saw: writes there are checked.
                let mut tested = self.test_paths(&i.test);
                for clause in &i.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        tested.extend(self.test_paths(test));
                    }
                }
                let check = Check {
                    paths: tested,
                    lines: self.statement_lines,
                    locks: self.scope().held(),
                };
                self.scope_mut().checks.push(check);
                let lock = self.lock_call(&i.test, "acquire");
                if let Some(lock) = &lock {
                    self.scope_mut().locks.push(HeldLock {
                        path: lock.clone(),
                        block: None,
                        is_async: false,
                    });
                }
                let held_before = self.scope().locks.len();
                let unset = self.unset_test(&i.test);
                let locked = !self.scope().held_async::<Vec<_>>().is_empty();
                let unset_before = self.scope().unset.len();
                if let Some((path, true)) = &unset {
                    self.scope_mut().unset.push((path.clone(), locked));
                }
                let loop_thread = self.loop_thread_branch(i);
                let body_on_loop = loop_thread == Some(LoopThreadBranch::Body);
                self.scope_mut().on_loop_thread += usize::from(body_on_loop);
                self.visit_body(&i.body);
                self.scope_mut().on_loop_thread -= usize::from(body_on_loop);
                let rest_on_loop = loop_thread == Some(LoopThreadBranch::Rest);
                self.scope_mut().on_loop_thread += usize::from(rest_on_loop);
                let unset_stack = &mut self.scope_mut().unset;
                unset_stack.truncate(unset_before.min(unset_stack.len()));
                if let Some(lock) = &lock {
                    // `if lock.acquire(timeout=…):` holds it for the body only.
                    let locks = &mut self.scope_mut().locks;
                    if let Some(at) = locks[held_before.saturating_sub(1)..]
                        .iter()
                        .position(|l| &l.path == lock && l.block.is_none())
                    {
                        locks.remove(held_before.saturating_sub(1) + at);
                    }
                }
                for clause in &i.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        self.visit_test(test);
                    }
                    self.visit_body(&clause.body);
                }
                // After a body that hands over and exits, the rest of the block is the
                // loop's (`visit_body` of the enclosing block ends it); otherwise the
                // count ends with the `else` clauses.
                let exits_here = matches!(i.body.last(), Some(Stmt::Return(_) | Stmt::Raise(_)));
                if rest_on_loop && !(exits_here && i.elif_else_clauses.is_empty()) {
                    self.scope_mut().on_loop_thread -= 1;
                }
                let guard = self.scope_mut().checks.pop();
                // `if x is not None: return`: the rest of the block runs with x unset.
                let exits = matches!(i.body.last(), Some(Stmt::Return(_) | Stmt::Raise(_)));
                if let Some(guard) = guard.filter(|_| exits && i.elif_else_clauses.is_empty()) {
                    self.scope_mut().guards.push(guard);
                }
                if let Some((path, false)) = unset {
                    if exits && i.elif_else_clauses.is_empty() {
                        self.scope_mut().unset.push((path, locked));
                    }
                }
            }
            Stmt::Expr(e) => {
                self.visit_expr(&e.value);
                if let Some(lock) = self.lock_call(&e.value, "acquire") {
                    self.scope_mut().locks.push(HeldLock {
                        path: lock,
                        block: None,
                        is_async: false,
                    });
                } else if let Some(lock) = self.lock_call(&e.value, "release") {
                    let locks = &mut self.scope_mut().locks;
                    if let Some(at) = locks.iter().rposition(|l| l.path == lock) {
                        locks.remove(at);
                    }
                } else if let Some((verb, function)) = self.lock_function_call(&e.value) {
                    self.note_lock_function(verb, function);
                }
            }
            Stmt::Import(_) | Stmt::ImportFrom(_) => {
                if !self.scope().is_module {
                    for (name, path) in self.import_bindings(stmt) {
                        self.scope_mut().imports.insert(name, path);
                    }
                } else {
                    for (name, path) in self.import_bindings(stmt) {
                        let span = self.span_of(stmt);
                        self.symbols.push(Symbol {
                            name,
                            kind: SymbolKind::Alias(path),
                            span,
                            invariant: None,
                        });
                    }
                }
            }
            Stmt::Try(t) if !self.scope().is_module && self.probes_running_loop(t) => {
                self.loop_probe(t);
            }
            Stmt::Try(t) if self.scope().is_module => {
                for s in &t.body {
                    self.visit_stmt(s);
                }
                let bound_in_try: HashSet<String> =
                    self.symbols.iter().map(|s| s.name.clone()).collect();
                let before_handlers = self.symbols.len();
                for ExceptHandler::ExceptHandler(h) in &t.handlers {
                    for s in &h.body {
                        self.visit_stmt(s);
                    }
                }
                // `try: from _c import f / except ImportError: def f(): …` — when the
                // import works (the usual case) the fallback never binds the name.
                let mut index = before_handlers;
                while index < self.symbols.len() {
                    if bound_in_try.contains(&self.symbols[index].name) {
                        self.symbols.remove(index);
                    } else {
                        index += 1;
                    }
                }
                for s in t.orelse.iter().chain(&t.finalbody) {
                    self.visit_stmt(s);
                }
            }
            Stmt::Global(_) | Stmt::Nonlocal(_) | Stmt::TypeAlias(_) => {}
            // An early exit in a `try` may be caught, one in a handler or a `case` runs
            // on its own path: its guard ends with the statement.
            Stmt::Try(_) | Stmt::Match(_) => {
                let guards_before = self.scope().guards.len();
                walk_stmt(self, stmt);
                let guards = &mut self.scope_mut().guards;
                guards.truncate(guards_before.min(guards.len()));
            }
            _ => walk_stmt(self, stmt),
        }
    }
}

impl Lowerer<'_> {
    /// `try: asyncio.get_running_loop() … except RuntimeError: loop.call_soon_threadsafe(…)`:
    /// the probe raises off a loop's thread, and the handler hands the work to the
    /// loop, so by the code's own design the rest of the `try` body and its `else`
    /// run on the loop's thread, and so does the rest of the block when the handler
    /// exits (`return`, `raise`).
    fn probes_running_loop(&self, t: &ruff_python_ast::StmtTry) -> bool {
        self.probe_index(&t.body).is_some() && self.handover_handler(t).is_some()
    }

    /// The statement of `body` that probes for the running loop, if one does.
    fn probe_index(&self, body: &[Stmt]) -> Option<usize> {
        // `asyncio._get_running_loop()` gives `None` instead of raising: no probe.
        let probes = |e: &Expr| {
            matches!(e, Expr::Call(c) if matches!(&*c.func,
                Expr::Attribute(a) if a.attr.as_str() == "get_running_loop")
                || matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "get_running_loop"))
                && self.is_current_thread(e)
        };
        body.iter().position(|stmt| match stmt {
            Stmt::Expr(e) => probes(&e.value),
            Stmt::Assign(a) => probes(&a.value),
            Stmt::Return(r) => r.value.as_deref().is_some_and(probes),
            _ => false,
        })
    }

    /// The `except RuntimeError:` clause (alone or in a tuple) that hands to a loop.
    fn handover_handler<'t>(
        &self,
        t: &'t ruff_python_ast::StmtTry,
    ) -> Option<&'t ruff_python_ast::ExceptHandlerExceptHandler> {
        t.handlers
            .iter()
            .find_map(|ExceptHandler::ExceptHandler(h)| {
                let names_runtime_error =
                    |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "RuntimeError");
                let catches = match h.type_.as_deref() {
                    Some(Expr::Tuple(t)) => t.elts.iter().any(names_runtime_error),
                    Some(e) => names_runtime_error(e),
                    None => false,
                };
                (catches && hands_to_loop(&h.body)).then_some(h)
            })
    }

    fn loop_probe(&mut self, t: &ruff_python_ast::StmtTry) {
        let probe = self.probe_index(&t.body).unwrap_or(0);
        for (index, stmt) in t.body.iter().enumerate() {
            let on_loop = index > probe;
            self.scope_mut().on_loop_thread += usize::from(on_loop);
            self.visit_stmt(stmt);
            self.scope_mut().on_loop_thread -= usize::from(on_loop);
        }
        for ExceptHandler::ExceptHandler(h) in &t.handlers {
            self.visit_body(&h.body);
        }
        self.scope_mut().on_loop_thread += 1;
        self.visit_body(&t.orelse);
        self.scope_mut().on_loop_thread -= 1;
        self.visit_body(&t.finalbody);
        // After a handler that hands over and exits, the rest of the block is the
        // loop's (`visit_body` of the enclosing block ends it).
        let exits = self
            .handover_handler(t)
            .is_some_and(|h| matches!(h.body.last(), Some(Stmt::Return(_) | Stmt::Raise(_))));
        if exits {
            self.scope_mut().on_loop_thread += 1;
        }
    }
}

impl Lowerer<'_> {
    /// `JobQueue = asyncio.Queue` (or `asyncio.Queue[str]`, `JobQueue: TypeAlias =
    /// …`, `type JobQueue = …`) at module level: a class-like name bound to a class-like
    /// path is another name for that class, recorded as an alias (an annotation
    /// `jobs: JobQueue` is an `asyncio.Queue`). A declared alias (`TypeAlias`, `type`)
    /// may also be written as a string (`JobQueue: TypeAlias = "asyncio.Queue[str]"`).
    /// Returns whether it was one.
    fn type_alias(&mut self, targets: &[Expr], value: &Expr, declared: bool) -> bool {
        let [Expr::Name(name)] = targets else {
            return false;
        };
        let path = match value {
            // A union (`"A | B"`) names no one class.
            Expr::StringLiteral(s) if declared && !s.value.to_str().contains('|') => {
                self.annotation_type(value)
            }
            _ => {
                let value = match value {
                    Expr::Subscript(s) => &*s.value,
                    other => other,
                };
                match value {
                    Expr::Name(_) | Expr::Attribute(_) => match self.callee_of(value) {
                        Some(Callee::Path(path)) => Some(path),
                        _ => None,
                    },
                    _ => None,
                }
            }
        };
        let Some(path) = path else {
            return false;
        };
        let class_like = |n: &str| {
            n.chars().next().is_some_and(char::is_uppercase) && n.chars().any(char::is_lowercase)
        };
        if !class_like(name.id.as_str()) || !class_like(path.rsplit('.').next().unwrap_or(&path)) {
            return false;
        }
        let span = self.span_of(&targets[0]);
        self.symbols.push(Symbol {
            name: name.id.as_str().to_string(),
            kind: SymbolKind::Alias(path),
            span,
            invariant: None,
        });
        true
    }
}

/// `TypeAlias` or `typing.TypeAlias` as an annotation.
fn is_type_alias_annotation(annotation: &Expr) -> bool {
    match annotation {
        Expr::Name(n) => n.id.as_str() == "TypeAlias",
        Expr::Attribute(a) => a.attr.as_str() == "TypeAlias",
        _ => false,
    }
}

/// `__name__ == "__main__"`, either way round.
/// Which part of an `if` only the event loop's thread runs, in code that checks which
/// thread it is on and hands the work to the loop when it is not its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LoopThreadBranch {
    /// `if threading.get_ident() == tid: f(x) else: loop.call_soon_threadsafe(f, x)`.
    Body,
    /// `if tid != threading.get_ident(): loop.call_soon_threadsafe(f, x) else: f(x)`:
    /// the `elif`/`else` clauses, and after a body that ends in `return` or `raise`
    /// with no `else`, the rest of the block.
    Rest,
}

/// Calls that hand work to an event loop from any thread.
const LOOP_HANDOVERS: &[&str] = &["call_soon_threadsafe", "run_coroutine_threadsafe"];

/// Whether `body` hands work to an event loop (`LOOP_HANDOVERS`) anywhere in it.
fn hands_to_loop(body: &[Stmt]) -> bool {
    struct Finder(bool);
    impl<'a> Visitor<'a> for Finder {
        fn visit_expr(&mut self, expr: &'a Expr) {
            if let Expr::Call(call) = expr {
                let name = match &*call.func {
                    Expr::Attribute(a) => Some(a.attr.as_str()),
                    Expr::Name(n) => Some(n.id.as_str()),
                    _ => None,
                };
                if name.is_some_and(|n| LOOP_HANDOVERS.contains(&n)) {
                    self.0 = true;
                }
            }
            walk_expr(self, expr);
        }
    }
    let mut finder = Finder(false);
    for stmt in body {
        finder.visit_stmt(stmt);
    }
    finder.0
}

/// `TYPE_CHECKING` or `typing.TYPE_CHECKING` (any module's, as `t.TYPE_CHECKING`):
/// false whenever the program runs.
fn is_type_checking(test: &Expr) -> bool {
    match test {
        Expr::Name(name) => name.id.as_str() == "TYPE_CHECKING",
        Expr::Attribute(attribute) => attribute.attr.as_str() == "TYPE_CHECKING",
        _ => false,
    }
}

fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(compare) = test else {
        return false;
    };
    let ([op], [right]) = (&*compare.ops, &*compare.comparators) else {
        return false;
    };
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    *op == ruff_python_ast::CmpOp::Eq
        && ((is_name(&compare.left) && is_main(right))
            || (is_main(&compare.left) && is_name(right)))
}

/// Calls that name the thread they run on.
const CURRENT_THREAD: &[&str] = &[
    "threading.get_ident",
    "threading.get_native_id",
    "threading.current_thread",
    "threading.currentThread",
    "_thread.get_ident",
];

impl Lowerer<'_> {
    /// The part of an `if` that only the event loop's thread runs: its test compares
    /// the current thread with another (also as one condition of an `and`), and the
    /// other side hands the work to the loop. By the code's own design, that side is
    /// the one taken off the loop's thread.
    pub(super) fn loop_thread_branch(
        &self,
        i: &ruff_python_ast::StmtIf,
    ) -> Option<LoopThreadBranch> {
        let off_thread = self.thread_test(&i.test)?;
        let else_hands_over = matches!(&*i.elif_else_clauses,
            [clause] if clause.test.is_none() && hands_to_loop(&clause.body));
        match off_thread {
            true if hands_to_loop(&i.body) => Some(LoopThreadBranch::Rest),
            false if else_hands_over => Some(LoopThreadBranch::Body),
            _ => None,
        }
    }

    /// Whether `test` says the current thread is another one (`tid !=
    /// threading.get_ident()`: true) or is that one (`==`: false).
    fn thread_test(&self, test: &Expr) -> Option<bool> {
        match test {
            Expr::BoolOp(b) if b.op == ruff_python_ast::BoolOp::And => {
                b.values.iter().find_map(|v| self.thread_test(v))
            }
            Expr::Compare(c) => {
                let ([op], [right]) = (&*c.ops, &*c.comparators) else {
                    return None;
                };
                if !self.is_current_thread(&c.left) && !self.is_current_thread(right) {
                    return None;
                }
                // `running is not None` says a loop runs here, not which one: only a
                // comparison with the loop work is handed to tells its thread.
                if matches!(right, Expr::NoneLiteral(_)) || matches!(&*c.left, Expr::NoneLiteral(_))
                {
                    return None;
                }
                match op {
                    ruff_python_ast::CmpOp::NotEq | ruff_python_ast::CmpOp::IsNot => Some(true),
                    ruff_python_ast::CmpOp::Eq | ruff_python_ast::CmpOp::Is => Some(false),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `threading.get_ident()`, `threading.current_thread()` (or its `.ident`), a local
    /// bound to the running loop (`Scope::running_loops`), or the loop running on this
    /// thread, by the name of the call that gives it
    /// (`asyncio.get_running_loop()`, `asyncio._get_running_loop()`, which gives `None`
    /// on a thread with no loop, or a project helper named either way): compared with
    /// the loop's thread, or with the loop the code hands work to, it tells whether
    /// this is that thread.
    pub(super) fn is_current_thread(&self, expr: &Expr) -> bool {
        let expr = match expr {
            Expr::Attribute(a) if matches!(a.attr.as_str(), "ident" | "native_id") => &*a.value,
            _ => expr,
        };
        if let Expr::Name(name) = expr {
            return self.scope().running_loops.contains(name.id.as_str());
        }
        let Expr::Call(call) = expr else {
            return false;
        };
        matches!(self.callee_of(&call.func),
            Some(Callee::Path(p)) if CURRENT_THREAD.contains(&p.as_str())
                || matches!(p.rsplit('.').next(), Some("get_running_loop" | "_get_running_loop"))
                || self.running_loop_helpers.contains(&p))
    }

    /// The body of `if __name__ == "__main__":` runs only when the module is a script:
    /// it is lowered as a function of its own (a program root on the main thread), not
    /// as import-time initialisation. Its names are still module names.
    fn main_block(&mut self, block: &ruff_python_ast::StmtIf) {
        self.visit_expr(&block.test);
        let span = self.span_of(&*block.test);
        let index = self.push_function(Function {
            path: format!("{}.<main>", self.module),
            display: format!("__main__ block of {}", self.module),
            name: "<main>".to_string(),
            span,
            program_root: true,
            ..Function::default()
        });
        self.scopes.push(Scope::new(index, true));
        for stmt in &block.body {
            self.visit_stmt(stmt);
        }
        self.scopes.pop();
    }
}

impl Lowerer<'_> {
    /// What a variable's annotation says it holds (after the store, which declared a
    /// module variable): its elements' type (`dict[str, Job]`), or each item's
    /// (`tuple[str, Job]`).
    fn declare_contents(
        &mut self,
        name: &str,
        assign: &ruff_python_ast::StmtAnnAssign,
        element: Option<String>,
        items: Vec<Option<String>>,
    ) {
        if element.is_none() && items.is_empty() {
            return;
        }
        if self.scope().is_module {
            if assign.value.is_none() && self.annotation_type(&assign.annotation).is_none() {
                let span = self.span_of(&*assign.target);
                self.set_variable(name, None, span);
            }
            if let Some(element) = element {
                self.set_variable_element(name, element);
            }
            if !items.is_empty() {
                self.set_variable_items(name, items);
            }
        } else {
            let scope = self.scope_mut();
            if let Some(element) = element {
                scope.elements.insert(name.to_string(), element);
            }
            if !items.is_empty() {
                scope.items.insert(name.to_string(), items);
            }
        }
    }

    /// A loop variable over a typed container (`for job in JOBS.values()`, `for key,
    /// job in self.jobs.items()`) is of the container's element type.
    fn bind_iterated(&mut self, target: &Expr, iterable: &Expr) {
        if let (Expr::Tuple(t), Some(items)) = (target, self.iterated_items(iterable)) {
            if !t.elts.iter().any(|e| matches!(e, Expr::Starred(_))) {
                let bound: Vec<(String, String)> = t
                    .elts
                    .iter()
                    .zip(items)
                    .filter_map(|(part, item)| match (part, item) {
                        (Expr::Name(n), Some(ty)) => Some((n.id.to_string(), ty.clone())),
                        _ => None,
                    })
                    .collect();
                self.scope_mut().types.extend(bound);
            }
            return;
        }
        let (whole, second) = self.iterated_element(iterable);
        let (name, element) = match (target, whole, second) {
            (Expr::Name(n), Some(element), _) => (n.id.as_str(), element),
            (Expr::Tuple(t), _, Some(element)) => match &*t.elts {
                [_, Expr::Name(n)] => (n.id.as_str(), element),
                _ => return,
            },
            // `for cb, args in self._pending:`: parts of what was stored there.
            (Expr::Tuple(t), Some(element), None) if element.ends_with(ELEMENT) => {
                self.bind_parts(&t.elts, &element);
                return;
            }
            _ => return,
        };
        if !self.scope().is_module {
            self.scope_mut().types.insert(name.to_string(), element);
        }
    }
}

/// Whether a function body gives the loop running on this thread or nothing: every
/// `return` it makes (outside nested definitions) returns a running-loop getter's
/// result or `None`, and one returns the getter's.
pub(super) fn gives_running_loop(body: &[Stmt]) -> bool {
    fn returns<'b>(body: &'b [Stmt], out: &mut Vec<Option<&'b Expr>>) {
        for stmt in body {
            match stmt {
                Stmt::Return(r) => out.push(r.value.as_deref()),
                Stmt::Try(t) => {
                    returns(&t.body, out);
                    for ExceptHandler::ExceptHandler(h) in &t.handlers {
                        returns(&h.body, out);
                    }
                    returns(&t.orelse, out);
                    returns(&t.finalbody, out);
                }
                Stmt::If(i) => {
                    returns(&i.body, out);
                    for clause in &i.elif_else_clauses {
                        returns(&clause.body, out);
                    }
                }
                Stmt::With(w) => returns(&w.body, out),
                _ => {}
            }
        }
    }
    let mut found = Vec::new();
    returns(body, &mut found);
    found.iter().any(|r| r.is_some_and(names_running_loop))
        && found.iter().all(|r| match r {
            None => true,
            Some(value) => matches!(value, Expr::NoneLiteral(_)) || names_running_loop(value),
        })
}

/// Whether `value` is a call named like the running-loop getters
/// (`asyncio.get_running_loop()`): a cheap test before resolving it.
pub(super) fn names_running_loop(value: &Expr) -> bool {
    let Expr::Call(call) = value else {
        return false;
    };
    let name = match &*call.func {
        Expr::Attribute(a) => a.attr.as_str(),
        Expr::Name(n) => n.id.as_str(),
        _ => return false,
    };
    matches!(name, "get_running_loop" | "_get_running_loop")
}

impl Lowerer<'_> {
    /// The locks an `__enter__` or `acquire` body acquires on every run: `x.acquire()`
    /// statements of the body itself (not in a branch, but for `if x: x.acquire()`,
    /// which takes the lock whenever there is one), before any statement that may
    /// `return`, and not released after.
    pub(super) fn unconditional_acquires(&self, body: &[Stmt]) -> Vec<String> {
        let mut held = Vec::new();
        for stmt in body {
            if let Stmt::If(i) = stmt {
                if let (true, [Stmt::Expr(e)]) = (i.elif_else_clauses.is_empty(), &i.body[..]) {
                    let tested = self.chain(&i.test).filter(|c| !c.inner).map(|c| c.path);
                    if let Some(lock) = self.lock_call(&e.value, "acquire") {
                        if tested.as_ref() == Some(&lock) {
                            held.push(lock);
                            continue;
                        }
                    }
                }
            }
            if let Stmt::Expr(e) = stmt {
                if let Some(lock) = self.lock_call(&e.value, "acquire") {
                    held.push(lock);
                    continue;
                }
                if let Some(lock) = self.lock_call(&e.value, "release") {
                    held.retain(|l| *l != lock);
                    continue;
                }
            }
            if may_return(stmt) {
                break;
            }
        }
        // A release anywhere else in the body (`try: … finally: lock.release()`) gives
        // the lock back before the body returns.
        held.retain(|lock| !self.releases_anywhere(body, lock));
        held
    }

    /// `_acquireLock()` … `_releaseLock()`: a module's pair of functions that take and
    /// give back its lock. The acquiring call holds what that function leaves held
    /// (`Function::leaves_held`, resolved by the analysis through the call, as for a
    /// lock-returning helper), up to the call of its pair: the function of the same
    /// module whose name says `release` where the other says `acquire`.
    fn note_lock_function(&mut self, verb: LockVerb, function: String) {
        match verb {
            LockVerb::Acquire => self.scope_mut().locks.push(HeldLock {
                path: format!("{function}()"),
                block: None,
                is_async: false,
            }),
            LockVerb::Release => {
                let pair = |held: &str| {
                    held.strip_suffix("()")
                        .and_then(lock_verb_of)
                        .is_some_and(|(verb, key)| {
                            verb == LockVerb::Acquire
                                && lock_verb_of(&function).map(|(_, k)| k) == Some(key)
                        })
                };
                let locks = &mut self.scope_mut().locks;
                if let Some(at) = locks.iter().rposition(|l| pair(&l.path)) {
                    locks.remove(at);
                }
            }
        }
    }

    /// A bare call of a project-looking function named to take or give back a lock
    /// (`_acquireLock()`, `logging._releaseLock()`, `acquire_lock()`), with its path.
    pub(super) fn lock_function_call(&self, expr: &Expr) -> Option<(LockVerb, String)> {
        let Expr::Call(call) = expr else {
            return None;
        };
        if !call.arguments.args.is_empty() || !call.arguments.keywords.is_empty() {
            return None;
        }
        if !matches!(&*call.func, Expr::Name(_) | Expr::Attribute(_)) {
            return None;
        }
        let Some(Callee::Path(path)) = self.callee_of(&call.func) else {
            return None;
        };
        let (verb, _) = lock_verb_of(&path)?;
        Some((verb, path))
    }

    /// Whether `body` calls `lock.release()` anywhere, nested blocks included (not in
    /// nested functions).
    fn releases_anywhere(&self, body: &[Stmt], lock: &str) -> bool {
        struct Releases<'l, 'a, 'b> {
            lowerer: &'l Lowerer<'a>,
            lock: &'b str,
            found: bool,
        }
        impl<'x> Visitor<'x> for Releases<'_, '_, '_> {
            fn visit_stmt(&mut self, stmt: &'x Stmt) {
                match stmt {
                    Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                    _ => walk_stmt(self, stmt),
                }
            }
            fn visit_expr(&mut self, expr: &'x Expr) {
                if self.lowerer.lock_call(expr, "release").as_deref() == Some(self.lock) {
                    self.found = true;
                }
                walk_expr(self, expr);
            }
        }
        let mut visitor = Releases {
            lowerer: self,
            lock,
            found: false,
        };
        for stmt in body {
            visitor.visit_stmt(stmt);
        }
        visitor.found
    }
}

/// Whether a statement contains a `return` of its own function (not of a nested
/// `def` or `lambda`).
fn may_return(stmt: &Stmt) -> bool {
    struct Returns(bool);
    impl<'a> Visitor<'a> for Returns {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Return(_) => self.0 = true,
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, _: &'a Expr) {}
    }
    let mut returns = Returns(false);
    returns.visit_stmt(stmt);
    returns.0
}

/// What a function named for a lock does to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LockVerb {
    Acquire,
    Release,
}

/// `mod._acquireLock` → (`Acquire`, `mod.lock`): the verb a function's name starts
/// with (case and underscores aside) and what it names beside it, within its module
/// (`mod._releaseLock` gives the same key), so that a pair is found by name.
pub(super) fn lock_verb_of(path: &str) -> Option<(LockVerb, String)> {
    let (module, name) = path.rsplit_once('.').unwrap_or(("", path));
    let plain: String = name
        .chars()
        .filter(|c| *c != '_')
        .collect::<String>()
        .to_lowercase();
    let (verb, rest) = if let Some(rest) = plain.strip_prefix("acquire") {
        (LockVerb::Acquire, rest)
    } else if let Some(rest) = plain.strip_prefix("release") {
        (LockVerb::Release, rest)
    } else {
        return None;
    };
    Some((verb, format!("{module}.{rest}")))
}
