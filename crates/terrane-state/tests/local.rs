//! The local state manager: serial, lineage and backup rules, atomic
//! writes, locking (and, when a Terraform is on PATH, locking interop with
//! it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use terrane_state::{
    lock_info_path, read, Backup, Instance, LocalState, LocalStateOptions, LockError, LockInfo,
    Mode, RawJson, ReadOptions, Resource, State, StateFile, StateWriteError,
};

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "terrane-state-{tag}-{}-{}",
            std::process::id(),
            uuid_like()
        ));
        fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn uuid_like() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn state_with(ids: &[&str]) -> State {
    State {
        resources: vec![Resource {
            module: String::new(),
            mode: Mode::Managed,
            type_: "null_resource".into(),
            name: "a".into(),
            each: None,
            provider: "provider[\"registry.terraform.io/hashicorp/null\"]".into(),
            instances: ids
                .iter()
                .enumerate()
                .map(|(i, id)| Instance {
                    index_key: Some(terrane_state::IndexKey::Int(i as i64)),
                    attributes: Some(
                        RawJson::parse(&format!("{{\"id\":\"{id}\",\"triggers\":null}}"))
                            .expect("json"),
                    ),
                    ..Instance::default()
                })
                .collect(),
        }],
        ..State::default()
    }
}

fn read_file(p: &Path) -> StateFile {
    let b = fs::read(p).expect("state file");
    read(&b, &ReadOptions::default())
        .expect("valid")
        .expect("not empty")
}

#[test]
fn serial_lineage_and_backup_rules() {
    let dir = TempDir::new("rules");
    let path = dir.path().join("terraform.tfstate");
    let backup = dir.path().join("terraform.tfstate.backup");

    let mut m = LocalState::new(LocalStateOptions::new(&path));
    assert!(m.refresh().expect("refresh").is_none());
    let first = m.write(&state_with(&["1"])).expect("write").clone();
    assert_eq!(first.serial, 1);
    assert_eq!(first.lineage.len(), 36);
    assert_eq!(first.terraform_version, "1.0.3");
    assert!(!backup.exists(), "no backup without a previous state");
    assert_eq!(read_file(&path), first);

    // Unchanged content: same serial.
    assert_eq!(m.write(&state_with(&["1"])).expect("write").serial, 1);
    // Each change: serial + 1; the backup is the state read at the start
    // of the session (here: none), so still none.
    assert_eq!(m.write(&state_with(&["1", "2"])).expect("write").serial, 2);
    assert!(!backup.exists());
    drop(m);

    // A new session: the first change backs up the state as read.
    let before = fs::read(&path).expect("state");
    let mut m = LocalState::new(LocalStateOptions::new(&path));
    m.refresh().expect("refresh");
    assert_eq!(m.write(&state_with(&["1", "2"])).expect("write").serial, 2);
    assert!(!backup.exists(), "no backup for a write without changes");
    assert_eq!(m.write(&state_with(&["3"])).expect("write").serial, 3);
    assert_eq!(fs::read(&backup).expect("backup"), before);
    assert_eq!(m.write(&state_with(&["4"])).expect("write").serial, 4);
    assert_eq!(
        fs::read(&backup).expect("backup"),
        before,
        "one backup per session"
    );
    assert_eq!(read_file(&path).lineage, first.lineage);

    // No temporary files are left behind.
    let names: Vec<String> = fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

/// Locked, the bytes read are not held but read back before the first
/// write: the backup is still exactly the file as read, even when that
/// first write (an unchanged snapshot in another spelling) rewrote it.
#[test]
fn locked_session_backs_up_the_state_as_read() {
    let dir = TempDir::new("locked-backup");
    let path = dir.path().join("terraform.tfstate");
    let backup = dir.path().join("terraform.tfstate.backup");
    let mut m = LocalState::new(LocalStateOptions::new(&path));
    m.refresh().expect("refresh");
    m.write(&state_with(&["1"])).expect("write");
    drop(m);
    // Same content, spelled differently (as another writer might).
    let as_read = fs::read_to_string(&path)
        .expect("state")
        .replace("\n  ", "\n    ");
    fs::write(&path, &as_read).expect("respell");

    let mut m = LocalState::new(LocalStateOptions::new(&path));
    let id = m.lock("OperationTypeApply", "").expect("lock");
    m.refresh().expect("refresh");
    assert_eq!(m.write(&state_with(&["1"])).expect("write").serial, 1);
    assert_ne!(
        fs::read_to_string(&path).expect("state"),
        as_read,
        "rewritten"
    );
    assert!(!backup.exists(), "no backup for a write without changes");
    assert_eq!(m.write(&state_with(&["2"])).expect("write").serial, 2);
    assert_eq!(fs::read_to_string(&backup).expect("backup"), as_read);
    m.unlock(&id).expect("unlock");
}

#[test]
fn state_out_and_backup_paths() {
    let dir = TempDir::new("paths");
    let input = dir.path().join("in.tfstate");
    let out = dir.path().join("out.tfstate");
    let custom_backup = dir.path().join("b.tfstate");
    let mut m = LocalState::new(LocalStateOptions::new(&input));
    m.refresh().expect("refresh");
    m.write(&state_with(&["1"])).expect("write");
    let in_bytes = fs::read(&input).expect("input");

    let mut opts = LocalStateOptions::new(&input);
    opts.out_path = Some(out.clone());
    opts.backup = Backup::Path(custom_backup.clone());
    let mut m = LocalState::new(opts);
    m.refresh().expect("refresh");
    let written = m.write(&state_with(&["2"])).expect("write").clone();
    assert_eq!(written.serial, 2);
    assert_eq!(
        fs::read(&input).expect("input"),
        in_bytes,
        "-state is not written with -state-out"
    );
    assert_eq!(read_file(&out), written);
    assert_eq!(fs::read(&custom_backup).expect("backup"), in_bytes);

    let mut opts = LocalStateOptions::new(&input);
    opts.backup = Backup::Disabled;
    let mut m = LocalState::new(opts);
    m.refresh().expect("refresh");
    m.write(&state_with(&["3"])).expect("write");
    assert!(!dir.path().join("in.tfstate.backup").exists());
}

#[test]
fn push_refuses_other_lineage_and_older_serial() {
    let dir = TempDir::new("push");
    let path = dir.path().join("terraform.tfstate");
    let mut m = LocalState::new(LocalStateOptions::new(&path));
    m.refresh().expect("refresh");
    let cur = m.write(&state_with(&["1"])).expect("write").clone();
    m.write(&state_with(&["2"])).expect("write");

    let mut other = cur.clone();
    other.lineage = "other".into();
    let err = m
        .write_file(&other, false)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    // Terraform's wording (terraform state push).
    assert_eq!(
        err,
        format!(
            "cannot import state with lineage \"other\" over unrelated state with lineage \"{}\"",
            cur.lineage
        )
    );
    let err = m.write_file(&cur, false).err();
    assert!(matches!(
        err,
        Some(StateWriteError::SerialRegression {
            new: 1,
            existing: 2
        })
    ));
    assert_eq!(
        err.map(|e| e.to_string()).unwrap_or_default(),
        "cannot import state with serial 1 over newer state with serial 2"
    );
    assert_eq!(m.write_file(&other, true).expect("forced").lineage, "other");
}

#[test]
fn corrupt_state_is_an_error_not_a_panic() {
    let dir = TempDir::new("corrupt");
    let path = dir.path().join("terraform.tfstate");
    fs::write(&path, b"{\"version\":4,\"serial\":").expect("write");
    let mut m = LocalState::new(LocalStateOptions::new(&path));
    let err = m.refresh().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("could not be parsed as JSON"), "{err}");
}

