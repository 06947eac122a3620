//! Leftovers of issue 7 checked against Terraform 1.0.3's observed
//! behaviour: `-parallelism` values, `import` into an undeclared module
//! instance, `init -json`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str, files: &[(&str, &str)]) -> Scratch {
    let dir = std::env::temp_dir().join(format!("terrane-leftovers-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    for (path, text) in files {
        let p = dir.join(path);
        fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        fs::write(p, text).expect("write");
    }
    Scratch(dir)
}

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_CLI_ARGS")
        .env_remove("TF_LOG")
        .env_remove("TF_CLI_CONFIG_FILE")
        .output()
        .expect("run terrane")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// Terraform 1.0.3: `-parallelism=0` is the default (the plan runs), a
/// negative value is "Invalid parallelism value", a non-number a flag
/// parse error; each exits 1.
#[test]
fn parallelism_values_as_terraform() {
    let s = scratch(
        "par",
        &[("main.tf", "resource \"null_resource\" \"a\" {}\n")],
    );
    let zero = terrane(&s.0, &["plan", "-no-color", "-parallelism=0"]);
    assert_eq!(zero.status.code(), Some(0), "{}", text(&zero));
    assert!(text(&zero).contains("Plan: 1 to add, 0 to change, 0 to destroy."));
    let applied = terrane(
        &s.0,
        &["apply", "-no-color", "-auto-approve", "-parallelism=0"],
    );
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    let negative = terrane(&s.0, &["plan", "-no-color", "-parallelism=-1"]);
    assert_eq!(negative.status.code(), Some(1));
    assert_eq!(
        text(&negative),
        "\nError: Invalid parallelism value\n\nThe parallelism must be a positive value. Not -1.\n"
    );
    let word = terrane(&s.0, &["destroy", "-no-color", "-parallelism=abc"]);
    assert_eq!(word.status.code(), Some(1));
    assert!(
        text(&word).contains("invalid value \"abc\" for flag -parallelism: parse error"),
        "{}",
        text(&word)
    );
}

/// `import` into a module instance the call does not declare
/// (`module.m[0]` without `count`): Terraform 1.0.3 wrote the object
/// there and the next plan destroyed it; terrane refuses with Terraform
/// 1.5+'s error and writes no state.
#[test]
fn import_into_undeclared_module_instance_is_refused() {
    let s = scratch(
        "import",
        &[
            ("main.tf", "module \"m\" {\n  source = \"./m\"\n}\n"),
            (
                "m/main.tf",
                "resource \"random_string\" \"s\" {\n  length = 3\n}\n",
            ),
        ],
    );
    let out = terrane(
        &s.0,
        &["import", "-no-color", "module.m[0].random_string.s", "abc"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "\nError: Configuration for import target does not exist\n\nThe configuration for the given import module.m[0].random_string.s does not\nexist. All target instances must have an associated configuration to be\nimported.\n"
    );
    assert!(!s.0.join("terraform.tfstate").exists());
    // The declared instance imports.
    let ok = terrane(
        &s.0,
        &["import", "-no-color", "module.m.random_string.s", "abc"],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(text(&ok).contains("Import successful!"));
}

/// `init -json` (Terraform 1.9+'s stream; 1.0.3 has no such flag): the
/// `version` line, `init_output` messages with Terraform's message codes
/// for the headings and closing notes, `log` lines for the rest, and
/// diagnostics; every line is one JSON object.
#[test]
fn init_json_streams_messages() {
    let s = scratch(
        "initjson",
        &[
            ("main.tf", "module \"m\" {\n  source = \"./m\"\n}\n"),
            ("m/main.tf", "locals {\n  a = 1\n}\n"),
        ],
    );
    let out = terrane(&s.0, &["init", "-json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stderr.is_empty(), "{}", text(&out));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    let seen: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                "{} {} {}",
                l["type"].as_str().unwrap_or_default(),
                l["message_code"].as_str().unwrap_or("-"),
                l["@message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "version - Terraform 1.0.3",
            "init_output initializing_modules_message Initializing modules...",
            "log - - m in m",
            "init_output initializing_backend_message Initializing the backend...",
            "init_output initializing_provider_plugin_message Initializing provider plugins...",
            "init_output output_init_success_message Terraform has been successfully initialized!",
        ]
    );
    // A configuration error is a diagnostic message, exit 1.
    fs::write(s.0.join("main.tf"), "resource \"null_resource\" \"a\" {\n").expect("write");
    let bad = terrane(&s.0, &["init", "-json"]);
    assert_eq!(bad.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&bad.stdout);
    let first_error: serde_json::Value = stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("JSON line"))
        .find(|l| l["type"] == "diagnostic")
        .expect("a diagnostic");
    assert_eq!(
        first_error["@message"],
        "Error: Unclosed configuration block"
    );
    assert_eq!(first_error["diagnostic"]["range"]["filename"], "main.tf");
}

/// An instance key `count` or `for_each` does not declare is refused the
/// same way (Terraform 1.5+); declared keys import.
#[test]
fn import_of_an_undeclared_instance_key_is_refused() {
    let s = scratch(
        "import-key",
        &[(
            "main.tf",
            "resource \"random_string\" \"s\" {\n  count  = 2\n  length = 3\n}\n\nresource \"random_string\" \"e\" {\n  for_each = toset([\"a\"])\n  length   = 3\n}\n",
        )],
    );
    for (addr, declared) in [
        ("random_string.s[5]", false),
        ("random_string.s", false),
        ("random_string.e[\"b\"]", false),
        ("random_string.s[1]", true),
        ("random_string.e[\"a\"]", true),
    ] {
        let out = terrane(&s.0, &["import", "-no-color", addr, "abc"]);
        if declared {
            assert_eq!(out.status.code(), Some(0), "{addr}: {}", text(&out));
        } else {
            assert_eq!(out.status.code(), Some(1), "{addr}: {}", text(&out));
            assert!(
                String::from_utf8_lossy(&out.stderr).starts_with(&format!(
                    "\nError: Configuration for import target does not exist\n\nThe configuration for the given import {addr} does not"
                )),
                "{addr}: {}",
                text(&out)
            );
        }
    }
    let list = terrane(&s.0, &["state", "list"]);
    assert_eq!(
        String::from_utf8_lossy(&list.stdout),
        "random_string.e[\"a\"]\nrandom_string.s[1]\n"
    );
}
