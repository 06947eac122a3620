//! `terrane init` installs modules (local and git from a local bare
//! repository), prints Terraform 1.0.3's lines under "Initializing
//! modules...", and `validate` and `plan` then load the installed modules.
//! With the Terraform peer present, the module lines and the modules
//! manifest are compared with Terraform's for the same configuration.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary directory, removed when the test ends.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!(
        "terrane-init-modules-{}-{name}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    Scratch(dir)
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write file");
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare repository whose tag `v1` holds a module with a nested local
/// module, and a configuration calling it and a local module.
fn setup(base: &Path, root_name: &str) -> (PathBuf, String) {
    let work = base.join("work");
    if !base.join("repo.git").exists() {
        write(
            &work.join("main.tf"),
            "variable \"name\" {\n  type = string\n}\n\nmodule \"label\" {\n  source = \"./modules/label\"\n  name   = var.name\n}\n\noutput \"greeting\" {\n  value = module.label.text\n}\n",
        );
        write(
            &work.join("modules/label/main.tf"),
            "variable \"name\" {\n  type = string\n}\n\noutput \"text\" {\n  value = \"hello ${var.name}\"\n}\n",
        );
        git(&work, &["init", "-q", "-b", "main"]);
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", "v1"]);
        git(&work, &["tag", "v1"]);
        git(
            base,
            &["clone", "-q", "--bare", &work.to_string_lossy(), "repo.git"],
        );
    }
    let url = format!("file://{}", base.join("repo.git").display());
    let root = base.join(root_name);
    write(
        &root.join("main.tf"),
        &format!(
            "module \"remote\" {{\n  source = \"git::{url}?ref=v1\"\n  name   = \"world\"\n}}\n\nmodule \"local\" {{\n  source = \"./modules/local\"\n}}\n\noutput \"greeting\" {{\n  value = module.remote.greeting\n}}\n\noutput \"local\" {{\n  value = module.local.n\n}}\n"
        ),
    );
    write(
        &root.join("modules/local/main.tf"),
        "output \"n\" {\n  value = 42\n}\n",
    );
    (root, url)
}

