//! Provider source addresses: `[HOSTNAME/]NAMESPACE/TYPE`.
//!
//! `hashicorp/null` means `registry.terraform.io/hashicorp/null`; a bare
//! legacy name such as `null` (a provider used without a `source`) means
//! `registry.terraform.io/hashicorp/null`, except `terraform`, which is the
//! built-in `terraform.io/builtin/terraform`.

use std::fmt;

/// The public registry, implied when an address has no hostname.
pub const DEFAULT_REGISTRY_HOST: &str = "registry.terraform.io";
/// The hostname of providers built into Terraform itself.
pub const BUILTIN_HOST: &str = "terraform.io";
/// The namespace Terraform 0.12 and earlier implied for bare names.
pub const LEGACY_NAMESPACE: &str = "-";

/// A fully-qualified provider address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProviderAddr {
    /// Lower-cased hostname, possibly with a `:port`.
    pub hostname: String,
    pub namespace: String,
    /// The provider type (`null`, `aws`).
    pub type_name: String,
}

impl ProviderAddr {
    pub fn new(hostname: &str, namespace: &str, type_name: &str) -> ProviderAddr {
        ProviderAddr {
            hostname: hostname.to_ascii_lowercase(),
            namespace: namespace.to_ascii_lowercase(),
            type_name: type_name.to_ascii_lowercase(),
        }
    }

    /// The address Terraform implies for a provider local name that has no
    /// `source`: `hashicorp/NAME`, or the built-in `terraform` provider.
    pub fn implied(local_name: &str) -> ProviderAddr {
        if local_name == "terraform" {
            return ProviderAddr::new(BUILTIN_HOST, "builtin", "terraform");
        }
        ProviderAddr::new(DEFAULT_REGISTRY_HOST, "hashicorp", local_name)
    }

    /// Parses a `source` string. One part is a legacy bare name (implied as
    /// [`ProviderAddr::implied`]), two parts `NAMESPACE/TYPE` on the public
    /// registry, three parts `HOSTNAME/NAMESPACE/TYPE`. The error is the
    /// detail Terraform gives for an invalid source.
    pub fn parse(source: &str) -> Result<ProviderAddr, String> {
        let parts: Vec<&str> = source.split('/').collect();
        let (hostname, namespace, type_name) = match parts.as_slice() {
            [name] => {
                check_part(name, "provider type")?;
                return Ok(ProviderAddr::implied(&name.to_ascii_lowercase()));
            }
            [ns, ty] => (DEFAULT_REGISTRY_HOST, *ns, *ty),
            [host, ns, ty] => (*host, *ns, *ty),
            _ => return Err(
                "The \"source\" attribute must be in the format \"[hostname/][namespace/]name\""
                    .to_string(),
            ),
        };
        check_hostname(hostname)?;
        if namespace != LEGACY_NAMESPACE {
            check_part(namespace, "namespace")?;
        }
        check_part(type_name, "provider type")?;
        if type_name.starts_with("terraform-provider-") || type_name.starts_with("terraform-") {
            return Err(format!(
                "Invalid provider type {type_name:?} in source {source:?}: must not be prefixed with \"terraform-\"."
            ));
        }
        Ok(ProviderAddr::new(hostname, namespace, type_name))
    }

    /// A provider built into the Terraform binary (`terraform.io/builtin/...`).
    pub fn is_builtin(&self) -> bool {
        self.hostname == BUILTIN_HOST && self.namespace == "builtin"
    }

    /// The short form Terraform prints in `init` output: `hashicorp/null` on
    /// the public registry, the full address elsewhere.
    pub fn for_display(&self) -> String {
        if self.hostname == DEFAULT_REGISTRY_HOST {
            format!("{}/{}", self.namespace, self.type_name)
        } else {
            self.to_string()
        }
    }
}

impl fmt::Display for ProviderAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.hostname, self.namespace, self.type_name)
    }
}

impl std::str::FromStr for ProviderAddr {
    type Err = String;
    fn from_str(s: &str) -> Result<ProviderAddr, String> {
        ProviderAddr::parse(s)
    }
}

