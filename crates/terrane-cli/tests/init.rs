//! `init`, `providers` and the plugin path of plan/apply/destroy, against
//! the real Terraform 1.0.3 and the real hashicorp/null 2.1.2 and
//! hashicorp/aws 3.39.0 plugins of the peer's filesystem mirror.
//!
//! Each test runs both tools on copies of the same configuration with the
//! peer's CLI configuration (its `filesystem_mirror`). Without the peer the
//! tests skip outside CI and fail under `CI=true`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Env {
    peer: PathBuf,
    scratch: PathBuf,
}

impl Env {
    fn new(name: &str) -> Option<Env> {
        let peer = terrane_testkit::peer_dir_with_mirror()?;
        let scratch =
            std::env::temp_dir().join(format!("terrane-init-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&scratch);
        fs::create_dir_all(&scratch).expect("scratch dir");
        Some(Env { peer, scratch })
    }

    /// A working directory with `main.tf`.
    fn dir(&self, name: &str, main_tf: &str) -> PathBuf {
        let d = self.scratch.join(name);
        fs::create_dir_all(&d).expect("mkdir");
        fs::write(d.join("main.tf"), main_tf).expect("write main.tf");
        d
    }

    fn cmd(&self, tool: &Path, dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(tool);
        c.args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", self.peer.join("terraformrc"))
            .env("CHECKPOINT_DISABLE", "1")
            .env(
                "TERRANE_SCHEMA_CACHE_DIR",
                self.scratch.join("schema-cache"),
            )
            .env_remove("TF_IN_AUTOMATION")
            .env_remove("TF_LOG")
            .env_remove("TF_PLUGIN_CACHE_DIR")
            .env_remove("TERRANE_PROVIDERS");
        c
    }

    fn terraform(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd(&self.peer.join("bin/terraform"), dir, args)
            .output()
            .expect("run terraform")
    }

    fn terrane(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd(Path::new(env!("CARGO_BIN_EXE_terrane")), dir, args)
            .output()
            .expect("run terrane")
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.scratch);
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

const NULL_TF: &str = r#"terraform {
  required_providers {
    null = {
      source  = "hashicorp/null"
      version = "~> 2.1"
    }
  }
}

resource "null_resource" "a" {
  triggers = {
    k = "v"
  }
}

resource "null_resource" "b" {
  count = 2
  triggers = {
    a = null_resource.a.id
  }
}

output "n" {
  value = length(null_resource.b)
}
"#;

/// The same init, run by both tools in two directories: identical
/// standard output, standard error, exit code and lock file.
fn compare_init(env: &Env, name: &str, main_tf: &str, steps: &[&[&str]]) {
    let tf = env.dir(&format!("{name}-terraform"), main_tf);
    let tn = env.dir(&format!("{name}-terrane"), main_tf);
    for args in steps {
        let a = env.terraform(&tf, args);
        let b = env.terrane(&tn, args);
        assert_eq!(
            show(&a),
            show(&b),
            "{name}: `init {args:?}` differs (left: terraform, right: terrane)"
        );
        assert_eq!(
            fs::read_to_string(tf.join(".terraform.lock.hcl")).ok(),
            fs::read_to_string(tn.join(".terraform.lock.hcl")).ok(),
            "{name}: lock files differ after {args:?}"
        );
    }
}

#[test]
fn init_output_and_lock_file_match_terraform() {
    let Some(env) = Env::new("output") else {
        return;
    };
    compare_init(
        &env,
        "fresh",
        NULL_TF,
        &[
            &["init", "-no-color"],
            &["init", "-no-color"],
            &["init", "-no-color", "-upgrade"],
            &["init", "-no-color", "-lockfile=readonly"],
            &[
                "init",
                "-no-color",
                "-backend=false",
                "-get=false",
                "-input=false",
            ],
        ],
    );
    compare_init(
        &env,
        "implicit",
        "resource \"null_resource\" \"a\" {}\n",
        &[&["init", "-no-color"]],
    );
    compare_init(
        &env,
        "unsatisfiable",
        "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\", version = \">= 3.0\" }\n  }\n}\n",
        &[&["init", "-no-color"]],
    );
    compare_init(
        &env,
        "readonly-new",
        NULL_TF,
        &[&["init", "-no-color", "-lockfile=readonly"]],
    );
    compare_init(
        &env,
        "bad-source",
        "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null/x/y\" }\n  }\n}\n",
        &[&["init", "-no-color"]],
    );
    compare_init(
        &env,
        "no-providers",
        "locals {\n  a = 1\n}\n",
        &[&["init", "-no-color"]],
    );
    compare_init(
        &env,
        "plugin-dir",
        NULL_TF,
        &[&[
            "init",
            "-no-color",
            &format!("-plugin-dir={}", env.peer.join("mirror").display()),
        ]],
    );
}

/// Output with the provider lines of each phase sorted: Terraform selects
/// every provider's version ("Finding", "Reusing") before installing any
/// ("Installing", "Installed", "Using"), in an order that varies from run
/// to run within each phase.
fn phases_sorted(text: &str) -> String {
    let kind = |l: &str| {
        if l.starts_with("- Finding") || l.starts_with("- Reusing") {
            1
        } else if l.starts_with("- ") {
            2
        } else {
            0
        }
    };
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<String> = Vec::new();
    let mut run_kind = 0;
    for line in text.lines() {
        let k = kind(line);
        if k != run_kind || k == 0 {
            run.sort();
            out.append(&mut run);
        }
        run_kind = k;
        if k == 0 {
            out.push(line.to_string());
        } else {
            run.push(line.to_string());
        }
    }
    run.sort();
    out.append(&mut run);
    out.join("\n")
}

#[test]
fn init_with_two_providers_matches_terraform_phase_by_phase() {
    let Some(env) = Env::new("two") else { return };
    let main_tf = "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\", version = \"2.1.2\" }\n    aws = { source = \"hashicorp/aws\", version = \"~> 3.0\" }\n  }\n}\n";
    let tf = env.dir("tf", main_tf);
    let tn = env.dir("tn", main_tf);
    for args in [
        &["init", "-no-color"][..],
        &["init", "-no-color"][..],
        &["init", "-no-color", "-upgrade"][..],
    ] {
        let a = show(&env.terraform(&tf, args));
        let b = show(&env.terrane(&tn, args));
        assert_eq!(phases_sorted(&a), phases_sorted(&b), "{args:?}");
    }
    assert_eq!(
        fs::read_to_string(tf.join(".terraform.lock.hcl")).ok(),
        fs::read_to_string(tn.join(".terraform.lock.hcl")).ok()
    );

    // A provider added to a configuration that has a lock file: Terraform's
    // "made some changes" note.
    let tf = env.dir("tf-added", NULL_TF);
    let tn = env.dir("tn-added", NULL_TF);
    assert!(env.terraform(&tf, &["init", "-no-color"]).status.success());
    assert!(env.terrane(&tn, &["init", "-no-color"]).status.success());
    for d in [&tf, &tn] {
        fs::write(d.join("main.tf"), main_tf).expect("write main.tf");
    }
    let a = show(&env.terraform(&tf, &["init", "-no-color"]));
    let b = show(&env.terrane(&tn, &["init", "-no-color"]));
    assert!(a.contains("Terraform has made some changes"), "{a}");
    assert_eq!(phases_sorted(&a), phases_sorted(&b));
    assert_eq!(
        fs::read_to_string(tf.join(".terraform.lock.hcl")).ok(),
        fs::read_to_string(tn.join(".terraform.lock.hcl")).ok()
    );
}

#[test]
fn init_in_an_empty_directory() {
    let Some(env) = Env::new("empty") else { return };
    let tf = env.scratch.join("tf");
    let tn = env.scratch.join("tn");
    fs::create_dir_all(&tf).expect("mkdir");
    fs::create_dir_all(&tn).expect("mkdir");
    let a = env.terraform(&tf, &["init", "-no-color"]);
    let b = env.terrane(&tn, &["init", "-no-color"]);
    assert_eq!(show(&a), show(&b));
}

/// Resource addresses and non-ID attributes of a state file, and its
/// outputs, to compare runs whose random IDs differ.
fn state_shape(dir: &Path) -> Vec<String> {
    let Ok(t) = fs::read_to_string(dir.join("terraform.tfstate")) else {
        return vec!["<no state>".into()];
    };
    let json: serde_json::Value = serde_json::from_str(&t).expect("state JSON");
    let mut out = Vec::new();
    for r in json["resources"].as_array().into_iter().flatten() {
        for i in r["instances"].as_array().into_iter().flatten() {
            let mut attrs = i["attributes"].clone();
            if let Some(o) = attrs.as_object_mut() {
                o.remove("id");
                if let Some(t) = o.get_mut("triggers").and_then(|t| t.as_object_mut()) {
                    // Triggers that hold another resource's ID.
                    for v in t.values_mut() {
                        if v.as_str()
                            .is_some_and(|s| s.chars().all(|c| c.is_ascii_digit()))
                        {
                            *v = "<id>".into();
                        }
                    }
                }
            }
            out.push(format!(
                "{} {}.{}[{}] {} {}",
                r["mode"], r["type"], r["name"], i["index_key"], r["provider"], attrs
            ));
        }
    }
    out.push(format!("outputs {}", json["outputs"]));
    out.sort();
    out
}

/// Lines that do not depend on IDs: actions, summaries, errors.
fn summary(o: &Output) -> Vec<String> {
    text(&o.stdout)
        .lines()
        .chain(text(&o.stderr).lines())
        .filter(|l| {
            l.starts_with("  # ")
                || l.starts_with("Plan: ")
                || l.starts_with("No changes.")
                || l.starts_with("Apply complete!")
                || l.starts_with("Destroy complete!")
                || l.starts_with("Error: ")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn external_null_plugin_gives_the_same_results_as_the_builtin() {
    let Some(env) = Env::new("plugin") else {
        return;
    };
    let plugin = env.dir("plugin", NULL_TF);
    let builtin = env.dir("builtin", NULL_TF);
    let init = env.terrane(&plugin, &["init", "-no-color"]);
    assert!(init.status.success(), "{}", show(&init));
    let steps: &[&[&str]] = &[
        &["plan", "-no-color"],
        &["apply", "-no-color", "-auto-approve"],
        &["plan", "-no-color", "-detailed-exitcode"],
        &["destroy", "-no-color", "-auto-approve"],
    ];
    for args in steps {
        // The plugin directory runs with TF_LOG so the log shows which
        // implementation served; the built-in one has nothing installed.
        let mut c = env.cmd(Path::new(env!("CARGO_BIN_EXE_terrane")), &plugin, args);
        let a = c.env("TF_LOG", "debug").output().expect("run terrane");
        let b = env.terrane(&builtin, args);
        assert_eq!(
            a.status.code(),
            b.status.code(),
            "{args:?}\n{}\n{}",
            show(&a),
            show(&b)
        );
        assert_eq!(summary(&a), summary(&b), "{args:?}");
        if args[0] == "plan" && !plugin.join("terraform.tfstate").exists() {
            // Nothing depends on IDs yet: the whole plan text must be the
            // same (the plugin's RequiresReplace on a create is no
            // "# forces replacement", as in Terraform).
            assert_eq!(text(&a.stdout), text(&b.stdout), "{args:?}");
        }
        assert_eq!(state_shape(&plugin), state_shape(&builtin), "{args:?}");
        if args[0] == "apply" {
            // The plugin process really served (its own log lines), and
            // the built-in directory started none.
            assert!(
                text(&a.stderr).contains("terraform-provider-null_v2.1.2_x4"),
                "no plugin log in the initialized directory:\n{}",
                show(&a)
            );
            assert!(!text(&b.stderr).contains("terraform-provider-null"));
        }
    }
    // TERRANE_PROVIDERS=builtin in the initialized directory starts no plugin.
    let mut c = env.cmd(
        Path::new(env!("CARGO_BIN_EXE_terrane")),
        &plugin,
        &["plan", "-no-color"],
    );
    let forced = c
        .env("TF_LOG", "debug")
        .env("TERRANE_PROVIDERS", "builtin")
        .output()
        .expect("run terrane");
    assert!(forced.status.success(), "{}", show(&forced));
    assert!(!text(&forced.stderr).contains("terraform-provider-null"));
    // TERRANE_PROVIDERS=plugin where nothing is installed fails.
    let mut c = env.cmd(
        Path::new(env!("CARGO_BIN_EXE_terrane")),
        &builtin,
        &["plan", "-no-color"],
    );
    let forced = c
        .env("TERRANE_PROVIDERS", "plugin")
        .output()
        .expect("run terrane");
    assert_eq!(forced.status.code(), Some(1), "{}", show(&forced));
    assert!(
        text(&forced.stderr).contains("not installed"),
        "{}",
        show(&forced)
    );
}

/// Runs one tool in a fixed directory.
type Runner<'a> = dyn Fn(&[&str]) -> Output + 'a;

fn alter_h1(dir: &Path) {
    let path = dir.join(".terraform.lock.hcl");
    let t = fs::read_to_string(&path).expect("lock file");
    let altered = t.replacen("\"h1:", "\"h1:AAAA", 1);
    assert_ne!(t, altered);
    fs::write(&path, altered).expect("write lock file");
}

#[test]
fn lock_files_are_accepted_both_ways_and_altered_hashes_rejected() {
    let Some(env) = Env::new("lock") else { return };
    // terrane writes, Terraform reads.
    let a = env.dir("a", NULL_TF);
    let o = env.terrane(&a, &["init", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));
    let written = fs::read_to_string(a.join(".terraform.lock.hcl")).expect("lock file");
    let _ = fs::remove_dir_all(a.join(".terraform"));
    let o = env.terraform(&a, &["init", "-no-color", "-lockfile=readonly"]);
    assert!(
        o.status.success(),
        "terraform rejected terrane's lock file:\n{}",
        show(&o)
    );
    let o = env.terraform(&a, &["init", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(
        fs::read_to_string(a.join(".terraform.lock.hcl")).expect("lock file"),
        written,
        "terraform changed terrane's lock file"
    );
    let o = env.terraform(&a, &["plan", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));

    // Terraform writes, terrane reads.
    let b = env.dir("b", NULL_TF);
    let o = env.terraform(&b, &["init", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));
    let written = fs::read_to_string(b.join(".terraform.lock.hcl")).expect("lock file");
    let _ = fs::remove_dir_all(b.join(".terraform"));
    let o = env.terrane(&b, &["init", "-no-color", "-lockfile=readonly"]);
    assert!(
        o.status.success(),
        "terrane rejected Terraform's lock file:\n{}",
        show(&o)
    );
    let o = env.terrane(&b, &["init", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));
    assert_eq!(
        fs::read_to_string(b.join(".terraform.lock.hcl")).expect("lock file"),
        written
    );
    let o = env.terrane(&b, &["plan", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));

    // An altered h1 hash: both refuse to run the installed package at
    // plan time, and both refuse to install it again.
    for dir in [&a, &b] {
        alter_h1(dir);
        let runs: [(&str, &Runner); 2] = [
            ("terraform", &|args: &[&str]| env.terraform(dir, args)),
            ("terrane", &|args: &[&str]| env.terrane(dir, args)),
        ];
        for (tool, run) in &runs {
            let o = run(&["plan", "-no-color"]);
            assert_eq!(o.status.code(), Some(1), "{tool} plan:\n{}", show(&o));
            assert!(
                text(&o.stderr).contains("does not match any of the checksums"),
                "{tool} plan:\n{}",
                show(&o)
            );
        }
        for (tool, run) in &runs {
            let _ = fs::remove_dir_all(dir.join(".terraform"));
            let o = run(&["init", "-no-color"]);
            assert_eq!(o.status.code(), Some(1), "{tool} init:\n{}", show(&o));
            assert!(
                text(&o.stderr).contains("doesn't match any of the checksums"),
                "{tool} init:\n{}",
                show(&o)
            );
        }
    }
}

#[test]
fn providers_schema_json_equals_terraform_and_uses_the_cache() {
    let Some(env) = Env::new("schema") else {
        return;
    };
    let main_tf = "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\", version = \"2.1.2\" }\n    aws = { source = \"hashicorp/aws\", version = \"3.39.0\" }\n  }\n}\n";
    let dir = env.dir("schema", main_tf);
    let o = env.terraform(&dir, &["init", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));
    let want = env.terraform(&dir, &["providers", "schema", "-json"]);
    assert!(want.status.success(), "{}", show(&want));
    let want: serde_json::Value = serde_json::from_slice(&want.stdout).expect("terraform JSON");
    assert!(
        want["provider_schemas"]["registry.terraform.io/hashicorp/aws"]["resource_schemas"]
            ["aws_instance"]
            .is_object()
    );

    let cache = env.scratch.join("schema-cache");
    let _ = fs::remove_dir_all(&cache);
    for round in ["cold", "warm"] {
        let mut c = env.cmd(
            Path::new(env!("CARGO_BIN_EXE_terrane")),
            &dir,
            &["providers", "schema", "-json"],
        );
        let got = c.env("TF_LOG", "debug").output().expect("run terrane");
        assert!(got.status.success(), "{round}: {}", show(&got));
        let json: serde_json::Value = serde_json::from_slice(&got.stdout).expect("terrane JSON");
        assert!(
            json == want,
            "{round}: providers schema -json differs from Terraform's"
        );
        let log = text(&got.stderr);
        if round == "cold" {
            assert!(
                log.contains("schema cache: miss for registry.terraform.io/hashicorp/aws"),
                "{log}"
            );
            assert!(log.contains("schema cache: stored"), "{log}");
        } else {
            // Served from the cache: no plugin process at all.
            assert!(
                log.contains("schema cache: hit for registry.terraform.io/hashicorp/aws"),
                "{log}"
            );
            assert!(
                log.contains("schema cache: hit for registry.terraform.io/hashicorp/null"),
                "{log}"
            );
            assert!(
                !log.contains("terraform-provider-aws"),
                "a plugin was started:\n{log}"
            );
        }
    }
    let entries: Vec<_> = fs::read_dir(cache.join("schemas"))
        .expect("cache dir")
        .flatten()
        .collect();
    assert_eq!(entries.len(), 2, "one entry per binary");

    // A corrupt entry is ignored and rewritten.
    for e in &entries {
        fs::write(e.path(), b"garbage").expect("corrupt");
    }
    let mut c = env.cmd(
        Path::new(env!("CARGO_BIN_EXE_terrane")),
        &dir,
        &["providers", "schema", "-json"],
    );
    let got = c.env("TF_LOG", "debug").output().expect("run terrane");
    assert!(got.status.success(), "{}", show(&got));
    let json: serde_json::Value = serde_json::from_slice(&got.stdout).expect("terrane JSON");
    assert!(json == want, "after corruption: output differs");
    assert!(
        text(&got.stderr).contains("ignoring entry"),
        "{}",
        text(&got.stderr)
    );
    for e in &entries {
        assert_ne!(
            fs::read(e.path()).expect("entry"),
            b"garbage",
            "entry not rewritten"
        );
    }
}

#[test]
fn providers_tree_matches_terraform() {
    let Some(env) = Env::new("tree") else { return };
    let main_tf = "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\", version = \">= 2.0, < 3.0\" }\n  }\n}\nmodule \"child\" {\n  source = \"./child\"\n}\nmodule \"b\" {\n  source = \"./child/grand\"\n}\nresource \"null_resource\" \"a\" {}\n";
    let child = "terraform {\n  required_providers {\n    aws = { source = \"hashicorp/aws\", version = \"~> 3.0\" }\n  }\n}\nmodule \"grand\" {\n  source = \"./grand\"\n}\nprovider \"aws\" {\n  region = \"us-east-1\"\n}\n";
    let mut outs = Vec::new();
    for name in ["tf", "tn"] {
        let d = env.dir(name, main_tf);
        fs::create_dir_all(d.join("child/grand")).expect("mkdir");
        fs::write(d.join("child/main.tf"), child).expect("write");
        fs::write(
            d.join("child/grand/main.tf"),
            "resource \"null_resource\" \"x\" {}\n",
        )
        .expect("write");
        let o = if name == "tf" {
            env.terraform(&d, &["init", "-no-color"]);
            env.terraform(&d, &["providers", "-no-color"])
        } else {
            env.terrane(&d, &["providers", "-no-color"])
        };
        outs.push(canonical_tree(&show(&o)));
    }
    assert_eq!(outs[0], outs[1]);
}

/// `providers` output with the children of each tree node sorted:
/// Terraform 1.0.3 lists a module's child modules in Go map order (it
/// changes from run to run), terrane in name order.
fn canonical_tree(text: &str) -> String {
    struct Node {
        text: String,
        children: Vec<Node>,
    }
    fn render(node: &mut Node, depth: usize, out: &mut String) {
        node.children.sort_by_cached_key(|c| {
            let mut s = String::new();
            render_sorted(c, &mut s);
            s
        });
        for c in &mut node.children {
            out.push_str(&"  ".repeat(depth));
            out.push_str(&c.text);
            out.push('\n');
            render(c, depth + 1, out);
        }
    }
    fn render_sorted(node: &Node, out: &mut String) {
        out.push_str(&node.text);
        let mut kids: Vec<String> = node
            .children
            .iter()
            .map(|c| {
                let mut s = String::new();
                render_sorted(c, &mut s);
                s
            })
            .collect();
        kids.sort();
        for k in kids {
            out.push('(');
            out.push_str(&k);
            out.push(')');
        }
    }
    let mut entries = Vec::new();
    let mut other = Vec::new();
    for line in text.lines() {
        // A tree entry: its depth is where the branch marker stands.
        match line.find("── ") {
            Some(pos) => entries.push((
                line[..pos].chars().count() / 4,
                line[pos + "── ".len()..].to_string(),
            )),
            None => other.push(line.to_string()),
        }
    }
    fn build(entries: &[(usize, String)], next: &mut usize, depth: usize) -> Vec<Node> {
        let mut nodes = Vec::new();
        while let Some((d, text)) = entries.get(*next) {
            if *d < depth {
                break;
            }
            *next += 1;
            let children = build(entries, next, d + 1);
            nodes.push(Node {
                text: text.clone(),
                children,
            });
        }
        nodes
    }
    let mut root = Node {
        text: String::new(),
        children: build(&entries, &mut 0, 0),
    };
    let mut out = other.join("\n");
    out.push_str("\n--- tree\n");
    render(&mut root, 0, &mut out);
    out
}

#[test]
fn dev_overrides_run_the_plugin_from_its_directory_without_init() {
    let Some(env) = Env::new("devoverride") else {
        return;
    };
    let plugin_dir = env
        .peer
        .join("mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64");
    let rc = env.scratch.join("dev.tfrc");
    fs::write(
        &rc,
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"hashicorp/null\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            plugin_dir.display()
        ),
    )
    .expect("write rc");
    let dir = env.dir("dev", NULL_TF);
    let mut c = env.cmd(
        Path::new(env!("CARGO_BIN_EXE_terrane")),
        &dir,
        &["apply", "-no-color", "-auto-approve"],
    );
    let o = c
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("TF_LOG", "debug")
        .output()
        .expect("run terrane");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("terraform-provider-null_v2.1.2_x4"),
        "the override's plugin did not serve:\n{}",
        show(&o)
    );
    assert!(
        text(&o.stdout).contains("Apply complete! Resources: 3 added"),
        "{}",
        show(&o)
    );

    // plan: the same warning before the plan.
    let mut heads = Vec::new();
    for (tool, name) in [
        (env.peer.join("bin/terraform"), "tf"),
        (PathBuf::from(env!("CARGO_BIN_EXE_terrane")), "tn"),
    ] {
        let d = env.dir(&format!("dev-plan-{name}"), NULL_TF);
        let mut c = env.cmd(&tool, &d, &["plan", "-no-color"]);
        let o = c.env("TF_CLI_CONFIG_FILE", &rc).output().expect("run");
        assert!(o.status.success(), "{}", show(&o));
        let out = text(&o.stdout);
        let head = out.split("Terraform used the selected providers").next();
        heads.push(head.unwrap_or_default().to_string());
    }
    assert!(heads[0].contains("Warning: Provider development overrides are in effect"));
    assert_eq!(heads[0], heads[1]);

    // init with overrides in effect: Terraform's warning after the
    // installation, on both a successful and a failed init.
    let plugin_dir_flag = format!("-plugin-dir={}", env.peer.join("mirror").display());
    for (n, args) in [
        vec!["init", "-no-color", plugin_dir_flag.as_str()],
        vec![
            "init",
            "-no-color",
            plugin_dir_flag.as_str(),
            "-lockfile=readonly",
        ],
    ]
    .into_iter()
    .enumerate()
    {
        let mut outs = Vec::new();
        for (tool, name) in [
            (env.peer.join("bin/terraform"), "tf"),
            (PathBuf::from(env!("CARGO_BIN_EXE_terrane")), "tn"),
        ] {
            let d = env.dir(&format!("dev-init-{name}-{n}"), NULL_TF);
            let mut c = env.cmd(&tool, &d, &args);
            outs.push(show(
                &c.env("TF_CLI_CONFIG_FILE", &rc).output().expect("run"),
            ));
        }
        assert_eq!(outs[0], outs[1], "{args:?}");
    }
}

/// Runs `tool ARGS` in `dir` on a pseudo-terminal (util-linux `script`),
/// where terrane colours its output as Terraform always does.
fn on_terminal(env: &Env, tool: &Path, dir: &Path, args: &str) -> String {
    let o = env
        .cmd(
            Path::new("script"),
            dir,
            &["-qec", &format!("{} {args}", tool.display()), "/dev/null"],
        )
        .output()
        .expect("run script");
    text(&o.stdout)
}

#[test]
fn init_colours_match_terraform_on_a_terminal() {
    let Some(env) = Env::new("colour") else {
        return;
    };
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipping: util-linux `script` is not installed");
        return;
    }
    // Error output is left out: on a terminal of unknown width Terraform
    // does not wrap diagnostics, terrane wraps them at 78 columns.
    let cases = [
        ("ok", NULL_TF),
        ("implicit", "resource \"null_resource\" \"a\" {}\n"),
    ];
    for (name, main_tf) in cases {
        let tf = env.dir(&format!("{name}-tf"), main_tf);
        let tn = env.dir(&format!("{name}-tn"), main_tf);
        for round in 0..2 {
            let a = on_terminal(&env, &env.peer.join("bin/terraform"), &tf, "init");
            let b = on_terminal(&env, Path::new(env!("CARGO_BIN_EXE_terrane")), &tn, "init");
            assert!(
                a.contains("\u{1b}["),
                "{name}: Terraform wrote no colour:\n{a}"
            );
            assert_eq!(a, b, "{name}, run {round}");
        }
    }
}

#[test]
fn tf_data_dir_moves_the_installed_providers() {
    let Some(env) = Env::new("datadir") else {
        return;
    };
    let dir = env.dir("d", NULL_TF);
    let mut c = env.cmd(
        Path::new(env!("CARGO_BIN_EXE_terrane")),
        &dir,
        &["init", "-no-color"],
    );
    let o = c
        .env("TF_DATA_DIR", "state-data")
        .output()
        .expect("run terrane");
    assert!(o.status.success(), "{}", show(&o));
    assert!(dir
        .join("state-data/providers/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64")
        .exists());
    assert!(!dir.join(".terraform").exists());
    // Terraform finds the package there too, and so does terrane's plan.
    let mut c = env.cmd(
        &env.peer.join("bin/terraform"),
        &dir,
        &["plan", "-no-color"],
    );
    let o = c
        .env("TF_DATA_DIR", "state-data")
        .output()
        .expect("run terraform");
    assert!(o.status.success(), "{}", show(&o));
    let mut c = env.cmd(
        Path::new(env!("CARGO_BIN_EXE_terrane")),
        &dir,
        &["plan", "-no-color"],
    );
    let o = c
        .env("TF_DATA_DIR", "state-data")
        .env("TF_LOG", "debug")
        .output()
        .expect("run terrane");
    assert!(o.status.success(), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("terraform-provider-null_v2.1.2_x4"),
        "{}",
        show(&o)
    );
}

#[test]
fn one_plugin_process_serves_equal_provider_configurations() {
    let Some(env) = Env::new("processes") else {
        return;
    };
    let main_tf = "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\", version = \"~> 2.1\" }\n  }\n}\n\nprovider \"null\" {\n  alias = \"b\"\n}\n\nresource \"null_resource\" \"a\" {\n  count = 3\n}\n\nresource \"null_resource\" \"b\" {\n  provider = null.b\n}\n";
    let dir = env.dir("p", main_tf);
    let o = env.terrane(&dir, &["init", "-no-color"]);
    assert!(o.status.success(), "{}", show(&o));
    for args in [
        &["apply", "-no-color", "-auto-approve"][..],
        &["destroy", "-no-color", "-auto-approve"][..],
    ] {
        let mut c = env.cmd(Path::new(env!("CARGO_BIN_EXE_terrane")), &dir, args);
        let o = c.env("TF_LOG", "debug").output().expect("run terrane");
        assert!(o.status.success(), "{}", show(&o));
        // The client logs this once per plugin process it starts.
        let starts = text(&o.stderr)
            .matches("configuring server automatic mTLS")
            .count();
        assert_eq!(
            starts,
            1,
            "{args:?} started {starts} processes:\n{}",
            show(&o)
        );
    }
}

#[test]
fn a_changed_constraint_keeps_the_locked_entry_as_terraform() {
    let Some(env) = Env::new("constraint") else {
        return;
    };
    let before = "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\", version = \"2.1.2\" }\n  }\n}\n";
    let after = before.replace("\"2.1.2\" }", "\"~> 2.0\" }");
    let tf = env.dir("tf", before);
    let tn = env.dir("tn", before);
    assert!(env.terraform(&tf, &["init", "-no-color"]).status.success());
    assert!(env.terrane(&tn, &["init", "-no-color"]).status.success());
    for d in [&tf, &tn] {
        fs::write(d.join("main.tf"), &after).expect("write main.tf");
    }
    for args in [
        &["init", "-no-color"][..],
        &["init", "-no-color", "-upgrade"][..],
    ] {
        for d in [&tf, &tn] {
            let _ = fs::remove_dir_all(d.join(".terraform"));
        }
        let a = env.terraform(&tf, args);
        let b = env.terrane(&tn, args);
        assert_eq!(show(&a), show(&b), "{args:?}");
        assert_eq!(
            fs::read_to_string(tf.join(".terraform.lock.hcl")).ok(),
            fs::read_to_string(tn.join(".terraform.lock.hcl")).ok(),
            "{args:?}"
        );
    }
}
