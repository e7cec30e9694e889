//! Per-stream statistics: counters and latency histograms with a cheap record path.
//!
//! [`LatencyHistogram`] wraps an HDR histogram (3 significant digits, 1 µs to 60 s):
//! recording is a few nanoseconds and never allocates; percentiles are read on demand.
//!
//! ```
//! use livepose_core::stats::StreamStats;
//!
//! let mut stats = StreamStats::new();
//! for latency_us in [900, 1_000, 1_100, 5_000] {
//!     stats.record_result(latency_us, 1_000_000 + latency_us);
//! }
//! stats.record_dropped(2);
//! let snapshot = stats.snapshot();
//! assert_eq!(snapshot.results, 4);
//! assert_eq!(snapshot.dropped, 2);
//! assert_eq!(snapshot.latency_us.p50, 1_000);
//! assert!(snapshot.latency_us.p99 >= 4_990);
//! ```

use hdrhistogram::Histogram;

/// Percentiles of a latency distribution, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 95th percentile.
    pub p95: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest sample.
    pub max: u64,
    /// Mean, rounded.
    pub mean: u64,
}

/// A latency histogram in microseconds.
#[derive(Debug, Clone)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// Largest value tracked exactly (60 s); larger samples are recorded as this.
    pub const MAX_US: u64 = 60_000_000;

    /// An empty histogram covering 1 µs to 60 s with 3 significant digits.
    pub fn new() -> Self {
        let histogram = match Histogram::new_with_bounds(1, Self::MAX_US, 3) {
            Ok(histogram) => histogram,
            // Constant bounds that hdrhistogram accepts (checked by the unit tests).
            Err(e) => unreachable!("constant histogram bounds rejected: {e}"),
        };
        LatencyHistogram { histogram }
    }

    /// Records one sample (clamped to 1 µs ..= 60 s). Never allocates.
    pub fn record(&mut self, micros: u64) {
        self.histogram
            .saturating_record(micros.clamp(1, Self::MAX_US));
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        // Same bounds on both sides, so this cannot fail; a failure would only lose samples.
        let _ = self.histogram.add(&other.histogram);
    }

    /// Forgets every sample.
    pub fn clear(&mut self) {
        self.histogram.reset();
    }

    /// The percentiles so far.
    pub fn summary(&self) -> LatencySummary {
        let h = &self.histogram;
        if h.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: h.len(),
            p50: h.value_at_quantile(0.50),
            p95: h.value_at_quantile(0.95),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
            mean: h.mean().round() as u64,
        }
    }
}

/// Counters and histograms of one stream.
#[derive(Debug, Clone, Default)]
pub struct StreamStats {
    frames_received: u64,
    dropped: u64,
    results: u64,
    errors: u64,
    latency: LatencyHistogram,
    first_result_us: Option<u64>,
    last_result_us: u64,
}

/// A point-in-time copy of a [`StreamStats`].
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct StatsSnapshot {
    /// Frames received from the client.
    pub frames_received: u64,
    /// Frames displaced before inference (latest-wins).
    pub dropped: u64,
    /// Results produced.
    pub results: u64,
    /// Frames that failed (bad input, decode errors).
    pub errors: u64,
    /// Results per second between the first and the last result.
    pub result_fps: f64,
    /// Server-side latency per result.
    pub latency_us: LatencySummary,
}

impl StreamStats {
    /// Empty statistics.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts a received frame.
    pub fn record_frame(&mut self) {
        self.frames_received += 1;
    }

    /// Counts `n` frames dropped by the latest-wins slot.
    pub fn record_dropped(&mut self, n: u64) {
        self.dropped += n;
    }

    /// Counts a failed frame.
    pub fn record_error(&mut self) {
        self.errors += 1;
    }

    /// Counts a result that took `latency_us` and was produced at `at_us` (any monotonic
    /// microsecond timeline; used for the result rate).
    pub fn record_result(&mut self, latency_us: u64, at_us: u64) {
        self.results += 1;
        self.latency.record(latency_us);
        self.first_result_us.get_or_insert(at_us);
        self.last_result_us = at_us;
    }

    /// The latency histogram.
    pub fn latency(&self) -> &LatencyHistogram {
        &self.latency
    }

    /// A copy of the current figures.
    pub fn snapshot(&self) -> StatsSnapshot {
        let span_us = self
            .first_result_us
            .map_or(0, |first| self.last_result_us.saturating_sub(first));
        let result_fps = if span_us > 0 && self.results > 1 {
            (self.results - 1) as f64 * 1e6 / span_us as f64
        } else {
            0.0
        };
        StatsSnapshot {
            frames_received: self.frames_received,
            dropped: self.dropped,
            results: self.results,
            errors: self.errors,
            result_fps,
            latency_us: self.latency.summary(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_distribution() {
        let mut h = LatencyHistogram::new();
        for v in 1..=1000 {
            h.record(v);
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert_eq!(s.p50, 500);
        assert_eq!(s.p95, 950);
        assert_eq!(s.p99, 990);
        assert_eq!(s.max, 1000);
        assert_eq!(s.mean, 501); // 500.5 rounds up
    }

    #[test]
    fn out_of_range_samples_are_clamped() {
        let mut h = LatencyHistogram::new();
        h.record(0);
        h.record(u64::MAX);
        let s = h.summary();
        assert_eq!(s.count, 2);
        assert!(s.max >= LatencyHistogram::MAX_US);
    }

    #[test]
    fn empty_summary_is_zero() {
        assert_eq!(LatencyHistogram::new().summary(), LatencySummary::default());
    }

    #[test]
    fn merge_and_clear() {
        let mut a = LatencyHistogram::new();
        let mut b = LatencyHistogram::new();
        a.record(10);
        b.record(20);
        a.merge(&b);
        assert_eq!(a.summary().count, 2);
        a.clear();
        assert_eq!(a.summary().count, 0);
    }

    #[test]
    fn result_rate_from_timestamps() {
        let mut s = StreamStats::new();
        for i in 0..31 {
            s.record_frame();
            s.record_result(1_000, i * 33_333);
        }
        s.record_error();
        let snap = s.snapshot();
        assert!((snap.result_fps - 30.0).abs() < 0.01, "{}", snap.result_fps);
        assert_eq!(snap.frames_received, 31);
        assert_eq!(snap.errors, 1);
    }
}
