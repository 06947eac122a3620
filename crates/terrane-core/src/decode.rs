//! Decoding a resource (or provider) body against a provider schema into an
//! object value: arguments converted to their schema types, nested blocks by
//! nesting mode, `dynamic` blocks expanded, override bodies applied, and
//! Terraform's meta-arguments skipped.

use std::collections::BTreeMap;
use std::sync::Arc;
use terrane_config::SrcBody;
use terrane_hcl::ast::{Attribute, Block as HclBlock, Body, Expr, ExprKind, Structure};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile, Span};
use terrane_lang::{eval_expr, EvalContext};
use terrane_plugin::{Block, NestingMode};
use terrane_value::{convert, Kind, Type, Value};

/// Names Terraform handles itself inside resource blocks.
const META: &[&str] = &[
    "count",
    "for_each",
    "provider",
    "depends_on",
    "lifecycle",
    "provisioner",
    "connection",
];

/// Where to report problems about a body as a whole (a missing argument).
#[derive(Clone)]
pub struct Subject {
    pub file: Arc<SourceFile>,
    pub span: Span,
}

/// Decodes the base body and its override bodies (later ones win).
pub fn decode_resource_body(
    bodies: &[&SrcBody],
    schema: &Block,
    ctx: &EvalContext,
    subject: &Subject,
    skip_meta: bool,
) -> (Value, Diagnostics) {
    let items: Vec<(Arc<SourceFile>, &Body)> =
        bodies.iter().map(|b| (b.file.clone(), &b.body)).collect();
    let mut d = Decoder {
        diags: Diagnostics::new(),
        skip_meta,
    };
    let v = d.block(&items, schema, ctx, subject);
    (v, d.diags)
}

struct Decoder {
    diags: Diagnostics,
    skip_meta: bool,
}

/// The effective content of a set of bodies: the last definition of each
/// argument, and for each block type the blocks of the last body that has
/// any.
struct Effective<'a> {
    attrs: BTreeMap<&'a str, (Arc<SourceFile>, &'a Attribute)>,
    blocks: BTreeMap<&'a str, Vec<(Arc<SourceFile>, &'a HclBlock)>>,
}

fn effective<'a>(bodies: &[(Arc<SourceFile>, &'a Body)]) -> Effective<'a> {
    let mut attrs = BTreeMap::new();
    let mut blocks: BTreeMap<&str, Vec<(Arc<SourceFile>, &HclBlock)>> = BTreeMap::new();
    for (file, body) in bodies {
        let mut seen_here: BTreeMap<&str, Vec<(Arc<SourceFile>, &HclBlock)>> = BTreeMap::new();
        for item in &body.items {
            match item {
                Structure::Attribute(a) => {
                    attrs.insert(a.name.as_str(), (file.clone(), a));
                }
                Structure::Block(b) => {
                    // `dynamic "x"` counts as a block of type x.
                    let kind = if b.ident.as_str() == "dynamic" {
                        b.labels.first().map(|l| &*l.value).unwrap_or("dynamic")
                    } else {
                        b.ident.as_str()
                    };
                    seen_here.entry(kind).or_default().push((file.clone(), b));
                }
            }
        }
        for (k, v) in seen_here {
            blocks.insert(k, v);
        }
    }
    Effective { attrs, blocks }
}

impl Decoder {
    fn err(&mut self, summary: &str, detail: String, file: &Arc<SourceFile>, span: Span) {
        self.diags
            .push(Diagnostic::error(summary, detail).with_subject(file, span));
    }

