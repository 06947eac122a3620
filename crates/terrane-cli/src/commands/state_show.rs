//! `state show`'s rendering of one object: `# ADDR:` and the resource
//! block with its attributes, four-space indented and `=`-aligned as
//! Terraform 1.0.3 prints them. Rendered from the state's JSON alone (no
//! provider schema): null attributes are left out, JSON objects print as
//! maps with quoted keys, sensitive paths as `(sensitive value)`.

use terrane_state::{Instance, Mode, Resource, Status};

/// The text `state show` prints for `obj` of `r` at `address`.
pub fn render_instance(address: &str, r: &Resource, obj: &Instance) -> String {
    let mut out = format!("# {address}:");
    if obj.status == Status::Tainted {
        out.push_str(" (tainted)");
    }
    out.push('\n');
    let kind = if r.mode == Mode::Data {
        "data"
    } else {
        "resource"
    };
    out.push_str(&format!(
        "{kind} {} {} {{\n",
        quote(&r.type_),
        quote(&r.name)
    ));
    let attrs: serde_json::Value = obj
        .attributes
        .as_ref()
        .and_then(|a| serde_json::from_str(a.as_str()).ok())
        .unwrap_or(serde_json::Value::Null);
    let sensitive = sensitive_top_level(obj);
    if let serde_json::Value::Object(map) = &attrs {
        let mut names: Vec<&String> = map
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, _)| k)
            .collect();
        names.sort();
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        for n in names {
            let value = if sensitive.contains(n) {
                "(sensitive value)".to_string()
            } else {
                value_text(&map[n], 1)
            };
            out.push_str(&format!(
                "    {n}{} = {value}\n",
                " ".repeat(width - n.chars().count())
            ));
        }
    }
    out.push_str("}\n");
    out
}

/// Top-level attribute names marked sensitive as a whole.
fn sensitive_top_level(obj: &Instance) -> Vec<String> {
    let Some(paths) = obj
        .sensitive_attributes
        .as_ref()
        .and_then(|p| serde_json::from_str::<serde_json::Value>(p.as_str()).ok())
    else {
        return Vec::new();
    };
    paths
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|path| {
            let step = path.as_array()?.first()?;
            (step.get("type")?.as_str()? == "get_attr")
                .then(|| step.get("value")?.as_str().map(str::to_string))?
        })
        .collect()
}

/// A string as Terraform displays it (Go's `%q`): backslash escapes for
/// quotes, backslashes and control characters; `<`, `>`, `&` and
/// non-ASCII text as they are.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn value_text(v: &serde_json::Value, depth: usize) -> String {
    let pad = "    ".repeat(depth + 1);
    let close = "    ".repeat(depth);
    match v {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => {
            if s.contains('\n') {
                let mut t = String::from("<<-EOT\n");
                for line in s.trim_end_matches('\n').split('\n') {
                    t.push_str(&format!("{pad}{line}\n"));
                }
                t.push_str(&format!("{close}EOT"));
                t
            } else {
                quote(s)
            }
        }
        serde_json::Value::Array(items) => {
            if items.is_empty() {
                return "[]".into();
            }
            let mut t = String::from("[\n");
            for item in items {
                t.push_str(&format!("{pad}{},\n", value_text(item, depth + 1)));
            }
            t.push_str(&format!("{close}]"));
            t
        }
        serde_json::Value::Object(map) => {
            if map.is_empty() {
                return "{}".into();
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let width = keys
                .iter()
                .map(|k| quote(k).chars().count())
                .max()
                .unwrap_or(0);
            let mut t = String::from("{\n");
            for k in keys {
                let q = quote(k);
                t.push_str(&format!(
                    "{pad}{q}{} = {}\n",
                    " ".repeat(width - q.chars().count()),
                    value_text(&map[k], depth + 1)
                ));
            }
            t.push_str(&format!("{close}}}"));
            t
        }
    }
}
