//! MediaPipe's TFLite files converted to ONNX in memory give the outputs of the reference
//! ONNX conversions in `../shared/models/` (ONNX Runtime for both), on random inputs and on
//! crops of real frames: largest difference at most 1e-3 (relative to the value for
//! outputs beyond 1, the detectors' box regressors in pixels).

#[path = "support/shared.rs"]
mod support;

use livepose_core::image::{crop_rotated, Border, ImageDecoder, RgbImage, RotatedRect, TensorSpec};
use livepose_core::inference::detector::DETECTOR_SIGNATURE;
use livepose_core::inference::hand_landmarks::HAND_SIGNATURE;
use livepose_core::inference::landmarks::LANDMARK_SIGNATURE_WITH_MASK;
use livepose_core::inference::palm::PALM_SIGNATURE;
use livepose_core::inference::session::{output_f32, ModelSignature};
use livepose_core::inference::{Model, ModelSource, SessionConfig};
use livepose_core::tflite::{tflite_to_onnx, ConvertError};
use support::{jpeg_frame, shared};

/// (TFLite file, reference ONNX file, signature with every output, input value range).
const MODELS: [(&str, &str, ModelSignature, (f32, f32)); 5] = [
    (
        "pose_detection.tflite",
        "pose_detection.onnx",
        DETECTOR_SIGNATURE,
        (-1.0, 1.0),
    ),
    (
        "pose_landmark_lite.tflite",
        "pose_landmark_lite.onnx",
        LANDMARK_SIGNATURE_WITH_MASK,
        (0.0, 1.0),
    ),
    (
        "pose_landmark_full.tflite",
        "pose_landmark_full.onnx",
        LANDMARK_SIGNATURE_WITH_MASK,
        (0.0, 1.0),
    ),
    (
        "palm_detection_lite.tflite",
        "palm_detection_lite.onnx",
        PALM_SIGNATURE,
        (0.0, 1.0),
    ),
    (
        "hand_landmark_lite.tflite",
        "hand_landmark_lite.onnx",
        HAND_SIGNATURE,
        (0.0, 1.0),
    ),
];

/// Inputs: two of uniform noise in `range`, two crops of a real frame.
fn inputs(size: usize, range: (f32, f32)) -> Vec<Vec<f32>> {
    let mut state = 0x9e37_79b9_u32;
    let mut noise = || {
        (0..size * size * 3)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                range.0 + (range.1 - range.0) * (state >> 8) as f32 / (1u32 << 24) as f32
            })
            .collect::<Vec<f32>>()
    };
    let mut out = vec![noise(), noise()];
    let jpeg = jpeg_frame("outdoor_two_people_1768x994_30fps.mp4", 60, None);
    let mut image = RgbImage::new();
    ImageDecoder::default().decode(&jpeg, &mut image).unwrap();
    let spec = TensorSpec {
        size,
        range,
        border: Border::Zero,
    };
    let (w, h) = (image.width() as f32, image.height() as f32);
    for rect in [
        RotatedRect::new(w / 2.0, h / 2.0, w, w, 0.0),
        RotatedRect::new(0.3 * w, 0.5 * h, 0.6 * h, 0.6 * h, 0.3),
    ] {
        let mut tensor = Vec::new();
        crop_rotated(image.view(), &rect, &spec, &mut tensor);
        out.push(tensor);
    }
    out
}

fn run(model: &mut Model, input: &[f32], outputs: usize) -> Vec<Vec<f32>> {
    let result = model.run(input).unwrap();
    (0..outputs)
        .map(|i| output_f32(&result, i, "model").unwrap().to_vec())
        .collect()
}

#[test]
fn converted_models_match_the_reference_onnx() {
    let config = SessionConfig::default();
    for (tflite, onnx, signature, range) in MODELS {
        let bytes = std::fs::read(shared().join("models/tflite").join(tflite)).unwrap();
        let converted = tflite_to_onnx(&bytes, tflite).unwrap_or_else(|e| panic!("{e}"));
        let mut ours = Model::load(ModelSource::Bytes(&converted), signature, &config)
            .unwrap_or_else(|e| panic!("{tflite}: {e}"));
        let mut reference = Model::load(
            ModelSource::Path(&shared().join("models").join(onnx)),
            signature,
            &config,
        )
        .unwrap();
        let size = signature.input.1[1] as usize;
        for (n, input) in inputs(size, range).iter().enumerate() {
            let (a, b) = (
                run(&mut ours, input, signature.outputs.len()),
                run(&mut reference, input, signature.outputs.len()),
            );
            for (k, (x, y)) in a.iter().zip(&b).enumerate() {
                assert_eq!(x.len(), y.len());
                let worst = x
                    .iter()
                    .zip(y)
                    .map(|(p, q)| (p - q).abs() / q.abs().max(1.0))
                    .fold(0f32, f32::max);
                eprintln!(
                    "{tflite} input {n} {}: largest difference {worst:.2e}",
                    signature.outputs[k].0
                );
                assert!(
                    worst <= 1e-3,
                    "{tflite} input {n} output {}: {worst}",
                    signature.outputs[k].0
                );
            }
        }
    }
}

#[test]
fn unreadable_files_are_errors() {
    assert!(matches!(
        tflite_to_onnx(b"garbage", "x.tflite"),
        Err(ConvertError::Tflite(_))
    ));
    let bytes = std::fs::read(shared().join("models/tflite/hand_landmark_lite.tflite")).unwrap();
    assert!(tflite_to_onnx(&bytes[..bytes.len() / 2], "half.tflite").is_err());
}
