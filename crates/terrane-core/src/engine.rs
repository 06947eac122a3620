//! Entry points: plan and apply over a loaded configuration and a prior
//! state.

use crate::addrs::ModuleInstance;
use crate::plan::{Action, Plan, ResourceInstanceChange};
use crate::pool::Pool;
use crate::state::{PriorState, StateBuilder};
use crate::walk::{
    halted_diagnostic, ApplyEvent, Mode, PlanOptions, ProviderFactory, ProviderInstance, Shared,
    Walker,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use terrane_config::{ModuleTree, ResourceMode};
use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_plugin::ApplyResourceChangeRequest;
use terrane_state::State;
use terrane_value::Value;

/// A configuration, its root variable values and the prior state.
pub struct Engine<'a> {
    pub tree: &'a ModuleTree,
    pub factory: &'a dyn ProviderFactory,
    pub root_vars: BTreeMap<String, Value>,
    pub prior_state: Option<State>,
}

impl<'a> Engine<'a> {
    fn shared<'w>(&self, prior: &'w PriorState, opts: &PlanOptions, mode: Mode<'w>) -> Shared<'w> {
        Shared {
            prior,
            opts: opts.clone(),
            mode,
            new_state: None,
            events: None,
            change_index: HashMap::new(),
        }
    }

