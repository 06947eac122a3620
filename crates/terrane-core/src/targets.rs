//! What `-target` brings along besides the targets themselves.
//!
//! * Plan and apply: everything a target depends on, across module
//!   boundaries (a resource in a module needs what feeds the module's
//!   inputs, its `count`/`for_each` and `depends_on` in the calling
//!   module; a reference to `module.c.out` needs what that output
//!   references). Computed on the configuration, so every instance of a
//!   needed resource (in every instance of its module) is planned, as
//!   Terraform's graph does before expansion.
//! * Destroy: everything in state that depends on a target (through the
//!   `dependencies` recorded with each object), so nothing is left
//!   pointing at a destroyed object.

use std::collections::BTreeSet;

use terrane_config::{Module, ModuleTree, ResourceMode};
use terrane_hcl::ast::{Body, Expr, Structure, TraversalStep};

use crate::addrs::{InstanceKey, ModuleInstance, ResourceInstanceAddr, TargetAddr};
use crate::graph::{reference_target, resource_provider, Node};

/// The configuration path of a module instance (`module.a.module.b`; empty
/// for the root), the key of [`needed_resources`]' entries.
pub fn config_path(path: &ModuleInstance) -> String {
    path.0
        .iter()
        .map(|s| format!("module.{}", s.name))
        .collect::<Vec<_>>()
        .join(".")
}

fn path_string(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("module.{n}"))
        .collect::<Vec<_>>()
        .join(".")
}

/// A piece of configuration whose references are followed.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Item {
    /// A node of the module at this path.
    Node(Vec<String>, Node),
    /// One input argument of a module call in the module at this path.
    CallInput(Vec<String>, String, String),
    /// A module call's `count`, `for_each`, `depends_on` and providers.
    CallExpansion(Vec<String>, String),
}

/// (configuration path, resource key such as `null_resource.a` or
/// `data.x.y`) of every resource the targets depend on, in any module.
pub fn needed_resources(tree: &ModuleTree, targets: &[TargetAddr]) -> BTreeSet<(String, String)> {
    let mut stack = Vec::new();
    tree.walk(&mut |node| {
        let m = &node.module;
        for r in m
            .managed_resources
            .values()
            .chain(m.data_resources.values())
        {
            if targets.iter().any(|t| names_resource(t, &node.path, r)) {
                stack.push(Item::Node(
                    node.path.clone(),
                    Node::Resource(r.mode, r.addr()),
                ));
            }
        }
    });
    let mut seen = BTreeSet::new();
    let mut needed = BTreeSet::new();
    let targeted: BTreeSet<Item> = stack.iter().cloned().collect();
    while let Some(item) = stack.pop() {
        if !seen.insert(item.clone()) {
            continue;
        }
        if let Item::Node(path, Node::Resource(_, key)) = &item {
            if !targeted.contains(&item) {
                needed.insert((path_string(path), key.clone()));
            }
        }
        stack.extend(dependencies(tree, &item));
    }
    needed
}

/// The resources `resource` of the module at `path` depends on directly
/// (through variables, locals, outputs and module calls, but not through
/// other resources), as (configuration path, key).
fn direct_resource_dependencies(
    tree: &ModuleTree,
    path: &[String],
    resource: Node,
) -> BTreeSet<(String, String)> {
    let seed = Item::Node(path.to_vec(), resource);
    let mut stack = dependencies(tree, &seed);
    let mut seen = BTreeSet::from([seed]);
    let mut out = BTreeSet::new();
    while let Some(item) = stack.pop() {
        if !seen.insert(item.clone()) {
            continue;
        }
        if let Item::Node(p, Node::Resource(_, key)) = &item {
            out.insert((path_string(p), key.clone()));
            continue;
        }
        stack.extend(dependencies(tree, &item));
    }
    out
}

