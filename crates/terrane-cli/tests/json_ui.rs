//! `plan -json`, `apply -json`, `destroy -json`: every line of terrane's
//! machine-readable UI parsed and compared with Terraform 1.0.3's for a
//! multi-resource configuration (`tests/json_ui/main.tf`): message types,
//! levels, messages and the `change`/`changes`/`hook`/`outputs`/
//! `diagnostic` payloads, with ids and times masked. Messages of
//! resources Terraform handles concurrently (consecutive refresh, plan
//! and apply messages) are compared as sets; everything else in order.

mod common;

use common::{copy_dir, peer_dir};
use serde_json::Value as Json;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `tool args...` in `dir`; returns the exit code and stdout lines.
fn run(tool: &Path, dir: &Path, peer: &Path, args: &[&str]) -> (i32, Vec<String>) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TZ", "UTC")
        .env_remove("TF_LOG")
        .output()
        .expect("run tool");
    let stdout = String::from_utf8_lossy(&out.stdout);
    (
        out.status.code().unwrap_or(-1),
        stdout.lines().map(str::to_string).collect(),
    )
}

/// `[id=123]` → `[id=ID]`, `after 3s` → `after Ns`.
fn mask_message(m: &str) -> String {
    let mut out = String::new();
    let mut rest = m;
    while let Some(i) = rest.find("[id=") {
        out.push_str(&rest[..i]);
        out.push_str("[id=ID]");
        rest = match rest[i..].find(']') {
            Some(j) => &rest[i + j + 1..],
            None => "",
        };
    }
    out.push_str(rest);
    match out.find(" after ") {
        Some(i) => {
            let tail = &out[i + 7..];
            let end = tail.find(' ').unwrap_or(tail.len());
            format!("{} after Ns{}", &out[..i], &tail[end..])
        }
        None => out,
    }
}

/// Removes ids and elapsed times from a payload.
fn mask_payload(v: &mut Json) {
    if let Json::Object(m) = v {
        m.remove("id_value");
        m.remove("elapsed_seconds");
        for (_, inner) in m.iter_mut() {
            mask_payload(inner);
        }
    }
}

/// Checks one line's common fields and reduces it to what must match:
/// (type, level, masked message, masked payload).
fn reduce(line: &str, who: &str) -> (String, String) {
    let mut v: Json = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("{who}: not a JSON line ({e}): {line}"));
    assert_eq!(v["@module"], "terraform.ui", "{who}: {line}");
    let ts = v["@timestamp"].as_str().unwrap_or_default().to_string();
    // 2021-07-28T10:00:00.123456Z (or a +hh:mm offset).
    assert!(
        ts.len() >= 27
            && ts.as_bytes()[4] == b'-'
            && ts.as_bytes()[10] == b'T'
            && ts.as_bytes()[19] == b'.'
            && ts[20..26].bytes().all(|b| b.is_ascii_digit())
            && (ts.ends_with('Z') || ts[26..].starts_with(['+', '-'])),
        "{who}: timestamp {ts:?} is not RFC 3339 with microseconds"
    );
    let kind = v["type"].as_str().unwrap_or_default().to_string();
    let level = v["@level"].as_str().unwrap_or_default().to_string();
    let message = mask_message(v["@message"].as_str().unwrap_or_default());
    let mut payload = serde_json::Map::new();
    if let Json::Object(m) = &mut v {
        for key in ["change", "changes", "hook", "outputs", "diagnostic"] {
            if let Some(mut p) = m.remove(key) {
                mask_payload(&mut p);
                payload.insert(key.into(), p);
            }
        }
        if kind == "version" {
            for key in ["terraform", "ui"] {
                if let Some(p) = m.remove(key) {
                    payload.insert(key.into(), p);
                }
            }
        }
    }
    (
        kind.clone(),
        format!("{kind} {level} {message:?} {}", Json::Object(payload)),
    )
}

/// The messages in blocks: a run of consecutive messages of one phase
/// (refresh, plan, apply) is one sorted block; other messages stand alone.
fn blocks(lines: &[String], who: &str) -> Vec<Vec<String>> {
    let phase = |kind: &str| -> Option<&'static str> {
        match kind {
            "refresh_start" | "refresh_complete" => Some("refresh"),
            "planned_change" => Some("plan"),
            "resource_drift" => Some("drift"),
            "apply_start" | "apply_complete" | "apply_progress" => Some("apply"),
            _ => None,
        }
    };
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut last: Option<&'static str> = None;
    for line in lines {
        let (kind, reduced) = reduce(line, who);
        let p = phase(&kind);
        match (p, last) {
            (Some(a), Some(b)) if a == b => out.last_mut().expect("block").push(reduced),
            _ => out.push(vec![reduced]),
        }
        last = p;
    }
    for b in &mut out {
        b.sort();
    }
    out
}

