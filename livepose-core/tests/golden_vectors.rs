//! Golden byte vectors of wire protocol v1, shared with the Python and JavaScript decoders.
//!
//! Each `tests/vectors/NAME.hex` (lowercase hex, whitespace ignored) has a `NAME.json`
//! beside it describing the message in language-neutral JSON:
//! - `{"kind": "frame", ...}` / `{"kind": "result", ...}`: a valid message. Every decoder
//!   must decode the hex to exactly these values; encoders that produce it from these values
//!   must produce exactly the hex (except vectors with `"encoder": false`, which exercise
//!   forward compatibility and are not what a v1 encoder writes).
//! - `{"kind": "invalid", "decoder": "frame"|"result", "error": CODE}`: every decoder must
//!   reject the hex with that error code.
//!
//! All floats in the vectors are exactly representable in f32, so comparisons are exact.
//! Run with `LIVEPOSE_BLESS=1` to regenerate the files after a deliberate format change.
//!
//! `tests/vectors/control/NAME.json` are control messages (§6): `text` exactly as written,
//! `message` the same as a JSON object; `ServerMessage`/`ClientMessage` must read one to the
//! other and write `text` back.

use std::path::{Path, PathBuf};

use livepose_core::image::{Codec, PixelLayout};
use livepose_core::types::{
    BoundingBox, Hand, Handedness, Joint, JointAngle, Landmark, Point3, Pose, StageTimings,
};
use livepose_core::wire::control::{ClientMessage, KeyframeReason, KeyframeRequest, ServerMessage};
use livepose_core::wire::{
    FrameFlags, FrameHeader, FrameView, ImageFormat, ResultFlags, ResultMessage, ResultView,
};
use serde_json::{json, Value};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn to_hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(32).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        for b in chunk {
            out.push_str(&format!("{b:02x}"));
        }
    }
    out.push('\n');
    out
}

fn from_hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

// ---- language-neutral JSON descriptions ----

fn format_to_json(format: ImageFormat) -> Value {
    match format {
        ImageFormat::Encoded(codec) => json!({
            "format": match codec { Codec::Jpeg => "jpeg", Codec::Png => "png", Codec::Webp => "webp", Codec::H264 => "h264" },
            "width": 0, "height": 0,
        }),
        ImageFormat::Raw {
            layout,
            width,
            height,
        } => json!({
            "format": match layout { PixelLayout::Rgb8 => "rgb8", PixelLayout::Rgba8 => "rgba8" },
            "width": width, "height": height,
        }),
    }
}

fn frame_to_json(view: &FrameView<'_>) -> Value {
    let mut v = json!({
        "kind": "frame",
        "sequence": view.header.sequence,
        "capture_ts_us": view.header.capture_ts_us,
        "flags": view.header.flags.bits(),
        "payload_hex": to_hex(view.payload).replace('\n', ""),
    });
    let format = format_to_json(view.header.format);
    for (k, val) in format.as_object().unwrap() {
        v[k] = val.clone();
    }
    v
}

fn points_json(points: &[Point3]) -> Value {
    points.iter().map(|p| json!([p.x, p.y, p.z])).collect()
}

fn result_to_json(msg: &ResultMessage) -> Value {
    json!({
        "kind": "result",
        "sequence": msg.sequence,
        "capture_ts_us": msg.capture_ts_us,
        "server_recv_us": msg.server_recv_us,
        "server_start_us": msg.server_start_us,
        "server_end_us": msg.server_end_us,
        "frames_dropped": msg.frames_dropped,
        "flags": msg.flags.bits(),
        "timings_us": msg.timings.to_array(),
        "poses": msg.poses.iter().map(|p| json!({
            "id": p.id,
            "score": p.score,
            "bbox": [p.bbox.x_min, p.bbox.y_min, p.bbox.x_max, p.bbox.y_max],
            "landmarks": p.landmarks.iter().map(|l| json!([l.x, l.y, l.z, l.visibility, l.presence])).collect::<Value>(),
            "world_landmarks": points_json(&p.world_landmarks),
            "angles": p.angles.iter().map(|a| json!([a.joint.id(), a.degrees])).collect::<Value>(),
            "hands": p.hands.iter().map(|h| json!({
                "handedness": h.handedness.code(),
                "score": h.score,
                "landmarks": points_json(&h.landmarks),
                "world_landmarks": points_json(&h.world_landmarks),
            })).collect::<Value>(),
        })).collect::<Value>(),
    })
}

// ---- the vectors ----

