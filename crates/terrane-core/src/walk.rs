//! The walker: evaluates every module instance in dependency order and, per
//! resource instance, plans a change (plan mode) or carries out the planned
//! change through its provider (apply mode).
//!
//! Both modes share one walk so that apply evaluates configuration exactly
//! as plan did, only with more values known. Deletions are not part of the
//! walk: apply runs them first, in reverse dependency order (see
//! [`crate::engine`]).
//!
//! # Concurrency
//!
//! A module's nodes run as soon as everything they depend on is done.
//! Expressions are evaluated on the walking thread (they only read the
//! module's scope); the provider calls of each resource instance (refresh,
//! plan, apply, read) are jobs on the worker [`Pool`], at most
//! `-parallelism` at once. A resource's value enters the scope when all its
//! instances are done. Diagnostics are reported in the module's dependency
//! order whatever order the work finished in, so output is deterministic.

use crate::addrs::{InstanceKey, ModuleInstance, ResourceAddr, ResourceInstanceAddr};
use crate::decode::{decode_resource_body, Subject};
use crate::graph::{order, resource_provider, Node};
use crate::plan::{Action, ActionReason, OutputChange, Plan, ResourceInstanceChange};
use crate::pool::Pool;
use crate::state::{provider_state_addr, value_to_instance, PriorState, StateBuilder};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use terrane_config::{Module, ModuleTree, Resource, ResourceMode};
use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_lang::scope::LocalDef;
use terrane_lang::typeexpr::VarType;
use terrane_lang::{eval_expr, EvalContext, InstanceValues, Scope};
use terrane_plugin::{
    ApplyResourceChangeRequest, ConfigureRequest, PlanResourceChangeRequest, Provider,
    ProviderSchema, ReadDataSourceRequest, ReadResourceRequest,
};
use terrane_value::{Kind, Type, Value};

/// Creates provider instances from their source addresses
/// (`registry.terraform.io/hashicorp/null`).
pub trait ProviderFactory: Send + Sync {
    fn instantiate(&self, source: &str) -> Result<Arc<dyn Provider>, String>;
}

/// Terraform's default `-parallelism`.
pub const DEFAULT_PARALLELISM: usize = 10;

/// Options of one plan.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    pub refresh: bool,
    pub destroy: bool,
    /// `-refresh-only`: plan only to record what refreshing finds.
    pub refresh_only: bool,
    /// `-replace=ADDR` instance addresses.
    pub replace: Vec<String>,
    /// `-target=ADDR`: only these (and what they depend on) are planned.
    pub targets: Vec<crate::addrs::TargetAddr>,
    pub workspace: String,
    /// At most this many provider operations at once (`-parallelism`);
    /// 0 means [`DEFAULT_PARALLELISM`], 1 runs everything on the calling
    /// thread.
    pub parallelism: usize,
    /// Interrupts received (SIGINT/SIGTERM); once non-zero, no new
    /// operation starts, providers are asked to stop, and operations in
    /// flight finish and are recorded.
    pub interrupt: Option<&'static AtomicUsize>,
    /// Objects to import (`import` blocks, or the `import` command's one).
    pub imports: Vec<crate::import::ImportTarget>,
    /// The `import` command: import the targets and plan nothing.
    pub import_only: bool,
    /// Where import progress is reported.
    pub import_events: Option<crate::import::ImportEvents>,
}

impl PlanOptions {
    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt.is_some_and(|n| n.load(Ordering::SeqCst) > 0)
    }

    pub(crate) fn workers(&self) -> usize {
        if self.parallelism == 0 {
            DEFAULT_PARALLELISM
        } else {
            self.parallelism
        }
    }
}

/// The error an interrupted walk ends with (Terraform's wording).
pub fn halted_diagnostic() -> Diagnostic {
    Diagnostic::error("execution halted", "")
}

/// What apply reports as it goes (for the UI).
#[derive(Clone, Debug)]
pub enum ApplyEvent {
    /// Plan: a managed instance's object is about to be read.
    Refresh {
        addr: ResourceInstanceAddr,
        id: Option<String>,
    },
    Start {
        addr: ResourceInstanceAddr,
        action: Action,
        id: Option<String>,
    },
    Done {
        addr: ResourceInstanceAddr,
        action: Action,
        elapsed_secs: u64,
        id: Option<String>,
    },
    Failed {
        addr: ResourceInstanceAddr,
        action: Action,
    },
}

/// A configured provider and its schema.
#[derive(Clone)]
pub struct ProviderInstance {
    pub provider: Arc<dyn Provider>,
    pub schema: Arc<ProviderSchema>,
    /// The address written in state: `provider["registry.terraform.io/hashicorp/null"]`.
    pub state_addr: String,
}

pub(crate) enum Mode<'p> {
    Plan,
    Apply(&'p Plan),
}

/// What the provider-calling jobs share, read-only or behind locks.
pub(crate) struct Shared<'e> {
    pub prior: &'e PriorState,
    pub opts: PlanOptions,
    pub mode: Mode<'e>,
    /// Apply mode: the state being built, and its journal.
    pub new_state: Option<Mutex<StateBuilder>>,
    pub events: Option<&'e Mutex<dyn FnMut(ApplyEvent) + Send>>,
    /// Apply mode: the plan's current-object changes by address.
    pub change_index: HashMap<ResourceInstanceAddr, usize>,
}

/// The walking thread's state of one walk.
pub(crate) struct Walker<'e, 'p> {
    pub factory: &'e dyn ProviderFactory,
    pub root_vars: BTreeMap<String, Value>,
    pub shared: &'e Shared<'e>,
    pub pool: &'p Pool<'e>,
    pub diags: Diagnostics,
    /// Plan mode: changes in walk order.
    pub changes: Vec<ResourceInstanceChange>,
    pub outputs: Vec<OutputChange>,
    /// Resources (state addresses) visited, to find orphans.
    pub visited: BTreeSet<crate::state::ResourceKey>,
    /// Configured providers by (module instance, local address).
    pub providers: BTreeMap<(String, String), ProviderInstance>,
    /// Providers whose configuration failed: their resources are skipped
    /// (an unconfigured plugin may crash on the next call), and the
    /// failure is reported once.
    pub failed_providers: BTreeSet<(String, String)>,
    /// What refreshing found changed or gone.
    pub drift: Vec<ResourceInstanceChange>,
    /// Provider configurations' values by state address.
    pub provider_configs: BTreeMap<String, crate::plan::ProviderConfig>,
    /// Providers were asked to stop after an interrupt.
    pub stop_sent: bool,
    /// With `-target`: (module instance, resource key) of the resources
    /// the targeted ones depend on, which are planned in full.
    pub target_needed: BTreeSet<(String, String)>,
    /// Objects imported during the walk.
    pub imported: Vec<crate::import::ImportedObject>,
}

/// Source address of a provider local name in a module.
pub fn provider_source(m: &Module, local: &str) -> String {
    let name = local.split('.').next().unwrap_or(local);
    let source = m
        .terraform
        .required_providers
        .get(name)
        .and_then(|p| p.source.clone())
        .unwrap_or_else(|| {
            if name == "terraform" {
                "terraform.io/builtin/terraform".to_string()
            } else {
                format!("hashicorp/{name}")
            }
        });
    normalize_source(&source)
}

/// `hashicorp/null` → `registry.terraform.io/hashicorp/null`.
pub fn normalize_source(s: &str) -> String {
    let parts: Vec<&str> = s.split('/').collect();
    let full = if parts.len() == 2 {
        format!("registry.terraform.io/{}", s)
    } else {
        s.to_string()
    };
    full.to_lowercase()
}

fn is_known_int(v: &Value) -> Option<i64> {
    v.as_number()
        .and_then(|n| if n.is_integer() { n.to_i64() } else { None })
}

/// The result of one instance's provider work.
pub(crate) struct Outcome {
    /// The value references see.
    pub value: Value,
    pub diags: Diagnostics,
    /// Plan mode: the planned change.
    pub change: Option<ResourceInstanceChange>,
    /// Refresh found the object changed or gone.
    pub drift: Option<ResourceInstanceChange>,
    /// Not started because of an interrupt.
    pub cancelled: bool,
    /// The object imported for this instance.
    pub imported: Option<crate::import::ImportedObject>,
}

impl Outcome {
    pub(crate) fn new(value: Value) -> Outcome {
        Outcome {
            value,
            diags: Diagnostics::new(),
            change: None,
            drift: None,
            cancelled: false,
            imported: None,
        }
    }
}

/// A finished job: (node index, slot within the node, outcome).
type Finished = (usize, usize, Outcome);

/// A resource whose instance jobs are running.
struct RunningResource {
    mode: ResourceMode,
    scope_key: String,
    counted: bool,
    each: bool,
    /// Checked against each instance's new (or planned) object.
    postconditions: Vec<terrane_config::CheckRule>,
    /// Per configured slot: `count.index` / `each` for the conditions.
    instance_values: Vec<Option<InstanceValues>>,
    /// Slot → (key, outcome); slots past the configured instances are
    /// orphans (deletions) whose values are not referenced.
    keys: Vec<Option<InstanceKey>>,
    outcomes: Vec<Option<Outcome>>,
    remaining: usize,
}

/// The work of one resource instance, run on a worker.
enum InstanceJob {
    Managed {
        addr: ResourceInstanceAddr,
        config: Value,
        create_before_destroy: bool,
        ignore_changes: Option<terrane_config::IgnoreChanges>,
        /// A `replace_triggered_by` reference changed.
        replace_triggered: bool,
        site: Arc<ConfigSite>,
    },
    Data {
        addr: ResourceInstanceAddr,
        config: Value,
        site: Arc<ConfigSite>,
    },
    Orphan {
        addr: ResourceInstanceAddr,
        prior: PriorInstance,
        reason: ActionReason,
        prevent_destroy: bool,
    },
    /// Configuration decoding failed: nothing to do.
    Failed { ty: Type },
}

