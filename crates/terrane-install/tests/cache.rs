//! plugin_cache_dir: the first install fills the cache and links the working
//! directory to it; a second working directory links from the cache without
//! fetching (the mirror is emptied in between to prove it). Also the CLI
//! configuration file end to end and the implied local mirror directories.

mod common;

use common::{build_zip, expected_h1, TempDir};
use std::path::Path;
use std::sync::Arc;
use terrane_install::cliconfig::{self, CliEnv, MethodKind};
use terrane_install::sources::MultiSource;
use terrane_install::{
    install, Constraints, Discovery, HttpClient, InstallEvent, InstallOptions, LockFile, Platform,
    ProviderAddr, Requirements,
};

const EXE: &str = "terraform-provider-thing_v1.0.0";
const BODY: &[u8] = b"#!/bin/sh\necho thing\n";

fn run(
    env: &CliEnv,
) -> (
    Result<terrane_install::InstallOutcome, terrane_hcl::Diagnostics>,
    Vec<InstallEvent>,
) {
    let (config, diags) = cliconfig::load(env);
    assert!(!diags.has_errors(), "{diags:?}");
    let methods = config.installation_methods(env, &[]);
    let source = MultiSource::new(&methods, Arc::new(Discovery::new(HttpClient::new())));
    let mut options = InstallOptions::new(&env.working_dir);
    options.platform = Platform::new("linux", "amd64");
    options.plugin_cache_dir = config.plugin_cache_dir.clone();
    let mut reqs = Requirements::new();
    reqs.insert(
        ProviderAddr::parse("example.com/acme/thing").unwrap(),
        Constraints::parse(">= 1.0").unwrap(),
    );
    let mut events = Vec::new();
    let result = install(&reqs, &LockFile::new(), &source, &options, &mut |e| {
        events.push(e)
    });
    (result, events)
}

fn env_for(rc: &Path, work: &Path) -> CliEnv {
    CliEnv {
        config_file: Some(rc.to_path_buf()),
        working_dir: work.to_path_buf(),
        ..CliEnv::default()
    }
}

#[test]
fn second_install_uses_the_plugin_cache() {
    let root = TempDir::new("cache");
    let mirror = root.path().join("mirror");
    let cache = root.path().join("cache");
    let zip_dir = mirror.join("example.com/acme/thing");
    std::fs::create_dir_all(&zip_dir).unwrap();
    let zip_path = zip_dir.join("terraform-provider-thing_1.0.0_linux_amd64.zip");
    std::fs::write(&zip_path, build_zip(&[(EXE, BODY)])).unwrap();
    let rc = root.path().join("terraformrc");
    std::fs::write(
        &rc,
        format!(
            "plugin_cache_dir = \"{}\"\nprovider_installation {{\n  filesystem_mirror {{\n    path    = \"{}\"\n    include = [\"example.com/*/*\"]\n  }}\n}}\n",
            cache.display(),
            mirror.display()
        ),
    )
    .unwrap();

    let w1 = root.path().join("w1");
    std::fs::create_dir_all(&w1).unwrap();
    let (first, events) = run(&env_for(&rc, &w1));
    let first = first.unwrap_or_else(|d| panic!("{d:?}"));
    assert!(
        matches!(events.last(), Some(InstallEvent::Installed { .. })),
        "{events:?}"
    );
    let cached = cache.join("example.com/acme/thing/1.0.0/linux_amd64");
    assert_eq!(std::fs::read(cached.join(EXE)).unwrap(), BODY);
    let link1 = w1.join(".terraform/providers/example.com/acme/thing/1.0.0/linux_amd64");
    assert_eq!(std::fs::read_link(&link1).unwrap(), cached);

    // Versions are listed by the sources before the cache is consulted (as
    // in Terraform), so the mirror must still list 1.0.0; leave it only a
    // package for another platform, so that linux_amd64 can come from
    // nowhere but the cache.
    std::fs::remove_file(&zip_path).unwrap();
    std::fs::create_dir_all(zip_dir.join("1.0.0/darwin_arm64")).unwrap();

    let w2 = root.path().join("w2");
    std::fs::create_dir_all(&w2).unwrap();
    let (second, events) = run(&env_for(&rc, &w2));
    let second = second.unwrap_or_else(|d| panic!("{d:?}"));
    let messages: Vec<String> = events.iter().map(|e| e.message()).collect();
    assert_eq!(
        messages,
        [
            "- Finding example.com/acme/thing versions matching \">= 1.0.0\"...",
            "- Using example.com/acme/thing v1.0.0 from the shared cache directory",
        ]
    );
    let link2 = w2.join(".terraform/providers/example.com/acme/thing/1.0.0/linux_amd64");
    assert_eq!(std::fs::read_link(&link2).unwrap(), cached);
    assert_eq!(second.lock, first.lock);
    assert_eq!(
        first.lock.providers.values().next().unwrap().hashes[0].as_str(),
        expected_h1(&[(EXE, BODY)])
    );
}

