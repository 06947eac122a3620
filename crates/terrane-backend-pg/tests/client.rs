//! The pg backend against a real PostgreSQL started for the test
//! (`terrane_testkit::PgServer`; skipped outside CI when PostgreSQL is not
//! installed).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use terrane_backend_pg::{PgBackend, PgClient, PgSettings};
use terrane_state::{
    read, Backend, BackendConfig, LockError, LockInfo, ReadOptions, RemoteClient, State,
};
use terrane_testkit::PgServer;

fn settings(server: &PgServer) -> PgSettings {
    PgSettings {
        conn_str: server.url(),
        schema_name: "terraform_remote_state".into(),
        skip_schema_creation: false,
        skip_table_creation: false,
        skip_index_creation: false,
    }
}

fn backend(server: &PgServer) -> PgBackend {
    PgBackend::connect(&settings(server)).expect("connect")
}

fn state_with_output(v: &str) -> State {
    let src = format!(
        "{{\"version\":4,\"terraform_version\":\"1.0.3\",\"serial\":1,\"lineage\":\"l\",\"outputs\":{{\"o\":{{\"value\":\"{v}\",\"type\":\"string\"}}}},\"resources\":[]}}"
    );
    read(src.as_bytes(), &ReadOptions::default())
        .expect("valid state")
        .expect("a state")
        .state
}

fn lock_info() -> LockInfo {
    LockInfo::new("OperationTypeApply", "1.0.3")
}

fn busy_message(r: Result<String, LockError>) -> String {
    match r {
        Err(LockError::Busy { message, info }) => {
            let info = info.expect("the requester's info is shown");
            assert_eq!(info.path, "", "Terraform shows an empty Path");
            message
        }
        other => panic!("expected a busy lock, got {other:?}"),
    }
}

#[test]
fn layout_workspaces_round_trip_and_delete() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let config: BackendConfig =
        serde_json::from_value(serde_json::json!({ "conn_str": server.url() })).expect("config");
    let mut b = (terrane_backend_pg::BACKEND.configure)(&config).expect("configure");

    // Terraform 1.0.3's layout.
    assert_eq!(
        server.psql(
            "SELECT column_name, data_type, column_default FROM information_schema.columns \
             WHERE table_schema = 'terraform_remote_state' AND table_name = 'states' \
             ORDER BY ordinal_position"
        ),
        "id|bigint|nextval('global_states_id_seq'::regclass)\nname|text|\ndata|text|\n"
    );
    assert_eq!(
        server.psql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'terraform_remote_state' \
             ORDER BY indexname"
        ),
        "states_by_name\nstates_name_key\nstates_pkey\n"
    );

    assert_eq!(b.workspaces().expect("list"), ["default"]);
    let mut mgr = b.state_mgr("default").expect("mgr");
    assert!(mgr.refresh().expect("refresh").is_none());
    let written = mgr
        .write(&state_with_output("hello"))
        .expect("write")
        .clone();

    // Another connection reads what was written, byte for byte.
    let mut other = backend(&server);
    let mut other_mgr = other.state_mgr("default").expect("mgr");
    let read_back = other_mgr
        .refresh()
        .expect("refresh")
        .cloned()
        .expect("state");
    assert_eq!(read_back, written);
    assert_eq!(
        server.psql("SELECT data FROM terraform_remote_state.states WHERE name = 'default'"),
        format!("{}\n", terrane_state::serialize(&written))
    );

    // A new workspace exists once its state manager is made (an empty
    // state row, as Terraform's pg backend writes).
    let mut dev = b.state_mgr("dev").expect("dev");
    let dev_state = dev
        .refresh()
        .expect("refresh")
        .cloned()
        .expect("empty state");
    assert_eq!(dev_state.state, State::default());
    b.state_mgr("a-first").expect("a-first");
    assert_eq!(
        other.workspaces().expect("list"),
        ["default", "a-first", "dev"]
    );
    b.delete_workspace("dev").expect("delete");
    assert_eq!(other.workspaces().expect("list"), ["default", "a-first"]);
    let err = b.delete_workspace("default").expect_err("default");
    assert_eq!(err.message, "can't delete default state");

    // A custom schema gets its own table, ids from the shared sequence.
    let mut custom = settings(&server);
    custom.schema_name = "Other \"schema\"".into();
    let mut c = PgBackend::connect(&custom).expect("custom schema");
    c.state_mgr("default")
        .expect("mgr")
        .write(&state_with_output("x"))
        .expect("write");
    assert_eq!(
        server.psql("SELECT count(*) FROM \"Other \"\"schema\"\"\".states"),
        "1\n"
    );
    assert_eq!(
        server.psql(
            "SELECT count(DISTINCT id) FROM (SELECT id FROM terraform_remote_state.states \
             UNION ALL SELECT id FROM \"Other \"\"schema\"\"\".states) ids"
        ),
        "3\n",
        "ids are unique across schemas"
    );

    // skip_*_creation: nothing is created, and a missing table is an error.
    let mut skipped = settings(&server);
    skipped.schema_name = "absent".into();
    skipped.skip_schema_creation = true;
    skipped.skip_table_creation = true;
    skipped.skip_index_creation = true;
    let mut s = PgBackend::connect(&skipped).expect("nothing to create");
    let err = s.workspaces().expect_err("no table");
    assert_eq!(err.message, "pq: relation \"absent.states\" does not exist");
    assert!(!err.transient);
}