    fn walker<'w, 'p>(&'w self, shared: &'w Shared<'w>, pool: &'p Pool<'w>) -> Walker<'w, 'p>
    where
        'a: 'w,
    {
        Walker {
            factory: self.factory,
            root_vars: self.root_vars.clone(),
            shared,
            pool,
            diags: Diagnostics::new(),
            changes: Vec::new(),
            outputs: Vec::new(),
            visited: Default::default(),
            providers: BTreeMap::new(),
            failed_providers: Default::default(),
            drift: Vec::new(),
            provider_configs: BTreeMap::new(),
            stop_sent: false,
            // `-target` plans what the targets depend on, in any module.
            target_needed: if shared.opts.destroy || shared.opts.targets.is_empty() {
                Default::default()
            } else {
                crate::targets::needed_resources(self.tree, &shared.opts.targets)
            },
            imported: Vec::new(),
        }
    }

    /// Plans the changes that would make the infrastructure match the
    /// configuration (or, with `destroy`, remove everything). `events`
    /// hears of each refresh as it starts.
    pub fn plan(
        &self,
        opts: &PlanOptions,
        events: Option<&Mutex<dyn FnMut(ApplyEvent) + Send>>,
    ) -> (Plan, Diagnostics) {
        let prior = PriorState::from_state(self.prior_state.as_ref());
        // `import` blocks join the targets given (the `import` command's).
        let mut opts = opts.clone();
        // `destroy -target` also destroys what depends on the targets.
        if opts.destroy && !opts.targets.is_empty() {
            opts.targets = crate::targets::with_destroy_dependents(
                self.tree,
                self.prior_state.as_ref(),
                &opts.targets,
            );
        }
        let mut import_diags = Diagnostics::new();
        if !opts.import_only && !opts.destroy && !opts.refresh_only {
            let (targets, d) =
                crate::import::block_targets(self.tree, &self.root_vars, &opts.workspace);
            import_diags = d;
            // A target already in state needs no import (Terraform 1.5).
            opts.imports.extend(
                targets
                    .into_iter()
                    .filter(|t| prior.instance(&t.addr).is_none_or(|p| p.value.is_null())),
            );
        }
        if import_diags.has_errors() {
            return (Plan::default(), import_diags);
        }
        // `-target`: imports outside the targets wait for a later plan.
        if !opts.import_only && !opts.targets.is_empty() {
            let targets = opts.targets.clone();
            opts.imports
                .retain(|t| targets.iter().any(|x| x.contains(&t.addr)));
        }
        let opts = &opts;
        let mut shared = self.shared(&prior, opts, Mode::Plan);
        shared.events = events;
        let shared = shared;
        let (
            mut changes,
            outputs,
            mut drift,
            mut diags,
            providers,
            visited,
            provider_configs,
            imported,
        ) = std::thread::scope(|s| {
            let pool = Pool::start(s, opts.workers());
            let mut w = self.walker(&shared, &pool);
            w.module(
                self.tree,
                &ModuleInstance::root(),
                BTreeMap::new(),
                &BTreeMap::new(),
            );
            // Orphans of a default provider nothing configures any more.
            for (addr, provider) in prior.resources_not_in(&w.visited) {
                let Some(source) = provider
                    .strip_prefix("provider[\"")
                    .and_then(|s| s.strip_suffix("\"]"))
                else {
                    continue;
                };
                if addr.mode == ResourceMode::Managed
                    && !w.providers.values().any(|p| p.state_addr == provider)
                {
                    w.implied_root_provider(&self.tree.module, source);
                }
            }
            (
                w.changes,
                w.outputs,
                w.drift,
                w.diags,
                w.providers,
                w.visited,
                w.provider_configs,
                w.imported,
            )
        });
        // Resources in state whose configuration is gone entirely.
        for (addr, _provider) in prior.resources_not_in(&visited) {
            if addr.mode == ResourceMode::Data {
                continue;
            }
            let Some(pi) = providers
                .values()
                .find(|p| p.state_addr.ends_with(&_provider) || _provider.ends_with(&p.state_addr))
                .cloned()
            else {
                diags.push(Diagnostic::error(
                    "Provider configuration not present",
                    format!("To work with {addr} its original provider configuration at {_provider} is required, but it has been removed. This occurs when a provider configuration is removed while objects created by that provider still exist in the state. Re-add the provider configuration to destroy {addr}, after which you can remove the provider configuration again."),
                ));
                continue;
            };
            let Some(schema) = pi.schema.resource(&addr.type_name).cloned() else {
                continue;
            };
            prior.set_type(&addr.type_name, &pi.state_addr, schema.block.implied_type());
            for (key, inst) in prior.instances_of(&addr) {
                let iaddr = addr.instance(key.clone());
                if inst.value.is_null()
                    || (!opts.targets.is_empty()
                        && !opts.targets.iter().any(|t| t.contains(&iaddr)))
                {
                    continue;
                }
                // Refreshed like any other object: one already gone needs
                // no deletion.
                let mut refresh = crate::walk::Outcome::new(Value::null_dynamic());
                let before = shared.refreshed(&iaddr, &pi, &inst, None, &mut refresh);
                diags.extend(refresh.diags);
                drift.extend(refresh.drift);
                if before.is_null() {
                    continue;
                }
                changes.push(ResourceInstanceChange {
                    addr: addr.instance(key),
                    provider: pi.state_addr.clone(),
                    action: Action::Delete,
                    reason: crate::plan::ActionReason::DeleteBecauseNoResourceConfig,
                    before,
                    after: Value::null(schema.block.implied_type()),
                    requires_replace: Vec::new(),
                    schema: std::sync::Arc::new(schema.clone()),
                    deposed: None,
                    private: inst.private,
                });
            }
        }
        if opts.interrupted() {
            diags.push(halted_diagnostic());
        }
        let mut plan = Plan {
            resource_changes: changes,
            output_changes: outputs,
            destroy: opts.destroy,
            drift,
            provider_configs,
            refresh_only: opts.refresh_only,
            forgotten: Vec::new(),
            imports: imported,
        };
        diags.extend(import_diags);
        if !diags.has_errors() {
            diags.extend(crate::import::unvisited_targets(opts, &plan.imports));
        }
        if opts.refresh_only {
            plan.resource_changes.clear();
        }
        plan.drift.sort_by(|a, b| a.addr.cmp(&b.addr));
        plan.imports.sort_by(|a, b| a.addr.cmp(&b.addr));
        plan.resource_changes.sort_by(|a, b| a.addr.cmp(&b.addr));
        plan.output_changes.sort_by(|a, b| a.name.cmp(&b.name));
        (plan, diags)
    }

    /// Carries out a plan: deletions first (dependents before what they
    /// depend on), then creates and updates in dependency order, then the
    /// deposed halves of create-before-destroy replacements. Independent
    /// operations run concurrently (`opts.parallelism`). Returns the new
    /// state; every change also goes to `journal` as it happens, before it
    /// is reported through `events`.
    pub fn apply(
        &self,
        plan: &Plan,
        opts: &PlanOptions,
        journal: Option<terrane_state::journal::Journal>,
        events: &Mutex<dyn FnMut(ApplyEvent) + Send>,
    ) -> (State, Diagnostics, Option<terrane_state::journal::Journal>) {
        let base = self.prior_state.clone().unwrap_or_default();
        // What refreshing found is recorded first; the walk starts from it.
        let refreshed = crate::state::with_drift(&base, &plan.drift);
        let prior = PriorState::from_state(Some(&refreshed));
        let mut shared = self.shared(&prior, opts, Mode::Apply(plan));
        shared.change_index = plan
            .resource_changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.deposed.is_none())
            .map(|(i, c)| (c.addr.clone(), i))
            .collect();
        let mut builder = StateBuilder::new(base, journal);
        crate::state::record_drift(&mut builder, &refreshed, &plan.drift);
        // `removed { lifecycle { destroy = false } }`: out of state, untouched.
        for c in &plan.forgotten {
            builder.remove_instance(&c.addr, c.deposed.clone());
        }
        // Imported objects enter the state before anything acts on them.
        crate::import::record_planned(&mut builder, plan, opts.import_events.as_ref());
        shared.new_state = Some(Mutex::new(builder));
        shared.events = Some(events);
        let shared = shared;
        let mut diags = std::thread::scope(|s| {
            let pool = Pool::start(s, opts.workers());
            let mut w = self.walker(&shared, &pool);
            let deletes_ok = self.run_deletes(&mut w, plan);
            if deletes_ok && !opts.interrupted() {
                w.module(
                    self.tree,
                    &ModuleInstance::root(),
                    BTreeMap::new(),
                    &BTreeMap::new(),
                );
            }
            let mut cbd_providers = None;
            for c in plan
                .resource_changes
                .iter()
                .filter(|c| c.action == Action::CreateThenDelete)
            {
                if opts.interrupted() {
                    break;
                }
                // The old object was replaced in state by the new one;
                // destroy the old object through the provider.
                let mut d = Diagnostics::new();
                let started = std::time::Instant::now();
                let providers = cbd_providers
                    .get_or_insert_with(|| self.delete_providers(plan, &w.providers, &mut d));
                if self.destroy_object(providers, &shared, c, &mut d) {
                    shared.emit(ApplyEvent::Done {
                        addr: c.addr.clone(),
                        action: Action::Delete,
                        elapsed_secs: started.elapsed().as_secs(),
                        id: None,
                    });
                }
                w.diags.extend(d);
            }
            w.diags
        });
        let Some(builder) = shared.new_state else {
            return (State::default(), diags, None);
        };
        let mut builder = builder.into_inner().unwrap_or_else(|e| e.into_inner());
        if plan.destroy {
            // Data sources leave the state with everything else.
            let data: Vec<crate::addrs::ResourceInstanceAddr> = builder
                .base()
                .resources
                .iter()
                .filter(|r| r.mode == terrane_state::Mode::Data)
                .flat_map(|r| {
                    let addr = crate::addrs::ResourceAddr {
                        module: crate::state::parse_module(&r.module),
                        mode: ResourceMode::Data,
                        type_name: r.type_.clone(),
                        name: r.name.clone(),
                    };
                    r.instances
                        .iter()
                        .map(move |i| addr.instance(crate::state::instance_key_of(&i.index_key)))
                })
                .collect();
            for a in data {
                builder.remove_instance(&a, None);
            }
        }
        let (state, journal, journal_error) = builder.finish();
        if let Some(e) = journal_error {
            diags.push(Diagnostic::error("Failed to record state changes", e));
        }
        if opts.interrupted() {
            diags.push(halted_diagnostic());
        }
        (state, diags, journal)
    }

