//! The yardstick `bench/rust.sh` measures racelint against: read every `.rs` file under
//! the given folders and parse it with syn (with the span locations racelint uses), on
//! all cores, and nothing else. Usage: `parse_only DIR...`; prints how many files parsed.

use rayon::prelude::*;

fn main() {
    let roots: Vec<String> = std::env::args().skip(1).collect();
    if roots.is_empty() {
        eprintln!("usage: parse_only DIR...");
        std::process::exit(2);
    }
    let files: Vec<std::path::PathBuf> = roots
        .iter()
        .flat_map(|root| ignore::WalkBuilder::new(root).build())
        .filter_map(Result::ok)
        .map(ignore::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    // Deeply nested generated files need the stack racelint's workers have.
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(256 * 1024 * 1024)
        .build()
        .expect("a thread pool");
    let parsed = pool.install(|| {
        files
            .par_iter()
            .filter(|path| {
                std::fs::read_to_string(path).is_ok_and(|text| racelint::rust::parses(&text))
            })
            .count()
    });
    println!("{parsed} of {} files parsed", files.len());
}
