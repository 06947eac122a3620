//! Wire messages of the Terraform plugin protocol, versions 5 and 6.
//!
//! Written by hand from the documented wire format (message field names,
//! numbers and types are the protocol). Enumerations are carried as plain
//! `i32` (they are varints on the wire either way); the constants below
//! name their values.
//!
//! Protocol 6 renamed several RPCs but kept the shapes of their messages,
//! so one set of structs serves both; the differences are
//! [`Attribute::nested_type`] (6 only) and the provider-config validation
//! response, whose `prepared_config` (5 only) is simply absent in 6.
//! Functions, metadata, server capabilities and state moves (5.5+/6.5+)
//! have the same messages and field numbers in both versions.

use std::collections::BTreeMap;

/// `Diagnostic.Severity.ERROR`.
pub const SEVERITY_ERROR: i32 = 1;
/// `Diagnostic.Severity.WARNING`.
pub const SEVERITY_WARNING: i32 = 2;

/// `StringKind.MARKDOWN` (`PLAIN` is 0).
pub const STRING_KIND_MARKDOWN: i32 = 1;

/// `NestedBlock.NestingMode` / `Object.NestingMode` values.
pub mod nesting {
    /// SINGLE
    pub const SINGLE: i32 = 1;
    /// LIST
    pub const LIST: i32 = 2;
    /// SET
    pub const SET: i32 = 3;
    /// MAP
    pub const MAP: i32 = 4;
    /// GROUP (blocks only)
    pub const GROUP: i32 = 5;
}

/// A value encoded as msgpack or JSON (exactly one is set).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DynamicValue {
    /// go-cty msgpack encoding.
    #[prost(bytes = "vec", tag = "1")]
    pub msgpack: Vec<u8>,
    /// go-cty JSON encoding.
    #[prost(bytes = "vec", tag = "2")]
    pub json: Vec<u8>,
}

/// A diagnostic returned by a provider.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Diagnostic {
    /// [`SEVERITY_ERROR`] or [`SEVERITY_WARNING`].
    #[prost(int32, tag = "1")]
    pub severity: i32,
    /// One-line summary.
    #[prost(string, tag = "2")]
    pub summary: String,
    /// Longer explanation.
    #[prost(string, tag = "3")]
    pub detail: String,
    /// The attribute the diagnostic is about, if any.
    #[prost(message, optional, tag = "4")]
    pub attribute: Option<AttributePath>,
}

/// A path into a value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributePath {
    /// The steps from the root.
    #[prost(message, repeated, tag = "1")]
    pub steps: Vec<AttributePathStep>,
}

/// One step of an [`AttributePath`].
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributePathStep {
    /// The step.
    #[prost(oneof = "Selector", tags = "1, 2, 3")]
    pub selector: Option<Selector>,
}

/// The selector of an [`AttributePathStep`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum Selector {
    /// `.name`
    #[prost(string, tag = "1")]
    AttributeName(String),
    /// `["key"]`
    #[prost(string, tag = "2")]
    ElementKeyString(String),
    /// `[3]`
    #[prost(int64, tag = "3")]
    ElementKeyInt(i64),
}

/// An empty message (requests without fields, `google.protobuf.Empty`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Empty {}

/// `Stop.Response` / `StopProvider.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StopResponse {
    /// A non-empty string reports a failure to stop.
    #[prost(string, tag = "1")]
    pub error: String,
}

/// Stored state to upgrade: JSON or the legacy flatmap.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RawState {
    /// JSON state.
    #[prost(bytes = "vec", tag = "1")]
    pub json: Vec<u8>,
    /// Legacy flatmap state.
    #[prost(btree_map = "string, string", tag = "2")]
    pub flatmap: BTreeMap<String, String>,
}

/// A versioned schema.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Schema {
    /// Schema version (for state upgrades).
    #[prost(int64, tag = "1")]
    pub version: i64,
    /// The top-level block.
    #[prost(message, optional, tag = "2")]
    pub block: Option<Block>,
}

/// `Schema.Block`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Block {
    /// Block version (unused by Terraform).
    #[prost(int64, tag = "1")]
    pub version: i64,
    /// Attributes.
    #[prost(message, repeated, tag = "2")]
    pub attributes: Vec<Attribute>,
    /// Nested block types.
    #[prost(message, repeated, tag = "3")]
    pub block_types: Vec<NestedBlock>,
    /// Description.
    #[prost(string, tag = "4")]
    pub description: String,
    /// `StringKind` of the description.
    #[prost(int32, tag = "5")]
    pub description_kind: i32,
    /// Deprecated flag.
    #[prost(bool, tag = "6")]
    pub deprecated: bool,
}

