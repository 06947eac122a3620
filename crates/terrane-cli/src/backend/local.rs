//! The `local` backend: state files in the working directory, as
//! Terraform's: `default` is `terraform.tfstate` (or `path`), another
//! workspace NAME is `terraform.tfstate.d/NAME/terraform.tfstate` (the
//! directory is `workspace_dir` when set).

use std::path::{Path, PathBuf};

use terrane_state::{
    Backend, BackendConfig, BackendError, BackendType, ConfigAttr, ConfigType, LocalState,
    LocalStateOptions, StateMgr,
};

/// The default directory of the non-default workspaces.
pub const DEFAULT_WORKSPACE_DIR: &str = "terraform.tfstate.d";

/// The default state file of the default workspace.
pub const DEFAULT_STATE_PATH: &str = "terraform.tfstate";

/// Terraform 1.0.3's `local` backend schema.
pub const SCHEMA: &[ConfigAttr] = &[
    ConfigAttr {
        name: "path",
        ty: ConfigType::String,
        required: false,
        sensitive: false,
    },
    ConfigAttr {
        name: "workspace_dir",
        ty: ConfigType::String,
        required: false,
        sensitive: false,
    },
];

/// The `local` entry of the registry.
pub const BACKEND_TYPE: BackendType = BackendType {
    name: "local",
    schema: SCHEMA,
    configure: configure_boxed,
};

fn configure_boxed(config: &BackendConfig) -> Result<Box<dyn Backend>, BackendError> {
    Ok(Box::new(LocalBackend::configure(config)?))
}

/// A configured local backend.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    /// The default workspace's state file.
    pub path: PathBuf,
    /// The directory of the other workspaces.
    pub workspace_dir: PathBuf,
}

impl Default for LocalBackend {
    fn default() -> Self {
        LocalBackend {
            path: PathBuf::from(DEFAULT_STATE_PATH),
            workspace_dir: PathBuf::from(DEFAULT_WORKSPACE_DIR),
        }
    }
}

impl LocalBackend {
    /// From a `backend "local"` configuration.
    pub fn configure(config: &BackendConfig) -> Result<LocalBackend, BackendError> {
        let mut backend = LocalBackend::default();
        let string = |name: &str| -> Result<Option<String>, BackendError> {
            match config.get(name) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) if s.is_empty() => {
                    Err(BackendError::new(format!("{name} must not be empty")))
                }
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(BackendError::new(format!(
                    "{name} must be a string, not {other}"
                ))),
            }
        };
        if let Some(p) = string("path")? {
            backend.path = PathBuf::from(p);
        }
        if let Some(d) = string("workspace_dir")? {
            backend.workspace_dir = PathBuf::from(d);
        }
        Ok(backend)
    }

    /// The state file of `workspace`.
    pub fn state_path(&self, workspace: &str) -> PathBuf {
        if workspace == "default" {
            self.path.clone()
        } else {
            self.workspace_dir
                .join(workspace)
                .join(Path::new(DEFAULT_STATE_PATH))
        }
    }

    /// The state file of `workspace`, creating the directory of a
    /// non-default workspace as Terraform's local backend does (so
    /// `TF_WORKSPACE=NAME` starts a new workspace).
    pub fn prepare_state_path(&self, workspace: &str) -> PathBuf {
        let path = self.state_path(workspace);
        if workspace != "default" {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                // A failure shows up when the state is read or locked.
                let _ = std::fs::create_dir_all(dir);
            }
        }
        path
    }

    /// Every workspace: `default`, then the directories of the workspace
    /// directory in name order.
    pub fn workspace_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.workspace_dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "default")
            .collect();
        names.sort();
        names.insert(0, "default".to_string());
        names
    }
}

impl Backend for LocalBackend {
    fn workspaces(&mut self) -> Result<Vec<String>, BackendError> {
        Ok(self.workspace_names())
    }

    fn delete_workspace(&mut self, name: &str) -> Result<(), BackendError> {
        if name == "default" {
            return Err(BackendError::new("cannot delete default state"));
        }
        let dir = self.workspace_dir.join(name);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BackendError::new(format!("{}: {e}", dir.display()))),
        }
    }

    fn state_mgr(&mut self, workspace: &str) -> Result<Box<dyn StateMgr>, BackendError> {
        let path = self.prepare_state_path(workspace);
        Ok(Box::new(LocalState::new(LocalStateOptions::new(path))))
    }
}
