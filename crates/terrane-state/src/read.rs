//! Reading state files: format version 4, and versions 2 and 3 upgraded to
//! 4 as Terraform does. Errors carry Terraform 1.0.3's summaries and
//! details (recorded in `tests/fixtures/errors`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use crate::base64;
use crate::json::{self, Kind, Node, RawJson};
use crate::model::{
    is_valid_deposed_key, new_deposed_key, EachMode, IndexKey, Instance, Mode, OutputValue,
    Resource, State, StateFile, Status,
};

/// One problem found in a state file, as Terraform's diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Short summary, e.g. `Unsupported state file format`.
    pub summary: String,
    /// Full explanation.
    pub detail: String,
}

/// A state file that could not be read. Displays as Terraform does after
/// its "Failed to refresh state: " (or "Failed to load state: ") prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// At least one problem.
    pub diagnostics: Vec<Diagnostic>,
}

impl ReadError {
    fn one(summary: &str, detail: String) -> ReadError {
        ReadError {
            diagnostics: vec![Diagnostic {
                summary: summary.to_string(),
                detail,
            }],
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.diagnostics.as_slice() {
            [d] => write!(f, "{}: {}", d.summary, d.detail),
            ds => {
                writeln!(f, "{} problems:", ds.len())?;
                for d in ds {
                    write!(f, "\n- {}: {}", d.summary, d.detail)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ReadError {}

/// How to read: the version terrane reports compatibility with.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Used in messages ("not supported by Terraform 1.0.3").
    pub terraform_version: String,
    /// Refuse states written by a newer Terraform than `terraform_version`.
    /// Terraform 1.0.3 itself does not (it reads any 1.x or later state of
    /// format 4, as verified), so the default is `false`.
    pub refuse_newer: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            terraform_version: crate::COMPATIBLE_TERRAFORM_VERSION.to_string(),
            refuse_newer: false,
        }
    }
}

const UNSUPPORTED: &str = "Unsupported state file format";
const INVALID_FORMAT: &str = "Invalid state file format";
const INVALID_META: &str = "Invalid resource instance metadata in state";

/// Reads a state file. An empty file is no state (`Ok(None)`), as for
/// Terraform.
pub fn read(src: &[u8], opts: &ReadOptions) -> Result<Option<StateFile>, ReadError> {
    if src.is_empty() {
        return Ok(None);
    }
    let root = match json::parse(src) {
        Ok(root) => root,
        Err(e) => {
            return Err(ReadError {
                diagnostics: vec![
                    Diagnostic {
                        summary: UNSUPPORTED.into(),
                        detail: format!("The state file could not be parsed as JSON: {e}."),
                    },
                    missing_version(),
                ],
            })
        }
    };
    let tf_version = match root.member("terraform_version").map(|n| &n.kind) {
        Some(Kind::String(s)) => s.clone(),
        _ => String::new(),
    };
    let version = match root.member("version") {
        None => {
            return Err(ReadError {
                diagnostics: vec![missing_version()],
            })
        }
        Some(n) => match &n.kind {
            Kind::Null => {
                return Err(ReadError {
                    diagnostics: vec![missing_version()],
                })
            }
            Kind::Number(t) => match t.parse::<u64>() {
                Ok(v) => v,
                Err(_) => return Err(version_type(n)),
            },
            _ => return Err(version_type(n)),
        },
    };
    if !matches!(root.kind, Kind::Object(_)) {
        return Err(ReadError {
            diagnostics: vec![missing_version()],
        });
    }
    let file = match version {
        0 => {
            return Err(ReadError::one(
                UNSUPPORTED,
                "The state file uses JSON syntax but has a version number of zero. There was never a JSON-based state format zero, so this state file is invalid and cannot be processed.".into(),
            ))
        }
        1 => {
            return Err(ReadError::one(
                UNSUPPORTED,
                "The state file uses format version 1, which terrane cannot upgrade. Upgrade it with Terraform 0.11 or earlier first.".into(),
            ))
        }
        2 | 3 => {
            check_tf_version(&tf_version, opts)?;
            upgrade_v3(src, &root)?
        }
        4 => {
            check_tf_version(&tf_version, opts)?;
            decode_v4(src, &root)?
        }
        v => {
            let created = if tf_version.is_empty() {
                "This state file may have been created by a newer version of Terraform.".to_string()
            } else {
                format!("This state file was created by Terraform {tf_version}.")
            };
            return Err(ReadError::one(
                UNSUPPORTED,
                format!(
                    "The state file uses format version {v}, which is not supported by Terraform {}. {created}",
                    opts.terraform_version
                ),
            ));
        }
    };
    Ok(Some(file))
}

fn missing_version() -> Diagnostic {
    Diagnostic {
        summary: UNSUPPORTED.into(),
        detail: "The state file does not have a \"version\" attribute, which is required to identify the format version.".into(),
    }
}

fn version_type(n: &Node) -> ReadError {
    ReadError::one(
        UNSUPPORTED,
        format!(
            "The version in the state file is {}. A positive whole number is required.",
            n.type_name(true)
        ),
    )
}

/// A version `major.minor.patch` with optional `v`, pre-release and build
/// metadata, as hashicorp/go-version accepts (simplified).
fn parse_version(s: &str) -> Option<Vec<u64>> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let end = s.find(['-', '+']).unwrap_or(s.len());
    let (core, rest) = s.split_at(end);
    let parts: Option<Vec<u64>> = core.split('.').map(|p| p.parse::<u64>().ok()).collect();
    let parts = parts?;
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let ok_ident = |t: &str| {
        !t.is_empty()
            && t.split('.').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'~')
            })
    };
    let (pre, meta) = match rest.find('+') {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    if let Some(p) = pre.strip_prefix('-') {
        if !ok_ident(p) {
            return None;
        }
    } else if !pre.is_empty() {
        return None;
    }
    if let Some(m) = meta {
        if !ok_ident(m) {
            return None;
        }
    }
    Some(parts)
}

