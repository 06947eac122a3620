//! Runs the real hashicorp/null and hashicorp/aws plugins from the offline
//! mirror made by `shared/peer/setup.sh` (`/tmp/terrane-peer`, or
//! `TERRANE_PEER_DIR`), and compares their schemas with what Terraform 1.0.3
//! printed for `terraform providers schema -json`. Skips (with a message)
//! when the mirror is absent.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use terrane_plugin::*;
use terrane_value::{Type, Value};

const NULL_ADDR: &str = "registry.terraform.io/hashicorp/null";
const AWS_ADDR: &str = "registry.terraform.io/hashicorp/aws";

fn peer_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TERRANE_PEER_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/terrane-peer"));
    if dir.join("mirror").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: no provider mirror at {} (run `bash shared/peer/setup.sh` or set TERRANE_PEER_DIR)",
            dir.display()
        );
        None
    }
}

fn plugin_binary(peer: &std::path::Path, ty: &str, version: &str) -> Option<PathBuf> {
    let dir = peer
        .join("mirror/registry.terraform.io/hashicorp")
        .join(ty)
        .join(version)
        .join("linux_amd64");
    let found = std::fs::read_dir(&dir).ok()?.flatten().find(|e| {
        e.file_name()
            .to_string_lossy()
            .starts_with(&format!("terraform-provider-{ty}"))
    });
    if found.is_none() {
        eprintln!("skipping: no {ty} plugin under {}", dir.display());
    }
    found.map(|e| e.path())
}

fn fixture(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture_text(name)).expect("fixture JSON")
}

fn fixture_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let bytes = std::fs::read(&path).expect("read fixture");
    if name.ends_with(".gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .expect("gunzip fixture");
        s
    } else {
        String::from_utf8(bytes).expect("utf-8 fixture")
    }
}

fn start(name: &str, path: PathBuf) -> GrpcProvider {
    let mut cfg = PluginConfig::new(name, path);
    cfg.timeouts.handshake = Duration::from_secs(30);
    GrpcProvider::start(cfg).unwrap_or_else(|e| panic!("start: {e}"))
}

