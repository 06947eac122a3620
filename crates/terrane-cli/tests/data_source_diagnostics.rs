//! Errors a data source's provider returns, in full: `with ADDR,`, the
//! source location (the argument the provider names, else the block's
//! opening brace), every diagnostic of every instance. The expected texts
//! in `tests/data_source_diagnostics` were recorded from Terraform 1.0.3
//! (`plan -no-color` standard error; `plan -json` diagnostic lines without
//! their timestamps) on the `.tf` fixture next to them. The configurations
//! use only the built-in terraform provider, so no peer is needed.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data_source_diagnostics")
        .join(name);
    fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh working directory holding the fixture as `main.tf`.
fn workdir(case: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("terrane-data-diags-{}-{case}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create work dir");
    fs::write(dir.join("main.tf"), fixture(&format!("{case}.tf"))).expect("write main.tf");
    dir
}

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_CLI_CONFIG_FILE")
        .output()
        .expect("run terrane")
}

/// The `diagnostic` lines of a `-json` run without their timestamps,
/// sorted (instances are read concurrently, so their order varies).
fn json_diagnostics(stdout: &[u8]) -> Vec<String> {
    let mut lines: Vec<String> = String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| l.contains(r#""type":"diagnostic""#))
        .map(without_timestamp)
        .collect();
    lines.sort();
    lines
}

/// A JSON UI line without its `"@timestamp":"...",` member, byte for
/// byte otherwise.
fn without_timestamp(line: &str) -> String {
    const KEY: &str = r#""@timestamp":""#;
    let Some(start) = line.find(KEY) else {
        return line.to_string();
    };
    let value_start = start + KEY.len();
    match line[value_start..].find("\",") {
        Some(end) => format!("{}{}", &line[..start], &line[value_start + end + 2..]),
        None => line.to_string(),
    }
}

fn expected_json(name: &str) -> Vec<String> {
    let mut lines: Vec<String> = fixture(name)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

fn check(case: &str) {
    let dir = workdir(case);
    let out = terrane(&dir, &["plan", "-no-color"]);
    assert_eq!(out.status.code(), Some(1), "plan exit code for {case}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        fixture(&format!("{case}.stderr")),
        "plan -no-color standard error for {case}"
    );
    let out = terrane(&dir, &["plan", "-json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "plan -json exit code for {case}"
    );
    assert_eq!(
        json_diagnostics(&out.stdout),
        expected_json(&format!("{case}.jsonl")),
        "plan -json diagnostics for {case}"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// Two data sources whose state is missing: both errors, each with its
/// address and the block's opening brace.
#[test]
fn every_failing_data_source_is_reported_at_its_block() {
    check("missing_state");
}

/// The provider names the `config` argument: the snippet is its value.
#[test]
fn an_error_about_an_argument_points_at_its_expression() {
    check("invalid_config");
}
