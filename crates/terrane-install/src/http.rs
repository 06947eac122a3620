//! A small blocking HTTP client for registries and mirrors, shared by
//! provider and module installation.
//!
//! Certificates are checked against the roots Go (and so Terraform) trusts
//! on Linux: `SSL_CERT_FILE` or the system bundle, plus `SSL_CERT_DIR`.
//!
//! Terraform only talks to registries and mirrors over https. For tests
//! against a local server, plain `http://` is accepted when the host is a
//! loopback address (`127.0.0.0/8`, `[::1]`, `localhost`), or anywhere
//! when the environment sets `TERRANE_ALLOW_INSECURE_HTTP=1`.

use std::io::Read;
use std::path::Path;
use std::time::Duration;
use terrane_hcl::Diagnostic;

/// The environment variable that allows plain http to any host.
pub const ALLOW_INSECURE_HTTP_ENV: &str = "TERRANE_ALLOW_INSECURE_HTTP";

/// The largest JSON document (discovery, version lists) we read; a larger
/// one is an error rather than a memory hazard.
pub const MAX_DOCUMENT_BYTES: u64 = 16 * 1024 * 1024;

/// The largest package we download (provider binaries run to a few hundred
/// megabytes).
pub const MAX_DOWNLOAD_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// A response read into memory.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    pub status: u16,
    /// The URL the body came from, after any redirects; relative URLs in
    /// the body resolve against it.
    pub url: String,
    /// Response headers, names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The blocking client. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
    allow_insecure: bool,
    user_agent: String,
    /// Bearer tokens by host (`credentials "HOST"` blocks); sent only to
    /// that exact host (with its port, if any).
    tokens: std::sync::Arc<std::collections::HashMap<String, String>>,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("allow_insecure", &self.allow_insecure)
            .finish()
    }
}

impl HttpClient {
    /// A client with Terraform-like timeouts; honours
    /// [`ALLOW_INSECURE_HTTP_ENV`].
    pub fn new() -> HttpClient {
        let allow_insecure = std::env::var(ALLOW_INSECURE_HTTP_ENV)
            .map(|v| v == "1" || v.eq_ignore_ascii_case("true"))
            .unwrap_or(false);
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(root_certs())
            .build();
        let config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(10)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_recv_body(Some(Duration::from_secs(3600)))
            .build();
        HttpClient {
            agent: config.into(),
            allow_insecure,
            user_agent: format!(
                "terrane/{} (compatible with Terraform/1.0.3)",
                env!("CARGO_PKG_VERSION")
            ),
            tokens: Default::default(),
        }
    }

    /// The same client sending `Authorization: Bearer TOKEN` to each host
    /// in `tokens` (lower-case `host[:port]` -> token), as Terraform does
    /// for hosts with a `credentials` block.
    pub fn with_credentials(
        mut self,
        tokens: std::collections::HashMap<String, String>,
    ) -> HttpClient {
        self.tokens = std::sync::Arc::new(tokens);
        self
    }

