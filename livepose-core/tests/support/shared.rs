//! The shared clips and models beside the checkout (`../shared`, or `LIVEPOSE_SHARED`), and
//! frames cut from the clips by ffmpeg.
#![allow(dead_code)] // each test file uses part of it

use std::path::PathBuf;

/// The shared folder.
pub fn shared() -> PathBuf {
    std::env::var_os("LIVEPOSE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

/// Frame `index` of the shared clip `clip` as a JPEG, through the ffmpeg filter `scale`
/// (e.g. `scale=480:640`) when given.
pub fn jpeg_frame(clip: &str, index: usize, scale: Option<&str>) -> Vec<u8> {
    let mut filter = format!("select=eq(n\\,{index})");
    if let Some(scale) = scale {
        filter = format!("{filter},{scale}");
    }
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(shared().join("media").join(clip))
        .args(["-vf", &filter, "-frames:v", "1", "-f", "mjpeg", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        !out.stdout.is_empty(),
        "ffmpeg gave no frame {index} of {clip}"
    );
    out.stdout
}
