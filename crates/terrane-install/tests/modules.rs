//! Module installation end to end: local modules, git packages from local
//! bare repositories (tags, branches, commits, `depth`, `//subdir`, local
//! calls inside the package), registry modules from a registry served by
//! the test on 127.0.0.1 (git and tar.gz packages), Terraform's error
//! diagnostics, and the manifest and progress lines compared with what
//! Terraform 1.0.3 writes for the same configuration.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use terrane_hcl::Diagnostics;
use terrane_install::modules::{install_modules, ModuleInstallOptions, ModuleManifest};
use terrane_install::{Discovery, HttpClient};

static NEXT_DIR: AtomicUsize = AtomicUsize::new(0);

/// A fresh directory under the target's temp dir, removed first if a
/// previous run left it.
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
    let n = NEXT_DIR.fetch_add(1, Ordering::SeqCst);
    let dir =
        std::env::temp_dir().join(format!("terrane-modules-{}-{name}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create temp dir");
    Scratch(dir)
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, text).expect("write file");
}

fn git(dir: &Path, args: &[&str]) -> String {
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
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare repository with three states of one module package:
/// tag `v1.0.0` (marker "tag"), then commit C (marker "commit", returned),
/// then branch `feature` (marker "branch"); `main` stays at C.
/// Each state has `main.tf` (calling `./modules/helper`), `modules/helper`
/// and `sub/` (calling `./inner` and `../modules/helper`).
struct Repo {
    bare: PathBuf,
    commit: String,
}

fn make_repo(base: &Path) -> Repo {
    let work = base.join("work");
    fs::create_dir_all(&work).expect("mkdir");
    git(&work, &["init", "-q", "-b", "main"]);
    let state = |marker: &str| {
        write(
            &work.join("main.tf"),
            &format!(
                "variable \"x\" {{\n  default = \"{marker}\"\n}}\n\nmodule \"helper\" {{\n  source = \"./modules/helper\"\n}}\n\noutput \"marker\" {{\n  value = var.x\n}}\n"
            ),
        );
        write(&work.join("marker"), marker);
        write(
            &work.join("modules/helper/main.tf"),
            "output \"h\" {\n  value = 1\n}\n",
        );
        write(
            &work.join("sub/main.tf"),
            "module \"inner\" {\n  source = \"./inner\"\n}\n\nmodule \"up\" {\n  source = \"../modules/helper\"\n}\n",
        );
        write(
            &work.join("sub/inner/main.tf"),
            "output \"i\" {\n  value = 2\n}\n",
        );
        git(&work, &["add", "-A"]);
        git(&work, &["commit", "-q", "-m", marker]);
    };
    state("tag");
    git(&work, &["tag", "v1.0.0"]);
    state("commit");
    let commit = git(&work, &["rev-parse", "HEAD"]);
    git(&work, &["checkout", "-q", "-b", "feature"]);
    state("branch");
    git(&work, &["checkout", "-q", "main"]);
    let bare = base.join("repo.git");
    git(
        base,
        &["clone", "-q", "--bare", &work.to_string_lossy(), "repo.git"],
    );
    Repo { bare, commit }
}

fn options() -> ModuleInstallOptions {
    ModuleInstallOptions {
        data_dir: PathBuf::from(".terraform"),
        ..ModuleInstallOptions::default()
    }
}

fn install(
    root: &Path,
    opts: &ModuleInstallOptions,
) -> (Vec<String>, Result<ModuleManifest, Diagnostics>) {
    let mut lines = Vec::new();
    let result = install_modules(root, opts, &mut |e| lines.push(e.to_string()));
    (lines, result)
}

fn manifest_text(root: &Path) -> String {
    fs::read_to_string(root.join(".terraform/modules/modules.json")).expect("manifest")
}

/// Summary, detail and the `file:line` of the subject, one per diagnostic.
fn describe(diags: &Diagnostics) -> Vec<(String, String, String)> {
    diags
        .iter()
        .map(|d| {
            let at = d
                .subject
                .as_ref()
                .map(|s| format!("{}:{}", s.file.name, s.file.pos(s.span.start).line))
                .unwrap_or_default();
            (d.summary.clone(), d.detail.clone(), at)
        })
        .collect()
}

#[test]
fn local_modules_are_recorded_not_copied() {
    let root = temp_dir("local");
    write(
        &root.join("main.tf"),
        "module \"a\" {\n  source = \"./modules/a\"\n}\n\nmodule \"b\" {\n  source = \"./modules/b/\"\n}\n",
    );
    write(
        &root.join("modules/a/main.tf"),
        "module \"deep\" {\n  source = \"../deep\"\n}\n",
    );
    write(&root.join("modules/b/main.tf"), "");
    write(&root.join("modules/deep/main.tf"), "");
    let (lines, result) = install(&root, &options());
    assert!(result.is_ok(), "{:?}", result.err().map(|d| describe(&d)));
    assert_eq!(
        lines,
        [
            "- a in modules/a",
            "- a.deep in modules/deep",
            "- b in modules/b"
        ]
    );
    assert_eq!(
        manifest_text(&root),
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"a","Source":"./modules/a","Dir":"modules/a"},{"Key":"a.deep","Source":"../deep","Dir":"modules/deep"},{"Key":"b","Source":"./modules/b/","Dir":"modules/b"}]}"#
    );
    let listing: Vec<_> = fs::read_dir(root.join(".terraform/modules"))
        .expect("modules dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(listing, ["modules.json"]);

    // Installed already: nothing to say. -upgrade says it all again.
    let (lines, result) = install(&root, &options());
    assert!(result.is_ok());
    assert!(lines.is_empty(), "{lines:?}");
    let upgrade = ModuleInstallOptions {
        upgrade: true,
        ..options()
    };
    let (lines, _) = install(&root, &upgrade);
    assert_eq!(lines.len(), 3);
}

