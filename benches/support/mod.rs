//! Reads criterion's estimates back after a run, to print ratios between benchmarks measured
//! in the same run (e.g. "binary decode is 12000x faster than JSON+base64").
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use criterion::Criterion;

static STARTED: OnceLock<SystemTime> = OnceLock::new();

/// A criterion configured for quick but stable runs on a 2-core machine.
pub fn criterion() -> Criterion {
    STARTED.get_or_init(SystemTime::now);
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args()
}

fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
                .join("criterion")
        })
}

/// Mean time in nanoseconds of `group/bench` from this run, if criterion recorded it (files
/// left by earlier runs are ignored).
pub fn mean_ns(id: &str) -> Option<f64> {
    let path = criterion_dir().join(id).join("new/estimates.json");
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
    if modified < *STARTED.get()? {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value["mean"]["point_estimate"].as_f64()
}

/// Formats nanoseconds for a table.
pub fn human(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

/// For each `(label, a, b)` prints both times and `b / a` (how many times longer `b` takes),
/// skipping pairs not measured in this run.
/// Only under `cargo bench`: in test mode (`cargo test --benches`) nothing was measured.
pub fn print_ratios(title: &str, pairs: &[(&str, &str, &str)]) {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    println!("\n== {title} ==");
    for (label, a, b) in pairs {
        match (mean_ns(a), mean_ns(b)) {
            (Some(a), Some(b)) => {
                println!("{label}: {} vs {} -> {:.2}x", human(a), human(b), b / a)
            }
            _ => println!("{label}: not measured in this run"),
        }
    }
}
