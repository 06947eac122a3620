//! `terrane state list|show|mv|rm|pull|push|replace-provider`: state
//! surgery on the local backend, with Terraform 1.0.3's output, exit
//! codes, backups (`<state>.<unix seconds>.backup`) and serial rules.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use terrane_hcl::Diagnostic;
use terrane_state::addr;
use terrane_state::{Backup, Mode, ReadOptions, State, StateAddr, StateFile};

use super::statefile::{self, LockOptions, StateLocation, NO_STATE};
use crate::cli::Flags;
use crate::ui::Ui;

const STATE_USAGE: &str = "Usage: terraform [global options] state <subcommand> [options] [args]

  This command has subcommands for advanced state management.

  These subcommands can be used to slice and dice the Terraform state.
  This is sometimes necessary in advanced cases. For your safety, all
  state management commands that modify the state create a timestamped
  backup of the state prior to making modifications.

  The structure and output of the commands is specifically tailored to work
  well with the common Unix utilities such as grep, awk, etc. We recommend
  using those tools to perform more advanced state tasks.

Subcommands:
    list                List resources in the state
    mv                  Move an item in the state
    pull                Pull current state and output to stdout
    push                Update remote state from a local state file
    replace-provider    Replace provider in the state
    rm                  Remove instances from the state
    show                Show a resource in the state
";

const LIST_USAGE: &str = "Usage: terraform [global options] state list [options] [address...]

  List resources in the Terraform state.

  This command lists resource instances in the Terraform state. The address
  argument can be used to filter the instances by resource or module. If
  no pattern is given, all resource instances are listed.

  The addresses must either be module addresses or absolute resource
  addresses, such as:
      aws_instance.example
      module.example
      module.example.module.child
      module.example.aws_instance.example

  An error will be returned if any of the resources or modules given as
  filter addresses do not exist in the state.

Options:

  -state=statefile    Path to a Terraform state file to use to look
                      up Terraform-managed resources. By default, Terraform
                      will consult the state of the currently-selected
                      workspace.

  -id=ID              Filters the results to include only instances whose
                      resource types have an attribute named \"id\" whose value
                      equals the given id string.
";

const SHOW_USAGE: &str = "Usage: terraform [global options] state show [options] ADDRESS

  Shows the attributes of a resource in the Terraform state.

  This command shows the attributes of a single resource in the Terraform
  state. The address argument must be used to specify a single resource.
  You can view the list of available resources with \"terraform state list\".

Options:

  -state=statefile    Path to a Terraform state file to use to look
                      up Terraform-managed resources. By default it will
                      use the state \"terraform.tfstate\" if it exists.
";

const MV_USAGE: &str = "Usage: terraform [global options] state mv [options] SOURCE DESTINATION

 This command will move an item matched by the address given to the
 destination address. This command can also move to a destination address
 in a completely different state file.

 This can be used for simple resource renaming, moving items to and from
 a module, moving entire modules, and more. And because this command can also
 move data to a completely new state, it can also be used for refactoring
 one configuration into multiple separately managed Terraform configurations.

 This command will output a backup copy of the state prior to saving any
 changes. The backup cannot be disabled. Due to the destructive nature
 of this command, backups are required.

 If you're moving an item to a different state file, a backup will be created
 for each state file.

Options:

  -dry-run                If set, prints out what would've been moved but doesn't
                          actually move anything.

  -lock=false             Don't hold a state lock during the operation. This is
                          dangerous if others might concurrently run commands
                          against the same workspace.

  -lock-timeout=0s        Duration to retry a state lock.

  -ignore-remote-version  A rare option used for the remote backend only. See
                          the remote backend documentation for more information.

  -state, state-out, and -backup are legacy options supported for the local
  backend only. For more information, see the local backend's documentation.
";

const RM_USAGE: &str = "Usage: terraform [global options] state rm [options] ADDRESS...

  Remove one or more items from the Terraform state, causing Terraform to
  \"forget\" those items without first destroying them in the remote system.

  This command removes one or more resource instances from the Terraform state
  based on the addresses given. You can view and list the available instances
  with \"terraform state list\".

  If you give the address of an entire module then all of the instances in
  that module and any of its child modules will be removed from the state.

  If you give the address of a resource that has \"count\" or \"for_each\" set,
  all of the instances of that resource will be removed from the state.

