//! The shared folder and real JPEG frames of its dance clip, for the server's tests.
#![allow(dead_code)] // each including test uses a subset

use std::path::PathBuf;

/// `../shared` beside the checkout, or `$LIVEPOSE_SHARED`.
pub fn shared() -> PathBuf {
    std::env::var_os("LIVEPOSE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// Frame `index` of the dance clip as a 540x960 JPEG (ffmpeg, quality 4).
pub fn dance_jpeg(index: usize) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(shared().join("media/lab_dance_1080x1920_60fps.mp4"))
        .args(["-vf", &format!("select=eq(n\\,{index}),scale=540:960")])
        .args(["-frames:v", "1", "-q:v", "4", "-f", "mjpeg", "-"])
        .output()
        .expect("ffmpeg");
    assert!(!out.stdout.is_empty(), "ffmpeg gave no frame {index}");
    out.stdout
}
