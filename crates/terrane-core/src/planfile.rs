//! Saved plans (`plan -out=FILE`, `apply FILE`, `show FILE`).
//!
//! A plan file is a zip archive of JSON entries (not Terraform's protobuf
//! layout, which no other tool reads across versions anyway):
//!
//! * `terrane-plan.json`: format version, terrane version, the prior
//!   state's lineage and serial, the plan options, root variable values,
//!   and every planned change (resources, drift, outputs, provider
//!   configurations);
//! * `config/PATH`: a snapshot of each configuration file the plan was
//!   made from, by its path relative to the working directory, plus the
//!   module manifest (`config/.terraform/modules/modules.json`);
//! * `lock.hcl`: the dependency lock file in effect, if any.
//!
//! Values are stored as hex-encoded msgpack of the dynamic type (type and
//! value together, unknowns included) with their sensitive paths beside
//! them, so a plan reads back exactly as it was made.

use crate::addrs::{InstanceKey, ModuleInstance, ModuleStep, ResourceAddr, ResourceInstanceAddr};
use crate::plan::{
    Action, ActionReason, OutputChange, Plan, ProviderConfig, ResourceInstanceChange,
};
use crate::walk::ProviderFactory;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;
use terrane_config::ResourceMode;
use terrane_value::{Mark, Marks, PathMarks, PathStep, Type, Value};

/// The version of this layout; a file of another version is refused.
pub const FORMAT_VERSION: u64 = 1;
const META_ENTRY: &str = "terrane-plan.json";
const CONFIG_PREFIX: &str = "config/";
const LOCK_ENTRY: &str = "lock.hcl";

/// Everything `apply FILE` needs besides the current state.
#[derive(Clone, Debug)]
pub struct PlanFile {
    pub plan: Plan,
    /// The terrane version that wrote the file.
    pub terrane_version: String,
    /// Configuration files by path relative to the working directory
    /// (`main.tf`, `modules/net/main.tf`, `.terraform/modules/modules.json`).
    pub config_files: BTreeMap<String, String>,
    /// Root module variable values, as planned.
    pub variables: BTreeMap<String, Value>,
    /// The prior state's lineage and serial (None: there was no state).
    pub prior_lineage: Option<String>,
    pub prior_serial: Option<u64>,
    /// The `.terraform.lock.hcl` text in effect, if there was one.
    pub lock_file: Option<String>,
    pub options: SavedOptions,
}

/// The plan options that shaped the plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SavedOptions {
    pub destroy: bool,
    pub refresh_only: bool,
    pub targets: Vec<String>,
    pub replace: Vec<String>,
}

/// Whether `path` looks like a plan file (a zip with terrane's metadata
/// entry, or Terraform's `tfplan` entry).
pub fn is_plan_file(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let Ok(mut zip) = zip::ZipArchive::new(f) else {
        return false;
    };
    let found = zip.by_name(META_ENTRY).is_ok() || zip.by_name("tfplan").is_ok();
    found
}

/// The configuration snapshot of a loaded module tree: each source file by
/// its display path (relative to the working directory).
pub fn config_snapshot(tree: &terrane_config::ModuleTree, dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    fn walk(t: &terrane_config::ModuleTree, out: &mut BTreeMap<String, String>) {
        for f in &t.module.files {
            // Absolute paths (modules outside the tree) cannot be restored
            // relative to another directory; they are read again at apply.
            if !Path::new(&f.name).is_absolute() {
                out.insert(f.name.clone(), f.text.clone());
            }
        }
        for c in t.children.values() {
            walk(c, out);
        }
    }
    walk(tree, &mut out);
    // The module manifest, where the loader will look for it at apply
    // (`TF_DATA_DIR` relative to the working directory, as the loader does).
    let data_dir = std::env::var("TF_DATA_DIR").unwrap_or_else(|_| ".terraform".into());
    let manifest = format!("{}/modules/modules.json", data_dir.trim_end_matches('/'));
    if !Path::new(&manifest).is_absolute() {
        if let Ok(text) = std::fs::read_to_string(dir.join(&manifest)) {
            out.insert(manifest, text);
        }
    }
    out
}

