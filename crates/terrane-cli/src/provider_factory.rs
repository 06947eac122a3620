//! Where the engine's providers come from: built-in providers, plugin
//! binaries installed by `init` (selected by the dependency lock file),
//! `dev_overrides` from the CLI configuration, and `TF_REATTACH_PROVIDERS`.
//!
//! Policy (`TERRANE_PROVIDERS`, default `auto`):
//!
//! * `auto`: a reattached provider, then a development override, then the
//!   package the lock file selects if it is installed in
//!   `.terraform/providers` (its `h1:` hash must match the lock file, or
//!   the run fails as Terraform's does); when nothing is installed for a
//!   provider, its built-in implementation serves, provided the lock file
//!   does not select a different version.
//! * `builtin`: the built-in implementation whenever terrane has one;
//!   plugins only for the others.
//! * `plugin`: never a built-in (except `terraform.io/builtin/terraform`,
//!   which Terraform also builds in): providers must be installed.
//!
//! Plugins start lazily: a schema comes from the schema cache when it can
//! (no process at all), and a process starts at the first call that needs
//! one. Per provider address there is one process per distinct provider
//! configuration: instances configured alike (and all unconfigured calls)
//! share a process. Every process is shut down when the factory is dropped
//! (StopProvider, then kill after the client's grace period).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use terrane_core::walk::ProviderFactory;
use terrane_plugin::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, CacheLookup, CallFunctionRequest,
    CallFunctionResponse, ConfigureRequest, Diagnostics, GetSchemaResponse, GrpcProvider,
    ImportResourceStateRequest, ImportResourceStateResponse, MoveResourceStateRequest,
    MoveResourceStateResponse, PlanResourceChangeRequest, PlanResourceChangeResponse, PluginConfig,
    Provider, ProviderSchema, ReadDataSourceRequest, ReadDataSourceResponse, ReadResourceRequest,
    ReadResourceResponse, ReattachConfig, SchemaCache, UpgradeResourceStateRequest,
    UpgradeResourceStateResponse, ValidateProviderConfigResponse,
};
use terrane_value::Value;

/// Which implementation serves a provider that has both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProviderMode {
    Auto,
    Builtin,
    Plugin,
}

impl ProviderMode {
    /// From `TERRANE_PROVIDERS` (`auto` when unset or empty).
    pub fn from_env() -> Result<ProviderMode, String> {
        match std::env::var("TERRANE_PROVIDERS")
            .unwrap_or_default()
            .as_str()
        {
            "" | "auto" => Ok(ProviderMode::Auto),
            "builtin" => Ok(ProviderMode::Builtin),
            "plugin" => Ok(ProviderMode::Plugin),
            other => Err(format!(
                "TERRANE_PROVIDERS={other:?} is not one of auto, builtin, plugin."
            )),
        }
    }
}

/// A provider version the lock file selects.
#[derive(Clone, Debug)]
pub struct Locked {
    pub version: String,
    /// `h1:...` and `zh:...` hashes recorded for it.
    pub hashes: Vec<String>,
}

/// Everything the factory needs to decide, gathered by the caller from the
/// working directory, the lock file and the CLI configuration.
#[derive(Clone, Debug)]
pub struct Selections {
    pub mode: ProviderMode,
    /// `.terraform/providers`.
    pub providers_dir: PathBuf,
    /// `linux_amd64`.
    pub platform: String,
    /// Lock file entries by source address.
    pub locked: BTreeMap<String, Locked>,
    /// `dev_overrides`: source address → directory holding the executable.
    pub dev_overrides: BTreeMap<String, PathBuf>,
    /// `TF_REATTACH_PROVIDERS`.
    pub reattach: BTreeMap<String, ReattachConfig>,
    pub schema_cache: Option<SchemaCache>,
}

/// How one provider address is served.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Builtin,
    Binary(PathBuf),
    Reattach(ReattachConfig),
}

/// The factory handed to the engine.
pub struct Factory {
    sel: Selections,
    /// Decisions per address, made once per run (checking a package
    /// against the lock file is not free).
    origins: Mutex<BTreeMap<String, Result<Origin, String>>>,
    pools: Mutex<BTreeMap<String, Arc<Pool>>>,
}

impl Factory {
    pub fn new(sel: Selections) -> Factory {
        Factory {
            sel,
            origins: Mutex::new(BTreeMap::new()),
            pools: Mutex::new(BTreeMap::new()),
        }
    }

