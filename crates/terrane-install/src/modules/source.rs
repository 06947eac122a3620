//! Module source addresses, classified the way Terraform 1.0.3 does it:
//! a local path (`./`, `../`), else a module registry address
//! (`[HOST/]NAMESPACE/NAME/PROVIDER[//SUBDIR]`), else a go-getter style
//! address (`[GETTER::]URL[//SUBDIR][?QUERY]` plus the `github.com/...`,
//! `git@host:path` and absolute-path shorthands).

use std::fmt;

/// The public registry, used when a registry address names no host.
pub const DEFAULT_REGISTRY_HOST: &str = "registry.terraform.io";

/// A classified module `source` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleSourceAddr {
    /// `./x` or `../x`, relative to the calling module's directory.
    Local(String),
    Registry(RegistryModuleAddr),
    Remote(RemoteModuleAddr),
}

/// `[HOST/]NAMESPACE/NAME/PROVIDER[//SUBDIR]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistryModuleAddr {
    /// Lower-cased host, with `:port` when one was given.
    pub host: String,
    pub namespace: String,
    pub name: String,
    pub provider: String,
    pub subdir: Option<String>,
}

impl RegistryModuleAddr {
    /// `NAMESPACE/NAME/PROVIDER`, the path under the registry's `modules.v1`.
    pub fn module_path(&self) -> String {
        format!("{}/{}/{}", self.namespace, self.name, self.provider)
    }
}

impl fmt::Display for RegistryModuleAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host != DEFAULT_REGISTRY_HOST {
            write!(f, "{}/", self.host)?;
        }
        write!(f, "{}", self.module_path())?;
        if let Some(sub) = &self.subdir {
            write!(f, "//{sub}")?;
        }
        Ok(())
    }
}

/// How a remote package is fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Getter {
    /// The `git` command-line tool.
    Git,
    /// A directory on this machine, linked into place.
    File,
    /// An HTTP(S) URL: an archive, or a page naming the real address in
    /// `X-Terraform-Get`.
    Http,
}

/// A package fetched by a getter, with an optional directory inside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteModuleAddr {
    pub getter: Getter,
    /// The address without `//SUBDIR` (query kept), as Terraform shows it
    /// in `Downloading ...` lines and uses to identify the package.
    pub package: String,
    /// What the getter fetches: the detected URL without the forced-getter
    /// prefix and without the subdirectory, query included.
    pub url: String,
    pub subdir: Option<String>,
}

/// Why a source address cannot be installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceError {
    /// Neither local, registry nor any known getter shorthand (Terraform's
    /// "Module not found").
    NotFound,
    /// A getter terrane does not implement (hg, s3, gcs, BitBucket lookup).
    Unsupported { getter: &'static str },
    /// A getter name nobody implements (`bogus::...`).
    UnknownScheme(String),
    /// A recognised shorthand that is malformed.
    Invalid(String),
}

/// Whether Terraform treats the address as a local path.
pub fn is_local_source(s: &str) -> bool {
    s == "."
        || s == ".."
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with(".\\")
        || s.starts_with("..\\")
}

/// Classifies a module `source` argument.
pub fn parse_module_source(s: &str) -> Result<ModuleSourceAddr, SourceError> {
    if is_local_source(s) {
        return Ok(ModuleSourceAddr::Local(s.to_string()));
    }
    if let Some(reg) = parse_registry_source(s) {
        return Ok(ModuleSourceAddr::Registry(reg));
    }
    parse_remote_source(s).map(ModuleSourceAddr::Remote)
}

/// Parses a registry module address, or `None` when it is not one.
pub fn parse_registry_source(s: &str) -> Option<RegistryModuleAddr> {
    let (addr, subdir) = match s.find("//") {
        Some(i) => (&s[..i], Some(s[i + 2..].to_string())),
        None => (s, None),
    };
    let parts: Vec<&str> = addr.split('/').collect();
    let (host, rest) = match parts.len() {
        3 => (DEFAULT_REGISTRY_HOST.to_string(), &parts[..]),
        4 => {
            let host = parts[0].to_ascii_lowercase();
            if !is_registry_host(&host) {
                return None;
            }
            (host, &parts[1..])
        }
        _ => return None,
    };
    if !is_registry_name(rest[0]) || !is_registry_name(rest[1]) || !is_provider_name(rest[2]) {
        return None;
    }
    Some(RegistryModuleAddr {
        host,
        namespace: rest[0].to_string(),
        name: rest[1].to_string(),
        provider: rest[2].to_string(),
        subdir: subdir.filter(|d| !d.is_empty()),
    })
}

/// A registry host: dotted DNS labels (at least two), optional `:port`.
/// `github.com` and `bitbucket.org` are never registries: addresses there
/// are repository shorthands.
fn is_registry_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    if name == "github.com" || name == "bitbucket.org" {
        return false;
    }
    let labels: Vec<&str> = name.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && !l.starts_with("xn--")
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Namespace and module names: alphanumerics, with `-` and `_` inside,
/// at most 64 characters.
fn is_registry_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
}

