//! The `notify` section of the project file `terrane.hcl` (see
//! docs/terrane-hcl.md): found by walking up from the working directory
//! to the git root, parsed with terrane-hcl, attribute values evaluated
//! as constant expressions with terrane-lang.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use terrane_hcl::ast::{Block, Body};
use terrane_hcl::{Diagnostic, Diagnostics, SourceFile};
use terrane_value::{Kind, Value};

/// The project file's name.
pub const PROJECT_FILE: &str = "terrane.hcl";

/// Where the project is: the directory of `terrane.hcl` (else the git
/// root, else the working directory) and the file, if there is one.
#[derive(Clone, Debug)]
pub struct ProjectRoot {
    pub dir: PathBuf,
    pub file: Option<PathBuf>,
}

/// Walks up from `start` to the first directory holding `terrane.hcl`,
/// not beyond the git root (the first directory holding `.git`).
pub fn find_root(start: &Path) -> ProjectRoot {
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    let mut git_root = None;
    for dir in start.ancestors() {
        let file = dir.join(PROJECT_FILE);
        if file.is_file() {
            return ProjectRoot {
                dir: dir.to_path_buf(),
                file: Some(file),
            };
        }
        if dir.join(".git").exists() {
            git_root = Some(dir.to_path_buf());
            break;
        }
    }
    ProjectRoot {
        dir: git_root.unwrap_or(start),
        file: None,
    }
}

/// One target's settings from `terrane.hcl` (every attribute optional).
#[derive(Clone, Debug, Default)]
pub struct TargetSettings {
    pub attributes: BTreeMap<String, Value>,
}

