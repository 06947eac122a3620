//! `terrane drift`: a `local_file` edited on disk behind terrane's back is
//! reported with its `content` attribute and exit code 2; untouched, exit
//! code 0; a broken configuration, exit code 1; `-json` and `-notify`.
//! With the real hashicorp/aws 3.39.0 against moto_server: an S3 object
//! replaced through the S3 API is reported with its changed attributes.

mod common;

use terrane_testkit::{aws_provider_config, MotoServer, MotoThreading};

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("terrane-drift-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_WORKSPACE")
        .env_remove("TF_LOG")
        .output()
        .expect("run terrane")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const LOCAL: &str = r#"
resource "local_file" "greeting" {
  filename = "${path.module}/greeting.txt"
  content  = "hello\n"
}
resource "local_sensitive_file" "key" {
  filename = "${path.module}/key.txt"
  content  = "k3y-material\n"
}
resource "null_resource" "other" {}
"#;

#[test]
fn a_local_file_edited_on_disk_is_reported_with_its_attribute() {
    let dir = scratch("local");
    std::fs::write(dir.join("main.tf"), LOCAL).expect("write");
    let out = terrane(&dir, &["apply", "-auto-approve", "-no-color"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let state_before = std::fs::read(dir.join("terraform.tfstate")).expect("state");

    let out = terrane(&dir, &["drift", "-no-color"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        "No drift: the 3 managed resources match the state.\n"
    );

    std::fs::write(dir.join("greeting.txt"), "tampered\n").expect("edit");
    std::fs::write(dir.join("key.txt"), "other-k3y\n").expect("edit");
    let out = terrane(&dir, &["drift", "-no-color"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        "Drift detected: 2 of 3 managed resources changed outside terrane.

  # local_file.greeting has changed outside terrane
      content: \"hello\\n\" => \"tampered\\n\"
      (The file ./greeting.txt was changed outside terrane; the provider reports the object gone, so the next apply recreates it.)

  # local_sensitive_file.key has changed outside terrane
      content: (sensitive value) => (sensitive value)
      (The file ./key.txt was changed outside terrane; the provider reports the object gone, so the next apply recreates it.)
"
    );
    assert!(!stdout(&out).contains("k3y"));

    let out = terrane(&dir, &["drift", "-json"]);
    assert_eq!(out.status.code(), Some(2));
    let j: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    assert_eq!(j["drift"], true);
    assert_eq!(j["checked"], 3);
    assert_eq!(j["resources"][0]["address"], "local_file.greeting");
    assert_eq!(
        j["resources"][0]["attributes"],
        serde_json::json!([{"path": "content", "before": "hello\n", "after": "tampered\n", "sensitive": false}])
    );
    assert_eq!(j["resources"][1]["attributes"][0]["sensitive"], true);
    assert!(!j.to_string().contains("k3y"));
    // Drift writes nothing.
    assert_eq!(
        std::fs::read(dir.join("terraform.tfstate")).expect("state"),
        state_before
    );

    // A deleted object.
    std::fs::remove_file(dir.join("greeting.txt")).expect("rm");
    let out = terrane(&dir, &["drift", "-no-color"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("  # local_file.greeting was deleted outside terrane\n"),
        "{}",
        stdout(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_broken_configuration_is_exit_code_1() {
    let dir = scratch("broken");
    std::fs::write(dir.join("main.tf"), "resource \"null_resource\" {}\n").expect("write");
    let out = terrane(&dir, &["drift", "-no-color"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Error: Missing name for resource"));
    let out = terrane(&dir, &["drift", "-json"]);
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    assert_eq!(j["error"], true);
    assert_eq!(j["diagnostics"][0]["summary"], "Missing name for resource");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn drift_is_sent_to_a_webhook() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let received = std::thread::spawn(move || {
        use std::io::{BufRead, BufReader, Read, Write};
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut head = String::new();
        let mut len = 0;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
            head.push_str(&line);
        }
        let mut body = vec![0; len];
        let _ = reader.read_exact(&mut body);
        let mut stream = stream;
        let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        (head, String::from_utf8_lossy(&body).into_owned())
    });
    let dir = scratch("hook");
    std::fs::write(dir.join("main.tf"), LOCAL).expect("write");
    let out = terrane(&dir, &["apply", "-auto-approve", "-no-color"]);
    assert!(out.status.success());
    std::fs::write(dir.join("greeting.txt"), "tampered\n").expect("edit");
    let out = terrane(
        &dir,
        &[
            "drift",
            "-no-color",
            &format!("-notify=webhook=http://127.0.0.1:{port}/drift"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (head, body) = received.join().expect("server");
    assert!(head.starts_with("POST /drift HTTP/1.1\r\n"), "{head}");
    let j: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(j["resources"][0]["attributes"][0]["path"], "content");
    assert_eq!(j["summary"]["command"], "drift");
    assert_eq!(j["summary"]["counts"]["drifted"], 1);
    assert_eq!(
        j["summary"]["summary"],
        "Drift detected: 1 of 3 managed resources changed outside terrane."
    );
    assert!(!body.contains("k3y"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two S3 resources on hashicorp/aws, its endpoint a variable.
fn s3_config() -> String {
    aws_provider_config("var.endpoint", &["s3", "sts"]) + S3_RESOURCES
}

const S3_RESOURCES: &str = r#"
variable "endpoint" {
  type = string
}

resource "aws_s3_bucket" "config" {
  bucket = "terrane-drift"
}

resource "aws_s3_bucket_object" "settings" {
  bucket       = aws_s3_bucket.config.id
  key          = "settings.json"
  content      = "{\"replicas\": 1}"
  content_type = "application/json"
}
"#;

#[test]
fn an_s3_object_changed_through_the_api_is_reported() {
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let Some(moto) = MotoServer::start(MotoThreading::Threaded) else {
        return;
    };
    let dir = scratch("s3");
    std::fs::write(dir.join("main.tf"), s3_config()).expect("write");
    let endpoint = format!("http://127.0.0.1:{}", moto.port());
    std::fs::write(
        dir.join("terraform.tfvars"),
        format!("endpoint = \"{endpoint}\"\n"),
    )
    .expect("tfvars");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_terrane"))
            .args(args)
            .current_dir(&dir)
            .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_WORKSPACE")
            .output()
            .expect("run terrane")
    };
    for step in [
        &["init", "-no-color", "-input=false"][..],
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    ] {
        let out = run(step);
        assert!(
            out.status.success(),
            "{step:?}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = run(&["drift", "-json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "no drift right after apply: {}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );

    // Someone replaces the object through the S3 API (boto3, which
    // comes with moto).
    let script = format!(
        "import boto3\n\
         s3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='moto', \
         aws_secret_access_key='moto', region_name='us-east-1')\n\
         s3.put_object(Bucket='terrane-drift', Key='settings.json', \
         Body=b'{{\"replicas\": 5}}', ContentType='text/plain')\n"
    );
    let put = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("run python3");
    assert!(
        put.status.success(),
        "put_object: {}",
        String::from_utf8_lossy(&put.stderr)
    );

    let out = run(&["drift", "-json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let j: serde_json::Value = serde_json::from_str(stdout(&out).trim()).expect("json");
    let resources = j["resources"].as_array().expect("resources");
    assert_eq!(resources.len(), 1, "{j}");
    assert_eq!(resources[0]["address"], "aws_s3_bucket_object.settings");
    assert_eq!(resources[0]["change"], "changed");
    let attrs = resources[0]["attributes"].as_array().expect("attributes");
    let by_path = |p: &str| attrs.iter().find(|a| a["path"] == p).cloned();
    let content_type = by_path("content_type").expect("content_type reported");
    assert_eq!(content_type["before"], "application/json");
    assert_eq!(content_type["after"], "text/plain");
    let etag = by_path("etag").expect("etag reported");
    assert_ne!(etag["before"], etag["after"]);
    // The text form names the same attributes.
    let out = run(&["drift", "-no-color"]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    assert!(text.contains("  # aws_s3_bucket_object.settings has changed outside terrane\n"));
    assert!(
        text.contains("      content_type: \"application/json\" => \"text/plain\"\n"),
        "{text}"
    );
    drop(moto);
    let _ = std::fs::remove_dir_all(&dir);
}
