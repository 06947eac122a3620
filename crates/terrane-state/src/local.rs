//! The local backend's state manager.
//!
//! Behaviour, as observed with Terraform 1.0.3:
//!
//! * a new state gets a fresh lineage; its first write has serial 1;
//! * every write whose content (outputs and resources) differs from the
//!   previous snapshot increments the serial by one (Terraform persists
//!   after each resource, so an apply of 12 new resources from nothing ends
//!   at serial 13); a write without changes keeps the serial;
//! * the first write that changes the state in a session first saves the
//!   state as it was read into the backup file (`<out>.backup` unless
//!   configured; `-backup=-` disables); no backup is written when there was
//!   no previous state, and later writes in the session keep that backup;
//! * `terraform_version` is set to the compatible version on every write.
//!
//! Unlike Terraform, which rewrites the state file in place, terrane writes
//! a temporary file in the same directory, fsyncs it, takes the lock on it
//! (when locked), renames it over the state and fsyncs the directory: a
//! crash leaves either the old or the new state, never a torn one, and the
//! lock moves with the file without a window in which the new file is
//! unlocked.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::lock::{self, HeldLock, LockError, LockInfo};
use crate::model::{new_lineage, State, StateFile};
use crate::read::{read, ReadError, ReadOptions};
use crate::write::serialize;

/// The local backend's state path for a workspace (relative to the
/// working directory): `terraform.tfstate` for `default`, else
/// `terraform.tfstate.d/<name>/terraform.tfstate`.
pub fn workspace_state_path(workspace: &str) -> PathBuf {
    if workspace == "default" {
        PathBuf::from("terraform.tfstate")
    } else {
        Path::new("terraform.tfstate.d")
            .join(workspace)
            .join("terraform.tfstate")
    }
}

/// Where the backup goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Backup {
    /// `<out path>.backup`.
    #[default]
    Default,
    /// No backup (`-backup=-`).
    Disabled,
    /// This path (`-backup=PATH`).
    Path(PathBuf),
}

/// Paths and versions for a [`LocalState`].
#[derive(Debug, Clone)]
pub struct LocalStateOptions {
    /// The state to read (`-state`, default `terraform.tfstate`).
    pub path: PathBuf,
    /// Where to write (`-state-out`); `None`: the same as `path`.
    pub out_path: Option<PathBuf>,
    /// The backup (`-backup`).
    pub backup: Backup,
    /// Written as `terraform_version` and used in messages.
    pub terraform_version: String,
    /// Reading options.
    pub read: ReadOptions,
}

impl LocalStateOptions {
    /// Defaults for a state path.
    pub fn new(path: impl Into<PathBuf>) -> LocalStateOptions {
        LocalStateOptions {
            path: path.into(),
            out_path: None,
            backup: Backup::Default,
            terraform_version: crate::COMPATIBLE_TERRAFORM_VERSION.to_string(),
            read: ReadOptions::default(),
        }
    }

    /// The path written to.
    pub fn out_path(&self) -> &Path {
        self.out_path.as_deref().unwrap_or(&self.path)
    }

    /// The backup path, if backups are enabled.
    pub fn backup_path(&self) -> Option<PathBuf> {
        match &self.backup {
            Backup::Default => {
                let mut p = self.out_path().as_os_str().to_owned();
                p.push(".backup");
                Some(PathBuf::from(p))
            }
            Backup::Disabled => None,
            Backup::Path(p) => Some(p.clone()),
        }
    }
}

/// Why the state could not be read or written.
#[derive(Debug)]
pub enum StateWriteError {
    /// A file system error.
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
    /// The state file is invalid.
    Read {
        /// The path concerned.
        path: PathBuf,
        /// The problems.
        error: ReadError,
    },
    /// A pushed state has another lineage than the stored one.
    LineageMismatch {
        /// The lineage of the state being written.
        new: String,
        /// The stored one.
        existing: String,
    },
    /// A pushed state has a lower serial than the stored one.
    SerialRegression {
        /// The serial of the state being written.
        new: u64,
        /// The stored one.
        existing: u64,
    },
    /// Locking failed.
    Lock(LockError),
    /// A remote backend failed (after retries, when transient).
    Backend {
        /// The state's location (`s3://bucket/key`, a URL, ...).
        location: String,
        /// The error.
        error: crate::backend::BackendError,
    },
}

impl fmt::Display for StateWriteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateWriteError::Io { path, error } => write!(f, "{}: {error}", path.display()),
            StateWriteError::Read { error, .. } => write!(f, "{error}"),
            // Terraform's wording (`terraform state push`).
            StateWriteError::LineageMismatch { new, existing } => write!(
                f,
                "cannot import state with lineage {} over unrelated state with lineage {}",
                crate::json::quote(new),
                crate::json::quote(existing)
            ),
            StateWriteError::SerialRegression { new, existing } => write!(
                f,
                "cannot import state with serial {new} over newer state with serial {existing}"
            ),
            StateWriteError::Lock(e) => write!(f, "{e}"),
            StateWriteError::Backend { location, error } => write!(f, "{location}: {error}"),
        }
    }
}