fn marker(root: &Path, dir: &str) -> String {
    fs::read_to_string(root.join(dir).join("marker")).expect("marker file")
}

#[test]
fn git_refs_subdirs_and_nested_calls() {
    let base = temp_dir("git");
    let repo = make_repo(&base);
    let url = format!("file://{}", repo.bare.display());
    let root = base.join("root");
    write(
        &root.join("main.tf"),
        &format!(
            r#"module "tag" {{
  source = "git::{url}?ref=v1.0.0"
}}

module "branch" {{
  source = "git::{url}//sub?ref=feature"
}}

module "commit" {{
  source = "git::{url}?ref={commit}"
}}

module "shallow" {{
  source = "git::{url}?ref=feature&depth=1"
}}

module "head" {{
  source = "git::{url}"
}}

module "tag2" {{
  source = "git::{url}?ref=v1.0.0"
}}
"#,
            commit = repo.commit
        ),
    );
    let (lines, result) = install(&root, &options());
    assert!(result.is_ok(), "{:?}", result.err().map(|d| describe(&d)));
    let expected = [
        format!("Downloading git::{url}?ref=feature for branch..."),
        "- branch in .terraform/modules/branch/sub".to_string(),
        "- branch.inner in .terraform/modules/branch/sub/inner".to_string(),
        "- branch.up in .terraform/modules/branch/modules/helper".to_string(),
        format!("Downloading git::{url}?ref={} for commit...", repo.commit),
        "- commit in .terraform/modules/commit".to_string(),
        "- commit.helper in .terraform/modules/commit/modules/helper".to_string(),
        format!("Downloading git::{url} for head..."),
        "- head in .terraform/modules/head".to_string(),
        "- head.helper in .terraform/modules/head/modules/helper".to_string(),
        format!("Downloading git::{url}?ref=feature&depth=1 for shallow..."),
        "- shallow in .terraform/modules/shallow".to_string(),
        "- shallow.helper in .terraform/modules/shallow/modules/helper".to_string(),
        format!("Downloading git::{url}?ref=v1.0.0 for tag..."),
        "- tag in .terraform/modules/tag".to_string(),
        "- tag.helper in .terraform/modules/tag/modules/helper".to_string(),
        format!("Downloading git::{url}?ref=v1.0.0 for tag2..."),
        "- tag2 in .terraform/modules/tag2".to_string(),
        "- tag2.helper in .terraform/modules/tag2/modules/helper".to_string(),
    ];
    assert_eq!(lines, expected);
    // The second call of the same package is a copy without `.git`.
    assert_eq!(marker(&root, ".terraform/modules/tag2"), "tag");
    assert!(root.join(".terraform/modules/tag/.git").is_dir());
    assert!(!root.join(".terraform/modules/tag2/.git").exists());
    assert_eq!(marker(&root, ".terraform/modules/tag"), "tag");
    assert_eq!(marker(&root, ".terraform/modules/branch"), "branch");
    assert_eq!(marker(&root, ".terraform/modules/commit"), "commit");
    assert_eq!(marker(&root, ".terraform/modules/shallow"), "branch");
    assert_eq!(marker(&root, ".terraform/modules/head"), "commit");
    let shallow_commits = git(
        &root.join(".terraform/modules/shallow"),
        &["rev-list", "--count", "HEAD"],
    );
    assert_eq!(shallow_commits, "1");

    // The loader finds the installed modules through the manifest, and
    // the whole tree validates.
    let (tree, diags) = terrane_config::load_tree(&root);
    assert!(!diags.has_errors(), "{:?}", describe(&diags));
    let branch = &tree.children["branch"];
    assert_eq!(branch.children.keys().collect::<Vec<_>>(), ["inner", "up"]);
    assert!(tree.children["tag"].children.contains_key("helper"));
    let diags = terrane_config::validate::validate_tree(&tree);
    assert!(!diags.has_errors(), "{:?}", describe(&diags));

    // A second run keeps everything; changing one ref fetches just that
    // module again (its nested calls stay recorded and are not repeated).
    let (lines, result) = install(&root, &options());
    assert!(result.is_ok());
    assert!(lines.is_empty(), "{lines:?}");
    let text = fs::read_to_string(root.join("main.tf")).expect("read");
    fs::write(
        root.join("main.tf"),
        text.replacen("?ref=v1.0.0", "?ref=main", 1),
    )
    .expect("write");
    let (lines, result) = install(&root, &options());
    assert!(result.is_ok());
    assert_eq!(
        lines,
        [
            format!("Downloading git::{url}?ref=main for tag..."),
            "- tag in .terraform/modules/tag".to_string()
        ]
    );
    assert_eq!(marker(&root, ".terraform/modules/tag"), "commit");
}

