//! Plugin client benchmark: start-up (spawn → handshake → first
//! GetProviderSchema), one PlanResourceChange round trip, and calls/s one
//! provider process sustains under 1, 4, 16 and 64 concurrent callers.
//!
//! Usage: plugin-bench NAME=PATH... (e.g.
//! `null=/tmp/.../terraform-provider-null_v2.1.2_x4`); see ../plugin.sh.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use terrane_plugin::*;
use terrane_value::{Type, Value};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn start(name: &str, path: &str) -> GrpcProvider {
    let cfg = PluginConfig::new(format!("bench/{name}"), path);
    match GrpcProvider::start(cfg) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot start {name}: {e}");
            std::process::exit(1);
        }
    }
}

/// A create plan for the provider's first resource type: every attribute
/// null except required strings/numbers, which get a small value.
fn plan_request(schema: &ProviderSchema, prefer: &str) -> Option<PlanResourceChangeRequest> {
    let (type_name, s) = schema
        .resource_schemas
        .get_key_value(prefer)
        .or_else(|| schema.resource_schemas.iter().next())?;
    let ty = s.block.implied_type();
    let mut attrs = BTreeMap::new();
    for (n, aty) in ty.attribute_types()? {
        let required = s.block.attributes.get(n).is_some_and(|a| a.required);
        let v = match (required, aty) {
            (true, Type::String) => Value::string("bench"),
            (true, Type::Number) => Value::from_i64(1),
            _ => Value::null(aty.clone()),
        };
        attrs.insert(n.clone(), v);
    }
    let config = Value::object(attrs);
    Some(PlanResourceChangeRequest {
        type_name: type_name.clone(),
        prior_state: Value::null(ty),
        proposed_new_state: config.clone(),
        config,
        prior_private: Vec::new(),
        provider_meta: None,
    })
}

fn startup(name: &str, path: &str, reps: usize) {
    let mut spawn = Vec::new();
    let mut schema = Vec::new();
    let mut total = Vec::new();
    for _ in 0..reps {
        let t0 = Instant::now();
        let p = start(name, path);
        let t1 = Instant::now();
        let r = p.get_schema();
        let t2 = Instant::now();
        if r.diagnostics.has_errors() {
            eprintln!("{name}: schema: {}", r.diagnostics);
            std::process::exit(1);
        }
        spawn.push(t1 - t0);
        schema.push(t2 - t1);
        total.push(t2 - t0);
        drop(p);
    }
    for v in [&mut spawn, &mut schema, &mut total] {
        v.sort();
    }
    println!(
        "{name:<12} start-up ({reps} runs, median / min): spawn+handshake+connect {} / {}, first GetProviderSchema {} / {}, total {} / {}",
        ms(quantile(&spawn, 0.5)),
        ms(spawn[0]),
        ms(quantile(&schema, 0.5)),
        ms(schema[0]),
        ms(quantile(&total, 0.5)),
        ms(total[0]),
    );
}

fn round_trip(name: &str, path: &str, calls: usize, resource: &str) {
    let p = start(name, path);
    let schema = p.get_schema().schema;
    let Some(req) = plan_request(&schema, resource) else {
        println!("{name:<12} has no resource type to plan");
        return;
    };
    // Warm up the connection.
    for _ in 0..20 {
        p.plan_resource_change(&req);
    }
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let t = Instant::now();
        let r = p.plan_resource_change(&req);
        times.push(t.elapsed());
        if r.diagnostics.has_errors() {
            eprintln!("{name}: plan: {}", r.diagnostics);
            std::process::exit(1);
        }
    }
    times.sort();
    println!(
        "{name:<12} PlanResourceChange {} ({calls} sequential calls): median {}, p90 {}, p99 {}, min {}",
        req.type_name,
        us(quantile(&times, 0.5)),
        us(quantile(&times, 0.9)),
        us(quantile(&times, 0.99)),
        us(times[0]),
    );
}

fn concurrency(name: &str, path: &str, secs: u64, resource: &str) {
    let p = Arc::new(start(name, path));
    let schema = p.get_schema().schema;
    let Some(req) = plan_request(&schema, resource) else {
        return;
    };
    let req = Arc::new(req);
    for callers in [1usize, 4, 16, 64] {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..callers)
            .map(|_| {
                let (p, req, stop, done, failed) = (
                    p.clone(),
                    req.clone(),
                    stop.clone(),
                    done.clone(),
                    failed.clone(),
                );
                std::thread::spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let r = p.plan_resource_change(&req);
                        if r.diagnostics.has_errors() {
                            failed.fetch_add(1, Ordering::Relaxed);
                        } else {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        let t = Instant::now();
        std::thread::sleep(Duration::from_secs(secs));
        stop.store(true, Ordering::Relaxed);
        for th in threads {
            let _ = th.join();
        }
        let elapsed = t.elapsed().as_secs_f64();
        let n = done.load(Ordering::Relaxed);
        println!(
            "{name:<12} {callers:>2} concurrent callers: {:>7.0} PlanResourceChange calls/s ({n} calls, {} failed, {elapsed:.1} s)",
            n as f64 / elapsed,
            failed.load(Ordering::Relaxed),
        );
    }
}

fn main() {
    let reps = env_usize("STARTUP_REPS", 10);
    let calls = env_usize("CALLS", 2000);
    let secs = env_usize("SECONDS", 3) as u64;
    let resource = std::env::var("RESOURCE").unwrap_or_default();
    let plugins: Vec<(String, String)> = std::env::args()
        .skip(1)
        .filter_map(|a| {
            a.split_once('=')
                .map(|(n, p)| (n.to_string(), p.to_string()))
        })
        .collect();
    if plugins.is_empty() {
        eprintln!("usage: plugin-bench NAME=PATH...");
        std::process::exit(2);
    }
    for (name, path) in &plugins {
        let reps = if name == "aws" { reps.min(3) } else { reps };
        startup(name, path, reps);
    }
    for (name, path) in plugins.iter().filter(|(n, _)| n != "aws") {
        round_trip(name, path, calls, &resource);
    }
    for (name, path) in plugins.iter().filter(|(n, _)| n != "aws") {
        concurrency(name, path, secs, &resource);
    }
}
