//! What a function owns (RacerD's ownership): objects it constructed and parameters,
//! which calls pass them on, and where they escape. `analysis::ownership` joins this
//! across calls: an access through an object nobody else can hold is not shared.

use super::*;

impl Lowerer<'_> {
    /// Who owns the object a bare name denotes in the current function: a fresh local,
    /// or a parameter (slot 0 is the receiver) the body has not rebound.
    pub(super) fn owner_of(&self, name: &str) -> Option<Owner> {
        let scope = self.scope();
        if scope.is_module {
            return None;
        }
        if scope.fresh.contains(name) {
            if scope.escaped.contains(name) {
                return None;
            }
            return scope.types.get(name).map(|constructor| Owner::Fresh {
                constructor: constructor.clone(),
                members_passed: scope.members_passed.get(name).cloned().unwrap_or_default(),
            });
        }
        self.parameter_slot(name).map(Owner::Parameter)
    }

    /// The parameter slot of `name` in the current function, if it still names it.
    /// The slot of a parameter other than the receiver that the body never binds: the
    /// caller's object wherever the body names it (`Function::param_accesses`).
    pub(super) fn passed_parameter(&self, name: &str) -> Option<usize> {
        self.parameter_slot(name).filter(|&slot| slot > 0)
    }

    /// `name` is bound anew here: if it is a parameter, it is not the caller's object
    /// from here on.
    pub(super) fn note_rebound(&mut self, name: &str) {
        if self.parameter_slot(name).is_some() {
            self.scope_mut().rebound_params.insert(name.to_string());
        }
    }

    pub(super) fn parameter_slot(&self, name: &str) -> Option<usize> {
        let scope = self.scope();
        // Bound anywhere in the body, even after this point: in a loop, a later binding
        // (`node = node.parent`) is what an earlier line sees next time round.
        if scope.is_module
            || scope.rebound_params.contains(name)
            || scope.rebound.contains(name)
            || scope.fresh.contains(name)
        {
            return None;
        }
        if scope.class.is_some() && scope.self_name.as_deref() == Some(name) {
            return Some(0);
        }
        self.functions[scope.func]
            .call_params
            .iter()
            .position(|p| p == name)
            .map(|k| k + 1)
    }

    /// The current function's locals and parameters, which a nested function or lambda
    /// may capture.
    pub(super) fn closable_names(&self) -> HashSet<String> {
        let scope = self.scope();
        let mut names = scope.locals.clone();
        names.extend(self.functions[scope.func].call_params.iter().cloned());
        names.extend(scope.self_name.iter().cloned());
        names
    }

    /// A nested function or lambda captures `names` where it is defined: whatever runs
    /// it (a thread it is handed to, a caller it is returned to) holds their objects
    /// from then on. They escape as if each were passed there as a call's argument,
    /// which `Function::keeps_params` leaves to the analysis: a helper that calls its
    /// callback and returns an `unsubscribe` closure naming it still runs it at the call.
    pub(super) fn escape_captured(&mut self, names: HashSet<String>) {
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort_unstable();
        for name in names {
            self.escape(&name, true);
        }
    }

    /// The object `name` denotes may now be held elsewhere: a fresh local is no longer
    /// owned, a parameter escapes its function. A name bound in an enclosing function
    /// and used here is captured, which lets it escape there. `passed`: only as a
    /// plain argument of a call, which the analysis follows (`Function::keeps_params`
    /// leaves it out).
    pub(super) fn escape(&mut self, name: &str, passed: bool) {
        let Some(depth) = self.scopes.iter().rposition(|s| {
            !s.is_module
                && (s.fresh.contains(name)
                    || s.self_name.as_deref() == Some(name)
                    || s.locals.contains(name)
                    || s.types.contains_key(name))
        }) else {
            return;
        };
        let scope = &mut self.scopes[depth];
        if scope.fresh.contains(name) {
            scope.escaped.insert(name.to_string());
        }
        let func = scope.func;
        let slot = if scope.class.is_some() && scope.self_name.as_deref() == Some(name) {
            Some(0)
        } else if scope.rebound_params.contains(name) {
            None
        } else {
            self.functions[func]
                .call_params
                .iter()
                .position(|p| p == name)
                .map(|k| k + 1)
        };
        if let Some(slot) = slot {
            let function = &mut self.functions[func];
            if !function.escaping_params.contains(&slot) {
                function.escaping_params.push(slot);
            }
            if !passed && !function.keeps_params.contains(&slot) {
                function.keeps_params.push(slot);
            }
        }
    }

    /// The owned objects a call passes, and the escapes it causes. A plain call
    /// (`helper(job)`, `Job(x)`) or a method of the caller's own object or of the owned
    /// object itself (`self._fill(job)`, `job.merge(x)`) keeps ownership: the callee is
    /// analysed on its own. A method of any other object (`registry.add(job)`,
    /// `queue.put(job)`, `asyncio.to_thread(f, job)`) may keep the object, so it escapes
    /// (when that call is awaited, it is recorded as lent: an awaited handoff gives it
    /// back);
    /// so does a bound method passed as a value (`Thread(target=job.run)`). Whether a
    /// parameter's member passed (`f(self.x)`) lets the parameter escape depends on
    /// what the member is and on what the call is, which `analysis::ownership` decides.
    pub(super) fn owned_args(&mut self, call: &ExprCall) -> Vec<OwnedArg> {
        let mut owned = Vec::new();
        let receiver = match &*call.func {
            Expr::Attribute(a) => match &*a.value {
                Expr::Name(n) => Some(n.id.as_str()),
                // `super().m()` calls `m` on `self`.
                super_call if self.super_base(super_call).is_some() => self
                    .scopes
                    .iter()
                    .rev()
                    .find(|s| !s.is_module)
                    .and_then(|s| s.self_name.as_deref()),
                _ => None,
            },
            _ => None,
        };
        let field = match &*call.func {
            Expr::Attribute(a) => self.constructed_field(&a.value),
            _ => None,
        };
        // `sys.audit(event, *args)` shows its arguments to the audit hooks, which
        // observe a running program and keep nothing (`smtplib`'s `connect` audits
        // `self`): no escape.
        let audit = matches!(self.callee_of(&call.func), Some(Callee::Path(p)) if p == "sys.audit");
        let keeps = match &*call.func {
            Expr::Name(_) => true,
            Expr::Attribute(_) if audit => true,
            Expr::Attribute(_) => {
                field.is_some()
                    || receiver.is_some_and(|r| match self.owner_of(r) {
                        // An object a factory returned (`loop = get_running_loop()`) may
                        // be anyone's: its methods may keep what they are passed
                        // (`loop.run_in_executor(None, load, batch)`). One this
                        // function built with a class is analysed like the caller.
                        Some(Owner::Fresh { .. }) => self.built_here(r),
                        Some(_) => true,
                        None => self.scope().self_name.as_deref() == Some(r),
                    })
            }
            _ => false,
        };
        // A method called on an object built in the same expression
        // (`Changed(self).set_sender(self)`) runs on an object nobody else holds yet.
        let temporary = match &*call.func {
            Expr::Attribute(a) if matches!(&*a.value, Expr::Call(_)) && !self.scope().is_module => {
                self.constructor_of(&a.value)
                    .filter(|constructor| class_like(constructor))
                    .map(|constructor| Owner::Fresh {
                        constructor,
                        members_passed: Vec::new(),
                    })
            }
            _ => None,
        };
        if let Some(owner) = receiver
            .and_then(|r| self.owner_of(r))
            .or(field)
            .or(temporary)
        {
            owned.push(OwnedArg {
                slot: ArgSlot::Receiver,
                owner,
                member: None,
                member_of: None,
                lent: false,
            });
        }
        // An awaited call that may keep what it is passed lends it (`OwnedArg::lent`).
        let awaited = self.awaited == Some(call.range().start().to_usize());
        // After a `*args`, positions are unknown.
        let mut positional = true;
        let mut escaped = Vec::new();
        let passed = call
            .arguments
            .args
            .iter()
            .enumerate()
            .map(|(i, arg)| (ArgSlot::Position(i), arg))
            .chain(call.arguments.keywords.iter().filter_map(|k| {
                k.arg
                    .as_ref()
                    .map(|name| (ArgSlot::Keyword(name.as_str().to_string()), &k.value))
            }));
        for (slot, arg) in passed {
            if matches!(arg, Expr::Starred(_)) {
                positional = false;
            }
            match arg {
                Expr::Name(n) => {
                    let name = n.id.as_str();
                    let owner = self
                        .owner_of(name)
                        .filter(|_| positional || matches!(slot, ArgSlot::Keyword(_)));
                    match owner {
                        Some(owner) if keeps => owned.push(OwnedArg {
                            slot,
                            owner,
                            member: None,
                            member_of: None,
                            lent: false,
                        }),
                        owner => {
                            if let Some(owner) = owner.filter(|_| awaited) {
                                owned.push(OwnedArg {
                                    slot,
                                    owner,
                                    member: None,
                                    member_of: None,
                                    lent: true,
                                });
                            }
                            escaped.push((name.to_string(), true));
                        }
                    }
                }
                Expr::Attribute(_) => self.pass_member(slot, arg, &mut owned, &mut escaped),
                // An object built in the argument itself (`render(Page(title))`): the
                // caller keeps no reference, so it is passed like a fresh local.
                Expr::Call(_)
                    if !self.scope().is_module
                        && (positional || matches!(slot, ArgSlot::Keyword(_))) =>
                {
                    if let Some(constructor) = self.constructor_of(arg).filter(|c| class_like(c)) {
                        if keeps || awaited {
                            owned.push(OwnedArg {
                                slot,
                                owner: Owner::Fresh {
                                    constructor,
                                    members_passed: Vec::new(),
                                },
                                member: None,
                                member_of: None,
                                lent: !keeps,
                            });
                        }
                    }
                }
                // Objects packed into a container or unpacked into the call
                // (`Thread(target=work, args=(job,))`) go wherever the callee puts them.
                other => {
                    let mut packed = Vec::new();
                    contained(other, &mut packed);
                    for element in packed {
                        match element {
                            Expr::Name(n) => escaped.push((n.id.to_string(), false)),
                            member => {
                                self.pass_member(slot.clone(), member, &mut owned, &mut escaped)
                            }
                        }
                    }
                }
            }
        }
        let offset = u32::try_from(call.range().start().to_usize()).unwrap_or(u32::MAX);
        for (name, passed) in escaped {
            let scope = self.scope_mut();
            if scope.fresh.contains(&name) {
                scope.handed.entry(name.clone()).or_insert(offset);
            }
            self.escape(&name, passed);
        }
        owned
    }

    /// `self.X = Job()` in an `__init__` whose body uses `self.X` only as a call
    /// receiver: from here on `self.X` is a constructed field (`Owner::ConstructedField`).
    pub(super) fn note_constructed_field(&mut self, target: &Expr, value: Option<&Expr>) {
        let Expr::Attribute(a) = target else { return };
        let field = a.attr.as_str();
        if !self.is_self(&a.value) || !self.scope().private_fields.contains(field) {
            return;
        }
        if let Some(constructor) = value.and_then(|v| self.constructor_of(v)) {
            self.scope_mut()
                .constructed_fields
                .insert(field.to_string(), constructor);
        }
    }

    /// The owner of `self.X` when it is a constructed field of the current `__init__`.
    fn constructed_field(&self, receiver: &Expr) -> Option<Owner> {
        let Expr::Attribute(a) = receiver else {
            return None;
        };
        if !self.is_self(&a.value) {
            return None;
        }
        let constructor = self.scope().constructed_fields.get(a.attr.as_str())?;
        Some(Owner::ConstructedField {
            constructor: constructor.clone(),
        })
    }

    fn is_self(&self, expr: &Expr) -> bool {
        matches!(expr, Expr::Name(n) if self.scope().self_name.as_deref() == Some(n.id.as_str()))
    }

    /// What a `return` gives back, for `Function::returns_fresh`: a constructor call
    /// or a fresh local nothing else holds (before the return lets it go); `None`
    /// changes nothing. Anything else means the function does not return fresh objects.
    pub(super) fn note_returned(&mut self, value: Option<&Expr>) {
        let built = match value {
            None | Some(Expr::NoneLiteral(_)) => return,
            Some(call @ Expr::Call(_)) => self.constructor_of(call).map(|c| vec![c]),
            Some(Expr::Name(n)) => {
                let name = n.id.as_str();
                let scope = self.scope();
                match self.owner_of(name) {
                    Some(Owner::Fresh {
                        constructor,
                        members_passed,
                    }) if members_passed.is_empty() && !scope.is_module => {
                        // Bound to other constructions on other paths, it may be any.
                        let mut built = scope.earlier_types.get(name).cloned().unwrap_or_default();
                        built.push(constructor);
                        Some(built)
                    }
                    _ => None,
                }
            }
            Some(_) => None,
        };
        let func = self.scope().func;
        match built {
            Some(constructors) => self.functions[func].returns_fresh.extend(constructors),
            None => self.scope_mut().returns_other = true,
        }
    }

    /// A member of an object passed to a call (`to_thread(job.run)`, `render(self.hass)`,
    /// or packed: `(self.mac, …)`). A bound method lets the object escape, but a handoff
    /// awaited right here runs it while this function still holds the only other
    /// reference; an attribute's value is another object. Which it is, the analysis
    /// decides from the class: for a parameter, at this call; for a fresh local, at
    /// each later pass of the object (`Owner::Fresh::members_passed`). A deeper chain (`self.entry.title`) passes what a field holds, never
    /// the object itself.
    fn pass_member(
        &mut self,
        slot: ArgSlot,
        member: &Expr,
        owned: &mut Vec<OwnedArg>,
        escaped: &mut Vec<(String, bool)>,
    ) {
        let Expr::Attribute(a) = member else {
            return;
        };
        let Expr::Name(n) = &*a.value else {
            return;
        };
        let owner = self.owner_of(n.id.as_str());
        match owner {
            Some(Owner::Parameter(_) | Owner::ConstructedField { .. }) => {}
            Some(Owner::Fresh { .. }) => self
                .scope_mut()
                .members_passed
                .entry(n.id.to_string())
                .or_default()
                .push(a.attr.to_string()),
            None => escaped.push((n.id.to_string(), false)),
        }
        let member_of = match owner {
            Some(Owner::Parameter(q)) if q > 0 => self.scope().types.get(n.id.as_str()).cloned(),
            _ => None,
        };
        if let Some(owner) = owner {
            owned.push(OwnedArg {
                slot,
                owner,
                member: Some(a.attr.as_str().to_string()),
                member_of,
                lent: false,
            });
        }
    }
}

