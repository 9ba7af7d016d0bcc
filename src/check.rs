//! One run: discover files, read and lower them in parallel, analyse, apply rules.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use globset::GlobSet;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::analysis::catalogue::{Catalogue, RustCatalogue};
use crate::analysis::Analysis;
use crate::budget::{self, Outcome};
use crate::cache::Cache;
use crate::config::{self, Config};
use crate::discover::{clean, discover, io_reason, kind_of, FileError};
use crate::model::FileModel;
use crate::python;
use crate::rules::{self, Finding, Rule};
use crate::rust;

pub struct CheckResult {
    pub files: Vec<FileModel>,
    pub findings: Vec<Finding>,
    /// Findings silenced by a suppression comment, with its reason: reported as such,
    /// never dropped silently.
    pub suppressed: Vec<(Finding, String)>,
    /// Findings the baseline already knows (`--baseline`).
    pub baselined: Vec<Finding>,
    /// Baseline entries that no longer occur: fixed, so the baseline should be updated.
    pub fixed: Vec<crate::baseline::Entry>,
    pub errors: Vec<FileError>,
}

/// The lowering recursion is bounded, but the parsers and syn's span lookups recurse on
/// deep expressions and long method chains; a roomy stack (only touched pages are ever
/// committed) keeps generated code from crashing a worker thread.
const WORKER_STACK: usize = 256 * 1024 * 1024;

/// What a run is asked to do, from the command line and the configuration.
#[derive(Clone)]
pub struct Options<'a> {
    pub selected: &'a dyn Fn(&Rule) -> bool,
    pub catalogue: Catalogue,
    pub excludes: GlobSet,
    pub force_exclude: bool,
    pub per_file_ignores: Vec<(GlobSet, Vec<String>)>,
    /// Analyse this whole folder but report only on the named paths (pre-commit passes
    /// the staged files; their races may involve files that did not change).
    pub project_root: Option<PathBuf>,
    /// Show a progress bar on stderr while files are parsed (long runs only).
    pub progress: bool,
    /// How long one file's reading, parsing and lowering may take before it is skipped.
    pub file_timeout: Duration,
    /// Texts to analyse instead of what is on disk, by path as discovery names it (an
    /// editor's unsaved buffers, for `racelint server`).
    pub overlays: Arc<HashMap<PathBuf, String>>,
    /// Lowered files from earlier runs (`.racelint_cache/`); None with `--no-cache`.
    pub cache: Option<Arc<Cache>>,
}

impl<'a> Options<'a> {
    /// What the configuration asks for (catalogue extensions, excludes, per-file ignores,
    /// the file timeout), with the `selected` rules; the command line and the language
    /// server then set what is theirs.
    pub fn from_config(
        loaded: &config::Loaded,
        selected: &'a dyn Fn(&Rule) -> bool,
    ) -> Result<Options<'a>, String> {
        let config = &loaded.config;
        let mut options = Options::new(selected);
        options.catalogue = config.catalogue();
        options.excludes = config.excludes().map_err(|e| loaded.located(e))?;
        options.per_file_ignores = config.per_file_ignores().map_err(|e| loaded.located(e))?;
        if let Some(seconds) = config.file_timeout {
            options.file_timeout = Duration::from_secs_f64(seconds);
        }
        Ok(options)
    }

    /// The defaults: every selected rule, the built-in catalogue and excludes.
    pub fn new(selected: &'a dyn Fn(&Rule) -> bool) -> Options<'a> {
        let config = Config::default();
        Options {
            selected,
            catalogue: config.catalogue(),
            excludes: config
                .excludes()
                .expect("the default excludes are valid globs"),
            force_exclude: false,
            per_file_ignores: Vec::new(),
            project_root: None,
            progress: false,
            file_timeout: Duration::from_secs(10),
            overlays: Arc::default(),
            cache: None,
        }
    }
}

/// The cache for a project configured by `loaded`, found from `start`, whose lowering
/// reads `catalogue`; None when this build cannot key one.
pub fn open_cache(
    loaded: &config::Loaded,
    start: &Path,
    catalogue: &Catalogue,
) -> Option<Arc<Cache>> {
    // Python lowering reads no configuration; Rust's reads its catalogue.
    let settings = format!("{:?}", catalogue.rust);
    Cache::new(loaded.cache_dir(start), &settings).map(Arc::new)
}