#[test]
fn invalid_sources_give_terraforms_errors_at_the_source() {
    let base = temp_dir("errors");
    let repo = make_repo(&base);
    let url = format!("file://{}", repo.bare.display());
    let root = base.join("root");
    write(
        &root.join("main.tf"),
        &format!(
            r#"module "bare" {{
  source = "foo/bar"
}}

module "pinned" {{
  source  = "git::{url}"
  version = "1.0.0"
}}

module "badref" {{
  source = "git::{url}?ref=nope"
}}

module "nosub" {{
  source = "git::{url}//nosub"
}}

module "hg" {{
  source = "hg::http://example.com/x"
}}

module "bogus" {{
  source = "bogus::http://x"
}}

module "ok" {{
  source = "./ok"
}}

module "escape" {{
  source = "git::{url}//../.."
}}
"#
        ),
    );
    write(&root.join("ok/main.tf"), "");
    let (lines, result) = install(&root, &options());
    let diags = result.expect_err("errors expected");
    let got = describe(&diags);
    let summaries: Vec<(&str, &str)> = got
        .iter()
        .map(|(s, _, at)| (s.as_str(), at.as_str()))
        .collect();
    assert_eq!(
        summaries,
        [
            ("Failed to download module", "main.tf:11"),
            ("Module not found", "main.tf:2"),
            ("Failed to download module", "main.tf:23"),
            ("Failed to download module", "main.tf:31"),
            ("Unsupported module source", "main.tf:19"),
            ("Failed to download module", "main.tf:15"),
            ("Invalid version constraint", "main.tf:6"),
        ]
    );
    assert!(
        got[0].1.starts_with(&format!(
            "Could not download module \"badref\" (main.tf:10) source code from \"git::{url}?ref=nope\": error downloading '{url}?ref=nope': "
        )),
        "{}",
        got[0].1
    );
    assert!(
        got[3].1.ends_with(
            "subdir \"../..\" leads out of the package; it must name a directory inside it"
        ),
        "{}",
        got[3].1
    );
    let got: Vec<_> = got
        .into_iter()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, g)| g)
        .collect();
    assert!(
        got[0].1.contains("pathspec 'nope' did not match"),
        "{}",
        got[0].1
    );
    assert_eq!(
        got[1].1,
        "The module address \"foo/bar\" could not be resolved.\n\nIf you intended this as a path relative to the current module, use \"./foo/bar\" instead. The \"./\" prefix indicates that the address is a relative filesystem path."
    );
    assert_eq!(
        got[2].1,
        "Could not download module \"bogus\" (main.tf:22) source code from \"bogus::http://x\": download not supported for scheme 'bogus'"
    );
    assert_eq!(
        got[4].1,
        format!("Could not download module \"nosub\" (main.tf:14) source code from \"git::{url}\": subdir \"nosub\" not found")
    );
    assert_eq!(
        got[5].1,
        "Cannot apply a version constraint to module \"pinned\" (at main.tf:5) because it has a non Registry URL."
    );
    // Terraform announces getter addresses before resolving them.
    assert!(
        lines.contains(&"Downloading foo/bar for bare...".to_string()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&format!("Downloading git::{url} for pinned...")),
        "{lines:?}"
    );
    // What could be installed was, and the manifest records it.
    assert!(lines.contains(&"- ok in ok".to_string()), "{lines:?}");
    assert!(manifest_text(&root).contains(r#"{"Key":"ok","Source":"./ok","Dir":"ok"}"#));
}

/// A module registry on 127.0.0.1: discovery, versions and download
/// endpoints, and archives under `/archives/`.
struct Registry {
    host: String,
    requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

fn serve_registry(
    versions: &'static [&'static str],
    locations: Vec<(String, String)>,
    archives: Vec<(String, Vec<u8>)>,
) -> Registry {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    let requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
            }
            let target = request_line.split_whitespace().nth(1).unwrap_or("/");
            seen.lock().expect("lock").push(target.to_string());
            let path = target.split('?').next().unwrap_or("/").to_string();
            let (status, headers, body): (&str, Vec<(String, String)>, Vec<u8>) =
                if path == "/.well-known/terraform.json" {
                    (
                        "200 OK",
                        vec![],
                        br#"{"modules.v1":"/v1/modules/"}"#.to_vec(),
                    )
                } else if path == "/v1/modules/acme/net/aws/versions" {
                    let list: Vec<String> = versions
                        .iter()
                        .map(|v| format!("{{\"version\":\"{v}\"}}"))
                        .collect();
                    let body = format!("{{\"modules\":[{{\"versions\":[{}]}}]}}", list.join(","));
                    ("200 OK", vec![], body.into_bytes())
                } else if let Some((_, loc)) = locations.iter().find(|(p, _)| *p == path) {
                    (
                        "204 No Content",
                        vec![("X-Terraform-Get".to_string(), loc.clone())],
                        vec![],
                    )
                } else if let Some((_, data)) = archives.iter().find(|(p, _)| *p == path) {
                    ("200 OK", vec![], data.clone())
                } else {
                    ("404 Not Found", vec![], b"not found".to_vec())
                };
            let mut head = format!(
                "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Length: {}\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    Registry { host, requests }
}

/// A `.tar.gz` of a small module (with a nested local call), made with the
/// system's `tar`.
fn module_tarball(base: &Path, marker_text: &str, top_dir: bool) -> Vec<u8> {
    let src = base.join(format!("tarball-{marker_text}"));
    write(
        &src.join("main.tf"),
        "module \"sub\" {\n  source = \"./modules/sub\"\n}\n",
    );
    write(&src.join("marker"), marker_text);
    write(&src.join("modules/sub/main.tf"), "");
    let out = base.join(format!("{marker_text}.tar.gz"));
    let status = Command::new("tar")
        .arg("-czf")
        .arg(&out)
        .arg("-C")
        .args(if top_dir {
            [
                base.to_path_buf(),
                PathBuf::from(format!("tarball-{marker_text}")),
            ]
        } else {
            [src.clone(), PathBuf::from(".")]
        })
        .status()
        .expect("run tar");
    assert!(status.success());
    fs::read(out).expect("read tarball")
}

#[test]
fn registry_modules_resolve_constraints_and_download() {
    let base = temp_dir("registry");
    let repo = make_repo(&base);
    let url = format!("file://{}", repo.bare.display());
    let tarball = module_tarball(&base, "archive-1.1.0", false);
    let nested_tarball = module_tarball(&base, "archive-1.0.0", true);
    let registry = serve_registry(
        &["1.0.0", "1.1.0", "2.0.0", "2.1.0-beta1"],
        vec![
            (
                "/v1/modules/acme/net/aws/1.1.0/download".to_string(),
                "/archives/net-1.1.0.tar.gz".to_string(),
            ),
            (
                "/v1/modules/acme/net/aws/1.0.0/download".to_string(),
                "../../../../../../archives/net-1.0.0.tgz//*?archive=tar.gz".to_string(),
            ),
            (
                "/v1/modules/acme/net/aws/2.0.0/download".to_string(),
                format!("git::{url}//sub?ref=v1.0.0"),
            ),
        ],
        vec![
            ("/archives/net-1.1.0.tar.gz".to_string(), tarball),
            ("/archives/net-1.0.0.tgz".to_string(), nested_tarball),
        ],
    );
    let host = &registry.host;
    let root = base.join("root");
    write(
        &root.join("main.tf"),
        &format!(
            r#"module "old" {{
  source  = "{host}/acme/net/aws"
  version = "~> 1.0"
}}

module "new" {{
  source = "{host}/acme/net/aws"
}}

module "none" {{
  source  = "{host}/acme/net/aws"
  version = ">= 3.0"
}}
"#
        ),
    );
    let (lines, result) = install(&root, &options());
    let diags = result.expect_err("module none has no matching version");
    assert_eq!(
        describe(&diags),
        [(
            "Unresolvable module version constraint".to_string(),
            "There is no available version of module \"none\" (main.tf:10) which matches the given version constraint. The newest available version is 2.0.0.".to_string(),
            "main.tf:11".to_string()
        )]
    );
    assert_eq!(
        lines,
        [
            format!("Downloading {host}/acme/net/aws 2.0.0 for new..."),
            "- new in .terraform/modules/new/sub".to_string(),
            "- new.inner in .terraform/modules/new/sub/inner".to_string(),
            "- new.up in .terraform/modules/new/modules/helper".to_string(),
            format!("Downloading {host}/acme/net/aws 1.1.0 for old..."),
            "- old in .terraform/modules/old".to_string(),
            "- old.sub in .terraform/modules/old/modules/sub".to_string(),
        ]
    );
    assert_eq!(marker(&root, ".terraform/modules/old"), "archive-1.1.0");
    assert_eq!(marker(&root, ".terraform/modules/new"), "tag");
    let manifest = manifest_text(&root);
    assert!(
        manifest.contains(&format!(
            r#"{{"Key":"old","Source":"{host}/acme/net/aws","Version":"1.1.0","Dir":".terraform/modules/old"}}"#
        )),
        "{manifest}"
    );

    // Remove the failing call: the next run reuses both installed
    // versions without asking the registry again.
    let text = fs::read_to_string(root.join("main.tf")).expect("read");
    let cut = text.find("module \"none\"").expect("none block");
    fs::write(root.join("main.tf"), &text[..cut]).expect("write");
    let before = registry.requests.lock().expect("lock").len();
    let (lines, result) = install(&root, &options());
    assert!(result.is_ok(), "{:?}", result.err().map(|d| describe(&d)));
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(registry.requests.lock().expect("lock").len(), before);

    // A tighter constraint that the installed version no longer meets.
    fs::write(
        root.join("main.tf"),
        text[..cut].replace("~> 1.0", "= 1.0.0"),
    )
    .expect("write");
    // 1.0.0 is a tarball with one top-level directory, which the
    // registry's `//*` steps into.
    let (lines, result) = install(&root, &options());
    assert!(result.is_ok(), "{:?}", result.err().map(|d| describe(&d)));
    assert_eq!(
        lines,
        [
            format!("Downloading {host}/acme/net/aws 1.0.0 for old..."),
            "- old in .terraform/modules/old/tarball-archive-1.0.0".to_string(),
            "- old.sub in .terraform/modules/old/tarball-archive-1.0.0/modules/sub".to_string(),
        ]
    );
    assert_eq!(
        marker(&root, ".terraform/modules/old/tarball-archive-1.0.0"),
        "archive-1.0.0"
    );
}

