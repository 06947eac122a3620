//! Differential tests of the state surgery and workspace commands against
//! the real Terraform 1.0.3 (`state mv` within a state, into a module and
//! to another state file, `state rm`, `state push` serial and lineage
//! conflicts, `state replace-provider`, `workspace new/select/list/delete`
//! and applies in two workspaces).
//!
//! Terraform applies the fixture (`tests/state_fixtures/basic`) once with
//! the real hashicorp/null 2.1.2; both tools then start from a copy of that
//! state, so every state file they write must be byte-identical (a lineage
//! they make up is compared as "new"), and each step must print the same
//! text on each stream with the same exit code. Backups are compared by
//! content, their names with the timestamp masked. Without the peer the
//! test skips outside CI.

mod common;

use common::peer_dir;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Pair {
    peer: PathBuf,
    terraform: PathBuf,
    terrane: PathBuf,
    tf_dir: PathBuf,
    tn_dir: PathBuf,
    /// The lineage of the state both started from.
    lineage: String,
}

impl Drop for Pair {
    fn drop(&mut self) {
        if let Some(scratch) = self.tf_dir.parent() {
            let _ = fs::remove_dir_all(scratch);
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/state_fixtures")
        .join(name)
}

fn tool(
    pair: &Pair,
    terraform: bool,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
) -> Output {
    let bin = if terraform {
        &pair.terraform
    } else {
        &pair.terrane
    };
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", pair.peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_LOG")
        .env_remove("TF_WORKSPACE")
        .env_remove("TF_DATA_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("run tool");
    {
        use std::io::Write;
        let mut input = child.stdin.take().expect("stdin");
        let _ = input.write_all(stdin.as_bytes());
    }
    child.wait_with_output().expect("wait for tool")
}

/// Both directories hold the basic fixture and the state Terraform applied.
fn setup(name: &str) -> Option<Pair> {
    setup_fixture(name, "basic")
}

/// Both directories hold `fixture` and the state Terraform applied.
fn setup_fixture(name: &str, fixture_name: &str) -> Option<Pair> {
    let peer = peer_dir()?;
    let scratch =
        std::env::temp_dir().join(format!("terrane-statecmd-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let tf_dir = scratch.join("terraform");
    let tn_dir = scratch.join("terrane");
    common::copy_dir(&fixture(fixture_name), &tf_dir);
    common::copy_dir(&fixture(fixture_name), &tn_dir);
    let mut pair = Pair {
        terraform: peer.join("bin/terraform"),
        terrane: PathBuf::from(env!("CARGO_BIN_EXE_terrane")),
        peer,
        tf_dir,
        tn_dir,
        lineage: String::new(),
    };
    for args in [
        &["init", "-no-color", "-input=false"][..],
        &["apply", "-no-color", "-input=false", "-auto-approve"][..],
    ] {
        let out = tool(&pair, true, &pair.tf_dir.clone(), args, &[], "");
        assert!(
            out.status.success(),
            "terraform {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    fs::copy(
        pair.tf_dir.join("terraform.tfstate"),
        pair.tn_dir.join("terraform.tfstate"),
    )
    .expect("copy state");
    let _ = fs::remove_file(pair.tf_dir.join("terraform.tfstate.backup"));
    pair.lineage =
        lineage_of(&fs::read_to_string(pair.tf_dir.join("terraform.tfstate")).unwrap_or_default());
    Some(pair)
}

fn lineage_of(state: &str) -> String {
    serde_json::from_str::<serde_json::Value>(state)
        .ok()
        .and_then(|v| v["lineage"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// State files (`*.tfstate`, backups) under `dir`, by name with
/// timestamps masked, content with a made-up lineage replaced by `NEW`.
fn state_files(dir: &Path, lineage: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // Per backed-up file: the newest timestamped backup (name, content).
    let mut newest: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = p
                .strip_prefix(dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            if name.starts_with(".terraform") {
                continue;
            }
            if p.is_dir() {
                out.insert(format!("{name}/"), String::new());
                stack.push(p);
                continue;
            }
            if !(name.ends_with(".tfstate") || name.ends_with(".backup")) {
                continue;
            }
            let is_timestamped = name.ends_with(".backup")
                && name
                    .split('.')
                    .any(|part| part.len() >= 9 && part.bytes().all(|b| b.is_ascii_digit()));
            if is_timestamped {
                // Only the newest counts: steps in the same second share a
                // name, so how many there are depends on timing.
                let prefix = name
                    .split('.')
                    .take_while(|part| !part.bytes().all(|b| b.is_ascii_digit()))
                    .collect::<Vec<_>>()
                    .join(".");
                let older = match newest.get(&prefix) {
                    Some((n, _)) => n < &name,
                    None => true,
                };
                if older {
                    newest.insert(
                        prefix,
                        (
                            name.clone(),
                            normalise_lineage(&fs::read_to_string(&p).unwrap_or_default(), lineage),
                        ),
                    );
                }
                continue;
            }
            let masked: String = name
                .split('.')
                .map(|part| {
                    if part.len() >= 9 && part.bytes().all(|b| b.is_ascii_digit()) {
                        "TIMESTAMP"
                    } else {
                        part
                    }
                })
                .collect::<Vec<_>>()
                .join(".");
            let text = normalise_lineage(&fs::read_to_string(&p).unwrap_or_default(), lineage);
            out.insert(masked, text);
        }
    }
    for (prefix, (_, text)) in newest {
        out.insert(format!("{prefix}.NEWEST.backup"), text);
    }
    out
}

/// `text` with a lineage other than `lineage` replaced by `NEW`.
fn normalise_lineage(text: &str, lineage: &str) -> String {
    let l = lineage_of(text);
    if !l.is_empty() && l != lineage {
        text.replace(&l, "NEW")
    } else {
        text.to_string()
    }
}

/// Runs one step in both directories; returns the differences.
fn step(
    pair: &Pair,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: &str,
    sort_lines: bool,
) -> Vec<String> {
    let a = tool(pair, true, &pair.tf_dir, args, env, stdin);
    let b = tool(pair, false, &pair.tn_dir, args, env, stdin);
    let mut diffs = Vec::new();
    if a.status.code() != b.status.code() {
        diffs.push(format!(
            "exit code: terraform {:?} terrane {:?}",
            a.status.code(),
            b.status.code()
        ));
    }
    let text = |bytes: &[u8]| {
        let s = String::from_utf8_lossy(bytes).into_owned();
        if sort_lines {
            let mut l: Vec<&str> = s.lines().collect();
            l.sort();
            l.join("\n")
        } else {
            s
        }
    };
    for (what, x, y) in [
        ("stdout", &a.stdout, &b.stdout),
        ("stderr", &a.stderr, &b.stderr),
    ] {
        let (x, y) = (text(x), text(y));
        if x != y {
            diffs.push(format!("{what}:\n--- terraform\n{x}\n--- terrane\n{y}"));
        }
    }
    let (sa, sb) = (
        state_files(&pair.tf_dir, &pair.lineage),
        state_files(&pair.tn_dir, &pair.lineage),
    );
    if sa.keys().collect::<Vec<_>>() != sb.keys().collect::<Vec<_>>() {
        diffs.push(format!(
            "files: terraform {:?} terrane {:?}",
            sa.keys().collect::<Vec<_>>(),
            sb.keys().collect::<Vec<_>>()
        ));
    }
    for (name, content) in &sa {
        if let Some(other) = sb.get(name) {
            if other != content {
                diffs.push(format!(
                    "{name} differs:\n--- terraform\n{content}\n--- terrane\n{other}"
                ));
            }
        }
    }
    diffs
        .into_iter()
        .map(|d| format!("`{}`: {d}", args.join(" ")))
        .collect()
}

fn run_steps(pair: &Pair, steps: &[&[&str]]) -> Vec<String> {
    steps
        .iter()
        // Terraform lists the nested modules a `state mv` moves in Go map
        // order, which varies from run to run: compare those lines sorted.
        .flat_map(|args| step(pair, args, &[], "", args.starts_with(&["state", "mv"])))
        .collect()
}

fn check(failures: Vec<String>) {
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn state_list_and_errors_match() {
    let Some(pair) = setup("list") else { return };
    check(run_steps(
        &pair,
        &[
            &["state", "list"],
            &[
                "state",
                "list",
                "-no-color",
                "module.m",
                "null_resource.b[0]",
            ],
            &["state", "list", "-no-color", "null_resource.c"],
            &["state", "list", "-no-color", "nothing.here"],
            &["state", "list", "-no-color", "null_resource.b[5]"],
            &["state", "list", "-no-color", "module.nope"],
            &["state", "list", "-no-color", "bad["],
            &["state", "list", "-no-color", "null_resource"],
            &["state", "list", "-no-color", "-state=nope.tfstate"],
            &["state", "list", "-no-color", "-id=static"],
            &["state", "list", "-no-color", "-bogus"],
            &["state", "list", "-no-color", "-id="],
            &["state", "pull", "-no-color", "-state=missing.tfstate"],
            &[
                "state",
                "push",
                "-no-color",
                "-state=missing.tfstate",
                "x.tfstate",
            ],
            &["state", "rm", "-no-color", "-bogus", "x"],
            &["state", "replace-provider", "-no-color", "-bogus", "a", "b"],
            &["state", "mv", "-no-color", "-lock-timeout=zz", "a.b", "c.d"],
            &["state", "rm", "-no-color", "-lock=maybe", "a.b"],
            &["workspace", "list", "-no-color", "-bogus"],
            &["workspace", "list", "-no-color", "x"],
            &["workspace", "new", "-no-color"],
            &["workspace", "delete", "-no-color", "a", "b"],
            &["state", "-help"],
            &["state", "list", "-help"],
            &["state", "show", "-help"],
            &["state", "mv", "-help"],
            &["state", "rm", "-help"],
            &["state", "pull", "-help"],
            &["state", "push", "-help"],
            &["state", "replace-provider", "-help"],
            &["workspace", "-help"],
            &["workspace"],
            &["workspace", "list", "-help"],
            &["workspace", "show", "-help"],
            &["workspace", "new", "-help"],
            &["workspace", "select", "-help"],
            &["workspace", "delete", "-help"],
            &["state", "show", "-no-color", "null_resource.b"],
            &["state", "show", "-no-color", "null_resource.a"],
            &["state", "show", "-no-color", "null_resource.b[1]"],
            &["state", "show", "-no-color", "null_resource.c[\"k2\"]"],
            &[
                "state",
                "show",
                "-no-color",
                "module.m.data.null_data_source.d",
            ],
            &["state", "show", "-no-color", "module.m"],
            &["state", "show", "-no-color"],
            &["state", "show", "-no-color", "nothing.x"],
        ],
    ));
}

#[test]
fn state_mv_matches() {
    let Some(pair) = setup("mv") else { return };
    check(run_steps(
        &pair,
        &[
            &[
                "state",
                "mv",
                "-no-color",
                "-dry-run",
                "null_resource.a",
                "null_resource.z",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "-backup=bk.tfstate",
                "null_resource.a",
                "null_resource.z",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.b[0]",
                "null_resource.b[7]",
            ],
            // A whole resource into a module, and a module into a module.
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.b",
                "module.new.null_resource.q",
            ],
            &["state", "mv", "-no-color", "module.m", "module.p.module.q"],
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.c[\"k1\"]",
                "null_resource.c2",
            ],
            // Refusals.
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.z",
                "null_resource.c[\"k2\"]",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.z",
                "data.null_data_source.w",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.nope",
                "null_resource.x",
            ],
            &["state", "mv", "-no-color", "module.new", "null_resource.q"],
            &["state", "mv", "-no-color", "null_resource.z"],
            // To another state file (a new one: fresh lineage, serial 1).
            &[
                "state",
                "mv",
                "-no-color",
                "-state-out=other.tfstate",
                "null_resource.z",
                "null_resource.z",
            ],
            // Into the now existing other state: both get a backup.
            &[
                "state",
                "mv",
                "-no-color",
                "-state-out=other.tfstate",
                "null_resource.c2",
                "null_resource.c2",
            ],
            &["state", "list", "-state=other.tfstate"],
            &[
                "state",
                "mv",
                "-no-color",
                "-state-out=other.tfstate",
                "-backup-out=out.backup",
                "null_resource.c[\"k2\"]",
                "null_resource.c[\"k2\"]",
            ],
            &["state", "list"],
        ],
    ));
}

#[test]
fn state_mv_more_cases_match() {
    let Some(pair) = setup("mv2") else { return };
    check(run_steps(
        &pair,
        &[
            // An instance into a module, a resource to a module address,
            // a data resource, merging into an existing resource.
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.b[0]",
                "module.m.null_resource.b[0]",
            ],
            &["state", "mv", "-no-color", "null_resource.a", "module.k"],
            &[
                "state",
                "mv",
                "-no-color",
                "module.m.data.null_data_source.d",
                "data.null_data_source.e",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "module.k.null_resource.a",
                "null_resource.c",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.b[1]",
                "null_resource.b",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "null_resource.c[\"k2\"]",
                "null_resource.c[\"k1\"]",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "-dry-run",
                "module.gone",
                "module.p",
            ],
            &["state", "mv", "-no-color", "module.m", "module.m[\"x\"]"],
            &[
                "state",
                "mv",
                "-no-color",
                "module.m[\"x\"]",
                "module.m[\"x\"]",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "-lock=false",
                "-lock-timeout=1s",
                "null_resource.b",
                "null_resource.bb",
            ],
            &["state", "list"],
            &["state", "show", "-no-color", "null_resource.c"],
        ],
    ));
}

/// Modules with `count` and `for_each` and nested modules: listing order,
/// module filters without a key (every instance of the call), and moves of
/// module instances with their nested modules.
#[test]
fn nested_modules_match() {
    let Some(pair) = setup_fixture("nested", "modules") else {
        return;
    };
    let mut failures = run_steps(
        &pair,
        &[
            &["state", "list"],
            &["state", "list", "-no-color", "module.mc"],
            &["state", "list", "-no-color", "module.mc[0]"],
            &["state", "list", "-no-color", "module.mf[\"a\"]"],
            &["state", "list", "-no-color", "module.mc[0].module.inner"],
            &[
                "state",
                "list",
                "-no-color",
                "module.mc.module.inner.null_resource.y",
            ],
            &["state", "show", "-no-color", "data.null_data_source.top"],
            &[
                "state",
                "show",
                "-no-color",
                "module.mc[1].module.inner.null_resource.y[0]",
            ],
            &["state", "rm", "-no-color", "-dry-run", "module.mc"],
            &["state", "rm", "-no-color", "module.mf[\"b\"]"],
        ],
    );
    // Terraform prints a dry run's module instances in map order.
    failures.extend(step(
        &pair,
        &[
            "state",
            "mv",
            "-no-color",
            "-dry-run",
            "module.mc[0]",
            "module.mf[\"c\"]",
        ],
        &[],
        "",
        true,
    ));
    failures.extend(run_steps(
        &pair,
        &[
            &[
                "state",
                "mv",
                "-no-color",
                "module.mc[0]",
                "module.mf[\"c\"]",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "module.mc[1].module.inner",
                "module.moved",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "data.null_data_source.top",
                "data.null_data_source.top2",
            ],
            &[
                "state",
                "mv",
                "-no-color",
                "module.mf[\"a\"].null_resource.x",
                "null_resource.fromm",
            ],
            &["state", "list"],
            &["state", "rm", "-no-color", "module.mc"],
            &["state", "list"],
        ],
    ));
    check(failures);
}

#[test]
fn state_rm_matches() {
    let Some(pair) = setup("rm") else { return };
    check(run_steps(
        &pair,
        &[
            &[
                "state",
                "rm",
                "-no-color",
                "-dry-run",
                "null_resource.a",
                "null_resource.b[0]",
            ],
            &[
                "state",
                "rm",
                "-no-color",
                "null_resource.a",
                "null_resource.b[0]",
            ],
            &["state", "rm", "-no-color", "-backup=rm.backup", "module.m"],
            // Terraform's state commands ignore -backup=-.
            &[
                "state",
                "rm",
                "-no-color",
                "-backup=-",
                "null_resource.c[\"k2\"]",
            ],
            &["state", "rm", "-no-color", "null_resource.nope"],
            &[
                "state",
                "rm",
                "-no-color",
                "null_resource.b[1]",
                "null_resource.nope",
            ],
            &["state", "rm", "-no-color"],
            &["state", "list"],
        ],
    ));
}

#[test]
fn state_pull_and_push_conflicts_match() {
    let Some(pair) = setup("push") else { return };
    let original = fs::read_to_string(pair.tf_dir.join("terraform.tfstate")).expect("state");
    let serial = serde_json::from_str::<serde_json::Value>(&original).expect("json")["serial"]
        .as_u64()
        .expect("serial");
    let variants = [
        (
            "low.tfstate",
            original.replace(&format!("\"serial\": {serial}"), "\"serial\": 1"),
        ),
        (
            "high.tfstate",
            original.replace(
                &format!("\"serial\": {serial}"),
                &format!("\"serial\": {}", serial + 5),
            ),
        ),
        (
            "other.tfstate",
            original.replace(&pair.lineage, "11111111-2222-3333-4444-555555555555"),
        ),
        ("bad.tfstate", "{\n".to_string()),
        (
            "same-serial.tfstate",
            original.replace("\"x\": \"1\"", "\"x\": \"9\""),
        ),
    ];
    for (name, text) in &variants {
        for d in [&pair.tf_dir, &pair.tn_dir] {
            fs::write(d.join(name), text).expect("write variant");
        }
    }
    let mut failures = run_steps(
        &pair,
        &[
            &["state", "pull"],
            &["state", "push", "-no-color", "low.tfstate"],
            &["state", "push", "-no-color", "other.tfstate"],
            &["state", "push", "-no-color", "nonexist.tfstate"],
            &["state", "push", "-no-color", "bad.tfstate"],
            &["state", "push", "-no-color", "same-serial.tfstate"],
            &["state", "push", "-no-color", "high.tfstate"],
            &["state", "push", "-no-color", "low.tfstate"],
            &["state", "push", "-no-color", "-force", "low.tfstate"],
            &["state", "push", "-no-color"],
        ],
    );
    failures.extend(step(
        &pair,
        &["state", "push", "-no-color", "-"],
        &[],
        &variants[0].1,
        false,
    ));
    check(failures);
}

#[test]
fn state_replace_provider_matches() {
    let Some(pair) = setup("replace") else { return };
    let mut failures = Vec::new();
    // Terraform lists the resources in map order: compared as sorted lines.
    for (args, stdin) in [
        (
            &[
                "state",
                "replace-provider",
                "-no-color",
                "hashicorp/null",
                "example.com/acme/null",
            ][..],
            "no\n",
        ),
        (
            &[
                "state",
                "replace-provider",
                "-no-color",
                "-auto-approve",
                "hashicorp/null",
                "example.com/acme/null",
            ][..],
            "",
        ),
        (
            &[
                "state",
                "replace-provider",
                "-no-color",
                "-auto-approve",
                "hashicorp/nothing",
                "example.com/acme/null",
            ][..],
            "",
        ),
        (
            &[
                "state",
                "replace-provider",
                "-no-color",
                "-auto-approve",
                "bad addr",
                "example.com/acme/null",
            ][..],
            "",
        ),
        (
            &[
                "state",
                "replace-provider",
                "-no-color",
                "example.com/acme/null",
                "registry.terraform.io/hashicorp/null",
            ][..],
            "yes\n",
        ),
        (
            &["state", "replace-provider", "-no-color", "hashicorp/null"][..],
            "",
        ),
        (
            &[
                "state",
                "replace-provider",
                "-no-color",
                "-auto-approve",
                "a/b/c/d",
                "hashicorp/null",
            ][..],
            "",
        ),
        (
            &[
                "state",
                "replace-provider",
                "-no-color",
                "-auto-approve",
                "hashicorp/null",
                "a_b/c",
            ][..],
            "",
        ),
        (
            &[
                "state",
                "replace-provider",
                "-no-color",
                "-auto-approve",
                "null",
                "hashicorp/null",
            ][..],
            "",
        ),
    ] {
        failures.extend(step(&pair, args, &[], stdin, true));
    }
    check(failures);
}

#[test]
fn workspaces_match() {
    let Some(pair) = setup("workspace") else {
        return;
    };
    let mut failures = run_steps(
        &pair,
        &[
            &["workspace", "show"],
            &["workspace", "list"],
            &["workspace", "new", "-no-color", "dev"],
            &["workspace", "new", "-no-color", "dev"],
            &["workspace", "new", "-no-color", "bad/name"],
            &["workspace", "list"],
            &["workspace", "show"],
            &["workspace", "select", "-no-color", "nope"],
            &["workspace", "delete", "-no-color", "dev"],
            &["workspace", "delete", "-no-color", "default"],
            &["workspace", "new", "-no-color", "empty"],
            &["workspace", "select", "-no-color", "default"],
            &["workspace", "delete", "-no-color", "empty"],
            &["workspace", "delete", "-no-color", "nope"],
            &["workspace", "select", "-no-color", "dev"],
            &["workspace", "select", "-no-color", "dev"],
            &["workspace", "delete", "-no-color", "default"],
        ],
    );
    failures.extend(run_steps(
        &pair,
        &[
            &["state"],
            &["workspace", "select", "-no-color", "default"],
            &[
                "workspace",
                "new",
                "-no-color",
                "-state=terraform.tfstate",
                "copy",
            ],
            &["state", "list"],
            &["workspace", "select", "-no-color", "default"],
        ],
    ));
    let env = [("TF_WORKSPACE", "dev")];
    for args in [
        &["workspace", "show"][..],
        &["workspace", "list"][..],
        &["workspace", "select", "-no-color", "default"][..],
        &["workspace", "new", "-no-color", "other"][..],
    ] {
        failures.extend(step(&pair, args, &env, "", false));
    }
    // terraform.workspace in expressions: the selected workspace.
    failures.extend(step(
        &pair,
        &["console"],
        &env,
        "terraform.workspace\n",
        false,
    ));
    failures.extend(step(
        &pair,
        &["console"],
        &[],
        "terraform.workspace\n",
        false,
    ));
    // A workspace named only by TF_WORKSPACE comes into being.
    for args in [
        &["state", "list", "-no-color"][..],
        &["workspace", "list"][..],
        &["state", "pull"][..],
    ] {
        failures.extend(step(&pair, args, &[("TF_WORKSPACE", "ghost")], "", false));
    }
    check(failures);
}

/// Each tool applies in `dev` (where `terraform.workspace` is "dev") and
/// in `default`; the states must hold the same instances and outputs.
#[test]
fn apply_in_two_workspaces_matches() {
    let Some(pair) = setup("apply-ws") else {
        return;
    };
    let mut failures = Vec::new();
    let summary = |dir: &Path| {
        let mut all = Vec::new();
        for ws in ["", "terraform.tfstate.d/dev"] {
            let (addrs, outputs) = common::state_summary(&dir.join(ws));
            all.push(format!("{ws}: {addrs:?} {outputs:?}"));
        }
        all
    };
    for args in [
        &["workspace", "new", "-no-color", "dev"][..],
        &["apply", "-no-color", "-input=false", "-auto-approve"][..],
        &["workspace", "select", "-no-color", "default"][..],
        &[
            "apply",
            "-no-color",
            "-input=false",
            "-auto-approve",
            "-var=x=2",
        ][..],
        // Commands on the selected workspace's state.
        &["workspace", "select", "-no-color", "dev"][..],
        &["taint", "-no-color", "null_resource.a"][..],
        &["state", "rm", "-no-color", "null_resource.c[\"k1\"]"][..],
        &["output", "-no-color", "-raw", "o"][..],
        &["plan", "-no-color", "-input=false"][..],
        &["workspace", "select", "-no-color", "default"][..],
    ] {
        let (a, b) = (
            tool(&pair, true, &pair.tf_dir, args, &[], ""),
            tool(&pair, false, &pair.tn_dir, args, &[], ""),
        );
        if !matches!(args[0], "apply" | "plan") && a.stdout != b.stdout {
            failures.push(format!(
                "{args:?}: stdout: terraform {:?} terrane {:?}",
                String::from_utf8_lossy(&a.stdout),
                String::from_utf8_lossy(&b.stdout)
            ));
        }
        let (a, b) = (common::outcome(&a), common::outcome(&b));
        if a.code != b.code || a.summaries != b.summaries || a.actions != b.actions {
            failures.push(format!(
                "{args:?}: terraform {} {:?} {:?}, terrane {} {:?} {:?}",
                a.code, a.summaries, a.actions, b.code, b.summaries, b.actions
            ));
        }
    }
    let (sa, sb) = (summary(&pair.tf_dir), summary(&pair.tn_dir));
    if sa != sb {
        failures.push(format!("states: terraform {sa:?} terrane {sb:?}"));
    }
    assert!(
        sa[1].contains("o = \\\"dev\\\"") || sa[1].contains("o = \"dev\""),
        "{sa:?}"
    );
    check(failures);
}

/// A child process killed when dropped.
struct KillOnDrop(std::process::Child);

impl KillOnDrop {
    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        self.stop();
    }
}

/// While Terraform holds the state lock (an apply waiting at its prompt),
/// `state rm` and `state mv` fail the same way in both tools, with
/// Terraform's lock info; `-lock=false` goes ahead.
#[test]
fn lock_held_by_terraform_is_honoured() {
    let Some(pair) = setup("lock") else { return };
    fs::write(
        pair.tf_dir.join("main.tf"),
        fs::read_to_string(pair.tf_dir.join("main.tf"))
            .expect("main.tf")
            .replace("default = \"1\"", "default = \"2\""),
    )
    .expect("change config");
    let holder = Command::new(&pair.terraform)
        .args(["apply", "-no-color"])
        .current_dir(&pair.tf_dir)
        .env("TF_CLI_CONFIG_FILE", pair.peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("terraform apply");
    // Stopped however the test ends.
    let mut holder = KillOnDrop(holder);
    let info = pair.tf_dir.join(".terraform.tfstate.lock.info");
    for _ in 0..600 {
        if info.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(info.exists(), "terraform never took the lock");
    let mut failures = Vec::new();
    for args in [
        &["state", "rm", "-no-color", "null_resource.a"][..],
        &[
            "state",
            "mv",
            "-no-color",
            "-lock-timeout=1s",
            "null_resource.a",
            "null_resource.z",
        ][..],
        &[
            "state",
            "replace-provider",
            "-no-color",
            "-auto-approve",
            "hashicorp/null",
            "example.com/x/null",
        ][..],
    ] {
        let a = tool(&pair, true, &pair.tf_dir, args, &[], "");
        let b = tool(&pair, false, &pair.tf_dir, args, &[], "");
        assert_eq!(a.status.code(), Some(1), "{args:?}");
        if a.status.code() != b.status.code() || a.stdout != b.stdout || a.stderr != b.stderr {
            failures.push(format!(
                "{args:?}:\n--- terraform {:?}\n{}{}\n--- terrane {:?}\n{}{}",
                a.status.code(),
                String::from_utf8_lossy(&a.stdout),
                String::from_utf8_lossy(&a.stderr),
                b.status.code(),
                String::from_utf8_lossy(&b.stdout),
                String::from_utf8_lossy(&b.stderr)
            ));
        }
    }
    let before = fs::read_to_string(pair.tf_dir.join("terraform.tfstate")).expect("state");
    holder.stop();
    assert!(
        before.contains("\"name\": \"a\""),
        "the refused commands changed the state"
    );
    check(failures);
}

/// A journal left by an interrupted apply is folded in first: `state list`
/// shows its changes without writing, `state rm` folds then removes (one
/// serial for each write).
#[test]
fn crash_journal_is_folded_first() {
    let Some(pair) = setup("journal") else { return };
    let dir = &pair.tn_dir;
    let path = dir.join("terraform.tfstate");
    let base = terrane_state::read(&fs::read(&path).expect("state"), &Default::default())
        .expect("valid state")
        .expect("a state");
    let mut journal = terrane_state::Journal::open(&path).expect("journal");
    journal.start(Some(&base)).expect("start");
    let template = base
        .state
        .resources
        .iter()
        .find(|r| r.name == "a")
        .expect("null_resource.a")
        .clone();
    journal
        .append(&terrane_state::Change::SetInstance {
            resource: terrane_state::ResourceAddr {
                module: String::new(),
                mode: terrane_state::Mode::Managed,
                type_: "null_resource".into(),
                name: "journaled".into(),
            },
            provider: template.provider.clone(),
            instance: template.instances[0].clone(),
        })
        .expect("append");
    drop(journal);
    let list = tool(&pair, false, dir, &["state", "list"], &[], "");
    let listed = String::from_utf8_lossy(&list.stdout).into_owned();
    assert!(listed.contains("null_resource.journaled\n"), "{listed}");
    assert_eq!(
        fs::read(&path).expect("state"),
        common_serialize(&base),
        "list wrote the state"
    );
    let rm = tool(
        &pair,
        false,
        dir,
        &["state", "rm", "-no-color", "null_resource.a"],
        &[],
        "",
    );
    assert_eq!(
        rm.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rm.stderr)
    );
    let after = terrane_state::read(&fs::read(&path).expect("state"), &Default::default())
        .expect("valid state")
        .expect("a state");
    let names: Vec<&str> = after
        .state
        .resources
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert!(
        names.contains(&"journaled") && !names.contains(&"a"),
        "{names:?}"
    );
    assert_eq!(after.serial, base.serial + 2);
    assert_eq!(after.lineage, base.lineage);
    let journal = terrane_state::Journal::open(&path).expect("journal");
    assert!(journal.changes().is_empty(), "journal not emptied");
}

fn common_serialize(file: &terrane_state::StateFile) -> Vec<u8> {
    terrane_state::serialize(file).into_bytes()
}

/// `state show` of a state Terraform wrote (strings with quotes, escapes,
/// `<>&`, non-ASCII text, a multi-line heredoc, an empty map, a tainted
/// instance): the text recorded from `terraform state show` next to it.
/// Needs no peer.
#[test]
fn state_show_matches_recorded_output() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/state_fixtures/show");
    for addr in ["null_resource.a", "null_resource.b"] {
        let out = Command::new(env!("CARGO_BIN_EXE_terrane"))
            .args([
                "state",
                "show",
                "-no-color",
                "-state=terraform.tfstate",
                addr,
            ])
            .current_dir(&dir)
            .env_remove("TF_WORKSPACE")
            .output()
            .expect("run terrane");
        let expected = fs::read_to_string(dir.join(format!("{addr}.txt"))).expect("recorded");
        assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "{addr}");
        assert_eq!(out.status.code(), Some(0));
    }
    assert!(
        !dir.join(".terraform.tfstate.journal").exists(),
        "state show left a file behind"
    );
}