/// Namespace and type: letters, digits and dashes, not starting or ending
/// with a dash.
fn check_part(part: &str, what: &str) -> Result<(), String> {
    let ok = !part.is_empty()
        && part.len() <= 64
        && part
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !part.starts_with('-')
        && !part.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "Invalid {what} {part:?}: must contain only letters, digits and dashes, and may not begin or end with a dash."
        ))
    }
}

fn check_hostname(host: &str) -> Result<(), String> {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    if name_ok && port_ok {
        Ok(())
    } else {
        Err(format!("Invalid provider registry hostname {host:?}."))
    }
}

/// A pattern from `include`/`exclude` in the CLI configuration:
/// `HOST/NAMESPACE/TYPE` where the namespace and type (and the host) may be
/// `*`, and a two-part pattern implies the public registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProviderPattern {
    pub hostname: String,
    pub namespace: String,
    pub type_name: String,
}

impl ProviderPattern {
    pub fn parse(pattern: &str) -> Result<ProviderPattern, String> {
        let parts: Vec<&str> = pattern.split('/').collect();
        let (h, n, t) = match parts.as_slice() {
            [n, t] => (DEFAULT_REGISTRY_HOST, *n, *t),
            [h, n, t] => (*h, *n, *t),
            _ => {
                return Err(format!(
                    "Invalid provider address pattern {pattern:?}: must be HOSTNAME/NAMESPACE/TYPE, where the last two (or all three) parts may be \"*\"."
                ))
            }
        };
        if n == "*" && t != "*" {
            return Err(format!(
                "Invalid provider address pattern {pattern:?}: a wildcard namespace requires a wildcard type."
            ));
        }
        for (part, what) in [(n, "namespace"), (t, "provider type")] {
            if part != "*" {
                check_part(part, what)?;
            }
        }
        if h != "*" {
            check_hostname(h)?;
        }
        Ok(ProviderPattern {
            hostname: h.to_ascii_lowercase(),
            namespace: n.to_ascii_lowercase(),
            type_name: t.to_ascii_lowercase(),
        })
    }

    pub fn matches(&self, addr: &ProviderAddr) -> bool {
        let part = |p: &str, v: &str| p == "*" || p == v;
        part(&self.hostname, &addr.hostname)
            && part(&self.namespace, &addr.namespace)
            && part(&self.type_name, &addr.type_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!(
            ProviderAddr::parse("hashicorp/null").unwrap().to_string(),
            "registry.terraform.io/hashicorp/null"
        );
        assert_eq!(
            ProviderAddr::parse("null").unwrap().to_string(),
            "registry.terraform.io/hashicorp/null"
        );
        assert_eq!(
            ProviderAddr::parse("terraform").unwrap().to_string(),
            "terraform.io/builtin/terraform"
        );
        assert_eq!(
            ProviderAddr::parse("Example.COM:8443/Acme/Thing")
                .unwrap()
                .to_string(),
            "example.com:8443/acme/thing"
        );
        assert!(ProviderAddr::parse("a/b/c/d").is_err());
        assert!(ProviderAddr::parse("hashicorp/-bad").is_err());
        assert_eq!(
            ProviderAddr::parse("hashicorp/null").unwrap().for_display(),
            "hashicorp/null"
        );
    }

    #[test]
    fn patterns() {
        let p = ProviderPattern::parse("registry.terraform.io/hashicorp/*").unwrap();
        assert!(p.matches(&ProviderAddr::parse("hashicorp/aws").unwrap()));
        assert!(!p.matches(&ProviderAddr::parse("acme/aws").unwrap()));
        let any = ProviderPattern::parse("*/*").unwrap();
        assert!(any.matches(&ProviderAddr::parse("acme/aws").unwrap()));
        assert!(!any.matches(&ProviderAddr::parse("example.com/acme/aws").unwrap()));
        assert!(ProviderPattern::parse("*/aws").is_err());
    }
}