impl std::error::Error for StateWriteError {}

impl From<LockError> for StateWriteError {
    fn from(e: LockError) -> Self {
        StateWriteError::Lock(e)
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateWriteError + '_ {
    move |error| StateWriteError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Length and hash of a state file's bytes, to tell an identical snapshot.
fn digest(bytes: &[u8]) -> (usize, u64) {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    (bytes.len(), h.finish())
}

/// The local backend's state manager for one state file.
#[derive(Debug)]
pub struct LocalState {
    opts: LocalStateOptions,
    lock: Option<HeldLock>,
    /// The bytes read by the last [`refresh`](Self::refresh), for the
    /// backup. Not held while this manager holds the lock: nothing else
    /// changes the file then, so they are read back before the first write
    /// instead of being held (a large state) for the whole run.
    read_bytes: Option<Vec<u8>>,
    /// The last refresh read a non-empty file whose bytes are not held.
    read_bytes_on_disk: bool,
    /// Length and hash of the bytes last written or read at the out path
    /// (an identical snapshot is not written again).
    current_digest: Option<(usize, u64)>,
    /// The current snapshot (as read or last written).
    current: Option<StateFile>,
    backup_written: bool,
}

impl LocalState {
    /// A manager; nothing is read until [`refresh`](Self::refresh).
    pub fn new(opts: LocalStateOptions) -> LocalState {
        LocalState {
            opts,
            lock: None,
            read_bytes: None,
            read_bytes_on_disk: false,
            current_digest: None,
            current: None,
            backup_written: false,
        }
    }

    /// The options.
    pub fn options(&self) -> &LocalStateOptions {
        &self.opts
    }

    /// Locks the state (the out path) as Terraform does; returns the lock ID.
    pub fn lock(&mut self, operation: &str, info: &str) -> Result<String, LockError> {
        if let Some(l) = &self.lock {
            return Ok(l.info.id.clone());
        }
        let mut li = LockInfo::new(operation, &self.opts.terraform_version);
        li.info = info.to_string();
        let out = self.opts.out_path().to_path_buf();
        let held = lock::acquire(&out, li, &out.to_string_lossy())?;
        let id = held.info.id.clone();
        self.lock = Some(held);
        Ok(id)
    }

    /// [`lock`](Self::lock), retrying while someone else holds the lock
    /// for up to `timeout` (`-lock-timeout`; zero tries once).
    pub fn lock_with_timeout(
        &mut self,
        operation: &str,
        info: &str,
        timeout: std::time::Duration,
    ) -> Result<String, LockError> {
        let deadline = std::time::Instant::now() + timeout;
        let mut wait = std::time::Duration::from_millis(50);
        loop {
            match self.lock(operation, info) {
                Err(LockError::Held { .. }) if std::time::Instant::now() < deadline => {
                    let left = deadline.saturating_duration_since(std::time::Instant::now());
                    std::thread::sleep(wait.min(left));
                    wait = (wait * 2).min(std::time::Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }

    /// Whether this manager holds the lock.
    pub fn is_locked(&self) -> bool {
        self.lock.is_some()
    }

    /// Releases the lock taken by [`lock`](Self::lock).
    pub fn unlock(&mut self, id: &str) -> Result<(), LockError> {
        let Some(held) = self.lock.take() else {
            return Err(LockError::NotLocked);
        };
        if held.info.id != id {
            let existing = held.info.id.clone();
            self.lock = Some(held);
            return Err(LockError::IdMismatch {
                given: id.to_string(),
                existing,
            });
        }
        lock::release(held, self.opts.out_path())
    }

    /// Reads the state from disk (a missing or empty file is no state).
    pub fn refresh(&mut self) -> Result<Option<&StateFile>, StateWriteError> {
        let path = self.opts.path.clone();
        let bytes = match std::fs::read(&path) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(StateWriteError::Io { path, error: e }),
        };
        let file = match &bytes {
            Some(b) => read(b, &self.opts.read).map_err(|error| StateWriteError::Read {
                path: path.clone(),
                error,
            })?,
            None => None,
        };
        let bytes = bytes.filter(|b| !b.is_empty());
        self.current_digest = if self.opts.out_path() == self.opts.path {
            bytes.as_deref().map(digest)
        } else {
            None
        };
        self.read_bytes_on_disk = bytes.is_some() && self.lock.is_some();
        self.read_bytes = if self.read_bytes_on_disk { None } else { bytes };
        self.current = file;
        Ok(self.current.as_ref())
    }

    /// The current snapshot.
    pub fn state(&self) -> Option<&StateFile> {
        self.current.as_ref()
    }

    /// Writes `state` with this manager's lineage and serial rules (see the
    /// module documentation) and returns the snapshot written.
    pub fn write(&mut self, state: &State) -> Result<&StateFile, StateWriteError> {
        let (lineage, serial, changed) = match &self.current {
            None => (new_lineage(), 1, true),
            Some(cur) => {
                let changed = !content_equal(&cur.state, state);
                let lineage = if cur.lineage.is_empty() {
                    new_lineage()
                } else {
                    cur.lineage.clone()
                };
                (
                    lineage,
                    if changed { cur.serial + 1 } else { cur.serial },
                    changed,
                )
            }
        };
        let file = StateFile {
            terraform_version: self.opts.terraform_version.clone(),
            serial,
            lineage,
            state: state.clone(),
        };
        self.persist(file, changed)
    }

    /// Writes a complete snapshot as given (`terraform state push`): refused
    /// if the stored state has another lineage or a higher serial, unless
    /// `force`.
    pub fn write_file(
        &mut self,
        file: &StateFile,
        force: bool,
    ) -> Result<&StateFile, StateWriteError> {
        if let (Some(cur), false) = (&self.current, force) {
            if !cur.lineage.is_empty() && !file.lineage.is_empty() && cur.lineage != file.lineage {
                return Err(StateWriteError::LineageMismatch {
                    new: file.lineage.clone(),
                    existing: cur.lineage.clone(),
                });
            }
            if file.serial < cur.serial {
                return Err(StateWriteError::SerialRegression {
                    new: file.serial,
                    existing: cur.serial,
                });
            }
        }
        let changed = match &self.current {
            None => true,
            Some(c) => !content_equal(&c.state, &file.state),
        };
        let mut file = file.clone();
        file.terraform_version = self.opts.terraform_version.clone();
        if file.lineage.is_empty() {
            file.lineage = new_lineage();
        }
        self.persist(file, changed)
    }

    fn persist(&mut self, file: StateFile, changed: bool) -> Result<&StateFile, StateWriteError> {
        if self.read_bytes_on_disk && !self.backup_written {
            // Still as read (locked, and not written yet): load it before
            // this write can replace it.
            let path = self.opts.path.clone();
            let old = std::fs::read(&path).map_err(io_err(&path))?;
            self.read_bytes = Some(old);
            self.read_bytes_on_disk = false;
        }
        let bytes = serialize(&file).into_bytes();
        if changed && !self.backup_written {
            if let (Some(backup), Some(old)) = (self.opts.backup_path(), &self.read_bytes) {
                atomic_write(&backup, old, None).map_err(io_err(&backup))?;
            }
            self.backup_written = true;
            // Only the backup needed them.
            self.read_bytes = None;
        }
        let written = digest(&bytes);
        if self.current_digest != Some(written) {
            let out = self.opts.out_path().to_path_buf();
            let new_lock = atomic_write(&out, &bytes, self.lock.as_ref().map(|l| &l.file))
                .map_err(io_err(&out))?;
            if let (Some(held), Some(f)) = (self.lock.as_mut(), new_lock) {
                // The old descriptor's lock is on the replaced inode.
                held.file = f;
            }
            self.current_digest = Some(written);
        }
        Ok(&*self.current.insert(file))
    }
}

impl Drop for LocalState {
    fn drop(&mut self) {
        if let Some(held) = self.lock.take() {
            let out = self.opts.out_path().to_path_buf();
            let _ = lock::release(held, &out);
        }
    }
}

/// Whether two states serialize to the same content.
pub fn content_equal(a: &State, b: &State) -> bool {
    if a == b {
        return true;
    }
    let wrap = |s: &State| {
        serialize(&StateFile {
            terraform_version: String::new(),
            serial: 0,
            lineage: String::new(),
            state: s.clone(),
        })
    };
    wrap(a) == wrap(b)
}

/// Replaces `path` atomically with `bytes`: a temporary file in the same
/// directory (permissions of the file it replaces, else 0666 less umask),
/// written and fsynced, renamed over `path`, then the directory fsynced.
/// With `locked` (the locked descriptor of the current file), the new file
/// is locked before the rename and its descriptor returned.
pub fn atomic_write(path: &Path, bytes: &[u8], locked: Option<&File>) -> io::Result<Option<File>> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mode = std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o7777)
        .ok();
    let mut tmp = None;
    for attempt in 0..100u32 {
        let candidate = dir.join(format!(".{name}.tmp-{}-{attempt}", std::process::id()));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&candidate)
        {
            Ok(f) => {
                tmp = Some((candidate, f));
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    let Some((tmp_path, mut f)) = tmp else {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary file name",
        ));
    };
    let result = (|| {
        if let Some(m) = mode {
            f.set_permissions(std::fs::Permissions::from_mode(m))?;
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        if locked.is_some() {
            lock::try_lock_file(&f)?;
        }
        std::fs::rename(&tmp_path, path)?;
        if let Ok(d) = File::open(&dir) {
            d.sync_all()?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(locked.map(|_| f)),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp_path);
            Err(e)
        }
    }
}
