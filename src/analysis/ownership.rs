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
//! passed as a callable, decorated, or a dunder method (called by protocols). A call on
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

use super::contexts::{resolve_call, CallTarget, Context, Contexts, EntryPoint};
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use crate::model::{Access, Arg, ArgSlot, CallSite, FileId, Language, OwnedArg, Owner, Span};

pub struct Ownership {
    /// Per function, per parameter slot (0 is the receiver): whether it is owned.
    owned: Vec<Vec<bool>>,
    /// Per context, per function, per parameter slot: whether every call made in that
    /// context passes an owned object.
    owned_in: [Vec<Vec<bool>>; 3],
}

impl Ownership {
    pub fn compute(program: &Program, contexts: &Contexts) -> Ownership {
        let count = program.functions.len();
        let passes = &contexts.callable_passes;
        let launched = launched_calls(program, contexts);
        // Whether nothing can call a function in a way the call graph does not show.
        let known: Vec<bool> = (0..count)
            .map(|f| {
                let model = program.function(f);
                program.files[program.file_of(f)].language == Language::Python
                    && model.decorators.is_empty()
                    && !model.name.starts_with("__")
            })
            .collect();
        let escaping_members = member_escapes(program, contexts);
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
            &launched,
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
            &vec![false; count],
        );
        let mut started = [
            vec![0usize; count],
            vec![0usize; count],
            vec![0usize; count],
        ];
        for entry in contexts.entries.iter().filter(|e| e.site.is_some()) {
            started[entry.context.index()][entry.target] += 1;
        }
        let per_context = |seeds: &[Vec<bool>; 3]| {
            Context::ALL.map(|context| {
                let c = context.index();
                let seeded = &seeds[c];
                let initial = (0..count)
                    .map(|f| {
                        let called = contexts.callers[f]
                            .iter()
                            .any(|&(caller, _)| contexts.reach[caller][c].is_some());
                        let started_here = started[c][f] > 0 || passes[f] > 0;
                        let mut owned = slots(
                            f,
                            known[f]
                                && contexts.reach[f][c].is_some()
                                && (seeded[f] || (called && !started_here)),
                        );
                        if seeded[f] {
                            // Only the receiver is known: the handoff passes the rest.
                            owned.iter_mut().skip(1).for_each(|slot| *slot = false);
                        }
                        owned
                    })
                    .collect();
                greatest_fixpoint(
                    program,
                    contexts,
                    &launched,
                    initial,
                    |caller| contexts.reach[caller][c].is_some(),
                    seeded,
                )
            })
        };
        let unseeded = per_context(&[vec![false; count], vec![false; count], vec![false; count]]);
        let seeds = awaited_handoff_seeds(program, contexts, &unseeded, passes, &started);
        let owned_in = per_context(&seeds);
        Ownership { owned, owned_in }
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
    launched: &HashSet<(FuncId, usize)>,
    mut owned: Vec<Vec<bool>>,
    counts: impl Fn(FuncId) -> bool,
    seeded: &[bool],
) -> Vec<Vec<bool>> {
    loop {
        let mut changed = false;
        for f in 0..owned.len() {
            for slot in 0..owned[f].len() {
                if owned[f][slot]
                    && !every_call_passes_owned(
                        program, contexts, launched, &owned, f, slot, &counts, seeded[f],
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
    launched: &HashSet<(FuncId, usize)>,
    owned: &[Vec<bool>],
    function: FuncId,
    slot: usize,
    counts: impl Fn(FuncId) -> bool,
    seeded: bool,
) -> bool {
    let params = &program.function(function).call_params;
    let mut calls = contexts.callers[function]
        .iter()
        .filter(|&&(caller, _)| counts(caller))
        .peekable();
    // A function reached only some other way (no counted call) has unknown arguments,
    // unless its every start is an awaited handoff of an owned object's method.
    (seeded || calls.peek().is_some())
        && calls.all(|&(caller, index)| {
            let call = &program.function(caller).calls[index];
            !launched.contains(&(caller, index))
                && call
                    .owned_args
                    .iter()
                    .filter(|arg| arg.member.is_none())
                    .find(|arg| match &arg.slot {
                        ArgSlot::Receiver => slot == 0,
                        ArgSlot::Position(i) => slot == i + 1,
                        ArgSlot::Keyword(name) => slot > 0 && params.get(slot - 1) == Some(name),
                    })
                    .is_some_and(|arg| {
                        owner_owns(program, caller, &arg.owner, |q| {
                            owned[caller].get(q).copied().unwrap_or(false)
                        })
                    })
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
        Resolved {
            target: Target::Class(class),
            residual: 0,
        } => {
            classes.push(class);
            true
        }
        Resolved {
            target: Target::Function(factory),
            residual: 0,
        } if depth < 3 => {
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
    }
}

/// Per context, the methods whose receiver is owned because every start of them is an
/// awaited handoff of a bound method of an object the starter owns
/// (`job = Job(); await asyncio.to_thread(job.load)`): the starter is suspended until the
/// method returns, and nobody else holds the object yet, so the method's run has it to
/// itself. A starter's parameter counts when it is owned in every context the starter
/// runs in (`owned_in` without these seeds).
fn awaited_handoff_seeds(
    program: &Program,
    contexts: &Contexts,
    owned_in: &[Vec<Vec<bool>>; 3],
    passes: &[usize],
    started: &[Vec<usize>; 3],
) -> [Vec<bool>; 3] {
    let count = program.functions.len();
    let mut qualifying = [
        vec![0usize; count],
        vec![0usize; count],
        vec![0usize; count],
    ];
    // Per started method, its starts that name it and the base methods named by those
    // that dispatch to it.
    let mut named = vec![0usize; count];
    let mut bases: Vec<Vec<FuncId>> = vec![Vec::new(); count];
    // An entry counts once, however many of its arguments name the method.
    let mut counted = HashSet::new();
    for (entry, caller, _, arg, method) in awaited_bound_starts(program, contexts) {
        let owned_receiver = owner_owns(program, caller, &arg.owner, |q| {
            contexts
                .contexts_of(caller)
                .all(|c| owned_in[c.index()][caller].get(q).copied().unwrap_or(false))
                && contexts.contexts_of(caller).next().is_some()
        });
        if owned_receiver && counted.insert(std::ptr::from_ref(entry)) {
            qualifying[entry.context.index()][entry.target] += 1;
            if method == entry.target {
                named[method] += 1;
            } else if !bases[entry.target].contains(&method) {
                bases[entry.target].push(method);
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
                qualifying[c][f] > 0
                    && qualifying[c][f] == all_starts(f)
                    && passes[f] == named[f]
                    && bases[f].iter().all(|&b| passes[b] == all_starts(b))
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
/// (`await asyncio.to_thread(self.load)`). An attribute's value (`render(self.hass)`)
/// is another object: the parameter's own does not escape with it.
fn member_escapes(program: &Program, contexts: &Contexts) -> Vec<Vec<usize>> {
    let started: HashSet<(FuncId, Span, &ArgSlot)> = awaited_bound_starts(program, contexts)
        .map(|(_, caller, call, arg, _)| (caller, call.span, &arg.slot))
        .collect();
    let started = &started;
    (0..program.functions.len())
        .map(|f| {
            let model = program.function(f);
            let class = program.class_of_method(f);
            model
                .calls
                .iter()
                .flat_map(|call| {
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
                        let lent = started.contains(&(f, call.span, &arg.slot));
                        (!attribute && !lent).then_some(*q)
                    })
                })
                .collect()
        })
        .collect()
}
