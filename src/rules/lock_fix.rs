//! The "add a lock" fix, written out for the code at hand: which lock (an existing
//! thread lock of the class or module, else a new one), where to create it, and each
//! unprotected statement wrapped in `with`; and the same as edits, for
//! `--unsafe-fixes`.

use std::collections::BTreeSet;

use super::edits::{insert_statement, wrap_lines};
use super::snapshot_fix::{snapshot_code, suspends};
use super::{Applicability, Autofix, Edit, Fix};
use crate::analysis::copying::COPY_METHODS;
use crate::analysis::state::{state_type, StateAccess, StateKey};
use crate::analysis::Analysis;
use crate::model::{FileId, InsertionPoint, Language, SymbolKind};

/// Builds the lock fix for `state`, wrapping every access that lacks the lock.
/// `lock`, when given, is the lock to use (the one the code already takes elsewhere).
pub fn lock_fix(
    analysis: &Analysis,
    state: &StateKey,
    accesses: &[StateAccess],
    lock: Option<&StateKey>,
) -> Fix {
    lock_fixes(analysis, state, accesses, lock).0
}

/// The lock fix as printed, and as the edits `--unsafe-fixes` applies when every part
/// of it can be written exactly (`LockPlan::autofix`).
pub fn lock_fixes(
    analysis: &Analysis,
    state: &StateKey,
    accesses: &[StateAccess],
    lock: Option<&StateKey>,
) -> (Fix, Option<Autofix>) {
    let program = &analysis.program;
    let existing = lock
        .map(|l| l.name().to_string())
        .or_else(|| existing_lock(analysis, state));
    // The lock as the accesses hold it: RL103's own key (it may be another class's or a
    // module's lock), else the existing lock where the state lives.
    let held = lock
        .cloned()
        .or_else(|| existing.as_ref().map(|name| lock_key(state, name)));
    let mut unprotected: Vec<&StateAccess> = accesses
        .iter()
        .filter(|a| held.as_ref().is_none_or(|k| !a.locks.contains(k)))
        .collect();
    unprotected.sort_by_key(|a| (display_path(analysis, a.file), a.access.span.start));
    let functions: BTreeSet<usize> = unprotected.iter().map(|a| a.function).collect();
    if functions.len() > MAX_WRAPPED_FUNCTIONS {
        return (design_fix(analysis, state, &unprotected), None);
    }
    let lock_name = existing
        .clone()
        .unwrap_or_else(|| new_lock_name(analysis, state));
    let mut blocks: Vec<Block> = Vec::new();
    let mut lines_listed: Vec<(String, u32)> = Vec::new();
    let mut covered: BTreeSet<(FileId, u32)> = BTreeSet::new();
    for group in unprotected.chunk_by(|a, b| a.function == b.function) {
        let first = group[0];
        let source = &program.files[first.file].source;
        let path = display_path(analysis, first.file);
        lines_listed.extend(
            group
                .iter()
                .map(|a| (path.clone(), a.access.span.start.line)),
        );
        let lock_expr = lock_expression(analysis, state, first, &lock_name);
        let key = held.clone().unwrap_or_else(|| lock_key(state, &lock_name));
        let exact = group.iter().all(|a| {
            exact_lock_expression(analysis, state, a, &key).as_deref() == Some(lock_expr.as_str())
        });
        let source_lines: Vec<&str> = source.lines().collect();
        let awaits = &program.function(first.function).awaits;
        let block = |lines: (u32, u32), code: Option<String>| Block {
            file: first.file,
            function: first.function,
            lines,
            lock_expr: lock_expr.clone(),
            exact,
            code,
        };
        // A thread lock must not be held across a suspension: a block that suspends
        // gives way to each access's own statement, and one of those that suspends too
        // to the code `snapshot_fix` writes for the accesses of that statement together.
        // Each access with its own statement, worked out once.
        let owns: Vec<(&StateAccess, (u32, u32))> = group
            .iter()
            .map(|&a| {
                let (first, last) = a.access.statement_lines;
                (a, valid_block(&source_lines, first, last))
            })
            .collect();
        let statements: Vec<(u32, u32)> = blocks_of(source, group, &lock_expr)
            .into_iter()
            .flat_map(|lines| {
                if suspends(&source_lines, awaits, lines) {
                    owns.iter()
                        .filter(|(a, _)| (lines.0..=lines.1).contains(&a.access.span.start.line))
                        .map(|&(_, own)| own)
                        .collect()
                } else {
                    vec![lines]
                }
            })
            .collect();
        for statement in statements {
            if covered.contains(&(first.file, statement.0)) {
                continue;
            }
            if !suspends(&source_lines, awaits, statement) {
                covered.extend((statement.0..=statement.1).map(|l| (first.file, l)));
                blocks.push(block(statement, None));
                continue;
            }
            // Only the statement's first line: statements nested in it that touch the
            // state are wrapped on their own.
            covered.insert((first.file, statement.0));
            let together: Vec<&StateAccess> = owns
                .iter()
                .filter(|&&(_, own)| own == statement)
                .map(|&(a, _)| a)
                .collect();
            let code = snapshot_code(
                source,
                awaits,
                statement,
                &together,
                &lock_expr,
                state.name(),
            );
            blocks.push(block(statement, Some(code)));
        }
    }
    lines_listed.dedup();
    let plan = LockPlan {
        state,
        lock_name,
        held: held.clone(),
        existing: existing.is_some(),
        reentrant: takes_twice(analysis, &blocks),
        blocks,
    };
    (plan.fix(analysis, &lines_listed), plan.autofix(analysis))
}

