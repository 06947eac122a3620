//! How a configuration and a prior object combine into the proposed new
//! object sent to the provider: arguments set in configuration win;
//! computed arguments left unset keep their prior value (and are unknown
//! when there is none, so the provider may choose them).

use std::collections::BTreeMap;
use terrane_plugin::Block;
use terrane_value::{Kind, Type, Value};

/// The proposed new object for `config` given `prior` (null when
/// creating). Both are objects of the resource's schema type. An argument
/// set in configuration wins; a computed argument left unset keeps its
/// prior value; anything else is as configured (null stays null).
pub fn proposed_new(schema: &Block, prior: &Value, config: &Value) -> Value {
    if config.is_null() || !config.is_known() {
        return config.clone();
    }
    let (Kind::Object(p), Kind::Object(c)) = (prior.kind(), config.kind()) else {
        return config.clone();
    };
    let mut out = BTreeMap::new();
    for (k, cv) in c {
        let pv = p.get(k);
        let v = if let Some(attr) = schema.attributes.get(k) {
            match pv {
                Some(pv) if cv.is_null() && attr.computed => pv.clone(),
                _ => cv.clone(),
            }
        } else if let Some(nb) = schema.block_types.get(k) {
            match (nb.nesting, pv) {
                (
                    terrane_plugin::NestingMode::Single | terrane_plugin::NestingMode::Group,
                    Some(pv),
                ) => proposed_new(&nb.block, pv, cv),
                _ => cv.clone(),
            }
        } else {
            cv.clone()
        };
        out.insert(k.clone(), v);
    }
    Value::object(out)
}

/// A data source's planned object when its read waits for apply: the
/// configuration with every unset attribute unknown.
pub fn unknown_computed(schema: &Block, config: &Value) -> Value {
    let Kind::Object(c) = config.kind() else {
        return Value::unknown(schema.implied_type());
    };
    let mut out = BTreeMap::new();
    for (name, attr) in &schema.attributes {
        let cv = c
            .get(name)
            .cloned()
            .unwrap_or_else(|| Value::null(attr.ty.clone()));
        let v = if cv.is_null() && attr.computed {
            Value::unknown(attr.ty.clone())
        } else {
            cv
        };
        out.insert(name.clone(), v);
    }
    for (name, nb) in &schema.block_types {
        let ty = nb.block.implied_type();
        out.insert(
            name.clone(),
            c.get(name)
                .cloned()
                .unwrap_or_else(|| Value::null(Type::List(Box::new(ty)))),
        );
    }
    Value::object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(computed: bool) -> terrane_plugin::Attribute {
        terrane_plugin::Attribute {
            ty: Type::String,
            nested_type: None,
            description: String::new(),
            description_kind: Default::default(),
            required: false,
            optional: !computed,
            computed,
            sensitive: false,
            deprecated: false,
        }
    }

    #[test]
    fn prior_fills_only_computed_unset_config() {
        let mut schema = Block::default();
        schema.attributes.insert("id".into(), attr(true));
        schema.attributes.insert("x".into(), attr(false));
        schema.attributes.insert("y".into(), attr(false));
        let prior = Value::object_from([
            ("id", Value::string("1")),
            ("x", Value::string("a")),
            ("y", Value::string("old")),
        ]);
        let config = Value::object_from([
            ("id", Value::null(Type::String)),
            ("x", Value::string("b")),
            ("y", Value::null(Type::String)),
        ]);
        let p = proposed_new(&schema, &prior, &config);
        let s = |k: &str| p.get_attr(k).and_then(|v| v.as_str().map(str::to_string));
        assert_eq!(s("id"), Some("1".into()));
        assert_eq!(s("x"), Some("b".into()));
        // An optional, non-computed argument removed from configuration
        // becomes null.
        assert_eq!(s("y"), None);
    }
}
