//! Between the state file (JSON attributes, `terrane-state`) and the
//! engine's values: the prior state read once before a walk, and the new
//! state built during apply.

use crate::addrs::{InstanceKey, ModuleInstance, ModuleStep, ResourceAddr, ResourceInstanceAddr};
use crate::walk::PriorInstance;
use std::collections::BTreeMap;
use terrane_config::ResourceMode;
use terrane_plugin::Schema;
use terrane_state::{journal, IndexKey, Instance, Mode, OutputValue, RawJson, State, Status};
use terrane_value::{Type, Value};

/// `provider["registry.terraform.io/hashicorp/null"]`, with `.alias` for an
/// aliased configuration.
pub fn provider_state_addr(source: &str, local: &str) -> String {
    match local.split_once('.') {
        Some((_, alias)) => format!("provider[\"{source}\"].{alias}"),
        None => format!("provider[\"{source}\"]"),
    }
}

fn mode_of(m: ResourceMode) -> Mode {
    match m {
        ResourceMode::Managed => Mode::Managed,
        ResourceMode::Data => Mode::Data,
    }
}

fn key_of(k: &InstanceKey) -> Option<IndexKey> {
    match k {
        InstanceKey::None => None,
        InstanceKey::Int(i) => Some(IndexKey::Int(*i)),
        InstanceKey::Str(s) => Some(IndexKey::String(s.clone())),
    }
}

/// The engine's instance key for a state index key.
pub fn instance_key_of(k: &Option<IndexKey>) -> InstanceKey {
    instance_key(k)
}

fn instance_key(k: &Option<IndexKey>) -> InstanceKey {
    match k {
        None => InstanceKey::None,
        Some(IndexKey::Int(i)) => InstanceKey::Int(*i),
        Some(IndexKey::String(s)) => InstanceKey::Str(s.clone()),
    }
}

/// Parses a state module address (`module.a[0].module.b`).
pub fn parse_module(s: &str) -> ModuleInstance {
    let mut steps = Vec::new();
    let mut rest = s;
    while let Some(r) = rest.strip_prefix("module.") {
        let end = r.find(['.', '[']).unwrap_or(r.len());
        let name = r[..end].to_string();
        let mut after = &r[end..];
        let mut key = InstanceKey::None;
        if let Some(k) = after.strip_prefix('[') {
            if let Some(close) = k.find(']') {
                let inner = &k[..close];
                key = match inner.parse::<i64>() {
                    Ok(i) => InstanceKey::Int(i),
                    Err(_) => InstanceKey::Str(
                        serde_json::from_str(inner).unwrap_or_else(|_| inner.to_string()),
                    ),
                };
                after = &k[close + 1..];
            }
        }
        steps.push(ModuleStep { name, key });
        rest = after.strip_prefix('.').unwrap_or(after);
    }
    ModuleInstance(steps)
}

/// A resource in state: (module, mode, type, name).
pub type ResourceKey = (String, ResourceMode, String, String);

/// One resource's objects, with its current objects indexed by key so a
/// lookup per instance stays constant-time for large `count`s.
struct PriorResource {
    provider: String,
    instances: Vec<Instance>,
    current: std::collections::HashMap<Option<IndexKey>, usize>,
}

/// One resource's instances in the prior state, as raw JSON until a walk
/// asks for them with the schema that gives them a type.
#[derive(Default)]
pub struct PriorState {
    /// (module, mode, type, name) → (provider, key → instance).
    resources: BTreeMap<ResourceKey, PriorResource>,
    /// Root outputs.
    pub outputs: BTreeMap<String, Value>,
    /// Each resource's schema-typed values are decoded on demand.
    types: std::sync::Mutex<BTreeMap<(String, String), Type>>,
}

