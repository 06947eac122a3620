//! `show -json`: state and saved plans in Terraform's JSON representation
//! (format version 0.2, as Terraform 1.0.3 prints it), so tools that read
//! Terraform's JSON read terrane's.

use crate::addrs::InstanceKey;
use crate::plan::{Action, ActionReason, Plan, ResourceInstanceChange};
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use terrane_config::{ModuleTree, ResourceMode};
use terrane_state::{Mode, State, StateFile, Status};
use terrane_value::{Kind, Mark, Value};

pub const FORMAT_VERSION: &str = "0.2";
/// The Terraform version whose JSON this reproduces.
pub const TERRAFORM_VERSION: &str = "1.0.3";

// ---- values ---------------------------------------------------------------

/// A value as JSON, unknowns left out of objects and maps (null in
/// sequences), sensitive values shown as they are.
pub fn value_json(v: &Value) -> Json {
    let (v, _) = v.unmark();
    match v.kind() {
        Kind::Null | Kind::Unknown => Json::Null,
        Kind::Bool(b) => Json::Bool(b),
        Kind::Number(n) => {
            let text = n.to_string();
            serde_json::from_str::<Json>(&text).unwrap_or(Json::String(text))
        }
        Kind::String(s) => Json::String(s.to_string()),
        Kind::List(xs) | Kind::Set(xs) | Kind::Tuple(xs) => {
            Json::Array(xs.iter().map(value_json).collect())
        }
        Kind::Map(m) | Kind::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                if x.unmark().0.is_known() {
                    out.insert(k.clone(), value_json(x));
                }
            }
            Json::Object(out)
        }
    }
}

/// Terraform's `after_unknown`: `true` where a value is unknown; objects
/// and maps list only their unknown parts, sequences every element.
pub fn unknown_json(v: &Value) -> Json {
    let (v, _) = v.unmark();
    match v.kind() {
        Kind::Unknown => Json::Bool(true),
        Kind::Null | Kind::Bool(_) | Kind::Number(_) | Kind::String(_) => Json::Bool(false),
        Kind::List(xs) | Kind::Set(xs) | Kind::Tuple(xs) => {
            Json::Array(xs.iter().map(unknown_json).collect())
        }
        Kind::Map(m) | Kind::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let u = unknown_json(x);
                if u != Json::Bool(false) {
                    out.insert(k.clone(), u);
                }
            }
            Json::Object(out)
        }
    }
}

/// Terraform's `sensitive_values`: `true` where a value is sensitive;
/// objects and maps list only their sensitive parts, sequences every
/// element; an unknown collection is an empty one.
pub fn sensitive_json(v: &Value) -> Json {
    let (plain, marks) = v.unmark();
    if marks.contains(Mark::Sensitive) {
        return Json::Bool(true);
    }
    if plain.is_null() {
        return Json::Bool(false);
    }
    match plain.kind() {
        Kind::Unknown => {
            let ty = plain.ty();
            if ty.is_primitive() || ty.is_dynamic() {
                Json::Bool(false)
            } else if ty.element_type().is_some() && ty.attribute_types().is_none() {
                if matches!(ty, terrane_value::Type::Map(_)) {
                    json!({})
                } else {
                    json!([])
                }
            } else if ty.tuple_element_types().is_some() {
                json!([])
            } else {
                json!({})
            }
        }
        Kind::Null | Kind::Bool(_) | Kind::Number(_) | Kind::String(_) => Json::Bool(false),
        Kind::List(xs) | Kind::Set(xs) | Kind::Tuple(xs) => {
            Json::Array(xs.iter().map(sensitive_json).collect())
        }
        Kind::Map(m) | Kind::Object(m) => {
            let mut out = Map::new();
            for (k, x) in m {
                let s = sensitive_json(x);
                if s != Json::Bool(false) {
                    out.insert(k.clone(), s);
                }
            }
            Json::Object(out)
        }
    }
}

// ---- state ----------------------------------------------------------------

/// The JSON of a raw state JSON text (exact values as stored).
fn raw(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or(Json::Null)
}

