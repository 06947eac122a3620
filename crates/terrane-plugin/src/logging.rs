//! Provider output: what a plugin writes on stderr (and on stdout after the
//! handshake) is kept in a short tail for error messages and, when
//! `TF_LOG_PROVIDER` or `TF_LOG` asks for it, written to the log
//! (`TF_LOG_PATH`, else stderr) as Terraform does.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::sync::Mutex;

/// Log levels, most verbose first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// TRACE
    Trace,
    /// DEBUG
    Debug,
    /// INFO
    Info,
    /// WARN
    Warn,
    /// ERROR
    Error,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "TRACE" | "JSON" => Level::Trace,
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARN" | "WARNING" => Level::Warn,
            "ERROR" => Level::Error,
            _ => return None,
        })
    }

    /// The level's name (`"TRACE"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Level::Trace => "TRACE",
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// Where provider log lines go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogConfig {
    /// Minimum level written; `None` writes nothing.
    pub level: Option<Level>,
    /// File to append to (`TF_LOG_PATH`); `None` means stderr.
    pub path: Option<std::path::PathBuf>,
}

impl LogConfig {
    /// From the environment: `TF_LOG_PROVIDER`, else `TF_LOG` (an unknown
    /// non-empty level means TRACE, `off` means nothing), and `TF_LOG_PATH`.
    pub fn from_env() -> LogConfig {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let level = get("TF_LOG_PROVIDER")
            .or_else(|| get("TF_LOG"))
            .and_then(|v| {
                if v.eq_ignore_ascii_case("off") {
                    None
                } else {
                    Some(Level::parse(&v).unwrap_or(Level::Trace))
                }
            });
        LogConfig {
            level,
            path: get("TF_LOG_PATH").map(Into::into),
        }
    }
}

const TAIL_LINES: usize = 200;

/// Collects one plugin's output.
pub(crate) struct PluginLog {
    name: String,
    level: Option<Level>,
    file: Option<Mutex<File>>,
    tail: Mutex<VecDeque<String>>,
}

impl PluginLog {
    pub(crate) fn new(name: &str, cfg: &LogConfig) -> PluginLog {
        let file = match (&cfg.level, &cfg.path) {
            (Some(_), Some(p)) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
                .map(Mutex::new),
            _ => None,
        };
        PluginLog {
            name: name.to_string(),
            level: cfg.level,
            file,
            tail: Mutex::new(VecDeque::new()),
        }
    }

    /// Records one line of plugin output.
    pub(crate) fn line(&self, line: &str) {
        let line = line.trim_end_matches(['\r', '\n']);
        if let Ok(mut t) = self.tail.lock() {
            if t.len() == TAIL_LINES {
                t.pop_front();
            }
            t.push_back(line.to_string());
        }
        let Some(min) = self.level else { return };
        let (level, text) = format_line(line);
        if level < min {
            return;
        }
        let out = format!("[{}] provider.{}: {}\n", level.name(), self.name, text);
        match &self.file {
            Some(f) => {
                if let Ok(mut f) = f.lock() {
                    let _ = f.write_all(out.as_bytes());
                }
            }
            None => {
                let _ = std::io::stderr().write_all(out.as_bytes());
            }
        }
    }

    /// The interesting end of the output for an error message: from the
    /// last `panic:` line if there is one, else the last few lines.
    pub(crate) fn crash_excerpt(&self) -> String {
        let Ok(t) = self.tail.lock() else {
            return String::new();
        };
        let lines: Vec<&String> = t.iter().collect();
        let start = lines
            .iter()
            .rposition(|l| l.starts_with("panic:") || l.contains("fatal error:"))
            .unwrap_or_else(|| lines.len().saturating_sub(10));
        lines[start..]
            .iter()
            .map(|l| display_line(l))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// A JSON (hclog) line as `message: k=v ...`, other lines as they are.
fn display_line(line: &str) -> String {
    format_line(line).1
}

/// The level and text of one output line. hclog JSON lines carry
/// `@level` and `@message`; plain lines may start with `[LEVEL]`; anything
/// else counts as DEBUG, as go-plugin treats it.
fn format_line(line: &str) -> (Level, String) {
    if line.starts_with('{') {
        if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(line) {
            let level = m
                .get("@level")
                .and_then(|v| v.as_str())
                .and_then(Level::parse)
                .unwrap_or(Level::Debug);
            let mut text = m
                .get("@message")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string();
            let mut first = true;
            for (k, v) in &m {
                if k.starts_with('@') {
                    continue;
                }
                text.push_str(if first { ": " } else { " " });
                first = false;
                match v {
                    serde_json::Value::String(s) => text.push_str(&format!("{k}={s}")),
                    other => text.push_str(&format!("{k}={other}")),
                }
            }
            return (level, text);
        }
    }
    if let Some(rest) = line.strip_prefix('[') {
        if let Some((lvl, text)) = rest.split_once(']') {
            if let Some(level) = Level::parse(lvl) {
                return (level, text.trim_start().to_string());
            }
        }
    }
    (Level::Debug, line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_hclog_json() {
        let (l, t) = format_line(
            r#"{"@level":"info","@message":"plugin address","@timestamp":"x","address":"/tmp/p","network":"unix"}"#,
        );
        assert_eq!(l, Level::Info);
        assert_eq!(t, "plugin address: address=/tmp/p network=unix");
        assert_eq!(format_line("[WARN] careful").0, Level::Warn);
        assert_eq!(format_line("panic: boom").0, Level::Debug);
    }

    #[test]
    fn crash_excerpt_starts_at_panic() {
        let log = PluginLog::new("p", &LogConfig::default());
        for l in [
            "a",
            "b",
            "panic: boom",
            "goroutine 1 [running]:",
            "main.main()",
        ] {
            log.line(l);
        }
        assert_eq!(
            log.crash_excerpt(),
            "panic: boom\ngoroutine 1 [running]:\nmain.main()"
        );
    }
}