#[test]
fn locks_exclude_other_connections_with_terraforms_messages() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut a = backend(&server);
    let b = backend(&server);
    a.state_mgr("default")
        .expect("mgr")
        .write(&state_with_output("v"))
        .expect("write");
    let row_id = server.psql("SELECT id FROM terraform_remote_state.states WHERE name = 'default'");

    let mut holder: PgClient = a.client("default");
    let info = lock_info();
    assert_eq!(holder.lock(&info).expect("lock"), info.id);
    // The key is the row id (an int8 advisory lock: objsubid 1).
    assert_eq!(
        server.psql(
            "SELECT (classid::bigint << 32) | objid::bigint, objsubid FROM pg_locks \
             WHERE locktype = 'advisory' AND granted"
        ),
        format!("{}|1\n", row_id.trim())
    );
    let mut contender = b.client("default");
    assert_eq!(
        busy_message(contender.lock(&lock_info())),
        "Workspace is already locked: default"
    );
    // The refused attempt left no creation lock behind.
    assert_eq!(
        server.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
        "1\n"
    );
    let text = format!(
        "{}",
        LockError::Busy {
            message: "Workspace is already locked: default".into(),
            info: Some(Box::new(info.clone())),
        }
    );
    assert!(text.starts_with("Workspace is already locked: default\nLock Info:\n  ID:        "));

    holder.unlock(&info.id).expect("unlock");
    let second = lock_info();
    assert_eq!(contender.lock(&second).expect("free now"), second.id);
    contender.unlock(&second.id).expect("unlock");

    // A workspace with no row is locked with the creation key -1, which
    // also keeps every other workspace from being locked meanwhile.
    let mut creator = a.client("new-ws");
    let creating = lock_info();
    creator.lock(&creating).expect("creation lock");
    assert_eq!(
        server.psql(
            "SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks \
             WHERE locktype = 'advisory' AND granted"
        ),
        "-1\n"
    );
    assert_eq!(
        busy_message(b.client("other-ws").lock(&lock_info())),
        "Already locked for workspace creation: other-ws"
    );
    assert_eq!(
        busy_message(b.client("default").lock(&lock_info())),
        "Cannot lock workspace; already locked for workspace creation: default"
    );
    creator.unlock(&creating.id).expect("unlock");
    assert_eq!(
        server.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
        "0\n"
    );

    // Unlocking someone else's ID while holding a lock is refused;
    // unlocking when holding nothing does nothing (Terraform's
    // force-unlock on pg).
    let mine = lock_info();
    holder.lock(&mine).expect("lock");
    assert!(matches!(
        holder.unlock("not-mine"),
        Err(LockError::IdMismatch { .. })
    ));
    b.client("default").unlock("whatever").expect("no-op");
    assert!(b.client("default").lock(&lock_info()).is_err());
    drop(holder);
    assert!(
        b.client("default").lock(&lock_info()).is_ok(),
        "dropping a client releases its lock"
    );
}

/// Set in the child process of `a_lock_dies_with_its_holder`.
const HOLDER_ENV: &str = "TERRANE_PG_TEST_LOCK_HOLDER";

