//! Project configuration: `racelint.toml`, `.racelint.toml`, or `[tool.racelint]` in
//! `pyproject.toml`, the nearest to the current directory winning (`--config` overrides).
//! Every mistake is an error that names the file, the line and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::analysis::catalogue::{rust_path, Catalogue, FrameworkState, Handoff, ThreadClass};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    pub select: Option<Vec<String>>,
    #[serde(default)]
    pub extend_select: Vec<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Replaces the default excluded folders.
    pub exclude: Option<Vec<String>>,
    #[serde(default)]
    pub extend_exclude: Vec<String>,
    /// Glob → codes ignored in matching files.
    #[serde(default)]
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    /// Accepted for compatibility with shared Ruff-style configuration; racelint parses
    /// the newest syntax whatever the target.
    pub python_version: Option<PythonVersion>,
    /// Seconds one file's reading, parsing and lowering may take (`--file-timeout`).
    #[serde(default, deserialize_with = "positive_seconds")]
    pub file_timeout: Option<f64>,
    /// `--fix` and `--diff` apply unsafe fixes too, as if `--unsafe-fixes` were given.
    #[serde(default)]
    pub unsafe_fixes: bool,
    /// Where lowered files are cached between runs (default `.racelint_cache` beside
    /// the configuration, or in the current folder); relative to the configuration.
    pub cache_dir: Option<PathBuf>,
    #[serde(default)]
    pub python: CatalogueExtension,
    #[serde(default)]
    pub rust: CatalogueExtension,
}

/// A positive, finite number of seconds, checked when read.
fn positive_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<f64>, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 {
        Ok(Some(seconds))
    } else {
        Err(serde::de::Error::custom(format!(
            "`{seconds}` is not a positive number of seconds"
        )))
    }
}

/// `"3.12"`-style versions, checked when read.
#[derive(Debug)]
pub struct PythonVersion(pub String);

impl<'de> Deserialize<'de> for PythonVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let valid = text
            .split_once('.')
            .is_some_and(|(major, minor)| major == "3" && minor.parse::<u8>().is_ok());
        if valid {
            Ok(PythonVersion(text))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{text}` is not a Python 3 version like \"3.12\""
            )))
        }
    }
}

/// Project APIs to add to a built-in catalogue (`rules/python-apis.toml`,
/// `rules/rust-apis.toml`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CatalogueExtension {
    /// Calls whose first argument runs on a worker thread (`mylib.run_sync`).
    #[serde(default)]
    pub extra_offloads: Vec<String>,
    /// Calls whose first argument runs on the event loop.
    #[serde(default)]
    pub extra_loop_entry_points: Vec<String>,
    /// Types that synchronise themselves.
    #[serde(default)]
    pub extra_thread_safe_types: Vec<String>,
    /// Types that are thread locks.
    #[serde(default)]
    pub extra_locks: Vec<String>,
    /// Python: callbacks a library runs on a thread of its own, given to a call by
    /// keyword (`"paho.mqtt.client.Client:on_message"`) or as a method a subclass
    /// overrides (`"watchdog.events.FileSystemEventHandler.on_modified"`).
    #[serde(default)]
    pub extra_worker_callbacks: Vec<WorkerCallback>,
    /// Python: application-wide objects a framework hands to every request or callback,
    /// by typed path (`mylib.App.state`): one object however the code reaches it, each
    /// attribute a state of its own (`[[framework-state]]`).
    #[serde(default)]
    pub extra_shared_objects: Vec<String>,
}

/// One `extra-worker-callbacks` entry, checked when read.
#[derive(Debug)]
pub enum WorkerCallback {
    /// `module.Call:keyword`: the callable passed as `keyword` runs on a worker thread.
    Keyword { call: String, keyword: String },
    /// `module.Class.method`: a subclass's override of `method` runs on a worker thread.
    Method { class: String, method: String },
}

impl<'de> Deserialize<'de> for WorkerCallback {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let identifier = |part: &str| {
            !part.is_empty()
                && part
                    .split('.')
                    .all(|s| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_'))
        };
        let parsed = match text.split_once(':') {
            Some((call, keyword))
                if identifier(call) && identifier(keyword) && !keyword.contains('.') =>
            {
                Some(WorkerCallback::Keyword {
                    call: call.to_string(),
                    keyword: keyword.to_string(),
                })
            }
            Some(_) => None,
            None => text
                .rsplit_once('.')
                .filter(|(class, method)| identifier(class) && identifier(method))
                .map(|(class, method)| WorkerCallback::Method {
                    class: class.to_string(),
                    method: method.to_string(),
                }),
        };
        parsed.ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{text}` is neither `module.Call:keyword` nor `module.Class.method`"
            ))
        })
    }
}

