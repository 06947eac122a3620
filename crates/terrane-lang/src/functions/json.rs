//! JSON encoding and decoding of values with go-cty's rules (`jsonencode`,
//! `jsondecode`): objects with sorted keys, Go's string escaping (including
//! HTML-safe `\u003c` etc.), numbers in full precision; decoding infers
//! object/tuple types.

use std::collections::BTreeMap;

use terrane_value::{Kind, Number, Type, Value};

/// Error encoding a value.
#[derive(Debug)]
pub(crate) struct EncodeError(pub String);

impl std::fmt::Display for EncodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Compact JSON text of a (wholly known) value.
pub(crate) fn encode(v: &Value) -> Result<String, EncodeError> {
    let mut out = String::new();
    write_value(&mut out, v)?;
    Ok(out)
}

fn write_value(out: &mut String, v: &Value) -> Result<(), EncodeError> {
    match v.kind() {
        Kind::Unknown => return Err(EncodeError("value is not known".into())),
        Kind::Null => out.push_str("null"),
        Kind::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Kind::Number(n) => {
            if n.is_infinite() {
                return Err(EncodeError("cannot serialize infinity as JSON".into()));
            }
            out.push_str(&n.to_text());
        }
        Kind::String(s) => write_string(out, s),
        Kind::List(es) | Kind::Set(es) | Kind::Tuple(es) => {
            out.push('[');
            for (i, e) in es.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, e)?;
            }
            out.push(']');
        }
        Kind::Map(m) | Kind::Object(m) => {
            out.push('{');
            for (i, (k, e)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, k);
                out.push(':');
                write_value(out, e)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// A JSON string literal escaped as Go's `encoding/json` does.
pub(crate) fn write_string(out: &mut String, s: &str) {
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

// ----- decoding -----

struct Parser<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    depth: usize,
}

/// Nesting limit (Go allows 10000; values that deep would exhaust the
/// stack of the recursive value code here and in the evaluator).
const MAX_DEPTH: usize = 1_000;

/// Decodes JSON text to a value whose type is implied by the content
/// (objects, tuples, numbers, strings, bools, dynamic null). Errors use
/// Go's wording.
pub(crate) fn decode(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        text,
        i: 0,
        depth: 0,
    };
    p.ws();
    if p.i >= p.s.len() {
        return Err("EOF".into());
    }
    let v = p.value()?;
    p.ws();
    if p.i < p.s.len() {
        return Err("extraneous data after JSON object".into());
    }
    Ok(v)
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self.i < self.s.len() && matches!(self.s[self.i], b' ' | b'\t' | b'\n' | b'\r') {
            self.i += 1;
        }
    }

    fn quote_char(&self) -> String {
        let c = self.text[self.i..].chars().next().unwrap_or('\0');
        match c {
            '\'' => "'\\''".into(),
            '"' => "'\"'".into(),
            c => {
                let q = crate::functions::format::go_quote(&c.to_string());
                format!("'{}'", &q[1..q.len() - 1])
            }
        }
    }

    /// Input ended inside a token (literal, number, string).
    fn eof<T>(&self) -> Result<T, String> {
        Err("unexpected EOF".into())
    }

    /// Input ended between tokens of a structure.
    fn eof_struct<T>(&self) -> Result<T, String> {
        Err("EOF".into())
    }

    fn value(&mut self) -> Result<Value, String> {
        self.ws();
        if self.i >= self.s.len() {
            return self.eof_struct();
        }
        match self.s[self.i] {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => Ok(Value::string(self.string()?)),
            b't' => self.literal("true", Value::bool(true)),
            b'f' => self.literal("false", Value::bool(false)),
            b'n' => self.literal("null", Value::null_dynamic()),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(format!(
                "invalid character {} looking for beginning of value",
                self.quote_char()
            )),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, String> {
        for (k, &w) in word.as_bytes().iter().enumerate() {
            if self.i >= self.s.len() {
                return self.eof();
            }
            if self.s[self.i] != w {
                return Err(format!(
                    "invalid character {} in literal {word} (expecting '{}')",
                    self.quote_char(),
                    word.as_bytes()[k] as char
                ));
            }
            self.i += 1;
        }
        Ok(v)
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.i;
        let s = self.s;
        let mut i = self.i;
        if s[i] == b'-' {
            i += 1;
        }
        if i >= s.len() {
            return self.eof();
        }
        if s[i] == b'0' {
            i += 1;
        } else if s[i].is_ascii_digit() {
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
        } else {
            self.i = i;
            return Err(format!(
                "invalid character {} in numeric literal",
                self.quote_char()
            ));
        }
        if i < s.len() && s[i] == b'.' {
            i += 1;
            if i >= s.len() {
                return self.eof();
            }
            if !s[i].is_ascii_digit() {
                self.i = i;
                return Err(format!(
                    "invalid character {} after decimal point in numeric literal",
                    self.quote_char()
                ));
            }
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i < s.len() && (s[i] == b'e' || s[i] == b'E') {
            i += 1;
            if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
                i += 1;
            }
            if i >= s.len() {
                return self.eof();
            }
            if !s[i].is_ascii_digit() {
                self.i = i;
                return Err(format!(
                    "invalid character {} in exponent of numeric literal",
                    self.quote_char()
                ));
            }
            while i < s.len() && s[i].is_ascii_digit() {
                i += 1;
            }
        }
        self.i = i;
        let text = &self.text[start..i];
        match Number::parse(text) {
            Ok(n) => Ok(Value::number(n)),
            Err(_) => Err(format!("invalid number {text:?}")),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        // at the opening quote
        self.i += 1;
        let mut out = String::new();
        loop {
            if self.i >= self.s.len() {
                return self.eof();
            }
            let c = self.s[self.i];
            match c {
                b'"' => {
                    self.i += 1;
                    return Ok(out);
                }
                b'\\' => {
                    self.i += 1;
                    if self.i >= self.s.len() {
                        return self.eof();
                    }
                    let e = self.s[self.i];
                    self.i += 1;
                    match e {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let u = self.hex4()?;
                            if (0xd800..0xdc00).contains(&u) {
                                // a surrogate pair, if the next escape completes it
                                let save = self.i;
                                if self.s.get(self.i) == Some(&b'\\')
                                    && self.s.get(self.i + 1) == Some(&b'u')
                                {
                                    self.i += 2;
                                    let l = self.hex4()?;
                                    if (0xdc00..0xe000).contains(&l) {
                                        let cp = 0x10000 + ((u - 0xd800) << 10) + (l - 0xdc00);
                                        out.push(char::from_u32(cp).unwrap_or('\u{fffd}'));
                                        continue;
                                    }
                                }
                                self.i = save;
                                out.push('\u{fffd}');
                            } else {
                                out.push(char::from_u32(u).unwrap_or('\u{fffd}'));
                            }
                        }
                        _ => {
                            self.i -= 1;
                            return Err(format!(
                                "invalid character {} in string escape code",
                                self.quote_char()
                            ));
                        }
                    }
                }
                c if c < 0x20 => {
                    return Err(format!(
                        "invalid character {} in string literal",
                        self.quote_char()
                    ));
                }
                _ => {
                    let rest = &self.text[self.i..];
                    let end = rest.find(['"', '\\']).unwrap_or(rest.len());
                    let chunk = &rest[..end];
                    if let Some(bad) = chunk.bytes().position(|b| b < 0x20) {
                        out.push_str(&chunk[..bad]);
                        self.i += bad;
                        continue;
                    }
                    out.push_str(chunk);
                    self.i += end;
                }
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, String> {
        let mut v = 0u32;
        for _ in 0..4 {
            if self.i >= self.s.len() {
                return self.eof();
            }
            let d = match (self.s[self.i] as char).to_digit(16) {
                Some(d) => d,
                None => {
                    return Err(format!(
                        "invalid character {} in \\u hexadecimal character escape",
                        self.quote_char()
                    ))
                }
            };
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("exceeded max depth".into());
        }
        Ok(())
    }

    fn array(&mut self) -> Result<Value, String> {
        self.enter()?;
        self.i += 1;
        let mut elems = Vec::new();
        self.ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::empty_tuple());
        }
        loop {
            elems.push(self.value()?);
            self.ws();
            match self.s.get(self.i) {
                None => return self.eof_struct(),
                Some(b',') => {
                    self.i += 1;
                }
                Some(b']') => {
                    self.i += 1;
                    break;
                }
                Some(_) => {
                    return Err(format!(
                        "invalid character {} after array element",
                        self.quote_char()
                    ))
                }
            }
        }
        self.depth -= 1;
        Ok(Value::tuple(elems))
    }

    fn object(&mut self) -> Result<Value, String> {
        self.enter()?;
        self.i += 1;
        let mut attrs = BTreeMap::new();
        self.ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Value::empty_object());
        }
        let mut first = true;
        loop {
            self.ws();
            match self.s.get(self.i) {
                None => return self.eof_struct(),
                Some(b'"') => {}
                Some(_) if first => return Err(format!("invalid character {}", self.quote_char())),
                Some(_) => {
                    return Err(format!(
                        "invalid character {} looking for beginning of object key string",
                        self.quote_char()
                    ))
                }
            }
            first = false;
            let k = self.string()?;
            self.ws();
            match self.s.get(self.i) {
                None => return self.eof_struct(),
                Some(b':') => self.i += 1,
                Some(_) => {
                    return Err(format!(
                        "invalid character {} after object key",
                        self.quote_char()
                    ))
                }
            }
            let v = self.value()?;
            attrs.insert(k, v);
            self.ws();
            match self.s.get(self.i) {
                None => return self.eof_struct(),
                Some(b',') => {
                    self.i += 1;
                }
                Some(b'}') => {
                    self.i += 1;
                    break;
                }
                Some(_) => {
                    return Err(format!(
                        "invalid character {} after object key:value pair",
                        self.quote_char()
                    ))
                }
            }
        }
        self.depth -= 1;
        Ok(Value::object(attrs))
    }
}

