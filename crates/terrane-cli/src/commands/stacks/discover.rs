//! Finding the stacks (root modules) under a directory, what each one's
//! state is, and the dependencies between them: `terraform_remote_state`
//! data sources that read another stack's state, and `depends_on` entries
//! of `stack` blocks in the project file (`terrane.hcl`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use terrane_config::model::{Module, ModuleSource};
use terrane_hcl::ast::{Body, Expr, ExprKind};
use terrane_hcl::Diagnostic;

/// The project file at the repository root.
pub const PROJECT_FILE: &str = "terrane.hcl";

/// One root module.
#[derive(Debug, Clone)]
pub struct Stack {
    /// The path relative to the repository root, with `/` separators
    /// (`.` for the root itself).
    pub name: String,
    /// The absolute, normalised directory.
    pub dir: PathBuf,
    /// Where its state lives (see [`StateKey`]).
    pub state: StateKey,
    /// Names of the stacks it depends on.
    pub depends_on: BTreeSet<String>,
    /// Directories of the local modules it calls, transitively.
    pub module_dirs: BTreeSet<PathBuf>,
}

/// The identity of a stack's state, to match `terraform_remote_state`
/// configurations against.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum StateKey {
    /// A local state file (absolute, normalised).
    Local(PathBuf),
    S3 {
        bucket: String,
        key: String,
    },
    Pg {
        conn_str: String,
        schema: String,
    },
    Http {
        address: String,
    },
    /// A backend whose configuration is not written out literally.
    Unknown,
}

impl StateKey {
    /// A short description for `stacks list -json`.
    pub fn describe(&self) -> String {
        match self {
            StateKey::Local(p) => format!("local:{}", p.display()),
            StateKey::S3 { bucket, key } => format!("s3://{bucket}/{key}"),
            StateKey::Pg { schema, .. } => format!("pg:{schema}"),
            StateKey::Http { address } => format!("http:{address}"),
            StateKey::Unknown => "unknown".to_string(),
        }
    }
}

/// The repository root: `git rev-parse --show-toplevel` from `dir`, else
/// `dir` itself.
pub fn repository_root(dir: &Path) -> PathBuf {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout).trim().to_string();
            if text.is_empty() {
                dir.to_path_buf()
            } else {
                PathBuf::from(text)
            }
        }
        _ => dir.to_path_buf(),
    }
}

/// The directory of the project file for `start`: the first directory
/// holding `terrane.hcl` walking up from `start`, stopping at the git
/// root (a directory holding `.git`); without one, the git root, else
/// `start`. Stack paths are relative to it.
pub fn project_root(start: &Path) -> PathBuf {
    for dir in start.ancestors() {
        if dir.join(PROJECT_FILE).is_file() {
            return dir.to_path_buf();
        }
        if dir.join(".git").exists() {
            return dir.to_path_buf();
        }
    }
    repository_root(start)
}

/// `a/./b/../c` → `a/c` without touching the file system (the paths may
/// not exist yet, as a state file before the first apply).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What the project file says about stacks.
#[derive(Debug, Default)]
pub struct ProjectStacks {
    /// `stack "PATH" { depends_on = [...] }`: the normalised directory and
    /// the normalised directories it depends on.
    pub stacks: Vec<(PathBuf, Vec<PathBuf>)>,
}

/// Reads the `stack` blocks of `root/terrane.hcl` (absent file: none).
/// Other blocks (`notify`, `inventory`) belong to other commands.
pub fn read_project_stacks(root: &Path) -> Result<ProjectStacks, Diagnostic> {
    let mut out = ProjectStacks::default();
    let Some(body) = read_project_file(root)? else {
        return Ok(out);
    };
    for block in body.blocks() {
        if block.ident.as_str() != "stack" {
            continue;
        }
        let Some(label) = block.labels.first() else {
            return Err(Diagnostic::error(
                "Missing stack path",
                format!("A stack block in {PROJECT_FILE} needs the stack's directory as its label, relative to the repository root: stack \"network\" {{ ... }}."),
            ));
        };
        let dir = normalize(&root.join(label.value.as_ref()));
        let mut deps = Vec::new();
        if let Some(attr) = block.body.attribute("depends_on") {
            let Some(list) = static_json(&attr.expr).and_then(|v| match v {
                serde_json::Value::Array(items) => items
                    .into_iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<String>>>(),
                _ => None,
            }) else {
                return Err(Diagnostic::error(
                    "Invalid depends_on",
                    format!("depends_on of stack {:?} in {PROJECT_FILE} must be a list of directory strings, relative to the stack: depends_on = [\"../network\"].", label.value),
                ));
            };
            for d in list {
                deps.push(normalize(&dir.join(d)));
            }
        }
        out.stacks.push((dir, deps));
    }
    Ok(out)
}

