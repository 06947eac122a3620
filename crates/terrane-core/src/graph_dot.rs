//! `terraform graph`: the dependency graph of a configuration in DOT, in
//! the shape Terraform 1.0.3 prints it.
//!
//! Terraform's graph is flat across modules. Its node names, as observed
//! from `terraform graph` 1.0.3:
//!
//! * `var.X` and `output.X` in the root module, `module.M.var.X (expand)`
//!   and `module.M.output.X (expand)` in others; `local.X (expand)`;
//! * `TYPE.NAME (expand)` / `data.TYPE.NAME (expand)` for resources (no
//!   suffix in the `validate` graph);
//! * `module.M (expand)` (depends on the call's count/for_each/depends_on
//!   and is a dependency of everything in the module) and `module.M
//!   (close)` (depends on everything in the module);
//! * `provider["SOURCE"]` (`.ALIAS`), only for providers some resource
//!   uses, and `provider["SOURCE"] (close)` after every resource using it;
//! * `meta.count-boundary (EachMode fixup)` after every node but the
//!   provider closers (not in `eval` and `plan-destroy` graphs), and
//!   `root` after everything;
//! * with state: `ADDR (orphan)` per instance whose resource left the
//!   configuration (plan graphs), every object as `ADDR` (`plan-destroy`);
//! * apply graphs (`-plan=FILE`): `ADDR` per instance created, updated or
//!   read and `ADDR (destroy)` per object destroyed, references resolved
//!   to them, then values and expansions nothing uses pruned.
//!
//! Edges go from a node to what it depends on; an acyclic graph is
//! transitively reduced, as Terraform does. Resources, root outputs and
//! variables and providers get a declaration line (their shape); the
//! other nodes appear in edges only.

use std::collections::{BTreeMap, BTreeSet};

use terrane_config::{Module, ModuleTree};
use terrane_hcl::ast::{Body, Expr, Structure, TraversalStep};
use terrane_state::{Mode, State};

/// Which of Terraform's graphs to draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphType {
    Plan,
    PlanDestroy,
    PlanRefreshOnly,
    Apply,
    Validate,
    Eval,
}

impl GraphType {
    /// `-type=NAME`; None for a name Terraform refuses.
    pub fn parse(name: &str) -> Option<GraphType> {
        Some(match name {
            "plan" => GraphType::Plan,
            "plan-destroy" => GraphType::PlanDestroy,
            "plan-refresh-only" => GraphType::PlanRefreshOnly,
            "apply" => GraphType::Apply,
            "validate" => GraphType::Validate,
            "eval" => GraphType::Eval,
            _ => return None,
        })
    }

    /// Resource nodes of plan-like graphs are expansion nodes.
    fn expands(self) -> bool {
        !matches!(self, GraphType::Validate | GraphType::Eval)
    }

    fn count_boundary(self) -> bool {
        self != GraphType::Eval
    }
}

/// How a node is declared in the DOT output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Box,
    Note,
    Diamond,
}

/// The graph: node names (without the `[root] ` prefix) and edges from a
/// node to the nodes it depends on.
#[derive(Clone, Debug, Default)]
pub struct DotGraph {
    nodes: BTreeMap<String, Option<(String, Shape)>>,
    edges: BTreeMap<String, BTreeSet<String>>,
}

const COUNT_BOUNDARY: &str = "meta.count-boundary (EachMode fixup)";
const ROOT: &str = "root";

impl DotGraph {
    fn node(&mut self, name: &str) {
        self.nodes.entry(name.to_string()).or_insert(None);
        self.edges.entry(name.to_string()).or_default();
    }

    fn declared(&mut self, name: &str, label: &str, shape: Shape) {
        self.nodes
            .insert(name.to_string(), Some((label.to_string(), shape)));
        self.edges.entry(name.to_string()).or_default();
    }

