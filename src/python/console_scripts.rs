//! Console scripts: the functions a package's manifest installs as commands
//! (`[project.scripts] tool = "tool.cli:main"` in `pyproject.toml`). Each runs as a
//! program of its own, on the main thread of the process the command starts, as a
//! script's `if __name__ == "__main__":` block does.
//!
//! The manifest is not a source file, and it may change when no source does, so this
//! runs after every file is lowered (or read from the cache), like `properties::link`.
//! A manifest is looked for beside each import root (`root/pyproject.toml`) and, for a
//! `src` layout, one folder up. A manifest racelint cannot read or parse names no
//! command here: it is the packaging tool's input, and that tool reports it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::model::{FileModel, Language};

#[derive(Deserialize)]
struct Manifest {
    project: Option<Project>,
}

#[derive(Deserialize)]
struct Project {
    #[serde(default)]
    scripts: BTreeMap<String, String>,
    #[serde(default, rename = "gui-scripts")]
    gui_scripts: BTreeMap<String, String>,
}

/// Marks each function a manifest beside the files names as a console script
/// (`Function::console_script`, the command's name).
pub fn link(files: &mut [FileModel]) {
    let roots: BTreeSet<PathBuf> = files
        .iter()
        .filter(|f| f.language == Language::Python)
        .map(|f| f.root.clone())
        .collect();
    // (import root, `module.function`) → the command's name.
    let mut commands: BTreeMap<(PathBuf, String), String> = BTreeMap::new();
    for root in &roots {
        for manifest in manifests(root) {
            for (name, target) in scripts(&manifest) {
                // `module:function`, perhaps with extras (`module:function [extra]`).
                let target = target.split_whitespace().next().unwrap_or_default();
                if let Some((module, function)) = target.split_once(':') {
                    commands.insert((root.clone(), format!("{module}.{function}")), name);
                }
            }
        }
    }
    if commands.is_empty() {
        return;
    }
    for file in files.iter_mut().filter(|f| f.language == Language::Python) {
        let root = file.root.clone();
        for function in &mut file.functions {
            if let Some(name) = commands.get(&(root.clone(), function.path.clone())) {
                function.console_script = Some(name.clone());
            }
        }
    }
}

/// The manifests that may name modules under `root`.
fn manifests(root: &Path) -> Vec<PathBuf> {
    let mut found = vec![root.join("pyproject.toml")];
    if root.file_name().is_some_and(|n| n == "src") {
        if let Some(parent) = root.parent() {
            found.push(parent.join("pyproject.toml"));
        }
    }
    found.retain(|p| p.is_file());
    found
}

fn scripts(manifest: &Path) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return Vec::new();
    };
    let Ok(Manifest {
        project: Some(project),
    }) = toml::from_str::<Manifest>(&text)
    else {
        return Vec::new();
    };
    project
        .scripts
        .into_iter()
        .chain(project.gui_scripts)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lowers the `.py` files written under `dir` and links the manifests.
    fn linked(dir: &Path, files: &[(&str, &str)]) -> Vec<FileModel> {
        let mut models = Vec::new();
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            if name.ends_with(".py") {
                models.push(crate::python::lower_file(&path, text.to_string()));
            }
        }
        link(&mut models);
        models
    }

    fn commands(models: &[FileModel]) -> Vec<(String, String)> {
        models
            .iter()
            .flat_map(|m| &m.functions)
            .filter_map(|f| Some((f.path.clone(), f.console_script.clone()?)))
            .collect()
    }

    #[test]
    fn a_src_layout_manifest_names_its_command_with_extras() {
        let dir = tempfile::tempdir().unwrap();
        let models = linked(
            dir.path(),
            &[
                (
                    "pyproject.toml",
                    "[project]\nname = \"tool\"\n[project.scripts]\ntool = \"tool.cli:main [fast]\"\n\
                     [project.gui-scripts]\ntool-gui = \"tool.cli:gui\"\n",
                ),
                ("src/tool/__init__.py", ""),
                ("src/tool/cli.py", "def main():\n    pass\n\ndef gui():\n    pass\n\ndef other():\n    pass\n"),
            ],
        );
        assert_eq!(
            commands(&models),
            [
                ("tool.cli.main".to_string(), "tool".to_string()),
                ("tool.cli.gui".to_string(), "tool-gui".to_string())
            ]
        );
    }

    #[test]
    fn a_manifest_that_does_not_parse_names_no_command() {
        let dir = tempfile::tempdir().unwrap();
        let models = linked(
            dir.path(),
            &[
                ("pyproject.toml", "[project\nscripts = 3\n"),
                ("tool/__init__.py", ""),
                ("tool/cli.py", "def main():\n    pass\n"),
            ],
        );
        assert!(commands(&models).is_empty());
    }
}
