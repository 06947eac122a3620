//! Recursive-descent parser for HCL native syntax, with Terraform's error
//! messages. Comments are skipped; a line comment stands in for the newline
//! it absorbed, exactly as HCL's parser treats it.

use crate::ast::*;
use crate::diag::{Diagnostic, Diagnostics};
use crate::lexer::{lex, Token, TokenKind};
use crate::span::{SourceFile, Span};
use std::collections::HashSet;
use std::sync::Arc;

use TokenKind as T;

/// A fast non-cryptographic hash for the interner (names are not
/// attacker-chosen in a way that matters: a collision only costs time in
/// one file's parse).
#[derive(Default, Clone, Copy)]
struct BuildFxHasher;

impl std::hash::BuildHasher for BuildFxHasher {
    type Hasher = FxHasher;
    fn build_hasher(&self) -> FxHasher {
        FxHasher(0)
    }
}

struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }
}

/// Strings longer than this are not interned (they are rarely repeated).
const INTERN_MAX: usize = 64;

/// Deeper nesting than this is reported instead of risking the stack.
const MAX_DEPTH: usize = 100;

/// Longest chain of operators of one precedence (`a + b + ...`).
const MAX_CHAIN: usize = 10_000;

/// A parsed file: its body plus any diagnostics. The body holds whatever
/// could be recovered even when there are errors.
#[derive(Debug)]
pub struct ParsedFile {
    pub file: Arc<SourceFile>,
    pub body: Body,
    pub diagnostics: Diagnostics,
}

/// Parses a whole configuration file.
pub fn parse_file(file: &Arc<SourceFile>) -> ParsedFile {
    let tokens = lex(&file.text);
    let mut p = Parser::new(file, &tokens);
    let body = p.body(false, 0);
    ParsedFile {
        file: file.clone(),
        body,
        diagnostics: p.diags,
    }
}

/// Parses a file handing each top-level item to `sink` as soon as it is
/// parsed, so a caller that does not keep them never holds the whole tree
/// (`fmt` and `validate` of very large files). Returns the diagnostics.
pub fn parse_file_items(file: &Arc<SourceFile>, sink: &mut dyn FnMut(Structure)) -> Diagnostics {
    let tokens = lex(&file.text);
    parse_tokens_items(file, &tokens, sink)
}

/// Like [`parse_file_items`] for a caller that already has the file's
/// tokens (from [`crate::lexer::lex`] of the same text), e.g. the
/// formatter, so the file is scanned once.
pub fn parse_tokens_items(
    file: &Arc<SourceFile>,
    tokens: &[Token],
    sink: &mut dyn FnMut(Structure),
) -> Diagnostics {
    let mut p = Parser::new(file, tokens);
    p.body_items(false, 0, sink);
    p.diags
}

/// Parses a standalone expression (console input, `-var` values, `-target`).
pub fn parse_expression(file: &Arc<SourceFile>) -> (Option<Expr>, Diagnostics) {
    let tokens = lex(&file.text);
    let mut p = Parser::new(file, &tokens);
    p.nl.push(false);
    let expr = p.expression();
    if !p.failed {
        let t = p.peek();
        if t.kind != T::Eof {
            p.error(
                "Extra characters after expression",
                "An expression was successfully parsed, but extra characters were found after it.",
                t.span,
            );
        }
    }
    let failed = p.failed;
    (if failed { None } else { Some(expr) }, p.diags)
}

/// Parses the content of a bare template (`src` holds no quotes), e.g. a
/// string from a JSON configuration file. Spans are offset by `base` so they
/// point into the file the text was taken from.
pub fn parse_template(
    file: &Arc<SourceFile>,
    src: &str,
    base: usize,
) -> (Option<Expr>, Diagnostics) {
    let mut tokens = crate::lexer::lex_template(src);
    for t in &mut tokens {
        t.span = Span::new(t.span.start as usize + base, t.span.end as usize + base);
    }
    // The parser reads token text from the file; when `src` is not a slice
    // of the file at `base`, parse against a file of its own.
    let own;
    let file = if file.text.get(base..base + src.len()) == Some(src) {
        file
    } else {
        own = SourceFile::new(file.name.clone(), format!("{}{}", " ".repeat(base), src));
        &own
    };
    let mut p = Parser::new(file, &tokens);
    let mut raw = Vec::new();
    loop {
        let t = p.raw_next();
        match t.kind {
            T::Eof => break,
            T::StringLit => raw.push(RawPart::Lit(unescape_doubled(p.text(t.span)), t.span)),
            T::TemplateInterp | T::TemplateControl => {
                if !p.template_seq(t, &mut raw) {
                    return (None, p.diags);
                }
            }
            _ => {
                p.error("Invalid template", "Unexpected token in template.", t.span);
                return (None, p.diags);
            }
        }
    }
    let span = Span::new(base, base + src.len());
    let e = p.finish_template(raw, span, false);
    let failed = p.failed;
    (if failed { None } else { Some(e) }, p.diags)
}

struct Parser<'a> {
    file: &'a Arc<SourceFile>,
    src: &'a str,
    toks: &'a [Token],
    pos: usize,
    /// Whether newlines are significant at the current nesting.
    nl: Vec<bool>,
    diags: Diagnostics,
    /// An error has been reported in the current item: later errors would be
    /// noise, so they are suppressed until recovery.
    failed: bool,
    depth: usize,
    /// Set by `nest_parts` when an `if` branch ended at `else` (true) or
    /// `endif` (false).
    last_was_else: Option<bool>,
    /// An error consumed the input up to its end (an unterminated heredoc):
    /// enclosing blocks are then not reported as unclosed as well.
    hit_eof_in_error: bool,
    /// Names and short literals seen in this file: identical ones share one
    /// allocation, which roughly halves the tree of a large file.
    interned: HashSet<Arc<str>, BuildFxHasher>,
}

impl<'a> Parser<'a> {
    fn new(file: &'a Arc<SourceFile>, toks: &'a [Token]) -> Self {
        Parser {
            file,
            src: &file.text,
            toks,
            pos: 0,
            nl: vec![true],
            diags: Diagnostics::new(),
            failed: false,
            depth: 0,
            last_was_else: None,
            hit_eof_in_error: false,
            interned: HashSet::default(),
        }
    }

    fn intern(&mut self, s: &str) -> Arc<str> {
        if s.len() > INTERN_MAX {
            return Arc::from(s);
        }
        if let Some(a) = self.interned.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.interned.insert(a.clone());
        a
    }

    fn newlines(&self) -> bool {
        *self.nl.last().unwrap_or(&true)
    }

