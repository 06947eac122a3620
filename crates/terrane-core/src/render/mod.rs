//! Terraform 1.0.3's human output for plans and applies, byte for byte:
//! the plan (legend, per-instance diffs, summary, output changes, the
//! no-changes text), the footer printed without `-out`, and the small
//! lines the apply walker prints (progress, summary, outputs, prompt).
//!
//! Colour follows Terraform's markup: each piece is coloured on its own
//! and gets a trailing reset, so coloured output matches byte for byte
//! too. With colour off the same text is produced without escapes.

mod color;
mod diff;
pub mod json_config;
pub mod json_plan;

use std::time::Duration;

use terrane_config::ResourceMode;
use terrane_value::{Kind, Value};

use crate::plan::{Action, ActionReason, OutputChange, Plan, ResourceInstanceChange};
pub use color::colorize;
use diff::{action_symbol, Op, Printer};

/// How to render.
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// ANSI colour (Terraform's default on a terminal; `-no-color` off).
    pub color: bool,
}

fn col(s: &str, o: &RenderOptions) -> String {
    colorize(s, o.color)
}

fn is_shown(c: &ResourceInstanceChange) -> bool {
    match c.action {
        Action::NoOp => false,
        // Data resources leaving the configuration are dropped silently.
        Action::Delete => c.addr.resource.mode != ResourceMode::Data,
        _ => true,
    }
}

/// Everything `terraform plan` prints after refreshing: the legend, the
/// changes, `Plan: ...`, `Changes to Outputs:`, or the no-changes text.
/// Instances appear in the order of `plan.resource_changes`.
pub fn render_plan(plan: &Plan, opts: &RenderOptions) -> String {
    let mut out = render_drift(plan, opts);
    let drifted = !out.is_empty();
    let changes: Vec<&ResourceInstanceChange> = plan
        .resource_changes
        .iter()
        .filter(|c| is_shown(c) || import_id(plan, c).is_some())
        .collect();
    let outputs: Vec<&OutputChange> = plan
        .output_changes
        .iter()
        .filter(|o| o.action != Action::NoOp)
        .collect();
    if changes.is_empty() && plan.forgotten.is_empty() {
        if outputs.is_empty() {
            if plan.refresh_only {
                out.push_str(&refresh_only_tail(drifted, opts));
                return out;
            }
            out.push('\n');
            if plan.destroy {
                out.push_str(&no_destroy_changes(opts));
            } else if drifted {
                out.push_str(&no_changes_after_drift(opts));
            } else {
                out.push_str(&no_changes(opts));
            }
            return out;
        }
        out.push_str(&render_outputs(&outputs, opts));
        out.push_str(
            "\nYou can apply this plan to save these new output values to the Terraform\n\
             state, without changing any real infrastructure.\n",
        );
        return out;
    }

    // The legend: only the symbols in use.
    let has = |a: Action| changes.iter().any(|c| c.action == a);
    // Only imports without changes: no symbols to explain (Terraform 1.5).
    let only_imports = plan.forgotten.is_empty()
        && changes
            .iter()
            .all(|c| c.action == Action::NoOp && import_id(plan, c).is_some());
    let mut legend = String::from(
        "\nTerraform used the selected providers to generate the following execution\n\
         plan. Resource actions are indicated with the following symbols:\n",
    );
    for (a, text) in [
        (Action::Create, "create"),
        (Action::Delete, "destroy"),
        (Action::Update, "update in-place"),
        (
            Action::DeleteThenCreate,
            "destroy and then create replacement",
        ),
        (
            Action::CreateThenDelete,
            "create replacement and then destroy",
        ),
        (Action::Read, "read (data resources)"),
    ] {
        if has(a) {
            legend.push_str(action_symbol(a));
            legend.push(' ');
            legend.push_str(text);
            legend.push('\n');
        }
    }
    if !plan.forgotten.is_empty() {
        legend.push_str(crate::removed::FORGET_SYMBOL);
        legend.push_str(" forget\n");
    }
    if !only_imports {
        out.push_str(&col(&legend, opts));
    }
    out.push_str("\nTerraform will perform the following actions:\n\n");
    // Forgotten instances (`removed` blocks) among the others, by address.
    let mut forgotten = plan.forgotten.iter().peekable();
    for c in &changes {
        while let Some(f) = forgotten.next_if(|f| f.addr < c.addr) {
            out.push_str(&crate::removed::render_forget(f, opts));
            out.push('\n');
        }
        match import_id(plan, c) {
            Some(id) => out.push_str(&render_import_change(c, id, opts)),
            None => out.push_str(&render_resource_change(c, opts)),
        }
        out.push('\n');
    }
    for f in forgotten {
        out.push_str(&crate::removed::render_forget(f, opts));
        out.push('\n');
    }
    let (add, change, destroy) = plan.counts();
    let imports = if plan.imports.is_empty() {
        String::new()
    } else {
        format!("{} to import, ", plan.imports.len())
    };
    out.push_str(&col(
        &format!(
            "[reset][bold]Plan:[reset] {imports}{add} to add, {change} to change, {destroy} to destroy.\n"
        ),
        opts,
    ));
    if !outputs.is_empty() {
        out.push_str(&render_outputs(&outputs, opts));
    }
    out
}