impl PriorState {
    pub fn from_state(state: Option<&State>) -> PriorState {
        let mut p = PriorState::default();
        let Some(state) = state else { return p };
        for r in &state.resources {
            let mode = match r.mode {
                Mode::Managed => ResourceMode::Managed,
                Mode::Data => ResourceMode::Data,
            };
            let current = r
                .instances
                .iter()
                .enumerate()
                .filter(|(_, i)| i.deposed.is_none())
                .map(|(n, i)| (i.index_key.clone(), n))
                .collect();
            p.resources.insert(
                (r.module.clone(), mode, r.type_.clone(), r.name.clone()),
                PriorResource {
                    provider: r.provider.clone(),
                    instances: r.instances.clone(),
                    current,
                },
            );
        }
        for (name, o) in &state.outputs {
            let ty = Type::from_json_str(o.ty.as_str()).unwrap_or(Type::Dynamic);
            let v = terrane_value::json::unmarshal(o.value.as_str(), &ty)
                .unwrap_or_else(|_| Value::unknown(ty));
            p.outputs.insert(
                name.clone(),
                if o.sensitive { v.mark_sensitive() } else { v },
            );
        }
        p
    }

    /// Remembers the type of a resource type's objects (from its schema).
    pub fn set_type(&self, type_name: &str, provider: &str, ty: Type) {
        if let Ok(mut t) = self.types.lock() {
            t.insert((provider.to_string(), type_name.to_string()), ty);
        }
    }

    fn decode(inst: &Instance, ty: Option<&Type>) -> PriorInstance {
        let value = match (&inst.attributes, ty) {
            (Some(raw), Some(ty)) => terrane_value::json::unmarshal(raw.as_str(), ty)
                .unwrap_or_else(|_| Value::unknown(ty.clone())),
            (Some(raw), None) => terrane_value::json::decode(raw.as_str())
                .unwrap_or_else(|_| Value::unknown_dynamic()),
            (None, _) => Value::unknown_dynamic(),
        };
        // Values recorded as sensitive stay sensitive when read back, so a
        // later plan (or destroy) never prints them.
        let value = match &inst.sensitive_attributes {
            Some(raw) => {
                let marks = sensitive_paths_from_json(raw.as_str());
                if marks.is_empty() {
                    value
                } else {
                    value.mark_with_paths(&marks)
                }
            }
            None => value,
        };
        PriorInstance {
            value,
            private: inst.private.clone().unwrap_or_default(),
            tainted: inst.status == Status::Tainted,
        }
    }

    fn ty_for(&self, provider: &str, type_name: &str) -> Option<Type> {
        let t = self.types.lock().ok()?;
        t.iter()
            .find(|((p, tn), _)| tn == type_name && provider.contains(p.as_str()))
            .map(|(_, ty)| ty.clone())
            .or_else(|| {
                t.iter()
                    .find(|((_, tn), _)| tn == type_name)
                    .map(|(_, ty)| ty.clone())
            })
    }

    fn resource(&self, r: &ResourceAddr) -> Option<&PriorResource> {
        self.resources.get(&(
            r.module.to_string(),
            r.mode,
            r.type_name.clone(),
            r.name.clone(),
        ))
    }

    /// The current object of an instance, if any.
    pub fn instance(&self, addr: &ResourceInstanceAddr) -> Option<PriorInstance> {
        let pr = self.resource(&addr.resource)?;
        let inst = &pr.instances[*pr.current.get(&key_of(&addr.key))?];
        let ty = self.ty_for(&pr.provider, &addr.resource.type_name);
        Some(Self::decode(inst, ty.as_ref()))
    }

    /// Every current object of a resource, by key.
    pub fn instances_of(&self, addr: &ResourceAddr) -> Vec<(InstanceKey, PriorInstance)> {
        let Some(pr) = self.resource(addr) else {
            return Vec::new();
        };
        let ty = self.ty_for(&pr.provider, &addr.type_name);
        pr.instances
            .iter()
            .filter(|i| i.deposed.is_none())
            .map(|i| (instance_key(&i.index_key), Self::decode(i, ty.as_ref())))
            .collect()
    }

    /// Resources in state that no walk visited: (address, provider).
    pub fn resources_not_in(
        &self,
        visited: &std::collections::BTreeSet<ResourceKey>,
    ) -> Vec<(ResourceAddr, String)> {
        self.resources
            .iter()
            .filter(|(k, _)| !visited.contains(*k))
            .map(|((module, mode, t, n), pr)| {
                (
                    ResourceAddr {
                        module: parse_module(module),
                        mode: *mode,
                        type_name: t.clone(),
                        name: n.clone(),
                    },
                    pr.provider.clone(),
                )
            })
            .collect()
    }
}

