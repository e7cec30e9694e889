//! Skeletons drawn onto a frame, for viewers that cannot draw them (the server's annotated
//! streams): bones as thick lines, joints as squares, hands in a colour of their own.
//! Coordinates outside the frame are clipped pixel by pixel, so any result draws safely.

use super::RgbImage;
use crate::types::Pose;

/// BlazePose's 33-landmark connections (MediaPipe's `POSE_CONNECTIONS`).
pub const POSE_CONNECTIONS: [(usize, usize); 35] = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 7),
    (0, 4),
    (4, 5),
    (5, 6),
    (6, 8),
    (9, 10),
    (11, 12),
    (11, 13),
    (13, 15),
    (15, 17),
    (15, 19),
    (15, 21),
    (17, 19),
    (12, 14),
    (14, 16),
    (16, 18),
    (16, 20),
    (16, 22),
    (18, 20),
    (11, 23),
    (12, 24),
    (23, 24),
    (23, 25),
    (24, 26),
    (25, 27),
    (26, 28),
    (27, 29),
    (28, 30),
    (29, 31),
    (30, 32),
    (27, 31),
    (28, 32),
];

/// The 21-landmark hand connections (MediaPipe's `HAND_CONNECTIONS`).
pub const HAND_CONNECTIONS: [(usize, usize); 21] = [
    (0, 1),
    (1, 2),
    (2, 3),
    (3, 4),
    (0, 5),
    (5, 6),
    (6, 7),
    (7, 8),
    (5, 9),
    (9, 10),
    (10, 11),
    (11, 12),
    (9, 13),
    (13, 14),
    (14, 15),
    (15, 16),
    (13, 17),
    (0, 17),
    (17, 18),
    (18, 19),
    (19, 20),
];

/// Colours (RGB) and sizes of a drawing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrawStyle {
    /// Bones of the body.
    pub bone: [u8; 3],
    /// Joints of the body.
    pub joint: [u8; 3],
    /// Bones and joints of the hands.
    pub hand: [u8; 3],
    /// Line width in pixels (joints are drawn twice as wide).
    pub thickness: u32,
    /// Landmarks less visible than this are not drawn, nor their bones.
    pub min_visibility: f32,
}

impl Default for DrawStyle {
    /// The demo's look: green bones, white joints, orange hands, 3 px lines.
    fn default() -> Self {
        DrawStyle {
            bone: [0, 220, 120],
            joint: [255, 255, 255],
            hand: [255, 150, 0],
            thickness: 3,
            min_visibility: 0.5,
        }
    }
}

/// Draws every pose (body, then its hands) onto `image`.
pub fn draw_poses(image: &mut RgbImage, poses: &[Pose], style: &DrawStyle) {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let mut canvas = Canvas::new(image);
    let t = style.thickness.max(1) as i64;
    for pose in poses {
        let lm = &pose.landmarks;
        let seen = |i: usize| lm.get(i).filter(|l| l.visibility >= style.min_visibility);
        for &(a, b) in &POSE_CONNECTIONS {
            if let (Some(a), Some(b)) = (seen(a), seen(b)) {
                canvas.line((a.x * w, a.y * h), (b.x * w, b.y * h), t, style.bone);
            }
        }
        for l in lm.iter().filter(|l| l.visibility >= style.min_visibility) {
            canvas.square(l.x * w, l.y * h, 2 * t, style.joint);
        }
        for hand in &pose.hands {
            let p = &hand.landmarks;
            for &(a, b) in &HAND_CONNECTIONS {
                if let (Some(a), Some(b)) = (p.get(a), p.get(b)) {
                    let thin = (t / 2).max(1);
                    canvas.line((a.x * w, a.y * h), (b.x * w, b.y * h), thin, style.hand);
                }
            }
            for l in p {
                canvas.square(l.x * w, l.y * h, t, style.hand);
            }
        }
    }
}

/// Pixel access with clipping.
struct Canvas<'a> {
    width: i64,
    height: i64,
    data: &'a mut [u8],
}

/// Farther than this outside the frame, a line is not walked (a result may hold wild
/// coordinates; walking them would cost time for nothing visible).
const MAX_REACH: f32 = 4.0;

impl<'a> Canvas<'a> {
    fn new(image: &'a mut RgbImage) -> Self {
        Canvas {
            width: image.width() as i64,
            height: image.height() as i64,
            data: &mut image.data,
        }
    }

