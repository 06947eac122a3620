//! `ignore_changes` with a legacy-SDK provider, against Terraform 1.0.3:
//! an aws_s3_bucket imported with hashicorp/aws 3.39.0 (on moto) has
//! `acl` and `force_destroy` null in state, and the provider plans their
//! defaults (`"private"`, `false`). With both in `ignore_changes`,
//! Terraform plans no change; so must terrane (it planned an update).

mod common;

use terrane_testkit::{aws_provider_config, MotoServer, MotoThreading};

use common::{outcome, peer_dir, run_step};
use std::fs;
use std::path::{Path, PathBuf};

/// hashicorp/aws configured for the moto on `port`.
fn moto_provider(port: u16) -> String {
    aws_provider_config(
        &format!("\"http://127.0.0.1:{port}\""),
        &["ec2", "s3", "sts"],
    )
}

fn config(port: u16, ignore: &str) -> String {
    format!(
        r#"{provider}
resource "aws_s3_bucket" "b" {{
  bucket = "terrane-ignored"
{ignore}}}
"#,
        provider = moto_provider(port)
    )
}

#[test]
fn ignored_legacy_defaults_plan_no_change_as_terraform() {
    let Some(peer) = peer_dir() else { return };
    let Some(moto) = MotoServer::start(MotoThreading::Threaded) else {
        return;
    };
    moto.create_bucket("terrane-ignored");
    let scratch = std::env::temp_dir().join(format!("terrane-ic-aws-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let ignoring = config(
        moto.port(),
        "\n  lifecycle {\n    ignore_changes = [acl, force_destroy]\n  }\n",
    );
    let not_ignoring = config(moto.port(), "");
    // Without ignore_changes both plan the defaults as an update; with
    // it, both plan nothing.
    let steps: [(&str, Option<&str>); 4] = [
        ("init", Some(&ignoring)),
        ("import aws_s3_bucket.b terrane-ignored", None),
        ("plan", None),
        ("plan", Some(&not_ignoring)),
    ];
    let run = |tool: &Path, dir: &Path| {
        fs::create_dir_all(dir).expect("mkdir");
        steps
            .iter()
            .map(|(step, main)| {
                if let Some(main) = main {
                    fs::write(dir.join("main.tf"), main).expect("write main.tf");
                }
                let out = run_step(tool, dir, step, &peer);
                let text = String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr);
                (outcome(&out), text)
            })
            .collect::<Vec<_>>()
    };
    let tf = run(&peer.join("bin/terraform"), &scratch.join("terraform"));
    let tn = run(
        &PathBuf::from(env!("CARGO_BIN_EXE_terrane")),
        &scratch.join("terrane"),
    );
    let _ = fs::remove_dir_all(&scratch);
    // What Terraform does, so the comparison means something.
    assert_eq!(tf[1].0.code, 0, "terraform import: {}", tf[1].1);
    assert!(tf[2].1.contains("No changes."), "{}", tf[2].1);
    assert_eq!(
        tf[3].0.actions,
        ["# aws_s3_bucket.b will be updated in-place"]
    );
    for (i, ((a, a_text), (b, b_text))) in tf.iter().zip(&tn).enumerate() {
        assert!(
            a.code == b.code && a.actions == b.actions && a.summaries == b.summaries,
            "step {} `{}`:\nterraform:\n{a_text}\nterrane:\n{b_text}",
            i + 1,
            steps[i].0
        );
    }
    assert!(tn[2].1.contains("No changes."), "{}", tn[2].1);
}
