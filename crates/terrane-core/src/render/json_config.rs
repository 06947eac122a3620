//! The `configuration` section of `show -json FILE`: the modules'
//! resources, outputs, variables, module calls and provider blocks, each
//! expression as its references or, when it has none, its constant value.

use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use terrane_config::{Module, ModuleTree, Resource, ResourceMode, SrcExpr};
use terrane_hcl::ast::{Body, Expr, IndexKey, Structure, TraversalStep};

fn step_text(s: &TraversalStep) -> String {
    match s {
        TraversalStep::Attr(i) => format!(".{}", i.as_str()),
        TraversalStep::Index { key, .. } => match key {
            IndexKey::Number(n) => format!("[{n}]"),
            IndexKey::String(s) => {
                format!("[{}]", serde_json::to_string(&**s).unwrap_or_default())
            }
        },
    }
}

/// The references of an expression as Terraform lists them: the
/// reference as written up to the attribute it names, then the object
/// itself (`null_resource.a.id`, `null_resource.a`).
fn references(e: &Expr) -> Vec<String> {
    // Each traversal adds its own entries; Terraform does not merge
    // repeated references.
    let mut out: Vec<String> = Vec::new();
    e.walk_traversals(&mut |root, steps| {
        let mut push = |s: String| out.push(s);
        let root = root.as_str();
        // How many steps name the object (before its attribute).
        let object_len = match root {
            "var" | "local" | "count" | "each" | "path" | "terraform" | "self" => {
                if let Some(s) = steps.first() {
                    push(format!("{root}{}", step_text(s)));
                }
                return;
            }
            "module" | "data" => 2,
            _ => 1,
        };
        let mut object = root.to_string();
        for s in steps.iter().take(object_len) {
            object.push_str(&step_text(s));
        }
        let mut idx = object_len;
        let mut with_key = None;
        if let Some(s @ TraversalStep::Index { .. }) = steps.get(idx) {
            with_key = Some(format!("{object}{}", step_text(s)));
            idx += 1;
        }
        let base = with_key.clone().unwrap_or_else(|| object.clone());
        if let Some(s @ TraversalStep::Attr(_)) = steps.get(idx) {
            push(format!("{base}{}", step_text(s)));
        }
        if let Some(k) = with_key {
            push(k);
        }
        push(object);
    });
    out
}

/// Whether an expression calls a function (Terraform evaluates constants
/// without any functions, so such an expression has no constant value).
fn has_call(e: &Expr) -> bool {
    use terrane_hcl::ast::ExprKind;
    match &e.kind {
        ExprKind::Call { .. } => true,
        ExprKind::Tuple(xs) => xs.iter().any(has_call),
        ExprKind::Object(items) => items.iter().any(|i| has_call(&i.key) || has_call(&i.value)),
        ExprKind::Parens(x) | ExprKind::TemplateWrap(x) => has_call(x),
        ExprKind::Index {
            collection, key, ..
        } => has_call(collection) || has_call(key),
        _ => false,
    }
}

/// `{"references": [...]}` or `{"constant_value": V}`.
fn expression(e: &Expr) -> Json {
    let refs = references(e);
    if !refs.is_empty() {
        return json!({ "references": refs });
    }
    if has_call(e) {
        return json!({});
    }
    let scope = terrane_lang::Scope::new();
    let ctx = terrane_lang::EvalContext::new(&scope);
    let (v, diags) = terrane_lang::eval_expr(e, &ctx);
    if diags.has_errors() || !v.unmark_deep_value().is_wholly_known() {
        return json!({});
    }
    json!({ "constant_value": super::json_plan::value_json(&v) })
}

fn src(e: &SrcExpr) -> Json {
    expression(&e.expr)
}

/// A body's arguments and nested blocks (blocks as lists of bodies),
/// without the `skip` meta-arguments.
fn body_expressions(b: &Body, skip: &[&str]) -> Map<String, Json> {
    let mut out = Map::new();
    let mut blocks: BTreeMap<String, Vec<Json>> = BTreeMap::new();
    for item in &b.items {
        match item {
            Structure::Attribute(a) => {
                if skip.contains(&a.name.as_str()) {
                    continue;
                }
                out.insert(a.name.as_str().to_string(), expression(&a.expr));
            }
            Structure::Block(blk) => {
                let name = blk.ident.as_str();
                if skip.contains(&name) {
                    continue;
                }
                blocks
                    .entry(name.to_string())
                    .or_default()
                    .push(Json::Object(body_expressions(&blk.body, &[])));
            }
        }
    }
    for (k, v) in blocks {
        out.insert(k, Json::Array(v));
    }
    out
}

fn provider_key(path: &[String], name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{}:{name}", path.join("."))
    }
}

