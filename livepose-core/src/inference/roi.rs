//! Regions of interest: from two alignment points (detector keypoints or auxiliary
//! landmarks) to the rotated square the landmark model sees (MediaPipe's
//! `AlignmentPointsRectsCalculator` + `RectTransformationCalculator`, §2.2 and §2.4), and
//! the hand regions (§2.5): from a palm detection, from the pose's wrist, pinky and index
//! landmarks (MediaPipe Holistic), and from hand landmarks for tracking.

use crate::image::RotatedRect;

/// Scale MediaPipe applies to pose regions of interest.
pub const POSE_ROI_SCALE: f32 = 1.25;

/// Wraps an angle to [-pi, pi).
pub fn normalize_radians(angle: f32) -> f32 {
    use std::f32::consts::PI;
    angle - 2.0 * PI * ((angle + PI) / (2.0 * PI)).floor()
}

/// The region around `centre` whose size and rotation come from the vector centre → `scale_point`
/// (both normalised to a `width` x `height` image): a square of side `2 |v| * scale` pixels,
/// rotated so that `v` points up (target angle 90 degrees).
pub fn roi_from_alignment(
    centre: [f32; 2],
    scale_point: [f32; 2],
    width: f32,
    height: f32,
    scale: f32,
) -> RotatedRect {
    let (x0, y0) = (centre[0] * width, centre[1] * height);
    let (x1, y1) = (scale_point[0] * width, scale_point[1] * height);
    let size = 2.0 * ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt() * scale;
    RotatedRect::new(x0, y0, size, size, upright_rotation([x0, y0], [x1, y1]))
}

/// MediaPipe's `RectTransformationCalculator` on a rectangle in pixels: shift (in units of
/// the rectangle's own width and height, along its rotated axes), then square it to its
/// longer side, then scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RectTransform {
    /// Scale of both sides.
    pub scale: f32,
    /// Shift along the rectangle's x axis, in widths.
    pub shift_x: f32,
    /// Shift along the rectangle's y axis, in heights (negative: towards its top).
    pub shift_y: f32,
}

impl RectTransform {
    /// Applies the transform (`square_long` as all of MediaPipe's pose and hand graphs use).
    pub fn apply(&self, r: &RotatedRect) -> RotatedRect {
        let (sin, cos) = r.rotation.sin_cos();
        let dx = r.width * self.shift_x;
        let dy = r.height * self.shift_y;
        let side = r.width.max(r.height) * self.scale;
        RotatedRect::new(
            r.center_x + dx * cos - dy * sin,
            r.center_y + dx * sin + dy * cos,
            side,
            side,
            r.rotation,
        )
    }
}

/// Palm detection to hand region (`palm_detection_detection_to_roi.pbtxt`).
pub const PALM_TO_HAND: RectTransform = RectTransform {
    scale: 2.6,
    shift_x: 0.0,
    shift_y: -0.5,
};

/// Hand landmarks to next frame's hand region (`hand_landmark_landmarks_to_roi.pbtxt`).
pub const HAND_LANDMARKS_TO_HAND: RectTransform = RectTransform {
    scale: 2.0,
    shift_x: 0.0,
    shift_y: -0.1,
};

/// Pose-derived hand rectangle to the region searched for the hand
/// (`hand_landmarks_from_pose_to_recrop_roi.pbtxt`).
pub const POSE_TO_HAND_SEARCH: RectTransform = RectTransform {
    scale: 2.7,
    shift_x: 0.0,
    shift_y: -0.1,
};

/// Rotation that turns the vector `from` → `to` (pixels) upright (MediaPipe's target angle
/// of 90 degrees).
fn upright_rotation(from: [f32; 2], to: [f32; 2]) -> f32 {
    normalize_radians(std::f32::consts::FRAC_PI_2 - (-(to[1] - from[1])).atan2(to[0] - from[0]))
}

