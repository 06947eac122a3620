//! Starts the protocol-6 test provider through terrane's plugin client and
//! exercises every RPC through the `Provider` trait.

use std::collections::BTreeMap;

use terrane_plugin::*;
use terrane_value::{Path, Type, Value};

const THING: &str = "terranetest_thing";

fn start() -> GrpcProvider {
    let cfg = PluginConfig::new(
        "registry.terraform.io/terrane/terranetest",
        env!("CARGO_BIN_EXE_terraform-provider-terranetest"),
    );
    match GrpcProvider::start(cfg) {
        Ok(p) => p,
        Err(e) => panic!("cannot start the test provider: {e}"),
    }
}

fn obj<const N: usize>(attrs: [(&str, Value); N]) -> Value {
    Value::object(attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

/// A configuration of `terranetest_thing`, converted to the schema type.
fn thing_config(ty: &Type, name: &str) -> Value {
    let item = |k: &str, v: &str| obj([("key", Value::string(k)), ("value", Value::string(v))]);
    let port = |p: i64| {
        obj([
            ("port", Value::from_i64(p)),
            ("protocol", Value::null(Type::String)),
        ])
    };
    let v = obj([
        ("id", Value::null(Type::String)),
        ("name", Value::string(name)),
        ("plan_delay_ms", Value::null(Type::Number)),
        ("summary", Value::null(Type::String)),
        (
            "single",
            obj([("a", Value::string("x")), ("b", Value::from_i64(2))]),
        ),
        ("list", Value::tuple(vec![item("k", "v")])),
        ("set", Value::tuple(vec![port(80), port(443)])),
        (
            "map",
            Value::object(
                [("one".to_string(), obj([("value", Value::string("1"))]))]
                    .into_iter()
                    .collect(),
            ),
        ),
    ]);
    match terrane_value::convert::convert(&v, ty) {
        Ok(v) => v,
        Err(e) => panic!("config does not fit the schema type {ty:?}: {e:?}"),
    }
}

#[test]
fn schema_plan_apply_read_functions() {
    let p = start();
    assert_eq!(p.protocol_version(), 6);

    // Schema: nested attributes in every nesting mode.
    let r = p.get_schema();
    assert!(!r.diagnostics.has_errors(), "{}", r.diagnostics);
    let schema = r.schema.clone();
    let thing = schema.resource(THING).expect("resource schema");
    assert_eq!(thing.version, 1);
    let modes: BTreeMap<&str, NestingMode> = thing
        .block
        .attributes
        .iter()
        .filter_map(|(n, a)| a.nested_type.as_ref().map(|nt| (n.as_str(), nt.nesting)))
        .collect();
    assert_eq!(
        modes,
        BTreeMap::from([
            ("list", NestingMode::List),
            ("map", NestingMode::Map),
            ("set", NestingMode::Set),
            ("single", NestingMode::Single),
        ])
    );
    let set = &thing.block.attributes["set"];
    let port = &set.nested_type.as_ref().expect("nested").attributes["port"];
    assert!(port.required && port.ty == Type::Number);
    let set_elem = Type::object_with_optional(
        [("port", Type::Number), ("protocol", Type::String)],
        ["protocol"],
    );
    assert_eq!(set.ty, Type::set(set_elem));
    assert!(schema.server_capabilities.get_provider_schema_optional);
    assert!(schema.server_capabilities.move_resource_state);
    assert!(!schema.server_capabilities.plan_destroy);
    let greet = &schema.functions["greet"];
    assert_eq!(greet.parameters.len(), 1);
    assert_eq!(greet.parameters[0].name, "name");
    assert_eq!(
        greet.variadic_parameter.as_ref().map(|v| v.name.as_str()),
        Some("suffixes")
    );
    assert_eq!(greet.return_type, Type::String);
    assert!(schema.functions["describe"].parameters[0].allow_null_value);

    let md = p.get_metadata();
    assert!(!md.diagnostics.has_errors(), "{}", md.diagnostics);
    assert_eq!(md.resources, vec![THING.to_string()]);
    assert_eq!(
        md.functions,
        vec!["describe".to_string(), "greet".to_string()]
    );
    assert!(md.server_capabilities.get_provider_schema_optional);
    let fns = p.get_functions();
    assert_eq!(
        fns.functions.keys().collect::<Vec<_>>(),
        ["describe", "greet"]
    );

    // Validate, configure, plan, apply, read.
    let ty = thing.block.implied_type();
    let bad = p.validate_resource_config(THING, &thing_config(&ty, ""));
    assert!(bad.has_errors());
    let d = bad.iter().next().expect("one diagnostic");
    assert_eq!(d.summary, "Invalid name");
    assert_eq!(d.attribute, Some(Path::root().attr("name")));
    let config = thing_config(&ty, "alpha");
    let ok = p.validate_resource_config(THING, &config);
    assert!(ok.is_empty(), "{ok}");
    let cd = p.configure(&ConfigureRequest {
        terraform_version: "1.0.3".into(),
        config: Value::object(
            [("prefix".to_string(), Value::null(Type::String))]
                .into_iter()
                .collect(),
        ),
    });
    assert!(cd.is_empty(), "{cd}");

    let plan = p.plan_resource_change(&PlanResourceChangeRequest {
        type_name: THING.into(),
        prior_state: Value::null(ty.clone()),
        proposed_new_state: config.clone(),
        config: config.clone(),
        prior_private: Vec::new(),
        provider_meta: None,
    });
    assert!(plan.diagnostics.is_empty(), "{}", plan.diagnostics);
    let planned = plan.planned_state;
    assert!(!planned.get_attr("id").expect("id").is_known());
    assert_eq!(
        planned.get_attr("summary").and_then(Value::as_str),
        Some("1 list, 2 set, 1 map")
    );
    assert_eq!(planned.get_attr("set").and_then(Value::length), Some(2));

    let applied = p.apply_resource_change(&ApplyResourceChangeRequest {
        type_name: THING.into(),
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
        Some("thing-alpha")
    );
    assert!(state
        .get_attr("map")
        .is_some_and(|m| m.raw_equal(config.get_attr("map").expect("map"))));

    let read = p.read_resource(&ReadResourceRequest {
        type_name: THING.into(),
        current_state: state.clone(),
        private: Vec::new(),
        provider_meta: None,
    });
    assert!(read.diagnostics.is_empty(), "{}", read.diagnostics);
    assert!(read.new_state.raw_equal(&state));

    // Renaming forces replacement.
    let renamed = thing_config(&ty, "beta");
    let replan = p.plan_resource_change(&PlanResourceChangeRequest {
        type_name: THING.into(),
        prior_state: state.clone(),
        proposed_new_state: renamed.clone(),
        config: renamed,
        prior_private: Vec::new(),
        provider_meta: None,
    });
    assert_eq!(replan.requires_replace, vec![Path::root().attr("name")]);

    // State moves from another type whose JSON fits.
    let json = terrane_value::json::marshal(&state, &ty).expect("state JSON");
    let moved = p.move_resource_state(&MoveResourceStateRequest {
        source_provider_address: "registry.terraform.io/example/old".into(),
        source_type_name: "old_thing".into(),
        source_schema_version: 0,
        source_state_json: json.into_bytes(),
        source_private: Vec::new(),
        target_type_name: THING.into(),
    });
    assert!(moved.diagnostics.is_empty(), "{}", moved.diagnostics);
    assert!(moved.target_state.raw_equal(&state));

    // Functions.
    let call = |name: &str, args: Vec<Value>| {
        p.call_function(&CallFunctionRequest {
            name: name.into(),
            arguments: args,
        })
    };
    let r = call(
        "greet",
        vec![
            Value::string("World"),
            Value::string("!"),
            Value::string("?"),
        ],
    );
    assert!(r.diagnostics.is_empty(), "{}", r.diagnostics);
    assert_eq!(r.result.as_str(), Some("Hello, World!?"));
    let r = call("greet", vec![Value::string("")]);
    assert_eq!(
        r.error,
        Some(FunctionError {
            text: "the name must not be empty".into(),
            argument: Some(0)
        })
    );
    assert_eq!(
        r.diagnostics.to_string(),
        "Error: Invalid function argument\nInvalid value for \"name\" parameter: the name must not be empty."
    );
    // An error not tied to an argument.
    let r = call("greet", vec![]);
    assert_eq!(
        r.error,
        Some(FunctionError {
            text: "a name is required".into(),
            argument: None
        })
    );
    assert_eq!(
        r.diagnostics.to_string(),
        "Error: Error in function call\nCall to function \"greet\" failed: a name is required."
    );
    let r = call(
        "describe",
        vec![Value::list(Type::String, vec![Value::string("a")])],
    );
    assert_eq!(
        r.result.as_str(),
        Some("list of string"),
        "{}",
        r.diagnostics
    );
    let r = call("describe", vec![Value::null_dynamic()]);
    assert_eq!(r.result.as_str(), Some("null"), "{}", r.diagnostics);
    let r = call("nope", vec![]);
    assert_eq!(
        r.diagnostics.to_string(),
        "Error: Call to unknown function\nThe provider registry.terraform.io/terrane/terranetest does not define a function named \"nope\"."
    );

    let pid = p.pid();
    assert!(pid.is_some());
    let d = p.close();
    assert!(d.is_empty(), "{d}");
    assert!(
        p.exit_status().is_some(),
        "the plugin must have exited after close"
    );
}

/// Without the magic cookie the binary refuses to run, as go-plugin
/// servers do.
#[test]
fn refuses_to_run_directly() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-terranetest"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("This binary is a plugin"));
}

/// Without a client certificate (AutoMTLS off) the plugin serves plain
/// HTTP/2, as go-plugin servers do; the default start above uses mTLS.
#[test]
fn plain_grpc_without_auto_mtls() {
    let mut cfg = PluginConfig::new(
        "registry.terraform.io/terrane/terranetest",
        env!("CARGO_BIN_EXE_terraform-provider-terranetest"),
    );
    cfg.auto_mtls = false;
    let p = GrpcProvider::start(cfg).unwrap_or_else(|e| panic!("start: {e}"));
    let r = p.call_function(&CallFunctionRequest {
        name: "greet".into(),
        arguments: vec![Value::string("plain")],
    });
    assert!(r.diagnostics.is_empty(), "{}", r.diagnostics);
    assert_eq!(r.result.as_str(), Some("Hello, plain"));
    assert!(p.close().is_empty());
}
