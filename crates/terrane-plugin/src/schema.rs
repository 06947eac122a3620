//! Provider schemas: the terrane model of `GetProviderSchema`, conversion
//! from the protocol, implied value types, and the `providers schema -json`
//! document.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};
use terrane_value::Type;

use crate::diag::Diagnostics;
use crate::proto;

/// How a description is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StringKind {
    /// Plain text.
    #[default]
    Plain,
    /// Markdown.
    Markdown,
}

impl StringKind {
    fn from_proto(k: i32) -> StringKind {
        if k == proto::STRING_KIND_MARKDOWN {
            StringKind::Markdown
        } else {
            StringKind::Plain
        }
    }

    /// `"plain"` or `"markdown"`, as in Terraform's JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            StringKind::Plain => "plain",
            StringKind::Markdown => "markdown",
        }
    }
}

/// How a nested block (or protocol 6 nested attribute) repeats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NestingMode {
    /// At most one block, value is an object (null when absent).
    Single,
    /// Exactly one block whose absence means an object of nulls.
    Group,
    /// A list of objects.
    List,
    /// A set of objects.
    Set,
    /// A map of objects keyed by the block label.
    Map,
}

impl NestingMode {
    fn from_proto(n: i32) -> Option<NestingMode> {
        Some(match n {
            proto::nesting::SINGLE => NestingMode::Single,
            proto::nesting::LIST => NestingMode::List,
            proto::nesting::SET => NestingMode::Set,
            proto::nesting::MAP => NestingMode::Map,
            proto::nesting::GROUP => NestingMode::Group,
            _ => return None,
        })
    }

    /// The name used in Terraform's JSON output (`"single"`, `"list"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            NestingMode::Single => "single",
            NestingMode::Group => "group",
            NestingMode::List => "list",
            NestingMode::Set => "set",
            NestingMode::Map => "map",
        }
    }
}

/// A versioned schema (provider config, resource type, data source, or
/// provider_meta).
#[derive(Clone, Debug, PartialEq)]
pub struct Schema {
    /// Schema version; state written with an older version is upgraded.
    pub version: i64,
    /// The top-level block.
    pub block: Block,
}

/// A configuration block.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    /// Attributes by name.
    pub attributes: BTreeMap<String, Attribute>,
    /// Nested block types by name.
    pub block_types: BTreeMap<String, NestedBlock>,
    /// Description.
    pub description: String,
    /// How `description` is written.
    pub description_kind: StringKind,
    /// Whether the block is deprecated.
    pub deprecated: bool,
}

/// An attribute of a block.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// The value type. For protocol 6 nested attributes this is the type
    /// implied by [`Attribute::nested_type`].
    pub ty: Type,
    /// Protocol 6 nested attribute type.
    pub nested_type: Option<NestedObject>,
    /// Description.
    pub description: String,
    /// How `description` is written.
    pub description_kind: StringKind,
    /// Must be set in configuration.
    pub required: bool,
    /// May be set in configuration.
    pub optional: bool,
    /// Set by the provider (possibly also optional).
    pub computed: bool,
    /// Hidden in output.
    pub sensitive: bool,
    /// Deprecated.
    pub deprecated: bool,
}

/// A protocol 6 nested attribute type.
#[derive(Clone, Debug, PartialEq)]
pub struct NestedObject {
    /// The object's attributes.
    pub attributes: BTreeMap<String, Attribute>,
    /// Single, list, set or map (never group).
    pub nesting: NestingMode,
    /// Minimum number of items.
    pub min_items: u64,
    /// Maximum number of items (0: no limit).
    pub max_items: u64,
}

/// A nested block type.
#[derive(Clone, Debug, PartialEq)]
pub struct NestedBlock {
    /// The block's own schema.
    pub block: Block,
    /// How it repeats.
    pub nesting: NestingMode,
    /// Minimum number of blocks.
    pub min_items: u64,
    /// Maximum number of blocks (0: no limit).
    pub max_items: u64,
}

