//! The TLS path: a network mirror served over https from 127.0.0.1 with a
//! certificate made by the test, trusted through `SSL_CERT_FILE` as Go (and
//! so Terraform) trusts it. Without the file the same server is refused.
//! Terraform 1.0.3 installs from the same mirror with the same output and
//! lock file. (This test binary sets `SSL_CERT_FILE` for its own process
//! only.)

mod common;

use common::{build_zip, expected_h1, TempDir};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use terrane_install::cliconfig::{InstallationMethod, MethodKind};
use terrane_install::sources::MultiSource;
use terrane_install::{
    install, Constraints, Discovery, HttpClient, InstallOptions, LockFile, Platform, ProviderAddr,
    Requirements,
};

/// Serves `routes` over TLS with `config` until the process ends.
fn serve_tls(config: Arc<rustls::ServerConfig>, routes: Vec<(String, Vec<u8>)>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let routes = Arc::new(routes);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (config, routes) = (config.clone(), routes.clone());
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(10)));
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
                // Terraform insists on a media type for mirror documents.
                let content_type = if path.ends_with(".json") {
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

#[test]
fn network_mirror_over_https_with_ssl_cert_file() {
    let root = TempDir::new("https");
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert_file = root.path().join("ca.pem");
    std::fs::write(&cert_file, certified.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certified.cert.der().clone()], key)
    .unwrap();

    let exe = "terraform-provider-null_v2.1.2_x5";
    let data = b"null over https";
    let prefix = "/registry.terraform.io/hashicorp/null";
    let h1 = expected_h1(&[(exe, data)]);
    let routes = vec![
        (format!("{prefix}/index.json"), br#"{"versions":{"2.1.2":{}}}"#.to_vec()),
        (
            format!("{prefix}/2.1.2.json"),
            format!(
                r#"{{"archives":{{"linux_amd64":{{"url":"terraform-provider-null_2.1.2_linux_amd64.zip","hashes":["{h1}"]}}}}}}"#
            )
            .into_bytes(),
        ),
        (
            format!("{prefix}/terraform-provider-null_2.1.2_linux_amd64.zip"),
            build_zip(&[(exe, data)]),
        ),
    ];
    let addr = serve_tls(Arc::new(config), routes);
    let mirror_url = format!("https://{addr}/");

    // Before trusting the certificate: refused.
    let untrusted = HttpClient::new().get(&format!(
        "{mirror_url}registry.terraform.io/hashicorp/null/index.json"
    ));
    assert!(untrusted.is_err(), "an unknown certificate must be refused");

    // Trusted through SSL_CERT_FILE (read when a client is made).
    std::env::set_var("SSL_CERT_FILE", &cert_file);
    let source = MultiSource::new(
        &[InstallationMethod::new(MethodKind::NetworkMirror {
            url: mirror_url,
        })],
        Arc::new(Discovery::new(HttpClient::new())),
    );
    let work = TempDir::new("https-work");
    let mut options = InstallOptions::new(work.path());
    options.platform = Platform::new("linux", "amd64");
    let mut reqs = Requirements::new();
    reqs.insert(
        ProviderAddr::parse("hashicorp/null").unwrap(),
        Constraints::any(),
    );
    let mut messages = Vec::new();
    let outcome = install(&reqs, &LockFile::new(), &source, &options, &mut |e| {
        messages.push(e.message())
    })
    .unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(
        messages,
        [
            "- Finding latest version of hashicorp/null...",
            "- Installing hashicorp/null v2.1.2...",
            "- Installed hashicorp/null v2.1.2 (verified checksum)",
        ]
    );
    assert_eq!(
        outcome.lock.providers.values().next().unwrap().hashes[0].as_str(),
        h1
    );
    let installed = work
        .path()
        .join(".terraform/providers/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64")
        .join(exe);
    assert_eq!(std::fs::read(installed).unwrap(), data);

    // Terraform 1.0.3 against the same mirror (it trusts SSL_CERT_FILE too):
    // the same lines and the same lock file.
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let rc = root.path().join("terraformrc");
    std::fs::write(
        &rc,
        format!("provider_installation {{\n  network_mirror {{\n    url = \"https://{addr}/\"\n  }}\n}}\n"),
    )
    .unwrap();
    let tf = TempDir::new("https-tf");
    std::fs::write(
        tf.path().join("main.tf"),
        "terraform {\n  required_providers {\n    null = {\n      source = \"hashicorp/null\"\n    }\n  }\n}\n",
    )
    .unwrap();
    let out = std::process::Command::new(peer.join("bin/terraform"))
        .args(["init", "-no-color"])
        .current_dir(tf.path())
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("SSL_CERT_FILE", &cert_file)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in &messages {
        assert!(
            stdout.lines().any(|l| l == line),
            "Terraform did not print {line:?}:\n{stdout}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(tf.path().join(".terraform.lock.hcl")).unwrap(),
        outcome.lock.to_hcl()
    );
}
