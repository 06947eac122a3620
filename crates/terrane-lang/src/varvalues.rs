//! Values of root-module input variables, from everywhere Terraform takes
//! them, with Terraform 1.0.3's precedence and diagnostics:
//!
//! 1. `TF_VAR_name` environment variables (lowest),
//! 2. `terraform.tfvars`, then `terraform.tfvars.json`,
//! 3. `*.auto.tfvars` and `*.auto.tfvars.json`, in lexical order of name,
//! 4. `-var 'name=value'` and `-var-file=FILE`, in command-line order
//!    (highest: a later one replaces an earlier one).
//!
//! Text values (`-var`, environment) are the string itself for variables
//! without a type or with a primitive type, and an HCL expression
//! otherwise (see [`ParseMode`]). Expressions in variables files and text
//! values may not refer to anything or call functions.
//!
//! A value for an undeclared variable is an error on the command line, a
//! warning in a file (two at most, then a summary) and ignored in the
//! environment.
//!
//! Use [`collect`] to gather the raw values and [`finalize`] to check them
//! against the declarations (type conversion, optional-attribute defaults,
//! `nullable`, sensitivity).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use terrane_config::{Module, Variable};
use terrane_hcl::ast::{Expr, ExprKind, Structure, TemplatePart};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile, Span};
use terrane_value::Value;

use crate::typeexpr::{ParseMode, VarType};

/// A command-line argument that sets variables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarArg {
    /// `-var 'NAME=VALUE'` (the text after `-var`).
    Var(String),
    /// `-var-file=FILE`.
    File(String),
}

/// Where a value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueSource {
    /// `TF_VAR_name`.
    Env,
    /// A variables file (automatic or named).
    File,
    /// `-var`.
    Cli,
}

/// A value as given, before it is checked against its declaration.
#[derive(Clone, Debug)]
pub enum RawValue {
    /// Text from `-var` or the environment, read per the variable's
    /// [`ParseMode`].
    Text { text: String, source: ValueSource },
    /// An expression in a native-syntax variables file.
    Expr { file: Arc<SourceFile>, expr: Expr },
    /// A value from a JSON variables file, with the range of its JSON text.
    Json {
        value: Value,
        file: Arc<SourceFile>,
        span: Span,
    },
}

impl RawValue {
    fn source(&self) -> ValueSource {
        match self {
            RawValue::Text { source, .. } => source.clone(),
            _ => ValueSource::File,
        }
    }
}

/// How [`finalize`] treats a variable that has neither a value nor a
/// default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    /// It is unknown (`terraform console`).
    Unknown,
    /// "No value for required variable" (`plan`, `apply`).
    Error,
}

