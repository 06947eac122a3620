//! Importing existing remote objects: the `import` command (one target,
//! nothing planned) and `import` blocks (Terraform 1.5+: planned like any
//! change, the object enters the state at apply).
//!
//! Both ask the provider for the object (`ImportResourceState`), then read
//! it (`ReadResource`) as a refresh would, so the state holds what the
//! provider reports rather than the importer's sketch.

use crate::addrs::{InstanceKey, ResourceInstanceAddr, TargetAddr};
use crate::walk::ProviderInstance;
use std::collections::BTreeMap;
use std::sync::Arc;
use terrane_config::{DeclRange, ModuleTree, ResourceMode};
use terrane_hcl::ast::{Expr, ExprKind, TraversalStep};
use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_lang::{eval_expr, EvalContext, InstanceValues, Scope};
use terrane_plugin::{ImportResourceStateRequest, ReadResourceRequest, Schema, Severity};
use terrane_value::{Kind, Value};

/// One object to import: where it goes and the provider's id for it.
#[derive(Clone, Debug)]
pub struct ImportTarget {
    pub addr: ResourceInstanceAddr,
    pub id: String,
    /// The `import` block it came from (none for the `import` command).
    pub range: Option<DeclRange>,
}

/// An object the provider found and read.
#[derive(Clone, Debug)]
pub struct ImportedObject {
    pub addr: ResourceInstanceAddr,
    /// The import id as given.
    pub id: String,
    /// State address of the provider configuration.
    pub provider: String,
    pub schema: Arc<Schema>,
    /// The object as `ReadResource` returned it.
    pub value: Value,
    pub private: Vec<u8>,
}

/// Progress of an import, for the UI.
#[derive(Clone, Debug)]
pub enum ImportEvent {
    /// `ImportResourceState` is about to be called.
    Importing {
        addr: ResourceInstanceAddr,
        id: String,
    },
    /// The provider returned an object of this type.
    Prepared {
        addr: ResourceInstanceAddr,
        type_name: String,
    },
    /// The imported object is about to be read.
    Refreshing {
        addr: ResourceInstanceAddr,
        id: Option<String>,
    },
    /// Apply: a planned import is being recorded.
    ApplyStart {
        addr: ResourceInstanceAddr,
        id: String,
    },
    /// Apply: the imported object is in the state.
    ApplyDone {
        addr: ResourceInstanceAddr,
        id: String,
    },
}

/// Where import progress goes (called from worker threads).
#[derive(Clone)]
pub struct ImportEvents(pub Arc<dyn Fn(&ImportEvent) + Send + Sync>);

impl std::fmt::Debug for ImportEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportEvents")
    }
}

impl ImportEvents {
    pub(crate) fn emit(events: Option<&ImportEvents>, e: ImportEvent) {
        if let Some(ev) = events {
            (ev.0)(&e)
        }
    }
}

/// The error when the address already has an object in state.
pub fn already_managed(addr: &ResourceInstanceAddr) -> Diagnostic {
    Diagnostic::error(
        "Resource already managed by Terraform",
        format!("Terraform is already managing a remote object for {addr}. To import to this address you must first remove the existing object from the state."),
    )
}

