//! `terrane drift`: refreshes every managed object (as `plan
//! -refresh-only`, nothing planned from the configuration, nothing
//! written) and reports each attribute changed outside terrane: resource
//! address, attribute path, the state's value and the refreshed one
//! (sensitive values masked). Exit codes: 0 no drift, 2 drift, 1 error.
//!
//! [`detect`] is the library form (`terrane stacks drift` may call it):
//! a working directory in, a [`DriftReport`] out, nothing printed.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Value as Json};
use terrane_core::engine::Engine;
use terrane_core::plan::{Action, ResourceInstanceChange};
use terrane_core::render::json_plan::value_json;
use terrane_core::walk::PlanOptions;
use terrane_hcl::{Diagnostic, Diagnostics};
use terrane_lang::varvalues::{self, Missing, VarArg};
use terrane_plugin::Block;
use terrane_state::journal::Journal;
use terrane_state::{StateFile, StateMgr};
use terrane_value::{Kind, Value};

use crate::backend::{self, ActiveBackend};
use crate::cli::Flags;
use crate::notify::redact::MASK;
use crate::ui::Ui;

/// What [`detect`] takes besides the directory.
#[derive(Clone, Debug)]
pub struct DriftOptions {
    /// `-var` and `-var-file`, in order.
    pub vars: Vec<VarArg>,
    /// `-state=PATH`; else the active backend's state.
    pub state_path: Option<PathBuf>,
    pub lock: bool,
    pub lock_timeout: Duration,
    pub parallelism: usize,
}

impl Default for DriftOptions {
    fn default() -> Self {
        DriftOptions {
            vars: Vec::new(),
            state_path: None,
            lock: true,
            lock_timeout: Duration::ZERO,
            parallelism: terrane_core::walk::DEFAULT_PARALLELISM,
        }
    }
}

/// Everything that changed outside terrane.
#[derive(Clone, Debug, Default)]
pub struct DriftReport {
    pub workspace: String,
    /// Managed resource instances in state (what was checked).
    pub checked: usize,
    /// In address order.
    pub resources: Vec<DriftedResource>,
    /// Warnings of loading and refreshing.
    pub warnings: Vec<Diagnostic>,
    /// Texts of sensitive values met (kept out of notifications).
    pub secrets: Vec<String>,
}

