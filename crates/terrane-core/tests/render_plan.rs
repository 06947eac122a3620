//! `render_plan` against Terraform 1.0.3's recorded output
//! (tests/fixtures/render/<case>/plan.txt and plan.color.txt, recorded by
//! fixtures/render/gen.py). Each case's plan is written here by hand:
//! objects as JSON literals with `"<unknown>"` for unknown values,
//! sensitive paths marked explicitly, schemas from the providers' recorded
//! `terraform providers schema -json` (fixtures/render/schemas.json).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value as Json};
use terrane_config::ResourceMode;
use terrane_core::addrs::{InstanceKey, ModuleInstance, ResourceAddr, ResourceInstanceAddr};
use terrane_core::plan::{Action, ActionReason, OutputChange, Plan, ResourceInstanceChange};
use terrane_core::render::{render_plan, RenderOptions};
use terrane_plugin::{Attribute, Block, NestedBlock, NestingMode, Schema, StringKind};
use terrane_value::number::Number;
use terrane_value::{Mark, Marks, Path, PathMarks, Type, Value};

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/render")
}

fn schemas() -> Json {
    let text = std::fs::read_to_string(fixture_dir().join("schemas.json")).expect("schemas.json");
    serde_json::from_str(&text).expect("schemas.json parses")
}

fn block(j: &Json) -> Block {
    let mut b = Block::default();
    if let Some(attrs) = j["attributes"].as_object() {
        for (name, a) in attrs {
            let ty = Type::from_json_str(&a["type"].to_string()).expect("type");
            b.attributes.insert(
                name.clone(),
                Attribute {
                    ty,
                    nested_type: None,
                    description: String::new(),
                    description_kind: StringKind::Plain,
                    required: a["required"].as_bool().unwrap_or(false),
                    optional: a["optional"].as_bool().unwrap_or(false),
                    computed: a["computed"].as_bool().unwrap_or(false),
                    sensitive: a["sensitive"].as_bool().unwrap_or(false),
                    deprecated: false,
                },
            );
        }
    }
    if let Some(bts) = j["block_types"].as_object() {
        for (name, nb) in bts {
            let nesting = match nb["nesting_mode"].as_str() {
                Some("single") => NestingMode::Single,
                Some("group") => NestingMode::Group,
                Some("list") => NestingMode::List,
                Some("set") => NestingMode::Set,
                _ => NestingMode::Map,
            };
            b.block_types.insert(
                name.clone(),
                NestedBlock {
                    block: block(&nb["block"]),
                    nesting,
                    min_items: nb["min_items"].as_u64().unwrap_or(0),
                    max_items: nb["max_items"].as_u64().unwrap_or(0),
                },
            );
        }
    }
    b
}

fn schema(name: &str) -> Arc<Schema> {
    let s = schemas();
    let j = &s[name];
    Arc::new(Schema {
        version: j["version"].as_i64().unwrap_or(0),
        block: block(&j["block"]),
    })
}

/// A value of type `ty` from JSON: `"<unknown>"` is unknown, missing
/// object attributes are null.
fn val(j: &Json, ty: &Type) -> Value {
    if j == &json!("<unknown>") {
        return Value::unknown(ty.clone());
    }
    if j.is_null() {
        return Value::null(ty.clone());
    }
    match ty {
        Type::String => Value::string(j.as_str().expect("string")),
        Type::Number => Value::number(Number::parse(&j.to_string()).expect("number")),
        Type::Bool => Value::bool(j.as_bool().expect("bool")),
        Type::List(e) => {
            let es: Vec<Value> = j
                .as_array()
                .expect("array")
                .iter()
                .map(|x| val(x, e))
                .collect();
            Value::list((**e).clone(), es)
        }
        Type::Set(e) => {
            let es: Vec<Value> = j
                .as_array()
                .expect("array")
                .iter()
                .map(|x| val(x, e))
                .collect();
            Value::set((**e).clone(), es)
        }
        Type::Map(e) => {
            let m: BTreeMap<String, Value> = j
                .as_object()
                .expect("object")
                .iter()
                .map(|(k, x)| (k.clone(), val(x, e)))
                .collect();
            Value::map((**e).clone(), m)
        }
        _ if ty.attribute_types().is_some() => {
            let attrs = ty.attribute_types().expect("object type");
            let m: BTreeMap<String, Value> = attrs
                .iter()
                .map(|(k, t)| (k.clone(), val(j.get(k).unwrap_or(&Json::Null), t)))
                .collect();
            Value::object(m)
        }
        other => panic!("unsupported type {other:?}"),
    }
}

