//! State locking compatible with Terraform's local backend.
//!
//! Terraform 1.0.3 (observed while `terraform apply` waited at its prompt):
//!
//! * takes a POSIX write lock (`fcntl(F_SETLK)`, whole file) on the state
//!   file itself, opened read-write and created empty if missing (an empty
//!   file it created is removed again on unlock);
//! * writes `.<state file name>.lock.info` beside it (mode 0600, compact
//!   JSON without a final newline) with `ID`, `Operation`, `Info`, `Who`,
//!   `Version`, `Created`, `Path`;
//! * a second process failing to lock reports "resource temporarily
//!   unavailable" with the lock info read from that file.
//!
//! terrane takes an open-file-description lock (`F_OFD_SETLK`) on Linux,
//! which conflicts with Terraform's POSIX locks both ways but is not
//! released when some other descriptor of the same file is closed in this
//! process; elsewhere a POSIX lock as Terraform.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::json::{self, Kind};

/// The text Terraform prints after a lock error, explaining locking.
pub const LOCK_ADVICE: &str = "Terraform acquires a state lock to protect the state from being written\nby multiple users at the same time. Please resolve the issue above and try\nagain. For most commands, you can disable locking with the \"-lock=false\"\nflag, but this is not recommended.";

/// The content of `.terraform.tfstate.lock.info`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// Random UUID of this lock.
    pub id: String,
    /// e.g. `OperationTypeApply`, `OperationTypePlan`, `OperationTypeInvalid`.
    pub operation: String,
    /// Free-form extra information.
    pub info: String,
    /// `user@host`.
    pub who: String,
    /// Version of the locking program (the compatible Terraform version).
    pub version: String,
    /// Creation time, RFC 3339 with nanoseconds, UTC (`2021-07-28T10:00:00.123Z`).
    pub created: String,
    /// The state path as given.
    pub path: String,
}

impl LockInfo {
    /// A new lock info for `operation` now, by the current user.
    pub fn new(operation: &str, version: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().hyphenated().to_string(),
            operation: operation.to_string(),
            info: String::new(),
            who: who(),
            version: version.to_string(),
            created: rfc3339_nano(SystemTime::now()),
            path: String::new(),
        }
    }

    /// Compact JSON as Terraform writes it (no final newline).
    pub fn to_json(&self) -> String {
        format!(
            "{{\"ID\":{},\"Operation\":{},\"Info\":{},\"Who\":{},\"Version\":{},\"Created\":{},\"Path\":{}}}",
            json::quote(&self.id),
            json::quote(&self.operation),
            json::quote(&self.info),
            json::quote(&self.who),
            json::quote(&self.version),
            json::quote(&self.created),
            json::quote(&self.path)
        )
    }

    /// Parses a lock info file; `None` if it is not one.
    pub fn parse(src: &[u8]) -> Option<LockInfo> {
        let node = json::parse(src).ok()?;
        let get = |k: &str| match node.member(k).map(|n| &n.kind) {
            Some(Kind::String(s)) => s.clone(),
            _ => String::new(),
        };
        if !matches!(node.kind, Kind::Object(_)) {
            return None;
        }
        Some(LockInfo {
            id: get("ID"),
            operation: get("Operation"),
            info: get("Info"),
            who: get("Who"),
            version: get("Version"),
            created: get("Created"),
            path: get("Path"),
        })
    }

    /// `Created` as Go prints a UTC time (`2021-07-28 10:00:00.123 +0000 UTC`).
    pub fn created_display(&self) -> String {
        let c = &self.created;
        match c.strip_suffix('Z') {
            Some(rest) if rest.len() >= 19 && rest.as_bytes().get(10) == Some(&b'T') => {
                format!("{} {} +0000 UTC", &rest[..10], &rest[11..])
            }
            _ => c.clone(),
        }
    }
}