/// Gathers raw values in precedence order: `env` (`(NAME, VALUE)` pairs
/// of the process environment; only `TF_VAR_` ones are used), the
/// automatic files of `dir`, then `args`. Relative `-var-file` paths are
/// resolved against `cwd`. Later values replace earlier ones.
/// `declared` are the root module's variables (for the undeclared-value
/// diagnostics).
pub fn collect(
    dir: &Path,
    cwd: &Path,
    args: &[VarArg],
    env: &[(String, String)],
    declared: &BTreeMap<String, Variable>,
) -> (BTreeMap<String, RawValue>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut values: BTreeMap<String, RawValue> = BTreeMap::new();
    for (k, v) in env {
        if let Some(name) = k.strip_prefix("TF_VAR_") {
            if !name.is_empty() {
                values.insert(
                    name.to_string(),
                    RawValue::Text {
                        text: v.clone(),
                        source: ValueSource::Env,
                    },
                );
            }
        }
    }
    for path in auto_files(dir) {
        let display = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        read_file(&path, &display, &mut values, &mut diags);
    }
    for a in args {
        match a {
            VarArg::Var(text) => match text.split_once('=') {
                Some((k, v)) => {
                    values.insert(
                        k.to_string(),
                        RawValue::Text {
                            text: v.to_string(),
                            source: ValueSource::Cli,
                        },
                    );
                }
                None => diags.push(Diagnostic::error(
                    "Invalid -var option",
                    format!("The given -var option {text:?} is not correctly specified. Must be a variable name and value separated by an equals sign, like -var=\"key=value\"."),
                )),
            },
            VarArg::File(f) => {
                let path = cwd.join(f);
                if !path.is_file() {
                    diags.push(Diagnostic::error(
                        "Failed to read variables file",
                        format!("Given variables file {f} does not exist."),
                    ));
                    continue;
                }
                read_file(&path, f, &mut values, &mut diags);
            }
        }
    }
    // Undeclared names: an error on the command line, a warning in files
    // (the first two, then one summary), ignored in the environment.
    let mut in_files = 0usize;
    for (name, raw) in &values {
        if declared.contains_key(name) {
            continue;
        }
        match raw.source() {
            ValueSource::Env => {}
            ValueSource::Cli => diags.push(Diagnostic::error(
                "Value for undeclared variable",
                format!("A variable named {name:?} was assigned on the command line, but the root module does not declare a variable of that name. To use this value, add a \"variable\" block to the configuration."),
            )),
            ValueSource::File => {
                if in_files < 2 {
                    let file = match raw {
                        RawValue::Expr { file, .. } | RawValue::Json { file, .. } => {
                            file.name.clone()
                        }
                        RawValue::Text { .. } => String::new(),
                    };
                    diags.push(Diagnostic::warning(
                        "Value for undeclared variable",
                        format!("The root module does not declare a variable named {name:?} but a value was found in file {file:?}. If you meant to use this value, add a \"variable\" block to the configuration.\n\nTo silence these warnings, use TF_VAR_... environment variables to provide certain \"global\" settings to all configurations in your organization. To reduce the verbosity of these warnings, use the -compact-warnings option."),
                    ));
                }
                in_files += 1;
            }
        }
    }
    if in_files > 2 {
        diags.push(Diagnostic::warning(
            "Values for undeclared variables",
            format!(
                "In addition to the other similar warnings shown, {} other variable(s) defined without being declared.",
                in_files - 2
            ),
        ));
    }
    (values, diags)
}

/// The process environment as `(name, value)` pairs (non-Unicode entries
/// are skipped).
pub fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// `terraform.tfvars`, `terraform.tfvars.json`, then `*.auto.tfvars` and
/// `*.auto.tfvars.json` by name.
pub fn auto_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for n in ["terraform.tfvars", "terraform.tfvars.json"] {
        let p = dir.join(n);
        if p.is_file() {
            out.push(p);
        }
    }
    let mut auto: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let auto =
                        name.ends_with(".auto.tfvars") || name.ends_with(".auto.tfvars.json");
                    (auto && e.path().is_file()).then(|| (name, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    auto.sort();
    out.extend(auto.into_iter().map(|(_, p)| p));
    out
}

/// Reads one variables file (native syntax, or JSON when the name ends in
/// `.json`) into `values`.
fn read_file(
    path: &Path,
    display: &str,
    values: &mut BTreeMap<String, RawValue>,
    diags: &mut Diagnostics,
) {
    let text = match std::fs::read(path) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => {
            diags.push(Diagnostic::error(
                "Failed to read variables file",
                format!("Error reading {display}: {e}"),
            ));
            return;
        }
    };
    let file = SourceFile::new(display, text);
    if display.ends_with(".json") {
        read_json(&file, values, diags);
        return;
    }
    let parsed = terrane_hcl::parse_file(&file);
    let failed = parsed.diagnostics.has_errors();
    // A missing expression at the end of the input is worded as HCL's
    // parser words it for a whole file.
    diags.extend(crate::console::console_wording(parsed.diagnostics));
    if failed {
        return;
    }
    for item in parsed.body.items {
        match item {
            Structure::Attribute(a) => {
                values.insert(
                    a.name.as_str().to_string(),
                    RawValue::Expr {
                        file: file.clone(),
                        expr: a.expr,
                    },
                );
            }
            Structure::Block(b) => diags.push(
                Diagnostic::error(
                    format!("Unexpected {:?} block", b.ident.as_str()),
                    "Blocks are not allowed here.",
                )
                .with_subject(&file, b.ident.span),
            ),
        }
    }
}