fn obj(s: &Schema, j: Json) -> Value {
    val(&j, &s.block.implied_type())
}

fn sensitive_at(v: Value, paths: &[Path]) -> Value {
    let pms: Vec<PathMarks> = paths
        .iter()
        .map(|p| PathMarks {
            path: p.clone(),
            marks: Marks::of(Mark::Sensitive),
        })
        .collect();
    v.mark_with_paths(&pms)
}

fn addr(mode: ResourceMode, ty: &str, name: &str, key: InstanceKey) -> ResourceInstanceAddr {
    ResourceAddr {
        module: ModuleInstance::root(),
        mode,
        type_name: ty.into(),
        name: name.into(),
    }
    .instance(key)
}

fn managed(ty: &str, name: &str) -> ResourceInstanceAddr {
    addr(ResourceMode::Managed, ty, name, InstanceKey::None)
}

const NULLP: &str = "provider[\"registry.terraform.io/hashicorp/null\"]";

fn change(
    a: ResourceInstanceAddr,
    action: Action,
    schema: &Arc<Schema>,
    before: Value,
    after: Value,
) -> ResourceInstanceChange {
    ResourceInstanceChange {
        addr: a,
        provider: NULLP.into(),
        action,
        reason: ActionReason::None,
        before,
        after,
        requires_replace: Vec::new(),
        schema: schema.clone(),
        deposed: None,
        private: Vec::new(),
    }
}

fn null_obj(s: &Arc<Schema>) -> Value {
    Value::null(s.block.implied_type())
}

fn output(
    name: &str,
    action: Action,
    before: Value,
    after: Value,
    sensitive: bool,
) -> OutputChange {
    OutputChange {
        name: name.into(),
        action,
        before,
        after,
        sensitive,
    }
}

fn check(case: &str, plan: &Plan) {
    let dir = fixture_dir().join(case);
    for (file, color) in [("plan.txt", false), ("plan.color.txt", true)] {
        let want = std::fs::read_to_string(dir.join(file)).expect("fixture");
        let got = render_plan(plan, &RenderOptions { color });
        if got != want {
            let path = std::env::temp_dir().join(format!("render-{case}-{file}"));
            let _ = std::fs::write(&path, &got);
            panic!(
                "{case}/{file} differs (got written to {})\n--- want\n{want}\n--- got\n{got}",
                path.display()
            );
        }
    }
}

fn nr() -> Arc<Schema> {
    schema("null_resource")
}

#[test]
fn null_create() {
    let s = nr();
    let plan = Plan {
        resource_changes: vec![
            change(
                managed("null_resource", "a"),
                Action::Create,
                &s,
                null_obj(&s),
                obj(
                    &s,
                    json!({"id": "<unknown>", "triggers": {"foo": "bar", "n": "1"}}),
                ),
            ),
            change(
                managed("null_resource", "b"),
                Action::Create,
                &s,
                null_obj(&s),
                obj(&s, json!({"id": "<unknown>"})),
            ),
        ],
        output_changes: vec![output(
            "x",
            Action::Create,
            Value::null_dynamic(),
            Value::unknown(Type::String),
            false,
        )],
        ..Default::default()
    };
    check("null_create", &plan);
}

