//! The checks `validate` makes without provider schemas: references to
//! undeclared objects, misuse of `count`/`each`/`self`/`path`/`terraform`,
//! module call arguments against the child's variables, and dependency
//! cycles among local values.

use crate::model::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use terrane_hcl::ast::{Body, Expr, ExprKind, Ident, Structure, TraversalStep};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile};

/// Validates every module of the tree.
pub fn validate_tree(tree: &ModuleTree) -> Diagnostics {
    validate_tree_with(tree, &RefIndex::new())
}

/// References collected ahead of time, by module path (see
/// [`resource_body_refs`]).
pub type RefIndex = BTreeMap<Vec<String>, Vec<RefRecord>>;

/// Validates every module of the tree, also checking references that were
/// collected from resource bodies while loading (whose bodies may since have
/// been dropped to bound memory).
pub fn validate_tree_with(tree: &ModuleTree, refs: &RefIndex) -> Diagnostics {
    let mut diags = Diagnostics::new();
    tree.walk(&mut |node| {
        let mut v = Validator {
            node,
            diags: Diagnostics::new(),
        };
        v.module();
        for r in refs.get(&node.path).map(Vec::as_slice).unwrap_or_default() {
            v.reference(&r.file, &r.root, &r.steps, r.ctx);
        }
        diags.extend(v.diags);
    });
    diags
}

/// What a reference may use where it appears.
#[derive(Clone, Copy, Debug, Default)]
pub struct Ctx {
    count: bool,
    each: bool,
    self_: bool,
}

/// One reference found in configuration, with what its context allows.
#[derive(Clone, Debug)]
pub struct RefRecord {
    pub file: Arc<SourceFile>,
    pub root: Ident,
    /// The first steps only: enough for every check.
    pub steps: Vec<TraversalStep>,
    ctx: Ctx,
}

impl Ctx {
    fn of_resource(r: &Resource) -> Ctx {
        Ctx {
            count: r.count.is_some(),
            each: r.for_each.is_some(),
            self_: false,
        }
    }
}

/// Appends the references in a resource's configuration bodies.
pub fn resource_body_refs(r: &Resource, out: &mut Vec<RefRecord>) {
    let ctx = Ctx::of_resource(r);
    for b in std::iter::once(&r.config).chain(&r.config_overrides) {
        body_refs(&b.file, &b.body, ctx, &mut Vec::new(), out);
    }
}

/// Walks a body (nested and dynamic blocks included; provisioner and
/// connection blocks may use `self`) and records every reference.
fn body_refs(
    file: &Arc<SourceFile>,
    body: &Body,
    ctx: Ctx,
    bound: &mut Vec<String>,
    out: &mut Vec<RefRecord>,
) {
    for item in &body.items {
        match item {
            Structure::Attribute(a) => {
                if matches!(a.name.as_str(), "depends_on" | "provider") {
                    continue;
                }
                expr_refs(file, &a.expr, ctx, bound, out)
            }
            Structure::Block(blk) => match blk.ident.as_str() {
                "provisioner" | "connection" => {
                    body_refs(file, &blk.body, Ctx { self_: true, ..ctx }, bound, out)
                }
                "lifecycle" => {}
                "dynamic" => {
                    let iterator = blk
                        .body
                        .attribute("iterator")
                        .and_then(|a| match &a.expr.kind {
                            ExprKind::Traversal { root, .. } => Some(root.as_str().to_string()),
                            _ => None,
                        })
                        .or_else(|| blk.labels.first().map(|l| l.value.to_string()));
                    for a in blk.body.attributes() {
                        if a.name.as_str() != "iterator" {
                            expr_refs(file, &a.expr, ctx, bound, out)
                        }
                    }
                    let n = bound.len();
                    if let Some(it) = iterator {
                        bound.push(it);
                    }
                    for content in blk.body.blocks() {
                        body_refs(file, &content.body, ctx, bound, out)
                    }
                    bound.truncate(n);
                }
                _ => body_refs(file, &blk.body, ctx, bound, out),
            },
        }
    }
}