    /// The next significant token and the index after it.
    fn peek_at(&self) -> (Token, usize) {
        let nl = self.newlines();
        let mut i = self.pos;
        loop {
            let Some(t) = self.toks.get(i) else {
                let n = self.src.len();
                return (
                    Token {
                        kind: T::Eof,
                        span: Span::new(n, n),
                    },
                    i,
                );
            };
            match t.kind {
                T::Comment => {
                    if nl && self.src.as_bytes().get(t.span.end as usize - 1) == Some(&b'\n') {
                        let end = t.span.end as usize;
                        let start = if self.src[..end].ends_with("\r\n") {
                            end - 2
                        } else {
                            end - 1
                        };
                        return (
                            Token {
                                kind: T::Newline,
                                span: Span::new(start, end),
                            },
                            i + 1,
                        );
                    }
                    i += 1;
                }
                T::Newline if !nl => i += 1,
                _ => return (*t, i + 1),
            }
        }
    }

    fn peek(&self) -> Token {
        self.peek_at().0
    }

    fn next(&mut self) -> Token {
        let (t, i) = self.peek_at();
        self.pos = i;
        t
    }

    /// The raw next token (templates: no skipping of anything).
    fn raw_next(&mut self) -> Token {
        match self.toks.get(self.pos) {
            Some(t) => {
                self.pos += 1;
                *t
            }
            None => {
                let n = self.src.len();
                Token {
                    kind: T::Eof,
                    span: Span::new(n, n),
                }
            }
        }
    }

