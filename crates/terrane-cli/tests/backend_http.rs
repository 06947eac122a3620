//! The http backend end to end, against a state server written here
//! (std threads on 127.0.0.1, GitLab's protocol: GET/POST/DELETE on the
//! state, LOCK/UNLOCK on the lock address, 423 with the holder's lock
//! info, `?ID=` required on updates while locked) that can be told to
//! fail writes or to go down: `init` (block, `-backend-config` files and
//! pairs, `-reconfigure`, `-migrate-state -force-copy`, a changed
//! configuration), concurrent applies under the lock for the http and the
//! local backend, a server that dies in the middle of an apply
//! (errored.tfstate, force-unlock, state push), and interoperation with
//! Terraform 1.0.3 and null 2.1.2 on one state (skipped without the peer).

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The state server's shared state.
#[derive(Default)]
struct Shared {
    /// State documents by path.
    docs: Mutex<HashMap<String, Vec<u8>>>,
    /// Lock info JSON by lock path.
    locks: Mutex<HashMap<String, Vec<u8>>>,
    /// Answer 500 to every update.
    fail_writes: AtomicBool,
    /// Drop every connection without an answer (the server is down).
    down: AtomicBool,
    /// Go down when the next update arrives.
    down_on_next_write: AtomicBool,
    /// Successful updates.
    writes: AtomicUsize,
    /// Locks granted.
    locks_granted: AtomicUsize,
    /// Updates refused because the lock ID was missing or wrong.
    unlocked_writes: AtomicUsize,
}

struct Server {
    port: u16,
    shared: Arc<Shared>,
    scheme: &'static str,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Server {
            port,
            shared,
            scheme: "http",
        }
    }

    /// The same server over TLS, with a self-signed certificate.
    fn start_tls() -> Server {
        let cert =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("certificate");
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into()),
        )
        .expect("server config");
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let s = s.clone();
                let config = config.clone();
                std::thread::spawn(move || {
                    if let Ok(tls) = rustls::ServerConnection::new(config) {
                        serve(rustls::StreamOwned::new(tls, conn), &s);
                    }
                });
            }
        });
        Server {
            port,
            shared,
            scheme: "https",
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}://localhost:{}{path}", self.scheme, self.port)
    }

    /// A backend block for the state NAME.
    fn block(&self, name: &str, extra: &str) -> String {
        format!(
            "terraform {{\n  backend \"http\" {{\n    address        = \"{}\"\n    lock_address   = \"{}\"\n    unlock_address = \"{}\"\n{extra}  }}\n}}\n",
            self.url(&format!("/state/{name}")),
            self.url(&format!("/lock/{name}")),
            self.url(&format!("/lock/{name}")),
        )
    }

    fn doc(&self, name: &str) -> Option<serde_json::Value> {
        let docs = self.shared.docs.lock().expect("docs");
        docs.get(&format!("/state/{name}"))
            .map(|b| serde_json::from_slice(b).expect("stored state is JSON"))
    }

    fn lock_id(&self, name: &str) -> Option<String> {
        let locks = self.shared.locks.lock().expect("locks");
        locks.get(&format!("/lock/{name}")).map(|b| {
            let v: serde_json::Value = serde_json::from_slice(b).expect("lock info JSON");
            v["ID"].as_str().unwrap_or_default().to_string()
        })
    }
}

/// Reads one request: the request line and the body.
fn read_request(conn: &mut impl Read) -> Option<(String, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = conn.read(&mut buf).ok().filter(|n| *n > 0)?;
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = raw[head_end + 4..].to_vec();
    while body.len() < length {
        let n = conn.read(&mut buf).ok().filter(|n| *n > 0)?;
        body.extend_from_slice(&buf[..n]);
    }
    body.truncate(length);
    Some((head.lines().next().unwrap_or_default().to_string(), body))
}

