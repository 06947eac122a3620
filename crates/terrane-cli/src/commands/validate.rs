//! `terrane validate`: loads the configuration (with local child modules)
//! and runs every check that needs no provider schema.

use crate::cli::Flags;
use crate::ui::Ui;
use std::path::PathBuf;
use terrane_hcl::{render, Diagnostics, Severity};

const USAGE: &str = "Usage: terrane [global options] validate [options]

  Validate the configuration files in a directory, referring only to the
  configuration and not accessing any remote services such as remote state,
  provider APIs, etc.

Options:

  -json        Produce output in a machine-readable JSON format, suitable for
               use in text editor integrations and other automated systems.
               Always disables color.

  -no-color    If specified, output won't contain any color.
";

pub fn run(args: &[String], ui: &Ui) -> i32 {
    let flags = match Flags::parse(args, &["json", "no-color", "help"], &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            return 1;
        }
    };
    if flags.has("help") {
        print!("{USAGE}");
        return 0;
    }
    let json = flags.bool("json", false).unwrap_or(false);
    let dir = flags
        .positional
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut diags = terrane_config::validate::validate_dir(&dir);
    // `removed` blocks' addresses (Terraform checks them as it loads).
    if !diags.has_errors() {
        let (tree, _) = terrane_config::load_tree(&dir);
        for d in terrane_core::removed::address_errors(&tree) {
            diags.push(d);
        }
    }
    if json {
        print_json(&diags);
    } else {
        ui.diagnostics(diags.iter());
        if !diags.has_errors() {
            let warned = diags.iter().any(|d| d.severity == Severity::Warning);
            let tail = if warned {
                " The configuration is valid, but there were some validation warnings as shown above."
            } else {
                " The configuration is valid."
            };
            if ui.color {
                println!("\x1b[32m\x1b[1mSuccess!\x1b[0m{tail}\n\x1b[0m");
            } else {
                println!("Success!{tail}\n");
            }
        }
    }
    if diags.has_errors() {
        1
    } else {
        0
    }
}

fn print_json(diags: &Diagnostics) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    let out = serde_json::json!({
        "format_version": "0.1",
        "valid": errors == 0,
        "error_count": errors,
        "warning_count": warnings,
        "diagnostics": diags.iter().map(render::json).collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
}
