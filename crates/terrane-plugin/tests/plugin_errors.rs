//! Misbehaving "plugins" (small shell scripts and a silent socket) must
//! give clear errors within the time limits, never a panic or a hang.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use terrane_plugin::*;

fn script(name: &str, body: &str) -> PathBuf {
    // One directory per script: tests run in parallel and each removes its
    // directory when done (a shared one could vanish under another test).
    let dir =
        std::env::temp_dir().join(format!("terrane-plugin-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
    let mut perm = std::fs::metadata(&path).expect("stat").permissions();
    perm.set_mode(0o755);
    std::fs::set_permissions(&path, perm).expect("chmod");
    path
}

fn config(path: PathBuf) -> PluginConfig {
    let mut cfg = PluginConfig::new("example.com/test/broken", path);
    cfg.timeouts.handshake = Duration::from_secs(2);
    cfg.timeouts.connect = Duration::from_secs(2);
    cfg.log = LogConfig::default();
    cfg
}

fn start_err(body: &str, name: &str) -> PluginError {
    let t0 = Instant::now();
    let path = script(name, body);
    let res = GrpcProvider::start(config(path.clone()));
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir(dir); // only once empty
    }
    assert!(
        t0.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t0.elapsed()
    );
    match res {
        Ok(_) => panic!("{name}: start should fail"),
        Err(e) => e,
    }
}

#[test]
fn exits_before_handshake() {
    let e = start_err("echo 'Error: this is not a plugin' >&2\nexit 3", "exits");
    let msg = e.to_string();
    assert!(msg.contains("example.com/test/broken"), "{msg}");
    assert!(
        msg.contains("exited before completing the handshake"),
        "{msg}"
    );
    assert!(msg.contains("exit status: 3"), "{msg}");
    assert!(msg.contains("this is not a plugin"), "{msg}");
}

#[test]
fn silent_plugin_times_out() {
    let e = start_err("exec sleep 30", "silent");
    assert!(e.message.contains("timeout while waiting"), "{e}");
}

#[test]
fn garbage_handshake() {
    let e = start_err("echo 'hello there'\nexec sleep 30", "garbage");
    assert!(e.message.contains("invalid plugin handshake"), "{e}");
}

#[test]
fn old_protocol_is_rejected() {
    let e = start_err(
        "echo '1|4|unix|/tmp/nothing|netrpc'\nexec sleep 30",
        "proto4",
    );
    assert!(e.message.contains("protocol version 4"), "{e}");
}

#[test]
fn nothing_listening() {
    let e = start_err(
        "echo '1|5|unix|/nonexistent/terrane-test.sock|grpc|'\nexec sleep 30",
        "nolisten",
    );
    assert!(e.message.contains("cannot connect"), "{e}");
}

#[test]
fn magic_cookie_and_client_cert_are_passed() {
    // The script checks the contract and reports what it saw on stderr.
    let body = r#"[ "$TF_PLUGIN_MAGIC_COOKIE" = d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2 ] || { echo "bad cookie" >&2; exit 1; }
[ "$PLUGIN_PROTOCOL_VERSIONS" = "5,6" ] || { echo "bad versions" >&2; exit 1; }
case "$PLUGIN_CLIENT_CERT" in "-----BEGIN CERTIFICATE-----"*) ;; *) echo "no cert" >&2; exit 1;; esac
echo "contract ok" >&2
exit 7"#;
    let e = start_err(body, "contract");
    assert!(e.message.contains("contract ok"), "{e}");
    assert!(e.message.contains("exit status: 7"), "{e}");
}

/// A server that accepts connections and never answers: the RPC limit
/// turns into a diagnostic.
#[test]
fn rpc_timeout_is_a_diagnostic() {
    let dir = std::env::temp_dir().join(format!("terrane-plugin-sock-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let sock = dir.join("silent.sock");
    let _ = std::fs::remove_file(&sock);
    let listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    let held = std::thread::spawn(move || {
        // Hold accepted connections open without reading or writing.
        let mut conns = Vec::new();
        if let Ok((c, _)) = listener.accept() {
            conns.push(c);
            std::thread::sleep(Duration::from_secs(4));
        }
    });
    let cfg = ReattachConfig {
        protocol_version: 5,
        address: handshake::Address::Unix(sock.to_string_lossy().into_owned()),
        pid: None,
        test: true,
    };
    let timeouts = Timeouts {
        schema: Duration::from_millis(700),
        connect: Duration::from_secs(2),
        ..Timeouts::default()
    };
    let t0 = Instant::now();
    let p = GrpcProvider::reattach("example.com/test/silent", &cfg, timeouts);
    match p {
        Ok(p) => {
            let r = p.get_schema();
            let text = r.diagnostics.to_string();
            assert!(r.diagnostics.has_errors());
            assert!(text.contains("did not answer"), "{text}");
            assert!(text.contains("example.com/test/silent"), "{text}");
            drop(p);
        }
        // Some HTTP/2 stacks wait for the server's preface while
        // connecting: then the connect limit fires instead.
        Err(e) => assert!(
            e.message.contains("timeout") || e.message.contains("connect"),
            "{e}"
        ),
    }
    assert!(
        t0.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t0.elapsed()
    );
    let _ = held.join();
    let _ = std::fs::remove_file(&sock);
    let _ = std::fs::remove_dir(&dir);
}
