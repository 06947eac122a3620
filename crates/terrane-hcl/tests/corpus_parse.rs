//! Every native-syntax corpus file that Terraform 1.0.3 parses, terrane
//! parses; every file it rejects, terrane rejects with an error.

use terrane_hcl::{parse_file, SourceFile};
use terrane_testkit::{corpus_dir, read_jsonl};

/// Files Terraform 1.0.3 rejects only because they use syntax newer than
/// 1.0.3 (provider-defined functions, Terraform >= 1.8). terrane accepts
/// that syntax on purpose; docs/compatibility.md says so.
fn newer_syntax(entry: &serde_json::Value) -> bool {
    entry
        .get("note")
        .and_then(|n| n.as_str())
        .is_some_and(|n| n.contains("provider::"))
}

#[test]
fn parse_parity_with_terraform() {
    let Some(dir) = corpus_dir() else { return };
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for entry in read_jsonl(&dir.join("fmt-results.jsonl")) {
        if entry["syntax"] != "native" {
            continue;
        }
        let path = entry["path"].as_str().unwrap_or_default();
        let bytes = std::fs::read(dir.join(path)).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let parsed = parse_file(&SourceFile::new(path, text));
        let ok = !parsed.diagnostics.has_errors();
        let want = entry["parses"].as_bool().unwrap_or(false) || newer_syntax(&entry);
        checked += 1;
        if ok != want {
            let first = parsed
                .diagnostics
                .iter()
                .next()
                .map(|d| d.to_string())
                .unwrap_or_default();
            mismatches.push(format!(
                "{path}: terraform parses={want}, terrane parses={ok}{first}"
            ));
        }
    }
    assert!(checked > 3000, "only {checked} files checked");
    assert!(
        mismatches.is_empty(),
        "{} of {checked} files differ:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
