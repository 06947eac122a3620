//! Checking cty type JSON (output types), with cty's wording for the
//! common errors.

use crate::json::{self, Kind, Node};

/// Checks that `raw` is a valid cty type specification.
pub(crate) fn check(raw: &str) -> Result<(), String> {
    let node = json::parse(raw.as_bytes()).map_err(|e| e.to_string())?;
    check_node(&node)
}

fn check_node(n: &Node) -> Result<(), String> {
    match &n.kind {
        Kind::String(s) => match s.as_str() {
            "string" | "number" | "bool" | "dynamic" => Ok(()),
            other => Err(format!(
                "invalid primitive type name {}",
                json::quote(other)
            )),
        },
        Kind::Array(items) => {
            let Some(Node {
                kind: Kind::String(kind),
                ..
            }) = items.first()
            else {
                return Err("invalid complex type description".into());
            };
            match (kind.as_str(), &items[1..]) {
                ("list" | "set" | "map", [elem]) => check_node(elem),
                ("object", [attrs]) | ("object", [attrs, _]) => match &attrs.kind {
                    Kind::Object(members) => members.iter().try_for_each(|(_, t)| check_node(t)),
                    _ => Err("invalid object type attributes".into()),
                },
                ("tuple", [elems]) => match &elems.kind {
                    Kind::Array(types) => types.iter().try_for_each(check_node),
                    _ => Err("invalid tuple type element types".into()),
                },
                ("list" | "set" | "map" | "object" | "tuple", _) => {
                    Err(format!("invalid {kind} type description"))
                }
                (other, _) => Err(format!(
                    "invalid complex type kind name {}",
                    json::quote(other)
                )),
            }
        }
        _ => Err("invalid type specification".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn types() {
        for ok in [
            r#""string""#,
            r#"["list","number"]"#,
            r#"["object",{"a":["set","bool"]}]"#,
            r#"["tuple",["string","dynamic"]]"#,
            r#"["map",["object",{}]]"#,
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check(r#""nope""#),
            Err("invalid primitive type name \"nope\"".into())
        );
        assert!(check(r#"["list"]"#).is_err());
        assert!(check("1").is_err());
    }
}
