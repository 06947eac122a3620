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

/// `init -json`: Terraform 1.0.3 has no such flag and exits 1; so does
/// terrane (docs/compatibility.md), before touching the directory.
#[test]
fn init_json_is_rejected_as_terraform_1_0_3_does() {
    let s = scratch(
        "initjson",
        &[("main.tf", "resource \"null_resource\" \"a\" {}\n")],
    );
    let out = terrane(&s.0, &["init", "-json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("flag provided but not defined: -json"),
        "{}",
        text(&out)
    );
    assert!(out.stdout.is_empty());
    assert!(!s.0.join(".terraform").exists());
}