/// `Schema.Attribute`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Attribute {
    /// Attribute name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The cty type, JSON-encoded.
    #[prost(bytes = "vec", tag = "2")]
    pub r#type: Vec<u8>,
    /// Nested attribute type (protocol 6 only).
    #[prost(message, optional, tag = "10")]
    pub nested_type: Option<Object>,
    /// Description.
    #[prost(string, tag = "3")]
    pub description: String,
    /// Required flag.
    #[prost(bool, tag = "4")]
    pub required: bool,
    /// Optional flag.
    #[prost(bool, tag = "5")]
    pub optional: bool,
    /// Computed flag.
    #[prost(bool, tag = "6")]
    pub computed: bool,
    /// Sensitive flag.
    #[prost(bool, tag = "7")]
    pub sensitive: bool,
    /// `StringKind` of the description.
    #[prost(int32, tag = "8")]
    pub description_kind: i32,
    /// Deprecated flag.
    #[prost(bool, tag = "9")]
    pub deprecated: bool,
}

/// `Schema.NestedBlock`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NestedBlock {
    /// Block type name.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The block's schema.
    #[prost(message, optional, tag = "2")]
    pub block: Option<Block>,
    /// Nesting mode (see [`nesting`]).
    #[prost(int32, tag = "3")]
    pub nesting: i32,
    /// Minimum number of blocks.
    #[prost(int64, tag = "4")]
    pub min_items: i64,
    /// Maximum number of blocks (0: no limit).
    #[prost(int64, tag = "5")]
    pub max_items: i64,
}

/// `Schema.Object` (protocol 6 nested attribute types).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Object {
    /// Attributes of the object.
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<Attribute>,
    /// Nesting mode (see [`nesting`]; no GROUP).
    #[prost(int32, tag = "3")]
    pub nesting: i32,
    /// Minimum number of items.
    #[prost(int64, tag = "4")]
    pub min_items: i64,
    /// Maximum number of items.
    #[prost(int64, tag = "5")]
    pub max_items: i64,
}

/// `GetProviderSchema.Response` (RPC `GetSchema` in 5, `GetProviderSchema` in 6).
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetProviderSchemaResponse {
    /// Provider configuration schema.
    #[prost(message, optional, tag = "1")]
    pub provider: Option<Schema>,
    /// Managed resource schemas.
    #[prost(btree_map = "string, message", tag = "2")]
    pub resource_schemas: BTreeMap<String, Schema>,
    /// Data source schemas.
    #[prost(btree_map = "string, message", tag = "3")]
    pub data_source_schemas: BTreeMap<String, Schema>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "4")]
    pub diagnostics: Vec<Diagnostic>,
    /// Schema of the `provider_meta` block.
    #[prost(message, optional, tag = "5")]
    pub provider_meta: Option<Schema>,
    /// Optional protocol features (5.3+/6.3+).
    #[prost(message, optional, tag = "6")]
    pub server_capabilities: Option<ServerCapabilities>,
    /// Provider-defined functions by name (5.5+/6.5+).
    #[prost(btree_map = "string, message", tag = "7")]
    pub functions: BTreeMap<String, Function>,
}

/// `ServerCapabilities`: optional protocol features a provider announces.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ServerCapabilities {
    /// The provider wants `PlanResourceChange` for destroys too.
    #[prost(bool, tag = "1")]
    pub plan_destroy: bool,
    /// The caller may use a cached schema instead of calling
    /// `GetProviderSchema` on every start.
    #[prost(bool, tag = "2")]
    pub get_provider_schema_optional: bool,
    /// The provider implements `MoveResourceState`.
    #[prost(bool, tag = "3")]
    pub move_resource_state: bool,
}

/// `Function`: a provider-defined function's signature.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Function {
    /// Positional parameters.
    #[prost(message, repeated, tag = "1")]
    pub parameters: Vec<FunctionParameter>,
    /// Final parameter taking any number of arguments, if any.
    #[prost(message, optional, tag = "2")]
    pub variadic_parameter: Option<FunctionParameter>,
    /// The result.
    #[prost(message, optional, tag = "3")]
    pub r#return: Option<FunctionReturn>,
    /// Short documentation.
    #[prost(string, tag = "4")]
    pub summary: String,
    /// Documentation.
    #[prost(string, tag = "5")]
    pub description: String,
    /// `StringKind` of the description.
    #[prost(int32, tag = "6")]
    pub description_kind: i32,
    /// Non-empty when the function is deprecated.
    #[prost(string, tag = "7")]
    pub deprecation_message: String,
}

