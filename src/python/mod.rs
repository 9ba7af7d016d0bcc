//! The Python front-end: the only place that sees Ruff's parser and AST.
//!
//! Parsed with `ruff_python_parser` (pinned in Cargo.toml): it reads Python 3.14 syntax,
//! recovers from errors so a broken file is still analysed, and is fast. An upgrade of
//! the parser touches this folder only.

pub mod console_scripts;
mod decode;
mod lower;
mod module_name;
mod nesting;
pub mod properties;
mod scope;

use rustc_hash::FxHashMap as HashMap;
use std::path::{Path, PathBuf};

use ruff_python_ast::token::TokenKind;
use ruff_python_ast::{PySourceType, PythonVersion};
use ruff_python_parser::{parse_unchecked, ParseOptions};
use ruff_text_size::Ranged;

use crate::model::{FileModel, Suppression, SyntaxError};
use crate::source::LineIndex;
use crate::suppression;

pub use decode::decode;
pub use module_name::module_name;

/// Whether discovery should hand this file to the Python front-end.
/// The standard library's top-level modules (`rules/python-stdlib.txt`).
const STDLIB_MODULES: &str = include_str!("../../rules/python-stdlib.txt");

/// Whether `name` is a top-level module of the standard library (`importlib`, `os`).
/// Asked for every folder and import of the program: a set, not a scan of the list.
pub fn is_stdlib_module(name: &str) -> bool {
    static NAMES: std::sync::LazyLock<rustc_hash::FxHashSet<&str>> =
        std::sync::LazyLock::new(|| STDLIB_MODULES.lines().collect());
    NAMES.contains(name)
}

pub fn is_python(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("py" | "pyi")
    )
}

/// Parses and lowers one Python file. Syntax errors are recorded in the model; the
/// recovered tree is lowered all the same. A file nested too deeply to parse safely
/// (see `nesting`) is one syntax error and is not parsed.
pub fn lower_file(path: &Path, source: String) -> FileModel {
    lower_module(path, module_name(path), source)
}

/// Lowers one file whose module name and root (`module_name`) are known.
pub fn lower_module(path: &Path, (root, module): (PathBuf, String), source: String) -> FileModel {
    let is_package = path.file_stem().is_some_and(|s| s == "__init__");
    let is_stub = path.extension().is_some_and(|e| e == "pyi");
    if let Some(message) = nesting::too_deep(&source) {
        let lines = LineIndex::new(&source);
        return FileModel {
            path: path.to_path_buf(),
            root,
            module,
            is_stub,
            syntax_errors: vec![SyntaxError {
                message,
                span: lines.span(&source, 0, 0),
            }],
            source,
            ..FileModel::default()
        };
    }
    let source_type = if is_stub {
        PySourceType::Stub
    } else {
        PySourceType::Python
    };
    // Accept the newest syntax: the code under analysis is the judge of its own version.
    let options = ParseOptions::from(source_type).with_target_version(PythonVersion::PY314);
    let parsed = parse_unchecked(&source, options);
    let lines = LineIndex::new(&source);
    let syntax_errors = parsed
        .errors()
        .iter()
        .map(|e| {
            let range = e.location.range();
            SyntaxError {
                message: e.error.to_string(),
                span: lines.span(&source, range.start().to_usize(), range.end().to_usize()),
            }
        })
        .collect();
    let (directives, suppressions) = comments(&parsed, &source, &lines);
    let mut lowerer = lower::Lowerer::new(&module, is_package, &source, &lines, &directives);
    let mut after_imports = None;
    if let Some(module) = parsed.syntax().as_module() {
        lowerer.lower_module(&module.body);
        after_imports = lowerer.after_imports(&module.body);
    }
    let mut model = FileModel {
        path: path.to_path_buf(),
        root,
        module,
        is_stub,
        syntax_errors,
        suppressions,
        after_imports,
        ..FileModel::default()
    };
    lowerer.into_model(&mut model);
    model.source = source;
    model
}

