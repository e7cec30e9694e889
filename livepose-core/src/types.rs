//! The pose data model: what the inference pipeline produces and the wire protocol carries.
//!
//! Coordinates follow MediaPipe: image landmarks are normalised to the frame (x by width,
//! y by height, 0..1 inside the frame; z on the scale of x, smaller is nearer the camera);
//! world landmarks are in metres with the origin between the hips.

bitflags::bitflags! {
    /// What the pipeline did on a frame; carried by the wire's result message. Unknown bits
    /// are preserved and ignored.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ResultFlags: u16 {
        /// The caller's timestamp was not after the previous one; the pipeline used the next
        /// free timestamp of its monotonic clock instead.
        const TIMESTAMP_ADJUSTED = 1;
        /// The pose detector ran on this frame (otherwise tracking supplied the region).
        const DETECTOR_RAN = 1 << 1;
        /// Tracking was reset on this frame (lost subject or client request).
        const TRACKING_RESET = 1 << 2;
        /// The palm detector ran for at least one hand (otherwise hands came from the pose
        /// or from tracking).
        const PALM_DETECTOR_RAN = 1 << 3;
        const _ = !0;
    }
}

/// One body landmark in normalised image coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Landmark {
    /// Horizontal position, 0 = left edge, 1 = right edge.
    pub x: f32,
    /// Vertical position, 0 = top edge, 1 = bottom edge.
    pub y: f32,
    /// Depth on the scale of `x`, relative to the hips; smaller is nearer the camera.
    pub z: f32,
    /// Probability (0..1) that the landmark is visible (not occluded).
    pub visibility: f32,
    /// Probability (0..1) that the landmark is inside the frame.
    pub presence: f32,
}

/// A 3D point: world landmarks (metres, origin between the hips) or hand landmarks
/// (normalised image coordinates, z relative to the wrist).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point3 {
    /// x.
    pub x: f32,
    /// y.
    pub y: f32,
    /// z.
    pub z: f32,
}

/// An axis-aligned box in normalised image coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BoundingBox {
    /// Left edge.
    pub x_min: f32,
    /// Top edge.
    pub y_min: f32,
    /// Right edge.
    pub x_max: f32,
    /// Bottom edge.
    pub y_max: f32,
}

/// The named joints whose angles livepose reports. The wire carries the numeric id
/// ([`Joint::id`]); ids a decoder does not know survive as [`Joint::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Joint {
    /// Shoulder–elbow–wrist, left arm.
    LeftElbow,
    /// Shoulder–elbow–wrist, right arm.
    RightElbow,
    /// Elbow–shoulder–hip, left side.
    LeftShoulder,
    /// Elbow–shoulder–hip, right side.
    RightShoulder,
    /// Shoulder–hip–knee, left side.
    LeftHip,
    /// Shoulder–hip–knee, right side.
    RightHip,
    /// Hip–knee–ankle, left leg.
    LeftKnee,
    /// Hip–knee–ankle, right leg.
    RightKnee,
    /// Knee–ankle–foot index, left leg.
    LeftAnkle,
    /// Knee–ankle–foot index, right leg.
    RightAnkle,
    /// Angle of the hip-centre → shoulder-centre line from vertical.
    TrunkLean,
    /// An id this version does not know (sent by a newer peer).
    Other(u16),
}

impl Joint {
    /// Every joint this version knows, in id order.
    pub const KNOWN: [Joint; 11] = [
        Joint::LeftElbow,
        Joint::RightElbow,
        Joint::LeftShoulder,
        Joint::RightShoulder,
        Joint::LeftHip,
        Joint::RightHip,
        Joint::LeftKnee,
        Joint::RightKnee,
        Joint::LeftAnkle,
        Joint::RightAnkle,
        Joint::TrunkLean,
    ];

    /// The wire id.
    pub fn id(self) -> u16 {
        match self {
            Joint::Other(id) => id,
            known => Joint::KNOWN.iter().position(|j| *j == known).unwrap_or(0) as u16,
        }
    }

    /// The joint with wire id `id`.
    pub fn from_id(id: u16) -> Joint {
        Joint::KNOWN
            .get(usize::from(id))
            .copied()
            .unwrap_or(Joint::Other(id))
    }

    /// The snake_case name used in JSON (`left_elbow`, …, `trunk_lean`); `None` for
    /// [`Joint::Other`].
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Joint::LeftElbow => "left_elbow",
            Joint::RightElbow => "right_elbow",
            Joint::LeftShoulder => "left_shoulder",
            Joint::RightShoulder => "right_shoulder",
            Joint::LeftHip => "left_hip",
            Joint::RightHip => "right_hip",
            Joint::LeftKnee => "left_knee",
            Joint::RightKnee => "right_knee",
            Joint::LeftAnkle => "left_ankle",
            Joint::RightAnkle => "right_ankle",
            Joint::TrunkLean => "trunk_lean",
            Joint::Other(_) => return None,
        })
    }
}

/// A named joint angle in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointAngle {
    /// Which joint.
    pub joint: Joint,
    /// The angle in degrees.
    pub degrees: f32,
}

/// Which hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Handedness {
    /// Not determined.
    #[default]
    Unknown,
    /// The person's left hand.
    Left,
    /// The person's right hand.
    Right,
}