impl CatalogueExtension {
    /// The extra offloads and loop entry points, as handoffs of their first argument,
    /// spelled the way the catalogue stores paths.
    fn add_handoffs(
        &self,
        worker: &mut Vec<Handoff>,
        loop_: &mut Vec<Handoff>,
        spell: impl Fn(&str) -> String,
    ) {
        let handoff = |calls: &[String]| Handoff {
            calls: calls.iter().map(|c| spell(c)).collect(),
            methods: Vec::new(),
            arg: Some(0),
            keyword: None,
            concurrent: false,
            forwards_arguments: false,
            arguments_tuple: None,
            arguments_tuple_at: None,
            forwards_keywords: false,
            keyword_arguments: None,
            keyword_arguments_at: None,
            after: Vec::new(),
            loop_if_decorated: Vec::new(),
            loop_if_async: false,
            started_by: None,
        };
        if !self.extra_offloads.is_empty() {
            worker.push(handoff(&self.extra_offloads));
        }
        if !self.extra_loop_entry_points.is_empty() {
            loop_.push(handoff(&self.extra_loop_entry_points));
        }
    }
}

/// The subset of `pyproject.toml` racelint reads.
#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    racelint: Option<Config>,
}

/// A configuration and where it came from.
pub struct Loaded {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Loaded {
    /// The cache folder: `cache-dir` (relative to the configuration file), else
    /// `.racelint_cache` beside the configuration, else in `start`, as Ruff places its own.
    pub fn cache_dir(&self, start: &Path) -> PathBuf {
        let base = self.path.as_deref().and_then(Path::parent).unwrap_or(start);
        match &self.config.cache_dir {
            Some(dir) => base.join(dir),
            None => base.join(crate::cache::DEFAULT_DIR),
        }
    }
}

impl Loaded {
    /// An error about the configuration, naming its file, line and key when it has one.
    pub fn located(&self, message: String) -> String {
        match &self.path {
            Some(path) => in_file(path, &message),
            None => message,
        }
    }
}

/// The configuration in force: the file named by `--config`, else the nearest
/// `racelint.toml`, `.racelint.toml` or `pyproject.toml` with a `[tool.racelint]` table
/// from `start` upwards, else the defaults.
pub fn load(explicit: Option<&Path>, start: &Path) -> Result<Loaded, String> {
    if let Some(path) = explicit {
        let config = read(path)?
            .ok_or_else(|| format!("{}: has no [tool.racelint] table", path.display()))?;
        return Ok(Loaded {
            config,
            path: Some(path.to_path_buf()),
        });
    }
    for dir in start.ancestors() {
        for name in ["racelint.toml", ".racelint.toml", "pyproject.toml"] {
            let path = dir.join(name);
            if path.is_file() {
                if let Some(config) = read(&path)? {
                    return Ok(Loaded {
                        config,
                        path: Some(path),
                    });
                }
            }
        }
    }
    Ok(Loaded {
        config: Config::default(),
        path: None,
    })
}

/// Reads one file; `None` for a `pyproject.toml` without a `[tool.racelint]` table.
fn read(path: &Path) -> Result<Option<Config>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: {}", path.display(), crate::discover::io_reason(&e)))?;
    let located = |e: toml::de::Error| located_error(path, &text, &e);
    if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        let pyproject: Pyproject = toml::from_str(&text).map_err(located)?;
        Ok(pyproject.tool.and_then(|t| t.racelint))
    } else {
        toml::from_str(&text).map(Some).map_err(located)
    }
}

