//! The lock file against Terraform 1.0.3: lock files written by `terraform
//! init` (peer mirror, hashicorp/null 2.1.2 and hashicorp/aws 3.39.0) parse
//! and write back byte for byte; terrane's `h1:` hash of the mirror's null
//! package equals the one Terraform recorded; terrane's installer, given
//! the same CLI configuration, writes the same lock file and the same
//! `.terraform/providers` layout; a lock file whose hash does not match is
//! refused.

mod common;

use common::{peer_dir, TempDir};
use std::path::Path;
use std::process::Command;
use terrane_install::cliconfig::{self, CliEnv};
use terrane_install::hash::h1_of_dir;
use terrane_install::sources::MultiSource;
use terrane_install::{
    install, Constraints, Discovery, HttpClient, InstallOptions, LockFile, Platform, ProviderAddr,
    Requirements,
};

fn write_config(dir: &Path, providers: &[(&str, &str, Option<&str>)]) {
    let mut text = String::from("terraform {\n  required_providers {\n");
    for (name, source, version) in providers {
        text.push_str(&format!("    {name} = {{\n      source = \"{source}\"\n"));
        if let Some(v) = version {
            text.push_str(&format!("      version = \"{v}\"\n"));
        }
        text.push_str("    }\n");
    }
    text.push_str("  }\n}\n");
    std::fs::write(dir.join("main.tf"), text).unwrap();
}

