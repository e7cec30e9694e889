//! MediaPipe's own output on the test clips (`livepose-core/tests/data/reference/*.jsonl`)
//! and the fidelity metric of the inference issue.

use crate::data;

/// One reference pose.
#[derive(Debug, Clone)]
pub struct RefPose {
    /// 33 x (x, y, z, visibility, presence), normalised.
    pub landmarks: Vec<[f32; 5]>,
    /// 33 x (x, y, z) metres.
    pub world: Vec<[f32; 3]>,
}

/// A reference file: clip size and, per frame, the poses.
#[derive(Debug, Clone)]
pub struct Reference {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Per frame, the timestamp MediaPipe was given (milliseconds, rounded as its video API
    /// takes them).
    pub timestamps_ms: Vec<u64>,
    pub frames: Vec<Vec<RefPose>>,
}

impl Reference {
    /// The frames of clip `clip` (`<clip>.mp4` among the clips) as packed RGB8 at this
    /// reference's size: what MediaPipe was given.
    pub fn rgb_frames(&self, clip: &str) -> Vec<Vec<u8>> {
        let file = data::clip(&format!("{clip}.mp4"));
        crate::frames::rgb_frames(&file, None, None, self.width, self.height)
    }
}

/// The reference file `name` (`<clip>.<model>.<mode>.jsonl`, see [`data::reference`]).
pub fn load_reference(name: &str) -> Reference {
    let path = data::reference(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().expect("header")).unwrap();
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN) as f32;
    let mut timestamps_ms = Vec::new();
    let frames = lines
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            timestamps_ms.push(v["timestamp_ms"].as_u64().expect("timestamp_ms"));
            v["poses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| RefPose {
                    landmarks: p["landmarks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| [f(&l[0]), f(&l[1]), f(&l[2]), f(&l[3]), f(&l[4])])
                        .collect(),
                    world: p["world_landmarks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|l| [f(&l[0]), f(&l[1]), f(&l[2])])
                        .collect(),
                })
                .collect()
        })
        .collect();
    Reference {
        width: header["width"].as_u64().unwrap() as u32,
        height: header["height"].as_u64().unwrap() as u32,
        fps: header["fps"].as_f64().unwrap(),
        timestamps_ms,
        frames,
    }
}

/// Mean over the 33 landmarks of the pixel distance, divided by the diagonal of the
/// reference pose's bounding box (in pixels).
pub fn landmark_error(ours: &[[f32; 2]], reference: &RefPose, width: f32, height: f32) -> f32 {
    let px = |x: f32, y: f32| (x * width, y * height);
    let (mut x0, mut y0, mut x1, mut y1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for l in &reference.landmarks {
        let (x, y) = px(l[0], l[1]);
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let diagonal = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
    let mean = ours
        .iter()
        .zip(&reference.landmarks)
        .map(|(o, r)| {
            let (ox, oy) = px(o[0], o[1]);
            let (rx, ry) = px(r[0], r[1]);
            ((ox - rx).powi(2) + (oy - ry).powi(2)).sqrt()
        })
        .sum::<f32>()
        / reference.landmarks.len() as f32;
    mean / diagonal
}

/// Mean Euclidean distance in metres between world landmarks.
pub fn world_error(ours: &[[f32; 3]], reference: &RefPose) -> f32 {
    ours.iter()
        .zip(&reference.world)
        .map(|(o, r)| {
            ((o[0] - r[0]).powi(2) + (o[1] - r[1]).powi(2) + (o[2] - r[2]).powi(2)).sqrt()
        })
        .sum::<f32>()
        / reference.world.len() as f32
}

/// The `q`-quantile (0..1) of `values` (sorted copy, nearest rank).
pub fn quantile(values: &[f32], q: f64) -> f32 {
    let mut v = values.to_vec();
    v.sort_by(f32::total_cmp);
    if v.is_empty() {
        return f32::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i]
}
