//! Adaptive quality for the client: the JPEG quality and the send rate of one stream,
//! chosen from the server's `rate` hints (and `rate_limited` refusals) and the measured
//! round trip (a frame's send to its result). Additive increase, multiplicative decrease,
//! the same controller as the browser demo's `demo/js/adapt.js`:
//!
//! - a hint, a refusal, or a median round trip over the latency budget: the rate drops to
//!   `backoff` times what was actually being sent (or the hint's `max_send_fps`, if lower),
//!   the quality one step (two when far over the budget), and the rate at which the limit
//!   was met is remembered; no further decrease for `cooldown` (the frames sent before it
//!   still come back late);
//! - under `probe_below` of the budget and no decrease for `hold`: the quality rises half a
//!   step and the rate by `probe_fps` a second (four times that away from the remembered
//!   limit), so that a lifted limit is found again.
//!
//! Time is passed in.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The controller's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptConfig {
    /// Round trip (send to result) to stay under.
    pub budget: Duration,
    /// Lowest JPEG quality (0–1).
    pub min_quality: f32,
    /// Highest JPEG quality (0–1), also the first.
    pub max_quality: f32,
    /// Quality change of one step.
    pub quality_step: f32,
    /// Lowest target rate.
    pub min_fps: f64,
    /// Highest target rate, also the first.
    pub max_fps: f64,
    /// Time between two decisions.
    pub interval: Duration,
    /// No further decrease for this long after one.
    pub cooldown: Duration,
    /// No increase for this long after a decrease.
    pub hold: Duration,
    /// Rate increase per second near the remembered limit (four times this away from it).
    pub probe_fps: f64,
    /// Probe only while the median round trip is under this share of the budget.
    pub probe_below: f64,
    /// Multiplicative decrease of the rate.
    pub backoff: f64,
}

impl Default for AdaptConfig {
    /// Budget 150 ms, quality 0.5–0.9, 2–30 fps, a decision every 500 ms, cooldown 1 s,
    /// hold 2 s, probing 1 fps a second under 80% of the budget, backoff ×0.8.
    fn default() -> Self {
        AdaptConfig {
            budget: Duration::from_millis(150),
            min_quality: 0.5,
            max_quality: 0.9,
            quality_step: 0.05,
            min_fps: 2.0,
            max_fps: 30.0,
            interval: Duration::from_millis(500),
            cooldown: Duration::from_secs(1),
            hold: Duration::from_secs(2),
            probe_fps: 1.0,
            probe_below: 0.8,
            backoff: 0.8,
        }
    }
}

impl AdaptConfig {
    /// The latency budget.
    pub fn budget(mut self, budget: Duration) -> Self {
        self.budget = budget;
        self
    }

    /// The range of the target rate.
    pub fn fps_range(mut self, min_fps: f64, max_fps: f64) -> Self {
        self.min_fps = min_fps;
        self.max_fps = max_fps.max(min_fps);
        self
    }
}

/// Why the quality or the rate changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdaptReason {
    /// A `rate` hint or a `rate_limited` refusal.
    Hint,
    /// The round trip was over the budget.
    Latency,
    /// Probing for more under the budget.
    Probe,
}

/// The controller's state after a decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adaptation {
    /// JPEG quality (0–1) to encode the next frame with.
    pub quality: f32,
    /// Most frames a second to send.
    pub target_fps: f64,
    /// The last median round trip, if any came back yet.
    pub latency: Option<Duration>,
    /// What changed it.
    pub reason: AdaptReason,
}

const SEND_WINDOW: Duration = Duration::from_secs(1);

/// The controller; see the module documentation.
#[derive(Debug, Clone)]
pub struct Adapter {
    config: AdaptConfig,
    quality: f32,
    target_fps: f64,
    limit_fps: f64,
    last_decision: Instant,
    last_decrease: Option<Instant>,
    pending_hint: Option<f64>,
    sends: VecDeque<Instant>,
    latencies: Vec<Duration>,
    latency: Option<Duration>,
}

impl Adapter {
    /// Starts at the highest quality and rate; the first decision comes after `interval`.
    pub fn new(config: AdaptConfig, now: Instant) -> Self {
        Adapter {
            quality: config.max_quality,
            target_fps: config.max_fps,
            limit_fps: f64::INFINITY,
            last_decision: now,
            last_decrease: None,
            pending_hint: None,
            sends: VecDeque::new(),
            latencies: Vec::new(),
            latency: None,
            config,
        }
    }