/// Converts a planned/applied object into a state instance.
pub fn value_to_instance(
    v: &Value,
    schema: &Schema,
    key: &InstanceKey,
    deps: &[String],
    tainted: bool,
    private: &[u8],
    create_before_destroy: bool,
) -> Instance {
    let ty = schema.block.implied_type();
    let (plain, marks) = v.unmark_deep();
    let attrs = terrane_value::json::marshal(&plain, &ty)
        .ok()
        .and_then(|s| RawJson::parse(&s).ok());
    let sensitive = sensitive_paths_json(&marks);
    Instance {
        index_key: key_of(key),
        status: if tainted {
            Status::Tainted
        } else {
            Status::Ready
        },
        deposed: None,
        schema_version: schema.version.max(0) as u64,
        attributes: attrs,
        attributes_flat: None,
        sensitive_attributes: RawJson::parse(&sensitive).ok(),
        private: if private.is_empty() {
            None
        } else {
            Some(private.to_vec())
        },
        dependencies: deps.to_vec(),
        create_before_destroy,
    }
}

/// `sensitive_attributes` in state: the paths of sensitive values, as
/// cty path JSON (`[[{"type":"get_attr","value":"x"}]]`).
fn sensitive_paths_json(marks: &[terrane_value::PathMarks]) -> String {
    let mut paths = Vec::new();
    for pm in marks {
        let steps: Vec<serde_json::Value> = pm
            .path
            .steps()
            .iter()
            .map(|s| match s {
                terrane_value::PathStep::GetAttr(n) => {
                    serde_json::json!({"type": "get_attr", "value": n})
                }
                terrane_value::PathStep::Index(v) => {
                    let value = match v.as_str() {
                        Some(s) => serde_json::json!(s),
                        None => v
                            .as_number()
                            .and_then(|n| n.to_i64())
                            .map(|i| serde_json::json!(i))
                            .unwrap_or(serde_json::Value::Null),
                    };
                    let ty = if v.as_str().is_some() {
                        "string"
                    } else {
                        "number"
                    };
                    serde_json::json!({"type": "index", "value": {"value": value, "type": ty}})
                }
            })
            .collect();
        paths.push(serde_json::Value::Array(steps));
    }
    serde_json::to_string(&paths).unwrap_or_else(|_| "[]".into())
}

/// The inverse of [`sensitive_paths_json`]: the sensitive paths recorded
/// in state. Steps it cannot read end the path there (marking the value
/// above them: hiding more is safe, hiding less is not).
fn sensitive_paths_from_json(text: &str) -> Vec<terrane_value::PathMarks> {
    let Ok(serde_json::Value::Array(paths)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return Vec::new();
    };
    paths
        .iter()
        .filter_map(|p| p.as_array())
        .map(|steps| {
            let mut path = terrane_value::Path::root();
            for step in steps {
                let next = match (step["type"].as_str(), &step["value"]) {
                    (Some("get_attr"), serde_json::Value::String(name)) => {
                        path.clone().attr(name.clone())
                    }
                    (Some("index"), key) => match (&key["value"], key["type"].as_str()) {
                        (serde_json::Value::String(k), _) => path.clone().index_key(k.clone()),
                        (serde_json::Value::Number(n), _) => match n.as_i64() {
                            Some(i) => path.clone().index_int(i),
                            None => break,
                        },
                        _ => break,
                    },
                    _ => break,
                };
                path = next;
            }
            terrane_value::PathMarks {
                path,
                marks: terrane_value::Marks::SENSITIVE,
            }
        })
        .collect()
}

/// The state built during apply: the prior state plus the changes made so
/// far. Each change is appended to the journal (when one is open) as it
/// happens, before the caller reports it: the `write` reaches the kernel
/// at once, so a killed process loses nothing; fsyncs are grouped (at most
/// one per [`SYNC_INTERVAL`], and one at the end) because one per change
/// would cost more than the changes themselves.
pub struct StateBuilder {
    base: State,
    changes: Vec<journal::Change>,
    pub journal: Option<journal::Journal>,
    pub journal_error: Option<String>,
    last_sync: std::time::Instant,
}

