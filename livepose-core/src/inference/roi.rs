//! Regions of interest: from two alignment points (detector keypoints or auxiliary
//! landmarks) to the rotated square the landmark model sees (MediaPipe's
//! `AlignmentPointsRectsCalculator` + `RectTransformationCalculator`, §2.2 and §2.4).

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
    let rotation = normalize_radians(std::f32::consts::FRAC_PI_2 - (-(y1 - y0)).atan2(x1 - x0));
    RotatedRect::new(x0, y0, size, size, rotation)
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
}
