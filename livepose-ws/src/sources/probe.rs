//! Which codec an RTSP camera sends, asked of `ffprobe` before ffmpeg starts: H.264 passes
//! through as it is (`-c:v copy`, decoded in the server), anything else is re-encoded to
//! JPEG. ffprobe's output and errors are not kept (its errors name the URL).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;

use super::ffmpeg::input_args;
use super::spec::SourceSpec;

/// The longest a probe may take; past it the source is read as JPEG (re-encoded).
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// `ffprobe` beside `ffmpeg` (Debian's ffmpeg package has both), else on `PATH`.
pub(crate) fn find_ffprobe(ffmpeg: &Path) -> Option<PathBuf> {
    let beside = ffmpeg.with_file_name("ffprobe");
    if beside.is_file() {
        return Some(beside);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("ffprobe"))
        .find(|exe| exe.is_file())
}

/// The codec name of the source's first video stream as ffprobe tells it (`h264`,
/// `mpeg4`, `hevc`, …); `None` when ffprobe cannot tell within [`PROBE_TIMEOUT`].
pub(crate) async fn video_codec(ffprobe: &Path, spec: &SourceSpec) -> Option<String> {
    let mut args: Vec<String> = ["-v", "quiet"].map(String::from).to_vec();
    args.extend(input_args(spec));
    args.extend(
        [
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name",
            "-of",
            "csv=p=0",
        ]
        .map(String::from),
    );
    let run = Command::new(ffprobe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(PROBE_TIMEOUT, run).await.ok()?.ok()?;
    let codec = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !codec.is_empty()).then_some(codec)
}