/// The builtin and `collections` classes named in lowercase, as the front-end resolves
/// them: calling one builds a new object (`defaultdict(list)`, `deque()`, `dict()`).
pub(super) const LOWERCASE_CLASSES: &[&str] = &[
    "list",
    "dict",
    "set",
    "frozenset",
    "bytearray",
    "collections.deque",
    "collections.defaultdict",
];

/// Whether calling the resolved callee `path` builds a new object: a name written like
/// a class (`Job`, `mod.Job`; classes are named so), or one of `LOWERCASE_CLASSES`. A
/// call like `get_logger()` may hand back an object that exists already.
pub(super) fn names_a_class(path: &str) -> bool {
    LOWERCASE_CLASSES.contains(&path) || capitalised(path.rsplit('.').next().unwrap_or(path))
}

/// A constructor named like a class (`Page`, `events.Key`, `_Queue`): only a class
/// builds an object in place; a call like `get_logger()` may hand back anyone's.
pub(crate) fn class_like(constructor: &str) -> bool {
    let last = constructor.rsplit('.').next().unwrap_or(constructor);
    capitalised(last.trim_start_matches('_'))
}

fn capitalised(name: &str) -> bool {
    name.chars().next().is_some_and(char::is_uppercase)
}

/// The names and attribute chains a tuple, list, set, dict or starred argument packs,
/// at any depth. A call inside is lowered on its own.
fn contained<'e>(expr: &'e Expr, found: &mut Vec<&'e Expr>) {
    let elements: Vec<&Expr> = match expr {
        Expr::Name(_) | Expr::Attribute(_) => {
            found.push(expr);
            return;
        }
        Expr::Tuple(t) => t.elts.iter().collect(),
        Expr::List(l) => l.elts.iter().collect(),
        Expr::Set(s) => s.elts.iter().collect(),
        Expr::Dict(d) => d
            .items
            .iter()
            .flat_map(|item| item.key.iter().chain(std::iter::once(&item.value)))
            .collect(),
        Expr::Starred(s) => vec![&*s.value],
        _ => return,
    };
    for element in elements {
        contained(element, found);
    }
}

