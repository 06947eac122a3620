//! `taint ADDR` and `untaint ADDR`: mark a resource instance in the
//! local state as tainted (the next plan replaces it) or clear the mark,
//! with Terraform 1.0.3's messages and exit codes.

use crate::cli::Flags;
use crate::ui::Ui;
use std::path::PathBuf;
use terrane_config::ResourceMode;
use terrane_core::addrs::{InstanceKey, TargetAddr};
use terrane_hcl::Diagnostic;
use terrane_state::{IndexKey, LocalState, LocalStateOptions, Mode, State, Status};

const USAGE_TAINT: &str = "Usage: terraform [global options] taint [options] <address>

  Marks a resource instance as tainted: the next plan destroys the remote
  object and creates a new one to replace it.

Options:

  -allow-missing          If specified, the command will succeed (exit code 0)
                          even if the resource is missing.

  -lock=false             Don't hold a state lock during the operation.

  -lock-timeout=0s        Duration to retry a state lock.
";

const USAGE_UNTAINT: &str = "Usage: terraform [global options] untaint [options] name

  Removes the tainted mark from a resource instance.

Options:

  -allow-missing          If specified, the command will succeed (exit code 0)
                          even if the resource is missing.

  -lock=false             Don't hold a state lock during the operation.

  -lock-timeout=0s        Duration to retry a state lock.
";

/// Runs `taint` (`taint == true`) or `untaint`.
pub fn run(args: &[String], ui: &Ui, taint: bool) -> i32 {
    let (verb, usage) = if taint {
        ("taint", USAGE_TAINT)
    } else {
        ("untaint", USAGE_UNTAINT)
    };
    let flags = match Flags::parse(
        args,
        &[
            "allow-missing",
            "lock",
            "lock-timeout",
            "no-color",
            "state",
            "state-out",
            "backup",
            "ignore-remote-version",
        ],
        &["lock-timeout", "state", "state-out", "backup"],
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}\n{usage}");
            return 1;
        }
    };
    if flags.positional.len() != 1 {
        eprintln!("The {verb} command expects exactly one argument.\n{usage}");
        return 1;
    }
    let allow_missing = flags.bool("allow-missing", false).unwrap_or(false);
    let raw = &flags.positional[0];
    let target = match TargetAddr::parse(raw) {
        Ok(t) => t,
        Err(detail) => {
            // Terraform reports the HCL traversal error's own summary.
            let summary = if detail.starts_with("Dot must be followed") {
                "Attribute name required"
            } else {
                "Invalid address"
            };
            ui.diagnostics([&Diagnostic::error(summary, detail)]);
            return 1;
        }
    };
    let Some(addr) = target.instance() else {
        ui.diagnostics([&Diagnostic::error(
            "Invalid address",
            "A resource instance address is required here; a module address is not allowed.",
        )]);
        return 1;
    };
    if addr.resource.mode == ResourceMode::Data {
        eprintln!("Resource instance {addr} cannot be {verb}ed");
        return 1;
    }
    let Some(location) = super::statefile::locate(flags.value("state").map(PathBuf::from), ui)
    else {
        return 1;
    };
    let timeout = match flags.value("lock-timeout") {
        None => std::time::Duration::ZERO,
        Some(v) => match super::statefile::parse_duration(v) {
            Some(d) => d,
            None => {
                eprintln!("invalid value {v:?} for flag -lock-timeout: parse error");
                return 1;
            }
        },
    };
    let lock = super::statefile::LockOptions {
        lock: flags.bool("lock", true).unwrap_or(true),
        timeout,
    };
    // -state-out: written there instead (the journal was folded into the
    // state read).
    let out = flags
        .value("state-out")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let Some(mut open) = super::statefile::open(
        &location,
        terrane_state::Backup::Default,
        Some(&lock),
        "OperationTypeInvalid",
        ui,
    ) else {
        return 1;
    };
    let code = mark(&mut open, out, ui, &addr, taint, allow_missing);
    open.close();
    code
}

fn mark(
    open: &mut super::statefile::OpenState,
    out: Option<PathBuf>,
    ui: &Ui,
    addr: &terrane_core::addrs::ResourceInstanceAddr,
    taint: bool,
    allow_missing: bool,
) -> i32 {
    let state = open.file().map(|f| f.state.clone());
    let mut state: State = state.unwrap_or_default();
    let module = addr.resource.module.to_string();
    let key = match &addr.key {
        InstanceKey::None => None,
        InstanceKey::Int(i) => Some(IndexKey::Int(*i)),
        InstanceKey::Str(s) => Some(IndexKey::String(s.clone())),
    };
    let inst = state
        .resources
        .iter_mut()
        .filter(|r| {
            r.module == module
                && r.mode == Mode::Managed
                && r.type_ == addr.resource.type_name
                && r.name == addr.resource.name
        })
        .flat_map(|r| r.instances.iter_mut())
        .find(|i| i.index_key == key && i.deposed.is_none() && i.attributes.is_some());
    let Some(inst) = inst else {
        // Terraform words the error for both commands alike.
        let detail = format!("There is no resource instance in the state with the address {addr}. If the resource configuration has just been added, you must run \"terraform apply\" once to create the corresponding instance(s) before they can be tainted.");
        if allow_missing {
            ui.diagnostics([&Diagnostic::warning(
                "No such resource instance",
                format!("Resource instance {addr} was not found, but this is not an error because -allow-missing was set."),
            )]);
            return 0;
        }
        ui.diagnostics([&Diagnostic::error("No such resource instance", detail)]);
        return 1;
    };
    if !taint && inst.status != Status::Tainted {
        ui.diagnostics([&Diagnostic::error(
            "Resource instance is not tainted",
            format!(
                "Resource instance {addr} is not currently tainted, and so it cannot be untainted."
            ),
        )]);
        return 1;
    }
    inst.status = if taint {
        Status::Tainted
    } else {
        Status::Ready
    };
    let written = match (&out, open.location.file()) {
        (Some(out), Some(path)) => {
            let mut opts = LocalStateOptions::new(path);
            opts.out_path = Some(out.clone());
            let mut local = LocalState::new(opts);
            match local.refresh() {
                Ok(_) => local.write(&state).map(|_| ()),
                Err(e) => Err(e),
            }
        }
        _ => open.mgr.write(&state).map(|_| ()),
    };
    if let Err(e) = written {
        ui.diagnostics([&Diagnostic::error("Failed to save state", e.to_string())]);
        return 1;
    }
    if taint {
        println!("Resource instance {addr} has been marked as tainted.");
    } else {
        println!("Resource instance {addr} has been successfully untainted.");
    }
    0
}
