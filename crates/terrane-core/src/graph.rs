//! The dependency order of one module's objects: variables, locals,
//! provider configurations, resources, data sources, module calls and
//! outputs, with edges from references and `depends_on`. Cycles are
//! reported with their full path.

use std::collections::{BTreeMap, BTreeSet};
use terrane_config::{Module, ResourceMode, SrcBody, SrcExpr, Traversal};
use terrane_hcl::ast::{Body, Expr, Structure, TraversalStep};
use terrane_hcl::{Diagnostic, Diagnostics};

/// One object of a module, named as Terraform names graph nodes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Node {
    Variable(String),
    Local(String),
    /// `aws` or `aws.west`.
    Provider(String),
    /// Key `TYPE.NAME` (managed) or `data.TYPE.NAME`.
    Resource(ResourceMode, String),
    ModuleCall(String),
    Output(String),
}

impl std::fmt::Display for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Node::Variable(n) => write!(f, "var.{n}"),
            Node::Local(n) => write!(f, "local.{n}"),
            Node::Provider(n) => write!(f, "provider[\"{n}\"]"),
            Node::Resource(_, k) => f.write_str(k),
            Node::ModuleCall(n) => write!(f, "module.{n}"),
            Node::Output(n) => write!(f, "output.{n}"),
        }
    }
}

fn attr(step: Option<&TraversalStep>) -> Option<&str> {
    match step {
        Some(TraversalStep::Attr(i)) => Some(i.as_str()),
        _ => None,
    }
}

/// The node a reference points at, if any.
fn target(m: &Module, root: &str, steps: &[TraversalStep]) -> Option<Node> {
    let first = attr(steps.first());
    match root {
        "var" => first.map(|n| Node::Variable(n.to_string())),
        "local" => first.map(|n| Node::Local(n.to_string())),
        "module" => first.map(|n| Node::ModuleCall(n.to_string())),
        "data" => {
            let key = format!("data.{}.{}", first?, attr(steps.get(1))?);
            m.data_resources
                .contains_key(&key)
                .then_some(Node::Resource(ResourceMode::Data, key))
        }
        "count" | "each" | "self" | "path" | "terraform" => None,
        t => {
            let key = format!("{t}.{}", first?);
            m.managed_resources
                .contains_key(&key)
                .then_some(Node::Resource(ResourceMode::Managed, key))
        }
    }
}

/// The node of module `m` a reference (`root` and its steps) points at,
/// if any (`module.c...` is the call `c`).
pub fn reference_target(m: &Module, root: &str, steps: &[TraversalStep]) -> Option<Node> {
    target(m, root, steps)
}

fn expr_deps(m: &Module, e: &Expr, out: &mut BTreeSet<Node>) {
    e.walk_traversals(&mut |root, steps| {
        if let Some(n) = target(m, root.as_str(), steps) {
            out.insert(n);
        }
    });
}

fn body_deps(m: &Module, b: &Body, out: &mut BTreeSet<Node>) {
    for item in &b.items {
        match item {
            Structure::Attribute(a) => {
                if a.name.as_str() != "depends_on" && a.name.as_str() != "provider" {
                    expr_deps(m, &a.expr, out)
                }
            }
            Structure::Block(blk) => {
                if blk.ident.as_str() != "lifecycle" {
                    body_deps(m, &blk.body, out)
                }
            }
        }
    }
}

fn traversal_deps(m: &Module, ts: &[Traversal], out: &mut BTreeSet<Node>) {
    for t in ts {
        if let Some(n) = target(m, t.root.as_str(), &t.steps) {
            out.insert(n);
        }
    }
}

fn src(m: &Module, e: &Option<SrcExpr>, out: &mut BTreeSet<Node>) {
    if let Some(e) = e {
        expr_deps(m, &e.expr, out)
    }
}

fn bodies(m: &Module, base: &SrcBody, overrides: &[SrcBody], out: &mut BTreeSet<Node>) {
    body_deps(m, &base.body, out);
    for o in overrides {
        body_deps(m, &o.body, out);
    }
}

/// Which provider configuration (local address) a resource uses.
pub fn resource_provider(r: &terrane_config::Resource) -> String {
    match &r.provider {
        Some(p) => p.addr(),
        None => r.implied_provider().to_string(),
    }
}

/// Each node's direct dependencies.
pub type Deps = BTreeMap<Node, BTreeSet<Node>>;