    fn request(&self, url: &str) -> ureq::RequestBuilder<ureq::typestate::WithoutBody> {
        let mut request = self.agent.get(url).header("User-Agent", &self.user_agent);
        if let Some(token) =
            UrlParts::parse(url).and_then(|p| self.tokens.get(&p.authority.to_ascii_lowercase()))
        {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        request
    }

    /// Whether `url` may be fetched: https always, http only for loopback
    /// hosts (or anywhere when explicitly allowed).
    pub fn check_scheme(&self, url: &str) -> Result<(), Diagnostic> {
        let Some(parts) = UrlParts::parse(url) else {
            return Err(Diagnostic::error(
                "Invalid URL",
                format!("{url:?} is not an absolute http or https URL."),
            ));
        };
        match parts.scheme.as_str() {
            "https" => Ok(()),
            "http" if self.allow_insecure || is_loopback_host(&parts.host) => Ok(()),
            "http" => Err(Diagnostic::error(
                "Insecure URL refused",
                format!(
                    "{url} uses plain http. Registries and mirrors must be reached over https; plain http is only allowed for loopback addresses, or for any host when {ALLOW_INSECURE_HTTP_ENV}=1 is set."
                ),
            )),
            other => Err(Diagnostic::error(
                "Unsupported URL scheme",
                format!("{url} uses the scheme {other:?}; only https (and http for loopback hosts) are supported."),
            )),
        }
    }

    /// GETs `url` and reads the whole body (at most `MAX_DOCUMENT_BYTES`).
    /// Any HTTP status is returned as a response; only transport failures
    /// are errors.
    pub fn get(&self, url: &str) -> Result<HttpResponse, Diagnostic> {
        self.get_with_headers(url, &[])
    }

    /// Like [`HttpClient::get`] with extra request headers (for example an
    /// `Authorization` header for a private registry).
    pub fn get_with_headers(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> Result<HttpResponse, Diagnostic> {
        self.check_scheme(url)?;
        let mut request = self.request(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let mut response = request.call().map_err(|e| transport_error(url, &e))?;
        let final_url = ureq::ResponseExt::get_uri(&response).to_string();
        let status = response.status().as_u16();
        let header_list = collect_headers(&response);
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_DOCUMENT_BYTES)
            .read_to_vec()
            .map_err(|e| transport_error(url, &e))?;
        Ok(HttpResponse {
            status,
            url: final_url,
            headers: header_list,
            body,
        })
    }

    /// GETs a JSON document; a non-2xx status or malformed JSON is an error
    /// naming `what` (for example "provider versions list").
    pub fn get_json(
        &self,
        url: &str,
        what: &str,
    ) -> Result<(serde_json::Value, String), Diagnostic> {
        let response = self.get(url)?;
        if !response.is_success() {
            return Err(Diagnostic::error(
                format!("Failed to retrieve {what}"),
                format!(
                    "The server at {url} answered with status {}.",
                    response.status
                ),
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(&response.body).map_err(|e| {
            Diagnostic::error(
                format!("Invalid {what}"),
                format!("The response from {url} is not valid JSON: {e}."),
            )
        })?;
        Ok((value, response.url))
    }

    /// Streams `url` into a new file at `dest` (created or truncated) and
    /// returns the final URL after redirects. A non-2xx status is an error.
    pub fn download_to(&self, url: &str, dest: &Path) -> Result<String, Diagnostic> {
        self.check_scheme(url)?;
        let mut response = self
            .request(url)
            .call()
            .map_err(|e| transport_error(url, &e))?;
        let final_url = ureq::ResponseExt::get_uri(&response).to_string();
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(Diagnostic::error(
                "Failed to download",
                format!("The server at {url} answered with status {status}."),
            ));
        }
        let mut file = std::fs::File::create(dest).map_err(|e| {
            Diagnostic::error(
                "Failed to download",
                format!("Cannot create {}: {e}.", dest.display()),
            )
        })?;
        let mut reader = response
            .body_mut()
            .with_config()
            .limit(MAX_DOWNLOAD_BYTES)
            .reader();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf).map_err(|e| {
                Diagnostic::error("Failed to download", format!("Reading {url} failed: {e}."))
            })?;
            if n == 0 {
                break;
            }
            std::io::Write::write_all(&mut file, &buf[..n]).map_err(|e| {
                Diagnostic::error(
                    "Failed to download",
                    format!("Writing {} failed: {e}.", dest.display()),
                )
            })?;
        }
        file.sync_all().map_err(|e| {
            Diagnostic::error(
                "Failed to download",
                format!("Writing {} failed: {e}.", dest.display()),
            )
        })?;
        Ok(final_url)
    }
}

/// The certificate bundles Go looks for on Linux, in its order.
const SYSTEM_CERT_FILES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// Trusted roots as Terraform (Go) finds them on Linux: the PEM file named
/// by `SSL_CERT_FILE`, else the system bundle; plus the files of the
/// directories in `SSL_CERT_DIR`. Mozilla's roots when none of those has a
/// certificate (macOS, Windows, minimal containers). Read for each client
/// (a few milliseconds), so the environment in force when it is made counts.
pub fn root_certs() -> ureq::tls::RootCerts {
    let mut certs = Vec::new();
    let env_file = std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty());
    let mut files: Vec<std::path::PathBuf> = match env_file {
        Some(f) => vec![f.into()],
        None => SYSTEM_CERT_FILES
            .iter()
            .map(std::path::PathBuf::from)
            .filter(|p| p.is_file())
            .take(1)
            .collect(),
    };
    if let Some(dirs) = std::env::var_os("SSL_CERT_DIR") {
        for dir in std::env::split_paths(&dirs) {
            if let Ok(read) = std::fs::read_dir(&dir) {
                let mut entries: Vec<_> = read.filter_map(Result::ok).map(|e| e.path()).collect();
                entries.sort();
                files.extend(entries.into_iter().filter(|p| p.is_file()));
            }
        }
    }
    for file in files {
        let Ok(pem) = std::fs::read(&file) else {
            continue;
        };
        for item in ureq::tls::parse_pem(&pem).flatten() {
            if let ureq::tls::PemItem::Certificate(cert) = item {
                certs.push(cert);
            }
        }
    }
    if certs.is_empty() {
        ureq::tls::RootCerts::WebPki
    } else {
        ureq::tls::RootCerts::from(certs)
    }
}

fn collect_headers(response: &ureq::http::Response<ureq::Body>) -> Vec<(String, String)> {
    response
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|v| (name.as_str().to_ascii_lowercase(), v.to_string()))
        })
        .collect()
}