/// `sensitive_values` from a stored object and its `sensitive_attributes`
/// paths.
fn state_sensitive(values: &Json, paths: &Json) -> Json {
    fn shape(v: &Json) -> Json {
        match v {
            Json::Array(xs) => Json::Array(xs.iter().map(shape).collect()),
            Json::Object(m) => {
                let mut out = Map::new();
                for (k, x) in m {
                    let s = shape(x);
                    if s != Json::Bool(false) {
                        out.insert(k.clone(), s);
                    }
                }
                Json::Object(out)
            }
            _ => Json::Bool(false),
        }
    }
    fn mark(target: &mut Json, values: &Json, steps: &[Json]) {
        let Some((step, rest)) = steps.split_first() else {
            *target = Json::Bool(true);
            return;
        };
        let key = &step["value"];
        match (target, values) {
            (Json::Object(t), Json::Object(vals)) => {
                let k = key
                    .get("value")
                    .and_then(Json::as_str)
                    .or_else(|| key.as_str())
                    .unwrap_or_default()
                    .to_string();
                let Some(child_values) = vals.get(&k) else {
                    return;
                };
                let child = t.entry(k).or_insert_with(|| shape(child_values));
                mark(child, child_values, rest);
            }
            (Json::Array(t), Json::Array(vals)) => {
                let i = key
                    .get("value")
                    .and_then(Json::as_u64)
                    .or_else(|| key.as_u64())
                    .unwrap_or(u64::MAX) as usize;
                if let (Some(child), Some(child_values)) = (t.get_mut(i), vals.get(i)) {
                    mark(child, child_values, rest);
                }
            }
            _ => {}
        }
    }
    let mut out = shape(values);
    for p in paths.as_array().into_iter().flatten() {
        if let Some(steps) = p.as_array() {
            mark(&mut out, values, steps);
        }
    }
    out
}

fn key_json(k: &Option<terrane_state::IndexKey>) -> Option<Json> {
    match k {
        Some(terrane_state::IndexKey::Int(i)) => Some(json!(i)),
        Some(terrane_state::IndexKey::String(s)) => Some(json!(s)),
        None => None,
    }
}

fn key_suffix(k: &Option<terrane_state::IndexKey>) -> String {
    match k {
        Some(terrane_state::IndexKey::Int(i)) => format!("[{i}]"),
        Some(terrane_state::IndexKey::String(s)) => {
            format!("[{}]", serde_json::to_string(s).unwrap_or_default())
        }
        None => String::new(),
    }
}

/// A resource's state address prefix for its module: `module.a.` or "".
fn module_prefix(module: &str) -> String {
    if module.is_empty() {
        String::new()
    } else {
        format!("{module}.")
    }
}

/// `provider["registry.terraform.io/hashicorp/null"].x` → the source.
fn provider_name(state_addr: &str) -> String {
    crate::planfile::provider_source_of(state_addr)
}

/// One resource entry per state instance (current objects, then deposed).
fn state_resources(state: &State) -> BTreeMap<String, Vec<Json>> {
    let mut by_module: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for r in &state.resources {
        let mode_prefix = if r.mode == Mode::Data { "data." } else { "" };
        for inst in &r.instances {
            let address = format!(
                "{}{mode_prefix}{}.{}{}",
                module_prefix(&r.module),
                r.type_,
                r.name,
                key_suffix(&inst.index_key)
            );
            let values = inst
                .attributes
                .as_ref()
                .map(|a| raw(a.as_str()))
                .unwrap_or_else(|| json!({}));
            let sens_paths = inst
                .sensitive_attributes
                .as_ref()
                .map(|a| raw(a.as_str()))
                .unwrap_or(Json::Null);
            let mut o = Map::new();
            o.insert("address".into(), json!(address));
            o.insert(
                "mode".into(),
                json!(if r.mode == Mode::Data {
                    "data"
                } else {
                    "managed"
                }),
            );
            o.insert("type".into(), json!(r.type_));
            o.insert("name".into(), json!(r.name));
            if let Some(k) = key_json(&inst.index_key) {
                o.insert("index".into(), k);
            }
            o.insert("provider_name".into(), json!(provider_name(&r.provider)));
            o.insert("schema_version".into(), json!(inst.schema_version));
            o.insert("values".into(), values.clone());
            o.insert(
                "sensitive_values".into(),
                state_sensitive(&values, &sens_paths),
            );
            if !inst.dependencies.is_empty() {
                o.insert("depends_on".into(), json!(inst.dependencies));
            }
            if inst.status == Status::Tainted {
                o.insert("tainted".into(), json!(true));
            }
            if let Some(d) = &inst.deposed {
                o.insert("deposed_key".into(), json!(d));
            }
            by_module
                .entry(r.module.clone())
                .or_default()
                .push(Json::Object(o));
        }
    }
    by_module
}