fn read_json(
    file: &Arc<SourceFile>,
    values: &mut BTreeMap<String, RawValue>,
    diags: &mut Diagnostics,
) {
    // The configuration JSON reader gives the syntax errors and the
    // ranges; the values themselves are decoded as plain JSON (strings are
    // literal: no templates in variables files).
    let (body, d) = terrane_config::json::parse_json_body(file);
    let failed = d.has_errors();
    diags.extend(d);
    if failed {
        return;
    }
    let doc = match terrane_value::json::decode(&file.text) {
        Ok(v) => v,
        Err(e) => {
            diags.push(
                Diagnostic::error("Invalid JSON", e.to_string())
                    .with_subject(file, Span::new(0, file.text.len().min(1))),
            );
            return;
        }
    };
    let Some(attrs) = doc.as_map() else { return };
    for (name, value) in attrs {
        let span = body
            .attribute(name)
            .map(|a| a.expr.span)
            .unwrap_or_else(|| Span::new(0, file.text.len().min(1)));
        values.insert(
            name.clone(),
            RawValue::Json {
                value: value.clone(),
                file: file.clone(),
                span,
            },
        );
    }
}

/// Evaluates an expression that may not refer to anything nor call
/// functions (variables files, HCL text values), with Terraform's errors
/// for either.
pub fn eval_constant(expr: &Expr, file: &Arc<SourceFile>) -> (Value, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut first_ref: Option<Span> = None;
    expr.walk_traversals(&mut |root, _| {
        if first_ref.is_none() {
            first_ref = Some(root.span);
        }
    });
    if let Some(span) = first_ref {
        diags.push(
            Diagnostic::error("Variables not allowed", "Variables may not be used here.")
                .with_subject(file, span),
        );
    }
    if let Some(span) = find_call(expr) {
        diags.push(
            Diagnostic::error(
                "Function calls not allowed",
                "Functions may not be called here.",
            )
            .with_subject(file, span),
        );
    }
    if diags.has_errors() {
        return (Value::unknown_dynamic(), diags);
    }
    let scope = crate::scope::Scope::new();
    let ctx = crate::eval::EvalContext::new(&scope).with_file(file);
    crate::eval::eval_expr(expr, &ctx)
}

/// The range of the first function call in `e`, if any.
fn find_call(e: &Expr) -> Option<Span> {
    let parts = |parts: &[TemplatePart]| -> Option<Span> {
        fn walk(ps: &[TemplatePart]) -> Option<Span> {
            for p in ps {
                let found = match p {
                    TemplatePart::Literal { .. } => None,
                    TemplatePart::Interp { expr, .. } => find_call(expr),
                    TemplatePart::If {
                        cond,
                        then,
                        otherwise,
                        ..
                    } => find_call(cond)
                        .or_else(|| walk(then))
                        .or_else(|| walk(otherwise)),
                    TemplatePart::For {
                        collection, body, ..
                    } => find_call(collection).or_else(|| walk(body)),
                };
                if found.is_some() {
                    return found;
                }
            }
            None
        }
        walk(parts)
    };
    match &e.kind {
        ExprKind::Call { name, .. } => Some(name.span),
        ExprKind::Number(_)
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::SplatItem
        | ExprKind::Traversal { .. } => None,
        ExprKind::Template { parts: ps, .. } => parts(ps),
        ExprKind::TemplateWrap(x) | ExprKind::Parens(x) => find_call(x),
        ExprKind::RelativeTraversal { source, .. } => find_call(source),
        ExprKind::Index {
            collection, key, ..
        } => find_call(collection).or_else(|| find_call(key)),
        ExprKind::Splat { source, each, .. } => find_call(source).or_else(|| find_call(each)),
        ExprKind::Tuple(items) => items.iter().find_map(find_call),
        ExprKind::Object(items) => items
            .iter()
            .find_map(|i| find_call(&i.key).or_else(|| find_call(&i.value))),
        ExprKind::For(fe) => find_call(&fe.collection)
            .or_else(|| fe.key_expr.as_ref().and_then(find_call))
            .or_else(|| find_call(&fe.value_expr))
            .or_else(|| fe.cond.as_ref().and_then(find_call)),
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => find_call(cond)
            .or_else(|| find_call(then))
            .or_else(|| find_call(otherwise)),
        ExprKind::Binary { lhs, rhs, .. } => find_call(lhs).or_else(|| find_call(rhs)),
        ExprKind::Unary { operand, .. } => find_call(operand),
    }
}

