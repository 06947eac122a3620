//! The backend configuration: decoding `backend "TYPE" { ... }` and
//! `-backend-config` against a type's schema, and the record `init` keeps
//! of the active backend in `.terraform/terraform.tfstate` (Terraform
//! 1.0.3's format: a version 3 state with a `backend` object holding the
//! type, every schema argument, null when unset, and the hash of the
//! configuration block).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use terrane_hcl::{Diagnostic, Diagnostics, SourceFile};
use terrane_state::{BackendConfig, BackendType, ConfigType};
use terrane_value::{Type, Value};

/// The active backend as `.terraform/terraform.tfstate` records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// The backend type.
    pub kind: String,
    /// Every schema argument (null when unset), merged with
    /// `-backend-config`.
    pub config: BackendConfig,
    /// The hash of the configuration block alone (without
    /// `-backend-config`), compared to tell a changed block.
    pub hash: u64,
}

/// `.terraform/terraform.tfstate`.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendStateFile {
    /// Grows by one each time the record changes.
    pub serial: u64,
    /// Kept across changes.
    pub lineage: String,
    /// The backend, if one is configured.
    pub backend: Option<Recorded>,
}

/// The file's path (`TF_DATA_DIR`/terraform.tfstate).
pub fn record_path() -> PathBuf {
    crate::commands::statefile::data_dir().join("terraform.tfstate")
}

/// Reads the record; `Ok(None)` when there is none.
pub fn read_record(path: &Path) -> Result<Option<BackendStateFile>, String> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{}: invalid backend state: {e}", path.display()))?;
    let serial = v.get("serial").and_then(|s| s.as_u64()).unwrap_or(0);
    let lineage = v
        .get("lineage")
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_string();
    let backend = match v.get("backend") {
        Some(b) if b.is_object() => {
            let kind = b
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or_default()
                .to_string();
            let config = b
                .get("config")
                .and_then(|c| c.as_object())
                .cloned()
                .unwrap_or_default();
            let hash = b.get("hash").and_then(|h| h.as_u64()).unwrap_or(0);
            (!kind.is_empty()).then_some(Recorded { kind, config, hash })
        }
        _ => None,
    };
    Ok(Some(BackendStateFile {
        serial,
        lineage,
        backend,
    }))
}

/// Writes the record as Terraform does (four-space indentation, Go's
/// escaping of `<`, `>` and `&`, a final newline).
pub fn write_record(path: &Path, file: &BackendStateFile) -> std::io::Result<()> {
    use serde::Serialize;
    let backend = match &file.backend {
        Some(b) => serde_json::json!({
            "type": b.kind,
            "config": sorted(&b.config),
            "hash": b.hash,
        }),
        None => serde_json::Value::Null,
    };
    let mut doc = serde_json::Map::new();
    doc.insert("version".into(), 3.into());
    doc.insert("serial".into(), file.serial.into());
    doc.insert("lineage".into(), file.lineage.clone().into());
    if !backend.is_null() {
        doc.insert("backend".into(), backend);
    }
    doc.insert(
        "modules".into(),
        serde_json::json!([{
            "path": ["root"],
            "outputs": {},
            "resources": {},
            "depends_on": [],
        }]),
    );
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde_json::Value::Object(doc)
        .serialize(&mut ser)
        .map_err(std::io::Error::other)?;
    let mut text = String::from_utf8_lossy(&out)
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    text.push('\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    terrane_state::atomic_write(path, text.as_bytes(), None).map(|_| ())
}

fn sorted(config: &BackendConfig) -> serde_json::Value {
    let mut keys: Vec<&String> = config.keys().collect();
    keys.sort();
    let mut m = serde_json::Map::new();
    for k in keys {
        m.insert(k.clone(), config[k].clone());
    }
    serde_json::Value::Object(m)
}

fn value_type(ty: ConfigType) -> Type {
    match ty {
        ConfigType::String => Type::String,
        ConfigType::Bool => Type::Bool,
        ConfigType::Number => Type::Number,
        ConfigType::ListOfString => Type::list(Type::String),
        ConfigType::MapOfString => Type::map(Type::String),
    }
}

/// A value of the configuration as JSON (numbers as their exact text).
fn to_json(v: &Value, ty: &Type) -> serde_json::Value {
    if v.is_null() {
        return serde_json::Value::Null;
    }
    terrane_value::json::marshal(v, ty)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// Decodes the body of a `backend` block (or a `-backend-config` file)
/// against `schema`: constant expressions only, no unknown arguments, no
/// nested blocks. Required arguments are checked on the merged
/// configuration by [`check_required`].
pub fn decode_body(
    body: &terrane_hcl::ast::Body,
    file: &Arc<SourceFile>,
    kind: &BackendType,
) -> (BackendConfig, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut config = BackendConfig::new();
    for item in &body.items {
        match item {
            terrane_hcl::ast::Structure::Attribute(a) => {
                let name = a.name.name.as_ref();
                let Some(attr) = kind.schema.iter().find(|c| c.name == name) else {
                    diags.push(
                        Diagnostic::error(
                            "Unsupported argument",
                            format!("An argument named {name:?} is not expected here."),
                        )
                        .with_subject(file, a.name.span),
                    );
                    continue;
                };
                let (v, d) = terrane_lang::varvalues::eval_constant(&a.expr, file);
                let failed = d.has_errors();
                diags.extend(d);
                if failed {
                    continue;
                }
                let ty = value_type(attr.ty);
                match terrane_value::convert(&v, &ty) {
                    Ok(v) => {
                        config.insert(name.to_string(), to_json(&v, &ty));
                    }
                    Err(e) => diags.push(
                        Diagnostic::error(
                            "Incorrect attribute value type",
                            format!("Inappropriate value for attribute {name:?}: {e}."),
                        )
                        .with_subject(file, a.expr.span),
                    ),
                }
            }
            terrane_hcl::ast::Structure::Block(b) => diags.push(
                Diagnostic::error(
                    "Unsupported block type",
                    format!(
                        "Blocks of type {:?} are not expected here.",
                        b.ident.name.as_ref()
                    ),
                )
                .with_subject(file, b.ident.span),
            ),
        }
    }
    (config, diags)
}

/// Missing required arguments of a merged configuration.
pub fn check_required(config: &BackendConfig, kind: &BackendType) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for attr in kind.schema.iter().filter(|a| a.required) {
        if config.get(attr.name).is_none_or(|v| v.is_null()) {
            diags.push(Diagnostic::error(
                "Missing required argument",
                format!("The argument {:?} is required, but was not set.", attr.name),
            ));
        }
    }
    diags
}

/// The arguments Terraform 1.0.3's schema has, for the types whose
/// terrane schema also has later Terraform versions' arguments (observed
/// in the records `terraform init` writes).
fn terraform_1_0_3_arguments(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "s3" => Some(&[
            "access_key",
            "acl",
            "assume_role_duration_seconds",
            "assume_role_policy",
            "assume_role_policy_arns",
            "assume_role_tags",
            "assume_role_transitive_tag_keys",
            "bucket",
            "dynamodb_endpoint",
            "dynamodb_table",
            "encrypt",
            "endpoint",
            "external_id",
            "force_path_style",
            "iam_endpoint",
            "key",
            "kms_key_id",
            "max_retries",
            "profile",
            "region",
            "role_arn",
            "secret_key",
            "session_name",
            "shared_credentials_file",
            "skip_credentials_validation",
            "skip_metadata_api_check",
            "skip_region_validation",
            "sse_customer_key",
            "sts_endpoint",
            "token",
            "workspace_key_prefix",
        ]),
        _ => None,
    }
}

