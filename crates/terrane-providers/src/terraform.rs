//! `terraform.io/builtin/terraform`: the managed resource `terraform_data`
//! and the data source `terraform_remote_state`.
//!
//! `terraform_remote_state` reads the root module outputs of one workspace
//! of any backend. This crate knows no backends: the CLI, which composes
//! them, hands a [`BackendResolver`] to [`provider_with_backends`]. Without
//! one only the `local` backend is read, straight from its files.

use std::collections::BTreeMap;
use std::sync::Arc;

use terrane_plugin::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, Diagnostics,
    ImportResourceStateRequest, PlanResourceChangeRequest, PlanResourceChangeResponse,
    ProviderSchema, ReadDataSourceRequest,
};
use terrane_value::json::Json;
use terrane_value::{Path, Type, Value};

use crate::common::*;

/// One argument of a backend's configuration schema.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendArgument {
    /// The argument name.
    pub name: String,
    /// Its type (`config` values are converted to it).
    pub ty: Type,
    /// Whether `config` must set it.
    pub required: bool,
}

/// Why a backend could not give the state of a workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteStateError {
    /// The backend refused its configuration (or could not connect).
    Configure(String),
    /// The backend has no such workspace or no workspaces at all.
    Workspace(String),
    /// Reading the stored state failed.
    Read(String),
}

/// The backends `terraform_remote_state` can read, given to the provider
/// by whoever composes the backends (the CLI).
pub trait BackendResolver: Send + Sync {
    /// The arguments of the backend type `backend`; `None` when there is
    /// no such backend type.
    fn arguments(&self, backend: &str) -> Option<Vec<BackendArgument>>;

    /// The stored state of `workspace` as a state document (format v4),
    /// or `None` when nothing is stored. `config` holds the arguments that
    /// are set, already checked against [`arguments`](Self::arguments).
    /// Reads only: takes no lock and writes nothing.
    fn read_state(
        &self,
        backend: &str,
        config: &serde_json::Map<String, serde_json::Value>,
        workspace: &str,
    ) -> Result<Option<Vec<u8>>, RemoteStateError>;
}

/// The `local` backend read straight from its files: the provider's
/// backends when no resolver is given.
struct LocalFiles;

impl BackendResolver for LocalFiles {
    fn arguments(&self, backend: &str) -> Option<Vec<BackendArgument>> {
        (backend == "local").then(|| {
            ["path", "workspace_dir"]
                .into_iter()
                .map(|name| BackendArgument {
                    name: name.to_string(),
                    ty: Type::String,
                    required: false,
                })
                .collect()
        })
    }

    fn read_state(
        &self,
        _backend: &str,
        config: &serde_json::Map<String, serde_json::Value>,
        workspace: &str,
    ) -> Result<Option<Vec<u8>>, RemoteStateError> {
        let setting = |name: &str| config.get(name).and_then(|v| v.as_str());
        let path = if workspace == "default" {
            setting("path").unwrap_or("terraform.tfstate").to_string()
        } else {
            let dir = setting("workspace_dir").unwrap_or("terraform.tfstate.d");
            format!("{dir}/{workspace}/terraform.tfstate")
        };
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RemoteStateError::Read(format!("{path}: {e}"))),
        }
    }
}

pub(crate) struct Terraform {
    backends: Arc<dyn BackendResolver>,
}

impl Terraform {
    pub(crate) fn new(backends: Option<Arc<dyn BackendResolver>>) -> Terraform {
        Terraform {
            backends: backends.unwrap_or_else(|| Arc::new(LocalFiles)),
        }
    }
}

fn rules() -> PlanRules {
    PlanRules {
        force_new: vec!["triggers_replace"],
        defaults: Vec::new(),
    }
}

fn invalid_config(detail: impl Into<String>) -> Diagnostics {
    Diagnostics(vec![attr_err(
        "config",
        "Invalid backend configuration",
        detail,
    )])
}