/// Nests per-module resource lists into `root_module` with
/// `child_modules` (each module under its parent, by address).
fn module_tree(mut by_module: BTreeMap<String, Vec<Json>>) -> Json {
    // Every ancestor of a module with resources appears too.
    let names: Vec<String> = by_module.keys().cloned().collect();
    for m in names {
        let mut cur = m.as_str();
        while let Some(p) = parent_module(cur) {
            by_module.entry(p.to_string()).or_default();
            cur = p;
        }
    }
    fn build(addr: &str, by_module: &BTreeMap<String, Vec<Json>>) -> Json {
        let mut o = Map::new();
        if let Some(rs) = by_module.get(addr) {
            if !rs.is_empty() {
                let mut rs = rs.clone();
                rs.sort_by(|a, b| {
                    a["address"]
                        .as_str()
                        .unwrap_or_default()
                        .cmp(b["address"].as_str().unwrap_or_default())
                });
                o.insert("resources".into(), Json::Array(rs));
            }
        }
        if !addr.is_empty() {
            o.insert("address".into(), json!(addr));
        }
        let children: Vec<Json> = by_module
            .keys()
            .filter(|k| !k.is_empty() && parent_module(k).unwrap_or("") == addr && *k != addr)
            .map(|k| build(k, by_module))
            .collect();
        if !children.is_empty() {
            o.insert("child_modules".into(), Json::Array(children));
        }
        Json::Object(o)
    }
    build("", &by_module)
}

/// `module.a.module.b[0]` → `module.a`; `module.a` → "" ; "" → None.
fn parent_module(addr: &str) -> Option<&str> {
    if addr.is_empty() {
        return None;
    }
    // The last `.module.` outside brackets and quotes.
    let bytes = addr.as_bytes();
    let mut depth = 0;
    let mut in_str = false;
    let mut last = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' if depth > 0 => in_str = !in_str,
            b'\\' if in_str => i += 1,
            b'[' if !in_str => depth += 1,
            b']' if !in_str => depth -= 1,
            b'.' if depth == 0 && addr[i..].starts_with(".module.") => last = Some(i),
            _ => {}
        }
        i += 1;
    }
    Some(last.map(|i| &addr[..i]).unwrap_or(""))
}

fn state_outputs(state: &State) -> Map<String, Json> {
    let mut outputs = Map::new();
    for (name, o) in &state.outputs {
        outputs.insert(
            name.clone(),
            json!({ "sensitive": o.sensitive, "value": raw(o.value.as_str()) }),
        );
    }
    outputs
}

fn state_values(state: &State, outputs: Map<String, Json>) -> Json {
    let mut v = Map::new();
    if !outputs.is_empty() {
        v.insert("outputs".into(), Json::Object(outputs));
    }
    v.insert("root_module".into(), module_tree(state_resources(state)));
    Json::Object(v)
}

/// `show -json` without a plan file: the state (`{"format_version":"0.2"}`
/// when there is none).
pub fn state_json(state: Option<&StateFile>) -> Json {
    let Some(sf) = state else {
        return json!({ "format_version": FORMAT_VERSION });
    };
    if sf.state.resources.is_empty() && sf.state.outputs.is_empty() {
        // An empty state prints as no state at all, as in Terraform.
        return json!({ "format_version": FORMAT_VERSION });
    }
    json!({
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "values": state_values(&sf.state, state_outputs(&sf.state)),
    })
}

// ---- plan -----------------------------------------------------------------

fn actions(a: Action) -> Json {
    match a {
        Action::NoOp => json!(["no-op"]),
        Action::Create => json!(["create"]),
        Action::Read => json!(["read"]),
        Action::Update => json!(["update"]),
        Action::DeleteThenCreate => json!(["delete", "create"]),
        Action::CreateThenDelete => json!(["create", "delete"]),
        Action::Delete => json!(["delete"]),
    }
}

