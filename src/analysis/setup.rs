//! Set-up on a new object: the first method called on an object its caller has just
//! built runs while nobody else holds the object, up to the point where it lets the
//! object go.
//!
//! `with Watchdog(t):` runs `Watchdog.__enter__` on an object no other thread can
//! reach; so does `scope = Alarm()` (or `Watcher()` in the other branch) then `with
//! scope:`. What `__enter__` does through `self` before it first lets `self` escape
//! (starts a thread on a bound method of it, stores it, passes it on) happens before
//! any other thread can touch the object, and before every later run of the method,
//! which is on another object: like a constructor's accesses, those are initialisation,
//! not shared state. RacerD's ownership of a constructed object, carried past the
//! constructor into the method that sets the object up, and only up to its first
//! escape (a constructor's accesses count whatever it lets escape first: a known
//! limit this module does not share).
//!
//! A method qualifies when every call of it is a plain call (not through a location or
//! a helper it is given to), on a receiver the caller built there and has not let go
//! (`CallSite::owned_args`: `with K():`, `x = K(); x.arm()`), outside loops unless the
//! call builds its receiver itself, the only call of the method on that object in the
//! caller; and nothing else can run it: no handoff or other entry point, no decorator,
//! no value read of an attribute of its name (`again = w.arm`). A call the call graph
//! cannot resolve (`ARMED[n].arm()` on an untyped container) is not seen, as for
//! ownership: a known limit. Its own attributes' slots it
//! rebinds or reads before the first line from which `self` may have escaped are set-up
//! (`before_escape`): a statement passing `self` or one of its members to a call, a
//! call of its own method that lets `self` escape (or that the call graph cannot
//! resolve), a store or capture of `self` (`Function::receiver_escapes_from`), or the
//! start of a loop around one.

use rustc_hash::FxHashSet as HashSet;

use super::catalogue::Catalogue;
use super::contexts::{api_call, resolve_call, CallTarget, Contexts};
use super::holders::constructs_new;
use super::resolve::{FuncId, Program, Resolved, Target};
use crate::model::{Access, AccessKind, ArgSlot, CallSite, Callee, Language, Owner, ValueOrigin};

pub struct Setup {
    /// Per function that sets up a new object: the first line from which its receiver
    /// may have escaped (`u32::MAX` when it never does).
    escapes_from: Vec<Option<u32>>,
}

impl Setup {
    pub fn compute(program: &Program, catalogue: &Catalogue, contexts: &Contexts) -> Setup {
        let facts = Facts {
            program,
            catalogue,
            contexts,
        };
        let count = program.functions.len();
        let mut entry = vec![false; count];
        for e in &contexts.entries {
            entry[e.target] = true;
        }
        let mut escapes = vec![None; count];
        let candidates: Vec<FuncId> = (0..count)
            .filter(|&f| !entry[f] && sets_up_new_objects(&facts, &mut escapes, f))
            .collect();
        let names: HashSet<&str> = candidates
            .iter()
            .map(|&f| program.function(f).name.as_str())
            .collect();
        let hidden = read_as_values(program, &names);
        let mut escapes_from = vec![None; count];
        for f in candidates {
            if hidden.contains(program.function(f).name.as_str()) {
                continue;
            }
            escapes_from[f] = Some(first_escape(&facts, &mut escapes, f));
        }
        Setup { escapes_from }
    }

    /// Whether `access` in `function` rebinds or reads an attribute slot of the object
    /// the function sets up, before that object may have escaped.
    pub fn before_escape(&self, program: &Program, function: FuncId, access: &Access) -> bool {
        let Some(from) = self.escapes_from[function] else {
            return false;
        };
        let model = program.function(function);
        let own_slot = access
            .path
            .rsplit_once('.')
            .is_some_and(|(receiver, _)| Some(receiver) == model.class.as_deref());
        let slot_access = access.kind == AccessKind::Rebind
            || access.kind == AccessKind::Read && access.method.is_none() && !access.element;
        access.root == Some(0)
            && own_slot
            && slot_access
            && !access.lazy
            && access.statement_lines.1 < from
    }
}

