//! Facts the Rust rules share: Rust functions, statics by path, how Rust paths read.

use std::collections::HashMap;

use crate::analysis::contexts::Context;
use crate::analysis::resolve::FuncId;
use crate::analysis::Analysis;
use crate::model::{FileId, Language, Span, Static};

/// Every function written in Rust.
pub fn rust_functions<'a>(analysis: &'a Analysis) -> impl Iterator<Item = FuncId> + 'a {
    let program = &analysis.program;
    (0..program.functions.len())
        .filter(move |&f| program.files[program.file_of(f)].language == Language::Rust)
}

/// A guard (or borrow) live at an `.await`: the function, its file, the guard and the
/// first suspension it is held across.
pub struct HeldAtAwait<'m> {
    pub function: FuncId,
    pub file: FileId,
    pub guard: &'m crate::model::Guard,
    pub suspension: &'m crate::model::Await,
}

/// Every guard that `keep` accepts and that is live at an `.await`, once each, at the
/// first suspension it is held across (RL301's locks, RL307's borrows).
pub fn held_at_awaits<'a>(
    analysis: &'a Analysis,
    keep: impl Fn(FileId, &crate::model::Guard) -> bool + 'a,
) -> impl Iterator<Item = HeldAtAwait<'a>> + 'a {
    let program = &analysis.program;
    rust_functions(analysis).flat_map(move |function| {
        let model = program.function(function);
        let file = program.file_of(function);
        let mut reported = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for suspension in &model.awaits {
            for &index in &suspension.guards {
                let guard = &model.guards[index];
                if keep(file, guard) && reported.insert(index) {
                    out.push(HeldAtAwait {
                        function,
                        file,
                        guard,
                        suspension,
                    });
                }
            }
        }
        out
    })
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

/// Whether `function` can run concurrently with itself: as async tasks (many at once,
/// on several runtime threads), on both sides, on a worker entry started many times, or
/// on a worker handed off from async code (`spawn_blocking` in a handler runs once per
/// request, so once per concurrent task).
pub fn runs_concurrently(analysis: &Analysis, function: FuncId) -> bool {
    analysis.contexts.reach[function][Context::EventLoop.index()].is_some()
        || worker_runs_concurrently(analysis, function)
}

/// Whether worker threads run `function` several at once: an entry started many times,
/// or a handoff made from async code.
pub fn worker_runs_concurrently(analysis: &Analysis, function: FuncId) -> bool {
    let contexts = &analysis.contexts;
    if contexts.concurrent[function].is_some() {
        return true;
    }
    let Some(worker) = contexts.reach[function][Context::WorkerThread.index()] else {
        return false;
    };
    contexts.entries[worker.entry]
        .site
        .as_ref()
        .and_then(|site| site.caller)
        .is_some_and(|caller| contexts.reach[caller][Context::EventLoop.index()].is_some())
}

/// A closure handed to a run-once API (`Once::call_once`, `OnceLock::get_or_init`): it
/// runs once, and its writes are published to every caller when the call returns.
pub fn runs_once(analysis: &Analysis, function: FuncId) -> bool {
    let program = &analysis.program;
    let Some(parent) = program.function(function).parent else {
        return false;
    };
    let file = program.file_of(function);
    let index = function - program.function_id(file, 0);
    let once = &analysis.catalogue.rust.once.methods;
    program.files[file].functions[parent]
        .calls
        .iter()
        .any(|call| {
            matches!(&call.callee, crate::model::Callee::Method(m) if once.contains(m))
                && call.args.contains(&crate::model::Arg::Inline(index))
        })
}
