//! `moved` blocks: before planning, objects recorded in state under an
//! old address are moved to the new one, as Terraform 1.1+ does (Terraform
//! 1.0.3 does not know `moved`). The moves reuse the `state mv` edits of
//! `terrane_state::addr`.
//!
//! Statements of a child module are relative to that module and apply to
//! every instance of it found in state. Chains (a -> b, b -> c) are applied
//! in order, so an object at `a` ends at `c`. A move whose destination is
//! already in state is skipped (the source object is then planned as
//! usual), as in Terraform.

use std::collections::BTreeMap;

use terrane_config::model::{ModuleTree, Moved};
use terrane_hcl::Diagnostic;
use terrane_state::addr::{self, ModuleStep, StateAddr};
use terrane_state::{Mode, State};

/// One move that was carried out, for the plan's "has moved to" lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovedObject {
    pub from: String,
    pub to: String,
}

/// One statement with its addresses made absolute to its module's
/// instance path (`module_keys` still open: instances matched in state).
struct Statement<'a> {
    decl: &'a Moved,
    /// The call names of the declaring module, from the root.
    module_calls: Vec<String>,
    from: StateAddr,
    to: StateAddr,
}

/// Applies every `moved` statement of `tree` to `state`. Returns the moves
/// done (old and new instance addresses) or the statements' errors (then
/// `state` is left untouched).
pub fn apply_moved(
    tree: &ModuleTree,
    state: &mut State,
) -> Result<Vec<MovedObject>, Vec<Diagnostic>> {
    let mut statements = Vec::new();
    let mut diags = Vec::new();
    tree.walk(&mut |m| {
        for decl in &m.module.moved {
            match (traversal_addr(&decl.from), traversal_addr(&decl.to)) {
                (Ok(from), Ok(to)) => statements.push(Statement {
                    decl,
                    module_calls: m.path.clone(),
                    from,
                    to,
                }),
                (Err(d), _) | (_, Err(d)) => diags.push(d),
            }
        }
    });
    if !diags.is_empty() {
        return Err(diags);
    }
    if statements.is_empty() {
        return Ok(Vec::new());
    }
    validate(tree, &statements, &mut diags);
    if !diags.is_empty() {
        return Err(diags);
    }
    let order = match chain_order(&statements) {
        Ok(o) => o,
        Err(d) => return Err(vec![d]),
    };
    let mut done = Vec::new();
    for i in order {
        let s = &statements[i];
        for prefix in module_instances(state, &s.module_calls) {
            let from = prefixed(&prefix, &s.from);
            let to = prefixed(&prefix, &s.to);
            move_one(state, &from, &to, &mut done);
        }
    }
    Ok(done)
}

/// Moves what `from` names to `to` if there is something to move and the
/// destination is free.
fn move_one(state: &mut State, from: &StateAddr, to: &StateAddr, done: &mut Vec<MovedObject>) {
    let Some(source) = addr::move_source(state, from) else {
        return;
    };
    // A destination already holding objects wins: the move is skipped.
    if to.is_module() {
        if addr::has_module(state, &to.module) {
            return;
        }
    } else if addr::move_source(state, to).is_some() {
        return;
    }
    let before: Vec<String> = instance_addrs(state, from);
    if addr::move_to(state, None, from, &source, to).is_ok() {
        for old in before {
            let new = rebase(&old, from, to);
            done.push(MovedObject { from: old, to: new });
        }
    }
}

/// Instance addresses `a` covers in `state`.
fn instance_addrs(state: &State, a: &StateAddr) -> Vec<String> {
    addr::matching_instances(state, Some(a))
        .iter()
        .map(|r| r.address.clone())
        .collect()
}

/// `old` (under `from`) re-expressed under `to`.
fn rebase(old: &str, from: &StateAddr, to: &StateAddr) -> String {
    let f = from.to_string();
    let t = to.to_string();
    match old.strip_prefix(&f) {
        Some(rest) => format!("{t}{rest}"),
        None => t,
    }
}

/// State module instances matching the call names (every key).
fn module_instances(state: &State, calls: &[String]) -> Vec<Vec<ModuleStep>> {
    if calls.is_empty() {
        return vec![Vec::new()];
    }
    let mut found: BTreeMap<String, Vec<ModuleStep>> = BTreeMap::new();
    for r in &state.resources {
        let Some(path) = addr::parse_module(&r.module) else {
            continue;
        };
        if path.len() < calls.len() {
            continue;
        }
        let head = &path[..calls.len()];
        if head.iter().zip(calls).all(|(s, c)| &s.name == c) {
            found.insert(addr::format_module(head), head.to_vec());
        }
    }
    found.into_values().collect()
}

