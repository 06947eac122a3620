//! `removed` blocks (Terraform 1.7+; Terraform 1.0.3 does not know them).
//!
//! A `removed` block names a resource or a module call that left the
//! configuration. With `lifecycle { destroy = false }` its instances are
//! *forgotten*: they leave the state without being destroyed. With
//! `destroy = true` (the default) nothing differs from simply deleting the
//! block: the instances are destroyed as orphans.
//!
//! The engine plans forgotten instances like any orphan (refreshed, then
//! a deletion); [`forget`] then moves those deletions from
//! `Plan::resource_changes` to `Plan::forgotten`, which apply removes from
//! state without calling the provider.

use terrane_config::model::{ModuleTree, Removed};
use terrane_hcl::ast::TraversalStep;
use terrane_hcl::Diagnostic;

use crate::addrs::ResourceInstanceAddr;
use crate::plan::{Action, Plan, ResourceInstanceChange};
use crate::render::{colorize, render_resource_change, RenderOptions};

/// One `removed` statement, its address made absolute to the declaring
/// module's configuration path (module instance keys are not part of it:
/// the statement covers every instance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemovedStatement {
    /// Module call names from the root to the removed module, or to the
    /// module holding the removed resource.
    pub module: Vec<String>,
    /// `(type, name)` of a removed managed resource; None for a module.
    pub resource: Option<(String, String)>,
    /// `lifecycle { destroy }`.
    pub destroy: bool,
}

impl RemovedStatement {
    /// Whether the instance at `addr` is one this statement removes.
    pub fn covers(&self, addr: &ResourceInstanceAddr) -> bool {
        let path: Vec<&str> = addr
            .resource
            .module
            .0
            .iter()
            .map(|s| s.name.as_str())
            .collect();
        match &self.resource {
            Some((type_, name)) => {
                addr.resource.mode == terrane_config::ResourceMode::Managed
                    && &addr.resource.type_name == type_
                    && &addr.resource.name == name
                    && path.len() == self.module.len()
                    && path.iter().zip(&self.module).all(|(a, b)| *a == b)
            }
            None => {
                path.len() >= self.module.len()
                    && path.iter().zip(&self.module).all(|(a, b)| *a == b)
            }
        }
    }
}

/// Every `removed` statement of `tree`, checked as Terraform checks them:
/// `from` must name a managed resource or a module call without instance
/// keys (errors of the configuration itself, reported alone), and that
/// object must no longer be declared (checked before planning).
pub fn statements(tree: &ModuleTree) -> Result<Vec<RemovedStatement>, Vec<Diagnostic>> {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    tree.walk(&mut |m| {
        for decl in &m.module.removed {
            match statement(&m.path, decl) {
                Ok(s) => out.push(s),
                Err(d) => diags.push(d),
            }
        }
    });
    if !diags.is_empty() {
        return Err(diags);
    }
    let diags: Vec<Diagnostic> = out.iter().filter_map(|s| still_declared(tree, s)).collect();
    if diags.is_empty() {
        Ok(out)
    } else {
        Err(diags)
    }
}

/// The errors of `removed` addresses that `validate` reports too (instance
/// keys, data sources): those of the configuration itself.
pub fn address_errors(tree: &ModuleTree) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    tree.walk(&mut |m| {
        for decl in &m.module.removed {
            if let Err(d) = statement(&m.path, decl) {
                diags.push(d);
            }
        }
    });
    diags
}

