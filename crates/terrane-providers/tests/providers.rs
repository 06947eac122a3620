//! Plan/apply/read round trips of every built-in resource type, driven
//! through the `Provider` trait as the engine will.

use std::collections::BTreeMap;
use std::sync::Arc;

use terrane_plugin::{
    schema_json, ApplyResourceChangeRequest, Block, ImportResourceStateRequest,
    PlanResourceChangeRequest, PlanResourceChangeResponse, Provider, ReadDataSourceRequest,
    ReadResourceRequest, UpgradeResourceStateRequest,
};
use terrane_providers::{builtin, builtin_version, BUILTINS};
use terrane_value::{Path, Type, Value};

fn provider(name: &str) -> Arc<dyn Provider> {
    builtin(name).expect("builtin provider")
}

fn block(p: &dyn Provider, ty: &str) -> Block {
    p.get_schema().schema.resource_schemas[ty].block.clone()
}

/// An object of the resource's implied type from (name, value) pairs;
/// everything else null.
fn obj(b: &Block, attrs: &[(&str, Value)]) -> Value {
    let mut m: BTreeMap<String, Value> = b
        .attributes
        .iter()
        .map(|(n, a)| (n.clone(), Value::null(a.ty.clone())))
        .collect();
    for (n, v) in attrs {
        assert!(m.contains_key(*n), "no attribute {n}");
        m.insert(n.to_string(), v.clone());
    }
    Value::object(m)
}

/// Terraform's proposed new state: configuration values, with computed
/// attributes the configuration leaves null taken from the prior state.
fn proposed(b: &Block, prior: &Value, config: &Value) -> Value {
    let mut m = BTreeMap::new();
    for (n, a) in &b.attributes {
        let c = config
            .get_attr(n)
            .cloned()
            .unwrap_or(Value::null(a.ty.clone()));
        let v = if a.computed && c.is_null() {
            prior
                .get_attr(n)
                .cloned()
                .unwrap_or(Value::null(a.ty.clone()))
        } else {
            c
        };
        m.insert(n.clone(), v);
    }
    Value::object(m)
}

fn s(v: &str) -> Value {
    Value::string(v)
}

fn n(v: i64) -> Value {
    Value::from_i64(v)
}

fn smap(kv: &[(&str, &str)]) -> Value {
    Value::map(
        Type::String,
        kv.iter().map(|(k, v)| (k.to_string(), s(v))).collect(),
    )
}

struct Harness {
    p: Arc<dyn Provider>,
    ty: String,
    b: Block,
}

impl Harness {
    fn new(provider_name: &str, ty: &str) -> Harness {
        let p = provider(provider_name);
        let b = block(p.as_ref(), ty);
        Harness {
            p,
            ty: ty.into(),
            b,
        }
    }

    fn config(&self, attrs: &[(&str, Value)]) -> Value {
        obj(&self.b, attrs)
    }

    fn plan(&self, prior: &Value, config: &Value) -> PlanResourceChangeResponse {
        if !config.is_null() {
            let v = self.p.validate_resource_config(&self.ty, config);
            assert!(!v.has_errors(), "validate: {v}");
        }
        let r = self.p.plan_resource_change(&PlanResourceChangeRequest {
            type_name: self.ty.clone(),
            prior_state: prior.clone(),
            proposed_new_state: if config.is_null() {
                config.clone()
            } else {
                proposed(&self.b, prior, config)
            },
            config: config.clone(),
            prior_private: Vec::new(),
            provider_meta: None,
        });
        assert!(!r.diagnostics.has_errors(), "plan: {}", r.diagnostics);
        r
    }

    fn apply(&self, prior: &Value, planned: &Value, config: &Value) -> Value {
        let r = self.p.apply_resource_change(&ApplyResourceChangeRequest {
            type_name: self.ty.clone(),
            prior_state: prior.clone(),
            planned_state: planned.clone(),
            config: config.clone(),
            planned_private: Vec::new(),
            provider_meta: None,
        });
        assert!(!r.diagnostics.has_errors(), "apply: {}", r.diagnostics);
        assert!(r.new_state.is_wholly_known() || r.new_state.is_null());
        r.new_state
    }

    fn read(&self, state: &Value) -> Value {
        let r = self.p.read_resource(&ReadResourceRequest {
            type_name: self.ty.clone(),
            current_state: state.clone(),
            private: Vec::new(),
            provider_meta: None,
        });
        assert!(!r.diagnostics.has_errors(), "read: {}", r.diagnostics);
        r.new_state
    }

