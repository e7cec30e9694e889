//! Synthetic-signal tests: step, ramp, noise around a constant, irregular timestamps.

use super::*;

const FRAME_US: u64 = 33_333;

fn ts(us: u64) -> Timestamp {
    Timestamp::from_micros(us)
}

/// Runs a one-landmark signal `(t_us, x)` through a smoother; returns the filtered x values.
fn run(config: SmoothingConfig, signal: &[(u64, f32)], value_scale: f32) -> Vec<f32> {
    let mut smoother = LandmarkSmoother::new(config);
    signal
        .iter()
        .map(|&(t, x)| {
            let mut lm = [Landmark {
                x,
                y: x,
                z: x,
                visibility: 1.0,
                presence: 1.0,
            }];
            smoother.apply(&mut lm, ts(t), value_scale);
            assert_eq!(lm[0].x, lm[0].y, "coordinates are filtered alike");
            lm[0].x
        })
        .collect()
}

/// Deterministic uniform noise in [-amplitude, amplitude] (64-bit LCG).
fn noise(n: usize, amplitude: f32, seed: u64) -> Vec<f32> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let unit = (state >> 40) as f32 / (1u64 << 24) as f32; // [0, 1)
            (unit * 2.0 - 1.0) * amplitude
        })
        .collect()
}

fn std_dev(values: &[f32]) -> f32 {
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / values.len() as f32).sqrt()
}

#[test]
fn ema_step_response_follows_alpha() {
    let signal: Vec<_> = (0..6)
        .map(|i| (i * FRAME_US, if i == 0 { 0.0 } else { 1.0 }))
        .collect();
    let out = run(SmoothingConfig::ema(0.7), &signal, 1.0);
    let expected = [0.0, 0.7, 0.91, 0.973, 0.9919, 0.99757];
    for (o, e) in out.iter().zip(expected) {
        assert!((o - e).abs() < 1e-4, "{out:?}");
    }
}

#[test]
fn one_euro_step_settles_without_overshoot() {
    // A 10% step (relative to an object of size 1) at 30 fps, MediaPipe's image parameters.
    let signal: Vec<_> = (0..60)
        .map(|i| (i * FRAME_US, if i < 10 { 0.5 } else { 0.6 }))
        .collect();
    let out = run(SmoothingConfig::mediapipe_image(), &signal, 1.0);
    assert!(out[..10].iter().all(|v| (*v - 0.5).abs() < 1e-6));
    assert!(
        out.iter().all(|v| *v <= 0.6 + 1e-6),
        "no overshoot: {out:?}"
    );
    assert!(
        out[10] > 0.55,
        "fast motion is followed quickly: {}",
        out[10]
    );
    assert!((out[59] - 0.6).abs() < 0.002, "settles: {}", out[59]);
}

#[test]
fn one_euro_ramp_lag_shrinks_with_beta() {
    // A person moving at 0.5 object-sizes per second.
    let signal: Vec<_> = (0..90)
        .map(|i| (i * FRAME_US, i as f32 * 0.5 / 30.0))
        .collect();
    let last = signal.last().unwrap().1;
    let lag = |params| last - run(SmoothingConfig::one_euro(params, 1.0), &signal, 1.0)[89];
    let still = OneEuroParams {
        min_cutoff: 0.05,
        beta: 0.0,
        ..OneEuroParams::MEDIAPIPE_IMAGE
    };
    let (lag_still, lag_adaptive) = (lag(still), lag(OneEuroParams::MEDIAPIPE_IMAGE));
    assert!(lag_adaptive > 0.0 && lag_adaptive < 0.02, "{lag_adaptive}");
    assert!(
        lag_adaptive * 20.0 < lag_still,
        "beta must cut lag: {lag_adaptive} vs {lag_still}"
    );
}

#[test]
fn jitter_drops_by_a_measured_factor() {
    let jitter = noise(300, 0.01, 7);
    let signal: Vec<_> = jitter
        .iter()
        .enumerate()
        .map(|(i, n)| (i as u64 * FRAME_US, 0.5 + n))
        .collect();
    let input = std_dev(&jitter);
    let factor = |config, scale| {
        let out = run(config, &signal, scale);
        input / std_dev(&out[30..])
    };
    let ema = factor(SmoothingConfig::ema(0.7), 1.0);
    let euro = factor(
        SmoothingConfig::one_euro(OneEuroParams::default(), 1.0),
        1.0,
    );
    let mediapipe = factor(SmoothingConfig::mediapipe_image(), 1.0);
    println!("jitter reduction: ema(0.7) {ema:.2}x, one euro(1, 0) {euro:.2}x, mediapipe image {mediapipe:.2}x");
    // White noise through an EMA: std ratio sqrt((2 - a) / a) = 1.36 for a = 0.7.
    assert!((ema - 1.36).abs() < 0.15, "ema {ema}");
    // min cut-off 1 Hz at 30 fps: alpha 0.17, ratio sqrt(1.83 / 0.17) = 3.3.
    assert!(euro > 2.8, "one euro {euro}");
    // MediaPipe's parameters favour responsiveness: 1% jitter reads as motion (measured 1.81x).
    assert!(mediapipe > 1.5, "mediapipe image {mediapipe}");
}