impl<'e> Walker<'e, '_> {
    fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// After an interrupt: asks every configured provider to stop what it
    /// is doing (once).
    fn stop_providers(&mut self) {
        if self.stop_sent {
            return;
        }
        self.stop_sent = true;
        for pi in self.providers.values() {
            let _ = pi.provider.stop();
        }
    }

    /// Walks one module instance; returns its outputs as an object.
    pub fn module(
        &mut self,
        node: &'e ModuleTree,
        path: &ModuleInstance,
        inputs: BTreeMap<String, Value>,
        inherited: &BTreeMap<String, ProviderInstance>,
    ) -> Value {
        let m = &node.module;
        let (nodes, deps) = match order(m) {
            Ok(o) => o,
            Err(d) => {
                self.diags.extend(d);
                return Value::unknown_dynamic();
            }
        };
        if !self.shared.opts.targets.is_empty() && !self.shared.opts.destroy {
            for r in m
                .managed_resources
                .values()
                .chain(m.data_resources.values())
            {
                let ra = ResourceAddr {
                    module: path.clone(),
                    mode: r.mode,
                    type_name: r.type_name.clone(),
                    name: r.name.clone(),
                };
                if self.shared.opts.targets.iter().any(|t| t.touches(&ra)) {
                    for d in dependencies(&deps, r) {
                        self.target_needed.insert((path.to_string(), d));
                    }
                }
            }
        }
        let mut scope = Scope::new();
        let cwd = std::env::current_dir().unwrap_or_default();
        scope.path_cwd = cwd.to_string_lossy().into_owned();
        scope.path_root = ".".to_string();
        scope.path_module = if path.is_root() {
            ".".to_string()
        } else {
            m.dir.to_string_lossy().into_owned()
        };
        scope.base_dir = m.dir.clone();
        scope.workspace = if self.shared.opts.workspace.is_empty() {
            "default".into()
        } else {
            self.shared.opts.workspace.clone()
        };
        scope.provider_functions = crate::provider_functions::resolver(self.factory, m);
        // Providers visible here: inherited defaults and those passed in.
        let mut local_providers: BTreeMap<String, ProviderInstance> = inherited.clone();
        let mut outputs = BTreeMap::new();

        // The schedule: a node is ready when every node it depends on is
        // done; ready nodes start in dependency order.
        let index: HashMap<&Node, usize> = nodes.iter().enumerate().map(|(i, n)| (n, i)).collect();
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
        let mut waiting: Vec<usize> = vec![0; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            for d in deps.get(n).into_iter().flatten() {
                if let Some(&j) = index.get(d) {
                    if j != i {
                        dependents[j].push(i);
                        waiting[i] += 1;
                    }
                }
            }
        }
        let mut ready: BTreeSet<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
        // Apply mode: a node downstream of a failure is skipped.
        let mut upstream_failed: Vec<bool> = vec![false; nodes.len()];
        let mut node_diags: Vec<Diagnostics> =
            (0..nodes.len()).map(|_| Diagnostics::new()).collect();
        let mut running: HashMap<usize, RunningResource> = HashMap::new();
        let (sender, receiver) = mpsc::channel::<Finished>();
        let applying = matches!(self.shared.mode, Mode::Apply(_));
        let mut done_count = 0;

        while done_count < nodes.len() {
            let mut finished: Vec<(usize, bool)> = Vec::new();
            if let Some(i) = ready.pop_first() {
                let n = &nodes[i];
                let skip = self.shared.opts.interrupted() || (applying && upstream_failed[i]);
                if skip {
                    if matches!(n, Node::Resource(..) | Node::ModuleCall(_)) {
                        // The value stays unknown for whatever refers to it.
                        match n {
                            Node::Resource(ResourceMode::Managed, key) => {
                                scope
                                    .resources
                                    .insert(key.clone(), Value::unknown_dynamic());
                            }
                            Node::Resource(ResourceMode::Data, key) => {
                                scope.data.insert(
                                    key.trim_start_matches("data.").to_string(),
                                    Value::unknown_dynamic(),
                                );
                            }
                            Node::ModuleCall(name) => {
                                scope.modules.insert(name.clone(), Value::unknown_dynamic());
                            }
                            _ => {}
                        }
                    }
                    finished.push((i, true));
                } else {
                    let saved = std::mem::take(&mut self.diags);
                    let started = match n.clone() {
                        Node::Resource(mode, key) => {
                            let r = match mode {
                                ResourceMode::Managed => m.managed_resources.get(&key),
                                ResourceMode::Data => m.data_resources.get(&key),
                            };
                            match r {
                                Some(r) => {
                                    let local = resource_provider(r);
                                    let pi = match local_providers.get(&local) {
                                        Some(p) => Some(p.clone()),
                                        None => {
                                            // An implicit, empty configuration of the provider.
                                            let pi =
                                                self.configure_provider(m, path, &local, &scope);
                                            if let Some(p) = &pi {
                                                local_providers.insert(local.clone(), p.clone());
                                            }
                                            pi
                                        }
                                    };
                                    match pi {
                                        Some(pi) => self.start_resource(
                                            i, &deps, r, path, &pi, &scope, &sender,
                                        ),
                                        None => None,
                                    }
                                }
                                None => None,
                            }
                        }
                        other => {
                            self.inline_node(
                                other,
                                node,
                                path,
                                &inputs,
                                &mut scope,
                                &mut local_providers,
                                &mut outputs,
                            );
                            None
                        }
                    };
                    let failed = self.diags.has_errors();
                    node_diags[i] = std::mem::replace(&mut self.diags, saved);
                    match started {
                        Some(run) => {
                            if run.remaining == 0 {
                                let failed =
                                    self.finish_resource(i, run, &mut scope, &mut node_diags);
                                finished.push((i, failed));
                            } else {
                                running.insert(i, run);
                            }
                        }
                        None => finished.push((i, failed)),
                    }
                }
            } else {
                // Nothing to start: wait for a job, noticing interrupts.
                let received = if self.shared.opts.interrupt.is_some() {
                    match receiver.recv_timeout(Duration::from_millis(50)) {
                        Ok(f) => Some(f),
                        Err(mpsc::RecvTimeoutError::Timeout) => None,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                } else {
                    match receiver.recv() {
                        Ok(f) => Some(f),
                        Err(_) => break,
                    }
                };
                if self.shared.opts.interrupted() {
                    self.stop_providers();
                }
                let Some((i, slot, outcome)) = received else {
                    continue;
                };
                let Some(run) = running.get_mut(&i) else {
                    continue;
                };
                run.outcomes[slot] = Some(outcome);
                run.remaining -= 1;
                if run.remaining == 0 {
                    if let Some(run) = running.remove(&i) {
                        let failed = self.finish_resource(i, run, &mut scope, &mut node_diags);
                        finished.push((i, failed));
                    }
                }
            }
            for (i, failed) in finished {
                done_count += 1;
                for &d in &dependents[i] {
                    if failed || upstream_failed[i] {
                        upstream_failed[d] = true;
                    }
                    waiting[d] -= 1;
                    if waiting[d] == 0 {
                        ready.insert(d);
                    }
                }
            }
            if self.shared.opts.interrupted() {
                self.stop_providers();
            }
        }
        for d in node_diags {
            self.diags.extend(d);
        }
        // `check` blocks (Terraform 1.5): failed assertions are warnings.
        if !self.shared.opts.destroy {
            for check in m.checks.values() {
                let mut d = Diagnostics::new();
                check_rules(
                    &check.asserts,
                    &EvalContext::new(&scope),
                    "Check block assertion failed",
                    false,
                    &mut d,
                );
                self.diags.extend(d);
            }
        }
        Value::object(outputs)
    }

    /// Variables, locals, provider configurations, module calls and
    /// outputs: evaluated on the walking thread.
    #[allow(clippy::too_many_arguments)]
    fn inline_node(
        &mut self,
        n: Node,
        node: &'e ModuleTree,
        path: &ModuleInstance,
        inputs: &BTreeMap<String, Value>,
        scope: &mut Scope,
        local_providers: &mut BTreeMap<String, ProviderInstance>,
        outputs: &mut BTreeMap<String, Value>,
    ) {
        let m = &node.module;
        match n {
            Node::Variable(name) => {
                let Some(var) = m.variables.get(&name) else {
                    return;
                };
                let v = if path.is_root() {
                    self.root_vars
                        .get(&name)
                        .cloned()
                        .unwrap_or_else(Value::unknown_dynamic)
                } else {
                    let (vt, d) = VarType::of_variable(var);
                    self.diags.extend(d);
                    match inputs.get(&name) {
                        Some(v) => match vt.convert(v) {
                            Ok(v) => v,
                            Err(msg) => {
                                self.error(Diagnostic::error(
                                    "Invalid value for input variable",
                                    msg,
                                ));
                                Value::unknown(vt.ty.clone())
                            }
                        },
                        None => match terrane_lang::varvalues::default_value(var, &vt) {
                            Some((v, d)) => {
                                self.diags.extend(d);
                                v
                            }
                            None => {
                                self.error(Diagnostic::error(
                                    "Missing required argument",
                                    format!("The argument {name:?} is required, but no definition was found."),
                                ));
                                Value::unknown(vt.ty.clone())
                            }
                        },
                    }
                };
                self.check_variable(var, &v);
                let v = if var.sensitive { v.mark_sensitive() } else { v };
                scope.variables.insert(name, v);
            }
            Node::Local(name) => {
                let Some(l) = m.locals.get(&name) else {
                    return;
                };
                let ctx = EvalContext::new(scope).with_file(&l.expr.file);
                let (v, d) = eval_expr(&l.expr.expr, &ctx);
                self.diags.extend(d);
                scope.locals.insert(name, LocalDef::Value(v));
            }
            Node::Provider(addr) => {
                if let Some(pi) = self.configure_provider(m, path, &addr, scope) {
                    local_providers.insert(addr, pi);
                }
            }
            Node::Resource(..) => {}
            Node::ModuleCall(name) => {
                let Some(call) = m.module_calls.get(&name) else {
                    return;
                };
                let Some(child) = node.children.get(&name) else {
                    scope.modules.insert(name, Value::unknown_dynamic());
                    return;
                };
                // Providers for the child: default (unaliased) ones are
                // inherited unless `providers` says otherwise.
                let mut child_providers: BTreeMap<String, ProviderInstance> = local_providers
                    .iter()
                    .filter(|(k, _)| !k.contains('.'))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for pp in &call.providers {
                    if let Some(p) = local_providers.get(&pp.in_parent.addr()) {
                        child_providers.insert(pp.in_child.addr(), p.clone());
                    }
                }
                let keys = self.expand(&call.count, &call.for_each, scope);
                let mut results = Vec::new();
                for (key, iv) in keys {
                    let ctx = EvalContext::new(scope).with_instance(iv);
                    let mut child_inputs = BTreeMap::new();
                    for (iname, input) in &call.inputs {
                        let c = ctx.clone().with_file(&input.value.file);
                        let (v, d) = eval_expr(&input.value.expr, &c);
                        self.diags.extend(d);
                        child_inputs.insert(iname.clone(), v);
                    }
                    let child_path = path.child(&name, key.clone());
                    let out = self.module(child, &child_path, child_inputs, &child_providers);
                    results.push((key, out));
                }
                scope.modules.insert(
                    name,
                    collect_instances(results, call.count.is_some(), call.for_each.is_some()),
                );
            }
            Node::Output(name) => {
                let Some(o) = m.outputs.get(&name) else {
                    return;
                };
                let mut d = Diagnostics::new();
                check_rules(
                    &o.preconditions,
                    &EvalContext::new(scope),
                    "Module output value precondition failed",
                    true,
                    &mut d,
                );
                self.diags.extend(d);
                let v = match &o.value {
                    Some(e) => {
                        let ctx = EvalContext::new(scope).with_file(&e.file);
                        let (v, d) = eval_expr(&e.expr, &ctx);
                        self.diags.extend(d);
                        v
                    }
                    None => Value::null_dynamic(),
                };
                if path.is_root() {
                    self.root_output(&name, v.clone(), o.sensitive);
                }
                outputs.insert(name, if o.sensitive { v.mark_sensitive() } else { v });
            }
        }
    }

    /// Runs a variable's validation rules against its value.
    fn check_variable(&mut self, var: &terrane_config::Variable, v: &Value) {
        if var.validations.is_empty() || !v.is_wholly_known() {
            return;
        }
        let mut scope = Scope::new();
        scope.variables.insert(var.name.clone(), v.clone());
        for rule in &var.validations {
            let ctx = EvalContext::new(&scope).with_file(&rule.condition.file);
            let (ok, d) = eval_expr(&rule.condition.expr, &ctx);
            if d.has_errors() {
                self.diags.extend(d);
                continue;
            }
            let (ok, _) = ok.unmark();
            if ok.as_bool() != Some(false) {
                continue;
            }
            let msg = match &rule.error_message {
                Some(m) => {
                    let (mv, _) = eval_expr(&m.expr, &EvalContext::new(&scope).with_file(&m.file));
                    mv.unmark()
                        .0
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_default()
                }
                None => String::new(),
            };
            let subject = var.default.as_ref().map(|d| (d.file.clone(), d.expr.span));
            let mut diag = Diagnostic::error(
                "Invalid value for variable",
                format!(
                    "{msg}\n\nThis was checked by the validation rule at {}.",
                    rule.range.short()
                ),
            );
            if let Some((f, s)) = subject {
                diag = diag.with_subject(&f, s);
            }
            self.error(diag);
        }
    }

    fn root_output(&mut self, name: &str, v: Value, sensitive: bool) {
        let before = self
            .shared
            .prior
            .outputs
            .get(name)
            .cloned()
            .unwrap_or_else(Value::null_dynamic);
        let after = if self.shared.opts.destroy {
            Value::null_dynamic()
        } else {
            v
        };
        let action = if before.is_null() && after.is_null() {
            Action::NoOp
        } else if before.is_null() {
            Action::Create
        } else if after.is_null() {
            Action::Delete
        } else if after.is_wholly_known()
            && before
                .unmark_deep_value()
                .raw_equal(&after.unmark_deep_value())
        {
            Action::NoOp
        } else {
            Action::Update
        };
        if let Some(sb) = &self.shared.new_state {
            lock(sb).set_output(name, &after, sensitive);
        }
        self.outputs.push(OutputChange {
            name: name.to_string(),
            action,
            before,
            after,
            sensitive,
        });
    }

    /// The root module's default (unaliased, unconfigured) provider for
    /// `source`, configured with an empty body. Objects in state whose
    /// resources left the configuration need it when nothing else uses
    /// that provider any more (say, after a `removed` block), as
    /// Terraform provides it from the state.
    pub(crate) fn implied_root_provider(&mut self, root: &Module, source: &str) {
        let local = root
            .terraform
            .required_providers
            .iter()
            .find(|(_, p)| p.source.as_deref().map(normalize_source).as_deref() == Some(source))
            .map(|(name, _)| name.clone())
            .unwrap_or_else(|| source.rsplit('/').next().unwrap_or(source).to_string());
        if root.providers.contains_key(&local) || provider_source(root, &local) != source {
            return;
        }
        self.configure_provider(root, &ModuleInstance::root(), &local, &Scope::new());
    }

    fn configure_provider(
        &mut self,
        m: &Module,
        path: &ModuleInstance,
        local: &str,
        scope: &Scope,
    ) -> Option<ProviderInstance> {
        let key = (path.to_string(), local.to_string());
        if let Some(p) = self.providers.get(&key) {
            return Some(p.clone());
        }
        if self.failed_providers.contains(&key) {
            return None;
        }
        let source = provider_source(m, local);
        let provider = match self.factory.instantiate(&source) {
            Ok(p) => p,
            Err(e) => {
                self.error(Diagnostic::error(
                    "Failed to load plugin schemas",
                    format!("Could not load the provider {source}: {e}"),
                ));
                return None;
            }
        };
        let schema = provider.get_schema();
        for d in schema.diagnostics.iter() {
            self.error(Diagnostic::error(d.summary.clone(), d.detail.clone()));
        }
        let schema = schema.schema;
        let config = match m.providers.get(local) {
            Some(pc) => {
                let mut bodies = vec![&pc.config];
                bodies.extend(pc.config_overrides.iter());
                let ctx = EvalContext::new(scope);
                let subject = Subject {
                    file: pc.range.file.clone(),
                    span: pc.range.span,
                };
                let filtered: Vec<terrane_config::SrcBody> =
                    bodies.iter().map(|b| strip_provider_meta(b)).collect();
                let refs: Vec<&terrane_config::SrcBody> = filtered.iter().collect();
                let (v, d) =
                    decode_resource_body(&refs, &schema.provider.block, &ctx, &subject, false);
                self.diags.extend(d);
                v
            }
            None => empty_object(&schema.provider.block.implied_type()),
        };
        let resp = provider.configure(&ConfigureRequest {
            terraform_version: "1.0.3".into(),
            config: config.unmark_deep_value(),
        });
        let module_prefix = if path.is_root() || !m.providers.contains_key(local) {
            String::new()
        } else {
            format!("{path}.")
        };
        let state_addr = format!("{module_prefix}{}", provider_state_addr(&source, local));
        // Terraform points at the provider block (`with provider[...]`);
        // an implicit configuration has no block to point at.
        let block = m.providers.get(local);
        let mut failed = false;
        for d in resp.iter() {
            failed |= d.severity == terrane_plugin::Severity::Error;
            let diag = match block {
                Some(pc) => ConfigSite::of_body(&pc.config).provider_diagnostic(d, &state_addr),
                None => plain_provider_diagnostic(d),
            };
            self.diags.push(diag);
        }
        if failed {
            self.failed_providers.insert(key);
            return None;
        }
        self.provider_configs.insert(
            state_addr.clone(),
            crate::plan::ProviderConfig {
                source: source.clone(),
                config: config.unmark_deep_value(),
            },
        );
        let pi = ProviderInstance {
            provider,
            schema,
            state_addr,
        };
        self.providers.insert(key, pi.clone());
        Some(pi)
    }

    /// Instance keys and per-instance values of `count` / `for_each`.
    fn expand(
        &mut self,
        count: &Option<terrane_config::SrcExpr>,
        for_each: &Option<terrane_config::SrcExpr>,
        scope: &Scope,
    ) -> Vec<(InstanceKey, InstanceValues)> {
        if let Some(c) = count {
            let ctx = EvalContext::new(scope).with_file(&c.file);
            let (v, d) = eval_expr(&c.expr, &ctx);
            self.diags.extend(d);
            let (v, _) = v.unmark();
            if !v.is_known() {
                self.error(
                    Diagnostic::error(
                        "Invalid count argument",
                        "The \"count\" value depends on resource attributes that cannot be determined until apply, so Terraform cannot predict how many instances will be created. To work around this, use the -target argument to first apply only the resources that the count depends on.",
                    )
                    .with_subject(&c.file, c.expr.span),
                );
                return Vec::new();
            }
            let n = terrane_value::convert(&v, &Type::Number)
                .ok()
                .as_ref()
                .and_then(is_known_int);
            return match n {
                Some(n) if n >= 0 => (0..n)
                    .map(|i| {
                        (
                            InstanceKey::Int(i),
                            InstanceValues {
                                count_index: Some(Value::from_i64(i)),
                                ..Default::default()
                            },
                        )
                    })
                    .collect(),
                _ => {
                    self.error(
                        Diagnostic::error(
                            "Invalid count argument",
                            "The given \"count\" argument value is unsuitable: must be a whole number greater than or equal to zero.",
                        )
                        .with_subject(&c.file, c.expr.span),
                    );
                    Vec::new()
                }
            };
        }
        if let Some(fe) = for_each {
            let ctx = EvalContext::new(scope).with_file(&fe.file);
            let (v, d) = eval_expr(&fe.expr, &ctx);
            self.diags.extend(d);
            let (v, _) = v.unmark();
            if !v.is_wholly_known() {
                self.error(
                    Diagnostic::error(
                        "Invalid for_each argument",
                        "The \"for_each\" value depends on resource attributes that cannot be determined until apply, so Terraform cannot predict how many instances will be created. To work around this, use the -target argument to first apply only the resources that the for_each depends on.",
                    )
                    .with_subject(&fe.file, fe.expr.span),
                );
                return Vec::new();
            }
            let pairs: Vec<(String, Value)> = match v.kind() {
                Kind::Map(m) | Kind::Object(m) => {
                    m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
                }
                Kind::Set(es) if v.ty() == &Type::Set(Box::new(Type::String)) => es
                    .iter()
                    .filter_map(|e| e.as_str().map(|s| (s.to_string(), e.clone())))
                    .collect(),
                _ => {
                    self.error(
                        Diagnostic::error(
                            "Invalid for_each argument",
                            format!(
                                "The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided a value of type {}.",
                                v.ty().friendly_name()
                            ),
                        )
                        .with_subject(&fe.file, fe.expr.span),
                    );
                    return Vec::new();
                }
            };
            return pairs
                .into_iter()
                .map(|(k, v)| {
                    (
                        InstanceKey::Str(k.clone()),
                        InstanceValues {
                            each: Some((Value::string(k), v)),
                            ..Default::default()
                        },
                    )
                })
                .collect();
        }
        vec![(InstanceKey::None, InstanceValues::default())]
    }
    /// Evaluates one resource's instances and submits their provider work;
    /// `None` when there is nothing to wait for (an error was reported).
    #[allow(clippy::too_many_arguments)]
    fn start_resource(
        &mut self,
        node_index: usize,
        deps: &crate::graph::Deps,
        r: &Resource,
        path: &ModuleInstance,
        pi: &ProviderInstance,
        scope: &Scope,
        sender: &mpsc::Sender<Finished>,
    ) -> Option<RunningResource> {
        let shared = self.shared;
        let addr = ResourceAddr {
            module: path.clone(),
            mode: r.mode,
            type_name: r.type_name.clone(),
            name: r.name.clone(),
        };
        self.visited.insert((
            path.to_string(),
            r.mode,
            r.type_name.clone(),
            r.name.clone(),
        ));
        let schema = match r.mode {
            ResourceMode::Managed => pi.schema.resource(&r.type_name),
            ResourceMode::Data => pi.schema.data_source(&r.type_name),
        };
        let Some(schema) = schema.cloned() else {
            let what = if r.mode == ResourceMode::Managed {
                "resource type"
            } else {
                "data source"
            };
            self.error(
                Diagnostic::error(
                    "Invalid resource type",
                    format!(
                        "The provider {} does not support {what} {:?}.",
                        pi.state_addr, r.type_name
                    ),
                )
                .with_subject(&r.type_range.file, r.type_range.span),
            );
            return None;
        };
        let schema = Arc::new(schema);
        let ty = schema.block.implied_type();
        shared
            .prior
            .set_type(&r.type_name, &pi.state_addr, ty.clone());
        // `-target`: a resource neither targeted nor needed by a target
        // keeps its objects from state, untouched.
        let targets = &shared.opts.targets;
        let needed = self.target_needed.contains(&(path.to_string(), r.addr()))
            || self
                .target_needed
                .contains(&(crate::targets::config_path(path), r.addr()));
        let directly = targets.iter().any(|t| t.touches(&addr));
        let in_target = |a: &ResourceInstanceAddr| {
            targets.is_empty() || needed || targets.iter().any(|t| t.contains(a))
        };
        // The `import` command plans no managed resource; data sources are
        // read, as provider configurations may use them.
        let import_only = shared.opts.import_only && r.mode == ResourceMode::Managed;
        if import_only || (!targets.is_empty() && !needed && !directly) {
            let prior = shared.prior.instances_of(&addr);
            let mut run = RunningResource {
                mode: r.mode,
                scope_key: match r.mode {
                    ResourceMode::Managed => r.addr(),
                    ResourceMode::Data => r.addr().trim_start_matches("data.").to_string(),
                },
                counted: r.count.is_some(),
                each: r.for_each.is_some(),
                postconditions: Vec::new(),
                instance_values: Vec::new(),
                keys: Vec::new(),
                outcomes: Vec::new(),
                remaining: 0,
            };
            let mut managed = BTreeSet::new();
            for (key, p) in prior {
                if !p.value.is_null() {
                    managed.insert(key.clone());
                }
                run.keys.push(Some(key));
                run.outcomes.push(Some(Outcome::new(p.value)));
            }
            // The `import` command: only its target is worked on.
            if import_only {
                // Only instance keys the configuration declares (as
                // Terraform 1.5+; 1.0.3 imported any key).
                let targeted = shared.opts.imports.iter().any(|t| t.addr.resource == addr);
                let declared: BTreeSet<InstanceKey> = if targeted {
                    self.expand(&r.count, &r.for_each, scope)
                        .into_iter()
                        .map(|(k, _)| k)
                        .collect()
                } else {
                    BTreeSet::new()
                };
                for t in shared
                    .opts
                    .imports
                    .iter()
                    .filter(|t| t.addr.resource == addr)
                {
                    let mut o = Outcome::new(Value::unknown(ty.clone()));
                    let events = shared.opts.import_events.as_ref();
                    let managed_already = managed.contains(&t.addr.key);
                    // The provider's own refusal comes first, as in 1.0.3.
                    match crate::import::import_object(pi, t, events, managed_already) {
                        Ok(_) if !declared.contains(&t.addr.key) => {
                            o.diags
                                .push(crate::import::undeclared_target(&t.addr, true));
                        }
                        Ok(obj) => {
                            o.value = obj.value.clone();
                            o.imported = Some(obj);
                        }
                        Err(d) => o.diags = d,
                    }
                    if let Some(slot) = run.keys.iter().position(|k| *k == Some(t.addr.key.clone()))
                    {
                        run.outcomes[slot] = Some(o);
                    } else {
                        run.keys.push(Some(t.addr.key.clone()));
                        run.outcomes.push(Some(o));
                    }
                }
            }
            return Some(run);
        }
        let keys = if shared.opts.destroy {
            Vec::new()
        } else {
            self.expand(&r.count, &r.for_each, scope)
        };
        let key_set: BTreeSet<InstanceKey> = keys.iter().map(|(k, _)| k.clone()).collect();
        let resource_deps = Arc::new(dependencies(deps, r));
        // One per resource, shared by its instances (only read for
        // diagnostics).
        let site = Arc::new(ConfigSite::of(r));
        let mut jobs: Vec<(Option<InstanceKey>, InstanceJob)> = Vec::new();
        let mut instance_values = Vec::new();
        // Slots of instances outside `-target`, with their values.
        let mut skipped_values: Vec<(usize, Value)> = Vec::new();
        for (key, iv) in keys {
            let iaddr = addr.instance(key.clone());
            if !in_target(&iaddr) {
                // An instance outside the targets keeps its object.
                instance_values.push(None);
                let value = shared
                    .prior
                    .instance(&iaddr)
                    .map(|p| p.value)
                    .unwrap_or_else(|| Value::unknown(ty.clone()));
                jobs.push((Some(key), InstanceJob::Failed { ty: ty.clone() }));
                skipped_values.push((jobs.len() - 1, value));
                continue;
            }
            instance_values.push(Some(iv.clone()));
            let ctx = EvalContext::new(scope).with_instance(iv);
            let subject = Subject {
                file: r.range.file.clone(),
                span: r.range.span,
            };
            let mut bodies = vec![&r.config];
            bodies.extend(r.config_overrides.iter());
            let (config, mut d) =
                decode_resource_body(&bodies, &schema.block, &ctx, &subject, true);
            check_rules(
                &r.lifecycle.preconditions,
                &ctx,
                "Resource precondition failed",
                true,
                &mut d,
            );
            let failed = d.has_errors();
            self.diags.extend(d);
            let job = if failed {
                InstanceJob::Failed { ty: ty.clone() }
            } else {
                match r.mode {
                    ResourceMode::Managed => InstanceJob::Managed {
                        addr: iaddr,
                        config,
                        create_before_destroy: r.lifecycle.create_before_destroy == Some(true),
                        ignore_changes: r.lifecycle.ignore_changes.clone(),
                        replace_triggered: self.replace_triggered(r, path, &ctx),
                        site: site.clone(),
                    },
                    ResourceMode::Data => InstanceJob::Data {
                        addr: iaddr,
                        config,
                        site: site.clone(),
                    },
                }
            };
            jobs.push((Some(key), job));
        }
        // Instances in state that the configuration no longer has.
        if r.mode == ResourceMode::Managed {
            for (key, prior) in shared.prior.instances_of(&addr) {
                if key_set.contains(&key) || !in_target(&addr.instance(key.clone())) {
                    continue;
                }
                let reason = if shared.opts.destroy {
                    ActionReason::None
                } else {
                    match key {
                        InstanceKey::Int(_) => ActionReason::DeleteBecauseCountIndex,
                        InstanceKey::Str(_) => ActionReason::DeleteBecauseEachKey,
                        InstanceKey::None => ActionReason::DeleteBecauseNoResourceConfig,
                    }
                };
                jobs.push((
                    None,
                    InstanceJob::Orphan {
                        addr: addr.instance(key),
                        prior,
                        reason,
                        prevent_destroy: r.lifecycle.prevent_destroy == Some(true),
                    },
                ));
            }
        }
        let mut run = RunningResource {
            mode: r.mode,
            scope_key: match r.mode {
                ResourceMode::Managed => r.addr(),
                ResourceMode::Data => r.addr().trim_start_matches("data.").to_string(),
            },
            counted: r.count.is_some(),
            each: r.for_each.is_some(),
            postconditions: r.lifecycle.postconditions.clone(),
            instance_values,
            keys: Vec::with_capacity(jobs.len()),
            outcomes: Vec::with_capacity(jobs.len()),
            remaining: 0,
        };
        // Instances go to the workers in batches: a provider call of a
        // built-in provider takes microseconds, so one job per instance
        // would cost more in hand-offs than the work; a few batches per
        // worker still keeps every worker busy when calls are slow.
        let batch_size = jobs.len().div_ceil(self.pool.workers() * 4).max(1);
        let mut batch: Vec<(usize, InstanceJob)> = Vec::new();
        let total = jobs.len();
        for (slot, (key, job)) in jobs.into_iter().enumerate() {
            run.keys.push(key);
            run.outcomes.push(None);
            if let InstanceJob::Failed { ty } = job {
                run.outcomes[slot] = Some(Outcome::new(Value::unknown(ty)));
            } else {
                run.remaining += 1;
                batch.push((slot, job));
            }
            if batch.is_empty() || (batch.len() < batch_size && slot + 1 < total) {
                continue;
            }
            let batch = std::mem::take(&mut batch);
            let sender = sender.clone();
            let pi = pi.clone();
            let schema = Arc::clone(&schema);
            let resource_deps = Arc::clone(&resource_deps);
            self.pool.submit(Box::new(move || {
                for (slot, job) in batch {
                    let outcome = if shared.opts.interrupted() {
                        let mut o = Outcome::new(Value::unknown(schema.block.implied_type()));
                        o.cancelled = true;
                        o
                    } else {
                        // A panic in a provider must not leave the walk
                        // waiting for this result forever.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            shared.run(job, &pi, &schema, &resource_deps)
                        }))
                        .unwrap_or_else(|_| {
                            let mut o = Outcome::new(Value::unknown(schema.block.implied_type()));
                            o.diags.push(Diagnostic::error(
                                "Internal error in a provider call",
                                "An operation on this resource panicked; its result is unknown. Please report this as a bug in terrane.",
                            ));
                            o
                        })
                    };
                    // The walking thread waits for every result, so the
                    // receiver is there; if not, the result has no use.
                    let _ = sender.send((node_index, slot, outcome));
                }
            }));
        }
        for (slot, v) in skipped_values {
            run.outcomes[slot] = Some(Outcome::new(v));
        }
        Some(run)
    }

    /// Whether a `replace_triggered_by` reference of `r` changes in this
    /// plan (Terraform 1.2 semantics): a resource or instance reference
    /// when it is planned for update or replacement, an attribute
    /// reference when the attribute's value changes.
    fn replace_triggered(&self, r: &Resource, path: &ModuleInstance, ctx: &EvalContext) -> bool {
        if !matches!(self.shared.mode, Mode::Plan) {
            return false;
        }
        r.lifecycle.replace_triggered_by.iter().any(|e| {
            let Some((ty, name, key, attrs)) = trigger_reference(&e.expr, ctx, &e.file) else {
                return false;
            };
            self.changes.iter().any(|c| {
                let a = &c.addr;
                if a.resource.module != *path
                    || a.resource.mode != ResourceMode::Managed
                    || a.resource.type_name != ty
                    || a.resource.name != name
                    || key.as_ref().is_some_and(|k| *k != a.key)
                {
                    return false;
                }
                if attrs.is_empty() {
                    return matches!(
                        c.action,
                        Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
                    );
                }
                let mut p = terrane_value::Path::root();
                for at in &attrs {
                    p = p.attr(at.clone());
                }
                match (c.before.get_path(&p), c.after.get_path(&p)) {
                    (Ok(b), Ok(a)) => {
                        !a.is_wholly_known()
                            || !b.unmark_deep_value().raw_equal(&a.unmark_deep_value())
                    }
                    _ => c.action != Action::NoOp,
                }
            })
        })
    }

    /// Collects a resource's finished instances into its value, changes
    /// and diagnostics; returns whether any instance failed.
    fn finish_resource(
        &mut self,
        node_index: usize,
        run: RunningResource,
        scope: &mut Scope,
        node_diags: &mut [Diagnostics],
    ) -> bool {
        let mut failed = false;
        let mut results = Vec::new();
        for (slot, (key, outcome)) in run.keys.into_iter().zip(run.outcomes).enumerate() {
            let Some(mut o) = outcome else { continue };
            // Postconditions see the object as `self`; one not known
            // until apply is checked then.
            if !run.postconditions.is_empty() && !o.diags.has_errors() && !o.cancelled {
                if let Some(Some(iv)) = run.instance_values.get(slot) {
                    let mut iv = iv.clone();
                    iv.self_value = Some(o.value.clone());
                    let ctx = EvalContext::new(scope).with_instance(iv);
                    check_rules(
                        &run.postconditions,
                        &ctx,
                        "Resource postcondition failed",
                        true,
                        &mut o.diags,
                    );
                }
            }
            failed |= o.diags.has_errors() || o.cancelled;
            node_diags[node_index].extend(o.diags);
            if let Some(c) = o.change {
                self.changes.push(c);
            }
            if let Some(d) = o.drift {
                self.drift.push(d);
            }
            if let Some(i) = o.imported {
                self.imported.push(i);
            }
            if let Some(key) = key {
                results.push((key, o.value));
            }
        }
        let v = collect_instances(results, run.counted, run.each);
        match run.mode {
            ResourceMode::Managed => scope.resources.insert(run.scope_key, v),
            ResourceMode::Data => scope.data.insert(run.scope_key, v),
        };
        failed
    }
}