    /// Runs the plan's deletions: an instance is destroyed once every
    /// instance depending on it (per the state's `dependencies`) is gone;
    /// independent deletions run concurrently. A failed deletion keeps
    /// what it depends on. Returns whether all succeeded.
    fn run_deletes<'e>(&'e self, w: &mut Walker<'e, '_>, plan: &'e Plan) -> bool {
        let mut deletes: Vec<&ResourceInstanceChange> = plan
            .resource_changes
            .iter()
            .filter(|c| matches!(c.action, Action::Delete | Action::DeleteThenCreate))
            .collect();
        if deletes.is_empty() {
            return true;
        }
        order_deletes(&mut deletes, self.prior_state.as_ref());
        // Group by resource, in deletion order.
        let mut groups: Vec<(String, Vec<&ResourceInstanceChange>)> = Vec::new();
        for c in deletes {
            let r = c.addr.resource.to_string();
            match groups.last_mut() {
                Some((last, v)) if *last == r => v.push(c),
                _ => groups.push((r, vec![c])),
            }
        }
        let position: HashMap<&str, usize> = groups
            .iter()
            .enumerate()
            .map(|(i, (r, _))| (r.as_str(), i))
            .collect();
        // blockers[i]: groups that must finish before group i (those that
        // depend on it); unblocks[j]: groups waiting for group j.
        let deps = state_dependencies(self.prior_state.as_ref());
        let mut blockers = vec![0usize; groups.len()];
        let mut unblocks: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
        for (j, (r, _)) in groups.iter().enumerate() {
            for d in deps.get(r).into_iter().flatten() {
                if let Some(&i) = position.get(d.as_str()) {
                    if i != j {
                        blockers[i] += 1;
                        unblocks[j].push(i);
                    }
                }
            }
        }
        let shared = w.shared;
        let mut provider_diags = Diagnostics::new();
        let providers =
            std::sync::Arc::new(self.delete_providers(plan, &w.providers, &mut provider_diags));
        if provider_diags.has_errors() {
            w.diags.extend(provider_diags);
            return false;
        }
        w.diags.extend(provider_diags);
        // (group, diagnostics, cancelled by an interrupt before starting)
        let (sender, receiver) = std::sync::mpsc::channel::<(usize, Diagnostics, bool)>();
        let mut remaining: Vec<usize> = groups.iter().map(|(_, v)| v.len()).collect();
        let mut group_failed = vec![false; groups.len()];
        let mut ready: std::collections::BTreeSet<usize> =
            (0..groups.len()).filter(|&i| blockers[i] == 0).collect();
        let mut outstanding = 0usize;
        let mut done = 0usize;
        let mut all_ok = true;
        while done < groups.len() {
            if let Some(i) = ready.pop_first() {
                if group_failed[i] || opts_interrupted(shared) {
                    // Skipped: what it depends on stays too.
                    all_ok = false;
                    done += 1;
                    for &k in &unblocks[i] {
                        group_failed[k] = true;
                        blockers[k] -= 1;
                        if blockers[k] == 0 {
                            ready.insert(k);
                        }
                    }
                    continue;
                }
                for &c in &groups[i].1 {
                    outstanding += 1;
                    let sender = sender.clone();
                    let providers = std::sync::Arc::clone(&providers);
                    w.pool.submit(Box::new(move || {
                        let mut d = Diagnostics::new();
                        let cancelled = shared.opts.interrupted();
                        let started = std::time::Instant::now();
                        // A panic in a provider must not leave this loop
                        // waiting for the result forever.
                        let destroyed = !cancelled
                            && std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                self.destroy_object(&providers, shared, c, &mut d)
                            }))
                            .unwrap_or_else(|_| {
                                d.push(Diagnostic::error(
                                    "Internal error in a provider call",
                                    "Destroying this object panicked; it is kept in the state. Please report this as a bug in terrane.",
                                ));
                                false
                            });
                        if destroyed {
                            if let Some(sb) = &shared.new_state {
                                crate::walk::lock(sb).remove_instance(&c.addr, None);
                            }
                            // Recorded: now it may be reported.
                            shared.emit(ApplyEvent::Done {
                                addr: c.addr.clone(),
                                action: Action::Delete,
                                elapsed_secs: started.elapsed().as_secs(),
                                id: None,
                            });
                        }
                        let _ = sender.send((i, d, cancelled));
                    }));
                }
                continue;
            }
            if outstanding == 0 {
                break;
            }
            let Ok((i, d, cancelled)) = receiver.recv() else {
                break;
            };
            outstanding -= 1;
            if d.has_errors() || cancelled {
                group_failed[i] = true;
                all_ok = false;
            }
            w.diags.extend(d);
            remaining[i] -= 1;
            if remaining[i] == 0 {
                done += 1;
                for &k in &unblocks[i] {
                    if group_failed[i] {
                        group_failed[k] = true;
                    }
                    blockers[k] -= 1;
                    if blockers[k] == 0 {
                        ready.insert(k);
                    }
                }
            }
        }
        all_ok
    }

    /// The configured providers the plan's deletions need, by state
    /// address: those the walk configured, else configured here from the
    /// values the plan evaluated (as Terraform evaluates provider
    /// configurations before destroying), else with an empty
    /// configuration (an implicit provider block).
    fn delete_providers(
        &self,
        plan: &Plan,
        configured: &BTreeMap<(String, String), ProviderInstance>,
        diags: &mut Diagnostics,
    ) -> HashMap<String, std::sync::Arc<dyn terrane_plugin::Provider>> {
        let mut out: HashMap<String, std::sync::Arc<dyn terrane_plugin::Provider>> = HashMap::new();
        for c in &plan.resource_changes {
            if !matches!(
                c.action,
                Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
            ) || out.contains_key(&c.provider)
            {
                continue;
            }
            if let Some(p) = configured.values().find(|p| p.state_addr == c.provider) {
                out.insert(c.provider.clone(), p.provider.clone());
                continue;
            }
            let planned = plan.provider_configs.get(&c.provider);
            let source = match planned {
                Some(pc) => pc.source.clone(),
                None => c
                    .provider
                    .split("provider[\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .unwrap_or_default()
                    .to_string(),
            };
            let provider = match self.factory.instantiate(&source) {
                Ok(p) => p,
                Err(e) => {
                    diags.push(Diagnostic::error(
                        "Failed to instantiate provider",
                        format!("Could not load the provider {source}: {e}"),
                    ));
                    continue;
                }
            };
            let config = match planned {
                Some(pc) if pc.config.is_wholly_known() => pc.config.clone(),
                _ => {
                    let schema = provider.get_schema().schema;
                    crate::walk::empty_object(&schema.provider.block.implied_type())
                }
            };
            let resp = provider.configure(&terrane_plugin::ConfigureRequest {
                terraform_version: "1.0.3".into(),
                config,
            });
            let mut failed = false;
            for d in resp.iter() {
                if d.severity == terrane_plugin::Severity::Error {
                    failed = true;
                    diags.push(Diagnostic::error(d.summary.clone(), d.detail.clone()));
                }
            }
            if !failed {
                out.insert(c.provider.clone(), provider);
            }
        }
        out
    }

    /// Destroys one object through its provider; reports the start and a
    /// failure (a success is reported by the caller once recorded).
    fn destroy_object(
        &self,
        providers: &HashMap<String, std::sync::Arc<dyn terrane_plugin::Provider>>,
        shared: &Shared,
        c: &ResourceInstanceChange,
        diags: &mut Diagnostics,
    ) -> bool {
        let Some(provider) = providers.get(&c.provider).cloned() else {
            diags.push(Diagnostic::error(
                "Provider configuration not present",
                format!(
                    "To work with {} its original provider configuration at {} is required, but it could not be configured.",
                    c.addr, c.provider
                ),
            ));
            return false;
        };
        let id = c
            .before
            .get_attr("id")
            .and_then(|v| v.as_str().map(str::to_string));
        shared.emit(ApplyEvent::Start {
            addr: c.addr.clone(),
            action: Action::Delete,
            id,
        });
        let resp = provider.apply_resource_change(&ApplyResourceChangeRequest {
            type_name: c.addr.resource.type_name.clone(),
            prior_state: c.before.unmark_deep_value(),
            planned_state: Value::null(c.schema.block.implied_type()),
            config: Value::null(c.schema.block.implied_type()),
            planned_private: c.private.clone(),
            provider_meta: None,
        });
        let mut ok = true;
        for d in resp.diagnostics.iter() {
            if d.severity == terrane_plugin::Severity::Error {
                ok = false;
                diags.push(Diagnostic::error(d.summary.clone(), d.detail.clone()));
            }
        }
        if !ok {
            shared.emit(ApplyEvent::Failed {
                addr: c.addr.clone(),
                action: Action::Delete,
            });
        }
        ok
    }
}

