//! `import ADDR ID`: bring an existing remote object under management by
//! asking its provider for it (`ImportResourceState`), reading it
//! (`ReadResource`) and writing it to the state at ADDR, with Terraform
//! 1.0.3's flags, messages and exit codes. Nothing is planned or changed.
//!
//! Also the UI lines of `import` blocks during plan and apply
//! ([`ui_events`]).

use crate::cli::Flags;
use crate::ui::Ui;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use terrane_config::{ModuleTree, ResourceMode};
use terrane_core::addrs::{ResourceInstanceAddr, TargetAddr};
use terrane_core::engine::Engine;
use terrane_core::import::{ImportEvent, ImportEvents, ImportTarget, ImportedObject};
use terrane_core::walk::PlanOptions;
use terrane_hcl::Diagnostic;
use terrane_lang::varvalues::{self, Missing, VarArg};
use terrane_state::Backup;

const USAGE: &str = "Usage: terraform [global options] import [options] ADDR ID

  Import existing infrastructure into your Terraform state.

  This will find and import the specified resource into your Terraform
  state, allowing existing infrastructure to come under Terraform
  management without having to be initially created by Terraform.

  The ADDR specified is the address to import the resource to. Please
  see the documentation online for resource addresses. The ID is a
  resource-specific ID to identify that resource being imported. Please
  reference the documentation for the resource type you're importing to
  determine the ID syntax to use. It typically matches directly to the ID
  that the provider uses.

  This command will not modify your infrastructure, but it will make
  network requests to inspect parts of your infrastructure relevant to
  the resource being imported.

Options:

  -config=path            Path to a directory of Terraform configuration files
                          to use to configure the provider. Defaults to pwd.

  -allow-missing-config   Allow import when no resource configuration block exists.

  -input=false            Disable interactive input prompts.

  -lock=false             Don't hold a state lock during the operation.

  -lock-timeout=0s        Duration to retry a state lock.

  -no-color               If specified, output won't contain any color.

  -var 'foo=bar'          Set a variable in the Terraform configuration. This
                          flag can be set multiple times.

  -var-file=foo           Set variables in the Terraform configuration from
                          a file.

  -ignore-remote-version  Accepted for compatibility; has no effect with the
                          local backend.

  -state, state-out, and -backup are legacy options supported for the local
  backend only.
";

/// Where Terraform's address syntax is documented (printed after an
/// address error, as Terraform does).
const ADDRESS_HELP: &str = "For information on valid syntax, see:\nhttps://www.terraform.io/docs/cli/state/resource-addressing.html";

struct Options {
    config_dir: PathBuf,
    allow_missing_config: bool,
    lock: bool,
    lock_timeout: std::time::Duration,
    vars: Vec<VarArg>,
    /// `-state=PATH`, else the backend's state.
    state_path: Option<PathBuf>,
    state_out: Option<PathBuf>,
    backup: Backup,
}

fn parse(args: &[String]) -> Result<(Options, Vec<String>), String> {
    let flags = Flags::parse(
        args,
        &[
            "config",
            "allow-missing-config",
            "input",
            "lock",
            "lock-timeout",
            "no-color",
            "var",
            "var-file",
            "state",
            "state-out",
            "backup",
            "ignore-remote-version",
        ],
        &[
            "config",
            "lock-timeout",
            "var",
            "var-file",
            "state",
            "state-out",
            "backup",
        ],
    )?;
    let mut vars = Vec::new();
    for (name, value) in flags.values() {
        match (name.as_str(), value) {
            ("var", Some(v)) => vars.push(VarArg::Var(v.clone())),
            ("var-file", Some(v)) => vars.push(VarArg::File(v.clone())),
            _ => {}
        }
    }
    // Accepted and checked, as Terraform does; prompts are never shown.
    flags.bool("input", true)?;
    flags.bool("ignore-remote-version", false)?;
    let opts = Options {
        config_dir: PathBuf::from(flags.value("config").unwrap_or(".")),
        allow_missing_config: flags.bool("allow-missing-config", false)?,
        lock: flags.bool("lock", true)?,
        lock_timeout: match flags.value("lock-timeout") {
            None => std::time::Duration::ZERO,
            Some(v) => super::statefile::parse_duration(v).ok_or_else(|| {
                format!("invalid value {v:?} for flag -lock-timeout: invalid duration")
            })?,
        },
        vars,
        state_path: flags
            .value("state")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
        state_out: flags
            .value("state-out")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
        backup: match flags.value("backup") {
            Some("-") => Backup::Disabled,
            Some(p) if !p.is_empty() => Backup::Path(PathBuf::from(p)),
            _ => Backup::Default,
        },
    };
    Ok((opts, flags.positional))
}

