//! H.264 on real frames (the uplink's camera: the lab dancer at 640x480): livepose's decoder
//! against ffmpeg's on streams another encoder (libx264) made, baseline and high profile;
//! and what `H264Encoder` keeps of the picture at the bitrates a phone uplink carries.

#![cfg(feature = "h264")]

use std::process::Command;

use livepose_core::image::RgbImage;
use livepose_core::video::{
    scan_access_unit, AccessUnitSplitter, EncoderSettings, H264Decoder, H264Encoder,
};
use livepose_test_support::{data, frames};

const FRAMES: usize = 30;

fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-9)).log10()
}

/// The camera's first frames encoded by ffmpeg's libx264 with `args`, as an Annex B stream.
fn x264_stream(args: &[&str]) -> Vec<u8> {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "camera.{}.h264",
        args.join("_").replace(['-', ':', '='], "")
    ));
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(data::clip(frames::LAB))
        .args(["-vf", "crop=1080:810:0:360,scale=640:480", "-frames:v"])
        .arg(FRAMES.to_string())
        .args(["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .args(args)
        .args(["-f", "h264"])
        .arg(&path)
        .status()
        .expect("ffmpeg must be installed (Debian package ffmpeg)");
    assert!(status.success(), "ffmpeg could not encode {args:?}");
    std::fs::read(&path).unwrap()
}

/// ffmpeg's own decoding of an Annex B stream, as RGB frames.
fn ffmpeg_decode(stream: &[u8]) -> Vec<Vec<u8>> {
    use std::io::Write;
    let mut child = Command::new("ffmpeg")
        .args([
            "-v", "error", "-f", "h264", "-i", "-", "-f", "rawvideo", "-pix_fmt", "rgb24", "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = stream.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    output
        .stdout
        .chunks_exact(640 * 480 * 3)
        .map(<[u8]>::to_vec)
        .collect()
}

/// Access units of a byte stream, cut by [`AccessUnitSplitter`].
fn access_units(stream: &[u8]) -> Vec<Vec<u8>> {
    let mut split = AccessUnitSplitter::new(1 << 20);
    let mut out = Vec::new();
    for chunk in stream.chunks(4096) {
        split.push(chunk);
        while let Some(au) = split.next_access_unit() {
            out.push(au);
        }
    }
    out.extend(split.finish());
    out
}

#[test]
fn libx264_streams_decode_as_ffmpeg_decodes_them() {
    for (profile, args) in [
        (
            "constrained baseline",
            &["-profile:v", "baseline", "-g", "10"][..],
        ),
        (
            "high, CABAC, no B-frames",
            &["-profile:v", "high", "-bf", "0", "-g", "10"][..],
        ),
    ] {
        let stream = x264_stream(args);
        let aus = access_units(&stream);
        assert_eq!(aus.len(), FRAMES, "{profile}: one access unit per frame");
        assert_eq!(aus.concat().len(), stream.len());
        let theirs = ffmpeg_decode(&stream);
        assert_eq!(theirs.len(), FRAMES);
        let mut decoder = H264Decoder::new(1 << 22).unwrap();
        let mut rgb = RgbImage::new();
        let mut worst = f64::INFINITY;
        for (i, au) in aus.iter().enumerate() {
            let info = scan_access_unit(au).unwrap();
            assert_eq!(info.keyframe, i % 10 == 0, "{profile}: frame {i}");
            assert!(
                decoder.decode_rgb(au, &mut rgb).unwrap(),
                "{profile}: frame {i}"
            );
            assert_eq!((rgb.width(), rgb.height()), (640, 480));
            // The same YUV from both decoders; the RGB conversions round differently.
            worst = worst.min(psnr(rgb.data(), &theirs[i]));
        }
        println!("{profile}: {FRAMES} frames, worst PSNR against ffmpeg's decoding {worst:.1} dB");
        assert!(worst > 38.0, "{profile}: {worst:.1} dB");
    }
}

#[test]
fn what_the_encoder_keeps_at_uplink_bitrates() {
    let source: Vec<RgbImage> = frames::camera_480p(FRAMES)
        .into_iter()
        .map(|data| RgbImage::from_rgb8(640, 480, data).unwrap())
        .collect();
    println!(
        "| bitrate | mean PSNR | worst PSNR | bytes: keyframe | deltas (mean) | Mbit/s at 30 fps |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for kbps in [500, 1000, 2000] {
        let settings = EncoderSettings {
            bitrate_bps: kbps * 1000,
            keyframe_interval: 0,
            ..EncoderSettings::default()
        };
        let mut encoder = H264Encoder::new(settings).unwrap();
        let mut decoder = H264Decoder::new(1 << 22).unwrap();
        let (mut au, mut rgb) = (Vec::new(), RgbImage::new());
        let (mut sum, mut worst, mut key_bytes, mut delta_bytes) = (0.0, f64::INFINITY, 0, 0);
        for (i, frame) in source.iter().enumerate() {
            let key = encoder
                .encode(frame.view(), i as u64 * 33, &mut au)
                .unwrap();
            assert_eq!(key, i == 0);
            if key {
                key_bytes = au.len();
            } else {
                delta_bytes += au.len();
            }
            assert!(decoder.decode_rgb(&au, &mut rgb).unwrap());
            let q = psnr(rgb.data(), frame.data());
            sum += q;
            worst = worst.min(q);
        }
        let deltas = delta_bytes as f64 / (FRAMES - 1) as f64;
        let mbps = (key_bytes + delta_bytes) as f64 * 8.0 / (FRAMES as f64 / 30.0) / 1e6;
        println!(
            "| {kbps} kbit/s | {:.1} dB | {worst:.1} dB | {key_bytes} | {deltas:.0} | {mbps:.2} |",
            sum / FRAMES as f64
        );
        assert!(worst > 28.0, "{kbps} kbit/s: worst PSNR {worst:.1} dB");
    }
}

/// A mutation stress run of the decoder (`LIVEPOSE_H264_STRESS=N`, N streams; `--ignored`):
/// real streams (libx264 baseline and high profile, OpenH264's own), each edited at random
/// (bytes changed, inserted, deleted, runs zeroed, access units truncated, swapped between
/// streams) and decoded in order. OpenH264 is C++: a crash here would kill the process. The
/// C++ is not instrumented for coverage, so a coverage-guided fuzzer (the `h264_decode`
/// target) steers by the Rust side only; this covers the decoder by volume.
#[test]
#[ignore]
fn stress_the_decoder_with_mutated_streams() {
    let n: u64 = std::env::var("LIVEPOSE_H264_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let mut seeds: Vec<Vec<Vec<u8>>> = [
        &["-profile:v", "baseline", "-g", "4"][..],
        &["-profile:v", "high", "-g", "4"][..],
        &["-profile:v", "main", "-bf", "2", "-g", "4"][..],
    ]
    .iter()
    .map(|args| access_units(&x264_stream(args))[..8].to_vec())
    .collect();
    let frames = frames::camera_480p(8);
    let mut encoder = H264Encoder::new(EncoderSettings {
        keyframe_interval: 4,
        ..EncoderSettings::default()
    })
    .unwrap();
    seeds.push(
        frames
            .into_iter()
            .enumerate()
            .map(|(i, data)| {
                let mut au = Vec::new();
                let image = RgbImage::from_rgb8(640, 480, data).unwrap();
                encoder
                    .encode(image.view(), i as u64 * 33, &mut au)
                    .unwrap();
                au
            })
            .collect(),
    );
    // xorshift: reproducible, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound.max(1) as u64) as usize
    };
    let (mut pictures, mut errors) = (0u64, 0u64);
    let mut rgb = RgbImage::new();
    let started = std::time::Instant::now();
    for _ in 0..n {
        let seed = next(seeds.len());
        let mut stream = seeds[seed].clone();
        for _ in 0..1 + next(6) {
            let au = next(stream.len());
            let other = seeds[next(seeds.len())][next(8)].clone();
            let bytes = &mut stream[au];
            let at = next(bytes.len());
            match next(6) {
                0 => bytes[at] = next(256) as u8,
                1 => bytes.insert(at, next(256) as u8),
                2 => {
                    bytes.remove(at);
                }
                3 => {
                    let end = (at + 1 + next(64)).min(bytes.len());
                    bytes[at..end].fill(0);
                }
                4 => bytes.truncate(at),
                _ => *bytes = other,
            }
        }
        let mut decoder = H264Decoder::new(1 << 22).unwrap();
        for au in &stream {
            match decoder.decode_rgb(au, &mut rgb) {
                Ok(true) => pictures += 1,
                Ok(false) => {}
                Err(_) => errors += 1,
            }
        }
        // Whatever came before, the next clean keyframe decodes.
        if let Err(e) = decoder.decode_rgb(&seeds[seed][0], &mut rgb) {
            let fresh = H264Decoder::new(1 << 22)
                .unwrap()
                .decode_rgb(&seeds[seed][0], &mut rgb);
            panic!("seed {seed}: the keyframe after a mutated stream: {e}; in a fresh decoder: {fresh:?}; decoder {decoder:?}");
        }
    }
    println!(
        "{n} mutated streams in {:.0} s: {pictures} pictures, {errors} errors, no crash",
        started.elapsed().as_secs_f64()
    );
}
