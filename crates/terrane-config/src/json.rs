//! Terraform's JSON configuration syntax (`*.tf.json`), read into the same
//! syntax tree as native files so the rest of the loader is shared.
//!
//! JSON has no block/attribute distinction of its own: the top-level block
//! types and Terraform's own nested blocks (lifecycle, provisioner...) are
//! turned into blocks here from their known label counts; any other object
//! stays an object-valued argument, which the provider-schema decoder reads
//! as nested blocks where the schema has blocks. Strings are templates.

use crate::blocks::FILE_BLOCKS;
use std::sync::Arc;
use terrane_hcl::ast::*;
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile, Span};

/// Nested block types Terraform itself defines, with their label counts.
const NESTED_BLOCKS: &[(&str, usize)] = &[
    ("lifecycle", 0),
    ("provisioner", 1),
    ("connection", 0),
    ("validation", 0),
    ("precondition", 0),
    ("postcondition", 0),
    ("required_providers", 0),
    ("backend", 1),
    ("cloud", 0),
    ("dynamic", 1),
    ("content", 0),
    ("assert", 0),
    ("provider_meta", 1),
];

#[derive(Debug)]
enum Json {
    Object(Vec<(String, Span, Json)>, Span),
    Array(Vec<Json>, Span),
    String(String, Span),
    Number(String, Span),
    Bool(bool, Span),
    Null(Span),
}

impl Json {
    fn span(&self) -> Span {
        match self {
            Json::Object(_, s)
            | Json::Array(_, s)
            | Json::String(_, s)
            | Json::Number(_, s)
            | Json::Bool(_, s)
            | Json::Null(s) => *s,
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    depth: usize,
}

type JResult<T> = Result<T, (String, Span)>;

impl<'a> Reader<'a> {
    fn ws(&mut self) {
        while self.pos < self.s.len() && matches!(self.s[self.pos], b' ' | b'\t' | b'\n' | b'\r') {
            self.pos += 1
        }
    }
    fn fail<T>(&self, msg: &str) -> JResult<T> {
        Err((
            msg.to_string(),
            Span::new(self.pos, (self.pos + 1).min(self.s.len())),
        ))
    }
    fn value(&mut self) -> JResult<Json> {
        self.ws();
        self.depth += 1;
        if self.depth > 400 {
            return self.fail("The JSON value is nested too deeply.");
        }
        let start = self.pos;
        let r = match self.s.get(self.pos) {
            None => self.fail("The JSON data ends before a value was found."),
            Some(b'{') => {
                self.pos += 1;
                let mut props = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                } else {
                    loop {
                        self.ws();
                        let ks = self.pos;
                        let Json::String(k, _) = self.string()? else {
                            return self.fail("Object property names must be strings.");
                        };
                        let kspan = Span::new(ks, self.pos);
                        self.ws();
                        if self.s.get(self.pos) != Some(&b':') {
                            return self.fail("Expected a colon after an object property name.");
                        }
                        self.pos += 1;
                        let v = self.value()?;
                        props.push((k, kspan, v));
                        self.ws();
                        match self.s.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b'}') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.fail("Expected a comma or closing brace in object."),
                        }
                    }
                }
                Ok(Json::Object(props, Span::new(start, self.pos)))
            }
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                } else {
                    loop {
                        items.push(self.value()?);
                        self.ws();
                        match self.s.get(self.pos) {
                            Some(b',') => self.pos += 1,
                            Some(b']') => {
                                self.pos += 1;
                                break;
                            }
                            _ => return self.fail("Expected a comma or closing bracket in array."),
                        }
                    }
                }
                Ok(Json::Array(items, Span::new(start, self.pos)))
            }
            Some(b'"') => self.string(),
            Some(b't') if self.text[self.pos..].starts_with("true") => {
                self.pos += 4;
                Ok(Json::Bool(true, Span::new(start, self.pos)))
            }
            Some(b'f') if self.text[self.pos..].starts_with("false") => {
                self.pos += 5;
                Ok(Json::Bool(false, Span::new(start, self.pos)))
            }
            Some(b'n') if self.text[self.pos..].starts_with("null") => {
                self.pos += 4;
                Ok(Json::Null(Span::new(start, self.pos)))
            }
            Some(b'-' | b'0'..=b'9') => {
                let mut p = self.pos + 1;
                while p < self.s.len()
                    && matches!(self.s[p], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    p += 1
                }
                let t = &self.text[self.pos..p];
                if serde_json::from_str::<serde_json::Number>(t).is_err() {
                    return self.fail("Invalid JSON number.");
                }
                self.pos = p;
                Ok(Json::Number(t.to_string(), Span::new(start, p)))
            }
            _ => self.fail("Invalid JSON value."),
        };
        self.depth -= 1;
        r
    }
    fn string(&mut self) -> JResult<Json> {
        let start = self.pos;
        if self.s.get(self.pos) != Some(&b'"') {
            return self.fail("Expected a string.");
        }
        let mut p = self.pos + 1;
        while p < self.s.len() {
            match self.s[p] {
                b'\\' => p += 2,
                b'"' => break,
                _ => p += 1,
            }
        }
        if p >= self.s.len() {
            return self.fail("Unterminated string.");
        }
        let raw = &self.text[start..=p];
        let decoded: String = serde_json::from_str(raw)
            .map_err(|e| (format!("Invalid string: {e}."), Span::new(start, p + 1)))?;
        self.pos = p + 1;
        Ok(Json::String(decoded, Span::new(start, p + 1)))
    }
}