/// The module's nodes in an order where every node comes after the nodes
/// it depends on (ties broken by name), or the cycles found.
pub fn order(m: &Module) -> Result<(Vec<Node>, Deps), Diagnostics> {
    let mut deps: Deps = BTreeMap::new();
    for name in m.variables.keys() {
        deps.insert(Node::Variable(name.clone()), BTreeSet::new());
    }
    for (name, l) in &m.locals {
        let mut d = BTreeSet::new();
        expr_deps(m, &l.expr.expr, &mut d);
        deps.insert(Node::Local(name.clone()), d);
    }
    for (addr, p) in &m.providers {
        let mut d = BTreeSet::new();
        bodies(m, &p.config, &p.config_overrides, &mut d);
        deps.insert(Node::Provider(addr.clone()), d);
    }
    for (key, r) in m.managed_resources.iter().chain(&m.data_resources) {
        let mut d = BTreeSet::new();
        src(m, &r.count, &mut d);
        src(m, &r.for_each, &mut d);
        bodies(m, &r.config, &r.config_overrides, &mut d);
        traversal_deps(m, &r.depends_on, &mut d);
        for e in &r.lifecycle.replace_triggered_by {
            expr_deps(m, &e.expr, &mut d);
        }
        let p = resource_provider(r);
        if m.providers.contains_key(&p) {
            d.insert(Node::Provider(p));
        }
        d.remove(&Node::Resource(r.mode, key.clone()));
        deps.insert(Node::Resource(r.mode, key.clone()), d);
    }
    for (name, c) in &m.module_calls {
        let mut d = BTreeSet::new();
        src(m, &c.count, &mut d);
        src(m, &c.for_each, &mut d);
        for i in c.inputs.values() {
            expr_deps(m, &i.value.expr, &mut d);
        }
        traversal_deps(m, &c.depends_on, &mut d);
        for p in &c.providers {
            if m.providers.contains_key(&p.in_parent.addr()) {
                d.insert(Node::Provider(p.in_parent.addr()));
            }
        }
        d.remove(&Node::ModuleCall(name.clone()));
        deps.insert(Node::ModuleCall(name.clone()), d);
    }
    for (name, o) in &m.outputs {
        let mut d = BTreeSet::new();
        src(m, &o.value, &mut d);
        traversal_deps(m, &o.depends_on, &mut d);
        deps.insert(Node::Output(name.clone()), d);
    }
    // Only keep edges to nodes that exist (undeclared references are
    // reported by validation).
    let nodes: BTreeSet<Node> = deps.keys().cloned().collect();
    for d in deps.values_mut() {
        d.retain(|n| nodes.contains(n));
    }
    // Kahn's algorithm with a sorted ready set for a deterministic order.
    let mut remaining: BTreeMap<&Node, usize> = deps.iter().map(|(n, d)| (n, d.len())).collect();
    let mut dependents: BTreeMap<&Node, Vec<&Node>> = BTreeMap::new();
    for (n, d) in &deps {
        for x in d {
            dependents.entry(x).or_default().push(n);
        }
    }
    let mut ready: BTreeSet<&Node> = remaining
        .iter()
        .filter(|(_, c)| **c == 0)
        .map(|(n, _)| *n)
        .collect();
    let mut out = Vec::with_capacity(deps.len());
    while let Some(n) = ready.pop_first() {
        out.push(n.clone());
        for d in dependents.get(n).map(Vec::as_slice).unwrap_or_default() {
            if let Some(c) = remaining.get_mut(d) {
                *c -= 1;
                if *c == 0 {
                    ready.insert(d);
                }
            }
        }
    }
    if out.len() == deps.len() {
        return Ok((out, deps));
    }
    Err(cycle_diagnostics(&deps, &out))
}

/// Finds a cycle among the nodes that could not be ordered.
fn cycle_diagnostics(deps: &Deps, done: &[Node]) -> Diagnostics {
    let done: BTreeSet<&Node> = done.iter().collect();
    let stuck: Vec<&Node> = deps.keys().filter(|n| !done.contains(n)).collect();
    let mut diags = Diagnostics::new();
    // Walk from the first stuck node along stuck dependencies until a node
    // repeats: the repeated segment is a cycle.
    if let Some(start) = stuck.first() {
        let mut path: Vec<&Node> = vec![start];
        let mut cur = *start;
        while let Some(next) = deps[cur].iter().find(|n| !done.contains(n)) {
            if let Some(pos) = path.iter().position(|p| *p == next) {
                let cycle: Vec<String> = path[pos..].iter().map(|n| n.to_string()).collect();
                diags.push(Diagnostic::error(
                    format!("Cycle: {}", cycle.join(", ")),
                    "",
                ));
                return diags;
            }
            path.push(next);
            cur = next;
        }
    }
    diags.push(Diagnostic::error(
        "Cycle",
        format!(
            "These objects depend on each other: {}",
            stuck
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ));
    diags
}