#[test]
fn null_instances() {
    let s = nr();
    let mk = |a: ResourceInstanceAddr, t: Json| {
        change(
            a,
            Action::Create,
            &s,
            null_obj(&s),
            obj(&s, json!({"id": "<unknown>", "triggers": t})),
        )
    };
    let m = ResourceAddr {
        module: ModuleInstance::root().child("m", InstanceKey::None),
        mode: ResourceMode::Managed,
        type_name: "null_resource".into(),
        name: "inner".into(),
    };
    let plan = Plan {
        resource_changes: vec![
            mk(
                addr(
                    ResourceMode::Managed,
                    "null_resource",
                    "c",
                    InstanceKey::Int(0),
                ),
                json!({"i": "0"}),
            ),
            mk(
                addr(
                    ResourceMode::Managed,
                    "null_resource",
                    "c",
                    InstanceKey::Int(1),
                ),
                json!({"i": "1"}),
            ),
            mk(
                addr(
                    ResourceMode::Managed,
                    "null_resource",
                    "e",
                    InstanceKey::Str("a".into()),
                ),
                json!({"k": "a"}),
            ),
            mk(
                addr(
                    ResourceMode::Managed,
                    "null_resource",
                    "e",
                    InstanceKey::Str("b c".into()),
                ),
                json!({"k": "b c"}),
            ),
            mk(m.instance(InstanceKey::None), json!({})),
        ],
        ..Default::default()
    };
    check("null_instances", &plan);
}

fn replace_triggers(action: Action, before: Json, after: Json) -> ResourceInstanceChange {
    let s = nr();
    let mut c = change(
        managed("null_resource", "a"),
        action,
        &s,
        obj(&s, before),
        obj(&s, after),
    );
    c.reason = ActionReason::ReplaceBecauseCannotUpdate;
    c.requires_replace = vec![Path::root().attr("triggers")];
    c
}

#[test]
fn null_replace() {
    let plan = Plan {
        resource_changes: vec![replace_triggers(
            Action::DeleteThenCreate,
            json!({"id": "1111", "triggers": {"foo": "bar", "keep": "x", "old": "z"}}),
            json!({"id": "<unknown>", "triggers": {"foo": "baz", "keep": "x", "new": "y"}}),
        )],
        ..Default::default()
    };
    check("null_replace", &plan);
}

#[test]
fn null_cbd() {
    let plan = Plan {
        resource_changes: vec![replace_triggers(
            Action::CreateThenDelete,
            json!({"id": "2222", "triggers": {"v": "1"}}),
            json!({"id": "<unknown>", "triggers": {"v": "2"}}),
        )],
        ..Default::default()
    };
    check("null_cbd", &plan);
}

#[test]
fn null_tainted() {
    let s = nr();
    let mut c = change(
        managed("null_resource", "a"),
        Action::DeleteThenCreate,
        &s,
        obj(&s, json!({"id": "3333", "triggers": {"v": "1"}})),
        obj(&s, json!({"id": "<unknown>", "triggers": {"v": "1"}})),
    );
    c.reason = ActionReason::ReplaceBecauseTainted;
    check(
        "null_tainted",
        &Plan {
            resource_changes: vec![c],
            ..Default::default()
        },
    );
}

#[test]
fn null_destroy() {
    let s = nr();
    let plan = Plan {
        resource_changes: vec![
            change(
                managed("null_resource", "a"),
                Action::Delete,
                &s,
                obj(&s, json!({"id": "4444", "triggers": {"x": "1"}})),
                null_obj(&s),
            ),
            change(
                addr(
                    ResourceMode::Managed,
                    "null_resource",
                    "b",
                    InstanceKey::Int(0),
                ),
                Action::NoOp,
                &s,
                obj(&s, json!({"id": "5555"})),
                obj(&s, json!({"id": "5555"})),
            ),
            change(
                addr(
                    ResourceMode::Managed,
                    "null_resource",
                    "b",
                    InstanceKey::Int(1),
                ),
                Action::Delete,
                &s,
                obj(&s, json!({"id": "6666"})),
                null_obj(&s),
            ),
        ],
        ..Default::default()
    };
    check("null_destroy", &plan);
}

