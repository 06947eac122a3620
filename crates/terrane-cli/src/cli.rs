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
  drift         Report what changed outside terrane since the last apply
  fmt           Reformat your configuration in the standard style
  get           Install or upgrade remote Terraform modules
  graph         Generate a Graphviz graph of the steps in an operation
  import        Associate existing infrastructure with a Terraform resource
  inventory     Print an Ansible inventory from the state
  output        Show output values from your root module
  providers     Show the providers required for this configuration
  refresh       Update the state to match remote systems
  taint         Mark a resource instance as not fully functional
  untaint       Remove the 'tainted' state from a resource instance
  show          Show the current state or a saved plan
  stacks        Run a command in every stack of a repository, in order
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
    // A shell asking for completions (`complete -C terrane terrane`).
    if let Ok(line) = std::env::var("COMP_LINE") {
        let point = std::env::var("COMP_POINT")
            .ok()
            .and_then(|p| p.parse::<usize>().ok());
        let line = match point {
            Some(p) if p <= line.len() && line.is_char_boundary(p) => &line[..p],
            _ => line.as_str(),
        };
        for word in completions(line) {
            println!("{word}");
        }
        return 0;
    }
    let mut global = GlobalOptions::default();
    let rest = args.into_iter();
    let mut help = false;
    let mut install_autocomplete = false;
    let mut uninstall_autocomplete = false;
    let mut command: Option<String> = None;
    let mut cmd_args = Vec::new();
    for a in rest {
        if command.is_some() {
            cmd_args.push(a);
            continue;
        }
        match a.as_str() {
            "-help" | "--help" | "-h" => help = true,
            "-install-autocomplete" | "--install-autocomplete" => install_autocomplete = true,
            "-uninstall-autocomplete" | "--uninstall-autocomplete" => uninstall_autocomplete = true,
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
    if install_autocomplete || uninstall_autocomplete {
        return autocomplete(install_autocomplete, uninstall_autocomplete);
    }
    let Some(command) = command else {
        if help {
            print!("{HELP}");
            return 0;
        }
        eprint!("{HELP}");
        return 1;
    };
    // TF_CLI_ARGS and TF_CLI_ARGS_<command> go right after the command
    // (after a nested command's last word), the specific ones first.
    let subcommand = match cmd_args.first() {
        Some(sub)
            if NESTED
                .iter()
                .any(|(c, subs)| *c == command && subs.contains(&sub.as_str())) =>
        {
            Some(sub.clone())
        }
        _ => None,
    };
    let insert_at = usize::from(subcommand.is_some());
    let specific = match &subcommand {
        Some(sub) => format!("TF_CLI_ARGS_{command}_{sub}"),
        None => format!("TF_CLI_ARGS_{command}"),
    };
    for var in ["TF_CLI_ARGS", specific.as_str()] {
        let Some(value) = std::env::var(var).ok().filter(|v| !v.is_empty()) else {
            continue;
        };
        match shell_words(&value) {
            Some(extra) => {
                let tail = cmd_args.split_off(insert_at.min(cmd_args.len()));
                cmd_args.extend(extra);
                cmd_args.extend(tail);
            }
            None => {
                eprintln!("Error parsing extra CLI args from {var}: invalid command line string");
                return 1;
            }
        }
    }
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
        "drift" => commands::drift::run(&cmd_args, &ui),
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
        "stacks" => commands::stacks::run(&cmd_args, &ui),
        "inventory" => commands::inventory::run(&cmd_args, &ui),
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
    /// `-input` is also false when `TF_INPUT` is a false value (`0`,
    /// `false`), whatever the flag says, as in Terraform.
    pub fn bool(&self, name: &str, default: bool) -> Result<bool, String> {
        if name == "input" && input_disabled_by_env() {
            self.bool_flag(name, default)?;
            return Ok(false);
        }
        self.bool_flag(name, default)
    }

    fn bool_flag(&self, name: &str, default: bool) -> Result<bool, String> {
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

/// Whether `TF_INPUT` turns interactive input off.
fn input_disabled_by_env() -> bool {
    std::env::var("TF_INPUT")
        .ok()
        .and_then(|v| parse_go_bool(&v))
        .is_some_and(|v| !v)
}

/// Go's `strconv.ParseBool`.
fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Whether `TF_IN_AUTOMATION` is set: the "next steps" hints after plan
/// and init are left out then.
pub fn in_automation() -> bool {
    std::env::var_os("TF_IN_AUTOMATION").is_some_and(|v| !v.is_empty())
}

/// Commands with subcommands, for `TF_CLI_ARGS_<cmd>_<sub>` and completion.
const NESTED: &[(&str, &[&str])] = &[
    (
        "state",
        &[
            "list",
            "mv",
            "pull",
            "push",
            "replace-provider",
            "rm",
            "show",
        ],
    ),
    ("workspace", &["delete", "list", "new", "select", "show"]),
    ("providers", &["lock", "mirror", "schema"]),
];

/// Top-level commands, for completion.
const COMMANDS: &[&str] = &[
    "apply",
    "console",
    "destroy",
    "drift",
    "fmt",
    "force-unlock",
    "get",
    "graph",
    "import",
    "init",
    "output",
    "plan",
    "providers",
    "refresh",
    "show",
    "state",
    "taint",
    "untaint",
    "validate",
    "version",
    "workspace",
];

/// Flags offered for completion, where Terraform 1.0.3 offers any.
const COMMAND_FLAGS: &[(&str, &[&str])] = &[
    (
        "init",
        &[
            "-backend",
            "-backend-config",
            "-force-copy",
            "-from-module",
            "-get",
            "-input",
            "-migrate-state",
            "-no-color",
            "-plugin-dir",
            "-reconfigure",
            "-upgrade",
        ],
    ),
    ("workspace new", &["-state"]),
    ("workspace delete", &["-force"]),
];

const GLOBAL_FLAGS: &[&str] = &[
    "-help",
    "-install-autocomplete",
    "-uninstall-autocomplete",
    "-version",
];

/// The words completing `line` (the command line up to the cursor): the
/// last word is the prefix to complete; the words before it select
/// commands, subcommands, flags or, for `workspace select`/`delete`,
/// workspace names.
fn completions(line: &str) -> Vec<String> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    let partial = if line.ends_with(char::is_whitespace) || words.is_empty() {
        ""
    } else {
        words.pop().unwrap_or_default()
    };
    // The program name, then global flags, then the command.
    let args: Vec<&str> = words
        .iter()
        .skip(1)
        .filter(|w| !w.starts_with('-'))
        .copied()
        .collect();
    let candidates: Vec<String> = match args.as_slice() {
        [] if partial.starts_with('-') => GLOBAL_FLAGS.iter().map(|s| s.to_string()).collect(),
        [] => COMMANDS.iter().map(|s| s.to_string()).collect(),
        [cmd, rest @ ..] => {
            let nested = NESTED.iter().find(|(c, _)| c == cmd).map(|(_, s)| *s);
            let (path, rest) = match (nested, rest.first()) {
                (Some(subs), Some(sub)) if subs.contains(sub) => {
                    (format!("{cmd} {sub}"), &rest[1..])
                }
                _ => (cmd.to_string(), rest),
            };
            if partial.starts_with('-') {
                COMMAND_FLAGS
                    .iter()
                    .find(|(c, _)| *c == path)
                    .map(|(_, f)| f.iter().map(|s| s.to_string()).collect())
                    .unwrap_or_default()
            } else if let (Some(subs), true) = (nested, path == *cmd && rest.is_empty()) {
                subs.iter().map(|s| s.to_string()).collect()
            } else if rest.is_empty() && (path == "workspace select" || path == "workspace delete")
            {
                workspace_names()
            } else {
                Vec::new()
            }
        }
    };
    candidates
        .into_iter()
        .filter(|c| c.starts_with(partial))
        .collect()
}

/// `default` and the workspaces under `terraform.tfstate.d`.
fn workspace_names() -> Vec<String> {
    let mut names = vec!["default".to_string()];
    if let Ok(entries) = std::fs::read_dir("terraform.tfstate.d") {
        let mut found: Vec<String> = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "default")
            .collect();
        found.sort();
        names.extend(found);
    }
    names
}

/// `-install-autocomplete` / `-uninstall-autocomplete`: the line
/// `complete -C BINARY NAME` in `~/.bashrc` and (with bash completion
/// loaded first) in `~/.zshrc`, for each of the two files that exists.
fn autocomplete(install: bool, uninstall: bool) -> i32 {
    if install && uninstall {
        eprintln!("Error executing CLI: Either the autocomplete install or uninstall flag may be set, not both.");
        return 1;
    }
    let exe = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Error executing CLI: {}", io_reason(&e));
            return 1;
        }
    };
    let name = exe
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "terrane".into());
    let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else {
        eprintln!("Error executing CLI: 1 error occurred:\n\t* $HOME is not set\n\n");
        return 1;
    };
    let home = std::path::PathBuf::from(home);
    let bash_line = format!("complete -C {} {name}", exe.display());
    let zsh_line = format!("complete -o nospace -C {} {name}", exe.display());
    const ZSH_INIT: &str = "autoload -U +X bashcompinit && bashcompinit";
    let shells = [
        (home.join(".bashrc"), vec![bash_line]),
        (home.join(".zshrc"), vec![ZSH_INIT.to_string(), zsh_line]),
    ];
    let mut found = false;
    let mut errors = Vec::new();
    for (rc, lines) in &shells {
        let Ok(text) = std::fs::read_to_string(rc) else {
            continue;
        };
        found = true;
        let completion = lines.last().map(String::as_str).unwrap_or_default();
        let has = text.lines().any(|l| l == completion);
        let result = if install {
            if has {
                errors.push(format!("already installed in {}", rc.display()));
                continue;
            }
            // Each missing line goes at the end, after a blank line.
            let mut add = String::new();
            for l in lines {
                if !text.lines().any(|t| t == l) {
                    add.push_str(&format!("\n{l}\n"));
                }
            }
            append(rc, &add)
        } else {
            if !has {
                errors.push(format!("does not installed in {}", rc.display()));
                continue;
            }
            let kept: String = text
                .split_inclusive('\n')
                .filter(|l| l.trim_end_matches('\n') != completion)
                .collect();
            std::fs::write(rc, kept)
        };
        if let Err(e) = result {
            errors.push(format!("{}: {}", rc.display(), io_reason(&e)));
        }
    }
    if !found {
        eprintln!("Error executing CLI: Did not find any shells to install");
        return 1;
    }
    if !errors.is_empty() {
        let list: String = errors.iter().map(|e| format!("\t* {e}\n")).collect();
        let n = errors.len();
        let noun = if n == 1 { "error" } else { "errors" };
        eprintln!("Error executing CLI: {n} {noun} occurred:\n{list}\n");
        return 1;
    }
    0
}

