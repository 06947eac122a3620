//! `hashicorp/time` 0.x (emulating 0.12/0.13 schemas): `time_static`,
//! `time_offset`, `time_rotating`, `time_sleep`.
//!
//! Timestamps are RFC 3339 (seconds precision, as Go's `time.RFC3339`).
//! `time_rotating` reads as gone (null state) once its rotation time has
//! passed, so the next plan re-creates it. `time_sleep` sleeps in apply
//! (create and destroy) and wakes early when the provider is stopped.

use std::time::{Duration, Instant};

use terrane_plugin::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, Diagnostics,
    ImportResourceStateRequest, PlanResourceChangeRequest, PlanResourceChangeResponse,
    ProviderSchema, ReadResourceRequest, ReadResourceResponse,
};
use terrane_value::{Path, Type, Value};

use crate::common::*;
use crate::timeutil::{parse_duration, Ts};

pub(crate) struct Time;

const PARTS: &[&str] = &["day", "hour", "minute", "month", "second", "unix", "year"];
const OFFSETS: &[&str] = &[
    "offset_days",
    "offset_hours",
    "offset_minutes",
    "offset_months",
    "offset_seconds",
    "offset_years",
];
const ROTATIONS: &[&str] = &[
    "rotation_days",
    "rotation_hours",
    "rotation_minutes",
    "rotation_months",
    "rotation_years",
];

fn num_c() -> terrane_plugin::Attribute {
    attr(Type::Number, "c")
}

fn with_parts(
    mut attrs: Vec<(&'static str, terrane_plugin::Attribute)>,
) -> Vec<(&'static str, terrane_plugin::Attribute)> {
    for p in PARTS {
        attrs.push((p, num_c()));
    }
    attrs
}

fn rules(ty: &str) -> PlanRules {
    PlanRules {
        force_new: match ty {
            "time_static" => vec!["rfc3339", "triggers"],
            "time_offset" => vec!["base_rfc3339", "triggers"],
            "time_rotating" => vec!["rfc3339", "triggers"],
            _ => vec!["triggers"],
        },
        defaults: Vec::new(),
    }
}

/// Arguments whose change recomputes (rather than replaces) outputs, and
/// the outputs they recompute.
fn recompute(ty: &str) -> (&'static [&'static str], Vec<&'static str>) {
    match ty {
        "time_offset" => {
            let mut outs = PARTS.to_vec();
            outs.push("rfc3339");
            (OFFSETS, outs)
        }
        "time_rotating" => (ROTATIONS, vec!["rotation_rfc3339"]),
        _ => (&[], Vec::new()),
    }
}

fn set_parts(obj: &mut Obj, t: &Ts) {
    let c = t.civil();
    for (n, v) in [
        ("year", c.year),
        ("month", c.month),
        ("day", c.day),
        ("hour", c.hour),
        ("minute", c.minute),
        ("second", c.second),
        ("unix", t.unix),
    ] {
        obj.set(n, Value::from_i64(v));
    }
}

fn parse_ts(obj: &Obj, name: &str) -> Result<Option<Ts>, Diagnostics> {
    match obj.str(name) {
        None => Ok(None),
        Some(s) => Ts::parse(&s).map(Some).ok_or_else(|| {
            Diagnostics(vec![attr_err(
                name,
                "Invalid Attribute Value",
                format!("Attribute {name} value must be a valid RFC3339 timestamp, got: {s:?}"),
            )])
        }),
    }
}

fn offset_time(obj: &Obj, base: &Ts) -> Ts {
    let g = |n: &str| obj.i64(n).unwrap_or(0);
    base.add_date(g("offset_years"), g("offset_months"), g("offset_days"))
        .add_secs(g("offset_hours") * 3600 + g("offset_minutes") * 60 + g("offset_seconds"))
}

