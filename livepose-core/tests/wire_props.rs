//! Property tests of the wire codec: encode/decode round trips, and arbitrary or mutated bytes
//! never panic any decoder.

use livepose_core::image::{Codec, PixelLayout};
use livepose_core::types::{
    BoundingBox, Hand, Handedness, Joint, JointAngle, Landmark, Point3, Pose, StageTimings,
};
use livepose_core::wire::control::{ClientMessage, ServerMessage};
use livepose_core::wire::{
    compat, FrameFlags, FrameHeader, FrameView, ImageFormat, ResultFlags, ResultMessage, ResultView,
};
use proptest::collection::vec;
use proptest::prelude::*;

fn finite() -> impl Strategy<Value = f32> {
    -1e6f32..1e6f32
}

fn landmark() -> impl Strategy<Value = Landmark> {
    (finite(), finite(), finite(), 0f32..1.0, 0f32..1.0).prop_map(
        |(x, y, z, visibility, presence)| Landmark {
            x,
            y,
            z,
            visibility,
            presence,
        },
    )
}

fn point() -> impl Strategy<Value = Point3> {
    (finite(), finite(), finite()).prop_map(|(x, y, z)| Point3 { x, y, z })
}

fn hand() -> impl Strategy<Value = Hand> {
    (0u8..3, 0f32..1.0, vec(point(), 0..22), vec(point(), 0..22)).prop_map(
        |(code, score, landmarks, world_landmarks)| Hand {
            handedness: Handedness::from_code(code),
            score,
            landmarks,
            world_landmarks,
        },
    )
}

fn pose() -> impl Strategy<Value = Pose> {
    (
        any::<u32>(),
        0f32..1.0,
        (finite(), finite(), finite(), finite()),
        vec(landmark(), 0..40),
        vec(point(), 0..40),
        vec((0u16..20, finite()), 0..12),
        vec(hand(), 0..3),
    )
        .prop_map(
            |(id, score, (a, b, c, d), landmarks, world_landmarks, angles, hands)| Pose {
                id,
                score,
                bbox: BoundingBox {
                    x_min: a,
                    y_min: b,
                    x_max: c,
                    y_max: d,
                },
                landmarks,
                world_landmarks,
                angles: angles
                    .into_iter()
                    .map(|(id, degrees)| JointAngle {
                        joint: Joint::from_id(id),
                        degrees,
                    })
                    .collect(),
                hands,
            },
        )
}

fn result() -> impl Strategy<Value = ResultMessage> {
    (
        (
            any::<u64>(),
            any::<i64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
        ),
        any::<u16>(),
        vec(any::<u32>(), 7),
        vec(pose(), 0..4),
    )
        .prop_map(
            |((seq, cap, recv, start, end, dropped), flags, timings, poses)| ResultMessage {
                sequence: seq,
                capture_ts_us: cap,
                server_recv_us: recv,
                server_start_us: start,
                server_end_us: end,
                frames_dropped: dropped,
                flags: ResultFlags::from_bits_retain(flags),
                timings: StageTimings::from_slice(&timings),
                poses,
            },
        )
}

fn frame_format() -> impl Strategy<Value = (ImageFormat, usize)> {
    prop_oneof![
        (0usize..3, 0usize..2000).prop_map(|(c, len)| {
            let codec = [Codec::Jpeg, Codec::Png, Codec::Webp][c];
            (ImageFormat::Encoded(codec), len)
        }),
        (any::<bool>(), 1u32..40, 1u32..40).prop_map(|(rgba, width, height)| {
            let layout = if rgba {
                PixelLayout::Rgba8
            } else {
                PixelLayout::Rgb8
            };
            let len = (width * height) as usize * layout.bytes_per_pixel();
            (
                ImageFormat::Raw {
                    layout,
                    width,
                    height,
                },
                len,
            )
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn frame_round_trip(seq in any::<u64>(), ts in any::<i64>(), flags in any::<u16>(),
                        (format, len) in frame_format(), fill in any::<u8>()) {
        let header = FrameHeader { sequence: seq, capture_ts_us: ts, format, flags: FrameFlags::from_bits_retain(flags) };
        let payload = vec![fill; len];
        let mut msg = Vec::new();
        header.encode_with_payload(&payload, &mut msg).unwrap();
        let view = FrameView::parse(&msg).unwrap();
        prop_assert_eq!(view.header, header);
        prop_assert_eq!(view.payload, &payload[..]);
    }

    #[test]
    fn result_round_trip(msg in result()) {
        let bytes = msg.to_bytes().unwrap();
        let view = ResultView::parse(&bytes).unwrap();
        prop_assert_eq!(view.to_message(), msg);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = FrameView::parse(&bytes);
        let _ = ResultView::parse(&bytes).map(|v| v.to_message());
        let _ = livepose_core::wire::peek_type(&bytes);
        let text = String::from_utf8_lossy(&bytes);
        let _ = ClientMessage::from_json(&text);
        let _ = ServerMessage::from_json(&text);
        let _ = compat::decode_frame(&text, &mut Vec::new());
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_preamble_never_panic(kind in 1u8..3, header_len in any::<u16>(), rest in vec(any::<u8>(), 0..600)) {
        let mut bytes = b"LPOS\x01".to_vec();
        bytes.push(kind);
        bytes.extend_from_slice(&header_len.to_le_bytes());
        bytes.extend_from_slice(&rest);
        let _ = FrameView::parse(&bytes);
        let _ = ResultView::parse(&bytes).map(|v| v.to_message());
    }

    #[test]
    fn mutated_results_never_panic(msg in result(), edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let valid = msg.to_bytes().unwrap();
        let end = cut.index(valid.len());
        prop_assert!(ResultView::parse(&valid[..end]).is_err(), "truncated at {} of {}", end, valid.len());
        let mut bytes = valid;
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        let _ = ResultView::parse(&bytes).map(|v| (v.to_message(), v.timings(), v.poses().count()));
    }

    #[test]
    fn json_frames_round_trip(image in vec(any::<u8>(), 0..300), ts in -1e12f64..1e12, seq in any::<u64>()) {
        let mut jpeg = vec![0xFF, 0xD8, 0xFF];
        jpeg.extend_from_slice(&image);
        let mut text = String::new();
        compat::encode_frame(&jpeg, Codec::Jpeg, ts, seq, &mut text);
        let mut out = Vec::new();
        let meta = compat::decode_frame(&text, &mut out).unwrap();
        prop_assert_eq!(out, jpeg);
        prop_assert_eq!(meta.timestamp, Some(ts));
        prop_assert_eq!(meta.sequence, Some(seq));
    }

    #[test]
    fn json_results_are_valid_json(msg in result(), w in 1u32..4000, h in 1u32..4000) {
        let mut out = String::new();
        compat::encode_result(&msg, w, h, &mut out);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        prop_assert!(value["body"].is_array());
    }
}
