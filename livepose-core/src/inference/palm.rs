//! MediaPipe's palm detector (`palm_detection_{lite,full}`, §2.5): SSD on a 192x192
//! letterboxed square, seven keypoints per palm, and the hand region a palm implies.

use super::roi::{palm_rect, PALM_TO_HAND};
use super::session::{InferenceError, ModelSignature, ModelSource, SessionConfig};
use super::ssd::{AnchorLayout, Detection, SsdModel};
use crate::image::{Border, RgbView, RotatedRect, TensorSpec};

/// Input side of the palm detector.
pub const PALM_SIZE: usize = 192;

/// The palm detector's signature (lite and full share it).
pub const PALM_SIGNATURE: ModelSignature = ModelSignature {
    name: "palm_detection",
    input: ("input_1", &[1, 192, 192, 3]),
    outputs: &[("Identity", &[1, 2016, 18]), ("Identity_1", &[1, 2016, 1])],
    pruned: &[],
};

/// Anchors of `palm_detection_cpu.pbtxt`: strides 8, 16, 16, 16 (2016 anchors).
pub const PALM_ANCHORS: AnchorLayout = AnchorLayout {
    input_size: PALM_SIZE,
    strides: &[8, 16, 16, 16],
};

/// Tensor spec of the palm input: letterboxed, values in [0, 1], zero border.
pub const PALM_INPUT: TensorSpec = TensorSpec {
    size: PALM_SIZE,
    range: (0.0, 1.0),
    border: Border::Zero,
};

/// A palm: box and keypoints (0 wrist centre, 2 middle finger knuckle, …).
pub type PalmDetection = Detection<7>;

/// The palm detector.
#[derive(Debug)]
pub struct PalmDetector {
    ssd: SsdModel<7>,
    palms: Vec<PalmDetection>,
}

impl PalmDetector {
    /// Loads a palm detection model (lite or full).
    pub fn load(source: ModelSource<'_>, config: &SessionConfig) -> Result<Self, InferenceError> {
        Ok(PalmDetector {
            ssd: SsdModel::load(source, PALM_SIGNATURE, PALM_ANCHORS, PALM_INPUT, config)?,
            palms: Vec::new(),
        })
    }

    /// Looks for palms inside the square `region` (pixels) of `image` and returns the hand
    /// region (pixels, for the hand landmark model) of the palm whose centre is nearest to
    /// `near` (pixels), or `None` if there is no palm.
    pub fn hand_region(
        &mut self,
        image: RgbView<'_>,
        region: &RotatedRect,
        near: [f32; 2],
    ) -> Result<Option<RotatedRect>, InferenceError> {
        self.ssd
            .detect(image, region, usize::MAX, &mut self.palms)?;
        let to_image = |p: [f32; 2]| {
            let (x, y) = region.project(p[0], p[1]);
            [x, y]
        };
        let best = self.palms.iter().min_by(|a, b| {
            let d = |p: &PalmDetection| {
                let c = to_image([(p.bbox[0] + p.bbox[2]) / 2.0, (p.bbox[1] + p.bbox[3]) / 2.0]);
                (c[0] - near[0]).hypot(c[1] - near[1])
            };
            d(a).total_cmp(&d(b))
        });
        Ok(best.map(|p| {
            // The palm's rectangle in the region's own (square, pixel-isotropic) frame, then
            // mapped: centre projected, sides scaled, rotations added.
            let side = region.width;
            let local = palm_rect(
                p.bbox.map(|v| v * side),
                [p.keypoints[0][0] * side, p.keypoints[0][1] * side],
                [p.keypoints[2][0] * side, p.keypoints[2][1] * side],
            );
            let centre = to_image([local.center_x / side, local.center_y / side]);
            let rect = RotatedRect::new(
                centre[0],
                centre[1],
                local.width,
                local.height,
                super::roi::normalize_radians(local.rotation + region.rotation),
            );
            PALM_TO_HAND.apply(&rect)
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_count() {
        assert_eq!(PALM_ANCHORS.anchors().len(), 2016);
    }
}