impl fmt::Display for LockInfo {
    /// The `Lock Info:` block as Terraform prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Lock Info:")?;
        writeln!(f, "  ID:        {}", self.id)?;
        writeln!(f, "  Path:      {}", self.path)?;
        writeln!(f, "  Operation: {}", self.operation)?;
        writeln!(f, "  Who:       {}", self.who)?;
        writeln!(f, "  Version:   {}", self.version)?;
        writeln!(f, "  Created:   {}", self.created_display())?;
        writeln!(f, "  Info:      {}", self.info)
    }
}

/// Why a lock could not be taken or released.
#[derive(Debug)]
pub enum LockError {
    /// Someone else holds the lock; their info if it could be read.
    Held {
        /// Their lock info.
        info: Option<Box<LockInfo>>,
    },
    /// Someone else holds the lock, in the store's own words (pg:
    /// "Workspace is already locked: NAME") and with the info the store
    /// shows beside them (pg shows the requester's own, as Terraform does).
    /// Retried by `-lock-timeout` as `Held` is.
    Busy {
        /// The store's message.
        message: String,
        /// The lock info shown under it.
        info: Option<Box<LockInfo>>,
    },
    /// Unlocking with an ID that is not the current lock's.
    IdMismatch {
        /// The ID given.
        given: String,
        /// The lock's.
        existing: String,
    },
    /// Not locked by this manager.
    NotLocked,
    /// The store failed to take or release the lock (an unexpected
    /// response, a network error), in the store's words.
    Failed(String),
    /// A file system error.
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
}

impl fmt::Display for LockError {
    /// Formatted as Terraform's "Error message: ..." part of
    /// "Error acquiring the state lock".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockError::Held { info } => {
                writeln!(f, "resource temporarily unavailable")?;
                match info {
                    Some(i) => write!(f, "{i}"),
                    None => Ok(()),
                }
            }
            LockError::Busy { message, info } => match info {
                Some(i) => write!(f, "{message}\n{i}"),
                None => f.write_str(message),
            },
            LockError::IdMismatch { given, existing } => {
                write!(
                    f,
                    "lock id {} does not match existing lock {}",
                    json::quote(given),
                    json::quote(existing)
                )
            }
            LockError::NotLocked => write!(f, "state is not locked"),
            LockError::Failed(message) => f.write_str(message),
            LockError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for LockError {}

/// The lock info file for a state file: `.<name>.lock.info` beside it.
pub fn lock_info_path(state_path: &Path) -> PathBuf {
    let name = state_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    state_path.with_file_name(format!(".{name}.lock.info"))
}

/// A held lock: the locked descriptor of the state file and its info.
#[derive(Debug)]
pub(crate) struct HeldLock {
    pub file: File,
    pub info: LockInfo,
    pub info_path: PathBuf,
}

/// Takes a non-blocking exclusive lock on the whole of `file`.
pub(crate) fn try_lock_file(file: &File) -> io::Result<()> {
    lock_file(file, libc::F_WRLCK as libc::c_short)
}

fn lock_file(file: &File, kind: libc::c_short) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    // SAFETY: flock is a plain C struct; all-zero is a valid value.
    let mut fl: libc::flock = unsafe { std::mem::zeroed() };
    fl.l_type = kind;
    fl.l_whence = libc::SEEK_SET as libc::c_short;
    fl.l_start = 0;
    fl.l_len = 0;
    #[cfg(target_os = "linux")]
    let cmd = libc::F_OFD_SETLK;
    #[cfg(not(target_os = "linux"))]
    let cmd = libc::F_SETLK;
    // SAFETY: the descriptor is valid for the life of `file`, and `fl` is a
    // valid flock structure.
    let r = unsafe { libc::fcntl(file.as_raw_fd(), cmd, &mut fl as *mut libc::flock) };
    if r == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LockError + '_ {
    move |error| LockError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// Locks `state_path` as Terraform does; `display_path` is recorded as the
