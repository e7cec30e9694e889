//! What the uplink's codec changes (issue 24): landmarks found on 480p frames that went
//! through H.264 (OpenH264 at 1 Mbit/s and 30 fps, every frame encoded in order, decoded as
//! the server does) and through JPEG at the quality that fits 4 Mbit/s at 30 fps, against
//! MediaPipe's image-mode output on the original frames (`tests/data/reference/`), with the
//! same 480p frames uncompressed as the baseline. Image mode (detector then landmarks on
//! every 2nd frame), the error as in `fidelity.rs`: mean pixel distance over the 33
//! landmarks / diagonal of the reference pose's box. Prints the table (with the share of
//! MediaPipe's poses found); asserts that H.264 changes little against the uncompressed
//! frames (the goals, median <= 0.01 and p95 <= 0.03, are reported).

use livepose_core::image::{encode_jpeg, ImageDecoder, RgbImage, RgbView};
use livepose_core::inference::roi::{roi_from_alignment, POSE_ROI_SCALE};
use livepose_core::inference::{
    LandmarkOutput, ModelSource, PoseDetector, PoseLandmarker, SessionConfig,
};
use livepose_core::video::{EncoderSettings, H264Decoder, H264Encoder};
use livepose_test_support::{data, frames, reference};

/// 4 Mbit/s at 30 fps: bytes per frame.
const JPEG_BUDGET: usize = 4_000_000 / 8 / 30;

/// The clip's frames scaled to `width`x`height` by ffmpeg (area averaging), RGB8.
fn frames_480p(clip: &str, width: u32, height: u32) -> Vec<Vec<u8>> {
    let scale = format!("scale={width}:{height}:flags=area");
    frames::rgb_frames(&data::clip(clip), Some(&scale), None, width, height)
}

/// The frames through H.264 at `bitrate_bps`: what the decoder gives back, and the mean
/// bytes per frame.
fn through_h264(
    frames: &[Vec<u8>],
    width: u32,
    height: u32,
    bitrate_bps: u32,
) -> (Vec<Vec<u8>>, usize) {
    let settings = EncoderSettings {
        bitrate_bps,
        max_fps: 30.0,
        keyframe_interval: 90,
    };
    let mut encoder = H264Encoder::new(settings).unwrap();
    let mut decoder = H264Decoder::new(u64::from(width * height)).unwrap();
    let (mut au, mut rgb, mut bytes) = (Vec::new(), RgbImage::new(), 0);
    let mut out = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        let view = RgbView::new(width, height, frame).unwrap();
        encoder.encode(view, 33 * i as u64, &mut au).unwrap();
        bytes += au.len();
        assert!(
            decoder.decode_rgb(&au, &mut rgb).unwrap(),
            "frame {i} decoded"
        );
        out.push(rgb.data().to_vec());
    }
    (out, bytes / frames.len())
}

/// The frames through JPEG at the highest quality whose mean size fits `budget` bytes:
/// the decoded frames, the quality, the mean bytes per frame.
fn through_jpeg(
    frames: &[Vec<u8>],
    width: u32,
    height: u32,
    budget: usize,
) -> (Vec<Vec<u8>>, u8, usize) {
    let mut jpeg = Vec::new();
    let encoded = |quality: u8, jpeg: &mut Vec<u8>| -> Vec<Vec<u8>> {
        frames
            .iter()
            .map(|f| {
                jpeg.clear();
                encode_jpeg(RgbView::new(width, height, f).unwrap(), quality, jpeg).unwrap();
                jpeg.clone()
            })
            .collect()
    };
    // The size grows with the quality: the highest that fits, on every 8th frame first.
    let sample: Vec<Vec<u8>> = frames.iter().step_by(8).cloned().collect();
    let mean = |files: &[Vec<u8>]| files.iter().map(Vec::len).sum::<usize>() / files.len();
    let mut quality = 95u8;
    while quality > 10 {
        let files: Vec<Vec<u8>> = sample
            .iter()
            .map(|f| {
                jpeg.clear();
                encode_jpeg(RgbView::new(width, height, f).unwrap(), quality, &mut jpeg).unwrap();
                jpeg.clone()
            })
            .collect();
        if mean(&files) <= budget {
            break;
        }
        quality -= 5;
    }
    let files = encoded(quality, &mut jpeg);
    let mut decoder = ImageDecoder::default();
    let mut rgb = RgbImage::new();
    let decoded = files
        .iter()
        .map(|f| {
            decoder.decode(f, &mut rgb).unwrap();
            rgb.data().to_vec()
        })
        .collect();
    (decoded, quality, mean(&files))
}