#[test]
fn a_lock_dies_with_its_holder() {
    if let Ok(url) = std::env::var(HOLDER_ENV) {
        // The child: take the lock, say so, and wait to be killed.
        let s = PgSettings {
            conn_str: url,
            schema_name: "terraform_remote_state".into(),
            skip_schema_creation: false,
            skip_table_creation: false,
            skip_index_creation: false,
        };
        let b = PgBackend::connect(&s).expect("connect");
        let mut c = b.client("default");
        c.lock(&lock_info()).expect("lock");
        println!("LOCKED");
        std::thread::sleep(Duration::from_secs(600));
        return;
    }
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut b = backend(&server);
    b.state_mgr("default")
        .expect("mgr")
        .write(&state_with_output("v"))
        .expect("write");
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "a_lock_dies_with_its_holder",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(HOLDER_ENV, server.url())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the holder");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let locked = lines.any(|l| l.map(|l| l.contains("LOCKED")).unwrap_or(false));
    assert!(locked, "the holder did not take the lock");

    let mut c = b.client("default");
    assert_eq!(
        busy_message(c.lock(&lock_info())),
        "Workspace is already locked: default"
    );
    child.kill().expect("kill -9 the holder");
    child.wait().expect("reap");
    // The server ends the dead client's session when it sees the socket
    // close; poll for that (bounded, not a timing assertion).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match c.lock(&lock_info()) {
            Ok(_) => break,
            Err(LockError::Busy { .. }) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(100))
            }
            Err(e) => panic!("the lock was not released with its holder: {e}"),
        }
    }
}

#[test]
fn readers_never_see_a_partial_put() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut b = backend(&server);
    b.state_mgr("default").expect("mgr");
    // Two large, different payloads written alternately while another
    // connection reads: every read is one of them, whole.
    let big_a = format!("{{\"a\":\"{}\"}}", "a".repeat(2_000_000));
    let big_b = format!("{{\"b\":\"{}\"}}", "b".repeat(1_500_000));
    let mut writer = b.client("default");
    writer.put(big_a.as_bytes()).expect("put");
    let reader_backend = backend(&server);
    let (a2, b2) = (big_a.clone(), big_b.clone());
    let reader = std::thread::spawn(move || {
        let mut r = reader_backend.client("default");
        let mut seen = (0, 0);
        for _ in 0..60 {
            let got = r.get().expect("get").expect("a row");
            if got == a2.as_bytes() {
                seen.0 += 1;
            } else if got == b2.as_bytes() {
                seen.1 += 1;
            } else {
                panic!("a read saw a mix ({} bytes)", got.len());
            }
        }
        seen
    });
    for i in 0..60 {
        let data = if i % 2 == 0 { &big_b } else { &big_a };
        writer.put(data.as_bytes()).expect("put");
    }
    let (seen_a, seen_b) = reader.join().expect("reader");
    assert_eq!(seen_a + seen_b, 60);
    writer.delete().expect("delete");
    assert!(writer.get().expect("get").is_none());
    writer.delete().expect("deleting nothing is fine");
}

#[test]
fn a_lost_connection_is_transient_and_the_lock_is_taken_again() {
    let Some(mut server) = PgServer::start() else {
        return;
    };
    let mut a = backend(&server);
    a.state_mgr("default")
        .expect("mgr")
        .write(&state_with_output("v"))
        .expect("write");
    let mut holder = a.client("default");
    let info = lock_info();
    holder.lock(&info).expect("lock");

    server.kill();
    let err = holder.get().expect_err("server down");
    assert!(err.transient, "{err:?} should be transient");
    let err = holder.get().expect_err("still down: connecting fails");
    assert!(err.transient, "{err:?} should be transient");
    assert!(
        err.message.starts_with("cannot connect to PostgreSQL"),
        "{}",
        err.message
    );

    server.resume();
    // Reconnects, retakes the lock, then reads.
    assert!(holder.get().expect("back").is_some());
    let b = backend(&server);
    assert_eq!(
        busy_message(b.client("default").lock(&lock_info())),
        "Workspace is already locked: default"
    );
    holder.unlock(&info.id).expect("unlock");
    assert!(b.client("default").lock(&lock_info()).is_ok());
}

