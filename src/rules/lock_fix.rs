//! The "add a lock" fix, written out for the code at hand: which lock (an existing
//! thread lock of the class or module, else a new one), where to create it, and each
//! unprotected statement wrapped in `with`; and the same as edits, for
//! `--unsafe-fixes`.

use std::collections::BTreeSet;

use super::edits::{insert_statement, wrap_lines};
use super::{Applicability, Autofix, Edit, Fix};
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
        for lines in blocks_of(source, group, &lock_expr) {
            if covered.contains(&(first.file, lines.0)) {
                continue;
            }
            covered.extend((lines.0..=lines.1).map(|l| (first.file, l)));
            blocks.push(Block {
                file: first.file,
                function: first.function,
                lines,
                lock_expr: lock_expr.clone(),
                exact,
            });
        }
    }
    lines_listed.dedup();
    let plan = LockPlan {
        state,
        lock_name,
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
}

/// The lock fix, worked out: which lock, and what to wrap.
struct LockPlan<'s> {
    state: &'s StateKey,
    lock_name: String,
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
        if self.blocks.is_empty() || (self.existing && self.reentrant) {
            return None;
        }
        let owner = owner_file(analysis, self.state, &self.blocks);
        let mut edits = Vec::new();
        if !self.existing {
            edits = creation_edits(analysis, self.state, &self.lock_name, self.reentrant)?;
        }
        for block in &self.blocks {
            let file = &program.files[block.file];
            let module_lock = matches!(self.state, StateKey::Global { .. });
            if file.language != Language::Python
                || (module_lock && block.file != owner)
                || !block.exact
            {
                return None;
            }
            let (first, last) = block.lines;
            if !safe_to_wrap(&dedent(&file.source, first, last), &file.source, first) {
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

/// The edits that create a new lock for `state` (`threading.RLock` when `reentrant`),
/// with `import threading` when the file lacks it.
pub fn creation_edits(
    analysis: &Analysis,
    state: &StateKey,
    lock: &str,
    reentrant: bool,
) -> Option<Vec<Edit>> {
    let program = &analysis.program;
    let owner = match state {
        StateKey::Attribute { class, .. } => program.class_file(*class),
        StateKey::Global { file, .. } => *file,
        StateKey::Framework { .. } => return None,
    };
    let constructor = if reentrant { "RLock" } else { "Lock" };
    let (point, statement) = setup_point(analysis, state, lock, constructor)?;
    let file = &program.files[owner];
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

/// Where the new lock is created, and the statement: in `__init__` for an instance
/// attribute (in the class body when there is no `__init__` of the class's own, or
/// the class has `__slots__`), in the class body for a class attribute, after the
/// imports for a module variable.
fn setup_point(
    analysis: &Analysis,
    state: &StateKey,
    lock: &str,
    constructor: &str,
) -> Option<(InsertionPoint, String)> {
    let program = &analysis.program;
    match state {
        StateKey::Attribute { class, name } => {
            let model = program.class(*class);
            let file = &program.files[program.class_file(*class)];
            let class_level = model
                .attributes
                .iter()
                .any(|a| (a.name == *name && a.class_level) || a.name == "__slots__");
            let init = model
                .methods
                .iter()
                .find(|(method, _)| method == "__init__")
                .and_then(|(_, index)| file.functions[*index].body_start.clone());
            match init.filter(|_| !class_level) {
                Some(point) => Some((point, format!("self.{lock} = threading.{constructor}()"))),
                // A blank line sets it apart from the methods.
                None => Some((
                    model.body_start.clone()?,
                    format!("{lock} = threading.{constructor}()\n"),
                )),
            }
        }
        // After a blank line that ends the imports.
        StateKey::Global { file, .. } => {
            let point = program.files[*file].after_imports.clone()?;
            let gap = if point.offset > 0 { "\n" } else { "" };
            Some((point, format!("{gap}{lock} = threading.{constructor}()")))
        }
        StateKey::Framework { .. } => None,
    }
}

/// Whether the statements of a block (dedented) can be wrapped blindly; `first` is its
/// first line in `source`.
pub fn safe_to_wrap(lines: &[String], source: &str, first: u32) -> bool {
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
    blocks.iter().any(|block| {
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
        StateKey::Global { file, name } => (
            name.trim_start_matches('_').to_lowercase(),
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
    match locks.as_slice() {
        [only] => Some(only.to_string()),
        _ => None,
    }
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
    while start > 1 && indentation(line(lines, start)) > base {
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
