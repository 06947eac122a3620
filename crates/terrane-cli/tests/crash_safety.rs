//! Crash safety of apply: `terrane apply` of 1,000 built-in `local_file`
//! resources is killed with SIGKILL at random moments. After each kill the
//! state is recovered the way the next run does it (the journal beside the
//! state folded into it), and then:
//!
//! * the state file parses;
//! * every instance in the state has its file on disk;
//! * every create reported complete on standard output before the kill is
//!   in the state (a change is journaled before it is reported);
//! * every file on disk is in the state, except for at most `parallelism`
//!   of them: the creates in flight at the kill, whose provider had
//!   written the file but whose response terrane never received (no tool
//!   can know about those; Terraform would lose them too);
//! * `terrane plan` accepts the recovered state and plans the rest.
//!
//! Kill delays come from a seeded generator; the seed is printed, and
//! `TERRANE_KILL_SEED=N` replays a run.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RESOURCES: usize = 1000;
const TRIALS: usize = 20;
const PARALLELISM: usize = 10;

/// SplitMix64: enough randomness for kill delays, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, bound).
    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next() % bound
        }
    }
}

fn config() -> String {
    format!(
        "resource \"local_file\" \"f\" {{\n  count    = {RESOURCES}\n  filename = \"${{path.module}}/out/f${{count.index}}\"\n  content  = \"file ${{count.index}}\\n\"\n}}\n"
    )
}

fn reset(dir: &Path) {
    for name in [
        "terraform.tfstate",
        "terraform.tfstate.backup",
        ".terraform.tfstate.journal",
        ".terraform.tfstate.lock.info",
    ] {
        let _ = std::fs::remove_file(dir.join(name));
    }
    let _ = std::fs::remove_dir_all(dir.join("out"));
}

/// Starts `terrane apply`, its standard output going to `stdout.txt`.
fn apply(dir: &Path) -> std::process::Child {
    let stdout = std::fs::File::create(dir.join("stdout.txt")).expect("stdout file");
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args([
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            &format!("-parallelism={PARALLELISM}"),
        ])
        .current_dir(dir)
        .stdout(stdout)
        .stderr(Stdio::null())
        .spawn()
        .expect("start terrane apply")
}

/// Folds a journal left by the killed run into the state, as the next
/// run does on start, and returns the `local_file` indexes in the state.
fn recover(dir: &Path) -> BTreeSet<usize> {
    let state_path = dir.join("terraform.tfstate");
    let mut local =
        terrane_state::LocalState::new(terrane_state::LocalStateOptions::new(&state_path));
    local.refresh().expect("the state file parses");
    let mut journal =
        terrane_state::journal::Journal::open(&state_path).expect("the journal opens");
    journal.fold(&mut local).expect("the journal folds");
    local.refresh().expect("the folded state parses");
    let mut indexes = BTreeSet::new();
    if let Some(sf) = local.state() {
        for r in &sf.state.resources {
            assert_eq!(r.type_, "local_file");
            for i in &r.instances {
                match i.index_key {
                    Some(terrane_state::IndexKey::Int(n)) => {
                        indexes.insert(n as usize);
                    }
                    ref other => panic!("unexpected index key {other:?}"),
                }
            }
        }
    }
    indexes
}

/// Indexes of the creates reported complete (whole lines only).
fn reported_complete(dir: &Path) -> BTreeSet<usize> {
    let text = std::fs::read_to_string(dir.join("stdout.txt")).unwrap_or_default();
    text.split_inclusive('\n')
        .filter(|l| l.ends_with('\n'))
        .filter_map(|l| {
            let rest = l.strip_prefix("local_file.f[")?;
            let (n, tail) = rest.split_once(']')?;
            tail.starts_with(": Creation complete after")
                .then(|| n.parse().ok())
                .flatten()
        })
        .collect()
}

fn files_on_disk(dir: &Path) -> BTreeSet<usize> {
    let Ok(entries) = std::fs::read_dir(dir.join("out")) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_prefix('f'))
                .and_then(|n| n.parse().ok())
        })
        .collect()
}

#[test]
fn kill_9_during_apply_loses_no_completed_create() {
    let dir = std::env::temp_dir().join(format!("terrane-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::write(dir.join("main.tf"), config()).expect("write config");

    // One uninterrupted apply sets the range of kill moments (whatever
    // this machine's speed): from the start to a little past its end.
    let started = Instant::now();
    let status = apply(&dir).wait().expect("wait");
    assert!(status.success(), "uninterrupted apply failed");
    let full = started.elapsed();
    assert_eq!(reported_complete(&dir).len(), RESOURCES);
    assert_eq!(recover(&dir).len(), RESOURCES);
    assert_eq!(files_on_disk(&dir).len(), RESOURCES);

    let seed = std::env::var("TERRANE_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    println!("kill seed: {seed} (TERRANE_KILL_SEED={seed} replays it); full apply {full:?}");
    let mut rng = Rng(seed);
    let window = (full.as_micros() as u64) * 12 / 10;
    let mut in_flight_losses = 0;
    let mut partial = 0;
    let mut reported_total = 0;
    for trial in 0..TRIALS {
        reset(&dir);
        let delay = Duration::from_micros(rng.below(window));
        let mut child = apply(&dir);
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let reported = reported_complete(&dir);
        let recorded = recover(&dir);
        let files = files_on_disk(&dir);
        let lost: Vec<_> = reported.difference(&recorded).collect();
        assert!(
            lost.is_empty(),
            "trial {trial} (seed {seed}, kill after {delay:?}): reported complete but not in state: {lost:?}"
        );
        // Recorded creates have their file (the provider wrote it first).
        let missing: Vec<_> = recorded.difference(&files).collect();
        assert!(
            missing.is_empty(),
            "trial {trial} (seed {seed}, kill after {delay:?}): in state without a file: {missing:?}"
        );
        let unrecorded: Vec<_> = files.difference(&recorded).collect();
        assert!(
            unrecorded.len() <= PARALLELISM,
            "trial {trial} (seed {seed}, kill after {delay:?}): {} files not in state (more than the {PARALLELISM} operations that can be in flight): {unrecorded:?}",
            unrecorded.len()
        );
        in_flight_losses += unrecorded.len();
        reported_total += reported.len();
        if !recorded.is_empty() && recorded.len() < RESOURCES {
            partial += 1;
        }
        // The next run accepts the recovered state and plans the rest.
        let plan = Command::new(env!("CARGO_BIN_EXE_terrane"))
            .args(["plan", "-no-color", "-input=false", "-refresh=false"])
            .current_dir(&dir)
            .output()
            .expect("terrane plan");
        assert!(
            plan.status.success(),
            "trial {trial}: plan failed: {}",
            String::from_utf8_lossy(&plan.stderr)
        );
        let text = String::from_utf8_lossy(&plan.stdout);
        let expected = if recorded.len() == RESOURCES {
            "No changes.".to_string()
        } else {
            format!(
                "Plan: {} to add, 0 to change, 0 to destroy.",
                RESOURCES - recorded.len()
            )
        };
        assert!(
            text.contains(&expected),
            "trial {trial}: expected {expected:?}:\n{text}"
        );
    }
    println!(
        "{TRIALS} kills, {partial} mid-apply; {reported_total} creates reported before a kill, all in state; files of in-flight creates not in state: {in_flight_losses} in total"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
