//! Provider installation for `terrane init`, the dependency lock file, and
//! the plumbing (HTTP, service discovery, version constraints) that module
//! installation shares.
//!
//! The pieces, in the order a caller meets them:
//!
//! * [`addr::ProviderAddr`]: `hashicorp/null` -> `registry.terraform.io/hashicorp/null`.
//! * [`versions`]: [`Version`], [`Constraints`] (`>= 1.2, < 2`, `~> 1.2`),
//!   merged across modules and resolved to the newest matching version.
//! * [`cliconfig::CliConfig`]: `provider_installation`, `plugin_cache_dir`
//!   and `host` blocks from `TF_CLI_CONFIG_FILE` or `~/.terraformrc`, and
//!   the implied local mirror directories when there is no
//!   `provider_installation` block.
//! * [`lockfile::LockFile`]: `.terraform.lock.hcl`, read and written in
//!   Terraform's exact format.
//! * [`hash`]: `h1:` (hash of the package contents) and `zh:` (hash of the
//!   zip archive) package hashes.
//! * [`sources`]: where packages come from: filesystem mirrors (packed and
//!   unpacked), network mirrors, the provider registry protocol, each behind
//!   the [`sources::Source`] trait; [`sources::MultiSource`] applies
//!   `include`/`exclude`.
//!   [`cliconfig::CliConfig::installation_methods`] gives the methods in
//!   force (`-plugin-dir` directories replace all others);
//!   [`cliconfig::CliConfig::discovery`] sets up service discovery with the
//!   `credentials` and `host` blocks.
//! * [`openpgp`]: the signature check over a registry's `SHA256SUMS`.
//! * [`installer::install`]: the algorithm. Given the required providers,
//!   the previous lock file and [`installer::InstallOptions`] (`-upgrade`,
//!   `-lockfile=readonly`, plugin cache), it selects versions,
//!   installs packages into `.terraform/providers/HOST/NS/TYPE/VERSION/OS_ARCH/`,
//!   reports [`installer::InstallEvent`]s for the UI and returns the new
//!   lock file.
//! * [`installer::find_installed`]: the executable of an installed provider,
//!   for the engine's provider factory.
//! * [`modules`]: module installation, on the same HTTP client, discovery
//!   and version constraints.
//!
//! Every error is a [`terrane_hcl::Diagnostic`] with Terraform's summary and
//! detail, ready for the CLI's renderer.

pub mod addr;
pub mod cliconfig;
pub mod discovery;
pub mod hash;
pub mod http;
pub mod installer;
pub mod lockfile;
pub mod modules;
pub mod openpgp;
pub mod platform;
pub mod sources;
pub mod versions;

pub use addr::{ProviderAddr, ProviderPattern, DEFAULT_REGISTRY_HOST};
pub use cliconfig::{CliConfig, InstallationMethod, MethodKind};
pub use discovery::Discovery;
pub use hash::PackageHash;
pub use http::HttpClient;
pub use installer::{
    find_installed, install, InstallEvent, InstallOptions, InstallOutcome, LockfileMode,
    Requirements,
};
pub use lockfile::{LockFile, LockedProvider};
pub use platform::Platform;
pub use versions::{Constraint, Constraints, Operator, Version};

/// The lock file's name in the working directory.
pub const LOCK_FILE_NAME: &str = ".terraform.lock.hcl";
