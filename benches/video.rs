//! H.264 against JPEG per 640x480 frame, on the uplink's camera (the lab dancer, 60 frames
//! at 640x480): what a server pays to decode each, and what a client pays to encode each.
//! The JPEGs are quality 80 (a browser's `toBlob('image/jpeg', 0.8)`); the H.264 stream is
//! OpenH264's (the encoder Chromium uses in software, here livepose's `H264Encoder`) at
//! 1 Mbit/s for 30 fps: one keyframe, then delta frames. Prints a table of the time per frame
//! and the bytes per frame, with the ratios to JPEG.
//!
//! `cargo bench --bench video`

mod support;

use std::hint::black_box;

use criterion::Throughput;
use livepose_core::image::{encode_jpeg, ImageDecoder, RgbImage};
use livepose_core::video::{EncoderSettings, H264Decoder, H264Encoder};
use livepose_test_support::frames;

const FRAMES: usize = 60;

fn main() {
    let mut c = support::criterion();
    let rgb: Vec<RgbImage> = frames::camera_480p(FRAMES)
        .into_iter()
        .map(|data| RgbImage::from_rgb8(640, 480, data).unwrap())
        .collect();
    let jpegs: Vec<Vec<u8>> = rgb
        .iter()
        .map(|img| {
            let mut out = Vec::new();
            encode_jpeg(img.view(), 80, &mut out).unwrap();
            out
        })
        .collect();
    let mut encoder = H264Encoder::new(EncoderSettings {
        keyframe_interval: 0,
        ..EncoderSettings::default()
    })
    .unwrap();
    let stream: Vec<Vec<u8>> = rgb
        .iter()
        .enumerate()
        .map(|(i, img)| {
            let mut au = Vec::new();
            encoder.encode(img.view(), i as u64 * 33, &mut au).unwrap();
            au
        })
        .collect();
    let n = FRAMES as u64;

    let mut g = c.benchmark_group("video_480p");
    g.throughput(Throughput::Elements(n));
    let mut decoder = ImageDecoder::default();
    let mut out = RgbImage::new();
    g.bench_function("jpeg_decode", |b| {
        b.iter(|| {
            for jpeg in &jpegs {
                decoder.decode(black_box(jpeg), &mut out).unwrap();
            }
        })
    });
    let mut h264 = H264Decoder::new(1 << 24).unwrap();
    g.bench_function("h264_decode_yuv", |b| {
        b.iter(|| {
            for au in &stream {
                black_box(h264.decode(black_box(au)).unwrap().is_some());
            }
        })
    });
    g.bench_function("h264_decode_rgb", |b| {
        b.iter(|| {
            for au in &stream {
                assert!(h264.decode_rgb(black_box(au), &mut out).unwrap());
            }
        })
    });
    let mut jpeg = Vec::new();
    g.bench_function("jpeg_encode_q80", |b| {
        b.iter(|| {
            for img in &rgb {
                encode_jpeg(black_box(img.view()), 80, &mut jpeg).unwrap();
            }
        })
    });
    let mut au = Vec::new();
    let mut t = 0u64;
    g.bench_function("h264_encode", |b| {
        b.iter(|| {
            for img in &rgb {
                t += 33;
                encoder.encode(black_box(img.view()), t, &mut au).unwrap();
            }
        })
    });
    g.finish();
    g = c.benchmark_group("video_480p_keyframe");
    g.throughput(Throughput::Elements(1));
    g.bench_function("h264_decode_keyframe_rgb", |b| {
        b.iter(|| assert!(h264.decode_rgb(black_box(&stream[0]), &mut out).unwrap()))
    });
    g.finish();
    c.final_summary();

    let mean = |v: &[Vec<u8>]| v.iter().map(Vec::len).sum::<usize>() as f64 / v.len() as f64;
    let deltas = &stream[1..];
    println!("\nBytes per 640x480 frame ({FRAMES} frames of the lab dancer):");
    println!("| frames | bytes per frame | at 30 fps |");
    println!("| --- | --- | --- |");
    for (label, bytes) in [
        ("JPEG quality 80", mean(&jpegs)),
        ("H.264 keyframe (1 Mbit/s)", stream[0].len() as f64),
        ("H.264 delta frames (1 Mbit/s)", mean(deltas)),
    ] {
        println!(
            "| {label} | {bytes:.0} | {:.2} Mbit/s |",
            bytes * 8.0 * 30.0 / 1e6
        );
    }
    let per_frame = |id: &str, frames: f64| support::mean_ns(id).map(|ns| ns / frames);
    let Some(jpeg_ns) = per_frame("video_480p/jpeg_decode", n as f64) else {
        return; // `cargo test --benches`: nothing measured
    };
    println!("\nTime per 640x480 frame (this run; ratio = time / JPEG decode):");
    println!("| what | per frame | ratio |");
    println!("| --- | --- | --- |");
    for (label, id, frames) in [
        (
            "JPEG decode (zune-jpeg)",
            "video_480p/jpeg_decode",
            n as f64,
        ),
        (
            "H.264 decode to YUV (OpenH264), keyframe + deltas",
            "video_480p/h264_decode_yuv",
            n as f64,
        ),
        (
            "H.264 decode + YUV to RGB",
            "video_480p/h264_decode_rgb",
            n as f64,
        ),
        (
            "H.264 keyframe decode + RGB",
            "video_480p_keyframe/h264_decode_keyframe_rgb",
            1.0,
        ),
        (
            "JPEG encode, quality 80",
            "video_480p/jpeg_encode_q80",
            n as f64,
        ),
        (
            "H.264 encode (OpenH264), 1 Mbit/s",
            "video_480p/h264_encode",
            n as f64,
        ),
    ] {
        if let Some(ns) = per_frame(id, frames) {
            println!("| {label} | {} | {:.2} |", support::human(ns), ns / jpeg_ns);
        }
    }
}