/// Imports one object through a configured provider and reads it.
/// `managed_already`: the address has an object in state (the `import`
/// command reports that once the provider has prepared the import).
pub(crate) fn import_object(
    pi: &ProviderInstance,
    target: &ImportTarget,
    events: Option<&ImportEvents>,
    managed_already: bool,
) -> Result<ImportedObject, Diagnostics> {
    let addr = &target.addr;
    let type_name = &addr.resource.type_name;
    let subject = |d: Diagnostic| match &target.range {
        Some(r) => d.with_subject(&r.file, r.span),
        None => d,
    };
    let errors = |diags: &terrane_plugin::Diagnostics| -> Diagnostics {
        let mut out = Diagnostics::new();
        for d in diags.iter() {
            if d.severity == Severity::Error {
                out.push(subject(Diagnostic::error(
                    d.summary.clone(),
                    d.detail.clone(),
                )));
            }
        }
        out
    };
    let Some(schema) = pi.schema.resource(type_name).cloned() else {
        return Err(Diagnostics(vec![subject(Diagnostic::error(
            "Invalid resource type",
            format!(
                "The provider {} does not support resource type {type_name:?}.",
                pi.state_addr
            ),
        ))]));
    };
    ImportEvents::emit(
        events,
        ImportEvent::Importing {
            addr: addr.clone(),
            id: target.id.clone(),
        },
    );
    let resp = pi
        .provider
        .import_resource_state(&ImportResourceStateRequest {
            type_name: type_name.clone(),
            id: target.id.clone(),
        });
    let d = errors(&resp.diagnostics);
    if d.has_errors() {
        return Err(d);
    }
    // Providers may return extra objects (of other types) for one id;
    // only the one of the target's type has a place to go.
    let Some(found) = resp
        .imported_resources
        .iter()
        .find(|r| r.type_name == *type_name)
        .or(resp.imported_resources.first())
    else {
        return Err(Diagnostics(vec![subject(Diagnostic::error(
            "Import returned no resources",
            format!(
                "While attempting to import with ID {:?}, the provider returned no instance states.",
                target.id
            ),
        ))]));
    };
    for r in &resp.imported_resources {
        ImportEvents::emit(
            events,
            ImportEvent::Prepared {
                addr: addr.clone(),
                type_name: r.type_name.clone(),
            },
        );
    }
    if managed_already {
        return Err(Diagnostics(vec![already_managed(addr)]));
    }
    ImportEvents::emit(
        events,
        ImportEvent::Refreshing {
            addr: addr.clone(),
            id: crate::render::object_id(&found.state),
        },
    );
    let read = pi.provider.read_resource(&ReadResourceRequest {
        type_name: found.type_name.clone(),
        current_state: found.state.clone(),
        private: found.private.clone(),
        provider_meta: None,
    });
    let d = errors(&read.diagnostics);
    if d.has_errors() {
        return Err(d);
    }
    if read.new_state.is_null() {
        return Err(Diagnostics(vec![subject(Diagnostic::error(
            "Cannot import non-existent remote object",
            format!("While attempting to import an existing object to {addr:?}, the provider detected that no object exists with the given id. Only pre-existing objects can be imported; check that the id is correct and that it is associated with the provider's configured region or endpoint, or use \"terraform apply\" to create a new remote object for this resource."),
        ))]));
    }
    Ok(ImportedObject {
        addr: addr.clone(),
        id: target.id.clone(),
        provider: pi.state_addr.clone(),
        schema: Arc::new(schema),
        value: read.new_state,
        private: if read.private.is_empty() {
            found.private.clone()
        } else {
            read.private
        },
    })
}

/// The targets of the root module's `import` blocks: `to` resolved to an
/// instance address (with `for_each`, once per element), `id` evaluated
/// against the root variables and locals. Checks what Terraform checks
/// before planning: targets are managed resources, ids are known strings,
/// no address is imported twice.
pub fn block_targets(
    tree: &ModuleTree,
    root_vars: &BTreeMap<String, Value>,
    workspace: &str,
) -> (Vec<ImportTarget>, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut targets: Vec<ImportTarget> = Vec::new();
    // Import blocks belong to the root module (Terraform 1.5+).
    let mut children: Vec<&ModuleTree> = tree.children.values().collect();
    while let Some(child) = children.pop() {
        for block in &child.module.imports {
            diags.push(
                Diagnostic::error(
                    "Invalid import configuration",
                    format!("An import block was detected in \"module.{}\". Import blocks are only allowed in the root module.", child.path.join(".module.")),
                )
                .with_subject(&block.range.file, block.range.span),
            );
        }
        children.extend(child.children.values());
    }
    if tree.module.imports.is_empty() {
        return (targets, diags);
    }
    let mut scope = Scope::from_module_with_values(&tree.module, root_vars.clone());
    scope.workspace = workspace.to_string();
    // Resource values are not known before the plan: an id that needs one
    // is refused below rather than reported as undeclared.
    for name in tree.module.managed_resources.keys() {
        scope
            .resources
            .insert(name.clone(), Value::unknown_dynamic());
    }
    for block in &tree.module.imports {
        let mut instances = Vec::new();
        match &block.for_each {
            None => instances.push(InstanceValues::default()),
            Some(fe) => {
                let ctx = EvalContext::new(&scope);
                let (v, d) = eval_expr(&fe.expr, &ctx);
                let failed = d.has_errors();
                diags.extend(d);
                if failed {
                    continue;
                }
                match for_each_elements(&v) {
                    Some(els) => {
                        for (k, v) in els {
                            instances.push(InstanceValues {
                                each: Some((k, v)),
                                ..Default::default()
                            });
                        }
                    }
                    None => {
                        diags.push(
                            Diagnostic::error(
                                "Invalid for_each argument",
                                "The \"for_each\" argument of an import block must be a known map, set of strings or list.",
                            )
                            .with_subject(&fe.file, fe.expr.span),
                        );
                        continue;
                    }
                }
            }
        }
        for iv in instances {
            let ctx = EvalContext::new(&scope).with_instance(iv);
            let addr = match address_of(&block.to.expr, &ctx) {
                Ok(a) => a,
                Err(detail) => {
                    diags.push(
                        Diagnostic::error("Invalid import address", detail)
                            .with_subject(&block.to.file, block.to.expr.span),
                    );
                    continue;
                }
            };
            let Some(id_expr) = &block.id else { continue };
            let (id, d) = eval_expr(&id_expr.expr, &ctx);
            let failed = d.has_errors();
            diags.extend(d);
            if failed {
                continue;
            }
            let id_subject = |d: Diagnostic| d.with_subject(&id_expr.file, id_expr.expr.span);
            let id = id.unmark_deep_value();
            if !id.is_wholly_known() {
                diags.push(id_subject(Diagnostic::error(
                    "Invalid import id argument",
                    "The import block \"id\" argument depends on resource attributes that cannot be determined until apply, so Terraform cannot plan to import this resource.",
                )));
                continue;
            }
            let id = match terrane_value::convert::convert(&id, &terrane_value::Type::String) {
                Ok(v) if !v.is_null() => v.as_str().map(str::to_string).unwrap_or_default(),
                _ => {
                    diags.push(id_subject(Diagnostic::error(
                        "Invalid import id argument",
                        "The import ID cannot be null and must be a string.",
                    )));
                    continue;
                }
            };
            if id.is_empty() {
                diags.push(id_subject(Diagnostic::error(
                    "Invalid import id argument",
                    "The import ID cannot be empty.",
                )));
                continue;
            }
            if let Some(prev) = targets.iter().find(|t| t.addr == addr) {
                let at = prev
                    .range
                    .as_ref()
                    .map(|r| {
                        let line = r.file.pos(r.span.start).line;
                        format!(" at {}:{line}", r.file.name)
                    })
                    .unwrap_or_default();
                diags.push(
                    Diagnostic::error(
                        "Duplicate import configuration",
                        format!("An import block for the resource {addr} was already declared{at}. A resource can have only one import block."),
                    )
                    .with_subject(&block.range.file, block.range.span),
                );
                continue;
            }
            targets.push(ImportTarget {
                addr,
                id,
                range: Some(block.range.clone()),
            });
        }
    }
    (targets, diags)
}