    fn edge(&mut self, from: &str, to: &str) {
        if from == to {
            return;
        }
        self.node(from);
        self.node(to);
        self.edges
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string());
    }

    /// Edges that lie on a cycle (the edge's target reaches its source).
    fn cycle_edges(&self) -> BTreeSet<(String, String)> {
        let reach = Reach::of(self);
        let mut out = BTreeSet::new();
        for (from, tos) in &self.edges {
            for to in tos {
                if reach.reaches(to, from) {
                    out.insert((from.clone(), to.clone()));
                }
            }
        }
        out
    }

    /// Terraform's transitive reduction: an edge u -> v goes when v is
    /// reachable from another direct dependency of u (only called on an
    /// acyclic graph, where no node reaches itself: v is then in the union
    /// of what u's direct dependencies reach exactly when the edge goes).
    fn reduce(&mut self) {
        let reach = Reach::of(self);
        let mut union = vec![0u64; reach.words];
        for tos in self.edges.values_mut() {
            union.iter_mut().for_each(|w| *w = 0);
            for to in tos.iter() {
                if let Some(row) = reach.row(to) {
                    for (u, r) in union.iter_mut().zip(row) {
                        *u |= r;
                    }
                }
            }
            tos.retain(|to| match reach.index.get(to) {
                Some(&t) => union[t / 64] & (1u64 << (t % 64)) == 0,
                None => true,
            });
        }
    }

    /// The DOT text. `draw_cycles` adds Terraform's red copies of the
    /// edges on cycles.
    pub fn to_dot(&self, draw_cycles: bool) -> String {
        let cycles = if draw_cycles {
            self.cycle_edges()
        } else {
            BTreeSet::new()
        };
        let mut out = String::from(
            "digraph {\n\tcompound = \"true\"\n\tnewrank = \"true\"\n\tsubgraph \"root\" {\n",
        );
        // Terraform sorts edge lines as text (so `X (close)` comes before
        // `X` when both start an edge line) and declarations by name.
        let mut decls: Vec<String> = Vec::new();
        for (name, decl) in &self.nodes {
            if let Some((label, shape)) = decl {
                let shape = match shape {
                    Shape::Box => "box",
                    Shape::Note => "note",
                    Shape::Diamond => "diamond",
                };
                decls.push(format!(
                    "\t\t\"[root] {}\" [label = \"{}\", shape = \"{shape}\"]\n",
                    escape(name),
                    escape(label)
                ));
            }
        }
        let mut edges: Vec<String> = Vec::new();
        for (from, tos) in &self.edges {
            for to in tos {
                let line = format!(
                    "\t\t\"[root] {}\" -> \"[root] {}\"",
                    escape(from),
                    escape(to)
                );
                if cycles.contains(&(from.clone(), to.clone())) {
                    edges.push(format!("{line} [color = \"red\", penwidth = \"2.0\"]\n"));
                }
                edges.push(format!("{line}\n"));
            }
        }
        // Declarations come in node name order (the nodes map's).
        edges.sort();
        out.extend(decls);
        out.extend(edges);
        out.push_str("\t}\n}\n\n");
        out
    }
}

/// Which nodes reach which through one or more edges: one bit set per
/// node, over node indices (a chain of thousands of resources stays
/// cheap).
struct Reach {
    index: BTreeMap<String, usize>,
    words: usize,
    bits: Vec<u64>,
}

impl Reach {
    fn of(g: &DotGraph) -> Reach {
        let index: BTreeMap<String, usize> = g
            .edges
            .keys()
            .chain(g.nodes.keys())
            .cloned()
            .collect::<BTreeSet<String>>()
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect();
        let n = index.len();
        let words = n.div_ceil(64);
        let adjacency: Vec<Vec<usize>> = {
            let mut adj = vec![Vec::new(); n];
            for (from, tos) in &g.edges {
                adj[index[from]] = tos.iter().filter_map(|t| index.get(t).copied()).collect();
            }
            adj
        };
        let mut bits = vec![0u64; n * words];
        // Acyclic (the usual case): each node's set is its dependencies'
        // sets and bits, dependencies first. With a cycle: a search per node.
        match dependencies_first(&adjacency) {
            Some(order) => {
                for u in order {
                    for &v in &adjacency[u] {
                        let (before, rest) = bits.split_at_mut(u.max(v) * words);
                        let (row_u, row_v) = if u < v {
                            (&mut before[u * words..(u + 1) * words], &rest[..words])
                        } else {
                            let (row_u, _) = rest.split_at_mut(words);
                            (row_u, &before[v * words..(v + 1) * words])
                        };
                        for (a, b) in row_u.iter_mut().zip(row_v) {
                            *a |= b;
                        }
                        row_u[v / 64] |= 1u64 << (v % 64);
                    }
                }
            }
            None => {
                let mut stack = Vec::new();
                for start in 0..n {
                    let row = &mut bits[start * words..(start + 1) * words];
                    stack.extend(adjacency[start].iter().copied());
                    while let Some(v) = stack.pop() {
                        let (w, b) = (v / 64, 1u64 << (v % 64));
                        if row[w] & b == 0 {
                            row[w] |= b;
                            stack.extend(adjacency[v].iter().copied());
                        }
                    }
                }
            }
        }
        Reach { index, words, bits }
    }

