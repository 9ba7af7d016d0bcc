//! The Rust front-end: the only place that sees syn.
//!
//! Parsed with `syn` 2 (with `proc-macro2`'s `span-locations` for positions). syn keeps
//! no ordinary comments, so `lexer` scans them for suppressions and `// SAFETY:`
//! notes, and measures nesting first: syn recurses, so absurdly deep files are refused. syn has no error recovery: a file it rejects is one RL001 finding and the run
//! goes on without it.

mod lexer;
mod lower;
mod module_name;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::analysis::catalogue::RustCatalogue;
use crate::model::{FileModel, Language, Span, SyntaxError};
use crate::source::LineIndex;
use crate::suppression;

pub use module_name::module_name;

/// Whether discovery should hand this file to the Rust front-end.
pub fn is_rust(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "rs")
}

/// Parses and lowers one Rust file.
pub fn lower_file(path: &Path, source: String, catalogue: &RustCatalogue) -> FileModel {
    lower_module(path, module_name(path), source, catalogue)
}

/// Lowers one file whose module name and root (`module_name`) are known.
pub fn lower_module(
    path: &Path,
    (root, module): (PathBuf, String),
    source: String,
    catalogue: &RustCatalogue,
) -> FileModel {
    let lines = LineIndex::new(&source);
    let mut model = FileModel {
        language: Language::Rust,
        path: path.to_path_buf(),
        root,
        module,
        ..FileModel::default()
    };
    let mut safety_lines = BTreeSet::new();
    let scan = lexer::scan(&source);
    for comment in scan.comments {
        let span = lines.span(&source, comment.start, comment.end);
        // `// SAFETY:` as Clippy spells it; `// Safety:`, `/// SAFETY:` and a line of a
        // block comment mean the same.
        for (offset, line) in comment.text.lines().enumerate() {
            let line = line.trim_start_matches(['/', '!', '*', ' ', '\t']);
            if line
                .get(..7)
                .is_some_and(|head| head.eq_ignore_ascii_case("safety:"))
            {
                safety_lines.insert(span.start.line + offset as u32);
            }
        }
        let text = comment.text.trim_start_matches(['/', '!']);
        if let Some(suppression) = suppression::parse(text, span, comment.own_line) {
            model.suppressions.push(suppression);
        }
    }
    if let Some(message) = too_deep(scan.depth, scan.chain) {
        model.syntax_errors.push(SyntaxError {
            message,
            span: lines.span(&source, 0, 0),
        });
        model.source = source;
        return model;
    }
    match syn::parse_file(&offsets_kept(&source)) {
        Ok(file) => {
            let mut lowerer =
                lower::Lowerer::new(&model.module, &source, &lines, catalogue, &safety_lines);
            lowerer.lower_file(&file);
            lowerer.into_model(&mut model);
        }
        Err(error) => model.syntax_errors.push(SyntaxError {
            message: error.to_string(),
            span: span(&lines, &source, error.span()),
        }),
    }
    // proc-macro2 keeps every parsed file's text for span lookups, per thread; this
    // file's spans are no longer needed.
    proc_macro2::extra::invalidate_current_thread_spans();
    model.source = source;
    model
}

/// syn parses, and finds spans, recursively: generated files nested deeper than this
/// (or with longer method or operator chains) could exhaust even a large stack. No
/// hand-written code comes near.
const MAX_NESTING: usize = 1_000;
const MAX_CHAIN: usize = 20_000;

fn too_deep(depth: usize, chain: usize) -> Option<String> {
    if depth > MAX_NESTING {
        Some(format!(
            "brackets nest {depth} levels deep; racelint analyses up to {MAX_NESTING}, so the \
             file was not analysed"
        ))
    } else if chain > MAX_CHAIN {
        Some(format!(
            "an expression chains {chain} operators or method calls; racelint analyses up to \
             {MAX_CHAIN}, so the file was not analysed"
        ))
    } else {
        None
    }
}

/// `syn::parse_file` drops a leading byte-order mark and `#!` line before parsing, which
/// would shift every span: blank them out instead, byte for byte.
fn offsets_kept(source: &str) -> std::borrow::Cow<'_, str> {
    let bom = if source.starts_with('\u{feff}') { 3 } else { 0 };
    let rest = &source[bom..];
    let shebang = if rest.starts_with("#!") && !rest[2..].trim_start().starts_with('[') {
        rest.find('\n').unwrap_or(rest.len())
    } else {
        0
    };
    if bom + shebang == 0 {
        return std::borrow::Cow::Borrowed(source);
    }
    let blank = " ".repeat(bom + shebang);
    std::borrow::Cow::Owned(blank + &source[bom + shebang..])
}

/// Whether a whole file parses: a fixed file must.
pub fn parses(source: &str) -> bool {
    let parsed = syn::parse_file(&offsets_kept(source)).is_ok();
    proc_macro2::extra::invalidate_current_thread_spans();
    parsed
}

/// Whether `code` parses as the statements of a block: each suggested Rust fix must.
pub fn parses_as_block(code: &str) -> bool {
    let parsed = syn::parse_str::<syn::Block>(&format!("{{\n{code}\n}}")).is_ok()
        || syn::parse_str::<syn::File>(code).is_ok();
    proc_macro2::extra::invalidate_current_thread_spans();
    parsed
}

/// A syn span as a model span.
fn span(lines: &LineIndex, source: &str, span: proc_macro2::Span) -> Span {
    let range = span.byte_range();
    lines.span(source, range.start, range.end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_byte_order_mark_and_a_shebang_keep_positions() {
        let catalogue = crate::analysis::catalogue::Catalogue::builtin().rust;
        for prefix in ["\u{feff}", "#!/usr/bin/env run-cargo-script\n"] {
            let source = format!("{prefix}static M: u8 = 0;\nfn f() -> u8 {{\n    M\n}}\n");
            let model = lower_file(Path::new("x.rs"), source, &catalogue);
            let access = &model.functions[0].accesses[0];
            assert_eq!(&model.source[access.span.offset..][..access.span.len], "M");
            assert_eq!(
                (access.span.start.line, access.span.start.column),
                (3 + u32::from(prefix.starts_with('#')), 5)
            );
        }
    }
}