/// The fields of `receiver` (`self`) an `__init__` body assigns once, from a call, and
/// otherwise uses only through their members (`self._stats = Stats();
/// self._stats.register(p)`), passing none of those on: none is read as a value,
/// passed, aliased or rebound. (A nested function or lambda using one captures
/// `self`, which the analysis sees as the object under construction escaping.)
pub(super) fn private_fields(body: &[Stmt], receiver: &str) -> HashSet<String> {
    let mut uses = HashMap::default();
    let mut visitor = MethodFieldUses {
        receiver,
        in_init: true,
        uses: &mut uses,
    };
    for stmt in body {
        visitor.visit_stmt(stmt);
    }
    uses.into_iter()
        .filter(|(_, field)| {
            field.constructions.len() == 1 && !field.other && field.members_passed.is_empty()
        })
        .map(|(name, _)| name.to_string())
        .collect()
}

impl Lowerer<'_> {
    /// The private fields (`_name`) the methods of `def` hold (`HeldField`).
    pub(super) fn held_fields(&self, def: &StmtClassDef) -> Vec<HeldField> {
        let mut uses: HashMap<&str, FieldUse> = HashMap::default();
        for stmt in &def.body {
            let Stmt::FunctionDef(method) = stmt else {
                continue;
            };
            let Some(receiver) = method
                .parameters
                .posonlyargs
                .iter()
                .chain(&method.parameters.args)
                .next()
            else {
                continue;
            };
            let mut visitor = MethodFieldUses {
                receiver: receiver.name().as_str(),
                in_init: method.name.as_str() == "__init__",
                uses: &mut uses,
            };
            for stmt in &method.body {
                visitor.visit_stmt(stmt);
            }
        }
        let mut held: Vec<HeldField> = uses
            .into_iter()
            .filter(|(name, _)| name.starts_with('_') && !name.starts_with("__"))
            .filter_map(|(name, field)| match (&*field.constructions, field.other) {
                ([call], false) => Some(HeldField {
                    name: name.to_string(),
                    constructor: self.constructor_of(&Expr::Call((*call).clone()))?,
                    span: self.span_of(*call),
                    members_passed: field.members_passed,
                }),
                _ => None,
            })
            .collect();
        held.sort_by(|a, b| a.name.cmp(&b.name));
        held
    }
}

