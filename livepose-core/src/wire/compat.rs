//! Compatibility with the JSON+base64 format of the Python backends livepose replaces, so an
//! existing front end can switch servers without being rewritten.
//!
//! - Frames in: `{"image": "data:image/jpeg;base64,...", "timestamp": 1712.5, "sequence": 7}`
//!   (a bare base64 string is accepted too; `timestamp` and `sequence` are optional; other
//!   fields are ignored).
//! - Results out: `{"body": [...], "hands": {"left": [...], "right": [...]},
//!   "pose_3d_angles": {...}, "pose_3d_coords": {...}, "timings": {...}, "sequence": 7, ...}`:
//!   the first pose, 17 MoveNet-order body keypoints in pixels, 11 selected hand points,
//!   world coordinates of 12 joints, timings in milliseconds.
//!
//! ```
//! use livepose_core::image::Codec;
//! use livepose_core::wire::compat::decode_frame;
//!
//! let mut image = Vec::new();
//! // "/9j/4A==" is base64 for the JPEG start bytes FF D8 FF E0.
//! let meta = decode_frame(r#"{"image":"data:image/jpeg;base64,/9j/4A==","sequence":3}"#, &mut image).unwrap();
//! assert_eq!(meta.codec, Codec::Jpeg);
//! assert_eq!(meta.sequence, Some(3));
//! assert_eq!(image, [0xFF, 0xD8, 0xFF, 0xE0]);
//! ```

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;
use serde::Deserialize;

use super::{Limits, ResultMessage, WireError};
use crate::image::Codec;
use crate::types::{Handedness, Point3, Pose};

/// Standard base64, padding optional on input, written on output.
pub const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What a JSON frame carried besides the image bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompatFrameMeta {
    /// The image codec (from the bytes; the data URL type must agree if given).
    pub codec: Codec,
    /// The client's timestamp, as sent (usually milliseconds).
    pub timestamp: Option<f64>,
    /// The client's sequence number.
    pub sequence: Option<u64>,
}

#[derive(Deserialize)]
struct JsonFrame<'a> {
    #[serde(borrow)]
    image: Cow<'a, str>,
    #[serde(default)]
    timestamp: Option<f64>,
    #[serde(default)]
    sequence: Option<u64>,
}

/// Decodes a JSON+base64 frame with the default [`Limits`]; the image bytes go into `image`
/// (cleared first, capacity reused).
pub fn decode_frame(text: &str, image: &mut Vec<u8>) -> Result<CompatFrameMeta, WireError> {
    decode_frame_with(text, image, &Limits::default())
}

/// Decodes a JSON+base64 frame, enforcing `limits` on the text length.
pub fn decode_frame_with(
    text: &str,
    image: &mut Vec<u8>,
    limits: &Limits,
) -> Result<CompatFrameMeta, WireError> {
    if text.len() > limits.max_message_bytes {
        return Err(WireError::Oversized {
            len: text.len(),
            max: limits.max_message_bytes,
        });
    }
    let frame: JsonFrame<'_> =
        serde_json::from_str(text).map_err(|e| WireError::Json(e.to_string()))?;
    Ok(CompatFrameMeta {
        codec: decode_image(&frame.image, image)?,
        timestamp: frame.timestamp,
        sequence: frame.sequence,
    })
}

/// Decodes the `image` field of a JSON+base64 frame (a `data:` URL or bare base64) into
/// `image` (cleared first, capacity reused); returns the codec the bytes are in.
pub fn decode_image(text: &str, image: &mut Vec<u8>) -> Result<Codec, WireError> {
    let (declared, data) = split_data_url(text)?;
    image.clear();
    BASE64
        .decode_vec(data.trim(), image)
        .map_err(|e| WireError::BadImageData(format!("base64: {e}")))?;
    let codec = Codec::sniff(image).ok_or_else(|| {
        WireError::BadImageData(format!(
            "the decoded {} bytes are not a JPEG, PNG or WebP image",
            image.len()
        ))
    })?;
    if let Some(declared) = declared {
        if declared != codec {
            return Err(WireError::BadImageData(format!(
                "data URL says {} but the bytes are {}",
                declared.mime(),
                codec.mime()
            )));
        }
    }
    Ok(codec)
}

