//! The BlazePose landmark model: rotated crop of the region of interest into 256x256,
//! inference, heatmap refinement, projection back to the frame, world landmarks
//! (MediaPipe's `pose_landmark_by_roi_cpu.pbtxt` and
//! `tensors_to_pose_landmarks_and_segmentation.pbtxt`, §2.3).

use super::session::{
    output_f32, sigmoid, InferenceError, Model, ModelSignature, ModelSource, SessionConfig,
};
use crate::image::{crop_rotated, Border, RgbView, RotatedRect, TensorSpec};
use crate::types::{Landmark, Point3};

/// Input side of the landmark model.
pub const LANDMARK_SIZE: usize = 256;
/// Landmarks the model predicts: 33 body + 6 auxiliary.
pub const MODEL_LANDMARKS: usize = 39;
/// Body landmarks reported.
pub const BODY_LANDMARKS: usize = 33;
const HEATMAP_SIZE: usize = 64;
const HEATMAP_KERNEL: usize = 7;
const MIN_CONFIDENCE_TO_REFINE: f32 = 0.5;

/// The landmark model's signature (lite and full share it). The segmentation mask
/// (`Identity_2`, 1x256x256x1) is pruned at load: its head is more than half of the model's
/// time and livepose does not output a mask.
pub const LANDMARK_SIGNATURE: ModelSignature = ModelSignature {
    name: "pose_landmark",
    input: ("input_1", &[1, 256, 256, 3]),
    outputs: &[
        ("Identity", &[1, 195]),
        ("Identity_1", &[1, 1]),
        ("Identity_3", &[1, 64, 64, 39]),
        ("Identity_4", &[1, 117]),
    ],
    pruned: &["Identity_2"],
};

/// The landmark model's signature with the segmentation mask kept (`Identity_2`, logits).
pub const LANDMARK_SIGNATURE_WITH_MASK: ModelSignature = ModelSignature {
    outputs: &[
        ("Identity", &[1, 195]),
        ("Identity_1", &[1, 1]),
        ("Identity_2", &[1, 256, 256, 1]),
        ("Identity_3", &[1, 64, 64, 39]),
        ("Identity_4", &[1, 117]),
    ],
    pruned: &[],
    ..LANDMARK_SIGNATURE
};

/// Tensor spec of the landmark input: values in [0, 1], replicated border.
pub const LANDMARK_INPUT: TensorSpec = TensorSpec {
    size: LANDMARK_SIZE,
    range: (0.0, 1.0),
    border: Border::Replicate,
};

/// What the landmark model found in one region of interest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LandmarkOutput {
    /// Pose presence score (the model's pose flag).
    pub presence: f32,
    /// All 39 landmarks, normalised to the frame (33 body, then 6 auxiliary; index 33 is
    /// the body centre and 34 the scale point used for tracking).
    pub landmarks: Vec<Landmark>,
    /// 33 world landmarks in metres, origin between the hips, rotated back to the frame.
    pub world: Vec<Point3>,
    /// The 256x256 segmentation logits of the crop (empty unless the model was loaded with
    /// its mask).
    pub mask: Vec<f32>,
}

/// The landmark model with its reused buffers.
#[derive(Debug)]
pub struct PoseLandmarker {
    model: Model,
    tensor: Vec<f32>,
    with_mask: bool,
    /// Use the heatmap to refine landmark positions (MediaPipe does).
    pub refine_with_heatmap: bool,
}

impl PoseLandmarker {
    /// Loads a landmark model (lite or full), without its segmentation head.
    pub fn load(source: ModelSource<'_>, config: &SessionConfig) -> Result<Self, InferenceError> {
        Self::load_with(source, config, false)
    }

    /// Loads a landmark model, with its segmentation mask if `mask` (about twice the time).
    pub fn load_with(
        source: ModelSource<'_>,
        config: &SessionConfig,
        mask: bool,
    ) -> Result<Self, InferenceError> {
        let signature = if mask {
            LANDMARK_SIGNATURE_WITH_MASK
        } else {
            LANDMARK_SIGNATURE
        };
        Ok(PoseLandmarker {
            model: Model::load(source, signature, config)?,
            tensor: Vec::new(),
            with_mask: mask,
            refine_with_heatmap: true,
        })
    }

