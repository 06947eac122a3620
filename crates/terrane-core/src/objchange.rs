//! How a configuration and a prior object combine into the proposed new
//! object sent to the provider: arguments set in configuration win;
//! computed arguments left unset keep their prior value (and are unknown
//! when there is none, so the provider may choose them).

use std::collections::BTreeMap;
use terrane_plugin::{Attribute, Block, NestingMode};
use terrane_value::{Kind, Type, Value};

/// The proposed new object for `config` given `prior` (null when
/// creating). Both are objects of the resource's schema type. An argument
/// set in configuration wins; a computed argument left unset keeps its
/// prior value; anything else is as configured (null stays null). Nested
/// blocks and nested attributes (protocol 6) are combined the same way,
/// element by element: list elements by index, map elements by key, set
/// elements with the prior element that agrees on everything the
/// configuration sets.
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
                Some(pv) => proposed_attribute(attr, pv, cv),
                None => cv.clone(),
            }
        } else if let Some(nb) = schema.block_types.get(k) {
            match pv {
                Some(pv) => {
                    proposed_collection(nb.nesting, pv, cv, &|p, c| proposed_new(&nb.block, p, c))
                }
                None => cv.clone(),
            }
        } else {
            cv.clone()
        };
        out.insert(k.clone(), v);
    }
    Value::object(out)
}

/// One attribute's proposed value from its prior and configured values.
fn proposed_attribute(attr: &Attribute, prior: &Value, config: &Value) -> Value {
    if attr.computed && config.is_null() {
        return prior.clone();
    }
    match &attr.nested_type {
        // Computed attributes inside the nested objects keep their prior
        // values too.
        Some(nested) => proposed_collection(nested.nesting, prior, config, &|p, c| {
            proposed_nested_object(&nested.attributes, p, c)
        }),
        None => config.clone(),
    }
}