/// One run of statements to wrap in `with <lock_expr>:`.
struct Block {
    file: FileId,
    function: usize,
    /// First and last line, whole statements of one block.
    lines: (u32, u32),
    lock_expr: String,
    /// Every access of the block spells the lock as `lock_expr` exactly
    /// (`exact_lock_expression`): the edits may use it.
    exact: bool,
    /// For a statement that suspends, the code that replaces it instead of a `with`
    /// around it (`snapshot_fix`); no edit writes it.
    code: Option<String>,
}

/// The lock fix, worked out: which lock, and what to wrap.
struct LockPlan<'s> {
    state: &'s StateKey,
    lock_name: String,
    /// The existing lock, as the accesses that take it hold it.
    held: Option<StateKey>,
    /// The class or module already has the lock (nothing to create).
    existing: bool,
    /// A wrapped block can run into another on the same thread (`takes_twice`).
    reentrant: bool,
    blocks: Vec<Block>,
}

impl LockPlan<'_> {
    fn fix(&self, analysis: &Analysis, lines_listed: &[(String, u32)]) -> Fix {
        let program = &analysis.program;
        let state = self.state;
        let lock_name = &self.lock_name;
        let mut code = if self.existing {
            String::new()
        } else {
            lock_setup_text(analysis, state, lock_name, self.constructor())
        };
        let owner_file = owner_file(analysis, state, &self.blocks);
        for block in &self.blocks {
            let source = &program.files[block.file].source;
            let (start, end) = block.lines;
            code.push_str(&format!(
                "\n# {}:{start}\n",
                display_path(analysis, block.file)
            ));
            if block.file != owner_file && matches!(state, StateKey::Global { .. }) {
                code.push_str(&format!(
                    "# from {} import {lock_name}\n",
                    program.files[owner_file].module
                ));
            }
            if let Some(replacement) = &block.code {
                code.push_str(replacement);
                continue;
            }
            code.push_str(&format!("with {}:\n", block.lock_expr));
            for text in dedent(source, start, end) {
                code.push_str("    ");
                code.push_str(&text);
                code.push('\n');
            }
        }
        let state_name = state.display(program);
        let places = places(lines_listed);
        let description = if self.existing {
            format!(
                "Hold the existing lock `{lock_name}` around every access to `{state_name}` ({places})."
            )
        } else if self.reentrant {
            format!(
                "Guard `{state_name}` with a `threading.RLock` held around every access ({places}); \
                 reentrant, because one guarded block calls into another."
            )
        } else {
            format!(
                "Guard `{state_name}` with a `threading.Lock` held around every access ({places})."
            )
        };
        Fix {
            description,
            code: code.trim_start_matches('\n').to_string(),
        }
    }

    fn constructor(&self) -> &'static str {
        if self.reentrant {
            "RLock"
        } else {
            "Lock"
        }
    }

    /// The fix as edits, for Python code where each part can be written exactly: the
    /// lock created where the printed fix says (with `import threading` if the file
    /// lacks it), and each block wrapped. Refused (`None`) where applying it blindly
    /// could break the program rather than serialise it: a block that awaits or yields
    /// (a thread lock held while suspended), holds a `while` loop (a lock held by a
    /// loop that waits for the other side never lets it in), starts with a clause of
    /// a compound statement, runs at import time, or calls into another block under an
    /// existing lock that is not reentrant; a module lock used from another module; or
    /// state on an application object, whose set-up is the user's.
    fn autofix(&self, analysis: &Analysis) -> Option<Autofix> {
        let program = &analysis.program;
        if self.blocks.is_empty() {
            return None;
        }
        let owner = owner_file(analysis, self.state, &self.blocks);
        let mut edits = Vec::new();
        match &self.held {
            // The code's own lock, only if one thread may take it twice.
            Some(lock) => {
                if !self.existing || !is_reentrant(analysis, lock) {
                    return None;
                }
            }
            None => {
                let per_instance = self
                    .blocks
                    .iter()
                    .any(|b| through_instance(analysis, self.state, &b.lock_expr));
                edits = creation_edits(analysis, self.state, &self.lock_name, per_instance)?
            }
        }
        for block in &self.blocks {
            let file = &program.files[block.file];
            let module_lock = matches!(self.state, StateKey::Global { .. });
            if block.code.is_some()
                || file.language != Language::Python
                || (module_lock && block.file != owner)
                || !block.exact
                || refused(
                    analysis,
                    block.function,
                    block.file,
                    block.lines,
                    &block.lock_expr,
                )
            {
                return None;
            }
            let header = format!("with {}:", block.lock_expr);
            edits.extend(wrap_lines(
                block.file,
                &file.source,
                block.lines,
                &[header],
            )?);
        }
        Some(Autofix {
            applicability: Applicability::Unsafe,
            edits,
        })
    }
}