/// Writes `pf` to `path` atomically (a temporary file beside it, fsynced,
/// then renamed over it).
pub fn write(path: &Path, pf: &PlanFile) -> Result<(), String> {
    let meta = serde_json::to_vec_pretty(&encode_meta(pf)?).map_err(|e| e.to_string())?;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zw = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let mut add = |name: &str, data: &[u8]| -> Result<(), String> {
            zw.start_file(name, opts).map_err(|e| e.to_string())?;
            zw.write_all(data).map_err(|e| e.to_string())
        };
        add(META_ENTRY, &meta)?;
        for (name, text) in &pf.config_files {
            add(&format!("{CONFIG_PREFIX}{name}"), text.as_bytes())?;
        }
        if let Some(lock) = &pf.lock_file {
            add(LOCK_ENTRY, lock.as_bytes())?;
        }
        zw.finish().map_err(|e| e.to_string())?;
    }
    let bytes = buf.into_inner();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plan".into());
    let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.to_string());
    }
    Ok(())
}

/// Reads a plan file. Resource schemas come from the providers (through
/// `factory`), as the file does not carry them.
pub fn read(path: &Path, factory: &dyn ProviderFactory) -> Result<PlanFile, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(f).map_err(|_| "zip: not a valid zip file".to_string())?;
    if zip.by_name(META_ENTRY).is_err() {
        if zip.by_name("tfplan").is_ok() {
            return Err("this plan file was written by Terraform, not terrane; plan files are not compatible between the two, so create the plan again with terrane".into());
        }
        return Err(format!("the archive has no {META_ENTRY} entry"));
    }
    let mut meta_text = String::new();
    let mut config_files = BTreeMap::new();
    let mut lock_file = None;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .map_err(|e| format!("{name}: {e}"))?;
        if name == META_ENTRY {
            meta_text = text;
        } else if name == LOCK_ENTRY {
            lock_file = Some(text);
        } else if let Some(rel) = name.strip_prefix(CONFIG_PREFIX) {
            config_files.insert(rel.to_string(), text);
        }
    }
    let meta: Json = serde_json::from_str(&meta_text).map_err(|e| format!("{META_ENTRY}: {e}"))?;
    decode_meta(&meta, config_files, lock_file, factory)
}

// ---- encoding -------------------------------------------------------------

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if !s.len().is_multiple_of(2) {
        return Err("odd-length hex".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "invalid hex".to_string())
        })
        .collect()
}

fn enc_plain(v: &Value) -> Result<Json, String> {
    let bytes = terrane_value::msgpack::encode(v, &Type::Dynamic).map_err(|e| e.to_string())?;
    Ok(Json::String(hex(&bytes)))
}

fn dec_plain(j: &Json) -> Result<Value, String> {
    let s = j.as_str().ok_or("a value must be a hex string")?;
    terrane_value::msgpack::decode(&unhex(s)?, &Type::Dynamic).map_err(|e| e.to_string())
}

/// A value with its sensitive paths: `{"v": HEX, "sensitive": [PATH...]}`.
fn enc_value(v: &Value) -> Result<Json, String> {
    let (plain, marks) = v.unmark_deep();
    let mut paths = Vec::new();
    for pm in marks {
        if !pm.marks.contains(Mark::Sensitive) {
            continue;
        }
        let mut steps = Vec::new();
        for s in pm.path.steps() {
            steps.push(match s {
                PathStep::GetAttr(n) => json!({ "attr": n }),
                PathStep::Index(k) => json!({ "index": enc_plain(k)? }),
            });
        }
        paths.push(Json::Array(steps));
    }
    Ok(json!({ "v": enc_plain(&plain)?, "sensitive": paths }))
}

fn dec_value(j: &Json) -> Result<Value, String> {
    let plain = dec_plain(&j["v"])?;
    let mut pms = Vec::new();
    for p in j["sensitive"].as_array().into_iter().flatten() {
        let mut path = terrane_value::Path::root();
        for s in p.as_array().into_iter().flatten() {
            if let Some(n) = s["attr"].as_str() {
                path.push(PathStep::GetAttr(n.to_string()));
            } else {
                path.push(PathStep::Index(dec_plain(&s["index"])?));
            }
        }
        pms.push(PathMarks {
            path,
            marks: Marks::SENSITIVE,
        });
    }
    if pms.is_empty() {
        return Ok(plain);
    }
    Ok(plain.mark_with_paths(&pms))
}

