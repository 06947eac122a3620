//! Import: the `import` command against Terraform 1.0.3 (errors with the
//! real hashicorp/null 2.1.2, which refuses imports; a real import of an
//! S3 bucket into a module instance with hashicorp/aws 3.39.0 on moto),
//! and `import` blocks and `plan -generate-config-out` (Terraform 1.5+,
//! no peer) on the built-in random and time providers.
//!
//! Expected texts of the import-block tests follow Terraform's documented
//! behaviour: the "Import" page of the Terraform language docs (v1.5+:
//! plan shows "# ADDR will be imported", "Plan: N to import, ...", apply
//! "Importing..." / "Import complete" and "Resources: N imported, ..."; an
//! import block whose object is already in state does nothing; the
//! import id must be known at plan time), "Generating configuration"
//! (`-generate-config-out`: "# __generated__ by Terraform" header, refuses
//! an existing file), and the import sections of the random provider's
//! docs (random_id: the base64url id, byte_length from its length;
//! random_string: the string, with default rules) and the time provider's
//! (time_static: an RFC 3339 timestamp).

mod common;

use terrane_testkit::{aws_provider_config, MotoServer, MotoThreading};

use common::{differences, outcome, peer_dir, run_step};
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
    let dir = std::env::temp_dir().join(format!("terrane-import-{name}-{}", std::process::id()));
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
        .env_remove("TF_CLI_ARGS")
        .output()
        .expect("run terrane")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = terrane(dir, args);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "terrane {args:?} failed:\n{stdout}\n{stderr}"
    );
    stdout
}

const BLOCKS: &str = r#"variable "suffix" {
  type    = string
  default = "a"
}

locals {
  ids = { a = "AAAA", b = "BBBB" }
}

import {
  to = random_string.s
  id = "abc${var.suffix}"
}

import {
  for_each = local.ids
  to       = random_id.i[each.key]
  id       = each.value
}

import {
  to = module.m.time_static.t
  id = "2024-01-02T03:04:05Z"
}

resource "random_string" "s" {
  length = 4
}

resource "random_id" "i" {
  for_each    = local.ids
  byte_length = 3
}

module "m" {
  source = "./m"
}
"#;

const BLOCKS_PLAN: &str = r#"random_id.i["a"]: Preparing import... [id=AAAA]
random_id.i["a"]: Refreshing state... [id=AAAA]
random_id.i["b"]: Preparing import... [id=BBBB]
random_id.i["b"]: Refreshing state... [id=BBBB]
random_string.s: Preparing import... [id=abca]
random_string.s: Refreshing state... [id=abca]
module.m.time_static.t: Preparing import... [id=2024-01-02T03:04:05Z]
module.m.time_static.t: Refreshing state... [id=2024-01-02T03:04:05Z]

Terraform will perform the following actions:

  # random_id.i["a"] will be imported
    resource "random_id" "i" {
        b64_std     = "AAAA"
        b64_url     = "AAAA"
        byte_length = 3
        dec         = "0"
        hex         = "000000"
        id          = "AAAA"
    }

  # random_id.i["b"] will be imported
    resource "random_id" "i" {
        b64_std     = "BBBB"
        b64_url     = "BBBB"
        byte_length = 3
        dec         = "266305"
        hex         = "041041"
        id          = "BBBB"
    }

  # random_string.s will be imported
    resource "random_string" "s" {
        id          = "abca"
        length      = 4
        lower       = true
        min_lower   = 0
        min_numeric = 0
        min_special = 0
        min_upper   = 0
        number      = true
        numeric     = true
        result      = "abca"
        special     = true
        upper       = true
    }

  # module.m.time_static.t will be imported
    resource "time_static" "t" {
        day     = 2
        hour    = 3
        id      = "2024-01-02T03:04:05Z"
        minute  = 4
        month   = 1
        rfc3339 = "2024-01-02T03:04:05Z"
        second  = 5
        unix    = 1704164645
        year    = 2024
    }

Plan: 4 to import, 0 to add, 0 to change, 0 to destroy.
"#;