fn rotation_time(obj: &Obj, base: &Ts) -> Result<Ts, Diagnostics> {
    let any_rot = ROTATIONS.iter().any(|r| !obj.is_null(r));
    if !any_rot {
        if let Some(t) = parse_ts(obj, "rotation_rfc3339")? {
            return Ok(t);
        }
    }
    let g = |n: &str| obj.i64(n).unwrap_or(0);
    Ok(base
        .add_date(
            g("rotation_years"),
            g("rotation_months"),
            g("rotation_days"),
        )
        .add_secs(g("rotation_hours") * 3600 + g("rotation_minutes") * 60))
}

/// Computes every output of a resource from its arguments (`now` when no
/// base time is configured).
fn compute(ty: &str, obj: &mut Obj) -> Result<(), Diagnostics> {
    match ty {
        "time_static" => {
            let t = parse_ts(obj, "rfc3339")?.unwrap_or_else(Ts::now);
            obj.set("rfc3339", str_val(t.format()));
            obj.set("id", str_val(t.format()));
            set_parts(obj, &t);
        }
        "time_offset" => {
            let base = parse_ts(obj, "base_rfc3339")?.unwrap_or_else(Ts::now);
            obj.set("base_rfc3339", str_val(base.format()));
            obj.set("id", str_val(base.format()));
            let t = offset_time(obj, &base);
            obj.set("rfc3339", str_val(t.format()));
            set_parts(obj, &t);
        }
        "time_rotating" => {
            let base = parse_ts(obj, "rfc3339")?.unwrap_or_else(Ts::now);
            obj.set("rfc3339", str_val(base.format()));
            obj.set("id", str_val(base.format()));
            let rot = rotation_time(obj, &base)?;
            obj.set("rotation_rfc3339", str_val(rot.format()));
            set_parts(obj, &base);
        }
        _ => {
            if !obj.is_known("id") {
                obj.set("id", str_val(Ts::now().format()));
            }
        }
    }
    Ok(())
}

/// Sleeps `d`, waking every 100ms to check the stop flag. Returns false
/// if interrupted.
fn sleep(ctx: &Ctx, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if ctx.stopped() {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(100)));
    }
}

fn duration_arg(obj: &Obj, name: &str) -> Result<Option<Duration>, Diagnostics> {
    match obj.str(name) {
        None => Ok(None),
        Some(s) => parse_duration(&s)
            .map(Some)
            .map_err(|m| Diagnostics(vec![attr_err(name, "Invalid Attribute Value", m)])),
    }
}

fn interrupted(ctx: &Ctx) -> Diagnostics {
    let _ = ctx;
    err_diag(
        "Interrupted",
        "The sleep was interrupted because Terraform is stopping.",
    )
}

impl Imp for Time {
    fn schema(&self) -> ProviderSchema {
        let mut s = ProviderSchema::default();
        s.resource_schemas.insert(
            "time_static".into(),
            schema(
                0,
                with_parts(vec![
                    ("id", attr(Type::String, "c")),
                    ("rfc3339", attr(Type::String, "oc")),
                    ("triggers", attr(map_str(), "o")),
                ]),
            ),
        );
        let mut offset = vec![
            ("base_rfc3339", attr(Type::String, "oc")),
            ("id", attr(Type::String, "c")),
            ("rfc3339", attr(Type::String, "c")),
            ("triggers", attr(map_str(), "o")),
        ];
        for o in OFFSETS {
            offset.push((o, attr(Type::Number, "o")));
        }
        s.resource_schemas
            .insert("time_offset".into(), schema(0, with_parts(offset)));
        let mut rotating = vec![
            ("id", attr(Type::String, "c")),
            ("rfc3339", attr(Type::String, "oc")),
            ("rotation_rfc3339", attr(Type::String, "oc")),
            ("triggers", attr(map_str(), "o")),
        ];
        for r in ROTATIONS {
            rotating.push((r, attr(Type::Number, "o")));
        }
        s.resource_schemas
            .insert("time_rotating".into(), schema(0, with_parts(rotating)));
        s.resource_schemas.insert(
            "time_sleep".into(),
            schema(
                0,
                vec![
                    ("create_duration", attr(Type::String, "o")),
                    ("destroy_duration", attr(Type::String, "o")),
                    ("id", attr(Type::String, "c")),
                    ("triggers", attr(map_str(), "o")),
                ],
            ),
        );
        s
    }