/// Whether the target names resource `r` of the module at `path`, ignoring
/// instance keys (or names a module containing it).
fn names_resource(t: &TargetAddr, path: &[String], r: &terrane_config::Resource) -> bool {
    let names: Vec<&str> = t.module.0.iter().map(|s| s.name.as_str()).collect();
    match &t.resource {
        None => path.len() >= names.len() && path.iter().zip(&names).all(|(a, b)| a == b),
        Some((mode, ty, name, _)) => {
            path.len() == names.len()
                && path.iter().zip(&names).all(|(a, b)| a == b)
                && r.mode == *mode
                && r.type_name == *ty
                && r.name == *name
        }
    }
}

fn module_at<'t>(tree: &'t ModuleTree, path: &[String]) -> Option<&'t ModuleTree> {
    let mut node = tree;
    for name in path {
        node = node.children.get(name)?;
    }
    Some(node)
}

/// The items `item` depends on directly.
fn dependencies(tree: &ModuleTree, item: &Item) -> Vec<Item> {
    let mut out = Vec::new();
    let path = match item {
        Item::Node(p, _) | Item::CallInput(p, _, _) | Item::CallExpansion(p, _) => p,
    };
    let Some(node) = module_at(tree, path) else {
        return out;
    };
    let m = &node.module;
    let mut refs = |root: &str, steps: &[TraversalStep]| {
        out.extend(resolve(node, root, steps));
    };
    match item {
        Item::Node(_, Node::Resource(mode, key)) => {
            let r = match mode {
                ResourceMode::Managed => m.managed_resources.get(key),
                ResourceMode::Data => m.data_resources.get(key),
            };
            if let Some(r) = r {
                for e in [&r.count, &r.for_each].into_iter().flatten() {
                    expr_refs(&e.expr, &mut refs);
                }
                for b in std::iter::once(&r.config).chain(&r.config_overrides) {
                    body_refs(&b.body, &mut refs);
                }
                for t in &r.depends_on {
                    refs(t.root.as_str(), &t.steps);
                }
                for e in &r.lifecycle.replace_triggered_by {
                    expr_refs(&e.expr, &mut refs);
                }
                let p = resource_provider(r);
                if m.providers.contains_key(&p) {
                    out.push(Item::Node(path.clone(), Node::Provider(p)));
                }
            }
            // Everything in a module waits for its call's expansion and
            // `depends_on`.
            if let Some((call, parent)) = path.split_last() {
                out.push(Item::CallExpansion(parent.to_vec(), call.clone()));
            }
        }
        Item::Node(_, Node::Local(name)) => {
            if let Some(l) = m.locals.get(name) {
                expr_refs(&l.expr.expr, &mut refs);
            }
        }
        Item::Node(_, Node::Provider(addr)) => {
            if let Some(p) = m.providers.get(addr) {
                for b in std::iter::once(&p.config).chain(&p.config_overrides) {
                    body_refs(&b.body, &mut refs);
                }
            }
        }
        Item::Node(_, Node::Output(name)) => {
            if let Some(o) = m.outputs.get(name) {
                if let Some(e) = &o.value {
                    expr_refs(&e.expr, &mut refs);
                }
                for t in &o.depends_on {
                    refs(t.root.as_str(), &t.steps);
                }
            }
        }
        Item::Node(_, Node::Variable(name)) => {
            if let Some((call, parent)) = path.split_last() {
                out.push(Item::CallInput(parent.to_vec(), call.clone(), name.clone()));
                out.push(Item::CallExpansion(parent.to_vec(), call.clone()));
            }
        }
        Item::Node(_, Node::ModuleCall(call)) => {
            out.push(Item::CallExpansion(path.clone(), call.clone()));
        }
        Item::CallInput(_, call, input) => {
            if let Some(i) = m.module_calls.get(call).and_then(|c| c.inputs.get(input)) {
                expr_refs(&i.value.expr, &mut refs);
            }
        }
        Item::CallExpansion(_, call) => {
            if let Some(c) = m.module_calls.get(call) {
                for e in [&c.count, &c.for_each].into_iter().flatten() {
                    expr_refs(&e.expr, &mut refs);
                }
                for t in &c.depends_on {
                    refs(t.root.as_str(), &t.steps);
                }
                for p in &c.providers {
                    if m.providers.contains_key(&p.in_parent.addr()) {
                        out.push(Item::Node(path.clone(), Node::Provider(p.in_parent.addr())));
                    }
                }
            }
        }
    }
    out
}