fn q(i: usize, d: f32) -> f32 {
    // Exactly representable values: multiples of 1/64.
    (i as f32 * d * 64.0).round() / 64.0
}

fn body(n: usize) -> Vec<Landmark> {
    (0..n)
        .map(|i| Landmark {
            x: q(i, 0.03),
            y: 1.0 - q(i, 0.02),
            z: -0.25 + q(i, 0.01),
            visibility: 0.75,
            presence: 0.875,
        })
        .collect()
}

fn world(n: usize) -> Vec<Point3> {
    (0..n)
        .map(|i| Point3 {
            x: q(i, 0.01) - 0.125,
            y: -0.5 + q(i, 0.03),
            z: 0.0625,
        })
        .collect()
}

fn hand(handedness: Handedness) -> Hand {
    Hand {
        handedness,
        score: 0.9375,
        landmarks: world(21),
        world_landmarks: world(21),
    }
}

fn one_pose() -> ResultMessage {
    ResultMessage {
        sequence: 42,
        capture_ts_us: 1_700_000_000_123_456,
        server_recv_us: 1_700_000_000_200_000,
        server_start_us: 1_700_000_000_200_250,
        server_end_us: 1_700_000_000_212_000,
        frames_dropped: 3,
        flags: ResultFlags::DETECTOR_RAN,
        timings: StageTimings {
            decode: 1500,
            detect: 4000,
            crop: 200,
            landmarks: 9000,
            hands: 0,
            post: 150,
            total: 11750,
        },
        poses: vec![Pose {
            id: 1,
            score: 0.96875,
            bbox: BoundingBox {
                x_min: 0.25,
                y_min: 0.125,
                x_max: 0.75,
                y_max: 0.96875,
            },
            landmarks: body(33),
            world_landmarks: world(33),
            angles: Joint::KNOWN
                .iter()
                .enumerate()
                .map(|(i, joint)| JointAngle {
                    joint: *joint,
                    degrees: 90.0 + i as f32 * 7.5,
                })
                .collect(),
            hands: vec![],
        }],
    }
}

fn two_poses_hands() -> ResultMessage {
    let mut msg = one_pose();
    msg.sequence = 43;
    msg.flags = ResultFlags::TIMESTAMP_ADJUSTED | ResultFlags::TRACKING_RESET;
    msg.poses[0].hands = vec![hand(Handedness::Left), hand(Handedness::Right)];
    msg.poses.push(Pose {
        id: 7,
        score: 0.5,
        bbox: BoundingBox::default(),
        landmarks: body(5),
        world_landmarks: vec![],
        angles: vec![],
        hands: vec![Hand {
            handedness: Handedness::Unknown,
            score: 0.25,
            landmarks: world(21),
            world_landmarks: vec![],
        }],
    });
    msg
}

fn empty_result() -> ResultMessage {
    ResultMessage {
        sequence: 0,
        capture_ts_us: -1,
        timings: StageTimings {
            decode: 900,
            total: 1000,
            ..Default::default()
        },
        ..Default::default()
    }
}

/// What a later revision of v1 may send: a longer header, more timings, a longer pose
/// header and a trailing section. v1 decoders must read it as `one_pose()`.
fn extended_one_pose() -> Vec<u8> {
    let mut bytes = one_pose().to_bytes().unwrap();
    bytes[6..8].copy_from_slice(&72u16.to_le_bytes());
    bytes.splice(64..64, [0xAA; 8]);
    bytes[58..60].copy_from_slice(&9u16.to_le_bytes());
    bytes.splice(72 + 28..72 + 28, [0xBB; 8]);
    let pose_at = 72 + 36;
    let len = u32::from_le_bytes(bytes[pose_at..pose_at + 4].try_into().unwrap()) + 8;
    bytes[pose_at..pose_at + 4].copy_from_slice(&len.to_le_bytes());
    bytes[pose_at + 4..pose_at + 6].copy_from_slice(&48u16.to_le_bytes());
    bytes.splice(pose_at + 40..pose_at + 40, [0xCC; 8]);
    bytes.extend_from_slice(&[0xDD; 16]);
    bytes
}

fn frame(header: FrameHeader, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    header.encode_with_payload(payload, &mut out).unwrap();
    out
}

const JPEG_START: [u8; 20] = [
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00,
];

