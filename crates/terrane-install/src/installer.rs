//! The installation algorithm behind `init`'s "Initializing provider
//! plugins...".
//!
//! For each required provider, in address order:
//!
//! 1. Built-in providers are skipped (`dev_overrides` do not change
//!    installation, as in Terraform 1.0.3).
//! 2. Select a version: the lock file's, unless `-upgrade` or it no longer
//!    meets the constraints (an error, as in Terraform: the user must run
//!    with `-upgrade`); otherwise the newest available version meeting the
//!    merged constraints.
//! 3. Reuse the package already in `.terraform/providers` when the lock
//!    file vouches for it; else link it from the plugin cache when the cache
//!    has it; else fetch it (into the cache first when there is one) from
//!    the first source that has it, check it against what the source
//!    vouches for and against the lock file's hashes, and install it.
//!    A package from an unpacked mirror directory or from the cache is
//!    symlinked (absolute path) as Terraform 1.0.3 does; archives are
//!    extracted.
//! 4. Record the version, the constraints and the hashes (the previous ones
//!    when the version is unchanged, plus the package's `h1:` and whatever
//!    the source vouched for) in the new lock file.

use crate::addr::ProviderAddr;
use crate::hash::{h1_of_dir, h1_of_zip, package_matches, PackageHash};
use crate::lockfile::{LockFile, LockedProvider};
use crate::platform::Platform;
use crate::sources::{Authentication, PackageLocation, PackageMeta, Source};
use crate::versions::{Constraints, Version};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use terrane_hcl::{Diagnostic, Diagnostics};

/// Required providers with their constraints merged across all modules.
pub type Requirements = BTreeMap<ProviderAddr, Constraints>;

/// `-lockfile=MODE`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LockfileMode {
    /// Update the lock file as needed.
    #[default]
    Normal,
    /// `-lockfile=readonly`: verify against the lock file and fail if any
    /// entry would change.
    Readonly,
}

/// Everything besides the requirements and the previous lock file.
#[derive(Clone, Debug)]
pub struct InstallOptions {
    /// Where packages go: `WORKDIR/.terraform/providers`.
    pub providers_dir: PathBuf,
    pub platform: Platform,
    /// `-upgrade`: ignore the lock file's selections.
    pub upgrade: bool,
    pub lockfile_mode: LockfileMode,
    /// `plugin_cache_dir` (or `TF_PLUGIN_CACHE_DIR`).
    pub plugin_cache_dir: Option<PathBuf>,
    /// `dev_overrides`. Not consulted by [`install`]: Terraform 1.0.3
    /// installs overridden providers like any other, and `init` only warns
    /// (see [`crate::cliconfig::dev_overrides_warning`]); kept here for
    /// [`find_installed`].
    pub dev_overrides: BTreeMap<ProviderAddr, PathBuf>,
}

impl InstallOptions {
    /// Defaults for a working directory: `.terraform/providers` inside it,
    /// the current platform, no upgrade, no cache.
    pub fn new(working_dir: &Path) -> InstallOptions {
        InstallOptions {
            providers_dir: working_dir.join(".terraform").join("providers"),
            platform: Platform::current(),
            upgrade: false,
            lockfile_mode: LockfileMode::Normal,
            plugin_cache_dir: None,
            dev_overrides: BTreeMap::new(),
        }
    }
}

/// Progress, in the order it happens; [`InstallEvent::message`] gives the
/// line Terraform prints for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InstallEvent {
    /// The locked version is kept.
    ReusingLocked {
        addr: ProviderAddr,
        version: Version,
    },
    /// Querying versions; `constraints` is `None` without any constraint.
    FindingVersions {
        addr: ProviderAddr,
        constraints: Option<String>,
    },
    /// The package already in `.terraform/providers` is kept.
    UsingInstalled {
        addr: ProviderAddr,
        version: Version,
    },
    /// Linked from the plugin cache.
    LinkingFromCache {
        addr: ProviderAddr,
        version: Version,
    },
    /// Fetching from a source.
    Installing {
        addr: ProviderAddr,
        version: Version,
    },
    /// Fetched and installed; `auth` describes what was verified
    /// (`unauthenticated`, `signed by HashiCorp`, `self-signed`,
    /// `verified checksum` for a network mirror's hashes).
    Installed {
        addr: ProviderAddr,
        version: Version,
        auth: String,
    },
}

