//! `removed` blocks (Terraform 1.7+; Terraform 1.0.3 has none, so there is
//! no peer to compare with). Each directory under `tests/removed` holds a
//! configuration with `removed` blocks, the state it is planned against
//! (`terraform.tfstate`, fixed ids) and what must come out:
//!
//! * `plan.out` / `plan.err`: `plan -no-color` standard output and error,
//!   written from Terraform's documented behaviour: "Removing Resources"
//!   in the resource syntax docs (developer.hashicorp.com/terraform/
//!   language/resources/syntax#removing-resources) and the plan text
//!   Terraform 1.7 prints for it (hashicorp/terraform#34403: the
//!   "will no longer be managed by Terraform, but will not be destroyed"
//!   header, the `.` symbol, the object rendered as unchanged; the summary
//!   line without a forget count and the "Some objects will no longer be
//!   managed by Terraform" warning);
//! * `plan.code`: the exit code when not 0;
//! * `apply.list`: `state list` after `apply -auto-approve`.
//!
//! Everything runs on the built-in null provider (no `init`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A private copy of the fixture `name`.
fn scratch(name: &str, tag: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!(
        "terrane-removed-{name}-{tag}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    copy_dir(&fixtures().join(name), &dir);
    Scratch(dir)
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/removed")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for e in fs::read_dir(from).expect("read fixture dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            fs::copy(&p, to.join(e.file_name())).expect("copy fixture file");
        }
    }
}

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("TERRANE_PROVIDERS", "builtin")
        .env_remove("TF_CLI_CONFIG_FILE")
        .env_remove("TF_IN_AUTOMATION")
        .env_remove("TF_CLI_ARGS")
        .env_remove("TF_CLI_ARGS_plan")
        .env_remove("TF_CLI_ARGS_apply")
        .env_remove("TF_DATA_DIR")
        .output()
        .expect("run terrane")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = terrane(dir, args);
    assert!(
        out.status.success(),
        "terrane {args:?} failed:\n{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn expected(case: &Path, file: &str) -> Option<String> {
    fs::read_to_string(case.join(file)).ok()
}

#[test]
fn removed_fixtures() {
    let mut names: Vec<String> = fs::read_dir(fixtures())
        .expect("tests/removed")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 3, "fixtures missing: {names:?}");
    for name in &names {
        let case = fixtures().join(name);
        let dir = scratch(name, "plan");
        // One worker: the refresh lines of independent resources come in
        // a fixed order.
        let out = terrane(&dir.0, &["plan", "-no-color", "-parallelism=1"]);
        let code: i32 = expected(&case, "plan.code")
            .map(|c| c.trim().parse().expect("plan.code"))
            .unwrap_or(0);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{name}: exit code\n{}",
            text(&out.stderr)
        );
        assert_eq!(
            text(&out.stdout),
            expected(&case, "plan.out").unwrap_or_default(),
            "{name}: plan stdout"
        );
        assert_eq!(
            text(&out.stderr),
            expected(&case, "plan.err").unwrap_or_default(),
            "{name}: plan stderr"
        );
        if let Some(list) = expected(&case, "apply.list") {
            let dir = scratch(name, "apply");
            ok(&dir.0, &["apply", "-auto-approve", "-no-color"]);
            assert_eq!(
                ok(&dir.0, &["state", "list"]),
                list,
                "{name}: state after apply"
            );
            // Applied once, the removed blocks have nothing left to do.
            let again = ok(&dir.0, &["plan", "-no-color"]);
            assert!(
                again.contains("No changes."),
                "{name}: second plan:\n{again}"
            );
        }
    }
}

/// A saved plan keeps the forgotten instances: `show -json` lists them with
/// the action "forget" (as Terraform 1.7's JSON plan does) and not in
/// `planned_values`; `apply FILE` takes them out of state.
#[test]
fn saved_plan_forgets() {
    let dir = scratch("forget-and-destroy", "saved");
    ok(&dir.0, &["plan", "-no-color", "-out=tfplan"]);
    let json: serde_json::Value =
        serde_json::from_str(&ok(&dir.0, &["show", "-json", "tfplan"])).expect("show -json");
    let actions: Vec<(String, String)> = json["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap_or_default().to_string(),
                c["change"]["actions"].to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("null_resource.a".to_string(), r#"["forget"]"#.to_string()),
            (
                "null_resource.b[0]".to_string(),
                r#"["delete"]"#.to_string()
            ),
            (
                "null_resource.b[1]".to_string(),
                r#"["delete"]"#.to_string()
            ),
            ("null_resource.c".to_string(), r#"["no-op"]"#.to_string()),
        ]
    );
    let forgotten = &json["resource_changes"][0]["change"];
    assert_eq!(forgotten["before"]["id"], "1001");
    assert!(forgotten["after"].is_null());
    let planned = json["planned_values"]["root_module"]["resources"].to_string();
    assert!(!planned.contains("null_resource.a"), "{planned}");
    // `show FILE` renders the same blocks as the plan did.
    let shown = ok(&dir.0, &["show", "-no-color", "tfplan"]);
    assert!(
        shown.contains(" # null_resource.a will no longer be managed by Terraform, but will not be destroyed\n # (destroy = false is set in the configuration)\n . resource \"null_resource\" \"a\" {\n        id = \"1001\"\n    }\n"),
        "{shown}"
    );
    let applied = ok(&dir.0, &["apply", "-no-color", "tfplan"]);
    assert!(
        applied.contains("Apply complete! Resources: 0 added, 0 changed, 2 destroyed."),
        "{applied}"
    );
    assert!(
        !applied.contains("null_resource.a: Destroying"),
        "{applied}"
    );
    assert_eq!(ok(&dir.0, &["state", "list"]), "null_resource.c\n");
}

/// `plan -json`: a `planned_change` with the action "forget" and the
/// warning as a diagnostic.
#[test]
fn json_ui_forget() {
    let dir = scratch("forget-and-destroy", "json");
    let out = ok(&dir.0, &["plan", "-json"]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let forget: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["type"] == "planned_change" && l["change"]["action"] == "forget")
        .collect();
    assert_eq!(forget.len(), 1, "{out}");
    assert_eq!(forget[0]["@message"], "null_resource.a: Plan to forget");
    assert_eq!(forget[0]["change"]["resource"]["addr"], "null_resource.a");
    let warning = lines
        .iter()
        .find(|l| l["type"] == "diagnostic")
        .unwrap_or_else(|| panic!("no diagnostic in\n{out}"));
    assert_eq!(warning["@level"], "warn");
    assert_eq!(
        warning["diagnostic"]["summary"],
        "Some objects will no longer be managed by Terraform"
    );
    let summary = lines
        .iter()
        .find(|l| l["type"] == "change_summary")
        .unwrap_or_else(|| panic!("no change_summary in\n{out}"));
    assert_eq!(summary["changes"]["remove"], 2);
}

/// `validate` reports the address errors too (they are errors of the
/// configuration itself); a still-declared object is a plan-time error.
#[test]
fn validate_reports_address_errors() {
    let dir = scratch("errors-address", "validate");
    let out = terrane(&dir.0, &["validate", "-no-color"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        expected(&fixtures().join("errors-address"), "plan.err").unwrap_or_default()
    );
    let dir = scratch("forget-module", "validate");
    let out = ok(&dir.0, &["validate", "-no-color"]);
    assert_eq!(out, "Success! The configuration is valid.\n\n");
}
