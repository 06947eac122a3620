//! The `terrane` binary: Terraform's global options and commands.

mod cli;
mod commands;
mod planfmt;
mod provider_factory;
mod ui;

pub use cli::GlobalOptions;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = cli::run(args);
    std::process::exit(code);
}