#[test]
fn permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = TempDir::new("perm");
    let path = dir.path().join("terraform.tfstate");
    let mut m = LocalState::new(LocalStateOptions::new(&path));
    m.refresh().expect("refresh");
    m.write(&state_with(&["1"])).expect("write");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).expect("chmod");
    m.write(&state_with(&["2"])).expect("write");
    assert_eq!(
        fs::metadata(&path).expect("meta").permissions().mode() & 0o777,
        0o600
    );
}

#[test]
fn locking() {
    let dir = TempDir::new("lock");
    let path = dir.path().join("terraform.tfstate");
    let info_path = lock_info_path(&path);
    assert_eq!(info_path, dir.path().join(".terraform.tfstate.lock.info"));

    let mut a = LocalState::new(LocalStateOptions::new(&path));
    let id = a.lock("OperationTypeApply", "").expect("lock");
    assert!(path.exists(), "locking creates the state file");
    let info = LockInfo::parse(&fs::read(&info_path).expect("info")).expect("lock info JSON");
    assert_eq!(info.id, id);
    assert_eq!(info.operation, "OperationTypeApply");
    assert_eq!(info.version, "1.0.3");
    assert!(info.who.contains('@'));
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&info_path).expect("meta").permissions().mode() & 0o777,
            0o600
        );
    }

    let mut b = LocalState::new(LocalStateOptions::new(&path));
    match b.lock("OperationTypePlan", "") {
        Err(LockError::Held { info: Some(i) }) => assert_eq!(i.id, id),
        other => panic!("expected a held lock, got {other:?}"),
    }

    // The lock follows the state file across atomic replacement.
    a.refresh().expect("refresh");
    a.write(&state_with(&["1"])).expect("write");
    a.write(&state_with(&["2"])).expect("write");
    assert!(matches!(
        b.lock("OperationTypePlan", ""),
        Err(LockError::Held { .. })
    ));

    let t0 = std::time::Instant::now();
    let timed = b.lock_with_timeout(
        "OperationTypePlan",
        "",
        std::time::Duration::from_millis(300),
    );
    assert!(matches!(timed, Err(LockError::Held { .. })));
    assert!(t0.elapsed() >= std::time::Duration::from_millis(300));

    assert!(matches!(
        a.unlock("wrong"),
        Err(LockError::IdMismatch { .. })
    ));
    a.unlock(&id).expect("unlock");
    assert!(!info_path.exists());
    let id_b = b.lock("OperationTypePlan", "").expect("lock after unlock");
    b.unlock(&id_b).expect("unlock");
    assert!(path.exists(), "a non-empty state stays");

    // An empty state file created only for locking is removed again.
    let other = dir.path().join("other.tfstate");
    let mut c = LocalState::new(LocalStateOptions::new(&other));
    let id_c = c.lock("OperationTypeApply", "").expect("lock");
    c.unlock(&id_c).expect("unlock");
    assert!(!other.exists());
}

