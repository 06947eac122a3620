//! Writing format version 4 byte-for-byte as Terraform 1.0.3 does.

use crate::base64;
use crate::json::{quote, write_indented};
use crate::model::{Instance, Resource, StateFile, Status};

/// Serializes a state file exactly as Terraform 1.0.3 writes it: fixed key
/// order, two-space indentation, Go's string escaping, resources sorted by
/// module, mode, type and name (resources without instances kept, with
/// `"instances": []`),
/// instances by key then current before deposed, and a final newline.
/// `each` is not written (Terraform 1.0.3 drops it).
pub fn serialize(file: &StateFile) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str("{\n  \"version\": 4,\n  \"terraform_version\": ");
    out.push_str(&quote(&file.terraform_version));
    out.push_str(&format!(
        ",\n  \"serial\": {},\n  \"lineage\": ",
        file.serial
    ));
    out.push_str(&quote(&file.lineage));
    out.push_str(",\n  \"outputs\": {");
    let state = &file.state;
    for (i, (name, o)) in state.outputs.iter().enumerate() {
        out.push_str(if i == 0 { "\n    " } else { ",\n    " });
        out.push_str(&quote(name));
        out.push_str(": {\n      \"value\": ");
        write_indented(&mut out, o.value.as_str(), 3);
        out.push_str(",\n      \"type\": ");
        write_indented(&mut out, o.ty.as_str(), 3);
        if o.sensitive {
            out.push_str(",\n      \"sensitive\": true");
        }
        out.push_str("\n    }");
    }
    if !state.outputs.is_empty() {
        out.push_str("\n  ");
    }
    out.push_str("},\n  \"resources\": [");
    let mut resources: Vec<&Resource> = state.resources.iter().collect();
    resources.sort_by(|a, b| {
        (&a.module, a.mode, &a.type_, &a.name).cmp(&(&b.module, b.mode, &b.type_, &b.name))
    });
    for (i, r) in resources.iter().enumerate() {
        out.push_str(if i == 0 { "\n    {" } else { ",\n    {" });
        if !r.module.is_empty() {
            out.push_str("\n      \"module\": ");
            out.push_str(&quote(&r.module));
            out.push(',');
        }
        out.push_str("\n      \"mode\": ");
        out.push_str(&quote(r.mode.as_str()));
        out.push_str(",\n      \"type\": ");
        out.push_str(&quote(&r.type_));
        out.push_str(",\n      \"name\": ");
        out.push_str(&quote(&r.name));
        out.push_str(",\n      \"provider\": ");
        out.push_str(&quote(&r.provider));
        out.push_str(",\n      \"instances\": [");
        let mut instances: Vec<&Instance> = r.instances.iter().collect();
        instances.sort_by(|a, b| instance_cmp(a, b));
        for (j, inst) in instances.iter().enumerate() {
            out.push_str(if j == 0 {
                "\n        {"
            } else {
                ",\n        {"
            });
            write_instance(&mut out, inst);
            out.push_str("\n        }");
        }
        if !instances.is_empty() {
            out.push_str("\n      ");
        }
        out.push_str("]\n    }");
    }
    if !resources.is_empty() {
        out.push_str("\n  ");
    }
    out.push(']');
    if let Some(cr) = &state.check_results {
        out.push_str(",\n  \"check_results\": ");
        write_indented(&mut out, cr.as_str(), 1);
    }
    out.push_str("\n}\n");
    out
}

/// Terraform's instance order: no key, then by key (integers before
/// strings); the current object before deposed ones, deposed by key.
pub(crate) fn instance_cmp(a: &Instance, b: &Instance) -> std::cmp::Ordering {
    let key = match (&a.index_key, &b.index_key) {
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => x.sort_cmp(y),
    };
    key.then_with(|| a.deposed.cmp(&b.deposed))
}

fn write_instance(out: &mut String, inst: &Instance) {
    const IND: &str = "\n          ";
    let mut first = true;
    let mut field = |out: &mut String, name: &str| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str(IND);
        out.push('"');
        out.push_str(name);
        out.push_str("\": ");
    };
    if let Some(k) = &inst.index_key {
        field(out, "index_key");
        out.push_str(&k.to_string());
    }
    if inst.status == Status::Tainted {
        field(out, "status");
        out.push_str("\"tainted\"");
    }
    if let Some(d) = &inst.deposed {
        if !d.is_empty() {
            field(out, "deposed");
            out.push_str(&quote(d));
        }
    }
    field(out, "schema_version");
    out.push_str(&inst.schema_version.to_string());
    if let Some(a) = &inst.attributes {
        field(out, "attributes");
        write_indented(out, a.as_str(), 5);
    }
    if let Some(flat) = &inst.attributes_flat {
        if !flat.is_empty() {
            field(out, "attributes_flat");
            out.push('{');
            for (i, (k, v)) in flat.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str("\n            ");
                out.push_str(&quote(k));
                out.push_str(": ");
                out.push_str(&quote(v));
            }
            out.push_str("\n          }");
        }
    }
    field(out, "sensitive_attributes");
    match &inst.sensitive_attributes {
        Some(p) if !p.is_null() => write_indented(out, p.as_str(), 5),
        _ => out.push_str("[]"),
    }
    if let Some(p) = &inst.private {
        if !p.is_empty() {
            field(out, "private");
            out.push('"');
            out.push_str(&base64::encode(p));
            out.push('"');
        }
    }
    if !inst.dependencies.is_empty() {
        field(out, "dependencies");
        out.push('[');
        for (i, d) in inst.dependencies.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("\n            ");
            out.push_str(&quote(d));
        }
        out.push_str("\n          ]");
    }
    if inst.create_before_destroy {
        field(out, "create_before_destroy");
        out.push_str("true");
    }
}