fn resource_json(r: &Resource, path: &[String], schema_versions: &BTreeMap<String, i64>) -> Json {
    let mut o = Map::new();
    let local = match r.mode {
        ResourceMode::Managed => format!("{}.{}", r.type_name, r.name),
        ResourceMode::Data => format!("data.{}.{}", r.type_name, r.name),
    };
    o.insert("address".into(), json!(local));
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
    let provider = match &r.provider {
        Some(p) => match &p.alias {
            Some(a) => format!("{}.{a}", p.name),
            None => p.name.clone(),
        },
        None => r
            .type_name
            .split('_')
            .next()
            .unwrap_or(&r.type_name)
            .to_string(),
    };
    o.insert(
        "provider_config_key".into(),
        json!(provider_key(path, &provider)),
    );
    let exprs = body_expressions(&r.config.body, Resource::META_ARGUMENTS);
    if !exprs.is_empty() {
        o.insert("expressions".into(), Json::Object(exprs));
    }
    o.insert(
        "schema_version".into(),
        json!(schema_versions.get(&r.type_name).copied().unwrap_or(0)),
    );
    if let Some(c) = &r.count {
        o.insert("count_expression".into(), src(c));
    }
    if let Some(f) = &r.for_each {
        o.insert("for_each_expression".into(), src(f));
    }
    if !r.depends_on.is_empty() {
        let deps: Vec<String> = r
            .depends_on
            .iter()
            .map(|t| {
                let mut s = t.root.as_str().to_string();
                for st in &t.steps {
                    s.push_str(&step_text(st));
                }
                s
            })
            .collect();
        o.insert("depends_on".into(), json!(deps));
    }
    Json::Object(o)
}

fn module_json(t: &ModuleTree, schema_versions: &BTreeMap<String, i64>) -> Json {
    let m: &Module = &t.module;
    let mut o = Map::new();
    if !m.outputs.is_empty() {
        let mut outs = Map::new();
        for (name, out) in &m.outputs {
            let mut x = Map::new();
            if out.sensitive {
                x.insert("sensitive".into(), json!(true));
            }
            if let Some(v) = &out.value {
                x.insert("expression".into(), src(v));
            }
            if let Some(d) = &out.description {
                x.insert("description".into(), json!(d));
            }
            outs.insert(name.clone(), Json::Object(x));
        }
        o.insert("outputs".into(), Json::Object(outs));
    }
    let mut resources: Vec<Json> = m
        .managed_resources
        .values()
        .chain(m.data_resources.values())
        .map(|r| resource_json(r, &t.path, schema_versions))
        .collect();
    // Managed resources first, then data sources, each by address.
    resources.sort_by(|a, b| {
        let key = |r: &Json| {
            (
                r["mode"] == "data",
                r["address"].as_str().unwrap_or_default().to_string(),
            )
        };
        key(a).cmp(&key(b))
    });
    if !resources.is_empty() {
        o.insert("resources".into(), Json::Array(resources));
    }
    if !m.module_calls.is_empty() {
        let mut calls = Map::new();
        for (name, call) in &m.module_calls {
            let mut x = Map::new();
            let source = match &call.source {
                Some(terrane_config::ModuleSource::Local(s)) => s.clone(),
                Some(other) => format!("{other:?}"),
                None => String::new(),
            };
            x.insert("source".into(), json!(source));
            let mut inputs = Map::new();
            for (k, input) in &call.inputs {
                inputs.insert(k.clone(), src(&input.value));
            }
            if !inputs.is_empty() {
                x.insert("expressions".into(), Json::Object(inputs));
            }
            if let Some(c) = &call.count {
                x.insert("count_expression".into(), src(c));
            }
            if let Some(f) = &call.for_each {
                x.insert("for_each_expression".into(), src(f));
            }
            if let Some(child) = t.children.get(name) {
                x.insert("module".into(), module_json(child, schema_versions));
            }
            if let Some(v) = &call.version {
                x.insert("version_constraint".into(), json!(v));
            }
            calls.insert(name.clone(), Json::Object(x));
        }
        o.insert("module_calls".into(), Json::Object(calls));
    }
    if !m.variables.is_empty() {
        let mut vars = Map::new();
        for (name, v) in &m.variables {
            let mut x = Map::new();
            if let Some(d) = &v.default {
                if let Some(c) = src(d).get("constant_value") {
                    x.insert("default".into(), c.clone());
                }
            }
            if let Some(d) = &v.description {
                x.insert("description".into(), json!(d));
            }
            if v.sensitive {
                x.insert("sensitive".into(), json!(true));
            }
            vars.insert(name.clone(), Json::Object(x));
        }
        o.insert("variables".into(), Json::Object(vars));
    }
    Json::Object(o)
}

fn provider_configs(t: &ModuleTree, out: &mut Map<String, Json>) {
    for p in t.module.providers.values() {
        let mut x = Map::new();
        x.insert("name".into(), json!(p.name));
        if let Some(a) = &p.alias {
            x.insert("alias".into(), json!(a));
        }
        if !t.path.is_empty() {
            x.insert(
                "module_address".into(),
                json!(t
                    .path
                    .iter()
                    .map(|s| format!("module.{s}"))
                    .collect::<Vec<_>>()
                    .join(".")),
            );
        }
        let constraint = t
            .module
            .terraform
            .required_providers
            .get(&p.name)
            .and_then(|r| r.version.clone());
        if let Some(v) = constraint {
            x.insert("version_constraint".into(), json!(v));
        }
        let exprs = body_expressions(&p.config.body, &["alias", "version"]);
        if !exprs.is_empty() {
            x.insert("expressions".into(), Json::Object(exprs));
        }
        out.insert(provider_key(&t.path, &p.addr()), Json::Object(x));
    }
    for c in t.children.values() {
        provider_configs(c, out);
    }
}

/// The `configuration` object.
pub fn configuration(tree: &ModuleTree, schema_versions: &BTreeMap<String, i64>) -> Json {
    let mut o = Map::new();
    let mut providers = Map::new();
    provider_configs(tree, &mut providers);
    if !providers.is_empty() {
        o.insert("provider_config".into(), Json::Object(providers));
    }
    o.insert("root_module".into(), module_json(tree, schema_versions));
    Json::Object(o)
}
