//! The syntax tree of an HCL native-syntax file.
//!
//! Every node keeps its byte [`Span`]; names keep their own spans so that
//! diagnostics can point at exactly the offending part. Strings in templates
//! are stored decoded (escapes resolved, strip markers and heredoc flush
//! indentation applied), so evaluation needs no access to the source text.

use crate::span::Span;
use std::sync::Arc;

/// A name with the range it was written at.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: Arc<str>,
    pub span: Span,
}

impl Ident {
    pub fn as_str(&self) -> &str {
        &self.name
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Body {
    pub items: Vec<Structure>,
    /// From the first byte after the opening brace (or file start) to the
    /// closing brace (or file end).
    pub span: Span,
}

impl Body {
    pub fn attributes(&self) -> impl Iterator<Item = &Attribute> {
        self.items.iter().filter_map(|i| match i {
            Structure::Attribute(a) => Some(a),
            _ => None,
        })
    }
    pub fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.items.iter().filter_map(|i| match i {
            Structure::Block(b) => Some(b),
            _ => None,
        })
    }
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes().find(|a| a.name.as_str() == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Structure {
    Attribute(Attribute),
    Block(Block),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    pub name: Ident,
    pub expr: Expr,
    /// Name through the end of the expression.
    pub span: Span,
    /// The `=` sign.
    pub equals_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BlockLabel {
    pub value: Arc<str>,
    pub span: Span,
    /// Written as `"label"` rather than as a bare identifier.
    pub quoted: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub ident: Ident,
    pub labels: Vec<BlockLabel>,
    pub body: Body,
    pub open_brace: Span,
    pub close_brace: Span,
    /// Block type through the closing brace.
    pub span: Span,
}

impl Block {
    /// The range Terraform uses to point at a block: its type and labels.
    pub fn def_span(&self) -> Span {
        match self.labels.last() {
            Some(l) => self.ident.span.to(l.span),
            None => self.ident.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        use BinaryOp::*;
        match self {
            Or => "||",
            And => "&&",
            Equal => "==",
            NotEqual => "!=",
            Less => "<",
            LessOrEqual => "<=",
            Greater => ">",
            GreaterOrEqual => ">=",
            Add => "+",
            Subtract => "-",
            Multiply => "*",
            Divide => "/",
            Modulo => "%",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Negate,
}

/// One step of a static traversal (`.name`, `[0]`, `["key"]`, `.0`).
#[derive(Clone, Debug, PartialEq)]
pub enum TraversalStep {
    Attr(Ident),
    /// A literal index key: a number (kept as its source text) or a string.
    Index {
        key: IndexKey,
        span: Span,
    },
}

impl TraversalStep {
    pub fn span(&self) -> Span {
        match self {
            TraversalStep::Attr(i) => i.span,
            TraversalStep::Index { span, .. } => *span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum IndexKey {
    Number(Arc<str>),
    String(Arc<str>),
}

/// One piece of a template.
#[derive(Clone, Debug, PartialEq)]
pub enum TemplatePart {
    Literal {
        value: Arc<str>,
        span: Span,
    },
    Interp {
        expr: Expr,
        span: Span,
    },
    If {
        cond: Expr,
        then: Vec<TemplatePart>,
        otherwise: Vec<TemplatePart>,
        span: Span,
    },
    For {
        key_var: Option<Ident>,
        value_var: Ident,
        collection: Expr,
        body: Vec<TemplatePart>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct ForExpr {
    pub key_var: Option<Ident>,
    pub value_var: Ident,
    pub collection: Expr,
    /// Present for `{for ...: k => v}` object results.
    pub key_expr: Option<Expr>,
    pub value_expr: Expr,
    pub cond: Option<Expr>,
    /// `...` after the value: group values with equal keys.
    pub grouping: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ObjectItem {
    pub key: Expr,
    /// The key was written in parentheses: never read as a bare name.
    pub key_forced_expr: bool,
    pub value: Expr,
}

impl ObjectItem {
    /// A key written as a bare identifier (`foo = 1`) means the string "foo".
    pub fn bare_key(&self) -> Option<&str> {
        if self.key_forced_expr {
            return None;
        }
        match &self.key.kind {
            ExprKind::Traversal { root, steps } if steps.is_empty() => Some(root.as_str()),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(Arc<str>),
    Bool(bool),
    Null,
    /// A quoted or heredoc template. `heredoc` is set for `<<` forms.
    Template {
        parts: Vec<TemplatePart>,
        heredoc: bool,
    },
    /// `"${expr}"`: a template that is a single interpolation evaluates to
    /// the inner value itself, unconverted.
    TemplateWrap(Box<Expr>),
    /// A reference rooted in a name: `var.a`, `aws_instance.web[0].id`.
    Traversal {
        root: Ident,
        steps: Vec<TraversalStep>,
    },
    /// Static steps applied to the result of another expression.
    RelativeTraversal {
        source: Box<Expr>,
        steps: Vec<TraversalStep>,
    },
    /// `coll[key]` with a non-literal key.
    Index {
        collection: Box<Expr>,
        key: Box<Expr>,
        open_bracket: Span,
    },
    /// `source[*].each` (or legacy `source.*.each`); `each` is evaluated with
    /// each element in place of [`ExprKind::SplatItem`].
    Splat {
        source: Box<Expr>,
        each: Box<Expr>,
        legacy: bool,
    },
    /// The element placeholder inside a splat's `each` expression.
    SplatItem,
    Call {
        name: Ident,
        args: Vec<Expr>,
        /// The last argument is followed by `...`.
        expand_final: bool,
        open_paren: Span,
        close_paren: Span,
    },
    Tuple(Vec<Expr>),
    Object(Vec<ObjectItem>),
    For(Box<ForExpr>),
    Conditional {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Parens(Box<Expr>),
}

impl Expr {
    /// Calls `f` for each static reference (root traversal) in the
    /// expression, outermost first, including those inside templates. Names
    /// bound by for-expressions and template `for` directives are skipped.
    pub fn walk_traversals<'a>(&'a self, f: &mut dyn FnMut(&'a Ident, &'a [TraversalStep])) {
        let mut bound: Vec<&str> = Vec::new();
        walk(self, &mut bound, f);
    }
}

fn walk<'a>(
    e: &'a Expr,
    bound: &mut Vec<&'a str>,
    f: &mut dyn FnMut(&'a Ident, &'a [TraversalStep]),
) {
    match &e.kind {
        ExprKind::Traversal { root, steps } => {
            if !bound.contains(&root.as_str()) {
                f(root, steps)
            }
        }
        ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Null | ExprKind::SplatItem => {}
        ExprKind::Template { parts, .. } => walk_parts(parts, bound, f),
        ExprKind::TemplateWrap(x) | ExprKind::Parens(x) => walk(x, bound, f),
        ExprKind::RelativeTraversal { source, .. } => walk(source, bound, f),
        ExprKind::Index {
            collection, key, ..
        } => {
            walk(collection, bound, f);
            walk(key, bound, f)
        }
        ExprKind::Splat { source, each, .. } => {
            walk(source, bound, f);
            walk(each, bound, f)
        }
        ExprKind::Call { args, .. } | ExprKind::Tuple(args) => {
            for a in args {
                walk(a, bound, f)
            }
        }
        ExprKind::Object(items) => {
            for i in items {
                if i.bare_key().is_none() {
                    walk(&i.key, bound, f)
                }
                walk(&i.value, bound, f)
            }
        }
        ExprKind::For(fe) => {
            walk(&fe.collection, bound, f);
            let n = bound.len();
            if let Some(k) = &fe.key_var {
                bound.push(k.as_str())
            }
            bound.push(fe.value_var.as_str());
            if let Some(k) = &fe.key_expr {
                walk(k, bound, f)
            }
            walk(&fe.value_expr, bound, f);
            if let Some(c) = &fe.cond {
                walk(c, bound, f)
            }
            bound.truncate(n);
        }
        ExprKind::Conditional {
            cond,
            then,
            otherwise,
        } => {
            walk(cond, bound, f);
            walk(then, bound, f);
            walk(otherwise, bound, f)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            walk(lhs, bound, f);
            walk(rhs, bound, f)
        }
        ExprKind::Unary { operand, .. } => walk(operand, bound, f),
    }
}

fn walk_parts<'a>(
    parts: &'a [TemplatePart],
    bound: &mut Vec<&'a str>,
    f: &mut dyn FnMut(&'a Ident, &'a [TraversalStep]),
) {
    for p in parts {
        match p {
            TemplatePart::Literal { .. } => {}
            TemplatePart::Interp { expr, .. } => walk(expr, bound, f),
            TemplatePart::If {
                cond,
                then,
                otherwise,
                ..
            } => {
                walk(cond, bound, f);
                walk_parts(then, bound, f);
                walk_parts(otherwise, bound, f)
            }
            TemplatePart::For {
                key_var,
                value_var,
                collection,
                body,
                ..
            } => {
                walk(collection, bound, f);
                let n = bound.len();
                if let Some(k) = key_var {
                    bound.push(k.as_str())
                }
                bound.push(value_var.as_str());
                walk_parts(body, bound, f);
                bound.truncate(n)
            }
        }
    }
}