#[test]
fn unknown_registry_module_is_not_found() {
    let registry = serve_registry(&[], vec![], vec![]);
    let root = temp_dir("registry404");
    write(
        &root.join("main.tf"),
        &format!(
            "module \"x\" {{\n  source = \"{}/other/mod/aws\"\n}}\n",
            registry.host
        ),
    );
    let (_, result) = install(&root, &options());
    let got = describe(&result.expect_err("not found"));
    assert_eq!(
        got,
        [(
            "Module not found".to_string(),
            format!(
                "Module \"x\" (from main.tf:1) cannot be found in the module registry at {}.",
                registry.host
            ),
            "main.tf:2".to_string()
        )]
    );
}

// ---- Comparison with Terraform 1.0.3 ----------------------------------

fn peer_dir() -> Option<PathBuf> {
    terrane_testkit::peer_terraform_dir()
}

fn manifest_records(text: &str) -> BTreeSet<String> {
    let json: serde_json::Value = serde_json::from_str(text).expect("manifest JSON");
    json["Modules"]
        .as_array()
        .expect("Modules list")
        .iter()
        .map(|m| m.to_string())
        .collect()
}

#[test]
fn manifest_and_progress_match_terraform() {
    let Some(peer) = peer_dir() else { return };
    let base = temp_dir("peer");
    let repo = make_repo(&base);
    let url = format!("file://{}", repo.bare.display());
    let config = format!(
        r#"module "loc" {{
  source = "./modules/loc"
}}

