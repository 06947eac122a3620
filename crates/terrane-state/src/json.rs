//! A small JSON reader and writer with the properties the state format needs
//! and general-purpose crates do not give together:
//!
//! * numbers and nested values are kept as their source text ([`RawJson`]),
//!   as Terraform keeps resource attributes (`json.RawMessage`);
//! * syntax errors report the byte offset exactly as Go's `encoding/json`
//!   does (the number of bytes read when the error was found);
//! * output is escaped and indented exactly as Go's `json.MarshalIndent`
//!   (`<`, `>`, `&`, U+2028 and U+2029 escaped, `\u00XX` for other control
//!   characters, two-space indentation, `{}`/`[]` for empty containers).

use std::fmt;
use std::sync::{Arc, OnceLock};

/// Maximum nesting depth accepted when reading. Deeper documents are
/// rejected as a syntax error rather than risking the stack.
pub const MAX_DEPTH: usize = 1000;

/// A JSON value kept as compact source text: insignificant white space
/// removed, escapes and number spellings preserved, `<`, `>`, `&`, U+2028
/// and U+2029 inside strings escaped as Go's compact does.
///
/// Shared text (`Arc<str>`): the state is copied several times during a
/// run (the snapshot read, the engine's prior state, the state being
/// built), and the attributes of every instance are most of its size.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawJson(Arc<str>);

/// Texts that occur in nearly every instance (`[]` sensitive paths, `null`
/// and `{}`), shared by all instances instead of allocated for each.
fn shared_text(text: &str) -> Option<Arc<str>> {
    static COMMON: OnceLock<[Arc<str>; 3]> = OnceLock::new();
    let common = COMMON.get_or_init(|| [Arc::from("[]"), Arc::from("null"), Arc::from("{}")]);
    common.iter().find(|c| &***c == text).cloned()
}

fn raw_text(text: String) -> Arc<str> {
    shared_text(&text).unwrap_or_else(|| Arc::from(text))
}

impl RawJson {
    /// Parses and compacts `text`. Errors carry Go's byte offset.
    pub fn parse(text: &str) -> Result<RawJson, SyntaxError> {
        let node = parse(text.as_bytes())?;
        Ok(RawJson::from_source(text.as_bytes(), &node))
    }

    /// The JSON `null`.
    pub fn null() -> RawJson {
        RawJson(raw_text("null".to_string()))
    }

    /// The compact JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the literal `null`.
    pub fn is_null(&self) -> bool {
        &*self.0 == "null"
    }

    pub(crate) fn from_source(src: &[u8], node: &Node) -> RawJson {
        RawJson(raw_text(compact(&src[node.start..node.end])))
    }

    /// Wraps text that is already valid compact JSON (used for text this
    /// crate produced itself).
    pub(crate) fn from_trusted(text: String) -> RawJson {
        RawJson(raw_text(text))
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RawJson({})", self.0)
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A JSON syntax error at a Go-compatible byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Bytes read when the error was detected (Go's `SyntaxError.Offset`).
    pub offset: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "syntax error at byte offset {}", self.offset)
    }
}

impl std::error::Error for SyntaxError {}

/// A parsed value with its byte range in the source.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Null,
    Bool(bool),
    /// The number's source text.
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    /// Go's name for the JSON kind, as used in `UnmarshalTypeError`: a
    /// number has its literal appended only when it was decoded into an
    /// integer it does not fit (`into_integer`).
    pub fn type_name(&self, into_integer: bool) -> String {
        match &self.kind {
            Kind::Null => "null".into(),
            Kind::Bool(_) => "bool".into(),
            Kind::Number(n) if into_integer => format!("number {n}"),
            Kind::Number(_) => "number".into(),
            Kind::String(_) => "string".into(),
            Kind::Array(_) => "array".into(),
            Kind::Object(_) => "object".into(),
        }
    }

    /// Looks a member up as Go's decoder matches struct fields: an exact
    /// match, else a case-insensitive one; the last occurrence wins.
    pub fn member(&self, name: &str) -> Option<&Node> {
        let Kind::Object(members) = &self.kind else {
            return None;
        };
        members
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .or_else(|| {
                members
                    .iter()
                    .rev()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
            })
            .map(|(_, v)| v)
    }
}

