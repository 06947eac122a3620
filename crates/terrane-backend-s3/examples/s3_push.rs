//! `state push -force` through the s3 backend, as one process: configure
//! the backend, lock, read, write the given state file, unlock. Used by
//! bench/backend-s3.sh to compare save latency with `terraform state push`.
//!
//! Usage: s3_push STATE_FILE KEY=VALUE...  (backend arguments; `true` and
//! `false` are booleans). Prints the milliseconds of lock+read+write+unlock
//! on stderr.

use std::time::Instant;

use terrane_state::backend::BackendConfig;
use terrane_state::{read, ReadOptions};

fn main() {
    if let Err(e) = run() {
        eprintln!("s3_push: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: s3_push STATE_FILE KEY=VALUE...")?;
    let mut config = BackendConfig::new();
    for pair in args {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("not KEY=VALUE: {pair}"))?;
        let value = match v {
            "true" => serde_json::Value::Bool(true),
            "false" => serde_json::Value::Bool(false),
            _ => serde_json::Value::String(v.to_string()),
        };
        config.insert(k.to_string(), value);
    }
    let bytes = std::fs::read(&path).map_err(|e| format!("{path}: {e}"))?;
    let file = read(&bytes, &ReadOptions::default())
        .map_err(|e| format!("{path}: {e:?}"))?
        .ok_or_else(|| format!("{path}: no state"))?;
    let mut backend = (terrane_backend_s3::BACKEND.configure)(&config).map_err(|e| e.message)?;
    let mut mgr = backend.state_mgr("default").map_err(|e| e.message)?;
    let started = Instant::now();
    let id = mgr
        .lock("OperationTypeInvalid", "")
        .map_err(|e| e.to_string())?;
    mgr.refresh().map_err(|e| e.to_string())?;
    let written = mgr
        .write_file(&file, true)
        .map(|_| ())
        .map_err(|e| e.to_string());
    mgr.unlock(&id).map_err(|e| e.to_string())?;
    written?;
    eprintln!("{}", started.elapsed().as_millis());
    Ok(())
}
