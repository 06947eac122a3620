//! Shared machinery of the built-in providers: schema builders, object
//! access helpers, the generic planning rules, the [`Provider`] adapter and
//! hashing/encoding helpers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use terrane_plugin::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, Attribute, Block, ConfigureRequest,
    Diagnostic, Diagnostics, GetSchemaResponse, ImportResourceStateRequest,
    ImportResourceStateResponse, PlanResourceChangeRequest, PlanResourceChangeResponse, Provider,
    ProviderSchema, ReadDataSourceRequest, ReadDataSourceResponse, ReadResourceRequest,
    ReadResourceResponse, Schema, Severity, StringKind, UpgradeResourceStateRequest,
    UpgradeResourceStateResponse, ValidateProviderConfigResponse,
};
use terrane_value::{Path, Type, Value, ValueMap};

// ----- schema builders -----

/// An attribute with the given flags: `r` required, `o` optional,
/// `c` computed, `s` sensitive, `d` deprecated.
pub(crate) fn attr(ty: Type, flags: &str) -> Attribute {
    Attribute {
        ty,
        nested_type: None,
        description: String::new(),
        description_kind: StringKind::Plain,
        required: flags.contains('r'),
        optional: flags.contains('o'),
        computed: flags.contains('c'),
        sensitive: flags.contains('s'),
        deprecated: flags.contains('d'),
    }
}

/// A block of plain attributes.
pub(crate) fn block(attrs: Vec<(&str, Attribute)>) -> Block {
    Block {
        attributes: attrs.into_iter().map(|(n, a)| (n.to_string(), a)).collect(),
        ..Block::default()
    }
}

/// A versioned schema.
pub(crate) fn schema(version: i64, attrs: Vec<(&str, Attribute)>) -> Schema {
    Schema {
        version,
        block: block(attrs),
    }
}

/// `map(string)`.
pub(crate) fn map_str() -> Type {
    Type::map(Type::String)
}

// ----- object access -----

/// A mutable view of an object value's attributes, completed to a schema.
#[derive(Clone, Debug)]
pub(crate) struct Obj {
    pub attrs: BTreeMap<String, Value>,
}

impl Obj {
    /// The attributes of `v` (a known object), with every attribute of
    /// `block` present (missing ones null).
    pub fn from_value(block: &Block, v: &Value) -> Obj {
        let mut attrs: BTreeMap<String, Value> =
            v.as_map().map(ValueMap::to_btree_map).unwrap_or_default();
        for (name, a) in &block.attributes {
            attrs
                .entry(name.clone())
                .or_insert_with(|| Value::null(a.ty.clone()));
        }
        attrs.retain(|k, _| block.attributes.contains_key(k));
        Obj { attrs }
    }

    /// All attributes null.
    pub fn empty(block: &Block) -> Obj {
        Obj::from_value(block, &Value::null(Type::Dynamic))
    }

    pub fn get(&self, name: &str) -> Value {
        self.attrs
            .get(name)
            .cloned()
            .unwrap_or_else(Value::null_dynamic)
    }

    pub fn set(&mut self, name: &str, v: Value) {
        self.attrs.insert(name.to_string(), v);
    }

    pub fn str(&self, name: &str) -> Option<String> {
        self.attrs
            .get(name)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.attrs.get(name).and_then(Value::as_bool)
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        self.attrs
            .get(name)
            .and_then(Value::as_number)
            .and_then(|n| if n.is_integer() { n.to_i64() } else { None })
    }

    pub fn is_null(&self, name: &str) -> bool {
        self.attrs.get(name).is_none_or(Value::is_null)
    }

    pub fn is_known(&self, name: &str) -> bool {
        self.attrs.get(name).is_some_and(Value::is_wholly_known)
    }

    /// Elements of a known list/set of strings.
    pub fn str_list(&self, name: &str) -> Option<Vec<String>> {
        let seq = self.attrs.get(name)?.as_seq()?;
        seq.iter().map(|v| v.as_str().map(str::to_string)).collect()
    }

    pub fn to_value(&self) -> Value {
        Value::object(self.attrs.clone())
    }
}

pub(crate) fn str_val(s: impl Into<String>) -> Value {
    Value::string(s.into())
}

