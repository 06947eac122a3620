//! Interim text for plans and apply progress in Terraform's layout, until
//! the full diff renderer (terrane-core's `render`) is wired in: each
//! changed instance with its top-level attributes.

use terrane_core::plan::{Action, Plan};
use terrane_core::walk::ApplyEvent;
use terrane_state::State;
use terrane_value::{format_console, Value};

fn symbol(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Update => "~",
        Action::Delete => "-",
        Action::DeleteThenCreate => "-/+",
        Action::CreateThenDelete => "+/-",
        Action::Read => "<=",
        Action::NoOp => " ",
    }
}

fn value_text(v: &Value) -> String {
    if !v.is_known() {
        return "(known after apply)".into();
    }
    if v.is_sensitive() {
        return "(sensitive value)".into();
    }
    format_console(v)
}

/// The plan as `terraform plan` prints it (simplified attribute diffs).
pub fn plan_text(plan: &Plan, _color: bool) -> String {
    let changed: Vec<_> = plan.resource_changes.iter().filter(|c| c.action != Action::NoOp).collect();
    let outputs: Vec<_> = plan.output_changes.iter().filter(|c| c.action != Action::NoOp).collect();
    if changed.is_empty() && outputs.is_empty() {
        return "\nNo changes. Your infrastructure matches the configuration.\n\nTerraform has compared your real infrastructure against your configuration\nand found no differences, so no changes are needed.\n".into();
    }
    let mut out = String::new();
    if !changed.is_empty() {
        out.push_str("\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n");
        let mut actions: Vec<Action> = changed.iter().map(|c| c.action).collect();
        actions.sort();
        actions.dedup();
        for a in actions {
            let label = match a {
                Action::Create => "create",
                Action::Update => "update in-place",
                Action::Delete => "destroy",
                Action::DeleteThenCreate => "destroy and then create replacement",
                Action::CreateThenDelete => "create replacement and then destroy",
                Action::Read => "read (data resources)",
                Action::NoOp => continue,
            };
            out.push_str(&format!("  {} {label}\n", symbol(a)));
        }
        out.push_str("\nTerraform will perform the following actions:\n");
        for c in &changed {
            let verb = match c.action {
                Action::Create => "will be created",
                Action::Update => "will be updated in-place",
                Action::Delete => "will be destroyed",
                Action::DeleteThenCreate | Action::CreateThenDelete => "must be replaced",
                Action::Read => "will be read during apply",
                Action::NoOp => "",
            };
            out.push_str(&format!("\n  # {} {verb}\n", c.addr));
            let r = &c.addr.resource;
            let kind = if r.mode == terrane_config::ResourceMode::Data { "data" } else { "resource" };
            out.push_str(&format!("  {} {kind} {:?} {:?} {{\n", symbol(c.action), r.type_name, r.name));
            let shown = if c.action == Action::Delete { &c.before } else { &c.after };
            if let Some(attrs) = shown.as_map() {
                let width = attrs.keys().map(|k| k.len()).max().unwrap_or(0);
                for (k, v) in attrs {
                    if v.is_null() {
                        continue;
                    }
                    out.push_str(&format!("      {} {:<width$} = {}\n", symbol(c.action), k, value_text(v).replace('\n', "\n      ")));
                }
            }
            out.push_str("    }\n");
        }
        let (a, ch, d) = plan.counts();
        out.push_str(&format!("\nPlan: {a} to add, {ch} to change, {d} to destroy.\n"));
    }
    if !outputs.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        let width = outputs.iter().map(|o| o.name.len()).max().unwrap_or(0);
        for o in outputs {
            let v = if o.sensitive { "(sensitive value)".to_string() } else { value_text(&o.after) };
            out.push_str(&format!("  {} {:<width$} = {}\n", symbol(o.action), o.name, v));
        }
    }
    out
}

pub fn no_out_footer() -> String {
    let rule = "─".repeat(77);
    format!("\n{rule}\n\nNote: You didn't use the -out option to save this plan, so Terraform can't\nguarantee to take exactly these actions if you run \"terraform apply\" now.\n")
}

pub fn apply_event(e: &ApplyEvent) -> String {
    let id = |id: &Option<String>| id.as_ref().map(|i| format!(" [id={i}]")).unwrap_or_default();
    match e {
        ApplyEvent::Start { addr, action, id: i } => match action {
            Action::Delete => format!("{addr}: Destroying...{}\n", id(i)),
            Action::Update => format!("{addr}: Modifying...{}\n", id(i)),
            _ => format!("{addr}: Creating...\n"),
        },
        ApplyEvent::Done { addr, action, elapsed_secs, id: i } => match action {
            Action::Delete => format!("{addr}: Destruction complete after {elapsed_secs}s\n"),
            Action::Update => format!("{addr}: Modifications complete after {elapsed_secs}s{}\n", id(i)),
            _ => format!("{addr}: Creation complete after {elapsed_secs}s{}\n", id(i)),
        },
        ApplyEvent::Failed { .. } => String::new(),
    }
}

pub fn apply_summary(destroy: bool, add: usize, change: usize, del: usize, _color: bool) -> String {
    if destroy {
        format!("Destroy complete! Resources: {del} destroyed.\n")
    } else {
        format!("Apply complete! Resources: {add} added, {change} changed, {del} destroyed.\n")
    }
}

/// `Outputs:` after apply.
pub fn outputs_text(state: &State, _color: bool) -> String {
    if state.outputs.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nOutputs:\n\n");
    for (name, o) in &state.outputs {
        let text = if o.sensitive {
            "<sensitive>".to_string()
        } else {
            let ty = terrane_value::Type::from_json_str(o.ty.as_str()).unwrap_or(terrane_value::Type::Dynamic);
            terrane_value::json::unmarshal(o.value.as_str(), &ty)
                .map(|v| format_console(&v))
                .unwrap_or_default()
        };
        out.push_str(&format!("{name} = {text}\n"));
    }
    out
}
