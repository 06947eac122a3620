//! What the commands share about the state: the selected workspace
//! (`TF_WORKSPACE`, else `.terraform/environment`, else `default`), where
//! its state is (a file of the local backend or `-state`, or a remote
//! backend's workspace), and opening it (lock, read, fold a journal left
//! by a crash) through the backend's [`StateMgr`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use terrane_hcl::Diagnostic;
use terrane_state::journal::Journal;
use terrane_state::{Backup, LocalState, LocalStateOptions, LockError, StateFile, StateMgr};

use crate::backend::{self, ActiveBackend};

use crate::ui::Ui;

/// The data directory (`TF_DATA_DIR`, default `.terraform`).
pub fn data_dir() -> PathBuf {
    match std::env::var_os("TF_DATA_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(".terraform"),
    }
}

/// The file recording the selected workspace.
pub fn environment_file() -> PathBuf {
    data_dir().join("environment")
}

/// Whether `TF_WORKSPACE` overrides the selected workspace.
pub fn workspace_overridden() -> bool {
    std::env::var("TF_WORKSPACE").is_ok_and(|w| !w.is_empty())
}

/// The selected workspace: `TF_WORKSPACE`, else the name recorded in
/// `.terraform/environment`, else `default`.
pub fn current_workspace() -> String {
    if let Ok(w) = std::env::var("TF_WORKSPACE") {
        if !w.is_empty() {
            return w;
        }
    }
    match std::fs::read_to_string(environment_file()) {
        Ok(s) if !s.trim().is_empty() => s.trim().to_string(),
        _ => "default".to_string(),
    }
}

/// Parses a `-lock-timeout` duration as Go's `time.ParseDuration` does
/// for the common forms (`0s`, `500ms`, `1m30s`, `2h`).
pub fn parse_duration(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = s;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_end] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_end..];
    }
    Some(Duration::from_secs_f64(total))
}

/// The text Terraform prints when a state command finds no state.
pub const NO_STATE: &str = "No state file was found!\n\nState management commands require a state file. Run this command\nin a directory where Terraform has been run or use the -state flag\nto point the command to a specific state location.";

/// A timestamped backup path as Terraform's state commands write it:
/// `<state>.<unix seconds>.backup`.
pub fn timestamped_backup(state: &Path) -> PathBuf {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let mut p = state.as_os_str().to_owned();
    p.push(format!(".{secs}.backup"));
    PathBuf::from(p)
}

/// Where a command's state is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// A state file: the local backend's, or `-state PATH`.
    File(PathBuf),
    /// A workspace of the remote backend `init` configured.
    Remote {
        /// The backend type.
        kind: String,
        /// The workspace.
        workspace: String,
    },
}

impl From<&Path> for StateLocation {
    fn from(p: &Path) -> Self {
        StateLocation::File(p.to_path_buf())
    }
}

impl From<&PathBuf> for StateLocation {
    fn from(p: &PathBuf) -> Self {
        StateLocation::File(p.clone())
    }
}

impl From<&StateLocation> for StateLocation {
    fn from(l: &StateLocation) -> Self {
        l.clone()
    }
}

impl StateLocation {
    /// The path a crash journal is kept beside: the state file itself, or
    /// for remote state a file per workspace in the data directory (the
    /// journal is pushed to the backend when it is folded).
    pub fn journal_anchor(&self) -> PathBuf {
        match self {
            StateLocation::File(p) => p.clone(),
            StateLocation::Remote { workspace, .. } => data_dir()
                .join("remote-journal")
                .join(workspace)
                .join("terraform.tfstate"),
        }
    }

    /// The local state file, if that is where the state is.
    pub fn file(&self) -> Option<&Path> {
        match self {
            StateLocation::File(p) => Some(p),
            StateLocation::Remote { .. } => None,
        }
    }
}

