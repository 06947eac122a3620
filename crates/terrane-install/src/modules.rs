//! Module installation for `terrane init`: walks the module tree from the
//! root, fetches every remote module package into
//! `.terraform/modules/KEY` (git, module registry, local directory,
//! HTTP archive), records local modules where they are, and writes the
//! modules manifest `.terraform/modules/modules.json` that the
//! configuration loader reads.
//!
//! The layout, the manifest format and the progress lines are
//! Terraform 1.0.3's:
//!
//! ```text
//! Downloading git::https://example.com/vpc.git?ref=v1.2.0 for vpc...
//! - vpc in .terraform/modules/vpc
//! - vpc.subnets in .terraform/modules/vpc/modules/subnets
//! ```

pub mod archive;
pub mod git;
pub mod registry;
pub mod source;

use crate::discovery::Discovery;
use crate::http::HttpClient;
use crate::versions::{Constraints, Version};
use source::{Getter, ModuleSourceAddr, RemoteModuleAddr, SourceError};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use terrane_config::{ModuleCall, ModuleTree};
use terrane_hcl::{Diagnostic, Diagnostics};

/// How deep module calls may nest before we assume a cycle.
const MAX_MODULE_DEPTH: usize = 64;

/// What [`install_modules`] should do.
pub struct ModuleInstallOptions {
    /// `-upgrade`: fetch every remote module again, and the newest
    /// registry version allowed, even when an installed one would do.
    pub upgrade: bool,
    /// The data directory relative to the root module (`.terraform`, or
    /// `TF_DATA_DIR`).
    pub data_dir: PathBuf,
    /// Service discovery (and through it HTTP) for registry modules and
    /// HTTP archives.
    pub discovery: Arc<Discovery>,
}

impl Default for ModuleInstallOptions {
    fn default() -> Self {
        ModuleInstallOptions {
            upgrade: false,
            data_dir: data_dir_from_env(),
            discovery: Arc::new(Discovery::new(HttpClient::new())),
        }
    }
}

/// `TF_DATA_DIR`, or `.terraform`.
pub fn data_dir_from_env() -> PathBuf {
    std::env::var_os("TF_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".terraform"))
}

/// A progress report, displayed as Terraform's line under
/// "Initializing modules...".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleEvent {
    /// `Downloading SOURCE [VERSION] for KEY...`
    Downloading {
        key: String,
        source: String,
        version: Option<String>,
    },
    /// `- KEY in DIR`
    Installed { key: String, dir: String },
    /// `- KEY`: a local module copied along by `init -from-module`.
    Copied { key: String },
}

impl fmt::Display for ModuleEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModuleEvent::Downloading {
                key,
                source,
                version: Some(v),
            } => write!(f, "Downloading {source} {v} for {key}..."),
            ModuleEvent::Downloading { key, source, .. } => {
                write!(f, "Downloading {source} for {key}...")
            }
            ModuleEvent::Installed { key, dir } => write!(f, "- {key} in {dir}"),
            ModuleEvent::Copied { key } => write!(f, "- {key}"),
        }
    }
}

/// One entry of the modules manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleRecord {
    /// The call path (`vpc`, `vpc.subnets`); empty for the root module.
    pub key: String,
    /// The `source` argument as written.
    pub source: String,
    /// The selected version, for registry modules.
    pub version: Option<String>,
    /// The module's directory, relative to the root module (`/`-separated).
    pub dir: String,
}

/// `.terraform/modules/modules.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleManifest {
    pub records: Vec<ModuleRecord>,
}

impl ModuleManifest {
    pub fn path(root: &Path, data_dir: &Path) -> PathBuf {
        root.join(data_dir).join("modules").join("modules.json")
    }

