//! Single-shot detectors as MediaPipe decodes them (`SsdAnchorsCalculator`,
//! `TensorsToDetectionsCalculator`, weighted `NonMaxSuppressionCalculator`), shared by the
//! pose detector and the palm detector: anchors, box and keypoint decoding, weighted
//! non-max suppression, and a model wrapper that detects inside a (rotated) square region.

use super::session::{
    output_f32, sigmoid, InferenceError, Model, ModelSignature, ModelSource, SessionConfig,
};
use crate::image::{crop_rotated, RgbView, RotatedRect, TensorSpec};

/// Anchor layout of an SSD model with fixed anchor size (only centres matter): per layer a
/// stride; layers of equal stride share positions, each contributing two anchors (aspect
/// ratio 1.0 plus the interpolated scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnchorLayout {
    /// Side of the square model input in pixels.
    pub input_size: usize,
    /// Stride of each layer.
    pub strides: &'static [usize],
}

impl AnchorLayout {
    /// Anchor centres, normalised to the input square, in the model's output order.
    pub fn anchors(&self) -> Vec<[f32; 2]> {
        let strides = self.strides;
        let mut out = Vec::new();
        let mut layer = 0;
        while layer < strides.len() {
            let stride = strides[layer];
            let mut last = layer;
            while last < strides.len() && strides[last] == stride {
                last += 1;
            }
            let per_position = 2 * (last - layer);
            let side = self.input_size.div_ceil(stride);
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
}

/// A detection with `K` keypoints, in normalised coordinates of whatever square it was
/// decoded in (the model input, or an image after mapping).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Detection<const K: usize> {
    /// Score after the sigmoid, 0..1.
    pub score: f32,
    /// Box: x_min, y_min, x_max, y_max.
    pub bbox: [f32; 4],
    /// Keypoints (x, y).
    pub keypoints: [[f32; 2]; K],
}

/// Decodes raw outputs (per anchor `4 + 2K` regressors in input pixels: box centre, size,
/// keypoints; one score logit) into detections scoring at least `min_score`, normalised to
/// the input square. Logits are clipped to ±100 as MediaPipe does.
pub fn decode<const K: usize>(
    raw_boxes: &[f32],
    raw_scores: &[f32],
    anchors: &[[f32; 2]],
    input_size: usize,
    min_score: f32,
    out: &mut Vec<Detection<K>>,
) {
    out.clear();
    let scale = input_size as f32;
    for ((b, s), anchor) in raw_boxes
        .chunks_exact(4 + 2 * K)
        .zip(raw_scores)
        .zip(anchors)
    {
        let score = sigmoid(s.clamp(-100.0, 100.0));
        if score < min_score {
            continue;
        }
        let (cx, cy) = (b[0] / scale + anchor[0], b[1] / scale + anchor[1]);
        let (w, h) = (b[2] / scale, b[3] / scale);
        let mut keypoints = [[0.0; 2]; K];
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
pub fn weighted_nms<const K: usize>(
    detections: &mut Vec<Detection<K>>,
    threshold: f32,
    max: usize,
    out: &mut Vec<Detection<K>>,
) {
    out.clear();
    detections.sort_by(|a, b| b.score.total_cmp(&a.score));
    while !detections.is_empty() && out.len() < max {
        let top = detections[0];
        let mut total = 0.0;
        let mut bbox = [0.0f32; 4];
        let mut keypoints = [[0.0f32; 2]; K];
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

/// An SSD model with its anchors and reused buffers.
#[derive(Debug)]
pub struct SsdModel<const K: usize> {
    model: Model,
    signature: ModelSignature,
    spec: TensorSpec,
    anchors: Vec<[f32; 2]>,
    tensor: Vec<f32>,
    raw: Vec<Detection<K>>,
    /// Minimum score (MediaPipe: 0.5 for both detectors).
    pub min_score: f32,
    /// IoU above which detections merge (MediaPipe: 0.3 for palms; the pose detector sets
    /// its own, see [`NMS_THRESHOLD`](super::detector::NMS_THRESHOLD)).
    pub nms_threshold: f32,
}

impl<const K: usize> SsdModel<K> {
    /// Loads the model and checks its signature.
    pub fn load(
        source: ModelSource<'_>,
        signature: ModelSignature,
        layout: AnchorLayout,
        spec: TensorSpec,
        config: &SessionConfig,
    ) -> Result<Self, InferenceError> {
        Ok(SsdModel {
            model: Model::load(source, signature, config)?,
            signature,
            spec,
            anchors: layout.anchors(),
            tensor: Vec::new(),
            raw: Vec::new(),
            min_score: 0.5,
            nms_threshold: 0.3,
        })
    }

    /// Detects up to `max` objects in the square `region` of `image` (pixels, possibly
    /// rotated), best first, into `out`, in coordinates normalised to `region` (map them
    /// back with [`RotatedRect::project`]).
    pub fn detect(
        &mut self,
        image: RgbView<'_>,
        region: &RotatedRect,
        max: usize,
        out: &mut Vec<Detection<K>>,
    ) -> Result<(), InferenceError> {
        crop_rotated(image, region, &self.spec, &mut self.tensor);
        let outputs = self.model.run(&self.tensor)?;
        let extract = |i: usize| output_f32(&outputs, i, self.signature.name);
        let (boxes, scores) = (extract(0)?, extract(1)?);
        decode(
            boxes,
            scores,
            &self.anchors,
            self.spec.size,
            self.min_score,
            &mut self.raw,
        );
        drop(outputs);
        weighted_nms(&mut self.raw, self.nms_threshold, max, out);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(score: f32, x: f32) -> Detection<1> {
        Detection {
            score,
            bbox: [x, 0.0, x + 1.0, 1.0],
            keypoints: [[x, 0.0]],
        }
    }

    #[test]
    fn anchors_merge_layers_of_equal_stride() {
        let layout = AnchorLayout {
            input_size: 32,
            strides: &[8, 16, 16],
        };
        let a = layout.anchors();
        assert_eq!(a.len(), 4 * 4 * 2 + 2 * 2 * 4);
        assert_eq!(a[0], [0.125, 0.125]);
        assert_eq!(a[32..36], [[0.25, 0.25]; 4]);
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
        assert!((out[0].keypoints[0][0] - expected).abs() < 1e-6);
        assert_eq!(out[1].bbox[0], 5.0);
        let mut dets = vec![det(0.6, 0.2), det(0.9, 0.0), det(0.7, 5.0)];
        weighted_nms(&mut dets, 0.3, 1, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn decode_applies_anchor_offsets_and_threshold() {
        let anchors = [[0.5, 0.5], [0.25, 0.25]];
        let mut raw = vec![0.0; 12];
        raw[0] = 22.4; // +0.1 in x
        raw[2] = 112.0; // width 0.5
        raw[3] = 112.0;
        raw[4] = -22.4; // keypoint x -0.1 from the anchor
        let mut out: Vec<Detection<1>> = Vec::new();
        decode(&raw, &[3.0, -3.0], &anchors, 224, 0.5, &mut out);
        assert_eq!(out.len(), 1);
        assert!((out[0].bbox[0] - 0.35).abs() < 1e-6 && (out[0].bbox[2] - 0.85).abs() < 1e-6);
        assert!((out[0].keypoints[0][0] - 0.4).abs() < 1e-6);
        assert!((out[0].score - sigmoid(3.0)).abs() < 1e-6);
    }
}
