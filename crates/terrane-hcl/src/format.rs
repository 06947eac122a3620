//! `terraform fmt`: the token-level formatter plus Terraform's own rewrites.
//!
//! Formatting only ever changes the horizontal whitespace in front of tokens
//! (plus a few token-level rewrites done before formatting), so it works on
//! the scanner's token stream rather than on the syntax tree:
//!
//! 1. The file is parsed (item by item, without keeping the tree); a file
//!    with syntax errors is not formatted.
//! 2. Terraform's legacy-syntax rewrites replace some token ranges found via
//!    the syntax tree: block labels are re-emitted as quoted strings,
//!    attribute values of the form `"${expr}"` become `expr`, and the `type`
//!    of a top-level `variable` block loses its legacy forms. One quirk of
//!    HCL's writer, which Terraform prints through, is reproduced too: the
//!    key of a `[true]`/`[false]`/`[null]` index step in a reference is lost.
//! 3. The token stream is split into lines, each line into up to three
//!    cells (lead, `= value`, trailing comment); lines are indented by open
//!    bracket nesting, tokens inside cells are spaced by the kind of the
//!    neighbouring tokens, and runs of consecutive lines align their `=` and
//!    trailing comments (widths counted in grapheme clusters).
//!
//! Everything is linear in the size of the input.

use crate::ast::{Block, Body, Expr, ExprKind, IndexKey, Structure, TemplatePart, TraversalStep};
use crate::diag::Diagnostics;
use crate::lexer::{lex, Token, TokenKind};
use crate::parser::parse_tokens_items;
use crate::span::SourceFile;
use std::borrow::Cow;
use std::sync::Arc;

/// Formats a Terraform native-syntax file as `terraform fmt -` (v1.0.3)
/// prints it on standard output: the formatted text, plus a final newline
/// when it lacks one. Errors = the file does not parse (the parser's
/// diagnostics).
///
/// For rewriting files and for `-check`/`-list` comparisons use
/// [`format_terraform_source`]: Terraform compares and writes the formatted
/// text itself, without the added newline.
pub fn format_terraform(file: &Arc<SourceFile>) -> Result<String, Diagnostics> {
    let mut out = format_terraform_source(file)?;
    if !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// The formatted text exactly as `terraform fmt` (v1.0.3) writes it back to
/// a file; a file is "changed" when this differs from its content.
pub fn format_terraform_source(file: &Arc<SourceFile>) -> Result<String, Diagnostics> {
    let src = file.text.as_str();
    let raw = lex(src);
    let mut edits = Vec::new();
    let mut cursor = Cursor { raw: &raw, pos: 0 };
    // Top-level items are handled as the parser produces them, so the whole
    // tree is never held (large files stay fast and small in memory).
    let mut check = || {
        parse_tokens_items(file, &raw, &mut |item| {
            collect_item_edits(&item, src, &mut cursor, true, false, &mut edits)
        })
    };
    // Most files need no rewrite, so on a large file the plain token
    // formatting runs on a second core while the parser checks the syntax
    // and looks for rewrites; it is used only when there are none.
    let (diagnostics, speculative) = if src.len() >= PARALLEL_MIN_BYTES {
        std::thread::scope(|scope| {
            let plain = scope.spawn(|| render(apply_edits(src, &raw, &[])));
            let d = check();
            (d, plain.join().ok())
        })
    } else {
        (check(), None)
    };
    if diagnostics.has_errors() {
        return Err(diagnostics);
    }
    if edits.is_empty() {
        if let Some(out) = speculative {
            return Ok(out);
        }
    }
    edits.sort_by_key(|e| e.start);
    let toks = apply_edits(src, &raw, &edits);
    Ok(render(toks))
}

/// Files at least this large are formatted speculatively in parallel with
/// the syntax check (below it, a thread costs more than it saves).
const PARALLEL_MIN_BYTES: usize = 256 * 1024;

/// Only the whitespace formatting (HCL's own formatter, without Terraform's
/// rewrites). The input is not required to parse; it should, though, since
/// formatting unbalanced input gives odd results.
pub fn format_tokens_only(src: &str) -> String {
    let raw = lex(src);
    let toks = apply_edits(src, &raw, &[]);
    render(toks)
}

/// One token as the formatter sees it: kind, text and the number of spaces
/// written before it.
#[derive(Clone, Copy, Debug)]
struct Tok<'a> {
    kind: TokenKind,
    spaces: u32,
    text: &'a str,
}

/// A token made by a rewrite.
#[derive(Clone, Debug)]
struct NewTok<'a> {
    kind: TokenKind,
    text: Cow<'a, str>,
}

impl<'a> NewTok<'a> {
    fn new(kind: TokenKind, text: impl Into<Cow<'a, str>>) -> NewTok<'a> {
        NewTok {
            kind,
            text: text.into(),
        }
    }
}

/// Replace raw tokens `start..end` with `toks`.
struct Edit<'a> {
    start: usize,
    end: usize,
    toks: Vec<NewTok<'a>>,
}

fn render(mut toks: Vec<Tok<'_>>) -> String {
    format_tokens(&mut toks);
    let mut cap = 0;
    for t in &toks {
        cap += t.spaces as usize + t.text.len();
    }
    const SPACES: &str = "                                                                ";
    let mut out = String::with_capacity(cap);
    for t in &toks {
        let mut n = t.spaces as usize;
        while n > 0 {
            let k = n.min(SPACES.len());
            out.push_str(&SPACES[..k]);
            n -= k;
        }
        out.push_str(t.text);
    }
    out
}

/// Builds the formatter's token list from the scanner's, splicing in the
/// edits (sorted, non-overlapping). Spaces before each token are the width
/// of the gap in the input; only the end-of-file token keeps that value.
fn apply_edits<'b>(src: &'b str, raw: &[Token], edits: &'b [Edit<'_>]) -> Vec<Tok<'b>> {
    let new = |t: &'b NewTok<'_>| Tok {
        kind: t.kind,
        spaces: 0,
        text: &t.text,
    };
    let mut out = Vec::with_capacity(raw.len() + 8);
    let mut prev_end = 0usize;
    let mut edits = edits.iter().peekable();
    let mut i = 0;
    while i < raw.len() {
        if let Some(e) = edits.peek() {
            if e.start == i && e.end >= i && e.end <= raw.len() {
                if e.end > i {
                    prev_end = raw[e.end - 1].span.end as usize;
                }
                i = e.end;
                out.extend(e.toks.iter().map(new));
                edits.next();
                continue;
            } else if e.start < i {
                // Overlapping edit (should not happen): drop it.
                edits.next();
                continue;
            }
        }
        let t = raw[i];
        let r = t.span.range();
        let gap = r.start.saturating_sub(prev_end);
        out.push(Tok {
            kind: t.kind,
            spaces: gap as u32,
            text: src.get(r.clone()).unwrap_or(""),
        });
        prev_end = r.end;
        i += 1;
    }
    // Edits at the very end (none in practice).
    for e in edits {
        out.extend(e.toks.iter().map(new));
    }
    out
}

