//! `show [-json] [FILE]`: the state, or a saved plan, for people (the
//! plan as `plan` prints it, the state as `state show` prints each
//! object) or as Terraform's JSON representation.

use crate::cli::Flags;
use crate::commands::statefile;
use crate::ui::Ui;
use std::io::Write;
use terrane_hcl::Diagnostic;
use terrane_state::Backup;

pub fn run(args: &[String], ui: &Ui) -> i32 {
    let flags = match Flags::parse(args, &["json", "no-color"], &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let json = match flags.bool("json", false) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if flags.positional.len() > 1 {
        eprintln!(
            "The show command expects at most one argument, the path to a plan file or state file."
        );
        return 1;
    }
    let Ok(current) = statefile::read_current(None, ui) else {
        return 1;
    };
    let mut out = std::io::stdout().lock();
    let Some(file) = flags.positional.first() else {
        let text = if json {
            let mut s = terrane_core::render::json_plan::state_json(current.as_ref()).to_string();
            s.push('\n');
            s
        } else {
            state_text(current.as_ref(), ui.color)
        };
        let _ = out.write_all(text.as_bytes());
        return 0;
    };
    // A state file given by path.
    if !terrane_core::planfile::is_plan_file(std::path::Path::new(file)) {
        return show_state_file(file, json, ui);
    }
    let (pf, _factory) = match super::saved_plan::load(file, ui) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if super::saved_plan::is_stale(&pf, current.as_ref()) {
        ui.diagnostics([&Diagnostic::error(
            "Saved plan is stale",
            "The given plan file can no longer be applied because the state was changed by another operation after the plan was created.",
        )]);
        // Terraform's show ends its errors with one more blank line.
        eprintln!();
        return 1;
    }
    if json {
        let tree = match super::saved_plan::snapshot_tree(&pf) {
            Ok(t) => t,
            Err(d) => {
                ui.diagnostics(d.iter());
                return 1;
            }
        };
        let j = terrane_core::render::json_plan::plan_json(
            &pf.plan,
            &pf.variables,
            current.as_ref(),
            &tree,
        );
        let _ = out.write_all(format!("{j}\n").as_bytes());
    } else {
        let _ = out.write_all(crate::planfmt::plan_text(&pf.plan, ui.color).as_bytes());
    }
    0
}

fn show_state_file(file: &str, json: bool, ui: &Ui) -> i32 {
    let path = std::path::Path::new(file);
    if !path.exists() {
        ui.diagnostics([&Diagnostic::error(
            "Failed to read the given file as a state or plan file",
            format!("The file {file:?} does not exist."),
        )]);
        return 1;
    }
    // Neither a plan nor a readable state: both reasons, as Terraform
    // gives them.
    let mut probe = terrane_state::LocalState::new(terrane_state::LocalStateOptions::new(path));
    if let Err(e) = probe.refresh() {
        let plan_error = match std::fs::File::open(path).map(zip_ok) {
            Ok(true) => "the archive is not a plan file".to_string(),
            _ => "zip: not a valid zip file".to_string(),
        };
        eprintln!(
            "Terraform couldn't read the given file as a state or plan file.\nThe errors while attempting to read the file as each format are\nshown below.\n\nState read error: Error reading {file} as a statefile: {e}\n\nPlan read error: {plan_error}"
        );
        return 1;
    }
    let Some(open) = statefile::open(path, Backup::Disabled, None, "", ui) else {
        return 1;
    };
    let current = open.file().cloned();
    open.close();
    let text = if json {
        format!(
            "{}\n",
            terrane_core::render::json_plan::state_json(current.as_ref())
        )
    } else {
        state_text(current.as_ref(), ui.color)
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    0
}

/// An output value as `show` prints it: lists and maps one element a
/// line, four-space indented, map keys quoted and aligned, object
/// attributes aligned, multi-line strings as heredocs.
fn show_value(v: &terrane_value::Value, indent: usize) -> String {
    use terrane_value::Kind;
    let pad = " ".repeat(indent);
    let inner = " ".repeat(indent + 4);
    match v.kind() {
        Kind::Null | Kind::Unknown => "null".to_string(),
        Kind::Bool(b) => b.to_string(),
        Kind::Number(n) => n.to_string(),
        Kind::String(s) if s.contains('\n') => {
            let mut out = String::from("<<-EOT\n");
            for line in s.trim_end_matches('\n').split('\n') {
                out.push_str(&format!("{inner}{line}\n"));
            }
            out.push_str(&format!("{pad}EOT"));
            out
        }
        Kind::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Kind::List(xs) | Kind::Set(xs) | Kind::Tuple(xs) => {
            if xs.is_empty() {
                return "[]".to_string();
            }
            let mut out = String::from("[\n");
            for x in xs {
                out.push_str(&format!("{inner}{},\n", show_value(x, indent + 4)));
            }
            out.push_str(&format!("{pad}]"));
            out
        }
        Kind::Map(m) | Kind::Object(m) => {
            if m.is_empty() {
                return "{}".to_string();
            }
            let quoted = matches!(v.kind(), Kind::Map(_));
            let keys: Vec<String> = m
                .keys()
                .map(|k| {
                    if quoted {
                        serde_json::to_string(k).unwrap_or_default()
                    } else {
                        k.clone()
                    }
                })
                .collect();
            let width = keys.iter().map(|k| k.chars().count()).max().unwrap_or(0);
            let mut out = String::from("{\n");
            for (k, x) in keys.iter().zip(m.values()) {
                let gap = " ".repeat(width - k.chars().count());
                out.push_str(&format!(
                    "{inner}{k}{gap} = {}\n",
                    show_value(x, indent + 4)
                ));
            }
            out.push_str(&format!("{pad}}}"));
            out
        }
    }
}

/// Whether a file opens as a zip archive.
fn zip_ok(f: std::fs::File) -> bool {
    zip::ZipArchive::new(f).is_ok()
}

/// Every object in state as `state show` prints it, then the outputs.
fn state_text(state: Option<&terrane_state::StateFile>, _color: bool) -> String {
    let Some(sf) = state else {
        return "No state.\n".to_string();
    };
    let s = &sf.state;
    if s.resources.is_empty() && s.outputs.is_empty() {
        return "\n".to_string();
    }
    let mut out = String::new();
    // Root module first, then each module by address; a blank line after
    // each module other than the root, as Terraform lays it out.
    let mut modules: Vec<&str> = s.resources.iter().map(|r| r.module.as_str()).collect();
    modules.sort();
    modules.dedup();
    for module in modules {
        for r in s.resources.iter().filter(|r| r.module == module) {
            for inst in &r.instances {
                if inst.deposed.is_some() {
                    continue;
                }
                let mut address = r.address();
                if let Some(k) = &inst.index_key {
                    address.push_str(&match k {
                        terrane_state::IndexKey::Int(i) => format!("[{i}]"),
                        terrane_state::IndexKey::String(s) => {
                            format!("[{}]", serde_json::to_string(s).unwrap_or_default())
                        }
                    });
                }
                out.push_str(&super::state_show::render_instance(&address, r, inst));
                out.push('\n');
            }
        }
        if !module.is_empty() {
            out.push('\n');
        }
    }
    if !s.outputs.is_empty() {
        out.push_str("\nOutputs:\n\n");
        for (name, o) in &s.outputs {
            if o.sensitive {
                out.push_str(&format!("{name} = (sensitive value)\n"));
                continue;
            }
            let ty = terrane_value::Type::from_json_str(o.ty.as_str())
                .unwrap_or(terrane_value::Type::Dynamic);
            let v = terrane_value::json::unmarshal(o.value.as_str(), &ty)
                .unwrap_or_else(|_| terrane_value::Value::null_dynamic());
            out.push_str(&format!("{name} = {}\n", show_value(&v, 0)));
        }
    }
    // Terraform trims the text and ends it with one newline.
    let mut out = out.trim_end().to_string();
    out.push('\n');
    out
}
