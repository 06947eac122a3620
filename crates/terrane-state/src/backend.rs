//! The seam between the commands and where state lives.
//!
//! * [`StateMgr`]: one workspace's state: read, write (with the serial and
//!   lineage rules), lock. [`LocalState`] is one; [`RemoteState`] turns
//!   any [`RemoteClient`] into one.
//! * [`RemoteClient`]: the few operations a remote store must offer (get,
//!   put, delete one state object; lock and unlock it), as Terraform's
//!   remote backends are built. The s3, pg and http backends implement it.
//! * [`Backend`]: a configured backend: its workspaces and a state manager
//!   per workspace.
//!
//! Rules every implementation keeps:
//! * a `put` replaces the whole object or nothing: readers see the old or
//!   the new state, never a mix;
//! * [`RemoteState::write`] refuses to overwrite a stored state of another
//!   lineage or a higher serial than the one it read (a stale writer),
//!   whether or not the lock is held;
//! * transient errors ([`BackendError::transient`]) are retried with
//!   backoff by [`RemoteState`]; a client does not retry on its own.

use std::fmt;
use std::time::{Duration, Instant};

use crate::local::{content_equal, StateWriteError};
use crate::lock::{LockError, LockInfo};
use crate::model::{new_lineage, State, StateFile};
use crate::read::{read, ReadOptions};
use crate::write::serialize;
use crate::LocalState;

/// An error of a backend or remote store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendError {
    /// What went wrong, as shown to the user.
    pub message: String,
    /// Worth retrying (a connection refused or reset, a timeout, a 5xx or
    /// throttling response).
    pub transient: bool,
}

impl BackendError {
    /// A permanent error.
    pub fn new(message: impl Into<String>) -> BackendError {
        BackendError {
            message: message.into(),
            transient: false,
        }
    }

    /// An error worth retrying.
    pub fn transient(message: impl Into<String>) -> BackendError {
        BackendError {
            message: message.into(),
            transient: true,
        }
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BackendError {}

/// The type of a backend configuration argument (Terraform's backend
/// schemas use only these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    /// `string`.
    String,
    /// `bool`.
    Bool,
    /// `number`.
    Number,
    /// `list(string)`.
    ListOfString,
    /// `map(string)`.
    MapOfString,
}

/// One argument of a backend's configuration, as in the backend's schema
/// (the order is the order `.terraform/terraform.tfstate` records them in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigAttr {
    /// The argument name.
    pub name: &'static str,
    /// Its type.
    pub ty: ConfigType,
    /// Whether the merged configuration must set it (after defaults from
    /// the environment are applied by the backend itself).
    pub required: bool,
    /// Never shown in output or logs (passwords, secret keys).
    pub sensitive: bool,
}

/// A backend's merged configuration (the `backend` block, then
/// `-backend-config` files and `key=value` pairs): argument name to value,
/// only the arguments that are set.
pub type BackendConfig = serde_json::Map<String, serde_json::Value>;

/// The string argument `name` of a configuration (`None` when unset).
pub fn config_string(config: &BackendConfig, name: &str) -> Result<Option<String>, BackendError> {
    match config.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(serde_json::Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(serde_json::Value::Number(n)) => Ok(Some(n.to_string())),
        Some(_) => Err(BackendError::new(format!("{name}: a string is required"))),
    }
}

/// The bool argument `name` (`"true"`/`"false"` strings accepted, as
/// `-backend-config=key=value` gives strings).
pub fn config_bool(config: &BackendConfig, name: &str) -> Result<Option<bool>, BackendError> {
    match config.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Bool(b)) => Ok(Some(*b)),
        Some(serde_json::Value::String(s)) if s == "true" || s == "1" => Ok(Some(true)),
        Some(serde_json::Value::String(s)) if s == "false" || s == "0" => Ok(Some(false)),
        Some(_) => Err(BackendError::new(format!("{name}: a bool is required"))),
    }
}

/// The number argument `name` (numeric strings accepted).
pub fn config_number(config: &BackendConfig, name: &str) -> Result<Option<f64>, BackendError> {
    match config.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n
            .as_f64()
            .map(Some)
            .ok_or_else(|| BackendError::new(format!("{name}: a number is required"))),
        Some(serde_json::Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .map(Some)
            .map_err(|_| BackendError::new(format!("{name}: a number is required"))),
        Some(_) => Err(BackendError::new(format!("{name}: a number is required"))),
    }
}