impl Shared<'_> {
    /// One instance's provider work (on a worker thread).
    fn run(
        &self,
        job: InstanceJob,
        pi: &ProviderInstance,
        schema: &Arc<terrane_plugin::Schema>,
        deps: &[String],
    ) -> Outcome {
        match job {
            InstanceJob::Managed {
                addr,
                config,
                create_before_destroy,
                ignore_changes,
                replace_triggered,
                site,
            } => self.managed_instance(
                &addr,
                pi,
                schema,
                config,
                deps,
                create_before_destroy,
                ignore_changes.as_ref(),
                replace_triggered,
                &site,
            ),
            InstanceJob::Data { addr, config, site } => {
                self.data_instance(&addr, pi, schema, config, &site)
            }
            InstanceJob::Orphan {
                addr,
                prior,
                reason,
                prevent_destroy,
            } => self.plan_delete(addr, pi, schema, prior, reason, prevent_destroy),
            InstanceJob::Failed { ty } => Outcome::new(Value::unknown(ty)),
        }
    }

    fn plan_delete(
        &self,
        addr: ResourceInstanceAddr,
        pi: &ProviderInstance,
        schema: &Arc<terrane_plugin::Schema>,
        prior: PriorInstance,
        reason: ActionReason,
        prevent_destroy: bool,
    ) -> Outcome {
        let mut out = Outcome::new(Value::null_dynamic());
        if prevent_destroy {
            out.diags.push(Diagnostic::error(
                "Instance cannot be destroyed",
                format!("Resource {addr} has lifecycle.prevent_destroy set, but the plan calls for this resource to be destroyed. To avoid this error and continue with the plan, either disable lifecycle.prevent_destroy or reduce the scope of the plan using the -target flag."),
            ));
        }
        let prior_val = self.refreshed(&addr, pi, &prior, None, &mut out);
        if prior_val.is_null() {
            return out;
        }
        if let Mode::Plan = self.mode {
            out.change = Some(ResourceInstanceChange {
                addr,
                provider: pi.state_addr.clone(),
                action: Action::Delete,
                reason,
                before: prior_val,
                after: Value::null(schema.block.implied_type()),
                requires_replace: Vec::new(),
                schema: schema.clone(),
                deposed: None,
                private: prior.private.clone(),
            });
        }
        out
    }

    /// The prior object, refreshed from the provider when asked to.
    pub(crate) fn refreshed(
        &self,
        addr: &ResourceInstanceAddr,
        pi: &ProviderInstance,
        prior: &PriorInstance,
        site: Option<&ConfigSite>,
        out: &mut Outcome,
    ) -> Value {
        if !self.opts.refresh || prior.value.is_null() || !matches!(self.mode, Mode::Plan) {
            return prior.value.clone();
        }
        self.emit(ApplyEvent::Refresh {
            addr: addr.clone(),
            id: crate::render::object_id(&prior.value),
        });
        let resp = pi.provider.read_resource(&ReadResourceRequest {
            type_name: addr.resource.type_name.clone(),
            current_state: prior.value.unmark_deep_value(),
            private: prior.private.clone(),
            provider_meta: None,
        });
        let mut failed = false;
        for d in resp.diagnostics.iter() {
            failed |= d.severity == terrane_plugin::Severity::Error;
            out.diags.push(provider_diagnostic(d, addr, site));
        }
        if failed {
            return prior.value.clone();
        }
        let (before, prior_marks) = prior.value.unmark_deep();
        let changed = resp.new_state.is_null() || !before.raw_equal(&resp.new_state);
        // What was sensitive stays sensitive after a refresh.
        let new_state = if prior_marks.is_empty() {
            resp.new_state
        } else {
            resp.new_state.mark_with_paths(&prior_marks)
        };
        let before = prior.value.clone();
        if let (true, Some(schema)) = (changed, pi.schema.resource(&addr.resource.type_name)) {
            out.drift = Some(ResourceInstanceChange {
                addr: addr.clone(),
                provider: pi.state_addr.clone(),
                action: if new_state.is_null() {
                    Action::Delete
                } else {
                    Action::Update
                },
                reason: ActionReason::None,
                before,
                after: new_state.clone(),
                requires_replace: Vec::new(),
                schema: Arc::new(schema.clone()),
                deposed: None,
                private: if resp.private.is_empty() {
                    prior.private.clone()
                } else {
                    resp.private.clone()
                },
            });
        }
        new_state
    }

    #[allow(clippy::too_many_arguments)]
    fn managed_instance(
        &self,
        addr: &ResourceInstanceAddr,
        pi: &ProviderInstance,
        schema: &Arc<terrane_plugin::Schema>,
        config: Value,
        deps: &[String],
        cbd: bool,
        ignore_changes: Option<&terrane_config::IgnoreChanges>,
        triggered: bool,
        site: &ConfigSite,
    ) -> Outcome {
        let ty = schema.block.implied_type();
        let mut out = Outcome::new(Value::unknown(ty.clone()));
        let mut prior = self.prior.instance(addr);
        // An `import` block's object stands in for the missing prior one.
        let mut imported_value = None;
        if prior.is_none() {
            match crate::import::prior_for_import(self, addr, pi, &mut out) {
                crate::import::ImportPrior::None => {}
                crate::import::ImportPrior::Failed => return out,
                crate::import::ImportPrior::Object(p) => {
                    imported_value = Some(p.value.clone());
                    prior = Some(p);
                }
            }
        }
        let prior_val = match (&prior, imported_value) {
            (_, Some(v)) => v,
            (Some(p), None) => self.refreshed(addr, pi, p, Some(site), &mut out),
            (None, None) => Value::null(ty.clone()),
        };
        // `ignore_changes`: the configuration takes the existing object's
        // values at the ignored paths; a create (or the create half of a
        // replacement) uses the configuration as written.
        let written = config.clone();
        let config = match ignore_changes {
            Some(ic) if !prior_val.is_null() => ignore_changes_in(config, &prior_val, ic),
            _ => config,
        };
        if self.opts.refresh_only {
            // Nothing is planned: references see the refreshed object, or
            // an unknown one where none exists yet.
            out.value = if prior_val.is_null() {
                Value::unknown(ty)
            } else {
                prior_val
            };
            return out;
        }
        let tainted = prior.as_ref().is_some_and(|p| p.tainted);
        let prior_private = prior
            .as_ref()
            .map(|p| p.private.clone())
            .unwrap_or_default();
        match &self.mode {
            Mode::Plan => {
                let by_request = self.opts.replace.iter().any(|a| *a == addr.to_string());
                let Some(pc) = self.plan_change(
                    addr,
                    pi,
                    &prior_val,
                    &config,
                    prior_private,
                    ignore_changes,
                    site,
                    &mut out,
                ) else {
                    return out;
                };
                let PlannedChange {
                    mut action,
                    mut planned,
                    mut requires_replace,
                    mut private,
                } = pc;
                let mut reason = ActionReason::None;
                if action != Action::Create
                    && (tainted || by_request || triggered || action.is_replace())
                {
                    reason = if tainted {
                        ActionReason::ReplaceBecauseTainted
                    } else if by_request {
                        ActionReason::ReplaceByRequest
                    } else if triggered {
                        ActionReason::ReplaceByTriggers
                    } else {
                        ActionReason::ReplaceBecauseCannotUpdate
                    };
                    action = if cbd {
                        Action::CreateThenDelete
                    } else {
                        Action::DeleteThenCreate
                    };
                    // The replacement is planned as a create.
                    if let Some(create) = self.plan_change(
                        addr,
                        pi,
                        &Value::null(ty.clone()),
                        &written,
                        Vec::new(),
                        None,
                        site,
                        &mut out,
                    ) {
                        planned = create.planned;
                        if requires_replace.is_empty() {
                            requires_replace = create.requires_replace;
                        }
                        private = create.private;
                    }
                }
                out.value = planned.clone();
                out.change = Some(ResourceInstanceChange {
                    addr: addr.clone(),
                    provider: pi.state_addr.clone(),
                    action,
                    reason,
                    before: prior_val,
                    after: planned,
                    requires_replace,
                    schema: schema.clone(),
                    deposed: None,
                    private,
                });
                out
            }
            Mode::Apply(plan) => {
                let change = self
                    .change_index
                    .get(addr)
                    .and_then(|&i| plan.resource_changes.get(i));
                let Some(change) = change else {
                    out.value = if prior_val.is_null() {
                        Value::unknown(ty)
                    } else {
                        prior_val
                    };
                    return out;
                };
                let action = change.action;
                match action {
                    Action::NoOp | Action::Read | Action::Delete => {
                        out.value = prior_val;
                        out
                    }
                    Action::Create
                    | Action::Update
                    | Action::DeleteThenCreate
                    | Action::CreateThenDelete => {
                        let (base, config) = if action == Action::Update {
                            (prior_val.clone(), config)
                        } else {
                            (Value::null(ty.clone()), written)
                        };
                        let Some(PlannedChange {
                            planned, private, ..
                        }) = self.plan_change(
                            addr,
                            pi,
                            &base,
                            &config,
                            prior_private,
                            ignore_changes,
                            site,
                            &mut out,
                        )
                        else {
                            return out;
                        };
                        let shown = if action == Action::Update {
                            Action::Update
                        } else {
                            Action::Create
                        };
                        out.value = self.apply_one(
                            addr,
                            pi,
                            schema,
                            shown,
                            &base,
                            &planned,
                            &config,
                            private,
                            deps,
                            cbd,
                            site,
                            &mut out.diags,
                        );
                        out
                    }
                }
            }
        }
    }

    /// PlanResourceChange for one instance, and the action it implies.
    #[allow(clippy::too_many_arguments)]
    fn plan_change(
        &self,
        addr: &ResourceInstanceAddr,
        pi: &ProviderInstance,
        prior: &Value,
        config: &Value,
        prior_private: Vec<u8>,
        ignore_changes: Option<&terrane_config::IgnoreChanges>,
        site: &ConfigSite,
        out: &mut Outcome,
    ) -> Option<PlannedChange> {
        let (config_plain, config_marks) = config.unmark_deep();
        let schema = pi.schema.resource(&addr.resource.type_name)?;
        let proposed = crate::objchange::proposed_new(&schema.block, prior, &config_plain);
        let resp = pi
            .provider
            .plan_resource_change(&PlanResourceChangeRequest {
                type_name: addr.resource.type_name.clone(),
                prior_state: prior.unmark_deep_value(),
                proposed_new_state: proposed,
                config: config_plain,
                prior_private,
                provider_meta: None,
            });
        let mut failed = false;
        for d in resp.diagnostics.iter() {
            failed |= d.severity == terrane_plugin::Severity::Error;
            out.diags
                .push(site.provider_diagnostic(d, &addr.to_string()));
        }
        if failed {
            return None;
        }
        let mut planned = resp.planned_state;
        // Legacy-SDK providers may plan values for arguments the
        // configuration left unset (defaults such as aws_s3_bucket's
        // `acl = "private"`), undoing `ignore_changes`; as Terraform does
        // for them, the ignored paths take the prior values once more.
        if resp.legacy_type_system && !prior.is_null() && !planned.is_null() {
            if let Some(ic) = ignore_changes {
                planned = ignore_changes_in(planned, &prior.unmark_deep_value(), ic);
            }
        }
        let action = if prior.is_null() {
            Action::Create
        } else if planned.is_null() {
            Action::Delete
        } else if planned.is_wholly_known() && prior.unmark_deep_value().raw_equal(&planned) {
            Action::NoOp
        } else if !resp.requires_replace.is_empty()
            && replace_paths_changed(prior, &planned, &resp.requires_replace)
        {
            Action::DeleteThenCreate
        } else {
            Action::Update
        };
        // As Terraform: a create has nothing to replace, and only the
        // paths whose values changed force a replacement (SDKv2 plugins
        // return every ForceNew path, changed or not).
        let requires_replace = if prior.is_null() {
            Vec::new()
        } else {
            resp.requires_replace
                .into_iter()
                .filter(|p| replace_paths_changed(prior, &planned, std::slice::from_ref(p)))
                .collect()
        };
        // Values that came from sensitive ones in the configuration stay
        // sensitive in the plan (and so in its rendering and the state).
        let planned = if config_marks.is_empty() {
            planned
        } else {
            planned.mark_with_paths(&config_marks)
        };
        Some(PlannedChange {
            action,
            planned,
            requires_replace,
            private: resp.planned_private,
        })
    }

    /// ApplyResourceChange for one instance. The new object is recorded
    /// (journaled) before the completion is reported.
    #[allow(clippy::too_many_arguments)]
    fn apply_one(
        &self,
        addr: &ResourceInstanceAddr,
        pi: &ProviderInstance,
        schema: &Arc<terrane_plugin::Schema>,
        action: Action,
        prior: &Value,
        planned: &Value,
        config: &Value,
        private: Vec<u8>,
        deps: &[String],
        cbd: bool,
        site: &ConfigSite,
        diags: &mut Diagnostics,
    ) -> Value {
        let id = prior
            .get_attr("id")
            .and_then(|v| v.as_str().map(str::to_string));
        self.emit(ApplyEvent::Start {
            addr: addr.clone(),
            action,
            id: id.clone(),
        });
        let started = Instant::now();
        let resp = pi
            .provider
            .apply_resource_change(&ApplyResourceChangeRequest {
                type_name: addr.resource.type_name.clone(),
                prior_state: prior.unmark_deep_value(),
                planned_state: planned.unmark_deep_value(),
                config: config.unmark_deep_value(),
                planned_private: private,
                provider_meta: None,
            });
        let mut failed = false;
        for d in resp.diagnostics.iter() {
            failed |= d.severity == terrane_plugin::Severity::Error;
            diags.push(site.provider_diagnostic(d, &addr.to_string()));
        }
        // The new object keeps the planned value's sensitive marks, so the
        // state records them as `sensitive_attributes`.
        let (_, planned_marks) = planned.unmark_deep();
        let new = if planned_marks.is_empty() {
            resp.new_state
        } else {
            resp.new_state.mark_with_paths(&planned_marks)
        };
        if let Some(sb) = &self.new_state {
            let inst = (!new.is_null()).then(|| {
                // A create that failed but left an object is tainted.
                let tainted = failed && action == Action::Create;
                value_to_instance(&new, schema, &addr.key, deps, tainted, &resp.private, cbd)
            });
            let mut sb = lock(sb);
            match inst {
                None => sb.remove_instance(addr, None),
                Some(inst) => sb.set_instance(addr, &pi.state_addr, inst),
            }
        }
        if failed {
            self.emit(ApplyEvent::Failed {
                addr: addr.clone(),
                action,
            });
        } else {
            self.emit(ApplyEvent::Done {
                addr: addr.clone(),
                action,
                elapsed_secs: started.elapsed().as_secs(),
                id: new
                    .get_attr("id")
                    .and_then(|v| v.as_str().map(str::to_string)),
            });
        }
        new
    }

    fn data_instance(
        &self,
        addr: &ResourceInstanceAddr,
        pi: &ProviderInstance,
        schema: &Arc<terrane_plugin::Schema>,
        config: Value,
        site: &ConfigSite,
    ) -> Outcome {
        let ty = schema.block.implied_type();
        let mut out = Outcome::new(Value::unknown(ty.clone()));
        let (config_plain, _) = config.unmark_deep();
        if !config_plain.is_wholly_known() {
            if let Mode::Plan = self.mode {
                out.change = Some(ResourceInstanceChange {
                    addr: addr.clone(),
                    provider: pi.state_addr.clone(),
                    action: Action::Read,
                    reason: ActionReason::ReadBecauseConfigUnknown,
                    before: Value::null(ty.clone()),
                    after: crate::objchange::unknown_computed(&schema.block, &config_plain),
                    requires_replace: Vec::new(),
                    schema: schema.clone(),
                    deposed: None,
                    private: Vec::new(),
                });
            }
            return out;
        }
        let resp = pi.provider.read_data_source(&ReadDataSourceRequest {
            type_name: addr.resource.type_name.clone(),
            config: config_plain,
            provider_meta: None,
        });
        // Every diagnostic is reported, each pointing into the block with
        // the instance's address, as Terraform does.
        let mut failed = false;
        for d in resp.diagnostics.iter() {
            failed |= d.severity == terrane_plugin::Severity::Error;
            out.diags
                .push(site.provider_diagnostic(d, &addr.to_string()));
        }
        if failed {
            return out;
        }
        if let Some(sb) = &self.new_state {
            let inst = value_to_instance(&resp.state, schema, &addr.key, &[], false, &[], false);
            lock(sb).set_instance(addr, &pi.state_addr, inst);
        }
        out.value = resp.state;
        out
    }

    pub(crate) fn emit(&self, e: ApplyEvent) {
        if let Some(cb) = self.events {
            if let Ok(mut f) = cb.lock() {
                f(e)
            }
        }
    }
}