fn instance_fields(o: &mut Map<String, Json>, c: &ResourceInstanceChange) {
    let r = &c.addr.resource;
    o.insert("address".into(), json!(c.addr.to_string()));
    if !r.module.is_root() {
        o.insert("module_address".into(), json!(r.module.to_string()));
    }
    o.insert(
        "mode".into(),
        json!(if r.mode == ResourceMode::Data {
            "data"
        } else {
            "managed"
        }),
    );
    o.insert("type".into(), json!(r.type_name));
    o.insert("name".into(), json!(r.name));
    match &c.addr.key {
        InstanceKey::None => {}
        InstanceKey::Int(i) => {
            o.insert("index".into(), json!(i));
        }
        InstanceKey::Str(s) => {
            o.insert("index".into(), json!(s));
        }
    }
}

/// A path as Terraform's JSON writes it: attribute names and index keys.
fn path_json(p: &terrane_value::Path) -> Json {
    Json::Array(
        p.steps()
            .iter()
            .map(|s| match s {
                terrane_value::PathStep::GetAttr(n) => json!(n),
                terrane_value::PathStep::Index(k) => value_json(k),
            })
            .collect(),
    )
}

fn resource_change_json(c: &ResourceInstanceChange) -> Json {
    let mut o = Map::new();
    instance_fields(&mut o, c);
    if let Some(d) = &c.deposed {
        o.insert("deposed".into(), json!(d));
    }
    o.insert("provider_name".into(), json!(provider_name(&c.provider)));
    let before = if c.before.is_null() {
        Json::Null
    } else {
        value_json(&c.before)
    };
    let after = if c.after.is_null() {
        Json::Null
    } else {
        value_json(&c.after)
    };
    let mut change = json!({
        "actions": actions(c.action),
        "before": before,
        "after": after,
        // A wholly known object has no unknown parts to list.
        "after_unknown": if c.after.unmark_deep_value().is_wholly_known() {
            json!({})
        } else {
            unknown_json(&c.after)
        },
        "before_sensitive": sensitive_json(&c.before),
        "after_sensitive": sensitive_json(&c.after),
    });
    if c.action.is_replace() && !c.requires_replace.is_empty() {
        let paths: Vec<Json> = c.requires_replace.iter().map(path_json).collect();
        change["replace_paths"] = Json::Array(paths);
    }
    o.insert("change".into(), change);
    let reason = match c.reason {
        ActionReason::ReplaceBecauseTainted => Some("replace_because_tainted"),
        ActionReason::ReplaceBecauseCannotUpdate => Some("replace_because_cannot_update"),
        ActionReason::ReplaceByRequest => Some("replace_by_request"),
        ActionReason::ReplaceByTriggers => Some("replace_by_triggers"),
        _ => None,
    };
    if let Some(r) = reason {
        o.insert("action_reason".into(), json!(r));
    }
    Json::Object(o)
}

/// `planned_values`: every instance the plan leaves (not deleted).
fn planned_values(plan: &Plan) -> Json {
    let mut outputs = Map::new();
    for oc in &plan.output_changes {
        if oc.action == Action::Delete {
            continue;
        }
        let mut o = Map::new();
        o.insert("sensitive".into(), json!(oc.sensitive));
        if oc.after.unmark_deep_value().is_wholly_known() {
            o.insert("value".into(), value_json(&oc.after));
        }
        outputs.insert(oc.name.clone(), Json::Object(o));
    }
    let mut by_module: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for c in &plan.resource_changes {
        if c.action == Action::Delete || c.deposed.is_some() {
            continue;
        }
        let mut o = Map::new();
        instance_fields(&mut o, c);
        o.shift_remove("module_address");
        o.insert("provider_name".into(), json!(provider_name(&c.provider)));
        o.insert("schema_version".into(), json!(c.schema.version));
        let values = value_json(&c.after);
        if values.as_object().is_some_and(|m| !m.is_empty()) {
            o.insert("values".into(), values);
        }
        o.insert("sensitive_values".into(), sensitive_json(&c.after));
        let module = c.addr.resource.module.to_string();
        by_module.entry(module).or_default().push(Json::Object(o));
    }
    let mut v = Map::new();
    if !outputs.is_empty() {
        v.insert("outputs".into(), Json::Object(outputs));
    }
    v.insert("root_module".into(), module_tree(by_module));
    Json::Object(v)
}

