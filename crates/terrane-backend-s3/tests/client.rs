//! The s3 backend against a real moto_server: state objects, workspaces,
//! both kinds of lock, the DynamoDB digest, versioning and error kinds.

mod common;

use std::time::Duration;

use common::{backend, config, moto_available, start_moto};
use terrane_state::backend::{Backend, RemoteClient};
use terrane_state::{read, LockError, LockInfo, ReadOptions, State};

fn state_with_output(v: &str) -> State {
    let src = format!(
        "{{\"version\":4,\"terraform_version\":\"1.0.3\",\"serial\":1,\"lineage\":\"l\",\"outputs\":{{\"o\":{{\"value\":\"{v}\",\"type\":\"string\"}}}},\"resources\":[]}}"
    );
    read(src.as_bytes(), &ReadOptions::default())
        .expect("valid state")
        .expect("a state")
        .state
}

fn lock_info(operation: &str) -> LockInfo {
    let mut info = LockInfo::new(operation, "1.0.3");
    info.info = "test".to_string();
    info
}

#[test]
fn state_objects_workspaces_and_versions() {
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("states", true);
    let mut b = backend(&config(&moto, "states", &[]));
    assert_eq!(b.workspaces().expect("list"), vec!["default"]);

    let mut mgr = b.state_mgr("default").expect("mgr");
    assert!(mgr.refresh().expect("refresh").is_none());
    let first = mgr.write(&state_with_output("one")).expect("write").clone();
    assert_eq!(first.serial, 1);
    mgr.write(&state_with_output("two")).expect("write");

    // Stored where Terraform stores it, and readable by another manager.
    let (status, body) = moto.get_object("states", "path/to/terraform.tfstate");
    assert_eq!(status, 200);
    assert!(body.contains("\"serial\": 2"), "{body}");
    let mut other = b.state_mgr("default").expect("mgr");
    let read_back = other.refresh().expect("refresh").cloned().expect("state");
    assert_eq!(
        (read_back.serial, read_back.lineage.clone()),
        (2, first.lineage.clone())
    );
    assert_eq!(read_back.state, state_with_output("two"));

    // Each upload is a new version; none is removed.
    assert_eq!(moto.version_count("states", "path/to/terraform.tfstate"), 2);

    for ws in ["prod", "dev"] {
        let mut m = b.state_mgr(ws).expect("mgr");
        m.refresh().expect("refresh");
        m.write(&state_with_output(ws)).expect("write");
    }
    // An object that is not a workspace state under the prefix is ignored.
    moto.put_object("states", "env:/stray/other.tfstate", b"{}");
    assert_eq!(
        moto.get_object("states", "env:/dev/path/to/terraform.tfstate")
            .0,
        200
    );
    assert_eq!(
        b.workspaces().expect("list"),
        vec!["default", "dev", "prod"]
    );

    b.delete_workspace("dev").expect("delete");
    assert_eq!(b.workspaces().expect("list"), vec!["default", "prod"]);
    assert_eq!(
        moto.get_object("states", "env:/dev/path/to/terraform.tfstate")
            .0,
        404
    );
    // The deleted state's version is still there behind a delete marker.
    assert_eq!(
        moto.version_count("states", "env:/dev/path/to/terraform.tfstate"),
        1
    );
    assert!(b.delete_workspace("default").is_err());
}