    /// Decides how `source` (a normalised address) is served.
    pub fn origin(&self, source: &str) -> Result<Origin, String> {
        let sel = &self.sel;
        let has_builtin = terrane_providers::builtin_version(source).is_some();
        if source.starts_with("terraform.io/builtin/") {
            return if has_builtin {
                Ok(Origin::Builtin)
            } else {
                Err(format!("there is no built-in provider {source}"))
            };
        }
        if sel.mode == ProviderMode::Builtin && has_builtin {
            return Ok(Origin::Builtin);
        }
        if let Some(r) = sel.reattach.get(source) {
            return Ok(Origin::Reattach(r.clone()));
        }
        if let Some(dir) = sel.dev_overrides.get(source) {
            return find_executable(dir, source).map(Origin::Binary);
        }
        let short = short_name(source);
        match sel.locked.get(source) {
            Some(lock) => {
                let dir = sel
                    .providers_dir
                    .join(source)
                    .join(&lock.version)
                    .join(&sel.platform);
                if dir.exists() {
                    verify_package(&dir, lock, source, sel.schema_cache.as_ref())?;
                    return find_executable(&dir, source).map(Origin::Binary);
                }
                let builtin_version = terrane_providers::builtin_version(source);
                if sel.mode == ProviderMode::Auto && builtin_version == Some(lock.version.as_str())
                {
                    return Ok(Origin::Builtin);
                }
                Err(format!(
                    "the provider {short} v{} selected by the dependency lock file is not installed in {}; run \"terrane init\" to install it{}",
                    lock.version,
                    sel.providers_dir.display(),
                    match builtin_version {
                        Some(v) if sel.mode == ProviderMode::Auto => format!(
                            " (the built-in {short} is v{v}, which the lock file does not select)"
                        ),
                        _ => String::new(),
                    }
                ))
            }
            None if has_builtin && sel.mode == ProviderMode::Auto => Ok(Origin::Builtin),
            None => Err(format!(
                "the provider {short} is not installed (it is not in the dependency lock file); run \"terrane init\" to install it"
            )),
        }
    }

    /// Checks, before a plan, that every provider the configuration
    /// requires can be served, as Terraform does before it walks anything
    /// (a missing provider fails the run even if no resource uses it yet).
    pub fn preflight(&self, tree: &terrane_config::ModuleTree) -> terrane_hcl::Diagnostics {
        let mut diags = terrane_hcl::Diagnostics::new();
        for source in crate::commands::providers::tree_requirements(tree).keys() {
            let origin = lock(&self.origins)
                .entry(source.clone())
                .or_insert_with(|| self.origin(source))
                .clone();
            if let Err(reason) = origin {
                diags.push(terrane_hcl::Diagnostic::error(
                    "Could not load plugin",
                    format!(
                        "\nPlugin reinitialization required. Please run \"terrane init\".\n\n\
                         Plugins are external binaries that Terraform uses to access and manipulate\n\
                         resources. The configuration provided requires plugins which can't be located,\n\
                         don't satisfy the version constraints, or are otherwise incompatible.\n\n\
                         Terraform automatically discovers provider requirements from your\n\
                         configuration, including providers used in child modules. To see the\n\
                         requirements and constraints, run \"terrane providers\".\n\n\
                         failed to instantiate provider \"{source}\" to obtain schema: {reason}"
                    ),
                ));
            }
        }
        diags
    }

    /// The warning Terraform prints before a plan while `dev_overrides`
    /// are set in the CLI configuration.
    pub fn dev_overrides_warning(&self) -> Option<terrane_hcl::Diagnostic> {
        if self.sel.dev_overrides.is_empty() {
            return None;
        }
        let mut detail = String::from(
            "The following provider development overrides are set in the CLI configuration:\n",
        );
        for (source, dir) in &self.sel.dev_overrides {
            detail.push_str(&format!(" - {} in {}\n", short_name(source), dir.display()));
        }
        detail.push_str(
            "\nThe behavior may therefore not match any released version of the provider and applying changes may cause the state to become incompatible with published releases.",
        );
        Some(terrane_hcl::Diagnostic::warning(
            "Provider development overrides are in effect",
            detail,
        ))
    }