/// The elements of a `for_each` value as (each.key, each.value).
fn for_each_elements(v: &Value) -> Option<Vec<(Value, Value)>> {
    let v = v.unmark_deep_value();
    if v.is_null() || !v.is_wholly_known() {
        return None;
    }
    match v.kind() {
        Kind::Map(m) | Kind::Object(m) => Some(
            m.iter()
                .map(|(k, e)| (Value::string(k.to_string()), e.clone()))
                .collect(),
        ),
        Kind::Set(es) => Some(es.iter().map(|e| (e.clone(), e.clone())).collect()),
        Kind::List(es) | Kind::Tuple(es) => Some(
            es.iter()
                .enumerate()
                .map(|(i, e)| (Value::from_i64(i as i64), e.clone()))
                .collect(),
        ),
        _ => None,
    }
}

/// An `import` block's `to` as an instance address; index keys may be
/// expressions (`random_id.x[each.key]`).
fn address_of(expr: &Expr, ctx: &EvalContext) -> Result<ResourceInstanceAddr, String> {
    let mut text = String::new();
    write_address(expr, ctx, &mut text)?;
    let target = TargetAddr::parse(&text)?;
    let Some(addr) = target.instance() else {
        return Err(
            "The \"to\" argument must be a resource instance address, not a module.".into(),
        );
    };
    if addr.resource.mode != ResourceMode::Managed {
        return Err(
            "Only managed resources can be imported; the \"to\" address names a data resource."
                .into(),
        );
    }
    Ok(addr)
}

fn write_address(expr: &Expr, ctx: &EvalContext, out: &mut String) -> Result<(), String> {
    match &expr.kind {
        ExprKind::Traversal { root, steps } => {
            out.push_str(&root.name);
            write_steps(steps, out);
            Ok(())
        }
        ExprKind::RelativeTraversal { source, steps } => {
            write_address(source, ctx, out)?;
            write_steps(steps, out);
            Ok(())
        }
        ExprKind::Index {
            collection, key, ..
        } => {
            write_address(collection, ctx, out)?;
            let (k, d) = eval_expr(key, ctx);
            if d.has_errors() {
                return Err("The index key of the \"to\" address could not be evaluated.".into());
            }
            let k = k.unmark_deep_value();
            let key = if let Some(s) = k.as_str() {
                InstanceKey::Str(s.to_string())
            } else if let Some(i) = k.as_number().and_then(|n| n.to_i64()) {
                InstanceKey::Int(i)
            } else {
                return Err("An index key of the \"to\" address must be a known string or whole number.".into());
            };
            out.push_str(&key.to_string());
            Ok(())
        }
        _ => Err("The \"to\" argument must be a resource instance address, such as aws_instance.example or module.a[\"k\"].aws_instance.example[0].".into()),
    }
}