#[test]
fn null_destroy_mode() {
    let s = nr();
    let plan = Plan {
        resource_changes: vec![change(
            managed("null_resource", "a"),
            Action::Delete,
            &s,
            obj(&s, json!({"id": "7777"})),
            null_obj(&s),
        )],
        output_changes: vec![output(
            "id",
            Action::Delete,
            Value::string("7777"),
            Value::null_dynamic(),
            false,
        )],
        destroy: true,
        ..Default::default()
    };
    check("null_destroy_mode", &plan);
}

#[test]
fn no_changes() {
    let s = nr();
    let v = obj(&s, json!({"id": "8888", "triggers": {"v": "1"}}));
    let plan = Plan {
        resource_changes: vec![change(
            managed("null_resource", "a"),
            Action::NoOp,
            &s,
            v.clone(),
            v,
        )],
        output_changes: vec![output(
            "id",
            Action::NoOp,
            Value::string("8888"),
            Value::string("8888"),
            false,
        )],
        ..Default::default()
    };
    check("no_changes", &plan);
}

#[test]
fn null_deposed() {
    let s = nr();
    let v = obj(&s, json!({"id": "9999"}));
    let mut d = change(
        managed("null_resource", "a"),
        Action::Delete,
        &s,
        obj(&s, json!({"id": "1010"})),
        null_obj(&s),
    );
    d.deposed = Some("00000001".into());
    let plan = Plan {
        resource_changes: vec![
            change(
                managed("null_resource", "a"),
                Action::NoOp,
                &s,
                v.clone(),
                v,
            ),
            d,
        ],
        ..Default::default()
    };
    check("null_deposed", &plan);
}

#[test]
fn heredoc() {
    let s = nr();
    let plan = Plan {
        resource_changes: vec![
            replace_triggers(
                Action::DeleteThenCreate,
                json!({"id": "1212", "triggers": {"script": "line one\nline two\nline three\n"}}),
                json!({"id": "<unknown>", "triggers": {"script": "line one\nline two changed\nline three\n"}}),
            ),
            change(
                managed("null_resource", "b"),
                Action::Create,
                &s,
                null_obj(&s),
                obj(
                    &s,
                    json!({"id": "<unknown>", "triggers": {"text": "first\nsecond\n"}}),
                ),
            ),
        ],
        ..Default::default()
    };
    check("heredoc", &plan);
}

#[test]
fn sensitive() {
    let s = nr();
    let pw = [Path::root().attr("triggers").index_key("pw")];
    let mut a = replace_triggers(
        Action::DeleteThenCreate,
        json!({"id": "1313", "triggers": {"pw": "hunter2", "user": "admin"}}),
        json!({"id": "<unknown>", "triggers": {"pw": "hunter3", "user": "admin"}}),
    );
    a.before = sensitive_at(a.before, &pw);
    a.after = sensitive_at(a.after, &pw);
    let b = change(
        managed("null_resource", "b"),
        Action::Create,
        &s,
        null_obj(&s),
        sensitive_at(
            obj(
                &s,
                json!({"id": "<unknown>", "triggers": {"pw": "hunter3"}}),
            ),
            &pw,
        ),
    );
    let plan = Plan {
        resource_changes: vec![a, b],
        output_changes: vec![output(
            "pw",
            Action::Create,
            Value::null_dynamic(),
            Value::string("hunter3").mark_sensitive(),
            true,
        )],
        ..Default::default()
    };
    check("sensitive", &plan);
}