/// How long journaled changes may wait for their fsync.
pub const SYNC_INTERVAL: std::time::Duration = std::time::Duration::from_millis(200);

impl StateBuilder {
    pub fn new(state: State, journal: Option<journal::Journal>) -> StateBuilder {
        StateBuilder {
            base: state,
            changes: Vec::new(),
            journal,
            journal_error: None,
            last_sync: std::time::Instant::now(),
        }
    }

    /// The state apply started from.
    pub fn base(&self) -> &State {
        &self.base
    }

    /// The new state (the base with every change applied, in linear
    /// time), the journal synced to disk.
    pub fn finish(mut self) -> (State, Option<journal::Journal>, Option<String>) {
        if let Some(j) = &mut self.journal {
            if let Err(e) = j.sync() {
                self.journal_error.get_or_insert(e.to_string());
            }
        }
        let mut state = self.base;
        journal::apply_changes(&mut state, &self.changes);
        (state, self.journal, self.journal_error)
    }

    fn record(&mut self, change: journal::Change) {
        if let Some(j) = &mut self.journal {
            let mut result = j.append_all_unsynced(std::slice::from_ref(&change));
            if result.is_ok() && self.last_sync.elapsed() >= SYNC_INTERVAL {
                result = j.sync();
                self.last_sync = std::time::Instant::now();
            }
            if let Err(e) = result {
                self.journal_error.get_or_insert(e.to_string());
            }
        }
        self.changes.push(change);
    }

    fn resource_addr(addr: &ResourceInstanceAddr) -> journal::ResourceAddr {
        journal::ResourceAddr {
            module: addr.resource.module.to_string(),
            mode: mode_of(addr.resource.mode),
            type_: addr.resource.type_name.clone(),
            name: addr.resource.name.clone(),
        }
    }

    pub fn set_instance(
        &mut self,
        addr: &ResourceInstanceAddr,
        provider: &str,
        instance: Instance,
    ) {
        self.record(journal::Change::SetInstance {
            resource: Self::resource_addr(addr),
            provider: provider.to_string(),
            instance,
        });
    }

    pub fn remove_instance(&mut self, addr: &ResourceInstanceAddr, deposed: Option<String>) {
        self.record(journal::Change::RemoveInstance {
            resource: Self::resource_addr(addr),
            index_key: key_of(&addr.key),
            deposed,
        });
    }

    pub fn set_output(&mut self, name: &str, v: &Value, sensitive: bool) {
        if v.is_null() {
            if self.base.outputs.contains_key(name) {
                self.record(journal::Change::RemoveOutput {
                    name: name.to_string(),
                });
            }
            return;
        }
        let (plain, _) = v.unmark_deep();
        if !plain.is_wholly_known() {
            return;
        }
        let ty = plain.ty().clone();
        let Ok(value) = terrane_value::json::marshal(&plain, &ty) else {
            return;
        };
        let ty_json = ty.to_json_string();
        let (Ok(value), Ok(ty)) = (RawJson::parse(&value), RawJson::parse(&ty_json)) else {
            return;
        };
        self.record(journal::Change::SetOutput {
            name: name.to_string(),
            value: OutputValue {
                value,
                ty,
                sensitive,
            },
        });
    }
}

/// The state with what refreshing found: each drifted instance's
/// attributes replaced by the refreshed object (status, dependencies and
/// the rest kept), each instance found gone removed.
pub fn with_drift(base: &State, drift: &[crate::plan::ResourceInstanceChange]) -> State {
    let mut state = base.clone();
    for d in drift {
        let module = d.addr.resource.module.to_string();
        let mode = mode_of(d.addr.resource.mode);
        let key = key_of(&d.addr.key);
        let Some(r) = state.resources.iter_mut().find(|r| {
            r.module == module
                && r.mode == mode
                && r.type_ == d.addr.resource.type_name
                && r.name == d.addr.resource.name
        }) else {
            continue;
        };
        if d.action == crate::plan::Action::Delete {
            r.instances
                .retain(|i| !(i.index_key == key && i.deposed.is_none()));
            continue;
        }
        let Some(inst) = r
            .instances
            .iter_mut()
            .find(|i| i.index_key == key && i.deposed.is_none())
        else {
            continue;
        };
        let ty = d.schema.block.implied_type();
        let (plain, _) = d.after.unmark_deep();
        if let Some(raw) = terrane_value::json::marshal(&plain, &ty)
            .ok()
            .and_then(|s| RawJson::parse(&s).ok())
        {
            inst.attributes = Some(raw);
        }
        inst.private = if d.private.is_empty() {
            None
        } else {
            Some(d.private.clone())
        };
    }
    state.resources.retain(|r| !r.instances.is_empty());
    state
}

