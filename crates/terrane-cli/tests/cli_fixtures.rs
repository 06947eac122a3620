//! Command-line fixtures: each directory under `tests/fixtures` is a
//! command line, a working directory and optional standard input, with the
//! standard output, standard error, exit code (and files afterwards, for
//! `fmt`) that the real Terraform 1.0.3 produced (`fixtures/record.py`
//! re-records them). terrane must reproduce them byte for byte.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create scratch dir");
    for e in fs::read_dir(from).expect("read fixture dir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target)
        } else {
            fs::copy(e.path(), &target).expect("copy fixture file");
        }
    }
}

/// All files under `dir`, relative path → content.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p)
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                out.push((rel, fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("terrane-cli-fixture-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).expect("create scratch dir");
    d
}

#[test]
fn fixtures_match_terraform() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut names: Vec<_> = fs::read_dir(&root)
        .expect("fixtures dir")
        .flatten()
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut failures = Vec::new();
    for name in &names {
        let fx = root.join(name);
        let args = fs::read_to_string(fx.join("args")).expect("args file");
        let work = scratch(name);
        if fx.join("in").is_dir() {
            copy_dir(&fx.join("in"), &work);
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_terrane"))
            .args(args.split_whitespace())
            .current_dir(&work)
            .env_remove("COLUMNS")
            .env("TF_DATA_DIR", ".terraform")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run terrane");
        let input = fs::read(fx.join("stdin")).unwrap_or_default();
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(&input);
        }
        let out = child.wait_with_output().expect("terrane output");
        let want = |f: &str| fs::read(fx.join(f)).unwrap_or_default();
        let rc = out.status.code().unwrap_or(-1).to_string();
        let mut problems = Vec::new();
        if out.stdout != want("expected.stdout") {
            problems.push(format!(
                "stdout:\n--- want\n{}\n--- got\n{}",
                String::from_utf8_lossy(&want("expected.stdout")),
                String::from_utf8_lossy(&out.stdout)
            ));
        }
        if out.stderr != want("expected.stderr") {
            problems.push(format!(
                "stderr:\n--- want\n{}\n--- got\n{}",
                String::from_utf8_lossy(&want("expected.stderr")),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        if rc.trim() != String::from_utf8_lossy(&want("expected.rc")).trim() {
            problems.push(format!(
                "exit code: want {} got {rc}",
                String::from_utf8_lossy(&want("expected.rc")).trim()
            ));
        }
        if fx.join("expected.files").is_dir()
            && snapshot(&work) != snapshot(&fx.join("expected.files"))
        {
            problems.push("files after the command differ from expected.files/".to_string());
        }
        let _ = fs::remove_dir_all(&work);
        if !problems.is_empty() {
            failures.push(format!("== {name}\n{}", problems.join("\n")));
        }
    }
    assert!(names.len() >= 15, "only {} fixtures", names.len());
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        names.len(),
        failures.join("\n")
    );
}
