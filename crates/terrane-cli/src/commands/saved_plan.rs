//! Saved plans: `plan -out=FILE` writes one, `apply FILE` carries it out
//! exactly (no prompt, no re-plan of the configuration as edited since),
//! `show FILE` reads it.

use crate::cli::Flags;
use crate::ui::Ui;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;
use terrane_core::engine::Engine;
use terrane_core::plan::Plan;
use terrane_core::planfile::{self, PlanFile, SavedOptions};
use terrane_core::walk::{ApplyEvent, PlanOptions};
use terrane_hcl::Diagnostic;
use terrane_state::journal::Journal;
use terrane_state::StateFile;
use terrane_value::Value;

const LOCK_FILE: &str = ".terraform.lock.hcl";

/// Writes the plan to `out` and returns the text Terraform prints after the
/// plan ("Saved the plan to: ...").
pub fn save(
    out: &Path,
    plan: &Plan,
    tree: &terrane_config::ModuleTree,
    variables: &BTreeMap<String, Value>,
    prior: Option<&StateFile>,
    opts: &PlanOptions,
    targets: Vec<String>,
) -> Result<(), Diagnostic> {
    let pf = PlanFile {
        plan: plan.clone(),
        terrane_version: crate::cli::VERSION.to_string(),
        config_files: planfile::config_snapshot(tree, Path::new(".")),
        variables: variables.clone(),
        prior_lineage: prior.map(|s| s.lineage.clone()),
        prior_serial: prior.map(|s| s.serial),
        lock_file: std::fs::read_to_string(LOCK_FILE).ok(),
        options: SavedOptions {
            destroy: opts.destroy,
            refresh_only: opts.refresh_only,
            targets: if targets.is_empty() {
                opts.targets.iter().map(target_text).collect()
            } else {
                targets
            },
            replace: opts.replace.clone(),
        },
    };
    planfile::write(out, &pf).map_err(|e| {
        Diagnostic::error(
            "Failed to write plan file",
            format!("The plan file could not be written: {e}."),
        )
    })
}

/// A `-target` address as written.
fn target_text(t: &terrane_core::addrs::TargetAddr) -> String {
    let mut out = t.module.to_string();
    if let Some((mode, ty, name, key)) = &t.resource {
        if !out.is_empty() {
            out.push('.');
        }
        if *mode == terrane_config::ResourceMode::Data {
            out.push_str("data.");
        }
        out.push_str(&format!("{ty}.{name}"));
        if let Some(k) = key {
            out.push_str(&k.to_string());
        }
    }
    out
}

/// The lines after a plan saved with `-out`.
pub fn saved_footer(out: &str, color: bool) -> String {
    let rule = "─".repeat(77);
    let rule = if color {
        format!("\x1b[90m\n{rule}\x1b[0m\n")
    } else {
        format!("\n{rule}\n")
    };
    format!(
        "{rule}\nSaved the plan to: {out}\n\nTo perform exactly these actions, run the following command to apply:\n    terraform apply {}\n",
        go_quote(out)
    )
}

/// Go's `%q` for the simple cases a file name has.
fn go_quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

fn stale() -> Diagnostic {
    Diagnostic::error(
        "Saved plan is stale",
        "The given plan file can no longer be applied because the state was changed by another operation after the plan was created.",
    )
}

/// Whether the state changed since the plan was made. Like Terraform
/// 1.0.3, a plan made without any prior state is not checked.
pub fn is_stale(pf: &PlanFile, current: Option<&StateFile>) -> bool {
    match (&pf.prior_lineage, current) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(lineage), Some(s)) => *lineage != s.lineage || pf.prior_serial != Some(s.serial),
    }
}

