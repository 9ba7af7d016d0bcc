//! Ownership, after RacerD: an object a function constructed and has not let escape is
//! owned by it, and accesses through an owned object are not shared state. Ownership
//! flows into callees: a parameter is owned when every call passes an owned object
//! (one the caller constructed, or an owned parameter of the caller) and the callee
//! does not let it escape either. So a result a worker builds and fills through
//! helpers (`result = Result(); _fill(result)`) is private to that worker, as each
//! request's own objects are private to the request.
//!
//! The front-end records, per call, which passed objects the caller owns
//! (`CallSite::owned_args`), per function which parameters escape (stored, handed to
//! another object's method or to a thread, captured; `Function::escaping_params`), and
//! per access the parameter its chain starts from (`Access::root`).
//!
//! A function qualifies only when the project calls it and nothing else can: it is no
//! entry point started another way (a handoff, a route, a thread class), it is not
//! passed as a callable, decorated (but a property's getter or setter is called by
//! each use of the attribute, which the call graph holds: `python::properties`), or a
//! dunder method (called by protocols). A call on
//! a receiver whose type racelint cannot see is not held against a method of the same
//! name: ownership is judged over the call graph that places accesses in contexts, and
//! a call that graph does not resolve places the method nowhere either.
//!
//! Ownership is also computed per context, as RacerD instantiates a callee's accesses
//! at each call: in one context (the event loop, worker threads, the main thread) a
//! parameter is owned when every call *made in that context* passes an owned object,
//! and the function is no entry point of that context. `Message.set_sender` called on
//! a freshly built message on the loop, and on another freshly built one on a worker,
//! touches a private object on both sides, even though other callers elsewhere pass
//! shared ones; its accesses do not run, as shared state, in either context.

use std::collections::HashSet;

use super::contexts::{constructs_self, resolve_call, CallTarget, Context, Contexts, EntryPoint};
use super::invoked::{Feed, Invoked};
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use crate::model::{
    Access, Arg, ArgSlot, CallSite, Callee, FileId, Language, OwnedArg, Owner, Span,
};

pub struct Ownership {
    /// Per function, per parameter slot (0 is the receiver): whether it is owned.
    owned: Vec<Vec<bool>>,
    /// Per context, per function, per parameter slot: whether every call made in that
    /// context passes an owned object.
    owned_in: [Vec<Vec<bool>>; 3],
    /// Per function: whether its receiver escapes (`Passing::receiver_escapes`).
    receiver_escapes: Vec<bool>,
}

