//! Locating the Terraform 1.0.3 peer (`. /tmp/terrane-peer/env.sh`): its
//! `bin/terraform`, its CLI configuration (a `filesystem_mirror` holding
//! the real provider plugins) and that mirror.

use std::path::{Path, PathBuf};

/// Where the peer is: `TERRANE_PEER_DIR`, else `/tmp/terrane-peer`.
fn peer_location() -> PathBuf {
    PathBuf::from(std::env::var("TERRANE_PEER_DIR").unwrap_or_else(|_| "/tmp/terrane-peer".into()))
}

fn peer_with(needs_cli_config: bool, extra_dirs: &[&str]) -> Option<PathBuf> {
    let dir = peer_location();
    if terraform_bin(&dir).is_file()
        && (!needs_cli_config || cli_config(&dir).is_file())
        && extra_dirs.iter().all(|d| dir.join(d).is_dir())
    {
        return Some(dir);
    }
    if crate::in_ci() {
        panic!(
            "Terraform peer missing at {} (.ci/run installs it with ../shared/peer/setup.sh)",
            dir.display()
        );
    }
    eprintln!(
        "skipping: Terraform peer not installed at {} (run ../shared/peer/setup.sh)",
        dir.display()
    );
    None
}

/// The peer directory, or `None` (after printing why) when it is missing
/// outside CI. Panics under `CI=true`, where .ci/run installs it.
pub fn peer_dir() -> Option<PathBuf> {
    peer_with(true, &[])
}

/// As [`peer_dir`], also requiring the mirror to hold hashicorp/null
/// (tests that install providers from it).
pub fn peer_dir_with_mirror() -> Option<PathBuf> {
    peer_with(true, &["mirror/registry.terraform.io/hashicorp/null"])
}

/// As [`peer_dir`], requiring only `bin/terraform` (tests that run
/// Terraform without the peer's CLI configuration).
pub fn peer_terraform_dir() -> Option<PathBuf> {
    peer_with(false, &[])
}

/// The peer's Terraform 1.0.3 executable.
pub fn terraform_bin(peer: &Path) -> PathBuf {
    peer.join("bin/terraform")
}

/// The peer's CLI configuration, for `TF_CLI_CONFIG_FILE`.
pub fn cli_config(peer: &Path) -> PathBuf {
    peer.join("terraformrc")
}

/// The environment both tools need to use the peer's mirror.
pub fn cli_config_env(peer: &Path) -> (&'static str, PathBuf) {
    ("TF_CLI_CONFIG_FILE", cli_config(peer))
}
