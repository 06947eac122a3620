//! Loading a module directory: primary files, then override files merged
//! into them with Terraform's rules, then local child modules recursively.

use crate::decode::Decoder;
use crate::model::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use terrane_hcl::ast::{Body, Structure};
use terrane_hcl::{parse_file, Diagnostic, Diagnostics, SourceFile};

/// Whether a file name is an override file (`override.tf`, `x_override.tf`
/// and their `.tf.json` forms).
pub fn is_override_file(name: &str) -> bool {
    let stem = name
        .strip_suffix(".tf.json")
        .or_else(|| name.strip_suffix(".tf"))
        .unwrap_or(name);
    stem == "override" || stem.ends_with("_override")
}

/// The configuration files of a directory, primary files first, each group
/// in lexical order, as Terraform loads them. Editor backups and hidden
/// files are ignored.
pub fn config_files(dir: &Path) -> std::io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut primary = Vec::new();
    let mut overrides = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| !t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    for name in entries {
        if name.starts_with('.') || name.starts_with('#') || name.ends_with('~') {
            continue;
        }
        if !(name.ends_with(".tf") || name.ends_with(".tf.json")) {
            continue;
        }
        let path = dir.join(&name);
        if is_override_file(&name) {
            overrides.push(path)
        } else {
            primary.push(path)
        }
    }
    Ok((primary, overrides))
}

/// Reads and parses one file (native or JSON syntax). `display` is the name
/// shown in diagnostics.
pub fn parse_config_file(path: &Path, display: &str) -> (Arc<SourceFile>, Body, Diagnostics) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let file = SourceFile::new(display, "");
            return (
                file,
                Body::default(),
                Diagnostic::error(
                    "Failed to read file",
                    format!("The configuration file {display:?} could not be read: {e}."),
                )
                .into(),
            );
        }
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let file = SourceFile::new(display, String::from_utf8_lossy(e.as_bytes()).into_owned());
            let at = e.utf8_error().valid_up_to();
            return (
                file.clone(),
                Body::default(),
                Diagnostic::error(
                    "Invalid character encoding",
                    "All input files must be UTF-8 encoded. Ensure that UTF-8 encoding is selected in your editor.",
                )
                .with_subject(&file, terrane_hcl::Span::new(at, at + 1))
                .into(),
            );
        }
    };
    let file = SourceFile::new(display, text);
    if display.ends_with(".json") {
        let (body, diags) = crate::json::parse_json_body(&file);
        return (file, body, diags);
    }
    let parsed = parse_file(&file);
    (file, parsed.body, parsed.diagnostics)
}

/// Called with the module path and each resource as it is decoded.
pub type ResourceHook<'c> = dyn FnMut(&[String], &mut Resource) + 'c;

/// Loads one module directory (no children). File names in diagnostics are
/// `prefix` joined with the file name (Terraform shows paths relative to the
/// working directory).
pub fn load_module(dir: &Path, prefix: &str) -> (Module, Diagnostics) {
    load_module_with(dir, prefix, &[], None)
}

fn load_module_with(
    dir: &Path,
    prefix: &str,
    path: &[String],
    hook: Option<&mut ResourceHook<'_>>,
) -> (Module, Diagnostics) {
    match config_files(dir) {
        Ok((primary, overrides)) => load_files_with(dir, prefix, &primary, &overrides, path, hook),
        Err(e) => {
            let m = Module {
                dir: dir.to_path_buf(),
                ..Module::default()
            };
            let d = Diagnostic::error(
                "Failed to read module directory",
                format!(
                    "Module directory {} does not exist or cannot be read: {e}.",
                    dir.display()
                ),
            );
            (m, d.into())
        }
    }
}

/// Loads a module from an explicit list of files (primary, then override).
pub fn load_files(
    dir: &Path,
    prefix: &str,
    primary: &[PathBuf],
    overrides: &[PathBuf],
) -> (Module, Diagnostics) {
    load_files_with(dir, prefix, primary, overrides, &[], None)
}

