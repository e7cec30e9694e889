//! The BlazePose person detector: SSD anchors, box and keypoint decoding, weighted non-max
//! suppression (MediaPipe's `pose_detection_cpu.pbtxt`, see `docs/blazepose-facts` §2.1).

use super::session::{
    output_f32, sigmoid, InferenceError, Model, ModelSignature, ModelSource, SessionConfig,
};
use crate::image::{letterbox, Border, RgbView, RotatedRect, TensorSpec};

/// Input side of the detector.
pub const DETECTOR_SIZE: usize = 224;
/// Number of SSD anchors.
pub const NUM_ANCHORS: usize = 2254;
const NUM_COORDS: usize = 12;
const NUM_KEYPOINTS: usize = 4;

/// The detector model's signature.
pub const DETECTOR_SIGNATURE: ModelSignature = ModelSignature {
    name: "pose_detection",
    input: ("input_1", &[1, 224, 224, 3]),
    outputs: &[("Identity", &[1, 2254, 12]), ("Identity_1", &[1, 2254, 1])],
};

/// Tensor spec of the detector input: letterboxed, values in [-1, 1], zero border.
pub const DETECTOR_INPUT: TensorSpec = TensorSpec {
    size: DETECTOR_SIZE,
    range: (-1.0, 1.0),
    border: Border::Zero,
};

/// A detected person in normalised image coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection {
    /// Score after the sigmoid, 0..1.
    pub score: f32,
    /// Box: x_min, y_min, x_max, y_max (normalised to the image).
    pub bbox: [f32; 4],
    /// Keypoints (x, y) normalised to the image: 0 hip centre, 1 full-body size/rotation
    /// point, 2 shoulder centre, 3 upper-body size/rotation point.
    pub keypoints: [[f32; 2]; NUM_KEYPOINTS],
}

/// SSD anchor centres for `pose_detection_cpu.pbtxt`'s options (fixed anchor size, so only
/// centres matter): strides 8, 16, 32, 32, 32; one anchor per aspect ratio plus an
/// interpolated-scale one per layer; layers of equal stride merged.
pub fn anchors() -> Vec<[f32; 2]> {
    let strides = [8usize, 16, 32, 32, 32];
    let mut out = Vec::with_capacity(NUM_ANCHORS);
    let mut layer = 0;
    while layer < strides.len() {
        let stride = strides[layer];
        let mut per_position = 0;
        let mut last = layer;
        while last < strides.len() && strides[last] == stride {
            per_position += 2; // aspect ratio 1.0 + the interpolated scale
            last += 1;
        }
        let side = DETECTOR_SIZE.div_ceil(stride);
        for y in 0..side {
            for x in 0..side {
                let centre = [
                    (x as f32 + 0.5) / side as f32,
                    (y as f32 + 0.5) / side as f32,
                ];
                out.extend(std::iter::repeat_n(centre, per_position));
            }
        }
        layer = last;
    }
    out
}

/// Decodes raw detector outputs into detections above `min_score`, in letterboxed tensor
/// coordinates (0..1 across the 224 square).
pub fn decode(
    raw_boxes: &[f32],
    raw_scores: &[f32],
    anchors: &[[f32; 2]],
    min_score: f32,
    out: &mut Vec<Detection>,
) {
    out.clear();
    let scale = DETECTOR_SIZE as f32;
    for ((b, s), anchor) in raw_boxes
        .chunks_exact(NUM_COORDS)
        .zip(raw_scores)
        .zip(anchors)
    {
        let score = sigmoid(s.clamp(-100.0, 100.0));
        if score < min_score {
            continue;
        }
        let (cx, cy) = (b[0] / scale + anchor[0], b[1] / scale + anchor[1]);
        let (w, h) = (b[2] / scale, b[3] / scale);
        let mut keypoints = [[0.0; 2]; NUM_KEYPOINTS];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = [
                b[4 + 2 * k] / scale + anchor[0],
                b[5 + 2 * k] / scale + anchor[1],
            ];
        }
        out.push(Detection {
            score,
            bbox: [cx - w / 2.0, cy - h / 2.0, cx + w / 2.0, cy + h / 2.0],
            keypoints,
        });
    }
}