/// A real H.264 keyframe (SPS, PPS, IDR slice; constrained baseline, 32x32, a grey
/// square on a darker ground) and the frame after it (a P slice: the square moved right by
/// 4 pixels), as livepose's `H264Encoder` wrote them at 200 kbit/s. Constants, not encoded
/// at test time: the vectors must not change with the encoder's build.
const H264_KEYFRAME: &str = "000000016742c00b8c689480784423500000000168ce3c800000000165b8000409ffff88609e28000816f8a00020cdfff87f27f00ff9387ffe48";
const H264_DELTA: &str = "0000000161e0007e409f821fff50";

fn h264_header(sequence: u64, flags: FrameFlags) -> FrameHeader {
    FrameHeader {
        sequence,
        capture_ts_us: 1_700_000_000_123_456 + 33_333 * (sequence as i64 - 10),
        format: ImageFormat::Encoded(Codec::H264),
        flags,
    }
}

fn jpeg_header() -> FrameHeader {
    FrameHeader::new(1, 1_700_000_000_123_456, ImageFormat::Encoded(Codec::Jpeg))
}

/// (name, bytes, description) of every vector.
fn vectors() -> Vec<(&'static str, Vec<u8>, Value)> {
    let mut out = Vec::new();
    let mut valid_frame = |name, bytes: Vec<u8>| {
        let json = frame_to_json(&FrameView::parse(&bytes).unwrap());
        out.push((name, bytes, json));
    };
    valid_frame("frame_jpeg", frame(jpeg_header(), &JPEG_START));
    let rgb = FrameHeader {
        sequence: u64::MAX,
        capture_ts_us: -5,
        format: ImageFormat::Raw {
            layout: PixelLayout::Rgb8,
            width: 2,
            height: 2,
        },
        flags: FrameFlags::RESET_TRACKING,
    };
    valid_frame(
        "frame_rgb8_2x2_reset",
        frame(rgb, &[10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]),
    );
    let rgba = FrameHeader::new(
        2,
        0,
        ImageFormat::Raw {
            layout: PixelLayout::Rgba8,
            width: 1,
            height: 1,
        },
    );
    valid_frame("frame_rgba8_1x1", frame(rgba, &[1, 2, 3, 255]));
    valid_frame(
        "frame_h264_keyframe",
        frame(
            h264_header(10, FrameFlags::KEYFRAME),
            &from_hex(H264_KEYFRAME),
        ),
    );
    valid_frame(
        "frame_h264_delta",
        frame(h264_header(11, FrameFlags::empty()), &from_hex(H264_DELTA)),
    );
    valid_frame(
        "frame_png_empty_payload",
        frame(
            FrameHeader::new(3, 3, ImageFormat::Encoded(Codec::Png)),
            &[],
        ),
    );

    for (name, msg) in [
        ("result_empty", empty_result()),
        ("result_one_pose", one_pose()),
        ("result_two_poses_hands", two_poses_hands()),
    ] {
        out.push((name, msg.to_bytes().unwrap(), result_to_json(&msg)));
    }
    let mut extended = result_to_json(&one_pose());
    extended["encoder"] = json!(false);
    out.push((
        "result_extended_future_fields",
        extended_one_pose(),
        extended,
    ));

    let invalid =
        |decoder: &str, error: &str| json!({"kind": "invalid", "decoder": decoder, "error": error});
    let good_frame = frame(jpeg_header(), &JPEG_START);
    let good_result = one_pose().to_bytes().unwrap();
    let patched = |base: &[u8], at: usize, bytes: &[u8]| {
        let mut v = base.to_vec();
        v[at..at + bytes.len()].copy_from_slice(bytes);
        v
    };
    out.push((
        "invalid_frame_bad_magic",
        patched(&good_frame, 0, b"LPOZ"),
        invalid("frame", "bad_magic"),
    ));
    out.push((
        "invalid_frame_version_2",
        patched(&good_frame, 4, &[2]),
        invalid("frame", "unsupported_version"),
    ));
    out.push((
        "invalid_frame_is_result",
        good_result.clone(),
        invalid("frame", "unexpected_type"),
    ));
    out.push((
        "invalid_frame_truncated_header",
        good_frame[..30].to_vec(),
        invalid("frame", "truncated"),
    ));
    out.push((
        "invalid_frame_truncated_payload",
        good_frame[..good_frame.len() - 1].to_vec(),
        invalid("frame", "truncated"),
    ));
    let mut trailing = good_frame.clone();
    trailing.push(0);
    out.push((
        "invalid_frame_trailing_bytes",
        trailing,
        invalid("frame", "inconsistent"),
    ));
    out.push((
        "invalid_frame_unknown_format",
        patched(&good_frame, 24, &[9]),
        invalid("frame", "unknown_image_format"),
    ));
    out.push((
        "invalid_frame_header_len_36",
        patched(&good_frame, 6, &[36, 0]),
        invalid("frame", "inconsistent"),
    ));
    let rgb_frame = frame(rgb, &[0; 12]);
    out.push((
        "invalid_frame_raw_size_mismatch",
        patched(&rgb_frame, 28, &3u32.to_le_bytes()),
        invalid("frame", "inconsistent"),
    ));
    out.push((
        "invalid_frame_raw_zero_width",
        patched(&rgb_frame, 28, &0u32.to_le_bytes()),
        invalid("frame", "bad_dimensions"),
    ));
    out.push((
        "invalid_result_truncated",
        good_result[..good_result.len() - 4].to_vec(),
        invalid("result", "truncated"),
    ));
    let pose_at = 64 + 28;
    out.push((
        "invalid_result_landmark_count_overflow",
        patched(&good_result, pose_at + 6, &1000u16.to_le_bytes()),
        invalid("result", "inconsistent"),
    ));
    out.push((
        "invalid_result_record_len_not_multiple_of_4",
        patched(&good_result, pose_at, &1002u32.to_le_bytes()),
        invalid("result", "inconsistent"),
    ));
    out.push((
        "invalid_result_pose_count_too_high",
        patched(&good_result, 60, &2u16.to_le_bytes()),
        invalid("result", "truncated"),
    ));
    out
}