/// The hand rectangle from the pose's wrist, pinky and index landmarks (pixels), as
/// Holistic's `HandDetectionsFromPoseToRectsCalculator`: centred on the estimated middle
/// finger knuckle `(2 index + pinky) / 3`, side twice its distance to the wrist, rotated so
/// that the wrist → knuckle vector points up.
pub fn hand_rect_from_pose(wrist: [f32; 2], pinky: [f32; 2], index: [f32; 2]) -> RotatedRect {
    let middle = [
        (2.0 * index[0] + pinky[0]) / 3.0,
        (2.0 * index[1] + pinky[1]) / 3.0,
    ];
    let size = 2.0 * (middle[0] - wrist[0]).hypot(middle[1] - wrist[1]);
    RotatedRect::new(
        middle[0],
        middle[1],
        size,
        size,
        upright_rotation(wrist, middle),
    )
}

/// The rectangle of a palm detection (box and keypoints in pixels): the box, rotated so that
/// keypoint 0 (wrist) → keypoint 2 (middle finger knuckle) points up
/// (`palm_detection_detection_to_roi.pbtxt`).
pub fn palm_rect(bbox: [f32; 4], wrist: [f32; 2], middle_knuckle: [f32; 2]) -> RotatedRect {
    RotatedRect::new(
        (bbox[0] + bbox[2]) / 2.0,
        (bbox[1] + bbox[3]) / 2.0,
        bbox[2] - bbox[0],
        bbox[3] - bbox[1],
        upright_rotation(wrist, middle_knuckle),
    )
}

/// Hand landmarks MediaPipe's `HandLandmarksToRectCalculator` uses: wrist, thumb, and the
/// knuckle and first joint of each finger.
const PALM_SUBSET: [usize; 12] = [0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18];