#[test]
fn import_blocks_plan_saved_plan_apply_and_replan() {
    let s = scratch("blocks");
    let dir = &s.0;
    write(
        dir,
        &[
            ("main.tf", BLOCKS),
            ("m/main.tf", "resource \"time_static\" \"t\" {}\n"),
        ],
    );
    let plan = ok(dir, &["plan", "-no-color", "-parallelism=1", "-out=p.bin"]);
    assert!(
        plan.starts_with(BLOCKS_PLAN),
        "plan text:\n{plan}\nwanted it to start with:\n{BLOCKS_PLAN}"
    );
    // The saved plan carries the imports (`show -json`: change.importing).
    let json: serde_json::Value =
        serde_json::from_str(&ok(dir, &["show", "-json", "p.bin"])).expect("show -json");
    let mut importing: Vec<String> = json["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["address"].as_str().unwrap_or_default(),
                r["change"]["importing"]["id"],
                r["change"]["actions"]
            )
        })
        .collect();
    importing.sort();
    assert_eq!(
        importing,
        [
            "module.m.time_static.t \"2024-01-02T03:04:05Z\" [\"no-op\"]",
            "random_id.i[\"a\"] \"AAAA\" [\"no-op\"]",
            "random_id.i[\"b\"] \"BBBB\" [\"no-op\"]",
            "random_string.s \"abca\" [\"no-op\"]",
        ]
    );
    let apply = ok(dir, &["apply", "-no-color", "-parallelism=1", "p.bin"]);
    assert!(
        apply.contains(
            "random_string.s: Importing... [id=abca]\nrandom_string.s: Import complete [id=abca]\n"
        ),
        "apply:\n{apply}"
    );
    assert!(
        apply.contains("Apply complete! Resources: 4 imported, 0 added, 0 changed, 0 destroyed."),
        "apply:\n{apply}"
    );
    // The state holds the imported objects.
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("terraform.tfstate")).expect("state"))
            .expect("state json");
    let results: Vec<String> = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .flat_map(|r| {
            r["instances"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|i| format!("{}.{} {}", r["type"], r["name"], i["attributes"]["id"]))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(results.contains(&"\"random_string\".\"s\" \"abca\"".to_string()));
    // An import block whose object is already in state does nothing.
    let again = ok(dir, &["plan", "-no-color"]);
    assert!(
        again.contains("No changes. Your infrastructure matches the configuration."),
        "second plan:\n{again}"
    );
    assert!(!again.contains("Preparing import"), "second plan:\n{again}");
}

#[test]
fn import_block_on_a_changed_object_shows_the_change_and_its_origin() {
    let s = scratch("changed");
    let dir = &s.0;
    write(
        dir,
        &[(
            "main.tf",
            "import {\n  to = random_string.s\n  id = \"xyz\"\n}\n\nresource \"random_string\" \"s\" {\n  length  = 3\n  special = false\n}\n",
        )],
    );
    let plan = ok(dir, &["plan", "-no-color"]);
    assert!(
        plan.contains("  # random_string.s must be replaced\n  # (imported from \"xyz\")\n-/+ resource \"random_string\" \"s\" {\n"),
        "plan:\n{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to import, 1 to add, 0 to change, 1 to destroy."),
        "plan:\n{plan}"
    );
}

