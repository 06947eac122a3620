//! The `terrane` CLI end to end with a provider written on the published
//! `tf-provider` framework (`terraform-provider-tfptest`, in
//! crates/terrane-plugin/tests/tfprovider), reached through `dev_overrides`:
//! nested attributes in all four nesting modes, a data source, and
//! provider-defined functions in expressions; apply, a plan without
//! changes, a function's error, destroy.
//!
//! The provider project is not a workspace member; this test builds it into
//! `<target>/tfprovider` (it needs `cargo` and `protoc`; without them the
//! test skips outside CI and fails under `CI=true`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use terrane_testkit::build_tfptest_provider as build_provider;

/// A scratch directory with `main.tf` and a CLI configuration overriding
/// the provider with the built binary.
fn workdir(main_tf: &str, provider_dir: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("terrane-tfptest-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    fs::write(dir.join("main.tf"), main_tf).expect("main.tf");
    fs::write(
        dir.join("cli.tfrc"),
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"terrane/tfptest\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir.display()
        ),
    )
    .expect("cli config");
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", dir.join("cli.tfrc"))
        .env("TF_IN_AUTOMATION", "1")
        .env("NO_COLOR", "1")
        .env_remove("TF_REATTACH_PROVIDERS")
        .env_remove("TERRANE_PROVIDERS")
        .output()
        .expect("run terrane")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const CONFIG: &str = r#"
terraform {
  required_providers {
    tfptest = {
      source = "terrane/tfptest"
    }
  }
}

provider "tfptest" {
  prefix = "t-"
}

data "tfptest_echo" "e" {
  input = "stressed"
}

resource "tfptest_widget" "w" {
  name = provider::tfptest::reverse("alpha")
  settings = {
    color = data.tfptest_echo.e.reversed
    size  = provider::tfptest::sum([1, 2, 3])
  }
  rules = [
    { key = "a", value = "1" },
    { key = "b" },
  ]
  ports = [
    { port = 80 },
    { port = 443, protocol = "tcp" },
  ]
  labels = {
    env = { value = "test" }
  }
}

output "id" {
  value = tfptest_widget.w.id
}

output "summary" {
  value = tfptest_widget.w.summary
}

output "positions" {
  value = [for r in tfptest_widget.w.rules : r.position]
}

output "reversed_id" {
  value = provider::tfptest::reverse(tfptest_widget.w.id)
}
"#;

#[test]
fn apply_plan_destroy_with_tf_provider_framework() {
    let Some(pdir) = build_provider() else {
        return;
    };
    let dir = workdir(CONFIG, &pdir);

    let apply = run(&dir, &["apply", "-auto-approve", "-no-color"]);
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(0), "{out}");
    assert!(out.contains("tfptest_widget.w: Creation complete"), "{out}");
    assert!(out.contains("id = \"t-widget-ahpla\""), "{out}");
    assert!(
        out.contains("summary = \"2 rules, 2 ports, 1 labels\""),
        "{out}"
    );
    assert!(out.contains("reversed_id = \"alpha-tegdiw-t\""), "{out}");
    assert!(out.contains("positions = [\n  0,\n  1,\n]"), "{out}");

    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("terraform.tfstate")).expect("state"))
            .expect("state JSON");
    let widget = state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["type"] == "tfptest_widget"))
        .expect("widget in state");
    assert_eq!(
        widget["provider"],
        "provider[\"registry.terraform.io/terrane/tfptest\"]"
    );
    assert_eq!(widget["instances"][0]["schema_version"], 2);
    let attrs = &widget["instances"][0]["attributes"];
    assert_eq!(
        attrs["settings"],
        serde_json::json!({"color": "desserts", "size": 6})
    );
    assert_eq!(
        attrs["rules"],
        serde_json::json!([
            {"key": "a", "value": "1", "position": 0},
            {"key": "b", "value": null, "position": 1}
        ])
    );
    let mut ports = attrs["ports"].as_array().cloned().unwrap_or_default();
    ports.sort_by_key(|p| p["port"].as_i64());
    assert_eq!(
        ports,
        [
            serde_json::json!({"port": 80, "protocol": null}),
            serde_json::json!({"port": 443, "protocol": "tcp"})
        ]
    );
    assert_eq!(
        attrs["labels"],
        serde_json::json!({"env": {"value": "test"}})
    );

    // Planning again finds nothing to do.
    let plan = run(&dir, &["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(
        String::from_utf8_lossy(&plan.stdout).contains("No changes."),
        "{}",
        text(&plan)
    );

    // A function's argument error names the parameter.
    fs::write(
        dir.join("main.tf"),
        CONFIG.replace("reverse(\"alpha\")", "reverse(\"\")"),
    )
    .expect("main.tf");
    let bad = run(&dir, &["plan", "-no-color"]);
    let out = text(&bad);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(out.contains("Error: Invalid function argument"), "{out}");
    assert!(
        out.contains(
            "Invalid value for \"input\" parameter: the string to reverse must not be empty."
        ),
        "{out}"
    );

    fs::write(dir.join("main.tf"), CONFIG).expect("main.tf");
    let destroy = run(&dir, &["destroy", "-auto-approve", "-no-color"]);
    let out = text(&destroy);
    assert_eq!(destroy.status.code(), Some(0), "{out}");
    assert!(
        out.contains("tfptest_widget.w: Destruction complete"),
        "{out}"
    );
    assert!(
        out.contains("Destroy complete! Resources: 1 destroyed."),
        "{out}"
    );

    let _ = fs::remove_dir_all(&dir);
}
