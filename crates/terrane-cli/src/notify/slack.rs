//! Slack incoming webhooks: a `section` block from the template (mrkdwn),
//! the plan text in code-block sections, and `text` (summary) for the
//! notification itself.
//!
//! Limits (Slack's Block Kit reference): a section's text holds at most
//! 3,000 characters and a message at most 50 blocks; messages whose
//! blocks hold much more than ~12,000 characters in all are refused
//! (`msg_blocks_too_long`), so the plan gets 10,000 characters at most.

use serde_json::{json, Value as Json};
use terrane_hcl::Diagnostic;

use super::message::{self, Context, Outcome};
use super::project::NotifyConfig;
use super::{http, status_error, Target};

pub const SECTION_LIMIT: usize = 3000;
/// Characters of plan text in all code sections together.
pub const TEXT_BUDGET: usize = 10_000;
pub const MAX_BLOCKS: usize = 50;

/// Slack's mrkdwn escaping of `&`, `<` and `>`.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn section(text: String) -> Json {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

/// The message body.
pub fn payload(
    target: &Target,
    config: &NotifyConfig,
    o: &Outcome,
    ctx: &Context,
    warnings: &mut Vec<Diagnostic>,
) -> Json {
    let (name, template) = super::template_for(target, config, message::SLACK_TEMPLATE, warnings);
    let vars = message::template_vars(o, ctx, "slack", "", "", &escape);
    let head = super::render_or_builtin(&name, &template, message::SLACK_TEMPLATE, vars, warnings);
    let head = message::scrub(&head, &o.secrets);
    let (head, _) = message::fit("", SECTION_LIMIT, "Slack's section limit", &|_, _| {
        head.clone()
    });
    let mut blocks = vec![section(head.trim_end().to_string())];
    let text = escape(&message::scrub(&o.text, &o.secrets));
    let text = text.trim_end();
    if !text.is_empty() {
        let total = message::chars(text);
        let kept = message::head_lines(text, TEXT_BUDGET);
        // Chunks of whole lines that fit a section with the fences.
        let fence_room = SECTION_LIMIT - 8;
        let mut chunk = String::new();
        let mut chunks = Vec::new();
        for line in kept.split('\n') {
            let line: String = line.chars().take(fence_room).collect();
            if message::chars(&chunk) + message::chars(&line) + 1 > fence_room {
                chunks.push(std::mem::take(&mut chunk));
            }
            chunk.push_str(&line);
            chunk.push('\n');
        }
        if !chunk.is_empty() {
            chunks.push(chunk);
        }
        chunks.truncate(MAX_BLOCKS - 2);
        let shown: usize = chunks.iter().map(|c| message::chars(c)).sum();
        for c in chunks {
            blocks.push(section(format!("```\n{}```", c)));
        }
        if shown < total {
            let all_lines = text.lines().count();
            let shown_lines = kept.lines().count();
            blocks.push(json!({
                "type": "context",
                "elements": [{ "type": "mrkdwn", "text": format!(
                    "… {} of {all_lines} lines ({} characters) of this text were cut to fit Slack's message limits; the full text is in the command's output (CI log).",
                    all_lines - shown_lines, total.saturating_sub(shown)
                )}]
            }));
        }
    }
    let fallback = format!("{}: {}", ctx.title(&o.command), o.summary);
    let mut body = json!({ "text": escape(&fallback), "blocks": blocks });
    super::redact::scrub_json(&mut body, &o.secrets);
    body
}

pub fn notify(
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
        .or_else(|| target.settings.string("webhook_url"))
        .or_else(|| {
            let var = target
                .settings
                .string("webhook_url_env")
                .unwrap_or_else(|| "SLACK_WEBHOOK_URL".into());
            std::env::var(var).ok().filter(|v| !v.is_empty())
        })
        .ok_or("no webhook URL: set SLACK_WEBHOOK_URL (or the variable named by webhook_url_env in terrane.hcl's slack block), or give -notify=slack=URL")?;
    let mut warnings = Vec::new();
    let body = payload(target, config, o, ctx, &mut warnings);
    let reply = http(agent, "POST", &url, &[], Some(&body))?;
    if !(200..300).contains(&reply.status) {
        return Err(status_error("POST", &url, &reply));
    }
    Ok(warnings)
}
