//! `-notify`: the exact requests terrane sends to a GitHub REST API and a
//! Slack incoming webhook (both served by this test on 127.0.0.1 and
//! recording every request) and to a generic JSON webhook, for a plan with
//! creates, an update and a replacement, for an earlier comment found by
//! its marker (PATCH), for a plan too large for one comment, for a failing
//! plan, and for an unreachable target (a warning; the exit code stands).
//! A sensitive variable's value must appear in no request.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

const SECRET: &str = "s3cr3t-Pa55word";
const TOKEN: &str = "ghp_testtoken";
const UA: &str = concat!("terrane/", env!("CARGO_PKG_VERSION"));

#[derive(Clone, Debug)]
struct Request {
    method: String,
    path: String,
    headers: BTreeMap<String, String>,
    body: String,
}

#[derive(Default)]
struct GitHub {
    /// (id, body)
    comments: Vec<(u64, String)>,
    labels: Vec<String>,
    next_id: u64,
    /// Answers of `/webhook` before it succeeds (429s carry
    /// `Retry-After: 0`).
    webhook_failures: Vec<u16>,
}

/// The GitHub REST API subset terrane uses (under `/api/v3`, as GitHub
/// Enterprise serves it), a Slack webhook at `/slack` and a JSON webhook
/// at `/webhook`. Every request is recorded.
struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
    github: Arc<Mutex<GitHub>>,
}

