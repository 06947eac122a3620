//! The message: what happened ([`Outcome`]), the variables a template
//! sees, the built-in templates (HCL template syntax, evaluated by
//! terrane-lang as `templatefile` does) and trimming to a size limit.

use std::collections::BTreeMap;
use std::sync::Arc;

use terrane_hcl::SourceFile;
use terrane_value::{Type, Value};

/// What a command did, as the notifications tell it.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// `plan`, `apply`, `destroy`, `refresh` or `drift`.
    pub command: String,
    pub success: bool,
    /// `Plan: 1 to add, ...`, `No changes. ...`, `Apply complete! ...`,
    /// `Drift: ...` or `... failed.`.
    pub summary: String,
    pub counts: Counts,
    /// Addresses that will be (or were) destroyed, and replaced.
    pub destroyed: Vec<String>,
    pub replaced: Vec<String>,
    /// The plan (or drift) text without colour; empty when there is none.
    pub text: String,
    /// Error diagnostics as plain text.
    pub errors: Vec<String>,
    /// The webhook's JSON body (sensitive values already masked).
    pub json: Option<serde_json::Value>,
    /// Texts of sensitive values: scrubbed from everything sent, as a
    /// second line of defence behind the masking.
    pub secrets: Vec<String>,
    /// Whether anything would change (or drifted).
    pub has_changes: bool,
}

/// Counts per action.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// As in the summary line (a replacement counts in add and destroy).
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// Per action.
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub import: usize,
    /// `drift`: resources changed outside terrane.
    pub drifted: usize,
}

/// Where the command ran.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The working directory relative to the project root (`.` there).
    pub stack: String,
    pub workspace: String,
    /// The CI run's page (GitHub Actions), or empty.
    pub run_url: String,
}

impl Context {
    /// The heading: `terrane plan` and where.
    pub fn title(&self, command: &str) -> String {
        let mut t = format!("terrane {command}");
        if self.stack != "." && !self.stack.is_empty() {
            t.push_str(&format!(" in {}", self.stack));
        }
        if self.workspace != "default" && !self.workspace.is_empty() {
            t.push_str(&format!(" (workspace {})", self.workspace));
        }
        t
    }
}

pub const GITHUB_TEMPLATE: &str = include_str!("github.tftpl");
pub const SLACK_TEMPLATE: &str = include_str!("slack.tftpl");

/// The variables a template sees (documented in docs/terrane-hcl.md).
pub fn template_vars(
    o: &Outcome,
    ctx: &Context,
    target: &str,
    text: &str,
    trimmed_note: &str,
    escape: &dyn Fn(&str) -> String,
) -> Vec<(String, Value)> {
    let s = |x: &str| Value::string(escape(x));
    let list =
        |xs: &[String]| Value::list(Type::String, xs.iter().map(|x| s(x)).collect::<Vec<_>>());
    let n = |x: usize| Value::from_i64(x as i64);
    let c = &o.counts;
    let counts = Value::object(BTreeMap::from([
        ("add".to_string(), n(c.add)),
        ("change".to_string(), n(c.change)),
        ("destroy".to_string(), n(c.destroy)),
        ("create".to_string(), n(c.create)),
        ("update".to_string(), n(c.update)),
        ("replace".to_string(), n(c.replace)),
        ("delete".to_string(), n(c.delete)),
        ("import".to_string(), n(c.import)),
        ("drifted".to_string(), n(c.drifted)),
    ]));
    let details = if o.command == "drift" {
        "Drift report"
    } else {
        "Full plan"
    };
    vec![
        ("target".into(), Value::string(target)),
        ("command".into(), Value::string(o.command.clone())),
        ("success".into(), Value::bool(o.success)),
        ("has_changes".into(), Value::bool(o.has_changes)),
        ("title".into(), s(&ctx.title(&o.command))),
        ("stack".into(), s(&ctx.stack)),
        ("workspace".into(), s(&ctx.workspace)),
        ("summary".into(), s(&o.summary)),
        ("counts".into(), counts),
        ("destroyed".into(), list(&o.destroyed)),
        ("replaced".into(), list(&o.replaced)),
        ("errors".into(), list(&o.errors)),
        ("text".into(), s(text)),
        ("details".into(), Value::string(details)),
        ("trimmed_note".into(), s(trimmed_note)),
        ("run_url".into(), Value::string(ctx.run_url.clone())),
    ]
}

