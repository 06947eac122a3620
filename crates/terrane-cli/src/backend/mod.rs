//! The backends `terraform { backend "TYPE" { ... } }` can name, and the
//! configuration `init` records for them in `.terraform/terraform.tfstate`.
//!
//! Each backend type is a [`BackendType`]: its schema (the arguments `init`
//! decodes the block and `-backend-config` against) and a constructor. A
//! backend crate adds one line to [`backend_types`].

pub mod config;
pub mod http;
pub mod init;
pub mod local;
pub mod remote_state;

use terrane_state::BackendType;

/// Every backend type terrane knows, by name.
pub fn backend_types() -> &'static [BackendType] {
    static TYPES: &[BackendType] = &[
        local::BACKEND_TYPE,
        http::BACKEND_TYPE,
        terrane_backend_s3::BACKEND_TYPE,
        terrane_backend_pg::BACKEND,
        // One line per further backend crate, e.g. `terrane_backend_s3::BACKEND_TYPE`.
    ];
    TYPES
}

/// The backend type called `name`.
pub fn backend_type(name: &str) -> Option<&'static BackendType> {
    backend_types().iter().find(|t| t.name == name)
}

use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_state::{Backend, BackendConfig, BackendError, StateMgr};

/// The backend of the working directory, as `init` recorded it and the
/// configuration still has it.
pub enum ActiveBackend {
    /// The local backend (also when nothing is configured).
    Local(local::LocalBackend),
    /// Any other backend.
    Remote {
        /// Its type name.
        kind: String,
        /// The configured backend.
        backend: Box<dyn Backend>,
    },
}

impl ActiveBackend {
    /// The workspaces.
    pub fn workspaces(&mut self) -> Result<Vec<String>, BackendError> {
        match self {
            ActiveBackend::Local(l) => l.workspaces(),
            ActiveBackend::Remote { backend, .. } => backend.workspaces(),
        }
    }

    /// The state manager of `workspace`.
    pub fn state_mgr(&mut self, workspace: &str) -> Result<Box<dyn StateMgr>, BackendError> {
        match self {
            ActiveBackend::Local(l) => l.state_mgr(workspace),
            ActiveBackend::Remote { backend, .. } => backend.state_mgr(workspace),
        }
    }

    /// Deletes a workspace.
    pub fn delete_workspace(&mut self, name: &str) -> Result<(), BackendError> {
        match self {
            ActiveBackend::Local(l) => l.delete_workspace(name),
            ActiveBackend::Remote { backend, .. } => backend.delete_workspace(name),
        }
    }
}

/// Terraform's "Backend initialization required" error with `reason`.
pub fn init_required(reason: &str) -> Diagnostic {
    Diagnostic::error(
        "Backend initialization required, please run \"terraform init\"",
        format!(
            "Reason: {reason}\n\nThe \"backend\" is the interface that Terraform uses to store state,\nperform operations, etc. If this message is showing up, it means that the\nTerraform configuration you're using is using a custom configuration for\nthe Terraform backend.\n\nChanges to backend configurations require reinitialization. This allows\nTerraform to set up the new configuration, copy existing state, etc. Please\nrun\n\"terraform init\" with either the \"-reconfigure\" or \"-migrate-state\" flags to\nuse the current configuration.\n\nIf the change reason above is incorrect, please verify your configuration\nhasn't changed and try again. At this point, no changes to your existing\nconfiguration or state have been made."
        ),
    )
}

/// Whether the recorded configuration still matches the block: the same
/// type and the same hash (Terraform's, so records written by either tool
/// compare alike; `-backend-config` values are not part of the hash). The
/// hash is taken over the arguments the record lists: a record Terraform
/// 1.0.3 wrote lacks the arguments of newer schemas, which the block then
/// must not set.
pub fn record_matches(rec: &config::Recorded, kind: &BackendType, block: &BackendConfig) -> bool {
    if rec.kind != kind.name || !block.keys().all(|k| rec.config.contains_key(k)) {
        return false;
    }
    let mut names: Vec<&str> = rec.config.keys().map(String::as_str).collect();
    names.sort_unstable();
    rec.hash == config::hash_over(kind.name, &names, block)
}