fn iou(a: &[f32; 4], b: &[f32; 4]) -> f32 {
    let ix = (a[2].min(b[2]) - a[0].max(b[0])).max(0.0);
    let iy = (a[3].min(b[3]) - a[1].max(b[1])).max(0.0);
    let inter = ix * iy;
    let union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

/// MediaPipe's weighted non-max suppression (IoU threshold `threshold`): each kept detection
/// is the score-weighted average of the detections it suppresses (itself included), with the
/// top score. Keeps at most `max` detections, best first.
pub fn weighted_nms(
    detections: &mut Vec<Detection>,
    threshold: f32,
    max: usize,
    out: &mut Vec<Detection>,
) {
    out.clear();
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    while !detections.is_empty() && out.len() < max {
        let top = detections[0];
        let mut total = 0.0;
        let mut bbox = [0.0f32; 4];
        let mut keypoints = [[0.0f32; 2]; NUM_KEYPOINTS];
        detections.retain(|d| {
            if iou(&top.bbox, &d.bbox) > threshold {
                total += d.score;
                for (acc, v) in bbox.iter_mut().zip(d.bbox) {
                    *acc += v * d.score;
                }
                for (acc, kp) in keypoints.iter_mut().zip(d.keypoints) {
                    acc[0] += kp[0] * d.score;
                    acc[1] += kp[1] * d.score;
                }
                false
            } else {
                true
            }
        });
        if total > 0.0 {
            out.push(Detection {
                score: top.score,
                bbox: bbox.map(|v| v / total),
                keypoints: keypoints.map(|kp| [kp[0] / total, kp[1] / total]),
            });
        } else {
            // A degenerate box overlaps nothing, not even itself: keep it as it is.
            out.push(top);
            detections.retain(|d| d != &top);
        }
    }
}

/// The pose detector: model, anchors and reused buffers.
#[derive(Debug)]
pub struct PoseDetector {
    model: Model,
    anchors: Vec<[f32; 2]>,
    tensor: Vec<f32>,
    raw: Vec<Detection>,
    /// Minimum score (MediaPipe: 0.5).
    pub min_score: f32,
    /// IoU above which detections merge (MediaPipe: 0.3).
    pub nms_threshold: f32,
}

impl PoseDetector {
    /// Loads the detector model.
    pub fn load(source: ModelSource<'_>, config: &SessionConfig) -> Result<Self, InferenceError> {
        Ok(PoseDetector {
            model: Model::load(source, DETECTOR_SIGNATURE, config)?,
            anchors: anchors(),
            tensor: Vec::new(),
            raw: Vec::new(),
            min_score: 0.5,
            nms_threshold: 0.3,
        })
    }

    /// Detects up to `max` people in `image`, best first, into `out` (normalised image
    /// coordinates).
    pub fn detect(
        &mut self,
        image: RgbView<'_>,
        max: usize,
        out: &mut Vec<Detection>,
    ) -> Result<(), InferenceError> {
        let rect = letterbox(image, &DETECTOR_INPUT, &mut self.tensor);
        let outputs = self.model.run(&self.tensor)?;
        let extract = |i: usize| output_f32(&outputs, i, DETECTOR_SIGNATURE.name);
        let (boxes, scores) = (extract(0)?, extract(1)?);
        decode(boxes, scores, &self.anchors, self.min_score, &mut self.raw);
        drop(outputs);
        weighted_nms(&mut self.raw, self.nms_threshold, max, out);
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
        let a = anchors();
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

    fn det(score: f32, x: f32) -> Detection {
        Detection {
            score,
            bbox: [x, 0.0, x + 1.0, 1.0],
            keypoints: [[x, 0.0]; 4],
        }
    }

    #[test]
    fn weighted_nms_averages_overlapping_boxes() {
        let mut dets = vec![det(0.6, 0.2), det(0.9, 0.0), det(0.7, 5.0)];
        let mut out = Vec::new();
        weighted_nms(&mut dets, 0.3, 10, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        let expected = 0.2 * 0.6 / 1.5;
        assert!((out[0].bbox[0] - expected).abs() < 1e-6, "{:?}", out[0]);
        assert_eq!(out[1].bbox[0], 5.0);
        let mut dets = vec![det(0.6, 0.2), det(0.9, 0.0), det(0.7, 5.0)];
        weighted_nms(&mut dets, 0.3, 1, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn decode_applies_anchor_offsets_and_threshold() {
        let anchors = [[0.5, 0.5], [0.25, 0.25]];
        let mut raw = vec![0.0; 24];
        raw[0] = 22.4; // +0.1 in x
        raw[2] = 112.0; // width 0.5
        raw[3] = 112.0;
        let mut out = Vec::new();
        decode(&raw, &[3.0, -3.0], &anchors, 0.5, &mut out);
        assert_eq!(out.len(), 1);
        assert!((out[0].bbox[0] - 0.35).abs() < 1e-6 && (out[0].bbox[2] - 0.85).abs() < 1e-6);
        assert!((out[0].score - sigmoid(3.0)).abs() < 1e-6);
    }
}