fn decode_error_code(decoder: &str, bytes: &[u8]) -> Option<&'static str> {
    match decoder {
        "frame" => FrameView::parse(bytes).err().map(|e| e.code()),
        "result" => ResultView::parse(bytes).err().map(|e| e.code()),
        other => panic!("unknown decoder {other}"),
    }
}

#[test]
fn golden_vectors() {
    let dir = vectors_dir();
    let bless = std::env::var_os("LIVEPOSE_BLESS").is_some();
    let all = vectors();
    for (name, bytes, description) in &all {
        let hex_path = dir.join(format!("{name}.hex"));
        let json_path = dir.join(format!("{name}.json"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&hex_path, to_hex(bytes)).unwrap();
            std::fs::write(
                &json_path,
                serde_json::to_string_pretty(description).unwrap() + "\n",
            )
            .unwrap();
        }
        let stored = from_hex(
            &std::fs::read_to_string(&hex_path).unwrap_or_else(|e| panic!("{hex_path:?}: {e}")),
        );
        let stored_json: Value =
            serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
        assert_eq!(&stored_json, description, "{name}: description changed");
        match description["kind"].as_str().unwrap() {
            "frame" => {
                assert_eq!(&stored, bytes, "{name}: encoder output changed");
                let view = FrameView::parse(&stored).unwrap();
                assert_eq!(frame_to_json(&view), stored_json, "{name}: decoded values");
            }
            "result" => {
                if stored_json.get("encoder") != Some(&json!(false)) {
                    assert_eq!(&stored, bytes, "{name}: encoder output changed");
                }
                let view = ResultView::parse(&stored).unwrap();
                let mut decoded = result_to_json(&view.to_message());
                if let Some(flag) = stored_json.get("encoder") {
                    decoded["encoder"] = flag.clone();
                }
                assert_eq!(decoded, stored_json, "{name}: decoded values");
            }
            "invalid" => {
                let decoder = stored_json["decoder"].as_str().unwrap();
                assert_eq!(
                    decode_error_code(decoder, &stored),
                    stored_json["error"].as_str(),
                    "{name}"
                );
            }
            other => panic!("{name}: unknown kind {other}"),
        }
    }
    // No stale files: every file in the directory is one of ours.
    let names: std::collections::HashSet<_> = all.iter().map(|(n, _, _)| n.to_string()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.extension().is_some_and(|e| e == "hex" || e == "json") {
            assert!(names.contains(&stem), "stale vector {path:?}");
        }
    }
}

/// The control messages of `tests/vectors/control/`: (name, message).
fn control_vectors() -> Vec<(&'static str, ServerMessage)> {
    vec![
        (
            "keyframe_request_decode_error",
            ServerMessage::KeyframeRequest(KeyframeRequest {
                reason: KeyframeReason::DecodeError,
                sequence: Some(17),
            }),
        ),
        (
            "keyframe_request_behind",
            ServerMessage::KeyframeRequest(KeyframeRequest {
                reason: KeyframeReason::Behind,
                sequence: None,
            }),
        ),
        (
            "keyframe_request_join",
            ServerMessage::KeyframeRequest(KeyframeRequest {
                reason: KeyframeReason::Join,
                sequence: None,
            }),
        ),
    ]
}