/// Reads a plan file with the working directory's providers.
pub fn load(path: &str, ui: &Ui) -> Result<(PlanFile, crate::provider_factory::Factory), i32> {
    let factory = match crate::provider_factory::Selections::for_working_dir(Path::new(".")) {
        Ok(sel) => crate::provider_factory::Factory::new(sel),
        Err(d) => {
            ui.diagnostics(d.iter());
            return Err(1);
        }
    };
    match planfile::read(Path::new(path), &factory) {
        Ok(pf) => Ok((pf, factory)),
        Err(e) => {
            ui.diagnostics([&Diagnostic::error(
                format!("Failed to load {} as a plan file", go_quote(path)),
                format!("Error: {e}"),
            )]);
            Err(1)
        }
    }
}

/// Loads the configuration snapshot of a plan file: written to a private
/// temporary directory, loaded from there (file names stay relative, as
/// in the working directory), then module directories pointed back at the
/// working directory so `path.module` and `file()` behave as at plan time.
pub fn snapshot_tree(
    pf: &PlanFile,
) -> Result<terrane_config::ModuleTree, terrane_hcl::Diagnostics> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let tmp = std::env::temp_dir().join(format!("terrane-plan-{}-{nanos}", std::process::id()));
    let fail = |e: String| {
        terrane_hcl::Diagnostics::from(Diagnostic::error(
            "Failed to read the plan's configuration",
            format!("The configuration snapshot in the plan file could not be unpacked: {e}."),
        ))
    };
    if let Err(e) = std::fs::create_dir_all(&tmp) {
        return Err(fail(e.to_string()));
    }
    let result = planfile::restore_config(&pf.config_files, &tmp)
        .map_err(fail)
        .map(|_| terrane_config::load_tree(&tmp));
    let _ = std::fs::remove_dir_all(&tmp);
    let (mut tree, diags) = result?;
    if diags.has_errors() {
        return Err(diags);
    }
    repoint_dirs(&mut tree, &tmp);
    Ok(tree)
}

fn repoint_dirs(t: &mut terrane_config::ModuleTree, tmp: &Path) {
    if let Ok(rel) = t.module.dir.strip_prefix(tmp) {
        t.module.dir = if rel.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            rel.to_path_buf()
        };
    }
    for c in t.children.values_mut() {
        repoint_dirs(c, tmp);
    }
}

/// `apply FILE`: returns None when the first argument is not a file (a
/// normal apply), else runs the saved plan and returns the exit code.
pub fn apply_saved(args: &[String], ui: &Ui) -> Option<i32> {
    let known = [
        "var",
        "var-file",
        "auto-approve",
        "refresh",
        "refresh-only",
        "destroy",
        "lock",
        "lock-timeout",
        "input",
        "no-color",
        "state",
        "state-out",
        "backup",
        "parallelism",
        "replace",
        "target",
        "compact-warnings",
        "notify",
    ];
    let takes = [
        "var",
        "var-file",
        "state",
        "state-out",
        "backup",
        "replace",
        "target",
        "parallelism",
        "lock-timeout",
        "notify",
    ];
    let flags = Flags::parse(args, &known, &takes).ok()?;
    let file = flags.positional.first()?.clone();
    if Path::new(&file).is_dir() {
        return None;
    }
    if flags.has("var") || flags.has("var-file") {
        ui.diagnostics([&Diagnostic::error(
            "Can't set variables when applying a saved plan",
            "The -var and -var-file options cannot be used when applying a saved plan file, because a saved plan includes the variable values that were set when it was created.",
        )]);
        return Some(1);
    }
    // `-notify` (crate::notify): sent once the apply is done.
    let targets: Vec<String> = flags
        .values()
        .iter()
        .filter(|(n, _)| n == "notify")
        .filter_map(|(_, v)| v.clone())
        .collect();
    let notify = match crate::notify::Recorder::new(&targets, "apply") {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return Some(1);
        }
    };
    let code = run_saved(&file, &flags, ui, &notify);
    notify.send(code, ui);
    Some(code)
}