    fn pool(&self, source: &str, origin: Origin) -> Arc<Pool> {
        let mut pools = lock(&self.pools);
        pools
            .entry(source.to_string())
            .or_insert_with(|| {
                Arc::new(Pool {
                    source: source.to_string(),
                    origin,
                    cache: self.sel.schema_cache.clone(),
                    schema: Mutex::new(None),
                    procs: Mutex::new(Procs::default()),
                    configuring: Mutex::new(()),
                })
            })
            .clone()
    }

    /// Shuts every started plugin down (also done on drop).
    pub fn close(&self) {
        let pools: Vec<Arc<Pool>> = lock(&self.pools).values().cloned().collect();
        for p in pools {
            p.close();
        }
    }
}

impl Drop for Factory {
    fn drop(&mut self) {
        self.close();
    }
}

impl ProviderFactory for Factory {
    fn instantiate(&self, source: &str) -> Result<Arc<dyn Provider>, String> {
        let origin = lock(&self.origins)
            .entry(source.to_string())
            .or_insert_with(|| self.origin(source))
            .clone()?;
        match origin {
            // terraform_remote_state reads every backend of the registry.
            Origin::Builtin if source == "terraform.io/builtin/terraform" => {
                Ok(terrane_providers::terraform_provider(Some(Arc::new(
                    crate::backend::remote_state::RegistryBackends,
                ))))
            }
            Origin::Builtin => terrane_providers::builtin(source)
                .ok_or_else(|| format!("there is no built-in provider {source}")),
            origin => Ok(Arc::new(PluginHandle {
                pool: self.pool(source, origin),
                bound: Mutex::new(None),
            })),
        }
    }
}

/// `registry.terraform.io/hashicorp/null` → `hashicorp/null`, as Terraform
/// names providers of the public registry in messages.
fn short_name(source: &str) -> &str {
    source
        .strip_prefix("registry.terraform.io/")
        .unwrap_or(source)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

/// The provider executable in a package directory: a file named
/// `terraform-provider-TYPE...`, as Terraform looks for it.
pub fn find_executable(dir: &Path, source: &str) -> Result<PathBuf, String> {
    let type_name = source.rsplit('/').next().unwrap_or(source);
    let prefix = format!("terraform-provider-{type_name}");
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read the provider directory {}: {e}", dir.display()))?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name()
                    .map(|n| n.to_string_lossy().starts_with(&prefix))
                    .unwrap_or(false)
        })
        .collect();
    found.sort();
    found.into_iter().next().ok_or_else(|| {
        format!(
            "the directory {} holds no provider executable (a file named {prefix}...)",
            dir.display()
        )
    })
}

/// Checks an installed package against the lock file's `h1:` hashes, as
/// Terraform does before it starts a plugin.
fn verify_package(
    dir: &Path,
    lock: &Locked,
    source: &str,
    cache: Option<&SchemaCache>,
) -> Result<(), String> {
    let h1 = match cache {
        Some(c) => c.package_h1(dir),
        None => terrane_install::hash::h1_of_dir(dir)
            .map(|h| h.to_string())
            .map_err(|e| std::io::Error::other(e.0)),
    }
    .map_err(|e| format!("cannot hash the installed package {}: {e}", dir.display()))?;
    if lock.hashes.contains(&h1) {
        return Ok(());
    }
    Err(format!(
        "the cached package for {source} {} (in .terraform/providers) does not match any of the checksums recorded in the dependency lock file; run \"terrane init\" to reinstall it",
        lock.version
    ))
}

/// The processes of one provider address.
struct Pool {
    source: String,
    origin: Origin,
    cache: Option<SchemaCache>,
    schema: Mutex<Option<GetSchemaResponse>>,
    procs: Mutex<Procs>,
    /// Held while a process is started or configured.
    configuring: Mutex<()>,
}

#[derive(Default)]
struct Procs {
    /// Serves calls made before `configure` (and is configured by the
    /// first instance that configures, if none shares its configuration).
    idle: Option<Arc<GrpcProvider>>,
    /// Configured processes with their configuration and its diagnostics.
    configured: Vec<(Value, Arc<GrpcProvider>, Diagnostics)>,
    /// Every process started, to close at the end.
    all: Vec<Arc<GrpcProvider>>,
}

