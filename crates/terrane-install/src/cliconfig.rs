//! The CLI configuration file (`TF_CLI_CONFIG_FILE`, else `~/.terraformrc`):
//! `provider_installation`, `plugin_cache_dir` and `host` blocks.
//!
//! The file is parsed with terrane's HCL parser. Terraform reads this file
//! with the older HCL 1 parser, whose one construct the native syntax lacks
//! is a quoted argument name; the only block where that matters is
//! `dev_overrides` (`"hashicorp/null" = "/path"`), which is read by a
//! small dedicated scanner here.

use crate::addr::{ProviderAddr, ProviderPattern};
use crate::sources::filesystem::list_mirror_providers;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use terrane_hcl::ast::{Body, Expr, ExprKind, ObjectItem, TemplatePart};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile};

/// Where an installation method looks for packages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MethodKind {
    /// The origin registry of each provider (the provider registry
    /// protocol).
    Direct,
    /// A local directory in the packed (`HOST/NS/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip`)
    /// or unpacked (`HOST/NS/TYPE/VERSION/OS_ARCH/`) layout.
    FilesystemMirror { path: PathBuf },
    /// A server speaking the provider network mirror protocol; the URL ends
    /// with `/`.
    NetworkMirror { url: String },
}

/// One installation method with its `include`/`exclude` patterns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstallationMethod {
    pub kind: MethodKind,
    /// Empty means every provider.
    pub include: Vec<ProviderPattern>,
    pub exclude: Vec<ProviderPattern>,
}

impl InstallationMethod {
    pub fn new(kind: MethodKind) -> InstallationMethod {
        InstallationMethod {
            kind,
            include: Vec::new(),
            exclude: Vec::new(),
        }
    }

    /// Whether this method may serve `addr`.
    pub fn allows(&self, addr: &ProviderAddr) -> bool {
        (self.include.is_empty() || self.include.iter().any(|p| p.matches(addr)))
            && !self.exclude.iter().any(|p| p.matches(addr))
    }

    /// The methods `-plugin-dir` implies: each directory as a filesystem
    /// mirror, and nothing else (the flag replaces every other method).
    pub fn for_plugin_dirs(dirs: &[PathBuf]) -> Vec<InstallationMethod> {
        dirs.iter()
            .map(|d| InstallationMethod::new(MethodKind::FilesystemMirror { path: d.clone() }))
            .collect()
    }
}

/// The parts of the CLI configuration that installation uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliConfig {
    /// `plugin_cache_dir`, with `$VAR` references expanded; the
    /// `TF_PLUGIN_CACHE_DIR` environment variable overrides it.
    pub plugin_cache_dir: Option<PathBuf>,
    /// The methods of the `provider_installation` block, in order; `None`
    /// when the file has no such block (see [`implied_methods`]).
    pub provider_installation: Option<Vec<InstallationMethod>>,
    /// `dev_overrides`: provider -> directory holding its executable.
    pub dev_overrides: BTreeMap<ProviderAddr, PathBuf>,
    /// `host "NAME" { services = {...} }`: locally declared services.
    pub hosts: HashMap<String, HashMap<String, String>>,
    /// `credentials "HOST" { token = "..." }`.
    pub credentials: HashMap<String, String>,
    /// The file the configuration came from, if any.
    pub source: Option<PathBuf>,
}

/// The environment the CLI configuration depends on, captured once so that
/// tests can supply their own.
#[derive(Clone, Debug, Default)]
pub struct CliEnv {
    pub home: Option<PathBuf>,
    /// `TF_CLI_CONFIG_FILE` (or the older `TERRAFORM_CONFIG`).
    pub config_file: Option<PathBuf>,
    /// `TF_PLUGIN_CACHE_DIR`.
    pub plugin_cache_dir: Option<PathBuf>,
    /// `XDG_DATA_HOME`.
    pub xdg_data_home: Option<PathBuf>,
    /// `XDG_DATA_DIRS`, split.
    pub xdg_data_dirs: Option<Vec<PathBuf>>,
    /// The working directory (`terraform.d/plugins` is relative to it).
    pub working_dir: PathBuf,
}

