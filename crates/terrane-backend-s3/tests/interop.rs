//! Terraform 1.0.3's s3 backend and terrane's sharing one state in moto
//! S3 with DynamoDB locking: each reads what the other wrote (Terraform
//! checks terrane's digest item, terrane checks Terraform's), Terraform
//! plans "No changes." on a state terrane wrote, and a lock held by either
//! blocks the other, naming the holder.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{backend, config, moto_available, start_moto, Moto};
use terrane_state::backend::Backend;
use terrane_state::LockError;
use terrane_testkit::{peer_dir, s3_backend_arguments};

fn terraform(peer: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(peer.join("bin/terraform"));
    cmd.args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        // Never ask the instance metadata service for anything.
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("TF_LOG");
    cmd
}

fn run(peer: &Path, dir: &Path, args: &[&str]) -> Output {
    terraform(peer, dir, args).output().expect("run terraform")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn workdir(name: &str, moto: &Moto, bucket: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("terrane-s3-interop-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let arguments = s3_backend_arguments(
        bucket,
        "path/to/terraform.tfstate",
        &moto.endpoint(),
        Some("locks"),
    );
    std::fs::write(
        dir.join("main.tf"),
        format!(
            r#"terraform {{
  backend "s3" {{
{arguments}  }}
}}

resource "null_resource" "n" {{
  count = 3
  triggers = {{
    index = count.index
  }}
}}

output "ids" {{
  value = null_resource.n[*].triggers.index
}}
"#
        ),
    )
    .expect("write main.tf");
    dir
}

fn backend_config(moto: &Moto, bucket: &str) -> terrane_state::backend::BackendConfig {
    config(moto, bucket, &[("dynamodb_table", "locks".into())])
}

#[test]
fn terraform_and_terrane_share_state_and_locks() {
    let Some(peer) = peer_dir() else { return };
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("shared", true);
    moto.create_lock_table("locks");
    let dir = workdir("share", &moto, "shared");

    let init = run(&peer, &dir, &["init", "-input=false", "-no-color"]);
    assert!(init.status.success(), "terraform init:\n{}", text(&init));
    let apply = run(
        &peer,
        &dir,
        &["apply", "-auto-approve", "-input=false", "-no-color"],
    );
    assert!(apply.status.success(), "terraform apply:\n{}", text(&apply));

    // terrane reads Terraform's state (and accepts its digest item).
    let mut b = backend(&backend_config(&moto, "shared"));
    let mut mgr = b.state_mgr("default").expect("state manager");
    let theirs = mgr
        .refresh()
        .expect("terrane reads Terraform's state")
        .cloned()
        .expect("a state");
    // (Terraform 1.0.3's first remote snapshot keeps serial 0.)
    assert_eq!(theirs.state.resources.len(), 1);
    assert_eq!(theirs.state.resources[0].instances.len(), 3);

    // terrane writes the next snapshot; Terraform reads it (checking
    // terrane's digest) and plans no changes.
    let mut next = theirs.clone();
    next.serial += 1;
    mgr.write_file(&next, false).expect("terrane writes");
    let plan = run(
        &peer,
        &dir,
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
    );
    assert_eq!(
        plan.status.code(),
        Some(0),
        "terraform plan:\n{}",
        text(&plan)
    );
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
    let pull = run(&peer, &dir, &["state", "pull"]);
    let pulled = String::from_utf8_lossy(&pull.stdout);
    assert!(
        pulled.contains(&format!("\"serial\": {}", next.serial)),
        "{pulled}"
    );
    assert!(pulled.contains(&theirs.lineage), "{pulled}");

    // A lock terrane holds stops Terraform, which names terrane's lock.
    let id = mgr.lock("OperationTypeApply", "").expect("terrane locks");
    let blocked = run(
        &peer,
        &dir,
        &["plan", "-lock-timeout=0s", "-input=false", "-no-color"],
    );
    assert_eq!(blocked.status.code(), Some(1), "{}", text(&blocked));
    let message = text(&blocked);
    assert!(
        message.contains("Error acquiring the state lock"),
        "{message}"
    );
    assert!(
        message.contains("ConditionalCheckFailedException"),
        "{message}"
    );
    assert!(message.contains(&format!("ID:        {id}")), "{message}");
    assert!(
        message.contains("Path:      shared/path/to/terraform.tfstate"),
        "{message}"
    );
    mgr.unlock(&id).expect("terrane unlocks");

    // A lock Terraform holds (apply waiting at its prompt) stops terrane,
    // which names Terraform's lock.
    let mut waiting = terraform(
        &peer,
        &dir,
        &[
            "apply",
            "-replace=null_resource.n[0]",
            "-input=true",
            "-no-color",
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("start terraform apply");
    let deadline = Instant::now() + Duration::from_secs(60);
    while moto
        .get_item("locks", "shared/path/to/terraform.tfstate")
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "terraform apply never took the lock"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let refused = b
        .state_mgr("default")
        .expect("state manager")
        .lock("OperationTypePlan", "");
    let answered = waiting
        .stdin
        .take()
        .map(|mut s| s.write_all(b"no\n"))
        .is_some();
    let finished = waiting.wait_with_output().expect("terraform apply ends");
    assert!(answered);
    match refused {
        Err(LockError::Busy {
            message,
            info: Some(info),
        }) => {
            assert!(
                message.starts_with("ConditionalCheckFailedException"),
                "{message}"
            );
            assert_eq!(info.operation, "OperationTypeApply");
            assert_eq!(info.version, "1.0.3");
            assert_eq!(info.path, "shared/path/to/terraform.tfstate");
            assert!(info.who.contains('@'), "{}", info.who);
        }
        other => panic!(
            "terrane locked while Terraform held the lock: {other:?}\n{}",
            text(&finished)
        ),
    }
    assert!(
        text(&finished).contains("Apply cancelled."),
        "{}",
        text(&finished)
    );
    assert_eq!(
        moto.get_item("locks", "shared/path/to/terraform.tfstate"),
        ""
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn terraform_reads_a_state_terrane_created_in_a_workspace() {
    let Some(peer) = peer_dir() else { return };
    if !moto_available() {
        return;
    }
    let moto = start_moto();
    moto.create_bucket("fresh", false);
    moto.create_lock_table("locks");
    let dir = workdir("workspace", &moto, "fresh");
    let init = run(&peer, &dir, &["init", "-input=false", "-no-color"]);
    assert!(init.status.success(), "terraform init:\n{}", text(&init));

    // terrane creates workspace "staging" with an empty state.
    let mut b = backend(&backend_config(&moto, "fresh"));
    let mut mgr = b.state_mgr("staging").expect("state manager");
    mgr.refresh().expect("refresh");
    mgr.write(&terrane_state::State::default()).expect("write");
    drop(mgr);

    let list = run(&peer, &dir, &["workspace", "list"]);
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("staging"),
        "{}",
        text(&list)
    );
    let select = run(&peer, &dir, &["workspace", "select", "staging"]);
    assert!(select.status.success(), "{}", text(&select));
    let plan = run(
        &peer,
        &dir,
        &["plan", "-detailed-exitcode", "-input=false", "-no-color"],
    );
    // Three instances to create on the empty state terrane wrote.
    assert_eq!(plan.status.code(), Some(2), "{}", text(&plan));
    assert!(text(&plan).contains("Plan: 3 to add, 0 to change, 0 to destroy."));

    // Terraform's workspace is one terrane lists.
    let new = run(&peer, &dir, &["workspace", "new", "qa"]);
    assert!(new.status.success(), "{}", text(&new));
    assert_eq!(
        b.workspaces().expect("list"),
        vec!["default", "qa", "staging"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
