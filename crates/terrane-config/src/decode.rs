//! Decoding the blocks of one file into the [`Module`] model, with
//! Terraform's diagnostics for unexpected, missing and duplicate items.

use crate::model::*;
use std::sync::Arc;
use terrane_hcl::ast::{Attribute, Block, Body, Expr, ExprKind, Structure, TemplatePart};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile, Span};

/// What a block body may contain.
pub(crate) struct Schema<'a> {
    pub attrs: &'a [&'a str],
    pub required: &'a [&'a str],
    /// Nested block types and their label names.
    pub blocks: &'a [(&'a str, &'a [&'a str])],
    /// Any argument or block is allowed (module call bodies, whose content
    /// is checked against the child module's variables instead).
    pub any_attrs: bool,
}

/// The items of a body sorted by the schema.
pub(crate) struct Content<'a> {
    pub attrs: Vec<&'a Attribute>,
    pub blocks: Vec<&'a Block>,
}

impl<'a> Content<'a> {
    pub fn attr(&self, name: &str) -> Option<&'a Attribute> {
        self.attrs.iter().copied().find(|a| a.name.as_str() == name)
    }
    pub fn blocks_of(&self, kind: &'a str) -> impl Iterator<Item = &'a Block> + '_ {
        self.blocks
            .iter()
            .copied()
            .filter(move |b| b.ident.as_str() == kind)
    }
}

pub(crate) struct Decoder<'f> {
    pub file: &'f Arc<SourceFile>,
    pub diags: Diagnostics,
    /// Decoding an override file: required arguments may be omitted.
    pub is_override: bool,
    /// The file uses JSON syntax, where static references and keywords are
    /// written as strings.
    pub json: bool,
    /// Called with each decoded resource before it joins the module (the
    /// streaming validator collects references here and drops the body).
    pub on_resource: Option<&'f mut dyn FnMut(&mut Resource)>,
}

/// Terraform writes "1 labels" and "2 labels" alike.
fn labels_desc(names: &[&str]) -> String {
    format!("{} labels ({})", names.len(), names.join(", "))
}

impl<'f> Decoder<'f> {
    pub fn new(file: &'f Arc<SourceFile>) -> Self {
        Decoder {
            file,
            diags: Diagnostics::new(),
            is_override: false,
            json: file.name.ends_with(".json"),
            on_resource: None,
        }
    }

    pub fn err(&mut self, summary: &str, detail: String, span: Span) {
        self.diags
            .push(Diagnostic::error(summary, detail).with_subject(self.file, span));
    }

    pub fn warn(&mut self, summary: &str, detail: String, span: Span) {
        self.diags
            .push(Diagnostic::warning(summary, detail).with_subject(self.file, span));
    }

    pub fn range(&self, span: Span) -> DeclRange {
        DeclRange::new(self.file, span)
    }

    pub fn src(&self, e: &Expr) -> SrcExpr {
        SrcExpr {
            file: self.file.clone(),
            expr: e.clone(),
        }
    }

