//! YAML encoding and decoding as Terraform's `yamlencode`/`yamldecode`:
//! block style with double-quoted strings and literal blocks for
//! multi-line strings (go-yaml v2's emitter layout), and YAML 1.1 scalar
//! resolution when decoding.

use std::collections::{BTreeMap, HashMap};

use terrane_value::{Kind, Number, Type, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

// ----- encoding -----

const BEST_WIDTH: usize = 80;

struct Enc {
    out: String,
    /// Column of the next character written on the current line.
    col: usize,
}

impl Enc {
    fn push(&mut self, s: &str) {
        for c in s.chars() {
            if c == '\n' {
                self.col = 0;
            } else {
                self.col += 1;
            }
        }
        self.out.push_str(s);
    }

    fn newline_indent(&mut self, indent: usize) {
        self.push("\n");
        self.push(&" ".repeat(indent));
    }
}

/// Encodes a wholly known value as a YAML document.
pub(crate) fn encode(v: &Value) -> Result<String, String> {
    if !v.is_wholly_known() {
        return Err("value is not known".into());
    }
    let mut e = Enc {
        out: String::new(),
        col: 0,
    };
    let plain_root = write_node(&mut e, v, 0, true)?;
    e.push("\n");
    if plain_root {
        e.push("...\n");
    }
    Ok(e.out)
}

fn is_empty_collection(v: &Value) -> Option<&'static str> {
    match v.kind() {
        Kind::List(es) | Kind::Set(es) | Kind::Tuple(es) if es.is_empty() => Some("[]"),
        Kind::Map(m) | Kind::Object(m) if m.is_empty() => Some("{}"),
        _ => None,
    }
}

/// Writes a node whose first character goes at the current position;
/// `indent` is the block indentation of the node. Returns whether it was
/// a plain scalar.
fn write_node(e: &mut Enc, v: &Value, indent: usize, root: bool) -> Result<bool, String> {
    if let Some(t) = is_empty_collection(v) {
        e.push(t);
        return Ok(!root);
    }
    match v.kind() {
        Kind::Unknown => Err("value is not known".into()),
        Kind::Null => {
            e.push("null");
            Ok(true)
        }
        Kind::Bool(b) => {
            e.push(if b { "true" } else { "false" });
            Ok(true)
        }
        Kind::Number(n) => {
            e.push(&n.to_text());
            Ok(true)
        }
        Kind::String(s) => {
            write_string(e, s, indent, false);
            Ok(false)
        }
        Kind::List(es) | Kind::Set(es) | Kind::Tuple(es) => {
            for (i, x) in es.iter().enumerate() {
                if i > 0 {
                    e.newline_indent(indent);
                }
                e.push("- ");
                write_child(e, x, indent + 2, true)?;
            }
            Ok(false)
        }
        Kind::Map(m) | Kind::Object(m) => {
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    e.newline_indent(indent);
                }
                if k.contains('\n') || k.chars().count() > 128 {
                    // complex key
                    e.push("? ");
                    write_string(e, k, indent, false);
                    e.newline_indent(indent);
                    e.push(":");
                } else {
                    write_string(e, k, indent, true);
                    e.push(":");
                }
                if is_empty_collection(x).is_none()
                    && matches!(x.kind(), Kind::Map(_) | Kind::Object(_))
                {
                    e.newline_indent(indent + 2);
                    write_node(e, x, indent + 2, false)?;
                } else if is_empty_collection(x).is_none()
                    && matches!(x.kind(), Kind::List(_) | Kind::Set(_) | Kind::Tuple(_))
                {
                    e.newline_indent(indent);
                    write_node(e, x, indent, false)?;
                } else {
                    e.push(" ");
                    write_node(e, x, indent, false)?;
                }
            }
            Ok(false)
        }
    }
}

