//! Expression evaluation with Terraform 1.0.3's semantics and error texts.
//!
//! [`eval_expr`] first checks the static references of the expression
//! against the [`Scope`] (as Terraform does before evaluating: an undeclared
//! reference is an error even inside `try`), then evaluates it.

use std::collections::BTreeMap;
use std::sync::Arc;

use terrane_hcl::ast::{
    BinaryOp, Expr, ExprKind, ForExpr, Ident, IndexKey, TemplatePart, TraversalStep, UnaryOp,
};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile, Span};
use terrane_value::{convert, unify, Kind, Marks, Number, Type, Value};

use crate::funcs_adapter::{self, CallError};
use crate::scope::Scope;

/// Where an expression is evaluated: the scope of references, the file the
/// expression came from (for diagnostic ranges) and extra variables (for
/// templates rendered by `templatefile`).
#[derive(Clone)]
pub struct EvalContext<'a> {
    pub scope: &'a Scope,
    pub file: Option<Arc<SourceFile>>,
    /// `count.index`, `each.*` and `self` of the instance being evaluated;
    /// they take precedence over the scope's (so one scope serves every
    /// instance of a resource).
    pub instance: InstanceValues,
    vars: Vec<(Arc<str>, Value)>,
    /// Only `vars` are available (templates of `templatefile`).
    vars_only: bool,
}

impl<'a> EvalContext<'a> {
    pub fn new(scope: &'a Scope) -> EvalContext<'a> {
        EvalContext {
            scope,
            file: None,
            instance: InstanceValues::default(),
            vars: Vec::new(),
            vars_only: false,
        }
    }

    /// Diagnostics will point into `file`.
    pub fn with_file(mut self, file: &Arc<SourceFile>) -> EvalContext<'a> {
        self.file = Some(file.clone());
        self
    }

    /// Evaluates for one instance of a counted / `for_each` resource.
    pub fn with_instance(mut self, instance: InstanceValues) -> EvalContext<'a> {
        self.instance = instance;
        self
    }

    /// Adds a variable visible by its bare name.
    pub fn with_var(mut self, name: &str, value: Value) -> EvalContext<'a> {
        self.vars.push((Arc::from(name), value));
        self
    }
}

/// The per-instance values of `count.index`, `each.key`/`each.value` and
/// `self`.
#[derive(Clone, Debug, Default)]
pub struct InstanceValues {
    pub count_index: Option<Value>,
    pub each: Option<(Value, Value)>,
    pub self_value: Option<Value>,
}

/// Evaluates an expression: reference check, then evaluation. The value
/// is unknown (of some type) when errors were reported.
pub fn eval_expr(expr: &Expr, ctx: &EvalContext) -> (Value, Diagnostics) {
    let mut ev = Evaluator::new(ctx);
    let refs = ev.check_references(expr);
    if refs.has_errors() {
        return (Value::unknown_dynamic(), refs);
    }
    let v = ev.eval(expr);
    let mut diags = refs;
    diags.extend(std::mem::take(&mut ev.diags));
    (v, diags)
}

/// Checks the references of `expr` only (no evaluation).
pub fn check_references(expr: &Expr, ctx: &EvalContext) -> Diagnostics {
    Evaluator::new(ctx).check_references(expr)
}

const MAX_DEPTH: usize = 512;

struct Evaluator<'a> {
    scope: &'a Scope,
    file: Option<Arc<SourceFile>>,
    instance: InstanceValues,
    vars: Vec<(Arc<str>, Value)>,
    vars_only: bool,
    splat: Vec<Value>,
    diags: Diagnostics,
    depth: usize,
}

/// Detail texts shared by several places.
const NULL_INTERP: &str =
    "The expression result is null. Cannot include a null value in a string template.";

fn ty_name(t: &Type) -> String {
    t.friendly_name()
}

