//! The lock fix for a statement that suspends (`await`, `async for`, `async with`,
//! `yield`). Wrapping it in `with lock:` would hold a thread lock across the suspension:
//! the event loop's thread blocks on the lock while the coroutine holding it waits to be
//! resumed by that same thread (RL202 reports exactly that code). So the statement keeps
//! its suspension outside the lock. Code is written only for the two shapes where moving
//! the access out of the statement keeps what the statement means; any other statement
//! gets advice, since a rewrite could freeze a loop's condition, evaluate a branch the
//! statement skips, read after a suspension what it read before, or copy an object the
//! statement changes or uses for its identity.

use crate::analysis::state::StateAccess;
use crate::model::{AccessKind, Await};

use super::lock_fix::dedent;

/// Whether lines `first..=last` may suspend the function that runs them: an `await`,
/// `async for` or `async with` the model recorded, or the word `await` or `yield`, or an
/// asynchronous comprehension, anywhere in the text (an access in a `lambda` belongs to
/// the lambda, whose model records no `await` of the statement around it).
pub fn suspends(lines: &[&str], awaits: &[Await], (first, last): (u32, u32)) -> bool {
    let in_range = |line: u32| (first..=last).contains(&line);
    // The words of all the lines together: `async` and `for` may be lines apart.
    let words: Vec<&str> = (first..=last)
        .flat_map(|n| words(lines.get(n as usize - 1).copied().unwrap_or("")))
        .collect();
    awaits.iter().any(|a| in_range(a.span.start.line))
        || words.iter().any(|w| *w == "await" || *w == "yield")
        || words.windows(2).any(|pair| pair == ["async", "for"])
}

/// The code that replaces wrapping `statement` (lines of `source`, in a function that
/// suspends at `awaits`) in `with {lock_expr}:`, for `accesses`, the accesses of the
/// state in it:
/// - a one-line statement that stores the state and nothing else, `<state> = <value>`:
///   the value awaited first, then stored under the lock;
/// - a one-line simple statement that only tests the state's reference once (`x is
///   None`), before anything in it suspends and whatever its branches do: the
///   reference taken under the lock, and the statement testing that. A read of the
///   contents is not moved: a copy would change what a callee given the object
///   changes, or what `is` and `id` see, and the reference alone is read outside the
///   lock all the same;
/// - any other statement: the advice, in a comment.
pub fn snapshot_code(
    source: &str,
    awaits: &[Await],
    statement: (u32, u32),
    accesses: &[&StateAccess],
    lock_expr: &str,
    attribute: &str,
) -> String {
    let Some(first) = accesses.first() else {
        return String::new();
    };
    let text_of = |a: &StateAccess| {
        let span = a.access.span;
        source
            .get(span.offset..span.offset + span.len)
            .unwrap_or("")
    };
    let local = local_name(attribute, source);
    let lines = dedent(source, statement.0, statement.1);
    // One access, counted once however many effects it stands for.
    let mut spans: Vec<usize> = accesses.iter().map(|a| a.access.span.offset).collect();
    spans.sort_unstable();
    spans.dedup();
    let single = (spans.len() == 1).then_some(first);
    let simple_line = match lines.as_slice() {
        [line] => !line.contains(';') && !words(line).first().is_some_and(|w| COMPOUND.contains(w)),
        _ => false,
    };
    if let (Some(only), [line], true) = (single, lines.as_slice(), simple_line) {
        let text = text_of(only);
        if only.kind == AccessKind::Rebind {
            let value = line
                .strip_prefix(text)
                .and_then(|rest| rest.trim_start().strip_prefix('='))
                .filter(|rest| !rest.starts_with('='));
            if let Some(value) = value {
                return format!(
                    "{local} = {}\nwith {lock_expr}:\n    {text} = {local}\n",
                    value.trim()
                );
            }
        }
        let unconditional = !words(line).iter().any(|w| CONDITIONAL.contains(w));
        if only.kind == AccessKind::Read && only.reference_only && unconditional {
            let span = only.access.span;
            let indent = source[..span.offset]
                .rfind('\n')
                .map_or(0, |newline| newline + 1);
            let column = span.offset - indent;
            // The line as `dedent` gave it, less the indentation it removed.
            let removed = source[indent..].len() - source[indent..].trim_start().len();
            // Only a read made before the statement first suspends can be made before
            // the statement: one after it would see what the suspension let happen.
            // `await x` suspends once `x` is evaluated, so a read inside it comes first.
            let end = span.offset + span.len;
            let read_first = |at: usize| {
                awaits
                    .iter()
                    .filter(|a| a.span.start.line == statement.0)
                    .all(|a| a.span.offset + a.span.len >= end)
                    && !words(line.get(..at).unwrap_or(""))
                        .iter()
                        .any(|w| *w == "yield" || *w == "async")
            };
            if let Some(at) = column.checked_sub(removed).filter(|&at| read_first(at)) {
                if line.get(at..at + span.len) == Some(text) {
                    return format!(
                        "with {lock_expr}:\n    {local} = {text}\n{}{local}{}\n",
                        &line[..at],
                        &line[at + span.len..]
                    );
                }
            }
        }
    }
    let what = if accesses.iter().all(|a| a.kind == AccessKind::Read) {
        "read it into a local under the lock (a copy, to read its contents) before the \
         statement, and use the local there"
    } else if accesses.iter().all(|a| a.kind == AccessKind::Iterate) {
        "iterate a snapshot (`list(...)`) taken under the lock before the statement"
    } else {
        "make each change a statement of its own that does not suspend, under the lock"
    };
    // An access written over several lines, as one line of the comment.
    let named = text_of(first)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "# Line {} uses `{named}` in a statement that suspends: no thread lock may be held \
         across it. Hold `{lock_expr}` only where it does not suspend: {what}.\n",
        statement.0,
    )
}

/// Statements whose first word makes them compound (a loop's condition is tested again
/// on every pass, a `with` enters the very object it names) or a definition.
const COMPOUND: &[&str] = &[
    "if", "elif", "else", "while", "for", "with", "async", "try", "except", "finally", "match",
    "case", "def", "class",
];

/// Words under which a part of a statement may not run, or runs later or again.
const CONDITIONAL: &[&str] = &["if", "else", "and", "or", "lambda", "for"];

/// The words of a line, its strings and comment included: a word there only makes the
/// tests above more cautious.
fn words(line: &str) -> Vec<&str> {
    line.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// A local for the value of attribute or variable `name`: its name without leading
/// underscores, then `_now` (`_users` → `users_now`), numbered past any word the file
/// already uses.
fn local_name(name: &str, source: &str) -> String {
    let trimmed = name.trim_start_matches('_');
    let usable = !trimmed.is_empty()
        && !trimmed.starts_with(|c: char| c.is_ascii_digit())
        && trimmed.chars().all(|c| c.is_alphanumeric() || c == '_');
    let stem = if usable {
        format!("{trimmed}_now")
    } else {
        "value_now".to_string()
    };
    let taken: std::collections::HashSet<&str> = words(source).into_iter().collect();
    std::iter::once(stem.clone())
        .chain((2..).map(|n| format!("{stem}{n}")))
        .find(|candidate| !taken.contains(candidate.as_str()))
        .unwrap_or(stem)
}