/// Parses a `.tf.json` file into a body.
pub fn parse_json_body(file: &Arc<SourceFile>) -> (Body, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut r = Reader {
        s: file.text.as_bytes(),
        text: &file.text,
        pos: 0,
        depth: 0,
    };
    let root = match r.value() {
        Ok(v) => v,
        Err((msg, span)) => {
            diags.push(Diagnostic::error("Invalid JSON", msg).with_subject(file, span));
            return (Body::default(), diags);
        }
    };
    r.ws();
    if r.pos < r.s.len() {
        diags.push(
            Diagnostic::error(
                "Extraneous data after value",
                "Extra characters appear after the JSON value.",
            )
            .with_subject(file, Span::new(r.pos, r.pos + 1)),
        );
    }
    let Json::Object(props, span) = root else {
        diags.push(
            Diagnostic::error(
                "Incorrect JSON value type",
                "The root value in a JSON-based configuration must be either a JSON object or a JSON array of objects.",
            )
            .with_subject(file, root.span()),
        );
        return (Body::default(), diags);
    };
    let mut conv = Conv { file, diags };
    let body = conv.body(props, span, Some(FILE_BLOCKS));
    (body, conv.diags)
}

struct Conv<'f> {
    file: &'f Arc<SourceFile>,
    diags: Diagnostics,
}

impl Conv<'_> {
    /// Converts object properties into body items. `top` gives the file's
    /// block types (label names) at the top level.
    fn body(
        &mut self,
        props: Vec<(String, Span, Json)>,
        span: Span,
        top: Option<&[(&str, &[&str])]>,
    ) -> Body {
        let mut items = Vec::new();
        for (key, kspan, value) in props {
            if key == "//" {
                continue;
            }
            let labels = match top {
                Some(t) => t.iter().find(|(n, _)| *n == key).map(|(_, l)| l.len()),
                None => NESTED_BLOCKS
                    .iter()
                    .find(|(n, _)| *n == key)
                    .map(|(_, l)| *l),
            };
            match labels {
                Some(n) => self.blocks(&key, kspan, value, n, Vec::new(), &mut items),
                None => {
                    let expr = self.expr(value);
                    let ident = Ident {
                        name: Arc::from(key.as_str()),
                        span: kspan,
                    };
                    items.push(Structure::Attribute(Attribute {
                        span: kspan.to(expr.span),
                        name: ident,
                        equals_span: kspan,
                        expr,
                    }))
                }
            }
        }
        Body { items, span }
    }

    fn blocks(
        &mut self,
        kind: &str,
        kspan: Span,
        value: Json,
        labels_left: usize,
        labels: Vec<BlockLabel>,
        out: &mut Vec<Structure>,
    ) {
        match value {
            Json::Array(items, _) => {
                for v in items {
                    self.blocks(kind, kspan, v, labels_left, labels.clone(), out)
                }
            }
            Json::Object(props, _) if labels_left > 0 => {
                for (k, ks, v) in props {
                    if k == "//" {
                        continue;
                    }
                    let mut l = labels.clone();
                    l.push(BlockLabel {
                        value: Arc::from(k.as_str()),
                        span: ks,
                        quoted: true,
                    });
                    self.blocks(kind, kspan, v, labels_left - 1, l, out)
                }
            }
            Json::Object(props, span) => {
                // `locals` bodies are plain attributes; everything else may
                // hold Terraform's nested blocks.
                let body = self.body(props, span, None);
                out.push(Structure::Block(Block {
                    ident: Ident {
                        name: Arc::from(kind),
                        span: kspan,
                    },
                    labels,
                    body,
                    open_brace: Span::new(span.start as usize, span.start as usize + 1),
                    close_brace: Span::new(span.end as usize - 1, span.end as usize),
                    span: kspan.to(span),
                }))
            }
            other => {
                let s = other.span();
                self.diags.push(
                    Diagnostic::error(
                        "Incorrect JSON value type",
                        format!("Either a JSON object or a JSON array of objects is required to represent a {kind} block."),
                    )
                    .with_subject(self.file, s),
                )
            }
        }
    }

    fn expr(&mut self, v: Json) -> Expr {
        let span = v.span();
        let kind = match v {
            Json::Null(_) => ExprKind::Null,
            Json::Bool(b, _) => ExprKind::Bool(b),
            Json::Number(n, _) => ExprKind::Number(Arc::from(n.as_str())),
            Json::String(s, sspan) => return self.template(&s, sspan),
            Json::Array(items, _) => {
                ExprKind::Tuple(items.into_iter().map(|i| self.expr(i)).collect())
            }
            Json::Object(props, _) => ExprKind::Object(
                props
                    .into_iter()
                    .filter(|(k, _, _)| k != "//")
                    .map(|(k, ks, v)| ObjectItem {
                        key: Expr {
                            kind: ExprKind::Template {
                                parts: vec![TemplatePart::Literal {
                                    value: Arc::from(k.as_str()),
                                    span: ks,
                                }],
                                heredoc: false,
                            },
                            span: ks,
                        },
                        key_forced_expr: true,
                        value: self.expr(v),
                    })
                    .collect(),
            ),
        };
        Expr { kind, span }
    }

    /// A JSON string is a template. Without escapes its text is the file's
    /// text, so spans point at the exact characters.
    fn template(&mut self, s: &str, span: Span) -> Expr {
        let inner = Span::new(span.start as usize + 1, span.end as usize - 1);
        let base = if self.file.slice(inner) == s {
            inner.start as usize
        } else {
            span.start as usize
        };
        let (e, d) = terrane_hcl::parse_template(self.file, s, base);
        self.diags.extend(d);
        match e {
            Some(mut e) => {
                e.span = span;
                e
            }
            None => Expr {
                kind: ExprKind::Null,
                span,
            },
        }
    }
}
