//! Where provider packages come from.
//!
//! Each installation method is a [`Source`]: it lists the versions it has
//! for a provider and describes the package of one version for one
//! platform. [`MultiSource`] combines the configured methods with their
//! `include`/`exclude` patterns, as Terraform does: the available versions
//! are the union over every method allowed for the provider, and a
//! version's package comes from the first method that has it.

pub mod filesystem;
pub mod network;
pub mod registry;

use crate::addr::ProviderAddr;
use crate::cliconfig::{InstallationMethod, MethodKind};
use crate::discovery::Discovery;
use crate::hash::PackageHash;
use crate::platform::Platform;
use crate::versions::Version;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use terrane_hcl::Diagnostic;

/// Where a package's bytes are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PackageLocation {
    /// An unpacked package directory (holding the provider executable).
    LocalDir(PathBuf),
    /// A zip archive on disk.
    LocalZip(PathBuf),
    /// A zip archive to download.
    Http(String),
}

/// What the source vouches for about a package, checked after fetching it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Authentication {
    /// Nothing: local mirrors.
    None,
    /// The registry's checksum: the archive's SHA-256 must equal `sha256`,
    /// which the registry's `SHA256SUMS` document lists and whose OpenPGP
    /// signature was verified with the registry's signing keys.
    /// `all_platform_hashes` are the `zh:` hashes of every platform in that
    /// document; `signed_by` is Terraform's label for the signer
    /// (`signed by HashiCorp`, `self-signed`).
    RegistryChecksum {
        sha256: String,
        all_platform_hashes: Vec<PackageHash>,
        signed_by: String,
    },
    /// The hashes a network mirror published for this package; at least one
    /// must match.
    MirrorHashes(Vec<PackageHash>),
}

/// One version's package for one platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackageMeta {
    pub provider: ProviderAddr,
    pub version: Version,
    pub platform: Platform,
    /// The archive's file name (`terraform-provider-null_2.1.2_linux_amd64.zip`),
    /// or the directory name for an unpacked package.
    pub filename: String,
    pub location: PackageLocation,
    /// Plugin protocol versions the registry declared (`["5.0"]`); empty
    /// when the source does not say.
    pub protocols: Vec<String>,
    pub authentication: Authentication,
}

/// One place providers can be installed from.
pub trait Source: Send + Sync {
    /// Every version the source has for `addr` (any platform), unsorted.
    /// Warnings the source reports (a registry's deprecation notes) go into
    /// `warnings`.
    fn available_versions(
        &self,
        addr: &ProviderAddr,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Version>, Diagnostic>;

    /// The package of one version for `platform`.
    fn package_meta(
        &self,
        addr: &ProviderAddr,
        version: &Version,
        platform: &Platform,
    ) -> Result<PackageMeta, Diagnostic>;

    /// Where the source looks, as listed in "not found in any of the search
    /// locations" messages: the mirror's path or URL, the registry's name.
    fn describe(&self) -> String;
}

/// The configured methods, in order, with their patterns.
pub struct MultiSource {
    entries: Vec<(InstallationMethod, Box<dyn Source>)>,
    /// Version lists by (entry index, provider): each source is asked once.
    versions_cache: Mutex<HashMap<(usize, ProviderAddr), Vec<Version>>>,
}

impl MultiSource {
    /// Builds the sources for `methods`. Network requests go through
    /// `discovery` (and its HTTP client).
    pub fn new(methods: &[InstallationMethod], discovery: Arc<Discovery>) -> MultiSource {
        let entries = methods
            .iter()
            .map(|m| {
                let source: Box<dyn Source> = match &m.kind {
                    MethodKind::Direct => {
                        Box::new(registry::RegistrySource::new(discovery.clone()))
                    }
                    MethodKind::FilesystemMirror { path } => {
                        Box::new(filesystem::FilesystemMirror::new(path.clone()))
                    }
                    MethodKind::NetworkMirror { url } => Box::new(network::NetworkMirror::new(
                        url.clone(),
                        discovery.client().clone(),
                    )),
                };
                (m.clone(), source)
            })
            .collect();
        MultiSource::from_sources(entries)
    }

    /// A source from explicit parts (tests, or callers with their own
    /// sources).
    pub fn from_sources(entries: Vec<(InstallationMethod, Box<dyn Source>)>) -> MultiSource {
        MultiSource {
            entries,
            versions_cache: Mutex::new(HashMap::new()),
        }
    }

    fn allowed<'a>(
        &'a self,
        addr: &'a ProviderAddr,
    ) -> impl Iterator<Item = (usize, &'a dyn Source)> + 'a {
        self.entries
            .iter()
            .enumerate()
            .filter(move |(_, (m, _))| m.allows(addr))
            .map(|(i, (_, s))| (i, s.as_ref()))
    }

    fn versions_of(
        &self,
        index: usize,
        source: &dyn Source,
        addr: &ProviderAddr,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Version>, Diagnostic> {
        let key = (index, addr.clone());
        if let Some(found) = self
            .versions_cache
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return Ok(found);
        }
        let versions = source.available_versions(addr, warnings)?;
        if let Ok(mut cache) = self.versions_cache.lock() {
            cache.insert(key, versions.clone());
        }
        Ok(versions)
    }

    /// Whether any method may serve `addr` at all.
    pub fn serves(&self, addr: &ProviderAddr) -> bool {
        self.allowed(addr).next().is_some()
    }
}

impl Source for MultiSource {
    fn available_versions(
        &self,
        addr: &ProviderAddr,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Version>, Diagnostic> {
        let mut versions: Vec<Version> = Vec::new();
        let mut locations = Vec::new();
        for (index, source) in self.allowed(addr) {
            locations.push(source.describe());
            for v in self.versions_of(index, source, addr, warnings)? {
                if !versions.contains(&v) {
                    versions.push(v);
                }
            }
        }
        if versions.is_empty() {
            let mut detail = format!(
                "Could not retrieve the list of available versions for provider {}: provider {addr} was not found in any of the search locations",
                addr.for_display()
            );
            if !locations.is_empty() {
                detail.push_str("\n\n");
                let list: Vec<String> = locations.iter().map(|l| format!("  - {l}")).collect();
                detail.push_str(&list.join("\n"));
            }
            return Err(Diagnostic::error(
                "Failed to query available provider packages",
                detail,
            ));
        }
        Ok(versions)
    }

    fn package_meta(
        &self,
        addr: &ProviderAddr,
        version: &Version,
        platform: &Platform,
    ) -> Result<PackageMeta, Diagnostic> {
        let mut last_error = None;
        for (index, source) in self.allowed(addr) {
            let mut ignored = Vec::new();
            match self.versions_of(index, source, addr, &mut ignored) {
                Ok(vs) if vs.contains(version) => {
                    return source.package_meta(addr, version, platform)
                }
                Ok(_) => {}
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            Diagnostic::error(
                "Failed to install provider",
                format!(
                    "Error while installing {} v{version}: provider {addr} {version} is not available from any configured installation method",
                    addr.for_display()
                ),
            )
        }))
    }

    fn describe(&self) -> String {
        let all: Vec<String> = self.entries.iter().map(|(_, s)| s.describe()).collect();
        all.join(", ")
    }
}