/// Whether schema-cache activity is logged (`TF_LOG` at debug or trace),
/// for users and for tests that check the cache is used.
fn log_cache(msg: &str) {
    let level = std::env::var("TF_LOG")
        .unwrap_or_default()
        .to_ascii_uppercase();
    if matches!(level.as_str(), "TRACE" | "DEBUG") {
        eprintln!("[DEBUG] schema cache: {msg}");
    }
}

impl Pool {
    fn start(&self) -> Result<Arc<GrpcProvider>, Diagnostics> {
        let started = match &self.origin {
            Origin::Binary(path) => GrpcProvider::start(PluginConfig::new(&self.source, path)),
            Origin::Reattach(cfg) => {
                GrpcProvider::reattach(&self.source, cfg, terrane_plugin::Timeouts::default())
            }
            Origin::Builtin => unreachable_builtin(&self.source),
        };
        let p = Arc::new(started.map_err(|e| {
            Diagnostics::from_error(
                "Failed to instantiate provider",
                format!(
                    "Failed to instantiate provider \"{}\" to obtain schema: {}",
                    self.source, e.message
                ),
            )
        })?);
        if let Some(s) = lock(&self.schema).clone() {
            p.preset_schema(s);
        }
        lock(&self.procs).all.push(p.clone());
        Ok(p)
    }

    /// The process for calls not tied to a configuration: the idle one,
    /// else any configured one (validation and state upgrades work on a
    /// configured process too), else a new one.
    fn idle(&self) -> Result<Arc<GrpcProvider>, Diagnostics> {
        let _starting = lock(&self.configuring);
        {
            let procs = lock(&self.procs);
            if let Some(p) = &procs.idle {
                return Ok(p.clone());
            }
            if let Some((_, p, _)) = procs.configured.first() {
                return Ok(p.clone());
            }
        }
        let p = self.start()?;
        lock(&self.procs).idle = Some(p.clone());
        Ok(p)
    }

    /// The process configured with `req.config`, configuring one if needed:
    /// the idle process, else a new one (a reattached provider is one
    /// process, configured again for each configuration, as Terraform
    /// does). Serialised per address, so no process is configured twice
    /// with different configurations.
    fn configured(&self, req: &ConfigureRequest) -> (Option<Arc<GrpcProvider>>, Diagnostics) {
        let _configuring = lock(&self.configuring);
        let taken = {
            let mut procs = lock(&self.procs);
            if let Some((_, p, d)) = procs.configured.iter().find(|(c, _, _)| *c == req.config) {
                return (Some(p.clone()), d.clone());
            }
            // The engine configures with a null value when it needs a
            // provider before the walk has configured it (deletions run
            // first in apply): a process this run already configured
            // serves better than a new one configured with nothing.
            if req.config.is_null() {
                if let Some((_, p, d)) = procs.configured.first() {
                    return (Some(p.clone()), d.clone());
                }
            }
            match (&self.origin, procs.idle.take()) {
                (_, Some(p)) => Some(p),
                (Origin::Reattach(_), None) => procs.configured.first().map(|(_, p, _)| p.clone()),
                _ => None,
            }
        };
        let p = match taken {
            Some(p) => p,
            None => match self.start() {
                Ok(p) => p,
                Err(d) => return (None, d),
            },
        };
        let diags = p.configure(req);
        lock(&self.procs)
            .configured
            .push((req.config.clone(), p.clone(), diags.clone()));
        (Some(p), diags)
    }