/// "No changes. Your infrastructure matches the configuration." and the
/// explanation below it (without the blank line `render_plan` puts first).
pub fn no_changes(opts: &RenderOptions) -> String {
    let explain = "Terraform has compared your real infrastructure against your configuration\n\
                   and found no differences, so no changes are needed.\n";
    if opts.color {
        format!(
            "\x1b[0m\x1b[1m\x1b[32mNo changes.\x1b[0m\x1b[1m Your infrastructure matches the configuration.\x1b[0m\n\n\x1b[0m{explain}"
        )
    } else {
        format!("No changes. Your infrastructure matches the configuration.\n\n{explain}")
    }
}

/// "No changes." for a plan whose refresh found changes outside
/// Terraform that the configuration already matches.
fn no_changes_after_drift(opts: &RenderOptions) -> String {
    let explain = "Your configuration already matches the changes detected above. If you'd like\n\
                   to update the Terraform state to match, create and apply a refresh-only plan:\n  \
                   terraform apply -refresh-only\n";
    let mut out = no_changes(opts);
    if let Some(i) = out.find("Terraform has compared") {
        out.truncate(i);
    }
    out.push_str(explain);
    out
}

/// "No changes." of a `-destroy` plan with nothing to destroy.
fn no_destroy_changes(opts: &RenderOptions) -> String {
    let explain = "Either you have not created any objects yet or the existing objects were\n\
                   already deleted outside of Terraform.\n";
    if opts.color {
        format!(
            "\x1b[0m\x1b[1m\x1b[32mNo changes.\x1b[0m\x1b[1m No objects need to be destroyed.\x1b[0m\n\n\x1b[0m{explain}"
        )
    } else {
        format!("No changes. No objects need to be destroyed.\n\n{explain}")
    }
}

/// What a `-refresh-only` plan prints after the drift (or instead of it).
fn refresh_only_tail(drifted: bool, opts: &RenderOptions) -> String {
    if drifted {
        return String::new();
    }
    let explain = "Terraform has checked that the real remote objects still match the result of\n\
                   your most recent changes, and found no differences.\n";
    if opts.color {
        format!(
            "\n\x1b[0m\x1b[1m\x1b[32mNo changes.\x1b[0m\x1b[1m Your infrastructure still matches the configuration.\x1b[0m\n\n\x1b[0m{explain}"
        )
    } else {
        format!("\nNo changes. Your infrastructure still matches the configuration.\n\n{explain}")
    }
}

/// "Objects have changed outside of Terraform" with each drifted
/// instance's diff, then the paragraph on what the plan does about it
/// and a rule; empty when refreshing found nothing.
pub fn render_drift(plan: &Plan, opts: &RenderOptions) -> String {
    if plan.drift.is_empty() {
        return String::new();
    }
    let mut out = col(
        "[reset]\n[bold][cyan]Note:[reset][bold] Objects have changed outside of Terraform[reset]\n\n",
        opts,
    );
    out.push_str(
        "Terraform detected the following changes made outside of Terraform since the\n\
         last \"terraform apply\":\n\n",
    );
    for c in &plan.drift {
        out.push_str(&render_drift_change(c, opts));
    }
    if plan.refresh_only {
        out.push_str(
            "\nThis is a refresh-only plan, so Terraform will not take any actions to undo\n\
             these. If you were expecting these changes then you can apply this plan to\n\
             record the updated values in the Terraform state without changing any remote\n\
             objects.\n",
        );
        return out;
    }
    out.push_str(
        "\nUnless you have made equivalent changes to your configuration, or ignored the\n\
         relevant attributes using ignore_changes, the following plan may include\n\
         actions to undo or respond to these changes.\n",
    );
    let rule = "─".repeat(77);
    if opts.color {
        out.push_str(&format!("\x1b[90m\n{rule}\x1b[0m\n"));
    } else {
        out.push_str(&format!("\n{rule}\n"));
    }
    out
}