    /// Reads the manifest; a missing or unreadable one is empty (as
    /// Terraform treats it: everything is installed again).
    pub fn read(root: &Path, data_dir: &Path) -> ModuleManifest {
        let Ok(text) = std::fs::read_to_string(Self::path(root, data_dir)) else {
            return ModuleManifest::default();
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
            return ModuleManifest::default();
        };
        let records = json
            .get("Modules")
            .and_then(|m| m.as_array())
            .map(|list| {
                list.iter()
                    .filter_map(|m| {
                        let text = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
                        Some(ModuleRecord {
                            key: text("Key")?,
                            source: text("Source").unwrap_or_default(),
                            version: text("Version").filter(|v| !v.is_empty()),
                            dir: text("Dir")?,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        ModuleManifest { records }
    }

    /// The manifest in Terraform's exact form: compact JSON, fields `Key`,
    /// `Source`, `Version` (registry modules only), `Dir`, strings escaped
    /// as Go's encoder does, no final newline.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"Modules\":[");
        for (i, r) in self.records.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"Key\":");
            push_go_json_string(&mut out, &r.key);
            out.push_str(",\"Source\":");
            push_go_json_string(&mut out, &r.source);
            if let Some(v) = &r.version {
                out.push_str(",\"Version\":");
                push_go_json_string(&mut out, v);
            }
            out.push_str(",\"Dir\":");
            push_go_json_string(&mut out, &r.dir);
            out.push('}');
        }
        out.push_str("]}");
        out
    }

    pub fn write(&self, root: &Path, data_dir: &Path) -> std::io::Result<()> {
        let path = Self::path(root, data_dir);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, self.to_json())
    }

    pub fn get(&self, key: &str) -> Option<&ModuleRecord> {
        self.records.iter().find(|r| r.key == key)
    }
}

/// Appends `s` as a JSON string the way Go's `encoding/json` writes it
/// (`<`, `>`, `&`, U+2028 and U+2029 escaped).
fn push_go_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Installs every module the configuration in `root` calls, reporting
/// progress through `progress`, and writes the modules manifest (also when
/// some modules failed, as Terraform does, so what did install is kept).
///
/// Only the `module` blocks are read here; other configuration errors
/// are left for the caller's full load and validation afterwards.
pub fn install_modules(
    root: &Path,
    opts: &ModuleInstallOptions,
    progress: &mut dyn FnMut(ModuleEvent),
) -> Result<ModuleManifest, Diagnostics> {
    let previous = ModuleManifest::read(root, &opts.data_dir);
    let mut installer = Installer {
        root,
        opts,
        progress,
        previous: previous
            .records
            .into_iter()
            .map(|r| (r.key.clone(), r))
            .collect(),
        records: vec![ModuleRecord {
            key: String::new(),
            source: String::new(),
            version: None,
            dir: ".".to_string(),
        }],
        diags: Diagnostics::new(),
        stack: Vec::new(),
        fetched: HashMap::new(),
    };
    installer.walk(".", ".", &[]);
    let manifest = ModuleManifest {
        records: installer.records,
    };
    let mut diags = installer.diags;
    if let Err(e) = manifest.write(root, &opts.data_dir) {
        diags.push(Diagnostic::error(
            "Failed to update module manifest",
            format!(
                "Unable to write the module manifest file {}: {e}",
                ModuleManifest::path(root, &opts.data_dir).display()
            ),
        ));
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(manifest)
    }
}

/// Terraform's checks before `validate`, `plan` and `apply`: every remote
/// module call in `tree` must be installed, from the same source, at a
/// version its constraint still allows. Local modules need no
/// installation (see docs/compatibility.md).
pub fn check_installed(root: &Path, tree: &ModuleTree) -> Diagnostics {
    let manifest = ModuleManifest::read(root, &data_dir_from_env());
    let mut diags = Diagnostics::new();
    tree.walk(&mut |node| {
        for (name, call) in &node.module.module_calls {
            let Some(source) = call.source.as_ref().map(|s| s.as_str()) else {
                continue;
            };
            if source::is_local_source(source) {
                continue;
            }
            let mut path = node.path.clone();
            path.push(name.clone());
            let key = path.join(".");
            let problem = match manifest.get(&key) {
                None => Some((
                    "Module not installed",
                    "This module is not yet installed. Run \"terraform init\" to install all modules required by this configuration.".to_string(),
                )),
                Some(r) if r.source != source => Some((
                    "Module source has changed",
                    "The source address was changed since this module was installed. Run \"terraform init\" to install all modules required by this configuration.".to_string(),
                )),
                Some(r) => {
                    let installed = r.version.as_deref().and_then(|v| Version::parse(v).ok());
                    let wanted = call.version.as_deref().and_then(|c| Constraints::parse(c).ok());
                    match (installed, wanted) {
                        (Some(v), Some(c)) if !c.allows(&v) => Some((
                            "Module version requirements have changed",
                            format!("The version requirements have changed since this module was installed and the installed version ({v}) is no longer acceptable. Run \"terraform init\" to install all modules required by this configuration."),
                        )),
                        _ => None,
                    }
                }
            };
            if let Some((summary, detail)) = problem {
                diags.push(
                    Diagnostic::error(summary, detail)
                        .with_subject(&call.range.file, call.range.span),
                );
            }
        }
    });
    diags
}

/// `init -from-module=SOURCE`: fills the empty directory `dir` with the
/// module at `source` (any module source; a registry module at its newest
/// version), with the local modules it calls, so that `init` can go on
/// with it as the root module. Local calls that leave the module's own
/// directory cannot be copied and are an error, as in Terraform.
pub fn copy_from_module(
    dir: &Path,
    source: &str,
    opts: &ModuleInstallOptions,
    progress: &mut dyn FnMut(ModuleEvent),
) -> Result<(), Diagnostics> {
    let fail = |summary: &str, detail: String| -> Diagnostics {
        Diagnostic::error(summary, detail).into()
    };
    let not_empty = std::fs::read_dir(dir)
        .map(|mut entries| entries.next().is_some())
        .unwrap_or(true);
    if not_empty {
        return Err(fail(
            "Can't populate non-empty directory",
            format!(
                "The target directory {} is not empty, so it cannot be initialized with the -from-module=... option.",
                dir.display()
            ),
        ));
    }
    let staging = clean_join(
        &opts.data_dir.to_string_lossy().replace('\\', "/"),
        "init-from-module/root",
    );
    let download_error = |package: &str, detail: String| {
        fail(
            "Failed to download module",
            format!("Could not download module source code from {package:?}: {detail}"),
        )
    };
    // The package (relative to `dir`) and the module directory in it.
    let (package_address, module_dir) = match source::parse_module_source(source) {
        Ok(ModuleSourceAddr::Local(rel)) => {
            let from = clean_join(".", &rel.replace('\\', "/"));
            (source.to_string(), from)
        }
        Ok(ModuleSourceAddr::Registry(addr)) => {
            let registry = registry::ModuleRegistry::new(&opts.discovery);
            let found = registry
                .versions(&addr)
                .map_err(|e| fail("Error accessing remote module registry", e.to_string()))?;
            let Some(newest) = Constraints::any().newest(found.iter()) else {
                return Err(fail(
                    "Module has no versions",
                    format!(
                        "Module {source:?} has no versions available on {}.",
                        addr.host
                    ),
                ));
            };
            let location = registry
                .download_location(&addr, &newest)
                .map_err(|e| fail("Error accessing remote module registry", e.to_string()))?;
            let mut real = source::parse_remote_source(&location)
                .map_err(|e| download_error(&location, source_error_detail(&e, &location)))?;
            if let Some(sub) = &addr.subdir {
                real.subdir = Some(match real.subdir.take() {
                    Some(first) => format!("{first}/{sub}"),
                    None => sub.clone(),
                });
            }
            let module_dir = fetch_staged(dir, opts, &real, &staging)
                .map_err(|d| download_error(&real.package, d))?;
            (real.package, module_dir)
        }
        Ok(ModuleSourceAddr::Remote(real)) => {
            let module_dir = fetch_staged(dir, opts, &real, &staging)
                .map_err(|d| download_error(&real.package, d))?;
            (real.package, module_dir)
        }
        Err(e) => {
            return Err(download_error(source, source_error_detail(&e, source)));
        }
    };
    let mut diags = Diagnostics::new();
    check_local_calls(
        dir,
        &module_dir,
        ".",
        &[],
        source,
        &package_address,
        progress,
        &mut diags,
    );
    let copied = if diags.has_errors() {
        Ok(())
    } else {
        copy_package(&dir.join(&module_dir), dir)
    };
    let _ = std::fs::remove_dir_all(dir.join(&staging).parent().unwrap_or(dir));
    if let Err(e) = copied {
        diags.push(Diagnostic::error(
            "Failed to copy module",
            format!("Could not copy the module from {source:?} into the working directory: {e}."),
        ));
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}

/// Fetches a package into `staging` (relative to `dir`) and returns the
/// module directory in it.
fn fetch_staged(
    dir: &Path,
    opts: &ModuleInstallOptions,
    addr: &RemoteModuleAddr,
    staging: &str,
) -> Result<String, String> {
    let installer = Installer {
        root: dir,
        opts,
        progress: &mut |_| {},
        previous: HashMap::new(),
        records: Vec::new(),
        diags: Diagnostics::new(),
        stack: Vec::new(),
        fetched: HashMap::new(),
    };
    installer.fetch(addr, staging)?;
    match &addr.subdir {
        Some(sub) => resolve_subdir(dir, staging, sub),
        None => Ok(staging.to_string()),
    }
}

/// Lists the local module calls under the module at `module_dir` (all
/// relative to `dir`), which must stay inside `module_dir`.
#[allow(clippy::too_many_arguments)]
fn check_local_calls(
    dir: &Path,
    module_dir: &str,
    rel: &str,
    path: &[String],
    source: &str,
    package: &str,
    progress: &mut dyn FnMut(ModuleEvent),
    diags: &mut Diagnostics,
) {
    if path.len() > MAX_MODULE_DEPTH {
        return;
    }
    let (module, _) = terrane_config::load_module(&dir.join(clean_join(module_dir, rel)), "");
    for (name, call) in &module.module_calls {
        let Some(src) = call.source.as_ref().map(|s| s.as_str().to_string()) else {
            continue;
        };
        if !source::is_local_source(&src) {
            continue;
        }
        let mut child_path = path.to_vec();
        child_path.push(name.clone());
        progress(ModuleEvent::Copied {
            key: child_path.join("."),
        });
        let child = clean_join(rel, &src.replace('\\', "/"));
        if child == ".." || child.starts_with("../") {
            let (_, subdir) = source::split_subdir(source);
            let inside = clean_join(subdir.as_deref().unwrap_or("."), &child);
            diags.push(Diagnostic::error(
                "Root module references parent directory",
                format!(
                    "The requested module {source:?} refers to a module via its parent directory. To use this as a new root module this source string must be rewritten as a remote source address, such as \"{package}//{inside}\"."
                ),
            ));
            continue;
        }
        check_local_calls(
            dir,
            module_dir,
            &child,
            &child_path,
            source,
            package,
            progress,
            diags,
        );
    }
}

struct Installer<'a> {
    root: &'a Path,
    opts: &'a ModuleInstallOptions,
    progress: &'a mut dyn FnMut(ModuleEvent),
    previous: HashMap<String, ModuleRecord>,
    records: Vec<ModuleRecord>,
    diags: Diagnostics,
    /// Canonical directories of the modules being walked, to stop cycles.
    stack: Vec<PathBuf>,
    /// Packages fetched in this run (getter and URL -> package directory):
    /// another call of the same package gets a copy instead of a second
    /// download, as in Terraform.
    fetched: HashMap<String, String>,
}

/// Where a call's module ended up.
struct Placed {
    /// The module directory as recorded (relative to the root).
    dir: String,
    /// Where its own local module calls resolve from: `dir`, or the real
    /// directory when the package is a link to a local directory.
    base: String,
}

impl Installer<'_> {
    /// Installs the calls of the module in `dir` (relative to the root).
    /// `base` is where its local sources resolve from.
    fn walk(&mut self, dir: &str, base: &str, path: &[String]) {
        let abs = self.root.join(dir);
        let canonical = abs.canonicalize().unwrap_or_else(|_| abs.clone());
        if self.stack.contains(&canonical) || path.len() > MAX_MODULE_DEPTH {
            // The configuration loader reports the cycle.
            return;
        }
        let prefix = if dir == "." { "" } else { dir };
        let (module, _load_diags) = terrane_config::load_module(&abs, prefix);
        self.stack.push(canonical);
        for (name, call) in &module.module_calls {
            let mut child_path = path.to_vec();
            child_path.push(name.clone());
            let key = child_path.join(".");
            if let Some(placed) = self.install_call(&key, call, base) {
                self.walk(&placed.dir, &placed.base, &child_path);
            }
        }
        self.stack.pop();
    }

    fn install_call(&mut self, key: &str, call: &ModuleCall, base: &str) -> Option<Placed> {
        // A missing or non-literal source is reported by the loader.
        let source = call.source.as_ref()?.as_str().to_string();
        let parsed = match source::parse_module_source(&source) {
            Ok(p) => p,
            Err(e) => {
                // Terraform announces a getter address before resolving it.
                (self.progress)(ModuleEvent::Downloading {
                    key: key.to_string(),
                    source: source::package_display(&source),
                    version: None,
                });
                self.source_error(call, &source, e);
                return None;
            }
        };
        if call.version.is_some() {
            let why = match &parsed {
                ModuleSourceAddr::Registry(_) => None,
                ModuleSourceAddr::Local(rel) => {
                    // Recorded and announced first, as Terraform does.
                    let dir = clean_join(base, &rel.replace('\\', "/"));
                    (self.progress)(ModuleEvent::Installed {
                        key: key.to_string(),
                        dir: dir.clone(),
                    });
                    self.record(key, &source, None, &dir);
                    Some("a relative local path")
                }
                ModuleSourceAddr::Remote(addr) => {
                    (self.progress)(ModuleEvent::Downloading {
                        key: key.to_string(),
                        source: addr.package.clone(),
                        version: None,
                    });
                    Some("a non Registry URL")
                }
            };
            if let Some(why) = why {
                self.error(
                    call,
                    "Invalid version constraint",
                    format!(
                        "Cannot apply a version constraint to module {:?} (at {}) because it has {why}.",
                        call.name,
                        call_location(call)
                    ),
                );
                return None;
            }
        }
        match parsed {
            ModuleSourceAddr::Local(rel) => self.install_local(key, call, &source, &rel, base),
            ModuleSourceAddr::Registry(addr) => self.install_registry(key, call, &source, &addr),
            ModuleSourceAddr::Remote(addr) => self.install_remote(key, call, &source, &addr),
        }
    }

    fn install_local(
        &mut self,
        key: &str,
        call: &ModuleCall,
        source: &str,
        rel: &str,
        base: &str,
    ) -> Option<Placed> {
        let dir = clean_join(base, &rel.replace('\\', "/"));
        let unchanged = !self.opts.upgrade
            && self
                .previous
                .get(key)
                .is_some_and(|r| r.source == source && r.dir == dir);
        if !unchanged {
            (self.progress)(ModuleEvent::Installed {
                key: key.to_string(),
                dir: dir.clone(),
            });
        }
        self.record(key, source, None, &dir);
        if !self.root.join(&dir).is_dir() {
            self.error(
                call,
                "Unreadable module directory",
                format!(
                    "The directory {dir} could not be read for module {:?} at {}.",
                    call.name,
                    call_location(call)
                ),
            );
            return None;
        }
        Some(Placed {
            base: dir.clone(),
            dir,
        })
    }

    /// The previous installation of `key`, when it can be kept.
    fn reusable(&self, key: &str, source: &str) -> Option<ModuleRecord> {
        if self.opts.upgrade {
            return None;
        }
        let r = self.previous.get(key)?;
        (r.source == source && self.root.join(&r.dir).is_dir()).then(|| r.clone())
    }

    fn install_remote(
        &mut self,
        key: &str,
        call: &ModuleCall,
        source: &str,
        addr: &RemoteModuleAddr,
    ) -> Option<Placed> {
        if let Some(r) = self.reusable(key, source) {
            self.record(key, source, None, &r.dir);
            return Some(self.placed(key, r.dir));
        }
        (self.progress)(ModuleEvent::Downloading {
            key: key.to_string(),
            source: addr.package.clone(),
            version: None,
        });
        let package_dir = self.package_dir(key);
        if let Err(detail) = self.obtain(addr, &package_dir) {
            self.download_error(call, &addr.package, detail);
            return None;
        }
        self.finish_install(key, call, source, None, &package_dir, addr)
    }

    fn install_registry(
        &mut self,
        key: &str,
        call: &ModuleCall,
        source: &str,
        addr: &source::RegistryModuleAddr,
    ) -> Option<Placed> {
        let constraints = match call.version.as_deref() {
            None => Constraints::any(),
            Some(text) => match Constraints::parse(text) {
                Ok(c) => c,
                Err(e) => {
                    self.error(
                        call,
                        "Invalid version constraint",
                        format!("This string does not use correct version constraint syntax: {e}"),
                    );
                    return None;
                }
            },
        };
        if let Some(r) = self.reusable(key, source) {
            let keeps = r
                .version
                .as_deref()
                .and_then(|v| Version::parse(v).ok())
                .is_some_and(|v| constraints.allows(&v));
            if keeps {
                self.record(key, source, r.version.as_deref(), &r.dir);
                return Some(self.placed(key, r.dir));
            }
        }
        let registry = registry::ModuleRegistry::new(&self.opts.discovery);
        let versions = match registry.versions(addr) {
            Ok(v) => v,
            Err(e) => {
                self.diags
                    .push(self.at_source(e.into_diagnostic(call, addr), call));
                return None;
            }
        };
        let Some(selected) = constraints.newest(versions.iter()) else {
            let newest = versions
                .iter()
                .filter(|v| !v.is_prerelease())
                .max()
                .or_else(|| versions.iter().max());
            let detail = match newest {
                Some(newest) => format!(
                    "There is no available version of module {:?} ({}) which matches the given version constraint. The newest available version is {newest}.",
                    call.name,
                    call_location(call)
                ),
                None => format!(
                    "Module {:?} ({}) has no versions available on {}.",
                    call.name,
                    call_location(call),
                    addr.host
                ),
            };
            let summary = if versions.is_empty() {
                "Module has no versions"
            } else {
                "Unresolvable module version constraint"
            };
            self.error(call, summary, detail);
            return None;
        };
        let version = selected.to_string();
        (self.progress)(ModuleEvent::Downloading {
            key: key.to_string(),
            source: source.to_string(),
            version: Some(version.clone()),
        });
        let location = match registry.download_location(addr, &selected) {
            Ok(l) => l,
            Err(e) => {
                self.diags
                    .push(self.at_source(e.into_diagnostic(call, addr), call));
                return None;
            }
        };
        let mut real = match source::parse_remote_source(&location) {
            Ok(r) => r,
            Err(e) => {
                let detail = source_error_detail(&e, &location);
                self.download_error(call, &location, detail);
                return None;
            }
        };
        // The registry's own subdirectory comes after the package's.
        if let Some(sub) = &addr.subdir {
            real.subdir = Some(match real.subdir.take() {
                Some(first) => format!("{first}/{sub}"),
                None => sub.clone(),
            });
        }
        let package_dir = self.package_dir(key);
        if let Err(detail) = self.obtain(&real, &package_dir) {
            self.download_error(call, &real.package, detail);
            return None;
        }
        self.finish_install(key, call, source, Some(&version), &package_dir, &real)
    }

    /// Records a freshly fetched package after checking its subdirectory.
    fn finish_install(
        &mut self,
        key: &str,
        call: &ModuleCall,
        source: &str,
        version: Option<&str>,
        package_dir: &str,
        addr: &RemoteModuleAddr,
    ) -> Option<Placed> {
        let dir = match &addr.subdir {
            Some(sub) => match resolve_subdir(self.root, package_dir, sub) {
                Ok(d) => d,
                Err(detail) => {
                    self.download_error(call, &addr.package, detail);
                    return None;
                }
            },
            None => package_dir.to_string(),
        };
        (self.progress)(ModuleEvent::Installed {
            key: key.to_string(),
            dir: dir.clone(),
        });
        self.record(key, source, version, &dir);
        Some(self.placed(key, dir))
    }

    /// A remote module's placement; local calls inside a package that is a
    /// link to a local directory resolve from the real directory, as
    /// Terraform's do.
    fn placed(&self, key: &str, dir: String) -> Placed {
        let package = self.root.join(self.package_dir(key));
        let linked = std::fs::symlink_metadata(&package)
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false);
        let base = if linked {
            self.root
                .join(&dir)
                .canonicalize()
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|_| dir.clone())
        } else {
            dir.clone()
        };
        Placed { dir, base }
    }

    /// `.terraform/modules/KEY`, relative to the root.
    fn package_dir(&self, key: &str) -> String {
        let data = self.opts.data_dir.to_string_lossy().replace('\\', "/");
        clean_join(&data, &format!("modules/{key}"))
    }

    /// Puts a package into `package_dir`: a copy of the same package
    /// fetched earlier in this run, else a fresh fetch.
    fn obtain(&mut self, addr: &RemoteModuleAddr, package_dir: &str) -> Result<(), String> {
        let identity = format!("{:?} {}", addr.getter, addr.url);
        if let Some(previous) = self.fetched.get(&identity) {
            let dest = self.root.join(package_dir);
            remove_existing(&dest)
                .map_err(|e| format!("cannot remove the previous copy in {package_dir}: {e}"))?;
            return copy_package(&self.root.join(previous), &dest)
                .map_err(|e| format!("cannot copy the package from {previous}: {e}"));
        }
        self.fetch(addr, package_dir)?;
        self.fetched.insert(identity, package_dir.to_string());
        Ok(())
    }

    /// Fetches a package into `package_dir` (relative to the root),
    /// replacing whatever was there.
    fn fetch(&self, addr: &RemoteModuleAddr, package_dir: &str) -> Result<(), String> {
        let dest = self.root.join(package_dir);
        remove_existing(&dest)
            .map_err(|e| format!("cannot remove the previous copy in {package_dir}: {e}"))?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        let error_prefix = format!("error downloading '{}'", addr.url);
        match addr.getter {
            Getter::Git => git::fetch(self.root, &addr.url, Path::new(package_dir))
                .map_err(|e| format!("{error_prefix}: {}", e.0)),
            Getter::File => link_local_dir(&addr.url, &dest),
            Getter::Http => archive::fetch_http(
                self.opts.discovery.client(),
                self.root,
                &addr.url,
                package_dir,
                0,
            )
            .map_err(|e| format!("{error_prefix}: {e}")),
        }
    }

    fn record(&mut self, key: &str, source: &str, version: Option<&str>, dir: &str) {
        self.records.push(ModuleRecord {
            key: key.to_string(),
            source: source.to_string(),
            version: version.map(str::to_string),
            dir: dir.to_string(),
        });
    }

    fn at_source(&self, d: Diagnostic, call: &ModuleCall) -> Diagnostic {
        match &call.source_range {
            Some(r) => d.with_subject(&r.file, r.span),
            None => d.with_subject(&call.range.file, call.range.span),
        }
    }

    fn error(&mut self, call: &ModuleCall, summary: &str, detail: String) {
        let d = self.at_source(Diagnostic::error(summary, detail), call);
        self.diags.push(d);
    }

    fn download_error(&mut self, call: &ModuleCall, package: &str, detail: String) {
        self.error(
            call,
            "Failed to download module",
            format!(
                "Could not download module {:?} ({}) source code from {package:?}: {detail}",
                call.name,
                call_location(call)
            ),
        );
    }

    fn source_error(&mut self, call: &ModuleCall, source: &str, e: SourceError) {
        match e {
            SourceError::NotFound => self.error(
                call,
                "Module not found",
                format!(
                    "The module address {source:?} could not be resolved.\n\nIf you intended this as a path relative to the current module, use \"./{source}\" instead. The \"./\" prefix indicates that the address is a relative filesystem path."
                ),
            ),
            SourceError::Unsupported { getter } => self.error(
                call,
                "Unsupported module source",
                format!(
                    "Module {:?} ({}) has the source {source:?}, which needs the {getter} getter. terrane installs modules from local paths, git, module registries and http(s) archives only; use a git:: address or a registry for this module.",
                    call.name,
                    call_location(call)
                ),
            ),
            other => {
                let detail = source_error_detail(&other, source);
                self.download_error(call, source, detail)
            }
        }
    }
}