pub fn check(paths: &[PathBuf], options: Options) -> Result<CheckResult, String> {
    let selected = options.selected;
    let focus: Option<Vec<PathBuf>> = options
        .project_root
        .as_ref()
        .map(|_| paths.iter().map(|p| clean(p)).collect());
    let walked: Vec<PathBuf> = match &options.project_root {
        Some(root) => std::iter::once(root.clone())
            .chain(paths.iter().cloned())
            .collect(),
        None => paths.to_vec(),
    };
    let discovered = discover(&walked, &options.excludes, options.force_exclude)?;
    let bar = progress_bar(options.progress, discovered.files.len());
    let rust_apis = options.catalogue.rust.clone();
    let overlays = Arc::clone(&options.overlays);
    let budget = options.file_timeout;
    let cache = options.cache.clone();
    let outcomes = budget::run(
        discovered.files.clone(),
        rayon::current_num_threads(),
        WORKER_STACK,
        budget,
        move |path: &PathBuf| match overlays.get(path).or_else(|| {
            // Discovery names files relative to the current folder when it can.
            std::path::absolute(path)
                .ok()
                .and_then(|absolute| overlays.get(&absolute))
        }) {
            Some(text) => Ok(lower(path, text.clone(), &rust_apis)),
            None => load(path, &rust_apis, cache.as_deref()),
        },
        || bar.inc(1),
    );
    let loaded: Vec<Result<FileModel, FileError>> = discovered
        .files
        .iter()
        .zip(outcomes)
        .map(|(path, outcome)| {
            let error = |message: String| FileError {
                path: path.clone(),
                message,
            };
            match outcome {
                Outcome::Done(model) => model,
                Outcome::TimedOut => Err(error(format!(
                    "analysis of this file exceeded {} s; it was skipped (raise --file-timeout \
                     to analyse it)",
                    budget.as_secs_f64()
                ))),
                Outcome::Crashed => Err(error(
                    "racelint failed on this file (an internal error); it was skipped".to_string(),
                )),
            }
        })
        .collect();
    bar.finish_and_clear();

    let mut files = Vec::new();
    let mut errors = discovered.errors;
    for result in loaded {
        match result {
            Ok(model) => files.push(model),
            Err(error) => errors.push(error),
        }
    }
    crate::python::properties::link(&mut files);
    crate::python::console_scripts::link(&mut files);
    let findings = {
        let analysis = Analysis::new(&files, options.catalogue);
        rules::run(&analysis, selected)
    };
    let findings: Vec<Finding> = findings
        .into_iter()
        .filter(|f| {
            let code = f.rule.code();
            !options.per_file_ignores.iter().any(|(glob, codes)| {
                codes.iter().any(|c| c == code) && config::matches(glob, &files[f.file].path)
            })
        })
        .collect();
    let (mut findings, mut suppressed) = suppress(&files, findings, selected);
    if let Some(focus) = &focus {
        let concerns = |f: &Finding| {
            std::iter::once(f.file)
                .chain(f.related.iter().map(|r| r.file))
                .any(|file| focus.contains(&files[file].path))
        };
        findings.retain(concerns);
        suppressed.retain(|(f, _)| concerns(f));
        errors.retain(|e| focus.contains(&e.path));
    }
    findings.sort_by(|a, b| {
        (&files[a.file].path, a.span.start, a.rule.code(), &a.message).cmp(&(
            &files[b.file].path,
            b.span.start,
            b.rule.code(),
            &b.message,
        ))
    });
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(CheckResult {
        files,
        findings,
        suppressed,
        baselined: Vec::new(),
        fixed: Vec::new(),
        errors,
    })
}

/// Moves findings that a suppression covers aside, and reports (RL900) each suppressed
/// code that covered nothing, for the rules that ran.
fn suppress(
    files: &[FileModel],
    findings: Vec<Finding>,
    selected: &dyn Fn(&Rule) -> bool,
) -> (Vec<Finding>, Vec<(Finding, String)>) {
    let mut used: Vec<Vec<Vec<bool>>> = files
        .iter()
        .map(|f| {
            f.suppressions
                .iter()
                .map(|s| vec![false; s.codes.len()])
                .collect()
        })
        .collect();
    let mut kept = Vec::new();
    let mut suppressed = Vec::new();
    for finding in findings {
        let file = &files[finding.file];
        let line = finding.span.start.line;
        let code = finding.rule.code();
        let matched = file.suppressions.iter().enumerate().find_map(|(index, s)| {
            let position = s.codes.iter().position(|c| c == code)?;
            s.covers(code, line).then_some((index, position))
        });
        match matched {
            Some((index, position)) => {
                used[finding.file][index][position] = true;
                let reason = file.suppressions[index].reason.clone();
                suppressed.push((finding, reason));
            }
            None => kept.push(finding),
        }
    }
    if rules::find("RL900").is_some_and(selected) {
        for (file_id, file) in files.iter().enumerate() {
            for (index, suppression) in file.suppressions.iter().enumerate() {
                for (position, code) in suppression.codes.iter().enumerate() {
                    let ran = rules::find(code).is_none_or(selected);
                    if ran && !used[file_id][index][position] {
                        kept.push(rules::rl900_unused_suppression::finding(
                            file_id,
                            suppression,
                            code,
                        ));
                    }
                }
            }
        }
    }
    (kept, suppressed)
}

/// Runs this short need no bar: it would only flicker.
const PROGRESS_THRESHOLD: usize = 300;

