//! `terrane workspace new|select|list|show|delete` through the active
//! backend (for the local one, `default` is `terraform.tfstate`, another
//! workspace NAME is `terraform.tfstate.d/NAME/terraform.tfstate`); the
//! selection is kept in `.terraform/environment` and `TF_WORKSPACE`
//! overrides it. Messages and exit codes are Terraform 1.0.3's.

use terrane_state::{Backup, ReadOptions, StateFile};

use super::statefile::{self, LockOptions, StateLocation};
use crate::backend::ActiveBackend;
use crate::cli::Flags;
use crate::ui::Ui;

const USAGE: &str = "Usage: terraform [global options] workspace

  new, list, show, select and delete Terraform workspaces.
";

const HELP: &str = "Usage: terraform [global options] workspace

  new, list, show, select and delete Terraform workspaces.

Subcommands:
    delete    Delete a workspace
    list      List Workspaces
    new       Create a new workspace
    select    Select a workspace
    show      Show the name of the current workspace
";

const LIST_USAGE: &str = "Usage: terraform [global options] workspace list

  List Terraform workspaces.
";

const SHOW_USAGE: &str = "Usage: terraform [global options] workspace show

  Show the name of the current workspace.
";

const NEW_USAGE: &str = "Usage: terraform [global options] workspace new [OPTIONS] NAME

  Create a new Terraform workspace.

Options:

    -lock=false         Don't hold a state lock during the operation. This is
                        dangerous if others might concurrently run commands
                        against the same workspace.

    -lock-timeout=0s    Duration to retry a state lock.

    -state=path         Copy an existing state file into the new workspace.
";

const SELECT_USAGE: &str = "Usage: terraform [global options] workspace select NAME

  Select a different Terraform workspace.
";

const DELETE_USAGE: &str = "Usage: terraform [global options] workspace delete [OPTIONS] NAME

  Delete a Terraform workspace


Options:

  -force             Remove even a non-empty workspace.

  -lock=false        Don't hold a state lock during the operation. This is
                     dangerous if others might concurrently run commands
                     against the same workspace.

  -lock-timeout=0s   Duration to retry a state lock.
";

/// Dispatches `terrane workspace SUBCOMMAND`.
pub fn run(args: &[String], ui: &Ui) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        print!("{USAGE}");
        return 0;
    };
    if super::state::wants_help(rest) || super::state::wants_help(std::slice::from_ref(sub)) {
        let usage = match sub.as_str() {
            "list" => LIST_USAGE,
            "show" => SHOW_USAGE,
            "new" => NEW_USAGE,
            "select" => SELECT_USAGE,
            "delete" => DELETE_USAGE,
            _ => HELP,
        };
        print!("{usage}");
        return 0;
    }
    match sub.as_str() {
        "list" => list(rest, ui),
        "show" => {
            println!("{}", statefile::current_workspace());
            0
        }
        "new" => new(rest, ui),
        "select" => select(rest, ui),
        "delete" => delete(rest, ui),
        _ => {
            print!("{USAGE}");
            0
        }
    }
}

/// A flag error as Terraform reports it: the usage, then the error.
fn flag_error(usage: &str, e: &str) -> i32 {
    eprint!("{usage}Error parsing command-line flags: {e}\n\n");
    1
}

fn color_wrap(ui: &Ui, code: &str, s: &str) -> String {
    if ui.color {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// The active backend and its workspaces. Errors are printed.
fn backend_and_workspaces(ui: &Ui) -> Option<(ActiveBackend, Vec<String>)> {
    let mut backend = match crate::backend::active_for_working_dir() {
        Ok(b) => b,
        Err(d) => {
            ui.diagnostics(d.iter());
            return None;
        }
    };
    match backend.workspaces() {
        Ok(names) => Some((backend, names)),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

/// Where a workspace's state is.
fn location_of(backend: &ActiveBackend, name: &str) -> StateLocation {
    match backend {
        ActiveBackend::Local(l) => StateLocation::File(l.state_path(name)),
        ActiveBackend::Remote { kind, .. } => StateLocation::Remote {
            kind: kind.clone(),
            workspace: name.to_string(),
        },
    }
}

fn list(args: &[String], ui: &Ui) -> i32 {
    match Flags::parse(args, &["no-color"], &[]) {
        Err(e) => return flag_error(LIST_USAGE, &e),
        Ok(f) if !f.positional.is_empty() => {
            eprintln!("Too many command line arguments. Did you mean to use -chdir?");
            return 1;
        }
        Ok(_) => {}
    }
    let Some((_, names)) = backend_and_workspaces(ui) else {
        return 1;
    };
    let current = statefile::current_workspace();
    let mut out = String::new();
    for name in names {
        let mark = if name == current { "* " } else { "  " };
        out.push_str(&format!("{mark}{name}\n"));
    }
    out.push('\n');
    if statefile::workspace_overridden() {
        out.push_str("\n\nThe active workspace is being overridden using the TF_WORKSPACE environment\nvariable.\n\n");
    }
    print!("{out}");
    0
}

/// Whether Terraform accepts `name` as a workspace name: it must be its
/// own URL path escaping (so no `/`, spaces, `%` or `?`).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_'
                        | b'.'
                        | b'~'
                        | b'$'
                        | b'&'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b':'
                        | b'@'
                )
        })
}

