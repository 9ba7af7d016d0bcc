//! The supervisor: runs the fuzzing in a child process and, when the child dies on a
//! case (a stack overflow, an abort: what `catch_unwind` cannot catch), saves and
//! minimises that case by replaying candidates in processes of their own, then starts
//! a new child with the CPU time that is left.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::mutate::Lang;
use crate::{absolute, case_files, cpu, oracle, save_reproducer, shrink, Args};

/// Exit status of `--replay` when the case fails inside the process (a caught panic,
/// a hang, invalid output).
const REPLAY_FAILS: i32 = 3;

/// Past this many deaths the run stops: something kills nearly every input.
const MAX_DEATHS: usize = 20;

pub fn run(lang: Lang, args: &Args) -> ! {
    let work = std::env::temp_dir().join(format!("racelint-fuzz-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&work) {
        eprintln!("fuzz: cannot use {}: {e}", work.display());
        std::process::exit(2);
    }
    let crashes = absolute(&args.crashes);
    let mut remaining = args.cpu_seconds as f64;
    let mut seed = args.seed;
    let mut deaths = 0;
    let code = loop {
        let (status, used) = fuzz_child(args, seed, remaining, &work);
        // A child that dies at once still costs its start-up: never loop for free.
        remaining -= used.max(1.0);
        match status.code() {
            Some(code @ 0..=2) => break code,
            _ => {
                deaths += 1;
                eprintln!("fuzz: the fuzzing process died ({status})");
                match std::fs::read(work.join("current")) {
                    Ok(dir) => {
                        let dir = PathBuf::from(String::from_utf8_lossy(&dir).into_owned());
                        let saved = save_death(lang, args, &dir, &crashes, status);
                        eprintln!("fuzz: the case it died on is saved in {}", saved.display());
                    }
                    Err(e) => eprintln!("fuzz: no case to save: {e}"),
                }
                if remaining < 1.0 || deaths >= MAX_DEATHS {
                    break 1;
                }
                seed = seed.wrapping_add(1_000_003);
            }
        }
    };
    let _ = std::fs::remove_dir_all(&work);
    if deaths > 0 {
        println!("fuzz {}: {deaths} process deaths (see above)", args.lang);
        std::process::exit(1);
    }
    std::process::exit(code);
}

/// Runs one fuzzing child to its end; returns how it ended and the CPU time it used
/// (sampled while it lives, as a dead process's `/proc` entry is gone).
fn fuzz_child(args: &Args, seed: u64, cpu_seconds: f64, work: &Path) -> (ExitStatus, f64) {
    let mut command = myself();
    command
        .arg("--lang")
        .arg(&args.lang)
        .arg("--seed")
        .arg(seed.to_string())
        .arg("--cpu-seconds")
        .arg((cpu_seconds.ceil() as u64).max(1).to_string())
        .arg("--sample")
        .arg(args.sample.to_string())
        .arg("--crashes")
        .arg(absolute(&args.crashes))
        .arg("--limit")
        .arg(args.limit.to_string())
        .arg("--work")
        .arg(work);
    for corpus in &args.corpus {
        command.arg("--corpus").arg(absolute(corpus));
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("fuzz: cannot start the fuzzing process: {e}");
            std::process::exit(2);
        }
    };
    let pid = child.id().to_string();
    let mut used = 0.0;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (status, used),
            Ok(None) => {
                used = cpu::of(&pid).unwrap_or(used);
                std::thread::sleep(Duration::from_millis(500));
            }
            Err(e) => {
                eprintln!("fuzz: lost the fuzzing process: {e}");
                std::process::exit(2);
            }
        }
    }
}

fn myself() -> Command {
    match std::env::current_exe() {
        Ok(exe) => Command::new(exe),
        Err(e) => {
            eprintln!("fuzz: cannot find this program: {e}");
            std::process::exit(2);
        }
    }
}

/// Minimises the case in `dir` while replaying it still kills its process, and saves it.
fn save_death(lang: Lang, args: &Args, dir: &Path, crashes: &Path, status: ExitStatus) -> PathBuf {
    let ext = lang.extension();
    let read = |name: &str| std::fs::read(dir.join(format!("{name}.{ext}"))).ok();
    let original = read("fuzz_case").unwrap_or_default();
    let companion = read("fuzz_other");
    let scratch = dir.with_extension("replay");
    let mut last_words = String::new();
    let minimal = shrink::shrink(&original, 300, &mut |candidate| {
        let files = case_files(lang, candidate, companion.as_deref());
        match replay_in_child(&scratch, &files, args.limit) {
            Some((status, stderr)) if !matches!(status.code(), Some(0 | REPLAY_FAILS)) => {
                last_words = stderr;
                true
            }
            _ => false,
        }
    });
    let _ = std::fs::remove_dir_all(&scratch);
    let tail: Vec<&str> = last_words.lines().rev().take(5).collect();
    save_reproducer(
        crashes,
        "death",
        lang,
        &minimal,
        &original,
        companion.as_deref(),
        &format!("the process ended with {status}\n{}", tail.join("\n")),
    )
}

/// Replays `files` in a process of its own; `None` when it outlives the limit (killed).
fn replay_in_child(
    scratch: &Path,
    files: &[(String, Vec<u8>)],
    limit: u64,
) -> Option<(ExitStatus, String)> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).ok()?;
    for (name, bytes) in files {
        std::fs::write(scratch.join(name), bytes).ok()?;
    }
    let mut child = myself()
        .arg("--lang")
        .arg("python")
        .arg("--limit")
        .arg(limit.to_string())
        .arg("--replay")
        .arg(scratch)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let started = Instant::now();
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            let output = child.wait_with_output().ok()?;
            return Some((
                output.status,
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        if started.elapsed() > Duration::from_secs(limit * 4) {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `--replay DIR`: runs the case in `DIR` once, as the fuzzer would.
pub fn replay(case: &Path, limit: Duration) -> ! {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(case) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("fuzz_") {
                if let Ok(bytes) = std::fs::read(entry.path()) {
                    files.push((name, bytes));
                }
            }
        }
    }
    files.sort();
    if files.is_empty() {
        eprintln!("fuzz: no fuzz_case file in {}", case.display());
        std::process::exit(2);
    }
    let work = std::env::temp_dir().join(format!("racelint-replay-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&work);
    let absolute_work = absolute(&work);
    if std::env::set_current_dir(&absolute_work).is_err() {
        std::process::exit(2);
    }
    let outcome = oracle::run_case(&absolute_work, 0, &files, limit);
    let _ = std::fs::remove_dir_all(&absolute_work);
    match outcome {
        Ok(_) => {
            eprintln!("fuzz: the case passes");
            std::process::exit(0);
        }
        Err(failure) => {
            eprintln!("fuzz: {}: {}", failure.kind.name(), failure.detail);
            std::process::exit(REPLAY_FAILS);
        }
    }
}
