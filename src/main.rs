use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    racelint::cli::run(racelint::cli::Cli::parse())
}