struct Dirs {
    terraform: PathBuf,
    terrane: PathBuf,
}

/// Runs one step with both tools and returns the differences.
fn step(dirs: &Dirs, peer: &Path, args: &[&str]) -> Vec<String> {
    let terraform = peer.join("bin/terraform");
    let terrane = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let (tf_code, tf_lines) = run(&terraform, &dirs.terraform, peer, args);
    let (tn_code, tn_lines) = run(&terrane, &dirs.terrane, peer, args);
    let mut diffs = Vec::new();
    let what = args.join(" ");
    if tf_code != tn_code {
        diffs.push(format!(
            "`{what}`: exit code {tn_code}, Terraform {tf_code}"
        ));
    }
    assert!(!tf_lines.is_empty(), "`{what}`: Terraform printed nothing");
    let a = blocks(&tf_lines, "terraform");
    let b = blocks(&tn_lines, "terrane");
    if a != b {
        diffs.push(format!(
            "`{what}`:\n  Terraform:\n    {}\n  terrane:\n    {}",
            a.iter()
                .map(|b| b.join("\n    "))
                .collect::<Vec<_>>()
                .join("\n    --\n    "),
            b.iter()
                .map(|b| b.join("\n    "))
                .collect::<Vec<_>>()
                .join("\n    --\n    "),
        ));
    }
    // Dependencies are honoured in terrane's stream: b starts after both
    // instances of a are complete.
    let position = |needle: &str| tn_lines.iter().position(|l| l.contains(needle));
    if let Some(b_start) = position("\"null_resource.b: Creating...\"") {
        for a in ["null_resource.a[0]", "null_resource.a[1]"] {
            let done = position(&format!("\"{a}: Creation complete"));
            assert!(
                done.is_some_and(|d| d < b_start),
                "`{what}`: null_resource.b started before {a} was created"
            );
        }
    }
    diffs
}

#[test]
fn json_ui_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/json_ui");
    let scratch = std::env::temp_dir().join(format!("terrane-json-ui-{}", std::process::id()));
    let dirs = Dirs {
        terraform: scratch.join("terraform"),
        terrane: scratch.join("terrane"),
    };
    copy_dir(&src, &dirs.terraform);
    copy_dir(&src, &dirs.terrane);
    let init = Command::new(peer.join("bin/terraform"))
        .args(["init", "-input=false", "-no-color"])
        .current_dir(&dirs.terraform)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("terraform init");
    assert!(
        init.status.success(),
        "terraform init failed: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let mut diffs = Vec::new();
    // Create, then replace (a new var value), refresh first.
    diffs.extend(step(&dirs, &peer, &["plan", "-json"]));
    diffs.extend(step(&dirs, &peer, &["apply", "-json", "-auto-approve"]));
    diffs.extend(step(&dirs, &peer, &["refresh", "-json"]));
    diffs.extend(step(&dirs, &peer, &["plan", "-json", "-var", "v=2"]));
    diffs.extend(step(
        &dirs,
        &peer,
        &["apply", "-json", "-auto-approve", "-var", "v=2"],
    ));
    // -json leaves no way to approve interactively.
    diffs.extend(step(&dirs, &peer, &["apply", "-json", "-var", "v=3"]));
    // A saved plan applies without -auto-approve.
    let terrane = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    for (tool, dir) in [
        (peer.join("bin/terraform"), &dirs.terraform),
        (terrane, &dirs.terrane),
    ] {
        let (code, _) = run(&tool, dir, &peer, &["plan", "-out=tfplan", "-var", "v=4"]);
        assert_eq!(code, 0, "plan -out in {}", dir.display());
    }
    diffs.extend(step(&dirs, &peer, &["apply", "-json", "tfplan"]));
    diffs.extend(step(&dirs, &peer, &["destroy", "-json", "-auto-approve"]));
    // An invalid configuration: a diagnostic with its range and snippet.
    for d in [&dirs.terraform, &dirs.terrane] {
        fs::copy(src.join("invalid.tf.txt"), d.join("invalid.tf")).expect("copy invalid.tf");
    }
    diffs.extend(step(&dirs, &peer, &["plan", "-json"]));
    let _ = fs::remove_dir_all(&scratch);
    assert!(diffs.is_empty(), "{}", diffs.join("\n\n"));
}