/// The statement of one block declared in the module at `module_path`.
fn statement(module_path: &[String], decl: &Removed) -> Result<RemovedStatement, Diagnostic> {
    let from = &decl.from;
    let error = |summary: &str, detail: &str| {
        Diagnostic::error(summary, detail).with_subject(&from.range.file, from.range.span)
    };
    // The traversal as names and index keys: `module.a.null_resource.b`.
    let mut parts: Vec<(String, bool)> = vec![(from.root.as_str().to_string(), false)];
    for step in &from.steps {
        match step {
            TraversalStep::Attr(name) => parts.push((name.as_str().to_string(), false)),
            TraversalStep::Index { .. } => match parts.last_mut() {
                Some(last) => last.1 = true,
                None => return Err(error("Invalid address", "Unexpected index key.")),
            },
        }
    }
    let mut module = module_path.to_vec();
    let mut i = 0;
    while i < parts.len() && parts[i].0 == "module" {
        let Some((name, keyed)) = parts.get(i + 1) else {
            return Err(error(
                "Invalid address",
                "Prefix \"module.\" must be followed by a module name.",
            ));
        };
        if *keyed {
            return Err(error(
                "Module instance keys not allowed",
                "Module address must be a module (e.g. \"module.foo\"), not a module instance (e.g. \"module.foo[1]\").",
            ));
        }
        if parts[i].1 {
            return Err(error(
                "Invalid address",
                "Unexpected index key after \"module\".",
            ));
        }
        module.push(name.clone());
        i += 2;
    }
    let rest = &parts[i..];
    if rest.is_empty() {
        return Ok(RemovedStatement {
            module,
            resource: None,
            destroy: decl.destroy,
        });
    }
    if rest[0].0 == "data" {
        return Err(error(
            "Data source address not allowed",
            "Data sources are never destroyed, so they are not valid targets of removed blocks. To remove the data source from state, remove the data source block from configuration.",
        ));
    }
    if rest.len() != 2 {
        return Err(error(
            "Invalid address",
            "A removed block's \"from\" must be a resource address (e.g. \"test_instance.foo\") or a module address (e.g. \"module.foo\").",
        ));
    }
    if rest[0].1 {
        return Err(error(
            "Invalid address",
            "Resource type must be followed by a resource name.",
        ));
    }
    if rest[1].1 {
        return Err(error(
            "Resource instance keys not allowed",
            "Resource address must be a resource (e.g. \"test_instance.foo\"), not a resource instance (e.g. \"test_instance.foo[1]\").",
        ));
    }
    Ok(RemovedStatement {
        module,
        resource: Some((rest[0].0.clone(), rest[1].0.clone())),
        destroy: decl.destroy,
    })
}

/// Terraform's error when the removed object is still in configuration,
/// with the declaration as its subject.
fn still_declared(tree: &ModuleTree, s: &RemovedStatement) -> Option<Diagnostic> {
    let mut m = tree;
    let (parents, last_call) = match &s.resource {
        Some(_) => (&s.module[..], None),
        None => match s.module.split_last() {
            Some((last, parents)) => (parents, Some(last)),
            None => return None,
        },
    };
    for name in parents {
        m = m.children.get(name)?;
    }
    let addr = display_addr(s);
    let detail =
        format!("This statement declares that {addr} was removed, but it is still declared in configuration.");
    match (&s.resource, last_call) {
        (Some((type_, name)), _) => {
            let r = m.module.managed_resources.get(&format!("{type_}.{name}"))?;
            Some(
                Diagnostic::error("Removed resource still exists", detail)
                    .with_subject(&r.range.file, r.range.span),
            )
        }
        (None, Some(call)) => {
            let c = m.module.module_calls.get(call)?;
            Some(
                Diagnostic::error("Removed module still exists", detail)
                    .with_subject(&c.range.file, c.range.span),
            )
        }
        (None, None) => None,
    }
}

/// `module.a.null_resource.b` / `module.a.module.b`.
fn display_addr(s: &RemovedStatement) -> String {
    let mut parts: Vec<String> = s.module.iter().map(|m| format!("module.{m}")).collect();
    if let Some((t, n)) = &s.resource {
        parts.push(format!("{t}.{n}"));
    }
    parts.join(".")
}

/// Moves the planned deletions of instances that a `destroy = false`
/// statement covers into `plan.forgotten` (a `-destroy` plan destroys
/// everything, as with `state rm` nothing is forgotten then).
pub fn forget(statements: &[RemovedStatement], plan: &mut Plan) {
    if plan.destroy || plan.refresh_only {
        return;
    }
    let keep: Vec<&RemovedStatement> = statements.iter().filter(|s| !s.destroy).collect();
    if keep.is_empty() {
        return;
    }
    let (forgotten, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut plan.resource_changes)
        .into_iter()
        .partition(|c| c.action == Action::Delete && keep.iter().any(|s| s.covers(&c.addr)));
    plan.resource_changes = rest;
    plan.forgotten.extend(forgotten);
    plan.forgotten
        .sort_by(|a, b| (&a.addr, &a.deposed).cmp(&(&b.addr, &b.deposed)));
}

