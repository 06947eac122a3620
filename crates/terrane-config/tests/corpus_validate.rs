//! Static validation over every corpus module, compared with what
//! Terraform 1.0.3's `validate` (without init) concluded about it.
//!
//! * A unit Terraform loaded without configuration errors (`valid`,
//!   `needs-providers`, `needs-modules`) must load without errors; a
//!   `valid` one must also pass the reference checks (Terraform checks
//!   references only after loading provider schemas, so for the others it
//!   never got that far: some of them do reference undeclared objects).
//! * A unit Terraform rejected for a real mistake (`invalid` and not
//!   `newer_terraform_only`) should get at least one error; the agreement
//!   figure is printed and held by a floor, since some of those mistakes
//!   need provider schemas to see.

use std::path::{Path, PathBuf};
use terrane_config::loader::{is_override_file, load_files};
use terrane_config::model::ModuleTree;
use terrane_config::validate::validate_tree;
use terrane_testkit::{corpus_dir, read_jsonl};

#[test]
fn validate_agrees_with_terraform() {
    let Some(dir) = corpus_dir() else { return };
    let mut false_errors = Vec::new();
    let (mut invalid_total, mut invalid_caught) = (0, 0);
    let mut missed = Vec::new();
    for unit in read_jsonl(&dir.join("validate-results.jsonl")) {
        let files: Vec<PathBuf> = unit["files"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f.as_str())
                    .map(|f| dir.join(f))
                    .collect()
            })
            .unwrap_or_default();
        let (primary, overrides): (Vec<PathBuf>, Vec<PathBuf>) = files
            .iter()
            .cloned()
            .partition(|p| !is_override_file(&p.file_name().unwrap_or_default().to_string_lossy()));
        let unit_dir = dir.join(unit["unit"].as_str().unwrap_or_default());
        let module_dir = if unit_dir.is_dir() {
            unit_dir.clone()
        } else {
            unit_dir.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let (module, load_diags) = load_files(&module_dir, "", &primary, &overrides);
        let tree = ModuleTree {
            module,
            path: vec![],
            children: Default::default(),
        };
        let ref_diags = validate_tree(&tree);
        let errors_of = |d: &terrane_hcl::Diagnostics| -> Vec<String> {
            d.iter()
                .filter(|d| d.is_error())
                .map(|d| d.to_string())
                .collect()
        };
        let load_errors = errors_of(&load_diags);
        let mut errors = load_errors.clone();
        errors.extend(errors_of(&ref_diags));
        let status = unit["status"].as_str().unwrap_or_default();
        let newer_only = unit["newer_terraform_only"].as_bool().unwrap_or(false);
        match status {
            "valid" if !errors.is_empty() => {
                false_errors.push(format!("{}:{}", unit["unit"], errors.join("")))
            }
            "needs-providers" | "needs-modules" if !load_errors.is_empty() => {
                false_errors.push(format!("{}:{}", unit["unit"], load_errors.join("")))
            }
            "invalid" if !newer_only => {
                invalid_total += 1;
                if errors.is_empty() {
                    missed.push(unit["unit"].to_string());
                } else {
                    invalid_caught += 1;
                }
            }
            _ => {}
        }
    }
    eprintln!(
        "invalid units caught: {invalid_caught} of {invalid_total}; missed:\n{}",
        missed.join("\n")
    );
    assert!(
        false_errors.is_empty(),
        "{} units Terraform accepts got errors:\n{}",
        false_errors.len(),
        false_errors.join("\n")
    );
    assert!(
        invalid_total > 50,
        "only {invalid_total} invalid units found"
    );
    // Measured 2026-11-23; raise it when more checks land.
    assert!(
        invalid_caught * 100 >= invalid_total * 60,
        "only {invalid_caught} of {invalid_total} invalid units caught"
    );
}
