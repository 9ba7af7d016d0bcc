//! Allocation-site origins: which constructions the object behind a parameter can come
//! from, per context. State is keyed by class (`EventCache._names`), so two requests'
//! caches built by one line are one location to the other analyses; but an object
//! built for one request and handed to its own executor job is not the one another
//! request builds (issue 10's "one identity per class"). Like a points-to analysis
//! with allocation sites as objects (Andersen's, kept to parameters), and RacerD's
//! ownership taken past the point where an object escapes to a thread.
//!
//! An object is a construction site (a call of a project class that builds a new object
//! each time, `holders::constructs_new`: a local bound once to it, `x = Job()`, or the
//! `self` of the `__init__` it runs),
//! optionally followed by one field that holds only objects built into it
//! (`analysis::holders`: `self._cache = {}` everywhere), which is also the `self` of the
//! construction that built it there (`Object::may_be`). A field of a method's own
//! receiver when nothing names the receiver (`self._runner` in a coroutine the loop
//! runs on any service) is such a field of some object of the class: none of the
//! objects local constructions build (unless some code stores attributes by computed
//! names into other objects: `Holders::set_by_name_anywhere`). The front-end says where each
//! object a call passes comes from (`CallSite::origins`); here those are joined over the
//! calls and the handoffs that reach each parameter in each context, to a least
//! fixpoint. Anything else a parameter can be given (an unknown argument, a library's
//! call, a callable kept in a location) makes it unknown, and unknown meets everything.
//!
//! Each object also records how it got there: built on the thread that uses it and
//! passed only through calls (`Via::Local`: each thread that runs the construction has
//! its own object), handed to exactly one worker by the handoff that follows its
//! construction (`Via::Started`: each start gets its own), or otherwise (`Via::Shared`).
//! Two accesses touch different objects when no object is common to both sides, or when
//! every common one is each thread's own.
//!
//! Queries: `apart(holders, identity, a, ca, b, cb)` for two accesses, and
//! `each_thread_its_own(holders, identity, a, context)` for one that several threads
//! run at once (RL102).

use std::sync::OnceLock;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::contexts::{Context, Contexts, EntryPoint};
use super::holders::{constructs_new, Holders};
use super::identity::Identity;
use super::invoked::{Feed, Invoked};
use super::resolve::{ClassId, FuncId, Program, Resolved, Target};
use super::state::StateAccess;
use crate::model::{AccessKind, Arg, ArgSlot, CallSite, Callee, FileId, Function, ValueOrigin};

/// More objects than this at one parameter: unknown (a generic helper, not a request's).
const MAX_OBJECTS: usize = 8;

/// An object: what the call at a byte offset of a file builds (of a class, when one
/// is known), or the object held in one field of such an object, or of an object of a
/// class that nothing names (`site` is `None`: some receiver of a method of that class).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Object<'m> {
    site: Option<(FileId, u32)>,
    class: Option<ClassId>,
    /// The field holding it, with the class of the object that holds it.
    field: Option<(&'m str, ClassId)>,
}

impl Object<'_> {
    /// Whether `self` and `other` can be one object. A field that holds only objects
    /// built into it (`holders`) holds no object another field holds: field objects
    /// meet field objects of the same name, of the same holder or, when one holder is
    /// unnamed, of holders of classes that can be one object. Its object is also the
    /// `self` of the construction that built it into the field (`self._worker =
    /// Worker()`, then `Worker.__init__` starting a thread on `self`), and no other
    /// construction's.
    fn may_be(&self, other: &Object, identity: &Identity, holders: &Holders) -> bool {
        let held_built = |(name, holder): (&str, ClassId), built: &Object| {
            built
                .site
                .is_some_and(|site| holders.may_hold_built(identity, name, holder, site))
        };
        match (self.field, other.field) {
            (None, None) => self == other,
            (Some((name, class)), Some((other_name, other_class))) => {
                name == other_name
                    && match (self.site, other.site) {
                        (Some(site), Some(other_site)) => site == other_site,
                        _ => identity.may_alias(class, other_class),
                    }
            }
            (Some(field), None) => held_built(field, other),
            (None, Some(field)) => held_built(field, self),
        }
    }
}

