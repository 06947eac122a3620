//! The [`Provider`] trait: what the engine asks of any provider, a gRPC
//! plugin ([`crate::GrpcProvider`]) or a built-in one.

use std::collections::BTreeMap;
use std::sync::Arc;

use terrane_value::{Path, Value};

use crate::diag::{Diagnostic, Diagnostics};
use crate::schema::{FunctionSignature, ProviderSchema, ServerCapabilities};

/// A provider, as the engine sees it.
///
/// **Blocking, `Send + Sync`.** Every method blocks the calling thread until
/// the provider answers; the engine may call methods concurrently from
/// several threads (the gRPC client multiplexes calls over one connection;
/// built-in providers must be thread-safe). Blocking keeps the trait
/// object-safe (`Arc<dyn Provider>`) and keeps async runtimes out of the
/// engine and of built-in providers. The gRPC implementation drives its own
/// internal tokio runtime, so it must not be called from inside another
/// async runtime's worker (use `spawn_blocking`); it reports an error
/// diagnostic instead of panicking if it is.
///
/// Values go in and out as terrane [`Value`]s conforming to the implied
/// type of the relevant schema block (see
/// [`Block::implied_type`](crate::Block::implied_type)); they must not carry
/// marks (unmark them first, as Terraform does). Failures, including
/// transport failures and a crashed plugin, are reported as error
/// diagnostics, never as panics; a response whose diagnostics contain
/// errors may have null values.
pub trait Provider: Send + Sync {
    /// The provider's schemas (cached by implementations: cheap to call again).
    fn get_schema(&self) -> GetSchemaResponse;

    /// Validates the provider configuration; protocol 5 plugins may also
    /// fill in defaults (`prepared_config`), otherwise it is the input.
    fn validate_provider_config(&self, config: &Value) -> ValidateProviderConfigResponse;

    /// Validates a managed resource's configuration.
    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics;

    /// Validates a data source's configuration.
    fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics;

    /// Upgrades stored state to the current schema version.
    fn upgrade_resource_state(
        &self,
        req: &UpgradeResourceStateRequest,
    ) -> UpgradeResourceStateResponse;

    /// Configures the provider (once, before resource operations).
    fn configure(&self, req: &ConfigureRequest) -> Diagnostics;

    /// Refreshes a managed resource.
    fn read_resource(&self, req: &ReadResourceRequest) -> ReadResourceResponse;

