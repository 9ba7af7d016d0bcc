//! Command-line interface: argument parsing and the commands.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::check::{check, open_cache, CheckResult, Options};
use crate::report::{render, OutputFormat};
use crate::rules::{self, Rule};
use crate::{baseline, config, fix};

#[derive(Parser)]
#[command(
    name = "racelint",
    version,
    about = "Finds mutable state shared between an event loop and worker threads"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Analyse files and folders (default: the current folder).
    Check(CheckArgs),
    /// Print a rule's documentation.
    Rule {
        /// A code (`RL101`) or name (`loop-thread-shared-state`).
        code: String,
    },
    /// List every rule.
    Rules,
    /// Remove the cache of lowered files (`.racelint_cache`, or `cache-dir`).
    Clean {
        /// The configuration whose `cache-dir` to clean, instead of the nearest one.
        #[arg(long, value_name = "PATH")]
        config: Option<PathBuf>,
    },
    /// Run the language server over stdio (diagnostics in editors).
    Server,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// Files or folders to analyse, as one program.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Full)]
    output_format: OutputFormat,
    /// Only these rules: codes, code prefixes (`RL1`), names, or `ALL`; comma-separated.
    #[arg(long, value_delimiter = ',')]
    select: Vec<String>,
    /// Leave these rules out (same forms as --select).
    #[arg(long, value_delimiter = ',')]
    ignore: Vec<String>,
    /// Exit 0 even when there are findings.
    #[arg(long)]
    exit_zero: bool,
    /// Use this configuration file instead of the nearest `racelint.toml`,
    /// `.racelint.toml` or `pyproject.toml` with a `[tool.racelint]` table.
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Apply `exclude` to files named on the command line too (for pre-commit).
    #[arg(long)]
    force_exclude: bool,
    /// Print how many findings each rule produced instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// Show a progress bar on stderr (default: on a terminal, for human formats).
    #[arg(long, overrides_with = "no_progress")]
    progress: bool,
    /// Never show the progress bar.
    #[arg(long)]
    no_progress: bool,
    /// Neither read nor write the cache of lowered files (`.racelint_cache`).
    #[arg(long)]
    no_cache: bool,
    /// Seconds one file's reading, parsing and lowering may take before it is skipped
    /// and reported (default 10, or `file-timeout` in the configuration).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    file_timeout: Option<f64>,
    /// Apply the fixes that are safe to apply (RL205's `get_running_loop()` in a
    /// coroutine, RL201's `call_soon_threadsafe`, RL107/RL108's invariant comments),
    /// then report what is left.
    #[arg(long, conflicts_with = "write_baseline")]
    fix: bool,
    /// With `--fix` or `--diff`, also the fixes that can change behaviour: the locks
    /// RL101, RL103 and RL104 suggest, RL301's guard dropped before the `.await`
    /// (or `unsafe-fixes = true` in the configuration).
    #[arg(long)]
    unsafe_fixes: bool,
    /// Print the fixes `--fix` would apply as a unified diff, and change nothing.
    #[arg(long, conflicts_with_all = ["write_baseline", "fix"])]
    diff: bool,
    /// Record the current findings in FILE (for adopting racelint on legacy code).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Report only findings not recorded in FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
}

/// A positive, finite number of seconds.
fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds < 1e9 => Ok(seconds),
        _ => Err(format!("`{text}` is not a positive number of seconds")),
    }
}

/// Exit statuses, as Ruff's: 0 clean, 1 findings, 2 usage or internal error.
const EXIT_FINDINGS: u8 = 1;
const EXIT_ERROR: u8 = 2;

/// Runs one command, for the binary's `main`: the process is expected to end right
/// after, so `check` leaves its model to the operating system rather than free it (an
/// in-process caller running many checks would keep each one).
pub fn run(cli: Cli) -> ExitCode {
    let mut out = std::io::stdout().lock();
    // Not locked for the whole run: the progress bar writes to stderr from other threads.
    let mut err = std::io::stderr();
    let result = match cli.command {
        Command::Check(args) => run_check(args, &mut out, &mut err),
        Command::Rule { code } => match rules::find(&code) {
            Some(rule) => report_written(writeln!(
                out,
                "# {} ({})\n\n{}",
                rule.code(),
                rule.meta().name,
                rule.body()
            ))
            .map(|_| ExitCode::SUCCESS),
            None => Err(format!(
                "unknown rule `{code}`; `racelint rules` lists them"
            )),
        },
        Command::Rules => report_written(list_rules(&mut out)).map(|_| ExitCode::SUCCESS),
        Command::Clean { config } => clean(config.as_deref(), &mut err),
        Command::Server => {
            // The protocol owns stdout.
            drop(out);
            crate::server::run().map(|_| ExitCode::SUCCESS)
        }
    };
    result.unwrap_or_else(|message| {
        let _ = writeln!(err, "racelint: error: {message}");
        ExitCode::from(EXIT_ERROR)
    })
}

