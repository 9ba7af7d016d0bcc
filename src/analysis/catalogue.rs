//! The catalogue of concurrency APIs (`rules/python-apis.toml`), compiled in as data.

use serde::Deserialize;

use super::contexts::ApiCall;

/// Where a call hands a callable to another execution context.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    #[serde(default)]
    pub calls: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
    pub arg: Option<usize>,
    pub keyword: Option<String>,
    /// The callable runs on several threads at once (`Executor.map`).
    #[serde(default)]
    pub concurrent: bool,
}

/// Calls matched by canonical path or, on untyped receivers, by method name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallList {
    #[serde(default)]
    pub calls: Vec<String>,
    #[serde(default)]
    pub methods: Vec<String>,
}

impl CallList {
    /// Whether a call to `path` (canonical, if known) or to a method named `method` (of a
    /// receiver whose type is unknown, or external) is listed.
    pub fn matches(&self, call: &ApiCall) -> bool {
        listed(&self.calls, &self.methods, call)
    }
}

fn listed(calls: &[String], methods: &[String], call: &ApiCall) -> bool {
    call.paths.iter().any(|p| calls.contains(p)) || (call.by_name && methods.contains(&call.method))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub types: Vec<String>,
    pub methods: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadClass {
    pub bases: Vec<String>,
    pub method: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TypeList {
    pub types: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Catalogue {
    pub worker: Vec<Handoff>,
    #[serde(rename = "loop")]
    pub loop_: Vec<Handoff>,
    pub route: Vec<Route>,
    pub thread_class: Vec<ThreadClass>,
    pub thread_safe: TypeList,
    pub thread_locks: TypeList,
    pub tasks: CallList,
    pub loop_unsafe: CallList,
    pub asyncio_locks: TypeList,
    pub blocking: CallList,
    pub deprecated_loop_getters: CallList,
}

const PYTHON_APIS: &str = include_str!("../../rules/python-apis.toml");

impl Catalogue {
    /// The built-in Python catalogue. It is part of the binary, so failing to parse it is
    /// a build defect that the test suite catches, not a user error.
    pub fn python() -> Catalogue {
        toml::from_str(PYTHON_APIS).expect("rules/python-apis.toml is valid (checked by tests)")
    }

    pub fn is_thread_safe(&self, ty: &str) -> bool {
        self.thread_safe.types.iter().any(|t| t == ty) || self.is_thread_lock(ty)
    }

    pub fn is_thread_lock(&self, ty: &str) -> bool {
        self.thread_locks.types.iter().any(|t| t == ty)
    }

    pub fn is_asyncio_lock(&self, ty: &str) -> bool {
        self.asyncio_locks.types.iter().any(|t| t == ty)
    }
}

impl Handoff {
    /// Whether a call to `path` (canonical) or to a method `method` matches this entry.
    pub fn matches(&self, call: &ApiCall) -> bool {
        listed(&self.calls, &self.methods, call)
    }
}

#[cfg(test)]
mod tests {
    use super::ApiCall;

    #[test]
    fn builtin_catalogue_parses() {
        let catalogue = super::Catalogue::python();
        assert!(catalogue.is_thread_lock("threading.RLock"));
        assert!(!catalogue.is_thread_lock("asyncio.Lock"));
        let to_thread = ApiCall {
            paths: vec!["asyncio.to_thread".to_string()],
            method: "to_thread".to_string(),
            by_name: true,
        };
        assert!(catalogue.worker.iter().any(|w| w.matches(&to_thread)));
    }
}
