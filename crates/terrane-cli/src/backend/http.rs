//! The `http` backend: the state is one document behind a URL, as
//! Terraform 1.0.3's (and GitLab's managed state):
//!
//! * `GET address`: the state (200), none yet (204 or 404);
//! * `update_method address` (default POST) with the state as JSON and a
//!   `Content-MD5` header; `?ID=<lock id>` is added while locked;
//! * `DELETE address`;
//! * `lock_method lock_address` (default LOCK) with the lock info JSON as
//!   body: 200 taken, 423 or 409 held by someone else (the body is their
//!   lock info); without `lock_address` there is no locking;
//! * `unlock_method unlock_address` (default UNLOCK) with the same body.
//!
//! Only the `default` workspace exists.

use std::time::Duration;

use base64::Engine as _;
use md5::Digest as _;
use terrane_state::{
    Backend, BackendConfig, BackendError, BackendType, ConfigAttr, ConfigType, LockError, LockInfo,
    RemoteClient, RemoteState, RetryPolicy, StateMgr,
};

/// Terraform 1.0.3's `http` backend schema.
pub const SCHEMA: &[ConfigAttr] = &[
    attr("address", ConfigType::String, true, false),
    attr("update_method", ConfigType::String, false, false),
    attr("lock_address", ConfigType::String, false, false),
    attr("unlock_address", ConfigType::String, false, false),
    attr("lock_method", ConfigType::String, false, false),
    attr("unlock_method", ConfigType::String, false, false),
    attr("username", ConfigType::String, false, false),
    attr("password", ConfigType::String, false, true),
    attr("skip_cert_verification", ConfigType::Bool, false, false),
    attr("retry_max", ConfigType::Number, false, false),
    attr("retry_wait_min", ConfigType::Number, false, false),
    attr("retry_wait_max", ConfigType::Number, false, false),
];

const fn attr(name: &'static str, ty: ConfigType, required: bool, sensitive: bool) -> ConfigAttr {
    ConfigAttr {
        name,
        ty,
        required,
        sensitive,
    }
}

/// The `http` entry of the registry.
pub const BACKEND_TYPE: BackendType = BackendType {
    name: "http",
    schema: SCHEMA,
    configure: configure_boxed,
};

fn configure_boxed(config: &BackendConfig) -> Result<Box<dyn Backend>, BackendError> {
    Ok(Box::new(HttpBackend::configure(config)?))
}

/// What Terraform says when a backend has only the default workspace.
pub const WORKSPACES_NOT_SUPPORTED: &str = "workspaces not supported";

/// A configured http backend.
#[derive(Clone)]
pub struct HttpBackend {
    settings: Settings,
    agent: ureq::Agent,
}

#[derive(Debug, Clone)]
struct Settings {
    address: String,
    update_method: String,
    lock_address: Option<String>,
    lock_method: String,
    unlock_address: Option<String>,
    unlock_method: String,
    /// `Authorization: Basic ...` when a username is set.
    authorization: Option<String>,
    /// `skip_cert_verification`.
    skip_verify: bool,
    retry: RetryPolicy,
}

fn check_url(name: &str, value: &str) -> Result<(), BackendError> {
    let Some((scheme, rest)) = value.split_once("://") else {
        return Err(BackendError::new(format!(
            "failed to parse {name} URL: {value:?} is not an absolute URL"
        )));
    };
    if scheme != "http" && scheme != "https" {
        return Err(BackendError::new(format!("{name} must be HTTP or HTTPS")));
    }
    if rest.is_empty() || rest.starts_with('/') {
        return Err(BackendError::new(format!(
            "failed to parse {name} URL: {value:?} has no host"
        )));
    }
    Ok(())
}

