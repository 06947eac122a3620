//! The provider registry protocol (`direct`): the provider's own hostname
//! is asked for its `providers.v1` service, then
//!
//! * `GET BASE/NAMESPACE/TYPE/versions` lists versions with their
//!   protocols and platforms (and optional `warnings`);
//! * `GET BASE/NAMESPACE/TYPE/VERSION/download/OS/ARCH` describes one
//!   package: `filename`, `download_url`, `shasum`, `shasums_url`,
//!   `shasums_signature_url`, `protocols`, `signing_keys`.
//!
//! The archive's SHA-256 must equal `shasum`, the `SHA256SUMS` document
//! must list that same checksum for the file name, and the document's
//! detached OpenPGP signature (`shasums_signature_url`) must verify with one
//! of the `signing_keys`. Its entries for every platform become `zh:` hashes
//! in the lock file. A signature by HashiCorp's key is reported as "signed
//! by HashiCorp", any other as "self-signed" (partner trust signatures are
//! not checked; see docs/compatibility.md).

use super::{Authentication, PackageLocation, PackageMeta, Source};
use crate::addr::ProviderAddr;
use crate::discovery::{Discovery, PROVIDERS_V1};
use crate::hash::PackageHash;
use crate::http::resolve_url;
use crate::platform::Platform;
use crate::versions::Version;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use terrane_hcl::Diagnostic;

/// One version from a registry's version list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryVersion {
    pub version: Version,
    pub protocols: Vec<String>,
    pub platforms: Vec<Platform>,
}

/// The origin registries of providers.
pub struct RegistrySource {
    discovery: Arc<Discovery>,
    versions_cache: Mutex<HashMap<ProviderAddr, Vec<RegistryVersion>>>,
}

impl RegistrySource {
    pub fn new(discovery: Arc<Discovery>) -> RegistrySource {
        RegistrySource {
            discovery,
            versions_cache: Mutex::new(HashMap::new()),
        }
    }

    fn base_url(&self, addr: &ProviderAddr) -> Result<String, Diagnostic> {
        self.discovery
            .service_url(&addr.hostname, PROVIDERS_V1, "Terraform provider registry")
            .map_err(|d| {
                Diagnostic::error(
                    "Failed to query available provider packages",
                    format!(
                        "Could not retrieve the list of available versions for provider {}: {}",
                        addr.for_display(),
                        d.detail
                    ),
                )
            })
    }