/// Everything `GetProviderSchema` returns.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderSchema {
    /// The provider configuration block.
    pub provider: Schema,
    /// Managed resource types.
    pub resource_schemas: BTreeMap<String, Schema>,
    /// Data source types.
    pub data_source_schemas: BTreeMap<String, Schema>,
    /// The `provider_meta` block, if the provider declares one.
    pub provider_meta: Option<Schema>,
    /// Optional protocol features the provider announced.
    pub server_capabilities: ServerCapabilities,
    /// Provider-defined functions by name (protocol 5.5+/6.5+).
    pub functions: BTreeMap<String, FunctionSignature>,
}

/// Optional protocol features a provider announces (`ServerCapabilities`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerCapabilities {
    /// The provider expects `PlanResourceChange` for destroys too.
    pub plan_destroy: bool,
    /// A cached schema may be used instead of calling `GetProviderSchema`.
    pub get_provider_schema_optional: bool,
    /// The provider implements `MoveResourceState`.
    pub move_resource_state: bool,
}

impl ServerCapabilities {
    /// Converts the protocol message (absent: no capabilities).
    pub fn from_proto(c: Option<&proto::ServerCapabilities>) -> ServerCapabilities {
        c.map(|c| ServerCapabilities {
            plan_destroy: c.plan_destroy,
            get_provider_schema_optional: c.get_provider_schema_optional,
            move_resource_state: c.move_resource_state,
        })
        .unwrap_or_default()
    }
}

/// The signature of a provider-defined function.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionSignature {
    /// Positional parameters.
    pub parameters: Vec<FunctionParameter>,
    /// A final parameter taking any number of arguments, if any.
    pub variadic_parameter: Option<FunctionParameter>,
    /// The result type.
    pub return_type: Type,
    /// Short documentation.
    pub summary: String,
    /// Documentation.
    pub description: String,
    /// How `description` is written.
    pub description_kind: StringKind,
    /// Non-empty when the function is deprecated.
    pub deprecation_message: String,
}

/// One parameter of a [`FunctionSignature`].
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionParameter {
    /// Display name (used in argument error messages).
    pub name: String,
    /// Type constraint (`dynamic` accepts any type).
    pub ty: Type,
    /// A null argument may be passed to the provider.
    pub allow_null_value: bool,
    /// An unknown argument may be passed to the provider; otherwise the
    /// call is skipped and the result is unknown.
    pub allow_unknown_values: bool,
    /// Documentation.
    pub description: String,
    /// How `description` is written.
    pub description_kind: StringKind,
}

impl FunctionSignature {
    /// Converts a protocol function; a bad type becomes a message in `errs`
    /// and `dynamic` in the signature.
    pub fn from_proto(
        name: &str,
        f: &proto::Function,
        errs: &mut Vec<String>,
    ) -> FunctionSignature {
        let param = |p: &proto::FunctionParameter, errs: &mut Vec<String>| FunctionParameter {
            name: p.name.clone(),
            ty: parse_type(
                &p.r#type,
                &format!("function {name}, parameter {}", p.name),
                errs,
            ),
            allow_null_value: p.allow_null_value,
            allow_unknown_values: p.allow_unknown_values,
            description: p.description.clone(),
            description_kind: StringKind::from_proto(p.description_kind),
        };
        let parameters = f.parameters.iter().map(|p| param(p, errs)).collect();
        let variadic_parameter = f.variadic_parameter.as_ref().map(|p| param(p, errs));
        let return_type = match &f.r#return {
            Some(r) => parse_type(&r.r#type, &format!("function {name}, return type"), errs),
            None => {
                errs.push(format!("function {name}: no return type"));
                Type::Dynamic
            }
        };
        FunctionSignature {
            parameters,
            variadic_parameter,
            return_type,
            summary: f.summary.clone(),
            description: f.description.clone(),
            description_kind: StringKind::from_proto(f.description_kind),
            deprecation_message: f.deprecation_message.clone(),
        }
    }