fn serve(mut conn: impl Read + Write, s: &Shared) {
    if s.down.load(Ordering::SeqCst) {
        return;
    }
    let Some((request_line, body)) = read_request(&mut conn) else {
        return;
    };
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let id_param = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("ID="))
        .map(str::to_string);
    let lock_path = path.replacen("/state/", "/lock/", 1);
    let (status, reply): (u16, Vec<u8>) = match method.as_str() {
        "GET" => match s.docs.lock().expect("docs").get(path) {
            Some(d) => (200, d.clone()),
            None => (404, Vec::new()),
        },
        "POST" => {
            if s.down_on_next_write.swap(false, Ordering::SeqCst) {
                s.down.store(true, Ordering::SeqCst);
                return;
            }
            if s.fail_writes.load(Ordering::SeqCst) {
                (500, Vec::new())
            } else {
                let locks = s.locks.lock().expect("locks");
                let held = locks.get(&lock_path).map(|b| {
                    let v: serde_json::Value = serde_json::from_slice(b).expect("lock JSON");
                    v["ID"].as_str().unwrap_or_default().to_string()
                });
                match held {
                    Some(id) if id_param.as_deref() != Some(id.as_str()) => {
                        s.unlocked_writes.fetch_add(1, Ordering::SeqCst);
                        (409, Vec::new())
                    }
                    _ => {
                        s.docs.lock().expect("docs").insert(path.to_string(), body);
                        s.writes.fetch_add(1, Ordering::SeqCst);
                        (200, Vec::new())
                    }
                }
            }
        }
        "DELETE" => {
            s.docs.lock().expect("docs").remove(path);
            (200, Vec::new())
        }
        "LOCK" => {
            let mut locks = s.locks.lock().expect("locks");
            match locks.get(path) {
                Some(holder) => (423, holder.clone()),
                None => {
                    locks.insert(path.to_string(), body);
                    s.locks_granted.fetch_add(1, Ordering::SeqCst);
                    (200, Vec::new())
                }
            }
        }
        "UNLOCK" => {
            let mut locks = s.locks.lock().expect("locks");
            let given = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v["ID"].as_str().map(str::to_string));
            let held = locks.get(path).and_then(|b| {
                serde_json::from_slice::<serde_json::Value>(b)
                    .ok()
                    .and_then(|v| v["ID"].as_str().map(str::to_string))
            });
            match (held, given) {
                (None, _) => (200, Vec::new()),
                // An empty body unlocks whatever is held (Terraform's
                // force-unlock sends none).
                (Some(_), None) => {
                    locks.remove(path);
                    (200, Vec::new())
                }
                (Some(h), Some(g)) if h == g => {
                    locks.remove(path);
                    (200, Vec::new())
                }
                (Some(_), Some(_)) => (409, locks.get(path).cloned().unwrap_or_default()),
            }
        }
        _ => (405, Vec::new()),
    };
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        reply.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&reply);
    let _ = conn.flush();
}

fn terrane() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_terrane"))
}