/// `racelint clean`: removes the project's cache folder, and nothing that is not one.
fn clean(config: Option<&std::path::Path>, err: &mut dyn Write) -> Result<ExitCode, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    let loaded = config::load(config, &cwd)?;
    let dir = loaded.cache_dir(&cwd);
    let message = match crate::cache::remove(&dir)? {
        true => format!("racelint: removed {}", dir.display()),
        false => format!("racelint: no cache at {}", dir.display()),
    };
    writeln!(err, "{message}").map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn list_rules(out: &mut dyn Write) -> std::io::Result<()> {
    let width = rules::all()
        .iter()
        .map(|r| r.meta().name.len())
        .max()
        .unwrap_or(0);
    for rule in rules::all() {
        let meta = rule.meta();
        writeln!(
            out,
            "{:<7} {:<width$} {:<8} {}",
            meta.code,
            meta.name,
            meta.severity.as_str(),
            meta.summary
        )?;
    }
    Ok(())
}

fn run_check(
    args: CheckArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<ExitCode, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
    let mut loaded = config::load(args.config.as_deref(), &cwd)?;
    if loaded.path.is_none() {
        loaded = config::load(None, &config_start(&args.paths, &cwd))?;
    }
    let selection = Selection::new(&loaded, &args.select, &args.ignore)?;
    let selected = |rule: &Rule| selection.selected(rule);
    let mut options = Options::from_config(&loaded, &selected)?;
    options.force_exclude = args.force_exclude;
    if let Some(seconds) = args.file_timeout {
        options.file_timeout = std::time::Duration::from_secs_f64(seconds);
    }
    options.project_root =
        only_files(&args.paths).then(|| project_root(loaded.path.as_deref(), &cwd));
    if !args.no_cache {
        let dir = loaded.cache_dir(&cwd);
        if crate::cache::is_foreign(&dir) {
            writeln!(
                err,
                "racelint: warning: {} is not a racelint cache folder; running without the cache",
                dir.display()
            )
            .map_err(|e| e.to_string())?;
        }
        options.cache = open_cache(&loaded, &cwd, &options.catalogue);
    }
    // Never in machine formats, whose readers parse what is written.
    options.progress = matches!(
        args.output_format,
        OutputFormat::Full | OutputFormat::Concise
    ) && !args.no_progress
        && (args.progress || std::io::stderr().is_terminal());
    let baseline = args.baseline.as_deref().map(baseline::load).transpose()?;
    // The process ends right after the report, and the operating system takes the
    // whole model back at once: freeing it piece by piece took half a second of a
    // six-second run on the library corpus. (A `--fix` pass's re-check replaces the
    // inner value, which frees the previous one.)
    let mut result = std::mem::ManuallyDrop::new(check(&args.paths, options.clone())?);
    if let Some(path) = &args.write_baseline {
        baseline::write(path, &result)?;
        writeln!(
            err,
            "racelint: recorded {} findings in {}",
            result.findings.len(),
            path.display()
        )
        .map_err(|e| e.to_string())?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(baseline) = &baseline {
        result.fixed = baseline::apply(&mut result, baseline);
    }
    let unsafe_fixes = args.unsafe_fixes || loaded.config.unsafe_fixes;
    if args.diff {
        let plan = fix::plan(&result, unsafe_fixes, &fix::Applied::new());
        for file in &plan.files {
            report_written(write!(out, "{}", fix::unified_diff(file)))?;
        }
        writeln!(
            err,
            "racelint: {} fixable findings in {} files (`--fix` applies them){}",
            plan.fixed.len(),
            plan.files.len(),
            fixes_left(&plan, true)
        )
        .map_err(|e| e.to_string())?;
        let status = if !plan.fixed.is_empty() && !args.exit_zero {
            EXIT_FINDINGS
        } else {
            0
        };
        return Ok(ExitCode::from(status));
    }
    if args.fix {
        let mut fixed = 0;
        let mut files = std::collections::BTreeSet::new();
        // Each pass applies what it can and re-checks the fixed code, until nothing is
        // left to apply: fixes that met one applied in a pass, and findings the fixed code
        // gives (a lock added for one state leaves another partially locked, RL103).
        let mut passes = 0;
        let mut applied = fix::Applied::new();
        let last = loop {
            let plan = fix::plan(&result, unsafe_fixes, &applied);
            if plan.files.is_empty() || passes == MAX_FIX_PASSES {
                break plan;
            }
            fix::write(&plan.files)?;
            applied.extend(plan.fixed.iter().map(|&index| fix::key(&result, index)));
            passes += 1;
            fixed += plan.fixed.len();
            files.extend(plan.files.iter().map(|f| f.path.clone()));
            *result = check(&args.paths, options.clone())?;
            if let Some(baseline) = &baseline {
                result.fixed = baseline::apply(&mut result, baseline);
            }
        };
        writeln!(
            err,
            "racelint: fixed {fixed} findings in {} files{}",
            files.len(),
            fixes_left(&last, false)
        )
        .map_err(|e| e.to_string())?;
    }
    if args.statistics {
        return report_written(statistics(&result, out))
            .map(|_| exit_code(&result, args.exit_zero));
    }
    let color = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::io::stdout().is_terminal();
    let status = exit_status(&result, args.exit_zero);
    report_written(render(
        args.output_format,
        &result,
        color,
        i32::from(status),
        out,
        err,
    ))?;
    Ok(ExitCode::from(status))
}

/// A reader that stops early (`racelint check | head`) closes the pipe: the rest of the
/// report is not wanted, which is no error (Ruff and the coreutils say nothing either);
/// the exit status still tells what was found.
fn report_written(result: std::io::Result<()>) -> Result<(), String> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|e| format!("cannot write the report: {e}")),
    }
}