/// The items a reference in the module `node` points at: a reference to
/// `module.c.NAME` is the child's output NAME; `module.c` alone (or an
/// instance of it) every output of the child.
fn resolve(node: &ModuleTree, root: &str, steps: &[TraversalStep]) -> Vec<Item> {
    let m: &Module = &node.module;
    let path = &node.path;
    let Some(target) = reference_target(m, root, steps) else {
        return Vec::new();
    };
    let Node::ModuleCall(call) = &target else {
        return vec![Item::Node(path.clone(), target)];
    };
    let Some(child) = node.children.get(call) else {
        return Vec::new();
    };
    let mut child_path = path.clone();
    child_path.push(call.clone());
    let output = steps.iter().skip(1).find_map(|s| match s {
        TraversalStep::Attr(a) => Some(a.as_str().to_string()),
        TraversalStep::Index { .. } => None,
    });
    let names: Vec<String> = match output {
        Some(o) if child.module.outputs.contains_key(&o) => vec![o],
        _ => child.module.outputs.keys().cloned().collect(),
    };
    names
        .into_iter()
        .map(|o| Item::Node(child_path.clone(), Node::Output(o)))
        .collect()
}

fn expr_refs(e: &Expr, f: &mut dyn FnMut(&str, &[TraversalStep])) {
    e.walk_traversals(&mut |root, steps| f(root.as_str(), steps));
}

fn body_refs(b: &Body, f: &mut dyn FnMut(&str, &[TraversalStep])) {
    for item in &b.items {
        match item {
            Structure::Attribute(a) => {
                if a.name.as_str() != "depends_on" && a.name.as_str() != "provider" {
                    expr_refs(&a.expr, f)
                }
            }
            Structure::Block(blk) => {
                if blk.ident.as_str() != "lifecycle" {
                    body_refs(&blk.body, f)
                }
            }
        }
    }
}

