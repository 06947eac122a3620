//! terrane's plugin client against an independent protocol-6 server: the
//! provider in `tests/tfprovider` is written on the published `tf-provider`
//! framework, whose messages come from tonic-build and the framework's own
//! `tfplugin6.5.proto`, not from terrane's hand-written `proto.rs`.
//!
//! The project is not a workspace member (its build script needs `protoc`
//! and it brings a second gRPC stack), so this test builds it into
//! `<target>/tfprovider`. Without `cargo` or `protoc` the test skips
//! outside CI and fails under `CI=true`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use terrane_plugin::*;
use terrane_value::{Path as ValuePath, Type, Value};

const ADDRESS: &str = "registry.terraform.io/terrane/tfptest";
use terrane_testkit::TFPTEST_BINARY as BINARY;
const WIDGET: &str = "tfptest_widget";

/// The built provider binary (see terrane_testkit::build_tfptest_provider).
fn build_provider() -> Option<PathBuf> {
    terrane_testkit::build_tfptest_provider().map(|dir| dir.join(BINARY))
}

fn obj<const N: usize>(attrs: [(&str, Value); N]) -> Value {
    Value::object(attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn convert(v: &Value, ty: &Type) -> Value {
    match terrane_value::convert::convert(v, ty) {
        Ok(v) => v,
        Err(e) => panic!("value does not fit {ty:?}: {e:?}"),
    }
}

/// A `tfptest_widget` configuration (computed attributes null).
fn widget_config(ty: &Type, name: &str, second_key: &str) -> Value {
    let rule = |k: &str, v: Option<&str>| {
        obj([
            ("key", Value::string(k)),
            ("value", v.map_or(Value::null(Type::String), Value::string)),
            ("position", Value::null(Type::Number)),
        ])
    };
    let port = |p: i64, proto: Option<&str>| {
        obj([
            ("port", Value::from_i64(p)),
            (
                "protocol",
                proto.map_or(Value::null(Type::String), Value::string),
            ),
        ])
    };
    let v = obj([
        ("id", Value::null(Type::String)),
        ("name", Value::string(name)),
        ("summary", Value::null(Type::String)),
        (
            "settings",
            obj([
                ("color", Value::string("blue")),
                ("size", Value::from_i64(3)),
            ]),
        ),
        (
            "rules",
            Value::tuple(vec![rule("a", Some("1")), rule(second_key, None)]),
        ),
        (
            "ports",
            Value::tuple(vec![port(80, None), port(443, Some("tcp"))]),
        ),
        (
            "labels",
            Value::object(
                [("env".to_string(), obj([("value", Value::string("test"))]))]
                    .into_iter()
                    .collect(),
            ),
        ),
    ]);
    convert(&v, ty)
}

fn number_of(v: Option<&Value>) -> Option<i64> {
    v.and_then(Value::as_number).and_then(|n| n.to_i64())
}

fn call(p: &GrpcProvider, name: &str, args: Vec<Value>) -> CallFunctionResponse {
    p.call_function(&CallFunctionRequest {
        name: name.into(),
        arguments: args,
    })
}

#[test]
fn tf_provider_framework_server() {
    let Some(binary) = build_provider() else {
        return;
    };
    let p = match GrpcProvider::start(PluginConfig::new(ADDRESS, &binary)) {
        Ok(p) => p,
        Err(e) => panic!("cannot start {BINARY}: {e}"),
    };
    assert_eq!(p.protocol_version(), 6);

    // Schema: nested attributes decoded, functions listed.
    let r = p.get_schema();
    assert!(!r.diagnostics.has_errors(), "{}", r.diagnostics);
    let schema = r.schema.clone();
    let prefix = &schema.provider.block.attributes["prefix"];
    assert!(prefix.optional && !prefix.required && prefix.ty == Type::String);
    let meta = schema.provider_meta.as_ref().expect("provider_meta schema");
    assert!(meta.block.attributes.is_empty());
    let widget = schema.resource(WIDGET).expect("widget schema");
    assert_eq!(widget.version, 2);
    let modes: BTreeMap<&str, NestingMode> = widget
        .block
        .attributes
        .iter()
        .filter_map(|(n, a)| a.nested_type.as_ref().map(|nt| (n.as_str(), nt.nesting)))
        .collect();
    assert_eq!(
        modes,
        BTreeMap::from([
            ("labels", NestingMode::Map),
            ("ports", NestingMode::Set),
            ("rules", NestingMode::List),
            ("settings", NestingMode::Single),
        ])
    );
    let rules = &widget.block.attributes["rules"];
    let position = &rules.nested_type.as_ref().expect("nested").attributes["position"];
    assert!(position.computed && !position.optional && position.ty == Type::Number);
    assert_eq!(
        rules.ty,
        Type::list(Type::object_with_optional(
            [
                ("key", Type::String),
                ("position", Type::Number),
                ("value", Type::String),
            ],
            // A computed-only inner attribute is optional in the type.
            ["position", "value"],
        ))
    );
    let ports = &widget.block.attributes["ports"];
    assert_eq!(
        ports.ty,
        Type::set(Type::object_with_optional(
            [("port", Type::Number), ("protocol", Type::String)],
            ["protocol"],
        ))
    );
    assert!(widget.block.attributes["settings"].required);
    assert!(widget.block.attributes["id"].computed);
    let echo = schema.data_source("tfptest_echo").expect("echo schema");
    assert!(echo.block.attributes["reversed"].computed);
    assert_eq!(
        schema.functions.keys().collect::<Vec<_>>(),
        ["reverse", "sum"]
    );
    let reverse = &schema.functions["reverse"];
    assert_eq!(reverse.parameters.len(), 1);
    assert_eq!(reverse.parameters[0].name, "input");
    assert_eq!(reverse.parameters[0].ty, Type::String);
    assert_eq!(reverse.return_type, Type::String);
    assert_eq!(reverse.summary, "Reverses a string");
    let sum = &schema.functions["sum"];
    assert_eq!(sum.parameters[0].ty, Type::list(Type::Number));
    assert_eq!(sum.return_type, Type::Number);
    assert!(schema.server_capabilities.plan_destroy);
    assert!(!schema.server_capabilities.get_provider_schema_optional);

    let md = p.get_metadata();
    assert!(!md.diagnostics.has_errors(), "{}", md.diagnostics);
    assert_eq!(md.resources, [WIDGET]);
    assert_eq!(md.data_sources, ["tfptest_echo"]);
    let mut fns = md.functions.clone();
    fns.sort();
    assert_eq!(fns, ["reverse", "sum"]);
    let fr = p.get_functions();
    assert!(!fr.diagnostics.has_errors(), "{}", fr.diagnostics);
    assert_eq!(fr.functions.keys().collect::<Vec<_>>(), ["reverse", "sum"]);

    // Provider configuration.
    let pty = schema.provider.block.implied_type();
    let bad = p.validate_provider_config(&convert(&obj([("prefix", Value::string("a b"))]), &pty));
    let d = bad.diagnostics.iter().next().expect("a diagnostic");
    assert_eq!(d.summary, "Invalid prefix");
    assert_eq!(d.attribute, Some(ValuePath::root().attr("prefix")));
    let pconfig = convert(&obj([("prefix", Value::string("t-"))]), &pty);
    let ok = p.validate_provider_config(&pconfig);
    assert!(ok.diagnostics.is_empty(), "{}", ok.diagnostics);
    let cd = p.configure(&ConfigureRequest {
        terraform_version: "1.0.3".into(),
        config: pconfig,
    });
    assert!(cd.is_empty(), "{cd}");

    // Validation errors carry attribute paths into nested attributes.
    let ty = widget.block.implied_type();
    let bad = p.validate_resource_config(WIDGET, &widget_config(&ty, "", ""));
    let found: Vec<(String, Option<ValuePath>)> = bad
        .iter()
        .map(|d| (d.summary.clone(), d.attribute.clone()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "Invalid name".to_string(),
                Some(ValuePath::root().attr("name"))
            ),
            (
                "Invalid rule key".to_string(),
                Some(ValuePath::root().attr("rules").index_int(1).attr("key"))
            ),
        ]
    );
    let config = widget_config(&ty, "alpha", "b");
    let ok = p.validate_resource_config(WIDGET, &config);
    assert!(ok.is_empty(), "{ok}");

    // Create: id unknown in the plan, computed attributes filled.
    let plan = p.plan_resource_change(&PlanResourceChangeRequest {
        type_name: WIDGET.into(),
        prior_state: Value::null(ty.clone()),
        proposed_new_state: config.clone(),
        config: config.clone(),
        prior_private: Vec::new(),
        provider_meta: None,
    });
    assert!(plan.diagnostics.is_empty(), "{}", plan.diagnostics);
    assert!(plan.requires_replace.is_empty());
    let planned = plan.planned_state;
    assert!(!planned.get_attr("id").expect("id").is_known());
    assert_eq!(
        planned.get_attr("summary").and_then(Value::as_str),
        Some("2 rules, 2 ports, 1 labels")
    );
    let positions: Vec<Option<i64>> = (0..2)
        .map(|i| {
            number_of(
                planned
                    .get_attr("rules")
                    .and_then(|r| r.get_index(i))
                    .and_then(|r| r.get_attr("position")),
            )
        })
        .collect();
    assert_eq!(positions, [Some(0), Some(1)]);

    let applied = p.apply_resource_change(&ApplyResourceChangeRequest {
        type_name: WIDGET.into(),
        prior_state: Value::null(ty.clone()),
        planned_state: planned.clone(),
        config: config.clone(),
        planned_private: plan.planned_private,
        provider_meta: None,
    });
    assert!(applied.diagnostics.is_empty(), "{}", applied.diagnostics);
    let state = applied.new_state;
    assert_eq!(
        state.get_attr("id").and_then(Value::as_str),
        Some("t-widget-alpha")
    );
    for name in ["settings", "ports", "labels", "summary"] {
        let (got, want) = (state.get_attr(name), planned.get_attr(name));
        assert!(
            got.zip(want).is_some_and(|(g, w)| g.raw_equal(w)),
            "{name}: {got:?} != {want:?}"
        );
    }
    assert_eq!(
        number_of(state.get_attr("settings").and_then(|s| s.get_attr("size"))),
        Some(3)
    );

    let read = p.read_resource(&ReadResourceRequest {
        type_name: WIDGET.into(),
        current_state: state.clone(),
        private: applied.private.clone(),
        provider_meta: None,
    });
    assert!(read.diagnostics.is_empty(), "{}", read.diagnostics);
    assert!(read.new_state.raw_equal(&state), "{:?}", read.new_state);

    // The same configuration again: no change.
    let same = p.plan_resource_change(&PlanResourceChangeRequest {
        type_name: WIDGET.into(),
        prior_state: state.clone(),
        proposed_new_state: state.clone(),
        config: config.clone(),
        prior_private: read.private.clone(),
        provider_meta: None,
    });
    assert!(same.diagnostics.is_empty(), "{}", same.diagnostics);
    assert!(same.requires_replace.is_empty());
    assert!(same.planned_state.raw_equal(&state));

    // A new name forces replacement.
    let renamed = widget_config(&ty, "beta", "b");
    let replan = p.plan_resource_change(&PlanResourceChangeRequest {
        type_name: WIDGET.into(),
        prior_state: state.clone(),
        proposed_new_state: renamed.clone(),
        config: renamed,
        prior_private: Vec::new(),
        provider_meta: None,
    });
    assert!(replan.diagnostics.is_empty(), "{}", replan.diagnostics);
    assert_eq!(replan.requires_replace, [ValuePath::root().attr("name")]);
    assert!(!replan.planned_state.get_attr("id").expect("id").is_known());

    // Stored state of the current version passes through the upgrade (the
    // framework answers in JSON, not msgpack); older versions are refused.
    let json = terrane_value::json::marshal(&state, &ty).expect("state JSON");
    let up = p.upgrade_resource_state(&UpgradeResourceStateRequest {
        type_name: WIDGET.into(),
        version: 2,
        raw_state_json: Some(json.clone().into_bytes()),
        raw_state_flatmap: None,
    });
    assert!(up.diagnostics.is_empty(), "{}", up.diagnostics);
    assert!(
        up.upgraded_state.raw_equal(&state),
        "{:?}",
        up.upgraded_state
    );
    let old = p.upgrade_resource_state(&UpgradeResourceStateRequest {
        type_name: WIDGET.into(),
        version: 1,
        raw_state_json: Some(json.into_bytes()),
        raw_state_flatmap: None,
    });
    assert!(old.diagnostics.has_errors());
    assert_eq!(
        old.diagnostics.iter().next().map(|d| d.summary.as_str()),
        Some("Upgrade is not supported")
    );
    let import = p.import_resource_state(&ImportResourceStateRequest {
        type_name: WIDGET.into(),
        id: "x".into(),
    });
    assert!(import.imported_resources.is_empty());
    assert_eq!(
        import.diagnostics.iter().next().map(|d| d.summary.as_str()),
        Some("Import is not supported")
    );

    // Destroy: planned (the provider announces plan_destroy), then applied.
    let destroy_plan = p.plan_resource_change(&PlanResourceChangeRequest {
        type_name: WIDGET.into(),
        prior_state: state.clone(),
        proposed_new_state: Value::null(ty.clone()),
        config: Value::null(ty.clone()),
        prior_private: read.private.clone(),
        provider_meta: None,
    });
    assert!(
        destroy_plan.diagnostics.is_empty(),
        "{}",
        destroy_plan.diagnostics
    );
    assert!(destroy_plan.planned_state.is_null());
    let destroyed = p.apply_resource_change(&ApplyResourceChangeRequest {
        type_name: WIDGET.into(),
        prior_state: state,
        planned_state: Value::null(ty.clone()),
        config: Value::null(ty.clone()),
        planned_private: destroy_plan.planned_private,
        provider_meta: None,
    });
    assert!(
        destroyed.diagnostics.is_empty(),
        "{}",
        destroyed.diagnostics
    );
    assert!(destroyed.new_state.is_null());

    // Data source.
    let ety = echo.block.implied_type();
    let data = p.read_data_source(&ReadDataSourceRequest {
        type_name: "tfptest_echo".into(),
        config: convert(
            &obj([
                ("input", Value::string("héllo")),
                ("reversed", Value::null(Type::String)),
            ]),
            &ety,
        ),
        provider_meta: None,
    });
    assert!(data.diagnostics.is_empty(), "{}", data.diagnostics);
    assert_eq!(
        data.state.get_attr("reversed").and_then(Value::as_str),
        Some("olléh")
    );

    // Functions, and their two kinds of failure.
    let r = call(&p, "reverse", vec![Value::string("héllo")]);
    assert!(r.diagnostics.is_empty(), "{}", r.diagnostics);
    assert!(r.error.is_none());
    assert_eq!(r.result.as_str(), Some("olléh"));
    let r = call(&p, "reverse", vec![Value::string("")]);
    assert_eq!(
        r.error,
        Some(FunctionError {
            text: "the string to reverse must not be empty".into(),
            argument: Some(0),
        })
    );
    assert!(r.result.is_null());
    let d = r.diagnostics.iter().next().expect("mapped diagnostic");
    assert_eq!(d.summary, "Invalid function argument");
    assert_eq!(
        d.detail,
        "Invalid value for \"input\" parameter: the string to reverse must not be empty."
    );
    let numbers = |ns: &[i64]| {
        Value::list(
            Type::Number,
            ns.iter().map(|n| Value::from_i64(*n)).collect(),
        )
    };
    let r = call(&p, "sum", vec![numbers(&[1, 2, 39])]);
    assert!(r.diagnostics.is_empty(), "{}", r.diagnostics);
    assert_eq!(number_of(Some(&r.result)), Some(42));
    let r = call(&p, "sum", vec![numbers(&[i64::MAX, 1])]);
    assert_eq!(
        r.error,
        Some(FunctionError {
            text: "the sum overflows a 64-bit integer".into(),
            argument: None,
        })
    );
    assert_eq!(
        r.diagnostics.iter().next().map(|d| d.summary.as_str()),
        Some("Error in function call")
    );
    // Unknown names are refused before the call, from the signatures.
    let r = call(&p, "nope", vec![]);
    assert!(r.error.is_none());
    assert_eq!(
        r.diagnostics.iter().next().map(|d| d.summary.as_str()),
        Some("Call to unknown function")
    );

    let cd = p.close();
    assert!(!cd.has_errors(), "{cd}");
}