/// Checks `config` against the backend's arguments as Terraform does
/// (unexpected arguments first, then each argument: required, converted
/// to its type) and returns the arguments that are set.
fn decode_backend_config(
    backends: &dyn BackendResolver,
    backend: &str,
    config: &Value,
) -> Result<serde_json::Map<String, serde_json::Value>, Diagnostics> {
    let Some(arguments) = backends.arguments(backend) else {
        return Err(Diagnostics(vec![attr_err(
            "backend",
            "Invalid backend configuration",
            format!("There is no backend type named {backend:?}."),
        )]));
    };
    let not_valid = |reason: String| {
        invalid_config(format!(
            "The given configuration is not valid for backend {backend:?}: {reason}."
        ))
    };
    let given: BTreeMap<String, Value> = if config.is_null() {
        BTreeMap::new()
    } else if config.ty().attribute_types().is_some() || matches!(config.ty(), Type::Map(_)) {
        config
            .as_map()
            .map(|m| m.to_btree_map())
            .unwrap_or_default()
    } else {
        return Err(not_valid("an object is required".into()));
    };
    if let Some(name) = given
        .keys()
        .find(|name| !arguments.iter().any(|a| &a.name == *name))
    {
        return Err(not_valid(format!("unexpected attribute {name:?}")));
    }
    let mut decoded = serde_json::Map::new();
    for argument in &arguments {
        let value = given
            .get(&argument.name)
            .cloned()
            .unwrap_or_else(Value::null_dynamic);
        if value.is_null() {
            if argument.required {
                return Err(not_valid(format!(
                    "attribute {:?} is required",
                    argument.name
                )));
            }
            continue;
        }
        let converted = terrane_value::convert(&value, &argument.ty).map_err(|mut e| {
            let mut path = Path::root().attr(argument.name.clone());
            path.0.append(&mut e.path.0);
            e.path = path;
            not_valid(e.to_string())
        })?;
        let json = terrane_value::json::to_serde(&converted, &argument.ty)
            .map_err(|e| not_valid(format!(".{}: {e}", argument.name)))?;
        decoded.insert(argument.name.clone(), json);
    }
    Ok(decoded)
}

fn load_error(detail: String) -> Diagnostics {
    err_diag(
        "Error loading state error",
        format!("error loading the remote state: {detail}"),
    )
}

/// The root module outputs of a state document (format v4; v3, which
/// keeps outputs per module, for the root module), each decoded with the
/// type the state records. `None`: the document holds no state.
fn state_outputs(bytes: &[u8]) -> Result<Option<BTreeMap<String, Value>>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the state is not UTF-8: {e}"))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let doc = terrane_value::json::parse(text).map_err(|e| e.to_string())?;
    let field = |j: &Json, name: &str| -> Option<Json> {
        match j {
            Json::Object(items) => items
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
            _ => None,
        }
    };
    let version = match field(&doc, "version") {
        Some(Json::Number(n)) => n,
        _ => return Err("unsupported state format version (missing)".into()),
    };
    let outputs = match version.as_str() {
        "4" => field(&doc, "outputs"),
        "3" => match field(&doc, "modules") {
            Some(Json::Array(modules)) => modules
                .into_iter()
                .find(|m| matches!(field(m, "path"), Some(Json::Array(p)) if p.len() == 1))
                .and_then(|m| field(&m, "outputs")),
            _ => None,
        },
        other => return Err(format!("unsupported state format version {other}")),
    };
    let mut decoded = BTreeMap::new();
    let Some(Json::Object(outputs)) = outputs else {
        return Ok(Some(decoded));
    };
    for (name, output) in outputs {
        let Some(value) = field(&output, "value") else {
            continue;
        };
        let ty = match field(&output, "type") {
            Some(t) => Type::from_json(&terrane_value::json::json_to_serde(&t))
                .map_err(|e| format!("output {name:?}: {e}"))?,
            None => Type::Dynamic,
        };
        let v = terrane_value::json::from_json(&value, &ty)
            .map_err(|e| format!("output {name:?}: {e}"))?;
        decoded.insert(name, v);
    }
    Ok(Some(decoded))
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
        let config = c.get("config");
        match c.attrs.get("backend").filter(|b| b.is_known()) {
            Some(b) if config.is_wholly_known() => {
                let backend = b.as_str().unwrap_or_default();
                if let Err(e) = decode_backend_config(self.backends.as_ref(), backend, &config) {
                    d.0.extend(e.0);
                }
            }
            _ => {
                let ty = config.ty();
                if !config.is_null()
                    && !ty.is_dynamic()
                    && ty.attribute_types().is_none()
                    && !matches!(ty, Type::Map(_))
                {
                    d.0.extend(invalid_config("The configuration must be an object value.").0);
                }
            }
        }
        let defaults = c.get("defaults");
        let ty = defaults.ty();
        if !defaults.is_null()
            && !ty.is_dynamic()
            && ty.attribute_types().is_none()
            && !matches!(ty, Type::Map(_))
        {
            d.push(attr_err(
                "defaults",
                "Invalid default values",
                "Defaults must be given in an object value.",
            ));
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
        let mut backend = obj.str("backend").unwrap_or_default();
        // Terraform still accepts the pre-0.9 name of the local backend.
        if backend == "_local" {
            backend = "local".into();
        }
        let config = decode_backend_config(self.backends.as_ref(), &backend, &obj.get("config"))?;
        let workspace = obj.str("workspace").unwrap_or_else(|| "default".into());
        let stored = self
            .backends
            .read_state(&backend, &config, &workspace)
            .map_err(|e| match e {
                RemoteStateError::Configure(message) => err_diag(
                    format!("Error configuring the backend {backend:?}"),
                    message,
                ),
                RemoteStateError::Workspace(message) => Diagnostics(vec![attr_err(
                    "backend",
                    "Error loading state error",
                    format!("error loading the remote state: {message}"),
                )]),
                RemoteStateError::Read(message) => load_error(message),
            })?;
        let outputs = match stored {
            Some(bytes) => state_outputs(&bytes).map_err(load_error)?,
            None => None,
        };
        // Terraform 1.0.3 fails on a workspace without a stored state
        // rather than giving empty outputs.
        let Some(outputs) = outputs else {
            return Err(Diagnostics(vec![attr_err(
                "workspace",
                "Unable to find remote state",
                "No stored state was found for the given workspace in the given backend.",
            )]));
        };
        // Defaults first; the state's outputs replace those of the same name.
        let mut merged: BTreeMap<String, Value> = BTreeMap::new();
        let defaults = obj.get("defaults");
        if let Some(m) = defaults.as_map() {
            for (k, v) in m {
                merged.insert(k.clone(), v.clone());
            }
        }
        merged.extend(outputs);
        obj.set("outputs", Value::object(merged));
        Ok(obj)
    }
}

