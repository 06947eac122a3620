//! The provider registry protocol and the provider network mirror protocol
//! against a real HTTP server on 127.0.0.1 that the test fills with
//! packages: service discovery, version lists, download descriptions,
//! SHA256SUMS, version selection by constraint, the `h1:`/`zh:` hashes
//! recorded, and refusal of packages whose checksums do not match.

mod common;

use common::{build_zip, expected_h1, GpgSigner, TempDir, TestServer};
use std::sync::Arc;
use terrane_install::cliconfig::{InstallationMethod, MethodKind};
use terrane_install::sources::MultiSource;
use terrane_install::{
    install, Constraints, Discovery, HttpClient, InstallEvent, InstallOptions, LockFile, Platform,
    ProviderAddr, Requirements,
};

struct Registry {
    server: TestServer,
    signer: GpgSigner,
    /// version -> (linux zip sha256, h1)
    packages: Vec<(String, String, String)>,
    other_platform_sha: String,
}

/// The test registry (see [`common::registry_routes`]) on a plain-http
/// server. `None` without gpg.
fn registry() -> Option<Registry> {
    let signer = GpgSigner::new()?;
    let server = TestServer::start();
    let reg = common::registry_routes(&signer);
    for (path, body) in reg.routes {
        server.put(&path, body);
    }
    Some(Registry {
        server,
        signer,
        packages: reg.packages,
        other_platform_sha: reg.other_platform_sha,
    })
}

fn options(work: &TempDir) -> InstallOptions {
    let mut o = InstallOptions::new(work.path());
    o.platform = Platform::new("linux", "amd64");
    o
}

fn direct() -> MultiSource {
    MultiSource::new(
        &[InstallationMethod::new(MethodKind::Direct)],
        Arc::new(Discovery::new(HttpClient::new())),
    )
}

#[test]
fn registry_protocol_selects_installs_and_records_hashes() {
    let Some(reg) = registry() else { return };
    let addr = ProviderAddr::parse(&format!("{}/acme/thing", reg.server.addr)).unwrap();
    let work = TempDir::new("reg");
    let mut reqs = Requirements::new();
    reqs.insert(addr.clone(), Constraints::parse("~> 1.0").unwrap());
    let mut events = Vec::new();
    let outcome = install(
        &reqs,
        &LockFile::new(),
        &direct(),
        &options(&work),
        &mut |e| events.push(e.message()),
    )
    .unwrap_or_else(|d| panic!("{d:?}"));

    // Newest 1.x release: not 2.0.0, not the 1.2.0-beta prerelease.
    assert!(outcome.signed_by_developers);
    assert_eq!(outcome.selected[&addr].to_string(), "1.1.0");
    let (_, sha, h1) = &reg.packages[1];
    let host = &reg.server.addr;
    let key_id =
        terrane_install::openpgp::parse_public_keys(reg.signer.public_key_armor.as_bytes())
            .unwrap()[0]
            .key_id();
    assert_eq!(
        events,
        [
            format!("- Finding {host}/acme/thing versions matching \"~> 1.0\"..."),
            format!("- Installing {host}/acme/thing v1.1.0..."),
            format!("- Installed {host}/acme/thing v1.1.0 (self-signed, key ID {key_id})"),
        ]
    );
    // h1 of this platform's package; zh of every platform's archive.
    let mut hashes = [
        h1.clone(),
        format!("zh:{sha}"),
        format!("zh:{}", reg.other_platform_sha),
    ];
    hashes.sort();
    let expected = format!(
        "# This file is maintained automatically by \"terraform init\".\n# Manual edits may be lost in future updates.\n\nprovider \"{addr}\" {{\n  version     = \"1.1.0\"\n  constraints = \"~> 1.0\"\n  hashes = [\n{}  ]\n}}\n",
        hashes.iter().map(|h| format!("    \"{h}\",\n")).collect::<String>()
    );
    assert_eq!(outcome.lock.to_hcl(), expected);
    let exe_path = work.path().join(format!(
        ".terraform/providers/{host}/acme/thing/1.1.0/linux_amd64/terraform-provider-thing_v1.1.0"
    ));
    assert_eq!(
        std::fs::read(&exe_path).unwrap(),
        common::thing_exe("1.1.0").1
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&exe_path).unwrap().permissions().mode() & 0o111,
            0o111
        );
    }
    let found = terrane_install::find_installed(
        &work.path().join(".terraform/providers"),
        &addr,
        &outcome.selected[&addr],
        &Platform::new("linux", "amd64"),
        &Default::default(),
    )
    .unwrap();
    assert_eq!(found, exe_path);

    // The protocol calls, in order.
    let requests = reg.server.requests();
    assert_eq!(
        requests,
        [
            "/.well-known/terraform.json",
            "/v1/providers/acme/thing/versions",
            "/v1/providers/acme/thing/1.1.0/download/linux/amd64",
            "/files/terraform-provider-thing_1.1.0_SHA256SUMS",
            "/files/terraform-provider-thing_1.1.0_SHA256SUMS.sig",
            "/files/terraform-provider-thing_1.1.0_linux_amd64.zip",
        ]
    );

    // Exact prerelease constraint selects it; -upgrade ignores the lock.
    let mut reqs = Requirements::new();
    reqs.insert(addr.clone(), Constraints::parse("1.2.0-beta").unwrap());
    let mut o = options(&work);
    o.upgrade = true;
    let outcome2 = install(&reqs, &outcome.lock, &direct(), &o, &mut |_| {}).unwrap();
    assert_eq!(outcome2.selected[&addr].to_string(), "1.2.0-beta");
    assert!(outcome2.lock_changed);

    // Without -upgrade, a lock that no longer meets the constraints fails.
    let err = install(
        &reqs,
        &outcome.lock,
        &direct(),
        &options(&work),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.iter().next().unwrap().detail.contains(
            "locked provider {addr} 1.1.0 does not match configured version constraint 1.2.0-beta; must use terraform init -upgrade"
                .replace("{addr}", &addr.to_string())
                .as_str()
        ),
        "{err:?}"
    );

    // -lockfile=readonly refuses a change.
    let mut o = options(&work);
    o.upgrade = true;
    o.lockfile_mode = terrane_install::LockfileMode::Readonly;
    let err = install(&reqs, &outcome.lock, &direct(), &o, &mut |_| {}).unwrap_err();
    assert_eq!(
        err.iter().next().unwrap().summary,
        "Provider dependency changes detected"
    );
}

