//! Per-connection rates: the frame-rate cap, and the window behind the `stats` and `rate`
//! messages. Time is passed in.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use livepose_core::wire::control::{RateHint, ServerMessage, Stats};

use crate::streams::StreamCore;

/// What the cap says of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Under the cap: process it.
    Admitted,
    /// Over the cap; `first`: the first refused in this second (the one the client is told
    /// about).
    Refused { first: bool },
}

/// At most `max_fps` frames in each one-second window.
#[derive(Debug)]
pub(crate) struct FrameRateCap {
    max_fps: u32,
    window_start: Instant,
    in_window: u32,
}

impl FrameRateCap {
    pub(crate) fn new(max_fps: u32, now: Instant) -> Self {
        FrameRateCap {
            max_fps,
            window_start: now,
            in_window: 0,
        }
    }

    /// Counts one frame arriving at `now`.
    pub(crate) fn check(&mut self, now: Instant) -> Verdict {
        if now.duration_since(self.window_start) >= Duration::from_secs(1) {
            self.window_start = now;
            self.in_window = 0;
        }
        self.in_window = self.in_window.saturating_add(1);
        if self.in_window <= self.max_fps {
            Verdict::Admitted
        } else {
            Verdict::Refused {
                first: self.in_window == self.max_fps + 1,
            }
        }
    }
}

/// Frames in and results out since the last report, for the `stats` and `rate` messages.
pub(crate) struct RateWindow {
    since: Instant,
    received: u64,
    /// Results sent in this window (the socket writer counts them).
    pub(crate) results: u64,
    total_results: u64,
}

impl RateWindow {
    pub(crate) fn new(stream: &StreamCore, now: Instant) -> Self {
        RateWindow {
            since: now,
            received: stream.frames_received(),
            results: 0,
            total_results: 0,
        }
    }

    /// The `stats` message, and a `rate` hint when the client sends faster than the server
    /// processes its stream; starts the next window at `now`.
    pub(crate) fn report(&mut self, stream: &StreamCore, now: Instant) -> Vec<String> {
        let seconds = now.duration_since(self.since).as_secs_f64().max(1e-3);
        let received = stream.frames_received();
        let fps_in = (received - self.received) as f64 / seconds;
        let fps_out = self.results as f64 / seconds;
        self.total_results += self.results;
        let (latency_us, timings_us) = stream.result_stats();
        let mut out = vec![ServerMessage::Stats(Stats {
            fps_in,
            fps_out,
            dropped: stream.frames_dropped(),
            frames_rate_limited: stream.rate_limited.load(Ordering::Relaxed),
            results: self.total_results,
            latency_us,
            timings_us,
        })
        .to_json()];
        if fps_in > fps_out * 1.2 && fps_out > 0.0 {
            out.push(
                ServerMessage::Rate(RateHint {
                    processing_fps: fps_out,
                    max_send_fps: fps_out,
                })
                .to_json(),
            );
        }
        self.since = now;
        self.received = received;
        self.results = 0;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_refuses_past_max_fps_and_names_the_first_refusal() {
        let t0 = Instant::now();
        let mut cap = FrameRateCap::new(3, t0);
        let verdicts: Vec<_> = (0..6)
            .map(|i| cap.check(t0 + Duration::from_millis(i * 10)))
            .collect();
        assert_eq!(
            verdicts,
            [
                Verdict::Admitted,
                Verdict::Admitted,
                Verdict::Admitted,
                Verdict::Refused { first: true },
                Verdict::Refused { first: false },
                Verdict::Refused { first: false },
            ]
        );
        // A new second, a new window.
        assert_eq!(cap.check(t0 + Duration::from_secs(1)), Verdict::Admitted);
    }
}
