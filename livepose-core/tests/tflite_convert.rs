//! MediaPipe's TFLite files converted to ONNX in memory and run in ONNX Runtime give what
//! the TFLite interpreter itself gives (ai-edge-litert, reference kernels: the outputs
//! `scripts/tflite-oracle.sh` keeps), on two inputs of uniform noise and two crops of real
//! frames: largest difference at most 1e-4 of the output's largest value (2e-3 for the
//! segmentation logits, on which TFLite's own kernels disagree more than that).

use livepose_core::inference::detector::DETECTOR_SIGNATURE;
use livepose_core::inference::hand_landmarks::HAND_SIGNATURE;
use livepose_core::inference::landmarks::LANDMARK_SIGNATURE_WITH_MASK;
use livepose_core::inference::palm::PALM_SIGNATURE;
use livepose_core::inference::session::{output_f32, ModelSignature};
use livepose_core::inference::{Model, ModelSource, SessionConfig};
use livepose_core::tflite::{tflite_to_onnx, ConvertError};
use livepose_test_support::{data, oracle};

/// Every model `scripts/fetch-models.sh` fetches, with its signature (every output).
const MODELS: [(&str, ModelSignature); 8] = [
    ("pose_detection.tflite", DETECTOR_SIGNATURE),
    ("pose_landmark_lite.tflite", LANDMARK_SIGNATURE_WITH_MASK),
    ("pose_landmark_full.tflite", LANDMARK_SIGNATURE_WITH_MASK),
    ("pose_landmark_heavy.tflite", LANDMARK_SIGNATURE_WITH_MASK),
    ("palm_detection_lite.tflite", PALM_SIGNATURE),
    ("palm_detection_full.tflite", PALM_SIGNATURE),
    ("hand_landmark_lite.tflite", HAND_SIGNATURE),
    ("hand_landmark_full.tflite", HAND_SIGNATURE),
];

/// The models a `LIVEPOSE_SHARED` folder has (its `tflite/` lacks the others): these must
/// be there, the others are compared when the models folder has them (the fetched one has
/// all eight).
const REQUIRED: [&str; 5] = [
    "pose_detection.tflite",
    "pose_landmark_lite.tflite",
    "pose_landmark_full.tflite",
    "palm_detection_lite.tflite",
    "hand_landmark_lite.tflite",
];

/// The largest difference allowed, relative to the output's largest value (at least 1).
/// Measured: at most 1.9e-5 (the heavy landmark model's landmarks); TFLite's own XNNPACK
/// kernels differ from its reference kernels by up to 6e-5 on the same inputs.
const BOUND: f32 = 1e-4;

/// The same for the landmark models' segmentation logits (values up to about 1700; livepose
/// prunes this output): measured at most 7.9e-4 (full model), where TFLite's own XNNPACK
/// kernels differ from its reference kernels by up to 1.2e-3.
const SEGMENTATION_BOUND: f32 = 2e-3;

#[test]
fn converted_models_match_the_tflite_interpreter() {
    let config = SessionConfig::default();
    let mut compared = Vec::new();
    for (tflite, signature) in MODELS {
        if !REQUIRED.contains(&tflite) && !data::has_tflite(tflite) {
            continue;
        }
        let path = data::tflite(tflite);
        let expected = oracle::load(&path);
        let bytes = std::fs::read(&path).unwrap();
        let converted = tflite_to_onnx(&bytes, tflite).unwrap_or_else(|e| panic!("{e}"));
        let mut ours = Model::load(ModelSource::Bytes(&converted), signature, &config)
            .unwrap_or_else(|e| panic!("{tflite}: {e}"));
        let mut inputs = 0;
        while let Some(input) = expected.get(&format!("input_{inputs}")) {
            assert_eq!(input.values.len(), signature.input_len(), "{tflite}");
            let result = ours.run(&input.values).unwrap();
            for (k, (name, shape)) in signature.outputs.iter().enumerate() {
                let want = &expected[&format!("output_{inputs}_{name}")];
                let got = output_f32(&result, k, "model").unwrap();
                assert_eq!(
                    want.shape,
                    shape.iter().map(|&d| d as usize).collect::<Vec<_>>(),
                    "{tflite} {name}"
                );
                assert_eq!(got.len(), want.values.len(), "{tflite} {name}");
                // The largest difference relative to the output's largest value (at least 1).
                let (mut largest, mut scale, mut per_value) = (0f32, 1f32, 0f32);
                for (p, q) in got.iter().zip(&want.values) {
                    largest = largest.max((p - q).abs());
                    scale = scale.max(q.abs());
                    per_value = per_value.max((p - q).abs() / q.abs().max(1.0));
                }
                let difference = largest / scale;
                let bound = if tflite.starts_with("pose_landmark") && *name == "Identity_2" {
                    SEGMENTATION_BOUND
                } else {
                    BOUND
                };
                eprintln!(
                    "{tflite} input {inputs} {name}: largest difference {difference:.2e} of \
                     {scale:.1} ({per_value:.2e} relative to the value, beyond 1)"
                );
                assert!(
                    difference <= bound,
                    "{tflite} input {inputs} output {name}: largest difference {difference:.2e} \
                     of the largest value {scale}, more than {bound:.0e}"
                );
            }
            inputs += 1;
        }
        assert_eq!(inputs, 4, "{tflite}: the oracle has {inputs} inputs");
        compared.push(tflite);
    }
    eprintln!("compared with the TFLite interpreter: {compared:?}");
}

#[test]
fn unreadable_files_are_errors() {
    assert!(matches!(
        tflite_to_onnx(b"garbage", "x.tflite"),
        Err(ConvertError::Tflite(_))
    ));
    let bytes = std::fs::read(data::tflite("hand_landmark_lite.tflite")).unwrap();
    assert!(tflite_to_onnx(&bytes[..bytes.len() / 2], "half.tflite").is_err());
}