    /// Converts a map of protocol functions (`GetProviderSchema` or
    /// `GetFunctions`), with a diagnostic per malformed part.
    pub fn map_from_proto(
        fs: &BTreeMap<String, proto::Function>,
    ) -> (BTreeMap<String, FunctionSignature>, Diagnostics) {
        let mut diags = Diagnostics::new();
        let mut out = BTreeMap::new();
        for (name, f) in fs {
            let mut errs = Vec::new();
            out.insert(
                name.clone(),
                FunctionSignature::from_proto(name, f, &mut errs),
            );
            for e in errs {
                diags.push(crate::Diagnostic::error("Invalid provider schema", e));
            }
        }
        (out, diags)
    }

    /// The parameter argument `index` binds to (the variadic one past the
    /// positional ones).
    pub fn parameter(&self, index: usize) -> Option<&FunctionParameter> {
        self.parameters
            .get(index)
            .or(self.variadic_parameter.as_ref())
    }
}

fn parse_type(json: &[u8], what: &str, errs: &mut Vec<String>) -> Type {
    match std::str::from_utf8(json)
        .map_err(|e| e.to_string())
        .and_then(|s| Type::from_json_str(s).map_err(|e| e.to_string()))
    {
        Ok(t) => t,
        Err(e) => {
            errs.push(format!("{what}: invalid type: {e}"));
            Type::Dynamic
        }
    }
}

impl Default for ProviderSchema {
    fn default() -> Self {
        ProviderSchema {
            provider: Schema {
                version: 0,
                block: Block::default(),
            },
            resource_schemas: BTreeMap::new(),
            data_source_schemas: BTreeMap::new(),
            provider_meta: None,
            server_capabilities: ServerCapabilities::default(),
            functions: BTreeMap::new(),
        }
    }
}

impl ProviderSchema {
    /// Converts a protocol response. Malformed parts (bad type JSON,
    /// unknown nesting modes) become error diagnostics naming the place;
    /// the rest of the schema is still converted.
    pub fn from_proto(r: &proto::GetProviderSchemaResponse) -> (ProviderSchema, Diagnostics) {
        let mut diags = Diagnostics::from_proto(&r.diagnostics);
        let mut conv = |what: String, s: &proto::Schema| -> Schema {
            let mut errs = Vec::new();
            let schema = Schema::from_proto(s, &what, &mut errs);
            for e in errs {
                diags.push(crate::Diagnostic::error("Invalid provider schema", e));
            }
            schema
        };
        let provider = match &r.provider {
            Some(s) => conv("provider configuration".into(), s),
            None => ProviderSchema::default().provider,
        };
        let resource_schemas = r
            .resource_schemas
            .iter()
            .map(|(k, s)| (k.clone(), conv(format!("resource type {k}"), s)))
            .collect();
        let data_source_schemas = r
            .data_source_schemas
            .iter()
            .map(|(k, s)| (k.clone(), conv(format!("data source {k}"), s)))
            .collect();
        let provider_meta = r
            .provider_meta
            .as_ref()
            .filter(|s| s.block.is_some())
            .map(|s| conv("provider_meta".into(), s));
        let (functions, fdiags) = FunctionSignature::map_from_proto(&r.functions);
        diags.extend(fdiags);
        (
            ProviderSchema {
                provider,
                resource_schemas,
                data_source_schemas,
                provider_meta,
                server_capabilities: ServerCapabilities::from_proto(r.server_capabilities.as_ref()),
                functions,
            },
            diags,
        )
    }

    /// The schema of a managed resource type.
    pub fn resource(&self, type_name: &str) -> Option<&Schema> {
        self.resource_schemas.get(type_name)
    }

    /// The schema of a data source.
    pub fn data_source(&self, type_name: &str) -> Option<&Schema> {
        self.data_source_schemas.get(type_name)
    }
}