/// The parsed project file, or `None` when there is none.
pub fn read_project_file(root: &Path) -> Result<Option<Body>, Diagnostic> {
    let path = root.join(PROJECT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Diagnostic::error(
                "Failed to read the project file",
                format!("Cannot read {}: {e}", path.display()),
            ))
        }
    };
    let file = terrane_hcl::SourceFile::new(path.display().to_string(), text);
    let parsed = terrane_hcl::parser::parse_file(&file);
    if let Some(d) = parsed.diagnostics.iter().find(|d| d.is_error()) {
        return Err(d.clone());
    }
    Ok(Some(parsed.body))
}

/// A literal expression (strings, numbers, bools, null, lists, objects
/// with literal keys) as JSON; `None` for anything that needs evaluation.
pub fn static_json(e: &Expr) -> Option<serde_json::Value> {
    use serde_json::Value as J;
    match &e.kind {
        ExprKind::Template { .. } => terrane_config::literal_string(e).map(J::String),
        ExprKind::Number(n) => serde_json::from_str(n).ok(),
        ExprKind::Bool(b) => Some(J::Bool(*b)),
        ExprKind::Null => Some(J::Null),
        ExprKind::Parens(x) | ExprKind::TemplateWrap(x) => static_json(x),
        ExprKind::Tuple(items) => items
            .iter()
            .map(static_json)
            .collect::<Option<_>>()
            .map(J::Array),
        ExprKind::Object(items) => {
            let mut map = serde_json::Map::new();
            for item in items {
                let key = match &item.key.kind {
                    ExprKind::Traversal { root, steps }
                        if steps.is_empty() && !item.key_forced_expr =>
                    {
                        root.as_str().to_string()
                    }
                    _ => static_json(&item.key)?.as_str()?.to_string(),
                };
                map.insert(key, static_json(&item.value)?);
            }
            Some(J::Object(map))
        }
        _ => None,
    }
}

/// The literal string attributes of a body.
fn literal_attrs(body: &Body) -> BTreeMap<String, String> {
    body.attributes()
        .filter_map(|a| {
            let v = static_json(&a.expr)?;
            Some((a.name.as_str().to_string(), v.as_str()?.to_string()))
        })
        .collect()
}

/// The state identity a backend configuration names (`dir` resolves a
/// local path).
fn state_key(kind: &str, attrs: &BTreeMap<String, String>, dir: &Path) -> StateKey {
    let get = |k: &str| attrs.get(k).cloned();
    match kind {
        "local" => StateKey::Local(normalize(
            &dir.join(get("path").unwrap_or_else(|| "terraform.tfstate".into())),
        )),
        "s3" => match (get("bucket"), get("key")) {
            (Some(bucket), Some(key)) => StateKey::S3 { bucket, key },
            _ => StateKey::Unknown,
        },
        "pg" => match get("conn_str") {
            Some(conn_str) => StateKey::Pg {
                conn_str,
                schema: get("schema_name").unwrap_or_else(|| "terraform_remote_state".into()),
            },
            None => StateKey::Unknown,
        },
        "http" => match get("address") {
            Some(address) => StateKey::Http { address },
            None => StateKey::Unknown,
        },
        _ => StateKey::Unknown,
    }
}

/// The states a module's `terraform_remote_state` data sources read
/// (those written out literally).
fn remote_state_reads(module: &Module) -> Vec<StateKey> {
    let mut out = Vec::new();
    for r in module.data_resources.values() {
        if r.type_name != "terraform_remote_state" {
            continue;
        }
        let body = &r.config.body;
        let Some(kind) = body
            .attribute("backend")
            .and_then(|a| static_json(&a.expr))
            .and_then(|v| v.as_str().map(str::to_string))
        else {
            continue;
        };
        let config = body
            .attribute("config")
            .and_then(|a| static_json(&a.expr))
            .and_then(|v| match v {
                serde_json::Value::Object(m) => Some(
                    m.into_iter()
                        .filter_map(|(k, v)| Some((k, v.as_str()?.to_string())))
                        .collect::<BTreeMap<_, _>>(),
                ),
                _ => None,
            })
            .unwrap_or_default();
        let key = state_key(&kind, &config, &module.dir);
        if key != StateKey::Unknown {
            out.push(key);
        }
    }
    out
}

