//! Facts the Rust rules share: Rust functions, statics by path, how Rust paths read.

use std::collections::HashMap;

use crate::analysis::resolve::FuncId;
use crate::analysis::Analysis;
use crate::model::{FileId, Language, Span, Static};

/// Every function written in Rust.
pub fn rust_functions<'a>(analysis: &'a Analysis) -> impl Iterator<Item = FuncId> + 'a {
    let program = &analysis.program;
    (0..program.functions.len())
        .filter(move |&f| program.files[program.file_of(f)].language == Language::Rust)
}

/// A static, `thread_local!` key or `lazy_static!` value, where it is declared.
pub struct StaticItem<'m> {
    pub file: FileId,
    pub name: &'m str,
    pub span: Span,
    pub item: &'m Static,
}

/// Every Rust static by canonical path (inline modules included).
pub fn statics<'m>(analysis: &Analysis<'m>) -> HashMap<String, StaticItem<'m>> {
    let mut statics = HashMap::new();
    for (file, model) in analysis.program.files.iter().enumerate() {
        for symbol in &model.symbols {
            if let crate::model::SymbolKind::Static(item) = &symbol.kind {
                let name = symbol.name.rsplit('.').next().unwrap_or(&symbol.name);
                statics.insert(
                    format!("{}.{}", model.module, symbol.name),
                    StaticItem {
                        file,
                        name,
                        span: symbol.span,
                        item,
                    },
                );
            }
        }
    }
    statics
}

/// A model path as Rust writes it: `rs:shop.cache.CACHE` → `shop::cache::CACHE`.
pub fn rust_display(path: &str) -> String {
    path.strip_prefix("rs:").unwrap_or(path).replace('.', "::")
}

/// The text a span covers.
pub fn text<'a>(analysis: &'a Analysis, file: FileId, span: Span) -> &'a str {
    let source = &analysis.program.files[file].source;
    source
        .get(span.offset..span.offset + span.len)
        .unwrap_or("")
}

/// One source line, trimmed.
pub fn line<'a>(analysis: &'a Analysis, file: FileId, line: u32) -> &'a str {
    analysis.program.files[file]
        .source
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or("")
        .trim()
}
