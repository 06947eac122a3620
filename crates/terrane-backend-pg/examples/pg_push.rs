//! `state push -force` through the pg backend alone (no CLI): configure,
//! lock, read the stored state, write FILE, unlock; as many times as asked.
//! Prints one line per push: the whole operation's wall time and the
//! write's alone, in milliseconds. Used by `bench/backend-pg.sh`.
//!
//!     pg_push CONN_STR SCHEMA STATE_FILE [REPEAT]

use std::process::ExitCode;
use std::time::Instant;

use terrane_backend_pg::{PgBackend, PgSettings};
use terrane_state::{read, Backend, ReadOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, conn_str, schema, file, rest @ ..] = args.as_slice() else {
        eprintln!("usage: pg_push CONN_STR SCHEMA STATE_FILE [REPEAT]");
        return ExitCode::from(2);
    };
    let repeat: usize = rest.first().and_then(|r| r.parse().ok()).unwrap_or(1);
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let state = match read(&bytes, &ReadOptions::default()) {
        Ok(Some(s)) => s,
        Ok(None) => {
            eprintln!("{file}: empty");
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("{file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    for _ in 0..repeat {
        let start = Instant::now();
        let settings = PgSettings {
            conn_str: conn_str.clone(),
            schema_name: schema.clone(),
            skip_schema_creation: false,
            skip_table_creation: false,
            skip_index_creation: false,
        };
        let result = PgBackend::connect(&settings).and_then(|mut b| {
            let mut mgr = b.state_mgr("default")?;
            let err = |e: &dyn std::fmt::Display| terrane_state::BackendError::new(e.to_string());
            let id = mgr.lock("OperationTypeInvalid", "").map_err(|e| err(&e))?;
            mgr.refresh().map_err(|e| err(&e))?;
            let write_start = Instant::now();
            mgr.write_file(&state, true).map_err(|e| err(&e))?;
            let write_ms = write_start.elapsed().as_secs_f64() * 1000.0;
            mgr.unlock(&id).map_err(|e| err(&e))?;
            Ok(write_ms)
        });
        match result {
            Ok(write_ms) => println!(
                "{:.2} {:.2}",
                start.elapsed().as_secs_f64() * 1000.0,
                write_ms
            ),
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