/// Whether two recorded configurations set the same values (unset and
/// null alike).
pub fn same_settings(a: &BackendConfig, b: &BackendConfig) -> bool {
    let set = |c: &BackendConfig| -> Vec<(String, serde_json::Value)> {
        let mut v: Vec<_> = c
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort_by(|x, y| x.0.cmp(&y.0));
        v
    };
    set(a) == set(b)
}

/// Configures a recorded backend.
pub fn configure_recorded(rec: &config::Recorded) -> Result<ActiveBackend, Diagnostics> {
    let Some(kind) = backend_type(&rec.kind) else {
        return Err(Diagnostics::from(unknown_type(&rec.kind)));
    };
    // Null arguments are unset.
    let cfg: BackendConfig = rec
        .config
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if kind.name == "local" {
        return local::LocalBackend::configure(&cfg)
            .map(ActiveBackend::Local)
            .map_err(|e| Diagnostics::from(configure_error(kind.name, &e)));
    }
    (kind.configure)(&cfg)
        .map(|backend| ActiveBackend::Remote {
            kind: kind.name.to_string(),
            backend,
        })
        .map_err(|e| Diagnostics::from(configure_error(kind.name, &e)))
}

/// Terraform's error for a backend type it does not know.
pub fn unknown_type(name: &str) -> Diagnostic {
    Diagnostic::error(
        "Invalid backend type",
        format!("There is no backend type named {name:?}."),
    )
}

/// A backend that refused its configuration.
pub fn configure_error(kind: &str, e: &BackendError) -> Diagnostic {
    Diagnostic::error(
        format!("Error configuring the backend {kind:?}"),
        format!("{e}\n\nPlease update the configuration in your Terraform files to fix this error\nthen run this command again."),
    )
}

/// The active backend for a root module whose `backend` block is `block`:
/// the recorded one when it still matches the block, the local backend
/// when neither exists; otherwise Terraform's "Backend initialization
/// required".
pub fn active(block: Option<&terrane_config::Backend>) -> Result<ActiveBackend, Diagnostics> {
    let path = config::record_path();
    let record = config::read_record(&path)
        .map_err(|e| Diagnostics::from(Diagnostic::error("Failed to load backend state", e)))?;
    let recorded = record.and_then(|r| r.backend);
    match (block, recorded) {
        (None, None) => Ok(ActiveBackend::Local(local::LocalBackend::default())),
        (None, Some(rec)) if rec.kind == "local" => configure_recorded(&rec),
        (None, Some(rec)) => Err(Diagnostics::from(init_required(&format!(
            "Unsetting the previously set backend {:?}",
            rec.kind
        )))),
        (Some(b), rec) => {
            let Some(kind) = backend_type(&b.kind) else {
                return Err(Diagnostics::from(unknown_type(&b.kind)));
            };
            let (cfg, diags) = config::decode_body(&b.config.body, &b.config.file, kind);
            if diags.has_errors() {
                return Err(diags);
            }
            match rec {
                Some(rec) if record_matches(&rec, kind, &cfg) => configure_recorded(&rec),
                Some(rec) if rec.kind != kind.name => {
                    Err(Diagnostics::from(init_required(&format!(
                        "Backend configuration changed from {:?} to {:?}",
                        rec.kind, kind.name
                    ))))
                }
                Some(rec) => Err(Diagnostics::from(init_required(&format!(
                    "Backend configuration changed for {:?}",
                    rec.kind
                )))),
                // A local block works without init (as before remote
                // backends existed); any other needs it.
                None if kind.name == "local" => local::LocalBackend::configure(&cfg)
                    .map(ActiveBackend::Local)
                    .map_err(|e| Diagnostics::from(configure_error("local", &e))),
                None => Err(Diagnostics::from(init_required(&format!(
                    "Initial configuration of the requested backend {:?}",
                    kind.name
                )))),
            }
        }
    }
}

/// [`active`] for the configuration in the working directory (only the
/// root module's `terraform` blocks are looked at; a configuration that
/// does not load is left to the command to report).
pub fn active_for_working_dir() -> Result<ActiveBackend, Diagnostics> {
    let (module, _) = terrane_config::load_module(std::path::Path::new("."), "");
    active(module.terraform.backend.as_ref())
}