impl Schema {
    fn from_proto(s: &proto::Schema, what: &str, errs: &mut Vec<String>) -> Schema {
        Schema {
            version: s.version,
            block: s
                .block
                .as_ref()
                .map(|b| Block::from_proto(b, what, errs))
                .unwrap_or_default(),
        }
    }
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl Block {
    fn from_proto(b: &proto::Block, what: &str, errs: &mut Vec<String>) -> Block {
        let mut out = Block {
            attributes: BTreeMap::new(),
            block_types: BTreeMap::new(),
            description: b.description.clone(),
            description_kind: StringKind::from_proto(b.description_kind),
            deprecated: b.deprecated,
        };
        for a in &b.attributes {
            let attr = Attribute::from_proto(a, what, errs);
            out.attributes.insert(a.name.clone(), attr);
        }
        for nb in &b.block_types {
            let inner_what = format!("{what}, block {}", nb.type_name);
            let nesting = match NestingMode::from_proto(nb.nesting) {
                Some(n) => n,
                None => {
                    errs.push(format!(
                        "{inner_what}: unsupported nesting mode {}",
                        nb.nesting
                    ));
                    continue;
                }
            };
            let block = nb
                .block
                .as_ref()
                .map(|b| Block::from_proto(b, &inner_what, errs))
                .unwrap_or_default();
            out.block_types.insert(
                nb.type_name.clone(),
                NestedBlock {
                    block,
                    nesting,
                    min_items: count(nb.min_items),
                    max_items: count(nb.max_items),
                },
            );
        }
        out
    }

    /// The object type of values conforming to this block, as Terraform's
    /// `configschema.Block.ImpliedType`: attributes by their types, nested
    /// blocks as objects (single, group), lists, sets or maps of objects;
    /// list and map blocks whose objects contain `dynamic` become `dynamic`
    /// themselves (the value is then a tuple or an object).
    pub fn implied_type(&self) -> Type {
        let mut attrs: BTreeMap<String, Type> = BTreeMap::new();
        for (name, a) in &self.attributes {
            attrs.insert(name.clone(), a.ty.clone());
        }
        for (name, nb) in &self.block_types {
            let ety = nb.block.implied_type();
            let ty = match nb.nesting {
                NestingMode::Single | NestingMode::Group => ety,
                NestingMode::List if ety.has_dynamic() => Type::Dynamic,
                NestingMode::List => Type::list(ety),
                NestingMode::Map if ety.has_dynamic() => Type::Dynamic,
                NestingMode::Map => Type::map(ety),
                NestingMode::Set => Type::set(ety),
            };
            attrs.insert(name.clone(), ty);
        }
        Type::object(attrs)
    }
}

impl Attribute {
    fn from_proto(a: &proto::Attribute, what: &str, errs: &mut Vec<String>) -> Attribute {
        let nested_type = a.nested_type.as_ref().and_then(|o| {
            NestedObject::from_proto(o, &format!("{what}, attribute {}", a.name), errs)
        });
        let ty = if let Some(nt) = &nested_type {
            nt.implied_type()
        } else {
            parse_type(&a.r#type, &format!("{what}, attribute {}", a.name), errs)
        };
        Attribute {
            ty,
            nested_type,
            description: a.description.clone(),
            description_kind: StringKind::from_proto(a.description_kind),
            required: a.required,
            optional: a.optional,
            computed: a.computed,
            sensitive: a.sensitive,
            deprecated: a.deprecated,
        }
    }
}

impl NestedObject {
    fn from_proto(o: &proto::Object, what: &str, errs: &mut Vec<String>) -> Option<NestedObject> {
        let nesting = match NestingMode::from_proto(o.nesting) {
            Some(NestingMode::Group) | None => {
                errs.push(format!("{what}: unsupported nesting mode {}", o.nesting));
                return None;
            }
            Some(n) => n,
        };
        let attributes = o
            .attributes
            .iter()
            .map(|a| (a.name.clone(), Attribute::from_proto(a, what, errs)))
            .collect();
        Some(NestedObject {
            attributes,
            nesting,
            min_items: count(o.min_items),
            max_items: count(o.max_items),
        })
    }