/// Where a resource block's provider diagnostics point: an attribute the
/// provider names (its expression), else the block's opening brace.
pub(crate) struct ConfigSite {
    file: Arc<terrane_hcl::SourceFile>,
    open_brace: terrane_hcl::Span,
    /// Top-level arguments: name and expression span.
    arguments: Vec<(String, terrane_hcl::Span)>,
}

impl ConfigSite {
    pub(crate) fn of(r: &Resource) -> ConfigSite {
        ConfigSite::of_body(&r.config)
    }

    pub(crate) fn of_body(src: &terrane_config::SrcBody) -> ConfigSite {
        // The body's span starts just after its opening brace.
        let body = &src.body;
        let brace_end = (body.span.start as usize).max(1);
        ConfigSite {
            file: src.file.clone(),
            open_brace: terrane_hcl::Span::new(brace_end - 1, brace_end),
            arguments: body
                .attributes()
                .map(|a| (a.name.name.to_string(), a.expr.span))
                .collect(),
        }
    }

    /// A provider's diagnostic with the instance address and the source
    /// range it is about.
    pub(crate) fn provider_diagnostic(
        &self,
        d: &terrane_plugin::Diagnostic,
        addr: &str,
    ) -> Diagnostic {
        let base = match d.severity {
            terrane_plugin::Severity::Error => {
                Diagnostic::error(d.summary.clone(), d.detail.clone())
            }
            terrane_plugin::Severity::Warning => {
                Diagnostic::warning(d.summary.clone(), d.detail.clone())
            }
        };
        let first_attr = d.attribute.as_ref().and_then(|p| match p.0.first() {
            Some(terrane_value::PathStep::GetAttr(name)) => Some(name.as_str()),
            _ => None,
        });
        let span = first_attr
            .and_then(|name| self.arguments.iter().find(|(n, _)| n == name))
            .map_or(self.open_brace, |(_, span)| *span);
        base.with_address(addr).with_subject(&self.file, span)
    }
}

