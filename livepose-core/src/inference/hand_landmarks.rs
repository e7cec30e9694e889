//! MediaPipe's hand landmark model (`hand_landmark_{lite,full}`, §2.5): rotated crop of a
//! hand region into 224x224, 21 landmarks, presence, handedness, world landmarks.

use super::session::{
    output_f32, InferenceError, Model, ModelSignature, ModelSource, SessionConfig,
};
use crate::image::{crop_rotated, Border, RgbView, RotatedRect, TensorSpec};
use crate::types::Point3;

/// Input side of the hand landmark model.
pub const HAND_SIZE: usize = 224;
/// Landmarks per hand.
pub const HAND_LANDMARKS: usize = 21;
/// MediaPipe's `normalize_z` for hands.
const NORMALIZE_Z: f32 = 0.4;

/// The hand landmark model's signature (lite and full share it).
pub const HAND_SIGNATURE: ModelSignature = ModelSignature {
    name: "hand_landmark",
    input: ("input_1", &[1, 224, 224, 3]),
    outputs: &[
        ("Identity", &[1, 63]),
        ("Identity_1", &[1, 1]),
        ("Identity_2", &[1, 1]),
        ("Identity_3", &[1, 63]),
    ],
    pruned: &[],
};

/// Tensor spec of the hand input: values in [0, 1], replicated border.
pub const HAND_INPUT: TensorSpec = TensorSpec {
    size: HAND_SIZE,
    range: (0.0, 1.0),
    border: Border::Replicate,
};

/// What the hand landmark model found in one region.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HandOutput {
    /// Hand presence, 0..1.
    pub presence: f32,
    /// The model's handedness score: probability of the label MediaPipe calls "Left",
    /// which assumes a mirrored (selfie) image, i.e. the person's right hand in an
    /// unmirrored frame.
    pub left_label: f32,
    /// 21 landmarks: x, y normalised to the frame, z relative to the wrist on the scale of x.
    pub landmarks: Vec<Point3>,
    /// 21 world landmarks in metres, origin at the hand's centre, rotated back to the frame.
    pub world: Vec<Point3>,
}

/// The hand landmark model with its reused input tensor.
#[derive(Debug)]
pub struct HandLandmarker {
    model: Model,
    tensor: Vec<f32>,
}

impl HandLandmarker {
    /// Loads a hand landmark model (lite or full).
    pub fn load(source: ModelSource<'_>, config: &SessionConfig) -> Result<Self, InferenceError> {
        Ok(HandLandmarker {
            model: Model::load(source, HAND_SIGNATURE, config)?,
            tensor: Vec::new(),
        })
    }

    /// Runs the model on `roi` (pixels) of `image` and decodes into `out`.
    pub fn run(
        &mut self,
        image: RgbView<'_>,
        roi: &RotatedRect,
        out: &mut HandOutput,
    ) -> Result<(), InferenceError> {
        crop_rotated(image, roi, &HAND_INPUT, &mut self.tensor);
        let outputs = self.model.run(&self.tensor)?;
        let extract = |i: usize| output_f32(&outputs, i, HAND_SIGNATURE.name);
        let (raw, presence, handedness, world) =
            (extract(0)?, extract(1)?, extract(2)?, extract(3)?);
        out.presence = presence.first().copied().unwrap_or(0.0);
        out.left_label = handedness.first().copied().unwrap_or(0.5);
        let (w, h) = (image.width() as f32, image.height() as f32);
        let size = HAND_SIZE as f32;
        out.landmarks.clear();
        out.landmarks
            .extend(raw.chunks_exact(3).take(HAND_LANDMARKS).map(|v| {
                let (x, y) = roi.project(v[0] / size, v[1] / size);
                Point3 {
                    x: x / w,
                    y: y / h,
                    z: v[2] / size / NORMALIZE_Z * roi.width / w,
                }
            }));
        let (sin, cos) = roi.rotation.sin_cos();
        out.world.clear();
        out.world
            .extend(world.chunks_exact(3).take(HAND_LANDMARKS).map(|v| Point3 {
                x: cos * v[0] - sin * v[1],
                y: sin * v[0] + cos * v[1],
                z: v[2],
            }));
        Ok(())
    }
}