Options:

  -dry-run                If set, prints out what would've been removed but
                          doesn't actually remove anything.

  -backup=PATH            Path where Terraform should write the backup
                          state.

  -lock=false             Don't hold a state lock during the operation. This is
                          dangerous if others might concurrently run commands
                          against the same workspace.

  -lock-timeout=0s        Duration to retry a state lock.

  -state=PATH             Path to the state file to update. Defaults to the
                          current workspace state.

  -ignore-remote-version  Continue even if remote and local Terraform versions
                          are incompatible. This may result in an unusable
                          workspace, and should be used with extreme caution.
";

const PUSH_USAGE: &str = "Usage: terraform [global options] state push [options] PATH

  Update remote state from a local state file at PATH.

  This command \"pushes\" a local state and overwrites remote state
  with a local state file. The command will protect you against writing
  an older serial or a different state file lineage unless you specify the
  \"-force\" flag.

  This command works with local state (it will overwrite the local
  state), but is less useful for this use case.

  If PATH is \"-\", then this command will read the state to push from stdin.
  Data from stdin is not streamed to the backend: it is loaded completely
  (until pipe close), verified, and then pushed.

Options:

  -force              Write the state even if lineages don't match or the
                      remote serial is higher.

  -lock=false         Don't hold a state lock during the operation. This is
                      dangerous if others might concurrently run commands
                      against the same workspace.

  -lock-timeout=0s    Duration to retry a state lock.
";

const REPLACE_PROVIDER_USAGE: &str = "Usage: terraform [global options] state replace-provider [options] FROM_PROVIDER_FQN TO_PROVIDER_FQN

  Replace provider for resources in the Terraform state.

Options:

  -auto-approve           Skip interactive approval.

  -lock=false             Don't hold a state lock during the operation. This is
                          dangerous if others might concurrently run commands
                          against the same workspace.

  -lock-timeout=0s        Duration to retry a state lock.

  -ignore-remote-version  A rare option used for the remote backend only. See
                          the remote backend documentation for more information.

  -state, state-out, and -backup are legacy options supported for the local
  backend only. For more information, see the local backend's documentation.
";

const PULL_USAGE: &str = "Usage: terraform [global options] state pull [options]

  Pull the state from its location, upgrade the local copy, and output it
  to stdout.

  This command \"pulls\" the current state and outputs it to stdout.
  As part of this process, Terraform will upgrade the state format of the
  local copy to the current version.

  The primary use of this is for state stored remotely. This command
  will still work with local state but is less useful for this.
";

/// Whether the arguments ask for help (before any positional argument).
pub(crate) fn wants_help(args: &[String]) -> bool {
    args.iter()
        .take_while(|a| a.starts_with('-'))
        .any(|a| matches!(a.as_str(), "-help" | "--help" | "-h"))
}

/// Dispatches `terrane state SUBCOMMAND`.
pub fn run(args: &[String], ui: &Ui) -> i32 {
    let Some((sub, rest)) = args.split_first() else {
        print!("{STATE_USAGE}");
        return 1;
    };
    if wants_help(rest) {
        let usage = match sub.as_str() {
            "list" => LIST_USAGE,
            "show" => SHOW_USAGE,
            "mv" => MV_USAGE,
            "rm" => RM_USAGE,
            "pull" => PULL_USAGE,
            "push" => PUSH_USAGE,
            "replace-provider" => REPLACE_PROVIDER_USAGE,
            _ => STATE_USAGE,
        };
        print!("{usage}");
        return 0;
    }
    match sub.as_str() {
        "list" => list(rest, ui),
        "show" => show(rest, ui),
        "mv" => mv(rest, ui),
        "rm" => rm(rest, ui),
        "pull" => pull(rest, ui),
        "push" => push(rest, ui),
        "replace-provider" => replace_provider(rest, ui),
        "-help" | "-h" | "--help" => {
            print!("{STATE_USAGE}");
            0
        }
        _ => {
            print!("{STATE_USAGE}");
            1
        }
    }
}

