//! SARIF 2.1.0 (`--output-format sarif`) for GitHub code scanning and IDE viewers.
//!
//! Hand-written structs: every object of the schema forbids properties it does not
//! define, so only the fields below are ever written, and our own data goes under
//! `properties`.
//!
//! - Locations are relative to the repository root (`git rev-parse --show-toplevel`,
//!   else the current directory), percent-encoded (a file name that is not UTF-8, byte
//!   for byte), with `uriBaseId: "%SRCROOT%"`. The run describes `%SRCROOT%` but gives
//!   no absolute URI for it: a log holds no absolute path the user did not pass, so it
//!   is the same wherever the repository is checked out (GitHub resolves relative URIs
//!   against the checkout). A file outside the root is reached with `../` from it,
//!   unless the user named it by an absolute path: then its `file://` URI.
//! - Columns count UTF-16 code units (`columnKind: "utf16CodeUnits"`), computed from the
//!   source text and the spans' byte offsets.
//! - `codeFlows` come from the call paths: one code flow for the race, with one thread
//!   flow per side (entry site, the functions on the way, the access).
//! - `fixes`: the edits `--fix` applies, when the finding has them; otherwise only for a
//!   one-line fix that rewrites the flagged expression using names it
//!   already uses; every fix is also in `properties.fix` and in `message.markdown`.
//! - Suppressed findings are results with an `inSource` suppression. With a baseline,
//!   every result has a `baselineState` (`unchanged` when the baseline knows it, else
//!   `new`), and entries no longer found are `note` notifications.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::check::CheckResult;
use crate::model::{FileId, FileModel, Span};
use crate::rules::{self, Edit, Finding, Rule};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";
const FINGERPRINT_KEY: &str = "racelintFingerprint/v1";
/// GitHub reads at most 1,024 characters of `fullDescription`.
const FULL_DESCRIPTION_LIMIT: usize = 1024;
/// GitHub's limit on locations in one result.
const MAX_RELATED: usize = 1000;

