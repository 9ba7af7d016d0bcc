//! Functions, lambdas' parents, decorators and classes.

use super::*;

/// Standard-library class decorators that hand back the class they are given.
const CLASS_PRESERVING_DECORATORS: &[&str] = &[
    "dataclasses.dataclass",
    "functools.total_ordering",
    "typing.final",
    "typing.runtime_checkable",
];

impl Lowerer<'_> {
    pub(super) fn function_def(&mut self, def: &StmtFunctionDef, class: Option<usize>) -> usize {
        let name = def.name.as_str();
        let decorators: Vec<CallSite> = def
            .decorator_list
            .iter()
            .filter_map(|d| self.decorator(&d.expression))
            .collect();
        let is_static = decorators
            .iter()
            .any(|d| d.callee == Callee::Path("staticmethod".to_string()));
        let (path, display, class_path) = match class {
            Some(c) => {
                let class = &self.classes[c];
                (
                    format!("{}.{name}", class.path),
                    format!("{}.{name}", class.name),
                    Some(class.path.clone()),
                )
            }
            None if self.scope().is_module => (self.qualify(name), name.to_string(), None),
            None => {
                let parent = &self.functions[self.scope().func];
                (
                    format!("{}.{name}", parent.path),
                    format!("{}.{name}", parent.display),
                    None,
                )
            }
        };
        let return_type = def
            .returns
            .as_deref()
            .and_then(|r| self.annotation_type(r))
            .map(|ty| match (ty.as_str(), &class_path) {
                ("typing.Self" | "typing_extensions.Self", Some(class)) => class.clone(),
                _ => ty,
            });
        let return_items = def
            .returns
            .as_deref()
            .map(|r| self.item_annotations(r))
            .unwrap_or_default();
        let index = self.push_function(Function {
            path: path.clone(),
            display,
            name: name.to_string(),
            class: class_path,
            is_async: def.is_async,
            span: self.span_of(&def.name),
            decorators: decorators.into(),
            calls: Vec::new(),
            accesses: Vec::new(),
            awaits: ThinVec::new(),
            is_initializer: class.is_some() && INITIALIZERS.contains(&name),
            nested: !self.scope().is_module && class.is_none(),
            parent: (!self.scope().is_module && class.is_none()).then(|| self.scope().func),
            return_type,
            return_items: return_items.into(),
            ..Function::default()
        });
        if !self.scope().is_module && class.is_none() {
            self.scope_mut().imports.insert(name.to_string(), path);
        }
        let first_line = self.span_of(def).start.line;
        let name_line = self.span_of(&def.name).start.line;
        self.functions[index].declared_context = self.declared_context_at(name_line, first_line);
        let receiver = usize::from(class.is_some() && !is_static);
        self.functions[index].positional_params =
            (def.parameters.posonlyargs.len() + def.parameters.args.len()).saturating_sub(receiver);
        self.functions[index].call_params = def
            .parameters
            .posonlyargs
            .iter()
            .chain(&def.parameters.args)
            .skip(receiver)
            .chain(&def.parameters.kwonlyargs)
            .map(|p| p.name().as_str().to_string())
            .collect();

        let bindings = scope::bindings(&def.body);
        let mut scope = Scope::new(index, false);
        scope.class = class;
        scope.captured = scope::captured(&def.body, &bindings.locals);
        scope.rebound = bindings.rebound;
        let rebound_by_nested = scope::rebound_by_nested(&def.body);
        scope.rebound.extend(rebound_by_nested.iter().cloned());
        // A parameter the body binds is not the caller's object everywhere.
        scope.rebound.extend(
            def.parameters
                .iter()
                .map(|p| p.name().as_str())
                .filter(|name| {
                    bindings.locals.contains(*name) && !bindings.augmented.contains(*name)
                })
                .map(str::to_string),
        );
        // A parameter holds the caller's object until its first binding.
        scope.built_each = bindings
            .built_each
            .into_iter()
            .filter(|(name, _)| {
                !def.parameters.iter().any(|p| p.name().as_str() == name)
                    && !rebound_by_nested.contains(name)
            })
            .collect();
        scope.locals = bindings.locals;
        scope.globals = bindings.globals;
        scope.nonlocals = bindings.nonlocals;
        scope.vararg = def
            .parameters
            .vararg
            .as_ref()
            .map(|v| v.name.as_str().to_string());
        for param in def.parameters.iter() {
            let param_name = param.name().as_str().to_string();
            // `*args: T` annotates each argument (a tuple of `T`s); `**kw: T` each value
            // of a dict keyed by name: neither names the parameter's own type.
            if param.is_variadic() {
                let vararg = def
                    .parameters
                    .vararg
                    .as_ref()
                    .is_some_and(|v| v.name.as_str() == param_name);
                if let Some(annotation) = param.annotation().filter(|_| vararg) {
                    if let Some(ty) = self.annotation_type(annotation) {
                        scope.elements.insert(param_name.clone(), ty);
                    }
                    let items = self.item_annotations(annotation);
                    if !items.is_empty() {
                        scope.element_items.insert(param_name.clone(), items);
                    }
                }
                scope.locals.insert(param_name);
                continue;
            }
            if let Some(ty) = param.annotation().and_then(|a| self.annotation_type(a)) {
                scope.types.insert(param_name.clone(), ty);
            }
            if let Some(element) = param.annotation().and_then(|a| self.element_annotation(a)) {
                scope.elements.insert(param_name.clone(), element);
            }
            let items = param
                .annotation()
                .map(|a| self.item_annotations(a))
                .unwrap_or_default();
            if !items.is_empty() {
                scope.items.insert(param_name.clone(), items);
            }
            let element_items = param
                .annotation()
                .map(|a| self.element_item_annotations(a))
                .unwrap_or_default();
            if !element_items.is_empty() {
                scope
                    .element_items
                    .insert(param_name.clone(), element_items);
            }
            scope.locals.insert(param_name);
        }
        if class.is_some() && !is_static {
            scope.self_name = def
                .parameters
                .posonlyargs
                .iter()
                .chain(&def.parameters.args)
                .next()
                .map(|p| p.name().as_str().to_string());
        }
        if class.is_some() && def.name.as_str() == "__init__" {
            self.functions[index].body_start = self.body_start(&def.body);
            if let Some(receiver) = &scope.self_name {
                scope.private_fields = ownership::private_fields(&def.body, receiver);
            }
        }
        self.functions[index].defined_under = self
            .platform_tests_at(def.range().start().to_usize())
            .into();
        self.scopes.push(scope);
        self.note_platform_exits(&def.body);
        for stmt in &def.body {
            self.visit_stmt(stmt);
        }
        // An `__enter__` that acquires a lock and returns leaves it held for the body
        // of the `with` (its `__exit__` releases it), and so does an object's own
        // `acquire()` for the code up to its `release()` (logging's `Handler.acquire`
        // takes the handler's I/O lock): only an `acquire()` that every run makes, a
        // statement of the body itself before any `return`.
        let lock_function = class.is_none()
            && super::statements::lock_verb_of(name)
                .is_some_and(|(verb, _)| verb == super::statements::LockVerb::Acquire);
        if class.is_some() && (name == "__enter__" || name == "acquire") || lock_function {
            self.functions[index].leaves_held = self.unconditional_acquires(&def.body).into();
        }
        let scope = self.scopes.pop();
        self.functions[index].is_generator =
            scope.as_ref().is_some_and(|s| s.held_at_yields.is_some());
        if !def.is_async {
            if let Some(held) = scope.as_ref().and_then(|s| s.held_at_yields.clone()) {
                self.functions[index].leaves_held = held.into();
            }
        }
        if scope.as_ref().is_some_and(|scope| scope.returns_other) {
            self.functions[index].returns_fresh.clear();
        }
        self.functions[index].returns_argument = matches!(def.body.last(), Some(Stmt::Return(_)))
            && scope.is_some_and(|scope| scope.returns_first_parameter == Some(true));
        index
    }

    pub(super) fn decorator(&mut self, expr: &Expr) -> Option<CallSite> {
        let (func, call) = match expr {
            Expr::Call(call) => (&*call.func, Some(call)),
            other => (other, None),
        };
        let callee = self.callee_of(func)?;
        let (args, keywords) = match call {
            Some(call) => (
                call.arguments
                    .args
                    .iter()
                    .map(|a| self.lower_arg(a))
                    .collect(),
                call.arguments
                    .keywords
                    .iter()
                    .filter_map(|k| {
                        let arg = self.lower_arg(&k.value);
                        k.arg.as_ref().map(|n| (n.as_str().to_string(), arg))
                    })
                    .collect(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        Some(CallSite {
            callee,
            span: self.span_of(expr),
            text: format!("@{}", self.text_of(expr)),
            args: args.into(),
            keywords: keywords.into(),
            locks: ThinVec::new(),
            async_locks: ThinVec::new(),
            in_loop: false,
            loop_start: None,
            awaited: false,
            statement_lines: self.statement_lines,
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
        })
    }

    /// Whether the class's annotated class-body names are fields each instance sets
    /// (`field_per_instance` says which): a dataclass (`@dataclass`, attrs' `@define`), a
    /// `TypedDict`, a `NamedTuple` or a pydantic model. The default stays in the class
    /// (or in a slot descriptor) and every instance gets a value of its own.
    fn declares_fields(&self, def: &StmtClassDef, bases: &[String]) -> bool {
        const FIELD_BASES: &[&str] = &[
            "typing.TypedDict",
            "typing_extensions.TypedDict",
            "typing.NamedTuple",
            "typing_extensions.NamedTuple",
            "pydantic.BaseModel",
            "pydantic.main.BaseModel",
        ];
        const FIELD_DECORATORS: &[&str] = &[
            "dataclasses.dataclass",
            "pydantic.dataclasses.dataclass",
            "attr.s",
            "attr.attrs",
            "attr.define",
            "attr.frozen",
            "attr.mutable",
            "attrs.define",
            "attrs.frozen",
            "attrs.mutable",
        ];
        bases.iter().any(|b| FIELD_BASES.contains(&b.as_str()))
            || def.decorator_list.iter().any(|d| {
                let decorator = match &d.expression {
                    Expr::Call(call) => &*call.func,
                    other => other,
                };
                matches!(self.callee_of(decorator),
                    Some(Callee::Path(p)) if FIELD_DECORATORS.contains(&p.as_str()))
            })
    }

    /// Whether an annotated name of a class that declares fields (`declares_fields`)
    /// gets a value per instance: not a `ClassVar`, and with no default, a constant one,
    /// or one a field specifier makes (`field(default_factory=list)`). A default object
    /// (`[]` in attrs, `Registry()`) is one object every instance shares.
    fn field_per_instance(&self, annotation: &Expr, value: Option<&Expr>) -> bool {
        let head = match annotation {
            Expr::Subscript(s) => &*s.value,
            other => other,
        };
        let class_var = matches!(self.callee_of(head),
            Some(Callee::Path(p)) if p == "typing.ClassVar" || p == "typing_extensions.ClassVar");
        !class_var
            && match value {
                None => true,
                Some(Expr::Call(call)) => matches!(self.callee_of(&call.func),
                    Some(Callee::Path(p)) if matches!(p.rsplit('.').next(), Some("field" | "Field" | "ib" | "attrib"))),
                Some(other) => !is_display(other),
            }
    }

    /// Whether the class statement lets code of its own run when the class is called
    /// (`Class::custom_call`): a metaclass from outside the standard library (or from
    /// `enum`, whose members are looked up, not built), a decorator that may wrap the
    /// class (called with arguments, or from the standard library but for those that
    /// return it as it was: `functools.cache` hands back one instance), or a base that
    /// names no class. A decorator named by a path of the project's goes to
    /// `decorated_by`, for the analysis to judge (it may be a library's too).
    fn custom_call(&self, def: &StmtClassDef, decorated_by: &mut Vec<String>) -> bool {
        let standard = |expr: &Expr| match self.callee_of(expr) {
            Some(Callee::Path(path)) => {
                let module = path.split('.').next().unwrap_or_default();
                module != "enum" && crate::python::is_stdlib_module(module)
                    || matches!(module, "object" | "type")
            }
            _ => false,
        };
        let decorated = def.decorator_list.iter().any(|d| {
            let (callee, called) = match &d.expression {
                Expr::Call(call) => (&*call.func, true),
                other => (other, false),
            };
            match self.callee_of(callee) {
                Some(Callee::Path(path))
                    if CLASS_PRESERVING_DECORATORS.contains(&path.as_str()) =>
                {
                    false
                }
                // A project function named as the decorator: the analysis reads it.
                Some(Callee::Path(path)) if !called => {
                    let module = path.split('.').next().unwrap_or_default();
                    if crate::python::is_stdlib_module(module) {
                        return true;
                    }
                    decorated_by.push(path);
                    false
                }
                _ => true,
            }
        });
        let metaclass = def
            .arguments
            .iter()
            .flat_map(|a| a.keywords.iter())
            .any(|k| {
                k.arg
                    .as_ref()
                    .is_some_and(|name| name.as_str() == "metaclass")
                    && !standard(&k.value)
            });
        // A builtin base (`dict`) resolves to no path of the module's.
        let unnamed_base = def.arguments.iter().flat_map(|a| a.args.iter()).any(|b| {
            let base = match b {
                Expr::Subscript(s) => &*s.value,
                other => other,
            };
            let builtin = matches!(base, Expr::Name(n)
                if matches!(self.resolve_name(n.id.as_str()), Resolution::Unknown));
            !builtin && !matches!(self.callee_of(base), Some(Callee::Path(_)))
        });
        decorated || metaclass || unnamed_base
    }

    pub(super) fn class_def(&mut self, def: &StmtClassDef) {
        let name = def.name.as_str();
        let path = if self.scope().is_module {
            self.qualify(name)
        } else {
            format!("{}.{name}", self.functions[self.scope().func].path)
        };
        let bases = def
            .arguments
            .iter()
            .flat_map(|a| a.args.iter())
            // A generic base (`DataUpdateCoordinator[Data]`) is its class.
            .map(|b| match b {
                Expr::Subscript(s) => &*s.value,
                other => other,
            })
            .filter_map(|b| match self.callee_of(b)? {
                Callee::Path(p) => Some(p),
                Callee::Method(_) => None,
            })
            .collect::<Vec<String>>();
        let declares_fields = self.declares_fields(def, &bases);
        let mut decorated_by = Vec::new();
        let custom_call = self.custom_call(def, &mut decorated_by);
        self.classes.push(Class {
            path: path.clone(),
            name: name.to_string(),
            span: self.span_of(&def.name),
            bases,
            methods: Vec::new(),
            attributes: Vec::new(),
            invariant: None,
            held_fields: Vec::new(),
            body_start: self.body_start(&def.body),
            custom_call,
            decorated_by,
            sets_attributes_by_name: false,
        });
        let class = self.classes.len() - 1;
        if !self.scope().is_module {
            self.scope_mut().imports.insert(name.to_string(), path);
        }
        for stmt in &def.body {
            match stmt {
                Stmt::FunctionDef(f) => {
                    let index = self.function_def(f, Some(class));
                    self.classes[class]
                        .methods
                        .push((f.name.as_str().to_string(), index));
                }
                Stmt::Assign(a) => {
                    self.visit_expr(&a.value);
                    for target in &a.targets {
                        if let Expr::Name(n) = target {
                            let ty = self.constructor_of(&a.value);
                            let span = self.span_of(target);
                            let invariant = self.invariant_at(span.start.line, Some(class));
                            let def = AttributeDef {
                                ty,
                                element: None,
                                span,
                                class_level: true,
                                instance_field: false,
                                immutable_default: is_immutable_literal(&a.value),
                                invariant,
                                none: a.value.is_none_literal_expr(),
                            };
                            add_attribute(&mut self.classes[class], n.id.as_str(), def);
                        }
                    }
                }
                Stmt::AnnAssign(a) => {
                    if let Some(value) = &a.value {
                        self.visit_expr(value);
                    }
                    if let Expr::Name(n) = &*a.target {
                        let ty = a
                            .value
                            .as_deref()
                            .and_then(|v| self.constructor_of(v))
                            .or_else(|| self.annotation_type(&a.annotation));
                        let span = self.span_of(&*a.target);
                        let invariant = self.invariant_at(span.start.line, Some(class));
                        let def = AttributeDef {
                            ty,
                            element: self.element_annotation(&a.annotation),
                            span,
                            class_level: true,
                            instance_field: declares_fields
                                && self.field_per_instance(&a.annotation, a.value.as_deref()),
                            immutable_default: a.value.as_deref().is_none_or(is_immutable_literal),
                            invariant,
                            none: a.value.as_deref().is_none_or(Expr::is_none_literal_expr),
                        };
                        add_attribute(&mut self.classes[class], n.id.as_str(), def);
                    }
                }
                other => self.visit_stmt(other),
            }
        }
        self.classes[class].invariant = self.class_invariant(def, class);
        self.classes[class].held_fields = self.held_fields(def);
        if self.scope().is_module {
            self.symbols.push(Symbol {
                name: name.to_string(),
                kind: SymbolKind::Class(class),
                span: self.span_of(&def.name),
                invariant: None,
            });
        }
    }
}

impl Lowerer<'_> {
    /// Where a new first statement of `body` goes: the line after a leading docstring
    /// (which must stay first to stay the docstring), else the first statement's line.
    /// `None` when the body shares its line with the header (`def f(): pass`) or the
    /// docstring shares its line with another statement.
    pub(super) fn body_start(&self, body: &[Stmt]) -> Option<InsertionPoint> {
        let first = body.first()?;
        let start = first.range().start().to_usize();
        let line_start = self.src[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent = &self.src[line_start..start];
        if !indent.chars().all(|c| c == ' ' || c == '\t') {
            return None;
        }
        let docstring = matches!(first, Stmt::Expr(e) if e.value.is_string_literal_expr());
        let offset = if docstring {
            self.next_line(first.range().end().to_usize())?
        } else {
            line_start
        };
        Some(InsertionPoint {
            offset,
            indent: indent.to_string(),
        })
    }

    /// Where a new module-level statement goes after the module's docstring and its
    /// leading imports; before the first statement when there are neither.
    pub fn after_imports(&self, body: &[Stmt]) -> Option<InsertionPoint> {
        let mut last = None;
        for (i, stmt) in body.iter().enumerate() {
            let leading = match stmt {
                Stmt::Import(_) | Stmt::ImportFrom(_) => true,
                Stmt::Expr(e) => i == 0 && e.value.is_string_literal_expr(),
                _ => false,
            };
            if !leading {
                break;
            }
            last = Some(stmt.range().end().to_usize());
        }
        let offset = match last {
            Some(end) => self.next_line(end)?,
            None => {
                let start = body.first()?.range().start().to_usize();
                self.src[..start].rfind('\n').map_or(0, |i| i + 1)
            }
        };
        Some(InsertionPoint {
            offset,
            indent: String::new(),
        })
    }

    /// The start of the line after `end`, when only blanks or a comment follow `end`
    /// on its line.
    fn next_line(&self, end: usize) -> Option<usize> {
        let rest = self.src.get(end..)?;
        let newline = rest.find('\n')?;
        let tail = rest[..newline].trim();
        (tail.is_empty() || tail.starts_with('#')).then_some(end + newline + 1)
    }
}

/// Whether a class-body value is a literal of an immutable type: a number, string,
/// bytes, boolean, `None`, `...`, or a tuple of such.
fn is_immutable_literal(value: &Expr) -> bool {
    match value {
        Expr::NumberLiteral(_)
        | Expr::StringLiteral(_)
        | Expr::BytesLiteral(_)
        | Expr::BooleanLiteral(_)
        | Expr::NoneLiteral(_)
        | Expr::EllipsisLiteral(_) => true,
        Expr::UnaryOp(op) => matches!(&*op.operand, Expr::NumberLiteral(_)),
        Expr::Tuple(t) => t.elts.iter().all(is_immutable_literal),
        _ => false,
    }
}