fn expr_refs(
    file: &Arc<SourceFile>,
    e: &Expr,
    ctx: Ctx,
    bound: &[String],
    out: &mut Vec<RefRecord>,
) {
    e.walk_traversals(&mut |root, steps| {
        if bound.iter().any(|b| b == root.as_str()) {
            return;
        }
        out.push(RefRecord {
            file: file.clone(),
            root: root.clone(),
            steps: steps.iter().take(3).cloned().collect(),
            ctx,
        })
    });
}

struct Validator<'a> {
    node: &'a ModuleTree,
    diags: Diagnostics,
}

fn attr_name(step: Option<&TraversalStep>) -> Option<&str> {
    match step {
        Some(TraversalStep::Attr(i)) => Some(i.as_str()),
        _ => None,
    }
}

impl<'a> Validator<'a> {
    fn m(&self) -> &'a Module {
        &self.node.module
    }

    fn where_(&self) -> String {
        if self.node.path.is_empty() {
            "the root module".to_string()
        } else {
            self.node.addr()
        }
    }

    fn err(
        &mut self,
        file: &Arc<SourceFile>,
        span: terrane_hcl::Span,
        summary: &str,
        detail: String,
    ) {
        self.diags
            .push(Diagnostic::error(summary, detail).with_subject(file, span));
    }

    fn module(&mut self) {
        let m = self.m();
        for l in m.locals.values() {
            self.expr(&l.expr, Ctx::default(), &[]);
        }
        for o in m.outputs.values() {
            if let Some(v) = &o.value {
                self.expr(v, Ctx::default(), &[]);
            }
            for p in &o.preconditions {
                self.rule(p, Ctx::default());
            }
            for d in &o.depends_on {
                self.depends_on(d);
            }
        }
        for v in m.variables.values() {
            for r in &v.validations {
                self.rule(r, Ctx::default());
            }
        }
        for p in m.providers.values() {
            self.body(&p.config, Ctx::default());
            for o in &p.config_overrides {
                self.body(o, Ctx::default());
            }
        }
        for r in m
            .managed_resources
            .values()
            .chain(m.data_resources.values())
        {
            self.resource(r);
        }
        for c in m.checks.values() {
            if let Some(d) = &c.data {
                self.resource(d);
            }
            for a in &c.asserts {
                self.rule(a, Ctx::default());
            }
        }
        for call in m.module_calls.values() {
            self.module_call(call);
        }
        for i in &m.imports {
            let ctx = Ctx {
                each: i.for_each.is_some(),
                ..Ctx::default()
            };
            if let Some(id) = &i.id {
                self.expr(id, ctx, &[]);
            }
            if let Some(fe) = &i.for_each {
                self.expr(fe, Ctx::default(), &[]);
            }
        }
        self.local_cycles();
    }

    fn rule(&mut self, r: &CheckRule, ctx: Ctx) {
        self.expr(&r.condition, ctx, &[]);
        if let Some(e) = &r.error_message {
            self.expr(e, ctx, &[]);
        }
    }

    fn resource(&mut self, r: &Resource) {
        let ctx = Ctx::of_resource(r);
        if let Some(c) = &r.count {
            self.expr(c, Ctx::default(), &[]);
        }
        if let Some(f) = &r.for_each {
            self.expr(f, Ctx::default(), &[]);
        }
        for d in &r.depends_on {
            self.depends_on(d);
        }
        let mut out = Vec::new();
        resource_body_refs(r, &mut out);
        self.check_all(out);
        for p in &r.lifecycle.preconditions {
            self.rule(p, ctx);
        }
        for p in &r.lifecycle.postconditions {
            self.rule(p, Ctx { self_: true, ..ctx });
        }
        for e in &r.lifecycle.replace_triggered_by {
            self.expr(e, ctx, &[]);
        }
    }

    fn module_call(&mut self, call: &ModuleCall) {
        let ctx = Ctx {
            count: call.count.is_some(),
            each: call.for_each.is_some(),
            self_: false,
        };
        if let Some(c) = &call.count {
            self.expr(c, Ctx::default(), &[]);
        }
        if let Some(f) = &call.for_each {
            self.expr(f, Ctx::default(), &[]);
        }
        for d in &call.depends_on {
            self.depends_on(d);
        }
        for input in call.inputs.values() {
            self.expr(&input.value, ctx, &[]);
        }
        // Arguments against the child's variables, when it is loaded.
        let Some(child) = self.node.children.get(&call.name) else {
            return;
        };
        let vars = &child.module.variables;
        for (name, input) in &call.inputs {
            if !vars.contains_key(name) {
                self.err(
                    &input.name_range.file,
                    input.name_range.span,
                    "Unsupported argument",
                    format!("An argument named {name:?} is not expected here."),
                );
            }
        }
        for (name, v) in vars {
            let required = v.default.is_none() && !call.inputs.contains_key(name);
            if required {
                self.err(
                    &call.range.file,
                    call.range.span,
                    "Missing required argument",
                    format!("The argument {name:?} is required, but no definition was found."),
                );
            }
        }
    }

    fn depends_on(&mut self, t: &Traversal) {
        let root = t.root.as_str();
        match root {
            "module" | "data" => {}
            "var" | "local" | "count" | "each" | "path" | "terraform" | "self" => {
                self.err(
                    &t.range.file,
                    t.range.span,
                    "Invalid depends_on reference",
                    "References in depends_on must be to a whole object (resource, etc), not to an attribute of an object.".to_string(),
                );
                return;
            }
            _ => {}
        }
        self.reference(&t.range.file, &t.root, &t.steps, Ctx::default());
    }

    fn check_all(&mut self, refs: Vec<RefRecord>) {
        for r in refs {
            self.reference(&r.file, &r.root, &r.steps, r.ctx);
        }
    }

    fn body(&mut self, b: &SrcBody, ctx: Ctx) {
        let mut out = Vec::new();
        body_refs(&b.file, &b.body, ctx, &mut Vec::new(), &mut out);
        self.check_all(out);
    }

    fn expr(&mut self, e: &SrcExpr, ctx: Ctx, bound: &[String]) {
        let mut out = Vec::new();
        expr_refs(&e.file, &e.expr, ctx, bound, &mut out);
        self.check_all(out);
    }

    fn reference(
        &mut self,
        file: &Arc<SourceFile>,
        root: &Ident,
        steps: &[TraversalStep],
        ctx: Ctx,
    ) {
        let m = self.m();
        let first = attr_name(steps.first());
        let span_to = |n: usize| {
            steps
                .iter()
                .take(n)
                .fold(root.span, |s, st| s.to(st.span()))
        };
        match root.as_str() {
            "var" => match first {
                Some(name) if !m.variables.contains_key(name) => {
                    let detail = match suggest(name, m.variables.keys()) {
                        Some(s) => format!("An input variable with the name {name:?} has not been declared. Did you mean {s:?}?"),
                        None => format!("An input variable with the name {name:?} has not been declared. This variable can be declared with a variable {name:?} {{}} block."),
                    };
                    self.err(file, span_to(1), "Reference to undeclared input variable", detail)
                }
                None => self.err(file, root.span, "Invalid reference", "The \"var\" object cannot be accessed directly. Instead, access one of its attributes.".to_string()),
                _ => {}
            },
            "local" => match first {
                Some(name) if !m.locals.contains_key(name) => self.err(
                    file,
                    span_to(1),
                    "Reference to undeclared local value",
                    format!("A local value with the name {name:?} has not been declared.{}", did_you_mean(name, m.locals.keys())),
                ),
                None => self.err(file, root.span, "Invalid reference", "The \"local\" object cannot be accessed directly. Instead, access one of its attributes.".to_string()),
                _ => {}
            },
            "module" => match first {
                Some(name) if !m.module_calls.contains_key(name) => self.err(
                    file,
                    span_to(1),
                    "Reference to undeclared module",
                    format!("No module call named {name:?} is declared in {}.{}", self.where_(), did_you_mean(name, m.module_calls.keys())),
                ),
                Some(name) => {
                    // module.NAME[KEY].OUTPUT: check OUTPUT when the child is loaded.
                    let Some(child) = self.node.children.get(name) else { return };
                    let rest = &steps[1..];
                    let out = rest.iter().find_map(|s| match s {
                        TraversalStep::Attr(i) => Some(i),
                        _ => None,
                    });
                    if let Some(o) = out {
                        if !child.module.outputs.contains_key(o.as_str()) {
                            self.err(
                                file,
                                o.span,
                                "Unsupported attribute",
                                format!("This object does not have an attribute named {:?}.", o.as_str()),
                            );
                        }
                    }
                }
                None => self.err(file, root.span, "Invalid reference", "The \"module\" object cannot be accessed directly. Instead, access one of its attributes.".to_string()),
            },
            "data" => {
                let (Some(t), Some(n)) = (first, attr_name(steps.get(1))) else {
                    self.err(file, root.span, "Invalid reference", "A reference to a data source must be followed by at least one attribute access, specifying the resource name.".to_string());
                    return;
                };
                if !m.data_resources.contains_key(&format!("data.{t}.{n}"))
                    && !m.checks.values().any(|c| c.data.as_ref().is_some_and(|d| d.type_name == t && d.name == n))
                {
                    let same_type = m.data_resources.values().filter(|r| r.type_name == t).map(|r| &r.name);
                    self.err(
                        file,
                        span_to(2),
                        "Reference to undeclared resource",
                        format!("A data resource {t:?} {n:?} has not been declared in {}.{}", self.where_(), did_you_mean(n, same_type)),
                    );
                }
            }
            "count" => {
                if first != Some("index") {
                    self.err(file, span_to(1), "Invalid \"count\" attribute", format!("The \"count\" object does not have an attribute named {:?}. The only supported attribute is count.index, which is the index of each instance of a resource block that has the \"count\" argument set.", first.unwrap_or_default()));
                } else if !ctx.count {
                    self.err(file, span_to(1), "Reference to \"count\" in non-counted context", "The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set.".to_string());
                }
            }
            "each" => {
                if !matches!(first, Some("key" | "value")) {
                    self.err(file, span_to(1), "Invalid \"each\" attribute", format!("The \"each\" object does not have an attribute named {:?}. The supported attributes are each.key and each.value, the current key and value pair of the \"for_each\" attribute set.", first.unwrap_or_default()));
                } else if !ctx.each {
                    self.err(file, span_to(1), "Reference to \"each\" in context without for_each", "The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set.".to_string());
                }
            }
            "self" => {
                if !ctx.self_ {
                    self.err(file, root.span, "Invalid \"self\" reference", "The \"self\" object is not available in this context. This object can be used only in resource provisioner, connection, and postcondition blocks.".to_string());
                }
            }
            "path" => {
                if !matches!(first, Some("module" | "root" | "cwd")) {
                    self.err(file, span_to(1), "Invalid \"path\" attribute", format!("The \"path\" object does not have an attribute named {:?}. The supported attributes are path.cwd, path.module, and path.root.", first.unwrap_or_default()));
                }
            }
            "terraform" => {
                if !matches!(first, Some("workspace" | "env")) {
                    self.err(file, span_to(1), "Invalid \"terraform\" attribute", format!("The \"terraform\" object does not have an attribute named {:?}. The only supported attribute is terraform.workspace, the name of the currently-selected workspace.", first.unwrap_or_default()));
                }
            }
            // `resource.TYPE.NAME` (Terraform >= 1.4 form) and `provider::`
            // functions are handled like plain resource references.
            "resource" => {
                if let (Some(t), Some(n)) = (first, attr_name(steps.get(1))) {
                    self.managed(file, t, n, span_to(2));
                }
            }
            "ephemeral" => {}
            type_name => {
                let Some(n) = first else {
                    self.err(file, root.span, "Invalid reference", "A reference to a resource type must be followed by at least one attribute access, specifying the resource name.".to_string());
                    return;
                };
                self.managed(file, type_name, n, span_to(1));
            }
        }
    }

    fn managed(&mut self, file: &Arc<SourceFile>, t: &str, n: &str, span: terrane_hcl::Span) {
        let m = self.m();
        if !m.managed_resources.contains_key(&format!("{t}.{n}")) {
            let same_type = m
                .managed_resources
                .values()
                .filter(|r| r.type_name == t)
                .map(|r| &r.name);
            self.err(
                file,
                span,
                "Reference to undeclared resource",
                format!(
                    "A managed resource {t:?} {n:?} has not been declared in {}.{}",
                    self.where_(),
                    did_you_mean(n, same_type)
                ),
            );
        }
    }

    /// Reports each cycle among local values once.
    fn local_cycles(&mut self) {
        let m = self.m();
        let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (name, l) in &m.locals {
            let mut deps = BTreeSet::new();
            l.expr.expr.walk_traversals(&mut |root, steps| {
                if root.as_str() == "local" {
                    if let Some(TraversalStep::Attr(i)) = steps.first() {
                        if let Some((k, _)) = m.locals.get_key_value(i.as_str()) {
                            deps.insert(k.as_str());
                        }
                    }
                }
            });
            edges.insert(name.as_str(), deps);
        }
        // Iterative DFS with colours; a back edge closes a cycle.
        let mut colour: BTreeMap<&str, u8> = BTreeMap::new();
        let mut reported: BTreeSet<Vec<&str>> = BTreeSet::new();
        for &start in edges.keys() {
            if colour.get(start).copied().unwrap_or(0) != 0 {
                continue;
            }
            let mut stack: Vec<(&str, Vec<&str>)> =
                vec![(start, edges[start].iter().copied().collect())];
            colour.insert(start, 1);
            while let Some((node, pending)) = stack.last_mut() {
                let node = *node;
                match pending.pop() {
                    Some(next) => match colour.get(next).copied().unwrap_or(0) {
                        0 => {
                            colour.insert(next, 1);
                            stack.push((next, edges[next].iter().copied().collect()));
                        }
                        1 => {
                            let pos = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                            let mut cycle: Vec<&str> =
                                stack[pos..].iter().map(|(n, _)| *n).collect();
                            let mut key = cycle.clone();
                            key.sort();
                            if reported.insert(key) {
                                cycle.reverse();
                                let desc = cycle
                                    .iter()
                                    .map(|n| format!("local.{n} (expand)"))
                                    .collect::<Vec<_>>()
                                    .join(", ");
                                let l = &m.locals[next];
                                self.diags.push(
                                    Diagnostic::error(format!("Cycle: {desc}"), "")
                                        .with_subject(&l.range.file, l.range.span),
                                );
                            }
                        }
                        _ => {}
                    },
                    None => {
                        colour.insert(node, 2);
                        stack.pop();
                    }
                }
            }
        }
    }
}