/// The warning a plan that forgets objects ends with.
pub fn forget_warning(plan: &Plan) -> Option<Diagnostic> {
    if plan.forgotten.is_empty() {
        return None;
    }
    let list: String = plan
        .forgotten
        .iter()
        .map(|c| match &c.deposed {
            Some(k) => format!("\n - {} (deposed object {k})", c.addr),
            None => format!("\n - {}", c.addr),
        })
        .collect();
    Some(Diagnostic::warning(
        "Some objects will no longer be managed by Terraform",
        format!(
            "If you apply this plan, Terraform will discard its tracking information for the following objects, but it will not delete them:{list}\n\nAfter applying this plan, Terraform will no longer manage these objects. You will need to import them into Terraform to manage them again."
        ),
    ))
}

/// One forgotten instance as the plan shows it (Terraform 1.7+): the
/// header, then the prior object as an unchanged one (identifying
/// attributes shown, the rest counted as hidden) under the `.` symbol.
pub fn render_forget(c: &ResourceInstanceChange, opts: &RenderOptions) -> String {
    let mut unchanged = c.clone();
    unchanged.action = Action::NoOp;
    unchanged.after = c.before.clone();
    unchanged.deposed = None;
    let block = render_resource_change(&unchanged, opts);
    // The body from ` resource "T" "N" {` on (after the header line and
    // the no-op symbol, with whatever colour codes they carry).
    let after_header = block.find('\n').map_or(block.len(), |i| i + 1);
    let body = block[after_header..]
        .find(" resource \"")
        .or_else(|| block[after_header..].find(" data \""))
        .map(|i| &block[after_header + i..])
        .unwrap_or_default();
    let mut addr = c.addr.to_string();
    if let Some(k) = &c.deposed {
        addr = format!("{addr} (deposed object {k})");
    }
    let mut out = colorize(
        &format!(
            "[bold] # {addr}[reset] will no longer be managed by Terraform, but will not be destroyed\n # (destroy = false is set in the configuration)"
        ),
        opts.color,
    );
    out.push_str(&colorize("[reset]\n", opts.color));
    out.push_str(&colorize(FORGET_SYMBOL, opts.color));
    out.push_str(body);
    out
}