fn source_error_detail(e: &SourceError, source: &str) -> String {
    match e {
        SourceError::NotFound => format!("the address {source:?} could not be resolved"),
        SourceError::Unsupported { getter } => {
            format!("the {getter} getter is not supported by terrane")
        }
        SourceError::UnknownScheme(s) => format!("download not supported for scheme '{s}'"),
        SourceError::Invalid(why) => why.clone(),
    }
}

/// `main.tf:3`: the file and line of a module block, as Terraform cites
/// calls in installation errors.
fn call_location(call: &ModuleCall) -> String {
    let pos = call.range.file.pos(call.range.span.start);
    format!("{}:{}", call.range.file.name, pos.line)
}

/// Joins `/`-separated paths and cleans the result as Go's `filepath.Join`
/// does (`.` segments dropped, `..` folded, `.` for empty).
pub(crate) fn clean_join(base: &str, rel: &str) -> String {
    let joined = if rel.starts_with('/') {
        rel.to_string()
    } else {
        format!("{base}/{rel}")
    };
    let absolute = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if absolute => {}
                _ => parts.push(".."),
            },
            s => parts.push(s),
        }
    }
    let body = parts.join("/");
    match (absolute, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

/// The directory `subdir` names inside a fetched package. Segments may be
/// glob patterns (`*`, `?`), as registries use in `//*?archive=tar.gz` to
/// step into an archive's single top-level directory; a pattern must
/// match exactly one directory.
fn resolve_subdir(root: &Path, package_dir: &str, subdir: &str) -> Result<String, String> {
    if subdir.starts_with('/') || subdir.split('/').any(|s| s == "..") {
        return Err(format!(
            "subdir {subdir:?} leads out of the package; it must name a directory inside it"
        ));
    }
    let mut dir = package_dir.to_string();
    for segment in subdir.split('/').filter(|s| !s.is_empty() && *s != ".") {
        if !segment.contains(['*', '?']) {
            dir = clean_join(&dir, segment);
            continue;
        }
        let mut matches: Vec<String> = std::fs::read_dir(root.join(&dir))
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| !name.starts_with('.') && glob_match(segment, name))
                    .collect()
            })
            .unwrap_or_default();
        matches.sort();
        match matches.as_slice() {
            [one] => dir = clean_join(&dir, one),
            [] => return Err(format!("subdir {subdir:?} not found")),
            _ => return Err(format!("subdir {subdir:?} matches multiple paths")),
        }
    }
    if !root.join(&dir).is_dir() {
        return Err(format!("subdir {subdir:?} not found"));
    }
    Ok(dir)
}

