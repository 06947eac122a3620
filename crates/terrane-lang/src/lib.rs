//! terrane-lang: evaluation of Terraform expressions.
//!
//! * [`Scope`]: what references (`var.*`, `local.*`, resources, ...) resolve
//!   to; locals given as expressions are evaluated lazily with cycle
//!   detection.
//! * [`eval_expr`]: evaluates any expression with Terraform 1.0.3's
//!   semantics and diagnostics.
//! * [`console`]: `terraform console` (piped and interactive modes).

pub mod console;
pub mod eval;
mod funcs_adapter;
pub mod functions;
pub mod provider_functions;
pub mod scope;
pub mod typeexpr;
pub mod varvalues;

pub use console::{console_batch, console_interactive, render_diagnostics};
pub use eval::{check_references, eval_expr, EvalContext, InstanceValues};
pub use provider_functions::{ProviderFunctions, ProviderFunctionsHandle};
pub use scope::{LocalDef, Scope};