/// Passes of `--fix` at most: each re-checks the fixed files and applies what is left
/// (Ruff stops at 100; each of racelint's passes is a whole-program analysis).
const MAX_FIX_PASSES: usize = 10;

/// What a fix pass left for the user to ask for (`--unsafe-fixes`), or for later: the
/// fixes `--diff` holds back because they meet one it shows (`--fix` applies them in a
/// later pass), or what `--fix` still had after its last pass.
fn fixes_left(plan: &fix::Plan, diff: bool) -> String {
    let mut left = String::new();
    if plan.unsafe_left > 0 {
        left.push_str(&format!(
            "; {} more fixes available with `--unsafe-fixes`",
            plan.unsafe_left
        ));
    }
    if diff && plan.deferred > 0 {
        left.push_str(&format!(
            "; {} more meet these and are applied after them by `--fix`",
            plan.deferred
        ));
    }
    if plan.repeated > 0 {
        left.push_str(&format!(
            "; {} fixes left their finding in place and were not applied again",
            plan.repeated
        ));
    }
    if !diff && !plan.fixed.is_empty() {
        left.push_str(&format!(
            "; {} more fixes after {MAX_FIX_PASSES} passes: run again",
            plan.fixed.len()
        ));
    }
    left
}

/// Where the configuration is looked for when none is found from the current folder
/// upwards: the deepest folder holding every path named (a file's own folder), so
/// `racelint check services/api` run from a monorepo's root that has none uses
/// `services/api/pyproject.toml`.
fn config_start(paths: &[PathBuf], cwd: &std::path::Path) -> PathBuf {
    let folder = |path: &PathBuf| {
        let absolute = cwd.join(path);
        let absolute = absolute.canonicalize().unwrap_or(absolute);
        match absolute.is_dir() {
            true => absolute,
            false => absolute
                .parent()
                .map_or(absolute.clone(), |p| p.to_path_buf()),
        }
    };
    let mut folders = paths.iter().map(folder);
    let Some(first) = folders.next() else {
        return cwd.to_path_buf();
    };
    folders.fold(first, |common, next| {
        common
            .ancestors()
            .find(|a| next.starts_with(a))
            .map_or_else(|| cwd.to_path_buf(), std::path::Path::to_path_buf)
    })
}

/// Files named one by one (as pre-commit does) rather than folders.
fn only_files(paths: &[PathBuf]) -> bool {
    !paths.is_empty() && paths.iter().all(|p| p.is_file())
}