module "g" {{
  source = "git::{url}?ref=v1.0.0"
}}

module "gs" {{
  source = "git::{url}//sub?ref=feature"
}}

module "shallow" {{
  source = "git::{url}?depth=1"
}}

module "abs" {{
  source = "{work}"
}}

module "abssub" {{
  source = "file://{work}//sub"
}}
"#,
        work = base.join("work").display()
    );
    let make_root = |name: &str| {
        let root = base.join(name);
        write(&root.join("main.tf"), &config);
        write(
            &root.join("modules/loc/main.tf"),
            "module \"deep\" {\n  source = \"../deep\"\n}\n",
        );
        write(&root.join("modules/deep/main.tf"), "");
        root
    };
    let tf_root = make_root("tf");
    let out = Command::new(peer.join("bin/terraform"))
        .args(["init", "-no-color", "-input=false", "-backend=false"])
        .current_dir(&tf_root)
        .env("TF_CLI_CONFIG_FILE", peer.join("terraformrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_DATA_DIR")
        .output()
        .expect("run terraform");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "terraform init failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tf_lines: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "Initializing modules...")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();

    let tn_root = make_root("tn");
    let (tn_lines, result) = install(&tn_root, &options());
    assert!(result.is_ok(), "{:?}", result.err().map(|d| describe(&d)));
    assert_eq!(tn_lines, tf_lines);
    // Terraform writes the entries in Go map order, which varies between
    // runs; the records themselves must be the same.
    assert_eq!(
        manifest_records(&manifest_text(&tn_root)),
        manifest_records(&manifest_text(&tf_root))
    );
    // Each tool's loader accepts the other's installation: terrane loads
    // the modules Terraform installed.
    let (tree, diags) = terrane_config::load_tree(&tf_root);
    assert!(!diags.has_errors(), "{:?}", describe(&diags));
    assert!(tree.children["gs"].children.contains_key("inner"));
}