pub(crate) fn err_diag(summary: impl Into<String>, detail: impl Into<String>) -> Diagnostics {
    Diagnostics::from_error(summary, detail)
}

pub(crate) fn attr_err(
    path: &str,
    summary: impl Into<String>,
    detail: impl Into<String>,
) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        summary: summary.into(),
        detail: detail.into(),
        attribute: Some(Path::root().attr(path)),
    }
}

// ----- planning -----

/// How one resource type plans, beyond the generic rules.
#[derive(Clone, Debug, Default)]
pub(crate) struct PlanRules {
    /// Attributes whose change forces replacement.
    pub force_new: Vec<&'static str>,
    /// Defaults of optional+computed attributes (used when the
    /// configuration leaves them null).
    pub defaults: Vec<(&'static str, Value)>,
}

/// The generic part of PlanResourceChange, as the plugin frameworks do it:
/// the proposed state with defaults applied; on create (or when a change
/// forces replacement), computed attributes the configuration leaves null
/// become unknown; `force_new` attributes whose value changes are reported
/// in `requires_replace`. Returns (planned object, requires_replace); the
/// planned object is `None` when destroying.
pub(crate) fn plan_generic(
    block: &Block,
    rules: &PlanRules,
    req: &PlanResourceChangeRequest,
) -> (Option<(Obj, Obj)>, Vec<Path>) {
    if req.proposed_new_state.is_null() {
        return (None, Vec::new());
    }
    let config = Obj::from_value(block, &req.config);
    let mut planned = Obj::from_value(block, &req.proposed_new_state);
    for (name, dflt) in &rules.defaults {
        if config.is_null(name) {
            planned.set(name, dflt.clone());
        }
    }
    let mut replace = Vec::new();
    let creating = req.prior_state.is_null();
    if !creating {
        let prior = Obj::from_value(block, &req.prior_state);
        for name in &rules.force_new {
            let (a, b) = (planned.get(name), prior.get(name));
            if !a.raw_equal(&b) {
                replace.push(Path::root().attr(*name));
            }
        }
    }
    if creating || !replace.is_empty() {
        let defaulted: Vec<&str> = rules.defaults.iter().map(|(n, _)| *n).collect();
        for (name, a) in &block.attributes {
            if a.computed && config.is_null(name) && !defaulted.contains(&name.as_str()) {
                planned.set(name, Value::unknown(a.ty.clone()));
            }
        }
    }
    (Some((planned, config)), replace)
}

pub(crate) fn plan_response(planned: Value, replace: Vec<Path>) -> PlanResourceChangeResponse {
    PlanResourceChangeResponse {
        planned_state: planned,
        requires_replace: replace,
        planned_private: Vec::new(),
        diagnostics: Diagnostics::new(),
        legacy_type_system: false,
    }
}

pub(crate) fn plan_error(ty: &Type, diags: Diagnostics) -> PlanResourceChangeResponse {
    PlanResourceChangeResponse {
        planned_state: Value::null(ty.clone()),
        requires_replace: Vec::new(),
        planned_private: Vec::new(),
        diagnostics: diags,
        legacy_type_system: false,
    }
}

pub(crate) fn apply_response(new_state: Value, diags: Diagnostics) -> ApplyResourceChangeResponse {
    ApplyResourceChangeResponse {
        new_state,
        private: Vec::new(),
        diagnostics: diags,
        legacy_type_system: false,
    }
}

// ----- the adapter -----

/// What a built-in provider implements; [`Builtin`] turns it into a
/// [`Provider`]. Requests reaching these methods name a type the schema
/// declares (the adapter checks).
pub(crate) trait Imp: Send + Sync + 'static {
    fn schema(&self) -> ProviderSchema;
    fn validate_resource(&self, _ty: &str, _config: &Obj) -> Diagnostics {
        Diagnostics::new()
    }
    fn validate_data_source(&self, _ty: &str, _config: &Obj) -> Diagnostics {
        Diagnostics::new()
    }
    fn plan(&self, ctx: &Ctx, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse;
    fn apply(&self, ctx: &Ctx, req: &ApplyResourceChangeRequest) -> ApplyResourceChangeResponse;
    fn read(&self, _ctx: &Ctx, req: &ReadResourceRequest) -> ReadResourceResponse {
        ReadResourceResponse {
            new_state: req.current_state.clone(),
            private: req.private.clone(),
            diagnostics: Diagnostics::new(),
        }
    }
    fn import(&self, _ctx: &Ctx, req: &ImportResourceStateRequest) -> Result<Obj, Diagnostics> {
        Err(err_diag(
            "Resource Import Not Implemented",
            format!(
                "This resource does not support import. Please contact the provider developer for additional information. (resource type {})",
                req.type_name
            ),
        ))
    }
    fn read_data(&self, _ctx: &Ctx, req: &ReadDataSourceRequest) -> Result<Obj, Diagnostics> {
        Err(err_diag(
            "Unsupported data source",
            format!("data source {} is not implemented", req.type_name),
        ))
    }
    /// Upgrades an older stored state (already decoded leniently into the
    /// current schema's attributes; `raw` is the stored JSON object) from
    /// `version`.
    fn upgrade(
        &self,
        _ty: &str,
        _version: i64,
        obj: Obj,
        _raw: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Obj, Diagnostics> {
        Ok(obj)
    }
    /// Whether the implementation reports the legacy type system (SDK v1/v2).
    fn legacy(&self) -> bool {
        false
    }
}

/// Context handed to implementations: the resource's schema block and the
/// provider's stop flag.
pub(crate) struct Ctx<'a> {
    pub block: &'a Block,
    pub ty: Type,
    pub stopped: &'a AtomicBool,
}

impl Ctx<'_> {
    pub fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

/// A built-in provider: an [`Imp`] plus its cached schema and stop flag.
pub(crate) struct Builtin<I: Imp> {
    imp: I,
    schema: Arc<ProviderSchema>,
    stopped: AtomicBool,
}

impl<I: Imp> Builtin<I> {
    pub fn new(imp: I) -> Builtin<I> {
        let schema = Arc::new(imp.schema());
        Builtin {
            imp,
            schema,
            stopped: AtomicBool::new(false),
        }
    }