impl InstallEvent {
    /// The `init` output line (without colour), as Terraform writes it.
    pub fn message(&self) -> String {
        match self {
            InstallEvent::ReusingLocked { addr, .. } => format!(
                "- Reusing previous version of {} from the dependency lock file",
                addr.for_display()
            ),
            InstallEvent::FindingVersions { addr, constraints } => match constraints {
                None => format!("- Finding latest version of {}...", addr.for_display()),
                Some(c) => format!(
                    "- Finding {} versions matching {c:?}...",
                    addr.for_display()
                ),
            },
            InstallEvent::UsingInstalled { addr, version } => format!(
                "- Using previously-installed {} v{version}",
                addr.for_display()
            ),
            InstallEvent::LinkingFromCache { addr, version } => format!(
                "- Using {} v{version} from the shared cache directory",
                addr.for_display()
            ),
            InstallEvent::Installing { addr, version } => {
                format!("- Installing {} v{version}...", addr.for_display())
            }
            InstallEvent::Installed {
                addr,
                version,
                auth,
            } => format!("- Installed {} v{version} ({auth})", addr.for_display()),
        }
    }
}

/// The result of a successful installation.
#[derive(Clone, Debug, PartialEq)]
pub struct InstallOutcome {
    /// The selected version of every installed provider.
    pub selected: BTreeMap<ProviderAddr, Version>,
    /// Package directories in `.terraform/providers` (possibly symlinks).
    pub package_dirs: BTreeMap<ProviderAddr, PathBuf>,
    /// The lock file to write (entries for providers no longer required are
    /// dropped).
    pub lock: LockFile,
    /// Whether `lock` differs from the previous lock file.
    pub lock_changed: bool,
    /// Whether any package was signed by its developer (self-signed or a
    /// partner's): `init` then prints [`SIGNING_NOTE`] after the
    /// installation lines.
    pub signed_by_developers: bool,
    /// Warnings to show after installation (a registry's notes about a
    /// provider, as "Additional provider information from registry").
    pub warnings: Diagnostics,
}

/// The note Terraform 1.0.3 prints (after a blank line) when a provider was
/// signed by its developer rather than by HashiCorp.
pub const SIGNING_NOTE: &str = "Partner and community providers are signed by their developers.\nIf you'd like to know more about provider signing, you can read about it here:\nhttps://www.terraform.io/docs/cli/plugins/signing.html\n";

/// Installs `requirements`. Errors for individual providers are collected
/// and returned together after every provider was tried.
pub fn install(
    requirements: &Requirements,
    previous: &LockFile,
    source: &dyn Source,
    options: &InstallOptions,
    on_event: &mut dyn FnMut(InstallEvent),
) -> Result<InstallOutcome, Diagnostics> {
    let mut diags = Diagnostics::new();
    let mut outcome = InstallOutcome {
        selected: BTreeMap::new(),
        package_dirs: BTreeMap::new(),
        lock: LockFile::new(),
        lock_changed: false,
        signed_by_developers: false,
        warnings: Diagnostics::new(),
    };
    let mut warnings = Diagnostics::new();
    let mut on_event = |e: InstallEvent| {
        if let InstallEvent::Installed { auth, .. } = &e {
            if auth.starts_with("self-signed") || auth.starts_with("signed by a HashiCorp partner")
            {
                outcome.signed_by_developers = true;
            }
        }
        on_event(e)
    };
    let on_event: &mut dyn FnMut(InstallEvent) = &mut on_event;
    for (addr, constraints) in requirements {
        if addr.is_builtin() {
            continue;
        }
        match install_one(
            addr,
            constraints,
            previous.provider(addr),
            source,
            options,
            on_event,
            &mut warnings,
        ) {
            Ok((version, dir, locked)) => {
                outcome.selected.insert(addr.clone(), version);
                outcome.package_dirs.insert(addr.clone(), dir);
                outcome.lock.set(locked);
            }
            Err(d) => diags.push(d),
        }
    }
    if diags.has_errors() {
        diags.extend(warnings);
        return Err(diags);
    }
    outcome.warnings = warnings;
    outcome.lock_changed = outcome.lock != *previous;
    if options.lockfile_mode == LockfileMode::Readonly && outcome.lock_changed {
        diags.push(Diagnostic::error(
            "Provider dependency changes detected",
            "Changes to the required provider dependencies were detected, but the lock file is read-only. To use and record these requirements, run \"terraform init\" without the \"-lockfile=readonly\" flag.",
        ));
        diags.extend(outcome.warnings);
        return Err(diags);
    }
    Ok(outcome)
}

