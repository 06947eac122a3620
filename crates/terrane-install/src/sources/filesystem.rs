//! Filesystem mirrors (`filesystem_mirror`, `-plugin-dir`, the implied local
//! directories). Two layouts, which may be mixed:
//!
//! * unpacked: `HOSTNAME/NAMESPACE/TYPE/VERSION/OS_ARCH/` holding the
//!   provider executable;
//! * packed: `HOSTNAME/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip`.

use super::{Authentication, PackageLocation, PackageMeta, Source};
use crate::addr::ProviderAddr;
use crate::platform::Platform;
use crate::versions::Version;
use std::path::{Path, PathBuf};
use terrane_hcl::Diagnostic;

/// One mirror directory.
#[derive(Clone, Debug)]
pub struct FilesystemMirror {
    pub root: PathBuf,
}

/// One package found in a mirror.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorEntry {
    pub version: Version,
    pub platform: Platform,
    pub location: PackageLocation,
}

impl FilesystemMirror {
    pub fn new(root: PathBuf) -> FilesystemMirror {
        FilesystemMirror { root }
    }

    /// Every package of `addr` in the mirror, unpacked ones first for each
    /// version and platform (they win when both layouts have one).
    pub fn entries(&self, addr: &ProviderAddr) -> Vec<MirrorEntry> {
        let type_dir = self
            .root
            .join(&addr.hostname)
            .join(&addr.namespace)
            .join(&addr.type_name);
        let mut out = Vec::new();
        let Ok(read) = std::fs::read_dir(&type_dir) else {
            return out;
        };
        let mut names: Vec<(String, PathBuf)> = read
            .filter_map(Result::ok)
            .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
            .collect();
        names.sort();
        let mut packed = Vec::new();
        for (name, path) in names {
            if path.is_dir() {
                let Ok(version) = Version::parse(&name) else {
                    continue;
                };
                let Ok(platforms) = std::fs::read_dir(&path) else {
                    continue;
                };
                let mut platform_dirs: Vec<(String, PathBuf)> = platforms
                    .filter_map(Result::ok)
                    .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                    .filter(|(_, p)| p.is_dir())
                    .collect();
                platform_dirs.sort();
                for (pname, pdir) in platform_dirs {
                    if let Some(platform) = Platform::parse(&pname) {
                        out.push(MirrorEntry {
                            version: version.clone(),
                            platform,
                            location: PackageLocation::LocalDir(pdir),
                        });
                    }
                }
            } else if let Some((version, platform)) = parse_package_filename(&name, &addr.type_name)
            {
                packed.push(MirrorEntry {
                    version,
                    platform,
                    location: PackageLocation::LocalZip(path),
                });
            }
        }
        for p in packed {
            let dup = out
                .iter()
                .any(|e| e.version == p.version && e.platform == p.platform);
            if !dup {
                out.push(p);
            }
        }
        out
    }
}

/// Parses `terraform-provider-TYPE_VERSION_OS_ARCH.zip`.
pub fn parse_package_filename(name: &str, type_name: &str) -> Option<(Version, Platform)> {
    let rest = name
        .strip_prefix("terraform-provider-")?
        .strip_prefix(type_name)?
        .strip_prefix('_')?
        .strip_suffix(".zip")?;
    let mut parts = rest.rsplitn(3, '_');
    let arch = parts.next()?;
    let os = parts.next()?;
    let version = parts.next()?;
    let version = Version::parse(version).ok()?;
    Some((version, Platform::new(os, arch)))
}

/// The standard archive name of a package.
pub fn package_filename(addr: &ProviderAddr, version: &Version, platform: &Platform) -> String {
    format!(
        "terraform-provider-{}_{}_{}.zip",
        addr.type_name, version, platform
    )
}

/// Every provider that has at least one package in the mirror at `root`.
pub fn list_mirror_providers(root: &Path) -> Vec<ProviderAddr> {
    let mut out = Vec::new();
    let list = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|r| {
                r.filter_map(Result::ok)
                    .filter(|e| e.path().is_dir())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    for host in list(root) {
        for ns in list(&root.join(&host)) {
            for ty in list(&root.join(&host).join(&ns)) {
                let addr = ProviderAddr::new(&host, &ns, &ty);
                if !FilesystemMirror::new(root.to_path_buf())
                    .entries(&addr)
                    .is_empty()
                {
                    out.push(addr);
                }
            }
        }
    }
    out
}

impl Source for FilesystemMirror {
    fn available_versions(
        &self,
        addr: &ProviderAddr,
        _warnings: &mut Vec<String>,
    ) -> Result<Vec<Version>, Diagnostic> {
        let mut versions: Vec<Version> = Vec::new();
        for e in self.entries(addr) {
            if !versions.contains(&e.version) {
                versions.push(e.version);
            }
        }
        Ok(versions)
    }

    fn package_meta(
        &self,
        addr: &ProviderAddr,
        version: &Version,
        platform: &Platform,
    ) -> Result<PackageMeta, Diagnostic> {
        let found = self
            .entries(addr)
            .into_iter()
            .find(|e| &e.version == version && &e.platform == platform);
        match found {
            Some(e) => {
                let filename = match &e.location {
                    PackageLocation::LocalZip(p) | PackageLocation::LocalDir(p) => p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    PackageLocation::Http(u) => u.clone(),
                };
                Ok(PackageMeta {
                    provider: addr.clone(),
                    version: version.clone(),
                    platform: platform.clone(),
                    filename,
                    location: e.location,
                    protocols: Vec::new(),
                    authentication: Authentication::None,
                })
            }
            None => Err(Diagnostic::error(
                "Failed to install provider",
                format!(
                    "Error while installing {} v{version}: provider {addr} {version} is not available for {platform}",
                    addr.for_display()
                ),
            )),
        }
    }

    fn describe(&self) -> String {
        self.root.display().to_string()
    }
}
