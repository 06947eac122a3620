//! The provider's behaviour: schema, one resource type with nested
//! attributes in every nesting mode, two functions, state moves.

use std::collections::BTreeMap;
use std::time::Duration;

use terrane_plugin::proto::{self, nesting};
use terrane_plugin::ProviderSchema;
use terrane_value::{Kind, Type, Value};

/// The resource type.
pub const THING: &str = "terranetest_thing";

pub struct TestProvider {
    wire: proto::GetProviderSchemaResponse,
    thing_type: Type,
}

fn attr(name: &str, ty: &str, flags: &str) -> proto::Attribute {
    proto::Attribute {
        name: name.into(),
        r#type: ty.as_bytes().to_vec(),
        required: flags.contains('r'),
        optional: flags.contains('o'),
        computed: flags.contains('c'),
        description: format!("The {name} attribute."),
        ..Default::default()
    }
}

fn nested(name: &str, mode: i32, attributes: Vec<proto::Attribute>) -> proto::Attribute {
    proto::Attribute {
        name: name.into(),
        nested_type: Some(proto::Object {
            attributes,
            nesting: mode,
            min_items: 0,
            max_items: 0,
        }),
        optional: true,
        description: format!("Nested attributes, {name} nesting."),
        ..Default::default()
    }
}

fn param(name: &str, ty: &str, allow_null: bool) -> proto::FunctionParameter {
    proto::FunctionParameter {
        name: name.into(),
        r#type: ty.as_bytes().to_vec(),
        allow_null_value: allow_null,
        allow_unknown_values: false,
        description: String::new(),
        description_kind: 0,
    }
}

fn functions() -> BTreeMap<String, proto::Function> {
    let mut f = BTreeMap::new();
    f.insert(
        "greet".to_string(),
        proto::Function {
            parameters: vec![param("name", "\"string\"", false)],
            variadic_parameter: Some(param("suffixes", "\"string\"", false)),
            r#return: Some(proto::FunctionReturn {
                r#type: b"\"string\"".to_vec(),
            }),
            summary: "Greets someone".into(),
            description: "Returns \"Hello, NAME\" followed by the suffixes.".into(),
            ..Default::default()
        },
    );
    f.insert(
        "describe".to_string(),
        proto::Function {
            parameters: vec![param("value", "\"dynamic\"", true)],
            variadic_parameter: None,
            r#return: Some(proto::FunctionReturn {
                r#type: b"\"string\"".to_vec(),
            }),
            summary: "Names the type of a value".into(),
            ..Default::default()
        },
    );
    f
}

fn diag(summary: &str, detail: &str, attribute: Option<&str>) -> proto::Diagnostic {
    proto::Diagnostic {
        severity: proto::SEVERITY_ERROR,
        summary: summary.into(),
        detail: detail.into(),
        attribute: attribute.map(|a| proto::AttributePath {
            steps: vec![proto::AttributePathStep {
                selector: Some(proto::Selector::AttributeName(a.into())),
            }],
        }),
    }
}

fn msgpack(v: &Value, ty: &Type) -> Result<proto::DynamicValue, proto::Diagnostic> {
    terrane_value::msgpack::encode(v, ty)
        .map(|msgpack| proto::DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|e| diag("Cannot encode value", &e.to_string(), None))
}

fn decode(dv: Option<&proto::DynamicValue>, ty: &Type) -> Result<Value, proto::Diagnostic> {
    match dv {
        Some(dv) if !dv.msgpack.is_empty() => terrane_value::msgpack::decode(&dv.msgpack, ty)
            .map_err(|e| diag("Cannot decode value", &e.to_string(), None)),
        Some(dv) if !dv.json.is_empty() => std::str::from_utf8(&dv.json)
            .map_err(|e| e.to_string())
            .and_then(|s| terrane_value::json::unmarshal(s, ty).map_err(|e| e.to_string()))
            .map_err(|e| diag("Cannot decode value", &e, None)),
        _ => Ok(Value::null(ty.clone())),
    }
}

/// `v` with attribute `name` replaced.
fn with_attr(v: &Value, name: &str, new: Value) -> Value {
    let mut attrs = v.as_map().cloned().unwrap_or_default();
    attrs.insert(name.to_string(), new);
    Value::object(attrs.into())
}

