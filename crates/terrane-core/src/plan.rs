//! The plan: what would change, per resource instance and output.

use crate::addrs::ResourceInstanceAddr;
use std::sync::Arc;
use terrane_plugin::Schema;
use terrane_value::{Path, Value};

/// What happens to one resource instance, as Terraform names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    NoOp,
    Create,
    Read,
    Update,
    /// Replace: destroy, then create (the default).
    DeleteThenCreate,
    /// Replace with `create_before_destroy`.
    CreateThenDelete,
    Delete,
}

impl Action {
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
}

/// Why an action was chosen, when it is not simply the difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionReason {
    None,
    /// The instance is tainted.
    ReplaceBecauseTainted,
    /// `-replace=ADDR` was given.
    ReplaceByRequest,
    /// An attribute that forces replacement changed.
    ReplaceBecauseCannotUpdate,
    /// `replace_triggered_by` fired.
    ReplaceByTriggers,
    /// The instance's resource or key is no longer in the configuration.
    DeleteBecauseNoResourceConfig,
    DeleteBecauseCountIndex,
    DeleteBecauseEachKey,
    DeleteBecauseNoModule,
    /// A data source read deferred to apply because its config is unknown.
    ReadBecauseConfigUnknown,
}

/// The planned change of one resource instance.
#[derive(Clone, Debug)]
pub struct ResourceInstanceChange {
    pub addr: ResourceInstanceAddr,
    /// `provider["registry.terraform.io/hashicorp/null"]` (with `.alias`).
    pub provider: String,
    pub action: Action,
    pub reason: ActionReason,
    /// The prior object (null for create).
    pub before: Value,
    /// The planned object (null for delete; may hold unknowns).
    pub after: Value,
    /// Attribute paths whose change forces replacement.
    pub requires_replace: Vec<Path>,
    /// The resource type's schema (for rendering and state).
    pub schema: Arc<Schema>,
    /// A deposed object's key (`create_before_destroy` leftovers).
    pub deposed: Option<String>,
    pub private: Vec<u8>,
}

/// The planned change of one root module output.
#[derive(Clone, Debug)]
pub struct OutputChange {
    pub name: String,
    pub action: Action,
    pub before: Value,
    pub after: Value,
    pub sensitive: bool,
}

/// A whole plan.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    /// In address order.
    pub resource_changes: Vec<ResourceInstanceChange>,
    /// In name order.
    pub output_changes: Vec<OutputChange>,
    /// Planned with `-destroy`.
    pub destroy: bool,
    /// What refreshing found changed outside terrane, per managed
    /// instance: `Update` (before = the state's object, after = the
    /// refreshed one) or `Delete` (the object is gone). Apply records
    /// these in state first; plans other than `-destroy` show them as
    /// "Objects have changed outside of Terraform".
    pub drift: Vec<ResourceInstanceChange>,
    /// Each provider configuration's evaluated value by its state address
    /// (`provider["registry.terraform.io/hashicorp/aws"]`), with its
    /// source address: apply configures providers for deletions from
    /// these before the walk reaches the provider blocks.
    pub provider_configs: std::collections::BTreeMap<String, ProviderConfig>,
    /// `-refresh-only`: only the drift is applied.
    pub refresh_only: bool,
    /// Instances a `removed` block with `destroy = false` takes out of
    /// the state without destroying them (before = the prior object,
    /// after = null), in address order (`removed.rs`).
    pub forgotten: Vec<ResourceInstanceChange>,
    /// Objects `import` blocks bring under management, in address order
    /// (`import.rs`); each also has its change in `resource_changes`.
    pub imports: Vec<crate::import::ImportedObject>,
}

/// A provider configuration as planned.
#[derive(Clone, Debug)]
pub struct ProviderConfig {
    /// `registry.terraform.io/hashicorp/aws`.
    pub source: String,
    pub config: Value,
}

impl Plan {
    /// (add, change, destroy) as in `Plan: X to add, Y to change, Z to destroy.`
    pub fn counts(&self) -> (usize, usize, usize) {
        let (mut add, mut change, mut destroy) = (0, 0, 0);
        for c in &self.resource_changes {
            if c.addr.resource.mode == terrane_config::ResourceMode::Data {
                continue;
            }
            match c.action {
                Action::Create => add += 1,
                Action::Update => change += 1,
                Action::Delete => destroy += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    add += 1;
                    destroy += 1
                }
                Action::NoOp | Action::Read => {}
            }
        }
        (add, change, destroy)
    }

    /// Whether anything would change (resources or outputs).
    pub fn has_changes(&self) -> bool {
        if self.refresh_only && !self.drift.is_empty() {
            return true;
        }
        if !self.forgotten.is_empty() || !self.imports.is_empty() {
            return true;
        }
        self.resource_changes
            .iter()
            .any(|c| c.action != Action::NoOp)
            || self.output_changes.iter().any(|c| c.action != Action::NoOp)
    }
}