/// Whether the lines `first..=last` of `function` must not be put under `lock_expr`
/// blindly (see RL101's Fix safety): Python syntax the wrap cannot move (`safe_to_wrap`),
/// a stub, a hook that runs where no lock may be taken (a copy or pickle method,
/// `__del__`, an after-fork hook), lines already inside or around an acquisition of the
/// same lock, or a call that blocks (catalogued I/O, `sleep`, a wait on a future,
/// thread or event, a hand-off to the loop that waits for it).
pub fn refused(
    analysis: &Analysis,
    function: usize,
    file: FileId,
    (first, last): (u32, u32),
    lock_expr: &str,
) -> bool {
    let program = &analysis.program;
    let model = &program.files[file];
    let source = &model.source;
    let lines: Vec<&str> = source.lines().collect();
    let body = dedent(source, first, last);
    let name = &program.function(function).name;
    // Copy and pickle methods (a lock is not copyable either) and finalisers run where
    // taking a lock can hang or break.
    let hook = COPY_METHODS.contains(&name.as_str())
        || name == "__del__"
        || fork_hook_registrations(model).any(|text| text.contains(name.as_str()));
    let takes_lock = |text: &str| {
        text.contains(&format!("with {lock_expr}"))
            || text.contains(&format!(", {lock_expr}:"))
            || text.contains(&format!("{lock_expr}.acquire("))
    };
    // The enclosing statements, up to the `def`.
    let mut inside = false;
    let mut indent = lines
        .get(first as usize - 1)
        .map_or(0, |l| l.len() - l.trim_start().len());
    for number in (1..first).rev() {
        let text = lines.get(number as usize - 1).copied().unwrap_or("");
        let depth = text.len() - text.trim_start().len();
        if text.trim().is_empty() || depth >= indent {
            continue;
        }
        indent = depth;
        let trimmed = text.trim_start();
        if trimmed.starts_with("def ") || trimmed.starts_with("async def ") {
            break;
        }
        inside |= takes_lock(trimmed);
    }
    let blocks = blocks_within(analysis, function, (first, last));
    !safe_to_wrap(&body, source, first)
        || model.is_stub
        || hook
        || inside
        || body.iter().any(|l| takes_lock(l))
        || blocks
}

/// Waits that hold a thread (and whatever lock it holds) until another thread acts.
const WAITS: &[&str] = &["result", "join", "wait", "sleep", "acquire"];

/// A call that blocks the thread: catalogued blocking I/O (RL204's list), a wait, or a
/// hand-off that waits for the event loop; or one racelint cannot follow into the
/// project, a module variable holding a callable built at import (`track =
/// factory(...)`), which may do any of these.
fn blocks_thread(analysis: &Analysis, file: FileId, call: &crate::model::CallSite) -> bool {
    let program = &analysis.program;
    if let crate::model::Callee::Path(path) = &call.callee {
        let resolved = program.resolve(file, path);
        if resolved.residual == 0
            && matches!(
                resolved.target,
                crate::analysis::resolve::Target::Global { .. }
            )
        {
            return true;
        }
    }
    let target = crate::analysis::contexts::resolve_call(program, file, &call.callee);
    let api = crate::analysis::contexts::api_call(program, call, &target);
    api.paths.iter().any(|p| {
        analysis.catalogue.blocking.calls.contains(p)
            || p.ends_with("run_coroutine_threadsafe")
            || p.ends_with("run_callback_threadsafe")
    }) || WAITS.contains(&api.method.as_str())
}