    /// Plans a change to a managed resource.
    fn plan_resource_change(&self, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse;

    /// Applies a planned change.
    fn apply_resource_change(
        &self,
        req: &ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse;

    /// Imports an existing object by ID.
    fn import_resource_state(
        &self,
        req: &ImportResourceStateRequest,
    ) -> ImportResourceStateResponse;

    /// Reads a data source.
    fn read_data_source(&self, req: &ReadDataSourceRequest) -> ReadDataSourceResponse;

    /// Asks the provider to cancel in-flight operations (on interrupt).
    fn stop(&self) -> Diagnostics;

    /// Shuts the provider down and releases its resources (for a plugin:
    /// the process). Further calls fail with a diagnostic. The default does
    /// nothing.
    fn close(&self) -> Diagnostics {
        Diagnostics::new()
    }

    /// Capabilities and the names of resource types, data sources and
    /// functions, without their schemas. The default derives them from
    /// [`Provider::get_schema`].
    fn get_metadata(&self) -> GetMetadataResponse {
        let r = self.get_schema();
        GetMetadataResponse {
            server_capabilities: r.schema.server_capabilities,
            resources: r.schema.resource_schemas.keys().cloned().collect(),
            data_sources: r.schema.data_source_schemas.keys().cloned().collect(),
            functions: r.schema.functions.keys().cloned().collect(),
            diagnostics: r.diagnostics,
        }
    }

    /// The provider-defined functions' signatures. The default takes them
    /// from [`Provider::get_schema`] (built-in providers define none).
    fn get_functions(&self) -> GetFunctionsResponse {
        let r = self.get_schema();
        GetFunctionsResponse {
            functions: Arc::new(r.schema.functions.clone()),
            diagnostics: r.diagnostics,
        }
    }

    /// Calls a provider-defined function with arguments already checked
    /// against its signature. The default knows no functions.
    fn call_function(&self, req: &CallFunctionRequest) -> CallFunctionResponse {
        CallFunctionResponse::failed(Diagnostics::from_error(
            "Call to unknown function",
            format!(
                "This provider does not define a function named {:?}.",
                req.name
            ),
        ))
    }

    /// Moves state from a resource type (possibly of another provider) to
    /// one of this provider's types (`moved` blocks across types). The
    /// default does not support it.
    fn move_resource_state(&self, req: &MoveResourceStateRequest) -> MoveResourceStateResponse {
        MoveResourceStateResponse {
            target_state: Value::null_dynamic(),
            target_private: Vec::new(),
            diagnostics: Diagnostics::from_error(
                "Unsupported resource move",
                format!(
                    "The provider does not support moving state from {} to {}.",
                    req.source_type_name, req.target_type_name
                ),
            ),
        }
    }
}

/// Result of [`Provider::get_metadata`].
#[derive(Clone, Debug, Default)]
pub struct GetMetadataResponse {
    /// Optional protocol features.
    pub server_capabilities: ServerCapabilities,
    /// Managed resource type names.
    pub resources: Vec<String>,
    /// Data source type names.
    pub data_sources: Vec<String>,
    /// Function names.
    pub functions: Vec<String>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Result of [`Provider::get_functions`].
#[derive(Clone, Debug, Default)]
pub struct GetFunctionsResponse {
    /// Signatures by function name.
    pub functions: Arc<BTreeMap<String, FunctionSignature>>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Request of [`Provider::call_function`].
#[derive(Clone, Debug)]
pub struct CallFunctionRequest {
    /// Function name (without the `provider::NAME::` prefix).
    pub name: String,
    /// Arguments, one per parameter, then one per variadic argument; each
    /// conforms to its parameter's type (for `dynamic`, any type).
    pub arguments: Vec<Value>,
}

/// A function's own failure, as opposed to a transport failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionError {
    /// What went wrong.
    pub text: String,
    /// The index of the argument at fault, if one is.
    pub argument: Option<usize>,
}

impl FunctionError {
    /// The diagnostic Terraform shows for it: "Invalid function argument"
    /// naming the parameter when an argument is at fault, otherwise "Error
    /// in function call". `function` is the name as written in the
    /// configuration (`provider::NAME::FUNC`).
    pub fn to_diagnostic(
        &self,
        function: &str,
        signature: Option<&FunctionSignature>,
    ) -> Diagnostic {
        let text = self.text.trim_end_matches('.');
        match self.argument {
            Some(i) => {
                let param = signature
                    .and_then(|s| s.parameter(i))
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| format!("#{}", i + 1));
                Diagnostic::error(
                    "Invalid function argument",
                    format!("Invalid value for {param:?} parameter: {text}."),
                )
            }
            None => Diagnostic::error(
                "Error in function call",
                format!("Call to function {function:?} failed: {text}."),
            ),
        }
    }
}

/// Result of [`Provider::call_function`].
#[derive(Clone, Debug)]
pub struct CallFunctionResponse {
    /// The result (null when the call failed).
    pub result: Value,
    /// The function's own error, if it failed.
    pub error: Option<FunctionError>,
    /// Other failures (transport, invalid response), and the function
    /// error mapped by [`FunctionError::to_diagnostic`].
    pub diagnostics: Diagnostics,
}

impl CallFunctionResponse {
    /// A failure before or around the call.
    pub fn failed(diagnostics: Diagnostics) -> CallFunctionResponse {
        CallFunctionResponse {
            result: Value::null_dynamic(),
            error: None,
            diagnostics,
        }
    }
}

/// Request of [`Provider::move_resource_state`].
#[derive(Clone, Debug, Default)]
pub struct MoveResourceStateRequest {
    /// Source address of the provider that wrote the state.
    pub source_provider_address: String,
    /// Source resource type.
    pub source_type_name: String,
    /// Schema version of the source state.
    pub source_schema_version: i64,
    /// The source state as JSON (state format v4 `attributes`).
    pub source_state_json: Vec<u8>,
    /// Provider-private data of the source.
    pub source_private: Vec<u8>,
    /// Target resource type (of this provider).
    pub target_type_name: String,
}

/// Result of [`Provider::move_resource_state`].
#[derive(Clone, Debug)]
pub struct MoveResourceStateResponse {
    /// The state under the target type.
    pub target_state: Value,
    /// Provider-private data for the target.
    pub target_private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Result of [`Provider::get_schema`].
#[derive(Clone, Debug)]
pub struct GetSchemaResponse {
    /// The schemas (shared: the AWS provider's is several megabytes).
    pub schema: Arc<ProviderSchema>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Result of [`Provider::validate_provider_config`].
#[derive(Clone, Debug)]
pub struct ValidateProviderConfigResponse {
    /// The configuration, possibly with defaults filled in.
    pub prepared_config: Value,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Request of [`Provider::upgrade_resource_state`].
#[derive(Clone, Debug, Default)]
pub struct UpgradeResourceStateRequest {
    /// Resource type.
    pub type_name: String,
    /// Schema version the state was stored with.
    pub version: i64,
    /// The stored state as JSON (state format v4 `attributes`).
    pub raw_state_json: Option<Vec<u8>>,
    /// The stored state as a legacy flatmap (`attributes_flat`).
    pub raw_state_flatmap: Option<BTreeMap<String, String>>,
}

/// Result of [`Provider::upgrade_resource_state`].
#[derive(Clone, Debug)]
pub struct UpgradeResourceStateResponse {
    /// The state under the current schema.
    pub upgraded_state: Value,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Request of [`Provider::configure`].
#[derive(Clone, Debug)]
pub struct ConfigureRequest {
    /// The engine's Terraform-compatible version (e.g. `"1.0.3"`).
    pub terraform_version: String,
    /// The provider configuration.
    pub config: Value,
}

/// Request of [`Provider::read_resource`].
#[derive(Clone, Debug)]
pub struct ReadResourceRequest {
    /// Resource type.
    pub type_name: String,
    /// Current state.
    pub current_state: Value,
    /// Provider-private data.
    pub private: Vec<u8>,
    /// The module's `provider_meta` value, if any.
    pub provider_meta: Option<Value>,
}

/// Result of [`Provider::read_resource`].
#[derive(Clone, Debug)]
pub struct ReadResourceResponse {
    /// Refreshed state (null: the object is gone).
    pub new_state: Value,
    /// Provider-private data.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Request of [`Provider::plan_resource_change`].
#[derive(Clone, Debug)]
pub struct PlanResourceChangeRequest {
    /// Resource type.
    pub type_name: String,
    /// Prior state (null when creating).
    pub prior_state: Value,
    /// Proposed new state (null when destroying).
    pub proposed_new_state: Value,
    /// Configuration (null when destroying).
    pub config: Value,
    /// Provider-private data of the prior state.
    pub prior_private: Vec<u8>,
    /// The module's `provider_meta` value, if any.
    pub provider_meta: Option<Value>,
}

/// Result of [`Provider::plan_resource_change`].
#[derive(Clone, Debug)]
pub struct PlanResourceChangeResponse {
    /// Planned state.
    pub planned_state: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<Path>,
    /// Provider-private data for apply.
    pub planned_private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
    /// The legacy SDK asked for lenient consistency checks.
    pub legacy_type_system: bool,
}

/// Request of [`Provider::apply_resource_change`].
#[derive(Clone, Debug)]
pub struct ApplyResourceChangeRequest {
    /// Resource type.
    pub type_name: String,
    /// Prior state.
    pub prior_state: Value,
    /// Planned state (null when destroying).
    pub planned_state: Value,
    /// Configuration.
    pub config: Value,
    /// Provider-private data from the plan.
    pub planned_private: Vec<u8>,
    /// The module's `provider_meta` value, if any.
    pub provider_meta: Option<Value>,
}

/// Result of [`Provider::apply_resource_change`].
#[derive(Clone, Debug)]
pub struct ApplyResourceChangeResponse {
    /// New state (null: destroyed).
    pub new_state: Value,
    /// Provider-private data.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
    /// The legacy SDK asked for lenient consistency checks.
    pub legacy_type_system: bool,
}

/// Request of [`Provider::import_resource_state`].
#[derive(Clone, Debug)]
pub struct ImportResourceStateRequest {
    /// Resource type.
    pub type_name: String,
    /// Import ID.
    pub id: String,
}

/// One object found by an import.
#[derive(Clone, Debug)]
pub struct ImportedResource {
    /// Resource type (may differ from the requested one).
    pub type_name: String,
    /// Its state.
    pub state: Value,
    /// Provider-private data.
    pub private: Vec<u8>,
}

/// Result of [`Provider::import_resource_state`].
#[derive(Clone, Debug)]
pub struct ImportResourceStateResponse {
    /// Imported objects.
    pub imported_resources: Vec<ImportedResource>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Request of [`Provider::read_data_source`].
#[derive(Clone, Debug)]
pub struct ReadDataSourceRequest {
    /// Data source type.
    pub type_name: String,
    /// Configuration.
    pub config: Value,
    /// The module's `provider_meta` value, if any.
    pub provider_meta: Option<Value>,
}

/// Result of [`Provider::read_data_source`].
#[derive(Clone, Debug)]
pub struct ReadDataSourceResponse {
    /// The data source's state.
    pub state: Value,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}
