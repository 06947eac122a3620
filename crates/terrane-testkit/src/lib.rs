//! Helpers shared by terrane's tests.
//!
//! The real-world corpus lives outside the repository (`../shared/corpus`
//! next to the checkout). Tests read it from there; under `CI=true` a
//! missing corpus is a failure, elsewhere the test skips with a message.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root (the directory holding the top-level Cargo.toml).
pub fn workspace_root() -> PathBuf {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| here.to_path_buf())
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// The corpus directory, or `None` (after printing why) when it is absent
/// outside CI. Panics under `CI=true` when it is missing: CI always has it.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("TERRANE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/corpus"));
    if dir.join("fmt-results.jsonl").is_file() {
        return Some(dir);
    }
    if in_ci() {
        panic!(
            "the shared corpus is missing at {} (CI=true requires it; set TERRANE_CORPUS)",
            dir.display()
        );
    }
    eprintln!(
        "skipping: the shared corpus is not at {} (set TERRANE_CORPUS to run this test)",
        dir.display()
    );
    None
}

/// Reads a JSON-lines file into values, one per non-empty line.
pub fn read_jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("bad JSON line in {}: {e}", path.display()))
        })
        .collect()
}

/// The test provider built on the published `tf-provider` framework.
pub const TFPTEST_BINARY: &str = "terraform-provider-tfptest";

fn skip_or_fail(why: String) -> Option<PathBuf> {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{why}");
    }
    eprintln!("skipping: {why}");
    None
}

/// Builds `terraform-provider-tfptest` (crates/terrane-plugin/tests/tfprovider,
/// not a workspace member) debug and `--locked` into `<target>/tfprovider`,
/// and returns the directory holding the binary. Without `cargo` or
/// `protoc` it skips (`None`) outside CI and panics under `CI=true`.
pub fn build_tfptest_provider() -> Option<PathBuf> {
    // Spelled without `..`: cargo keys its fingerprints on the manifest
    // path, and the plugin crate's test builds the same project.
    let project = workspace_root().join("crates/terrane-plugin/tests/tfprovider");
    // The test executable is <target>/debug/deps/NAME.
    let exe = std::env::current_exe().expect("test executable path");
    let Some(target) = exe.ancestors().nth(3) else {
        panic!("unexpected test executable location {}", exe.display());
    };
    let target = target.join("tfprovider");
    let protoc = std::env::var_os("PROTOC").unwrap_or_else(|| "protoc".into());
    if Command::new(&protoc).arg("--version").output().is_err() {
        return skip_or_fail(format!(
            "protoc is not installed (needed to build {TFPTEST_BINARY}; Debian: apt-get install protobuf-compiler)"
        ));
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // The working directory selects the project's .cargo/config.toml.
    let mut build = Command::new(&cargo);
    build
        .args(["build", "--locked", "--quiet", "--manifest-path"])
        .arg(project.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .current_dir(&project);
    // Not the variables cargo set for this test: build scripts that watch
    // them (ring's watches CARGO_MANIFEST_DIR) would rerun per test crate.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name == "OUT_DIR"
            || (name.starts_with("CARGO_")
                && name != "CARGO_HOME"
                && !name.starts_with("CARGO_NET_")
                && !name.starts_with("CARGO_HTTP_")
                && !name.starts_with("CARGO_REGISTRIES_"))
        {
            build.env_remove(name.as_ref());
        }
    }
    let out = match build.output() {
        Ok(out) => out,
        Err(e) => return skip_or_fail(format!("cannot run cargo to build {TFPTEST_BINARY}: {e}")),
    };
    assert!(
        out.status.success(),
        "building {TFPTEST_BINARY} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = target.join("debug");
    assert!(
        dir.join(TFPTEST_BINARY).is_file(),
        "{TFPTEST_BINARY} was not built"
    );
    Some(dir)
}
