//! The GitHub pull-request comment (REST API v3): the comment terrane
//! made before for the same stack, workspace and command (found by a
//! hidden HTML-comment marker) is updated, else one is created; plans
//! also set one of the labels `no-changes`, `add-or-update`, `destroy`
//! and remove the others. Each plan comment records its stack's label in
//! a second hidden line, and the pull request gets the most severe label
//! of all terrane plan comments, so stacks sharing a pull request do not
//! undo each other's labels.

use serde_json::{json, Value as Json};
use terrane_hcl::Diagnostic;

use super::message::{self, Context, Outcome};
use super::project::NotifyConfig;
use super::{http, status_error, Target};

/// GitHub's limit on a comment body, in characters.
pub const COMMENT_LIMIT: usize = 65536;

/// The labels terrane sets on a plan.
pub const LABELS: [&str; 3] = ["no-changes", "add-or-update", "destroy"];

/// Where to comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub api_url: String,
    /// `owner/name`.
    pub repository: String,
    pub number: u64,
    pub token: String,
    pub labels: bool,
}

/// The pull request from the flag's value (`[OWNER/REPO][#N]`), the
/// `github` block of `terrane.hcl`, then GitHub Actions' environment.
pub fn resolve(target: &Target) -> Result<PullRequest, String> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (flag_repo, flag_number) = match target.value.as_deref() {
        Some(v) => match v.split_once('#') {
            Some((r, n)) => (
                Some(r.to_string()).filter(|r| !r.is_empty()),
                Some(n.parse::<u64>().map_err(|_| {
                    format!("-notify=github={v}: the pull request number {n:?} is not a number")
                })?),
            ),
            None => (Some(v.to_string()).filter(|r| !r.is_empty()), None),
        },
        None => (None, None),
    };
    let s = &target.settings;
    let repository = flag_repo
        .or_else(|| s.string("repository"))
        .or_else(|| env("GITHUB_REPOSITORY"))
        .ok_or("no repository: set GITHUB_REPOSITORY (GitHub Actions does), `repository` in the github block of terrane.hcl, or give -notify=github=OWNER/REPO#NUMBER")?;
    if repository.split('/').count() != 2 || repository.split('/').any(str::is_empty) {
        return Err(format!(
            "the repository {repository:?} is not of the form OWNER/NAME"
        ));
    }
    let number = match flag_number {
        Some(n) => n,
        None => match s.string("pull_request") {
            Some(n) => n
                .parse::<u64>()
                .map_err(|_| format!("pull_request = {n:?} in terrane.hcl is not a number"))?,
            None => from_actions_env().ok_or(
                "not a pull request: no number in GITHUB_EVENT_PATH's pull_request.number or in GITHUB_REF (refs/pull/N/merge); set `pull_request` in terrane.hcl or give -notify=github=OWNER/REPO#NUMBER",
            )?,
        },
    };
    let token_env = s
        .string("token_env")
        .unwrap_or_else(|| "GITHUB_TOKEN".into());
    let token = env(&token_env).ok_or(format!(
        "no token: set {token_env} to a token that may write pull-request comments"
    ))?;
    let api_url = s
        .string("api_url")
        .or_else(|| env("GITHUB_API_URL"))
        .unwrap_or_else(|| "https://api.github.com".into())
        .trim_end_matches('/')
        .to_string();
    Ok(PullRequest {
        api_url,
        repository,
        number,
        token,
        labels: s.bool("labels").unwrap_or(true),
    })
}

/// The pull request number GitHub Actions gives: the event file's
/// `pull_request.number` (or `number`, `issue.number`), else
/// `GITHUB_REF=refs/pull/N/merge`.
pub fn from_actions_env() -> Option<u64> {
    if let Some(path) = std::env::var_os("GITHUB_EVENT_PATH") {
        if let Ok(text) = std::fs::read_to_string(path) {
            if let Ok(event) = serde_json::from_str::<Json>(&text) {
                for n in [
                    &event["pull_request"]["number"],
                    &event["number"],
                    &event["issue"]["number"],
                ] {
                    if let Some(n) = n.as_u64() {
                        return Some(n);
                    }
                }
            }
        }
    }
    let r = std::env::var("GITHUB_REF").ok()?;
    r.strip_prefix("refs/pull/")?
        .split('/')
        .next()?
        .parse()
        .ok()
}