/// A sequence item's content, written right after `- `.
fn write_child(e: &mut Enc, v: &Value, indent: usize, _seq: bool) -> Result<(), String> {
    if is_empty_collection(v).is_some() {
        write_node(e, v, indent, false)?;
        return Ok(());
    }
    match v.kind() {
        Kind::String(s) => write_string(e, s, indent - 2, false),
        Kind::List(_) | Kind::Set(_) | Kind::Tuple(_) | Kind::Map(_) | Kind::Object(_) => {
            write_node(e, v, indent, false)?;
        }
        _ => {
            write_node(e, v, indent, false)?;
        }
    }
    Ok(())
}

/// go-yaml's "printable" characters (others are escaped).
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0a
        || (0x20..=0x7e).contains(&u)
        || (0xa0..=0xd7ff).contains(&u)
        || ((0xe000..=0xfffd).contains(&u) && u != 0xfeff)
}

fn block_allowed(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    if chars.last() == Some(&' ') {
        return false;
    }
    for (i, &c) in chars.iter().enumerate() {
        if !is_printable(c) && c != '\n' {
            return false;
        }
        if c == '\u{feff}' {
            return false;
        }
        if c == ' ' && chars.get(i + 1) == Some(&'\n') {
            return false;
        }
    }
    true
}

/// Writes a string: a literal block when it has line breaks (and the
/// emitter allows one), else double-quoted with go-yaml's escapes and
/// folding of long lines at spaces. `indent` is the indentation of the
/// node that holds the string.
fn write_string(e: &mut Enc, s: &str, indent: usize, key: bool) {
    if s.contains('\n') && !key && block_allowed(s) {
        e.push("|");
        if s.starts_with(' ') || s.starts_with('\n') {
            e.push("2");
        }
        let chomp = if !s.ends_with('\n') {
            "-"
        } else if s == "\n" || s.ends_with("\n\n") {
            "+"
        } else {
            ""
        };
        e.push(chomp);
        e.push("\n");
        let body = indent + 2;
        let mut at_line_start = true;
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\n' {
                // the final line break is implied by the document end
                if chars.peek().is_some() {
                    e.push("\n");
                }
                at_line_start = true;
            } else {
                if at_line_start {
                    e.push(&" ".repeat(body));
                    at_line_start = false;
                }
                e.push(c.encode_utf8(&mut [0; 4]));
            }
        }
        if s.ends_with('\n') && s.len() > 1 && chomp == "+" {
            // keep trailing empty lines
        }
        // trim the trailing newline handled by the caller
        if e.out.ends_with('\n') && s.ends_with('\n') && chomp != "+" {
            // nothing: a clipped block's final newline is written by the caller
        }
        return;
    }
    e.push("\"");
    let chars: Vec<char> = s.chars().collect();
    let mut prev_space = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == ' ' {
            if !key && !prev_space && e.col > BEST_WIDTH && i > 0 && i < chars.len() - 1 {
                e.newline_indent(indent + 2);
                if chars.get(i + 1) == Some(&' ') {
                    e.push("\\");
                }
            } else {
                e.push(" ");
            }
            prev_space = true;
            i += 1;
            continue;
        }
        prev_space = false;
        let esc = match c {
            '\0' => Some("\\0".to_string()),
            '\u{7}' => Some("\\a".into()),
            '\u{8}' => Some("\\b".into()),
            '\t' => Some("\\t".into()),
            '\n' => Some("\\n".into()),
            '\u{b}' => Some("\\v".into()),
            '\u{c}' => Some("\\f".into()),
            '\r' => Some("\\r".into()),
            '\u{1b}' => Some("\\e".into()),
            '"' => Some("\\\"".into()),
            '\\' => Some("\\\\".into()),
            '\u{85}' => Some("\\N".into()),
            '\u{2028}' => Some("\\L".into()),
            '\u{2029}' => Some("\\P".into()),
            '\u{feff}' => Some("\\uFEFF".into()),
            c if !is_printable(c) => {
                let u = c as u32;
                Some(if u <= 0xff {
                    format!("\\x{u:02X}")
                } else if u <= 0xffff {
                    format!("\\u{u:04X}")
                } else {
                    format!("\\U{u:08X}")
                })
            }
            _ => None,
        };
        match esc {
            Some(x) => e.push(&x),
            None => e.push(c.encode_utf8(&mut [0; 4])),
        }
        i += 1;
    }
    e.push("\"");
}