/// Reports the first difference between two JSON documents.
fn first_diff(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    match (a, b) {
        (J::Object(x), J::Object(y)) => {
            for (k, p) in x {
                match y.get(k) {
                    Some(q) => {
                        if let Some(d) = first_diff(&format!("{path}.{k}"), p, q) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{path}.{k}: only in ours: {p}")),
                }
            }
            y.iter()
                .find(|(k, _)| !x.contains_key(*k))
                .map(|(k, q)| format!("{path}.{k}: only in Terraform's: {q}"))
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn null_provider_schema_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    let Some(bin) = plugin_binary(&peer, "null", "2.1.2") else {
        return;
    };
    let t0 = Instant::now();
    let p = start(NULL_ADDR, bin);
    let started = t0.elapsed();
    let r = p.get_schema();
    let total = t0.elapsed();
    assert!(r.diagnostics.is_empty(), "{}", r.diagnostics);
    assert_eq!(p.protocol_version(), 5);
    eprintln!(
        "null: start+handshake+connect {:?}, schema fetch+decode {:?}",
        started,
        total - started
    );
    let got = schema_json([(NULL_ADDR, &*r.schema)]);
    let want = fixture("null-2.1.2-schema.json");
    if let Some(d) = first_diff("", &got, &want) {
        panic!("schema JSON differs from Terraform's: {d}");
    }
    // Byte for byte, as the CLI prints it.
    assert!(
        to_go_json(&got) + "\n" == fixture_text("null-2.1.2-schema.json"),
        "JSON-equal but not byte-identical"
    );
    assert!(p.close().is_empty());
    assert!(p.exit_status().is_some(), "process should have exited");
}

#[test]
fn aws_provider_schema_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    let Some(bin) = plugin_binary(&peer, "aws", "3.39.0") else {
        return;
    };
    let t0 = Instant::now();
    let p = start(AWS_ADDR, bin);
    let started = t0.elapsed();
    let r = p.get_schema();
    let total = t0.elapsed();
    assert!(r.diagnostics.is_empty(), "{}", r.diagnostics);
    eprintln!(
        "aws: start+handshake+connect {:?}, schema fetch+decode {:?} ({} resources, {} data sources)",
        started,
        total - started,
        r.schema.resource_schemas.len(),
        r.schema.data_source_schemas.len()
    );
    let got = schema_json([(AWS_ADDR, &*r.schema)]);
    let want = fixture("aws-3.39.0-schema.json.gz");
    if let Some(d) = first_diff("", &got, &want) {
        panic!("schema JSON differs from Terraform's: {d}");
    }
    // Byte for byte, as the CLI prints it.
    assert!(
        to_go_json(&got) + "\n" == fixture_text("aws-3.39.0-schema.json.gz"),
        "JSON-equal but not byte-identical"
    );
    p.close();
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    Value::object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn str_map(pairs: &[(&str, &str)]) -> Value {
    let m: BTreeMap<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::string(*v)))
        .collect();
    Value::map(Type::String, m)
}

/// The whole resource lifecycle against the real null provider.
#[test]
fn null_provider_lifecycle() {
    let Some(peer) = peer_dir() else { return };
    let Some(bin) = plugin_binary(&peer, "null", "2.1.2") else {
        return;
    };
    let p = start(NULL_ADDR, bin);

    let empty = Value::empty_object();
    let v = p.validate_provider_config(&empty);
    assert!(v.diagnostics.is_empty(), "{}", v.diagnostics);
    let d = p.configure(&ConfigureRequest {
        terraform_version: "1.0.3".into(),
        config: empty,
    });
    assert!(d.is_empty(), "{d}");

    let config = obj(vec![
        ("id", Value::null(Type::String)),
        ("triggers", str_map(&[("a", "1")])),
    ]);
    let d = p.validate_resource_config("null_resource", &config);
    assert!(d.is_empty(), "{d}");

    let res_ty = Type::object([("id", Type::String), ("triggers", Type::map(Type::String))]);
    let plan = p.plan_resource_change(&PlanResourceChangeRequest {
        type_name: "null_resource".into(),
        prior_state: Value::null(res_ty.clone()),
        proposed_new_state: config.clone(),
        config: config.clone(),
        prior_private: Vec::new(),
        provider_meta: None,
    });
    assert!(plan.diagnostics.is_empty(), "{}", plan.diagnostics);
    let planned_id = plan.planned_state.get_attr("id").cloned();
    assert_eq!(
        planned_id.map(|v| v.is_known()),
        Some(false),
        "id unknown in plan"
    );

    let apply = p.apply_resource_change(&ApplyResourceChangeRequest {
        type_name: "null_resource".into(),
        prior_state: Value::null(res_ty.clone()),
        planned_state: plan.planned_state.clone(),
        config: config.clone(),
        planned_private: plan.planned_private.clone(),
        provider_meta: None,
    });
    assert!(apply.diagnostics.is_empty(), "{}", apply.diagnostics);
    let id = apply
        .new_state
        .get_attr("id")
        .and_then(|v| v.as_str().map(str::to_string))
        .expect("id after apply");
    assert!(!id.is_empty());

    let read = p.read_resource(&ReadResourceRequest {
        type_name: "null_resource".into(),
        current_state: apply.new_state.clone(),
        private: apply.private.clone(),
        provider_meta: None,
    });
    assert!(read.diagnostics.is_empty(), "{}", read.diagnostics);
    assert!(read.new_state.raw_equal(&apply.new_state));

    let up = p.upgrade_resource_state(&UpgradeResourceStateRequest {
        type_name: "null_resource".into(),
        version: 0,
        raw_state_json: Some(format!(r#"{{"id":"{id}","triggers":{{"a":"1"}}}}"#).into_bytes()),
        raw_state_flatmap: None,
    });
    assert!(up.diagnostics.is_empty(), "{}", up.diagnostics);
    assert!(up.upgraded_state.raw_equal(&apply.new_state));

    let ds_config = obj(vec![
        ("has_computed_default", Value::null(Type::String)),
        ("id", Value::null(Type::String)),
        ("inputs", str_map(&[("x", "y")])),
        ("outputs", Value::null(Type::map(Type::String))),
        ("random", Value::null(Type::String)),
    ]);
    let d = p.validate_data_source_config("null_data_source", &ds_config);
    assert!(d.is_empty(), "{d}");
    let ds = p.read_data_source(&ReadDataSourceRequest {
        type_name: "null_data_source".into(),
        config: ds_config,
        provider_meta: None,
    });
    assert!(ds.diagnostics.is_empty(), "{}", ds.diagnostics);
    let out = ds
        .state
        .get_attr("outputs")
        .and_then(|m| m.as_map().cloned());
    assert_eq!(
        out.and_then(|m| m.get("x").and_then(|v| v.as_str().map(str::to_string))),
        Some("y".to_string())
    );

    // null_resource has no importer: the provider's error comes back as a
    // diagnostic.
    let imp = p.import_resource_state(&ImportResourceStateRequest {
        type_name: "null_resource".into(),
        id: "x".into(),
    });
    assert!(imp.diagnostics.has_errors());

    // Unknown types never reach the provider.
    let d = p.validate_resource_config("null_nothing", &Value::empty_object());
    assert!(d.to_string().contains("null_nothing"), "{d}");

    assert!(p.stop().is_empty());
    p.close();
    let d = p.configure(&ConfigureRequest {
        terraform_version: "1.0.3".into(),
        config: Value::empty_object(),
    });
    assert!(d.to_string().contains("shut down"), "{d}");
}

/// A provider that dies is reported with its name and the call in flight.
#[test]
fn crashed_provider_is_reported() {
    let Some(peer) = peer_dir() else { return };
    let Some(bin) = plugin_binary(&peer, "null", "2.1.2") else {
        return;
    };
    let p = start(NULL_ADDR, bin);
    assert!(p.get_schema().diagnostics.is_empty());
    let pid = p.pid().expect("pid");
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let d = p.validate_resource_config("null_resource", &Value::null_dynamic());
    let text = d.to_string();
    eprintln!("{text}");
    assert!(d.has_errors());
    assert!(text.contains("Plugin did not respond"), "{text}");
    assert!(text.contains(NULL_ADDR), "{text}");
    assert!(text.contains("ValidateResourceTypeConfig"), "{text}");
    assert!(text.contains("exited"), "{text}");
    // Later calls say the process is gone and what it last did.
    let d = p.read_data_source(&ReadDataSourceRequest {
        type_name: "null_data_source".into(),
        config: Value::null_dynamic(),
        provider_meta: None,
    });
    let text = d.diagnostics.to_string();
    eprintln!("{text}");
    assert!(text.contains("exited (signal: 9"), "{text}");
    assert!(text.contains("ReadDataSource cannot be sent"), "{text}");
}

/// Calls from several threads share one connection.
#[test]
fn concurrent_calls() {
    let Some(peer) = peer_dir() else { return };
    let Some(bin) = plugin_binary(&peer, "null", "2.1.2") else {
        return;
    };
    let p = std::sync::Arc::new(start(NULL_ADDR, bin));
    let config = obj(vec![
        ("id", Value::null(Type::String)),
        ("triggers", str_map(&[("a", "1")])),
    ]);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let p = p.clone();
            let config = config.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    let d = p.validate_resource_config("null_resource", &config);
                    assert!(d.is_empty(), "{d}");
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    p.close();
}

/// A protocol 5.2 plugin predates GetMetadata, GetFunctions, CallFunction
/// and MoveResourceState: metadata comes from the schema, it has no
/// functions, and the others fail with diagnostics (not panics).
#[test]
fn null_provider_predates_functions_and_metadata() {
    let Some(peer) = peer_dir() else { return };
    let Some(bin) = plugin_binary(&peer, "null", "2.1.2") else {
        return;
    };
    let p = start(NULL_ADDR, bin);
    let md = p.get_metadata();
    assert!(md.diagnostics.is_empty(), "{}", md.diagnostics);
    assert_eq!(md.resources, vec!["null_resource".to_string()]);
    assert_eq!(md.data_sources, vec!["null_data_source".to_string()]);
    assert!(md.functions.is_empty());
    assert_eq!(md.server_capabilities, ServerCapabilities::default());
    let f = p.get_functions();
    assert!(f.diagnostics.is_empty(), "{}", f.diagnostics);
    assert!(f.functions.is_empty());
    let call = p.call_function(&CallFunctionRequest {
        name: "nope".into(),
        arguments: vec![],
    });
    assert_eq!(call.diagnostics.len(), 1);
    assert_eq!(
        call.diagnostics.to_string(),
        format!(
            "Error: Call to unknown function\nThe provider {NULL_ADDR} does not define a function named \"nope\"."
        )
    );
    let moved = p.move_resource_state(&MoveResourceStateRequest {
        source_type_name: "other".into(),
        target_type_name: "null_resource".into(),
        source_state_json: br#"{"id":"1","triggers":null}"#.to_vec(),
        ..Default::default()
    });
    assert!(moved.diagnostics.has_errors());
    assert!(
        moved
            .diagnostics
            .to_string()
            .contains("Unsupported plugin method"),
        "{}",
        moved.diagnostics
    );
    assert!(p.close().is_empty());
}
