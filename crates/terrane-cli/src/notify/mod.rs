//! Notifications of plans, applies and drift reports (what tfnotify and
//! tfcmt do around Terraform): a GitHub pull-request comment with labels,
//! a Slack incoming webhook, a generic JSON webhook.
//!
//! Targets come from `-notify=TARGET` flags (repeatable) or, without
//! them, from the `notify` section of `terrane.hcl` (docs/terrane-hcl.md).
//! A command records what happened in a [`Recorder`] and sends it once
//! at the end; a failed notification is a warning on standard error and
//! never changes the command's exit code.

pub mod github;
pub mod message;
pub mod project;
pub mod redact;
pub mod slack;

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value as Json};
use terrane_core::plan::{Action, Plan};
use terrane_hcl::{Diagnostic, Diagnostics};

pub use message::{Context, Counts, Outcome};
use project::{NotifyConfig, ProjectRoot, TargetSettings};

/// A diagnostic as the notification shows it: plain text, no colour.
fn plain_error(d: &Diagnostic) -> String {
    terrane_hcl::render::plain(d, 78).trim().to_string()
}

/// The kinds of target.
pub const KINDS: &[&str] = &["github", "slack", "webhook"];

/// One target to notify.
#[derive(Clone, Debug)]
pub struct Target {
    /// `github`, `slack` or `webhook`.
    pub kind: String,
    /// What followed `=` in `-notify=KIND=VALUE`.
    pub value: Option<String>,
    /// The target's block in `terrane.hcl`, if any.
    pub settings: TargetSettings,
}

/// The targets of a command and what it did.
pub struct Recorder {
    targets: Vec<Target>,
    config: NotifyConfig,
    root: Option<ProjectRoot>,
    warnings: Diagnostics,
    command: String,
    outcome: Mutex<Option<Outcome>>,
}

impl Recorder {
    /// No targets: every method does nothing.
    pub fn none() -> Recorder {
        Recorder {
            targets: Vec::new(),
            config: NotifyConfig::default(),
            root: None,
            warnings: Diagnostics::new(),
            command: String::new(),
            outcome: Mutex::new(None),
        }
    }

