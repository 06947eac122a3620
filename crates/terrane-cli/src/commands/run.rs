//! `plan`, `apply` and `destroy`: load the configuration and variables,
//! lock and read the local state (folding any journal a crash left),
//! plan, and apply with the state journaled as each change lands.

use crate::cli::Flags;
use crate::ui::Ui;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;
use terrane_core::engine::Engine;

use terrane_core::walk::{ApplyEvent, PlanOptions};
use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_lang::varvalues::{self, Missing, VarArg};
use terrane_state::journal::Journal;
use terrane_state::StateMgr;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Plan,
    Apply,
    Destroy,
    /// `refresh`: an auto-approved `apply -refresh-only`.
    Refresh,
}

struct Options {
    vars: Vec<VarArg>,
    /// `-out=FILE`: save the plan (`saved_plan.rs`).
    out: Option<String>,
    auto_approve: bool,
    refresh: bool,
    refresh_only: bool,
    destroy: bool,
    lock: bool,
    input: bool,
    detailed_exitcode: bool,
    /// `-state=PATH`; else the active backend's state.
    state_path: Option<PathBuf>,
    /// `-state-out=PATH`: write the new state there instead.
    state_out: Option<PathBuf>,
    /// `-backup=PATH` (`-` for none).
    backup: terrane_state::Backup,
    /// `-lock-timeout=DURATION`.
    lock_timeout: std::time::Duration,
    replace: Vec<String>,
    /// `-target=ADDR`, as given.
    targets: Vec<String>,
    parallelism: usize,
    /// `plan -generate-config-out=PATH` (`import.rs`).
    generate_config_out: Option<PathBuf>,
    /// `-notify=TARGET` or `terrane.hcl`'s targets (`crate::notify`).
    notify: crate::notify::Recorder,
}

fn parse(args: &[String], cmd: Command) -> Result<Options, String> {
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
        "detailed-exitcode",
        "state",
        "state-out",
        "backup",
        "parallelism",
        "replace",
        "target",
        "compact-warnings",
        "out",
        "generate-config-out",
        "notify",
    ];
    let flags = Flags::parse(
        args,
        &known,
        &[
            "var",
            "var-file",
            "state",
            "state-out",
            "backup",
            "replace",
            "target",
            "out",
            "parallelism",
            "lock-timeout",
            "generate-config-out",
            "notify",
        ],
    )?;
    let mut vars = Vec::new();
    let mut replace = Vec::new();
    let mut targets = Vec::new();
    let mut notify = Vec::new();
    for (name, value) in flags.values() {
        match (name.as_str(), value) {
            ("notify", Some(v)) => notify.push(v.clone()),
            ("var", Some(v)) => vars.push(VarArg::Var(v.clone())),
            ("var-file", Some(v)) => vars.push(VarArg::File(v.clone())),
            ("replace", Some(v)) => replace.push(v.clone()),
            ("target", Some(v)) => targets.push(v.clone()),
            _ => {}
        }
    }
    let refresh_only = cmd == Command::Refresh || flags.bool("refresh-only", false)?;
    let refresh = flags.bool("refresh", true)?;
    if refresh_only && !refresh {
        return Err(INCOMPATIBLE_REFRESH.into());
    }
    let command_name = match cmd {
        Command::Plan => "plan",
        Command::Apply => "apply",
        Command::Destroy => "destroy",
        Command::Refresh => "refresh",
    };
    Ok(Options {
        notify: crate::notify::Recorder::new(&notify, command_name)?,
        generate_config_out: flags
            .value("generate-config-out")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
        vars,
        out: flags.value("out").map(str::to_string),
        auto_approve: cmd == Command::Refresh || flags.bool("auto-approve", false)?,
        refresh,
        refresh_only,
        destroy: cmd == Command::Destroy || flags.bool("destroy", false)?,
        lock: flags.bool("lock", true)?,
        input: flags.bool("input", true)?,
        detailed_exitcode: flags.bool("detailed-exitcode", false)?,
        state_path: flags.value("state").map(PathBuf::from),
        state_out: flags
            .value("state-out")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
        backup: match flags.value("backup") {
            Some("-") => terrane_state::Backup::Disabled,
            Some(p) if !p.is_empty() => terrane_state::Backup::Path(PathBuf::from(p)),
            _ => terrane_state::Backup::Default,
        },
        lock_timeout: match flags.value("lock-timeout") {
            None => std::time::Duration::ZERO,
            Some(v) => super::statefile::parse_duration(v).ok_or_else(|| {
                format!("invalid value {v:?} for flag -lock-timeout: invalid duration")
            })?,
        },
        replace,
        targets,
        parallelism: parallelism_flag(flags.value("parallelism"))?,
    })
}