fn check_tf_version(v: &str, opts: &ReadOptions) -> Result<(), ReadError> {
    if v.is_empty() {
        return Ok(());
    }
    let Some(state_v) = parse_version(v) else {
        return Err(ReadError::one(
            "Invalid Terraform version string",
            format!("State file claims to have been written by Terraform version {}, which is not a valid version string.", json::quote(v)),
        ));
    };
    if opts.refuse_newer {
        if let Some(ours) = parse_version(&opts.terraform_version) {
            let pad = |mut p: Vec<u64>| {
                p.resize(3, 0);
                p
            };
            if pad(state_v) > pad(ours) {
                let v = v.strip_prefix('v').unwrap_or(v);
                return Err(ReadError::one(
                    UNSUPPORTED,
                    format!(
                        "state snapshot was created by Terraform v{v}, which is newer than current v{}; upgrade to Terraform v{v} or greater to work with this state",
                        opts.terraform_version
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Decoding into typed fields with Go `encoding/json` semantics: `null`
/// leaves the zero value, the first type mismatch is reported with its
/// dotted field path.
struct Dec<'a> {
    src: &'a [u8],
    type_error: Option<String>,
    fatal: Option<String>,
}

impl<'a> Dec<'a> {
    fn mismatch(&mut self, path: &str, n: &Node) {
        self.mismatch_as(path, n, false);
    }

    fn mismatch_as(&mut self, path: &str, n: &Node, into_integer: bool) {
        if self.type_error.is_none() {
            self.type_error = Some(format!(
                "The state file field {} has invalid value {}",
                json::quote(path),
                n.type_name(into_integer)
            ));
        }
    }

    fn string(&mut self, parent: &Node, field: &str, path: &str) -> String {
        match parent.member(field) {
            Some(Node {
                kind: Kind::String(s),
                ..
            }) => s.clone(),
            Some(Node {
                kind: Kind::Null, ..
            }) => String::new(),
            Some(n) => {
                self.mismatch(path, n);
                String::new()
            }
            None => String::new(),
        }
    }

    fn u64(&mut self, parent: &Node, field: &str, path: &str) -> u64 {
        match parent.member(field) {
            Some(
                n @ Node {
                    kind: Kind::Number(t),
                    ..
                },
            ) => match t.parse::<u64>() {
                Ok(v) => v,
                Err(_) => {
                    self.mismatch_as(path, n, true);
                    0
                }
            },
            Some(Node {
                kind: Kind::Null, ..
            })
            | None => 0,
            Some(n) => {
                self.mismatch(path, n);
                0
            }
        }
    }

    fn bool(&mut self, parent: &Node, field: &str, path: &str) -> bool {
        match parent.member(field) {
            Some(Node {
                kind: Kind::Bool(b),
                ..
            }) => *b,
            Some(Node {
                kind: Kind::Null, ..
            })
            | None => false,
            Some(n) => {
                self.mismatch(path, n);
                false
            }
        }
    }

    fn raw(&self, parent: &Node, field: &str) -> Option<RawJson> {
        parent
            .member(field)
            .map(|n| RawJson::from_source(self.src, n))
    }

    /// A JSON array field: its items (empty for null or absent).
    fn array<'n>(&mut self, parent: &'n Node, field: &str, path: &str) -> &'n [Node] {
        match parent.member(field) {
            Some(Node {
                kind: Kind::Array(items),
                ..
            }) => items,
            Some(Node {
                kind: Kind::Null, ..
            })
            | None => &[],
            Some(n) => {
                self.mismatch(path, n);
                &[]
            }
        }
    }

    /// A JSON object field: its members (`None` for null or absent).
    fn object<'n>(
        &mut self,
        parent: &'n Node,
        field: &str,
        path: &str,
    ) -> Option<&'n [(String, Node)]> {
        match parent.member(field) {
            Some(Node {
                kind: Kind::Object(m),
                ..
            }) => Some(m),
            Some(Node {
                kind: Kind::Null, ..
            })
            | None => None,
            Some(n) => {
                self.mismatch(path, n);
                None
            }
        }
    }

    fn string_item(&mut self, n: &Node, path: &str) -> String {
        match &n.kind {
            Kind::String(s) => s.clone(),
            Kind::Null => String::new(),
            _ => {
                self.mismatch(path, n);
                String::new()
            }
        }
    }
}

/// A resource instance as decoded, before validation.
struct RawInstance {
    index_key: Option<Node>,
    status: String,
    deposed: String,
    inst: Instance,
}

fn decode_v4(src: &[u8], root: &Node) -> Result<StateFile, ReadError> {
    let mut d = Dec {
        src,
        type_error: None,
        fatal: None,
    };
    let terraform_version = d.string(root, "terraform_version", "terraform_version");
    let serial = d.u64(root, "serial", "serial");
    let lineage = d.string(root, "lineage", "lineage");

    let mut raw_outputs: Vec<(String, OutputValue)> = Vec::new();
    if let Some(members) = d.object(root, "outputs", "outputs") {
        for (name, o) in members {
            match &o.kind {
                Kind::Object(_) => {}
                Kind::Null => {}
                _ => {
                    d.mismatch("outputs", o);
                    continue;
                }
            }
            let value = d.raw(o, "value").unwrap_or_else(RawJson::null);
            let ty = d.raw(o, "type").unwrap_or_else(RawJson::null);
            let sensitive = d.bool(o, "sensitive", "outputs.sensitive");
            // Later duplicates replace earlier ones, as in a Go map.
            raw_outputs.retain(|(n, _)| n != name);
            raw_outputs.push((
                name.clone(),
                OutputValue {
                    value,
                    ty,
                    sensitive,
                },
            ));
        }
    }

    let mut raw_resources = Vec::new();
    for r in d.array(root, "resources", "resources") {
        match &r.kind {
            Kind::Object(_) | Kind::Null => {}
            _ => {
                d.mismatch("resources", r);
                continue;
            }
        }
        let module = d.string(r, "module", "resources.module");
        let mode = d.string(r, "mode", "resources.mode");
        let type_ = d.string(r, "type", "resources.type");
        let name = d.string(r, "name", "resources.name");
        let each = d.string(r, "each", "resources.each");
        let provider = d.string(r, "provider", "resources.provider");
        let mut instances = Vec::new();
        for i in d.array(r, "instances", "resources.instances") {
            match &i.kind {
                Kind::Object(_) | Kind::Null => {}
                _ => {
                    d.mismatch("resources.instances", i);
                    continue;
                }
            }
            let p = |f: &str| format!("resources.instances.{f}");
            let index_key = i
                .member("index_key")
                .filter(|n| !matches!(n.kind, Kind::Null))
                .cloned();
            let status = d.string(i, "status", &p("status"));
            let deposed = d.string(i, "deposed", &p("deposed"));
            let schema_version = d.u64(i, "schema_version", &p("schema_version"));
            let attributes = d.raw(i, "attributes");
            let attributes_flat = d
                .object(i, "attributes_flat", &p("attributes_flat"))
                .map(|m| {
                    let mut flat = BTreeMap::new();
                    for (k, v) in m {
                        let v = d.string_item(v, &p("attributes_flat"));
                        flat.insert(k.clone(), v);
                    }
                    flat
                })
                .filter(|f| !f.is_empty());
            // `[]` and `null` are both written `[]`: keep them as `None`.
            let sensitive_attributes = d
                .raw(i, "sensitive_attributes")
                .filter(|r| !r.is_null() && r.as_str() != "[]");
            let private = match i.member("private") {
                Some(Node {
                    kind: Kind::String(s),
                    ..
                }) => match base64::decode(s) {
                    Ok(b) if b.is_empty() => None,
                    Ok(b) => Some(b),
                    Err(at) => {
                        if d.fatal.is_none() {
                            d.fatal = Some(format!("illegal base64 data at input byte {at}"));
                        }
                        None
                    }
                },
                Some(Node {
                    kind: Kind::Null, ..
                })
                | None => None,
                Some(n) => {
                    d.mismatch(&p("private"), n);
                    None
                }
            };
            let deps: Vec<String> = d
                .array(i, "dependencies", &p("dependencies"))
                .iter()
                .map(|n| d.string_item(n, &p("dependencies")))
                .collect();
            let create_before_destroy =
                d.bool(i, "create_before_destroy", &p("create_before_destroy"));
            instances.push(RawInstance {
                index_key,
                status,
                deposed,
                inst: Instance {
                    index_key: None,
                    status: Status::Ready,
                    deposed: None,
                    schema_version,
                    attributes,
                    attributes_flat,
                    sensitive_attributes,
                    private,
                    dependencies: deps,
                    create_before_destroy,
                },
            });
        }
        raw_resources.push((module, mode, type_, name, each, provider, instances));
    }
    let check_results = d.raw(root, "check_results");

    if let Some(msg) = d.fatal {
        return Err(ReadError::one(
            INVALID_FORMAT,
            format!("The state file does not conform to the expected JSON data structure: {msg}."),
        ));
    }
    if let Some(msg) = d.type_error {
        return Err(ReadError::one(INVALID_FORMAT, msg));
    }

    // Validation, collecting every problem.
    let mut diags = Vec::new();
    let mut resources: Vec<Resource> = Vec::new();
    let mut resource_index: HashMap<(String, Mode, String, String), usize> = HashMap::new();
    // Per resource: the (key, deposed) objects already seen.
    let mut seen: Vec<HashSet<(Option<IndexKey>, Option<String>)>> = Vec::new();
    for (module, mode, type_, name, each, provider, instances) in raw_resources {
        if !module.is_empty() {
            if let Err(detail) = check_module_address(&module) {
                diags.push(Diagnostic {
                    summary: "Invalid module instance address".into(),
                    detail,
                });
                continue;
            }
        }
        let mode = match mode.as_str() {
            "managed" => Mode::Managed,
            "data" => Mode::Data,
            other => {
                diags.push(Diagnostic {
                    summary: "Invalid resource mode in state".into(),
                    detail: format!(
                        "State contains a resource with mode {} ({} {}) which is not supported.",
                        json::quote(other),
                        json::quote(&type_),
                        json::quote(&name)
                    ),
                });
                continue;
            }
        };
        let each = match each.as_str() {
            "list" => Some(EachMode::List),
            "map" => Some(EachMode::Map),
            _ => None,
        };
        // Resources listed twice are merged, as Terraform's state does.
        let rkey = (module.clone(), mode, type_.clone(), name.clone());
        let idx = match resource_index.get(&rkey) {
            Some(&i) => i,
            None => {
                resource_index.insert(rkey, resources.len());
                seen.push(HashSet::new());
                resources.push(Resource {
                    module,
                    mode,
                    type_,
                    name,
                    each,
                    provider,
                    instances: Vec::new(),
                });
                resources.len() - 1
            }
        };
        for raw in instances {
            let res = &resources[idx];
            let key = match &raw.index_key {
                None => None,
                Some(n) => match &n.kind {
                    Kind::String(s) => Some(IndexKey::String(s.clone())),
                    Kind::Number(t) => match t.parse::<i64>() {
                        Ok(i) => Some(IndexKey::Int(i)),
                        Err(_) => {
                            diags.push(bad_key(res, n, src));
                            continue;
                        }
                    },
                    _ => {
                        diags.push(bad_key(res, n, src));
                        continue;
                    }
                },
            };
            let addr = res.instance_address(key.as_ref());
            let status = match raw.status.as_str() {
                "" => Status::Ready,
                "tainted" => Status::Tainted,
                other => {
                    diags.push(Diagnostic {
                        summary: INVALID_META.into(),
                        detail: format!(
                            "Instance {addr} has invalid status {}.",
                            json::quote(other)
                        ),
                    });
                    continue;
                }
            };
            let deposed = if raw.deposed.is_empty() {
                None
            } else if is_valid_deposed_key(&raw.deposed) {
                Some(raw.deposed)
            } else {
                diags.push(Diagnostic {
                    summary: INVALID_META.into(),
                    detail: format!(
                        "Instance {addr} has an object with deposed key {}, which is not correctly formatted.",
                        json::quote(&raw.deposed)
                    ),
                });
                continue;
            };
            let mut dep_err = false;
            for dep in &raw.inst.dependencies {
                if let Err(detail) = check_dependency(dep) {
                    diags.push(Diagnostic {
                        summary: "Invalid address".into(),
                        detail,
                    });
                    dep_err = true;
                }
            }
            if dep_err {
                continue;
            }
            if !seen[idx].insert((key.clone(), deposed.clone())) {
                let detail = match &deposed {
                    None => format!("Instance {addr} appears multiple times in the state file."),
                    Some(dk) => format!(
                        "Instance {addr} deposed object {} appears multiple times in the state file.",
                        json::quote(dk)
                    ),
                };
                diags.push(Diagnostic {
                    summary: "Duplicate resource instance in state".into(),
                    detail,
                });
                continue;
            }
            let inst = Instance {
                index_key: key,
                status,
                deposed,
                ..raw.inst
            };
            resources[idx].instances.push(inst);
        }
    }
    let mut outputs = BTreeMap::new();
    for (name, o) in raw_outputs {
        if let Err(e) = crate::ctytype::check(o.ty.as_str()) {
            diags.push(Diagnostic {
                summary: "Invalid output value type in state".into(),
                detail: format!(
                    "The state file has an invalid type specification for output {}: {e}.",
                    json::quote(&name)
                ),
            });
            continue;
        }
        outputs.insert(name, o);
    }
    if !diags.is_empty() {
        return Err(ReadError { diagnostics: diags });
    }
    Ok(StateFile {
        terraform_version,
        serial,
        lineage,
        state: State {
            outputs,
            resources,
            check_results,
        },
    })
}

fn bad_key(res: &Resource, n: &Node, src: &[u8]) -> Diagnostic {
    let shown = match &n.kind {
        Kind::Number(t) => t.clone(),
        Kind::Bool(b) => b.to_string(),
        _ => RawJson::from_source(src, n).to_string(),
    };
    Diagnostic {
        summary: INVALID_META.into(),
        detail: format!(
            "Resource {} has an instance with the invalid instance key {shown}.",
            res.address()
        ),
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Splits an address into dot-separated steps, keeping `[...]` keys (which
/// may contain dots in quoted strings) attached to their step.
fn split_steps(s: &str) -> Option<Vec<&str>> {
    let mut steps = Vec::new();
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    let mut in_key = false;
    let mut in_str = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_str {
            if b == b'\\' {
                i += 1;
            } else if b == b'"' {
                in_str = false;
            }
        } else if in_key {
            match b {
                b'"' => in_str = true,
                b']' => in_key = false,
                _ => {}
            }
        } else if b == b'[' {
            in_key = true;
        } else if b == b'.' {
            steps.push(&s[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    if in_key || in_str {
        return None;
    }
    steps.push(&s[start..]);
    Some(steps)
}

/// Splits `name[key]` into the name and whether a valid key followed.
fn step_key(step: &str) -> Result<(&str, bool), ()> {
    match step.find('[') {
        None => Ok((step, false)),
        Some(i) => {
            let key = step[i..]
                .strip_prefix('[')
                .and_then(|k| k.strip_suffix(']'))
                .ok_or(())?;
            let valid = key.parse::<i64>().is_ok()
                || (key.len() >= 2
                    && key.starts_with('"')
                    && key.ends_with('"')
                    && json::parse(key.as_bytes()).is_ok());
            if valid {
                Ok((&step[..i], true))
            } else {
                Err(())
            }
        }
    }
}

fn check_module_address(s: &str) -> Result<(), String> {
    let steps =
        split_steps(s).ok_or_else(|| "Invalid module instance address syntax.".to_string())?;
    let mut i = 0;
    while i < steps.len() {
        if steps[i] != "module" {
            return Err("A module instance address must begin with \"module.\".".into());
        }
        let Some(step) = steps.get(i + 1) else {
            return Err("Prefix \"module.\" must be followed by a module name.".into());
        };
        match step_key(step) {
            Ok((name, _)) if is_ident(name) => {}
            _ => return Err("Invalid module instance address syntax.".into()),
        }
        i += 2;
    }
    Ok(())
}

/// Dependencies are resource addresses (no instance keys on the resource).
fn check_dependency(s: &str) -> Result<(), String> {
    let invalid = || "Invalid resource address syntax.".to_string();
    let steps = split_steps(s).ok_or_else(invalid)?;
    let mut i = 0;
    while i + 1 < steps.len() && steps[i] == "module" {
        let (name, _) = step_key(steps[i + 1]).map_err(|_| invalid())?;
        if !is_ident(name) {
            return Err(invalid());
        }
        i += 2;
    }
    let rest = &steps[i..];
    let rest = match rest.first() {
        Some(&"data") => &rest[1..],
        _ => rest,
    };
    match rest {
        [ty, name] if is_ident(ty) => {
            let (n, keyed) = step_key(name).map_err(|_| invalid())?;
            if !is_ident(n) {
                return Err(invalid());
            }
            if keyed {
                return Err("A resource address is required. This instance key identifies a specific resource instance, which is not expected here.".into());
            }
            Ok(())
        }
        _ => Err(invalid()),
    }
}

/// Upgrades a format 2 or 3 state (Terraform 0.11 and earlier) to the
/// version 4 model, as Terraform does: flatmap attributes are kept in
/// `attributes_flat`, providers become legacy `registry.terraform.io/-/NAME`
/// addresses, `depends_on` is dropped, outputs of the root module are kept
/// with their implied types.
fn upgrade_v3(src: &[u8], root: &Node) -> Result<StateFile, ReadError> {
    let mut d = Dec {
        src,
        type_error: None,
        fatal: None,
    };
    let terraform_version = d.string(root, "terraform_version", "terraform_version");
    let serial = d.u64(root, "serial", "serial");
    let lineage = d.string(root, "lineage", "lineage");
    let mut state = State::default();
    let mut diags = Vec::new();
    let mut resource_index: HashMap<(String, Mode, String, String), usize> = HashMap::new();
    for m in d.array(root, "modules", "modules") {
        let path: Vec<String> = d
            .array(m, "path", "modules.path")
            .iter()
            .map(|n| d.string_item(n, "modules.path"))
            .collect();
        let module = path
            .iter()
            .skip(1)
            .map(|p| format!("module.{p}"))
            .collect::<Vec<_>>()
            .join(".");
        if path.len() <= 1 {
            if let Some(outs) = d.object(m, "outputs", "modules.outputs") {
                for (name, o) in outs {
                    let Some(v) = o.member("value") else { continue };
                    let value = RawJson::from_source(src, v);
                    let ty = RawJson::from_trusted(implied_type(v));
                    let sensitive = d.bool(o, "sensitive", "modules.outputs.sensitive");
                    state.outputs.insert(
                        name.clone(),
                        OutputValue {
                            value,
                            ty,
                            sensitive,
                        },
                    );
                }
            }
        }
        let Some(resources) = d.object(m, "resources", "modules.resources") else {
            continue;
        };
        for (key, r) in resources {
            let parts: Vec<&str> = key.split('.').collect();
            let (mode, parts) = match parts.first() {
                Some(&"data") => (Mode::Data, &parts[1..]),
                _ => (Mode::Managed, &parts[..]),
            };
            let (type_, name, index) = match parts {
                [t, n] => (*t, *n, None),
                [t, n, i] => match i.parse::<i64>() {
                    Ok(i) => (*t, *n, Some(IndexKey::Int(i))),
                    Err(_) => {
                        diags.push(Diagnostic {
                            summary: "Invalid legacy resource address".into(),
                            detail: format!(
                                "The state contains a resource with the invalid address {}.",
                                json::quote(key)
                            ),
                        });
                        continue;
                    }
                },
                _ => {
                    diags.push(Diagnostic {
                        summary: "Invalid legacy resource address".into(),
                        detail: format!(
                            "The state contains a resource with the invalid address {}.",
                            json::quote(key)
                        ),
                    });
                    continue;
                }
            };
            let provider = legacy_provider(
                &d.string(r, "provider", "modules.resources.provider"),
                type_,
            );
            let mut objects = Vec::new();
            if let Some(p) = r
                .member("primary")
                .filter(|p| matches!(p.kind, Kind::Object(_)))
            {
                objects.push((p, None));
            }
            for dep in d.array(r, "deposed", "modules.resources.deposed") {
                objects.push((dep, Some(new_deposed_key())));
            }
            let rkey = (module.clone(), mode, type_.to_string(), name.to_string());
            let idx = match resource_index.get(&rkey) {
                Some(&i) => i,
                None => {
                    resource_index.insert(rkey, state.resources.len());
                    state.resources.push(Resource {
                        module: module.clone(),
                        mode,
                        type_: type_.to_string(),
                        name: name.to_string(),
                        each: None,
                        provider: provider.clone(),
                        instances: Vec::new(),
                    });
                    state.resources.len() - 1
                }
            };
            for (obj, deposed) in objects {
                let mut flat = BTreeMap::new();
                if let Some(attrs) =
                    d.object(obj, "attributes", "modules.resources.primary.attributes")
                {
                    for (k, v) in attrs {
                        let v = d.string_item(v, "modules.resources.primary.attributes");
                        flat.insert(k.clone(), v);
                    }
                }
                let schema_version =
                    match obj.member("meta").and_then(|m| m.member("schema_version")) {
                        Some(Node {
                            kind: Kind::String(s),
                            ..
                        }) => s.parse::<u64>().unwrap_or(0),
                        Some(Node {
                            kind: Kind::Number(t),
                            ..
                        }) => t.parse::<u64>().unwrap_or(0),
                        _ => 0,
                    };
                let tainted = d.bool(obj, "tainted", "modules.resources.primary.tainted");
                state.resources[idx].instances.push(Instance {
                    index_key: index.clone(),
                    status: if tainted {
                        Status::Tainted
                    } else {
                        Status::Ready
                    },
                    deposed,
                    schema_version,
                    attributes: None,
                    attributes_flat: Some(flat),
                    ..Instance::default()
                });
            }
        }
    }
    if let Some(msg) = d.type_error {
        return Err(ReadError::one(INVALID_FORMAT, msg));
    }
    if !diags.is_empty() {
        return Err(ReadError { diagnostics: diags });
    }
    Ok(StateFile {
        terraform_version,
        serial,
        lineage,
        state,
    })
}

/// `provider.null` / `provider.null.alias` / `module.m.provider.null` (or
/// empty: from the type name) to a legacy v4 provider config address.
fn legacy_provider(s: &str, type_: &str) -> String {
    let (module, rest) = match s.find("provider.") {
        Some(i) => (&s[..i], &s[i + "provider.".len()..]),
        None => ("", ""),
    };
    let (name, alias) = match rest.split_once('.') {
        Some((n, a)) => (n, Some(a)),
        None => (rest, None),
    };
    let name = if name.is_empty() {
        type_.split('_').next().unwrap_or(type_)
    } else {
        name
    };
    let mut out = format!("{module}provider[\"registry.terraform.io/-/{name}\"]");
    if let Some(a) = alias {
        out.push('.');
        out.push_str(a);
    }
    out
}

/// cty's implied type of a JSON value, as type JSON.
fn implied_type(n: &Node) -> String {
    match &n.kind {
        Kind::Null => "\"dynamic\"".into(),
        Kind::Bool(_) => "\"bool\"".into(),
        Kind::Number(_) => "\"number\"".into(),
        Kind::String(_) => "\"string\"".into(),
        Kind::Array(items) => {
            let inner: Vec<String> = items.iter().map(implied_type).collect();
            format!("[\"tuple\",[{}]]", inner.join(","))
        }
        Kind::Object(members) => {
            let mut sorted: BTreeMap<&str, String> = BTreeMap::new();
            for (k, v) in members {
                sorted.insert(k, implied_type(v));
            }
            let inner: Vec<String> = sorted
                .iter()
                .map(|(k, v)| format!("{}:{v}", json::quote(k)))
                .collect();
            format!("[\"object\",{{{}}}]", inner.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(parse_version("1.0.3").is_some());
        assert!(parse_version("v0.12.0-beta1").is_some());
        assert!(parse_version("1.2.3+meta.1").is_some());
        assert!(parse_version("banana").is_none());
        assert!(parse_version("").is_none());
        assert!(parse_version("1..2").is_none());
    }

    #[test]
    fn addresses() {
        assert!(check_module_address("module.a").is_ok());
        assert!(check_module_address("module.a[\"x.y\"].module.b[2]").is_ok());
        assert!(check_module_address("mod.x").is_err());
        assert!(check_module_address("module.").is_err());
        assert!(check_dependency("null_resource.a").is_ok());
        assert!(check_dependency("module.x[1].data.t.n").is_ok());
        assert!(check_dependency("null_resource.a[1]").is_err());
        assert!(check_dependency("a").is_err());
    }

    #[test]
    fn newer_versions_can_be_refused() {
        let src = br#"{"version":4,"terraform_version":"1.1.0","serial":1,"lineage":"l"}"#;
        let mut opts = ReadOptions::default();
        assert!(read(src, &opts).is_ok());
        opts.refuse_newer = true;
        let err = read(src, &opts)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("newer than current v1.0.3"), "{err}");
        let old = br#"{"version":4,"terraform_version":"0.15.5","serial":1,"lineage":"l"}"#;
        assert!(read(old, &opts).is_ok());
    }
}