    /// Plans and applies a create; checks that the planned known values
    /// survive apply and that a read and a re-plan show no change.
    fn create(&self, config: &Value) -> Value {
        let null = Value::null(self.b.implied_type());
        let plan = self.plan(&null, config);
        assert!(plan.requires_replace.is_empty());
        let state = self.apply(&null, &plan.planned_state, config);
        for (k, pv) in plan.planned_state.as_map().unwrap() {
            if pv.is_wholly_known() {
                assert_eq!(
                    state.get_attr(k),
                    Some(pv),
                    "{}: {k} changed in apply",
                    self.ty
                );
            }
        }
        self.assert_no_diff(&state, config);
        state
    }

    fn assert_no_diff(&self, state: &Value, config: &Value) {
        let read = self.read(state);
        assert_eq!(&read, state, "{}: read changed the state", self.ty);
        let again = self.plan(state, config);
        assert!(
            again.requires_replace.is_empty(),
            "{:?}",
            again.requires_replace
        );
        assert_eq!(
            &again.planned_state, state,
            "{}: re-plan shows a diff",
            self.ty
        );
    }

    /// Plans a change; asserts whether it replaces, and returns the plan.
    fn change(
        &self,
        state: &Value,
        config: &Value,
        replace: &[&str],
    ) -> PlanResourceChangeResponse {
        let plan = self.plan(state, config);
        let want: Vec<Path> = replace.iter().map(|a| Path::root().attr(*a)).collect();
        assert_eq!(plan.requires_replace, want, "{}", self.ty);
        plan
    }

    /// A replacement, as Terraform does it: destroy, then create anew.
    fn replace(&self, state: &Value, config: &Value, attr: &str) -> Value {
        let plan = self.plan(state, config);
        assert!(
            plan.requires_replace.contains(&Path::root().attr(attr)),
            "{}: {attr} not in {:?}",
            self.ty,
            plan.requires_replace
        );
        self.destroy(state);
        self.create(config)
    }

    fn destroy(&self, state: &Value) {
        let null = Value::null(self.b.implied_type());
        let plan = self.plan(state, &null);
        assert!(plan.planned_state.is_null());
        let after = self.apply(state, &plan.planned_state, &null);
        assert!(after.is_null());
    }

    fn import(&self, id: &str) -> Result<Value, String> {
        let r = self.p.import_resource_state(&ImportResourceStateRequest {
            type_name: self.ty.clone(),
            id: id.into(),
        });
        if r.diagnostics.has_errors() {
            return Err(r.diagnostics.to_string());
        }
        assert_eq!(r.imported_resources.len(), 1);
        Ok(r.imported_resources[0].state.clone())
    }
}

fn str_attr(v: &Value, name: &str) -> String {
    v.get_attr(name)
        .and_then(|x| x.as_str())
        .unwrap_or_else(|| panic!("{name} is not a known string in {v:?}"))
        .to_string()
}

fn int_attr(v: &Value, name: &str) -> i64 {
    v.get_attr(name)
        .and_then(|x| x.as_number())
        .and_then(|x| x.to_i64())
        .unwrap_or_else(|| panic!("{name} is not a known integer in {v:?}"))
}

// ----- registry and schemas -----

#[test]
fn registry_addresses() {
    for b in BUILTINS {
        assert!(builtin(b.address).is_some(), "{}", b.address);
    }
    assert!(builtin("hashicorp/null").is_some());
    assert!(builtin("null").is_some());
    assert!(builtin("Registry.Terraform.io/HashiCorp/Random").is_some());
    assert!(builtin("hashicorp/aws").is_none());
    assert_eq!(builtin_version("hashicorp/null"), Some("2.1.2"));
}

#[test]
fn null_schema_matches_real_plugin() {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("fixtures/null-2.1.2-schema.json")).unwrap();
    let p = provider("registry.terraform.io/hashicorp/null");
    let schema = p.get_schema().schema;
    let ours = schema_json([("registry.terraform.io/hashicorp/null", schema.as_ref())]);
    assert_eq!(ours, fixture);
}