fn terrane(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_terrane"))
        .args(args)
        .current_dir(dir)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_DATA_DIR")
        .env_remove("TF_CLI_CONFIG_FILE")
        .output()
        .expect("run terrane")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The lines between "Initializing/Upgrading modules..." and the next
/// blank line.
fn module_lines(text: &str) -> Vec<String> {
    text.lines()
        .skip_while(|l| !l.ends_with("modules..."))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn init_installs_then_validate_and_plan_use_the_modules() {
    let base = temp_dir("flow");
    let (root, url) = setup(&base, "root");
    let out = terrane(&root, &["init", "-no-color"]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("Initializing modules...\n"), "{text}");
    assert_eq!(
        module_lines(&text),
        [
            "- local in modules/local".to_string(),
            format!("Downloading git::{url}?ref=v1 for remote..."),
            "- remote in .terraform/modules/remote".to_string(),
            "- remote.label in .terraform/modules/remote/modules/label".to_string(),
        ]
    );
    assert!(root.join(".terraform/modules/remote/main.tf").is_file());

    let out = terrane(&root, &["validate", "-no-color"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );

    let out = terrane(&root, &["plan", "-no-color", "-input=false"]);
    let plan = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{plan}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(plan.contains("+ greeting = \"hello world\""), "{plan}");
    assert!(plan.contains("+ local    = 42"), "{plan}");

    // Installed already: the heading alone. -upgrade fetches again.
    let out = terrane(&root, &["init", "-no-color"]);
    assert!(module_lines(&stdout(&out)).is_empty(), "{}", stdout(&out));
    let out = terrane(&root, &["init", "-no-color", "-upgrade"]);
    let text = stdout(&out);
    assert!(text.starts_with("Upgrading modules...\n"), "{text}");
    assert_eq!(module_lines(&text).len(), 4, "{text}");
}

#[test]
fn init_reports_a_bad_source_at_its_location() {
    let root = temp_dir("bad");
    write(
        &root.join("main.tf"),
        "module \"m\" {\n  source = \"foo/bar\"\n}\n",
    );
    let out = terrane(&root, &["init", "-no-color"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Error: Module not found"), "{err}");
    assert!(err.contains("on main.tf line 2, in module \"m\":"), "{err}");
    assert_eq!(err.matches("Error: Module not found").count(), 1, "{err}");
}

fn peer_dir() -> Option<PathBuf> {
    terrane_testkit::peer_terraform_dir()
}

fn manifest_records(root: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(root.join(".terraform/modules/modules.json")).expect("manifest");
    let json: serde_json::Value = serde_json::from_str(&text).expect("manifest JSON");
    json["Modules"]
        .as_array()
        .expect("Modules")
        .iter()
        .map(|m| m.to_string())
        .collect()
}

#[test]
fn init_module_output_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    let base = temp_dir("peer");
    let (tf_root, _) = setup(&base, "tf");
    let (tn_root, _) = setup(&base, "tn");
    let tf = Command::new(peer.join("bin/terraform"))
        .args(["init", "-no-color", "-input=false"])
        .current_dir(&tf_root)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("TF_DATA_DIR")
        .output()
        .expect("run terraform");
    assert_eq!(tf.status.code(), Some(0), "{}", stdout(&tf));
    let tn = terrane(&tn_root, &["init", "-no-color", "-input=false"]);
    assert_eq!(tn.status.code(), Some(0), "{}", stdout(&tn));
    let tf_text = stdout(&tf);
    let tn_text = stdout(&tn);
    assert_eq!(module_lines(&tn_text), module_lines(&tf_text));
    assert!(tf_text.starts_with("Initializing modules...\n"));
    assert!(tn_text.starts_with("Initializing modules...\n"));
    assert_eq!(manifest_records(&tn_root), manifest_records(&tf_root));
}

#[test]
fn plan_before_init_reports_module_not_installed() {
    let base = temp_dir("noinit");
    let (root, _) = setup(&base, "root");
    let out = terrane(&root, &["plan", "-no-color", "-input=false"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "Error: Module not installed\n\n  on main.tf line 1:\n   1: module \"remote\" {\n"
        ),
        "{err}"
    );
}

#[test]
fn get_installs_modules_like_init() {
    let base = temp_dir("get");
    let (root, url) = setup(&base, "root");
    let out = terrane(&root, &["get", "-no-color"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout(&out),
        format!(
            "- local in modules/local\nDownloading git::{url}?ref=v1 for remote...\n- remote in .terraform/modules/remote\n- remote.label in .terraform/modules/remote/modules/label\n"
        )
    );
    let out = terrane(&root, &["get"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    let out = terrane(&root, &["get", "-update"]);
    assert_eq!(stdout(&out).lines().count(), 4);
    if let Some(peer) = peer_dir() {
        let (tf_root, _) = setup(&base, "tf");
        let tf = Command::new(peer.join("bin/terraform"))
            .args(["get", "-no-color"])
            .current_dir(&tf_root)
            .env("CHECKPOINT_DISABLE", "1")
            .env_remove("TF_DATA_DIR")
            .output()
            .expect("run terraform");
        let (tn_root, _) = setup(&base, "tn");
        let tn = terrane(&tn_root, &["get", "-no-color"]);
        assert_eq!(stdout(&tn), stdout(&tf));
        assert_eq!(tn.status.code(), tf.status.code());
    }
}

#[test]
fn init_get_false_needs_installed_modules() {
    let base = temp_dir("getfalse");
    let (root, _) = setup(&base, "root");
    let out = terrane(&root, &["init", "-no-color", "-get=false"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Error: Module not installed\n\n  on main.tf line 1:"),
        "{err}"
    );
    let out = terrane(&root, &["init", "-no-color"]);
    assert_eq!(out.status.code(), Some(0));
    let out = terrane(&root, &["init", "-no-color", "-get=false"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(!text.contains("modules..."), "{text}");
}

#[test]
fn init_from_module_copies_the_module_and_initializes() {
    let base = temp_dir("frommodule");
    let (_, url) = setup(&base, "unused");
    let empty = base.join("empty");
    fs::create_dir_all(&empty).expect("mkdir");
    let source = format!("git::{url}?ref=v1");
    let from = format!("-from-module={source}");
    let out = terrane(&empty, &["init", "-no-color", &from]);
    let text = stdout(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.starts_with(&format!(
            "Copying configuration from {source:?}...\n- label\n\nInitializing modules...\n- label in modules/label\n"
        )),
        "{text}"
    );
    assert!(empty.join("main.tf").is_file());
    assert!(empty.join("modules/label/main.tf").is_file());
    assert!(!empty.join(".git").exists());
    assert!(!empty.join(".terraform/init-from-module").exists());

    // A directory with anything in it is refused.
    let out = terrane(&empty, &["init", "-no-color", &from]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Error: Can't populate non-empty directory"),
        "{err}"
    );
}
