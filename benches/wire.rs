//! Wire codec: binary protocol v1 against the JSON+base64 format it replaces, on the same
//! content (a real 60 KB JPEG frame; one 33-landmark pose with world landmarks and angles).
//!
//! `cargo bench --bench wire` prints the ratios at the end.

mod support;

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, Throughput};
use livepose_core::image::Codec;
use livepose_core::types::{BoundingBox, Joint, JointAngle, Landmark, Point3, Pose, StageTimings};
use livepose_core::wire::{
    compat, FrameBuffer, FrameHeader, FrameView, ImageFormat, ResultMessage, ResultView,
};
use livepose_test_support::frames;

fn one_pose_result() -> ResultMessage {
    ResultMessage {
        sequence: 1234,
        capture_ts_us: 1_700_000_000_000_000,
        server_recv_us: 1_700_000_000_010_000,
        server_start_us: 1_700_000_000_010_100,
        server_end_us: 1_700_000_000_021_000,
        frames_dropped: 2,
        timings: StageTimings {
            decode: 1200,
            detect: 0,
            crop: 300,
            landmarks: 9000,
            hands: 0,
            post: 100,
            total: 10_700,
        },
        poses: vec![Pose {
            id: 1,
            score: 0.98,
            bbox: BoundingBox {
                x_min: 0.2,
                y_min: 0.1,
                x_max: 0.7,
                y_max: 0.95,
            },
            landmarks: (0..33)
                .map(|i| Landmark {
                    x: 0.3 + i as f32 * 0.01,
                    y: 0.2 + i as f32 * 0.02,
                    z: -0.1,
                    visibility: 0.97,
                    presence: 0.99,
                })
                .collect(),
            world_landmarks: (0..33)
                .map(|i| Point3 {
                    x: i as f32 * 0.013,
                    y: -0.4 + i as f32 * 0.02,
                    z: 0.05,
                })
                .collect(),
            angles: Joint::KNOWN
                .iter()
                .map(|j| JointAngle {
                    joint: *j,
                    degrees: 123.4,
                })
                .collect(),
            hands: vec![],
        }],
        ..Default::default()
    }
}

fn frame_benches(c: &mut Criterion, jpeg: &[u8]) {
    let header = FrameHeader::new(7, 1_700_000_000_000_000, ImageFormat::Encoded(Codec::Jpeg));
    let mut binary = Vec::new();
    header.encode_with_payload(jpeg, &mut binary).unwrap();
    let mut json = String::new();
    compat::encode_frame(jpeg, Codec::Jpeg, 1_700_000_000_000.0, 7, &mut json);

    let mut g = c.benchmark_group("frame_decode");
    g.throughput(Throughput::Bytes(jpeg.len() as u64));
    g.bench_function("binary", |b| {
        b.iter(|| FrameView::parse(black_box(&binary)).unwrap().payload.len())
    });
    let mut image = Vec::with_capacity(jpeg.len());
    g.bench_function("json_base64", |b| {
        b.iter(|| compat::decode_frame(black_box(&json), &mut image).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("frame_encode");
    g.throughput(Throughput::Bytes(jpeg.len() as u64));
    // The encoder writes the JPEG straight into the frame buffer; encoding adds the header.
    let mut buffer = FrameBuffer::new();
    buffer.write_all(jpeg).unwrap();
    g.bench_function("binary_in_place", |b| {
        b.iter(|| buffer.finish(black_box(&header)).unwrap().len())
    });
    let mut out = Vec::with_capacity(binary.len());
    g.bench_function("binary_copy", |b| {
        b.iter(|| {
            header
                .encode_with_payload(black_box(jpeg), &mut out)
                .unwrap()
        })
    });
    let mut text = String::with_capacity(json.len());
    g.bench_function("json_base64", |b| {
        b.iter(|| {
            compat::encode_frame(
                black_box(jpeg),
                Codec::Jpeg,
                1_700_000_000_000.0,
                7,
                &mut text,
            )
        })
    });
    g.finish();
}

fn result_benches(c: &mut Criterion) {
    let result = one_pose_result();
    let bytes = result.to_bytes().unwrap();
    let mut g = c.benchmark_group("result_encode");
    let mut out = Vec::with_capacity(bytes.len());
    g.bench_function("binary", |b| {
        b.iter(|| black_box(&result).encode_into(&mut out).unwrap())
    });
    let mut json = String::new();
    g.bench_function("json_compat", |b| {
        b.iter(|| compat::encode_result(black_box(&result), 640, 480, &mut json))
    });
    g.finish();

    compat::encode_result(&result, 640, 480, &mut json);
    let mut g = c.benchmark_group("result_decode");
    g.bench_function("binary_view", |b| {
        b.iter(|| {
            let view = ResultView::parse(black_box(&bytes)).unwrap();
            view.poses()
                .map(|p| p.landmarks().iter().map(|l| l.x).sum::<f32>())
                .sum::<f32>()
        })
    });
    g.bench_function("json_compat", |b| {
        b.iter(|| serde_json::from_str::<serde_json::Value>(black_box(&json)).unwrap())
    });
    g.finish();
    println!(
        "result sizes: binary {} bytes, JSON {} bytes",
        bytes.len(),
        json.len()
    );
}

fn main() {
    let jpeg = frames::jpeg_frame(frames::OUTDOOR, 60, 640, 480);
    println!("frame: real 640x480 JPEG of {} bytes", jpeg.len());
    let mut c = support::criterion();
    frame_benches(&mut c, &jpeg);
    result_benches(&mut c);
    c.final_summary();
    support::print_ratios(
        "binary v1 vs JSON+base64, same content",
        &[
            (
                "frame decode (60 KB JPEG)",
                "frame_decode/binary",
                "frame_decode/json_base64",
            ),
            (
                "frame encode, in place (60 KB JPEG)",
                "frame_encode/binary_in_place",
                "frame_encode/json_base64",
            ),
            (
                "frame encode, copying payload",
                "frame_encode/binary_copy",
                "frame_encode/json_base64",
            ),
            (
                "result encode (1 pose)",
                "result_encode/binary",
                "result_encode/json_compat",
            ),
            (
                "result decode (1 pose)",
                "result_decode/binary_view",
                "result_decode/json_compat",
            ),
        ],
    );
}
