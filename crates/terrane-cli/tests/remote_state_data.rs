//! `terraform_remote_state` over the http, pg and s3 backends: stack A,
//! with that backend, applies outputs (string, number, list, map, a
//! sensitive one; for pg and s3 also in a second workspace); stack B, on
//! the local backend, reads them with `terraform_remote_state` (with
//! `defaults`, and `workspace` where the backend has workspaces) and
//! exposes them as outputs. B's `output -json` must be the expected one,
//! and, with the Terraform 1.0.3 peer, Terraform's B reading the state
//! terrane's A wrote must give the same `output -json`.
//!
//! Stores: a state server written here (http), `terrane_testkit::PgServer`
//! (pg), moto_server (s3). Each skips outside CI when its store is
//! missing; the comparison with Terraform skips without the peer.

mod common;

use terrane_testkit::{moto_available, s3_backend_arguments, MotoServer, MotoThreading};

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use terrane_testkit::PgServer;

const TERRANE: &str = env!("CARGO_BIN_EXE_terrane");

/// Stack A's outputs, after its backend block. `run` tells the workspaces
/// apart.
const STACK_A: &str = r#"
variable "run" {
  default = "default"
}

output "s" {
  value = "hello ${var.run}"
}

output "n" {
  value = 12345678901234567890.5
}

output "l" {
  value = tolist(["a", "b"])
}

output "t" {
  value = ["x", 1, true]
}

output "m" {
  value = tomap({ one = "1", two = "2" })
}

output "o" {
  value = { name = "web", ports = [80, 443] }
}

output "secret" {
  value     = "s3cr3t"
  sensitive = true
}
"#;

/// Stack B: reads A through `terraform_remote_state` with CONFIG.
fn stack_b(backend: &str, config: &str, workspace: Option<&str>) -> String {
    let workspace = workspace
        .map(|w| format!("  workspace = \"{w}\"\n"))
        .unwrap_or_default();
    format!(
        r#"data "terraform_remote_state" "a" {{
  backend = "{backend}"
  config = {{
{config}  }}
{workspace}  defaults = {{
    s     = "shadowed by the state"
    extra = "from defaults"
  }}
}}

output "s" {{
  value = data.terraform_remote_state.a.outputs.s
}}

output "n" {{
  value = data.terraform_remote_state.a.outputs.n
}}

output "l" {{
  value = data.terraform_remote_state.a.outputs.l
}}

output "t" {{
  value = data.terraform_remote_state.a.outputs.t
}}

output "m" {{
  value = data.terraform_remote_state.a.outputs.m
}}

output "o" {{
  value = data.terraform_remote_state.a.outputs.o
}}

output "secret" {{
  value     = data.terraform_remote_state.a.outputs.secret
  sensitive = true
}}

output "extra" {{
  value = data.terraform_remote_state.a.outputs.extra
}}

output "all" {{
  value = data.terraform_remote_state.a.outputs
}}
"#
    )
}