fn enc_path(p: &terrane_value::Path) -> Result<Json, String> {
    let mut steps = Vec::new();
    for s in p.steps() {
        steps.push(match s {
            PathStep::GetAttr(n) => json!({ "attr": n }),
            PathStep::Index(k) => json!({ "index": enc_plain(k)? }),
        });
    }
    Ok(Json::Array(steps))
}

fn dec_path(j: &Json) -> Result<terrane_value::Path, String> {
    let mut path = terrane_value::Path::root();
    for s in j.as_array().into_iter().flatten() {
        if let Some(n) = s["attr"].as_str() {
            path.push(PathStep::GetAttr(n.to_string()));
        } else {
            path.push(PathStep::Index(dec_plain(&s["index"])?));
        }
    }
    Ok(path)
}

fn enc_key(k: &InstanceKey) -> Json {
    match k {
        InstanceKey::None => Json::Null,
        InstanceKey::Int(i) => json!(i),
        InstanceKey::Str(s) => json!(s),
    }
}

fn dec_key(j: &Json) -> InstanceKey {
    match j {
        Json::Number(n) => InstanceKey::Int(n.as_i64().unwrap_or_default()),
        Json::String(s) => InstanceKey::Str(s.clone()),
        _ => InstanceKey::None,
    }
}

fn enc_addr(a: &ResourceInstanceAddr) -> Json {
    let module: Vec<Json> = a
        .resource
        .module
        .0
        .iter()
        .map(|s| json!([s.name, enc_key(&s.key)]))
        .collect();
    json!({
        "module": module,
        "mode": if a.resource.mode == ResourceMode::Data { "data" } else { "managed" },
        "type": a.resource.type_name,
        "name": a.resource.name,
        "key": enc_key(&a.key),
    })
}

fn dec_addr(j: &Json) -> Result<ResourceInstanceAddr, String> {
    let module = j["module"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| ModuleStep {
            name: s[0].as_str().unwrap_or_default().to_string(),
            key: dec_key(&s[1]),
        })
        .collect();
    let text = |k: &str| -> Result<String, String> {
        j[k].as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("resource address without {k}"))
    };
    Ok(ResourceAddr {
        module: ModuleInstance(module),
        mode: if j["mode"] == "data" {
            ResourceMode::Data
        } else {
            ResourceMode::Managed
        },
        type_name: text("type")?,
        name: text("name")?,
    }
    .instance(dec_key(&j["key"])))
}

const ACTIONS: [(Action, &str); 7] = [
    (Action::NoOp, "no-op"),
    (Action::Create, "create"),
    (Action::Read, "read"),
    (Action::Update, "update"),
    (Action::DeleteThenCreate, "delete-then-create"),
    (Action::CreateThenDelete, "create-then-delete"),
    (Action::Delete, "delete"),
];

fn enc_action(a: Action) -> &'static str {
    ACTIONS
        .iter()
        .find(|(x, _)| *x == a)
        .map(|(_, s)| *s)
        .unwrap_or("no-op")
}

fn dec_action(j: &Json) -> Result<Action, String> {
    let s = j.as_str().unwrap_or_default();
    ACTIONS
        .iter()
        .find(|(_, n)| *n == s)
        .map(|(a, _)| *a)
        .ok_or_else(|| format!("unknown action {s:?}"))
}