fn append(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path)?;
    f.write_all(text.as_bytes())
}

/// Splits `s` into words as a POSIX shell does (quotes, backslashes); None
/// for an unterminated quote or a trailing backslash.
fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        x => cur.push(x),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => {
                            let x = chars.next()?;
                            if !matches!(x, '"' | '\\' | '$' | '`') {
                                cur.push('\\');
                            }
                            cur.push(x);
                        }
                        x => cur.push(x),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(chars.next()?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_split_as_a_shell_does() {
        assert_eq!(
            shell_words(r#"-var 'a=b c' -var="x=\"y\"" plain\ word  "#),
            Some(vec![
                "-var".to_string(),
                "a=b c".to_string(),
                "-var=x=\"y\"".to_string(),
                "plain word".to_string(),
            ])
        );
        assert_eq!(shell_words("'open"), None);
        assert_eq!(shell_words(""), Some(vec![]));
    }

    #[test]
    fn completions_of_commands_subcommands_and_flags() {
        assert_eq!(completions("terrane pl"), vec!["plan"]);
        assert_eq!(completions("terrane state l"), vec!["list"]);
        assert_eq!(completions("terrane workspace s"), vec!["select", "show"]);
        assert_eq!(
            completions("terrane init -b"),
            vec!["-backend", "-backend-config"]
        );
        assert_eq!(
            completions("terrane -"),
            vec![
                "-help",
                "-install-autocomplete",
                "-uninstall-autocomplete",
                "-version"
            ]
        );
        assert!(completions("terrane plan -").is_empty());
        assert!(completions("terrane ").contains(&"graph".to_string()));
    }
}
