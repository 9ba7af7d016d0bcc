//! `--fix`, `--unsafe-fixes` and `--diff`: the edits findings carry (`Finding::autofix`),
//! applied to the files on disk, or shown as a unified diff.
//!
//! Edits are byte ranges of the analysed source. They are applied to the file's bytes
//! as they are on disk, after checking that each range still holds the text the
//! analysis saw: a file that changed since, or is not UTF-8 on disk (a PEP 263 encoding
//! would be rewritten), is left alone. Nothing else in the file changes: its encoding,
//! byte-order mark and line endings stay as they were (inserted lines take the file's
//! line ending). A fixed file must still parse, or none of the fixes touching it apply.
//!
//! Two findings whose edits meet (the same lines wrapped for two locks) cannot both be
//! applied in one pass: the first is, the other waits for the next pass, which the CLI
//! runs on the fixed files as Ruff does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use crate::check::CheckResult;
use crate::model::{FileId, Language};
use crate::rules::Edit;

/// One file's fixes.
pub struct FileFix {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// What one pass of fixing does.
#[derive(Default)]
pub struct Plan {
    pub files: Vec<FileFix>,
    /// Indexes into `CheckResult::findings` of the findings these edits fix.
    pub fixed: BTreeSet<usize>,
    /// Findings with an unsafe fix, left because `--unsafe-fixes` was not given.
    pub unsafe_left: usize,
    /// Findings whose fix meets another one applied in this pass: for the next pass.
    pub deferred: usize,
    /// Findings fixed in an earlier pass and found again: their fix is not applied twice.
    pub repeated: usize,
}

/// A finding as passes of `--fix` know it, whatever lines the fixes moved it to: its
/// rule, state, file and the text of the line it points at.
pub type Applied = std::collections::HashSet<(&'static str, Option<String>, PathBuf, String)>;

/// The fixes one pass applies: every safe one, and the unsafe ones when asked; none to
/// a finding whose fix an earlier pass applied (`applied`): a fix that did not remove
/// its finding is not applied again.
pub fn plan(result: &CheckResult, unsafe_fixes: bool, applied: &Applied) -> Plan {
    let mut plan = Plan::default();
    let mut disk: HashMap<FileId, Option<OnDisk>> = HashMap::new();
    let mut candidates: Vec<usize> = Vec::new();
    for (index, finding) in result.findings.iter().enumerate() {
        let Some(autofix) = &finding.autofix else {
            continue;
        };
        if !autofix.is_safe() && !unsafe_fixes {
            plan.unsafe_left += 1;
            continue;
        }
        if applied.contains(&key(result, index)) {
            plan.repeated += 1;
            continue;
        }
        let valid = autofix.edits.iter().all(|edit| {
            disk.entry(edit.file)
                .or_insert_with(|| OnDisk::read(result, edit.file))
                .as_ref()
                .is_some_and(|file| file.holds(result, edit))
        });
        if valid {
            candidates.push(index);
        }
    }
    // Accept findings in order, each only if its edits meet none already accepted, and
    // drop every finding touching a file the accepted edits would break; repeat until
    // what is accepted parses.
    let mut broken: BTreeSet<FileId> = BTreeSet::new();
    loop {
        let mut accepted: BTreeMap<FileId, Vec<&Edit>> = BTreeMap::new();
        let mut fixed = BTreeSet::new();
        let mut deferred = 0;
        for &index in &candidates {
            let edits = &result.findings[index]
                .autofix
                .as_ref()
                .expect("candidate")
                .edits;
            if edits.iter().any(|e| broken.contains(&e.file)) {
                continue;
            }
            let meets = edits.iter().any(|edit| {
                accepted.get(&edit.file).is_some_and(|taken| {
                    taken
                        .iter()
                        .any(|other| *other != edit && overlaps(other, edit))
                })
            });
            if meets {
                deferred += 1;
                continue;
            }
            for edit in edits {
                let taken = accepted.entry(edit.file).or_default();
                if !taken.contains(&edit) {
                    taken.push(edit);
                }
            }
            fixed.insert(index);
        }
        let mut files = Vec::new();
        let mut newly_broken = false;
        for (file, mut edits) in accepted {
            let Some(on_disk) = disk.get(&file).and_then(Option::as_ref) else {
                continue;
            };
            edits.sort_by_key(|e| (e.offset, e.len));
            let after = on_disk.apply(&edits);
            let language = result.files[file].language;
            if !parses(language, &after) && parses(language, &on_disk.text) {
                broken.insert(file);
                newly_broken = true;
                continue;
            }
            files.push(FileFix {
                path: result.files[file].path.clone(),
                before: on_disk.text.clone(),
                after,
            });
        }
        if !newly_broken {
            plan.files = files;
            plan.fixed = fixed;
            plan.deferred = deferred;
            return plan;
        }
    }
}

/// The finding at `index` as `Applied` holds it.
pub fn key(result: &CheckResult, index: usize) -> (&'static str, Option<String>, PathBuf, String) {
    let finding = &result.findings[index];
    let file = &result.files[finding.file];
    let line = file
        .source
        .lines()
        .nth(finding.span.start.line.saturating_sub(1) as usize)
        .unwrap_or_default()
        .trim()
        .to_string();
    (
        finding.rule.code(),
        finding.state.clone(),
        file.path.clone(),
        line,
    )
}

/// Two edits meet when their ranges intersect, or both insert at one place.
fn overlaps(a: &Edit, b: &Edit) -> bool {
    a.file == b.file
        && (a.offset == b.offset || (a.offset < b.offset + b.len && b.offset < a.offset + a.len))
}

fn parses(language: Language, source: &str) -> bool {
    match language {
        Language::Python => crate::python::parses(source),
        Language::Rust => crate::rust::parses(source),
    }
}

/// A file as it is on disk, with what the analysis saw of it.
struct OnDisk {
    text: String,
    /// A byte-order mark is not part of the analysed source.
    shift: usize,
    crlf: bool,
}

impl OnDisk {
    fn read(result: &CheckResult, file: FileId) -> Option<OnDisk> {
        let text = String::from_utf8(std::fs::read(&result.files[file].path).ok()?).ok()?;
        let shift = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let crlf = text.contains("\r\n");
        Some(OnDisk { text, shift, crlf })
    }

    /// The range still holds what the analysis saw.
    fn holds(&self, result: &CheckResult, edit: &Edit) -> bool {
        let seen = result.files[edit.file]
            .source
            .get(edit.offset..edit.offset + edit.len);
        let start = edit.offset + self.shift;
        seen.is_some() && self.text.get(start..start + edit.len) == seen
    }

    /// The text with `edits` (sorted, not overlapping) applied.
    fn apply(&self, edits: &[&Edit]) -> String {
        let mut after = String::with_capacity(self.text.len());
        let mut at = 0;
        for edit in edits {
            let start = edit.offset + self.shift;
            after.push_str(&self.text[at..start]);
            if self.crlf {
                after.push_str(&edit.replacement.replace('\n', "\r\n"));
            } else {
                after.push_str(&edit.replacement);
            }
            at = start + edit.len;
        }
        after.push_str(&self.text[at..]);
        after
    }
}

/// Writes each fixed file.
pub fn write(fixes: &[FileFix]) -> Result<(), String> {
    for fix in fixes {
        std::fs::write(&fix.path, &fix.after)
            .map_err(|e| format!("cannot write the fix to {}: {e}", fix.path.display()))?;
    }
    Ok(())
}

/// A unified diff of one file's fix, three lines of context.
pub fn unified_diff(fix: &FileFix) -> String {
    let old: Vec<&str> = fix.before.split_inclusive('\n').collect();
    let new: Vec<&str> = fix.after.split_inclusive('\n').collect();
    let path = fix.path.display();
    let mut out = format!("--- {path}\n+++ {path}\n");
    for hunk in hunks(&old, &new) {
        out.push_str(&format!(
            "@@ -{},{} +{},{} @@\n",
            hunk.old_start + 1,
            hunk.old_len,
            hunk.new_start + 1,
            hunk.new_len
        ));
        for (sign, text) in hunk.lines {
            out.push(sign);
            out.push_str(text.trim_end_matches(['\n', '\r']));
            out.push('\n');
        }
    }
    out
}

struct Hunk<'t> {
    old_start: usize,
    old_len: usize,
    new_start: usize,
    new_len: usize,
    lines: Vec<(char, &'t str)>,
}

/// The changes from `old` to `new` as hunks with three lines of context. Fixes change
/// lines in place and insert a few lines at a time, so a line of `old` that is not next
/// in `new` is either a few lines further on (the lines before it were inserted) or
/// was changed: a greedy walk finds that, in linear time.
fn hunks<'t>(old: &[&'t str], new: &[&'t str]) -> Vec<Hunk<'t>> {
    const INSERTED_AT_ONCE: usize = 4;
    // The whole script, context included: (sign, text, old index, new index).
    let mut script: Vec<(char, &str, usize, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            script.push((' ', old[i], i, j));
            i += 1;
            j += 1;
            continue;
        }
        let inserted = (i < old.len())
            .then(|| (1..=INSERTED_AT_ONCE).find(|d| new.get(j + d) == Some(&old[i])))
            .flatten();
        match inserted {
            Some(count) => {
                for (k, line) in new.iter().enumerate().skip(j).take(count) {
                    script.push(('+', line, i, k));
                }
                j += count;
            }
            None => {
                if i < old.len() {
                    script.push(('-', old[i], i, j));
                    i += 1;
                }
                if j < new.len() {
                    script.push(('+', new[j], i, j));
                    j += 1;
                }
            }
        }
    }
    // In each run of changes, the removed lines first, then the added ones, as diffs
    // are read.
    let mut k = 0;
    while k < script.len() {
        let run = script[k..].iter().take_while(|l| l.0 != ' ').count();
        script[k..k + run].sort_by_key(|l| l.0 == '+');
        k += run.max(1);
    }
    // Group changes with three lines of context around each.
    let changed: Vec<usize> = (0..script.len()).filter(|&k| script[k].0 != ' ').collect();
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for k in changed {
        let (start, end) = (k.saturating_sub(3), (k + 4).min(script.len()));
        match ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = end,
            _ => ranges.push((start, end)),
        }
    }
    ranges
        .into_iter()
        .map(|(start, end)| {
            let part = &script[start..end];
            Hunk {
                old_start: part[0].2,
                old_len: part.iter().filter(|l| l.0 != '+').count(),
                new_start: part[0].3,
                new_len: part.iter().filter(|l| l.0 != '-').count(),
                lines: part.iter().map(|l| (l.0, l.1)).collect(),
            }
        })
        .collect()
}