fn count_items(v: Option<&Value>) -> Option<usize> {
    match v {
        None => Some(0),
        Some(v) if v.is_null() => Some(0),
        Some(v) if !v.is_known() => None,
        Some(v) => v.length(),
    }
}

/// "N list, M set, K map" when the collections' lengths are known.
fn summary(config: &Value) -> Value {
    let counts: Option<Vec<usize>> = ["list", "set", "map"]
        .iter()
        .map(|n| count_items(config.get_attr(n)))
        .collect();
    match counts {
        Some(c) => Value::string(format!("{} list, {} set, {} map", c[0], c[1], c[2])),
        None => Value::unknown(Type::String),
    }
}

impl TestProvider {
    pub fn new() -> TestProvider {
        let thing = proto::Block {
            attributes: vec![
                attr("id", "\"string\"", "c"),
                attr("name", "\"string\"", "r"),
                attr("plan_delay_ms", "\"number\"", "o"),
                attr("summary", "\"string\"", "c"),
                nested(
                    "single",
                    nesting::SINGLE,
                    vec![attr("a", "\"string\"", "o"), attr("b", "\"number\"", "o")],
                ),
                nested(
                    "list",
                    nesting::LIST,
                    vec![
                        attr("key", "\"string\"", "r"),
                        attr("value", "\"string\"", "o"),
                    ],
                ),
                nested(
                    "set",
                    nesting::SET,
                    vec![
                        attr("port", "\"number\"", "r"),
                        attr("protocol", "\"string\"", "o"),
                    ],
                ),
                nested("map", nesting::MAP, vec![attr("value", "\"string\"", "r")]),
            ],
            description: "A thing with nested attributes.".into(),
            ..Default::default()
        };
        let wire = proto::GetProviderSchemaResponse {
            provider: Some(proto::Schema {
                version: 0,
                block: Some(proto::Block {
                    attributes: vec![attr("prefix", "\"string\"", "o")],
                    ..Default::default()
                }),
            }),
            resource_schemas: [(
                THING.to_string(),
                proto::Schema {
                    version: 1,
                    block: Some(thing),
                },
            )]
            .into_iter()
            .collect(),
            data_source_schemas: BTreeMap::new(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(proto::ServerCapabilities {
                plan_destroy: false,
                get_provider_schema_optional: true,
                move_resource_state: true,
            }),
            functions: functions(),
        };
        // The client's own conversion gives the value type of the resource.
        let (schema, _) = ProviderSchema::from_proto(&wire);
        let thing_type = schema
            .resource(THING)
            .map(|s| s.block.implied_type())
            .unwrap_or(Type::Dynamic);
        TestProvider { wire, thing_type }
    }

    pub fn get_provider_schema(&self) -> proto::GetProviderSchemaResponse {
        self.wire.clone()
    }

    pub fn functions(&self) -> BTreeMap<String, proto::Function> {
        self.wire.functions.clone()
    }

    pub fn get_metadata(&self) -> proto::GetMetadataResponse {
        proto::GetMetadataResponse {
            server_capabilities: self.wire.server_capabilities.clone(),
            diagnostics: Vec::new(),
            data_sources: Vec::new(),
            resources: vec![proto::TypeNameMetadata {
                type_name: THING.into(),
            }],
            functions: self
                .wire
                .functions
                .keys()
                .map(|n| proto::FunctionMetadata { name: n.clone() })
                .collect(),
        }
    }

    fn check_type(&self, type_name: &str) -> Result<(), proto::Diagnostic> {
        if type_name == THING {
            Ok(())
        } else {
            Err(diag(
                "Unknown resource type",
                &format!("terranetest has no resource type {type_name:?}."),
                None,
            ))
        }
    }

    pub fn unknown_data_source(&self, type_name: &str) -> proto::DiagnosticsResponse {
        proto::DiagnosticsResponse {
            diagnostics: vec![diag(
                "Unknown data source",
                &format!("terranetest has no data source {type_name:?}."),
                None,
            )],
        }
    }

    pub fn validate_resource_config(
        &self,
        r: proto::ValidateConfigRequest,
    ) -> proto::DiagnosticsResponse {
        let run = || -> Result<Vec<proto::Diagnostic>, proto::Diagnostic> {
            self.check_type(&r.type_name)?;
            let config = decode(r.config.as_ref(), &self.thing_type)?;
            let mut out = Vec::new();
            if config.get_attr("name").and_then(Value::as_str) == Some("") {
                out.push(diag(
                    "Invalid name",
                    "The name must not be empty.",
                    Some("name"),
                ));
            }
            Ok(out)
        };
        proto::DiagnosticsResponse {
            diagnostics: run().unwrap_or_else(|d| vec![d]),
        }
    }

    pub fn upgrade_resource_state(
        &self,
        r: proto::UpgradeResourceStateRequest,
    ) -> proto::UpgradeResourceStateResponse {
        let run = || -> Result<proto::DynamicValue, proto::Diagnostic> {
            self.check_type(&r.type_name)?;
            let json = r.raw_state.map(|s| s.json).unwrap_or_default();
            let v = std::str::from_utf8(&json)
                .map_err(|e| e.to_string())
                .and_then(|s| {
                    terrane_value::json::unmarshal(s, &self.thing_type).map_err(|e| e.to_string())
                })
                .map_err(|e| diag("Cannot upgrade state", &e, None))?;
            msgpack(&v, &self.thing_type)
        };
        match run() {
            Ok(v) => proto::UpgradeResourceStateResponse {
                upgraded_state: Some(v),
                diagnostics: Vec::new(),
            },
            Err(d) => proto::UpgradeResourceStateResponse {
                upgraded_state: None,
                diagnostics: vec![d],
            },
        }
    }

    /// How long a plan of this request waits (`plan_delay_ms`).
    pub fn plan_delay(&self, r: &proto::PlanResourceChangeRequest) -> Duration {
        decode(r.config.as_ref(), &self.thing_type)
            .ok()
            .and_then(|c| c.get_attr("plan_delay_ms").cloned())
            .and_then(|v| v.as_number().and_then(|n| n.to_i64()))
            .and_then(|ms| u64::try_from(ms).ok())
            .map(|ms| Duration::from_millis(ms.min(600_000)))
            .unwrap_or_default()
    }

    pub fn plan_resource_change(
        &self,
        r: proto::PlanResourceChangeRequest,
    ) -> proto::PlanResourceChangeResponse {
        let run = || -> Result<proto::PlanResourceChangeResponse, proto::Diagnostic> {
            self.check_type(&r.type_name)?;
            let ty = &self.thing_type;
            let prior = decode(r.prior_state.as_ref(), ty)?;
            let proposed = decode(r.proposed_new_state.as_ref(), ty)?;
            let config = decode(r.config.as_ref(), ty)?;
            let mut requires_replace = Vec::new();
            let planned = if proposed.is_null() {
                proposed
            } else {
                let id = match prior.get_attr("id") {
                    Some(id) if !prior.is_null() && !id.is_null() => id.clone(),
                    _ => Value::unknown(Type::String),
                };
                let name_changed = !prior.is_null()
                    && match (prior.get_attr("name"), config.get_attr("name")) {
                        (Some(a), Some(b)) => !a.raw_equal(b),
                        _ => false,
                    };
                let id = if name_changed {
                    requires_replace.push(proto::AttributePath {
                        steps: vec![proto::AttributePathStep {
                            selector: Some(proto::Selector::AttributeName("name".into())),
                        }],
                    });
                    Value::unknown(Type::String)
                } else {
                    id
                };
                let v = with_attr(&proposed, "id", id);
                with_attr(&v, "summary", summary(&config))
            };
            Ok(proto::PlanResourceChangeResponse {
                planned_state: Some(msgpack(&planned, ty)?),
                requires_replace,
                planned_private: Vec::new(),
                diagnostics: Vec::new(),
                legacy_type_system: false,
            })
        };
        run().unwrap_or_else(|d| proto::PlanResourceChangeResponse {
            diagnostics: vec![d],
            ..Default::default()
        })
    }

    pub fn apply_resource_change(
        &self,
        r: proto::ApplyResourceChangeRequest,
    ) -> proto::ApplyResourceChangeResponse {
        let run = || -> Result<proto::ApplyResourceChangeResponse, proto::Diagnostic> {
            self.check_type(&r.type_name)?;
            let ty = &self.thing_type;
            let planned = decode(r.planned_state.as_ref(), ty)?;
            let config = decode(r.config.as_ref(), ty)?;
            let new_state = if planned.is_null() {
                planned
            } else {
                let name = config
                    .get_attr("name")
                    .and_then(Value::as_str)
                    .unwrap_or("unnamed")
                    .to_string();
                let mut v = planned;
                if v.get_attr("id").is_some_and(|id| !id.is_known()) {
                    v = with_attr(&v, "id", Value::string(format!("thing-{name}")));
                }
                if v.get_attr("summary").is_some_and(|s| !s.is_known()) {
                    v = with_attr(&v, "summary", summary(&config));
                }
                v
            };
            Ok(proto::ApplyResourceChangeResponse {
                new_state: Some(msgpack(&new_state, ty)?),
                private: r.planned_private,
                diagnostics: Vec::new(),
                legacy_type_system: false,
            })
        };
        run().unwrap_or_else(|d| proto::ApplyResourceChangeResponse {
            diagnostics: vec![d],
            ..Default::default()
        })
    }

    pub fn import_resource_state(
        &self,
        r: proto::ImportResourceStateRequest,
    ) -> proto::ImportResourceStateResponse {
        proto::ImportResourceStateResponse {
            imported_resources: Vec::new(),
            diagnostics: vec![diag(
                "Import not supported",
                &format!("{} cannot be imported (id {:?}).", r.type_name, r.id),
                None,
            )],
        }
    }

    /// Accepts any source state whose JSON fits the target type.
    pub fn move_resource_state(
        &self,
        r: proto::MoveResourceStateRequest,
    ) -> proto::MoveResourceStateResponse {
        let run = || -> Result<proto::DynamicValue, proto::Diagnostic> {
            self.check_type(&r.target_type_name)?;
            let json = r.source_state.map(|s| s.json).unwrap_or_default();
            let v = std::str::from_utf8(&json)
                .map_err(|e| e.to_string())
                .and_then(|s| {
                    terrane_value::json::unmarshal(s, &self.thing_type).map_err(|e| e.to_string())
                })
                .map_err(|e| {
                    diag(
                        "Cannot move state",
                        &format!(
                            "The state of {} (from {}) does not fit {}: {e}",
                            r.source_type_name, r.source_provider_address, THING
                        ),
                        None,
                    )
                })?;
            msgpack(&v, &self.thing_type)
        };
        match run() {
            Ok(v) => proto::MoveResourceStateResponse {
                target_state: Some(v),
                diagnostics: Vec::new(),
                target_private: r.source_private,
            },
            Err(d) => proto::MoveResourceStateResponse {
                target_state: None,
                diagnostics: vec![d],
                target_private: Vec::new(),
            },
        }
    }

    pub fn call_function(&self, r: proto::CallFunctionRequest) -> proto::CallFunctionResponse {
        let fail = |text: String, arg: Option<i64>| proto::CallFunctionResponse {
            result: None,
            error: Some(proto::FunctionError {
                text,
                function_argument: arg,
            }),
        };
        let result = match r.name.as_str() {
            "greet" => {
                let mut parts = Vec::new();
                for (i, a) in r.arguments.iter().enumerate() {
                    match decode(Some(a), &Type::String) {
                        Ok(v) => match v.as_str() {
                            Some(s) => parts.push(s.to_string()),
                            None => {
                                return fail(
                                    "argument must be a known string".into(),
                                    Some(i as i64),
                                )
                            }
                        },
                        Err(d) => return fail(d.detail, Some(i as i64)),
                    }
                }
                match parts.split_first() {
                    None => return fail("a name is required".into(), None),
                    Some((name, _)) if name.is_empty() => {
                        return fail("the name must not be empty".into(), Some(0))
                    }
                    Some((name, suffixes)) => {
                        Value::string(format!("Hello, {name}{}", suffixes.concat()))
                    }
                }
            }
            "describe" => {
                let Some(a) = r.arguments.first() else {
                    return fail("one argument is required".into(), None);
                };
                match decode(Some(a), &Type::Dynamic) {
                    Ok(v) if v.is_null() => Value::string("null"),
                    Ok(v) => Value::string(match v.kind() {
                        Kind::Object(_) => "object".to_string(),
                        Kind::Tuple(_) => "tuple".to_string(),
                        _ => v.ty().friendly_name(),
                    }),
                    Err(d) => return fail(d.detail, Some(0)),
                }
            }
            other => return fail(format!("there is no function named {other:?}"), None),
        };
        match msgpack(&result, &Type::String) {
            Ok(v) => proto::CallFunctionResponse {
                result: Some(v),
                error: None,
            },
            Err(d) => fail(d.detail, None),
        }
    }
}
