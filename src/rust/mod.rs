//! The Rust front-end: the only place that sees syn.
//!
//! Parsed with `syn` 2 (with `proc-macro2`'s `span-locations` for positions). syn keeps
//! no ordinary comments, so `comments` scans them for suppressions and `// SAFETY:`
//! notes. syn has no error recovery: a file it rejects is one RL001 finding and the run
//! goes on without it.

mod comments;
mod lower;
mod module_name;

use std::collections::BTreeSet;
use std::path::Path;

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
    let (root, module) = module_name(path);
    let lines = LineIndex::new(&source);
    let mut model = FileModel {
        language: Language::Rust,
        path: path.to_path_buf(),
        root,
        module,
        ..FileModel::default()
    };
    let mut safety_lines = BTreeSet::new();
    for comment in comments::scan(&source) {
        let span = lines.span(&source, comment.start, comment.end);
        // `// SAFETY:` as Clippy spells it; `// Safety:` is common and means the same.
        if comment
            .text
            .trim_start()
            .get(..7)
            .is_some_and(|head| head.eq_ignore_ascii_case("safety:"))
        {
            safety_lines.insert(span.start.line);
        }
        let text = comment.text.trim_start_matches(['/', '!']);
        if let Some(suppression) = suppression::parse(text, span, comment.own_line) {
            model.suppressions.push(suppression);
        }
    }
    match syn::parse_file(&source) {
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