/// Whether the calls on lines `first..=last` of `function` can block the thread, there
/// or in the project functions they call (transitively): a lock held around them is
/// held for as long. Past `MAX_CALLEES` functions the answer is yes.
fn blocks_within(analysis: &Analysis, function: usize, (first, last): (u32, u32)) -> bool {
    const MAX_CALLEES: usize = 2_000;
    let program = &analysis.program;
    let callees = &analysis.contexts.callees;
    let calls = &program.function(function).calls;
    let in_block = |call: &crate::model::CallSite| (first..=last).contains(&call.span.start.line);
    let file = program.file_of(function);
    if calls
        .iter()
        .any(|call| in_block(call) && blocks_thread(analysis, file, call))
    {
        return true;
    }
    let mut stack: Vec<usize> = callees[function]
        .iter()
        .filter(|(_, call)| in_block(&calls[*call]))
        .map(|(callee, _)| *callee)
        .collect();
    let mut seen: BTreeSet<usize> = BTreeSet::new();
    while let Some(callee) = stack.pop() {
        if !seen.insert(callee) {
            continue;
        }
        if seen.len() > MAX_CALLEES {
            return true;
        }
        let file = program.file_of(callee);
        if program
            .function(callee)
            .calls
            .iter()
            .any(|call| blocks_thread(analysis, file, call))
        {
            return true;
        }
        stack.extend(callees[callee].iter().map(|(next, _)| *next));
    }
    false
}

/// Whether `lock_expr` reaches the lock through an instance (`self._x_lock`,
/// `cache._x_lock`) rather than the class (`Cache._x_lock`, `cls._x_lock`).
pub fn through_instance(analysis: &Analysis, state: &StateKey, lock_expr: &str) -> bool {
    let StateKey::Attribute { class, .. } = state else {
        return false;
    };
    let receiver = lock_expr.rsplit_once('.').map_or("", |(r, _)| r);
    receiver != "cls" && receiver != analysis.program.class(*class).name
}

/// The lock is a reentrant one (`threading.RLock`): one thread may take it again.
pub fn is_reentrant(analysis: &Analysis, lock: &StateKey) -> bool {
    let program = &analysis.program;
    let ty = match lock {
        StateKey::Attribute { class, name } => program
            .class(*class)
            .attributes
            .iter()
            .find(|a| a.name == *name)
            .and_then(|a| a.ty.clone())
            .map(|t| (program.class_file(*class), t)),
        StateKey::Global { file, name } => program.files[*file]
            .symbols
            .iter()
            .find(|s| s.name == *name)
            .and_then(|s| match &s.kind {
                SymbolKind::Variable { ty, .. } => ty.clone(),
                _ => None,
            })
            .map(|t| (*file, t)),
        StateKey::Framework { .. } => None,
    };
    state_type(program, &ty).is_some_and(|t| t.ends_with(".RLock"))
}

/// The edits that create a new lock for `state`, with `import threading` when the file
/// lacks it. The lock is a `threading.RLock`: racelint cannot see every way a thread may
/// come back to code it wrapped (a callback, a property, dynamic dispatch), and a plain
/// `Lock` taken twice by one thread never returns.
pub fn creation_edits(
    analysis: &Analysis,
    state: &StateKey,
    lock: &str,
    per_instance: bool,
) -> Option<Vec<Edit>> {
    let program = &analysis.program;
    let owner = match state {
        StateKey::Attribute { class, .. } => program.class_file(*class),
        StateKey::Global { file, .. } => *file,
        StateKey::Framework { .. } => return None,
    };
    let file = &program.files[owner];
    // A module that resets its state after `fork()` manages what a forked child
    // inherits: a new lock there could be held by a thread the child does not have.
    if fork_hook_registrations(file).next().is_some() {
        return None;
    }
    let (point, statement) = setup_point(analysis, state, lock, per_instance)?;
    let mut edits = Vec::new();
    if !binds_module(file, "threading") {
        edits.push(insert_statement(
            owner,
            file.after_imports.as_ref()?,
            "import threading",
        ));
    }
    edits.push(insert_statement(owner, &point, &statement));
    Some(edits)
}

/// Where the new lock is created, and the statement: at the top of the class's own
/// `__init__` for an instance attribute (or a class attribute the code reaches through
/// instances, `per_instance`), in the class body for a class attribute, after
/// the imports for a module variable. An instance attribute gets no lock (`None`) in a
/// class without an `__init__` of its own (a lock in the class body would be one lock
/// for every instance), with `__slots__` or `__new__` (which may hand back an object
/// whose `__init__` runs again, replacing its lock), or whose instances the program may
/// copy or pickle (`analysis::copying`).
fn setup_point(
    analysis: &Analysis,
    state: &StateKey,
    lock: &str,
    per_instance: bool,
) -> Option<(InsertionPoint, String)> {
    let program = &analysis.program;
    match state {
        StateKey::Attribute { class, name } => {
            let model = program.class(*class);
            let file = &program.files[program.class_file(*class)];
            let class_level = model
                .attributes
                .iter()
                .any(|a| a.name == *name && a.class_level);
            // A class attribute each instance rebinds for itself (a dataclass field) is
            // per instance: a lock in the class body would serialise every instance.
            if class_level && !per_instance {
                // A blank line sets it apart from the methods.
                return Some((
                    model.body_start.clone()?,
                    format!("{lock} = threading.RLock()\n"),
                ));
            }
            let special = |m: &str| model.methods.iter().any(|(method, _)| method == m);
            let slots = model.attributes.iter().any(|a| a.name == "__slots__");
            if special("__new__") || slots || analysis.copying.may_copy(program, *class) {
                return None;
            }
            let (_, init) = model
                .methods
                .iter()
                .find(|(method, _)| method == "__init__")?;
            Some((
                file.functions[*init].body_start.clone()?,
                format!("self.{lock} = threading.RLock()"),
            ))
        }
        // After a blank line that ends the imports.
        StateKey::Global { file, .. } => {
            let point = program.files[*file].after_imports.clone()?;
            let gap = if point.offset > 0 { "\n" } else { "" };
            Some((point, format!("{gap}{lock} = threading.RLock()")))
        }
        StateKey::Framework { .. } => None,
    }
}

