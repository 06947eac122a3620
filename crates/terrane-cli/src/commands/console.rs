//! `terrane console`: evaluate expressions against the configuration in the
//! working directory, like `terraform console` (1.0.3).
//!
//! Standard input that is not a terminal is read as a batch: every line is
//! evaluated, only the last result is printed and the first error stops it
//! (exit status 1). On a terminal it is interactive.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use terrane_lang::{console_batch, console_interactive, render_diagnostics, Scope};
use terrane_value::Value;

const HELP: &str = "Usage: terrane [global options] console [options]

  Starts an interactive console for experimenting with Terraform
  interpolations.

  This will open an interactive console that you can use to type
  interpolations into and inspect their values. This command loads the
  current state. This lets you explore and test interpolations before
  using them in future configurations.

  This command will never modify your state.

Options:

  -state=path       Legacy option for the local backend only. See the local
                    backend's documentation for more information.

  -var 'foo=bar'    Set a variable in the Terraform configuration. This
                    flag can be set multiple times.

  -var-file=foo     Set variables in the Terraform configuration from
                    a file. If \"terraform.tfvars\" or any \".auto.tfvars\"
                    files are present, they will be automatically loaded.
";

pub fn run(args: &[String], _global: &crate::GlobalOptions) -> i32 {
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].trim_start_matches('-');
        let (name, value) = match a.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (a, None),
        };
        match name {
            "help" | "h" => {
                println!("{HELP}");
                return 0;
            }
            "no-color" | "compact-warnings" => {}
            "var" | "var-file" | "state" => {
                let value = match value {
                    Some(v) => v,
                    None => {
                        i += 1;
                        match args.get(i) {
                            Some(v) => v.clone(),
                            None => {
                                eprintln!("flag needs an argument: -{name}");
                                return 1;
                            }
                        }
                    }
                };
                if name == "var" {
                    match value.split_once('=') {
                        Some((k, v)) => vars.push((k.to_string(), v.to_string())),
                        None => {
                            eprintln!("\nError: Invalid -var option\n\nThe given -var option {value:?} is not correctly specified. Must be a variable name and value separated by an equals sign, like -var=\"key=value\".\n");
                            return 1;
                        }
                    }
                }
            }
            _ => {
                eprintln!("flag provided but not defined: -{name}\n{HELP}");
                return 1;
            }
        }
        i += 1;
    }

    let (module, diags) = terrane_config::load_module(Path::new("."), "");
    if diags.has_errors() {
        eprint!("{}", render_diagnostics(&diags));
        return 1;
    }
    let mut scope = Scope::from_module(&module);
    for (k, v) in vars {
        scope.variables.insert(k, Value::string(v));
    }

    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    if stdin.is_terminal() {
        let mut input = stdin.lock();
        let mut out = stdout.lock();
        let mut err = stderr.lock();
        return console_interactive(&scope, &mut input, &mut out, &mut err);
    }
    let mut input = String::new();
    if let Err(e) = stdin.lock().read_to_string(&mut input) {
        eprintln!("Error reading standard input: {e}");
        return 1;
    }
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let code = console_batch(&input, &scope, &mut out, &mut err);
    let _ = out.flush();
    code
}
