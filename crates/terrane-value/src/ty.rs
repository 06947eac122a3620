//! The type system: go-cty's types plus optional object attributes (used in
//! type constraints).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;

use serde_json::Value as Json;

/// A value type (or a type constraint when it contains [`Type::Dynamic`]).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// The "any"/dynamic pseudo-type: the type is not known (yet).
    Dynamic,
    /// Unicode string.
    String,
    /// Arbitrary-precision number.
    Number,
    /// Boolean.
    Bool,
    /// Ordered sequence of elements of one type.
    List(Box<Type>),
    /// Unordered collection of distinct elements of one type.
    Set(Box<Type>),
    /// String-keyed collection of elements of one type.
    Map(Box<Type>),
    /// Fixed set of named attributes, each with its own type.
    Object {
        /// Attribute types, sorted by name (shared: cloning is cheap).
        attrs: AttrTypes,
        /// Names of attributes that are optional (type constraints only).
        optional: OptionalAttrs,
    },
    /// Fixed-length sequence with a type per element.
    Tuple(Vec<Type>),
}

/// Error decoding a type from its JSON encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypeJsonError(pub String);

impl fmt::Display for TypeJsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid type JSON: {}", self.0)
    }
}

impl std::error::Error for TypeJsonError {}

impl Type {
    /// `list(ety)`.
    pub fn list(ety: Type) -> Type {
        Type::List(Box::new(ety))
    }

    /// `set(ety)`.
    pub fn set(ety: Type) -> Type {
        Type::Set(Box::new(ety))
    }

    /// `map(ety)`.
    pub fn map(ety: Type) -> Type {
        Type::Map(Box::new(ety))
    }