#[test]
fn registry_checksum_mismatch_is_refused() {
    let Some(reg) = registry() else { return };
    // The archive on the server no longer matches the registry's shasum.
    reg.server.put(
        "/files/terraform-provider-thing_2.0.0_linux_amd64.zip",
        build_zip(&[("terraform-provider-thing_v2.0.0", b"tampered")]),
    );
    let addr = ProviderAddr::parse(&format!("{}/acme/thing", reg.server.addr)).unwrap();
    let work = TempDir::new("reg-bad");
    let mut reqs = Requirements::new();
    reqs.insert(addr.clone(), Constraints::any());
    let err = install(
        &reqs,
        &LockFile::new(),
        &direct(),
        &options(&work),
        &mut |_| {},
    )
    .unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(d.summary, "Failed to install provider");
    assert!(d.detail.contains("checksum mismatch"), "{}", d.detail);
    assert!(!work
        .path()
        .join(".terraform/providers")
        .join(&reg.server.addr)
        .join("acme/thing/2.0.0/linux_amd64")
        .exists());

    // A checksums document whose signature was made over other content.
    reg.server.put(
        "/files/terraform-provider-thing_1.0.0_SHA256SUMS.sig",
        reg.signer.sign(b"something else"),
    );
    let mut reqs = Requirements::new();
    reqs.insert(addr.clone(), Constraints::parse("1.0.0").unwrap());
    let err = install(
        &reqs,
        &LockFile::new(),
        &direct(),
        &options(&work),
        &mut |_| {},
    )
    .unwrap_err();
    let d = err.iter().next().unwrap();
    assert_eq!(
        d.detail,
        format!(
            "Error while installing {}/acme/thing v1.0.0: error checking signature: the signature was not made by any of the given keys",
            reg.server.addr
        )
    );

    // An unknown provider: the registry answers 404.
    let mut reqs = Requirements::new();
    reqs.insert(
        ProviderAddr::parse(&format!("{}/acme/nothing", reg.server.addr)).unwrap(),
        Constraints::any(),
    );
    let err = install(
        &reqs,
        &LockFile::new(),
        &direct(),
        &options(&work),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.iter()
            .next()
            .unwrap()
            .detail
            .contains("does not have a provider named"),
        "{err:?}"
    );
}