// ----- decoding -----

/// Limit on decoded nodes, counting each alias as a copy of its anchor's
/// value (guards against exponential "billion laughs" documents).
const MAX_NODES: u64 = 10_000_000;

struct Dec<'a> {
    parser: Parser<std::str::Chars<'a>>,
    src: &'a str,
    /// Anchored values with their node counts.
    anchors: HashMap<usize, (Value, u64)>,
    /// Nodes produced so far, counting alias expansions.
    nodes: u64,
}

fn err_at(m: &Marker, msg: &str) -> String {
    let msg = match msg.strip_prefix("while parsing ") {
        Some(rest) => {
            // libyaml words parser problems as "did not find expected ..."
            let rest = rest.split_once(", ").map(|x| x.1).unwrap_or(rest);
            if let Some(e) = rest.strip_prefix("expected ") {
                format!("did not find expected {e}")
            } else {
                rest.to_string()
            }
        }
        // scanner problems are reported without a position
        None if !msg.starts_with("did not find")
            && !msg.contains("document")
            && !msg.contains("after value")
            && !msg.contains("NaN") =>
        {
            return msg.to_string()
        }
        None => msg.to_string(),
    };
    format!(
        "on line {}, column {}: {msg}",
        m.line().saturating_sub(1).max(1),
        m.col() + 1
    )
}

/// Decodes a single YAML document to a value (objects and tuples; a null
/// document gives a dynamic null).
pub(crate) fn decode(src: &str) -> Result<Value, String> {
    let mut d = Dec {
        parser: Parser::new_from_str(src),
        src,
        anchors: HashMap::new(),
        nodes: 0,
    };
    // stream start
    d.next()?;
    let (ev, m) = d.next()?;
    match ev {
        Event::DocumentStart => {}
        Event::StreamEnd => return Err(err_at(&m, "missing start of document")),
        _ => return Err(err_at(&m, "did not find expected node content")),
    }
    let (ev, m) = d.next()?;
    let v = d.node(ev, m)?;
    // document end
    let (ev, _) = d.next()?;
    if !matches!(ev, Event::DocumentEnd) {
        return Err("unexpected event after value".into());
    }
    let (ev, m) = d.next()?;
    if !matches!(ev, Event::StreamEnd) {
        return Err(err_at(&m, "unexpected extra content after value"));
    }
    Ok(v)
}

impl<'a> Dec<'a> {
    fn next(&mut self) -> Result<(Event, Marker), String> {
        self.parser.next_token().map_err(|e| {
            let m = e.marker();
            let info = e.info();
            let info = if info.contains("unknown anchor") {
                let name: String = self
                    .src
                    .chars()
                    .skip(m.index() + 1)
                    .take_while(|c| !c.is_whitespace() && !",[]{}".contains(*c))
                    .collect();
                return format!("reference to undefined anchor \"{name}\"");
            } else {
                info.to_string()
            };
            err_at(m, &info)
        })
    }