    /// The bits of the nodes `from` reaches.
    fn row(&self, from: &str) -> Option<&[u64]> {
        let f = *self.index.get(from)?;
        self.bits.get(f * self.words..(f + 1) * self.words)
    }

    /// Whether `from` reaches `to`.
    fn reaches(&self, from: &str, to: &str) -> bool {
        match (self.index.get(from), self.index.get(to)) {
            (Some(&f), Some(&t)) => self.bits[f * self.words + t / 64] & (1u64 << (t % 64)) != 0,
            _ => false,
        }
    }
}

/// The nodes ordered so that each comes after everything it depends on,
/// or None when there is a cycle.
fn dependencies_first(adjacency: &[Vec<usize>]) -> Option<Vec<usize>> {
    let n = adjacency.len();
    let mut pending: Vec<usize> = adjacency.iter().map(Vec::len).collect();
    let mut dependents = vec![Vec::new(); n];
    for (u, deps) in adjacency.iter().enumerate() {
        for &v in deps {
            dependents[v].push(u);
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&u| pending[u] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(v) = ready.pop() {
        order.push(v);
        for &u in &dependents[v] {
            pending[u] -= 1;
            if pending[u] == 0 {
                ready.push(u);
            }
        }
    }
    (order.len() == n).then_some(order)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The graph of `tree` (and the objects of `state`, for the plan graphs)
/// as `terraform graph -type=TYPE` draws it.
pub fn build(tree: &ModuleTree, ty: GraphType, state: Option<&State>) -> DotGraph {
    build_with_changes(tree, ty, state, &[])
}

/// One instance change of a saved plan, for its apply graph.
#[derive(Clone, Debug)]
pub struct PlannedChange {
    /// `module.m[0].null_resource.a["k"]`.
    pub addr: String,
    /// The module call names of its module.
    pub module: Vec<String>,
    /// `TYPE.NAME` or `data.TYPE.NAME`.
    pub resource: String,
    /// The instance key as addresses write it (`[0]`, `["k"]`; empty for
    /// none).
    pub key: String,
    pub action: crate::plan::Action,
    /// The provider configuration's address as state records it.
    pub provider: String,
}

/// The apply graph of a saved plan's changes (`graph -plan=FILE`), or any
/// other graph when `changes` is empty.
pub fn build_with_changes(
    tree: &ModuleTree,
    ty: GraphType,
    state: Option<&State>,
    changes: &[PlannedChange],
) -> DotGraph {
    let mut g = DotGraph::default();
    let mut providers = ProviderUse::default();
    if ty == GraphType::PlanDestroy {
        plan_destroy(tree, state, &mut g, &mut providers);
    } else if ty == GraphType::Apply {
        module_nodes(&[tree], &[], ty, &mut g, &mut providers);
        apply_instances(&mut g, &mut providers, state, changes);
    } else {
        module_nodes(&[tree], &[], ty, &mut g, &mut providers);
        if matches!(ty, GraphType::Plan | GraphType::PlanRefreshOnly) {
            if let Some(state) = state {
                orphans(tree, state, &mut g, &mut providers);
            }
        }
    }
    for (provider, users) in &providers.users {
        g.declared(provider, provider, Shape::Diamond);
        let close = format!("{provider} (close)");
        g.edge(&close, provider);
        for d in providers.config_deps.get(provider).into_iter().flatten() {
            g.edge(provider, d);
        }
        for u in users {
            g.edge(u, provider);
            g.edge(&close, u);
        }
    }
    let closers: BTreeSet<String> = providers
        .users
        .keys()
        .map(|p| format!("{p} (close)"))
        .collect();
    let all: Vec<String> = g.nodes.keys().cloned().collect();
    if ty.count_boundary() && ty != GraphType::PlanDestroy {
        g.node(COUNT_BOUNDARY);
        for n in &all {
            if !closers.contains(n) {
                g.edge(COUNT_BOUNDARY, n);
            }
        }
    }
    // `root` closes the graph: it depends on every node nothing else
    // depends on.
    let depended: BTreeSet<String> = g.edges.values().flatten().cloned().collect();
    let tops: Vec<String> = g
        .nodes
        .keys()
        .filter(|n| !depended.contains(*n))
        .cloned()
        .collect();
    for n in &tops {
        g.edge(ROOT, n);
    }
    if g.cycle_edges().is_empty() {
        g.reduce();
    }
    g
}

/// The instance nodes of an apply graph: one per change that creates,
/// updates or reads (`ADDR`, after its resource's expansion, with the
/// resource's references), one per object to destroy (`ADDR (destroy)`,
/// in the state's dependency order, after what refers to its resource);
/// then the marked references resolved to instances.
fn apply_instances(
    g: &mut DotGraph,
    providers: &mut ProviderUse,
    state: Option<&State>,
    changes: &[PlannedChange],
) {
    use crate::plan::Action;
    // Instance and destroy nodes by their resource's expansion node.
    let mut instances: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let mut destroys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut destroy_labels: Vec<(String, String)> = Vec::new();
    for c in changes {
        let pre = prefix(&c.module);
        let expand = resource_node(&pre, &c.resource, GraphType::Apply);
        let label = format!("{pre}{}", c.resource);
        let creates = !matches!(c.action, Action::NoOp | Action::Delete);
        let deletes = matches!(
            c.action,
            Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
        );
        if creates {
            g.declared(&c.addr, &label, Shape::Box);
            // An instance in a keyed module instance (`module.a[0]`) does
            // not find its resource's expansion (Terraform looks it up by
            // the module instance's address).
            if c.addr.starts_with(&pre) {
                g.edge(&c.addr, &expand);
            }
            for d in providers.instance_deps.get(&expand).into_iter().flatten() {
                g.edge(&c.addr, d);
            }
            providers
                .users
                .entry(c.provider.clone())
                .or_default()
                .push(c.addr.clone());
            instances
                .entry(expand.clone())
                .or_default()
                .push((c.addr.clone(), c.key.clone()));
            if !c.module.is_empty() {
                let close = format!("{} (close)", pre.trim_end_matches('.'));
                g.edge(&close, &c.addr);
            }
        }
        if deletes {
            if !c.module.is_empty() {
                g.node(&format!("{} (close)", pre.trim_end_matches('.')));
            }
            let name = format!("{} (destroy)", c.addr);
            g.declared(&name, &label, Shape::Box);
            providers
                .users
                .entry(c.provider.clone())
                .or_default()
                .push(name.clone());
            match c.action {
                Action::DeleteThenCreate => g.edge(&c.addr, &name),
                Action::CreateThenDelete => g.edge(&name, &c.addr),
                _ => {}
            }
            destroys.entry(expand).or_default().push(name.clone());
            destroy_labels.push((name, label));
        }
    }
    // Objects are destroyed after the objects that depend on them.
    if let Some(state) = state {
        let deps_of = |addr: &str| -> Vec<String> {
            for r in &state.resources {
                for i in &r.instances {
                    if i.deposed.is_none()
                        && format!("{} (destroy)", r.instance_address(i.index_key.as_ref())) == addr
                    {
                        return i.dependencies.clone();
                    }
                }
            }
            Vec::new()
        };
        for (x, x_label) in &destroy_labels {
            for (y, _) in &destroy_labels {
                if x != y && deps_of(y).iter().any(|d| d == x_label) {
                    g.edge(x, y);
                }
            }
        }
    }
    // Marked references: to the named instance if it has a node, else to
    // the resource; without a key, to the resource and all its instances.
    // An instance that refers to a resource also waits for that
    // resource's destroy nodes.
    let froms: Vec<String> = g.edges.keys().cloned().collect();
    let creators: BTreeSet<String> = instances
        .values()
        .flatten()
        .map(|(n, _)| n.clone())
        .collect();
    for from in froms {
        let marked: Vec<String> = g.edges[&from]
            .iter()
            .filter(|t| t.contains(REF_MARK))
            .cloned()
            .collect();
        for t in marked {
            if let Some(tos) = g.edges.get_mut(&from) {
                tos.remove(&t);
            }
            let (base, key) = t.split_once(REF_MARK).unwrap_or((t.as_str(), ""));
            let insts = instances.get(base).map(Vec::as_slice).unwrap_or_default();
            let mut targets = Vec::new();
            if let Some(call) = base.strip_suffix(" (close)") {
                // A whole module: its closing node and its outputs.
                let outputs = format!("{call}.output.");
                targets.push(base.to_string());
                targets.extend(
                    g.nodes
                        .keys()
                        .filter(|n| {
                            n.strip_prefix(&outputs)
                                .is_some_and(|o| !o.contains('.') || o.ends_with(" (expand)"))
                                && n.ends_with(" (expand)")
                        })
                        .cloned(),
                );
            } else if key.is_empty() {
                targets.push(base.to_string());
                targets.extend(insts.iter().map(|(n, _)| n.clone()));
            } else {
                match insts.iter().find(|(_, k)| k == key) {
                    Some((n, _)) => targets.push(n.clone()),
                    None => targets.push(base.to_string()),
                }
            }
            if creators.contains(&from) {
                targets.extend(destroys.get(base).into_iter().flatten().cloned());
            }
            for target in targets {
                g.edge(&from, &target);
            }
        }
    }
    g.nodes.retain(|n, _| !n.contains(REF_MARK));
    g.edges.retain(|n, _| !n.contains(REF_MARK));
    prune_unused(g);
    // Pruned resources use no provider; a provider nothing uses goes too.
    for users in providers.users.values_mut() {
        users.retain(|u| g.nodes.contains_key(u));
    }
    providers.users.retain(|_, users| !users.is_empty());
}

/// Terraform's pruning of an apply graph, as observed, until nothing
/// changes: a local, module variable, module output, resource or module
/// expansion that nothing but closing nodes depends on goes.
fn prune_unused(g: &mut DotGraph) {
    loop {
        let mut dependents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (from, tos) in &g.edges {
            for to in tos {
                dependents
                    .entry(to.as_str())
                    .or_default()
                    .push(from.as_str());
            }
        }
        let doomed: Vec<String> = g
            .nodes
            .keys()
            .filter(|n| {
                let users = dependents
                    .get(n.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                n.ends_with(" (expand)") && users.iter().all(|u| u.ends_with(" (close)"))
            })
            .cloned()
            .collect();
        if doomed.is_empty() {
            return;
        }
        for n in &doomed {
            g.nodes.remove(n);
            g.edges.remove(n);
        }
        for tos in g.edges.values_mut() {
            for n in &doomed {
                tos.remove(n);
            }
        }
    }
}

/// The module call names of a state module address (`module.a[0].module.b`
/// -> `[a, b]`).
fn state_module_names(module: &str) -> Vec<String> {
    terrane_state::addr::parse_module(module)
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.name)
        .collect()
}

/// A state resource's address without module instance keys, as node
/// labels show it (`module.m.null_resource.c`).
fn config_label(r: &terrane_state::Resource) -> String {
    let data = if r.mode == Mode::Data { "data." } else { "" };
    format!(
        "{}{data}{}.{}",
        prefix(&state_module_names(&r.module)),
        r.type_,
        r.name
    )
}

/// The module of `tree` at the call names `path`, if configured.
fn configured_module<'a>(tree: &'a ModuleTree, path: &[String]) -> Option<&'a ModuleTree> {
    let mut m = tree;
    for name in path {
        m = m.children.get(name)?;
    }
    Some(m)
}

/// Objects in state whose resource left the configuration: one
/// `ADDR (orphan)` node per instance, using the provider recorded in
/// state; a module only in state gets its `(close)` node.
fn orphans(tree: &ModuleTree, state: &State, g: &mut DotGraph, providers: &mut ProviderUse) {
    for r in &state.resources {
        if r.mode != Mode::Managed {
            continue;
        }
        let path = state_module_names(&r.module);
        let module = configured_module(tree, &path);
        let key = format!("{}.{}", r.type_, r.name);
        if module.is_some_and(|m| m.module.managed_resources.contains_key(&key)) {
            continue;
        }
        if module.is_none() && !path.is_empty() {
            g.node(&format!("{} (close)", prefix(&path).trim_end_matches('.')));
        }
        let label = config_label(r);
        for i in r.instances.iter().filter(|i| i.deposed.is_none()) {
            let name = format!("{} (orphan)", r.instance_address(i.index_key.as_ref()));
            g.declared(&name, &label, Shape::Box);
            providers
                .users
                .entry(r.provider.clone())
                .or_default()
                .push(name);
        }
    }
}

/// The destroy plan: every managed object in state, destroyed after the
/// objects that depend on it (the state's `dependencies`); the root
/// outputs' destroy nodes and the module outputs' expansion nodes hang
/// off `root`.
fn plan_destroy(
    tree: &ModuleTree,
    state: Option<&State>,
    g: &mut DotGraph,
    providers: &mut ProviderUse,
) {
    g.node(ROOT);
    let mut instances: Vec<(String, String, &[String])> = Vec::new();
    for r in state.map(|s| s.resources.as_slice()).unwrap_or_default() {
        let label = config_label(r);
        for i in r.instances.iter().filter(|i| i.deposed.is_none()) {
            let name = r.instance_address(i.index_key.as_ref());
            g.declared(&name, &label, Shape::Box);
            providers
                .users
                .entry(r.provider.clone())
                .or_default()
                .push(name.clone());
            instances.push((name, label.clone(), &i.dependencies));
        }
    }
    for (name, _, _) in &instances {
        let resource = instances
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, l, _)| l.as_str())
            .unwrap_or_default();
        for (other, _, deps) in &instances {
            if other != name && deps.iter().any(|d| d == resource) {
                g.edge(name, other);
            }
        }
    }
    for name in tree.module.outputs.keys() {
        let n = format!("output.{name} (destroy)");
        g.declared(&n, &n, Shape::Note);
        g.edge(ROOT, &n);
    }
    fn module_outputs(t: &ModuleTree, g: &mut DotGraph) {
        for (name, child) in &t.children {
            let mut path = t.path.clone();
            path.push(name.clone());
            let prefix = prefix(&path);
            for out in child.module.outputs.keys() {
                g.edge(ROOT, &format!("{prefix}output.{out} (expand)"));
            }
            module_outputs(child, g);
        }
    }
    module_outputs(tree, g);
}

