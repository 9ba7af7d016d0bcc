//! Project configuration: `racelint.toml`, `.racelint.toml`, or `[tool.racelint]` in
//! `pyproject.toml`, the nearest to the current directory winning (`--config` overrides).
//! Every mistake is an error that names the file, the line and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::analysis::catalogue::{rust_path, Catalogue, Handoff, ThreadClass};

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
            after: Vec::new(),
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

/// "racelint.toml:3: unknown field `selct`, expected one of …".
fn located_error(path: &Path, text: &str, error: &toml::de::Error) -> String {
    let line = error
        .span()
        .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
    let message = error.message().trim();
    match line {
        Some(line) => format!("{}:{line}: {message}", path.display()),
        None => format!("{}: {message}", path.display()),
    }
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
                    after: Vec::new(),
                }),
                WorkerCallback::Method { class, method } => {
                    catalogue.thread_class.push(ThreadClass {
                        bases: vec![class.clone()],
                        methods: vec![method.clone()],
                        concurrent: false,
                        fresh_instance: false,
                    })
                }
            }
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
