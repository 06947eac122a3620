//! The stack our users run (examples/aws-on-moto: VPC, subnets with
//! `count` and `cidrsubnet`, a security group with ingress blocks, EC2
//! instances, an S3 bucket, a Route53 zone and record, an IAM user) with
//! the real hashicorp/aws 3.39.0 plugin against moto_server on loopback,
//! through Terraform 1.0.3 and through terrane: init, apply, re-plan and
//! destroy must give the same exit codes, actions per address (including
//! "has been changed" notes), summary lines, errors and states.
//!
//! Each tool gets its own moto_server, and the two sequences run at the
//! same time: Route53 changes wait ~30 s for INSYNC in moto, so running
//! them one after the other would double the test's time.

mod common;

use terrane_testkit::{moto_available, MotoServer, MotoThreading};

use common::{copy_dir, differences, outcome, peer_dir, run_step, Outcome};
use std::fs;
use std::path::{Path, PathBuf};

const STEPS: [&str; 4] = ["init", "apply", "plan", "destroy"];

/// Runs the whole sequence in `dir` against its own moto; returns each
/// step's outcome and state summary source directory snapshot.
fn run_sequence(tool: PathBuf, dir: PathBuf, peer: PathBuf) -> Vec<(Outcome, PathBuf)> {
    let moto = MotoServer::spawn(MotoThreading::Threaded);
    fs::write(
        dir.join("terraform.tfvars"),
        format!("endpoint = \"http://127.0.0.1:{}\"\n", moto.port()),
    )
    .expect("write tfvars");
    let mut results = Vec::new();
    for (i, step) in STEPS.iter().enumerate() {
        let out = run_step(&tool, &dir, step, &peer);
        if !out.status.success() {
            eprintln!(
                "{} {step}:\n{}{}",
                tool.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        // Keep a copy of the state after each step for the comparison.
        let snap = dir.join(format!(".step{i}"));
        fs::create_dir_all(&snap).expect("snapshot dir");
        if let Ok(s) = fs::read_to_string(dir.join("terraform.tfstate")) {
            fs::write(snap.join("terraform.tfstate"), mask_ids(&s)).expect("snapshot state");
        }
        results.push((outcome(&out), snap));
    }
    results
}

/// The state text with moto's generated EC2 ids (`vpc-0a1b...`) replaced
/// by their prefix: each tool's moto makes its own, and outputs such as
/// `vpc_id` carry them.
fn mask_ids(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for prefix in ["vpc-", "subnet-", "sg-", "i-", "eni-"] {
            if let Some(tail) = rest.strip_prefix(prefix) {
                let hex = tail
                    .bytes()
                    .take_while(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                    .count();
                let at_word_start = out
                    .chars()
                    .last()
                    .is_none_or(|c| !c.is_ascii_alphanumeric());
                if hex >= 8 && at_word_start {
                    out.push_str(prefix);
                    out.push_str("ID");
                    rest = &tail[hex..];
                    continue 'scan;
                }
            }
        }
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[test]
fn masks_generated_ids() {
    assert_eq!(
        mask_ids(r#""vpc_id": "vpc-8ff3d7f2eb86c5a65", "x": "multi-vpc-abc""#),
        r#""vpc_id": "vpc-ID", "x": "multi-vpc-abc""#
    );
}

#[test]
fn aws_stack_on_moto_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    if !moto_available() {
        return;
    }
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/aws-on-moto");
    let scratch = std::env::temp_dir().join(format!("terrane-aws-moto-{}", std::process::id()));
    let tf_dir = scratch.join("terraform");
    let tn_dir = scratch.join("terrane");
    for d in [&tf_dir, &tn_dir] {
        copy_dir(&example, d);
        let _ = fs::remove_file(d.join("run.sh"));
    }
    let terraform = peer.join("bin/terraform");
    let terrane = PathBuf::from(env!("CARGO_BIN_EXE_terrane"));
    let tf = {
        let (dir, peer) = (tf_dir.clone(), peer.clone());
        std::thread::spawn(move || run_sequence(terraform, dir, peer))
    };
    let tn = run_sequence(terrane, tn_dir.clone(), peer.clone());
    let tf = tf.join().expect("terraform sequence");

    let mut failures = Vec::new();
    for (i, ((a, a_snap), (b, b_snap))) in tf.iter().zip(&tn).enumerate() {
        let diffs = differences(a, b, a_snap, b_snap);
        if !diffs.is_empty() {
            failures.push(format!("step `{}`:\n{}", STEPS[i], diffs.join("\n")));
        }
    }
    // The comparison must have compared real work: Terraform created and
    // destroyed the ten resources.
    for (step, want) in [
        (
            1,
            "Apply complete! Resources: 10 added, 0 changed, 0 destroyed.",
        ),
        (3, "Destroy complete! Resources: 10 destroyed."),
    ] {
        assert!(
            tf[step].0.summaries.iter().any(|l| l == want),
            "Terraform's `{}` did not say {want:?}: {:?}",
            STEPS[step],
            tf[step].0.summaries
        );
    }
    let _ = fs::remove_dir_all(&scratch);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