fn write_steps(steps: &[TraversalStep], out: &mut String) {
    for s in steps {
        match s {
            TraversalStep::Attr(i) => {
                out.push('.');
                out.push_str(&i.name);
            }
            TraversalStep::Index { key, .. } => {
                let k = match key {
                    terrane_hcl::ast::IndexKey::Number(n) => n.to_string(),
                    terrane_hcl::ast::IndexKey::String(s) => format!("{s:?}"),
                };
                out.push('[');
                out.push_str(&k);
                out.push(']');
            }
        }
    }
}

/// What an instance without a prior object gets from the imports.
pub(crate) enum ImportPrior {
    /// Not an import target.
    None,
    /// The import failed (diagnostics are in the outcome).
    Failed,
    /// The imported object, to plan (or apply) against.
    Object(crate::walk::PriorInstance),
}

/// Plan: imports the object an `import` block names for `addr`. Apply:
/// records the object the plan imported in the new state.
pub(crate) fn prior_for_import(
    shared: &crate::walk::Shared<'_>,
    addr: &ResourceInstanceAddr,
    pi: &ProviderInstance,
    out: &mut crate::walk::Outcome,
) -> ImportPrior {
    let events = shared.opts.import_events.as_ref();
    match &shared.mode {
        crate::walk::Mode::Plan => {
            if shared.opts.import_only || shared.opts.refresh_only || shared.opts.destroy {
                return ImportPrior::None;
            }
            let Some(target) = shared.opts.imports.iter().find(|t| t.addr == *addr) else {
                return ImportPrior::None;
            };
            match import_object(pi, target, events, false) {
                Ok(obj) => {
                    let prior = crate::walk::PriorInstance {
                        value: obj.value.clone(),
                        private: obj.private.clone(),
                        tainted: false,
                    };
                    out.imported = Some(obj);
                    ImportPrior::Object(prior)
                }
                Err(d) => {
                    out.diags.extend(d);
                    ImportPrior::Failed
                }
            }
        }
        crate::walk::Mode::Apply(plan) => {
            // Recorded in state by `record_planned` before the walk.
            match plan.imports.iter().find(|i| i.addr == *addr) {
                Some(obj) => ImportPrior::Object(crate::walk::PriorInstance {
                    value: obj.value.clone(),
                    private: obj.private.clone(),
                    tainted: false,
                }),
                None => ImportPrior::None,
            }
        }
    }
}

/// Apply: records the objects the plan imported in the new state (and
/// journal), reporting "Importing..." and "Import complete" for each.
pub(crate) fn record_planned(
    builder: &mut crate::state::StateBuilder,
    plan: &crate::plan::Plan,
    events: Option<&ImportEvents>,
) {
    for obj in &plan.imports {
        let addr = &obj.addr;
        ImportEvents::emit(
            events,
            ImportEvent::ApplyStart {
                addr: addr.clone(),
                id: obj.id.clone(),
            },
        );
        let inst = crate::state::value_to_instance(
            &obj.value,
            &obj.schema,
            &addr.key,
            &[],
            false,
            &obj.private,
            false,
        );
        builder.set_instance(addr, &obj.provider, inst);
        ImportEvents::emit(
            events,
            ImportEvent::ApplyDone {
                addr: addr.clone(),
                id: obj.id.clone(),
            },
        );
    }
}

/// The error for an import target the configuration does not declare
/// (its resource, its module instance or its instance key). The `import`
/// command words it as Terraform 1.5+ does (1.0.3 wrote the object at the
/// undeclared address, and the next plan destroyed it).
pub(crate) fn undeclared_target(addr: &ResourceInstanceAddr, import_command: bool) -> Diagnostic {
    let target = if import_command { "" } else { " target" };
    Diagnostic::error(
        "Configuration for import target does not exist",
        format!("The configuration for the given import{target} {addr} does not exist. All target instances must have an associated configuration to be imported."),
    )
}

/// Errors for import targets the walk never reached: the configuration
/// has no such instance (a missing resource, or a key its `count` or
/// `for_each` does not produce). Only meaningful when the walk had no
/// errors (a failed import is reported by itself).
pub(crate) fn unvisited_targets(
    opts: &crate::walk::PlanOptions,
    imported: &[ImportedObject],
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for t in &opts.imports {
        if imported.iter().any(|i| i.addr == t.addr) {
            continue;
        }
        let d = undeclared_target(&t.addr, opts.import_only);
        diags.push(match &t.range {
            Some(r) => d.with_subject(&r.file, r.span),
            None => d,
        });
    }
    diags
}
