//! Evaluator and scope behaviour not covered by the console oracle.

use terrane_hcl::{parse_expression, SourceFile};
use terrane_lang::console::eval_input;
use terrane_lang::{console_batch, eval_expr, EvalContext, Scope};
use terrane_value::{format_console, Value};

fn eval_in(scope: &Scope, src: &str) -> Result<String, Vec<String>> {
    let file = SourceFile::new("<test>", src);
    let (expr, diags) = parse_expression(&file);
    let Some(expr) = expr else {
        return Err(diags.iter().map(|d| d.summary.clone()).collect());
    };
    let ctx = EvalContext::new(scope).with_file(&file);
    let (v, d) = eval_expr(&expr, &ctx);
    if d.has_errors() {
        return Err(d.iter().map(|d| d.summary.clone()).collect());
    }
    Ok(format_console(&v))
}

fn local(scope: &mut Scope, name: &str, src: &str) {
    let file = SourceFile::new("main.tf", src);
    let (expr, _) = parse_expression(&file);
    scope.set_local_expr(name, &file, expr.expect("test expression parses"));
}

#[test]
fn locals_reference_each_other_in_any_order() {
    let mut s = Scope::new();
    local(&mut s, "a", "local.b + 1");
    local(&mut s, "b", "local.c * 2");
    local(&mut s, "c", "20");
    assert_eq!(eval_in(&s, "local.a").as_deref(), Ok("41"));
    assert_eq!(
        eval_in(&s, "[local.c, local.b]").as_deref(),
        Ok("[\n  20,\n  40,\n]")
    );
}

#[test]
fn local_cycles_are_errors_not_hangs() {
    let mut s = Scope::new();
    local(&mut s, "a", "local.b");
    local(&mut s, "b", "[local.a]");
    local(&mut s, "self_ref", "local.self_ref");
    let r = eval_in(&s, "local.a");
    assert_eq!(r, Err(vec!["Cycle".to_string()]));
    assert_eq!(
        eval_in(&s, "local.self_ref"),
        Err(vec!["Cycle".to_string()])
    );
}

#[test]
fn scope_objects() {
    let mut s = Scope::new();
    s.variables
        .insert("region".into(), Value::string("eu-west-1"));
    s.count_index = Some(Value::from_i64(3));
    s.each = Some((Value::string("k"), Value::from_i64(7)));
    s.path_module = "./mod".into();
    s.resources.insert(
        "aws_instance.web".into(),
        Value::object_from([("id", Value::string("i-123"))]),
    );
    s.data.insert(
        "aws_ami.x".into(),
        Value::object_from([("id", Value::string("ami-1"))]),
    );
    s.modules.insert(
        "net".into(),
        Value::object_from([("vpc", Value::string("vpc-1"))]),
    );
    assert_eq!(eval_in(&s, "var.region").as_deref(), Ok("\"eu-west-1\""));
    assert_eq!(eval_in(&s, "count.index + 1").as_deref(), Ok("4"));
    assert_eq!(
        eval_in(&s, "\"${each.key}=${each.value}\"").as_deref(),
        Ok("\"k=7\"")
    );
    assert_eq!(eval_in(&s, "path.module").as_deref(), Ok("\"./mod\""));
    assert_eq!(
        eval_in(&s, "terraform.workspace").as_deref(),
        Ok("\"default\"")
    );
    assert_eq!(
        eval_in(&s, "aws_instance.web.id").as_deref(),
        Ok("\"i-123\"")
    );
    assert_eq!(eval_in(&s, "data.aws_ami.x.id").as_deref(), Ok("\"ami-1\""));
    assert_eq!(eval_in(&s, "module.net.vpc").as_deref(), Ok("\"vpc-1\""));
    assert_eq!(
        eval_in(&s, "aws_instance.other.id"),
        Err(vec!["Reference to undeclared resource".to_string()])
    );
    assert_eq!(
        eval_in(&s, "path.nope"),
        Err(vec!["Invalid \"path\" attribute".to_string()])
    );
}

#[test]
fn unknown_and_sensitive_values_propagate() {
    let mut s = Scope::new();
    s.variables.insert("u".into(), Value::unknown_dynamic());
    s.variables
        .insert("secret".into(), Value::string("x").mark_sensitive());
    assert_eq!(
        eval_in(&s, "\"a${var.u}\"").as_deref(),
        Ok("(known after apply)")
    );
    assert_eq!(
        eval_in(&s, "var.u + 1").as_deref(),
        Ok("(known after apply)")
    );
    assert_eq!(
        eval_in(&s, "\"a${var.secret}\"").as_deref(),
        Ok("(sensitive)")
    );
    assert_eq!(
        eval_in(&s, "var.secret == \"x\"").as_deref(),
        Ok("(sensitive)")
    );
    assert_eq!(
        eval_in(&s, "[for c in [var.secret] : c]").as_deref(),
        Ok("[\n  (sensitive),\n]")
    );
}

#[test]
fn console_batch_prints_last_result_and_stops_at_errors() {
    let s = Scope::new();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = console_batch("1 + 1\n\"a\"\n", &s, &mut out, &mut err);
    assert_eq!(code, 0);
    assert_eq!(String::from_utf8_lossy(&out), "\"a\"\n");

    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = console_batch("1\n[1][5]\n2\n", &s, &mut out, &mut err);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(String::from_utf8_lossy(&err).contains("Error: Invalid index"));
}

#[test]
fn console_batch_continues_incomplete_input() {
    let s = Scope::new();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = console_batch("[\n  1,\n  2,\n]\n", &s, &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    assert_eq!(String::from_utf8_lossy(&out), "[\n  1,\n  2,\n]\n");

    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = console_batch("<<EOT\nhello\nEOT\n", &s, &mut out, &mut err);
    assert_eq!(code, 0, "{}", String::from_utf8_lossy(&err));
    assert_eq!(String::from_utf8_lossy(&out), "<<EOT\nhello\n\nEOT\n");
}

#[test]
fn deep_nesting_does_not_overflow() {
    let s = Scope::new();
    let src = format!("{}1{}", "[".repeat(300), "]".repeat(300));
    // Either a value or a diagnostic; never a crash.
    let _ = eval_input(&src, &s);
}

#[test]
fn deep_parens_do_not_overflow() {
    let s = Scope::new();
    let src = format!("{}1{}", "(".repeat(2000), ")".repeat(2000));
    let _ = eval_input(&src, &s);
}

#[test]
fn templatefile_and_templatestring() {
    let dir = std::env::temp_dir().join(format!("terrane-tpl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("t.tpl"),
        "Hello ${name}!%{ for x in xs } ${x}%{ endfor }",
    )
    .expect("write template");
    let mut s = Scope::new();
    s.base_dir = dir.clone();
    assert_eq!(
        eval_in(&s, "templatefile(\"t.tpl\", {name = \"you\", xs = [1, 2]})").as_deref(),
        Ok("\"Hello you! 1 2\"")
    );
    assert_eq!(
        eval_in(&s, "templatefile(\"missing.tpl\", {})"),
        Err(vec!["Invalid function argument".to_string()])
    );
    // Only the given variables are visible to the template.
    assert_eq!(
        eval_in(&s, "templatestring(\"$${var.x}\", {})"),
        Err(vec!["Error in function call".to_string()])
    );
    assert_eq!(
        eval_in(&s, "templatestring(\"a$${b}c\", {b = \"-\"})").as_deref(),
        Ok("\"a-c\"")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
