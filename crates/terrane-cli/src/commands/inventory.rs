//! `terrane inventory`: an Ansible inventory from the state. Hosts are the
//! instances of compute resource types; `--list` / `--host NAME` speak
//! Ansible's dynamic-inventory JSON, `-format=ini|yaml` write a static
//! inventory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{json, Map, Value as J};
use terrane_hcl::Diagnostic;
use terrane_state::Backup;

use super::stacks::discover;
use super::statefile;
use crate::ui::Ui;

const USAGE: &str = "Usage: terrane [global options] inventory [options]

  Prints an Ansible inventory of the compute instances in the state.

Options:

  --list, -list         Ansible's dynamic inventory JSON (the default).
  --host NAME           The variables of one host as JSON ({} if unknown).
  -format=json|ini|yaml A static inventory instead of the JSON.
  -state=PATH           Read this state file instead of the working
                        directory's backend.
";

/// The resource types that are hosts unless terrane.hcl says otherwise.
pub const DEFAULT_TYPES: &[&str] = &[
    "aws_instance",
    "google_compute_instance",
    "azurerm_linux_virtual_machine",
    "azurerm_virtual_machine",
    "digitalocean_droplet",
    "hcloud_server",
    "openstack_compute_instance_v2",
    "vsphere_virtual_machine",
];

/// Attribute paths holding a public address, tried in order.
const PUBLIC_IP: &[&[&str]] = &[
    &["public_ip"],
    &["public_ip_address"],
    &["ipv4_address"],
    &["access_ip_v4"],
    &["network_interface", "0", "access_config", "0", "nat_ip"],
    &["default_ip_address"],
];

/// Attribute paths holding a private address, tried in order.
const PRIVATE_IP: &[&[&str]] = &[
    &["private_ip"],
    &["private_ip_address"],
    &["ipv4_address_private"],
    &["network_interface", "0", "network_ip"],
    &["network", "0", "fixed_ip_v4"],
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Ini,
    Yaml,
}

/// Settings from the `inventory` block of terrane.hcl.
struct Settings {
    types: Vec<String>,
}

fn settings() -> Result<Settings, Diagnostic> {
    let mut s = Settings {
        types: DEFAULT_TYPES.iter().map(|t| t.to_string()).collect(),
    };
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let root = discover::project_root(&cwd);
    let Some(body) = discover::read_project_file(&root)? else {
        return Ok(s);
    };
    for block in body.blocks().filter(|b| b.ident.as_str() == "inventory") {
        if let Some(attr) = block.body.attribute("resource_types") {
            let list = discover::static_json(&attr.expr).and_then(|v| match v {
                J::Array(items) => items
                    .into_iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            });
            match list {
                Some(l) => s.types = l,
                None => {
                    return Err(Diagnostic::error(
                        "Invalid inventory resource_types",
                        format!("resource_types in the inventory block of {} must be a list of resource type names, such as [\"aws_instance\"].", discover::PROJECT_FILE),
                    ))
                }
            }
        }
    }
    Ok(s)
}

pub fn run(args: &[String], ui: &Ui) -> i32 {
    let mut format = Format::Json;
    let mut host: Option<String> = None;
    let mut state_path: Option<PathBuf> = None;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        let body = a.trim_start_matches('-');
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        match name {
            "list" if a.starts_with('-') => {}
            "host" if a.starts_with('-') => {
                host = match value {
                    Some(v) => Some(v),
                    None => {
                        i += 1;
                        match args.get(i) {
                            Some(v) => Some(v.clone()),
                            None => {
                                eprintln!("--host needs a host name.\n\n{USAGE}");
                                return 1;
                            }
                        }
                    }
                }
            }
            "format" if a.starts_with('-') => {
                format = match value.as_deref() {
                    Some("json") => Format::Json,
                    Some("ini") => Format::Ini,
                    Some("yaml") => Format::Yaml,
                    other => {
                        eprintln!(
                            "-format must be json, ini or yaml (got {:?}).\n\n{USAGE}",
                            other.unwrap_or("")
                        );
                        return 1;
                    }
                }
            }
            "state" if a.starts_with('-') => state_path = value.map(PathBuf::from),
            "help" | "h" if a.starts_with('-') => {
                print!("{USAGE}");
                return 0;
            }
            _ => {
                eprintln!("Unexpected argument {a:?}.\n\n{USAGE}");
                return 1;
            }
        }
        i += 1;
    }
    let settings = match settings() {
        Ok(s) => s,
        Err(d) => {
            ui.diagnostics([&d]);
            return 1;
        }
    };
    let Some(location) = statefile::locate(state_path, ui) else {
        return 1;
    };
    let Some(open) = statefile::open(&location, Backup::Disabled, None, "", ui) else {
        return 1;
    };
    let state: J = match open.file() {
        Some(f) => match serde_json::from_str(&terrane_state::serialize(f)) {
            Ok(v) => v,
            Err(e) => {
                ui.diagnostics([&Diagnostic::error(
                    "Failed to read state",
                    format!("The state could not be read as JSON: {e}"),
                )]);
                return 1;
            }
        },
        None => J::Null,
    };
    let hosts = hosts_from_state(&state, &settings.types);
    let text = match (host, format) {
        (Some(name), _) => {
            let vars = hosts
                .iter()
                .find(|h| h.name == name)
                .map(|h| J::Object(h.vars.clone()))
                .unwrap_or_else(|| json!({}));
            serde_json::to_string_pretty(&vars).unwrap_or_default()
        }
        (None, Format::Json) => {
            serde_json::to_string_pretty(&list_json(&hosts)).unwrap_or_default()
        }
        (None, Format::Ini) => ini(&hosts),
        (None, Format::Yaml) => yaml(&hosts),
    };
    // A closed pipe (`| head`) ends the output quietly.
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(text.trim_end().as_bytes())
        .and_then(|_| out.write_all(b"\n"));
    0
}

