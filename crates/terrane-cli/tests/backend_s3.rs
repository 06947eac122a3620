//! `backend "s3"` through the CLI, against Terraform 1.0.3 on the same
//! moto_server (S3 + DynamoDB), started by the test:
//! * a state applied by either tool plans "No changes." with the other;
//! * a lock held by either tool blocks the other with the lock error;
//! * 10 terrane applies at once, with DynamoDB locking and with the S3
//!   lock file: each runs alone under the lock or fails with the lock
//!   error, and the final serial counts the successes;
//! * the store going away (a proxy in front of moto cuts every connection
//!   from the state upload on) in the middle of an apply of 200 resources:
//!   non-zero exit with `errored.tfstate`, which `state push` restores once
//!   the store is back, and the plan then shows no changes.
//!
//! Needs the Terraform peer and moto_server; skips without them outside
//! CI. The library-level counterparts are in crates/terrane-backend-s3/tests.

mod common;

use terrane_testkit::{moto_available, s3_backend_arguments, MotoServer, MotoThreading};

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::peer_dir;

const TERRANE: &str = env!("CARGO_BIN_EXE_terrane");

/// A single-threaded moto_server (the lock tests need a linearizable
/// store) with the bucket `states` and the table `locks`; killed on drop.
struct Moto {
    _server: MotoServer,
    port: u16,
}

impl Moto {
    fn start() -> Moto {
        let server = MotoServer::spawn(MotoThreading::SingleThreaded);
        let port = server.port();
        let moto = Moto {
            _server: server,
            port,
        };
        moto.request("PUT", "/states", "s3", &[], "");
        moto.request(
            "POST",
            "/",
            "dynamodb",
            &[
                ("X-Amz-Target", "DynamoDB_20120810.CreateTable"),
                ("Content-Type", "application/x-amz-json-1.0"),
            ],
            r#"{"TableName":"locks","KeySchema":[{"AttributeName":"LockID","KeyType":"HASH"}],"AttributeDefinitions":[{"AttributeName":"LockID","AttributeType":"S"}],"BillingMode":"PAY_PER_REQUEST"}"#,
        );
        moto
    }

    fn request(
        &self,
        method: &str,
        path: &str,
        service: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> String {
        use std::io::Read;
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).expect("send");
        s.write_all(body.as_bytes()).expect("send");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        assert!(
            out.starts_with("HTTP/1.1 200") || out.starts_with("HTTP/1.0 200"),
            "{method} {path}: {out}"
        );
        out
    }

    fn serial(&self, key: &str) -> u64 {
        let text = self.request("GET", &format!("/states/{key}"), "s3", &[], "");
        let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v.get("serial").and_then(|s| s.as_u64()))
            .expect("a stored state")
    }
}

fn tool(program: &Path, dir: &Path, peer: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("TF_WORKSPACE")
        .env_remove("TF_LOG")
        .stdin(Stdio::null());
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run the tool");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        text(&out)
    );
    text(&out)
}

fn workdir(name: &str, moto: &Moto, extra: &str, count: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("terrane-cli-s3-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let arguments = s3_backend_arguments(
        "states",
        &format!("{name}.tfstate"),
        &format!("http://127.0.0.1:{}", moto.port),
        None,
    );
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"terraform {{
  backend "s3" {{
{arguments}{extra}  }}
}}

variable "run" {{
  default = "0"
}}

resource "null_resource" "n" {{
  count = {count}
  triggers = {{
    run = var.run
  }}
}}
"#
        ),
    )
    .expect("write main.tf");
    dir
}

fn dynamodb(moto: &Moto) -> String {
    format!(
        "    dynamodb_endpoint           = \"http://127.0.0.1:{}\"\n    dynamodb_table              = \"locks\"\n",
        moto.port
    )
}

#[test]
fn each_tool_plans_no_changes_on_the_others_state() {
    let Some(peer) = peer_dir() else { return };
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let tf = peer.join("bin/terraform");
    let dir = workdir("shared", &moto, &dynamodb(&moto), 3);
    ok(&mut tool(
        &tf,
        &dir,
        &peer,
        &["init", "-input=false", "-no-color"],
    ));
    ok(&mut tool(
        &tf,
        &dir,
        &peer,
        &["apply", "-auto-approve", "-no-color"],
    ));

    let tdir = dir.join("terrane");
    std::fs::create_dir_all(&tdir).expect("mkdir");
    std::fs::copy(dir.join("main.tf"), tdir.join("main.tf")).expect("copy");
    ok(&mut tool(
        Path::new(TERRANE),
        &tdir,
        &peer,
        &["init", "-input=false", "-no-color"],
    ));
    let plan = tool(
        Path::new(TERRANE),
        &tdir,
        &peer,
        &["plan", "-detailed-exitcode", "-no-color"],
    )
    .output()
    .expect("terrane plan");
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));

    // terrane applies a change; Terraform then plans no changes.
    ok(&mut tool(
        Path::new(TERRANE),
        &tdir,
        &peer,
        &["apply", "-auto-approve", "-var", "run=1", "-no-color"],
    ));
    let plan = tool(
        &tf,
        &dir,
        &peer,
        &["plan", "-detailed-exitcode", "-var", "run=1", "-no-color"],
    )
    .output()
    .expect("terraform plan");
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
}