fn not_allowed(name: &str) -> i32 {
    eprintln!("\nThe workspace name {name:?} is not allowed. The name must contain only URL safe\ncharacters, and no path separators.\n");
    1
}

fn doesnt_exist(name: &str, leading_blank: bool) -> i32 {
    eprintln!(
        "{}Workspace {name:?} doesn't exist.\n\nYou can create this workspace with the \"new\" subcommand.",
        if leading_blank { "\n" } else { "" }
    );
    1
}

fn write_selection(name: &str) -> std::io::Result<()> {
    let dir = statefile::data_dir();
    std::fs::create_dir_all(&dir)?;
    terrane_state::atomic_write(&statefile::environment_file(), name.as_bytes(), None).map(|_| ())
}

fn new(args: &[String], ui: &Ui) -> i32 {
    let f = match Flags::parse(
        args,
        &["no-color", "lock", "lock-timeout", "state"],
        &["lock-timeout", "state"],
    ) {
        Ok(f) => f,
        Err(e) => return flag_error(NEW_USAGE, &e),
    };
    let [name] = f.positional.as_slice() else {
        eprint!("Expected a single argument: NAME.\n\n");
        print!("{NEW_USAGE}");
        return 1;
    };
    if statefile::workspace_overridden() && statefile::current_workspace() != *name {
        eprintln!("{}", color_wrap(ui, "31", "\nThe workspace is currently overridden using the TF_WORKSPACE environment\nvariable. You cannot create a new workspace when using this setting.\n\nTo create a new workspace, either unset this environment variable or update it\nto match the workspace name you are trying to create, and then run this command\nagain.\n"));
        return 1;
    }
    if !valid_name(name) {
        return not_allowed(name);
    }
    let Some((backend, names)) = backend_and_workspaces(ui) else {
        return 1;
    };
    if names.iter().any(|w| w == name) {
        eprintln!("Workspace {name:?} already exists");
        return 1;
    }
    let path = location_of(&backend, name);
    let remote = matches!(backend, ActiveBackend::Remote { .. });
    match (&backend, &path) {
        (ActiveBackend::Local(_), StateLocation::File(file)) => {
            if let Some(dir) = file.parent() {
                if let Err(e) = std::fs::create_dir_all(dir) {
                    eprintln!("{}: {}", dir.display(), crate::cli::io_reason(&e));
                    return 1;
                }
            }
        }
        _ => {
            // A remote backend that has only `default` refuses here.
            let mut backend = backend;
            if let Err(e) = backend.state_mgr(name) {
                eprintln!("Failed to create new workspace: {e}");
                return 1;
            }
        }
    }
    if let Err(e) = write_selection(name) {
        eprintln!("Failed to select workspace: {}", crate::cli::io_reason(&e));
        return 1;
    }
    // `-state=PATH`: the new workspace starts from a copy of that state;
    // a remote workspace exists once it has a state, so it gets an empty one.
    let source = f.value("state").filter(|s| !s.is_empty());
    if source.is_some() || remote {
        let read = match source {
            Some(src) => {
                std::fs::read(src).map_err(|e| format!("open {src}: {}", crate::cli::io_reason(&e)))
            }
            None => Ok(Vec::new()),
        };
        let file = match read.and_then(|b| {
            terrane_state::read(&b, &ReadOptions::default()).map_err(|e| e.to_string())
        }) {
            Ok(Some(file)) => file,
            Ok(None) => StateFile::new(Default::default()),
            Err(e) => {
                eprintln!("{e}");
                return 1;
            }
        };
        let lock = LockOptions {
            lock: f.bool("lock", true).unwrap_or(true),
            timeout: f
                .value("lock-timeout")
                .and_then(statefile::parse_duration)
                .unwrap_or_default(),
        };
        let Some(mut open) = statefile::open(
            &path,
            Backup::Disabled,
            Some(&lock),
            "OperationTypeInvalid",
            ui,
        ) else {
            return 1;
        };
        // Terraform writes the content as a new state: a fresh lineage,
        // serial 1.
        if let Err(e) = open.mgr.write(&file.state) {
            eprintln!("{e}");
            return 1;
        }
        open.close();
    }
    println!(
        "{}",
        color_wrap(
            ui,
            "32",
            &format!("Created and switched to workspace {name:?}!\n\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"terraform plan\" Terraform will not see any existing state\nfor this configuration.")
        )
    );
    0
}