    /// Object type from `(name, type)` pairs, no optional attributes.
    pub fn object<I, K>(attrs: I) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
    {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: OptionalAttrs::default(),
        }
    }

    /// Object type with some optional attributes (type constraints).
    pub fn object_with_optional<I, K, O>(attrs: I, optional: O) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
        O: IntoIterator<Item = K>,
    {
        Type::Object {
            attrs: attrs.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: optional.into_iter().map(Into::into).collect(),
        }
    }

    /// The empty object type `object({})`.
    pub fn empty_object() -> Type {
        Type::Object {
            attrs: AttrTypes::default(),
            optional: OptionalAttrs::default(),
        }
    }

    /// `tuple([...])`.
    pub fn tuple(elems: Vec<Type>) -> Type {
        Type::Tuple(elems)
    }

    /// The empty tuple type.
    pub fn empty_tuple() -> Type {
        Type::Tuple(Vec::new())
    }

    /// String, number or bool.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    /// List, set or map.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// Object or tuple.
    pub fn is_structural(&self) -> bool {
        matches!(self, Type::Object { .. } | Type::Tuple(_))
    }

    /// True for the dynamic pseudo-type itself.
    pub fn is_dynamic(&self) -> bool {
        matches!(self, Type::Dynamic)
    }

    /// True if `Dynamic` occurs anywhere in this type.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::String | Type::Number | Type::Bool => false,
            Type::List(e) | Type::Set(e) | Type::Map(e) => e.has_dynamic(),
            Type::Object { attrs, .. } => attrs.values().any(Type::has_dynamic),
            Type::Tuple(es) => es.iter().any(Type::has_dynamic),
        }
    }

    /// Element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => Some(e),
            _ => None,
        }
    }

    /// Attribute types of an object type.
    pub fn attribute_types(&self) -> Option<&AttrTypes> {
        match self {
            Type::Object { attrs, .. } => Some(attrs),
            _ => None,
        }
    }

    /// Type of one attribute of an object type.
    pub fn attribute_type(&self, name: &str) -> Option<&Type> {
        self.attribute_types()?.get(name)
    }

    /// Whether `name` is an optional attribute of this object type.
    pub fn is_optional_attribute(&self, name: &str) -> bool {
        match self {
            Type::Object { optional, .. } => optional.contains(name),
            _ => false,
        }
    }

    /// Element types of a tuple type.
    pub fn tuple_element_types(&self) -> Option<&[Type]> {
        match self {
            Type::Tuple(es) => Some(es),
            _ => None,
        }
    }

    /// This type with all optional-attribute markers removed, recursively.
    pub fn without_optional_attrs_deep(&self) -> Type {
        match self {
            Type::List(e) => Type::list(e.without_optional_attrs_deep()),
            Type::Set(e) => Type::set(e.without_optional_attrs_deep()),
            Type::Map(e) => Type::map(e.without_optional_attrs_deep()),
            Type::Object { attrs, .. } => Type::Object {
                attrs: attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.without_optional_attrs_deep()))
                    .collect(),
                optional: OptionalAttrs::default(),
            },
            Type::Tuple(es) => {
                Type::Tuple(es.iter().map(Type::without_optional_attrs_deep).collect())
            }
            t => t.clone(),
        }
    }

    /// Human-readable name as go-cty's `FriendlyName` (used in Terraform's
    /// error messages): `string`, `number`, `bool`, `dynamic`,
    /// `list of string`, `set of map of number`, `object`, `tuple`.
    pub fn friendly_name(&self) -> String {
        self.friendly(false)
    }

    /// Like [`Type::friendly_name`] but for type constraints: `Dynamic` is
    /// `any type`, and a collection of `Dynamic` is e.g.
    /// `list of any single type`.
    pub fn friendly_name_for_constraint(&self) -> String {
        self.friendly(true)
    }

    fn friendly(&self, constraint: bool) -> String {
        match self {
            Type::Dynamic => {
                if constraint {
                    "any type".into()
                } else {
                    "dynamic".into()
                }
            }
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(e) | Type::Set(e) | Type::Map(e) => {
                let kind = match self {
                    Type::List(_) => "list",
                    Type::Set(_) => "set",
                    _ => "map",
                };
                if constraint && e.is_dynamic() {
                    format!("{kind} of any single type")
                } else {
                    format!("{kind} of {}", e.friendly(constraint))
                }
            }
            Type::Object { .. } => "object".into(),
            Type::Tuple(_) => "tuple".into(),
        }
    }

    /// The type as newer Terraform's console prints the result of `type()`:
    /// `string`, `list(string)`, `map(number)`, and multi-line
    /// `object({\n    a: string,\n})` / `tuple([\n    string,\n])` with four
    /// spaces per nesting level. `Dynamic` prints as `dynamic`.
    pub fn type_expr_string(&self) -> String {
        let mut out = String::new();
        self.write_type_expr(&mut out, 0);
        out
    }

    fn write_type_expr(&self, out: &mut String, indent: usize) {
        match self {
            Type::Dynamic => out.push_str("dynamic"),
            Type::String => out.push_str("string"),
            Type::Number => out.push_str("number"),
            Type::Bool => out.push_str("bool"),
            Type::List(e) | Type::Set(e) | Type::Map(e) => {
                out.push_str(match self {
                    Type::List(_) => "list(",
                    Type::Set(_) => "set(",
                    _ => "map(",
                });
                e.write_type_expr(out, indent);
                out.push(')');
            }
            Type::Object { attrs, optional } => {
                if attrs.is_empty() {
                    out.push_str("object({})");
                    return;
                }
                out.push_str("object({\n");
                for (name, t) in attrs {
                    push_indent(out, indent + 1);
                    if crate::format::is_identifier(name) {
                        out.push_str(name);
                    } else {
                        out.push_str(&crate::format::quote_string(name));
                    }
                    out.push_str(": ");
                    if optional.contains(name) {
                        out.push_str("optional(");
                        t.write_type_expr(out, indent + 1);
                        out.push(')');
                    } else {
                        t.write_type_expr(out, indent + 1);
                    }
                    out.push_str(",\n");
                }
                push_indent(out, indent);
                out.push_str("})");
            }
            Type::Tuple(es) => {
                if es.is_empty() {
                    out.push_str("tuple([])");
                    return;
                }
                out.push_str("tuple([\n");
                for t in es {
                    push_indent(out, indent + 1);
                    t.write_type_expr(out, indent + 1);
                    out.push_str(",\n");
                }
                push_indent(out, indent);
                out.push_str("])");
            }
        }
    }

    /// go-cty's JSON encoding of the type: `"string"`, `["list","string"]`,
    /// `["object",{"a":"string"}]` (with a third element listing optional
    /// attributes when there are any), `["tuple",[...]]`, `"dynamic"`.
    pub fn to_json(&self) -> Json {
        match self {
            Type::Dynamic => Json::String("dynamic".into()),
            Type::String => Json::String("string".into()),
            Type::Number => Json::String("number".into()),
            Type::Bool => Json::String("bool".into()),
            Type::List(e) => Json::Array(vec![Json::String("list".into()), e.to_json()]),
            Type::Set(e) => Json::Array(vec![Json::String("set".into()), e.to_json()]),
            Type::Map(e) => Json::Array(vec![Json::String("map".into()), e.to_json()]),
            Type::Object { attrs, optional } => {
                let mut m = serde_json::Map::new();
                for (k, t) in attrs {
                    m.insert(k.clone(), t.to_json());
                }
                let mut v = vec![Json::String("object".into()), Json::Object(m)];
                if !optional.is_empty() {
                    v.push(Json::Array(
                        optional.iter().map(|s| Json::String(s.clone())).collect(),
                    ));
                }
                Json::Array(v)
            }
            Type::Tuple(es) => Json::Array(vec![
                Json::String("tuple".into()),
                Json::Array(es.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// Compact JSON text of [`Type::to_json`].
    pub fn to_json_string(&self) -> String {
        self.to_json().to_string()
    }

    /// Decodes go-cty's JSON type encoding.
    pub fn from_json(j: &Json) -> Result<Type, TypeJsonError> {
        match j {
            Json::String(s) => match s.as_str() {
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeJsonError(format!(
                    "invalid primitive type name {other:?}"
                ))),
            },
            Json::Array(items) => {
                let kind = items
                    .first()
                    .and_then(Json::as_str)
                    .ok_or_else(|| TypeJsonError("type kind must be a string".into()))?;
                let arg = items
                    .get(1)
                    .ok_or_else(|| TypeJsonError(format!("missing argument for {kind}")))?;
                match kind {
                    "list" | "set" | "map" => {
                        if items.len() != 2 {
                            return Err(TypeJsonError(format!("{kind} takes one argument")));
                        }
                        let e = Type::from_json(arg)?;
                        Ok(match kind {
                            "list" => Type::list(e),
                            "set" => Type::set(e),
                            _ => Type::map(e),
                        })
                    }
                    "object" => {
                        let obj = arg.as_object().ok_or_else(|| {
                            TypeJsonError("object attributes must be a JSON object".into())
                        })?;
                        let attrs: AttrTypes = obj
                            .iter()
                            .map(|(k, v)| Ok((k.clone(), Type::from_json(v)?)))
                            .collect::<Result<_, TypeJsonError>>()?;
                        let mut optional = BTreeSet::new();
                        if let Some(opt) = items.get(2) {
                            let arr = opt.as_array().ok_or_else(|| {
                                TypeJsonError("optional attributes must be an array".into())
                            })?;
                            for o in arr {
                                let name = o.as_str().ok_or_else(|| {
                                    TypeJsonError("optional attribute name must be a string".into())
                                })?;
                                if !attrs.contains_key(name) {
                                    return Err(TypeJsonError(format!(
                                        "optional attribute {name:?} is not declared"
                                    )));
                                }
                                optional.insert(name.to_string());
                            }
                        }
                        if items.len() > 3 {
                            return Err(TypeJsonError("too many elements for object".into()));
                        }
                        Ok(Type::Object {
                            attrs,
                            optional: optional.into_iter().collect(),
                        })
                    }
                    "tuple" => {
                        let arr = arg.as_array().ok_or_else(|| {
                            TypeJsonError("tuple element types must be an array".into())
                        })?;
                        if items.len() != 2 {
                            return Err(TypeJsonError("tuple takes one argument".into()));
                        }
                        Ok(Type::Tuple(
                            arr.iter().map(Type::from_json).collect::<Result<_, _>>()?,
                        ))
                    }
                    other => Err(TypeJsonError(format!("invalid type kind {other:?}"))),
                }
            }
            _ => Err(TypeJsonError("type must be a string or an array".into())),
        }
    }

    /// Decodes go-cty's JSON type encoding from text.
    pub fn from_json_str(s: &str) -> Result<Type, TypeJsonError> {
        let j: Json = serde_json::from_str(s).map_err(|e| TypeJsonError(e.to_string()))?;
        Type::from_json(&j)
    }

    /// Whether a value of type `self` conforms to the constraint `want`
    /// (equal types, with `Dynamic` in `want` matching anything).
    pub fn conforms_to(&self, want: &Type) -> bool {
        match (self, want) {
            (_, Type::Dynamic) => true,
            (Type::List(a), Type::List(b))
            | (Type::Set(a), Type::Set(b))
            | (Type::Map(a), Type::Map(b)) => a.conforms_to(b),
            (Type::Object { attrs: a, .. }, Type::Object { attrs: b, .. }) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, t)| b.get(k).is_some_and(|bt| t.conforms_to(bt)))
            }
            (Type::Tuple(a), Type::Tuple(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.conforms_to(y))
            }
            (a, b) => a == b,
        }
    }
}