impl CliEnv {
    /// Reads the process environment; `working_dir` is where `init` runs.
    pub fn from_process(working_dir: &Path) -> CliEnv {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        CliEnv {
            home: var("HOME").map(PathBuf::from),
            // TERRAFORM_CONFIG is the variable's older name, still honoured.
            config_file: var("TF_CLI_CONFIG_FILE")
                .or_else(|| var("TERRAFORM_CONFIG"))
                .map(PathBuf::from),
            plugin_cache_dir: var("TF_PLUGIN_CACHE_DIR").map(PathBuf::from),
            xdg_data_home: var("XDG_DATA_HOME").map(PathBuf::from),
            xdg_data_dirs: var("XDG_DATA_DIRS").map(|v| {
                std::env::split_paths(&v)
                    .filter(|p| !p.as_os_str().is_empty())
                    .collect()
            }),
            working_dir: working_dir.to_path_buf(),
        }
    }

    /// The CLI configuration file to read: `TF_CLI_CONFIG_FILE`, else
    /// `~/.terraformrc`.
    pub fn config_path(&self) -> Option<PathBuf> {
        self.config_file
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".terraformrc")))
    }
}

/// Loads the CLI configuration for `env`. A missing default file is not
/// an error; a missing `TF_CLI_CONFIG_FILE` is reported as a warning as
/// Terraform does, and the configuration is then empty.
pub fn load(env: &CliEnv) -> (CliConfig, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut config = CliConfig::default();
    if let Some(path) = env.config_path() {
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let (c, d) = parse(&path.to_string_lossy(), &text);
                config = c;
                config.source = Some(path.clone());
                diags.extend(d);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && env.config_file.is_none() => {}
            Err(e) => diags.push(Diagnostic::warning(
                "Unable to open CLI configuration file",
                format!(
                    "The CLI configuration file at {:?} does not exist or cannot be read: {e}.",
                    path.display().to_string()
                ),
            )),
        }
    }
    // Unless the file was named explicitly, the `*.tfrc` files of the CLI
    // configuration directory (`~/.terraform.d`) are merged on top, in name
    // order, as Terraform does.
    if env.config_file.is_none() {
        if let Some(home) = &env.home {
            for path in tfrc_files(&home.join(".terraform.d")) {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let (c, d) = parse(&path.to_string_lossy(), &text);
                diags.extend(d);
                config.merge(c, &path, &mut diags);
            }
        }
    }
    if let Some(dir) = &env.plugin_cache_dir {
        config.plugin_cache_dir = Some(dir.clone());
    }
    (config, diags)
}

fn tfrc_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "tfrc"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Parses CLI configuration text; `filename` names it in diagnostics.
pub fn parse(filename: &str, text: &str) -> (CliConfig, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut config = CliConfig::default();
    // Blank out dev_overrides bodies (keeping byte offsets) and read them
    // separately: their quoted argument names are HCL 1 syntax.
    let (masked, overrides) = extract_dev_overrides(text);
    let file = SourceFile::new(filename, masked);
    let parsed = terrane_hcl::parse_file(&file);
    diags.extend(parsed.diagnostics);
    if diags.has_errors() {
        return (config, diags);
    }
    let err = |summary: &str, detail: String, span| {
        Diagnostic::error(summary, detail).with_subject(&file, span)
    };
    for attr in parsed.body.attributes() {
        if attr.name.as_str() == "plugin_cache_dir" {
            match literal_string(&attr.expr) {
                Some(s) => config.plugin_cache_dir = Some(PathBuf::from(expand_env(&s))),
                None => diags.push(err(
                    "Invalid plugin_cache_dir",
                    "The plugin_cache_dir setting must be a string.".to_string(),
                    attr.expr.span,
                )),
            }
        }
        // Other settings (disable_checkpoint, plugin directories of
        // Terraform 0.12, ...) do not concern installation.
    }
    let mut saw_installation = false;
    for block in parsed.body.blocks() {
        match block.ident.as_str() {
            "provider_installation" => {
                if saw_installation {
                    diags.push(err(
                        "Multiple provider_installation blocks",
                        "The CLI configuration may have only one provider_installation block."
                            .to_string(),
                        block.def_span(),
                    ));
                    continue;
                }
                saw_installation = true;
                let methods = parse_installation(&file, &block.body, &mut diags);
                config.provider_installation = Some(methods);
            }
            "host" => {
                let Some(label) = block.labels.first() else {
                    continue;
                };
                let mut services = HashMap::new();
                if let Some(attr) = block.body.attribute("services") {
                    if let ExprKind::Object(items) = &attr.expr.kind {
                        for item in items {
                            if let (Some(k), Some(v)) =
                                (object_key(item), literal_string(&item.value))
                            {
                                services.insert(k, v);
                            }
                        }
                    }
                }
                config
                    .hosts
                    .insert(label.value.to_ascii_lowercase(), services);
            }
            "credentials" => {
                let Some(label) = block.labels.first() else {
                    continue;
                };
                if let Some(token) = block
                    .body
                    .attribute("token")
                    .and_then(|a| literal_string(&a.expr))
                {
                    config
                        .credentials
                        .insert(label.value.to_ascii_lowercase(), token);
                }
            }
            _ => {}
        }
    }
    for (key, value, line) in overrides {
        match ProviderAddr::parse(&key) {
            Ok(addr) => {
                config.dev_overrides.insert(addr, PathBuf::from(value));
            }
            Err(e) => diags.push(Diagnostic::error(
                "Invalid provider installation dev overrides",
                format!("The entry {key:?} on line {line} of {filename} is not a valid provider source address: {e}"),
            )),
        }
    }
    (config, diags)
}