    fn block(
        &mut self,
        bodies: &[(Arc<SourceFile>, &Body)],
        schema: &Block,
        ctx: &EvalContext,
        subject: &Subject,
    ) -> Value {
        let eff = effective(bodies);
        if let Some(fixed) = attributes_as_blocks(schema, &eff) {
            return self.block(bodies, &fixed, ctx, subject);
        }
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        for (name, attr) in &schema.attributes {
            let ty = attr
                .nested_type
                .as_ref()
                .map(|n| n.implied_type())
                .unwrap_or_else(|| attr.ty.clone());
            let value = match eff.attrs.get(name.as_str()) {
                Some((file, a)) => {
                    let c = ctx.clone().with_file(file);
                    let (v, d) = eval_expr(&a.expr, &c);
                    self.diags.extend(d);
                    match convert(&v, &ty) {
                        Ok(v) => v,
                        Err(e) => {
                            self.err(
                                "Incorrect attribute value type",
                                format!(
                                    "Inappropriate value for attribute {name:?}: {}.",
                                    e.message
                                ),
                                file,
                                a.expr.span,
                            );
                            Value::unknown(ty.clone())
                        }
                    }
                }
                None => {
                    if attr.required {
                        self.err(
                            "Missing required argument",
                            format!(
                                "The argument {name:?} is required, but no definition was found."
                            ),
                            &subject.file,
                            subject.span,
                        );
                    }
                    Value::null(ty.clone())
                }
            };
            out.insert(name.clone(), value);
        }
        for (name, (file, a)) in &eff.attrs {
            if schema.attributes.contains_key(*name) || (self.skip_meta && META.contains(name)) {
                continue;
            }
            if schema.block_types.contains_key(*name) {
                // JSON syntax writes nested blocks as object-valued arguments.
                if file.name.ends_with(".json") {
                    continue;
                }
                self.err(
                    "Unsupported argument",
                    format!("An argument named {name:?} is not expected here. Did you mean to define a block of type {name:?}?"),
                    file,
                    a.name.span,
                );
                continue;
            }
            self.err(
                "Unsupported argument",
                format!("An argument named {name:?} is not expected here."),
                file,
                a.name.span,
            );
        }
        for (kind, list) in &eff.blocks {
            if schema.block_types.contains_key(*kind) || (self.skip_meta && META.contains(kind)) {
                continue;
            }
            for (file, b) in list {
                self.err(
                    "Unsupported block type",
                    format!("Blocks of type {kind:?} are not expected here."),
                    file,
                    b.ident.span,
                );
            }
        }
        for (name, nb) in &schema.block_types {
            let obj_ty = nb.block.implied_type();
            let mut elems: Vec<(Option<String>, Value)> = Vec::new();
            let mut unknown = false;
            if let Some(list) = eff.blocks.get(name.as_str()) {
                for (file, b) in list {
                    if b.ident.as_str() == "dynamic" {
                        match self.dynamic(file, b, &nb.block, ctx, subject) {
                            Some(mut v) => elems.append(&mut v),
                            None => unknown = true,
                        }
                    } else {
                        let c = ctx.clone().with_file(file);
                        let v = self.block(&[(file.clone(), &b.body)], &nb.block, &c, subject);
                        elems.push((b.labels.first().map(|l| l.value.to_string()), v));
                    }
                }
            }
            if let Some((file, a)) = eff.attrs.get(name.as_str()) {
                if file.name.ends_with(".json") {
                    for body in json_blocks(&a.expr) {
                        let v = self.block(&[(file.clone(), &body)], &nb.block, ctx, subject);
                        elems.push((None, v));
                    }
                }
            }
            let value = if unknown {
                Value::unknown(nested_type(nb.nesting, &obj_ty))
            } else {
                self.collect(
                    name,
                    nb.nesting,
                    &nb.block,
                    obj_ty,
                    elems,
                    nb.min_items,
                    nb.max_items,
                    subject,
                )
            };
            out.insert(name.clone(), value);
        }
        Value::object(out)
    }

    #[allow(clippy::too_many_arguments)]
    fn collect(
        &mut self,
        name: &str,
        nesting: NestingMode,
        schema: &Block,
        obj_ty: Type,
        elems: Vec<(Option<String>, Value)>,
        min: u64,
        max: u64,
        subject: &Subject,
    ) -> Value {
        let n = elems.len() as u64;
        match nesting {
            NestingMode::Single | NestingMode::Group => {
                if n > 1 {
                    self.err(
                        "Too many blocks",
                        format!("No more than 1 {name:?} blocks are allowed"),
                        &subject.file,
                        subject.span,
                    );
                }
                match elems.into_iter().next() {
                    Some((_, v)) => v,
                    None if nesting == NestingMode::Group => {
                        let mut d = Decoder {
                            diags: Diagnostics::new(),
                            skip_meta: false,
                        };
                        let scope = terrane_lang::Scope::new();
                        let ctx = EvalContext::new(&scope);
                        d.block(&[], schema, &ctx, subject)
                    }
                    None => Value::null(obj_ty),
                }
            }
            NestingMode::List | NestingMode::Set => {
                if min > 0 && n < min {
                    self.err(
                        "Insufficient blocks",
                        format!("At least {min} {name:?} blocks are required."),
                        &subject.file,
                        subject.span,
                    );
                }
                if max > 0 && n > max {
                    self.err(
                        "Too many blocks",
                        format!("No more than {max} {name:?} blocks are allowed"),
                        &subject.file,
                        subject.span,
                    );
                }
                let vals: Vec<Value> = elems.into_iter().map(|(_, v)| v).collect();
                if nesting == NestingMode::List {
                    if vals.is_empty() {
                        Value::list_empty(obj_ty)
                    } else {
                        Value::list(obj_ty, vals)
                    }
                } else if vals.is_empty() {
                    Value::set_empty(obj_ty)
                } else {
                    Value::set(obj_ty, vals)
                }
            }
            NestingMode::Map => {
                let mut m = BTreeMap::new();
                for (k, v) in elems {
                    m.insert(k.unwrap_or_default(), v);
                }
                if m.is_empty() {
                    Value::map_empty(obj_ty)
                } else {
                    Value::map(obj_ty, m)
                }
            }
        }
    }