/// info's `Path`.
pub(crate) fn acquire(
    state_path: &Path,
    mut info: LockInfo,
    display_path: &str,
) -> Result<HeldLock, LockError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(state_path)
        .map_err(io_err(state_path))?;
    let info_path = lock_info_path(state_path);
    if let Err(e) = try_lock_file(&file) {
        if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::EACCES)) {
            let info = std::fs::read(&info_path)
                .ok()
                .and_then(|b| LockInfo::parse(&b));
            return Err(LockError::Held {
                info: info.map(Box::new),
            });
        }
        return Err(LockError::Io {
            path: state_path.to_path_buf(),
            error: e,
        });
    }
    info.path = display_path.to_string();
    write_info(&info_path, &info).map_err(io_err(&info_path))?;
    Ok(HeldLock {
        file,
        info,
        info_path,
    })
}

fn write_info(path: &Path, info: &LockInfo) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(info.to_json().as_bytes())?;
    f.sync_all()
}

/// Releases a lock: removes the info file, then the state file if it is
/// empty (created only to be locked), then the OS lock.
pub(crate) fn release(lock: HeldLock, state_path: &Path) -> Result<(), LockError> {
    match std::fs::remove_file(&lock.info_path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(LockError::Io {
                path: lock.info_path.clone(),
                error: e,
            })
        }
    }
    if let Ok(meta) = lock.file.metadata() {
        if meta.len() == 0 {
            let _ = std::fs::remove_file(state_path);
        }
    }
    let _ = lock_file(&lock.file, libc::F_UNLCK as libc::c_short);
    drop(lock);
    Ok(())
}

fn who() -> String {
    let user = user_name().unwrap_or_default();
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length.
    let host = if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    format!("{user}@{host}")
}

fn user_name() -> Option<String> {
    // SAFETY: getpwuid_r writes into our buffers; the result pointer is
    // either null or points into `pwd`.
    unsafe {
        let uid = libc::getuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let r = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if r != 0 || result.is_null() || pwd.pw_name.is_null() {
            return std::env::var("USER").ok();
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// `SystemTime` as Go's RFC3339Nano in UTC (trailing zeros of the fraction
/// trimmed).
pub fn rfc3339_nano(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let nanos = d.subsec_nanos();
    let days = secs.div_euclid(86400);
    let rem = secs.rem_euclid(86400);
    let (y, m, day) = civil_from_days(days);
    let mut s = format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    );
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn time_format() {
        let t = UNIX_EPOCH + Duration::new(1_785_436_404, 357_493_508);
        assert_eq!(rfc3339_nano(t), "2026-07-30T18:33:24.357493508Z");
        let t = UNIX_EPOCH + Duration::new(951_782_400, 120_000_000);
        assert_eq!(rfc3339_nano(t), "2000-02-29T00:00:00.12Z");
        assert_eq!(rfc3339_nano(UNIX_EPOCH), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn info_round_trip_and_display() {
        // Recorded from Terraform 1.0.3 holding a lock during `apply`.
        let recorded = r#"{"ID":"e6eb95c0-3099-6140-9a03-47e3ec7567d4","Operation":"OperationTypeApply","Info":"","Who":"root@vm","Version":"1.0.3","Created":"2026-11-23T18:33:24.357493508Z","Path":"terraform.tfstate"}"#;
        let info = LockInfo::parse(recorded.as_bytes()).expect("parses");
        assert_eq!(info.to_json(), recorded);
        let err = LockError::Held {
            info: Some(Box::new(info)),
        };
        // As printed by `terraform plan` while the lock was held (after
        // "Error message: ").
        assert_eq!(
            err.to_string(),
            "resource temporarily unavailable\nLock Info:\n  ID:        e6eb95c0-3099-6140-9a03-47e3ec7567d4\n  Path:      terraform.tfstate\n  Operation: OperationTypeApply\n  Who:       root@vm\n  Version:   1.0.3\n  Created:   2026-11-23 18:33:24.357493508 +0000 UTC\n  Info:      \n"
        );
    }
}