/// Parses flags; on an error prints the usage and Terraform's message.
fn flags(args: &[String], known: &[&str], valued: &[&str], usage: &str) -> Option<Flags> {
    let mut all = vec!["no-color", "ignore-remote-version"];
    all.extend_from_slice(known);
    match Flags::parse(args, &all, valued) {
        Ok(f) => Some(f),
        Err(e) => {
            // Only `list` and `replace-provider` show their usage with it.
            if usage == LIST_USAGE || usage == REPLACE_PROVIDER_USAGE {
                print!("{usage}");
            }
            eprint!("Error parsing command-line flags: {e}\n\n");
            None
        }
    }
}

fn lock_options(f: &Flags) -> Result<LockOptions, String> {
    let timeout = match f.value("lock-timeout") {
        None => Duration::ZERO,
        Some(v) => statefile::parse_duration(v)
            .ok_or_else(|| format!("invalid value {v:?} for flag -lock-timeout: parse error"))?,
    };
    Ok(LockOptions {
        lock: f.bool("lock", true)?,
        timeout,
    })
}

/// The state a command works on: `-state`, else the active backend's
/// selected workspace. Errors are printed.
fn state_location(f: &Flags, ui: &Ui) -> Option<StateLocation> {
    statefile::locate(f.value("state").map(PathBuf::from), ui)
}

/// The backup of a modifying command: `-backup=PATH`, else (also for
/// `-backup=-`, which Terraform's state commands do not honour: their
/// backups "cannot be disabled") `<state>.<unix seconds>.backup`.
/// Remote state gets no backup unless `-backup` names one.
fn backup_for(flag: Option<&str>, state: &StateLocation) -> Backup {
    match (flag, state) {
        (Some(p), _) if !p.is_empty() && p != "-" => Backup::Path(PathBuf::from(p)),
        (_, StateLocation::File(path)) => Backup::Path(statefile::timestamped_backup(path)),
        (_, StateLocation::Remote { .. }) => Backup::Disabled,
    }
}

/// Writes `state` through `open` (serial +1, the backup first). Errors
/// are printed.
fn write_state(open: &mut statefile::OpenState, state: &State, ui: &Ui) -> bool {
    if let Err(e) = open.mgr.write(state) {
        error(ui, "Failed to write state", e.to_string());
        return false;
    }
    true
}

/// Prints an address syntax error as Terraform does (a diagnostic about
/// "line 1" of a source it does not show).
fn address_error(e: &terrane_state::AddrError, ui: &Ui) {
    let body = terrane_hcl::render::plain(&Diagnostic::error(e.summary.clone(), ""), ui.width);
    let detail = terrane_hcl::render::plain(&Diagnostic::error("x", e.detail.clone()), ui.width);
    let detail = detail.split_once("\n\n").map(|x| x.1).unwrap_or_default();
    eprint!("{body}\n  on  line 1:\n  (source code not available)\n\n{detail}\n");
}

fn parse_addr(s: &str, ui: &Ui) -> Option<StateAddr> {
    match StateAddr::parse(s) {
        Ok(a) => Some(a),
        Err(e) => {
            address_error(&e, ui);
            None
        }
    }
}

fn error(ui: &Ui, summary: &str, detail: String) {
    ui.diagnostics([&Diagnostic::error(summary, detail)]);
    eprintln!();
}

fn no_state() -> i32 {
    eprintln!("{NO_STATE}");
    1
}

fn list(args: &[String], ui: &Ui) -> i32 {
    let Some(f) = flags(args, &["state", "id"], &["state", "id"], LIST_USAGE) else {
        return 1;
    };
    let Some(path) = state_location(&f, ui) else {
        return 1;
    };
    let Some(open) = statefile::open(&path, Backup::Disabled, None, "", ui) else {
        return 1;
    };
    let Some(file) = open.file() else {
        return no_state();
    };
    let state = &file.state;
    let mut addrs = Vec::new();
    for a in &f.positional {
        let Some(addr) = parse_addr(a, ui) else {
            return 1;
        };
        addrs.push(addr);
    }
    let mut found = Vec::new();
    if addrs.is_empty() {
        found = addr::matching_instances(state, None);
    }
    for a in &addrs {
        let m = addr::matching_instances(state, Some(a));
        if m.is_empty() {
            report_unknown(a, ui);
            return 1;
        }
        found.extend(m);
    }
    let mut out = std::io::stdout().lock();
    for m in found {
        if let Some(id) = f.value("id").filter(|id| !id.is_empty()) {
            let r = &state.resources[m.resource];
            let Some(obj) = r.object(m.key.as_ref(), None) else {
                continue;
            };
            if attribute_id(obj).as_deref() != Some(id) {
                continue;
            }
        }
        let _ = writeln!(out, "{}", m.address);
    }
    0
}