    fn resource(&self, ty: &str) -> Result<&Schema, Diagnostics> {
        self.schema.resource_schemas.get(ty).ok_or_else(|| {
            err_diag(
                "Unsupported resource type",
                format!("This provider does not support resource type {ty:?}."),
            )
        })
    }

    fn data_source(&self, ty: &str) -> Result<&Schema, Diagnostics> {
        self.schema.data_source_schemas.get(ty).ok_or_else(|| {
            err_diag(
                "Unsupported data source",
                format!("This provider does not support data source {ty:?}."),
            )
        })
    }

    fn ctx<'a>(&'a self, s: &'a Schema) -> Ctx<'a> {
        Ctx {
            block: &s.block,
            ty: s.block.implied_type(),
            stopped: &self.stopped,
        }
    }
}

fn null_dyn() -> Value {
    Value::null_dynamic()
}

impl<I: Imp> Provider for Builtin<I> {
    fn get_schema(&self) -> GetSchemaResponse {
        GetSchemaResponse {
            schema: self.schema.clone(),
            diagnostics: Diagnostics::new(),
        }
    }

    fn validate_provider_config(&self, config: &Value) -> ValidateProviderConfigResponse {
        ValidateProviderConfigResponse {
            prepared_config: config.clone(),
            diagnostics: Diagnostics::new(),
        }
    }

    fn validate_resource_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match self.resource(type_name) {
            Ok(s) => self
                .imp
                .validate_resource(type_name, &Obj::from_value(&s.block, config)),
            Err(d) => d,
        }
    }

    fn validate_data_source_config(&self, type_name: &str, config: &Value) -> Diagnostics {
        match self.data_source(type_name) {
            Ok(s) => self
                .imp
                .validate_data_source(type_name, &Obj::from_value(&s.block, config)),
            Err(d) => d,
        }
    }

