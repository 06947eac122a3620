//! `terrane stacks list|plan|apply|destroy|validate|fmt|drift`: one
//! command over every root module of a repository, in dependency order,
//! independent stacks in parallel. Each stack runs as a child `terrane`
//! process with `-chdir`; its output is captured and printed as one block
//! when it ends, then a summary table (or its JSON form) closes the run.

pub mod discover;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use terrane_hcl::Diagnostic;

use crate::progress::Progress;
use crate::ui::Ui;
use discover::Stack;

const USAGE: &str = "Usage: terrane [global options] stacks <list|plan|apply|destroy|validate|fmt|drift> [options] [DIR]

  Runs a command in every stack (root module) under DIR (default: the
  repository root, else the working directory), in dependency order.
  A stack is a directory with a backend or provider configuration, or one
  listed in terrane.hcl; dependencies come from terraform_remote_state data
  sources reading another stack's state and from depends_on in terrane.hcl.

Options:

  -parallelism=N       Stacks run at once (default 4).
  -changed-since=REF   Only the stacks whose files, or the local modules they
                       call, changed since the git REF (apply and destroy add
                       their dependents).
  -json                Print the summary as JSON on standard output (stack
                       output then goes to standard error).
  -init                Run \"init -input=false\" in each stack first.
  -progress=false      No progress display.

  Other options are passed to the command in each stack (e.g. stacks fmt -check).
";

const DEFAULT_PARALLELISM: usize = 4;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sub {
    List,
    Plan,
    Apply,
    Destroy,
    Validate,
    Fmt,
    Drift,
}

impl Sub {
    fn parse(s: &str) -> Option<Sub> {
        Some(match s {
            "list" => Sub::List,
            "plan" => Sub::Plan,
            "apply" => Sub::Apply,
            "destroy" => Sub::Destroy,
            "validate" => Sub::Validate,
            "fmt" => Sub::Fmt,
            "drift" => Sub::Drift,
            _ => return None,
        })
    }
    fn name(self) -> &'static str {
        match self {
            Sub::List => "list",
            Sub::Plan => "plan",
            Sub::Apply => "apply",
            Sub::Destroy => "destroy",
            Sub::Validate => "validate",
            Sub::Fmt => "fmt",
            Sub::Drift => "drift",
        }
    }
}

struct Options {
    sub: Sub,
    parallelism: usize,
    changed_since: Option<String>,
    json: bool,
    init: bool,
    progress: bool,
    dir: Option<PathBuf>,
    passthrough: Vec<String>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let Some(sub) = args.first() else {
        return Err("The stacks command needs a subcommand.".into());
    };
    let Some(sub) = Sub::parse(sub) else {
        return Err(format!("Unknown stacks subcommand {sub:?}."));
    };
    let mut o = Options {
        sub,
        parallelism: DEFAULT_PARALLELISM,
        changed_since: None,
        json: false,
        init: false,
        progress: true,
        dir: None,
        passthrough: Vec::new(),
    };
    let mut i = 1;
    while i < args.len() {
        let a = &args[i];
        let body = a.trim_start_matches('-');
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        if !a.starts_with('-') {
            if o.dir.is_some() {
                return Err(format!(
                    "Too many arguments: only one directory can be given (got {a:?})."
                ));
            }
            o.dir = Some(PathBuf::from(a));
            i += 1;
            continue;
        }
        let take_value = |i: &mut usize| -> Result<String, String> {
            match &value {
                Some(v) => Ok(v.clone()),
                None => {
                    *i += 1;
                    args.get(*i)
                        .cloned()
                        .ok_or_else(|| format!("flag needs an argument: -{name}"))
                }
            }
        };
        match name {
            "parallelism" => {
                let v = take_value(&mut i)?;
                o.parallelism =
                    v.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| {
                        format!("-parallelism must be a positive number, not {v:?}.")
                    })?;
            }
            "changed-since" => o.changed_since = Some(take_value(&mut i)?),
            "json" => o.json = value.as_deref().map(|v| v != "false").unwrap_or(true),
            "init" => o.init = value.as_deref().map(|v| v != "false").unwrap_or(true),
            "progress" => o.progress = value.as_deref().map(|v| v != "false").unwrap_or(true),
            "help" | "h" => return Err(String::new()),
            _ => o.passthrough.push(a.clone()),
        }
        i += 1;
    }
    Ok(o)
}