#[test]
fn irregular_timestamps_keep_the_lag_in_time() {
    // The same 0.2 units/s ramp sampled at 30 fps and at irregular intervals, including a
    // 250 ms gap of dropped frames: the time-aware filter lags by about the same time.
    let params = OneEuroParams {
        min_cutoff: 2.0,
        beta: 0.0,
        ..OneEuroParams::default()
    };
    let velocity = 0.2;
    let regular: Vec<_> = (0..90)
        .map(|i| {
            let t = i * FRAME_US;
            (t, velocity * t as f32 * 1e-6)
        })
        .collect();
    let mut t = 0;
    let mut irregular = Vec::new();
    for step in [10_000u64, 50_000, 20_000, 100_000, 33_000].iter().cycle() {
        if t > 2_700_000 {
            break;
        }
        irregular.push((t, velocity * t as f32 * 1e-6));
        t += if irregular.len() == 20 {
            250_000
        } else {
            *step
        };
    }
    let time_lag = |signal: &[(u64, f32)]| {
        let out = run(SmoothingConfig::one_euro(params, 1.0), signal, 1.0);
        let (_, last_in) = signal[signal.len() - 1];
        (last_in - out[out.len() - 1]) / velocity
    };
    let (lag_regular, lag_irregular) = (time_lag(&regular), time_lag(&irregular));
    // A first-order low-pass at 2 Hz lags a ramp by about 1 / (2 pi 2) = 80 ms.
    assert!((lag_regular - 0.08).abs() < 0.03, "{lag_regular}");
    assert!(
        (lag_irregular - lag_regular).abs() < 0.35 * lag_regular,
        "regular {lag_regular} s, irregular {lag_irregular} s"
    );
}

#[test]
fn visibility_is_low_passed_separately() {
    let mut smoother =
        LandmarkSmoother::new(SmoothingConfig::one_euro(OneEuroParams::default(), 0.1));
    let mut lm = [Landmark {
        visibility: 0.0,
        ..Default::default()
    }];
    smoother.apply(&mut lm, ts(0), 1.0);
    lm[0].visibility = 1.0;
    smoother.apply(&mut lm, ts(FRAME_US), 1.0);
    assert!((lm[0].visibility - 0.1).abs() < 1e-6);
    assert_eq!(lm[0].x, 0.0);
}

#[test]
fn reset_forgets_the_previous_subject() {
    let mut smoother = LandmarkSmoother::new(SmoothingConfig::ema(0.5));
    let mut a = [Point3 {
        x: 0.0,
        y: 0.0,
        z: 0.0,
    }];
    smoother.apply(&mut a, ts(0), 1.0);
    smoother.reset();
    let mut b = [Point3 {
        x: 1.0,
        y: 1.0,
        z: 1.0,
    }];
    smoother.apply(&mut b, ts(FRAME_US), 1.0);
    assert_eq!(b[0].x, 1.0, "no blending with the lost subject");
}

#[test]
fn landmark_count_change_resets() {
    let mut smoother = LandmarkSmoother::new(SmoothingConfig::ema(0.5));
    let mut one = [Point3::default()];
    smoother.apply(&mut one, ts(0), 1.0);
    let mut two = [Point3 {
        x: 1.0,
        y: 1.0,
        z: 1.0,
    }; 2];
    smoother.apply(&mut two, ts(FRAME_US), 1.0);
    assert_eq!(two[0].x, 1.0);
}

/// The input lag of a filter at the end of a ramp at `speed` (object sizes per second, the
/// object of size 1), 30 fps: how far behind it is, in seconds.
fn ramp_lag(config: SmoothingConfig, speed: f32) -> f32 {
    let signal: Vec<_> = (0..240)
        .map(|i| (i * FRAME_US, i as f32 * speed / 30.0))
        .collect();
    let out = run(config, &signal, 1.0);
    (signal[239].1 - out[239]) / speed
}

