//! `moved` blocks (Terraform 1.1+; Terraform 1.0.3 has no `moved`, so
//! there is no peer to compare with): a state made by one configuration is
//! planned and applied with a renamed configuration and its `moved`
//! statements; the objects must keep their ids under the new addresses,
//! with nothing created or destroyed. The error cases follow Terraform's
//! documented rules ("Refactoring" in the Terraform language docs): a
//! moved source that is still declared, two statements for one source or
//! destination, a cycle, a move to another resource type.
//!
//! Everything runs on the built-in null provider (no `init`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("terrane-moved-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    Scratch(dir)
}

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("dir");
        }
        fs::write(p, text).expect("write fixture");
    }
}

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("TERRANE_PROVIDERS", "builtin")
        .env_remove("TF_CLI_CONFIG_FILE")
        .env_remove("TF_IN_AUTOMATION")
        .output()
        .expect("run terrane")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = terrane(dir, args);
    assert!(
        out.status.success(),
        "terrane {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `ADDR id` for every instance, from `state list` and `state show`.
fn ids(dir: &Path) -> Vec<(String, String)> {
    ok(dir, &["state", "list"])
        .lines()
        .map(|addr| {
            let shown = ok(dir, &["state", "show", "-no-color", addr]);
            let id: String = shown
                .lines()
                .find_map(|l| {
                    l.trim()
                        .strip_prefix("id ")
                        .and_then(|r| r.trim_start().strip_prefix("= "))
                })
                .unwrap_or_default()
                .trim_matches('"')
                .to_string();
            assert!(!id.is_empty(), "no id for {addr}:\n{shown}");
            (addr.to_string(), id)
        })
        .collect()
}

const MODULE: &str = "resource \"null_resource\" \"x\" {}\n";

#[test]
fn instances_modules_and_chains_move_with_their_ids() {
    let s = scratch("ok");
    let dir = &s.0;
    write(
        dir,
        &[
            (
                "main.tf",
                r#"
resource "null_resource" "a" {
  count = 2
}
resource "null_resource" "first" {}
module "m" {
  source = "./m"
}
"#,
            ),
            ("m/main.tf", MODULE),
        ],
    );
    ok(dir, &["apply", "-auto-approve", "-no-color"]);
    let before = ids(dir);
    assert_eq!(before.len(), 4, "{before:?}");
    let id_of = |addr: &str| {
        before
            .iter()
            .find(|(a, _)| a == addr)
            .map(|(_, id)| id.clone())
            .unwrap_or_default()
    };
    write(
        dir,
        &[(
            "main.tf",
            r#"
resource "null_resource" "b" {
  for_each = toset(["x", "y"])
}
resource "null_resource" "third" {}
module "n" {
  source = "./m"
}
moved {
  from = null_resource.a[0]
  to   = null_resource.b["x"]
}
moved {
  from = null_resource.a[1]
  to   = null_resource.b["y"]
}
moved {
  from = null_resource.second
  to   = null_resource.third
}
moved {
  from = null_resource.first
  to   = null_resource.second
}
moved {
  from = module.m
  to   = module.n
}
"#,
        )],
    );
    let applied = ok(dir, &["apply", "-auto-approve", "-no-color"]);
    assert!(
        applied.contains("Resources: 0 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    let after = ids(dir);
    let expected = vec![
        (
            "null_resource.b[\"x\"]".to_string(),
            id_of("null_resource.a[0]"),
        ),
        (
            "null_resource.b[\"y\"]".to_string(),
            id_of("null_resource.a[1]"),
        ),
        (
            "null_resource.third".to_string(),
            id_of("null_resource.first"),
        ),
        (
            "module.n.null_resource.x".to_string(),
            id_of("module.m.null_resource.x"),
        ),
    ];
    let mut after_sorted = after.clone();
    after_sorted.sort();
    let mut expected_sorted = expected;
    expected_sorted.sort();
    assert_eq!(after_sorted, expected_sorted);
    // The statements stay harmless once the state has moved.
    let plan = ok(dir, &["plan", "-no-color"]);
    assert!(plan.contains("No changes."), "{plan}");
}

#[test]
fn moves_inside_a_child_module_apply_to_each_instance() {
    let s = scratch("child");
    let dir = &s.0;
    write(
        dir,
        &[
            (
                "main.tf",
                "module \"m\" {\n  source = \"./m\"\n  count  = 2\n}\n",
            ),
            ("m/main.tf", MODULE),
        ],
    );
    ok(dir, &["apply", "-auto-approve", "-no-color"]);
    write(
        dir,
        &[(
            "m/main.tf",
            "resource \"null_resource\" \"y\" {}\nmoved {\n  from = null_resource.x\n  to   = null_resource.y\n}\n",
        )],
    );
    let applied = ok(dir, &["apply", "-auto-approve", "-no-color"]);
    assert!(
        applied.contains("Resources: 0 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    assert_eq!(
        ok(dir, &["state", "list"]),
        "module.m[0].null_resource.y\nmodule.m[1].null_resource.y\n"
    );
}

/// Plans `main_tf` over a state holding `null_resource.a` and
/// `null_resource.b`; returns the exit code and stderr.
fn plan_error(name: &str, main_tf: &str) -> (Option<i32>, String) {
    let s = scratch(name);
    let dir = &s.0;
    write(
        dir,
        &[(
            "main.tf",
            "resource \"null_resource\" \"a\" {}\nresource \"null_resource\" \"b\" {}\n",
        )],
    );
    ok(dir, &["apply", "-auto-approve", "-no-color"]);
    write(dir, &[("main.tf", main_tf)]);
    let out = terrane(dir, &["plan", "-no-color"]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn moved_source_still_declared_is_an_error() {
    let (code, err) = plan_error(
        "exists",
        "resource \"null_resource\" \"a\" {}\nresource \"null_resource\" \"c\" {}\nmoved {\n  from = null_resource.a\n  to   = null_resource.c\n}\n",
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "\nError: Moved object still exists\n\n  on main.tf line 3:\n   3: moved {\n\nThis statement declares a move from null_resource.a, but that object is still\ndeclared at main.tf:1,1-29.\n\nChange your configuration so that this object will be declared as\nnull_resource.c instead.\n"
    );
}

#[test]
fn ambiguous_statements_are_an_error() {
    let (code, err) = plan_error(
        "ambiguous",
        "resource \"null_resource\" \"c\" {}\nmoved {\n  from = null_resource.a\n  to   = null_resource.c\n}\nmoved {\n  from = null_resource.b\n  to   = null_resource.c\n}\n",
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "\nError: Ambiguous move statements\n\n  on main.tf line 6:\n   6: moved {\n\nA statement at main.tf:2,1-6 declared that null_resource.a moved to\nnull_resource.c, but this statement instead declares that null_resource.b\nmoved there.\n\nEach object can have moved from only one source.\n"
    );
}

#[test]
fn cycles_are_an_error() {
    let (code, err) = plan_error(
        "cycle",
        "moved {\n  from = null_resource.a\n  to   = null_resource.b\n}\nmoved {\n  from = null_resource.b\n  to   = null_resource.a\n}\n",
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "\nError: Cyclic dependency in move statements\n\n  on main.tf line 1:\n   1: moved {\n\nThe following chained move statements form a cycle, and so there is no final\nlocation to move objects to:\n  - main.tf:1,1-6: null_resource.a to null_resource.b\n  - main.tf:5,1-6: null_resource.b to null_resource.a\n\nA chain of move statements must end with an address that doesn't appear in\nany other statements for the same module.\n"
    );
}

#[test]
fn moves_to_another_type_are_an_error() {
    let (code, err) = plan_error(
        "type",
        "resource \"random_id\" \"c\" {\n  byte_length = 2\n}\nmoved {\n  from = null_resource.a\n  to   = random_id.c\n}\n",
    );
    assert_eq!(code, Some(1));
    assert_eq!(
        err,
        "\nError: Resource type mismatch\n\n  on main.tf line 4:\n   4: moved {\n\nThis statement declares a move from null_resource.a to random_id.c, which is\na resource of a different type.\n"
    );
}

/// The plan text of moves. Terraform 1.0.3 has no `moved`; the expected
/// text is Terraform 1.1+'s as its refactoring documentation shows it: a
/// "has moved to" block with the unchanged object (identifying attributes
/// only), and "Plan: 0 to add, ..." rather than "No changes." when moves
/// are all there is (such a plan counts as changes: -detailed-exitcode 2).
#[test]
fn plan_shows_moves() {
    let s = scratch("render");
    let dir = &s.0;
    write(
        dir,
        &[(
            "main.tf",
            "resource \"null_resource\" \"a\" {}\nresource \"null_resource\" \"c\" {\n  triggers = { k = \"1\" }\n}\n",
        )],
    );
    ok(dir, &["apply", "-auto-approve", "-no-color"]);
    let before = ids(dir);
    let mask = |text: String| {
        before.iter().fold(text, |t, (addr, id)| {
            t.replace(id.as_str(), &format!("<{addr}>"))
        })
    };
    write(
        dir,
        &[(
            "main.tf",
            "resource \"null_resource\" \"b\" {}\nresource \"null_resource\" \"c\" {\n  triggers = { k = \"1\" }\n}\nmoved {\n  from = null_resource.a\n  to   = null_resource.b\n}\n",
        )],
    );
    // One worker: the refresh lines of independent resources come in
    // declaration order (with more workers their order varies, as in
    // Terraform).
    let out = terrane(
        dir,
        &["plan", "-no-color", "-detailed-exitcode", "-parallelism=1"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        mask(String::from_utf8_lossy(&out.stdout).into_owned()),
        "null_resource.b: Refreshing state... [id=<null_resource.a>]
null_resource.c: Refreshing state... [id=<null_resource.c>]

Terraform will perform the following actions:

  # null_resource.a has moved to null_resource.b
    resource \"null_resource\" \"b\" {
        id = \"<null_resource.a>\"
    }

Plan: 0 to add, 0 to change, 0 to destroy.

─────────────────────────────────────────────────────────────────────────────

Note: You didn't use the -out option to save this plan, so Terraform can't
guarantee to take exactly these actions if you run \"terraform apply\" now.
"
    );
    // A moved instance that also changes: the header says where it was.
    write(
        dir,
        &[(
            "main.tf",
            "resource \"null_resource\" \"a\" {}\nresource \"null_resource\" \"d\" {\n  triggers = { k = \"2\" }\n}\nmoved {\n  from = null_resource.c\n  to   = null_resource.d\n}\n",
        )],
    );
    let plan = mask(ok(dir, &["plan", "-no-color"]));
    assert!(
        plan.contains("  # null_resource.d must be replaced\n  # (moved from null_resource.c)\n-/+ resource \"null_resource\" \"d\" {\n"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to add, 0 to change, 1 to destroy."),
        "{plan}"
    );
}
