//! `hashicorp/null` 2.1.2: `null_resource` and data `null_data_source`.
//!
//! The real 2.1.2 plugin is built on the legacy SDK: it reports the legacy
//! type system, stores `"null"` as private data, and has no import.

use rand::Rng;
use terrane_plugin::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, Diagnostics,
    ImportResourceStateRequest, PlanResourceChangeRequest, PlanResourceChangeResponse,
    ProviderSchema, ReadDataSourceRequest,
};
use terrane_value::{Type, Value};

use crate::common::*;

pub(crate) struct Null;

/// A random non-negative 63-bit integer in decimal, as the legacy plugin's
/// IDs and `random` values look.
fn random_decimal() -> String {
    rand::thread_rng().gen_range(0..=i64::MAX).to_string()
}

fn rules() -> PlanRules {
    PlanRules {
        force_new: vec!["triggers"],
        defaults: Vec::new(),
    }
}

impl Imp for Null {
    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.resource_schemas.insert(
            "null_resource".into(),
            schema(
                0,
                vec![
                    ("id", attr(Type::String, "oc")),
                    ("triggers", attr(map_str(), "o")),
                ],
            ),
        );
        s.data_source_schemas.insert(
            "null_data_source".into(),
            schema(
                0,
                vec![
                    ("has_computed_default", attr(Type::String, "oc")),
                    ("id", attr(Type::String, "oc")),
                    ("inputs", attr(map_str(), "o")),
                    ("outputs", attr(map_str(), "c")),
                    ("random", attr(Type::String, "c")),
                ],
            ),
        );
        s
    }

    fn legacy(&self) -> bool {
        true
    }

    fn plan(&self, ctx: &Ctx, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
        let (planned, replace) = plan_generic(ctx.block, &rules(), req);
        let mut r = match planned {
            None => plan_response(Value::null(ctx.ty.clone()), replace),
            Some((mut p, _)) => {
                // The legacy SDK's flatmap cannot hold a partly unknown
                // map: the real plugin plans `triggers = { a = <unknown> }`
                // as a wholly unknown map.
                let triggers = p.get("triggers");
                if triggers.is_known() && !triggers.is_wholly_known() {
                    p.set("triggers", Value::unknown(map_str()));
                }
                plan_response(p.to_value(), replace)
            }
        };
        r.planned_private = b"null".to_vec();
        r
    }

    fn apply(&self, ctx: &Ctx, req: &ApplyResourceChangeRequest) -> ApplyResourceChangeResponse {
        if req.planned_state.is_null() {
            return apply_response(Value::null(ctx.ty.clone()), Diagnostics::new());
        }
        let mut obj = Obj::from_value(ctx.block, &req.planned_state);
        fill_unknowns(&mut obj, |n| (n == "id").then(|| str_val(random_decimal())));
        let mut r = apply_response(obj.to_value(), Diagnostics::new());
        r.private = b"null".to_vec();
        r
    }

    fn import(&self, _ctx: &Ctx, req: &ImportResourceStateRequest) -> Result<Obj, Diagnostics> {
        Err(err_diag(
            format!("resource {} doesn't support import", req.type_name),
            "",
        ))
    }

    fn read_data(&self, ctx: &Ctx, req: &ReadDataSourceRequest) -> Result<Obj, Diagnostics> {
        let mut obj = Obj::from_value(ctx.block, &req.config);
        let inputs = obj.get("inputs");
        let outputs = if inputs.is_null() {
            Value::map_empty(Type::String)
        } else {
            inputs
        };
        obj.set("outputs", outputs);
        obj.set("random", str_val(random_decimal()));
        if obj.is_null("has_computed_default") {
            obj.set("has_computed_default", str_val("default"));
        }
        obj.set("id", str_val("static"));
        Ok(obj)
    }
}