    fn text(&self, span: Span) -> &'a str {
        self.src.get(span.range()).unwrap_or("")
    }

    fn error(&mut self, summary: &str, detail: &str, span: Span) {
        if self.failed {
            return;
        }
        self.failed = true;
        self.diags
            .push(Diagnostic::error(summary, detail).with_subject(self.file, span));
    }

    fn error_ctx(&mut self, summary: &str, detail: &str, span: Span, ctx: Span) {
        if self.failed {
            return;
        }
        self.failed = true;
        self.diags.push(
            Diagnostic::error(summary, detail)
                .with_subject(self.file, span)
                .with_context(self.file, ctx),
        );
    }

    fn ident(&mut self, t: Token) -> Ident {
        Ident {
            name: self.intern(self.text(t.span)),
            span: t.span,
        }
    }

    // ---- bodies ------------------------------------------------------

    /// Parses body items until `}` (when `in_block`) or end of file.
    fn body(&mut self, in_block: bool, start: usize) -> Body {
        let mut items = Vec::new();
        let span = self.body_items(in_block, start, &mut |s| items.push(s));
        items.shrink_to_fit();
        Body { items, span }
    }

    /// Parses body items until `}` (when `in_block`) or end of file, handing
    /// each to `sink`; returns the body's span.
    fn body_items(
        &mut self,
        in_block: bool,
        start: usize,
        sink: &mut dyn FnMut(Structure),
    ) -> Span {
        let mut seen_attrs: std::collections::HashMap<Arc<str>, Span> = Default::default();
        loop {
            let t = self.peek();
            match t.kind {
                T::Newline => {
                    self.next();
                }
                T::Eof => {
                    return Span::new(start, t.span.end as usize);
                }
                T::CBrace if in_block => {
                    return Span::new(start, t.span.start as usize);
                }
                T::Ident => {
                    self.failed = false;
                    match self.body_item() {
                        Some(Structure::Attribute(a)) => {
                            if let Some(prev) = seen_attrs.get(&a.name.name) {
                                let pos = self.file.pos(prev.start);
                                self.diags.push(
                                    Diagnostic::error(
                                        "Attribute redefined",
                                        format!(
                                            "The argument {:?} was already set at {}:{},{}-{}. Each argument may only be set once.",
                                            a.name.as_str(),
                                            self.file.name,
                                            pos.line,
                                            pos.column,
                                            self.file.pos(prev.end).column
                                        ),
                                    )
                                    .with_subject(self.file, a.name.span),
                                );
                            } else {
                                seen_attrs.insert(a.name.name.clone(), a.name.span);
                            }
                            sink(Structure::Attribute(a))
                        }
                        Some(s) => sink(s),
                        None => self.recover_line(),
                    }
                }
                T::OQuote => {
                    self.failed = false;
                    let start_tok = self.pos;
                    // A quoted name followed by `=` is a quoted argument name.
                    self.next();
                    let mut end;
                    loop {
                        let r = self.raw_next();
                        end = r.span;
                        if matches!(r.kind, T::CQuote | T::Eof | T::QuotedNewline) {
                            break;
                        }
                    }
                    if self.peek().kind == T::Equal {
                        self.error(
                            "Invalid argument name",
                            "Argument names must not be quoted.",
                            t.span.to(end),
                        );
                    } else {
                        self.pos = start_tok;
                        self.error(
                            "Argument or block definition required",
                            "An argument or block definition is required here.",
                            t.span,
                        );
                    }
                    self.recover_line();
                }
                _ => {
                    self.failed = false;
                    let detail = "An argument or block definition is required here.";
                    self.error("Argument or block definition required", detail, t.span);
                    // Consume the offending token (it may be a stray `}` at
                    // top level, which recovery would otherwise leave).
                    self.next();
                    if t.kind != T::CBrace {
                        self.recover_line();
                    }
                }
            }
        }
    }

    /// Skips to the end of the current line, honouring bracket nesting, so
    /// that the next item can be parsed after an error.
    fn recover_line(&mut self) {
        let mut depth = 0usize;
        loop {
            let t = self.raw_next();
            match t.kind {
                T::Eof => {
                    self.pos = self.toks.len().saturating_sub(1);
                    return;
                }
                T::OBrace | T::OBrack | T::OParen | T::TemplateInterp | T::TemplateControl => {
                    depth += 1
                }
                T::OQuote | T::OHeredoc => depth += 1,
                T::CQuote | T::CHeredoc => depth = depth.saturating_sub(1),
                T::CBrace | T::CBrack | T::CParen | T::TemplateSeqEnd => {
                    if depth == 0 {
                        // Leave the closing brace for the enclosing block.
                        self.pos -= 1;
                        return;
                    }
                    depth -= 1
                }
                T::Newline if depth == 0 => return,
                T::Comment if depth == 0 && self.text(t.span).ends_with('\n') => return,
                _ => {}
            }
        }
    }

    fn body_item(&mut self) -> Option<Structure> {
        let name_tok = self.next();
        let name = self.ident(name_tok);
        let t = self.peek();
        match t.kind {
            T::Equal => {
                self.next();
                let expr = self.expression();
                if self.failed {
                    return None;
                }
                let after = self.peek();
                match after.kind {
                    T::Newline | T::Eof => {}
                    _ => {
                        self.error(
                            "Missing newline after argument",
                            "An argument definition must end with a newline.",
                            after.span,
                        );
                        return None;
                    }
                }
                let span = name.span.to(expr.span);
                Some(Structure::Attribute(Attribute {
                    name,
                    expr,
                    span,
                    equals_span: t.span,
                }))
            }
            T::OQuote | T::Ident | T::OBrace => self.block(name).map(Structure::Block),
            _ => {
                let detail = "An argument or block definition is required here. To set an argument, use the equals sign \"=\" to introduce the argument value.";
                self.error("Argument or block definition required", detail, t.span);
                None
            }
        }
    }

    fn block(&mut self, ident: Ident) -> Option<Block> {
        let mut labels = Vec::new();
        let open = loop {
            let t = self.next();
            match t.kind {
                T::OBrace => break t,
                T::Ident => labels.push(BlockLabel {
                    value: self.intern(self.text(t.span)),
                    span: t.span,
                    quoted: false,
                }),
                T::OQuote => {
                    let (value, span) = self.quoted_label(t)?;
                    labels.push(BlockLabel {
                        value,
                        span,
                        quoted: true,
                    })
                }
                _ => {
                    self.error(
                        "Invalid block definition",
                        "Either a quoted string block label or an opening brace (\"{\") is expected here.",
                        t.span,
                    );
                    return None;
                }
            }
        };
        if self.depth > MAX_DEPTH {
            self.error(
                "Configuration nested too deeply",
                "Blocks may be nested at most 100 levels deep.",
                open.span,
            );
            return None;
        }
        let after_open = self.peek();
        let body;
        if after_open.kind == T::Newline || after_open.kind == T::CBrace {
            self.depth += 1;
            let b = self.body(true, open.span.end as usize);
            self.depth -= 1;
            body = b;
            let close = self.next();
            if close.kind != T::CBrace {
                if self.hit_eof_in_error {
                    return None;
                }
                let detail = "There is no closing brace for this block before the end of the file. This may be caused by incorrect brace nesting elsewhere in this file.";
                // Report at the opening brace, as HCL does, but only once.
                self.failed = false;
                self.error("Unclosed configuration block", detail, open.span);
                return None;
            }
            let span = ident.span.to(close.span);
            let block = Block {
                ident,
                labels,
                body,
                open_brace: open.span,
                close_brace: close.span,
                span,
            };
            if self.failed {
                return Some(block);
            }
            self.block_end(block)
        } else {
            // A single-line block: `name { arg = value }`.
            let t = self.next();
            if t.kind != T::Ident {
                self.error(
                    "Invalid single-argument block definition",
                    "A single-line block definition must end with a closing brace immediately after its single argument definition.",
                    t.span,
                );
                return None;
            }
            let aname = self.ident(t);
            let eq = self.next();
            if eq.kind != T::Equal {
                self.error(
                    "Invalid single-argument block definition",
                    "A single-line block definition can contain only a single argument. If you meant to define argument \"x\", use an equals sign to assign it a value. To define a nested block, place it on a line of its own within its parent block.",
                    aname.span.to(eq.span),
                );
                return None;
            }
            let expr = self.expression();
            if self.failed {
                return None;
            }
            let close = self.next();
            if close.kind != T::CBrace {
                self.error(
                    "Invalid single-argument block definition",
                    "A single-line block definition must end with a closing brace immediately after its single argument definition.",
                    close.span,
                );
                return None;
            }
            let attr = Attribute {
                span: aname.span.to(expr.span),
                name: aname,
                expr,
                equals_span: eq.span,
            };
            let span = ident.span.to(close.span);
            self.block_end(Block {
                ident,
                labels,
                body: Body {
                    items: vec![Structure::Attribute(attr)],
                    span: Span::new(open.span.end as usize, close.span.start as usize),
                },
                open_brace: open.span,
                close_brace: close.span,
                span,
            })
        }
    }

    fn block_end(&mut self, block: Block) -> Option<Block> {
        let t = self.peek();
        match t.kind {
            T::Newline | T::Eof => Some(block),
            _ => {
                self.error(
                    "Missing newline after block definition",
                    "A block definition must end with a newline.",
                    t.span,
                );
                Some(block)
            }
        }
    }

    fn quoted_label(&mut self, open: Token) -> Option<(Arc<str>, Span)> {
        let mut value = String::new();
        loop {
            let t = self.raw_next();
            match t.kind {
                T::QuotedLit => {
                    let s = self.decode_quoted(t.span)?;
                    value.push_str(&s)
                }
                T::CQuote => return Some((self.intern(&value), open.span.to(t.span))),
                T::TemplateInterp | T::TemplateControl => {
                    self.error(
                        "Invalid string literal",
                        "Template sequences are not allowed in this string. To include a literal \"${\", double it (as \"$${\") to escape it.",
                        t.span,
                    );
                    return None;
                }
                _ => {
                    self.error(
                        "Unterminated template string",
                        "No closing marker was found for the string.",
                        open.span.to(t.span),
                    );
                    return None;
                }
            }
        }
    }

    // ---- expressions -------------------------------------------------

    fn expression(&mut self) -> Expr {
        self.depth += 1;
        let e = if self.depth > MAX_DEPTH {
            let t = self.peek();
            self.error(
                "Expression nested too deeply",
                "Expressions may be nested at most 100 levels deep.",
                t.span,
            );
            self.bad(t.span)
        } else {
            self.conditional()
        };
        self.depth -= 1;
        e
    }

    fn bad(&self, span: Span) -> Expr {
        Expr {
            kind: ExprKind::Null,
            span,
        }
    }

    fn conditional(&mut self) -> Expr {
        let cond = self.binary(1);
        if self.failed {
            return cond;
        }
        if self.peek().kind != T::Question {
            return cond;
        }
        self.next();
        let then = self.expression();
        if self.failed {
            return then;
        }
        let colon = self.peek();
        if colon.kind != T::Colon {
            self.error(
                "Missing false expression in conditional",
                "The conditional operator (...?...:...) requires a false expression, delimited by a colon.",
                colon.span,
            );
            return then;
        }
        self.next();
        let otherwise = self.expression();
        let span = cond.span.to(otherwise.span);
        Expr {
            kind: ExprKind::Conditional {
                cond: Box::new(cond),
                then: Box::new(then),
                otherwise: Box::new(otherwise),
            },
            span,
        }
    }

    /// Binary operators by precedence climbing: operators binding at least
    /// as tightly as `min` (1 = `||` ... 6 = `*`), left-associative. One
    /// call per operand, whatever the number of precedence levels.
    fn binary(&mut self, min: u8) -> Expr {
        let mut lhs = self.unary();
        let mut chain = 0usize;
        loop {
            if self.failed {
                return lhs;
            }
            let t = self.peek();
            let (op, prec) = match t.kind {
                T::Or => (BinaryOp::Or, 1),
                T::And => (BinaryOp::And, 2),
                T::EqualOp => (BinaryOp::Equal, 3),
                T::NotEqual => (BinaryOp::NotEqual, 3),
                T::LessThan => (BinaryOp::Less, 4),
                T::LessThanEq => (BinaryOp::LessOrEqual, 4),
                T::GreaterThan => (BinaryOp::Greater, 4),
                T::GreaterThanEq => (BinaryOp::GreaterOrEqual, 4),
                T::Plus => (BinaryOp::Add, 5),
                T::Minus => (BinaryOp::Subtract, 5),
                T::Star => (BinaryOp::Multiply, 6),
                T::Slash => (BinaryOp::Divide, 6),
                T::Percent => (BinaryOp::Modulo, 6),
                _ => return lhs,
            };
            if prec < min {
                return lhs;
            }
            self.next();
            // A left-deep chain is as deep as it is long for everything
            // that walks or drops the tree: bound it like nesting.
            chain += 1;
            if chain > MAX_CHAIN {
                self.error(
                    "Expression too long",
                    "An expression may chain at most 10000 operators.",
                    t.span,
                );
                return lhs;
            }
            let rhs = self.binary(prec + 1);
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
                span,
            };
        }
    }

    fn unary(&mut self) -> Expr {
        let t = self.peek();
        let op = match t.kind {
            T::Minus => UnaryOp::Negate,
            T::Bang => UnaryOp::Not,
            _ => return self.postfix(),
        };
        self.next();
        self.depth += 1;
        let operand = if self.depth > MAX_DEPTH {
            self.error(
                "Expression nested too deeply",
                "Expressions may be nested at most 100 levels deep.",
                t.span,
            );
            self.bad(t.span)
        } else {
            self.unary()
        };
        self.depth -= 1;
        let span = t.span.to(operand.span);
        Expr {
            kind: ExprKind::Unary {
                op,
                operand: Box::new(operand),
            },
            span,
        }
    }

    fn postfix(&mut self) -> Expr {
        let term = self.term();
        if self.failed {
            return term;
        }
        self.traversals(term, false)
    }

    /// Applies `.attr`, `[index]`, `.N`, `[*]` and `.*` to `expr`. With
    /// `legacy_only`, only attribute and `.N` steps are taken (the tail of
    /// a legacy `.*` splat).
    fn traversals(&mut self, mut expr: Expr, legacy_only: bool) -> Expr {
        loop {
            if self.failed {
                return expr;
            }
            let t = self.peek();
            match t.kind {
                T::Dot => {
                    let save = self.pos;
                    self.next();
                    let n = self.next();
                    match n.kind {
                        T::Ident => {
                            expr = push_step(expr, TraversalStep::Attr(self.ident(n)));
                        }
                        T::NumberLit => {
                            let text = self.text(n.span);
                            if !text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                                self.error(
                                    "Invalid legacy index syntax",
                                    "When using the legacy index syntax, chaining two indexes together is not permitted. Use the proper index syntax instead, like [1][2].",
                                    n.span,
                                );
                                return expr;
                            }
                            // `a.0.1` scans `0.1` as one number: two steps.
                            let mut off = n.span.start as usize;
                            for part in text.split('.') {
                                let span = Span::new(off, off + part.len());
                                off += part.len() + 1;
                                expr = push_step(
                                    expr,
                                    TraversalStep::Index {
                                        key: IndexKey::Number(Arc::from(part)),
                                        span,
                                    },
                                );
                            }
                        }
                        T::Star if !legacy_only => {
                            let item = Expr {
                                kind: ExprKind::SplatItem,
                                span: n.span,
                            };
                            let each = self.traversals(item, true);
                            let span = expr.span.to(each.span).to(n.span);
                            expr = Expr {
                                kind: ExprKind::Splat {
                                    source: Box::new(expr),
                                    each: Box::new(each),
                                    legacy: true,
                                },
                                span,
                            };
                        }
                        T::Star => {
                            // A second `.*` ends the legacy splat's tail.
                            self.pos = save;
                            return expr;
                        }
                        _ => {
                            self.error(
                                "Invalid attribute name",
                                "An attribute name is required after a dot.",
                                n.span,
                            );
                            return expr;
                        }
                    }
                }
                T::OBrack if !legacy_only => {
                    self.next();
                    self.nl.push(false);
                    let k = self.peek();
                    if k.kind == T::Star {
                        self.next();
                        let close = self.next();
                        self.nl.pop();
                        if close.kind != T::CBrack {
                            self.error(
                                "Missing close bracket on splat index",
                                "The star for a full splat operator must be immediately followed by a closing bracket (\"]\").",
                                close.span,
                            );
                            return expr;
                        }
                        let item = Expr {
                            kind: ExprKind::SplatItem,
                            span: t.span.to(close.span),
                        };
                        let each = self.traversals(item, false);
                        let span = expr.span.to(each.span).to(close.span);
                        expr = Expr {
                            kind: ExprKind::Splat {
                                source: Box::new(expr),
                                each: Box::new(each),
                                legacy: false,
                            },
                            span,
                        };
                        continue;
                    }
                    let Some((key, close)) = self.enclosed_rest(
                        t,
                        T::CBrack,
                        "Missing close bracket on index",
                        "The index operator must end with a closing bracket (\"]\").",
                    ) else {
                        return expr;
                    };
                    let span = t.span.to(close.span);
                    let literal = match &key.kind {
                        ExprKind::Number(n) => Some(IndexKey::Number(n.clone())),
                        ExprKind::Template {
                            parts,
                            heredoc: false,
                        } => match parts.as_slice() {
                            [] => Some(IndexKey::String(Arc::from(""))),
                            [TemplatePart::Literal { value, .. }] => {
                                Some(IndexKey::String(value.clone()))
                            }
                            _ => None,
                        },
                        _ => None,
                    };
                    expr = match literal {
                        Some(key) if is_traversal(&expr) => {
                            push_step(expr, TraversalStep::Index { key, span })
                        }
                        _ => {
                            let full = expr.span.to(close.span);
                            Expr {
                                kind: ExprKind::Index {
                                    collection: Box::new(expr),
                                    key: Box::new(key),
                                    open_bracket: t.span,
                                },
                                span: full,
                            }
                        }
                    };
                }
                _ => return expr,
            }
        }
    }

    /// After an opening delimiter (with newlines already made
    /// insignificant): an expression, then the closing `close` token. Pops
    /// the newline mode; reports `summary`/`detail` when the closer is
    /// missing.
    fn enclosed_rest(
        &mut self,
        open: Token,
        close: TokenKind,
        summary: &str,
        detail: &str,
    ) -> Option<(Expr, Token)> {
        let inner = self.expression();
        if self.failed {
            self.nl.pop();
            return None;
        }
        let end = self.next();
        self.nl.pop();
        if end.kind != close {
            self.error_ctx(summary, detail, end.span, open.span.to(end.span));
            return None;
        }
        Some((inner, end))
    }

    fn term(&mut self) -> Expr {
        let t = self.peek();
        match t.kind {
            T::NumberLit => {
                self.next();
                Expr {
                    kind: ExprKind::Number(self.intern(self.text(t.span))),
                    span: t.span,
                }
            }
            T::Ident => {
                self.next();
                let name = self.text(t.span);
                let after = self.peek();
                if after.kind == T::OParen {
                    let name = self.ident(t);
                    return self.call(name, t.span);
                }
                if after.kind == T::DoubleColon {
                    return self.provider_call(t);
                }
                let kind = match name {
                    "true" => ExprKind::Bool(true),
                    "false" => ExprKind::Bool(false),
                    "null" => ExprKind::Null,
                    _ => ExprKind::Traversal {
                        root: self.ident(t),
                        steps: Vec::new(),
                    },
                };
                Expr { kind, span: t.span }
            }
            T::OQuote => {
                self.next();
                self.quoted_template(t)
            }
            T::OHeredoc => {
                self.next();
                self.heredoc(t)
            }
            T::OParen => {
                self.next();
                self.nl.push(false);
                let Some((inner, close)) = self.enclosed_rest(
                    t,
                    T::CParen,
                    "Unbalanced parentheses",
                    "Expected a closing parenthesis to terminate the expression.",
                ) else {
                    return self.bad(t.span);
                };
                Expr {
                    kind: ExprKind::Parens(Box::new(inner)),
                    span: t.span.to(close.span),
                }
            }
            T::OBrack => {
                self.next();
                self.tuple(t)
            }
            T::OBrace => {
                self.next();
                self.object(t)
            }
            T::Eof => {
                self.error(
                    "Missing expression",
                    "Expected the start of an expression, but found the end of the file.",
                    t.span,
                );
                self.bad(t.span)
            }
            T::Invalid if self.text(t.span) == "'" => {
                self.error(
                    "Invalid character",
                    "Single quotes are not valid. Use double quotes (\") to enclose strings.",
                    t.span,
                );
                self.bad(t.span)
            }
            _ => {
                self.error(
                    "Invalid expression",
                    "Expected the start of an expression, but found an invalid expression token.",
                    t.span,
                );
                self.bad(t.span)
            }
        }
    }

    /// `provider::NAMESPACE::NAME(args)`, a provider-defined function call.
    fn provider_call(&mut self, first: Token) -> Expr {
        let mut end = first.span;
        let mut parts = 1;
        while self.peek().kind == T::DoubleColon {
            self.next();
            let n = self.next();
            if n.kind != T::Ident {
                self.error(
                    "Invalid function name",
                    "A function name must be an identifier; provider functions are written as provider::NAME::FUNCTION.",
                    n.span,
                );
                return self.bad(n.span);
            }
            end = n.span;
            parts += 1;
        }
        let span = first.span.to(end);
        if self.peek().kind != T::OParen || parts != 3 || self.text(first.span) != "provider" {
            self.error(
                "Invalid function name",
                "Provider-defined functions are called as provider::NAME::FUNCTION(...).",
                span,
            );
            return self.bad(span);
        }
        let name = Ident {
            name: Arc::from(self.text(span)),
            span,
        };
        self.call(name, span)
    }

    fn call(&mut self, name: Ident, name_span: Span) -> Expr {
        let open = self.next();
        self.nl.push(false);
        let mut args = Vec::new();
        let mut expand_final = false;
        let close = loop {
            let t = self.peek();
            if t.kind == T::CParen {
                break self.next();
            }
            if expand_final {
                self.error(
                    "Missing closing parenthesis",
                    "An expanded function argument (with ...) must be immediately followed by closing parentheses.",
                    t.span,
                );
                break t;
            }
            let arg = self.expression();
            if self.failed {
                break t;
            }
            args.push(arg);
            let sep = self.peek();
            match sep.kind {
                T::Comma => {
                    self.next();
                }
                T::Ellipsis => {
                    self.next();
                    expand_final = true;
                    if self.peek().kind == T::Comma {
                        self.next();
                    }
                }
                T::CParen => {}
                _ => {
                    self.error_ctx(
                        "Missing argument separator",
                        "A comma is required to separate each function argument from the next.",
                        sep.span,
                        name_span.to(sep.span),
                    );
                    break sep;
                }
            }
        };
        self.nl.pop();
        let span = name_span.to(close.span);
        Expr {
            kind: ExprKind::Call {
                name,
                args,
                expand_final,
                open_paren: open.span,
                close_paren: close.span,
            },
            span,
        }
    }

    /// `for` first in brackets or braces always starts a for expression, as
    /// in HCL (so `{ for = 1 }` is an error there too).
    fn is_for(&self) -> bool {
        let t = self.peek();
        t.kind == T::Ident && self.text(t.span) == "for"
    }

    fn tuple(&mut self, open: Token) -> Expr {
        self.nl.push(false);
        if self.is_for() {
            let e = self.for_expr(open, false);
            self.nl.pop();
            return e;
        }
        let mut items = Vec::new();
        let close = loop {
            let t = self.peek();
            if t.kind == T::CBrack {
                break self.next();
            }
            let e = self.expression();
            if self.failed {
                break t;
            }
            items.push(e);
            let sep = self.peek();
            match sep.kind {
                T::Comma => {
                    self.next();
                }
                T::CBrack => {}
                _ => {
                    self.error_ctx(
                        "Missing item separator",
                        "Expected a comma to mark the beginning of the next item.",
                        sep.span,
                        open.span.to(sep.span),
                    );
                    break sep;
                }
            }
        };
        self.nl.pop();
        items.shrink_to_fit();
        Expr {
            kind: ExprKind::Tuple(items),
            span: open.span.to(close.span),
        }
    }

    fn object(&mut self, open: Token) -> Expr {
        self.nl.push(false);
        if self.is_for() {
            let e = self.for_expr(open, true);
            self.nl.pop();
            return e;
        }
        self.nl.pop();
        self.nl.push(true);
        let mut items = Vec::new();
        let close = loop {
            let t = self.peek();
            match t.kind {
                T::CBrace => break self.next(),
                T::Newline => {
                    // Blank lines between items are allowed.
                    self.next();
                    continue;
                }
                T::Eof => {
                    self.error_ctx(
                        "Missing close brace on object",
                        "Expected a closing brace (\"}\") to end the object constructor.",
                        t.span,
                        open.span.to(t.span),
                    );
                    break t;
                }
                _ => {}
            }
            let forced = t.kind == T::OParen;
            // A key: newlines are not allowed inside it at top level.
            let key = self.expression();
            if self.failed {
                break t;
            }
            let eq = self.next();
            if eq.kind != T::Equal && eq.kind != T::Colon {
                let detail = if eq.kind == T::Newline {
                    "Expected an equals sign (\"=\") to mark the beginning of the attribute value. If you intended to given an attribute name containing periods or spaces, write the name in quotes to create a string literal."
                } else {
                    "Expected an equals sign (\"=\") to mark the beginning of the attribute value."
                };
                self.error_ctx(
                    "Missing attribute value",
                    detail,
                    eq.span,
                    t.span.to(eq.span),
                );
                break eq;
            }
            let value = self.expression();
            if self.failed {
                break t;
            }
            items.push(ObjectItem {
                key,
                key_forced_expr: forced,
                value,
            });
            let sep = self.peek();
            match sep.kind {
                T::Comma | T::Newline => {
                    self.next();
                }
                T::CBrace => {}
                _ => {
                    self.error_ctx(
                        "Missing attribute separator",
                        "Expected a newline or comma to mark the beginning of the next attribute.",
                        sep.span,
                        open.span.to(sep.span),
                    );
                    break sep;
                }
            }
        };
        self.nl.pop();
        items.shrink_to_fit();
        Expr {
            kind: ExprKind::Object(items),
            span: open.span.to(close.span),
        }
    }

    fn for_expr(&mut self, open: Token, object: bool) -> Expr {
        let close_kind = if object { T::CBrace } else { T::CBrack };
        self.next(); // `for`
        let v1 = self.next();
        if v1.kind != T::Ident {
            self.error(
                "Invalid 'for' expression",
                "For expression requires variable name after 'for'.",
                v1.span,
            );
            return self.bad(v1.span);
        }
        let mut key_var = None;
        let mut value_var = self.ident(v1);
        if self.peek().kind == T::Comma {
            self.next();
            let v2 = self.next();
            if v2.kind != T::Ident {
                self.error(
                    "Invalid 'for' expression",
                    "For expression requires value variable name after comma.",
                    v2.span,
                );
                return self.bad(v2.span);
            }
            key_var = Some(value_var);
            value_var = self.ident(v2);
        }
        let kw = self.next();
        if kw.kind != T::Ident || self.text(kw.span) != "in" {
            self.error(
                "Invalid 'for' expression",
                "For expression requires the 'in' keyword after its name declarations.",
                kw.span,
            );
            return self.bad(kw.span);
        }
        let collection = self.expression();
        if self.failed {
            return collection;
        }
        let colon = self.next();
        if colon.kind != T::Colon {
            self.error(
                "Invalid 'for' expression",
                "For expression requires a colon after the collection expression.",
                colon.span,
            );
            return self.bad(colon.span);
        }
        let first = self.expression();
        if self.failed {
            return first;
        }
        let (key_expr, value_expr) = if object {
            let arrow = self.next();
            if arrow.kind != T::FatArrow {
                self.error(
                    "Invalid 'for' expression",
                    "Key expression in 'for' expression must be followed by an arrow operator.",
                    arrow.span,
                );
                return self.bad(arrow.span);
            }
            let v = self.expression();
            if self.failed {
                return v;
            }
            (Some(first), v)
        } else {
            (None, first)
        };
        let mut grouping = false;
        if self.peek().kind == T::Ellipsis {
            let e = self.next();
            if !object {
                self.error(
                    "Invalid 'for' expression",
                    "Grouping ellipsis (...) can be used only in an object 'for' expression.",
                    e.span,
                );
                return self.bad(e.span);
            }
            grouping = true;
        }
        let mut cond = None;
        let t = self.peek();
        if t.kind == T::Ident && self.text(t.span) == "if" {
            self.next();
            let c = self.expression();
            if self.failed {
                return c;
            }
            cond = Some(c);
        }
        let close = self.next();
        if close.kind != close_kind {
            self.error(
                "Invalid 'for' expression",
                "Extra characters after the end of the 'for' expression.",
                close.span,
            );
            return self.bad(close.span);
        }
        Expr {
            kind: ExprKind::For(Box::new(ForExpr {
                key_var,
                value_var,
                collection,
                key_expr,
                value_expr,
                cond,
                grouping,
            })),
            span: open.span.to(close.span),
        }
    }

    // ---- templates ---------------------------------------------------

    /// Decodes the escapes of a quoted literal.
    fn decode_quoted(&mut self, span: Span) -> Option<String> {
        let raw = self.text(span);
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => {
                    let Some((_, e)) = chars.next() else {
                        self.error(
                            "Invalid escape sequence",
                            "An escape sequence must have a selector character after the backslash.",
                            Span::new(span.start as usize + i, span.start as usize + i + 1),
                        );
                        return None;
                    };
                    match e {
                        'n' => out.push('\n'),
                        'r' => out.push('\r'),
                        't' => out.push('\t'),
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        'u' | 'U' => {
                            let n = if e == 'u' { 4 } else { 8 };
                            let start = i + 2;
                            let hex = raw.get(start..start + n).unwrap_or("");
                            let cp = if hex.len() == n && hex.bytes().all(|b| b.is_ascii_hexdigit())
                            {
                                u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
                            } else {
                                None
                            };
                            match cp {
                                Some(ch) => {
                                    out.push(ch);
                                    for _ in 0..n {
                                        chars.next();
                                    }
                                }
                                None => {
                                    self.error(
                                        "Invalid escape sequence",
                                        &format!("The \\{e} escape must be followed by {n} hexadecimal digits."),
                                        Span::new(span.start as usize + i, span.start as usize + i + 2),
                                    );
                                    return None;
                                }
                            }
                        }
                        other => {
                            self.error(
                                "Invalid escape sequence",
                                &format!(
                                    "The symbol {other:?} is not a valid escape sequence selector."
                                ),
                                Span::new(
                                    span.start as usize + i,
                                    span.start as usize + i + 1 + other.len_utf8(),
                                ),
                            );
                            return None;
                        }
                    }
                }
                '$' | '%' if raw[i + 1..].starts_with(c) && raw[i + 2..].starts_with('{') => {
                    // `$${` / `%%{`: the doubled marker stands for one.
                    chars.next();
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        Some(out)
    }

    fn quoted_template(&mut self, open: Token) -> Expr {
        let mut raw = Vec::new();
        let close = loop {
            let t = self.raw_next();
            match t.kind {
                T::CQuote => break t,
                T::QuotedLit => match self.decode_quoted(t.span) {
                    Some(s) => raw.push(RawPart::Lit(s, t.span)),
                    None => return self.bad(open.span.to(t.span)),
                },
                T::TemplateInterp | T::TemplateControl => {
                    if !self.template_seq(t, &mut raw) {
                        return self.bad(open.span.to(t.span));
                    }
                }
                T::QuotedNewline => {
                    self.error(
                        "Invalid multi-line string",
                        "Quoted strings may not be split over multiple lines. To produce a multi-line string, either use the \\n escape to represent a newline character or use the \"heredoc\" multi-line template syntax.",
                        t.span,
                    );
                    return self.bad(open.span.to(t.span));
                }
                _ => {
                    self.error(
                        "Unterminated template string",
                        "No closing marker was found for the string.",
                        open.span.to(t.span),
                    );
                    return self.bad(open.span.to(t.span));
                }
            }
        };
        let span = open.span.to(close.span);
        self.finish_template(raw, span, false)
    }

    fn heredoc(&mut self, open: Token) -> Expr {
        let flush = self.text(open.span).starts_with("<<-");
        let mut raw = Vec::new();
        let close = loop {
            let t = self.raw_next();
            match t.kind {
                T::CHeredoc => break t,
                T::StringLit => {
                    let s = unescape_doubled(self.text(t.span));
                    raw.push(RawPart::Lit(s, t.span))
                }
                T::TemplateInterp | T::TemplateControl => {
                    if !self.template_seq(t, &mut raw) {
                        return self.bad(open.span.to(t.span));
                    }
                }
                _ => {
                    // As HCL: the subject is the end of input, the context
                    // the heredoc's content.
                    let content = Span::new(open.span.end as usize, t.span.end as usize);
                    self.error_ctx(
                        "Unterminated template string",
                        "No closing marker was found for the string.",
                        Span::new(t.span.end as usize, t.span.end as usize),
                        content,
                    );
                    self.hit_eof_in_error = true;
                    return self.bad(open.span.to(t.span));
                }
            }
        };
        if flush {
            // Strip markers apply first: a line whose preceding newline was
            // stripped no longer starts a line, so its indentation stays.
            apply_strip_markers(&mut raw);
            flush_heredoc(&mut raw);
        }
        self.finish_template(raw, open.span.to(close.span), true)
    }

    /// Parses one `${...}` or `%{...}` sequence into `raw`.
    fn template_seq(&mut self, open: Token, raw: &mut Vec<RawPart>) -> bool {
        let strip_left = self.text(open.span).ends_with('~');
        self.nl.push(false);
        let ok = if open.kind == T::TemplateInterp {
            let e = self.expression();
            if self.failed {
                false
            } else {
                let close = self.next();
                if close.kind != T::TemplateSeqEnd {
                    self.error_ctx(
                        "Extra characters after interpolation expression",
                        "Expected a closing brace to end the interpolation expression, but found extra characters.",
                        close.span,
                        open.span.to(close.span),
                    );
                    false
                } else {
                    let strip_right = self.text(close.span).starts_with('~');
                    raw.push(RawPart::Interp {
                        expr: e,
                        span: open.span.to(close.span),
                        strip_left,
                        strip_right,
                    });
                    true
                }
            }
        } else {
            self.directive(open, strip_left, raw)
        };
        self.nl.pop();
        ok
    }

    fn directive(&mut self, open: Token, strip_left: bool, raw: &mut Vec<RawPart>) -> bool {
        let kw = self.next();
        let word = if kw.kind == T::Ident {
            self.text(kw.span)
        } else {
            ""
        };
        let dir = match word {
            "if" => {
                let c = self.expression();
                if self.failed {
                    return false;
                }
                Directive::If(c)
            }
            "else" => Directive::Else,
            "endif" => Directive::EndIf,
            "endfor" => Directive::EndFor,
            "for" => {
                let v1 = self.next();
                if v1.kind != T::Ident {
                    self.error(
                        "Invalid 'for' directive",
                        "For directive requires variable name after 'for'.",
                        v1.span,
                    );
                    return false;
                }
                let mut key = None;
                let mut val = self.ident(v1);
                if self.peek().kind == T::Comma {
                    self.next();
                    let v2 = self.next();
                    if v2.kind != T::Ident {
                        self.error(
                            "Invalid 'for' directive",
                            "For directive requires value variable name after comma.",
                            v2.span,
                        );
                        return false;
                    }
                    key = Some(val);
                    val = self.ident(v2);
                }
                let inkw = self.next();
                if inkw.kind != T::Ident || self.text(inkw.span) != "in" {
                    self.error(
                        "Invalid 'for' directive",
                        "For directive requires 'in' keyword after names.",
                        inkw.span,
                    );
                    return false;
                }
                let coll = self.expression();
                if self.failed {
                    return false;
                }
                Directive::For(key, val, coll)
            }
            _ => {
                self.error(
                    "Invalid template directive",
                    "A template directive keyword (\"if\", \"for\", etc) is expected at the beginning of a %{ sequence.",
                    kw.span,
                );
                return false;
            }
        };
        let close = self.next();
        if close.kind != T::TemplateSeqEnd {
            self.error(
                "Extra characters in template directive",
                "Expected the end of the template directive, but found extra characters.",
                close.span,
            );
            return false;
        }
        let strip_right = self.text(close.span).starts_with('~');
        raw.push(RawPart::Directive {
            dir,
            span: open.span.to(close.span),
            strip_left,
            strip_right,
        });
        true
    }

    fn finish_template(&mut self, mut raw: Vec<RawPart>, span: Span, heredoc: bool) -> Expr {
        apply_strip_markers(&mut raw);
        let mut iter = raw.into_iter().peekable();
        let parts = match self.nest_parts(&mut iter, None) {
            Some(p) => p,
            None => return self.bad(span),
        };
        if !heredoc {
            if let [TemplatePart::Interp { .. }] = parts.as_slice() {
                if let Some(TemplatePart::Interp { expr, .. }) = parts.into_iter().next() {
                    return Expr {
                        kind: ExprKind::TemplateWrap(Box::new(expr)),
                        span,
                    };
                }
                return self.bad(span);
            }
        }
        Expr {
            kind: ExprKind::Template { parts, heredoc },
            span,
        }
    }

    /// Builds nested template parts from the flat sequence, stopping at the
    /// directive that closes `open` (if any).
    fn nest_parts(
        &mut self,
        iter: &mut std::iter::Peekable<std::vec::IntoIter<RawPart>>,
        open: Option<(&'static str, Span)>,
    ) -> Option<Vec<TemplatePart>> {
        let mut out = Vec::new();
        while let Some(p) = iter.next() {
            match p {
                RawPart::Lit(s, span) => {
                    if !s.is_empty() {
                        out.push(TemplatePart::Literal {
                            value: self.intern(&s),
                            span,
                        })
                    }
                }
                RawPart::Interp { expr, span, .. } => out.push(TemplatePart::Interp { expr, span }),
                RawPart::Directive { dir, span, .. } => match dir {
                    Directive::If(cond) => {
                        let then = self.nest_parts(iter, Some(("if", span)))?;
                        let mut otherwise = Vec::new();
                        // nest_parts stopped at `else` or `endif`.
                        if let Some(true) = self.last_was_else.take() {
                            otherwise = self.nest_parts(iter, Some(("else", span)))?;
                        }
                        out.push(TemplatePart::If {
                            cond,
                            then,
                            otherwise,
                            span,
                        })
                    }
                    Directive::For(key_var, value_var, collection) => {
                        let body = self.nest_parts(iter, Some(("for", span)))?;
                        out.push(TemplatePart::For {
                            key_var,
                            value_var,
                            collection,
                            body,
                            span,
                        })
                    }
                    Directive::Else => {
                        if let Some(("if", _)) = open {
                            self.last_was_else = Some(true);
                            return Some(out);
                        }
                        self.error(
                            "Unexpected else directive",
                            "The control directives within this template are unbalanced.",
                            span,
                        );
                        return None;
                    }
                    Directive::EndIf => {
                        if let Some(("if" | "else", _)) = open {
                            self.last_was_else = Some(false);
                            return Some(out);
                        }
                        self.error(
                            "Unexpected endif directive",
                            "The control directives within this template are unbalanced.",
                            span,
                        );
                        return None;
                    }
                    Directive::EndFor => {
                        if let Some(("for", _)) = open {
                            return Some(out);
                        }
                        self.error(
                            "Unexpected endfor directive",
                            "The control directives within this template are unbalanced.",
                            span,
                        );
                        return None;
                    }
                },
            }
        }
        if let Some((word, span)) = open {
            let (summary, detail) = match word {
                "for" => (
                    "Unterminated template for",
                    "No \"endfor\" directive was found for this \"for\" directive.",
                ),
                _ => (
                    "Unterminated template if",
                    "No \"endif\" directive was found for this \"if\" directive.",
                ),
            };
            self.error(summary, detail, span);
            return None;
        }
        Some(out)
    }
}

#[derive(Debug)]
enum Directive {
    If(Expr),
    Else,
    EndIf,
    For(Option<Ident>, Ident, Expr),
    EndFor,
}

#[derive(Debug)]
enum RawPart {
    Lit(String, Span),
    Interp {
        expr: Expr,
        span: Span,
        strip_left: bool,
        strip_right: bool,
    },
    Directive {
        dir: Directive,
        span: Span,
        strip_left: bool,
        strip_right: bool,
    },
}

fn is_traversal(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Traversal { .. } | ExprKind::RelativeTraversal { .. }
    )
}

