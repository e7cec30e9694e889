//! A room's figures over a sliding window: frames in and results out per second, result
//! latency percentiles, and what its viewers report of themselves (`viewer_stats`). Time is
//! passed in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use livepose_core::wire::control::ViewerStats;
use serde::Serialize;

/// How far back rates and latencies look.
pub(crate) const WINDOW: Duration = Duration::from_secs(5);
/// A viewer's report older than this no longer counts.
pub(crate) const REPORT_TTL: Duration = Duration::from_secs(10);
/// Most events kept per window (a bound on memory at any frame rate).
const MAX_EVENTS: usize = 4096;

/// Events in the last [`WINDOW`], with a value each (latency, or nothing).
#[derive(Debug, Default)]
struct Window {
    events: VecDeque<(Instant, u64)>,
    /// When the first event arrived: before a full window has passed, rates divide by the
    /// time since then.
    first: Option<Instant>,
}

impl Window {
    fn push(&mut self, now: Instant, value: u64) {
        self.first.get_or_insert(now);
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back((now, value));
        self.prune(now);
    }

    fn prune(&mut self, now: Instant) {
        while self
            .events
            .front()
            .is_some_and(|(t, _)| now.saturating_duration_since(*t) > WINDOW)
        {
            self.events.pop_front();
        }
    }

    /// Events per second over the window.
    fn rate(&mut self, now: Instant) -> f64 {
        self.prune(now);
        let Some(first) = self.first else { return 0.0 };
        let span = now
            .saturating_duration_since(first)
            .clamp(Duration::from_secs(1), WINDOW);
        self.events.len() as f64 / span.as_secs_f64()
    }

    /// The `q` quantile (0..1) of the values in the window, nearest rank.
    fn quantile(&self, q: f64) -> Option<u64> {
        let mut values: Vec<u64> = self.events.iter().map(|(_, v)| *v).collect();
        if values.is_empty() {
            return None;
        }
        values.sort_unstable();
        let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
        Some(values[rank - 1])
    }
}

/// What a room's camera and inference did lately.
#[derive(Debug, Default)]
pub(crate) struct RoomMeter {
    frames_in: Window,
    results_out: Window,
    frames_total: u64,
    results_total: u64,
}

/// The camera side of a room's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct CameraFigures {
    /// Camera frames that reached the server, per second.
    pub(crate) fps_in: f64,
    /// Results made and sent to the viewers, per second.
    pub(crate) fps_out: f64,
    /// Frame received to result made, median and 95th percentile over the window.
    pub(crate) latency_ms_p50: Option<f64>,
    pub(crate) latency_ms_p95: Option<f64>,
    /// Frames received since the room was created.
    pub(crate) frames_total: u64,
    /// Results made since the room was created.
    pub(crate) results_total: u64,
}

impl RoomMeter {
    /// A camera frame arrived.
    pub(crate) fn frame_in(&mut self, now: Instant) {
        self.frames_total += 1;
        self.frames_in.push(now, 0);
    }

    /// A result was made, `latency_us` after its frame arrived.
    pub(crate) fn result_out(&mut self, latency_us: u64, now: Instant) {
        self.results_total += 1;
        self.results_out.push(now, latency_us);
    }

    /// The figures as of `now`.
    pub(crate) fn figures(&mut self, now: Instant) -> CameraFigures {
        let ms = |us: Option<u64>| us.map(|us| us as f64 / 1000.0);
        CameraFigures {
            fps_in: self.frames_in.rate(now),
            fps_out: self.results_out.rate(now),
            latency_ms_p50: ms(self.results_out.quantile(0.5)),
            latency_ms_p95: ms(self.results_out.quantile(0.95)),
            frames_total: self.frames_total,
            results_total: self.results_total,
        }
    }
}

/// A viewer's last `viewer_stats`, and when it came.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ViewerReport {
    pub(crate) stats: ViewerStats,
    pub(crate) at: Instant,
}

impl ViewerReport {
    /// The report, if it is recent enough to count at `now`.
    pub(crate) fn current(&self, now: Instant) -> Option<ViewerStats> {
        (now.saturating_duration_since(self.at) <= REPORT_TTL).then_some(self.stats)
    }
}