    fn upgrade_resource_state(
        &self,
        req: &UpgradeResourceStateRequest,
    ) -> UpgradeResourceStateResponse {
        let fail = |diagnostics: Diagnostics| UpgradeResourceStateResponse {
            upgraded_state: null_dyn(),
            diagnostics,
        };
        let s = match self.resource(&req.type_name) {
            Ok(s) => s,
            Err(d) => return fail(d),
        };
        if req.version > s.version {
            return fail(err_diag(
                "Unsupported state version",
                format!(
                    "The state of {} has schema version {}, newer than this provider's {}; it was written by a newer provider.",
                    req.type_name, req.version, s.version
                ),
            ));
        }
        let raw = match raw_state_object(s, req) {
            Ok(r) => r,
            Err(d) => return fail(d),
        };
        let Some(raw) = raw else {
            return UpgradeResourceStateResponse {
                upgraded_state: Value::null(s.block.implied_type()),
                diagnostics: Diagnostics::new(),
            };
        };
        let obj = match decode_lenient(&s.block, &raw) {
            Ok(o) => o,
            Err(d) => return fail(d),
        };
        let obj = if req.version < s.version {
            match self.imp.upgrade(&req.type_name, req.version, obj, &raw) {
                Ok(o) => o,
                Err(d) => return fail(d),
            }
        } else {
            obj
        };
        UpgradeResourceStateResponse {
            upgraded_state: obj.to_value(),
            diagnostics: Diagnostics::new(),
        }
    }

    fn configure(&self, _req: &ConfigureRequest) -> Diagnostics {
        Diagnostics::new()
    }

    fn read_resource(&self, req: &ReadResourceRequest) -> ReadResourceResponse {
        match self.resource(&req.type_name) {
            Ok(s) => {
                if req.current_state.is_null() {
                    return ReadResourceResponse {
                        new_state: req.current_state.clone(),
                        private: req.private.clone(),
                        diagnostics: Diagnostics::new(),
                    };
                }
                self.imp.read(&self.ctx(s), req)
            }
            Err(diagnostics) => ReadResourceResponse {
                new_state: null_dyn(),
                private: Vec::new(),
                diagnostics,
            },
        }
    }

    fn plan_resource_change(&self, req: &PlanResourceChangeRequest) -> PlanResourceChangeResponse {
        match self.resource(&req.type_name) {
            Ok(s) => {
                let ctx = self.ctx(s);
                if !req.config.is_null() {
                    let d = self
                        .imp
                        .validate_resource(&req.type_name, &Obj::from_value(&s.block, &req.config));
                    if d.has_errors() {
                        return plan_error(&ctx.ty, d);
                    }
                }
                let mut r = self.imp.plan(&ctx, req);
                r.legacy_type_system = self.imp.legacy();
                r
            }
            Err(d) => plan_error(&Type::Dynamic, d),
        }
    }

    fn apply_resource_change(
        &self,
        req: &ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        match self.resource(&req.type_name) {
            Ok(s) => {
                let mut r = self.imp.apply(&self.ctx(s), req);
                r.legacy_type_system = self.imp.legacy();
                r
            }
            Err(d) => apply_response(null_dyn(), d),
        }
    }

    fn import_resource_state(
        &self,
        req: &ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        let result = self
            .resource(&req.type_name)
            .and_then(|s| self.imp.import(&self.ctx(s), req));
        match result {
            Ok(obj) => ImportResourceStateResponse {
                imported_resources: vec![terrane_plugin::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: obj.to_value(),
                    private: Vec::new(),
                }],
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => ImportResourceStateResponse {
                imported_resources: Vec::new(),
                diagnostics,
            },
        }
    }

    fn read_data_source(&self, req: &ReadDataSourceRequest) -> ReadDataSourceResponse {
        let s = match self.data_source(&req.type_name) {
            Ok(s) => s,
            Err(diagnostics) => {
                return ReadDataSourceResponse {
                    state: null_dyn(),
                    diagnostics,
                }
            }
        };
        let ctx = self.ctx(s);
        let d = self
            .imp
            .validate_data_source(&req.type_name, &Obj::from_value(&s.block, &req.config));
        if d.has_errors() {
            return ReadDataSourceResponse {
                state: Value::null(ctx.ty.clone()),
                diagnostics: d,
            };
        }
        match self.imp.read_data(&ctx, req) {
            Ok(obj) => ReadDataSourceResponse {
                state: obj.to_value(),
                diagnostics: d,
            },
            Err(diagnostics) => ReadDataSourceResponse {
                state: Value::null(ctx.ty.clone()),
                diagnostics,
            },
        }
    }