/// Appends a static step: to a traversal directly, otherwise as a relative
/// traversal of the expression.
fn push_step(mut expr: Expr, step: TraversalStep) -> Expr {
    let span = expr.span.to(step.span());
    match &mut expr.kind {
        ExprKind::Traversal { steps, .. } | ExprKind::RelativeTraversal { steps, .. } => {
            steps.push(step);
            expr.span = span;
            expr
        }
        _ => Expr {
            kind: ExprKind::RelativeTraversal {
                source: Box::new(expr),
                steps: vec![step],
            },
            span,
        },
    }
}

fn unescape_doubled(s: &str) -> String {
    if !s.contains("$${") && !s.contains("%%{") {
        return s.to_string();
    }
    s.replace("$${", "${").replace("%%{", "%{")
}

/// `~` strip markers remove the whitespace (including newlines) between the
/// marker and the adjacent literal text.
fn apply_strip_markers(raw: &mut [RawPart]) {
    for i in 0..raw.len() {
        let (sl, sr) = match &raw[i] {
            RawPart::Interp {
                strip_left,
                strip_right,
                ..
            }
            | RawPart::Directive {
                strip_left,
                strip_right,
                ..
            } => (*strip_left, *strip_right),
            RawPart::Lit(..) => continue,
        };
        if sl && i > 0 {
            if let RawPart::Lit(s, _) = &mut raw[i - 1] {
                let t = s.trim_end_matches([' ', '\t', '\n', '\r']).len();
                s.truncate(t);
            }
        }
        if sr && i + 1 < raw.len() {
            if let RawPart::Lit(s, _) = &mut raw[i + 1] {
                let t = s.trim_start_matches([' ', '\t', '\n', '\r']).to_string();
                *s = t;
            }
        }
    }
}