/// `Function.Parameter`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FunctionParameter {
    /// Display name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// The type constraint, JSON-encoded.
    #[prost(bytes = "vec", tag = "2")]
    pub r#type: Vec<u8>,
    /// A null argument may be passed.
    #[prost(bool, tag = "3")]
    pub allow_null_value: bool,
    /// An unknown argument may be passed (otherwise the result is unknown
    /// without calling the provider).
    #[prost(bool, tag = "4")]
    pub allow_unknown_values: bool,
    /// Documentation.
    #[prost(string, tag = "5")]
    pub description: String,
    /// `StringKind` of the description.
    #[prost(int32, tag = "6")]
    pub description_kind: i32,
}

/// `Function.Return`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FunctionReturn {
    /// The result type, JSON-encoded.
    #[prost(bytes = "vec", tag = "1")]
    pub r#type: Vec<u8>,
}

/// `GetMetadata.Response`: what a provider offers, without schemas.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetMetadataResponse {
    /// Optional protocol features.
    #[prost(message, optional, tag = "1")]
    pub server_capabilities: Option<ServerCapabilities>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    /// Data source types.
    #[prost(message, repeated, tag = "3")]
    pub data_sources: Vec<TypeNameMetadata>,
    /// Managed resource types.
    #[prost(message, repeated, tag = "4")]
    pub resources: Vec<TypeNameMetadata>,
    /// Function names.
    #[prost(message, repeated, tag = "5")]
    pub functions: Vec<FunctionMetadata>,
}

/// `GetMetadata.DataSourceMetadata` / `ResourceMetadata` (same shape).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeNameMetadata {
    /// The type name.
    #[prost(string, tag = "1")]
    pub type_name: String,
}

/// `GetMetadata.FunctionMetadata`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FunctionMetadata {
    /// The function name.
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `GetFunctions.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetFunctionsResponse {
    /// Functions by name.
    #[prost(btree_map = "string, message", tag = "1")]
    pub functions: BTreeMap<String, Function>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `CallFunction.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CallFunctionRequest {
    /// Function name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Arguments in order (variadic ones each as their own value).
    #[prost(message, repeated, tag = "2")]
    pub arguments: Vec<DynamicValue>,
}

/// `CallFunction.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CallFunctionResponse {
    /// The result.
    #[prost(message, optional, tag = "1")]
    pub result: Option<DynamicValue>,
    /// Set when the call failed.
    #[prost(message, optional, tag = "2")]
    pub error: Option<FunctionError>,
}

/// `FunctionError`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct FunctionError {
    /// What went wrong.
    #[prost(string, tag = "1")]
    pub text: String,
    /// The index of the argument at fault, if one is.
    #[prost(int64, optional, tag = "2")]
    pub function_argument: Option<i64>,
}

/// `MoveResourceState.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MoveResourceStateRequest {
    /// Source address of the provider the state comes from.
    #[prost(string, tag = "1")]
    pub source_provider_address: String,
    /// Source resource type.
    #[prost(string, tag = "2")]
    pub source_type_name: String,
    /// Schema version of the source state.
    #[prost(int64, tag = "3")]
    pub source_schema_version: i64,
    /// The source state.
    #[prost(message, optional, tag = "4")]
    pub source_state: Option<RawState>,
    /// Target resource type (of this provider).
    #[prost(string, tag = "5")]
    pub target_type_name: String,
    /// Provider-private data of the source.
    #[prost(bytes = "vec", tag = "6")]
    pub source_private: Vec<u8>,
}

/// `MoveResourceState.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MoveResourceStateResponse {
    /// The state under the target type.
    #[prost(message, optional, tag = "1")]
    pub target_state: Option<DynamicValue>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    /// Provider-private data for the target.
    #[prost(bytes = "vec", tag = "3")]
    pub target_private: Vec<u8>,
}

/// `PrepareProviderConfig.Request` (5) / `ValidateProviderConfig.Request` (6).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProviderConfigRequest {
    /// The configuration.
    #[prost(message, optional, tag = "1")]
    pub config: Option<DynamicValue>,
}

