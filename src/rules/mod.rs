//! Rules: small functions from analysed facts to findings, one file a rule.
//!
//! Each rule's metadata (code, name, severity, summary) lives in the front matter of its
//! Markdown documentation in `rules/`, embedded here, so the docs and the binary cannot
//! disagree.

mod edits;
mod finding;
mod lock_fix;
mod rl001_syntax_error;
mod rl101_loop_thread_shared_state;
mod rl102_concurrent_worker_race;
mod rl103_partially_locked_state;
mod rl104_lazy_init_race;
mod rl105_wrong_lock_kind;
mod rl106_iteration_during_mutation;
mod rl107_implicit_loop_invariant;
mod rl108_replaced_wholesale;
mod rl109_invariant_violated;
mod rl201_loop_api_from_thread;
mod rl202_thread_lock_across_await;
mod rl204_lock_held_during_io;
mod rl205_deprecated_get_event_loop;
mod rl301_guard_across_await;
mod rl302_blocking_lock_shared_with_blocking_thread;
mod rl303_static_mut_shared;
mod rl304_check_then_act;
mod rl305_thread_local_across_await;
mod rl306_unsafe_sync_impl;
mod rl307_refcell_borrow_across_await;
mod rl308_blocking_call_on_runtime;
pub mod rl900_unused_suppression;
mod rust_facts;
mod shared;
mod snapshot_fix;

use std::sync::OnceLock;

use serde::Deserialize;

use crate::analysis::Analysis;
use crate::model::FileModel;

pub use finding::{Applicability, Autofix, Edit, Finding, Fix, Flow, FlowStep, Related};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A rule's front matter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleMeta {
    pub code: String,
    pub name: String,
    pub severity: Severity,
    pub languages: Vec<String>,
    pub summary: String,
    /// Measured below 80% precision on real code: runs only when selected by its exact
    /// code, its name, or `ALL`.
    #[serde(default)]
    pub opt_in: bool,
}

/// How a rule produces findings: from the analysed program, or per file for rules that
/// need nothing but the file (syntax errors).
enum Check {
    Program(fn(&Analysis) -> Vec<Finding>),
    File(fn(usize, &FileModel) -> Vec<Finding>),
    /// Reported while suppressions are applied, after every other rule (`check.rs`).
    Suppressions,
}

pub struct Rule {
    /// The Markdown documentation, front matter included.
    pub doc: &'static str,
    check: Check,
}

static RULES: [Rule; 23] = [
    Rule {
        doc: include_str!("../../rules/RL001.md"),
        check: Check::File(rl001_syntax_error::check),
    },
    Rule {
        doc: include_str!("../../rules/RL101.md"),
        check: Check::Program(rl101_loop_thread_shared_state::check),
    },
    Rule {
        doc: include_str!("../../rules/RL102.md"),
        check: Check::Program(rl102_concurrent_worker_race::check),
    },
    Rule {
        doc: include_str!("../../rules/RL103.md"),
        check: Check::Program(rl103_partially_locked_state::check),
    },
    Rule {
        doc: include_str!("../../rules/RL104.md"),
        check: Check::Program(rl104_lazy_init_race::check),
    },
    Rule {
        doc: include_str!("../../rules/RL105.md"),
        check: Check::Program(rl105_wrong_lock_kind::check),
    },
    Rule {
        doc: include_str!("../../rules/RL106.md"),
        check: Check::Program(rl106_iteration_during_mutation::check),
    },
    Rule {
        doc: include_str!("../../rules/RL107.md"),
        check: Check::Program(rl107_implicit_loop_invariant::check),
    },
    Rule {
        doc: include_str!("../../rules/RL108.md"),
        check: Check::Program(rl108_replaced_wholesale::check),
    },
    Rule {
        doc: include_str!("../../rules/RL109.md"),
        check: Check::Program(rl109_invariant_violated::check),
    },
    Rule {
        doc: include_str!("../../rules/RL201.md"),
        check: Check::Program(rl201_loop_api_from_thread::check),
    },
    Rule {
        doc: include_str!("../../rules/RL202.md"),
        check: Check::Program(rl202_thread_lock_across_await::check),
    },
    Rule {
        doc: include_str!("../../rules/RL204.md"),
        check: Check::Program(rl204_lock_held_during_io::check),
    },
    Rule {
        doc: include_str!("../../rules/RL205.md"),
        check: Check::Program(rl205_deprecated_get_event_loop::check),
    },
    Rule {
        doc: include_str!("../../rules/RL301.md"),
        check: Check::Program(rl301_guard_across_await::check),
    },
    Rule {
        doc: include_str!("../../rules/RL302.md"),
        check: Check::Program(rl302_blocking_lock_shared_with_blocking_thread::check),
    },
    Rule {
        doc: include_str!("../../rules/RL303.md"),
        check: Check::Program(rl303_static_mut_shared::check),
    },
    Rule {
        doc: include_str!("../../rules/RL304.md"),
        check: Check::Program(rl304_check_then_act::check),
    },
    Rule {
        doc: include_str!("../../rules/RL305.md"),
        check: Check::Program(rl305_thread_local_across_await::check),
    },
    Rule {
        doc: include_str!("../../rules/RL306.md"),
        check: Check::Program(rl306_unsafe_sync_impl::check),
    },
    Rule {
        doc: include_str!("../../rules/RL307.md"),
        check: Check::Program(rl307_refcell_borrow_across_await::check),
    },
    Rule {
        doc: include_str!("../../rules/RL308.md"),
        check: Check::Program(rl308_blocking_call_on_runtime::check),
    },
    Rule {
        doc: include_str!("../../rules/RL900.md"),
        check: Check::Suppressions,
    },
];