    /// The targets of `-notify` flags (`flags`, as given), else of the
    /// project file's `notify` section. A malformed flag is an error
    /// (the command's usage error).
    pub fn new(flags: &[String], command: &str) -> Result<Recorder, String> {
        let mut wanted = Vec::new();
        let mut off = false;
        for f in flags {
            let (kind, value) = match f.split_once('=') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (f.as_str(), None),
            };
            if kind == "none" {
                off = true;
                continue;
            }
            if !KINDS.contains(&kind) {
                return Err(format!(
                    "invalid value {f:?} for flag -notify: the targets are github, slack, webhook (optionally =VALUE) and none"
                ));
            }
            wanted.push((kind.to_string(), value));
        }
        if off {
            return Ok(Recorder::none());
        }
        let root = project::find_root(Path::new("."));
        let (config, warnings) = project::load(&root);
        let targets: Vec<Target> = if wanted.is_empty() {
            config
                .targets
                .iter()
                .map(|(kind, settings)| Target {
                    kind: kind.clone(),
                    value: None,
                    settings: settings.clone(),
                })
                .collect()
        } else {
            wanted
                .into_iter()
                .map(|(kind, value)| Target {
                    settings: config.target(&kind).cloned().unwrap_or_default(),
                    kind,
                    value,
                })
                .collect()
        };
        Ok(Recorder {
            targets,
            config,
            root: Some(root),
            warnings,
            command: command.to_string(),
            outcome: Mutex::new(None),
        })
    }

    /// Whether anything will be sent.
    pub fn active(&self) -> bool {
        !self.targets.is_empty()
    }

    fn wants_json(&self) -> bool {
        self.targets.iter().any(|t| t.kind == "webhook")
    }

    /// Records `o` (replacing what was recorded).
    pub fn record(&self, o: Outcome) {
        if self.active() {
            *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(o);
        }
    }

    /// Records a plan: its text, counts, the destroyed and replaced
    /// addresses and (for a webhook) its masked JSON representation.
    pub fn planned(
        &self,
        plan: &Plan,
        moves: &[terrane_core::moved::MovedObject],
        tree: &terrane_config::ModuleTree,
        prior: Option<&terrane_state::StateFile>,
        root_vars: &std::collections::BTreeMap<String, terrane_value::Value>,
    ) {
        if !self.active() {
            return;
        }
        let text = terrane_core::moved::render_with_moves(
            plan,
            moves,
            crate::planfmt::plan_text(plan, false),
            &terrane_core::render::RenderOptions { color: false },
        );
        let sensitive_vars: Vec<String> = tree
            .module
            .variables
            .iter()
            .filter(|(_, v)| v.sensitive)
            .map(|(k, _)| k.clone())
            .collect();
        let sensitive_values: Vec<terrane_value::Value> = sensitive_vars
            .iter()
            .filter_map(|k| root_vars.get(k).cloned())
            .collect();
        let json = self.wants_json().then(|| {
            let mut j = terrane_core::render::json_plan::plan_json(plan, root_vars, prior, tree);
            redact::mask_plan_json(&mut j, &schemas_of(plan), &sensitive_vars);
            j
        });
        let mut o = plan_outcome(&self.command, plan, text);
        o.json = json;
        o.secrets = redact::secrets(plan, &sensitive_values);
        self.record(o);
    }

    /// Marks the recorded outcome successful with `summary` (an apply's
    /// `Apply complete! ...` line, colour-free).
    pub fn succeeded(&self, summary: &str) {
        if !self.active() {
            return;
        }
        let mut guard = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        let o = guard.get_or_insert_with(|| Outcome {
            command: self.command.clone(),
            ..Default::default()
        });
        o.success = true;
        o.summary = summary.trim().to_string();
    }

    /// Records a failure with the errors among `diags` (keeping a plan
    /// recorded before, so an apply's message still shows it).
    pub fn failed(&self, diags: &Diagnostics) {
        if !self.active() {
            return;
        }
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.is_error())
            .map(plain_error)
            .collect();
        let mut guard = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
        let o = guard.get_or_insert_with(|| Outcome {
            command: self.command.clone(),
            ..Default::default()
        });
        o.success = false;
        o.summary = failure_summary(&self.command, errors.len());
        o.errors = errors;
    }

    /// Sends what was recorded to every target; `code` is the command's
    /// exit code (a failure nothing recorded is reported as such).
    /// Problems are warnings on standard error.
    pub fn send(&self, code: i32, ui: &crate::ui::Ui) {
        if !self.active() {
            return;
        }
        let mut warnings: Vec<Diagnostic> = self.warnings.iter().cloned().collect();
        let outcome = {
            let mut guard = self.outcome.lock().unwrap_or_else(|p| p.into_inner());
            let mut o = guard.take().unwrap_or_else(|| Outcome {
                command: self.command.clone(),
                success: code != 1,
                ..Default::default()
            });
            // A failure path that printed its errors without recording
            // them: the errors the user saw.
            if code == 1 && o.errors.is_empty() {
                let shown = ui.shown_errors();
                let mut errors: Vec<String> = Vec::new();
                for text in shown.iter().map(plain_error) {
                    if !errors.contains(&text) {
                        errors.push(text);
                    }
                }
                if !errors.is_empty() {
                    o.errors = errors;
                    o.success = false;
                    o.summary = failure_summary(&o.command, o.errors.len());
                }
            }
            // Sensitive values never leave in error texts either.
            o.errors = o
                .errors
                .iter()
                .map(|e| message::scrub(e, &o.secrets))
                .collect();
            // A failure on a path that recorded no errors still reads as one.
            if code == 1 && (o.success || o.summary.is_empty()) {
                o.success = false;
                o.summary = failure_summary(&o.command, o.errors.len());
            }
            o
        };
        let ctx = context(self.root.as_ref());
        let agent = agent();
        for target in &self.targets {
            let result = match target.kind.as_str() {
                "github" => github::notify(&agent, target, &self.config, &outcome, &ctx),
                "slack" => slack::notify(&agent, target, &self.config, &outcome, &ctx),
                _ => webhook(&agent, target, &self.config, &outcome, &ctx),
            };
            match result {
                Ok(warning) => warnings.extend(warning),
                Err(why) => warnings.push(Diagnostic::warning(
                    format!("Notification to {} failed", target.kind),
                    format!("{why}\n\nThe notification is not sent; the command's result and exit code are unaffected."),
                )),
            }
        }
        let mut err = std::io::stderr().lock();
        for w in &warnings {
            let _ =
                std::io::Write::write_all(&mut err, terrane_hcl::render::plain(w, 78).as_bytes());
        }
    }
}