// ---------------------------------------------------------------------------------------
// The SARIF objects we write (a subset of the 2.1.0 schema, field names as the schema's).

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    original_uri_base_ids: BTreeMap<&'static str, UriBase>,
    results: Vec<SarifResult>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Tool {
    driver: ToolComponent,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ToolComponent {
    name: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: &'static str,
    short_description: MultiformatMessage,
    full_description: MultiformatMessage,
    help: MultiformatMessage,
    default_configuration: ReportingConfiguration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct MultiformatMessage {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
}

#[derive(Serialize)]
struct ReportingConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
    precision: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    exit_code: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Message,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    code_flows: Vec<CodeFlow>,
    partial_fingerprints: BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    /// With a `--baseline`: `new`, or `unchanged` for a finding the baseline knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
    properties: ResultProperties,
}

#[derive(Serialize, Clone)]
struct Message {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
}

impl Message {
    fn plain(text: impl Into<String>) -> Message {
        Message {
            text: text.into(),
            markdown: None,
        }
    }
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

/// An `originalUriBaseIds` entry without a `uri`: the consumer knows where the root is.
#[derive(Serialize)]
struct UriBase {
    description: Message,
}

#[derive(Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_column: Option<usize>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeFlow {
    message: Message,
    thread_flows: Vec<ThreadFlow>,
}

#[derive(Serialize)]
struct ThreadFlow {
    message: Message,
    locations: Vec<ThreadFlowLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ThreadFlowLocation {
    location: Location,
    nesting_level: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Message,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
struct ArtifactChange {
    #[serde(rename = "artifactLocation")]
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: Region,
    inserted_content: ArtifactContent,
}

#[derive(Serialize)]
struct ArtifactContent {
    text: String,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: Option<String>,
}

/// `result.properties`: racelint's own data, as in the JSON report.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    #[serde(skip_serializing_if = "Option::is_none")]
    state: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contexts: Vec<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    call_paths: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<FixProperty>,
}

#[derive(Serialize)]
struct FixProperty {
    description: String,
    code: String,
}

// ---------------------------------------------------------------------------------------

/// Writes the run as one SARIF 2.1.0 log. `exit_code` is the status racelint exits with.
pub fn render(result: &CheckResult, exit_code: i32, out: &mut dyn Write) -> io::Result<()> {
    let root = Root::discover();
    let writer = Writer::new(result, &root);
    // A baseline was applied when it matched or missed something (an empty baseline
    // changes nothing).
    let baselining = !result.baselined.is_empty() || !result.fixed.is_empty();
    let state = |known: bool| match (baselining, known) {
        (false, _) => None,
        (true, false) => Some("new"),
        (true, true) => Some("unchanged"),
    };
    let mut results: Vec<SarifResult> = result
        .findings
        .iter()
        .map(|f| writer.result(f, None, state(false)))
        .collect();
    results.extend(
        result
            .baselined
            .iter()
            .map(|f| writer.result(f, None, state(true))),
    );
    results.extend(
        result
            .suppressed
            .iter()
            .map(|(f, reason)| writer.result(f, Some(reason), state(false))),
    );
    let notification = |level: &'static str, path: &Path, text: String| Notification {
        level,
        message: Message::plain(escape(&text)),
        locations: vec![Location {
            id: None,
            physical_location: PhysicalLocation {
                artifact_location: root.artifact(path),
                region: None,
            },
            message: None,
        }],
    };
    let mut notifications: Vec<Notification> = result
        .errors
        .iter()
        .map(|error| {
            let text = format!("{}: {}", super::path_text(&error.path), error.message);
            notification("error", &error.path, text)
        })
        .collect();
    notifications.extend(result.fixed.iter().map(|fixed| {
        let text = format!(
            "{}: {} {} is no longer present; update the baseline",
            fixed.path, fixed.code, fixed.message
        );
        notification("note", Path::new(&fixed.path), text)
    }));
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: ToolComponent {
                    name: "racelint",
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules::all().iter().map(descriptor).collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: true,
                exit_code,
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids: BTreeMap::from([(
                SRCROOT,
                UriBase {
                    description: Message::plain(
                        "The root of the repository racelint ran in (the folder it ran in, \
                         outside a repository).",
                    ),
                },
            )]),
            results,
            column_kind: "utf16CodeUnits",
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}

// ---------------------------------------------------------------------------------------
// Rules.

fn descriptor(rule: &'static Rule) -> ReportingDescriptor {
    let meta = rule.meta();
    let paragraph = what_it_does(rule.body());
    let full = if paragraph.is_empty() {
        meta.summary.clone()
    } else {
        paragraph
    };
    // Families by code: RL0xx the parser, RL9xx racelint's own comments, the rest races.
    let family = match meta.code.as_bytes().get(2) {
        Some(b'0') => "syntax",
        Some(b'9') => "suppression",
        _ => "concurrency",
    };
    let mut tags = vec![family.to_string()];
    tags.extend(meta.languages.iter().filter(|l| **l != family).cloned());
    ReportingDescriptor {
        id: &meta.code,
        name: &meta.name,
        short_description: MultiformatMessage {
            text: meta.summary.clone(),
            markdown: None,
        },
        full_description: MultiformatMessage {
            text: truncate(&full.replace("**", ""), FULL_DESCRIPTION_LIMIT),
            markdown: Some(truncate(&full, FULL_DESCRIPTION_LIMIT)),
        },
        help: MultiformatMessage {
            text: rule.body().to_string(),
            markdown: Some(rule.body().to_string()),
        },
        default_configuration: ReportingConfiguration {
            level: meta.severity.as_str(),
        },
        properties: RuleProperties {
            tags,
            precision: if meta.opt_in { "low" } else { "medium" },
        },
    }
}

/// The first paragraph under `## What it does`, its lines joined.
fn what_it_does(body: &str) -> String {
    let mut lines = body.lines().skip_while(|l| l.trim() != "## What it does");
    lines.next();
    lines
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most `limit` characters, cut at a word boundary with an ellipsis.
fn truncate(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit - 1).collect();
    let cut = match cut.rfind(' ') {
        Some(space) if space > limit / 2 => &cut[..space],
        _ => &cut[..],
    };
    format!("{}…", cut.trim_end())
}

// ---------------------------------------------------------------------------------------
// Paths and positions.

/// The folder results are relative to.
struct Root {
    path: PathBuf,
    cwd: PathBuf,
}

impl Root {
    fn discover() -> Root {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let git = std::process::Command::new("git")
            .args(["rev-parse", "--show-toplevel"])
            .current_dir(&cwd)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        let path = normalize(&git.unwrap_or_else(|| cwd.clone()));
        Root { path, cwd }
    }

    /// `path` relative to the root with `%SRCROOT%` (through `..` when it lies outside),
    /// or an absolute `file://` URI when the user named it by one.
    fn artifact(&self, path: &Path) -> ArtifactLocation {
        let absolute = normalize(&self.cwd.join(path));
        let real = || {
            Some((
                std::fs::canonicalize(&self.path).ok()?,
                std::fs::canonicalize(&absolute).ok()?,
            ))
        };
        let inside = absolute
            .strip_prefix(&self.path)
            .ok()
            .map(Path::to_path_buf)
            .or_else(|| {
                let (root, file) = real()?;
                file.strip_prefix(root).ok().map(Path::to_path_buf)
            });
        let relative = match inside {
            Some(relative) => Some(relative),
            None if path.is_absolute() => None,
            None => real()
                .and_then(|(root, file)| climb(&root, &file))
                .or_else(|| climb(&self.path, &absolute)),
        };
        match relative {
            // The root itself (an error reading it).
            Some(relative) if relative.as_os_str().is_empty() => ArtifactLocation {
                uri: "./".to_string(),
                uri_base_id: Some(SRCROOT),
            },
            Some(relative) => ArtifactLocation {
                uri: percent_encode_bytes(&path_bytes(&relative), false),
                uri_base_id: Some(SRCROOT),
            },
            None => ArtifactLocation {
                uri: file_uri(&absolute),
                uri_base_id: None,
            },
        }
    }
}

/// `path` relative to `base` (both absolute), climbing with `..`; `None` when they share
/// no prefix (another drive).
fn climb(base: &Path, path: &Path) -> Option<PathBuf> {
    let base: Vec<Component> = base.components().collect();
    let path: Vec<Component> = path.components().collect();
    let common = base.iter().zip(&path).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return None;
    }
    let mut relative = PathBuf::new();
    for _ in common..base.len() {
        relative.push("..");
    }
    for component in &path[common..] {
        relative.push(component.as_os_str());
    }
    Some(relative)
}

/// A path's bytes, `/`-separated: on Unix exactly as the file system has them (a name
/// need not be UTF-8), elsewhere as text.
fn path_bytes(path: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        path.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        super::path_text(path).into_bytes()
    }
}