impl Handedness {
    /// The wire code: 0 unknown, 1 left, 2 right.
    pub fn code(self) -> u8 {
        match self {
            Handedness::Unknown => 0,
            Handedness::Left => 1,
            Handedness::Right => 2,
        }
    }

    /// The handedness for a wire code; codes other than 1 and 2 read as unknown.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Handedness::Left,
            2 => Handedness::Right,
            _ => Handedness::Unknown,
        }
    }
}

crate::options::named_values!(
    Handedness, "handedness",
    "unknown" => Handedness::Unknown, "left" => Handedness::Left, "right" => Handedness::Right,
);

/// One hand: 21 landmarks in MediaPipe's hand topology.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Hand {
    /// Left or right.
    pub handedness: Handedness,
    /// Confidence, 0..1.
    pub score: f32,
    /// Landmarks in normalised image coordinates (z relative to the wrist).
    pub landmarks: Vec<Point3>,
    /// Landmarks in metres (may be empty).
    pub world_landmarks: Vec<Point3>,
}

/// One person.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pose {
    /// Track id, stable while the person is tracked.
    pub id: u32,
    /// Pose presence score, 0..1.
    pub score: f32,
    /// Bounding box of the landmarks, normalised.
    pub bbox: BoundingBox,
    /// Image landmarks (33 for BlazePose).
    pub landmarks: Vec<Landmark>,
    /// World landmarks in metres (empty when not computed).
    pub world_landmarks: Vec<Point3>,
    /// Joint angles (empty when not computed).
    pub angles: Vec<JointAngle>,
    /// Hands of this person (empty when hand tracking is off).
    pub hands: Vec<Hand>,
}

/// Time spent per pipeline stage for one frame, in microseconds. Serialises to JSON as an
/// object with one field per stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct StageTimings {
    /// Image decode.
    pub decode: u32,
    /// Pose detector (0 on frames where tracking made it unnecessary).
    pub detect: u32,
    /// Region-of-interest crop into the landmark tensor.
    pub crop: u32,
    /// Landmark model.
    pub landmarks: u32,
    /// Hand models.
    pub hands: u32,
    /// Post-processing: projection, smoothing, angles.
    pub post: u32,
    /// Whole frame, end to end on the server.
    pub total: u32,
}

impl StageTimings {
    /// Number of stages in wire order.
    pub const COUNT: usize = 7;
    /// Stage names in wire order.
    pub const NAMES: [&'static str; Self::COUNT] = [
        "decode",
        "detect",
        "crop",
        "landmarks",
        "hands",
        "post",
        "total",
    ];

    /// The stages in wire order.
    pub fn to_array(self) -> [u32; Self::COUNT] {
        [
            self.decode,
            self.detect,
            self.crop,
            self.landmarks,
            self.hands,
            self.post,
            self.total,
        ]
    }

    /// Stages from wire order; missing trailing stages are zero, extra ones are ignored.
    pub fn from_slice(values: &[u32]) -> Self {
        let at = |i: usize| values.get(i).copied().unwrap_or(0);
        StageTimings {
            decode: at(0),
            detect: at(1),
            crop: at(2),
            landmarks: at(3),
            hands: at(4),
            post: at(5),
            total: at(6),
        }
    }
}

/// The 33 BlazePose body landmark names, in model order.
pub const POSE_LANDMARK_NAMES: [&str; 33] = [
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
];

/// The 21 hand landmark names, in model order.
pub const HAND_LANDMARK_NAMES: [&str; 21] = [
    "wrist",
    "thumb_cmc",
    "thumb_mcp",
    "thumb_ip",
    "thumb_tip",
    "index_mcp",
    "index_pip",
    "index_dip",
    "index_tip",
    "middle_mcp",
    "middle_pip",
    "middle_dip",
    "middle_tip",
    "ring_mcp",
    "ring_pip",
    "ring_dip",
    "ring_tip",
    "pinky_mcp",
    "pinky_pip",
    "pinky_dip",
    "pinky_tip",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joint_ids_round_trip() {
        for (i, joint) in Joint::KNOWN.iter().enumerate() {
            assert_eq!(joint.id() as usize, i);
            assert_eq!(Joint::from_id(i as u16), *joint);
            assert!(joint.name().is_some());
        }
        assert_eq!(Joint::from_id(999), Joint::Other(999));
        assert_eq!(Joint::Other(999).id(), 999);
        assert_eq!(Joint::Other(999).name(), None);
    }

    #[test]
    fn handedness_codes() {
        for h in [Handedness::Unknown, Handedness::Left, Handedness::Right] {
            assert_eq!(Handedness::from_code(h.code()), h);
            assert_eq!(h.as_str().parse::<Handedness>(), Ok(h));
        }
        assert_eq!(Handedness::from_code(77), Handedness::Unknown);
        assert_eq!(Handedness::Left.to_string(), "left");
        assert!("middle".parse::<Handedness>().is_err());
    }

    #[test]
    fn timings_in_wire_order() {
        let t = StageTimings::from_slice(&[1, 2, 3]);
        assert_eq!(t.to_array(), [1, 2, 3, 0, 0, 0, 0]);
        let all = StageTimings::from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(all.to_array(), [1, 2, 3, 4, 5, 6, 7]);
    }
}
