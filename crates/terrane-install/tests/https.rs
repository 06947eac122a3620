//! The TLS path: a network mirror served over https from 127.0.0.1 with a
//! certificate made by the test, trusted through `SSL_CERT_FILE` as Go (and
//! so Terraform) trusts it. Without the file the same server is refused.
//! Terraform 1.0.3 installs from the same mirror with the same output and
//! lock file. (This test binary sets `SSL_CERT_FILE` for its own process
//! only.)

mod common;

use common::{build_zip, expected_h1, TempDir};
use std::sync::Arc;
use terrane_install::cliconfig::{InstallationMethod, MethodKind};
use terrane_install::sources::MultiSource;
use terrane_install::{
    install, Constraints, Discovery, HttpClient, InstallOptions, LockFile, Platform, ProviderAddr,
    Requirements,
};

#[test]
fn network_mirror_over_https_with_ssl_cert_file() {
    let root = TempDir::new("https");
    let (config, cert_pem) = common::tls_server_config();
    let cert_file = root.path().join("ca.pem");
    std::fs::write(&cert_file, cert_pem).unwrap();

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
    let addr = common::serve_tls(config, routes);
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

/// The provider registry protocol against Terraform 1.0.3: the same signed
/// registry served over https (for Terraform, trusting the test certificate
/// through `SSL_CERT_FILE`) and over plain http (for terrane, whose
/// discovery of a loopback host is plain http). Same lines, same lock file,
/// once the two hosts' ports are made equal.
#[test]
fn registry_protocol_matches_terraform() {
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let Some(signer) = common::GpgSigner::new() else {
        return;
    };
    let root = TempDir::new("reg-tf");
    let reg = common::registry_routes(&signer);
    let (config, cert_pem) = common::tls_server_config();
    let cert_file = root.path().join("ca.pem");
    std::fs::write(&cert_file, cert_pem).unwrap();
    let tls_addr = common::serve_tls(config, reg.routes.clone());
    let plain = common::TestServer::start();
    for (path, body) in &reg.routes {
        plain.put(path, body.clone());
    }

    // Terraform, against the https copy.
    let rc = root.path().join("terraformrc");
    std::fs::write(&rc, "").unwrap();
    let tf = root.path().join("tf");
    std::fs::create_dir_all(&tf).unwrap();
    std::fs::write(
        tf.join("main.tf"),
        format!("terraform {{\n  required_providers {{\n    thing = {{\n      source  = \"{tls_addr}/acme/thing\"\n      version = \"~> 1.0\"\n    }}\n  }}\n}}\n"),
    )
    .unwrap();
    let out = std::process::Command::new(peer.join("bin/terraform"))
        .args(["init", "-no-color"])
        .current_dir(&tf)
        .env("HOME", root.path())
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("SSL_CERT_FILE", &cert_file)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tf_lock = std::fs::read_to_string(tf.join(".terraform.lock.hcl")).unwrap();
    // A registry lock file (h1 and zh hashes) round-trips byte for byte.
    let (parsed, diags) = LockFile::parse(".terraform.lock.hcl", &tf_lock);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(parsed.to_hcl(), tf_lock);

    // terrane, against the plain copy.
    let addr = ProviderAddr::parse(&format!("{}/acme/thing", plain.addr)).unwrap();
    let source = MultiSource::new(
        &[InstallationMethod::new(MethodKind::Direct)],
        Arc::new(Discovery::new(HttpClient::new())),
    );
    let work = TempDir::new("reg-tn");
    let mut options = InstallOptions::new(work.path());
    options.platform = Platform::new("linux", "amd64");
    let mut reqs = Requirements::new();
    reqs.insert(addr, Constraints::parse("~> 1.0").unwrap());
    let mut messages = Vec::new();
    let outcome = install(&reqs, &LockFile::new(), &source, &options, &mut |e| {
        messages.push(e.message().replace(&plain.addr, &tls_addr))
    })
    .unwrap_or_else(|d| panic!("{d:?}"));
    for line in &messages {
        assert!(
            stdout.lines().any(|l| l == line),
            "Terraform did not print {line:?}:\n{stdout}"
        );
    }
    // Registry warnings: Terraform shows the same diagnostic.
    let warning = outcome.warnings.iter().next().expect("a registry warning");
    let all_output = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        all_output.contains(&format!("Warning: {}", warning.summary)),
        "{all_output}"
    );
    let detail = warning.detail.replace(&plain.addr, &tls_addr);
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat(&all_output).contains(&flat(&detail)),
        "{detail:?} not in:\n{all_output}"
    );
    assert!(outcome.signed_by_developers);
    assert!(
        stdout.contains(&format!("\n\n{}", terrane_install::installer::SIGNING_NOTE)),
        "{stdout}"
    );
    assert_eq!(
        outcome.lock.to_hcl().replace(&plain.addr, &tls_addr),
        tf_lock
    );
}

/// Registry failures read as Terraform 1.0.3's: a provider the registry
/// does not have, and a constraint no version meets.
#[test]
fn registry_errors_match_terraform() {
    let Some(peer) = common::peer_dir() else {
        return;
    };
    let Some(signer) = common::GpgSigner::new() else {
        return;
    };
    let root = TempDir::new("reg-err");
    let reg = common::registry_routes(&signer);
    let (config, cert_pem) = common::tls_server_config();
    let cert_file = root.path().join("ca.pem");
    std::fs::write(&cert_file, cert_pem).unwrap();
    let tls_addr = common::serve_tls(config, reg.routes.clone());
    let plain = common::TestServer::start();
    for (path, body) in &reg.routes {
        plain.put(path, body.clone());
    }
    let rc = root.path().join("terraformrc");
    std::fs::write(&rc, "").unwrap();
    let tf = root.path().join("tf");
    std::fs::create_dir_all(&tf).unwrap();
    std::fs::write(
        tf.join("main.tf"),
        format!(
            "terraform {{\n  required_providers {{\n    thing = {{\n      source  = \"{tls_addr}/acme/thing\"\n      version = \"> 5.0\"\n    }}\n    nothing = {{\n      source = \"{tls_addr}/acme/nothing\"\n    }}\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let out = std::process::Command::new(peer.join("bin/terraform"))
        .args(["init", "-no-color"])
        .current_dir(&tf)
        .env("HOME", root.path())
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("SSL_CERT_FILE", &cert_file)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let output = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let source = MultiSource::new(
        &[InstallationMethod::new(MethodKind::Direct)],
        Arc::new(Discovery::new(HttpClient::new())),
    );
    let work = TempDir::new("reg-err-tn");
    let mut options = InstallOptions::new(work.path());
    options.platform = Platform::new("linux", "amd64");
    let mut reqs = Requirements::new();
    reqs.insert(
        ProviderAddr::parse(&format!("{}/acme/thing", plain.addr)).unwrap(),
        Constraints::parse("> 5.0").unwrap(),
    );
    reqs.insert(
        ProviderAddr::parse(&format!("{}/acme/nothing", plain.addr)).unwrap(),
        Constraints::any(),
    );
    let err = install(&reqs, &LockFile::new(), &source, &options, &mut |_| {}).unwrap_err();
    let flat = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let errors: Vec<_> = err.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), 2, "{err:?}");
    for d in errors {
        assert!(
            output.contains(&format!("Error: {}", d.summary)),
            "{output}"
        );
        let detail = d.detail.replace(&plain.addr, &tls_addr);
        assert!(
            flat(&output).contains(&flat(&detail)),
            "{detail:?} is not in Terraform's output:\n{output}"
        );
    }
}
