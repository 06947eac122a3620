//! How a configuration and a prior object combine into the proposed new
//! object sent to the provider: arguments set in configuration win;
//! computed arguments left unset keep their prior value (and are unknown
//! when there is none, so the provider may choose them).

use std::collections::BTreeMap;
use terrane_plugin::Block;
use terrane_value::{Kind, Type, Value};

/// The proposed new object for `config` given `prior` (null when
/// creating). Both are objects of the resource's schema type.
pub fn proposed_new(prior: &Value, config: &Value) -> Value {
    if config.is_null() || !config.is_known() {
        return config.clone();
    }
    match (prior.kind(), config.kind()) {
        (Kind::Object(p), Kind::Object(c)) => {
            let mut out = BTreeMap::new();
            for (k, cv) in c {
                let v = match p.get(k) {
                    Some(pv) if cv.is_null() => pv.clone(),
                    Some(pv) => proposed_new(pv, cv),
                    None => cv.clone(),
                };
                out.insert(k.clone(), v);
            }
            Value::object(out)
        }
        _ => config.clone(),
    }
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

    #[test]
    fn prior_fills_unset_config() {
        let prior = Value::object_from([("id", Value::string("1")), ("x", Value::string("a"))]);
        let config =
            Value::object_from([("id", Value::null(Type::String)), ("x", Value::string("b"))]);
        let p = proposed_new(&prior, &config);
        assert_eq!(
            p.get_attr("id")
                .and_then(|v| v.as_str().map(str::to_string)),
            Some("1".into())
        );
        assert_eq!(
            p.get_attr("x").and_then(|v| v.as_str().map(str::to_string)),
            Some("b".into())
        );
    }
}
