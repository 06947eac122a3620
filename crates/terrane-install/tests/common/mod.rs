//! Helpers for terrane-install's tests: temporary directories, provider
//! packages built on the fly, a small HTTP server on 127.0.0.1, and the
//! Terraform peer.
#![allow(dead_code)] // each test binary uses a different subset

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("terrane-install-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A provider package: a zip of executable files, deflated.
pub fn build_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    build_zip_with(files, zip::CompressionMethod::Deflated)
}

/// A zip with entries stored uncompressed (quick for real provider
/// binaries in unoptimized test builds).
pub fn build_zip_stored(files: &[(&str, &[u8])]) -> Vec<u8> {
    build_zip_with(files, zip::CompressionMethod::Stored)
}

fn build_zip_with(files: &[(&str, &[u8])], method: zip::CompressionMethod) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .unix_permissions(0o755);
        for (name, data) in files {
            w.start_file(*name, opts).expect("zip entry");
            w.write_all(data).expect("zip write");
        }
        w.finish().expect("zip finish");
    }
    buf.into_inner()
}

pub fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The `h1:` hash written out from its definition, independently of the
/// crate's implementation: sorted `HEX  NAME\n` lines, SHA-256, base64.
pub fn expected_h1(files: &[(&str, &[u8])]) -> String {
    use base64::Engine;
    let mut sorted: Vec<_> = files.to_vec();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut lines = String::new();
    for (name, data) in sorted {
        lines.push_str(&format!("{}  {}\n", sha256_hex(data), name));
    }
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(lines.as_bytes()))
    )
}

/// Path -> (status, body).
type Routes = Mutex<HashMap<String, (u16, Vec<u8>)>>;

/// A fixed-content HTTP/1.1 server on 127.0.0.1 that logs every request
/// path. The accept loop runs on a detached thread for the life of the test
/// process.
pub struct TestServer {
    pub addr: String,
    routes: Arc<Routes>,
    log: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let routes: Arc<Routes> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, l) = (routes.clone(), log.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, l) = (r.clone(), l.clone());
                std::thread::spawn(move || serve(stream, &r, &l));
            }
        });
        TestServer { addr, routes, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn put(&self, path: &str, body: impl Into<Vec<u8>>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), (200, body.into()));
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }
}

fn serve(mut stream: TcpStream, routes: &Routes, log: &Mutex<Vec<String>>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_string();
    log.lock().unwrap().push(path.clone());
    let found = routes.lock().unwrap().get(&path).cloned();
    let (status, body) = found.unwrap_or((404, b"not found".to_vec()));
    let reason = if status == 200 { "OK" } else { "Not Found" };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(&body);
}

#[allow(unused_imports)] // not every test binary needs the peer
pub use terrane_testkit::peer_dir;

/// A throw-away GnuPG home with one RSA signing key, for registries that
/// sign their SHA256SUMS. `None` (after saying why) when gpg is missing.
pub struct GpgSigner {
    home: TempDir,
    pub public_key_armor: String,
}