    /// Checks a body against a schema; `missing_span` is where a missing
    /// required argument is reported.
    pub fn content<'b>(
        &mut self,
        body: &'b Body,
        schema: &Schema,
        missing_span: Span,
    ) -> Content<'b> {
        let mut attrs = Vec::new();
        let mut blocks = Vec::new();
        for item in &body.items {
            match item {
                Structure::Attribute(a) => {
                    let name = a.name.as_str();
                    if schema.any_attrs
                        || schema.attrs.contains(&name)
                        || schema.required.contains(&name)
                    {
                        attrs.push(a)
                    } else if schema.blocks.iter().any(|(b, _)| *b == name) {
                        self.err(
                            "Unsupported argument",
                            format!("An argument named {name:?} is not expected here. Did you mean to define a block of type {name:?}?"),
                            a.name.span,
                        )
                    } else {
                        self.err(
                            "Unsupported argument",
                            format!("An argument named {name:?} is not expected here."),
                            a.name.span,
                        )
                    }
                }
                Structure::Block(_) if schema.any_attrs => {}
                Structure::Block(b) => {
                    let name = b.ident.as_str();
                    match schema.blocks.iter().find(|(n, _)| *n == name) {
                        Some((_, labels)) => {
                            if self.check_labels(b, labels) {
                                blocks.push(b)
                            }
                        }
                        None => {
                            let detail = if schema.attrs.contains(&name) {
                                format!("Blocks of type {name:?} are not expected here. Did you mean to define argument {name:?}? If so, use the equals sign to assign it a value.")
                            } else {
                                format!("Blocks of type {name:?} are not expected here.")
                            };
                            self.err("Unsupported block type", detail, b.ident.span)
                        }
                    }
                }
            }
        }
        let required: &[&str] = if self.is_override {
            &[]
        } else {
            schema.required
        };
        for req in required {
            if !attrs.iter().any(|a| a.name.as_str() == *req) {
                self.err(
                    "Missing required argument",
                    format!("The argument {req:?} is required, but no definition was found."),
                    missing_span,
                )
            }
        }
        Content { attrs, blocks }
    }

    /// Reports a wrong number of labels; true when the count is right.
    pub fn check_labels(&mut self, b: &Block, names: &[&str]) -> bool {
        let kind = b.ident.as_str();
        if b.labels.len() < names.len() {
            let missing = names[b.labels.len()];
            let span = b.open_brace;
            self.err(
                &format!("Missing {missing} for {kind}"),
                format!("All {kind} blocks must have {}.", labels_desc(names)),
                span,
            );
            return false;
        }
        if b.labels.len() > names.len() {
            let extra = &b.labels[names.len()];
            self.err(
                &format!("Extraneous label for {kind}"),
                if names.is_empty() {
                    format!("No labels are expected for {kind} blocks.")
                } else {
                    format!(
                        "Only {} are expected for {kind} blocks.",
                        labels_desc(names)
                    )
                },
                extra.span,
            );
            return false;
        }
        true
    }

    /// A literal string argument (templates without interpolation).
    pub fn string(&mut self, a: &Attribute) -> Option<String> {
        match literal_string(&a.expr) {
            Some(s) => Some(s),
            None => {
                self.err(
                    "Invalid value",
                    "A static string value is required here.".to_string(),
                    a.expr.span,
                );
                None
            }
        }
    }

    /// A literal bool argument (`true`/`false`).
    pub fn bool(&mut self, a: &Attribute) -> Option<bool> {
        match &a.expr.kind {
            ExprKind::Bool(b) => Some(*b),
            _ => {
                if references_anything(&a.expr) {
                    self.err(
                        "Variables not allowed",
                        "Variables may not be used here.".to_string(),
                        a.expr.span,
                    );
                } else {
                    self.err(
                        "Unsuitable value type",
                        "Unsuitable value: a bool is required".to_string(),
                        a.expr.span,
                    );
                }
                None
            }
        }
    }

    /// A list of static references (`depends_on`, `ignore_changes`...).
    /// Quoted references are accepted with Terraform's deprecation warning.
    pub fn traversal_list(&mut self, a: &Attribute) -> Vec<Traversal> {
        let items: Vec<&Expr> = match &a.expr.kind {
            ExprKind::Tuple(items) => items.iter().collect(),
            _ => {
                self.err(
                    "Invalid expression",
                    "A static list expression is required.".to_string(),
                    a.expr.span,
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for e in items {
            if let Some(t) = self.traversal(e) {
                out.push(t)
            }
        }
        out
    }

    /// A single static reference, possibly quoted (deprecated).
    pub fn traversal(&mut self, e: &Expr) -> Option<Traversal> {
        // `null.x`, `true.x`: keywords stand as names in static references
        // (a provider named "null" is common).
        if let ExprKind::RelativeTraversal { source, steps } = &e.kind {
            let keyword = match source.kind {
                ExprKind::Null => Some("null"),
                ExprKind::Bool(true) => Some("true"),
                ExprKind::Bool(false) => Some("false"),
                _ => None,
            };
            if let Some(k) = keyword {
                return Some(Traversal {
                    root: terrane_hcl::ast::Ident {
                        name: Arc::from(k),
                        span: source.span,
                    },
                    steps: steps.clone(),
                    range: self.range(e.span),
                });
            }
        }
        match &e.kind {
            ExprKind::Traversal { root, steps } => Some(Traversal {
                root: root.clone(),
                steps: steps.clone(),
                range: self.range(e.span),
            }),
            ExprKind::Template { .. } => {
                let s = literal_string(e)?;
                if !self.json {
                    self.warn(
                        "Quoted references are deprecated",
                        "In this context, references are expected literally rather than in quotes. Terraform 0.11 and earlier required quotes, but quoted references are now deprecated and will be removed in a future version of Terraform. Remove the quotes surrounding this reference to silence this warning.".to_string(),
                        e.span,
                    );
                }
                match parse_traversal_str(&s, e.span) {
                    Some((root, steps)) => Some(Traversal {
                        root,
                        steps,
                        range: self.range(e.span),
                    }),
                    None => {
                        self.err(
                            "Invalid reference",
                            "A single static variable reference is required: only attribute access and indexing with constant keys. No calculations, function calls, template expressions, etc are allowed here.".to_string(),
                            e.span,
                        );
                        None
                    }
                }
            }
            _ => {
                self.err(
                    "Invalid expression",
                    "A single static variable reference is required: only attribute access and indexing with constant keys. No calculations, function calls, template expressions, etc are allowed here.".to_string(),
                    e.span,
                );
                None
            }
        }
    }

    /// `aws` or `aws.west` (also quoted, deprecated).
    pub fn provider_ref(&mut self, e: &Expr) -> Option<ProviderRef> {
        let t = self.traversal(e)?;
        let alias = match t.steps.as_slice() {
            [] => None,
            [terrane_hcl::ast::TraversalStep::Attr(a)] => Some(a.name.to_string()),
            _ => {
                self.err(
                    "Invalid provider configuration reference",
                    "Provider name must either stand alone or be followed by a period and then a configuration alias.".to_string(),
                    e.span,
                );
                return None;
            }
        };
        Some(ProviderRef {
            name: t.root.name.to_string(),
            alias,
            range: t.range,
        })
    }

    pub fn check_rule(&mut self, b: &Block) -> Option<CheckRule> {
        let c = self.content(
            &b.body,
            &Schema {
                attrs: &["error_message"],
                required: &["condition"],
                blocks: &[],
                any_attrs: false,
            },
            b.def_span(),
        );
        let condition = self.src(&c.attr("condition")?.expr);
        Some(CheckRule {
            condition,
            error_message: c.attr("error_message").map(|a| self.src(&a.expr)),
            range: self.range(b.def_span()),
        })
    }
}

/// Parses a static traversal written as a string (`aws_instance.web[0]`):
/// names, `.name`, `.N` and `[N]` / `["key"]` steps. All spans are `span`.
pub fn parse_traversal_str(
    s: &str,
    span: terrane_hcl::Span,
) -> Option<(
    terrane_hcl::ast::Ident,
    Vec<terrane_hcl::ast::TraversalStep>,
)> {
    use terrane_hcl::ast::{IndexKey, TraversalStep};
    let ident = |n: &str| terrane_hcl::ast::Ident {
        name: Arc::from(n),
        span,
    };
    let valid = |n: &str| {
        let mut c = n.chars();
        matches!(c.next(), Some(f) if f.is_alphabetic() || f == '_')
            && c.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    };
    let mut rest = s;
    let end = rest.find(['.', '[']).unwrap_or(rest.len());
    let root = &rest[..end];
    if !valid(root) {
        return None;
    }
    rest = &rest[end..];
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let name = &r[..end];
            if name.chars().all(|c| c.is_ascii_digit()) && !name.is_empty() {
                steps.push(TraversalStep::Index {
                    key: IndexKey::Number(Arc::from(name)),
                    span,
                });
            } else if valid(name) {
                steps.push(TraversalStep::Attr(ident(name)));
            } else {
                return None;
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let key = &r[..close];
            let key = if let Some(q) = key.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
                IndexKey::String(Arc::from(q))
            } else if !key.is_empty() && key.chars().all(|c| c.is_ascii_digit()) {
                IndexKey::Number(Arc::from(key))
            } else {
                return None;
            };
            steps.push(TraversalStep::Index { key, span });
            rest = &r[close + 1..];
        } else {
            return None;
        }
    }
    Some((ident(root), steps))
}

/// The value of a string literal expression without interpolations.
pub fn literal_string(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Template { parts, .. } => {
            let mut s = String::new();
            for p in parts {
                match p {
                    TemplatePart::Literal { value, .. } => s.push_str(value),
                    _ => return None,
                }
            }
            Some(s)
        }
        _ => None,
    }
}

/// Whether an expression mentions any reference at all.
pub fn references_anything(e: &Expr) -> bool {
    let mut any = false;
    e.walk_traversals(&mut |_, _| any = true);
    any
}