impl Ownership {
    pub fn compute(program: &Program, contexts: &Contexts) -> Ownership {
        let count = program.functions.len();
        let passes = &contexts.package_passes;
        let escaping_members = member_escapes(program, contexts);
        let passing = Passing {
            launched: launched_calls(program, contexts),
            receiver_escapes: (0..count)
                .map(|f| {
                    program.function(f).escaping_params.contains(&0)
                        || escaping_members[f].contains(&0)
                })
                .collect(),
        };
        // Whether nothing can call a function in a way the call graph does not show.
        let known: Vec<bool> = (0..count)
            .map(|f| {
                let model = program.function(f);
                program.files[program.file_of(f)].language == Language::Python
                    && (model.decorators.is_empty()
                        || model.decorators.len() == 1
                            && (model.is_property() || model.is_property_setter()))
                    && !model.name.starts_with("__")
            })
            .collect();
        let slots = |f: FuncId, qualifies: bool| -> Vec<bool> {
            let model = program.function(f);
            (0..=model.call_params.len())
                .map(|slot| {
                    qualifies
                        && (slot > 0 || model.class.is_some())
                        && !model.escaping_params.contains(&slot)
                        && !escaping_members[f].contains(&slot)
                })
                .collect()
        };
        let owned = greatest_fixpoint(
            program,
            contexts,
            &passing,
            (0..count)
                .map(|f| {
                    slots(
                        f,
                        known[f]
                            && !contexts.callers[f].is_empty()
                            && passes[f] == 0
                            && !contexts.started_elsewhere[f],
                    )
                })
                .collect(),
            |_| true,
            &vec![Vec::new(); count],
        );
        let mut started = [
            vec![0usize; count],
            vec![0usize; count],
            vec![0usize; count],
        ];
        for entry in contexts.entries.iter().filter(|e| e.site.is_some()) {
            started[entry.context.index()][entry.target] += 1;
        }
        let per_context = |seeds: &[Vec<Vec<bool>>; 3]| {
            Context::ALL.map(|context| {
                let c = context.index();
                let seeded = &seeds[c];
                let initial = (0..count)
                    .map(|f| {
                        let called = contexts.callers[f]
                            .iter()
                            .any(|&(caller, _)| contexts.reach[caller][c].is_some());
                        let started_here = started[c][f] > 0 || passes[f] > 0;
                        let reached = known[f] && contexts.reach[f][c].is_some();
                        let mut owned = slots(f, reached);
                        for (slot, owned) in owned.iter_mut().enumerate() {
                            // A started function owns only what its starts are known
                            // to pass owned (`awaited_handoff_seeds`).
                            let seed = seeded[f].get(slot).copied().unwrap_or(false);
                            *owned &= match started_here {
                                true => seed,
                                false => seed || called,
                            };
                        }
                        owned
                    })
                    .collect();
                greatest_fixpoint(
                    program,
                    contexts,
                    &passing,
                    initial,
                    |caller| contexts.reach[caller][c].is_some(),
                    seeded,
                )
            })
        };
        let unseeded = per_context(&Context::ALL.map(|_| vec![Vec::new(); count]));
        let seeds = awaited_handoff_seeds(program, contexts, &passing, &unseeded, passes, &started);
        let owned_in = per_context(&seeds);
        Ownership {
            owned,
            owned_in,
            receiver_escapes: passing.receiver_escapes,
        }
    }

    /// Whether `function` lets its receiver escape: stores or passes `self`, or hands on
    /// a bound method of it.
    pub fn receiver_escapes(&self, function: FuncId) -> bool {
        self.receiver_escapes[function]
    }

    /// Whether the call starting at byte offset `at` in `function` may build a new
    /// object for it (`Access::built_at`). Not a project function or method other than
    /// a factory every `return` of which builds one: such a call may hand back an
    /// object others hold (`def get_recorder(): return RECORDER`); nor a project class
    /// with a `__new__` (a singleton's). Anything else is taken to build as before: a
    /// project class's constructor (an `__init__` that lets `self` escape,
    /// `_dangling.add(self)`, included), a class held in a variable (`factory =
    /// LogRecord`), a library's call.
    pub fn builds_fresh(program: &Program, function: FuncId, at: u32) -> bool {
        let calls = &program.function(function).calls;
        let Some(call) = calls
            .iter()
            .find(|c| c.span.offset == at as usize && c.property.is_none())
        else {
            return false;
        };
        let Callee::Path(constructor) = &call.callee else {
            return false;
        };
        let file = program.file_of(function);
        match program.resolve(file, constructor) {
            Resolved {
                target: Target::Class(class),
                residual: 0,
            } => program.method(class, "__new__").is_none(),
            Resolved {
                target: Target::Function(_),
                residual: 0,
            } => built_classes(program, file, constructor, 0, &mut Vec::new()),
            _ => true,
        }
    }

    /// Whether `access`, made in `function`, goes through an object the function owns.
    pub fn owns(&self, function: FuncId, access: &Access) -> bool {
        owned_slot(&self.owned, function, access)
    }

    /// Whether, in `context`, `access` goes through an object that each run of the
    /// function there owns: the access touches nothing another run can reach.
    pub fn owns_in(&self, context: Context, function: FuncId, access: &Access) -> bool {
        owned_slot(&self.owned_in[context.index()], function, access)
    }
}