/// Removes the common leading indentation from the lines of a `<<-` heredoc.
fn flush_heredoc(raw: &mut [RawPart]) {
    // A literal starts a line when it is first or follows one ending in "\n".
    let mut line_start = vec![false; raw.len()];
    let mut at_start = true;
    for (i, p) in raw.iter().enumerate() {
        line_start[i] = at_start;
        at_start = matches!(p, RawPart::Lit(s, _) if s.ends_with('\n'));
    }
    let mut min: Option<usize> = None;
    for (i, p) in raw.iter().enumerate() {
        if !line_start[i] {
            continue;
        }
        match p {
            RawPart::Lit(s, _) => {
                let n = s.len() - s.trim_start_matches([' ', '\t']).len();
                let rest = &s[n..];
                let whitespace_only = rest.is_empty() || rest == "\n" || rest == "\r\n";
                // A whitespace-only line followed by an interpolation is
                // content, not a blank line.
                let followed = rest.is_empty() && i + 1 < raw.len();
                if !whitespace_only || followed {
                    min = Some(min.map_or(n, |m| m.min(n)));
                }
            }
            _ => min = Some(0),
        }
    }
    let Some(min) = min else { return };
    if min == 0 {
        return;
    }
    for (i, p) in raw.iter_mut().enumerate() {
        if !line_start[i] {
            continue;
        }
        if let RawPart::Lit(s, _) = p {
            let n = (s.len() - s.trim_start_matches([' ', '\t']).len()).min(min);
            s.drain(..n);
        }
    }
}