/// What B's `output -json` holds when A ran with `run`.
fn expected_outputs(run: &str) -> serde_json::Value {
    let text = r#"{
  "all": {"sensitive": false, "type": ["object", {
      "extra": "string",
      "l": ["list", "string"],
      "m": ["map", "string"],
      "n": "number",
      "o": ["object", {"name": "string", "ports": ["tuple", ["number", "number"]]}],
      "s": "string",
      "secret": "string",
      "t": ["tuple", ["string", "number", "bool"]]}],
    "value": {"extra": "from defaults", "l": ["a", "b"], "m": {"one": "1", "two": "2"},
      "n": 12345678901234567890.5, "o": {"name": "web", "ports": [80, 443]},
      "s": "hello RUN", "secret": "s3cr3t", "t": ["x", 1, true]}},
  "extra": {"sensitive": false, "type": "string", "value": "from defaults"},
  "l": {"sensitive": false, "type": ["list", "string"], "value": ["a", "b"]},
  "m": {"sensitive": false, "type": ["map", "string"], "value": {"one": "1", "two": "2"}},
  "n": {"sensitive": false, "type": "number", "value": 12345678901234567890.5},
  "o": {"sensitive": false, "type": ["object", {"name": "string", "ports": ["tuple", ["number", "number"]]}],
    "value": {"name": "web", "ports": [80, 443]}},
  "s": {"sensitive": false, "type": "string", "value": "hello RUN"},
  "secret": {"sensitive": true, "type": "string", "value": "s3cr3t"},
  "t": {"sensitive": false, "type": ["tuple", ["string", "number", "bool"]], "value": ["x", 1, true]}
}"#;
    serde_json::from_str(&text.replace("RUN", run)).expect("expected outputs are JSON")
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "terrane-cli-remote-state-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn tool(program: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("TF_WORKSPACE")
        .env_remove("TF_LOG")
        .env_remove("TF_CLI_CONFIG_FILE")
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
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes and applies stack A with terrane in `workspace`.
fn apply_a(dir: &Path, backend_block: &str, workspace: &str) {
    std::fs::write(dir.join("main.tf"), format!("{backend_block}{STACK_A}")).expect("write A");
    let terrane = Path::new(TERRANE);
    if !dir.join(".terraform").exists() {
        ok(&mut tool(
            terrane,
            dir,
            &["init", "-input=false", "-no-color"],
        ));
    }
    if workspace != "default" {
        ok(&mut tool(
            terrane,
            dir,
            &["workspace", "new", "-no-color", workspace],
        ));
    }
    ok(&mut tool(
        terrane,
        dir,
        &[
            "apply",
            "-auto-approve",
            "-input=false",
            "-no-color",
            &format!("-var=run={workspace}"),
        ],
    ));
    if workspace != "default" {
        ok(&mut tool(terrane, dir, &["workspace", "select", "default"]));
    }
}

/// Applies stack B in `dir` with `program` and returns its outputs.
fn apply_b(program: &Path, dir: &Path, peer: Option<&Path>) -> serde_json::Value {
    let with_peer = |cmd: &mut Command| {
        if let Some(peer) = peer {
            cmd.env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"));
        }
    };
    let mut apply = tool(
        program,
        dir,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    with_peer(&mut apply);
    ok(&mut apply);
    let mut output = tool(program, dir, &["output", "-json"]);
    with_peer(&mut output);
    let json = ok(&mut output);
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("output -json: {e}:\n{json}"))
}

/// Stack B read by terrane, then (with the peer) by Terraform 1.0.3 from
/// a copy of the same configuration.
fn check_b(name: &str, backend: &str, config: &str, workspace: Option<&str>, run: &str) {
    let b = workdir(&format!("{name}-b"));
    std::fs::write(b.join("main.tf"), stack_b(backend, config, workspace)).expect("write B");
    let terrane_outputs = apply_b(Path::new(TERRANE), &b, None);
    assert_eq!(
        terrane_outputs,
        expected_outputs(run),
        "terrane's B ({name})"
    );
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let tf = workdir(&format!("{name}-b-terraform"));
    std::fs::write(tf.join("main.tf"), stack_b(backend, config, workspace)).expect("write B");
    let terraform_outputs = apply_b(&peer.join("bin/terraform"), &tf, Some(&peer));
    assert_eq!(
        terraform_outputs, terrane_outputs,
        "Terraform 1.0.3's B and terrane's B ({name})"
    );
    let _ = std::fs::remove_dir_all(&tf);
    let _ = std::fs::remove_dir_all(&b);
}

// ----- http: a state server (GET, POST, DELETE; no locking) -----

fn serve_http(mut conn: TcpStream, docs: &Mutex<HashMap<String, Vec<u8>>>) {
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut docs = docs.lock().unwrap_or_else(|e| e.into_inner());
    let (status, answer) = match method.as_str() {
        "GET" => match docs.get(&path) {
            Some(doc) => ("200 OK", doc.clone()),
            None => ("404 Not Found", Vec::new()),
        },
        "POST" => {
            docs.insert(path, body);
            ("200 OK", Vec::new())
        }
        "DELETE" => {
            docs.remove(&path);
            ("200 OK", Vec::new())
        }
        _ => ("405 Method Not Allowed", Vec::new()),
    };
    drop(docs);
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        answer.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&answer);
}

fn start_http_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let docs: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let docs = docs.clone();
            std::thread::spawn(move || serve_http(conn, &docs));
        }
    });
    port
}

