//! Saved plans and `show`, differential against Terraform 1.0.3 (the peer;
//! skipped outside CI when it is missing): `show -json` of plans and
//! states compared structurally, `plan -out` then `apply FILE`, stale
//! plans, `-var` with a plan file, and a configuration edited between
//! plan and apply. Both tools run the real hashicorp/null plugin from the
//! peer's mirror (each directory is initialised).

mod common;

use common::{copy_dir, peer_dir, state_summary};
use serde_json::Value as Json;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Tools {
    terraform: PathBuf,
    terrane: PathBuf,
    peer: PathBuf,
}

fn tools() -> Option<Tools> {
    let peer = peer_dir()?;
    Some(Tools {
        terraform: peer.join("bin/terraform"),
        terrane: PathBuf::from(env!("CARGO_BIN_EXE_terrane")),
        peer,
    })
}

fn run(tool: &Path, dir: &Path, args: &[&str], peer: &Path) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_IN_AUTOMATION")
        .env_remove("TF_LOG")
        .env_remove("TF_WORKSPACE")
        .output()
        .expect("run tool")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

/// Copies a scenario into fresh directories for both tools and runs
/// `init` in each.
fn setup(t: &Tools, scenario: &str, tag: &str) -> (PathBuf, PathBuf) {
    // A scenario of differential.rs, or a fixture of this test.
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let src = if tests.join("saved_plans").join(scenario).is_dir() {
        tests.join("saved_plans").join(scenario)
    } else {
        tests.join("scenarios").join(scenario)
    };
    let base = std::env::temp_dir().join(format!(
        "terrane-saved-{}-{tag}-{scenario}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&base);
    let (tf, tn) = (base.join("terraform"), base.join("terrane"));
    for (tool, dir) in [(&t.terraform, &tf), (&t.terrane, &tn)] {
        copy_dir(&src, dir);
        let o = run(tool, dir, &["init", "-input=false", "-no-color"], &t.peer);
        assert!(o.status.success(), "{scenario}: init failed: {}", text(&o));
    }
    (tf, tn)
}

/// Object ids (null_resource ids are long decimal strings) and versions
/// differ by run and tool; everything else must be equal.
fn normalize(j: &mut Json) {
    match j {
        // Also lists of ids joined with commas (their order follows the ids).
        Json::String(s)
            if s.split(',')
                .all(|p| p.len() >= 12 && p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            *s = "<id>".into()
        }
        Json::Array(xs) => xs.iter_mut().for_each(normalize),
        Json::Object(m) => {
            if let Some(v) = m.get_mut("terraform_version") {
                *v = Json::String("<version>".into());
            }
            // Known difference (docs/compatibility.md): the engine keeps
            // every path the provider says forces replacement (`id` too
            // for the null plugin); Terraform 1.0.3 lists `triggers` only.
            m.remove("replace_paths");
            // Terraform records an object's dependencies in an order that
            // varies from run to run.
            if let Some(Json::Array(deps)) = m.get_mut("depends_on") {
                deps.sort_by_key(|d| d.to_string());
            }
            // Known difference: the plan does not carry what data sources
            // read during planning, so `prior_state` lacks them.
            if let Some(Json::Object(values)) = m.get_mut("prior_state").map(|p| &mut p["values"]) {
                if let Some(Json::Array(rs)) = values
                    .get_mut("root_module")
                    .and_then(|r| r.get_mut("resources"))
                {
                    rs.retain(|r| r["mode"] != "data");
                    if rs.is_empty() {
                        if let Some(Json::Object(root)) = values.get_mut("root_module") {
                            root.remove("resources");
                        }
                    }
                }
            }
            m.values_mut().for_each(normalize);
        }
        _ => {}
    }
}

fn show_json(t: &Tools, tool: &Path, dir: &Path, file: Option<&str>) -> Json {
    let mut args = vec!["show", "-json"];
    args.extend(file);
    let o = run(tool, dir, &args, &t.peer);
    assert!(o.status.success(), "show -json failed: {}", text(&o));
    let mut j: Json = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("show -json printed invalid JSON ({e}): {}", text(&o));
    });
    normalize(&mut j);
    j
}

/// Paths where two JSON documents differ (keys, shapes or values).
fn json_diffs(a: &Json, b: &Json, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Json::Object(x), Json::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => json_diffs(p, q, &format!("{path}.{k}"), out),
                    (Some(p), None) => out.push(format!("{path}.{k}: only terraform: {p}")),
                    (None, Some(q)) => out.push(format!("{path}.{k}: only terrane: {q}")),
                    (None, None) => {}
                }
            }
        }
        (Json::Array(x), Json::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                json_diffs(p, q, &format!("{path}[{i}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: terraform {a} terrane {b}")),
    }
}

