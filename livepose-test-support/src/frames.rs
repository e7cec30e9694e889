//! Frames of the clips, made by ffmpeg: single frames as image files (cached in
//! [`data::scratch_dir`]) or uncached JPEGs, and runs of raw RGB8 frames.

use std::io::{ErrorKind, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::data;

/// The landscape clip: two people outdoors, 1768x994.
pub const OUTDOOR: &str = "outdoor_two_people_1768x994_30fps.mp4";
/// The portrait clip: one dancer, 1080x1920.
pub const LAB: &str = "lab_dance_1080x1920_60fps.mp4";

const NO_FFMPEG: &str = "ffmpeg must be installed (Debian package ffmpeg)";

/// Frame `index` of `clip`, scaled to `width` x `height`, as a JPEG of ffmpeg quality
/// `-q:v 4` (about what a browser's `canvas.toBlob('image/jpeg', 0.8)` gives). Cached.
pub fn jpeg_frame(clip: &str, index: usize, width: u32, height: u32) -> Vec<u8> {
    frame_file(clip, index, width, height, "jpg")
}

/// Like [`jpeg_frame`], in the format of the extension `ext`: `jpg`, `png`, `webp`
/// (lossless) or `lossy.webp` (libwebp's default quality 75). Cached.
pub fn frame_file(clip: &str, index: usize, width: u32, height: u32, ext: &str) -> Vec<u8> {
    let cache = data::scratch_dir().join("frames");
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
        let status = ffmpeg.arg(&tmp).status().expect(NO_FFMPEG);
        assert!(status.success(), "ffmpeg failed making {path:?}");
        std::fs::rename(&tmp, &path).expect("cache frame");
    }
    std::fs::read(&path).expect("read cached frame")
}

/// Frame `index` of `clip` as a JPEG at ffmpeg's default MJPEG quality, through the
/// ffmpeg filter `filter` (e.g. `scale=480:640`) when given. Made anew on each call.
pub fn jpeg_frame_filtered(clip: &str, index: usize, filter: Option<&str>) -> Vec<u8> {
    let mut chain = format!("select=eq(n\\,{index})");
    if let Some(filter) = filter {
        chain = format!("{chain},{filter}");
    }
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(data::clip(clip))
        .args(["-vf", &chain, "-frames:v", "1", "-f", "mjpeg", "-"])
        .output()
        .expect(NO_FFMPEG);
    assert!(
        !out.stdout.is_empty(),
        "ffmpeg gave no frame {index} of {clip}"
    );
    out.stdout
}

/// The frames of the video file `input` as packed RGB8, decoded by ffmpeg through the
/// filter `filter` when given (its output must be `width` x `height`), at most `limit` of
/// them when given.
pub fn rgb_frames(
    input: &Path,
    filter: Option<&str>,
    limit: Option<usize>,
    width: u32,
    height: u32,
) -> Vec<Vec<u8>> {
    let mut frames = Vec::new();
    for_each_rgb_frame(input, filter, limit, width, height, |_, rgb| {
        frames.push(rgb.to_vec());
    });
    frames
}

/// Like [`rgb_frames`], handing each frame (its index and pixels) to `each` as ffmpeg
/// decodes it, none kept.
pub fn for_each_rgb_frame(
    input: &Path,
    filter: Option<&str>,
    limit: Option<usize>,
    width: u32,
    height: u32,
    mut each: impl FnMut(usize, &[u8]),
) {
    let mut ffmpeg = Command::new("ffmpeg");
    ffmpeg.args(["-v", "error", "-i"]).arg(input);
    if let Some(filter) = filter {
        ffmpeg.args(["-vf", filter]);
    }
    if let Some(limit) = limit {
        ffmpeg.args(["-frames:v", &limit.to_string()]);
    }
    let mut child = ffmpeg
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .expect(NO_FFMPEG);
    let mut stdout = child.stdout.take().unwrap();
    let mut frame = vec![0u8; (width * height * 3) as usize];
    let mut index = 0;
    loop {
        let mut filled = 0;
        while filled < frame.len() {
            match stdout.read(&mut frame[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => panic!("reading ffmpeg's frames of {input:?}: {e}"),
            }
        }
        if filled == 0 {
            break;
        }
        assert_eq!(
            filled,
            frame.len(),
            "ffmpeg gave a partial {width}x{height} frame of {input:?}"
        );
        each(index, &frame);
        index += 1;
    }
    assert!(
        child.wait().unwrap().success(),
        "ffmpeg failed on {input:?}"
    );
}

/// The uplink's camera (as Chromium's fake camera plays it in the uplink bench, docs/video.md):
/// the lab dancer cropped to 4:3 from head to feet and scaled to 640x480. The first `count`
/// frames of the clip (60 fps) as packed RGB8, decoded by ffmpeg.
pub fn camera_480p(count: usize) -> Vec<Vec<u8>> {
    let filter = "crop=1080:810:0:360,scale=640:480";
    let frames = rgb_frames(&data::clip(LAB), Some(filter), Some(count), 640, 480);
    assert_eq!(frames.len(), count, "frames of {LAB}");
    frames
}