/// `PrepareProviderConfig.Response` (5) / `ValidateProviderConfig.Response` (6).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ProviderConfigResponse {
    /// The configuration with defaults (protocol 5 only).
    #[prost(message, optional, tag = "1")]
    pub prepared_config: Option<DynamicValue>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `UpgradeResourceState.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UpgradeResourceStateRequest {
    /// Resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Schema version the state was written with.
    #[prost(int64, tag = "2")]
    pub version: i64,
    /// The stored state.
    #[prost(message, optional, tag = "3")]
    pub raw_state: Option<RawState>,
}

/// `UpgradeResourceState.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct UpgradeResourceStateResponse {
    /// The state under the current schema.
    #[prost(message, optional, tag = "1")]
    pub upgraded_state: Option<DynamicValue>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `ValidateResourceTypeConfig.Request` / `ValidateDataSourceConfig.Request`
/// (6: `ValidateResourceConfig` / `ValidateDataResourceConfig`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValidateConfigRequest {
    /// Resource or data source type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// The configuration.
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
}

/// A response carrying diagnostics only (validate, configure).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DiagnosticsResponse {
    /// Diagnostics.
    #[prost(message, repeated, tag = "1")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `Configure.Request` (6: `ConfigureProvider`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfigureRequest {
    /// The calling Terraform's version.
    #[prost(string, tag = "1")]
    pub terraform_version: String,
    /// The provider configuration.
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
}

/// `ReadResource.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadResourceRequest {
    /// Resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Current state.
    #[prost(message, optional, tag = "2")]
    pub current_state: Option<DynamicValue>,
    /// Provider-private data.
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
    /// `provider_meta` value.
    #[prost(message, optional, tag = "4")]
    pub provider_meta: Option<DynamicValue>,
}

/// `ReadResource.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadResourceResponse {
    /// Refreshed state.
    #[prost(message, optional, tag = "1")]
    pub new_state: Option<DynamicValue>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
    /// Provider-private data.
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
}

/// `PlanResourceChange.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PlanResourceChangeRequest {
    /// Resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Prior state (null when creating).
    #[prost(message, optional, tag = "2")]
    pub prior_state: Option<DynamicValue>,
    /// Proposed new state.
    #[prost(message, optional, tag = "3")]
    pub proposed_new_state: Option<DynamicValue>,
    /// Configuration.
    #[prost(message, optional, tag = "4")]
    pub config: Option<DynamicValue>,
    /// Provider-private data of the prior state.
    #[prost(bytes = "vec", tag = "5")]
    pub prior_private: Vec<u8>,
    /// `provider_meta` value.
    #[prost(message, optional, tag = "6")]
    pub provider_meta: Option<DynamicValue>,
}

/// `PlanResourceChange.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PlanResourceChangeResponse {
    /// Planned state.
    #[prost(message, optional, tag = "1")]
    pub planned_state: Option<DynamicValue>,
    /// Attributes whose change forces replacement.
    #[prost(message, repeated, tag = "2")]
    pub requires_replace: Vec<AttributePath>,
    /// Provider-private data for apply.
    #[prost(bytes = "vec", tag = "3")]
    pub planned_private: Vec<u8>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "4")]
    pub diagnostics: Vec<Diagnostic>,
    /// Set by the legacy SDK only.
    #[prost(bool, tag = "5")]
    pub legacy_type_system: bool,
}

/// `ApplyResourceChange.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyResourceChangeRequest {
    /// Resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Prior state.
    #[prost(message, optional, tag = "2")]
    pub prior_state: Option<DynamicValue>,
    /// Planned state (null when destroying).
    #[prost(message, optional, tag = "3")]
    pub planned_state: Option<DynamicValue>,
    /// Configuration.
    #[prost(message, optional, tag = "4")]
    pub config: Option<DynamicValue>,
    /// Provider-private data from the plan.
    #[prost(bytes = "vec", tag = "5")]
    pub planned_private: Vec<u8>,
    /// `provider_meta` value.
    #[prost(message, optional, tag = "6")]
    pub provider_meta: Option<DynamicValue>,
}

/// `ApplyResourceChange.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ApplyResourceChangeResponse {
    /// New state.
    #[prost(message, optional, tag = "1")]
    pub new_state: Option<DynamicValue>,
    /// Provider-private data.
    #[prost(bytes = "vec", tag = "2")]
    pub private: Vec<u8>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "3")]
    pub diagnostics: Vec<Diagnostic>,
    /// Set by the legacy SDK only.
    #[prost(bool, tag = "4")]
    pub legacy_type_system: bool,
}