impl GpgSigner {
    pub fn new() -> Option<GpgSigner> {
        let home = TempDir::new("gnupg");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700));
        }
        let gen = std::process::Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args([
                "--batch",
                "--passphrase",
                "",
                "--quick-gen-key",
                "Terrane Test <test@example.com>",
                "rsa2048",
                "sign",
                "never",
            ])
            .output();
        match gen {
            Ok(out) if out.status.success() => {}
            Ok(out) => panic!(
                "gpg --quick-gen-key failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => {
                eprintln!(
                    "skipping: gpg is not available ({e}); it signs the test registry's SHA256SUMS"
                );
                return None;
            }
        }
        let export = std::process::Command::new("gpg")
            .env("GNUPGHOME", home.path())
            .args(["--batch", "--armor", "--export", "test@example.com"])
            .output()
            .expect("gpg --export");
        let public_key_armor = String::from_utf8(export.stdout).expect("armored key");
        Some(GpgSigner {
            home,
            public_key_armor,
        })
    }

    /// Runs gpg in this home with `args`; returns standard output.
    pub fn gpg(&self, args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .arg("--batch")
            .args(args)
            .output()
            .expect("run gpg");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Writes `data` to a file in the home and returns its path.
    pub fn file(&self, data: &[u8]) -> String {
        let file = self.home.path().join("data");
        std::fs::write(&file, data).unwrap();
        file.to_string_lossy().into_owned()
    }

    /// A binary detached signature over `data`.
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let file = self.home.path().join("to-sign");
        std::fs::write(&file, data).unwrap();
        let out = std::process::Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--yes", "--detach-sign", "--output", "-"])
            .arg(&file)
            .output()
            .expect("gpg --detach-sign");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

impl Drop for GpgSigner {
    fn drop(&mut self) {
        // gpg started an agent for this home; stop it with the home.
        let _ = std::process::Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

/// The executable of test provider `acme/thing` at `version`.
pub fn thing_exe(version: &str) -> (String, Vec<u8>) {
    (
        format!("terraform-provider-thing_v{version}"),
        format!("#!/bin/sh\necho thing {version}\n").into_bytes(),
    )
}

/// The documents of a provider registry for `acme/thing`.
pub struct RegistryRoutes {
    /// Path -> body.
    pub routes: Vec<(String, Vec<u8>)>,
    /// version -> (linux_amd64 zip sha256, h1)
    pub packages: Vec<(String, String, String)>,
    pub other_platform_sha: String,
}

/// A registry for `acme/thing` with versions 1.0.0, 1.1.0, 1.2.0-beta and
/// 2.0.0 for linux_amd64 (each SHA256SUMS also lists a darwin_arm64
/// archive, and `signer` signs it), discovery at the root, and one warning
/// in the version list.
pub fn registry_routes(signer: &GpgSigner) -> RegistryRoutes {
    let mut routes: Vec<(String, Vec<u8>)> = Vec::new();
    let mut put = |path: String, body: Vec<u8>| routes.push((path, body));
    let armor = serde_json::to_string(&signer.public_key_armor).unwrap();
    put(
        "/.well-known/terraform.json".into(),
        br#"{"providers.v1":"/v1/providers/","modules.v1":"/v1/modules/"}"#.to_vec(),
    );
    let versions = ["1.0.0", "1.1.0", "1.2.0-beta", "2.0.0"];
    let listing: Vec<String> = versions
        .iter()
        .map(|v| {
            format!(
                r#"{{"version":"{v}","protocols":["5.0"],"platforms":[{{"os":"linux","arch":"amd64"}},{{"os":"darwin","arch":"arm64"}}]}}"#
            )
        })
        .collect();
    put(
        "/v1/providers/acme/thing/versions".into(),
        format!(
            r#"{{"id":"acme/thing","versions":[{}],"warnings":["acme/thing exists only for tests"]}}"#,
            listing.join(",")
        )
        .into_bytes(),
    );
    let other_platform_sha = sha256_hex(b"darwin package");
    let mut packages = Vec::new();
    for v in versions {
        let (name, data) = thing_exe(v);
        let zip = build_zip(&[(name.as_str(), &data)]);
        let sha = sha256_hex(&zip);
        let filename = format!("terraform-provider-thing_{v}_linux_amd64.zip");
        put(format!("/files/{filename}"), zip);
        // Relative URLs resolve against the download description.
        put(
            format!("/v1/providers/acme/thing/{v}/download/linux/amd64"),
            format!(
                r#"{{"protocols":["5.0"],"os":"linux","arch":"amd64","filename":"{filename}","download_url":"/files/{filename}","shasums_url":"../../../../../../../files/terraform-provider-thing_{v}_SHA256SUMS","shasums_signature_url":"/files/terraform-provider-thing_{v}_SHA256SUMS.sig","shasum":"{sha}","signing_keys":{{"gpg_public_keys":[{{"key_id":"0","ascii_armor":{armor},"trust_signature":"","source":"Test","source_url":null}}]}}}}"#
            )
            .into_bytes(),
        );
        let sums = format!(
            "{other_platform_sha}  terraform-provider-thing_{v}_darwin_arm64.zip\n{sha}  {filename}\n"
        );
        put(
            format!("/files/terraform-provider-thing_{v}_SHA256SUMS.sig"),
            signer.sign(sums.as_bytes()),
        );
        put(
            format!("/files/terraform-provider-thing_{v}_SHA256SUMS"),
            sums.into_bytes(),
        );
        packages.push((v.to_string(), sha, expected_h1(&[(name.as_str(), &data)])));
    }
    RegistryRoutes {
        routes,
        packages,
        other_platform_sha,
    }
}

/// Serves `routes` over TLS with `config` on 127.0.0.1 until the process
/// ends; returns `127.0.0.1:PORT`. JSON bodies go out as
/// `application/json` (Terraform insists on a media type).
pub fn serve_tls(config: Arc<rustls::ServerConfig>, routes: Vec<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (config, routes) = (config.clone(), routes.clone());
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head);
                let path = text.split_whitespace().nth(1).unwrap_or("/").to_string();
                let body = routes
                    .iter()
                    .find(|(p, _)| *p == path)
                    .map(|(_, b)| b.clone());
                let (status, body) = match body {
                    Some(b) => ("200 OK", b),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let content_type = if body.first() == Some(&b'{') {
                    "application/json"
                } else {
                    "application/octet-stream"
                };
                let _ = write!(
                    tls,
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(&body);
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

/// A self-signed certificate for 127.0.0.1: the server configuration and
/// the certificate in PEM (for `SSL_CERT_FILE`).
pub fn tls_server_config() -> (Arc<rustls::ServerConfig>, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();
    (Arc::new(config), certified.cert.pem())
}