/// Shell-style matching of one path segment: `*` any run, `?` one
/// character.
fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Iterative matcher with one backtrack point for the last `*`.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Copies a package directory (following a link at the top), leaving out
/// hidden entries such as `.git`, as Terraform's copy does.
fn copy_package(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            #[cfg(unix)]
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
            #[cfg(not(unix))]
            std::fs::copy(&src, &dst).map(|_| ())?;
        } else if kind.is_dir() {
            copy_package(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

/// Removes a previous package (a directory, or a link to one).
fn remove_existing(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The `file` getter: links the package directory to a directory on this
/// machine (Terraform makes a symbolic link too).
fn link_local_dir(url: &str, dest: &Path) -> Result<(), String> {
    let path = url.strip_prefix("file://").unwrap_or(url);
    let target = Path::new(path);
    if !target.is_dir() {
        return Err(format!("source path {path} is not a directory"));
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(target, dest)
            .map_err(|e| format!("cannot link {} to {path}: {e}", dest.display()))
    }
    #[cfg(not(unix))]
    {
        Err(format!(
            "linking local directories ({path}) is only supported on Unix"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_like_go() {
        assert_eq!(clean_join(".", "./modules/vpc"), "modules/vpc");
        assert_eq!(clean_join("modules/loc", "../deep"), "modules/deep");
        assert_eq!(clean_join(".", "../x/"), "../x");
        assert_eq!(clean_join(".", "."), ".");
        assert_eq!(
            clean_join(".terraform/modules/g", "./modules/helper"),
            ".terraform/modules/g/modules/helper"
        );
        assert_eq!(clean_join("/tmp/src", "../a"), "/tmp/a");
    }

    #[test]
    fn glob_segments() {
        assert!(glob_match("*", "terraform-aws-vpc-2.39.0"));
        assert!(glob_match(
            "terraform-*-vpc-?.*",
            "terraform-aws-vpc-2.39.0"
        ));
        assert!(!glob_match("x*", "terraform"));
        assert!(!glob_match("a?", "a"));
        assert!(glob_match("a*b*c", "aXbYbc"));
    }

    #[test]
    fn manifest_json_is_go_shaped() {
        let m = ModuleManifest {
            records: vec![
                ModuleRecord {
                    key: String::new(),
                    source: String::new(),
                    version: None,
                    dir: ".".into(),
                },
                ModuleRecord {
                    key: "vpc".into(),
                    source: "git::https://h/x.git?ref=v1&depth=1".into(),
                    version: None,
                    dir: ".terraform/modules/vpc".into(),
                },
                ModuleRecord {
                    key: "r".into(),
                    source: "ns/name/aws".into(),
                    version: Some("1.2.0".into()),
                    dir: ".terraform/modules/r".into(),
                },
            ],
        };
        assert_eq!(
            m.to_json(),
            r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"vpc","Source":"git::https://h/x.git?ref=v1\u0026depth=1","Dir":".terraform/modules/vpc"},{"Key":"r","Source":"ns/name/aws","Version":"1.2.0","Dir":".terraform/modules/r"}]}"#
        );
    }

    #[test]
    fn events_display_as_terraform_lines() {
        let e = ModuleEvent::Downloading {
            key: "vpc".into(),
            source: "terraform-aws-modules/vpc/aws".into(),
            version: Some("3.2.0".into()),
        };
        assert_eq!(
            e.to_string(),
            "Downloading terraform-aws-modules/vpc/aws 3.2.0 for vpc..."
        );
        let e = ModuleEvent::Installed {
            key: "vpc.subnets".into(),
            dir: "modules/subnets".into(),
        };
        assert_eq!(e.to_string(), "- vpc.subnets in modules/subnets");
    }
}
