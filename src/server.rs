//! `racelint server`: a language server over stdio, for live diagnostics in editors.
//!
//! The workspace is analysed as one program, as `racelint check` does, because a race
//! has two sides that may sit in two files: on open, change and save, the whole
//! workspace is re-analysed, with the editor's open buffers in place of what is on
//! disk, and every file whose diagnostics changed is published again (including files
//! cleared because another file's edit removed their race). The analysis runs on a
//! thread of its own, so the editor is never blocked; it waits for typing to pause
//! (`DEBOUNCE`), and requests that pile up meanwhile are merged into one run.
//!
//! Built on `lsp-server` and `lsp-types`, the crates rust-analyzer uses: a synchronous
//! message loop over channels fits a server whose work is one batch analysis, with no
//! async runtime to carry.
//!
//! Hovering over a finding shows its rule's documentation, from the binary. Code actions
//! insert a suppression comment on the line above a finding
//! (`# racelint: ignore[RL101] reason`, `//` in Rust), the one form of fix that is
//! always safe to apply.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crossbeam_channel::{Receiver, Sender};
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, Request as _};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionProviderCapability, Diagnostic,
    Hover, HoverContents, HoverProviderCapability, InitializeParams, MarkupContent, MarkupKind,
    NumberOrString, Position, PublishDiagnosticsParams, Range, SaveOptions, ServerCapabilities,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, TextEdit, Uri, WorkspaceEdit,
};

use crate::check::{check, open_cache, Options};
use crate::cli::Selection;
use crate::config;
use crate::report::lsp::{diagnostics, path_of, uri, FixAction};

/// What the analysis thread publishes, kept for code actions: each file's diagnostics.
type Published = Arc<Mutex<BTreeMap<PathBuf, Vec<Diagnostic>>>>;

/// The editor's open buffers with unsaved text, by absolute path.
type Buffers = Arc<Mutex<HashMap<PathBuf, String>>>;

pub fn run() -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let failed = |e: lsp_server::ProtocolError| format!("language server: {e}");
    let (id, params) = connection.initialize_start().map_err(failed)?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("invalid initialize request: {e}"))?;
    let root = workspace_root(&params)?;
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    };
    let result = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": {"name": "racelint", "version": env!("CARGO_PKG_VERSION")},
    });
    connection.initialize_finish(id, result).map_err(failed)?;

    let published: Published = Arc::default();
    let buffers: Buffers = Arc::default();
    let (analyse, requests) = crossbeam_channel::unbounded::<()>();
    let analysis = {
        let sender = connection.sender.clone();
        let published = Arc::clone(&published);
        let buffers = Arc::clone(&buffers);
        std::thread::Builder::new()
            .name("racelint-analysis".to_string())
            .stack_size(256 * 1024 * 1024)
            .spawn(move || analyse_on_request(&root, &requests, &sender, &published, &buffers))
            .map_err(|e| format!("cannot start the analysis thread: {e}"))?
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request).map_err(failed)? {
                    break;
                }
                let response = respond(&request, &published, &buffers);
                if connection.sender.send(Message::Response(response)).is_err() {
                    break;
                }
            }
            Message::Notification(notification) => {
                if track(&notification, &buffers) {
                    let _ = analyse.send(());
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(analyse);
    let _ = analysis.join();
    // The writer thread ends when the last sender is gone.
    drop(connection);
    io_threads
        .join()
        .map_err(|e| format!("language server: {e}"))
}

/// The folder the client opened: its first workspace folder, else its root URI, else
/// the current folder.
fn workspace_root(params: &InitializeParams) -> Result<PathBuf, String> {
    #[allow(deprecated)] // `root_uri` is how clients before LSP 3.6 say it
    let named = params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .map(|folder| &folder.uri)
        .or(params.root_uri.as_ref())
        .and_then(path_of);
    match named {
        Some(root) => Ok(root),
        None => std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}")),
    }
}