/// Terraform, when on PATH (`. /tmp/terrane-peer/env.sh`), sees our lock
/// and we see its lock. Skipped otherwise.
#[test]
fn locking_interoperates_with_terraform() {
    let Some(tf) = terraform() else {
        eprintln!("terraform not on PATH: skipped");
        return;
    };
    let dir = TempDir::new("tflock");
    fs::write(dir.path().join("main.tf"), "output \"x\" { value = 1 }\n").expect("config");
    let path = dir.path().join("terraform.tfstate");

    // We hold the lock: terraform plan fails and shows our lock info.
    let mut ours = LocalState::new(LocalStateOptions::new(&path));
    let id = ours.lock("OperationTypeApply", "").expect("lock");
    let out = Command::new(&tf)
        .args(["plan", "-input=false", "-no-color", "-lock-timeout=0s"])
        .current_dir(dir.path())
        .output()
        .expect("run terraform");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("Error acquiring the state lock"), "{text}");
    assert!(
        text.contains("Error message: resource temporarily unavailable"),
        "{text}"
    );
    assert!(text.contains(&format!("ID:        {id}")), "{text}");
    ours.unlock(&id).expect("unlock");

    // Terraform holds the lock (apply waiting at its prompt): we see it.
    let mut child = Command::new(&tf)
        .args(["apply", "-no-color"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run terraform");
    let mut theirs = None;
    for _ in 0..200 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let mut probe = LocalState::new(LocalStateOptions::new(&path));
        match probe.lock("OperationTypePlan", "") {
            Err(LockError::Held { info }) => {
                theirs = info;
                break;
            }
            Ok(id) => {
                let _ = probe.unlock(&id);
            }
            Err(e) => panic!("{e}"),
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let info = theirs.expect("terraform's lock was seen");
    assert_eq!(info.operation, "OperationTypeApply");
    assert_eq!(info.version, "1.0.3");
    assert_eq!(info.path, "terraform.tfstate");
}

/// A state written by terrane is read by Terraform unchanged: `terraform
/// state pull` re-serializes it to the same bytes.
#[test]
fn terraform_reads_what_we_write() {
    let Some(tf) = terraform() else {
        eprintln!("terraform not on PATH: skipped");
        return;
    };
    let dir = TempDir::new("tfread");
    let path = dir.path().join("terraform.tfstate");
    let mut m = LocalState::new(LocalStateOptions::new(&path));
    m.refresh().expect("refresh");
    let mut st = state_with(&["1", "2", "<&>"]);
    st.resources[0].instances[1].private = Some(b"{\"schema_version\":\"0\"}".to_vec());
    m.write(&st).expect("write");
    let out = Command::new(&tf)
        .args(["state", "pull"])
        .current_dir(dir.path())
        .output()
        .expect("run terraform");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut pulled = out.stdout;
    assert_eq!(pulled.pop(), Some(b'\n'));
    assert_eq!(
        String::from_utf8_lossy(&pulled),
        String::from_utf8_lossy(&fs::read(&path).expect("state"))
    );
}

/// Terraform 1.0.3 from PATH (`. /tmp/terrane-peer/env.sh`); any other
/// version is ignored (other versions write other bytes).
fn terraform() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let tf = std::env::split_paths(&path)
        .map(|d| d.join("terraform"))
        .find(|p| p.is_file())?;
    let out = Command::new(&tf).arg("version").output().ok()?;
    String::from_utf8_lossy(&out.stdout)
        .starts_with("Terraform v1.0.3\n")
        .then_some(tf)
}
