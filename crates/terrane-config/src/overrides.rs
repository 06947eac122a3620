//! Merging override files (`override.tf`, `*_override.tf`) into a module.
//!
//! Each block of an override file must match a block of the primary files
//! by type and labels; the arguments it sets replace the primary ones (for
//! `locals`, each value by name). Resource and provider bodies keep the
//! override bodies beside the base so each expression keeps its own file.

use crate::decode::Decoder;
use crate::loader::has_attr;
use crate::model::*;
use terrane_hcl::ast::{Block, Body};

fn find_block<'a>(body: &'a Body, kind: &str, labels: &[&str]) -> Option<&'a Block> {
    body.blocks().find(|b| {
        b.ident.as_str() == kind
            && b.labels.len() == labels.len()
            && b.labels.iter().zip(labels).all(|(l, w)| &*l.value == *w)
    })
}

fn missing(dec: &mut Decoder, what: &str, detail: String, r: &DeclRange) {
    dec.err(&format!("Missing base {what} to override"), detail, r.span);
}

pub(crate) fn merge(m: &mut Module, patch: Module, body: &Body, dec: &mut Decoder) {
    for (name, v) in patch.variables {
        let Some(base) = m.variables.get_mut(&name) else {
            missing(dec, "variable declaration", format!("There is no variable named {name:?}. An override file can only override a variable that was already declared in a primary configuration file."), &v.range);
            continue;
        };
        let Some(b) = find_block(body, "variable", &[&name]) else {
            continue;
        };
        if v.type_expr.is_some() {
            base.type_expr = v.type_expr;
        }
        if v.default.is_some() {
            base.default = v.default;
        }
        if v.description.is_some() {
            base.description = v.description;
        }
        if has_attr(&b.body, "sensitive") {
            base.sensitive = v.sensitive;
        }
        if has_attr(&b.body, "nullable") {
            base.nullable = v.nullable;
        }
        if !v.validations.is_empty() {
            base.validations = v.validations;
        }
    }
    for (name, l) in patch.locals {
        if !m.locals.contains_key(&name) {
            missing(dec, "local value definition", format!("There is no local value named {name:?}. An override file can only override a local value that was already defined in a primary configuration file."), &l.range);
            continue;
        }
        m.locals.insert(name, l);
    }
    for (name, o) in patch.outputs {
        let Some(base) = m.outputs.get_mut(&name) else {
            missing(dec, "output definition", format!("There is no output named {name:?}. An override file can only override an output that was already defined in a primary configuration file."), &o.range);
            continue;
        };
        let Some(b) = find_block(body, "output", &[&name]) else {
            continue;
        };
        if o.value.is_some() {
            base.value = o.value;
        }
        if o.description.is_some() {
            base.description = o.description;
        }
        if has_attr(&b.body, "sensitive") {
            base.sensitive = o.sensitive;
        }
        if has_attr(&b.body, "depends_on") {
            base.depends_on = o.depends_on;
        }
        if !o.preconditions.is_empty() {
            base.preconditions = o.preconditions;
        }
    }
    for (name, c) in patch.module_calls {
        let Some(base) = m.module_calls.get_mut(&name) else {
            missing(dec, "module call", format!("There is no module call named {name:?}. An override file can only override a module call that was defined in a primary configuration file."), &c.range);
            continue;
        };
        if c.source.is_some() {
            base.source = c.source;
            base.source_range = c.source_range;
        }
        if c.version.is_some() {
            base.version = c.version;
        }
        if c.count.is_some() {
            base.count = c.count;
        }
        if c.for_each.is_some() {
            base.for_each = c.for_each;
        }
        if !c.providers.is_empty() {
            base.providers = c.providers;
        }
        if !c.depends_on.is_empty() {
            base.depends_on = c.depends_on;
        }
        base.inputs.extend(c.inputs);
    }
    for (addr, p) in patch.providers {
        let Some(base) = m.providers.get_mut(&addr) else {
            missing(dec, "provider configuration", format!("There is no {} provider configuration with the alias {:?}. An override file can only override an aliased provider configuration that was already defined in a primary configuration file.", p.name, p.alias.clone().unwrap_or_default()), &p.range);
            continue;
        };
        if p.version.is_some() {
            base.version = p.version;
        }
        base.config_overrides.push(p.config);
    }
    let resources = patch
        .managed_resources
        .into_values()
        .map(|r| (r, "resource"))
        .chain(patch.data_resources.into_values().map(|r| (r, "data")));
    for (r, kind) in resources {
        let map = match r.mode {
            ResourceMode::Managed => &mut m.managed_resources,
            ResourceMode::Data => &mut m.data_resources,
        };
        let Some(base) = map.get_mut(&r.addr()) else {
            missing(dec, kind, format!("There is no {} {kind} named {:?}. An override file can only override a {kind} block defined in a primary configuration file.", r.type_name, r.name), &r.range);
            continue;
        };
        let Some(b) = find_block(body, kind, &[&r.type_name, &r.name]) else {
            continue;
        };
        if r.count.is_some() {
            base.count = r.count.clone();
        }
        if r.for_each.is_some() {
            base.for_each = r.for_each.clone();
        }
        if r.provider.is_some() {
            base.provider = r.provider.clone();
        }
        if has_attr(&b.body, "depends_on") {
            base.depends_on = r.depends_on.clone();
        }
        if let Some(lb) = b.body.blocks().find(|x| x.ident.as_str() == "lifecycle") {
            let l = &r.lifecycle;
            if has_attr(&lb.body, "create_before_destroy") {
                base.lifecycle.create_before_destroy = l.create_before_destroy;
            }
            if has_attr(&lb.body, "prevent_destroy") {
                base.lifecycle.prevent_destroy = l.prevent_destroy;
            }
            if has_attr(&lb.body, "ignore_changes") {
                base.lifecycle.ignore_changes = l.ignore_changes.clone();
            }
            if has_attr(&lb.body, "replace_triggered_by") {
                base.lifecycle.replace_triggered_by = l.replace_triggered_by.clone();
            }
        }
        if !r.provisioners.is_empty() {
            base.provisioners = r.provisioners.clone();
        }
        if r.connection.is_some() {
            base.connection = r.connection.clone();
        }
        base.config_overrides.push(r.config);
    }
    let tf = patch.terraform;
    if !tf.required_versions.is_empty() {
        m.terraform.required_versions = tf.required_versions;
    }
    m.terraform.required_providers.extend(tf.required_providers);
    if tf.backend.is_some() {
        m.terraform.backend = tf.backend;
        m.terraform.cloud = None;
    }
    if tf.cloud.is_some() {
        m.terraform.cloud = tf.cloud;
        m.terraform.backend = None;
    }
    m.terraform.provider_meta.extend(tf.provider_meta);
    m.moved.extend(patch.moved);
    m.imports.extend(patch.imports);
    m.removed.extend(patch.removed);
    m.checks.extend(patch.checks);
}
