//! Evaluation of large for-expressions and templates.
//!
//! Expressions are parsed once; only evaluation is measured. The inputs
//! are variables of the scope (`var.items`: 100,000 numbers,
//! `var.names`: 10,000 strings).

use std::collections::BTreeMap;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use terrane_hcl::ast::Expr;
use terrane_hcl::SourceFile;
use terrane_lang::{eval_expr, EvalContext, Scope};
use terrane_value::{Type, Value};

fn parse(src: &str) -> (Arc<SourceFile>, Expr) {
    let file = SourceFile::new("bench.tf", src.to_string());
    let (e, d) = terrane_hcl::parse_expression(&file);
    assert!(!d.has_errors(), "bench expression does not parse");
    (file, e.expect("expression"))
}

fn scope() -> Scope {
    let mut s = Scope::new();
    let items: Vec<Value> = (0..100_000).map(Value::from_i64).collect();
    s.variables
        .insert("items".into(), Value::list(Type::Number, items));
    let names: Vec<Value> = (0..10_000)
        .map(|i| Value::string(format!("name-{i}")))
        .collect();
    s.variables
        .insert("names".into(), Value::list(Type::String, names));
    s.variables.insert("env".into(), Value::string("prod"));
    s.variables.insert(
        "tags".into(),
        Value::map(
            Type::String,
            BTreeMap::from([
                ("team".to_string(), Value::string("infra")),
                ("owner".to_string(), Value::string("ops")),
            ]),
        ),
    );
    s
}

fn run(c: &mut Criterion, name: &str, src: &str, elements: u64, scope: &Scope) {
    let (file, expr) = parse(src);
    let ctx = EvalContext::new(scope).with_file(&file);
    // Sanity: it evaluates without error.
    let (_, d) = eval_expr(&expr, &ctx);
    assert!(!d.has_errors(), "{name}: {d:?}");
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(elements));
    g.sample_size(10);
    g.bench_function("eval", |b| b.iter(|| eval_expr(&expr, &ctx)));
    g.finish();
}

fn benches(c: &mut Criterion) {
    let s = scope();
    run(
        c,
        "for_list_100k_filtered",
        "[for x in var.items : x * 2 if x % 3 == 0]",
        100_000,
        &s,
    );
    run(
        c,
        "for_map_100k_grouped",
        "{for x in var.items : tostring(x % 100) => x...}",
        100_000,
        &s,
    );
    run(
        c,
        "template_for_10k",
        "\"%{ for i, n in var.names }${i}: ${n}%{ if i % 2 == 0 } even%{ endif }\\n%{ endfor }\"",
        10_000,
        &s,
    );
    // A heredoc of 2,000 lines with three interpolations each.
    let mut heredoc = String::from("<<EOT\n");
    for i in 0..2_000 {
        heredoc.push_str(&format!(
            "line {i}: env=${{var.env}} team=${{var.tags[\"team\"]}} up=${{upper(var.env)}}\n"
        ));
    }
    heredoc.push_str("EOT\n");
    run(c, "heredoc_6k_interpolations", &heredoc, 6_000, &s);
}

criterion_group!(eval, benches);
criterion_main!(eval);