/// The attribute types of an object type: name → type, sorted by name.
///
/// A shared, exactly-sized sorted slice rather than a `BTreeMap`: every
/// object value carries its type, so at tens of thousands of resource
/// instances a map node per object type (and a deep copy per clone) was a
/// large share of the process's memory. Read it like a map (`get`,
/// `iter`, `keys`, `values`); build it with `collect()` or `From`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrTypes(Arc<[(String, Type)]>);

/// Iterator over `(name, type)` pairs of [`AttrTypes`], in name order.
pub type AttrTypesIter<'a> =
    std::iter::Map<std::slice::Iter<'a, (String, Type)>, fn(&(String, Type)) -> (&String, &Type)>;

impl AttrTypes {
    fn pair(p: &(String, Type)) -> (&String, &Type) {
        (&p.0, &p.1)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name)).ok()
    }

    /// The type of attribute `name`.
    pub fn get(&self, name: &str) -> Option<&Type> {
        self.position(name).map(|i| &self.0[i].1)
    }

    /// Whether there is an attribute `name`.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `(name, type)` pairs in name order.
    pub fn iter(&self) -> AttrTypesIter<'_> {
        self.0
            .iter()
            .map(AttrTypes::pair as fn(&(String, Type)) -> (&String, &Type))
    }

    /// Attribute names in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + Clone {
        self.0.iter().map(|(k, _)| k)
    }

    /// Attribute types in name order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &Type> + ExactSizeIterator + Clone {
        self.0.iter().map(|(_, t)| t)
    }

    /// A copy as a `BTreeMap` (to modify).
    pub fn to_btree_map(&self) -> BTreeMap<String, Type> {
        self.iter().map(|(k, t)| (k.clone(), t.clone())).collect()
    }

    /// Builds from pairs already sorted by name without duplicates.
    fn from_sorted(pairs: Vec<(String, Type)>) -> AttrTypes {
        AttrTypes(pairs.into())
    }
}