/// Splits `data:<mime>;base64,<data>` into the codec of `<mime>` and `<data>`; a string that
/// is not a data URL is returned whole as base64.
fn split_data_url(image: &str) -> Result<(Option<Codec>, &str), WireError> {
    let Some(rest) = image.strip_prefix("data:") else {
        return Ok((None, image));
    };
    let Some((mime, data)) = rest.split_once(',') else {
        return Err(WireError::BadImageData("data URL without a comma".into()));
    };
    let Some(mime) = mime.strip_suffix(";base64") else {
        return Err(WireError::BadImageData(format!(
            "data URL of type {mime:?} is not base64"
        )));
    };
    match Codec::from_mime(mime) {
        Some(codec) => Ok((Some(codec), data)),
        None => Err(WireError::BadImageData(format!(
            "unsupported image type {mime:?} (JPEG, PNG or WebP)"
        ))),
    }
}

/// Encodes a frame the way existing clients send it (for tests, benchmarks and migration
/// tools): `{"image":"data:<mime>;base64,...","timestamp":..,"sequence":..}` into `out`.
pub fn encode_frame(image: &[u8], codec: Codec, timestamp: f64, sequence: u64, out: &mut String) {
    out.clear();
    out.reserve(image.len() * 4 / 3 + 96);
    let _ = write!(out, "{{\"image\":\"data:{};base64,", codec.mime());
    BASE64.encode_string(image, out);
    out.push_str("\",\"timestamp\":");
    push_number(out, timestamp, None);
    let _ = write!(out, ",\"sequence\":{sequence}}}");
}

/// MediaPipe indices of the 17 MoveNet-order keypoints the existing clients draw.
const BODY: [(usize, &str); 17] = [
    (0, "nose"),
    (2, "left_eye"),
    (5, "right_eye"),
    (7, "left_ear"),
    (8, "right_ear"),
    (11, "left_shoulder"),
    (12, "right_shoulder"),
    (13, "left_elbow"),
    (14, "right_elbow"),
    (15, "left_wrist"),
    (16, "right_wrist"),
    (23, "left_hip"),
    (24, "right_hip"),
    (25, "left_knee"),
    (26, "right_knee"),
    (27, "left_ankle"),
    (28, "right_ankle"),
];

/// The 11 hand points the existing clients receive.
const HAND: [(usize, &str); 11] = [
    (0, "wrist"),
    (1, "thumb_cmc"),
    (4, "thumb_tip"),
    (5, "index_mcp"),
    (8, "index_tip"),
    (9, "middle_mcp"),
    (12, "middle_tip"),
    (13, "ring_mcp"),
    (16, "ring_tip"),
    (17, "pinky_mcp"),
    (20, "pinky_tip"),
];

/// World-landmark indices of the 12 joints in `pose_3d_coords`.
const COORDS: [(usize, &str); 12] = [
    (11, "left_shoulder"),
    (12, "right_shoulder"),
    (13, "left_elbow"),
    (14, "right_elbow"),
    (15, "left_wrist"),
    (16, "right_wrist"),
    (23, "left_hip"),
    (24, "right_hip"),
    (25, "left_knee"),
    (26, "right_knee"),
    (27, "left_ankle"),
    (28, "right_ankle"),
];

/// Writes `v` rounded to `decimals` places (all digits if `None`); non-finite as `null`.
fn push_number(out: &mut String, v: f64, decimals: Option<usize>) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    let _ = match decimals {
        Some(d) => write!(out, "{v:.d$}"),
        None => write!(out, "{v}"),
    };
}