    fn schema(&self) -> GetSchemaResponse {
        let mut held = lock(&self.schema);
        if let Some(s) = held.as_ref() {
            return s.clone();
        }
        let digest = match (&self.origin, &self.cache) {
            (Origin::Binary(path), Some(cache)) => match cache.file_sha256(path) {
                Ok(d) => Some((cache, d)),
                Err(e) => {
                    log_cache(&format!("cannot hash {}: {e}", path.display()));
                    None
                }
            },
            _ => None,
        };
        if let Some((cache, d)) = &digest {
            match cache.load(d) {
                CacheLookup::Hit(raw) => {
                    let (schema, diagnostics) = ProviderSchema::from_proto(&raw);
                    if !diagnostics.has_errors() {
                        log_cache(&format!("hit for {} ({d})", self.source));
                        let r = GetSchemaResponse {
                            schema: Arc::new(schema),
                            diagnostics,
                        };
                        *held = Some(r.clone());
                        return r;
                    }
                    log_cache(&format!("ignoring an unusable entry for {}", self.source));
                }
                CacheLookup::Miss => log_cache(&format!("miss for {} ({d})", self.source)),
                CacheLookup::Corrupt(why) => log_cache(&format!("ignoring entry: {why}")),
            }
        }
        drop(held);
        let p = match self.idle() {
            Ok(p) => p,
            Err(diagnostics) => {
                return GetSchemaResponse {
                    schema: Arc::new(ProviderSchema::default()),
                    diagnostics,
                }
            }
        };
        let r = match p.fetch_schema_proto() {
            Ok(raw) => {
                if let Some((cache, d)) = &digest {
                    if !terrane_plugin::Diagnostics::from_proto(&raw.diagnostics).has_errors() {
                        match cache.store(d, &raw) {
                            Ok(()) => {
                                log_cache(&format!("stored {}", cache.entry_path(d).display()))
                            }
                            Err(e) => log_cache(&format!("cannot store: {e}")),
                        }
                    }
                }
                p.get_schema()
            }
            Err(diagnostics) => {
                return GetSchemaResponse {
                    schema: Arc::new(ProviderSchema::default()),
                    diagnostics,
                }
            }
        };
        *lock(&self.schema) = Some(r.clone());
        r
    }

    fn close(&self) {
        let all = std::mem::take(&mut lock(&self.procs).all);
        for p in all {
            let _ = p.close();
        }
    }
}

fn unreachable_builtin(source: &str) -> Result<GrpcProvider, terrane_plugin::PluginError> {
    Err(terrane_plugin::PluginError {
        provider: source.to_string(),
        message: "a built-in provider has no plugin process".into(),
    })
}

/// What the engine holds for one provider configuration.
struct PluginHandle {
    pool: Arc<Pool>,
    bound: Mutex<Option<Arc<GrpcProvider>>>,
}

impl PluginHandle {
    fn process(&self) -> Result<Arc<GrpcProvider>, Diagnostics> {
        if let Some(p) = lock(&self.bound).as_ref() {
            return Ok(p.clone());
        }
        self.pool.idle()
    }
}

fn null() -> Value {
    Value::null_dynamic()
}

impl Provider for PluginHandle {
    fn get_schema(&self) -> GetSchemaResponse {
        self.pool.schema()
    }

    fn validate_provider_config(&self, config: &Value) -> ValidateProviderConfigResponse {
        match self.process() {
            Ok(p) => p.validate_provider_config(config),
            Err(diagnostics) => ValidateProviderConfigResponse {
                prepared_config: config.clone(),
                diagnostics,
            },
        }
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match self.process() {
            Ok(p) => p.validate_resource_config(type_name, config),
            Err(d) => d,
        }
    }

    fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match self.process() {
            Ok(p) => p.validate_data_source_config(type_name, config),
            Err(d) => d,
        }
    }

    fn upgrade_resource_state(
        &self,
        req: &UpgradeResourceStateRequest,
    ) -> UpgradeResourceStateResponse {
        match self.process() {
            Ok(p) => p.upgrade_resource_state(req),
            Err(diagnostics) => UpgradeResourceStateResponse {
                upgraded_state: null(),
                diagnostics,
            },
        }
    }

    fn configure(&self, req: &ConfigureRequest) -> Diagnostics {
        let (p, diags) = self.pool.configured(req);
        if let Some(p) = p {
            *lock(&self.bound) = Some(p);
        }
        diags
    }

    fn read_resource(&self, req: &ReadResourceRequest) -> ReadResourceResponse {
        match self.process() {
            Ok(p) => p.read_resource(req),
            Err(diagnostics) => ReadResourceResponse {
                new_state: null(),
                private: Vec::new(),
                diagnostics,
            },
        }
    }

    fn plan_resource_change(&self, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
        match self.process() {
            Ok(p) => p.plan_resource_change(req),
            Err(diagnostics) => PlanResourceChangeResponse {
                planned_state: null(),
                requires_replace: Vec::new(),
                planned_private: Vec::new(),
                diagnostics,
                legacy_type_system: false,
            },
        }
    }

    fn apply_resource_change(
        &self,
        req: &ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        match self.process() {
            Ok(p) => p.apply_resource_change(req),
            Err(diagnostics) => ApplyResourceChangeResponse {
                new_state: null(),
                private: Vec::new(),
                diagnostics,
                legacy_type_system: false,
            },
        }
    }

    fn import_resource_state(
        &self,
        req: &ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        match self.process() {
            Ok(p) => p.import_resource_state(req),
            Err(diagnostics) => ImportResourceStateResponse {
                imported_resources: Vec::new(),
                diagnostics,
            },
        }
    }

    fn read_data_source(&self, req: &ReadDataSourceRequest) -> ReadDataSourceResponse {
        match self.process() {
            Ok(p) => p.read_data_source(req),
            Err(diagnostics) => ReadDataSourceResponse {
                state: null(),
                diagnostics,
            },
        }
    }

    fn call_function(&self, req: &CallFunctionRequest) -> CallFunctionResponse {
        match self.process() {
            Ok(p) => p.call_function(req),
            Err(d) => CallFunctionResponse::failed(d),
        }
    }

    fn move_resource_state(&self, req: &MoveResourceStateRequest) -> MoveResourceStateResponse {
        match self.process() {
            Ok(p) => p.move_resource_state(req),
            Err(diagnostics) => MoveResourceStateResponse {
                target_state: null(),
                target_private: Vec::new(),
                diagnostics,
            },
        }
    }

    fn stop(&self) -> Diagnostics {
        // Only a process that exists has anything to stop.
        match lock(&self.bound).as_ref() {
            Some(p) => p.stop(),
            None => Diagnostics::new(),
        }
    }
}