/// Entry point of `terrane stacks`.
pub fn run(args: &[String], ui: &Ui) -> i32 {
    let opts = match parse_options(args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return 0;
        }
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return 1;
        }
    };
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            ui.diagnostics([&Diagnostic::error(
                "Cannot read the working directory",
                e.to_string(),
            )]);
            return 1;
        }
    };
    let scan_given = opts.dir.as_ref().map(|d| discover::normalize(&cwd.join(d)));
    let root = discover::project_root(scan_given.as_deref().unwrap_or(&cwd));
    let root = discover::normalize(&root.canonicalize().unwrap_or(root));
    let scan = scan_given
        .map(|s| s.canonicalize().unwrap_or(s))
        .unwrap_or_else(|| root.clone());
    let stacks = match discover::discover(&root, &scan) {
        Ok(s) => s,
        Err(d) => {
            ui.diagnostics([&d]);
            return 1;
        }
    };
    if stacks.is_empty() {
        ui.diagnostics([&Diagnostic::warning(
            "No stacks found",
            format!(
                "No directory under {} has a backend or provider configuration, and {} lists no stack.",
                scan.display(),
                discover::PROJECT_FILE
            ),
        )]);
    }
    let order = match discover::order(&stacks) {
        Ok(o) => o,
        Err(d) => {
            ui.diagnostics([&d]);
            return 1;
        }
    };
    if stacks.is_empty() && !opts.json {
        return 0;
    }
    if opts.sub == Sub::List {
        return list(&stacks, &order, opts.json);
    }
    let mut selected: BTreeSet<String> = stacks.iter().map(|s| s.name.clone()).collect();
    if let Some(git_ref) = &opts.changed_since {
        let files = match discover::git_changed_files(&root, git_ref) {
            Ok(f) => f,
            Err(d) => {
                ui.diagnostics([&d]);
                return 1;
            }
        };
        let changed = discover::changed_stacks(&stacks, &files);
        selected = if matches!(opts.sub, Sub::Apply | Sub::Destroy) {
            discover::with_dependents(&stacks, &changed)
        } else {
            changed
        };
    }
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            ui.diagnostics([&Diagnostic::error(
                "Cannot find the terrane executable",
                format!("The stacks command runs terrane in each stack, but the path of this program is unknown: {e}"),
            )]);
            return 1;
        }
    };
    let drift_command = opts.sub == Sub::Drift && has_drift_command(&exe);
    let results = execute(&stacks, &order, &selected, &opts, &exe, drift_command);
    report(&stacks, &order, &selected, &results, &opts)
}