/// Whether the statements of a block (dedented) can be wrapped blindly; `first` is its
/// first line in `source`.
fn safe_to_wrap(lines: &[String], source: &str, first: u32) -> bool {
    let words = |line: &str| {
        line.split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let at_import_time = source
        .lines()
        .nth(first as usize - 1)
        .is_none_or(|l| !l.starts_with([' ', '\t']));
    let clause = lines.first().is_none_or(|l| {
        let first_word = words(l).into_iter().next().unwrap_or_default();
        ["elif", "else", "except", "finally", "case", "def", "class"].contains(&first_word.as_str())
            || l.starts_with('@')
    });
    let suspends_or_loops = lines.iter().any(|l| {
        let code = l.split('#').next().unwrap_or("");
        let w = words(code);
        w.iter().any(|w| w == "await" || w == "yield")
            || w.first().is_some_and(|w| w == "while" || w == "async")
    });
    !at_import_time && !clause && !suspends_or_loops
}

/// Whether a wrapped block can call, directly or through other project functions, a
/// function that holds another wrapped block: the lock is then taken twice by one
/// thread, which deadlocks a plain `Lock`.
fn takes_twice(analysis: &Analysis, blocks: &[Block]) -> bool {
    let program = &analysis.program;
    let wrapped: BTreeSet<usize> = blocks.iter().map(|b| b.function).collect();
    // A snapshot (`Block::code`) holds the lock over one read alone, calling nothing.
    blocks.iter().filter(|b| b.code.is_none()).any(|block| {
        let calls = &program.function(block.function).calls;
        let mut seen: BTreeSet<usize> = BTreeSet::new();
        let mut stack: Vec<usize> = analysis.contexts.callees[block.function]
            .iter()
            .filter(|(_, call)| {
                let line = calls[*call].span.start.line;
                block.lines.0 <= line && line <= block.lines.1
            })
            .map(|(callee, _)| *callee)
            .collect();
        while let Some(function) = stack.pop() {
            if wrapped.contains(&function) {
                return true;
            }
            if seen.insert(function) {
                stack.extend(analysis.contexts.callees[function].iter().map(|(c, _)| *c));
            }
        }
        false
    })
}

/// The file that holds the state's definition (for application state, the first block's).
fn owner_file(analysis: &Analysis, state: &StateKey, blocks: &[Block]) -> FileId {
    match state {
        StateKey::Attribute { class, .. } => analysis.program.class_file(*class),
        StateKey::Global { file, .. } => *file,
        StateKey::Framework { .. } => blocks.first().map_or(0, |b| b.file),
    }
}

/// The file binds `module` to the module itself (`import threading`).
fn binds_module(file: &crate::model::FileModel, module: &str) -> bool {
    file.symbols
        .iter()
        .any(|s| s.name == module && s.kind == SymbolKind::Alias(module.to_string()))
}

/// Past this many functions to edit, a `with` block at every access is no fix anyone
/// applies: the fix is a design change instead, and the finding stays readable.
const MAX_WRAPPED_FUNCTIONS: usize = 8;

/// How many places a design-level fix names before it counts the rest.
const PLACES_NAMED: usize = 5;

/// The fix for state touched in many places: confine its writes to the event loop, or
/// make it an object that owns its lock. Names the first places and counts the rest.
fn design_fix(analysis: &Analysis, state: &StateKey, unprotected: &[&StateAccess]) -> Fix {
    let program = &analysis.program;
    let state_name = state.display(program);
    let lines: Vec<(String, u32)> = unprotected
        .iter()
        .map(|a| (display_path(analysis, a.file), a.access.span.start.line))
        .collect();
    let files: BTreeSet<&String> = lines.iter().map(|(path, _)| path).collect();
    let named = places(&lines[..lines.len().min(PLACES_NAMED)]);
    let rest = lines.len().saturating_sub(PLACES_NAMED);
    let class_name = format!(
        "Locked{}",
        state
            .name()
            .split(['.', '_'])
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut chars = p.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_uppercase().collect::<String>() + chars.as_str()
                })
            })
            .collect::<String>()
    );
    Fix {
        description: format!(
            "`{state_name}` is accessed without a common lock in {} places in {} ({named}{}): \
             a lock around each is not a fix at this scale. Confine its writes to the event loop \
             (a worker hands each write over with `loop.call_soon_threadsafe(...)` or \
             `asyncio.run_coroutine_threadsafe(...)`), or replace it with an object that owns a \
             `threading.Lock` and takes it in every method.",
            lines.len(),
            match files.len() {
                1 => "1 file".to_string(),
                n => format!("{n} files"),
            },
            if rest > 0 {
                format!(", and {rest} more")
            } else {
                String::new()
            },
        ),
        code: format!(
            "# Either: the worker hands its write to the loop (`loop` taken with\n\
             # asyncio.get_running_loop() on the loop, before the handoff).\n\
             loop.call_soon_threadsafe(apply_update, key, value)\n\n\
             # Or: an object that owns its lock, used everywhere instead of the bare state.\n\
             class {class_name}:\n    \
                 def __init__(self) -> None:\n        \
                     self._lock = threading.Lock()\n        \
                     self._data = {{}}\n\n    \
                 def set(self, key, value) -> None:\n        \
                     with self._lock:\n            \
                         self._data[key] = value\n\n    \
                 def get(self, key, default=None):\n        \
                     with self._lock:\n            \
                         return self._data.get(key, default)\n"
        ),
    }
}

