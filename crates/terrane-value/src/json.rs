//! go-cty's JSON codec: values to/from JSON text given a type, the implied
//! type of a JSON document (for `jsondecode`), and `jsonencode`-style
//! output. Numbers keep full precision (JSON text is parsed by an internal
//! parser, not through `f64`).

use std::collections::BTreeMap;
use std::fmt;

use crate::number::Number;
use crate::value::{Kind, Value};
use crate::Type;

/// A JSON encoding/decoding error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError(pub String);

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonError {}

fn err<T>(msg: impl Into<String>) -> Result<T, JsonError> {
    Err(JsonError(msg.into()))
}

// ----- encoding -----

/// `jsonencode`: encodes a value using its own type (no type wrappers).
/// Unknown values are an error; marks are ignored.
pub fn encode(v: &Value) -> Result<String, JsonError> {
    let mut out = String::new();
    write_value(&mut out, v, v.ty())?;
    Ok(out)
}

/// go-cty's `json.Marshal(v, ty)`: like [`encode`] but wherever `ty` has
/// `Dynamic`, the value is wrapped as `{"value":...,"type":...}`.
pub fn marshal(v: &Value, ty: &Type) -> Result<String, JsonError> {
    let mut out = String::new();
    write_value(&mut out, v, ty)?;
    Ok(out)
}

fn write_value(out: &mut String, v: &Value, ty: &Type) -> Result<(), JsonError> {
    if ty.is_dynamic() && !v.ty().is_dynamic() {
        out.push_str("{\"value\":");
        write_value(out, v, v.ty())?;
        out.push_str(",\"type\":");
        out.push_str(&v.ty().to_json_string());
        out.push('}');
        return Ok(());
    }
    match v.kind() {
        Kind::Unknown => err("value is not known"),
        Kind::Null => {
            out.push_str("null");
            Ok(())
        }
        Kind::Bool(b) => {
            out.push_str(if b { "true" } else { "false" });
            Ok(())
        }
        Kind::Number(n) => {
            if n.is_infinite() {
                return err("cannot encode infinity as JSON");
            }
            out.push_str(&n.to_text());
            Ok(())
        }
        Kind::String(s) => {
            write_json_string(out, s);
            Ok(())
        }
        Kind::List(es) | Kind::Set(es) => {
            let ety = ty.element_type().unwrap_or(v.ty());
            let ety = if ety.is_dynamic() && !ty.is_collection() {
                v.ty().element_type().unwrap_or(&Type::Dynamic)
            } else {
                ety
            };
            out.push('[');
            for (i, e) in es.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, e, ety)?;
            }
            out.push(']');
            Ok(())
        }
        Kind::Tuple(es) => {
            let etys: Vec<Type> = match ty {
                Type::Tuple(ts) if ts.len() == es.len() => ts.clone(),
                _ => es.iter().map(|e| e.ty().clone()).collect(),
            };
            out.push('[');
            for (i, (e, t)) in es.iter().zip(&etys).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, e, t)?;
            }
            out.push(']');
            Ok(())
        }
        Kind::Map(m) => {
            let ety = match ty {
                Type::Map(e) => (**e).clone(),
                _ => v.ty().element_type().cloned().unwrap_or(Type::Dynamic),
            };
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                write_value(out, e, &ety)?;
            }
            out.push('}');
            Ok(())
        }
        Kind::Object(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                let at = ty.attribute_type(k).unwrap_or(e.ty());
                write_value(out, e, at)?;
            }
            out.push('}');
            Ok(())
        }
    }
}

/// Writes a JSON string literal escaped as Go's `encoding/json` does
/// (HTML-safe: `<`, `>`, `&` and U+2028/U+2029 as `\uXXXX`).
pub fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

// ----- parsing -----

/// A parsed JSON document that keeps number text and key order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true`/`false`
    Bool(bool),
    /// A number, as its literal text.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object, keys in document order (duplicates kept).
    Object(Vec<(String, Json)>),
}

const MAX_DEPTH: usize = 512;