impl<'a> Evaluator<'a> {
    fn new(ctx: &EvalContext<'a>) -> Evaluator<'a> {
        Evaluator {
            scope: ctx.scope,
            file: ctx.file.clone(),
            instance: ctx.instance.clone(),
            vars: ctx.vars.clone(),
            vars_only: ctx.vars_only,
            splat: Vec::new(),
            diags: Diagnostics::new(),
            depth: 0,
        }
    }

    fn count_index(&self) -> Option<&Value> {
        self.instance
            .count_index
            .as_ref()
            .or(self.scope.count_index.as_ref())
    }

    fn each(&self) -> Option<&(Value, Value)> {
        self.instance.each.as_ref().or(self.scope.each.as_ref())
    }

    fn self_value(&self) -> Option<&Value> {
        self.instance
            .self_value
            .as_ref()
            .or(self.scope.self_value.as_ref())
    }

    fn diag(&self, summary: &str, detail: String, span: Span) -> Diagnostic {
        let d = Diagnostic::error(summary, detail);
        match &self.file {
            Some(f) => d.with_subject(f, span),
            None => d,
        }
    }

    /// An error about `subject`, shown within the lines of `context`.
    fn error_in(&mut self, summary: &str, detail: impl Into<String>, subject: Span, context: Span) {
        let mut d = self.diag(summary, detail.into(), subject);
        if let Some(f) = &self.file {
            d = d.with_context(f, context);
        }
        self.diags.push(d);
    }

    fn error(&mut self, summary: &str, detail: impl Into<String>, span: Span) {
        let d = self.diag(summary, detail.into(), span);
        self.diags.push(d);
    }

    /// Runs `f` with a fresh diagnostics list, returning its diagnostics
    /// separately.
    fn isolated<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> (T, Diagnostics) {
        let saved = std::mem::take(&mut self.diags);
        let r = f(self);
        let d = std::mem::replace(&mut self.diags, saved);
        (r, d)
    }

    fn lookup_var(&self, name: &str) -> Option<&Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| &**n == name)
            .map(|(_, v)| v)
    }

    // ----- references -----

    fn check_references(&mut self, expr: &Expr) -> Diagnostics {
        let mut out = Diagnostics::new();
        let mut refs: Vec<(&Ident, &[TraversalStep])> = Vec::new();
        expr.walk_traversals(&mut |root, steps| refs.push((root, steps)));
        for (root, steps) in refs {
            if self.lookup_var(root.as_str()).is_some() {
                continue;
            }
            if let Some(d) = self.check_reference(root, steps) {
                out.push(d);
            }
        }
        out
    }

    fn check_reference(&self, root: &Ident, steps: &[TraversalStep]) -> Option<Diagnostic> {
        let name = root.as_str();
        let attr = |i: usize| match steps.get(i) {
            Some(TraversalStep::Attr(a)) => Some(a.as_str().to_string()),
            _ => None,
        };
        let whole = steps.iter().fold(root.span, |s, st| s.to(st.span()));
        let err = |summary: &str, detail: String| Some(self.diag(summary, detail, whole));
        if self.vars_only {
            return err(
                "Unknown variable",
                format!("There is no variable named {name:?}."),
            );
        }
        let direct = |obj: &str| {
            format!(
                "The {obj:?} object cannot be accessed directly. Instead, access one of its attributes."
            )
        };
        match name {
            "var" => {
                let Some(n) = attr(0) else {
                    return err("Invalid reference", direct("var"));
                };
                if !self.scope.variables.contains_key(&n) {
                    return err(
                        "Reference to undeclared input variable",
                        format!(
                            "An input variable with the name {n:?} has not been declared. This variable can be declared with a variable {n:?} {{}} block."
                        ),
                    );
                }
                None
            }
            "local" => {
                let Some(n) = attr(0) else {
                    return err("Invalid reference", direct("local"));
                };
                if !self.scope.locals.contains_key(&n) {
                    return err(
                        "Reference to undeclared local value",
                        format!("A local value with the name {n:?} has not been declared."),
                    );
                }
                None
            }
            "module" => {
                let Some(n) = attr(0) else {
                    return err("Invalid reference", direct("module"));
                };
                if !self.scope.modules.contains_key(&n) {
                    return err(
                        "Reference to undeclared module",
                        format!("No module call named {n:?} is declared in the root module."),
                    );
                }
                None
            }
            "data" => {
                let (Some(t), Some(n)) = (attr(0), attr(1)) else {
                    return err(
                        "Invalid reference",
                        "A reference to a data source must be followed by at least one attribute access, specifying the data source type and name.".into(),
                    );
                };
                if !self.scope.data.contains_key(&format!("{t}.{n}")) {
                    return err(
                        "Reference to undeclared resource",
                        format!("A data resource {t:?} {n:?} has not been declared in the root module."),
                    );
                }
                None
            }
            "count" => match attr(0).as_deref() {
                Some("index") => {
                    if self.count_index().is_none() {
                        return err(
                            "Reference to \"count\" in non-counted context",
                            "The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set.".into(),
                        );
                    }
                    None
                }
                Some(other) => err(
                    "Invalid \"count\" attribute",
                    format!("The \"count\" object does not have an attribute named {other:?}. The only supported attribute is count.index, which is the index of each instance of a resource block that has the \"count\" argument set."),
                ),
                None => err("Invalid reference", direct("count")),
            },
            "each" => match attr(0).as_deref() {
                Some("key") | Some("value") => {
                    if self.each().is_none() {
                        return err(
                            "Reference to \"each\" in context without for_each",
                            "The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set.".into(),
                        );
                    }
                    None
                }
                Some(other) => err(
                    "Invalid \"each\" attribute",
                    format!("The \"each\" object does not have an attribute named {other:?}. The supported attributes are each.key and each.value, the current key and value pair of the \"for_each\" attribute set."),
                ),
                None => err("Invalid reference", direct("each")),
            },
            "self" => {
                if self.self_value().is_none() {
                    return err(
                        "Invalid \"self\" reference",
                        "The \"self\" object is not available in this context. This object can be used only in resource provisioner and connection blocks.".into(),
                    );
                }
                None
            }
            "path" => match attr(0).as_deref() {
                Some("module") | Some("root") | Some("cwd") => None,
                Some(other) => err(
                    "Invalid \"path\" attribute",
                    format!("The \"path\" object does not have an attribute named {other:?}. The supported attributes are path.cwd, the current working directory, path.module, the path of the module containing the reference, and path.root, the path of the root module."),
                ),
                None => err("Invalid reference", direct("path")),
            },
            "terraform" => match attr(0).as_deref() {
                Some("workspace") => None,
                Some(other) => err(
                    "Invalid \"terraform\" attribute",
                    format!("The \"terraform\" object does not have an attribute named {other:?}. The only supported attribute is terraform.workspace, the name of the currently-selected workspace."),
                ),
                None => err("Invalid reference", direct("terraform")),
            },
            "resource" | "template" | "lazy" | "arg" => err(
                "Reserved symbol name",
                format!("The symbol name {name:?} is reserved for use in a future Terraform version. If you are using a provider that already uses this as a resource type name, add the prefix \"resource.\" to force interpretation as a resource type name."),
            ),
            _ => {
                let Some(n) = attr(0) else {
                    return err(
                        "Invalid reference",
                        "A reference to a resource type must be followed by at least one attribute access, specifying the resource name.".into(),
                    );
                };
                if !self.scope.resources.contains_key(&format!("{name}.{n}")) {
                    return err(
                        "Reference to undeclared resource",
                        format!("A managed resource {name:?} {n:?} has not been declared in the root module."),
                    );
                }
                None
            }
        }
    }

    /// The value a root name refers to and how many steps it consumed.
    fn resolve_root(&mut self, root: &Ident, steps: &[TraversalStep]) -> (Value, usize) {
        if let Some(v) = self.lookup_var(root.as_str()) {
            return (v.clone(), 0);
        }
        let attr = |i: usize| match steps.get(i) {
            Some(TraversalStep::Attr(a)) => Some(a.as_str().to_string()),
            _ => None,
        };
        let unknown = || (Value::unknown_dynamic(), steps.len());
        let s = self.scope;
        match root.as_str() {
            "var" => match attr(0).and_then(|n| s.variables.get(&n).cloned()) {
                Some(v) => (v, 1),
                None => unknown(),
            },
            "local" => {
                let Some(n) = attr(0) else { return unknown() };
                let (v, d) = s.local_value(&n);
                self.diags.extend(d);
                match v {
                    Some(v) => (v, 1),
                    None => unknown(),
                }
            }
            "module" => match attr(0).and_then(|n| s.modules.get(&n).cloned()) {
                Some(v) => (v, 1),
                None => unknown(),
            },
            "data" => match (attr(0), attr(1)) {
                (Some(t), Some(n)) => match s.data.get(&format!("{t}.{n}")) {
                    Some(v) => (v.clone(), 2),
                    None => unknown(),
                },
                _ => unknown(),
            },
            "count" => match self.count_index() {
                Some(v) => (v.clone(), 1),
                None => unknown(),
            },
            "each" => match (self.each(), attr(0).as_deref()) {
                (Some((k, _)), Some("key")) => (k.clone(), 1),
                (Some((_, v)), Some("value")) => (v.clone(), 1),
                _ => unknown(),
            },
            "self" => match self.self_value() {
                Some(v) => (v.clone(), 0),
                None => unknown(),
            },
            "path" => match attr(0).as_deref() {
                Some("module") => (Value::string(s.path_module.clone()), 1),
                Some("root") => (Value::string(s.path_root.clone()), 1),
                Some("cwd") => (Value::string(s.path_cwd.clone()), 1),
                _ => unknown(),
            },
            "terraform" => (Value::string(s.workspace.clone()), 1),
            name => match attr(0).and_then(|n| s.resources.get(&format!("{name}.{n}")).cloned()) {
                Some(v) => (v, 1),
                None => unknown(),
            },
        }
    }

    // ----- expressions -----

    fn eval(&mut self, e: &Expr) -> Value {
        if self.depth >= MAX_DEPTH {
            self.error(
                "Expression too complex",
                "The expression is nested too deeply to evaluate.",
                e.span,
            );
            return Value::unknown_dynamic();
        }
        self.depth += 1;
        let v = self.eval_inner(e);
        self.depth -= 1;
        v
    }

    fn eval_inner(&mut self, e: &Expr) -> Value {
        match &e.kind {
            ExprKind::Number(text) => match Number::parse(text) {
                Ok(n) => Value::number(n),
                Err(_) => {
                    self.error(
                        "Invalid number literal",
                        format!("Failed to recognize the value of this number literal: {text}."),
                        e.span,
                    );
                    Value::unknown(Type::Number)
                }
            },
            ExprKind::Bool(b) => Value::bool(*b),
            ExprKind::Null => Value::null_dynamic(),
            ExprKind::Template { parts, .. } => self.template(parts, e.span),
            ExprKind::TemplateWrap(inner) => self.eval(inner),
            ExprKind::Parens(inner) => self.eval(inner),
            ExprKind::Traversal { root, steps } => {
                let (v, used) = self.resolve_root(root, steps);
                self.traverse(v, &steps[used.min(steps.len())..])
            }
            ExprKind::RelativeTraversal { source, steps } => {
                let v = self.eval(source);
                self.traverse(v, steps)
            }
            ExprKind::Index {
                collection,
                key,
                open_bracket,
            } => {
                let c = self.eval(collection);
                let k = self.eval(key);
                let span = open_bracket.to(e.span);
                let span = Span {
                    start: span.start,
                    end: e.span.end,
                };
                self.index(&c, &k, span)
                    .unwrap_or_else(Value::unknown_dynamic)
            }
            ExprKind::Splat { source, each, .. } => self.splat(source, each),
            ExprKind::SplatItem => self
                .splat
                .last()
                .cloned()
                .unwrap_or_else(Value::unknown_dynamic),
            ExprKind::Call {
                name,
                args,
                expand_final,
                ..
            } => self.call(e, name, args, *expand_final),
            ExprKind::Tuple(items) => {
                let vals: Vec<Value> = items.iter().map(|i| self.eval(i)).collect();
                Value::tuple(vals)
            }
            ExprKind::Object(items) => self.object(items),
            ExprKind::For(fe) => self.for_expr(fe, e.span),
            ExprKind::Conditional {
                cond,
                then,
                otherwise,
            } => self.conditional(cond, then, otherwise, e.span),
            ExprKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, e.span),
            ExprKind::Unary { op, operand } => self.unary(*op, operand, e.span),
        }
    }

    // ----- templates -----

    fn template(&mut self, parts: &[TemplatePart], whole: Span) -> Value {
        let mut buf = String::new();
        let mut known = true;
        let mut marks = Marks::NONE;
        for p in parts {
            let (v, span) = match p {
                TemplatePart::Literal { value, .. } => {
                    buf.push_str(value);
                    continue;
                }
                TemplatePart::Interp { expr, span } => (self.eval(expr), *span),
                TemplatePart::If {
                    cond,
                    then,
                    otherwise,
                    span,
                } => (self.template_if(cond, then, otherwise, *span, whole), *span),
                TemplatePart::For {
                    key_var,
                    value_var,
                    collection,
                    body,
                    span,
                } => (
                    self.template_for(key_var.as_ref(), value_var, collection, body, *span, whole),
                    *span,
                ),
            };
            if v.is_null() {
                self.error_in(
                    "Invalid template interpolation value",
                    NULL_INTERP,
                    span,
                    whole,
                );
                continue;
            }
            if !v.is_known() {
                known = false;
                marks = marks.union(v.marks());
                continue;
            }
            match convert(&v, &Type::String) {
                Ok(s) => {
                    let (s, m) = s.unmark();
                    marks = marks.union(m);
                    if let Some(t) = s.as_str() {
                        buf.push_str(t);
                    } else {
                        known = false;
                    }
                }
                Err(err) => self.error_in(
                    "Invalid template interpolation value",
                    format!(
                        "Cannot include the given value in a string template: {}.",
                        err.message
                    ),
                    span,
                    whole,
                ),
            }
        }
        if !known {
            return Value::unknown(Type::String).with_marks(marks);
        }
        Value::string(buf).with_marks(marks)
    }

    fn template_if(
        &mut self,
        cond: &Expr,
        then: &[TemplatePart],
        otherwise: &[TemplatePart],
        span: Span,
        whole: Span,
    ) -> Value {
        let (tv, td) = self.isolated(|s| s.template(then, whole));
        let (fv, fd) = self.isolated(|s| s.template(otherwise, whole));
        match self.condition(cond, span) {
            None => Value::unknown(Type::String),
            Some((b, marks)) => {
                let (v, d) = if b { (tv, td) } else { (fv, fd) };
                self.diags.extend(d);
                v.with_marks(marks)
            }
        }
    }

    fn template_for(
        &mut self,
        key_var: Option<&Ident>,
        value_var: &Ident,
        collection: &Expr,
        body: &[TemplatePart],
        span: Span,
        whole: Span,
    ) -> Value {
        let coll = self.eval(collection);
        let Some((elems, marks)) = self.iterable(&coll, span) else {
            return Value::unknown(Type::String);
        };
        let mut buf = String::new();
        let mut known = true;
        let mut marks = marks;
        for (k, v) in elems {
            let n = self.vars.len();
            if let Some(kv) = key_var {
                self.vars.push((kv.name.clone(), k));
            }
            self.vars.push((value_var.name.clone(), v));
            let r = self.template(body, whole);
            self.vars.truncate(n);
            if !r.is_known() {
                known = false;
                marks = marks.union(r.marks());
                continue;
            }
            let (r, m) = r.unmark();
            marks = marks.union(m);
            match r.as_str() {
                Some(s) => buf.push_str(s),
                None => {
                    if r.is_null() {
                        self.error(
                            "Invalid template interpolation value",
                            "An iteration result is null. Cannot include a null value in a string template.",
                            span,
                        );
                    }
                }
            }
        }
        if !known {
            return Value::unknown(Type::String).with_marks(marks);
        }
        Value::string(buf).with_marks(marks)
    }

    /// Evaluates a condition (of `?:` or a template `if`): `None` when it
    /// failed or is unknown (after reporting any error), else its truth and
    /// marks.
    fn condition(&mut self, cond: &Expr, span: Span) -> Option<(bool, Marks)> {
        let (c, cd) = self.isolated(|s| s.eval(cond));
        let failed = cd.has_errors();
        self.diags.extend(cd);
        if failed {
            return None;
        }
        if c.is_null() {
            self.error_in(
                "Null condition",
                "The condition value is null. Conditions must either be true or false.",
                cond.span,
                span,
            );
            return None;
        }
        if !c.is_known() {
            return None;
        }
        let Ok(c) = convert(&c, &Type::Bool) else {
            self.error_in(
                "Incorrect condition type",
                "The condition expression must be of type bool.",
                cond.span,
                span,
            );
            return None;
        };
        let (c, m) = c.unmark();
        if !c.is_known() {
            return None;
        }
        c.as_bool().map(|b| (b, m))
    }

    // ----- traversal, index, attributes -----

    fn traverse(&mut self, mut v: Value, steps: &[TraversalStep]) -> Value {
        for st in steps {
            let r = match st {
                TraversalStep::Attr(a) => self.get_attr(&v, a.as_str(), a.span),
                TraversalStep::Index { key, span } => {
                    let k = match key {
                        IndexKey::Number(t) => match Number::parse(t) {
                            Ok(n) => Value::number(n),
                            Err(_) => Value::unknown(Type::Number),
                        },
                        IndexKey::String(s) => Value::string(s.to_string()),
                    };
                    self.index(&v, &k, *span)
                }
            };
            match r {
                Some(x) => v = x,
                None => return Value::unknown_dynamic(),
            }
        }
        v
    }

    fn get_attr(&mut self, obj: &Value, name: &str, span: Span) -> Option<Value> {
        if obj.is_null() {
            self.error(
                "Attempt to get attribute from null value",
                "This value is null, so it does not have any attributes.",
                span,
            );
            return None;
        }
        let (obj, marks) = obj.unmark();
        let ty = obj.ty().clone();
        let r = match &ty {
            Type::Object { attrs, .. } => {
                let Some(aty) = attrs.get(name) else {
                    self.error(
                        "Unsupported attribute",
                        format!("This object does not have an attribute named {name:?}."),
                        span,
                    );
                    return None;
                };
                if !obj.is_known() {
                    Value::unknown(aty.clone())
                } else {
                    obj.get_attr(name)
                        .cloned()
                        .unwrap_or_else(|| Value::unknown(aty.clone()))
                }
            }
            Type::Map(ety) => {
                if !obj.is_known() {
                    Value::unknown((**ety).clone())
                } else {
                    match obj.get_attr(name) {
                        Some(v) => v.clone(),
                        None => {
                            self.error(
                                "Missing map element",
                                format!("This map does not have an element with the key {name:?}."),
                                span,
                            );
                            return None;
                        }
                    }
                }
            }
            Type::Dynamic => Value::unknown_dynamic(),
            Type::List(e) if e.attribute_types().is_some() => {
                self.error(
                    "Unsupported attribute",
                    "Can't access attributes on a list of objects. Did you mean to access an attribute for a specific element of the list, or across all elements of the list?",
                    span,
                );
                return None;
            }
            Type::Set(e) if e.attribute_types().is_some() => {
                self.error(
                    "Unsupported attribute",
                    "Can't access attributes on a set of objects. Did you mean to access an attribute across all elements of the set?",
                    span,
                );
                return None;
            }
            t if t.is_primitive() => {
                self.error(
                    "Unsupported attribute",
                    format!(
                        "Can't access attributes on a primitive-typed value ({}).",
                        ty_name(t)
                    ),
                    span,
                );
                return None;
            }
            _ => {
                self.error(
                    "Unsupported attribute",
                    "This value does not have any attributes.",
                    span,
                );
                return None;
            }
        };
        Some(r.with_marks(marks))
    }

    fn index(&mut self, coll: &Value, key: &Value, span: Span) -> Option<Value> {
        const NO_ELEM: &str = "The given key does not identify an element in this collection value";
        if coll.is_null() {
            self.error(
                "Attempt to index null value",
                "This value is null, so it does not have any indices.",
                span,
            );
            return None;
        }
        if key.is_null() {
            self.error(
                "Invalid index",
                "Can't use a null value as an indexing key.",
                span,
            );
            return None;
        }
        let (coll, cmarks) = coll.unmark();
        let ty = coll.ty().clone();
        if ty.is_dynamic() || key.ty().is_dynamic() {
            return Some(Value::unknown_dynamic().with_marks(cmarks));
        }
        let (key, kmarks) = key.unmark();
        let marks = cmarks.union(kmarks);
        match &ty {
            Type::List(_) | Type::Tuple(_) | Type::Map(_) => {
                let want = if matches!(ty, Type::Map(_)) {
                    Type::String
                } else {
                    Type::Number
                };
                let key = match convert(&key, &want) {
                    Ok(k) => k,
                    Err(err) => {
                        self.error(
                            "Invalid index",
                            format!("{NO_ELEM}: {}.", err.message),
                            span,
                        );
                        return None;
                    }
                };
                let unknown_elem = || match &ty {
                    Type::List(e) | Type::Map(e) => Value::unknown((**e).clone()),
                    _ => Value::unknown_dynamic(),
                };
                if !coll.is_known() || !key.is_known() {
                    return Some(unknown_elem().with_marks(marks));
                }
                if let Type::Map(_) = ty {
                    let k = key.as_str().unwrap_or_default();
                    return match coll.get_attr(k) {
                        Some(v) => Some(v.with_marks(marks)),
                        None => {
                            self.error("Invalid index", format!("{NO_ELEM}."), span);
                            None
                        }
                    };
                }
                let elems = coll.as_seq().unwrap_or(&[]);
                let n = key.as_number().cloned().unwrap_or_else(Number::zero);
                let reason = if !n.is_integer() {
                    Some("indexing a sequence requires a whole number, but the given index has a fractional part")
                } else if n.is_sign_negative() && !n.is_zero() {
                    Some("a negative number is not a valid index for a sequence")
                } else {
                    // Terraform 1.0.3 explains only an index just past the
                    // end; further out it gives the bare message.
                    match n.to_u64().and_then(|i| usize::try_from(i).ok()) {
                        Some(i) if i < elems.len() => return Some(elems[i].with_marks(marks)),
                        Some(i) if i == elems.len() && elems.is_empty() => {
                            Some("the collection has no elements")
                        }
                        Some(i) if i == elems.len() => Some(
                            "the given index is greater than or equal to the length of the collection",
                        ),
                        _ => None,
                    }
                };
                match reason {
                    Some(r) => self.error("Invalid index", format!("{NO_ELEM}: {r}."), span),
                    None => self.error("Invalid index", format!("{NO_ELEM}."), span),
                }
                None
            }
            Type::Object { attrs, .. } => {
                let was_number = *key.ty() == Type::Number;
                let key = match convert(&key, &Type::String) {
                    Ok(k) => k,
                    Err(err) => {
                        self.error(
                            "Invalid index",
                            format!("{NO_ELEM}: {}.", err.message),
                            span,
                        );
                        return None;
                    }
                };
                if !coll.is_known() || !key.is_known() {
                    return Some(Value::unknown_dynamic().with_marks(marks));
                }
                let k = key.as_str().unwrap_or_default();
                if !attrs.contains_key(k) {
                    let extra = if was_number {
                        " An object only supports looking up attributes by name, not by numeric index."
                    } else {
                        ""
                    };
                    self.error("Invalid index", format!("{NO_ELEM}.{extra}"), span);
                    return None;
                }
                coll.get_attr(k).map(|v| v.with_marks(marks))
            }
            Type::Set(_) => {
                self.error(
                    "Invalid index",
                    "Elements of a set are identified only by their value and don't have any separate index or key to select with, so it's only possible to perform operations across all elements of the set.",
                    span,
                );
                None
            }
            _ => {
                self.error(
                    "Invalid index",
                    "This value does not have any indices.",
                    span,
                );
                None
            }
        }
    }

    // ----- splat -----

    fn splat_each(&mut self, item: Value, each: &Expr) -> (Value, Diagnostics) {
        self.splat.push(item);
        let r = self.isolated(|s| s.eval(each));
        self.splat.pop();
        r
    }

    fn splat_result_type(&mut self, src_ty: &Type, each: &Expr) -> (Type, Diagnostics) {
        match src_ty {
            Type::List(e) | Type::Set(e) => {
                let (v, d) = self.splat_each(Value::unknown((**e).clone()), each);
                (Type::list(v.ty().clone()), d)
            }
            Type::Tuple(ts) => {
                let mut out = Vec::new();
                let mut diags = Diagnostics::new();
                for t in ts.clone() {
                    let (v, d) = self.splat_each(Value::unknown(t), each);
                    diags.extend(d);
                    out.push(v.ty().clone());
                }
                (Type::tuple(out), diags)
            }
            _ => (Type::Dynamic, Diagnostics::new()),
        }
    }

    fn splat(&mut self, source: &Expr, each: &Expr) -> Value {
        let (src, sd) = self.isolated(|s| s.eval(source));
        let failed = sd.has_errors();
        self.diags.extend(sd);
        if failed {
            return Value::unknown_dynamic();
        }
        let seq = matches!(src.ty(), Type::List(_) | Type::Set(_) | Type::Tuple(_));
        if src.is_null() {
            if !seq {
                return Value::empty_tuple();
            }
            self.error(
                "Splat of null value",
                "Splat expressions (with the * symbol) cannot be applied to null sequences.",
                source.span,
            );
            return Value::unknown_dynamic();
        }
        let src = if seq { src } else { Value::tuple(vec![src]) };
        let src_ty = src.ty().clone();
        if !src.is_known() {
            let (t, d) = self.splat_result_type(&src_ty, each);
            self.diags.extend(d);
            return Value::unknown(t);
        }
        let (src, marks) = src.unmark();
        let items: Vec<Value> = src.as_seq().map(<[Value]>::to_vec).unwrap_or_default();
        let mut vals = Vec::with_capacity(items.len());
        let mut known = true;
        for it in items {
            let (v, d) = self.splat_each(it, each);
            if d.has_errors() {
                known = false;
            }
            self.diags.extend(d);
            vals.push(v);
        }
        if !known {
            let (t, _) = self.splat_result_type(&src_ty, each);
            return Value::unknown(t);
        }
        match src_ty {
            Type::List(_) | Type::Set(_) => {
                if vals.is_empty() {
                    let (t, d) = self.splat_result_type(&src_ty, each);
                    self.diags.extend(d);
                    let ety = t.element_type().cloned().unwrap_or(Type::Dynamic);
                    return Value::list_empty(ety).with_marks(marks);
                }
                make_list(vals).with_marks(marks)
            }
            _ => Value::tuple(vals).with_marks(marks),
        }
    }

    // ----- collections -----

    fn object(&mut self, items: &[terrane_hcl::ast::ObjectItem]) -> Value {
        let mut out = BTreeMap::new();
        let mut known = true;
        let mut marks = Marks::NONE;
        for item in items {
            let key = match item.bare_key() {
                Some(k) => Value::string(k),
                None => {
                    let (k, d) = self.isolated(|s| s.eval(&item.key));
                    let failed = d.has_errors();
                    self.diags.extend(d);
                    if failed {
                        known = false;
                        self.eval(&item.value);
                        continue;
                    }
                    k
                }
            };
            if key.is_null() {
                self.error(
                    "Null value as key",
                    "Can't use a null value as a key.",
                    item.key.span,
                );
                known = false;
                continue;
            }
            let key = match convert(&key, &Type::String) {
                Ok(k) => k,
                Err(err) => {
                    self.error(
                        "Incorrect key type",
                        format!("Can't use this value as a key: {}.", err.message),
                        item.key.span,
                    );
                    known = false;
                    continue;
                }
            };
            let v = self.eval(&item.value);
            let (key, km) = key.unmark();
            marks = marks.union(km);
            match key.as_str() {
                Some(k) => {
                    out.insert(k.to_string(), v);
                }
                None => known = false,
            }
        }
        if !known {
            return Value::unknown_dynamic();
        }
        Value::object(out).with_marks(marks)
    }

    /// The (key, value) pairs of a collection for iteration, after the
    /// checks of a `for` expression. `None` when it cannot be iterated now
    /// (an error was reported, or it is unknown).
    fn iterable(&mut self, coll: &Value, span: Span) -> Option<(Vec<(Value, Value)>, Marks)> {
        if coll.is_null() {
            self.error(
                "Iteration over null value",
                "A null value cannot be used as the collection in a 'for' expression.",
                span,
            );
            return None;
        }
        if coll.ty().is_dynamic() {
            return None;
        }
        if !(coll.ty().is_collection() || coll.ty().is_structural()) {
            self.error(
                "Iteration over non-iterable value",
                format!(
                    "A value of type {} cannot be used as the collection in a 'for' expression.",
                    ty_name(coll.ty())
                ),
                span,
            );
            return None;
        }
        if !coll.is_known() {
            return None;
        }
        let (coll, marks) = coll.unmark();
        Some((elements(&coll), marks))
    }

    fn for_expr(&mut self, fe: &ForExpr, span: Span) -> Value {
        let coll = self.eval(&fe.collection);
        let Some((elems, marks)) = self.iterable(&coll, fe.collection.span) else {
            return Value::unknown_dynamic();
        };
        let mut known = true;
        let mut tuple = Vec::new();
        let mut obj: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, v) in elems {
            let n = self.vars.len();
            if let Some(kv) = &fe.key_var {
                self.vars.push((kv.name.clone(), k));
            }
            self.vars.push((fe.value_var.name.clone(), v));
            self.for_item(fe, span, &mut known, &mut tuple, &mut obj, &mut groups);
            self.vars.truncate(n);
        }
        if !known {
            return Value::unknown_dynamic();
        }
        let r = if fe.key_expr.is_some() {
            if fe.grouping {
                Value::object(
                    groups
                        .into_iter()
                        .map(|(k, vs)| (k, Value::tuple(vs)))
                        .collect(),
                )
            } else {
                Value::object(obj)
            }
        } else {
            Value::tuple(tuple)
        };
        r.with_marks(marks)
    }

    fn for_item(
        &mut self,
        fe: &ForExpr,
        span: Span,
        known: &mut bool,
        tuple: &mut Vec<Value>,
        obj: &mut BTreeMap<String, Value>,
        groups: &mut BTreeMap<String, Vec<Value>>,
    ) {
        if let Some(cond) = &fe.cond {
            let (c, d) = self.isolated(|s| s.eval(cond));
            let failed = d.has_errors();
            self.diags.extend(d);
            if failed {
                *known = false;
                return;
            }
            if c.is_null() {
                if *known {
                    self.error(
                        "Condition is null",
                        "The value of the 'if' clause must not be null.",
                        cond.span,
                    );
                }
                *known = false;
                return;
            }
            let c = match convert(&c, &Type::Bool) {
                Ok(c) => c,
                Err(err) => {
                    if *known {
                        self.error(
                            "Invalid 'for' condition",
                            format!("The 'if' clause value is invalid: {}.", err.message),
                            cond.span,
                        );
                    }
                    *known = false;
                    return;
                }
            };
            if !c.is_known() {
                *known = false;
                return;
            }
            if c.unmark().0.as_bool() != Some(true) {
                return;
            }
        }
        let Some(key_expr) = &fe.key_expr else {
            let v = self.eval(&fe.value_expr);
            tuple.push(v);
            return;
        };
        let (k, d) = self.isolated(|s| s.eval(key_expr));
        let failed = d.has_errors();
        self.diags.extend(d);
        if failed {
            *known = false;
            return;
        }
        if k.is_null() {
            if *known {
                self.error(
                    "Invalid object key",
                    "Key expression in 'for' expression must not produce a null value.",
                    key_expr.span,
                );
            }
            *known = false;
            return;
        }
        if !k.is_known() {
            *known = false;
            return;
        }
        let k = match convert(&k, &Type::String) {
            Ok(k) => k,
            Err(err) => {
                if *known {
                    self.error(
                        "Invalid object key",
                        format!(
                            "The key expression produced an invalid result: {}.",
                            err.message
                        ),
                        key_expr.span,
                    );
                }
                *known = false;
                return;
            }
        };
        let key = k.unmark().0.as_str().unwrap_or_default().to_string();
        let v = self.eval(&fe.value_expr);
        if fe.grouping {
            groups.entry(key).or_default().push(v);
            return;
        }
        match obj.entry(key) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(v);
            }
            std::collections::btree_map::Entry::Occupied(e) => {
                if *known {
                    let key = e.key().clone();
                    self.error(
                        "Duplicate object key",
                        format!("Two different items produced the key {key:?} in this 'for' expression. If duplicates are expected, use the ellipsis (...) after the value expression to enable grouping by key."),
                        key_expr.span.to(span),
                    );
                }
                *known = false;
            }
        }
    }

    // ----- conditional -----

    fn conditional(&mut self, cond: &Expr, then: &Expr, otherwise: &Expr, span: Span) -> Value {
        let (tv, td) = self.isolated(|s| s.eval(then));
        let (fv, fd) = self.isolated(|s| s.eval(otherwise));
        let dyn_null = |v: &Value| v.is_null() && v.ty().is_dynamic() && !v.is_marked();
        let result_ty = if dyn_null(&tv) {
            Some(fv.ty().clone())
        } else if dyn_null(&fv) {
            Some(tv.ty().clone())
        } else {
            unify(&[tv.ty().clone(), fv.ty().clone()])
        };
        let Some(result_ty) = result_ty else {
            self.error_in(
                "Inconsistent conditional result types",
                format!(
                    "The true and false result expressions must have consistent types. The given expressions are {} and {}, respectively.",
                    ty_name(tv.ty()),
                    ty_name(fv.ty())
                ),
                then.span.to(otherwise.span),
                span,
            );
            return Value::unknown_dynamic();
        };
        let Some((b, marks)) = self.condition(cond, span) else {
            return Value::unknown(result_ty);
        };
        let (v, d, which) = if b {
            (tv, td, "true")
        } else {
            (fv, fd, "false")
        };
        self.diags.extend(d);
        match convert(&v, &result_ty) {
            Ok(v) => v.with_marks(marks),
            Err(err) => {
                self.error(
                    "Inconsistent conditional result types",
                    format!("The {which} result value has the wrong type: {err}."),
                    if b { then.span } else { otherwise.span },
                );
                Value::unknown(result_ty)
            }
        }
    }

    // ----- operators -----

    fn operand(
        &mut self,
        v: Value,
        want: &Type,
        side: &str,
        span: Span,
        whole: Span,
    ) -> Option<Value> {
        match convert(&v, want) {
            Ok(v) => Some(v),
            Err(err) => {
                self.error_in(
                    "Invalid operand",
                    format!("Unsuitable value for {side} operand: {}.", err.message),
                    span,
                    whole,
                );
                None
            }
        }
    }

    fn binary(&mut self, op: BinaryOp, lhs: &Expr, rhs: &Expr, span: Span) -> Value {
        use BinaryOp::*;
        let (l, ld) = self.isolated(|s| s.eval(lhs));
        let (r, rd) = self.isolated(|s| s.eval(rhs));
        let failed = ld.has_errors() || rd.has_errors();
        self.diags.extend(ld);
        self.diags.extend(rd);
        let (param, result) = match op {
            Equal | NotEqual => (Type::Dynamic, Type::Bool),
            And | Or => (Type::Bool, Type::Bool),
            Less | LessOrEqual | Greater | GreaterOrEqual => (Type::Number, Type::Bool),
            Add | Subtract | Multiply | Divide | Modulo => (Type::Number, Type::Number),
        };
        if failed {
            return Value::unknown(result);
        }
        if matches!(op, Equal | NotEqual) {
            let eq = l.equals(&r);
            if op == NotEqual {
                let (b, m) = eq.unmark();
                return match b.as_bool() {
                    Some(x) => Value::bool(!x).with_marks(m),
                    None => b.with_marks(m),
                };
            }
            return eq;
        }
        let lc = self.operand(l, &param, "left", lhs.span, span);
        let rc = self.operand(r, &param, "right", rhs.span, span);
        let (Some(l), Some(r)) = (lc, rc) else {
            return Value::unknown(result);
        };
        if l.is_null() || r.is_null() {
            self.error(
                "Operation failed",
                "Error during operation: argument must not be null.",
                span,
            );
            return Value::unknown(result);
        }
        let (l, lm) = l.unmark();
        let (r, rm) = r.unmark();
        let marks = lm.union(rm);
        if !l.is_known() || !r.is_known() {
            return Value::unknown(result).with_marks(marks);
        }
        let v = match op {
            And | Or => {
                let (a, b) = (l.as_bool().unwrap_or(false), r.as_bool().unwrap_or(false));
                Value::bool(if op == And { a && b } else { a || b })
            }
            _ => {
                let (Some(a), Some(b)) = (l.as_number(), r.as_number()) else {
                    return Value::unknown(result).with_marks(marks);
                };
                let res = match op {
                    Less => Ok(Value::bool(a.cmp_num(b).is_lt())),
                    LessOrEqual => Ok(Value::bool(a.cmp_num(b).is_le())),
                    Greater => Ok(Value::bool(a.cmp_num(b).is_gt())),
                    GreaterOrEqual => Ok(Value::bool(a.cmp_num(b).is_ge())),
                    Add => a.add(b).map(Value::number),
                    Subtract => a.sub(b).map(Value::number),
                    Multiply => a.mul(b).map(Value::number),
                    Divide => a.div(b).map(Value::number),
                    _ => a.rem(b).map(Value::number),
                };
                match res {
                    Ok(v) => v,
                    Err(e) => {
                        self.error(
                            "Operation failed",
                            format!("Error during operation: {e}."),
                            span,
                        );
                        return Value::unknown(result);
                    }
                }
            }
        };
        v.with_marks(marks)
    }

    fn unary(&mut self, op: UnaryOp, operand: &Expr, span: Span) -> Value {
        let (v, d) = self.isolated(|s| s.eval(operand));
        let failed = d.has_errors();
        self.diags.extend(d);
        let (param, result) = match op {
            UnaryOp::Not => (Type::Bool, Type::Bool),
            UnaryOp::Negate => (Type::Number, Type::Number),
        };
        if failed {
            return Value::unknown(result);
        }
        let Some(v) = self.operand(v, &param, "unary", operand.span, span) else {
            return Value::unknown(result);
        };
        if v.is_null() {
            self.error(
                "Operation failed",
                "Error during operation: argument must not be null.",
                span,
            );
            return Value::unknown(result);
        }
        let (v, m) = v.unmark();
        if !v.is_known() {
            return Value::unknown(result).with_marks(m);
        }
        let r = match op {
            UnaryOp::Not => Value::bool(!v.as_bool().unwrap_or(false)),
            UnaryOp::Negate => match v.as_number() {
                Some(n) => Value::number(n.neg()),
                None => Value::unknown(result),
            },
        };
        r.with_marks(m)
    }

    // ----- function calls -----

    fn call(&mut self, e: &Expr, name: &Ident, args: &[Expr], expand_final: bool) -> Value {
        let fname = name.as_str();
        let span = e.span;
        match fname {
            "try" if !expand_final => return self.call_try(args, span),
            "can" if !expand_final => return self.call_can(args, span),
            _ => {}
        }
        let builtin = matches!(fname, "templatefile" | "templatestring");
        let provider_fn = match fname.strip_prefix("provider::") {
            Some(rest) => match self.provider_function(rest, name.span) {
                Some(f) => Some(f),
                None => return Value::unknown_dynamic(),
            },
            None => None,
        };
        if provider_fn.is_none() && !builtin && !funcs_adapter::exists(fname) {
            self.error(
                "Call to unknown function",
                format!("There is no function named {fname:?}."),
                name.span,
            );
            return Value::unknown_dynamic();
        }
        let sig = if let Some((_, _, ps)) = &provider_fn {
            Some(crate::funcs_adapter::Signature {
                params: ps.params.iter().map(|p| p.name.clone()).collect(),
                variadic: ps.variadic.as_ref().map(|p| p.name.clone()),
            })
        } else if builtin {
            Some(crate::funcs_adapter::Signature {
                params: vec![
                    if fname == "templatefile" {
                        "path"
                    } else {
                        "template"
                    }
                    .to_string(),
                    "vars".to_string(),
                ],
                variadic: None,
            })
        } else {
            funcs_adapter::signature(fname)
        };
        // Arguments: (value, span); the expanded final argument contributes
        // its elements.
        let mut vals: Vec<(Value, Span)> = Vec::new();
        let (fixed, last) = match (expand_final, args.split_last()) {
            (true, Some((last, rest))) => (rest, Some(last)),
            _ => (args, None),
        };
        let mut expanded: Option<Vec<Value>> = None;
        if let Some(last) = last {
            let (lv, ld) = self.isolated(|s| s.eval(last));
            let failed = ld.has_errors();
            self.diags.extend(ld);
            if failed {
                return Value::unknown_dynamic();
            }
            if lv.is_null() {
                self.error(
                    "Invalid expanding argument value",
                    "The expanding argument (indicated by ...) must not be null.",
                    last.span,
                );
                return Value::unknown_dynamic();
            }
            if !lv.is_known() {
                return Value::unknown_dynamic();
            }
            let (lv, lm) = lv.unmark();
            match lv.kind() {
                Kind::List(es) | Kind::Set(es) | Kind::Tuple(es) => {
                    expanded = Some(es.iter().map(|x| x.with_marks(lm)).collect())
                }
                _ => {
                    self.error(
                        "Invalid expanding argument value",
                        "The expanding argument (indicated by ...) must be of a tuple, list, or set type.",
                        last.span,
                    );
                    return Value::unknown_dynamic();
                }
            }
        }
        let total = fixed.len() + expanded.as_ref().map_or(0, Vec::len);
        if let Some(sig) = &sig {
            if total < sig.params.len() {
                let qual = if sig.variadic.is_some() {
                    " at least"
                } else {
                    ""
                };
                self.error(
                    "Not enough function arguments",
                    format!(
                        "Function {fname:?} expects{qual} {} argument(s). Missing value for {:?}.",
                        sig.params.len(),
                        sig.params[total]
                    ),
                    span,
                );
                return Value::unknown_dynamic();
            }
            if sig.variadic.is_none() && total > sig.params.len() {
                self.error(
                    "Too many function arguments",
                    format!(
                        "Function {fname:?} expects only {} argument(s).",
                        sig.params.len()
                    ),
                    span,
                );
                return Value::unknown_dynamic();
            }
        }
        let mut failed = false;
        for a in fixed {
            let (v, d) = self.isolated(|s| s.eval(a));
            failed |= d.has_errors();
            self.diags.extend(d);
            vals.push((v, a.span));
        }
        if let (Some(ex), Some(last)) = (expanded, last) {
            for v in ex {
                vals.push((v, last.span));
            }
        }
        if failed {
            return Value::unknown_dynamic();
        }
        let spans: Vec<Span> = vals.iter().map(|(_, s)| *s).collect();
        let args: Vec<Value> = vals.into_iter().map(|(v, _)| v).collect();
        let res = if let Some((provider, function, ps)) = &provider_fn {
            match self.call_provider_function(provider, function, ps, args) {
                Ok(v) => Ok(v),
                Err(crate::provider_functions::CallError::Arg { index, message }) => {
                    Err(CallError::Arg { index, message })
                }
                Err(crate::provider_functions::CallError::Failed(message)) => {
                    Err(CallError::Failed(message))
                }
                Err(crate::provider_functions::CallError::Provider { summary, detail }) => {
                    self.error(&summary, detail, span);
                    return Value::unknown_dynamic();
                }
            }
        } else if builtin {
            self.call_template(fname, args)
        } else {
            funcs_adapter::call(fname, args, &self.scope.base_dir)
        };
        match res {
            Ok(v) => v,
            Err(CallError::Arg { index, message }) => {
                let pname = sig
                    .as_ref()
                    .map(|s| s.param_name(index))
                    .unwrap_or_default();
                let at = spans.get(index).copied().unwrap_or(span);
                self.error_in(
                    "Invalid function argument",
                    format!("Invalid value for {pname:?} parameter: {message}."),
                    at,
                    span,
                );
                Value::unknown_dynamic()
            }
            Err(CallError::Failed(message)) => {
                self.error(
                    "Error in function call",
                    format!("Call to function {fname:?} failed: {message}."),
                    span,
                );
                Value::unknown_dynamic()
            }
        }
    }

    /// Looks up `provider::NAME::FUNC` (given as `NAME::FUNC`) through the
    /// scope's resolver; reports Terraform's diagnostic when there is none.
    fn provider_function(
        &mut self,
        rest: &str,
        span: Span,
    ) -> Option<(
        String,
        String,
        Arc<crate::provider_functions::FunctionSignature>,
    )> {
        use crate::provider_functions::{unknown_function_detail, LookupError};
        let (provider, function) = rest.split_once("::").unwrap_or((rest, ""));
        let found = match &self.scope.provider_functions {
            Some(h) => h.0.signature(provider, function),
            None => Err(LookupError::NotFound),
        };
        match found {
            Ok(sig) => Some((provider.to_string(), function.to_string(), sig)),
            Err(LookupError::NotFound) => {
                self.error(
                    "Unknown provider function",
                    unknown_function_detail(provider, function),
                    span,
                );
                None
            }
            Err(LookupError::Failed { summary, detail }) => {
                self.error(&summary, detail, span);
                None
            }
        }
    }

    /// Checks arguments against a provider function's signature (type
    /// conversion, null, unknown), then calls it. Unknown arguments the
    /// function does not accept make the result unknown without a call;
    /// marks of the arguments carry over to the result.
    fn call_provider_function(
        &mut self,
        provider: &str,
        function: &str,
        sig: &crate::provider_functions::FunctionSignature,
        args: Vec<Value>,
    ) -> Result<Value, crate::provider_functions::CallError> {
        use crate::provider_functions::CallError as PCallError;
        let mut marks = Marks::NONE;
        let mut converted = Vec::with_capacity(args.len());
        let mut unknown = false;
        for (index, a) in args.into_iter().enumerate() {
            let Some(p) = sig.param(index) else {
                return Err(PCallError::Failed("too many arguments".into()));
            };
            marks = marks.union(a.marks_deep());
            let a = a.unmark_deep_value();
            if a.is_null() && !p.allow_null {
                return Err(PCallError::Arg {
                    index,
                    message: "argument must not be null".into(),
                });
            }
            let a = convert::convert(&a, &p.ty).map_err(|e| PCallError::Arg {
                index,
                message: e.to_string(),
            })?;
            if !a.is_wholly_known() && !p.allow_unknown {
                unknown = true;
            }
            converted.push(a);
        }
        if unknown {
            return Ok(Value::unknown(sig.return_type.clone()).with_marks(marks));
        }
        let Some(h) = self.scope.provider_functions.clone() else {
            return Err(PCallError::Failed(
                "no provider functions are available".into(),
            ));
        };
        let v = h.0.call(provider, function, converted)?;
        Ok(if marks.is_empty() {
            v
        } else {
            v.with_marks(marks)
        })
    }

    fn call_try(&mut self, args: &[Expr], span: Span) -> Value {
        if args.is_empty() {
            self.error(
                "Error in function call",
                "Call to function \"try\" failed: at least one argument is required.",
                span,
            );
            return Value::unknown_dynamic();
        }
        let mut all = Diagnostics::new();
        for a in args {
            let (v, d) = self.isolated(|s| s.eval(a));
            if !d.has_errors() {
                if !v.is_wholly_known() {
                    return Value::unknown_dynamic();
                }
                return v;
            }
            all.extend(d);
        }
        let mut msg = String::from("no expression succeeded:\n");
        for d in all.iter() {
            match &d.subject {
                Some(s) => {
                    let a = s.file.pos(s.span.start);
                    let b = s.file.pos(s.span.end);
                    let range = if a.line == b.line {
                        format!("{}:{},{}-{}", s.file.name, a.line, a.column, b.column)
                    } else {
                        format!(
                            "{}:{},{}-{},{}",
                            s.file.name, a.line, a.column, b.line, b.column
                        )
                    };
                    msg.push_str(&format!("- {} (at {range})\n  {}\n", d.summary, d.detail));
                }
                None => msg.push_str(&format!("- {}\n  {}\n", d.summary, d.detail)),
            }
        }
        msg.push_str("\nAt least one expression must produce a successful result");
        self.error(
            "Error in function call",
            format!("Call to function \"try\" failed: {msg}."),
            span,
        );
        Value::unknown_dynamic()
    }

    fn call_can(&mut self, args: &[Expr], span: Span) -> Value {
        match args.len() {
            0 => {
                self.error(
                    "Not enough function arguments",
                    "Function \"can\" expects 1 argument(s). Missing value for \"expression\".",
                    span,
                );
                Value::unknown(Type::Bool)
            }
            1 => {
                let (_, d) = self.isolated(|s| s.eval(&args[0]));
                Value::bool(!d.has_errors())
            }
            _ => {
                self.error(
                    "Too many function arguments",
                    "Function \"can\" expects only 1 argument(s).",
                    span,
                );
                Value::unknown(Type::Bool)
            }
        }
    }

    /// `templatefile(path, vars)` and `templatestring(template, vars)`.
    fn call_template(&mut self, fname: &str, args: Vec<Value>) -> Result<Value, CallError> {
        let arg_err = |index: usize, message: String| CallError::Arg { index, message };
        let (first, vars) = match (args.first(), args.get(1)) {
            (Some(a), Some(b)) => (a.clone(), b.clone()),
            _ => return Err(CallError::Failed("wrong number of arguments".into())),
        };
        let first = convert(&first, &Type::String).map_err(|e| arg_err(0, e.to_string()))?;
        if first.is_null() {
            return Err(arg_err(0, "argument must not be null".into()));
        }
        if !first.is_known() || !vars.is_wholly_known() {
            return Ok(Value::unknown_dynamic());
        }
        let (first, fmarks) = first.unmark();
        let text = first.as_str().unwrap_or_default().to_string();
        let (src, name) = if fname == "templatefile" {
            let path = self.scope.base_dir.join(&text);
            match std::fs::read(&path) {
                Ok(bytes) => match String::from_utf8(bytes) {
                    Ok(s) => (s, text.clone()),
                    Err(_) => {
                        return Err(arg_err(
                            0,
                            format!("contents of {text} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead"),
                        ))
                    }
                },
                Err(_) => {
                    return Err(arg_err(
                        0,
                        format!("no file exists at {text}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"),
                    ))
                }
            }
        } else {
            (text, "<templatestring>".to_string())
        };
        let (vars, vmarks) = vars.unmark();
        let mut bound: Vec<(Arc<str>, Value)> = Vec::new();
        match vars.kind() {
            Kind::Map(m) | Kind::Object(m) => {
                for (k, v) in m {
                    if !terrane_value::format::is_identifier(k) {
                        return Err(arg_err(
                            1,
                            format!("invalid template variable name {k:?}: must start with a letter, followed by zero or more letters, digits, and underscores"),
                        ));
                    }
                    bound.push((Arc::from(k.as_str()), v.clone()));
                }
            }
            Kind::Null => {}
            _ => return Err(arg_err(1, "object or map required".into())),
        }
        let file = SourceFile::new(name, src.clone());
        let (expr, pdiags) = terrane_hcl::parse_template(&file, &src, 0);
        if pdiags.has_errors() {
            let d = pdiags.iter().find(|d| d.is_error());
            let msg = d
                .map(|d| format!("{}: {}", d.summary, d.detail))
                .unwrap_or_default();
            return Err(CallError::Failed(msg));
        }
        let Some(expr) = expr else {
            return Ok(Value::string(""));
        };
        let scope = self.scope;
        let mut ctx = EvalContext::new(scope).with_file(&file);
        ctx.vars = bound;
        ctx.vars_only = true;
        let (v, d) = eval_expr(&expr, &ctx);
        if d.has_errors() {
            let msg = d
                .iter()
                .filter(|d| d.is_error())
                .map(|d| {
                    let at = d.subject.as_ref().map(|s| {
                        let p = s.file.pos(s.span.start);
                        format!("{}:{},{}", s.file.name, p.line, p.column)
                    });
                    match at {
                        Some(a) => format!("{a}: {}; {}", d.summary, d.detail),
                        None => format!("{}; {}", d.summary, d.detail),
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            return Err(CallError::Failed(msg));
        }
        Ok(v.with_marks(fmarks.union(vmarks)))
    }
}

/// The iteration pairs of a known, non-null collection: index/value for
/// sequences, value/value for sets, key/value for maps and objects.
fn elements(v: &Value) -> Vec<(Value, Value)> {
    match v.kind() {
        Kind::List(es) | Kind::Tuple(es) => es
            .iter()
            .enumerate()
            .map(|(i, e)| (Value::from_i64(i as i64), e.clone()))
            .collect(),
        Kind::Set(es) => es.iter().map(|e| (e.clone(), e.clone())).collect(),
        Kind::Map(m) | Kind::Object(m) => m
            .iter()
            .map(|(k, e)| (Value::string(k.clone()), e.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

/// A list of `vals` (all of one type), or a tuple when their types differ
/// and do not unify.
fn make_list(vals: Vec<Value>) -> Value {
    let first = vals
        .first()
        .map(|v| v.ty().clone())
        .unwrap_or(Type::Dynamic);
    if vals.iter().all(|v| *v.ty() == first) {
        return Value::list(first, vals);
    }
    let tys: Vec<Type> = vals.iter().map(|v| v.ty().clone()).collect();
    if let Some(t) = unify(&tys) {
        let conv: Result<Vec<Value>, _> = vals.iter().map(|v| convert(v, &t)).collect();
        if let Ok(c) = conv {
            return Value::list(t, c);
        }
    }
    Value::tuple(vals)
}
