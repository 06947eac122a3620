//! `terrane inventory` from the state of examples/aws-on-moto (two
//! `aws_instance.web` instances among VPC, subnets, S3, Route53 and IAM
//! objects). The state in tests/inventory/aws-on-moto.tfstate was recorded
//! once by terrane applying the example against moto_server
//! (tests/inventory/record.sh, which says how to run it again).
//!
//! The second test hands the inventory to Ansible (`ansible-inventory`
//! from PyPI's ansible-core): through a two-line wrapper script, as a
//! dynamic inventory, and as static INI and YAML files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const TERRANE: &str = env!("CARGO_BIN_EXE_terrane");

fn fixture_state() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/inventory/aws-on-moto.tfstate")
}

/// A working directory holding the recorded state as its local state.
fn workdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("terrane-inventory-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::copy(fixture_state(), dir.join("terraform.tfstate")).expect("copy state");
    dir
}

fn inventory(dir: &Path, args: &[&str]) -> Output {
    Command::new(TERRANE)
        .arg("inventory")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("terrane runs")
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

const HOSTS: [&str; 2] = ["terrane-staging-web-0", "terrane-staging-web-1"];

#[test]
fn list_and_host_from_the_aws_on_moto_state() {
    let dir = workdir("list");
    let doc = stdout_json(&inventory(&dir, &["--list"]));
    assert_eq!(doc, stdout_json(&inventory(&dir, &["-list"])));
    assert_eq!(
        doc["all"]["children"],
        json!([
            "aws_instance",
            "tag_Environment_staging",
            "tag_ManagedBy_terrane",
            "tag_Name_terrane_staging_web_0",
            "tag_Name_terrane_staging_web_1",
            "ungrouped"
        ])
    );
    assert_eq!(doc["aws_instance"]["hosts"], json!(HOSTS));
    assert_eq!(doc["tag_Environment_staging"]["hosts"], json!(HOSTS));
    assert_eq!(
        doc["tag_Name_terrane_staging_web_1"]["hosts"],
        json!([HOSTS[1]])
    );
    let vars = &doc["_meta"]["hostvars"];
    assert_eq!(
        vars.as_object().map(|m| m.len()),
        Some(2),
        "only the instances are hosts"
    );
    // moto's instances are in private subnets: no public IP, so the
    // private one (10.20.<subnet>.x from the example's cidrsubnet) is used.
    assert_eq!(vars[HOSTS[0]]["terraform_address"], "aws_instance.web[0]");
    assert_eq!(vars[HOSTS[1]]["terraform_address"], "aws_instance.web[1]");
    for (i, h) in HOSTS.iter().enumerate() {
        let ip = vars[h]["ansible_host"].as_str().expect("ansible_host");
        assert!(ip.starts_with(&format!("10.20.{i}.")), "{h}: {ip}");
        assert_eq!(vars[h]["private_ip"], ip);
        assert!(vars[h]["terraform_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("i-")));
        assert_eq!(vars[h]["tags"]["ManagedBy"], "terrane");
    }
    let one = stdout_json(&inventory(&dir, &["--host", HOSTS[1]]));
    assert_eq!(one, vars[HOSTS[1]]);
    assert_eq!(
        stdout_json(&inventory(&dir, &["--host", "nope"])),
        json!({})
    );

    // Configured resource types: VPCs are hosts too (without an address).
    std::fs::write(
        dir.join("terrane.hcl"),
        "inventory {\n  resource_types = [\"aws_instance\", \"aws_vpc\"]\n}\n",
    )
    .expect("terrane.hcl");
    let doc = stdout_json(&inventory(&dir, &["--list"]));
    assert_eq!(doc["aws_vpc"]["hosts"], json!(["terrane-staging"]));
    assert!(doc["_meta"]["hostvars"]["terrane-staging"]
        .get("ansible_host")
        .is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ansible-inventory`, or `None` (after saying why) when it is missing
/// outside CI; under CI=true it must be there (.ci/run installs it).
fn ansible_inventory() -> Option<PathBuf> {
    let ok = Command::new("ansible-inventory")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(PathBuf::from("ansible-inventory"));
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("ansible-inventory is missing (CI=true requires it; pip install ansible-core)");
    }
    eprintln!("skipping: ansible-inventory is not installed (pip install ansible-core)");
    None
}

fn ansible_list(inventory_path: &Path) -> Value {
    let out = Command::new("ansible-inventory")
        .arg("-i")
        .arg(inventory_path)
        .arg("--list")
        .env("ANSIBLE_INVENTORY_UNPARSED_FAILED", "true")
        .env("ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED", "true")
        .env("ANSIBLE_LOCALHOST_WARNING", "false")
        .output()
        .expect("ansible-inventory runs");
    assert!(
        out.status.success(),
        "ansible-inventory -i {} failed:\n{}",
        inventory_path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("ansible-inventory prints JSON")
}

fn check_ansible_view(doc: &Value, source: &str) {
    let mut children: Vec<&str> = doc["all"]["children"]
        .as_array()
        .unwrap_or_else(|| panic!("{source}: no all.children in {doc:#}"))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    children.sort();
    for g in [
        "aws_instance",
        "tag_Environment_staging",
        "tag_ManagedBy_terrane",
    ] {
        assert!(
            children.contains(&g),
            "{source}: group {g} missing from {children:?}"
        );
        assert_eq!(doc[g]["hosts"], json!(HOSTS), "{source}: hosts of {g}");
    }
    let vars = &doc["_meta"]["hostvars"];
    for (i, h) in HOSTS.iter().enumerate() {
        let ip = vars[h]["ansible_host"]
            .as_str()
            .unwrap_or_else(|| panic!("{source}: {h}"));
        assert!(
            ip.starts_with(&format!("10.20.{i}.")),
            "{source}: {h}: {ip}"
        );
        assert_eq!(
            vars[h]["terraform_address"],
            format!("aws_instance.web[{i}]"),
            "{source}"
        );
    }
}

#[test]
fn ansible_inventory_accepts_dynamic_ini_and_yaml_forms() {
    let Some(_) = ansible_inventory() else {
        return;
    };
    let dir = workdir("ansible");
    // The wrapper Ansible runs (with --list / --host NAME).
    let wrapper = dir.join("terrane-inventory.sh");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec {TERRANE} -chdir={} inventory \"$@\"\n",
            dir.display()
        ),
    )
    .expect("wrapper");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    check_ansible_view(&ansible_list(&wrapper), "dynamic");

    // terrane itself, through a link named terrane-inventory in the
    // directory whose state it reads.
    #[cfg(unix)]
    {
        let link = dir.join("terrane-inventory");
        std::os::unix::fs::symlink(TERRANE, &link).expect("symlink");
        check_ansible_view(&ansible_list(&link), "symlink");
    }

    for (format, file) in [("ini", "hosts.ini"), ("yaml", "hosts.yml")] {
        let out = inventory(&dir, &[&format!("-format={format}")]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = dir.join(file);
        std::fs::write(&path, &out.stdout).expect("static inventory");
        check_ansible_view(&ansible_list(&path), format);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