fn assert_same_json(what: &str, a: &Json, b: &Json) {
    let mut diffs = Vec::new();
    json_diffs(a, b, "", &mut diffs);
    assert!(
        diffs.is_empty(),
        "{what}: show -json differs from Terraform's:\n{}",
        diffs.join("\n")
    );
}

/// Plans with `-out` in both directories, compares `show -json` of the
/// plans, applies the plans and compares `show -json` of the states.
fn plan_apply_compare(t: &Tools, tf: &Path, tn: &Path, what: &str, extra: &[&str]) {
    let mut plan_texts = Vec::new();
    for (tool, dir) in [(&t.terraform, tf), (&t.terrane, tn)] {
        let mut args = vec!["plan", "-no-color", "-input=false", "-out=p.tfplan"];
        args.extend(extra);
        let o = run(tool, dir, &args, &t.peer);
        assert!(o.status.success(), "{what}: plan -out failed: {}", text(&o));
        plan_texts.push(String::from_utf8_lossy(&o.stdout).into_owned());
    }
    let (a, b) = (
        show_json(t, &t.terraform, tf, Some("p.tfplan")),
        show_json(t, &t.terrane, tn, Some("p.tfplan")),
    );
    assert_same_json(&format!("{what}: plan"), &a, &b);
    // `show FILE` prints the plan as `plan` did, without the footer. (The
    // plan text itself is compared with Terraform's by differential.rs.)
    for (i, (tool, dir)) in [(&t.terraform, tf), (&t.terrane, tn)]
        .into_iter()
        .enumerate()
    {
        let planned = &plan_texts[i];
        let body = planned.split("\n─").next().unwrap_or(planned);
        // Progress lines of the plan run are not part of the plan.
        let body: String = body
            .lines()
            .filter(|l| {
                !l.contains(": Refreshing state...")
                    && !l.contains(": Reading...")
                    && !l.contains(": Read complete after")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let body = body.as_str();
        let shown = show_text(t, tool, dir, Some("p.tfplan"));
        assert_eq!(
            shown.trim_end(),
            without_ids(body).trim_end(),
            "{what}: show of the plan ({i})"
        );
    }
    for (tool, dir) in [(&t.terraform, tf), (&t.terrane, tn)] {
        let o = run(tool, dir, &["apply", "-no-color", "p.tfplan"], &t.peer);
        assert!(
            o.status.success(),
            "{what}: apply p.tfplan failed: {}",
            text(&o)
        );
    }
    assert_eq!(
        state_summary(tf).0,
        state_summary(tn).0,
        "{what}: states differ"
    );
    let (a, b) = (
        show_json(t, &t.terraform, tf, None),
        show_json(t, &t.terrane, tn, None),
    );
    assert_same_json(&format!("{what}: state"), &a, &b);
    // Terraform lists modules in Go map order, and the blank lines
    // between them move with it: compare the blocks as a set.
    let blocks = |s: String| {
        let mut b: Vec<String> = s
            .split("\n\n")
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect();
        b.sort();
        b
    };
    assert_eq!(
        blocks(show_text(t, &t.terraform, tf, None)),
        blocks(show_text(t, &t.terrane, tn, None)),
        "{what}: show of the state"
    );
}

/// `show -no-color [FILE]` with ids replaced.
fn show_text(t: &Tools, tool: &Path, dir: &Path, file: Option<&str>) -> String {
    let mut args = vec!["show", "-no-color"];
    args.extend(file);
    let o = run(tool, dir, &args, &t.peer);
    assert!(o.status.success(), "show failed: {}", text(&o));
    without_ids(&String::from_utf8_lossy(&o.stdout))
}

/// Long digit strings (object ids) replaced with `<id>`, and the plan
/// renderer's "# forces replacement" left out: it marks attributes of
/// created objects where Terraform does not (a renderer matter, not one
/// of saved plans).
fn without_ids(s: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    for ch in s.chars().chain(['\n']) {
        if ch.is_ascii_digit() {
            digits.push(ch);
            continue;
        }
        if digits.len() >= 12 {
            out.push_str("<id>");
        } else {
            out.push_str(&digits);
        }
        digits.clear();
        out.push(ch);
    }
    out.replace(" # forces replacement", "")
}

#[test]
fn show_json_of_plans_and_states_matches_terraform() {
    let Some(t) = tools() else { return };
    for (scenario, variant) in [
        ("04-trigger-replace", Some("v2.variant")),
        ("07-module-count", Some("v2.variant")),
        ("08-variables-tfvars", None),
        ("06-depends-on-chain", None),
        ("03-for-each-remove-key", Some("v2.variant")),
        ("09-data-source", None),
        // Provider block with a version constraint, for_each over a set,
        // create_before_destroy, depends_on, a for expression, a counted
        // local module, descriptions.
        ("rich", None),
    ] {
        let (tf, tn) = setup(&t, scenario, "json");
        // Before anything exists: no state.
        assert_eq!(
            show_json(&t, &t.terraform, &tf, None),
            show_json(&t, &t.terrane, &tn, None),
            "{scenario}: show -json without state"
        );
        plan_apply_compare(&t, &tf, &tn, scenario, &[]);
        if let Some(v) = variant {
            for d in [&tf, &tn] {
                fs::copy(d.join(v), d.join("main.tf")).expect("use variant");
            }
            plan_apply_compare(&t, &tf, &tn, &format!("{scenario} ({v})"), &[]);
        }
        plan_apply_compare(
            &t,
            &tf,
            &tn,
            &format!("{scenario} (destroy)"),
            &["-destroy"],
        );
    }
}

#[test]
fn plan_out_prints_terraforms_footer() {
    let Some(t) = tools() else { return };
    let (tf, tn) = setup(&t, "04-trigger-replace", "footer");
    let tail = |tool: &Path, dir: &Path| {
        let o = run(
            tool,
            dir,
            &["plan", "-no-color", "-out=saved.tfplan"],
            &t.peer,
        );
        assert!(o.status.success(), "plan -out failed: {}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        let lines: Vec<String> = out.lines().map(str::to_string).collect();
        lines[lines.len().saturating_sub(7)..].to_vec()
    };
    let a = tail(&t.terraform, &tf);
    let b = tail(&t.terrane, &tn);
    assert!(
        a.iter().any(|l| l.starts_with("Saved the plan to:")),
        "{a:?}"
    );
    assert_eq!(a, b);
    assert!(tn.join("saved.tfplan").is_file());
}

#[test]
fn stale_plan_and_variables_are_refused_like_terraform() {
    let Some(t) = tools() else { return };
    let (tf, tn) = setup(&t, "04-trigger-replace", "stale");
    let mut outcomes = Vec::new();
    for (tool, dir) in [(&t.terraform, &tf), (&t.terrane, &tn)] {
        let o = run(tool, dir, &["apply", "-no-color", "-auto-approve"], &t.peer);
        assert!(o.status.success(), "apply: {}", text(&o));
        fs::copy(dir.join("v2.variant"), dir.join("main.tf")).expect("variant");
        let o = run(tool, dir, &["plan", "-no-color", "-out=a.tfplan"], &t.peer);
        assert!(o.status.success(), "plan: {}", text(&o));
        fs::copy(dir.join("a.tfplan"), dir.join("b.tfplan")).expect("copy plan");
        let with_var = run(
            tool,
            dir,
            &["apply", "-no-color", "-var", "x=1", "a.tfplan"],
            &t.peer,
        );
        let first = run(tool, dir, &["apply", "-no-color", "a.tfplan"], &t.peer);
        assert!(first.status.success(), "apply a.tfplan: {}", text(&first));
        let second = run(tool, dir, &["apply", "-no-color", "b.tfplan"], &t.peer);
        let show = run(tool, dir, &["show", "-no-color", "b.tfplan"], &t.peer);
        outcomes.push([with_var, second, show].map(|o| (o.status.code(), text(&o))));
    }
    assert!(
        outcomes[0][1].1.contains("Error: Saved plan is stale"),
        "{}",
        outcomes[0][1].1
    );
    assert!(
        outcomes[0][0]
            .1
            .contains("Error: Can't set variables when applying a saved plan"),
        "{}",
        outcomes[0][0].1
    );
    for (i, what) in [
        "-var with a plan file",
        "stale apply",
        "show of a stale plan",
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(outcomes[0][i], outcomes[1][i], "{what}");
    }
}

#[test]
fn apply_of_a_saved_plan_ignores_later_edits() {
    let Some(t) = tools() else { return };
    let (tf, tn) = setup(&t, "04-trigger-replace", "edit");
    for (tool, dir) in [(&t.terraform, &tf), (&t.terrane, &tn)] {
        let o = run(tool, dir, &["plan", "-no-color", "-out=p.tfplan"], &t.peer);
        assert!(o.status.success(), "plan: {}", text(&o));
        // Edited after the plan: the plan's snapshot still says "1".
        fs::copy(dir.join("v2.variant"), dir.join("main.tf")).expect("variant");
        fs::write(dir.join("extra.tf"), "output \"late\" {\n  value = 1\n}\n").expect("extra");
        let o = run(tool, dir, &["apply", "-no-color", "p.tfplan"], &t.peer);
        assert!(o.status.success(), "apply: {}", text(&o));
        assert!(!text(&o).contains("late"), "{}", text(&o));
    }
    assert_eq!(state_summary(&tf), state_summary(&tn));
    let state: Json =
        serde_json::from_str(&fs::read_to_string(tn.join("terraform.tfstate")).expect("state"))
            .expect("state json");
    let a = state["resources"]
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "a"))
        .expect("null_resource.a in state");
    assert_eq!(a["instances"][0]["attributes"]["triggers"]["version"], "1");
    assert!(state["outputs"].get("late").is_none());
}

#[test]
fn unreadable_plan_files_are_reported_like_terraform() {
    let Some(t) = tools() else { return };
    let (tf, tn) = setup(&t, "04-trigger-replace", "bad");
    let mut outcomes = Vec::new();
    for (tool, dir) in [(&t.terraform, &tf), (&t.terrane, &tn)] {
        fs::write(dir.join("bad.tfplan"), "not a zip\n").expect("write");
        let apply = run(tool, dir, &["apply", "-no-color", "bad.tfplan"], &t.peer);
        let show = run(tool, dir, &["show", "-no-color", "bad.tfplan"], &t.peer);
        outcomes.push([apply, show].map(|o| (o.status.code(), text(&o))));
    }
    assert!(
        outcomes[0][0].1.contains("as a plan file"),
        "{}",
        outcomes[0][0].1
    );
    assert_eq!(outcomes[0], outcomes[1]);
}

/// A remote (git) module is applied from the plan's snapshot too, not
/// from `.terraform/modules` as edited after the plan.
#[test]
fn remote_modules_apply_from_the_snapshot() {
    let Some(t) = tools() else { return };
    let base = std::env::temp_dir().join(format!("terrane-saved-{}-git", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let (src, work) = (base.join("src"), base.join("work"));
    fs::create_dir_all(&src).expect("mkdir");
    fs::create_dir_all(&work).expect("mkdir");
    fs::write(
        src.join("main.tf"),
        "variable \"v\" {}\nresource \"null_resource\" \"r\" {\n  triggers = { v = var.v }\n}\n",
    )
    .expect("module");
    for args in [
        vec!["init", "-q"],
        vec!["add", "main.tf"],
        vec![
            "-c",
            "user.email=t@example.com",
            "-c",
            "user.name=t",
            "commit",
            "-q",
            "-m",
            "module",
        ],
    ] {
        let o = Command::new("git")
            .args(&args)
            .current_dir(&src)
            .output()
            .expect("git");
        assert!(o.status.success(), "git {args:?}: {}", text(&o));
    }
    fs::write(
        work.join("main.tf"),
        format!(
            "module \"x\" {{\n  source = \"git::file://{}\"\n  v      = \"planned\"\n}}\n",
            src.display()
        ),
    )
    .expect("root");
    let o = run(&t.terrane, &work, &["init", "-no-color"], &t.peer);
    assert!(o.status.success(), "init: {}", text(&o));
    let o = run(
        &t.terrane,
        &work,
        &["plan", "-no-color", "-out=p.tfplan"],
        &t.peer,
    );
    assert!(o.status.success(), "plan: {}", text(&o));
    let installed = work.join(".terraform/modules/x/main.tf");
    let edited = fs::read_to_string(&installed)
        .expect("installed module")
        .replace("v = var.v", "v = \"edited\"");
    fs::write(&installed, edited).expect("edit module");
    let o = run(
        &t.terrane,
        &work,
        &["apply", "-no-color", "p.tfplan"],
        &t.peer,
    );
    assert!(o.status.success(), "apply: {}", text(&o));
    let state = fs::read_to_string(work.join("terraform.tfstate")).expect("state");
    assert!(state.contains("\"v\": \"planned\""), "{state}");
    assert!(!state.contains("edited"), "{state}");
}