impl Server {
    fn start(comments: Vec<(u64, String)>, labels: &[&str]) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
        let github = Arc::new(Mutex::new(GitHub {
            comments,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            next_id: 1000,
            webhook_failures: Vec::new(),
        }));
        let (reqs, gh) = (requests.clone(), github.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (reqs, gh) = (reqs.clone(), gh.clone());
                std::thread::spawn(move || serve(stream, &reqs, &gh));
            }
        });
        Server {
            port,
            requests,
            github,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn serve(stream: std::net::TcpStream, reqs: &Mutex<Vec<Request>>, gh: &Mutex<GitHub>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    let _ = reader.read_exact(&mut body);
    let body = String::from_utf8_lossy(&body).into_owned();
    reqs.lock().unwrap().push(Request {
        method: method.clone(),
        path: path.clone(),
        headers,
        body: body.clone(),
    });
    let (status, reply) = route(&method, &path, &body, gh);
    let mut stream = stream;
    let retry_after = if status == 429 {
        "Retry-After: 0\r\n"
    } else {
        ""
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{retry_after}Content-Length: {}\r\nConnection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = stream.flush();
}

fn route(method: &str, path: &str, body: &str, gh: &Mutex<GitHub>) -> (u16, String) {
    let issue = "/api/v3/repos/acme/infra/issues/7";
    let mut gh = gh.lock().unwrap();
    let json_body = || serde_json::from_str::<serde_json::Value>(body).unwrap_or_default();
    if method == "GET" && path.starts_with(&format!("{issue}/comments?")) {
        let list: Vec<serde_json::Value> = gh
            .comments
            .iter()
            .map(|(id, b)| serde_json::json!({"id": id, "body": b}))
            .collect();
        return (200, serde_json::Value::Array(list).to_string());
    }
    if method == "POST" && path == format!("{issue}/comments") {
        gh.next_id += 1;
        let id = gh.next_id;
        let b = json_body()["body"].as_str().unwrap_or_default().to_string();
        gh.comments.push((id, b));
        return (201, format!("{{\"id\":{id}}}"));
    }
    if let Some(id) = path.strip_prefix("/api/v3/repos/acme/infra/issues/comments/") {
        if method == "PATCH" {
            let id: u64 = id.parse().unwrap_or(0);
            let b = json_body()["body"].as_str().unwrap_or_default().to_string();
            return match gh.comments.iter_mut().find(|(i, _)| *i == id) {
                Some(c) => {
                    c.1 = b;
                    (200, format!("{{\"id\":{id}}}"))
                }
                None => (404, "{}".into()),
            };
        }
    }
    if method == "GET" && path.starts_with(&format!("{issue}/labels?")) {
        let list: Vec<serde_json::Value> = gh
            .labels
            .iter()
            .map(|n| serde_json::json!({"name": n}))
            .collect();
        return (200, serde_json::Value::Array(list).to_string());
    }
    if let Some(name) = path.strip_prefix(&format!("{issue}/labels/")) {
        if method == "DELETE" {
            gh.labels.retain(|l| l != name);
            return (200, "[]".into());
        }
    }
    if method == "POST" && path == format!("{issue}/labels") {
        for l in json_body()["labels"].as_array().into_iter().flatten() {
            if let Some(l) = l.as_str() {
                gh.labels.push(l.to_string());
            }
        }
        return (200, "[]".into());
    }
    if method == "POST" && path == "/webhook" && !gh.webhook_failures.is_empty() {
        let status = gh.webhook_failures.remove(0);
        return (status, "{\"message\":\"try again\"}".into());
    }
    if method == "POST" && (path == "/slack" || path == "/webhook") {
        return (200, "ok".into());
    }
    (404, "{\"message\":\"Not Found\"}".into())
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("terrane-notify-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).expect("mkdir");
    dir
}

fn terrane(dir: &Path, server: &Server, args: &[&str]) -> Output {
    let event = dir.join("event.json");
    std::fs::write(
        &event,
        r#"{"action":"synchronize","pull_request":{"number":7}}"#,
    )
    .expect("event");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_terrane"));
    cmd.args(args)
        .current_dir(dir)
        .env("GITHUB_TOKEN", TOKEN)
        .env("GITHUB_REPOSITORY", "acme/infra")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_API_URL", server.url("/api/v3"))
        .env("SLACK_WEBHOOK_URL", server.url("/slack"))
        .env("TF_VAR_password", SECRET)
        .env("TF_IN_AUTOMATION", "1")
        .env_remove("GITHUB_REF")
        .env_remove("GITHUB_RUN_ID")
        .env_remove("TF_WORKSPACE")
        .env_remove("TERRANE_NOTIFY_WEBHOOK_URL");
    cmd.output().expect("run terrane")
}

/// The ids in the state (random per run) replaced by `<id>`.
fn mask_ids(dir: &Path, text: &str) -> String {
    let state = std::fs::read_to_string(dir.join("terraform.tfstate")).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(&state).unwrap_or_default();
    let mut out = text.to_string();
    for r in json["resources"].as_array().into_iter().flatten() {
        for i in r["instances"].as_array().into_iter().flatten() {
            if let Some(id) = i["attributes"]["id"].as_str() {
                out = out.replace(id, "<id>");
            }
        }
    }
    out
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/notify")
        .join(name)
}

/// Compares with a checked-in expected file; `TERRANE_BLESS=1` rewrites it.
fn expect_file(name: &str, actual: &str) {
    let path = fixture(name);
    if std::env::var("TERRANE_BLESS").as_deref() == Ok("1") {
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(actual, want, "differs from {}", path.display());
}

fn assert_no_secret(reqs: &[Request]) {
    for r in reqs {
        assert!(
            !r.body.contains(SECRET) && !r.path.contains(SECRET),
            "the sensitive value leaked in {} {}: {}",
            r.method,
            r.path,
            r.body
        );
        for v in r.headers.values() {
            assert!(!v.contains(SECRET));
        }
    }
}

fn assert_github_headers(r: &Request) {
    assert_eq!(
        r.headers.get("authorization").map(String::as_str),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(r.headers.get("user-agent").map(String::as_str), Some(UA));
    assert_eq!(
        r.headers.get("accept").map(String::as_str),
        Some("application/vnd.github+json")
    );
    assert_eq!(
        r.headers.get("x-github-api-version").map(String::as_str),
        Some("2022-11-28")
    );
    if r.method == "POST" || r.method == "PATCH" {
        assert_eq!(
            r.headers.get("content-type").map(String::as_str),
            Some("application/json")
        );
    }
}

fn calls(reqs: &[Request]) -> Vec<String> {
    reqs.iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

const V1: &str = r#"
variable "password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "settings" {
  input = "blue"
}
resource "null_resource" "server" {
  triggers = { image = "v1" }
}
resource "terraform_data" "login" {
  input = var.password
}
"#;

/// V1 with: a new null_resource (create), the settings' input changed
/// (update), the server's image changed (replace), the login unchanged.
const V2: &str = r#"
variable "password" {
  type      = string
  sensitive = true
}
resource "terraform_data" "settings" {
  input = "green"
}
resource "null_resource" "server" {
  triggers = { image = "v2" }
}
resource "null_resource" "worker" {
  triggers = { password = var.password }
}
resource "terraform_data" "login" {
  input = var.password
}
"#;

fn applied_v1_then_v2(name: &str, server: &Server) -> PathBuf {
    let dir = scratch(name);
    std::fs::write(dir.join("main.tf"), V1).expect("write");
    let out = terrane(
        &dir,
        server,
        &["apply", "-auto-approve", "-no-color", "-input=false"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("main.tf"), V2).expect("write");
    dir
}

#[test]
fn plan_with_creates_updates_and_a_replacement() {
    let server = Server::start(vec![(1, "Looks good to me".into())], &["bug", "no-changes"]);
    let dir = applied_v1_then_v2("plan", &server);
    let webhook = server.url("/webhook");
    let out = terrane(
        &dir,
        &server,
        &[
            "plan",
            "-no-color",
            "-input=false",
            "-notify=github",
            "-notify=slack",
            &format!("-notify=webhook={webhook}"),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.is_empty(), "no warnings expected: {stderr}");
    let reqs = server.requests();
    assert_eq!(
        calls(&reqs),
        [
            "GET /api/v3/repos/acme/infra/issues/7/comments?per_page=100&page=1",
            "POST /api/v3/repos/acme/infra/issues/7/comments",
            "GET /api/v3/repos/acme/infra/issues/7/labels?per_page=100",
            "DELETE /api/v3/repos/acme/infra/issues/7/labels/no-changes",
            "POST /api/v3/repos/acme/infra/issues/7/labels",
            "POST /slack",
            "POST /webhook",
        ]
    );
    for r in &reqs[..5] {
        assert_github_headers(r);
    }
    assert_eq!(reqs[0].body, "");
    let comment: serde_json::Value = serde_json::from_str(&reqs[1].body).expect("json");
    let comment = comment["body"].as_str().expect("body");
    expect_file("plan_comment.md", &mask_ids(&dir, comment));
    assert_eq!(reqs[4].body, r#"{"labels":["destroy"]}"#);
    assert_eq!(
        server.github.lock().unwrap().labels,
        ["bug".to_string(), "destroy".to_string()]
    );

    // Slack: the summary section, then the plan in code sections.
    let slack = &reqs[5];
    assert_eq!(
        slack.headers.get("user-agent").map(String::as_str),
        Some(UA)
    );
    assert!(!slack.headers.contains_key("authorization"));
    let slack_body: serde_json::Value = serde_json::from_str(&slack.body).expect("json");
    let pretty = serde_json::to_string_pretty(&slack_body).expect("pretty");
    expect_file("plan_slack.json", &mask_ids(&dir, &pretty));

    // The webhook: Terraform's plan JSON plus a summary.
    let hook: serde_json::Value = serde_json::from_str(&reqs[6].body).expect("json");
    assert_eq!(hook["format_version"], "0.2");
    let actions: Vec<String> = hook["resource_changes"]
        .as_array()
        .expect("resource_changes")
        .iter()
        .map(|c| {
            format!(
                "{} {}",
                c["address"].as_str().unwrap_or_default(),
                c["change"]["actions"]
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            r#"null_resource.server ["delete","create"]"#,
            r#"null_resource.worker ["create"]"#,
            r#"terraform_data.login ["no-op"]"#,
            r#"terraform_data.settings ["update"]"#,
        ]
    );
    assert_eq!(hook["variables"]["password"]["value"], "(sensitive value)");
    let summary = &hook["summary"];
    assert_eq!(
        summary["summary"],
        "Plan: 2 to add, 1 to change, 1 to destroy."
    );
    assert_eq!(
        summary["counts"],
        serde_json::json!({"add": 2, "change": 1, "destroy": 1, "create": 1, "update": 1,
            "replace": 1, "delete": 0, "import": 0, "drifted": 0})
    );
    assert_eq!(
        summary["replaced"],
        serde_json::json!(["null_resource.server"])
    );
    assert_eq!(summary["success"], true);
    assert_no_secret(&reqs);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_earlier_comment_is_updated_and_labels_kept() {
    let marker = "<!-- terrane-notify stack=. workspace=default command=plan -->";
    let server = Server::start(
        vec![
            (41, "unrelated".into()),
            (42, format!("{marker}\nan older plan")),
            (
                43,
                "<!-- terrane-notify stack=other workspace=default command=plan -->".into(),
            ),
        ],
        &["destroy"],
    );
    let dir = applied_v1_then_v2("update", &server);
    let out = terrane(
        &dir,
        &server,
        &["plan", "-no-color", "-input=false", "-notify=github"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = server.requests();
    assert_eq!(
        calls(&reqs),
        [
            "GET /api/v3/repos/acme/infra/issues/7/comments?per_page=100&page=1",
            "PATCH /api/v3/repos/acme/infra/issues/comments/42",
            "GET /api/v3/repos/acme/infra/issues/7/labels?per_page=100",
        ]
    );
    for r in &reqs {
        assert_github_headers(r);
    }
    let patched: serde_json::Value = serde_json::from_str(&reqs[1].body).expect("json");
    // The same body a new comment gets.
    expect_file(
        "plan_comment.md",
        &mask_ids(&dir, patched["body"].as_str().unwrap_or_default()),
    );
    let gh = server.github.lock().unwrap();
    assert_eq!(gh.comments.len(), 3);
    assert!(gh.comments[1].1.starts_with(marker));
    assert_no_secret(&reqs);
    drop(gh);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_plan_too_large_for_one_comment_is_trimmed_with_a_note() {
    let server = Server::start(Vec::new(), &[]);
    let dir = scratch("large");
    let long = "x".repeat(200);
    std::fs::write(
        dir.join("main.tf"),
        format!("resource \"null_resource\" \"n\" {{\n  count = 400\n  triggers = {{ long = \"{long}\" }}\n}}\n"),
    )
    .expect("write");
    let out = terrane(
        &dir,
        &server,
        &[
            "plan",
            "-no-color",
            "-input=false",
            "-notify=github",
            "-notify=slack",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan_text = String::from_utf8_lossy(&out.stdout);
    assert!(
        plan_text.chars().count() > 100_000,
        "the plan must exceed the limit"
    );
    let reqs = server.requests();
    let post = reqs
        .iter()
        .find(|r| r.method == "POST" && r.path.ends_with("/issues/7/comments"))
        .expect("comment posted");
    let body: serde_json::Value = serde_json::from_str(&post.body).expect("json");
    let body = body["body"].as_str().expect("body");
    let len = body.chars().count();
    assert!(len <= 65536 && len > 60_000, "comment length {len}");
    assert!(body.contains("**Plan: 400 to add, 0 to change, 0 to destroy.**"));
    assert!(body.contains("  # null_resource.n[0] will be created"));
    assert!(!body.contains("null_resource.n[399] will be created"));
    let note = body
        .lines()
        .find(|l| l.starts_with("… "))
        .expect("a note of what was cut");
    assert!(
        note.ends_with("of this text were cut to fit GitHub's comment limit of 65536 characters; the full text is in the command's output (CI log)."),
        "{note}"
    );
    // The collapsed block is still closed.
    assert!(
        body.trim_end().ends_with("</details>"),
        "{}",
        &body[body.len() - 200..]
    );

    let slack = reqs.iter().find(|r| r.path == "/slack").expect("slack");
    let slack: serde_json::Value = serde_json::from_str(&slack.body).expect("json");
    let blocks = slack["blocks"].as_array().expect("blocks");
    assert!(blocks.len() <= 50);
    let mut total = 0;
    for b in blocks {
        if let Some(t) = b["text"]["text"].as_str() {
            assert!(t.chars().count() <= 3000, "a section over 3000 characters");
            total += t.chars().count();
        }
    }
    assert!(total <= 12_000, "{total}");
    let last = blocks.last().expect("blocks");
    assert_eq!(last["type"], "context");
    assert!(last["elements"][0]["text"]
        .as_str()
        .unwrap_or_default()
        .contains("were cut to fit Slack's message limits"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_plan_reports_its_errors_and_sets_no_label() {
    let server = Server::start(Vec::new(), &["no-changes"]);
    let dir = scratch("fail");
    std::fs::write(
        dir.join("main.tf"),
        "variable \"password\" {\n  type      = string\n  sensitive = true\n}\nresource \"null_resource\" \"x\" {\n  triggers = { a = file(\"missing.txt\") }\n}\n",
    )
    .expect("write");
    let out = terrane(
        &dir,
        &server,
        &[
            "plan",
            "-no-color",
            "-input=false",
            "-notify=github",
            "-notify=slack",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let reqs = server.requests();
    assert_eq!(
        calls(&reqs),
        [
            "GET /api/v3/repos/acme/infra/issues/7/comments?per_page=100&page=1",
            "POST /api/v3/repos/acme/infra/issues/7/comments",
            "POST /slack",
        ]
    );
    let body: serde_json::Value = serde_json::from_str(&reqs[1].body).expect("json");
    expect_file(
        "failed_comment.md",
        body["body"].as_str().unwrap_or_default(),
    );
    let slack: serde_json::Value = serde_json::from_str(&reqs[2].body).expect("json");
    assert_eq!(slack["text"], "terrane plan: Plan failed with 1 error.");
    assert_eq!(server.github.lock().unwrap().labels, ["no-changes"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_unreachable_target_is_a_warning_and_keeps_the_exit_code() {
    let server = Server::start(Vec::new(), &[]);
    let dir = scratch("unreachable");
    std::fs::write(dir.join("main.tf"), "resource \"null_resource\" \"x\" {}\n").expect("write");
    // A port nothing listens on.
    let closed = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let out = terrane(
        &dir,
        &server,
        &[
            "plan",
            "-no-color",
            "-input=false",
            "-detailed-exitcode",
            &format!("-notify=webhook=http://127.0.0.1:{closed}/hook"),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Warning: Notification to webhook failed"),
        "{stderr}"
    );
    let words = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains(
            "The notification is not sent; the command's result and exit code are unaffected."
        ),
        "{words}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn targets_come_from_terrane_hcl_with_a_user_template() {
    let server = Server::start(Vec::new(), &[]);
    let root = scratch("project");
    let stack = root.join("stacks/app");
    std::fs::create_dir_all(&stack).expect("mkdir");
    std::fs::write(
        stack.join("main.tf"),
        "resource \"null_resource\" \"x\" {}\n",
    )
    .expect("write");
    std::fs::write(
        root.join("notify.tftpl"),
        "${title}: ${summary} (${counts.create} new)%{ for a in destroyed } ${a}%{ endfor }",
    )
    .expect("template");
    std::fs::write(
        root.join("terrane.hcl"),
        format!(
            "notify {{\n  template = \"notify.tftpl\"\n  webhook {{\n    url = \"{}\"\n    headers = {{ X-Hook-Key = \"k1\" }}\n  }}\n}}\n",
            server.url("/webhook")
        ),
    )
    .expect("project file");
    let out = terrane(&stack, &server, &["plan", "-no-color", "-input=false"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = server.requests();
    assert_eq!(calls(&reqs), ["POST /webhook"]);
    assert_eq!(
        reqs[0].headers.get("x-hook-key").map(String::as_str),
        Some("k1")
    );
    let hook: serde_json::Value = serde_json::from_str(&reqs[0].body).expect("json");
    assert_eq!(
        hook["summary"]["message"],
        "terrane plan in stacks/app: Plan: 1 to add, 0 to change, 0 to destroy. (1 new)"
    );
    assert_eq!(hook["summary"]["stack"], "stacks/app");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn an_apply_posts_its_own_comment_with_the_result() {
    let plan_marker = "<!-- terrane-notify stack=. workspace=default command=plan -->";
    let server = Server::start(vec![(42, format!("{plan_marker}\nthe plan"))], &["destroy"]);
    let dir = applied_v1_then_v2("apply", &server);
    let out = terrane(
        &dir,
        &server,
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-notify=github",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = server.requests();
    // A new comment (the plan's stays), no labels for an apply.
    assert_eq!(
        calls(&reqs),
        [
            "GET /api/v3/repos/acme/infra/issues/7/comments?per_page=100&page=1",
            "POST /api/v3/repos/acme/infra/issues/7/comments",
        ]
    );
    let body: serde_json::Value = serde_json::from_str(&reqs[1].body).expect("json");
    let body = body["body"].as_str().unwrap_or_default();
    assert!(body.starts_with(
        "<!-- terrane-notify stack=. workspace=default command=apply -->\n### terrane apply\n\n**Apply complete! Resources: 2 added, 1 changed, 1 destroyed.**\n"
    ), "{body}");
    assert!(
        body.contains("> **1 resource(s) were destroyed or replaced:**\n>\n> - `null_resource.server` was **replaced**\n"),
        "{body}"
    );
    assert_no_secret(&reqs);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_pull_request_number_comes_from_github_ref_and_a_missing_token_is_a_warning() {
    let server = Server::start(Vec::new(), &[]);
    let dir = scratch("ref");
    std::fs::write(dir.join("main.tf"), "resource \"null_resource\" \"x\" {}\n").expect("write");
    let run = |token: Option<&str>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_terrane"));
        cmd.args(["plan", "-no-color", "-input=false", "-notify=github"])
            .current_dir(&dir)
            .env("GITHUB_REPOSITORY", "acme/infra")
            .env("GITHUB_REF", "refs/pull/7/merge")
            .env("GITHUB_API_URL", server.url("/api/v3/"))
            .env_remove("GITHUB_EVENT_PATH")
            .env_remove("GITHUB_TOKEN");
        if let Some(t) = token {
            cmd.env("GITHUB_TOKEN", t);
        }
        cmd.output().expect("run terrane")
    };
    let out = run(None);
    assert_eq!(out.status.code(), Some(0));
    let words = String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        words.contains("Warning: Notification to github failed no token: set GITHUB_TOKEN"),
        "{words}"
    );
    assert!(server.requests().is_empty());
    let out = run(Some(TOKEN));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        calls(&server.requests()),
        [
            "GET /api/v3/repos/acme/infra/issues/7/comments?per_page=100&page=1",
            "POST /api/v3/repos/acme/infra/issues/7/comments",
            "GET /api/v3/repos/acme/infra/issues/7/labels?per_page=100",
            "POST /api/v3/repos/acme/infra/issues/7/labels",
        ]
    );
    assert_eq!(server.requests()[3].body, r#"{"labels":["add-or-update"]}"#);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn applying_a_saved_plan_notifies_and_applies_that_plan() {
    let server = Server::start(Vec::new(), &[]);
    let dir = applied_v1_then_v2("saved", &server);
    let out = terrane(
        &dir,
        &server,
        &["plan", "-no-color", "-input=false", "-out=tf.plan"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let hook = server.url("/webhook");
    let out = terrane(
        &dir,
        &server,
        &[
            "apply",
            "-no-color",
            "-input=false",
            &format!("-notify=webhook={hook}"),
            "tf.plan",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("Apply complete! Resources: 2 added, 1 changed, 1 destroyed."));
    let reqs = server.requests();
    assert_eq!(calls(&reqs), ["POST /webhook"]);
    let hook: serde_json::Value = serde_json::from_str(&reqs[0].body).expect("json");
    assert_eq!(hook["summary"]["command"], "apply");
    assert_eq!(
        hook["summary"]["summary"],
        "Apply complete! Resources: 2 added, 1 changed, 1 destroyed."
    );
    assert_eq!(hook["resource_changes"].as_array().map(Vec::len), Some(4));
    assert_no_secret(&reqs);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `plan -notify=github` in `dir` and returns the comment body it
/// posted (the requests must be: list comments, create one).
fn failed_plan_comment(dir: &Path, server: &Server, extra: &[&str]) -> (Output, String) {
    let mut args = vec!["plan", "-no-color", "-input=false", "-notify=github"];
    args.extend_from_slice(extra);
    let out = terrane(dir, server, &args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = server.requests();
    assert_eq!(
        calls(&reqs),
        [
            "GET /api/v3/repos/acme/infra/issues/7/comments?per_page=100&page=1",
            "POST /api/v3/repos/acme/infra/issues/7/comments",
        ]
    );
    assert_no_secret(&reqs);
    let body: serde_json::Value = serde_json::from_str(&reqs[1].body).expect("json");
    (out, body["body"].as_str().unwrap_or_default().to_string())
}

#[test]
fn a_configuration_error_is_in_the_comment() {
    let server = Server::start(Vec::new(), &[]);
    let dir = scratch("config-error");
    std::fs::write(
        dir.join("main.tf"),
        "resource \"null_resource\" \"x\" {\n  triggers = \n}\n",
    )
    .expect("write");
    let (_, body) = failed_plan_comment(&dir, &server, &[]);
    expect_file("config_failed_comment.md", &body);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_provider_that_is_not_installed_is_in_the_comment() {
    let server = Server::start(Vec::new(), &[]);
    let dir = scratch("provider-error");
    std::fs::write(dir.join("main.tf"), "terraform {\n  required_providers {\n    nope = { source = \"example.com/acme/nope\" }\n  }\n}\nresource \"nope_thing\" \"x\" {}\n").expect("write");
    let (out, body) = failed_plan_comment(&dir, &server, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // What the user saw is what the comment says.
    let first = stderr
        .lines()
        .find(|l| l.starts_with("Error: "))
        .unwrap_or("no error line");
    assert!(body.contains(first), "{first:?} not in {body}");
    expect_file("provider_failed_comment.md", &body);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_state_lock_error_is_in_the_comment() {
    let server = Server::start(Vec::new(), &[]);
    let dir = scratch("lock-error");
    std::fs::write(dir.join("main.tf"), "resource \"null_resource\" \"x\" {}\n").expect("write");
    let out = terrane(
        &dir,
        &server,
        &[
            "apply",
            "-auto-approve",
            "-no-color",
            "-input=false",
            "-notify=none",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // This process holds a POSIX write lock on the state file, as another
    // terrane would.
    let state = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("terraform.tfstate"))
        .expect("open state");
    let lock = libc::flock {
        l_type: libc::F_WRLCK as _,
        l_whence: libc::SEEK_SET as _,
        l_start: 0,
        l_len: 0,
        l_pid: 0,
    };
    let taken = unsafe {
        libc::fcntl(
            std::os::fd::AsRawFd::as_raw_fd(&state),
            libc::F_SETLK,
            &lock,
        )
    };
    assert_eq!(taken, 0, "cannot lock the state file");
    let (_, body) = failed_plan_comment(&dir, &server, &[]);
    assert!(
        body.starts_with("<!-- terrane-notify stack=. workspace=default command=plan -->\n### terrane plan\n\n**Plan failed with 1 error.**\n\n#### Errors\n\n```\nError: Error acquiring the state lock\n"),
        "{body}"
    );
    drop(state);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn labels_follow_the_most_severe_plan_of_all_stacks() {
    // Another stack's plan destroys something; this stack only adds.
    let other = "<!-- terrane-notify stack=net workspace=default command=plan -->\n<!-- terrane-label=destroy -->\nthe other plan";
    let server = Server::start(vec![(50, other.into())], &["no-changes", "bug"]);
    let dir = scratch("labels");
    std::fs::write(dir.join("main.tf"), "resource \"null_resource\" \"x\" {}\n").expect("write");
    let out = terrane(
        &dir,
        &server,
        &["plan", "-no-color", "-input=false", "-notify=github"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reqs = server.requests();
    assert_eq!(
        calls(&reqs),
        [
            "GET /api/v3/repos/acme/infra/issues/7/comments?per_page=100&page=1",
            "POST /api/v3/repos/acme/infra/issues/7/comments",
            "GET /api/v3/repos/acme/infra/issues/7/labels?per_page=100",
            "DELETE /api/v3/repos/acme/infra/issues/7/labels/no-changes",
            "POST /api/v3/repos/acme/infra/issues/7/labels",
        ]
    );
    assert_eq!(reqs[4].body, r#"{"labels":["destroy"]}"#);
    let body: serde_json::Value = serde_json::from_str(&reqs[1].body).expect("json");
    assert!(body["body"].as_str().unwrap_or_default().starts_with(
        "<!-- terrane-notify stack=. workspace=default command=plan -->\n<!-- terrane-label=add-or-update -->\n### terrane plan\n"
    ), "{body}");
    assert_eq!(server.github.lock().unwrap().labels, ["bug", "destroy"]);

    // The other stack's plan now changes nothing: this stack's label wins.
    server.github.lock().unwrap().comments[0].1 =
        "<!-- terrane-notify stack=net workspace=default command=plan -->\n<!-- terrane-label=no-changes -->\n".into();
    server.requests.lock().unwrap().clear();
    let out = terrane(
        &dir,
        &server,
        &["plan", "-no-color", "-input=false", "-notify=github"],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        calls(&server.requests()),
        [
            "GET /api/v3/repos/acme/infra/issues/7/comments?per_page=100&page=1",
            "PATCH /api/v3/repos/acme/infra/issues/comments/1001",
            "GET /api/v3/repos/acme/infra/issues/7/labels?per_page=100",
            "DELETE /api/v3/repos/acme/infra/issues/7/labels/destroy",
            "POST /api/v3/repos/acme/infra/issues/7/labels",
        ]
    );
    assert_eq!(
        server.github.lock().unwrap().labels,
        ["bug", "add-or-update"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_webhook_failing_twice_is_retried_and_then_succeeds() {
    let server = Server::start(Vec::new(), &[]);
    server.github.lock().unwrap().webhook_failures = vec![503, 429];
    let dir = scratch("retry");
    std::fs::write(dir.join("main.tf"), "resource \"null_resource\" \"x\" {}\n").expect("write");
    let hook = format!("-notify=webhook={}", server.url("/webhook"));
    let out = terrane(&dir, &server, &["plan", "-no-color", "-input=false", &hook]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("Notification to webhook failed"),
        "{stderr}"
    );
    let reqs = server.requests();
    assert_eq!(
        calls(&reqs),
        ["POST /webhook", "POST /webhook", "POST /webhook"]
    );
    // Every attempt sends the same body.
    assert_eq!(reqs[0].body, reqs[2].body);
    assert_eq!(reqs[1].body, reqs[2].body);

    // Always refused: the first attempt and three retries, then a warning.
    server.github.lock().unwrap().webhook_failures = vec![429; 10];
    server.requests.lock().unwrap().clear();
    let out = terrane(&dir, &server, &["plan", "-no-color", "-input=false", &hook]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.requests().len(), 4);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let words = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("Warning: Notification to webhook failed"),
        "{words}"
    );
    assert!(
        words.contains("answered 429: {\"message\":\"try again\"}"),
        "{words}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_saved_plan_that_cannot_be_read_is_in_the_webhook_summary() {
    let server = Server::start(Vec::new(), &[]);
    let dir = scratch("bad-plan-file");
    std::fs::write(dir.join("main.tf"), "resource \"null_resource\" \"x\" {}\n").expect("write");
    std::fs::write(dir.join("bad.tfplan"), "not a plan").expect("write");
    let hook = format!("-notify=webhook={}", server.url("/webhook"));
    let out = terrane(
        &dir,
        &server,
        &["apply", "-no-color", "-input=false", &hook, "bad.tfplan"],
    );
    assert_eq!(out.status.code(), Some(1));
    let reqs = server.requests();
    assert_eq!(calls(&reqs), ["POST /webhook"]);
    let hook: serde_json::Value = serde_json::from_str(&reqs[0].body).expect("json");
    assert_eq!(hook["summary"]["summary"], "Apply failed with 1 error.");
    assert_eq!(hook["summary"]["success"], false);
    assert_eq!(
        hook["summary"]["errors"],
        serde_json::json!(["Error: Failed to load \"bad.tfplan\" as a plan file\n\nError: zip: not a valid zip file"])
    );
    let _ = std::fs::remove_dir_all(&dir);
}