/// The arguments a record of `config` lists, sorted: Terraform 1.0.3's
/// when the configuration sets none of the later ones (so Terraform 1.0.3
/// reads the record and computes the same hash), else the whole schema.
pub fn recorded_names(kind: &BackendType, config: &BackendConfig) -> Vec<&'static str> {
    if let Some(old) = terraform_1_0_3_arguments(kind.name) {
        let only_old = config
            .iter()
            .filter(|(_, v)| !v.is_null())
            .all(|(k, _)| old.contains(&k.as_str()));
        if only_old {
            return old.to_vec();
        }
    }
    let mut names: Vec<&str> = kind.schema.iter().map(|a| a.name).collect();
    names.sort_unstable();
    names
}

/// `config` with every argument of `names` (null when unset), as recorded.
pub fn complete_over(config: &BackendConfig, names: &[&str]) -> BackendConfig {
    names
        .iter()
        .map(|n| {
            (
                n.to_string(),
                config.get(*n).cloned().unwrap_or(serde_json::Value::Null),
            )
        })
        .collect()
}

/// The hash Terraform records for a backend block: the CRC-32 of the
/// tuple of the type name and the block's value (every schema argument,
/// null when unset) in cty's set-hash encoding; see [`hash_over`].
#[cfg(test)]
pub fn block_hash(kind: &BackendType, config: &BackendConfig) -> u64 {
    let mut names: Vec<&str> = kind.schema.iter().map(|a| a.name).collect();
    names.sort_unstable();
    hash_over(kind.name, &names, config)
}

/// [`block_hash`] over the arguments `names` (sorted), as a schema with
/// just those arguments would give it.
pub fn hash_over(kind: &str, names: &[&str], config: &BackendConfig) -> u64 {
    let mut buf = String::from("<");
    hash_string(&mut buf, kind);
    buf.push_str(";<");
    for name in names {
        hash_value(
            &mut buf,
            config.get(*name).unwrap_or(&serde_json::Value::Null),
        );
        buf.push(';');
    }
    buf.push_str(">;>");
    u64::from(crc32(buf.as_bytes()))
}

fn hash_value(buf: &mut String, v: &serde_json::Value) {
    match v {
        serde_json::Value::Null => buf.push('~'),
        serde_json::Value::Bool(b) => buf.push(if *b { 'T' } else { 'F' }),
        serde_json::Value::Number(n) => buf.push_str(&n.to_string()),
        serde_json::Value::String(s) => hash_string(buf, s),
        serde_json::Value::Array(items) => {
            buf.push('[');
            for i in items {
                hash_value(buf, i);
                buf.push(';');
            }
            buf.push(']');
        }
        serde_json::Value::Object(m) => {
            buf.push('{');
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                hash_string(buf, k);
                buf.push(':');
                hash_value(buf, &m[k]);
                buf.push(';');
            }
            buf.push('}');
        }
    }
}

