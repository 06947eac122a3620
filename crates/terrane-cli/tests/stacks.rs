//! `terrane stacks` over a generated repository of 30 stacks on the
//! built-in providers: local backends, `terraform_remote_state` between
//! stacks (a chain 6 stacks long and a fan-out of 12), explicit
//! `depends_on` in terrane.hcl, and a local module shared by two stacks.
//!
//! Each stack writes `order.txt` whose content is its upstream's output
//! followed by its own name, read through `terraform_remote_state`: a
//! stack run before its upstream would read an empty state and fail, so
//! the files prove the order.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TERRANE: &str = env!("CARGO_BIN_EXE_terrane");

/// One generated stack: its directory and the stacks it reads state from.
struct Spec {
    dir: String,
    reads: Vec<String>,
    uses_shared_module: bool,
}

fn specs() -> Vec<Spec> {
    let spec = |dir: &str, reads: &[&str], shared: bool| Spec {
        dir: dir.to_string(),
        reads: reads.iter().map(|r| r.to_string()).collect(),
        uses_shared_module: shared,
    };
    let mut v = vec![spec("net", &[], false)];
    // The chain: net -> c1 -> ... -> c5 (c2 uses the shared module).
    v.push(spec("chain/c1", &["net"], false));
    for i in 2..=5 {
        let up = format!("chain/c{}", i - 1);
        v.push(spec(&format!("chain/c{i}"), &[up.as_str()], i == 2));
    }
    // Fan-out: twelve apps read net.
    for i in 1..=12 {
        v.push(spec(&format!("apps/a{i:02}"), &["net"], false));
    }
    // Independent services; s01 uses the shared module.
    for i in 1..=6 {
        v.push(spec(&format!("svc/s{i:02}"), &[], i == 1));
    }
    // d2..d5 depend on d1 through terrane.hcl only.
    for i in 1..=5 {
        v.push(spec(&format!("data/d{i}"), &[], false));
    }
    // The join of the chain's end and one app.
    v.push(spec("edge", &["chain/c5", "apps/a01"], false));
    v
}

fn name_of(dir: &str) -> &str {
    dir.rsplit('/').next().unwrap_or(dir)
}

fn stack_config(s: &Spec) -> String {
    let depth = s.dir.split('/').count();
    let up = "../".repeat(depth);
    let mut text = String::from(
        "terraform {\n  required_providers {\n    local = {\n      source = \"hashicorp/local\"\n    }\n  }\n}\n\n",
    );
    let mut parts = Vec::new();
    for (i, r) in s.reads.iter().enumerate() {
        text.push_str(&format!(
            "data \"terraform_remote_state\" \"up{i}\" {{\n  backend = \"local\"\n  config = {{\n    path = \"{up}{r}/terraform.tfstate\"\n  }}\n}}\n\n"
        ));
        parts.push(format!(
            "${{data.terraform_remote_state.up{i}.outputs.chain}}"
        ));
    }
    if s.uses_shared_module {
        text.push_str(&format!(
            "module \"shared\" {{\n  source = \"{up}modules/shared\"\n}}\n\n"
        ));
    }
    let prefix = if parts.is_empty() {
        String::new()
    } else {
        format!("{}>", parts.join("+"))
    };
    text.push_str(&format!(
        "resource \"local_file\" \"order\" {{\n  filename = \"${{path.module}}/order.txt\"\n  content  = \"{prefix}{}\"\n}}\n\noutput \"chain\" {{\n  value = local_file.order.content\n}}\n",
        name_of(&s.dir)
    ));
    text
}