    /// Whether (x, y) is a number within reach of the frame.
    fn near(&self, x: f32, y: f32) -> bool {
        let reach = MAX_REACH * self.width.max(self.height) as f32;
        x.is_finite() && y.is_finite() && x.abs() < reach && y.abs() < reach
    }

    /// A filled square of side `side` centred on (x, y).
    fn square(&mut self, x: f32, y: f32, side: i64, color: [u8; 3]) {
        if !self.near(x, y) {
            return;
        }
        let (x0, y0) = (x.round() as i64 - side / 2, y.round() as i64 - side / 2);
        let xs = x0.max(0)..(x0 + side).min(self.width);
        for row in y0.max(0)..(y0 + side).min(self.height) {
            let start = ((row * self.width + xs.start) * 3) as usize;
            let end = ((row * self.width + xs.end.max(xs.start)) * 3) as usize;
            for pixel in self.data[start..end].chunks_exact_mut(3) {
                pixel.copy_from_slice(&color);
            }
        }
    }

    /// A line of width `thickness` from `a` to `b`.
    fn line(&mut self, a: (f32, f32), b: (f32, f32), thickness: i64, color: [u8; 3]) {
        let reach = MAX_REACH * self.width.max(self.height) as f32;
        let fine = |p: (f32, f32)| {
            p.0.is_finite() && p.1.is_finite() && p.0.abs() < reach && p.1.abs() < reach
        };
        if !fine(a) || !fine(b) {
            return;
        }
        let steps = (b.0 - a.0).abs().max((b.1 - a.1).abs()).ceil().max(1.0) as i64;
        for i in 0..=steps {
            let t = i as f32 / steps as f32;
            let (x, y) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            self.square(x, y, thickness, color);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Hand, Landmark, Point3};

    fn landmark(x: f32, y: f32) -> Landmark {
        Landmark {
            x,
            y,
            z: 0.0,
            visibility: 1.0,
            presence: 1.0,
        }
    }

    fn pixel(image: &RgbImage, x: u32, y: u32) -> [u8; 3] {
        let i = ((y * image.width() + x) * 3) as usize;
        image.data()[i..i + 3].try_into().unwrap()
    }

    #[test]
    fn bones_and_joints_land_where_the_landmarks_are() {
        let mut image = RgbImage::from_rgb8(100, 100, vec![0; 100 * 100 * 3]).unwrap();
        let mut landmarks = vec![landmark(0.5, 0.5); 33];
        landmarks[11] = landmark(0.2, 0.5);
        landmarks[12] = landmark(0.8, 0.5);
        let pose = Pose {
            landmarks,
            ..Pose::default()
        };
        let style = DrawStyle::default();
        draw_poses(&mut image, &[pose], &style);
        // The shoulders' bone crosses x = 35..65 on row 50; the joints sit at the ends.
        assert_eq!(pixel(&image, 35, 50), style.bone);
        assert_eq!(pixel(&image, 20, 50), style.joint);
        assert_eq!(pixel(&image, 80, 50), style.joint);
        assert_eq!(
            pixel(&image, 50, 10),
            [0, 0, 0],
            "nothing drawn away from the pose"
        );
    }

    #[test]
    fn invisible_landmarks_and_wild_coordinates_draw_nothing_and_never_panic() {
        let mut image = RgbImage::from_rgb8(8, 6, vec![0; 8 * 6 * 3]).unwrap();
        let mut landmarks = vec![landmark(0.5, 0.5); 33];
        for l in &mut landmarks {
            l.visibility = 0.1;
        }
        let hidden = Pose {
            landmarks,
            ..Pose::default()
        };
        draw_poses(&mut image, &[hidden], &DrawStyle::default());
        assert!(image.data().iter().all(|&v| v == 0));
        let wild = [f32::NAN, f32::INFINITY, -1e30, 1e30, -3.0, 7.0, 0.999];
        let landmarks = (0..33)
            .map(|i| landmark(wild[i % wild.len()], wild[(i + 3) % wild.len()]))
            .collect();
        let hands = vec![Hand {
            landmarks: (0..21)
                .map(|i| Point3 {
                    x: wild[i % wild.len()],
                    y: 0.5,
                    z: 0.0,
                })
                .collect(),
            ..Hand::default()
        }];
        let pose = Pose {
            landmarks,
            hands,
            ..Pose::default()
        };
        draw_poses(&mut image, &[pose], &DrawStyle::default());
    }
}