/// Removes `.` and resolves `..` lexically (files are never reached through symlinks
/// that this would misread: discovery does not follow them).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `file:///abs/path` (`file:///C:/abs/path` on Windows), percent-encoded.
fn file_uri(path: &Path) -> String {
    let bytes = path_bytes(path);
    let bytes = bytes.strip_prefix(b"//?/").unwrap_or(&bytes);
    let slash = if bytes.starts_with(b"/") { "" } else { "/" };
    format!("file://{slash}{}", percent_encode_bytes(bytes, true))
}

/// Percent-encodes everything but unreserved characters and `/` (and `:` in absolute
/// URIs, for drive letters): spaces, `%`, non-ASCII (as UTF-8 bytes), and anything a
/// relative reference could misread (`:` in a first segment, `?`, `#`).
#[cfg(test)]
fn percent_encode(text: &str, keep_colon: bool) -> String {
    percent_encode_bytes(text.as_bytes(), keep_colon)
}

fn percent_encode_bytes(bytes: &[u8], keep_colon: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &byte in bytes {
        let keep = byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/')
            || (keep_colon && byte == b':');
        if keep {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// 1-based line and UTF-16 column of a byte offset. Lines end at LF, CRLF or a lone CR,
/// as SARIF consumers count them.
fn utf16_position(source: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &source.as_bytes()[..offset];
    let mut line = 1;
    let mut line_start = 0;
    for (i, byte) in before.iter().enumerate() {
        let ends_line = match byte {
            b'\n' => true,
            b'\r' => source.as_bytes().get(i + 1) != Some(&b'\n'),
            _ => false,
        };
        if ends_line {
            line += 1;
            line_start = i + 1;
        }
    }
    let column = source[line_start..offset].encode_utf16().count() + 1;
    (line, column)
}

fn region(file: &FileModel, span: &Span) -> Region {
    let (start_line, start_column) = utf16_position(&file.source, span.offset);
    let (end_line, end_column) = utf16_position(&file.source, span.offset + span.len);
    Region {
        start_line,
        start_column: Some(start_column),
        end_line: Some(end_line),
        end_column: Some(end_column),
    }
}

// ---------------------------------------------------------------------------------------
// Results.

struct Writer<'a> {
    result: &'a CheckResult,
    root: &'a Root,
}

impl<'a> Writer<'a> {
    fn new(result: &'a CheckResult, root: &'a Root) -> Writer<'a> {
        Writer { result, root }
    }

    fn location(&self, file: usize, span: &Span, message: Option<&str>) -> Location {
        let model = &self.result.files[file];
        Location {
            id: None,
            physical_location: PhysicalLocation {
                artifact_location: self.root.artifact(&model.path),
                region: Some(region(model, span)),
            },
            message: message.map(|m| Message::plain(escape(m))),
        }
    }

    fn result(
        &self,
        finding: &Finding,
        suppressed: Option<&String>,
        baseline_state: Option<&'static str>,
    ) -> SarifResult {
        let meta = finding.rule.meta();
        let rule_index = rules::all()
            .iter()
            .position(|r| std::ptr::eq(r, finding.rule))
            .unwrap_or_default();
        let related: Vec<Location> = finding
            .related
            .iter()
            .take(MAX_RELATED)
            .enumerate()
            .map(|(i, r)| Location {
                id: Some(i + 1),
                ..self.location(r.file, &r.span, Some(&r.message))
            })
            .collect();
        let message = self.message(finding, related.len());
        let file = &self.result.files[finding.file];
        // The edits `--fix` applies, when the finding has them (in each file they touch);
        // else the one-line replacement that is safe to apply blindly, if any.
        let changes = match &finding.autofix {
            Some(autofix) => {
                let mut by_file: BTreeMap<FileId, Vec<&Edit>> = Default::default();
                for edit in &autofix.edits {
                    by_file.entry(edit.file).or_default().push(edit);
                }
                Some(
                    by_file
                        .into_iter()
                        .map(|(id, edits)| {
                            let file = &self.result.files[id];
                            let lines = crate::source::LineIndex::new(&file.source);
                            ArtifactChange {
                                artifact_location: self.root.artifact(&file.path),
                                replacements: edits
                                    .iter()
                                    .map(|edit| Replacement {
                                        deleted_region: region(
                                            file,
                                            &lines.span(
                                                &file.source,
                                                edit.offset,
                                                edit.offset + edit.len,
                                            ),
                                        ),
                                        inserted_content: ArtifactContent {
                                            text: edit.replacement.clone(),
                                        },
                                    })
                                    .collect(),
                            }
                        })
                        .collect(),
                )
            }
            None => concrete_fix(file, finding).map(|(region, text)| {
                vec![ArtifactChange {
                    artifact_location: self.root.artifact(&file.path),
                    replacements: vec![Replacement {
                        deleted_region: region,
                        inserted_content: ArtifactContent { text },
                    }],
                }]
            }),
        };
        let fixes = changes
            .zip(finding.fix.as_ref())
            .map(|(artifact_changes, fix)| {
                vec![SarifFix {
                    description: Message::plain(escape(&fix.description)),
                    artifact_changes,
                }]
            })
            .unwrap_or_default();
        SarifResult {
            rule_id: &meta.code,
            rule_index,
            level: meta.severity.as_str(),
            message,
            locations: vec![self.location(finding.file, &finding.span, None)],
            related_locations: related,
            code_flows: self.code_flows(finding),
            partial_fingerprints: BTreeMap::from([(
                FINGERPRINT_KEY,
                super::fingerprint::fingerprint(self.result, finding),
            )]),
            fixes,
            suppressions: suppressed
                .map(|reason| {
                    vec![Suppression {
                        kind: "inSource",
                        justification: Some(reason.trim().to_string()).filter(|r| !r.is_empty()),
                    }]
                })
                .unwrap_or_default(),
            baseline_state,
            properties: ResultProperties {
                state: finding.state.clone(),
                contexts: finding.contexts.iter().map(|c| c.id()).collect(),
                call_paths: finding.call_paths(),
                fix: finding.fix.as_ref().map(|fix| FixProperty {
                    description: fix.description.clone(),
                    code: fix.code.clone(),
                }),
            },
        }
    }

    /// The finding's sentence first, then links to the related locations; the markdown
    /// form adds the call paths and the fix.
    fn message(&self, finding: &Finding, related: usize) -> Message {
        let mut text = escape(finding.message.trim_end());
        if !text.ends_with(['.', '!', '?']) {
            text.push('.');
        }
        let links: Vec<String> = finding
            .related
            .iter()
            .take(related)
            .enumerate()
            .map(|(i, r)| format!("[{}]({})", escape(&r.message), i + 1))
            .collect();
        if !links.is_empty() {
            text.push_str(" Related: ");
            text.push_str(&links.join("; "));
            text.push('.');
        }
        let mut markdown = text.clone();
        let call_paths = finding.call_paths();
        if !call_paths.is_empty() {
            markdown.push_str("\n\n");
            for path in &call_paths {
                markdown.push_str(&format!("- {}\n", escape(path)));
            }
        }
        if let Some(fix) = &finding.fix {
            markdown.push_str(&format!("\n\n**Fix:** {}", escape(&fix.description)));
            if !fix.code.trim().is_empty() {
                let fence = if fix.code.contains("```") {
                    "````"
                } else {
                    "```"
                };
                markdown.push_str(&format!(
                    "\n\n{fence}python\n{}\n{fence}",
                    fix.code.trim_end()
                ));
            }
        }
        Message {
            text,
            markdown: Some(markdown.trim_end().to_string()),
        }
    }

    /// One code flow: a thread flow per side of the finding, from the entry site
    /// through the functions on the way to the access. The flow that ends at the
    /// anchored access comes first (viewers show the first one).
    fn code_flows(&self, finding: &Finding) -> Vec<CodeFlow> {
        let mut seen: Vec<String> = Vec::new();
        let mut flows: Vec<(bool, ThreadFlow)> = Vec::new();
        for flow in &finding.flows {
            let text = flow.text();
            if seen.contains(&text) {
                continue;
            }
            let mut locations: Vec<ThreadFlowLocation> = Vec::new();
            for (depth, step) in flow.steps.iter().chain(flow.end.iter()).enumerate() {
                let location = self.location(step.file, &step.span, Some(&step.label));
                let repeated = locations.last().is_some_and(|l| {
                    l.location.physical_location.region == location.physical_location.region
                        && l.location.physical_location.artifact_location.uri
                            == location.physical_location.artifact_location.uri
                });
                if !repeated {
                    locations.push(ThreadFlowLocation {
                        location,
                        nesting_level: depth,
                    });
                }
            }
            let at_anchor = flow.end.as_ref().is_some_and(|end| {
                end.file == finding.file && end.span.offset == finding.span.offset
            });
            flows.push((
                at_anchor,
                ThreadFlow {
                    message: Message::plain(escape(&text)),
                    locations,
                },
            ));
            seen.push(text);
        }
        flows.sort_by_key(|(at_anchor, _)| !at_anchor);
        if flows.is_empty() {
            return Vec::new();
        }
        vec![CodeFlow {
            message: Message::plain(escape(finding.message.trim_end())),
            thread_flows: flows.into_iter().map(|(_, flow)| flow).collect(),
        }]
    }
}

/// Plain-text message escaping: `\`, `[` and `]` are written `\\`, `\[`, `\]` so that
/// only our links read as links.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Fixes.

/// The fix as one replacement, when it is safe to apply blindly: one line of code
/// without a comment that rewrites the flagged one-line expression (or the whole
/// `target = expression` line it sits on) without a name the expression does not
/// already use, so applying it cannot leave an undefined name or an elided argument.
fn concrete_fix(file: &FileModel, finding: &Finding) -> Option<(Region, String)> {
    let code = finding.fix.as_ref()?.code.trim_end_matches(['\n', '\r']);
    if code.trim().is_empty() || code.contains(['\n', '\r', '#']) || finding.span.len == 0 {
        return None;
    }
    let source = &file.source;
    let start = finding.span.offset;
    let end = start.checked_add(finding.span.len)?;
    let flagged = source.get(start..end)?;
    if flagged.contains(['\n', '\r']) {
        return None;
    }
    let line_start = source[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let line_end = source[end..]
        .find(['\n', '\r'])
        .map_or(source.len(), |i| end + i);
    let before = source[line_start..start].trim_start();
    let after = source[end..line_end].trim();
    let code = code.trim();
    // `loop = asyncio.get_running_loop()` for `loop = asyncio.get_event_loop()`.
    let replacement = match code.strip_prefix(before) {
        Some(rest) if !before.is_empty() && (after.is_empty() || after.starts_with('#')) => {
            rest.trim()
        }
        _ => code,
    };
    let safe = !replacement.is_empty()
        && replacement != flagged
        && is_expression(replacement)
        && tokens(replacement)?
            .iter()
            .all(|t| tokens(flagged).is_some_and(|known| known.contains(t)));
    safe.then(|| (region(file, &finding.span), replacement.to_string()))
}

/// Root names and literals of a line of Python, outside attribute names. `None` when
/// the text holds something unexpected outside strings (non-ASCII, such as `…`).
fn tokens(code: &str) -> Option<Vec<String>> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut after_dot = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' {
            let start = i;
            i += 1;
            while i < chars.len() && chars[i] != c {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push(chars[start..i.min(chars.len())].iter().collect());
            after_dot = false;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // A string prefix (`f"…"`, `b'…'`) belongs to the string.
            if i < chars.len() && (chars[i] == '"' || chars[i] == '\'') {
                continue;
            }
            if !after_dot {
                out.push(word);
            }
            after_dot = false;
        } else if !c.is_ascii() {
            return None;
        } else {
            if !c.is_whitespace() {
                after_dot = c == '.';
            }
            i += 1;
        }
    }
    Some(out)
}

