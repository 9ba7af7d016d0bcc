//! What the integration tests share: running the built binary in a folder.

use std::path::Path;
use std::process::{Command, Output};

/// `racelint ARGS` run in `dir`, without colour.
pub fn racelint_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_racelint"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("racelint runs")
}
