//! Pose pipeline timings on real JPEG frames (a bench binary that prints its figures;
//! `cargo bench --bench pipeline`):
//!
//! 1. per frame, live mode, 640x480 JPEG, one thread: decode, crop, landmarks, post and total,
//!    against the landmark model's own `session.run` measured in the same run (the floor);
//! 2. the same with the full model, and in image mode (detector on every frame);
//! 3. throughput per core, live mode, the shared clips as 854x480 JPEGs, decode included;
//! 4. ONNX Runtime options: graph optimisation level and thread spinning, model time each.
//!
//! In test mode (`cargo test --benches`) it runs a few frames only.

use std::time::Instant;

use livepose_core::inference::landmarks::{LANDMARK_SIGNATURE, LANDMARK_SIGNATURE_WITH_MASK};
use livepose_core::inference::session::ModelSignature;
use livepose_core::inference::{
    Frame, GraphOptimization, Model, ModelSource, Pipeline, SessionConfig,
};
use livepose_core::types::StageTimings;
use livepose_core::wire::control::{ModelKind, RunMode};
use livepose_core::Timestamp;
use livepose_test_support::{data, frames};

fn models_dir() -> std::path::PathBuf {
    data::models()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Median time of `model.run` on a fixed crop-like tensor, in µs.
fn model_run_us(model: ModelKind, config: &SessionConfig, iterations: usize) -> f64 {
    signature_run_us(model, LANDMARK_SIGNATURE, config, iterations)
}

fn signature_run_us(
    model: ModelKind,
    signature: ModelSignature,
    config: &SessionConfig,
    iterations: usize,
) -> f64 {
    let file = match model {
        ModelKind::Lite => "pose_landmark_lite.onnx",
        ModelKind::Full => "pose_landmark_full.onnx",
    };
    let mut m = Model::load(
        ModelSource::Path(&models_dir().join(file)),
        signature,
        config,
    )
    .unwrap();
    let input: Vec<f32> = (0..LANDMARK_SIGNATURE.input_len())
        .map(|i| (i % 255) as f32 / 255.0)
        .collect();
    let times = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            let _ = m.run(&input).unwrap();
            t.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    median(times)
}

struct StageMedians {
    decode: f64,
    detect: f64,
    crop: f64,
    landmarks: f64,
    post: f64,
    total: f64,
}

fn stage_medians(timings: &[StageTimings]) -> StageMedians {
    let m = |f: fn(&StageTimings) -> u32| median(timings.iter().map(|t| f64::from(f(t))).collect());
    StageMedians {
        decode: m(|t| t.decode),
        detect: m(|t| t.detect),
        crop: m(|t| t.crop),
        landmarks: m(|t| t.landmarks),
        post: m(|t| t.post),
        total: m(|t| t.total),
    }
}

fn per_frame(model: ModelKind, mode: RunMode, jpegs: &[Vec<u8>]) -> StageMedians {
    let mut pipeline = Pipeline::builder()
        .model(model)
        .mode(mode)
        .models_dir(models_dir())
        .build()
        .unwrap();
    let mut timings = Vec::new();
    for (i, jpeg) in jpegs.iter().enumerate() {
        let ts = Timestamp::from_micros(i as u64 * 33_333);
        let result = pipeline.process(Frame::Encoded(jpeg), Some(ts)).unwrap();
        if i > 0 {
            timings.push(result.timings);
        }
    }
    stage_medians(&timings)
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let frame_count = if quick { 4 } else { 100 };
    let iterations = if quick { 3 } else { 200 };
    let clip_640: Vec<Vec<u8>> = (0..frame_count)
        .map(|i| frames::jpeg_frame(frames::LAB, i, 480, 640))
        .collect();
    let config = SessionConfig::default();

    println!("== per frame, 640x480 JPEG (portrait 480x640 of the dance clip), 1 thread");
    println!("| model | mode | decode | detect | crop | landmarks (run + decode) | post | total | model run alone | total / model |");
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (model, name) in [(ModelKind::Lite, "lite"), (ModelKind::Full, "full")] {
        let floor = model_run_us(model, &config, iterations);
        for (mode, mode_name) in [(RunMode::Live, "live"), (RunMode::Image, "image")] {
            let s = per_frame(model, mode, &clip_640);
            println!(
                "| {name} | {mode_name} | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.0} µs | {:.2} |",
                s.decode, s.detect, s.crop, s.landmarks, s.post, s.total, floor, s.total / floor
            );
        }
    }

    println!("\n== throughput per core, live mode, 854x480 JPEG frames, decode included");
    println!("(MediaPipe's Python package on these machines: 79 fps lite, 57 fps full)");
    for (clip, count) in [(frames::OUTDOOR, 230usize), (frames::LAB, 100)] {
        let (w, h) = if clip == frames::LAB {
            (480, 854)
        } else {
            (854, 480)
        };
        let n = if quick { 3 } else { count };
        let jpegs: Vec<Vec<u8>> = (0..n).map(|i| frames::jpeg_frame(clip, i, w, h)).collect();
        for (model, name) in [(ModelKind::Lite, "lite"), (ModelKind::Full, "full")] {
            let mut pipeline = Pipeline::builder()
                .model(model)
                .models_dir(models_dir())
                .build()
                .unwrap();
            let started = Instant::now();
            for (i, jpeg) in jpegs.iter().enumerate() {
                pipeline
                    .process(
                        Frame::Encoded(jpeg),
                        Some(Timestamp::from_micros(i as u64 * 33_333)),
                    )
                    .unwrap();
            }
            let elapsed = started.elapsed();
            let fps = n as f64 / elapsed.as_secs_f64();
            let mediapipe = if model == ModelKind::Lite { 79.0 } else { 57.0 };
            println!(
                "{clip} {w}x{h} {name}: {fps:.1} fps ({n} frames in {elapsed:.2?}), {:.2}x MediaPipe",
                fps / mediapipe
            );
        }
    }

    println!("\n== ONNX Runtime options, landmark model run alone (median µs)");
    for (model, name) in [(ModelKind::Lite, "lite"), (ModelKind::Full, "full")] {
        println!(
            "{name}: segmentation head pruned (default) {:.0} µs, kept {:.0} µs",
            model_run_us(model, &config, iterations),
            signature_run_us(model, LANDMARK_SIGNATURE_WITH_MASK, &config, iterations)
        );
    }
    for (label, cfg) in [
        (
            "optimisation all, no spinning (default)",
            SessionConfig::default(),
        ),
        (
            "optimisation extended",
            SessionConfig::default().optimization(GraphOptimization::Extended),
        ),
        (
            "optimisation basic",
            SessionConfig::default().optimization(GraphOptimization::Basic),
        ),
        (
            "optimisation disabled",
            SessionConfig::default().optimization(GraphOptimization::Disable),
        ),
        ("spinning on", SessionConfig::default().spinning(true)),
        (
            "2 intra-op threads",
            SessionConfig::default().intra_threads(2),
        ),
    ] {
        println!(
            "lite, {label}: {:.0} µs",
            model_run_us(ModelKind::Lite, &cfg, iterations)
        );
    }
}