#[cfg(test)]
mod depth_tests {
    use super::*;

    /// Deep nesting is reported, never a stack overflow, even on a 2 MB
    /// thread stack in a debug build.
    #[test]
    fn deep_nesting_is_a_diagnostic_not_a_crash() {
        let cases = [
            format!("x = {}{}\n", "[".repeat(5000), "]".repeat(5000)),
            format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000)),
            format!("x = {}1{}\n", "f(".repeat(5000), ")".repeat(5000)),
            format!("x = {}1\n", "!".repeat(5000)),
            format!("x = {}1{}\n", "{a=".repeat(5000), "}".repeat(5000)),
            format!("x = {}\"\n", "\"${".repeat(3000)),
            format!("{}\n", "a {\n".repeat(5000)),
        ];
        for src in cases {
            let handle = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || {
                    let f = SourceFile::new("deep.tf", src);
                    parse_file(&f).diagnostics.has_errors()
                })
                .expect("spawn");
            assert_eq!(handle.join().ok(), Some(true));
        }
    }
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    /// A 200,000-term chain is refused, not a stack overflow when the tree
    /// is dropped; a 5,000-term one parses.
    #[test]
    fn long_operator_chains() {
        let long = format!("a = {}x\n", "x + ".repeat(200_000));
        let f = SourceFile::new("long.tf", long);
        assert!(parse_file(&f).diagnostics.has_errors());
        let ok = format!("a = {}x\n", "x + ".repeat(5_000));
        let f = SourceFile::new("ok.tf", ok);
        assert!(!parse_file(&f).diagnostics.has_errors());
    }
}