/// Provider (target system) names: lower-case alphanumerics only.
fn is_provider_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// Splits `URL//SUBDIR?QUERY` into (`URL?QUERY`, `SUBDIR`). The `//` of a
/// `scheme://` does not count.
pub fn split_subdir(s: &str) -> (String, Option<String>) {
    let offset = s.find("://").map(|i| i + 3).unwrap_or(0);
    let Some(i) = s[offset..].find("//").map(|i| i + offset) else {
        return (s.to_string(), None);
    };
    let mut url = s[..i].to_string();
    let mut subdir = s[i + 2..].to_string();
    if let Some(q) = subdir.find('?') {
        url.push_str(&subdir[q..]);
        subdir.truncate(q);
    }
    (url, Some(subdir).filter(|d| !d.is_empty()))
}

/// `name::rest` when `name` is a getter name (ASCII alphanumerics).
fn split_forced_getter(s: &str) -> (Option<&str>, &str) {
    if let Some(i) = s.find("::") {
        let name = &s[..i];
        if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return (Some(name), &s[i + 2..]);
        }
    }
    (None, s)
}

/// The URL scheme when `s` is an absolute URL (`scheme:...`).
pub(crate) fn url_scheme(s: &str) -> Option<&str> {
    let i = s.find(':')?;
    let scheme = &s[..i];
    let mut bytes = scheme.bytes();
    let first = bytes.next()?;
    if !first.is_ascii_alphabetic()
        || !bytes.all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
    {
        return None;
    }
    // A single letter is a Windows drive, not a scheme.
    (scheme.len() > 1).then_some(scheme)
}

/// How Terraform names a getter address in `Downloading ...` lines: the
/// address without its `//SUBDIR` (forced getter and query kept).
pub fn package_display(s: &str) -> String {
    let (forced, rest) = split_forced_getter(s);
    let (package_url, _) = split_subdir(rest);
    match forced {
        Some(f) => format!("{f}::{package_url}"),
        None => package_url,
    }
}

/// Parses a getter address (anything neither local nor registry): also
/// used for the `X-Terraform-Get` location a registry answers with.
pub fn parse_remote_source(s: &str) -> Result<RemoteModuleAddr, SourceError> {
    let (forced, rest) = split_forced_getter(s);
    if rest.is_empty() {
        return Err(SourceError::Invalid(
            "The address after the getter name is empty.".to_string(),
        ));
    }
    let (package_url, subdir) = split_subdir(rest);
    let package = package_display(s);
    let (detected_getter, url, extra_subdir) = detect(&package_url)?;
    let getter_name = forced.or(detected_getter.as_deref()).unwrap_or("");
    let getter = match getter_name.to_ascii_lowercase().as_str() {
        "git" => Getter::Git,
        "file" => Getter::File,
        "http" | "https" => Getter::Http,
        "hg" => return Err(SourceError::Unsupported { getter: "hg" }),
        "s3" => return Err(SourceError::Unsupported { getter: "s3" }),
        "gcs" => return Err(SourceError::Unsupported { getter: "gcs" }),
        other => return Err(SourceError::UnknownScheme(other.to_string())),
    };
    let subdir = match (extra_subdir, subdir) {
        (Some(a), Some(b)) => Some(format!("{a}/{b}")),
        (a, b) => a.or(b),
    };
    Ok(RemoteModuleAddr {
        getter,
        package,
        url,
        subdir,
    })
}

/// Turns a shorthand into a URL: returns the getter it implies (or the URL
/// scheme), the URL, and any subdirectory the shorthand carried.
type Detected = (Option<String>, String, Option<String>);

fn detect(src: &str) -> Result<Detected, SourceError> {
    if let Some(scheme) = url_scheme(src) {
        return Ok((Some(scheme.to_string()), src.to_string(), None));
    }
    if let Some(rest) = src.strip_prefix("github.com/") {
        return detect_github(rest);
    }
    if let Some(rest) = src.strip_prefix("git@") {
        // scp-like `git@host:path` becomes `ssh://git@host/path`.
        let Some((host, path)) = rest.split_once(':') else {
            return Err(SourceError::Invalid(format!(
                "The address {src:?} looks like an SSH address but has no \":\" between host and path."
            )));
        };
        let path = path.trim_start_matches('/');
        return Ok((Some("git".into()), format!("ssh://git@{host}/{path}"), None));
    }
    if src.starts_with("bitbucket.org/") {
        return Err(SourceError::Unsupported {
            getter: "bitbucket",
        });
    }
    if src.starts_with("www.googleapis.com/storage/") {
        return Err(SourceError::Unsupported { getter: "gcs" });
    }
    if src.contains(".amazonaws.com/") {
        return Err(SourceError::Unsupported { getter: "s3" });
    }
    if src.starts_with('/') {
        return Ok((Some("file".into()), format!("file://{src}"), None));
    }
    Err(SourceError::NotFound)
}

