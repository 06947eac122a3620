//! `-state`, `-state-out`, `-backup` and `-lock-timeout` on plan/apply:
//! where the state is read from and written to, as Terraform 1.0.3 does
//! (observed: the input state stays as it was, the new state goes to
//! `-state-out`, the backup holds the state as read, and an apply that
//! changed something ends with the "State path:" note).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env_remove("TF_LOG")
        .env_remove("TF_WORKSPACE")
        .output()
        .expect("run terrane")
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("terrane-state-flags-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn instances(path: &Path) -> Vec<String> {
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(path).expect("read state")).expect("state JSON");
    json["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{}.{}",
                r["type"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or("")
            )
        })
        .collect()
}

#[test]
fn state_out_and_backup_on_apply() {
    let dir = scratch("out");
    fs::write(dir.join("main.tf"), "resource \"null_resource\" \"a\" {}\n").expect("write");
    let first = terrane(
        &dir,
        &["apply", "-auto-approve", "-no-color", "-state=s1.tfstate"],
    );
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let s1_before = fs::read(dir.join("s1.tfstate")).expect("s1 written");

    fs::write(
        dir.join("main.tf"),
        "resource \"null_resource\" \"a\" {}\nresource \"null_resource\" \"b\" {}\n",
    )
    .expect("write");
    let second = terrane(
        &dir,
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-state=s1.tfstate",
            "-state-out=s2.tfstate",
            "-backup=bk.tfstate",
        ],
    );
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(
        stdout.contains("\nState path: s2.tfstate\n"),
        "no state path note:\n{stdout}"
    );
    // The input state is untouched; the new one went to -state-out.
    assert_eq!(fs::read(dir.join("s1.tfstate")).expect("s1"), s1_before);
    assert_eq!(
        instances(&dir.join("s2.tfstate")),
        ["null_resource.a", "null_resource.b"]
    );
    assert!(!dir.join("terraform.tfstate").exists());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn apply_without_changes_prints_no_state_path_note() {
    let dir = scratch("nochange");
    fs::write(dir.join("main.tf"), "resource \"null_resource\" \"a\" {}\n").expect("write");
    let first = terrane(
        &dir,
        &["apply", "-auto-approve", "-no-color", "-state=s1.tfstate"],
    );
    assert!(first.status.success());
    let again = terrane(
        &dir,
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-state=s1.tfstate",
            "-state-out=s2.tfstate",
        ],
    );
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stdout).contains("State path:"));
    assert_eq!(instances(&dir.join("s2.tfstate")), ["null_resource.a"]);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn invalid_lock_timeout_is_refused() {
    let dir = scratch("locktimeout");
    fs::write(dir.join("main.tf"), "resource \"null_resource\" \"a\" {}\n").expect("write");
    let out = terrane(&dir, &["plan", "-no-color", "-lock-timeout=soon"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("-lock-timeout"));
    let _ = fs::remove_dir_all(&dir);
}
