//! RL306 unsafe-sync-impl: `unsafe impl Sync` or `Send` for a type holding fields that
//! are not thread-safe (`Cell`, `RefCell`, `Rc`, raw pointers), with no `// SAFETY:`
//! comment saying why sharing it cannot race.

use super::rust_facts::text;
use super::{find, Finding, Fix, Related};
use crate::analysis::Analysis;
use crate::model::{Attribute, Class, Language};

pub fn check(analysis: &Analysis) -> Vec<Finding> {
    let rule = find("RL306").expect("RL306 is registered");
    let program = &analysis.program;
    let mut findings = Vec::new();
    for (file, model) in program.files.iter().enumerate() {
        let vouched = &analysis.catalogue.rust.thread_safe.types;
        for promise in model
            .unsafe_impls
            .iter()
            .filter(|u| !u.documented && !vouched.contains(&u.ty))
        {
            let Some((class_file, class)) = rust_class(analysis, &promise.ty) else {
                continue;
            };
            let Some((field, culprit)) = unsafe_field(analysis, class) else {
                continue;
            };
            let trait_name = &promise.trait_name;
            let mut finding = Finding::new(
                rule,
                file,
                promise.span,
                format!(
                    "`unsafe impl {trait_name} for {}` promises the compiler that {} is safe, but field `{}` holds \
                     a `{culprit}`, which is not thread-safe, and no `// SAFETY:` comment says what makes it so",
                    class.name,
                    if trait_name == "Sync" { "sharing it between threads" } else { "moving it to another thread" },
                    field.name,
                ),
                format!("`{trait_name}` promised without a `// SAFETY:` comment"),
            );
            finding.state = Some(class.name.clone());
            finding.related.push(Related {
                file: class_file,
                span: field.span,
                message: format!("`{culprit}` field"),
            });
            let header = text(analysis, file, promise.span)
                .trim_end_matches('{')
                .trim_end();
            finding.fix = Some(Fix {
                description: format!(
                    "Write down the invariant that makes this sound in a `// SAFETY:` comment (who may touch `{}`, \
                     under which lock, from which thread), or make the field thread-safe (`Cell<u64>` → `AtomicU64`, \
                     `RefCell<T>` → `Mutex<T>`, `Rc<T>` → `Arc<T>`) and drop the `unsafe impl`.",
                    field.name
                ),
                code: format!(
                    "// SAFETY: `{}` is only accessed while holding <which lock>, or only ever from <which thread>;\n// say why no two threads can touch it at once.\n{header} {{}}",
                    field.name
                ),
            });
            findings.push(finding);
        }
    }
    findings
}

fn rust_class<'m>(analysis: &Analysis<'m>, path: &str) -> Option<(usize, &'m Class)> {
    let program = &analysis.program;
    (0..program.classes.len())
        .map(|c| (program.class_file(c), program.class(c)))
        .find(|(file, class)| program.files[*file].language == Language::Rust && class.path == path)
}

/// The first field mentioning a type that is not thread-safe, and that type's name.
pub fn unsafe_field<'m>(analysis: &Analysis, class: &'m Class) -> Option<(&'m Attribute, &'m str)> {
    let catalogue = &analysis.catalogue.rust;
    class.attributes.iter().find_map(|field| {
        field
            .mentions
            .iter()
            .find(|m| catalogue.is_not_thread_safe(m))
            .map(|m| (field, display_type(m)))
    })
}

fn display_type(path: &str) -> &str {
    if path == "*" {
        return "raw pointer";
    }
    path.rsplit(['.', ':']).next().unwrap_or(path)
}