fn list(stacks: &[Stack], order: &[usize], json: bool) -> i32 {
    if json {
        let items: Vec<serde_json::Value> = order
            .iter()
            .map(|&i| {
                let s = &stacks[i];
                serde_json::json!({
                    "stack": s.name,
                    "dir": s.dir.display().to_string(),
                    "state": s.state.describe(),
                    "depends_on": s.depends_on.iter().collect::<Vec<_>>(),
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&serde_json::json!({ "stacks": items }))
            .unwrap_or_default();
        let _ = writeln!(std::io::stdout().lock(), "{text}");
        return 0;
    }
    let mut text = String::new();
    for &i in order {
        let s = &stacks[i];
        if s.depends_on.is_empty() {
            text.push_str(&format!("{}\n", s.name));
        } else {
            let deps: Vec<&str> = s.depends_on.iter().map(String::as_str).collect();
            text.push_str(&format!("{} (after {})\n", s.name, deps.join(", ")));
        }
    }
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}

/// Whether this terrane has a `drift` command (else `stacks drift` runs a
/// refresh-only plan with `-detailed-exitcode`).
fn has_drift_command(exe: &Path) -> bool {
    Command::new(exe)
        .args(["drift", "-help"])
        .stdin(Stdio::null())
        .output()
        .map(|o| {
            let text = String::from_utf8_lossy(&o.stderr);
            !text.contains("has no command named")
        })
        .unwrap_or(false)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Ran and succeeded.
    Ok,
    /// `drift`: succeeded and found drift (exit code 2).
    Drift,
    Failed,
    /// Not run because a stack it waits for failed or was skipped.
    Skipped,
}

impl Outcome {
    fn word(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Drift => "drift",
            Outcome::Failed => "failed",
            Outcome::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone)]
struct StackResult {
    outcome: Outcome,
    exit_code: Option<i32>,
    counts: Option<(u64, u64, u64)>,
    duration: Duration,
    /// For a skipped stack: the failed or skipped stack it waited for.
    because: Option<String>,
}

/// The arguments of the child `terrane` for one stack.
fn child_args(opts: &Options, drift_command: bool) -> Vec<String> {
    let mut args: Vec<String> = match opts.sub {
        Sub::Plan => vec!["plan", "-input=false"],
        Sub::Apply => vec!["apply", "-auto-approve", "-input=false"],
        Sub::Destroy => vec!["destroy", "-auto-approve", "-input=false"],
        Sub::Validate => vec!["validate"],
        Sub::Fmt => vec!["fmt"],
        Sub::Drift if drift_command => vec!["drift"],
        Sub::Drift => vec![
            "plan",
            "-refresh-only",
            "-detailed-exitcode",
            "-input=false",
        ],
        Sub::List => vec![],
    }
    .into_iter()
    .map(String::from)
    .collect();
    args.extend(opts.passthrough.iter().cloned());
    args
}

/// Runs the selected stacks: a stack starts once every selected stack it
/// waits for (its dependencies; for destroy, its dependents) succeeded; a
/// failure skips everything that waits for it, transitively.
fn execute(
    stacks: &[Stack],
    order: &[usize],
    selected: &BTreeSet<String>,
    opts: &Options,
    exe: &Path,
    drift_command: bool,
) -> Vec<Option<StackResult>> {
    let n = stacks.len();
    let index = |name: &str| stacks.iter().position(|s| s.name == name);
    let is_selected: Vec<bool> = stacks.iter().map(|s| selected.contains(&s.name)).collect();
    let mut waits_on: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, s) in stacks.iter().enumerate() {
        for d in &s.depends_on {
            if let Some(j) = index(d) {
                if opts.sub == Sub::Destroy {
                    waits_on[j].push(i);
                } else {
                    waits_on[i].push(j);
                }
            }
        }
    }
    // Destroy goes in reverse: the last stack of the order first.
    let sequence: Vec<usize> = if opts.sub == Sub::Destroy {
        order.iter().rev().copied().collect()
    } else {
        order.to_vec()
    };
    // Among the ready stacks, those with the longest chain of stacks
    // waiting behind them start first (critical path first).
    let mut height = vec![1usize; n];
    for &j in sequence.iter().rev() {
        let behind = (0..n)
            .filter(|&i| waits_on[i].contains(&j))
            .map(|i| height[i])
            .max()
            .unwrap_or(0);
        height[j] = 1 + behind;
    }
    let mut sequence = sequence;
    let position: Vec<usize> = {
        let mut p = vec![0; n];
        for (k, &i) in sequence.iter().enumerate() {
            p[i] = k;
        }
        p
    };
    sequence.sort_by_key(|&i| (std::cmp::Reverse(height[i]), position[i]));
    let total = is_selected.iter().filter(|s| **s).count();
    let progress = Progress::new("stacks", total, opts.progress);
    let args = child_args(opts, drift_command);
    let mut results: Vec<Option<StackResult>> = vec![None; n];
    let mut started = vec![false; n];
    let mut running = 0usize;
    let (tx, rx) = mpsc::channel::<(usize, StackResult, String)>();
    loop {
        // Skip what waits on a failure; start what is ready.
        let mut changed = true;
        while changed {
            changed = false;
            for &i in &sequence {
                if !is_selected[i] || started[i] {
                    continue;
                }
                let blocker = waits_on[i].iter().copied().find(|&j| {
                    is_selected[j]
                        && matches!(
                            results[j].as_ref().map(|r| r.outcome),
                            Some(Outcome::Failed | Outcome::Skipped)
                        )
                });
                if let Some(j) = blocker {
                    started[i] = true;
                    results[i] = Some(StackResult {
                        outcome: Outcome::Skipped,
                        exit_code: None,
                        counts: None,
                        duration: Duration::ZERO,
                        because: Some(stacks[j].name.clone()),
                    });
                    progress.skip(&stacks[i].name);
                    changed = true;
                }
            }
        }
        for &i in &sequence {
            if running >= opts.parallelism {
                break;
            }
            if !is_selected[i] || started[i] {
                continue;
            }
            let ready = waits_on[i]
                .iter()
                .all(|&j| !is_selected[j] || results[j].is_some());
            if !ready {
                continue;
            }
            started[i] = true;
            running += 1;
            progress.start(&stacks[i].name);
            let tx = tx.clone();
            let dir = stacks[i].dir.clone();
            let exe = exe.to_path_buf();
            let args = args.clone();
            let init = opts.init;
            let sub = opts.sub;
            std::thread::spawn(move || {
                let (result, text) = run_stack(&exe, &dir, &args, init, sub);
                let _ = tx.send((i, result, text));
            });
        }
        if running == 0 {
            break;
        }
        let Ok((i, result, text)) = rx.recv() else {
            break;
        };
        running -= 1;
        let ok = matches!(result.outcome, Outcome::Ok | Outcome::Drift);
        let header = format!(
            "### {} ({}: {}, {}, {})\n",
            stacks[i].name,
            opts.sub.name(),
            result.outcome.word(),
            match result.exit_code {
                Some(c) => format!("exit {c}"),
                None => "no exit code".to_string(),
            },
            format_duration(result.duration)
        );
        let block = format!(
            "{header}{text}{}\n",
            if text.ends_with('\n') || text.is_empty() {
                ""
            } else {
                "\n"
            }
        );
        if opts.json {
            progress.print_block(&mut std::io::stderr().lock(), &block);
        } else {
            progress.print_block(&mut std::io::stdout().lock(), &block);
        }
        progress.finish(&stacks[i].name, result.outcome.word(), ok);
        results[i] = Some(result);
    }
    progress.done();
    results
}

/// Runs one stack's child process (after `init` when asked).
fn run_stack(
    exe: &Path,
    dir: &Path,
    args: &[String],
    init: bool,
    sub: Sub,
) -> (StackResult, String) {
    let started = Instant::now();
    let mut text = String::new();
    let chdir = format!("-chdir={}", dir.display());
    let run = |args: &[String], text: &mut String| -> Option<i32> {
        let out = Command::new(exe)
            .arg(&chdir)
            .args(args)
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) => {
                text.push_str(&String::from_utf8_lossy(&o.stdout));
                text.push_str(&String::from_utf8_lossy(&o.stderr));
                o.status.code()
            }
            Err(e) => {
                text.push_str(&format!("Error: cannot run {}: {e}\n", exe.display()));
                None
            }
        }
    };
    if init {
        let code = run(
            &[
                "init".to_string(),
                "-input=false".to_string(),
                "-no-color".to_string(),
            ],
            &mut text,
        );
        if code != Some(0) {
            return (
                StackResult {
                    outcome: Outcome::Failed,
                    exit_code: code,
                    counts: None,
                    duration: started.elapsed(),
                    because: None,
                },
                text,
            );
        }
    }
    let code = run(args, &mut text);
    let outcome = match (sub, code) {
        (_, Some(0)) => Outcome::Ok,
        (Sub::Drift, Some(2)) => Outcome::Drift,
        _ => Outcome::Failed,
    };
    let counts = if matches!(sub, Sub::Plan | Sub::Apply | Sub::Destroy | Sub::Drift) {
        change_counts(&text)
    } else {
        None
    };
    (
        StackResult {
            outcome,
            exit_code: code,
            counts,
            duration: started.elapsed(),
            because: None,
        },
        text,
    )
}