    /// The type of the attribute's value. Optional and computed inner
    /// attributes become optional object attributes, as Terraform's
    /// `Object.ImpliedType` (a computed-only one is never in configuration).
    pub fn implied_type(&self) -> Type {
        let attrs: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|(n, a)| (n.clone(), a.ty.clone()))
            .collect();
        let optional: Vec<String> = self
            .attributes
            .iter()
            .filter(|(_, a)| a.optional || a.computed)
            .map(|(n, _)| n.clone())
            .collect();
        let ety = Type::object_with_optional(attrs, optional);
        match self.nesting {
            NestingMode::Single | NestingMode::Group => ety,
            NestingMode::List => Type::list(ety),
            NestingMode::Set => Type::set(ety),
            NestingMode::Map => Type::map(ety),
        }
    }
}

/// The JSON document `terraform providers schema -json` prints (format
/// version 0.2, as Terraform 1.0), for providers given as
/// (source address, schema), e.g. `("registry.terraform.io/hashicorp/null",
/// &schema)`. Object keys are sorted, as Go's encoder sorts map keys.
pub fn schema_json<'a, I>(providers: I) -> Json
where
    I: IntoIterator<Item = (&'a str, &'a ProviderSchema)>,
{
    let mut sorted: BTreeMap<&str, &ProviderSchema> = BTreeMap::new();
    for (addr, s) in providers {
        sorted.insert(addr, s);
    }
    let mut ps = Map::new();
    for (addr, s) in sorted {
        ps.insert(addr.to_string(), provider_json(s));
    }
    json!({
        "format_version": "0.2",
        "provider_schemas": Json::Object(ps),
    })
}

/// Terraform 1.0 keeps schema versions for managed resources only, and
/// its JSON output (jsonprovider) looks versions up in that map for data
/// sources too: the provider block is always version 0, and a data source
/// shows the version of the managed resource type of the same name (0 if
/// there is none), whatever the provider said.
fn provider_json(s: &ProviderSchema) -> Json {
    let mut m = Map::new();
    m.insert("provider".into(), block_schema_json(0, &s.provider.block));
    let resource_version = |name: &str| s.resource_schemas.get(name).map_or(0, |r| r.version);
    if !s.resource_schemas.is_empty() {
        let rs: Map<String, Json> = s
            .resource_schemas
            .iter()
            .map(|(k, r)| (k.clone(), schema_to_json(r)))
            .collect();
        m.insert("resource_schemas".into(), Json::Object(rs));
    }
    if !s.data_source_schemas.is_empty() {
        let ds: Map<String, Json> = s
            .data_source_schemas
            .iter()
            .map(|(k, d)| (k.clone(), block_schema_json(resource_version(k), &d.block)))
            .collect();
        m.insert("data_source_schemas".into(), Json::Object(ds));
    }
    Json::Object(m)
}

fn block_schema_json(version: i64, b: &Block) -> Json {
    let mut m = Map::new();
    m.insert("version".into(), json!(version));
    m.insert("block".into(), block_json(b));
    Json::Object(m)
}

/// One schema in Terraform's JSON form: `{"version": N, "block": {...}}`.
pub fn schema_to_json(s: &Schema) -> Json {
    block_schema_json(s.version, &s.block)
}

fn block_json(b: &Block) -> Json {
    let mut m = Map::new();
    if !b.attributes.is_empty() {
        let attrs: Map<String, Json> = b
            .attributes
            .iter()
            .map(|(k, a)| (k.clone(), attribute_json(a)))
            .collect();
        m.insert("attributes".into(), Json::Object(attrs));
    }
    if !b.block_types.is_empty() {
        let bts: Map<String, Json> = b
            .block_types
            .iter()
            .map(|(k, nb)| (k.clone(), nested_block_json(nb)))
            .collect();
        m.insert("block_types".into(), Json::Object(bts));
    }
    if !b.description.is_empty() {
        m.insert("description".into(), json!(b.description));
    }
    m.insert(
        "description_kind".into(),
        json!(b.description_kind.as_str()),
    );
    if b.deprecated {
        m.insert("deprecated".into(), json!(true));
    }
    Json::Object(m)
}

fn nested_block_json(nb: &NestedBlock) -> Json {
    let mut m = Map::new();
    m.insert("nesting_mode".into(), json!(nb.nesting.as_str()));
    m.insert("block".into(), block_json(&nb.block));
    if nb.min_items != 0 {
        m.insert("min_items".into(), json!(nb.min_items));
    }
    if nb.max_items != 0 {
        m.insert("max_items".into(), json!(nb.max_items));
    }
    Json::Object(m)
}

fn attribute_json(a: &Attribute) -> Json {
    let mut m = Map::new();
    if let Some(nt) = &a.nested_type {
        m.insert("nested_type".into(), nested_type_json(nt));
    } else {
        m.insert("type".into(), a.ty.to_json());
    }
    if !a.description.is_empty() {
        m.insert("description".into(), json!(a.description));
    }
    m.insert(
        "description_kind".into(),
        json!(a.description_kind.as_str()),
    );
    let flags = [
        ("deprecated", a.deprecated),
        ("required", a.required),
        ("optional", a.optional),
        ("computed", a.computed),
        ("sensitive", a.sensitive),
    ];
    for (k, v) in flags {
        if v {
            m.insert(k.into(), json!(true));
        }
    }
    Json::Object(m)
}

fn nested_type_json(nt: &NestedObject) -> Json {
    let mut m = Map::new();
    let attrs: Map<String, Json> = nt
        .attributes
        .iter()
        .map(|(k, a)| (k.clone(), attribute_json(a)))
        .collect();
    m.insert("attributes".into(), Json::Object(attrs));
    m.insert("nesting_mode".into(), json!(nt.nesting.as_str()));
    if nt.min_items != 0 {
        m.insert("min_items".into(), json!(nt.min_items));
    }
    if nt.max_items != 0 {
        m.insert("max_items".into(), json!(nt.max_items));
    }
    Json::Object(m)
}

/// Serializes JSON compactly the way Go's `encoding/json` does (as built
/// into Terraform 1.0): object keys in the value's order, `<`, `>`, `&`,
/// U+2028 and U+2029 escaped as `\u003c`-style escapes, control characters
/// other than `\n`, `\r`, `\t` as `\u00XX`. With [`schema_json`]'s key
/// order this reproduces `terraform providers schema -json` byte for byte
/// (Terraform adds a final newline).
pub fn to_go_json(v: &Json) -> String {
    let mut out = String::new();
    write_go_json(&mut out, v);
    out
}

fn write_go_json(out: &mut String, v: &Json) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => out.push_str(&n.to_string()),
        Json::String(s) => write_go_string(out, s),
        Json::Array(a) => {
            out.push('[');
            for (i, e) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_json(out, e);
            }
            out.push(']');
        }
        Json::Object(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_go_string(out, k);
                out.push(':');
                write_go_json(out, e);
            }
            out.push('}');
        }
    }
}