fn opts_interrupted(shared: &Shared) -> bool {
    shared.opts.interrupted()
}

/// Resource address → the resource addresses it depends on, from the
/// `dependencies` recorded in state.
fn state_dependencies(
    state: Option<&State>,
) -> HashMap<String, std::collections::BTreeSet<String>> {
    let mut deps: HashMap<String, std::collections::BTreeSet<String>> = HashMap::new();
    if let Some(s) = state {
        for r in &s.resources {
            let prefix = if r.module.is_empty() {
                String::new()
            } else {
                format!("{}.", r.module)
            };
            let addr = match r.mode {
                terrane_state::Mode::Managed => format!("{prefix}{}.{}", r.type_, r.name),
                terrane_state::Mode::Data => format!("{prefix}data.{}.{}", r.type_, r.name),
            };
            let entry = deps.entry(addr).or_default();
            for i in &r.instances {
                entry.extend(i.dependencies.iter().map(|x| format!("{prefix}{x}")));
            }
        }
    }
    deps
}

/// Orders deletions so an instance goes before the instances it depends
/// on (by the `dependencies` recorded in state): a topological sort of the
/// deletions' resources, ties broken by address, reversed.
fn order_deletes(deletes: &mut Vec<&ResourceInstanceChange>, state: Option<&State>) {
    use std::collections::{BTreeSet, HashMap};
    let deps = state_dependencies(state);
    // Kahn's algorithm over the resources being deleted: a resource is
    // ready once everything that depends on it has been placed.
    let resources: BTreeSet<String> = deletes
        .iter()
        .map(|c| c.addr.resource.to_string())
        .collect();
    let mut dependents_left: HashMap<&str, usize> =
        resources.iter().map(|r| (r.as_str(), 0)).collect();
    for r in &resources {
        for d in deps.get(r).into_iter().flatten() {
            if let Some(n) = dependents_left.get_mut(d.as_str()) {
                *n += 1;
            }
        }
    }
    let mut ready: BTreeSet<&str> = dependents_left
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(r, _)| *r)
        .collect();
    let mut rank: HashMap<String, usize> = HashMap::new();
    while let Some(r) = ready.pop_last() {
        rank.insert(r.to_string(), rank.len());
        for d in deps.get(r).into_iter().flatten() {
            if let Some(n) = dependents_left.get_mut(d.as_str()) {
                *n -= 1;
                if *n == 0 {
                    ready.insert(d.as_str());
                }
            }
        }
    }
    // Resources left unranked are in a dependency cycle in state; they go
    // last, in reverse address order.
    deletes.sort_by(|a, b| {
        let ra = rank
            .get(&a.addr.resource.to_string())
            .copied()
            .unwrap_or(usize::MAX);
        let rb = rank
            .get(&b.addr.resource.to_string())
            .copied()
            .unwrap_or(usize::MAX);
        ra.cmp(&rb).then_with(|| b.addr.cmp(&a.addr))
    });
}