    fn node(&mut self, ev: Event, m: Marker) -> Result<Value, String> {
        let start = self.nodes;
        self.nodes += 1;
        match ev {
            Event::Alias(id) => {
                let (v, n) = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| err_at(&m, "unknown anchor"))?;
                self.nodes = self.nodes.saturating_add(n);
                if self.nodes > MAX_NODES {
                    return Err("document contains excessive aliasing".into());
                }
                Ok(v)
            }
            Event::Scalar(text, style, anchor, tag) => {
                let v = resolve_scalar(&text, style, tag.as_ref()).map_err(|e| err_at(&m, &e))?;
                if anchor > 0 {
                    self.anchors.insert(anchor, (v.clone(), self.nodes - start));
                }
                Ok(v)
            }
            Event::SequenceStart(anchor, _tag) => {
                let mut elems = Vec::new();
                loop {
                    let (ev, m) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    elems.push(self.node(ev, m)?);
                }
                let v = Value::tuple(elems);
                if anchor > 0 {
                    self.anchors.insert(anchor, (v.clone(), self.nodes - start));
                }
                Ok(v)
            }
            Event::MappingStart(anchor, tag) => {
                if let Some(t) = &tag {
                    let full = tag_name(t);
                    if full.starts_with('!') && !full.starts_with("!!") {
                        return Err(format!(
                            "unsupported tag {}",
                            super::format::go_quote(&full)
                        ));
                    }
                    if full != "tag:yaml.org,2002:map" {
                        return Err(format!("can't interpret mapping as {full}"));
                    }
                }
                let mut attrs: BTreeMap<String, Value> = BTreeMap::new();
                loop {
                    let (ev, km) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let is_merge =
                        matches!(&ev, Event::Scalar(t, TScalarStyle::Plain, _, None) if t == "<<");
                    let k = self.node(ev, km)?;
                    let (vev, vm) = self.next()?;
                    let v = self.node(vev, vm)?;
                    if is_merge {
                        match v.kind() {
                            Kind::Object(m) | Kind::Map(m) => {
                                for (a, b) in m {
                                    attrs.entry(a.clone()).or_insert_with(|| b.clone());
                                }
                                continue;
                            }
                            Kind::Tuple(items) => {
                                for it in items {
                                    if let Some(m) = it.as_map() {
                                        for (a, b) in m {
                                            attrs.entry(a.clone()).or_insert_with(|| b.clone());
                                        }
                                    }
                                }
                                continue;
                            }
                            _ => {
                                return Err(
                                    "map merge requires map or sequence of maps as the value"
                                        .into(),
                                )
                            }
                        }
                    }
                    let key = match k.kind() {
                        Kind::Null => return Err("mapping key cannot be null".into()),
                        Kind::String(s) => s.to_string(),
                        Kind::Number(n) => n.to_text(),
                        Kind::Bool(b) => b.to_string(),
                        _ => return Err("only strings are allowed as mapping keys".into()),
                    };
                    attrs.insert(key, v);
                }
                let v = Value::object(attrs);
                if anchor > 0 {
                    self.anchors.insert(anchor, (v.clone(), self.nodes - start));
                }
                Ok(v)
            }
            _ => Err(err_at(&m, "did not find expected node content")),
        }
    }
}

fn tag_name(t: &Tag) -> String {
    if t.handle == "!!" {
        format!("tag:yaml.org,2002:{}", t.suffix)
    } else {
        format!("{}{}", t.handle, t.suffix)
    }
}

fn resolve_scalar(text: &str, style: TScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    if style != TScalarStyle::Plain {
        return Ok(Value::string(text));
    }
    if let Some(t) = tag {
        let name = tag_name(t);
        return match name.as_str() {
            "tag:yaml.org,2002:str" | "tag:yaml.org,2002:binary" => Ok(Value::string(text)),
            "tag:yaml.org,2002:null" => Ok(Value::null_dynamic()),
            "tag:yaml.org,2002:bool" => match resolve_plain(text)? {
                v if v.ty() == &Type::Bool => Ok(v),
                _ => Err(format!("cannot decode {text:?} as bool")),
            },
            "tag:yaml.org,2002:int" | "tag:yaml.org,2002:float" => match resolve_plain(text)? {
                v if v.ty() == &Type::Number => Ok(v),
                _ => Err(format!("cannot decode {text:?} as number")),
            },
            "tag:yaml.org,2002:timestamp" => match timestamp(text) {
                Some(s) => Ok(Value::string(s)),
                None => Ok(Value::string(text)),
            },
            _ if name.starts_with("tag:yaml.org,2002:") => Ok(Value::string(text)),
            _ => Err(format!(
                "unsupported tag {}",
                super::format::go_quote(&name)
            )),
        };
    }
    resolve_plain(text)
}