#[test]
fn steady_filters_noise_harder_than_mediapipe() {
    // Camera noise on a still landmark: 0.5% of the object's size, uniform.
    let jitter = noise(300, 0.005, 11);
    let signal: Vec<_> = jitter
        .iter()
        .enumerate()
        .map(|(i, n)| (i as u64 * FRAME_US, 0.5 + n))
        .collect();
    let out_std = |config| std_dev(&run(config, &signal, 1.0)[30..]);
    let (mediapipe, steady) = (
        out_std(SmoothingConfig::mediapipe_image()),
        out_std(SmoothingConfig::steady_image()),
    );
    println!(
        "still noise std: input {:.2e}, mediapipe {mediapipe:.2e}, steady {steady:.2e}",
        std_dev(&jitter)
    );
    // The noise's apparent speed stays under the floor: a 1 Hz low-pass at 30 fps
    // (alpha 0.17), std ratio sqrt(0.17 / 1.83) = 0.30 of the input.
    assert!(steady < 0.35 * std_dev(&jitter), "steady {steady}");
    // White noise is kind to MediaPipe's filter (measured 0.39 of the input here, steady
    // 0.32); on real clips steady's jitter is 0.56-0.73x MediaPipe's (benches/smoothing.rs).
    assert!(
        steady < 0.9 * mediapipe,
        "steady {steady}, mediapipe {mediapipe}"
    );
}

#[test]
fn steady_lags_no_more_than_mediapipe_on_fast_motion() {
    for speed in [0.5, 1.0, 2.0] {
        let (mediapipe, steady) = (
            ramp_lag(SmoothingConfig::mediapipe_image(), speed),
            ramp_lag(SmoothingConfig::steady_image(), speed),
        );
        assert!(
            steady <= mediapipe,
            "at {speed} sizes/s: steady {steady} s, mediapipe {mediapipe} s"
        );
        assert!(steady < 0.005, "{steady}");
    }
}

#[test]
fn steady_follows_slow_drift_at_its_minimum_cutoff() {
    // Under the speed floor the filter is a 1 Hz low-pass: a ramp lags by about
    // 1 / (2 pi 1 Hz) = 160 ms (the documented price; MediaPipe's lags 40 ms here).
    let lag = ramp_lag(SmoothingConfig::steady_image(), 0.05);
    assert!((lag - 0.16).abs() < 0.03, "{lag}");
    // Just above the floor the cut-off climbs and the lag falls.
    assert!(ramp_lag(SmoothingConfig::steady_image(), 0.4) < 0.02);
}

#[test]
fn a_zero_speed_floor_is_the_one_euro_filter() {
    // The same parameters with and without the field's default give the same output, and
    // a floor above every speed leaves a plain low-pass at the minimum cut-off.
    let signal: Vec<_> = noise(60, 0.05, 3)
        .iter()
        .enumerate()
        .map(|(i, n)| (i as u64 * FRAME_US, 0.5 + i as f32 * 0.01 + n))
        .collect();
    let mediapipe = run(SmoothingConfig::mediapipe_image(), &signal, 1.0);
    let explicit = OneEuroParams {
        speed_floor: 0.0,
        ..OneEuroParams::MEDIAPIPE_IMAGE
    };
    assert_eq!(
        run(SmoothingConfig::one_euro(explicit, 0.1), &signal, 1.0),
        mediapipe
    );
    let floored = OneEuroParams {
        speed_floor: 1e9,
        ..OneEuroParams::MEDIAPIPE_IMAGE
    };
    let still = OneEuroParams {
        beta: 0.0,
        ..OneEuroParams::MEDIAPIPE_IMAGE
    };
    assert_eq!(
        run(SmoothingConfig::one_euro(floored, 0.1), &signal, 1.0),
        run(SmoothingConfig::one_euro(still, 0.1), &signal, 1.0)
    );
}

proptest::proptest! {
    /// Whatever the parameters and the samples, every output is a blend of inputs seen so far:
    /// it stays within their range (no overshoot, no blow-up), and the first passes through.
    #[test]
    fn one_euro_output_stays_within_the_inputs(
        values in proptest::collection::vec(-1000.0f32..1000.0, 1..80),
        gaps in proptest::collection::vec(1u64..200_000, 80),
        min_cutoff in 0.01f32..10.0,
        beta in 0.0f32..500.0,
        derivative_cutoff in 0.1f32..10.0,
        speed_floor in 0.0f32..10.0,
        value_scale in 0.001f32..10.0,
    ) {
        let params = OneEuroParams { min_cutoff, beta, derivative_cutoff, speed_floor, ..OneEuroParams::default() };
        let mut t = 0;
        let signal: Vec<_> = values.iter().zip(&gaps).map(|(&v, &gap)| { t += gap; (t, v) }).collect();
        let out = run(SmoothingConfig::one_euro(params, 1.0), &signal, value_scale);
        proptest::prop_assert_eq!(out[0], values[0]);
        let (mut lo, mut hi) = (f32::MAX, f32::MIN);
        for (v, o) in values.iter().zip(&out) {
            lo = lo.min(*v);
            hi = hi.max(*v);
            let slack = 1e-3 * hi.abs().max(lo.abs()).max(1.0);
            proptest::prop_assert!(*o >= lo - slack && *o <= hi + slack, "{} outside [{}, {}]", o, lo, hi);
        }
    }
}