#[test]
fn http_backend_outputs_read_by_terrane_and_terraform() {
    let port = start_http_server();
    let address = format!("http://127.0.0.1:{port}/state/a");
    let a = workdir("http-a");
    apply_a(
        &a,
        &format!("terraform {{\n  backend \"http\" {{\n    address = \"{address}\"\n  }}\n}}\n"),
        "default",
    );
    check_b(
        "http",
        "http",
        &format!("    address = \"{address}\"\n"),
        None,
        "default",
    );

    // A state that does not exist is an error, as in Terraform 1.0.3.
    let missing = workdir("http-missing");
    std::fs::write(
        missing.join("main.tf"),
        stack_b(
            "http",
            &format!("    address = \"http://127.0.0.1:{port}/state/none\"\n"),
            None,
        ),
    )
    .expect("write");
    let out = tool(Path::new(TERRANE), &missing, &["plan", "-no-color"])
        .output()
        .expect("run terrane");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("Error: Unable to find remote state\n\n  with data.terraform_remote_state.a,\n  on main.tf line 1, in data \"terraform_remote_state\" \"a\":\n   1: data \"terraform_remote_state\" \"a\" {\n\nNo stored state was found for the given workspace in the given backend."),
        "{}",
        text(&out)
    );
    // An argument the backend does not have, and a workspace the http
    // backend cannot have.
    std::fs::write(
        missing.join("main.tf"),
        format!("data \"terraform_remote_state\" \"a\" {{\n  backend = \"http\"\n  config = {{\n    address = \"{address}\"\n    bucket  = \"b\"\n  }}\n}}\n\ndata \"terraform_remote_state\" \"w\" {{\n  backend   = \"http\"\n  workspace = \"blue\"\n  config = {{\n    address = \"{address}\"\n  }}\n}}\n"),
    )
    .expect("write");
    let out = tool(Path::new(TERRANE), &missing, &["plan", "-no-color"])
        .output()
        .expect("run terrane");
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    // Details are wrapped at 78 columns: compare with the words only.
    let words = t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Error: Invalid backend configuration with data.terraform_remote_state.a,")
            && words.contains("The given configuration is not valid for backend \"http\": unexpected attribute \"bucket\"."),
        "{t}"
    );
    assert!(
        t.contains("error loading the remote state: workspaces not supported"),
        "{t}"
    );
    let _ = std::fs::remove_dir_all(&missing);
    let _ = std::fs::remove_dir_all(&a);
}

// ----- pg -----

#[test]
fn pg_backend_outputs_read_by_terrane_and_terraform() {
    let Some(server) = PgServer::start() else {
        return;
    };
    let a = workdir("pg-a");
    let block = format!(
        "terraform {{\n  backend \"pg\" {{\n    conn_str = \"{}\"\n  }}\n}}\n",
        server.url()
    );
    apply_a(&a, &block, "default");
    apply_a(&a, &block, "blue");
    let config = format!("    conn_str = \"{}\"\n", server.url());
    check_b("pg", "pg", &config, None, "default");
    check_b("pg-blue", "pg", &config, Some("blue"), "blue");
    let _ = std::fs::remove_dir_all(&a);
}

// ----- s3 on moto -----

/// A single-threaded moto_server (as backend_s3.rs runs it) with the
/// bucket `states`; killed on drop.
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
        // The bucket.
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let request = format!(
            "PUT /states HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: 0\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0\r\n\r\n"
        );
        s.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("read");
        assert!(answer.contains(" 200 "), "create bucket: {answer}");
        moto
    }
}

#[test]
fn s3_backend_outputs_read_by_terrane_and_terraform() {
    if !moto_available() {
        return;
    }
    let moto = Moto::start();
    let config = s3_backend_arguments(
        "states",
        "a.tfstate",
        &format!("http://127.0.0.1:{}", moto.port),
        None,
    );
    let a = workdir("s3-a");
    let block = format!("terraform {{\n  backend \"s3\" {{\n{config}  }}\n}}\n");
    apply_a(&a, &block, "default");
    apply_a(&a, &block, "blue");
    check_b("s3", "s3", &config, None, "default");
    check_b("s3-blue", "s3", &config, Some("blue"), "blue");
    let _ = std::fs::remove_dir_all(&a);
}