fn resolve_plain(text: &str) -> Result<Value, String> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::null_dynamic()),
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Ok(Value::bool(true))
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Ok(Value::bool(false))
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Ok(Value::number(Number::infinity(false)))
        }
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Value::number(Number::infinity(true))),
        ".nan" | ".NaN" | ".NAN" => return Err("floating point NaN is not supported".into()),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        if let Some(n) = parse_int(text)? {
            return Ok(Value::number(n));
        }
        if is_float(text) {
            if let Ok(n) = Number::parse(text.trim_start_matches('+')) {
                return Ok(Value::number(n));
            }
        }
        if let Some(ts) = timestamp(text) {
            return Ok(Value::string(ts));
        }
    }
    Ok(Value::string(text))
}

/// Integers as Terraform's YAML resolver reads them: decimal (with
/// underscores, leading zeros ignored), `0x` hexadecimal and `0o` octal.
/// `Err` for a hexadecimal or octal literal too large for 64 bits.
fn parse_int(text: &str) -> Result<Option<Number>, String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (radix, digits) = if let Some(r) = body.strip_prefix("0x") {
        (16, r)
    } else if let Some(r) = body.strip_prefix("0o") {
        (8, r)
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_digit(radix)) {
        return Ok(None);
    }
    if !digits.chars().all(|c| c == '_' || c.is_digit(radix)) {
        return Ok(None);
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    let Some(v) = num_bigint::BigInt::parse_bytes(clean.as_bytes(), radix) else {
        return Ok(None);
    };
    let v = if neg { -v } else { v };
    if radix != 10 && (v.bits() > 64 || (v.bits() == 64 && neg)) {
        return Err(format!(
            "cannot parse {} as tag:yaml.org,2002:int",
            super::format::go_quote(text)
        ));
    }
    Ok(Some(Number::from_bigint(&v)))
}

fn is_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let fs = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if int_digits == 0 && i == fs {
            return false;
        }
    } else if int_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let es = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == es {
            return false;
        }
    }
    i == b.len()
}