fn run_saved(file: &str, flags: &Flags, ui: &Ui, notify: &crate::notify::Recorder) -> i32 {
    let parallelism = match super::run::parallelism_flag(flags.value("parallelism")) {
        Ok(n) => n,
        Err(e) if e.starts_with(super::run::INVALID_PARALLELISM) => {
            ui.diagnostics([&terrane_hcl::Diagnostic::error(
                "Invalid parallelism value",
                e,
            )]);
            return 1;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let lock = match flags.bool("lock", true) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let (pf, factory) = match load(file, ui) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let tree = match snapshot_tree(&pf) {
        Ok(t) => t,
        Err(d) => {
            ui.diagnostics(d.iter());
            return 1;
        }
    };
    // The state through the active backend (or -state).
    let Some(location) = super::statefile::locate(flags.value("state").map(PathBuf::from), ui)
    else {
        return 1;
    };
    let Some(mut local) =
        super::statefile::manager(&location, None, terrane_state::Backup::Default, ui)
    else {
        return 1;
    };
    let lock = super::statefile::LockOptions {
        lock,
        timeout: std::time::Duration::ZERO,
    };
    let Ok(lock_id) = super::statefile::take_lock(local.as_mut(), &lock, "OperationTypeApply", ui)
    else {
        return 1;
    };
    notify.planned(&pf.plan, &[], &tree, None, &pf.variables);
    let code = apply_locked(
        local.as_mut(),
        &location,
        &pf,
        &tree,
        &factory,
        parallelism,
        ui,
    );
    if code == 0 {
        let plan = &pf.plan;
        let (add, change, destroy) = if plan.has_changes() && !plan.refresh_only {
            plan.counts()
        } else {
            (0, 0, 0)
        };
        notify.succeeded(&super::import::summary_with_imports(
            crate::planfmt::apply_summary(plan.destroy, add, change, destroy, false),
            plan.imports.len(),
        ));
    }
    if let Some(id) = lock_id {
        if let Err(e) = local.unlock(&id) {
            eprintln!("Error releasing the state lock: {e}");
        }
    }
    code
}

fn apply_locked(
    local: &mut dyn terrane_state::StateMgr,
    location: &super::statefile::StateLocation,
    pf: &PlanFile,
    tree: &terrane_config::ModuleTree,
    factory: &crate::provider_factory::Factory,
    parallelism: usize,
    ui: &Ui,
) -> i32 {
    if let Err(e) = local.refresh() {
        ui.diagnostics([&Diagnostic::error("Failed to load state", e.to_string())]);
        return 1;
    }
    let anchor = location.journal_anchor();
    if let Some(dir) = anchor.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Remote state keeps its journal in the data directory.
        let _ = std::fs::create_dir_all(dir);
    }
    let mut journal = match Journal::open(&anchor) {
        Ok(j) => j,
        Err(e) => {
            ui.diagnostics([&Diagnostic::error(
                "Failed to open the state journal",
                e.to_string(),
            )]);
            return 1;
        }
    };
    if !journal.changes().is_empty() {
        // An interrupted apply changed the state after the plan was made.
        ui.diagnostics([&stale()]);
        return 1;
    }
    if is_stale(pf, local.state()) {
        ui.diagnostics([&stale()]);
        return 1;
    }
    let engine = Engine {
        tree,
        factory,
        root_vars: pf.variables.clone(),
        prior_state: local.state().map(|s| s.state.clone()),
    };
    let plan_opts = PlanOptions {
        refresh: true,
        destroy: pf.options.destroy,
        refresh_only: pf.options.refresh_only,
        replace: pf.options.replace.clone(),
        targets: pf
            .options
            .targets
            .iter()
            .filter_map(|t| terrane_core::addrs::TargetAddr::parse(t).ok())
            .collect(),
        workspace: super::statefile::current_workspace(),
        parallelism,
        interrupt: Some(terrane_core::interrupt::install()),
        import_events: super::import::ui_events(ui),
        ..Default::default()
    };
    let color = ui.color;
    let in_flight: std::sync::Arc<super::run::InFlight> = Default::default();
    let flight = in_flight.clone();
    let json_view = ui.json.clone();
    // The resources-in-flight line on a terminal (terrane only).
    let status_line = crate::progress::ApplyProgress::default();
    let status = status_line.clone();
    let events: Mutex<Box<dyn FnMut(ApplyEvent) + Send>> =
        Mutex::new(Box::new(move |e: ApplyEvent| {
            let mut flying = flight.lock().unwrap_or_else(|p| p.into_inner());
            match &e {
                ApplyEvent::Start { addr, action, id } => {
                    flying.insert(addr.to_string(), (*action, id.clone(), Instant::now(), 1));
                }
                ApplyEvent::Done { addr, .. } | ApplyEvent::Failed { addr, .. } => {
                    flying.remove(&addr.to_string());
                }
                ApplyEvent::Refresh { .. } => {}
            }
            if let Some(view) = &json_view {
                view.event(&e);
                return;
            }
            // The line is written first, then the status updated, so the
            // status line is drawn once per event.
            status.print(&crate::planfmt::apply_event(&e, color));
            match &e {
                ApplyEvent::Start { addr, .. } => status.start(&addr.to_string()),
                ApplyEvent::Done { addr, .. } => status.finish(&addr.to_string(), true),
                ApplyEvent::Failed { addr, .. } => status.finish(&addr.to_string(), false),
                ApplyEvent::Refresh { .. } => {}
            }
        }));
    let events_ref: &Mutex<dyn FnMut(ApplyEvent) + Send> = &events;
    if let Err(e) = journal.start(local.state()) {
        ui.diagnostics([&Diagnostic::error(
            "Failed to start the state journal",
            e.to_string(),
        )]);
        return 1;
    }
    if let Some(view) = &ui.json {
        view.planned_changes(&pf.plan);
    }
    let stop_ticker = std::sync::atomic::AtomicBool::new(false);
    let (new_state, mut diags, journal) = std::thread::scope(|s| {
        match &ui.json {
            Some(view) => s.spawn(|| view.progress_ticker(&stop_ticker)),
            None => s.spawn(|| {
                super::run::progress_ticker(&in_flight, &stop_ticker, color, &status_line)
            }),
        };
        let (add, change, destroy) = pf.plan.counts();
        status_line.begin(
            add + change + destroy,
            crate::progress::ApplyProgress::wanted(ui.json.is_some()),
        );
        let r = engine.apply(&pf.plan, &plan_opts, Some(journal), events_ref);
        status_line.end();
        stop_ticker.store(true, std::sync::atomic::Ordering::SeqCst);
        r
    });
    match local.write(&new_state) {
        Ok(_) => {
            if let Some(j) = journal {
                let _ = j.remove();
            }
        }
        Err(e) => {
            diags.push(Diagnostic::error(
                "Failed to save state",
                format!("Error saving state: {e}"),
            ));
            if let super::statefile::StateLocation::Remote { .. } = location {
                diags.push(super::statefile::save_errored_state(
                    &new_state,
                    local.state(),
                ));
                if let Some(j) = journal {
                    let _ = j.remove();
                }
            }
        }
    }
    if diags.has_errors() {
        ui.diagnostics(diags.iter());
        return 1;
    }
    ui.diagnostics(diags.iter());
    let plan = &pf.plan;
    let (add, change, destroy) = if plan.has_changes() && !plan.refresh_only {
        plan.counts()
    } else {
        (0, 0, 0)
    };
    if let Some(view) = &ui.json {
        let operation = if plan.destroy { "destroy" } else { "apply" };
        view.summary_with_imports(operation, plan.imports.len(), add, change, destroy);
        if !plan.destroy {
            view.outputs(&new_state);
        }
        return 0;
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(
        super::import::summary_with_imports(
            crate::planfmt::apply_summary(plan.destroy, add, change, destroy, color),
            plan.imports.len(),
        )
        .as_bytes(),
    );
    if !plan.destroy {
        let _ = out.write_all(crate::planfmt::outputs_text(&new_state, color).as_bytes());
    }
    0
}
