//! Helpers shared by the differential tests (`differential.rs`,
//! `aws_moto.rs`): locating the Terraform peer, running a step through a
//! tool, and reducing its output and state to what must match.
#![allow(dead_code)] // each test binary uses a different subset

use std::fs;
use std::path::Path;
use std::process::Command;

#[allow(unused_imports)] // not every test binary needs the peer
pub use terrane_testkit::peer_dir;

pub fn copy_dir(from: &Path, to: &Path) {
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

pub struct Outcome {
    pub code: i32,
    /// `# ADDR will be created` etc., sorted.
    pub actions: Vec<String>,
    /// Plan / apply / destroy summary and "No changes." lines.
    pub summaries: Vec<String>,
    pub errors: Vec<String>,
}

pub fn outcome(out: &std::process::Output) -> Outcome {
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
pub fn state_summary(dir: &Path) -> (Vec<String>, Vec<String>) {
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

pub fn run_step(tool: &Path, dir: &Path, step: &str, peer: &Path) -> std::process::Output {
    let mut words = step.split_whitespace();
    let verb = words.next().unwrap_or_default();
    let mut args: Vec<String> = vec![verb.to_string(), "-no-color".into()];
    // `taint` and `untaint` take no -input flag.
    if !matches!(verb, "taint" | "untaint") {
        args.push("-input=false".into());
    }
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

/// The differences between two tools' outcomes of one step and the states
/// they left in their directories, one message per differing aspect.
pub fn differences(a: &Outcome, b: &Outcome, a_dir: &Path, b_dir: &Path) -> Vec<String> {
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
    let (sa, sb) = (state_summary(a_dir), state_summary(b_dir));
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
    diffs
}