/// How one class's methods use a field of their receiver.
#[derive(Default)]
struct FieldUse<'a> {
    /// `self.f = Constructor(…)` in `__init__`.
    constructions: Vec<&'a ExprCall>,
    /// Any other assignment, or a use of `self.f` as a value.
    other: bool,
    /// `x` of each `self.f.x` passed on or stored.
    members_passed: Vec<String>,
}

struct MethodFieldUses<'a, 'u> {
    receiver: &'a str,
    in_init: bool,
    uses: &'u mut HashMap<&'a str, FieldUse<'a>>,
}

impl<'a> MethodFieldUses<'a, '_> {
    /// `f` for `self.f`.
    fn field(&self, expr: &'a Expr) -> Option<&'a str> {
        match expr {
            Expr::Attribute(a) => match &*a.value {
                Expr::Name(n) if n.id.as_str() == self.receiver => Some(a.attr.as_str()),
                _ => None,
            },
            _ => None,
        }
    }

    /// A value passed on or stored: `self.f.x` passes a member of the field.
    fn passed(&mut self, value: &'a Expr) {
        if let Expr::Attribute(a) = value {
            if let Some(field) = self.field(&a.value) {
                self.uses
                    .entry(field)
                    .or_default()
                    .members_passed
                    .push(a.attr.to_string());
            }
        }
    }
}

