//! Where the objects a call passes come from (`CallSite::origins`), as far as one
//! function can tell: a local bound once to what a call returned (the analysis decides
//! whether that call constructs an object), a parameter the body never rebinds, a
//! captured local of an enclosing function, or an attribute of one of these.
//! `analysis::origins` follows them across calls to the constructions each object can
//! come from, so that two requests' objects built by one line stay two objects.

use super::ownership::class_like;
use super::*;
use crate::model::ValueOrigin;
use crate::python::scope::names_a_callee;

impl Lowerer<'_> {
    /// Notes that local `name` is bound to `value`: a local bound once, to a call, names
    /// what that call returned wherever the body uses it (an object it builds, if it is
    /// a class or a factory).
    pub(super) fn note_built(&mut self, name: &str, value: Option<&Expr>) {
        let Some(value @ Expr::Call(call)) = value else {
            return;
        };
        let scope = self.scope();
        // A parameter's name bound in the body is the caller's object before that.
        let parameter = scope.self_name.as_deref() == Some(name)
            || self.functions[scope.func]
                .call_params
                .iter()
                .any(|p| p == name);
        // What the call builds (a class, or a factory of fresh objects), the analysis
        // decides.
        if parameter
            || scope.rebound.contains(name)
            || !names_a_callee(&call.func)
            || self.constructor_of(value).is_none()
        {
            return;
        }
        let at = offset(call.range().start().to_usize());
        self.scope_mut().built.insert(name.to_string(), at);
    }

    /// The origins of the receiver and the arguments of `call`.
    pub(super) fn origins(&self, call: &ExprCall) -> Vec<(ArgSlot, ValueOrigin)> {
        if self.scope().is_module {
            return Vec::new();
        }
        let mut origins = Vec::new();
        if let Expr::Attribute(a) = &*call.func {
            if self.super_base(&a.value).is_some() {
                if let Some(own) = self.self_origin() {
                    origins.push((ArgSlot::Receiver, own));
                }
            } else if self.may_name_class(&a.value) {
                // `Job.run(job, x)`, `type(self).merge(a, b)`: the receiver is a class,
                // and the arguments take the parameters from `self` on, which
                // positions do not tell.
                return Vec::new();
            } else if let Some(origin) = self.origin_of_expr(&a.value) {
                origins.push((ArgSlot::Receiver, origin));
            }
        }
        for (i, arg) in call.arguments.args.iter().enumerate() {
            if matches!(arg, Expr::Starred(_)) {
                break;
            }
            if let Some(origin) = self.origin_of_expr(arg) {
                origins.push((ArgSlot::Position(i), origin));
            }
        }
        for keyword in &call.arguments.keywords {
            let Some(name) = &keyword.arg else { continue };
            if let Some(origin) = self.origin_of_expr(&keyword.value) {
                origins.push((ArgSlot::Keyword(name.as_str().to_string()), origin));
            }
        }
        origins.shrink_to_fit();
        origins
    }

    /// The origin of a protocol call's receiver (`x[k] = v` calls `x.__setitem__`).
    pub(super) fn receiver_origin(&self, receiver: &Expr) -> Vec<(ArgSlot, ValueOrigin)> {
        if self.scope().is_module {
            return Vec::new();
        }
        self.origin_of_expr(receiver)
            .map(|origin| (ArgSlot::Receiver, origin))
            .into_iter()
            .collect()
    }

    /// A name or one attribute of it (`job`, `self.cache`, `job.run`), or an object
    /// built right there (`with Scope() as scope:`, `submit(fill, Job())`), which the
    /// analysis names by that call as it names a local bound to it.
    fn origin_of_expr(&self, expr: &Expr) -> Option<ValueOrigin> {
        match expr {
            Expr::Name(n) => self.origin_of(n.id.as_str()),
            Expr::Call(call)
                if names_a_callee(&call.func) && self.constructor_of(expr).is_some() =>
            {
                Some(ValueOrigin::Built(offset(call.range().start().to_usize())))
            }
            Expr::Attribute(a) => match &*a.value {
                Expr::Name(n) => self
                    .origin_of(n.id.as_str())
                    .map(|base| ValueOrigin::Member(Box::new(base), a.attr.as_str().to_string())),
                _ => None,
            },
            _ => None,
        }
    }

    /// What `name` denotes in the current function: a local it bound once to a call, a
    /// parameter it never rebinds, or a local bound once to a call in an enclosing
    /// function (a closure's captured object).
    fn origin_of(&self, name: &str) -> Option<ValueOrigin> {
        let current = self.scope();
        if let Some(&at) = current.built.get(name) {
            return Some(ValueOrigin::Built(at));
        }
        if let Some(calls) = current.built_each.get(name) {
            return Some(ValueOrigin::BuiltEither(calls.iter().copied().collect()));
        }
        if current.self_name.as_deref() == Some(name) && current.class.is_some() {
            return self.self_origin();
        }
        if let Some(k) = self.functions[current.func]
            .call_params
            .iter()
            .position(|p| p == name)
        {
            return (!current.rebound.contains(name)).then_some(ValueOrigin::Parameter(k + 1));
        }
        if current.locals.contains(name) && !current.nonlocals.contains(name)
            || current.globals.contains(name)
        {
            return None;
        }
        // The nearest enclosing function that binds the name decides.
        let enclosing = self.scopes[..self.scopes.len() - 1]
            .iter()
            .rev()
            .take_while(|s| !s.is_module)
            .find(|s| s.locals.contains(name) && !s.nonlocals.contains(name))?;
        enclosing
            .built
            .get(name)
            .map(|&at| ValueOrigin::Captured(at))
    }

    /// The method's own receiver, unless the body rebinds `self`. A class method's
    /// `cls` is a class, not an object a caller built.
    fn self_origin(&self) -> Option<ValueOrigin> {
        let scope = self.scope();
        let own = scope.self_name.as_deref()?;
        let instance = !self.functions[scope.func].is_class_or_static_method();
        (instance && scope.class.is_some() && !scope.rebound.contains(own))
            .then_some(ValueOrigin::Parameter(0))
    }

    /// An expression that may denote a class: a name bound outside the function to
    /// what looks like one (`Job`), an attribute named like one (`jobs.Job`), an
    /// object's class (`self.__class__`, `type(self)`).
    fn may_name_class(&self, expr: &Expr) -> bool {
        match expr {
            // `self` resolves to its class's path too. A module variable given an
            // object (`POOL = ThreadPoolExecutor()`) is no class, however it is named.
            Expr::Name(n) => {
                let name = n.id.as_str();
                self.origin_of(name).is_none()
                    && !self.module_objects.contains(name)
                    && matches!(self.resolve_name(name), Resolution::Path(path) if class_like(&path))
            }
            Expr::Attribute(a) => class_like(a.attr.as_str()) || a.attr.as_str() == "__class__",
            Expr::Call(c) => matches!(&*c.func, Expr::Name(n) if n.id.as_str() == "type"),
            _ => false,
        }
    }
}

fn offset(at: usize) -> u32 {
    u32::try_from(at).unwrap_or(u32::MAX)
}