/// A provider's diagnostic about one instance: located in its block when
/// the instance has configuration, unlocated otherwise (an orphan).
fn provider_diagnostic(
    d: &terrane_plugin::Diagnostic,
    addr: &ResourceInstanceAddr,
    site: Option<&ConfigSite>,
) -> Diagnostic {
    match site {
        Some(site) => site.provider_diagnostic(d, &addr.to_string()),
        None => plain_provider_diagnostic(d),
    }
}

/// A provider's diagnostic without a source location.
fn plain_provider_diagnostic(d: &terrane_plugin::Diagnostic) -> Diagnostic {
    match d.severity {
        terrane_plugin::Severity::Error => Diagnostic::error(d.summary.clone(), d.detail.clone()),
        terrane_plugin::Severity::Warning => {
            Diagnostic::warning(d.summary.clone(), d.detail.clone())
        }
    }
}

/// Locks a mutex, carrying on past a panic elsewhere (the data is a
/// state being built; a poisoned lock still holds every recorded change).
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What the provider planned for one instance.
struct PlannedChange {
    action: Action,
    planned: Value,
    requires_replace: Vec<terrane_value::Path>,
    private: Vec<u8>,
}

/// A prior object of one instance.
#[derive(Clone, Debug)]
pub struct PriorInstance {
    pub value: Value,
    pub private: Vec<u8>,
    pub tainted: bool,
}