fn select_version(
    addr: &ProviderAddr,
    constraints: &Constraints,
    locked: Option<&LockedProvider>,
    source: &dyn Source,
    options: &InstallOptions,
    on_event: &mut dyn FnMut(InstallEvent),
    source_warnings: &mut Diagnostics,
) -> Result<Version, Diagnostic> {
    if let (Some(locked), false) = (locked, options.upgrade) {
        if !constraints.allows(&locked.version) {
            return Err(Diagnostic::error(
                "Failed to query available provider packages",
                format!(
                    "Could not retrieve the list of available versions for provider {}: locked provider {addr} {} does not match configured version constraint {}; must use terraform init -upgrade to allow selection of new versions",
                    addr.for_display(),
                    locked.version,
                    constraints.canonical()
                ),
            ));
        }
        on_event(InstallEvent::ReusingLocked {
            addr: addr.clone(),
            version: locked.version.clone(),
        });
        return Ok(locked.version.clone());
    }
    on_event(InstallEvent::FindingVersions {
        addr: addr.clone(),
        constraints: if constraints.is_empty() {
            None
        } else {
            Some(constraints.canonical())
        },
    });
    let mut warnings = Vec::new();
    let available = source.available_versions(addr, &mut warnings);
    if !warnings.is_empty() {
        let list: Vec<String> = warnings.iter().map(|w| format!("- {w}")).collect();
        source_warnings.push(Diagnostic::warning(
            "Additional provider information from registry",
            format!(
                "The remote registry returned warnings for {addr}:\n{}",
                list.join("\n")
            ),
        ));
    }
    let available = available?;
    if available.is_empty() {
        return Err(Diagnostic::error(
            "Failed to query available provider packages",
            format!(
                "Could not retrieve the list of available versions for provider {}: provider registry {} does not have a provider named {addr}",
                addr.for_display(),
                addr.hostname
            ),
        ));
    }
    constraints.newest(&available).ok_or_else(|| {
        Diagnostic::error(
            "Failed to query available provider packages",
            format!(
                "Could not retrieve the list of available versions for provider {}: no available releases match the given constraints {}",
                addr.for_display(),
                constraints.canonical()
            ),
        )
    })
}