/// The file name Terraform gives a text value parsed as an expression.
pub fn text_value_file_name(var: &str) -> String {
    format!("<value for var.{var}>")
}

/// Reads a text value (`-var`, environment) for a variable.
fn parse_text(name: &str, text: &str, mode: ParseMode) -> (Value, Diagnostics) {
    match mode {
        ParseMode::Literal => (Value::string(text), Diagnostics::new()),
        ParseMode::Hcl => {
            let file = SourceFile::new(text_value_file_name(name), text.to_string());
            let (expr, d) = terrane_hcl::parse_expression(&file);
            if d.has_errors() {
                return (Value::unknown_dynamic(), crate::console::console_wording(d));
            }
            match expr {
                Some(e) => eval_constant(&e, &file),
                None => (Value::unknown_dynamic(), d),
            }
        }
    }
}

/// The final values of all declared variables: given values (or defaults)
/// converted to their types with optional-attribute defaults applied,
/// `nullable = false` enforced, sensitive ones marked. A variable whose
/// value is invalid is unknown (with an error); one without a value or a
/// default is unknown or an error (see [`Missing`]).
pub fn finalize(
    module: &Module,
    given: &BTreeMap<String, RawValue>,
    missing: Missing,
) -> (BTreeMap<String, Value>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut out = BTreeMap::new();
    for (name, var) in &module.variables {
        let (vt, d) = VarType::of_variable(var);
        diags.extend(d);
        let (v, d) = final_value(name, var, &vt, given.get(name), missing);
        diags.extend(d);
        let v = if var.sensitive { v.mark_sensitive() } else { v };
        out.insert(name.clone(), v);
    }
    (out, diags)
}

/// A variable's default, converted to its type (`None` without one).
pub fn default_value(var: &Variable, vt: &VarType) -> Option<(Value, Diagnostics)> {
    let d = var.default.as_ref()?;
    let scope = crate::scope::Scope::new();
    let ctx = crate::eval::EvalContext::new(&scope).with_file(&d.file);
    let (v, mut diags) = crate::eval::eval_expr(&d.expr, &ctx);
    if diags.has_errors() {
        return Some((Value::unknown(vt.ty.clone()), diags));
    }
    match vt.convert(&v) {
        Ok(v) => Some((v, diags)),
        Err(msg) => {
            diags.push(
                Diagnostic::error(
                    "Invalid default value for variable",
                    format!(
                        "This default value is not compatible with the variable's type constraint: {msg}."
                    ),
                )
                .with_subject(&d.file, d.expr.span),
            );
            Some((Value::unknown(vt.ty.clone()), diags))
        }
    }
}

fn final_value(
    name: &str,
    var: &Variable,
    vt: &VarType,
    raw: Option<&RawValue>,
    missing: Missing,
) -> (Value, Diagnostics) {
    let mut diags = Diagnostics::new();
    let default = default_value(var, vt);
    let Some(raw) = raw else {
        return match default {
            Some((v, d)) => (v, d),
            None => {
                if missing == Missing::Error {
                    diags.push(
                        Diagnostic::error(
                            "No value for required variable",
                            format!("The root module input variable {name:?} is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable."),
                        )
                        .with_subject(&var.range.file, var.range.span),
                    );
                }
                (Value::unknown(vt.ty.clone()), diags)
            }
        };
    };
    let (given, d) = match raw {
        RawValue::Text { text, .. } => parse_text(name, text, vt.parse_mode),
        RawValue::Expr { file, expr } => eval_constant(expr, file),
        RawValue::Json { value, .. } => (value.clone(), Diagnostics::new()),
    };
    let failed = d.has_errors();
    diags.extend(d);
    if failed {
        return (Value::unknown(vt.ty.clone()), diags);
    }
    // A null for a non-nullable variable means its default.
    if given.is_null() && !var.nullable {
        return match default {
            Some((v, d)) => {
                diags.extend(d);
                (v, diags)
            }
            None => {
                let mut e = Diagnostic::error(
                    "Required variable not set",
                    format!(
                        "Unsuitable value for var.{name} {}: required variable may not be set to null.",
                        source_phrase(name, raw)
                    ),
                );
                if let Some((file, span)) = raw_range(raw) {
                    e = e.with_subject(&file, span);
                }
                diags.push(e);
                (Value::unknown(vt.ty.clone()), diags)
            }
        };
    }
    match vt.convert(&given) {
        Ok(v) => (v, diags),
        Err(msg) => {
            let detail = match raw {
                RawValue::Text {
                    source: ValueSource::Cli,
                    ..
                } => format!("The argument -var=\"{name}=...\" does not contain a valid value for variable {name:?}: {msg}."),
                RawValue::Text { .. } => format!("The environment variable TF_VAR_{name} does not contain a valid value for variable {name:?}: {msg}."),
                _ => format!("The given value is not valid for variable {name:?}: {msg}."),
            };
            let mut e = Diagnostic::error("Invalid value for input variable", detail);
            if let Some((file, span)) = raw_range(raw) {
                e = e.with_subject(&file, span);
            }
            diags.push(e);
            (Value::unknown(vt.ty.clone()), diags)
        }
    }
}