/// Whether every call of instance method `f` runs it first thing on an object its
/// caller has just built, which nothing else holds yet.
fn sets_up_new_objects(facts: &Facts, escapes: &mut [Option<u32>], f: FuncId) -> bool {
    let Facts {
        program, contexts, ..
    } = *facts;
    let model = program.function(f);
    let callers = &contexts.callers[f];
    if program.files[program.file_of(f)].language != Language::Python
        || model.class.is_none()
        || model.is_class_or_static_method()
        || model.is_async
        || model.is_generator
        || !model.decorators.is_empty()
        || contexts.callable_passes[f] != 0
        || contexts.started_elsewhere[f]
        || callers.is_empty()
        || !model.accesses.iter().any(|a| a.root == Some(0))
    {
        return false;
    }
    callers.iter().all(|&(caller, index)| {
        !contexts.through_location.contains(&(caller, index))
            && !contexts.through_holder.contains(&(caller, index, f))
            && !contexts.invoked.contains_key(&(caller, index, f))
            && first_use_of_new_object(facts, escapes, caller, index)
    })
}

/// Whether the call at `index` in `caller` is the first use of an object the caller
/// built (a local bound only to constructions, or one built in the call or the `with`
/// itself): a class that builds a new object each time, whose constructor keeps it to
/// itself, and which the caller has neither let go (`CallSite::owned_args`) nor passed
/// to any call since; in a loop, only an object the call builds itself is new each time
/// round.
fn first_use_of_new_object(
    facts: &Facts,
    escapes: &mut [Option<u32>],
    caller: FuncId,
    index: usize,
) -> bool {
    let program = facts.program;
    let model = program.function(caller);
    let call = &model.calls[index];
    let sites: Vec<u32> = match call.origin_at(&ArgSlot::Receiver) {
        Some(ValueOrigin::Built(at)) => vec![*at],
        Some(ValueOrigin::BuiltEither(ats)) => ats.to_vec(),
        _ => return false,
    };
    let fresh = call.owned_args.iter().any(|arg| {
        arg.slot == ArgSlot::Receiver
            && arg.member.is_none()
            && matches!(arg.owner, Owner::Fresh { .. })
    });
    if call.lazy || !fresh || call.in_loop && sites != [call.span.offset as u32] {
        return false;
    }
    let file = program.file_of(caller);
    let names_site = |origin: &ValueOrigin| match origin {
        ValueOrigin::Built(at) => sites.contains(at),
        ValueOrigin::BuiltEither(ats) => ats.iter().any(|at| sites.contains(at)),
        _ => false,
    };
    sites.iter().all(|&at| {
        // The construction: a class building a new object, set up by a constructor
        // that keeps it to itself.
        let Some(construction) = model
            .calls
            .iter()
            .find(|c| c.span.offset as u32 == at && c.property.is_none())
        else {
            return false;
        };
        let Callee::Path(path) = &construction.callee else {
            return false;
        };
        let Resolved {
            target: Target::Class(class),
            residual: 0,
        } = program.resolve(file, path)
        else {
            return false;
        };
        constructs_new(program, class)
            && ["__init__", "__post_init__"].iter().all(|name| {
                program
                    .method(class, name)
                    .is_none_or(|init| first_escape(facts, escapes, init) == u32::MAX)
            })
    }) && model.calls.iter().enumerate().all(|(other, c)| {
        // No earlier call takes the object (another method may have let it go).
        other == index
            || c.span.offset > call.span.offset
            || c.span.offset == call.span.offset && other > index
            || !c.origins.iter().any(|(_, origin)| names_site(origin))
    })
}

/// Of `names`, those of which some code reads an attribute as a value: a bound method
/// kept to be called later (`again = w.arm`), which the call graph does not follow.
/// A call the call graph cannot resolve (`ARMED[n].arm()` on an untyped container)
/// places the method nowhere, as for ownership: not counted.
fn read_as_values<'m>(program: &Program<'m>, names: &HashSet<&str>) -> HashSet<&'m str> {
    let mut read = HashSet::default();
    if names.is_empty() {
        return read;
    }
    for f in 0..program.functions.len() {
        for access in &program.function(f).accesses {
            let name = access.path.rsplit('.').next().unwrap_or(&access.path);
            if access.kind == AccessKind::Read && access.method.is_none() && names.contains(name) {
                read.insert(name);
            }
        }
    }
    read
}

/// What `Setup::compute` consults.
struct Facts<'a, 'm> {
    program: &'a Program<'m>,
    catalogue: &'a Catalogue,
    contexts: &'a Contexts,
}