fn progress_bar(wanted: bool, files: usize) -> ProgressBar {
    if !wanted || files < PROGRESS_THRESHOLD {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} parsing {pos}/{len} files {wide_bar} {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// Reads, decodes, parses and lowers one file. Whatever stops that is one `FileError`
/// for this file, saying what was wrong and that the file was skipped; the run goes on.
///
/// The file may have changed since discovery listed it: deleted, truncated, or replaced
/// by something that is not a regular file. It is checked again here, so a FIFO is never
/// opened (opening one blocks until a writer comes); what was read is what is analysed.
fn load(
    path: &PathBuf,
    rust_apis: &RustCatalogue,
    cache: Option<&Cache>,
) -> Result<FileModel, FileError> {
    let skipped = |what: String| FileError {
        path: path.clone(),
        message: format!("{what}; it was skipped"),
    };
    let metadata = std::fs::metadata(path)
        .map_err(|e| skipped(format!("cannot be read: {}", io_reason(&e))))?;
    if !metadata.is_file() {
        return Err(skipped(format!(
            "is no longer a regular file (it is {})",
            kind_of(&metadata.file_type())
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|e| skipped(format!("cannot be read: {}", io_reason(&e))))?;
    if rust::is_rust(path) {
        if bytes.contains(&0) {
            return Err(skipped("binary file (contains NUL bytes)".to_string()));
        }
        let source = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            skipped(format!(
                "not valid UTF-8 (line {line}), as Rust source must be"
            ))
        })?;
        let location = rust::module_name(path);
        return Ok(cached(cache, path, location, source, |location, source| {
            rust::lower_module(path, location, source, rust_apis)
        }));
    }
    let source = python::decode(&bytes).map_err(skipped)?;
    let location = python::module_name(path);
    Ok(cached(cache, path, location, source, |location, source| {
        python::lower_module(path, location, source)
    }))
}

/// The cached lowering of a file decoded as `source`, or a new one (then cached).
/// `location` is the file's root and module name.
fn cached(
    cache: Option<&Cache>,
    path: &Path,
    location: (PathBuf, String),
    source: String,
    lower: impl FnOnce((PathBuf, String), String) -> FileModel,
) -> FileModel {
    let lower = |location, source| {
        let mut model = lower(location, source);
        model.shrink_to_fit();
        model
    };
    let Some(cache) = cache else {
        return lower(location, source);
    };
    let key = cache.key(path, &location.0, &location.1, &source);
    if let Some(model) = cache.get(path, key, &source) {
        return model;
    }
    let model = lower(location, source);
    cache.put(path, key, &model);
    model
}

/// Lowers text already in memory (an editor's buffer).
fn lower(path: &std::path::Path, source: String, rust_apis: &RustCatalogue) -> FileModel {
    let mut model = if rust::is_rust(path) {
        rust::lower_file(path, source, rust_apis)
    } else {
        python::lower_file(path, source)
    };
    model.shrink_to_fit();
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_error(path: &std::path::Path) -> String {
        let catalogue = Catalogue::builtin().rust;
        match load(&path.to_path_buf(), &catalogue, None) {
            Ok(_) => panic!("{} loaded", path.display()),
            Err(error) => error.message,
        }
    }

    /// What `check` does with a file that discovery listed but that changed before it was
    /// read (a race no test can stage from the outside).
    #[test]
    fn a_file_that_vanished_or_changed_after_discovery_is_skipped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let gone = dir.path().join("gone.py");
        std::fs::write(&gone, "x = 1\n").expect("write");
        std::fs::remove_file(&gone).expect("delete");
        assert_eq!(
            load_error(&gone),
            "cannot be read: no such file or directory; it was skipped"
        );
        let now_a_folder = dir.path().join("folder.rs");
        std::fs::create_dir(&now_a_folder).expect("mkdir");
        assert_eq!(
            load_error(&now_a_folder),
            "is no longer a regular file (it is a folder); it was skipped"
        );
        // Truncated: what is there is analysed, even nothing at all.
        let truncated = dir.path().join("truncated.py");
        std::fs::write(&truncated, "").expect("write");
        let catalogue = Catalogue::builtin().rust;
        let model = load(&truncated, &catalogue, None).expect("an empty file loads");
        assert!(model.source.is_empty() && model.syntax_errors.is_empty());
        // Truncated inside a character.
        std::fs::write(
            &truncated,
            "x = 'caf\u{e9}".as_bytes().split_last().unwrap().1,
        )
        .expect("write");
        assert!(load_error(&truncated).starts_with("not valid UTF-8 (line 1)"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_that_replaced_a_file_is_never_opened() {
        let dir = tempfile::tempdir().expect("temp dir");
        let fifo = dir.path().join("pipe.py");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        // Opening it for reading would block this test forever.
        assert_eq!(
            load_error(&fifo),
            "is no longer a regular file (it is a FIFO); it was skipped"
        );
    }

    #[test]
    fn rust_files_must_be_utf8_without_nul_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("lib.rs");
        std::fs::write(&path, b"fn f() {}\nconst S: &str = \"\xff\";\n").expect("write");
        assert_eq!(
            load_error(&path),
            "not valid UTF-8 (line 2), as Rust source must be; it was skipped"
        );
        std::fs::write(&path, b"fn f() {}\0\n").expect("write");
        assert_eq!(
            load_error(&path),
            "binary file (contains NUL bytes); it was skipped"
        );
    }
}
