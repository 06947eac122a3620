//! The `terrane` CLI with a real protocol-6 plugin: the in-repo test
//! provider `terraform-provider-terranetest` (crates/terrane-testprovider),
//! reached through a CLI configuration with `dev_overrides`.
//!
//! * apply/plan with nested attributes in every nesting mode and
//!   provider-defined functions in expressions;
//! * the plugin killed (`kill -9`) in the middle of a plan: a clear error
//!   naming the provider and the call, and a non-zero exit in bounded time.
//!
//! The provider binary is built with the workspace (`cargo test
//! --workspace`, or `cargo build -p terrane-testprovider`); without it the
//! tests skip outside CI and fail under `CI=true`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SOURCE: &str = "terrane/terranetest";
const BINARY: &str = "terraform-provider-terranetest";
const ADDRESS: &str = "registry.terraform.io/terrane/terranetest";

fn provider_dir() -> Option<PathBuf> {
    // The test executable lives in target/<profile>/deps.
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?.parent()?.to_path_buf();
    if dir.join(BINARY).is_file() {
        return Some(dir);
    }
    let msg = format!(
        "{BINARY} is not built in {} (run `cargo build -p terrane-testprovider`)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("skipping: {msg}");
    None
}

/// A scratch directory with `main.tf` and a CLI configuration overriding
/// the provider with the built binary.
fn workdir(name: &str, main_tf: &str, provider_dir: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "terrane-testprovider-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    fs::write(dir.join("main.tf"), main_tf).expect("main.tf");
    fs::write(
        dir.join("cli.tfrc"),
        format!(
            "provider_installation {{\n  dev_overrides {{\n    \"{SOURCE}\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
            provider_dir.display()
        ),
    )
    .expect("cli config");
    dir
}

fn terrane(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_terrane"));
    c.args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", dir.join("cli.tfrc"))
        .env("TF_IN_AUTOMATION", "1")
        .env("NO_COLOR", "1")
        .env_remove("TF_REATTACH_PROVIDERS")
        .env_remove("TERRANE_PROVIDERS");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    terrane(dir, args).output().expect("run terrane")
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const NESTED_AND_FUNCTIONS: &str = r#"
terraform {
  required_providers {
    terranetest = {
      source = "terrane/terranetest"
    }
  }
}

locals {
  greeting = provider::terranetest::greet("world", "!")
}

resource "terranetest_thing" "a" {
  name = local.greeting
  single = {
    a = provider::terranetest::describe([1, 2])
    b = 2
  }
  list = [
    { key = "k1", value = "v1" },
    { key = "k2" },
  ]
  set = [
    { port = 80 },
    { port = 443, protocol = "tcp" },
  ]
  map = {
    one = { value = provider::terranetest::greet("one") }
  }
}

output "greeting" {
  value = local.greeting
}

output "summary" {
  value = terranetest_thing.a.summary
}

output "id" {
  value = terranetest_thing.a.id
}

output "map_value" {
  value = terranetest_thing.a.map["one"].value
}
"#;

#[test]
fn apply_with_nested_attributes_and_functions() {
    let Some(pdir) = provider_dir() else { return };
    let dir = workdir("apply", NESTED_AND_FUNCTIONS, &pdir);

    let apply = run(&dir, &["apply", "-auto-approve", "-no-color"]);
    let out = text(&apply);
    assert_eq!(apply.status.code(), Some(0), "{out}");
    assert!(
        out.contains("terranetest_thing.a: Creation complete"),
        "{out}"
    );
    assert!(out.contains("greeting = \"Hello, world!\""), "{out}");
    assert!(out.contains("id = \"thing-Hello, world!\""), "{out}");
    assert!(out.contains("summary = \"2 list, 2 set, 1 map\""), "{out}");
    assert!(out.contains("map_value = \"Hello, one\""), "{out}");

    // The state holds every nesting mode, with omitted optional inner
    // attributes as null.
    let state: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("terraform.tfstate")).expect("state"))
            .expect("state JSON");
    let res = &state["resources"][0];
    assert_eq!(
        res["provider"],
        "provider[\"registry.terraform.io/terrane/terranetest\"]"
    );
    let attrs = &res["instances"][0]["attributes"];
    assert_eq!(attrs["single"], serde_json::json!({"a": "tuple", "b": 2}));
    assert_eq!(
        attrs["list"],
        serde_json::json!([{"key": "k1", "value": "v1"}, {"key": "k2", "value": null}])
    );
    // Set elements are stored in cty's hash order; compare as a set.
    let mut set = attrs["set"].as_array().cloned().unwrap_or_default();
    set.sort_by_key(|e| e["port"].as_i64());
    assert_eq!(
        set,
        vec![
            serde_json::json!({"port": 80, "protocol": null}),
            serde_json::json!({"port": 443, "protocol": "tcp"})
        ]
    );
    assert_eq!(
        attrs["map"],
        serde_json::json!({"one": {"value": "Hello, one"}})
    );

    // Planning again finds nothing to do.
    let plan = run(&dir, &["plan", "-no-color", "-detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
    assert!(String::from_utf8_lossy(&plan.stdout).contains("No changes."));

    // A function's own error names the parameter at the call.
    fs::write(
        dir.join("main.tf"),
        NESTED_AND_FUNCTIONS.replace("greet(\"one\")", "greet(\"\")"),
    )
    .expect("main.tf");
    let bad = run(&dir, &["plan", "-no-color"]);
    let out = text(&bad);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(out.contains("Error: Invalid function argument"), "{out}");
    assert!(
        out.contains("Invalid value for \"name\" parameter: the name must not be empty."),
        "{out}"
    );

    let _ = fs::remove_dir_all(&dir);
}

/// The pid of a child process of `parent` running `BINARY`, if any.
fn plugin_pid(parent: u32) -> Option<u32> {
    for e in fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...; comm may hold spaces, so split after ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if ppid == Some(parent) && head.contains("terraform-provi") {
            return Some(pid);
        }
    }
    None
}

#[test]
fn plugin_killed_during_plan() {
    let Some(pdir) = provider_dir() else { return };
    let config = r#"
terraform {
  required_providers {
    terranetest = {
      source = "terrane/terranetest"
    }
  }
}

resource "terranetest_thing" "slow" {
  name          = "slow"
  plan_delay_ms = 120000
}
"#;
    let dir = workdir("kill", config, &pdir);
    let mut child = terrane(&dir, &["plan", "-no-color"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start terrane plan");
    let started = Instant::now();
    let bound = Duration::from_secs(30);

    // Wait for the plugin process to appear, then give the plan call a
    // moment to be in flight (the plan waits 120 s, far past the bound).
    let mut pid = None;
    while pid.is_none() && started.elapsed() < bound {
        pid = plugin_pid(child.id());
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(pid) = pid else {
        let _ = child.kill();
        panic!("the provider plugin never started under terrane plan");
    };
    std::thread::sleep(Duration::from_millis(1500));
    let killed = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());

    let mut status = None;
    while started.elapsed() < bound {
        if let Some(s) = child.try_wait().expect("wait") {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let Some(status) = status else {
        let _ = child.kill();
        panic!("terrane plan did not end within {bound:?} after the plugin was killed");
    };
    let out = child.wait_with_output().expect("output");
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(status.code(), Some(1), "{all}");
    assert!(all.contains("Error: Plugin did not respond"), "{all}");
    assert!(all.contains("PlanResourceChange"), "{all}");
    assert!(all.contains("terrane/terranetest"), "{all}");
    assert!(all.contains("signal: 9"), "{all}");
    eprintln!("{all}");
    let _ = fs::remove_dir_all(&dir);
}

/// A provider started in debug mode (`-debug`) and handed to terrane with
/// `TF_REATTACH_PROVIDERS` serves plan and apply, functions included; the
/// process is not terrane's and keeps running afterwards.
#[test]
fn reattached_provider() {
    use std::io::BufRead;
    let Some(pdir) = provider_dir() else { return };
    let mut provider = Command::new(pdir.join(BINARY))
        .arg("-debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the provider in debug mode");
    let Some(stdout) = provider.stdout.take() else {
        panic!("no stdout");
    };
    let reattach = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            l.trim()
                .strip_prefix("TF_REATTACH_PROVIDERS='")
                .and_then(|r| r.strip_suffix('\''))
                .map(str::to_string)
        });
    let Some(reattach) = reattach else {
        let _ = provider.kill();
        panic!("the provider printed no TF_REATTACH_PROVIDERS line");
    };
    let dir = workdir("reattach", NESTED_AND_FUNCTIONS, &pdir);
    // No dev_overrides: the provider can only come from the reattach line.
    fs::write(dir.join("cli.tfrc"), "").expect("empty cli config");
    let apply = terrane(&dir, &["apply", "-auto-approve", "-no-color"])
        .env("TF_REATTACH_PROVIDERS", &reattach)
        .output()
        .expect("run terrane");
    let out = text(&apply);
    let still_running = provider.try_wait().ok().flatten().is_none();
    let _ = provider.kill();
    let _ = provider.wait();
    // The killed provider leaves its socket behind.
    if let Ok(j) = serde_json::from_str::<serde_json::Value>(&reattach) {
        if let Some(sock) = j[ADDRESS]["Addr"]["String"].as_str() {
            let _ = fs::remove_file(sock);
        }
    }
    assert_eq!(apply.status.code(), Some(0), "{out}");
    assert!(out.contains("greeting = \"Hello, world!\""), "{out}");
    assert!(out.contains("summary = \"2 list, 2 set, 1 map\""), "{out}");
    assert!(still_running, "terrane must not stop a reattached provider");
    let _ = fs::remove_dir_all(&dir);
}
