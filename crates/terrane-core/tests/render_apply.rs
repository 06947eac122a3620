//! Apply UI lines against Terraform 1.0.3's observed output (recorded by
//! hand from `terraform apply` / `destroy` with hashicorp/null 2.1.2).

use std::time::Duration;

use terrane_core::plan::Action;
use terrane_core::render::*;
use terrane_value::Value;

const C: RenderOptions = RenderOptions { color: true };
const N: RenderOptions = RenderOptions { color: false };

#[test]
fn progress_lines() {
    assert_eq!(
        apply_start("null_resource.a", Action::Create, None, &C),
        "\x1b[0m\x1b[1mnull_resource.a: Creating...\x1b[0m\x1b[0m\n"
    );
    assert_eq!(
        apply_complete(
            "null_resource.a",
            Action::Create,
            Duration::from_secs(0),
            Some("769"),
            &C
        ),
        "\x1b[0m\x1b[1mnull_resource.a: Creation complete after 0s [id=769]\x1b[0m\n"
    );
    assert_eq!(
        apply_progress(
            "null_resource.s",
            Action::Create,
            Duration::from_secs(10),
            &C
        ),
        "\x1b[0m\x1b[1mnull_resource.s: Still creating... [10s elapsed]\x1b[0m\x1b[0m\n"
    );
    assert_eq!(
        apply_start("null_resource.a", Action::Delete, Some("7229"), &N),
        "null_resource.a: Destroying... [id=7229]\n"
    );
    assert_eq!(
        apply_complete(
            "null_resource.a",
            Action::Delete,
            Duration::from_secs(0),
            Some("7229"),
            &N
        ),
        "null_resource.a: Destruction complete after 0s\n"
    );
    assert_eq!(format_elapsed(Duration::from_secs(65)), "1m5s");
}

#[test]
fn summaries_outputs_prompt() {
    assert_eq!(
        apply_summary(false, 2, 0, 0, &C),
        "\x1b[0m\x1b[1m\x1b[32m\nApply complete! Resources: 2 added, 0 changed, 0 destroyed.\n\x1b[0m"
    );
    assert_eq!(
        apply_summary(true, 0, 0, 2, &N),
        "\nDestroy complete! Resources: 2 destroyed.\n"
    );
    let outs = vec![
        ("id".to_string(), Value::string("769"), false),
        ("sec".to_string(), Value::string("x"), true),
    ];
    assert_eq!(
        apply_outputs(&outs, &C),
        "\x1b[0m\x1b[1m\x1b[32m\nOutputs:\n\n\x1b[0mid = \"769\"\nsec = <sensitive>\n"
    );
    assert_eq!(
        apply_prompt(false, &C),
        "\x1b[0m\x1b[1m\nDo you want to perform these actions?\x1b[0m\n  Terraform will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  \x1b[1mEnter a value:\x1b[0m \x1b[0m"
    );
    assert_eq!(
        apply_prompt(true, &N),
        "\nDo you really want to destroy all resources?\n  Terraform will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.\n\n  Enter a value: "
    );
    assert_eq!(apply_cancelled(false), "Apply cancelled.\n");
}

#[test]
fn footer() {
    let f = plan_footer(&N);
    assert!(f.starts_with("\n───"));
    assert!(f.ends_with("if you run \"terraform apply\" now.\n"));
}

#[test]
fn refresh_and_long_operation_lines() {
    // As hashicorp/aws 3.39.0 runs under Terraform 1.0.3.
    assert_eq!(
        refresh_start("aws_vpc.main", Some("vpc-5e30"), &C),
        "\x1b[0m\x1b[1maws_vpc.main: Refreshing state... [id=vpc-5e30]\x1b[0m\n"
    );
    assert_eq!(
        refresh_start("aws_vpc.main", Some("vpc-5e30"), &N),
        "aws_vpc.main: Refreshing state... [id=vpc-5e30]\n"
    );
    assert_eq!(
        apply_progress_id(
            "aws_instance.web[1]",
            Action::Delete,
            Some("i-b7a2"),
            Duration::from_secs(10),
            &N
        ),
        "aws_instance.web[1]: Still destroying... [id=i-b7a2, 10s elapsed]\n"
    );
    assert_eq!(
        apply_progress_id(
            "aws_route53_record.web",
            Action::Create,
            None,
            Duration::from_secs(30),
            &N
        ),
        "aws_route53_record.web: Still creating... [30s elapsed]\n"
    );
}
