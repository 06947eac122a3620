//! The CLI's glue to terrane-core's renderer: plan text, apply progress
//! lines and the apply summary, in Terraform's exact layout.

use std::time::Duration;
use terrane_core::plan::Plan;
use terrane_core::render::{self, RenderOptions};
use terrane_core::walk::ApplyEvent;
use terrane_state::State;
use terrane_value::Value;

fn opts(color: bool) -> RenderOptions {
    RenderOptions { color }
}

pub fn plan_text(plan: &Plan, color: bool) -> String {
    render::render_plan(plan, &opts(color))
}

pub fn no_out_footer(color: bool) -> String {
    render::plan_footer(&opts(color))
}

pub fn apply_event(e: &ApplyEvent, color: bool) -> String {
    let o = opts(color);
    match e {
        ApplyEvent::Refresh { addr, id } => {
            render::refresh_start(&addr.to_string(), id.as_deref(), &o)
        }
        ApplyEvent::Start { addr, action, id } => {
            render::apply_start(&addr.to_string(), *action, id.as_deref(), &o)
        }
        ApplyEvent::Done {
            addr,
            action,
            elapsed_secs,
            id,
        } => render::apply_complete(
            &addr.to_string(),
            *action,
            Duration::from_secs(*elapsed_secs),
            id.as_deref(),
            &o,
        ),
        ApplyEvent::Failed { .. } => String::new(),
    }
}

/// `ADDR: Still creating... [10s elapsed]`.
pub fn progress(
    addr: &str,
    action: terrane_core::plan::Action,
    id: Option<&str>,
    secs: u64,
    color: bool,
) -> String {
    render::apply_progress_id(addr, action, id, Duration::from_secs(secs), &opts(color))
}

pub fn apply_summary(destroy: bool, add: usize, change: usize, del: usize, color: bool) -> String {
    render::apply_summary(destroy, add, change, del, &opts(color))
}

pub fn prompt(destroy: bool, color: bool) -> String {
    render::apply_prompt(destroy, &opts(color))
}

pub fn cancelled(destroy: bool) -> String {
    render::apply_cancelled(destroy)
}

/// `Outputs:` after apply, from the new state.
pub fn outputs_text(state: &State, color: bool) -> String {
    let outputs: Vec<(String, Value, bool)> = state
        .outputs
        .iter()
        .map(|(name, o)| {
            let ty = terrane_value::Type::from_json_str(o.ty.as_str())
                .unwrap_or(terrane_value::Type::Dynamic);
            let v = terrane_value::json::unmarshal(o.value.as_str(), &ty)
                .unwrap_or_else(|_| Value::null_dynamic());
            (name.clone(), v, o.sensitive)
        })
        .collect();
    render::apply_outputs(&outputs, &opts(color))
}
