//! `--fix` and `--diff`: the edits findings carry (`Finding::autofix`), applied to the
//! files on disk, or shown as a unified diff.
//!
//! Edits are byte ranges of the analysed source. They are applied to the file's bytes
//! as they are on disk, after checking that each range still holds the text the
//! analysis saw: a file that changed since, is not UTF-8 on disk (a PEP 263 encoding
//! would be rewritten), or whose edits overlap, is left alone. Nothing else in the
//! file changes: its encoding, byte-order mark and line endings stay as they were.

use std::path::PathBuf;

use crate::check::CheckResult;
use crate::rules::Edit;

/// One file's fixes.
pub struct FileFix {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
    /// Indexes into `CheckResult::findings` of the findings these edits fix.
    pub fixed: Vec<usize>,
}

/// The fixes for every file that findings can fix, computed from the files on disk.
pub fn compute(result: &CheckResult) -> Vec<FileFix> {
    let mut by_file: std::collections::BTreeMap<usize, Vec<(usize, &Vec<Edit>)>> =
        Default::default();
    for (index, finding) in result.findings.iter().enumerate() {
        if let Some(edits) = &finding.autofix {
            by_file
                .entry(finding.file)
                .or_default()
                .push((index, edits));
        }
    }
    by_file
        .into_iter()
        .filter_map(|(file, findings)| {
            let model = &result.files[file];
            let bytes = std::fs::read(&model.path).ok()?;
            let before = String::from_utf8(bytes).ok()?;
            // A byte-order mark is not part of the analysed source.
            let shift = if before.starts_with('\u{feff}') { 3 } else { 0 };
            let mut edits: Vec<(usize, &Edit)> = findings
                .iter()
                .flat_map(|(index, edits)| edits.iter().map(move |e| (*index, e)))
                .collect();
            edits.sort_by_key(|(_, e)| e.offset);
            let mut after = String::with_capacity(before.len());
            let mut at = 0;
            let mut fixed = Vec::new();
            for (index, edit) in edits {
                let start = edit.offset + shift;
                let end = start + edit.len;
                let expected = model.source.get(edit.offset..edit.offset + edit.len)?;
                if start < at
                    || before.get(start..end)? != expected
                    || edit.replacement.contains(['\n', '\r'])
                {
                    return None;
                }
                after.push_str(&before[at..start]);
                after.push_str(&edit.replacement);
                at = end;
                if !fixed.contains(&index) {
                    fixed.push(index);
                }
            }
            after.push_str(&before[at..]);
            Some(FileFix {
                path: model.path.clone(),
                before,
                after,
                fixed,
            })
        })
        .collect()
}

/// Writes each fixed file.
pub fn write(fixes: &[FileFix]) -> Result<(), String> {
    for fix in fixes {
        std::fs::write(&fix.path, &fix.after)
            .map_err(|e| format!("cannot write the fix to {}: {e}", fix.path.display()))?;
    }
    Ok(())
}

/// A unified diff of one file's fix, three lines of context. Fixes never add or remove
/// lines, so old and new line numbers are the same.
pub fn unified_diff(fix: &FileFix) -> String {
    let old: Vec<&str> = fix.before.split_inclusive('\n').collect();
    let new: Vec<&str> = fix.after.split_inclusive('\n').collect();
    let changed: Vec<usize> = (0..old.len().min(new.len()))
        .filter(|&i| old[i] != new[i])
        .collect();
    let path = fix.path.display();
    let mut out = format!("--- {path}\n+++ {path}\n");
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for &line in &changed {
        let (start, end) = (line.saturating_sub(3), (line + 4).min(old.len()));
        match hunks.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    for (start, end) in hunks {
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            start + 1,
            end - start,
            start + 1,
            end - start
        ));
        for line in start..end {
            let mut push = |sign: char, text: &str| {
                out.push(sign);
                out.push_str(text.trim_end_matches(['\n', '\r']));
                out.push('\n');
            };
            if old[line] == new[line] {
                push(' ', old[line]);
            } else {
                push('-', old[line]);
                push('+', new[line]);
            }
        }
    }
    out
}