/// Whether a directory holds configuration files.
fn has_config_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                (name.ends_with(".tf") || name.ends_with(".tf.json"))
                    && e.file_type().map(|t| t.is_file()).unwrap_or(false)
            })
        })
        .unwrap_or(false)
}

/// Every directory under `dir` with configuration files, skipping hidden
/// directories (`.terraform`, `.git`).
fn config_dirs(dir: &Path, out: &mut Vec<PathBuf>) {
    if has_config_files(dir) {
        out.push(dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for d in subdirs {
        config_dirs(&d, out);
    }
}

/// A loaded directory: what the stack logic needs of it.
struct Loaded {
    is_root_like: bool,
    state: StateKey,
    local_calls: Vec<PathBuf>,
    reads: Vec<StateKey>,
}

fn load(dir: &Path) -> Loaded {
    // Decoding errors are the stack's own business: its run reports them.
    let (module, _diags) = terrane_config::load_module(dir, "");
    let t = &module.terraform;
    let is_root_like =
        t.backend.is_some() || !module.providers.is_empty() || !t.required_providers.is_empty();
    let state = match &t.backend {
        Some(b) => state_key(&b.kind, &literal_attrs(&b.config.body), dir),
        None => state_key("local", &BTreeMap::new(), dir),
    };
    let local_calls = module
        .module_calls
        .values()
        .filter_map(|c| match &c.source {
            Some(ModuleSource::Local(s)) => Some(normalize(&dir.join(s))),
            _ => None,
        })
        .collect();
    Loaded {
        is_root_like,
        state,
        local_calls,
        reads: remote_state_reads(&module),
    }
}

/// The name of `dir` relative to `root`.
pub fn stack_name(root: &Path, dir: &Path) -> String {
    match dir.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => dir.display().to_string(),
    }
}

/// Finds the stacks under `scan` (names relative to `root`) with their
/// dependencies. Errors: a bad project file, a `depends_on` naming no
/// stack.
pub fn discover(root: &Path, scan: &Path) -> Result<Vec<Stack>, Diagnostic> {
    let project = read_project_stacks(root)?;
    let mut dirs = Vec::new();
    config_dirs(scan, &mut dirs);
    let mut loaded: BTreeMap<PathBuf, Arc<Loaded>> = BTreeMap::new();
    for d in &dirs {
        loaded.insert(normalize(d), Arc::new(load(d)));
    }
    // Directories some other module calls are modules, not stacks.
    let called: BTreeSet<PathBuf> = loaded
        .values()
        .flat_map(|l| l.local_calls.iter().cloned())
        .collect();
    let listed: BTreeSet<PathBuf> = project.stacks.iter().map(|(d, _)| d.clone()).collect();
    let mut roots: BTreeSet<PathBuf> = loaded
        .iter()
        .filter(|(d, l)| l.is_root_like && !called.contains(*d))
        .map(|(d, _)| d.clone())
        .collect();
    for d in &listed {
        if d.starts_with(normalize(scan)) {
            if !loaded.contains_key(d) {
                if !d.is_dir() {
                    return Err(Diagnostic::error(
                        "Stack directory not found",
                        format!(
                            "{PROJECT_FILE} lists the stack {:?}, but {} is not a directory. Fix the path (relative to the repository root) or remove the block.",
                            stack_name(root, d),
                            d.display()
                        ),
                    ));
                }
                loaded.insert(d.clone(), Arc::new(load(d)));
            }
            roots.insert(d.clone());
        }
    }
    let by_state: BTreeMap<StateKey, PathBuf> = roots
        .iter()
        .filter_map(|d| {
            let s = loaded.get(d)?.state.clone();
            (s != StateKey::Unknown).then_some((s, d.clone()))
        })
        .collect();
    let mut stacks = Vec::new();
    for d in &roots {
        let Some(l) = loaded.get(d).cloned() else {
            continue;
        };
        let mut depends_on = BTreeSet::new();
        for read in &l.reads {
            if let Some(other) = by_state.get(read) {
                if other != d {
                    depends_on.insert(stack_name(root, other));
                }
            }
        }
        // Local modules, transitively (their remote state reads count too).
        let mut module_dirs = BTreeSet::new();
        let mut queue: Vec<PathBuf> = l.local_calls.clone();
        while let Some(m) = queue.pop() {
            if !module_dirs.insert(m.clone()) {
                continue;
            }
            let child = match loaded.get(&m) {
                Some(c) => c.clone(),
                None => {
                    let c = Arc::new(load(&m));
                    loaded.insert(m.clone(), c.clone());
                    c
                }
            };
            for read in &child.reads {
                if let Some(other) = by_state.get(read) {
                    if other != d {
                        depends_on.insert(stack_name(root, other));
                    }
                }
            }
            queue.extend(child.local_calls.iter().cloned());
        }
        stacks.push(Stack {
            name: stack_name(root, d),
            dir: d.clone(),
            state: l.state.clone(),
            depends_on,
            module_dirs,
        });
    }
    for (dir, deps) in &project.stacks {
        let Some(stack) = stacks.iter_mut().find(|s| &s.dir == dir) else {
            continue;
        };
        for dep in deps {
            if !roots.contains(dep) {
                return Err(Diagnostic::error(
                    "Unknown stack in depends_on",
                    format!(
                        "The stack {:?} in {PROJECT_FILE} depends on {:?}, which is not a stack under {}. Paths in depends_on are relative to the stack's directory.",
                        stack.name,
                        stack_name(root, dep),
                        scan.display()
                    ),
                ));
            }
            if dep != dir {
                stack.depends_on.insert(stack_name(root, dep));
            }
        }
    }
    Ok(stacks)
}

/// The stacks in an order where each comes after those it depends on
/// (alphabetical among the ready ones), or the error naming a cycle.
pub fn order(stacks: &[Stack]) -> Result<Vec<usize>, Diagnostic> {
    let index: BTreeMap<&str, usize> = stacks
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let mut done = vec![false; stacks.len()];
    let mut out = Vec::new();
    while out.len() < stacks.len() {
        let ready: Vec<usize> = (0..stacks.len())
            .filter(|&i| !done[i])
            .filter(|&i| {
                stacks[i]
                    .depends_on
                    .iter()
                    .all(|d| index.get(d.as_str()).map(|&j| done[j]).unwrap_or(true))
            })
            .collect();
        if ready.is_empty() {
            return Err(cycle_error(stacks, &index, &done));
        }
        for i in ready {
            done[i] = true;
            out.push(i);
        }
    }
    Ok(out)
}

/// Follows dependencies from the alphabetically first unfinished stack
/// until one repeats: that loop is the cycle.
fn cycle_error(stacks: &[Stack], index: &BTreeMap<&str, usize>, done: &[bool]) -> Diagnostic {
    let Some(mut at) = (0..stacks.len()).find(|&i| !done[i]) else {
        return Diagnostic::error("Cycle in stack dependencies", "");
    };
    let mut path: Vec<usize> = Vec::new();
    loop {
        if let Some(pos) = path.iter().position(|&p| p == at) {
            let mut names: Vec<&str> = path[pos..]
                .iter()
                .map(|&i| stacks[i].name.as_str())
                .collect();
            names.push(stacks[at].name.as_str());
            return Diagnostic::error(
                "Cycle in stack dependencies",
                format!(
                    "The stacks depend on each other in a loop: {}. Remove one of these dependencies (a terraform_remote_state data source or a depends_on entry in {PROJECT_FILE}).",
                    names.join(" -> ")
                ),
            );
        }
        path.push(at);
        let next = stacks[at]
            .depends_on
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .find(|&j| !done[j]);
        match next {
            Some(j) => at = j,
            None => return Diagnostic::error("Cycle in stack dependencies", ""),
        }
    }
}

/// The stacks whose directory or local modules hold one of `changed`
/// (absolute paths). A file belongs to the deepest stack directory that
/// contains it.
pub fn changed_stacks(stacks: &[Stack], changed: &[PathBuf]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for file in changed {
        let owner = stacks
            .iter()
            .filter(|s| file.starts_with(&s.dir))
            .max_by_key(|s| s.dir.components().count());
        if let Some(s) = owner {
            out.insert(s.name.clone());
        }
        for s in stacks {
            if s.module_dirs.iter().any(|m| file.starts_with(m)) {
                out.insert(s.name.clone());
            }
        }
    }
    out
}

/// `names` plus every stack that depends on one of them, transitively.
pub fn with_dependents(stacks: &[Stack], names: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = names.clone();
    loop {
        let before = out.len();
        for s in stacks {
            if s.depends_on.iter().any(|d| out.contains(d)) {
                out.insert(s.name.clone());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// The files changed since `git_ref` (`git diff --name-only REF`: committed
/// and uncommitted changes of tracked files), as absolute paths.
pub fn git_changed_files(root: &Path, git_ref: &str) -> Result<Vec<PathBuf>, Diagnostic> {
    let run = |args: &[&str]| -> Result<String, Diagnostic> {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .map_err(|e| {
                Diagnostic::error(
                    "Cannot run git",
                    format!("-changed-since needs git on PATH: {e}"),
                )
            })?;
        if !out.status.success() {
            return Err(Diagnostic::error(
                "Cannot list changed files",
                format!(
                    "git {} failed: {}Check that {git_ref:?} is a commit, branch or tag of the repository at {}.",
                    args.join(" "),
                    String::from_utf8_lossy(&out.stderr),
                    root.display()
                ),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let text = run(&["diff", "--name-only", git_ref, "--"])?;
    // git prints paths relative to the top of the work tree, which may be
    // above the project root.
    let top = repository_root(root);
    let top = top.canonicalize().unwrap_or(top);
    Ok(text
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| normalize(&top.join(l)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn remote_state_of_s3_pg_and_http_backends_and_modules_make_dependencies() {
        let root = std::env::temp_dir().join(format!("terrane-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        write(
            &root.join("net/main.tf"),
            "terraform {\n  backend \"s3\" {\n    bucket = \"st\"\n    key    = \"net.tfstate\"\n  }\n}\n",
        );
        write(
            &root.join("db/main.tf"),
            "terraform {\n  backend \"pg\" {\n    conn_str = \"postgres://x/db\"\n  }\n}\n",
        );
        write(
            &root.join("app/main.tf"),
            "terraform {\n  backend \"http\" {\n    address = \"http://h/app\"\n  }\n}\n\
             data \"terraform_remote_state\" \"net\" {\n  backend = \"s3\"\n  config = {\n    bucket = \"st\"\n    key    = \"net.tfstate\"\n  }\n}\n\
             module \"m\" {\n  source = \"../modules/m\"\n}\n",
        );
        // The module reads db's state: app depends on db through it.
        write(
            &root.join("modules/m/main.tf"),
            "provider \"null\" {}\n\
             data \"terraform_remote_state\" \"db\" {\n  backend = \"pg\"\n  config = { conn_str = \"postgres://x/db\" }\n}\n",
        );
        write(
            &root.join("edge/main.tf"),
            "provider \"null\" {}\n\
             data \"terraform_remote_state\" \"app\" {\n  backend = \"http\"\n  config = { address = \"http://h/app\" }\n}\n\
             data \"terraform_remote_state\" \"other\" {\n  backend = \"s3\"\n  config = { bucket = \"st\", key = \"unknown\" }\n}\n",
        );
        let stacks = discover(&root, &root).expect("discover");
        let names: Vec<&str> = stacks.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["app", "db", "edge", "net"],
            "modules/m is called, so not a stack"
        );
        let deps = |n: &str| -> Vec<String> {
            stacks
                .iter()
                .find(|s| s.name == n)
                .map(|s| s.depends_on.iter().cloned().collect())
                .unwrap_or_default()
        };
        assert_eq!(deps("app"), ["db", "net"]);
        assert_eq!(deps("edge"), ["app"]);
        let order: Vec<&str> = order(&stacks)
            .expect("no cycle")
            .into_iter()
            .map(|i| stacks[i].name.as_str())
            .collect();
        assert_eq!(order, ["db", "net", "app", "edge"]);
        let changed = changed_stacks(&stacks, &[root.join("modules/m/main.tf")]);
        assert_eq!(changed, BTreeSet::from(["app".to_string()]));
        assert_eq!(
            with_dependents(&stacks, &changed),
            BTreeSet::from(["app".to_string(), "edge".to_string()])
        );
        let _ = std::fs::remove_dir_all(&root);
    }
}
