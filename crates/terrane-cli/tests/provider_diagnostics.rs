//! A managed resource's provider error (the real hashicorp/aws 3.39.0
//! creating a bucket at an endpoint nobody listens on) printed by terrane
//! exactly as Terraform 1.0.3 prints it: the error, then `with ADDR,` and
//! the resource block's first line. Needs the peer (skips outside CI
//! without it).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use terrane_testkit::{cli_config, peer_dir_with_mirror, terraform_bin};

fn config(port: u16) -> String {
    format!(
        r#"provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  max_retries                 = 0
  s3_force_path_style         = true
  endpoints {{
    s3 = "http://127.0.0.1:{port}"
  }}
}}

resource "aws_s3_bucket" "b" {{
  bucket = "some-bucket"
}}
"#
    )
}

/// A configuration whose aws provider cannot be configured: no
/// credentials anywhere.
const NO_CREDENTIALS: &str = r#"provider "aws" {
  region                  = "us-east-1"
  skip_metadata_api_check = true
  shared_credentials_file = "/nonexistent"
}

resource "aws_s3_bucket" "b" {
  bucket = "some-bucket"
}
"#;

fn run(program: &Path, dir: &Path, peer: &Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", cli_config(peer))
        .env("CHECKPOINT_DISABLE", "1")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env_remove("TF_LOG")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("run tool")
}

/// Exit code and standard error of `command` (`apply` or `plan`) on
/// `config` in a fresh directory for one tool.
fn run_error(
    program: &Path,
    name: &str,
    peer: &Path,
    config: &str,
    command: &str,
) -> (Option<i32>, String) {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "terrane-provider-diags-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create dir");
    fs::write(dir.join("main.tf"), config).expect("write main.tf");
    let init = run(program, &dir, peer, &["init", "-input=false", "-no-color"]);
    assert!(
        init.status.success(),
        "{name} init: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let mut args = vec![command, "-input=false", "-no-color"];
    if command == "apply" {
        args.push("-auto-approve");
    }
    let out = run(program, &dir, peer, &args);
    let _ = fs::remove_dir_all(&dir);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The peer, when its mirror holds hashicorp/aws.
fn aws_peer() -> Option<PathBuf> {
    let peer = peer_dir_with_mirror()?;
    if !peer
        .join("mirror/registry.terraform.io/hashicorp/aws")
        .is_dir()
    {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "the peer's mirror has no hashicorp/aws"
        );
        eprintln!("skipping: the peer's mirror has no hashicorp/aws");
        return None;
    }
    Some(peer)
}

#[test]
fn apply_error_of_a_managed_resource_matches_terraform() {
    let Some(peer) = aws_peer() else {
        return;
    };
    // A port just released: nothing listens there, the connection is refused.
    let port = terrane_testkit::free_port();
    let config = config(port);
    let (tf_code, tf_err) = run_error(&terraform_bin(&peer), "terraform", &peer, &config, "apply");
    let (tn_code, tn_err) = run_error(
        Path::new(env!("CARGO_BIN_EXE_terrane")),
        "terrane",
        &peer,
        &config,
        "apply",
    );
    assert_eq!(tf_code, Some(1), "terraform's exit code; stderr:\n{tf_err}");
    assert!(
        tf_err.contains("\n  with aws_s3_bucket.b,\n  on main.tf line 15, in resource \"aws_s3_bucket\" \"b\":\n  15: resource \"aws_s3_bucket\" \"b\" {\n"),
        "terraform's error names the instance and its block:\n{tf_err}"
    );
    assert_eq!(tn_code, tf_code, "exit code");
    assert_eq!(tn_err, tf_err, "standard error");
}

/// A provider that fails to configure: its errors point at the provider
/// block with `with provider[...]`, and its resources are not planned (the
/// unconfigured aws plugin would crash on PlanResourceChange).
#[test]
fn configure_error_matches_terraform_and_stops_the_provider() {
    let Some(peer) = aws_peer() else {
        return;
    };
    let (tf_code, tf_err) = run_error(
        &terraform_bin(&peer),
        "terraform-configure",
        &peer,
        NO_CREDENTIALS,
        "plan",
    );
    let (tn_code, tn_err) = run_error(
        Path::new(env!("CARGO_BIN_EXE_terrane")),
        "terrane-configure",
        &peer,
        NO_CREDENTIALS,
        "plan",
    );
    assert_eq!(tf_code, Some(1), "terraform's exit code; stderr:\n{tf_err}");
    assert!(
        tf_err.contains("\n  with provider[\"registry.terraform.io/hashicorp/aws\"],\n  on main.tf line 1, in provider \"aws\":\n"),
        "terraform's error names the provider block:\n{tf_err}"
    );
    assert_eq!(tn_code, tf_code, "exit code");
    assert_eq!(tn_err, tf_err, "standard error");
}

/// The framed colour form of the same error, as Terraform 1.0.3 printed
/// it on a terminal: the frame on each line of a two-line summary, the
/// `with` line, the underlined brace and a blank line after the snippet.
#[test]
fn framed_form_of_a_provider_error_matches_terraform() {
    let file = terrane_hcl::SourceFile::new(
        "main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n",
    );
    let d = terrane_hcl::Diagnostic::error("Creating failed\ncaused by: refused", "")
        .with_address("aws_s3_bucket.b")
        .with_subject(&file, terrane_hcl::Span::new(29, 30));
    let bar = "\x1b[31m│\x1b[0m \x1b[0m";
    let expected = [
        "\x1b[31m╷\x1b[0m\x1b[0m".to_string(),
        format!("{bar}\x1b[1m\x1b[31mError: \x1b[0m\x1b[0m\x1b[1mCreating failed"),
        format!("{bar}caused by: refused\x1b[0m"),
        bar.to_string(),
        format!("{bar}\x1b[0m  with aws_s3_bucket.b,"),
        format!("{bar}  on main.tf line 1, in resource \"aws_s3_bucket\" \"b\":"),
        format!("{bar}   1: resource \"aws_s3_bucket\" \"b\" \x1b[4m{{\x1b[0m\x1b[0m"),
        bar.to_string(),
        "\x1b[31m╵\x1b[0m\x1b[0m".to_string(),
    ]
    .join("\n")
        + "\n";
    assert_eq!(terrane_hcl::render::colored(&d, 80), expected);
}
