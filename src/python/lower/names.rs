//! How names in one module resolve: module-level bindings, imports (relative ones
//! included), `self`, typed and aliased locals, and the chains that denote locations.

use super::ownership::{class_like, LOWERCASE_CLASSES};
use super::*;
use crate::python::scope::names_a_callee;

impl Lowerer<'_> {
    /// Top-level bindings, including those inside `if`/`try`/`with` blocks.
    pub(super) fn collect_module_names(&mut self, body: &[Stmt]) {
        for stmt in body {
            match stmt {
                Stmt::Import(_) | Stmt::ImportFrom(_) => {
                    for (name, path) in self.import_bindings(stmt) {
                        self.module_names.insert(name, path);
                    }
                }
                Stmt::FunctionDef(StmtFunctionDef { name, .. })
                | Stmt::ClassDef(StmtClassDef { name, .. }) => {
                    let path = self.qualify(name.as_str());
                    self.module_names.insert(name.as_str().to_string(), path);
                }
                Stmt::Assign(_) | Stmt::AnnAssign(_) | Stmt::AugAssign(_) | Stmt::For(_) => {
                    for name in scope::bindings(std::slice::from_ref(stmt)).locals {
                        let path = self.qualify(&name);
                        self.module_names.insert(name, path);
                    }
                }
                Stmt::TypeAlias(t) => {
                    if let Expr::Name(name) = &*t.name {
                        let path = self.qualify(name.id.as_str());
                        self.module_names.insert(name.id.as_str().to_string(), path);
                    }
                }
                Stmt::If(s) => {
                    self.collect_module_names(&s.body);
                    for clause in &s.elif_else_clauses {
                        self.collect_module_names(&clause.body);
                    }
                }
                Stmt::Try(s) => {
                    self.collect_module_names(&s.body);
                    for ExceptHandler::ExceptHandler(h) in &s.handlers {
                        self.collect_module_names(&h.body);
                    }
                    self.collect_module_names(&s.orelse);
                    self.collect_module_names(&s.finalbody);
                }
                Stmt::With(s) => self.collect_module_names(&s.body),
                _ => {}
            }
        }
    }

    /// Module-level names whose every binding is a top-level assignment of a class's
    /// construction (`POOL = ThreadPoolExecutor()`): objects, however they are named.
    /// A name bound any other way too (`Impl = Pick()` then `Impl = Job`, an import, a
    /// function's `global` assignment, a binding in a block) may be a class.
    pub(super) fn collect_module_objects(&mut self, body: &[Stmt]) {
        let mut constructed = HashSet::default();
        let mut other = scope::declared_globals(body);
        for stmt in body {
            let built = match stmt {
                Stmt::Assign(assign) => match (assign.targets.as_slice(), &*assign.value) {
                    ([Expr::Name(name)], Expr::Call(call)) if names_a_callee(&call.func) => {
                        let constructor = match &*call.func {
                            Expr::Name(n) => n.id.as_str(),
                            Expr::Attribute(a) => a.attr.as_str(),
                            _ => "",
                        };
                        class_like(constructor).then_some(name.id.as_str())
                    }
                    _ => None,
                },
                _ => None,
            };
            for name in scope::bindings(std::slice::from_ref(stmt)).locals {
                if built == Some(name.as_str()) {
                    constructed.insert(name);
                } else {
                    other.insert(name);
                }
            }
        }
        constructed.retain(|name| !other.contains(name));
        self.module_objects = constructed;
    }

    /// `(bound name, canonical path)` for an import statement.
    pub(super) fn import_bindings(&self, stmt: &Stmt) -> Vec<(String, String)> {
        match stmt {
            Stmt::Import(i) => i
                .names
                .iter()
                .map(|alias| match &alias.asname {
                    Some(asname) => (asname.as_str().to_string(), alias.name.as_str().to_string()),
                    None => {
                        let first = alias.name.as_str().split('.').next().unwrap_or_default();
                        (first.to_string(), first.to_string())
                    }
                })
                .collect(),
            Stmt::ImportFrom(i) => {
                let base = self.import_base(i.level, i.module.as_ref().map(|m| m.as_str()));
                i.names
                    .iter()
                    .filter(|alias| alias.name.as_str() != "*")
                    .map(|alias| {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                        let path = if base.is_empty() {
                            alias.name.as_str().to_string()
                        } else {
                            format!("{base}.{}", alias.name.as_str())
                        };
                        (bound.to_string(), path)
                    })
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The absolute module a `from ... import` refers to.
    pub(super) fn import_base(&self, level: u32, module: Option<&str>) -> String {
        let mut base = if level == 0 {
            String::new()
        } else {
            let mut package = self.package.clone();
            for _ in 1..level {
                package = package
                    .rsplit_once('.')
                    .map(|(p, _)| p.to_string())
                    .unwrap_or_default();
            }
            package
        };
        if let Some(module) = module {
            if !base.is_empty() {
                base.push('.');
            }
            base.push_str(module);
        }
        base
    }

    pub(super) fn resolve_name(&self, name: &str) -> Resolution {
        for scope in self.scopes.iter().rev() {
            if scope.is_module {
                break;
            }
            if scope.self_name.as_deref() == Some(name) {
                if let Some(class) = scope.class {
                    return Resolution::Path(self.classes[class].path.clone());
                }
            }
            if let Some(alias) = scope.aliases.get(name) {
                return Resolution::Alias(alias.clone());
            }
            if let Some(ty) = scope.types.get(name) {
                return Resolution::Typed(ty.clone());
            }
            if let Some(path) = scope.imports.get(name) {
                return Resolution::Path(path.clone());
            }
            if scope.globals.contains(name) {
                break;
            }
            if scope.locals.contains(name) {
                return Resolution::Local;
            }
        }
        match self.module_names.get(name) {
            Some(path) => Resolution::Path(path.clone()),
            None => Resolution::Unknown,
        }
    }

    /// The closure cell a name denotes here, if it is one (`mod.main.results` for the
    /// local `results` of `main` that a nested function names): one variable for `main`
    /// and the nested functions, whichever thread runs them. Not a parameter nor a
    /// local bound to shared state (`job = jobs[k]`): those keep the identity of what
    /// they hold.
    fn cell_of(&self, name: &str) -> Option<String> {
        for scope in self.scopes.iter().rev() {
            if scope.is_module || scope.globals.contains(name) {
                return None;
            }
            if scope.nonlocals.contains(name) {
                continue;
            }
            if scope.locals.contains(name) {
                let function = &self.functions[scope.func];
                let cell = scope.captured.contains(name)
                    && scope.self_name.as_deref() != Some(name)
                    && !function.call_params.iter().any(|p| p == name)
                    && !scope.aliases.contains_key(name);
                return cell.then(|| format!("{}.{name}", function.path));
            }
        }
        None
    }

    /// The location an expression names, as calls see it (a typed local by its type,
    /// so that its methods resolve).
    pub(super) fn chain(&self, expr: &Expr) -> Option<Chain> {
        self.chain_in(expr, false)
    }

    /// The location an expression names; with `cells`, a closure cell by the cell
    /// (`cell_of`), which is what accesses touch.
    fn chain_in(&self, expr: &Expr, cells: bool) -> Option<Chain> {
        match expr {
            Expr::Name(n) => {
                if let Some(path) = self.cell_of(n.id.as_str()).filter(|_| cells) {
                    return Some(Chain::location(path));
                }
                let (path, via_alias, bare_instance, root, depth) = match self
                    .resolve_name(n.id.as_str())
                {
                    Resolution::Path(path) => {
                        (path, false, false, self.parameter_slot(n.id.as_str()), 0)
                    }
                    Resolution::Alias(alias) => (alias.path, true, false, alias.root, alias.depth),
                    Resolution::Typed(path) => {
                        (path, false, true, self.parameter_slot(n.id.as_str()), 0)
                    }
                    // A parameter of no known type, still what the caller passed: a
                    // location each caller decides (`Function::param_accesses`).
                    Resolution::Local if cells => match self.passed_parameter(n.id.as_str()) {
                        Some(slot) if slot > 0 => {
                            (parameter_path(slot), false, false, Some(slot), 0)
                        }
                        _ => return None,
                    },
                    Resolution::Local | Resolution::Unknown => return None,
                };
                let scope = self.scope();
                let fresh = bare_instance && scope.fresh.contains(n.id.as_str());
                // Handed to a call that may keep it: the analysis decides whether the
                // object is shared from there on.
                let handed_at = scope.handed.get(n.id.as_str()).copied().filter(|_| fresh);
                let built_at = scope.built.get(n.id.as_str()).copied().filter(|_| fresh);
                Some(Chain {
                    path,
                    inner: false,
                    via_alias,
                    bare_instance,
                    private: fresh && handed_at.is_none(),
                    handed_at,
                    built_at,
                    root,
                    depth,
                    fetched: via_alias && depth >= 1 && self.bound_once(n.id.as_str()),
                })
            }
            Expr::Attribute(a) if a.attr.as_str() == "__class__" => {
                self.class_of_receiver(&a.value)
            }
            Expr::Call(c)
                if c.arguments.args.len() == 1
                    && c.arguments.keywords.is_empty()
                    && matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "type"
                        && matches!(self.resolve_name("type"), Resolution::Unknown)) =>
            {
                self.class_of_receiver(&c.arguments.args[0])
            }
            Expr::Attribute(a) => {
                let mut chain = self.chain_in(&a.value, cells)?;
                // Only the fields of a parameter's own object are its own: what a field
                // holds (`self.hass.data`, `data.x` after `data = self.data`) may have
                // come from anywhere.
                if !matches!(&*a.value, Expr::Name(_)) || chain.via_alias {
                    chain.root = None;
                }
                // A local that aliases a location itself (`hub = call.hub`) holds the
                // object stored there: its attributes are that object's fields, as
                // `call.hub.data` names them, not the inside of the location.
                if chain.inner || (chain.via_alias && chain.depth > 0) {
                    chain.inner = true;
                    chain.depth = chain.depth.saturating_add(1);
                } else {
                    chain.path.push('.');
                    chain.path.push_str(a.attr.as_str());
                    chain.bare_instance = false;
                    chain.via_alias = false;
                }
                Some(chain)
            }
            Expr::Subscript(s) => {
                let mut chain = match &*s.value {
                    Expr::Name(n) => match self.looked_up_entry(n.id.as_str()) {
                        Some(entry) => entry,
                        None => self.chain_in(&s.value, cells)?,
                    },
                    value => self.chain_in(value, cells)?,
                };
                chain.inner = true;
                chain.depth = chain.depth.saturating_add(1);
                Some(chain)
            }
            _ => None,
        }
    }

    /// The entry a local looked up by key holds (`Scope::looked_up`), as an alias of
    /// it would name it, unless an inner scope binds the name otherwise.
    fn looked_up_entry(&self, name: &str) -> Option<Chain> {
        let scope = self.scopes.last().filter(|s| !s.is_module)?;
        let entry = scope
            .looked_up
            .get(name)
            .filter(|_| self.bound_once(name))?;
        Some(Chain {
            root: entry.root,
            depth: entry.depth,
            via_alias: true,
            fetched: true,
            ..Chain::location(entry.path.clone())
        })
    }

    /// Whether the function whose local `name` is binds it once: then what it holds
    /// wherever it is read is what that binding gave, on every path (`Access::fetched`).
    fn bound_once(&self, name: &str) -> bool {
        self.scopes
            .iter()
            .rev()
            .take_while(|s| !s.is_module)
            .find(|s| s.locals.contains(name))
            .is_some_and(|s| !s.rebound.contains(name))
    }

    /// `type(self)` and `self.__class__`: the method's class itself, so that
    /// `type(self).x` names the class attribute `x` that `cls.x` and `C.x` name. It starts
    /// at no parameter slot: the class object is shared by every instance, not the one
    /// under construction.
    fn class_of_receiver(&self, receiver: &Expr) -> Option<Chain> {
        let Expr::Name(n) = receiver else {
            return None;
        };
        let scope = self
            .scopes
            .iter()
            .rev()
            .find(|s| !s.is_module && s.class.is_some())?;
        if scope.self_name.as_deref() != Some(n.id.as_str()) {
            return None;
        }
        Some(Chain::location(self.classes[scope.class?].path.clone()))
    }

    /// The class whose bases `super()` searches, in a method: the method's own class
    /// (`super()`, `super(Own, self)`), or the class named (`super(Other, self)`). The
    /// analysis takes the first of its bases, in order, that has the member
    /// (`model::SUPER`); that is the method resolution order unless a subclass mixes in
    /// another class after this one (a diamond), which this does not follow.
    pub(super) fn super_base(&self, expr: &Expr) -> Option<String> {
        let Expr::Call(call) = expr else {
            return None;
        };
        let Expr::Name(name) = &*call.func else {
            return None;
        };
        let scope = self.scopes.iter().rev().find(|s| !s.is_module)?;
        let self_name = scope.self_name.as_deref()?;
        if name.id.as_str() != "super" || !matches!(self.resolve_name("super"), Resolution::Unknown)
        {
            return None;
        }
        let own = &self.classes[scope.class?];
        let arguments = &call.arguments;
        if !arguments.keywords.is_empty() {
            return None;
        }
        match &arguments.args[..] {
            [] => Some(own.path.clone()),
            [class, Expr::Name(receiver)] if receiver.id.as_str() == self_name => {
                match self.callee_of(class)? {
                    Callee::Path(path) => Some(path),
                    Callee::Method(_) => None,
                }
            }
            _ => None,
        }
    }

    /// The chain of an access through a local the function bound once to a call and
    /// keeps to itself (`rec.rows` after `rec = get_recorder()`), which `state_chain`
    /// leaves out: the object is the function's own if the call builds it, which only
    /// the analysis can tell (`Access::built_at`).
    pub(super) fn own_chain(&self, expr: &Expr) -> Option<Chain> {
        self.chain_in(expr, true)
            .filter(|c| c.private && c.built_at.is_some() && !c.bare_instance)
    }

    /// A chain that can denote shared state: not a typed local by itself.
    pub(super) fn state_chain(&self, expr: &Expr) -> Option<Chain> {
        let chain = self.chain_in(expr, true)?;
        let passed = match expr {
            Expr::Name(n) => self.passed_parameter(n.id.as_str()),
            Expr::Subscript(s) => match &*s.value {
                Expr::Name(n) => self.passed_parameter(n.id.as_str()),
                _ => None,
            },
            _ => None,
        };
        match chain.root {
            // What a typed parameter is, or holds (`jobs[k]` with `jobs: dict[str,
            // Job]`), is whatever each caller passes, as for an untyped one.
            Some(slot) if chain.bare_instance && passed == Some(slot) => Some(Chain {
                path: parameter_path(slot),
                bare_instance: false,
                ..chain
            }),
            _ => Some(chain).filter(|c| !c.bare_instance && !c.private),
        }
    }

    /// What a call of `func` runs. Calling an object runs its class's `__call__`
    /// (`handler = Handler(); handler(event)`; `h = make_handler(); h(event)`, through
    /// the factory's declared return type), not its constructor or factory once more,
    /// and what that call returns is what `__call__` returns; a container's element
    /// (`task = jobs.get(); task()`) is the callable stored there.
    pub(super) fn called(&self, func: &Expr) -> Option<Callee> {
        if let Some(class) = self.instance_receiver(func) {
            return Some(Callee::Path(format!(
                "{}.__call__",
                self.classes[class].path
            )));
        }
        if let Expr::Name(n) = func {
            if let Resolution::Typed(ty) = self.resolve_name(n.id.as_str()) {
                if !ty.ends_with(ELEMENT) {
                    return Some(Callee::Path(format!("{ty}.__call__")));
                }
            }
        }
        self.callee_of(func)
    }

    /// The class of the instance `expr` names when it is an instance method's own
    /// receiver (`self`, not a class method's `cls` nor `__new__`'s).
    fn instance_receiver(&self, expr: &Expr) -> Option<usize> {
        let Expr::Name(n) = expr else {
            return None;
        };
        let scope = self.receiver_scope(n.id.as_str())?;
        let function = &self.functions[scope.func];
        (!function.is_class_or_static_method() && function.name != "__new__")
            .then_some(scope.class)
            .flatten()
    }

    /// What a call's function expression refers to, if anything we can name.
    pub(super) fn callee_of(&self, func: &Expr) -> Option<Callee> {
        match func {
            Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                Resolution::Path(path) | Resolution::Typed(path) => Some(Callee::Path(path)),
                Resolution::Unknown => Some(Callee::Path(n.id.as_str().to_string())),
                Resolution::Alias(_) | Resolution::Local => None,
            },
            Expr::Attribute(a) => match self.chain(&a.value) {
                // `super().m()` runs a base class's `m` on the same object.
                None if self.super_base(&a.value).is_some() => self
                    .super_base(&a.value)
                    .map(|class| Callee::Path(format!("{class}.{SUPER}.{}", a.attr.as_str()))),
                // A local that is another name for a location (`ex = self.executor`)
                // calls what the location holds, as `self.executor.submit()` does.
                Some(chain)
                    if !chain.inner
                        && (!chain.via_alias || chain.depth == 0)
                        && parameter_of(&chain.path).is_none() =>
                {
                    Some(Callee::Path(format!("{}.{}", chain.path, a.attr.as_str())))
                }
                // A method of what a call returns (`runtime.stats().register`): the
                // analysis resolves it through the callee's declared return type. A
                // method of a container's element (`jobs[key].cancel()`,
                // `job.cancel()` after `job = JOBS[key]`): through its element type.
                _ => match self
                    .returned_by(&a.value)
                    .or_else(|| self.element_taken(&a.value))
                    .or_else(|| self.element_alias(&a.value))
                {
                    Some(callee) => Some(Callee::Path(format!("{callee}.{}", a.attr.as_str()))),
                    None => Some(Callee::Method(a.attr.as_str().to_string())),
                },
            },
            // A generic class given its type arguments (`Chan[AudioFrame]()`): the class.
            Expr::Subscript(s) if is_type_arguments(&s.slice) => match self.callee_of(&s.value) {
                Some(Callee::Path(class)) if generic_class_like(&class) => {
                    Some(Callee::Path(class))
                }
                _ => self.element_taken(func).map(Callee::Path),
            },
            // A callable taken from a container and called (`HANDLERS[name](x)`,
            // `self._routes.get(path)(request)`): an element of the container.
            Expr::Subscript(_) | Expr::Call(_) => self.element_taken(func).map(Callee::Path),
            _ => None,
        }
    }

    /// The type of the elements of a container expression, as a path the analysis
    /// resolves: a local or parameter annotated as a container (`jobs: dict[str, Job]`
    /// gives `Job`), or a container's location (`JOBS`, `self.jobs`, `data` after `data =
    /// self.data`) followed by `__element__`, which the analysis reads from the
    /// location's annotation.
    pub(super) fn element_path(&self, container: &Expr) -> Option<String> {
        if let Expr::Name(n) = container {
            let scoped = self
                .scopes
                .iter()
                .rev()
                .take_while(|s| !s.is_module)
                .find_map(|s| s.elements.get(n.id.as_str()));
            if let Some(element) = scoped {
                return Some(element.clone());
            }
        }
        let chain = self.chain(container)?;
        (!chain.bare_instance && chain.depth == 0 && (!chain.inner || chain.via_alias))
            .then(|| format!("{}.{ELEMENT}", chain.path))
    }

    /// The element a value takes from a container: `jobs[key]`, `jobs.get(key)`,
    /// `jobs.pop(key)`, `jobs.setdefault(key, job)` (for a mapping, a value), `queue.get()`,
    /// `pending.popleft()`.
    pub(super) fn element_taken(&self, value: &Expr) -> Option<String> {
        match value {
            Expr::Subscript(s) if !matches!(&*s.slice, Expr::Slice(_)) => self
                .indexed_item(value)
                .or_else(|| self.element_path(&s.value)),
            Expr::Call(call) => match &*call.func {
                Expr::Attribute(a)
                    if matches!(a.attr.as_str(), "get" | "pop" | "setdefault")
                        && !call.arguments.args.is_empty() =>
                {
                    self.element_path(&a.value)
                }
                // A queue's or a deque's next item, a list's last.
                Expr::Attribute(a)
                    if matches!(a.attr.as_str(), "get" | "get_nowait" | "pop" | "popleft")
                        && call.arguments.args.is_empty() =>
                {
                    self.element_path(&a.value)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// What iterating `iterable` binds each time: `(whole element, value of a pair)`,
    /// where the second is for `for key, job in jobs.items()` (and `enumerate(jobs)`).
    pub(super) fn iterated_element(&self, iterable: &Expr) -> (Option<String>, Option<String>) {
        let Expr::Call(call) = iterable else {
            return (self.element_path(iterable), None);
        };
        let single = match &*call.arguments.args {
            [only] if call.arguments.keywords.is_empty() => Some(only),
            _ => None,
        };
        match &*call.func {
            Expr::Attribute(a) if call.arguments.is_empty() => match a.attr.as_str() {
                "values" | "copy" => (self.element_path(&a.value), None),
                "items" => (None, self.element_path(&a.value)),
                _ => (None, None),
            },
            Expr::Name(n) => match (n.id.as_str(), single) {
                ("list" | "tuple" | "sorted" | "set" | "reversed", Some(inner)) => {
                    self.iterated_element(inner)
                }
                ("enumerate", Some(inner)) => (None, self.iterated_element(inner).0),
                _ => (None, None),
            },
            _ => (None, None),
        }
    }

    /// `job` after `job = JOBS[key]`: an element of the aliased container.
    fn element_alias(&self, expr: &Expr) -> Option<String> {
        let Expr::Name(n) = expr else {
            return None;
        };
        match self.resolve_name(n.id.as_str()) {
            Resolution::Alias(alias) if alias.element => Some(format!("{}.{ELEMENT}", alias.path)),
            _ => None,
        }
    }

    /// The canonical path of the function or class a call expression calls, when the
    /// file can name it (not an unknown bare name such as a builtin).
    pub(super) fn returned_by(&self, expr: &Expr) -> Option<String> {
        let Expr::Call(call) = expr else {
            return None;
        };
        if let Expr::Name(n) = &*call.func {
            if matches!(self.resolve_name(n.id.as_str()), Resolution::Unknown) {
                return None;
            }
        }
        match self.called(&call.func)? {
            Callee::Path(path) => Some(path),
            Callee::Method(_) => None,
        }
    }

    /// The type of the elements of a container annotation (`dict[str, Job]`,
    /// `list[Job]`, `Optional[set[Job]]` → `Job`): what iterating it, indexing it or
    /// `.get()` gives, for a mapping its values; and of the value a one-value holder
    /// keeps (`ContextVar[Queue]`, `weakref.ref[Manager]`).
    pub(super) fn element_annotation(&self, annotation: &Expr) -> Option<String> {
        let Expr::Subscript(s) = annotation else {
            return match annotation {
                // A forward reference: `"weakref.ref[Manager]"`.
                Expr::StringLiteral(text) => {
                    let parsed = ruff_python_parser::parse_expression(text.value.to_str()).ok()?;
                    self.element_annotation(parsed.expr())
                }
                Expr::BinOp(b) => match (&*b.left, &*b.right) {
                    (other, Expr::NoneLiteral(_)) | (Expr::NoneLiteral(_), other) => {
                        self.element_annotation(other)
                    }
                    _ => None,
                },
                _ => None,
            };
        };
        let outer = self.annotation_type(&s.value)?;
        let name = outer.rsplit('.').next().unwrap_or(&outer);
        let arguments: Vec<&Expr> = match &*s.slice {
            Expr::Tuple(t) => t.elts.iter().collect(),
            other => vec![other],
        };
        let element = match (name, arguments.as_slice()) {
            ("Optional" | "Annotated", [inner, ..]) => return self.element_annotation(inner),
            (
                "dict"
                | "Dict"
                | "Mapping"
                | "MutableMapping"
                | "defaultdict"
                | "DefaultDict"
                | "OrderedDict"
                | "ChainMap"
                | "WeakValueDictionary",
                [_, value],
            ) => value,
            (
                "list" | "List" | "set" | "Set" | "frozenset" | "FrozenSet" | "Sequence"
                | "MutableSequence" | "AbstractSet" | "MutableSet" | "Collection" | "Iterable"
                | "Iterator" | "deque" | "Deque" | "WeakSet",
                [element],
            ) => element,
            ("tuple" | "Tuple", [element, Expr::EllipsisLiteral(_)]) => element,
            // Holders of one value, which reading gives (`[element-readers]` in the
            // catalogue): `ContextVar[Queue]`'s `.get()`, `weakref.ref[Manager]`'s call.
            (_, [element])
                if matches!(
                    outer.as_str(),
                    "contextvars.ContextVar" | "weakref.ref" | "weakref.ReferenceType"
                ) =>
            {
                element
            }
            _ => return None,
        };
        self.annotation_type(element)
    }

    /// The type of each item of a fixed-length tuple annotation (`tuple[str, Job]`,
    /// `Optional[Tuple[Loop, Thread]]`), by position; empty for anything else.
    pub(super) fn item_annotations(&self, annotation: &Expr) -> Vec<Option<String>> {
        match annotation {
            Expr::StringLiteral(text) => ruff_python_parser::parse_expression(text.value.to_str())
                .map(|parsed| self.item_annotations(parsed.expr()))
                .unwrap_or_default(),
            Expr::BinOp(b) => match (&*b.left, &*b.right) {
                (other, Expr::NoneLiteral(_)) | (Expr::NoneLiteral(_), other) => {
                    self.item_annotations(other)
                }
                _ => Vec::new(),
            },
            Expr::Subscript(s) => {
                let outer = self.annotation_type(&s.value).unwrap_or_default();
                let name = outer.rsplit('.').next().unwrap_or(&outer);
                match (name, &*s.slice) {
                    ("Optional", inner) => self.item_annotations(inner),
                    ("Annotated", Expr::Tuple(t)) => t
                        .elts
                        .first()
                        .map(|inner| self.item_annotations(inner))
                        .unwrap_or_default(),
                    ("tuple" | "Tuple", Expr::Tuple(t))
                        if !t.elts.iter().any(|e| matches!(e, Expr::EllipsisLiteral(_))) =>
                    {
                        t.elts.iter().map(|e| self.annotation_type(e)).collect()
                    }
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// The item types of each element of a container annotation whose elements are
    /// tuples declared item by item (`list[tuple[str, Job]]`, `Iterable[tuple[int,
    /// Slot]]`); empty for anything else.
    pub(super) fn element_item_annotations(&self, annotation: &Expr) -> Vec<Option<String>> {
        match annotation {
            Expr::StringLiteral(text) => ruff_python_parser::parse_expression(text.value.to_str())
                .map(|parsed| self.element_item_annotations(parsed.expr()))
                .unwrap_or_default(),
            Expr::BinOp(b) => match (&*b.left, &*b.right) {
                (other, Expr::NoneLiteral(_)) | (Expr::NoneLiteral(_), other) => {
                    self.element_item_annotations(other)
                }
                _ => Vec::new(),
            },
            Expr::Subscript(s) => {
                let outer = self.annotation_type(&s.value).unwrap_or_default();
                match (outer.rsplit('.').next().unwrap_or(&outer), &*s.slice) {
                    ("Optional", inner) => self.element_item_annotations(inner),
                    (
                        "list" | "List" | "set" | "Set" | "frozenset" | "FrozenSet" | "Sequence"
                        | "MutableSequence" | "Collection" | "Iterable" | "Iterator" | "deque"
                        | "Deque",
                        element,
                    ) if !matches!(element, Expr::Tuple(_)) => self.item_annotations(element),
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// What iterating a local or parameter annotated as a container of tuples declared
    /// item by item gives, by position (`for name, job in pairs:`).
    pub(super) fn iterated_items(&self, iterable: &Expr) -> Option<&Vec<Option<String>>> {
        let Expr::Name(n) = iterable else {
            return None;
        };
        let name = n.id.as_str();
        for scope in self.scopes.iter().rev().take_while(|s| !s.is_module) {
            if let Some(items) = scope.element_items.get(name) {
                return Some(items);
            }
            if scope.locals.contains(name) {
                return None;
            }
        }
        None
    }

    /// The item types of a tuple this file declares: a local or parameter, or a module
    /// variable of this file, annotated item by item.
    fn declared_items(&self, value: &Expr) -> Option<&Vec<Option<String>>> {
        let Expr::Name(n) = value else {
            return None;
        };
        let name = n.id.as_str();
        // The innermost function that binds the name decides: its annotation, or none.
        for scope in self.scopes.iter().rev().take_while(|s| !s.is_module) {
            if let Some(items) = scope.items.get(name) {
                return Some(items);
            }
            if scope.locals.contains(name) {
                return None;
            }
        }
        match self
            .symbols
            .iter()
            .find(|s| s.name == name)
            .map(|s| &s.kind)
        {
            Some(SymbolKind::Variable { items, .. }) if !items.is_empty() => Some(items),
            _ => None,
        }
    }

    /// `PAIR[1]`: the type of the item at that position of a tuple this file declares
    /// item by item.
    pub(super) fn indexed_item(&self, value: &Expr) -> Option<String> {
        let Expr::Subscript(s) = value else {
            return None;
        };
        let Expr::NumberLiteral(n) = &*s.slice else {
            return None;
        };
        let position = n.value.as_int()?.as_usize()?;
        self.declared_items(&s.value)?.get(position)?.clone()
    }

    /// What unpacking `value` into `count` names gives each, by position: the items of
    /// a local annotated as a tuple, or, for a module variable or a call's result, a
    /// path the analysis resolves through the variable's or the function's declared
    /// tuple (`mod.PAIR.__item1__`, `mod.load.__item1__`).
    pub(super) fn unpacked_items(&self, value: &Expr, count: usize) -> Vec<Option<String>> {
        let positional = |path: String| {
            (0..count)
                .map(|k| Some(format!("{path}.{}", item_segment(k))))
                .collect()
        };
        if let Some(items) = self.declared_items(value) {
            return items.clone();
        }
        match value {
            Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                Resolution::Path(path) => positional(path),
                _ => Vec::new(),
            },
            Expr::Call(_) => self.returned_by(value).map(positional).unwrap_or_default(),
            // `reader, writer = await self._open()`: what the coroutine returns.
            Expr::Await(awaited) => match &*awaited.value {
                call @ Expr::Call(_) => self.returned_by(call).map(positional).unwrap_or_default(),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// A type annotation's canonical class path (`Optional[X]`, `X | None` → `X`).
    pub(super) fn annotation_type(&self, annotation: &Expr) -> Option<String> {
        match annotation {
            Expr::Name(_) | Expr::Attribute(_) => match self.callee_of(annotation)? {
                Callee::Path(path) => Some(path),
                Callee::Method(_) => None,
            },
            Expr::Subscript(s) => {
                let outer = self.annotation_type(&s.value)?;
                if outer.ends_with("Optional") || outer.ends_with("Annotated") {
                    match &*s.slice {
                        Expr::Tuple(t) => t.elts.first().and_then(|e| self.annotation_type(e)),
                        other => self.annotation_type(other),
                    }
                } else {
                    Some(outer)
                }
            }
            // A forward reference: `"Store"`, `"models.Store"`, `"Store | None"`.
            Expr::StringLiteral(s) => {
                let text = s.value.to_str();
                let name = text.split(['[', '|', ' ']).next().unwrap_or_default();
                let mut segments = name.split('.');
                let first = segments.next().filter(|f| !f.is_empty())?;
                let base = match self.resolve_name(first) {
                    Resolution::Path(path) | Resolution::Typed(path) => path,
                    Resolution::Unknown => first.to_string(),
                    _ => return None,
                };
                Some(segments.fold(base, |path, segment| format!("{path}.{segment}")))
            }
            Expr::BinOp(b) => match (&*b.left, &*b.right) {
                (other, Expr::NoneLiteral(_)) | (Expr::NoneLiteral(_), other) => {
                    self.annotation_type(other)
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The type of a value as far as this file knows: the constructor it calls, or the
    /// declared type of the local or parameter it names (`self.store = store` in
    /// `__init__(self, store: Store)` makes the attribute a `Store`).
    pub(super) fn value_type(&self, value: &Expr) -> Option<String> {
        match self.defaulted(value) {
            Expr::Name(n) => match self.resolve_name(n.id.as_str()) {
                Resolution::Typed(ty) => Some(ty),
                _ => None,
            },
            other => self.constructor_of(other),
        }
    }

    /// The type of what awaiting a call gives (`await integration.async_get_component()`),
    /// as a path the analysis resolves through the coroutine function's declared return
    /// type (`AWAITED`), for a local. Not an object the caller built: the coroutine hands
    /// back what it likes. An attribute keeps the first type stored in it, and a later
    /// constructor's (`self.conn = Conn()`) says more than an awaited declaration, which
    /// may name a base class or nothing racelint resolves: attributes are not typed so.
    pub(super) fn awaited_result(&self, value: &Expr) -> Option<String> {
        match value {
            Expr::Await(awaited) => self
                .constructor_of(&awaited.value)
                .map(|callee| format!("{callee}.{AWAITED}")),
            _ => None,
        }
    }

    /// The value a parameter defaults to when the caller passed nothing (`executor or
    /// self.executor`, `loop or asyncio.get_event_loop()`): the last operand of an `or`
    /// whose other operands are parameters of the function being lowered, else the value
    /// itself. The idiom names the object the function works on when its caller gives
    /// none, which is what racelint can see: the caller's object is the caller's to type.
    pub(super) fn defaulted<'e>(&self, value: &'e Expr) -> &'e Expr {
        match value {
            Expr::BoolOp(b)
                if b.op == ruff_python_ast::BoolOp::Or
                    && b.values.len() >= 2
                    && b.values[..b.values.len() - 1].iter().all(
                        |v| matches!(v, Expr::Name(n) if self.is_call_parameter(n.id.as_str())),
                    ) =>
            {
                &b.values[b.values.len() - 1]
            }
            other => other,
        }
    }

    /// The constructor a value expression calls, e.g. `threading.Lock` for `threading.Lock()`.
    pub(super) fn constructor_of(&self, value: &Expr) -> Option<String> {
        match value {
            Expr::Call(call) => match self.called(&call.func)? {
                Callee::Path(path) => Some(path),
                Callee::Method(_) => None,
            },
            _ => None,
        }
    }
}

/// Whether a subscript's index reads as type arguments (`AudioFrame`, `rtc.AudioFrame`,
/// `str, list[int]`, `None`), not as a key (`"audio"`, `name`, `0`). A bare lowercase
/// name is a variable more often than a type, unless it is a builtin type.
fn is_type_arguments(index: &Expr) -> bool {
    match index {
        Expr::Tuple(t) => !t.elts.is_empty() && t.elts.iter().all(is_type_arguments),
        Expr::Name(n) => {
            let name = n.id.as_str();
            name.chars().next().is_some_and(char::is_uppercase) || BUILTIN_TYPES.contains(&name)
        }
        Expr::Attribute(a) => a
            .attr
            .as_str()
            .chars()
            .next()
            .is_some_and(char::is_uppercase),
        Expr::Subscript(s) => is_type_arguments(&s.value),
        // A union (`Frame | None`).
        Expr::BinOp(b) => {
            b.op == ruff_python_ast::Operator::BitOr
                && is_type_arguments(&b.left)
                && is_type_arguments(&b.right)
        }
        Expr::NoneLiteral(_) => true,
        _ => false,
    }
}

/// The builtin types a generic's argument may name in lowercase.
const BUILTIN_TYPES: &[&str] = &[
    "int",
    "str",
    "bytes",
    "float",
    "bool",
    "complex",
    "object",
    "list",
    "dict",
    "set",
    "frozenset",
    "tuple",
    "type",
];

/// A name written like a class (`Chan`, `_Queue`), not like a constant table
/// (`HANDLERS`): some letter after the first is lowercase. Or one of the builtin and
/// `collections` classes named in lowercase (`deque[int]()`).
fn generic_class_like(path: &str) -> bool {
    if LOWERCASE_CLASSES.contains(&path) {
        return true;
    }
    let last = path
        .rsplit('.')
        .next()
        .unwrap_or(path)
        .trim_start_matches('_');
    last.chars().next().is_some_and(char::is_uppercase)
        && last.chars().skip(1).any(char::is_lowercase)
}
