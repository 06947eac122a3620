//! The [`Provider`] trait: what the engine asks of any provider, a gRPC
//! plugin ([`crate::GrpcProvider`]) or a built-in one.

use std::collections::BTreeMap;
use std::sync::Arc;

use terrane_value::{Path, Value};

use crate::diag::Diagnostics;
use crate::schema::ProviderSchema;

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