/// The project named files belong to: where the configuration is, else the git
/// top-level, else the current folder.
fn project_root(config: Option<&std::path::Path>, cwd: &std::path::Path) -> PathBuf {
    if let Some(dir) = config.and_then(|c| c.parent()) {
        return dir.to_path_buf();
    }
    std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(cwd)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|top| PathBuf::from(top.trim()))
        .filter(|top| top.is_dir())
        .unwrap_or_else(|| cwd.to_path_buf())
}

fn exit_code(result: &CheckResult, exit_zero: bool) -> ExitCode {
    ExitCode::from(exit_status(result, exit_zero))
}

/// 0, or `EXIT_FINDINGS` when something was found or a file could not be read.
fn exit_status(result: &CheckResult, exit_zero: bool) -> u8 {
    let failed = !result.findings.is_empty() || !result.errors.is_empty();
    if failed && !exit_zero {
        EXIT_FINDINGS
    } else {
        0
    }
}

/// One line per rule that found something: count, code, name; suppressed ones apart.
fn statistics(result: &CheckResult, out: &mut dyn Write) -> std::io::Result<()> {
    for rule in rules::all() {
        let found = result
            .findings
            .iter()
            .filter(|f| std::ptr::eq(f.rule, rule))
            .count();
        let silenced = result
            .suppressed
            .iter()
            .filter(|(f, _)| std::ptr::eq(f.rule, rule))
            .count();
        if found + silenced > 0 {
            let meta = rule.meta();
            write!(out, "{found:>5}  {:<6} {}", meta.code, meta.name)?;
            if silenced > 0 {
                write!(out, " ({silenced} suppressed)")?;
            }
            writeln!(out)?;
        }
    }
    writeln!(out, "{:>5}  total", result.findings.len())
}

/// Which rules run: `--select`/`--ignore` on the command line, else the configuration's
/// `select`, plus its `extend-select` and `ignore`. Opt-in rules run only when named.
pub(crate) struct Selection {
    select: Vec<Selector>,
    ignore: Vec<Selector>,
}

impl Selection {
    pub(crate) fn new(
        loaded: &config::Loaded,
        select: &[String],
        ignore: &[String],
    ) -> Result<Selection, String> {
        let in_config = |e: String| loaded.located(e);
        let config = &loaded.config;
        let mut chosen = if select.is_empty() {
            selectors(config.select.as_deref().unwrap_or_default()).map_err(in_config)?
        } else {
            selectors(select)?
        };
        chosen.extend(selectors(&config.extend_select).map_err(in_config)?);
        let mut ignored = selectors(ignore)?;
        ignored.extend(selectors(&config.ignore).map_err(in_config)?);
        for codes in config.per_file_ignores.values() {
            selectors(codes).map_err(in_config)?;
        }
        Ok(Selection {
            select: chosen,
            ignore: ignored,
        })
    }

    pub(crate) fn selected(&self, rule: &Rule) -> bool {
        let chosen = if rule.meta().opt_in {
            self.select.iter().any(|s| s.names_exactly(rule))
        } else {
            self.select.is_empty() || self.select.iter().any(|s| s.matches(rule))
        };
        chosen && !self.ignore.iter().any(|s| s.matches(rule))
    }
}

/// One `--select`/`--ignore` entry.
enum Selector {
    All,
    Prefix(String),
    Name(String),
}

impl Selector {
    fn matches(&self, rule: &Rule) -> bool {
        match self {
            Selector::All => true,
            Selector::Prefix(prefix) => rule.code().starts_with(prefix.as_str()),
            Selector::Name(name) => rule.meta().name == *name,
        }
    }

    /// Names this rule by its full code or name (or is `ALL`), as opt-in rules require.
    fn names_exactly(&self, rule: &Rule) -> bool {
        match self {
            Selector::All => true,
            Selector::Prefix(prefix) => rule.code() == prefix,
            Selector::Name(name) => rule.meta().name == *name,
        }
    }
}

/// Parses selectors, rejecting any that matches no rule (a typo must not silently
/// select nothing).
fn selectors(values: &[String]) -> Result<Vec<Selector>, String> {
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|value| {
            let selector = if value.eq_ignore_ascii_case("ALL") {
                Selector::All
            } else if value.to_ascii_uppercase().starts_with("RL") {
                Selector::Prefix(value.to_ascii_uppercase())
            } else {
                Selector::Name(value.to_string())
            };
            if rules::all().iter().any(|r| selector.matches(r)) {
                Ok(selector)
            } else {
                Err(format!(
                    "unknown rule selector `{value}`; `racelint rules` lists them"
                ))
            }
        })
        .collect()
}
