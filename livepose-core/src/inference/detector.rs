//! The BlazePose person detector (MediaPipe's `pose_detection_cpu.pbtxt`, see
//! `docs/blazepose-facts` §2.1) on the shared SSD machinery of [`ssd`](super::ssd).

use super::session::{InferenceError, ModelSignature, ModelSource, SessionConfig};
use super::ssd::{AnchorLayout, SsdModel};
use crate::image::{letterbox_rect, Border, RgbView, RotatedRect, TensorSpec};

/// Input side of the detector.
pub const DETECTOR_SIZE: usize = 224;
/// Number of SSD anchors.
pub const NUM_ANCHORS: usize = 2254;

/// The detector model's signature.
pub const DETECTOR_SIGNATURE: ModelSignature = ModelSignature {
    name: "pose_detection",
    input: ("input_1", &[1, 224, 224, 3]),
    outputs: &[("Identity", &[1, 2254, 12]), ("Identity_1", &[1, 2254, 1])],
    pruned: &[],
};

/// Anchors of `pose_detection_cpu.pbtxt`: strides 8, 16, 32, 32, 32.
pub const DETECTOR_ANCHORS: AnchorLayout = AnchorLayout {
    input_size: DETECTOR_SIZE,
    strides: &[8, 16, 32, 32, 32],
};

/// Tensor spec of the detector input: letterboxed, values in [-1, 1], zero border.
pub const DETECTOR_INPUT: TensorSpec = TensorSpec {
    size: DETECTOR_SIZE,
    range: (-1.0, 1.0),
    border: Border::Zero,
};

/// IoU above which the weighted NMS merges two person detections: 0.5, the default of
/// `min_suppression_threshold` in the Tasks graph MediaPipe's Pose Landmarker runs
/// (tasks/cc/vision/pose_detector/proto/pose_detector_graph_options.proto L39-41, set at
/// pose_detector_graph.cc L118-127 with `INTERSECTION_OVER_UNION` and `WEIGHTED`; neither
/// the Python nor the C++ `PoseLandmarkerOptions` sets it). The legacy
/// `pose_detection_cpu.pbtxt` used 0.3.
pub const NMS_THRESHOLD: f32 = 0.5;

/// A detected person in normalised image coordinates. Keypoints: 0 hip centre, 1 full-body
/// size/rotation point, 2 shoulder centre, 3 upper-body size/rotation point.
pub type Detection = super::ssd::Detection<4>;

/// The pose detector.
#[derive(Debug)]
pub struct PoseDetector {
    ssd: SsdModel<4>,
}

impl PoseDetector {
    /// Loads the detector model.
    pub fn load(source: ModelSource<'_>, config: &SessionConfig) -> Result<Self, InferenceError> {
        let mut ssd = SsdModel::load(
            source,
            DETECTOR_SIGNATURE,
            DETECTOR_ANCHORS,
            DETECTOR_INPUT,
            config,
        )?;
        ssd.nms_threshold = NMS_THRESHOLD;
        Ok(PoseDetector { ssd })
    }

    /// Detects up to `max` people in `image`, best first, into `out` (normalised image
    /// coordinates).
    pub fn detect(
        &mut self,
        image: RgbView<'_>,
        max: usize,
        out: &mut Vec<Detection>,
    ) -> Result<(), InferenceError> {
        let rect = letterbox_rect(image.width(), image.height());
        self.ssd.detect(image, &rect, max, out)?;
        let (w, h) = (image.width() as f32, image.height() as f32);
        for d in out.iter_mut() {
            *d = unletterbox(d, &rect, w, h);
        }
        Ok(())
    }
}

/// Maps a detection from letterboxed tensor coordinates to normalised image coordinates.
fn unletterbox(d: &Detection, rect: &RotatedRect, w: f32, h: f32) -> Detection {
    let point = |x: f32, y: f32| {
        let (px, py) = rect.project(x, y);
        [px / w, py / h]
    };
    let [x0, y0] = point(d.bbox[0], d.bbox[1]);
    let [x1, y1] = point(d.bbox[2], d.bbox[3]);
    Detection {
        score: d.score,
        bbox: [x0, y0, x1, y1],
        keypoints: d.keypoints.map(|[x, y]| point(x, y)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_count_and_layout() {
        let a = DETECTOR_ANCHORS.anchors();
        assert_eq!(a.len(), NUM_ANCHORS);
        assert_eq!(a[0], [0.5 / 28.0, 0.5 / 28.0]);
        assert_eq!(a[1], a[0], "two anchors per position at stride 8");
        assert_eq!(
            a[1568],
            [0.5 / 14.0, 0.5 / 14.0],
            "stride 16 starts after 28*28*2"
        );
        assert_eq!(
            a[1960..1966],
            [[0.5 / 7.0, 0.5 / 7.0]; 6],
            "stride 32: 6 per position"
        );
        assert_eq!(a[NUM_ANCHORS - 1], [6.5 / 7.0, 6.5 / 7.0]);
    }
}
