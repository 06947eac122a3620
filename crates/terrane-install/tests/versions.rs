//! Version constraints: every operator, comma lists, `~>` with one, two and
//! three parts, prerelease rules, merging, and the normalized form Terraform
//! 1.0.3 records in the lock file (observed from `terraform init`).

use terrane_install::{Constraints, Version};

fn v(s: &str) -> Version {
    Version::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn constraint_table() {
    // (constraint, version, allowed)
    let table: &[(&str, &str, bool)] = &[
        ("", "1.0.0", true),
        ("", "1.0.0-beta", false),
        ("1.2.3", "1.2.3", true),
        ("1.2.3", "1.2.4", false),
        ("= 1.2.3", "1.2.3", true),
        ("=1.2", "1.2.0", true),
        ("=1.2", "1.2.1", false),
        ("!= 1.2.3", "1.2.3", false),
        ("!= 1.2.3", "1.2.4", true),
        ("> 1.2.3", "1.2.3", false),
        ("> 1.2.3", "1.2.4", true),
        (">= 1.2.3", "1.2.3", true),
        (">= 1.2.3", "1.2.2", false),
        ("< 1.2.3", "1.2.2", true),
        ("< 1.2.3", "1.2.3", false),
        ("<= 1.2.3", "1.2.3", true),
        ("<= 1.2.3", "1.2.4", false),
        // ~> with one part: any 1.x
        ("~> 1", "1.0.0", true),
        ("~> 1", "1.9.9", true),
        ("~> 1", "2.0.0", false),
        ("~> 1", "0.9.0", false),
        // two parts: >= 1.2, < 2
        ("~> 1.2", "1.2.0", true),
        ("~> 1.2", "1.10.0", true),
        ("~> 1.2", "1.1.9", false),
        ("~> 1.2", "2.0.0", false),
        // three parts: >= 1.2.3, < 1.3
        ("~> 1.2.3", "1.2.3", true),
        ("~> 1.2.3", "1.2.10", true),
        ("~> 1.2.3", "1.2.2", false),
        ("~> 1.2.3", "1.3.0", false),
        ("~>1.2.3", "1.2.9", true),
        // comma lists: all must hold
        (">= 1.0, < 2.0", "1.5.0", true),
        (">= 1.0, < 2.0", "2.0.0", false),
        (">= 1.0, < 2.0, != 1.5.0", "1.5.0", false),
        (">=1.0,<2.0", "1.9.9", true),
        ("~> 2.1, != 2.1.2", "2.1.2", false),
        // prereleases: only an exact constraint selects one
        ("1.0.0-beta", "1.0.0-beta", true),
        ("= 1.0.0-beta", "1.0.0-beta", true),
        (">= 1.0.0-beta", "1.0.0-beta", false),
        (">= 1.0.0-beta", "1.0.0", true),
        (">= 0.9", "1.0.0-rc1", false),
        ("~> 1.0.0-beta", "1.0.0-rc1", false),
        ("~> 1.0.0-beta", "1.0.1", true),
        ("1.0.0-beta, >= 0.5", "1.0.0-beta", true),
        ("1.0.0-beta, < 0.5", "1.0.0-beta", false),
        // metadata does not count
        ("1.0.0", "1.0.0+build5", true),
    ];
    let mut failures = Vec::new();
    for (constraint, version, want) in table {
        let c = Constraints::parse(constraint).unwrap_or_else(|e| panic!("{constraint}: {e}"));
        if c.allows(&v(version)) != *want {
            failures.push(format!("{constraint:?} allows {version}: expected {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_constraints() {
    for bad in [
        "~> 1.2.3.4",
        "2.1.x",
        ">=",
        "> = 1",
        "1..2",
        "1.2.3-",
        "abc",
        ">= 1, ",
    ] {
        assert!(Constraints::parse(bad).is_err(), "{bad:?} should not parse");
    }
    let err = Constraints::parse("~> 2.1.2.0").unwrap_err();
    assert!(err.contains("too many numbered portions"), "{err}");
}

#[test]
fn newest_matching_version() {
    let available: Vec<Version> = [
        "1.0.0",
        "1.1.0",
        "1.2.0-beta",
        "2.0.0",
        "2.1.0-rc1",
        "1.1.5",
    ]
    .iter()
    .map(|s| v(s))
    .collect();
    let newest = |c: &str| {
        Constraints::parse(c)
            .unwrap()
            .newest(&available)
            .map(|v| v.to_string())
    };
    assert_eq!(newest("").as_deref(), Some("2.0.0"));
    assert_eq!(newest("~> 1.0").as_deref(), Some("1.1.5"));
    assert_eq!(newest("~> 1.1.0").as_deref(), Some("1.1.5"));
    assert_eq!(newest("< 1.1").as_deref(), Some("1.0.0"));
    assert_eq!(newest("1.2.0-beta").as_deref(), Some("1.2.0-beta"));
    assert_eq!(newest("> 2.0.0"), None);
}

#[test]
fn merged_constraints_from_several_modules() {
    let mut c = Constraints::parse("~> 2.0").unwrap();
    c.merge(&Constraints::parse(">= 2.1").unwrap());
    c.merge(&Constraints::parse("!= 2.1.3").unwrap());
    let available: Vec<Version> = ["2.0.5", "2.1.2", "2.1.3", "3.0.0"]
        .iter()
        .map(|s| v(s))
        .collect();
    assert_eq!(c.newest(&available), Some(v("2.1.2")));
    assert_eq!(c.canonical(), "~> 2.0, >= 2.1.0, != 2.1.3");
}

/// Terraform 1.0.3's `constraints = "..."` for each configured string, as
/// written by `terraform init` (recorded from the peer).
#[test]
fn canonical_form_matches_terraform() {
    let table = [
        ("2.1.2", "2.1.2"),
        ("= 2.1.2", "2.1.2"),
        ("~> 2.1", "~> 2.1"),
        ("~>2", "~> 2.0"),
        (">=2.0,<3", ">= 2.0.0, < 3.0.0"),
        ("!= 2.0.0, >= 1", ">= 1.0.0, != 2.0.0"),
        (">= 2.1.2, ~> 2.1.0, ~> 2.1.0", "~> 2.1.0, >= 2.1.2"),
        ("<= 4, ~> 2, ~> 2.1.0, > 1.9", "> 1.9.0, ~> 2.0, ~> 2.1.0, <= 4.0.0"),
        (">= 2.1.2-alpha", ">= 2.1.2-alpha"),
        (" >= 2.1.2 ", ">= 2.1.2"),
        ("2.1.2-alpha, 2.1.2", "2.1.2-alpha, 2.1.2"),
        (
            "< 5, <= 4, > 0.1, >= 0.2, != 1.0.0, ~> 2.1, != 0.5.0, >= 0.1, ~> 2.0.1-beta, <3",
            "> 0.1.0, >= 0.1.0, >= 0.2.0, != 0.5.0, != 1.0.0, ~> 2.0.1-beta, ~> 2.1, < 3.0.0, <= 4.0.0, < 5.0.0",
        ),
    ];
    for (input, want) in table {
        assert_eq!(
            Constraints::parse(input).unwrap().canonical(),
            want,
            "for {input:?}"
        );
    }
}

#[test]
fn version_ordering() {
    let mut vs: Vec<Version> = [
        "1.0.0",
        "1.0.0-rc.1",
        "1.0.0-beta.11",
        "1.0.0-beta.2",
        "1.0.0-alpha",
        "0.9.9",
        "1.0.1",
    ]
    .iter()
    .map(|s| v(s))
    .collect();
    vs.sort();
    let got: Vec<String> = vs.iter().map(|v| v.to_string()).collect();
    assert_eq!(
        got,
        [
            "0.9.9",
            "1.0.0-alpha",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1"
        ]
    );
    assert_eq!(v("v1.2.3").to_string(), "1.2.3");
}
