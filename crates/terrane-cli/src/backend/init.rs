//! The backend step of `init`: decode the `backend` block and
//! `-backend-config`, compare with what `.terraform/terraform.tfstate`
//! records, migrate state between backends when asked (`-migrate-state`,
//! `-force-copy`, and the first configuration of a remote backend over
//! existing local state), and record the new backend. Messages are
//! Terraform 1.0.3's.

use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_state::{BackendConfig, BackendType};

use super::config::{self, BackendStateFile, Recorded};
use super::{backend_type, configure_recorded, local::LocalBackend, ActiveBackend};

/// The backend flags of `init`.
#[derive(Debug, Clone, Default)]
pub struct BackendFlags {
    /// `-backend-config` arguments, in order.
    pub configs: Vec<String>,
    /// `-reconfigure`.
    pub reconfigure: bool,
    /// `-migrate-state`.
    pub migrate: bool,
    /// `-force-copy`: migrate and answer "yes".
    pub force_copy: bool,
    /// `-input` (false: no questions).
    pub input: bool,
    /// `-lock`.
    pub lock: bool,
    /// `-lock-timeout`.
    pub lock_timeout: std::time::Duration,
}

/// What `init` prints after the heading.
pub enum Outcome {
    /// Nothing changed (or no backend).
    Unchanged,
    /// "Successfully configured the backend ..."
    Configured(String),
    /// "Successfully unset the backend ..."
    Unset(String),
}

fn err(summary: &str, detail: impl Into<String>) -> Diagnostics {
    Diagnostics::from(Diagnostic::error(summary, detail))
}