/// A `replace_triggered_by` entry as (type, name, instance key if one is
/// given, attribute names): `null_resource.a`, `null_resource.a[0].id`,
/// `null_resource.a[count.index]`.
fn trigger_reference(
    expr: &terrane_hcl::ast::Expr,
    ctx: &EvalContext,
    file: &Arc<terrane_hcl::SourceFile>,
) -> Option<(String, String, Option<InstanceKey>, Vec<String>)> {
    use terrane_hcl::ast::{ExprKind, IndexKey as K, TraversalStep as S};
    let attrs_of = |steps: &[S]| -> Option<Vec<String>> {
        steps
            .iter()
            .map(|s| match s {
                S::Attr(id) => Some(id.name.to_string()),
                S::Index { .. } => None,
            })
            .collect()
    };
    match &expr.kind {
        ExprKind::Traversal { root, steps } => {
            let Some(S::Attr(name)) = steps.first() else {
                return None;
            };
            let (key, rest) = match steps.get(1) {
                Some(S::Index { key, .. }) => (
                    Some(match key {
                        K::Number(n) => InstanceKey::Int(n.parse().ok()?),
                        K::String(s) => InstanceKey::Str(s.to_string()),
                    }),
                    &steps[2..],
                ),
                _ => (None, &steps[1..]),
            };
            Some((
                root.name.to_string(),
                name.name.to_string(),
                key,
                attrs_of(rest)?,
            ))
        }
        ExprKind::RelativeTraversal { source, steps } => {
            let (ty, name, key, mut attrs) = trigger_reference(source, ctx, file)?;
            attrs.extend(attrs_of(steps)?);
            Some((ty, name, key, attrs))
        }
        ExprKind::Index {
            collection, key, ..
        } => {
            let (ty, name, None, attrs) = trigger_reference(collection, ctx, file)? else {
                return None;
            };
            if !attrs.is_empty() {
                return None;
            }
            let (k, d) = eval_expr(key, &ctx.clone().with_file(file));
            if d.has_errors() {
                return None;
            }
            let (k, _) = k.unmark_deep();
            let key = match k.kind() {
                Kind::String(s) => InstanceKey::Str(s.to_string()),
                Kind::Number(_) => InstanceKey::Int(is_known_int(&k)?),
                _ => return None,
            };
            Some((ty, name, Some(key), attrs))
        }
        _ => None,
    }
}