/// A zip of a module package with the module in `sub/`.
fn module_zip() -> Vec<u8> {
    use std::io::Cursor;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    for (name, text) in [
        ("sub/main.tf", "output \"z\" {\n  value = 1\n}\n"),
        ("sub/marker", "zip"),
        ("README.md", "a module"),
    ] {
        writer.start_file(name, options).expect("zip entry");
        writer.write_all(text.as_bytes()).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

#[test]
fn http_archives_and_terraform_get_redirects() {
    let base = temp_dir("http");
    let repo = make_repo(&base);
    let url = format!("file://{}", repo.bare.display());
    let server = serve_registry(
        &[],
        vec![("/redirect".to_string(), format!("git::{url}?ref=feature"))],
        vec![("/files/pkg.zip".to_string(), module_zip())],
    );
    let host = &server.host;
    let root = base.join("root");
    write(
        &root.join("main.tf"),
        &format!(
            r#"module "zipped" {{
  source = "http://{host}/files/pkg.zip//sub"
}}

module "redirected" {{
  source = "http://{host}/redirect"
}}

module "missing" {{
  source = "http://{host}/files/none.zip"
}}
"#
        ),
    );
    let (lines, result) = install(&root, &options());
    let got = describe(&result.expect_err("missing archive"));
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "Failed to download module");
    assert!(
        got[0].1.starts_with(&format!(
            "Could not download module \"missing\" (main.tf:9) source code from \"http://{host}/files/none.zip\": error downloading 'http://{host}/files/none.zip': "
        )),
        "{}",
        got[0].1
    );
    assert!(got[0].1.contains("404"), "{}", got[0].1);
    assert_eq!(
        lines,
        [
            format!("Downloading http://{host}/files/none.zip for missing..."),
            format!("Downloading http://{host}/redirect for redirected..."),
            "- redirected in .terraform/modules/redirected".to_string(),
            "- redirected.helper in .terraform/modules/redirected/modules/helper".to_string(),
            format!("Downloading http://{host}/files/pkg.zip for zipped..."),
            "- zipped in .terraform/modules/zipped/sub".to_string(),
        ]
    );
    assert_eq!(marker(&root, ".terraform/modules/redirected"), "branch");
    assert_eq!(marker(&root, ".terraform/modules/zipped/sub"), "zip");
    assert!(server
        .requests
        .lock()
        .expect("lock")
        .contains(&"/redirect?terraform-get=1".to_string()));
}

