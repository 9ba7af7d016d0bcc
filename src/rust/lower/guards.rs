//! Lock guards and their live ranges, `.await` points, and check-then-act sequences.
//!
//! A guard bound by `let` lives until its block ends, `drop(guard)`, or a move into a
//! call; a temporary guard until the end of its statement, except in an `if` or `while`
//! condition, which is a scope of its own (`if let` and `match` keep theirs to the end
//! of the statement, as in the 2021 edition).

use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Stmt};

use super::types::Known;
use super::Lowerer;
use crate::model::{Await, Callee, CheckKind, CheckThenAct, Guard, GuardKind, Span};

/// An atomic `load` in the statement being lowered.
pub(in crate::rust) struct Load {
    pub state: String,
    pub span: Span,
    /// The atomic as written (`self.peak`).
    pub subject: String,
}

/// A decision on shared state that code is acting on.
#[derive(Clone)]
pub(in crate::rust) struct Check {
    pub state: String,
    /// The state as written at the check (`self.peak`, `CACHE.lock()`).
    pub subject: String,
    pub kind: CheckKind,
    pub span: Span,
    /// First line of the decision (the `let` or the `if`).
    pub first_line: u32,
    /// Blocking locks held when the decision was made.
    pub locks: Vec<String>,
    /// The names the deciding condition reads (`current` in `if current > peak`).
    pub names: Vec<String>,
    /// Made by an `if` whose branch leaves, for the code after it (`if_expr`).
    pub after_leaving: bool,
}

