//! The names an expression can refer to: `var.*`, `local.*`, `module.*`,
//! resources and data sources by address, `count.index`, `each.*`, `self`,
//! `path.*` and `terraform.workspace`.
//!
//! Local values may be given as expressions; they are evaluated lazily the
//! first time they are referenced (locals referring to other locals work in
//! any order) and cached. A local that (indirectly) refers to itself yields
//! a "Cycle" error instead of recursing forever.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use terrane_hcl::ast::Expr;
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile};
use terrane_value::Value;

/// How a local value is defined.
#[derive(Clone, Debug)]
pub enum LocalDef {
    /// Already known.
    Value(Value),
    /// To be evaluated on first use (in this scope, without iteration
    /// variables).
    Expr { file: Arc<SourceFile>, expr: Expr },
}

/// Everything an expression may refer to (besides for-expression
/// variables, which the evaluator manages itself).
#[derive(Debug, Default)]
pub struct Scope {
    /// Input variables by name (`var.NAME`).
    pub variables: BTreeMap<String, Value>,
    /// Local values by name (`local.NAME`).
    pub locals: BTreeMap<String, LocalDef>,
    /// Module call results by call name (`module.NAME`).
    pub modules: BTreeMap<String, Value>,
    /// Managed resources by `TYPE.NAME` (value: object, or tuple/map of
    /// objects for `count`/`for_each`).
    pub resources: BTreeMap<String, Value>,
    /// Data resources by `TYPE.NAME` (without the `data.` prefix).
    pub data: BTreeMap<String, Value>,
    /// `count.index`, when in a counted block.
    pub count_index: Option<Value>,
    /// `each.key` and `each.value`, when in a `for_each` block.
    pub each: Option<(Value, Value)>,
    /// `self`, in provisioner and connection blocks.
    pub self_value: Option<Value>,
    /// `path.module`.
    pub path_module: String,
    /// `path.root`.
    pub path_root: String,
    /// `path.cwd`.
    pub path_cwd: String,
    /// `terraform.workspace`.
    pub workspace: String,
    /// Directory relative paths of file functions are resolved against.
    pub base_dir: PathBuf,
    /// Provider-defined functions (`provider::NAME::FUNC`) of this module;
    /// without it every such call is an unknown function.
    pub provider_functions: Option<crate::provider_functions::ProviderFunctionsHandle>,
    cache: Mutex<BTreeMap<String, Value>>,
    active: Mutex<Vec<String>>,
}

/// Locks a mutex, ignoring poisoning (the data stays consistent: every
/// update is a single insert/push/pop).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Scope {
    /// An empty scope as in `terraform console` in an empty directory:
    /// `path.*` are `.`, the workspace is `default`.
    pub fn new() -> Scope {
        Scope {
            path_module: ".".into(),
            path_root: ".".into(),
            path_cwd: std::env::current_dir()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| ".".into()),
            workspace: "default".into(),
            base_dir: PathBuf::from("."),
            ..Scope::default()
        }
    }

    /// A scope for the root module of a loaded configuration: its locals
    /// (lazily evaluated), variables (their defaults converted to their
    /// type constraints, or unknown; errors in defaults give unknown),
    /// resources, data sources and module calls (all unknown, as in a
    /// console without state).
    pub fn from_module(module: &terrane_config::Module) -> Scope {
        let mut s = Scope::new();
        s.base_dir = module.dir.clone();
        for (name, l) in &module.locals {
            s.locals.insert(
                name.clone(),
                LocalDef::Expr {
                    file: l.expr.file.clone(),
                    expr: l.expr.expr.clone(),
                },
            );
        }
        // Variables take their default (converted to their type, with
        // optional-attribute defaults); those without one are unknown, as
        // no value was given.
        let (values, _) = crate::varvalues::finalize(
            module,
            &BTreeMap::new(),
            crate::varvalues::Missing::Unknown,
        );
        s.variables = values;
        for name in module.data_resources.keys() {
            let key = name.strip_prefix("data.").unwrap_or(name);
            s.data.insert(key.to_string(), Value::unknown_dynamic());
        }
        for name in module.module_calls.keys() {
            s.modules.insert(name.clone(), Value::unknown_dynamic());
        }
        s
    }

    /// Like [`Scope::from_module`], with the variables' final values
    /// given (see [`crate::varvalues::finalize`]).
    pub fn from_module_with_values(
        module: &terrane_config::Module,
        values: BTreeMap<String, Value>,
    ) -> Scope {
        let mut s = Scope::from_module(module);
        s.variables = values;
        s
    }

    /// Adds a local defined by an expression.
    pub fn set_local_expr(&mut self, name: &str, file: &Arc<SourceFile>, expr: Expr) {
        lock(&self.cache).remove(name);
        self.locals.insert(
            name.to_string(),
            LocalDef::Expr {
                file: file.clone(),
                expr,
            },
        );
    }

    /// Evaluates every local value (in name order), returning the
    /// diagnostics of those that fail. Later references use the cache.
    pub fn eval_all_locals(&self) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let names: Vec<String> = self.locals.keys().cloned().collect();
        for n in names {
            let (_, d) = self.local_value(&n);
            diags.extend(d);
        }
        diags
    }

    /// The value of `local.NAME` (`None` if not declared), evaluating it on
    /// first use. A failing local yields an unknown value and its
    /// diagnostics (once: the unknown value is cached).
    pub fn local_value(&self, name: &str) -> (Option<Value>, Diagnostics) {
        let def = match self.locals.get(name) {
            None => return (None, Diagnostics::new()),
            Some(LocalDef::Value(v)) => return (Some(v.clone()), Diagnostics::new()),
            Some(LocalDef::Expr { file, expr }) => (file, expr),
        };
        if let Some(v) = lock(&self.cache).get(name) {
            return (Some(v.clone()), Diagnostics::new());
        }
        if lock(&self.active).iter().any(|n| n == name) {
            let mut chain: Vec<String> = lock(&self.active)
                .iter()
                .map(|n| format!("local.{n}"))
                .collect();
            chain.push(format!("local.{name}"));
            let d = Diagnostic::error("Cycle", format!("Cycle: {}", chain.join(", ")))
                .with_subject(def.0, def.1.span);
            return (Some(Value::unknown_dynamic()), d.into());
        }
        lock(&self.active).push(name.to_string());
        let ctx = crate::eval::EvalContext::new(self).with_file(def.0);
        let (v, diags) = crate::eval::eval_expr(def.1, &ctx);
        lock(&self.active).pop();
        let v = if diags.has_errors() {
            Value::unknown_dynamic()
        } else {
            v
        };
        lock(&self.cache).insert(name.to_string(), v.clone());
        (Some(v), diags)
    }
}
