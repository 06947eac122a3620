//! The HCL native-syntax scanner.
//!
//! It produces the same token stream as HCL's own scanner (the one Terraform
//! uses), because `fmt` is defined on tokens: every byte of the input belongs
//! to exactly one token except spaces and tabs between tokens. Comments are
//! tokens; a line comment (`#`, `//`) includes its line terminator, as in HCL.
//! Template literals are split at `${` / `%{` so the parser and the formatter
//! see interpolations as ordinary token sequences.

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    OBrace,
    CBrace,
    OBrack,
    CBrack,
    OParen,
    CParen,
    /// `"` opening a quoted template.
    OQuote,
    /// `"` closing a quoted template.
    CQuote,
    /// `<<EOT` or `<<-EOT` including the newline after the marker.
    OHeredoc,
    /// The heredoc close marker line (leading spaces included, newline not).
    CHeredoc,
    Star,
    Slash,
    Plus,
    Minus,
    Percent,
    Equal,
    EqualOp,
    NotEqual,
    LessThan,
    LessThanEq,
    GreaterThan,
    GreaterThanEq,
    And,
    Or,
    Bang,
    Dot,
    Comma,
    Ellipsis,
    FatArrow,
    Question,
    Colon,
    /// `::`, only valid in provider function names (Terraform >= 1.8).
    DoubleColon,
    /// `${` or `${~`.
    TemplateInterp,
    /// `%{` or `%{~`.
    TemplateControl,
    /// `}` or `~}` closing an interpolation or directive.
    TemplateSeqEnd,
    /// Literal text inside a quoted template (escapes not yet decoded).
    QuotedLit,
    /// Literal text inside a heredoc (one line at most, newline included).
    StringLit,
    NumberLit,
    Ident,
    Comment,
    Newline,
    Eof,
    /// A character that starts no token.
    Invalid,
    /// Bytes that are not valid UTF-8 (never produced from `&str` input, kept
    /// for completeness of the token model).
    BadUtf8,
    /// A newline inside a quoted template: the string is unterminated.
    QuotedNewline,
    /// `/*` without a matching `*/`.
    UnclosedComment,
}

impl TokenKind {
    /// How HCL names the token in "found ..." style messages.
    pub fn describe(self) -> &'static str {
        use TokenKind::*;
        match self {
            OBrace => "open brace",
            CBrace => "close brace",
            OBrack => "open bracket",
            CBrack => "close bracket",
            OParen => "open parenthesis",
            CParen => "close parenthesis",
            OQuote | CQuote => "quote",
            OHeredoc => "heredoc start",
            CHeredoc => "heredoc end",
            Equal => "equals sign",
            Comma => "comma",
            Dot => "dot",
            Newline => "newline",
            Eof => "end of file",
            Ident => "identifier",
            NumberLit => "number",
            _ => "token",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Ordinary expression tokens; the `usize` counts open braces since the
    /// mode was entered, so `}` can tell a brace from a template end.
    Normal {
        braces: usize,
        in_template: bool,
    },
    Quoted,
    Heredoc {
        marker_start: u32,
        marker_end: u32,
    },
    /// A bare template (no quotes or markers), e.g. a string value from a
    /// JSON configuration file: literal text until the end of input.
    TemplateOnly,
}

/// Scans `src` into tokens. The last token is always `Eof`.
pub fn lex(src: &str) -> Vec<Token> {
    Lexer::new(src).run()
}

/// Scans `src` as the content of a template: literal text (as `StringLit`
/// tokens) with `${...}` and `%{...}` sequences, up to the end of input.
pub fn lex_template(src: &str) -> Vec<Token> {
    let mut l = Lexer::new(src);
    l.modes = vec![Mode::TemplateOnly];
    l.run()
}

struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    modes: Vec<Mode>,
    tokens: Vec<Token>,
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-' || is_combining(c)
}