#[test]
fn dynamodb_lock_contention_names_the_holder_and_digest_is_kept() {
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("locked", false);
    moto.create_lock_table("locks");
    let cfg = config(&moto, "locked", &[("dynamodb_table", "locks".into())]);
    let b = backend(&cfg);
    let mut a = b.client("default");
    let mut c = b.client("default");

    let held = lock_info("OperationTypeApply");
    let id = a.lock(&held).expect("first lock");
    assert_eq!(id, held.id);
    let item = moto.get_item("locks", "locked/path/to/terraform.tfstate");
    assert!(
        item.contains(&held.id) && item.contains("OperationTypeApply"),
        "{item}"
    );

    match c.lock(&lock_info("OperationTypePlan")) {
        Err(LockError::Busy {
            message,
            info: Some(info),
        }) => {
            assert!(
                message.starts_with("ConditionalCheckFailedException: "),
                "{message}"
            );
            assert_eq!(info.id, held.id);
            assert_eq!(info.operation, "OperationTypeApply");
            assert_eq!(info.path, "locked/path/to/terraform.tfstate");
            assert_eq!(info.info, "test");
        }
        other => panic!("expected the lock to be held, got {other:?}"),
    }
    assert!(matches!(
        c.unlock("not-the-id"),
        Err(LockError::IdMismatch { .. })
    ));
    a.unlock(&id).expect("unlock");
    assert_eq!(
        moto.get_item("locks", "locked/path/to/terraform.tfstate"),
        ""
    );
    let second = c.lock(&lock_info("OperationTypePlan")).expect("free again");
    c.unlock(&second).expect("unlock");

    // Each upload records the MD5 Terraform checks on read.
    let data = b"{\"version\": 4}\n";
    a.put(data).expect("put");
    let digest = moto.get_item("locks", "locked/path/to/terraform.tfstate-md5");
    assert!(digest.contains("\"Digest\""), "{digest}");
    let expected = md5_hex(data);
    assert!(digest.contains(&expected), "{digest} lacks {expected}");
    assert_eq!(a.get().expect("get").as_deref(), Some(&data[..]));

    // An object changed behind the digest's back is refused after waiting.
    moto.put_object(
        "locked",
        "path/to/terraform.tfstate",
        b"{\"version\": 4, \"x\": 1}\n",
    );
    let mut impatient = b.client_with_consistency_timeout("default", Duration::from_millis(10));
    let err = impatient.get().expect_err("digest mismatch");
    assert!(
        err.message
            .contains("does not match the digest recorded in DynamoDB"),
        "{}",
        err.message
    );
    assert!(!err.transient);

    a.delete().expect("delete");
    assert_eq!(
        moto.get_item("locks", "locked/path/to/terraform.tfstate-md5"),
        ""
    );
}

#[test]
fn lockfile_lock_contention() {
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("lockfile", false);
    let cfg = config(&moto, "lockfile", &[("use_lockfile", true.into())]);
    let b = backend(&cfg);
    let mut a = b.client("staging");
    let mut c = b.client("staging");
    let held = lock_info("OperationTypeApply");
    let id = a.lock(&held).expect("lock");
    let (status, body) =
        moto.get_object("lockfile", "env:/staging/path/to/terraform.tfstate.tflock");
    assert_eq!(status, 200);
    let stored = LockInfo::parse(body.as_bytes()).expect("lock info json");
    assert_eq!(stored.id, held.id);
    assert_eq!(
        stored.path,
        "lockfile/env:/staging/path/to/terraform.tfstate"
    );

    match c.lock(&lock_info("OperationTypePlan")) {
        Err(LockError::Busy {
            message,
            info: Some(info),
        }) => {
            assert!(message.starts_with("PreconditionFailed"), "{message}");
            assert_eq!(info.id, held.id);
            assert_eq!(info.who, held.who);
        }
        other => panic!("expected the lock to be held, got {other:?}"),
    }
    assert!(matches!(
        c.unlock("other"),
        Err(LockError::IdMismatch { .. })
    ));
    a.unlock(&id).expect("unlock");
    assert_eq!(
        moto.get_object("lockfile", "env:/staging/path/to/terraform.tfstate.tflock")
            .0,
        404
    );
    let again = c.lock(&lock_info("OperationTypePlan")).expect("free again");
    c.unlock(&again).expect("unlock");
}

#[test]
fn both_locks_and_release_of_the_first_when_the_second_is_held() {
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("both", false);
    moto.create_lock_table("t");
    let cfg = config(
        &moto,
        "both",
        &[
            ("use_lockfile", true.into()),
            ("dynamodb_table", "t".into()),
        ],
    );
    let b = backend(&cfg);
    let mut a = b.client("default");
    // Only the table is taken by "a" (as a Terraform 1.0.3 would).
    let only_table = backend(&config(&moto, "both", &[("dynamodb_table", "t".into())]));
    let mut old = only_table.client("default");
    let held = old.lock(&lock_info("OperationTypeApply")).expect("lock");
    assert!(matches!(
        a.lock(&lock_info("OperationTypeApply")),
        Err(LockError::Busy { .. })
    ));
    // The lock file taken before the table refused was released again.
    assert_eq!(
        moto.get_object("both", "path/to/terraform.tfstate.tflock")
            .0,
        404
    );
    old.unlock(&held).expect("unlock");
    let id = a.lock(&lock_info("OperationTypeApply")).expect("lock");
    assert_eq!(
        moto.get_object("both", "path/to/terraform.tfstate.tflock")
            .0,
        200
    );
    a.unlock(&id).expect("unlock");
}

