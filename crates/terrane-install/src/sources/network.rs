//! The provider network mirror protocol (`network_mirror`):
//!
//! * `GET BASE/HOSTNAME/NAMESPACE/TYPE/index.json` answers
//!   `{"versions": {"2.1.2": {}, ...}}`;
//! * `GET BASE/HOSTNAME/NAMESPACE/TYPE/VERSION.json` answers
//!   `{"archives": {"linux_amd64": {"url": "...zip", "hashes": ["h1:..."]}}}`,
//!   the `url` relative to that document.

use super::{Authentication, PackageLocation, PackageMeta, Source};
use crate::addr::ProviderAddr;
use crate::hash::PackageHash;
use crate::http::{resolve_url, HttpClient};
use crate::platform::Platform;
use crate::versions::Version;
use terrane_hcl::Diagnostic;

/// A network mirror at a base URL (ending with `/`).
#[derive(Clone, Debug)]
pub struct NetworkMirror {
    pub base_url: String,
    client: HttpClient,
}

impl NetworkMirror {
    pub fn new(base_url: String, client: HttpClient) -> NetworkMirror {
        let base_url = if base_url.ends_with('/') {
            base_url
        } else {
            format!("{base_url}/")
        };
        NetworkMirror { base_url, client }
    }

    fn provider_url(&self, addr: &ProviderAddr, leaf: &str) -> String {
        format!(
            "{}{}/{}/{}/{}",
            self.base_url, addr.hostname, addr.namespace, addr.type_name, leaf
        )
    }

    fn query_error(&self, addr: &ProviderAddr, detail: String) -> Diagnostic {
        Diagnostic::error(
            "Failed to query available provider packages",
            format!(
                "Could not retrieve the list of available versions for provider {}: failed to query provider mirror {} for {addr}: {detail}",
                addr.for_display(),
                self.base_url
            ),
        )
    }
}

impl Source for NetworkMirror {
    fn available_versions(
        &self,
        addr: &ProviderAddr,
        _warnings: &mut Vec<String>,
    ) -> Result<Vec<Version>, Diagnostic> {
        let url = self.provider_url(addr, "index.json");
        let response = self
            .client
            .get(&url)
            .map_err(|d| self.query_error(addr, d.detail))?;
        if response.status == 404 {
            // The mirror does not have this provider at all.
            return Ok(Vec::new());
        }
        if !response.is_success() {
            return Err(self.query_error(
                addr,
                format!("the server answered {url} with status {}", response.status),
            ));
        }
        let doc: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| self.query_error(addr, format!("invalid response from {url}: {e}")))?;
        let versions = doc
            .get("versions")
            .and_then(|v| v.as_object())
            .ok_or_else(|| {
                self.query_error(
                    addr,
                    format!("invalid response from {url}: no \"versions\" object"),
                )
            })?;
        let mut out = Vec::new();
        for key in versions.keys() {
            // Entries that are not versions are skipped, as Terraform does.
            if let Ok(v) = Version::parse(key) {
                out.push(v);
            }
        }
        Ok(out)
    }

    fn package_meta(
        &self,
        addr: &ProviderAddr,
        version: &Version,
        platform: &Platform,
    ) -> Result<PackageMeta, Diagnostic> {
        let url = self.provider_url(addr, &format!("{version}.json"));
        let fail = |detail: String| {
            Diagnostic::error(
                "Failed to install provider",
                format!(
                    "Error while installing {} v{version}: failed to query provider mirror {} for {addr} {version}: {detail}",
                    addr.for_display(),
                    self.base_url
                ),
            )
        };
        let response = self.client.get(&url).map_err(|d| fail(d.detail))?;
        if !response.is_success() {
            return Err(fail(format!(
                "the server answered {url} with status {}",
                response.status
            )));
        }
        let doc: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| fail(format!("invalid response from {url}: {e}")))?;
        let archive = doc
            .get("archives")
            .and_then(|a| a.get(platform.to_string()))
            .ok_or_else(|| fail(format!("the mirror has no package for {platform}")))?;
        let rel = archive.get("url").and_then(|u| u.as_str()).ok_or_else(|| {
            fail(format!(
                "invalid response from {url}: archive without \"url\""
            ))
        })?;
        let download = resolve_url(&response.url, rel);
        let hashes: Vec<PackageHash> = archive
            .get("hashes")
            .and_then(|h| h.as_array())
            .map(|items| {
                items
                    .iter()
                    .filter_map(|h| h.as_str().and_then(PackageHash::parse))
                    .collect()
            })
            .unwrap_or_default();
        let filename = download
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .split(['?', '#'])
            .next()
            .unwrap_or_default()
            .to_string();
        Ok(PackageMeta {
            provider: addr.clone(),
            version: version.clone(),
            platform: platform.clone(),
            filename,
            location: PackageLocation::Http(download),
            protocols: Vec::new(),
            authentication: if hashes.is_empty() {
                Authentication::None
            } else {
                Authentication::MirrorHashes(hashes)
            },
        })
    }

    fn describe(&self) -> String {
        self.base_url.clone()
    }
}