/// Encodes `result` as the JSON the existing clients expect, into `out` (cleared first).
/// `frame_width` and `frame_height` convert normalised coordinates to pixels.
pub fn encode_result(
    result: &ResultMessage,
    frame_width: u32,
    frame_height: u32,
    out: &mut String,
) {
    out.clear();
    let pose = result.poses.first();
    let (w, h) = (f64::from(frame_width), f64::from(frame_height));
    out.push_str("{\"body\":[");
    if let Some(pose) = pose {
        let points = BODY
            .iter()
            .filter_map(|(i, name)| Some((pose.landmarks.get(*i)?, name)));
        for (n, (lm, name)) in points.enumerate() {
            if n > 0 {
                out.push(',');
            }
            let _ = write!(out, "{{\"name\":\"{name}\",\"x\":");
            push_number(out, f64::from(lm.x) * w, Some(1));
            out.push_str(",\"y\":");
            push_number(out, f64::from(lm.y) * h, Some(1));
            out.push_str(",\"confidence\":");
            push_number(out, f64::from(lm.visibility) * 100.0, Some(0));
            let _ = write!(out, ",\"visible\":{}}}", lm.visibility > 0.3);
        }
    }
    out.push_str("],\"hands\":{");
    for (n, side) in [Handedness::Left, Handedness::Right]
        .into_iter()
        .enumerate()
    {
        let name = side.as_str();
        if n > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":[");
        if let Some(hand) = pose.and_then(|p| p.hands.iter().find(|h| h.handedness == side)) {
            push_hand(out, &hand.landmarks, w, h);
        }
        out.push(']');
    }
    out.push_str("},\"pose_3d_angles\":{");
    if let Some(pose) = pose {
        let named = pose
            .angles
            .iter()
            .filter_map(|a| Some((a.joint.name()?, a.degrees)));
        for (n, (name, degrees)) in named.enumerate() {
            if n > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{name}\":");
            push_number(out, f64::from(degrees), Some(1));
        }
    }
    out.push_str("},\"pose_3d_coords\":{");
    if let Some(pose) = pose {
        push_coords(out, pose);
    }
    let t = result.timings;
    let ms = |us: u64| us as f64 / 1000.0;
    out.push_str("},\"timings\":{");
    let timings = [
        ("image_decode", ms(t.decode.into())),
        (
            "pose_detection",
            ms(u64::from(t.detect) + u64::from(t.crop) + u64::from(t.landmarks)),
        ),
        ("hand_detection", ms(t.hands.into())),
        ("post_processing", ms(t.post.into())),
        ("total_backend", ms(t.total.into())),
    ];
    for (n, (name, value)) in timings.into_iter().enumerate() {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":");
        push_number(out, value, Some(3));
    }
    let _ = write!(out, "}},\"sequence\":{},\"timestamp\":", result.sequence);
    push_number(out, result.capture_ts_us as f64 / 1000.0, None);
    let _ = write!(
        out,
        ",\"frames_dropped\":{},\"poses\":{},\"mode\":\"3D\"}}",
        result.frames_dropped,
        result.poses.len()
    );
}

fn push_hand(out: &mut String, landmarks: &[Point3], w: f64, h: f64) {
    let points = HAND
        .iter()
        .filter_map(|(i, name)| Some((landmarks.get(*i)?, name)));
    for (n, (p, name)) in points.enumerate() {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"name\":\"{name}\",\"x\":");
        push_number(out, f64::from(p.x) * w, Some(1));
        out.push_str(",\"y\":");
        push_number(out, f64::from(p.y) * h, Some(1));
        out.push_str(",\"z\":");
        push_number(out, f64::from(p.z), Some(3));
        out.push_str(",\"normalized_x\":");
        push_number(out, f64::from(p.x), Some(3));
        out.push_str(",\"normalized_y\":");
        push_number(out, f64::from(p.y), Some(3));
        out.push('}');
    }
}