#[test]
fn data_deferred() {
    let s = nr();
    let ds = schema("data.null_data_source");
    let mut d = change(
        addr(
            ResourceMode::Data,
            "null_data_source",
            "d",
            InstanceKey::None,
        ),
        Action::Read,
        &ds,
        null_obj(&ds),
        obj(
            &ds,
            json!({"has_computed_default": "<unknown>", "id": "<unknown>", "inputs": {"id": "<unknown>"},
                   "outputs": "<unknown>", "random": "<unknown>"}),
        ),
    );
    d.reason = ActionReason::ReadBecauseConfigUnknown;
    let plan = Plan {
        resource_changes: vec![
            d,
            change(
                managed("null_resource", "a"),
                Action::Create,
                &s,
                null_obj(&s),
                obj(&s, json!({"id": "<unknown>"})),
            ),
        ],
        ..Default::default()
    };
    check("data_deferred", &plan);
}

#[test]
fn outputs_only() {
    let s = nr();
    let v = obj(&s, json!({"id": "1414"}));
    let tup = |xs: &[&str]| Value::tuple(xs.iter().map(|x| Value::string(*x)).collect());
    let plan = Plan {
        resource_changes: vec![change(
            managed("null_resource", "a"),
            Action::NoOp,
            &s,
            v.clone(),
            v,
        )],
        output_changes: vec![
            output(
                "added",
                Action::Create,
                Value::null_dynamic(),
                Value::string("new"),
                false,
            ),
            output(
                "changed",
                Action::Update,
                tup(&["a"]),
                tup(&["a", "b"]),
                false,
            ),
            output(
                "removed",
                Action::Delete,
                Value::object_from([("k", Value::bool(true))]),
                Value::null_dynamic(),
                false,
            ),
            output(
                "same",
                Action::NoOp,
                Value::from_i64(1),
                Value::from_i64(1),
                false,
            ),
            output(
                "secret",
                Action::Update,
                Value::string("t").mark_sensitive(),
                Value::string("s").mark_sensitive(),
                true,
            ),
        ],
        ..Default::default()
    };
    check("outputs_only", &plan);
}

fn aws(
    ty: &str,
    name: &str,
    action: Action,
    before: Option<Json>,
    after: Option<Json>,
) -> ResourceInstanceChange {
    let s = schema(ty);
    let b = before.map_or_else(|| null_obj(&s), |j| obj(&s, j));
    let a = after.map_or_else(|| null_obj(&s), |j| obj(&s, j));
    let mut c = change(managed(ty, name), action, &s, b, a);
    c.provider = "provider[\"registry.terraform.io/hashicorp/aws\"]".into();
    c
}

fn rule(port: i64, cidrs: &[&str], desc: Json) -> Json {
    json!({"cidr_blocks": cidrs, "description": desc, "from_port": port, "ipv6_cidr_blocks": [],
           "prefix_list_ids": [], "protocol": "tcp", "security_groups": [], "self": false, "to_port": port})
}

#[test]
fn aws_sg_create() {
    let after = json!({"arn": "<unknown>", "description": "Managed by Terraform", "egress": "<unknown>",
        "id": "<unknown>",
        "ingress": [rule(443, &["0.0.0.0/0"], json!("")), rule(22, &["10.0.0.0/8", "192.168.0.0/16"], json!("ssh"))],
        "name": "web", "name_prefix": "<unknown>", "owner_id": "<unknown>", "revoke_rules_on_delete": false,
        "tags": {"Name": "web"}, "tags_all": {"Name": "web"}, "vpc_id": "vpc-1"});
    let plan = Plan {
        resource_changes: vec![aws(
            "aws_security_group",
            "web",
            Action::Create,
            None,
            Some(after),
        )],
        ..Default::default()
    };
    check("aws_sg_create", &plan);
}

