//! Which crate and module a `.rs` file is, from the folder layout Cargo uses.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::SystemTime;

/// The crate folder (the nearest one holding a `Cargo.toml`, else the file's own folder)
/// and the file's module path in model spelling (`rs:my_crate.net.client`).
///
/// `src/lib.rs` and `src/main.rs` are the crate root; `src/a/mod.rs` and `src/a.rs` are
/// module `a`. Files outside `src/` (tests, examples, benches, `build.rs`) are crates of
/// their own in Cargo; they get a `#folder` segment so they never shadow a module. A
/// file with no `Cargo.toml` above it is a one-file crate named after the file.
pub fn module_name(path: &Path) -> (PathBuf, String) {
    // Discovery gives paths relative to the current folder; the manifest may be above it.
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let path = absolute.as_path();
    let folder = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some((root, name)) = crate_of(&folder) else {
        return (folder, format!("rs:{}", identifier(&stem)));
    };
    let relative = path.strip_prefix(&root).unwrap_or(path);
    let in_src = relative.starts_with("src");
    let mut parts: Vec<String> = relative
        .parent()
        .map(|p| {
            p.components()
                .map(|c| identifier(&c.as_os_str().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    match parts.first().map(String::as_str) {
        Some("src") => {
            parts.remove(0);
        }
        Some(_) => parts[0] = format!("#{}", parts[0]),
        None => parts.push("#root".to_string()),
    }
    // `src/main.rs` and `src/bin/*.rs` are binaries beside the library: modules of
    // their own, under `#`, so their statics never merge with the library's.
    match (parts.as_slice(), stem.as_str()) {
        ([], "lib") => {}
        ([], "main") => parts.push("#main".to_string()),
        ([bin], _) if bin == "bin" => {
            parts[0] = "#bin".to_string();
            parts.push(identifier(&stem));
        }
        (_, "mod") => {}
        _ => parts.push(identifier(&stem)),
    }
    let mut module = format!("rs:{name}");
    for part in parts {
        module.push('.');
        module.push_str(&part);
    }
    // Cargo builds each file outside `src/` as a crate of its own: methods by name
    // resolve within it only.
    let root = if in_src { root } else { path.to_path_buf() };
    (root, module)
}

/// The nearest folder at or above `folder` with a `Cargo.toml`, and its package name.
/// Sources without their manifest (vendored or copied trees) fall back to Cargo's
/// layout: the folder holding `src/` is the crate, named after itself.
fn crate_of(folder: &Path) -> Option<(PathBuf, String)> {
    manifest_crate(folder).or_else(|| layout_crate(folder))
}

fn layout_crate(folder: &Path) -> Option<(PathBuf, String)> {
    let root = folder.ancestors().find_map(|dir| {
        let name = dir.file_name()?.to_str()?;
        let parent = dir.parent()?;
        let is_crate_folder = name == "src"
            || (matches!(name, "tests" | "benches" | "examples") && parent.join("src").is_dir());
        is_crate_folder.then_some(parent)
    })?;
    let name = root.file_name()?.to_string_lossy();
    // `syn-2.0.119` as `cargo vendor` names a second version.
    let name = match name.rsplit_once('-') {
        Some((base, version)) if version.starts_with(|c: char| c.is_ascii_digit()) => base,
        _ => &name,
    };
    Some((root.to_path_buf(), identifier(name)))
}

fn manifest_crate(folder: &Path) -> Option<(PathBuf, String)> {
    let mut current = Some(folder);
    while let Some(dir) = current {
        let manifest = dir.join("Cargo.toml");
        if let Some(metadata) = std::fs::metadata(&manifest).ok().filter(|m| m.is_file()) {
            let name = package_name(&manifest, &metadata)
                .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "crate".to_string());
            return Some((dir.to_path_buf(), identifier(&name)));
        }
        current = dir.parent().filter(|p| !p.as_os_str().is_empty());
    }
    None
}

/// What tells one version of a file from another without reading it: its size and
/// modification time, and on Unix its inode and status-change time, which no tool sets
/// back (`cp -p` and `tar` restore the modification time; `chmod` changes neither).
#[derive(Debug, Clone, PartialEq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    inode: (u64, i64, i64),
}

impl Stamp {
    fn of(metadata: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: metadata.len(),
            modified: metadata.modified().ok(),
            #[cfg(unix)]
            inode: (metadata.ino(), metadata.ctime(), metadata.ctime_nsec()),
        }
    }
}

/// Each manifest read, as it was then, with the package name it declared.
type ReadManifests = HashMap<PathBuf, (Stamp, Option<String>)>;

/// The `[package]` name a manifest declares. Every file of a crate asks for the same
/// manifest, and parsing it once per file took a tenth of a run on the Rust corpus: the
/// answer is kept per manifest, and read again when the file changes (the language
/// server outlives edits).
fn package_name(manifest: &Path, metadata: &std::fs::Metadata) -> Option<String> {
    static READ: LazyLock<Mutex<ReadManifests>> = LazyLock::new(Mutex::default);
    let stamp = Stamp::of(metadata);
    let known = |read: &ReadManifests| {
        read.get(manifest)
            .filter(|(seen, _)| *seen == stamp)
            .map(|(_, name)| name.clone())
    };
    if let Some(name) = known(&READ.lock().unwrap_or_else(PoisonError::into_inner)) {
        return name;
    }
    let name = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| {
            table
                .get("package")?
                .get("name")?
                .as_str()
                .map(str::to_string)
        });
    READ.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(manifest.to_path_buf(), (stamp, name.clone()));
    name
}