/// The hidden line of a plan comment recording its stack's label.
pub fn label_line(label: &str) -> String {
    format!("<!-- terrane-label={label} -->")
}

/// The label a comment body records, if any.
fn recorded_label(body: &str) -> Option<&'static str> {
    LABELS.into_iter().find(|l| body.contains(&label_line(l)))
}

/// The most severe of `labels`: `destroy`, then `add-or-update`, then
/// `no-changes` (the order of [`LABELS`]).
pub fn most_severe<'a>(labels: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    labels
        .into_iter()
        .max_by_key(|l| LABELS.iter().position(|x| x == l))
}

/// The hidden marker that finds terrane's earlier comment.
pub fn marker(o: &Outcome, ctx: &Context) -> String {
    // `--` would end the HTML comment early.
    let clean = |s: &str| s.replace("--", "-");
    format!(
        "<!-- terrane-notify stack={} workspace={} command={} -->",
        clean(&ctx.stack),
        clean(&ctx.workspace),
        clean(&o.command)
    )
}

/// The comment body: the marker, then the template trimmed to GitHub's
/// limit, secrets scrubbed.
pub fn body(
    target: &Target,
    config: &NotifyConfig,
    o: &Outcome,
    ctx: &Context,
    warnings: &mut Vec<Diagnostic>,
) -> String {
    let (name, template) = super::template_for(target, config, message::GITHUB_TEMPLATE, warnings);
    let mut mark = marker(o, ctx);
    if let Some(l) = label(o) {
        mark = format!("{mark}\n{}", label_line(l));
    }
    let scrubbed_text = message::scrub(&o.text, &o.secrets);
    let mut template_warnings = Vec::new();
    let render = |text: &str, note: &str| {
        let vars = message::template_vars(o, ctx, "github", text, note, &|s| s.to_string());
        let mut w = Vec::new();
        let rendered =
            super::render_or_builtin(&name, &template, message::GITHUB_TEMPLATE, vars, &mut w);
        format!("{mark}\n{}", message::scrub(&rendered, &o.secrets))
    };
    let (text, _) = message::fit(
        &scrubbed_text,
        COMMENT_LIMIT,
        "GitHub's comment limit of 65536 characters",
        &render,
    );
    // Template problems once, not per render.
    let vars = message::template_vars(o, ctx, "github", "", "", &|s| s.to_string());
    super::render_or_builtin(
        &name,
        &template,
        message::GITHUB_TEMPLATE,
        vars,
        &mut template_warnings,
    );
    warnings.extend(template_warnings);
    text
}

/// The label for a plan's outcome (none for other commands and failures).
pub fn label(o: &Outcome) -> Option<&'static str> {
    if o.command != "plan" || !o.success {
        return None;
    }
    Some(if o.counts.destroy > 0 {
        "destroy"
    } else if o.has_changes {
        "add-or-update"
    } else {
        "no-changes"
    })
}

pub fn notify(
    agent: &ureq::Agent,
    target: &Target,
    config: &NotifyConfig,
    o: &Outcome,
    ctx: &Context,
) -> Result<Vec<Diagnostic>, String> {
    let pr = resolve(target)?;
    let mut warnings = Vec::new();
    let text = body(target, config, o, ctx, &mut warnings);
    let headers = vec![
        (
            "Accept".to_string(),
            "application/vnd.github+json".to_string(),
        ),
        ("Authorization".to_string(), format!("Bearer {}", pr.token)),
        ("X-GitHub-Api-Version".to_string(), "2022-11-28".to_string()),
    ];
    let issue = format!(
        "{}/repos/{}/issues/{}",
        pr.api_url, pr.repository, pr.number
    );
    let mark = marker(o, ctx);
    let found = find_comment(agent, &issue, &headers, &mark)?;
    let existing = found.id;
    let payload = json!({ "body": text });
    let (method, url) = match existing {
        Some(id) => (
            "PATCH",
            format!(
                "{}/repos/{}/issues/comments/{id}",
                pr.api_url, pr.repository
            ),
        ),
        None => ("POST", format!("{issue}/comments")),
    };
    let reply = http(agent, method, &url, &headers, Some(&payload))?;
    if !(200..300).contains(&reply.status) {
        return Err(status_error(method, &url, &reply));
    }
    if let (Some(own), true) = (label(o), pr.labels) {
        let wanted = most_severe(found.other_labels.iter().copied().chain([own])).unwrap_or(own);
        set_label(agent, &issue, &headers, wanted)?;
    }
    Ok(warnings)
}