fn source_phrase(name: &str, raw: &RawValue) -> String {
    match raw {
        RawValue::Text {
            source: ValueSource::Cli,
            ..
        } => format!("set using -var=\"{name}=...\""),
        RawValue::Text { .. } => format!("set using the TF_VAR_{name} environment variable"),
        RawValue::Expr { file, .. } | RawValue::Json { file, .. } => {
            format!("set in {}", file.name)
        }
    }
}

fn raw_range(raw: &RawValue) -> Option<(Arc<SourceFile>, Span)> {
    match raw {
        RawValue::Text { .. } => None,
        RawValue::Expr { file, expr } => Some((file.clone(), expr.span)),
        RawValue::Json { file, span, .. } => Some((file.clone(), *span)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(src: &str) -> Module {
        let (m, d) = terrane_config::load_source("main.tf", src);
        assert!(!d.has_errors(), "{d:?}");
        m
    }

    fn tmpdir(tag: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("terrane-varvalues-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        d
    }

    fn show(v: Option<&Value>) -> String {
        v.map(terrane_value::format_console).unwrap_or_default()
    }

    fn texts(d: &Diagnostics) -> Vec<String> {
        d.iter()
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect()
    }

    const DECLS: &str = r#"
variable "s" { type = string }
variable "n" {
  type    = number
  default = 1
}
variable "l" {
  type    = list(string)
  default = []
}
variable "untyped" {}
variable "o" {
  type = object({ a = string, b = optional(number, 7) })
  default = null
}
"#;

    #[test]
    fn precedence_and_parse_modes() {
        let m = module(DECLS);
        let dir = tmpdir("prec");
        std::fs::write(dir.join("terraform.tfvars"), "s = \"tfvars\"\nn = 2\n").expect("w");
        std::fs::write(dir.join("b.auto.tfvars"), "s = \"auto-b\"\n").expect("w");
        std::fs::write(
            dir.join("a.auto.tfvars.json"),
            "{\"s\": \"auto-a\", \"l\": [\"j\", 1]}",
        )
        .expect("w");
        std::fs::write(dir.join("x.tfvars"), "n = 9\n").expect("w");
        let env = vec![
            ("TF_VAR_s".to_string(), "env".to_string()),
            ("TF_VAR_untyped".to_string(), "[1, 2]".to_string()),
            ("TF_VAR_nope".to_string(), "ignored".to_string()),
        ];
        let args = vec![
            VarArg::File("x.tfvars".into()),
            VarArg::Var("n=3".into()),
            VarArg::Var("o={a=\"q\"}".into()),
        ];
        let (raw, d) = collect(&dir, &dir, &args, &env, &m.variables);
        assert!(d.is_empty(), "{:?}", texts(&d));
        let (vals, d) = finalize(&m, &raw, Missing::Error);
        assert!(d.is_empty(), "{:?}", texts(&d));
        assert_eq!(show(vals.get("s")), "\"auto-b\"");
        assert_eq!(show(vals.get("n")), "3");
        assert_eq!(show(vals.get("untyped")), "\"[1, 2]\"");
        assert_eq!(show(vals.get("l")), "tolist([\n  \"j\",\n  \"1\",\n])");
        assert_eq!(show(vals.get("o")), "{\n  \"a\" = \"q\"\n  \"b\" = 7\n}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn errors_as_terraform() {
        let m = module(DECLS);
        let dir = tmpdir("errs");
        std::fs::write(dir.join("c.tfvars"), "n = \"abc\"\nzz = 1\n").expect("w");
        std::fs::write(dir.join("v.tfvars"), "l = [var.s]\n").expect("w");
        let args = vec![
            VarArg::Var("nope=1".into()),
            VarArg::Var("o={b=1}".into()),
            VarArg::Var("s".into()),
            VarArg::File("c.tfvars".into()),
            VarArg::File("v.tfvars".into()),
            VarArg::File("missing.tfvars".into()),
        ];
        let env = vec![("TF_VAR_untyped".to_string(), "x".to_string())];
        let (raw, d) = collect(&dir, &dir, &args, &env, &m.variables);
        assert_eq!(
            texts(&d),
            vec![
                "Invalid -var option: The given -var option \"s\" is not correctly specified. Must be a variable name and value separated by an equals sign, like -var=\"key=value\".",
                "Failed to read variables file: Given variables file missing.tfvars does not exist.",
                "Value for undeclared variable: A variable named \"nope\" was assigned on the command line, but the root module does not declare a variable of that name. To use this value, add a \"variable\" block to the configuration.",
                "Value for undeclared variable: The root module does not declare a variable named \"zz\" but a value was found in file \"c.tfvars\". If you meant to use this value, add a \"variable\" block to the configuration.\n\nTo silence these warnings, use TF_VAR_... environment variables to provide certain \"global\" settings to all configurations in your organization. To reduce the verbosity of these warnings, use the -compact-warnings option.",
            ]
        );
        let (vals, d) = finalize(&m, &raw, Missing::Error);
        assert_eq!(
            texts(&d),
            vec![
                "Variables not allowed: Variables may not be used here.",
                "Invalid value for input variable: The given value is not valid for variable \"n\": a number is required.",
                "Invalid value for input variable: The argument -var=\"o=...\" does not contain a valid value for variable \"o\": attribute \"a\" is required.",
                "No value for required variable: The root module input variable \"s\" is not set, and has no default value. Use a -var or -var-file command line argument to provide a value for this variable.",
            ]
        );
        assert!(!vals.get("n").is_some_and(Value::is_known));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn undeclared_in_files_summarised() {
        let m = module(DECLS);
        let dir = tmpdir("undecl");
        std::fs::write(
            dir.join("terraform.tfvars"),
            "a1 = 1\na2 = 2\na3 = 3\na4 = 4\n",
        )
        .expect("w");
        let (_, d) = collect(&dir, &dir, &[], &[], &m.variables);
        let t = texts(&d);
        assert_eq!(t.len(), 3);
        assert_eq!(
            t[2],
            "Values for undeclared variables: In addition to the other similar warnings shown, 2 other variable(s) defined without being declared."
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn nullable_and_text_errors() {
        let m = module(
            r#"
variable "nn" {
  type     = string
  nullable = false
  default  = "d"
}
variable "req" {
  type     = list(number)
  nullable = false
}
"#,
        );
        let dir = tmpdir("null");
        let args = vec![VarArg::Var("req=null".into())];
        let env = vec![("TF_VAR_nn".to_string(), "x".to_string())];
        let (raw, d) = collect(&dir, &dir, &args, &env, &m.variables);
        assert!(d.is_empty());
        let (vals, d) = finalize(&m, &raw, Missing::Error);
        assert_eq!(show(vals.get("nn")), "\"x\"");
        assert_eq!(
            texts(&d),
            vec!["Required variable not set: Unsuitable value for var.req set using -var=\"req=...\": required variable may not be set to null."]
        );
        let args = vec![VarArg::Var("req=[1,".into())];
        let (raw, _) = collect(&dir, &dir, &args, &[], &m.variables);
        let (_, d) = finalize(&m, &raw, Missing::Unknown);
        let e = d.iter().next().expect("error");
        assert_eq!(e.summary, "Invalid expression");
        assert_eq!(
            e.subject.as_ref().map(|s| s.file.name.clone()).as_deref(),
            Some("<value for var.req>")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