fn attribute_id(obj: &terrane_state::Instance) -> Option<String> {
    let attrs = obj.attributes.as_ref()?;
    let v: serde_json::Value = serde_json::from_str(attrs.as_str()).ok()?;
    v.get("id")?.as_str().map(str::to_string)
}

fn report_unknown(a: &StateAddr, ui: &Ui) {
    match &a.resource {
        None => error(ui, "Unknown module", format!("The current state contains no module at {a}. If you've just added this module to the configuration, you must run \"terraform apply\" first to create the module's entry in the state.")),
        Some(p) if p.key.is_none() => error(ui, "Unknown resource", format!("The current state contains no resource {a}. If you've just added this resource to the configuration, you must run \"terraform apply\" first to create the resource's entry in the state.")),
        Some(_) => error(ui, "Unknown resource instance", format!("The current state contains no resource instance {a}. If you've just added its resource to the configuration or have changed the count or for_each arguments, you must run \"terraform apply\" first to update the resource's entry in the state.")),
    }
}

fn show(args: &[String], ui: &Ui) -> i32 {
    let Some(f) = flags(args, &["state"], &["state"], SHOW_USAGE) else {
        return 1;
    };
    if f.positional.len() != 1 {
        eprint!("Exactly one argument expected.\n\n");
        print!("{SHOW_USAGE}");
        return 1;
    }
    let Some(a) = parse_addr(&f.positional[0], ui) else {
        return 1;
    };
    let Some(path) = state_location(&f, ui) else {
        return 1;
    };
    let Some(open) = statefile::open(&path, Backup::Disabled, None, "", ui) else {
        return 1;
    };
    let Some(file) = open.file() else {
        return no_state();
    };
    if a.is_module() {
        eprintln!("Error parsing instance address: {a}\n\nThis command requires that the address references one specific instance.\nTo view the available instances, use \"terraform state list\". Please modify \nthe address to reference a specific instance.");
        return 1;
    }
    let found = { addr::matching_instances(&file.state, Some(&a)) };
    let single = match found.as_slice() {
        [one] if a.resource.as_ref().is_some_and(|p| p.key.is_some()) || one.key.is_none() => one,
        _ => {
            eprintln!("No instance found for the given address!\n\nThis command requires that the address references one specific instance.\nTo view the available instances, use \"terraform state list\". Please modify \nthe address to reference a specific instance.");
            return 1;
        }
    };
    let r = &file.state.resources[single.resource];
    let Some(obj) = r.object(single.key.as_ref(), None) else {
        return 1;
    };
    print!(
        "{}",
        super::state_show::render_instance(&single.address, r, obj)
    );
    0
}

fn pull(args: &[String], ui: &Ui) -> i32 {
    let Some(f) = flags(args, &[], &[], PULL_USAGE) else {
        return 1;
    };
    let Some(path) = state_location(&f, ui) else {
        return 1;
    };
    let Some(open) = statefile::open(&path, Backup::Disabled, None, "", ui) else {
        return 1;
    };
    if let Some(file) = open.file() {
        // The stored serialisation, then a newline, as Terraform prints it
        // (a closed pipe, as `state pull | head`, is not an error).
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out
            .write_all(terrane_state::serialize(file).as_bytes())
            .and_then(|_| out.write_all(b"\n"));
    }
    0
}

fn go_quote(s: &str) -> String {
    terrane_state::json::quote(s)
}

