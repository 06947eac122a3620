//! `init -migrate-state` between local backends (a `path` change, and a
//! first `backend "local"` block with other paths over existing
//! workspaces): the questions, the answers (yes, no, `-input=false`,
//! `-force-copy`) and the resulting state files, against text recorded
//! from Terraform 1.0.3. When the peer is installed the same cases also run
//! through it, so the recording is checked against the real thing
//! (skipped outside CI without the peer; `CI=true` requires it).
//!
//! Also: `import -json` does not exist in Terraform 1.0.3 and is refused.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A tool under test: its name (for messages) and executable.
struct Tool {
    name: &'static str,
    bin: PathBuf,
}

fn tools() -> Vec<Tool> {
    let mut tools = vec![Tool {
        name: "terrane",
        bin: PathBuf::from(env!("CARGO_BIN_EXE_terrane")),
    }];
    if let Some(peer) = terrane_testkit::peer_dir() {
        tools.push(Tool {
            name: "terraform",
            bin: terrane_testkit::terraform_bin(&peer),
        });
    }
    tools
}

fn scratch(case: &str, tool: &Tool) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("terrane-migrate-{}", std::process::id()))
        .join(case)
        .join(tool.name);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn run(tool: &Tool, dir: &Path, args: &[&str], stdin: &str) -> Run {
    // An empty CLI configuration: no provider is needed, and neither tool
    // reads the user's.
    let rc = dir.join("empty.tfrc");
    fs::write(&rc, "").expect("cli config");
    let mut child = Command::new(&tool.bin)
        .args(args)
        .current_dir(dir)
        .env("TF_CLI_CONFIG_FILE", &rc)
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_IN_AUTOMATION", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin.as_bytes());
    }
    let out = child.wait_with_output().expect("wait");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn state_json(value: &str, lineage: &str) -> String {
    format!(
        "{{\n  \"version\": 4,\n  \"terraform_version\": \"1.0.3\",\n  \"serial\": 3,\n  \"lineage\": \"{lineage}\",\n  \"outputs\": {{\n    \"x\": {{\n      \"value\": \"{value}\",\n      \"type\": \"string\"\n    }}\n  }},\n  \"resources\": []\n}}\n"
    )
}

const LINEAGE_A: &str = "aaaaaaaa-1111-2222-3333-444444444444";
const LINEAGE_B: &str = "bbbbbbbb-1111-2222-3333-444444444444";

fn config(path: &str) -> String {
    format!("terraform {{\n  backend \"local\" {{\n    path = \"{path}\"\n  }}\n}}\n\noutput \"x\" {{\n  value = \"one\"\n}}\n")
}

/// A working directory initialized with `path = "a.tfstate"` (holding
/// "one"), `b.tfstate` holding "two" when `dest_has_state`, and the
/// configuration changed to `path = "b.tfstate"`.
fn path_change(tool: &Tool, case: &str, dest_has_state: bool) -> PathBuf {
    let dir = scratch(case, tool);
    fs::write(dir.join("main.tf"), config("a.tfstate")).expect("main.tf");
    let init = run(tool, &dir, &["init", "-input=false", "-no-color"], "");
    assert_eq!(init.code, 0, "{}: first init: {}", tool.name, init.stderr);
    fs::write(dir.join("a.tfstate"), state_json("one", LINEAGE_A)).expect("a");
    if dest_has_state {
        fs::write(dir.join("b.tfstate"), state_json("two", LINEAGE_B)).expect("b");
    }
    fs::write(dir.join("main.tf"), config("b.tfstate")).expect("main.tf");
    dir
}

/// The output `x` and the lineage of a state file, `None` when it is
/// missing or empty.
fn state_of(path: &Path) -> Option<(String, String)> {
    let text = fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((
        v["outputs"]["x"]["value"].as_str()?.to_string(),
        v["lineage"].as_str()?.to_string(),
    ))
}