/// Median and 95th percentile of the landmark error of `frames` (480p) against the
/// reference; and the share of reference poses found.
fn errors(
    frames: &[Vec<u8>],
    width: u32,
    height: u32,
    r: &reference::Reference,
    max_poses: usize,
) -> (f32, f32, f64) {
    let models = data::data_dir().join("models");
    let config = SessionConfig::default();
    let mut detector = PoseDetector::load(
        ModelSource::Path(&models.join("pose_detection.onnx")),
        &config,
    )
    .unwrap();
    let mut landmarker = PoseLandmarker::load(
        ModelSource::Path(&models.join("pose_landmark_full.onnx")),
        &config,
    )
    .unwrap();
    let (w, h) = (width as f32, height as f32);
    let (mut detections, mut output) = (Vec::new(), LandmarkOutput::default());
    let (mut errors, mut wanted) = (Vec::new(), 0usize);
    // Every 2nd frame (all of them were encoded and decoded).
    for (pixels, references) in frames.iter().zip(&r.frames).step_by(2) {
        let image = RgbView::new(width, height, pixels).unwrap();
        detector.detect(image, max_poses, &mut detections).unwrap();
        let mut poses = Vec::new();
        for d in &detections {
            let roi = roi_from_alignment(d.keypoints[0], d.keypoints[1], w, h, POSE_ROI_SCALE);
            landmarker.crop(image, &roi);
            landmarker.infer(&roi, w, h, &mut output).unwrap();
            if output.presence >= 0.5 {
                poses.push(
                    output.landmarks[..33]
                        .iter()
                        .map(|l| [l.x, l.y])
                        .collect::<Vec<_>>(),
                );
            }
        }
        for reference in references {
            wanted += 1;
            let (rw, rh) = (r.width as f32, r.height as f32);
            let best = poses
                .iter()
                .map(|xy| reference::landmark_error(xy, reference, rw, rh))
                .min_by(f32::total_cmp);
            errors.extend(best);
        }
    }
    let found = errors.len() as f64 / wanted.max(1) as f64;
    (
        reference::quantile(&errors, 0.5),
        reference::quantile(&errors, 0.95),
        found,
    )
}

fn compare(clip: &str, width: u32, height: u32, max_poses: usize) {
    let r = reference::load_reference(&format!("{clip}.full.image.jsonl"));
    let frames = frames_480p(&format!("{clip}.mp4"), width, height);
    assert_eq!(frames.len(), r.frames.len(), "{clip}: frame count");
    let (h264, h264_bytes) = through_h264(&frames, width, height, 1_000_000);
    let (jpeg, quality, jpeg_bytes) = through_jpeg(&frames, width, height, JPEG_BUDGET);
    let rows = [
        (format!("{width}x{height}, uncompressed"), frames, 0),
        (
            format!("H.264 1 Mbit/s ({h264_bytes} B/frame)"),
            h264,
            h264_bytes,
        ),
        (
            format!("JPEG q{quality}, fits 4 Mbit/s ({jpeg_bytes} B/frame)"),
            jpeg,
            jpeg_bytes,
        ),
    ];
    let figures: Vec<(f32, f32, f64)> = rows
        .iter()
        .map(|(what, frames, _)| {
            let (median, p95, found) = errors(frames, width, height, &r, max_poses);
            println!(
                "| {clip} | {what} | {median:.4} | {p95:.4} | {:.1}% |",
                100.0 * found
            );
            (median, p95, found)
        })
        .collect();
    // H.264 at 1 Mbit/s changes little against the same frames uncompressed (with a margin
    // over what was measured; issue 24's goals, median <= 0.01 and p95 <= 0.03, are
    // reported, not asserted: at 480p the frames' size alone costs more than that p95).
    let (plain, h264) = (figures[0], figures[1]);
    assert!(
        h264.0 <= plain.0 + 0.02,
        "{clip}: H.264 median {} against {}",
        h264.0,
        plain.0
    );
    assert!(
        h264.2 >= plain.2 - 0.05,
        "{clip}: H.264 found {} against {}",
        h264.2,
        plain.2
    );
}

#[test]
fn the_codecs_against_mediapipe_on_the_lab_dance() {
    compare("lab_dance_1080x1920_60fps", 480, 854, 1);
}

#[test]
fn the_codecs_against_mediapipe_outdoors() {
    compare("outdoor_two_people_1768x994_30fps", 854, 480, 2);
}
