//! `livepose stream --codec h264`: a clip's frames read from ffmpeg as RGB and encoded by
//! OpenH264 as they are sent (docs/protocol.md §3.2): a keyframe first, when the server
//! asks for one, after an access unit was displaced unsent, and every 3 s.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Stdio};

use livepose::core::image::RgbView;
use livepose::core::video::{EncoderSettings, H264Encoder};

use crate::video::probe;
use crate::Error;

/// A clip's frames, encoded one by one.
pub(crate) struct H264Source {
    ffmpeg: Child,
    width: u32,
    height: u32,
    rgb: Vec<u8>,
    encoder: H264Encoder,
    access_unit: Vec<u8>,
    frames: u64,
    fps: f64,
}

impl H264Source {
    /// Starts ffmpeg on `path`, scaled to `width` (even sizes; 0: the clip's own), at most
    /// `max_frames`.
    pub(crate) fn open(
        path: &Path,
        width: u32,
        fps: f64,
        bitrate_kbps: u32,
        max_frames: Option<usize>,
    ) -> Result<Self, Error> {
        let info = probe(&path.to_string_lossy())?;
        let even = |v: f64| ((v / 2.0).round() as u32).max(8) * 2;
        let (w, h) = if width > 0 {
            let w = even(f64::from(width));
            (
                w,
                even(f64::from(info.height) * f64::from(w) / f64::from(info.width)),
            )
        } else {
            (even(f64::from(info.width)), even(f64::from(info.height)))
        };
        let mut ffmpeg = std::process::Command::new("ffmpeg");
        ffmpeg
            .args(["-v", "error", "-i"])
            .arg(path)
            .args(["-vf", &format!("scale={w}:{h}")]);
        if let Some(n) = max_frames {
            ffmpeg.args(["-frames:v", &n.to_string()]);
        }
        let ffmpeg = ffmpeg
            .args(["-pix_fmt", "rgb24", "-f", "rawvideo", "-"])
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("ffmpeg (Debian package ffmpeg) is needed: {e}"))?;
        let settings = EncoderSettings {
            bitrate_bps: bitrate_kbps.saturating_mul(1000),
            max_fps: fps as f32,
            keyframe_interval: (fps * 3.0).round().max(1.0) as u32,
        };
        Ok(H264Source {
            ffmpeg,
            width: w,
            height: h,
            rgb: vec![0; (w * h * 3) as usize],
            encoder: H264Encoder::new(settings)?,
            access_unit: Vec::new(),
            frames: 0,
            fps,
        })
    }

    /// Reads the next camera frame; false at the clip's end.
    fn read(&mut self) -> Result<bool, Error> {
        let stdout = self.ffmpeg.stdout.as_mut().ok_or("ffmpeg stdout")?;
        match stdout.read_exact(&mut self.rgb) {
            Ok(()) => {
                self.frames += 1;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The next frame encoded: its access unit and whether it is a keyframe; `None` at the
    /// clip's end.
    pub(crate) fn next(&mut self) -> Result<Option<(&[u8], bool)>, Error> {
        if !self.read()? {
            return Ok(None);
        }
        let image = RgbView::new(self.width, self.height, &self.rgb)?;
        let ms = (self.frames as f64 * 1000.0 / self.fps) as u64;
        let keyframe = self.encoder.encode(image, ms, &mut self.access_unit)?;
        Ok(Some((&self.access_unit, keyframe)))
    }

    /// Skips the next camera frame (the connection is busy); false at the clip's end.
    pub(crate) fn skip(&mut self) -> Result<bool, Error> {
        self.read()
    }

    /// The next access unit is a keyframe.
    pub(crate) fn request_keyframe(&mut self) {
        self.encoder.request_keyframe();
    }
}

impl Drop for H264Source {
    fn drop(&mut self) {
        let _ = self.ffmpeg.kill();
        let _ = self.ffmpeg.wait();
    }
}
