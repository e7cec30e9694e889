//! No allocation per frame on the hot paths after warm-up, checked with a counting allocator
//! (per thread, so tests running in parallel do not disturb each other).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use livepose_core::image::{
    crop_rotated, letterbox, Border, Codec, DecoderConfig, Downscaler, ImageDecoder, JpegBackend,
    RgbImage, RotatedRect, TensorSpec,
};
use livepose_core::smoothing::{LandmarkSmoother, SmoothingConfig};
use livepose_core::stats::StreamStats;
use livepose_core::types::{Joint, JointAngle, Landmark, Point3, Pose};
use livepose_core::wire::{
    FrameBuffer, FrameHeader, FrameView, ImageFormat, ResultMessage, ResultView,
};
use livepose_core::{LatestSlot, MonotonicClock, Timestamp};
use livepose_test_support::{data, frames};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|a| a.set(a.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Runs `frame` once to warm up, then 50 more times, and returns the allocations of those.
fn steady_state(mut frame: impl FnMut()) -> u64 {
    frame();
    allocations(|| (0..50).for_each(|_| frame()))
}

#[test]
fn slot_and_clock() {
    let slot = LatestSlot::new();
    let clock = MonotonicClock::system();
    let n = steady_state(|| {
        slot.put(clock.now()).unwrap();
        slot.put(clock.now()).unwrap();
        slot.take().unwrap();
    });
    assert_eq!(n, 0);
}

#[test]
fn wire_encode_and_decode() {
    let result = ResultMessage {
        poses: vec![Pose {
            landmarks: vec![Landmark::default(); 33],
            world_landmarks: vec![Point3::default(); 33],
            angles: vec![
                JointAngle {
                    joint: Joint::LeftKnee,
                    degrees: 1.0
                };
                11
            ],
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut frame = FrameBuffer::new();
    std::io::Write::write_all(&mut frame, &[0xFF, 0xD8, 0xFF, 0, 0]).unwrap();
    let header = FrameHeader::new(1, 2, ImageFormat::Encoded(Codec::Jpeg));
    let n = steady_state(|| {
        result.encode_into(&mut out).unwrap();
        let view = ResultView::parse(&out).unwrap();
        let sum: f32 = view
            .poses()
            .flat_map(|p| p.landmarks().iter())
            .map(|l| l.x)
            .sum();
        assert_eq!(sum, 0.0);
        let message = frame.finish(&header).unwrap();
        assert_eq!(FrameView::parse(message).unwrap().header.sequence, 1);
    });
    assert_eq!(n, 0);
}

#[test]
fn image_geometry_and_smoothing() {
    let jpeg = frames::jpeg_frame(frames::OUTDOOR, 30, 1280, 720);
    let mut image = RgbImage::new();
    ImageDecoder::default().decode(&jpeg, &mut image).unwrap();
    let mut tensor = Vec::new();
    let landmark = TensorSpec {
        size: 256,
        range: (0.0, 1.0),
        border: Border::Replicate,
    };
    let detector = TensorSpec {
        size: 224,
        range: (-1.0, 1.0),
        border: Border::Zero,
    };
    let mut smoother = LandmarkSmoother::new(SmoothingConfig::mediapipe_image());
    let mut landmarks = vec![Landmark::default(); 33];
    let mut stats = StreamStats::new();
    let mut t = 0;
    let n = steady_state(|| {
        letterbox(image.view(), &detector, &mut tensor);
        crop_rotated(
            image.view(),
            &RotatedRect::new(600.0, 360.0, 500.0, 500.0, 0.2),
            &landmark,
            &mut tensor,
        );
        t += 33_333;
        smoother.apply(&mut landmarks, Timestamp::from_micros(t), 1.0);
        stats.record_frame();
        stats.record_result(10_000, t);
    });
    assert_eq!(n, 0);
}

#[test]
fn downscale_allocations_are_reported() {
    // fast_image_resize recomputes its filter coefficients on every call (a few small vectors
    // per output row); measured and printed, not asserted. The pose pipeline crops from the
    // full-resolution frame and does not need it.
    let jpeg = frames::jpeg_frame(frames::OUTDOOR, 30, 1280, 720);
    let mut image = RgbImage::new();
    ImageDecoder::default().decode(&jpeg, &mut image).unwrap();
    let mut downscaler = Downscaler::new();
    let n = steady_state(|| {
        assert_eq!(
            downscaler
                .to_short_side(image.view(), 384)
                .unwrap()
                .height(),
            384
        );
    });
    println!(
        "downscale 1280x720 -> 683x384: {:.0} heap allocations per call",
        n as f64 / 50.0
    );
}

#[test]
fn jpeg_decode_allocations_are_reported() {
    // The output buffer is reused; the JPEG libraries keep some internal per-decode state.
    // This is measured and printed, not asserted to be zero.
    let jpeg = frames::jpeg_frame(frames::OUTDOOR, 30, 640, 480);
    for &backend in JpegBackend::AVAILABLE {
        let mut decoder = ImageDecoder::new(DecoderConfig::default().jpeg(backend));
        let mut image = RgbImage::new();
        let n = steady_state(|| decoder.decode(&jpeg, &mut image).unwrap());
        println!(
            "{backend:?}: {:.1} heap allocations per 640x480 decode (Rust side)",
            n as f64 / 50.0
        );
        let capacity_before = image.data().as_ptr();
        decoder.decode(&jpeg, &mut image).unwrap();
        assert_eq!(
            image.data().as_ptr(),
            capacity_before,
            "output buffer reused"
        );
    }
}

#[test]
fn pose_pipeline_allocates_only_inside_onnx_runtime() {
    use livepose_core::image::RgbView;
    use livepose_core::inference::landmarks::LANDMARK_SIGNATURE;
    use livepose_core::inference::{Frame, Model, ModelSource, Pipeline, SessionConfig};

    let models = data::data_dir().join("models");
    // The landmark model's `run` alone: ort builds a few small vectors per call.
    let mut model = Model::load(
        ModelSource::Path(&models.join("pose_landmark_lite.onnx")),
        LANDMARK_SIGNATURE,
        &SessionConfig::default(),
    )
    .unwrap();
    let input = vec![0.5f32; LANDMARK_SIGNATURE.input_len()];
    let per_run = steady_state(|| {
        model.run(&input).unwrap();
    }) as f64
        / 50.0;
    // The whole pipeline on a tracked person: one landmark run per frame.
    let jpeg = frames::jpeg_frame(frames::LAB, 12, 540, 960);
    let mut decoded = RgbImage::new();
    ImageDecoder::default().decode(&jpeg, &mut decoded).unwrap();
    let mut pipeline = Pipeline::builder().models_dir(&models).build().unwrap();
    for _ in 0..3 {
        pipeline.process(Frame::Rgb(decoded.view()), None).unwrap();
    }
    let view = RgbView::new(decoded.width(), decoded.height(), decoded.data()).unwrap();
    let per_frame = steady_state(|| {
        let result = pipeline.process(Frame::Rgb(view), None).unwrap();
        assert_eq!(result.poses.len(), 1);
    }) as f64
        / 50.0;
    println!("heap allocations: {per_run:.1} per landmark-model run inside ort, {per_frame:.1} per tracked frame in all");
    assert_eq!(
        per_frame, per_run,
        "everything outside ort's run is allocation-free"
    );
}

#[test]
fn hands_allocate_only_inside_onnx_runtime() {
    use livepose_core::inference::hand_landmarks::HAND_SIGNATURE;
    use livepose_core::inference::landmarks::LANDMARK_SIGNATURE;
    use livepose_core::inference::{Frame, Model, ModelSource, Pipeline, SessionConfig};

    let models = data::data_dir().join("models");
    let per_run = |file: &str, signature| {
        let mut model = Model::load(
            ModelSource::Path(&models.join(file)),
            signature,
            &SessionConfig::default(),
        )
        .unwrap();
        let input = vec![
            0.5f32;
            LANDMARK_SIGNATURE
                .input_len()
                .max(HAND_SIGNATURE.input_len())
        ];
        let n = steady_state(|| {
            model.run(&input[..signature.input_len()]).unwrap();
        });
        n as f64 / 50.0
    };
    let pose_run = per_run("pose_landmark_lite.onnx", LANDMARK_SIGNATURE);
    let hand_run = per_run("hand_landmark_full.onnx", HAND_SIGNATURE);
    // A frame where both hands are found and then tracked: one pose run and one hand run
    // per hand per frame.
    let jpeg = frames::jpeg_frame(frames::LAB, 50, 1080, 1920);
    let mut decoded = RgbImage::new();
    ImageDecoder::default().decode(&jpeg, &mut decoded).unwrap();
    let mut pipeline = Pipeline::builder()
        .models_dir(&models)
        .hands(true)
        .build()
        .unwrap();
    for _ in 0..3 {
        pipeline.process(Frame::Rgb(decoded.view()), None).unwrap();
    }
    let hands = pipeline
        .process(Frame::Rgb(decoded.view()), None)
        .unwrap()
        .poses[0]
        .hands
        .len();
    assert_eq!(hands, 2, "both hands tracked on this frame");
    let per_frame = steady_state(|| {
        let result = pipeline.process(Frame::Rgb(decoded.view()), None).unwrap();
        assert_eq!(result.poses[0].hands.len(), 2);
    }) as f64
        / 50.0;
    println!("heap allocations: {pose_run:.1} per pose run and {hand_run:.1} per hand run inside ort, {per_frame:.1} per tracked frame with two hands");
    assert_eq!(per_frame, pose_run + 2.0 * hand_run);
}