/// Evaluates `precondition` / `postcondition` / `assert` rules: a rule
/// whose condition is false reports `summary` (an error, or a warning for
/// check blocks) with its error message, at the condition; an unknown
/// result is left for apply. Returns whether any rule failed.
pub(crate) fn check_rules(
    rules: &[terrane_config::CheckRule],
    ctx: &EvalContext,
    summary: &str,
    error: bool,
    diags: &mut Diagnostics,
) -> bool {
    let mut failed = false;
    for rule in rules {
        let c = ctx.clone().with_file(&rule.condition.file);
        let (v, d) = eval_expr(&rule.condition.expr, &c);
        if d.has_errors() {
            diags.extend(d);
            failed = true;
            continue;
        }
        let (v, _) = v.unmark_deep();
        if !v.is_known() {
            continue;
        }
        let ok = match terrane_value::convert(&v, &Type::Bool) {
            Ok(b) if !b.is_null() => b.as_bool() != Some(false),
            _ => {
                diags.push(
                    Diagnostic::error(
                        "Invalid condition result",
                        "Condition expression must return either true or false.",
                    )
                    .with_subject(&rule.condition.file, rule.condition.expr.span),
                );
                failed = true;
                continue;
            }
        };
        if ok {
            continue;
        }
        let message = match &rule.error_message {
            Some(m) => {
                let (mv, _) = eval_expr(&m.expr, &ctx.clone().with_file(&m.file));
                mv.unmark_deep()
                    .0
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_default()
            }
            None => String::new(),
        };
        let d = if error {
            Diagnostic::error(summary, message)
        } else {
            Diagnostic::warning(summary, message)
        };
        diags.push(d.with_subject(&rule.condition.file, rule.condition.expr.span));
        failed |= error;
    }
    failed
}