fn load_files_with(
    dir: &Path,
    prefix: &str,
    primary: &[PathBuf],
    overrides: &[PathBuf],
    path: &[String],
    mut hook: Option<&mut ResourceHook<'_>>,
) -> (Module, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut m = Module {
        dir: dir.to_path_buf(),
        ..Module::default()
    };
    let display = |p: &Path| {
        let name = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if prefix.is_empty() {
            name
        } else {
            format!("{}/{}", prefix.trim_end_matches('/'), name)
        }
    };
    for file_path in primary {
        let shown = display(file_path);
        let (file, text_diags) = read_source(file_path, &shown);
        diags.extend(text_diags);
        let Some(file) = file else { continue };
        let mut on_resource = |r: &mut Resource| {
            if let Some(h) = hook.as_mut() {
                h(path, r)
            }
        };
        let mut dec = Decoder::new(&file);
        dec.on_resource = Some(&mut on_resource);
        if shown.ends_with(".json") {
            let (body, d) = crate::json::parse_json_body(&file);
            diags.extend(d);
            dec.file(body, &mut m);
        } else {
            // Decode each top-level block as soon as it is parsed, so a hook
            // that drops bodies keeps memory bounded by the largest block.
            let parse_diags = terrane_hcl::parse_file_items(&file, &mut |item| {
                dec.file(
                    Body {
                        items: vec![item],
                        span: terrane_hcl::Span::default(),
                    },
                    &mut m,
                )
            });
            diags.extend(parse_diags);
        }
        diags.extend(dec.diags);
        m.files.push(file);
    }
    for file_path in overrides {
        let (file, body, d) = parse_config_file(file_path, &display(file_path));
        diags.extend(d);
        let mut patch = Module::default();
        let mut dec = Decoder::new(&file);
        dec.is_override = true;
        // Override merging needs to see which arguments the override set.
        dec.file(body.clone(), &mut patch);
        crate::overrides::merge(&mut m, patch, &body, &mut dec);
        diags.extend(dec.diags);
        m.files.push(file);
    }
    (m, diags)
}

/// Reads a file as UTF-8 text.
fn read_source(path: &Path, display: &str) -> (Option<Arc<SourceFile>>, Diagnostics) {
    match std::fs::read(path) {
        Err(e) => (
            None,
            Diagnostic::error(
                "Failed to read file",
                format!("The configuration file {display:?} could not be read: {e}."),
            )
            .into(),
        ),
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => (Some(SourceFile::new(display, t)), Diagnostics::new()),
            Err(e) => {
                let file =
                    SourceFile::new(display, String::from_utf8_lossy(e.as_bytes()).into_owned());
                let at = e.utf8_error().valid_up_to();
                (
                    None,
                    Diagnostic::error(
                        "Invalid character encoding",
                        "All input files must be UTF-8 encoded. Ensure that UTF-8 encoding is selected in your editor.",
                    )
                    .with_subject(&file, terrane_hcl::Span::new(at, at + 1))
                    .into(),
                )
            }
        },
    }
}

/// Loads the root module in `dir` and every local module it calls,
/// recursively. Remote module sources are recorded but not loaded (that is
/// `init`'s job); modules already installed under `.terraform/modules` are
/// loaded from there when their manifest lists them.
pub fn load_tree(dir: &Path) -> (ModuleTree, Diagnostics) {
    load_tree_with(dir, None)
}

/// Like [`load_tree`], calling `hook` with each resource as it is decoded
/// (before it is stored, so the hook may take its body).
pub fn load_tree_with(
    dir: &Path,
    mut hook: Option<&mut ResourceHook<'_>>,
) -> (ModuleTree, Diagnostics) {
    let mut diags = Diagnostics::new();
    let installed = crate::manifest::read_modules_manifest(dir);
    let tree = load_node(
        dir,
        "",
        Vec::new(),
        &installed,
        &mut diags,
        &mut vec![],
        &mut hook,
    );
    (tree, diags)
}

