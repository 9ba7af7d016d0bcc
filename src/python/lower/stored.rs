//! Callables and objects kept in state: what a body stores in a location that a later
//! call through the location runs (`Function::stored_callables`): a callable, or an
//! object whose class's methods run (`self.backend = MemoryBackend()`). Only the stores
//! are lowered here; which functions and classes they denote, and which calls run them,
//! is whole-program work (`analysis::stored_callables`).

use super::ownership::{names_a_class, LOWERCASE_CLASSES};
use super::*;

/// Container methods that keep their last argument as an element (`append(cb)`,
/// `put(job)`, `setdefault(name, handler)`).
const STORING_METHODS: &[&str] = &[
    "append",
    "appendleft",
    "add",
    "insert",
    "put",
    "put_nowait",
    "setdefault",
];

impl Lowerer<'_> {
    /// A write of `value` to the location `path`, or to an element of it (`d[k] = v`):
    /// keeps the callables the value denotes.
    pub(super) fn note_stored_value(&mut self, path: &str, value: &Expr, element: bool) {
        if !element {
            self.note_built_stored(path, value);
        }
        let mut values = Vec::new();
        self.callables_in(value, &mut values);
        self.keep(path, values, element);
    }

    /// Keeps in `Function::stores_built` that the location `path` is given a local bound
    /// once to a call (`self._loop = loop` after `loop = asyncio.new_event_loop()`).
    pub(super) fn note_built_stored(&mut self, path: &str, value: &Expr) {
        if let Expr::Name(name) = value {
            if let Some(&at) = self.scope().built.get(name.id.as_str()) {
                let func = self.scope().func;
                self.functions[func]
                    .stores_built
                    .push((path.to_string(), at));
            }
        }
    }

    /// A call of a container method on the location `path` (`self._listeners.append(cb)`,
    /// `JOBS.put((fn, args))`), with its arguments as written and as lowered: keeps the
    /// element it stores, when a callable or a display holding some.
    pub(super) fn note_stored_argument(
        &mut self,
        path: &str,
        method: &str,
        written: &[Expr],
        args: &[Arg],
    ) {
        if !STORING_METHODS.contains(&method) {
            return;
        }
        let values = match (written.last(), args.last()) {
            (
                Some(display @ (Expr::Tuple(_) | Expr::List(_) | Expr::Dict(_) | Expr::Set(_))),
                _,
            ) => {
                let mut values = Vec::new();
                self.callables_in(display, &mut values);
                values
            }
            (_, Some(last)) if is_callable_value(last) => vec![last.clone()],
            _ => return,
        };
        self.keep(path, values, true);
    }

    /// Keeps `values` as stored in the location `path`, or among its elements (kept at
    /// `path.__element__`: they are no value of the location itself).
    fn keep(&mut self, path: &str, values: Vec<Arg>, element: bool) {
        if values.is_empty() {
            return;
        }
        let path = match element {
            true => format!("{path}.{ELEMENT}"),
            false => path.to_string(),
        };
        let func = self.scope().func;
        let stored = &mut self.functions[func].stored_callables;
        stored.extend(values.into_iter().map(|v| (path.clone(), v)));
    }

    /// The callables an expression may evaluate to, without visiting it (the statement
    /// visits it): a function or bound method by name (`on_done`, `self._finish`), a
    /// parameter that may hold one, a lambda (lowered already, found by its span),
    /// `functools.partial(f, …)`, a factory's result (`make_handler(x)`; a capitalised
    /// callee constructs an object instead, kept as an `Instance`), and the items of a
    /// container display (`{"reload": reload_config}`, `[first, second]`). A parameter
    /// is kept whatever its annotation: callers may pass a subclass's object.
    fn callables_in(&self, expr: &Expr, out: &mut Vec<Arg>) {
        match expr {
            Expr::Name(n) if self.is_own_parameter(n.id.as_str()) => {
                out.push(Arg::Parameter(n.id.to_string()));
            }
            // An object stored (`registry[key] = self`, `pending.append(job)`) runs its
            // class's `__call__` when called.
            Expr::Name(n) if self.is_receiver(n.id.as_str()) => {
                let class = self.scopes.iter().rev().find_map(|s| s.class);
                out.extend(class.map(|c| Arg::Instance(self.classes[c].path.clone())));
            }
            Expr::Name(n) => {
                // An annotated parameter holds what callers pass, of the annotated
                // class or another (`backend: Backend` given a `MemoryBackend()`).
                if self.is_call_parameter(n.id.as_str()) {
                    out.push(Arg::Parameter(n.id.to_string()));
                }
                match self.resolve_name(n.id.as_str()) {
                    Resolution::Typed(ty) => {
                        out.extend(names_a_class(&ty).then_some(Arg::Instance(ty)))
                    }
                    _ => out.extend(self.callee_of(expr).map(Arg::Callable)),
                }
            }
            Expr::Attribute(_) => out.extend(self.callee_of(expr).map(Arg::Callable)),
            Expr::Lambda(l) => {
                // `self.cb = lambda: fn(*args)`: the parameter, called by the thunk.
                if let Some(thunk) = l
                    .parameters
                    .is_none()
                    .then(|| self.thunk(&l.body))
                    .flatten()
                {
                    out.push(Arg::Thunk(Box::new(thunk)));
                    return;
                }
                let span = self.span_of(expr);
                let lambda = self
                    .functions
                    .iter()
                    .rposition(|f| f.name == "<lambda>" && f.span == span);
                out.extend(lambda.map(Arg::Inline));
            }
            Expr::Call(call) => match self.callee_of(&call.func) {
                Some(Callee::Path(p)) if p == "functools.partial" => {
                    if let Some(inner) = call.arguments.args.first() {
                        self.callables_in(inner, out);
                    }
                }
                Some(Callee::Path(p)) if !names_a_class(&p) => {
                    out.push(Arg::Coroutine(Callee::Path(p)))
                }
                // An object constructed (`self.backend = MemoryBackend()`): calls
                // through the location run its class's methods.
                Some(Callee::Path(p)) => out.push(Arg::Instance(p)),
                _ => {}
            },
            Expr::Dict(d) => d
                .items
                .iter()
                .for_each(|item| self.callables_in(&item.value, out)),
            Expr::List(l) => l.elts.iter().for_each(|e| self.callables_in(e, out)),
            Expr::Tuple(t) => t.elts.iter().for_each(|e| self.callables_in(e, out)),
            Expr::Set(s) => s.elts.iter().for_each(|e| self.callables_in(e, out)),
            _ => {}
        }
    }
}

