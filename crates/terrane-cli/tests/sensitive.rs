//! Sensitive values never reach the terminal: a sensitive variable used in
//! a resource argument and an output is hidden in plan, apply, show and
//! output text, and recorded as `sensitive_attributes` in the state, as
//! Terraform 1.0.3 does (the first plan's text is compared with the
//! peer's when it is installed).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SECRET: &str = "hunter2-do-not-print";

fn config() -> String {
    format!(
        r#"variable "secret" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}

resource "null_resource" "a" {{
  triggers = {{
    s = var.secret
    p = "plain"
  }}
}}

output "o" {{
  value     = var.secret
  sensitive = true
}}
"#
    )
}

fn run(tool: &Path, dir: &Path, args: &[&str], peer: Option<&Path>) -> Output {
    let mut c = Command::new(tool);
    c.args(args).current_dir(dir).env_remove("TF_LOG");
    if let Some(p) = peer {
        c.env("TF_CLI_CONFIG_FILE", p.join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1");
    }
    c.output().expect("run tool")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("terrane-sensitive-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join("main.tf"), config()).expect("write config");
    dir
}

fn sensitive_attributes(dir: &Path) -> serde_json::Value {
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("terraform.tfstate")).expect("state"))
            .expect("state JSON");
    state["resources"][0]["instances"][0]["sensitive_attributes"].clone()
}

#[test]
fn sensitive_variable_is_never_printed() {
    let terrane = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let dir = scratch("terrane");
    for args in [
        &["plan", "-no-color"][..],
        &["apply", "-auto-approve", "-no-color"],
        &["show", "-no-color"],
        &["output", "-no-color"],
        &["plan", "-no-color"],
        &["destroy", "-auto-approve", "-no-color"],
    ] {
        let out = run(&terrane, &dir, args, None);
        let text = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{args:?}:\n{text}");
        assert!(
            !text.contains(SECRET),
            "{args:?} printed the secret:\n{text}"
        );
        if args[0] == "apply" {
            assert_eq!(
                sensitive_attributes(&dir),
                serde_json::json!([[
                    {"type": "get_attr", "value": "triggers"},
                    {"type": "index", "value": {"value": "s", "type": "string"}}
                ]])
            );
        }
    }
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn sensitive_plan_text_matches_terraform() {
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let terraform = peer.join("bin/terraform");
    let terrane = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let tf_dir = scratch("tf");
    let tn_dir = scratch("tn");
    let init = run(&terraform, &tf_dir, &["init", "-no-color"], Some(&peer));
    assert!(init.status.success());
    let a = run(&terraform, &tf_dir, &["plan", "-no-color"], Some(&peer));
    let b = run(&terrane, &tn_dir, &["plan", "-no-color"], Some(&peer));
    assert_eq!(
        String::from_utf8_lossy(&a.stdout),
        String::from_utf8_lossy(&b.stdout)
    );
    for (tool, dir) in [(&terraform, &tf_dir), (&terrane, &tn_dir)] {
        let out = run(
            tool,
            dir,
            &["apply", "-auto-approve", "-no-color"],
            Some(&peer),
        );
        assert!(out.status.success());
    }
    assert_eq!(sensitive_attributes(&tf_dir), sensitive_attributes(&tn_dir));
    let _ = fs::remove_dir_all(&tf_dir);
    let _ = fs::remove_dir_all(&tn_dir);
}
