//! Data-driven tests against state files recorded from Terraform 1.0.3 (see
//! `tests/fixtures/record.sh`).

use std::fs;
use std::path::{Path, PathBuf};

use terrane_state::{read, serialize, ReadOptions};

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

fn files(sub: &str, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir(sub))
        .expect("fixture dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {sub}");
    v
}

fn first_diff(a: &str, b: &str) -> String {
    let line = a
        .lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(0);
    format!(
        "first difference at line {}:\n ours:      {:?}\n terraform: {:?}",
        line + 1,
        a.lines().nth(line),
        b.lines().nth(line)
    )
}

/// States written by `terraform apply`/`taint` read back and re-serialize
/// to the same bytes.
#[test]
fn apply_fixtures_round_trip() {
    for path in files("apply", ".tfstate") {
        let bytes = fs::read_to_string(&path).expect("read fixture");
        let file = read(bytes.as_bytes(), &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .expect("not empty");
        let out = serialize(&file);
        assert!(
            out == bytes,
            "{}: {}",
            path.display(),
            first_diff(&out, &bytes)
        );
    }
}

/// Hand-written inputs serialize as Terraform re-serialized them
/// (`terraform state pull`).
#[test]
fn pull_fixtures_match_terraform() {
    for input in files("pull", ".in.json") {
        let expected_path = input.to_string_lossy().replace(".in.json", ".tfstate");
        let expected = fs::read_to_string(&expected_path).expect("expected output");
        let src = fs::read(&input).expect("input");
        let mut file = read(&src, &ReadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", input.display()))
            .expect("not empty");
        file.terraform_version = "1.0.3".into();
        let out = serialize(&file);
        assert!(
            out == expected,
            "{}: {}",
            input.display(),
            first_diff(&out, &expected)
        );
        // And Terraform's output is itself a fixed point.
        let again = read(expected.as_bytes(), &ReadOptions::default())
            .expect("reads")
            .expect("not empty");
        assert_eq!(serialize(&again), expected, "{expected_path}");
    }
}

/// Invalid inputs fail with Terraform's messages.
#[test]
fn error_fixtures_match_terraform() {
    let mut failures = Vec::new();
    for input in files("errors", ".in.json") {
        let expected_path = input.to_string_lossy().replace(".in.json", ".err");
        let expected = fs::read_to_string(&expected_path).expect("expected message");
        let src = fs::read(&input).expect("input");
        match read(&src, &ReadOptions::default()) {
            Ok(_) => failures.push(format!("{}: accepted", input.display())),
            Err(e) => {
                let got = e.to_string();
                if got.trim_end() != expected.trim_end() {
                    failures.push(format!(
                        "{}:\n ours:      {got:?}\n terraform: {:?}",
                        input.display(),
                        expected.trim_end()
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Corrupt state files never panic the reader: every fixture truncated at
/// every offset, and with bytes replaced at pseudo-random places.
#[test]
fn corrupt_inputs_do_not_panic() {
    let mut inputs: Vec<Vec<u8>> = Vec::new();
    for (sub, suffix) in [
        ("apply", ".tfstate"),
        ("pull", ".in.json"),
        ("errors", ".in.json"),
    ] {
        for p in files(sub, suffix) {
            inputs.push(fs::read(&p).expect("fixture"));
        }
    }
    let opts = ReadOptions::default();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let specials = b"{}[]\":,0-.e\\u \n\x00\xff\xc3";
    for src in &inputs {
        let step = (src.len() / 400).max(1);
        for cut in (0..src.len()).step_by(step) {
            let _ = read(&src[..cut], &opts);
        }
        for _ in 0..300 {
            let mut m = src.clone();
            for _ in 0..1 + next() % 3 {
                let at = (next() % m.len().max(1) as u64) as usize;
                if at < m.len() {
                    m[at] = specials[(next() % specials.len() as u64) as usize];
                }
            }
            if let Ok(Some(file)) = read(&m, &opts) {
                // Whatever is accepted can be written and read back.
                let out = serialize(&file);
                match read(out.as_bytes(), &opts) {
                    Ok(Some(again)) => assert_eq!(serialize(&again), out, "not a fixed point"),
                    other => panic!("our output is not readable: {other:?}\n{out}"),
                }
            }
        }
    }
}