/// The tight rectangle around a hand's palm landmarks (21 points in pixels), rotated so that
/// the wrist → (mean of index, middle and ring knuckles, weighted as MediaPipe does) vector
/// points up (`hand_landmarks_to_rect_calculator.cc`).
pub fn hand_rect_from_landmarks(landmarks: &[[f32; 2]]) -> RotatedRect {
    let at = |i: usize| landmarks.get(i).copied().unwrap_or_default();
    let (wrist, index, middle, ring) = (at(0), at(5), at(9), at(13));
    let towards = [
        ((index[0] + ring[0]) / 2.0 + middle[0]) / 2.0,
        ((index[1] + ring[1]) / 2.0 + middle[1]) / 2.0,
    ];
    let rotation = upright_rotation(wrist, towards);
    let points = PALM_SUBSET.map(at);
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in &points {
        x0 = x0.min(p[0]);
        y0 = y0.min(p[1]);
        x1 = x1.max(p[0]);
        y1 = y1.max(p[1]);
    }
    let centre = [(x0 + x1) / 2.0, (y0 + y1) / 2.0];
    // Extents along the hand's own axes.
    let (sin, cos) = (-rotation).sin_cos();
    let (mut u0, mut v0, mut u1, mut v1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for p in &points {
        let (x, y) = (p[0] - centre[0], p[1] - centre[1]);
        let (u, v) = (x * cos - y * sin, x * sin + y * cos);
        u0 = u0.min(u);
        v0 = v0.min(v);
        u1 = u1.max(u);
        v1 = v1.max(v);
    }
    let (pu, pv) = ((u0 + u1) / 2.0, (v0 + v1) / 2.0);
    let (sin, cos) = rotation.sin_cos();
    RotatedRect::new(
        centre[0] + pu * cos - pv * sin,
        centre[1] + pu * sin + pv * cos,
        u1 - u0,
        v1 - v0,
        rotation,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::{FRAC_PI_2, PI};

    #[test]
    fn upright_person_has_no_rotation() {
        // Scale point straight above the hips (smaller y is up).
        let r = roi_from_alignment([0.5, 0.6], [0.5, 0.4], 100.0, 200.0, 1.25);
        assert!(r.rotation.abs() < 1e-6);
        assert!((r.width - 2.0 * 40.0 * 1.25).abs() < 1e-4);
        assert!((r.center_x - 50.0).abs() < 1e-4 && (r.center_y - 120.0).abs() < 1e-4);
    }

    #[test]
    fn person_lying_right_is_rotated_a_quarter_turn() {
        // Scale point to the right of the centre: the body points right, rotation +90 degrees.
        let r = roi_from_alignment([0.5, 0.5], [0.7, 0.5], 100.0, 100.0, 1.0);
        assert!((r.rotation - FRAC_PI_2).abs() < 1e-6, "{}", r.rotation);
    }

    #[test]
    fn angles_wrap() {
        assert!((normalize_radians(3.0 * PI) + PI).abs() < 1e-5);
        assert!((normalize_radians(0.5) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn shift_moves_along_the_rotated_axis() {
        // Rotated a quarter turn clockwise: the rectangle's "up" (−y) points to +x on screen.
        let r = RotatedRect::new(100.0, 100.0, 10.0, 20.0, FRAC_PI_2);
        let t = PALM_TO_HAND.apply(&r);
        assert!((t.center_x - 110.0).abs() < 1e-4 && (t.center_y - 100.0).abs() < 1e-4);
        assert!((t.width - 52.0).abs() < 1e-4 && t.width == t.height);
    }

    #[test]
    fn hand_from_pose_points_the_fingers_up() {
        // Wrist below the knuckles: upright, centred on the middle knuckle estimate.
        let r = hand_rect_from_pose([50.0, 100.0], [44.0, 70.0], [53.0, 70.0]);
        assert!(r.rotation.abs() < 1e-6);
        assert!((r.center_x - 50.0).abs() < 1e-4 && (r.center_y - 70.0).abs() < 1e-4);
        assert!((r.width - 60.0).abs() < 1e-4);
    }

    #[test]
    fn hand_from_landmarks_is_tight_around_the_palm_in_the_hand_frame() {
        // An upright axis-aligned "hand": the rectangle is the bounding box of the palm
        // subset (the fingertips, e.g. 8, do not count).
        let mut lm = [[0.0f32; 2]; 21];
        for (i, p) in lm.iter_mut().enumerate() {
            *p = [10.0 + (i % 5) as f32 * 5.0, 100.0 - (i / 5) as f32 * 10.0];
        }
        lm[0] = [20.0, 110.0];
        lm[8] = [500.0, -500.0];
        lm[5] = [15.0, 60.0];
        lm[9] = [20.0, 60.0];
        lm[13] = [25.0, 60.0];
        let r = hand_rect_from_landmarks(&lm);
        assert!(r.rotation.abs() < 1e-5, "{}", r.rotation);
        let subset: Vec<[f32; 2]> = PALM_SUBSET.iter().map(|i| lm[*i]).collect();
        let x0 = subset.iter().map(|p| p[0]).fold(f32::MAX, f32::min);
        let x1 = subset.iter().map(|p| p[0]).fold(f32::MIN, f32::max);
        let y0 = subset.iter().map(|p| p[1]).fold(f32::MAX, f32::min);
        let y1 = subset.iter().map(|p| p[1]).fold(f32::MIN, f32::max);
        assert!((r.width - (x1 - x0)).abs() < 1e-3 && (r.height - (y1 - y0)).abs() < 1e-3);
        assert!((r.center_x - (x0 + x1) / 2.0).abs() < 1e-3);
        // Turned a quarter: same size, rotated.
        let turned: Vec<[f32; 2]> = lm.iter().map(|p| [200.0 - p[1], p[0]]).collect();
        let t = hand_rect_from_landmarks(&turned);
        assert!((t.width - r.width).abs() < 1e-2 && (t.height - r.height).abs() < 1e-2);
        assert!((normalize_radians(t.rotation - r.rotation).abs() - FRAC_PI_2).abs() < 1e-4);
    }
}