/// `module.a.module.b.` for the path `[a, b]`.
fn prefix(path: &[String]) -> String {
    path.iter().map(|p| format!("module.{p}.")).collect()
}

/// Resources by the provider configuration node they use.
#[derive(Default)]
struct ProviderUse {
    users: BTreeMap<String, Vec<String>>,
    /// What each configured provider's body refers to (and, in a child
    /// module, the module's expansion): edges drawn for used providers.
    config_deps: BTreeMap<String, BTreeSet<String>>,
    /// Apply graphs: what each resource's instances refer to, by the
    /// resource's expansion node.
    instance_deps: BTreeMap<String, BTreeSet<String>>,
}

fn module_nodes(
    chain: &[&ModuleTree],
    path: &[String],
    ty: GraphType,
    g: &mut DotGraph,
    providers: &mut ProviderUse,
) {
    let Some(t) = chain.last().copied() else {
        return;
    };
    let m = &t.module;
    let pre = prefix(path);
    let root = path.is_empty();
    let refs = |e: &Expr| expr_refs(m, &pre, root, ty, e);
    // Every node of a child module waits for the module's expansion.
    let expand = (!root).then(|| format!("{} (expand)", pre.trim_end_matches('.')));
    for (local, pc) in &m.providers {
        let source = crate::walk::provider_source(m, local);
        let node = format!("{pre}{}", crate::state::provider_state_addr(&source, local));
        let mut deps = BTreeSet::new();
        for b in std::iter::once(&pc.config).chain(&pc.config_overrides) {
            body_refs(&b.body, &mut |e| deps.extend(refs(e)));
        }
        deps.extend(expand.clone());
        providers.config_deps.insert(node, deps);
    }
    let add = |g: &mut DotGraph, name: String, deps: BTreeSet<String>| {
        g.node(&name);
        for d in &deps {
            g.edge(&name, d);
        }
        if let Some(e) = &expand {
            g.edge(&name, e);
        }
    };
    for name in m.variables.keys() {
        if root {
            let n = format!("var.{name}");
            g.declared(&n, &n, Shape::Note);
        } else {
            // The value comes from the call's argument, in the parent.
            let n = format!("{pre}var.{name} (expand)");
            add(g, n, BTreeSet::new());
        }
    }
    for (name, l) in &m.locals {
        add(g, format!("{pre}local.{name} (expand)"), refs(&l.expr.expr));
    }
    for (key, r) in m.managed_resources.iter().chain(&m.data_resources) {
        let name = resource_node(&pre, key, ty);
        let mut deps = BTreeSet::new();
        for e in r.count.iter().chain(&r.for_each) {
            deps.extend(refs(&e.expr));
        }
        // In an apply graph the body's references belong to the instances.
        let mut expand_deps = BTreeSet::new();
        if ty == GraphType::Apply {
            expand_deps = std::mem::take(&mut deps);
        }
        for b in std::iter::once(&r.config).chain(&r.config_overrides) {
            body_refs(&b.body, &mut |e| deps.extend(refs(e)));
        }
        for e in &r.lifecycle.replace_triggered_by {
            deps.extend(refs(&e.expr));
        }
        for d in &r.depends_on {
            deps.extend(traversal_ref(m, &pre, root, ty, d.root.as_str(), &d.steps));
        }
        deps.remove(&name);
        let label = format!("{pre}{key}");
        g.declared(&name, &label, Shape::Box);
        if ty == GraphType::Apply {
            providers.instance_deps.insert(name.clone(), deps);
            deps = expand_deps;
        }
        add(g, name.clone(), deps);
        let local = crate::graph::resource_provider(r);
        let p = provider_node(chain, path, &local);
        providers.users.entry(p).or_default().push(name);
    }
    for (name, o) in &m.outputs {
        let mut deps = BTreeSet::new();
        if let Some(v) = &o.value {
            deps.extend(refs(&v.expr));
        }
        for d in &o.depends_on {
            deps.extend(traversal_ref(m, &pre, root, ty, d.root.as_str(), &d.steps));
        }
        if root {
            let n = format!("output.{name}");
            g.declared(&n, &n, Shape::Note);
            for d in &deps {
                g.edge(&n, d);
            }
        } else {
            add(g, format!("{pre}output.{name} (expand)"), deps);
        }
    }
    for (name, call) in &m.module_calls {
        let call_expand = format!("{pre}module.{name} (expand)");
        let mut deps = BTreeSet::new();
        for e in call.count.iter().chain(&call.for_each) {
            deps.extend(refs(&e.expr));
        }
        for d in &call.depends_on {
            deps.extend(traversal_ref(m, &pre, root, ty, d.root.as_str(), &d.steps));
        }
        add(g, call_expand.clone(), deps);
        let Some(child) = t.children.get(name) else {
            continue;
        };
        let mut child_path = path.to_vec();
        child_path.push(name.clone());
        let child_pre = prefix(&child_path);
        // Each argument feeds the child's variable node.
        for (var, input) in &call.inputs {
            let var_node = format!("{child_pre}var.{var} (expand)");
            if child.module.variables.contains_key(var) {
                for d in refs(&input.value.expr) {
                    g.edge(&var_node, &d);
                }
            }
        }
        let mut child_chain = chain.to_vec();
        child_chain.push(child);
        module_nodes(&child_chain, &child_path, ty, g, providers);
        // The call closes after everything in the module (nodes created
        // earlier by references from outside included).
        let close = format!("{pre}module.{name} (close)");
        let inside: Vec<String> = g
            .nodes
            .keys()
            .filter(|n| n.starts_with(&child_pre))
            .cloned()
            .collect();
        for n in inside {
            g.edge(&close, &n);
        }
    }
}