fn parse_installation(
    file: &std::sync::Arc<SourceFile>,
    body: &Body,
    diags: &mut Diagnostics,
) -> Vec<InstallationMethod> {
    let mut methods = Vec::new();
    for attr in body.attributes() {
        diags.push(
            Diagnostic::error(
                "Invalid provider_installation block",
                format!(
                    "The provider_installation block contains only installation method blocks; {:?} is not one.",
                    attr.name.as_str()
                ),
            )
            .with_subject(file, attr.name.span),
        );
    }
    for block in body.blocks() {
        let name = block.ident.as_str();
        let string_attr = |attr_name: &str, diags: &mut Diagnostics| -> Option<String> {
            match block.body.attribute(attr_name) {
                Some(a) => {
                    match literal_string(&a.expr) {
                        Some(s) => Some(s),
                        None => {
                            diags.push(
                            Diagnostic::error(
                                "Invalid provider_installation method block",
                                format!("The {name} block's {attr_name:?} argument must be a string."),
                            )
                            .with_subject(file, a.expr.span),
                        );
                            None
                        }
                    }
                }
                None => {
                    diags.push(
                        Diagnostic::error(
                            "Invalid provider_installation method block",
                            format!("The {name} block requires the argument {attr_name:?}."),
                        )
                        .with_subject(file, block.def_span()),
                    );
                    None
                }
            }
        };
        let kind = match name {
            "direct" => MethodKind::Direct,
            "filesystem_mirror" => match string_attr("path", diags) {
                Some(p) => MethodKind::FilesystemMirror {
                    path: PathBuf::from(p),
                },
                None => continue,
            },
            "network_mirror" => match string_attr("url", diags) {
                Some(u) => {
                    let ok = crate::http::UrlParts::parse(&u)
                        .is_some_and(|p| p.scheme == "https" || p.scheme == "http");
                    if !ok {
                        diags.push(
                            Diagnostic::error(
                                "Invalid provider_installation method block",
                                format!("The network_mirror URL {u:?} is not an https URL."),
                            )
                            .with_subject(file, block.def_span()),
                        );
                        continue;
                    }
                    let url = if u.ends_with('/') { u } else { format!("{u}/") };
                    MethodKind::NetworkMirror { url }
                }
                None => continue,
            },
            "dev_overrides" => continue,
            other => {
                diags.push(
                    Diagnostic::error(
                        "Invalid provider_installation method block",
                        format!("Unknown provider installation method {other:?}."),
                    )
                    .with_subject(file, block.ident.span),
                );
                continue;
            }
        };
        let mut method = InstallationMethod::new(kind);
        for (list_name, target) in [
            ("include", &mut method.include),
            ("exclude", &mut method.exclude),
        ] {
            let Some(attr) = block.body.attribute(list_name) else {
                continue;
            };
            let ExprKind::Tuple(items) = &attr.expr.kind else {
                diags.push(
                    Diagnostic::error(
                        "Invalid provider_installation method block",
                        format!(
                            "The {list_name} argument must be a list of provider address patterns."
                        ),
                    )
                    .with_subject(file, attr.expr.span),
                );
                continue;
            };
            for item in items {
                match literal_string(item).map(|s| ProviderPattern::parse(&s)) {
                    Some(Ok(p)) => target.push(p),
                    Some(Err(e)) => diags.push(
                        Diagnostic::error("Invalid provider_installation method block", e)
                            .with_subject(file, item.span),
                    ),
                    None => diags.push(
                        Diagnostic::error(
                            "Invalid provider_installation method block",
                            format!("Each {list_name} pattern must be a string."),
                        )
                        .with_subject(file, item.span),
                    ),
                }
            }
        }
        methods.push(method);
    }
    methods
}