/// Parses JSON text (RFC 8259) exactly, keeping number literals as text.
pub fn parse(s: &str) -> Result<Json, JsonError> {
    let mut p = Parser {
        b: s.as_bytes(),
        s,
        i: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.i != p.b.len() {
        return err(format!(
            "invalid character after top-level value at offset {}",
            p.i
        ));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.b.len() && matches!(self.b[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &str, v: Json) -> Result<Json, JsonError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(v)
        } else {
            err(format!("invalid JSON literal at offset {}", self.i))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return err("JSON nesting too deep");
        }
        match self.b.get(self.i) {
            None => err("unexpected end of JSON input"),
            Some(b'n') => self.lit("null", Json::Null),
            Some(b't') => self.lit("true", Json::Bool(true)),
            Some(b'f') => self.lit("false", Json::Bool(false)),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b']') {
                    self.i += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return err(format!("expected ',' or ']' at offset {}", self.i)),
                    }
                }
            }
            Some(b'{') => {
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.b.get(self.i) == Some(&b'}') {
                    self.i += 1;
                    return Ok(Json::Object(items));
                }
                loop {
                    self.ws();
                    if self.b.get(self.i) != Some(&b'"') {
                        return err(format!("expected object key at offset {}", self.i));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.b.get(self.i) != Some(&b':') {
                        return err(format!("expected ':' at offset {}", self.i));
                    }
                    self.i += 1;
                    self.ws();
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                    self.ws();
                    match self.b.get(self.i) {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            return Ok(Json::Object(items));
                        }
                        _ => return err(format!("expected ',' or '}}' at offset {}", self.i)),
                    }
                }
            }
            Some(c) if *c == b'-' || c.is_ascii_digit() => self.number(),
            Some(_) => err(format!("invalid character at offset {}", self.i)),
        }
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.i;
        let b = self.b;
        if b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match b.get(self.i) {
            Some(b'0') => self.i += 1,
            Some(c) if c.is_ascii_digit() => {
                while b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    self.i += 1;
                }
            }
            _ => return err(format!("invalid number at offset {start}")),
        }
        if b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if !b.get(self.i).is_some_and(u8::is_ascii_digit) {
                return err(format!("invalid number at offset {start}"));
            }
            while b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
        }
        if matches!(b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if !b.get(self.i).is_some_and(u8::is_ascii_digit) {
                return err(format!("invalid number at offset {start}"));
            }
            while b.get(self.i).is_some_and(u8::is_ascii_digit) {
                self.i += 1;
            }
        }
        Ok(Json::Number(self.s[start..self.i].to_string()))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let h = self
            .s
            .get(self.i..self.i + 4)
            .ok_or_else(|| JsonError("invalid \\u escape".into()))?;
        let v = u32::from_str_radix(h, 16).map_err(|_| JsonError("invalid \\u escape".into()))?;
        self.i += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // opening quote
        let mut out = String::new();
        loop {
            let start = self.i;
            while self.i < self.b.len()
                && self.b[self.i] != b'"'
                && self.b[self.i] != b'\\'
                && self.b[self.i] >= 0x20
            {
                self.i += 1;
            }
            out.push_str(&self.s[start..self.i]);
            match self.b.get(self.i) {
                None => return err("unexpected end of JSON string"),
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self
                        .b
                        .get(self.i)
                        .ok_or_else(|| JsonError("bad escape".into()))?;
                    self.i += 1;
                    match c {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let mut cp = self.hex4()?;
                            if (0xd800..0xdc00).contains(&cp) {
                                if self.s[self.i..].starts_with("\\u") {
                                    self.i += 2;
                                    let lo = self.hex4()?;
                                    if (0xdc00..0xe000).contains(&lo) {
                                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                    } else {
                                        out.push('\u{fffd}');
                                        cp = lo;
                                    }
                                } else {
                                    cp = 0xfffd;
                                }
                            }
                            out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                        }
                        _ => return err("invalid escape in JSON string"),
                    }
                }
                Some(_) => return err("invalid control character in JSON string"),
            }
        }
    }
}

// ----- decoding -----

/// The type go-cty infers for a JSON document (`jsondecode`): objects are
/// object types, arrays tuples, `null` is `Dynamic`.
pub fn implied_type(s: &str) -> Result<Type, JsonError> {
    implied_type_of(&parse(s)?)
}

