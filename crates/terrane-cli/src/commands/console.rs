//! `terrane console`: evaluate expressions against the configuration in the
//! working directory, like `terraform console` (1.0.3).
//!
//! Standard input that is not a terminal is read as a batch: every line is
//! evaluated, only the last result is printed and the first error stops it
//! (exit status 1). On a terminal it is interactive.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;

use terrane_lang::console::render_diagnostic;
use terrane_lang::varvalues::{self, VarArg};
use terrane_lang::{console_batch, console_interactive, render_diagnostics, Scope};

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
    let mut var_args: Vec<VarArg> = Vec::new();
    let mut state_path: Option<String> = None;
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
                match name {
                    "var" => var_args.push(VarArg::Var(value)),
                    "var-file" => var_args.push(VarArg::File(value)),
                    _ => state_path = Some(value),
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
    // Variables: environment, automatic files, then -var/-var-file in
    // order. Warnings go to standard output, errors to standard error.
    let (raw, mut vdiags) = varvalues::collect(
        Path::new("."),
        Path::new("."),
        &var_args,
        &varvalues::process_env(),
        &module.variables,
    );
    let values = if vdiags.has_errors() {
        None
    } else {
        let (values, d) = varvalues::finalize(&module, &raw, varvalues::Missing::Unknown);
        vdiags.extend(d);
        Some(values)
    };
    for d in vdiags.iter() {
        let text = render_diagnostic(d);
        if d.is_error() {
            eprint!("{text}");
        } else {
            print!("{text}");
        }
    }
    let values = match values {
        Some(v) if !vdiags.has_errors() => v,
        _ => return 1,
    };
    let mut scope = Scope::from_module_with_values(&module, values);
    scope.workspace = super::statefile::current_workspace();
    let ui = crate::ui::Ui::new(args);
    match super::statefile::read_current(state_path.map(std::path::PathBuf::from), &ui) {
        Ok(Some(file)) => load_state(&mut scope, &file),
        Ok(None) => {}
        Err(()) => return 1,
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

/// Makes the root module's resources in the state visible to expressions,
/// typed by their provider's schema when terrane has the provider built in.
fn load_state(scope: &mut Scope, file: &terrane_state::StateFile) {
    let type_of = |provider: &str,
                   mode: terrane_state::Mode,
                   type_name: &str|
     -> Option<terrane_value::Type> {
        let source = provider.split("provider[\"").nth(1)?.split('"').next()?;
        let p = terrane_providers::builtin(source)?;
        let schema = p.get_schema().schema;
        let s = match mode {
            terrane_state::Mode::Managed => schema.resource(type_name)?,
            terrane_state::Mode::Data => schema.data_source(type_name)?,
        };
        Some(s.block.implied_type())
    };
    // The state's objects replace the unknown placeholders the scope
    // gives every declared resource and data source: Terraform's console
    // shows what the last apply recorded (a data source such as
    // terraform_remote_state is not read again).
    let (managed, data) = terrane_core::state::root_resource_values(&file.state, &type_of);
    scope.resources.extend(managed);
    scope.data.extend(data);
}