    /// Expands a `dynamic` block; `None` when its `for_each` is unknown.
    fn dynamic(
        &mut self,
        file: &Arc<SourceFile>,
        b: &HclBlock,
        schema: &Block,
        ctx: &EvalContext,
        subject: &Subject,
    ) -> Option<Vec<(Option<String>, Value)>> {
        let iterator = b
            .body
            .attribute("iterator")
            .and_then(|a| match &a.expr.kind {
                ExprKind::Traversal { root, .. } => Some(root.as_str().to_string()),
                _ => None,
            })
            .or_else(|| b.labels.first().map(|l| l.value.to_string()))
            .unwrap_or_default();
        let c = ctx.clone().with_file(file);
        let Some(fe) = b.body.attribute("for_each") else {
            return Some(Vec::new());
        };
        let (coll, d) = eval_expr(&fe.expr, &c);
        self.diags.extend(d);
        let (coll, _) = coll.unmark();
        if !coll.is_known() {
            return None;
        }
        let pairs: Vec<(Value, Value)> = match coll.kind() {
            Kind::Null => {
                self.err(
                    "Invalid dynamic for_each value",
                    "Cannot use a null value in for_each.".into(),
                    file,
                    fe.expr.span,
                );
                return Some(Vec::new());
            }
            Kind::List(es) | Kind::Tuple(es) => es
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::from_i64(i as i64), v.clone()))
                .collect(),
            Kind::Set(es) => es.iter().map(|v| (v.clone(), v.clone())).collect(),
            Kind::Map(m) | Kind::Object(m) => m
                .iter()
                .map(|(k, v)| (Value::string(k.clone()), v.clone()))
                .collect(),
            _ => {
                self.err(
                    "Invalid dynamic for_each value",
                    "Cannot use a value of this type in for_each. A map, object, list, or set is required.".into(),
                    file,
                    fe.expr.span,
                );
                return Some(Vec::new());
            }
        };
        let content: Vec<&HclBlock> = b
            .body
            .blocks()
            .filter(|x| x.ident.as_str() == "content")
            .collect();
        let Some(content) = content.first() else {
            return Some(Vec::new());
        };
        let mut out = Vec::new();
        for (k, v) in pairs {
            let it = Value::object_from([("key", k), ("value", v)]);
            let ic = c.clone().with_var(&iterator, it);
            let label = match b.body.attribute("labels") {
                Some(l) => {
                    let (lv, d) = eval_expr(&l.expr, &ic);
                    self.diags.extend(d);
                    lv.as_seq()
                        .and_then(|s| s.first())
                        .and_then(|x| x.as_str().map(str::to_string))
                }
                None => None,
            };
            let v = self.block(&[(file.clone(), &content.body)], schema, &ic, subject);
            out.push((label, v));
        }
        Some(out)
    }
}

/// Terraform lets a list or set of objects attribute be written as blocks
/// (SDKv2's "attributes as blocks", e.g. `ingress` of
/// `aws_security_group`). When the configuration does that, decode it
/// against a schema where those attributes are nested blocks with every
/// object attribute optional; the resulting list or set of objects has the
/// attribute's type, so the decoded value is the same as if it had been
/// written as an argument. `None` when no attribute is written as blocks.
fn attributes_as_blocks(schema: &Block, eff: &Effective<'_>) -> Option<Block> {
    let as_blocks: Vec<(&String, NestingMode, &terrane_value::AttrTypes)> = schema
        .attributes
        .iter()
        .filter(|(name, attr)| {
            attr.nested_type.is_none()
                && !eff.attrs.contains_key(name.as_str())
                && eff.blocks.contains_key(name.as_str())
        })
        .filter_map(|(name, attr)| match &attr.ty {
            Type::List(e) => match &**e {
                Type::Object { attrs, .. } => Some((name, NestingMode::List, attrs)),
                _ => None,
            },
            Type::Set(e) => match &**e {
                Type::Object { attrs, .. } => Some((name, NestingMode::Set, attrs)),
                _ => None,
            },
            _ => None,
        })
        .collect();
    if as_blocks.is_empty() {
        return None;
    }
    let mut fixed = schema.clone();
    for (name, nesting, attrs) in as_blocks {
        fixed.attributes.remove(name);
        fixed.block_types.insert(
            name.clone(),
            terrane_plugin::NestedBlock {
                block: object_as_block(attrs),
                nesting,
                min_items: 0,
                max_items: 0,
            },
        );
    }
    Some(fixed)
}

