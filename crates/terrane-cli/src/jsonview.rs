//! `-json` on `plan`, `apply`, `destroy` and `refresh`: Terraform's
//! machine-readable UI, one JSON object per line on standard output
//! (`@level`, `@message`, `@module`, `@timestamp`, `type` and a payload).

use serde_json::{json, Map, Value as Json};
use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use terrane_core::addrs::{InstanceKey, ResourceInstanceAddr};
use terrane_core::plan::{Action, ActionReason, Plan, ResourceInstanceChange};
use terrane_core::render::format_elapsed;
use terrane_core::walk::ApplyEvent;
use terrane_hcl::Diagnostic;
use terrane_state::State;

/// The version of Terraform's UI message format this view writes.
const UI_VERSION: &str = "0.1.0";

/// An operation in flight.
struct InFlight {
    since: Instant,
    addr: ResourceInstanceAddr,
    action: Action,
    /// Which multiple of 10 s the next `apply_progress` is due at.
    next_tick: u64,
}

/// Writes the JSON UI's messages; shared by the walker's worker threads.
#[derive(Default)]
pub struct JsonView {
    /// Start times of operations in flight, for `apply_errored`'s
    /// elapsed seconds (the engine's failure event carries none).
    /// Also drives `apply_progress` (`progress_ticker`).
    started: Mutex<HashMap<String, InFlight>>,
}

impl JsonView {
    pub fn new() -> JsonView {
        JsonView::default()
    }

    /// Writes one message: the common keys first, in Terraform's
    /// (alphabetical) order, then `payload`'s key and `type`.
    fn emit(&self, level: &str, message: &str, kind: &str, payload: Option<(&str, Json)>) {
        let mut obj = Map::new();
        obj.insert("@level".into(), json!(level));
        obj.insert("@message".into(), json!(message));
        obj.insert("@module".into(), json!("terraform.ui"));
        obj.insert("@timestamp".into(), json!(timestamp()));
        if let Some((key, value)) = payload {
            obj.insert(key.into(), value);
        }
        obj.insert("type".into(), json!(kind));
        let line = Json::Object(obj).to_string();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }

    /// The first line: which Terraform (compatible version) is talking.
    pub fn version(&self) {
        let mut obj = Map::new();
        obj.insert("@level".into(), json!("info"));
        obj.insert("@message".into(), json!("Terraform 1.0.3"));
        obj.insert("@module".into(), json!("terraform.ui"));
        obj.insert("@timestamp".into(), json!(timestamp()));
        obj.insert("terraform".into(), json!("1.0.3"));
        obj.insert("type".into(), json!("version"));
        obj.insert("ui".into(), json!(UI_VERSION));
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", Json::Object(obj));
        let _ = out.flush();
    }

    /// Text `init` prints, as Terraform 1.9+'s `init -json` messages:
    /// its headings and closing notes are `init_output` messages with
    /// their `message_code`, other lines `log` messages; the closing
    /// advice ("You may now begin working ...") is left out, as there.
    pub fn init_text(&self, text: &str) {
        let text = text.trim();
        if text.starts_with("Terraform initialized in an empty directory!") {
            let code = json!("output_init_empty_message");
            self.emit("info", text, "init_output", Some(("message_code", code)));
            return;
        }
        for paragraph in text.split("\n\n") {
            let paragraph = paragraph.trim();
            let code = match paragraph {
                "Initializing the backend..." => Some("initializing_backend_message"),
                "Initializing modules..." => Some("initializing_modules_message"),
                "Upgrading modules..." => Some("upgrading_modules_message"),
                "Initializing provider plugins..." => Some("initializing_provider_plugin_message"),
                "Terraform has been successfully initialized!" => {
                    Some("output_init_success_message")
                }
                p if p.starts_with("Terraform has created a lock file") => Some("lock_info"),
                _ => None,
            };
            if let Some(code) = code {
                self.emit(
                    "info",
                    paragraph,
                    "init_output",
                    Some(("message_code", json!(code))),
                );
            } else if paragraph.starts_with("You may now begin working with Terraform.") {
                // The advice and the note after it.
                break;
            } else {
                for line in paragraph
                    .lines()
                    .map(str::trim_end)
                    .filter(|l| !l.is_empty())
                {
                    self.emit("info", line, "log", None);
                }
            }
        }
    }