/// The implied local mirror directories, in Terraform's order for this
/// platform: `terraform.d/plugins` in the working directory,
/// `~/.terraform.d/plugins`, `$XDG_DATA_HOME/terraform/plugins` (default
/// `~/.local/share/terraform/plugins`) and `DIR/terraform/plugins` for each
/// of `$XDG_DATA_DIRS` (default `/usr/local/share:/usr/share`).
pub fn implied_mirror_dirs(env: &CliEnv) -> Vec<PathBuf> {
    let mut dirs = vec![env.working_dir.join("terraform.d").join("plugins")];
    if let Some(home) = &env.home {
        dirs.push(home.join(".terraform.d").join("plugins"));
    }
    let data_home = env
        .xdg_data_home
        .clone()
        .or_else(|| env.home.as_ref().map(|h| h.join(".local").join("share")));
    if let Some(d) = data_home {
        dirs.push(d.join("terraform").join("plugins"));
    }
    let data_dirs = env.xdg_data_dirs.clone().unwrap_or_else(|| {
        vec![
            PathBuf::from("/usr/local/share"),
            PathBuf::from("/usr/share"),
        ]
    });
    for d in data_dirs {
        dirs.push(d.join("terraform").join("plugins"));
    }
    let mut seen = Vec::new();
    dirs.retain(|d| {
        if seen.contains(d) {
            false
        } else {
            seen.push(d.clone());
            true
        }
    });
    dirs
}

/// The methods Terraform uses when there is no `provider_installation`
/// block: a filesystem mirror for each implied directory that exists, then
/// `direct` for every provider not found in any of them.
pub fn implied_methods(env: &CliEnv) -> Vec<InstallationMethod> {
    let mut methods = Vec::new();
    let mut found: Vec<ProviderAddr> = Vec::new();
    for dir in implied_mirror_dirs(env) {
        if !dir.is_dir() {
            continue;
        }
        for addr in list_mirror_providers(&dir) {
            if !found.contains(&addr) {
                found.push(addr);
            }
        }
        methods.push(InstallationMethod::new(MethodKind::FilesystemMirror {
            path: dir,
        }));
    }
    let mut direct = InstallationMethod::new(MethodKind::Direct);
    direct.exclude = found
        .iter()
        .map(|a| ProviderPattern {
            hostname: a.hostname.clone(),
            namespace: a.namespace.clone(),
            type_name: a.type_name.clone(),
        })
        .collect();
    methods.push(direct);
    methods
}

/// The warning `init` prints when `dev_overrides` are set, or `None`.
pub fn dev_overrides_warning(config: &CliConfig) -> Option<Diagnostic> {
    if config.dev_overrides.is_empty() {
        return None;
    }
    let mut detail = String::from(
        "The following provider development overrides are set in the CLI configuration:\n",
    );
    for (addr, dir) in &config.dev_overrides {
        detail.push_str(&format!(" - {} in {}\n", addr.for_display(), dir.display()));
    }
    detail.push_str("\nSkip terraform init when using provider development overrides. It is not necessary and may error unexpectedly.");
    Some(Diagnostic::warning(
        "Provider development overrides are in effect",
        detail,
    ))
}

impl CliConfig {
    /// Merges a later file's settings over these: its `plugin_cache_dir`
    /// wins, hosts, credentials and dev overrides are added (replacing
    /// equal keys), and a second `provider_installation` block is an error.
    pub fn merge(&mut self, other: CliConfig, other_path: &Path, diags: &mut Diagnostics) {
        if other.plugin_cache_dir.is_some() {
            self.plugin_cache_dir = other.plugin_cache_dir;
        }
        if let Some(methods) = other.provider_installation {
            if self.provider_installation.is_some() {
                diags.push(Diagnostic::error(
                    "Multiple provider_installation blocks",
                    format!(
                        "The CLI configuration may have only one provider_installation block; another one is in {}.",
                        other_path.display()
                    ),
                ));
            } else {
                self.provider_installation = Some(methods);
            }
        }
        self.hosts.extend(other.hosts);
        self.credentials.extend(other.credentials);
        self.dev_overrides.extend(other.dev_overrides);
    }