impl Selections {
    /// Gathers the selections for the working directory `dir`: the lock
    /// file, `.terraform/providers`, `TERRANE_PROVIDERS`,
    /// `TF_REATTACH_PROVIDERS`, the CLI configuration's `dev_overrides` and
    /// the schema cache. Errors are Terraform-style diagnostics.
    pub fn for_working_dir(dir: &Path) -> Result<Selections, terrane_hcl::Diagnostics> {
        let mut diags = terrane_hcl::Diagnostics::new();
        let mode = ProviderMode::from_env().unwrap_or_else(|e| {
            diags.push(terrane_hcl::Diagnostic::error(
                "Invalid TERRANE_PROVIDERS",
                e,
            ));
            ProviderMode::Auto
        });
        let (lockfile, d) = terrane_install::LockFile::load(dir);
        diags.extend(d);
        let locked = lockfile
            .providers
            .values()
            .map(|p| {
                (
                    p.addr.to_string(),
                    Locked {
                        version: p.version.to_string(),
                        hashes: p.hashes.iter().map(|h| h.to_string()).collect(),
                    },
                )
            })
            .collect();
        let reattach = match std::env::var("TF_REATTACH_PROVIDERS") {
            Ok(v) if !v.trim().is_empty() => terrane_plugin::parse_reattach_providers(&v)
                .unwrap_or_else(|e| {
                    diags.push(terrane_hcl::Diagnostic::error(
                        "Invalid TF_REATTACH_PROVIDERS",
                        e,
                    ));
                    BTreeMap::new()
                }),
            _ => BTreeMap::new(),
        };
        let dev_overrides = dev_overrides(&mut diags);
        if diags.has_errors() {
            return Err(diags);
        }
        Ok(Selections {
            mode,
            providers_dir: data_dir(dir).join("providers"),
            platform: terrane_install::Platform::current().to_string(),
            locked,
            dev_overrides,
            reattach,
            schema_cache: SchemaCache::from_env(),
        })
    }
}

/// The working directory's data directory: `TF_DATA_DIR` (relative to
/// the working directory), else `.terraform`.
pub fn data_dir(dir: &Path) -> PathBuf {
    dir.join(
        std::env::var_os("TF_DATA_DIR")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".terraform")),
    )
}

/// `dev_overrides` from the CLI configuration's `provider_installation`.
fn dev_overrides(diags: &mut terrane_hcl::Diagnostics) -> BTreeMap<String, PathBuf> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let env = terrane_install::cliconfig::CliEnv::from_process(&cwd);
    let (config, d) = terrane_install::cliconfig::load(&env);
    // Warnings about the CLI configuration are init's to report.
    if d.has_errors() {
        diags.extend(d);
    }
    config
        .dev_overrides
        .into_iter()
        .map(|(addr, dir)| (addr.to_string(), dir))
        .collect()
}
