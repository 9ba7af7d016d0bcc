//! One run: discover files, read and lower them in parallel, analyse, apply rules.

use std::path::PathBuf;

use rayon::prelude::*;

use crate::analysis::Analysis;
use crate::discover::{discover, io_reason, FileError};
use crate::model::FileModel;
use crate::python;
use crate::rules::{self, Finding, Rule};

pub struct CheckResult {
    pub files: Vec<FileModel>,
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
}

/// The lowering recursion is bounded, but parser and analysis helpers recurse on deep
/// expressions; a roomy stack keeps generated code from crashing a worker thread.
const WORKER_STACK: usize = 16 * 1024 * 1024;

pub fn check(paths: &[PathBuf], selected: &dyn Fn(&Rule) -> bool) -> Result<CheckResult, String> {
    let discovered = discover(paths)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK)
        .build()
        .map_err(|e| format!("cannot start worker threads: {e}"))?;
    let loaded: Vec<Result<FileModel, FileError>> =
        pool.install(|| discovered.files.par_iter().map(load).collect());

    let mut files = Vec::new();
    let mut errors = discovered.errors;
    for result in loaded {
        match result {
            Ok(model) => files.push(model),
            Err(error) => errors.push(error),
        }
    }
    let mut findings = {
        let analysis = Analysis::new(&files);
        rules::run(&analysis, selected)
    };
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
        errors,
    })
}

fn load(path: &PathBuf) -> Result<FileModel, FileError> {
    let error = |message: String| FileError {
        path: path.clone(),
        message,
    };
    let bytes =
        std::fs::read(path).map_err(|e| error(format!("cannot read: {}", io_reason(&e))))?;
    let source = python::decode(&bytes).map_err(error)?;
    Ok(python::lower_file(path, source))
}
