//! The pg backend and Terraform 1.0.3 on one database: each reads what the
//! other wrote, sees the other's workspaces, and is blocked by the other's
//! lock. Needs the Terraform peer (`../shared/peer/setup.sh`) and
//! PostgreSQL; skips without them outside CI.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use terrane_backend_pg::{PgBackend, PgSettings};
use terrane_state::{read, Backend, LockError, LockInfo, ReadOptions, RemoteClient};
use terrane_testkit::{peer_dir, PgServer};

fn terraform(peer: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(peer.join("bin/terraform"));
    cmd.args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_WORKSPACE")
        .stdin(Stdio::null());
    cmd
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run terraform");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn advisory_locks(server: &PgServer) -> usize {
    server
        .psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        .trim()
        .parse()
        .unwrap_or(0)
}

#[test]
fn terraform_and_terrane_share_states_workspaces_and_locks() {
    let Some(peer) = peer_dir() else { return };
    let Some(server) = PgServer::start() else {
        return;
    };
    let work = std::env::temp_dir().join(format!("terrane-pg-interop-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).expect("mkdir");
    std::fs::write(
        work.join("main.tf"),
        format!(
            "terraform {{\n  backend \"pg\" {{\n    conn_str = \"{}\"\n  }}\n}}\n\nresource \"null_resource\" \"a\" {{}}\n",
            server.url()
        ),
    )
    .expect("write main.tf");
    run_ok(&mut terraform(
        &peer,
        &work,
        &["init", "-no-color", "-input=false"],
    ));
    run_ok(&mut terraform(
        &peer,
        &work,
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    ));

    // terrane reads Terraform's state as `terraform state pull` shows it.
    let pulled = run_ok(&mut terraform(&peer, &work, &["state", "pull"]));
    let tf_state = read(pulled.as_bytes(), &ReadOptions::default())
        .expect("valid")
        .expect("state");
    let settings = PgSettings {
        conn_str: server.url(),
        schema_name: "terraform_remote_state".into(),
        skip_schema_creation: false,
        skip_table_creation: false,
        skip_index_creation: false,
    };
    let mut b = PgBackend::connect(&settings).expect("connect");
    let mut mgr = b.state_mgr("default").expect("mgr");
    let ours = mgr.refresh().expect("refresh").cloned().expect("state");
    assert_eq!(ours, tf_state);
    assert_eq!(ours.state.resources.len(), 1);

    // Terraform reads what terrane writes (an output added to the state).
    let mut changed = ours.state.clone();
    let with_output = read(
        br#"{"version":4,"terraform_version":"1.0.3","serial":1,"lineage":"x","outputs":{"from_terrane":{"value":"yes","type":"string"}},"resources":[]}"#,
        &ReadOptions::default(),
    )
    .expect("valid")
    .expect("state");
    changed.outputs = with_output.state.outputs;
    let written = mgr.write(&changed).expect("write").clone();
    assert_eq!(written.serial, ours.serial + 1);
    assert_eq!(
        run_ok(&mut terraform(
            &peer,
            &work,
            &["output", "-raw", "-no-color", "from_terrane"]
        )),
        "yes"
    );
    // A state pushed by terrane with Terraform's resources plans clean.
    let mut pushed = ours.clone();
    pushed.serial = written.serial + 1;
    mgr.write_file(&pushed, false).expect("push");
    let pulled = run_ok(&mut terraform(&peer, &work, &["state", "pull"]));
    assert!(
        pulled.contains(&format!("\"serial\": {},", pushed.serial)),
        "{pulled}"
    );
    let plan = run_ok(&mut terraform(
        &peer,
        &work,
        &["plan", "-no-color", "-input=false", "-detailed-exitcode"],
    ));
    assert!(plan.contains("No changes."), "{plan}");

    // Workspaces either tool creates are the other's too.
    run_ok(&mut terraform(
        &peer,
        &work,
        &["workspace", "new", "-no-color", "tfdev"],
    ));
    run_ok(&mut terraform(
        &peer,
        &work,
        &["workspace", "select", "-no-color", "default"],
    ));
    b.state_mgr("terrane-dev").expect("create");
    assert_eq!(
        b.workspaces().expect("list"),
        ["default", "terrane-dev", "tfdev"]
    );
    let listed = run_ok(&mut terraform(
        &peer,
        &work,
        &["workspace", "list", "-no-color"],
    ));
    assert_eq!(listed, "* default\n  terrane-dev\n  tfdev\n\n");

    // A lock held by terrane blocks Terraform, with its message.
    let mut holder = b.client("default");
    let info = LockInfo::new("OperationTypeApply", "1.0.3");
    holder.lock(&info).expect("lock");
    let out = terraform(&peer, &work, &["plan", "-no-color", "-input=false"])
        .output()
        .expect("plan");
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(t.contains("Error: Error acquiring the state lock"), "{t}");
    assert!(
        t.contains("Error message: Workspace is already locked: default\nLock Info:\n"),
        "{t}"
    );
    holder.unlock(&info.id).expect("unlock");
    assert_eq!(advisory_locks(&server), 0);

    // A lock held by Terraform (an apply waiting at its prompt) blocks
    // terrane.
    std::fs::write(
        work.join("main.tf"),
        format!(
            "terraform {{\n  backend \"pg\" {{\n    conn_str = \"{}\"\n  }}\n}}\n\nresource \"null_resource\" \"a\" {{}}\nresource \"null_resource\" \"b\" {{}}\n",
            server.url()
        ),
    )
    .expect("write main.tf");
    let mut apply = terraform(&peer, &work, &["apply", "-no-color"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start terraform apply");
    let deadline = Instant::now() + Duration::from_secs(60);
    while advisory_locks(&server) == 0 {
        assert!(
            Instant::now() < deadline,
            "terraform apply never took the lock"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut contender = b.client("default");
    match contender.lock(&LockInfo::new("OperationTypePlan", "1.0.3")) {
        Err(LockError::Busy { message, .. }) => {
            assert_eq!(message, "Workspace is already locked: default")
        }
        other => panic!("expected Terraform's lock to block terrane, got {other:?}"),
    }
    // Closing its stdin makes the prompt fail; Terraform unlocks and exits.
    drop(apply.stdin.take());
    let status = apply.wait().expect("wait for terraform");
    assert!(!status.success());
    let relock = LockInfo::new("OperationTypePlan", "1.0.3");
    assert_eq!(contender.lock(&relock).expect("free again"), relock.id);
    contender.unlock(&relock.id).expect("unlock");
    let _ = std::fs::remove_dir_all(&work);
}