fn terraform_init(peer: &Path, dir: &Path) {
    let out = Command::new(peer.join("bin/terraform"))
        .args(["init", "-no-color"])
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .expect("run terraform");
    assert!(
        out.status.success(),
        "terraform init failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn requirements(providers: &[(&str, &str, Option<&str>)]) -> Requirements {
    providers
        .iter()
        .map(|(_, source, version)| {
            (
                ProviderAddr::parse(source).unwrap(),
                Constraints::parse(version.unwrap_or("")).unwrap(),
            )
        })
        .collect()
}

/// Installs with terrane from the peer's CLI configuration.
fn terrane_install(
    peer: &Path,
    dir: &Path,
    providers: &[(&str, &str, Option<&str>)],
    previous: &LockFile,
) -> Result<terrane_install::InstallOutcome, terrane_hcl::Diagnostics> {
    let env = CliEnv {
        config_file: Some(peer.join("terraformrc")),
        working_dir: dir.to_path_buf(),
        ..CliEnv::default()
    };
    let (config, diags) = cliconfig::load(&env);
    assert!(!diags.has_errors(), "{diags:?}");
    let methods = config.installation_methods(&env, &[]);
    let source = MultiSource::new(
        &methods,
        std::sync::Arc::new(Discovery::new(HttpClient::new())),
    );
    let mut options = InstallOptions::new(dir);
    options.platform = Platform::new("linux", "amd64");
    install(
        &requirements(providers),
        previous,
        &source,
        &options,
        &mut |_| {},
    )
}

#[test]
fn terraform_lock_files_round_trip_and_match_terrane() {
    let Some(peer) = peer_dir() else { return };
    let cases: &[&[(&str, &str, Option<&str>)]] = &[
        &[("null", "hashicorp/null", None)],
        &[("null", "hashicorp/null", Some("~> 2.1, != 2.0.0"))],
        &[("null", "hashicorp/null", Some("2.1.2"))],
        &[
            ("null", "hashicorp/null", Some(">= 2.0")),
            ("aws", "hashicorp/aws", None),
        ],
    ];
    for (i, providers) in cases.iter().enumerate() {
        let tf = TempDir::new(&format!("tf{i}"));
        write_config(tf.path(), providers);
        terraform_init(&peer, tf.path());
        let written = std::fs::read_to_string(tf.path().join(".terraform.lock.hcl")).unwrap();

        // Parse + write is byte-identical.
        let (lock, diags) = LockFile::parse(".terraform.lock.hcl", &written);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(lock.to_hcl(), written, "round trip of case {i}");

        // terrane's installer writes the same file and the same layout.
        let tn = TempDir::new(&format!("tn{i}"));
        let outcome = terrane_install(&peer, tn.path(), providers, &LockFile::new())
            .unwrap_or_else(|d| panic!("terrane install failed: {d:?}"));
        assert_eq!(
            outcome.lock.to_hcl(),
            written,
            "terrane's lock file for case {i}"
        );
        for addr in outcome.selected.keys() {
            let rel = format!(
                ".terraform/providers/{}/{}/{}",
                addr.hostname, addr.namespace, addr.type_name
            );
            let link = |root: &Path| {
                let dir = root.join(&rel);
                let version = std::fs::read_dir(&dir)
                    .unwrap()
                    .next()
                    .unwrap()
                    .unwrap()
                    .path();
                std::fs::read_link(version.join("linux_amd64")).unwrap()
            };
            assert_eq!(link(tn.path()), link(tf.path()), "symlink for {addr}");
        }

        // Installing again with the lock file reuses what is there.
        let again = terrane_install(&peer, tn.path(), providers, &outcome.lock).unwrap();
        assert!(!again.lock_changed);
    }
}

#[test]
fn h1_of_the_mirror_package_equals_terraforms() {
    let Some(peer) = peer_dir() else { return };
    let tf = TempDir::new("h1");
    write_config(tf.path(), &[("null", "hashicorp/null", None)]);
    terraform_init(&peer, tf.path());
    let written = std::fs::read_to_string(tf.path().join(".terraform.lock.hcl")).unwrap();
    let package = peer.join("mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64");
    let h1 = h1_of_dir(&package).unwrap();
    assert!(
        written.contains(&format!("\"{h1}\"")),
        "terrane's hash {h1} is not in Terraform's lock file:\n{written}"
    );
    // The same package zipped hashes the same.
    let exe = std::fs::read(package.join("terraform-provider-null_v2.1.2_x4")).unwrap();
    let zip = common::build_zip_stored(&[("terraform-provider-null_v2.1.2_x4", &exe)]);
    let tmp = TempDir::new("h1zip");
    let zip_path = tmp.path().join("p.zip");
    std::fs::write(&zip_path, zip).unwrap();
    assert_eq!(terrane_install::hash::h1_of_zip(&zip_path).unwrap(), h1);
}

#[test]
fn mismatching_lock_file_is_refused() {
    // A local packed mirror, so this runs without the peer.
    let mirror = TempDir::new("mm-mirror");
    let files: &[(&str, &[u8])] = &[(
        "terraform-provider-thing_v1.0.0",
        b"#!/bin/sh\necho thing\n",
    )];
    let dir = mirror.path().join("example.com/acme/thing");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("terraform-provider-thing_1.0.0_linux_amd64.zip"),
        common::build_zip(files),
    )
    .unwrap();
    let work = TempDir::new("mm-work");
    let text = "# This file is maintained automatically by \"terraform init\".\n# Manual edits may be lost in future updates.\n\nprovider \"example.com/acme/thing\" {\n  version = \"1.0.0\"\n  hashes = [\n    \"h1:AAAAdqQu4g3LJNevA32aDxcUz2qGkRGQpFfkI8TCdE=\",\n  ]\n}\n";
    let (lock, diags) = LockFile::parse(".terraform.lock.hcl", text);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(lock.to_hcl(), text);
    let methods =
        terrane_install::InstallationMethod::for_plugin_dirs(&[mirror.path().to_path_buf()]);
    let source = MultiSource::new(
        &methods,
        std::sync::Arc::new(Discovery::new(HttpClient::new())),
    );
    let mut options = InstallOptions::new(work.path());
    options.platform = Platform::new("linux", "amd64");
    let mut reqs = Requirements::new();
    reqs.insert(
        ProviderAddr::parse("example.com/acme/thing").unwrap(),
        Constraints::any(),
    );
    let err = install(&reqs, &lock, &source, &options, &mut |_| {}).unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(d.summary, "Failed to install provider");
    assert_eq!(
        d.detail,
        "Error while installing example.com/acme/thing v1.0.0: the local package for example.com/acme/thing 1.0.0 doesn't match any of the checksums previously recorded in the dependency lock file (this might be because the available checksums are for packages targeting different platforms)"
    );
    assert!(!work
        .path()
        .join(".terraform/providers/example.com/acme/thing/1.0.0/linux_amd64")
        .exists());

    // With the right hash it installs, and keeps the recorded hash.
    let good = common::expected_h1(files);
    let fixed = text.replace("h1:AAAAdqQu4g3LJNevA32aDxcUz2qGkRGQpFfkI8TCdE=", &good);
    let (lock, _) = LockFile::parse(".terraform.lock.hcl", &fixed);
    let outcome = install(&reqs, &lock, &source, &options, &mut |_| {}).unwrap();
    assert!(!outcome.lock_changed);
    assert_eq!(outcome.lock.to_hcl(), fixed);
}