/// How an object reached a parameter from its construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Via {
    /// Through calls alone, on the thread that built it.
    Local,
    /// Handed to the worker of this handoff (index into `Contexts::entries`), which each
    /// evaluation of the handoff starts with an object built for it.
    Started(usize),
    /// Any other way (a closure's capture, two handoffs, a coroutine created for later).
    Shared,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value<'m> {
    /// Nothing reaches the parameter yet (during the fixpoint).
    Bottom,
    /// These objects, sorted, each once.
    Known(Vec<(Object<'m>, Via)>),
    Unknown,
}

impl<'m> Value<'m> {
    fn join(&mut self, other: &Value<'m>, via: impl Fn(Via) -> Via) {
        match (&mut *self, other) {
            (Value::Unknown, _) | (_, Value::Bottom) => {}
            (_, Value::Unknown) => *self = Value::Unknown,
            (Value::Bottom, Value::Known(objects)) => {
                *self = Value::Known(Vec::new());
                self.join(&Value::Known(objects.clone()), via);
            }
            (Value::Known(mine), Value::Known(objects)) => {
                for &(object, how) in objects {
                    let how = via(how);
                    match mine.binary_search_by(|(o, _)| o.cmp(&object)) {
                        Ok(at) if mine[at].1 != how => mine[at].1 = Via::Shared,
                        Ok(_) => {}
                        Err(at) => mine.insert(at, (object, how)),
                    }
                }
                if mine.len() > MAX_OBJECTS {
                    *self = Value::Unknown;
                }
            }
        }
    }
}

/// Per `(function, parameter slot)`: the objects it can be, sorted.
type Known<'m> = HashMap<(FuncId, usize), Vec<(Object<'m>, Via)>>;

pub struct Origins<'m> {
    /// Per context, per `(function, parameter slot)` that an access starts from (or that
    /// feeds one): the objects it can be, when known.
    known: [Known<'m>; 3],
    /// Attributes some class body gives an object that is no immutable literal
    /// (`hits = Tally()` in a subclass of a class with `hits = 0`): there, `self.hits
    /// += 1` may change the one object every instance shares.
    mutable_defaults: HashSet<&'m str>,
}