#[test]
fn registry_install_matches_terraform() {
    let Some(peer) = peer_dir() else { return };
    let base = temp_dir("peer-registry");
    let server = serve_registry(
        &["1.0.0", "1.1.0", "2.0.0-beta1"],
        vec![
            (
                "/v1/modules/acme/net/aws/1.1.0/download".to_string(),
                "/archives/net-1.1.0.tar.gz".to_string(),
            ),
            (
                "/v1/modules/acme/net/aws/1.0.0/download".to_string(),
                "../../../../../../archives/net-1.0.0.tgz//*?archive=tar.gz".to_string(),
            ),
        ],
        vec![
            (
                "/archives/net-1.1.0.tar.gz".to_string(),
                module_tarball(&base, "flat", false),
            ),
            (
                "/archives/net-1.0.0.tgz".to_string(),
                module_tarball(&base, "nested", true),
            ),
        ],
    );
    // Terraform asks registries over https only, but honours a `host`
    // block in the CLI configuration naming the service URL directly.
    let services_url = format!("http://{}/v1/modules/", server.host);
    let peer_rc = fs::read_to_string(peer.join("terraformrc")).unwrap_or_default();
    let rc = base.join("terraformrc");
    write(
        &rc,
        &format!(
            "{peer_rc}\nhost \"registry.example.test\" {{\n  services = {{\n    \"modules.v1\" = \"{services_url}\"\n  }}\n}}\n"
        ),
    );
    let config = "module \"new\" {\n  source = \"registry.example.test/acme/net/aws\"\n}\n\nmodule \"old\" {\n  source  = \"registry.example.test/acme/net/aws\"\n  version = \"< 1.1\"\n}\n";
    let tf_root = base.join("tf");
    let tn_root = base.join("tn");
    write(&tf_root.join("main.tf"), config);
    write(&tn_root.join("main.tf"), config);

    let out = Command::new(peer.join("bin/terraform"))
        .args(["init", "-no-color", "-input=false", "-backend=false"])
        .current_dir(&tf_root)
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("CHECKPOINT_DISABLE", "1")
        .env_remove("TF_DATA_DIR")
        .output()
        .expect("run terraform");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "terraform init failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tf_lines: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "Initializing modules...")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();

    let mut discovery = Discovery::new(HttpClient::new());
    discovery.force_host_services(
        "registry.example.test",
        [("modules.v1".to_string(), services_url.clone())].into(),
    );
    let opts = ModuleInstallOptions {
        discovery: std::sync::Arc::new(discovery),
        ..options()
    };
    let (tn_lines, result) = install(&tn_root, &opts);
    assert!(result.is_ok(), "{:?}", result.err().map(|d| describe(&d)));
    assert_eq!(tn_lines, tf_lines);
    assert_eq!(tn_lines.len(), 6, "{tn_lines:?}");
    assert_eq!(
        manifest_records(&manifest_text(&tn_root)),
        manifest_records(&manifest_text(&tf_root))
    );
}