fn prefixed(prefix: &[ModuleStep], a: &StateAddr) -> StateAddr {
    let mut module = prefix.to_vec();
    module.extend(a.module.iter().cloned());
    StateAddr {
        module,
        resource: a.resource.clone(),
    }
}

/// The address a traversal spells, parsed as the `state` commands do.
fn traversal_addr(t: &terrane_config::model::Traversal) -> Result<StateAddr, Diagnostic> {
    let file = &t.range.file;
    let span = t.range.span;
    let text = file
        .text
        .get(span.start as usize..span.end as usize)
        .unwrap_or_default();
    let invalid = |detail: String| {
        Diagnostic::error("Invalid \"moved\" address", detail).with_subject(file, span)
    };
    let a = StateAddr::parse(text).map_err(|e| invalid(e.to_string()))?;
    if let Some(r) = &a.resource {
        if r.mode == Mode::Data {
            return Err(invalid(
                "Data sources cannot be moved: a moved statement names a managed resource or a module call.".into(),
            ));
        }
    }
    Ok(a)
}

/// Statement-level errors, as Terraform reports them before moving.
fn validate(tree: &ModuleTree, statements: &[Statement], diags: &mut Vec<Diagnostic>) {
    for s in statements {
        let range = &s.decl.range;
        let err = |summary: &str, detail: String| {
            Diagnostic::error(summary, detail).with_subject(&range.file, range.span)
        };
        let (from, to) = (&s.from, &s.to);
        match (&from.resource, &to.resource) {
            (Some(f), Some(t)) if f.type_ != t.type_ => {
                diags.push(err(
                    "Resource type mismatch",
                    format!("This statement declares a move from {from} to {to}, which is a resource of a different type."),
                ));
                continue;
            }
            (Some(_), None) | (None, Some(_)) => {
                diags.push(err(
                    "Invalid \"moved\" addresses",
                    format!("Cannot move {from} to {to}: a resource can move only to a resource, and a module call only to a module call."),
                ));
                continue;
            }
            (Some(f), Some(t)) if f.key.is_some() != t.key.is_some() => {
                // A whole resource to an instance (or back) is allowed by
                // Terraform only for the single unkeyed instance, which the
                // move itself checks.
            }
            _ => {}
        }
        // The source must no longer be declared: otherwise the move would
        // take its object away from a still-declared block.
        if let Some(decl) = declared_at(tree, &s.module_calls, from) {
            diags.push(err(
                "Moved object still exists",
                format!("This statement declares a move from {from}, but that object is still declared at {decl}.\n\nChange your configuration so that this object will be declared as {to} instead."),
            ));
        }
    }
    // Two statements for one source, or one destination.
    for (i, a) in statements.iter().enumerate() {
        for b in &statements[i + 1..] {
            if a.module_calls != b.module_calls {
                continue;
            }
            let range = &b.decl.range;
            if a.from == b.from && a.to != b.to {
                diags.push(
                    Diagnostic::error(
                        "Ambiguous move statements",
                        format!(
                            "A statement at {} declared that {} moved to {}, but this statement instead declares that it moved to {}.\n\nEach object can move to only one destination.",
                            a.decl.range.short(), a.from, a.to, b.to
                        ),
                    )
                    .with_subject(&range.file, range.span),
                );
            } else if a.to == b.to && a.from != b.from {
                diags.push(
                    Diagnostic::error(
                        "Ambiguous move statements",
                        format!(
                            "A statement at {} declared that {} moved to {}, but this statement instead declares that {} moved there.\n\nEach object can have moved from only one source.",
                            a.decl.range.short(), a.from, a.to, b.from
                        ),
                    )
                    .with_subject(&range.file, range.span),
                );
            }
        }
    }
}

/// Where the configuration still declares `a` (relative to the module
/// with call names `calls`), only for whole resources and module calls
/// (instance keys depend on count/for_each values known later).
fn declared_at(tree: &ModuleTree, calls: &[String], a: &StateAddr) -> Option<String> {
    let mut m = tree;
    for c in calls {
        m = m.children.get(c)?;
    }
    for step in &a.module {
        if step.key.is_some() {
            return None;
        }
        let call = m.module.module_calls.get(&step.name)?;
        if a.resource.is_none() && std::ptr::eq(step, a.module.last()?) {
            return Some(call.range.short());
        }
        m = m.children.get(&step.name)?;
    }
    let r = a.resource.as_ref()?;
    if r.key.is_some() {
        return None;
    }
    let res = m
        .module
        .managed_resources
        .get(&format!("{}.{}", r.type_, r.name))?;
    Some(res.range.short())
}

