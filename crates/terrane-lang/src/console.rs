//! `terraform console`: evaluating typed expressions against a [`Scope`]
//! and printing results and diagnostics exactly as Terraform 1.0.3 does.
//!
//! * Piped (batch) mode evaluates every line, prints only the last result
//!   and stops at the first error (exit status 1). Unlike Terraform 1.0.3,
//!   an incomplete expression (an unclosed bracket or heredoc) continues on
//!   the next line.
//! * Interactive mode prints `> `, evaluates each line and prints its
//!   result or diagnostics, until `exit` or end of input.

use std::io::{BufRead, Write};
use std::sync::Arc;

use terrane_hcl::{Diagnostic, Diagnostics, Severity, SourceFile};
use terrane_value::{format_console, Value};

use crate::eval::{eval_expr, EvalContext};
use crate::scope::Scope;

/// The name console input gets in diagnostics.
pub const CONSOLE_INPUT: &str = "<console-input>";

const HELP: &str = "The Terraform console allows you to experiment with Terraform interpolations.
You may access resources in the state (if you have one) just as you would
from a configuration. For example: \"aws_instance.foo.id\" would evaluate
to the ID of \"aws_instance.foo\" if it exists in your state.

Type in the interpolation to test and hit <enter> to see the result.

To exit the console, type \"exit\" and hit <enter>, or use Control-C or
Control-D.";

/// Terraform's console wraps diagnostic details to 77 columns when not on
/// a terminal.
const WRAP: usize = 77;

const LOCALS_WARNING: &str =
    "\nWarning: Due to the problems above, some expressions may produce unexpected results.\n\n\n";

/// Renders one diagnostic as the console prints it (plain, 78 columns),
/// followed by the blank line Terraform leaves after each diagnostic.
/// Console input has no source snippet: `(source code not available)`.
pub fn render_diagnostic(d: &Diagnostic) -> String {
    match &d.subject {
        // Console input and text values of variables (`-var`, `TF_VAR_`)
        // have no source to show.
        Some(s) if s.file.name == CONSOLE_INPUT || s.file.name.starts_with("<value for ") => {
            let label = match d.severity {
                Severity::Error => "Error",
                Severity::Warning => "Warning",
            };
            let line = s.file.pos(s.span.start).line;
            let mut out = format!(
                "\n{label}: {}\n\n  on {} line {line}:\n  (source code not available)\n",
                d.summary, s.file.name
            );
            if !d.detail.is_empty() {
                out.push('\n');
                out.push_str(&terrane_hcl::render::wrap(&d.detail, WRAP));
                out.push('\n');
            }
            out.push('\n');
            out
        }
        _ => {
            // `plain` wraps one column short of the width it is given.
            let mut s = terrane_hcl::render::plain(d, WRAP + 1);
            s.push('\n');
            s
        }
    }
}

/// Renders all diagnostics (see [`render_diagnostic`]).
pub fn render_diagnostics(diags: &Diagnostics) -> String {
    diags.iter().map(render_diagnostic).collect()
}

/// What one console line produced.
pub enum LineResult {
    /// Nothing to show (an empty line).
    Empty,
    /// `exit`.
    Exit,
    /// Text to print (a formatted value, or the help).
    Output(String),
    /// The expression could not be parsed because it is incomplete (it may
    /// continue on the next line).
    Incomplete(Diagnostics),
    /// Errors.
    Failed(Diagnostics),
}

/// Evaluates one console input (possibly spanning lines). Parsing and
/// evaluation run on a thread with a large stack, so deeply nested input
/// cannot overflow the caller's stack.
pub fn eval_input(input: &str, scope: &Scope) -> LineResult {
    guarded(|| eval_input_here(input, scope)).unwrap_or_else(|| {
        LineResult::Failed(
            Diagnostic::error("Internal error", "The expression could not be evaluated.").into(),
        )
    })
}

/// Runs `f` on a thread with a large stack; `None` if it panicked.
fn guarded<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|s| {
        let job = std::thread::Builder::new()
            .name("terrane-eval".into())
            .stack_size(256 << 20)
            .spawn_scoped(s, f);
        match job {
            Ok(h) => h.join().ok(),
            Err(_) => None,
        }
    })
}

fn eval_input_here(input: &str, scope: &Scope) -> LineResult {
    let text = input.trim();
    match text {
        "" => return LineResult::Empty,
        "exit" => return LineResult::Exit,
        "help" => return LineResult::Output(HELP.to_string()),
        _ => {}
    }
    let mut file = SourceFile::new(CONSOLE_INPUT, text.to_string());
    let (mut expr, mut pdiags) = terrane_hcl::parse_expression(&file);
    if pdiags.has_errors() && text.contains("<<") {
        // A heredoc's closing marker needs its line ending.
        let f2 = SourceFile::new(CONSOLE_INPUT, format!("{text}\n"));
        let (e2, d2) = terrane_hcl::parse_expression(&f2);
        if !d2.has_errors() {
            (file, expr, pdiags) = (f2, e2, d2);
        }
    }
    if pdiags.has_errors() {
        if is_incomplete(&file, &pdiags) {
            return LineResult::Incomplete(console_wording(pdiags));
        }
        return LineResult::Failed(console_wording(pdiags));
    }
    let Some(expr) = expr else {
        return LineResult::Failed(pdiags);
    };
    match eval_value(&expr, &file, scope) {
        Ok(v) => LineResult::Output(format_console(&v)),
        Err(d) => LineResult::Failed(d),
    }
}

