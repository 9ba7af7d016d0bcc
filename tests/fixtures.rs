//! Runs racelint over every fixture at once (as one program, the way users run it) and
//! compares its findings with the inline `# expect: CODE[, CODE]` comments: every
//! expectation must be met on its line, and nothing else may be reported.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use racelint::check::{check, Options};
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

    let result =
        check(&[root.to_path_buf()], Options::new(&|_| true)).expect("fixtures are readable");
    assert!(result.errors.is_empty(), "file errors: {:?}", result.errors);
    let actual: BTreeSet<Expectation> = result
        .findings
        .iter()
        .map(|f| {
            (
                slash(&result.files[f.file].path),
                f.span.start.line,
                f.rule.code().to_string(),
            )
        })
        .collect();

    let mut report = String::new();
    for (path, line, code) in expected.difference(&actual) {
        report.push_str(&format!("missing:    {path}:{line}: {code}\n"));
    }
    for finding in &result.findings {
        let key = (
            slash(&result.files[finding.file].path),
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
    for finding in &result.findings {
        if let Some(fix) = &finding.fix {
            let (valid, language) = match result.files[finding.file].language {
                Language::Python => (
                    racelint::python::parses_as_function_body(&fix.code),
                    "Python",
                ),
                Language::Rust => (racelint::rust::parses_as_block(&fix.code), "Rust"),
            };
            assert!(
                valid,
                "the fix for {}:{} is not valid {language}:\n{}",
                slash(&result.files[finding.file].path),
                finding.span.start.line,
                fix.code
            );
        }
    }

    let per_line: usize = actual.len();
    assert_eq!(
        per_line,
        result.findings.len(),
        "two findings of one rule on one line:\n{report}"
    );
    assert!(report.is_empty(), "fixture expectations not met:\n{report}");
}