    /// Service discovery as this configuration sets it up: an HTTP client
    /// sending the `credentials` tokens to their hosts, and the services of
    /// `host` blocks used instead of asking those hosts.
    pub fn discovery(&self) -> crate::discovery::Discovery {
        let tokens = self
            .credentials
            .iter()
            .map(|(h, t)| (h.to_ascii_lowercase(), t.clone()))
            .collect();
        let client = crate::http::HttpClient::new().with_credentials(tokens);
        let mut discovery = crate::discovery::Discovery::new(client);
        for (host, services) in &self.hosts {
            discovery.force_host_services(host, services.clone());
        }
        discovery
    }

    /// The installation methods in effect: `-plugin-dir` directories when
    /// given (they replace everything), else the `provider_installation`
    /// block, else the implied methods.
    pub fn installation_methods(
        &self,
        env: &CliEnv,
        plugin_dirs: &[PathBuf],
    ) -> Vec<InstallationMethod> {
        if !plugin_dirs.is_empty() {
            return InstallationMethod::for_plugin_dirs(plugin_dirs);
        }
        match &self.provider_installation {
            Some(methods) => methods.clone(),
            None => implied_methods(env),
        }
    }
}

fn literal_string(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Template { parts, .. } => {
            let mut s = String::new();
            for part in parts {
                match part {
                    TemplatePart::Literal { value, .. } => s.push_str(value),
                    _ => return None,
                }
            }
            Some(s)
        }
        _ => None,
    }
}

fn object_key(item: &ObjectItem) -> Option<String> {
    item.bare_key()
        .map(str::to_string)
        .or_else(|| literal_string(&item.key))
}

/// Expands `$NAME` and `${NAME}` from the environment (unset is empty), as
/// Terraform does for `plugin_cache_dir`.
pub fn expand_env(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let mut name = String::new();
        if chars.peek().map(|(_, c)| *c) == Some('{') {
            chars.next();
            for (_, c) in chars.by_ref() {
                if c == '}' {
                    break;
                }
                name.push(c);
            }
        } else {
            while let Some((_, c)) = chars.peek() {
                if c.is_ascii_alphanumeric() || *c == '_' {
                    name.push(*c);
                    chars.next();
                } else {
                    break;
                }
            }
            if name.is_empty() {
                out.push('$');
                continue;
            }
        }
        out.push_str(&std::env::var(&name).unwrap_or_default());
    }
    out
}