    fn validate_resource(&self, ty: &str, c: &Obj) -> Diagnostics {
        let mut d = Diagnostics::new();
        let mut check = |r: Result<(), Diagnostics>| {
            if let Err(e) = r {
                d.extend(e);
            }
        };
        match ty {
            "time_static" => check(parse_ts(c, "rfc3339").map(drop)),
            "time_offset" => {
                check(parse_ts(c, "base_rfc3339").map(drop));
                if OFFSETS.iter().all(|o| c.is_null(o)) {
                    check(Err(err_diag(
                        "Missing Attribute Configuration",
                        format!(
                            "At least one of these attributes must be configured: [{}]",
                            OFFSETS.join(",")
                        ),
                    )));
                }
            }
            "time_rotating" => {
                check(parse_ts(c, "rfc3339").map(drop));
                check(parse_ts(c, "rotation_rfc3339").map(drop));
                if ROTATIONS.iter().all(|o| c.is_null(o)) && c.is_null("rotation_rfc3339") {
                    check(Err(err_diag(
                        "Missing Attribute Configuration",
                        format!(
                            "At least one of these attributes must be configured: [{},rotation_rfc3339]",
                            ROTATIONS.join(",")
                        ),
                    )));
                }
                for r in ROTATIONS {
                    if c.i64(r).is_some_and(|v| v < 1) {
                        check(Err(Diagnostics(vec![attr_err(
                            r,
                            "Invalid Attribute Value",
                            format!("Attribute {r} value must be at least 1"),
                        )])));
                    }
                }
            }
            _ => {
                check(duration_arg(c, "create_duration").map(drop));
                check(duration_arg(c, "destroy_duration").map(drop));
            }
        }
        d
    }

    fn plan(&self, ctx: &Ctx, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
        let (planned, replace) = plan_generic(ctx.block, &rules(&req.type_name), req);
        let Some((mut p, config)) = planned else {
            return plan_response(Value::null(ctx.ty.clone()), replace);
        };
        if !req.prior_state.is_null() && replace.is_empty() {
            let prior = Obj::from_value(ctx.block, &req.prior_state);
            let (args, outs) = recompute(&req.type_name);
            if args.iter().any(|a| !p.get(a).raw_equal(&prior.get(a))) {
                for o in outs {
                    if config.is_null(o) {
                        let ty = ctx.ty.attribute_type(o).cloned().unwrap_or(Type::Dynamic);
                        p.set(o, Value::unknown(ty));
                    }
                }
            }
        }
        let replace: Vec<Path> = replace;
        plan_response(p.to_value(), replace)
    }

    fn apply(&self, ctx: &Ctx, req: &ApplyResourceChangeRequest) -> ApplyResourceChangeResponse {
        let null = Value::null(ctx.ty.clone());
        if req.planned_state.is_null() {
            if req.type_name == "time_sleep" {
                let prior = Obj::from_value(ctx.block, &req.prior_state);
                match duration_arg(&prior, "destroy_duration") {
                    Ok(Some(d)) if !sleep(ctx, d) => {
                        return apply_response(req.prior_state.clone(), interrupted(ctx))
                    }
                    Err(e) => return apply_response(req.prior_state.clone(), e),
                    _ => {}
                }
            }
            return apply_response(null, Diagnostics::new());
        }
        let mut obj = Obj::from_value(ctx.block, &req.planned_state);
        let creating = req.prior_state.is_null();
        if req.type_name == "time_sleep" && creating {
            match duration_arg(&obj, "create_duration") {
                Ok(Some(d)) if !sleep(ctx, d) => return apply_response(null, interrupted(ctx)),
                Err(e) => return apply_response(null, e),
                _ => {}
            }
        }
        if creating || obj.attrs.values().any(|v| !v.is_known()) {
            if let Err(d) = compute(&req.type_name, &mut obj) {
                return apply_response(null, d);
            }
        }
        apply_response(obj.to_value(), Diagnostics::new())
    }

