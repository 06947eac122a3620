//! What the commands share about the local state: the selected workspace
//! (`TF_WORKSPACE`, else `.terraform/environment`, else `default`), its
//! state path, and opening a state for a `state` subcommand (lock, read,
//! fold a journal left by a crash).

use std::path::{Path, PathBuf};
use std::time::Duration;

use terrane_hcl::Diagnostic;
use terrane_state::journal::Journal;
use terrane_state::{Backup, LocalState, LocalStateOptions, StateFile};

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

/// The state path of the selected workspace (`-state` overrides it).
/// Like Terraform's local backend, this creates the directory of a
/// non-default workspace that does not exist yet (so `TF_WORKSPACE=NAME`
/// starts a new workspace).
pub fn default_state_path() -> PathBuf {
    let path = terrane_state::workspace_state_path(&current_workspace());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // A failure shows up when the state is read or locked.
        let _ = std::fs::create_dir_all(dir);
    }
    path
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
    pub local: LocalState,
    lock_id: Option<String>,
    /// For a read-only look without the lock: the state with the journal
    /// applied in memory (nothing is written without the lock).
    in_memory: Option<StateFile>,
}

impl OpenState {
    /// The current snapshot.
    pub fn file(&self) -> Option<&StateFile> {
        self.in_memory.as_ref().or(self.local.state())
    }

    /// Releases the lock (also done on drop, without reporting errors).
    pub fn close(mut self) {
        if let Some(id) = self.lock_id.take() {
            if let Err(e) = self.local.unlock(&id) {
                eprintln!("Error releasing the state lock: {e}");
            }
        }
    }
}

/// Opens `path` for a state command: locks it (unless `lock.lock` is
/// false), reads it and folds a journal an interrupted apply left behind.
/// Errors are printed; `None` means the command fails with exit code 1.
pub fn open(
    path: &Path,
    backup: Backup,
    lock: Option<&LockOptions>,
    operation: &str,
    ui: &Ui,
) -> Option<OpenState> {
    let mut opts = LocalStateOptions::new(path);
    opts.backup = backup;
    let mut local = LocalState::new(opts);
    let mut lock_id = None;
    if let Some(l) = lock.filter(|l| l.lock) {
        if !l.timeout.is_zero() {
            println!("Acquiring state lock. This may take a few moments...");
        }
        match local.lock_with_timeout(operation, "", l.timeout) {
            Ok(id) => lock_id = Some(id),
            Err(e) => {
                ui.diagnostics([&Diagnostic::error(
                    "Error acquiring the state lock",
                    format!("Error message: {e}\n\n{}", terrane_state::LOCK_ADVICE),
                )]);
                eprintln!();
                return None;
            }
        }
    }
    let mut open = OpenState {
        local,
        lock_id,
        in_memory: None,
    };
    if let Err(e) = open.local.refresh() {
        ui.diagnostics([&Diagnostic::error("Failed to load state", e.to_string())]);
        return None;
    }
    // A journal holds changes made after the state file was written; only
    // look when one exists, so read-only commands leave no file behind.
    if Journal::path_for(path).exists() {
        let folded = Journal::open(path).and_then(|mut j| {
            if j.changes().is_empty() {
                return Ok(());
            }
            if open.lock_id.is_some() {
                return j.fold(&mut open.local).map(|_| ());
            }
            let current = open.local.state();
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
            let _ = self.local.unlock(&id);
        }
    }
}