impl Default for AttrTypes {
    fn default() -> AttrTypes {
        AttrTypes::from_sorted(Vec::new())
    }
}

impl FromIterator<(String, Type)> for AttrTypes {
    /// Sorts by name; of duplicate names the last wins (as inserting into a
    /// map).
    fn from_iter<I: IntoIterator<Item = (String, Type)>>(iter: I) -> AttrTypes {
        let mut pairs: Vec<(String, Type)> = iter.into_iter().collect();
        if !pairs.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable: equal names keep their input order, then the last of
            // each run is kept.
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            let mut deduped: Vec<(String, Type)> = Vec::with_capacity(pairs.len());
            for p in pairs {
                match deduped.last_mut() {
                    Some(last) if last.0 == p.0 => *last = p,
                    _ => deduped.push(p),
                }
            }
            pairs = deduped;
        }
        AttrTypes::from_sorted(pairs)
    }
}

impl From<BTreeMap<String, Type>> for AttrTypes {
    fn from(m: BTreeMap<String, Type>) -> AttrTypes {
        AttrTypes::from_sorted(m.into_iter().collect())
    }
}

impl<'a> IntoIterator for &'a AttrTypes {
    type Item = (&'a String, &'a Type);
    type IntoIter = AttrTypesIter<'a>;
    fn into_iter(self) -> AttrTypesIter<'a> {
        self.iter()
    }
}

impl fmt::Debug for AttrTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The optional attribute names of an object type constraint. Nearly every
/// object type has none, so the set is boxed behind an `Option` to keep
/// [`Type`] (held by every value) small.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OptionalAttrs(Option<Arc<BTreeSet<String>>>);

impl OptionalAttrs {
    /// Whether `name` is optional.
    pub fn contains(&self, name: &str) -> bool {
        self.0.as_ref().is_some_and(|s| s.contains(name))
    }

    /// True when no attribute is optional.
    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    /// The optional names in order.
    pub fn iter(&self) -> impl Iterator<Item = &String> {
        self.0.iter().flat_map(|s| s.iter())
    }
}