const REASONS: [(ActionReason, &str); 10] = [
    (ActionReason::None, ""),
    (
        ActionReason::ReplaceBecauseTainted,
        "replace_because_tainted",
    ),
    (ActionReason::ReplaceByRequest, "replace_by_request"),
    (
        ActionReason::ReplaceBecauseCannotUpdate,
        "replace_because_cannot_update",
    ),
    (ActionReason::ReplaceByTriggers, "replace_by_triggers"),
    (
        ActionReason::DeleteBecauseNoResourceConfig,
        "delete_because_no_resource_config",
    ),
    (
        ActionReason::DeleteBecauseCountIndex,
        "delete_because_count_index",
    ),
    (
        ActionReason::DeleteBecauseEachKey,
        "delete_because_each_key",
    ),
    (
        ActionReason::DeleteBecauseNoModule,
        "delete_because_no_module",
    ),
    (
        ActionReason::ReadBecauseConfigUnknown,
        "read_because_config_unknown",
    ),
];

fn enc_change(c: &ResourceInstanceChange) -> Result<Json, String> {
    let reason = REASONS
        .iter()
        .find(|(r, _)| *r == c.reason)
        .map(|(_, s)| *s)
        .unwrap_or("");
    let rr: Result<Vec<Json>, String> = c.requires_replace.iter().map(enc_path).collect();
    Ok(json!({
        "addr": enc_addr(&c.addr),
        "provider": c.provider,
        "action": enc_action(c.action),
        "reason": reason,
        "before": enc_value(&c.before)?,
        "after": enc_value(&c.after)?,
        "requires_replace": rr?,
        "deposed": c.deposed,
        "private": hex(&c.private),
        "schema_type": c.schema.block.implied_type().to_json_string(),
    }))
}

/// A planned import: its object as a no-op change, with the import id.
fn enc_import(i: &crate::import::ImportedObject) -> Result<Json, String> {
    let mut j = enc_change(&ResourceInstanceChange {
        addr: i.addr.clone(),
        provider: i.provider.clone(),
        action: Action::NoOp,
        reason: ActionReason::None,
        before: i.value.clone(),
        after: i.value.clone(),
        requires_replace: Vec::new(),
        schema: i.schema.clone(),
        deposed: None,
        private: i.private.clone(),
    })?;
    j["import_id"] = json!(i.id);
    Ok(j)
}

fn dec_import(j: &Json, schemas: &mut Schemas) -> Result<crate::import::ImportedObject, String> {
    let c = dec_change(j, schemas)?;
    Ok(crate::import::ImportedObject {
        addr: c.addr,
        id: j["import_id"].as_str().unwrap_or_default().to_string(),
        provider: c.provider,
        schema: c.schema,
        value: c.before,
        private: c.private,
    })
}

/// Finds resource schemas through the providers, one instance per source.
struct Schemas<'f> {
    factory: &'f dyn ProviderFactory,
    by_source: BTreeMap<String, Arc<terrane_plugin::ProviderSchema>>,
}

impl Schemas<'_> {
    fn resource(
        &mut self,
        source: &str,
        mode: ResourceMode,
        type_name: &str,
    ) -> Result<terrane_plugin::Schema, String> {
        if !self.by_source.contains_key(source) {
            let p = self
                .factory
                .instantiate(source)
                .map_err(|e| format!("could not load the provider {source}: {e}"))?;
            let schema = p.get_schema().schema;
            self.by_source.insert(source.to_string(), schema);
        }
        let ps = &self.by_source[source];
        let s = match mode {
            ResourceMode::Managed => ps.resource(type_name),
            ResourceMode::Data => ps.data_source(type_name),
        };
        s.cloned()
            .ok_or_else(|| format!("the provider {source} has no schema for {type_name}"))
    }
}