/// `ImportResourceState.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImportResourceStateRequest {
    /// Resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Import ID.
    #[prost(string, tag = "2")]
    pub id: String,
}

/// `ImportResourceState.ImportedResource`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImportedResource {
    /// Resource type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Imported state.
    #[prost(message, optional, tag = "2")]
    pub state: Option<DynamicValue>,
    /// Provider-private data.
    #[prost(bytes = "vec", tag = "3")]
    pub private: Vec<u8>,
}

/// `ImportResourceState.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ImportResourceStateResponse {
    /// Imported resources.
    #[prost(message, repeated, tag = "1")]
    pub imported_resources: Vec<ImportedResource>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// `ReadDataSource.Request`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadDataSourceRequest {
    /// Data source type.
    #[prost(string, tag = "1")]
    pub type_name: String,
    /// Configuration.
    #[prost(message, optional, tag = "2")]
    pub config: Option<DynamicValue>,
    /// `provider_meta` value.
    #[prost(message, optional, tag = "3")]
    pub provider_meta: Option<DynamicValue>,
}

/// `ReadDataSource.Response`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadDataSourceResponse {
    /// The data source's state.
    #[prost(message, optional, tag = "1")]
    pub state: Option<DynamicValue>,
    /// Diagnostics.
    #[prost(message, repeated, tag = "2")]
    pub diagnostics: Vec<Diagnostic>,
}

/// RPC method paths for one protocol major version.
#[derive(Clone, Copy, Debug)]
pub struct Methods {
    /// Provider schema.
    pub get_schema: &'static str,
    /// Provider config validation.
    pub validate_provider_config: &'static str,
    /// Resource config validation.
    pub validate_resource_config: &'static str,
    /// Data source config validation.
    pub validate_data_source_config: &'static str,
    /// State upgrade.
    pub upgrade_resource_state: &'static str,
    /// Provider configuration.
    pub configure: &'static str,
    /// Refresh.
    pub read_resource: &'static str,
    /// Plan.
    pub plan_resource_change: &'static str,
    /// Apply.
    pub apply_resource_change: &'static str,
    /// Import.
    pub import_resource_state: &'static str,
    /// Data source read.
    pub read_data_source: &'static str,
    /// Cancel in-flight operations.
    pub stop: &'static str,
    /// Capabilities and type names without schemas.
    pub get_metadata: &'static str,
    /// Function signatures.
    pub get_functions: &'static str,
    /// Function call.
    pub call_function: &'static str,
    /// State move between resource types.
    pub move_resource_state: &'static str,
}

/// Protocol 5 (`tfplugin5.Provider`).
pub const METHODS_V5: Methods = Methods {
    get_schema: "/tfplugin5.Provider/GetSchema",
    validate_provider_config: "/tfplugin5.Provider/PrepareProviderConfig",
    validate_resource_config: "/tfplugin5.Provider/ValidateResourceTypeConfig",
    validate_data_source_config: "/tfplugin5.Provider/ValidateDataSourceConfig",
    upgrade_resource_state: "/tfplugin5.Provider/UpgradeResourceState",
    configure: "/tfplugin5.Provider/Configure",
    read_resource: "/tfplugin5.Provider/ReadResource",
    plan_resource_change: "/tfplugin5.Provider/PlanResourceChange",
    apply_resource_change: "/tfplugin5.Provider/ApplyResourceChange",
    import_resource_state: "/tfplugin5.Provider/ImportResourceState",
    read_data_source: "/tfplugin5.Provider/ReadDataSource",
    stop: "/tfplugin5.Provider/Stop",
    get_metadata: "/tfplugin5.Provider/GetMetadata",
    get_functions: "/tfplugin5.Provider/GetFunctions",
    call_function: "/tfplugin5.Provider/CallFunction",
    move_resource_state: "/tfplugin5.Provider/MoveResourceState",
};

/// Protocol 6 (`tfplugin6.Provider`).
pub const METHODS_V6: Methods = Methods {
    get_schema: "/tfplugin6.Provider/GetProviderSchema",
    validate_provider_config: "/tfplugin6.Provider/ValidateProviderConfig",
    validate_resource_config: "/tfplugin6.Provider/ValidateResourceConfig",
    validate_data_source_config: "/tfplugin6.Provider/ValidateDataResourceConfig",
    upgrade_resource_state: "/tfplugin6.Provider/UpgradeResourceState",
    configure: "/tfplugin6.Provider/ConfigureProvider",
    read_resource: "/tfplugin6.Provider/ReadResource",
    plan_resource_change: "/tfplugin6.Provider/PlanResourceChange",
    apply_resource_change: "/tfplugin6.Provider/ApplyResourceChange",
    import_resource_state: "/tfplugin6.Provider/ImportResourceState",
    read_data_source: "/tfplugin6.Provider/ReadDataSource",
    stop: "/tfplugin6.Provider/StopProvider",
    get_metadata: "/tfplugin6.Provider/GetMetadata",
    get_functions: "/tfplugin6.Provider/GetFunctions",
    call_function: "/tfplugin6.Provider/CallFunction",
    move_resource_state: "/tfplugin6.Provider/MoveResourceState",
};