/// The first line of `f` from which its receiver may have escaped (`u32::MAX` when it
/// never does): where the body stores, returns, captures or passes `self` (but to a
/// library call that only looks at it: the catalogue's `[inspects-callables]`,
/// `logger.debug("%r", self)`), passes a member of it (`Thread(target=self._watch)`),
/// or calls its own method (`self.reset()`, `super().__enter__()`) that resolves to
/// none or to one that lets its receiver escape; from the start of a loop around any
/// of those, and from the start when it is in a generator expression.
fn first_escape(facts: &Facts, memo: &mut [Option<u32>], f: FuncId) -> u32 {
    if let Some(known) = memo[f] {
        return known;
    }
    // A method on a cycle of calls on `self` is taken to let it go at once: deciding
    // the cycle first would take a fixpoint for what is rare in set-up code.
    memo[f] = Some(0);
    let Facts {
        program,
        catalogue,
        contexts,
    } = *facts;
    let model = program.function(f);
    let file = program.file_of(f);
    let inspects = |call: &CallSite| {
        let target = resolve_call(program, file, &call.callee);
        let mut api = api_call(program, call, &target);
        // A method of a module variable or attribute of no known type (`logger =
        // base.getChild("x")`, then `logger.debug(…)`) goes by its name, as one of an
        // untyped local does.
        if let (CallTarget::Unknown, Callee::Path(path)) = (&target, &call.callee) {
            let resolved = program.resolve(file, path);
            api.by_name |= resolved.residual == 1
                && matches!(
                    resolved.target,
                    Target::Global { .. } | Target::Attribute { .. }
                );
        }
        catalogue.inspects_callables.matches(&api)
    };
    let line_of = |call: &CallSite| match (call.lazy, call.loop_start) {
        (true, _) => 0,
        (false, Some(start)) if call.in_loop => start.min(call.statement_lines.0),
        _ => call.statement_lines.0,
    };
    let mut from = u32::MAX;
    for &(line, by_call) in &model.receiver_escapes {
        // Passed to calls at that offset (a chain's calls share it) that all only look.
        let looked_at = by_call.is_some_and(|at| {
            let mut calls = model
                .calls
                .iter()
                .filter(|c| c.span.offset as u32 == at && c.property.is_none())
                .peekable();
            calls.peek().is_some() && calls.all(inspects)
        });
        if !looked_at {
            from = from.min(line);
        }
    }
    // A bound method passed on lets its object go; an attribute's value is another
    // object.
    let class = program.class_of_method(f);
    let method = |name: &str| class.is_some_and(|class| program.method(class, name).is_some());
    for (index, call) in model.calls.iter().enumerate() {
        let passes_member = call.origins.iter().any(|(slot, origin)| {
            *slot != ArgSlot::Receiver
                && matches!(origin, ValueOrigin::Member(base, name)
                    if **base == ValueOrigin::Parameter(0) && method(name))
        }) || call.owned_args.iter().any(|arg| {
            arg.slot != ArgSlot::Receiver
                && arg.owner == Owner::Parameter(0)
                && arg.member.as_deref().is_some_and(method)
        });
        let own_call = matches!(
            call.origin_at(&ArgSlot::Receiver),
            Some(ValueOrigin::Parameter(0))
        );
        let escapes = passes_member && !inspects(call)
            || own_call && {
                let callees: Vec<FuncId> = contexts.callees[f]
                    .iter()
                    .filter(|&&(_, i)| i == index)
                    .map(|&(callee, _)| callee)
                    .collect();
                match callees.is_empty() {
                    // A library base's constructor (`super().__init__()`) sets up its
                    // own part of the object; an attribute no property of the class
                    // answers is a plain attribute.
                    true => call.property.is_none() && !library_constructor(call),
                    false => callees
                        .into_iter()
                        .any(|callee| first_escape(facts, memo, callee) != u32::MAX),
                }
            };
        if escapes {
            from = from.min(line_of(call));
        }
    }
    memo[f] = Some(from);
    from
}

/// Whether `call`, which reaches no project function, is `super().__init__()`: the
/// constructor of a base outside the project (`abc.ABC`'s, `object`'s).
fn library_constructor(call: &CallSite) -> bool {
    matches!(&call.callee, Callee::Path(path) if path.ends_with(".__super__.__init__"))
}