/// Renders `template` (HCL template syntax) with `vars`; the error is a
/// one-line reason.
pub fn render(name: &str, template: &str, vars: Vec<(String, Value)>) -> Result<String, String> {
    let file: Arc<SourceFile> = SourceFile::new(name, template);
    let (expr, diags) = terrane_hcl::parse_template(&file, template, 0);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(located(d));
    }
    let Some(expr) = expr else {
        return Ok(String::new());
    };
    let scope = terrane_lang::Scope::new();
    let mut ctx = terrane_lang::EvalContext::new(&scope).with_file(&file);
    for (k, v) in vars {
        ctx = ctx.with_var(&k, v);
    }
    let (v, diags) = terrane_lang::eval_expr(&expr, &ctx);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(located(d));
    }
    let (v, _) = v.unmark();
    match terrane_value::convert(&v, &Type::String) {
        Ok(s) if s.is_known() && !s.is_null() => Ok(s.as_str().unwrap_or_default().to_string()),
        _ => Err(format!("{name}: the template's result is not a string")),
    }
}

fn located(d: &terrane_hcl::Diagnostic) -> String {
    let at = d.subject.as_ref().map(|s| {
        let p = s.file.pos(s.span.start);
        format!("{}:{},{}: ", s.file.name, p.line, p.column)
    });
    format!("{}{}; {}", at.unwrap_or_default(), d.summary, d.detail)
}

/// Counts characters as GitHub and Slack do (Unicode scalar values).
pub fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The first `n` characters of `s`, cut back to the end of a line when
/// one is near.
pub fn head_lines(s: &str, n: usize) -> &str {
    let end = s.char_indices().nth(n).map(|(i, _)| i).unwrap_or(s.len());
    let head = &s[..end];
    if end == s.len() {
        return head;
    }
    match head.rfind('\n') {
        Some(i) => &head[..i],
        None => head,
    }
}

/// A message body built by a render function of (text, note), trimmed to
/// `limit` characters: the plan text is cut first, with a note saying how
/// much went; if that is not enough the body itself is cut and ends with
/// a note. `what` names the limit in the notes.
pub fn fit(
    text: &str,
    limit: usize,
    what: &str,
    render: &dyn Fn(&str, &str) -> String,
) -> (String, bool) {
    let body = render(text, "");
    let len = chars(&body);
    if len <= limit {
        return (body, false);
    }
    // Room for the note itself and numbers growing.
    const NOTE_ROOM: usize = 400;
    let over = len - limit + NOTE_ROOM;
    let text_len = chars(text);
    if text_len > over {
        let kept = head_lines(text, text_len - over);
        let cut_chars = text_len - chars(kept);
        let total_lines = text.lines().count();
        let cut_lines = total_lines - kept.lines().count();
        let note = format!(
            "… {cut_lines} of {total_lines} lines ({cut_chars} characters) of this text were cut to fit {what}; the full text is in the command's output (CI log)."
        );
        let body = render(kept, &note);
        if chars(&body) <= limit {
            return (body, true);
        }
    }
    // The rest of the message is too long on its own.
    let body = render("", "");
    let note = format!("\n\n… the message was cut to fit {what}; the full text is in the command's output (CI log).");
    let keep = limit.saturating_sub(chars(&note));
    let end = body
        .char_indices()
        .nth(keep)
        .map(|(i, _)| i)
        .unwrap_or(body.len());
    (format!("{}{note}", &body[..end]), true)
}