/// "racelint.toml:3: unknown field `selct`, expected one of …", or
/// "racelint.toml:1: key `select`: invalid type: string "RL101", expected a sequence":
/// the file, the line, and the key when the message does not already name it. The
/// parser's multi-line messages become one line.
fn located_error(path: &Path, text: &str, error: &toml::de::Error) -> String {
    let message = error
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let place = error.span().map(|span| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        (line, key_at(text, span.start))
    });
    locate(path, place, &message)
}

/// `path:line: key `a.b`: message`, with whichever of line and key is known.
fn locate(path: &Path, place: Option<(usize, Option<String>)>, message: &str) -> String {
    let file = crate::discover::clean(path);
    match place {
        Some((line, Some(key))) if !names_key(message, &key) => {
            format!("{}:{line}: key `{key}`: {message}", file.display())
        }
        Some((line, _)) => format!("{}:{line}: {message}", file.display()),
        None => format!("{}: {message}", file.display()),
    }
}

/// Whether `message` already names the last part of `key` (serde's "unknown field
/// `selct`" does).
fn names_key(message: &str, key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).trim_matches('"');
    message.contains(&format!("`{last}`"))
}

/// A key path as TOML spells it: `per-file-ignores."tests/*.py"`.
fn dotted(path: &[String]) -> String {
    let bare = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    path.iter()
        .map(|k| if bare(k) { k.clone() } else { format!("{k:?}") })
        .collect::<Vec<_>>()
        .join(".")
}

/// The dotted key (`python.extra-offloads`) whose key or value covers byte `offset`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let document = toml_edit::ImDocument::parse(text).ok()?;
    let mut path = Vec::new();
    in_table(document.as_table(), offset, &mut path).then(|| dotted(&path))
}

fn in_table(table: &dyn toml_edit::TableLike, offset: usize, path: &mut Vec<String>) -> bool {
    let covers = |span: Option<std::ops::Range<usize>>| span.is_some_and(|s| s.contains(&offset));
    for (name, _) in table.iter() {
        let Some((key, item)) = table.get_key_value(name) else {
            continue;
        };
        path.push(name.to_string());
        let inside = match item {
            toml_edit::Item::ArrayOfTables(tables) => {
                tables.iter().any(|t| in_table(t, offset, path))
            }
            other => other
                .as_table_like()
                .is_some_and(|t| in_table(t, offset, path)),
        };
        if inside || covers(key.span()) || covers(item.span()) {
            return true;
        }
        path.pop();
    }
    false
}

/// A mistake found after the configuration was read (an unknown rule selector, a bad
/// glob), placed at the first key or string value in the file equal to the text the
/// message quotes first (`unknown rule selector `RL777``).
pub fn in_file(path: &Path, message: &str) -> String {
    let quoted = message.split('`').nth(1);
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let place = quoted.and_then(|needle| {
        let document = toml_edit::ImDocument::parse(text.as_str()).ok()?;
        let mut path = Vec::new();
        let offset = find_text(document.as_table(), needle, &mut path)?;
        let line = text[..offset.min(text.len())].matches('\n').count() + 1;
        Some((line, Some(dotted(&path))))
    });
    locate(path, place, message)
}

/// The offset of the first key or string value equal to `needle`, and its key path.
fn find_text(
    table: &dyn toml_edit::TableLike,
    needle: &str,
    path: &mut Vec<String>,
) -> Option<usize> {
    for (name, _) in table.iter() {
        let (key, item) = table.get_key_value(name)?;
        path.push(name.to_string());
        if name == needle {
            if let Some(span) = key.span() {
                return Some(span.start);
            }
        }
        let found = match item {
            toml_edit::Item::ArrayOfTables(tables) => {
                tables.iter().find_map(|t| find_text(t, needle, path))
            }
            toml_edit::Item::Value(toml_edit::Value::Array(array)) => array
                .iter()
                .find(|v| v.as_str() == Some(needle))
                .and_then(|v| v.span())
                .map(|s| s.start),
            toml_edit::Item::Value(value) if value.as_str() == Some(needle) => {
                value.span().map(|s| s.start)
            }
            other => other
                .as_table_like()
                .and_then(|t| find_text(t, needle, path)),
        };
        if found.is_some() {
            return found;
        }
        path.pop();
    }
    None
}