fn mv(args: &[String], ui: &Ui) -> i32 {
    let Some(f) = flags(
        args,
        &[
            "dry-run",
            "lock",
            "lock-timeout",
            "state",
            "state-out",
            "backup",
            "backup-out",
        ],
        &["lock-timeout", "state", "state-out", "backup", "backup-out"],
        MV_USAGE,
    ) else {
        return 1;
    };
    if f.positional.len() != 2 {
        eprint!("Exactly two arguments expected.\n\n");
        print!("{MV_USAGE}");
        return 1;
    }
    let lock = match lock_options(&f) {
        Ok(l) => l,
        Err(e) => {
            eprint!("Error parsing command-line flags: {e}\n\n");
            return 1;
        }
    };
    let dry_run = f.bool("dry-run", false).unwrap_or(false);
    let (Some(src), Some(dst)) = (
        parse_addr(&f.positional[0], ui),
        parse_addr(&f.positional[1], ui),
    ) else {
        return 1;
    };
    let Some(path) = state_location(&f, ui) else {
        return 1;
    };
    let out_path = f
        .value("state-out")
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let out_path = out_path.map(StateLocation::File);
    let separate = out_path.as_ref().is_some_and(|p| p != &path);
    let Some(mut open) = statefile::open(
        &path,
        backup_for(f.value("backup"), &path),
        Some(&lock),
        "OperationTypeInvalid",
        ui,
    ) else {
        return 1;
    };
    let Some(file) = open.file().cloned() else {
        return no_state();
    };
    let mut from = file.state.clone();
    let mut dest = None;
    if let (true, Some(op)) = (separate, &out_path) {
        let Some(d) = statefile::open(
            op,
            backup_for(f.value("backup-out"), op),
            Some(&lock),
            "OperationTypeInvalid",
            ui,
        ) else {
            return 1;
        };
        dest = Some(d);
    }
    let mut to_state: Option<State> = dest
        .as_ref()
        .map(|d| d.file().map(|s| s.state.clone()).unwrap_or_default());

    let Some(source) = addr::move_source(&from, &src) else {
        if src.resource.as_ref().is_some_and(|p| p.key.is_some()) {
            error(
                ui,
                "Invalid source address",
                format!("The current state does not contain {src}."),
            );
            return 1;
        }
        if dry_run {
            println!("Would have moved nothing.");
            return 0;
        }
        println!("No matching objects found.");
        error(
            ui,
            "Invalid source address",
            format!("Cannot move {src}: does not match anything in the current state."),
        );
        return 0;
    };
    let verb = if dry_run { "Would move" } else { "Move" };
    // A module moves as each module instance in it, one line each.
    let mut moves = Vec::new();
    if src.is_module() {
        for m in addr::module_instances_under(&from, &src.module) {
            let mut to = dst.module.clone();
            to.extend_from_slice(&m[src.module.len()..]);
            moves.push((addr::format_module(&m), addr::format_module(&to)));
        }
    } else {
        moves.push((src.to_string(), dst.to_string()));
    }
    if let Err(errs) = addr::move_to(&mut from, to_state.as_mut(), &src, &source, &dst) {
        for e in errs {
            if e.detail.is_empty() {
                eprintln!("{}\n\nPlease ensure your addresses and state paths are valid. No\nstate was persisted. Your existing states are untouched.", e.summary);
            } else {
                error(ui, &e.summary, e.detail);
            }
        }
        return 1;
    }
    for (a, b) in &moves {
        println!("{verb} {} to {}", go_quote(a), go_quote(b));
    }
    if dry_run {
        return 0;
    }
    if let (Some(d), Some(t)) = (dest.as_mut(), &to_state) {
        if !write_state(d, t, ui) {
            return 1;
        }
    }
    if !write_state(&mut open, &from, ui) {
        return 1;
    }
    println!("Successfully moved {} object(s).", moves.len());
    if let Some(d) = dest {
        d.close();
    }
    open.close();
    0
}

fn rm(args: &[String], ui: &Ui) -> i32 {
    let Some(f) = flags(
        args,
        &["dry-run", "lock", "lock-timeout", "state", "backup"],
        &["lock-timeout", "state", "backup"],
        RM_USAGE,
    ) else {
        return 1;
    };
    if f.positional.is_empty() {
        eprint!("At least one address is required.\n\n");
        print!("{RM_USAGE}");
        return 1;
    }
    let lock = match lock_options(&f) {
        Ok(l) => l,
        Err(e) => {
            eprint!("Error parsing command-line flags: {e}\n\n");
            return 1;
        }
    };
    let dry_run = f.bool("dry-run", false).unwrap_or(false);
    let mut addrs = Vec::new();
    for a in &f.positional {
        let Some(addr) = parse_addr(a, ui) else {
            return 1;
        };
        addrs.push(addr);
    }
    let Some(path) = state_location(&f, ui) else {
        return 1;
    };
    let Some(mut open) = statefile::open(
        &path,
        backup_for(f.value("backup"), &path),
        Some(&lock),
        "OperationTypeInvalid",
        ui,
    ) else {
        return 1;
    };
    let Some(file) = open.file().cloned() else {
        return no_state();
    };
    let mut state = file.state.clone();
    let mut removed = Vec::new();
    for a in &addrs {
        removed.extend(addr::remove(&mut state, a));
    }
    if removed.is_empty() {
        error(ui, "Invalid target address", "No matching objects found. To view the available instances, use \"terraform state list\". Please modify the address to reference a specific instance.".into());
        return 1;
    }
    let mut out = std::io::stdout().lock();
    for r in &removed {
        let _ = writeln!(
            out,
            "{} {r}",
            if dry_run { "Would remove" } else { "Removed" }
        );
    }
    if dry_run {
        return 0;
    }
    if !write_state(&mut open, &state, ui) {
        return 1;
    }
    let _ = writeln!(
        out,
        "Successfully removed {} resource instance(s).",
        removed.len()
    );
    open.close();
    0
}