#[test]
fn import_block_errors() {
    let s = scratch("errors");
    let dir = &s.0;
    let cases = [
        (
            "import {\n  to = random_string.s\n  id = \"a\"\n}\nimport {\n  to = random_string.s\n  id = \"b\"\n}\nresource \"random_string\" \"s\" {\n  length = 1\n}\n",
            "Error: Duplicate import configuration",
        ),
        (
            "import {\n  to = random_string.nope\n  id = \"a\"\n}\n",
            "Error: Configuration for import target does not exist",
        ),
        (
            "import {\n  to = random_string.s[\"k\"]\n  id = \"a\"\n}\nresource \"random_string\" \"s\" {\n  for_each = toset([\"j\"])\n  length   = 1\n}\n",
            "Error: Configuration for import target does not exist",
        ),
        (
            "import {\n  to = random_string.t\n  id = random_string.s.result\n}\nresource \"random_string\" \"s\" {\n  length = 1\n}\nresource \"random_string\" \"t\" {\n  length = 1\n}\n",
            "Error: Invalid import id argument",
        ),
        (
            "import {\n  to = null_resource.n\n  id = \"x\"\n}\nresource \"null_resource\" \"n\" {}\n",
            "Error: resource null_resource doesn't support import",
        ),
    ];
    for (config, want) in cases {
        write(dir, &[("main.tf", config)]);
        let out = terrane(dir, &["plan", "-no-color"]);
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{config}\n{stdout}\n{stderr}");
        assert!(
            stderr.lines().any(|l| l == want),
            "{config}: wanted {want:?} in:\n{stderr}"
        );
        assert!(!dir.join("terraform.tfstate").exists());
    }
    // Import blocks belong to the root module.
    write(
        dir,
        &[
            ("main.tf", "module \"m\" {\n  source = \"./m\"\n}\n"),
            (
                "m/main.tf",
                "import {\n  to = random_string.s\n  id = \"a\"\n}\nresource \"random_string\" \"s\" {\n  length = 1\n}\n",
            ),
        ],
    );
    let out = terrane(dir, &["plan", "-no-color"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Error: Invalid import configuration"),
        "{stderr}"
    );
}

const GENERATED: &str = r#"# __generated__ by Terraform
# Please review these resources and move them into your main configuration files.

# __generated__ by Terraform from "abc"
resource "random_string" "s" {
  keepers          = null
  length           = 3
  lower            = true
  min_lower        = 0
  min_numeric      = 0
  min_special      = 0
  min_upper        = 0
  number           = true
  numeric          = true
  override_special = null
  special          = true
  upper            = true
}

# __generated__ by Terraform from "2024-01-02T03:04:05Z"
resource "time_static" "t" {
  rfc3339  = "2024-01-02T03:04:05Z"
  triggers = null
}
"#;

#[test]
fn generate_config_out_writes_the_missing_resources() {
    let s = scratch("genconfig");
    let dir = &s.0;
    write(
        dir,
        &[(
            "main.tf",
            "import {\n  to = random_string.s\n  id = \"abc\"\n}\n\nimport {\n  to = time_static.t\n  id = \"2024-01-02T03:04:05Z\"\n}\n",
        )],
    );
    let plan = ok(dir, &["plan", "-no-color", "-generate-config-out=gen.tf"]);
    assert_eq!(
        fs::read_to_string(dir.join("gen.tf")).expect("gen.tf"),
        GENERATED
    );
    // The plan uses the generated configuration: nothing but the imports.
    assert!(
        plan.contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."),
        "plan:\n{plan}"
    );
    // The file is formatted as `fmt` leaves it.
    let fmt = terrane(dir, &["fmt", "-check", "gen.tf"]);
    assert!(fmt.status.success(), "{:?}", text(&fmt));
    // An existing file is not overwritten.
    let out = terrane(dir, &["plan", "-no-color", "-generate-config-out=gen.tf"]);
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("Error: Target generated file already exists"),
        "{stderr}"
    );
    let apply = ok(dir, &["apply", "-no-color", "-auto-approve"]);
    assert!(
        apply.contains("Apply complete! Resources: 2 imported, 0 added, 0 changed, 0 destroyed."),
        "{apply}"
    );
}

#[test]
fn import_command_with_a_builtin_provider() {
    let s = scratch("command");
    let dir = &s.0;
    write(
        dir,
        &[(
            "main.tf",
            "resource \"random_string\" \"s\" {\n  count  = 2\n  length = 5\n}\n",
        )],
    );
    let out = ok(dir, &["import", "-no-color", "random_string.s[1]", "hello"]);
    assert_eq!(
        out,
        "random_string.s[1]: Importing from ID \"hello\"...\nrandom_string.s[1]: Import prepared!\n  Prepared random_string for import\nrandom_string.s[1]: Refreshing state... [id=hello]\n\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in\nyour Terraform state and will henceforth be managed by Terraform.\n\n"
    );
    let state = fs::read_to_string(dir.join("terraform.tfstate")).expect("state");
    assert!(state.contains("\"index_key\": 1"), "{state}");
    assert!(state.contains("\"result\": \"hello\""), "{state}");
    // The second time the address is managed already.
    let again = terrane(dir, &["import", "-no-color", "random_string.s[1]", "hello"]);
    let (_, stderr) = text(&again);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr.contains("Error: Resource already managed by Terraform"),
        "{stderr}"
    );
    // The imported instance needs nothing; the other one is created.
    let plan = ok(dir, &["plan", "-no-color"]);
    assert!(
        plan.contains("Plan: 0 to add, 0 to change, 0 to destroy.")
            || plan.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{plan}"
    );
    assert!(!plan.contains("random_string.s[1] will"), "{plan}");
}

