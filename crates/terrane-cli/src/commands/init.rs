//! `init`: modules, backend, provider plugins and the dependency lock
//! file, with Terraform 1.0.3's output.
//!
//! The steps, each with its own hook:
//!
//! 1. [`init_modules`]: "Initializing modules..." (module installation
//!    lives in `terrane_install::modules`; this is where it is called).
//! 2. [`init_backend`]: "Initializing the backend..." (local only).
//! 3. [`init_providers`]: "Initializing provider plugins...", on
//!    `terrane_install::install`, then the lock file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_install::cliconfig::{self, CliEnv};
use terrane_install::{
    install, Constraints, Discovery, HttpClient, InstallEvent, InstallOptions, LockFile,
    LockfileMode, ProviderAddr, Requirements,
};

use crate::cli::Flags;
use crate::ui::Ui;

/// Flags of `init`.
pub struct InitOptions {
    pub upgrade: bool,
    pub lockfile_readonly: bool,
    pub plugin_dirs: Vec<PathBuf>,
    pub backend: bool,
    pub get: bool,
    /// `-from-module=SOURCE`: copy a module into the empty directory first.
    pub from_module: Option<String>,
    /// `-backend-config`, `-reconfigure`, `-migrate-state`, `-force-copy`,
    /// `-input`, `-lock`, `-lock-timeout`.
    pub backend_flags: crate::backend::init::BackendFlags,
}

fn parse(args: &[String]) -> Result<InitOptions, String> {
    let known = [
        "upgrade",
        "lockfile",
        "plugin-dir",
        "backend",
        "backend-config",
        "get",
        "get-plugins",
        "verify-plugins",
        "input",
        "no-color",
        "lock",
        "lock-timeout",
        "reconfigure",
        "migrate-state",
        "force-copy",
        "from-module",
        "ignore-remote-version",
    ];
    let flags = Flags::parse(
        args,
        &known,
        &[
            "lockfile",
            "plugin-dir",
            "backend-config",
            "lock-timeout",
            "from-module",
        ],
    )?;
    let plugin_dirs = flags
        .values()
        .iter()
        .filter(|(n, _)| n == "plugin-dir")
        .filter_map(|(_, v)| v.as_ref().map(PathBuf::from))
        .collect();
    if let Some(dir) = flags.positional.first() {
        return Err(format!(
            "The init command takes no positional arguments (got {dir:?}); use -chdir={dir} to initialize another directory."
        ));
    }
    let backend_flags = crate::backend::init::BackendFlags {
        configs: flags
            .values()
            .iter()
            .filter(|(n, _)| n == "backend-config")
            .filter_map(|(_, v)| v.clone())
            .collect(),
        reconfigure: flags.bool("reconfigure", false)?,
        migrate: flags.bool("migrate-state", false)?,
        force_copy: flags.bool("force-copy", false)?,
        input: flags.bool("input", true)?,
        lock: flags.bool("lock", true)?,
        lock_timeout: match flags.value("lock-timeout") {
            None => std::time::Duration::ZERO,
            Some(v) => super::statefile::parse_duration(v).ok_or_else(|| {
                format!("invalid value {v:?} for flag -lock-timeout: parse error")
            })?,
        },
    };
    if backend_flags.reconfigure && (backend_flags.migrate || backend_flags.force_copy) {
        return Err(
            "The -migrate-state and -reconfigure options are mutually-exclusive".to_string(),
        );
    }
    Ok(InitOptions {
        backend_flags,
        upgrade: flags.bool("upgrade", false)?,
        // Terraform 1.0.3 accepts any other value and ignores it.
        lockfile_readonly: flags.value("lockfile") == Some("readonly"),
        plugin_dirs,
        backend: flags.bool("backend", true)?,
        get: flags.bool("get", true)?,
        from_module: flags.value("from-module").map(str::to_string),
    })
}

