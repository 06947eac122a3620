//! Helpers shared by terrane's tests.
//!
//! The real-world corpus lives outside the repository (`../shared/corpus`
//! next to the checkout). Tests read it from there; under `CI=true` a
//! missing corpus is a failure, elsewhere the test skips with a message.

use std::path::{Path, PathBuf};

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