/// The built-in `terraform` provider reading `terraform_remote_state`
/// through `backends` (only local files when `None`).
pub fn provider_with_backends(
    backends: Option<Arc<dyn BackendResolver>>,
) -> Arc<dyn terrane_plugin::Provider> {
    Arc::new(Builtin::new(Terraform::new(backends)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Value {
        Value::object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    struct Fixed;

    impl BackendResolver for Fixed {
        fn arguments(&self, backend: &str) -> Option<Vec<BackendArgument>> {
            (backend == "fixed").then(|| {
                vec![
                    BackendArgument {
                        name: "address".into(),
                        ty: Type::String,
                        required: true,
                    },
                    BackendArgument {
                        name: "retries".into(),
                        ty: Type::Number,
                        required: false,
                    },
                    BackendArgument {
                        name: "tags".into(),
                        ty: Type::list(Type::String),
                        required: false,
                    },
                ]
            })
        }

        fn read_state(
            &self,
            _backend: &str,
            _config: &serde_json::Map<String, serde_json::Value>,
            _workspace: &str,
        ) -> Result<Option<Vec<u8>>, RemoteStateError> {
            Ok(None)
        }
    }

    fn decode_err(c: &Value) -> String {
        match decode_backend_config(&Fixed, "fixed", c) {
            Ok(v) => format!("ok {v:?}"),
            Err(d) => d.0.iter().map(|d| d.detail.clone()).collect(),
        }
    }

    #[test]
    fn config_is_checked_as_terraform_does() {
        assert_eq!(
            decode_err(&config(&[("zz", Value::string("x"))])),
            "The given configuration is not valid for backend \"fixed\": unexpected attribute \"zz\"."
        );
        assert_eq!(
            decode_err(&config(&[])),
            "The given configuration is not valid for backend \"fixed\": attribute \"address\" is required."
        );
        assert_eq!(
            decode_err(&config(&[
                ("address", Value::string("a")),
                ("retries", Value::string("many"))
            ])),
            "The given configuration is not valid for backend \"fixed\": .retries: a number is required."
        );
        assert_eq!(
            decode_err(&config(&[
                ("address", Value::string("a")),
                ("tags", Value::tuple(vec![Value::string("x"), Value::empty_tuple()]))
            ])),
            "The given configuration is not valid for backend \"fixed\": .tags: element 1: string required."
        );
        assert_eq!(
            decode_err(&Value::string("x")),
            "The given configuration is not valid for backend \"fixed\": an object is required."
        );
        let ok = decode_backend_config(
            &Fixed,
            "fixed",
            &config(&[
                ("address", Value::from_i64(7)),
                ("retries", Value::string("3")),
            ]),
        )
        .expect("valid");
        assert_eq!(
            serde_json::Value::Object(ok).to_string(),
            r#"{"address":"7","retries":3}"#
        );
    }

    #[test]
    fn outputs_keep_the_types_the_state_records() {
        let doc = br#"{"version":4,"terraform_version":"1.0.3","serial":1,"lineage":"x","outputs":{
            "l":{"value":["a"],"type":["list","string"]},
            "t":{"value":["a"],"type":["tuple",["string"]]},
            "n":{"value":12345678901234567890.5,"type":"number"},
            "s":{"value":"v","type":"string","sensitive":true}},"resources":[]}"#;
        let outputs = state_outputs(doc).expect("decodes").expect("a state");
        assert_eq!(outputs["l"].ty(), &Type::list(Type::String));
        assert_eq!(outputs["t"].ty(), &Type::tuple(vec![Type::String]));
        assert_eq!(
            outputs["n"].as_number().map(|n| n.to_string()),
            Some("12345678901234567890.5".to_string())
        );
        // Terraform 1.0.3 does not mark sensitive outputs of another state.
        assert!(!outputs["s"].is_marked());
        assert_eq!(state_outputs(b"  ").expect("empty"), None);
        assert!(state_outputs(br#"{"version":9}"#)
            .expect_err("v9")
            .contains("unsupported state format version 9"));
    }
}