pub fn run(args: &[String], ui: &Ui) -> i32 {
    let (opts, positional) = match parse(args) {
        Ok(p) => p,
        // Terraform 1.0.3 answers any flag error of import (an unknown
        // flag such as -json, a bad value) with the usage alone.
        Err(_) => {
            eprintln!("{USAGE}");
            return 1;
        }
    };
    if positional.len() != 2 {
        eprintln!("The import command expects two arguments.\n{USAGE}");
        return 1;
    }
    let Some(addr) = parse_address(&positional[0], ui) else {
        return 1;
    };
    let id = positional[1].clone();

    let dir = opts.config_dir.as_path();
    // Terraform 1.0.3 needs configuration files even for
    // `-allow-missing-config` (their provider configurations).
    let has_files = terrane_config::loader::config_files(dir)
        .is_ok_and(|(primary, overrides)| !primary.is_empty() || !overrides.is_empty());
    if !has_files {
        let shown = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        ui.diagnostics([&Diagnostic::error(
            "No Terraform configuration files",
            format!("The directory {} does not contain any Terraform configuration files (.tf or .tf.json). To specify a different configuration directory, use the -config=\"...\" command line option.", shown.display()),
        )]);
        return 1;
    }
    let (tree, mut diags) = terrane_config::load_tree(dir);
    diags.extend(terrane_install::modules::check_installed(dir, &tree));
    if !diags.has_errors() {
        diags.extend(terrane_config::validate::validate_tree(&tree));
    }
    if diags.has_errors() {
        ui.diagnostics(diags.iter());
        return 1;
    }
    if let Err(code) = check_in_config(&tree, &addr, opts.allow_missing_config, ui) {
        return code;
    }
    // `-allow-missing-config`: an empty block stands in for a missing one,
    // so the module's default provider for the type is used.
    let mut tree = tree;
    if opts.allow_missing_config {
        if let Err(d) = add_stub_resource(&mut tree, &addr) {
            ui.diagnostics(d.iter());
            return 1;
        }
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let (given, d) = varvalues::collect(
        dir,
        &cwd,
        &opts.vars,
        &varvalues::process_env(),
        &tree.module.variables,
    );
    diags.extend(d);
    let (root_vars, d) = varvalues::finalize(&tree.module, &given, Missing::Error);
    diags.extend(d);
    if diags.has_errors() {
        ui.diagnostics(diags.iter());
        return 1;
    }

    let lock = super::statefile::LockOptions {
        lock: opts.lock,
        timeout: opts.lock_timeout,
    };
    let Some(location) = super::statefile::locate(opts.state_path.clone(), ui) else {
        return 1;
    };
    let Some(mut open) = super::statefile::open(
        &location,
        opts.backup.clone(),
        Some(&lock),
        "OperationTypeImport",
        ui,
    ) else {
        return 1;
    };
    let prior = open.file().map(|f| f.state.clone());

    let factory = match crate::provider_factory::Selections::for_working_dir(Path::new(".")) {
        Ok(sel) => crate::provider_factory::Factory::new(sel),
        Err(d) => {
            ui.diagnostics(d.iter());
            return 1;
        }
    };
    let preflight = factory.preflight(&tree);
    if preflight.has_errors() {
        ui.diagnostics(preflight.iter());
        return 1;
    }
    let engine = Engine {
        tree: &tree,
        factory: &factory,
        root_vars,
        prior_state: prior.clone(),
    };
    let plan_opts = PlanOptions {
        refresh: false,
        workspace: super::statefile::current_workspace(),
        imports: vec![ImportTarget {
            addr: addr.clone(),
            id,
            range: None,
        }],
        import_only: true,
        import_events: Some(command_events(ui.color)),
        interrupt: Some(terrane_core::interrupt::install()),
        ..Default::default()
    };
    let (plan, d) = engine.plan(&plan_opts, None);
    if d.has_errors() {
        ui.diagnostics(d.iter());
        return 1;
    }
    let Some(imported) = plan.imports.iter().find(|i| i.addr == addr) else {
        ui.diagnostics([&Diagnostic::error(
            "Import failed",
            format!("No object was imported for {addr}."),
        )]);
        return 1;
    };
    if let Err(d) = write_state(&mut open, prior.unwrap_or_default(), imported, &opts, ui) {
        ui.diagnostics([&d]);
        return 1;
    }
    open.close();
    ui.diagnostics(d.iter());
    let text = "[reset][green]\n[reset][green][bold]Import successful![reset][green]\n\n[reset][green]The resources that were imported are shown above. These resources are now in\nyour Terraform state and will henceforth be managed by Terraform.\n";
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", colorize(text, ui.color));
    0
}

/// ADDR as a managed resource instance address, with Terraform's errors.
fn parse_address(raw: &str, ui: &Ui) -> Option<ResourceInstanceAddr> {
    let invalid = |summary: &str, detail: &str| {
        ui.diagnostics([&Diagnostic::error(summary, detail)]);
        println!("{ADDRESS_HELP}");
    };
    let target = match TargetAddr::parse(raw) {
        Ok(t) => t,
        Err(detail) => {
            let summary = if detail.starts_with("Dot must be followed") {
                "Attribute name required"
            } else {
                "Invalid address"
            };
            invalid(summary, &detail);
            return None;
        }
    };
    let Some(addr) = target.instance() else {
        invalid(
            "Invalid address",
            "A resource instance address is required here. The module path must be followed by a resource instance specification.",
        );
        return None;
    };
    if addr.resource.mode == ResourceMode::Data {
        ui.diagnostics([&Diagnostic::error(
            "A managed resource address is required. Importing into a data resource is not allowed.",
            "",
        )]);
        return None;
    }
    Some(addr)
}

/// Terraform 1.0.3 requires the module and the resource block to exist
/// (not the instance key: `count` and `for_each` are not checked).
fn check_in_config(
    tree: &ModuleTree,
    addr: &ResourceInstanceAddr,
    allow_missing: bool,
    ui: &Ui,
) -> Result<(), i32> {
    let mut node = tree;
    let mut path = Vec::new();
    for step in &addr.resource.module.0 {
        path.push(step.clone());
        let Some(child) = node.children.get(&step.name) else {
            let module = terrane_core::addrs::ModuleInstance(path).to_string();
            ui.diagnostics([&Diagnostic::error(
                "Import to non-existent module",
                format!("{module} is not defined in the configuration. Please add configuration for this module before importing into it."),
            )]);
            return Err(1);
        };
        node = child;
    }
    let key = format!("{}.{}", addr.resource.type_name, addr.resource.name);
    if node.module.managed_resources.contains_key(&key) || allow_missing {
        return Ok(());
    }
    let module = if addr.resource.module.0.is_empty() {
        "the root module".to_string()
    } else {
        addr.resource.module.to_string()
    };
    let text = format!(
        "[reset][red][bold]Error:[reset][bold] resource address {:?} does not exist in the configuration.[reset]\n\nBefore importing this resource, please create its configuration in {module}. For example:\n\nresource {:?} {:?} {{\n  # (resource arguments)\n}}\n",
        addr.to_string(),
        addr.resource.type_name,
        addr.resource.name
    );
    eprintln!("{}", colorize(&text, ui.color));
    Err(1)
}

/// Adds `resource "T" "N" {}` to the target's module when it has no
/// such block.
fn add_stub_resource(
    tree: &mut ModuleTree,
    addr: &ResourceInstanceAddr,
) -> Result<(), terrane_hcl::Diagnostics> {
    let mut node = tree;
    for step in &addr.resource.module.0 {
        match node.children.get_mut(&step.name) {
            Some(child) => node = child,
            None => return Ok(()),
        }
    }
    let key = format!("{}.{}", addr.resource.type_name, addr.resource.name);
    if node.module.managed_resources.contains_key(&key) {
        return Ok(());
    }
    let stub = format!(
        "resource {:?} {:?} {{}}\n",
        addr.resource.type_name, addr.resource.name
    );
    let (m, d) = terrane_config::load_source("<import-stub>.tf", &stub);
    if d.has_errors() {
        return Err(d);
    }
    node.module.managed_resources.extend(m.managed_resources);
    Ok(())
}

/// Writes the state with the imported object added (to `-state-out` when
/// given), with the local backend's backup rules.
fn write_state(
    open: &mut super::statefile::OpenState,
    mut state: terrane_state::State,
    obj: &ImportedObject,
    opts: &Options,
    ui: &Ui,
) -> Result<(), Diagnostic> {
    let inst = terrane_core::state::value_to_instance(
        &obj.value,
        &obj.schema,
        &obj.addr.key,
        &[],
        false,
        &obj.private,
        false,
    );
    terrane_state::apply_changes(
        &mut state,
        &[terrane_state::journal::Change::SetInstance {
            resource: terrane_state::journal::ResourceAddr {
                module: obj.addr.resource.module.to_string(),
                mode: terrane_state::Mode::Managed,
                type_: obj.addr.resource.type_name.clone(),
                name: obj.addr.resource.name.clone(),
            },
            provider: obj.provider.clone(),
            instance: inst,
        }],
    );
    let failed = |e: terrane_state::StateWriteError| {
        Diagnostic::error("Failed to write state", format!("Error saving state: {e}"))
    };
    match &opts.state_out {
        None => open.mgr.write(&state).map(|_| ()).map_err(failed),
        Some(out) => {
            let Some(mut mgr) = super::statefile::manager(
                &open.location,
                Some(out.clone()),
                opts.backup.clone(),
                ui,
            ) else {
                return Err(Diagnostic::error(
                    "Failed to write state",
                    format!("The state could not be written to {}.", out.display()),
                ));
            };
            mgr.refresh().map_err(failed)?;
            mgr.write(&state).map(|_| ()).map_err(failed)
        }
    }
}

/// Terraform's colour codes for the few lines this command writes.
fn colorize(s: &str, color: bool) -> String {
    let codes = [
        ("[reset]", "\x1b[0m"),
        ("[bold]", "\x1b[1m"),
        ("[red]", "\x1b[31m"),
        ("[green]", "\x1b[32m"),
    ];
    let mut out = s.to_string();
    for (tag, code) in codes {
        out = out.replace(tag, if color { code } else { "" });
    }
    if color {
        out.push_str("\x1b[0m");
    }
    out
}

fn print_line(text: &str, color: bool) {
    let mut o = std::io::stdout().lock();
    let _ = writeln!(o, "{}", colorize(text, color));
    let _ = o.flush();
}

/// The `import` command's progress lines (Terraform 1.0.3's).
fn command_events(color: bool) -> ImportEvents {
    ImportEvents(Arc::new(move |e: &ImportEvent| {
        match e {
        ImportEvent::Importing { addr, id } => {
            print_line(&format!("[reset][bold]{addr}: Importing from ID {id:?}..."), color)
        }
        ImportEvent::Prepared { addr, type_name } => print_line(
            &format!("[reset][bold][green]{addr}: Import prepared!\n[reset][green]  Prepared {type_name} for import"),
            color,
        ),
        ImportEvent::Refreshing { addr, id } => {
            let id = id.as_deref().map(|i| format!(" [id={i}]")).unwrap_or_default();
            print_line(&format!("[reset][bold]{addr}: Refreshing state...{id}"), color)
        }
        ImportEvent::ApplyStart { .. } | ImportEvent::ApplyDone { .. } => {}
    }
    }))
}

/// The lines `import` blocks add to plan and apply output (Terraform
/// 1.5's): "Preparing import..." while planning, "Importing..." and
/// "Import complete" while applying. With `-json`, nothing.
pub fn ui_events(ui: &Ui) -> Option<ImportEvents> {
    if ui.json.is_some() {
        return None;
    }
    let color = ui.color;
    Some(ImportEvents(Arc::new(move |e: &ImportEvent| match e {
        ImportEvent::Importing { addr, id } => print_line(
            &format!("[reset][bold]{addr}: Preparing import... [id={id}]"),
            color,
        ),
        ImportEvent::Refreshing { addr, id } => {
            let id = id
                .as_deref()
                .map(|i| format!(" [id={i}]"))
                .unwrap_or_default();
            print_line(
                &format!("[reset][bold]{addr}: Refreshing state...{id}"),
                color,
            )
        }
        ImportEvent::Prepared { .. } => {}
        ImportEvent::ApplyStart { addr, id } => print_line(
            &format!("[reset][bold]{addr}: Importing... [id={id}]"),
            color,
        ),
        ImportEvent::ApplyDone { addr, id } => print_line(
            &format!("[reset][bold]{addr}: Import complete [id={id}]"),
            color,
        ),
    })))
}

/// The apply summary with Terraform 1.5's import count ("Resources: 1
/// imported, 0 added, ...") when the plan imported objects.
pub fn summary_with_imports(summary: String, imported: usize) -> String {
    if imported == 0 {
        return summary;
    }
    summary.replacen(
        "Resources: ",
        &format!("Resources: {imported} imported, "),
        1,
    )
}

/// `plan -generate-config-out=PATH`: for `import` blocks whose root-module
/// resource has no block, imports the objects (nothing is planned yet),
/// writes their configuration to PATH (which must not exist) and reports
/// Terraform's warning. `Ok(true)`: PATH was written and the
/// configuration must be loaded again.
pub fn generate_config(
    tree: &ModuleTree,
    root_vars: &std::collections::BTreeMap<String, terrane_value::Value>,
    path: &Path,
    diags: &mut terrane_hcl::Diagnostics,
    ui: &Ui,
) -> Result<bool, i32> {
    if path.exists() {
        ui.diagnostics([&Diagnostic::error(
            "Target generated file already exists",
            format!("Terraform writes generated configuration only to a new file, and {} already exists. Choose another path, or move its configuration elsewhere and delete it, then try again.", path.display()),
        )]);
        return Err(1);
    }
    let workspace = super::statefile::current_workspace();
    let (targets, d) = terrane_core::import::block_targets(tree, root_vars, &workspace);
    if d.has_errors() {
        ui.diagnostics(d.iter());
        return Err(1);
    }
    let missing: Vec<ImportTarget> = targets
        .into_iter()
        .filter(|t| {
            let r = &t.addr.resource;
            r.module.0.is_empty()
                && !tree
                    .module
                    .managed_resources
                    .contains_key(&format!("{}.{}", r.type_name, r.name))
        })
        .collect();
    if missing.is_empty() {
        return Ok(false);
    }
    // Empty blocks stand in for the missing ones while importing.
    let mut stub_tree = tree.clone();
    let mut stubs = String::new();
    let mut seen = std::collections::BTreeSet::new();
    for t in &missing {
        let r = &t.addr.resource;
        if seen.insert((r.type_name.clone(), r.name.clone())) {
            stubs.push_str(&format!("resource {:?} {:?} {{}}\n", r.type_name, r.name));
        }
    }
    let (stub_module, d) = terrane_config::load_source("generated.tf", &stubs);
    if d.has_errors() {
        ui.diagnostics(d.iter());
        return Err(1);
    }
    stub_tree
        .module
        .managed_resources
        .extend(stub_module.managed_resources);
    let factory = match crate::provider_factory::Selections::for_working_dir(Path::new(".")) {
        Ok(sel) => crate::provider_factory::Factory::new(sel),
        Err(d) => {
            ui.diagnostics(d.iter());
            return Err(1);
        }
    };
    let engine = Engine {
        tree: &stub_tree,
        factory: &factory,
        root_vars: root_vars.clone(),
        prior_state: None,
    };
    let opts = PlanOptions {
        workspace,
        imports: missing,
        import_only: true,
        interrupt: Some(terrane_core::interrupt::install()),
        ..Default::default()
    };
    let (plan, d) = engine.plan(&opts, None);
    if d.has_errors() {
        ui.diagnostics(d.iter());
        return Err(1);
    }
    let objects: Vec<&ImportedObject> = plan.imports.iter().collect();
    let text = match terrane_core::genconfig::generate(&objects) {
        Ok(t) => t,
        Err(d) => {
            ui.diagnostics(d.iter());
            return Err(1);
        }
    };
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        ui.diagnostics([&Diagnostic::error(
            "Failed to write generated configuration",
            format!(
                "Could not create {}: {}.",
                path.display(),
                crate::cli::io_reason(&e)
            ),
        )]);
        return Err(1);
    }
    diags.push(Diagnostic::warning(
        "Config generation is experimental",
        "Generating configuration during import is currently experimental, and the generated configuration format may change in future versions.",
    ));
    Ok(true)
}