#[test]
fn aws_sg_update() {
    let base = |ingress: Json, tags: Json| {
        json!({"arn": "arn:aws:ec2:us-east-1:123456789012:security-group/sg-1", "description": "Managed by Terraform",
            "egress": [], "id": "sg-1", "ingress": ingress, "name": "web", "name_prefix": "",
            "owner_id": "123456789012", "revoke_rules_on_delete": false, "tags": tags, "tags_all": tags,
            "vpc_id": "vpc-1"})
    };
    let before = base(
        json!([
            rule(443, &["0.0.0.0/0"], json!("")),
            rule(80, &["0.0.0.0/0"], json!(""))
        ]),
        json!({"Name": "web", "Old": "x"}),
    );
    let after = base(
        json!([
            rule(443, &["0.0.0.0/0"], Json::Null),
            rule(22, &["10.0.0.0/8"], json!(""))
        ]),
        json!({"Env": "prod", "Name": "web"}),
    );
    let plan = Plan {
        resource_changes: vec![aws(
            "aws_security_group",
            "web",
            Action::Update,
            Some(before),
            Some(after),
        )],
        ..Default::default()
    };
    check("aws_sg_update", &plan);
}

#[test]
fn aws_policy_json() {
    let p = |policy: &str| {
        json!({"arn": "arn:aws:iam::123456789012:policy/p", "description": "", "id": "arn:aws:iam::123456789012:policy/p",
            "name": "p", "path": "/", "policy": policy, "policy_id": "ANPA1", "tags": {}, "tags_all": {}})
    };
    let before = p(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"*"}]}"#,
    );
    let after = p(
        r#"{"Statement":[{"Action":["s3:GetObject","s3:PutObject"],"Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}"#,
    );
    let q = json!({"arn": "<unknown>", "id": "<unknown>", "name": "q", "path": "/",
        "policy": r#"{"Statement":[],"Version":"2012-10-17"}"#, "policy_id": "<unknown>", "tags_all": "<unknown>"});
    let plan = Plan {
        resource_changes: vec![
            aws(
                "aws_iam_policy",
                "p",
                Action::Update,
                Some(before),
                Some(after),
            ),
            aws("aws_iam_policy", "q", Action::Create, None, Some(q)),
        ],
        ..Default::default()
    };
    check("aws_policy_json", &plan);
}

#[test]
fn aws_lambda_blocks() {
    let l = |n: i64| format!("arn:aws:lambda:us-east-1:123456789012:layer:l{n}:1");
    let base = json!({"arn": "arn:aws:lambda:us-east-1:123456789012:function:f", "code_signing_config_arn": "",
        "dead_letter_config": [], "description": "", "environment": [{"variables": {"A": "1", "B": "2"}}],
        "file_system_config": [], "filename": "f.zip", "function_name": "f", "handler": "index.handler",
        "id": "f", "image_config": [], "image_uri": "",
        "invoke_arn": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations",
        "kms_key_arn": "", "last_modified": "2021-01-01T00:00:00.000+0000", "layers": [l(1), l(2)],
        "memory_size": 128, "package_type": "Zip", "publish": false,
        "qualified_arn": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
        "reserved_concurrent_executions": -1, "role": "arn:aws:iam::123456789012:role/r", "runtime": "nodejs14.x",
        "signing_job_arn": "", "signing_profile_version_arn": "", "source_code_hash": "abc", "source_code_size": 100,
        "tags": {}, "tags_all": {}, "timeout": 3, "tracing_config": [{"mode": "PassThrough"}], "version": "$LATEST",
        "vpc_config": []});
    let mut after = base.clone();
    after["environment"] = json!([{"variables": {"A": "1", "B": "3", "C": "4"}}]);
    after["layers"] = json!([l(1), l(3), l(2)]);
    after["memory_size"] = json!(256);
    after["timeouts"] = json!({"create": "5m"});
    after["vpc_config"] = json!([{"security_group_ids": ["sg-1"], "subnet_ids": ["subnet-1"]}]);
    let plan = Plan {
        resource_changes: vec![aws(
            "aws_lambda_function",
            "f",
            Action::Update,
            Some(base),
            Some(after),
        )],
        ..Default::default()
    };
    check("aws_lambda_blocks", &plan);
}

#[test]
fn aws_ssm_sensitive() {
    let p = |value: &str, tags: Json| {
        json!({"allowed_pattern": "", "arn": "arn:aws:ssm:us-east-1:123456789012:parameter/p", "data_type": "text",
            "description": "", "id": "p", "key_id": "alias/aws/ssm", "name": "p", "tags": tags, "tags_all": tags,
            "tier": "Standard", "type": "SecureString", "value": value, "version": 1})
    };
    let mut c = aws(
        "aws_ssm_parameter",
        "p",
        Action::Update,
        Some(p("old-secret", json!({}))),
        None,
    );
    // Planned: the provider nulls allowed_pattern and description.
    let mut after = p("new-secret", json!({"a": "b"}));
    after["allowed_pattern"] = Json::Null;
    after["description"] = Json::Null;
    c.after = obj(&c.schema, after);
    // Prior state remembered `value` as sensitive; the new value is
    // sensitive only by schema.
    c.before = sensitive_at(c.before, &[Path::root().attr("value")]);
    let q = json!({"arn": "<unknown>", "data_type": "<unknown>", "id": "<unknown>", "key_id": "<unknown>", "name": "q",
        "tags_all": "<unknown>", "tier": "Standard", "type": "String", "value": "v", "version": "<unknown>"});
    let plan = Plan {
        resource_changes: vec![
            c,
            aws("aws_ssm_parameter", "q", Action::Create, None, Some(q)),
        ],
        ..Default::default()
    };
    check("aws_ssm_sensitive", &plan);
}

#[test]
fn drift_section() {
    // The shapes Terraform 1.0.3 showed for hashicorp/aws 3.39.0 on moto:
    // null → "" is neither shown nor counted, null → {} is shown.
    let s = schema("aws_ssm_parameter");
    let before = obj(
        &s,
        json!({"id": "p", "name": "p", "type": "String", "value": "v"}),
    );
    let after = obj(
        &s,
        json!({"id": "p", "name": "p", "type": "String", "value": "v", "description": "", "tags": {}}),
    );
    let gone = obj(
        &s,
        json!({"id": "q", "name": "q", "type": "String", "value": "w"}),
    );
    let plan = Plan {
        drift: vec![
            change(
                managed("aws_ssm_parameter", "p"),
                Action::Update,
                &s,
                before,
                after,
            ),
            change(
                managed("aws_ssm_parameter", "q"),
                Action::Delete,
                &s,
                gone,
                null_obj(&s),
            ),
        ],
        ..Default::default()
    };
    let got = terrane_core::render::render_plan(&plan, &RenderOptions { color: false });
    let rule = "─".repeat(77);
    let want_start = "\nNote: Objects have changed outside of Terraform\n\n\
        Terraform detected the following changes made outside of Terraform since the\n\
        last \"terraform apply\":\n\n  # aws_ssm_parameter.p has been changed\n  ~ resource \"aws_ssm_parameter\" \"p\" {\n";
    assert!(got.starts_with(want_start), "{got}");
    assert!(!got.contains("description"), "{got}");
    assert!(got.contains("      + tags  = {}\n"), "{got}");
    assert!(got.contains("  # aws_ssm_parameter.q has been deleted\n  - resource \"aws_ssm_parameter\" \"q\" {\n"), "{got}");
    assert!(
        got.ends_with(&format!(
            "\nUnless you have made equivalent changes to your configuration, or ignored the\n\
         relevant attributes using ignore_changes, the following plan may include\n\
         actions to undo or respond to these changes.\n\n{rule}\n\n\
         No changes. Your infrastructure matches the configuration.\n\n\
         Your configuration already matches the changes detected above. If you'd like\n\
         to update the Terraform state to match, create and apply a refresh-only plan:\n  \
         terraform apply -refresh-only\n"
        )),
        "{got}"
    );
}