/// Unicode marks that may continue an identifier (ID_Continue includes Mn/Mc);
/// a small approximation that covers the ranges seen in real configurations.
fn is_combining(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

impl<'a> Lexer<'a> {
    fn new(src: &'a str) -> Self {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: 0,
            modes: vec![Mode::Normal {
                braces: 0,
                in_template: false,
            }],
            tokens: Vec::with_capacity(src.len() / 4),
        }
    }

    fn push(&mut self, kind: TokenKind, start: usize, end: usize) {
        self.tokens.push(Token {
            kind,
            span: Span::new(start, end),
        });
        self.pos = end;
    }

    fn peek(&self, off: usize) -> u8 {
        self.bytes.get(self.pos + off).copied().unwrap_or(0)
    }

    fn run(mut self) -> Vec<Token> {
        loop {
            if self.pos >= self.bytes.len() {
                let n = self.bytes.len();
                self.push(TokenKind::Eof, n, n);
                return self.tokens;
            }
            match *self.modes.last().unwrap_or(&Mode::Quoted) {
                Mode::Normal { .. } => self.normal(),
                Mode::Quoted => self.quoted(),
                Mode::Heredoc {
                    marker_start,
                    marker_end,
                } => self.heredoc(Some((marker_start as usize, marker_end as usize))),
                Mode::TemplateOnly => self.heredoc(None),
            }
        }
    }

    fn normal(&mut self) {
        let start = self.pos;
        let b = self.bytes[start];
        use TokenKind::*;
        match b {
            b' ' | b'\t' => {
                let mut p = start;
                while p < self.bytes.len() && (self.bytes[p] == b' ' || self.bytes[p] == b'\t') {
                    p += 1;
                }
                self.pos = p;
            }
            b'\n' => self.push(Newline, start, start + 1),
            b'\r' => {
                if self.peek(1) == b'\n' {
                    self.push(Newline, start, start + 2)
                } else {
                    self.push(Invalid, start, start + 1)
                }
            }
            b'#' => self.line_comment(start),
            b'/' if self.peek(1) == b'/' => self.line_comment(start),
            b'/' if self.peek(1) == b'*' => match self.src[start + 2..].find("*/") {
                Some(i) => self.push(Comment, start, start + 2 + i + 2),
                None => self.push(UnclosedComment, start, self.bytes.len()),
            },
            b'{' => {
                if let Some(Mode::Normal { braces, .. }) = self.modes.last_mut() {
                    *braces += 1;
                }
                self.push(OBrace, start, start + 1)
            }
            b'}' => self.close_brace(start, start + 1),
            b'~' if self.peek(1) == b'}' => self.close_brace(start, start + 2),
            b'[' => self.push(OBrack, start, start + 1),
            b']' => self.push(CBrack, start, start + 1),
            b'(' => self.push(OParen, start, start + 1),
            b')' => self.push(CParen, start, start + 1),
            b'"' => {
                self.modes.push(Mode::Quoted);
                self.push(OQuote, start, start + 1)
            }
            b'<' if self.peek(1) == b'<' => {
                if !self.heredoc_open(start) {
                    self.push(LessThan, start, start + 1)
                }
            }
            b'*' => self.push(Star, start, start + 1),
            b'/' => self.push(Slash, start, start + 1),
            b'+' => self.push(Plus, start, start + 1),
            b'-' => self.push(Minus, start, start + 1),
            b'%' => self.push(Percent, start, start + 1),
            b'=' => match self.peek(1) {
                b'=' => self.push(EqualOp, start, start + 2),
                b'>' => self.push(FatArrow, start, start + 2),
                _ => self.push(Equal, start, start + 1),
            },
            b'!' => {
                if self.peek(1) == b'=' {
                    self.push(NotEqual, start, start + 2)
                } else {
                    self.push(Bang, start, start + 1)
                }
            }
            b'<' => {
                if self.peek(1) == b'=' {
                    self.push(LessThanEq, start, start + 2)
                } else {
                    self.push(LessThan, start, start + 1)
                }
            }
            b'>' => {
                if self.peek(1) == b'=' {
                    self.push(GreaterThanEq, start, start + 2)
                } else {
                    self.push(GreaterThan, start, start + 1)
                }
            }
            b'&' if self.peek(1) == b'&' => self.push(And, start, start + 2),
            b'|' if self.peek(1) == b'|' => self.push(Or, start, start + 2),
            b'.' => {
                if self.peek(1) == b'.' && self.peek(2) == b'.' {
                    self.push(Ellipsis, start, start + 3)
                } else {
                    self.push(Dot, start, start + 1)
                }
            }
            b',' => self.push(Comma, start, start + 1),
            b'?' => self.push(Question, start, start + 1),
            b':' => {
                if self.peek(1) == b':' {
                    self.push(DoubleColon, start, start + 2)
                } else {
                    self.push(Colon, start, start + 1)
                }
            }
            b'0'..=b'9' => {
                let end = self.number_end(start);
                self.push(NumberLit, start, end)
            }
            _ => {
                let c = self.src[start..].chars().next().unwrap_or('\u{fffd}');
                if is_ident_start(c) {
                    let mut end = start + c.len_utf8();
                    for c2 in self.src[end..].chars() {
                        if is_ident_continue(c2) {
                            end += c2.len_utf8();
                        } else {
                            break;
                        }
                    }
                    self.push(Ident, start, end)
                } else {
                    self.push(Invalid, start, start + c.len_utf8())
                }
            }
        }
    }

    fn number_end(&self, start: usize) -> usize {
        let b = self.bytes;
        let mut p = start;
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        if p + 1 < b.len() && b[p] == b'.' && b[p + 1].is_ascii_digit() {
            p += 1;
            while p < b.len() && b[p].is_ascii_digit() {
                p += 1;
            }
        }
        if p < b.len() && (b[p] == b'e' || b[p] == b'E') {
            let mut q = p + 1;
            if q < b.len() && (b[q] == b'+' || b[q] == b'-') {
                q += 1;
            }
            if q < b.len() && b[q].is_ascii_digit() {
                while q < b.len() && b[q].is_ascii_digit() {
                    q += 1;
                }
                p = q;
            }
        }
        p
    }

    fn line_comment(&mut self, start: usize) {
        let end = match memchr(b'\n', &self.bytes[start..]) {
            Some(i) => start + i + 1,
            None => self.bytes.len(),
        };
        self.push(TokenKind::Comment, start, end)
    }

    fn close_brace(&mut self, start: usize, end: usize) {
        let tilde = end - start == 2;
        match self.modes.last_mut() {
            Some(Mode::Normal {
                braces,
                in_template,
            }) => {
                if *braces > 0 && !tilde {
                    *braces -= 1;
                    self.push(TokenKind::CBrace, start, end)
                } else if *in_template {
                    self.modes.pop();
                    self.push(TokenKind::TemplateSeqEnd, start, end)
                } else if tilde {
                    self.push(TokenKind::Invalid, start, start + 1)
                } else {
                    self.push(TokenKind::CBrace, start, end)
                }
            }
            _ => self.push(TokenKind::Invalid, start, end),
        }
    }

    /// Tries `<<EOT\n` / `<<-EOT\n`; on success pushes the token and the mode.
    fn heredoc_open(&mut self, start: usize) -> bool {
        let mut p = start + 2;
        if self.bytes.get(p) == Some(&b'-') {
            p += 1;
        }
        let ident_start = p;
        let first = match self.src[p..].chars().next() {
            Some(c) if is_ident_start(c) => c,
            _ => return false,
        };
        p += first.len_utf8();
        for c in self.src[p..].chars() {
            if is_ident_continue(c) {
                p += c.len_utf8();
            } else {
                break;
            }
        }
        let ident_end = p;
        let nl_end = if self.bytes.get(p) == Some(&b'\n') {
            p + 1
        } else if self.bytes.get(p) == Some(&b'\r') && self.bytes.get(p + 1) == Some(&b'\n') {
            p + 2
        } else {
            return false;
        };
        self.push(TokenKind::OHeredoc, start, nl_end);
        self.modes.push(Mode::Heredoc {
            marker_start: ident_start as u32,
            marker_end: ident_end as u32,
        });
        true
    }

    fn enter_template_seq(&mut self, kind: TokenKind, start: usize) {
        let end = if self.peek(2) == b'~' {
            start + 3
        } else {
            start + 2
        };
        self.modes.push(Mode::Normal {
            braces: 0,
            in_template: true,
        });
        self.push(kind, start, end)
    }

    fn quoted(&mut self) {
        let start = self.pos;
        let b = self.bytes;
        match b[start] {
            b'"' => {
                self.modes.pop();
                return self.push(TokenKind::CQuote, start, start + 1);
            }
            b'\n' => {
                self.modes.pop();
                return self.push(TokenKind::QuotedNewline, start, start + 1);
            }
            b'\r' if self.peek(1) == b'\n' => {
                self.modes.pop();
                return self.push(TokenKind::QuotedNewline, start, start + 2);
            }
            b'$' if self.peek(1) == b'{' => {
                return self.enter_template_seq(TokenKind::TemplateInterp, start)
            }
            b'%' if self.peek(1) == b'{' => {
                return self.enter_template_seq(TokenKind::TemplateControl, start)
            }
            _ => {}
        }
        let mut p = start;
        while p < b.len() {
            match b[p] {
                b'"' | b'\n' => break,
                b'\r' if b.get(p + 1) == Some(&b'\n') => break,
                b'\\' => {
                    // An escape: skip the backslash and the escaped byte so an
                    // escaped quote does not end the string.
                    p += 1;
                    if p < b.len() && b[p] != b'\n' {
                        p += self.src[p..].chars().next().map_or(1, char::len_utf8);
                    }
                }
                b'$' | b'%' if b.get(p + 1) == Some(&b'{') => {
                    // `$${` and `%%{` are literal escapes of the sequence start.
                    if p > start && b[p - 1] == b[p] && !preceded_by_even_run(b, start, p) {
                        p += 2;
                    } else {
                        break;
                    }
                }
                _ => p += 1,
            }
        }
        self.push(TokenKind::QuotedLit, start, p.min(b.len()))
    }

    fn heredoc(&mut self, marker: Option<(usize, usize)>) {
        let start = self.pos;
        let b = self.bytes;
        let at_line_start = start == 0 || b[start - 1] == b'\n';
        if let (true, Some((marker_start, marker_end))) = (at_line_start, marker) {
            // Is this line the closing marker?
            // As in HCL, the line is the marker when it equals the marker
            // once surrounding whitespace is trimmed, and it must end with a
            // newline (a marker at the very end of the input closes nothing).
            let p = start + leading_space(&self.src[start..]);
            let marker = &self.src[marker_start..marker_end];
            if self.src[p..].starts_with(marker) {
                let after = p + marker.len();
                let nl = after + leading_space(&self.src[after..]);
                if b.get(nl) == Some(&b'\n') {
                    let end = if nl > after && b[nl - 1] == b'\r' {
                        nl - 1
                    } else {
                        nl
                    };
                    self.modes.pop();
                    return self.push(TokenKind::CHeredoc, start, end);
                }
            }
        }
        match b[start] {
            b'$' if self.peek(1) == b'{' => {
                return self.enter_template_seq(TokenKind::TemplateInterp, start)
            }
            b'%' if self.peek(1) == b'{' => {
                return self.enter_template_seq(TokenKind::TemplateControl, start)
            }
            _ => {}
        }
        let mut p = start;
        while p < b.len() {
            match b[p] {
                b'\n' => {
                    p += 1;
                    break;
                }
                b'$' | b'%' if b.get(p + 1) == Some(&b'{') => {
                    if p > start && b[p - 1] == b[p] && !preceded_by_even_run(b, start, p) {
                        p += 2;
                    } else {
                        break;
                    }
                }
                _ => p += 1,
            }
        }
        self.push(TokenKind::StringLit, start, p)
    }
}