    fn read(&self, ctx: &Ctx, req: &ReadResourceRequest) -> ReadResourceResponse {
        let keep = ReadResourceResponse {
            new_state: req.current_state.clone(),
            private: req.private.clone(),
            diagnostics: Diagnostics::new(),
        };
        if req.type_name != "time_rotating" {
            return keep;
        }
        let obj = Obj::from_value(ctx.block, &req.current_state);
        match obj.str("rotation_rfc3339").and_then(|s| Ts::parse(&s)) {
            Some(rot) if Ts::now().unix >= rot.unix => ReadResourceResponse {
                new_state: Value::null(ctx.ty.clone()),
                private: Vec::new(),
                diagnostics: Diagnostics::new(),
            },
            _ => keep,
        }
    }

    fn import(&self, ctx: &Ctx, req: &ImportResourceStateRequest) -> Result<Obj, Diagnostics> {
        let mut obj = Obj::empty(ctx.block);
        let id = req.id.as_str();
        let bad = |want: &str| {
            err_diag(
                "Resource Import Error",
                format!("Invalid import ID {id:?}: expected {want}."),
            )
        };
        let ts = |s: &str, want: &str| Ts::parse(s).ok_or_else(|| bad(want));
        let int = |s: &str, want: &str| -> Result<Option<Value>, Diagnostics> {
            if s.is_empty() {
                return Ok(None);
            }
            s.parse::<i64>()
                .map(|v| Some(Value::from_i64(v)))
                .map_err(|_| bad(want))
        };
        match req.type_name.as_str() {
            "time_static" => {
                let t = ts(id, "an RFC3339 timestamp")?;
                obj.set("rfc3339", str_val(t.format()));
            }
            "time_offset" => {
                let want = "BASETIMESTAMP,YEARS,MONTHS,DAYS,HOURS,MINUTES,SECONDS";
                let parts: Vec<&str> = id.split(',').collect();
                if parts.len() != 7 {
                    return Err(bad(want));
                }
                let t = ts(parts[0], want)?;
                obj.set("base_rfc3339", str_val(t.format()));
                let names = [
                    "offset_years",
                    "offset_months",
                    "offset_days",
                    "offset_hours",
                    "offset_minutes",
                    "offset_seconds",
                ];
                for (n, s) in names.iter().zip(&parts[1..]) {
                    if let Some(v) = int(s, want)? {
                        obj.set(n, v);
                    }
                }
            }
            "time_rotating" => {
                let want = "BASETIMESTAMP,YEARS,MONTHS,DAYS,HOURS,MINUTES or BASETIMESTAMP,ROTATIONTIMESTAMP";
                let parts: Vec<&str> = id.split(',').collect();
                match parts.len() {
                    2 => {
                        let t = ts(parts[0], want)?;
                        let r = ts(parts[1], want)?;
                        obj.set("rfc3339", str_val(t.format()));
                        obj.set("rotation_rfc3339", str_val(r.format()));
                    }
                    6 => {
                        let t = ts(parts[0], want)?;
                        obj.set("rfc3339", str_val(t.format()));
                        let names = [
                            "rotation_years",
                            "rotation_months",
                            "rotation_days",
                            "rotation_hours",
                            "rotation_minutes",
                        ];
                        for (n, s) in names.iter().zip(&parts[1..]) {
                            if let Some(v) = int(s, want)? {
                                obj.set(n, v);
                            }
                        }
                    }
                    _ => return Err(bad(want)),
                }
            }
            _ => {
                let want = "CREATEDURATION,DESTROYDURATION";
                let (c, d) = id.split_once(',').ok_or_else(|| bad(want))?;
                for (n, s) in [("create_duration", c), ("destroy_duration", d)] {
                    if !s.is_empty() {
                        parse_duration(s).map_err(|_| bad(want))?;
                        obj.set(n, str_val(s));
                    }
                }
                obj.set("id", str_val(Ts::now().format()));
            }
        }
        compute(&req.type_name, &mut obj)?;
        Ok(obj)
    }
}