fn write_go_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str, ty: &str, optional: bool, computed: bool) -> proto::Attribute {
        proto::Attribute {
            name: name.into(),
            r#type: ty.as_bytes().to_vec(),
            optional,
            computed,
            required: !optional && !computed,
            ..Default::default()
        }
    }

    #[test]
    fn implied_type_of_nested_blocks() {
        let inner = proto::Block {
            attributes: vec![attr("port", "\"number\"", false, false)],
            ..Default::default()
        };
        let dyn_inner = proto::Block {
            attributes: vec![attr("v", "\"dynamic\"", true, false)],
            ..Default::default()
        };
        let nb = |name: &str, nesting: i32, b: &proto::Block| proto::NestedBlock {
            type_name: name.into(),
            block: Some(b.clone()),
            nesting,
            min_items: 0,
            max_items: 0,
        };
        let resp = proto::GetProviderSchemaResponse {
            resource_schemas: [(
                "t".to_string(),
                proto::Schema {
                    version: 2,
                    block: Some(proto::Block {
                        attributes: vec![attr("id", "\"string\"", true, true)],
                        block_types: vec![
                            nb("single", proto::nesting::SINGLE, &inner),
                            nb("list", proto::nesting::LIST, &inner),
                            nb("set", proto::nesting::SET, &inner),
                            nb("map", proto::nesting::MAP, &inner),
                            nb("group", proto::nesting::GROUP, &inner),
                            nb("dynlist", proto::nesting::LIST, &dyn_inner),
                        ],
                        ..Default::default()
                    }),
                },
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let (s, diags) = ProviderSchema::from_proto(&resp);
        assert!(diags.is_empty(), "{diags}");
        let t = s.resource("t").map(|s| s.block.implied_type());
        let obj = Type::object([("port", Type::Number)]);
        let want = Type::object([
            ("id", Type::String),
            ("single", obj.clone()),
            ("list", Type::list(obj.clone())),
            ("set", Type::set(obj.clone())),
            ("map", Type::map(obj.clone())),
            ("group", obj),
            ("dynlist", Type::Dynamic),
        ]);
        assert_eq!(t, Some(want));
    }

    #[test]
    fn protocol6_nested_attribute() {
        let resp = proto::GetProviderSchemaResponse {
            resource_schemas: [(
                "t".to_string(),
                proto::Schema {
                    version: 0,
                    block: Some(proto::Block {
                        attributes: vec![proto::Attribute {
                            name: "rules".into(),
                            nested_type: Some(proto::Object {
                                attributes: vec![
                                    attr("port", "\"number\"", false, false),
                                    attr("cidr", "\"string\"", true, false),
                                    attr("position", "\"number\"", false, true),
                                ],
                                nesting: proto::nesting::LIST,
                                min_items: 1,
                                max_items: 0,
                            }),
                            optional: true,
                            ..Default::default()
                        }],
                        ..Default::default()
                    }),
                },
            )]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let (s, diags) = ProviderSchema::from_proto(&resp);
        assert!(diags.is_empty(), "{diags}");
        let elem = Type::object_with_optional(
            [
                ("cidr", Type::String),
                ("port", Type::Number),
                ("position", Type::Number),
            ],
            ["cidr", "position"],
        );
        assert_eq!(
            s.resource("t").map(|r| r.block.implied_type()),
            Some(Type::object([("rules", Type::list(elem))]))
        );
        let j = schema_json([("example.com/x/y", &s)]);
        let rules = &j["provider_schemas"]["example.com/x/y"]["resource_schemas"]["t"]["block"]
            ["attributes"]["rules"];
        assert_eq!(rules["nested_type"]["nesting_mode"], json!("list"));
        assert_eq!(rules["nested_type"]["min_items"], json!(1));
        assert_eq!(
            rules["nested_type"]["attributes"]["port"]["type"],
            json!("number")
        );
        assert!(rules.get("type").is_none());
    }

    #[test]
    fn go_json_escaping() {
        let v = json!({"b": "a<b>&c\u{2028}\u{1}\n\"\\", "a": [1, true, null]});
        assert_eq!(
            to_go_json(&v),
            r#"{"b":"a\u003cb\u003e\u0026c\u2028\u0001\n\"\\","a":[1,true,null]}"#
        );
    }

    #[test]
    fn bad_type_json_is_a_diagnostic() {
        let resp = proto::GetProviderSchemaResponse {
            provider: Some(proto::Schema {
                version: 0,
                block: Some(proto::Block {
                    attributes: vec![attr("x", "[\"nope\"]", true, false)],
                    ..Default::default()
                }),
            }),
            ..Default::default()
        };
        let (_, diags) = ProviderSchema::from_proto(&resp);
        assert!(diags.has_errors());
        assert!(diags.to_string().contains("attribute x"), "{diags}");
    }
}