/// A string quoted as Go's `strconv.Quote` does for the common cases.
fn hash_string(buf: &mut String, s: &str) {
    buf.push('"');
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\t' => buf.push_str("\\t"),
            '\r' => buf.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                buf.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => buf.push(c),
        }
    }
    buf.push('"');
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// One `-backend-config` argument: a file of arguments or `key=value`.
pub fn parse_backend_config_arg(
    arg: &str,
    kind: &BackendType,
    config: &mut BackendConfig,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    if let Some((key, value)) = arg.split_once('=') {
        let key = key.trim();
        let Some(attr) = kind.schema.iter().find(|a| a.name == key) else {
            diags.push(Diagnostic::error(
                "Invalid backend configuration argument",
                format!("The backend configuration argument {key:?} given on the command line is not expected for the selected backend type."),
            ));
            return diags;
        };
        // Values on the command line are strings converted to the
        // argument's type (an HCL literal is accepted for the others).
        let value = match attr.ty {
            ConfigType::String => serde_json::Value::String(value.to_string()),
            ConfigType::Bool => match value {
                "true" => true.into(),
                "false" => false.into(),
                _ => {
                    diags.push(Diagnostic::error(
                        "Invalid backend configuration argument",
                        format!("The value for {key:?} must be a bool, not {value:?}."),
                    ));
                    return diags;
                }
            },
            ConfigType::Number => match serde_json::from_str::<serde_json::Number>(value) {
                Ok(n) => serde_json::Value::Number(n),
                Err(_) => {
                    diags.push(Diagnostic::error(
                        "Invalid backend configuration argument",
                        format!("The value for {key:?} must be a number, not {value:?}."),
                    ));
                    return diags;
                }
            },
            _ => match serde_json::from_str(value) {
                Ok(v) => v,
                Err(_) => {
                    diags.push(Diagnostic::error(
                        "Invalid backend configuration argument",
                        format!("The value for {key:?} must be given as JSON."),
                    ));
                    return diags;
                }
            },
        };
        config.insert(key.to_string(), value);
        return diags;
    }
    let path = Path::new(arg);
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Failed to read file",
                format!("The file {arg:?} could not be read: {e}."),
            ));
            return diags;
        }
    };
    let file = SourceFile::new(arg, src);
    let parsed = terrane_hcl::parse_file(&file);
    let failed = parsed.diagnostics.has_errors();
    diags.extend(parsed.diagnostics);
    if failed {
        return diags;
    }
    let (values, d) = decode_body(&parsed.body, &file, kind);
    diags.extend(d);
    config.extend(values);
    diags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http_block(pairs: &[(&str, &str)]) -> BackendConfig {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
            .collect()
    }

    /// Hashes Terraform 1.0.3 recorded for these blocks (observed with
    /// `terraform init`).
    #[test]
    fn block_hash_is_terraforms() {
        let kind = &crate::backend::http::BACKEND_TYPE;
        let base = "http://127.0.0.1:18080/state";
        let lock = format!("{base}/lock");
        let lock2 = format!("{base}/lock2");
        let cases = [
            (
                http_block(&[
                    ("address", base),
                    ("lock_address", &lock),
                    ("unlock_address", &lock),
                ]),
                61542657,
            ),
            (
                http_block(&[
                    ("address", base),
                    ("lock_address", &lock),
                    ("unlock_address", &lock2),
                ]),
                2784553106,
            ),
            (
                http_block(&[("address", "http://127.0.0.1:18080/s3")]),
                2246705713,
            ),
        ];
        for (config, want) in cases {
            assert_eq!(block_hash(kind, &config), want, "{config:?}");
        }
    }

    #[test]
    fn record_round_trips_in_terraforms_layout() {
        let dir = std::env::temp_dir().join(format!("terrane-record-{}", std::process::id()));
        let path = dir.join("terraform.tfstate");
        let kind = &crate::backend::http::BACKEND_TYPE;
        let config = http_block(&[("address", "http://x/?a=1&b=<2>")]);
        let file = BackendStateFile {
            serial: 2,
            lineage: "l".into(),
            backend: Some(Recorded {
                kind: "http".into(),
                config: complete_over(&config, &recorded_names(kind, &config)),
                hash: 7,
            }),
        };
        write_record(&path, &file).expect("write");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.starts_with("{\n    \"version\": 3,\n    \"serial\": 2,\n    \"lineage\": \"l\",\n    \"backend\": {\n        \"type\": \"http\",\n        \"config\": {\n            \"address\": \"http://x/?a=1\\u0026b=\\u003c2\\u003e\",\n            \"lock_address\": null,"), "{text}");
        assert!(
            text.ends_with("            \"depends_on\": []\n        }\n    ]\n}\n"),
            "{text}"
        );
        assert_eq!(read_record(&path).expect("read"), Some(file));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