fn push(args: &[String], ui: &Ui) -> i32 {
    let Some(f) = flags(
        args,
        &["force", "lock", "lock-timeout"],
        &["lock-timeout"],
        PUSH_USAGE,
    ) else {
        return 1;
    };
    if f.positional.len() != 1 {
        eprint!("Exactly one argument expected.\n\n");
        print!("{PUSH_USAGE}");
        return 1;
    }
    let lock = match lock_options(&f) {
        Ok(l) => l,
        Err(e) => {
            eprint!("Error parsing command-line flags: {e}\n\n");
            return 1;
        }
    };
    let src = &f.positional[0];
    let bytes = if src == "-" {
        let mut b = Vec::new();
        if let Err(e) = std::io::stdin().lock().read_to_end(&mut b) {
            eprintln!("Error reading source state \"-\": {e}");
            return 1;
        }
        b
    } else {
        match std::fs::read(src) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("open {src}: {}", crate::cli::io_reason(&e));
                return 1;
            }
        }
    };
    let pushed: StateFile = match terrane_state::read(&bytes, &ReadOptions::default()) {
        Ok(Some(f)) => f,
        Ok(None) => StateFile::new(State::default()),
        Err(e) => {
            eprintln!("Error reading source state {}: {e}", go_quote(src));
            return 1;
        }
    };
    let Some(path) = state_location(&f, ui) else {
        return 1;
    };
    // Terraform's push writes no backup.
    let Some(mut open) = statefile::open(
        &path,
        Backup::Disabled,
        Some(&lock),
        "OperationTypeInvalid",
        ui,
    ) else {
        return 1;
    };
    let force = f.bool("force", false).unwrap_or(false);
    // Terraform also refuses other content under the same serial.
    if let (false, Some(current)) = (force, open.file()) {
        if current.lineage == pushed.lineage
            && current.serial == pushed.serial
            && !terrane_state::content_equal(&current.state, &pushed.state)
        {
            eprintln!(
                "Failed to write state: cannot overwrite existing state with serial {} with a different state that has the same serial",
                current.serial
            );
            return 1;
        }
    }
    if let Err(e) = open.mgr.write_file(&pushed, force) {
        eprintln!("Failed to write state: {e}");
        return 1;
    }
    open.close();
    0
}