/// `provider["registry.terraform.io/hashicorp/null"].alias` → the source.
pub fn provider_source_of(state_addr: &str) -> String {
    state_addr
        .split("provider[\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string()
}

fn dec_change(j: &Json, schemas: &mut Schemas) -> Result<ResourceInstanceChange, String> {
    let addr = dec_addr(&j["addr"])?;
    let provider = j["provider"].as_str().unwrap_or_default().to_string();
    let schema = schemas.resource(
        &provider_source_of(&provider),
        addr.resource.mode,
        &addr.resource.type_name,
    )?;
    let want = j["schema_type"].as_str().unwrap_or_default();
    if schema.block.implied_type().to_json_string() != want {
        return Err(format!(
            "the schema of {} changed since the plan was made (was the provider upgraded?)",
            addr.resource.type_name
        ));
    }
    let reason_text = j["reason"].as_str().unwrap_or_default();
    let reason = REASONS
        .iter()
        .find(|(_, s)| *s == reason_text)
        .map(|(r, _)| *r)
        .unwrap_or(ActionReason::None);
    let requires_replace = j["requires_replace"]
        .as_array()
        .into_iter()
        .flatten()
        .map(dec_path)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ResourceInstanceChange {
        addr,
        provider,
        action: dec_action(&j["action"])?,
        reason,
        before: dec_value(&j["before"])?,
        after: dec_value(&j["after"])?,
        requires_replace,
        schema: Arc::new(schema),
        deposed: j["deposed"].as_str().map(str::to_string),
        private: unhex(j["private"].as_str().unwrap_or_default())?,
    })
}

fn encode_meta(pf: &PlanFile) -> Result<Json, String> {
    let plan = &pf.plan;
    let changes: Result<Vec<Json>, String> = plan.resource_changes.iter().map(enc_change).collect();
    let drift: Result<Vec<Json>, String> = plan.drift.iter().map(enc_change).collect();
    let forgotten: Result<Vec<Json>, String> = plan.forgotten.iter().map(enc_change).collect();
    let imports: Result<Vec<Json>, String> = plan.imports.iter().map(enc_import).collect();
    let mut outputs = Vec::new();
    for o in &plan.output_changes {
        outputs.push(json!({
            "name": o.name,
            "action": enc_action(o.action),
            "before": enc_value(&o.before)?,
            "after": enc_value(&o.after)?,
            "sensitive": o.sensitive,
        }));
    }
    let mut providers = Map::new();
    for (addr, pc) in &plan.provider_configs {
        providers.insert(
            addr.clone(),
            json!({ "source": pc.source, "config": enc_value(&pc.config)? }),
        );
    }
    let mut vars = Map::new();
    for (k, v) in &pf.variables {
        vars.insert(k.clone(), enc_value(v)?);
    }
    Ok(json!({
        "format_version": FORMAT_VERSION,
        "terrane_version": pf.terrane_version,
        "prior_lineage": pf.prior_lineage,
        "prior_serial": pf.prior_serial,
        "options": {
            "destroy": pf.options.destroy,
            "refresh_only": pf.options.refresh_only,
            "targets": pf.options.targets,
            "replace": pf.options.replace,
        },
        "variables": vars,
        "resource_changes": changes?,
        "drift": drift?,
        "forgotten": forgotten?,
        "imports": imports?,
        "output_changes": outputs,
        "provider_configs": providers,
    }))
}

