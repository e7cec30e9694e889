//! Image operations on real frames: JPEG decode at 640x480, 1280x720 and 1920x1080 with
//! zune-jpeg and, with `--features turbojpeg`, libjpeg-turbo (the yardstick, in the same run), downscale to a 384
//! short side, rotated crop into the landmark model's 256x256 float tensor, and the
//! detector's 224x224 letterbox; and what an annotated room stream costs per frame (drawn
//! and encoded once for all its viewers): drawing a skeleton, and JPEG encoding at quality
//! 75.

mod support;

use std::hint::black_box;

use criterion::{BenchmarkId, Throughput};
use livepose_core::image::{
    crop_rotated, draw_poses, encode_jpeg, letterbox, Border, DecoderConfig, Downscaler, DrawStyle,
    ImageDecoder, JpegBackend, RgbImage, RotatedRect, TensorSpec,
};
use livepose_core::types::{Landmark, Pose};
use livepose_test_support::frames;

const SIZES: [(u32, u32); 3] = [(640, 480), (1280, 720), (1920, 1080)];

fn main() {
    let mut c = support::criterion();
    let frames: Vec<_> = SIZES
        .iter()
        .map(|&(w, h)| ((w, h), frames::jpeg_frame(frames::OUTDOOR, 60, w, h)))
        .collect();

    let mut g = c.benchmark_group("jpeg_decode");
    for ((w, h), jpeg) in &frames {
        g.throughput(Throughput::Elements(u64::from(w * h)));
        for &backend in JpegBackend::AVAILABLE {
            let name = match backend {
                JpegBackend::Zune => "zune",
                #[cfg(feature = "turbojpeg")]
                JpegBackend::TurboJpeg => "turbojpeg",
            };
            let mut decoder = ImageDecoder::new(DecoderConfig::default().jpeg(backend));
            let mut out = RgbImage::new();
            g.bench_with_input(
                BenchmarkId::new(name, format!("{w}x{h}")),
                jpeg,
                |b, jpeg| b.iter(|| decoder.decode(black_box(jpeg), &mut out).unwrap()),
            );
        }
    }
    g.finish();

    let decoded: Vec<RgbImage> = frames
        .iter()
        .map(|(_, jpeg)| {
            let mut img = RgbImage::new();
            ImageDecoder::default().decode(jpeg, &mut img).unwrap();
            img
        })
        .collect();

    let mut g = c.benchmark_group("resize_to_384");
    for img in &decoded {
        let mut downscaler = Downscaler::new();
        g.bench_function(format!("{}x{}", img.width(), img.height()), |b| {
            b.iter(|| {
                downscaler
                    .to_short_side(black_box(img.view()), 384)
                    .unwrap()
                    .width()
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("crop");
    let landmark = TensorSpec {
        size: 256,
        range: (0.0, 1.0),
        border: Border::Replicate,
    };
    let detector = TensorSpec {
        size: 224,
        range: (-1.0, 1.0),
        border: Border::Zero,
    };
    let mut tensor = Vec::new();
    for img in &decoded {
        let (w, h) = (img.width() as f32, img.height() as f32);
        // A person-sized region, rotated 20 degrees, from the full-resolution frame.
        let rect = RotatedRect::new(w * 0.45, h * 0.5, h * 0.8, h * 0.8, 20f32.to_radians());
        g.bench_function(
            format!("rotated_256_from_{}x{}", img.width(), img.height()),
            |b| b.iter(|| crop_rotated(black_box(img.view()), &rect, &landmark, &mut tensor)),
        );
        g.bench_function(
            format!("letterbox_224_from_{}x{}", img.width(), img.height()),
            |b| b.iter(|| letterbox(black_box(img.view()), &detector, &mut tensor)),
        );
    }
    g.finish();

    let mut g = c.benchmark_group("annotate");
    // A standing person's 33 landmarks, spread over the middle of the frame.
    let pose = Pose {
        landmarks: (0..33)
            .map(|i| Landmark {
                x: 0.35 + 0.3 * ((i * 7) % 11) as f32 / 10.0,
                y: 0.1 + 0.8 * i as f32 / 32.0,
                visibility: 1.0,
                presence: 1.0,
                ..Landmark::default()
            })
            .collect(),
        ..Pose::default()
    };
    let mut jpeg = Vec::new();
    for img in &decoded {
        let size = format!("{}x{}", img.width(), img.height());
        let mut canvas = img.clone();
        g.bench_function(format!("draw_{size}"), |b| {
            b.iter(|| {
                draw_poses(
                    &mut canvas,
                    black_box(std::slice::from_ref(&pose)),
                    &DrawStyle::default(),
                )
            })
        });
        g.bench_function(format!("encode_q75_{size}"), |b| {
            b.iter(|| encode_jpeg(black_box(canvas.view()), 75, &mut jpeg).unwrap())
        });
    }
    g.finish();
    c.final_summary();

    // The libjpeg-turbo yardstick needs `--features turbojpeg` (and the system library).
    if !cfg!(feature = "turbojpeg") {
        println!("(build with --features turbojpeg for the libjpeg-turbo ratio)");
        return;
    }
    let pairs: Vec<(String, String, String)> = SIZES
        .iter()
        .map(|(w, h)| {
            (
                format!("JPEG decode {w}x{h}: libjpeg-turbo vs zune-jpeg (ratio = zune time / turbo time)"),
                format!("jpeg_decode/turbojpeg/{w}x{h}"),
                format!("jpeg_decode/zune/{w}x{h}"),
            )
        })
        .collect();
    let pairs: Vec<(&str, &str, &str)> = pairs
        .iter()
        .map(|(l, a, b)| (l.as_str(), a.as_str(), b.as_str()))
        .collect();
    support::print_ratios("zune-jpeg against the libjpeg-turbo yardstick", &pairs);
}