/// `github.com/OWNER/REPO[/SUBDIR...][?QUERY]` → git over HTTPS.
fn detect_github(rest: &str) -> Result<Detected, SourceError> {
    let (path, query) = match rest.find('?') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 || parts[0].is_empty() || parts[1].is_empty() {
        return Err(SourceError::Invalid(
            "GitHub URLs should be github.com/username/repo".to_string(),
        ));
    }
    let repo = parts[1].strip_suffix(".git").unwrap_or(parts[1]);
    let url = format!("https://github.com/{}/{repo}.git{query}", parts[0]);
    let subdir = (parts.len() > 2).then(|| parts[2..].join("/"));
    Ok((Some("git".into()), url, subdir.filter(|s| !s.is_empty())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(s: &str) -> RemoteModuleAddr {
        match parse_module_source(s) {
            Ok(ModuleSourceAddr::Remote(r)) => r,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn local_paths() {
        for s in ["./a", "../a/b", ".", "..\\x"] {
            assert_eq!(
                parse_module_source(s),
                Ok(ModuleSourceAddr::Local(s.into()))
            );
        }
    }

    #[test]
    fn registry_addresses() {
        let r = parse_registry_source("terraform-aws-modules/vpc/aws").unwrap();
        assert_eq!(r.host, "registry.terraform.io");
        assert_eq!(r.module_path(), "terraform-aws-modules/vpc/aws");
        assert_eq!(r.subdir, None);
        let r = parse_registry_source("App.Example.com:8443/ns/name/prov//modules/x").unwrap();
        assert_eq!(r.host, "app.example.com:8443");
        assert_eq!(r.subdir.as_deref(), Some("modules/x"));
        assert_eq!(
            r.to_string(),
            "app.example.com:8443/ns/name/prov//modules/x"
        );
        // As Terraform 1.0.3 decides (observed): these are not registry
        // addresses and fall through to the getters.
        for s in [
            "foo/bar/baz/qux",
            "localhost/a/b/c",
            "n/m/P",
            "n/m/p-x",
            "n_/m/p",
            "-n/m/p",
            "github.com/a/b/c",
            "bitbucket.org/a/b/c",
            "a.b/n/m/p/q",
        ] {
            assert_eq!(parse_registry_source(s), None, "{s}");
        }
        assert!(parse_registry_source("127.0.0.1:8080/n/m/p").is_some());
    }

    #[test]
    fn git_addresses() {
        let r = remote("git::https://example.com/vpc.git?ref=v1.2.0");
        assert_eq!(r.getter, Getter::Git);
        assert_eq!(r.url, "https://example.com/vpc.git?ref=v1.2.0");
        assert_eq!(r.package, "git::https://example.com/vpc.git?ref=v1.2.0");
        let r = remote("git::file:///tmp/repo.git//sub/dir?ref=feature&depth=1");
        assert_eq!(r.url, "file:///tmp/repo.git?ref=feature&depth=1");
        assert_eq!(r.package, "git::file:///tmp/repo.git?ref=feature&depth=1");
        assert_eq!(r.subdir.as_deref(), Some("sub/dir"));
        let r = remote("github.com/org/repo/modules/x?ref=v1");
        assert_eq!(r.getter, Getter::Git);
        assert_eq!(r.url, "https://github.com/org/repo.git?ref=v1");
        assert_eq!(r.subdir.as_deref(), Some("modules/x"));
        assert_eq!(r.package, "github.com/org/repo/modules/x?ref=v1");
        let r = remote("git@github.com:org/repo.git?ref=v1");
        assert_eq!(r.url, "ssh://git@github.com/org/repo.git?ref=v1");
        let r = remote("git::git@example.com:org/repo.git//m");
        assert_eq!(r.getter, Getter::Git);
        assert_eq!(r.url, "ssh://git@example.com/org/repo.git");
        assert_eq!(r.subdir.as_deref(), Some("m"));
    }

    #[test]
    fn other_getters() {
        assert_eq!(remote("/abs/dir").getter, Getter::File);
        assert_eq!(remote("https://example.com/m.tar.gz").getter, Getter::Http);
        assert_eq!(
            parse_module_source("hg::http://example.com/x"),
            Err(SourceError::Unsupported { getter: "hg" })
        );
        assert_eq!(
            parse_module_source("bucket.s3.amazonaws.com/x.zip"),
            Err(SourceError::Unsupported { getter: "s3" })
        );
        assert_eq!(
            parse_module_source("bogus::http://x"),
            Err(SourceError::UnknownScheme("bogus".into()))
        );
        assert_eq!(
            parse_module_source("ssh://git@example.com/x.git"),
            Err(SourceError::UnknownScheme("ssh".into()))
        );
        assert_eq!(parse_module_source("foo"), Err(SourceError::NotFound));
        assert_eq!(parse_module_source("foo/bar"), Err(SourceError::NotFound));
        assert!(matches!(
            parse_module_source("github.com/org"),
            Err(SourceError::Invalid(_))
        ));
    }
}