/// go-plugin's controller service: asks the plugin process to exit.
pub const CONTROLLER_SHUTDOWN: &str = "/plugin.GRPCController/Shutdown";

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// Wire bytes of the 5.5/6.5 additions, spelled out from the protocol's
    /// field numbers (tag byte = field << 3 | wire type), so a renumbered
    /// field cannot slip through a round trip through the same structs.
    #[test]
    fn function_and_move_messages_on_the_wire() {
        let resp = CallFunctionResponse {
            result: None,
            error: Some(FunctionError {
                text: "x".into(),
                function_argument: Some(1),
            }),
        };
        // error = 2 (message): text = 1 (string), function_argument = 2 (varint)
        assert_eq!(
            resp.encode_to_vec(),
            [0x12, 0x05, 0x0a, 0x01, b'x', 0x10, 0x01]
        );

        let schema = GetProviderSchemaResponse {
            server_capabilities: Some(ServerCapabilities {
                plan_destroy: true,
                get_provider_schema_optional: false,
                move_resource_state: true,
            }),
            functions: [(
                "f".to_string(),
                Function {
                    summary: "s".into(),
                    ..Default::default()
                },
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        // server_capabilities = 6: plan_destroy = 1, move_resource_state = 3;
        // functions = 7: map entry {key = 1: "f", value = 2: {summary = 4: "s"}}
        assert_eq!(
            schema.encode_to_vec(),
            [
                0x32, 0x04, 0x08, 0x01, 0x18, 0x01, 0x3a, 0x08, 0x0a, 0x01, b'f', 0x12, 0x03, 0x22,
                0x01, b's'
            ]
        );

        let param = FunctionParameter {
            name: "n".into(),
            r#type: b"s".to_vec(),
            allow_null_value: true,
            allow_unknown_values: true,
            description: String::new(),
            description_kind: 0,
        };
        let f = Function {
            parameters: vec![param.clone()],
            variadic_parameter: Some(param),
            r#return: Some(FunctionReturn {
                r#type: b"t".to_vec(),
            }),
            summary: "s".into(),
            deprecation_message: "d".into(),
            ..Default::default()
        };
        let p = [0x0a, 0x01, b'n', 0x12, 0x01, b's', 0x18, 0x01, 0x20, 0x01];
        let mut want = vec![0x0a, p.len() as u8];
        want.extend_from_slice(&p);
        want.extend_from_slice(&[0x12, p.len() as u8]);
        want.extend_from_slice(&p);
        want.extend_from_slice(&[
            0x1a, 0x03, 0x0a, 0x01, b't', 0x22, 0x01, b's', 0x3a, 0x01, b'd',
        ]);
        assert_eq!(f.encode_to_vec(), want);

        let mv = MoveResourceStateRequest {
            source_provider_address: "a".into(),
            source_type_name: "b".into(),
            source_schema_version: 2,
            source_state: Some(RawState {
                json: b"{}".to_vec(),
                flatmap: BTreeMap::new(),
            }),
            target_type_name: "c".into(),
            source_private: b"p".to_vec(),
        };
        assert_eq!(
            mv.encode_to_vec(),
            [
                0x0a, 0x01, b'a', 0x12, 0x01, b'b', 0x18, 0x02, 0x22, 0x04, 0x0a, 0x02, b'{', b'}',
                0x2a, 0x01, b'c', 0x32, 0x01, b'p'
            ]
        );

        let md = GetMetadataResponse {
            resources: vec![TypeNameMetadata {
                type_name: "r".into(),
            }],
            functions: vec![FunctionMetadata { name: "f".into() }],
            ..Default::default()
        };
        // resources = 4, functions = 5
        assert_eq!(
            md.encode_to_vec(),
            [0x22, 0x03, 0x0a, 0x01, b'r', 0x2a, 0x03, 0x0a, 0x01, b'f']
        );
    }
}
