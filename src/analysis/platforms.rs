//! Platform exclusion: code under `if sys.platform == "win32":` and code under its
//! `else` (or after `if sys.platform == "win32": …; return`) never run in one process,
//! so their accesses never race. The platform a process runs on is fixed for its
//! life; the front-end records which byte ranges of a body run under which test
//! (`Function::platform_branches`) and what a `def` is defined under
//! (`Function::defined_under`).
//!
//! Per function and context, the tests every way of running it there passes: the
//! meet (intersection) over its calls made in that context and the handoffs that
//! start it there of the tests in force at the call, a greatest fixpoint. A function
//! reached some other way (an entry point no project code starts) is under none.
//! Query: `exclusive(program, a, ca, b, cb)`.

use std::collections::VecDeque;

use super::contexts::{Context, Contexts};
use super::resolve::{FuncId, Program};
use super::state::StateAccess;
use crate::model::PlatformTest;

/// How a function is started in a context: from a handoff at an offset of a
/// function's body, or (`None`) by no project code.
type Start = (Context, Option<(FuncId, usize)>);

pub struct Platforms {
    /// Per function, per context: the tests it runs under there (empty when none, or
    /// when the program has no platform tests at all).
    under: Vec<[Vec<PlatformTest>; 3]>,
}

impl Platforms {
    pub fn compute(program: &Program, contexts: &Contexts) -> Platforms {
        let count = program.functions.len();
        let mut under = vec![[Vec::new(), Vec::new(), Vec::new()]; count];
        let tested = (0..count).any(|f| {
            let model = program.function(f);
            !model.platform_branches.is_empty() || !model.defined_under.is_empty()
        });
        if !tested {
            return Platforms { under };
        }
        // `None`: every test (not yet constrained by a way in); the fixpoint only
        // narrows.
        let mut state: Vec<[Option<Vec<PlatformTest>>; 3]> = vec![[None, None, None]; count];
        let mut started: Vec<Vec<Start>> = vec![Vec::new(); count];
        for entry in &contexts.entries {
            let from = entry
                .site
                .as_ref()
                .and_then(|site| site.caller.map(|caller| (caller, site.span.offset)));
            started[entry.target].push((entry.context, from));
        }
        // Who to look at again when a function's tests change: its callees and what it
        // starts.
        let mut starts: Vec<Vec<FuncId>> = vec![Vec::new(); count];
        for (target, ways) in started.iter().enumerate() {
            for &(_, from) in ways {
                if let Some((caller, _)) = from {
                    starts[caller].push(target);
                }
            }
        }
        let mut queue: VecDeque<FuncId> = (0..count).collect();
        let mut queued = vec![true; count];
        while let Some(f) = queue.pop_front() {
            queued[f] = false;
            let mut changed = false;
            {
                for context in Context::ALL {
                    let c = context.index();
                    if contexts.reach[f][c].is_none() {
                        continue;
                    }
                    let mut meet: Option<Vec<PlatformTest>> = None;
                    let mut admit = |tests: Vec<PlatformTest>| {
                        meet = Some(match meet.take() {
                            None => tests,
                            Some(acc) => acc.into_iter().filter(|t| tests.contains(t)).collect(),
                        });
                    };
                    let mut ways = 0;
                    for &(caller, call) in &contexts.callers[f] {
                        if contexts.reach[caller][c].is_none() {
                            continue;
                        }
                        ways += 1;
                        if let Some(tests) = &state[caller][c] {
                            let offset = program.function(caller).calls[call].span.offset;
                            admit(with_tests_at(program, caller, offset, tests));
                        }
                    }
                    for &(entry_context, from) in &started[f] {
                        if entry_context != context {
                            continue;
                        }
                        ways += 1;
                        let Some((caller, offset)) = from else {
                            admit(Vec::new());
                            continue;
                        };
                        // The starter may run in any context: what all of them pass. One
                        // no context reaches (a function only a user of the library
                        // calls) runs under what it is defined under.
                        let reached = Context::ALL
                            .into_iter()
                            .filter(|cc| contexts.reach[caller][cc.index()].is_some());
                        let mut any = false;
                        for cc in reached {
                            any = true;
                            if let Some(tests) = &state[caller][cc.index()] {
                                admit(with_tests_at(program, caller, offset, tests));
                            }
                        }
                        if !any {
                            let defined = &program.function(caller).defined_under;
                            admit(with_tests_at(program, caller, offset, defined));
                        }
                    }
                    if ways == 0 {
                        admit(Vec::new());
                    }
                    let Some(mut tests) = meet else { continue };
                    for t in &program.function(f).defined_under {
                        if !tests.contains(t) {
                            tests.push(t.clone());
                        }
                    }
                    tests.sort();
                    if state[f][c].as_ref() != Some(&tests) {
                        state[f][c] = Some(tests);
                        changed = true;
                    }
                }
            }
            if changed {
                let next = contexts.callees[f].iter().map(|&(callee, _)| callee);
                for g in next.chain(starts[f].iter().copied()) {
                    if !std::mem::replace(&mut queued[g], true) {
                        queue.push_back(g);
                    }
                }
            }
        }
        for (f, contexts) in state.into_iter().enumerate() {
            for (c, tests) in contexts.into_iter().enumerate() {
                under[f][c] = tests.unwrap_or_default();
            }
        }
        Platforms { under }
    }

    /// Whether `a`, run in `ca`, and `b`, run in `cb`, need platforms that no process
    /// has at once (`sys.platform == "win32"` on one side, `!= "win32"` on the other).
    pub fn exclusive(
        &self,
        program: &Program,
        a: &StateAccess,
        ca: Context,
        b: &StateAccess,
        cb: Context,
    ) -> bool {
        let tests = |x: &StateAccess, c: Context| {
            with_tests_at(
                program,
                x.function,
                x.access.span.offset,
                &self.under[x.function][c.index()],
            )
        };
        let (ta, tb) = (tests(a, ca), tests(b, cb));
        ta.iter().any(|t| tb.iter().any(|u| t.excludes(u)))
    }
}

/// `tests` with those of `function`'s branches around `offset`.
fn with_tests_at(
    program: &Program,
    function: FuncId,
    offset: usize,
    tests: &[PlatformTest],
) -> Vec<PlatformTest> {
    let mut all = tests.to_vec();
    for branch in &program.function(function).platform_branches {
        if branch.start <= offset && offset < branch.end && !all.contains(&branch.test) {
            all.push(branch.test.clone());
        }
    }
    all
}