/// One drifted instance: `# ADDR has been changed` (or `deleted`) and the
/// diff from the state's object to the refreshed one.
pub fn render_drift_change(c: &ResourceInstanceChange, opts: &RenderOptions) -> String {
    let what = if c.action == Action::Delete {
        "deleted"
    } else {
        "changed"
    };
    let mut out = col(
        &format!("[bold]  # {}[reset] has been {what}", c.addr),
        opts,
    );
    out.push_str(&col("[reset]\n", opts));
    out.push_str(&col(action_symbol(c.action), opts));
    out.push_str(&resource_body(c, opts));
    out
}

/// The footer `terraform plan` prints when no `-out` was given (and
/// `TF_IN_AUTOMATION` is unset).
pub fn plan_footer(opts: &RenderOptions) -> String {
    let rule = "─".repeat(77);
    let note = "Note: You didn't use the -out option to save this plan, so Terraform can't\n\
                guarantee to take exactly these actions if you run \"terraform apply\" now.\n";
    if opts.color {
        format!("\x1b[90m\n{rule}\x1b[0m\n\n{note}")
    } else {
        format!("\n{rule}\n\n{note}")
    }
}

/// `Changes to Outputs:` and one line (or block) per changed output.
fn render_outputs(outputs: &[&OutputChange], opts: &RenderOptions) -> String {
    let mut out = col("[reset]\n[bold]Changes to Outputs:[reset]", opts);
    out.push('\n');
    let width = outputs
        .iter()
        .map(|o| o.name.chars().count())
        .max()
        .unwrap_or(0);
    let mut p = Printer::new(opts.color, &[]);
    for o in outputs {
        let op = match o.action {
            Action::Create => Op::Create,
            Action::Delete => Op::Delete,
            Action::NoOp => Op::Unchanged,
            _ => Op::Update,
        };
        p.attr_line(
            &o.name,
            o.sensitive,
            &o.before,
            &o.after,
            op,
            2,
            width,
            &terrane_value::Path::root(),
            false,
        );
    }
    out.push_str(&p.out);
    out
}

/// One instance's block: the `# ADDR will be ...` header and the diff.
pub fn render_resource_change(c: &ResourceInstanceChange, opts: &RenderOptions) -> String {
    let mut addr = c.addr.to_string();
    if let Some(dk) = &c.deposed {
        addr = format!("{addr} (deposed object {dk})");
    }
    let header = match c.action {
        Action::Create => format!("[bold]  # {addr}[reset] will be created"),
        Action::Read => {
            let mut h = format!("[bold]  # {addr}[reset] will be read during apply");
            if c.reason == ActionReason::ReadBecauseConfigUnknown || c.reason == ActionReason::None
            {
                h.push_str("\n  # (config refers to values not yet known)");
            }
            h
        }
        Action::Update => format!("[bold]  # {addr}[reset] will be updated in-place"),
        Action::DeleteThenCreate | Action::CreateThenDelete => match c.reason {
            ActionReason::ReplaceBecauseTainted => {
                format!("[bold]  # {addr}[reset] is tainted, so must be [bold][red]replaced")
            }
            ActionReason::ReplaceByRequest => {
                format!("[bold]  # {addr}[reset] will be [bold][red]replaced[reset], as requested")
            }
            ActionReason::ReplaceByTriggers => {
                format!("[bold]  # {addr}[reset] will be [bold][red]replaced[reset] due to changes in replace_triggered_by")
            }
            _ => format!("[bold]  # {addr}[reset] must be [bold][red]replaced"),
        },
        Action::Delete => format!("[bold]  # {addr}[reset] will be [bold][red]destroyed"),
        Action::NoOp => format!("[bold]  # {addr}[reset] has no changes"),
    };
    let mut out = col(&header, opts);
    if c.deposed.is_some() && c.action == Action::Delete {
        out.push_str("\n  # (left over from a partially-failed replacement of this instance)");
    }
    out.push_str(&col("[reset]\n", opts));
    out.push_str(&col(action_symbol(c.action), opts));
    out.push_str(&resource_body(c, opts));
    out
}