/// The temporary files of the overwrite question have random names.
fn normalize(stdout: &str) -> String {
    stdout
        .lines()
        .map(|line| match (line.find("(type \""), line.find("): ")) {
            (Some(_), Some(at)) => {
                let file = line.rsplit('/').next().unwrap_or("");
                format!("{}): TMP/{file}", &line[..at])
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

const HEAD: &str = "\nInitializing the backend...\n";
const CHANGED: &str = "Backend configuration changed!\n\nTerraform has detected that the configuration specified for the backend\nhas changed. Terraform will now check for existing state in the backends.\n\n\n";
const DONE: &str = "\nSuccessfully configured the backend \"local\"! Terraform will automatically\nuse this backend unless the backend configuration changes.\n\nInitializing provider plugins...\n\nTerraform has been successfully initialized!";

const ASK_COPY: &str = "Do you want to copy existing state to the new backend?\n  Pre-existing state was found while migrating the previous \"local\" backend to the\n  newly configured \"local\" backend. No existing state was found in the newly\n  configured \"local\" backend. Do you want to copy this state to the new \"local\"\n  backend? Enter \"yes\" to copy and \"no\" to start with an empty state.\n\n  Enter a value: \n";

const ASK_OVERWRITE: &str = "Do you want to copy existing state to the new backend?\n  Pre-existing state was found while migrating the previous \"local\" backend to the\n  newly configured \"local\" backend. An existing non-empty state already exists in\n  the new backend. The two states have been saved to temporary files that will be\n  removed after responding to this query.\n  \n  Previous (type \"local\"): TMP/1-local.tfstate\n  New      (type \"local\"): TMP/2-local.tfstate\n  \n  Do you want to overwrite the state in the new backend with the previous state?\n  Enter \"yes\" to copy and \"no\" to start with the existing state in the newly\n  configured \"local\" backend.\n\n  Enter a value: \n";

const ASK_ALL: &str = "Do you want to migrate all workspaces to \"local\"?\n  Both the existing \"local\" backend and the newly configured \"local\" backend\n  support workspaces. When migrating between backends, Terraform will copy\n  all workspaces (with the same names). THIS WILL OVERWRITE any conflicting\n  states in the destination.\n  \n  Terraform initialization doesn't currently migrate only select workspaces.\n  If you want to migrate a select number of workspaces, you must manually\n  pull and push those states.\n  \n  If you answer \"yes\", Terraform will migrate all states. If you answer\n  \"no\", Terraform will abort.\n\n  Enter a value: \n";

fn check(tool: &Tool, what: &str, got: &Run, code: i32, stdout: &str, stderr: &str) {
    assert_eq!(
        got.code, code,
        "{}: {what}: exit code\nstdout:\n{}\nstderr:\n{}",
        tool.name, got.stdout, got.stderr
    );
    assert_eq!(
        normalize(&got.stdout).trim_end(),
        stdout.trim_end(),
        "{}: {what}: stdout",
        tool.name
    );
    // Terraform ends an error without detail with one more blank line than
    // terrane's renderer; the text itself must match.
    // Terraform's http client logs each request on standard error
    // (docs/compatibility.md); those lines are not compared.
    let stderr_got: String = got
        .stderr
        .lines()
        .filter(|l| !l.contains(" [DEBUG] "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(
        stderr_got.trim_end(),
        stderr.trim_end(),
        "{}: {what}: stderr",
        tool.name
    );
}

#[test]
fn path_change_into_an_empty_destination_asks_to_copy() {
    for tool in tools() {
        let dir = path_change(&tool, "copy-yes", false);
        let got = run(
            &tool,
            &dir,
            &["init", "-migrate-state", "-no-color"],
            "yes\n",
        );
        let expected = format!("{HEAD}{CHANGED}{ASK_COPY}{DONE}");
        check(&tool, "yes", &got, 0, &expected, "");
        assert_eq!(
            state_of(&dir.join("b.tfstate")),
            Some(("one".into(), LINEAGE_A.into())),
            "{}",
            tool.name
        );
        // A recorded backend's state is copied, not emptied.
        assert_eq!(
            state_of(&dir.join("a.tfstate")),
            Some(("one".into(), LINEAGE_A.into())),
            "{}",
            tool.name
        );
        assert!(!dir.join("a.tfstate.backup").exists(), "{}", tool.name);
    }
}

#[test]
fn path_change_over_existing_state_asks_to_overwrite() {
    for tool in tools() {
        let dir = path_change(&tool, "overwrite-yes", true);
        let got = run(
            &tool,
            &dir,
            &["init", "-migrate-state", "-no-color"],
            "yes\n",
        );
        let expected = format!("{HEAD}{CHANGED}{ASK_OVERWRITE}{DONE}");
        check(&tool, "yes", &got, 0, &expected, "");
        assert_eq!(
            state_of(&dir.join("b.tfstate")),
            Some(("one".into(), LINEAGE_A.into())),
            "{}",
            tool.name
        );
        assert_eq!(
            state_of(&dir.join("b.tfstate.backup")),
            Some(("two".into(), LINEAGE_B.into())),
            "{}",
            tool.name
        );
        assert_eq!(
            state_of(&dir.join("a.tfstate")),
            Some(("one".into(), LINEAGE_A.into())),
            "{}",
            tool.name
        );
    }
}

#[test]
fn answering_no_keeps_the_destination_state_and_records_the_backend() {
    for tool in tools() {
        let dir = path_change(&tool, "overwrite-no", true);
        let got = run(
            &tool,
            &dir,
            &["init", "-migrate-state", "-no-color"],
            "no\n",
        );
        let expected = format!("{HEAD}{CHANGED}{ASK_OVERWRITE}{DONE}");
        check(&tool, "no", &got, 0, &expected, "");
        assert_eq!(
            state_of(&dir.join("b.tfstate")),
            Some(("two".into(), LINEAGE_B.into())),
            "{}",
            tool.name
        );
        let record = fs::read_to_string(dir.join(".terraform/terraform.tfstate")).expect("record");
        assert!(
            record.contains("\"path\": \"b.tfstate\""),
            "{}: {record}",
            tool.name
        );
        // The new backend is in use: nothing left to migrate.
        let again = run(&tool, &dir, &["init", "-input=false", "-no-color"], "");
        assert_eq!(again.code, 0, "{}: {}", tool.name, again.stderr);
    }
}

#[test]
fn input_false_refuses_and_force_copy_overwrites_without_asking() {
    for tool in tools() {
        let dir = path_change(&tool, "input-false", true);
        let got = run(
            &tool,
            &dir,
            &["init", "-migrate-state", "-input=false", "-no-color"],
            "",
        );
        check(
            &tool,
            "-input=false",
            &got,
            1,
            &format!("{HEAD}{CHANGED}"),
            "\nError: error asking for state migration action: input disabled",
        );
        assert_eq!(
            state_of(&dir.join("b.tfstate")),
            Some(("two".into(), LINEAGE_B.into())),
            "{}",
            tool.name
        );

        // A fresh directory: after the refusal Terraform 1.0.3 records the
        // new configuration's hash with the old settings, and its next
        // `init` sees nothing to migrate; terrane keeps the old record
        // (docs/compatibility.md).
        if tool.name == "terrane" {
            let record =
                fs::read_to_string(dir.join(".terraform/terraform.tfstate")).expect("record");
            assert!(record.contains("\"path\": \"a.tfstate\""), "{record}");
        }
        let dir = path_change(&tool, "force-copy", true);
        let got = run(&tool, &dir, &["init", "-force-copy", "-no-color"], "");
        check(
            &tool,
            "-force-copy",
            &got,
            0,
            &format!("{HEAD}{CHANGED}{DONE}"),
            "",
        );
        assert_eq!(
            state_of(&dir.join("b.tfstate")),
            Some(("one".into(), LINEAGE_A.into())),
            "{}",
            tool.name
        );
    }
}

/// Workspaces `default` ("d") and `w1` ("w") in the default local paths,
/// and a first `backend "local"` block with other paths.
fn workspaces(tool: &Tool, case: &str) -> PathBuf {
    let dir = scratch(case, tool);
    fs::write(dir.join("terraform.tfstate"), state_json("d", LINEAGE_A)).expect("default");
    fs::create_dir_all(dir.join("terraform.tfstate.d/w1")).expect("w1");
    fs::write(
        dir.join("terraform.tfstate.d/w1/terraform.tfstate"),
        state_json("w", LINEAGE_B),
    )
    .expect("w1 state");
    fs::write(
        dir.join("main.tf"),
        "terraform {\n  backend \"local\" {\n    path          = \"d.tfstate\"\n    workspace_dir = \"wsd\"\n  }\n}\n",
    )
    .expect("main.tf");
    dir
}

#[test]
fn several_workspaces_ask_once_and_move_all() {
    for tool in tools() {
        let dir = workspaces(&tool, "all-yes");
        let got = run(&tool, &dir, &["init", "-no-color"], "yes\n");
        check(&tool, "yes", &got, 0, &format!("{HEAD}{ASK_ALL}{DONE}"), "");
        assert_eq!(
            state_of(&dir.join("d.tfstate")),
            Some(("d".into(), LINEAGE_A.into()))
        );
        assert_eq!(
            state_of(&dir.join("wsd/w1/terraform.tfstate")),
            Some(("w".into(), LINEAGE_B.into()))
        );
        // The implicit local state migrated away is emptied (the files
        // stay, empty) and kept in backups.
        for old in [
            "terraform.tfstate",
            "terraform.tfstate.d/w1/terraform.tfstate",
        ] {
            let content = fs::read(dir.join(old));
            assert_eq!(content.ok(), Some(Vec::new()), "{}: {old}", tool.name);
        }
        assert_eq!(
            state_of(&dir.join("terraform.tfstate.backup")),
            Some(("d".into(), LINEAGE_A.into()))
        );
    }
}

#[test]
fn several_workspaces_no_aborts_and_input_false_refuses() {
    for tool in tools() {
        let dir = workspaces(&tool, "all-no");
        let got = run(&tool, &dir, &["init", "-no-color"], "no\n");
        check(
            &tool,
            "no",
            &got,
            1,
            &format!("{HEAD}{ASK_ALL}"),
            "\nError: Migration aborted by user.",
        );
        let got = run(&tool, &dir, &["init", "-input=false", "-no-color"], "");
        check(
            &tool,
            "-input=false",
            &got,
            1,
            HEAD,
            "\nError: Error asking for state migration action: input is disabled",
        );
        // Nothing moved, nothing recorded.
        assert!(!dir.join("d.tfstate").exists(), "{}", tool.name);
        assert!(!dir.join("wsd").exists(), "{}", tool.name);
        assert_eq!(
            state_of(&dir.join("terraform.tfstate")),
            Some(("d".into(), LINEAGE_A.into()))
        );
        assert!(
            !dir.join(".terraform/terraform.tfstate").exists(),
            "{}",
            tool.name
        );
    }
}

#[test]
fn import_has_no_json_flag() {
    for tool in tools() {
        let dir = scratch("import-json", &tool);
        fs::write(dir.join("main.tf"), "output \"x\" {\n  value = 1\n}\n").expect("main.tf");
        let got = run(
            &tool,
            &dir,
            &["import", "-no-color", "-json", "null_resource.a", "x"],
            "",
        );
        assert_eq!(got.code, 1, "{}: {}", tool.name, got.stderr);
        assert_eq!(got.stdout, "", "{}", tool.name);
        // The usage alone, as Terraform 1.0.3 (terrane's option texts are
        // shorter, so only the start is compared).
        assert!(
            got.stderr
                .starts_with("Usage: terraform [global options] import [options] ADDR ID\n"),
            "{}: {}",
            tool.name,
            got.stderr
        );
        assert!(!dir.join("terraform.tfstate").exists(), "{}", tool.name);
    }
}

/// The source state is locked during the migration: a lock held elsewhere
/// stops it before anything is asked or copied.
#[test]
fn a_locked_source_stops_the_migration() {
    for tool in tools() {
        let dir = path_change(&tool, "locked-source", true);
        let mut holder = terrane_state::LocalState::new(terrane_state::LocalStateOptions::new(
            dir.join("a.tfstate"),
        ));
        let id = holder.lock("test", "held by the test").expect("lock");
        let got = run(
            &tool,
            &dir,
            &["init", "-migrate-state", "-no-color"],
            "yes\n",
        );
        let _ = holder.unlock(&id);
        assert_eq!(got.code, 1, "{}: {}{}", tool.name, got.stdout, got.stderr);
        assert!(
            got.stderr.contains("Error acquiring the state lock"),
            "{}: {}",
            tool.name,
            got.stderr
        );
        assert!(
            got.stderr.contains("  Operation: test\n")
                && got.stderr.contains("  Info:      held by the test\n"),
            "{}: {}",
            tool.name,
            got.stderr
        );
        assert_eq!(got.stdout, format!("{HEAD}{CHANGED}"), "{}", tool.name);
        assert!(
            !got.stdout.contains("Enter a value"),
            "{}: {}",
            tool.name,
            got.stdout
        );
        assert_eq!(
            state_of(&dir.join("b.tfstate")),
            Some(("two".into(), LINEAGE_B.into())),
            "{}",
            tool.name
        );
    }
}

/// A minimal http state server on 127.0.0.1 (GET, POST, DELETE per path,
/// one request per connection), for the remote destination cases.
struct StateServer {
    port: u16,
    docs: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, Vec<u8>>>>,
}

impl StateServer {
    fn start() -> StateServer {
        use std::io::{BufRead, BufReader, Read};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let docs = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
            String,
            Vec<u8>,
        >::new()));
        let shared = docs.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let mut reader = BufReader::new(conn);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                let mut parts = request_line.split_whitespace();
                let method = parts.next().unwrap_or("").to_string();
                let path = parts.next().unwrap_or("").to_string();
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let mut docs = shared.lock().expect("docs");
                let (status, reply) = match method.as_str() {
                    "GET" => match docs.get(&path) {
                        Some(doc) => ("200 OK", doc.clone()),
                        None => ("404 Not Found", Vec::new()),
                    },
                    "POST" => {
                        docs.insert(path, body);
                        ("200 OK", Vec::new())
                    }
                    "DELETE" => {
                        docs.remove(&path);
                        ("200 OK", Vec::new())
                    }
                    _ => ("405 Method Not Allowed", Vec::new()),
                };
                drop(docs);
                let mut conn = reader.into_inner();
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.len()
                );
                let _ = conn.write_all(head.as_bytes());
                let _ = conn.write_all(&reply);
            }
        });
        StateServer { port, docs }
    }

    fn put(&self, path: &str, doc: &str) {
        let mut docs = self.docs.lock().expect("docs");
        docs.insert(path.to_string(), doc.as_bytes().to_vec());
    }

    /// The output `x` and lineage of the state at `path`.
    fn state(&self, path: &str) -> Option<(String, String)> {
        let docs = self.docs.lock().expect("docs");
        let v: serde_json::Value = serde_json::from_slice(docs.get(path)?).ok()?;
        Some((
            v["outputs"]["x"]["value"].as_str()?.to_string(),
            v["lineage"].as_str()?.to_string(),
        ))
    }
}

