//! Provider-defined functions for expressions: builds the
//! [`terrane_lang::ProviderFunctions`] resolver of one module from the
//! providers in its `required_providers`.
//!
//! Functions are called on provider instances of their own, never
//! configured (as Terraform does). Only providers whose functions the
//! module's files mention (`provider::NAME::`) are started, so modules that
//! use no functions start no extra plugin processes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use terrane_config::Module;
use terrane_lang::provider_functions::{
    CallError, FunctionParam, FunctionSignature, LookupError, ProviderFunctions,
};
use terrane_lang::ProviderFunctionsHandle;
use terrane_plugin::{CallFunctionRequest, Provider};
use terrane_value::Value;

use crate::walk::{provider_source, ProviderFactory};

/// The resolver for `m`, or `None` when no file of it calls a provider
/// function of a provider it requires.
pub fn resolver(factory: &dyn ProviderFactory, m: &Module) -> Option<ProviderFunctionsHandle> {
    let mut providers = BTreeMap::new();
    for name in m.terraform.required_providers.keys() {
        let needle = format!("provider::{name}::");
        if !m.files.iter().any(|f| f.text.contains(&needle)) {
            continue;
        }
        let source = provider_source(m, name);
        let instance = factory.instantiate(&source);
        providers.insert(name.clone(), (source, instance));
    }
    if providers.is_empty() {
        return None;
    }
    Some(ProviderFunctionsHandle(Arc::new(ModuleFunctions {
        providers,
        signatures: Mutex::new(BTreeMap::new()),
    })))
}

type Instance = Result<Arc<dyn Provider>, String>;
/// One provider's functions by name.
type Signatures = Arc<BTreeMap<String, Arc<FunctionSignature>>>;

struct ModuleFunctions {
    /// Local name → (source address, unconfigured instance).
    providers: BTreeMap<String, (String, Instance)>,
    /// Converted signatures of each local name's provider.
    signatures: Mutex<BTreeMap<String, Signatures>>,
}

fn convert_param(p: &terrane_plugin::FunctionParameter) -> FunctionParam {
    FunctionParam {
        name: p.name.clone(),
        ty: p.ty.clone(),
        allow_null: p.allow_null_value,
        allow_unknown: p.allow_unknown_values,
    }
}

/// "summary: detail" of every error, for a single diagnostic.
fn join_errors(d: &terrane_plugin::Diagnostics) -> (String, String) {
    let mut errors = d
        .iter()
        .filter(|d| d.severity == terrane_plugin::Severity::Error);
    let first = errors.next();
    let summary = first.map_or_else(|| "Provider error".to_string(), |d| d.summary.clone());
    let mut detail = first.map(|d| d.detail.clone()).unwrap_or_default();
    for d in errors {
        detail.push_str(&format!("\n{}: {}", d.summary, d.detail));
    }
    (summary, detail)
}

impl ModuleFunctions {
    fn provider(&self, local: &str) -> Result<(&str, &Arc<dyn Provider>), LookupError> {
        match self.providers.get(local) {
            None => Err(LookupError::NotFound),
            Some((source, Err(e))) => Err(LookupError::Failed {
                summary: "Failed to instantiate provider".into(),
                detail: format!(
                    "Provider {source:?} (for provider::{local}:: functions) is not available: {e}"
                ),
            }),
            Some((source, Ok(p))) => Ok((source.as_str(), p)),
        }
    }

    fn functions(&self, local: &str) -> Result<Signatures, LookupError> {
        if let Some(f) = self
            .signatures
            .lock()
            .ok()
            .and_then(|s| s.get(local).cloned())
        {
            return Ok(f);
        }
        let (source, p) = self.provider(local)?;
        let r = p.get_functions();
        if r.diagnostics.has_errors() {
            let (summary, detail) = join_errors(&r.diagnostics);
            return Err(LookupError::Failed {
                summary,
                detail: format!("{detail}\n(while reading the functions of provider {source})"),
            });
        }
        let converted: BTreeMap<String, Arc<FunctionSignature>> = r
            .functions
            .iter()
            .map(|(name, f)| {
                let sig = FunctionSignature {
                    params: f.parameters.iter().map(convert_param).collect(),
                    variadic: f.variadic_parameter.as_ref().map(convert_param),
                    return_type: f.return_type.clone(),
                };
                (name.clone(), Arc::new(sig))
            })
            .collect();
        let converted = Arc::new(converted);
        if let Ok(mut s) = self.signatures.lock() {
            s.insert(local.to_string(), converted.clone());
        }
        Ok(converted)
    }
}

impl ProviderFunctions for ModuleFunctions {
    fn signature(
        &self,
        provider: &str,
        function: &str,
    ) -> Result<Arc<FunctionSignature>, LookupError> {
        self.functions(provider)?
            .get(function)
            .cloned()
            .ok_or(LookupError::NotFound)
    }

    fn call(&self, provider: &str, function: &str, args: Vec<Value>) -> Result<Value, CallError> {
        let (_, p) = self.provider(provider).map_err(|e| match e {
            LookupError::Failed { summary, detail } => CallError::Provider { summary, detail },
            LookupError::NotFound => CallError::Failed("unknown provider".into()),
        })?;
        let r = p.call_function(&CallFunctionRequest {
            name: function.to_string(),
            arguments: args,
        });
        if let Some(e) = r.error {
            let message = e.text.trim_end_matches('.').to_string();
            return Err(match e.argument {
                Some(index) => CallError::Arg { index, message },
                None => CallError::Failed(message),
            });
        }
        if r.diagnostics.has_errors() {
            let (summary, detail) = join_errors(&r.diagnostics);
            return Err(CallError::Provider { summary, detail });
        }
        Ok(r.result)
    }
}
