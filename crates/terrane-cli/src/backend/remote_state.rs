//! The backends `terraform_remote_state` reads: the registry of
//! [`backend_types`](super::backend_types), handed to the built-in
//! `terraform` provider by the provider factory.

use terrane_providers::{BackendArgument, BackendResolver, RemoteStateError};
use terrane_state::{serialize, ConfigType, State, StateFile};
use terrane_value::Type;

/// Every backend of the registry, read only.
pub struct RegistryBackends;

fn argument_type(ty: ConfigType) -> Type {
    match ty {
        ConfigType::String => Type::String,
        ConfigType::Bool => Type::Bool,
        ConfigType::Number => Type::Number,
        ConfigType::ListOfString => Type::list(Type::String),
        ConfigType::MapOfString => Type::map(Type::String),
    }
}

impl BackendResolver for RegistryBackends {
    fn arguments(&self, backend: &str) -> Option<Vec<BackendArgument>> {
        let kind = super::backend_type(backend)?;
        Some(
            kind.schema
                .iter()
                .map(|a| BackendArgument {
                    name: a.name.to_string(),
                    ty: argument_type(a.ty),
                    required: a.required,
                })
                .collect(),
        )
    }

    fn read_state(
        &self,
        backend: &str,
        config: &serde_json::Map<String, serde_json::Value>,
        workspace: &str,
    ) -> Result<Option<Vec<u8>>, RemoteStateError> {
        let kind = super::backend_type(backend).ok_or_else(|| {
            RemoteStateError::Configure(format!("There is no backend type named {backend:?}."))
        })?;
        let mut configured =
            (kind.configure)(config).map_err(|e| RemoteStateError::Configure(e.message))?;
        let mut mgr = configured
            .state_mgr(workspace)
            .map_err(|e| RemoteStateError::Workspace(e.message))?;
        // Refresh reads without locking; nothing is written.
        let stored = mgr
            .refresh()
            .map_err(|e| RemoteStateError::Read(e.to_string()))?;
        // Only the outputs matter: the document carries no resources.
        Ok(stored.map(|file| {
            serialize(&StateFile {
                terraform_version: file.terraform_version.clone(),
                serial: file.serial,
                lineage: file.lineage.clone(),
                state: State {
                    outputs: file.state.outputs.clone(),
                    ..State::default()
                },
            })
            .into_bytes()
        }))
    }
}