/// The comments racelint reads, from the parser's comment tokens: `# racelint:`
/// invariants by line, and suppressions.
fn comments(
    parsed: &ruff_python_parser::Parsed<ruff_python_ast::Mod>,
    source: &str,
    lines: &LineIndex,
) -> (HashMap<u32, lower::Directive>, Vec<Suppression>) {
    let mut found = HashMap::default();
    let mut suppressions = Vec::new();
    for token in parsed
        .tokens()
        .iter()
        .filter(|t| t.kind() == TokenKind::Comment)
    {
        let range = token.range();
        let (start, end) = (range.start().to_usize(), range.end().to_usize());
        let Some(text) = source.get(start..end) else {
            continue;
        };
        let line = lines.pos(source, start).line;
        let before = source.get(lines.line_start(line)..start).unwrap_or("");
        let own_line = before.trim().is_empty();
        let span = lines.span(source, start, end);
        if let Some(suppression) = suppression::parse(text.trim_start_matches('#'), span, own_line)
        {
            suppressions.push(suppression);
            continue;
        }
        let Some(directive) = text
            .trim_start_matches('#')
            .trim()
            .strip_prefix("racelint:")
        else {
            continue;
        };
        found.insert(
            line,
            lower::Directive {
                text: directive
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string(),
                own_line,
                indent: before.len(),
            },
        );
    }
    (found, suppressions)
}

/// Whether `code` parses as the body of a function. The test suite uses it to check
/// that every fix racelint suggests is valid Python when pasted.
/// Whether a whole module parses without error: a fixed file must.
pub fn parses(source: &str) -> bool {
    let options =
        ParseOptions::from(PySourceType::Python).with_target_version(PythonVersion::PY314);
    parse_unchecked(source.trim_start_matches('\u{feff}'), options)
        .errors()
        .is_empty()
}

pub fn parses_as_function_body(code: &str) -> bool {
    let body: String = code.lines().map(|l| format!("    {l}\n")).collect();
    let wrapped = format!("async def _racelint_fix():\n{body}    pass\n");
    let options =
        ParseOptions::from(PySourceType::Python).with_target_version(PythonVersion::PY314);
    parse_unchecked(&wrapped, options).errors().is_empty()
}

#[cfg(test)]
mod tests {
    use super::{lower_file, parses_as_function_body};
    use crate::model::{ArgSlot, Callee, ValueOrigin};
    use std::path::Path;

    /// The parameter slots a method of `source`'s `Conn` lets escape.
    fn escaping(source: &str, method: &str) -> Vec<usize> {
        let model = lower_file(Path::new("conn.py"), source.to_string());
        let path = format!("conn.Conn.{method}");
        model
            .functions
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.escaping_params.to_vec())
            .unwrap_or_else(|| panic!("no {path}"))
    }

    #[test]
    fn an_audited_object_does_not_escape() {
        let source = "import sys\nREGISTRY = set()\n\nclass Conn:\n    def connect(self, host):\n        sys.audit(\"conn.connect\", self, host)\n\n    def register(self):\n        REGISTRY.add(self)\n";
        assert_eq!(escaping(source, "connect"), Vec::<usize>::new());
        assert_eq!(escaping(source, "register"), vec![0]);
    }

    /// The receiver origins of the calls of `method` that `function` of `source` makes.
    fn receiver_origins(source: &str, function: &str, method: &str) -> Vec<Option<ValueOrigin>> {
        let model = lower_file(Path::new("scopes.py"), source.to_string());
        let path = format!("scopes.{function}");
        let function = model
            .functions
            .iter()
            .find(|f| f.path == path)
            .unwrap_or_else(|| panic!("no {path}"));
        function
            .calls
            .iter()
            .filter(|c| matches!(&c.callee, Callee::Path(p) if p.ends_with(method)))
            .map(|c| c.origin_at(&ArgSlot::Receiver).cloned())
            .collect()
    }

    #[test]
    fn a_local_bound_only_to_constructions_is_one_of_them_but_a_global_is_not() {
        let source = "import sys\n\nclass Scope:\n    def arm(self):\n        pass\n\nCURRENT = Scope()\n\ndef local():\n    if sys.platform == 'linux':\n        scope = Scope()\n    else:\n        scope = Scope()\n    scope.arm()\n\ndef shared():\n    global CURRENT\n    if sys.platform == 'linux':\n        CURRENT = Scope()\n    else:\n        CURRENT = Scope()\n    CURRENT.arm()\n";
        let local = receiver_origins(source, "local", ".arm");
        assert!(
            matches!(local.as_slice(), [Some(ValueOrigin::BuiltEither(sites))] if sites.len() == 2),
            "{local:?}"
        );
        let shared = receiver_origins(source, "shared", ".arm");
        assert!(
            !shared
                .iter()
                .any(|o| matches!(o, Some(ValueOrigin::BuiltEither(_)))),
            "{shared:?}"
        );
    }

    #[test]
    fn fix_snippets_are_checked_for_real() {
        assert!(parses_as_function_body(
            "# note\nwith lock:\n    return jobs[k]\n"
        ));
        assert!(!parses_as_function_body("with lock:\nreturn jobs[k]\n"));
        assert!(!parses_as_function_body("with lock:\n    if x:\n"));
    }
}
