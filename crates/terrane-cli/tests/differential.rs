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

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn peer_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(
        std::env::var("TERRANE_PEER_DIR").unwrap_or_else(|_| "/tmp/terrane-peer".into()),
    );
    if dir.join("bin/terraform").is_file() && dir.join("terraformrc").is_file() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "Terraform peer missing at {} (.ci/run installs it with ../shared/peer/setup.sh)",
            dir.display()
        );
    }
    eprintln!(
        "skipping: Terraform peer not installed at {} (run ../shared/peer/setup.sh)",
        dir.display()
    );
    None
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read dir").flatten() {
        let name = e.file_name();
        if name == "steps" {
            continue;
        }
        let t = to.join(&name);
        if e.path().is_dir() {
            copy_dir(&e.path(), &t)
        } else {
            fs::copy(e.path(), &t).expect("copy");
        }
    }
}

struct Outcome {
    code: i32,
    /// `# ADDR will be created` etc., sorted.
    actions: Vec<String>,
    /// Plan / apply / destroy summary and "No changes." lines.
    summaries: Vec<String>,
    errors: Vec<String>,
}

fn outcome(out: &std::process::Output) -> Outcome {
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    let mut actions: Vec<String> = text
        .lines()
        .filter(|l| {
            l.starts_with("  # ") && !l.contains("(config refers") && !l.contains("(depends on")
        })
        .map(|l| l.trim().to_string())
        .collect();
    actions.sort();
    let summaries = text
        .lines()
        .filter(|l| {
            l.starts_with("Plan: ")
                || l.starts_with("No changes.")
                || l.starts_with("Apply complete!")
                || l.starts_with("Destroy complete!")
        })
        .map(str::to_string)
        .collect();
    // Terraform lists a cycle's members in an order that varies from run
    // to run, so cycles compare as sets.
    let errors = text
        .lines()
        .filter(|l| l.starts_with("Error: "))
        .map(|l| match l.strip_prefix("Error: Cycle: ") {
            Some(members) => {
                let mut m: Vec<&str> = members.split(", ").collect();
                m.sort();
                format!("Error: Cycle: {}", m.join(", "))
            }
            None => l.to_string(),
        })
        .collect();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        actions,
        summaries,
        errors,
    }
}

/// Resource instance addresses and output values of a state file.
fn state_summary(dir: &Path) -> (Vec<String>, Vec<String>) {
    let Ok(text) = fs::read_to_string(dir.join("terraform.tfstate")) else {
        return (Vec::new(), Vec::new());
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return (vec!["<unparseable state>".into()], Vec::new());
    };
    let mut addrs = Vec::new();
    for r in json["resources"].as_array().into_iter().flatten() {
        let module = r["module"]
            .as_str()
            .map(|m| format!("{m}."))
            .unwrap_or_default();
        let mode = if r["mode"] == "data" { "data." } else { "" };
        for i in r["instances"].as_array().into_iter().flatten() {
            let key = match &i["index_key"] {
                serde_json::Value::Null => String::new(),
                k => format!("[{k}]"),
            };
            addrs.push(format!(
                "{module}{mode}{}.{}{key}{}",
                r["type"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default(),
                if i["status"] == "tainted" {
                    " (tainted)"
                } else {
                    ""
                }
            ));
        }
    }
    addrs.sort();
    let mut outputs: Vec<String> = json["outputs"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k} = {}", v["value"]))
        .collect();
    outputs.sort();
    (addrs, outputs)
}

fn run_step(tool: &Path, dir: &Path, step: &str, peer: &Path) -> std::process::Output {
    let mut words = step.split_whitespace();
    let verb = words.next().unwrap_or_default();
    let mut args: Vec<String> = vec![verb.to_string(), "-no-color".into(), "-input=false".into()];
    if verb == "apply" || verb == "destroy" {
        args.push("-auto-approve".into());
    }
    args.extend(words.map(str::to_string));
    Command::new(tool)
        .args(&args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .output()
        .expect("run tool")
}

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
            let mut diffs = Vec::new();
            if a.code != b.code {
                diffs.push(format!(
                    "exit code: terraform {} terrane {}",
                    a.code, b.code
                ));
            }
            if a.actions != b.actions {
                diffs.push(format!(
                    "actions:\n  terraform {:?}\n  terrane   {:?}",
                    a.actions, b.actions
                ));
            }
            if a.summaries != b.summaries {
                diffs.push(format!(
                    "summaries:\n  terraform {:?}\n  terrane   {:?}",
                    a.summaries, b.summaries
                ));
            }
            if a.errors != b.errors {
                diffs.push(format!(
                    "errors:\n  terraform {:?}\n  terrane   {:?}",
                    a.errors, b.errors
                ));
            }
            let (sa, sb) = (state_summary(&tf_dir), state_summary(&tn_dir));
            if sa.0 != sb.0 {
                diffs.push(format!(
                    "state instances:\n  terraform {:?}\n  terrane   {:?}",
                    sa.0, sb.0
                ));
            }
            if sa.1 != sb.1 {
                diffs.push(format!(
                    "state outputs:\n  terraform {:?}\n  terrane   {:?}",
                    sa.1, sb.1
                ));
            }
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
        steps_with_actions >= 10,
        "only {steps_with_actions} steps planned any action"
    );
    assert!(
        failures.is_empty(),
        "{} differing steps:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