    pub fn diagnostic(&self, d: &Diagnostic) {
        let (level, prefix) = if d.is_error() {
            ("error", "Error")
        } else {
            ("warn", "Warning")
        };
        let message = format!("{prefix}: {}", d.summary);
        let mut body = terrane_hcl::render::json(d);
        // Terraform's order: severity, summary, detail, address, range,
        // snippet.
        if let Json::Object(m) = &mut body {
            let mut ordered = Map::new();
            for key in [
                "severity", "summary", "detail", "address", "range", "snippet",
            ] {
                if let Some(v) = m.remove(key) {
                    ordered.insert(key.into(), v);
                }
            }
            body = Json::Object(ordered);
        }
        self.emit(level, &message, "diagnostic", Some(("diagnostic", body)));
    }

    /// One event of the walk (refresh, apply start, completion, failure).
    pub fn event(&self, e: &ApplyEvent) {
        match e {
            ApplyEvent::Refresh { addr, id } => {
                // The engine reports the start of a refresh only; the
                // completion follows it at once (see compatibility.md).
                let hook = id_hook(addr, None, id.as_deref());
                self.emit(
                    "info",
                    &format!("{addr}: Refreshing state...{}", id_suffix(id.as_deref())),
                    "refresh_start",
                    Some(("hook", hook.clone())),
                );
                self.emit(
                    "info",
                    &format!("{addr}: Refresh complete{}", id_suffix(id.as_deref())),
                    "refresh_complete",
                    Some(("hook", hook)),
                );
            }
            ApplyEvent::Start { addr, action, id } => {
                self.started_at(addr, *action);
                let id = match action {
                    Action::Update | Action::Delete => id.as_deref(),
                    _ => None,
                };
                let (verb, _) = verbs(*action);
                self.emit(
                    "info",
                    &format!("{addr}: {verb}{}", id_suffix(id)),
                    "apply_start",
                    Some(("hook", id_hook(addr, Some(*action), id))),
                );
            }
            ApplyEvent::Done {
                addr,
                action,
                elapsed_secs,
                id,
            } => {
                self.finished(addr);
                let id = match action {
                    Action::Delete => None,
                    _ => id.as_deref(),
                };
                let (_, done) = verbs(*action);
                let mut hook = id_hook(addr, Some(*action), id);
                hook["elapsed_seconds"] = json!(elapsed_secs);
                self.emit(
                    "info",
                    &format!(
                        "{addr}: {done} after {}{}",
                        format_elapsed(std::time::Duration::from_secs(*elapsed_secs)),
                        id_suffix(id)
                    ),
                    "apply_complete",
                    Some(("hook", hook)),
                );
            }
            ApplyEvent::Failed { addr, action } => {
                let secs = self.finished(addr);
                let noun = match action {
                    Action::Delete => "Destruction",
                    Action::Update => "Modifications",
                    Action::Read => "Read",
                    _ => "Creation",
                };
                let mut hook = id_hook(addr, Some(*action), None);
                hook["elapsed_seconds"] = json!(secs);
                self.emit(
                    "error",
                    &format!(
                        "{addr}: {noun} errored after {}",
                        format_elapsed(std::time::Duration::from_secs(secs))
                    ),
                    "apply_errored",
                    Some(("hook", hook)),
                );
            }
        }
    }

    fn started_at(&self, addr: &ResourceInstanceAddr, action: Action) {
        let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        let op = InFlight {
            since: Instant::now(),
            addr: addr.clone(),
            action,
            next_tick: 1,
        };
        started.insert(addr.to_string(), op);
    }