/// A provider source address normalised to `host/namespace/type`, or
/// Terraform's complaint.
fn provider_fqn(s: &str) -> Result<String, String> {
    let parts: Vec<&str> = s.split('/').collect();
    let (host, ns, ty) = match parts.as_slice() {
        [t] => ("registry.terraform.io", "hashicorp", *t),
        [n, t] => ("registry.terraform.io", *n, *t),
        [h, n, t] => (*h, *n, *t),
        _ => {
            return Err("Invalid provider source string: The \"source\" attribute must be in the format \"[hostname/][namespace/]name\"".to_string())
        }
    };
    let part_ok = |p: &str| {
        !p.is_empty()
            && !p.starts_with('-')
            && !p.ends_with('-')
            && p.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    if !part_ok(ty) {
        return Err(format!("Invalid provider type: Invalid provider type {} in source {}: must contain only letters, digits, and dashes, and may not use leading or trailing dashes\"", go_quote(ty), go_quote(s)));
    }
    if !part_ok(ns) {
        // Terraform names the namespace it failed to normalise: "".
        return Err(format!("Invalid provider namespace: Invalid provider namespace \"\" in source {}: must contain only letters, digits, and dashes, and may not use leading or trailing dashes\"", go_quote(s)));
    }
    Ok(format!(
        "{}/{}/{}",
        host.to_lowercase(),
        ns.to_lowercase(),
        ty.to_lowercase()
    ))
}

/// The `host/namespace/type` inside a state's provider configuration
/// address (`module.m.provider["host/ns/type"].alias`).
fn provider_in_config_addr(addr: &str) -> Option<(usize, usize)> {
    let start = addr.find("provider[\"")? + "provider[\"".len();
    let len = addr[start..].find("\"]")?;
    Some((start, start + len))
}

fn replace_provider(args: &[String], ui: &Ui) -> i32 {
    let Some(f) = flags(
        args,
        &[
            "auto-approve",
            "lock",
            "lock-timeout",
            "state",
            "state-out",
            "backup",
        ],
        &["lock-timeout", "state", "state-out", "backup"],
        REPLACE_PROVIDER_USAGE,
    ) else {
        return 1;
    };
    if f.positional.len() != 2 {
        eprint!("Exactly two arguments expected.\n\n");
        print!("{REPLACE_PROVIDER_USAGE}");
        return 1;
    }
    let lock = match lock_options(&f) {
        Ok(l) => l,
        Err(e) => {
            eprint!("Error parsing command-line flags: {e}\n\n");
            return 1;
        }
    };
    let (from_s, to_s) = (&f.positional[0], &f.positional[1]);
    let from = match provider_fqn(from_s) {
        Ok(p) => p,
        Err(e) => {
            error(
                ui,
                &format!("Invalid \"from\" provider {}", go_quote(from_s)),
                e,
            );
            return 1;
        }
    };
    let to = match provider_fqn(to_s) {
        Ok(p) => p,
        Err(e) => {
            error(
                ui,
                &format!("Invalid \"to\" provider {}", go_quote(to_s)),
                e,
            );
            return 1;
        }
    };
    let Some(path) = state_location(&f, ui) else {
        return 1;
    };
    let Some(mut open) = statefile::open(
        &path,
        backup_for(f.value("backup"), &path),
        Some(&lock),
        "OperationTypeInvalid",
        ui,
    ) else {
        return 1;
    };
    let Some(file) = open.file().cloned() else {
        return no_state();
    };
    let mut state = file.state.clone();
    let mut changed = Vec::new();
    for i in addr::sorted_resources(&state) {
        let r = &mut state.resources[i];
        let Some((a, b)) = provider_in_config_addr(&r.provider) else {
            continue;
        };
        if r.provider[a..b].to_lowercase() == from {
            r.provider.replace_range(a..b, &to);
            changed.push(resource_addr(r));
        }
    }
    if changed.is_empty() {
        println!("No matching resources found.");
        return 0;
    }
    let mut text = format!(
        "Terraform will perform the following actions:\n\n  ~ Updating provider:\n    - {from}\n    + {to}\n\nChanging {} resources:\n\n",
        changed.len()
    );
    for c in &changed {
        text.push_str(&format!("  {c}\n"));
    }
    text.push('\n');
    if ui.color {
        text = text
            .replacen("  ~ Updating", "  \x1b[33m~\x1b[0m Updating", 1)
            .replacen("    - ", "    \x1b[31m-\x1b[0m ", 1)
            .replacen("    + ", "    \x1b[32m+\x1b[0m ", 1);
    }
    print!("{text}");
    if !f.bool("auto-approve", false).unwrap_or(false) {
        print!("Do you want to make these changes?\nOnly 'yes' will be accepted to continue.\n\nEnter a value: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        if line.trim_end_matches(['\n', '\r']) != "yes" {
            println!("Cancelled replacing providers.");
            return 0;
        }
        println!();
    }
    if !write_state(&mut open, &state, ui) {
        return 1;
    }
    println!(
        "Successfully replaced provider for {} resources.",
        changed.len()
    );
    open.close();
    0
}

fn resource_addr(r: &terrane_state::Resource) -> String {
    let mut s = String::new();
    if !r.module.is_empty() {
        s.push_str(&r.module);
        s.push('.');
    }
    if r.mode == Mode::Data {
        s.push_str("data.");
    }
    s.push_str(&r.type_);
    s.push('.');
    s.push_str(&r.name);
    s
}