/// The import id of a change that imports its object.
fn import_id<'p>(plan: &'p Plan, c: &ResourceInstanceChange) -> Option<&'p str> {
    if c.deposed.is_some() {
        return None;
    }
    plan.imports
        .iter()
        .find(|i| i.addr == c.addr)
        .map(|i| i.id.as_str())
}

/// An instance whose object an `import` block brings in, as Terraform 1.5
/// shows it: "# ADDR will be imported" when nothing else changes, else the
/// change's header and "# (imported from "ID")"; the object is shown
/// whole (unchanged attributes are not hidden).
pub fn render_import_change(c: &ResourceInstanceChange, id: &str, opts: &RenderOptions) -> String {
    let addr = c.addr.to_string();
    let mut out = if c.action == Action::NoOp {
        col(&format!("[bold]  # {addr}[reset] will be imported"), opts)
    } else {
        let block = render_resource_change(c, opts);
        block.split('\n').next().unwrap_or_default().to_string()
    };
    if c.action != Action::NoOp {
        out.push_str(&format!("\n  # (imported from {id:?})"));
    }
    out.push_str(&col("[reset]\n", opts));
    out.push_str(&col(action_symbol(c.action), opts));
    out.push_str(&resource_body_with(c, opts, true));
    out
}

/// ` resource "T" "N" {`, the diff and the closing brace.
fn resource_body(c: &ResourceInstanceChange, opts: &RenderOptions) -> String {
    resource_body_with(c, opts, false)
}

fn resource_body_with(c: &ResourceInstanceChange, opts: &RenderOptions, show_all: bool) -> String {
    let mut out = String::new();
    let r = &c.addr.resource;
    match r.mode {
        ResourceMode::Managed => {
            out.push_str(&format!(" resource {:?} {:?} {{\n", r.type_name, r.name));
        }
        ResourceMode::Data => {
            out.push_str(&format!(" data {:?} {:?}  {{\n", r.type_name, r.name));
        }
    }
    let mut p = Printer::new(opts.color, &c.requires_replace);
    p.show_unchanged = show_all;
    p.block_body(
        &c.schema.block,
        &c.before,
        &c.after,
        2,
        &terrane_value::Path::root(),
    );
    out.push_str(&p.out);
    out.push_str("    }\n");
    out
}

// ----- apply -----