fn implied_type_of(j: &Json) -> Result<Type, JsonError> {
    Ok(match j {
        Json::Null => Type::Dynamic,
        Json::Bool(_) => Type::Bool,
        Json::Number(_) => Type::Number,
        Json::String(_) => Type::String,
        Json::Array(items) => Type::Tuple(
            items
                .iter()
                .map(implied_type_of)
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(items) => {
            let mut attrs = BTreeMap::new();
            for (k, v) in items {
                if attrs.insert(k.clone(), implied_type_of(v)?).is_some() {
                    return err(format!("duplicate {k:?} property in JSON object"));
                }
            }
            Type::Object {
                attrs: attrs.into(),
                optional: Default::default(),
            }
        }
    })
}

/// `jsondecode`: parses JSON text into a value of its implied type.
pub fn decode(s: &str) -> Result<Value, JsonError> {
    let j = parse(s)?;
    let ty = implied_type_of(&j)?;
    from_json(&j, &ty)
}

/// go-cty's `json.Unmarshal(text, ty)`: decodes JSON text as a value of
/// type `ty` (where `ty` has `Dynamic`, expects `{"value":..,"type":..}`).
pub fn unmarshal(s: &str, ty: &Type) -> Result<Value, JsonError> {
    from_json(&parse(s)?, ty)
}

/// Decodes an already parsed document as a value of type `ty`.
pub fn from_json(j: &Json, ty: &Type) -> Result<Value, JsonError> {
    if matches!(j, Json::Null) {
        return Ok(Value::null(ty.clone()));
    }
    match ty {
        Type::Dynamic => {
            let Json::Object(items) = j else {
                return err("dynamic value must be a JSON object with \"value\" and \"type\"");
            };
            let get = |name: &str| items.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            let tj = get("type").ok_or_else(|| JsonError("missing \"type\" property".into()))?;
            let vt = Type::from_json(&json_to_serde(tj)).map_err(|e| JsonError(e.to_string()))?;
            let vj = get("value").ok_or_else(|| JsonError("missing \"value\" property".into()))?;
            from_json(vj, &vt)
        }
        Type::String => match j {
            Json::String(s) => Ok(Value::string(s.clone())),
            Json::Number(n) => Ok(Value::string(
                Number::parse(n)
                    .map(|x| x.to_text())
                    .unwrap_or_else(|_| n.clone()),
            )),
            Json::Bool(b) => Ok(Value::string(if *b { "true" } else { "false" })),
            _ => err("string is required"),
        },
        Type::Number => match j {
            Json::Number(n) | Json::String(n) => Number::parse(n)
                .map(Value::number)
                .map_err(|_| JsonError("a number is required".into())),
            _ => err("number is required"),
        },
        Type::Bool => match j {
            Json::Bool(b) => Ok(Value::bool(*b)),
            Json::String(s) if s == "true" => Ok(Value::bool(true)),
            Json::String(s) if s == "false" => Ok(Value::bool(false)),
            _ => err("bool is required"),
        },
        Type::List(e) | Type::Set(e) => {
            let Json::Array(items) = j else {
                return err("array is required");
            };
            let vals = items
                .iter()
                .map(|i| from_json(i, e))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::List(_)) {
                Value::list((**e).clone(), vals)
            } else {
                Value::set((**e).clone(), vals)
            })
        }
        Type::Tuple(ts) => {
            let Json::Array(items) = j else {
                return err("array is required");
            };
            if items.len() != ts.len() {
                return err(format!("tuple of {} elements is required", ts.len()));
            }
            Ok(Value::tuple(
                items
                    .iter()
                    .zip(ts)
                    .map(|(i, t)| from_json(i, t))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Type::Map(e) => {
            let Json::Object(items) = j else {
                return err("object is required");
            };
            let mut m = BTreeMap::new();
            for (k, v) in items {
                m.insert(k.clone(), from_json(v, e)?);
            }
            Ok(Value::map((**e).clone(), m))
        }
        Type::Object { attrs, .. } => {
            let Json::Object(items) = j else {
                return err("object is required");
            };
            let mut m = BTreeMap::new();
            for (k, v) in items {
                let Some(at) = attrs.get(k) else {
                    return err(format!("unsupported attribute {k:?}"));
                };
                m.insert(k.clone(), from_json(v, at)?);
            }
            for (k, at) in attrs {
                m.entry(k.clone())
                    .or_insert_with(|| Value::null(at.clone()));
            }
            Ok(Value::object_typed(ty, m))
        }
    }
}

/// Converts a parsed document to `serde_json::Value` (numbers that do not
/// fit `i64`/`u64`/`f64` exactly lose precision).
pub fn json_to_serde(j: &Json) -> serde_json::Value {
    use serde_json::Value as S;
    match j {
        Json::Null => S::Null,
        Json::Bool(b) => S::Bool(*b),
        Json::Number(n) => serde_json::from_str::<S>(n).unwrap_or(S::Null),
        Json::String(s) => S::String(s.clone()),
        Json::Array(a) => S::Array(a.iter().map(json_to_serde).collect()),
        Json::Object(o) => S::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), json_to_serde(v)))
                .collect(),
        ),
    }
}

/// Converts a `serde_json::Value` to a [`Json`] document.
pub fn serde_to_json(s: &serde_json::Value) -> Json {
    use serde_json::Value as S;
    match s {
        S::Null => Json::Null,
        S::Bool(b) => Json::Bool(*b),
        S::Number(n) => Json::Number(n.to_string()),
        S::String(s) => Json::String(s.clone()),
        S::Array(a) => Json::Array(a.iter().map(serde_to_json).collect()),
        S::Object(o) => Json::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), serde_to_json(v)))
                .collect(),
        ),
    }
}

