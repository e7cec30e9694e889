//! Server-wide counters and the Prometheus text of `GET /metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use livepose_core::stats::LatencyHistogram;
use livepose_core::types::StageTimings;

/// Counters shared by the workers and the connection handlers.
#[derive(Debug, Default)]
pub struct Metrics {
    latency: Mutex<LatencyHistogram>,
    stage_sums: [AtomicU64; StageTimings::COUNT],
    /// Results produced.
    pub results: AtomicU64,
    /// Frames that failed (bad messages, undecodable images).
    pub errors: AtomicU64,
    /// WebSocket connections accepted so far.
    pub connections_total: AtomicU64,
    /// Connections refused (limits, token, origin).
    pub rejected_total: AtomicU64,
    /// Frames refused by the per-connection rate cap.
    pub rate_limited_total: AtomicU64,
    /// Frames received by streams that have closed (open streams count their own), so
    /// that `livepose_frames_received_total` never goes down.
    pub closed_received: AtomicU64,
    /// Frames dropped by streams that have closed.
    pub closed_dropped: AtomicU64,
    /// Room viewers connected now.
    pub viewers: AtomicU64,
}

impl Metrics {
    /// Records one result: server-side latency (received → result) and stage timings.
    pub fn record_result(&self, latency_us: u64, timings: &StageTimings) {
        self.results.fetch_add(1, Ordering::Relaxed);
        for (sum, value) in self.stage_sums.iter().zip(timings.to_array()) {
            sum.fetch_add(u64::from(value), Ordering::Relaxed);
        }
        self.latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(latency_us);
    }

    /// The Prometheus text exposition: these counters plus the figures given (`received`
    /// and `dropped`: every stream's so far, open and closed).
    pub fn render(&self, streams: usize, received: u64, dropped: u64, inferences: u64) -> String {
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let connections = streams as u64 + load(&self.viewers);
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "livepose_connections",
            "gauge",
            "Open WebSocket connections: pose streams (room cameras included) and room viewers.",
            connections,
        );
        metric(
            "livepose_connections_total",
            "counter",
            "WebSocket connections accepted.",
            load(&self.connections_total),
        );
        metric(
            "livepose_rejected_connections_total",
            "counter",
            "Connections refused by limits, token or origin.",
            load(&self.rejected_total),
        );
        metric(
            "livepose_frames_received_total",
            "counter",
            "Frames received (open streams).",
            received,
        );
        metric(
            "livepose_frames_dropped_total",
            "counter",
            "Frames displaced by a newer one before inference (open streams).",
            dropped,
        );
        metric(
            "livepose_frames_rate_limited_total",
            "counter",
            "Frames refused by the per-connection rate cap.",
            load(&self.rate_limited_total),
        );
        metric(
            "livepose_inferences_total",
            "counter",
            "Frames inferred.",
            inferences,
        );
        metric(
            "livepose_results_total",
            "counter",
            "Results produced.",
            load(&self.results),
        );
        if let Some(bytes) = resident_bytes() {
            metric(
                "livepose_process_resident_bytes",
                "gauge",
                "Resident memory of the server process.",
                bytes,
            );
        }
        metric(
            "livepose_errors_total",
            "counter",
            "Frames that failed.",
            load(&self.errors),
        );
        let summary = self
            .latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .summary();
        let _ = writeln!(
            out,
            "# HELP livepose_latency_microseconds Server-side latency per result, received to result.\n# TYPE livepose_latency_microseconds summary"
        );
        for (q, v) in [
            ("0.5", summary.p50),
            ("0.95", summary.p95),
            ("0.99", summary.p99),
        ] {
            let _ = writeln!(out, "livepose_latency_microseconds{{quantile=\"{q}\"}} {v}");
        }
        let _ = writeln!(
            out,
            "livepose_latency_microseconds_sum {}\nlivepose_latency_microseconds_count {}",
            summary.mean * summary.count,
            summary.count
        );
        let _ = writeln!(
            out,
            "# HELP livepose_stage_microseconds_total Time spent per pipeline stage.\n# TYPE livepose_stage_microseconds_total counter"
        );
        for (name, sum) in StageTimings::NAMES.iter().zip(&self.stage_sums) {
            let _ = writeln!(
                out,
                "livepose_stage_microseconds_total{{stage=\"{name}\"}} {}",
                load(sum)
            );
        }
        out
    }
}

/// The process's resident memory (Linux: `VmRSS` of `/proc/self/status`).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