impl Lowerer<'_> {
    /// Whether a name is the receiver (`self`) of the method being lowered, or of the
    /// method a nested function is written in.
    fn is_receiver(&self, name: &str) -> bool {
        self.receiver_scope(name).is_some()
    }

    /// The scope of the method whose receiver `name` is, seen from the scope being
    /// lowered (a nested function's free `self` is its method's).
    pub(super) fn receiver_scope(&self, name: &str) -> Option<&Scope> {
        self.scopes
            .iter()
            .rev()
            .take_while(|s| !s.is_module)
            .find(|s| s.self_name.as_deref() == Some(name) || s.locals.contains(name))
            .filter(|s| s.self_name.as_deref() == Some(name))
    }
}

/// An argument as `lower_arg` gives it that may be a callable to keep (an object may be
/// one, through its class's `__call__`): not an opaque value, and not a constructor's
/// result.
fn is_callable_value(arg: &Arg) -> bool {
    match arg {
        Arg::Callable(_) | Arg::Inline(_) | Arg::Parameter(_) | Arg::Thunk(_) => true,
        // A builtin container (`dict()`) has no `__call__`.
        Arg::Instance(ty) => names_a_class(ty) && !LOWERCASE_CLASSES.contains(&ty.as_str()),
        Arg::Coroutine(Callee::Path(p)) => !names_a_class(p),
        Arg::Coroutine(Callee::Method(_))
        | Arg::Tuple(_)
        | Arg::Keywords(_)
        | Arg::Spread(_)
        | Arg::Other => false,
    }
}
