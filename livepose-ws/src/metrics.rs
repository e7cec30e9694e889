//! Server-wide metrics, kept with `prometheus-client` and served as OpenMetrics text at
//! `GET /metrics`. Every `_total` is a counter that only goes up: frames are counted as
//! they arrive, not summed over the streams open at scrape time.

use std::sync::atomic::AtomicU64;

use livepose_core::types::StageTimings;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

/// A label set of one `&'static str` pair (`code`, `stage`).
type Label = [(&'static str, &'static str); 1];

/// The server's metrics, shared by the workers and the connection handlers.
pub(crate) struct Metrics {
    registry: Registry,
    /// Open connections: pose streams (room cameras included) and room viewers.
    pub(crate) connections: Gauge,
    /// Server-side camera sources running (their tasks, each with its ffmpeg).
    pub(crate) sources: Gauge,
    /// WebSocket connections (and `/estimate_pose` requests) admitted.
    pub(crate) connections_total: Counter,
    /// Connections and requests refused by limits, token or origin.
    pub(crate) rejected_total: Counter,
    /// Frames received on every stream.
    pub(crate) frames_received: Counter,
    /// Frames displaced by a newer one before inference.
    pub(crate) frames_dropped: Counter,
    /// Frames refused by the per-connection rate cap.
    pub(crate) rate_limited_total: Counter,
    /// Frames inferred.
    pub(crate) inferences: Counter,
    /// Results produced.
    pub(crate) results: Counter,
    /// Error messages sent to clients, by code.
    errors: Family<Label, Counter>,
    latency: Histogram,
    stages: Family<Label, Counter<f64, AtomicU64>>,
    resident: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let connections = Gauge::default();
        let connections_total = Counter::default();
        let sources = Gauge::default();
        let rejected_total = Counter::default();
        let frames_received = Counter::default();
        let frames_dropped = Counter::default();
        let rate_limited_total = Counter::default();
        let inferences = Counter::default();
        let results = Counter::default();
        let errors = Family::<Label, Counter>::default();
        // 0.5 ms to about 4 s.
        let latency = Histogram::new(exponential_buckets(0.0005, 2.0, 14));
        let stages = Family::<Label, Counter<f64, AtomicU64>>::default();
        let resident = Gauge::default();
        let r = &mut registry;
        r.register(
            "livepose_connections",
            "Open WebSocket connections: pose streams (room cameras included) and room viewers",
            connections.clone(),
        );
        r.register(
            "livepose_sources",
            "Server-side camera sources running (each with its ffmpeg subprocess)",
            sources.clone(),
        );
        // prometheus-client appends `_total` to counters' names.
        r.register(
            "livepose_connections",
            "WebSocket connections and /estimate_pose requests admitted",
            connections_total.clone(),
        );
        r.register(
            "livepose_rejected_connections",
            "Connections and requests refused by limits, token or origin",
            rejected_total.clone(),
        );
        r.register(
            "livepose_frames_received",
            "Frames received",
            frames_received.clone(),
        );
        r.register(
            "livepose_frames_dropped",
            "Frames displaced by a newer one before inference (latest wins)",
            frames_dropped.clone(),
        );
        r.register(
            "livepose_frames_rate_limited",
            "Frames refused by the per-connection rate cap",
            rate_limited_total.clone(),
        );
        r.register("livepose_inferences", "Frames inferred", inferences.clone());
        r.register("livepose_results", "Results produced", results.clone());
        r.register(
            "livepose_errors",
            "Error messages sent to clients, by code (docs/protocol.md §6)",
            errors.clone(),
        );
        r.register_with_unit(
            "livepose_latency",
            "Server-side latency per result, frame received to result ready",
            Unit::Seconds,
            latency.clone(),
        );
        r.register_with_unit(
            "livepose_stage",
            "Time spent per pipeline stage",
            Unit::Seconds,
            stages.clone(),
        );
        r.register_with_unit(
            "livepose_process_resident",
            "Resident memory of the server process",
            Unit::Bytes,
            resident.clone(),
        );
        Metrics {
            registry,
            connections,
            sources,
            connections_total,
            rejected_total,
            frames_received,
            frames_dropped,
            rate_limited_total,
            inferences,
            results,
            errors,
            latency,
            stages,
            resident,
        }
    }
}

impl Metrics {
    /// Records one result: server-side latency (received → result) and stage timings.
    pub(crate) fn record_result(&self, latency_us: u64, timings: &StageTimings) {
        self.results.inc();
        self.latency.observe(latency_us as f64 * 1e-6);
        for (name, value) in StageTimings::NAMES.iter().zip(timings.to_array()) {
            self.stages
                .get_or_create(&[("stage", name)])
                .inc_by(f64::from(value) * 1e-6);
        }
    }

    /// Counts one error message sent to a client.
    pub(crate) fn record_error(&self, code: &'static str) {
        self.errors.get_or_create(&[("code", code)]).inc();
    }

    /// The OpenMetrics text exposition.
    pub(crate) fn render(&self) -> String {
        if let Some(bytes) = resident_bytes() {
            self.resident.set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// One connection in the `livepose_connections` gauge, for as long as it lives.
pub(crate) struct Connected(Gauge);

impl Connected {
    /// Counts a connection until the guard drops.
    pub(crate) fn new(metrics: &Metrics) -> Self {
        metrics.connections.inc();
        Connected(metrics.connections.clone())
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// The process's resident memory (Linux: `VmRSS` of `/proc/self/status`).
pub(crate) fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_metric_once() {
        let m = Metrics::default();
        m.frames_received.inc_by(3);
        m.record_error("bad_image");
        m.record_result(1500, &StageTimings::default());
        let _c = Connected::new(&m);
        let text = m.render();
        for line in [
            "livepose_connections 1",
            "livepose_sources 0",
            "livepose_frames_received_total 3",
            "livepose_errors_total{code=\"bad_image\"} 1",
            "livepose_latency_seconds_count 1",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "{line:?} missing in\n{text}"
            );
        }
        let types = text.lines().filter(|l| l.starts_with("# TYPE")).count();
        assert_eq!(types, 13, "{text}");
    }
}