#[test]
fn schema_versions_and_flags() {
    let r = provider("hashicorp/random").get_schema().schema;
    assert_eq!(r.resource_schemas["random_string"].version, 2);
    assert_eq!(r.resource_schemas["random_password"].version, 3);
    let pw = &r.resource_schemas["random_password"].block.attributes;
    assert!(pw["result"].sensitive && pw["result"].computed);
    assert!(pw["bcrypt_hash"].sensitive);
    assert!(!r.resource_schemas["random_string"].block.attributes["result"].sensitive);
    let l = provider("hashicorp/local").get_schema().schema;
    assert!(l.resource_schemas["local_sensitive_file"].block.attributes["content"].sensitive);
    assert!(
        l.data_source_schemas["local_sensitive_file"]
            .block
            .attributes["content"]
            .sensitive
    );
    let t = provider("terraform.io/builtin/terraform")
        .get_schema()
        .schema;
    assert_eq!(
        t.resource_schemas["terraform_data"].block.attributes["input"].ty,
        Type::Dynamic
    );
    // Every schema renders, and every block's implied type is an object.
    for b in BUILTINS {
        let s = provider(b.address).get_schema().schema;
        let _ = schema_json([(b.address, s.as_ref())]);
        for r in s.resource_schemas.values() {
            assert!(r.block.implied_type().attribute_types().is_some());
        }
    }
}

// ----- null -----

#[test]
fn null_resource_round_trip() {
    let h = Harness::new("hashicorp/null", "null_resource");
    let null = Value::null(h.b.implied_type());
    let c1 = h.config(&[("triggers", smap(&[("a", "1")]))]);
    let plan = h.plan(&null, &c1);
    assert!(!plan.planned_state.get_attr("id").unwrap().is_known());
    assert!(plan.legacy_type_system);
    let st = h.create(&c1);
    let id = str_attr(&st, "id");
    assert!(id.parse::<i64>().is_ok_and(|v| v >= 0), "{id}");
    let c2 = h.config(&[("triggers", smap(&[("a", "2")]))]);
    let st2 = h.replace(&st, &c2, "triggers");
    assert_ne!(str_attr(&st2, "id"), id);
    h.destroy(&st2);
    let err = h.import("123").unwrap_err();
    assert!(
        err.contains("null_resource doesn't support import"),
        "{err}"
    );
}

#[test]
fn null_data_source() {
    let p = provider("hashicorp/null");
    let b = p.get_schema().schema.data_source_schemas["null_data_source"]
        .block
        .clone();
    let r = p.read_data_source(&ReadDataSourceRequest {
        type_name: "null_data_source".into(),
        config: obj(&b, &[("inputs", smap(&[("x", "y")]))]),
        provider_meta: None,
    });
    assert!(!r.diagnostics.has_errors());
    assert_eq!(r.state.get_attr("outputs"), Some(&smap(&[("x", "y")])));
    assert_eq!(str_attr(&r.state, "id"), "static");
    assert_eq!(str_attr(&r.state, "has_computed_default"), "default");
    assert!(str_attr(&r.state, "random").parse::<i64>().is_ok());
}

// ----- random -----

