//! Rendering diagnostics the way Terraform prints them: the plain layout
//! (`-no-color`), the framed colour layout, and the JSON object used by
//! `validate -json` and the machine-readable UI.

use crate::diag::{Diagnostic, Severity, SourceRange};
use crate::lexer::{lex, TokenKind};
use crate::span::SourceFile;
use serde_json::{json, Value};

/// `Error: ...` / `Warning: ...` text without colour, followed by the
/// source location, the snippet and the detail wrapped to `width` columns
/// (0 = no wrapping). Starts with a blank line, as Terraform's does.
pub fn plain(d: &Diagnostic, width: usize) -> String {
    let mut out = String::from("\n");
    let label = match d.severity {
        Severity::Error => "Error",
        Severity::Warning => "Warning",
    };
    out.push_str(&format!("{label}: {}\n", d.summary));
    if let Some(subject) = &d.subject {
        out.push('\n');
        if let Some(addr) = &d.address {
            out.push_str(&format!("  with {addr},\n"));
        }
        for line in source_lines(subject, d.context.as_ref()) {
            out.push_str(&line.plain);
            out.push('\n');
        }
    }
    // A snippet is followed by a blank line even without a detail.
    if d.subject.is_some() || !d.detail.is_empty() {
        out.push('\n');
    }
    if !d.detail.is_empty() {
        // Terraform wraps plain details one column short of the width.
        out.push_str(&wrap(&d.detail, width.saturating_sub(1)));
        out.push('\n');
    }
    out
}

/// The framed, coloured layout Terraform uses on a terminal.
pub fn colored(d: &Diagnostic, width: usize) -> String {
    let (color, label) = match d.severity {
        Severity::Error => ("31", "Error: "),
        Severity::Warning => ("33", "Warning: "),
    };
    let bar = format!("\x1b[{color}m│\x1b[0m \x1b[0m");
    // A summary of several lines (provider errors) gets the frame on
    // each of them.
    let mut lines: Vec<String> = format!(
        "\x1b[1m\x1b[{color}m{label}\x1b[0m\x1b[0m\x1b[1m{}\x1b[0m",
        d.summary
    )
    .split('\n')
    .map(str::to_string)
    .collect();
    if let Some(subject) = &d.subject {
        lines.push(String::new());
        let mut first = true;
        if let Some(addr) = &d.address {
            lines.push(format!("\x1b[0m  with {addr},"));
            first = false;
        }
        for line in source_lines(subject, d.context.as_ref()) {
            if first {
                lines.push(format!("\x1b[0m{}", line.plain));
                first = false;
            } else {
                lines.push(line.colored);
            }
        }
    }
    if d.subject.is_some() || !d.detail.is_empty() {
        lines.push(String::new());
    }
    if !d.detail.is_empty() {
        for l in wrap(&d.detail, width.saturating_sub(2)).split('\n') {
            lines.push(l.to_string());
        }
    }
    let mut out = format!("\x1b[{color}m╷\x1b[0m\x1b[0m\n");
    for l in lines {
        out.push_str(&bar);
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str(&format!("\x1b[{color}m╵\x1b[0m\x1b[0m\n"));
    out
}

struct SnippetLine {
    plain: String,
    colored: String,
}

/// The `on FILE line N, in CONTEXT:` line and the source lines of the
/// subject, with the subject underlined in the coloured form.
fn source_lines(subject: &SourceRange, context: Option<&SourceRange>) -> Vec<SnippetLine> {
    let file = &subject.file;
    let start = file.pos(subject.span.start);
    let mut header = format!("  on {} line {}", file.name, start.line);
    if let Some(ctx) = context_string(file, subject.span.start) {
        header.push_str(", in ");
        header.push_str(&ctx);
    }
    header.push(':');
    let mut out = vec![SnippetLine {
        plain: header.clone(),
        colored: header,
    }];
    // The snippet covers the context range when it encloses the subject.
    let (from, to) = match context {
        Some(c) if c.span.start <= subject.span.start && c.span.end >= subject.span.end => {
            (file.pos(c.span.start).line, file.pos(c.span.end).line)
        }
        _ => (start.line, end_line(file, subject.span)),
    };
    for line in from..=to.max(from) {
        let text = file.line_text(line);
        let line_start = file.line_start(line);
        let hs = (subject.span.start as usize)
            .saturating_sub(line_start)
            .min(text.len());
        let he = (subject.span.end as usize)
            .saturating_sub(line_start)
            .min(text.len());
        let colored = if hs < he && text.is_char_boundary(hs) && text.is_char_boundary(he) {
            format!(
                "{:>4}: {}\x1b[4m{}\x1b[0m{}\x1b[0m",
                line,
                &text[..hs],
                &text[hs..he],
                &text[he..]
            )
        } else {
            format!("{line:>4}: {text}\x1b[0m")
        };
        out.push(SnippetLine {
            plain: format!("{line:>4}: {text}"),
            colored,
        });
    }
    out
}

/// The last line a span covers: a span ending just after a newline ends on
/// the line that newline terminates.
fn end_line(file: &SourceFile, span: crate::span::Span) -> usize {
    let end = if span.end > span.start
        && file.text.as_bytes().get(span.end as usize - 1) == Some(&b'\n')
    {
        span.end - 1
    } else {
        span.end
    };
    file.pos(end).line
}

/// The header of the top-level block containing `offset`, e.g.
/// `resource "aws_instance" "web"`, as Terraform names it in diagnostics.
pub fn context_string(file: &SourceFile, offset: u32) -> Option<String> {
    let tokens = lex(&file.text);
    let mut depth = 0usize;
    let mut line_start = true;
    let mut header: Vec<String> = Vec::new();
    let mut collecting = false;
    let mut header_start = 0u32;
    let mut current: Option<(String, u32)> = None;
    for t in &tokens {
        if t.span.start > offset && depth == 0 {
            break;
        }
        let text = file.slice(t.span);
        match t.kind {
            TokenKind::Newline => {
                line_start = true;
                collecting = false;
                header.clear();
                continue;
            }
            TokenKind::Comment if text.ends_with('\n') => {
                line_start = true;
                collecting = false;
                header.clear();
                continue;
            }
            TokenKind::Comment => continue,
            _ => {}
        }
        if depth == 0 {
            match t.kind {
                TokenKind::Ident if line_start => {
                    collecting = true;
                    header_start = t.span.start;
                    header = vec![text.to_string()];
                }
                TokenKind::Ident if collecting => header.push(format!("{text:?}")),
                TokenKind::QuotedLit if collecting => header.push(format!("{text:?}")),
                TokenKind::OQuote | TokenKind::CQuote if collecting => {}
                TokenKind::OBrace if collecting => {
                    // A subject that starts exactly at the block type (its
                    // declaration) is not "in" the block; anything after
                    // it (labels, braces, body) is, as Terraform shows it.
                    if header_start < offset {
                        current = Some((header.join(" "), t.span.start));
                    }
                }
                _ => collecting = false,
            }
        }
        line_start = false;
        match t.kind {
            TokenKind::OBrace | TokenKind::TemplateInterp | TokenKind::TemplateControl => {
                depth += 1
            }
            TokenKind::CBrace | TokenKind::TemplateSeqEnd => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if t.span.end > offset {
                        return current.map(|c| c.0);
                    }
                    current = None;
                }
            }
            _ => {}
        }
    }
    if depth > 0 {
        current.map(|c| c.0)
    } else {
        None
    }
}

