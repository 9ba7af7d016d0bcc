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
    pub(super) fn parameter_slot(&self, name: &str) -> Option<usize> {
        let scope = self.scope();
        if scope.is_module || scope.rebound_params.contains(name) || scope.fresh.contains(name) {
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

    /// The object `name` denotes may now be held elsewhere: a fresh local is no longer
    /// owned, a parameter escapes its function. A name bound in an enclosing function
    /// and used here is captured, which lets it escape there.
    pub(super) fn escape(&mut self, name: &str) {
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
            let escaping = &mut self.functions[func].escaping_params;
            if !escaping.contains(&slot) {
                escaping.push(slot);
            }
        }
    }

    /// The owned objects a call passes, and the escapes it causes. A plain call
    /// (`helper(job)`, `Job(x)`) or a method of the caller's own object or of the owned
    /// object itself (`self._fill(job)`, `job.merge(x)`) keeps ownership: the callee is
    /// analysed on its own. A method of any other object (`registry.add(job)`,
    /// `queue.put(job)`, `asyncio.to_thread(f, job)`) may keep the object, so it escapes;
    /// so does a bound method passed as a value (`Thread(target=job.run)`). Whether a
    /// parameter's member passed (`f(self.x)`) lets the parameter escape depends on
    /// what the member is and on what the call is, which `analysis::ownership` decides.
    pub(super) fn owned_args(&mut self, call: &ExprCall) -> Vec<OwnedArg> {
        let mut owned = Vec::new();
        let receiver = match &*call.func {
            Expr::Attribute(a) => match &*a.value {
                Expr::Name(n) => Some(n.id.as_str()),
                _ => None,
            },
            _ => None,
        };
        let keeps = match &*call.func {
            Expr::Name(_) => true,
            Expr::Attribute(_) => receiver.is_some_and(|r| {
                self.owner_of(r).is_some() || self.scope().self_name.as_deref() == Some(r)
            }),
            _ => false,
        };
        if let Some(owner) = receiver.and_then(|r| self.owner_of(r)) {
            owned.push(OwnedArg {
                slot: ArgSlot::Receiver,
                owner,
                member: None,
                member_of: None,
            });
        }
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
                    match self.owner_of(name) {
                        Some(owner)
                            if keeps && (positional || matches!(slot, ArgSlot::Keyword(_))) =>
                        {
                            owned.push(OwnedArg {
                                slot,
                                owner,
                                member: None,
                                member_of: None,
                            });
                        }
                        _ => escaped.push(name.to_string()),
                    }
                }
                Expr::Attribute(_) => self.pass_member(slot, arg, &mut owned, &mut escaped),
                // Objects packed into a container or unpacked into the call
                // (`Thread(target=work, args=(job,))`) go wherever the callee puts them.
                other => {
                    let mut packed = Vec::new();
                    contained(other, &mut packed);
                    for element in packed {
                        match element {
                            Expr::Name(n) => escaped.push(n.id.to_string()),
                            member => {
                                self.pass_member(slot.clone(), member, &mut owned, &mut escaped)
                            }
                        }
                    }
                }
            }
        }
        for name in escaped {
            self.escape(&name);
        }
        owned
    }

    /// What a `return` gives back, for `Function::returns_fresh`: a constructor call
    /// or a fresh local nothing else holds (before the return lets it go); `None`
    /// changes nothing. Anything else means the function does not return fresh objects.
    pub(super) fn note_returned(&mut self, value: Option<&Expr>) {
        let built = match value {
            None | Some(Expr::NoneLiteral(_)) => return,
            Some(call @ Expr::Call(_)) => self.constructor_of(call),
            Some(Expr::Name(n)) => {
                let name = n.id.as_str();
                let scope = self.scope();
                match self.owner_of(name) {
                    Some(Owner::Fresh {
                        constructor,
                        members_passed,
                    }) if members_passed.is_empty() && !scope.is_module => Some(constructor),
                    _ => None,
                }
            }
            Some(_) => None,
        };
        let func = self.scope().func;
        match built {
            Some(constructor) => self.functions[func].returns_fresh.push(constructor),
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
        escaped: &mut Vec<String>,
    ) {
        let Expr::Attribute(a) = member else {
            return;
        };
        let Expr::Name(n) = &*a.value else {
            return;
        };
        let owner = self.owner_of(n.id.as_str());
        match owner {
            Some(Owner::Parameter(_)) => {}
            Some(Owner::Fresh { .. }) => self
                .scope_mut()
                .members_passed
                .entry(n.id.to_string())
                .or_default()
                .push(a.attr.to_string()),
            None => escaped.push(n.id.to_string()),
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
            });
        }
    }
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