/// A reference to a resource. In an apply graph it is marked (after a NUL)
/// with the instance key it names, if any, to be resolved to instance
/// nodes once they are known ([`resolve_instance_refs`]).
fn resource_ref(pre: &str, key: &str, ty: GraphType, next: Option<&TraversalStep>) -> String {
    let node = resource_node(pre, key, ty);
    if ty != GraphType::Apply {
        return node;
    }
    let index = match next {
        Some(TraversalStep::Index { key, .. }) => match key {
            terrane_hcl::ast::IndexKey::Number(n) => format!("[{n}]"),
            terrane_hcl::ast::IndexKey::String(s) => {
                format!("[{}]", serde_json::to_string(&**s).unwrap_or_default())
            }
        },
        _ => String::new(),
    };
    format!("{node}{REF_MARK}{index}")
}

/// Separates a resource reference from the instance key it names.
const REF_MARK: char = '\u{0}';

fn resource_node(pre: &str, key: &str, ty: GraphType) -> String {
    if ty.expands() {
        format!("{pre}{key} (expand)")
    } else {
        format!("{pre}{key}")
    }
}

/// The provider configuration node a resource of the module at `path`
/// uses for its local provider name `local` (`null` or `null.two`):
/// declared in that module, else the one the call passes in or the
/// parent's of the same name, up to the root's implied configuration.
/// `chain` holds the modules from the root down to `path`.
fn provider_node(chain: &[&ModuleTree], path: &[String], local: &str) -> String {
    let mut name = local.to_string();
    for level in (0..chain.len()).rev() {
        let m = &chain[level].module;
        if m.providers.contains_key(&name) || level == 0 {
            let source = crate::walk::provider_source(m, &name);
            return format!(
                "{}{}",
                prefix(&path[..level]),
                crate::state::provider_state_addr(&source, &name)
            );
        }
        if let Some(call) = chain[level - 1].module.module_calls.get(&path[level - 1]) {
            if let Some(pp) = call.providers.iter().find(|p| p.in_child.addr() == name) {
                name = pp.in_parent.addr();
            }
        }
    }
    crate::state::provider_state_addr(
        &crate::walk::normalize_source(&format!("hashicorp/{name}")),
        &name,
    )
}