#[test]
fn lock_file_errors_point_at_the_source() {
    let text = "provider \"hashicorp/null\" {\n  version = \"2.1.2\"\n}\nprovider \"registry.terraform.io/hashicorp/aws\" {\n  version = \"x\"\n}\n";
    let (_, diags) = LockFile::parse(".terraform.lock.hcl", text);
    let summaries: Vec<&str> = diags.iter().map(|d| d.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Non-normalized provider source address",
            "Invalid provider version number"
        ]
    );
    assert!(diags.iter().all(|d| d.subject.is_some()));
}

/// A packed (zip) filesystem mirror with a plugin cache shared by both
/// tools: Terraform extracts into the cache and links to it; terrane then
/// finds the package in that cache, links to it the same way, and writes
/// the same lock file (`h1:` only, as for any local archive).
#[test]
fn packed_mirror_and_a_cache_shared_with_terraform() {
    let Some(peer) = peer_dir() else { return };
    let root = TempDir::new("packed");
    let mirror = root.path().join("mirror");
    let cache = root.path().join("cache");
    let zip_dir = mirror.join("registry.terraform.io/hashicorp/null");
    std::fs::create_dir_all(&zip_dir).unwrap();
    std::fs::create_dir_all(&cache).unwrap();
    let exe_name = "terraform-provider-null_v2.1.2_x4";
    let exe = std::fs::read(
        peer.join("mirror/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64")
            .join(exe_name),
    )
    .unwrap();
    std::fs::write(
        zip_dir.join("terraform-provider-null_2.1.2_linux_amd64.zip"),
        common::build_zip_stored(&[(exe_name, &exe)]),
    )
    .unwrap();
    let rc = root.path().join("terraformrc");
    std::fs::write(
        &rc,
        format!(
            "plugin_cache_dir = \"{}\"\nprovider_installation {{\n  filesystem_mirror {{\n    path = \"{}\"\n  }}\n}}\n",
            cache.display(),
            mirror.display()
        ),
    )
    .unwrap();
    let providers = [("null", "hashicorp/null", Some("~> 2.1"))];

    let tf = root.path().join("tf");
    std::fs::create_dir_all(&tf).unwrap();
    write_config(&tf, &providers);
    let out = Command::new(peer.join("bin/terraform"))
        .args(["init", "-no-color"])
        .current_dir(&tf)
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_PLUGIN_CACHE_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(tf.join(".terraform.lock.hcl")).unwrap();

    let tn = root.path().join("tn");
    std::fs::create_dir_all(&tn).unwrap();
    let env = CliEnv {
        config_file: Some(rc.clone()),
        working_dir: tn.clone(),
        ..CliEnv::default()
    };
    let (config, diags) = cliconfig::load(&env);
    assert!(!diags.has_errors(), "{diags:?}");
    let source = MultiSource::new(
        &config.installation_methods(&env, &[]),
        std::sync::Arc::new(config.discovery()),
    );
    let mut options = InstallOptions::new(&tn);
    options.platform = Platform::new("linux", "amd64");
    options.plugin_cache_dir = config.plugin_cache_dir.clone();
    let mut messages = Vec::new();
    let outcome = install(
        &requirements(&providers),
        &LockFile::new(),
        &source,
        &options,
        &mut |e| messages.push(e.message()),
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(
        messages,
        [
            "- Finding hashicorp/null versions matching \"~> 2.1\"...",
            "- Using hashicorp/null v2.1.2 from the shared cache directory",
        ]
    );
    assert_eq!(outcome.lock.to_hcl(), written);
    let rel = ".terraform/providers/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64";
    assert_eq!(
        std::fs::read_link(tn.join(rel)).unwrap(),
        std::fs::read_link(tf.join(rel)).unwrap()
    );
}
