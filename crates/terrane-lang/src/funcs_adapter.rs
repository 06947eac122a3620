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

/// The function library of `crate::functions`.
mod imp {
    use super::{CallError, Signature};
    use crate::functions::{self, FunctionContext};
    use std::path::Path;
    use terrane_value::Value;

    pub(super) fn exists(name: &str) -> bool {
        functions::exists(name)
    }

    pub(super) fn signature(name: &str) -> Option<Signature> {
        functions::param_names(name).map(|(params, variadic)| Signature {
            params: params.iter().map(|p| p.to_string()).collect(),
            variadic: variadic.map(str::to_string),
        })
    }

    pub(super) fn call(name: &str, args: Vec<Value>, base_dir: &Path) -> Result<Value, CallError> {
        let ctx = FunctionContext {
            base_dir: base_dir.to_path_buf(),
        };
        functions::call(name, args, &ctx).map_err(|e| match e.arg {
            Some(index) => CallError::Arg {
                index,
                message: e.message,
            },
            None => CallError::Failed(e.message),
        })
    }
}