/// Statements ordered so that in a chain (a -> b, b -> c) the earlier link
/// moves first; a cycle is an error.
fn chain_order(statements: &[Statement]) -> Result<Vec<usize>, Diagnostic> {
    let n = statements.len();
    // before[j] lists statements that must run before j: those whose `to`
    // is j's `from`.
    let mut before = vec![Vec::new(); n];
    for (i, a) in statements.iter().enumerate() {
        for (j, b) in statements.iter().enumerate() {
            if i != j && a.module_calls == b.module_calls && a.to == b.from {
                before[j].push(i);
            }
        }
    }
    let mut state = vec![0u8; n]; // 0 new, 1 in progress, 2 done
    let mut order = Vec::with_capacity(n);
    fn visit(
        i: usize,
        before: &[Vec<usize>],
        state: &mut [u8],
        order: &mut Vec<usize>,
    ) -> Result<(), usize> {
        match state[i] {
            2 => return Ok(()),
            1 => return Err(i),
            _ => {}
        }
        state[i] = 1;
        for &p in &before[i] {
            visit(p, before, state, order)?;
        }
        state[i] = 2;
        order.push(i);
        Ok(())
    }
    for i in 0..n {
        if let Err(at) = visit(i, &before, &mut state, &mut order) {
            let cycle: Vec<String> = statements
                .iter()
                .enumerate()
                .filter(|(k, _)| state[*k] == 1)
                .map(|(_, s)| format!("\n  - {}: {} to {}", s.decl.range.short(), s.from, s.to))
                .collect();
            let range = &statements[at].decl.range;
            return Err(Diagnostic::error(
                "Cyclic dependency in move statements",
                format!(
                    "The following chained move statements form a cycle, and so there is no final location to move objects to:{}\n\nA chain of move statements must end with an address that doesn't appear in any other statements for the same module.",
                    cycle.concat()
                ),
            )
            .with_subject(&range.file, range.span));
        }
    }
    Ok(order)
}

/// `rendered` (the plan's text) with the moves shown as Terraform 1.1+
/// shows them: an instance that only moved gets a "# FROM has moved to TO"
/// block with its unchanged object, and a changed instance that moved a
/// "# (moved from FROM)" line under its header. With nothing but moves the
/// plan is "Plan: 0 to add, 0 to change, 0 to destroy." instead of "No
/// changes.".
pub fn render_with_moves(
    plan: &crate::plan::Plan,
    moves: &[MovedObject],
    rendered: String,
    opts: &crate::render::RenderOptions,
) -> String {
    use crate::plan::Action;
    use crate::render::{colorize, render_drift, render_resource_change};
    if moves.is_empty() || plan.destroy || plan.refresh_only {
        return rendered;
    }
    let moved_from = |c: &crate::plan::ResourceInstanceChange| {
        if c.deposed.is_some() {
            return None;
        }
        let addr = c.addr.to_string();
        moves.iter().find(|m| m.to == addr).map(|m| m.from.as_str())
    };
    // Blocks of instances that only moved, in the plan's (address) order.
    let mut only_moved = String::new();
    for c in &plan.resource_changes {
        if c.action != Action::NoOp {
            continue;
        }
        let Some(from) = moved_from(c) else {
            continue;
        };
        let block = render_resource_change(c, opts);
        let body = block.split_once('\n').map(|(_, b)| b).unwrap_or_default();
        only_moved.push_str(&colorize(
            &format!(
                "[bold]  # {from}[reset] has moved to [bold]{}[reset]\n",
                c.addr
            ),
            opts.color,
        ));
        only_moved.push_str(body);
        only_moved.push('\n');
    }
    let plan_line = colorize("[reset][bold]Plan:[reset] ", opts.color);
    if !plan.has_changes() {
        if only_moved.is_empty() {
            return rendered;
        }
        let mut out = render_drift(plan, opts);
        out.push_str("\nTerraform will perform the following actions:\n\n");
        out.push_str(&only_moved);
        out.push_str(&plan_line);
        out.push_str("0 to add, 0 to change, 0 to destroy.\n");
        return out;
    }
    let mut out = rendered;
    for c in &plan.resource_changes {
        if c.action == Action::NoOp {
            continue;
        }
        let Some(from) = moved_from(c) else {
            continue;
        };
        let block = render_resource_change(c, opts);
        let Some(header) = block.split_inclusive('\n').next() else {
            continue;
        };
        if let Some(at) = out.find(&block) {
            out.insert_str(at + header.len(), &format!("  # (moved from {from})\n"));
        }
    }
    if let Some(at) = out.find(&plan_line) {
        out.insert_str(at, &only_moved);
    }
    out
}
