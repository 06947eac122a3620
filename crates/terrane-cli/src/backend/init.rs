//! The backend step of `init`: decode the `backend` block and
//! `-backend-config`, compare with what `.terraform/terraform.tfstate`
//! records, migrate state between backends when asked (`-migrate-state`,
//! `-force-copy`, and the first configuration of a remote backend over
//! existing local state), and record the new backend. Messages are
//! Terraform 1.0.3's.

use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_state::{BackendConfig, BackendType, StateMgr};

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
                        false,
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
            println!("Backend configuration changed!\n\nTerraform has detected that the configuration specified for the backend\nhas changed. Terraform will now check for existing state in the backends.\n\n");
            let from = configure_recorded(prev)?;
            migrate(from, &prev.kind, new_backend, kind.name, flags, false)?;
        }
        // First configuration: local state, if any, may move to it (also
        // to a local backend with other paths; the same files stay put).
        None => {
            let from = ActiveBackend::Local(LocalBackend::default());
            migrate(from, "local", new_backend, kind.name, flags, true)?;
        }
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

/// A state manager, locked for the migration when `-lock` is on; the lock
/// is released when it is dropped, on every path out of [`migrate`].
struct LockedState {
    mgr: Box<dyn StateMgr>,
    lock_id: Option<String>,
}

impl LockedState {
    fn new(
        mut mgr: Box<dyn StateMgr>,
        operation: &str,
        lock: &crate::commands::statefile::LockOptions,
    ) -> Result<LockedState, Diagnostics> {
        let lock_id = if lock.lock {
            Some(
                mgr.lock_with_timeout(operation, "", lock.timeout)
                    .map_err(|e| Diagnostics::from(crate::commands::statefile::lock_error(&e)))?,
            )
        } else {
            None
        };
        Ok(LockedState { mgr, lock_id })
    }
}

impl Drop for LockedState {
    fn drop(&mut self) {
        if let Some(id) = self.lock_id.take() {
            // The migration's outcome is already decided; a failed unlock
            // leaves a lock `force-unlock` can remove.
            let _ = self.mgr.unlock(&id);
        }
    }
}

fn has_content(file: &terrane_state::StateFile) -> bool {
    !file.state.is_empty()
}

