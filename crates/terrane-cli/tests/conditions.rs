//! Custom conditions, with the semantics of the later 1.x releases that
//! terrane accepts (Terraform 1.0.3 rejects these blocks, so there is no
//! peer to compare with): resource `precondition` / `postcondition`
//! (`self` is the planned object), output `precondition`, and `check`
//! block assertions, which only warn. Built-in null provider, no plugins.

use std::path::Path;
use std::process::Command;

/// Runs `terrane plan -var n=N` on a fresh copy of tests/conditions;
/// returns (exit code, standard output + standard error).
fn plan(n: &str) -> (i32, String) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conditions");
    let dir = std::env::temp_dir().join(format!("terrane-conditions-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::copy(src.join("main.tf"), dir.join("main.tf")).expect("copy main.tf");
    let out = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args([
            "plan",
            "-no-color",
            "-input=false",
            "-var",
            &format!("n={n}"),
        ])
        .current_dir(&dir)
        .env("TERRANE_PROVIDERS", "builtin")
        .output()
        .expect("run terrane");
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn all_conditions_hold() {
    let (code, text) = plan("1");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{text}"
    );
    assert!(
        !text.contains("Warning:") && !text.contains("Error:"),
        "{text}"
    );
}

#[test]
fn failed_precondition_stops_the_plan() {
    let (code, text) = plan("7");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("Error: Resource precondition failed"),
        "{text}"
    );
    assert!(text.contains("n must be below 5."), "{text}");
    assert!(
        text.contains("condition     = var.n < 5"),
        "the subject is the condition: {text}"
    );
    assert!(!text.contains("Plan:"), "{text}");
}

#[test]
fn postcondition_sees_the_planned_object() {
    let (code, text) = plan("2");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("Error: Resource postcondition failed"),
        "{text}"
    );
    assert!(text.contains("instance 1 has i = 1."), "{text}");
    assert!(!text.contains("instance 0 has"), "{text}");
}

#[test]
fn output_precondition() {
    let (code, text) = plan("3");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("Error: Module output value precondition failed"),
        "{text}"
    );
    assert!(text.contains("n is 3."), "{text}");
}

#[test]
fn failed_check_assertion_only_warns() {
    let (code, text) = plan("-1");
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("Warning: Check block assertion failed"),
        "{text}"
    );
    assert!(text.contains("n must be positive."), "{text}");
    assert!(
        text.contains("Plan: 2 to add, 0 to change, 0 to destroy."),
        "{text}"
    );
}

/// Runs terrane with `args` in `dir` (built-in providers).
fn terrane(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("TERRANE_PROVIDERS", "builtin")
        .output()
        .expect("run terrane");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn replace_triggered_by_replaces_on_change_only() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conditions/triggers");
    let dir = std::env::temp_dir().join(format!("terrane-triggers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    std::fs::copy(src.join("main.tf"), dir.join("main.tf")).expect("copy main.tf");
    let (code, text) = terrane(&dir, &["apply", "-no-color", "-auto-approve"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Resources: 5 added"), "{text}");
    // Nothing changed: no trigger fires.
    let (code, text) = terrane(&dir, &["plan", "-no-color"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("No changes."), "{text}");
    // The source is replaced: the whole-resource and the attribute
    // reference both fire; the unrelated one does not.
    let (code, text) = terrane(&dir, &["plan", "-no-color", "-var", "v=2"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains(
            "  # null_resource.whole will be replaced due to changes in replace_triggered_by"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  # null_resource.attr[0] will be replaced due to changes in replace_triggered_by"
        ),
        "{text}"
    );
    assert!(!text.contains("  # null_resource.unrelated"), "{text}");
    assert!(
        text.contains("Plan: 3 to add, 0 to change, 3 to destroy."),
        "{text}"
    );
}
