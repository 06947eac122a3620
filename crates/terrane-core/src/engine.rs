//! Entry points: plan and apply over a loaded configuration and a prior
//! state.

use crate::addrs::ModuleInstance;
use crate::plan::{Action, Plan, ResourceInstanceChange};
use crate::state::{PriorState, StateBuilder};
use crate::walk::{ApplyEvent, Mode, PlanOptions, ProviderFactory, Walker};
use std::collections::BTreeMap;
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
    fn walker<'w>(&'w self, prior: &'w PriorState, opts: &PlanOptions, mode: Mode<'w>) -> Walker<'w>
    where
        'a: 'w,
    {
        Walker {
            factory: self.factory,
            root_vars: self.root_vars.clone(),
            prior,
            opts: opts.clone(),
            mode,
            diags: Diagnostics::new(),
            changes: Vec::new(),
            outputs: Vec::new(),
            new_state: None,
            events: None,
            visited: Default::default(),
            providers: BTreeMap::new(),
            gone: Vec::new(),
            change_index: BTreeMap::new(),
        }
    }

    /// Plans the changes that would make the infrastructure match the
    /// configuration (or, with `destroy`, remove everything).
    pub fn plan(&self, opts: &PlanOptions) -> (Plan, Diagnostics) {
        let prior = PriorState::from_state(self.prior_state.as_ref());
        let mut w = self.walker(&prior, opts, Mode::Plan);
        w.module(
            self.tree,
            &ModuleInstance::root(),
            BTreeMap::new(),
            &BTreeMap::new(),
        );
        // Resources in state whose configuration is gone entirely.
        for (addr, _provider) in prior.resources_not_in(&w.visited) {
            if addr.mode == ResourceMode::Data {
                continue;
            }
            let Some(pi) = w
                .providers
                .values()
                .find(|p| p.state_addr.ends_with(&_provider) || _provider.ends_with(&p.state_addr))
                .cloned()
            else {
                w.diags.push(Diagnostic::error(
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
                if inst.value.is_null() {
                    continue;
                }
                w.changes.push(ResourceInstanceChange {
                    addr: addr.instance(key),
                    provider: pi.state_addr.clone(),
                    action: Action::Delete,
                    reason: crate::plan::ActionReason::DeleteBecauseNoResourceConfig,
                    before: inst.value,
                    after: Value::null(schema.block.implied_type()),
                    requires_replace: Vec::new(),
                    schema: std::sync::Arc::new(schema.clone()),
                    deposed: None,
                    private: inst.private,
                });
            }
        }
        let mut plan = Plan {
            resource_changes: w.changes,
            output_changes: w.outputs,
            destroy: opts.destroy,
            gone: w.gone,
        };
        plan.resource_changes.sort_by(|a, b| a.addr.cmp(&b.addr));
        plan.output_changes.sort_by(|a, b| a.name.cmp(&b.name));
        (plan, w.diags)
    }

    /// Carries out a plan: deletions first (dependents before what they
    /// depend on), then creates and updates in dependency order, then the
    /// deposed halves of create-before-destroy replacements. Returns the new
    /// state; every change also goes to `journal` as it happens.
    pub fn apply(
        &self,
        plan: &Plan,
        opts: &PlanOptions,
        journal: Option<terrane_state::journal::Journal>,
        events: &Mutex<dyn FnMut(ApplyEvent) + Send>,
    ) -> (State, Diagnostics, Option<terrane_state::journal::Journal>) {
        let prior = PriorState::from_state(self.prior_state.as_ref());
        let base = self.prior_state.clone().unwrap_or_default();
        let mut w = self.walker(&prior, opts, Mode::Apply(plan));
        w.change_index = plan
            .resource_changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.deposed.is_none())
            .map(|(i, c)| (c.addr.clone(), i))
            .collect();
        w.new_state = Some(StateBuilder::new(base, journal));
        w.events = Some(events);
        if let Some(sb) = &mut w.new_state {
            for addr in &plan.gone {
                sb.remove_instance(addr, None);
            }
        }
        // Deletions, in reverse address-dependency order: an instance is
        // destroyed before anything it depends on.
        let mut deletes: Vec<&ResourceInstanceChange> = plan
            .resource_changes
            .iter()
            .filter(|c| matches!(c.action, Action::Delete | Action::DeleteThenCreate))
            .collect();
        order_deletes(&mut deletes, self.prior_state.as_ref());
        let mut failed_deletes = Vec::new();
        for c in deletes {
            if !self.delete_one(&mut w, c) {
                failed_deletes.push(c.addr.clone());
            }
        }
        if failed_deletes.is_empty() {
            w.module(
                self.tree,
                &ModuleInstance::root(),
                BTreeMap::new(),
                &BTreeMap::new(),
            );
        }
        for c in plan
            .resource_changes
            .iter()
            .filter(|c| c.action == Action::CreateThenDelete)
        {
            // The old object was replaced in state by the new one; destroy
            // the old object through the provider.
            self.destroy_object(&mut w, c);
        }
        if plan.destroy {
            // Data sources leave the state with everything else.
            if let Some(sb) = &mut w.new_state {
                let data: Vec<crate::addrs::ResourceInstanceAddr> = sb
                    .state
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
                        r.instances.iter().map(move |i| {
                            addr.instance(crate::state::instance_key_of(&i.index_key))
                        })
                    })
                    .collect();
                for a in data {
                    sb.remove_instance(&a, None);
                }
            }
        }
        let sb = w.new_state.take();
        let (state, journal) = match sb {
            Some(sb) => {
                if let Some(e) = &sb.journal_error {
                    w.diags.push(Diagnostic::error(
                        "Failed to record state changes",
                        e.clone(),
                    ));
                }
                (sb.state, sb.journal)
            }
            None => (State::default(), None),
        };
        (state, w.diags, journal)
    }

    fn delete_one(&self, w: &mut Walker, c: &ResourceInstanceChange) -> bool {
        let ok = self.destroy_object(w, c);
        if ok {
            if let Some(sb) = &mut w.new_state {
                sb.remove_instance(&c.addr, None);
            }
        }
        ok
    }

    fn destroy_object(&self, w: &mut Walker, c: &ResourceInstanceChange) -> bool {
        let source = c
            .provider
            .split("provider[\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_string();
        let provider = match w.providers.values().find(|p| p.state_addr == c.provider) {
            Some(p) => p.provider.clone(),
            None => match self.factory.instantiate(&source) {
                Ok(p) => {
                    let _ = p.configure(&terrane_plugin::ConfigureRequest {
                        terraform_version: "1.0.3".into(),
                        config: Value::null_dynamic(),
                    });
                    p
                }
                Err(e) => {
                    w.diags
                        .push(Diagnostic::error("Failed to instantiate provider", e));
                    return false;
                }
            },
        };
        let id = c
            .before
            .get_attr("id")
            .and_then(|v| v.as_str().map(str::to_string));
        emit(
            w,
            ApplyEvent::Start {
                addr: c.addr.clone(),
                action: Action::Delete,
                id,
            },
        );
        let started = std::time::Instant::now();
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
                w.diags
                    .push(Diagnostic::error(d.summary.clone(), d.detail.clone()));
            }
        }
        if ok {
            emit(
                w,
                ApplyEvent::Done {
                    addr: c.addr.clone(),
                    action: Action::Delete,
                    elapsed_secs: started.elapsed().as_secs(),
                    id: None,
                },
            );
        } else {
            emit(
                w,
                ApplyEvent::Failed {
                    addr: c.addr.clone(),
                    action: Action::Delete,
                },
            );
        }
        ok
    }
}

fn emit(w: &Walker, e: ApplyEvent) {
    if let Some(cb) = w.events {
        if let Ok(mut f) = cb.lock() {
            f(e)
        }
    }
}

/// Orders deletions so an instance goes before the instances it depends
/// on (by the `dependencies` recorded in state): a topological sort of the
/// deletions' resources, ties broken by address, reversed.
fn order_deletes(deletes: &mut Vec<&ResourceInstanceChange>, state: Option<&State>) {
    use std::collections::{BTreeSet, HashMap};
    // Resource address -> the resource addresses it depends on.
    let mut deps: HashMap<String, BTreeSet<String>> = HashMap::new();
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
