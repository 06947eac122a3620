//! Variable type constraints as [`Type`]s.
//!
//! `terrane-config` checks the syntax of a `type = ...` expression; here it
//! becomes a [`Type`] (with [`Type::Dynamic`] for `any`), together with the
//! defaults of `optional(T, default)` object attributes ([`TypeDefaults`])
//! and the way command-line and environment values are parsed for it
//! ([`ParseMode`]).
//!
//! Defaults are applied as Terraform 1.3 and later do: to a non-null value
//! before it is converted to the constraint, an object attribute that is
//! absent or null takes its default; nested objects, collection elements
//! and tuple elements get their own defaults.

use std::collections::BTreeMap;
use std::sync::Arc;

use terrane_hcl::ast::{Expr, ExprKind};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile};
use terrane_value::{convert, Kind, Type, Value};

use crate::scope::Scope;

/// Defaults of optional object attributes inside a type constraint.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDefaults {
    /// The constraint this node describes.
    pub ty: Type,
    /// For an object type: attribute name → default value (already
    /// converted to the attribute's type).
    pub attrs: BTreeMap<String, Value>,
    /// Nested defaults: by attribute name (objects), by element index
    /// (tuples), or under `""` for the elements of a list, set or map.
    pub children: BTreeMap<String, TypeDefaults>,
}

/// How a value given as text (`-var`, `TF_VAR_name`) is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseMode {
    /// The text is the (string) value: variables without a type or with a
    /// primitive type (`string`, `number`, `bool`; the string converts).
    Literal,
    /// The text is an HCL expression (every other type constraint).
    Hcl,
}

/// A variable's type constraint, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct VarType {
    /// The constraint (`Dynamic` when none was given or for `any`).
    pub ty: Type,
    /// Defaults of optional attributes, when the constraint has any.
    pub defaults: Option<TypeDefaults>,
    /// How text values are read.
    pub parse_mode: ParseMode,
}

impl VarType {
    /// No constraint: any type, literal text.
    pub fn any() -> VarType {
        VarType {
            ty: Type::Dynamic,
            defaults: None,
            parse_mode: ParseMode::Literal,
        }
    }

    /// The constraint of a `variable` block (none: [`VarType::any`]).
    /// Errors in the type expression itself were reported by
    /// `terrane-config`; here they give `any` for the faulty part. Errors
    /// in `optional` defaults are returned.
    pub fn of_variable(var: &terrane_config::Variable) -> (VarType, Diagnostics) {
        match &var.type_expr {
            None => (VarType::any(), Diagnostics::new()),
            Some(t) => type_constraint(&t.expr, &t.file),
        }
    }

    /// Applies optional-attribute defaults (if any) and converts `v` to
    /// the constraint. The error is go-cty's conversion message (without
    /// the path, as Terraform words variable errors).
    pub fn convert(&self, v: &Value) -> Result<Value, String> {
        let v = match &self.defaults {
            Some(d) => apply_defaults(v, d),
            None => v.clone(),
        };
        convert(&v, &self.ty).map_err(|e| e.message)
    }
}

/// Decodes a type constraint expression.
pub fn type_constraint(e: &Expr, file: &Arc<SourceFile>) -> (VarType, Diagnostics) {
    let mut diags = Diagnostics::new();
    // Legacy bare `list`/`map` and primitive keywords decide the parse mode
    // at the top level only.
    let (ty, defaults) = decode(e, file, &mut diags);
    let parse_mode = if ty.is_primitive() {
        ParseMode::Literal
    } else {
        ParseMode::Hcl
    };
    (
        VarType {
            ty,
            defaults,
            parse_mode,
        },
        diags,
    )
}

fn keyword(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Traversal { root, steps } if steps.is_empty() => Some(root.as_str()),
        _ => None,
    }
}