/// One host of the inventory.
#[derive(Debug)]
pub struct Host {
    pub name: String,
    pub groups: Vec<String>,
    pub vars: Map<String, J>,
}

fn lookup<'a>(v: &'a J, path: &[&str]) -> Option<&'a J> {
    let mut at = v;
    for step in path {
        at = match at {
            J::Array(items) => items.get(step.parse::<usize>().ok()?)?,
            J::Object(m) => m.get(*step)?,
            _ => return None,
        };
    }
    Some(at)
}

fn first_string(attrs: &J, paths: &[&[&str]]) -> Option<String> {
    paths
        .iter()
        .filter_map(|p| lookup(attrs, p)?.as_str())
        .find(|s| !s.is_empty())
        .map(str::to_string)
}

/// An Ansible group name: letters, digits and underscores.
pub fn group_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The hosts of a state (Terraform's JSON state format v4): every
/// instance of a managed resource of one of `types`.
pub fn hosts_from_state(state: &J, types: &[String]) -> Vec<Host> {
    let mut hosts = Vec::new();
    let resources = state
        .get("resources")
        .and_then(J::as_array)
        .cloned()
        .unwrap_or_default();
    for r in &resources {
        if r.get("mode").and_then(J::as_str) != Some("managed") {
            continue;
        }
        let Some(rtype) = r.get("type").and_then(J::as_str) else {
            continue;
        };
        if !types.iter().any(|t| t == rtype) {
            continue;
        }
        let rname = r.get("name").and_then(J::as_str).unwrap_or("");
        let module = r.get("module").and_then(J::as_str).unwrap_or("");
        for inst in r
            .get("instances")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let attrs = inst.get("attributes").cloned().unwrap_or(J::Null);
            let mut address = String::new();
            if !module.is_empty() {
                address.push_str(module);
                address.push('.');
            }
            address.push_str(&format!("{rtype}.{rname}"));
            match inst.get("index_key") {
                Some(J::Number(n)) => address.push_str(&format!("[{n}]")),
                Some(J::String(s)) => address.push_str(&format!("[{}]", J::String(s.clone()))),
                _ => {}
            }
            let tags: BTreeMap<String, String> = ["tags", "labels"]
                .iter()
                .filter_map(|k| attrs.get(*k)?.as_object())
                .flat_map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                })
                .collect();
            // DigitalOcean and OpenStack tags are a list of words.
            let tag_words: Vec<String> = attrs
                .get("tags")
                .and_then(J::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|t| t.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            let public = first_string(&attrs, PUBLIC_IP);
            let private = first_string(&attrs, PRIVATE_IP);
            let name = tags
                .get("Name")
                .or_else(|| tags.get("name"))
                .cloned()
                .unwrap_or_else(|| address.clone());
            let mut groups = vec![group_name(rtype)];
            if !module.is_empty() {
                // module.net.module.web → module_net_web.
                let parts: Vec<&str> = module.split('.').filter(|p| *p != "module").collect();
                groups.push(group_name(&format!("module_{}", parts.join("_"))));
            }
            for (k, v) in &tags {
                groups.push(group_name(&format!("tag_{k}_{v}")));
            }
            for w in &tag_words {
                groups.push(group_name(&format!("tag_{w}")));
            }
            groups.sort();
            groups.dedup();
            let mut vars = Map::new();
            if let Some(ip) = public.clone().or_else(|| private.clone()) {
                vars.insert("ansible_host".into(), ip.into());
            }
            if let Some(ip) = public {
                vars.insert("public_ip".into(), ip.into());
            }
            if let Some(ip) = private {
                vars.insert("private_ip".into(), ip.into());
            }
            vars.insert("terraform_address".into(), address.clone().into());
            vars.insert("terraform_type".into(), rtype.into());
            if let Some(id) = attrs.get("id").and_then(J::as_str) {
                vars.insert("terraform_id".into(), id.into());
            }
            if !tags.is_empty() {
                vars.insert("tags".into(), json!(tags));
            }
            hosts.push(Host { name, groups, vars });
        }
    }
    // Two instances with the same Name tag: both go by their addresses.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for h in &hosts {
        *seen.entry(h.name.clone()).or_default() += 1;
    }
    for h in &mut hosts {
        if seen.get(&h.name).copied().unwrap_or(0) > 1 {
            if let Some(addr) = h.vars.get("terraform_address").and_then(J::as_str) {
                h.name = addr.to_string();
            }
        }
    }
    hosts.sort_by(|a, b| a.name.cmp(&b.name));
    hosts
}