/// Starts `apply` waiting at its prompt (holding the lock).
fn waiting_apply(program: &Path, dir: &Path, peer: &Path) -> Child {
    tool(
        program,
        dir,
        peer,
        &["apply", "-var", "run=9", "-input=true", "-no-color"],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start apply")
}

fn wait_for_lock(moto: &Moto, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = format!(
            r#"{{"TableName":"locks","Key":{{"LockID":{{"S":"{id}"}}}},"ConsistentRead":true}}"#
        );
        let out = moto.request(
            "POST",
            "/",
            "dynamodb",
            &[
                ("X-Amz-Target", "DynamoDB_20120810.GetItem"),
                ("Content-Type", "application/x-amz-json-1.0"),
            ],
            &body,
        );
        if out.contains("\"Info\"") {
            return;
        }
        assert!(Instant::now() < deadline, "the lock was never taken");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_lock_held_by_either_tool_blocks_the_other() {
    let Some(peer) = peer_dir() else { return };
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let tf = peer.join("bin/terraform");
    let terrane = Path::new(TERRANE);
    let dir = workdir("locks", &moto, &dynamodb(&moto), 1);
    ok(&mut tool(
        &tf,
        &dir,
        &peer,
        &["init", "-input=false", "-no-color"],
    ));
    ok(&mut tool(
        terrane,
        &dir,
        &peer,
        &["init", "-input=false", "-no-color"],
    ));

    for (holder, other) in [(terrane, tf.as_path()), (tf.as_path(), terrane)] {
        let mut waiting = waiting_apply(holder, &dir, &peer);
        wait_for_lock(&moto, "states/locks.tfstate");
        let blocked = tool(
            other,
            &dir,
            &peer,
            &["plan", "-lock-timeout=0s", "-no-color"],
        )
        .output()
        .expect("plan");
        if let Some(mut stdin) = waiting.stdin.take() {
            let _ = stdin.write_all(b"no\n");
        }
        let _ = waiting.wait_with_output();
        assert_eq!(blocked.status.code(), Some(1), "{}", text(&blocked));
        let message = text(&blocked);
        assert!(
            message.contains("Error acquiring the state lock"),
            "{message}"
        );
        assert!(
            message.contains("ConditionalCheckFailedException"),
            "{message}"
        );
        assert!(
            message.contains("Path:      states/locks.tfstate"),
            "{message}"
        );
        assert!(
            message.contains("Operation: OperationTypeApply"),
            "{message}"
        );
    }
}

/// 10 applies at once, each with its own value of `run` (so each replaces
/// the instances): each runs alone under the lock or fails with the lock
/// error; terrane writes one snapshot per apply, so the serial grows by
/// the number that succeeded. Then 10 with `-lock-timeout`: all succeed.
fn ten_applies(name: &str, extra: impl Fn(&Moto) -> String) {
    let Some(peer) = peer_dir() else { return };
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let terrane = Path::new(TERRANE);
    let dir = workdir(name, &moto, &extra(&moto), 2);
    ok(&mut tool(
        terrane,
        &dir,
        &peer,
        &["init", "-input=false", "-no-color"],
    ));
    ok(&mut tool(
        terrane,
        &dir,
        &peer,
        &["apply", "-auto-approve", "-no-color"],
    ));
    // Then ten that wait for the lock: all get through, none is lost.
    for (round, lock_timeout) in [(1, "-lock-timeout=0s"), (2, "-lock-timeout=300s")] {
        let before = moto.serial(&format!("{name}.tfstate"));
        let runs: Vec<Child> = (1..=10)
            .map(|i| {
                let run = format!("run={round}-{i}");
                tool(
                    terrane,
                    &dir,
                    &peer,
                    &[
                        "apply",
                        "-auto-approve",
                        lock_timeout,
                        "-var",
                        &run,
                        "-no-color",
                    ],
                )
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("start apply")
            })
            .collect();
        let mut succeeded = 0;
        for run in runs {
            let out = run.wait_with_output().expect("apply ends");
            if out.status.success() {
                succeeded += 1;
            } else {
                assert!(
                    text(&out).contains("Error acquiring the state lock"),
                    "an apply failed otherwise than on the lock:\n{}",
                    text(&out)
                );
            }
        }
        assert!(succeeded >= 1, "someone gets the lock");
        let after = moto.serial(&format!("{name}.tfstate"));
        eprintln!("{name} {lock_timeout}: {succeeded} of 10 applies succeeded; serial {before} -> {after}");
        assert_eq!(
            after,
            before + succeeded,
            "the serial counts the successful applies"
        );
        if round == 2 {
            assert_eq!(succeeded, 10, "every waiting apply gets the lock in turn");
        }
    }
}

#[test]
fn ten_concurrent_applies_with_dynamodb_locking() {
    ten_applies("ten-table", dynamodb);
}

#[test]
fn ten_concurrent_applies_with_the_lock_file() {
    ten_applies("ten-file", |_| {
        "    use_lockfile                = true\n".to_string()
    });
}

/// A TCP proxy in front of moto that, once armed, cuts the connection
/// carrying the upload of `key` and refuses every connection after it
/// until `up` again.
struct Proxy {
    port: u16,
    armed: std::sync::Arc<std::sync::atomic::AtomicBool>,
    down: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    fn start(target: u16, key: &str) -> Proxy {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("addr").port();
        let armed = Arc::new(AtomicBool::new(false));
        let down = Arc::new(AtomicBool::new(false));
        let upload = format!("PUT /states/{key}").into_bytes();
        let (a, d) = (armed.clone(), down.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if d.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let (a, d, upload) = (a.clone(), d.clone(), upload.clone());
                let (client2, server2) = match (client.try_clone(), server.try_clone()) {
                    (Ok(c), Ok(s)) => (c, s),
                    _ => continue,
                };
                // client -> server, watching for the upload.
                std::thread::spawn(move || {
                    use std::io::Read;
                    let (mut from, mut to) = (client, server);
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match from.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        let chunk = &buf[..n];
                        let cut = d.load(Ordering::SeqCst)
                            || (a.load(Ordering::SeqCst)
                                && chunk.windows(upload.len() + 1).any(|w| {
                                    w.starts_with(&upload) && matches!(w[upload.len()], b' ' | b'?')
                                }));
                        if cut {
                            d.store(true, Ordering::SeqCst);
                            break;
                        }
                        if to.write_all(chunk).is_err() {
                            break;
                        }
                    }
                    let _ = from.shutdown(std::net::Shutdown::Both);
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
                // server -> client.
                std::thread::spawn(move || {
                    let (mut from, mut to) = (server2, client2);
                    let _ = std::io::copy(&mut from, &mut to);
                    let _ = to.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Proxy { port, armed, down }
    }
}

#[test]
fn the_store_dying_during_apply_leaves_errored_state_that_push_restores() {
    use std::sync::atomic::Ordering;
    let Some(peer) = peer_dir() else { return };
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let proxy = Proxy::start(moto.port, "fault.tfstate");
    let terrane = Path::new(TERRANE);
    let dir = std::env::temp_dir().join(format!("terrane-cli-s3-{}-fault", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let arguments = s3_backend_arguments(
        "states",
        "fault.tfstate",
        &format!("http://127.0.0.1:{}", proxy.port),
        Some("locks"),
    );
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"terraform {{
  backend "s3" {{
{arguments}    max_retries                 = 1
  }}
}}

resource "null_resource" "many" {{
  count = 200
}}
"#
        ),
    )
    .expect("write main.tf");
    ok(&mut tool(
        terrane,
        &dir,
        &peer,
        &["init", "-input=false", "-no-color"],
    ));

    proxy.armed.store(true, Ordering::SeqCst);
    let out = tool(
        terrane,
        &dir,
        &peer,
        &["apply", "-auto-approve", "-no-color"],
    )
    .output()
    .expect("apply");
    let t = text(&out);
    assert!(
        proxy.down.load(Ordering::SeqCst),
        "the upload was never cut:\n{t}"
    );
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("Error: Failed to save state")
            && t.contains("terraform state push errored.tfstate"),
        "{t}"
    );
    let errored: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join("errored.tfstate")).expect("errored.tfstate"),
    )
    .expect("errored JSON");
    assert_eq!(
        errored["resources"][0]["instances"]
            .as_array()
            .map(Vec::len),
        Some(200)
    );

    // Back up: the lock the dead apply could not release is still held.
    proxy.armed.store(false, Ordering::SeqCst);
    proxy.down.store(false, Ordering::SeqCst);
    let blocked = tool(
        terrane,
        &dir,
        &peer,
        &["plan", "-lock-timeout=0s", "-no-color"],
    )
    .output()
    .expect("plan");
    assert_eq!(blocked.status.code(), Some(1), "{}", text(&blocked));
    let message = text(&blocked);
    assert!(
        message.contains("Error acquiring the state lock"),
        "{message}"
    );
    let held = message
        .lines()
        .find_map(|l| l.trim().strip_prefix("ID:"))
        .map(|id| id.trim().to_string())
        .expect("the holder's lock ID");
    ok(&mut tool(
        terrane,
        &dir,
        &peer,
        &["force-unlock", "-force", &held],
    ));
    ok(&mut tool(
        terrane,
        &dir,
        &peer,
        &["state", "push", "errored.tfstate"],
    ));
    let plan = tool(
        terrane,
        &dir,
        &peer,
        &["plan", "-detailed-exitcode", "-no-color"],
    )
    .output()
    .expect("plan");
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
    let _ = std::fs::remove_dir_all(&dir);
}