fn output_changes(plan: &Plan) -> Json {
    let mut out = Map::new();
    for oc in &plan.output_changes {
        let mut o = Map::new();
        o.insert("actions".into(), actions(oc.action));
        o.insert(
            "before".into(),
            if oc.before.is_null() {
                Json::Null
            } else {
                value_json(&oc.before)
            },
        );
        let known = oc.after.unmark_deep_value().is_wholly_known();
        if known {
            o.insert(
                "after".into(),
                if oc.after.is_null() {
                    Json::Null
                } else {
                    value_json(&oc.after)
                },
            );
        }
        o.insert("after_unknown".into(), json!(!known));
        o.insert("before_sensitive".into(), json!(oc.sensitive));
        o.insert("after_sensitive".into(), json!(oc.sensitive));
        out.insert(oc.name.clone(), Json::Object(o));
    }
    Json::Object(out)
}

/// `show -json FILE`: a saved plan. `prior` is the state the plan was
/// made from.
pub fn plan_json(
    plan: &Plan,
    variables: &BTreeMap<String, Value>,
    prior: Option<&StateFile>,
    tree: &ModuleTree,
) -> Json {
    let mut top = Map::new();
    top.insert("format_version".into(), json!(FORMAT_VERSION));
    top.insert("terraform_version".into(), json!(TERRAFORM_VERSION));
    if !variables.is_empty() {
        let mut vars = Map::new();
        for (k, v) in variables {
            vars.insert(k.clone(), json!({ "value": value_json(v) }));
        }
        top.insert("variables".into(), Json::Object(vars));
    }
    top.insert("planned_values".into(), planned_values(plan));
    // Terraform lists changes by address text (`module.a...` before `null_resource...`).
    let mut sorted: Vec<&ResourceInstanceChange> = plan.resource_changes.iter().collect();
    // Forgotten instances (`removed` blocks) have the action "forget".
    sorted.extend(&plan.forgotten);
    sorted.sort_by_cached_key(|c| (c.addr.to_string(), c.deposed.clone()));
    let changes: Vec<Json> = sorted
        .into_iter()
        .map(|c| {
            let mut j = resource_change_json(c);
            if plan.forgotten.iter().any(|f| std::ptr::eq(f, c)) {
                j["change"]["actions"] = json!(["forget"]);
            }
            // Terraform 1.5+: an import block's object carries its id.
            if let Some(i) = plan
                .imports
                .iter()
                .find(|i| i.addr == c.addr && c.deposed.is_none())
            {
                j["change"]["importing"] = json!({ "id": i.id });
            }
            j
        })
        .collect();
    // What refreshing found changed outside terrane (Terraform 0.15.4+).
    let drift: Vec<Json> = plan.drift.iter().map(resource_change_json).collect();
    if !drift.is_empty() {
        top.insert("resource_drift".into(), Json::Array(drift));
    }
    if !changes.is_empty() {
        top.insert("resource_changes".into(), Json::Array(changes));
    }
    if !plan.output_changes.is_empty() {
        top.insert("output_changes".into(), output_changes(plan));
    }
    // Terraform 1.0.3's prior state carries the plan's known output
    // values (the plan walk records them there).
    let empty = State::default();
    let prior_state = prior.map(|s| &s.state).unwrap_or(&empty);
    let mut outputs = state_outputs(prior_state);
    for oc in &plan.output_changes {
        if oc.action == Action::Delete || !oc.after.unmark_deep_value().is_wholly_known() {
            continue;
        }
        outputs.insert(
            oc.name.clone(),
            json!({ "sensitive": oc.sensitive, "value": value_json(&oc.after) }),
        );
    }
    // An empty prior state is left out, as Terraform does.
    if !(outputs.is_empty() && prior_state.resources.is_empty()) {
        top.insert(
            "prior_state".into(),
            json!({
                "format_version": FORMAT_VERSION,
                "terraform_version": TERRAFORM_VERSION,
                "values": state_values(prior_state, outputs),
            }),
        );
    }
    let schema_versions: BTreeMap<String, i64> = plan
        .resource_changes
        .iter()
        .map(|c| (c.addr.resource.type_name.clone(), c.schema.version))
        .collect();
    top.insert(
        "configuration".into(),
        super::json_config::configuration(tree, &schema_versions),
    );
    Json::Object(top)
}
