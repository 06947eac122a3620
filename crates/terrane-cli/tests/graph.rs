//! `terrane graph` against Terraform 1.0.3's `terraform graph`.
//!
//! Each directory under `tests/graph` is a configuration (null provider
//! only) with the DOT text Terraform 1.0.3 printed for it, recorded with
//! the real binary: `plan.dot` (`terraform graph`), `validate.dot`
//! (`-type=validate`), `plan-draw-cycles.dot` (`-draw-cycles`),
//! `plan-destroy.dot` (`-type=plan-destroy`), `apply-from-plan.dot`
//! (`-plan=FILE`, compared with `graph -plan` of terrane's own plan of the
//! same configuration and state); a `terraform.tfstate` beside
//! the configuration gives the plan graphs their orphans and the destroy
//! graph its objects. The first
//! test compares terrane with the recordings; the second runs the peer
//! (skips outside CI without it) on the same fixtures for every type.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/graph")
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(fixtures())
        .expect("tests/graph")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("TERRANE_PROVIDERS", "builtin")
        .env_remove("TF_CLI_ARGS")
        .env_remove("TF_CLI_ARGS_graph")
        .env_remove("TF_DATA_DIR")
        .output()
        .expect("run terrane")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The flags that produced a recorded file.
fn flags_of(file: &str) -> Option<Vec<&'static str>> {
    Some(match file {
        "plan.dot" => vec![],
        "validate.dot" => vec!["-type=validate"],
        "plan-draw-cycles.dot" => vec!["-draw-cycles"],
        "plan-destroy.dot" => vec!["-type=plan-destroy"],
        _ => return None,
    })
}

#[test]
fn graph_matches_recorded_terraform_output() {
    let mut compared = 0;
    for case in cases() {
        for e in fs::read_dir(&case).expect("case dir").flatten() {
            let file = e.file_name().to_string_lossy().into_owned();
            if file == "apply-from-plan.dot" {
                // The apply graph of a saved plan: terrane's own plan of
                // the same configuration and state as Terraform's.
                let dir = std::env::temp_dir().join(format!(
                    "terrane-graph-apply-{}-{}",
                    case.file_name().unwrap_or_default().to_string_lossy(),
                    std::process::id()
                ));
                let _ = fs::remove_dir_all(&dir);
                common::copy_dir(&case, &dir);
                let planned = terrane(&dir, &["plan", "-input=false", "-out=tfplan"]);
                assert!(planned.status.success(), "{case:?}: {planned:?}");
                let out = terrane(&dir, &["graph", "-plan=tfplan"]);
                let want = fs::read_to_string(e.path()).expect("recorded dot");
                assert_eq!(stdout(&out), want, "{} -plan", case.display());
                let _ = fs::remove_dir_all(&dir);
                compared += 1;
                continue;
            }
            let Some(flags) = flags_of(&file) else {
                continue;
            };
            let mut args = vec!["graph"];
            args.extend(flags);
            let out = terrane(&case, &args);
            assert!(out.status.success(), "{case:?} {args:?}: {out:?}");
            let want = fs::read_to_string(e.path()).expect("recorded dot");
            assert_eq!(stdout(&out), want, "{} {args:?}", case.display());
            compared += 1;
        }
    }
    assert!(compared >= 8, "only {compared} recordings compared");
}

#[test]
fn graph_matches_terraform_peer() {
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let scratch = std::env::temp_dir().join(format!("terrane-graph-peer-{}", std::process::id()));
    for case in cases() {
        let name = case.file_name().unwrap_or_default().to_owned();
        let dir = scratch.join(&name);
        common::copy_dir(&case, &dir);
        let tf = |args: &[&str]| {
            Command::new(peer.join("bin/terraform"))
                .args(args)
                .current_dir(&dir)
                .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
                .env("CHECKPOINT_DISABLE", "1")
                .env_remove("TF_CLI_ARGS")
                .output()
                .expect("run terraform")
        };
        let init = tf(&["init", "-input=false", "-no-color"]);
        assert!(init.status.success(), "{name:?}: init: {init:?}");
        for ty in [
            "plan",
            "validate",
            "plan-refresh-only",
            "plan-destroy",
            "eval",
        ] {
            let flag = format!("-type={ty}");
            let want = tf(&["graph", &flag]);
            if !want.status.success() {
                // Terraform refuses some types on a cyclic graph.
                continue;
            }
            let got = terrane(&dir, &["graph", &flag]);
            assert_eq!(stdout(&got), stdout(&want), "{name:?} {flag}");
        }
    }
    let _ = fs::remove_dir_all(&scratch);
}

#[test]
fn graph_errors_and_saved_plans() {
    let case = fixtures().join("module-chain");
    let bad = terrane(&case, &["graph", "-type=foo", "-no-color"]);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&bad.stderr),
        "Invalid graph type requested: foo\n"
    );
    let extra = terrane(&case, &["graph", "-no-color", "extra"]);
    assert_eq!(extra.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&extra.stderr),
        "Too many command line arguments. Did you mean to use -chdir?\n"
    );
    // `-module-depth` is accepted and ignored, as in Terraform 1.0.
    let depth = terrane(&case, &["graph", "-module-depth=1"]);
    let plain = terrane(&case, &["graph"]);
    assert_eq!(stdout(&depth), stdout(&plain));
    // `-plan=FILE` draws the configuration the plan was made with, even
    // after the working directory's configuration changed.
    let dir = std::env::temp_dir().join(format!("terrane-graph-plan-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    common::copy_dir(&case, &dir);
    let planned = terrane(&dir, &["plan", "-no-color", "-out=tfplan"]);
    assert!(planned.status.success(), "{planned:?}");
    fs::write(
        dir.join("main.tf"),
        "resource \"null_resource\" \"other\" {}\n",
    )
    .expect("write");
    let from_plan = terrane(&dir, &["graph", "-plan=tfplan", "-type=plan"]);
    assert_eq!(stdout(&from_plan), stdout(&plain));
    let _ = fs::remove_dir_all(&dir);
}