/// Keeps the open buffers' texts; whether the notification calls for an analysis.
fn track(notification: &Notification, buffers: &Buffers) -> bool {
    let params = &notification.params;
    let path = serde_json::from_value::<Uri>(params["textDocument"]["uri"].clone())
        .ok()
        .and_then(|uri| path_of(&uri));
    let Some(path) = path else {
        return false;
    };
    let Ok(mut buffers) = buffers.lock() else {
        return false;
    };
    match notification.method.as_str() {
        DidOpenTextDocument::METHOD => {
            if let Some(text) = params["textDocument"]["text"].as_str() {
                buffers.insert(path, text.to_string());
            }
            true
        }
        // Full sync: the last change holds the whole text.
        DidChangeTextDocument::METHOD => {
            let text = params["contentChanges"]
                .as_array()
                .and_then(|changes| changes.last())
                .and_then(|change| change["text"].as_str());
            if let Some(text) = text {
                buffers.insert(path, text.to_string());
            }
            true
        }
        // What is saved is on disk; a closed buffer's file is read from there again.
        DidSaveTextDocument::METHOD | DidCloseTextDocument::METHOD => {
            buffers.remove(&path);
            true
        }
        _ => false,
    }
}

/// How long typing must pause before a change is analysed.
const DEBOUNCE: std::time::Duration = std::time::Duration::from_millis(300);

/// Runs the analysis for each batch of requests, and publishes what changed.
fn analyse_on_request(
    root: &Path,
    requests: &Receiver<()>,
    sender: &Sender<Message>,
    published: &Published,
    buffers: &Buffers,
) {
    while requests.recv().is_ok() {
        // Requests that come in until typing pauses are answered by this one run.
        while requests.recv_timeout(DEBOUNCE).is_ok() {}
        let overlays = match buffers.lock() {
            Ok(buffers) => buffers.clone(),
            Err(_) => return,
        };
        let now = match analyse(root, overlays) {
            Ok(now) => now,
            Err(message) => {
                let _ = sender.send(log(&message));
                continue;
            }
        };
        let Ok(mut shown) = published.lock() else {
            return;
        };
        let cleared: Vec<PathBuf> = shown
            .keys()
            .filter(|path| !now.contains_key(*path))
            .cloned()
            .collect();
        let updates = cleared.into_iter().map(|path| (path, Vec::new())).chain(
            now.iter()
                .filter(|(path, diagnostics)| shown.get(*path) != Some(diagnostics))
                .map(|(path, diagnostics)| (path.clone(), diagnostics.clone())),
        );
        for (path, diagnostics) in updates {
            let Some(uri) = uri(&path) else { continue };
            let params = PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: None,
            };
            let notification = Notification::new(PublishDiagnostics::METHOD.to_string(), params);
            if sender.send(Message::Notification(notification)).is_err() {
                return;
            }
        }
        *shown = now;
    }
}

/// One `racelint check` of the workspace, with its configuration.
fn analyse(
    root: &Path,
    overlays: HashMap<PathBuf, String>,
) -> Result<BTreeMap<PathBuf, Vec<Diagnostic>>, String> {
    let loaded = config::load(None, root)?;
    let selection = Selection::new(&loaded, &[], &[])?;
    let selected = |rule: &crate::rules::Rule| selection.selected(rule);
    let mut options = Options::from_config(&loaded, &selected)?;
    options.overlays = Arc::new(overlays);
    options.cache = open_cache(&loaded, root, &options.catalogue);
    let result = check(&[root.to_path_buf()], options)?;
    // Paths come back as the walk named them: relative ones to this process's folder.
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    Ok(diagnostics(&result, &cwd))
}

fn log(message: &str) -> Message {
    Message::Notification(Notification::new(
        "window/logMessage".to_string(),
        serde_json::json!({"type": 1, "message": format!("racelint: {message}")}),
    ))
}