/// Terraform's init text, coloured or not.
struct Out {
    color: bool,
    /// `init -json`: text goes to the JSON view as messages instead.
    json: Option<std::sync::Arc<crate::jsonview::JsonView>>,
}

impl Out {
    fn print(&self, s: &str) {
        if let Some(view) = &self.json {
            view.init_text(&self.styled(s));
            return;
        }
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(s.as_bytes());
        let _ = o.flush();
    }

    /// Strips the colour codes when colour is off.
    fn styled(&self, s: &str) -> String {
        if self.color {
            return s.to_string();
        }
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(i) = rest.find('\x1b') {
            out.push_str(&rest[..i]);
            let after = &rest[i..];
            match after.find('m') {
                Some(j) => rest = &after[j + 1..],
                None => {
                    rest = "";
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// A bold section heading: "Initializing the backend...".
    fn heading(&self, text: &str) {
        self.print(&self.styled(&format!("\x1b[0m\x1b[1m{text}\x1b[0m\n")));
    }
}

pub fn run(args: &[String], ui: &Ui) -> i32 {
    // `-json` (Terraform 1.9+): the machine-readable UI.
    let json_ui;
    let (args, ui) = match crate::jsonview::take_json_flag(args, ui, false) {
        crate::jsonview::JsonArgs::Text => (args.to_vec(), ui),
        crate::jsonview::JsonArgs::Json(rest, view_ui) => {
            json_ui = view_ui;
            (rest, &json_ui)
        }
        crate::jsonview::JsonArgs::Refused => return 1,
    };
    let args = &args[..];
    let opts = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let out = Out {
        color: ui.color && ui.json.is_none(),
        json: ui.json.clone(),
    };
    let dir = Path::new(".");
    if let Some(source) = &opts.from_module {
        out.heading(&format!("Copying configuration from {source:?}..."));
        if let Err(d) = copy_from_module(dir, source, &out) {
            return fail(ui, &d);
        }
        out.print("\n");
    }
    if !has_configuration(dir) {
        out.print(&out.styled(
            "\x1b[0m\x1b[1mTerraform initialized in an empty directory!\x1b[0m\n\n\
             The directory has no Terraform configuration files. You may begin working\n\
             with Terraform immediately by creating Terraform configuration files.\x1b[0m\n",
        ));
        return 0;
    }

    if opts.get {
        if let Err(d) = init_modules(dir, &opts, &out) {
            return fail(ui, &d);
        }
    }

    let (tree, mut diags) = terrane_config::load_tree(dir);
    if !opts.get {
        // -get=false: remote modules must already be installed.
        diags.extend(terrane_install::modules::check_installed(dir, &tree));
    }
    if !diags.has_errors() {
        diags.extend(check_provider_sources(&tree));
    }
    if diags.has_errors() && ui.json.is_some() {
        print_diagnostics(ui, &diags);
        ui.diagnostics([&Diagnostic::error(
            "There are some problems with the configuration, described below.\n\nThe Terraform configuration must be valid before initialization so that\nTerraform can determine which modules and providers need to be installed.",
            "",
        )]);
        return 1;
    }
    if diags.has_errors() {
        eprint!(
            "There are some problems with the configuration, described below.\n\n\
             The Terraform configuration must be valid before initialization so that\n\
             Terraform can determine which modules and providers need to be installed.\n"
        );
        return fail(ui, &diags);
    }

    if opts.backend {
        out.print("\n");
        out.heading("Initializing the backend...");
        if let Err(d) = init_backend(&tree, &opts, &out) {
            return fail(ui, &d);
        }
    }

    out.print("\n");
    out.heading("Initializing provider plugins...");
    let (lock_note, warnings) = match init_providers(dir, &tree, &opts, &out, ui) {
        Ok(r) => r,
        Err(d) => {
            // Warnings first (on standard output), then the errors.
            let (mut warnings, mut errors) = (Diagnostics::new(), Diagnostics::new());
            for x in d.iter() {
                if x.severity == terrane_hcl::Severity::Warning {
                    warnings.push(x.clone());
                } else {
                    errors.push(x.clone());
                }
            }
            print_diagnostics(ui, &warnings);
            return fail(ui, &errors);
        }
    };
    match lock_note {
        LockNote::Created => out.print(&out.styled(
            "\nTerraform has created a lock file \x1b[1m.terraform.lock.hcl\x1b[0m to record the provider\n\
             selections it made above. Include this file in your version control repository\n\
             so that Terraform can guarantee to make the same selections by default when\n\
             you run \"terraform init\" in the future.\x1b[0m\n",
        )),
        LockNote::Changed => out.print(
            "\nTerraform has made some changes to the provider dependency selections recorded\n\
             in the .terraform.lock.hcl file. Review those changes and commit them to your\n\
             version control system if they represent changes you intended to make.\n",
        ),
        LockNote::Unchanged => {}
    }
    out.print("\n");
    print_diagnostics(ui, &warnings);
    out.print(&out.styled(
        "\x1b[0m\x1b[1m\x1b[32mTerraform has been successfully initialized!\x1b[0m\x1b[32m\x1b[0m\n",
    ));
    if std::env::var_os("TF_IN_AUTOMATION").is_none_or(|v| v.is_empty()) {
        out.print(&out.styled(
            "\x1b[0m\x1b[32m\n\
             You may now begin working with Terraform. Try running \"terraform plan\" to see\n\
             any changes that are required for your infrastructure. All Terraform commands\n\
             should now work.\n\n\
             If you ever set or change modules or backend configuration for Terraform,\n\
             rerun this command to reinitialize your working directory. If you forget, other\n\
             commands will detect it and remind you to do so if necessary.\x1b[0m\n",
        ));
    }
    0
}

/// Prints the diagnostics of a failed init and returns its exit code.
fn fail(ui: &Ui, diags: &Diagnostics) -> i32 {
    print_diagnostics(ui, diags);
    1
}

/// Diagnostics as `init` and `providers` print them: Terraform writes each
/// through its error stream (errors) or output stream (warnings), which
/// adds a red or yellow prefix and, after it, a line of its own (reset
/// codes when coloured, else empty).
pub fn print_diagnostics(ui: &Ui, diags: &Diagnostics) {
    if ui.json.is_some() {
        ui.diagnostics(diags.iter());
        return;
    }
    for d in diags.iter() {
        let warning = d.severity == terrane_hcl::Severity::Warning;
        let mut text: Vec<u8> = Vec::new();
        if ui.color {
            text.extend_from_slice(if warning { b"\x1b[33m" } else { b"\x1b[31m" });
        }
        ui.diagnostics_to(&mut text, [d]);
        text.extend_from_slice(if ui.color { b"\x1b[0m\x1b[0m\n" } else { b"\n" });
        if warning {
            let _ = std::io::stdout().lock().write_all(&text);
        } else {
            let _ = std::io::stderr().lock().write_all(&text);
        }
    }
}

/// `source` addresses in `required_providers` that do not parse.
fn check_provider_sources(tree: &terrane_config::ModuleTree) -> Diagnostics {
    let mut diags = Diagnostics::new();
    tree.walk(&mut |t| {
        for rp in t.module.terraform.required_providers.values() {
            if let Some(Err(e)) = rp.source.as_deref().map(ProviderAddr::parse) {
                diags.push(
                    Diagnostic::error("Invalid provider source string", e)
                        .with_subject(&rp.range.file, rp.range.span),
                );
            }
        }
    });
    diags
}

/// Whether the directory holds any `.tf` or `.tf.json` file.
fn has_configuration(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                (name.ends_with(".tf") || name.ends_with(".tf.json"))
                    && !name.starts_with('.')
                    && e.path().is_file()
            })
        })
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------
// Initializing modules... (hook for module installation)
// ---------------------------------------------------------------------------

/// "Initializing modules...": installs the module calls' sources into
/// `.terraform/modules` and prints one line per module.
///
/// The heading is printed (without a leading blank line, as Terraform)
/// only when the root module calls modules; `-upgrade` says "Upgrading
/// modules..." instead.
fn init_modules(dir: &Path, opts: &InitOptions, out: &Out) -> Result<(), Diagnostics> {
    let (root, _) = terrane_config::load_module(dir, "");
    if root.module_calls.is_empty() {
        return Ok(());
    }
    out.heading(if opts.upgrade {
        "Upgrading modules..."
    } else {
        "Initializing modules..."
    });
    let install_opts = module_install_options(dir, opts.upgrade);
    terrane_install::modules::install_modules(dir, &install_opts, &mut |e| {
        out.print(&format!("{e}\n"))
    })
    .map(|_| ())
}

/// `-from-module`: the module at `source` becomes the configuration.
fn copy_from_module(dir: &Path, source: &str, out: &Out) -> Result<(), Diagnostics> {
    let install_opts = module_install_options(dir, false);
    terrane_install::modules::copy_from_module(dir, source, &install_opts, &mut |e| {
        out.print(&format!("{e}\n"))
    })
}

/// Module installation options with the CLI configuration's `host` and
/// `credentials` blocks.
fn module_install_options(
    dir: &Path,
    upgrade: bool,
) -> terrane_install::modules::ModuleInstallOptions {
    let cwd = std::env::current_dir().unwrap_or_else(|_| dir.to_path_buf());
    let (config, _) = cliconfig::load(&CliEnv::from_process(&cwd));
    let client = HttpClient::new().with_credentials(config.credentials.clone());
    let mut discovery = Discovery::new(client);
    for (host, services) in &config.hosts {
        discovery.force_host_services(host, services.clone());
    }
    terrane_install::modules::ModuleInstallOptions {
        upgrade,
        discovery: Arc::new(discovery),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------
// Initializing the backend... (hook for remote backends)
// ---------------------------------------------------------------------------

/// "Initializing the backend...": the backend step
/// (`crate::backend::init`), then its message.
fn init_backend(
    tree: &terrane_config::ModuleTree,
    opts: &InitOptions,
    out: &Out,
) -> Result<(), Diagnostics> {
    use crate::backend::init::Outcome;
    match crate::backend::init::init_backend(
        tree.module.terraform.backend.as_ref(),
        &opts.backend_flags,
    )? {
        Outcome::Unchanged => {}
        Outcome::Configured(kind) => out.print(&out.styled(&format!(
            "\n\x1b[0m\x1b[32m\x1b[1mSuccessfully configured the backend {kind:?}! Terraform will automatically\nuse this backend unless the backend configuration changes.\x1b[0m\n"
        ))),
        Outcome::Unset(kind) => out.print(&out.styled(&format!(
            "\n\n\x1b[0m\x1b[32m\x1b[1mSuccessfully unset the backend {kind:?}. Terraform will now operate locally.\x1b[0m\n"
        ))),
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Initializing provider plugins...
// ---------------------------------------------------------------------------

enum LockNote {
    Created,
    Changed,
    Unchanged,
}

/// The configuration's and the state's provider requirements, merged.
pub fn requirements(
    tree: &terrane_config::ModuleTree,
    state_path: &Path,
) -> Result<Requirements, Diagnostics> {
    requirements_with(tree, super::providers::state_providers(state_path))
}

/// The providers the selected workspace's state uses, wherever the
/// backend keeps it. A state that cannot be read is an error (printed).
fn backend_state_providers(ui: &Ui) -> Result<std::collections::BTreeSet<String>, ()> {
    use super::statefile::StateLocation;
    match super::statefile::locate(None, ui).ok_or(())? {
        StateLocation::File(path) => Ok(super::providers::state_providers(&path)),
        StateLocation::Remote { .. } => Ok(super::statefile::read_current(None, ui)?
            .map(|file| {
                file.state
                    .resources
                    .iter()
                    .filter_map(|r| {
                        let start = r.provider.find("provider[\"")? + "provider[\"".len();
                        let rest = &r.provider[start..];
                        Some(rest[..rest.find('"')?].to_string())
                    })
                    .collect()
            })
            .unwrap_or_default()),
    }
}

/// The configuration's requirements merged with `state_providers`.
fn requirements_with(
    tree: &terrane_config::ModuleTree,
    state_providers: std::collections::BTreeSet<String>,
) -> Result<Requirements, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut reqs = Requirements::new();
    let mut needed = super::providers::tree_requirements(tree);
    for p in state_providers {
        needed.entry(p).or_default();
    }
    for (source, cs) in needed {
        let addr = match ProviderAddr::parse(&source) {
            Ok(a) => a,
            Err(e) => {
                diags.push(Diagnostic::error("Invalid provider source address", e));
                continue;
            }
        };
        let entry = reqs.entry(addr).or_default();
        for c in cs {
            match Constraints::parse(&c) {
                Ok(parsed) => entry.merge(&parsed),
                Err(e) => diags.push(Diagnostic::error(
                    "Invalid provider version constraint",
                    format!("The version constraint {c:?} for {source} is not valid: {e}."),
                )),
            }
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(reqs)
    }
}

/// `.terraform/plugin_path`: the `-plugin-dir` directories of the last
/// `init`, which later runs without `-plugin-dir` keep using.
fn plugin_path_file(dir: &Path) -> PathBuf {
    crate::provider_factory::data_dir(dir).join("plugin_path")
}

fn remembered_plugin_dirs(dir: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(plugin_path_file(dir)) else {
        return Vec::new();
    };
    serde_json::from_str::<Vec<String>>(&text)
        .map(|v| v.into_iter().map(PathBuf::from).collect())
        .unwrap_or_default()
}

fn remember_plugin_dirs(dir: &Path, dirs: &[PathBuf]) -> Result<(), Diagnostic> {
    let path = plugin_path_file(dir);
    let fail = |e: std::io::Error| {
        Diagnostic::error(
            "Failed to save plugin directories",
            format!("Could not write {}: {e}.", path.display()),
        )
    };
    std::fs::create_dir_all(crate::provider_factory::data_dir(dir)).map_err(fail)?;
    let list: Vec<String> = dirs
        .iter()
        .map(|d| d.to_string_lossy().into_owned())
        .collect();
    let text = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
    std::fs::write(&path, text).map_err(fail)
}

/// The sources, options and previous lock file `init` and `providers
/// lock` install from: `-plugin-dir` (or the remembered ones), else the
/// CLI configuration's `provider_installation`, else the implied mirrors
/// and the registry.
pub struct InstallSetup {
    pub source: terrane_install::sources::MultiSource,
    pub options: InstallOptions,
    pub warnings: Diagnostics,
    pub config: terrane_install::CliConfig,
}

pub fn install_setup(dir: &Path, plugin_dirs: &[PathBuf]) -> Result<InstallSetup, Diagnostics> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| dir.to_path_buf());
    let env = CliEnv::from_process(&cwd);
    let (config, diags) = cliconfig::load(&env);
    if diags.has_errors() {
        return Err(diags);
    }
    let methods = config.installation_methods(&env, plugin_dirs);
    let client = HttpClient::new().with_credentials(config.credentials.clone());
    let mut discovery = Discovery::new(client);
    for (host, services) in &config.hosts {
        discovery.force_host_services(host, services.clone());
    }
    let source = terrane_install::sources::MultiSource::new(&methods, Arc::new(discovery));
    let mut options = InstallOptions::new(dir);
    options.providers_dir = crate::provider_factory::data_dir(dir).join("providers");
    options.plugin_cache_dir = config.plugin_cache_dir.clone();
    options.dev_overrides = config.dev_overrides.clone();
    Ok(InstallSetup {
        source,
        options,
        warnings: diags,
        config,
    })
}

fn init_providers(
    dir: &Path,
    tree: &terrane_config::ModuleTree,
    opts: &InitOptions,
    out: &Out,
    ui: &Ui,
) -> Result<(LockNote, Diagnostics), Diagnostics> {
    let reqs = if opts.backend {
        // The error is printed; init fails with it.
        let Ok(used) = backend_state_providers(ui) else {
            return Err(Diagnostics::new());
        };
        requirements_with(tree, used)?
    } else {
        requirements(tree, Path::new("terraform.tfstate"))?
    };
    let plugin_dirs = if opts.plugin_dirs.is_empty() {
        remembered_plugin_dirs(dir)
    } else {
        remember_plugin_dirs(dir, &opts.plugin_dirs).map_err(|d| {
            let mut ds = Diagnostics::new();
            ds.push(d);
            ds
        })?;
        opts.plugin_dirs.clone()
    };
    let setup = install_setup(dir, &plugin_dirs)?;
    if !setup.warnings.is_empty() {
        ui.diagnostics(setup.warnings.iter());
    }
    let (previous, diags) = LockFile::load(dir);
    if diags.has_errors() {
        return Err(diags);
    }
    let mut options = setup.options;
    options.upgrade = opts.upgrade;
    options.lockfile_mode = if opts.lockfile_readonly {
        LockfileMode::Readonly
    } else {
        LockfileMode::Normal
    };
    // Terraform first selects a version for every provider, then installs
    // them: all "Reusing"/"Finding" lines come before the first
    // "Installing"/"Using" line. The installer works provider by provider,
    // so install lines wait until every provider has been selected.
    let mut to_select = reqs.keys().filter(|a| !a.is_builtin()).count();
    let mut held: Vec<String> = Vec::new();
    let mut on_event = |e: InstallEvent| {
        let line = format!("{}\n", e.message());
        match e {
            InstallEvent::ReusingLocked { .. } | InstallEvent::FindingVersions { .. } => {
                out.print(&line);
                to_select = to_select.saturating_sub(1);
                if to_select == 0 {
                    out.print(&held.concat());
                    held.clear();
                }
            }
            _ if to_select > 0 => held.push(line),
            _ => out.print(&line),
        }
    };
    let result = install(&reqs, &previous, &setup.source, &options, &mut on_event);
    out.print(&held.concat());
    let mut warnings = Diagnostics::new();
    if let Some(w) = cliconfig::dev_overrides_warning(&setup.config) {
        warnings.push(w);
    }
    let mut outcome = match result {
        Ok(o) => o,
        Err(mut d) => {
            for w in warnings.iter() {
                d.push(w.clone());
            }
            return Err(d);
        }
    };
    if outcome.signed_by_developers {
        out.print(&format!("\n{}", terrane_install::installer::SIGNING_NOTE));
    }
    warnings.extend(outcome.warnings.clone());
    keep_locked_constraints(&mut outcome, &previous);
    if !outcome.lock_changed {
        return Ok((LockNote::Unchanged, warnings));
    }
    outcome.lock.save(dir).map_err(|d| {
        let mut ds = Diagnostics::new();
        ds.push(d);
        ds
    })?;
    let note = if previous.is_empty() {
        LockNote::Created
    } else {
        LockNote::Changed
    };
    Ok((note, warnings))
}

/// Terraform 1.0.3 rewrites a lock file entry's `constraints` only when it
/// selects a different version: an entry whose version stays keeps the
/// constraints recorded with it, even when the configuration's changed
/// (observed with `init` and `init -upgrade`). The installer records the
/// current ones, so they are put back here. (Belongs in the installer.)
fn keep_locked_constraints(outcome: &mut terrane_install::InstallOutcome, previous: &LockFile) {
    for entry in outcome.lock.providers.values_mut() {
        if let Some(old) = previous.provider(&entry.addr) {
            if old.version == entry.version {
                entry.constraints = old.constraints.clone();
            }
        }
    }
    outcome.lock_changed = outcome.lock != *previous;
}