/// Parses one JSON document (surrounding white space allowed).
pub(crate) fn parse(src: &[u8]) -> Result<Node, SyntaxError> {
    let mut p = Parser { src, pos: 0 };
    p.ws();
    let node = p.value(0)?;
    p.ws();
    if p.pos < src.len() {
        return Err(p.err_here());
    }
    Ok(node)
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    /// Error at the current byte (Go counts the offending byte as read);
    /// at the end of input, the offset is the input length.
    fn err_here(&self) -> SyntaxError {
        SyntaxError {
            offset: (self.pos + 1).min(self.src.len()),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, b: u8) -> Result<(), SyntaxError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err_here())
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let start = self.pos;
        let kind = match self.peek() {
            Some(b'{') => {
                if depth >= MAX_DEPTH {
                    return Err(self.err_here());
                }
                self.pos += 1;
                self.ws();
                let mut members = Vec::new();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        if self.peek() != Some(b'"') {
                            return Err(self.err_here());
                        }
                        let key = self.string()?;
                        self.ws();
                        self.expect(b':')?;
                        self.ws();
                        let v = self.value(depth + 1)?;
                        members.push((key, v));
                        self.ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.ws();
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err_here()),
                        }
                    }
                }
                Kind::Object(members)
            }
            Some(b'[') => {
                if depth >= MAX_DEPTH {
                    return Err(self.err_here());
                }
                self.pos += 1;
                self.ws();
                let mut items = Vec::new();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value(depth + 1)?);
                        self.ws();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.ws();
                            }
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return Err(self.err_here()),
                        }
                    }
                }
                Kind::Array(items)
            }
            Some(b'"') => Kind::String(self.string()?),
            Some(b't') => {
                self.literal(b"true")?;
                Kind::Bool(true)
            }
            Some(b'f') => {
                self.literal(b"false")?;
                Kind::Bool(false)
            }
            Some(b'n') => {
                self.literal(b"null")?;
                Kind::Null
            }
            Some(b'-' | b'0'..=b'9') => {
                self.number()?;
                let text = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
                Kind::Number(text)
            }
            _ => return Err(self.err_here()),
        };
        Ok(Node {
            kind,
            start,
            end: self.pos,
        })
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), SyntaxError> {
        for &b in word {
            if self.peek() != Some(b) {
                return Err(self.err_here());
            }
            self.pos += 1;
        }
        Ok(())
    }

    fn digits(&mut self) -> Result<(), SyntaxError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.err_here());
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        Ok(())
    }

    fn number(&mut self) -> Result<(), SyntaxError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => self.digits()?,
            _ => return Err(self.err_here()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, SyntaxError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.err_here()),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// Reads a string literal (at its opening quote) and decodes it as Go
    /// does: invalid UTF-8 and lone surrogates become U+FFFD.
    fn string(&mut self) -> Result<String, SyntaxError> {
        self.pos += 1;
        let mut bytes: Vec<u8> = Vec::new();
        let mut out = String::new();
        let flush = |bytes: &mut Vec<u8>, out: &mut String| {
            out.push_str(&String::from_utf8_lossy(bytes));
            bytes.clear();
        };
        loop {
            match self.peek() {
                None => return Err(self.err_here()),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.pos += 1;
                            let hi = self.hex4()?;
                            flush(&mut bytes, &mut out);
                            if (0xD800..0xDC00).contains(&hi)
                                && self.src.get(self.pos) == Some(&b'\\')
                                && self.src.get(self.pos + 1) == Some(&b'u')
                            {
                                let save = self.pos;
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if (0xDC00..0xE000).contains(&lo) {
                                    let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    out.push(char::from_u32(c).unwrap_or('\u{FFFD}'));
                                } else {
                                    out.push('\u{FFFD}');
                                    self.pos = save;
                                }
                            } else {
                                out.push(char::from_u32(hi).unwrap_or('\u{FFFD}'));
                            }
                            continue;
                        }
                        _ => return Err(self.err_here()),
                    };
                    self.pos += 1;
                    flush(&mut bytes, &mut out);
                    out.push(c);
                }
                Some(c) if c < 0x20 => return Err(self.err_here()),
                Some(c) => {
                    bytes.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut bytes, &mut out);
        Ok(out)
    }
}