fn owned_slot(owned: &[Vec<bool>], function: FuncId, access: &Access) -> bool {
    access
        .root
        .is_some_and(|slot| owned[function].get(slot).copied().unwrap_or(false))
}

/// Drops a slot as soon as one call (from a caller `counts` admits) passes something
/// unowned, until nothing changes.
fn greatest_fixpoint(
    program: &Program,
    contexts: &Contexts,
    passing: &Passing,
    mut owned: Vec<Vec<bool>>,
    counts: impl Fn(FuncId) -> bool,
    seeded: &[Vec<bool>],
) -> Vec<Vec<bool>> {
    loop {
        let mut changed = false;
        for f in 0..owned.len() {
            for slot in 0..owned[f].len() {
                if owned[f][slot]
                    && !every_call_passes_owned(
                        program,
                        contexts,
                        passing,
                        &owned,
                        f,
                        slot,
                        &counts,
                        seeded[f].get(slot).copied().unwrap_or(false),
                    )
                {
                    owned[f][slot] = false;
                    changed = true;
                }
            }
        }
        if !changed {
            return owned;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn every_call_passes_owned(
    program: &Program,
    contexts: &Contexts,
    passing: &Passing,
    owned: &[Vec<bool>],
    function: FuncId,
    slot: usize,
    counts: impl Fn(FuncId) -> bool,
    seeded: bool,
) -> bool {
    let params = &program.function(function).call_params;
    // A constructor's call of its own class's method on the object it is building
    // (`self.close()` in `__init__`) passes what no other run reaches
    // (`contexts::constructs_self`; contexts follow it as `Reach::constructing`): it
    // counts as a call passing an owned receiver. What else it passes is judged as
    // any call's arguments are.
    let builds = |caller: FuncId, index: usize| {
        slot == 0
            && constructs_self(
                program,
                caller,
                &program.function(caller).calls[index],
                function,
            )
    };
    let mut calls = contexts.callers[function]
        .iter()
        .filter(|&&(caller, _)| counts(caller))
        .peekable();
    // A function reached only some other way (no counted call) has unknown arguments,
    // unless its every start is an awaited handoff of an owned object's method.
    (seeded || calls.peek().is_some())
        && calls.all(|&(caller, index)| {
            if builds(caller, index) {
                return true;
            }
            let call = &program.function(caller).calls[index];
            let owns = |arg: &OwnedArg| {
                owner_owns(program, passing, caller, &arg.owner, |q| {
                    owned[caller].get(q).copied().unwrap_or(false)
                })
            };
            // A function a call is given gets what the helper hands it of the call's
            // arguments: the object of the bound method passed, or an argument as it
            // was given (`Invoked::feeds`).
            if let Some(invocation) = contexts.invoked.get(&(caller, index, function)) {
                let name = &program.function(function).name;
                let file = program.file_of(caller);
                let fed = |at: &ArgSlot, member: Option<&String>| {
                    call.owned_args
                        .iter()
                        .find(|arg| arg.slot == *at && arg.member.as_ref() == member && !arg.lent)
                        .is_some_and(owns)
                };
                // What the helper hands on it must not also let escape (`REG.append(job);
                // fn(job)`), as a function in a chain of calls must not.
                let helper = program.function(invocation.helper);
                return match Invoked::feeds(program, file, call, invocation, slot) {
                    Some(Feed::Receiver(at)) => fed(&at, Some(name)),
                    Some(Feed::Argument(at, k)) => {
                        !helper.escaping_params.contains(&(k + 1)) && fed(&at, None)
                    }
                    None => false,
                };
            }
            // A call through a location passes what the store kept, not its receiver.
            !passing.launched.contains(&(caller, index))
                && !contexts.through_location.contains(&(caller, index))
                && call
                    .owned_args
                    .iter()
                    .filter(|arg| arg.member.is_none() && !arg.lent)
                    .find(|arg| match &arg.slot {
                        ArgSlot::Receiver => slot == 0,
                        ArgSlot::Position(i) => slot == i + 1,
                        ArgSlot::Keyword(name) => slot > 0 && params.get(slot - 1) == Some(name),
                    })
                    .is_some_and(owns)
        })
}

/// The project classes a call builds (`Job(…)`, or a factory every `return` of which
/// gives back a fresh object: `Function::returns_fresh`, followed a few factories
/// deep), into `classes`; false when it may give back anything else.
fn built_classes(
    program: &Program,
    file: FileId,
    constructor: &str,
    depth: usize,
    classes: &mut Vec<ClassId>,
) -> bool {
    match program.resolve(file, constructor) {
        // A class whose construction may hand back an object someone else holds: its
        // `__new__` (a singleton, a cache), or an `__init__` that lets `self` escape
        // (`REGISTRY.append(self)`), builds nothing private.
        Resolved {
            target: Target::Class(class),
            residual: 0,
        } => {
            let shared = program.method(class, "__new__").is_some()
                || program
                    .method(class, "__init__")
                    .is_some_and(|init| program.function(init).escaping_params.contains(&0));
            classes.push(class);
            !shared
        }
        // A decorated factory (`@lru_cache`) may hand back what it gave before; a
        // class or static method is called as written.
        Resolved {
            target: Target::Function(factory),
            residual: 0,
        } if depth < 3
            && program.function(factory).decorators.iter().all(|d| {
                matches!(&d.callee, Callee::Path(p) if p == "classmethod" || p == "staticmethod")
            }) =>
        {
            let built = &program.function(factory).returns_fresh;
            let file = program.file_of(factory);
            !built.is_empty()
                && built
                    .iter()
                    .all(|c| built_classes(program, file, c, depth + 1, classes))
        }
        _ => false,
    }
}

/// The calls that create a coroutine launched as a task (`work(job)` in
/// `create_task(work(job))`): the task runs beside its launcher, which still holds what
/// it passed, so such a call passes nothing owned.
fn launched_calls(program: &Program, contexts: &Contexts) -> HashSet<(FuncId, usize)> {
    let within = |inner: &Span, outer: &Span| {
        inner.offset >= outer.offset && inner.offset + inner.len <= outer.offset + outer.len
    };
    contexts
        .task_entries
        .iter()
        .filter_map(|entry| entry.site.as_ref().map(|site| (entry.target, site)))
        .flat_map(|(target, site)| {
            contexts.callers[target]
                .iter()
                .filter(move |&&(caller, index)| {
                    site.caller == Some(caller)
                        && within(&program.function(caller).calls[index].span, &site.span)
                })
                .copied()
        })
        .collect()
}

/// Whether `owner`, in `caller`, is an object the caller owns: one it built with a
/// project class's constructor, or a parameter `parameter_owned` says is owned.
fn owner_owns(
    program: &Program,
    passing: &Passing,
    caller: FuncId,
    owner: &Owner,
    parameter_owned: impl Fn(usize) -> bool,
) -> bool {
    match owner {
        Owner::Fresh {
            constructor,
            members_passed,
        } => {
            let mut classes = Vec::new();
            built_classes(
                program,
                program.file_of(caller),
                constructor,
                0,
                &mut classes,
            ) && classes.iter().all(|&class| {
                members_passed
                    .iter()
                    .all(|member| program.is_value_member(class, member))
            })
        }
        Owner::Parameter(q) => parameter_owned(*q),
        // Nobody else can reach the field while the object is built, unless the
        // object itself escapes in `__init__` (`register(self)`, `Thread(target=self.run)`).
        Owner::ConstructedField { constructor } => {
            !passing.receiver_escapes[caller]
                && built_classes(
                    program,
                    program.file_of(caller),
                    constructor,
                    0,
                    &mut Vec::new(),
                )
        }
    }
}

/// What decides, besides its arguments, whether a call passes an owned object.
struct Passing {
    /// Calls that create a coroutine launched as a task (`launched_calls`).
    launched: HashSet<(FuncId, usize)>,
    /// Per function, whether its receiver escapes: stored, passed, captured, or a
    /// bound method of it passed on.
    receiver_escapes: Vec<bool>,
}

/// Per context, per function, the parameter slots owned because every start of the
/// function is an awaited handoff that passes an object the starter owns there: as the
/// receiver of a bound method (`job = Job(); await asyncio.to_thread(job.load)`), or as
/// an argument the handoff forwards (`await asyncio.to_thread(render, job)`,
/// `Handoff::forwards_arguments`). The starter is suspended until the worker returns,
/// and nobody else holds the object, so the worker's run has it to itself. A starter's
/// parameter counts when it is owned in every context the starter runs in (`owned_in`
/// without these seeds).
fn awaited_handoff_seeds(
    program: &Program,
    contexts: &Contexts,
    passing: &Passing,
    owned_in: &[Vec<Vec<bool>>; 3],
    passes: &[usize],
    started: &[Vec<usize>; 3],
) -> [Vec<Vec<bool>>; 3] {
    let count = program.functions.len();
    let owned_by_starter = |caller: FuncId, owner: &Owner| {
        owner_owns(program, passing, caller, owner, |q| {
            contexts
                .contexts_of(caller)
                .all(|c| owned_in[c.index()][caller].get(q).copied().unwrap_or(false))
                && contexts.contexts_of(caller).next().is_some()
        })
    };
    let mut qualifying = Context::ALL.map(|_| vec![0usize; count]);
    // Per started method, its starts that name it and the base methods named by those
    // that dispatch to it.
    let mut named = vec![0usize; count];
    let mut bases: Vec<Vec<FuncId>> = vec![Vec::new(); count];
    // An entry counts once, however many of its arguments name the method.
    let mut counted = HashSet::new();
    for (entry, caller, _, arg, method) in awaited_bound_starts(program, contexts) {
        if owned_by_starter(caller, &arg.owner) && counted.insert(std::ptr::from_ref(entry)) {
            qualifying[entry.context.index()][entry.target] += 1;
            if method == entry.target {
                named[method] += 1;
            } else if !bases[entry.target].contains(&method) {
                bases[entry.target].push(method);
            }
        }
    }
    // Per context, function and parameter slot: the awaited starts forwarding an owned
    // object there.
    let mut forwarded: [Vec<Vec<usize>>; 3] = Context::ALL.map(|_| vec![Vec::new(); count]);
    for entry in contexts.entries.iter().filter(|e| e.awaited) {
        let (Some(first), Some((caller, call))) = (
            entry.forwarded_from,
            entry.site.as_ref().and_then(|site| site.call(program)),
        ) else {
            continue;
        };
        let params = program.function(entry.target).call_params.len();
        let counts = &mut forwarded[entry.context.index()][entry.target];
        counts.resize(params + 1, 0);
        for arg in call.owned_args.iter().filter(|a| a.member.is_none()) {
            let ArgSlot::Position(i) = arg.slot else {
                continue;
            };
            let slot = (i + 1)
                .checked_sub(first)
                .filter(|&s| s >= 1 && s <= params);
            if let Some(slot) = slot.filter(|_| owned_by_starter(caller, &arg.owner)) {
                counts[slot] += 1;
            }
        }
    }
    let all_starts = |f: FuncId| -> usize { started.iter().map(|s| s[f]).sum() };
    Context::ALL.map(|context| {
        let c = context.index();
        (0..count)
            .map(|f| {
                // Every pass of the method, or of a base method dispatching to it, as a
                // callable is a start: no callback elsewhere runs it on the object.
                let receiver = qualifying[c][f] > 0
                    && qualifying[c][f] == all_starts(f)
                    && passes[f] == named[f]
                    && bases[f].iter().all(|&b| passes[b] == all_starts(b));
                // Every start forwards an owned object to the slot, and every pass of
                // the function is such a start.
                let arguments = forwarded[c][f]
                    .iter()
                    .map(|&n| n > 0 && n == all_starts(f) && passes[f] == n);
                std::iter::once(receiver).chain(arguments.skip(1)).collect()
            })
            .collect()
    })
}

/// Each awaited handoff that starts a bound method of an object its caller owns
/// (`await asyncio.to_thread(job.load)`), with the caller, the call, that argument and
/// the method it names (the started one, or the base method it overrides).
fn awaited_bound_starts<'p, 'm>(
    program: &'p Program<'m>,
    contexts: &'p Contexts,
) -> impl Iterator<Item = (&'p EntryPoint, FuncId, &'m CallSite, &'m OwnedArg, FuncId)> + 'p {
    contexts.entries.iter().flat_map(move |entry| {
        let site = entry.site.as_ref().filter(|_| entry.awaited);
        site.and_then(|site| site.call(program))
            .into_iter()
            .flat_map(move |(caller, call)| {
                let file = program.file_of(caller);
                call.owned_args.iter().filter_map(move |arg| {
                    let passed = match &arg.slot {
                        ArgSlot::Position(i) => call.args.get(*i),
                        ArgSlot::Keyword(k) => {
                            call.keywords.iter().find(|(n, _)| n == k).map(|(_, a)| a)
                        }
                        ArgSlot::Receiver => None,
                    };
                    let Some(Arg::Callable(callee)) = passed.filter(|_| arg.member.is_some())
                    else {
                        return None;
                    };
                    // The method itself, or an override of it the handoff dispatches
                    // to (`to_thread(self.decompress_sync)` in a base class).
                    match resolve_call(program, file, callee) {
                        CallTarget::Function(f)
                            if f == entry.target
                                || program.function(f).name
                                    == program.function(entry.target).name =>
                        {
                            Some((entry, caller, call, arg, f))
                        }
                        _ => None,
                    }
                })
            })
    })
}

/// Per function, the parameters whose member it passes where the callee may keep the
/// object: a bound method (`register(self.on_event)`), or a member racelint cannot
/// tell from one, unless the call is an awaited handoff starting that very method
/// (`await asyncio.to_thread(self.load)`), or a call that only runs it there
/// (`retry(self.load)`: `Contexts::invoked`). An attribute's value
/// (`render(self.hass)`) is another object: the parameter's own does not escape with
/// it.
fn member_escapes(program: &Program, contexts: &Contexts) -> Vec<Vec<usize>> {
    let started: HashSet<(FuncId, Span, &ArgSlot)> = awaited_bound_starts(program, contexts)
        .map(|(_, caller, call, arg, _)| (caller, call.span, &arg.slot))
        .collect();
    let started = &started;
    let invoked: HashSet<(FuncId, usize, &str)> = contexts
        .invoked
        .keys()
        .map(|&(caller, index, f)| (caller, index, program.function(f).name.as_str()))
        .collect();
    let invoked = &invoked;
    (0..program.functions.len())
        .map(|f| {
            let model = program.function(f);
            let class = program.class_of_method(f);
            model
                .calls
                .iter()
                .enumerate()
                .flat_map(|(index, call)| {
                    call.owned_args.iter().filter_map(move |arg| {
                        let (Owner::Parameter(q), Some(member)) = (&arg.owner, &arg.member) else {
                            return None;
                        };
                        let class = match *q {
                            0 => class,
                            _ => arg
                                .member_of
                                .as_ref()
                                .and_then(|ty| program.class_of_type(program.file_of(f), ty)),
                        };
                        let attribute = class.is_some_and(|c| program.is_value_member(c, member));
                        let lent = started.contains(&(f, call.span, &arg.slot))
                            || invoked.contains(&(f, index, member.as_str()));
                        (!attribute && !lent).then_some(*q)
                    })
                })
                .collect()
        })
        .collect()
}