/// `destroy -target`: the targets plus a target for every object in state
/// that depends, directly or through others, on a targeted one.
/// Dependencies come from state and, for objects the configuration still
/// has, from the configuration (state does not record what feeds a
/// module's inputs).
pub fn with_destroy_dependents(
    tree: &ModuleTree,
    state: Option<&terrane_state::State>,
    targets: &[TargetAddr],
) -> Vec<TargetAddr> {
    let mut out = targets.to_vec();
    let Some(state) = state else { return out };
    // Every current managed object: its address and recorded dependencies.
    let mut objects: Vec<(ResourceInstanceAddr, &[String])> = Vec::new();
    for r in &state.resources {
        if r.mode != terrane_state::Mode::Managed {
            continue;
        }
        let resource = crate::addrs::ResourceAddr {
            module: crate::state::parse_module(&r.module),
            mode: ResourceMode::Managed,
            type_name: r.type_.clone(),
            name: r.name.clone(),
        };
        for i in r.instances.iter().filter(|i| i.deposed.is_none()) {
            let key = crate::state::instance_key_of(&i.index_key);
            objects.push((resource.instance(key), i.dependencies.as_slice()));
        }
    }
    let mut destroyed: Vec<bool> = objects
        .iter()
        .map(|(a, _)| targets.iter().any(|t| t.contains(a)))
        .collect();
    // A dependency is recorded as a resource address, with or without the
    // module instance keys.
    let names = |a: &ResourceInstanceAddr| {
        let with_keys = a.resource.to_string();
        let module = config_path(&a.resource.module);
        let local = format!("{}.{}", a.resource.type_name, a.resource.name);
        let without_keys = if module.is_empty() {
            local
        } else {
            format!("{module}.{local}")
        };
        [with_keys, without_keys]
    };
    // Each object's resource in configuration terms, and what that
    // resource depends on there (computed once per resource).
    let config_key = |a: &ResourceInstanceAddr| {
        (
            config_path(&a.resource.module),
            format!("{}.{}", a.resource.type_name, a.resource.name),
        )
    };
    let mut config_deps: std::collections::BTreeMap<(String, String), BTreeSet<(String, String)>> =
        Default::default();
    for (a, _) in &objects {
        let key = config_key(a);
        if config_deps.contains_key(&key) {
            continue;
        }
        let names: Vec<String> = a.resource.module.0.iter().map(|s| s.name.clone()).collect();
        let direct = direct_resource_dependencies(
            tree,
            &names,
            Node::Resource(ResourceMode::Managed, key.1.clone()),
        );
        config_deps.insert(key, direct);
    }
    // Objects by the names their dependents record, and by their
    // configuration resource; then each object's dependents.
    let mut by_name: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
    let mut by_config: std::collections::BTreeMap<(String, String), Vec<usize>> =
        Default::default();
    for (i, (a, _)) in objects.iter().enumerate() {
        for n in names(a) {
            by_name.entry(n).or_default().push(i);
        }
        by_config.entry(config_key(a)).or_default().push(i);
    }
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); objects.len()];
    for (j, (a, deps)) in objects.iter().enumerate() {
        let from_state = deps.iter().filter_map(|d| by_name.get(d));
        let from_config = config_deps
            .get(&config_key(a))
            .into_iter()
            .flatten()
            .filter_map(|k| by_config.get(k));
        for i in from_state.chain(from_config).flatten() {
            if *i != j {
                dependents[*i].push(j);
            }
        }
    }
    let mut queue: Vec<usize> = (0..objects.len()).filter(|i| destroyed[*i]).collect();
    while let Some(i) = queue.pop() {
        for &j in &dependents[i] {
            if !destroyed[j] {
                destroyed[j] = true;
                queue.push(j);
            }
        }
    }
    for ((addr, _), d) in objects.iter().zip(&destroyed) {
        if *d && !targets.iter().any(|t| t.contains(addr)) {
            out.push(TargetAddr {
                module: addr.resource.module.clone(),
                resource: Some((
                    ResourceMode::Managed,
                    addr.resource.type_name.clone(),
                    addr.resource.name.clone(),
                    (addr.key != InstanceKey::None).then(|| addr.key.clone()),
                )),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A configuration written to a fresh directory and loaded.
    fn tree(name: &str, files: &[(&str, &str)]) -> ModuleTree {
        let dir: PathBuf =
            std::env::temp_dir().join(format!("terrane-targets-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        let (tree, diags) = terrane_config::load_tree(&dir);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!diags.has_errors(), "{diags:?}");
        tree
    }

    fn target(s: &str) -> TargetAddr {
        TargetAddr::parse(s).expect("target address")
    }

    const ROOT: &str = r#"
resource "null_resource" "feed" {}
resource "null_resource" "count_source" {}
resource "null_resource" "unrelated" {}
resource "null_resource" "after" {
  depends_on = [null_resource.unrelated]
}

module "m" {
  source = "./m"
  in     = null_resource.feed.id
  count  = length(null_resource.count_source.id) > 0 ? 1 : 0
}

module "leaf" {
  source = "./leaf"
}

resource "null_resource" "consumer" {
  triggers = {
    out = module.leaf.first
  }
}
"#;

    const MODULE: &str = r#"
variable "in" {
  type = string
}
resource "null_resource" "inner" {
  triggers = {
    in = var.in
  }
}
resource "null_resource" "independent" {}
"#;

    const LEAF: &str = r#"
resource "null_resource" "first" {}
resource "null_resource" "second" {}
output "first" {
  value = null_resource.first.id
}
output "second" {
  value = null_resource.second.id
}
"#;

    /// `name` keeps the directories of tests running at once apart.
    fn config(name: &str) -> ModuleTree {
        tree(
            name,
            &[
                ("main.tf", ROOT),
                ("m/main.tf", MODULE),
                ("leaf/main.tf", LEAF),
            ],
        )
    }

    fn needed(t: &ModuleTree, targets: &[&str]) -> Vec<String> {
        let targets: Vec<TargetAddr> = targets.iter().map(|t| target(t)).collect();
        needed_resources(t, &targets)
            .into_iter()
            .map(|(path, key)| {
                if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                }
            })
            .collect()
    }

    /// A target in a module pulls in what feeds its inputs and its
    /// call's `count` in the calling module, not its siblings; a target
    /// using one module output pulls in only that output's resources.
    #[test]
    fn dependencies_cross_module_boundaries() {
        let t = config("deps");
        assert_eq!(
            needed(&t, &["module.m[0].null_resource.inner"]),
            ["null_resource.count_source", "null_resource.feed"]
        );
        assert_eq!(
            needed(&t, &["null_resource.consumer"]),
            ["module.leaf.null_resource.first"]
        );
        assert_eq!(
            needed(&t, &["null_resource.after"]),
            ["null_resource.unrelated"]
        );
        assert!(needed(&t, &["null_resource.feed"]).is_empty());
    }

    fn state(resources: &[(&str, &str, &[&str])]) -> terrane_state::State {
        let body: Vec<String> = resources
            .iter()
            .map(|(module, name, deps)| {
                let module = if module.is_empty() {
                    String::new()
                } else {
                    format!("\"module\": \"{module}\", ")
                };
                let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
                format!(
                    r#"{{{module}"mode": "managed", "type": "null_resource", "name": "{name}", "provider": "provider[\"registry.terraform.io/hashicorp/null\"]", "instances": [{{"schema_version": 0, "attributes": {{"id": "1", "triggers": null}}, "sensitive_attributes": [], "dependencies": [{}]}}]}}"#,
                    deps.join(", ")
                )
            })
            .collect();
        let text = format!(
            r#"{{"version": 4, "terraform_version": "1.0.3", "serial": 1, "lineage": "x", "outputs": {{}}, "resources": [{}]}}"#,
            body.join(", ")
        );
        terrane_state::read(text.as_bytes(), &Default::default())
            .expect("state reads")
            .expect("a state")
            .state
    }

    fn destroyed(t: &ModuleTree, s: &terrane_state::State, targets: &[&str]) -> Vec<String> {
        let targets: Vec<TargetAddr> = targets.iter().map(|t| target(t)).collect();
        let mut out: Vec<String> = with_destroy_dependents(t, Some(s), &targets)
            .iter()
            .skip(targets.len())
            .filter_map(|t| t.instance().map(|i| i.to_string()))
            .collect();
        out.sort();
        out
    }

    /// `destroy -target`: dependents from state (`after` recorded
    /// `unrelated`) and from configuration (the module's resource is fed
    /// by `feed` through its input, which state does not record).
    #[test]
    fn destroy_takes_dependents_from_state_and_configuration() {
        let t = config("destroy");
        let s = state(&[
            ("", "feed", &[]),
            ("", "count_source", &[]),
            ("", "unrelated", &[]),
            ("", "after", &["null_resource.unrelated"]),
            ("module.m[0]", "inner", &[]),
            ("module.m[0]", "independent", &[]),
            ("module.leaf", "first", &[]),
            ("", "consumer", &["module.leaf.null_resource.first"]),
        ]);
        assert_eq!(
            destroyed(&t, &s, &["null_resource.unrelated"]),
            ["null_resource.after"]
        );
        assert_eq!(
            destroyed(&t, &s, &["null_resource.feed"]),
            ["module.m[0].null_resource.inner"]
        );
        // The call's count depends on count_source: everything in the
        // module goes.
        assert_eq!(
            destroyed(&t, &s, &["null_resource.count_source"]),
            [
                "module.m[0].null_resource.independent",
                "module.m[0].null_resource.inner"
            ]
        );
        assert_eq!(
            destroyed(&t, &s, &["module.leaf"]),
            ["null_resource.consumer"]
        );
        assert!(destroyed(&t, &s, &["null_resource.consumer"]).is_empty());
    }
}