impl Config {
    /// The built-in catalogues with this project's additions. `[rust]` paths are written
    /// as Rust writes them (`mylib::run_blocking`); its `extra-locks` are methods that
    /// take a lock and return the guard (`lock_timeout`), and its thread-safe types are
    /// ones whose `unsafe impl Sync` the project vouches for.
    pub fn catalogue(&self) -> Catalogue {
        let mut catalogue = Catalogue::builtin();
        let python = &self.python;
        python.add_handoffs(&mut catalogue.worker, &mut catalogue.loop_, str::to_string);
        catalogue
            .thread_safe
            .types
            .extend(python.extra_thread_safe_types.iter().cloned());
        catalogue
            .thread_locks
            .types
            .extend(python.extra_locks.iter().cloned());
        for callback in &python.extra_worker_callbacks {
            match callback {
                WorkerCallback::Keyword { call, keyword } => catalogue.worker.push(Handoff {
                    calls: vec![call.clone()],
                    methods: Vec::new(),
                    arg: None,
                    keyword: Some(keyword.clone()),
                    concurrent: false,
                    forwards_arguments: false,
                    arguments_tuple: None,
                    arguments_tuple_at: None,
                    forwards_keywords: false,
                    keyword_arguments: None,
                    keyword_arguments_at: None,
                    after: Vec::new(),
                    loop_if_decorated: Vec::new(),
                    loop_if_async: false,
                    started_by: None,
                }),
                WorkerCallback::Method { class, method } => {
                    catalogue.thread_class.push(ThreadClass {
                        bases: vec![class.clone()],
                        methods: vec![method.clone()],
                        concurrent: false,
                        fresh_instance: false,
                        concurrent_servers: Vec::new(),
                        holds: None,
                    })
                }
            }
        }
        for object in &python.extra_shared_objects {
            // Named by its last two segments, as findings show it (`App.state.cache`).
            let mut segments = object.rsplit('.');
            let last = segments.next().unwrap_or(object);
            let name = match segments.next() {
                Some(owner) => format!("{owner}.{last}"),
                None => last.to_string(),
            };
            catalogue.framework_state.push(FrameworkState {
                name,
                objects: vec![object.clone()],
            });
        }
        let (rust, extension) = (&mut catalogue.rust, &self.rust);
        extension.add_handoffs(&mut rust.worker, &mut rust.loop_, rust_path);
        rust.syntax
            .guard_methods
            .extend(extension.extra_locks.iter().cloned());
        rust.thread_safe.types.extend(
            extension
                .extra_thread_safe_types
                .iter()
                .map(|t| rust_path(t)),
        );
        catalogue
    }

    /// Folders and files left out of discovery.
    pub fn excludes(&self) -> Result<GlobSet, String> {
        let defaults: Vec<String> = crate::discover::SKIPPED_DIRS
            .iter()
            .map(|d| d.to_string())
            .collect();
        let patterns = self.exclude.as_ref().unwrap_or(&defaults);
        globs(patterns.iter().chain(&self.extend_exclude))
    }

    /// Per-file ignores, compiled.
    pub fn per_file_ignores(&self) -> Result<Vec<(GlobSet, Vec<String>)>, String> {
        self.per_file_ignores
            .iter()
            .map(|(pattern, codes)| {
                Ok((
                    globs([pattern])?,
                    codes.iter().map(|c| c.to_ascii_uppercase()).collect(),
                ))
            })
            .collect()
    }
}

/// Patterns match a path or any of its components: `build` excludes every `build/`
/// folder, `tests/**/*.py` a subtree.
fn globs<'a>(patterns: impl IntoIterator<Item = &'a String>) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let glob = Glob::new(pattern).map_err(|e| format!("bad glob `{pattern}`: {e}"))?;
        builder.add(glob);
    }
    builder.build().map_err(|e| e.to_string())
}