/// Collects the references of every expression in `body` (not in
/// `lifecycle`; `provider`, `depends_on` are meta-arguments).
fn body_refs<'a>(body: &'a Body, f: &mut dyn FnMut(&'a Expr)) {
    for item in &body.items {
        match item {
            Structure::Attribute(a) => {
                if a.name.as_str() != "depends_on" && a.name.as_str() != "provider" {
                    f(&a.expr);
                }
            }
            Structure::Block(b) => {
                if b.ident.as_str() != "lifecycle" {
                    body_refs(&b.body, f);
                }
            }
        }
    }
}

fn expr_refs(m: &Module, pre: &str, root: bool, ty: GraphType, e: &Expr) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    e.walk_traversals(&mut |r, steps| {
        out.extend(traversal_ref(m, pre, root, ty, r.as_str(), steps));
    });
    out
}

fn step_attr(s: Option<&TraversalStep>) -> Option<&str> {
    match s {
        Some(TraversalStep::Attr(i)) => Some(i.as_str()),
        _ => None,
    }
}

/// The node one reference depends on (declared objects only).
fn traversal_ref(
    m: &Module,
    pre: &str,
    root: bool,
    ty: GraphType,
    head: &str,
    steps: &[TraversalStep],
) -> Option<String> {
    let first = step_attr(steps.first());
    match head {
        "var" => {
            let n = first?;
            m.variables.contains_key(n).then(|| {
                if root {
                    format!("var.{n}")
                } else {
                    format!("{pre}var.{n} (expand)")
                }
            })
        }
        "local" => {
            let n = first?;
            m.locals
                .contains_key(n)
                .then(|| format!("{pre}local.{n} (expand)"))
        }
        "module" => {
            let call = first?;
            if !m.module_calls.contains_key(call) {
                return None;
            }
            // `module.m.out` (after an optional instance key).
            let out = steps[1..].iter().find_map(|s| match s {
                TraversalStep::Attr(i) => Some(i.as_str()),
                _ => None,
            });
            Some(match out {
                Some(o) => format!("{pre}module.{call}.output.{o} (expand)"),
                // In an apply graph, the whole module is also each of its
                // outputs (resolved with the instance references).
                None if ty == GraphType::Apply => {
                    format!("{pre}module.{call} (close){REF_MARK}")
                }
                None => format!("{pre}module.{call} (close)"),
            })
        }
        "data" => {
            let key = format!("data.{}.{}", first?, step_attr(steps.get(1))?);
            m.data_resources
                .contains_key(&key)
                .then(|| resource_ref(pre, &key, ty, steps.get(2)))
        }
        "count" | "each" | "self" | "path" | "terraform" => None,
        t => {
            let key = format!("{t}.{}", first?);
            m.managed_resources
                .contains_key(&key)
                .then(|| resource_ref(pre, &key, ty, steps.get(1)))
        }
    }
}