#[test]
fn connection_errors_name_the_problem() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut s = settings(&server);
    s.conn_str = format!(
        "postgres://nobody_here@127.0.0.1:{}/postgres?sslmode=disable",
        server.port()
    );
    let err = PgBackend::connect(&s).err().expect("unknown role");
    assert_eq!(err.message, "pq: role \"nobody_here\" does not exist");
    assert!(!err.transient);

    // Key/value form over the Unix socket.
    s.conn_str = format!(
        "host={} port={} user=postgres dbname=postgres sslmode=disable",
        server.socket_dir().display(),
        server.port()
    );
    let mut b = PgBackend::connect(&s).expect("unix socket");
    assert_eq!(b.workspaces().expect("list"), ["default"]);

    s.conn_str = "postgres://u@127.0.0.1:1/x?sslmode=disable".into();
    let err = PgBackend::connect(&s).err().expect("refused");
    assert!(err.transient);
    s.conn_str = "postgres://u@h/x?sslmode=allow".into();
    let err = PgBackend::connect(&s).err().expect("bad sslmode");
    assert!(
        err.message.contains("unsupported sslmode \"allow\""),
        "{}",
        err.message
    );
}

/// A self-signed certificate for `localhost` made with the openssl CLI
/// (Debian's postgresql depends on it), installed in the server's
/// directory; `None` outside CI when openssl is missing.
fn enable_server_tls(server: &PgServer) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = server.socket_dir().to_path_buf();
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    let (ca_cert, ca_key) = (dir.join("ca.crt"), dir.join("ca.key"));
    let (csr, ext) = (dir.join("server.csr"), dir.join("server.ext"));
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .expect("write the extensions");
    let steps: [Vec<&std::ffi::OsStr>; 3] = [
        // A CA, then a certificate for localhost signed by it (webpki
        // refuses a CA certificate as the server's own).
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=terrane test CA",
            "-keyout",
        ]
        .iter()
        .map(std::ffi::OsStr::new)
        .chain([ca_key.as_os_str(), "-out".as_ref(), ca_cert.as_os_str()])
        .collect(),
        [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ]
        .iter()
        .map(std::ffi::OsStr::new)
        .chain([key.as_os_str(), "-out".as_ref(), csr.as_os_str()])
        .collect(),
        ["x509", "-req", "-days", "2", "-CAcreateserial", "-in"]
            .iter()
            .map(std::ffi::OsStr::new)
            .chain([
                csr.as_os_str(),
                "-CA".as_ref(),
                ca_cert.as_os_str(),
                "-CAkey".as_ref(),
                ca_key.as_os_str(),
                "-extfile".as_ref(),
                ext.as_os_str(),
                "-out".as_ref(),
                cert.as_os_str(),
            ])
            .collect(),
    ];
    for args in steps {
        let made = Command::new("openssl").args(&args).output();
        match made {
            Ok(out) if out.status.success() => {}
            other => {
                let why = format!("openssl could not make a test certificate: {other:?}");
                if std::env::var("CI").as_deref() == Ok("true") {
                    panic!("{why}");
                }
                eprintln!("skipping: {why}");
                return None;
            }
        }
    }
    let owner = std::fs::metadata(&dir).expect("server dir");
    for f in [&cert, &key] {
        std::os::unix::fs::chown(f, Some(owner.uid()), Some(owner.gid())).expect("chown");
    }
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    server.psql(&format!(
        "ALTER SYSTEM SET ssl_cert_file = '{}'",
        cert.display()
    ));
    server.psql(&format!(
        "ALTER SYSTEM SET ssl_key_file = '{}'",
        key.display()
    ));
    server.psql("ALTER SYSTEM SET ssl = on");
    server.psql("SELECT pg_reload_conf()");
    Some(ca_cert)
}

#[test]
fn tls_modes_as_lib_pq() {
    let Some(server) = PgServer::start() else {
        return;
    };
    // A server without TLS: the default sslmode (require) fails as lib/pq's.
    let mut s = settings(&server);
    s.conn_str = format!("postgres://postgres@127.0.0.1:{}/postgres", server.port());
    let err = PgBackend::connect(&s).err().expect("no TLS on the server");
    assert!(
        err.message
            .starts_with("pq: SSL is not enabled on the server"),
        "{}",
        err.message
    );
    assert!(!err.transient);

    let Some(cert) = enable_server_tls(&server) else {
        return;
    };
    let port = server.port();
    let encrypted_sessions = || {
        server
            .psql("SELECT count(*) FROM pg_stat_ssl WHERE ssl")
            .trim()
            .to_string()
    };
    let connect = |conn_str: String| {
        let mut s = settings(&server);
        s.conn_str = conn_str;
        PgBackend::connect(&s)
    };
    // require (the default): encrypted, the certificate unchecked.
    let mut b = connect(format!("postgres://postgres@127.0.0.1:{port}/postgres")).expect("require");
    assert_eq!(b.workspaces().expect("list"), ["default"]);
    assert_eq!(encrypted_sessions(), "1");
    drop(b);
    // verify-full: the chain from sslrootcert and the name.
    let mut b = connect(format!(
        "host=localhost port={port} user=postgres dbname=postgres sslmode=verify-full sslrootcert={}",
        cert.display()
    ))
    .expect("verify-full");
    assert_eq!(b.workspaces().expect("list"), ["default"]);
    drop(b);
    let err = connect(format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=verify-full&sslrootcert={}",
        cert.display()
    ))
    .err()
    .expect("127.0.0.1 is not the certificate's name");
    assert!(err.message.contains("certificate"), "{}", err.message);
    assert!(!err.transient, "a certificate error is not retried");
    // verify-ca: the chain, not the name.
    connect(format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=verify-ca&sslrootcert={}",
        cert.display()
    ))
    .expect("verify-ca");
    // Without sslrootcert the system roots do not know a self-signed one.
    let err = connect(format!(
        "postgres://postgres@localhost:{port}/postgres?sslmode=verify-full"
    ))
    .err()
    .expect("unknown issuer");
    assert!(err.message.contains("certificate"), "{}", err.message);
}