fn push_coords(out: &mut String, pose: &Pose) {
    let joints = COORDS
        .iter()
        .filter_map(|(i, name)| Some((pose.world_landmarks.get(*i)?, name)));
    for (n, (p, name)) in joints.enumerate() {
        if n > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{name}\":{{\"x\":");
        push_number(out, f64::from(p.x), Some(3));
        out.push_str(",\"y\":");
        push_number(out, f64::from(p.y), Some(3));
        out.push_str(",\"z\":");
        push_number(out, f64::from(p.z), Some(3));
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Hand, Joint, JointAngle, Landmark, StageTimings};

    const JPEG_START: [u8; 4] = [0xFF, 0xD8, 0xFF, 0xE0];

    #[test]
    fn frame_round_trip() {
        let mut text = String::new();
        encode_frame(&JPEG_START, Codec::Jpeg, 1712.25, 8, &mut text);
        let mut image = Vec::new();
        let meta = decode_frame(&text, &mut image).unwrap();
        assert_eq!(image, JPEG_START);
        assert_eq!(meta.timestamp, Some(1712.25));
        assert_eq!(meta.sequence, Some(8));
    }

    #[test]
    fn bare_base64_and_extra_fields() {
        let mut image = Vec::new();
        let meta = decode_frame(r#"{"image":"/9j/4A","use3D":true}"#, &mut image).unwrap();
        assert_eq!(meta.codec, Codec::Jpeg);
        assert_eq!(meta.sequence, None);
    }

    #[test]
    fn bad_frames_name_the_problem() {
        let mut image = Vec::new();
        let err = |text: &str| decode_frame(text, &mut Vec::new()).unwrap_err().to_string();
        assert!(err(r#"{"timestamp":1}"#).contains("image"));
        assert!(err(r#"{"image":"data:image/gif;base64,R0lG"}"#).contains("image/gif"));
        assert!(err(r#"{"image":"data:image/png;base64,/9j/4A=="}"#).contains("image/jpeg"));
        assert!(err(r#"{"image":"!!!"}"#).contains("base64"));
        assert!(err(r#"{"image":"aGVsbG8="}"#).contains("not a JPEG"));
        assert!(err("not json").contains("JSON"));
        let limits = Limits {
            max_message_bytes: 8,
        };
        assert!(matches!(
            decode_frame_with(r#"{"image":"/9j/4A"}"#, &mut image, &limits),
            Err(WireError::Oversized { .. })
        ));
    }

    #[test]
    fn result_has_the_shape_existing_clients_read() {
        let mut landmarks = vec![Landmark::default(); 33];
        landmarks[0] = Landmark {
            x: 0.5,
            y: 0.25,
            z: 0.0,
            visibility: 0.9,
            presence: 1.0,
        };
        let mut world = vec![Point3::default(); 33];
        world[11] = Point3 {
            x: 0.1234,
            y: -0.5,
            z: 0.02,
        };
        let result = ResultMessage {
            sequence: 5,
            capture_ts_us: 1_500,
            timings: StageTimings {
                decode: 1500,
                total: 9000,
                ..Default::default()
            },
            poses: vec![Pose {
                landmarks,
                world_landmarks: world,
                angles: vec![JointAngle {
                    joint: Joint::LeftKnee,
                    degrees: 172.44,
                }],
                hands: vec![Hand {
                    handedness: Handedness::Right,
                    score: 0.9,
                    landmarks: vec![Point3::default(); 21],
                    world_landmarks: vec![],
                }],
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut out = String::new();
        encode_result(&result, 640, 480, &mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["body"].as_array().unwrap().len(), 17);
        assert_eq!(v["body"][0]["name"], "nose");
        assert_eq!(v["body"][0]["x"], 320.0);
        assert_eq!(v["body"][0]["y"], 120.0);
        assert_eq!(v["body"][0]["confidence"], 90.0);
        assert_eq!(v["body"][0]["visible"], true);
        assert_eq!(v["hands"]["left"].as_array().unwrap().len(), 0);
        assert_eq!(v["hands"]["right"].as_array().unwrap().len(), 11);
        assert_eq!(v["pose_3d_angles"]["left_knee"], 172.4);
        assert_eq!(v["pose_3d_coords"]["left_shoulder"]["x"], 0.123);
        assert_eq!(v["pose_3d_coords"].as_object().unwrap().len(), 12);
        assert_eq!(v["timings"]["image_decode"], 1.5);
        assert_eq!(v["timings"]["total_backend"], 9.0);
        assert_eq!(v["sequence"], 5);
        assert_eq!(v["timestamp"], 1.5);
    }

    #[test]
    fn empty_result_and_non_finite_values_stay_valid_json() {
        let mut out = String::new();
        encode_result(&ResultMessage::default(), 640, 480, &mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["body"].as_array().unwrap().len(), 0);
        let nan = ResultMessage {
            poses: vec![Pose {
                landmarks: vec![
                    Landmark {
                        x: f32::NAN,
                        ..Default::default()
                    };
                    33
                ],
                ..Default::default()
            }],
            ..Default::default()
        };
        encode_result(&nan, 640, 480, &mut out);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(v["body"][0]["x"].is_null());
    }
}