impl<'a> Visitor<'a> for MethodFieldUses<'a, '_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        let assignment = match stmt {
            Stmt::Assign(a) if a.targets.len() == 1 => Some((&a.targets[0], Some(&*a.value))),
            Stmt::AnnAssign(a) => Some((&*a.target, a.value.as_deref())),
            Stmt::AugAssign(a) => Some((&*a.target, None)),
            _ => None,
        };
        if let Some((target, value)) = assignment {
            if let Some(field) = self.field(target) {
                let in_init = self.in_init;
                let entry = self.uses.entry(field).or_default();
                match value {
                    Some(Expr::Call(call)) if in_init => entry.constructions.push(call),
                    _ => entry.other = true,
                }
                if let Some(value) = value {
                    self.passed(value);
                    self.visit_expr(value);
                }
                return;
            }
        }
        match stmt {
            Stmt::Assign(a) => self.passed(&a.value),
            Stmt::Return(r) => {
                if let Some(value) = &r.value {
                    self.passed(value);
                }
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            // A member of the field (`self.f.x`, `self.f.m()`, `self.f[k]`) uses it in
            // place.
            Expr::Attribute(a) if self.field(&a.value).is_some() => {}
            Expr::Subscript(s) if self.field(&s.value).is_some() => self.visit_expr(&s.slice),
            _ => {
                if let Some(field) = self.field(expr) {
                    self.uses.entry(field).or_default().other = true;
                    return;
                }
                match expr {
                    Expr::Call(call) => {
                        for arg in call.arguments.args.iter() {
                            self.passed(arg);
                        }
                        for keyword in call.arguments.keywords.iter() {
                            self.passed(&keyword.value);
                        }
                    }
                    Expr::Yield(y) => {
                        if let Some(value) = &y.value {
                            self.passed(value);
                        }
                    }
                    Expr::List(l) => l.elts.iter().for_each(|e| self.passed(e)),
                    Expr::Tuple(t) => t.elts.iter().for_each(|e| self.passed(e)),
                    Expr::Set(s) => s.elts.iter().for_each(|e| self.passed(e)),
                    Expr::Dict(d) => d.items.iter().for_each(|item| self.passed(&item.value)),
                    _ => {}
                }
                walk_expr(self, expr);
            }
        }
    }
}