#[test]
fn implied_local_mirror_directories() {
    let root = TempDir::new("implied");
    let work = root.path().join("work");
    let home = root.path().join("home");
    // An unpacked package in the working directory's terraform.d/plugins.
    let pkg = work.join("terraform.d/plugins/example.com/acme/thing/1.0.0/linux_amd64");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join(EXE), BODY).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    let env = CliEnv {
        home: Some(home.clone()),
        xdg_data_dirs: Some(vec![root.path().join("share")]),
        working_dir: work.clone(),
        ..CliEnv::default()
    };
    assert_eq!(
        cliconfig::implied_mirror_dirs(&env),
        [
            work.join("terraform.d/plugins"),
            home.join(".terraform.d/plugins"),
            home.join(".local/share/terraform/plugins"),
            root.path().join("share/terraform/plugins"),
        ]
    );
    let methods = cliconfig::implied_methods(&env);
    assert_eq!(methods.len(), 2);
    assert_eq!(
        methods[0].kind,
        MethodKind::FilesystemMirror {
            path: work.join("terraform.d/plugins")
        }
    );
    assert_eq!(methods[1].kind, MethodKind::Direct);
    // direct excludes what the mirrors have.
    assert!(!methods[1].allows(&ProviderAddr::parse("example.com/acme/thing").unwrap()));
    assert!(methods[1].allows(&ProviderAddr::parse("hashicorp/null").unwrap()));

    let (result, _) = run(&env);
    let outcome = result.unwrap_or_else(|d| panic!("{d:?}"));
    let link = work.join(".terraform/providers/example.com/acme/thing/1.0.0/linux_amd64");
    assert_eq!(std::fs::read_link(link).unwrap(), pkg);
    assert_eq!(
        outcome.selected.values().next().unwrap().to_string(),
        "1.0.0"
    );
}

/// Terraform 1.0.3's message for a provider no method has, listing where it
/// looked (observed with a filesystem mirror that lacks the provider).
#[test]
fn provider_missing_from_every_mirror() {
    let root = TempDir::new("missing");
    let mirror = root.path().join("mirror");
    std::fs::create_dir_all(&mirror).unwrap();
    let methods =
        terrane_install::InstallationMethod::for_plugin_dirs(std::slice::from_ref(&mirror));
    let source = MultiSource::new(&methods, Arc::new(Discovery::new(HttpClient::new())));
    let mut reqs = Requirements::new();
    reqs.insert(
        ProviderAddr::parse("acme/thing").unwrap(),
        Constraints::any(),
    );
    let mut options = InstallOptions::new(root.path());
    options.platform = Platform::new("linux", "amd64");
    let err = install(&reqs, &LockFile::new(), &source, &options, &mut |_| {}).unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(d.summary, "Failed to query available provider packages");
    assert_eq!(
        d.detail,
        format!(
            "Could not retrieve the list of available versions for provider acme/thing: provider registry.terraform.io/acme/thing was not found in any of the search locations\n\n  - {}",
            mirror.display()
        )
    );
}