/// Crate names use `-` where paths use `_`; folder names may hold dots.
fn identifier(name: &str) -> String {
    name.replace(['-', '.'], "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_layout_gives_module_paths() {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"my-crate\"\n",
        )
        .expect("manifest");
        let module = |relative: &str| module_name(&dir.path().join(relative)).1;
        assert_eq!(module("src/lib.rs"), "rs:my_crate");
        assert_eq!(module("src/main.rs"), "rs:my_crate.#main");
        assert_eq!(module("src/bin/tool.rs"), "rs:my_crate.#bin.tool");
        assert_eq!(module("src/net/mod.rs"), "rs:my_crate.net");
        assert_eq!(module("src/net/client.rs"), "rs:my_crate.net.client");
        assert_eq!(module("tests/smoke.rs"), "rs:my_crate.#tests.smoke");
        assert_eq!(module("build.rs"), "rs:my_crate.#root.build");
    }

    /// The language server runs for days: a renamed package is seen at the next run.
    #[test]
    fn an_edited_manifest_is_read_again() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let manifest = dir.path().join("Cargo.toml");
        let lib = dir.path().join("src/lib.rs");
        std::fs::write(&manifest, "[package]\nname = \"first\"\n").expect("manifest");
        assert_eq!(module_name(&lib).1, "rs:first");
        std::fs::write(&manifest, "[package]\nname = \"renamed\"\n").expect("manifest");
        assert_eq!(module_name(&lib).1, "rs:renamed");
        std::fs::remove_file(&manifest).expect("removed");
        assert_eq!(
            module_name(&lib).1,
            format!(
                "rs:{}",
                identifier(&dir.path().file_name().unwrap().to_string_lossy())
            )
        );
    }

    /// `cp -p`, `rsync -a` and `tar` put back the modification time: a manifest replaced
    /// by one of the same size, with the old time, is still read again.
    #[cfg(unix)]
    #[test]
    fn a_manifest_replaced_with_its_old_time_is_read_again() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let manifest = dir.path().join("Cargo.toml");
        let lib = dir.path().join("src/lib.rs");
        std::fs::write(&manifest, "[package]\nname = \"aaaa\"\n").expect("manifest");
        let modified = std::fs::metadata(&manifest)
            .and_then(|m| m.modified())
            .expect("a modification time");
        assert_eq!(module_name(&lib).1, "rs:aaaa");
        std::fs::write(&manifest, "[package]\nname = \"bbbb\"\n").expect("manifest");
        std::fs::File::options()
            .write(true)
            .open(&manifest)
            .and_then(|f| f.set_modified(modified))
            .expect("the old time put back");
        assert_eq!(module_name(&lib).1, "rs:bbbb");
    }

    #[test]
    fn sources_without_a_manifest_use_the_folder_layout() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let src = dir.path().join("syn-2.0.119/src");
        std::fs::create_dir_all(&src).expect("folders");
        assert_eq!(module_name(&src.join("expr.rs")).1, "rs:syn.expr");
        assert_eq!(module_name(&src.join("lib.rs")).1, "rs:syn");
    }

    #[test]
    fn a_loose_file_is_its_own_crate() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let (root, module) = module_name(&dir.path().join("demo-one.rs"));
        assert_eq!(module, "rs:demo_one");
        assert_eq!(root, dir.path());
    }
}