    fn stop(&self) -> Diagnostics {
        self.stopped.store(true, Ordering::SeqCst);
        Diagnostics::new()
    }
}

/// The stored state as a JSON object: from `raw_state_json`, or rebuilt
/// from a legacy flatmap for the schema's primitive, list/set-of-primitive
/// and map-of-primitive attributes. `None` when the stored state is null.
fn raw_state_object(
    s: &Schema,
    req: &UpgradeResourceStateRequest,
) -> Result<Option<serde_json::Map<String, serde_json::Value>>, Diagnostics> {
    use serde_json::Value as J;
    if let Some(bytes) = &req.raw_state_json {
        let j: J = serde_json::from_slice(bytes).map_err(|e| {
            err_diag(
                "Invalid stored state",
                format!(
                    "The stored state of {} is not valid JSON: {e}",
                    req.type_name
                ),
            )
        })?;
        return match j {
            J::Null => Ok(None),
            J::Object(m) => Ok(Some(m)),
            _ => Err(err_diag(
                "Invalid stored state",
                format!(
                    "The stored state of {} is not a JSON object.",
                    req.type_name
                ),
            )),
        };
    }
    let Some(flat) = &req.raw_state_flatmap else {
        return Ok(None);
    };
    let mut out = serde_json::Map::new();
    for (name, a) in &s.block.attributes {
        let scalar = |t: &Type, raw: &str| -> J {
            match t {
                Type::Bool => J::Bool(raw == "true"),
                Type::Number => serde_json::from_str::<serde_json::Number>(raw)
                    .map(J::Number)
                    .unwrap_or_else(|_| J::String(raw.to_string())),
                _ => J::String(raw.to_string()),
            }
        };
        match &a.ty {
            Type::Map(e) => {
                if !flat.contains_key(&format!("{name}.%")) {
                    continue;
                }
                let prefix = format!("{name}.");
                let mut m = serde_json::Map::new();
                for (k, v) in flat.range(prefix.clone()..) {
                    let Some(key) = k.strip_prefix(&prefix) else {
                        break;
                    };
                    if key != "%" {
                        m.insert(key.to_string(), scalar(e, v));
                    }
                }
                out.insert(name.clone(), J::Object(m));
            }
            Type::List(e) | Type::Set(e) => {
                let Some(n) = flat
                    .get(&format!("{name}.#"))
                    .and_then(|n| n.parse::<usize>().ok())
                else {
                    continue;
                };
                let prefix = format!("{name}.");
                let items: Vec<J> = flat
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter(|(k, _)| !k.ends_with(".#"))
                    .map(|(_, v)| scalar(e, v))
                    .take(n)
                    .collect();
                out.insert(name.clone(), J::Array(items));
            }
            t => {
                if let Some(v) = flat.get(name) {
                    out.insert(name.clone(), scalar(t, v));
                }
            }
        }
    }
    Ok(Some(out))
}

/// Decodes a stored state object into the schema's attributes, ignoring
/// attributes the schema no longer has.
fn decode_lenient(
    block: &Block,
    raw: &serde_json::Map<String, serde_json::Value>,
) -> Result<Obj, Diagnostics> {
    let mut obj = Obj::empty(block);
    for (name, a) in &block.attributes {
        let Some(j) = raw.get(name) else { continue };
        let v = terrane_value::json::from_serde(j, &a.ty).map_err(|e| {
            err_diag(
                "Invalid stored state",
                format!("Attribute {name:?} of the stored state is invalid: {e}"),
            )
        })?;
        obj.set(name, v);
    }
    Ok(obj)
}

/// Replaces unknown values (at the top level of each attribute) in a
/// planned object using `fill`.
pub(crate) fn fill_unknowns(obj: &mut Obj, mut fill: impl FnMut(&str) -> Option<Value>) {
    let names: Vec<String> = obj
        .attrs
        .iter()
        .filter(|(_, v)| !v.is_known())
        .map(|(k, _)| k.clone())
        .collect();
    for n in names {
        if let Some(v) = fill(&n) {
            obj.set(&n, v);
        }
    }
}

// ----- encodings -----

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
