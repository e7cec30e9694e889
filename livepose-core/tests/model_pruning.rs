//! Pruning the landmark models' segmentation head changes none of the outputs livepose
//! reads, by a single bit, on real crops of the test clips (`scripts/fetch-media.sh`).

use livepose_core::image::{crop_rotated, ImageDecoder, RgbImage, RotatedRect};
use livepose_core::inference::landmarks::{
    LANDMARK_INPUT, LANDMARK_SIGNATURE, LANDMARK_SIGNATURE_WITH_MASK,
};
use livepose_core::inference::session::{output_f32, ModelSignature};
use livepose_core::inference::{Model, ModelSource, SessionConfig};
use livepose_test_support::data;
use livepose_test_support::frames::jpeg_frame_filtered;

/// The unpruned model: every output, segmentation included.
const UNPRUNED: ModelSignature = LANDMARK_SIGNATURE_WITH_MASK;

/// Crops of real frames: a JPEG of each clip's frames, several regions each.
fn crops() -> Vec<Vec<f32>> {
    let mut out = Vec::new();
    let mut decoder = ImageDecoder::default();
    let mut image = RgbImage::new();
    for clip in [
        "lab_dance_1080x1920_60fps.mp4",
        "outdoor_two_people_1768x994_30fps.mp4",
    ] {
        let jpeg = jpeg_frame_filtered(clip, 30, None);
        decoder.decode(&jpeg, &mut image).unwrap();
        let (w, h) = (image.width() as f32, image.height() as f32);
        for (cx, cy, side, rotation) in [
            (0.5, 0.4, 0.9, 0.0),
            (0.3, 0.5, 0.5, 0.4),
            (0.6, 0.6, 0.7, -2.0),
        ] {
            let rect = RotatedRect::new(cx * w, cy * h, side * h.min(w), side * h.min(w), rotation);
            let mut tensor = Vec::new();
            crop_rotated(image.view(), &rect, &LANDMARK_INPUT, &mut tensor);
            out.push(tensor);
        }
    }
    out
}

#[test]
fn pruned_landmark_models_give_identical_outputs() {
    let crops = crops();
    for file in ["pose_landmark_lite.onnx", "pose_landmark_full.onnx"] {
        let path = data::model(file);
        let config = SessionConfig::default();
        let mut pruned =
            Model::load(ModelSource::Path(&path), LANDMARK_SIGNATURE, &config).unwrap();
        let mut full = Model::load(ModelSource::Path(&path), UNPRUNED, &config).unwrap();
        for crop in &crops {
            let a: Vec<Vec<f32>> = {
                let outputs = pruned.run(crop).unwrap();
                (0..4)
                    .map(|i| output_f32(&outputs, i, "pruned").unwrap().to_vec())
                    .collect()
            };
            let outputs = full.run(crop).unwrap();
            for (i, kept) in [0, 1, 3, 4].into_iter().enumerate() {
                assert_eq!(
                    a[i],
                    output_f32(&outputs, kept, "full").unwrap(),
                    "{file}: output {}",
                    UNPRUNED.outputs[kept].0
                );
            }
        }
    }
}

#[test]
fn pruning_an_output_the_model_lacks_is_a_load_error() {
    const WRONG: ModelSignature = ModelSignature {
        pruned: &["no_such_output"],
        ..LANDMARK_SIGNATURE
    };
    let path = data::model("pose_landmark_lite.onnx");
    let err = Model::load(ModelSource::Path(&path), WRONG, &SessionConfig::default()).unwrap_err();
    assert!(err.to_string().contains("no_such_output"), "{err}");
}