/// The first candidate (in sorted order) within edit distance 2 of
/// `given`, as Terraform suggests names.
fn suggest<'a>(given: &str, candidates: impl Iterator<Item = &'a String>) -> Option<&'a String> {
    candidates.filter(|c| levenshtein(given, c) < 3).min()
}

/// ` Did you mean "x"?` or nothing.
fn did_you_mean<'a>(given: &str, candidates: impl Iterator<Item = &'a String>) -> String {
    suggest(given, candidates)
        .map(|s| format!(" Did you mean {s:?}?"))
        .unwrap_or_default()
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Loads the configuration in `dir` (with local child modules) and validates
/// it with bounded memory: each resource's body is checked for references
/// as it is decoded and then dropped, so memory follows the declarations
/// rather than the size of the configuration.
pub fn validate_dir(dir: &std::path::Path) -> Diagnostics {
    let mut refs = RefIndex::new();
    let mut hook = |path: &[String], r: &mut Resource| {
        resource_body_refs(r, refs.entry(path.to_vec()).or_default());
        r.config.body = Body::default();
    };
    let (tree, mut diags) = crate::loader::load_tree_with(dir, Some(&mut hook));
    if !diags.has_errors() {
        diags.extend(validate_tree_with(&tree, &refs));
    }
    diags
}