/// The add/change/destroy counts of a plan or apply output: "Plan: 1 to
/// add, 0 to change, 2 to destroy.", "Apply complete! Resources: 1
/// added, 0 changed, 0 destroyed.", "Destroy complete! Resources: 3
/// destroyed.", "No changes.".
fn change_counts(text: &str) -> Option<(u64, u64, u64)> {
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        let is_summary = line.starts_with("Plan: ")
            || line.starts_with("Apply complete!")
            || line.starts_with("Destroy complete!");
        if line.starts_with("No changes.") {
            found = Some((0, 0, 0));
            continue;
        }
        if !is_summary {
            continue;
        }
        let words: Vec<&str> = line.split([',', ':', '.', '!']).collect();
        let (mut add, mut change, mut destroy) = (0, 0, 0);
        for part in words {
            let mut it = part.split_whitespace();
            let (Some(num), Some(word)) = (it.next(), it.next()) else {
                continue;
            };
            let Ok(num) = num.parse::<u64>() else {
                continue;
            };
            let what = if word == "to" {
                it.next().unwrap_or("")
            } else {
                word
            };
            match what {
                "add" | "added" => add = num,
                "change" | "changed" => change = num,
                "destroy" | "destroyed" => destroy = num,
                _ => {}
            }
        }
        found = Some((add, change, destroy));
    }
    found
}

fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

