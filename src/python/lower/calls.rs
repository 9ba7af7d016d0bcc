//! Call sites: what they call, which arguments may be callables or coroutines, the
//! receivers they read or mutate, and `acquire()`/`release()` lock calls.

use super::ownership::class_like;
use super::*;

impl Lowerer<'_> {
    pub(super) fn call(&mut self, call: &ExprCall) {
        self.note_attribute_setter(call);
        let callee = self.called(&call.func);
        let owned_args = self.owned_args(call);
        // The location and method of a call on shared state (`self._listeners.append`).
        let mut on_state = None;
        if let Expr::Attribute(a) = &*call.func {
            // Or on a field of an object the function may have built
            // (`Access::built_at`): an access only, kept if the object is not its own.
            let shared = self.state_chain(&a.value);
            let own = shared.is_none();
            if let Some(chain) = shared.or_else(|| self.own_chain(&a.value)) {
                let method = a.attr.as_str();
                if !own {
                    on_state = Some((chain.path.clone(), method));
                }
                let changes_nothing =
                    call.arguments.is_empty() && MUTATING_WITH_ARGUMENTS.contains(&method);
                let kind = if MUTATING_METHODS.contains(&method) && !changes_nothing {
                    AccessKind::Mutation
                } else if COPYING_METHODS.contains(&method) && call.arguments.is_empty() {
                    AccessKind::Iterate
                } else {
                    AccessKind::Read
                };
                let span = self.span_of(&*call.func);
                self.record_chain(chain, kind, span, Some(method));
            }
            self.visit_chain_parts(&a.value);
        } else if !matches!(&*call.func, Expr::Name(_)) {
            self.visit_expr(&call.func);
        }
        let iterates_first = matches!(&callee,
            Some(Callee::Path(p)) if ITERATING_CALLS.contains(&p.as_str()));
        let args: ThinVec<Arg> = call
            .arguments
            .args
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if i == 0 && iterates_first {
                    self.lower_iterated_arg(a)
                } else {
                    self.lower_arg(a)
                }
            })
            .collect();
        let keywords: ThinVec<(String, Arg)> = call
            .arguments
            .keywords
            .iter()
            .filter_map(|k| {
                let arg = self.lower_arg(&k.value);
                k.arg.as_ref().map(|name| (name.as_str().to_string(), arg))
            })
            .collect();
        if let Some((path, method)) = on_state {
            self.note_stored_argument(&path, method, &call.arguments.args, &args);
        }
        if let Expr::Name(n) = &*call.func {
            self.note_called_parameter(n.id.as_str(), call);
        }
        if matches!(&callee, Some(Callee::Path(p)) if p == "len") {
            if let [object] = &*call.arguments.args {
                self.protocol_call(object, "__len__", self.span_of(call));
            }
        }
        if let Some(callee) = callee {
            // Only calls that pass a callable can hand off to another context and be
            // named in a message; the rest skip the allocation.
            let text = if args_and_keywords_pass_callable(&args, &keywords) {
                self.call_text(call)
            } else {
                String::new()
            };
            let awaited = self.awaited == Some(call.range().start().to_usize());
            let mut site = self.call_site(
                callee,
                self.span_of(call),
                text,
                args,
                keywords,
                awaited,
                owned_args,
            );
            site.curried = self.curried(call).into();
            site.origins = self.origins(call).into();
            let func = self.scope().func;
            self.functions[func].calls.push(site);
        }
    }

    /// A call that stores an attribute by name, which no access records: `setattr(x,
    /// "meter", m)`, `object.__setattr__(x, "meter", m)`, `super().__setattr__("meter",
    /// m)`, `x.__dict__.update(meter=m)`.
    fn note_attribute_setter(&mut self, call: &ExprCall) {
        let args = &*call.arguments.args;
        // `setattr` or an object's namespace handed on as a value (`partial(setattr,
        // x)`, `operator.setitem(x.__dict__, k, v)`): stores racelint cannot follow.
        if args
            .iter()
            .chain(call.arguments.keywords.iter().map(|k| &k.value))
            .any(|arg| is_setattr(arg) || namespace_of(arg).is_some())
        {
            self.attributes_set_by_name = true;
        }
        // (the receiver, where the name is): `setattr(x, name, v)`; `object.__setattr__(x,
        // name, v)` or `super().__setattr__(name, v)`.
        let named = match &*call.func {
            func if is_setattr(func) => args.first().map(|x| (Some(x), 1)),
            Expr::Attribute(a) if a.attr.as_str() == "__setattr__" => match args.len() {
                3 => args.first().map(|x| (Some(x), 1)),
                _ => Some((None, 0)),
            },
            Expr::Attribute(a) => {
                if let Some(object) = namespace_of(&a.value) {
                    if a.attr.as_str() == "update" {
                        for keyword in &*call.arguments.keywords {
                            let name = keyword.arg.as_ref().map(|n| n.as_str());
                            self.note_attribute_named(name, Some(object));
                        }
                        if !args.is_empty() {
                            self.note_attribute_named(None, Some(object));
                        }
                    } else if !matches!(
                        a.attr.as_str(),
                        // Reading it, or removing attributes (a cached property's
                        // value: `o.__dict__.pop(name, None)`), stores nothing.
                        "get"
                            | "keys"
                            | "values"
                            | "items"
                            | "copy"
                            | "__contains__"
                            | "pop"
                            | "clear"
                    ) {
                        self.note_attribute_named(None, Some(object));
                    }
                }
                None
            }
            _ => None,
        };
        if let Some((receiver, at)) = named {
            match args.get(at) {
                Some(Expr::StringLiteral(name)) => {
                    self.note_attribute_named(Some(name.value.to_str()), receiver)
                }
                _ => self.note_attribute_named(None, receiver),
            }
        }
    }

    /// A store into the attribute `name` of an object no access names
    /// (`FileModel::unseen_attribute_stores`). Without a name: into any attribute of
    /// the objects of the class whose method does it through its own `self`
    /// (`setattr(self, key, v)`: `Class::sets_attributes_by_name`; no `receiver` is
    /// `super().__setattr__`'s), or of any object
    /// (`FileModel::sets_attributes_by_name`).
    pub(super) fn note_attribute_named(&mut self, name: Option<&str>, receiver: Option<&Expr>) {
        if let Some(name) = name {
            self.unseen_attribute_stores.insert(name.to_string());
            return;
        }
        let scope = self.scope();
        let own = match receiver {
            None => true,
            Some(Expr::Name(n)) => scope.self_name.as_deref() == Some(n.id.as_str()),
            Some(Expr::Call(c)) => matches!(&*c.func, Expr::Name(f) if f.id.as_str() == "super"),
            Some(_) => false,
        };
        match scope.class.filter(|_| own) {
            Some(class) => self.classes[class].sets_attributes_by_name = true,
            None => self.attributes_set_by_name = true,
        }
    }

    /// The call Python makes implicitly for a protocol (`with x:` calls
    /// `x.__enter__()`, `len(x)` calls `x.__len__()`, `x[k]` calls
    /// `x.__getitem__(k)`, `for a in x` calls `x.__iter__()`, `k in x` calls
    /// `x.__contains__(k)`), as a call site on the receiver's canonical path. The
    /// analysis resolves it when the receiver is an instance of a project class that
    /// defines the method; on other receivers it resolves to nothing.
    pub(super) fn protocol_call(&mut self, receiver: &Expr, method: &str, span: Span) {
        let typed = match receiver {
            Expr::Name(n) => matches!(
                self.resolve_name(n.id.as_str()),
                Resolution::Path(_) | Resolution::Typed(_)
            ),
            Expr::Attribute(_) => true,
            // An object built right there (`with Telnet() as tn:`), of a class.
            Expr::Call(_) => self
                .constructor_of(receiver)
                .is_some_and(|c| class_like(&c)),
            _ => false,
        };
        if !typed {
            return;
        }
        let path = match receiver {
            Expr::Call(_) => self.constructor_of(receiver),
            _ => match self.callee_of(receiver) {
                Some(Callee::Path(path)) => Some(path),
                _ => None,
            },
        };
        let Some(path) = path else {
            return;
        };
        let owned_args = match receiver {
            Expr::Call(_) => vec![OwnedArg {
                slot: ArgSlot::Receiver,
                owner: Owner::Fresh {
                    constructor: path.clone(),
                    members_passed: Vec::new(),
                },
                member: None,
                member_of: None,
                lent: false,
            }],
            Expr::Name(n) => self
                .owner_of(n.id.as_str())
                .map(|owner| OwnedArg {
                    slot: ArgSlot::Receiver,
                    owner,
                    member: None,
                    member_of: None,
                    lent: false,
                })
                .into_iter()
                .collect(),
            _ => Vec::new(),
        };
        let mut site = self.call_site(
            Callee::Path(format!("{path}.{method}")),
            span,
            String::new(),
            ThinVec::new(),
            ThinVec::new(),
            false,
            owned_args,
        );
        site.origins = self.receiver_origin(receiver).into();
        let func = self.scope().func;
        self.functions[func].calls.push(site);
    }

    #[allow(clippy::too_many_arguments)] // the fields a call site takes from its call
    fn call_site(
        &self,
        callee: Callee,
        span: Span,
        text: String,
        args: ThinVec<Arg>,
        keywords: ThinVec<(String, Arg)>,
        awaited: bool,
        owned_args: Vec<OwnedArg>,
    ) -> CallSite {
        CallSite {
            callee,
            span,
            text,
            args,
            keywords,
            locks: self.scope().held(),
            async_locks: self.scope().held_async(),
            in_loop: self.scope().loop_depth > 0,
            loop_start: (self.scope().loop_depth > 0).then_some(self.scope().loop_start),
            awaited,
            statement_lines: self.statement_lines,
            lock_block: self
                .scope()
                .locks
                .iter()
                .rev()
                .find(|l| !l.is_async)
                .and_then(|l| l.block),
            receiver_chain: ThinVec::new(),
            // Built one push at a time, the list held up to three times the room it
            // uses (a tenth of the library corpus's model); copied here to its size.
            owned_args: owned_args.into(),
            // After an early exit, the check-then-act runs from the check through here.
            checked: self
                .scope()
                .checks
                .iter()
                .flat_map(|check| check.paths.iter().map(|p| (p.clone(), check.lines)))
                .chain(self.scope().guards.iter().flat_map(|check| {
                    let lines = (check.lines.0, self.statement_lines.1);
                    check.paths.iter().map(move |p| (p.clone(), lines))
                }))
                .collect(),
            checked_holding: self
                .scope()
                .checks
                .iter()
                .chain(&self.scope().guards)
                .flat_map(|check| {
                    check
                        .locks
                        .iter()
                        .flat_map(|lock| check.paths.iter().map(|p| (p.clone(), lock.clone())))
                })
                .collect(),
            property: None,
            on_loop_thread: self.scope().on_loop_thread > 0,
            result_awaited_end: None,
            curried: ThinVec::new(),
            kept_in: None,
            origins: ThinVec::new(),
            lazy: self.scope().lazy_depth > 0,
        }
    }

    /// The arguments of `call` that are `functools.partial` objects binding positional
    /// arguments of their own (`CallSite::curried`).
    fn curried(&self, call: &ExprCall) -> Vec<ArgSlot> {
        let binds = |expr: &Expr| {
            matches!(expr, Expr::Call(c)
                if c.arguments.args.len() > 1
                    && matches!(self.callee_of(&c.func),
                        Some(Callee::Path(p)) if p == "functools.partial"))
        };
        let arguments = &call.arguments;
        let by_position = arguments.args.iter().enumerate();
        by_position
            .filter(|(_, a)| binds(a))
            .map(|(i, _)| ArgSlot::Position(i))
            .chain(
                arguments
                    .keywords
                    .iter()
                    .filter(|k| binds(&k.value))
                    .filter_map(|k| k.arg.as_ref())
                    .map(|name| ArgSlot::Keyword(name.as_str().to_string())),
            )
            .collect()
    }

    /// The call as the user wrote it, shortened for messages.
    pub(super) fn call_text(&self, call: &ExprCall) -> String {
        let full = self.text_of(call);
        if full.len() <= 60 && !full.contains('\n') {
            return full.to_string();
        }
        let func = self.text_of(&*call.func);
        let first = call
            .arguments
            .args
            .first()
            .map(|a| self.text_of(a))
            .filter(|t| t.len() <= 30 && !t.contains('\n'));
        match first {
            Some(first) => format!("{func}({first}, …)"),
            None => format!("{func}(…)"),
        }
    }

    /// An argument, as a possible callable; the argument is visited for accesses too.
    pub(super) fn lower_arg(&mut self, expr: &Expr) -> Arg {
        match expr {
            Expr::Lambda(l) => {
                if let Some(thunk) = l.parameters.is_none().then(|| self.thunk(&l.body)).flatten() {
                    return Arg::Thunk(Box::new(thunk));
                }
                if !self.scope().is_module {
                    let names = scope::captured_by_lambda(expr, &self.closable_names());
                    self.escape_captured(names);
                }
                let line = self.span_of(expr).start.line;
                let parent = self.functions[self.scope().func].path.clone();
                let index = self.push_function(Function {
                    path: format!("{parent}.<lambda@{line}>"),
                    display: format!("lambda (line {line})"),
                    name: "<lambda>".to_string(),
                    class: None,
                    is_async: false,
                    span: self.span_of(expr),
                    decorators: ThinVec::new(),
                    calls: Vec::new(),
                    accesses: Vec::new(),
                    awaits: ThinVec::new(),
                    is_initializer: false,
                    parent: (!self.scope().is_module).then(|| self.scope().func),
                    ..Function::default()
                });
                let mut scope = Scope::new(index, false);
                if let Some(params) = &l.parameters {
                    scope.locals.extend(parameter_names(params));
                }
                self.scopes.push(scope);
                self.visit_expr(&l.body);
                self.scopes.pop();
                Arg::Inline(index)
            }
            Expr::Name(n) if self.is_own_parameter(n.id.as_str()) => {
                Arg::Parameter(n.id.to_string())
            }
            // The function's own `*args` as one value (`Thread(target=fn, args=args)`):
            // the tuple of what its callers pass past its own parameters.
            Expr::Name(n)
                if self.scope().vararg.as_deref() == Some(n.id.as_str())
                    && !self.scope().rebound_params.contains(n.id.as_str()) =>
            {
                Arg::Tuple(vec![Arg::Spread(SPREAD_VARARGS.to_string())])
            }
            Expr::Name(n) => {
                self.load(expr);
                match self.resolve_name(n.id.as_str()) {
                    Resolution::Typed(ty) => Arg::Instance(ty),
                    _ => self.callee_of(expr).map_or(Arg::Other, Arg::Callable),
                }
            }
            Expr::Attribute(_) => {
                self.load(expr);
                self.callee_of(expr).map_or(Arg::Other, Arg::Callable)
            }
            Expr::Call(call)
                if matches!(self.callee_of(&call.func),
                    Some(Callee::Path(p)) if p == "functools.partial") =>
            {
                if let Some(thunk) = self.thunk(expr) {
                    return Arg::Thunk(Box::new(thunk));
                }
                let mut args = call.arguments.args.iter();
                let inner = args.next().map_or(Arg::Other, |f| self.lower_arg(f));
                for rest in args {
                    self.visit_expr(rest);
                }
                for keyword in &call.arguments.keywords {
                    self.visit_expr(&keyword.value);
                }
                inner
            }
            // `kwargs=dict(jobs=self.jobs)`: the same, by keyword.
            Expr::Call(call)
                if call.arguments.args.is_empty()
                    && !call.arguments.keywords.is_empty()
                    && call.arguments.keywords.iter().all(|k| k.arg.is_some())
                    && matches!(&*call.func, Expr::Name(n) if n.id.as_str() == "dict"
                        && matches!(self.resolve_name("dict"), Resolution::Unknown)) =>
            {
                let entries = call
                    .arguments
                    .keywords
                    .iter()
                    .filter_map(|k| Some((k.arg.as_ref()?.as_str().to_string(), &k.value)))
                    .collect::<Vec<_>>();
                self.keyword_entries(entries)
            }
            Expr::Call(call) => {
                self.visit_expr(expr);
                self.callee_of(&call.func)
                    .map_or(Arg::Other, Arg::Coroutine)
            }
            Expr::Starred(starred) => match &*starred.value {
                Expr::Name(n) if self.is_call_parameter(n.id.as_str()) => {
                    Arg::Spread(n.id.to_string())
                }
                Expr::Name(n)
                    if self.scope().vararg.as_deref() == Some(n.id.as_str())
                        && !self.scope().rebound_params.contains(n.id.as_str()) =>
                {
                    Arg::Spread(SPREAD_VARARGS.to_string())
                }
                _ => self.lower_starred(expr, &starred.value),
            },
            // `args=(queue, self.jobs)`: item by item, for an API that spreads it.
            Expr::Tuple(t) => Arg::Tuple(t.elts.iter().map(|e| self.lower_arg(e)).collect()),
            Expr::List(l) => Arg::Tuple(l.elts.iter().map(|e| self.lower_arg(e)).collect()),
            // `kwargs={"jobs": self.jobs}`: entry by entry, for an API that spreads it.
            Expr::Dict(d)
                if d.items.iter().all(|item| {
                    matches!(&item.key, Some(Expr::StringLiteral(s)) if !s.value.is_implicit_concatenated())
                }) && !d.items.is_empty() =>
            {
                let entries = d
                    .items
                    .iter()
                    .filter_map(|item| match &item.key {
                        Some(Expr::StringLiteral(s)) => Some(s.value.to_str().to_string()),
                        _ => None,
                    })
                    .zip(d.items.iter().map(|item| &item.value))
                    .collect::<Vec<_>>();
                self.keyword_entries(entries)
            }
            other => {
                self.visit_expr(other);
                Arg::Other
            }
        }
    }

    /// A dict's entries by key, as passed to keyword parameters: a key given twice
    /// passes its last value.
    fn keyword_entries(&mut self, entries: Vec<(String, &Expr)>) -> Arg {
        let mut lowered: Vec<(String, Arg)> = Vec::new();
        for (key, value) in entries {
            let arg = self.lower_arg(value);
            lowered.retain(|(k, _)| *k != key);
            lowered.push((key, arg));
        }
        Arg::Keywords(lowered)
    }

    /// A starred argument (`*[self.probe(u) for u in urls]`): the coroutines it
    /// spreads, when it spreads calls.
    fn lower_starred(&mut self, expr: &Expr, spread: &Expr) -> Arg {
        self.visit_expr(expr);
        let element = match spread {
            Expr::ListComp(c) => Some(&*c.elt),
            Expr::Generator(g) => Some(&*g.elt),
            Expr::List(l) => l.elts.first(),
            Expr::Tuple(t) => t.elts.first(),
            _ => None,
        };
        match element {
            Some(Expr::Call(call)) => self
                .callee_of(&call.func)
                .map_or(Arg::Other, Arg::Coroutine),
            _ => Arg::Spread(String::new()),
        }
    }

    /// `call` as what a thunk of a parameter does (`Arg::Thunk`): `fn(*args, **kwargs)`,
    /// `functools.partial(fn, *args, **kwargs)` (the object it builds calls so), or
    /// `ctx.run(fn, *args, **kwargs)` and its partial, where `fn` is one of the
    /// function's own parameters and `args` its own `*args`, never rebound, and every
    /// keyword is spread (`**kwargs`): the handoff's callable gets exactly the
    /// arguments the function's caller passed past its own.
    pub(super) fn thunk(&self, call: &Expr) -> Option<Thunk> {
        let Expr::Call(call) = call else {
            return None;
        };
        if call.arguments.keywords.iter().any(|k| k.arg.is_some()) {
            return None;
        }
        let own_varargs = |arg: &Expr| {
            matches!(arg, Expr::Starred(s) if matches!(&*s.value, Expr::Name(n)
                if self.scope().vararg.as_deref() == Some(n.id.as_str())
                    && !self.scope().rebound_params.contains(n.id.as_str())))
        };
        let own_parameter = |arg: &Expr| match arg {
            Expr::Name(n) if self.is_own_parameter(n.id.as_str()) => Some(n.id.to_string()),
            _ => None,
        };
        let (func, args) = match self.callee_of(&call.func) {
            Some(Callee::Path(p)) if p == "functools.partial" => {
                let (first, rest) = call.arguments.args.split_first()?;
                (first, rest)
            }
            _ => (&*call.func, &*call.arguments.args),
        };
        match args {
            [spread] if own_varargs(spread) => Some(Thunk {
                parameter: own_parameter(func)?,
                via: None,
            }),
            [parameter, spread] if own_varargs(spread) => Some(Thunk {
                parameter: own_parameter(parameter)?,
                via: Some(self.callee_of(func)?),
            }),
            _ => None,
        }
    }

    /// A parameter of the function being lowered that may hold a callable (untyped, or
    /// annotated `Callable`).
    pub(super) fn is_own_parameter(&self, name: &str) -> bool {
        self.is_call_parameter(name)
            && self
                .scope()
                .types
                .get(name)
                .is_none_or(|t| t.ends_with("Callable"))
    }

    /// `f(x)` where `f` is one of the function's own parameters, never rebound: what a
    /// caller passes there runs right at that caller's call (`analysis::invoked`), with
    /// what is held around this one and what it is given.
    fn note_called_parameter(&mut self, name: &str, call: &ExprCall) {
        let Some(slot) = self.parameter_slot(name).filter(|&slot| slot > 0) else {
            return;
        };
        let called = CalledParameter {
            index: slot - 1,
            locks: self.scope().held(),
            in_loop: self.scope().loop_depth > 0,
            origins: self.origins(call),
        };
        let func = self.scope().func;
        let calls = &mut self.functions[func].calls_parameters;
        if !calls.contains(&called) {
            calls.push(called);
        }
    }

    /// A parameter of the function being lowered, still bound to what its caller passed
    /// (whatever its annotation says).
    pub(super) fn is_call_parameter(&self, name: &str) -> bool {
        let scope = self.scope();
        !scope.is_module
            && !scope.aliases.contains_key(name)
            && self.functions[scope.func]
                .call_params
                .iter()
                .any(|p| p == name)
    }

    /// The first argument of `list(x)`, `json.dumps(x)`, …: an iteration of `x`.
    pub(super) fn lower_iterated_arg(&mut self, expr: &Expr) -> Arg {
        if let Expr::Call(call) = expr {
            if matches!(&*call.func, Expr::Attribute(view) if ITERATED_VIEWS.contains(&view.attr.as_str()))
            {
                // `list(d.items())` walks `d`.
                self.iterate(expr);
                return Arg::Other;
            }
        }
        match self.state_chain(expr) {
            Some(chain)
                if matches!(
                    expr,
                    Expr::Name(_) | Expr::Attribute(_) | Expr::Subscript(_)
                ) =>
            {
                let span = self.span_of(expr);
                self.record_chain(chain, AccessKind::Iterate, span, None);
                self.visit_chain_parts(expr);
                Arg::Other
            }
            _ => self.lower_arg(expr),
        }
    }

    /// `lock.acquire()` / `lock.release()` as a statement: the canonical lock path.
    pub(super) fn lock_call(&self, expr: &Expr, method: &str) -> Option<String> {
        let Expr::Call(call) = expr else { return None };
        let Expr::Attribute(a) = &*call.func else {
            return None;
        };
        if a.attr.as_str() != method {
            return None;
        }
        if let Expr::Name(n) = &*a.value {
            // `lock.acquire()` on a parameter: the lock each caller passes.
            if let Some(slot) = self.passed_parameter(n.id.as_str()) {
                return Some(parameter_path(slot));
            }
        }
        self.chain(&a.value).filter(|c| !c.inner).map(|c| c.path)
    }
}