pub fn all() -> &'static [Rule] {
    &RULES
}

/// Looks a rule up by code (`RL101`) or name (`loop-thread-shared-state`).
pub fn find(code_or_name: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| {
        let meta = r.meta();
        meta.code.eq_ignore_ascii_case(code_or_name) || meta.name == code_or_name
    })
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl Rule {
    pub fn meta(&self) -> &'static RuleMeta {
        static METAS: OnceLock<Vec<RuleMeta>> = OnceLock::new();
        let metas = METAS.get_or_init(|| RULES.iter().map(|r| parse_front_matter(r.doc)).collect());
        let index = RULES
            .iter()
            .position(|r| std::ptr::eq(r, self))
            .expect("rules are only ever borrowed from RULES");
        &metas[index]
    }

    /// The documentation without its front matter.
    pub fn body(&self) -> &'static str {
        split_front_matter(self.doc).1.trim_start()
    }

    pub fn code(&self) -> &'static str {
        &self.meta().code
    }
}

/// Runs the selected rules over the analysed program. A rule reports only in files of
/// the languages its documentation names: Python rules read Python semantics into the
/// shared model, and Rust code means something else by the same facts.
/// The findings of every selected rule, in the rules' order. Rules only read the
/// analysis, so they run on all cores.
pub fn run(analysis: &Analysis, selected: &dyn Fn(&Rule) -> bool) -> Vec<Finding> {
    use rayon::prelude::*;
    let files = analysis.program.files;
    let chosen: Vec<&Rule> = RULES.iter().filter(|r| selected(r)).collect();
    let per_rule: Vec<Vec<Finding>> = chosen
        .par_iter()
        .map(|rule| {
            let speaks = |file: usize| {
                let language = files[file].language.id();
                rule.meta().languages.iter().any(|l| l == language)
            };
            match rule.check {
                Check::Program(check) => check(analysis)
                    .into_iter()
                    .filter(|f| speaks(f.file))
                    .collect(),
                Check::File(check) => files
                    .iter()
                    .enumerate()
                    .flat_map(|(id, file)| check(id, file))
                    .collect(),
                Check::Suppressions => Vec::new(),
            }
        })
        .collect();
    per_rule.into_iter().flatten().collect()
}

fn split_front_matter(doc: &str) -> (&str, &str) {
    doc.strip_prefix("+++\n")
        .and_then(|rest| rest.split_once("\n+++\n"))
        .unwrap_or(("", doc))
}

/// The docs are compiled in; a malformed one is a build defect the tests catch.
fn parse_front_matter(doc: &str) -> RuleMeta {
    toml::from_str(split_front_matter(doc).0)
        .expect("rule front matter is valid (checked by tests)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_metadata_and_the_doc_sections() {
        for rule in all() {
            let meta = rule.meta();
            assert!(meta.code.starts_with("RL"), "{}", meta.code);
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Use instead",
                "## Known limitations",
            ] {
                assert!(
                    rule.body().contains(section),
                    "{} lacks {section}",
                    meta.code
                );
            }
        }
    }

    #[test]
    fn rules_are_found_by_code_and_name() {
        assert_eq!(find("rl101").map(Rule::code), Some("RL101"));
        assert_eq!(
            find("loop-thread-shared-state").map(Rule::code),
            Some("RL101")
        );
        assert!(find(&format!("RL{}", 999)).is_none());
    }
}