/// Runs the backend step for the root module's `block`.
pub fn init_backend(
    block: Option<&terrane_config::Backend>,
    flags: &BackendFlags,
) -> Result<Outcome, Diagnostics> {
    let record_path = config::record_path();
    let record =
        config::read_record(&record_path).map_err(|e| err("Failed to load backend state", e))?;
    let previous = record.as_ref().and_then(|r| r.backend.clone());
    let Some(block) = block else {
        if !flags.configs.is_empty() {
            return Err(err(
                "Missing backend configuration",
                "-backend-config was used without a \"backend\" block in the configuration.\n\nIf you intended to override the default local backend configuration,\nno action is required, but you may add an explicit backend block to your\nconfiguration to clear this warning:\n\nterraform {\n  backend \"local\" {}\n}\n\nHowever, if you intended to override a defined backend, please verify that\nthe backend configuration is present and valid.",
            ));
        }
        return match previous {
            None => Ok(Outcome::Unchanged),
            Some(prev) => {
                println!(
                    "Terraform has detected you're unconfiguring your previously set {:?} backend.",
                    prev.kind
                );
                if !flags.reconfigure && prev.kind != "local" {
                    let from = configure_recorded(&prev)?;
                    migrate(
                        from,
                        &prev.kind,
                        ActiveBackend::Local(LocalBackend::default()),
                        "local",
                        flags,
                    )?;
                }
                write(record, None)?;
                Ok(Outcome::Unset(prev.kind))
            }
        };
    };
    let Some(kind) = backend_type(&block.kind) else {
        return Err(Diagnostics::from(
            Diagnostic::error(
                "Invalid backend type",
                format!("There is no backend type named {:?}.", block.kind),
            )
            .with_subject(&block.range.file, block.range.span),
        ));
    };
    let (block_config, mut diags) =
        config::decode_body(&block.config.body, &block.config.file, kind);

    let mut merged = block_config.clone();
    for arg in &flags.configs {
        diags.extend(config::parse_backend_config_arg(arg, kind, &mut merged));
    }
    if !diags.has_errors() {
        diags.extend(config::check_required(&merged, kind));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    // The record lists the arguments Terraform 1.0.3 knows when that
    // suffices, and the hash covers the same ones.
    let names = config::recorded_names(kind, &merged);
    let new_record = Recorded {
        kind: kind.name.to_string(),
        config: config::complete_over(&merged, &names),
        hash: config::hash_over(kind.name, &names, &block_config),
    };
    let unchanged = previous.as_ref().is_some_and(|p| {
        p.kind == new_record.kind
            && if flags.configs.is_empty() {
                super::record_matches(p, kind, &block_config)
            } else {
                super::same_settings(&p.config, &new_record.config)
            }
    });
    // The new backend must accept its configuration before anything moves.
    let new_backend = configure(kind, &merged)?;
    if unchanged {
        return Ok(Outcome::Unchanged);
    }
    match &previous {
        // A changed configuration needs an explicit choice.
        Some(_) if !flags.reconfigure && !flags.migrate && !flags.force_copy => {
            return Err(err(
                "Backend configuration changed",
                "A change in the backend configuration has been detected, which may require\nmigrating existing state.\n\nIf you wish to attempt automatic migration of the state, use \"terraform init\n-migrate-state\".\nIf you wish to store the current configuration with no changes to the state,\nuse \"terraform init -reconfigure\".",
            ));
        }
        _ if flags.reconfigure => {}
        Some(prev) => {
            let from = configure_recorded(prev)?;
            migrate(from, &prev.kind, new_backend, kind.name, flags)?;
        }
        // First configuration: local state, if any, may move to it.
        None if kind.name != "local" => {
            let from = ActiveBackend::Local(LocalBackend::default());
            migrate(from, "local", new_backend, kind.name, flags)?;
        }
        None => {}
    }
    write(record, Some(new_record))?;
    Ok(Outcome::Configured(kind.name.to_string()))
}

fn configure(kind: &BackendType, config: &BackendConfig) -> Result<ActiveBackend, Diagnostics> {
    if kind.name == "local" {
        return LocalBackend::configure(config)
            .map(ActiveBackend::Local)
            .map_err(|e| Diagnostics::from(super::configure_error("local", &e)));
    }
    (kind.configure)(config)
        .map(|backend| ActiveBackend::Remote {
            kind: kind.name.to_string(),
            backend,
        })
        .map_err(|e| Diagnostics::from(super::configure_error(kind.name, &e)))
}

fn write(previous: Option<BackendStateFile>, backend: Option<Recorded>) -> Result<(), Diagnostics> {
    let file = match previous {
        Some(p) => BackendStateFile {
            serial: p.serial + 1,
            lineage: if p.lineage.is_empty() {
                terrane_state::new_lineage()
            } else {
                p.lineage
            },
            backend,
        },
        None => BackendStateFile {
            serial: 1,
            lineage: terrane_state::new_lineage(),
            backend,
        },
    };
    config::write_record(&config::record_path(), &file).map_err(|e| {
        err(
            "Failed to save backend state",
            format!("Error saving the backend configuration: {e}"),
        )
    })
}

/// Copies every workspace with state from `from` to `to`, after asking
/// (unless `-force-copy`).
fn migrate(
    mut from: ActiveBackend,
    from_name: &str,
    mut to: ActiveBackend,
    to_name: &str,
    flags: &BackendFlags,
) -> Result<(), Diagnostics> {
    let lock = crate::commands::statefile::LockOptions {
        lock: flags.lock,
        timeout: flags.lock_timeout,
    };
    let names = from.workspaces().map_err(|e| {
        err(
            "Error loading state",
            format!("Failed to list the workspaces of the previous backend: {e}"),
        )
    })?;
    // Every workspace that has state, with it.
    let mut sources = Vec::new();
    for name in names {
        let mut mgr = from
            .state_mgr(&name)
            .map_err(|e| err("Error loading state", e.to_string()))?;
        let file = mgr
            .refresh()
            .map_err(|e| err("Error loading state", e.to_string()))?
            .cloned();
        if let Some(f) =
            file.filter(|f| !f.state.resources.is_empty() || !f.state.outputs.is_empty())
        {
            sources.push((name, mgr, f));
        }
    }
    if sources.is_empty() {
        return Ok(());
    }
    let question = if sources.len() == 1 && sources[0].0 == "default" {
        format!("Do you want to copy existing state to the new backend?\n  Pre-existing state was found while migrating the previous {from_name:?} backend to the\n  newly configured {to_name:?} backend. No existing state was found in the newly\n  configured {to_name:?} backend. Do you want to copy this state to the new {to_name:?}\n  backend? Enter \"yes\" to copy and \"no\" to start with an empty state.\n\n  Enter a value: ")
    } else {
        format!("Do you want to migrate all workspaces to {to_name:?}?\n  Both the existing {from_name:?} backend and the newly configured {to_name:?} backend\n  support workspaces. When migrating between backends, Terraform will copy\n  all workspaces (with the same names). THIS WILL OVERWRITE any conflicting\n  states in the destination.\n\n  Terraform initialization doesn't currently migrate only select workspaces.\n  If you want to migrate a select number of workspaces, you must manually\n  pull and push those states.\n\n  If you answer \"yes\", Terraform will migrate all states. If you answer\n  \"no\", Terraform will abort.\n\n  Enter a value: ")
    };
    if !flags.force_copy {
        if !flags.input {
            return Err(err(
                "error asking for state migration action: input disabled",
                "",
            ));
        }
        if !crate::commands::force_unlock::ask_yes(&question) {
            if sources.len() == 1 {
                // "no": start with an empty state in the new backend.
                return Ok(());
            }
            return Err(err("Migration aborted by user.", ""));
        }
    }
    for (name, _source, file) in sources {
        let failed = |e: String| {
            err(
                "Error migrating the workspace",
                format!("Error migrating the workspace {name:?} from the previous {from_name:?} backend\nto the newly configured {to_name:?} backend:\n    {e}"),
            )
        };
        let mut target = to.state_mgr(&name).map_err(|e| failed(e.to_string()))?;
        let lock_id = if lock.lock {
            Some(
                target
                    .lock_with_timeout("migration destination state", "", lock.timeout)
                    .map_err(|e| Diagnostics::from(crate::commands::statefile::lock_error(&e)))?,
            )
        } else {
            None
        };
        let copied = target
            .refresh()
            .map(|_| ())
            .and_then(|_| target.write_file(&file, true).map(|_| ()))
            .map_err(|e| failed(e.to_string()));
        if let Some(id) = lock_id {
            let _ = target.unlock(&id);
        }
        copied?;
        // As Terraform: the local state it migrated from is emptied, its
        // content kept in the backup.
        if let ActiveBackend::Local(l) = &from {
            let path = l.state_path(&name);
            empty_local_state(&path).map_err(failed)?;
        }
    }
    Ok(())
}

/// Keeps `path`'s content as `<path>.backup` and leaves it empty.
fn empty_local_state(path: &std::path::Path) -> Result<(), String> {
    let content = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut backup = path.as_os_str().to_owned();
    backup.push(".backup");
    terrane_state::atomic_write(std::path::Path::new(&backup), &content, None)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::write(path, b"").map_err(|e| format!("{}: {e}", path.display()))
}