#[test]
fn uninstalled_or_changed_remote_modules_are_reported() {
    let base = temp_dir("check");
    let repo = make_repo(&base);
    let url = format!("file://{}", repo.bare.display());
    let root = base.join("root");
    let config = format!(
        "module \"g\" {{\n  source = \"git::{url}?ref=v1.0.0\"\n}}\n\nmodule \"l\" {{\n  source = \"./l\"\n}}\n"
    );
    write(&root.join("main.tf"), &config);
    write(&root.join("l/main.tf"), "");
    let check = |root: &Path| {
        let (tree, diags) = terrane_config::load_tree(root);
        assert!(!diags.has_errors(), "{:?}", describe(&diags));
        describe(&terrane_install::modules::check_installed(root, &tree))
    };
    assert_eq!(
        check(&root),
        [(
            "Module not installed".to_string(),
            "This module is not yet installed. Run \"terraform init\" to install all modules required by this configuration.".to_string(),
            "main.tf:1".to_string()
        )]
    );
    let (_, result) = install(&root, &options());
    assert!(result.is_ok(), "{:?}", result.err().map(|d| describe(&d)));
    assert!(check(&root).is_empty());
    write(&root.join("main.tf"), &config.replace("v1.0.0", "feature"));
    let got = check(&root);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, "Module source has changed");
}

#[test]
fn from_module_refuses_calls_outside_the_module() {
    let base = temp_dir("frommodule");
    let repo = make_repo(&base);
    let url = format!("file://{}", repo.bare.display());
    let target = base.join("target");
    fs::create_dir_all(&target).expect("mkdir");
    let source = format!("git::{url}//sub?ref=feature");
    let mut lines = Vec::new();
    let result =
        terrane_install::modules::copy_from_module(&target, &source, &options(), &mut |e| {
            lines.push(e.to_string())
        });
    assert_eq!(lines, ["- inner", "- up"]);
    let got = describe(&result.expect_err("parent reference"));
    assert_eq!(
        got,
        [(
            "Root module references parent directory".to_string(),
            format!("The requested module \"{source}\" refers to a module via its parent directory. To use this as a new root module this source string must be rewritten as a remote source address, such as \"git::{url}?ref=feature//modules/helper\"."),
            String::new()
        )]
    );
    // Nothing was copied, and the staging directory is gone.
    let left: Vec<_> = fs::read_dir(&target)
        .expect("read target")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| n == ".terraform"), "{left:?}");
    assert!(!target.join(".terraform/init-from-module").exists());
}
