//! Real JPEG frames from the shared clips, extracted with ffmpeg and cached under the target
//! directory. Shared by the integration tests and the benches (`#[path]`-included).
#![allow(dead_code)] // each including target uses a subset

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

// Also included by the other support modules: a test that uses two of them has two copies.
#[allow(clippy::duplicate_mod)]
#[path = "data.rs"]
pub mod data;

/// The landscape clip: two people outdoors, 1768x994.
pub const OUTDOOR: &str = "outdoor_two_people_1768x994_30fps.mp4";
/// The portrait clip: one dancer, 1080x1920.
pub const LAB: &str = "lab_dance_1080x1920_60fps.mp4";

/// One folder holding `media/` (the clips) and `models/` (see [`data::data_dir`]).
pub fn shared_dir() -> PathBuf {
    data::data_dir()
}

/// Frame `index` of `clip`, scaled to `width` x `height`, as a JPEG of ffmpeg quality
/// `-q:v 4` (about what a browser's `canvas.toBlob('image/jpeg', 0.8)` gives).
pub fn jpeg_frame(clip: &str, index: usize, width: u32, height: u32) -> Vec<u8> {
    frame_file(clip, index, width, height, "jpg")
}

/// Like [`jpeg_frame`], in the format of the extension `ext`: `jpg`, `png`, `webp`
/// (lossless) or `lossy.webp` (libwebp's default quality 75).
pub fn frame_file(clip: &str, index: usize, width: u32, height: u32, ext: &str) -> Vec<u8> {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("frames");
    std::fs::create_dir_all(&cache).expect("create frame cache");
    let path = cache.join(format!("{clip}.{index}.{width}x{height}.{ext}"));
    if !path.exists() {
        // Tests run in parallel and may ask for the same frame: each writes its own temporary
        // file and renames it into place (atomic; the last writer wins with identical bytes).
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_extension(format!("{}.{unique}.tmp.{ext}", std::process::id()));
        let mut ffmpeg = Command::new("ffmpeg");
        ffmpeg.args(["-v", "error", "-y", "-i"]);
        if ext == "webp" {
            // Lossless WebP made from the PNG of the same frame: RGB in, RGB out, bit-exact.
            frame_file(clip, index, width, height, "png");
            ffmpeg.arg(cache.join(format!("{clip}.{index}.{width}x{height}.png")));
            ffmpeg.args(["-lossless", "1"]);
        } else {
            ffmpeg.arg(data::clip(clip)).args([
                "-vf",
                &format!("select=eq(n\\,{index}),scale={width}:{height}"),
                "-frames:v",
                "1",
                "-q:v",
                "4",
            ]);
        }
        let status = ffmpeg
            .arg(&tmp)
            .status()
            .expect("ffmpeg must be installed (Debian package ffmpeg)");
        assert!(status.success(), "ffmpeg failed making {path:?}");
        std::fs::rename(&tmp, &path).expect("cache frame");
    }
    std::fs::read(&path).expect("read cached frame")
}

/// The uplink's camera (as Chromium's fake camera plays it in the uplink bench, docs/video.md):
/// the lab dancer cropped to 4:3 from head to feet and scaled to 640x480. The first `count`
/// frames of the clip (60 fps) as packed RGB8, decoded by ffmpeg.
pub fn camera_480p(count: usize) -> Vec<Vec<u8>> {
    let output = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(data::clip(LAB))
        .args([
            "-vf",
            "crop=1080:810:0:360,scale=640:480",
            "-frames:v",
            &count.to_string(),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("ffmpeg must be installed (Debian package ffmpeg)");
    assert!(output.status.success(), "ffmpeg failed on {LAB}");
    let frames: Vec<Vec<u8>> = output
        .stdout
        .chunks_exact(640 * 480 * 3)
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(frames.len(), count, "frames of {LAB}");
    frames
}