/// Where the selected workspace's state is: `explicit` (`-state`) when
/// given, else the active backend's (see [`backend::active`]) for the
/// root module's `backend` block `block` (`None`: load it from the
/// working directory). Errors are printed.
pub fn locate_with(
    explicit: Option<PathBuf>,
    block: Option<Option<&terrane_config::Backend>>,
    ui: &Ui,
) -> Option<StateLocation> {
    if let Some(p) = explicit.filter(|p| !p.as_os_str().is_empty()) {
        return Some(StateLocation::File(p));
    }
    let active = match block {
        Some(b) => backend::active(b),
        None => backend::active_for_working_dir(),
    };
    match active {
        Ok(ActiveBackend::Local(l)) => Some(StateLocation::File(
            l.prepare_state_path(&current_workspace()),
        )),
        Ok(ActiveBackend::Remote { kind, .. }) => Some(StateLocation::Remote {
            kind,
            workspace: current_workspace(),
        }),
        Err(d) => {
            ui.diagnostics(d.iter());
            None
        }
    }
}

/// [`locate_with`] for the working directory's configuration.
pub fn locate(explicit: Option<PathBuf>, ui: &Ui) -> Option<StateLocation> {
    locate_with(explicit, None, ui)
}

/// The state manager of `location`; a file gets `out` (`-state-out`) and
/// `backup`. Errors are printed.
pub fn manager(
    location: &StateLocation,
    out: Option<PathBuf>,
    backup: Backup,
    ui: &Ui,
) -> Option<Box<dyn StateMgr>> {
    match location {
        StateLocation::File(path) => {
            let mut opts = LocalStateOptions::new(path);
            opts.out_path = out;
            opts.backup = backup;
            Some(Box::new(LocalState::new(opts)))
        }
        StateLocation::Remote { workspace, .. } => {
            let mut active = match backend::active_for_working_dir() {
                Ok(a) => a,
                Err(d) => {
                    ui.diagnostics(d.iter());
                    return None;
                }
            };
            match active.state_mgr(workspace) {
                Ok(m) => Some(m),
                Err(e) => {
                    ui.diagnostics([&Diagnostic::error(
                        "Failed to load state",
                        format!("Failed to read the state of workspace {workspace:?}: {e}"),
                    )]);
                    None
                }
            }
        }
    }
}

/// Terraform's "Error acquiring the state lock".
pub fn lock_error(e: &LockError) -> Diagnostic {
    Diagnostic::error(
        "Error acquiring the state lock",
        format!("Error message: {e}\n\n{}", terrane_state::LOCK_ADVICE),
    )
}

/// Takes the lock of `mgr` as `lock` says; `Err(())` once the error is
/// printed, `Ok(None)` with `-lock=false`.
pub fn take_lock(
    mgr: &mut dyn StateMgr,
    lock: &LockOptions,
    operation: &str,
    ui: &Ui,
) -> Result<Option<String>, ()> {
    if !lock.lock {
        return Ok(None);
    }
    if !lock.timeout.is_zero() {
        println!("Acquiring state lock. This may take a few moments...");
    }
    match mgr.lock_with_timeout(operation, "", lock.timeout) {
        Ok(id) => Ok(Some(id)),
        Err(e) => {
            ui.diagnostics([&lock_error(&e)]);
            Err(())
        }
    }
}

/// Locking options of a state command.
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// `-lock` (default true).
    pub lock: bool,
    /// `-lock-timeout`.
    pub timeout: Duration,
}

/// A state opened for a command: the manager (locked if asked) and the
/// snapshot as read with any crash journal folded in.
pub struct OpenState {
    /// The manager.
    pub mgr: Box<dyn StateMgr>,
    /// Where the state is.
    pub location: StateLocation,
    lock_id: Option<String>,
    /// For a read-only look without the lock: the state with the journal
    /// applied in memory (nothing is written without the lock).
    in_memory: Option<StateFile>,
}

impl OpenState {
    /// The current snapshot.
    pub fn file(&self) -> Option<&StateFile> {
        self.in_memory.as_ref().or(self.mgr.state())
    }

    /// Releases the lock (also done on drop, without reporting errors).
    pub fn close(mut self) {
        if let Some(id) = self.lock_id.take() {
            if let Err(e) = self.mgr.unlock(&id) {
                eprintln!("Error releasing the state lock: {e}");
            }
        }
    }
}

