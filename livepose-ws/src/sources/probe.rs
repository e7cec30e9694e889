//! What video an RTSP camera sends, asked of `ffprobe` before ffmpeg starts: H.264 that the
//! server's decoder takes (8-bit 4:2:0, progressive) passes through as it is (`-c:v copy`,
//! decoded in the server); anything else is re-encoded to JPEG. ffprobe's errors are not
//! kept (they name the URL).

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

/// A source's first video stream, as ffprobe tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Video {
    /// `h264`, `mpeg4`, `hevc`, …
    pub(crate) codec: String,
    /// `yuv420p`, `yuvj420p`, `yuv422p10le`, …
    pub(crate) pix_fmt: String,
    /// `progressive`, `tt`, `unknown`, … (empty when not said)
    pub(crate) field_order: String,
}

impl Video {
    /// Reads ffprobe's `codec_name,pix_fmt,field_order` line.
    fn parse(csv: &str) -> Option<Video> {
        let mut fields = csv.lines().next()?.trim().split(',');
        let codec = fields.next().filter(|c| !c.is_empty())?.to_string();
        let mut next = || fields.next().unwrap_or("").to_string();
        Some(Video {
            codec,
            pix_fmt: next(),
            field_order: next(),
        })
    }

    /// H.264 the server's decoder takes: 8-bit 4:2:0, not interlaced.
    pub(crate) fn decodable(&self) -> bool {
        self.codec == "h264"
            && matches!(self.pix_fmt.as_str(), "yuv420p" | "yuvj420p")
            && matches!(self.field_order.as_str(), "progressive" | "unknown" | "")
    }
}

/// The source's first video stream; `None` when ffprobe cannot tell within
/// [`PROBE_TIMEOUT`].
pub(crate) async fn video_codec(ffprobe: &Path, spec: &SourceSpec) -> Option<Video> {
    let mut args: Vec<String> = ["-v", "quiet"].map(String::from).to_vec();
    args.extend(input_args(spec));
    args.extend(
        [
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,pix_fmt,field_order",
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
    if !out.status.success() {
        return None;
    }
    Video::parse(&String::from_utf8_lossy(&out.stdout))
}

#[cfg(test)]
mod tests {
    use super::Video;

    #[test]
    fn only_8_bit_420_progressive_h264_passes_through() {
        let video = |csv: &str| Video::parse(csv).unwrap();
        assert!(video("h264,yuv420p,progressive\n").decodable());
        assert!(video("h264,yuvj420p,unknown").decodable());
        assert!(video("h264,yuv420p").decodable());
        assert!(!video("h264,yuv420p,tt").decodable());
        assert!(!video("h264,yuv422p10le,progressive").decodable());
        assert!(!video("mpeg4,yuv420p,progressive").decodable());
        assert!(!video("hevc,yuv420p,progressive").decodable());
        assert_eq!(Video::parse(""), None);
        assert_eq!(Video::parse(",yuv420p"), None);
    }
}
