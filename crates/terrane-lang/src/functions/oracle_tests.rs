//! Oracle tests: function-call expressions from the Terraform 1.0.3
//! expression corpus (`shared/corpus/expressions.jsonl`, located by
//! `terrane_testkit::corpus_dir`), evaluated
//! with a minimal evaluator that knows only literals, templates, tuples,
//! objects, unary operators and function calls (anything else is
//! skipped). Results are compared with the console output; errors with
//! the diagnostic detail (unwrapped).

use std::collections::BTreeMap;
use std::sync::Arc;

use terrane_hcl::ast::{ExprKind, TemplatePart, UnaryOp};
use terrane_hcl::{parse_expression, SourceFile};
use terrane_value::{convert, format_console, Number, Type, Value};

use super::{call, param_names, FunctionContext};

enum Outcome {
    Value(Value),
    /// The rendered error detail.
    Error(String),
    Unsupported,
}

fn eval(e: &terrane_hcl::ast::Expr) -> Outcome {
    use Outcome::*;
    match &e.kind {
        ExprKind::Number(t) => match Number::parse(t) {
            Ok(n) => Value(terrane_value::Value::number(n)),
            Err(_) => Unsupported,
        },
        ExprKind::Bool(b) => Value(terrane_value::Value::bool(*b)),
        ExprKind::Null => Value(terrane_value::Value::null_dynamic()),
        ExprKind::Parens(x) | ExprKind::TemplateWrap(x) => eval(x),
        ExprKind::Template { parts, .. } => {
            let mut s = String::new();
            for p in parts {
                match p {
                    TemplatePart::Literal { value, .. } => s.push_str(value),
                    TemplatePart::Interp { expr, .. } => match eval(expr) {
                        Value(v) => {
                            if v.is_null() || !v.is_wholly_known() || v.is_marked() {
                                return Unsupported;
                            }
                            match convert(&v, &Type::String) {
                                Ok(x) => s.push_str(x.as_str().unwrap_or("")),
                                Err(_) => return Unsupported,
                            }
                        }
                        other => return other,
                    },
                    _ => return Unsupported,
                }
            }
            Value(terrane_value::Value::string(s))
        }
        ExprKind::Tuple(items) => {
            let mut out = Vec::new();
            for i in items {
                match eval(i) {
                    Value(v) => out.push(v),
                    other => return other,
                }
            }
            Value(terrane_value::Value::tuple(out))
        }
        ExprKind::Object(items) => {
            let mut m = BTreeMap::new();
            for it in items {
                let key = match it.bare_key() {
                    Some(k) => k.to_string(),
                    None => match eval(&it.key) {
                        Value(k) => match k.as_str() {
                            Some(s) => s.to_string(),
                            None => return Unsupported,
                        },
                        other => return other,
                    },
                };
                match eval(&it.value) {
                    Value(v) => {
                        m.insert(key, v);
                    }
                    other => return other,
                }
            }
            Value(terrane_value::Value::object(m))
        }
        ExprKind::Unary { op, operand } => match eval(operand) {
            Value(v) => match (op, v.as_number(), v.as_bool()) {
                (UnaryOp::Negate, Some(n), _) => Value(terrane_value::Value::number(n.neg())),
                (UnaryOp::Not, _, Some(b)) => Value(terrane_value::Value::bool(!b)),
                _ => Unsupported,
            },
            other => other,
        },
        ExprKind::Call {
            name,
            args,
            expand_final,
            ..
        } => {
            let name = name.name.to_string();
            if !super::exists(&name) {
                return Unsupported;
            }
            let mut vals = Vec::new();
            for a in args {
                match eval(a) {
                    Value(v) => vals.push(v),
                    other => return other,
                }
            }
            if *expand_final {
                let Some(last) = vals.pop() else {
                    return Unsupported;
                };
                match last.as_seq() {
                    Some(es) => vals.extend(es.iter().cloned()),
                    None => return Unsupported,
                }
            }
            let Some((params, variadic)) = param_names(&name) else {
                return Unsupported;
            };
            if vals.len() < params.len() || (variadic.is_none() && vals.len() > params.len()) {
                return Unsupported;
            }
            let ctx = FunctionContext {
                base_dir: ".".into(),
            };
            match call(&name, vals, &ctx) {
                Ok(v) => Value(v),
                Err(err) => Error(match err.arg {
                    Some(i) => {
                        let pname = params.get(i).copied().or(variadic).unwrap_or("");
                        format!("Invalid value for \"{pname}\" parameter: {}.", err.message)
                    }
                    None => format!("Call to function \"{name}\" failed: {}.", err.message),
                }),
            }
        }
        _ => Unsupported,
    }
}

fn error_detail(output: &str) -> Option<String> {
    let start =
        output.find("(source code not available)\n\n")? + "(source code not available)\n\n".len();
    let rest = &output[start..];
    let end = rest.find("\n\n").unwrap_or(rest.len());
    Some(rest[..end].replace('\n', " "))
}

#[test]
fn function_oracle() {
    let Some(dir) = terrane_testkit::corpus_dir() else {
        return;
    };
    let path = dir.join("expressions.jsonl");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return;
    };
    let (mut total, mut pass) = (0, 0);
    let mut failures = Vec::new();
    for line in text.lines() {
        let Ok(j) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if j["via"] != "console" {
            continue;
        }
        let expr = j["expr"].as_str().unwrap_or("");
        let output = j["output"].as_str().unwrap_or("");
        // nondeterministic results and Go panics (stack traces) are not compared
        if output.contains("panic in function implementation") || expr.starts_with("bcrypt(") {
            continue;
        }
        let file = SourceFile::new("<console-input>", expr.to_string());
        let file: Arc<SourceFile> = file;
        let (Some(ast), diags) = parse_expression(&file) else {
            continue;
        };
        if diags.has_errors() {
            continue;
        }
        if !matches!(ast.kind, ExprKind::Call { .. }) {
            continue;
        }
        let got = eval(&ast);
        let ok = j["ok"].as_bool().unwrap_or(false);
        let (matched, shown) = match (&got, ok) {
            (Outcome::Unsupported, _) => continue,
            (Outcome::Value(v), true) => {
                let s = format!("{}\n", format_console(v));
                (s == output, s)
            }
            (Outcome::Error(e), false) => {
                let want = error_detail(output).unwrap_or_default();
                (*e == want, e.clone())
            }
            (Outcome::Value(v), false) => (false, format_console(v)),
            (Outcome::Error(e), true) => (false, format!("ERROR {e}")),
        };
        total += 1;
        if matched {
            pass += 1;
        } else {
            failures.push(format!(
                "{} {expr}\n   want: {}\n    got: {}",
                j["id"].as_str().unwrap_or(""),
                if ok {
                    output.trim_end().to_string()
                } else {
                    error_detail(output).unwrap_or_default()
                },
                shown.trim_end()
            ));
        }
    }
    for f in &failures {
        eprintln!("{f}");
    }
    eprintln!("function oracle: {pass}/{total} identical");
    assert!(total > 0);
    assert!(
        pass * 100 >= total * 90,
        "only {pass}/{total} function calls match the oracle"
    );
}
