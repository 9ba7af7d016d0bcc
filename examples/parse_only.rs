//! The yardstick `bench/rust.sh` measures racelint against: the `.rs` files racelint's
//! own discovery finds under the given paths (its default excludes), read and parsed by
//! syn with the span locations racelint uses, on all cores, and nothing else. Usage:
//! `parse_only PATH...`; prints how many files parsed, and fails when it found none.

use rayon::prelude::*;

/// racelint's own allocator (see Cargo.toml), so that the yardstick measures parsing,
/// not two allocators.
#[cfg(not(any(target_os = "windows", target_os = "openbsd")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    let paths: Vec<std::path::PathBuf> = std::env::args_os().skip(1).map(Into::into).collect();
    if paths.is_empty() {
        eprintln!("usage: parse_only PATH...");
        return std::process::ExitCode::from(2);
    }
    let excludes = racelint::config::Config::default()
        .excludes()
        .expect("the default excludes are valid globs");
    let discovered = match racelint::discover::discover(&paths, &excludes, false) {
        Ok(discovered) => discovered,
        Err(message) => {
            eprintln!("parse_only: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    for error in &discovered.errors {
        eprintln!("parse_only: {}: {}", error.path.display(), error.message);
    }
    let files: Vec<_> = discovered
        .files
        .into_iter()
        .filter(|p| racelint::rust::is_rust(p))
        .collect();
    if files.is_empty() {
        eprintln!("parse_only: no Rust files found");
        return std::process::ExitCode::from(2);
    }
    // Deeply nested generated files need the stack racelint's workers have.
    let pool = match rayon::ThreadPoolBuilder::new()
        .stack_size(256 * 1024 * 1024)
        .build()
    {
        Ok(pool) => pool,
        Err(error) => {
            eprintln!("parse_only: cannot start threads: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let parsed = pool.install(|| {
        files
            .par_iter()
            .filter(|path| {
                std::fs::read_to_string(path).is_ok_and(|text| racelint::rust::parses(&text))
            })
            .count()
    });
    println!("{parsed} of {} files parsed", files.len());
    std::process::ExitCode::SUCCESS
}