#[test]
fn golden_control_vectors() {
    let dir = vectors_dir().join("control");
    let bless = std::env::var_os("LIVEPOSE_BLESS").is_some();
    let all = control_vectors();
    for (name, message) in &all {
        let path = dir.join(format!("{name}.json"));
        let text = message.to_json();
        let description = json!({
            "kind": "control",
            "direction": "server",
            "text": text,
            "message": serde_json::from_str::<Value>(&text).unwrap(),
        });
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                &path,
                serde_json::to_string_pretty(&description).unwrap() + "\n",
            )
            .unwrap();
        }
        let stored: Value = serde_json::from_str(
            &std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}")),
        )
        .unwrap();
        assert_eq!(stored, description, "{name}: changed");
        let stored_text = stored["text"].as_str().unwrap();
        let parsed = ServerMessage::from_json(stored_text).unwrap();
        assert_eq!(&parsed, message, "{name}: decoded");
        assert_eq!(parsed.to_json(), stored_text, "{name}: encoded");
        let from_object: ServerMessage = serde_json::from_value(stored["message"].clone()).unwrap();
        assert_eq!(&from_object, message, "{name}: the object");
        // Not a client message.
        assert!(ClientMessage::from_json(stored_text).is_err());
    }
    // Every keyframe_request vector is one of these (the other control vectors, client
    // messages and errors, are checked by tests/control_vectors.rs).
    let names: std::collections::HashSet<_> = all.iter().map(|(n, _)| n.to_string()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let spec: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        if spec["message"]["type"] == "keyframe_request" {
            assert!(names.contains(&stem), "stale vector {path:?}");
        }
    }
}

/// The H.264 vectors carry real access units: they decode, in order, to the picture they
/// were made from.
#[cfg(feature = "h264")]
#[test]
fn h264_vectors_decode() {
    use livepose_core::image::RgbImage;
    use livepose_core::video::{scan_access_unit, H264Decoder};

    let mut decoder = H264Decoder::new(1 << 20).unwrap();
    let mut rgb = RgbImage::new();
    for (hex, key, square_x) in [(H264_KEYFRAME, true, 8), (H264_DELTA, false, 12)] {
        let au = from_hex(hex);
        let info = scan_access_unit(&au).unwrap();
        assert_eq!(info.keyframe, key);
        info.check_keyframe_flag(key).unwrap();
        assert!(decoder.decode_rgb(&au, &mut rgb).unwrap());
        assert_eq!((rgb.width(), rgb.height()), (32, 32));
        let luma = |x: u32, y: u32| {
            let i = ((y * 32 + x) * 3) as usize;
            rgb.data()[i..i + 3]
                .iter()
                .map(|&v| u32::from(v))
                .sum::<u32>()
                / 3
        };
        // Inside the square, bright; left of it and below it, dark.
        assert!(luma(square_x + 6, 14) > 150, "{}", luma(square_x + 6, 14));
        assert!(luma(square_x - 4, 14) < 100);
        assert!(luma(16, 28) < 100);
    }
}

/// How [`H264_KEYFRAME`] and [`H264_DELTA`] were made (run with `--ignored --nocapture`,
/// then paste): a 32x32 dark ground with a 12x12 grey square at x 8, then at x 12.
#[cfg(feature = "h264")]
#[test]
#[ignore]
fn print_h264_vector_payloads() {
    use livepose_core::image::RgbImage;
    use livepose_core::video::{EncoderSettings, H264Encoder};

    let picture = |square_x: u32| {
        let mut data = Vec::new();
        for y in 0..32 {
            for x in 0..32 {
                let inside = (square_x..square_x + 12).contains(&x) && (8..20).contains(&y);
                data.extend_from_slice(&[if inside { 200 } else { 40 }; 3]);
            }
        }
        RgbImage::from_rgb8(32, 32, data).unwrap()
    };
    let settings = EncoderSettings {
        bitrate_bps: 200_000,
        ..EncoderSettings::default()
    };
    let mut encoder = H264Encoder::new(settings).unwrap();
    let mut au = Vec::new();
    for (t, x) in [8, 12].into_iter().enumerate() {
        let key = encoder
            .encode(picture(x).view(), t as u64 * 33, &mut au)
            .unwrap();
        println!("keyframe {key}: {}", to_hex(&au).replace('\n', ""));
    }
}