/// The lock to guard `state` with: the class's or module's existing thread lock, else a
/// new one, with the code that creates it.
pub fn lock_setup(analysis: &Analysis, state: &StateKey) -> (String, Option<String>) {
    if let Some(existing) = existing_lock(analysis, state) {
        return (existing, None);
    }
    let lock = new_lock_name(analysis, state);
    let setup = lock_setup_text(analysis, state, &lock, "Lock");
    (lock, Some(setup))
}

/// The name a new lock for `state` gets: `_prices_lock` for `_prices`, or
/// `_prices_thread_lock` when the class or module already uses that name (for an
/// `asyncio.Lock`, say).
fn new_lock_name(analysis: &Analysis, state: &StateKey) -> String {
    let program = &analysis.program;
    let (base, taken): (String, Vec<&str>) = match state {
        StateKey::Attribute { class, name } => {
            let model = program.class(*class);
            let attributes = model.attributes.iter().map(|a| a.name.as_str());
            let methods = model.methods.iter().map(|(m, _)| m.as_str());
            (
                name.trim_start_matches('_').to_string(),
                attributes.chain(methods).collect(),
            )
        }
        // A location past a module variable (`sys.modules`) or a closure cell
        // (`main.results`): one identifier of its parts.
        StateKey::Global { file, name } => (
            name.trim_start_matches('_')
                .replace('.', "_")
                .to_lowercase(),
            program.files[*file]
                .symbols
                .iter()
                .map(|s| s.name.as_str())
                .collect(),
        ),
        StateKey::Framework { name, .. } => return format!("{name}_lock"),
    };
    [format!("_{base}_lock"), format!("_{base}_thread_lock")]
        .into_iter()
        .chain((2..).map(|n| format!("_{base}_thread_lock{n}")))
        .find(|lock| !taken.contains(&lock.as_str()))
        .unwrap_or_default()
}

/// Where and how the printed fix creates the new lock `lock` (`threading.<constructor>`).
fn lock_setup_text(analysis: &Analysis, state: &StateKey, lock: &str, constructor: &str) -> String {
    let program = &analysis.program;
    match state {
        StateKey::Attribute { class, name } => {
            let model = program.class(*class);
            let class_level = model
                .attributes
                .iter()
                .any(|a| a.name == *name && a.class_level);
            if class_level {
                format!(
                    "# In the body of class {}:\n{lock} = threading.{constructor}()\n",
                    model.name
                )
            } else {
                format!(
                    "# In {}.__init__:\nself.{lock} = threading.{constructor}()\n",
                    model.name
                )
            }
        }
        StateKey::Global { file, .. } => format!(
            "# At module level in {} (with `import threading`):\n{lock} = threading.{constructor}()\n",
            display_path(analysis, *file)
        ),
        // On the application object itself, where every route reaches it.
        StateKey::Framework { .. } => format!(
            "# Once, where the application is set up (at start-up, before serving):\n{lock} = threading.{constructor}()\n"
        ),
    }
}