fn decode(
    e: &Expr,
    file: &Arc<SourceFile>,
    diags: &mut Diagnostics,
) -> (Type, Option<TypeDefaults>) {
    if let Some(k) = keyword(e) {
        let t = match k {
            "string" => Type::String,
            "number" => Type::Number,
            "bool" => Type::Bool,
            "list" => Type::list(Type::Dynamic),
            "map" => Type::map(Type::Dynamic),
            _ => Type::Dynamic,
        };
        return (t, None);
    }
    if let Some(s) = terrane_config::literal_string(e) {
        // Quoted legacy constraints (an error reported by the loader).
        let t = match s.as_str() {
            "string" => Type::String,
            "list" => Type::list(Type::Dynamic),
            "map" => Type::map(Type::Dynamic),
            _ => Type::Dynamic,
        };
        return (t, None);
    }
    let ExprKind::Call { name, args, .. } = &e.kind else {
        return (Type::Dynamic, None);
    };
    match (name.as_str(), args.as_slice()) {
        (kind @ ("list" | "set" | "map"), [arg]) => {
            let (et, ed) = decode(arg, file, diags);
            let t = match kind {
                "list" => Type::list(et),
                "set" => Type::set(et),
                _ => Type::map(et),
            };
            let defaults = ed.map(|ed| TypeDefaults {
                ty: t.clone(),
                attrs: BTreeMap::new(),
                children: BTreeMap::from([(String::new(), ed)]),
            });
            (t, defaults)
        }
        (
            "tuple",
            [Expr {
                kind: ExprKind::Tuple(items),
                ..
            }],
        ) => {
            let mut types = Vec::new();
            let mut children = BTreeMap::new();
            for (i, item) in items.iter().enumerate() {
                let (t, d) = decode(item, file, diags);
                types.push(t);
                if let Some(d) = d {
                    children.insert(i.to_string(), d);
                }
            }
            let t = Type::tuple(types);
            let defaults = (!children.is_empty()).then(|| TypeDefaults {
                ty: t.clone(),
                attrs: BTreeMap::new(),
                children,
            });
            (t, defaults)
        }
        (
            "object",
            [Expr {
                kind: ExprKind::Object(items),
                ..
            }],
        ) => {
            let mut attrs = BTreeMap::new();
            let mut optional = Vec::new();
            let mut defaults = BTreeMap::new();
            let mut children = BTreeMap::new();
            for item in items {
                let Some(key) = item
                    .bare_key()
                    .map(str::to_string)
                    .or_else(|| terrane_config::literal_string(&item.key))
                else {
                    continue;
                };
                let (at, ad, default) = match &item.value.kind {
                    ExprKind::Call { name, args, .. }
                        if name.as_str() == "optional" && (1..=2).contains(&args.len()) =>
                    {
                        optional.push(key.clone());
                        let (at, ad) = decode(&args[0], file, diags);
                        (at, ad, args.get(1))
                    }
                    _ => {
                        let (at, ad) = decode(&item.value, file, diags);
                        (at, ad, None)
                    }
                };
                if let Some(dexpr) = default {
                    if let Some(v) = optional_default(dexpr, file, &at, ad.as_ref(), diags) {
                        defaults.insert(key.clone(), v);
                    }
                }
                if let Some(ad) = ad {
                    children.insert(key.clone(), ad);
                }
                attrs.insert(key, at);
            }
            let t = Type::object_with_optional(attrs, optional);
            let d = (!defaults.is_empty() || !children.is_empty()).then(|| TypeDefaults {
                ty: t.clone(),
                attrs: defaults,
                children,
            });
            (t, d)
        }
        _ => (Type::Dynamic, None),
    }
}

/// Evaluates the default of `optional(T, default)` (no references allowed)
/// and converts it to `T`, after applying `T`'s own nested defaults.
fn optional_default(
    e: &Expr,
    file: &Arc<SourceFile>,
    ty: &Type,
    nested: Option<&TypeDefaults>,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let scope = Scope::new();
    let ctx = crate::eval::EvalContext::new(&scope).with_file(file);
    let (v, d) = crate::eval::eval_expr(e, &ctx);
    let failed = d.has_errors();
    diags.extend(d);
    if failed {
        return None;
    }
    let v = match nested {
        Some(n) if !v.is_null() => apply_defaults(&v, n),
        _ => v,
    };
    match convert(&v, ty) {
        Ok(v) => Some(v),
        Err(err) => {
            diags.push(
                Diagnostic::error(
                    "Invalid default value for optional attribute",
                    format!(
                        "This default value is not compatible with the attribute's type constraint: {}.",
                        err.message
                    ),
                )
                .with_subject(file, e.span),
            );
            None
        }
    }
}