/// The plan symbol of a forgotten object.
pub const FORGET_SYMBOL: &str = " [red].[reset]";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::{InstanceKey, ModuleInstance, ModuleStep, ResourceAddr};
    use crate::plan::ActionReason;
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use terrane_config::ResourceMode;
    use terrane_plugin::{Attribute, Block, Schema};
    use terrane_value::{Type, Value};

    fn attr(ty: Type, computed: bool) -> Attribute {
        Attribute {
            ty,
            nested_type: None,
            description: String::new(),
            description_kind: Default::default(),
            required: false,
            optional: !computed,
            computed,
            sensitive: false,
            deprecated: false,
        }
    }

    /// A forgotten `null_resource` with an id and triggers.
    fn forgotten(module: &[(&str, InstanceKey)], key: InstanceKey) -> ResourceInstanceChange {
        let schema = Schema {
            version: 0,
            block: Block {
                attributes: BTreeMap::from([
                    ("id".to_string(), attr(Type::String, true)),
                    (
                        "triggers".to_string(),
                        attr(Type::Map(Box::new(Type::String)), false),
                    ),
                ]),
                ..Block::default()
            },
        };
        let ty = schema.block.implied_type();
        let before = Value::object_typed(
            &ty,
            BTreeMap::from([
                ("id".to_string(), Value::string("42")),
                (
                    "triggers".to_string(),
                    Value::null(Type::Map(Box::new(Type::String))),
                ),
            ]),
        );
        ResourceInstanceChange {
            addr: ResourceAddr {
                module: ModuleInstance(
                    module
                        .iter()
                        .map(|(n, k)| ModuleStep {
                            name: n.to_string(),
                            key: k.clone(),
                        })
                        .collect(),
                ),
                mode: ResourceMode::Managed,
                type_name: "null_resource".into(),
                name: "a".into(),
            }
            .instance(key),
            provider: "provider[\"registry.terraform.io/hashicorp/null\"]".into(),
            action: Action::Delete,
            reason: ActionReason::DeleteBecauseNoResourceConfig,
            before,
            after: Value::null(ty),
            requires_replace: Vec::new(),
            schema: Arc::new(schema),
            deposed: None,
            private: Vec::new(),
        }
    }

    #[test]
    fn forget_block_plain() {
        let c = forgotten(&[("m", InstanceKey::Int(1))], InstanceKey::None);
        assert_eq!(
            render_forget(&c, &RenderOptions { color: false }),
            " # module.m[1].null_resource.a will no longer be managed by Terraform, but will not be destroyed\n # (destroy = false is set in the configuration)\n . resource \"null_resource\" \"a\" {\n        id = \"42\"\n    }\n"
        );
    }

    /// With colour, the block is laid out as the other actions' blocks:
    /// the symbol line starts with a reset and the symbol is red.
    #[test]
    fn forget_block_colour() {
        let c = forgotten(&[], InstanceKey::Str("k".into()));
        let text = render_forget(&c, &RenderOptions { color: true });
        assert!(
            text.starts_with(
                "\x1b[1m # null_resource.a[\"k\"]\x1b[0m will no longer be managed by Terraform"
            ),
            "{text:?}"
        );
        assert!(
            text.contains("\n\x1b[0m \x1b[31m.\x1b[0m\x1b[0m resource \"null_resource\" \"a\" {\n"),
            "{text:?}"
        );
    }

    fn statements_of(src: &str) -> Result<Vec<RemovedStatement>, Vec<Diagnostic>> {
        let (module, diags) = terrane_config::load_source("main.tf", src);
        assert!(!diags.has_errors(), "{diags:?}");
        let tree = ModuleTree {
            module,
            path: Vec::new(),
            children: BTreeMap::new(),
        };
        statements(&tree)
    }

    #[test]
    fn statements_and_what_they_cover() {
        let s = statements_of(
            "removed {\n  from = module.net.null_resource.a\n  lifecycle {\n    destroy = false\n  }\n}\nremoved {\n  from = module.gone\n}\n",
        )
        .expect("valid statements");
        assert_eq!(
            s,
            vec![
                RemovedStatement {
                    module: vec!["net".into()],
                    resource: Some(("null_resource".into(), "a".into())),
                    destroy: false,
                },
                RemovedStatement {
                    module: vec!["gone".into()],
                    resource: None,
                    destroy: true,
                },
            ]
        );
        let in_net = forgotten(
            &[("net", InstanceKey::Str("x".into()))],
            InstanceKey::Int(0),
        );
        assert!(s[0].covers(&in_net.addr));
        assert!(!s[1].covers(&in_net.addr));
        let nested = forgotten(
            &[("gone", InstanceKey::Int(0)), ("inner", InstanceKey::None)],
            InstanceKey::None,
        );
        assert!(s[1].covers(&nested.addr));
        assert!(!s[0].covers(&nested.addr));
    }

    #[test]
    fn forget_moves_only_covered_deletions() {
        let s = vec![RemovedStatement {
            module: Vec::new(),
            resource: Some(("null_resource".into(), "a".into())),
            destroy: false,
        }];
        let mut plan = Plan {
            resource_changes: vec![forgotten(&[], InstanceKey::Int(0))],
            ..Plan::default()
        };
        let mut other = forgotten(&[("m", InstanceKey::None)], InstanceKey::None);
        other.action = Action::Delete;
        plan.resource_changes.push(other);
        forget(&s, &mut plan);
        assert_eq!(plan.forgotten.len(), 1);
        assert_eq!(plan.forgotten[0].addr.to_string(), "null_resource.a[0]");
        assert_eq!(plan.resource_changes.len(), 1);
        let warning = forget_warning(&plan).expect("warning");
        assert_eq!(
            warning.summary,
            "Some objects will no longer be managed by Terraform"
        );
        assert!(warning.detail.contains("\n - null_resource.a[0]\n"));
        // A destroy plan forgets nothing.
        let mut destroy = Plan {
            resource_changes: vec![forgotten(&[], InstanceKey::None)],
            destroy: true,
            ..Plan::default()
        };
        forget(&s, &mut destroy);
        assert!(destroy.forgotten.is_empty());
    }
}