// ---------------------------------------------------------------------------
// Terraform's rewrites
// ---------------------------------------------------------------------------

/// Finds the raw tokens of source ranges visited in source order: a forward
/// cursor keeps the walk linear in the number of tokens.
struct Cursor<'t> {
    raw: &'t [Token],
    pos: usize,
}

impl<'t> Cursor<'t> {
    /// Index range of the raw tokens lying within `start..end` (byte offsets).
    fn range(&mut self, start: u32, end: u32) -> (usize, usize) {
        let raw = self.raw;
        if self.pos > raw.len() || (self.pos > 0 && raw[self.pos - 1].span.start >= start) {
            // Out of order (not expected): search from scratch.
            self.pos = raw.partition_point(|t| t.span.start < start);
        }
        while self.pos < raw.len() && raw[self.pos].span.start < start {
            self.pos += 1;
        }
        let a = self.pos;
        let mut b = a;
        while b < raw.len() && raw[b].span.start < end {
            b += 1;
        }
        (a, b)
    }
}

fn collect_body_edits<'a>(
    body: &Body,
    src: &'a str,
    raw: &mut Cursor<'_>,
    top_level: bool,
    in_variable: bool,
    edits: &mut Vec<Edit<'a>>,
) {
    for item in &body.items {
        collect_item_edits(item, src, raw, top_level, in_variable, edits);
    }
}

/// The rewrites of one body item (and everything nested in it).
fn collect_item_edits<'a>(
    item: &Structure,
    src: &'a str,
    raw: &mut Cursor<'_>,
    top_level: bool,
    in_variable: bool,
    edits: &mut Vec<Edit<'a>>,
) {
    match item {
        Structure::Attribute(attr) => {
            let (a, b) = raw.range(attr.expr.span.start, attr.expr.span.end);
            if a >= b {
                return;
            }
            let mut toks = &raw.raw[a..b];
            // HCL's writer loses the key of a `[true]`/`[false]`/`[null]`
            // step of a reference; Terraform's output shows it.
            let mut dropped = Vec::new();
            lost_index_keys(&attr.expr, src, &mut Vec::new(), &mut dropped);
            let kept: Vec<Token>;
            if !dropped.is_empty() {
                dropped.sort_unstable();
                kept = without_ranges(toks, &dropped);
                toks = &kept;
            }
            let replacement = if in_variable && attr.name.as_str() == "type" {
                format_type_expr(src, toks)
            } else {
                format_value_expr(src, toks)
            };
            let replacement = match replacement {
                None if !dropped.is_empty() => Some(borrowed(src, toks)),
                r => r,
            };
            if let Some(r) = replacement {
                edits.push(Edit {
                    start: a,
                    end: b,
                    toks: r,
                });
            }
        }
        Structure::Block(block) => {
            if let Some(e) = label_edit(block, src, raw) {
                edits.push(e);
            }
            // Only the top-level `variable` block's own `type` is a type.
            let is_variable = top_level && block.ident.as_str() == "variable";
            collect_body_edits(&block.body, src, raw, false, is_variable, edits);
        }
    }
}

/// The tokens of `toks` outside the byte ranges `drop` (sorted).
fn without_ranges(toks: &[Token], drop: &[(u32, u32)]) -> Vec<Token> {
    let mut out = Vec::with_capacity(toks.len());
    let mut d = drop.iter().peekable();
    for t in toks {
        while d.peek().is_some_and(|r| r.1 <= t.span.start) {
            d.next();
        }
        match d.peek() {
            Some(r) if t.span.start >= r.0 && t.span.end <= r.1 => {}
            _ => out.push(*t),
        }
    }
    out
}