/// Applies optional-attribute defaults to a value (before conversion):
/// children first, then absent or null attributes of an object (or map)
/// take their defaults. Null and unknown values are left alone; marks
/// are kept.
pub fn apply_defaults(v: &Value, d: &TypeDefaults) -> Value {
    if v.is_null() || !v.is_known() {
        return v.clone();
    }
    let (inner, marks) = v.unmark();
    let out = match inner.kind() {
        Kind::List(items) | Kind::Set(items) | Kind::Tuple(items) => {
            let tuple = matches!(inner.kind(), Kind::Tuple(_));
            let items: Vec<Value> = items
                .iter()
                .enumerate()
                .map(|(i, item)| match child_for_index(d, i) {
                    Some(c) => apply_defaults(item, c),
                    None => item.clone(),
                })
                .collect();
            rebuild_seq(&inner, items, tuple)
        }
        Kind::Map(m) | Kind::Object(m) => {
            let is_object_constraint = matches!(d.ty, Type::Object { .. });
            let mut attrs: BTreeMap<String, Value> = m
                .iter()
                .map(|(k, item)| {
                    let child = if is_object_constraint {
                        d.children.get(k)
                    } else {
                        d.children.get("")
                    };
                    let item = match child {
                        Some(c) => apply_defaults(item, c),
                        None => item.clone(),
                    };
                    (k.clone(), item)
                })
                .collect();
            if is_object_constraint {
                let mut changed = false;
                for (name, dv) in &d.attrs {
                    let present = matches!(attrs.get(name), Some(v) if !v.is_null());
                    if !present {
                        attrs.insert(name.clone(), dv.clone());
                        changed = true;
                    }
                }
                // An object is built even from a map: a default's type may
                // differ from the map's element type.
                if changed || matches!(inner.kind(), Kind::Object(_)) {
                    Value::object(attrs)
                } else {
                    rebuild_map(&inner, attrs)
                }
            } else if matches!(inner.kind(), Kind::Object(_)) {
                Value::object(attrs)
            } else {
                rebuild_map(&inner, attrs)
            }
        }
        _ => inner.clone(),
    };
    out.with_marks(marks)
}

fn child_for_index(d: &TypeDefaults, i: usize) -> Option<&TypeDefaults> {
    match d.ty {
        Type::Tuple(_) => d.children.get(&i.to_string()),
        Type::Object { .. } => None,
        _ => d.children.get(""),
    }
}

/// A list or set (or tuple) with new elements: the element type may have
/// changed (defaults add attributes), so lists become tuples and sets
/// keep their kind only when the type is unchanged.
fn rebuild_seq(orig: &Value, items: Vec<Value>, tuple: bool) -> Value {
    if tuple {
        return Value::tuple(items);
    }
    let ety = orig.ty().element_type().cloned().unwrap_or(Type::Dynamic);
    if items.iter().all(|i| i.ty() == &ety) {
        match orig.ty() {
            Type::Set(_) => Value::set(ety, items),
            _ => Value::list(ety, items),
        }
    } else {
        Value::tuple(items)
    }
}