impl Lowerer<'_> {
    /// A guard acquired at `node` (a blocking lock until an `.await` says otherwise, or
    /// a borrow); a temporary until a `let` binds it. Taking a lock a decision in force
    /// was made under is the act of a check-then-act.
    pub(super) fn new_guard(
        &mut self,
        lock: String,
        kind: GuardKind,
        receiver: Known,
        helper: Option<String>,
        node: impl Spanned,
    ) -> usize {
        let span = self.span(node.span());
        if kind == GuardKind::Lock {
            self.act(&lock, CheckKind::Lock, span);
        }
        let index = self.push_guard(lock, kind == GuardKind::Lock, helper, None, span);
        let guard = &mut self.function_mut().guards[index];
        guard.kind = kind;
        guard.lock_type = receiver.lock_type;
        guard.receiver_type = receiver.mentions;
        index
    }

    /// The value a `let` binds from a call: a guard if the callee turns out to return
    /// one (`let g = state.orders();` with `fn orders(&self) -> MutexGuard<…>`).
    pub(super) fn helper_guard(
        &mut self,
        callee: Callee,
        helper: String,
        node: impl Spanned,
    ) -> usize {
        let span = self.span(node.span());
        let lock = match &callee {
            Callee::Path(path) | Callee::Method(path) => path.clone(),
        };
        self.push_guard(lock, true, Some(helper), Some(callee), span)
    }

    /// Whether `node` is the call a `let` binds the result of.
    pub(super) fn is_bound(&self, node: &impl Spanned) -> bool {
        let range = node.span().byte_range();
        self.frame().bound_call == Some((range.start, range.end))
    }

    fn push_guard(
        &mut self,
        lock: String,
        blocking: bool,
        helper: Option<String>,
        callee: Option<Callee>,
        span: Span,
    ) -> usize {
        let statement_lines = self.frame().statement_lines;
        let in_loop = self.frame().loop_depth > 0;
        let guards = &mut self.function_mut().guards;
        guards.push(Guard {
            lock,
            kind: GuardKind::Lock,
            lock_type: None,
            receiver_type: Vec::new(),
            span,
            binding: None,
            blocking,
            helper,
            callee,
            statement_lines,
            live_until: statement_lines.1,
            in_loop,
        });
        let index = guards.len() - 1;
        self.frame_mut().temps.push(index);
        index
    }

    pub(super) fn bind_guard(&mut self, guard: usize, name: &str) {
        let frame = self.frame_mut();
        frame.temps.retain(|&t| t != guard);
        let depth = frame.scopes.len();
        frame.live.push(super::body::Live {
            guard,
            depth,
            binding: name.to_string(),
        });
        self.function_mut().guards[guard].binding = Some(name.to_string());
    }

    /// `let g = …;` shadows a guard bound to `g` in the same block: the old guard lives
    /// on to the end of its block, but no later `drop(g)` can name it. (A shadow in an
    /// inner block ends with it, and a `drop` there never ends an outer guard.)
    pub(super) fn shadow_guard(&mut self, name: &str) {
        let frame = self.frame_mut();
        let depth = frame.scopes.len();
        for live in frame
            .live
            .iter_mut()
            .filter(|l| l.binding == name && l.depth == depth)
        {
            live.binding.clear();
        }
    }

    /// `let new = old;` moves the guard: it now lives as long as `new`.
    pub(super) fn rename_guard(&mut self, old: &str, new: &str) {
        let frame = self.frame_mut();
        let depth = frame.scopes.len();
        let Some(live) = frame.live.iter_mut().rev().find(|l| l.binding == old) else {
            return;
        };
        live.binding = new.to_string();
        live.depth = depth;
        let guard = live.guard;
        self.function_mut().guards[guard].binding = Some(new.to_string());
    }

    /// A guard moved into a call at the depth it was bound at ends there. A move in a
    /// nested block (`if done { drop(g); return; }`) may not happen: the guard stays live.
    pub(super) fn release_binding(&mut self, name: &str, line: u32) {
        let frame = self.frame_mut();
        let depth = frame.scopes.len();
        let Some(position) = frame
            .live
            .iter()
            .rposition(|l| l.binding == name && l.depth == depth)
        else {
            return;
        };
        let live = frame.live.remove(position);
        self.function_mut().guards[live.guard].live_until = line;
    }

    pub(super) fn release_moved(&mut self, moved: super::body::Moves, line: u32) {
        for name in moved.bindings {
            self.release_binding(&name, line);
        }
        self.frame_mut().temps.retain(|t| !moved.temps.contains(t));
        for guard in moved.temps {
            self.function_mut().guards[guard].live_until = line;
        }
    }

    /// A block ends: guards bound in it are dropped.
    pub(super) fn release_scope(&mut self, depth: usize, line: u32) {
        let frame = self.frame_mut();
        let (ended, kept): (Vec<_>, Vec<_>) = frame.live.drain(..).partition(|l| l.depth >= depth);
        frame.live = kept;
        for live in ended {
            self.function_mut().guards[live.guard].live_until = line;
        }
    }

    pub(super) fn end_temporaries(&mut self, mark: usize, line: u32) {
        let frame = self.frame_mut();
        let ended: Vec<usize> = frame.temps.drain(mark.min(frame.temps.len())..).collect();
        for guard in ended {
            self.function_mut().guards[guard].live_until = line;
        }
    }

    /// The locks held now: (blocking, async-aware).
    pub(super) fn held(&self) -> (Vec<String>, Vec<String>) {
        let Some(frame) = self.frames.last() else {
            return (Vec::new(), Vec::new());
        };
        let guards = &self.functions[frame.func].guards;
        let mut blocking = Vec::new();
        let mut aware = Vec::new();
        // Values bound from calls are not known to be locks here; borrows are none.
        for index in frame
            .live
            .iter()
            .map(|l| l.guard)
            .chain(frame.temps.iter().copied())
            .filter(|&g| guards[g].callee.is_none() && guards[g].kind == GuardKind::Lock)
        {
            let guard = &guards[index];
            let list = if guard.blocking {
                &mut blocking
            } else {
                &mut aware
            };
            if !list.contains(&guard.lock) {
                list.push(guard.lock.clone());
            }
        }
        (blocking, aware)
    }

    pub(super) fn record_await(&mut self, token: proc_macro2::Span) {
        let span = self.span(token);
        let frame = self.frame();
        let guards = &self.functions[frame.func].guards;
        let live: Vec<usize> = frame
            .live
            .iter()
            .map(|l| l.guard)
            .chain(frame.temps.iter().copied())
            .filter(|&g| guards[g].blocking || guards[g].kind == GuardKind::Borrow)
            .collect();
        let (locks, _) = self.held();
        self.function_mut().awaits.push(Await {
            span,
            locks,
            acquires: None,
            guards: live,
        });
    }

    /// `if cond { … } else { … }`: the condition's temporaries die before the branches
    /// run, and the decisions it makes are in force inside them. An `if` with no `else`
    /// whose branch leaves (`return`, `break`, `continue`, `panic!`) decides for the
    /// rest of its block too: `if let Some(v) = cache.read().get(&k) { return v; }`
    /// followed by `cache.write().insert(k, v)` acts on the check, whose guard the
    /// `if let` dropped at its end.
    pub(super) fn if_expr(&mut self, expr: &syn::ExprIf) {
        let checks = self.frame().checks.len();
        let decided = match &*expr.cond {
            Expr::Let(_) => {
                let mark = self.frame().temps.len();
                let loads = self.frame().loads.len();
                self.expr(&expr.cond);
                let line = self.span(expr.cond.span()).start.line;
                self.decision_list(mark, loads, None, line)
                    .unwrap_or_default()
            }
            cond => {
                self.condition(cond);
                self.frame().checks[checks..].to_vec()
            }
        };
        self.block(&expr.then_branch);
        if let Some((_, other)) = &expr.else_branch {
            self.expr(other);
        }
        self.frame_mut().checks.truncate(checks);
        if expr.else_branch.is_none() && leaves(&expr.then_branch) {
            let after = decided.into_iter().map(|check| Check {
                after_leaving: true,
                ..check
            });
            self.frame_mut().checks.extend(after);
        }
    }

    /// An `if`/`while` condition: temporaries end with it; locks it took, atomics it
    /// loaded and decided locals it reads become decisions in force.
    pub(super) fn condition(&mut self, cond: &Expr) {
        let mark = self.frame().temps.len();
        let loads = self.frame().loads.len();
        self.expr(cond);
        let span = self.span(cond.span());
        let mut decisions = self
            .decision_list(mark, loads, None, span.start.line)
            .unwrap_or_default();
        let names = mentioned(cond);
        for name in &names {
            if let Some(derived) = self.local(name).and_then(|l| l.derived.clone()) {
                decisions.push(derived);
            }
        }
        for decision in &mut decisions {
            decision.names.clone_from(&names);
        }
        self.end_temporaries(mark, span.end.line);
        self.frame_mut().loads.truncate(loads);
        self.frame_mut().checks.extend(decisions);
    }

    /// What `let x = <init>` decided: the lock its temporary guard was taken under, or
    /// the atomic it loaded.
    pub(super) fn decision(
        &self,
        temps: usize,
        loads: usize,
        bound: Option<usize>,
    ) -> Option<Check> {
        let line = self.frame().statement_lines.0;
        self.decision_list(temps, loads, bound, line)?.pop()
    }

    fn decision_list(
        &self,
        temps: usize,
        loads: usize,
        bound: Option<usize>,
        first_line: u32,
    ) -> Option<Vec<Check>> {
        let frame = self.frame();
        let guards = &self.functions[frame.func].guards;
        let (locks, _) = self.held();
        let mut decisions: Vec<Check> = frame
            .temps
            .get(temps..)?
            .iter()
            .filter(|&&g| {
                Some(g) != bound && guards[g].callee.is_none() && guards[g].kind == GuardKind::Lock
            })
            .map(|&g| Check {
                state: guards[g].lock.clone(),
                subject: String::new(),
                kind: CheckKind::Lock,
                span: guards[g].span,
                first_line,
                locks: locks
                    .iter()
                    .filter(|l| **l != guards[g].lock)
                    .cloned()
                    .collect(),
                names: Vec::new(),
                after_leaving: false,
            })
            .collect();
        decisions.extend(frame.loads.get(loads..)?.iter().map(|load| Check {
            state: load.state.clone(),
            subject: load.subject.clone(),
            kind: CheckKind::Atomic,
            span: load.span,
            first_line,
            locks: locks.clone(),
            names: Vec::new(),
            after_leaving: false,
        }));
        Some(decisions)
    }

    /// `A.store(value)` depending on an earlier load of `A`: `value` computed from it
    /// (`store(n + 1)`, `store(A.load(..) + 1)`), or chosen by comparing it with the
    /// loaded value (`if current > peak { store(current) }`). A store of something the
    /// decision never looked at (`if p.is_null() { store(mine) }`) is an
    /// initialisation, usually made under a lock racelint cannot see, and is left alone.
    pub(super) fn atomic_store(&mut self, state: &str, value: &Expr, span: Span) {
        let (locks, _) = self.held();
        let inline = self
            .frame()
            .loads
            .iter()
            .rev()
            .find(|load| load.state == state && load.span.offset > span.offset)
            .map(|load| Check {
                state: load.state.clone(),
                subject: load.subject.clone(),
                kind: CheckKind::Atomic,
                span: load.span,
                first_line: load.span.start.line,
                locks,
                names: Vec::new(),
                after_leaving: false,
            });
        let value_names = mentioned(value);
        let derived = value_names
            .iter()
            .filter_map(|name| self.local(name).and_then(|l| l.derived.clone()))
            .find(|d| d.kind == CheckKind::Atomic && d.state == state);
        let compared = || {
            self.frame()
                .checks
                .iter()
                .find(|c| {
                    c.kind == CheckKind::Atomic
                        && c.state == state
                        && c.names.iter().any(|n| value_names.contains(n))
                })
                .cloned()
        };
        if let Some(check) = inline.or(derived).or_else(compared) {
            self.record_act(check, span);
        }
    }

    fn act(&mut self, state: &str, kind: CheckKind, span: Span) {
        let check = self
            .frame()
            .checks
            .iter()
            .find(|c| c.state == state && c.kind == kind)
            .cloned();
        if let Some(check) = check {
            let leaving = check.after_leaving;
            let recorded = self.function_mut().check_then_act.len();
            self.record_act(check, span);
            if leaving && self.function_mut().check_then_act.len() > recorded {
                // The guard about to be pushed acts.
                let guard = self.function_mut().guards.len();
                self.frame_mut().leaving_acts.push((recorded, guard));
            }
        }
    }

    /// At the end of a statement: after an `if` that leaves, a guard the statement binds
    /// (`let mut map = cache.write().unwrap();`) is taken to decide again under it
    /// (`entry`), as a cache that fills on a miss does; only a temporary one acts blind.
    pub(super) fn drop_kept_acts(&mut self) {
        let acts = std::mem::take(&mut self.frame_mut().leaving_acts);
        for (act, guard) in acts.into_iter().rev() {
            let function = self.function_mut();
            if function
                .guards
                .get(guard)
                .is_some_and(|g| g.binding.is_some())
            {
                function.check_then_act.remove(act);
            }
        }
    }

    fn record_act(&mut self, check: Check, span: Span) {
        // `&mut self` methods own their object: nobody acts in between.
        let exclusive = self.frame().self_exclusive
            && self
                .self_type
                .as_ref()
                .is_some_and(|ty| check.state.starts_with(&format!("{ty}.")));
        let (held, _) = self.held();
        let function = self.function_mut();
        if exclusive
            || function
                .check_then_act
                .iter()
                .any(|c| c.check == check.span)
        {
            return;
        }
        function.check_then_act.push(CheckThenAct {
            state: check.state,
            subject: check.subject,
            kind: check.kind,
            check: check.span,
            act: span,
            lines: (check.first_line, span.end.line),
            locks: check
                .locks
                .into_iter()
                .filter(|l| held.contains(l))
                .collect(),
        });
    }
}

/// Whether a block always leaves the code after it: it ends in `return`, `break`,
/// `continue`, or a macro that panics or returns an error (`panic!`, `bail!`).
fn leaves(block: &syn::Block) -> bool {
    let leaving_macro = |mac: &syn::Macro| {
        mac.path.segments.last().is_some_and(|s| {
            matches!(
                s.ident.to_string().as_str(),
                "panic" | "unreachable" | "todo" | "unimplemented" | "bail"
            )
        })
    };
    match block.stmts.last() {
        Some(Stmt::Expr(expr, _)) => match expr {
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
            Expr::Macro(m) => leaving_macro(&m.mac),
            _ => false,
        },
        Some(Stmt::Macro(m)) => leaving_macro(&m.mac),
        _ => false,
    }
}

/// The single-identifier paths an expression reads.
fn mentioned(expr: &Expr) -> Vec<String> {
    struct Names(Vec<String>);
    impl<'ast> Visit<'ast> for Names {
        fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
            if let Some(ident) = node.path.get_ident() {
                self.0.push(ident.to_string());
            }
        }
    }
    let mut names = Names(Vec::new());
    names.visit_expr(expr);
    names.0
}
