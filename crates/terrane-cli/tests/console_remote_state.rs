//! `terrane console` and `data.terraform_remote_state`: as Terraform 1.0.3,
//! the console shows what the last apply recorded in state (it does not
//! read data sources again): `(known after apply)` before the first apply,
//! the remote outputs after it, and still those after the remote stack
//! changed. Stack A keeps its state on the local backend, then on the
//! http backend (a state server started by the test); stack B reads it.
//! Everything here is built in, so no peer is needed.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

const OUTPUTS_A: &str = r#"
output "greeting" {
  value = "hello"
}

output "nums" {
  value = [1, 2]
}
"#;

/// What the console prints for `data.terraform_remote_state.a.outputs`
/// after B's apply (Terraform 1.0.3 prints the same).
const SHOWN_OUTPUTS: &str = r#"{
  "greeting" = "hello"
  "nums" = [
    1,
    2,
  ]
}
"#;

fn workdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("terrane-console-rs-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("a")).expect("create a");
    fs::create_dir_all(dir.join("b")).expect("create b");
    dir
}

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_CLI_CONFIG_FILE")
        .output()
        .expect("run terrane")
}

fn ok(dir: &Path, args: &[&str]) {
    let out = terrane(dir, args);
    assert!(
        out.status.success(),
        "terrane {args:?} in {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Standard output of `terrane console` given `expr` on standard input.
fn console(dir: &Path, expr: &str) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .arg("console")
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_CLI_CONFIG_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run terrane console");
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(format!("{expr}\n").as_bytes())
            .expect("write expression");
    }
    let out = child.wait_with_output().expect("console output");
    assert!(
        out.status.success(),
        "console {expr}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stack_b(backend: &str, config: &str) -> String {
    format!(
        r#"
data "terraform_remote_state" "a" {{
  backend = "{backend}"
  config = {{
    {config}
  }}
}}

output "greeting" {{
  value = data.terraform_remote_state.a.outputs.greeting
}}
"#
    )
}

/// B's console before and after its apply, and after A changed.
fn check_console(a: &Path, b: &Path) {
    let expr = "data.terraform_remote_state.a.outputs";
    assert_eq!(console(b, expr), "(known after apply)\n");
    ok(b, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(console(b, expr), SHOWN_OUTPUTS);
    assert_eq!(
        console(b, "data.terraform_remote_state.a.outputs.nums[1] + 1"),
        "3\n"
    );
    // A changes; B's console still shows what B's apply recorded.
    fs::write(a.join("main.tf"), OUTPUTS_A.replace("hello", "changed")).expect("write A");
    ok(a, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(console(b, expr), SHOWN_OUTPUTS);
}

#[test]
fn console_shows_remote_state_recorded_from_the_local_backend() {
    let dir = workdir("local");
    let (a, b) = (dir.join("a"), dir.join("b"));
    fs::write(a.join("main.tf"), OUTPUTS_A).expect("write A");
    ok(&a, &["apply", "-auto-approve", "-no-color"]);
    fs::write(
        b.join("main.tf"),
        stack_b("local", r#"path = "../a/terraform.tfstate""#),
    )
    .expect("write B");
    check_console(&a, &b);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn console_shows_remote_state_recorded_from_the_http_backend() {
    let port = start_http_server();
    let address = format!("http://127.0.0.1:{port}/states/a");
    let dir = workdir("http");
    let (a, b) = (dir.join("a"), dir.join("b"));
    let backend =
        format!("terraform {{\n  backend \"http\" {{\n    address = \"{address}\"\n  }}\n}}\n");
    fs::write(a.join("backend.tf"), &backend).expect("write A backend");
    fs::write(a.join("main.tf"), OUTPUTS_A).expect("write A");
    ok(&a, &["init", "-no-color"]);
    ok(&a, &["apply", "-auto-approve", "-no-color"]);
    fs::write(
        b.join("main.tf"),
        stack_b("http", &format!(r#"address = "{address}""#)),
    )
    .expect("write B");
    check_console(&a, &b);
    let _ = fs::remove_dir_all(&dir);
}

// ----- a state server for the http backend (GET, POST; no locking) -----

fn serve(mut conn: TcpStream, docs: &Mutex<HashMap<String, Vec<u8>>>) {
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
            std::thread::spawn(move || serve(conn, &docs));
        }
    });
    port
}