/// Word-wraps each paragraph of `text` at `width` columns. Lines that start
/// with a space (preformatted) are kept as they are.
pub fn wrap(text: &str, width: usize) -> String {
    if width == 0 {
        return text.to_string();
    }
    let mut out = Vec::new();
    for line in text.split('\n') {
        if line.starts_with(' ') || line.chars().count() <= width {
            out.push(line.to_string());
            continue;
        }
        let mut cur = String::new();
        for word in line.split(' ') {
            if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > width {
                out.push(std::mem::take(&mut cur));
            }
            if !cur.is_empty() {
                cur.push(' ');
            }
            cur.push_str(word);
        }
        out.push(cur);
    }
    out.join("\n")
}

/// The JSON form of a diagnostic, as in `terraform validate -json`.
pub fn json(d: &Diagnostic) -> Value {
    let mut obj = json!({
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "summary": d.summary,
        "detail": d.detail,
    });
    if let Some(addr) = &d.address {
        obj["address"] = json!(addr);
    }
    if let Some(s) = &d.subject {
        let file = &s.file;
        let start = file.pos(s.span.start);
        let end = file.pos(s.span.end);
        let pos = |p: crate::span::Pos| json!({"line": p.line, "column": p.column, "byte": p.byte});
        obj["range"] = json!({
            "filename": file.name,
            "start": pos(start),
            "end": pos(end),
        });
        let (code_from, code_to) = match &d.context {
            Some(c) if c.span.start <= s.span.start && c.span.end >= s.span.end => {
                (file.pos(c.span.start).line, file.pos(c.span.end).line)
            }
            _ => (start.line, end_line(file, s.span)),
        };
        let code: Vec<&str> = (code_from..=code_to.max(code_from))
            .map(|l| file.line_text(l))
            .collect();
        let code_start = file.line_start(code_from);
        let hs = s.span.start as usize - code_start.min(s.span.start as usize);
        let he = (s.span.end as usize).saturating_sub(code_start);
        obj["snippet"] = json!({
            "context": context_string(file, s.span.start),
            "code": code.join("\n"),
            "start_line": code_from,
            "highlight_start_offset": hs,
            "highlight_end_offset": he,
            "values": [],
        });
    }
    obj
}
