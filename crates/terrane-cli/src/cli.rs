//! Global options (`-chdir`, `-help`, `-version`) and command dispatch,
//! with Terraform's usage text and exit codes.

use crate::commands;
use crate::ui::Ui;

/// Options that apply to every command.
#[derive(Clone, Debug, Default)]
pub struct GlobalOptions {
    /// Directory given with `-chdir=DIR` (already switched to).
    pub chdir: Option<String>,
}

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The Terraform release whose behaviour terrane reproduces.
pub const TERRAFORM_COMPAT_VERSION: &str = "1.0.3";

const HELP: &str = "Usage: terrane [global options] <subcommand> [args]

The available commands for execution are listed below.
The primary workflow commands are given first, followed by
less common or more advanced commands.

Main commands:
  init          Prepare your working directory for other commands
  validate      Check whether the configuration is valid
  plan          Show changes required by the current configuration
  apply         Create or update infrastructure
  destroy       Destroy previously-created infrastructure

All other commands:
  console       Try Terraform expressions at an interactive command prompt
  fmt           Reformat your configuration in the standard style
  get           Install or upgrade remote Terraform modules
  graph         Generate a Graphviz graph of the steps in an operation
  output        Show output values from your root module
  providers     Show the providers required for this configuration
  refresh       Update the state to match remote systems
  taint         Mark a resource instance as not fully functional
  untaint       Remove the 'tainted' state from a resource instance
  show          Show the current state or a saved plan
  state         Advanced state management
  version       Show the current terrane version
  workspace     Workspace management

Global options (use these before the subcommand, if any):
  -chdir=DIR    Switch to a different working directory before executing the
                given subcommand.
  -help         Show this help output, or the help for a specified subcommand.
  -version      An alias for the \"version\" subcommand.
";

/// Parses global options, switches directory and runs the command.
pub fn run(args: Vec<String>) -> i32 {
    let mut global = GlobalOptions::default();
    let rest = args.into_iter();
    let mut help = false;
    let mut command: Option<String> = None;
    let mut cmd_args = Vec::new();
    for a in rest {
        if command.is_some() {
            cmd_args.push(a);
            continue;
        }
        match a.as_str() {
            "-help" | "--help" | "-h" => help = true,
            "-version" | "--version" | "-v" => command = Some("version".to_string()),
            _ if a.starts_with("-chdir=") || a.starts_with("--chdir=") => {
                global.chdir = Some(
                    a.split_once('=')
                        .map(|x| x.1)
                        .unwrap_or_default()
                        .to_string(),
                )
            }
            "-chdir" | "--chdir" => {
                eprintln!("The -chdir option requires a directory, given as -chdir=DIR.");
                return 1;
            }
            _ if a.starts_with('-') => {
                // Terraform treats unknown global flags as the start of a
                // command's arguments; there is no command yet, so it's help.
                eprintln!("{HELP}");
                return 1;
            }
            _ => command = Some(a),
        }
    }
    let Some(command) = command else {
        if help {
            print!("{HELP}");
            return 0;
        }
        eprint!("{HELP}");
        return 1;
    };
    if help {
        cmd_args.insert(0, "-help".to_string());
    }
    if let Some(dir) = &global.chdir {
        if let Err(e) = std::env::set_current_dir(dir) {
            eprintln!(
                "Error handling -chdir option: chdir {dir}: {}",
                io_reason(&e)
            );
            return 1;
        }
    }
    let ui = Ui::new(&cmd_args);
    match command.as_str() {
        "version" => commands::version::run(&cmd_args),
        "console" => commands::console::run(&cmd_args, &global),
        "output" => commands::output::run(&cmd_args, &ui),
        "plan" => commands::run::run(&cmd_args, &ui, commands::run::Command::Plan),
        "apply" => commands::run::run(&cmd_args, &ui, commands::run::Command::Apply),
        "destroy" => commands::run::run(&cmd_args, &ui, commands::run::Command::Destroy),
        "fmt" => commands::fmt::run(&cmd_args, &ui),
        "get" => commands::get::run(&cmd_args, &ui),
        "graph" => commands::graph::run(&cmd_args, &ui),
        "init" => commands::init::run(&cmd_args, &ui),
        "providers" => commands::providers::run(&cmd_args, &ui),
        "refresh" => commands::run::run(&cmd_args, &ui, commands::run::Command::Refresh),
        "import" => commands::import::run(&cmd_args, &ui),
        "taint" => commands::taint::run(&cmd_args, &ui, true),
        "force-unlock" => commands::force_unlock::run(&cmd_args, &ui),
        "untaint" => commands::taint::run(&cmd_args, &ui, false),
        "show" => commands::show::run(&cmd_args, &ui),
        "state" => commands::state::run(&cmd_args, &ui),
        "validate" => commands::validate::run(&cmd_args, &ui),
        "workspace" => commands::workspace::run(&cmd_args, &ui),
        other => {
            eprintln!(
                "terrane has no command named {other:?}.\n\nTo see all of terrane's top-level commands, run:\n  terrane -help\n"
            );
            1
        }
    }
}

/// The OS error text without Rust's "(os error N)" suffix, as Go prints it.
pub fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => {
            let mut r = s[..i].to_string();
            if let Some(first) = r.get(..1) {
                r = first.to_lowercase() + &r[1..];
            }
            r
        }
        None => s,
    }
}

/// Terraform-style flag parsing: `-name`, `-name=value`, `-name value`
/// (also with `--`). Flags end at the first non-flag argument.
pub struct Flags {
    pub positional: Vec<String>,
    values: Vec<(String, Option<String>)>,
}

impl Flags {
    /// `known` lists flag names; those in `takes_value` consume the next
    /// argument when written without `=`. Unknown flags are an error.
    pub fn parse(args: &[String], known: &[&str], takes_value: &[&str]) -> Result<Flags, String> {
        let mut positional = Vec::new();
        let mut values = Vec::new();
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            if a == "-" || !a.starts_with('-') || !positional.is_empty() {
                positional.push(a.clone());
                i += 1;
                continue;
            }
            let body = a.trim_start_matches('-');
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (body.to_string(), None),
            };
            if !known.contains(&name.as_str()) {
                return Err(format!("flag provided but not defined: -{name}"));
            }
            if value.is_none() && takes_value.contains(&name.as_str()) {
                i += 1;
                match args.get(i) {
                    Some(v) => values.push((name, Some(v.clone()))),
                    None => return Err(format!("flag needs an argument: -{name}")),
                }
            } else {
                values.push((name, value));
            }
            i += 1;
        }
        Ok(Flags { positional, values })
    }

    /// A boolean flag: absent → `default`; `-x` → true; `-x=false` → false.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, String> {
        match self.values.iter().rev().find(|(n, _)| n == name) {
            None => Ok(default),
            Some((_, None)) => Ok(true),
            Some((_, Some(v))) => match v.as_str() {
                "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
                "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
                _ => Err(format!(
                    "invalid boolean value {v:?} for -{name}: parse error"
                )),
            },
        }
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.iter().any(|(n, _)| n == name)
    }

    /// Every flag given, in command-line order (repeatable ones included).
    pub fn values(&self) -> &[(String, Option<String>)] {
        &self.values
    }

    /// The last value given for a flag.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.as_deref())
    }
}