fn expected_chain(dir: &str, all: &BTreeMap<String, Vec<String>>) -> String {
    let reads = &all[dir];
    let own = name_of(dir);
    if reads.is_empty() {
        return own.to_string();
    }
    let ups: Vec<String> = reads.iter().map(|r| expected_chain(r, all)).collect();
    format!("{}>{own}", ups.join("+"))
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn generate(root: &Path) {
    for s in specs() {
        write(&root.join(&s.dir).join("main.tf"), &stack_config(&s));
    }
    write(
        &root.join("modules/shared/main.tf"),
        "output \"label\" {\n  value = \"shared\"\n}\n",
    );
    let mut hcl = String::from("# Stacks whose order is not visible in their configuration.\n");
    for i in 2..=5 {
        hcl.push_str(&format!(
            "stack \"data/d{i}\" {{\n  depends_on = [\"../d1\"]\n}}\n\n"
        ));
    }
    write(&root.join("terrane.hcl"), &hcl);
    write(
        &root.join(".gitignore"),
        "*.tfstate\n*.tfstate.backup\norder.txt\n.terraform*\n",
    );
    git(root, &["init", "-q"]);
    git(root, &["add", "."]);
    git(root, &["commit", "-q", "-m", "stacks"]);
}

fn stacks(root: &Path, args: &[&str]) -> Output {
    Command::new(TERRANE)
        .arg("stacks")
        .args(args)
        .current_dir(root)
        .env("TERRANE_PROVIDERS", "builtin")
        .env_remove("TF_CLI_ARGS")
        .output()
        .expect("terrane runs")
}

fn summary(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not the JSON summary ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// stack name → result, from a `-json` summary.
fn results(doc: &serde_json::Value) -> BTreeMap<String, String> {
    doc["stacks"]
        .as_array()
        .expect("stacks array")
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().expect("name").to_string(),
                s["result"].as_str().expect("result").to_string(),
            )
        })
        .collect()
}

