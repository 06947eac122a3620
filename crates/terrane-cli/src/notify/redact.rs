//! Sensitive values out of the webhook's JSON. Terraform's plan JSON
//! carries sensitive values in clear beside `*_sensitive` masks (it is
//! meant for local tools); a notification leaves the machine, so every
//! masked place, every attribute the provider schema calls sensitive and
//! every sensitive root variable becomes `"(sensitive value)"`.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value as Json;
use terrane_core::plan::Plan;
use terrane_plugin::Block;
use terrane_value::{Kind, Value};

pub const MASK: &str = "(sensitive value)";

/// Masks `plan_json` (from `render::json_plan::plan_json`) in place.
/// `schemas` maps resource types to their schemas; `sensitive_vars` names
/// the root module's sensitive variables.
pub fn mask_plan_json(
    plan_json: &mut Json,
    schemas: &BTreeMap<String, Arc<terrane_plugin::Schema>>,
    sensitive_vars: &[String],
) {
    if let Some(vars) = plan_json.get_mut("variables").and_then(Json::as_object_mut) {
        for (name, v) in vars.iter_mut() {
            if sensitive_vars.contains(name) {
                v["value"] = Json::String(MASK.into());
            }
        }
    }
    for key in ["resource_changes", "resource_drift"] {
        for rc in array_mut(plan_json, key) {
            let schema = rc["type"].as_str().and_then(|t| schemas.get(t)).cloned();
            let change = &mut rc["change"];
            for (value, marks) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
                let m = change[marks].clone();
                mask(&mut change[value], &m);
                if let Some(s) = &schema {
                    mask_schema(&mut change[value], &s.block);
                }
            }
        }
    }
    if let Some(outputs) = plan_json
        .get_mut("output_changes")
        .and_then(Json::as_object_mut)
    {
        for oc in outputs.values_mut() {
            for (value, marks) in [("before", "before_sensitive"), ("after", "after_sensitive")] {
                let m = oc[marks].clone();
                mask(&mut oc[value], &m);
            }
        }
    }
    mask_values(plan_json.get_mut("planned_values"), schemas);
    if let Some(prior) = plan_json.get_mut("prior_state") {
        mask_values(prior.get_mut("values"), schemas);
    }
    if let Some(root) = plan_json
        .get_mut("configuration")
        .and_then(|c| c.get_mut("root_module"))
    {
        mask_config_module(root);
    }
}

fn array_mut<'a>(j: &'a mut Json, key: &str) -> impl Iterator<Item = &'a mut Json> {
    j.get_mut(key)
        .and_then(Json::as_array_mut)
        .into_iter()
        .flatten()
}

/// A `values` object (`planned_values`, `prior_state.values`): outputs
/// and every module's resources.
fn mask_values(values: Option<&mut Json>, schemas: &BTreeMap<String, Arc<terrane_plugin::Schema>>) {
    let Some(values) = values else { return };
    if let Some(outputs) = values.get_mut("outputs").and_then(Json::as_object_mut) {
        for o in outputs.values_mut() {
            if o["sensitive"] == Json::Bool(true) {
                o["value"] = Json::String(MASK.into());
            }
        }
    }
    if let Some(root) = values.get_mut("root_module") {
        mask_module(root, schemas);
    }
}

fn mask_module(module: &mut Json, schemas: &BTreeMap<String, Arc<terrane_plugin::Schema>>) {
    for r in array_mut(module, "resources") {
        let m = r["sensitive_values"].clone();
        mask(&mut r["values"], &m);
        if let Some(s) = r["type"].as_str().and_then(|t| schemas.get(t)) {
            mask_schema(&mut r["values"], &s.block);
        }
    }
    for child in array_mut(module, "child_modules") {
        mask_module(child, schemas);
    }
}

/// Configuration: defaults of sensitive variables (and nested modules).
fn mask_config_module(module: &mut Json) {
    if let Some(vars) = module.get_mut("variables").and_then(Json::as_object_mut) {
        for v in vars.values_mut() {
            if v["sensitive"] == Json::Bool(true) && v.get("default").is_some() {
                v["default"] = Json::String(MASK.into());
            }
        }
    }
    if let Some(calls) = module.get_mut("module_calls").and_then(Json::as_object_mut) {
        for call in calls.values_mut() {
            if let Some(m) = call.get_mut("module") {
                mask_config_module(m);
            }
        }
    }
}

/// Replaces the parts of `value` that `marks` (a `*_sensitive` shape:
/// `true`, or objects/arrays of those) calls sensitive.
pub fn mask(value: &mut Json, marks: &Json) {
    match marks {
        Json::Bool(true) if !value.is_null() => *value = Json::String(MASK.into()),
        Json::Object(m) => {
            if let Json::Object(v) = value {
                for (k, mk) in m {
                    if let Some(x) = v.get_mut(k) {
                        mask(x, mk);
                    }
                }
            }
        }
        Json::Array(ms) => {
            if let Json::Array(vs) = value {
                for (x, mk) in vs.iter_mut().zip(ms) {
                    mask(x, mk);
                }
            }
        }
        _ => {}
    }
}