/// "shop/db.py lines 40, 43; shop/api.py line 7"
fn places(lines: &[(String, u32)]) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for (path, line) in lines {
        match groups.last_mut() {
            Some((last, numbers)) if last == path => numbers.push(line.to_string()),
            _ => groups.push((path.clone(), vec![line.to_string()])),
        }
    }
    groups
        .iter()
        .map(|(path, numbers)| {
            let word = if numbers.len() == 1 { "line" } else { "lines" };
            format!("{path} {word} {}", numbers.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The thread lock the class (or module) already has, by name, when it has exactly
/// one: with several, which one guards what is the author's design (one may be held
/// while calling user callbacks), and a lock of the state's own is the safer fix.
fn existing_lock(analysis: &Analysis, state: &StateKey) -> Option<String> {
    let program = &analysis.program;
    let is_lock = |file: FileId, ty: &Option<String>| {
        state_type(program, &ty.clone().map(|t| (file, t)))
            .is_some_and(|t| analysis.catalogue.is_thread_lock(&t))
    };
    let locks: Vec<&String> = match state {
        StateKey::Attribute { class, .. } => {
            let file = program.class_file(*class);
            program
                .class(*class)
                .attributes
                .iter()
                .filter(|a| is_lock(file, &a.ty))
                .map(|a| &a.name)
                .collect()
        }
        StateKey::Global { file, .. } => program.files[*file]
            .symbols
            .iter()
            .filter(|s| matches!(&s.kind, SymbolKind::Variable { ty, .. } if is_lock(*file, ty)))
            .map(|s| &s.name)
            .collect(),
        StateKey::Framework { .. } => Vec::new(),
    };
    // A lock named after another attribute (`_rows_lock` for `rows`) guards that one.
    let state_base = state.name().trim_start_matches('_').to_lowercase();
    let named_for_other = |lock: &str| {
        let Some(base) = lock
            .strip_suffix("_thread_lock")
            .or_else(|| lock.strip_suffix("_lock"))
        else {
            return false;
        };
        let base = base.trim_start_matches('_').to_lowercase();
        !base.is_empty()
            && base != state_base
            && match state {
                StateKey::Attribute { class, .. } => program
                    .class(*class)
                    .attributes
                    .iter()
                    .any(|a| a.name.trim_start_matches('_').to_lowercase() == base),
                StateKey::Global { file, .. } => program.files[*file]
                    .symbols
                    .iter()
                    .any(|s| s.name.trim_start_matches('_').to_lowercase() == base),
                StateKey::Framework { .. } => false,
            }
    };
    match locks.as_slice() {
        [only] if !named_for_other(only) => Some(only.to_string()),
        _ => None,
    }
}

/// The text of each `os.register_at_fork(...)` call in a module: the hooks it names
/// run in a forked child, where a lock another thread held at `fork()` never frees.
fn fork_hook_registrations(file: &crate::model::FileModel) -> impl Iterator<Item = &str> {
    file.functions
        .iter()
        .flat_map(|f| &f.calls)
        .filter(|call| {
            matches!(&call.callee, crate::model::Callee::Path(p) if p == "os.register_at_fork")
        })
        .filter_map(|call| {
            file.source
                .get(call.span.offset..call.span.offset + call.span.len)
        })
}

/// The key of a lock named `lock` that lives where `state` does (its class or module).
pub fn lock_key(state: &StateKey, lock: &str) -> StateKey {
    match state {
        StateKey::Attribute { class, .. } => StateKey::Attribute {
            class: *class,
            name: lock.to_string(),
        },
        StateKey::Global { file, .. } => StateKey::Global {
            file: *file,
            name: lock.to_string(),
        },
        StateKey::Framework { root, .. } => StateKey::Framework {
            root: *root,
            name: lock.to_string(),
        },
    }
}

/// The lock's spelling at `access` when it can be written exactly there, for the
/// edits: the receiver the access uses (`cache._x_lock`) for a lock of the state's own
/// object; `self._x_lock` for another class's lock only in that class's methods; a
/// module lock only in its module (elsewhere it would need an import). `None` as well
/// for an access in a `lambda`: wrapping the statement that creates the lambda does
/// not hold the lock when it runs.
pub fn exact_lock_expression(
    analysis: &Analysis,
    state: &StateKey,
    access: &StateAccess,
    lock: &StateKey,
) -> Option<String> {
    let program = &analysis.program;
    let function = program.function(access.function);
    if function.name == "<lambda>" {
        return None;
    }
    match lock {
        StateKey::Global { file, name } => (access.file == *file).then(|| name.clone()),
        StateKey::Framework { .. } => None,
        StateKey::Attribute {
            class: lock_class,
            name: lock_name,
        } => match state {
            StateKey::Attribute { class, name } if class == lock_class => {
                let source = &program.files[access.file].source;
                let span = access.access.span;
                let text = source.get(span.offset..span.offset + span.len)?;
                let at = text.find(&format!(".{name}"))?;
                let rest = &text[at + 1 + name.len()..];
                let whole_name = !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_');
                (at > 0 && whole_name).then(|| format!("{}.{lock_name}", &text[..at]))
            }
            _ => (function.class.as_deref() == Some(program.class(*lock_class).path.as_str()))
                .then(|| format!("self.{lock_name}")),
        },
    }
}

/// How the lock is spelt at one access: `self._x_lock`, `cache._x_lock` (the same
/// receiver the access uses), or the module-level name.
pub fn lock_expression(
    analysis: &Analysis,
    state: &StateKey,
    access: &StateAccess,
    lock: &str,
) -> String {
    let StateKey::Attribute { name, .. } = state else {
        return lock.to_string();
    };
    let source = &analysis.program.files[access.file].source;
    let span = access.access.span;
    let text = source
        .get(span.offset..span.offset + span.len)
        .unwrap_or("");
    match text.find(&format!(".{name}")) {
        Some(at) if at > 0 => format!("{}.{lock}", &text[..at]),
        _ => format!("self.{lock}"),
    }
}

/// The line ranges to wrap for one function's accesses: one block spanning all of them
/// when that is valid Python and safe to hold the lock over, else each access's own
/// statement.
fn blocks_of(source: &str, group: &[&StateAccess], lock_expr: &str) -> Vec<(u32, u32)> {
    let lines: Vec<&str> = source.lines().collect();
    let start = group
        .iter()
        .map(|a| a.access.statement_lines.0)
        .min()
        .unwrap_or(1);
    let end = group
        .iter()
        .map(|a| a.access.statement_lines.1)
        .max()
        .unwrap_or(start);
    let whole = valid_block(&lines, start, end);
    // One block must not span an `await` (a thread lock across it blocks the loop), nor
    // a place that already takes the lock (re-taking a plain `Lock` deadlocks).
    let retakes = format!("with {lock_expr}:");
    let unsafe_to_span = (whole.0..=whole.1).any(|n| {
        let text = line(&lines, n);
        text.contains("await ")
            || text.contains(&retakes)
            || text.contains(&format!("{lock_expr}.acquire("))
    });
    if group.len() == 1 || !unsafe_to_span {
        return vec![whole];
    }
    group
        .iter()
        .map(|a| {
            valid_block(
                &lines,
                a.access.statement_lines.0,
                a.access.statement_lines.1,
            )
        })
        .collect()
}

/// `first..=last` of `source` widened to a run of whole statements of one block
/// (`valid_block`): a check at a function's top level and a creation nested in a
/// `try` or `with` under it are wrapped together with the rest of that statement.
pub fn whole_statements(source: &str, (first, last): (u32, u32)) -> (u32, u32) {
    let lines: Vec<&str> = source.lines().collect();
    valid_block(&lines, first, last)
}

/// Widens `start..=end` until it is a run of whole statements of one block: up to the
/// statement a deeper first line belongs to, down over deeper lines, and on through
/// `elif`/`else`/`except`/`finally` clauses that continue a compound statement.
fn valid_block(lines: &[&str], mut start: u32, mut end: u32) -> (u32, u32) {
    let code_lines =
        |from: u32, to: u32| (from..=to).filter(|&n| !line(lines, n).trim().is_empty());
    let base = code_lines(start, end)
        .map(|n| indentation(line(lines, n)))
        .min()
        .unwrap_or(0);
    // A line that only closes brackets (`):` after a header split over lines) ends the
    // statement above it.
    let closes_brackets = |n: u32| line(lines, n).trim_start().starts_with([')', ']', '}']);
    while start > 1 && (indentation(line(lines, start)) > base || closes_brackets(start)) {
        start -= 1;
        while start > 1 && line(lines, start).trim().is_empty() {
            start -= 1;
        }
    }
    loop {
        let next = (end + 1..=lines.len() as u32).find(|&n| !line(lines, n).trim().is_empty());
        let Some(next) = next else { break };
        let text = line(lines, next);
        let continues = indentation(text) > base
            || (indentation(text) == base
                && ["elif", "else", "except", "finally"]
                    .iter()
                    .any(|k| text.trim_start().starts_with(k)));
        if !continues {
            break;
        }
        end = next;
    }
    (start, end)
}

fn line<'s>(lines: &[&'s str], number: u32) -> &'s str {
    lines.get(number as usize - 1).copied().unwrap_or("")
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Lines `first..=last`, with their common indentation removed.
pub fn dedent(source: &str, first: u32, last: u32) -> Vec<String> {
    let lines: Vec<&str> = source
        .lines()
        .skip(first as usize - 1)
        .take((last - first + 1) as usize)
        .collect();
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indentation(l))
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(common..).unwrap_or("").trim_end().to_string())
        .collect()
}

/// The file's path as reports show it.
pub fn display_path(analysis: &Analysis, file: FileId) -> String {
    analysis.program.files[file]
        .path
        .to_string_lossy()
        .replace('\\', "/")
}