/// What a backend type offers: its schema and a constructor.
#[derive(Clone, Copy)]
pub struct BackendType {
    /// The type name (`s3`, `pg`, `http`, `local`).
    pub name: &'static str,
    /// Its arguments.
    pub schema: &'static [ConfigAttr],
    /// Configures it (validating values, reading the environment for
    /// defaults, connecting where needed).
    pub configure: fn(&BackendConfig) -> Result<Box<dyn Backend>, BackendError>,
}

/// One remote state object (one workspace of a remote backend).
pub trait RemoteClient: Send {
    /// The stored bytes; `None` if there is no state object yet.
    fn get(&mut self) -> Result<Option<Vec<u8>>, BackendError>;
    /// Replaces the stored object with `data` atomically.
    fn put(&mut self, data: &[u8]) -> Result<(), BackendError>;
    /// Deletes the stored object (no error if it does not exist).
    fn delete(&mut self) -> Result<(), BackendError>;
    /// Takes the lock described by `info` (its `id` is the lock ID to
    /// return unless the store assigns its own). When someone else holds
    /// it: `LockError::Held` with their info if it can be read.
    fn lock(&mut self, info: &LockInfo) -> Result<String, LockError>;
    /// Releases the lock `id` (`force-unlock` passes an ID this process
    /// did not take).
    fn unlock(&mut self, id: &str) -> Result<(), LockError>;
}

/// A configured backend.
pub trait Backend: Send {
    /// The workspaces that exist, sorted, `default` first. The default
    /// workspace is listed even before it has a state.
    fn workspaces(&mut self) -> Result<Vec<String>, BackendError>;
    /// Deletes a workspace's state (and its lock record if any).
    fn delete_workspace(&mut self, name: &str) -> Result<(), BackendError>;
    /// The state manager of a workspace (nothing is read yet).
    fn state_mgr(&mut self, workspace: &str) -> Result<Box<dyn StateMgr>, BackendError>;
}

/// One workspace's state, wherever it is stored.
pub trait StateMgr: Send {
    /// Reads the stored state (`None`: there is none yet).
    fn refresh(&mut self) -> Result<Option<&StateFile>, StateWriteError>;
    /// The snapshot last read or written.
    fn state(&self) -> Option<&StateFile>;
    /// Persists `state`: same lineage, serial + 1 if the content changed
    /// (a new lineage and serial 1 when there was no state).
    fn write(&mut self, state: &State) -> Result<&StateFile, StateWriteError>;
    /// Persists a complete snapshot as given (`state push`): refused over
    /// another lineage or a higher serial unless `force`.
    fn write_file(&mut self, file: &StateFile, force: bool) -> Result<&StateFile, StateWriteError>;
    /// Takes the lock; returns its ID.
    fn lock(&mut self, operation: &str, info: &str) -> Result<String, LockError>;
    /// Releases the lock `id`.
    fn unlock(&mut self, id: &str) -> Result<(), LockError>;
    /// Where the state is, for messages (`Path` of the lock info).
    fn describe(&self) -> String;