fn select(args: &[String], ui: &Ui) -> i32 {
    let f = match Flags::parse(args, &["no-color"], &[]) {
        Ok(f) => f,
        Err(e) => return flag_error(SELECT_USAGE, &e),
    };
    let [name] = f.positional.as_slice() else {
        eprint!("Expected a single argument: NAME.\n\n");
        print!("{SELECT_USAGE}");
        return 1;
    };
    if statefile::workspace_overridden() {
        eprintln!("{}", color_wrap(ui, "31", "\nThe selected workspace is currently overridden using the TF_WORKSPACE\nenvironment variable.\n\nTo select a new workspace, either update this environment variable or unset\nit and then run this command again.\n"));
        return 1;
    }
    if !valid_name(name) {
        return not_allowed(name);
    }
    let Some((_, names)) = backend_and_workspaces(ui) else {
        return 1;
    };
    if !names.iter().any(|w| w == name) {
        return doesnt_exist(name, true);
    }
    // Already selected: Terraform says nothing.
    if *name == statefile::current_workspace() {
        return 0;
    }
    if let Err(e) = write_selection(name) {
        eprintln!("Failed to select workspace: {}", crate::cli::io_reason(&e));
        return 1;
    }
    println!(
        "{}",
        color_wrap(ui, "32", &format!("Switched to workspace {name:?}."))
    );
    0
}

fn delete(args: &[String], ui: &Ui) -> i32 {
    let f = match Flags::parse(
        args,
        &["no-color", "force", "lock", "lock-timeout"],
        &["lock-timeout"],
    ) {
        Ok(f) => f,
        Err(e) => return flag_error(DELETE_USAGE, &e),
    };
    let [name] = f.positional.as_slice() else {
        eprint!("Expected a single argument: NAME.\n\n");
        print!("{DELETE_USAGE}");
        return 1;
    };
    if !valid_name(name) {
        return not_allowed(name);
    }
    let Some((mut backend, names)) = backend_and_workspaces(ui) else {
        return 1;
    };
    if !names.iter().any(|w| w == name) {
        return doesnt_exist(name, false);
    }
    if *name == statefile::current_workspace() {
        eprintln!("Workspace {name:?} is your active workspace.\n\nYou cannot delete the currently active workspace. Please switch\nto another workspace and try again.");
        return 1;
    }
    let force = f.bool("force", false).unwrap_or(false);
    let path = location_of(&backend, name);
    // Under the workspace's lock, as Terraform: a running apply there
    // makes the delete fail instead of pulling the state from under it.
    let lock = LockOptions {
        lock: f.bool("lock", true).unwrap_or(true),
        timeout: f
            .value("lock-timeout")
            .and_then(statefile::parse_duration)
            .unwrap_or_default(),
    };
    let Some(open) = statefile::open(
        &path,
        Backup::Disabled,
        Some(&lock),
        "OperationTypeInvalid",
        ui,
    ) else {
        return 1;
    };
    let has_resources = open
        .file()
        .is_some_and(|s| s.state.resources.iter().any(|r| !r.instances.is_empty()));
    open.close();
    if has_resources && !force {
        eprintln!("Workspace {name:?} is not empty.\n\nDeleting {name:?} can result in dangling resources: resources that\nexist but are no longer manageable by Terraform. Please destroy\nthese resources first.  If you want to delete this workspace\nanyway and risk dangling resources, use the '-force' flag.");
        return 1;
    }
    // Terraform checks emptiness before refusing `default`.
    if name == "default" {
        eprintln!("cannot delete default state");
        return 1;
    }
    if let Err(e) = backend.delete_workspace(name) {
        eprintln!("{e}");
        return 1;
    }
    println!(
        "{}",
        color_wrap(ui, "32", &format!("Deleted workspace {name:?}!"))
    );
    if has_resources {
        println!(
            "{}",
            color_wrap(ui, "33", &format!("WARNING: {name:?} was non-empty.\nThe resources managed by the deleted workspace may still exist,\nbut are no longer manageable by Terraform since the state has\nbeen deleted.\n"))
        );
    }
    0
}
