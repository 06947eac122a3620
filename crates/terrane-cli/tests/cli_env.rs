//! The CLI's environment, as Terraform 1.0.3 reads it (observed with the
//! real binary): `TF_CLI_ARGS` and `TF_CLI_ARGS_<command>` (shell words
//! inserted right after the command, the specific ones first, so the
//! general ones and then the command line win), `TF_INPUT`,
//! `TF_IN_AUTOMATION` (no "next steps" hints after plan), `TF_DATA_DIR`,
//! `-chdir`, `-install-autocomplete`/`-uninstall-autocomplete` and the
//! `COMP_LINE` completion mode. Built-in null provider, no `init`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str, main_tf: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("terrane-cli-env-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    fs::write(dir.join("main.tf"), main_tf).expect("write main.tf");
    Scratch(dir)
}

/// Runs terrane in `dir` with exactly the variables in `env` among the
/// ones this test is about.
fn terrane(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_terrane"));
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .env("TERRANE_PROVIDERS", "builtin");
    for (k, _) in std::env::vars() {
        if k.starts_with("TF_") || k.starts_with("COMP_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run terrane")
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const ECHO_VAR: &str =
    "variable \"name\" {\n  default = \"none\"\n}\n\noutput \"name\" {\n  value = var.name\n}\n";

/// The planned value of output `name`.
fn planned_name(o: &Output) -> String {
    let text = out(o);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("+ name = "))
        .unwrap_or_else(|| panic!("no output in plan:\n{text}\n{}", err(o)))
        .to_string()
}

#[test]
fn tf_cli_args_go_after_the_command() {
    let s = scratch("args", ECHO_VAR);
    let dir = &s.0;
    // Shell words: the quoted value keeps its space.
    let o = terrane(
        dir,
        &["plan", "-no-color"],
        &[("TF_CLI_ARGS_plan", "-var 'name=a b'")],
    );
    assert_eq!(planned_name(&o), "\"a b\"");
    // Specific first, then general, then the command line: the last -var wins.
    let both = [
        ("TF_CLI_ARGS", "-var=name=general"),
        ("TF_CLI_ARGS_plan", "-var=name=specific"),
    ];
    assert_eq!(
        planned_name(&terrane(dir, &["plan", "-no-color"], &both)),
        "\"general\""
    );
    assert_eq!(
        planned_name(&terrane(
            dir,
            &["plan", "-no-color", "-var=name=cli"],
            &both
        )),
        "\"cli\""
    );
    // Another command's variable does not apply.
    let o = terrane(
        dir,
        &["plan", "-no-color"],
        &[("TF_CLI_ARGS_apply", "-var=name=apply")],
    );
    assert_eq!(planned_name(&o), "\"none\"");
    // With -chdir, the arguments still follow the command.
    let o = terrane(
        Path::new("/"),
        &[&format!("-chdir={}", dir.display()), "plan", "-no-color"],
        &[("TF_CLI_ARGS", "-var=name=chdir")],
    );
    assert_eq!(planned_name(&o), "\"chdir\"");
    // A nested command's variable names both words and goes after them.
    terrane(dir, &["apply", "-auto-approve"], &[]);
    fs::rename(dir.join("terraform.tfstate"), dir.join("other.tfstate")).expect("rename");
    fs::write(
        dir.join("other.tfstate"),
        fs::read_to_string(dir.join("other.tfstate"))
            .expect("state")
            .replace("\"resources\": []", "\"resources\": [{\"mode\": \"managed\", \"type\": \"null_resource\", \"name\": \"x\", \"provider\": \"provider[\\\"registry.terraform.io/hashicorp/null\\\"]\", \"instances\": [{\"schema_version\": 0, \"attributes\": {\"id\": \"1\"}, \"sensitive_attributes\": []}]}]"),
    )
    .expect("write state");
    let o = terrane(
        dir,
        &["state", "list"],
        &[("TF_CLI_ARGS_state_list", "-state=other.tfstate")],
    );
    assert_eq!(out(&o), "null_resource.x\n", "{}", err(&o));
    // Unbalanced quotes: Terraform's error, nothing runs.
    let o = terrane(dir, &["version"], &[("TF_CLI_ARGS", "'open")]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        "Error parsing extra CLI args from TF_CLI_ARGS: invalid command line string\n"
    );
    assert_eq!(out(&o), "");
}

#[test]
fn tf_input_false_is_input_disabled() {
    let s = scratch("input", "resource \"null_resource\" \"a\" {}\n");
    let dir = &s.0;
    for value in ["0", "false"] {
        let o = terrane(dir, &["apply", "-no-color"], &[("TF_INPUT", value)]);
        assert_eq!(o.status.code(), Some(1), "TF_INPUT={value}");
        assert!(
            !out(&o).contains("Do you want to perform these actions?"),
            "prompted with TF_INPUT={value}:\n{}",
            out(&o)
        );
        assert!(err(&o).contains("Error: No approval"), "{}", err(&o));
    }
    // Any other value leaves input on: the prompt is shown (and answered
    // with nothing, so the apply is cancelled).
    let o = terrane(dir, &["apply", "-no-color"], &[("TF_INPUT", "1")]);
    assert!(
        out(&o).contains("Do you want to perform these actions?"),
        "{}",
        out(&o)
    );
    assert!(!dir.join("terraform.tfstate").exists() || !out(&o).contains("Apply complete"));
}

#[test]
fn tf_in_automation_drops_the_plan_hints() {
    let s = scratch("automation", "resource \"null_resource\" \"a\" {}\n");
    let dir = &s.0;
    let hint = "Note: You didn't use the -out option to save this plan";
    let plain = terrane(dir, &["plan", "-no-color"], &[]);
    assert!(out(&plain).contains(hint), "{}", out(&plain));
    let auto = terrane(dir, &["plan", "-no-color"], &[("TF_IN_AUTOMATION", "1")]);
    assert!(auto.status.success());
    assert!(!out(&auto).contains(hint), "{}", out(&auto));
    assert!(!out(&auto).contains('─'), "{}", out(&auto));
    assert!(out(&auto).ends_with("Plan: 1 to add, 0 to change, 0 to destroy.\n"));
    // The same plan text otherwise.
    assert!(out(&plain).starts_with(&out(&auto)));
    let saved = terrane(
        dir,
        &["plan", "-no-color", "-out=tfplan"],
        &[("TF_IN_AUTOMATION", "true")],
    );
    assert!(saved.status.success());
    assert!(
        !out(&saved).contains("Saved the plan to"),
        "{}",
        out(&saved)
    );
    assert!(dir.join("tfplan").is_file());
    // An empty value is not set.
    let empty = terrane(dir, &["plan", "-no-color"], &[("TF_IN_AUTOMATION", "")]);
    assert!(out(&empty).contains(hint));
}

#[test]
fn tf_data_dir_holds_the_workspace_choice() {
    let s = scratch("datadir", ECHO_VAR);
    let dir = &s.0;
    let env = [("TF_DATA_DIR", "custom-data")];
    let o = terrane(dir, &["workspace", "new", "-no-color", "dev"], &env);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        fs::read_to_string(dir.join("custom-data/environment")).expect("environment file"),
        "dev"
    );
    assert!(!dir.join(".terraform").exists());
    assert_eq!(out(&terrane(dir, &["workspace", "show"], &env)), "dev\n");
    assert_eq!(out(&terrane(dir, &["workspace", "show"], &[])), "default\n");
}