    /// [`lock`](Self::lock), retrying while someone else holds the lock
    /// for up to `timeout` (`-lock-timeout`; zero tries once).
    fn lock_with_timeout(
        &mut self,
        operation: &str,
        info: &str,
        timeout: Duration,
    ) -> Result<String, LockError> {
        let deadline = Instant::now() + timeout;
        let mut wait = Duration::from_millis(50);
        loop {
            match self.lock(operation, info) {
                Err(LockError::Held { .. } | LockError::Busy { .. })
                    if Instant::now() < deadline =>
                {
                    let left = deadline.saturating_duration_since(Instant::now());
                    std::thread::sleep(wait.min(left));
                    wait = (wait * 2).min(Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }
}

impl StateMgr for LocalState {
    fn refresh(&mut self) -> Result<Option<&StateFile>, StateWriteError> {
        LocalState::refresh(self)
    }
    fn state(&self) -> Option<&StateFile> {
        LocalState::state(self)
    }
    fn write(&mut self, state: &State) -> Result<&StateFile, StateWriteError> {
        LocalState::write(self, state)
    }
    fn write_file(&mut self, file: &StateFile, force: bool) -> Result<&StateFile, StateWriteError> {
        LocalState::write_file(self, file, force)
    }
    fn lock(&mut self, operation: &str, info: &str) -> Result<String, LockError> {
        LocalState::lock(self, operation, info)
    }
    fn unlock(&mut self, id: &str) -> Result<(), LockError> {
        LocalState::unlock(self, id)
    }
    fn describe(&self) -> String {
        self.options().out_path().display().to_string()
    }
}

/// How often and how long [`RemoteState`] retries transient errors.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// Wait before the first retry; doubled after each, up to `max_wait`.
    pub first_wait: Duration,
    /// The longest wait between attempts.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            first_wait: Duration::from_millis(200),
            max_wait: Duration::from_secs(3),
        }
    }
}

impl RetryPolicy {
    /// Runs `op` until it succeeds, fails permanently or the attempts are
    /// used up.
    pub fn run<T>(
        &self,
        mut op: impl FnMut() -> Result<T, BackendError>,
    ) -> Result<T, BackendError> {
        let mut wait = self.first_wait;
        let mut attempt = 1;
        loop {
            match op() {
                Err(e) if e.transient && attempt < self.attempts => {
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(self.max_wait);
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// A [`StateMgr`] over a [`RemoteClient`].
pub struct RemoteState {
    client: Box<dyn RemoteClient>,
    location: String,
    terraform_version: String,
    retry: RetryPolicy,
    current: Option<StateFile>,
    lock_info: Option<LockInfo>,
    /// The `Path` of the lock info (the location unless set).
    lock_path: Option<String>,
}

impl RemoteState {
    /// A manager for `client`; `location` names the object for messages
    /// (e.g. `s3://bucket/key`).
    pub fn new(client: Box<dyn RemoteClient>, location: impl Into<String>) -> RemoteState {
        RemoteState {
            client,
            location: location.into(),
            terraform_version: crate::COMPATIBLE_TERRAFORM_VERSION.to_string(),
            retry: RetryPolicy::default(),
            current: None,
            lock_info: None,
            lock_path: None,
        }
    }

    /// Sets the lock info's `Path` (Terraform's http backend leaves it
    /// empty; others record the object's address).
    pub fn with_lock_path(mut self, path: impl Into<String>) -> RemoteState {
        self.lock_path = Some(path.into());
        self
    }

    /// Sets the retry policy for transient errors.
    pub fn with_retry(mut self, retry: RetryPolicy) -> RemoteState {
        self.retry = retry;
        self
    }

    fn backend_err(&self, e: BackendError) -> StateWriteError {
        StateWriteError::Backend {
            location: self.location.clone(),
            error: e,
        }
    }

    fn fetch(&mut self) -> Result<Option<StateFile>, StateWriteError> {
        let client = &mut self.client;
        let bytes = self
            .retry
            .run(|| client.get())
            .map_err(|e| StateWriteError::Backend {
                location: self.location.clone(),
                error: e,
            })?;
        match bytes.filter(|b| !b.is_empty()) {
            None => Ok(None),
            Some(b) => read(&b, &ReadOptions::default()).map_err(|error| StateWriteError::Read {
                path: self.location.clone().into(),
                error,
            }),
        }
    }

    /// Checks that the stored state is still the one this manager read
    /// (or last wrote), so a stale writer cannot overwrite newer state.
    fn check_not_stale(&mut self, new: &StateFile) -> Result<(), StateWriteError> {
        let stored = self.fetch()?;
        let Some(stored) = stored else {
            return Ok(());
        };
        if !stored.lineage.is_empty() && !new.lineage.is_empty() && stored.lineage != new.lineage {
            return Err(StateWriteError::LineageMismatch {
                new: new.lineage.clone(),
                existing: stored.lineage,
            });
        }
        let base = self.current.as_ref().map(|c| c.serial).unwrap_or(0);
        if stored.serial > base && stored.serial >= new.serial {
            return Err(StateWriteError::SerialRegression {
                new: new.serial,
                existing: stored.serial,
            });
        }
        Ok(())
    }

    /// Writes `file` if `changed`; `check_stale` refuses to overwrite a
    /// newer stored state (off for a forced push, which replaces anything).
    fn persist(
        &mut self,
        file: StateFile,
        changed: bool,
        check_stale: bool,
    ) -> Result<&StateFile, StateWriteError> {
        if changed {
            if check_stale {
                self.check_not_stale(&file)?;
            }
            let bytes = serialize(&file).into_bytes();
            let client = &mut self.client;
            self.retry
                .run(|| client.put(&bytes))
                .map_err(|e| StateWriteError::Backend {
                    location: self.location.clone(),
                    error: e,
                })?;
        }
        Ok(&*self.current.insert(file))
    }

    /// Deletes the stored state object.
    pub fn delete(&mut self) -> Result<(), StateWriteError> {
        let client = &mut self.client;
        let r = self.retry.run(|| client.delete());
        r.map_err(|e| self.backend_err(e))
    }
}

impl StateMgr for RemoteState {
    fn refresh(&mut self) -> Result<Option<&StateFile>, StateWriteError> {
        self.current = self.fetch()?;
        Ok(self.current.as_ref())
    }

    fn state(&self) -> Option<&StateFile> {
        self.current.as_ref()
    }

    fn write(&mut self, state: &State) -> Result<&StateFile, StateWriteError> {
        let (lineage, serial, changed) = match &self.current {
            None => (new_lineage(), 1, true),
            Some(cur) => {
                let changed = !content_equal(&cur.state, state);
                let lineage = if cur.lineage.is_empty() {
                    new_lineage()
                } else {
                    cur.lineage.clone()
                };
                let serial = if changed { cur.serial + 1 } else { cur.serial };
                (lineage, serial, changed)
            }
        };
        let file = StateFile {
            terraform_version: self.terraform_version.clone(),
            serial,
            lineage,
            state: state.clone(),
        };
        self.persist(file, changed, true)
    }

    fn write_file(&mut self, file: &StateFile, force: bool) -> Result<&StateFile, StateWriteError> {
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
        let mut file = file.clone();
        file.terraform_version = self.terraform_version.clone();
        if file.lineage.is_empty() {
            file.lineage = new_lineage();
        }
        if force {
            // Forced: whatever is stored is replaced.
            self.current = None;
        }
        self.persist(file, true, !force)
    }

    fn lock(&mut self, operation: &str, info: &str) -> Result<String, LockError> {
        if let Some(l) = &self.lock_info {
            return Ok(l.id.clone());
        }
        let mut li = LockInfo::new(operation, &self.terraform_version);
        li.info = info.to_string();
        li.path = self
            .lock_path
            .clone()
            .unwrap_or_else(|| self.location.clone());
        let id = self.client.lock(&li)?;
        li.id = id.clone();
        self.lock_info = Some(li);
        Ok(id)
    }

    fn unlock(&mut self, id: &str) -> Result<(), LockError> {
        self.client.unlock(id)?;
        if self.lock_info.as_ref().is_some_and(|l| l.id == id) {
            self.lock_info = None;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        self.location.clone()
    }
}

impl Drop for RemoteState {
    fn drop(&mut self) {
        if let Some(l) = self.lock_info.take() {
            let _ = self.client.unlock(&l.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// An in-memory store: the unit under test is `RemoteState`'s logic,
    /// not a store (the real stores have their own tests).
    #[derive(Clone, Default)]
    struct MemStore {
        data: Arc<Mutex<Option<Vec<u8>>>>,
        fail_next: Arc<Mutex<u32>>,
    }

    impl RemoteClient for MemStore {
        fn get(&mut self) -> Result<Option<Vec<u8>>, BackendError> {
            Ok(self
                .data
                .lock()
                .map_err(|_| BackendError::new("poisoned"))?
                .clone())
        }
        fn put(&mut self, data: &[u8]) -> Result<(), BackendError> {
            let mut fail = self
                .fail_next
                .lock()
                .map_err(|_| BackendError::new("poisoned"))?;
            if *fail > 0 {
                *fail -= 1;
                return Err(BackendError::transient("connection reset"));
            }
            *self
                .data
                .lock()
                .map_err(|_| BackendError::new("poisoned"))? = Some(data.to_vec());
            Ok(())
        }
        fn delete(&mut self) -> Result<(), BackendError> {
            *self
                .data
                .lock()
                .map_err(|_| BackendError::new("poisoned"))? = None;
            Ok(())
        }
        fn lock(&mut self, info: &LockInfo) -> Result<String, LockError> {
            Ok(info.id.clone())
        }
        fn unlock(&mut self, _id: &str) -> Result<(), LockError> {
            Ok(())
        }
    }

    fn quick() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            first_wait: Duration::from_millis(1),
            max_wait: Duration::from_millis(2),
        }
    }

    fn state_with_output(v: &str) -> State {
        let src = format!(
            "{{\"version\":4,\"terraform_version\":\"1.0.3\",\"serial\":1,\"lineage\":\"l\",\"outputs\":{{\"o\":{{\"value\":\"{v}\",\"type\":\"string\"}}}},\"resources\":[]}}"
        );
        read(src.as_bytes(), &ReadOptions::default())
            .ok()
            .flatten()
            .map(|f| f.state)
            .unwrap_or_default()
    }

    #[test]
    fn serial_grows_only_on_change_and_transient_put_errors_are_retried() {
        let store = MemStore::default();
        let mut mgr = RemoteState::new(Box::new(store.clone()), "mem").with_retry(quick());
        assert!(mgr.refresh().expect("refresh").is_none());
        let first = mgr.write(&state_with_output("a")).expect("write").clone();
        assert_eq!(first.serial, 1);
        assert_eq!(mgr.write(&state_with_output("a")).expect("same").serial, 1);
        *store.fail_next.lock().expect("lock") = 2;
        let second = mgr.write(&state_with_output("b")).expect("retried").clone();
        assert_eq!(second.serial, 2);
        assert_eq!(second.lineage, first.lineage);
        let mut other = RemoteState::new(Box::new(store), "mem");
        let read_back = other.refresh().expect("refresh").cloned().expect("state");
        assert_eq!(read_back.serial, 2);
    }

    #[test]
    fn a_stale_writer_is_refused() {
        let store = MemStore::default();
        let mut a = RemoteState::new(Box::new(store.clone()), "mem").with_retry(quick());
        a.refresh().expect("refresh");
        a.write(&state_with_output("a")).expect("write");
        let mut b = RemoteState::new(Box::new(store.clone()), "mem").with_retry(quick());
        b.refresh().expect("refresh");
        // a writes serial 2; b still holds serial 1 and must not overwrite it.
        a.write(&state_with_output("from a")).expect("write");
        let err = b.write(&state_with_output("from b")).expect_err("stale");
        assert!(matches!(
            err,
            StateWriteError::SerialRegression {
                new: 2,
                existing: 2
            }
        ));
        let mut c = RemoteState::new(Box::new(store), "mem");
        let stored = c.refresh().expect("refresh").cloned().expect("state");
        assert_eq!(stored.state, state_with_output("from a"));
    }

    #[test]
    fn a_forced_push_replaces_a_newer_state() {
        let store = MemStore::default();
        let mut a = RemoteState::new(Box::new(store.clone()), "mem").with_retry(quick());
        a.refresh().expect("refresh");
        a.write(&state_with_output("a")).expect("write");
        a.write(&state_with_output("b")).expect("write");
        let mut old = a.state().cloned().expect("state");
        old.serial = 1;
        let mut b = RemoteState::new(Box::new(store.clone()), "mem").with_retry(quick());
        b.refresh().expect("refresh");
        assert!(
            b.write_file(&old, false).is_err(),
            "an older serial is refused"
        );
        b.write_file(&old, true).expect("forced");
        let mut c = RemoteState::new(Box::new(store), "mem");
        assert_eq!(c.refresh().expect("refresh").map(|f| f.serial), Some(1));
    }

    #[test]
    fn exhausted_retries_report_the_backend_error() {
        let store = MemStore::default();
        *store.fail_next.lock().expect("lock") = 10;
        let mut mgr = RemoteState::new(Box::new(store), "mem://x").with_retry(quick());
        mgr.refresh().expect("refresh");
        let err = mgr.write(&state_with_output("a")).expect_err("fails");
        assert_eq!(err.to_string(), "mem://x: connection reset");
    }
}