/// A fresh working directory with `main.tf`.
fn workdir(name: &str, main_tf: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "terrane-backend-http-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("main.tf"), main_tf).expect("main.tf");
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(terrane())
        .args(args)
        .current_dir(dir)
        .env("TF_IN_AUTOMATION", "1")
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run terrane")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `t` with line breaks as spaces (diagnostics wrap at 78 columns).
fn flat(t: &str) -> String {
    t.replace('\n', " ")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = run_in(dir, args);
    assert!(o.status.success(), "terrane {args:?} failed:\n{}", text(&o));
    text(&o)
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let o = run_in(dir, args);
    assert_eq!(o.status.code(), Some(1), "terrane {args:?}:\n{}", text(&o));
    text(&o)
}

const DATA: &str = "resource \"terraform_data\" \"a\" {\n  input = \"one\"\n}\n";

#[test]
fn init_records_the_backend_and_detects_changes() {
    let server = Server::start();
    // lock_address from a file, unlock_address as a pair.
    let block = format!(
        "terraform {{\n  backend \"http\" {{\n    address = \"{}\"\n  }}\n}}\n",
        server.url("/state/init")
    );
    let dir = workdir("init", &format!("{block}{DATA}"));
    std::fs::write(
        dir.join("backend.hcl"),
        format!("lock_address = \"{}\"\n", server.url("/lock/init")),
    )
    .expect("backend.hcl");
    let unlock = format!(
        "-backend-config=unlock_address={}",
        server.url("/lock/init")
    );
    let out = ok(
        &dir,
        &["init", "-no-color", "-backend-config=backend.hcl", &unlock],
    );
    assert!(
        out.contains("Successfully configured the backend \"http\"! Terraform will automatically\nuse this backend unless the backend configuration changes."),
        "{out}"
    );
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(".terraform/terraform.tfstate")).expect("record"),
    )
    .expect("record JSON");
    assert_eq!(record["version"], 3);
    assert_eq!(record["serial"], 1);
    assert_eq!(record["backend"]["type"], "http");
    let config = &record["backend"]["config"];
    assert_eq!(config["address"], server.url("/state/init").as_str());
    assert_eq!(config["lock_address"], server.url("/lock/init").as_str());
    assert_eq!(config["unlock_address"], server.url("/lock/init").as_str());
    assert!(config["retry_max"].is_null());
    assert_eq!(config.as_object().map(|o| o.len()), Some(12));

    // A second init with the same settings changes nothing.
    let again = ok(
        &dir,
        &["init", "-no-color", "-backend-config=backend.hcl", &unlock],
    );
    assert!(!again.contains("Successfully configured"), "{again}");

    ok(&dir, &["apply", "-auto-approve", "-no-color"]);
    let stored = server.doc("init").expect("state stored on the server");
    assert_eq!(stored["serial"], 1);
    assert_eq!(stored["resources"][0]["type"], "terraform_data");
    assert_eq!(server.shared.locks_granted.load(Ordering::SeqCst), 1);
    assert_eq!(server.shared.unlocked_writes.load(Ordering::SeqCst), 0);
    assert!(server.lock_id("init").is_none(), "lock released");
    // Read-only commands see the remote state.
    assert_eq!(ok(&dir, &["state", "list"]), "terraform_data.a\n");
    assert!(ok(&dir, &["show", "-no-color"]).contains("resource \"terraform_data\" \"a\""));

    // A changed block: every command asks for init, init asks for a choice.
    std::fs::write(
        dir.join("main.tf"),
        format!(
            "{}{DATA}",
            block.replace("    address", "    retry_max = 3\n    address")
        ),
    )
    .expect("main.tf");
    let plan = fails(&dir, &["plan", "-no-color"]);
    assert!(
        plan.contains("Error: Backend initialization required, please run \"terraform init\"")
            && plan.contains("Reason: Backend configuration changed for \"http\""),
        "{plan}"
    );
    let init = fails(&dir, &["init", "-no-color"]);
    assert!(
        init.contains("Error: Backend configuration changed")
            && init.contains("terraform init\n-migrate-state"),
        "{init}"
    );
    let out = ok(
        &dir,
        &[
            "init",
            "-no-color",
            "-reconfigure",
            "-backend-config=backend.hcl",
            &unlock,
        ],
    );
    assert!(
        out.contains("Successfully configured the backend \"http\""),
        "{out}"
    );
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(".terraform/terraform.tfstate")).expect("record"),
    )
    .expect("record JSON");
    assert_eq!(record["serial"], 2);
    assert_eq!(record["backend"]["config"]["retry_max"], 3);
    let plan = ok(&dir, &["plan", "-no-color"]);
    assert!(plan.contains("No changes."), "{plan}");

    // Unknown and missing arguments.
    std::fs::write(
        dir.join("main.tf"),
        "terraform {\n  backend \"http\" {\n    adress = \"x\"\n  }\n}\n",
    )
    .expect("main.tf");
    let bad = fails(&dir, &["init", "-no-color", "-reconfigure"]);
    assert!(
        bad.contains("Error: Unsupported argument")
            && bad.contains("An argument named \"adress\" is not expected here.")
            && bad.contains("on main.tf line 3"),
        "{bad}"
    );
    std::fs::write(
        dir.join("main.tf"),
        "terraform {\n  backend \"http\" {}\n}\n",
    )
    .expect("main.tf");
    let missing = fails(&dir, &["init", "-no-color", "-reconfigure"]);
    assert!(
        missing.contains("Error: Missing required argument")
            && missing.contains("The argument \"address\" is required, but was not set."),
        "{missing}"
    );
    // Workspaces other than default do not exist on http.
    std::fs::write(
        dir.join("main.tf"),
        format!("{}{DATA}", server.block("init", "")),
    )
    .expect("main.tf");
    ok(&dir, &["init", "-no-color", "-reconfigure"]);
    assert_eq!(ok(&dir, &["workspace", "list"]), "* default\n\n");
    let ws = fails(&dir, &["workspace", "new", "dev"]);
    assert!(ws.contains("workspaces not supported"), "{ws}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn local_state_migrates_to_http_with_force_copy() {
    let server = Server::start();
    let dir = workdir("migrate", DATA);
    ok(&dir, &["apply", "-auto-approve", "-no-color"]);
    let local: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("terraform.tfstate")).expect("state"))
            .expect("state JSON");
    std::fs::write(
        dir.join("main.tf"),
        format!("{}{DATA}", server.block("migrate", "")),
    )
    .expect("main.tf");
    // Without input there is nobody to ask.
    let refused = fails(&dir, &["init", "-no-color", "-input=false"]);
    assert!(
        refused.contains("error asking for state migration action: input disabled"),
        "{refused}"
    );
    assert!(server.doc("migrate").is_none());
    let out = ok(&dir, &["init", "-no-color", "-force-copy"]);
    assert!(
        out.contains("Successfully configured the backend \"http\""),
        "{out}"
    );
    let remote = server.doc("migrate").expect("state copied");
    assert_eq!(remote["lineage"], local["lineage"]);
    assert_eq!(remote["serial"], local["serial"]);
    assert_eq!(remote["resources"], local["resources"]);
    // As Terraform: the local state is emptied, its content in the backup.
    assert_eq!(
        std::fs::read(dir.join("terraform.tfstate"))
            .expect("state")
            .len(),
        0
    );
    assert!(dir.join("terraform.tfstate.backup").exists());
    let plan = ok(&dir, &["plan", "-no-color", "-detailed-exitcode"]);
    assert!(plan.contains("No changes."), "{plan}");

    // -migrate-state to another state on the same server, answering yes.
    let next = format!("{}{DATA}", server.block("migrated-again", ""));
    std::fs::write(dir.join("main.tf"), next).expect("main.tf");
    let out = ok(
        &dir,
        &["init", "-no-color", "-migrate-state", "-force-copy"],
    );
    assert!(out.contains("Successfully configured"), "{out}");
    let copy = server.doc("migrated-again").expect("copied");
    assert_eq!(copy["lineage"], local["lineage"]);

    // A saved plan is applied to the backend's state, not a local file.
    let changed = format!(
        "{}{}",
        server.block("migrated-again", ""),
        DATA.replace("\"one\"", "\"two\"")
    );
    std::fs::write(dir.join("main.tf"), changed).expect("main.tf");
    ok(&dir, &["plan", "-no-color", "-out=saved.tfplan"]);
    ok(&dir, &["apply", "-no-color", "saved.tfplan"]);
    let applied = server.doc("migrated-again").expect("state");
    assert_eq!(applied["serial"], copy["serial"].as_u64().unwrap_or(0) + 1);
    assert_eq!(
        applied["resources"][0]["instances"][0]["attributes"]["input"]["value"],
        "two"
    );
    assert_eq!(
        std::fs::read(dir.join("terraform.tfstate"))
            .expect("state")
            .len(),
        0,
        "the local state stays empty"
    );

    // Without the block the state comes back to the local backend.
    std::fs::write(dir.join("main.tf"), DATA.replace("\"one\"", "\"two\"")).expect("main.tf");
    let out = ok(&dir, &["init", "-no-color", "-force-copy"]);
    assert!(
        out.contains("Initializing the backend...\nTerraform has detected you're unconfiguring your previously set \"http\" backend.\n\n\nSuccessfully unset the backend \"http\". Terraform will now operate locally.\n"),
        "{out}"
    );
    let back: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("terraform.tfstate")).expect("state"))
            .expect("state JSON");
    assert_eq!(back["lineage"], local["lineage"]);
    assert_eq!(back["serial"], applied["serial"]);
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.join(".terraform/terraform.tfstate")).expect("record"),
    )
    .expect("record JSON");
    assert!(record.get("backend").is_none(), "{record}");
    let plan = ok(&dir, &["plan", "-no-color", "-detailed-exitcode"]);
    assert!(plan.contains("No changes."), "{plan}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `n` applies at once, each setting a different input; returns
/// their outputs.
fn concurrent_applies(dir: &Path, n: usize, extra: &[&str]) -> Vec<Output> {
    let children: Vec<_> = (0..n)
        .map(|i| {
            Command::new(terrane())
                .args([
                    "apply",
                    "-auto-approve",
                    "-no-color",
                    &format!("-var=n={i}"),
                ])
                .args(extra)
                .current_dir(dir)
                .env("TF_IN_AUTOMATION", "1")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn terrane")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect()
}

const VARIED: &str = "variable \"n\" {}\nresource \"terraform_data\" \"a\" {\n  input = var.n\n}\n";

/// Each apply ran alone or failed on the lock; returns the successes.
fn check_concurrent(outputs: &[Output], lock_message: &str) -> u64 {
    let mut successes = 0;
    for o in outputs {
        if o.status.success() {
            successes += 1;
        } else {
            let t = text(o);
            assert!(
                t.contains("Error: Error acquiring the state lock")
                    && flat(&t).contains(lock_message),
                "an apply failed for another reason than the lock:\n{t}"
            );
        }
    }
    assert!(successes >= 1, "no apply got through");
    successes
}

#[test]
fn concurrent_applies_on_http_each_alone_or_refused() {
    let server = Server::start();
    let dir = workdir(
        "concurrent-http",
        &format!("{}{VARIED}", server.block("c", "")),
    );
    ok(&dir, &["init", "-no-color"]);
    let outputs = concurrent_applies(&dir, 10, &[]);
    let successes = check_concurrent(&outputs, "HTTP remote state already locked: ID=");
    let stored = server.doc("c").expect("state");
    assert_eq!(stored["serial"].as_u64(), Some(successes));
    assert_eq!(server.shared.unlocked_writes.load(Ordering::SeqCst), 0);
    assert_eq!(
        server.shared.writes.load(Ordering::SeqCst) as u64,
        successes
    );
    assert!(server.lock_id("c").is_none(), "every lock released");

    // With -lock-timeout the waiting applies all get through, one by one.
    let outputs = concurrent_applies(&dir, 10, &["-lock-timeout=120s"]);
    for o in &outputs {
        assert!(o.status.success(), "{}", text(o));
    }
    let stored = server.doc("c").expect("state");
    assert_eq!(stored["serial"].as_u64(), Some(successes + 10));
    assert_eq!(server.shared.unlocked_writes.load(Ordering::SeqCst), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_applies_on_local_each_alone_or_refused() {
    let dir = workdir("concurrent-local", VARIED);
    let outputs = concurrent_applies(&dir, 10, &[]);
    let successes = check_concurrent(&outputs, "resource temporarily unavailable");
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("terraform.tfstate")).expect("state"))
            .expect("state JSON");
    assert_eq!(stored["serial"].as_u64(), Some(successes));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn server_dying_during_apply_leaves_errored_state_that_push_restores() {
    let server = Server::start();
    let resources =
        "resource \"terraform_data\" \"many\" {\n  count = 200\n  input = count.index\n}\n";
    let retries = "    retry_max      = 1\n    retry_wait_min = 0\n    retry_wait_max = 0\n";
    let dir = workdir(
        "fault",
        &format!("{}{resources}", server.block("f", retries)),
    );
    ok(&dir, &["init", "-no-color"]);
    server
        .shared
        .down_on_next_write
        .store(true, Ordering::SeqCst);
    let out = run_in(&dir, &["apply", "-auto-approve", "-no-color"]);
    let t = text(&out);
    assert_ne!(out.status.code(), Some(0), "{t}");
    assert!(
        t.contains("Error: Failed to save state")
            && t.contains("Error: Failed to persist state to backend")
            && t.contains("    terraform state push errored.tfstate"),
        "{t}"
    );
    let errored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("errored.tfstate")).expect("errored"))
            .expect("errored JSON");
    assert_eq!(
        errored["resources"][0]["instances"]
            .as_array()
            .map(Vec::len),
        Some(200)
    );
    assert!(server.doc("f").is_none());

    // Back up: the lock the dead apply could not release is still held.
    server.shared.down.store(false, Ordering::SeqCst);
    let held = server.lock_id("f").expect("lock left behind");
    let blocked = fails(&dir, &["plan", "-no-color"]);
    assert!(
        flat(&blocked).contains(&format!("HTTP remote state already locked: ID={held}")),
        "{blocked}"
    );
    let unlocked = ok(&dir, &["force-unlock", "-force", &held]);
    assert!(
        unlocked.contains("Terraform state has been successfully unlocked!"),
        "{unlocked}"
    );
    assert!(server.lock_id("f").is_none());
    ok(&dir, &["state", "push", "errored.tfstate"]);
    let plan = run_in(&dir, &["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn force_unlock_asks_first() {
    let server = Server::start();
    let dir = workdir("force-unlock", &format!("{}{DATA}", server.block("u", "")));
    ok(&dir, &["init", "-no-color"]);
    server.shared.locks.lock().expect("locks").insert(
        "/lock/u".to_string(),
        br#"{"ID":"abc-123","Operation":"OperationTypeApply","Info":"","Who":"x@y","Version":"1.0.3","Created":"2021-01-01T00:00:00Z","Path":""}"#.to_vec(),
    );
    let mut child = Command::new(terrane())
        .args(["force-unlock", "-no-color", "abc-123"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"no\n")
        .expect("answer");
    let out = child.wait_with_output().expect("wait");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.starts_with("Do you really want to force-unlock?\n  Terraform will remove the lock on the remote state.\n")
            && t.contains("force-unlock cancelled."),
        "{t}"
    );
    assert_eq!(server.lock_id("u").as_deref(), Some("abc-123"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Polls until `cond` holds (bounded; the caller asserts the outcome).
fn wait_for(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..600 {
        if cond() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn interoperates_with_terraform_on_one_http_state() {
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let terraform = peer.join("bin/terraform");
    let server = Server::start();
    let config = |extra: &str| {
        format!(
            "{}resource \"null_resource\" \"a\" {{}}\n{extra}",
            server.block("interop", "")
        )
    };
    let tf_dir = workdir("interop-tf", &config(""));
    let tn_dir = workdir("interop-tn", &config(""));
    let tool = |bin: &Path, dir: &Path, args: &[&str]| {
        Command::new(bin)
            .args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_IN_AUTOMATION", "1")
            .stdin(Stdio::null())
            .output()
            .expect("run")
    };
    let must = |o: Output, what: &str| {
        assert!(o.status.success(), "{what}:\n{}", text(&o));
        text(&o)
    };
    must(
        tool(&terraform, &tf_dir, &["init", "-no-color"]),
        "terraform init",
    );
    must(
        tool(&terrane(), &tn_dir, &["init", "-no-color"]),
        "terrane init",
    );
    // The same record as Terraform's (hash included).
    let record = |d: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join(".terraform/terraform.tfstate")).expect("r"))
            .expect("record JSON")
    };
    assert_eq!(record(&tf_dir)["backend"], record(&tn_dir)["backend"]);

    must(
        tool(
            &terraform,
            &tf_dir,
            &["apply", "-auto-approve", "-no-color"],
        ),
        "terraform apply",
    );
    let plan = must(
        tool(
            &terrane(),
            &tn_dir,
            &["plan", "-no-color", "-detailed-exitcode"],
        ),
        "terrane plan after terraform apply",
    );
    assert!(plan.contains("No changes."), "{plan}");

    let more = config("resource \"null_resource\" \"b\" {}\n");
    std::fs::write(tf_dir.join("main.tf"), &more).expect("main.tf");
    std::fs::write(tn_dir.join("main.tf"), &more).expect("main.tf");
    must(
        tool(
            &terrane(),
            &tn_dir,
            &["apply", "-auto-approve", "-no-color"],
        ),
        "terrane apply",
    );
    let plan = must(
        tool(
            &terraform,
            &tf_dir,
            &["plan", "-no-color", "-detailed-exitcode"],
        ),
        "terraform plan after terrane apply",
    );
    assert!(plan.contains("No changes."), "{plan}");

    // Each tool's lock blocks the other: an apply waiting at its prompt
    // holds it.
    let changed = config("resource \"null_resource\" \"c\" {}\n");
    std::fs::write(tf_dir.join("main.tf"), &changed).expect("main.tf");
    std::fs::write(tn_dir.join("main.tf"), &changed).expect("main.tf");
    for (holder, holder_dir, other, other_dir) in [
        (&terraform, &tf_dir, &terrane(), &tn_dir),
        (&terrane(), &tn_dir, &terraform, &tf_dir),
    ] {
        let mut child = Command::new(holder)
            .args(["apply", "-no-color"])
            .current_dir(holder_dir)
            .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn holder");
        assert!(
            wait_for(|| server.lock_id("interop").is_some()),
            "{} never took the lock",
            holder.display()
        );
        let id = server.lock_id("interop").unwrap_or_default();
        let blocked = tool(other, other_dir, &["plan", "-no-color"]);
        let t = text(&blocked);
        assert_eq!(blocked.status.code(), Some(1), "{t}");
        assert!(
            t.contains("Error: Error acquiring the state lock")
                && flat(&t).contains(&format!("HTTP remote state already locked: ID={id}")),
            "{t}"
        );
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(b"no\n");
        }
        let _ = child.wait();
        assert!(
            wait_for(|| server.lock_id("interop").is_none()),
            "{} did not release the lock",
            holder.display()
        );
    }
    let _ = std::fs::remove_dir_all(&tf_dir);
    let _ = std::fs::remove_dir_all(&tn_dir);
}

#[test]
fn a_killed_apply_on_http_state_is_recovered_from_the_journal() {
    let server = Server::start();
    let resources =
        "resource \"terraform_data\" \"many\" {\n  count = 1000\n  input = count.index\n}\n";
    let dir = workdir("killed", &format!("{}{resources}", server.block("k", "")));
    ok(&dir, &["init", "-no-color"]);
    let mut child = Command::new(terrane())
        .args(["apply", "-auto-approve", "-no-color"])
        .current_dir(&dir)
        .env("TF_IN_AUTOMATION", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn apply");
    // Kill it once 50 creates are reported: each was journaled first.
    let mut reported = Vec::new();
    let stdout = child.stdout.take().expect("stdout");
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some((addr, rest)) = line.split_once(": Creation complete after ") {
            let id = rest
                .split("[id=")
                .nth(1)
                .unwrap_or_default()
                .trim_end_matches(']');
            reported.push((addr.to_string(), id.to_string()));
            if reported.len() == 50 {
                break;
            }
        }
    }
    let _ = child.kill();
    let status = child.wait().expect("wait");
    assert!(
        !status.success(),
        "the apply was not killed before it finished"
    );
    assert!(
        server.doc("k").is_none(),
        "nothing was pushed before the kill"
    );
    let journal = dir.join(".terraform/remote-journal/default");
    assert!(
        journal.is_dir(),
        "the journal of remote state is in the data directory"
    );

    // The killed apply still holds the lock.
    let held = server.lock_id("k").expect("lock left behind");
    ok(&dir, &["force-unlock", "-force", &held]);
    // A read-only look applies the journal in memory.
    let listed = ok(&dir, &["state", "list"]);
    for (addr, _) in &reported {
        assert!(listed.lines().any(|l| l == addr), "{addr} not listed");
    }
    assert!(server.doc("k").is_none(), "state list pushed nothing");
    // The next apply folds the journal into the remote state, then creates
    // the rest: the objects reported before the kill are kept, not created again.
    let out = ok(&dir, &["apply", "-auto-approve", "-no-color"]);
    for (addr, _) in &reported {
        assert!(
            !out.contains(&format!("{addr}: Creating...")),
            "{addr} created twice"
        );
    }
    let stored = server.doc("k").expect("state pushed");
    let instances = stored["resources"][0]["instances"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(instances.len(), 1000);
    for (addr, id) in &reported {
        let index: usize = addr
            .trim_start_matches("terraform_data.many[")
            .trim_end_matches(']')
            .parse()
            .expect("index");
        let found = instances
            .iter()
            .find(|i| i["index_key"].as_u64() == Some(index as u64))
            .expect("instance");
        assert_eq!(found["attributes"]["id"].as_str(), Some(id.as_str()));
    }
    let plan = run_in(&dir, &["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn https_with_lock_and_unlock_methods_and_skip_cert_verification() {
    let server = Server::start_tls();
    let dir = workdir(
        "https",
        &format!(
            "{}{DATA}",
            server.block("s", "    skip_cert_verification = true\n")
        ),
    );
    ok(&dir, &["init", "-no-color"]);
    ok(&dir, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(server.shared.locks_granted.load(Ordering::SeqCst), 1);
    assert!(server.lock_id("s").is_none(), "unlocked over TLS");
    assert_eq!(server.doc("s").expect("state")["serial"], 1);
    // Without skipping verification the self-signed certificate is refused.
    std::fs::write(
        dir.join("main.tf"),
        format!("{}{DATA}", server.block("s", "")),
    )
    .expect("main.tf");
    // (init reads the state for the providers it uses.)
    let refused = fails(&dir, &["init", "-no-color", "-reconfigure"]);
    assert!(refused.contains("Error: Failed to load state"), "{refused}");
    let refused = fails(&dir, &["plan", "-no-color"]);
    assert!(
        refused.contains("Error acquiring the state lock"),
        "{refused}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
