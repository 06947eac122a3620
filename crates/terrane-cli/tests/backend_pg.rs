//! `backend "pg"` through the CLI, against Terraform 1.0.3 on the same
//! PostgreSQL database (started by the test; `terrane_testkit::PgServer`):
//! * a state applied by either tool plans "No changes." with the other;
//! * a lock held by either tool blocks the other with the lock error;
//! * 10 terrane applies at once: each runs alone under the lock or fails
//!   with the lock error, and the final serial counts the successes.
//!
//! Needs the Terraform peer and PostgreSQL; skips without them outside CI.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::peer_dir;
use terrane_testkit::PgServer;

const TERRANE: &str = env!("CARGO_BIN_EXE_terrane");

fn tool(program: &Path, dir: &Path, peer: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_WORKSPACE")
        .env_remove("TF_LOG")
        .stdin(Stdio::null());
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run the tool")
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}",
        out.status,
        text(&out)
    );
    text(&out)
}

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("terrane-cli-pg-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    dir
}

fn write_config(dir: &Path, server: &PgServer, body: &str) {
    std::fs::write(
        dir.join("main.tf"),
        format!(
            "terraform {{\n  backend \"pg\" {{\n    conn_str = \"{}\"\n  }}\n}}\n\n{body}",
            server.url()
        ),
    )
    .expect("write main.tf");
}

/// `terrane init`, which records the backend as Terraform does.
fn terrane_init(dir: &Path, peer: &Path) {
    ok(&mut tool(
        Path::new(TERRANE),
        dir,
        peer,
        &["init", "-no-color", "-input=false"],
    ));
}

fn advisory_locks(server: &PgServer) -> usize {
    server
        .psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
        .trim()
        .parse()
        .unwrap_or(0)
}

fn stored_serial(server: &PgServer) -> u64 {
    let data = server.psql("SELECT data FROM terraform_remote_state.states WHERE name = 'default'");
    let json: serde_json::Value = serde_json::from_str(&data).expect("stored state is JSON");
    json["serial"].as_u64().expect("serial")
}

/// Starts `apply` without `-auto-approve`: it takes the lock and waits at
/// its prompt until stdin closes. Returns once the lock is held.
fn hold_lock_with_apply(program: &Path, dir: &Path, peer: &Path, server: &PgServer) -> Child {
    let child = tool(program, dir, peer, &["apply", "-no-color"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start apply");
    let deadline = Instant::now() + Duration::from_secs(120);
    while advisory_locks(server) == 0 {
        assert!(
            Instant::now() < deadline,
            "{program:?} apply never took the lock"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    child
}

fn release(mut child: Child) {
    drop(child.stdin.take());
    let _ = child.wait();
}

#[test]
fn terraform_and_terrane_share_a_pg_state() {
    let Some(peer) = peer_dir() else { return };
    let Some(server) = PgServer::start() else {
        return;
    };
    let terraform = peer.join("bin/terraform");
    let terrane = PathBuf::from(TERRANE);
    let tf = workdir("tf");
    let tn = workdir("tn");
    let two = "resource \"null_resource\" \"a\" {}\nresource \"null_resource\" \"b\" {}\n";
    let three = format!("{two}resource \"null_resource\" \"c\" {{}}\n");
    write_config(&tf, &server, two);
    write_config(&tn, &server, two);

    ok(&mut tool(
        &terraform,
        &tf,
        &peer,
        &["init", "-no-color", "-input=false"],
    ));
    ok(&mut tool(
        &terraform,
        &tf,
        &peer,
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    ));
    terrane_init(&tn, &peer);
    // The same backend record (type, config, hash) as Terraform's init.
    let record = |dir: &Path| {
        let text = std::fs::read_to_string(dir.join(".terraform/terraform.tfstate"))
            .expect("backend record");
        let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        json["backend"].clone()
    };
    assert_eq!(record(&tn), record(&tf));
    let plan = run(&mut tool(
        &terrane,
        &tn,
        &peer,
        &["plan", "-no-color", "-input=false", "-detailed-exitcode"],
    ));
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));

    // And the other way round.
    write_config(&tn, &server, &three);
    write_config(&tf, &server, &three);
    let applied = ok(&mut tool(
        &terrane,
        &tn,
        &peer,
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    ));
    assert!(
        applied.contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed."),
        "{applied}"
    );
    let plan = run(&mut tool(
        &terraform,
        &tf,
        &peer,
        &["plan", "-no-color", "-input=false", "-detailed-exitcode"],
    ));
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));

    // A lock held by Terraform blocks terrane, and the other way round,
    // with Terraform's lock error.
    let four = format!("{three}resource \"null_resource\" \"d\" {{}}\n");
    write_config(&tf, &server, &four);
    write_config(&tn, &server, &four);
    for (holder, blocked) in [(&terraform, &terrane), (&terrane, &terraform)] {
        let (holder_dir, blocked_dir) = if holder == &terraform {
            (&tf, &tn)
        } else {
            (&tn, &tf)
        };
        let child = hold_lock_with_apply(holder, holder_dir, &peer, &server);
        let out = run(&mut tool(
            blocked,
            blocked_dir,
            &peer,
            &["plan", "-no-color", "-input=false"],
        ));
        release(child);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{t}");
        assert!(t.contains("Error: Error acquiring the state lock"), "{t}");
        assert!(
            t.contains("Error message: Workspace is already locked: default\nLock Info:\n"),
            "{t}"
        );
        assert!(
            t.contains("Terraform acquires a state lock to protect the state"),
            "{t}"
        );
    }
    assert_eq!(advisory_locks(&server), 0);
    let _ = std::fs::remove_dir_all(&tf);
    let _ = std::fs::remove_dir_all(&tn);
}

