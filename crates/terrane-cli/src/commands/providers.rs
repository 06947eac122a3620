//! `providers` (the requirement tree), `providers schema -json`,
//! `providers lock` and `providers mirror`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use terrane_config::{Module, ModuleTree};
use terrane_core::walk::{provider_source, ProviderFactory};
use terrane_hcl::{Diagnostic, Diagnostics};

use crate::cli::Flags;
use crate::provider_factory::{Factory, Selections};
use crate::ui::Ui;

pub fn run(args: &[String], ui: &Ui) -> i32 {
    match args.first().map(String::as_str) {
        Some("schema") => schema(&args[1..], ui),
        Some("lock") => super::providers_lock::lock(&args[1..], ui),
        Some("mirror") => super::providers_lock::mirror(&args[1..], ui),
        _ => tree(args, ui),
    }
}

/// Provider requirements of one module: source address → constraint
/// strings (as written), from `required_providers`, provider blocks and
/// the resources and data sources that use a provider.
pub fn module_requirements(m: &Module) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, rp) in &m.terraform.required_providers {
        let entry = out.entry(provider_source(m, name)).or_default();
        if let Some(v) = &rp.version {
            entry.push(v.clone());
        }
    }
    for pc in m.providers.values() {
        out.entry(provider_source(m, &pc.name)).or_default();
    }
    for r in m
        .managed_resources
        .values()
        .chain(m.data_resources.values())
    {
        let local = terrane_core::graph::resource_provider(r);
        out.entry(provider_source(m, &local)).or_default();
    }
    out
}

/// Every provider the configuration needs, with its constraints merged
/// across modules.
pub fn tree_requirements(tree: &ModuleTree) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    tree.walk(&mut |t| {
        for (addr, cs) in module_requirements(&t.module) {
            let entry = out.entry(addr).or_default();
            for c in cs {
                if !entry.contains(&c) {
                    entry.push(c);
                }
            }
        }
    });
    out
}

/// Constraint strings in Terraform's normalized display (`>= 2.0.0, < 3.0.0`).
fn display_constraints(cs: &[String]) -> String {
    let mut merged = terrane_install::Constraints::default();
    let mut raw = Vec::new();
    for c in cs {
        match terrane_install::Constraints::parse(c) {
            Ok(p) => merged.merge(&p),
            Err(_) => raw.push(c.clone()),
        }
    }
    let mut text = merged.canonical();
    for r in raw {
        if !text.is_empty() {
            text.push_str(", ");
        }
        text.push_str(&r);
    }
    text
}

fn load(ui: &Ui) -> Option<ModuleTree> {
    let (tree, diags) = terrane_config::load_tree(Path::new("."));
    if diags.has_errors() {
        ui.diagnostics(diags.iter());
        return None;
    }
    Some(tree)
}

/// `terraform providers`: the requirement tree, then the providers the
/// state needs.
fn tree(args: &[String], ui: &Ui) -> i32 {
    if let Err(e) = Flags::parse(args, &["no-color"], &[]) {
        eprintln!("{e}");
        return 1;
    }
    let Some(tree) = load(ui) else { return 1 };
    let mut out = String::from("\nProviders required by configuration:\n.\n");
    print_module(&tree, "", &mut out);
    let state = state_providers(Path::new("terraform.tfstate"));
    if !state.is_empty() {
        out.push_str("\nProviders required by state:\n\n");
        for p in state {
            out.push_str(&format!("    provider[{p}]\n\n"));
        }
    } else {
        out.push('\n');
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    0
}

/// One module's providers, then its child modules, in the tree drawing
/// Terraform uses (continuation lines use no-break spaces, as treeprint).
fn print_module(t: &ModuleTree, indent: &str, out: &mut String) {
    let providers = module_requirements(&t.module);
    let mut items: Vec<(String, Option<&ModuleTree>)> = providers
        .iter()
        .map(|(addr, cs)| {
            let c = display_constraints(cs);
            let line = if c.is_empty() {
                format!("provider[{addr}]")
            } else {
                format!("provider[{addr}] {c}")
            };
            (line, None)
        })
        .collect();
    for (name, child) in &t.children {
        items.push((format!("module.{name}"), Some(child)));
    }
    let n = items.len();
    for (i, (line, child)) in items.into_iter().enumerate() {
        let last = i + 1 == n;
        out.push_str(indent);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&line);
        out.push('\n');
        if let Some(c) = child {
            let next = format!("{indent}{}", if last { "    " } else { "│\u{a0}\u{a0} " });
            print_module(c, &next, out);
        }
    }
}

/// Provider addresses the local state's resources name, sorted.
pub fn state_providers(path: &Path) -> BTreeSet<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return BTreeSet::new();
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return BTreeSet::new();
    };
    json["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["provider"].as_str())
        .filter_map(|p| {
            // `provider["registry.terraform.io/hashicorp/null"]`, maybe with
            // a module prefix or an alias.
            let start = p.find("provider[\"")? + "provider[\"".len();
            let rest = &p[start..];
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

/// `providers schema -json`: every provider the configuration and state
/// use, through the same factory as plan (built-in or plugin, schema cache
/// included).
fn schema(args: &[String], ui: &Ui) -> i32 {
    let flags = match Flags::parse(args, &["json", "no-color"], &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if !flags.bool("json", false).unwrap_or(false) {
        eprint!(
            "The `terraform providers schema` command requires the `-json` flag.\n\n\
             Usage: terraform [global options] providers schema -json\n\n  \
             Prints out a json representation of the schemas for all providers used \n  \
             in the current configuration.\n"
        );
        return 1;
    }
    let Some(tree) = load(ui) else { return 1 };
    let mut addrs: BTreeSet<String> = tree_requirements(&tree).into_keys().collect();
    addrs.extend(state_providers(Path::new("terraform.tfstate")));
    if addrs.is_empty() {
        println!("{{\"format_version\":\"0.2\"}}");
        return 0;
    }
    let factory = match Selections::for_working_dir(Path::new(".")) {
        Ok(sel) => Factory::new(sel),
        Err(d) => {
            ui.diagnostics(d.iter());
            return 1;
        }
    };
    let mut diags = Diagnostics::new();
    let mut schemas = Vec::new();
    for addr in &addrs {
        match factory.instantiate(addr) {
            Ok(p) => {
                let r = p.get_schema();
                for d in r.diagnostics.iter() {
                    if d.severity == terrane_plugin::Severity::Error {
                        diags.push(Diagnostic::error(d.summary.clone(), d.detail.clone()));
                    }
                }
                schemas.push((addr.clone(), r.schema));
            }
            Err(e) => diags.push(Diagnostic::error(
                "Failed to load plugin schemas",
                format!("Error while loading schemas for plugin components: Could not load the provider {addr}: {e}."),
            )),
        }
    }
    if diags.has_errors() {
        ui.diagnostics(diags.iter());
        return 1;
    }
    let refs: Vec<(&str, &terrane_plugin::ProviderSchema)> = schemas
        .iter()
        .map(|(a, s): &(String, Arc<terrane_plugin::ProviderSchema>)| (a.as_str(), s.as_ref()))
        .collect();
    let json = terrane_plugin::schema_json(refs);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(terrane_plugin::to_go_json(&json).as_bytes());
    let _ = out.write_all(b"\n");
    0
}