fn respond(request: &Request, published: &Published, buffers: &Buffers) -> Response {
    let params = &request.params;
    let uri = serde_json::from_value::<Uri>(params["textDocument"]["uri"].clone());
    match request.method.as_str() {
        CodeActionRequest::METHOD => {
            // Only the document and the range matter; a client's `context` is not
            // needed (some send an object where the protocol has a list).
            let range = serde_json::from_value::<Range>(params["range"].clone());
            let actions = match (uri, range) {
                (Ok(uri), Ok(range)) => {
                    let mut actions = fixes(&uri, range, published);
                    actions.extend(suppressions(&uri, range, published, buffers));
                    actions
                }
                _ => Vec::new(),
            };
            Response::new_ok(request.id.clone(), actions)
        }
        HoverRequest::METHOD => {
            let position = serde_json::from_value::<Position>(params["position"].clone());
            let hover = match (uri, position) {
                (Ok(uri), Ok(position)) => rule_documentation(&uri, position, published),
                _ => None,
            };
            Response::new_ok(request.id.clone(), hover)
        }
        _ => Response::new_err(
            request.id.clone(),
            lsp_server::ErrorCode::MethodNotFound as i32,
            format!("racelint does not answer `{}`", request.method),
        ),
    }
}

/// Over a finding, the documentation of its rule (what `racelint rule CODE` prints),
/// from the binary: no network needed.
fn rule_documentation(uri: &Uri, position: Position, published: &Published) -> Option<Hover> {
    let path = path_of(uri)?;
    let shown = published.lock().ok()?;
    let diagnostic = shown.get(&path)?.iter().find(|d| {
        let Range { start, end } = d.range;
        (start.line, start.character) <= (position.line, position.character)
            && (position.line, position.character) <= (end.line, end.character)
    })?;
    let Some(NumberOrString::String(code)) = &diagnostic.code else {
        return None;
    };
    let rule = crate::rules::find(code)?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: format!(
                "# {} ({})\n\n{}",
                rule.code(),
                rule.meta().name,
                rule.body()
            ),
        }),
        range: Some(diagnostic.range),
    })
}

/// For each racelint diagnostic in the request that has a fix, the action applying it
/// (from the diagnostic's `data`, `report::lsp::FixAction`): preferred when it is safe.
fn fixes(uri: &Uri, range: Range, published: &Published) -> Vec<CodeActionOrCommand> {
    let Some(path) = path_of(uri) else {
        return Vec::new();
    };
    let known = published
        .lock()
        .map(|shown| shown.get(&path).cloned().unwrap_or_default())
        .unwrap_or_default();
    known
        .iter()
        .filter(|d| overlaps(d.range, range))
        .filter_map(|diagnostic| {
            let action: FixAction = serde_json::from_value(diagnostic.data.clone()?).ok()?;
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: action.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(action.edit),
                is_preferred: Some(action.safe),
                ..CodeAction::default()
            }))
        })
        .collect()
}

/// For each racelint diagnostic in the request, an action that suppresses it.
fn suppressions(
    uri: &Uri,
    range: Range,
    published: &Published,
    buffers: &Buffers,
) -> Vec<CodeActionOrCommand> {
    let Some(path) = path_of(uri) else {
        return Vec::new();
    };
    // The editor's text, unsaved edits included; else the file.
    let source = buffers
        .lock()
        .ok()
        .and_then(|open| open.get(&path).cloned())
        .unwrap_or_else(|| std::fs::read_to_string(&path).unwrap_or_default());
    let known = published
        .lock()
        .map(|shown| shown.get(&path).cloned().unwrap_or_default())
        .unwrap_or_default();
    let comment = if path.extension().is_some_and(|e| e == "rs") {
        "//"
    } else {
        "#"
    };
    known
        .iter()
        .filter(|d| overlaps(d.range, range))
        .filter_map(|diagnostic| {
            let Some(NumberOrString::String(code)) = &diagnostic.code else {
                return None;
            };
            let line = diagnostic.range.start.line;
            let text = source.lines().nth(line as usize).unwrap_or_default();
            let indent: String = text.chars().take_while(|c| c.is_whitespace()).collect();
            let edit = TextEdit {
                range: Range {
                    start: Position { line, character: 0 },
                    end: Position { line, character: 0 },
                },
                new_text: format!("{indent}{comment} racelint: ignore[{code}] reason\n"),
            };
            Some(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Suppress {code} on this line"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..WorkspaceEdit::default()
                }),
                ..CodeAction::default()
            }))
        })
        .collect()
}

fn overlaps(a: Range, b: Range) -> bool {
    a.start.line <= b.end.line && b.start.line <= a.end.line
}
