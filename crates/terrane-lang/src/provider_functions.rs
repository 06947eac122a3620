//! The hook through which expressions call provider-defined functions,
//! `provider::NAME::FUNC(args)`.
//!
//! terrane-lang knows nothing of plugins: the engine puts a
//! [`ProviderFunctions`] implementation in the [`crate::Scope`] of each
//! module (NAME is a local name of that module's `required_providers`), and
//! the evaluator asks it for signatures and calls. Argument checking
//! (types, null, unknown, marks) happens here, in the evaluator, so every
//! resolver behaves the same.

use std::fmt;
use std::sync::Arc;

use terrane_value::{Type, Value};

/// A provider function's signature, as the evaluator needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSignature {
    /// Positional parameters.
    pub params: Vec<FunctionParam>,
    /// A final parameter taking any number of arguments, if any.
    pub variadic: Option<FunctionParam>,
    /// The result type.
    pub return_type: Type,
}

/// One parameter of a [`FunctionSignature`].
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionParam {
    /// Name used in argument error messages.
    pub name: String,
    /// Type constraint (`dynamic`: any).
    pub ty: Type,
    /// A null argument is passed on (otherwise it is an error).
    pub allow_null: bool,
    /// An unknown argument is passed on (otherwise the result is unknown
    /// and the provider is not called).
    pub allow_unknown: bool,
}

impl FunctionSignature {
    /// The parameter argument `i` binds to.
    pub fn param(&self, i: usize) -> Option<&FunctionParam> {
        self.params.get(i).or(self.variadic.as_ref())
    }
}

/// Why a lookup found no function.
#[derive(Clone, Debug, PartialEq)]
pub enum LookupError {
    /// NAME is not a provider of this module, or it has no such function:
    /// Terraform's "Unknown provider function".
    NotFound,
    /// The provider could not be asked (it failed to start, or its schema
    /// has errors): summary and detail of the diagnostic.
    Failed { summary: String, detail: String },
}

/// Why a call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum CallError {
    /// The function rejected argument `index`.
    Arg { index: usize, message: String },
    /// The function failed.
    Failed(String),
    /// The call could not be made (transport, crash): summary and detail.
    Provider { summary: String, detail: String },
}

/// Resolves and calls provider-defined functions for one module.
/// Implementations must be cheap to ask repeatedly (cache signatures).
pub trait ProviderFunctions: Send + Sync {
    /// The signature of `provider::<provider>::<function>`.
    fn signature(
        &self,
        provider: &str,
        function: &str,
    ) -> Result<Arc<FunctionSignature>, LookupError>;

    /// Calls it with arguments already converted to the parameter types,
    /// unmarked, and known or null where the signature requires.
    fn call(&self, provider: &str, function: &str, args: Vec<Value>) -> Result<Value, CallError>;
}

/// A shared [`ProviderFunctions`], as held by a [`crate::Scope`].
#[derive(Clone)]
pub struct ProviderFunctionsHandle(pub Arc<dyn ProviderFunctions>);

impl fmt::Debug for ProviderFunctionsHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ProviderFunctionsHandle")
    }
}

/// Terraform's detail text for an unknown provider function.
pub fn unknown_function_detail(provider: &str, function: &str) -> String {
    format!(
        "There is no function named \"provider::{provider}::{function}\". Ensure that provider \
         name {provider:?} is declared in this module's required_providers block, and that this \
         provider offers a function named {function:?}."
    )
}
