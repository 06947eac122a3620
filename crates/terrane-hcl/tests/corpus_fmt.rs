//! `format_terraform` reproduces `terraform fmt` (v1.0.3) byte for byte on
//! the corpus files Terraform accepts.

use terrane_hcl::format::format_terraform;
use terrane_hcl::SourceFile;
use terrane_testkit::{corpus_dir, read_jsonl};

/// The identical fraction must not drop below this.
const FLOOR: f64 = 1.0;

#[test]
fn fmt_parity_with_terraform() {
    let Some(dir) = corpus_dir() else { return };
    let mut differing = Vec::new();
    let mut total = 0usize;
    for entry in read_jsonl(&dir.join("fmt-results.jsonl")) {
        if entry["syntax"] != "native" || entry["parses"] != true {
            continue;
        }
        let path = entry["path"].as_str().unwrap_or_default();
        let expected_path = entry["expected"].as_str().unwrap_or_default();
        let input = std::fs::read(dir.join(path)).unwrap_or_default();
        let expected = std::fs::read(dir.join(expected_path)).unwrap_or_default();
        total += 1;
        let text = String::from_utf8_lossy(&input).into_owned();
        match format_terraform(&SourceFile::new(path, text)) {
            Ok(out) if out.as_bytes() == expected.as_slice() => {}
            Ok(_) => differing.push(format!("{path}: output differs")),
            Err(d) => {
                let first = d.iter().next().map(|d| d.to_string()).unwrap_or_default();
                differing.push(format!("{path}: rejected: {first}"))
            }
        }
    }
    assert!(total > 3000, "only {total} files checked");
    let same = total - differing.len();
    let fraction = same as f64 / total as f64;
    println!("fmt: {same}/{total} identical ({:.2}%)", fraction * 100.0);
    for d in &differing {
        println!("  {d}");
    }
    assert!(fraction >= FLOOR, "identical fraction {fraction:.4} below floor {FLOOR}");
}