/// Evaluates a parsed expression for display.
pub fn eval_value(
    expr: &terrane_hcl::ast::Expr,
    file: &Arc<SourceFile>,
    scope: &Scope,
) -> Result<Value, Diagnostics> {
    let ctx = EvalContext::new(scope).with_file(file);
    let (v, d) = eval_expr(expr, &ctx);
    if d.has_errors() {
        return Err(d);
    }
    Ok(v)
}

/// Terraform's console reports a missing expression at the end of its
/// input as an invalid token.
pub(crate) fn console_wording(mut diags: Diagnostics) -> Diagnostics {
    for d in diags.0.iter_mut() {
        if d.summary == "Missing expression" && d.detail.ends_with("found the end of the file.") {
            d.summary = "Invalid expression".into();
            d.detail =
                "Expected the start of an expression, but found an invalid expression token."
                    .into();
        }
    }
    diags
}

/// A parse failure that more input could fix: an error at the very end of
/// the input, or an unterminated string/heredoc.
fn is_incomplete(file: &SourceFile, diags: &Diagnostics) -> bool {
    let end = file.text.len() as u32;
    let last = file.text.lines().last().unwrap_or("");
    if let Some(pos) = last.rfind("<<") {
        let id = last[pos + 2..].trim_start_matches('-');
        if !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            && !id.starts_with(|c: char| c.is_ascii_digit() || c == '-')
        {
            return true;
        }
    }
    diags.iter().filter(|d| d.is_error()).any(|d| {
        d.summary.starts_with("Unterminated")
            || d.summary.starts_with("Unclosed")
            || d.subject.as_ref().is_some_and(|s| s.span.start >= end)
    })
}

/// Evaluates the locals of the scope up front (as Terraform walks the
/// configuration before the console starts), printing their errors and
/// the follow-up warning.
fn prepare(scope: &Scope, out: &mut dyn Write, err: &mut dyn Write) {
    let d = guarded(|| scope.eval_all_locals()).unwrap_or_else(|| {
        Diagnostic::error("Internal error", "The local values could not be evaluated.").into()
    });
    if d.has_errors() {
        let _ = err.write_all(render_diagnostics(&d).as_bytes());
        let _ = out.write_all(LOCALS_WARNING.as_bytes());
    }
}

/// Piped mode: evaluates each line of `input`, prints the last result to
/// `out` (errors to `err`, stopping at the first) and returns the exit
/// status.
pub fn console_batch(input: &str, scope: &Scope, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    prepare(scope, out, err);
    let lines: Vec<&str> = input.lines().collect();
    let mut last = String::new();
    let mut pending = String::new();
    for (i, line) in lines.iter().enumerate() {
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line);
        let more = i + 1 < lines.len();
        match eval_input(&pending, scope) {
            LineResult::Incomplete(_) if more => continue,
            LineResult::Incomplete(d) | LineResult::Failed(d) => {
                let _ = err.write_all(render_diagnostics(&d).as_bytes());
                return 1;
            }
            LineResult::Empty => last.clear(),
            LineResult::Exit => break,
            LineResult::Output(s) => last = s,
        }
        pending.clear();
    }
    let _ = writeln!(out, "{last}");
    0
}

/// Interactive mode: a `> ` prompt per expression (`... ` while an
/// expression continues), results and diagnostics printed as they come.
pub fn console_interactive(
    scope: &Scope,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    prepare(scope, out, err);
    let mut pending = String::new();
    loop {
        let _ = out.write_all(if pending.is_empty() { b"> " } else { b"... " });
        let _ = out.flush();
        let mut line = String::new();
        match input.read_line(&mut line) {
            Ok(0) | Err(_) => {
                let _ = writeln!(out);
                return 0;
            }
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\n', '\r']);
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(line);
        match eval_input(&pending, scope) {
            LineResult::Incomplete(_) if !line.trim().is_empty() => continue,
            LineResult::Incomplete(d) | LineResult::Failed(d) => {
                let _ = err.write_all(render_diagnostics(&d).as_bytes());
            }
            LineResult::Empty => {}
            LineResult::Exit => return 0,
            LineResult::Output(s) => {
                let _ = writeln!(out, "{s}");
            }
        }
        pending.clear();
    }
}
