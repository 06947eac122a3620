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
            Ok(out) => differing.push(format!("{path}: {}", first_difference(&out, &expected))),
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
    assert!(
        fraction >= FLOOR,
        "identical fraction {fraction:.4} below floor {FLOOR}"
    );
}

/// Where `out` first differs from `expected`, for the failure list.
fn first_difference(out: &str, expected: &[u8]) -> String {
    let expected = String::from_utf8_lossy(expected);
    let mut got = out.split_inclusive('\n');
    let mut want = expected.split_inclusive('\n');
    for line in 1.. {
        match (got.next(), want.next()) {
            (None, None) => break,
            (g, w) if g != w => {
                return format!(
                    "line {line}: got {:?}, want {:?}",
                    g.unwrap_or("<end>"),
                    w.unwrap_or("<end>")
                )
            }
            _ => {}
        }
    }
    "output differs".to_string()
}

/// A large file (20,000 blocks, about 9 MB) formats in time linear in its
/// size: well under a second in release builds. Debug builds get a looser
/// bound; the point there is to catch quadratic behaviour.
#[test]
fn large_file_formats() {
    let mut src = String::new();
    for i in 0..20_000 {
        src.push_str(&format!(
            r#"resource aws_instance "web_{i}" {{
ami = "${{var.ami}}"
  instance_type   = "t2.micro" # size
  subnet_id = element(module.vpc.private_subnets, {i} % length(module.vpc.private_subnets))
  tags = {{
    Name = "web-${{count.index}}"
      Environment= var.env
    Owner       = "team-platform"
  }}
  list = [1, 2,3, local.x]
  user_data = <<-EOT
    #!/bin/bash
    echo hello ${{var.name}}
  EOT
  root_block_device {{ volume_size = 20 }}
  cond = var.a ? -1 : local.b[0].c
}}

"#
        ));
    }
    assert!(src.len() > 8_000_000, "{} bytes", src.len());
    let file = SourceFile::new("big.tf", src);
    // Correctness on a large file only: speed is measured by bench/parse.sh,
    // never asserted in a test.
    let out = format_terraform(&file).expect("parses");
    assert!(out.contains("resource \"aws_instance\" \"web_19999\" {\n  ami           = var.ami\n"));
}