fn decode_meta(
    meta: &Json,
    config_files: BTreeMap<String, String>,
    lock_file: Option<String>,
    factory: &dyn ProviderFactory,
) -> Result<PlanFile, String> {
    if meta["format_version"].as_u64() != Some(FORMAT_VERSION) {
        return Err(format!(
            "unsupported plan file format version {} (this terrane reads version {FORMAT_VERSION})",
            meta["format_version"]
        ));
    }
    let mut schemas = Schemas {
        factory,
        by_source: BTreeMap::new(),
    };
    let resource_changes = meta["resource_changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| dec_change(c, &mut schemas))
        .collect::<Result<Vec<_>, _>>()?;
    let drift = meta["drift"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| dec_change(c, &mut schemas))
        .collect::<Result<Vec<_>, _>>()?;
    let forgotten = meta["forgotten"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| dec_change(c, &mut schemas))
        .collect::<Result<Vec<_>, _>>()?;
    let imports = meta["imports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|j| dec_import(j, &mut schemas))
        .collect::<Result<Vec<_>, _>>()?;
    let mut output_changes = Vec::new();
    for o in meta["output_changes"].as_array().into_iter().flatten() {
        output_changes.push(OutputChange {
            name: o["name"].as_str().unwrap_or_default().to_string(),
            action: dec_action(&o["action"])?,
            before: dec_value(&o["before"])?,
            after: dec_value(&o["after"])?,
            sensitive: o["sensitive"].as_bool().unwrap_or(false),
        });
    }
    let mut provider_configs = BTreeMap::new();
    for (addr, pc) in meta["provider_configs"].as_object().into_iter().flatten() {
        provider_configs.insert(
            addr.clone(),
            ProviderConfig {
                source: pc["source"].as_str().unwrap_or_default().to_string(),
                config: dec_value(&pc["config"])?,
            },
        );
    }
    let mut variables = BTreeMap::new();
    for (k, v) in meta["variables"].as_object().into_iter().flatten() {
        variables.insert(k.clone(), dec_value(v)?);
    }
    let opts = &meta["options"];
    let strings = |j: &Json| -> Vec<String> {
        j.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    let options = SavedOptions {
        destroy: opts["destroy"].as_bool().unwrap_or(false),
        refresh_only: opts["refresh_only"].as_bool().unwrap_or(false),
        targets: strings(&opts["targets"]),
        replace: strings(&opts["replace"]),
    };
    let plan = Plan {
        resource_changes,
        output_changes,
        destroy: options.destroy,
        drift,
        provider_configs,
        refresh_only: options.refresh_only,
        forgotten,
        imports,
    };
    Ok(PlanFile {
        plan,
        terrane_version: meta["terrane_version"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        config_files,
        variables,
        prior_lineage: meta["prior_lineage"].as_str().map(str::to_string),
        prior_serial: meta["prior_serial"].as_u64(),
        lock_file,
        options,
    })
}

/// Writes the configuration snapshot into `dir` (an empty directory),
/// refusing paths that would leave it.
pub fn restore_config(files: &BTreeMap<String, String>, dir: &Path) -> Result<(), String> {
    for (name, text) in files {
        let rel = Path::new(name);
        if rel.is_absolute()
            || rel
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            // `../shared` modules live outside the working directory; they
            // are read from where they are.
            continue;
        }
        let target = dir.join(rel);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(&target, text).map_err(|e| format!("{}: {e}", target.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values come back with their types, unknowns and sensitive paths.
    #[test]
    fn values_round_trip_with_unknowns_and_marks() {
        let obj = Value::object_from([
            ("id".to_string(), Value::unknown(Type::String)),
            (
                "triggers".to_string(),
                Value::map(
                    Type::String,
                    [
                        ("s".to_string(), Value::string("secret").mark_sensitive()),
                        ("v".to_string(), Value::string("1")),
                    ]
                    .into_iter()
                    .collect(),
                ),
            ),
            (
                "n".to_string(),
                Value::list(Type::Number, vec![Value::from_i64(1), Value::from_i64(2)]),
            ),
        ]);
        let j = enc_value(&obj).expect("encode");
        let text = serde_json::to_string(&j).expect("json");
        let back = dec_value(&serde_json::from_str(&text).expect("parse")).expect("decode");
        assert!(back.raw_equal(&obj), "{back:?} != {obj:?}");
        assert_eq!(back.ty(), obj.ty());
        let s = back
            .get_attr("triggers")
            .and_then(|t| t.as_map())
            .and_then(|m| m.get("s").cloned())
            .expect("triggers.s");
        assert!(s.marks().contains(Mark::Sensitive));
        assert!(!back.get_attr("id").expect("id").is_known());
    }

    #[test]
    fn addresses_and_paths_round_trip() {
        let addr = ResourceAddr {
            module: ModuleInstance(vec![ModuleStep {
                name: "m".into(),
                key: InstanceKey::Str("a\"b".into()),
            }]),
            mode: ResourceMode::Data,
            type_name: "null_data_source".into(),
            name: "x".into(),
        }
        .instance(InstanceKey::Int(3));
        assert_eq!(dec_addr(&enc_addr(&addr)).expect("addr"), addr);
        let p = terrane_value::Path::root().attr("triggers").index_key("k");
        assert!(dec_path(&enc_path(&p).expect("path")).expect("path") == p);
    }

    #[test]
    fn bad_hex_is_an_error_not_a_panic() {
        assert!(unhex("abc").is_err());
        assert!(unhex("zz").is_err());
        assert!(dec_value(&json!({ "v": "c1ff" })).is_err());
    }
}