/// Installs one provider; returns its version, package directory and lock
/// entry.
fn install_one(
    addr: &ProviderAddr,
    constraints: &Constraints,
    locked: Option<&LockedProvider>,
    source: &dyn Source,
    options: &InstallOptions,
    on_event: &mut dyn FnMut(InstallEvent),
    source_warnings: &mut Diagnostics,
) -> Result<(Version, PathBuf, LockedProvider), Diagnostic> {
    let version = select_version(
        addr,
        constraints,
        locked,
        source,
        options,
        on_event,
        source_warnings,
    )?;
    let platform = &options.platform;
    let target = package_dir(&options.providers_dir, addr, &version, platform);
    // The lock file's hashes apply only to the version it recorded.
    let locked_hashes: Vec<PackageHash> = match locked {
        Some(l) if l.version == version => l.hashes.clone(),
        _ => Vec::new(),
    };
    let install_error = |detail: String| {
        Diagnostic::error(
            "Failed to install provider",
            format!(
                "Error while installing {} v{version}: {detail}",
                addr.for_display()
            ),
        )
    };
    let mut new_hashes: Vec<PackageHash> = locked_hashes.clone();

    // Already installed and vouched for by the lock file.
    if !locked_hashes.is_empty() && target.is_dir() {
        if let Ok(h1) = h1_of_dir(&target) {
            if locked_hashes.contains(&h1) {
                on_event(InstallEvent::UsingInstalled {
                    addr: addr.clone(),
                    version: version.clone(),
                });
                new_hashes.push(h1);
                let entry =
                    LockedProvider::new(addr.clone(), version.clone(), constraints, new_hashes);
                return Ok((version, target, entry));
            }
        }
    }

    // In the plugin cache.
    let cache_target = options
        .plugin_cache_dir
        .as_ref()
        .map(|c| package_dir(c, addr, &version, platform));
    if let Some(cached) = &cache_target {
        if cached.is_dir() {
            let h1 = h1_of_dir(cached).map_err(|e| install_error(e.to_string()))?;
            if locked_hashes.is_empty() || locked_hashes.contains(&h1) {
                on_event(InstallEvent::LinkingFromCache {
                    addr: addr.clone(),
                    version: version.clone(),
                });
                link_dir(cached, &target).map_err(&install_error)?;
                new_hashes.push(h1);
                let entry =
                    LockedProvider::new(addr.clone(), version.clone(), constraints, new_hashes);
                return Ok((version, target, entry));
            }
            // A cached package the lock file does not vouch for is fetched
            // again rather than trusted.
        }
    }

    let meta = source.package_meta(addr, &version, platform)?;
    on_event(InstallEvent::Installing {
        addr: addr.clone(),
        version: version.clone(),
    });
    let install_into = cache_target.clone().unwrap_or_else(|| target.clone());
    let (h1, vouched, auth) =
        fetch_verify_install(&meta, &locked_hashes, &install_into).map_err(&install_error)?;
    if cache_target.is_some() {
        link_dir(&install_into, &target).map_err(&install_error)?;
    }
    on_event(InstallEvent::Installed {
        addr: addr.clone(),
        version: version.clone(),
        auth,
    });
    new_hashes.push(h1);
    new_hashes.extend(vouched);
    let entry = LockedProvider::new(addr.clone(), version.clone(), constraints, new_hashes);
    Ok((version, target, entry))
}

/// Fetches the package, checks it, installs it at `dest`. Returns its `h1:`
/// hash, the hashes the source vouched for, and the authentication label.
fn fetch_verify_install(
    meta: &PackageMeta,
    locked_hashes: &[PackageHash],
    dest: &Path,
) -> Result<(PackageHash, Vec<PackageHash>, String), String> {
    let parent = dest
        .parent()
        .ok_or_else(|| format!("invalid install directory {}", dest.display()))?;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    // A downloaded archive lives in a temporary file beside the target.
    let mut downloaded: Option<PathBuf> = None;
    let archive_or_dir: PathBuf = match &meta.location {
        PackageLocation::LocalDir(p) | PackageLocation::LocalZip(p) => p.clone(),
        PackageLocation::Http(url) => {
            let tmp = parent.join(format!(
                ".download-{}-{}.zip",
                meta.filename,
                std::process::id()
            ));
            crate::http::HttpClient::new()
                .download_to(url, &tmp)
                .map_err(|d| format!("failed to download {url}: {}", d.detail))?;
            downloaded = Some(tmp.clone());
            tmp
        }
    };
    let result = verify_and_install(meta, locked_hashes, &archive_or_dir, dest);
    if let Some(tmp) = downloaded {
        let _ = std::fs::remove_file(tmp);
    }
    result
}

