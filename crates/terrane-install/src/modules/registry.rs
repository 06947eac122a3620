//! The module registry protocol (`modules.v1`): the versions list
//! (`GET NAMESPACE/NAME/PROVIDER/versions`) and the download location
//! (`GET .../VERSION/download`, answered with `204 No Content` and the
//! package address in `X-Terraform-Get`).

use super::source::RegistryModuleAddr;
use crate::discovery::{Discovery, MODULES_V1};
use crate::http::resolve_url;
use crate::versions::Version;
use terrane_config::ModuleCall;
use terrane_hcl::Diagnostic;

/// A registry failure, turned into Terraform's diagnostic once the module
/// call it concerns is known.
#[derive(Debug)]
pub enum RegistryError {
    /// Discovery or the request itself failed.
    Versions(String),
    /// The registry does not know the module (404).
    NotFound,
    /// The versions answer is not the documented JSON.
    InvalidVersions(String),
    /// Asking for the download location failed.
    Download { version: String, detail: String },
}

impl RegistryError {
    pub fn into_diagnostic(self, call: &ModuleCall, addr: &RegistryModuleAddr) -> Diagnostic {
        let at = super::call_location(call);
        let name = &call.name;
        let host = &addr.host;
        match self {
            RegistryError::Versions(detail) => Diagnostic::error(
                "Error accessing remote module registry",
                format!("Failed to retrieve available versions for module {name:?} ({at}) from {host}: {detail}."),
            ),
            RegistryError::NotFound => Diagnostic::error(
                "Module not found",
                format!("Module {name:?} (from {at}) cannot be found in the module registry at {host}."),
            ),
            RegistryError::InvalidVersions(detail) => Diagnostic::error(
                "Invalid response from remote module registry",
                format!("The registry at {host} returned an invalid response when terrane requested available versions for module {name:?} ({at}): {detail}."),
            ),
            RegistryError::Download { version, detail } => Diagnostic::error(
                "Error accessing remote module registry",
                format!("Failed to retrieve a download URL for {} {version} from {host}: {detail}", addr.module_path()),
            ),
        }
    }
}

impl std::fmt::Display for RegistryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RegistryError::Versions(d) | RegistryError::InvalidVersions(d) => f.write_str(d),
            RegistryError::NotFound => f.write_str("the module is not in the registry"),
            RegistryError::Download { version, detail } => {
                write!(
                    f,
                    "failed to retrieve a download URL for version {version}: {detail}"
                )
            }
        }
    }
}

/// A module registry reached through service discovery.
pub struct ModuleRegistry<'a> {
    discovery: &'a Discovery,
}

impl<'a> ModuleRegistry<'a> {
    pub fn new(discovery: &'a Discovery) -> Self {
        ModuleRegistry { discovery }
    }

    /// The `modules.v1` base URL of the module's host.
    fn base_url(&self, addr: &RegistryModuleAddr) -> Result<String, String> {
        let mut base = self
            .discovery
            .service_url(&addr.host, MODULES_V1, "Terraform module registry")
            .map_err(|d| d.detail)?;
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(base)
    }

    /// Every version the registry lists for the module.
    pub fn versions(&self, addr: &RegistryModuleAddr) -> Result<Vec<Version>, RegistryError> {
        let base = self.base_url(addr).map_err(RegistryError::Versions)?;
        let url = format!("{base}{}/versions", addr.module_path());
        let response = self
            .discovery
            .client()
            .get(&url)
            .map_err(|d| RegistryError::Versions(d.detail))?;
        match response.status {
            200 => {}
            404 => return Err(RegistryError::NotFound),
            s => {
                return Err(RegistryError::Versions(format!(
                    "the registry answered {url} with status {s}"
                )))
            }
        }
        parse_versions(&response.body).map_err(RegistryError::InvalidVersions)
    }

    /// The package address to fetch for one version: `X-Terraform-Get`
    /// (or a JSON body's `location`), resolved against the request URL
    /// when it is a relative path.
    pub fn download_location(
        &self,
        addr: &RegistryModuleAddr,
        version: &Version,
    ) -> Result<String, RegistryError> {
        let fail = |detail: String| RegistryError::Download {
            version: version.to_string(),
            detail,
        };
        let base = self.base_url(addr).map_err(fail)?;
        let url = format!("{base}{}/{version}/download", addr.module_path());
        let response = self
            .discovery
            .client()
            .get(&url)
            .map_err(|d| fail(d.detail))?;
        if !response.is_success() {
            return Err(fail(format!(
                "the registry answered {url} with status {}",
                response.status
            )));
        }
        let location = match response.header("X-Terraform-Get") {
            Some(l) => l.to_string(),
            None => serde_json::from_slice::<serde_json::Value>(&response.body)
                .ok()
                .and_then(|v| v.get("location")?.as_str().map(str::to_string))
                .ok_or_else(|| {
                    fail(format!(
                        "the answer from {url} has no X-Terraform-Get header"
                    ))
                })?,
        };
        if location.is_empty() {
            return Err(fail(format!(
                "the answer from {url} has an empty X-Terraform-Get header"
            )));
        }
        let relative =
            location.starts_with('/') || location.starts_with("./") || location.starts_with("../");
        if !relative {
            return Ok(location);
        }
        // Resolve the URL part only: `//SUBDIR` is not a path to clean.
        let (url_part, subdir) = super::source::split_subdir(&location);
        let resolved = resolve_url(&response.url, &url_part);
        Ok(match subdir {
            Some(sub) => format!("{resolved}//{sub}"),
            None => resolved,
        })
    }
}

/// `{"modules":[{"versions":[{"version":"1.0.0"}, ...]}]}`. Entries that
/// are not versions are skipped, as Terraform skips them.
pub fn parse_versions(body: &[u8]) -> Result<Vec<Version>, String> {
    let json: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON ({e})"))?;
    let module = json
        .get("modules")
        .and_then(|m| m.as_array())
        .and_then(|m| m.first())
        .ok_or_else(|| "the answer lists no modules".to_string())?;
    let list = module
        .get("versions")
        .and_then(|v| v.as_array())
        .ok_or_else(|| "the module has no \"versions\" list".to_string())?;
    Ok(list
        .iter()
        .filter_map(|v| v.get("version")?.as_str())
        .filter_map(|v| Version::parse(v).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_document() {
        let v = parse_versions(
            br#"{"modules":[{"source":"a/b/c","versions":[{"version":"1.0.0"},{"version":"v1.2.0"},{"version":"junk"}]}]}"#,
        )
        .unwrap();
        let shown: Vec<String> = v.iter().map(|v| v.to_string()).collect();
        assert_eq!(shown, ["1.0.0", "1.2.0"]);
        assert!(parse_versions(b"{}").is_err());
        assert!(parse_versions(b"not json").is_err());
    }
}