fn rebuild_map(orig: &Value, attrs: BTreeMap<String, Value>) -> Value {
    let ety = orig.ty().element_type().cloned().unwrap_or(Type::Dynamic);
    if attrs.values().all(|i| i.ty() == &ety) {
        Value::map(ety, attrs)
    } else {
        Value::object(attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vt(src: &str) -> (VarType, Diagnostics) {
        let file = SourceFile::new("t.tf", src.to_string());
        let (e, d) = terrane_hcl::parse_expression(&file);
        assert!(!d.has_errors(), "{src}");
        type_constraint(&e.expect("expression"), &file)
    }

    fn val(src: &str) -> Value {
        let file = SourceFile::new("v.tf", src.to_string());
        let (e, d) = terrane_hcl::parse_expression(&file);
        assert!(!d.has_errors(), "{src}");
        let scope = Scope::new();
        let ctx = crate::eval::EvalContext::new(&scope).with_file(&file);
        let (v, d) = crate::eval::eval_expr(&e.expect("expression"), &ctx);
        assert!(!d.has_errors(), "{src}");
        v
    }

    fn show(v: &Value) -> String {
        terrane_value::format_console(v)
    }

    #[test]
    fn primitive_and_legacy() {
        assert_eq!(vt("string").0.ty, Type::String);
        assert_eq!(vt("string").0.parse_mode, ParseMode::Literal);
        assert_eq!(vt("number").0.parse_mode, ParseMode::Literal);
        assert_eq!(vt("list").0.ty, Type::list(Type::Dynamic));
        assert_eq!(vt("map").0.ty, Type::map(Type::Dynamic));
        assert_eq!(vt("any").0.ty, Type::Dynamic);
        assert_eq!(vt("any").0.parse_mode, ParseMode::Hcl);
        assert_eq!(vt("list").0.parse_mode, ParseMode::Hcl);
        assert_eq!(
            vt("map(list(set(bool)))").0.ty,
            Type::map(Type::list(Type::set(Type::Bool)))
        );
        assert_eq!(
            vt("tuple([string, number])").0.ty,
            Type::tuple(vec![Type::String, Type::Number])
        );
        assert_eq!(
            vt(r#"object({a = string, "b-c" = number})"#).0.ty,
            Type::object([("a", Type::String), ("b-c", Type::Number)])
        );
    }

    #[test]
    fn optional_attributes_and_defaults() {
        let (t, d) = vt(r#"object({
            name = string
            port = optional(number, 80)
            tags = optional(map(string))
            sub  = optional(object({ on = optional(bool, true) }), {})
            list = optional(list(object({ x = optional(string, "dx") })), [])
        })"#);
        assert!(!d.has_errors(), "{d:?}");
        assert!(t.ty.is_optional_attribute("port"));
        assert!(t.ty.is_optional_attribute("tags"));
        assert!(!t.ty.is_optional_attribute("name"));
        let v = t.convert(&val(r#"{ name = "a" }"#)).expect("converts");
        assert_eq!(v.get_attr("port").map(show).as_deref(), Some("80"));
        assert!(v.get_attr("tags").is_some_and(Value::is_null));
        assert_eq!(
            v.get_attr("sub").map(show).as_deref(),
            Some("{\n  \"on\" = true\n}")
        );
        assert_eq!(v.get_attr("list").map(show).as_deref(), Some("tolist([])"));
        let v = t
            .convert(&val(
                r#"{ name = "a", port = null, list = [{}, { x = "y" }] }"#,
            ))
            .expect("converts");
        assert_eq!(v.get_attr("port").map(show).as_deref(), Some("80"));
        assert_eq!(
            v.get_attr("list").map(show).as_deref(),
            Some("tolist([\n  {\n    \"x\" = \"dx\"\n  },\n  {\n    \"x\" = \"y\"\n  },\n])")
        );
        // A missing required attribute is still an error.
        assert_eq!(
            t.convert(&val("{ port = 1 }")).err().as_deref(),
            Some("attribute \"name\" is required")
        );
        // Null stays null.
        assert!(t.convert(&Value::null_dynamic()).expect("null").is_null());
    }

    #[test]
    fn defaults_in_collections() {
        let (t, _) = vt(r#"map(object({ a = optional(number, 1), b = string }))"#);
        let v = t
            .convert(&val(r#"{ x = { b = "q" }, y = { a = 5, b = "r" } }"#))
            .expect("converts");
        assert_eq!(
            show(&v),
            "tomap({\n  \"x\" = {\n    \"a\" = 1\n    \"b\" = \"q\"\n  }\n  \"y\" = {\n    \"a\" = 5\n    \"b\" = \"r\"\n  }\n})"
        );
        let (t, _) = vt(r#"tuple([object({ a = optional(string, "d") }), number])"#);
        let v = t.convert(&val("[{}, 2]")).expect("converts");
        assert_eq!(
            v.get_index(0)
                .and_then(|o| o.get_attr("a"))
                .map(show)
                .as_deref(),
            Some("\"d\"")
        );
    }

    #[test]
    fn bad_optional_default() {
        let (_, d) = vt(r#"object({ a = optional(number, "x") })"#);
        let e = d.iter().next().expect("an error");
        assert_eq!(e.summary, "Invalid default value for optional attribute");
        assert_eq!(
            e.detail,
            "This default value is not compatible with the attribute's type constraint: a number is required."
        );
    }
}