/// Opens the state at `location` for a command: locks it (unless
/// `lock.lock` is false), reads it and folds a journal an interrupted
/// apply left behind. Errors are printed; `None` means the command fails
/// with exit code 1.
pub fn open(
    location: impl Into<StateLocation>,
    backup: Backup,
    lock: Option<&LockOptions>,
    operation: &str,
    ui: &Ui,
) -> Option<OpenState> {
    let location = &location.into();
    let mut mgr = manager(location, None, backup, ui)?;
    let mut lock_id = None;
    if let Some(l) = lock {
        match take_lock(mgr.as_mut(), l, operation, ui) {
            Ok(id) => lock_id = id,
            Err(()) => {
                // The state commands end the error with a blank line.
                eprintln!();
                return None;
            }
        }
    }
    let mut open = OpenState {
        mgr,
        location: location.clone(),
        lock_id,
        in_memory: None,
    };
    if let Err(e) = open.mgr.refresh() {
        ui.diagnostics([&Diagnostic::error("Failed to load state", e.to_string())]);
        return None;
    }
    // A journal holds changes made after the state was written; only
    // look when one exists, so read-only commands leave no file behind.
    let anchor = location.journal_anchor();
    if Journal::path_for(&anchor).exists() {
        let folded = Journal::open(&anchor).and_then(|mut j| {
            if j.changes().is_empty() {
                return Ok(());
            }
            if open.lock_id.is_some() {
                return j.fold(open.mgr.as_mut()).map(|_| ());
            }
            let current = open.mgr.state();
            let matches = j.base()
                == Some(
                    current
                        .map(|s| (s.lineage.as_str(), s.serial))
                        .unwrap_or(("", 0)),
                );
            if matches {
                let mut file = current
                    .cloned()
                    .unwrap_or_else(|| StateFile::new(Default::default()));
                terrane_state::apply_changes(&mut file.state, j.changes());
                open.in_memory = Some(file);
            }
            Ok(())
        });
        if let Err(e) = folded {
            ui.diagnostics([&Diagnostic::error(
                "Failed to recover the state journal",
                e.to_string(),
            )]);
            return None;
        }
    }
    Some(open)
}

impl Drop for OpenState {
    fn drop(&mut self) {
        if let Some(id) = self.lock_id.take() {
            let _ = self.mgr.unlock(&id);
        }
    }
}

/// The selected workspace's state (or `explicit`'s) as read-only
/// commands see it: read without the lock, a crash journal applied in
/// memory. `Err(())` once an error is printed.
pub fn read_current(explicit: Option<PathBuf>, ui: &Ui) -> Result<Option<StateFile>, ()> {
    let location = locate(explicit, ui).ok_or(())?;
    let open = open(&location, Backup::Disabled, None, "", ui).ok_or(())?;
    let file = open.file().cloned();
    open.close();
    Ok(file)
}

/// Where an apply whose state could not be saved to the backend leaves it.
pub const ERRORED_STATE: &str = "errored.tfstate";

/// Writes `state` to `errored.tfstate` in the working directory and
/// returns Terraform's "Failed to persist state to backend" error.
/// It continues `prior` (same lineage, the next serial) so that `state
/// push errored.tfstate` is accepted over the backend's state.
pub fn save_errored_state(state: &terrane_state::State, prior: Option<&StateFile>) -> Diagnostic {
    let mut file = StateFile::new(state.clone());
    match prior {
        Some(p) if !p.lineage.is_empty() => {
            file.lineage = p.lineage.clone();
            file.serial = p.serial + 1;
        }
        _ => {
            file.lineage = terrane_state::new_lineage();
            file.serial = 1;
        }
    }
    let text = terrane_state::serialize(&file);
    match terrane_state::atomic_write(Path::new(ERRORED_STATE), text.as_bytes(), None) {
        Ok(_) => Diagnostic::error(
            "Failed to persist state to backend",
            "The error shown above has prevented Terraform from writing the updated state\nto the configured backend. To allow for recovery, the state has been written\nto the file \"errored.tfstate\" in the current working directory.\n\nRunning \"terraform apply\" again at this point will create a forked state,\nmaking it harder to recover.\n\nTo retry writing this state, use the following command:\n    terraform state push errored.tfstate",
        ),
        Err(e) => Diagnostic::error(
            "Failed to create local state file",
            format!("Error creating local state file for recovery: {e}\n\nThe state could not be saved anywhere: it is printed below so that it can be\nrecovered by hand.\n\n{text}"),
        ),
    }
}