#[test]
fn autocomplete_install_and_uninstall() {
    let s = scratch("autocomplete", "");
    let home = s.0.join("home");
    fs::create_dir_all(&home).expect("home");
    let run = |flag: &str| {
        terrane(
            &s.0,
            &[flag],
            &[("HOME", home.to_str().unwrap_or_default())],
        )
    };
    // No shell configuration: nothing to install into.
    let o = run("-install-autocomplete");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        "Error executing CLI: Did not find any shells to install\n"
    );
    fs::write(home.join(".bashrc"), "export A=1\n").expect("bashrc");
    fs::write(home.join(".zshrc"), "export B=2\n").expect("zshrc");
    let o = run("-install-autocomplete");
    assert!(o.status.success(), "{}", err(&o));
    let exe = env!("CARGO_BIN_EXE_terrane");
    let name = Path::new(exe)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    assert_eq!(
        fs::read_to_string(home.join(".bashrc")).expect("bashrc"),
        format!("export A=1\n\ncomplete -C {exe} {name}\n")
    );
    assert_eq!(
        fs::read_to_string(home.join(".zshrc")).expect("zshrc"),
        format!("export B=2\n\nautoload -U +X bashcompinit && bashcompinit\n\ncomplete -o nospace -C {exe} {name}\n")
    );
    let o = run("-install-autocomplete");
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        err(&o),
        format!(
            "Error executing CLI: 2 errors occurred:\n\t* already installed in {0}/.bashrc\n\t* already installed in {0}/.zshrc\n\n\n",
            home.display()
        )
    );
    let o = run("-uninstall-autocomplete");
    assert!(o.status.success(), "{}", err(&o));
    let bashrc = fs::read_to_string(home.join(".bashrc")).expect("bashrc");
    assert!(!bashrc.contains("complete -C"), "{bashrc}");
    assert!(bashrc.starts_with("export A=1\n"));
    let o = run("-uninstall-autocomplete");
    assert_eq!(o.status.code(), Some(1));
    assert!(err(&o).contains("* does not installed in"), "{}", err(&o));
}

#[test]
fn comp_line_prints_completions() {
    let s = scratch("complete", "");
    let dir = &s.0;
    fs::create_dir_all(dir.join("terraform.tfstate.d/dev")).expect("workspace dir");
    let complete = |line: &str| {
        let o = terrane(dir, &[], &[("COMP_LINE", line)]);
        assert!(o.status.success(), "{line}: {}", err(&o));
        out(&o)
    };
    assert_eq!(complete("terrane pl"), "plan\n");
    assert_eq!(complete("terrane st"), "state\n");
    assert_eq!(complete("terrane state r"), "replace-provider\nrm\n");
    assert_eq!(complete("terrane workspace select "), "default\ndev\n");
    assert_eq!(complete("terrane workspace new -"), "-state\n");
    assert_eq!(complete("terrane init -u"), "-upgrade\n");
    assert_eq!(
        complete("terrane -"),
        "-help\n-install-autocomplete\n-uninstall-autocomplete\n-version\n"
    );
    let all = complete("terrane ");
    for c in ["apply", "graph", "init", "plan", "workspace"] {
        assert!(all.lines().any(|l| l == c), "{c} missing from\n{all}");
    }
    // COMP_POINT cuts the line at the cursor.
    let o = terrane(
        dir,
        &[],
        &[("COMP_LINE", "terrane v whatever"), ("COMP_POINT", "9")],
    );
    assert_eq!(out(&o), "validate\nversion\n");
}
