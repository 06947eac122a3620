//! `terrane graph`: the configuration's dependency graph in DOT, in the
//! shape of Terraform 1.0.3's `terraform graph` (`terrane_core::graph_dot`).

use crate::cli::Flags;
use crate::ui::Ui;
use std::path::Path;
use terrane_core::graph_dot::{self, GraphType};

const USAGE: &str = "Usage: terraform [global options] graph [options]

  Outputs the visual execution graph of Terraform resources according to
  either the current configuration or an execution plan.

  The graph is outputted in DOT format. The typical program that can
  read this format is GraphViz, but many web services are also available
  to read this format.

  The -type flag can be used to control the type of graph shown. Terraform
  creates different graphs for different operations. See the options below
  for the list of types supported. The default type is \"plan\" if a
  configuration is given, and \"apply\" if a plan file is passed as an
  argument.

Options:

  -plan=tfplan     Render graph using the specified plan file instead of the
                   configuration in the current directory.

  -draw-cycles     Highlight any cycles in the graph with colored edges.
                   This helps when diagnosing cycle errors.

  -type=plan       Type of graph to output. Can be: plan, plan-destroy, apply,
                   validate, input, refresh.

  -module-depth=n  (deprecated) In prior versions of Terraform, specified the
\t\t\t\t   depth of modules to show in the output.";

/// Terraform's red for command errors (on whatever stream, as it prints
/// them even without a terminal).
fn error(ui: &Ui, text: &str) {
    if ui.color {
        eprintln!("\x1b[31m{text}\x1b[0m\x1b[0m");
    } else {
        eprintln!("{text}");
    }
}

pub fn run(args: &[String], ui: &Ui) -> i32 {
    let flags = match Flags::parse(
        args,
        &[
            "plan",
            "draw-cycles",
            "type",
            "module-depth",
            "no-color",
            "help",
        ],
        &["plan", "type", "module-depth"],
    ) {
        Ok(f) => f,
        Err(e) => {
            error(ui, &format!("Error parsing command-line flags: {e}\n"));
            return 1;
        }
    };
    if flags.has("help") {
        println!("{USAGE}");
        return 0;
    }
    let draw_cycles = match flags.bool("draw-cycles", false) {
        Ok(b) => b,
        Err(e) => {
            error(ui, &format!("Error parsing command-line flags: {e}\n"));
            return 1;
        }
    };
    if !flags.positional.is_empty() {
        error(
            ui,
            "Too many command line arguments. Did you mean to use -chdir?",
        );
        return 1;
    }
    let plan_file = flags.value("plan").filter(|p| !p.is_empty());
    let type_name = flags
        .value("type")
        .filter(|t| !t.is_empty())
        .unwrap_or(if plan_file.is_some() { "apply" } else { "plan" });
    let Some(ty) = GraphType::parse(type_name) else {
        error(ui, &format!("Invalid graph type requested: {type_name}"));
        return 1;
    };
    // A saved plan's graph is drawn from the configuration it was made
    // with and its changes.
    let snapshot;
    let mut changes = Vec::new();
    let dir = match plan_file {
        Some(path) => match unpack_plan_config(Path::new(path)) {
            Ok((d, c)) => {
                snapshot = d;
                changes = c;
                snapshot.path().to_path_buf()
            }
            Err(e) => {
                ui.diagnostics([&terrane_hcl::Diagnostic::error(
                    "Failed to read plan from plan file",
                    format!("Cannot read the plan from the given plan file: {e}"),
                )]);
                return 1;
            }
        },
        None => Path::new(".").to_path_buf(),
    };
    let (tree, mut diags) = terrane_config::load_tree(&dir);
    // A remote module that init has not installed would be drawn empty.
    diags.extend(terrane_install::modules::check_installed(&dir, &tree));
    if diags.has_errors() {
        ui.diagnostics(diags.iter());
        return 1;
    }
    // The plan graphs draw the objects in state too (orphans, or every
    // object for a destroy plan).
    let needs_state = matches!(
        ty,
        GraphType::Plan | GraphType::PlanRefreshOnly | GraphType::PlanDestroy
    );
    let needs_state = needs_state || ty == GraphType::Apply;
    let state = if needs_state {
        match super::statefile::read_current(None, ui) {
            Ok(s) => s,
            Err(()) => return 1,
        }
    } else {
        None
    };
    let graph =
        graph_dot::build_with_changes(&tree, ty, state.as_ref().map(|s| &s.state), &changes);
    print!("{}", graph.to_dot(draw_cycles));
    0
}

/// A temporary directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The configuration files a plan file carries, written to a fresh
/// temporary directory, and its resource changes.
fn unpack_plan_config(path: &Path) -> Result<(TempDir, Vec<graph_dot::PlannedChange>), String> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| crate::cli::io_reason(&e))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|_| "zip: not a valid zip file".to_string())?;
    let mut files = std::collections::BTreeMap::new();
    let mut changes = Vec::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        if name == "terrane-plan.json" {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| format!("{name}: {e}"))?;
            let meta: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
            changes = planned_changes(&meta);
            continue;
        }
        let Some(rel) = name.strip_prefix("config/").map(str::to_string) else {
            continue;
        };
        let mut text = String::new();
        entry
            .read_to_string(&mut text)
            .map_err(|e| format!("{rel}: {e}"))?;
        files.insert(rel, text);
    }
    if files.is_empty() {
        return Err("the file holds no configuration snapshot".into());
    }
    let dir = std::env::temp_dir().join(format!(
        "terrane-graph-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| crate::cli::io_reason(&e))?;
    let tmp = TempDir(dir);
    terrane_core::planfile::restore_config(&files, tmp.path())?;
    Ok((tmp, changes))
}

/// The resource changes of a plan file's metadata (addresses and actions
/// only: drawing needs no values or schemas).
fn planned_changes(meta: &serde_json::Value) -> Vec<graph_dot::PlannedChange> {
    use terrane_core::plan::Action;
    let key_text = |k: &serde_json::Value| match k {
        serde_json::Value::Number(n) => format!("[{n}]"),
        serde_json::Value::String(s) => format!("[{}]", serde_json::Value::from(s.as_str())),
        _ => String::new(),
    };
    let mut out = Vec::new();
    for c in meta["resource_changes"].as_array().into_iter().flatten() {
        if !c["deposed"].is_null() {
            continue;
        }
        let a = &c["addr"];
        let steps: Vec<(String, String)> = a["module"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s[0].as_str().unwrap_or_default().to_string(),
                    key_text(&s[1]),
                )
            })
            .collect();
        let data = a["mode"] == "data";
        let resource = format!(
            "{}{}.{}",
            if data { "data." } else { "" },
            a["type"].as_str().unwrap_or_default(),
            a["name"].as_str().unwrap_or_default()
        );
        let key = key_text(&a["key"]);
        let module_text: String = steps
            .iter()
            .map(|(n, k)| format!("module.{n}{k}."))
            .collect();
        let action = match c["action"].as_str().unwrap_or_default() {
            "create" => Action::Create,
            "read" => Action::Read,
            "update" => Action::Update,
            "delete-then-create" => Action::DeleteThenCreate,
            "create-then-delete" => Action::CreateThenDelete,
            "delete" => Action::Delete,
            _ => Action::NoOp,
        };
        out.push(graph_dot::PlannedChange {
            addr: format!("{module_text}{resource}{key}"),
            module: steps.into_iter().map(|(n, _)| n).collect(),
            resource,
            key,
            action,
            provider: c["provider"].as_str().unwrap_or_default().to_string(),
        });
    }
    out
}