/// First configuration of an http backend that already holds a state,
/// over local state: the overwrite question names both types; yes copies,
/// no keeps the remote state; either way the local state is emptied (kept
/// in the backup).
#[test]
fn local_state_to_http_that_already_has_state() {
    let server = StateServer::start();
    for tool in tools() {
        for answer in ["yes", "no"] {
            let case = format!("http-{answer}");
            let dir = scratch(&case, &tool);
            let path = format!("/{}/{answer}", tool.name);
            server.put(&path, &state_json("two", LINEAGE_B));
            fs::write(dir.join("terraform.tfstate"), state_json("one", LINEAGE_A)).expect("state");
            fs::write(
                dir.join("main.tf"),
                format!(
                    "terraform {{\n  backend \"http\" {{\n    address = \"http://127.0.0.1:{}{path}\"\n  }}\n}}\n",
                    server.port
                ),
            )
            .expect("main.tf");
            let got = run(&tool, &dir, &["init", "-no-color"], &format!("{answer}\n"));
            let ask = ASK_OVERWRITE
                .replace("newly configured \"local\"", "newly configured \"http\"")
                .replace(
                    "  configured \"local\" backend.",
                    "  configured \"http\" backend.",
                )
                .replace(
                    "New      (type \"local\"): TMP/2-local",
                    "New      (type \"http\"): TMP/2-http",
                );
            let done = DONE.replace("backend \"local\"", "backend \"http\"");
            assert_eq!(got.code, 0, "{}: {answer}: {}", tool.name, got.stderr);
            assert_eq!(
                normalize(&got.stdout).trim_end(),
                format!("{HEAD}{ask}{done}"),
                "{}: {answer}",
                tool.name
            );
            let expected = if answer == "yes" {
                ("one".to_string(), LINEAGE_A.to_string())
            } else {
                ("two".to_string(), LINEAGE_B.to_string())
            };
            assert_eq!(
                server.state(&path),
                Some(expected),
                "{}: {answer}",
                tool.name
            );
            assert_eq!(
                fs::read(dir.join("terraform.tfstate")).ok(),
                Some(Vec::new()),
                "{}: {answer}",
                tool.name
            );
            assert_eq!(
                state_of(&dir.join("terraform.tfstate.backup")),
                Some(("one".into(), LINEAGE_A.into())),
                "{}: {answer}",
                tool.name
            );
        }
    }
}