/// `import` errors: the same exit codes, error summaries and states as
/// Terraform 1.0.3 with the real null plugin (which refuses imports).
#[test]
fn import_command_errors_match_terraform() {
    let Some(peer) = peer_dir() else { return };
    let s = scratch("diff-null");
    let tf_dir = s.0.join("terraform");
    let tn_dir = s.0.join("terrane");
    let files = [
        (
            "main.tf",
            "terraform {\n  required_providers {\n    null = { source = \"hashicorp/null\" }\n  }\n}\n\nresource \"null_resource\" \"a\" {}\n\nresource \"null_resource\" \"c\" {\n  count = 2\n}\n\nmodule \"m\" {\n  source = \"./m\"\n}\n",
        ),
        ("m/main.tf", "resource \"null_resource\" \"x\" {}\n"),
    ];
    write(&tf_dir, &files);
    write(&tn_dir, &files);
    let init = run_step(&peer.join("bin/terraform"), &tf_dir, "init", &peer);
    assert!(init.status.success(), "{:?}", text(&init));
    let terrane_bin = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let steps = [
        "apply",
        "import null_resource.a abc",
        "import null_resource.b abc",
        "import null_resource.c[5] abc",
        "import null_resource.c[\"k\"] abc",
        "import module.m.null_resource.x abc",
        "import module.q.null_resource.x abc",
        "import module.m.null_resource.y abc",
        "import data.null_data_source.x abc",
        "import module.m abc",
        "import null_resource. abc",
        "import onlyone",
    ];
    let mut failures = Vec::new();
    let mut refused = 0;
    for step in steps {
        let a = outcome(&run_step(&peer.join("bin/terraform"), &tf_dir, step, &peer));
        let b = outcome(&run_step(&terrane_bin, &tn_dir, step, &peer));
        if a.errors
            .iter()
            .any(|e| e == "Error: resource null_resource doesn't support import")
        {
            refused += 1;
        }
        let d = differences(&a, &b, &tf_dir, &tn_dir);
        if !d.is_empty() {
            failures.push(format!("`{step}`:\n{}", d.join("\n")));
        }
    }
    // A directory without configuration files, even with
    // -allow-missing-config.
    for (i, step) in [
        "import null_resource.a abc",
        "import -allow-missing-config null_resource.a abc",
    ]
    .iter()
    .enumerate()
    {
        let (a_dir, b_dir) = (
            s.0.join(format!("empty-tf-{i}")),
            s.0.join(format!("empty-tn-{i}")),
        );
        fs::create_dir_all(&a_dir).expect("empty dir");
        fs::create_dir_all(&b_dir).expect("empty dir");
        let a = outcome(&run_step(&peer.join("bin/terraform"), &a_dir, step, &peer));
        let b = outcome(&run_step(&terrane_bin, &b_dir, step, &peer));
        assert_eq!(a.errors, ["Error: No Terraform configuration files"]);
        let d = differences(&a, &b, &a_dir, &b_dir);
        if !d.is_empty() {
            failures.push(format!("`{step}` without configuration:\n{}", d.join("\n")));
        }
    }
    // The comparison reached the provider for the valid addresses.
    assert!(refused >= 4, "Terraform refused only {refused} imports");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The state with its lineage left out (each tool makes its own).
fn state_without_lineage(dir: &Path) -> String {
    fs::read_to_string(dir.join("terraform.tfstate"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"lineage\""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A real import with hashicorp/aws 3.39.0 into a `for_each` module
/// instance, through both tools: the same output summaries and exit
/// codes, the same state (but the lineage), the same error when the
/// address is already managed, and the same plan afterwards.
#[test]
fn aws_import_into_module_instance_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    let Some(moto) = MotoServer::start(MotoThreading::Threaded) else {
        return;
    };
    moto.create_bucket("terrane-imported");
    let s = scratch("aws");
    let main = format!(
        r#"{provider}
module "store" {{
  source   = "./store"
  for_each = toset(["a"])
  name     = "terrane-imported"
}}
"#,
        provider = aws_provider_config(
            &format!("\"http://127.0.0.1:{}\"", moto.port()),
            &["ec2", "s3", "sts"]
        )
    );
    let store = "variable \"name\" {\n  type = string\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = var.name\n}\n";
    let steps = [
        "init",
        "import module.store[\"a\"].aws_s3_bucket.b terrane-imported",
        "import module.store[\"a\"].aws_s3_bucket.b terrane-imported",
        "plan",
    ];
    let run = |tool: PathBuf, dir: PathBuf| {
        let peer = peer.clone();
        let (main, store) = (main.clone(), store.to_string());
        std::thread::spawn(move || {
            write(&dir, &[("main.tf", &main), ("store/main.tf", &store)]);
            let mut results = Vec::new();
            for step in steps {
                let out = run_step(&tool, &dir, step, &peer);
                results.push((outcome(&out), text(&out), state_without_lineage(&dir)));
            }
            results
        })
    };
    let tf = run(peer.join("bin/terraform"), s.0.join("terraform"));
    let tn = run(
        PathBuf::from(env!("CARGO_BIN_EXE_terrane")),
        s.0.join("terrane"),
    );
    let tf = tf.join().expect("terraform steps");
    let tn = tn.join().expect("terrane steps");
    assert_eq!(tf[1].0.code, 0, "Terraform's import failed: {:?}", tf[1].1);
    assert!(tf[1].2.contains("\"bucket\": \"terrane-imported\""));
    assert_eq!(
        tf[2].0.errors,
        ["Error: Resource already managed by Terraform"]
    );
    // The import's own lines are the same text.
    assert_eq!(tf[1].1 .0, tn[1].1 .0, "import output differs");
    let mut failures = Vec::new();
    for (i, ((a, a_text, a_state), (b, b_text, b_state))) in tf.iter().zip(&tn).enumerate() {
        if a.code != b.code
            || a.errors != b.errors
            || a.summaries != b.summaries
            || a.actions != b.actions
        {
            failures.push(format!(
                "step `{}`:\nterraform (exit {}, errors {:?}, summaries {:?})\n{}{}\nterrane (exit {}, errors {:?}, summaries {:?})\n{}{}",
                steps[i],
                a.code,
                a.errors,
                a.summaries,
                a_text.0,
                a_text.1,
                b.code,
                b.errors,
                b.summaries,
                b_text.0,
                b_text.1
            ));
        }
        if a_state != b_state {
            failures.push(format!(
                "state after `{}`:\nterraform:\n{a_state}\nterrane:\n{b_state}",
                steps[i]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// `plan -json` (Terraform 1.5's machine-readable UI): an import with
/// nothing else to do is a `planned_change` with action `import` and its
/// id; the summary counts imports.
#[test]
fn import_blocks_in_the_json_ui() {
    let s = scratch("json");
    let dir = &s.0;
    write(
        dir,
        &[(
            "main.tf",
            "import {\n  to = random_string.s\n  id = \"abc\"\n}\n\nresource \"random_string\" \"s\" {\n  length = 3\n}\n",
        )],
    );
    let out = ok(dir, &["plan", "-json"]);
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let planned: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["type"] == "planned_change")
        .collect();
    assert_eq!(planned.len(), 1, "{out}");
    assert_eq!(planned[0]["@message"], "random_string.s: Plan to import");
    assert_eq!(planned[0]["change"]["action"], "import");
    assert_eq!(planned[0]["change"]["importing"]["id"], "abc");
    let summary = lines
        .iter()
        .find(|l| l["type"] == "change_summary")
        .expect("change_summary");
    assert_eq!(
        summary["@message"],
        "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy."
    );
    assert_eq!(summary["changes"]["import"], 1);
}

/// What Terraform 1.11 (`plan -generate-config-out`) writes for this
/// bucket with hashicorp/aws 3.39.0 on moto: optional and
/// optional+computed arguments with their imported values, `null` for
/// unset ones and empty strings, no computed-only ones, the versioning
/// block.
const GENERATED_BUCKET: &str = r#"# __generated__ by Terraform
# Please review these resources and move them into your main configuration files.

# __generated__ by Terraform from "terrane-generated"
resource "aws_s3_bucket" "g" {
  acceleration_status = null
  acl                 = null
  arn                 = "arn:aws:s3:::terrane-generated"
  bucket              = "terrane-generated"
  bucket_prefix       = null
  force_destroy       = null
  hosted_zone_id      = "Z3AQBSTGFYJSTF"
  policy              = null
  request_payer       = null
  tags                = {}
  tags_all            = {}
  website_domain      = null
  website_endpoint    = null
  versioning {
    enabled    = false
    mfa_delete = false
  }
}
"#;

#[test]
fn aws_generate_config_out_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    let Some(moto) = MotoServer::start(MotoThreading::Threaded) else {
        return;
    };
    moto.create_bucket("terrane-generated");
    let s = scratch("aws-gen");
    let dir = &s.0;
    let provider = aws_provider_config(
        &format!("\"http://127.0.0.1:{}\"", moto.port()),
        &["ec2", "s3", "sts"],
    );
    let main = format!(
        "{provider}\nimport {{\n  to = aws_s3_bucket.g\n  id = \"terrane-generated\"\n}}\n"
    );
    write(dir, &[("main.tf", &main)]);
    let terrane_bin = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let init = run_step(&terrane_bin, dir, "init", &peer);
    assert!(init.status.success(), "{:?}", text(&init));
    let plan = run_step(&terrane_bin, dir, "plan -generate-config-out=gen.tf", &peer);
    let (stdout, stderr) = text(&plan);
    assert!(plan.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        fs::read_to_string(dir.join("gen.tf")).expect("gen.tf"),
        GENERATED_BUCKET
    );
    assert!(
        stdout.contains(
            "# aws_s3_bucket.g will be updated in-place\n  # (imported from \"terrane-generated\")"
        ),
        "{stdout}"
    );
}
