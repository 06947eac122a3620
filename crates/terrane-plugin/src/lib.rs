//! terrane-plugin: the [`Provider`] trait and the client for Terraform
//! provider plugins (go-plugin handshake, AutoMTLS, gRPC protocols 5 and 6).
//!
//! * [`Provider`]: what the engine calls, for plugins and built-in
//!   providers alike (blocking; see its docs).
//! * [`GrpcProvider`]: starts a plugin binary ([`PluginConfig`]) or
//!   reattaches to one ([`parse_reattach_providers`]) and implements
//!   [`Provider`] over gRPC.
//! * [`ProviderSchema`]: schemas as terrane types, with
//!   [`Block::implied_type`]; [`schema_json`] renders
//!   `terraform providers schema -json`.
//! * [`proto`]: the protocol's wire messages, written by hand.

#![warn(missing_docs)]

mod client;
mod diag;
pub mod handshake;
pub mod logging;
pub mod proto;
mod provider;
mod schema;
mod schema_cache;
mod tls;

pub use client::{
    parse_reattach_providers, GrpcProvider, PluginConfig, PluginError, ReattachConfig, Timeouts,
};
pub use diag::{path_from_proto, path_to_proto, Diagnostic, Diagnostics, Severity};
pub use logging::{Level, LogConfig};
pub use provider::*;
pub use schema::{
    schema_json, schema_to_json, to_go_json, Attribute, Block, FunctionParameter,
    FunctionSignature, NestedBlock, NestedObject, NestingMode, ProviderSchema, Schema,
    ServerCapabilities, StringKind,
};
pub use schema_cache::{CacheLookup, SchemaCache};