/// What the viewers' reports say together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ViewersFigures {
    /// Viewers whose report counts (recent enough).
    pub(crate) reporting: usize,
    /// Lowest and mean shown fps among them.
    pub(crate) fps_min: Option<f64>,
    pub(crate) fps_mean: Option<f64>,
    /// Median and highest reported latency (of the reports that carry one).
    pub(crate) latency_ms_p50: Option<f64>,
    pub(crate) latency_ms_max: Option<f64>,
}

impl ViewersFigures {
    /// Combines the reports that count.
    pub(crate) fn of(reports: &[ViewerStats]) -> Self {
        let n = reports.len();
        let fps = reports.iter().map(|r| r.fps);
        let mut latencies: Vec<f64> = reports.iter().filter_map(|r| r.latency_ms).collect();
        latencies.sort_unstable_by(f64::total_cmp);
        ViewersFigures {
            reporting: n,
            fps_min: fps.clone().reduce(f64::min),
            fps_mean: (n > 0).then(|| fps.sum::<f64>() / n as f64),
            latency_ms_p50: (!latencies.is_empty()).then(|| latencies[(latencies.len() - 1) / 2]),
            latency_ms_max: latencies.last().copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_percentiles_cover_the_last_window_only() {
        let t0 = Instant::now();
        let mut meter = RoomMeter::default();
        // 10 s at 20 fps in, 10 fps out with latencies 1..=100 ms.
        for i in 0..200u64 {
            let now = t0 + Duration::from_millis(i * 50);
            meter.frame_in(now);
            if i % 2 == 0 {
                meter.result_out((i / 2 % 100 + 1) * 1000, now);
            }
        }
        let now = t0 + Duration::from_millis(199 * 50);
        let f = meter.figures(now);
        assert!((f.fps_in - 20.0).abs() < 0.5, "{f:?}");
        assert!((f.fps_out - 10.0).abs() < 0.5, "{f:?}");
        // The last 5 s hold results 50..=99, latencies 51..=100 ms.
        assert_eq!(f.latency_ms_p50, Some(75.0));
        assert_eq!(f.latency_ms_p95, Some(98.0));
        assert_eq!((f.frames_total, f.results_total), (200, 100));
        // Quiet for a window: rates fall to zero, totals stay.
        let later = meter.figures(now + WINDOW + Duration::from_millis(1));
        assert_eq!(
            (later.fps_in, later.fps_out, later.latency_ms_p50),
            (0.0, 0.0, None)
        );
        assert_eq!(later.frames_total, 200);
    }

    #[test]
    fn a_young_room_divides_by_its_age_not_the_window() {
        let t0 = Instant::now();
        let mut meter = RoomMeter::default();
        for i in 0..60u64 {
            meter.frame_in(t0 + Duration::from_millis(i * 1000 / 30));
        }
        let f = meter.figures(t0 + Duration::from_secs(2));
        assert!((f.fps_in - 30.0).abs() < 1.0, "{f:?}");
        assert_eq!(RoomMeter::default().figures(t0).fps_in, 0.0);
    }

    #[test]
    fn viewer_reports_combine_and_expire() {
        let t0 = Instant::now();
        let report = |fps, latency_ms| ViewerStats {
            fps,
            latency_ms: Some(latency_ms),
        };
        let old = ViewerReport {
            stats: report(1.0, 1.0),
            at: t0,
        };
        assert!(old.current(t0 + REPORT_TTL).is_some());
        assert!(old
            .current(t0 + REPORT_TTL + Duration::from_millis(1))
            .is_none());
        let f = ViewersFigures::of(&[report(30.0, 40.0), report(10.0, 90.0), report(20.0, 60.0)]);
        assert_eq!(f.reporting, 3);
        assert_eq!(f.fps_min, Some(10.0));
        assert_eq!(f.fps_mean, Some(20.0));
        assert_eq!(f.latency_ms_p50, Some(60.0));
        assert_eq!(f.latency_ms_max, Some(90.0));
        let fps_only = ViewersFigures::of(&[ViewerStats {
            fps: 5.0,
            latency_ms: None,
        }]);
        assert_eq!(
            (fps_only.fps_mean, fps_only.latency_ms_p50),
            (Some(5.0), None)
        );
        let none = ViewersFigures::of(&[]);
        assert_eq!(
            (none.reporting, none.fps_mean, none.latency_ms_max),
            (0, None, None)
        );
    }
}
