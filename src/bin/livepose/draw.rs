//! Skeletons and hands drawn onto RGB8 frames, for `livepose run --render`.

use livepose::core::image::{HAND_CONNECTIONS, POSE_CONNECTIONS};
use livepose::core::inference::PoseResult;

/// Draws a filled disc of `radius` pixels.
fn dot(pixels: &mut [u8], width: u32, height: u32, x: f32, y: f32, radius: i32, colour: [u8; 3]) {
    let (cx, cy) = (x.round() as i32, y.round() as i32);
    for dy in -radius..=radius {
        for dx in -radius..=radius {
            let (px, py) = (cx + dx, cy + dy);
            if dx * dx + dy * dy <= radius * radius
                && px >= 0
                && py >= 0
                && (px as u32) < width
                && (py as u32) < height
            {
                let at = ((py as u32 * width + px as u32) * 3) as usize;
                pixels[at..at + 3].copy_from_slice(&colour);
            }
        }
    }
}

/// Draws `connections` between the visible ones of `points` (pixels) as lines, and the
/// points as discs.
fn draw_skeleton(
    pixels: &mut [u8],
    (width, height): (u32, u32),
    points: &[Option<(f32, f32)>],
    connections: &[(usize, usize)],
    thickness: i32,
    [line, joint]: [[u8; 3]; 2],
) {
    for &(a, b) in connections {
        if let (Some(Some((x0, y0))), Some(Some((x1, y1)))) = (points.get(a), points.get(b)) {
            let steps = ((x1 - x0).abs().max((y1 - y0).abs()) as usize).max(1);
            for s in 0..=steps {
                let t = s as f32 / steps as f32;
                let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
                dot(pixels, width, height, x, y, thickness, line);
            }
        }
    }
    for (x, y) in points.iter().flatten() {
        dot(pixels, width, height, *x, *y, thickness * 2, joint);
    }
}

/// Draws the skeletons (and hands) of `result` onto an RGB8 frame.
pub(crate) fn draw(pixels: &mut [u8], width: u32, height: u32, result: &PoseResult) {
    let thickness = ((width.max(height) as f32) / 400.0).ceil() as i32;
    let (w, h) = (width as f32, height as f32);
    for pose in &result.poses {
        let points: Vec<_> = pose
            .landmarks
            .iter()
            .map(|l| (l.visibility >= 0.5).then_some((l.x * w, l.y * h)))
            .collect();
        let colours = [[0, 255, 0], [255, 40, 40]];
        draw_skeleton(
            pixels,
            (width, height),
            &points,
            &POSE_CONNECTIONS,
            thickness,
            colours,
        );
        for hand in &pose.hands {
            let points: Vec<_> = hand
                .landmarks
                .iter()
                .map(|l| Some((l.x * w, l.y * h)))
                .collect();
            let colours = [[255, 220, 0], [40, 120, 255]];
            let thin = (thickness / 2).max(1);
            draw_skeleton(
                pixels,
                (width, height),
                &points,
                &HAND_CONNECTIONS,
                thin,
                colours,
            );
        }
    }
}
