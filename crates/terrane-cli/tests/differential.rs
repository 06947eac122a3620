//! Differential scenarios: the same configuration and the same sequence of
//! steps run through the real Terraform 1.0.3 (with the real
//! hashicorp/null 2.1.2 plugin) and through terrane (built-in null). Each
//! step must give the same exit code, the same action per resource address,
//! the same plan and apply summary lines, the same error summaries, and the
//! same state afterwards: resource instance addresses and output values
//! (IDs differ by nature and are not compared).
//!
//! A scenario is a directory under `tests/scenarios` with `main.tf` (and
//! any other files the configuration uses), variants like `v2.tf`, and a
//! `steps` file: `apply [FLAGS]`, `plan [FLAGS]`, `destroy`, `use FILE`
//! (copy FILE over main.tf), `copy FROM TO`, or `swap-state` (each tool
//! continues on the state the other wrote: state written by either must be
//! planned by the other with "No changes."). Variant files end in
//! `.variant` so they are not loaded as configuration. The peer is installed by `.ci/run`
//! (`../shared/peer/setup.sh`); without it the test skips outside CI.

mod common;

use common::{copy_dir, outcome, peer_dir, run_step};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

#[test]
fn scenarios_match_terraform() {
    let Some(peer) = peer_dir() else { return };
    let terraform = peer.join("bin/terraform");
    let terrane = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut names: Vec<String> = fs::read_dir(&root)
        .expect("scenarios")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    // `TERRANE_SCENARIOS=46,47-target` runs only the scenarios whose names
    // contain one of the comma-separated parts.
    let only = std::env::var("TERRANE_SCENARIOS").unwrap_or_default();
    if !only.is_empty() {
        names.retain(|n| only.split(',').any(|part| n.contains(part)));
    }
    let scratch = std::env::temp_dir().join(format!("terrane-diff-{}", std::process::id()));
    let mut failures = Vec::new();
    let mut steps_run = 0;
    let mut steps_with_actions = 0;
    for name in &names {
        let src = root.join(name);
        let tf_dir = scratch.join(name).join("terraform");
        let tn_dir = scratch.join(name).join("terrane");
        copy_dir(&src, &tf_dir);
        copy_dir(&src, &tn_dir);
        let init = Command::new(&terraform)
            .args(["init", "-input=false", "-no-color"])
            .current_dir(&tf_dir)
            .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .expect("terraform init");
        assert!(
            init.status.success(),
            "{name}: terraform init failed: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let steps = fs::read_to_string(src.join("steps")).unwrap_or_default();
        for (i, step) in steps
            .lines()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .enumerate()
        {
            if let Some(file) = step.strip_prefix("use ") {
                for d in [&tf_dir, &tn_dir] {
                    fs::copy(src.join(file), d.join("main.tf")).expect("use variant");
                }
                continue;
            }
            if step == "swap-state" {
                // Each tool continues on the state the other one wrote.
                let (a, b) = (
                    tf_dir.join("terraform.tfstate"),
                    tn_dir.join("terraform.tfstate"),
                );
                let tmp = scratch.join("swap.tfstate");
                fs::rename(&a, &tmp).expect("move terraform's state");
                fs::rename(&b, &a).expect("move terrane's state");
                fs::rename(&tmp, &b).expect("move terraform's state into place");
                continue;
            }
            if let Some(rest) = step.strip_prefix("copy ") {
                let (from, to) = rest.split_once(' ').expect("copy FROM TO");
                for d in [&tf_dir, &tn_dir] {
                    fs::copy(src.join(from), d.join(to)).expect("copy file");
                }
                continue;
            }
            steps_run += 1;
            let a = outcome(&run_step(&terraform, &tf_dir, step, &peer));
            let b = outcome(&run_step(&terrane, &tn_dir, step, &peer));
            if !a.actions.is_empty() {
                steps_with_actions += 1;
            }
            let diffs = common::differences(&a, &b, &tf_dir, &tn_dir);
            if !diffs.is_empty() {
                failures.push(format!(
                    "{name} step {} `{step}`:\n{}",
                    i + 1,
                    diffs.join("\n")
                ));
            }
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    eprintln!(
        "{} scenarios, {steps_run} steps ({steps_with_actions} with resource actions), {} differing steps",
        names.len(),
        failures.len()
    );
    // The comparison must have had something to compare.
    assert!(
        !only.is_empty() || steps_with_actions >= 10,
        "only {steps_with_actions} steps planned any action"
    );
    assert!(
        failures.is_empty(),
        "{} differing steps:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