#[test]
fn a_dead_endpoint_is_a_transient_error_and_a_missing_bucket_is_not() {
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    let b = backend(&config(&moto, "nobucket", &[]));
    let err = b.client("default").get().expect_err("no bucket");
    assert!(!err.transient, "{err:?}");
    assert!(err.message.contains("NoSuchBucket"), "{}", err.message);

    let port = common::free_port();
    let mut dead = config(&moto, "x", &[]);
    dead.insert("endpoint".into(), format!("http://127.0.0.1:{port}").into());
    let err = backend(&dead).client("default").get().expect_err("refused");
    assert!(err.transient, "{err:?}");
    assert!(
        err.message
            .starts_with("failed to read s3://x/path/to/terraform.tfstate"),
        "{}",
        err.message
    );
}

fn md5_hex(data: &[u8]) -> String {
    use md5::Digest as _;
    md5::Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Ten writers at once, as ten `apply`s would: each takes the lock or is
/// refused with the lock error, and the stored serial grows by the number
/// that got through. Then ten that wait for the lock (`-lock-timeout`):
/// all get through one after another and no write is lost.
fn ten_writers(bucket: &str, extra: &[(&str, serde_json::Value)], with_table: bool) {
    let moto = start_moto();
    moto.create_bucket(bucket, false);
    if with_table {
        moto.create_lock_table("locks");
    }
    let cfg = config(&moto, bucket, extra);
    let stored_serial = || {
        let mut b = backend(&cfg);
        let mut mgr = b.state_mgr("default").expect("mgr");
        mgr.refresh()
            .expect("refresh")
            .map(|f| f.serial)
            .unwrap_or(0)
    };
    for wait in [Duration::ZERO, Duration::from_secs(120)] {
        let before = stored_serial();
        let start = std::sync::Arc::new(std::sync::Barrier::new(10));
        let writers: Vec<_> = (0..10)
            .map(|i| {
                let cfg = cfg.clone();
                let start = start.clone();
                std::thread::spawn(move || {
                    let mut b = backend(&cfg);
                    let mut mgr = b.state_mgr("default").expect("mgr");
                    start.wait();
                    let id = match mgr.lock_with_timeout("OperationTypeApply", "", wait) {
                        Ok(id) => id,
                        // (No info when the holder let go in between.)
                        Err(LockError::Busy { .. }) => return false,
                        Err(e) => panic!("writer {i}: unexpected lock error: {e}"),
                    };
                    mgr.refresh().expect("refresh");
                    let value = format!("writer {i} after {wait:?}");
                    mgr.write(&state_with_output(&value)).expect("write");
                    mgr.unlock(&id).expect("unlock");
                    true
                })
            })
            .collect();
        let done = writers
            .into_iter()
            .map(|w| w.join().expect("writer thread"))
            .filter(|ok| *ok)
            .count() as u64;
        assert!(done >= 1, "someone gets the lock");
        if !wait.is_zero() {
            assert_eq!(done, 10, "every waiting writer gets the lock in turn");
        }
        assert_eq!(
            stored_serial(),
            before + done,
            "the serial counts the writes"
        );
    }
}

#[test]
fn ten_writers_with_dynamodb_locking() {
    if !moto_available() {
        return;
    }
    ten_writers("busy-table", &[("dynamodb_table", "locks".into())], true);
}

#[test]
fn ten_writers_with_the_lock_file() {
    if !moto_available() {
        return;
    }
    ten_writers("busy-file", &[("use_lockfile", true.into())], false);
}

#[test]
fn encryption_and_acl_are_sent_with_uploads() {
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("sealed", false);
    let aes = backend(&config(
        &moto,
        "sealed",
        &[("encrypt", true.into()), ("acl", "public-read".into())],
    ));
    let mut c = aes.client("default");
    c.put(b"{}\n").expect("put");
    let (status, raw) = moto.raw_request("HEAD", "/sealed/path/to/terraform.tfstate", "s3");
    assert_eq!(status, 200, "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("x-amz-server-side-encryption: aes256"),
        "{raw}"
    );

    let (_, acl) = moto.raw_request("GET", "/sealed/path/to/terraform.tfstate?acl", "s3");
    assert!(
        acl.contains("http://acs.amazonaws.com/groups/global/AllUsers"),
        "{acl}"
    );

    // A customer key (moto accepts it but does not check it on reads, so
    // this only shows the request is well-formed).
    let key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // 32 bytes
    let sse_c = backend(&config(
        &moto,
        "sealed",
        &[
            ("encrypt", true.into()),
            ("sse_customer_key", key.into()),
            ("key", "customer.tfstate".into()),
        ],
    ));
    let mut c = sse_c.client("default");
    c.put(b"{\"v\": 1}\n").expect("put with a customer key");
    assert_eq!(c.get().expect("get").as_deref(), Some(&b"{\"v\": 1}\n"[..]));
}