/// Masks the attributes a provider schema marks sensitive.
pub fn mask_schema(value: &mut Json, block: &Block) {
    let Json::Object(obj) = value else { return };
    for (name, attr) in &block.attributes {
        if let Some(v) = obj.get_mut(name) {
            if attr.sensitive && !v.is_null() {
                *v = Json::String(MASK.into());
            }
        }
    }
    for (name, nested) in &block.block_types {
        match obj.get_mut(name) {
            Some(Json::Array(items)) => {
                for item in items {
                    mask_schema(item, &nested.block);
                }
            }
            Some(v @ Json::Object(_)) => {
                // A single block, or a map of blocks.
                let single = v.as_object().is_some_and(|m| {
                    nested.block.attributes.keys().any(|k| m.contains_key(k))
                        || nested.block.block_types.keys().any(|k| m.contains_key(k))
                });
                if single {
                    mask_schema(v, &nested.block);
                } else if let Json::Object(map) = v {
                    for item in map.values_mut() {
                        mask_schema(item, &nested.block);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The texts of every sensitive value in the plan: marked values in the
/// changes, the drift and the outputs, schema-sensitive attributes, and
/// the given sensitive root variables' values.
pub fn secrets(plan: &Plan, root_vars: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for c in plan
        .resource_changes
        .iter()
        .chain(&plan.drift)
        .chain(&plan.forgotten)
    {
        for v in [&c.before, &c.after] {
            collect(v, false, &mut out);
            collect_schema(v, &c.schema.block, &mut out);
        }
    }
    for oc in &plan.output_changes {
        for v in [&oc.before, &oc.after] {
            collect(v, oc.sensitive, &mut out);
        }
    }
    for v in root_vars {
        collect(v, true, &mut out);
    }
    out.sort();
    out.dedup();
    // Longest first, so a secret containing another is replaced whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

/// Leaf texts of `v` under a sensitive mark (or all when `sensitive`).
pub fn collect(v: &Value, sensitive: bool, out: &mut Vec<String>) {
    let (plain, marks) = v.unmark();
    let sensitive = sensitive || marks.contains(terrane_value::Mark::Sensitive);
    match plain.kind() {
        Kind::String(s) if sensitive => out.push(s.to_string()),
        Kind::Number(n) if sensitive => out.push(n.to_string()),
        Kind::List(xs) | Kind::Set(xs) | Kind::Tuple(xs) => {
            for x in xs {
                collect(x, sensitive, out);
            }
        }
        Kind::Map(m) | Kind::Object(m) => {
            for x in m.values() {
                collect(x, sensitive, out);
            }
        }
        _ => {}
    }
}

fn collect_schema(v: &Value, block: &Block, out: &mut Vec<String>) {
    let (plain, _) = v.unmark();
    if plain.is_null() || !plain.is_known() {
        return;
    }
    for (name, attr) in &block.attributes {
        if let Some(x) = plain.get_attr(name) {
            if attr.sensitive {
                collect(x, true, out);
            }
        }
    }
    for (name, nested) in &block.block_types {
        let Some(x) = plain.get_attr(name) else {
            continue;
        };
        let (x, _) = x.unmark();
        match x.kind() {
            Kind::List(xs) | Kind::Set(xs) | Kind::Tuple(xs) => {
                for item in xs {
                    collect_schema(item, &nested.block, out);
                }
            }
            Kind::Map(m) => {
                for item in m.values() {
                    collect_schema(item, &nested.block, out);
                }
            }
            Kind::Object(_) => collect_schema(&x, &nested.block, out),
            _ => {}
        }
    }
}

/// Replaces every string in `j` that contains a secret.
pub fn scrub_json(j: &mut Json, secrets: &[String]) {
    match j {
        Json::String(s) => {
            let scrubbed = super::message::scrub(s, secrets);
            if scrubbed != *s {
                *s = scrubbed;
            }
        }
        Json::Array(xs) => xs.iter_mut().for_each(|x| scrub_json(x, secrets)),
        Json::Object(m) => m.values_mut().for_each(|x| scrub_json(x, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_follow_the_sensitive_shape() {
        let mut v = json!({"a": "x", "b": ["p", "q"], "c": {"d": 1, "e": null}});
        mask(
            &mut v,
            &json!({"b": [false, true], "c": {"d": true, "e": true}}),
        );
        assert_eq!(
            v,
            json!({"a": "x", "b": ["p", MASK], "c": {"d": MASK, "e": null}})
        );
    }

    #[test]
    fn plan_json_variables_changes_and_outputs_are_masked() {
        let mut j = json!({
            "variables": {"pw": {"value": "hunter22"}, "name": {"value": "n"}},
            "resource_changes": [{"type": "t", "change": {
                "before": null, "after": {"secret": "hunter22", "x": 1},
                "before_sensitive": false, "after_sensitive": {"secret": true}}}],
            "output_changes": {"o": {"before": null, "after": "hunter22",
                "before_sensitive": true, "after_sensitive": true}},
            "prior_state": {"values": {"outputs": {"o": {"sensitive": true, "value": "hunter22"}}}},
            "configuration": {"root_module": {"variables": {"pw": {"default": "hunter22", "sensitive": true}}}}
        });
        mask_plan_json(&mut j, &BTreeMap::new(), &["pw".to_string()]);
        assert!(!j.to_string().contains("hunter22"), "{j}");
        assert_eq!(j["variables"]["name"]["value"], "n");
        assert_eq!(j["resource_changes"][0]["change"]["after"]["x"], 1);
    }
}
