//! Video in and out through ffmpeg subprocesses (Debian package `ffmpeg`): probing a clip,
//! decoding it (or a video on standard input) to RGB8 frames, listing a folder of images,
//! and encoding RGB8 frames to a video file.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

use crate::Error;

/// What ffprobe says of a clip.
pub(crate) struct VideoInfo {
    pub width: u32,
    pub height: u32,
    pub fps: f64,
    /// Frames counted by ffprobe, when it could.
    pub frames: Option<u64>,
}

pub(crate) fn probe(input: &str) -> Result<VideoInfo, Error> {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_packets"])
        .args([
            "-show_entries",
            "stream=width,height,r_frame_rate,nb_read_packets",
            "-of",
            "csv=p=0",
        ])
        .arg(input)
        .output()
        .map_err(|e| format!("ffprobe (Debian package ffmpeg) is needed to read video: {e}"))?;
    let text = String::from_utf8(out.stdout)?;
    let fields: Vec<&str> = text.trim().split(',').collect();
    let [w, h, rate, count] = fields[..] else {
        return Err(format!(
            "ffprobe could not read {input}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    };
    let fps = match rate.split_once('/') {
        Some((n, d)) => n.parse::<f64>()? / d.parse::<f64>()?.max(1.0),
        None => rate.parse()?,
    };
    Ok(VideoInfo {
        width: w.parse()?,
        height: h.parse()?,
        fps,
        frames: count.parse().ok(),
    })
}

/// ffmpeg decoding `input` (`-` for standard input) to `format` on its standard output.
pub(crate) fn ffmpeg_reader(input: &str, format: &[&str]) -> Result<Child, Error> {
    Command::new("ffmpeg")
        .args(["-v", "error", "-i", input])
        .args(format)
        .arg("-")
        .stdin(if input == "-" {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ffmpeg (Debian package ffmpeg) is needed to read video: {e}").into())
}

/// Reads one binary PPM header (`P6 <width> <height> 255` and one whitespace byte); `None`
/// at the end of the stream.
pub(crate) fn read_ppm_header(r: &mut impl Read) -> Result<Option<(u32, u32)>, Error> {
    let mut tokens: Vec<String> = Vec::new();
    let mut token = String::new();
    let mut byte = [0u8];
    while tokens.len() < 4 {
        if r.read(&mut byte)? == 0 {
            return if tokens.is_empty() && token.is_empty() {
                Ok(None)
            } else {
                Err("truncated PPM header from ffmpeg".into())
            };
        }
        if byte[0].is_ascii_whitespace() {
            if !token.is_empty() {
                tokens.push(std::mem::take(&mut token));
            }
        } else if token.len() < 16 {
            token.push(byte[0] as char);
        } else {
            return Err("malformed PPM header from ffmpeg".into());
        }
    }
    match &tokens[..] {
        [magic, w, h, max] if magic == "P6" && max == "255" => Ok(Some((w.parse()?, h.parse()?))),
        _ => Err(format!("unexpected PPM header from ffmpeg: {tokens:?}").into()),
    }
}

pub(crate) fn image_files(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                matches!(
                    e.to_ascii_lowercase().as_str(),
                    "jpg" | "jpeg" | "png" | "webp"
                )
            })
        })
        .collect();
    files.sort();
    Ok(files)
}

/// ffmpeg encoding RGB8 frames of `width` x `height` written to the returned stdin into
/// `path` at `fps`.
pub(crate) fn encoder(
    path: &Path,
    width: u32,
    height: u32,
    fps: f64,
) -> Result<(Child, ChildStdin), Error> {
    let mut child = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"])
        .args([
            "-s",
            &format!("{width}x{height}"),
            "-r",
            &format!("{fps}"),
            "-i",
            "-",
        ])
        .args(["-pix_fmt", "yuv420p"])
        .arg(path)
        .stdin(Stdio::piped())
        .spawn()?;
    let stdin = child.stdin.take().ok_or("ffmpeg stdin")?;
    Ok((child, stdin))
}