impl DriftReport {
    pub fn has_drift(&self) -> bool {
        !self.resources.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DriftKind {
    /// Attributes differ.
    Changed,
    /// The provider no longer finds the object.
    Deleted,
}

#[derive(Clone, Debug)]
pub struct DriftedResource {
    pub address: String,
    pub kind: DriftKind,
    /// Changed attributes (leaf paths), in path order.
    pub attributes: Vec<AttributeDrift>,
    /// An explanation, when terrane has one.
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AttributeDrift {
    /// `tags["Name"]`, `ingress[0].cidr_blocks`, ...
    pub path: String,
    /// The state's value and the refreshed one as JSON; `"(sensitive
    /// value)"` when sensitive.
    pub before: Json,
    pub after: Json,
    pub sensitive: bool,
}

/// Serializes [`detect`] calls that change the working directory.
static CHDIR: Mutex<()> = Mutex::new(());

/// Refreshes the configuration in `dir` and reports the drift. terrane's
/// state and backend code works relative to the process's working
/// directory, so for a `dir` other than the current one the call switches
/// to it and back under a process-wide lock: calls for other directories
/// run one at a time (run `terrane drift -json` processes to go parallel).
pub fn detect(dir: &Path, opts: &DriftOptions) -> Result<DriftReport, Diagnostics> {
    let here = std::env::current_dir().ok();
    let same = match (&here, dir.canonicalize()) {
        (Some(h), Ok(d)) => h.canonicalize().ok().as_ref() == Some(&d),
        _ => dir == Path::new("."),
    };
    if same {
        return detect_here(opts);
    }
    let _guard = CHDIR.lock().unwrap_or_else(|p| p.into_inner());
    std::env::set_current_dir(dir).map_err(|e| {
        Diagnostics::from(Diagnostic::error(
            "Cannot enter the directory",
            format!("{}: {}", dir.display(), crate::cli::io_reason(&e)),
        ))
    })?;
    let result = detect_here(opts);
    if let Some(h) = here {
        let _ = std::env::set_current_dir(h);
    }
    result
}

fn detect_here(opts: &DriftOptions) -> Result<DriftReport, Diagnostics> {
    let dir = Path::new(".");
    let (tree, mut diags) = terrane_config::load_tree(dir);
    diags.extend(terrane_install::modules::check_installed(dir, &tree));
    if !diags.has_errors() {
        diags.extend(terrane_config::validate::validate_tree(&tree));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let (given, d) = varvalues::collect(
        dir,
        &cwd,
        &opts.vars,
        &varvalues::process_env(),
        &tree.module.variables,
    );
    diags.extend(d);
    let (root_vars, d) = varvalues::finalize(&tree.module, &given, Missing::Error);
    diags.extend(d);
    if diags.has_errors() {
        return Err(diags);
    }
    let workspace = super::statefile::current_workspace();
    // The journal an interrupted apply left sits beside the state
    // (statefile::StateLocation::journal_anchor).
    let (mut mgr, anchor): (Box<dyn StateMgr>, PathBuf) = match &opts.state_path {
        Some(p) if !p.as_os_str().is_empty() => (
            Box::new(terrane_state::LocalState::new(
                terrane_state::LocalStateOptions::new(p),
            )),
            p.clone(),
        ),
        _ => match backend::active(tree.module.terraform.backend.as_ref())? {
            ActiveBackend::Local(l) => {
                let path = l.state_path(&workspace);
                (
                    Box::new(terrane_state::LocalState::new(
                        terrane_state::LocalStateOptions::new(&path),
                    )),
                    path,
                )
            }
            ActiveBackend::Remote { mut backend, kind } => {
                let location = super::statefile::StateLocation::Remote {
                    kind: kind.clone(),
                    workspace: workspace.clone(),
                };
                let mgr = backend.state_mgr(&workspace).map_err(|e| {
                    Diagnostics::from(Diagnostic::error(
                        "Failed to load state",
                        format!("Failed to read the state of workspace {workspace:?} of the {kind} backend: {e}"),
                    ))
                })?;
                (mgr, location.journal_anchor())
            }
        },
    };
    let lock_id = if opts.lock {
        let id = mgr
            .lock_with_timeout("OperationTypePlan", "", opts.lock_timeout)
            .map_err(|e| Diagnostics::from(super::statefile::lock_error(&e)))?;
        Some(id)
    } else {
        None
    };
    let result = refresh_and_report(
        mgr.as_mut(),
        &anchor,
        &tree,
        root_vars,
        opts,
        &workspace,
        diags,
    );
    if let Some(id) = lock_id {
        let _ = mgr.unlock(&id);
    }
    result
}

fn refresh_and_report(
    mgr: &mut dyn StateMgr,
    anchor: &Path,
    tree: &terrane_config::ModuleTree,
    root_vars: std::collections::BTreeMap<String, Value>,
    opts: &DriftOptions,
    workspace: &str,
    mut diags: Diagnostics,
) -> Result<DriftReport, Diagnostics> {
    mgr.refresh()
        .map_err(|e| Diagnostics::from(Diagnostic::error("Failed to load state", e.to_string())))?;
    let mut file = mgr.state().cloned();
    // A crash journal's changes count as the state (applied in memory:
    // drift writes nothing).
    if Journal::path_for(anchor).exists() {
        if let Ok(j) = Journal::open(anchor) {
            let current = file.as_ref().map(|s| (s.lineage.as_str(), s.serial));
            if !j.changes().is_empty() && j.base() == Some(current.unwrap_or(("", 0))) {
                let mut f = file
                    .clone()
                    .unwrap_or_else(|| StateFile::new(Default::default()));
                terrane_state::apply_changes(&mut f.state, j.changes());
                file = Some(f);
            }
        }
    }
    let mut prior = file.map(|f| f.state);
    if let Some(state) = prior.as_mut() {
        terrane_core::moved::apply_moved(tree, state).map_err(Diagnostics)?;
    }
    let checked = prior
        .as_ref()
        .map(|s| {
            s.resources
                .iter()
                .filter(|r| r.mode == terrane_state::Mode::Managed)
                .map(|r| r.instances.iter().filter(|i| i.deposed.is_none()).count())
                .sum()
        })
        .unwrap_or(0);
    let factory = crate::provider_factory::Factory::new(
        crate::provider_factory::Selections::for_working_dir(Path::new("."))?,
    );
    let preflight = factory.preflight(tree);
    if preflight.has_errors() {
        return Err(preflight);
    }
    let sensitive_vars: Vec<Value> = tree
        .module
        .variables
        .iter()
        .filter(|(_, v)| v.sensitive)
        .filter_map(|(k, _)| root_vars.get(k).cloned())
        .collect();
    let engine = Engine {
        tree,
        factory: &factory,
        root_vars,
        prior_state: prior,
    };
    let plan_opts = PlanOptions {
        refresh: true,
        refresh_only: true,
        workspace: workspace.to_string(),
        parallelism: opts.parallelism,
        ..Default::default()
    };
    let (plan, d) = engine.plan(&plan_opts, None);
    diags.extend(d);
    if diags.has_errors() {
        return Err(diags);
    }
    let mut resources: Vec<DriftedResource> = plan.drift.iter().filter_map(drifted).collect();
    resources.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(DriftReport {
        workspace: workspace.to_string(),
        checked,
        resources,
        warnings: diags.0,
        secrets: crate::notify::redact::secrets(&plan, &sensitive_vars),
    })
}

/// One drift entry of the plan as a report entry (`None` when no
/// attribute actually differs, e.g. only marks).
fn drifted(c: &ResourceInstanceChange) -> Option<DriftedResource> {
    let address = c.addr.to_string();
    if c.action == Action::Delete || c.after.is_null() {
        if let Some(r) = local_file_explanation(c) {
            return Some(r);
        }
        return Some(DriftedResource {
            address,
            kind: DriftKind::Deleted,
            attributes: Vec::new(),
            note: None,
        });
    }
    let mut attributes = Vec::new();
    diff(
        String::new(),
        &c.before,
        &c.after,
        Some(&c.schema.block),
        false,
        &mut attributes,
    );
    (!attributes.is_empty()).then_some(DriftedResource {
        address,
        kind: DriftKind::Changed,
        attributes,
        note: None,
    })
}

/// The hashicorp/local provider (and terrane's built-in one) reports a
/// file whose content changed as gone; reading the file names the
/// attribute that changed.
fn local_file_explanation(c: &ResourceInstanceChange) -> Option<DriftedResource> {
    let ty = c.addr.resource.type_name.as_str();
    if ty != "local_file" && ty != "local_sensitive_file" {
        return None;
    }
    let before = c.before.unmark_deep_value();
    let filename = before.get_attr("filename")?.as_str()?.to_string();
    let bytes = std::fs::read(&filename).ok()?;
    let now = String::from_utf8_lossy(&bytes).into_owned();
    let sensitive = ty == "local_sensitive_file"
        || c.before
            .get_attr("content")
            .is_some_and(|v| v.marks_deep().contains(terrane_value::Mark::Sensitive));
    let was = before
        .get_attr("content")
        .and_then(|v| v.as_str().map(str::to_string));
    let mut attributes = Vec::new();
    if was.as_deref() != Some(now.as_str()) {
        let show = |v: Json| {
            if sensitive {
                Json::String(MASK.into())
            } else {
                v
            }
        };
        attributes.push(AttributeDrift {
            path: "content".into(),
            before: show(was.map(Json::String).unwrap_or(Json::Null)),
            after: show(Json::String(now)),
            sensitive,
        });
    }
    Some(DriftedResource {
        address: c.addr.to_string(),
        kind: DriftKind::Changed,
        attributes,
        note: Some(format!(
            "The file {filename} was changed outside terrane; the provider reports the object gone, so the next apply recreates it."
        )),
    })
}

/// Leaf differences between `before` and `after` under `path`.
fn diff(
    path: String,
    before: &Value,
    after: &Value,
    block: Option<&Block>,
    sensitive: bool,
    out: &mut Vec<AttributeDrift>,
) {
    // A value's own mark covers what is inside it; a mark deeper down
    // covers only its part (or the whole, once reported as one leaf).
    let sensitive = sensitive
        || before.marks().contains(terrane_value::Mark::Sensitive)
        || after.marks().contains(terrane_value::Mark::Sensitive);
    let (b, a) = (before.unmark_deep_value(), after.unmark_deep_value());
    if b.raw_equal(&a) || (is_empty_or_null(&b) && is_empty_or_null(&a)) {
        return;
    }
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    match (before.unmark().0.kind(), after.unmark().0.kind()) {
        (Kind::Object(bm), Kind::Object(am)) => {
            let mut names: Vec<&String> = bm.keys().chain(am.keys()).collect();
            names.sort();
            names.dedup();
            let null = Value::null_dynamic();
            for name in names {
                let attr = block.and_then(|bl| bl.attributes.get(name.as_str()));
                let nested = block.and_then(|bl| bl.block_types.get(name.as_str()));
                diff(
                    join(name),
                    bm.get(name).unwrap_or(&null),
                    am.get(name).unwrap_or(&null),
                    nested.map(|n| &n.block),
                    sensitive || attr.is_some_and(|a| a.sensitive),
                    out,
                );
            }
            return;
        }
        (Kind::Map(bm), Kind::Map(am)) => {
            let mut keys: Vec<&String> = bm.keys().chain(am.keys()).collect();
            keys.sort();
            keys.dedup();
            let null = Value::null_dynamic();
            for k in keys {
                let key = serde_json::to_string(k).unwrap_or_default();
                diff(
                    format!("{path}[{key}]"),
                    bm.get(k).unwrap_or(&null),
                    am.get(k).unwrap_or(&null),
                    block,
                    sensitive,
                    out,
                );
            }
            return;
        }
        (Kind::List(bs), Kind::List(as_)) | (Kind::Tuple(bs), Kind::Tuple(as_))
            if bs.len() == as_.len() =>
        {
            for (i, (x, y)) in bs.iter().zip(as_.iter()).enumerate() {
                diff(format!("{path}[{i}]"), x, y, block, sensitive, out);
            }
            return;
        }
        _ => {}
    }
    let sensitive = sensitive
        || before.marks_deep().contains(terrane_value::Mark::Sensitive)
        || after.marks_deep().contains(terrane_value::Mark::Sensitive);
    let show = |v: &Value| {
        if sensitive {
            Json::String(MASK.into())
        } else if v.is_null() {
            Json::Null
        } else {
            value_json(v)
        }
    };
    out.push(AttributeDrift {
        path,
        before: show(&b),
        after: show(&a),
        sensitive,
    });
}

/// Null, an empty collection or an empty string: providers on the legacy
/// SDK read an unset attribute back as one of the others (`tags`: null in
/// state, `{}` refreshed), which is no change anyone made.
fn is_empty_or_null(v: &Value) -> bool {
    if v.is_null() {
        return true;
    }
    if !v.is_known() {
        return false;
    }
    match v.kind() {
        Kind::String(s) => s.is_empty(),
        Kind::List(xs) | Kind::Set(xs) | Kind::Tuple(xs) => xs.is_empty(),
        Kind::Map(m) => m.is_empty(),
        _ => false,
    }
}

/// The report as text: one `# ADDR` entry per resource, an indented line
/// per attribute.
pub fn report_text(r: &DriftReport) -> String {
    if !r.has_drift() {
        let noun = if r.checked == 1 {
            "resource"
        } else {
            "resources"
        };
        return format!(
            "No drift: the {} managed {noun} match the state.\n",
            r.checked
        );
    }
    let mut out = format!(
        "Drift detected: {} of {} managed resources changed outside terrane.\n",
        r.resources.len(),
        r.checked
    );
    for res in &r.resources {
        out.push('\n');
        match res.kind {
            DriftKind::Deleted => out.push_str(&format!(
                "  # {} was deleted outside terrane\n",
                res.address
            )),
            DriftKind::Changed => out.push_str(&format!(
                "  # {} has changed outside terrane\n",
                res.address
            )),
        }
        for a in &res.attributes {
            out.push_str(&format!(
                "      {}: {} => {}\n",
                a.path,
                show_json(&a.before),
                show_json(&a.after)
            ));
        }
        if let Some(n) = &res.note {
            out.push_str(&format!("      ({n})\n"));
        }
    }
    out
}

fn show_json(j: &Json) -> String {
    match j {
        Json::String(s) if s == MASK => MASK.to_string(),
        other => other.to_string(),
    }
}

/// The report as JSON (`drift -json`, the webhook body).
pub fn report_json(r: &DriftReport) -> Json {
    let resources: Vec<Json> = r
        .resources
        .iter()
        .map(|res| {
            let mut j = json!({
                "address": res.address,
                "change": match res.kind { DriftKind::Changed => "changed", DriftKind::Deleted => "deleted" },
                "attributes": res.attributes.iter().map(|a| json!({
                    "path": a.path, "before": a.before, "after": a.after, "sensitive": a.sensitive,
                })).collect::<Vec<_>>(),
            });
            if let Some(n) = &res.note {
                j["note"] = json!(n);
            }
            j
        })
        .collect();
    json!({
        "format_version": "1.0",
        "workspace": r.workspace,
        "drift": r.has_drift(),
        "checked": r.checked,
        "resources": resources,
    })
}

fn diagnostics_json(diags: &[Diagnostic]) -> Json {
    Json::Array(
        diags
            .iter()
            .map(|d| {
                json!({
                    "severity": if d.is_error() { "error" } else { "warning" },
                    "summary": d.summary,
                    "detail": d.detail,
                })
            })
            .collect(),
    )
}

const HELP: &str = "Usage: terrane [global options] drift [options]

  Refreshes every managed object without planning changes to the
  configuration and reports each attribute changed outside terrane
  (resource address, attribute path, old and new value; sensitive values
  masked). Nothing is written.

  Exit codes: 0 no drift, 2 drift found, 1 error.

Options:

  -json                  The report as JSON.
  -notify=TARGET         Send the report (github, slack, webhook; repeatable;
                         default: the notify section of terrane.hcl).
  -var 'foo=bar'         Set a variable in the configuration.
  -var-file=filename     Load variable values from the given file.
  -state=path            A local state file instead of the backend's.
  -lock=false            Don't hold a state lock during the refresh.
  -lock-timeout=0s       Duration to retry a state lock.
  -parallelism=n         Limit the number of concurrent operations (10).
  -no-color              No colour.
";

pub fn run(args: &[String], ui: &Ui) -> i32 {
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "-help" | "--help" | "-h"))
    {
        eprint!("{HELP}");
        return 0;
    }
    let known = [
        "json",
        "notify",
        "var",
        "var-file",
        "state",
        "lock",
        "lock-timeout",
        "parallelism",
        "no-color",
        "input",
    ];
    let takes = [
        "notify",
        "var",
        "var-file",
        "state",
        "lock-timeout",
        "parallelism",
    ];
    let parsed = Flags::parse(args, &known, &takes).and_then(|flags| {
        let mut opts = DriftOptions::default();
        let mut notify = Vec::new();
        for (name, value) in flags.values() {
            match (name.as_str(), value) {
                ("var", Some(v)) => opts.vars.push(VarArg::Var(v.clone())),
                ("var-file", Some(v)) => opts.vars.push(VarArg::File(v.clone())),
                ("notify", Some(v)) => notify.push(v.clone()),
                _ => {}
            }
        }
        opts.state_path = flags.value("state").map(PathBuf::from);
        opts.lock = flags.bool("lock", true)?;
        if let Some(v) = flags.value("lock-timeout") {
            opts.lock_timeout = super::statefile::parse_duration(v)
                .ok_or_else(|| format!("invalid value {v:?} for flag -lock-timeout: invalid duration"))?;
        }
        if let Some(v) = flags.value("parallelism") {
            opts.parallelism = match v.parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => return Err(format!("invalid value {v:?} for flag -parallelism: must be a whole number greater than zero")),
            };
        }
        if !flags.positional.is_empty() {
            return Err("The drift command takes no arguments; run it in the configuration's directory (or use -chdir=DIR).".to_string());
        }
        let json = flags.bool("json", false)?;
        let recorder = crate::notify::Recorder::new(&notify, "drift")?;
        Ok((opts, json, recorder))
    });
    let (opts, json, recorder) = match parsed {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}\n\n{HELP}");
            return 1;
        }
    };
    let code = match detect(Path::new("."), &opts) {
        Ok(report) => {
            let text = report_text(&report);
            if json {
                let mut j = report_json(&report);
                j["diagnostics"] = diagnostics_json(&report.warnings);
                println!("{j}");
            } else {
                print!("{text}");
                ui.diagnostics(report.warnings.iter());
            }
            if recorder.active() {
                recorder.record(outcome(&report, text));
            }
            if report.has_drift() {
                2
            } else {
                0
            }
        }
        Err(diags) => {
            if json {
                println!(
                    "{}",
                    json!({ "format_version": "1.0", "error": true, "diagnostics": diagnostics_json(&diags.0) })
                );
            } else {
                ui.diagnostics(diags.iter());
            }
            recorder.failed(&diags);
            1
        }
    };
    recorder.send(code, ui);
    code
}