/// Records the drift in a state being built (so the journal holds it):
/// the refreshed instances as `with_drift` made them, removals for those
/// gone.
pub fn record_drift(
    builder: &mut StateBuilder,
    refreshed: &State,
    drift: &[crate::plan::ResourceInstanceChange],
) {
    for d in drift {
        if d.action == crate::plan::Action::Delete {
            builder.remove_instance(&d.addr, None);
            continue;
        }
        let module = d.addr.resource.module.to_string();
        let mode = mode_of(d.addr.resource.mode);
        let key = key_of(&d.addr.key);
        let found = refreshed.resources.iter().find_map(|r| {
            if r.module == module
                && r.mode == mode
                && r.type_ == d.addr.resource.type_name
                && r.name == d.addr.resource.name
            {
                r.instances
                    .iter()
                    .find(|i| i.index_key == key && i.deposed.is_none())
                    .map(|i| (r.provider.clone(), i.clone()))
            } else {
                None
            }
        });
        if let Some((provider, inst)) = found {
            builder.set_instance(&d.addr, &provider, inst);
        }
    }
}

/// The root module's resources as references see them (`TYPE.NAME` →
/// object, tuple of objects for `count`, object of objects for
/// `for_each`), for `console` over a state. `type_of` gives a resource
/// type's object type from its provider's schema when it is known;
/// otherwise attributes decode by their JSON shape.
pub fn root_resource_values(
    state: &State,
    type_of: &dyn Fn(&str, Mode, &str) -> Option<Type>,
) -> (BTreeMap<String, Value>, BTreeMap<String, Value>) {
    let (mut managed, mut data) = (BTreeMap::new(), BTreeMap::new());
    for r in state.resources.iter().filter(|r| r.module.is_empty()) {
        let ty = type_of(&r.provider, r.mode, &r.type_);
        let decode = |i: &Instance| -> Value {
            match (&i.attributes, &ty) {
                (Some(raw), Some(t)) => terrane_value::json::unmarshal(raw.as_str(), t)
                    .unwrap_or_else(|_| Value::unknown_dynamic()),
                (Some(raw), None) => terrane_value::json::decode(raw.as_str())
                    .unwrap_or_else(|_| Value::unknown_dynamic()),
                (None, _) => Value::unknown_dynamic(),
            }
        };
        let current: Vec<&Instance> = r.instances.iter().filter(|i| i.deposed.is_none()).collect();
        let value = match current.first().and_then(|i| i.index_key.as_ref()) {
            None => current
                .first()
                .map(|i| decode(i))
                .unwrap_or_else(Value::unknown_dynamic),
            Some(IndexKey::Int(_)) => {
                let mut v: Vec<(i64, Value)> = current
                    .iter()
                    .filter_map(|i| match &i.index_key {
                        Some(IndexKey::Int(n)) => Some((*n, decode(i))),
                        _ => None,
                    })
                    .collect();
                v.sort_by_key(|(n, _)| *n);
                Value::tuple(v.into_iter().map(|(_, v)| v).collect())
            }
            Some(IndexKey::String(_)) => Value::object(
                current
                    .iter()
                    .filter_map(|i| match &i.index_key {
                        Some(IndexKey::String(k)) => Some((k.clone(), decode(i))),
                        _ => None,
                    })
                    .collect(),
            ),
        };
        let key = format!("{}.{}", r.type_, r.name);
        match r.mode {
            Mode::Managed => managed.insert(key, value),
            Mode::Data => data.insert(key, value),
        };
    }
    (managed, data)
}