/// Go's `json.Compact` with HTML escaping, on valid JSON text. Invalid
/// UTF-8 (which Go would copy through) becomes U+FFFD.
fn compact(src: &[u8]) -> String {
    let text = String::from_utf8_lossy(src);
    let mut out = String::with_capacity(text.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_str {
            if escaped {
                escaped = false;
                out.push(c);
                continue;
            }
            match c {
                '\\' => {
                    escaped = true;
                    out.push(c);
                }
                '"' => {
                    in_str = false;
                    out.push(c);
                }
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                _ => out.push(c),
            }
        } else {
            match c {
                ' ' | '\t' | '\n' | '\r' => {}
                '"' => {
                    in_str = true;
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
    }
    out
}

/// Appends `s` as a JSON string literal escaped as Go's encoder does.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{0}'..='\u{1f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// A JSON string literal as Go's encoder writes it.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    write_string(&mut out, s);
    out
}

/// Appends compact JSON `raw` indented as Go's `json.Indent` with an
/// empty prefix and two-space indent, starting at nesting `depth` (the
/// first line is not indented: the caller has written the key).
pub(crate) fn write_indented(out: &mut String, raw: &str, depth: usize) {
    let bytes = raw.as_bytes();
    let mut depth = depth;
    let mut in_str = false;
    let mut escaped = false;
    // Whether the previous byte opened a container (to write `{}`/`[]`).
    let mut need_indent = false;
    let mut start = 0;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_str {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if need_indent && c != b']' && c != b'}' {
            out.push_str(&raw[start..i]);
            start = i;
            need_indent = false;
            depth += 1;
            newline(out, depth);
        }
        match c {
            b'"' => in_str = true,
            b'{' | b'[' => {
                need_indent = true;
                out.push_str(&raw[start..=i]);
                start = i + 1;
            }
            b',' => {
                out.push_str(&raw[start..=i]);
                start = i + 1;
                newline(out, depth);
            }
            b':' => {
                out.push_str(&raw[start..=i]);
                start = i + 1;
                out.push(' ');
            }
            b'}' | b']' => {
                out.push_str(&raw[start..i]);
                start = i;
                if need_indent {
                    need_indent = false;
                } else {
                    depth = depth.saturating_sub(1);
                    newline(out, depth);
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.push_str(&raw[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offset(s: &str) -> usize {
        match parse(s.as_bytes()) {
            Err(e) => e.offset,
            Ok(_) => 0,
        }
    }

    #[test]
    fn go_offsets() {
        assert_eq!(offset("not json\n"), 2);
        assert_eq!(offset("{\"version\":4\n"), 13);
        assert_eq!(offset("{\"a\":1} x\n"), 9);
        assert_eq!(offset(""), 0);
        assert_eq!(offset("[01]"), 3);
        assert_eq!(offset("\"a\nb\""), 3);
    }

    #[test]
    fn compact_and_indent() {
        let raw = RawJson::parse("{ \"a\" : [ ], \"b\":{},\"c\":[1.50e3, \"<\\/>\"] }").unwrap();
        assert_eq!(
            raw.as_str(),
            r#"{"a":[],"b":{},"c":[1.50e3,"\u003c\/\u003e"]}"#
        );
        let mut out = String::new();
        write_indented(&mut out, raw.as_str(), 1);
        assert_eq!(
            out,
            "{\n    \"a\": [],\n    \"b\": {},\n    \"c\": [\n      1.50e3,\n      \"\\u003c\\/\\u003e\"\n    ]\n  }"
        );
    }

    #[test]
    fn strings_escape_as_go() {
        assert_eq!(
            quote("a<b>&\u{2028}\u{8}\u{c}\u{1}é\"\\\n"),
            r#""a\u003cb\u003e\u0026\u2028\u0008\u000c\u0001é\"\\\n""#
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let s = "[".repeat(100_000);
        assert!(parse(s.as_bytes()).is_err());
    }
}
