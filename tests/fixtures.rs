//! Runs racelint over every fixture at once (as one program, the way users run it) and
//! compares its findings with the inline `# expect: CODE[, CODE]` comments: every
//! expectation must be met on its line, and nothing else may be reported. A fixture
//! folder with a `racelint.toml` of its own is a configured project: it is run on its
//! own, with its configuration, as `racelint check` run there would, and left out of
//! the run of everything else.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use racelint::check::{check, CheckResult, Options};
use racelint::config;
use racelint::model::Language;

type Expectation = (String, u32, String);

fn expectations(root: &Path) -> BTreeSet<Expectation> {
    let mut expected = BTreeSet::new();
    for entry in walk(root) {
        let Ok(text) = std::fs::read_to_string(&entry) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            let Some((_, codes)) = line
                .split_once("# expect:")
                .or_else(|| line.split_once("// expect:"))
            else {
                continue;
            };
            for code in codes.split(',').map(str::trim).filter(|c| !c.is_empty()) {
                let code = code.split_whitespace().next().unwrap_or(code);
                expected.insert((slash(&entry), index as u32 + 1, code.to_string()));
            }
        }
    }
    expected
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path
            .extension()
            .is_some_and(|e| e == "py" || e == "pyi" || e == "rs")
        {
            files.push(path);
        }
    }
    files
}

/// Folders under `dir` that hold a `racelint.toml`.
fn configured_projects(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut projects = Vec::new();
    for path in entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
        if path.join("racelint.toml").is_file() {
            projects.push(path);
        } else {
            projects.extend(configured_projects(&path));
        }
    }
    projects
}

/// The whole fixture tree but its configured projects, with the default settings.
fn check_unconfigured(root: &Path, configured: &[PathBuf]) -> CheckResult {
    let mut options = Options::new(&|_| true);
    let config = config::Config {
        extend_exclude: configured.iter().map(|p| slash(p)).collect(),
        ..config::Config::default()
    };
    options.excludes = config.excludes().expect("fixture paths are globs");
    let result = check(&[root.to_path_buf()], options).expect("fixtures are readable");
    for file in &result.files {
        assert!(
            !configured.iter().any(|p| file.path.starts_with(p)),
            "{} belongs to a configured project",
            slash(&file.path)
        );
    }
    result
}

/// One configured project, with its `racelint.toml`.
fn check_configured(project: &Path) -> CheckResult {
    let loaded = config::load(Some(&project.join("racelint.toml")), project)
        .expect("a fixture's configuration is valid");
    let options = Options::from_config(&loaded, &|_| true).expect("its options are valid");
    check(&[project.to_path_buf()], options).expect("fixtures are readable")
}

fn slash(path: &Path) -> String {
    path.to_string_lossy().replace('\\', "/")
}

#[test]
fn every_fixture_meets_its_inline_expectations() {
    let root = Path::new("fixtures");
    let expected = expectations(root);
    assert!(
        expected.len() >= 20,
        "the fixture corpus lost its expectations: {}",
        expected.len()
    );

    let configured = configured_projects(root);
    let runs: Vec<CheckResult> = std::iter::once(check_unconfigured(root, &configured))
        .chain(configured.iter().map(|p| check_configured(p)))
        .collect();
    let findings: Vec<(String, &racelint::rules::Finding, Language)> = runs
        .iter()
        .flat_map(|run| {
            assert!(run.errors.is_empty(), "file errors: {:?}", run.errors);
            run.findings.iter().map(|f| {
                let file = &run.files[f.file];
                (slash(&file.path), f, file.language)
            })
        })
        .collect();
    let actual: BTreeSet<Expectation> = findings
        .iter()
        .map(|(path, f, _)| (path.clone(), f.span.start.line, f.rule.code().to_string()))
        .collect();

    let mut report = String::new();
    for (path, line, code) in expected.difference(&actual) {
        report.push_str(&format!("missing:    {path}:{line}: {code}\n"));
    }
    for (path, finding, _) in &findings {
        let key = (
            path.clone(),
            finding.span.start.line,
            finding.rule.code().to_string(),
        );
        if !expected.contains(&key) {
            report.push_str(&format!(
                "unexpected: {}:{}: {} {}\n",
                key.0, key.1, key.2, finding.message
            ));
        }
    }
    for (path, finding, file_language) in &findings {
        if let Some(fix) = &finding.fix {
            let (valid, language) = match file_language {
                Language::Python => (
                    racelint::python::parses_as_function_body(&fix.code),
                    "Python",
                ),
                Language::Rust => (racelint::rust::parses_as_block(&fix.code), "Rust"),
            };
            assert!(
                valid,
                "the fix for {}:{} is not valid {language}:\n{}",
                path, finding.span.start.line, fix.code
            );
        }
    }

    let per_line: usize = actual.len();
    assert_eq!(
        per_line,
        findings.len(),
        "two findings of one rule on one line:\n{report}"
    );
    assert!(report.is_empty(), "fixture expectations not met:\n{report}");
    assert!(
        !configured.is_empty(),
        "no configured fixture project: the harness's configured runs test nothing"
    );
}