impl Lowerer<'_> {
    /// `fut = call(…)`: the local now holds that call's result (any other assignment
    /// to it forgets the call).
    pub(super) fn note_result_bound(&mut self, targets: &[Expr], value: &Expr) {
        for target in targets {
            if let Expr::Name(n) = target {
                self.scope_mut().results.remove(n.id.as_str());
            }
        }
        let ([target], Expr::Call(_)) = (targets, value) else {
            return;
        };
        let span = self.span_of(value);
        let func = self.scope().func;
        let Some(index) = self.functions[func]
            .calls
            .iter()
            .rposition(|c| c.span == span)
        else {
            return;
        };
        match target {
            // A module variable keeps the thread for every function that starts it.
            Expr::Name(n)
                if self.scope().is_module || self.scope().globals.contains(n.id.as_str()) =>
            {
                let kept_in = self.state_chain(target).map(|chain| chain.path);
                self.functions[func].calls[index].kept_in = kept_in;
            }
            Expr::Name(n) => {
                self.scope_mut().results.insert(n.id.to_string(), index);
            }
            Expr::Attribute(_) => {
                let kept_in = self.state_chain(target).map(|chain| chain.path);
                self.functions[func].calls[index].kept_in = kept_in;
            }
            _ => {}
        }
    }

    /// `await fut`, or `await asyncio.wait_for(fut, 5)`: the first await of a call's
    /// result bound to a local (`CallSite::result_awaited_end`).
    pub(super) fn note_result_awaited(&mut self, operand: &Expr, span: Span) {
        let names: Vec<&str> = match operand {
            Expr::Name(n) => vec![n.id.as_str()],
            Expr::Call(call) => call
                .arguments
                .args
                .iter()
                .filter_map(|arg| match arg {
                    Expr::Name(n) => Some(n.id.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let func = self.scope().func;
        for name in names {
            if let Some(&index) = self.scope().results.get(name) {
                let end = u32::try_from(span.offset + span.len).unwrap_or(u32::MAX);
                self.functions[func].calls[index]
                    .result_awaited_end
                    .get_or_insert(end);
            }
        }
    }
}

/// `setattr` or `builtins.setattr`.
pub(super) fn is_setattr(expr: &Expr) -> bool {
    match expr {
        Expr::Name(n) => n.id.as_str() == "setattr",
        Expr::Attribute(a) => {
            a.attr.as_str() == "setattr"
                && matches!(&*a.value, Expr::Name(m) if m.id.as_str() == "builtins")
        }
        _ => false,
    }
}

/// The object whose attribute namespace `expr` is (`x.__dict__`, `vars(x)`).
pub(super) fn namespace_of(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::Attribute(a) if a.attr.as_str() == "__dict__" => Some(&a.value),
        Expr::Call(c) => match (&*c.func, &*c.arguments.args) {
            (Expr::Name(f), [object]) if f.id.as_str() == "vars" => Some(object),
            _ => None,
        },
        _ => None,
    }
}
