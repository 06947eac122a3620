//! terrane-providers: providers compiled into terrane, behind the same
//! [`terrane_plugin::Provider`] trait as plugin binaries.
//!
//! [`builtin`] maps a provider source address to an instance; [`BUILTINS`]
//! lists the addresses and the upstream versions whose schemas, IDs and
//! behaviour are emulated, so that configurations and state files written
//! with those providers work unchanged:
//!
//! | address | emulates | resources | data sources |
//! |---|---|---|---|
//! | `terraform.io/builtin/terraform` | Terraform 1.x built-in | `terraform_data` | `terraform_remote_state` (every backend of the [`BackendResolver`] given to [`terraform_provider`]; local files without one) |
//! | `registry.terraform.io/hashicorp/null` | 2.1.2 | `null_resource` | `null_data_source` |
//! | `registry.terraform.io/hashicorp/random` | 3.7 (schemas of 3.6/3.7) | `random_id`, `random_string`, `random_password`, `random_integer`, `random_uuid`, `random_pet`, `random_shuffle` | |
//! | `registry.terraform.io/hashicorp/local` | 2.5 | `local_file`, `local_sensitive_file` | `local_file`, `local_sensitive_file` |
//! | `registry.terraform.io/hashicorp/time` | 0.13 | `time_static`, `time_offset`, `time_rotating`, `time_sleep` | |
//!
//! The null schema is checked against `terraform providers schema -json`
//! of the real 2.1.2 plugin (test fixture). The other schemas follow the
//! providers' documentation (attribute names, types, flags, versions);
//! descriptions are left out.

#![warn(missing_docs)]

mod common;
mod local;
mod null;
mod random;
mod terraform;
mod time;
mod timeutil;

use std::sync::Arc;

use terrane_plugin::Provider;

pub use terraform::{
    provider_with_backends as terraform_provider, BackendArgument, BackendResolver,
    RemoteStateError,
};

/// One built-in provider: its source address and the upstream version it
/// emulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinInfo {
    /// Fully qualified source address (`registry.terraform.io/hashicorp/null`).
    pub address: &'static str,
    /// The upstream release whose behaviour is emulated (`"2.1.2"`).
    pub version: &'static str,
}

/// Every built-in provider.
pub const BUILTINS: &[BuiltinInfo] = &[
    BuiltinInfo {
        address: "terraform.io/builtin/terraform",
        version: "1.0.3",
    },
    BuiltinInfo {
        address: "registry.terraform.io/hashicorp/null",
        version: "2.1.2",
    },
    BuiltinInfo {
        address: "registry.terraform.io/hashicorp/random",
        version: "3.7.2",
    },
    BuiltinInfo {
        address: "registry.terraform.io/hashicorp/local",
        version: "2.5.3",
    },
    BuiltinInfo {
        address: "registry.terraform.io/hashicorp/time",
        version: "0.13.1",
    },
];

/// Normalises a source address: a missing hostname means
/// `registry.terraform.io`, a missing namespace means `hashicorp`; the
/// comparison is case-insensitive (as Terraform's address parser).
fn normalize(source_addr: &str) -> String {
    let lower = source_addr.trim().to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('/').collect();
    match parts.as_slice() {
        [t] => format!("registry.terraform.io/hashicorp/{t}"),
        [ns, t] => format!("registry.terraform.io/{ns}/{t}"),
        _ => lower,
    }
}

/// The built-in provider for `source_addr` (`"registry.terraform.io/hashicorp/null"`,
/// `"hashicorp/null"`, `"terraform.io/builtin/terraform"`), or `None`.
/// Each call returns a fresh instance (its own stop flag).
pub fn builtin(source_addr: &str) -> Option<Arc<dyn Provider>> {
    use common::Builtin;
    let p: Arc<dyn Provider> = match normalize(source_addr).as_str() {
        "terraform.io/builtin/terraform" => terraform::provider_with_backends(None),
        "registry.terraform.io/hashicorp/null" => Arc::new(Builtin::new(null::Null)),
        "registry.terraform.io/hashicorp/random" => Arc::new(Builtin::new(random::Random)),
        "registry.terraform.io/hashicorp/local" => Arc::new(Builtin::new(local::Local)),
        "registry.terraform.io/hashicorp/time" => Arc::new(Builtin::new(time::Time)),
        _ => return None,
    };
    Some(p)
}

/// The emulated version of the built-in provider at `source_addr`.
pub fn builtin_version(source_addr: &str) -> Option<&'static str> {
    let n = normalize(source_addr);
    BUILTINS.iter().find(|b| b.address == n).map(|b| b.version)
}
