//! `terrane force-unlock [-force] LOCK_ID`: removes the lock on the
//! selected workspace's state through the active backend, after
//! Terraform 1.0.3's confirmation prompt. Local state cannot be unlocked
//! by another process (the lock is an OS lock that ends with its holder).

use std::io::{BufRead, Write};

use terrane_hcl::Diagnostic;

use super::statefile;
use crate::cli::Flags;
use crate::ui::Ui;

const USAGE: &str = "Usage: terraform [global options] force-unlock LOCK_ID

  Manually unlock the state for the defined configuration.

  This will not modify your infrastructure. This command removes the lock on the
  state for the current workspace. The behavior of this lock is dependent
  on the backend being used. Local state files cannot be unlocked by another
  process.

Options:

  -force                 Don't ask for input for unlock confirmation.
";

/// Terraform's question, as its input prompt prints it.
fn prompt(color: bool) -> String {
    let (bold, reset) = if color {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("", "")
    };
    format!(
        "{reset}{bold}Do you really want to force-unlock?\n  Terraform will remove the lock on the remote state.\n  This will allow local Terraform commands to modify this state, even though it\n  may be still be in use. Only 'yes' will be accepted to confirm.\n\n  {bold}Enter a value:{reset} "
    )
}

/// Asks `question` on the terminal; true only for `yes`.
pub fn ask_yes(question: &str) -> bool {
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    println!();
    line.trim() == "yes"
}

pub fn run(args: &[String], ui: &Ui) -> i32 {
    if super::state::wants_help(args) {
        print!("{USAGE}");
        return 0;
    }
    let f = match Flags::parse(args, &["force", "no-color"], &[]) {
        Ok(f) => f,
        Err(e) => {
            eprint!("{USAGE}Error parsing command-line flags: {e}\n\n");
            return 1;
        }
    };
    let [lock_id] = f.positional.as_slice() else {
        eprintln!("Expected a single argument: LOCK_ID");
        return 1;
    };
    let force = f.bool("force", false).unwrap_or(false);
    let Some(location) = statefile::locate(None, ui) else {
        return 1;
    };
    let Some(mut mgr) = statefile::manager(&location, None, terrane_state::Backup::Disabled, ui)
    else {
        return 1;
    };
    if location.file().is_some() {
        // The local lock is held by its process; only it can release it.
        eprintln!("Failed to unlock state: LocalState not locked");
        return 1;
    }
    if !force && !ask_yes(&prompt(ui.color)) {
        eprintln!("force-unlock cancelled.");
        return 1;
    }
    if let Err(e) = mgr.unlock(lock_id) {
        ui.diagnostics([&Diagnostic::error("Failed to unlock state", e.to_string())]);
        return 1;
    }
    let (green, reset) = if ui.color {
        ("\x1b[0m\x1b[1m\x1b[32m", "\x1b[0m")
    } else {
        ("", "")
    };
    println!("{green}Terraform state has been successfully unlocked!{reset}\n\n{}The state has been unlocked, and Terraform commands should now be able to\nobtain a new lock on the remote state.{reset}", if ui.color { "\x1b[32m" } else { "" });
    0
}