fn verify_and_install(
    meta: &PackageMeta,
    locked_hashes: &[PackageHash],
    package: &Path,
    dest: &Path,
) -> Result<(PackageHash, Vec<PackageHash>, String), String> {
    let is_dir = matches!(meta.location, PackageLocation::LocalDir(_));
    let h1 = if is_dir {
        h1_of_dir(package)
    } else {
        h1_of_zip(package)
    }
    .map_err(|e| e.to_string())?;
    let mut vouched = Vec::new();
    let auth = match &meta.authentication {
        Authentication::None => "unauthenticated".to_string(),
        Authentication::RegistryChecksum {
            sha256,
            all_platform_hashes,
            signed_by,
        } => {
            let got = crate::hash::sha256_file_hex(package).map_err(|e| e.to_string())?;
            if got != *sha256 {
                return Err(format!(
                    "checksum mismatch: the registry reported SHA-256 {sha256} for {}, but the downloaded archive has {got}",
                    meta.filename
                ));
            }
            vouched.extend(all_platform_hashes.iter().cloned());
            signed_by.clone()
        }
        Authentication::MirrorHashes(hashes) => {
            let mut ok = false;
            for h in hashes {
                if package_matches(package, h).map_err(|e| e.to_string())? {
                    ok = true;
                    break;
                }
            }
            if !ok {
                return Err(match hashes.as_slice() {
                    [only] => format!(
                        "provider package doesn't match the expected checksum {:?}",
                        only.as_str()
                    ),
                    // Terraform 1.0.3's wording, word for word.
                    _ => "provider package doesn't match the any of the expected checksums"
                        .to_string(),
                });
            }
            // Terraform records only the package's own hash, not the
            // mirror's list.
            "verified checksum".to_string()
        }
    };
    if !locked_hashes.is_empty() {
        let mut ok = locked_hashes.contains(&h1);
        if !ok && !is_dir {
            let zh = crate::hash::zh_of_zip(package).map_err(|e| e.to_string())?;
            ok = locked_hashes.contains(&zh);
        }
        if !ok {
            let which = match meta.location {
                PackageLocation::Http(_) => "current",
                _ => "local",
            };
            return Err(format!(
                "the {which} package for {} {} doesn't match any of the checksums previously recorded in the dependency lock file (this might be because the available checksums are for packages targeting different platforms)",
                meta.provider, meta.version
            ));
        }
    }
    if is_dir {
        link_dir(package, dest)?;
    } else {
        extract_zip(package, dest)?;
    }
    Ok((h1, vouched, auth))
}

/// `BASE/HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH`.
pub fn package_dir(
    base: &Path,
    addr: &ProviderAddr,
    version: &Version,
    platform: &Platform,
) -> PathBuf {
    base.join(&addr.hostname)
        .join(&addr.namespace)
        .join(&addr.type_name)
        .join(version.to_string())
        .join(platform.to_string())
}

/// Replaces whatever is at `link` with a symlink to the absolute path of
/// `target`.
fn link_dir(target: &Path, link: &Path) -> Result<(), String> {
    let absolute = std::path::absolute(target)
        .map_err(|e| format!("cannot resolve {}: {e}", target.display()))?;
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    remove_any(link)?;
    symlink_dir(&absolute, link).map_err(|e| {
        format!(
            "cannot link {} to {}: {e}",
            link.display(),
            absolute.display()
        )
    })
}

#[cfg(unix)]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink_dir(target: &Path, link: &Path) -> std::io::Result<()> {
    copy_dir(target, link)
}

#[cfg(not(unix))]
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), dest)?;
        }
    }
    Ok(())
}

fn remove_any(path: &Path) -> Result<(), String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path)
            .map_err(|e| format!("cannot remove {}: {e}", path.display())),
        Ok(_) => {
            std::fs::remove_file(path).map_err(|e| format!("cannot remove {}: {e}", path.display()))
        }
        Err(_) => Ok(()),
    }
}

