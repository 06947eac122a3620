//! `get`: installs the configuration's modules (the module step of `init`
//! on its own), printing Terraform 1.0.3's lines without a heading.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use terrane_install::cliconfig::{self, CliEnv};
use terrane_install::modules::{install_modules, ModuleInstallOptions};
use terrane_install::{Discovery, HttpClient};

use crate::cli::Flags;
use crate::ui::Ui;

const USAGE: &str = "Usage: terrane [global options] get [options]

  Downloads and installs modules needed for the configuration in the
  current working directory.

  This recursively downloads all modules needed, such as modules
  imported by modules imported by the root and so on. If a module is
  already downloaded, it will not be redownloaded or checked for updates
  unless the -update flag is specified.

  Module installation also happens automatically by default as part of
  the \"terrane init\" command, so you should rarely need to run this
  command separately.

Options:

  -update             Check already-downloaded modules for available updates
                      and install the newest versions available.

  -no-color           Disable text coloring in the output.
";

pub fn run(args: &[String], ui: &Ui) -> i32 {
    if args
        .iter()
        .any(|a| a == "-help" || a == "-h" || a == "--help")
    {
        print!("{USAGE}");
        return 0;
    }
    let flags = match Flags::parse(args, &["update", "no-color"], &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            return 1;
        }
    };
    if let Some(dir) = flags.positional.first() {
        eprintln!(
            "The get command takes no positional arguments (got {dir:?}); use -chdir={dir} to install the modules of another directory."
        );
        return 1;
    }
    let upgrade = match flags.bool("update", false) {
        Ok(u) => u,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let dir = Path::new(".");
    let cwd = std::env::current_dir().unwrap_or_else(|_| dir.to_path_buf());
    let (config, config_diags) = cliconfig::load(&CliEnv::from_process(&cwd));
    if config_diags.has_errors() {
        ui.diagnostics(config_diags.iter());
        return 1;
    }
    let client = HttpClient::new().with_credentials(config.credentials.clone());
    let mut discovery = Discovery::new(client);
    for (host, services) in &config.hosts {
        discovery.force_host_services(host, services.clone());
    }
    let opts = ModuleInstallOptions {
        upgrade,
        discovery: Arc::new(discovery),
        ..Default::default()
    };
    // A closed stdout (`| head`) must not stop the installation.
    let mut print = |e: terrane_install::modules::ModuleEvent| {
        let _ = writeln!(std::io::stdout().lock(), "{e}");
    };
    match install_modules(dir, &opts, &mut print) {
        Ok(_) => 0,
        Err(diags) => {
            ui.diagnostics(diags.iter());
            1
        }
    }
}