#[test]
fn network_mirror_protocol() {
    let server = TestServer::start();
    let null_files: Vec<(String, Vec<u8>, String, String)> = ["2.1.2", "3.0.0"]
        .iter()
        .map(|v| {
            let name = format!("terraform-provider-null_v{v}_x5");
            let data = format!("null {v}").into_bytes();
            let zip = build_zip(&[(name.as_str(), &data)]);
            let h1 = expected_h1(&[(name.as_str(), &data)]);
            server.put(
                &format!("/mirror/registry.terraform.io/hashicorp/null/terraform-provider-null_{v}_linux_amd64.zip"),
                zip,
            );
            (v.to_string(), data, h1, name)
        })
        .collect();
    server.put(
        "/mirror/registry.terraform.io/hashicorp/null/index.json",
        r#"{"versions":{"2.1.2":{},"3.0.0":{}}}"#,
    );
    for (v, _, h1, _) in &null_files {
        server.put(
            &format!("/mirror/registry.terraform.io/hashicorp/null/{v}.json"),
            format!(
                r#"{{"archives":{{"linux_amd64":{{"url":"terraform-provider-null_{v}_linux_amd64.zip","hashes":["{h1}"]}},"darwin_amd64":{{"url":"x.zip","hashes":[]}}}}}}"#
            ),
        );
    }
    let mirror = MultiSource::new(
        &[InstallationMethod::new(MethodKind::NetworkMirror {
            url: server.url("/mirror/"),
        })],
        Arc::new(Discovery::new(HttpClient::new())),
    );
    let addr = ProviderAddr::parse("hashicorp/null").unwrap();
    let work = TempDir::new("netmirror");
    let mut reqs = Requirements::new();
    reqs.insert(addr.clone(), Constraints::parse("< 3.0.0").unwrap());
    let outcome = install(
        &reqs,
        &LockFile::new(),
        &mirror,
        &options(&work),
        &mut |_| {},
    )
    .unwrap_or_else(|d| panic!("{d:?}"));
    assert_eq!(outcome.selected[&addr].to_string(), "2.1.2");
    let (_, data, h1, name) = &null_files[0];
    assert_eq!(
        outcome.lock.to_hcl(),
        format!("# This file is maintained automatically by \"terraform init\".\n# Manual edits may be lost in future updates.\n\nprovider \"registry.terraform.io/hashicorp/null\" {{\n  version     = \"2.1.2\"\n  constraints = \"< 3.0.0\"\n  hashes = [\n    \"{h1}\",\n  ]\n}}\n")
    );
    let installed = work
        .path()
        .join(".terraform/providers/registry.terraform.io/hashicorp/null/2.1.2/linux_amd64")
        .join(name);
    assert_eq!(&std::fs::read(installed).unwrap(), data);
    assert_eq!(
        server.requests(),
        [
            "/mirror/registry.terraform.io/hashicorp/null/index.json",
            "/mirror/registry.terraform.io/hashicorp/null/2.1.2.json",
            "/mirror/registry.terraform.io/hashicorp/null/terraform-provider-null_2.1.2_linux_amd64.zip",
        ]
    );

    // A mirror whose published hash does not match its archive is refused.
    server.put(
        "/mirror/registry.terraform.io/hashicorp/null/3.0.0.json",
        r#"{"archives":{"linux_amd64":{"url":"terraform-provider-null_3.0.0_linux_amd64.zip","hashes":["h1:wrongwrongwrongwrongwrongwrongwrongwrong000="]}}}"#,
    );
    let mut reqs = Requirements::new();
    reqs.insert(addr.clone(), Constraints::any());
    let err = install(
        &reqs,
        &LockFile::new(),
        &mirror,
        &options(&work),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(
        err.iter()
            .next()
            .unwrap()
            .detail
            .ends_with("provider package doesn't match the expected checksum \"h1:wrongwrongwrongwrongwrongwrongwrongwrong000=\""),
        "{err:?}"
    );
}

#[test]
fn plain_http_is_refused_for_other_hosts() {
    let client = HttpClient::new();
    if std::env::var(terrane_install::http::ALLOW_INSECURE_HTTP_ENV).is_ok() {
        return;
    }
    let err = client.get("http://example.invalid/x").unwrap_err();
    assert_eq!(err.summary, "Insecure URL refused");
}

#[test]
fn install_event_messages() {
    let addr = ProviderAddr::parse("hashicorp/null").unwrap();
    let version = terrane_install::Version::parse("2.1.2").unwrap();
    let cases = [
        (
            InstallEvent::FindingVersions {
                addr: addr.clone(),
                constraints: None,
            },
            "- Finding latest version of hashicorp/null...",
        ),
        (
            InstallEvent::ReusingLocked {
                addr: addr.clone(),
                version: version.clone(),
            },
            "- Reusing previous version of hashicorp/null from the dependency lock file",
        ),
        (
            InstallEvent::UsingInstalled {
                addr: addr.clone(),
                version: version.clone(),
            },
            "- Using previously-installed hashicorp/null v2.1.2",
        ),
        (
            InstallEvent::LinkingFromCache {
                addr: addr.clone(),
                version: version.clone(),
            },
            "- Using hashicorp/null v2.1.2 from the shared cache directory",
        ),
    ];
    for (event, text) in cases {
        assert_eq!(event.message(), text);
    }
}