impl TargetSettings {
    pub fn string(&self, name: &str) -> Option<String> {
        let v = self.attributes.get(name)?;
        match v.unmark().0.kind() {
            Kind::String(s) => Some(s.to_string()),
            Kind::Number(n) => Some(n.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.attributes.get(name)?.unmark().0.as_bool()
    }

    /// A map or object of strings (`headers`).
    pub fn string_map(&self, name: &str) -> Vec<(String, String)> {
        let Some(v) = self.attributes.get(name) else {
            return Vec::new();
        };
        match v.unmark().0.kind() {
            Kind::Map(m) | Kind::Object(m) => m
                .iter()
                .filter_map(|(k, x)| x.unmark().0.as_str().map(|s| (k.clone(), s.to_string())))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The `notify` section.
#[derive(Clone, Debug, Default)]
pub struct NotifyConfig {
    /// The template for every target without its own (path relative to
    /// the project directory).
    pub template: Option<PathBuf>,
    /// `github`, `slack`, `webhook` blocks in file order.
    pub targets: Vec<(String, TargetSettings)>,
}

impl NotifyConfig {
    pub fn target(&self, kind: &str) -> Option<&TargetSettings> {
        self.targets.iter().find(|(k, _)| k == kind).map(|(_, s)| s)
    }
}

/// The attributes each target block accepts.
const TARGET_ATTRIBUTES: &[(&str, &[&str])] = &[
    (
        "github",
        &[
            "repository",
            "pull_request",
            "api_url",
            "token_env",
            "labels",
            "template",
        ],
    ),
    ("slack", &["webhook_url", "webhook_url_env", "template"]),
    ("webhook", &["url", "headers", "template"]),
];

/// Reads the `notify` section of `file`. Problems are warnings: a
/// notification never fails the command.
pub fn load(root: &ProjectRoot) -> (NotifyConfig, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut config = NotifyConfig::default();
    let Some(path) = &root.file else {
        return (config, diags);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::warning(
                "Cannot read the project file",
                format!("Reading {}: {e}", path.display()),
            ));
            return (config, diags);
        }
    };
    let file = SourceFile::new(path.display().to_string(), text);
    let parsed = terrane_hcl::parse_file(&file);
    if parsed.diagnostics.has_errors() {
        for d in parsed.diagnostics.iter() {
            let mut w = d.clone();
            w.severity = terrane_hcl::diag::Severity::Warning;
            diags.push(w);
        }
        return (config, diags);
    }
    for block in parsed
        .body
        .blocks()
        .filter(|b| b.ident.name.as_ref() == "notify")
    {
        read_notify(&file, block, root, &mut config, &mut diags);
    }
    (config, diags)
}

fn read_notify(
    file: &Arc<SourceFile>,
    block: &Block,
    root: &ProjectRoot,
    config: &mut NotifyConfig,
    diags: &mut Diagnostics,
) {
    for attr in block.body.attributes() {
        match attr.name.name.as_ref() {
            "template" => {
                if let Some(s) = eval(file, &attr.expr, diags).and_then(|v| string_of(&v)) {
                    config.template = Some(root.dir.join(s));
                }
            }
            other => diags.push(
                Diagnostic::warning(
                    "Unsupported argument in notify",
                    format!("An argument named {other:?} is not expected in the notify block; it takes \"template\" and the blocks github, slack and webhook."),
                )
                .with_subject(file, attr.name.span),
            ),
        }
    }
    for target in block.body.blocks() {
        let kind = target.ident.name.to_string();
        let Some((_, allowed)) = TARGET_ATTRIBUTES.iter().find(|(k, _)| *k == kind) else {
            diags.push(
                Diagnostic::warning(
                    "Unsupported notification target",
                    format!("terrane has no notification target {kind:?}; use github, slack or webhook."),
                )
                .with_subject(file, target.def_span()),
            );
            continue;
        };
        let mut settings = TargetSettings::default();
        read_attributes(file, &target.body, allowed, &kind, &mut settings, diags);
        if let Some(t) = settings.string("template") {
            settings.attributes.insert(
                "template".into(),
                Value::string(root.dir.join(t).display().to_string()),
            );
        }
        config.targets.push((kind, settings));
    }
}

fn read_attributes(
    file: &Arc<SourceFile>,
    body: &Body,
    allowed: &[&str],
    kind: &str,
    settings: &mut TargetSettings,
    diags: &mut Diagnostics,
) {
    for attr in body.attributes() {
        let name = attr.name.name.to_string();
        if !allowed.contains(&name.as_str()) {
            diags.push(
                Diagnostic::warning(
                    "Unsupported argument",
                    format!(
                        "An argument named {name:?} is not expected in the {kind} notification block; it takes {}.",
                        allowed.join(", ")
                    ),
                )
                .with_subject(file, attr.name.span),
            );
            continue;
        }
        if let Some(v) = eval(file, &attr.expr, diags) {
            settings.attributes.insert(name, v);
        }
    }
}

/// A constant expression's value (literals, functions; no references).
fn eval(
    file: &Arc<SourceFile>,
    expr: &terrane_hcl::ast::Expr,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let scope = terrane_lang::Scope::new();
    let ctx = terrane_lang::EvalContext::new(&scope).with_file(file);
    let (v, d) = terrane_lang::eval_expr(expr, &ctx);
    let failed = d.has_errors();
    for mut x in d.0 {
        x.severity = terrane_hcl::diag::Severity::Warning;
        diags.push(x);
    }
    (!failed && v.is_wholly_known()).then_some(v)
}

fn string_of(v: &Value) -> Option<String> {
    v.unmark().0.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_targets_and_warns_about_unknown_arguments() {
        let dir =
            std::env::temp_dir().join(format!("terrane-notify-project-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("stacks/net")).unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::write(
            dir.join(PROJECT_FILE),
            "stack \"x\" {}\nnotify {\n  template = \"t.tftpl\"\n  github {\n    repository = \"acme/infra\"\n    pull_request = 12\n    colour = \"red\"\n  }\n  webhook {\n    url = \"http://127.0.0.1:1/x\"\n    headers = { X-Key = \"k\" }\n  }\n}\n",
        )
        .unwrap();
        let root = find_root(&dir.join("stacks/net"));
        assert_eq!(
            root.file.as_deref(),
            Some(dir.canonicalize().unwrap().join(PROJECT_FILE).as_path())
        );
        let (config, diags) = load(&root);
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags.iter().all(|d| !d.is_error()));
        assert_eq!(diags.0[0].summary, "Unsupported argument");
        let gh = config.target("github").unwrap();
        assert_eq!(gh.string("repository").as_deref(), Some("acme/infra"));
        assert_eq!(gh.string("pull_request").as_deref(), Some("12"));
        assert_eq!(
            config.target("webhook").unwrap().string_map("headers"),
            vec![("X-Key".to_string(), "k".to_string())]
        );
        assert!(config.template.unwrap().ends_with("t.tftpl"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
