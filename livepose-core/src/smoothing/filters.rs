//! Scalar filters: low-pass (EMA) and One Euro, with MediaPipe's semantics.

use crate::clock::Timestamp;

/// Exponential moving average: `out = alpha * new + (1 - alpha) * previous`; the first sample
/// passes through. `alpha = 1` is no smoothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct LowPass {
    state: Option<LowPassState>,
}

#[derive(Debug, Clone, Copy)]
struct LowPassState {
    raw: f32,
    filtered: f32,
}

impl LowPass {
    /// Filters `value` with weight `alpha` (clamped to 0..=1) on the new sample.
    pub fn apply(&mut self, value: f32, alpha: f32) -> f32 {
        let alpha = alpha.clamp(0.0, 1.0);
        let filtered = match self.state {
            None => value,
            Some(s) => alpha * value + (1.0 - alpha) * s.filtered,
        };
        self.state = Some(LowPassState {
            raw: value,
            filtered,
        });
        filtered
    }

    /// The last raw (unfiltered) input, if any.
    pub fn last_raw(&self) -> Option<f32> {
        self.state.map(|s| s.raw)
    }

    /// Forgets all history.
    pub fn reset(&mut self) {
        self.state = None;
    }
}

/// Parameters of the One Euro filter (Casiez et al. 2012).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OneEuroParams {
    /// Cut-off frequency (Hz) at zero speed: lower = smoother when still.
    pub min_cutoff: f32,
    /// Speed coefficient: higher = less lag when moving.
    pub beta: f32,
    /// Cut-off frequency (Hz) of the derivative's low-pass.
    pub derivative_cutoff: f32,
    /// Frequency assumed for the first pair of samples (Hz).
    pub default_frequency: f32,
    /// Speed (of the scaled value, per second) that counts as noise: the cut-off rises with
    /// the filtered speed beyond this, `min_cutoff + beta * max(0, |speed| - speed_floor)`.
    /// 0 is the One Euro filter as published and as MediaPipe has it.
    pub speed_floor: f32,
}

impl OneEuroParams {
    /// MediaPipe Pose, image landmarks (`pose_landmark_filtering.pbtxt`).
    pub const MEDIAPIPE_IMAGE: OneEuroParams = OneEuroParams {
        min_cutoff: 0.05,
        beta: 80.0,
        derivative_cutoff: 1.0,
        default_frequency: 30.0,
        speed_floor: 0.0,
    };
    /// MediaPipe Pose, world landmarks.
    pub const MEDIAPIPE_WORLD: OneEuroParams = OneEuroParams {
        min_cutoff: 0.1,
        beta: 40.0,
        derivative_cutoff: 1.0,
        default_frequency: 30.0,
        speed_floor: 0.0,
    };
    /// livepose's steadier filter for image landmarks (`value_scale = 1 / object size`):
    /// speeds under 0.15 object sizes per second count as camera noise, so a still person
    /// is filtered at 1 Hz instead of at the cut-off noise alone would set (MediaPipe's
    /// 0.05 Hz plus 80 times the noise's apparent speed); above it the cut-off climbs faster
    /// than MediaPipe's (beta 120, the speed low-passed at 2 Hz instead of 1). On real
    /// clips (full model): 0.56-0.63x MediaPipe's jitter on a still person at less lag on
    /// dancers; the price is slow drifts (under 0.15 sizes/s) followed at 1 Hz, about
    /// 160 ms behind (docs/performance.md, "Smoothing").
    pub const STEADY_IMAGE: OneEuroParams = OneEuroParams {
        min_cutoff: 1.0,
        beta: 120.0,
        derivative_cutoff: 2.0,
        default_frequency: 30.0,
        speed_floor: 0.15,
    };
    /// MediaPipe Pose, auxiliary region-of-interest landmarks.
    pub const MEDIAPIPE_AUX: OneEuroParams = OneEuroParams {
        min_cutoff: 0.01,
        beta: 10.0,
        derivative_cutoff: 1.0,
        default_frequency: 30.0,
        speed_floor: 0.0,
    };
}

impl Default for OneEuroParams {
    /// The MediaPipe proto defaults: min cut-off 1, beta 0, derivative cut-off 1, 30 Hz.
    fn default() -> Self {
        OneEuroParams {
            min_cutoff: 1.0,
            beta: 0.0,
            derivative_cutoff: 1.0,
            default_frequency: 30.0,
            speed_floor: 0.0,
        }
    }
}

/// The One Euro filter on one scalar (with an optional speed floor,
/// [`OneEuroParams::speed_floor`]), time-aware: the sampling frequency comes from the
/// timestamps, so a dropped frame (a longer gap) is filtered as the longer gap it is.
///
/// Follows MediaPipe's `OneEuroFilter` exactly: the derivative uses the last raw value; a
/// sample whose timestamp is not after the previous one passes through unfiltered (and does
/// not disturb the state); the sampling frequency is state, the configured default until two
/// timestamps give an interval, and an interval that starts at timestamp 0 does not update it
/// (`one_euro_filter.cc` updates only when both timestamps are non-zero, so a stream that
/// starts at 0 filters its second sample at the default frequency).
#[derive(Debug, Clone, Copy)]
pub struct OneEuro {
    params: OneEuroParams,
    value: LowPass,
    derivative: LowPass,
    last_time: Option<Timestamp>,
    frequency: f32,
}

