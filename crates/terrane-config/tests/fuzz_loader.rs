//! A mutation fuzzer over the corpus: no input may panic or hang the
//! scanner, parser, formatter, loader or validator.
//!
//! Runs for 60 s under `CI=true` (the acceptance bound), otherwise for
//! `TERRANE_FUZZ_SECS` seconds (default 3). Seeds are the corpus files, or a
//! few built-in snippets when the corpus is absent outside CI. A failing
//! input is written to `target/fuzz-failure.tf` to reproduce it.

use std::sync::mpsc;
use std::time::{Duration, Instant};
use terrane_config::model::ModuleTree;

/// xorshift64*: a small deterministic generator, seeded per run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Fragments that stress the scanner's modes and the parser's nesting.
const DICTIONARY: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "${",
    "%{",
    "~}",
    "}",
    "<<EOT\n",
    "<<-EOT\n",
    "\nEOT\n",
    "\n",
    "#",
    "//",
    "/*",
    "*/",
    "=",
    "==",
    "?",
    ":",
    "::",
    "...",
    "=>",
    "[*]",
    ".*",
    ".0",
    "for x in y :",
    "if",
    "%{ endif }",
    "%{ else }",
    "%{ for a in b }",
    "%{ endfor }",
    "\\",
    "\\u",
    "$${",
    "\t",
    "\r\n",
    "resource \"a\" \"b\" {\n",
    "dynamic \"x\" {\n",
    "content {}\n",
    "provider::a::b(",
    "!",
    "-",
    "&&",
    "||",
    "1e999",
    "0.",
    "'",
];

fn seeds() -> Vec<String> {
    let mut out = Vec::new();
    if let Some(dir) = terrane_testkit::corpus_dir() {
        for e in terrane_testkit::read_jsonl(&dir.join("fmt-results.jsonl")) {
            if let Some(p) = e["path"].as_str() {
                if let Ok(t) = std::fs::read_to_string(dir.join(p)) {
                    if t.len() < 64 * 1024 {
                        out.push(t);
                    }
                }
            }
        }
    }
    if out.is_empty() {
        out.push("resource \"null_resource\" \"a\" {\n  count = 2\n  triggers = { a = \"${var.x}-%{ if true }y%{ endif }\" }\n}\n".into());
        out.push("locals {\n  x = [for k, v in var.m : k => v... if v != null]\n  h = <<-EOT\n    a ${b}\n    EOT\n}\n".into());
        out.push("{\"resource\": {\"a\": {\"b\": {\"count\": 1, \"x\": \"${var.y}\"}}}}".into());
    }
    out
}

fn mutate(rng: &mut Rng, seeds: &[String]) -> String {
    let mut s: Vec<u8> = seeds[rng.below(seeds.len())].clone().into_bytes();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(s.len() + 1);
        match rng.below(6) {
            0 => {
                let frag = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                s.splice(at..at, frag.iter().copied());
            }
            1 if !s.is_empty() => {
                let end = (at + 1 + rng.below(32)).min(s.len());
                s.drain(at.min(end)..end);
            }
            2 if !s.is_empty() => {
                let i = rng.below(s.len());
                s[i] = (rng.next() & 0x7f) as u8;
            }
            3 if !s.is_empty() => {
                let start = rng.below(s.len());
                let end = (start + rng.below(64)).min(s.len());
                let chunk = s[start..end].to_vec();
                s.splice(at..at, chunk);
            }
            4 => {
                let other = seeds[rng.below(seeds.len())].as_bytes();
                let from = rng.below(other.len() + 1);
                s.truncate(at);
                s.extend_from_slice(&other[from..]);
            }
            _ => {
                let n = 1 + rng.below(200);
                let frag = DICTIONARY[rng.below(DICTIONARY.len())];
                let rep = frag.repeat(n);
                s.splice(at..at, rep.bytes());
            }
        }
    }
    String::from_utf8_lossy(&s).into_owned()
}

/// Everything the loader does with one file.
fn exercise(input: &str) {
    let file = terrane_hcl::SourceFile::new("fuzz.tf", input);
    let _ = terrane_hcl::format::format_terraform(&file);
    for name in ["fuzz.tf", "fuzz.tf.json"] {
        let (module, diags) = terrane_config::load_source(name, input);
        for d in diags.iter() {
            let _ = terrane_hcl::render::plain(d, 78);
            let _ = terrane_hcl::render::json(d);
        }
        let tree = ModuleTree {
            module,
            ..ModuleTree::default()
        };
        let _ = terrane_config::validate::validate_tree(&tree);
    }
}

#[test]
fn no_input_panics_or_hangs() {
    let secs: u64 = if std::env::var("CI").as_deref() == Ok("true") {
        60
    } else {
        std::env::var("TERRANE_FUZZ_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3)
    };
    let seeds = seeds();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1)
        | 1;
    eprintln!("fuzz: {} seeds, {secs} s, rng seed {seed}", seeds.len());
    let (to_worker, inputs) = mpsc::sync_channel::<String>(1);
    let (done_tx, done) = mpsc::channel::<Result<(), String>>();
    let worker = std::thread::spawn(move || {
        for input in inputs {
            let r = std::panic::catch_unwind(|| exercise(&input)).map_err(|_| input);
            if done_tx.send(r).is_err() {
                return;
            }
        }
    });
    let mut rng = Rng(seed);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut cases = 0u64;
    let failure_path = terrane_testkit::workspace_root().join("target/fuzz-failure.tf");
    while Instant::now() < deadline {
        let input = mutate(&mut rng, &seeds);
        to_worker.send(input.clone()).expect("fuzz worker stopped");
        match done.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => cases += 1,
            Ok(Err(bad)) => {
                let _ = std::fs::write(&failure_path, &bad);
                panic!(
                    "panic on a fuzz input (saved to {})",
                    failure_path.display()
                );
            }
            Err(_) => {
                let _ = std::fs::write(&failure_path, &input);
                panic!(
                    "no result within 10 s: hang on a fuzz input (saved to {})",
                    failure_path.display()
                );
            }
        }
    }
    drop(to_worker);
    let _ = worker.join();
    eprintln!("fuzz: {cases} inputs without a panic or hang");
    assert!(cases > 0);
}