/// Finds `dev_overrides { ... }` blocks, returns the text with their bodies
/// replaced by spaces (newlines kept) and the `(key, value, line)` entries
/// they held.
fn extract_dev_overrides(text: &str) -> (String, Vec<(String, String, usize)>) {
    let bytes = text.as_bytes();
    let mut masked = text.as_bytes().to_vec();
    let mut entries = Vec::new();
    let mut search_from = 0;
    while let Some(rel) = text[search_from..].find("dev_overrides") {
        let start = search_from + rel;
        search_from = start + "dev_overrides".len();
        // Must be a whole word followed by optional `=` and `{`.
        if start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
            continue;
        }
        let mut i = search_from;
        while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t' || bytes[i] == b'=') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'{' {
            continue;
        }
        let open = i;
        // Find the matching close brace, skipping quoted strings.
        let mut depth = 0usize;
        let mut in_string = false;
        let mut close = None;
        let mut j = open;
        while j < bytes.len() {
            let b = bytes[j];
            if in_string {
                if b == b'\\' {
                    j += 1;
                } else if b == b'"' {
                    in_string = false;
                }
            } else if b == b'"' {
                in_string = true;
            } else if b == b'{' {
                depth += 1;
            } else if b == b'}' {
                depth -= 1;
                if depth == 0 {
                    close = Some(j);
                    break;
                }
            }
            j += 1;
        }
        let Some(close) = close else { break };
        let inner = &text[open + 1..close];
        let first_line = text[..open].matches('\n').count() + 1;
        for (n, line) in inner.lines().enumerate() {
            let line_trim = line.trim().trim_end_matches(',');
            if line_trim.is_empty() || line_trim.starts_with('#') || line_trim.starts_with("//") {
                continue;
            }
            if let Some((k, v)) = line_trim.split_once('=') {
                let unquote = |s: &str| s.trim().trim_matches('"').to_string();
                entries.push((unquote(k), unquote(v), first_line + n));
            }
        }
        for b in &mut masked[open + 1..close] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
        search_from = close;
    }
    // Only ASCII bytes were replaced by ASCII spaces inside a valid UTF-8
    // string, except multi-byte characters, whose bytes all became spaces.
    (String::from_utf8_lossy(&masked).into_owned(), entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_installation_blocks() {
        let text = r#"
plugin_cache_dir = "/tmp/cache"
provider_installation {
  filesystem_mirror {
    path    = "/mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  network_mirror {
    url = "https://mirror.example/providers"
    exclude = ["example.com/*/*"]
  }
  dev_overrides {
    "hashicorp/null" = "/home/dev/null"
  }
  direct {
    exclude = ["hashicorp/aws"]
  }
}
"#;
        let (c, d) = parse("rc", text);
        assert!(!d.has_errors(), "{d:?}");
        assert_eq!(c.plugin_cache_dir, Some(PathBuf::from("/tmp/cache")));
        let m = c.provider_installation.clone().unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(
            m[0].kind,
            MethodKind::FilesystemMirror {
                path: "/mirror".into()
            }
        );
        assert_eq!(
            m[1].kind,
            MethodKind::NetworkMirror {
                url: "https://mirror.example/providers/".into()
            }
        );
        assert_eq!(m[2].kind, MethodKind::Direct);
        let aws = ProviderAddr::parse("hashicorp/aws").unwrap();
        let null = ProviderAddr::parse("hashicorp/null").unwrap();
        assert!(!m[2].allows(&aws));
        assert!(m[2].allows(&null));
        assert_eq!(
            c.dev_overrides.get(&null),
            Some(&PathBuf::from("/home/dev/null"))
        );
        let warning = dev_overrides_warning(&c).unwrap();
        assert_eq!(
            warning.summary,
            "Provider development overrides are in effect"
        );
        assert_eq!(
            warning.detail,
            "The following provider development overrides are set in the CLI configuration:\n - hashicorp/null in /home/dev/null\n\nSkip terraform init when using provider development overrides. It is not necessary and may error unexpectedly."
        );
    }

    #[test]
    fn tfrc_files_of_the_config_directory_merge_unless_a_file_is_named() {
        let home = std::env::temp_dir().join(format!("terrane-cliconfig-{}", std::process::id()));
        let dir = home.join(".terraform.d");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(home.join(".terraformrc"), "plugin_cache_dir = \"/a\"\n").unwrap();
        std::fs::write(dir.join("b.tfrc"), "plugin_cache_dir = \"/b\"\n").unwrap();
        std::fs::write(
            dir.join("c.tfrc"),
            "credentials \"app.example.com\" {\n  token = \"t\"\n}\n",
        )
        .unwrap();
        let env = CliEnv {
            home: Some(home.clone()),
            ..CliEnv::default()
        };
        let (c, d) = load(&env);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.plugin_cache_dir, Some(PathBuf::from("/b")));
        assert_eq!(
            c.credentials.get("app.example.com").map(String::as_str),
            Some("t")
        );
        let named = CliEnv {
            config_file: Some(home.join(".terraformrc")),
            ..env
        };
        let (c, _) = load(&named);
        assert_eq!(c.plugin_cache_dir, Some(PathBuf::from("/a")));
        assert!(c.credentials.is_empty());
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn errors_name_the_file_and_place() {
        let (_, d) = parse(
            "rc",
            "provider_installation {\n  network_mirror {}\n  carrier_pigeon {}\n}\n",
        );
        let summaries: Vec<_> = d.iter().map(|d| d.summary.as_str()).collect();
        assert_eq!(
            summaries,
            [
                "Invalid provider_installation method block",
                "Invalid provider_installation method block"
            ]
        );
        assert!(d.iter().all(|d| d.subject.is_some()));
    }
}