/// Decodes a `serde_json::Value` as a value of type `ty` (as [`unmarshal`]).
pub fn from_serde(s: &serde_json::Value, ty: &Type) -> Result<Value, JsonError> {
    from_json(&serde_to_json(s), ty)
}

/// Encodes a value as a `serde_json::Value` using go-cty's JSON mapping for
/// type `ty` (via [`marshal`], so number precision beyond `f64` is lost
/// unless the value is an integer that fits 64 bits).
pub fn to_serde(v: &Value, ty: &Type) -> Result<serde_json::Value, JsonError> {
    let text = marshal(v, ty)?;
    Ok(json_to_serde(&parse(&text)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Value {
        Value::number(Number::parse(s).unwrap())
    }

    #[test]
    fn encode_oracle() {
        assert_eq!(encode(&Value::null_dynamic()).unwrap(), "null");
        let t = Value::tuple(vec![n("1"), Value::string("a"), Value::null_dynamic()]);
        assert_eq!(encode(&t).unwrap(), r#"[1,"a",null]"#);
        let o = Value::object_from([("b", n("1")), ("a", Value::tuple(vec![Value::bool(true)]))]);
        assert_eq!(encode(&o).unwrap(), r#"{"a":[true],"b":1}"#);
        assert_eq!(encode(&Value::string("\u{2028}")).unwrap(), r#""\u2028""#);
        assert_eq!(
            encode(&Value::string("tab\there")).unwrap(),
            r#""tab\there""#
        );
        assert_eq!(
            encode(&Value::string("<a&b>")).unwrap(),
            r#""\u003ca\u0026b\u003e""#
        );
        assert_eq!(
            encode(&n("1e100")).unwrap(),
            format!("1{}", "0".repeat(100))
        );
        assert_eq!(encode(&n("-0.5")).unwrap(), "-0.5");
        assert_eq!(
            encode(&Value::number(
                Number::parse("1")
                    .unwrap()
                    .div(&Number::parse("3").unwrap())
                    .unwrap()
            ))
            .unwrap(),
            format!("0.{}5", "3".repeat(154))
        );
        assert!(encode(&Value::unknown(Type::String)).is_err());
    }

    #[test]
    fn decode_implied() {
        let v = decode(r#"{"b":[1,"x",null],"a":{"c":1.5}}"#).unwrap();
        assert_eq!(
            v.ty(),
            &Type::object([
                ("a", Type::object([("c", Type::Number)])),
                (
                    "b",
                    Type::tuple(vec![Type::Number, Type::String, Type::Dynamic])
                )
            ])
        );
        assert_eq!(encode(&v).unwrap(), r#"{"a":{"c":1.5},"b":[1,"x",null]}"#);
        let big = decode("123456789012345678901234567890.5").unwrap();
        assert_eq!(
            big.as_number().unwrap().to_text(),
            "123456789012345678901234567890.5"
        );
        assert_eq!(decode(r#""\ud83d\ude00""#).unwrap().as_str(), Some("😀"));
        for bad in [
            "",
            "{",
            "[1,]",
            "01",
            "1.",
            "tru",
            "{\"a\":1,\"a\":2}",
            "\"a",
            "1 2",
        ] {
            assert!(decode(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn typed_roundtrip() {
        let ty = Type::object([
            ("l", Type::list(Type::String)),
            ("s", Type::set(Type::Number)),
            ("m", Type::map(Type::Bool)),
            ("d", Type::Dynamic),
            ("n", Type::String),
        ]);
        let v = Value::object_from([
            ("l", Value::list(Type::String, vec![Value::string("x")])),
            ("s", Value::set(Type::Number, vec![n("2"), n("1")])),
            (
                "m",
                Value::map(
                    Type::Bool,
                    [("k".to_string(), Value::bool(true))].into_iter().collect(),
                ),
            ),
            ("d", Value::tuple(vec![n("1"), Value::string("a")])),
            ("n", Value::null(Type::String)),
        ]);
        let v = crate::convert::convert(&v, &ty).unwrap();
        let text = marshal(&v, &ty).unwrap();
        assert_eq!(
            text,
            r#"{"d":{"value":[1,"a"],"type":["tuple",["number","string"]]},"l":["x"],"m":{"k":true},"n":null,"s":[1,2]}"#
        );
        let back = unmarshal(&text, &ty).unwrap();
        assert!(back.raw_equal(&v), "{back:?} vs {v:?}");
        let sj = to_serde(&v, &ty).unwrap();
        assert!(from_serde(&sj, &ty).unwrap().raw_equal(&v));
        assert!(unmarshal(r#"{"zzz":1}"#, &ty).is_err());
        assert_eq!(
            unmarshal(r#""12""#, &Type::Number)
                .unwrap()
                .as_number()
                .unwrap()
                .to_text(),
            "12"
        );
    }
}