/// The detail of Terraform's "Invalid parallelism value" error (the
/// value and a full stop follow).
pub(super) const INVALID_PARALLELISM: &str = "The parallelism must be a positive value. Not ";

/// `-parallelism=N`: as Terraform 1.0.3, 0 means the default and a
/// negative number is the "Invalid parallelism value" error (an `Err`
/// starting with [`INVALID_PARALLELISM`]).
pub(super) fn parallelism_flag(value: Option<&str>) -> Result<usize, String> {
    let Some(v) = value else {
        return Ok(terrane_core::walk::DEFAULT_PARALLELISM);
    };
    match v.parse::<i64>() {
        Ok(0) => Ok(terrane_core::walk::DEFAULT_PARALLELISM),
        Ok(n) if n < 0 => Err(format!("{INVALID_PARALLELISM}{n}.")),
        Ok(n) => Ok(usize::try_from(n).unwrap_or(usize::MAX)),
        Err(_) => Err(format!(
            "invalid value {v:?} for flag -parallelism: parse error"
        )),
    }
}

/// The parse error for `-refresh-only` with `-refresh=false`.
const INCOMPATIBLE_REFRESH: &str = "It doesn't make sense to use -refresh-only at the same time as -refresh=false, because Terraform would have nothing to do.";

pub fn run(args: &[String], ui: &Ui, cmd: Command) -> i32 {
    // `-json`: Terraform's machine-readable UI (`jsonview.rs`) instead of text.
    let json_ui;
    let needs_approval = matches!(cmd, Command::Apply | Command::Destroy);
    let (args, ui) = match crate::jsonview::take_json_flag(args, ui, needs_approval) {
        crate::jsonview::JsonArgs::Text => (args.to_vec(), ui),
        crate::jsonview::JsonArgs::Json(rest, view_ui) => {
            json_ui = view_ui;
            (rest, &json_ui)
        }
        crate::jsonview::JsonArgs::Refused => return 1,
    };
    let args = &args[..];
    // `apply FILE` carries out a saved plan instead.
    if cmd == Command::Apply {
        if let Some(code) = super::saved_plan::apply_saved(args, ui) {
            return code;
        }
    }
    let opts = match parse(args, cmd) {
        Ok(o) => o,
        Err(e) if e == INCOMPATIBLE_REFRESH => {
            ui.diagnostics([&Diagnostic::error("Incompatible refresh options", e)]);
            return 1;
        }
        Err(e) if e.starts_with(INVALID_PARALLELISM) => {
            ui.diagnostics([&Diagnostic::error("Invalid parallelism value", e)]);
            return 1;
        }
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let code = run_parsed(&opts, ui, cmd);
    // Notifications never change the exit code (docs/terrane-hcl.md).
    opts.notify.send(code, ui);
    code
}

fn run_parsed(opts: &Options, ui: &Ui, cmd: Command) -> i32 {
    let dir = Path::new(".");
    let (mut tree, mut diags) = terrane_config::load_tree(dir);
    // A remote module that init has not installed would silently plan as empty.
    diags.extend(terrane_install::modules::check_installed(dir, &tree));
    if !diags.has_errors() {
        diags.extend(terrane_config::validate::validate_tree(&tree));
    }
    if diags.has_errors() {
        opts.notify.failed(&diags);
        ui.diagnostics(diags.iter());
        return 1;
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let (given, d) = varvalues::collect(
        dir,
        &cwd,
        &opts.vars,
        &varvalues::process_env(),
        &tree.module.variables,
    );
    diags.extend(d);
    let (root_vars, d) = varvalues::finalize(&tree.module, &given, Missing::Error);
    diags.extend(d);
    if diags.has_errors() {
        opts.notify.failed(&diags);
        ui.diagnostics(diags.iter());
        return 1;
    }
    if let (Command::Plan, Some(path)) = (cmd, &opts.generate_config_out) {
        match super::import::generate_config(&tree, &root_vars, path, &mut diags, ui) {
            Err(code) => return code,
            Ok(false) => {}
            Ok(true) => {
                let (t, d) = terrane_config::load_tree(dir);
                if d.has_errors() {
                    ui.diagnostics(d.iter());
                    return 1;
                }
                tree = t;
            }
        }
    }

    let Some(location) = super::statefile::locate_with(
        opts.state_path.clone(),
        Some(tree.module.terraform.backend.as_ref()),
        ui,
    ) else {
        return 1;
    };
    let Some(mut mgr) =
        super::statefile::manager(&location, opts.state_out.clone(), opts.backup.clone(), ui)
    else {
        return 1;
    };
    let operation = match cmd {
        Command::Plan => "OperationTypePlan",
        Command::Refresh => "OperationTypeRefresh",
        _ => "OperationTypeApply",
    };
    let lock = super::statefile::LockOptions {
        lock: opts.lock,
        timeout: opts.lock_timeout,
    };
    let Ok(lock_id) = super::statefile::take_lock(mgr.as_mut(), &lock, operation, ui) else {
        return 1;
    };
    let code = with_lock(
        mgr.as_mut(),
        &location,
        ui,
        &tree,
        root_vars,
        opts,
        cmd,
        diags,
    );
    if let Some(id) = lock_id {
        if let Err(e) = mgr.unlock(&id) {
            eprintln!("Error releasing the state lock: {e}");
        }
    }
    code
}

#[allow(clippy::too_many_arguments)]
fn with_lock(
    local: &mut dyn StateMgr,
    location: &super::statefile::StateLocation,
    ui: &Ui,
    tree: &terrane_config::ModuleTree,
    root_vars: BTreeMap<String, terrane_value::Value>,
    opts: &Options,
    cmd: Command,
    mut diags: Diagnostics,
) -> i32 {
    if let Err(e) = local.refresh() {
        ui.diagnostics([&Diagnostic::error("Failed to load state", e.to_string())]);
        return 1;
    }
    // A journal left by an interrupted apply holds changes that happened
    // after the state file was last written: fold them in first.
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
    if !journal.changes().is_empty() && cmd != Command::Plan {
        if let Err(e) = journal.fold(local) {
            ui.diagnostics([&Diagnostic::error(
                "Failed to recover the state journal",
                e.to_string(),
            )]);
            return 1;
        }
    }
    let mut prior = local.state().map(|s| s.state.clone());
    // `moved` blocks rewrite the prior state's addresses before planning.
    let mut moves = Vec::new();
    if let Some(state) = prior.as_mut() {
        match terrane_core::moved::apply_moved(tree, state) {
            Ok(m) => moves = m,
            Err(d) => {
                ui.diagnostics(d.iter());
                return 1;
            }
        }
    }
    // `removed` blocks are checked before planning; their forgotten
    // instances are taken out of the plan's deletions after it.
    let removed = match terrane_core::removed::statements(tree) {
        Ok(s) => s,
        Err(d) => {
            ui.diagnostics(d.iter());
            return 1;
        }
    };
    let factory = match crate::provider_factory::Selections::for_working_dir(Path::new(".")) {
        Ok(sel) => crate::provider_factory::Factory::new(sel),
        Err(d) => {
            ui.diagnostics(d.iter());
            return 1;
        }
    };
    let preflight = factory.preflight(tree);
    if preflight.has_errors() {
        ui.diagnostics(preflight.iter());
        return 1;
    }
    if let Some(w) = factory.dev_overrides_warning() {
        ui.diagnostics_to(&mut std::io::stdout().lock(), [&w]);
    }
    let engine = Engine {
        tree,
        factory: &factory,
        root_vars,
        prior_state: prior,
    };
    let mut targets = Vec::new();
    for t in &opts.targets {
        match terrane_core::addrs::TargetAddr::parse(t) {
            Ok(a) => targets.push(a),
            Err(detail) => {
                ui.diagnostics([&Diagnostic::error(
                    "Invalid target address",
                    format!("{t:?}: {detail}"),
                )]);
                return 1;
            }
        }
    }
    if !targets.is_empty() {
        diags.push(Diagnostic::warning(
            "Resource targeting is in effect",
            TARGET_PLAN_NOTE,
        ));
    }
    let plan_opts = PlanOptions {
        refresh: opts.refresh,
        destroy: opts.destroy,
        refresh_only: opts.refresh_only,
        replace: opts.replace.clone(),
        targets,
        workspace: super::statefile::current_workspace(),
        parallelism: opts.parallelism,
        // Ctrl-C (SIGINT) and SIGTERM: stop gracefully, then hard on a
        // second signal.
        interrupt: Some(terrane_core::interrupt::install()),
        import_events: super::import::ui_events(ui),
        ..Default::default()
    };
    let color = ui.color;
    // Operations in flight, for the "Still creating..." lines.
    let in_flight: std::sync::Arc<InFlight> = Default::default();
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
    let (mut plan, d) = engine.plan(&plan_opts, Some(events_ref));
    diags.extend(d);
    terrane_core::removed::forget(&removed, &mut plan);
    if let Some(w) = terrane_core::removed::forget_warning(&plan) {
        diags.push(w);
    }
    if diags.has_errors() {
        opts.notify.failed(&diags);
        ui.diagnostics(diags.iter());
        return 1;
    }
    opts.notify
        .planned(&plan, &moves, tree, local.state(), &engine.root_vars);
    let mut out = std::io::stdout().lock();
    if let Some(view) = &ui.json {
        if cmd != Command::Refresh {
            view.plan(&plan);
        }
    } else if cmd != Command::Refresh {
        let text = crate::planfmt::plan_text(&plan, ui.color);
        let text = terrane_core::moved::render_with_moves(
            &plan,
            &moves,
            text,
            &terrane_core::render::RenderOptions { color: ui.color },
        );
        let _ = out.write_all(text.as_bytes());
    }
    ui.diagnostics(diags.iter());
    // Moved objects make a plan worth applying (Terraform 1.1+).
    let changes = plan.has_changes() || !moves.is_empty();
    if cmd == Command::Plan {
        // A refresh-only plan can always be applied (to record the refresh).
        if let Some(path) = &opts.out {
            let saved = super::saved_plan::save(
                Path::new(path),
                &plan,
                tree,
                &engine.root_vars,
                local.state(),
                &plan_opts,
                Vec::new(),
            );
            if let Err(d) = saved {
                ui.diagnostics([&d]);
                return 1;
            }
            // TF_IN_AUTOMATION leaves out the "next steps" hints.
            if (changes || plan.refresh_only) && ui.json.is_none() && !crate::cli::in_automation() {
                let footer = super::saved_plan::saved_footer(path, ui.color);
                let _ = out.write_all(footer.as_bytes());
            }
        } else if (changes || plan.refresh_only)
            && ui.json.is_none()
            && !crate::cli::in_automation()
        {
            let _ = out.write_all(crate::planfmt::no_out_footer(ui.color).as_bytes());
        }
        return if opts.detailed_exitcode && changes {
            2
        } else {
            0
        };
    }
    drop(out);
    // Without changes there is nothing to approve, but apply still runs:
    // it records what refreshing found and the outputs.
    if changes && !opts.auto_approve {
        if !opts.input {
            ui.diagnostics([&Diagnostic::error(
                "No approval",
                "Apply requires -auto-approve when input is disabled (-input=false).",
            )]);
            return 1;
        }
        if !confirm(opts.destroy, ui.color) {
            print!("\n{}", crate::planfmt::cancelled(opts.destroy));
            return 1;
        }
        println!();
    }
    if let Err(e) = journal.start(local.state()) {
        ui.diagnostics([&Diagnostic::error(
            "Failed to start the state journal",
            e.to_string(),
        )]);
        return 1;
    }
    let stop_ticker = std::sync::atomic::AtomicBool::new(false);
    let (new_state, d, journal) = std::thread::scope(|s| {
        match &ui.json {
            Some(view) => s.spawn(|| view.progress_ticker(&stop_ticker)),
            None => s.spawn(|| progress_ticker(&in_flight, &stop_ticker, color, &status_line)),
        };
        let (add, change, destroy) = plan.counts();
        status_line.begin(
            add + change + destroy,
            crate::progress::ApplyProgress::wanted(ui.json.is_some()),
        );
        let r = engine.apply(&plan, &plan_opts, Some(journal), events_ref);
        status_line.end();
        stop_ticker.store(true, std::sync::atomic::Ordering::SeqCst);
        r
    });
    let mut d = d;
    if !plan_opts.targets.is_empty() {
        d.push(Diagnostic::warning(
            "Applied changes may be incomplete",
            TARGET_APPLY_NOTE,
        ));
    }
    // Warnings of the apply itself are shown before the summary.
    let apply_warnings: Vec<Diagnostic> = d.iter().filter(|x| !x.is_error()).cloned().collect();
    diags.extend(d);
    let write = local.write(&new_state);
    match write {
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
                // The state is safe in errored.tfstate: a later fold of
                // the journal over the old remote state would fork it.
                if let Some(j) = journal {
                    let _ = j.remove();
                }
            }
        }
    }
    if diags.has_errors() {
        opts.notify.failed(&diags);
        ui.diagnostics(diags.iter());
        return 1;
    }
    if !apply_warnings.is_empty() {
        ui.diagnostics(apply_warnings.iter());
    }
    let (add, change, destroy) = if changes && !plan.refresh_only {
        plan.counts()
    } else {
        (0, 0, 0)
    };
    opts.notify.succeeded(&super::import::summary_with_imports(
        crate::planfmt::apply_summary(opts.destroy, add, change, destroy, false),
        plan.imports.len(),
    ));
    if let Some(view) = &ui.json {
        let operation = if opts.destroy { "destroy" } else { "apply" };
        if cmd != Command::Refresh {
            view.summary_with_imports(operation, plan.imports.len(), add, change, destroy);
        }
        if !opts.destroy {
            view.outputs(&new_state);
        }
        return 0;
    }
    let mut out = std::io::stdout().lock();
    if cmd != Command::Refresh {
        let _ = out.write_all(
            super::import::summary_with_imports(
                crate::planfmt::apply_summary(opts.destroy, add, change, destroy, ui.color),
                plan.imports.len(),
            )
            .as_bytes(),
        );
        if let Some(path) = opts
            .state_out
            .as_ref()
            .filter(|_| add + change + destroy > 0)
        {
            let _ = write!(out, "{}", state_path_note(path));
        }
    }
    if !opts.destroy {
        let _ = out.write_all(crate::planfmt::outputs_text(&new_state, ui.color).as_bytes());
    }
    0
}