fn transport_error(url: &str, error: &ureq::Error) -> Diagnostic {
    Diagnostic::error(
        "Failed to make an HTTP request",
        format!("Request to {url} failed: {error}."),
    )
}

/// Whether a host (as written in a URL, brackets allowed) is a loopback
/// address or `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

/// The pieces of an absolute URL that the installers need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UrlParts {
    /// Lower-cased scheme.
    pub scheme: String,
    /// `host[:port]` as written (without userinfo).
    pub authority: String,
    /// The host alone (brackets kept for IPv6).
    pub host: String,
    /// Path, query and fragment; starts with `/` or is empty.
    pub rest: String,
}

impl UrlParts {
    pub fn parse(url: &str) -> Option<UrlParts> {
        let (scheme, after) = url.split_once("://")?;
        if scheme.is_empty()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        {
            return None;
        }
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority_full = &after[..end];
        let rest = &after[end..];
        let authority = authority_full
            .rsplit_once('@')
            .map(|(_, a)| a)
            .unwrap_or(authority_full);
        if authority.is_empty() {
            return None;
        }
        let host = if authority.starts_with('[') {
            match authority.find(']') {
                Some(i) => &authority[..=i],
                None => return None,
            }
        } else {
            authority.split(':').next().unwrap_or(authority)
        };
        Some(UrlParts {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_string(),
            host: host.to_string(),
            rest: rest.to_string(),
        })
    }
}

/// Resolves `reference` against the absolute URL `base`, as a browser
/// would for the forms registries use: absolute URLs, `//host/path`,
/// `/path` and relative paths (with `.`/`..` segments).
pub fn resolve_url(base: &str, reference: &str) -> String {
    if UrlParts::parse(reference).is_some() {
        return reference.to_string();
    }
    let Some(b) = UrlParts::parse(base) else {
        return reference.to_string();
    };
    if let Some(rest) = reference.strip_prefix("//") {
        return format!("{}://{}", b.scheme, rest);
    }
    let base_path = b.rest.split(['?', '#']).next().unwrap_or("");
    let (ref_path, ref_suffix) = match reference.find(['?', '#']) {
        Some(i) => (&reference[..i], &reference[i..]),
        None => (reference, ""),
    };
    let joined = if ref_path.is_empty() {
        // Only a query or fragment: keep the base path.
        base_path.to_string()
    } else if ref_path.starts_with('/') {
        ref_path.to_string()
    } else {
        let dir = match base_path.rfind('/') {
            Some(i) => &base_path[..=i],
            None => "/",
        };
        format!("{dir}{ref_path}")
    };
    let mut segments: Vec<&str> = Vec::new();
    let trailing_slash = joined.ends_with('/') || joined.ends_with("/.") || joined.ends_with("/..");
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut path = format!("/{}", segments.join("/"));
    if trailing_slash && path != "/" {
        path.push('/');
    }
    format!("{}://{}{}{}", b.scheme, b.authority, path, ref_suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_references() {
        let base = "https://example.com/a/b/c.json";
        assert_eq!(resolve_url(base, "d.zip"), "https://example.com/a/b/d.zip");
        assert_eq!(resolve_url(base, "../d.zip"), "https://example.com/a/d.zip");
        assert_eq!(
            resolve_url(base, "/v1/providers/"),
            "https://example.com/v1/providers/"
        );
        assert_eq!(resolve_url(base, "//other.io/x"), "https://other.io/x");
        assert_eq!(
            resolve_url(base, "http://127.0.0.1:8/x"),
            "http://127.0.0.1:8/x"
        );
        assert_eq!(resolve_url("https://h:1", "v1/"), "https://h:1/v1/");
    }

    #[test]
    fn loopback_hosts() {
        assert!(is_loopback_host("127.0.0.1"));
        assert!(is_loopback_host("127.4.5.6"));
        assert!(is_loopback_host("[::1]"));
        assert!(is_loopback_host("LOCALHOST"));
        assert!(!is_loopback_host("10.0.0.1"));
        assert!(!is_loopback_host("example.com"));
    }
}
