//! Building blocks of the fixes racelint applies (`Autofix`): a comment line above a
//! definition, a statement inserted at a known place, lines wrapped in a `with` block.
//! Each works on whole lines of the analysed source and refuses what it cannot do
//! exactly (a line joined to another by a backslash, lines inside a string).

use super::Edit;
use crate::model::{FileId, InsertionPoint, Span};

/// `# racelint: <directive>` on a line of its own above the line of `span`, indented as
/// that line is: how a definition declares an invariant.
pub fn comment_above(file: FileId, source: &str, span: Span, directive: &str) -> Option<Edit> {
    let start = line_start(source, span.offset);
    let line = &source[start..];
    let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
    // A continuation line belongs to the statement above: a comment cannot go between.
    if start > 0 && source[..start - 1].trim_end_matches('\r').ends_with('\\') {
        return None;
    }
    Some(Edit {
        file,
        offset: start,
        len: 0,
        replacement: format!("{indent}# racelint: {directive}\n"),
    })
}

/// A statement (one or more lines, without indentation; empty lines stay blank)
/// inserted at `at`.
pub fn insert_statement(file: FileId, at: &InsertionPoint, statement: &str) -> Edit {
    let replacement = statement
        .split('\n')
        .map(|line| match line {
            "" => "\n".to_string(),
            _ => format!("{}{line}\n", at.indent),
        })
        .collect();
    Edit {
        file,
        offset: at.offset,
        len: 0,
        replacement,
    }
}

/// Lines `first..=last` (1-based, whole statements of one block) moved under
/// `headers` (`with self._lock:`, then any nested ones), which take their place at
/// their indentation, each one level deeper than the one before. `None` when a line
/// could not be moved safely: one inside a string that spans lines (its text would
/// change), or joined to the next by a backslash.
pub fn wrap_lines(
    file: FileId,
    source: &str,
    (first, last): (u32, u32),
    headers: &[String],
) -> Option<Vec<Edit>> {
    let starts = line_starts(source);
    let start_of = |n: u32| starts.get((n as usize).checked_sub(1)?).copied();
    let block_start = start_of(first)?;
    let block_end = start_of(last + 1).unwrap_or(source.len());
    let block = &source[block_start..block_end];
    if block.contains("\"\"\"")
        || block.contains("\'\'\'")
        || block.contains("\\\n")
        || block.contains("\\\r\n")
    {
        return None;
    }
    let first_line = source[block_start..].lines().next().unwrap_or("");
    if first_line.trim().is_empty() {
        return None;
    }
    let indent = &first_line[..first_line.len() - first_line.trim_start_matches([' ', '\t']).len()];
    let unit = if indent.contains('\t') { "\t" } else { "    " };
    let deeper = unit.repeat(headers.len());
    // The headers and the first line's new indentation are one insertion.
    let mut opening = String::new();
    for (depth, header) in headers.iter().enumerate() {
        opening.push_str(&format!("{indent}{}{header}\n", unit.repeat(depth)));
    }
    opening.push_str(&deeper);
    let mut edits = vec![Edit {
        file,
        offset: block_start,
        len: 0,
        replacement: opening,
    }];
    for n in first + 1..=last {
        let at = start_of(n)?;
        let text = source[at..].lines().next().unwrap_or("");
        if !text.trim().is_empty() {
            edits.push(Edit {
                file,
                offset: at,
                len: 0,
                replacement: deeper.clone(),
            });
        }
    }
    Some(edits)
}

/// The offset where the line holding `offset` starts.
pub fn line_start(source: &str, offset: usize) -> usize {
    source[..offset.min(source.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1)
}

fn line_starts(source: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}
