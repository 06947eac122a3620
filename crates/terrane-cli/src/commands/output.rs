//! `terrane output [-json | -raw] [NAME]`: root module outputs from the
//! state, printed as Terraform 1.0.3 prints them.

use crate::cli::Flags;
use crate::ui::Ui;
use std::io::Write;
use terrane_hcl::Diagnostic;
use terrane_state::OutputValue;
use terrane_value::{format_console, Type, Value};

const NO_OUTPUTS: &str = "The state file either has no outputs defined, or all the defined outputs are empty. Please define an output in your configuration with the `output` keyword and run `terraform refresh` for it to become available. If you are using interpolation, please verify the interpolated value is not empty. You can use the `terraform console` command to assist.";

pub fn run(args: &[String], ui: &Ui) -> i32 {
    let flags = match Flags::parse(
        args,
        &["json", "raw", "no-color", "state", "help"],
        &["state"],
    ) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let json = flags.bool("json", false).unwrap_or(false);
    let raw = flags.bool("raw", false).unwrap_or(false);
    let explicit = flags.value("state").map(std::path::PathBuf::from);
    let outputs = match super::statefile::read_current(explicit, ui) {
        Ok(Some(f)) => f.state.outputs,
        Ok(None) => Default::default(),
        Err(()) => return 1,
    };
    let mut out = std::io::stdout().lock();
    match flags.positional.first() {
        None => {
            if json {
                let mut s = String::from("{");
                for (i, (name, o)) in outputs.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str(&format!("{}:{}", quote(name), output_json(o)));
                }
                s.push('}');
                let _ = writeln!(out, "{}", go_json(&s, true));
                return 0;
            }
            if outputs.is_empty() {
                ui.diagnostics_to(
                    &mut out,
                    [&Diagnostic::warning("No outputs found", NO_OUTPUTS)],
                );
                return 0;
            }
            for (name, o) in &outputs {
                let text = if o.sensitive {
                    "<sensitive>".to_string()
                } else {
                    format_console(&value_of(o))
                };
                let _ = writeln!(out, "{name} = {text}");
            }
            0
        }
        Some(name) => {
            let Some(o) = outputs.get(name) else {
                ui.diagnostics([&Diagnostic::error(
                    format!("Output {name:?} not found"),
                    "The output variable requested could not be found in the state file. If you recently added this to your configuration, be sure to run `terraform apply`, since the state won't be updated with new output variables until that command is run.",
                )]);
                return 1;
            };
            if json {
                // A single output is printed compact, as Terraform does.
                let _ = writeln!(out, "{}", go_json(&compact(o.value.as_str()), false));
                return 0;
            }
            let v = value_of(o);
            if raw {
                let text = match v.ty() {
                    Type::String => v.as_str().map(str::to_string),
                    Type::Number => v.as_number().map(|n| n.to_text()),
                    Type::Bool => v.as_bool().map(|b| b.to_string()),
                    _ => None,
                };
                return match text {
                    Some(t) => {
                        let _ = write!(out, "{t}");
                        0
                    }
                    None => {
                        ui.diagnostics([&Diagnostic::error(
                            "Unsupported value for raw output",
                            format!("The -raw option only supports strings, numbers, and boolean values, but\noutput value {name:?} is {}.\n\nUse the -json option for machine-readable representations of output values that have complex types.", v.ty().friendly_name()),
                        )]);
                        1
                    }
                };
            }
            let _ = writeln!(out, "{}", format_console(&v));
            0
        }
    }
}

fn value_of(o: &OutputValue) -> Value {
    let ty = Type::from_json_str(o.ty.as_str()).unwrap_or(Type::Dynamic);
    terrane_value::json::unmarshal(o.value.as_str(), &ty).unwrap_or_else(|_| Value::null_dynamic())
}

fn output_json(o: &OutputValue) -> String {
    format!(
        "{{\"sensitive\":{},\"type\":{},\"value\":{}}}",
        o.sensitive,
        compact(o.ty.as_str()),
        compact(o.value.as_str())
    )
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// JSON text without insignificant white space (strings untouched).
fn compact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut esc = false;
    for c in s.chars() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Compact JSON as Go's encoder writes it (`<`, `>`, `&` escaped), indented
/// as `json.MarshalIndent(v, "", "  ")` when `indent` is set.
fn go_json(s: &str, indent: bool) -> String {
    let mut out = String::with_capacity(s.len() * 2);
    let mut depth = 0usize;
    let mut in_str = false;
    let mut esc = false;
    let chars: Vec<char> = s.chars().collect();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if in_str {
            match c {
                '<' => out.push_str("\\u003c"),
                '>' => out.push_str("\\u003e"),
                '&' => out.push_str("\\u0026"),
                '\u{2028}' => out.push_str("\\u2028"),
                '\u{2029}' => out.push_str("\\u2029"),
                _ => out.push(c),
            }
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            i += 1;
            continue;
        }
        if !indent {
            if c == '"' {
                in_str = true;
            }
            out.push(c);
            i += 1;
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                let close = if c == '{' { '}' } else { ']' };
                if chars.get(i + 1) == Some(&close) {
                    out.push(c);
                    out.push(close);
                    i += 2;
                    continue;
                }
                out.push(c);
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(',');
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}