    /// Every 10 s of an operation, `apply_progress` (`ADDR: Still
    /// creating... [10s elapsed]`), until `stop`.
    pub fn progress_ticker(&self, stop: &std::sync::atomic::AtomicBool) {
        const EVERY: u64 = 10;
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            std::thread::sleep(std::time::Duration::from_millis(100));
            let mut due = Vec::new();
            {
                let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
                for op in started.values_mut() {
                    if op.since.elapsed().as_secs() >= op.next_tick * EVERY {
                        due.push((op.addr.clone(), op.action, op.next_tick * EVERY));
                        op.next_tick += 1;
                    }
                }
            }
            for (addr, action, secs) in due {
                let still = match action {
                    Action::Delete => "destroying...",
                    Action::Update => "modifying...",
                    Action::Read => "reading...",
                    _ => "creating...",
                };
                let mut hook = id_hook(&addr, Some(action), None);
                hook["elapsed_seconds"] = json!(secs);
                let elapsed = format_elapsed(std::time::Duration::from_secs(secs));
                self.emit(
                    "info",
                    &format!("{addr}: Still {still} [{elapsed} elapsed]"),
                    "apply_progress",
                    Some(("hook", hook)),
                );
            }
        }
    }

    /// Seconds since the operation on `addr` started (0 if unknown).
    fn finished(&self, addr: &ResourceInstanceAddr) -> u64 {
        let mut started = self.started.lock().unwrap_or_else(|p| p.into_inner());
        started
            .remove(&addr.to_string())
            .map(|op| op.since.elapsed().as_secs())
            .unwrap_or(0)
    }

    /// What a plan reports: `resource_drift` (unless destroying),
    /// `planned_change` per change, then `change_summary`.
    pub fn plan(&self, plan: &Plan) {
        if !plan.destroy {
            for c in &plan.drift {
                self.change_message(c, "resource_drift", true);
            }
        }
        self.planned_changes(plan);
        let (add, change, remove) = if plan.refresh_only {
            (0, 0, 0)
        } else {
            plan.counts()
        };
        self.summary_with_imports("plan", plan.imports.len(), add, change, remove);
    }

    /// `planned_change` per change (also what `apply FILE` starts with).
    pub fn planned_changes(&self, plan: &Plan) {
        if !plan.refresh_only {
            for c in &plan.resource_changes {
                let import = plan
                    .imports
                    .iter()
                    .find(|i| i.addr == c.addr && c.deposed.is_none());
                if let (Action::NoOp, Some(i)) = (c.action, import) {
                    // Terraform 1.5+: an import with nothing else to do.
                    let change = json!({
                        "resource": resource(&c.addr),
                        "action": "import",
                        "importing": { "id": i.id },
                    });
                    let message = format!("{}: Plan to import", c.addr);
                    self.emit("info", &message, "planned_change", Some(("change", change)));
                } else if c.action != Action::NoOp {
                    self.change_message(c, "planned_change", false);
                }
            }
            // `removed { lifecycle { destroy = false } }` (Terraform 1.7+).
            for c in &plan.forgotten {
                let change = json!({ "resource": resource(&c.addr), "action": "forget" });
                let message = format!("{}: Plan to forget", c.addr);
                self.emit("info", &message, "planned_change", Some(("change", change)));
            }
        }
    }

    fn change_message(&self, c: &ResourceInstanceChange, kind: &str, drift: bool) {
        let action = action_name(c.action);
        let mut change = json!({
            "resource": resource(&c.addr),
            "action": action,
        });
        if let Some(reason) = reason_name(c.reason) {
            change["reason"] = json!(reason);
        }
        let addr = match &c.deposed {
            Some(key) => format!("{} (deposed object {key})", c.addr),
            None => c.addr.to_string(),
        };
        let message = if drift {
            format!("{addr}: Drift detected ({action})")
        } else {
            let verb = match c.action {
                Action::Create => "create",
                Action::Update => "update",
                Action::Delete => "delete",
                Action::Read => "read",
                Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
                Action::NoOp => "no-op",
            };
            format!("{addr}: Plan to {verb}")
        };
        self.emit("info", &message, kind, Some(("change", change)));
    }

    /// `change_summary` of `operation` (`plan`, `apply`, `destroy`).
    /// With `import` blocks, Terraform 1.5's import count; without imports
    /// exactly Terraform 1.0.3's.
    pub fn summary_with_imports(
        &self,
        operation: &str,
        imports: usize,
        add: usize,
        change: usize,
        remove: usize,
    ) {
        let message = match operation {
            "plan" => format!("Plan: {add} to add, {change} to change, {remove} to destroy."),
            "destroy" => format!("Destroy complete! Resources: {remove} destroyed."),
            _ => format!(
                "Apply complete! Resources: {add} added, {change} changed, {remove} destroyed."
            ),
        };
        let message = if imports == 0 {
            message
        } else {
            message
                .replacen("Plan: ", &format!("Plan: {imports} to import, "), 1)
                .replacen(
                    "Resources: ",
                    &format!("Resources: {imports} imported, "),
                    1,
                )
        };
        let mut changes = json!({
            "add": add,
            "change": change,
            "remove": remove,
            "operation": operation,
        });
        if imports > 0 {
            changes["import"] = json!(imports);
        }
        self.emit(
            "info",
            &message,
            "change_summary",
            Some(("changes", changes)),
        );
    }

    /// `outputs` after an apply, from the new state.
    pub fn outputs(&self, state: &State) {
        let mut outputs = Map::new();
        for (name, o) in &state.outputs {
            let mut entry = Map::new();
            entry.insert("sensitive".into(), json!(o.sensitive));
            let ty: Json = serde_json::from_str(o.ty.as_str()).unwrap_or(Json::Null);
            entry.insert("type".into(), ty);
            // Terraform 1.0.3 writes sensitive values too (the stream is
            // for machines; `sensitive` says how to treat it).
            let value: Json = serde_json::from_str(o.value.as_str()).unwrap_or(Json::Null);
            entry.insert("value".into(), value);
            outputs.insert(name.clone(), Json::Object(entry));
        }
        let message = format!("Outputs: {}", outputs.len());
        self.emit(
            "info",
            &message,
            "outputs",
            Some(("outputs", Json::Object(outputs))),
        );
    }
}