fn with_result(r: &BTreeMap<String, String>, want: &str) -> BTreeSet<String> {
    r.iter()
        .filter(|(_, v)| *v == want)
        .map(|(k, _)| k.clone())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn thirty_stacks_in_order_in_parallel_with_failures_and_changed_since() {
    let tmp = tempdir();
    let root = tmp.as_path();
    generate(root);

    // Discovery and dependencies.
    let out = stacks(root, &["list", "-json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc = summary(&out);
    let listed = doc["stacks"].as_array().expect("stacks");
    assert_eq!(listed.len(), 30, "modules/shared is a module, not a stack");
    let deps: BTreeMap<String, Vec<String>> = listed
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap_or_default().to_string(),
                s["depends_on"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(deps["edge"], ["apps/a01", "chain/c5"]);
    assert_eq!(deps["chain/c3"], ["chain/c2"]);
    assert_eq!(deps["data/d4"], ["data/d1"]);
    assert!(deps["svc/s01"].is_empty());
    let position = |n: &str| listed.iter().position(|s| s["stack"] == n).expect("listed");
    assert!(position("net") < position("chain/c1"));
    assert!(position("chain/c5") < position("edge"));

    // Apply everything, four at a time.
    let out = stacks(root, &["apply", "-parallelism=4", "-json"]);
    let doc = summary(&out);
    let r = results(&doc);
    assert_eq!(
        with_result(&r, "ok").len(),
        30,
        "{doc:#}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
    assert_eq!(doc["summary"]["failed"], 0);
    for s in doc["stacks"].as_array().expect("stacks") {
        assert_eq!(s["add"], 1, "{s}");
    }
    let reads: BTreeMap<String, Vec<String>> =
        specs().into_iter().map(|s| (s.dir, s.reads)).collect();
    for dir in reads.keys() {
        let got = std::fs::read_to_string(root.join(dir).join("order.txt")).expect("order.txt");
        assert_eq!(got, expected_chain(dir, &reads), "order.txt of {dir}");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("edge/order.txt")).expect("edge"),
        "net>c1>c2>c3>c4>c5+net>a01>edge"
    );
    // Not on a terminal the progress display prints a line per start and
    // end with the number in flight: independent stacks overlapped.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let most_in_flight = stderr
        .lines()
        .filter_map(|l| {
            let at = l.find(" in flight")?;
            l[..at].rsplit(' ').next()?.parse::<usize>().ok()
        })
        .max()
        .unwrap_or(0);
    assert!(
        (2..=4).contains(&most_in_flight),
        "expected 2 to 4 stacks in flight at once, saw {most_in_flight}:\n{stderr}"
    );

    // A failing stack skips exactly its dependents.
    let c3 = root.join("chain/c3/main.tf");
    let good_c3 = std::fs::read_to_string(&c3).expect("c3");
    std::fs::write(
        &c3,
        format!("{good_c3}\nresource \"local_file\" \"broken\" {{\n  filename = \"x\"\n  content  = file(\"does-not-exist\")\n}}\n"),
    )
    .expect("break c3");
    let out = stacks(root, &["apply", "-json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc = summary(&out);
    let r = results(&doc);
    assert_eq!(with_result(&r, "failed"), set(&["chain/c3"]));
    assert_eq!(
        with_result(&r, "skipped"),
        set(&["chain/c4", "chain/c5", "edge"])
    );
    assert_eq!(with_result(&r, "ok").len(), 26);
    let skipped_edge = doc["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .find(|s| s["stack"] == "edge")
        .expect("edge row");
    assert_eq!(skipped_edge["skipped_because"], "chain/c5");
    std::fs::write(&c3, good_c3).expect("repair c3");

    // The table form names every stack and the skipped ones.
    let out = stacks(root, &["plan", "-progress=false", "chain"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("### chain/c1 (plan: ok, exit 0,"), "{text}");
    assert!(
        text.contains("5 stacks: 5 ok, 0 failed, 0 skipped."),
        "{text}"
    );
    assert!(!text.contains("apps/"), "only stacks under chain/: {text}");

    // -changed-since: one stack and the shared module change.
    let s02 = root.join("svc/s02/main.tf");
    let mut text = std::fs::read_to_string(&s02).expect("s02");
    text.push_str("# touched\n");
    std::fs::write(&s02, text).expect("touch s02");
    std::fs::write(
        root.join("modules/shared/main.tf"),
        "output \"label\" {\n  value = \"shared, changed\"\n}\n",
    )
    .expect("change module");
    git(
        root,
        &["commit", "-q", "-am", "touch s02 and the shared module"],
    );
    let out = stacks(root, &["plan", "-changed-since=HEAD~1", "-json"]);
    let doc = summary(&out);
    assert!(out.status.success(), "{doc:#}");
    let planned: BTreeSet<String> = results(&doc).into_keys().collect();
    assert_eq!(planned, set(&["chain/c2", "svc/s01", "svc/s02"]));
    assert_eq!(doc["not_selected"].as_array().map(Vec::len), Some(27));
    let out = stacks(root, &["apply", "-changed-since=HEAD~1", "-json"]);
    let doc = summary(&out);
    assert!(out.status.success(), "{doc:#}");
    let applied: BTreeSet<String> = results(&doc).into_keys().collect();
    assert_eq!(
        applied,
        set(&["chain/c2", "chain/c3", "chain/c4", "chain/c5", "edge", "svc/s01", "svc/s02"])
    );

    // drift: a file changed behind terrane's back is drift in its stack
    // only (exit code 2).
    let a05 = root.join("apps/a05/order.txt");
    std::fs::write(&a05, "edited by hand").expect("edit a05");
    let out = stacks(root, &["drift", "-json", "apps"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = results(&summary(&out));
    assert_eq!(with_result(&r, "drift"), set(&["apps/a05"]));
    assert_eq!(with_result(&r, "ok").len(), 11);
    std::fs::write(&a05, "net>a05").expect("restore a05");

    // destroy goes in reverse order: edge before the chain, net last.
    let out = stacks(root, &["destroy", "-json", "-parallelism=3"]);
    let doc = summary(&out);
    assert!(out.status.success(), "{doc:#}");
    for s in doc["stacks"].as_array().expect("stacks") {
        assert_eq!(s["destroy"], 1, "{s}");
    }
    let order: Vec<&str> = doc["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .filter_map(|s| s["stack"].as_str())
        .collect();
    // Rows follow the destroy order: every reader of net before net.
    let at = |n: &str| order.iter().position(|o| *o == n).expect("row");
    for reader in ["chain/c1", "apps/a01", "apps/a12"] {
        assert!(at(reader) < at("net"), "{order:?}");
    }
    assert!(at("edge") < at("chain/c5"), "{order:?}");
    assert!(
        !root.join("net/terraform.tfstate").exists() || {
            let state =
                std::fs::read_to_string(root.join("net/terraform.tfstate")).unwrap_or_default();
            !state.contains("local_file")
        }
    );
}

#[test]
fn a_dependency_cycle_is_an_error_naming_it() {
    let tmp = tempdir();
    let root = tmp.as_path();
    for (dir, up) in [("a", "b"), ("b", "c"), ("c", "a")] {
        write(
            &root.join(dir).join("main.tf"),
            &format!("terraform {{\n  backend \"local\" {{}}\n}}\n\ndata \"terraform_remote_state\" \"up\" {{\n  backend = \"local\"\n  config = {{ path = \"../{up}/terraform.tfstate\" }}\n}}\n"),
        );
    }
    let out = stacks(root, &["plan"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Cycle in stack dependencies"), "{stderr}");
    assert!(stderr.contains("a -> b -> c -> a"), "{stderr}");
}

/// A temporary directory removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn as_path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn tempdir() -> TempDir {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "terrane-stacks-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    TempDir(dir.canonicalize().expect("canonical temp dir"))
}
