//! The resources-in-flight status line of `apply`/`destroy` (terrane
//! only): under a pseudo-terminal (`script`) it shows done/total and what
//! is in flight and is cleared before every normal output line; with
//! `TERRANE_PROGRESS=0`, `-json`, or output that is not a terminal,
//! nothing of it is written.

use std::path::{Path, PathBuf};
use std::process::Command;

const CONFIG: &str = r#"
resource "time_sleep" "wait" {
  count           = 2
  create_duration = "1s"
}

resource "null_resource" "after" {
  depends_on = [time_sleep.wait]
}
"#;

/// The marker every status line carries.
const STATUS: &str = " in flight";

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "terrane-apply-progress-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create work dir");
    std::fs::write(dir.join("main.tf"), CONFIG).expect("write main.tf");
    dir
}

fn script_available() -> bool {
    Command::new("script")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Runs terrane with `args` under a pseudo-terminal (stdout and stderr
/// both on it); returns everything the terminal received.
fn run_on_terminal(dir: &Path, args: &str, progress: Option<&str>) -> String {
    let bin = env!("CARGO_BIN_EXE_terrane");
    let mut cmd = Command::new("script");
    cmd.args(["-qfec", &format!("{bin} {args}"), "/dev/null"])
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("COLUMNS", "200")
        .env("TERM", "xterm")
        .env_remove("TF_LOG");
    match progress {
        Some(v) => cmd.env("TERRANE_PROGRESS", v),
        None => cmd.env_remove("TERRANE_PROGRESS"),
    };
    let out = cmd.output().expect("run script");
    assert!(
        out.status.success(),
        "{args}: exit {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text each line shows once the terminal has processed carriage
/// returns and erase-line sequences: what is after the last `\r\x1b[K`
/// (or `\r`) of the line.
fn visible_lines(raw: &str) -> Vec<String> {
    raw.split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let after = match line.rfind('\r') {
                Some(i) => &line[i + 1..],
                None => line,
            };
            after.trim_start_matches("\x1b[K").to_string()
        })
        .collect()
}

macro_rules! require_script {
    () => {
        if !script_available() {
            // CI must run this test, not skip it (.ci/run installs util-linux).
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "`script` (util-linux) is required under CI=true"
            );
            eprintln!("skipping: `script` (util-linux) is not installed");
            return;
        }
    };
}

#[test]
fn status_line_on_a_terminal_shows_counts_and_is_cleared() {
    require_script!();
    let dir = workdir("tty");
    let raw = run_on_terminal(&dir, "apply -auto-approve -no-color", None);
    assert!(
        raw.contains("resources 0/3 done, 0 in flight"),
        "no initial status line:\n{raw:?}"
    );
    assert!(
        raw.contains("resources 0/3 done, 1 in flight") && raw.contains(": time_sleep.wait["),
        "no status with a resource in flight:\n{raw:?}"
    );
    assert!(
        raw.contains("in flight, 0:0") && raw.contains("elapsed"),
        "no elapsed time:\n{raw:?}"
    );
    assert!(
        raw.contains("resources 3/3 done, 0 in flight"),
        "no final count:\n{raw:?}"
    );
    // Every normal line is written after the status line was erased, so
    // none shows status text once the terminal has drawn it.
    let lines = visible_lines(&raw);
    for line in &lines {
        assert!(
            !line.contains(STATUS),
            "status text left on a line: {line:?}\n{raw:?}"
        );
    }
    for wanted in [
        "time_sleep.wait[0]: Creating...",
        "time_sleep.wait[1]: Creating...",
        "null_resource.after: Creating...",
        "Apply complete! Resources: 3 added, 0 changed, 0 destroyed.",
    ] {
        assert!(
            lines.iter().any(|l| l == wanted),
            "line {wanted:?} is not shown on its own:\n{lines:#?}"
        );
    }

    let raw = run_on_terminal(&dir, "destroy -auto-approve -no-color", None);
    assert!(
        raw.contains("resources 0/3 done") && raw.contains("resources 3/3 done, 0 in flight"),
        "destroy has no status line:\n{raw:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn applying_a_saved_plan_on_a_terminal_shows_the_status_line() {
    require_script!();
    let dir = workdir("planfile");
    let plan = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(["plan", "-out=tfplan", "-no-color"])
        .current_dir(&dir)
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("run terrane plan");
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let raw = run_on_terminal(&dir, "apply -no-color tfplan", None);
    assert!(
        raw.contains("resources 0/3 done, 0 in flight")
            && raw.contains("resources 3/3 done, 0 in flight"),
        "no status line:\n{raw:?}"
    );
    let lines = visible_lines(&raw);
    assert!(
        lines.iter().all(|l| !l.contains(STATUS)),
        "status text left on a line:\n{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l == "Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{lines:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn opted_out_or_json_on_a_terminal_writes_no_status() {
    require_script!();
    let dir = workdir("optout");
    let raw = run_on_terminal(&dir, "apply -auto-approve -no-color", Some("0"));
    assert!(
        raw.contains("Apply complete!") && !raw.contains(STATUS),
        "TERRANE_PROGRESS=0 still shows a status line:\n{raw:?}"
    );
    let raw = run_on_terminal(&dir, "destroy -auto-approve -json", None);
    assert!(
        raw.contains("\"type\":\"change_summary\"") && !raw.contains(STATUS),
        "-json shows a status line:\n{raw:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plain_output_off_a_terminal_has_no_status() {
    let dir = workdir("plain");
    let out = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(["apply", "-auto-approve", "-no-color"])
        .current_dir(&dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TERRANE_PROGRESS")
        .env_remove("TF_LOG")
        .output()
        .expect("run terrane");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("Apply complete!"), "{stdout}");
    assert!(
        !stdout.contains(STATUS) && !stderr.contains(STATUS) && !stdout.contains('\r'),
        "status output off a terminal:\n{stdout}\n{stderr}"
    );
    assert_eq!(stderr, "", "unexpected standard error");
    let _ = std::fs::remove_dir_all(&dir);
}