#[test]
fn ten_writers_at_once_take_turns_under_the_lock() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let mut first = backend(&server);
    let start = first
        .state_mgr("default")
        .expect("mgr")
        .write(&state_with_output("start"))
        .expect("write")
        .serial;
    // Each writer: its own connection; lock (no waiting, or waiting up to
    // a minute), read, write a state naming itself, unlock.
    let round = |wait: Duration, tag: &'static str| {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(10));
        let writers: Vec<_> = (0..10)
            .map(|i| {
                let url = server.url();
                let barrier = std::sync::Arc::clone(&barrier);
                std::thread::spawn(move || {
                    let s = PgSettings {
                        conn_str: url,
                        schema_name: "terraform_remote_state".into(),
                        skip_schema_creation: false,
                        skip_table_creation: false,
                        skip_index_creation: false,
                    };
                    let mut b = PgBackend::connect(&s).expect("connect");
                    let mut mgr = b.state_mgr("default").expect("mgr");
                    barrier.wait();
                    let id = match mgr.lock_with_timeout("OperationTypeApply", "", wait) {
                        Ok(id) => id,
                        Err(LockError::Busy { .. }) => return None,
                        Err(e) => panic!("unexpected lock error: {e}"),
                    };
                    mgr.refresh().expect("refresh");
                    let name = format!("{tag}{i}");
                    mgr.write(&state_with_output(&name))
                        .expect("write under the lock");
                    mgr.unlock(&id).expect("unlock");
                    Some(name)
                })
            })
            .collect();
        writers
            .into_iter()
            .filter_map(|w| w.join().expect("writer"))
            .collect::<Vec<String>>()
    };
    let serial = |b: &mut PgBackend| {
        b.state_mgr("default")
            .expect("mgr")
            .refresh()
            .expect("refresh")
            .map(|f| f.serial)
            .expect("state")
    };
    let won = round(Duration::ZERO, "a");
    assert!(!won.is_empty());
    let after = serial(&mut first);
    assert_eq!(
        after - start,
        won.len() as u64,
        "one serial per successful writer"
    );
    let all = round(Duration::from_secs(60), "b");
    assert_eq!(all.len(), 10, "with a timeout every writer gets its turn");
    assert_eq!(serial(&mut first) - after, 10);
    let stored = first
        .state_mgr("default")
        .expect("mgr")
        .refresh()
        .expect("refresh")
        .cloned()
        .expect("state");
    let last = all
        .iter()
        .find(|n| stored.state == state_with_output(n))
        .expect("the stored state is one writer's, whole");
    assert!(last.starts_with('b'));
}

#[test]
fn backends_configured_at_once_on_an_empty_database_all_succeed() {
    let Some(server) = PgServer::start() else {
        return;
    };
    // CREATE ... IF NOT EXISTS races between sessions; the losers retry.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let url = server.url();
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                let s = PgSettings {
                    conn_str: url,
                    schema_name: "raced".into(),
                    skip_schema_creation: false,
                    skip_table_creation: false,
                    skip_index_creation: false,
                };
                barrier.wait();
                PgBackend::connect(&s).map(|_| ()).map_err(|e| e.message)
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().expect("thread"), Ok(()));
    }
    assert_eq!(server.psql("SELECT count(*) FROM raced.states"), "0\n");
}