/// What Terraform prints after an apply that changed something when
/// `-state-out` names where the state went.
fn state_path_note(path: &Path) -> String {
    format!(
        "\nThe state of your infrastructure has been saved to the path below. This state\nis required to modify and destroy your infrastructure, so keep it safe. To\ninspect the complete state use the `terraform show` command.\n\nState path: {}\n",
        path.display()
    )
}

/// The warning of a plan with `-target` (Terraform's words).
const TARGET_PLAN_NOTE: &str = "You are creating a plan with the -target option, which means that the result of this plan may not represent all of the changes requested by the current configuration.\n\t\t\nThe -target option is not for routine use, and is provided only for exceptional situations such as recovering from errors or mistakes, or when Terraform specifically suggests to use it as part of an error message.";

/// The warning after an apply with `-target`.
const TARGET_APPLY_NOTE: &str = "The plan was created with the -target option in effect, so some changes requested in the configuration may have been ignored and the output values may not be fully updated. Run the following command to verify that no other changes are pending:\n    terraform plan\n\t\nNote that the -target option is not suitable for routine use, and is provided only for exceptional situations such as recovering from errors or mistakes, or when Terraform specifically suggests to use it as part of an error message.";

/// Operations in flight: address → (action, prior id, start, next tick
/// number).
pub(crate) type InFlight =
    Mutex<BTreeMap<String, (terrane_core::plan::Action, Option<String>, Instant, u64)>>;

/// Every 10 s of an operation: `ADDR: Still creating... [10s elapsed]`,
/// as Terraform prints them, until `stop`.
pub(crate) fn progress_ticker(
    in_flight: &InFlight,
    stop: &std::sync::atomic::AtomicBool,
    color: bool,
    status_line: &crate::progress::ApplyProgress,
) {
    const EVERY: u64 = 10;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let mut flying = in_flight.lock().unwrap_or_else(|p| p.into_inner());
        for (addr, (action, id, started, tick)) in flying.iter_mut() {
            if started.elapsed().as_secs() >= *tick * EVERY {
                status_line.print(&crate::planfmt::progress(
                    addr,
                    *action,
                    id.as_deref(),
                    *tick * EVERY,
                    color,
                ));
                *tick += 1;
            }
        }
    }
}

/// Asks for "yes" on standard input.
fn confirm(destroy: bool, color: bool) -> bool {
    print!("{}", crate::planfmt::prompt(destroy, color));
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    line.trim() == "yes"
}