    /// JPEG quality (0–1) to encode the next frame with.
    pub fn quality(&self) -> f32 {
        self.quality
    }

    /// Most frames a second to send.
    pub fn target_fps(&self) -> f64 {
        self.target_fps
    }

    /// The shortest time between two sends.
    pub fn send_interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.target_fps)
    }

    /// The last median round trip.
    pub fn latency(&self) -> Option<Duration> {
        self.latency
    }

    /// Counts a frame sent at `now`.
    pub fn sent(&mut self, now: Instant) {
        self.sends.push_back(now);
        self.trim(now);
    }

    /// Frames a second actually sent over the last second.
    pub fn sent_fps(&mut self, now: Instant) -> f64 {
        self.trim(now);
        self.sends.len() as f64 / SEND_WINDOW.as_secs_f64()
    }

    fn trim(&mut self, now: Instant) {
        while self
            .sends
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > SEND_WINDOW)
        {
            self.sends.pop_front();
        }
    }

    /// A measured round trip (a frame's send to its result).
    pub fn round_trip(&mut self, latency: Duration) {
        self.latencies.push(latency);
    }

    /// The server's `rate` hint (`max_send_fps`); a `rate_limited` refusal is a hint of
    /// `f64::INFINITY` (no figure).
    pub fn hint(&mut self, max_send_fps: f64) {
        let fps = if max_send_fps > 0.0 {
            max_send_fps
        } else {
            f64::INFINITY
        };
        self.pending_hint = Some(self.pending_hint.map_or(fps, |h| h.min(fps)));
    }

    /// Decides, at most once per `interval`; the new state when the quality or the rate
    /// changed.
    pub fn update(&mut self, now: Instant) -> Option<Adaptation> {
        let elapsed = now.saturating_duration_since(self.last_decision);
        if elapsed < self.config.interval {
            return None;
        }
        self.last_decision = now;
        let sent_fps = self.sent_fps(now);
        let c = self.config.clone();
        // Round trips measured since the last decision (none: no latency decision now).
        let mut latencies = std::mem::take(&mut self.latencies);
        let fresh = !latencies.is_empty();
        if fresh {
            latencies.sort();
            self.latency = Some(latencies[latencies.len() / 2]);
        }
        let since_decrease = self.last_decrease.map(|t| now.saturating_duration_since(t));
        let cooling = since_decrease.is_some_and(|d| d < c.cooldown);
        if cooling {
            self.pending_hint = None;
        }
        let before = (self.quality, self.target_fps);
        let over_budget = self.latency.is_some_and(|l| l > c.budget) && fresh;
        let reason = if !cooling && (self.pending_hint.is_some() || over_budget) {
            let reason = if self.pending_hint.is_some() {
                AdaptReason::Hint
            } else {
                AdaptReason::Latency
            };
            let sending = if sent_fps > 0.0 {
                sent_fps
            } else {
                self.target_fps
            };
            let base = self
                .target_fps
                .min(sending)
                .min(self.pending_hint.unwrap_or(f64::INFINITY));
            self.limit_fps = base;
            self.target_fps = (base * c.backoff).clamp(c.min_fps, c.max_fps);
            let far =
                reason == AdaptReason::Latency && self.latency.is_some_and(|l| l > c.budget * 2);
            let steps = if far { 2.0 } else { 1.0 };
            self.quality =
                (self.quality - steps * c.quality_step).clamp(c.min_quality, c.max_quality);
            self.last_decrease = Some(now);
            self.pending_hint = None;
            Some(reason)
        } else if fresh
            && self
                .latency
                .is_some_and(|l| l.as_secs_f64() <= c.probe_below * c.budget.as_secs_f64())
            && since_decrease.is_none_or(|d| d >= c.hold)
        {
            let near_limit =
                self.target_fps >= 0.9 * self.limit_fps && self.target_fps <= 1.2 * self.limit_fps;
            let seconds = elapsed.min(c.interval * 2).as_secs_f64();
            let step = c.probe_fps * if near_limit { 1.0 } else { 4.0 } * seconds;
            // Not far past what is actually sent (the caller or the server may hold it lower).
            let ceiling = (sent_fps * 1.5 + 2.0).max(c.min_fps).max(self.target_fps);
            self.target_fps = (self.target_fps + step)
                .min(ceiling)
                .clamp(c.min_fps, c.max_fps);
            self.quality =
                (self.quality + c.quality_step / 2.0).clamp(c.min_quality, c.max_quality);
            if self.target_fps > 1.2 * self.limit_fps {
                self.limit_fps = f64::INFINITY;
            }
            Some(AdaptReason::Probe)
        } else {
            None
        };
        let changed = (self.quality, self.target_fps) != before;
        reason.filter(|_| changed).map(|reason| Adaptation {
            quality: self.quality,
            target_fps: self.target_fps,
            latency: self.latency,
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Figures of a simulated run: frames sent a second and the median round trip over the
    /// last three seconds.
    #[derive(Debug)]
    struct Run {
        sent_fps: f64,
        latency_ms: u64,
    }

    /// Runs `seconds` from `t0` in 10 ms ticks against a simulated server that takes a frame
    /// in every `1000 / capacity_fps` ms (a frame waits for that, then `base_ms` more come
    /// back), refuses frames past `cap_fps` in each second (as `--max-fps` does; the first
    /// refusal is a hint), and hints when sent more than 1.2 times what it processes.
    fn simulate(
        adapter: &mut Adapter,
        t0: Instant,
        seconds: u64,
        capacity_fps: f64,
        cap_fps: u32,
        base_ms: u64,
    ) -> Run {
        let mut last_send: Option<Instant> = None;
        let mut busy_until = t0;
        let (mut cap_start, mut cap_count) = (t0, 0u32);
        let (mut hint_start, mut hint_in) = (t0, 0u32);
        let mut sends = Vec::new();
        let mut latencies = Vec::new();
        let end = t0 + Duration::from_secs(seconds);
        let mut t = t0;
        while t < end {
            if last_send.is_none_or(|l| t - l >= adapter.send_interval()) {
                last_send = Some(t);
                adapter.sent(t);
                sends.push(t);
                if t - cap_start >= Duration::from_secs(1) {
                    (cap_start, cap_count) = (t, 0);
                }
                cap_count += 1;
                if cap_count > cap_fps {
                    if cap_count == cap_fps + 1 {
                        adapter.hint(f64::INFINITY);
                    }
                } else {
                    let start = busy_until.max(t);
                    busy_until = start + Duration::from_secs_f64(1.0 / capacity_fps);
                    let latency = start - t + ms(base_ms);
                    adapter.round_trip(latency);
                    latencies.push((t, latency));
                    hint_in += 1;
                }
            }
            if t - hint_start >= Duration::from_secs(1) {
                let processed = f64::from(hint_in).min(capacity_fps);
                if f64::from(hint_in) > 1.2 * processed && processed > 0.0 {
                    adapter.hint(processed);
                }
                (hint_start, hint_in) = (t, 0);
            }
            adapter.update(t);
            t += ms(10);
        }
        let tail = end - Duration::from_secs(3);
        let mut tail_latencies: Vec<_> = latencies
            .iter()
            .filter(|(t, _)| *t >= tail)
            .map(|(_, l)| l.as_millis() as u64)
            .collect();
        tail_latencies.sort_unstable();
        Run {
            sent_fps: sends.iter().filter(|t| **t >= tail).count() as f64 / 3.0,
            latency_ms: tail_latencies[tail_latencies.len() / 2],
        }
    }

    #[test]
    fn starts_at_the_best_quality_and_the_highest_rate() {
        let adapter = Adapter::new(AdaptConfig::default(), Instant::now());
        assert_eq!(adapter.quality(), 0.9);
        assert_eq!(adapter.target_fps(), 30.0);
        assert_eq!(adapter.latency(), None);
    }

    #[test]
    fn a_hint_backs_off_below_the_hint_and_lowers_the_quality() {
        let t0 = Instant::now();
        let mut adapter = Adapter::new(AdaptConfig::default(), t0);
        for i in 0..25 {
            adapter.sent(t0 + ms(i * 40));
        }
        adapter.hint(12.0);
        let change = adapter.update(t0 + ms(1000)).expect("a change");
        assert_eq!(change.reason, AdaptReason::Hint);
        assert!(change.target_fps <= 12.0 * 0.8 + 1e-9, "{change:?}");
        assert!(change.quality < 0.9);
        assert_eq!(
            adapter.update(t0 + ms(1100)),
            None,
            "one decision per interval"
        );
    }

    #[test]
    fn over_the_budget_it_backs_off_once_per_cooldown_and_two_steps_when_far_over() {
        let t0 = Instant::now();
        let config = AdaptConfig::default().budget(ms(100));
        let mut adapter = Adapter::new(config, t0);
        for i in 0..20 {
            adapter.sent(t0 + ms(i * 50));
        }
        adapter.round_trip(ms(150));
        let change = adapter.update(t0 + ms(1000)).expect("a change");
        assert_eq!(change.reason, AdaptReason::Latency);
        assert!((change.target_fps - 16.0).abs() < 1e-9, "{change:?}");
        assert!((change.quality - 0.85).abs() < 1e-6);
        adapter.round_trip(ms(300));
        assert_eq!(adapter.update(t0 + ms(1500)), None, "cooling down");
        adapter.round_trip(ms(300));
        let change = adapter.update(t0 + ms(2000)).expect("a change");
        assert!((change.quality - 0.75).abs() < 1e-6, "{change:?}");
    }

    #[test]
    fn quality_and_rate_stay_within_bounds() {
        let t0 = Instant::now();
        let mut adapter = Adapter::new(AdaptConfig::default().budget(ms(10)), t0);
        for i in 0..60 {
            let t = t0 + ms(i * 500);
            adapter.sent(t);
            adapter.round_trip(ms(1000));
            adapter.update(t);
        }
        assert_eq!(adapter.quality(), 0.5);
        assert_eq!(adapter.target_fps(), 2.0);
        for i in 0..2000 {
            let t = t0 + ms(30_000 + i * 100);
            adapter.sent(t);
            adapter.round_trip(ms(1));
            adapter.update(t);
        }
        assert!((adapter.quality() - 0.9).abs() < 1e-6);
        assert!(adapter.target_fps() <= 30.0);
    }

    #[test]
    fn no_increase_while_a_decrease_is_recent_then_additive_probing() {
        let t0 = Instant::now();
        let mut adapter = Adapter::new(AdaptConfig::default(), t0);
        for i in 0..10 {
            adapter.sent(t0 + ms(i * 100));
        }
        adapter.hint(10.0);
        adapter.update(t0 + ms(1000));
        let after = adapter.target_fps();
        for i in 10..=25 {
            let t = t0 + ms(i * 100);
            adapter.sent(t);
            adapter.round_trip(ms(20));
            adapter.update(t);
        }
        assert_eq!(adapter.target_fps(), after, "held");
        for i in 26..=40 {
            let t = t0 + ms(i * 100);
            adapter.sent(t);
            adapter.round_trip(ms(20));
            adapter.update(t);
        }
        assert!(adapter.target_fps() > after, "probing");
        assert!(adapter.target_fps() - after <= 6.0 + 1e-9, "additive");
    }

    #[test]
    fn behind_a_10_fps_cap_it_settles_under_10_and_climbs_back_when_lifted() {
        let t0 = Instant::now();
        let mut adapter = Adapter::new(AdaptConfig::default(), t0);
        let capped = simulate(&mut adapter, t0, 30, 40.0, 10, 20);
        assert!(capped.sent_fps <= 10.5, "{capped:?}");
        assert!(capped.sent_fps >= 6.0, "{capped:?}");
        let lifted = simulate(
            &mut adapter,
            t0 + Duration::from_secs(30),
            15,
            40.0,
            u32::MAX,
            20,
        );
        assert!(lifted.sent_fps > 15.0, "{lifted:?}");
    }

    #[test]
    fn a_slow_server_keeps_the_round_trip_under_the_budget_and_the_rate_recovers() {
        let t0 = Instant::now();
        let mut adapter = Adapter::new(AdaptConfig::default(), t0);
        let slow = simulate(&mut adapter, t0, 30, 8.0, u32::MAX, 60);
        assert!(slow.latency_ms <= 150, "{slow:?}");
        assert!(slow.sent_fps >= 4.0, "{slow:?}");
        let fast = simulate(
            &mut adapter,
            t0 + Duration::from_secs(30),
            20,
            60.0,
            u32::MAX,
            60,
        );
        assert!(fast.sent_fps > 15.0, "{fast:?}");
        assert!(fast.latency_ms <= 150, "{fast:?}");
    }
}