    /// Crops `roi` (pixels) out of `image` into the model tensor. Split from
    /// [`infer`](Self::infer) so the two can be timed separately.
    pub fn crop(&mut self, image: RgbView<'_>, roi: &RotatedRect) {
        crop_rotated(image, roi, &LANDMARK_INPUT, &mut self.tensor);
    }

    /// Runs the model on the cropped tensor and decodes into `out` (normalised to the
    /// `width` x `height` frame the crop came from).
    pub fn infer(
        &mut self,
        roi: &RotatedRect,
        width: f32,
        height: f32,
        out: &mut LandmarkOutput,
    ) -> Result<(), InferenceError> {
        let refine = self.refine_with_heatmap;
        let outputs = self.model.run(&self.tensor)?;
        let extract = |i: usize| output_f32(&outputs, i, LANDMARK_SIGNATURE.name);
        let (raw, flag) = (extract(0)?, extract(1)?);
        let skip = usize::from(self.with_mask);
        let (heatmap, world) = (extract(2 + skip)?, extract(3 + skip)?);
        out.mask.clear();
        if self.with_mask {
            out.mask.extend_from_slice(extract(2)?);
        }
        out.presence = flag.first().copied().unwrap_or(0.0);
        out.landmarks.clear();
        let size = LANDMARK_SIZE as f32;
        for v in raw.chunks_exact(5).take(MODEL_LANDMARKS) {
            out.landmarks.push(Landmark {
                x: v[0] / size,
                y: v[1] / size,
                z: v[2] / size,
                visibility: sigmoid(v[3]),
                presence: sigmoid(v[4]),
            });
        }
        if refine {
            refine_from_heatmap(&mut out.landmarks, heatmap);
        }
        let (sin, cos) = roi.rotation.sin_cos();
        for lm in out.landmarks.iter_mut() {
            let (px, py) = roi.project(lm.x, lm.y);
            lm.x = px / width;
            lm.y = py / height;
            lm.z *= roi.width / width;
        }
        out.world.clear();
        out.world
            .extend(world.chunks_exact(3).take(BODY_LANDMARKS).map(|v| Point3 {
                x: cos * v[0] - sin * v[1],
                y: sin * v[0] + cos * v[1],
                z: v[2],
            }));
        Ok(())
    }
}

/// MediaPipe's `RefineLandmarksFromHeatmapCalculator`: each landmark moves to the
/// confidence-weighted centre of a 7x7 window of its heatmap channel, if the window's peak
/// confidence reaches 0.5. Landmarks are in crop coordinates (0..1).
fn refine_from_heatmap(landmarks: &mut [Landmark], heatmap: &[f32]) {
    let n = HEATMAP_SIZE as i64;
    let channels = MODEL_LANDMARKS;
    let half = (HEATMAP_KERNEL as i64 - 1) / 2;
    for (c, lm) in landmarks.iter_mut().enumerate().take(channels) {
        let col = (lm.x * n as f32) as i64;
        let row = (lm.y * n as f32) as i64;
        if !(0..n).contains(&col) || !(0..n).contains(&row) {
            continue;
        }
        let (mut sum, mut max, mut wx, mut wy) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
        for r in (row - half).max(0)..(row + half + 1).min(n) {
            for k in (col - half).max(0)..(col + half + 1).min(n) {
                let at = ((r * n + k) as usize) * channels + c;
                let confidence = heatmap.get(at).map_or(0.0, |v| sigmoid(*v));
                sum += confidence;
                max = max.max(confidence);
                wx += k as f32 * confidence;
                wy += r as f32 * confidence;
            }
        }
        if max >= MIN_CONFIDENCE_TO_REFINE && sum > 0.0 {
            lm.x = wx / n as f32 / sum;
            lm.y = wy / n as f32 / sum;
        }
    }
}
