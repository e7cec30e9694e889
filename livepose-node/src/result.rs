//! Results as plain JavaScript objects: landmarks in `Float32Array`s (x, y, z, visibility,
//! presence per pose landmark; x, y, z per world or hand landmark).

use livepose_core::types::{Point3, Pose as CorePose, StageTimings};
use napi::bindgen_prelude::Float32Array;
use napi_derive::napi;

/// Microseconds per pipeline stage.
#[napi(object)]
pub struct Timings {
    pub decode: u32,
    pub detect: u32,
    pub crop: u32,
    pub landmarks: u32,
    pub hands: u32,
    pub post: u32,
    pub total: u32,
}

impl From<StageTimings> for Timings {
    fn from(t: StageTimings) -> Self {
        Timings {
            decode: t.decode,
            detect: t.detect,
            crop: t.crop,
            landmarks: t.landmarks,
            hands: t.hands,
            post: t.post,
            total: t.total,
        }
    }
}

/// A joint angle: the joint's wire id, its name (`null` for ids this version does not
/// know) and degrees.
#[napi(object)]
pub struct Angle {
    pub joint: u32,
    pub name: Option<String>,
    pub degrees: f64,
}

/// One hand: 21 landmarks.
#[napi(object)]
pub struct Hand {
    /// `"left"`, `"right"` or `"unknown"`.
    pub handedness: String,
    pub score: f64,
    /// 21 × (x, y, z): x, y normalised to the frame, z relative to the wrist.
    pub landmarks: Float32Array,
    /// 21 × (x, y, z) in metres (empty when not computed).
    pub world_landmarks: Float32Array,
}

/// One person.
#[napi(object)]
pub struct Pose {
    /// Track id, stable while the person is tracked.
    pub id: u32,
    pub score: f64,
    /// `[xMin, yMin, xMax, yMax]`, normalised.
    pub bbox: Vec<f64>,
    /// 33 × (x, y, z, visibility, presence).
    pub landmarks: Float32Array,
    /// 33 × (x, y, z) in metres, origin between the hips.
    pub world_landmarks: Float32Array,
    pub angles: Vec<Angle>,
    pub hands: Vec<Hand>,
}

fn points(points: &[Point3]) -> Float32Array {
    Float32Array::from(
        points
            .iter()
            .flat_map(|p| [p.x, p.y, p.z])
            .collect::<Vec<f32>>(),
    )
}

impl From<&CorePose> for Pose {
    fn from(pose: &CorePose) -> Self {
        let b = pose.bbox;
        Pose {
            id: pose.id,
            score: f64::from(pose.score),
            bbox: [b.x_min, b.y_min, b.x_max, b.y_max].map(f64::from).to_vec(),
            landmarks: Float32Array::from(
                pose.landmarks
                    .iter()
                    .flat_map(|l| [l.x, l.y, l.z, l.visibility, l.presence])
                    .collect::<Vec<f32>>(),
            ),
            world_landmarks: points(&pose.world_landmarks),
            angles: pose
                .angles
                .iter()
                .map(|a| Angle {
                    joint: u32::from(a.joint.id()),
                    name: a.joint.name().map(str::to_string),
                    degrees: f64::from(a.degrees),
                })
                .collect(),
            hands: pose
                .hands
                .iter()
                .map(|h| Hand {
                    handedness: h.handedness.as_str().to_string(),
                    score: f64::from(h.score),
                    landmarks: points(&h.landmarks),
                    world_landmarks: points(&h.world_landmarks),
                })
                .collect(),
        }
    }
}
