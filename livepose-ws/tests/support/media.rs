//! The test models and real JPEG frames of the dance clip, for the server's tests (where
//! they are: `data`, shared with the workspace's other test crates).
#![allow(dead_code)] // each including test uses a subset

use std::path::PathBuf;

#[path = "../../../livepose-core/tests/support/data.rs"]
pub mod data;

/// The models folder (`LIVEPOSE_MODELS`, `scripts/fetch-models.sh`), checked to hold the
/// models.
pub fn models() -> PathBuf {
    data::models()
}

/// Frame `index` of the dance clip as a 540x960 JPEG (ffmpeg, quality 4).
pub fn dance_jpeg(index: usize) -> Vec<u8> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(data::clip("lab_dance_1080x1920_60fps.mp4"))
        .args(["-vf", &format!("select=eq(n\\,{index}),scale=540:960")])
        .args(["-frames:v", "1", "-q:v", "4", "-f", "mjpeg", "-"])
        .output()
        .expect("ffmpeg");
    assert!(!out.stdout.is_empty(), "ffmpeg gave no frame {index}");
    out.stdout
}
