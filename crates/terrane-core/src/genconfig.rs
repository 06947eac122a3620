//! `plan -generate-config-out=FILE`: HCL for the objects `import` blocks
//! bring in whose resources have no configuration, in Terraform 1.5's
//! layout (header comments, arguments the configuration may set with the
//! imported values, `null` for unset ones, nested blocks), formatted as
//! `fmt` formats it.
//!
//! Which attributes appear: required and optional ones (also
//! optional+computed, as their imported value is the best guess), not
//! computed-only ones, and not a computed `id` (providers set it).
//! Sensitive values are left out (`null # sensitive`); empty strings are
//! written as `null`, as Terraform does.

use crate::import::ImportedObject;
use std::fmt::Write as _;
use terrane_hcl::{Diagnostics, SourceFile};
use terrane_plugin::{Attribute, Block, NestingMode};
use terrane_value::{Kind, Value};

/// The first lines of a generated file.
const FILE_HEADER: &str = "# __generated__ by Terraform\n# Please review these resources and move them into your main configuration files.\n";

/// The formatted text of a file holding a resource block per object.
pub fn generate(objects: &[&ImportedObject]) -> Result<String, Diagnostics> {
    let mut text = String::from(FILE_HEADER);
    for obj in objects {
        text.push('\n');
        text.push_str(&resource_block(obj));
    }
    let file = SourceFile::new("generated.tf", text);
    terrane_hcl::format::format_terraform(&file)
}

/// One object's `resource` block (not yet aligned).
pub fn resource_block(obj: &ImportedObject) -> String {
    let r = &obj.addr.resource;
    let mut out = String::new();
    // A comment: no template escapes, but no line break either.
    let id = format!("{:?}", obj.id);
    let _ = writeln!(out, "# __generated__ by Terraform from {id}");
    let _ = writeln!(
        out,
        "resource {} {} {{",
        quote(&r.type_name),
        quote(&r.name)
    );
    body(&mut out, &obj.schema.block, &obj.value, 1, true);
    out.push_str("}\n");
    out
}

fn body(out: &mut String, block: &Block, value: &Value, depth: usize, top: bool) {
    let indent = "  ".repeat(depth);
    for (name, attr) in &block.attributes {
        if !configurable(name, attr, top) {
            continue;
        }
        let v = value
            .get_attr(name)
            .map(|v| v.unmark_deep_value())
            .unwrap_or_else(Value::null_dynamic);
        let _ = write!(out, "{indent}{name} = ");
        if attr.sensitive || value.get_attr(name).is_some_and(|v| v.is_sensitive()) {
            out.push_str("null # sensitive\n");
            continue;
        }
        // An empty string is how legacy-SDK providers report an unset
        // string; Terraform writes it as null.
        if v.as_str() == Some("") {
            out.push_str("null\n");
            continue;
        }
        literal(out, &v, depth);
        out.push('\n');
    }
    for (name, nb) in &block.block_types {
        let v = value
            .get_attr(name)
            .map(|v| v.unmark_deep_value())
            .unwrap_or_else(Value::null_dynamic);
        if v.is_null() || !v.is_known() {
            continue;
        }
        let mut emit = |label: Option<&str>, el: &Value| {
            let _ = write!(out, "{indent}{name} ");
            if let Some(l) = label {
                let _ = write!(out, "{} ", quote(l));
            }
            out.push_str("{\n");
            body(out, &nb.block, el, depth + 1, false);
            let _ = writeln!(out, "{indent}}}");
        };
        match (nb.nesting, v.kind()) {
            (NestingMode::Single | NestingMode::Group, _) => emit(None, &v),
            (NestingMode::Map, Kind::Map(m) | Kind::Object(m)) => {
                for (k, el) in m.iter() {
                    emit(Some(k), el);
                }
            }
            (_, Kind::List(es) | Kind::Set(es) | Kind::Tuple(es)) => {
                for el in es.iter() {
                    emit(None, el);
                }
            }
            _ => {}
        }
    }
}

/// Whether the configuration may set an attribute.
fn configurable(name: &str, attr: &Attribute, top: bool) -> bool {
    if !(attr.required || attr.optional) {
        return false;
    }
    // The provider's own identifier, never written in configuration.
    !(top && name == "id" && attr.computed)
}

/// `v` as an HCL literal; nested objects and maps open on new lines at
/// `depth + 1`.
fn literal(out: &mut String, v: &Value, depth: usize) {
    if v.is_null() {
        out.push_str("null");
        return;
    }
    if !v.is_known() {
        // Not expected in an imported object; the argument is left unset.
        out.push_str("null");
        return;
    }
    if let Some(s) = v.as_str() {
        out.push_str(&quote(s));
        return;
    }
    if let Some(b) = v.as_bool() {
        out.push_str(if b { "true" } else { "false" });
        return;
    }
    if let Some(n) = v.as_number() {
        out.push_str(&n.to_string());
        return;
    }
    match v.kind() {
        Kind::List(es) | Kind::Set(es) | Kind::Tuple(es) => {
            out.push('[');
            for (i, e) in es.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                literal(out, e, depth);
            }
            out.push(']');
        }
        Kind::Map(m) | Kind::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            let inner = "  ".repeat(depth + 1);
            out.push_str("{\n");
            for (k, e) in m.iter() {
                let key = if is_identifier(k) {
                    k.to_string()
                } else {
                    quote(k)
                };
                let _ = write!(out, "{inner}{key} = ");
                literal(out, e, depth + 1);
                out.push('\n');
            }
            let _ = write!(out, "{}}}", "  ".repeat(depth));
        }
        _ => out.push_str("null"),
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// A quoted HCL string: JSON-style escapes, and `${`/`%{` doubled so they
/// stay literal text.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