impl HttpBackend {
    /// From a `backend "http"` configuration.
    pub fn configure(config: &BackendConfig) -> Result<HttpBackend, BackendError> {
        use terrane_state::backend::{config_bool, config_number, config_string};
        let address = config_string(config, "address")?
            .ok_or_else(|| BackendError::new("address must be set"))?;
        check_url("address", &address)?;
        let lock_address = config_string(config, "lock_address")?.filter(|s| !s.is_empty());
        if let Some(a) = &lock_address {
            check_url("lock_address", a)?;
        }
        let unlock_address = config_string(config, "unlock_address")?.filter(|s| !s.is_empty());
        if let Some(a) = &unlock_address {
            check_url("unlock_address", a)?;
        }
        let method = |name: &str, default: &str| -> Result<String, BackendError> {
            Ok(config_string(config, name)?
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| default.to_string()))
        };
        let username = config_string(config, "username")?.unwrap_or_default();
        let password = config_string(config, "password")?.unwrap_or_default();
        let authorization = (!username.is_empty()).then(|| {
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )
        });
        let retry_max = config_number(config, "retry_max")?.unwrap_or(2.0).max(0.0);
        let wait_min = config_number(config, "retry_wait_min")?
            .unwrap_or(1.0)
            .max(0.0);
        let wait_max = config_number(config, "retry_wait_max")?
            .unwrap_or(30.0)
            .max(0.0);
        let skip_verify = config_bool(config, "skip_cert_verification")?.unwrap_or(false);
        let settings = Settings {
            skip_verify,
            update_method: method("update_method", "POST")?,
            lock_method: method("lock_method", "LOCK")?,
            unlock_method: method("unlock_method", "UNLOCK")?,
            address,
            lock_address,
            unlock_address,
            authorization,
            retry: RetryPolicy {
                attempts: (retry_max as u32).saturating_add(1),
                first_wait: Duration::from_secs_f64(wait_min),
                max_wait: Duration::from_secs_f64(wait_max.max(wait_min)),
            },
        };
        // The roots Terraform trusts (SSL_CERT_FILE, SSL_CERT_DIR, the system
        // bundle), as the registry client's.
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(terrane_install::http::root_certs())
            .disable_verification(skip_verify)
            .build();
        let agent_config = ureq::Agent::config_builder()
            .tls_config(tls)
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_global(Some(Duration::from_secs(300)))
            .build();
        Ok(HttpBackend {
            settings,
            agent: agent_config.into(),
        })
    }

    /// The client of the one state document.
    pub fn client(&self) -> HttpClient {
        HttpClient {
            settings: self.settings.clone(),
            agent: self.agent.clone(),
            lock_id: None,
            lock_json: None,
        }
    }
}

impl Backend for HttpBackend {
    fn workspaces(&mut self) -> Result<Vec<String>, BackendError> {
        Ok(vec!["default".to_string()])
    }

    fn delete_workspace(&mut self, _name: &str) -> Result<(), BackendError> {
        Err(BackendError::new(WORKSPACES_NOT_SUPPORTED))
    }

    fn state_mgr(&mut self, workspace: &str) -> Result<Box<dyn StateMgr>, BackendError> {
        if workspace != "default" {
            return Err(BackendError::new(WORKSPACES_NOT_SUPPORTED));
        }
        let retry = self.settings.retry;
        let location = self.settings.address.clone();
        Ok(Box::new(
            RemoteState::new(Box::new(self.client()), location)
                .with_retry(retry)
                .with_lock_path(""),
        ))
    }
}

/// The http client of one state document.
pub struct HttpClient {
    settings: Settings,
    agent: ureq::Agent,
    /// The lock this client took (sent as `?ID=` with updates).
    lock_id: Option<String>,
    /// The lock info sent with the lock request, sent again to unlock.
    lock_json: Option<String>,
}

struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl HttpClient {
    fn send(&self, method: &str, url: &str, body: Option<&[u8]>) -> Result<Reply, BackendError> {
        if !STANDARD_METHODS.contains(&method) {
            return self.send_custom(method, url, body);
        }
        let method = ureq::http::Method::from_bytes(method.as_bytes())
            .map_err(|_| BackendError::new(format!("invalid HTTP method {method:?}")))?;
        let mut request = ureq::http::Request::builder().method(method).uri(url);
        if let Some(auth) = &self.settings.authorization {
            request = request.header("Authorization", auth);
        }
        if let Some(b) = body {
            let md5 = md5::Md5::digest(b);
            request = request.header("Content-Type", "application/json").header(
                "Content-MD5",
                base64::engine::general_purpose::STANDARD.encode(md5),
            );
        }
        let request = request
            .body(body.unwrap_or_default().to_vec())
            .map_err(|e| BackendError::new(format!("invalid HTTP request to {url}: {e}")))?;
        let mut response = self
            .agent
            .run(request)
            .map_err(|e| BackendError::transient(format!("Failed to make HTTP request: {e}")))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(|e| BackendError::transient(format!("Failed to read HTTP response: {e}")))?;
        Ok(Reply { status, body })
    }

    /// A request with a method ureq does not send (`LOCK`, `UNLOCK`):
    /// HTTP/1.1 over a plain connection, closed after the response.
    fn send_custom(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<Reply, BackendError> {
        use std::io::{Read, Write};
        if !method
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(BackendError::new(format!("invalid HTTP method {method:?}")));
        }
        let (rest, https) = match (url.strip_prefix("http://"), url.strip_prefix("https://")) {
            (Some(r), _) => (r, false),
            (_, Some(r)) => (r, true),
            _ => {
                return Err(BackendError::new(format!(
                    "{url:?} is not an http or https URL"
                )))
            }
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let has_port = authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| p.parse::<u16>().is_ok());
        let host_port = match (has_port, https) {
            (true, _) => authority.to_string(),
            (false, false) => format!("{authority}:80"),
            (false, true) => format!("{authority}:443"),
        };
        let io = |e: std::io::Error| {
            BackendError::transient(format!("Failed to make HTTP request: {method} {url}: {e}"))
        };
        let addrs: Vec<std::net::SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(&host_port)
            .map_err(io)?
            .collect();
        let mut last = None;
        let mut stream = None;
        for a in addrs {
            match std::net::TcpStream::connect_timeout(&a, Duration::from_secs(30)) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let stream = match stream {
            Some(s) => s,
            None => {
                return Err(io(
                    last.unwrap_or_else(|| std::io::Error::other("no address"))
                ))
            }
        };
        stream
            .set_read_timeout(Some(Duration::from_secs(300)))
            .map_err(io)?;
        let mut stream: Box<dyn ReadWrite> = if https {
            let host = match host_port.rsplit_once(':') {
                Some((h, _)) => h.trim_start_matches('[').trim_end_matches(']'),
                None => host_port.as_str(),
            };
            Box::new(tls::connect(stream, host, self.settings.skip_verify)?)
        } else {
            Box::new(stream)
        };
        let body = body.unwrap_or_default();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: terrane\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
        if let Some(auth) = &self.settings.authorization {
            head.push_str(&format!("Authorization: {auth}\r\n"));
        }
        if !body.is_empty() {
            let md5 = md5::Md5::digest(body);
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-MD5: {}\r\n",
                base64::engine::general_purpose::STANDARD.encode(md5)
            ));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).map_err(io)?;
        stream.write_all(body).map_err(io)?;
        let mut raw = Vec::new();
        match stream.read_to_end(&mut raw) {
            Ok(_) => {}
            // Many servers close TLS without close_notify; the response
            // is checked for completeness below.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
            Err(e) => return Err(io(e)),
        }
        parse_response(&raw).ok_or_else(|| {
            BackendError::transient(format!(
                "Failed to make HTTP request: {method} {url}: malformed response"
            ))
        })
    }

    fn status_error(status: u16, what: &str) -> BackendError {
        let msg = match status {
            401 => "HTTP remote state endpoint requires auth".to_string(),
            403 => "HTTP remote state endpoint invalid auth".to_string(),
            500 => "HTTP remote state internal server error".to_string(),
            _ => format!("{what}{status}"),
        };
        if status >= 500 || status == 429 {
            BackendError::transient(msg)
        } else {
            BackendError::new(msg)
        }
    }
}

fn lock_failure(e: BackendError) -> LockError {
    LockError::Failed(e.message)
}

impl RemoteClient for HttpClient {
    fn get(&mut self) -> Result<Option<Vec<u8>>, BackendError> {
        let reply = self.send("GET", &self.settings.address, None)?;
        match reply.status {
            200 if reply.body.is_empty() => Ok(None),
            200 => Ok(Some(reply.body)),
            204 | 404 => Ok(None),
            s => Err(Self::status_error(s, "Unexpected HTTP response code ")),
        }
    }

    fn put(&mut self, data: &[u8]) -> Result<(), BackendError> {
        let mut url = self.settings.address.clone();
        if let Some(id) = &self.lock_id {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str("ID=");
            url.push_str(&percent_encode(id));
        }
        let reply = self.send(&self.settings.update_method.clone(), &url, Some(data))?;
        match reply.status {
            200 | 201 | 204 => Ok(()),
            s => Err(Self::status_error(s, "HTTP error: ")),
        }
    }

    fn delete(&mut self) -> Result<(), BackendError> {
        let reply = self.send("DELETE", &self.settings.address, None)?;
        match reply.status {
            200 | 202 | 204 | 404 => Ok(()),
            s => Err(Self::status_error(s, "HTTP error: ")),
        }
    }

    fn lock(&mut self, info: &LockInfo) -> Result<String, LockError> {
        let Some(address) = self.settings.lock_address.clone() else {
            // Without a lock address the backend does not lock.
            return Ok(info.id.clone());
        };
        let json = info.to_json();
        let reply = self
            .send(
                &self.settings.lock_method.clone(),
                &address,
                Some(json.as_bytes()),
            )
            .map_err(lock_failure)?;
        match reply.status {
            200 => {
                self.lock_id = Some(info.id.clone());
                self.lock_json = Some(json);
                Ok(info.id.clone())
            }
            401 | 403 => Err(LockError::Failed(
                "HTTP remote state endpoint invalid auth".to_string(),
            )),
            // Terraform shows the holder's lock ID only, not its info.
            409 | 423 => Err(match LockInfo::parse(&reply.body) {
                Some(holder) => LockError::Busy {
                    message: format!("HTTP remote state already locked: ID={}", holder.id),
                    info: None,
                },
                None => LockError::Busy {
                    message: "HTTP remote state already locked, failed to unmarshal body"
                        .to_string(),
                    info: None,
                },
            }),
            s => Err(LockError::Failed(format!(
                "Unexpected HTTP response code {s}"
            ))),
        }
    }

