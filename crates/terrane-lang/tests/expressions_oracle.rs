//! Replays the expression oracle (`expressions.jsonl`, recorded from
//! Terraform 1.0.3's console) through terrane's console and compares.
//!
//! An entry passes when:
//! * `ok`: the console prints exactly `output` and exits 0;
//! * not `ok`: the console reports errors whose summaries are exactly
//!   `error_summaries` (the full text is compared too and counted
//!   separately).

use std::collections::BTreeMap;

use terrane_hcl::SourceFile;
use terrane_lang::{console_batch, render_diagnostics, Scope};
use terrane_testkit::{corpus_dir, read_jsonl};

/// The measured figure; raise it as the evaluator and function library
/// improve.
const FLOOR: usize = 2896;

struct Run {
    code: i32,
    out: String,
    err: String,
}

fn run_console(expr: &str) -> Run {
    let scope = Scope::new();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = console_batch(&format!("{expr}\n"), &scope, &mut out, &mut err);
    Run {
        code,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    }
}

fn run_local(expr: &str) -> Run {
    let text = format!("locals {{\n  value = {expr}\n}}\n");
    let file = SourceFile::new("main.tf", text);
    let parsed = terrane_hcl::parse_file(&file);
    if parsed.diagnostics.has_errors() {
        return Run {
            code: 1,
            out: String::new(),
            err: render_diagnostics(&parsed.diagnostics),
        };
    }
    let mut scope = Scope::new();
    for b in parsed.body.blocks() {
        if b.ident.as_str() == "locals" {
            for a in b.body.attributes() {
                scope.set_local_expr(a.name.as_str(), &file, a.expr.clone());
            }
        }
    }
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = console_batch("local.value\n", &scope, &mut out, &mut err);
    Run {
        code,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    }
}

fn summaries(err: &str) -> Vec<String> {
    err.lines()
        .filter_map(|l| l.strip_prefix("Error: "))
        .map(str::to_string)
        .collect()
}

#[test]
fn expressions_oracle() {
    let Some(dir) = corpus_dir() else { return };
    let entries = read_jsonl(&dir.join("expressions.jsonl"));
    let mut pass = 0usize;
    let mut exact_errors = 0usize;
    let mut total_errors = 0usize;
    let mut by_group: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &entries {
        let expr = e["expr"].as_str().unwrap_or_default();
        let group = e["group"].as_str().unwrap_or("?").to_string();
        let ok = e["ok"].as_bool().unwrap_or(false);
        let want = e["output"].as_str().unwrap_or_default();
        let r = if e["via"].as_str() == Some("local") {
            run_local(expr)
        } else {
            run_console(expr)
        };
        let good = if ok {
            r.code == 0 && r.err.is_empty() && r.out == want
        } else {
            total_errors += 1;
            let want_s: Vec<String> = e["error_summaries"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if r.err == want {
                exact_errors += 1;
            } else if std::env::var("ORACLE_SHOW_TEXT").is_ok() && summaries(&r.err) == want_s {
                eprintln!("TEXT {:?}\n  want {:?}\n  got  {:?}", expr, want, r.err);
            }
            summaries(&r.err) == want_s
        };
        let g = by_group.entry(group.clone()).or_default();
        g.1 += 1;
        if good {
            g.0 += 1;
            pass += 1;
        } else {
            let got = if r.err.is_empty() { &r.out } else { &r.err };
            failures.entry(group).or_default().push(format!(
                "  {} {:?}\n    want: {:?}\n    got:  {:?}",
                e["id"].as_str().unwrap_or("?"),
                expr,
                want,
                got
            ));
        }
    }
    let show = std::env::var("ORACLE_SHOW").ok();
    for (g, fs) in &failures {
        if show.as_deref().is_some_and(|s| s == "all" || s == g) {
            eprintln!("--- {g}: {} failures", fs.len());
            for f in fs {
                eprintln!("{f}");
            }
        }
    }
    eprintln!("per group (pass/total):");
    for (g, (p, t)) in &by_group {
        eprintln!("  {g:<14} {p:>4}/{t:<4}");
    }
    eprintln!(
        "expressions oracle: {pass}/{} pass ({:.1}%); error texts identical: {exact_errors}/{total_errors}",
        entries.len(),
        100.0 * pass as f64 / entries.len().max(1) as f64
    );
    assert!(
        pass >= FLOOR,
        "oracle figure {pass} fell below the floor {FLOOR}"
    );
}