/// Byte ranges of the keys that HCL's writer (hclwrite, which Terraform's
/// fmt prints through) loses: in a reference (a traversal rooted at a name
/// that no `for` binds), an index step whose key is `true`, `false` or
/// `null` keeps its brackets but loses everything between them.
///
/// The walk uses an explicit stack: expression trees can be very deep
/// (long operator chains), and no input may exhaust the call stack.
fn lost_index_keys<'e>(
    root: &'e Expr,
    src: &str,
    bound: &mut Vec<&'e str>,
    out: &mut Vec<(u32, u32)>,
) {
    enum Work<'e> {
        Expr(&'e Expr),
        Parts(&'e [TemplatePart]),
        /// Bind the names of a `for` (key name, value name).
        Bind(Option<&'e str>, &'e str),
        /// Leave the scope of a `for`: unbind this many names.
        Unbind(usize),
    }
    let mut stack = vec![Work::Expr(root)];
    while let Some(w) = stack.pop() {
        let e = match w {
            Work::Expr(e) => e,
            Work::Parts(parts) => {
                for p in parts.iter().rev() {
                    match p {
                        TemplatePart::Literal { .. } => {}
                        TemplatePart::Interp { expr, .. } => stack.push(Work::Expr(expr)),
                        TemplatePart::If {
                            cond,
                            then,
                            otherwise,
                            ..
                        } => {
                            stack.push(Work::Parts(otherwise));
                            stack.push(Work::Parts(then));
                            stack.push(Work::Expr(cond));
                        }
                        TemplatePart::For {
                            key_var,
                            value_var,
                            collection,
                            body,
                            ..
                        } => {
                            stack.push(Work::Unbind(1 + usize::from(key_var.is_some())));
                            stack.push(Work::Parts(body));
                            stack.push(Work::Bind(
                                key_var.as_ref().map(|k| k.as_str()),
                                value_var.as_str(),
                            ));
                            stack.push(Work::Expr(collection));
                        }
                    }
                }
                continue;
            }
            Work::Bind(k, v) => {
                bound.extend(k);
                bound.push(v);
                continue;
            }
            Work::Unbind(n) => {
                bound.truncate(bound.len().saturating_sub(n));
                continue;
            }
        };
        match &e.kind {
            ExprKind::Number(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::SplatItem
            | ExprKind::Traversal { .. } => {}
            ExprKind::Template { parts, .. } => stack.push(Work::Parts(parts)),
            ExprKind::TemplateWrap(x) | ExprKind::Parens(x) => stack.push(Work::Expr(x)),
            ExprKind::RelativeTraversal { source, .. } => stack.push(Work::Expr(source)),
            ExprKind::Index {
                collection,
                key,
                open_bracket,
            } => {
                if matches!(key.kind, ExprKind::Bool(_) | ExprKind::Null)
                    && is_reference_chain(collection, src, bound)
                {
                    // Everything after `[` up to the closing `]`.
                    out.push((open_bracket.end, e.span.end.saturating_sub(1)));
                } else {
                    stack.push(Work::Expr(key));
                }
                stack.push(Work::Expr(collection));
            }
            ExprKind::Splat { source, each, .. } => {
                stack.push(Work::Expr(each));
                stack.push(Work::Expr(source));
            }
            ExprKind::Call { args, .. } | ExprKind::Tuple(args) => {
                stack.extend(args.iter().rev().map(Work::Expr));
            }
            ExprKind::Object(items) => {
                for i in items.iter().rev() {
                    stack.push(Work::Expr(&i.value));
                    if i.bare_key().is_none() {
                        stack.push(Work::Expr(&i.key));
                    }
                }
            }
            ExprKind::For(fe) => {
                stack.push(Work::Unbind(1 + usize::from(fe.key_var.is_some())));
                if let Some(c) = &fe.cond {
                    stack.push(Work::Expr(c));
                }
                stack.push(Work::Expr(&fe.value_expr));
                if let Some(k) = &fe.key_expr {
                    stack.push(Work::Expr(k));
                }
                stack.push(Work::Bind(
                    fe.key_var.as_ref().map(|k| k.as_str()),
                    fe.value_var.as_str(),
                ));
                stack.push(Work::Expr(&fe.collection));
            }
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => {
                stack.push(Work::Expr(otherwise));
                stack.push(Work::Expr(then));
                stack.push(Work::Expr(cond));
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                stack.push(Work::Expr(rhs));
                stack.push(Work::Expr(lhs));
            }
            ExprKind::Unary { operand, .. } => stack.push(Work::Expr(operand)),
        }
    }
}

/// Whether `e` is, for HCL, one static traversal from a free root name:
/// attribute steps and index steps with literal keys only. A string key
/// counts only when HCL scans it as a single literal token.
fn is_reference_chain(mut e: &Expr, src: &str, bound: &[&str]) -> bool {
    let steps_static = |steps: &[TraversalStep]| {
        steps.iter().all(|s| match s {
            TraversalStep::Index {
                key: IndexKey::String(_),
                span,
            } => {
                let t = src.get(span.range()).unwrap_or("");
                match (t.find('"'), t.rfind('"')) {
                    (Some(i), Some(j)) if j > i => {
                        let body = &t[i + 1..j];
                        body.is_empty() || single_literal_token(body)
                    }
                    _ => true,
                }
            }
            _ => true,
        })
    };
    loop {
        match &e.kind {
            ExprKind::Traversal { root, steps } => {
                return !bound.contains(&root.as_str()) && steps_static(steps)
            }
            ExprKind::RelativeTraversal { source, steps } => {
                if !steps_static(steps) {
                    return false;
                }
                e = source;
            }
            ExprKind::Index {
                collection, key, ..
            } => {
                if !matches!(
                    key.kind,
                    ExprKind::Bool(_) | ExprKind::Null | ExprKind::Number(_)
                ) {
                    return false;
                }
                e = collection;
            }
            _ => return false,
        }
    }
}

fn text<'a>(src: &'a str, t: &Token) -> &'a str {
    src.get(t.span.range()).unwrap_or("")
}

fn borrowed<'a>(src: &'a str, toks: &[Token]) -> Vec<NewTok<'a>> {
    toks.iter()
        .map(|t| NewTok::new(t.kind, text(src, t)))
        .collect()
}

/// `"${expr}"` → `expr` when the whole value is one interpolation (wrapped
/// in parentheses when it spans lines). `None` = leave unchanged.
fn format_value_expr<'a>(src: &'a str, toks: &[Token]) -> Option<Vec<NewTok<'a>>> {
    use TokenKind::*;
    let n = toks.len();
    if n < 5 {
        return None;
    }
    if toks[0].kind != OQuote
        || toks[1].kind != TemplateInterp
        || toks[n - 2].kind != TemplateSeqEnd
        || toks[n - 1].kind != CQuote
    {
        return None;
    }
    // Strip markers (`${~`, `~}`) make the template something other than a
    // plain wrapper only in whitespace handling; Terraform checks token
    // kinds only, so they unwrap too.
    let inside = &toks[2..n - 2];
    let mut quotes = 0i32;
    for t in inside {
        match t.kind {
            OQuote => quotes += 1,
            CQuote => quotes -= 1,
            _ if quotes > 0 => {}
            TemplateInterp | TemplateSeqEnd | QuotedLit => return None,
            _ => {}
        }
    }
    let mut s = 0;
    let mut e = inside.len();
    while s < e && inside[s].kind == Newline {
        s += 1;
    }
    while e > s && inside[e - 1].kind == Newline {
        e -= 1;
    }
    let trimmed = &inside[s..e];
    let mut multi_line = false;
    let mut lead_paren = false;
    let mut trail_paren = false;
    for (i, t) in trimmed.iter().enumerate() {
        if i == 0 && t.kind == OParen {
            lead_paren = true;
        } else if t.kind == Newline {
            multi_line = true;
        } else if i + 1 == trimmed.len() && t.kind == CParen {
            trail_paren = true;
        }
    }
    let mut out = Vec::with_capacity(trimmed.len() + 2);
    let wrap = multi_line && !(lead_paren && trail_paren);
    if wrap {
        out.push(NewTok::new(OParen, "("));
    }
    out.extend(borrowed(src, trimmed));
    if wrap {
        out.push(NewTok::new(CParen, ")"));
    }
    Some(out)
}