/// YAML timestamps (`2001-12-14`, `2001-12-14t21:59:43.10-05:00`,
/// `2001-12-14 21:59:43.10`) as RFC 3339 text.
fn timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let num = |from: usize, min: usize, max: usize| -> Option<(i64, usize)> {
        let mut i = from;
        while i < b.len() && b[i].is_ascii_digit() && i - from < max {
            i += 1;
        }
        if i - from < min {
            return None;
        }
        Some((s[from..i].parse().ok()?, i))
    };
    let (y, i) = num(0, 4, 4)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    let (mo, i) = num(i + 1, 1, 2)?;
    if b.get(i) != Some(&b'-') {
        return None;
    }
    let (d, mut i) = num(i + 1, 1, 2)?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let (mut h, mut mi, mut se) = (0, 0, 0);
    let mut offset: i64 = 0;
    if i < b.len() {
        if !matches!(b[i], b'T' | b't' | b' ' | b'\t') {
            return None;
        }
        i += 1;
        while i < b.len() && matches!(b[i], b' ' | b'\t') {
            i += 1;
        }
        let (hh, j) = num(i, 1, 2)?;
        if b.get(j) != Some(&b':') {
            return None;
        }
        let (mm, j) = num(j + 1, 2, 2)?;
        if b.get(j) != Some(&b':') {
            return None;
        }
        let (ss, mut j) = num(j + 1, 2, 2)?;
        if b.get(j) == Some(&b'.') {
            j += 1;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
        }
        while j < b.len() && matches!(b[j], b' ' | b'\t') {
            j += 1;
        }
        if j < b.len() {
            if b[j] == b'Z' {
                j += 1;
            } else if b[j] == b'+' || b[j] == b'-' {
                let sign = if b[j] == b'-' { -1 } else { 1 };
                let (oh, k) = num(j + 1, 1, 2)?;
                let mut om = 0;
                let mut k = k;
                if b.get(k) == Some(&b':') {
                    let (m2, k2) = num(k + 1, 2, 2)?;
                    om = m2;
                    k = k2;
                }
                offset = sign * (oh * 3600 + om * 60);
                j = k;
            } else {
                return None;
            }
        }
        if j != b.len() || hh > 23 || mm > 59 || ss > 60 {
            return None;
        }
        h = hh;
        mi = mm;
        se = ss;
    }
    let days = super::datetime::days_from_civil(y, mo, d);
    let t = super::datetime::Time {
        secs: days * 86400 + h * 3600 + mi * 60 + se - offset,
        nanos: 0,
        offset: offset as i32,
    };
    Some(super::datetime::format_rfc3339(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: Value) -> String {
        encode(&v).unwrap()
    }

    #[test]
    fn encode_layout() {
        assert_eq!(enc(Value::string("x")), "\"x\"\n");
        assert_eq!(enc(Value::from_i64(1)), "1\n...\n");
        assert_eq!(enc(Value::string("multi\nline")), "|-\n  multi\n  line\n");
        assert_eq!(enc(Value::string("a\n")), "|\n  a\n");
        assert_eq!(enc(Value::string(" lead\nx")), "|2-\n   lead\n  x\n");
        assert_eq!(enc(Value::string("😀\nx")), "\"\\U0001F600\\nx\"\n");
        assert_eq!(enc(Value::empty_tuple()), "[]\n");
        let v = Value::object_from([
            (
                "a",
                Value::tuple(vec![
                    Value::from_i64(1),
                    Value::object_from([("b", Value::from_i64(2))]),
                ]),
            ),
            ("c", Value::empty_object()),
        ]);
        assert_eq!(enc(v), "\"a\":\n- 1\n- \"b\": 2\n\"c\": {}\n");
        let v = Value::tuple(vec![
            Value::tuple(vec![Value::bool(false), Value::string("a b c")]),
            Value::from_i64(-3),
        ]);
        assert_eq!(enc(v), "- - false\n  - \"a b c\"\n- -3\n");
        let v = Value::object_from([(
            "a",
            Value::object_from([(
                "b",
                Value::tuple(vec![
                    Value::string("x"),
                    Value::object_from([("c", Value::string("l1\nl2"))]),
                ]),
            )]),
        )]);
        assert_eq!(
            enc(v),
            "\"a\":\n  \"b\":\n  - \"x\"\n  - \"c\": |-\n      l1\n      l2\n"
        );
        let long = "aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg hhhhhhhhh iiiiiiiii jjjjjjjjj kkkkkkkkk";
        assert_eq!(
            enc(Value::object_from([("k", Value::string(long))])),
            "\"k\": \"aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggggg hhhhhhhhh\n  iiiiiiiii jjjjjjjjj kkkkkkkkk\"\n"
        );
    }

    #[test]
    fn decode_values() {
        let v = decode("a: 1\nb: [x, y]").unwrap();
        assert_eq!(
            terrane_value::format_console(&v),
            "{\n  \"a\" = 1\n  \"b\" = [\n    \"x\",\n    true,\n  ]\n}"
        );
        assert_eq!(
            decode("2001-12-14").unwrap().as_str(),
            Some("2001-12-14T00:00:00Z")
        );
        assert_eq!(
            decode("2001-12-14t21:59:43.10-05:00").unwrap().as_str(),
            Some("2001-12-14T21:59:43-05:00")
        );
        assert_eq!(decode("!!str 123").unwrap().as_str(), Some("123"));
        assert_eq!(
            decode("a: &x 1\nb: *x")
                .unwrap()
                .get_attr("b")
                .unwrap()
                .as_number()
                .unwrap()
                .to_text(),
            "1"
        );
        assert_eq!(
            decode("a: *b").unwrap_err(),
            "reference to undefined anchor \"b\""
        );
        assert_eq!(
            decode("{1: a, true: b, null: c}").unwrap_err(),
            "mapping key cannot be null"
        );
        assert_eq!(decode("0x1F").unwrap().as_number().unwrap().to_text(), "31");
        assert!(decode("~").unwrap().is_null());
    }
}