/// Replaces every secret's text in `s` (secrets of 4 characters or more:
/// shorter ones would mangle ordinary text).
pub fn scrub(s: &str, secrets: &[String]) -> String {
    let mut out = s.to_string();
    for secret in secrets.iter().filter(|x| x.chars().count() >= 4) {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "(sensitive value)");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> Outcome {
        Outcome {
            command: "plan".into(),
            success: true,
            summary: "Plan: 2 to add, 1 to change, 1 to destroy.".into(),
            counts: Counts {
                add: 2,
                change: 1,
                destroy: 1,
                create: 1,
                update: 1,
                replace: 1,
                ..Default::default()
            },
            replaced: vec!["null_resource.b".into()],
            text: "line 1\nline 2\n".into(),
            has_changes: true,
            ..Default::default()
        }
    }

    #[test]
    fn the_builtin_github_template_renders_counts_warnings_and_details() {
        let ctx = Context {
            stack: "stacks/net".into(),
            workspace: "default".into(),
            run_url: String::new(),
        };
        let o = outcome();
        let body = render(
            "github.tftpl",
            GITHUB_TEMPLATE,
            template_vars(&o, &ctx, "github", &o.text, "", &|s| s.to_string()),
        )
        .unwrap();
        assert_eq!(
            body,
            "### terrane plan in stacks/net\n\n**Plan: 2 to add, 1 to change, 1 to destroy.**\n\n| create | update | replace | delete | import |\n|---:|---:|---:|---:|---:|\n| 1 | 1 | 1 | 0 | 0 |\n\n> [!CAUTION]\n> **1 resource(s) will be destroyed or replaced:**\n>\n> - `null_resource.b` will be **replaced**\n\n<details><summary>Full plan</summary>\n\n```\nline 1\nline 2\n\n```\n</details>\n"
        );
    }

    #[test]
    fn after_an_apply_the_caution_block_is_in_the_past_tense() {
        let ctx = Context {
            stack: ".".into(),
            workspace: "default".into(),
            run_url: String::new(),
        };
        let caution = |o: &Outcome| {
            let body = render(
                "github.tftpl",
                GITHUB_TEMPLATE,
                template_vars(o, &ctx, "github", "", "", &|s| s.to_string()),
            )
            .unwrap();
            let start = body.find("> [!CAUTION]").unwrap_or(0);
            body[start..].trim_end().to_string()
        };
        let mut o = outcome();
        o.command = "apply".into();
        o.destroyed = vec!["null_resource.a".into()];
        assert_eq!(
            caution(&o),
            "> [!CAUTION]\n> **2 resource(s) were destroyed or replaced:**\n>\n> - `null_resource.a` was **destroyed**\n> - `null_resource.b` was **replaced**"
        );
        o.success = false;
        assert_eq!(
            caution(&o),
            "> [!CAUTION]\n> **2 resource(s) were planned to be destroyed or replaced; the apply failed, so some may not have been:**\n>\n> - `null_resource.a` planned to be **destroyed**\n> - `null_resource.b` planned to be **replaced**"
        );
        let slack = render(
            "slack.tftpl",
            SLACK_TEMPLATE,
            template_vars(&outcome(), &ctx, "slack", "", "", &|s| s.to_string()),
        )
        .unwrap();
        assert!(
            slack.contains(
                "will be destroyed or replaced:*\n• `null_resource.b` will be *replaced*"
            ),
            "{slack}"
        );
    }

    #[test]
    fn template_errors_name_the_place() {
        let e = render("t.tftpl", "${nope}", Vec::new()).unwrap_err();
        assert!(e.starts_with("t.tftpl:1,3: "), "{e}");
    }

    #[test]
    fn fit_cuts_the_text_first_and_says_how_much() {
        let text: String = (0..100).map(|i| format!("line {i:03}\n")).collect();
        let render = |t: &str, note: &str| format!("HEAD\n{t}\n{note}\nTAIL");
        let (body, cut) = fit(&text, 600, "the limit", &render);
        assert!(cut);
        assert!(chars(&body) <= 600, "{}", chars(&body));
        assert!(body.starts_with("HEAD\nline 000\n"));
        assert!(body.ends_with("CI log).\nTAIL"), "{body}");
        assert!(body.contains("lines ("), "{body}");
        let (small, cut) = fit("short", 600, "the limit", &render);
        assert!(!cut);
        assert_eq!(small, "HEAD\nshort\n\nTAIL");
    }

    #[test]
    fn scrub_replaces_secrets_of_four_characters_or_more() {
        let secrets = vec!["s3cr3t".to_string(), "ab".to_string()];
        assert_eq!(scrub("x=s3cr3t ab", &secrets), "x=(sensitive value) ab");
    }
}