impl<'m> Origins<'m> {
    pub fn compute(
        program: &Program<'m>,
        contexts: &Contexts,
        identity: &Identity,
        holders: &Holders,
    ) -> Origins<'m> {
        let graph = Graph::new(program, contexts, identity, holders);
        let mutable_defaults = (0..program.classes.len())
            .flat_map(|class| &program.class(class).attributes)
            .filter(|a| a.class_level && !a.immutable_default)
            .map(|a| a.name.as_str())
            .collect();
        Origins {
            known: graph.solve(),
            mutable_defaults,
        }
    }

    /// The objects an access touches the attribute of, in `context`, when known: an
    /// instance attribute reached through a parameter (`self.x`, `job.x`). A change in
    /// place (`self.items.append(x)`) touches the object the attribute holds, which
    /// belongs to the one object only when the attribute, in objects of the receiver's
    /// class, holds only objects built into it.
    fn objects(
        &self,
        holders: &Holders,
        identity: &Identity,
        access: &StateAccess,
        context: Context,
    ) -> Option<&[(Object<'m>, Via)]> {
        let slot = access.access.root?;
        if access.handoff.is_some() || access.passed_object {
            return None;
        }
        let objects = self.known[context.index()].get(&(access.function, slot))?;
        // An object of a class the receiver's cannot be: something was bound to the
        // wrong parameter, and the analysis knows nothing here.
        let fits = |(object, _): &(Object, Via)| match (object.class, access.receiver) {
            (Some(class), Some(receiver)) => identity.may_alias(class, receiver),
            _ => true,
        };
        if !objects.iter().all(fits) {
            return None;
        }
        // The attribute's own slot is read or rebound by a plain read and a rebinding;
        // anything else may touch the object the slot holds (`self.n += 1` too, when
        // that object is a list).
        let in_place = access.kind != AccessKind::Rebind
            && (access.kind != AccessKind::Read
                || access.access.method.is_some()
                || access.access.element);
        match (access.receiver, access.own_attribute) {
            (Some(class), _) if in_place => {
                // A number or string held is changed by rebinding the slot (`self.n +=
                // 1`): then the access touches the receiver's own slot after all.
                let attribute = access.access.path.rsplit('.').next()?;
                if !holders.holds_alone(identity, attribute, class)
                    && !holders.holds_immutable(identity, attribute, class)
                {
                    return None;
                }
            }
            (Some(_), _) => {}
            // A class attribute: an object's own write shadows it for that object
            // alone (`apart` asks for one).
            (None, Some(_)) => {}
            (None, None) => return None,
        }
        Some(objects)
    }

    /// A write that gives the object an attribute of its own over its class's, when no
    /// class body gives the attribute an object that a subclass's instances share.
    fn shadows(&self, access: &StateAccess) -> bool {
        access.own_attribute.is_some_and(|(_, own)| own)
            && access
                .access
                .path
                .rsplit('.')
                .next()
                .is_some_and(|name| !self.mutable_defaults.contains(name))
    }

    /// Whether accesses `a` (in context `ca`) and `b` (in `cb`) touch different objects:
    /// both sides' objects are known, and each one they share is each thread's own.
    pub fn apart(
        &self,
        holders: &Holders,
        identity: &Identity,
        a: &StateAccess,
        ca: Context,
        b: &StateAccess,
        cb: Context,
    ) -> bool {
        // Through a class attribute, two objects meet at the class's value unless one
        // side gives its object an attribute of its own.
        let class_level = |x: &StateAccess| x.receiver.is_none();
        if (class_level(a) || class_level(b)) && !(self.shadows(a) || self.shadows(b)) {
            return false;
        }
        let (Some(x), Some(y)) = (
            self.objects(holders, identity, a, ca),
            self.objects(holders, identity, b, cb),
        ) else {
            return false;
        };
        x.iter().all(|(ox, vx)| {
            y.iter()
                .filter(|(oy, _)| ox.may_be(oy, identity, holders))
                .all(|(_, vy)| match (vx, vy) {
                    (Via::Local, Via::Local) => true,
                    (Via::Started(e), Via::Started(f)) => e == f,
                    _ => false,
                })
        })
    }

    /// The handoff whose each start is given the one object accesses `w` (on a worker,
    /// in `cw`) and `l` (in `cl`) can share, which only the run of the starter that built
    /// it touches besides (`Via::Started` against `Via::Local`): then the two meet only
    /// within one run of the starter, and that run's order decides.
    pub fn one_run(
        &self,
        holders: &Holders,
        identity: &Identity,
        w: &StateAccess,
        cw: Context,
        l: &StateAccess,
        cl: Context,
    ) -> Option<usize> {
        let x = self.objects(holders, identity, w, cw)?;
        let y = self.objects(holders, identity, l, cl)?;
        let mut started = None;
        for (ox, vx) in x {
            for (_, vy) in y.iter().filter(|(oy, _)| ox.may_be(oy, identity, holders)) {
                let (Via::Started(e), Via::Local) = (vx, vy) else {
                    return None;
                };
                if started.is_some_and(|s| s != *e) {
                    return None;
                }
                started = Some(*e);
            }
        }
        started
    }

    /// Whether every object access `a` touches in `context` is the running thread's own:
    /// built there, or built for the start of that thread alone.
    pub fn each_thread_its_own(
        &self,
        holders: &Holders,
        identity: &Identity,
        a: &StateAccess,
        context: Context,
    ) -> bool {
        (a.receiver.is_some() || self.shadows(a))
            && self
                .objects(holders, identity, a, context)
                .is_some_and(|objects| objects.iter().all(|(_, via)| *via != Via::Shared))
    }
}