#[test]
fn random_string_and_password() {
    for ty in ["random_string", "random_password"] {
        let h = Harness::new("hashicorp/random", ty);
        let c = h.config(&[
            ("length", n(20)),
            ("min_upper", n(3)),
            ("min_numeric", n(4)),
            ("override_special", s("_")),
        ]);
        let st = h.create(&c);
        let result = str_attr(&st, "result");
        assert_eq!(result.chars().count(), 20);
        assert!(result.chars().filter(char::is_ascii_uppercase).count() >= 3);
        assert!(result.chars().filter(char::is_ascii_digit).count() >= 4);
        assert!(result
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_'));
        assert_eq!(st.get_attr("numeric"), Some(&Value::r#true()));
        assert_eq!(st.get_attr("number"), Some(&Value::r#true()));
        assert_eq!(st.get_attr("special"), Some(&Value::r#true()));
        if ty == "random_password" {
            assert_eq!(str_attr(&st, "id"), "none");
            assert!(bcrypt::verify(&result, &str_attr(&st, "bcrypt_hash")).unwrap());
        } else {
            assert_eq!(str_attr(&st, "id"), result);
        }
        // numeric = false: number follows, no digits.
        let c2 = h.config(&[("length", n(30)), ("numeric", Value::r#false())]);
        h.change(
            &st,
            &c2,
            &[
                "length",
                "min_numeric",
                "min_upper",
                "number",
                "numeric",
                "override_special",
            ],
        );
        h.destroy(&st);
        let st2 = h.create(&c2);
        assert_eq!(st2.get_attr("number"), Some(&Value::r#false()));
        assert!(!str_attr(&st2, "result").chars().any(|c| c.is_ascii_digit()));
        let c3 = h.config(&[
            ("length", n(30)),
            ("numeric", Value::r#false()),
            ("keepers", smap(&[("k", "v")])),
        ]);
        let st3 = h.replace(&st2, &c3, "keepers");
        assert_ne!(str_attr(&st3, "result"), str_attr(&st2, "result"));
        h.destroy(&st3);

        let imported = h.import("Ab1!xyz").unwrap();
        assert_eq!(str_attr(&imported, "result"), "Ab1!xyz");
        assert_eq!(int_attr(&imported, "length"), 7);
        assert_eq!(imported.get_attr("upper"), Some(&Value::r#true()));
        assert_eq!(int_attr(&imported, "min_special"), 0);
        // An imported object shows no diff against the matching config.
        h.assert_no_diff(&imported, &h.config(&[("length", n(7))]));
    }
}

#[test]
fn random_string_validation() {
    let p = provider("hashicorp/random");
    let b = block(p.as_ref(), "random_string");
    let d = p.validate_resource_config("random_string", &obj(&b, &[("length", n(0))]));
    assert!(d.has_errors());
    let d = p.validate_resource_config(
        "random_string",
        &obj(&b, &[("length", n(2)), ("min_upper", n(3))]),
    );
    assert!(d.has_errors());
    let d = p.validate_resource_config(
        "random_string",
        &obj(&b, &[("length", Value::unknown(Type::Number))]),
    );
    assert!(!d.has_errors());
}

#[test]
fn random_string_upgrade_from_v1() {
    let p = provider("hashicorp/random");
    let raw = br#"{"id":"abc","keepers":null,"length":3,"lower":true,"min_lower":0,"min_numeric":0,"min_special":0,"min_upper":0,"number":false,"override_special":null,"result":"abc","special":true,"upper":true}"#;
    let r = p.upgrade_resource_state(&UpgradeResourceStateRequest {
        type_name: "random_string".into(),
        version: 1,
        raw_state_json: Some(raw.to_vec()),
        raw_state_flatmap: None,
    });
    assert!(!r.diagnostics.has_errors(), "{}", r.diagnostics);
    assert_eq!(
        r.upgraded_state.get_attr("numeric"),
        Some(&Value::r#false())
    );
    assert_eq!(str_attr(&r.upgraded_state, "result"), "abc");
    let ty = block(p.as_ref(), "random_string").implied_type();
    assert_eq!(r.upgraded_state.ty(), &ty);

    // random_password from v2 with a wrong hash gets a correct one.
    let raw = br#"{"id":"none","length":3,"result":"xyz","bcrypt_hash":"bogus","number":true,"numeric":true}"#;
    let r = p.upgrade_resource_state(&UpgradeResourceStateRequest {
        type_name: "random_password".into(),
        version: 2,
        raw_state_json: Some(raw.to_vec()),
        raw_state_flatmap: None,
    });
    assert!(!r.diagnostics.has_errors(), "{}", r.diagnostics);
    assert!(bcrypt::verify("xyz", &str_attr(&r.upgraded_state, "bcrypt_hash")).unwrap());

    // Current version: unchanged; a newer version is refused.
    let raw = br#"{"id":"q","length":1,"result":"q"}"#;
    let r = p.upgrade_resource_state(&UpgradeResourceStateRequest {
        type_name: "random_string".into(),
        version: 2,
        raw_state_json: Some(raw.to_vec()),
        raw_state_flatmap: None,
    });
    assert!(r.upgraded_state.get_attr("numeric").unwrap().is_null());
    let r = p.upgrade_resource_state(&UpgradeResourceStateRequest {
        type_name: "random_string".into(),
        version: 9,
        raw_state_json: Some(raw.to_vec()),
        raw_state_flatmap: None,
    });
    assert!(r.diagnostics.has_errors());
}

#[test]
fn null_resource_upgrade_from_flatmap() {
    let p = provider("hashicorp/null");
    let flat: BTreeMap<String, String> = [("id", "42"), ("triggers.%", "1"), ("triggers.a", "b")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let r = p.upgrade_resource_state(&UpgradeResourceStateRequest {
        type_name: "null_resource".into(),
        version: 0,
        raw_state_json: None,
        raw_state_flatmap: Some(flat),
    });
    assert!(!r.diagnostics.has_errors(), "{}", r.diagnostics);
    assert_eq!(str_attr(&r.upgraded_state, "id"), "42");
    assert_eq!(
        r.upgraded_state.get_attr("triggers"),
        Some(&smap(&[("a", "b")]))
    );
}

#[test]
fn random_id() {
    let h = Harness::new("hashicorp/random", "random_id");
    let c = h.config(&[("byte_length", n(8)), ("prefix", s("p-"))]);
    let st = h.create(&c);
    let hex = str_attr(&st, "hex");
    assert!(hex.starts_with("p-") && hex.len() == 18, "{hex}");
    assert_eq!(
        str_attr(&st, "b64_url"),
        format!("p-{}", str_attr(&st, "id"))
    );
    let st2 = h.replace(&st, &h.config(&[("byte_length", n(4))]), "byte_length");
    h.destroy(&st2);
    // import: base64url ID, optionally prefixed.
    let imp = h.import("p-,AQID").unwrap();
    assert_eq!(str_attr(&imp, "hex"), "p-010203");
    assert_eq!(str_attr(&imp, "dec"), "p-66051");
    assert_eq!(str_attr(&imp, "b64_std"), "p-AQID");
    assert_eq!(int_attr(&imp, "byte_length"), 3);
    assert_eq!(str_attr(&imp, "id"), "AQID");
    assert!(h.import("not base64!").is_err());
}

#[test]
fn random_integer() {
    let h = Harness::new("hashicorp/random", "random_integer");
    let c = h.config(&[("min", n(5)), ("max", n(9))]);
    let st = h.create(&c);
    let v = int_attr(&st, "result");
    assert!((5..=9).contains(&v));
    assert_eq!(str_attr(&st, "id"), v.to_string());
    // Seeded results are deterministic.
    let cs = h.config(&[("min", n(1)), ("max", n(1_000_000)), ("seed", s("x"))]);
    let a = h.replace(&st, &cs, "max");
    let b = h.create(&cs);
    assert_eq!(int_attr(&a, "result"), int_attr(&b, "result"));
    h.destroy(&a);
    let imp = h.import("7,1,10,seed").unwrap();
    assert_eq!(int_attr(&imp, "result"), 7);
    assert_eq!(str_attr(&imp, "seed"), "seed");
    assert_eq!(str_attr(&imp, "id"), "7");
    assert!(h.import("7,1").is_err());
    let bad =
        h.p.validate_resource_config("random_integer", &h.config(&[("min", n(3)), ("max", n(1))]));
    assert!(bad.has_errors());
}

#[test]
fn random_uuid_pet_shuffle() {
    let h = Harness::new("hashicorp/random", "random_uuid");
    let st = h.create(&h.config(&[]));
    let u = str_attr(&st, "result");
    assert_eq!(u.len(), 36);
    assert_eq!(u.matches('-').count(), 4);
    assert_eq!(str_attr(&st, "id"), u);
    let st2 = h.replace(
        &st,
        &h.config(&[("keepers", smap(&[("a", "b")]))]),
        "keepers",
    );
    assert_ne!(str_attr(&st2, "result"), u);
    let imp = h.import("6b0e1d6a-5c34-4a62-9f4b-2d1b7e0c9a11").unwrap();
    assert_eq!(str_attr(&imp, "id"), "6b0e1d6a-5c34-4a62-9f4b-2d1b7e0c9a11");
    assert!(h.import("nope").is_err());

    let h = Harness::new("hashicorp/random", "random_pet");
    let st = h.create(&h.config(&[]));
    assert_eq!(int_attr(&st, "length"), 2);
    assert_eq!(str_attr(&st, "separator"), "-");
    assert_eq!(str_attr(&st, "id").split('-').count(), 2);
    let c = h.config(&[
        ("length", n(3)),
        ("separator", s("_")),
        ("prefix", s("pre")),
    ]);
    let st2 = h.replace(&st, &c, "length");
    let id = str_attr(&st2, "id");
    let words: Vec<&str> = id.split('_').collect();
    assert_eq!(words.len(), 4, "{id}");
    assert_eq!(words[0], "pre");
    assert!(h.import("x").is_err());

    let h = Harness::new("hashicorp/random", "random_shuffle");
    let input = Value::list(Type::String, vec![s("a"), s("b"), s("c"), s("d")]);
    let st = h.create(&h.config(&[("input", input.clone())]));
    let mut got: Vec<String> = st
        .get_attr("result")
        .unwrap()
        .as_seq()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, ["a", "b", "c", "d"]);
    assert_eq!(str_attr(&st, "id"), "-");
    let c = h.config(&[("input", input), ("result_count", n(2))]);
    let st2 = h.replace(&st, &c, "result_count");
    assert_eq!(st2.get_attr("result").unwrap().length(), Some(2));
}

// ----- local -----

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "terrane-providers-{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn local_file_round_trip_and_drift() {
    let dir = temp_dir("local");
    let file = dir.join("sub/dir/foo.txt");
    let fname = file.to_str().unwrap().to_string();
    let h = Harness::new("hashicorp/local", "local_file");
    let c = h.config(&[("filename", s(&fname)), ("content", s("foo!"))]);
    let st = h.create(&c);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "foo!");
    assert_eq!(
        str_attr(&st, "id"),
        "4bf3e335199107182c6f7638efaad377acc7f452"
    );
    assert_eq!(str_attr(&st, "content_sha1"), str_attr(&st, "id"));
    assert_eq!(
        str_attr(&st, "content_md5"),
        "35af8b7a9490467f75f19c1e5459f7e7"
    );
    assert_eq!(
        str_attr(&st, "content_sha256"),
        "c0e0aaaea050bcf3be26c0c23d58fa890c0dfb79c8a23016b4a86cd28ca6ea71"
    );
    assert_eq!(
        str_attr(&st, "content_base64sha256"),
        "wOCqrqBQvPO+JsDCPVj6iQwN+3nIojAWtKhs0oym6nE="
    );
    assert_eq!(str_attr(&st, "file_permission"), "0777");
    assert_eq!(str_attr(&st, "directory_permission"), "0777");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o777);
    }

    // Content change: replace.
    let c2 = h.config(&[("filename", s(&fname)), ("content_base64", s("YmFy"))]);
    h.change(&st, &c2, &["content", "content_base64"]);
    h.destroy(&st);
    assert!(!file.exists());
    let st2 = h.create(&c2);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "bar");

    // Drift: modified content, then a deleted file, read as gone.
    std::fs::write(&file, "changed").unwrap();
    assert!(h.read(&st2).is_null());
    std::fs::write(&file, "bar").unwrap();
    assert_eq!(h.read(&st2), st2);
    std::fs::remove_file(&file).unwrap();
    assert!(h.read(&st2).is_null());
    // Destroying a file that is already gone succeeds.
    h.destroy(&st2);

    // source + permissions; sensitive variant defaults to 0700.
    let src = dir.join("src.txt");
    std::fs::write(&src, "from source").unwrap();
    let out = dir.join("copy.txt");
    let hs = Harness::new("hashicorp/local", "local_sensitive_file");
    let c3 = hs.config(&[
        ("filename", s(out.to_str().unwrap())),
        ("source", s(src.to_str().unwrap())),
    ]);
    let st3 = hs.create(&c3);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "from source");
    assert_eq!(str_attr(&st3, "file_permission"), "0700");
    let c4 = hs.config(&[
        ("filename", s(out.to_str().unwrap())),
        ("source", s(src.to_str().unwrap())),
        ("file_permission", s("0600")),
    ]);
    let st4 = hs.replace(&st3, &c4, "file_permission");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    hs.destroy(&st4);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn local_file_validation_and_data_source() {
    let p = provider("hashicorp/local");
    let b = block(p.as_ref(), "local_file");
    let none = p.validate_resource_config("local_file", &obj(&b, &[("filename", s("x"))]));
    assert!(none.has_errors());
    let two = p.validate_resource_config(
        "local_file",
        &obj(
            &b,
            &[
                ("filename", s("x")),
                ("content", s("a")),
                ("source", s("b")),
            ],
        ),
    );
    assert!(two.has_errors());
    let bad_mode = p.validate_resource_config(
        "local_file",
        &obj(
            &b,
            &[
                ("filename", s("x")),
                ("content", s("a")),
                ("file_permission", s("999")),
            ],
        ),
    );
    assert!(bad_mode.has_errors());

    let dir = temp_dir("local-data");
    let file = dir.join("in.txt");
    std::fs::write(&file, "foo!").unwrap();
    let db = p.get_schema().schema.data_source_schemas["local_file"]
        .block
        .clone();
    let r = p.read_data_source(&ReadDataSourceRequest {
        type_name: "local_file".into(),
        config: obj(&db, &[("filename", s(file.to_str().unwrap()))]),
        provider_meta: None,
    });
    assert!(!r.diagnostics.has_errors(), "{}", r.diagnostics);
    assert_eq!(str_attr(&r.state, "content"), "foo!");
    assert_eq!(str_attr(&r.state, "content_base64"), "Zm9vIQ==");
    assert_eq!(
        str_attr(&r.state, "id"),
        "4bf3e335199107182c6f7638efaad377acc7f452"
    );
    let r = p.read_data_source(&ReadDataSourceRequest {
        type_name: "local_file".into(),
        config: obj(
            &db,
            &[("filename", s(dir.join("missing").to_str().unwrap()))],
        ),
        provider_meta: None,
    });
    assert!(r.diagnostics.has_errors());
    std::fs::remove_dir_all(&dir).ok();
}

// ----- time -----

#[test]
fn time_static() {
    let h = Harness::new("hashicorp/time", "time_static");
    let st = h.create(&h.config(&[]));
    assert!(str_attr(&st, "rfc3339").ends_with('Z'));
    assert_eq!(str_attr(&st, "id"), str_attr(&st, "rfc3339"));
    let c = h.config(&[("rfc3339", s("2021-03-04T05:06:07+02:00"))]);
    let st2 = h.replace(&st, &c, "rfc3339");
    assert_eq!(int_attr(&st2, "year"), 2021);
    assert_eq!(int_attr(&st2, "month"), 3);
    assert_eq!(int_attr(&st2, "day"), 4);
    assert_eq!(int_attr(&st2, "hour"), 5);
    assert_eq!(int_attr(&st2, "unix"), 1614827167);
    let st3 = h.replace(
        &st2,
        &h.config(&[
            ("rfc3339", s("2021-03-04T05:06:07+02:00")),
            ("triggers", smap(&[("a", "b")])),
        ]),
        "triggers",
    );
    h.destroy(&st3);
    let imp = h.import("2020-01-02T03:04:05Z").unwrap();
    assert_eq!(int_attr(&imp, "second"), 5);
    assert!(h.import("yesterday").is_err());
}

#[test]
fn time_offset_updates_in_place() {
    let h = Harness::new("hashicorp/time", "time_offset");
    let base = s("2020-01-31T00:00:00Z");
    let c = h.config(&[("base_rfc3339", base.clone()), ("offset_months", n(1))]);
    let st = h.create(&c);
    assert_eq!(str_attr(&st, "rfc3339"), "2020-03-02T00:00:00Z");
    let c2 = h.config(&[
        ("base_rfc3339", base.clone()),
        ("offset_days", n(1)),
        ("offset_hours", n(2)),
    ]);
    let plan = h.change(&st, &c2, &[]);
    assert!(!plan.planned_state.get_attr("rfc3339").unwrap().is_known());
    let st2 = h.apply(&st, &plan.planned_state, &c2);
    assert_eq!(str_attr(&st2, "rfc3339"), "2020-02-01T02:00:00Z");
    assert_eq!(int_attr(&st2, "day"), 1);
    h.assert_no_diff(&st2, &c2);
    h.destroy(&st2);
    let p = h.p.validate_resource_config("time_offset", &h.config(&[]));
    assert!(p.has_errors());
    let imp = h.import("2020-01-01T00:00:00Z,1,,,,,30").unwrap();
    assert_eq!(str_attr(&imp, "rfc3339"), "2021-01-01T00:00:30Z");
}

#[test]
fn time_rotating_rotates_on_read() {
    let h = Harness::new("hashicorp/time", "time_rotating");
    let c = h.config(&[("rotation_days", n(30))]);
    let st = h.create(&c);
    let base = str_attr(&st, "rfc3339");
    assert_ne!(base, str_attr(&st, "rotation_rfc3339"));
    // A rotation time in the past: read reports the resource gone.
    let c2 = h.config(&[
        ("rfc3339", s("2000-01-01T00:00:00Z")),
        ("rotation_years", n(1)),
    ]);
    h.change(&st, &c2, &["rfc3339"]);
    h.destroy(&st);
    let null = Value::null(h.b.implied_type());
    let plan = h.plan(&null, &c2);
    let st2 = h.apply(&null, &plan.planned_state, &c2);
    assert_eq!(str_attr(&st2, "rotation_rfc3339"), "2001-01-01T00:00:00Z");
    let r = h.p.read_resource(&ReadResourceRequest {
        type_name: "time_rotating".into(),
        current_state: st2.clone(),
        private: Vec::new(),
        provider_meta: None,
    });
    assert!(r.new_state.is_null());
    // Changing the rotation period updates in place.
    let c3 = h.config(&[
        ("rfc3339", s("2000-01-01T00:00:00Z")),
        ("rotation_years", n(2)),
    ]);
    let plan = h.change(&st2, &c3, &[]);
    let st3 = h.apply(&st2, &plan.planned_state, &c3);
    assert_eq!(str_attr(&st3, "rotation_rfc3339"), "2002-01-01T00:00:00Z");
    h.destroy(&st3);
}

#[test]
fn time_sleep_sleeps_and_stops() {
    let h = Harness::new("hashicorp/time", "time_sleep");
    let c = h.config(&[
        ("create_duration", s("300ms")),
        ("destroy_duration", s("0.1s")),
    ]);
    let t0 = std::time::Instant::now();
    let st = h.create(&c);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(300));
    assert!(str_attr(&st, "id").ends_with('Z'));
    let c2 = h.config(&[("create_duration", s("1s"))]);
    let plan = h.change(&st, &c2, &[]);
    let t1 = std::time::Instant::now();
    let st2 = h.apply(&st, &plan.planned_state, &c2);
    assert!(
        t1.elapsed() < std::time::Duration::from_millis(900),
        "updates do not sleep"
    );
    assert_eq!(str_attr(&st2, "id"), str_attr(&st, "id"));
    h.destroy(&st2);
    let bad =
        h.p.validate_resource_config("time_sleep", &h.config(&[("create_duration", s("10"))]));
    assert!(bad.has_errors());

    // stop() interrupts a long sleep.
    let h2 = Harness::new("hashicorp/time", "time_sleep");
    let c = h2.config(&[("create_duration", s("1h"))]);
    let null = Value::null(h2.b.implied_type());
    let plan = h2.plan(&null, &c);
    let p = h2.p.clone();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        p.stop()
    });
    let r = h2.p.apply_resource_change(&ApplyResourceChangeRequest {
        type_name: "time_sleep".into(),
        prior_state: null,
        planned_state: plan.planned_state,
        config: c,
        planned_private: Vec::new(),
        provider_meta: None,
    });
    assert!(r.diagnostics.has_errors());
    assert!(stopper.join().unwrap().is_empty());
}

// ----- terraform -----

#[test]
fn terraform_data_round_trip() {
    let h = Harness::new("terraform.io/builtin/terraform", "terraform_data");
    let null = Value::null(h.b.implied_type());
    let c = h.config(&[("input", s("hello"))]);
    let plan = h.plan(&null, &c);
    assert!(!plan.planned_state.get_attr("output").unwrap().is_known());
    let st = h.create(&c);
    assert_eq!(st.get_attr("output"), Some(&s("hello")));
    assert_eq!(str_attr(&st, "id").len(), 36);
    // Input change: update in place, output unknown until apply.
    let c2 = h.config(&[("input", n(5))]);
    let plan = h.change(&st, &c2, &[]);
    assert!(!plan.planned_state.get_attr("output").unwrap().is_known());
    let st2 = h.apply(&st, &plan.planned_state, &c2);
    assert_eq!(st2.get_attr("output"), Some(&n(5)));
    assert_eq!(str_attr(&st2, "id"), str_attr(&st, "id"));
    h.assert_no_diff(&st2, &c2);
    let c3 = h.config(&[("input", n(5)), ("triggers_replace", s("x"))]);
    let st3 = h.replace(&st2, &c3, "triggers_replace");
    assert_ne!(str_attr(&st3, "id"), str_attr(&st2, "id"));
    h.destroy(&st3);
    let imp = h.import("abc").unwrap();
    assert_eq!(str_attr(&imp, "id"), "abc");
}

#[test]
fn terraform_remote_state_local() {
    let dir = temp_dir("remote-state");
    let path = dir.join("other.tfstate");
    std::fs::write(
        &path,
        r#"{"version":4,"terraform_version":"1.0.3","serial":1,"lineage":"x","outputs":{"name":{"value":"web","type":"string"},"ports":{"value":[80,443],"type":["list","number"]},"big":{"value":123456789012345678901234567890,"type":"number"}},"resources":[]}"#,
    )
    .unwrap();
    let p = provider("terraform.io/builtin/terraform");
    let b = p.get_schema().schema.data_source_schemas["terraform_remote_state"]
        .block
        .clone();
    let config = Value::object_from([("path", s(path.to_str().unwrap()))]);
    let defaults = Value::object_from([("name", s("ignored")), ("extra", s("dflt"))]);
    let r = p.read_data_source(&ReadDataSourceRequest {
        type_name: "terraform_remote_state".into(),
        config: obj(
            &b,
            &[
                ("backend", s("local")),
                ("config", config),
                ("defaults", defaults),
            ],
        ),
        provider_meta: None,
    });
    assert!(!r.diagnostics.has_errors(), "{}", r.diagnostics);
    let outputs = r.state.get_attr("outputs").unwrap();
    assert_eq!(outputs.get_attr("name"), Some(&s("web")));
    assert_eq!(outputs.get_attr("extra"), Some(&s("dflt")));
    assert_eq!(
        outputs.get_attr("ports"),
        Some(&Value::list(Type::Number, vec![n(80), n(443)]))
    );
    assert_eq!(
        outputs
            .get_attr("big")
            .unwrap()
            .as_number()
            .unwrap()
            .to_text(),
        "123456789012345678901234567890"
    );
    let r = p.read_data_source(&ReadDataSourceRequest {
        type_name: "terraform_remote_state".into(),
        config: obj(&b, &[("backend", s("s3"))]),
        provider_meta: None,
    });
    assert!(r
        .diagnostics
        .to_string()
        .contains("There is no backend type named \"s3\"."));
    std::fs::remove_dir_all(&dir).ok();
}