fn failure_summary(command: &str, errors: usize) -> String {
    let mut c = command.to_string();
    if let Some(first) = c.get(..1) {
        c = first.to_uppercase() + &c[1..];
    }
    match errors {
        0 => format!("{c} failed."),
        1 => format!("{c} failed with 1 error."),
        n => format!("{c} failed with {n} errors."),
    }
}

/// Resource types' schemas, for masking schema-sensitive attributes.
fn schemas_of(
    plan: &Plan,
) -> std::collections::BTreeMap<String, std::sync::Arc<terrane_plugin::Schema>> {
    plan.resource_changes
        .iter()
        .chain(&plan.drift)
        .map(|c| (c.addr.resource.type_name.clone(), c.schema.clone()))
        .collect()
}

/// A successful plan's outcome from the plan and its colour-free text.
pub fn plan_outcome(command: &str, plan: &Plan, text: String) -> Outcome {
    let mut counts = Counts::default();
    (counts.add, counts.change, counts.destroy) = plan.counts();
    let mut destroyed = Vec::new();
    let mut replaced = Vec::new();
    for c in &plan.resource_changes {
        if c.addr.resource.mode == terrane_config::ResourceMode::Data {
            continue;
        }
        let mut addr = c.addr.to_string();
        if let Some(d) = &c.deposed {
            addr.push_str(&format!(" (deposed object {d})"));
        }
        match c.action {
            Action::Create => counts.create += 1,
            Action::Update => counts.update += 1,
            Action::Delete => {
                counts.delete += 1;
                destroyed.push(addr);
            }
            a if a.is_replace() => {
                counts.replace += 1;
                replaced.push(addr);
            }
            _ => {}
        }
    }
    counts.import = plan.imports.len();
    let summary = text
        .lines()
        .find(|l| l.starts_with("Plan: ") || l.starts_with("No changes."))
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "Plan: {} to add, {} to change, {} to destroy.",
                counts.add, counts.change, counts.destroy
            )
        });
    Outcome {
        command: command.to_string(),
        success: true,
        summary,
        counts,
        destroyed,
        replaced,
        // The renderer's leading and trailing blank lines would only pad
        // the code blocks.
        text: text.trim_matches('\n').to_string(),
        has_changes: plan.has_changes(),
        ..Default::default()
    }
}

/// Where the command ran: the stack (working directory relative to the
/// project root), the workspace, the CI run's address.
pub fn context(root: Option<&ProjectRoot>) -> Context {
    let cwd = std::env::current_dir()
        .ok()
        .map(|d| d.canonicalize().unwrap_or(d));
    let stack = match (root, &cwd) {
        (Some(r), Some(cwd)) => match cwd.strip_prefix(&r.dir) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => cwd.display().to_string(),
        },
        _ => ".".to_string(),
    };
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let run_url = match (
        env("GITHUB_SERVER_URL"),
        env("GITHUB_REPOSITORY"),
        env("GITHUB_RUN_ID"),
    ) {
        (Some(server), Some(repo), Some(run)) => format!("{server}/{repo}/actions/runs/{run}"),
        _ => String::new(),
    };
    Context {
        stack,
        workspace: crate::commands::statefile::current_workspace(),
        run_url,
    }
}

/// The template for `target`: its own `template`, else the section's,
/// else `builtin`. A template file that cannot be read is a warning and
/// the built-in one serves.
pub fn template_for(
    target: &Target,
    config: &NotifyConfig,
    builtin: &'static str,
    warnings: &mut Vec<Diagnostic>,
) -> (String, String) {
    let path = target
        .settings
        .string("template")
        .map(std::path::PathBuf::from)
        .or_else(|| config.template.clone());
    let Some(path) = path else {
        return (format!("{}.tftpl", target.kind), builtin.to_string());
    };
    match std::fs::read_to_string(&path) {
        Ok(t) => (path.display().to_string(), t),
        Err(e) => {
            warnings.push(Diagnostic::warning(
                "Cannot read the notification template",
                format!(
                    "Reading {}: {e}. The built-in template is used instead.",
                    path.display()
                ),
            ));
            (format!("{}.tftpl", target.kind), builtin.to_string())
        }
    }
}

