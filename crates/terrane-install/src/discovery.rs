//! Terraform's remote service discovery: `GET https://HOST/.well-known/terraform.json`
//! answers a JSON object mapping service ids (`providers.v1`, `modules.v1`,
//! ...) to base URLs, which may be relative to the document's own URL.
//!
//! Hosts are asked over https. A loopback host (`127.0.0.1:8080`,
//! `localhost:8080`) is asked over plain http instead, so that tests can run
//! a registry on the local machine without certificates.

use crate::http::{is_loopback_host, resolve_url, HttpClient, UrlParts};
use std::collections::HashMap;
use std::sync::Mutex;
use terrane_hcl::Diagnostic;

/// The provider registry protocol, version 1.
pub const PROVIDERS_V1: &str = "providers.v1";
/// The module registry protocol, version 1.
pub const MODULES_V1: &str = "modules.v1";

/// The services a host offers: service id -> absolute base URL (with a
/// trailing slash as the host wrote it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostServices {
    pub hostname: String,
    pub services: HashMap<String, String>,
}

impl HostServices {
    pub fn service_url(&self, id: &str) -> Option<&str> {
        self.services.get(id).map(String::as_str)
    }
}

/// Looks up and caches the services of hosts.
#[derive(Debug)]
pub struct Discovery {
    client: HttpClient,
    cache: Mutex<HashMap<String, HostServices>>,
    /// Services configured locally (`host` blocks in the CLI configuration)
    /// take the place of the network lookup.
    overrides: HashMap<String, HostServices>,
}

impl Discovery {
    pub fn new(client: HttpClient) -> Discovery {
        Discovery {
            client,
            cache: Mutex::new(HashMap::new()),
            overrides: HashMap::new(),
        }
    }

    /// Declares the services of `hostname` without asking the network, as a
    /// `host "NAME" { services = {...} }` block in the CLI configuration does.
    pub fn force_host_services(&mut self, hostname: &str, services: HashMap<String, String>) {
        let hostname = hostname.to_ascii_lowercase();
        self.overrides
            .insert(hostname.clone(), HostServices { hostname, services });
    }

    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    /// The URL of the discovery document for a hostname (which may carry a
    /// port).
    pub fn discovery_url(hostname: &str) -> String {
        let host_only = UrlParts::parse(&format!("x://{hostname}"))
            .map(|p| p.host)
            .unwrap_or_else(|| hostname.to_string());
        let scheme = if is_loopback_host(&host_only) {
            "http"
        } else {
            "https"
        };
        format!("{scheme}://{hostname}/.well-known/terraform.json")
    }

    /// All services of `hostname` (lower-cased), fetched once per host.
    pub fn discover(&self, hostname: &str) -> Result<HostServices, Diagnostic> {
        let hostname = hostname.to_ascii_lowercase();
        if let Some(found) = self.overrides.get(&hostname) {
            return Ok(found.clone());
        }
        if let Ok(cache) = self.cache.lock() {
            if let Some(found) = cache.get(&hostname) {
                return Ok(found.clone());
            }
        }
        let url = Discovery::discovery_url(&hostname);
        let response = self.client.get(&url).map_err(|mut d| {
            d.summary = "Failed to discover services".to_string();
            d.detail = format!(
                "Failed to request discovery document for host {hostname}: {}",
                d.detail
            );
            d
        })?;
        let services = match response.status {
            // No document: the host offers no services at all.
            404 => HashMap::new(),
            s if (200..300).contains(&s) => {
                parse_discovery_document(&response.body, &response.url).map_err(|detail| {
                    Diagnostic::error(
                        "Failed to discover services",
                        format!("Host {hostname} returned an invalid discovery document: {detail}."),
                    )
                })?
            }
            s => {
                return Err(Diagnostic::error(
                    "Failed to discover services",
                    format!("Failed to request discovery document for host {hostname}: the server answered with status {s}."),
                ))
            }
        };
        let found = HostServices {
            hostname: hostname.clone(),
            services,
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(hostname, found.clone());
        }
        Ok(found)
    }

    /// The base URL of one service on a host; the error says the host does
    /// not offer it (for example "does not offer a Terraform provider
    /// registry"). `what` names the service for that message.
    pub fn service_url(&self, hostname: &str, id: &str, what: &str) -> Result<String, Diagnostic> {
        let services = self.discover(hostname)?;
        match services.service_url(id) {
            Some(url) => Ok(url.to_string()),
            None => Err(Diagnostic::error(
                "Service not provided",
                format!("host {hostname} does not offer a {what}"),
            )),
        }
    }
}

/// Parses a discovery document: a JSON object of service id -> URL string.
/// Entries whose value is not a string (some services use objects) are
/// kept out of the map. URLs resolve against `document_url`.
pub fn parse_discovery_document(
    body: &[u8],
    document_url: &str,
) -> Result<HashMap<String, String>, String> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("not valid JSON ({e})"))?;
    let object = value
        .as_object()
        .ok_or_else(|| "not a JSON object".to_string())?;
    let mut services = HashMap::new();
    for (id, v) in object {
        if let Some(s) = v.as_str() {
            services.insert(id.clone(), resolve_url(document_url, s));
        }
    }
    Ok(services)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_urls_resolve_against_the_document() {
        let services = parse_discovery_document(
            br#"{"providers.v1":"/v1/providers/","modules.v1":"https://m.example/v1/modules/","login.v1":{"client":"x"}}"#,
            "https://reg.example/.well-known/terraform.json",
        )
        .unwrap();
        assert_eq!(
            services["providers.v1"],
            "https://reg.example/v1/providers/"
        );
        assert_eq!(services["modules.v1"], "https://m.example/v1/modules/");
        assert!(!services.contains_key("login.v1"));
    }

    #[test]
    fn loopback_discovery_is_plain_http() {
        assert_eq!(
            Discovery::discovery_url("127.0.0.1:8080"),
            "http://127.0.0.1:8080/.well-known/terraform.json"
        );
        assert_eq!(
            Discovery::discovery_url("registry.terraform.io"),
            "https://registry.terraform.io/.well-known/terraform.json"
        );
    }
}
