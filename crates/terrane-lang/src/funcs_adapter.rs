//! The seam between the evaluator and the function library
//! (`crate::functions`, written separately). The evaluator only uses the
//! items here, so switching the library on or off is local to this file.

use std::path::Path;

use terrane_value::Value;

/// Why a function call failed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CallError {
    /// A problem with one argument: rendered as "Invalid function argument"
    /// `Invalid value for "<param>" parameter: <message>.`
    Arg { index: usize, message: String },
    /// Anything else: "Error in function call"
    /// `Call to function "<name>" failed: <message>.`
    Failed(String),
}

/// The parameter names of a function, for arity errors and argument
/// error messages.
#[derive(Clone, Debug, Default)]
pub(crate) struct Signature {
    pub params: Vec<String>,
    pub variadic: Option<String>,
}

impl Signature {
    /// The name of the parameter argument `i` is bound to.
    pub fn param_name(&self, i: usize) -> String {
        self.params
            .get(i)
            .cloned()
            .or_else(|| self.variadic.clone())
            .unwrap_or_default()
    }
}

/// Whether a library function of that name exists.
pub(crate) fn exists(name: &str) -> bool {
    imp::exists(name)
}

/// The signature of a library function, when the library describes it.
pub(crate) fn signature(name: &str) -> Option<Signature> {
    imp::signature(name)
}

/// Calls a library function with already evaluated arguments.
pub(crate) fn call(name: &str, args: Vec<Value>, base_dir: &Path) -> Result<Value, CallError> {
    imp::call(name, args, base_dir)
}

/// No function library yet: nothing exists.
mod imp {
    use super::{CallError, Signature};
    use std::path::Path;
    use terrane_value::Value;

    pub(super) fn exists(_name: &str) -> bool {
        false
    }

    pub(super) fn signature(_name: &str) -> Option<Signature> {
        None
    }

    pub(super) fn call(name: &str, _args: Vec<Value>, _base_dir: &Path) -> Result<Value, CallError> {
        Err(CallError::Failed(format!("function {name:?} is not available")))
    }
}