/// Renders a template, falling back to the built-in one (with a warning)
/// when the user's template fails.
pub fn render_or_builtin(
    name: &str,
    template: &str,
    builtin: &'static str,
    vars: Vec<(String, terrane_value::Value)>,
    warnings: &mut Vec<Diagnostic>,
) -> String {
    match message::render(name, template, vars.clone()) {
        Ok(s) => s,
        Err(why) => {
            warnings.push(Diagnostic::warning(
                "Notification template failed",
                format!("{why}\n\nThe built-in template is used instead."),
            ));
            message::render("builtin.tftpl", builtin, vars).unwrap_or_default()
        }
    }
}

/// The HTTP client of every target.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

pub const USER_AGENT: &str = concat!("terrane/", env!("CARGO_PKG_VERSION"));

/// A response: status, body and the `Link` header (GitHub's pagination).
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Attempts of one request: the first and up to this many retries.
pub const RETRIES: u32 = 3;
/// The first wait before a retry; it doubles each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// All waits of one request together stay under this (a `Retry-After`
/// asking for more ends the retries).
const WAIT_BUDGET: Duration = Duration::from_secs(20);

/// One HTTP request, retried on transient failures: no connection (or a
/// connection lost), timeouts, 5xx and 429 answers. Waits double from
/// half a second, or follow the answer's `Retry-After` (seconds), within
/// [`WAIT_BUDGET`] in all. The error is a sentence for the warning.
pub fn http(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&Json>,
) -> Result<Reply, String> {
    let mut waited = Duration::ZERO;
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let (result, retry_after) = http_once(agent, method, url, headers, body);
        let transient = match &result {
            Ok(reply) => reply.status == 429 || (500..600).contains(&reply.status),
            Err(Failure::Transient(_)) => true,
            Err(Failure::Final(_)) => false,
        };
        if !transient || attempt > RETRIES {
            return match result {
                Ok(reply) => Ok(reply),
                Err(Failure::Transient(why)) if attempt > 1 => {
                    Err(format!("{why} (after {attempt} attempts)"))
                }
                Err(Failure::Transient(why) | Failure::Final(why)) => Err(why),
            };
        }
        let wait = retry_after.unwrap_or(backoff);
        if waited + wait > WAIT_BUDGET {
            return result.map_err(|(Failure::Transient(why) | Failure::Final(why))| why);
        }
        std::thread::sleep(wait);
        waited += wait;
        backoff *= 2;
    }
}

/// Why one attempt failed: worth another try or not.
enum Failure {
    Transient(String),
    Final(String),
}