/// Legacy type constraints in `variable` blocks.
fn format_type_expr<'a>(src: &'a str, toks: &[Token]) -> Option<Vec<NewTok<'a>>> {
    use TokenKind::*;
    let call = |name: &'a str, arg: &'a str| {
        vec![
            NewTok::new(Ident, name),
            NewTok::new(OParen, "("),
            NewTok::new(Ident, arg),
            NewTok::new(CParen, ")"),
        ]
    };
    match toks {
        [t] if t.kind == Ident => match text(src, t) {
            "list" => Some(call("list", "any")),
            "map" => Some(call("map", "any")),
            "set" => Some(call("set", "any")),
            _ => None,
        },
        [q1, lit, q2] if q1.kind == OQuote && lit.kind == QuotedLit && q2.kind == CQuote => {
            match text(src, lit) {
                "string" => Some(vec![NewTok::new(Ident, "string")]),
                "list" => Some(call("list", "string")),
                "map" => Some(call("map", "string")),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Block labels are re-emitted as quoted strings; whatever lay between the
/// block type and the last label (comments) goes away. A quoted label that HCL's
/// scanner would split into several literal tokens (one containing `$` or
/// `%`) is dropped, as Terraform does.
fn label_edit<'a>(block: &Block, src: &'a str, cur: &mut Cursor<'_>) -> Option<Edit<'a>> {
    let first = block.labels.first()?;
    let last = block.labels.last()?;
    // Everything from after the block type to the end of the last label
    // is replaced (comments there go away).
    let (a, b) = cur.range(block.ident.span.end.min(first.span.start), last.span.end);
    let raw = cur.raw;
    let mut out: Vec<NewTok<'a>> = Vec::new();
    for label in &block.labels {
        let value: Option<Cow<'a, str>> = if !label.quoted {
            Some(Cow::Borrowed(src.get(label.span.range()).unwrap_or("")))
        } else {
            let (la, lb) = cur.range(label.span.start, label.span.end);
            let lt = &raw[la..lb];
            match lt {
                [q1, q2] if q1.kind == TokenKind::OQuote && q2.kind == TokenKind::CQuote => {
                    Some(Cow::Borrowed(""))
                }
                [q1, lit, q2]
                    if q1.kind == TokenKind::OQuote
                        && lit.kind == TokenKind::QuotedLit
                        && q2.kind == TokenKind::CQuote =>
                {
                    let body = text(src, lit);
                    if single_literal_token(body) {
                        decode_quoted(body).map(Cow::Owned)
                    } else {
                        None
                    }
                }
                _ => None,
            }
        };
        if let Some(v) = value {
            out.push(NewTok::new(TokenKind::OQuote, "\""));
            let esc = escape_quoted(&v);
            if !esc.is_empty() {
                out.push(NewTok::new(TokenKind::QuotedLit, esc));
            }
            out.push(NewTok::new(TokenKind::CQuote, "\""));
        }
    }
    // Unchanged labels need no edit (keeps the common case allocation-light).
    let same = out.len() == b - a
        && out
            .iter()
            .zip(&raw[a..b])
            .all(|(n, o)| n.kind == o.kind && n.text == text(src, o));
    if same {
        return None;
    }
    Some(Edit {
        start: a,
        end: b,
        toks: out,
    })
}

/// Whether HCL's scanner emits the literal text of a quoted string as one
/// token: each `$`/`%` that is not an interpolation start is a token of its
/// own (`$${` included), runs of other characters are one token.
fn single_literal_token(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    if !s.contains(['$', '%']) {
        return true;
    }
    matches!(s, "$" | "%" | "$${" | "%%{")
}

/// Decodes the escapes of a quoted literal. `None` for an invalid escape.
fn decode_quoted(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'u' => out.push(hex_char(&mut chars, 4)?),
                'U' => out.push(hex_char(&mut chars, 8)?),
                _ => return None,
            },
            '$' | '%' if chars.peek() == Some(&c) => {
                // `$${` → `${`
                let mut look = chars.clone();
                look.next();
                if look.peek() == Some(&'{') {
                    chars.next();
                }
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

fn hex_char(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, n: usize) -> Option<char> {
    let mut v: u32 = 0;
    for _ in 0..n {
        let d = chars.next()?.to_digit(16)?;
        v = v * 16 + d;
    }
    char::from_u32(v)
}

/// Escapes a string for a quoted literal as HCL's writer does.
fn escape_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' | '%' => {
                out.push(c);
                if s.as_bytes().get(i + 1) == Some(&b'{') {
                    out.push(c);
                }
            }
            _ if !is_print(c) => {
                let v = c as u32;
                if v < 0x10000 {
                    out.push_str(&format!("\\u{v:04x}"));
                } else {
                    out.push_str(&format!("\\U{v:08x}"));
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// An approximation of Go's `unicode.IsPrint`: graphic characters and the
/// ASCII space; other spaces, controls and format characters are not.
fn is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0xFEFF
        | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000..=0x10FFFF)
}

// ---------------------------------------------------------------------------
// The whitespace formatter
// ---------------------------------------------------------------------------

/// One line of tokens, split into cells: `lead` is `start..assign`, the
/// assignment cell (if any) `assign..comment`, the comment cell (if any)
/// `comment..end`.
#[derive(Clone, Copy, Debug)]
struct Line {
    start: usize,
    assign: usize,
    comment: usize,
    end: usize,
    has_assign: bool,
    has_comment: bool,
}

fn bracket_change(k: TokenKind) -> i64 {
    use TokenKind::*;
    match k {
        OBrace | OBrack | OParen | TemplateControl | TemplateInterp => 1,
        CBrace | CBrack | CParen | TemplateSeqEnd => -1,
        _ => 0,
    }
}

fn ends_line(t: &Tok<'_>) -> bool {
    match t.kind {
        TokenKind::Newline => true,
        TokenKind::Comment => t.text.ends_with('\n'),
        _ => false,
    }
}

/// Net bracket change over `toks`, stopping after a heredoc opener.
fn net_brackets(toks: &[Tok<'_>]) -> i64 {
    let mut n = 0;
    for t in toks {
        n += bracket_change(t.kind);
        if t.kind == TokenKind::OHeredoc {
            break;
        }
    }
    n
}

/// Net bracket change over all of `toks`.
fn bracket_sum(toks: &[Tok<'_>]) -> i64 {
    toks.iter().map(|t| bracket_change(t.kind)).sum()
}

fn split_lines(toks: &[Tok<'_>]) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut start = 0;
    let push = |s: usize, e: usize, lines: &mut Vec<Line>| {
        lines.push(Line {
            start: s,
            assign: e,
            comment: e,
            end: e,
            has_assign: false,
            has_comment: false,
        })
    };
    let mut done = false;
    for (i, t) in toks.iter().enumerate() {
        if t.kind == TokenKind::Eof {
            push(start, i, &mut lines);
            done = true;
            break;
        }
        if ends_line(t) {
            push(start, i + 1, &mut lines);
            start = i + 1;
        }
    }
    if !done && start < toks.len() {
        push(start, toks.len(), &mut lines);
    }
    for line in &mut lines {
        let mut lead_end = line.end;
        if lead_end - line.start > 1 && toks[lead_end - 1].kind == TokenKind::Comment {
            lead_end -= 1;
            line.has_comment = true;
        }
        line.comment = lead_end;
        line.assign = lead_end;
        for i in line.start + 1..lead_end {
            if toks[i].kind == TokenKind::Equal {
                // This count does not stop at a heredoc opener: brackets
                // inside a heredoc's interpolations count.
                if bracket_sum(&toks[i..lead_end]) == 0 {
                    line.assign = i;
                    line.has_assign = true;
                }
                break;
            }
        }
    }
    lines
}

fn format_tokens(toks: &mut [Tok<'_>]) {
    let lines = split_lines(toks);
    format_indent(toks, &lines);
    format_spaces(toks, &lines);
    format_cells(toks, &lines);
}

fn format_indent(toks: &mut [Tok<'_>], lines: &[Line]) {
    let mut indents: Vec<i64> = Vec::with_capacity(16);
    for line in lines {
        if line.assign == line.start {
            // Empty lead: only at the end of the input.
            continue;
        }
        if toks[line.start].kind == TokenKind::Newline {
            toks[line.start].spaces = 0;
            continue;
        }
        // The lead cell's count stops at a heredoc opener; the assignment
        // cell's does not (as in hclwrite).
        let net = net_brackets(&toks[line.start..line.assign])
            + bracket_sum(&toks[line.assign..line.comment]);
        if net > 0 {
            toks[line.start].spaces = 2 * indents.len() as u32;
            indents.push(net);
        } else if net < 0 {
            let mut closed = -net;
            while closed > 0 {
                let Some(top) = indents.last_mut() else { break };
                if closed > *top {
                    closed -= *top;
                    indents.pop();
                } else if closed < *top {
                    *top -= closed;
                    closed = 0;
                } else {
                    indents.pop();
                    closed = 0;
                }
            }
            toks[line.start].spaces = 2 * indents.len() as u32;
        } else {
            toks[line.start].spaces = 2 * indents.len() as u32;
        }
    }
}

fn format_spaces(toks: &mut [Tok<'_>], lines: &[Line]) {
    for line in lines {
        space_cell(toks, line.start, line.assign);
        if line.has_assign && line.assign < line.comment {
            toks[line.assign].spaces = 1;
            space_cell(toks, line.assign, line.comment);
        }
    }
}

/// Sets the spaces before every token of `toks[s..e]` but the first.
fn space_cell(toks: &mut [Tok<'_>], s: usize, e: usize) {
    if e <= s + 1 {
        return;
    }
    for i in s..e - 1 {
        let before = if i > s { Some(toks[i - 1].kind) } else { None };
        let subject = (toks[i].kind, toks[i].text == "in");
        let after = toks[i + 1].kind;
        toks[i + 1].spaces = u32::from(space_after(subject, before, after));
    }
}

/// Whether one space separates `subject` from the token `after` it on the
/// same line (`before` is the token before `subject`, `None` at the start
/// of the cell). `subject.1` says the subject is the identifier `in`.
fn space_after(subject: (TokenKind, bool), before: Option<TokenKind>, after: TokenKind) -> bool {
    use TokenKind::*;
    let (s, subject_is_in) = subject;
    if after == Newline {
        return false;
    }
    if s == Ident && after == OParen {
        return false;
    }
    if s == Dot || after == Dot {
        return false;
    }
    if after == Comma || after == Ellipsis {
        return false;
    }
    if s == Comma {
        return true;
    }
    if matches!(s, QuotedLit | StringLit | OQuote | OHeredoc)
        || matches!(after, QuotedLit | StringLit | CQuote | CHeredoc)
    {
        return false;
    }
    if s == Ident && subject_is_in && before == Some(Ident) {
        return true;
    }
    if after == OBrack && (s == Ident || s == NumberLit || bracket_change(s) < 0) {
        return false;
    }
    if s == Minus {
        return !matches!(
            before,
            None | Some(
                OParen
                    | OBrace
                    | OBrack
                    | Equal
                    | Colon
                    | Comma
                    | Question
                    | Plus
                    | Star
                    | Slash
                    | Percent
                    | Minus
                    | EqualOp
                    | NotEqual
                    | GreaterThan
                    | GreaterThanEq
                    | LessThan
                    | LessThanEq
                    | And
                    | Or
                    | Bang
            )
        );
    }
    if s == Bang {
        return false;
    }
    if s == OBrace || after == CBrace {
        return !(s == OBrace && after == CBrace);
    }
    if matches!(s, TemplateInterp | TemplateControl) && after == OBrace {
        return true;
    }
    if s == CBrace && after == TemplateSeqEnd {
        return true;
    }
    if s == TemplateSeqEnd && matches!(after, TemplateInterp | TemplateControl) {
        return false;
    }
    if bracket_change(s) > 0 {
        return false;
    }
    if bracket_change(after) < 0 {
        return false;
    }
    true
}

/// Width of a token sequence as HCL's writer measures it: spaces plus the
/// number of grapheme clusters of each token's text.
fn columns(toks: &[Tok<'_>]) -> usize {
    toks.iter()
        .map(|t| t.spaces as usize + grapheme_count(t.text))
        .sum()
}

/// Number of extended grapheme clusters in `s` (Unicode UAX #29), with the
/// property tables approximated by ranges: CR LF, combining and spacing
/// marks of the common scripts, variation selectors, emoji modifiers and
/// ZWJ sequences, regional-indicator pairs, prepended marks and Hangul
/// syllable sequences.
fn grapheme_count(s: &str) -> usize {
    let b = s.as_bytes();
    if b.is_ascii() {
        if !b.contains(&b'\r') {
            return b.len();
        }
        let crlf = b.windows(2).filter(|w| w == b"\r\n").count();
        return b.len() - crlf;
    }
    let mut n = 0;
    let mut prev: Option<char> = None;
    let mut ri_run = 0usize;
    let mut after_pict_zwj = false;
    let mut in_pict = false;
    for c in s.chars() {
        let joins = match prev {
            None => false,
            Some('\r') if c == '\n' => true,
            Some(p) if p.is_control() || c.is_control() => false,
            Some(p) if is_regional(p) && is_regional(c) => ri_run % 2 == 1,
            Some(p) => {
                is_extend(c)
                    || is_spacing_mark(c)
                    || is_prepend(p)
                    || (after_pict_zwj && is_pictographic(c))
                    || hangul_joins(p, c)
            }
        };
        if !joins {
            n += 1;
        }
        ri_run = if is_regional(c) { ri_run + 1 } else { 0 };
        if is_pictographic(c) {
            in_pict = true;
        } else if !(is_extend(c) || c == '\u{200D}') {
            in_pict = false;
        }
        after_pict_zwj = in_pict && c == '\u{200D}';
        prev = Some(c);
    }
    n
}

fn is_extend(c: char) -> bool {
    matches!(c as u32,
        0x0300..=0x036F | 0x0483..=0x0489 | 0x0591..=0x05BD | 0x05BF | 0x05C1..=0x05C2
        | 0x05C4..=0x05C5 | 0x05C7 | 0x0610..=0x061A | 0x064B..=0x065F | 0x0670
        | 0x06D6..=0x06DC | 0x06DF..=0x06E4 | 0x06E7..=0x06E8 | 0x06EA..=0x06ED
        | 0x0711 | 0x0730..=0x074A | 0x07A6..=0x07B0 | 0x07EB..=0x07F3 | 0x0816..=0x082D
        | 0x0859..=0x085B | 0x08D3..=0x08E1 | 0x08E3..=0x0902 | 0x093A | 0x093C
        | 0x0941..=0x0948 | 0x094D | 0x0951..=0x0957 | 0x0962..=0x0963 | 0x0981 | 0x09BC
        | 0x09BE | 0x09C1..=0x09C4 | 0x09CD | 0x09D7 | 0x09E2..=0x09E3 | 0x0A01..=0x0A02
        | 0x0A3C | 0x0A41..=0x0A51 | 0x0A70..=0x0A71 | 0x0A75 | 0x0A81..=0x0A82 | 0x0ABC
        | 0x0AC1..=0x0AC8 | 0x0ACD | 0x0AE2..=0x0AE3 | 0x0B01 | 0x0B3C | 0x0B3E..=0x0B3F
        | 0x0B41..=0x0B44 | 0x0B4D | 0x0B56..=0x0B57 | 0x0B62..=0x0B63 | 0x0B82 | 0x0BBE
        | 0x0BC0 | 0x0BCD | 0x0BD7 | 0x0C00 | 0x0C3E..=0x0C40 | 0x0C46..=0x0C56
        | 0x0C62..=0x0C63 | 0x0C81 | 0x0CBC | 0x0CBF | 0x0CC2 | 0x0CC6 | 0x0CCC..=0x0CCD
        | 0x0CD5..=0x0CD6 | 0x0CE2..=0x0CE3 | 0x0D00..=0x0D01 | 0x0D3B..=0x0D3C | 0x0D3E
        | 0x0D41..=0x0D44 | 0x0D4D | 0x0D57 | 0x0D62..=0x0D63 | 0x0DCA | 0x0DCF
        | 0x0DD2..=0x0DD6 | 0x0DDF | 0x0E31 | 0x0E34..=0x0E3A | 0x0E47..=0x0E4E | 0x0EB1
        | 0x0EB4..=0x0EBC | 0x0EC8..=0x0ECD | 0x0F18..=0x0F19 | 0x0F35 | 0x0F37 | 0x0F39
        | 0x0F71..=0x0F7E | 0x0F80..=0x0F84 | 0x0F86..=0x0F87 | 0x0F8D..=0x0FBC | 0x0FC6
        | 0x102D..=0x1030 | 0x1032..=0x1037 | 0x1039..=0x103A | 0x103D..=0x103E
        | 0x1058..=0x1059 | 0x105E..=0x1060 | 0x1071..=0x1074 | 0x1082 | 0x1085..=0x1086
        | 0x108D | 0x109D | 0x135D..=0x135F | 0x1712..=0x1714 | 0x17B4..=0x17B5
        | 0x17B7..=0x17BD | 0x17C6 | 0x17C9..=0x17D3 | 0x17DD | 0x180B..=0x180D
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x200C..=0x200D | 0x20D0..=0x20F0
        | 0x2CEF..=0x2CF1 | 0x2DE0..=0x2DFF | 0x302A..=0x302F | 0x3099..=0x309A
        | 0xA66F..=0xA672 | 0xA674..=0xA67D | 0xA69E..=0xA69F | 0xA6F0..=0xA6F1
        | 0xFB1E | 0xFE00..=0xFE0F | 0xFE20..=0xFE2F | 0xFF9E..=0xFF9F
        | 0x1F3FB..=0x1F3FF | 0xE0020..=0xE007F | 0xE0100..=0xE01EF)
}

/// Spacing combining marks (Mc) of the common Indic and Southeast Asian
/// scripts.
fn is_spacing_mark(c: char) -> bool {
    matches!(c as u32,
        0x0903 | 0x093B | 0x093E..=0x0940 | 0x0949..=0x094C | 0x094E..=0x094F
        | 0x0982..=0x0983 | 0x09BF..=0x09C0 | 0x09C7..=0x09CC | 0x0A03 | 0x0A3E..=0x0A40
        | 0x0A83 | 0x0ABE..=0x0AC0 | 0x0AC9..=0x0ACC | 0x0B02..=0x0B03 | 0x0B40
        | 0x0B47..=0x0B4C | 0x0BBF | 0x0BC1..=0x0BCC | 0x0C01..=0x0C03 | 0x0C41..=0x0C44
        | 0x0C82..=0x0C83 | 0x0CBE | 0x0CC0..=0x0CC1 | 0x0CC3..=0x0CC4 | 0x0CC7..=0x0CCB
        | 0x0D02..=0x0D03 | 0x0D3F..=0x0D40 | 0x0D46..=0x0D4C | 0x0D82..=0x0D83
        | 0x0DD0..=0x0DD1 | 0x0DD8..=0x0DDE | 0x0DF2..=0x0DF3 | 0x0E33 | 0x0EB3
        | 0x0F3E..=0x0F3F | 0x0F7F | 0x1031 | 0x103B..=0x103C | 0x1056..=0x1057
        | 0x1084 | 0x17B6 | 0x17BE..=0x17C5 | 0x17C7..=0x17C8)
}

/// Prepended concatenation marks: they join the following character.
fn is_prepend(c: char) -> bool {
    matches!(c as u32,
        0x0600..=0x0605 | 0x06DD | 0x070F | 0x08E2 | 0x0D4E | 0x110BD | 0x110CD
        | 0x111C2..=0x111C3 | 0x1193F | 0x11941 | 0x11A3A | 0x11A84..=0x11A89 | 0x11D46)
}

fn is_regional(c: char) -> bool {
    matches!(c as u32, 0x1F1E6..=0x1F1FF)
}

fn is_pictographic(c: char) -> bool {
    matches!(c as u32,
        0x00A9 | 0x00AE | 0x203C | 0x2049 | 0x2122 | 0x2139 | 0x2194..=0x2199
        | 0x21A9..=0x21AA | 0x231A..=0x231B | 0x2328 | 0x23CF | 0x23E9..=0x23F3
        | 0x23F8..=0x23FA | 0x24C2 | 0x25AA..=0x25AB | 0x25B6 | 0x25C0 | 0x25FB..=0x25FE
        | 0x2600..=0x27BF | 0x2934..=0x2935 | 0x2B05..=0x2B07 | 0x2B1B..=0x2B1C | 0x2B50
        | 0x2B55 | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0x1F000..=0x1F0FF
        | 0x1F10D..=0x1F10F | 0x1F12F | 0x1F16C..=0x1F171 | 0x1F17E..=0x1F17F | 0x1F18E
        | 0x1F191..=0x1F19A | 0x1F1AD..=0x1F1E5 | 0x1F201..=0x1F20F | 0x1F21A | 0x1F22F
        | 0x1F232..=0x1F23A | 0x1F23C..=0x1F23F | 0x1F249..=0x1F3FA | 0x1F400..=0x1F53D
        | 0x1F546..=0x1F64F | 0x1F680..=0x1F6FF | 0x1F774..=0x1F77F | 0x1F7D5..=0x1F7FF
        | 0x1F80C..=0x1F80F | 0x1F848..=0x1F84F | 0x1F85A..=0x1F85F | 0x1F888..=0x1F88F
        | 0x1F8AE..=0x1F8FF | 0x1F90C..=0x1F93A | 0x1F93C..=0x1F945 | 0x1F947..=0x1FAFF
        | 0x1FC00..=0x1FFFD)
}

/// Hangul syllable sequences (L, V, T jamo and precomposed LV/LVT).
fn hangul_joins(p: char, c: char) -> bool {
    #[derive(PartialEq)]
    enum H {
        L,
        V,
        T,
        Lv,
        Lvt,
        No,
    }
    let kind = |c: char| match c as u32 {
        0x1100..=0x115F | 0xA960..=0xA97C => H::L,
        0x1160..=0x11A7 | 0xD7B0..=0xD7C6 => H::V,
        0x11A8..=0x11FF | 0xD7CB..=0xD7FB => H::T,
        v @ 0xAC00..=0xD7A3 => {
            if (v - 0xAC00) % 28 == 0 {
                H::Lv
            } else {
                H::Lvt
            }
        }
        _ => H::No,
    };
    matches!(
        (kind(p), kind(c)),
        (H::L, H::L | H::V | H::Lv | H::Lvt) | (H::Lv | H::V, H::V | H::T) | (H::Lvt | H::T, H::T)
    )
}

fn format_cells(toks: &mut [Tok<'_>], lines: &[Line]) {
    let mut cols: Vec<usize> = Vec::new();
    // `=` alignment over runs of consecutive lines with an assignment cell.
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].has_assign {
            i += 1;
            continue;
        }
        let start = i;
        cols.clear();
        while i < lines.len() && lines[i].has_assign {
            cols.push(columns(&toks[lines[i].start..lines[i].assign]));
            i += 1;
        }
        let max = cols.iter().copied().max().unwrap_or(0);
        for (line, c) in lines[start..i].iter().zip(&cols) {
            toks[line.assign].spaces = (max - c + 1) as u32;
        }
    }
    // Trailing comment alignment over runs of lines with a comment cell.
    let mut i = 0;
    while i < lines.len() {
        if !lines[i].has_comment {
            i += 1;
            continue;
        }
        let start = i;
        cols.clear();
        while i < lines.len() && lines[i].has_comment {
            cols.push(columns(&toks[lines[i].start..lines[i].comment]));
            i += 1;
        }
        let max = cols.iter().copied().max().unwrap_or(0);
        for (line, c) in lines[start..i].iter().zip(&cols) {
            toks[line.comment].spaces = (max - c + 1) as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    //! Each expected text is what `terraform fmt -` (v1.0.3) printed for
    //! the input.
    use super::*;

    fn check(input: &str, expected: &str) {
        let file = SourceFile::new("test.tf", input);
        match format_terraform(&file) {
            Ok(out) => assert_eq!(out, expected, "input:\n{input}"),
            Err(d) => panic!("does not parse: {:?}", d.iter().next()),
        }
    }

    #[test]
    fn rejects_invalid_input() {
        let file = SourceFile::new("test.tf", "a = \n");
        assert!(format_terraform(&file).is_err());
    }

    #[test]
    fn source_form_adds_no_final_newline() {
        // `terraform fmt FILE` writes (and `-check` compares) these bytes.
        let src = |t: &str| format_terraform_source(&SourceFile::new("t.tf", t)).ok();
        assert_eq!(src("a=1").as_deref(), Some("a = 1"));
        assert_eq!(src("").as_deref(), Some(""));
        assert_eq!(src("b = 2\n\n  ").as_deref(), Some("b = 2\n\n  "));
    }

    #[test]
    fn empty_input() {
        check("", "\n");
    }

    #[test]
    fn heredoc_close_marker_with_trailing_space() {
        check(
            "a = <<EOT\nx\nEOT \nbb    = 1\n",
            "a  = <<EOT\nx\nEOT \nbb = 1\n",
        );
    }

    #[test]
    fn indent_nested_blocks() {
        check(
            "terraform {\nrequired_providers {\nfoo = { version = \"1.0.0\" }\n}\n}\n",
            "terraform {\n  required_providers {\n    foo = { version = \"1.0.0\" }\n  }\n}\n",
        );
    }

    #[test]
    fn align_equals() {
        check("a = 1\nbbb = 2\n\ncc = 3\n", "a   = 1\nbbb = 2\n\ncc = 3\n");
    }

    #[test]
    fn align_comments() {
        check(
            "a = 1 # one\nbbb = \"x\" // two\nc {\n}\n",
            "a   = 1   # one\nbbb = \"x\" // two\nc {\n}\n",
        );
    }

    #[test]
    fn no_alignment_across_blocks() {
        check(
            "a {\n  x = 1\n}\nlonger_name = 2\n",
            "a {\n  x = 1\n}\nlonger_name = 2\n",
        );
    }

    #[test]
    fn multiline_value_breaks_alignment() {
        check(
            "a = 1\nlong_name = [\n  1,\n]\nb = 2\n",
            "a = 1\nlong_name = [\n  1,\n]\nb = 2\n",
        );
    }

    #[test]
    fn spaces_in_expressions() {
        check(
            "a = foo( 1,2 )[ 0 ].b\nb = {a=1,b=[1,2]}\nc = x? -1 :y\n",
            "a = foo(1, 2)[0].b\nb = { a = 1, b = [1, 2] }\nc = x ? -1 : y\n",
        );
    }

    #[test]
    fn unary_minus_and_bang() {
        check(
            "a = - 1\nb = x -1\nc = [ -1, ! true ]\n",
            "a = -1\nb = x - 1\nc = [-1, !true]\n",
        );
    }

    #[test]
    fn for_expressions() {
        check(
            "a = [for x in [foo]: x if x]\nb = {for k,v in m: k=>v...}\n",
            "a = [for x in [foo] : x if x]\nb = { for k, v in m : k => v... }\n",
        );
    }

    #[test]
    fn templates_are_compacted() {
        check(
            "a = \"x${ foo }y%{ if b }z%{ endif }\"\n",
            "a = \"x${foo}y%{if b}z%{endif}\"\n",
        );
    }

    #[test]
    fn heredoc_verbatim() {
        check(
            "a = <<-EOT\n  keep   ${ x }   spacing\n    EOT\nbb = 2\n",
            "a  = <<-EOT\n  keep   ${x}   spacing\n    EOT\nbb = 2\n",
        );
    }

    #[test]
    fn blank_lines_kept() {
        check("a = 1\n\n\n   \nb = 2\n", "a = 1\n\n\n\nb = 2\n");
    }

    #[test]
    fn crlf_kept() {
        check(
            "a=1\r\nb = {\r\nc=2\r\n}\r\n",
            "a = 1\r\nb = {\r\n  c = 2\r\n}\r\n",
        );
    }

    #[test]
    fn final_newline_added() {
        check("a=1", "a = 1\n");
    }

    #[test]
    fn trailing_spaces_at_eof() {
        check("a = 1\n  ", "a = 1\n  \n");
    }

    #[test]
    fn unbalanced_lines() {
        check(
            "x = [\n  1,\n  2][0]\ny = foo(\n1)\n",
            "x = [\n  1,\n2][0]\ny = foo(\n1)\n",
        );
    }

    #[test]
    fn unwrap_interpolation() {
        check(
            "a = \"${var.x}\"\nb = \"${var.x}-y\"\nc = \"${a}${b}\"\nd = \"${f(\"${x}\")}\"\nblk {\n  e = \"${x}\" # c\n}\n",
            "a = var.x\nb = \"${var.x}-y\"\nc = \"${a}${b}\"\nd = f(\"${x}\")\nblk {\n  e = x # c\n}\n",
        );
    }

    #[test]
    fn unwrap_multiline_adds_parens() {
        check(
            "a = \"${x ? 1 :\n2}\"\nb = \"${(x ? 1 :\n2)}\"\nc = \"${\nfoo\n}\"\n",
            "a = (x ? 1 :\n2)\nb = (x ? 1 :\n2)\nc = foo\n",
        );
    }

    #[test]
    fn unwrap_not_in_nested_values() {
        check(
            "a = [\"${x}\"]\nb = { c = \"${x}\" }\nc = (\"${x}\")\n",
            "a = [\"${x}\"]\nb = { c = \"${x}\" }\nc = (\"${x}\")\n",
        );
    }

    #[test]
    fn variable_types() {
        check(
            "variable \"a\" {\n  type = list\n}\nvariable \"b\" {\n  type = \"map\"\n}\nvariable \"c\" {\n  type = \"string\"\n}\nvariable \"d\" {\n  type = set # s\n}\nvariable \"e\" {\n  type = \"list\"\n  nested {\n    type = map\n  }\n}\nother \"f\" {\n  type = list\n}\ntype = map\n",
            "variable \"a\" {\n  type = list(any)\n}\nvariable \"b\" {\n  type = map(string)\n}\nvariable \"c\" {\n  type = string\n}\nvariable \"d\" {\n  type = set(any) # s\n}\nvariable \"e\" {\n  type = list(string)\n  nested {\n    type = map\n  }\n}\nother \"f\" {\n  type = list\n}\ntype = map\n",
        );
    }

    #[test]
    fn block_labels_quoted() {
        check(
            "resource aws_instance web {}\nresource \"a\" /* c */ \"b\" {\n}\nresource x /* kept */ {\n}\nblk {\n  inner label {}\n}\n",
            "resource \"aws_instance\" \"web\" {}\nresource \"a\" \"b\" {\n}\nresource \"x\" /* kept */ {\n}\nblk {\n  inner \"label\" {}\n}\n",
        );
    }

    #[test]
    fn block_label_escapes() {
        check(
            "resource \"a\\u00e9\\t\" \"$\" \"\" {}\nresource \"a$b\" \"c\" {}\n",
            "resource \"aé\\t\" \"$\" \"\" {}\nresource \"c\" {}\n",
        );
    }

    #[test]
    fn one_line_blocks_and_objects() {
        check(
            "a { b = 1 }\nc = {}\nd = { }\ne = {a=1}\n",
            "a { b = 1 }\nc = {}\nd = {}\ne = { a = 1 }\n",
        );
    }

    #[test]
    fn comment_only_lines_indent() {
        check(
            "a {\n# c\n      // d\n  /* e */\nb = 1\n}\n",
            "a {\n  # c\n  // d\n  /* e */\n  b = 1\n}\n",
        );
    }

    #[test]
    fn splat_and_index() {
        check(
            "a = b[*].c\nb = d.*.e\nc = f[0] [1]\nd = \"x\" [0]\n",
            "a = b[*].c\nb = d.*.e\nc = f[0][1]\nd = \"x\" [0]\n",
        );
    }

    #[test]
    fn operators() {
        check(
            "a = 1+2*3/4%5\nb = a==b&&c!=d||e>=f\nc = a<b\n",
            "a = 1 + 2 * 3 / 4 % 5\nb = a == b && c != d || e >= f\nc = a < b\n",
        );
    }

    #[test]
    fn reference_bool_and_null_index_keys_are_lost() {
        check(
            "a = x[true]\nb = x.y[null].z\nc = [for v in x: v[false]]\nd = f(x)[true]\ne = \"${x[true]}\"\n",
            "a = x[]\nb = x.y[].z\nc = [for v in x : v[false]]\nd = f(x)[true]\ne = x[]\n",
        );
    }

    #[test]
    fn comments_between_tokens_kept() {
        check(
            "a /* c */ = 1\nd = /* i */ \"${x}\" /* j */\nblk /* c */ { /* d */\n  x = 1 /* e */ # f\n} /* g */\n",
            "a /* c */ = 1\nd         = /* i */ x /* j */\nblk /* c */ { /* d */\n  x = 1 /* e */ # f\n} /* g */\n",
        );
    }

    #[test]
    fn heredoc_interpolation_brackets_prevent_alignment() {
        check(
            "bb = 1\naaaa = <<EOT\n${f({\n    c   =   1\n  })}\nEOT\nd = 1\n",
            "bb = 1\naaaa = <<EOT\n${f({\nc = 1\n})}\nEOT\nd = 1\n",
        );
    }

    #[test]
    fn comment_alignment_counts_grapheme_clusters() {
        check(
            "a = \"é⚠️\" # c\nbbbbbbbbbbbbb = 1 # d\nc = \"👨‍👩\" # e\n",
            "a             = \"é⚠️\" # c\nbbbbbbbbbbbbb = 1    # d\nc             = \"👨‍👩\"  # e\n",
        );
    }

    #[test]
    fn comment_alignment_crlf_heredoc_counts_one_column() {
        check(
            "x { # c\r\n  d = f(<<EOT\r\n  h ${ { // x\r\n  a = 1 } }\r\nEOT\r\n  )\r\n}\r\n",
            "x {                    # c\r\n  d = f(<<EOT\r\n  h ${ { // x\r\na = 1 } }\r\nEOT\r\n)\r\n}\r\n",
        );
    }

    #[test]
    fn assignment_cell_indent_count_continues_past_heredoc() {
        check(
            "v = [[[{\nb = 1 }]], f(<<EOT\n${g(1,\n2)}\nEOT\n)]\n",
            "v = [[[{\n  b = 1 }]], f(<<EOT\n${g(1,\n  2)}\nEOT\n)]\n",
        );
    }
}