/// The configuration with the prior object's values at the paths
/// `ignore_changes` lists (all of it for `all`).
fn ignore_changes_in(
    config: Value,
    prior: &Value,
    ignore: &terrane_config::IgnoreChanges,
) -> Value {
    match ignore {
        terrane_config::IgnoreChanges::All => prior.clone(),
        terrane_config::IgnoreChanges::Paths(paths) => {
            let mut config = config;
            for t in paths {
                let mut steps: Vec<IgnoreStep> = vec![IgnoreStep::Attr(t.root.name.to_string())];
                for s in &t.steps {
                    steps.push(match s {
                        terrane_hcl::ast::TraversalStep::Attr(id) => {
                            IgnoreStep::Attr(id.name.to_string())
                        }
                        terrane_hcl::ast::TraversalStep::Index { key, .. } => match key {
                            terrane_hcl::ast::IndexKey::String(k) => IgnoreStep::Key(k.to_string()),
                            terrane_hcl::ast::IndexKey::Number(n) => IgnoreStep::Key(n.to_string()),
                        },
                    });
                }
                config = replace_at(&config, prior, &steps);
            }
            config
        }
    }
}

enum IgnoreStep {
    Attr(String),
    /// A map key or list index (as written).
    Key(String),
}

/// `config` with `prior`'s value at `steps` (an absent prior element
/// removes the configured one).
fn replace_at(config: &Value, prior: &Value, steps: &[IgnoreStep]) -> Value {
    let Some((step, rest)) = steps.split_first() else {
        return prior.clone();
    };
    if !config.is_known() || config.is_null() {
        return config.clone();
    }
    let ty = config.ty().clone();
    match (step, config.kind()) {
        (IgnoreStep::Attr(name), Kind::Object(attrs)) => {
            let mut attrs = attrs.clone();
            if let Some(c) = attrs.get(name).cloned() {
                let p = prior
                    .get_attr(name)
                    .cloned()
                    .unwrap_or_else(|| Value::null(c.ty().clone()));
                attrs.insert(name.clone(), replace_at(&c, &p, rest));
            }
            Value::object(attrs.into()).with_marks(config.marks())
        }
        (IgnoreStep::Key(k) | IgnoreStep::Attr(k), Kind::Map(elems)) => {
            let mut elems = elems.clone();
            let prior_elem = match prior.kind() {
                Kind::Map(p) => p.get(k).cloned(),
                _ => None,
            };
            match (elems.get(k).cloned(), prior_elem) {
                (Some(c), Some(p)) => {
                    elems.insert(k.clone(), replace_at(&c, &p, rest));
                }
                (None, Some(p)) if rest.is_empty() => {
                    elems.insert(k.clone(), p);
                }
                (Some(_), None) if rest.is_empty() => {
                    elems.remove(k);
                }
                _ => {}
            }
            let ety = match &ty {
                Type::Map(e) => (**e).clone(),
                _ => Type::Dynamic,
            };
            if elems.is_empty() {
                Value::map_empty(ety)
            } else {
                Value::map(ety, elems.into())
            }
        }
        (IgnoreStep::Key(k), Kind::List(elems)) => {
            let (Ok(i), Kind::List(pe)) = (k.parse::<usize>(), prior.kind()) else {
                return config.clone();
            };
            let mut elems = elems.to_vec();
            if let (Some(c), Some(p)) = (elems.get(i).cloned(), pe.get(i)) {
                elems[i] = replace_at(&c, p, rest);
            }
            let ety = match &ty {
                Type::List(e) => (**e).clone(),
                _ => Type::Dynamic,
            };
            Value::list(ety, elems)
        }
        _ => config.clone(),
    }
}

fn replace_paths_changed(prior: &Value, planned: &Value, paths: &[terrane_value::Path]) -> bool {
    paths.iter().any(|p| {
        let a = prior.get_path(p).ok();
        let b = planned.get_path(p).ok();
        match (a, b) {
            (Some(a), Some(b)) => {
                !b.is_wholly_known() || !a.unmark_deep_value().raw_equal(&b.unmark_deep_value())
            }
            _ => true,
        }
    })
}

pub(crate) fn empty_object(ty: &Type) -> Value {
    match ty {
        Type::Object { attrs, .. } => Value::object(
            attrs
                .iter()
                .map(|(k, t)| (k.clone(), Value::null(t.clone())))
                .collect(),
        ),
        other => Value::null(other.clone()),
    }
}

/// Provider blocks carry `alias` and `version`, which are Terraform's.
fn strip_provider_meta(b: &terrane_config::SrcBody) -> terrane_config::SrcBody {
    let mut body = b.body.clone();
    body.items.retain(|i| match i {
        terrane_hcl::ast::Structure::Attribute(a) => {
            !matches!(a.name.as_str(), "alias" | "version")
        }
        _ => true,
    });
    terrane_config::SrcBody {
        file: b.file.clone(),
        body,
    }
}

/// The value references see for a resource or module with instances.
fn collect_instances(results: Vec<(InstanceKey, Value)>, counted: bool, each: bool) -> Value {
    if counted {
        Value::tuple(results.into_iter().map(|(_, v)| v).collect())
    } else if each {
        Value::object(
            results
                .into_iter()
                .map(|(k, v)| {
                    let key = match k {
                        InstanceKey::Str(s) => s,
                        other => other.to_string(),
                    };
                    (key, v)
                })
                .collect(),
        )
    } else {
        results
            .into_iter()
            .next()
            .map(|(_, v)| v)
            .unwrap_or_else(Value::unknown_dynamic)
    }
}

/// Addresses of the resources a resource depends on (directly or through
/// locals, variables and other resources), as recorded in state; from the
/// module's dependency map computed once per module walk.
fn dependencies(deps: &crate::graph::Deps, r: &Resource) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut stack: Vec<Node> = deps
        .get(&Node::Resource(r.mode, r.addr()))
        .map(|d| d.iter().cloned().collect())
        .unwrap_or_default();
    let mut seen = BTreeSet::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Node::Resource(_, k) = &n {
            out.insert(k.clone());
        }
        if let Some(d) = deps.get(&n) {
            stack.extend(d.iter().cloned());
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod ignore_changes_tests {
    use super::*;

    fn ignore(names: &[&str]) -> terrane_config::IgnoreChanges {
        let file = terrane_hcl::SourceFile::new("main.tf", "");
        let span = terrane_hcl::Span::default();
        terrane_config::IgnoreChanges::Paths(
            names
                .iter()
                .map(|name| terrane_config::Traversal {
                    root: terrane_hcl::ast::Ident {
                        name: (*name).into(),
                        span,
                    },
                    steps: Vec::new(),
                    range: terrane_config::DeclRange::new(&file, span),
                })
                .collect(),
        )
    }

    fn bucket(acl: Option<&str>, force_destroy: Option<bool>, bucket: &str) -> Value {
        Value::object_from([
            ("bucket", Value::string(bucket)),
            (
                "acl",
                acl.map(Value::string)
                    .unwrap_or_else(|| Value::null(Type::String)),
            ),
            (
                "force_destroy",
                force_destroy
                    .map(Value::bool)
                    .unwrap_or_else(|| Value::null(Type::Bool)),
            ),
        ])
    }

    /// An imported aws_s3_bucket has `acl` and `force_destroy` null; the
    /// legacy SDK plans their defaults. With both ignored, the planned
    /// object takes the prior nulls back, so it equals the prior: no-op.
    #[test]
    fn ignored_defaults_of_a_legacy_plan_take_the_prior_nulls() {
        let prior = bucket(None, None, "b");
        let planned = bucket(Some("private"), Some(false), "b");
        let ic = ignore(&["acl", "force_destroy"]);
        let fixed = ignore_changes_in(planned, &prior, &ic);
        assert!(fixed.raw_equal(&prior), "{fixed:?}");
    }

    /// Prior null at the attribute, configuration sets a value: the
    /// configuration's value is replaced by null (Terraform's rule: the
    /// prior value wins whatever it is); unlisted attributes keep the
    /// configured values.
    #[test]
    fn a_null_prior_attribute_replaces_the_configured_value() {
        let prior = bucket(None, Some(true), "old");
        let config = bucket(Some("public-read"), Some(false), "new");
        let fixed = ignore_changes_in(config, &prior, &ignore(&["acl", "force_destroy"]));
        assert_eq!(fixed, bucket(None, Some(true), "new"));
    }
}