/// No statement: no top-level `=`, `:` or statement keyword.
fn is_expression(code: &str) -> bool {
    const STATEMENTS: [&str; 16] = [
        "return", "with", "if", "for", "while", "del", "import", "from", "raise", "assert", "pass",
        "global", "nonlocal", "yield", "lambda", "async",
    ];
    let first = code
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .next()
        .unwrap_or("");
    if STATEMENTS.contains(&first) {
        return false;
    }
    let bytes = code.as_bytes();
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'"' | b'\'' => quote = Some(b),
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => depth -= 1,
                b':' | b';' if depth == 0 => return false,
                b'=' if depth == 0 => {
                    let prev = i.checked_sub(1).map(|j| bytes[j]);
                    let next = bytes.get(i + 1).copied();
                    let comparison =
                        matches!(prev, Some(b'=' | b'<' | b'>' | b'!')) || next == Some(b'=');
                    if !comparison {
                        return false;
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    depth == 0 && quote.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_code_units() {
        let text = "é = 1\n🦀x = [y]\r\nz\rw";
        assert_eq!(utf16_position(text, 0), (1, 1));
        assert_eq!(utf16_position(text, text.find('=').unwrap()), (1, 3));
        // The crab is two UTF-16 code units.
        assert_eq!(utf16_position(text, text.find('x').unwrap()), (2, 3));
        assert_eq!(utf16_position(text, text.find('[').unwrap()), (2, 7));
        assert_eq!(utf16_position(text, text.find('z').unwrap()), (3, 1));
        // A lone CR ends a line too.
        assert_eq!(utf16_position(text, text.find('w').unwrap()), (4, 1));
        // Inside a character: clamps.
        assert_eq!(utf16_position(text, 1), (1, 1));
    }

    #[test]
    fn uris_are_percent_encoded() {
        assert_eq!(percent_encode("a b/é%.py", false), "a%20b/%C3%A9%25.py");
        assert_eq!(percent_encode("x:y", false), "x%3Ay");
        assert_eq!(file_uri(Path::new("/w/a b")), "file:///w/a%20b");
    }

    #[test]
    fn paths_outside_the_root_climb_to_it() {
        assert_eq!(
            climb(Path::new("/w/repo"), Path::new("/w/other/x.py")),
            Some(PathBuf::from("../other/x.py"))
        );
        assert_eq!(
            climb(Path::new("/w/repo/sub"), Path::new("/x.py")),
            Some(PathBuf::from("../../../x.py"))
        );
    }

    #[cfg(unix)]
    #[test]
    fn names_that_are_not_utf8_are_encoded_byte_for_byte() {
        use std::os::unix::ffi::OsStrExt;
        let name = Path::new(std::ffi::OsStr::from_bytes(b"caf\xe9.py"));
        assert_eq!(percent_encode_bytes(&path_bytes(name), false), "caf%E9.py");
    }

    #[test]
    fn escaping_keeps_links_ours() {
        assert_eq!(escape(r"a[k] \ b"), r"a\[k\] \\ b");
    }

    #[test]
    fn only_self_contained_expressions_are_fixes() {
        assert!(is_expression("self.loop.call_soon_threadsafe(cb, x=1)"));
        assert!(is_expression("a == b"));
        assert!(!is_expression("loop = asyncio.get_running_loop()"));
        assert!(!is_expression("with lock: x()"));
        assert!(!is_expression("return x"));
        let known = tokens("self.loop.call_soon(cb, 'a b')").unwrap();
        let new = tokens("self.loop.call_soon_threadsafe(cb, 'a b')").unwrap();
        assert!(new.iter().all(|t| known.contains(t)));
        assert!(!tokens("loop.call_soon_threadsafe(ev.set)")
            .unwrap()
            .iter()
            .all(|t| tokens("ev.set()").unwrap().contains(t)));
        assert!(tokens("f(a, …)").is_none());
    }

    #[test]
    fn long_descriptions_are_cut_at_a_word() {
        let text = "word ".repeat(400);
        let cut = truncate(&text, 1024);
        assert!(cut.chars().count() <= 1024);
        assert!(cut.ends_with("word…"));
    }
}