/// The notification of a report.
fn outcome(r: &DriftReport, text: String) -> crate::notify::Outcome {
    let summary = text.lines().next().unwrap_or_default().to_string();
    crate::notify::Outcome {
        command: "drift".into(),
        success: true,
        summary,
        counts: crate::notify::Counts {
            drifted: r.resources.len(),
            ..Default::default()
        },
        text,
        json: Some(report_json(r)),
        secrets: r.secrets.clone(),
        has_changes: r.has_drift(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::object(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn diff_names_leaf_paths_and_masks_sensitive_values() {
        let tags = |v: &str| {
            Value::map(
                terrane_value::Type::String,
                BTreeMap::from([
                    ("Name".to_string(), Value::string(v)),
                    ("Team".to_string(), Value::string("ops")),
                ]),
            )
        };
        let before = obj(&[
            ("id", Value::string("b-1")),
            ("tags", tags("old")),
            ("password", Value::string("hunter22").mark_sensitive()),
        ]);
        let after = obj(&[
            ("id", Value::string("b-1")),
            ("tags", tags("new")),
            ("password", Value::string("hunter23").mark_sensitive()),
        ]);
        let mut out = Vec::new();
        diff(String::new(), &before, &after, None, false, &mut out);
        assert_eq!(
            out,
            vec![
                AttributeDrift {
                    path: "password".into(),
                    before: json!(MASK),
                    after: json!(MASK),
                    sensitive: true
                },
                AttributeDrift {
                    path: "tags[\"Name\"]".into(),
                    before: json!("old"),
                    after: json!("new"),
                    sensitive: false
                },
            ]
        );
    }
}