/// One attempt, and the answer's `Retry-After` in seconds if it has one.
fn http_once(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: Option<&Json>,
) -> (Result<Reply, Failure>, Option<Duration>) {
    let m = match ureq::http::Method::from_bytes(method.as_bytes()) {
        Ok(m) => m,
        Err(_) => {
            return (
                Err(Failure::Final(format!("invalid HTTP method {method}"))),
                None,
            )
        }
    };
    let mut request = ureq::http::Request::builder()
        .method(m)
        .uri(url)
        .header("User-Agent", USER_AGENT);
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let bytes = match body {
        Some(b) => {
            request = request.header("Content-Type", "application/json");
            b.to_string().into_bytes()
        }
        None => Vec::new(),
    };
    let request = match request.body(bytes) {
        Ok(r) => r,
        Err(e) => {
            let why = format!("invalid request to {}: {e}", redact_url(url));
            return (Err(Failure::Final(why)), None);
        }
    };
    let mut response = match agent.run(request) {
        Ok(r) => r,
        Err(e) => {
            let why = format!("{method} {}: {e}", redact_url(url));
            let transient = matches!(
                e,
                ureq::Error::ConnectionFailed
                    | ureq::Error::Io(_)
                    | ureq::Error::Timeout(_)
                    | ureq::Error::HostNotFound
            );
            let failure = if transient {
                Failure::Transient(why)
            } else {
                Failure::Final(why)
            };
            return (Err(failure), None);
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .map_err(|e| {
            Failure::Transient(format!(
                "{method} {}: reading the response: {e}",
                redact_url(url)
            ))
        });
    (body.map(|body| Reply { status, body }), retry_after)
}

/// A webhook URL without its path (Slack's path is the secret).
pub fn redact_url(url: &str) -> String {
    match url.find("://").map(|i| i + 3) {
        Some(start) => match url[start..].find('/') {
            Some(slash) if url.contains("hooks.slack.com") => {
                format!("{}/…", &url[..start + slash])
            }
            _ => url.split('?').next().unwrap_or(url).to_string(),
        },
        None => url.to_string(),
    }
}

/// The status error of a reply: status and the start of the body.
pub fn status_error(method: &str, url: &str, reply: &Reply) -> String {
    let body = String::from_utf8_lossy(&reply.body);
    let body: String = body.chars().take(300).collect();
    format!(
        "{method} {} answered {}: {}",
        redact_url(url),
        reply.status,
        body.trim()
    )
}

/// The `summary` object of the webhook body.
pub fn summary_json(o: &Outcome, ctx: &Context) -> Json {
    let c = &o.counts;
    json!({
        "stack": ctx.stack,
        "workspace": ctx.workspace,
        "command": o.command,
        "success": o.success,
        "has_changes": o.has_changes,
        "summary": o.summary,
        "counts": {
            "add": c.add, "change": c.change, "destroy": c.destroy,
            "create": c.create, "update": c.update, "replace": c.replace,
            "delete": c.delete, "import": c.import, "drifted": c.drifted,
        },
        "destroyed": o.destroyed,
        "replaced": o.replaced,
        "errors": o.errors,
        "run_url": ctx.run_url,
    })
}

/// The generic webhook: POST of the plan's JSON representation (masked)
/// with a `summary` object (and `message`, the rendered template).
fn webhook(
    agent: &ureq::Agent,
    target: &Target,
    config: &NotifyConfig,
    o: &Outcome,
    ctx: &Context,
) -> Result<Vec<Diagnostic>, String> {
    let url = target
        .value
        .clone()
        .filter(|v| !v.is_empty())
        .or_else(|| target.settings.string("url"))
        .or_else(|| std::env::var("TERRANE_NOTIFY_WEBHOOK_URL").ok().filter(|v| !v.is_empty()))
        .ok_or("no URL: give -notify=webhook=URL, `url` in terrane.hcl's webhook block or TERRANE_NOTIFY_WEBHOOK_URL")?;
    let mut warnings = Vec::new();
    let (name, template) = template_for(target, config, message::GITHUB_TEMPLATE, &mut warnings);
    let vars = message::template_vars(o, ctx, "webhook", &o.text, "", &|s| s.to_string());
    let text = render_or_builtin(
        &name,
        &template,
        message::GITHUB_TEMPLATE,
        vars,
        &mut warnings,
    );
    let mut body = match &o.json {
        Some(Json::Object(m)) => Json::Object(m.clone()),
        _ => json!({}),
    };
    let mut summary = summary_json(o, ctx);
    summary["message"] = Json::String(text);
    body["summary"] = summary;
    redact::scrub_json(&mut body, &o.secrets);
    let headers = target.settings.string_map("headers");
    let reply = http(agent, "POST", &url, &headers, Some(&body))?;
    if !(200..300).contains(&reply.status) {
        return Err(status_error("POST", &url, &reply));
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_select_targets_and_none_turns_them_off() {
        assert!(Recorder::new(&["teams".to_string()], "plan").is_err());
        let r = Recorder::new(&["none".to_string()], "plan").unwrap();
        assert!(!r.active());
        let r = Recorder::new(
            &[
                "webhook=http://127.0.0.1:9/x".to_string(),
                "slack".to_string(),
            ],
            "plan",
        )
        .unwrap();
        let kinds: Vec<&str> = r.targets.iter().map(|t| t.kind.as_str()).collect();
        assert_eq!(kinds, ["webhook", "slack"]);
        assert_eq!(r.targets[0].value.as_deref(), Some("http://127.0.0.1:9/x"));
    }

    #[test]
    fn slack_urls_are_redacted_in_messages() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:5/x?token=1"),
            "http://127.0.0.1:5/x"
        );
    }
}