fn load_node(
    dir: &Path,
    prefix: &str,
    path: Vec<String>,
    installed: &BTreeMap<String, PathBuf>,
    diags: &mut Diagnostics,
    stack: &mut Vec<PathBuf>,
    hook: &mut Option<&mut ResourceHook<'_>>,
) -> ModuleTree {
    let (module, d) = load_module_with(dir, prefix, &path, hook.as_deref_mut());
    diags.extend(d);
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    stack.push(canonical);
    let mut children = BTreeMap::new();
    for (name, call) in &module.module_calls {
        let mut child_path = path.clone();
        child_path.push(name.clone());
        let key = child_path.join(".");
        let (child_dir, child_prefix) = match &call.source {
            Some(ModuleSource::Local(src)) => {
                let child_dir = dir.join(src);
                let child_prefix = if prefix.is_empty() {
                    src.trim_end_matches('/').to_string()
                } else {
                    format!(
                        "{}/{}",
                        prefix.trim_end_matches('/'),
                        src.trim_end_matches('/')
                    )
                };
                (child_dir, normalize_display(&child_prefix))
            }
            Some(_) => match installed.get(&key) {
                // Shown as Terraform shows it: `.terraform/modules/x/main.tf`.
                Some(p) if p.is_relative() => (p.clone(), normalize_display(&p.to_string_lossy())),
                Some(p) => (p.clone(), p.to_string_lossy().into_owned()),
                None => continue,
            },
            None => continue,
        };
        if !child_dir.is_dir() {
            if let (Some(ModuleSource::Local(src)), Some(r)) = (&call.source, &call.source_range) {
                diags.push(
                    Diagnostic::error(
                        "Unreadable module directory",
                        format!(
                            "The directory {} could not be read for module {name:?} at {}.",
                            src,
                            r.short()
                        ),
                    )
                    .with_subject(&r.file, r.span),
                );
            }
            continue;
        }
        let canonical_child = child_dir
            .canonicalize()
            .unwrap_or_else(|_| child_dir.clone());
        if stack.contains(&canonical_child) || stack.len() > 64 {
            diags.push(
                Diagnostic::error(
                    "Module call cycle",
                    format!("Module {name:?} calls a module that is already being loaded, which would never end."),
                )
                .with_subject(&call.range.file, call.range.span),
            );
            continue;
        }
        let child = load_node(
            &child_dir,
            &child_prefix,
            child_path,
            installed,
            diags,
            stack,
            hook,
        );
        children.insert(name.clone(), child);
    }
    stack.pop();
    ModuleTree {
        module,
        path,
        children,
    }
}

/// `a/./b/../c` → `a/c` for display purposes.
fn normalize_display(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "." | "" => {}
            ".." => {
                if matches!(out.last(), Some(l) if *l != "..") {
                    out.pop();
                } else {
                    out.push("..")
                }
            }
            other => out.push(other),
        }
    }
    out.join("/")
}

/// Whether a body item is an attribute with this name.
pub(crate) fn has_attr(body: &Body, name: &str) -> bool {
    body.items
        .iter()
        .any(|i| matches!(i, Structure::Attribute(a) if a.name.as_str() == name))
}

/// Decodes one in-memory file as a whole module (used by tests, the fuzz
/// target and the console). `name` decides the syntax: `.json` → JSON.
pub fn load_source(name: &str, text: &str) -> (Module, Diagnostics) {
    let file = SourceFile::new(name, text);
    let (body, mut diags) = if name.ends_with(".json") {
        crate::json::parse_json_body(&file)
    } else {
        let p = parse_file(&file);
        (p.body, p.diagnostics)
    };
    let mut m = Module::default();
    let mut dec = Decoder::new(&file);
    dec.file(body, &mut m);
    diags.extend(dec.diags);
    m.files.push(file);
    (m, diags)
}