/// A block whose attributes are an object type's, all optional.
fn object_as_block(attrs: &terrane_value::AttrTypes) -> Block {
    Block {
        attributes: attrs
            .iter()
            .map(|(k, ty)| {
                (
                    k.clone(),
                    terrane_plugin::Attribute {
                        ty: ty.clone(),
                        nested_type: None,
                        description: String::new(),
                        description_kind: Default::default(),
                        required: false,
                        optional: true,
                        computed: false,
                        sensitive: false,
                        deprecated: false,
                    },
                )
            })
            .collect(),
        ..Block::default()
    }
}

fn nested_type(nesting: NestingMode, obj: &Type) -> Type {
    match nesting {
        NestingMode::List => Type::List(Box::new(obj.clone())),
        NestingMode::Set => Type::Set(Box::new(obj.clone())),
        NestingMode::Map => Type::Map(Box::new(obj.clone())),
        _ => obj.clone(),
    }
}

/// JSON syntax: an object (or array of objects) standing for blocks.
fn json_blocks(e: &Expr) -> Vec<Body> {
    let to_body = |e: &Expr| -> Option<Body> {
        let ExprKind::Object(items) = &e.kind else {
            return None;
        };
        let mut out = Vec::new();
        for i in items {
            let name = terrane_config::literal_string(&i.key)?;
            out.push(Structure::Attribute(Attribute {
                name: terrane_hcl::ast::Ident {
                    name: Arc::from(name.as_str()),
                    span: i.key.span,
                },
                expr: i.value.clone(),
                span: i.key.span.to(i.value.span),
                equals_span: i.key.span,
            }));
        }
        Some(Body {
            items: out,
            span: e.span,
        })
    };
    match &e.kind {
        ExprKind::Tuple(items) => items.iter().filter_map(to_body).collect(),
        _ => to_body(e).into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn optional(ty: Type) -> terrane_plugin::Attribute {
        let mut a = object_as_block(&[("x".to_string(), ty)].into_iter().collect())
            .attributes
            .remove("x")
            .expect("attribute");
        a.computed = true;
        a
    }

    /// `ingress { ... }` blocks for a `set(object)` attribute decode to the
    /// same value as the attribute written as a list of objects, with the
    /// attributes a block leaves out null.
    #[test]
    fn set_of_objects_attribute_written_as_blocks() {
        let rule = Type::object([("from_port", Type::Number), ("description", Type::String)]);
        let schema = Block {
            attributes: BTreeMap::from([
                (
                    "ingress".to_string(),
                    optional(Type::Set(Box::new(rule.clone()))),
                ),
                ("name".to_string(), optional(Type::String)),
            ]),
            ..Block::default()
        };
        let src = r#"
resource "aws_security_group" "web" {
  name = "web"
  ingress {
    from_port   = 443
    description = "https"
  }
  ingress {
    from_port = 22
  }
}
"#;
        let (module, diags) = terrane_config::load_source("main.tf", src);
        assert!(!diags.has_errors(), "{diags:?}");
        let res = &module.managed_resources["aws_security_group.web"];
        let scope = terrane_lang::Scope::new();
        let ctx = EvalContext::new(&scope);
        let subject = Subject {
            file: res.config.file.clone(),
            span: res.config.body.span,
        };
        let (value, diags) = decode_resource_body(&[&res.config], &schema, &ctx, &subject, true);
        assert!(!diags.has_errors(), "{diags:?}");
        let want = Value::set(
            rule,
            vec![
                Value::object_from([
                    ("description", Value::string("https")),
                    ("from_port", Value::from_i64(443)),
                ]),
                Value::object_from([
                    ("description", Value::null(Type::String)),
                    ("from_port", Value::from_i64(22)),
                ]),
            ],
        );
        assert_eq!(value.get_attr("ingress"), Some(&want));
        assert_eq!(value.get_attr("name"), Some(&Value::string("web")));
    }
}