/// Whether `workspace` is the very same file in two local backends (a
/// `workspace_dir` change leaves `default` where it was): nothing to copy.
fn same_local_file(from: &ActiveBackend, to: &ActiveBackend, workspace: &str) -> bool {
    match (from, to) {
        (ActiveBackend::Local(a), ActiveBackend::Local(b)) => {
            let (pa, pb) = (a.state_path(workspace), b.state_path(workspace));
            pa == pb || matches!((pa.canonicalize(), pb.canonicalize()), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

/// Whether a backend type has workspaces other than `default`.
fn supports_workspaces(kind: &str) -> bool {
    kind != "http"
}

/// Copies every workspace with state from `from` to `to`, after asking
/// (unless `-force-copy`), with both sides locked as Terraform does.
/// `erase_source`: the implicit local state of a first configuration is
/// emptied afterwards (kept in the backup); a recorded backend's is not.
fn migrate(
    mut from: ActiveBackend,
    from_name: &str,
    mut to: ActiveBackend,
    to_name: &str,
    flags: &BackendFlags,
    erase_source: bool,
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
    let source_workspaces = names.len();
    // Every workspace that has state, locked, with its state.
    let mut sources = Vec::new();
    for name in names {
        if same_local_file(&from, &to, &name) {
            continue;
        }
        let mgr = from
            .state_mgr(&name)
            .map_err(|e| err("Error loading state", e.to_string()))?;
        let mut source = LockedState::new(mgr, "migration source state", &lock)?;
        let file = source
            .mgr
            .refresh()
            .map_err(|e| err("Error loading state", e.to_string()))?
            .cloned();
        if let Some(f) = file.filter(has_content) {
            sources.push((name, source, f));
        }
    }
    if sources.is_empty() {
        return Ok(());
    }
    let failed = |name: &str, e: String| {
        err(
            "Error migrating the workspace",
            format!("Error migrating the workspace {name:?} from the previous {from_name:?} backend\nto the newly configured {to_name:?} backend:\n    {e}"),
        )
    };
    let with_state: Vec<String> = sources.iter().map(|(name, _, _)| name.clone()).collect();
    let mut single = sources.len() == 1 && sources[0].0 == "default";
    // Several workspaces into a backend with only `default` (http): only
    // the current workspace can go, after Terraform's question.
    if source_workspaces > 1 && !supports_workspaces(to_name) {
        if !flags.force_copy {
            if !flags.input {
                return Err(err(
                    "Error asking for state migration action: input is disabled",
                    "",
                ));
            }
            let current = crate::commands::statefile::current_workspace();
            println!("Destination state {to_name:?} doesn't support workspaces.");
            if !crate::commands::force_unlock::ask_yes(&format!("Do you want to copy only your current workspace?\n  The existing {from_name:?} backend supports workspaces and you currently are\n  using more than one. The newly configured {to_name:?} backend doesn't support\n  workspaces. If you continue, Terraform will copy your current workspace {current:?}\n  to the default workspace in the target backend. Your existing workspaces in the\n  source backend won't be modified. If you want to switch workspaces, back them\n  up, or cancel altogether, answer \"no\" and Terraform will abort.\n\n  Enter a value: ")) {
                return Err(err("Migration aborted by user.", ""));
            }
        }
        let current = crate::commands::statefile::current_workspace();
        sources.retain(|(name, _, _)| *name == current);
        if sources.is_empty() {
            return Ok(());
        }
        single = true;
    }
    if single {
        let mgr = to
            .state_mgr("default")
            .map_err(|e| failed("default", e.to_string()))?;
        let mut target = LockedState::new(mgr, "migration destination state", &lock)?;
        let existing = target
            .mgr
            .refresh()
            .map_err(|e| failed("default", e.to_string()))?
            .cloned()
            .filter(has_content);
        let copy = flags.force_copy
            || {
                if !flags.input {
                    return Err(err(
                        "error asking for state migration action: input disabled",
                        "",
                    ));
                }
                match &existing {
                None => crate::commands::force_unlock::ask_yes(&format!("Do you want to copy existing state to the new backend?\n  Pre-existing state was found while migrating the previous {from_name:?} backend to the\n  newly configured {to_name:?} backend. No existing state was found in the newly\n  configured {to_name:?} backend. Do you want to copy this state to the new {to_name:?}\n  backend? Enter \"yes\" to copy and \"no\" to start with an empty state.\n\n  Enter a value: ")),
                Some(dest) => ask_overwrite(&sources[0].2, from_name, dest, to_name)?,
            }
            };
        // "no": the new backend keeps what it has (or starts empty); the
        // implicit local state is emptied all the same, as Terraform does.
        // Terraform's wording for a failed single-state copy: one line of
        // summary, no detail.
        if copy {
            target.mgr.write_file(&sources[0].2, true).map_err(|e| {
            err(
                &format!("Error copying state from the previous {from_name:?} backend to the newly configured \n{to_name:?} backend:\n    Failed to upload state: {e}\n\nThe state in the previous backend remains intact and unmodified. Please resolve\nthe error above and try again."),
                "",
            )
        })?;
        }
    } else {
        if !flags.force_copy {
            if !flags.input {
                return Err(err(
                    "Error asking for state migration action: input is disabled",
                    "",
                ));
            }
            let question = format!("Do you want to migrate all workspaces to {to_name:?}?\n  Both the existing {from_name:?} backend and the newly configured {to_name:?} backend\n  support workspaces. When migrating between backends, Terraform will copy\n  all workspaces (with the same names). THIS WILL OVERWRITE any conflicting\n  states in the destination.\n  \n  Terraform initialization doesn't currently migrate only select workspaces.\n  If you want to migrate a select number of workspaces, you must manually\n  pull and push those states.\n  \n  If you answer \"yes\", Terraform will migrate all states. If you answer\n  \"no\", Terraform will abort.\n\n  Enter a value: ");
            if !crate::commands::force_unlock::ask_yes(&question) {
                return Err(err("Migration aborted by user.", ""));
            }
        }
        // One answer covers every workspace: conflicting states are
        // overwritten without a second question, as the prompt says.
        for (name, _source, file) in &sources {
            let mgr = to
                .state_mgr(name)
                .map_err(|e| failed(name, e.to_string()))?;
            let mut target = LockedState::new(mgr, "migration destination state", &lock)?;
            target
                .mgr
                .refresh()
                .map(|_| ())
                .and_then(|_| target.mgr.write_file(file, true).map(|_| ()))
                .map_err(|e| failed(name, e.to_string()))?;
        }
    }
    if erase_source {
        // Unlocked first: releasing a local lock removes an empty state
        // file, and Terraform leaves the emptied file in place.
        drop(sources);
        if let ActiveBackend::Local(l) = &from {
            // As Terraform: every local state migrated away from (also
            // the workspaces an http destination could not take) is
            // emptied, its content kept in the backup.
            for name in &with_state {
                empty_local_state(&l.state_path(name)).map_err(|e| failed(name, e))?;
            }
        }
    }
    Ok(())
}

/// Terraform's second question, when the new backend already has a
/// non-empty state: both states are shown in temporary files, removed
/// once answered. `Ok(true)`: overwrite the new backend's state.
fn ask_overwrite(
    previous: &terrane_state::StateFile,
    from_name: &str,
    existing: &terrane_state::StateFile,
    to_name: &str,
) -> Result<bool, Diagnostics> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("terraform{}{stamp}", std::process::id()));
    let previous_path = dir.join(format!("1-{from_name}.tfstate"));
    let existing_path = dir.join(format!("2-{to_name}.tfstate"));
    let written = std::fs::create_dir_all(&dir)
        .and_then(|_| std::fs::write(&previous_path, terrane_state::serialize(previous)))
        .and_then(|_| std::fs::write(&existing_path, terrane_state::serialize(existing)));
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(err(
            "Error saving temporary state files",
            format!(
                "The states to compare could not be saved in {}: {e}",
                dir.display()
            ),
        ));
    }
    let answer = crate::commands::force_unlock::ask_yes(&format!("Do you want to copy existing state to the new backend?\n  Pre-existing state was found while migrating the previous {from_name:?} backend to the\n  newly configured {to_name:?} backend. An existing non-empty state already exists in\n  the new backend. The two states have been saved to temporary files that will be\n  removed after responding to this query.\n  \n  Previous (type {from_name:?}): {}\n  New      (type {to_name:?}): {}\n  \n  Do you want to overwrite the state in the new backend with the previous state?\n  Enter \"yes\" to copy and \"no\" to start with the existing state in the newly\n  configured {to_name:?} backend.\n\n  Enter a value: ", previous_path.display(), existing_path.display()));
    let _ = std::fs::remove_dir_all(&dir);
    Ok(answer)
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