/// Where a parameter's object comes from at one call or handoff.
enum Source<'m> {
    /// The object the call itself constructs (`__init__`'s `self`).
    Constructed(Object<'m>),
    /// What the caller passed, with whether the call starts another thread's work.
    Passed(&'m ValueOrigin, FuncId, Handing),
    Unknown,
}

#[derive(Clone, Copy)]
enum Handing {
    /// A plain call: the callee runs on the caller's thread, at the call.
    Call,
    /// A call that creates a coroutine for later, or runs a function elsewhere.
    Later,
    /// A handoff to a worker: the entry, and whether it is evaluated once per run of
    /// the function that makes it.
    Handoff(usize, bool),
}

struct Graph<'p, 'm> {
    program: &'p Program<'m>,
    contexts: &'p Contexts,
    identity: &'p Identity,
    holders: &'p Holders,
    /// The pairs to solve, and for each the pairs whose value it reads.
    pairs: Vec<(FuncId, usize)>,
    index: HashMap<(FuncId, usize), usize>,
    readers: Vec<Vec<usize>>,
    entries_of: Vec<Vec<usize>>,
    /// Per class, once asked: `builds_new`.
    builds_new: Vec<OnceLock<bool>>,
    /// Per function, once asked: its calls (not property uses) by where they start,
    /// in order, each offset's first call first: `built` looks up one call among
    /// thousands (a registry's `run_all` calling each of its methods).
    calls_at: Vec<OnceLock<Vec<(usize, usize)>>>,
}

impl<'p, 'm> Graph<'p, 'm> {
    fn new(
        program: &'p Program<'m>,
        contexts: &'p Contexts,
        identity: &'p Identity,
        holders: &'p Holders,
    ) -> Self {
        let mut entries_of = vec![Vec::new(); program.functions.len()];
        for (e, entry) in contexts.entries.iter().enumerate() {
            entries_of[entry.target].push(e);
        }
        let mut graph = Graph {
            program,
            contexts,
            identity,
            holders,
            pairs: Vec::new(),
            index: HashMap::default(),
            readers: Vec::new(),
            entries_of,
            builds_new: (0..program.classes.len())
                .map(|_| OnceLock::new())
                .collect(),
            calls_at: (0..program.functions.len())
                .map(|_| OnceLock::new())
                .collect(),
        };
        // The slots accesses start from, then backwards to the slots that feed them.
        let mut queue = Vec::new();
        for f in 0..program.functions.len() {
            let mut slots: Vec<usize> = program
                .function(f)
                .accesses
                .iter()
                .filter_map(|a| a.root)
                .collect();
            slots.sort_unstable();
            slots.dedup();
            for slot in slots {
                if let Some(pair) = graph.add((f, slot)) {
                    queue.push(pair);
                }
            }
        }
        while let Some(pair) = queue.pop() {
            let (f, slot) = graph.pairs[pair];
            let mut fed_by = Vec::new();
            graph.sources(f, slot, |source| {
                if let Source::Passed(origin, caller, _) = source {
                    if let Some(p) = parameter_of(origin) {
                        fed_by.push((caller, p));
                    }
                }
            });
            for feeder in fed_by {
                let at = match graph.index.get(&feeder) {
                    Some(&at) => at,
                    None => match graph.add(feeder) {
                        Some(at) => {
                            queue.push(at);
                            at
                        }
                        None => continue,
                    },
                };
                graph.readers[at].push(pair);
            }
        }
        // A function calling another many times reads its slots once each.
        for readers in &mut graph.readers {
            readers.sort_unstable();
            readers.dedup();
        }
        graph
    }

    fn add(&mut self, pair: (FuncId, usize)) -> Option<usize> {
        if self.index.contains_key(&pair) {
            return None;
        }
        let at = self.pairs.len();
        self.pairs.push(pair);
        self.index.insert(pair, at);
        self.readers.push(Vec::new());
        Some(at)
    }

    /// The least fixpoint, in every context at once (a handoff's arguments are its
    /// caller's, in whatever contexts the caller runs); a slot nothing known reaches is
    /// unknown.
    fn solve(&self) -> [Known<'m>; 3] {
        let count = self.pairs.len();
        let reached = |c: usize, pair: usize| self.contexts.reach[self.pairs[pair].0][c].is_some();
        let mut values: [Vec<Value<'m>>; 3] = std::array::from_fn(|_| vec![Value::Bottom; count]);
        let mut queued: [Vec<bool>; 3] = std::array::from_fn(|_| vec![false; count]);
        let mut pending: Vec<(usize, usize)> = Vec::new();
        for (c, queued) in queued.iter_mut().enumerate() {
            for pair in (0..count).filter(|&p| reached(c, p)) {
                queued[pair] = true;
                pending.push((c, pair));
            }
        }
        // A change reaches the readers in every context: through a call in the same
        // one, through a handoff in the handoff's.
        let wake = |pair: usize, queued: &mut [Vec<bool>; 3], pending: &mut Vec<(usize, usize)>| {
            for &reader in &self.readers[pair] {
                for (c, queued) in queued.iter_mut().enumerate() {
                    if !queued[reader] && reached(c, reader) {
                        queued[reader] = true;
                        pending.push((c, reader));
                    }
                }
            }
        };
        for round in 0..2 {
            while let Some((c, pair)) = pending.pop() {
                queued[c][pair] = false;
                // Nothing raises what may be anything.
                if values[c][pair] == Value::Unknown {
                    continue;
                }
                let value = self.evaluate(pair, Context::ALL[c], &values);
                if value != values[c][pair] {
                    values[c][pair] = value;
                    wake(pair, &mut queued, &mut pending);
                }
            }
            // What still reaches nothing sits on a cycle no known object enters: it
            // may be given anything, and so may what it feeds.
            if round == 0 {
                for (c, values) in values.iter_mut().enumerate() {
                    for (pair, value) in values.iter_mut().enumerate() {
                        if *value == Value::Bottom && reached(c, pair) {
                            *value = Value::Unknown;
                            wake(pair, &mut queued, &mut pending);
                        }
                    }
                }
            }
        }
        values.map(|values| {
            self.pairs
                .iter()
                .zip(values)
                .filter_map(|(&pair, value)| match value {
                    Value::Known(objects) => Some((pair, objects)),
                    _ => None,
                })
                .collect()
        })
    }

    fn evaluate(&self, pair: usize, context: Context, values: &[Vec<Value<'m>>; 3]) -> Value<'m> {
        let (f, slot) = self.pairs[pair];
        let mut value = Value::Bottom;
        self.sources_in(f, slot, Some(context), |source| {
            match source {
                Source::Constructed(object) => {
                    value.join(&Value::Known(vec![(object, Via::Local)]), |v| v)
                }
                Source::Passed(origin, caller, handing) => {
                    // A call runs in its caller's context; a handoff's caller runs in
                    // any.
                    // A method runs only on objects of its class: of a local bound to
                    // several constructions, the receiver is one of those that fit.
                    let of = |values: &[Value<'m>]| match origin {
                        ValueOrigin::BuiltEither(ats) if slot == 0 => {
                            self.built_either(caller, ats, self.method_class(f))
                        }
                        _ => self.value_of(origin, caller, values),
                    };
                    let given = match handing {
                        Handing::Handoff(..) => {
                            let mut given = Value::Bottom;
                            for c in Context::ALL {
                                if self.contexts.reach[caller][c.index()].is_some() {
                                    given.join(&of(&values[c.index()]), |via| via);
                                }
                            }
                            given
                        }
                        _ => of(&values[context.index()]),
                    };
                    let direct =
                        matches!(origin, ValueOrigin::Built(_) | ValueOrigin::BuiltEither(_));
                    value.join(&given, |via| match handing {
                        Handing::Call => via,
                        Handing::Later => Via::Shared,
                        Handing::Handoff(entry, once) => match via {
                            Via::Local if direct && once => Via::Started(entry),
                            _ => Via::Shared,
                        },
                    });
                }
                Source::Unknown => value = Value::Unknown,
            }
            value != Value::Unknown
        });
        value
    }

    /// What `origin`, as `caller` passes it, can be.
    fn value_of(&self, origin: &'m ValueOrigin, caller: FuncId, values: &[Value<'m>]) -> Value<'m> {
        let file = self.program.file_of(caller);
        match origin {
            ValueOrigin::Built(at) => match self.built(caller, *at) {
                Some(class) => Value::Known(vec![(object(file, *at, Some(class)), Via::Local)]),
                None => Value::Unknown,
            },
            ValueOrigin::BuiltEither(ats) => self.built_either(caller, ats, None),
            ValueOrigin::Captured(at) => match self.program.captured_construction(caller, *at) {
                Some((builder, class)) if self.builds_new(class) => {
                    let via = self.captured_via(caller, builder);
                    Value::Known(vec![(object(file, *at, Some(class)), via)])
                }
                _ => Value::Unknown,
            },
            ValueOrigin::Parameter(p) => match self.index.get(&(caller, *p)) {
                Some(&at) => values[at].clone(),
                None => Value::Unknown,
            },
            ValueOrigin::Member(base, attribute) => match self.value_of(base, caller, values) {
                Value::Known(objects) => {
                    let mut held = Vec::with_capacity(objects.len());
                    for (object, via) in objects {
                        let alone =
                            |class| self.holders.holds_alone(self.identity, attribute, class);
                        let (None, Some(class)) =
                            (object.field, object.class.filter(|&c| alone(c)))
                        else {
                            return Value::Unknown;
                        };
                        // Of whatever class the field holds.
                        held.push((
                            Object {
                                field: Some((attribute.as_str(), class)),
                                class: None,
                                ..object
                            },
                            via,
                        ));
                    }
                    held.sort_unstable();
                    Value::Known(held)
                }
                Value::Unknown => self.own_field_of_unnamed(base, caller, attribute),
                other => other,
            },
        }
    }

    /// How an object that `builder` built reaches `closure`, which captures it: handed
    /// to one worker with the closure, when `builder` is the function the closure is
    /// written in, nothing calls the closure, and one handoff there starts it once per
    /// run of `builder` (each start captures that run's object); shared otherwise.
    fn captured_via(&self, closure: FuncId, builder: FuncId) -> Via {
        let file = self.program.file_of(closure);
        let written_in = self.program.function(closure).parent;
        let [e] = self.entries_of[closure][..] else {
            return Via::Shared;
        };
        let entry = &self.contexts.entries[e];
        let started_once = entry
            .site
            .as_ref()
            .and_then(|site| site.call(self.program))
            .is_some_and(|(starter, call)| {
                starter == builder
                    && !call.in_loop
                    && (!entry.concurrent || entry.concurrent_elsewhere)
                    && !entry.registered
            });
        if written_in.map(|index| self.program.function_id(file, index)) == Some(builder)
            && self.contexts.callers[closure].is_empty()
            && started_once
        {
            Via::Started(e)
        } else {
            Via::Shared
        }
    }

    /// The objects the calls at `ats` in `caller` build, when each builds one; with
    /// `fitting`, only those of classes that can be objects of that class (a method's
    /// receiver), if any is.
    fn built_either(&self, caller: FuncId, ats: &[u32], fitting: Option<ClassId>) -> Value<'m> {
        let file = self.program.file_of(caller);
        let mut objects = Vec::with_capacity(ats.len());
        for &at in ats {
            let Some(class) = self.built(caller, at) else {
                return Value::Unknown;
            };
            if fitting.is_none_or(|fitting| self.identity.may_alias(class, fitting)) {
                objects.push((object(file, at, Some(class)), Via::Local));
            }
        }
        if objects.is_empty() {
            return Value::Unknown;
        }
        objects.sort_unstable();
        objects.dedup();
        Value::Known(objects)
    }

    /// The class of an instance method, whose first parameter is an object of it.
    fn method_class(&self, function: FuncId) -> Option<ClassId> {
        self.program
            .class_of_method(function)
            .filter(|_| !self.program.function(function).is_class_or_static_method())
    }

    /// A field of a method's own receiver (`self._worker`) when nothing tells which
    /// object the receiver is: if the field, in objects of the method's class, holds
    /// only objects built into it (`self._worker = Worker()` wherever it is stored),
    /// what it holds is still no object a local construction or another field names
    /// (`runner = Worker(); runner.submit(f)` elsewhere is another object).
    fn own_field_of_unnamed(
        &self,
        base: &ValueOrigin,
        caller: FuncId,
        attribute: &'m str,
    ) -> Value<'m> {
        let class = self
            .program
            .class_of_method(caller)
            .filter(|_| !self.program.function(caller).is_class_or_static_method());
        match (base, class) {
            (ValueOrigin::Parameter(0), Some(class))
                if !self.holders.set_by_name_anywhere()
                    && self.holders.holds_alone(self.identity, attribute, class) =>
            {
                let held = Object {
                    site: None,
                    class: None,
                    field: Some((attribute, class)),
                };
                Value::Known(vec![(held, Via::Shared)])
            }
            _ => Value::Unknown,
        }
    }

    /// The project class the call at `at` in `function` builds a new object of.
    fn built(&self, function: FuncId, at: u32) -> Option<ClassId> {
        let calls = &self.program.function(function).calls;
        let starts = self.calls_at[function].get_or_init(|| {
            let mut starts: Vec<(usize, usize)> = calls
                .iter()
                .enumerate()
                .filter(|(_, call)| call.property.is_none())
                .map(|(index, call)| (call.span.offset, index))
                .collect();
            starts.sort_unstable();
            starts
        });
        let first = starts.partition_point(|&(offset, _)| offset < at as usize);
        let &(offset, index) = starts.get(first)?;
        if offset != at as usize {
            return None;
        }
        let call = &calls[index];
        let Callee::Path(path) = &call.callee else {
            return None;
        };
        match self.program.resolve(self.program.file_of(function), path) {
            Resolved {
                target: Target::Class(class),
                residual: 0,
            } if self.builds_new(class) => Some(class),
            _ => None,
        }
    }

    /// Whether calling `class` builds a new object each time (`holders::constructs_new`).
    fn builds_new(&self, class: ClassId) -> bool {
        *self.builds_new[class].get_or_init(|| constructs_new(self.program, class))
    }

    fn sources(&self, f: FuncId, slot: usize, mut visit: impl FnMut(Source<'m>)) {
        self.sources_in(f, slot, None, |source| {
            visit(source);
            true
        })
    }

    /// Each way parameter `slot` of `f` is given an object (in `context`, or in any),
    /// until `visit` says to stop.
    fn sources_in(
        &self,
        f: FuncId,
        slot: usize,
        context: Option<Context>,
        mut visit: impl FnMut(Source<'m>) -> bool,
    ) {
        let program = self.program;
        let contexts = self.contexts;
        let runs =
            |caller: FuncId| context.is_none_or(|c| contexts.reach[caller][c.index()].is_some());
        let callee = program.function(f);
        for &(caller, index) in &contexts.callers[f] {
            if !runs(caller) {
                continue;
            }
            // A function a call is given gets what the helper hands it of the call's
            // arguments (`Invoked::feeds`), on the caller's thread, at the call.
            if let Some(invocation) = contexts.invoked.get(&(caller, index, f)) {
                let call = &program.function(caller).calls[index];
                let file = program.file_of(caller);
                let origin = match Invoked::feeds(program, file, call, invocation, slot) {
                    _ if !keeps_parameters(callee) => None,
                    Some(Feed::Receiver(at)) => match call.origin_at(&at) {
                        Some(ValueOrigin::Member(base, _)) => Some(&**base),
                        _ => None,
                    },
                    Some(Feed::Argument(at, _)) => call.origin_at(&at),
                    None => None,
                };
                let source = match origin {
                    Some(origin) => Source::Passed(origin, caller, Handing::Call),
                    None => Source::Unknown,
                };
                if !visit(source) {
                    return;
                }
                continue;
            }
            if contexts.through_location.contains(&(caller, index))
                || contexts.through_holder.contains(&(caller, index, f))
            {
                if !visit(Source::Unknown) {
                    return;
                }
                continue;
            }
            let call = &program.function(caller).calls[index];
            if slot == 0 {
                if let Some(object) = self.constructed(caller, call, f) {
                    if !visit(Source::Constructed(object)) {
                        return;
                    }
                    continue;
                }
            }
            let handing = if callee.is_async && !call.awaited {
                Handing::Later
            } else {
                Handing::Call
            };
            let go_on = match passed(call, callee, slot) {
                Some(origin) => visit(Source::Passed(origin, caller, handing)),
                None => visit(Source::Unknown),
            };
            if !go_on {
                return;
            }
        }
        for &e in &self.entries_of[f] {
            let entry = &contexts.entries[e];
            if context.is_some_and(|c| entry.context != c) {
                continue;
            }
            // One evaluation of the handoff starts one run, unless it is in a loop,
            // starts several itself (`Executor.map`, a pool's `initializer`: all on the
            // objects it was given), or registers the target to run on demand.
            let once = |call: &CallSite| {
                !call.in_loop
                    && (!entry.concurrent || entry.concurrent_elsewhere)
                    && !entry.registered
            };
            let go_on = match self.handed(entry, f, slot) {
                Some((caller, call, origin)) => visit(Source::Passed(
                    origin,
                    caller,
                    Handing::Handoff(e, once(call)),
                )),
                None => visit(Source::Unknown),
            };
            if !go_on {
                return;
            }
        }
    }

    /// For `K(…)` running `__init__` (its own or a base's): the object it builds.
    fn constructed(&self, caller: FuncId, call: &CallSite, init: FuncId) -> Option<Object<'m>> {
        if self.program.function(init).name != "__init__" {
            return None;
        }
        let Callee::Path(path) = &call.callee else {
            return None;
        };
        if path.ends_with(".__init__") {
            return None;
        }
        let file = self.program.file_of(caller);
        match self.program.resolve(file, path) {
            Resolved {
                target: Target::Class(class),
                residual: 0,
            } if self.builds_new(class) => Some(object(file, call.span.offset as u32, Some(class))),
            _ => None,
        }
    }

    /// What the handoff `entry` passes parameter `slot` of its target `f`: the receiver
    /// of the bound method it hands (`to_thread(job.run)`), or an argument it forwards
    /// by position (`to_thread(fill, job)`).
    fn handed(
        &self,
        entry: &EntryPoint,
        f: FuncId,
        slot: usize,
    ) -> Option<(FuncId, &'m CallSite, &'m ValueOrigin)> {
        let (caller, call) = entry.site.as_ref()?.call(self.program)?;
        let target = self.program.function(f);
        if !keeps_parameters(target) {
            return None;
        }
        // The object whose bound method is handed (`to_thread(job.run)`). An instance
        // method handed any other way (`submit(Job.fill, job, batch)`) takes its `self`
        // from the arguments, which positions do not tell.
        let name = &target.name;
        let handed = |arg: &Arg| {
            matches!(arg, Arg::Callable(Callee::Path(p))
                if p.rsplit('.').next() == Some(name.as_str()))
        };
        let at = call
            .args
            .iter()
            .position(handed)
            .map(ArgSlot::Position)
            .or_else(|| {
                call.keywords
                    .iter()
                    .find(|(_, arg)| handed(arg))
                    .map(|(k, _)| ArgSlot::Keyword(k.clone()))
            });
        let receiver = match at.and_then(|at| call.origin_at(&at)) {
            Some(ValueOrigin::Member(base, member)) if member == name => Some(&**base),
            _ => None,
        };
        let instance_method = target.class.is_some() && !target.is_class_or_static_method();
        let origin = if slot == 0 {
            receiver?
        } else {
            if instance_method && receiver.is_none() {
                return None;
            }
            // `submit(partial(record, totals), spare)`: the partial's own arguments come
            // first.
            if !call.curried.is_empty() {
                return None;
            }
            let first = entry.forwarded_from?;
            call.origin_at(&ArgSlot::Position(first + slot - 1))?
        };
        Some((caller, call, origin))
    }
}

fn object<'m>(file: FileId, at: u32, class: Option<ClassId>) -> Object<'m> {
    Object {
        site: Some((file, at)),
        class,
        field: None,
    }
}

/// What `call` passes parameter `slot` of `callee`: its receiver (slot 0), or the
/// argument for the parameter, by keyword or by position (a keyword-only parameter
/// takes no position).
fn passed<'m>(call: &'m CallSite, callee: &Function, slot: usize) -> Option<&'m ValueOrigin> {
    if !keeps_parameters(callee) {
        return None;
    }
    if slot == 0 {
        return call.origin_at(&ArgSlot::Receiver);
    }
    let name = callee.call_params.get(slot - 1)?;
    call.origin_at(&ArgSlot::Keyword(name.clone())).or_else(|| {
        (slot - 1 < callee.positional_params)
            .then(|| call.origin_at(&ArgSlot::Position(slot - 1)))
            .flatten()
    })
}

/// Whether a call of `function` gives its parameters what the caller passes: no
/// decorator of its but the standard library's (`classmethod`, `functools.cache`,
/// `abc.abstractmethod`, a property's) stands between, which could pass others
/// (`fn(SHARED_LOG, *args)`).
fn keeps_parameters(function: &Function) -> bool {
    function.decorators.iter().all(|d| match &d.callee {
        Callee::Path(path) => {
            let module = path.split('.').next().unwrap_or_default();
            matches!(module, "classmethod" | "staticmethod" | "property")
                || crate::python::is_stdlib_module(module)
                || function.is_property_setter()
        }
        Callee::Method(_) => false,
    })
}

/// The caller's parameter an origin reads, directly or through a member.
fn parameter_of(origin: &ValueOrigin) -> Option<usize> {
    match origin {
        ValueOrigin::Parameter(p) => Some(*p),
        ValueOrigin::Member(base, _) => parameter_of(base),
        _ => None,
    }
}
