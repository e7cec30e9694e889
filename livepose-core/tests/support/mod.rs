//! The test clips and models (`data`: where they are, shared with the workspace's other
//! test crates), the TFLite interpreter's outputs on the models (`oracle`), and frames cut
//! from the clips by ffmpeg, uncached, through any filter (`mod support;` in a test file).
//! Beside it, `#[path]`-included on their own: `frames.rs` (frames cached under the target
//! directory, also used by the root crate's tests and benches) and `reference.rs`
//! (MediaPipe's own landmarks).
#![allow(dead_code)] // each test file uses part of it

pub mod data;
pub mod oracle;

/// Frame `index` of the clip `clip` as a JPEG, through the ffmpeg filter `scale`
/// (e.g. `scale=480:640`) when given.
pub fn jpeg_frame(clip: &str, index: usize, scale: Option<&str>) -> Vec<u8> {
    let mut filter = format!("select=eq(n\\,{index})");
    if let Some(scale) = scale {
        filter = format!("{filter},{scale}");
    }
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(data::clip(clip))
        .args(["-vf", &filter, "-frames:v", "1", "-f", "mjpeg", "-"])
        .output()
        .expect("ffmpeg");
    assert!(
        !out.stdout.is_empty(),
        "ffmpeg gave no frame {index} of {clip}"
    );
    out.stdout
}