#[test]
fn ten_concurrent_applies_take_turns_under_the_lock() {
    let Some(peer) = peer_dir() else { return };
    let Some(server) = PgServer::start() else {
        return;
    };
    let terrane = PathBuf::from(TERRANE);
    let dir = workdir("concurrent");
    write_config(
        &dir,
        &server,
        "variable \"run\" {\n  type = string\n}\n\nresource \"null_resource\" \"n\" {\n  triggers = {\n    run = var.run\n  }\n}\n",
    );
    terrane_init(&dir, &peer);
    ok(&mut tool(
        &terrane,
        &dir,
        &peer,
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-var",
            "run=start",
        ],
    ));
    let start = stored_serial(&server);

    // Without -lock-timeout: each either applies alone or gets the lock
    // error; every success adds exactly one serial.
    let round = |extra: &[&str], tag: &str| -> (usize, Vec<String>) {
        let children: Vec<(String, Child)> = (0..10)
            .map(|i| {
                let var = format!("run={tag}{i}");
                let mut args = vec![
                    "apply",
                    "-auto-approve",
                    "-no-color",
                    "-input=false",
                    "-var",
                    &var,
                ];
                args.extend_from_slice(extra);
                let child = tool(&terrane, &dir, &peer, &args)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("start apply");
                (format!("{tag}{i}"), child)
            })
            .collect();
        let mut succeeded = Vec::new();
        let mut failed = 0;
        for (run_id, child) in children {
            let out = child.wait_with_output().expect("wait");
            let t = text(&out);
            if out.status.success() {
                assert!(t.contains("Apply complete!"), "{t}");
                succeeded.push(run_id);
            } else {
                assert!(
                    t.contains("Error acquiring the state lock"),
                    "an apply failed other than on the lock:\n{t}"
                );
                failed += 1;
            }
        }
        (failed, succeeded)
    };
    let (failed, succeeded) = round(&[], "a");
    eprintln!(
        "without -lock-timeout: {} applied, {failed} got the lock error",
        succeeded.len()
    );
    assert_eq!(failed + succeeded.len(), 10);
    assert!(!succeeded.is_empty(), "no apply got the lock");
    let after_first = stored_serial(&server);
    assert_eq!(after_first - start, succeeded.len() as u64);

    // With -lock-timeout every one gets its turn.
    let (failed, succeeded_waiting) = round(&["-lock-timeout=300s"], "b");
    assert_eq!(failed, 0);
    assert_eq!(succeeded_waiting.len(), 10);
    assert_eq!(stored_serial(&server) - after_first, 10);

    // The stored state is one of the runs, whole.
    let data = server.psql("SELECT data FROM terraform_remote_state.states WHERE name = 'default'");
    let json: serde_json::Value = serde_json::from_str(&data).expect("JSON");
    let run = json["resources"][0]["instances"][0]["attributes"]["triggers"]["run"]
        .as_str()
        .expect("triggers.run")
        .to_string();
    assert!(
        succeeded_waiting.contains(&run),
        "{run} is not one of the applies"
    );
    assert_eq!(advisory_locks(&server), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_server_killed_during_apply_leaves_errored_tfstate_that_push_restores() {
    use std::io::{Read, Write};
    let Some(peer) = peer_dir() else { return };
    let Some(mut server) = PgServer::start() else {
        return;
    };
    let terrane = PathBuf::from(TERRANE);
    let dir = workdir("fault");
    write_config(
        &dir,
        &server,
        "resource \"null_resource\" \"n\" {\n  count = 200\n}\n",
    );
    terrane_init(&dir, &peer);

    // The apply waits at its prompt with the lock held; the server dies
    // there, then the apply is approved: all 200 are created and the final
    // write fails.
    let mut apply = tool(&terrane, &dir, &peer, &["apply", "-no-color"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start apply");
    let mut stdout = apply.stdout.take().expect("stdout");
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("Enter a value:") {
        let n = stdout.read(&mut buf).expect("read the apply's output");
        assert!(
            n > 0,
            "apply ended before its prompt:\n{}",
            String::from_utf8_lossy(&seen)
        );
        seen.extend_from_slice(&buf[..n]);
    }
    server.kill();
    apply
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"yes\n")
        .expect("approve");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("read the rest");
    let out = apply.wait_with_output().expect("wait");
    let all = format!(
        "{}{rest}{}",
        String::from_utf8_lossy(&seen),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("errored.tfstate"), "{all}");
    let errored = dir.join("errored.tfstate");
    assert!(errored.is_file(), "no errored.tfstate:\n{all}");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&errored).expect("read")).expect("JSON");
    assert_eq!(
        saved["resources"][0]["instances"].as_array().map(Vec::len),
        Some(200)
    );

    // Back up, the pushed state is the applied one: nothing to do.
    server.resume();
    ok(&mut tool(
        &terrane,
        &dir,
        &peer,
        &["state", "push", "errored.tfstate"],
    ));
    let plan = run(&mut tool(
        &terrane,
        &dir,
        &peer,
        &["plan", "-no-color", "-input=false", "-detailed-exitcode"],
    ));
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."), "{}", text(&plan));
    let _ = std::fs::remove_dir_all(&dir);
}