/// What the pull request's comments hold.
struct Found {
    /// The last comment holding the marker.
    id: Option<u64>,
    /// The labels recorded by the plan comments of other stacks (and
    /// workspaces).
    other_labels: Vec<&'static str>,
}

/// The id of the last comment holding `mark`, and the labels recorded
/// by the other plan comments, through every page.
fn find_comment(
    agent: &ureq::Agent,
    issue: &str,
    headers: &[(String, String)],
    mark: &str,
) -> Result<Found, String> {
    const PER_PAGE: usize = 100;
    // A pull request with more than 10,000 comments is not looked through.
    const MAX_PAGES: usize = 100;
    let mut found = None;
    let mut other_labels = Vec::new();
    for page in 1..=MAX_PAGES {
        let url = format!("{issue}/comments?per_page={PER_PAGE}&page={page}");
        let reply = http(agent, "GET", &url, headers, None)?;
        if reply.status != 200 {
            return Err(status_error("GET", &url, &reply));
        }
        let list: Json = serde_json::from_slice(&reply.body)
            .map_err(|e| format!("GET {url}: the answer is not JSON: {e}"))?;
        let items = list.as_array().cloned().unwrap_or_default();
        for c in &items {
            let Some(body) = c["body"].as_str() else {
                continue;
            };
            if body.contains(mark) {
                found = c["id"].as_u64().or(found);
            } else if body.contains("<!-- terrane-notify ") && body.contains(" command=plan -->") {
                other_labels.extend(recorded_label(body));
            }
        }
        if items.len() < PER_PAGE {
            break;
        }
    }
    Ok(Found {
        id: found,
        other_labels,
    })
}

/// Adds `wanted` and removes the other labels terrane sets.
fn set_label(
    agent: &ureq::Agent,
    issue: &str,
    headers: &[(String, String)],
    wanted: &str,
) -> Result<(), String> {
    let url = format!("{issue}/labels?per_page=100");
    let reply = http(agent, "GET", &url, headers, None)?;
    if reply.status != 200 {
        return Err(status_error("GET", &url, &reply));
    }
    let list: Json = serde_json::from_slice(&reply.body)
        .map_err(|e| format!("GET {url}: the answer is not JSON: {e}"))?;
    let present: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["name"].as_str().map(str::to_string))
        .collect();
    for stale in LABELS
        .iter()
        .filter(|l| **l != wanted && present.iter().any(|p| p == *l))
    {
        let url = format!("{issue}/labels/{stale}");
        let reply = http(agent, "DELETE", &url, headers, None)?;
        if !(200..300).contains(&reply.status) && reply.status != 404 {
            return Err(status_error("DELETE", &url, &reply));
        }
    }
    if !present.iter().any(|p| p == wanted) {
        let url = format!("{issue}/labels");
        let reply = http(
            agent,
            "POST",
            &url,
            headers,
            Some(&json!({ "labels": [wanted] })),
        )?;
        if !(200..300).contains(&reply.status) {
            return Err(status_error("POST", &url, &reply));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_severe_label_wins_and_bodies_record_theirs() {
        assert_eq!(
            most_severe(["no-changes", "destroy", "add-or-update"]),
            Some("destroy")
        );
        assert_eq!(
            most_severe(["no-changes", "add-or-update"]),
            Some("add-or-update")
        );
        assert_eq!(most_severe([]), None);
        let body = format!(
            "<!-- terrane-notify stack=a workspace=default command=plan -->\n{}\n",
            label_line("no-changes")
        );
        assert_eq!(recorded_label(&body), Some("no-changes"));
        assert_eq!(recorded_label("no label here"), None);
    }
}