/// Whether an even number of copies of `b[p]` (a `$` or `%` before `{`)
/// precede it in the literal: then they pair up as escapes among themselves
/// and the one at `p` starts a real sequence (`$$${x}` is `$` + interpolation).
fn preceded_by_even_run(b: &[u8], start: usize, p: usize) -> bool {
    let c = b[p];
    let mut n = 0;
    let mut q = p;
    while q > start && b[q - 1] == c {
        n += 1;
        q -= 1;
    }
    n % 2 == 0
}

/// Length of the leading whitespace of `s` other than `\n` (Unicode
/// white space, as Go's `bytes.TrimSpace` strips it).
fn leading_space(s: &str) -> usize {
    s.char_indices()
        .find(|&(_, c)| c == '\n' || !c.is_whitespace())
        .map_or(s.len(), |(i, _)| i)
}

fn memchr(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|b| *b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        lex(src).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn attribute_and_comment() {
        assert_eq!(
            kinds("a = 1 # c\n"),
            vec![Ident, Equal, NumberLit, Comment, Eof]
        );
    }

    #[test]
    fn template_with_interpolation() {
        assert_eq!(
            kinds(r#""a${b}c""#),
            vec![
                OQuote,
                QuotedLit,
                TemplateInterp,
                Ident,
                TemplateSeqEnd,
                QuotedLit,
                CQuote,
                Eof
            ]
        );
    }

    #[test]
    fn escaped_interpolation_is_literal() {
        assert_eq!(kinds(r#""$${b}""#), vec![OQuote, QuotedLit, CQuote, Eof]);
        assert_eq!(
            kinds(r#""$$${b}""#),
            vec![
                OQuote,
                QuotedLit,
                TemplateInterp,
                Ident,
                TemplateSeqEnd,
                CQuote,
                Eof
            ]
        );
    }

    #[test]
    fn braces_inside_interpolation() {
        assert_eq!(
            kinds(r#""${ {a=1} }""#),
            vec![
                OQuote,
                TemplateInterp,
                OBrace,
                Ident,
                Equal,
                NumberLit,
                CBrace,
                TemplateSeqEnd,
                CQuote,
                Eof
            ]
        );
    }

    #[test]
    fn heredoc() {
        let src = "x = <<-EOT\n  hi ${a}\n  EOT\n";
        assert_eq!(
            kinds(src),
            vec![
                Ident,
                Equal,
                OHeredoc,
                StringLit,
                TemplateInterp,
                Ident,
                TemplateSeqEnd,
                StringLit,
                CHeredoc,
                Newline,
                Eof
            ]
        );
    }

    #[test]
    fn heredoc_close_marker_whitespace() {
        // Trailing white space after the marker belongs to the marker token.
        let src = "x = <<EOT\nhi\n\tEOT \t\r\ny = 1\n";
        let toks = lex(src);
        let close = toks
            .iter()
            .find(|t| t.kind == CHeredoc)
            .map(|t| &src[t.span.range()]);
        assert_eq!(close, Some("\tEOT \t"));
        // A marker without a following newline does not close the heredoc.
        assert!(!kinds("x = <<EOT\nhi\nEOT").contains(&CHeredoc));
    }

    #[test]
    fn strip_markers() {
        assert_eq!(
            kinds(r#""${~a~}""#),
            vec![OQuote, TemplateInterp, Ident, TemplateSeqEnd, CQuote, Eof]
        );
    }

    #[test]
    fn numbers_and_dots() {
        assert_eq!(kinds("a.0.b"), vec![Ident, Dot, NumberLit, Dot, Ident, Eof]);
        assert_eq!(kinds("1.5e3"), vec![NumberLit, Eof]);
        assert_eq!(kinds("a[*]"), vec![Ident, OBrack, Star, CBrack, Eof]);
        assert_eq!(kinds("a..."), vec![Ident, Ellipsis, Eof]);
    }
}
