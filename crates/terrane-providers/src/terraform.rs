//! `terraform.io/builtin/terraform`: the managed resource `terraform_data`
//! and the data source `terraform_remote_state` (only the `local` backend
//! is read; others report "not yet supported").

use std::collections::BTreeMap;

use terrane_plugin::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, Diagnostics,
    ImportResourceStateRequest, PlanResourceChangeRequest, PlanResourceChangeResponse,
    ProviderSchema, ReadDataSourceRequest,
};
use terrane_value::{Type, Value};

use crate::common::*;

pub(crate) struct Terraform;

fn rules() -> PlanRules {
    PlanRules {
        force_new: vec!["triggers_replace"],
        defaults: Vec::new(),
    }
}

/// Reads the `outputs` of a state file (format v4; v3 stores outputs per
/// module and is accepted for the root module too).
fn read_state_outputs(path: &str) -> Result<BTreeMap<String, Value>, Diagnostics> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(err_diag(
                "Error loading state error",
                format!("error loading the remote state: {path}: {e}"),
            ))
        }
    };
    let bad = |detail: String| {
        err_diag(
            "Error loading state error",
            format!("error loading the remote state: {path}: {detail}"),
        )
    };
    if text.trim().is_empty() {
        return Ok(BTreeMap::new());
    }
    let doc = terrane_value::json::parse(&text).map_err(|e| bad(e.to_string()))?;
    let serde = terrane_value::json::json_to_serde(&doc);
    let outputs = match serde.get("version").and_then(|v| v.as_u64()) {
        Some(4) => serde.get("outputs").cloned(),
        Some(3) => serde
            .get("modules")
            .and_then(|m| m.as_array())
            .and_then(|ms| {
                ms.iter().find(|m| {
                    m.get("path")
                        .and_then(|p| p.as_array())
                        .is_some_and(|p| p.len() == 1)
                })
            })
            .and_then(|m| m.get("outputs").cloned()),
        other => {
            return Err(bad(format!(
                "unsupported state format version {}",
                other.map_or("(missing)".to_string(), |v| v.to_string())
            )))
        }
    };
    let mut out = BTreeMap::new();
    let Some(serde_json::Value::Object(outputs)) = outputs else {
        return Ok(out);
    };
    // Output values must be decoded exactly (numbers beyond f64), so go
    // back to the precise document for each one.
    let precise = match &doc {
        terrane_value::json::Json::Object(items) => items
            .iter()
            .find(|(k, _)| k == "outputs")
            .map(|(_, v)| v.clone()),
        _ => None,
    };
    for name in outputs.keys() {
        let item = match &precise {
            Some(terrane_value::json::Json::Object(items)) => items
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            _ => None,
        };
        let Some(item) = item else { continue };
        let v = terrane_value::json::from_json(&item, &Type::Dynamic)
            .map_err(|e| bad(format!("output {name:?}: {e}")))?;
        out.insert(name.clone(), v);
    }
    Ok(out)
}

fn config_str(config: &Value, name: &str) -> Option<String> {
    config
        .get_attr(name)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

impl Imp for Terraform {
    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.resource_schemas.insert(
            "terraform_data".into(),
            schema(
                0,
                vec![
                    ("id", attr(Type::String, "c")),
                    ("input", attr(Type::Dynamic, "o")),
                    ("output", attr(Type::Dynamic, "c")),
                    ("triggers_replace", attr(Type::Dynamic, "o")),
                ],
            ),
        );
        s.data_source_schemas.insert(
            "terraform_remote_state".into(),
            schema(
                0,
                vec![
                    ("backend", attr(Type::String, "r")),
                    ("config", attr(Type::Dynamic, "o")),
                    ("defaults", attr(Type::Dynamic, "o")),
                    ("outputs", attr(Type::Dynamic, "c")),
                    ("workspace", attr(Type::String, "o")),
                ],
            ),
        );
        s
    }

    fn validate_data_source(&self, _ty: &str, c: &Obj) -> Diagnostics {
        let mut d = Diagnostics::new();
        if let Some(b) = c.str("backend") {
            if b.is_empty() {
                d.push(attr_err(
                    "backend",
                    "Invalid backend configuration",
                    "The backend name must not be empty.",
                ));
            }
        }
        d
    }

    fn plan(&self, ctx: &Ctx, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
        let (planned, replace) = plan_generic(ctx.block, &rules(), req);
        let Some((mut p, _)) = planned else {
            return plan_response(Value::null(ctx.ty.clone()), replace);
        };
        let input = p.get("input");
        let changed = req.prior_state.is_null()
            || !replace.is_empty()
            || !Obj::from_value(ctx.block, &req.prior_state)
                .get("input")
                .raw_equal(&input);
        if changed {
            p.set("output", Value::unknown(input.ty().clone()));
        }
        plan_response(p.to_value(), replace)
    }

    fn apply(&self, ctx: &Ctx, req: &ApplyResourceChangeRequest) -> ApplyResourceChangeResponse {
        if req.planned_state.is_null() {
            return apply_response(Value::null(ctx.ty.clone()), Diagnostics::new());
        }
        let mut obj = Obj::from_value(ctx.block, &req.planned_state);
        if !obj.is_known("id") {
            obj.set("id", str_val(uuid::Uuid::new_v4().to_string()));
        }
        if !obj.is_known("output") {
            let input = obj.get("input");
            obj.set("output", input);
        }
        apply_response(obj.to_value(), Diagnostics::new())
    }

    fn import(&self, ctx: &Ctx, req: &ImportResourceStateRequest) -> Result<Obj, Diagnostics> {
        let mut obj = Obj::empty(ctx.block);
        obj.set("id", str_val(req.id.clone()));
        Ok(obj)
    }

    fn read_data(&self, ctx: &Ctx, req: &ReadDataSourceRequest) -> Result<Obj, Diagnostics> {
        let mut obj = Obj::from_value(ctx.block, &req.config);
        let backend = obj.str("backend").unwrap_or_default();
        if backend != "local" {
            return Err(Diagnostics(vec![attr_err(
                "backend",
                "Unsupported backend",
                format!("terraform_remote_state with backend {backend:?} is not yet supported by terrane (only \"local\" is)."),
            )]));
        }
        let config = obj.get("config");
        let workspace = obj.str("workspace").unwrap_or_else(|| "default".into());
        let path = if workspace == "default" {
            config_str(&config, "path").unwrap_or_else(|| "terraform.tfstate".into())
        } else {
            let dir = config_str(&config, "workspace_dir")
                .unwrap_or_else(|| "terraform.tfstate.d".into());
            format!("{dir}/{workspace}/terraform.tfstate")
        };
        let mut outputs = read_state_outputs(&path)?;
        let defaults = obj.get("defaults");
        if let Some(m) = defaults.as_map() {
            for (k, v) in m {
                outputs.entry(k.clone()).or_insert_with(|| v.clone());
            }
        } else if !defaults.is_null() {
            return Err(Diagnostics(vec![attr_err(
                "defaults",
                "Invalid Default Values",
                "The defaults argument must be an object or a map.",
            )]));
        }
        obj.set("outputs", Value::object(outputs));
        Ok(obj)
    }
}