/// Extracts a package archive into `dest` (replacing it), through a
/// temporary directory beside it so that a failure leaves nothing half
/// written. Entries that would land outside `dest` are refused.
fn extract_zip(archive_path: &Path, dest: &Path) -> Result<(), String> {
    let parent = dest
        .parent()
        .ok_or_else(|| format!("invalid install directory {}", dest.display()))?;
    let staging = parent.join(format!(
        ".extract-{}-{}",
        dest.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        std::process::id()
    ));
    remove_any(&staging)?;
    std::fs::create_dir_all(&staging)
        .map_err(|e| format!("cannot create {}: {e}", staging.display()))?;
    let result = extract_into(archive_path, &staging);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    remove_any(dest)?;
    std::fs::rename(&staging, dest).map_err(|e| {
        let _ = std::fs::remove_dir_all(&staging);
        format!("cannot move the package into {}: {e}", dest.display())
    })
}

fn extract_into(archive_path: &Path, dir: &Path) -> Result<(), String> {
    let file = std::fs::File::open(archive_path)
        .map_err(|e| format!("cannot read {}: {e}", archive_path.display()))?;
    let mut archive = zip::ZipArchive::new(file)
        .map_err(|e| format!("{} is not a valid zip archive: {e}", archive_path.display()))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| format!("cannot read {}: {e}", archive_path.display()))?;
        let Some(rel) = entry.enclosed_name() else {
            return Err(format!(
                "the archive {} has an entry {:?} outside its own directory",
                archive_path.display(),
                entry.name()
            ));
        };
        let out_path = dir.join(rel);
        if entry.is_dir() {
            std::fs::create_dir_all(&out_path)
                .map_err(|e| format!("cannot create {}: {e}", out_path.display()))?;
            continue;
        }
        if let Some(p) = out_path.parent() {
            std::fs::create_dir_all(p)
                .map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        }
        let mut out = std::fs::File::create(&out_path)
            .map_err(|e| format!("cannot create {}: {e}", out_path.display()))?;
        std::io::copy(&mut entry, &mut out)
            .map_err(|e| format!("cannot extract {}: {e}", out_path.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // Provider archives carry the executable bit; keep the mode the
            // archive recorded, or make the file executable when it has none
            // (archives made on Windows), as the plugin must run.
            let mode = entry
                .unix_mode()
                .map(|m| m & 0o777)
                .filter(|m| *m != 0)
                .unwrap_or(0o755);
            std::fs::set_permissions(&out_path, std::fs::Permissions::from_mode(mode))
                .map_err(|e| format!("cannot set permissions on {}: {e}", out_path.display()))?;
        }
    }
    Ok(())
}

/// The provider executable for `addr` at `version`: from its
/// `dev_overrides` directory when there is one, else from the installed
/// package in `providers_dir`. The executable is the file whose name starts
/// with `terraform-provider-TYPE`.
pub fn find_installed(
    providers_dir: &Path,
    addr: &ProviderAddr,
    version: &Version,
    platform: &Platform,
    dev_overrides: &BTreeMap<ProviderAddr, PathBuf>,
) -> Result<PathBuf, Diagnostic> {
    let dir = match dev_overrides.get(addr) {
        Some(d) => d.clone(),
        None => package_dir(providers_dir, addr, version, platform),
    };
    let prefix = format!("terraform-provider-{}", addr.type_name);
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|r| {
            r.filter_map(Result::ok)
                .filter(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name == prefix
                        || name.starts_with(&format!("{prefix}_"))
                        || name.starts_with(&format!("{prefix}.")))
                        && e.path().is_file()
                })
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.into_iter().next().ok_or_else(|| {
        Diagnostic::error(
            "Required plugins are not installed",
            format!(
                "The installed provider plugins are not consistent with the packages selected in the dependency lock file:\n  - {}: there is no package for {addr} {version} cached in {}\n\nTerraform uses external plugins to integrate with a variety of different infrastructure services. To download the plugins required for this configuration, run:\n  terraform init",
                addr.for_display(),
                providers_dir.display()
            ),
        )
    })
}