/// `(starting, complete)` wording per action.
fn verbs(action: Action) -> (&'static str, &'static str) {
    match action {
        Action::Delete => ("Destroying...", "Destruction complete"),
        Action::Update => ("Modifying...", "Modifications complete"),
        Action::Read => ("Reading...", "Read complete"),
        _ => ("Creating...", "Creation complete"),
    }
}

fn id_suffix(id: Option<&str>) -> String {
    match id {
        Some(id) if !id.is_empty() => format!(" [id={id}]"),
        _ => String::new(),
    }
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::NoOp => "noop",
        Action::Create => "create",
        Action::Read => "read",
        Action::Update => "update",
        Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
        Action::Delete => "delete",
    }
}

fn reason_name(reason: ActionReason) -> Option<&'static str> {
    Some(match reason {
        ActionReason::None => return None,
        ActionReason::ReplaceBecauseTainted => "tainted",
        ActionReason::ReplaceByRequest => "requested",
        ActionReason::ReplaceBecauseCannotUpdate => "cannot_update",
        ActionReason::ReplaceByTriggers => "replace_by_triggers",
        ActionReason::DeleteBecauseNoResourceConfig => "delete_because_no_resource_config",
        ActionReason::DeleteBecauseCountIndex => "delete_because_count_index",
        ActionReason::DeleteBecauseEachKey => "delete_because_each_key",
        ActionReason::DeleteBecauseNoModule => "delete_because_no_module",
        ActionReason::ReadBecauseConfigUnknown => "read_because_config_unknown",
    })
}

/// A hook payload: the resource, the action (if any) and the id.
fn id_hook(addr: &ResourceInstanceAddr, action: Option<Action>, id: Option<&str>) -> Json {
    let mut hook = json!({ "resource": resource(addr) });
    if let Some(a) = action {
        hook["action"] = json!(action_name(a));
    }
    if let Some(id) = id.filter(|s| !s.is_empty()) {
        hook["id_key"] = json!("id");
        hook["id_value"] = json!(id);
    }
    hook
}

/// The `resource` object of a change or hook.
pub fn resource(addr: &ResourceInstanceAddr) -> Json {
    let res = &addr.resource;
    let module = if res.module.is_root() {
        String::new()
    } else {
        res.module.to_string()
    };
    let full = addr.to_string();
    let local = match full.strip_prefix(&format!("{module}.")) {
        Some(rest) if !module.is_empty() => rest.to_string(),
        _ => full.clone(),
    };
    let implied = res
        .type_name
        .split('_')
        .next()
        .unwrap_or(&res.type_name)
        .to_string();
    let key = match &addr.key {
        InstanceKey::None => Json::Null,
        InstanceKey::Int(i) => json!(i),
        InstanceKey::Str(s) => json!(s),
    };
    json!({
        "addr": full,
        "module": module,
        "resource": local,
        "implied_provider": implied,
        "resource_type": res.type_name,
        "resource_name": res.name,
        "resource_key": key,
    })
}

/// Now in RFC 3339 with microseconds and the local offset, as
/// Terraform writes it (`2021-07-28T12:00:00.123456+02:00`, `Z` in UTC).
fn timestamp() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    format_timestamp(secs, now.subsec_micros(), local_offset_secs(secs))
}