/// An object of a nested attribute type, attribute by attribute.
fn proposed_nested_object(
    attrs: &BTreeMap<String, Attribute>,
    prior: &Value,
    config: &Value,
) -> Value {
    if config.is_null() || !config.is_known() {
        return config.clone();
    }
    let (Kind::Object(p), Kind::Object(c)) = (prior.kind(), config.kind()) else {
        return config.clone();
    };
    let mut out = BTreeMap::new();
    for (k, cv) in c {
        let v = match (attrs.get(k), p.get(k)) {
            (Some(attr), Some(pv)) => proposed_attribute(attr, pv, cv),
            _ => cv.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::object(out).with_marks(config.marks())
}

/// A nested block or nested attribute value in `nesting` mode: `object`
/// combines one prior object with one configured object.
fn proposed_collection(
    nesting: NestingMode,
    prior: &Value,
    config: &Value,
    object: &dyn Fn(&Value, &Value) -> Value,
) -> Value {
    if config.is_null() || !config.is_known() || prior.is_null() || !prior.is_known() {
        return config.clone();
    }
    let ety = config.ty().element_type().cloned().unwrap_or(Type::Dynamic);
    match (nesting, prior.kind(), config.kind()) {
        (NestingMode::Single | NestingMode::Group, _, _) => object(prior, config),
        (NestingMode::List, Kind::List(p), Kind::List(c)) => {
            let elems = c
                .iter()
                .enumerate()
                .map(|(i, ce)| match p.get(i) {
                    Some(pe) => object(pe, ce),
                    None => ce.clone(),
                })
                .collect();
            Value::list(ety, elems).with_marks(config.marks())
        }
        (NestingMode::Map, Kind::Map(p), Kind::Map(c)) => {
            let elems = c
                .iter()
                .map(|(k, ce)| {
                    let v = match p.get(k) {
                        Some(pe) => object(pe, ce),
                        None => ce.clone(),
                    };
                    (k.clone(), v)
                })
                .collect();
            Value::map(ety, elems).with_marks(config.marks())
        }
        (NestingMode::Set, Kind::Set(p), Kind::Set(c)) => {
            // A configured element pairs with the first unused prior
            // element that has its values wherever it sets one.
            let mut used = vec![false; p.len()];
            let elems = c
                .iter()
                .map(|ce| {
                    let found = p
                        .iter()
                        .enumerate()
                        .find(|(i, pe)| !used[*i] && agrees_where_set(pe, ce));
                    match found {
                        Some((i, pe)) => {
                            used[i] = true;
                            object(pe, ce)
                        }
                        None => ce.clone(),
                    }
                })
                .collect();
            Value::set(ety, elems).with_marks(config.marks())
        }
        _ => config.clone(),
    }
}

/// Whether `prior` has `config`'s value at every attribute `config` sets
/// (non-null), looking into nested objects and collections as wholes.
fn agrees_where_set(prior: &Value, config: &Value) -> bool {
    match (prior.kind(), config.kind()) {
        (Kind::Object(p), Kind::Object(c)) => c.iter().all(|(k, cv)| {
            cv.is_null()
                || p.get(k)
                    .is_some_and(|pv| pv.unmark_deep_value().raw_equal(&cv.unmark_deep_value()))
        }),
        _ => prior
            .unmark_deep_value()
            .raw_equal(&config.unmark_deep_value()),
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

    fn nested(
        nesting: NestingMode,
        attrs: &[(&str, terrane_plugin::Attribute)],
    ) -> terrane_plugin::Attribute {
        let nested = terrane_plugin::NestedObject {
            attributes: attrs
                .iter()
                .map(|(k, a)| (k.to_string(), a.clone()))
                .collect(),
            nesting,
            min_items: 0,
            max_items: 0,
        };
        terrane_plugin::Attribute {
            ty: nested.implied_type(),
            nested_type: Some(nested),
            ..attr(false)
        }
    }

    fn rule(name: &str, port: &str, id: Option<&str>) -> Value {
        Value::object_from([
            ("name", Value::string(name)),
            ("port", Value::string(port)),
            (
                "id",
                id.map(Value::string)
                    .unwrap_or_else(|| Value::null(Type::String)),
            ),
        ])
    }

    fn rule_type() -> Type {
        rule("", "", None).ty().clone()
    }

    /// Protocol 6 nested attributes: the computed `id` inside each nested
    /// object keeps its prior value (as Terraform's ProposedNew), in
    /// single, list (by index), map (by key) and set (by the configured
    /// values) nesting; a new element has no prior to take it from.
    #[test]
    fn computed_attributes_inside_nested_attributes_keep_prior_values() {
        let inner = [
            ("name", attr(false)),
            ("port", attr(false)),
            ("id", attr(true)),
        ];
        for nesting in [
            NestingMode::Single,
            NestingMode::List,
            NestingMode::Map,
            NestingMode::Set,
        ] {
            let mut schema = Block::default();
            schema
                .attributes
                .insert("rules".into(), nested(nesting, &inner));
            let wrap = |elems: Vec<Value>| match nesting {
                NestingMode::Single => elems.into_iter().next().expect("one"),
                NestingMode::List => Value::list(rule_type(), elems),
                NestingMode::Set => Value::set(rule_type(), elems),
                _ => Value::map(
                    rule_type(),
                    elems
                        .into_iter()
                        .enumerate()
                        .map(|(i, e)| (format!("k{i}"), e))
                        .collect(),
                ),
            };
            let (prior_rules, config_rules, want_rules) = if nesting == NestingMode::Single {
                (
                    vec![rule("a", "80", Some("r-a"))],
                    vec![rule("a", "8080", None)],
                    vec![rule("a", "8080", Some("r-a"))],
                )
            } else {
                (
                    vec![rule("a", "80", Some("r-a")), rule("b", "443", Some("r-b"))],
                    vec![
                        rule("a", "80", None),
                        rule("b", "443", None),
                        rule("c", "22", None),
                    ],
                    vec![
                        rule("a", "80", Some("r-a")),
                        rule("b", "443", Some("r-b")),
                        rule("c", "22", None),
                    ],
                )
            };
            let prior = Value::object_from([("rules", wrap(prior_rules))]);
            let config = Value::object_from([("rules", wrap(config_rules))]);
            let want = Value::object_from([("rules", wrap(want_rules))]);
            let got = proposed_new(&schema, &prior, &config);
            assert!(got.raw_equal(&want), "{nesting:?}: {got:?}");
        }
    }

    /// A changed set element pairs with no prior element: its computed
    /// attribute stays null for the provider to plan.
    #[test]
    fn a_changed_set_element_gets_no_prior_computed_value() {
        let inner = [
            ("name", attr(false)),
            ("port", attr(false)),
            ("id", attr(true)),
        ];
        let mut schema = Block::default();
        schema
            .attributes
            .insert("rules".into(), nested(NestingMode::Set, &inner));
        let prior = Value::object_from([(
            "rules",
            Value::set(rule_type(), vec![rule("a", "80", Some("r-a"))]),
        )]);
        let config = Value::object_from([(
            "rules",
            Value::set(rule_type(), vec![rule("a", "81", None)]),
        )]);
        let got = proposed_new(&schema, &prior, &config);
        assert!(got.raw_equal(&config), "{got:?}");
    }

    /// Nested blocks in list mode: computed attributes kept by index.
    #[test]
    fn computed_attributes_inside_list_blocks_keep_prior_values() {
        let mut inner = Block::default();
        inner.attributes.insert("name".into(), attr(false));
        inner.attributes.insert("port".into(), attr(false));
        inner.attributes.insert("id".into(), attr(true));
        let mut schema = Block::default();
        schema.block_types.insert(
            "rule".into(),
            terrane_plugin::NestedBlock {
                block: inner,
                nesting: NestingMode::List,
                min_items: 0,
                max_items: 0,
            },
        );
        let prior = Value::object_from([(
            "rule",
            Value::list(rule_type(), vec![rule("a", "80", Some("r-a"))]),
        )]);
        let config = Value::object_from([(
            "rule",
            Value::list(
                rule_type(),
                vec![rule("a", "8080", None), rule("b", "1", None)],
            ),
        )]);
        let want = Value::object_from([(
            "rule",
            Value::list(
                rule_type(),
                vec![rule("a", "8080", Some("r-a")), rule("b", "1", None)],
            ),
        )]);
        let got = proposed_new(&schema, &prior, &config);
        assert!(got.raw_equal(&want), "{got:?}");
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