const ASK_CURRENT_ONLY: &str = "Destination state \"http\" doesn't support workspaces.\nDo you want to copy only your current workspace?\n  The existing \"local\" backend supports workspaces and you currently are\n  using more than one. The newly configured \"http\" backend doesn't support\n  workspaces. If you continue, Terraform will copy your current workspace \"default\"\n  to the default workspace in the target backend. Your existing workspaces in the\n  source backend won't be modified. If you want to switch workspaces, back them\n  up, or cancel altogether, answer \"no\" and Terraform will abort.\n\n  Enter a value: \n";

/// Several local workspaces into http (no workspaces): only the current
/// one can go. "no" aborts; `-force-copy` copies it and, as Terraform,
/// empties every local workspace state; "yes" then asks the copy question
/// (terrane only: Terraform 1.0.3 reads both answers from a pipe at once).
#[test]
fn several_workspaces_to_http_copy_only_the_current_one() {
    let server = StateServer::start();
    for tool in tools() {
        let http = |dir: &Path, path: &str| {
            fs::write(
                dir.join("main.tf"),
                format!(
                    "terraform {{\n  backend \"http\" {{\n    address = \"http://127.0.0.1:{}{path}\"\n  }}\n}}\n",
                    server.port
                ),
            )
            .expect("main.tf");
        };
        let dir = workspaces(&tool, "http-ws-no");
        let path = format!("/{}/ws-no", tool.name);
        http(&dir, &path);
        let got = run(&tool, &dir, &["init", "-no-color"], "no\n");
        check(
            &tool,
            "no",
            &got,
            1,
            &format!("{HEAD}{ASK_CURRENT_ONLY}"),
            "\nError: Migration aborted by user.",
        );
        assert_eq!(server.state(&path), None, "{}", tool.name);

        let dir = workspaces(&tool, "http-ws-force");
        let path = format!("/{}/ws-force", tool.name);
        http(&dir, &path);
        let got = run(&tool, &dir, &["init", "-force-copy", "-no-color"], "");
        let done = DONE.replace("backend \"local\"", "backend \"http\"");
        check(&tool, "-force-copy", &got, 0, &format!("{HEAD}{done}"), "");
        // Terraform 1.0.3 gives the copy a new lineage on this path;
        // terrane keeps the workspace's (docs/compatibility.md).
        let copied = server.state(&path);
        assert_eq!(
            copied.as_ref().map(|(v, _)| v.as_str()),
            Some("d"),
            "{}",
            tool.name
        );
        if tool.name == "terrane" {
            assert_eq!(copied, Some(("d".into(), LINEAGE_A.into())));
        }
        for old in [
            "terraform.tfstate",
            "terraform.tfstate.d/w1/terraform.tfstate",
        ] {
            let content = fs::read(dir.join(old));
            assert_eq!(content.ok(), Some(Vec::new()), "{}: {old}", tool.name);
        }
        assert_eq!(
            state_of(&dir.join("terraform.tfstate.d/w1/terraform.tfstate.backup")),
            Some(("w".into(), LINEAGE_B.into())),
            "{}",
            tool.name
        );

        if tool.name == "terrane" {
            let dir = workspaces(&tool, "http-ws-yes");
            let path = format!("/{}/ws-yes", tool.name);
            http(&dir, &path);
            let got = run(&tool, &dir, &["init", "-no-color"], "yes\nyes\n");
            let ask_copy = ASK_COPY
                .replace("newly configured \"local\"", "newly configured \"http\"")
                .replace(
                    "  configured \"local\" backend.",
                    "  configured \"http\" backend.",
                )
                .replace("new \"local\"", "new \"http\"");
            check(
                &tool,
                "yes",
                &got,
                0,
                &format!("{HEAD}{ASK_CURRENT_ONLY}{ask_copy}{done}"),
                "",
            );
            assert_eq!(server.state(&path), Some(("d".into(), LINEAGE_A.into())));
        }
    }
}
