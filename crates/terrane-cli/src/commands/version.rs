//! `terrane version [-json]`.

use crate::cli::{Flags, TERRAFORM_COMPAT_VERSION, VERSION};

pub fn run(args: &[String]) -> i32 {
    let flags = match Flags::parse(args, &["json", "help"], &[]) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    if flags.has("help") {
        println!("Usage: terrane [global options] version [options]\n\n  Displays the version of terrane and the Terraform version it is\n  compatible with.\n\nOptions:\n\n  -json       Output the version information as a JSON object.");
        return 0;
    }
    let platform = format!("{}_{}", go_os(), go_arch());
    if flags.bool("json", false).unwrap_or(false) {
        let v = serde_json::json!({
            "terraform_version": TERRAFORM_COMPAT_VERSION,
            "terrane_version": VERSION,
            "platform": platform,
            "provider_selections": {},
            "terraform_outdated": false,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        println!("terrane v{VERSION}\non {platform}\n\nCompatible with Terraform v{TERRAFORM_COMPAT_VERSION}");
    }
    0
}

/// Platform names as Go spells them (`linux_amd64`).
fn go_os() -> &'static str {
    std::env::consts::OS
}

fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}
