//! racelint's fuzzer, on stable Rust (no libFuzzer): mutates seed files at the byte, token
//! and structure level and runs the whole pipeline on each (see `oracle`). Any panic, hang
//! or invalid JSON/SARIF is minimised and saved to the crash folder, and the run exits 1.
//!
//! ```text
//! cargo run --release --example fuzz -- --lang python --seed 1 --cpu-seconds 60 \
//!     [--corpus DIR]... [--sample 300] [--crashes fuzz-crashes] [--limit 20]
//! ```
//! Seeds: every fixture of the language, plus `--sample` files drawn (by the seed) from
//! each `--corpus` folder. An input that makes the run find a new set of codes joins the
//! pool, a cheap stand-in for coverage feedback. Time is the process's CPU time, so a
//! niced run on a busy machine still does the work it was given.

mod cpu;
mod mutate;
mod oracle;
mod rng;
mod shrink;
mod supervise;

use std::collections::{BTreeSet, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Parser;

use mutate::Lang;
use oracle::{Failure, Kind};
use rng::Rng;

#[derive(Parser)]
struct Args {
    /// The front-end to fuzz: python or rust.
    #[arg(long)]
    lang: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this much CPU time of this process.
    #[arg(long, default_value_t = 60)]
    cpu_seconds: u64,
    /// Folders of real code to draw seeds from (besides the fixtures).
    #[arg(long)]
    corpus: Vec<PathBuf>,
    /// How many files to draw from each corpus folder.
    #[arg(long, default_value_t = 300)]
    sample: usize,
    #[arg(long, default_value = "fuzz-crashes")]
    crashes: PathBuf,
    /// CPU seconds one case may take before it counts as a hang.
    #[arg(long, default_value_t = 20)]
    limit: u64,
    /// Run the case saved in this folder once (exit 0: it passes, 3: it fails).
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Set by the supervisor for the process that fuzzes: its scratch folder.
    #[arg(long, hide = true)]
    work: Option<PathBuf>,
}

/// Seeds bigger than this are left out: mutations stack on top.
const MAX_SEED: u64 = 64 * 1024;
const MAX_POOL: usize = 4000;

fn main() {
    let args = Args::parse();
    let lang = match args.lang.as_str() {
        "python" => Lang::Python,
        "rust" => Lang::Rust,
        other => {
            eprintln!("fuzz: --lang is python or rust, not {other:?}");
            std::process::exit(2);
        }
    };
    let limit = Duration::from_secs(args.limit);
    oracle::install_panic_hook();
    if let Some(case) = &args.replay {
        supervise::replay(case, limit);
    }
    // A stack overflow or an abort ends a process whatever `catch_unwind` does: the
    // fuzzing runs in a child that a supervisor restarts, saving the case it died on.
    let Some(work) = args.work.clone() else {
        supervise::run(lang, &args);
    };
    let mut rng = Rng::new(args.seed);
    let mut pool = seeds(lang, &args, &mut rng);
    if pool.is_empty() {
        eprintln!("fuzz: no seed files found");
        std::process::exit(2);
    }
    let crashes = absolute(&args.crashes);
    if let Err(e) = std::env::set_current_dir(&work) {
        eprintln!("fuzz: cannot use {}: {e}", work.display());
        std::process::exit(2);
    }
    eprintln!(
        "fuzz: {} seeds for {}, seed {}, {} CPU s",
        pool.len(),
        args.lang,
        args.seed,
        args.cpu_seconds
    );

    let started = Instant::now();
    let mut signatures = HashSet::new();
    let mut failures: Vec<(Kind, String)> = Vec::new();
    let mut known: BTreeSet<String> = BTreeSet::new();
    let (mut executions, mut case) = (0u64, 0usize);
    let mut last_report = Instant::now();
    while cpu::seconds() < args.cpu_seconds as f64 {
        let base = &pool[rng.below(pool.len())];
        let donor = &pool[rng.below(pool.len())];
        let input = mutate::mutate(&mut rng, lang, base, donor);
        let companion = (rng.below(4) == 0).then(|| pool[rng.below(pool.len())].clone());
        let files = case_files(lang, &input, companion.as_deref());
        case += 1;
        executions += 1;
        match oracle::run_case(&work, case, &files, limit) {
            Ok(signature) => {
                if signatures.insert(signature) && pool.len() < MAX_POOL {
                    pool.push(input);
                }
            }
            Err(failure) => {
                let key = dedup_key(&failure);
                if known.insert(key) {
                    let saved = save(&crashes, lang, &work, &mut case, &files, &failure, limit);
                    eprintln!("fuzz: {} saved to {}", failure.kind.name(), saved.display());
                    failures.push((failure.kind, saved.display().to_string()));
                }
                // An abandoned case may still be spinning: measuring on would be skewed.
                if failure.kind == Kind::Hang {
                    break;
                }
            }
        }
        if last_report.elapsed() > Duration::from_secs(30) {
            last_report = Instant::now();
            progress(
                executions,
                &started,
                pool.len(),
                signatures.len(),
                failures.len(),
            );
        }
    }
    progress(
        executions,
        &started,
        pool.len(),
        signatures.len(),
        failures.len(),
    );
    println!(
        "fuzz {}: seed {}, {} executions, {:.0} CPU s, {:.0} wall s, {} behaviours, {} failures",
        args.lang,
        args.seed,
        executions,
        cpu::seconds(),
        started.elapsed().as_secs_f64(),
        signatures.len(),
        failures.len()
    );
    for (kind, path) in &failures {
        println!("  {}: {path}", kind.name());
    }
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

fn progress(executions: u64, started: &Instant, pool: usize, behaviours: usize, failures: usize) {
    eprintln!(
        "fuzz: {executions} executions ({:.0}/s), pool {pool}, {behaviours} behaviours, {failures} failures, {:.0} CPU s",
        executions as f64 / started.elapsed().as_secs_f64().max(0.001),
        cpu::seconds()
    );
}

/// The mutated file, and sometimes an unmutated neighbour so that cross-file resolution
/// and analysis run too.
pub fn case_files(lang: Lang, input: &[u8], companion: Option<&[u8]>) -> Vec<(String, Vec<u8>)> {
    let ext = lang.extension();
    let mut files = vec![(format!("fuzz_case.{ext}"), input.to_vec())];
    if let Some(other) = companion {
        files.push((format!("fuzz_other.{ext}"), other.to_vec()));
    }
    files
}

/// One report per panic site (file:line:column of the panic), per hang, per kind of
/// invalid output: the same bug found again is not saved again.
fn dedup_key(failure: &Failure) -> String {
    let site = match failure.kind {
        Kind::Panic => failure
            .detail
            .split(" at ")
            .nth(1)
            .or_else(|| failure.detail.split(" at ").next())
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
        Kind::Hang => String::new(),
        Kind::InvalidOutput => failure.detail.chars().take(40).collect(),
    };
    format!("{}:{site}", failure.kind.name())
}

/// Minimises the failing file (the companion stays as it is) and writes the reproducer,
/// its neighbour if any, and what went wrong.
fn save(
    crashes: &Path,
    lang: Lang,
    work: &Path,
    case: &mut usize,
    files: &[(String, Vec<u8>)],
    failure: &Failure,
    limit: Duration,
) -> PathBuf {
    let key = dedup_key(failure);
    let tries = if failure.kind == Kind::Hang { 8 } else { 3000 };
    let companion = files.get(1).map(|(_, bytes)| bytes.clone());
    let minimal = shrink::shrink(&files[0].1, tries, &mut |candidate| {
        *case += 1;
        let candidate_files = case_files(lang, candidate, companion.as_deref());
        match oracle::run_case(work, *case, &candidate_files, limit) {
            Err(f) => dedup_key(&f) == key,
            Ok(_) => false,
        }
    });
    save_reproducer(
        crashes,
        failure.kind.name(),
        lang,
        &minimal,
        &files[0].1,
        companion.as_deref(),
        &failure.detail,
    )
}

/// Writes a minimised case into `crashes/<kind>-<hash>/`: the case, the input it came
/// from, its neighbour file if any, and `failure.txt` (what went wrong, how to rerun).
pub fn save_reproducer(
    crashes: &Path,
    kind: &str,
    lang: Lang,
    minimal: &[u8],
    original: &[u8],
    companion: Option<&[u8]>,
    detail: &str,
) -> PathBuf {
    let mut hasher = DefaultHasher::new();
    minimal.hash(&mut hasher);
    let folder = crashes.join(format!("{kind}-{:016x}", hasher.finish()));
    let ext = lang.extension();
    let written = std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(folder.join(format!("fuzz_case.{ext}")), minimal))
        .and_then(|()| std::fs::write(folder.join("original.bin"), original))
        .and_then(|()| match companion {
            Some(other) => std::fs::write(folder.join(format!("fuzz_other.{ext}")), other),
            None => Ok(()),
        })
        .and_then(|()| {
            std::fs::write(
                folder.join("failure.txt"),
                format!(
                    "{kind}: {detail}\nreproduce: racelint check --select ALL {}\n",
                    folder.display()
                ),
            )
        });
    if let Err(e) = written {
        eprintln!("fuzz: cannot save to {}: {e}", folder.display());
    }
    folder
}

/// The fixtures of `lang`, then a sample of each corpus folder, sorted for a stable order.
fn seeds(lang: Lang, args: &Args, rng: &mut Rng) -> Vec<Vec<u8>> {
    let ext = lang.extension();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(match lang {
            Lang::Python => "python",
            Lang::Rust => "rust",
        });
    let mut paths = files_under(&fixtures, ext);
    for folder in &args.corpus {
        let mut found = files_under(folder, ext);
        let mut sample = Vec::new();
        while sample.len() < args.sample && !found.is_empty() {
            sample.push(found.swap_remove(rng.below(found.len())));
        }
        sample.sort();
        paths.extend(sample);
    }
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn files_under(root: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && path.extension().is_some_and(|e| e == ext)
                && entry.metadata().is_ok_and(|m| m.len() <= MAX_SEED)
            {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

pub fn absolute(path: &Path) -> PathBuf {
    std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}