    fn unlock(&mut self, id: &str) -> Result<(), LockError> {
        let Some(address) = self.settings.unlock_address.clone() else {
            self.lock_id = None;
            return Ok(());
        };
        // The lock info this client sent to lock; for a lock taken
        // elsewhere (`force-unlock`) no body, as Terraform.
        let body = match (&self.lock_id, &self.lock_json) {
            (Some(held), Some(json)) if held == id => json.clone(),
            _ => String::new(),
        };
        let reply = self
            .send(
                &self.settings.unlock_method.clone(),
                &address,
                Some(body.as_bytes()),
            )
            .map_err(lock_failure)?;
        match reply.status {
            200 => {
                if self.lock_id.as_deref() == Some(id) {
                    self.lock_id = None;
                    self.lock_json = None;
                }
                Ok(())
            }
            s => Err(LockError::Failed(format!(
                "Unexpected HTTP response code {s}"
            ))),
        }
    }
}

/// A connection of the custom-method client (plain or TLS).
trait ReadWrite: std::io::Read + std::io::Write {}
impl<T: std::io::Read + std::io::Write> ReadWrite for T {}

/// TLS for the custom-method client, with the roots ureq's agent uses (or
/// none checked with `skip_cert_verification`).
mod tls {
    use std::net::TcpStream;
    use std::sync::Arc;

    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{ClientConnection, DigitallySignedStruct, SignatureScheme, StreamOwned};
    use terrane_state::BackendError;

    /// Accepts any certificate (`skip_cert_verification = true`); the
    /// handshake signatures are still checked.
    #[derive(Debug)]
    struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

    impl ServerCertVerifier for AnyCertificate {
        fn verify_server_cert(
            &self,
            _end_entity: &CertificateDer<'_>,
            _intermediates: &[CertificateDer<'_>],
            _server_name: &ServerName<'_>,
            _ocsp_response: &[u8],
            _now: UnixTime,
        ) -> Result<ServerCertVerified, rustls::Error> {
            Ok(ServerCertVerified::assertion())
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls12_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, rustls::Error> {
            rustls::crypto::verify_tls13_signature(
                message,
                cert,
                dss,
                &self.0.signature_verification_algorithms,
            )
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.0.signature_verification_algorithms.supported_schemes()
        }
    }

    /// A TLS session with `host` over `tcp`.
    pub fn connect(
        tcp: TcpStream,
        host: &str,
        skip_verify: bool,
    ) -> Result<StreamOwned<ClientConnection, TcpStream>, BackendError> {
        let tls_err = |e: rustls::Error| BackendError::new(format!("TLS setup failed: {e}"));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(tls_err)?;
        let config = if skip_verify {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                .with_no_client_auth()
        } else {
            let mut roots = rustls::RootCertStore::empty();
            match terrane_install::http::root_certs() {
                ureq::tls::RootCerts::Specific(certs) => {
                    for c in certs.iter() {
                        // A certificate rustls cannot use is skipped.
                        let _ = roots.add(CertificateDer::from(c.der().to_vec()));
                    }
                }
                _ => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        };
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| BackendError::new(format!("invalid TLS server name {host:?}: {e}")))?;
        let conn = ClientConnection::new(Arc::new(config), name).map_err(tls_err)?;
        Ok(StreamOwned::new(conn, tcp))
    }
}

/// The methods ureq sends itself.
const STANDARD_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// Status and body of a complete HTTP/1.1 response read to the end of the
/// connection (`Content-Length`, chunked, or up to the close).
fn parse_response(raw: &[u8]) -> Option<Reply> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let rest = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.eq_ignore_ascii_case("chunked")
        {
            chunked = true;
        }
    }
    let body = if chunked {
        let mut out = Vec::new();
        let mut rest = rest;
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
            let size_text = std::str::from_utf8(&rest[..line_end]).ok()?;
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
        out
    } else {
        match length {
            Some(n) => rest.get(..n)?.to_vec(),
            None => rest.to_vec(),
        }
    };
    Some(Reply { status, body })
}

/// Percent-encodes a query value (lock IDs are UUIDs; this is for others).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