/// Whether `path` or one of its components matches.
pub fn matches(set: &GlobSet, path: &Path) -> bool {
    set.is_match(path)
        || path
            .components()
            .any(|c| set.is_match(Path::new(c.as_os_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("racelint.toml");
        std::fs::write(&path, "select = [\"RL101\"]\n\nselct = [\"RL102\"]\n").unwrap();
        let error = load(Some(&path), dir.path()).err().unwrap();
        assert!(error.contains("racelint.toml:3:"), "{error}");
        assert!(error.contains("unknown field `selct`"), "{error}");
    }

    #[test]
    fn pyproject_without_the_table_does_not_count() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n",
        )
        .unwrap();
        // The search goes on upwards (a folder above the temp dir may hold a config),
        // but never stops at this table-less pyproject.toml.
        let found = load(None, dir.path()).unwrap().path;
        assert!(
            found.as_ref().is_none_or(|p| !p.starts_with(dir.path())),
            "{found:?}"
        );
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[tool.racelint]\npython-version = \"3.13\"\n[tool.racelint.python]\nextra-offloads = [\"mylib.run_sync\"]\n",
        )
        .unwrap();
        let loaded = load(None, dir.path()).unwrap();
        assert!(loaded.path.is_some_and(|p| p.ends_with("pyproject.toml")));
        assert!(loaded
            .config
            .catalogue()
            .worker
            .iter()
            .any(|h| h.calls == ["mylib.run_sync"]));
    }

    #[test]
    fn type_errors_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("racelint.toml");
        for (text, expected) in [
            (
                "select = \"RL101\"\n",
                "racelint.toml:1: key `select`: invalid type: string \"RL101\", expected a sequence",
            ),
            (
                "\n[python]\nextra-offloads = [\n  \"a.b\",\n  3,\n]\n",
                "racelint.toml:5: key `python.extra-offloads`: invalid type: integer `3`",
            ),
            (
                "rust = { extra-locks = \"lock\" }\n",
                "racelint.toml:1: key `rust.extra-locks`: invalid type: string",
            ),
            (
                "file-timeout = -1\n",
                "racelint.toml:1: key `file-timeout`: `-1` is not a positive number of seconds",
            ),
            ("select = [\n", "racelint.toml:2: invalid array; expected `]`"),
        ] {
            std::fs::write(&path, text).unwrap();
            let error = load(Some(&path), dir.path()).err().unwrap();
            assert!(error.contains(expected), "{text:?}: {error}");
            assert!(!error.contains('\n'), "one line: {error}");
        }
        std::fs::remove_file(&path).unwrap();
        let pyproject = dir.path().join("pyproject.toml");
        std::fs::write(
            &pyproject,
            "[project]\nname = \"x\"\n\n[tool.racelint]\nignore = \"RL101\"\n",
        )
        .unwrap();
        let error = load(None, dir.path()).err().unwrap();
        assert!(
            error.contains("pyproject.toml:5: key `tool.racelint.ignore`: invalid type"),
            "{error}"
        );
    }

    #[test]
    fn later_mistakes_are_placed_at_their_value() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("racelint.toml");
        std::fs::write(
            &path,
            "select = [\"RL1\"]\n\n[per-file-ignores]\n\"tests/[\" = [\"RL101\"]\n\"b.py\" = [\"RL777\"]\n",
        )
        .unwrap();
        let placed = in_file(
            &path,
            "unknown rule selector `RL777`; `racelint rules` lists them",
        );
        assert!(
            placed.ends_with(
                "racelint.toml:5: key `per-file-ignores.\"b.py\"`: unknown rule selector `RL777`; \
                 `racelint rules` lists them"
            ),
            "{placed}"
        );
        let glob = in_file(&path, "bad glob `tests/[`: unclosed character class");
        assert!(
            glob.contains("racelint.toml:4: bad glob `tests/[`"),
            "{glob}"
        );
        assert!(in_file(&path, "something else").ends_with("racelint.toml: something else"));
    }

    #[test]
    fn bad_values_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("racelint.toml");
        std::fs::write(&path, "python-version = \"2.7\"\n").unwrap();
        let error = load(Some(&path), dir.path()).err().unwrap();
        assert!(
            error.contains("racelint.toml:1:") && error.contains("2.7"),
            "{error}"
        );
    }
}