/// Formats an elapsed time as Go's `time.Duration` prints whole seconds:
/// `0s`, `11s`, `1m5s`, `1h0m3s`.
pub fn format_elapsed(d: Duration) -> String {
    let s = d.as_secs();
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    if h > 0 {
        format!("{h}h{m}m{sec}s")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

fn id_suffix(id: Option<&str>) -> String {
    match id {
        Some(id) if !id.is_empty() => format!(" [id={id}]"),
        _ => String::new(),
    }
}

fn verb(action: Action) -> (&'static str, &'static str, &'static str) {
    // (starting, still, complete)
    match action {
        Action::Delete => ("Destroying...", "destroying...", "Destruction complete"),
        Action::Update => ("Modifying...", "modifying...", "Modifications complete"),
        Action::Read => ("Reading...", "reading...", "Read complete"),
        _ => ("Creating...", "creating...", "Creation complete"),
    }
}

/// `null_resource.a: Creating...` (`Modifying... [id=x]`, `Destroying...
/// [id=x]`, `Reading...`), with its newline. `id` is the prior object's
/// id, shown for updates and destroys.
pub fn apply_start(addr: &str, action: Action, id: Option<&str>, opts: &RenderOptions) -> String {
    let suffix = match action {
        Action::Update | Action::Delete => id_suffix(id),
        _ => String::new(),
    };
    let s = format!("[reset][bold]{addr}: {}{suffix}[reset]", verb(action).0);
    format!("{}\n", col(&s, opts))
}

/// `null_resource.a: Refreshing state... [id=x]` with its newline.
pub fn refresh_start(addr: &str, id: Option<&str>, opts: &RenderOptions) -> String {
    let s = format!("[reset][bold]{addr}: Refreshing state...{}", id_suffix(id));
    format!("{}\n", col(&s, opts))
}

/// `null_resource.a: Still creating... [10s elapsed]` with its newline.
pub fn apply_progress(
    addr: &str,
    action: Action,
    elapsed: Duration,
    opts: &RenderOptions,
) -> String {
    apply_progress_id(addr, action, None, elapsed, opts)
}

/// `aws_instance.a: Still destroying... [id=i-1, 10s elapsed]`: the prior
/// object's id comes first for updates and destroys.
pub fn apply_progress_id(
    addr: &str,
    action: Action,
    id: Option<&str>,
    elapsed: Duration,
    opts: &RenderOptions,
) -> String {
    let id = match (action, id) {
        (Action::Update | Action::Delete, Some(id)) if !id.is_empty() => format!("id={id}, "),
        _ => String::new(),
    };
    let s = format!(
        "[reset][bold]{addr}: Still {} [{id}{} elapsed][reset]",
        verb(action).1,
        format_elapsed(elapsed)
    );
    format!("{}\n", col(&s, opts))
}

/// `null_resource.a: Creation complete after 0s [id=...]` (no id for
/// destroys) with its newline. `id` is the new object's id.
pub fn apply_complete(
    addr: &str,
    action: Action,
    elapsed: Duration,
    id: Option<&str>,
    opts: &RenderOptions,
) -> String {
    let suffix = match action {
        Action::Delete => String::new(),
        _ => id_suffix(id),
    };
    let s = format!(
        "[reset][bold]{addr}: {} after {}{suffix}",
        verb(action).2,
        format_elapsed(elapsed)
    );
    format!("{}\n", col(&s, opts))
}

/// `Apply complete! Resources: 1 added, 0 changed, 0 destroyed.` with the
/// blank line before it, or for `destroy` `Destroy complete! Resources: N
/// destroyed.`
pub fn apply_summary(
    destroy: bool,
    added: usize,
    changed: usize,
    destroyed: usize,
    opts: &RenderOptions,
) -> String {
    let s = if destroy {
        format!("[reset][bold][green]\nDestroy complete! Resources: {destroyed} destroyed.\n")
    } else {
        format!(
            "[reset][bold][green]\nApply complete! Resources: {added} added, {changed} changed, {destroyed} destroyed.\n"
        )
    };
    col(&s, opts)
}

/// The `Outputs:` block after an apply: `name = value` in the console's
/// format, `<sensitive>` for sensitive outputs, in the order given
/// (Terraform sorts by name). Empty when there are no outputs.
pub fn apply_outputs(outputs: &[(String, Value, bool)], opts: &RenderOptions) -> String {
    if outputs.is_empty() {
        return String::new();
    }
    let mut out = col("[reset][bold][green]\nOutputs:\n\n", opts);
    for (name, v, sensitive) in outputs {
        out.push_str(name);
        out.push_str(" = ");
        if *sensitive || v.marks_deep().contains(terrane_value::Mark::Sensitive) {
            out.push_str("<sensitive>");
        } else {
            out.push_str(&terrane_value::format_console(v));
        }
        out.push('\n');
    }
    out
}

/// The confirmation prompt before applying (or destroying), up to and
/// including `Enter a value: ` (no newline: the answer follows).
pub fn apply_prompt(destroy: bool, opts: &RenderOptions) -> String {
    let (q, body) = if destroy {
        (
            "Do you really want to destroy all resources?",
            "  Terraform will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n",
        )
    } else {
        (
            "Do you want to perform these actions?",
            "  Terraform will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n",
        )
    };
    let mut out = col(&format!("[reset][bold]\n{q}"), opts);
    out.push('\n');
    out.push_str(body);
    out.push('\n');
    out.push_str("  ");
    out.push_str(&col("[bold]Enter a value:[reset] ", opts));
    out
}

/// `Apply cancelled.` / `Destroy cancelled.` with its newline.
pub fn apply_cancelled(destroy: bool) -> String {
    if destroy {
        "Destroy cancelled.\n".into()
    } else {
        "Apply cancelled.\n".into()
    }
}

/// The `id` attribute of an object, for the `[id=...]` suffixes.
pub fn object_id(v: &Value) -> Option<String> {
    match v.kind() {
        Kind::Object(m) => m.get("id").and_then(|id| id.as_str().map(str::to_string)),
        _ => None,
    }
}
