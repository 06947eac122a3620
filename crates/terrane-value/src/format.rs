//! Display of values exactly as `terraform console` (v1.0.3) prints them.

use crate::value::{Kind, Value};
use crate::Type;

/// Formats a value as `terraform console` prints a result (without the
/// final newline the console adds).
///
/// * unknown anywhere: `(known after apply)`; marked anywhere: `(sensitive)`
/// * null: `null` (dynamic), `tostring(null)`, `tonumber(null)`,
///   `tobool(null)`, `tolist(null) /* of string */`, `null /* object */`...
/// * strings quoted with Go-style escapes; strings containing a newline as
///   a heredoc (`<<EOT` at top level, `<<-EOT` indented inside collections)
/// * lists `tolist([...])`, sets `toset([...])`, tuples `[...]`, maps
///   `tomap({...})`, objects `{...}`, one element per line, two spaces of
///   indentation per level, trailing commas in sequences, `"key" = value`.
pub fn format_console(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v, 0);
    out
}

fn null_text(ty: &Type) -> String {
    match ty {
        Type::Dynamic => "null".into(),
        Type::String => "tostring(null)".into(),
        Type::Number => "tonumber(null)".into(),
        Type::Bool => "tobool(null)".into(),
        Type::List(e) => format!("tolist(null) /* of {} */", e.friendly_name()),
        Type::Set(e) => format!("toset(null) /* of {} */", e.friendly_name()),
        Type::Map(e) => format!("tomap(null) /* of {} */", e.friendly_name()),
        other => format!("null /* {} */", other.friendly_name()),
    }
}

fn indent_to(out: &mut String, n: usize) {
    for _ in 0..n {
        out.push(' ');
    }
}

fn write_value(out: &mut String, v: &Value, indent: usize) {
    if !v.is_known() {
        out.push_str("(known after apply)");
        return;
    }
    if v.is_marked() {
        out.push_str("(sensitive)");
        return;
    }
    match v.kind() {
        Kind::Null => out.push_str(&null_text(v.ty())),
        Kind::Unknown => out.push_str("(known after apply)"),
        Kind::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Kind::Number(n) => out.push_str(&n.to_text()),
        Kind::String(s) => {
            if s.contains('\n') {
                write_heredoc(out, s, indent);
            } else {
                out.push_str(&quote_string(s));
            }
        }
        Kind::List(es) => {
            out.push_str("tolist(");
            write_seq(out, es, indent);
            out.push(')');
        }
        Kind::Set(es) => {
            out.push_str("toset(");
            write_seq(out, es, indent);
            out.push(')');
        }
        Kind::Tuple(es) => write_seq(out, es, indent),
        Kind::Map(m) => {
            out.push_str("tomap(");
            write_mapping(out, m, indent);
            out.push(')');
        }
        Kind::Object(m) => write_mapping(out, m, indent),
    }
}

fn write_seq(out: &mut String, es: &[Value], indent: usize) {
    if es.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push_str("[\n");
    for e in es {
        indent_to(out, indent + 2);
        write_value(out, e, indent + 2);
        out.push_str(",\n");
    }
    indent_to(out, indent);
    out.push(']');
}

fn write_mapping(out: &mut String, m: &crate::ValueMap, indent: usize) {
    if m.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{\n");
    for (k, e) in m {
        indent_to(out, indent + 2);
        // Keys print like string values: multi-line ones as heredocs.
        if k.contains('\n') {
            write_heredoc(out, k, indent + 2);
        } else {
            out.push_str(&quote_string(k));
        }
        out.push_str(" = ");
        write_value(out, e, indent + 2);
        out.push('\n');
    }
    indent_to(out, indent);
    out.push('}');
}

fn write_heredoc(out: &mut String, s: &str, indent: usize) {
    let lines: Vec<&str> = s.split('\n').collect();
    let mut delim = String::from("EOT");
    while lines.iter().any(|l| l.trim() == delim) {
        delim.push('_');
    }
    out.push_str(if indent > 0 { "<<-" } else { "<<" });
    out.push_str(&delim);
    for l in &lines {
        out.push('\n');
        indent_to(out, indent);
        out.push_str(l);
    }
    out.push('\n');
    indent_to(out, indent);
    out.push_str(&delim);
}

/// Quotes a string as Go's `strconv.Quote` does (the console's string
/// display): `\"`, `\\`, `\n`, `\t`, ..., `\x1b` for other ASCII controls,
/// `\uXXXX` / `\UXXXXXXXX` for non-printable characters; printable
/// non-ASCII characters as they are.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            // DEL is the one ASCII control the console writes as \u007f.
            '\u{7f}' => out.push_str("\\u007f"),
            c if is_go_printable(c) => out.push(c),
            c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Approximation of Go's `unicode.IsPrint`: false for control, format,
/// separator (other than ASCII space), private-use and non-characters.
pub fn is_go_printable(c: char) -> bool {
    let u = c as u32;
    if (0x20..0x7f).contains(&u) {
        return true;
    }
    if u < 0xa1 {
        return false;
    }
    !matches!(u,
        0xad
        | 0x600..=0x605
        | 0x61c
        | 0x6dd
        | 0x70f
        | 0x1680
        | 0x180e
        | 0x2000..=0x200f
        | 0x2028..=0x202f
        | 0x205f..=0x206f
        | 0x3000
        | 0xd800..=0xf8ff
        | 0xfdd0..=0xfdef
        | 0xfeff
        | 0xfff9..=0xfffb
        | 0xfffe..=0xffff
        | 0x110bd
        | 0x1d173..=0x1d17a
        | 0xe0001
        | 0xe0020..=0xe007f
        | 0xf0000..=0x10ffff)
        && (u & 0xfffe) != 0xfffe
}

/// True if `s` is a valid HCL identifier (letters, digits, `_`, `-`; not
/// starting with a digit or `-`).
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