/// The local time zone's offset from UTC at `secs`, in seconds.
fn local_offset_secs(secs: i64) -> i64 {
    let t = secs as libc::time_t;
    // SAFETY: localtime_r only reads `t` and writes the `tm` we own.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = unsafe { !libc::localtime_r(&t, &mut tm).is_null() };
    if ok {
        tm.tm_gmtoff as i64
    } else {
        0
    }
}

fn format_timestamp(utc_secs: i64, micros: u32, offset: i64) -> String {
    let local = utc_secs + offset;
    let days = local.div_euclid(86_400);
    let rem = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let zone = if offset == 0 {
        "Z".to_string()
    } else {
        let sign = if offset < 0 { '-' } else { '+' };
        let abs = offset.abs();
        format!("{sign}{:02}:{:02}", abs / 3600, (abs % 3600) / 60)
    };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}{zone}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// What `-json` among a plan/apply command's arguments asks for.
pub enum JsonArgs {
    /// No `-json`: text as usual.
    Text,
    /// The other arguments (with `-input=false`) and a UI that writes JSON.
    Json(Vec<String>, crate::ui::Ui),
    /// Refused (the diagnostic is written): exit with 1.
    Refused,
}

/// Looks for `-json` among a plan/apply command's `args` and, when
/// present, writes the `version` line. `-json` implies `-input=false`, so
/// when `needs_approval` (apply, destroy) the command needs
/// `-auto-approve` or a saved plan; Terraform's error otherwise, as a
/// JSON diagnostic.
pub fn take_json_flag(args: &[String], ui: &crate::ui::Ui, needs_approval: bool) -> JsonArgs {
    let is_json = |a: &String| a == "-json" || a == "--json" || a == "-json=true";
    if !args.iter().any(is_json) {
        return JsonArgs::Text;
    }
    let mut rest: Vec<String> = args.iter().filter(|a| !is_json(a)).cloned().collect();
    rest.push("-input=false".into());
    let view = std::sync::Arc::new(JsonView::new());
    view.version();
    let json_ui = crate::ui::Ui {
        color: false,
        width: ui.width,
        json: Some(view),
        shown_errors: ui.shown_errors.clone(),
    };
    let approved = rest
        .iter()
        .any(|a| a == "-auto-approve" || a == "--auto-approve" || a == "-auto-approve=true");
    // A positional argument is a saved plan file, which needs no approval.
    if needs_approval && !approved && positional_args(&rest) == 0 {
        json_ui.diagnostics([&Diagnostic::error(
            "Plan file or auto-approve required",
            "Terraform cannot ask for interactive approval when -json is set. You can either apply a saved plan file, or enable the -auto-approve option.",
        )]);
        return JsonArgs::Refused;
    }
    JsonArgs::Json(rest, json_ui)
}

/// How many positional arguments (a saved plan file) `args` holds: flags
/// that take a value may have it as the next argument.
fn positional_args(args: &[String]) -> usize {
    const WITH_VALUE: [&str; 10] = [
        "var",
        "var-file",
        "state",
        "state-out",
        "backup",
        "replace",
        "target",
        "parallelism",
        "lock-timeout",
        "out",
    ];
    let mut count = 0;
    let mut iter = args.iter();
    while let Some(a) = iter.next() {
        match a.strip_prefix("--").or_else(|| a.strip_prefix('-')) {
            Some(flag) if WITH_VALUE.contains(&flag) => {
                iter.next();
            }
            Some(_) => {}
            None => count += 1,
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn plan_file_is_the_only_positional_argument() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            super::positional_args(&args(&["-var", "v=3", "-input=false"])),
            0
        );
        assert_eq!(super::positional_args(&args(&["-var=v=3", "tfplan"])), 1);
        assert_eq!(
            super::positional_args(&args(&["-target", "a.b", "-lock=false"])),
            0
        );
    }

    #[test]
    fn timestamps_in_rfc3339_with_offset() {
        let t = 1_627_466_400; // 2021-07-28T10:00:00Z
        assert_eq!(
            super::format_timestamp(t, 42, 0),
            "2021-07-28T10:00:00.000042Z"
        );
        assert_eq!(
            super::format_timestamp(t, 123_456, 7200),
            "2021-07-28T12:00:00.123456+02:00"
        );
        assert_eq!(
            super::format_timestamp(t, 0, -(9 * 3600 + 1800)),
            "2021-07-28T00:30:00.000000-09:30"
        );
    }

    #[test]
    fn dates_from_day_counts() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(18_836), (2021, 7, 28));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