    /// The registry's version list with protocols and platforms.
    pub fn versions(
        &self,
        addr: &ProviderAddr,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<RegistryVersion>, Diagnostic> {
        if let Ok(cache) = self.versions_cache.lock() {
            if let Some(found) = cache.get(addr) {
                return Ok(found.clone());
            }
        }
        let fail = |detail: String| {
            Diagnostic::error(
                "Failed to query available provider packages",
                format!(
                    "Could not retrieve the list of available versions for provider {}: {detail}",
                    addr.for_display()
                ),
            )
        };
        let base = self.base_url(addr)?;
        let url = resolve_url(
            &base,
            &format!("{}/{}/versions", addr.namespace, addr.type_name),
        );
        let response = self
            .discovery
            .client()
            .get(&url)
            .map_err(|d| fail(d.detail))?;
        if response.status == 404 {
            return Err(fail(format!(
                "provider registry {} does not have a provider named {addr}",
                addr.hostname
            )));
        }
        if !response.is_success() {
            return Err(fail(format!(
                "the registry answered {url} with status {}",
                response.status
            )));
        }
        let doc: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| fail(format!("invalid response from {url}: {e}")))?;
        if let Some(ws) = doc.get("warnings").and_then(|w| w.as_array()) {
            warnings.extend(ws.iter().filter_map(|w| w.as_str().map(str::to_string)));
        }
        let list = doc
            .get("versions")
            .and_then(|v| v.as_array())
            .ok_or_else(|| fail(format!("invalid response from {url}: no \"versions\" list")))?;
        let mut out = Vec::new();
        for item in list {
            let Some(version) = item
                .get("version")
                .and_then(|v| v.as_str())
                .and_then(|s| Version::parse(s).ok())
            else {
                continue;
            };
            let protocols = string_list(item.get("protocols"));
            let platforms = item
                .get("platforms")
                .and_then(|p| p.as_array())
                .map(|ps| {
                    ps.iter()
                        .filter_map(|p| {
                            Some(Platform::new(
                                p.get("os")?.as_str()?,
                                p.get("arch")?.as_str()?,
                            ))
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(RegistryVersion {
                version,
                protocols,
                platforms,
            });
        }
        if let Ok(mut cache) = self.versions_cache.lock() {
            cache.insert(addr.clone(), out.clone());
        }
        Ok(out)
    }
}

/// Verifies the signature over the checksums document with the download
/// description's `signing_keys`; returns Terraform's label for the signer.
fn check_signature(
    download: &serde_json::Value,
    sums: &[u8],
    client: &crate::http::HttpClient,
    base_url: &str,
) -> Result<String, String> {
    let keys_json = download
        .get("signing_keys")
        .and_then(|k| k.get("gpg_public_keys"))
        .and_then(|k| k.as_array())
        .cloned()
        .unwrap_or_default();
    let mut keys = Vec::new();
    for key in &keys_json {
        if let Some(armor) = key.get("ascii_armor").and_then(|a| a.as_str()) {
            match crate::openpgp::parse_public_keys(armor.as_bytes()) {
                Ok(parsed) => keys.extend(parsed),
                Err(e) => return Err(format!("error decoding a registry signing key: {e}")),
            }
        }
    }
    if keys.is_empty() {
        return Err(
            "the registry provided no signing keys (RSA) to authenticate the package".to_string(),
        );
    }
    let sig_url = download
        .get("shasums_signature_url")
        .and_then(|u| u.as_str())
        .map(|u| resolve_url(base_url, u))
        .ok_or_else(|| "the registry gave no shasums_signature_url".to_string())?;
    let sig = client.get(&sig_url).map_err(|d| d.detail)?;
    if !sig.is_success() {
        return Err(format!(
            "failed to retrieve the checksums signature {sig_url}: status {}",
            sig.status
        ));
    }
    let key = crate::openpgp::verify_detached(&keys, sums, &sig.body)
        .map_err(|e| format!("error checking signature: {e}"))?;
    if key.primary_fingerprint == crate::openpgp::HASHICORP_FINGERPRINT {
        Ok("signed by HashiCorp".to_string())
    } else {
        // Terraform names the signer by its primary key's 64-bit id.
        let fpr = &key.primary_fingerprint;
        Ok(format!(
            "self-signed, key ID {}",
            &fpr[fpr.len().saturating_sub(16)..]
        ))
    }
}

fn string_list(v: Option<&serde_json::Value>) -> Vec<String> {
    v.and_then(|v| v.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether terrane speaks one of the plugin protocols (5 and 6, as
/// Terraform 1.0).
pub fn protocols_supported(protocols: &[String]) -> bool {
    protocols.is_empty()
        || protocols.iter().any(|p| {
            p.split('.')
                .next()
                .is_some_and(|major| major == "5" || major == "6")
        })
}

/// Parses a `SHA256SUMS` document: lines `HEX  FILENAME`.
pub fn parse_shasums(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split_whitespace();
            let hash = parts.next()?;
            let name = parts.next()?;
            if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                Some((
                    hash.to_ascii_lowercase(),
                    name.trim_start_matches('*').to_string(),
                ))
            } else {
                None
            }
        })
        .collect()
}

impl Source for RegistrySource {
    fn available_versions(
        &self,
        addr: &ProviderAddr,
        warnings: &mut Vec<String>,
    ) -> Result<Vec<Version>, Diagnostic> {
        Ok(self
            .versions(addr, warnings)?
            .into_iter()
            .map(|v| v.version)
            .collect())
    }

    fn package_meta(
        &self,
        addr: &ProviderAddr,
        version: &Version,
        platform: &Platform,
    ) -> Result<PackageMeta, Diagnostic> {
        let fail = |detail: String| {
            Diagnostic::error(
                "Failed to install provider",
                format!(
                    "Error while installing {} v{version}: {detail}",
                    addr.for_display()
                ),
            )
        };
        let base = self.base_url(addr)?;
        let url = resolve_url(
            &base,
            &format!(
                "{}/{}/{}/download/{}/{}",
                addr.namespace, addr.type_name, version, platform.os, platform.arch
            ),
        );
        let client = self.discovery.client();
        let response = client.get(&url).map_err(|d| fail(d.detail))?;
        if response.status == 404 {
            return Err(fail(format!(
                "provider {addr} {version} is not available for {platform}"
            )));
        }
        if !response.is_success() {
            return Err(fail(format!(
                "the registry answered {url} with status {}",
                response.status
            )));
        }
        let doc: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| fail(format!("invalid response from {url}: {e}")))?;
        let field = |name: &str| -> Result<String, Diagnostic> {
            doc.get(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| fail(format!("invalid response from {url}: missing {name:?}")))
        };
        let protocols = string_list(doc.get("protocols"));
        if !protocols_supported(&protocols) {
            return Err(fail(format!(
                "provider {addr} {version} supports plugin protocols {}, but this version of terrane (like Terraform 1.0) supports only 5 and 6",
                protocols.join(", ")
            )));
        }
        let filename = field("filename")?;
        let download_url = resolve_url(&response.url, &field("download_url")?);
        let shasum = field("shasum")?.to_ascii_lowercase();
        let shasums_url = resolve_url(&response.url, &field("shasums_url")?);
        let sums = client.get(&shasums_url).map_err(|d| fail(d.detail))?;
        if !sums.is_success() {
            return Err(fail(format!(
                "failed to retrieve the checksums document {shasums_url}: status {}",
                sums.status
            )));
        }
        let sums_text = String::from_utf8_lossy(&sums.body);
        let entries = parse_shasums(&sums_text);
        match entries.iter().find(|(_, name)| *name == filename) {
            Some((h, _)) if *h == shasum => {}
            Some((h, _)) => {
                return Err(fail(format!(
                    "the checksums document lists {h} for {filename}, but the registry reported {shasum}"
                )))
            }
            None => {
                return Err(fail(format!(
                    "the checksums document {shasums_url} has no entry for {filename}"
                )))
            }
        }
        let signed_by = check_signature(&doc, &sums.body, client, &response.url).map_err(&fail)?;
        // Only archives of this provider version count as its hashes.
        let prefix = format!("terraform-provider-{}_{}_", addr.type_name, version);
        let all_platform_hashes = entries
            .iter()
            .filter(|(_, name)| name.starts_with(&prefix) && name.ends_with(".zip"))
            .map(|(h, _)| PackageHash::zh_from_hex(h))
            .collect();
        Ok(PackageMeta {
            provider: addr.clone(),
            version: version.clone(),
            platform: platform.clone(),
            filename,
            location: PackageLocation::Http(download_url),
            protocols,
            authentication: Authentication::RegistryChecksum {
                sha256: shasum,
                all_platform_hashes,
                signed_by,
            },
        })
    }

    fn describe(&self) -> String {
        "the provider's origin registry".to_string()
    }
}