fn groups_of(hosts: &[Host]) -> BTreeMap<String, Vec<String>> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for h in hosts {
        for g in &h.groups {
            groups.entry(g.clone()).or_default().push(h.name.clone());
        }
    }
    groups
}

/// Ansible's `--list` document.
pub fn list_json(hosts: &[Host]) -> J {
    let mut doc = Map::new();
    let groups = groups_of(hosts);
    let mut hostvars = Map::new();
    for h in hosts {
        hostvars.insert(h.name.clone(), J::Object(h.vars.clone()));
    }
    doc.insert("_meta".into(), json!({ "hostvars": hostvars }));
    let mut children: Vec<String> = groups.keys().cloned().collect();
    children.push("ungrouped".into());
    doc.insert("all".into(), json!({ "children": children }));
    for (g, members) in groups {
        doc.insert(g, json!({ "hosts": members }));
    }
    J::Object(doc)
}

fn ini_value(v: &J) -> String {
    match v {
        J::String(s)
            if s.chars()
                .all(|c| !c.is_whitespace() && c != '"' && c != '\'') =>
        {
            s.clone()
        }
        J::String(s) => J::String(s.clone()).to_string(),
        // Ansible reads a quoted JSON text as a string; structured
        // values are written as JSON, which its INI parser evaluates.
        other => format!("'{}'", other.to_string().replace('\'', "\\'")),
    }
}

/// A static INI inventory: each host with its variables in `[all]`, then
/// one section per group.
pub fn ini(hosts: &[Host]) -> String {
    let mut out = String::from("[all]\n");
    for h in hosts {
        out.push_str(&h.name);
        for (k, v) in &h.vars {
            if v.is_object() {
                continue;
            }
            out.push_str(&format!(" {k}={}", ini_value(v)));
        }
        out.push('\n');
    }
    for (g, members) in groups_of(hosts) {
        out.push_str(&format!("\n[{g}]\n"));
        for m in members {
            out.push_str(&m);
            out.push('\n');
        }
    }
    out
}

/// A static YAML inventory (strings in JSON quoting, which YAML reads).
pub fn yaml(hosts: &[Host]) -> String {
    let q = |s: &str| J::String(s.to_string()).to_string();
    let mut out = String::from("all:\n  hosts:\n");
    if hosts.is_empty() {
        out = String::from("all:\n  hosts: {}\n");
    }
    for h in hosts {
        if h.vars.is_empty() {
            out.push_str(&format!("    {}: {{}}\n", q(&h.name)));
            continue;
        }
        out.push_str(&format!("    {}:\n", q(&h.name)));
        for (k, v) in &h.vars {
            out.push_str(&format!("      {}: {}\n", q(k), v));
        }
    }
    let groups = groups_of(hosts);
    if !groups.is_empty() {
        out.push_str("  children:\n");
        for (g, members) in groups {
            out.push_str(&format!("    {}:\n      hosts:\n", q(&g)));
            for m in members {
                out.push_str(&format!("        {}: {{}}\n", q(&m)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_groups_and_addresses_from_a_state() {
        let state = json!({"resources": [
            {"module": "module.web", "mode": "managed", "type": "aws_instance", "name": "app",
             "instances": [
                {"index_key": 0, "attributes": {"id": "i-1", "public_ip": "", "private_ip": "10.0.0.5",
                  "tags": {"Name": "web-0", "Role": "web server"}}},
                {"index_key": 1, "attributes": {"id": "i-2", "public_ip": "1.2.3.4", "private_ip": "10.0.0.6",
                  "tags": {}}}]},
            {"mode": "managed", "type": "aws_vpc", "name": "main", "instances": [{"attributes": {"id": "vpc-1"}}]}
        ]});
        let hosts = hosts_from_state(&state, &[String::from("aws_instance")]);
        let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["module.web.aws_instance.app[1]", "web-0"]);
        assert_eq!(hosts[0].vars["ansible_host"], "1.2.3.4");
        assert_eq!(hosts[1].vars["ansible_host"], "10.0.0.5");
        assert_eq!(
            hosts[1].groups,
            [
                "aws_instance",
                "module_web",
                "tag_Name_web_0",
                "tag_Role_web_server"
            ]
        );
        let doc = list_json(&hosts);
        assert_eq!(
            doc["module_web"]["hosts"],
            json!(["module.web.aws_instance.app[1]", "web-0"])
        );
        assert_eq!(doc["_meta"]["hostvars"]["web-0"]["terraform_id"], "i-1");
    }
}