impl FromIterator<String> for OptionalAttrs {
    fn from_iter<I: IntoIterator<Item = String>>(iter: I) -> OptionalAttrs {
        let set: BTreeSet<String> = iter.into_iter().collect();
        // Empty is always `None`, so equal sets compare equal.
        OptionalAttrs((!set.is_empty()).then(|| Arc::new(set)))
    }
}

impl fmt::Debug for OptionalAttrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

fn push_indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str("    ");
    }
}

impl fmt::Debug for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_string())
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.friendly_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_types_and_optional_attrs() {
        let t: AttrTypes = [
            ("b".to_string(), Type::String),
            ("a".to_string(), Type::Bool),
            ("b".to_string(), Type::Number),
        ]
        .into_iter()
        .collect();
        assert_eq!(t.keys().cloned().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(t.get("b"), Some(&Type::Number), "the last duplicate wins");
        assert!(t.contains_key("a") && !t.contains_key("c"));
        assert_eq!(AttrTypes::from(t.to_btree_map()), t);
        let none: OptionalAttrs = Vec::<String>::new().into_iter().collect();
        assert_eq!(none, OptionalAttrs::default());
        assert!(none.is_empty() && !none.contains("a"));
        let some: OptionalAttrs = ["a".to_string()].into_iter().collect();
        assert!(some.contains("a") && !some.is_empty());
    }

    #[test]
    fn friendly() {
        assert_eq!(Type::list(Type::String).friendly_name(), "list of string");
        assert_eq!(Type::map(Type::Number).friendly_name(), "map of number");
        assert_eq!(
            Type::set(Type::map(Type::Bool)).friendly_name(),
            "set of map of bool"
        );
        assert_eq!(
            Type::object([("a", Type::String)]).friendly_name(),
            "object"
        );
        assert_eq!(Type::tuple(vec![]).friendly_name(), "tuple");
        assert_eq!(Type::Dynamic.friendly_name(), "dynamic");
        assert_eq!(Type::Dynamic.friendly_name_for_constraint(), "any type");
        assert_eq!(
            Type::list(Type::Dynamic).friendly_name_for_constraint(),
            "list of any single type"
        );
        assert_eq!(
            Type::map(Type::list(Type::String)).friendly_name(),
            "map of list of string"
        );
    }

    #[test]
    fn type_expr() {
        assert_eq!(Type::String.type_expr_string(), "string");
        assert_eq!(Type::list(Type::String).type_expr_string(), "list(string)");
        assert_eq!(
            Type::object([("a", Type::String)]).type_expr_string(),
            "object({\n    a: string,\n})"
        );
        let nested = Type::object([
            ("b", Type::list(Type::object([("c", Type::Number)]))),
            ("a", Type::tuple(vec![Type::Bool, Type::Dynamic])),
        ]);
        assert_eq!(
            nested.type_expr_string(),
            "object({\n    a: tuple([\n        bool,\n        dynamic,\n    ]),\n    b: list(object({\n        c: number,\n    })),\n})"
        );
        assert_eq!(Type::empty_object().type_expr_string(), "object({})");
    }

    #[test]
    fn json_roundtrip() {
        let cases = [
            (Type::String, r#""string""#),
            (Type::Dynamic, r#""dynamic""#),
            (Type::list(Type::String), r#"["list","string"]"#),
            (Type::set(Type::Number), r#"["set","number"]"#),
            (Type::map(Type::Bool), r#"["map","bool"]"#),
            (
                Type::object([("b", Type::String), ("a", Type::Number)]),
                r#"["object",{"a":"number","b":"string"}]"#,
            ),
            (
                Type::tuple(vec![Type::String, Type::list(Type::Dynamic)]),
                r#"["tuple",["string",["list","dynamic"]]]"#,
            ),
            (
                Type::object_with_optional([("a", Type::String)], ["a"]),
                r#"["object",{"a":"string"},["a"]]"#,
            ),
        ];
        for (t, s) in cases {
            assert_eq!(t.to_json_string(), s);
            assert_eq!(Type::from_json_str(s).unwrap(), t);
        }
        for bad in [
            r#""foo""#,
            r#"["list"]"#,
            r#"["object",[]]"#,
            "1",
            r#"["tuple","x"]"#,
        ] {
            assert!(Type::from_json_str(bad).is_err(), "{bad}");
        }
    }
}
