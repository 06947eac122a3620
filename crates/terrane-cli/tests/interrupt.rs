//! A real `terrane apply` process interrupted with SIGINT: it prints
//! Terraform's notice, starts nothing new, lets what is in flight finish,
//! writes a valid state holding exactly the instances reported complete,
//! and exits 1.
//!
//! Built-in providers only (time, null): no peer needed. Nothing here
//! depends on timing: the signal is sent once the first completion line
//! has been read from the process's output.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("terrane-int-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Addresses of the resource instances in a state file, read through
/// terrane-state (so the file must be a valid state).
fn state_instances(dir: &Path) -> BTreeSet<String> {
    let mut local = terrane_state::LocalState::new(terrane_state::LocalStateOptions::new(
        dir.join("terraform.tfstate"),
    ));
    local.refresh().expect("state parses");
    let mut out = BTreeSet::new();
    if let Some(sf) = local.state() {
        for r in &sf.state.resources {
            for i in &r.instances {
                let key = match &i.index_key {
                    None => String::new(),
                    Some(terrane_state::IndexKey::Int(n)) => format!("[{n}]"),
                    Some(terrane_state::IndexKey::String(s)) => format!("[{s:?}]"),
                };
                out.insert(format!("{}.{}{key}", r.type_, r.name));
            }
        }
    }
    out
}

struct Interrupted {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `terrane apply` in `dir`, sends SIGINT once the first
/// "Creation complete" line is out, and collects the output.
fn apply_and_interrupt(dir: &Path, extra: &[&str]) -> Interrupted {
    let mut child = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(["apply", "-auto-approve", "-no-color", "-input=false"])
        .args(extra)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start terrane");
    let pid = child.id().to_string();
    let mut stderr_pipe = child.stderr.take().expect("stderr");
    let stderr_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let mut stdout = String::new();
    let mut signalled = false;
    let reader = BufReader::new(child.stdout.take().expect("stdout"));
    for line in reader.lines() {
        let Ok(line) = line else { break };
        if !signalled && line.contains(": Creation complete after") {
            let status = Command::new("kill")
                .args(["-INT", &pid])
                .status()
                .expect("run kill");
            assert!(status.success(), "kill -INT {pid} failed");
            signalled = true;
        }
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let status = child.wait().expect("wait for terrane");
    Interrupted {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr: stderr_reader.join().unwrap_or_default(),
    }
}

fn completed(stdout: &str) -> BTreeSet<String> {
    stdout
        .lines()
        .filter_map(|l| {
            l.split_once(": Creation complete after")
                .map(|(a, _)| a.to_string())
        })
        .collect()
}

const NOTICE: &str = "\nInterrupt received.\nPlease wait for Terraform to exit or data loss may occur.\nGracefully shutting down...\n\nStopping operation...\n";

#[test]
fn sigint_stops_time_sleeps_and_keeps_completed_ones() {
    let dir = scratch("sleep");
    // 40 sleeps of 1 s, 4 at a time: ten rounds, interrupted in the first
    // completions. Sleeps in flight are cut short by the provider's stop.
    std::fs::write(
        dir.join("main.tf"),
        "resource \"time_sleep\" \"s\" {\n  count           = 40\n  create_duration = \"1s\"\n}\n",
    )
    .expect("write config");
    let run = apply_and_interrupt(&dir, &["-parallelism=4"]);
    assert_eq!(
        run.code, 1,
        "exit code\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout.contains(NOTICE),
        "notice missing:\n{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("Error: execution halted"),
        "stderr:\n{}",
        run.stderr
    );
    assert!(!run.stdout.contains("Apply complete!"), "{}", run.stdout);
    let done = completed(&run.stdout);
    assert!(!done.is_empty() && done.len() < 40, "completed: {done:?}");
    // No new operation started after the notice.
    let after = &run.stdout[run.stdout.find(NOTICE).unwrap_or(0) + NOTICE.len()..];
    assert!(
        !after.contains("Creating..."),
        "started after the interrupt:\n{after}"
    );
    assert_eq!(state_instances(&dir), done);
    assert!(
        !dir.join(".terraform.tfstate.journal").exists(),
        "journal left behind"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigint_lets_operations_in_flight_finish_and_records_them() {
    let dir = scratch("null");
    // null_resource ignores stop: everything started completes.
    std::fs::write(
        dir.join("main.tf"),
        "resource \"null_resource\" \"r\" {\n  count = 3000\n  triggers = {\n    i = count.index\n  }\n}\n",
    )
    .expect("write config");
    let run = apply_and_interrupt(&dir, &[]);
    assert_eq!(run.code, 1, "stderr:\n{}", run.stderr);
    assert!(run.stdout.contains(NOTICE));
    let started: BTreeSet<String> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_suffix(": Creating...").map(str::to_string))
        .collect();
    let done = completed(&run.stdout);
    assert_eq!(started, done, "every operation started was finished");
    assert!(done.len() < 3000);
    assert_eq!(state_instances(&dir), done);
    // The next run plans to create exactly the rest.
    let plan = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(["plan", "-no-color", "-input=false", "-refresh=false"])
        .current_dir(&dir)
        .output()
        .expect("terrane plan");
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        text.contains(&format!(
            "Plan: {} to add, 0 to change, 0 to destroy.",
            3000 - done.len()
        )),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