/// The smoothing factor of a first-order low-pass with cut-off `cutoff` Hz at `frequency` Hz.
fn alpha(cutoff: f32, frequency: f32) -> f32 {
    let te = 1.0 / frequency;
    let tau = 1.0 / (2.0 * std::f32::consts::PI * cutoff);
    1.0 / (1.0 + tau / te)
}

impl OneEuro {
    /// A filter with no history.
    pub fn new(params: OneEuroParams) -> Self {
        OneEuro {
            params,
            value: LowPass::default(),
            derivative: LowPass::default(),
            last_time: None,
            frequency: params.default_frequency,
        }
    }

    /// Filters `value` observed at `t`. `value_scale` multiplies the derivative (MediaPipe uses
    /// `1 / object size` so that speed is measured relative to the person's size).
    pub fn apply(&mut self, value: f32, t: Timestamp, value_scale: f32) -> f32 {
        if let Some(last) = self.last_time {
            match t.micros_since(last) {
                Some(dt_us) if dt_us > 0 => {
                    if last.as_micros() != 0 {
                        self.frequency = 1e6 / dt_us as f32;
                    }
                }
                _ => return value,
            }
        }
        self.last_time = Some(t);
        let frequency = self.frequency;
        let dvalue = match self.value.last_raw() {
            Some(prev) => (value - prev) * value_scale * frequency,
            None => 0.0,
        };
        let edvalue = self
            .derivative
            .apply(dvalue, alpha(self.params.derivative_cutoff, frequency));
        let speed = (edvalue.abs() - self.params.speed_floor).max(0.0);
        let cutoff = self.params.min_cutoff + self.params.beta * speed;
        self.value.apply(value, alpha(cutoff, frequency))
    }

    /// Forgets all history.
    pub fn reset(&mut self) {
        self.value.reset();
        self.derivative.reset();
        self.last_time = None;
        self.frequency = self.params.default_frequency;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_pass_first_sample_passes_then_blends() {
        let mut f = LowPass::default();
        assert_eq!(f.apply(10.0, 0.7), 10.0);
        assert!((f.apply(20.0, 0.7) - 17.0).abs() < 1e-5);
        assert_eq!(f.last_raw(), Some(20.0));
        f.reset();
        assert_eq!(f.apply(3.0, 0.7), 3.0);
    }

    #[test]
    fn alpha_matches_mediapipe_comment() {
        // "dcutoff 1.0 => ~0.17 alpha" at 30 fps.
        assert!((alpha(1.0, 30.0) - 0.173).abs() < 0.001);
    }

    #[test]
    fn one_euro_passes_non_increasing_timestamps_through() {
        let mut f = OneEuro::new(OneEuroParams::default());
        let t = Timestamp::from_micros;
        assert_eq!(f.apply(1.0, t(1_000), 1.0), 1.0);
        let smoothed = f.apply(2.0, t(34_333), 1.0);
        assert!(smoothed > 1.0 && smoothed < 2.0);
        assert_eq!(f.apply(50.0, t(34_333), 1.0), 50.0, "equal timestamp: raw");
        assert_eq!(f.apply(50.0, t(2_000), 1.0), 50.0, "older timestamp: raw");
        // State untouched by the rejected samples.
        let next = f.apply(2.0, t(67_666), 1.0);
        assert!(next > smoothed && next < 2.0);
    }

    #[test]
    fn frequency_comes_from_intervals_except_one_starting_at_zero() {
        let params = OneEuroParams::MEDIAPIPE_IMAGE;
        let t = Timestamp::from_micros;
        // Expected second output for a step of 10 at frequency f (first derivative sample
        // low-passed from 0, as MediaPipe does).
        let expected = |f: f32| {
            let edvalue = alpha(params.derivative_cutoff, f) * 10.0 * f;
            alpha(params.min_cutoff + params.beta * edvalue, f) * 10.0
        };
        // A stream starting at 0: the interval 0 -> 10 ms leaves the default 30 Hz.
        let mut from_zero = OneEuro::new(params);
        from_zero.apply(0.0, t(0), 1.0);
        assert!((from_zero.apply(10.0, t(10_000), 1.0) - expected(30.0)).abs() < 1e-4);
        // Elsewhere the interval sets it: 10 ms -> 100 Hz.
        let mut later = OneEuro::new(params);
        later.apply(0.0, t(5_000), 1.0);
        assert!((later.apply(10.0, t(15_000), 1.0) - expected(100.0)).abs() < 1e-4);
    }
}
