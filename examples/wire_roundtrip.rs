//! Encodes an image as a protocol-v1 frame and as the JSON+base64 message it replaces,
//! decodes both, then encodes a result both ways, printing sizes and timings.
//!
//! ```text
//! cargo run --release --example wire_roundtrip -- path/to/frame.jpg
//! ```

use std::io::Write;
use std::time::Instant;

use livepose::core::image::Codec;
use livepose::core::types::{Joint, JointAngle, Landmark, Point3, Pose, StageTimings};
use livepose::core::wire::{
    compat, FrameBuffer, FrameHeader, FrameView, ImageFormat, ResultMessage, ResultView,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: wire_roundtrip <image.jpg|png|webp>")?;
    let image = std::fs::read(&path)?;
    let codec = Codec::sniff(&image).ok_or("not a JPEG, PNG or WebP file")?;

    // Binary: the encoder's output goes straight into the frame buffer, then the header.
    let mut buffer = FrameBuffer::new();
    buffer.write_all(&image)?;
    let header = FrameHeader::new(1, 1_700_000_000_000_000, ImageFormat::Encoded(codec));
    let started = Instant::now();
    let message = buffer.finish(&header)?;
    let encode_binary = started.elapsed();
    let started = Instant::now();
    let frame = FrameView::parse(message)?;
    let decode_binary = started.elapsed();
    assert_eq!(frame.payload, &image[..]);

    let mut json = String::new();
    let started = Instant::now();
    compat::encode_frame(&image, codec, 1_700_000_000_000.0, 1, &mut json);
    let encode_json = started.elapsed();
    let mut decoded = Vec::new();
    let started = Instant::now();
    compat::decode_frame(&json, &mut decoded)?;
    let decode_json = started.elapsed();
    assert_eq!(decoded, image);

    println!("{path}: {} bytes of {}", image.len(), codec.mime());
    println!("frame, binary v1     : {:>8} bytes, encode {encode_binary:>10.1?}, decode {decode_binary:>10.1?}", message.len());
    println!("frame, JSON+base64   : {:>8} bytes, encode {encode_json:>10.1?}, decode {decode_json:>10.1?}", json.len());

    let result = ResultMessage {
        sequence: 1,
        capture_ts_us: header.capture_ts_us,
        timings: StageTimings {
            decode: 1300,
            landmarks: 9800,
            total: 11600,
            ..Default::default()
        },
        poses: vec![Pose {
            id: 1,
            score: 0.99,
            landmarks: (0..33)
                .map(|i| Landmark {
                    x: 0.3 + 0.01 * i as f32,
                    y: 0.5,
                    z: 0.0,
                    visibility: 0.9,
                    presence: 0.95,
                })
                .collect(),
            world_landmarks: vec![
                Point3 {
                    x: 0.1,
                    y: -0.2,
                    z: 0.0
                };
                33
            ],
            angles: Joint::KNOWN
                .iter()
                .map(|j| JointAngle {
                    joint: *j,
                    degrees: 120.0,
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut binary = Vec::new();
    result.encode_into(&mut binary)?;
    let view = ResultView::parse(&binary)?;
    let nose = view
        .poses()
        .next()
        .and_then(|p| p.landmarks().get(0))
        .ok_or("no nose")?;
    let mut json = String::new();
    compat::encode_result(&result, 640, 480, &mut json);
    println!(
        "result, binary v1    : {:>8} bytes (nose at x {:.2}, y {:.2})",
        binary.len(),
        nose.x,
        nose.y
    );
    println!("result, JSON (compat): {:>8} bytes", json.len());
    println!("\nfirst bytes of the binary frame:");
    for chunk in message[..40].chunks(8) {
        println!(
            "  {}",
            chunk
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    Ok(())
}