/// The type `jsondecode` would produce, for documentation/tests.
#[allow(dead_code)]
pub(crate) fn implied_type(text: &str) -> Result<Type, String> {
    decode(text).map(|v| v.ty().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_escapes() {
        let v = Value::string("<a&b>\u{8}\u{2028}\"\\\n");
        assert_eq!(
            encode(&v).unwrap(),
            r#""\u003ca\u0026b\u003e\u0008\u2028\"\\\n""#
        );
        let o = Value::object_from([
            ("b", Value::from_i64(1)),
            ("a", Value::tuple(vec![Value::bool(true)])),
        ]);
        assert_eq!(encode(&o).unwrap(), r#"{"a":[true],"b":1}"#);
    }

    #[test]
    fn decode_values() {
        let v = decode(r#"{"a": 1, "b": [true, null], "a": 2}"#).unwrap();
        assert_eq!(encode(&v).unwrap(), r#"{"a":2,"b":[true,null]}"#);
        assert_eq!(decode("").unwrap_err(), "EOF");
        assert_eq!(decode("[1,").unwrap_err(), "EOF");
        assert_eq!(decode("tru").unwrap_err(), "unexpected EOF");
        assert_eq!(
            decode("x").unwrap_err(),
            "invalid character 'x' looking for beginning of value"
        );
        assert_eq!(
            decode("1 2").unwrap_err(),
            "extraneous data after JSON object"
        );
        assert_eq!(
            decode("1.50").unwrap().as_number().unwrap().to_text(),
            "1.5"
        );
    }
}