/// Prints the summary (table or JSON) and returns the exit code: 1 when
/// any stack failed or was skipped; for drift 2 when any stack drifted.
fn report(
    stacks: &[Stack],
    order: &[usize],
    selected: &BTreeSet<String>,
    results: &[Option<StackResult>],
    opts: &Options,
) -> i32 {
    let sequence: Vec<usize> = if opts.sub == Sub::Destroy {
        order.iter().rev().copied().collect()
    } else {
        order.to_vec()
    };
    let rows: Vec<(usize, &StackResult)> = sequence
        .iter()
        .filter_map(|&i| results[i].as_ref().map(|r| (i, r)))
        .collect();
    let count = |o: Outcome| rows.iter().filter(|(_, r)| r.outcome == o).count();
    let (ok, drift, failed, skipped) = (
        count(Outcome::Ok),
        count(Outcome::Drift),
        count(Outcome::Failed),
        count(Outcome::Skipped),
    );
    let not_selected: Vec<&str> = sequence
        .iter()
        .map(|&i| stacks[i].name.as_str())
        .filter(|n| !selected.contains(*n))
        .collect();
    if opts.json {
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|(i, r)| {
                let mut v = serde_json::json!({
                    "stack": stacks[*i].name,
                    "result": r.outcome.word(),
                    "exit_code": r.exit_code,
                    "duration_seconds": (r.duration.as_secs_f64() * 1000.0).round() / 1000.0,
                });
                if let Some((a, c, d)) = r.counts {
                    v["add"] = a.into();
                    v["change"] = c.into();
                    v["destroy"] = d.into();
                }
                if let Some(b) = &r.because {
                    v["skipped_because"] = b.clone().into();
                }
                v
            })
            .collect();
        let doc = serde_json::json!({
            "command": opts.sub.name(),
            "stacks": items,
            "not_selected": not_selected,
            "summary": {
                "total": rows.len(),
                "ok": ok,
                "drift": drift,
                "failed": failed,
                "skipped": skipped,
            },
        });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    } else {
        let mut out = String::new();
        let width = rows
            .iter()
            .map(|(i, _)| stacks[*i].name.len())
            .max()
            .unwrap_or(5)
            .max(5);
        out.push_str(&format!(
            "{:<width$}  {:<8} {:>5} {:>7} {:>8} {:>9}\n",
            "Stack", "Result", "Add", "Change", "Destroy", "Duration"
        ));
        for (i, r) in &rows {
            let (a, c, d) = match r.counts {
                Some((a, c, d)) => (a.to_string(), c.to_string(), d.to_string()),
                None => ("-".into(), "-".into(), "-".into()),
            };
            let mut line = format!(
                "{:<width$}  {:<8} {:>5} {:>7} {:>8} {:>9}",
                stacks[*i].name,
                r.outcome.word(),
                a,
                c,
                d,
                format_duration(r.duration)
            );
            if let Some(b) = &r.because {
                line.push_str(&format!("  (after {b} failed)"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out.push_str(&format!(
            "\n{} stacks: {ok} ok{}, {failed} failed, {skipped} skipped",
            rows.len(),
            if opts.sub == Sub::Drift {
                format!(", {drift} drifted")
            } else {
                String::new()
            }
        ));
        if !not_selected.is_empty() {
            out.push_str(&format!(
                "; {} unchanged since {} not run",
                not_selected.len(),
                opts.changed_since.as_deref().unwrap_or("")
            ));
        }
        out.push_str(".\n");
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(b"\n");
        let _ = stdout.write_all(out.as_bytes());
        let _ = stdout.flush();
    }
    if failed > 0 || skipped > 0 {
        1
    } else if drift > 0 {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::change_counts;

    #[test]
    fn counts_from_plan_apply_and_destroy_output() {
        assert_eq!(
            change_counts("x\nPlan: 1 to add, 2 to change, 3 to destroy.\n"),
            Some((1, 2, 3))
        );
        assert_eq!(
            change_counts("Apply complete! Resources: 4 added, 0 changed, 1 destroyed.\n"),
            Some((4, 0, 1))
        );
        assert_eq!(
            change_counts("Destroy complete! Resources: 3 destroyed.\n"),
            Some((0, 0, 3))
        );
        assert_eq!(
            change_counts("No changes. Your infrastructure matches the configuration.\n"),
            Some((0, 0, 0))
        );
        assert_eq!(change_counts("Error: boom\n"), None);
    }
}
