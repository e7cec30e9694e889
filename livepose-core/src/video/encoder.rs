//! [`H264Encoder`]: RGB frames into H.264 access units, for clients (the Rust client and
//! `livepose stream --codec h264`).

use openh264::encoder::{
    BitRate, Encoder, EncoderConfig, FrameRate, FrameType, IntraFramePeriod, RateControlMode,
    UsageType,
};
use openh264::formats::{RgbSliceU8, YUVBuffer, YUVSource};
use openh264::{OpenH264API, Timestamp};

use super::VideoError;
use crate::image::RgbView;

/// What the encoder aims for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderSettings {
    /// Target bitrate, bits per second.
    pub bitrate_bps: u32,
    /// The frame rate the rate control plans for.
    pub max_fps: f32,
    /// A keyframe every this many frames besides those asked for
    /// ([`H264Encoder::request_keyframe`]); 0: only the first and those asked for.
    pub keyframe_interval: u32,
}

impl Default for EncoderSettings {
    /// 1 Mbit/s at 30 fps (enough for 640x480 of a person moving), a keyframe every 60
    /// frames (2 s).
    fn default() -> Self {
        EncoderSettings {
            bitrate_bps: 1_000_000,
            max_fps: 30.0,
            keyframe_interval: 60,
        }
    }
}

/// Encodes RGB frames into H.264 access units in Annex B form (constrained baseline, one
/// slice, rate control on the bitrate, no frame skipping): each keyframe is an IDR
/// picture with its SPS and PPS, as protocol frames of format `h264` carry them. Frames
/// must have an even width and height, at least 16 each. A change of size starts a new sequence (a keyframe).
pub struct H264Encoder {
    settings: EncoderSettings,
    /// Built at the first frame, and again after a change of settings.
    encoder: Option<Encoder>,
    yuv: Option<YUVBuffer>,
    keyframe_asked: bool,
}

impl std::fmt::Debug for H264Encoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Encoder")
            .field("settings", &self.settings)
            .field("keyframe_asked", &self.keyframe_asked)
            .finish_non_exhaustive()
    }
}

fn encoder_error(e: impl std::fmt::Display) -> VideoError {
    VideoError::Encoder(e.to_string())
}

impl H264Encoder {
    /// An encoder with these settings.
    pub fn new(settings: EncoderSettings) -> Result<Self, VideoError> {
        if settings.bitrate_bps == 0 || settings.max_fps.is_nan() || settings.max_fps <= 0.0 {
            return Err(VideoError::Encoder(format!(
                "a bitrate of {} bit/s at {} fps",
                settings.bitrate_bps, settings.max_fps
            )));
        }
        Ok(H264Encoder {
            settings,
            encoder: None,
            yuv: None,
            keyframe_asked: false,
        })
    }

    /// The settings in force.
    pub fn settings(&self) -> EncoderSettings {
        self.settings
    }

    /// Makes the next frame a keyframe (the server's `keyframe_request`).
    pub fn request_keyframe(&mut self) {
        self.keyframe_asked = true;
    }

    /// Changes the target bitrate from the next frame. OpenH264's safe interface has no
    /// way to change it in place: the encoder is rebuilt, so the next frame is a keyframe.
    pub fn set_bitrate(&mut self, bitrate_bps: u32) {
        if bitrate_bps > 0 && bitrate_bps != self.settings.bitrate_bps {
            self.settings.bitrate_bps = bitrate_bps;
            self.encoder = None;
        }
    }

    fn build(&self) -> Result<Encoder, VideoError> {
        let s = self.settings;
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(s.bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(s.max_fps))
            .rate_control_mode(RateControlMode::Bitrate)
            .usage_type(UsageType::CameraVideoRealTime)
            .skip_frames(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames(s.keyframe_interval))
            .num_threads(1);
        Encoder::with_api_config(OpenH264API::from_source(), config).map_err(encoder_error)
    }

    /// Encodes `image` captured at `timestamp_ms` (any monotonic clock) into `out`
    /// (cleared first): one access unit. Returns whether it is a keyframe.
    pub fn encode(
        &mut self,
        image: RgbView<'_>,
        timestamp_ms: u64,
        out: &mut Vec<u8>,
    ) -> Result<bool, VideoError> {
        let (width, height) = (image.width() as usize, image.height() as usize);
        if width % 2 != 0 || height % 2 != 0 || width < 16 || height < 16 {
            return Err(VideoError::Encoder(format!(
                "{width}x{height}: the encoder needs an even width and height of 16 or more"
            )));
        }
        if self.encoder.is_none() {
            self.encoder = Some(self.build()?);
        }
        let Some(encoder) = self.encoder.as_mut() else {
            return Err(VideoError::Encoder("no encoder".into()));
        };
        let yuv = match &mut self.yuv {
            Some(yuv) if yuv.dimensions() == (width, height) => yuv,
            slot => slot.insert(YUVBuffer::new(width, height)),
        };
        yuv.read_rgb8(RgbSliceU8::new(image.data(), (width, height)));
        if std::mem::take(&mut self.keyframe_asked) {
            encoder.force_intra_frame();
        }
        let bitstream = encoder
            .encode_at(&*yuv, Timestamp::from_millis(timestamp_ms))
            .map_err(encoder_error)?;
        out.clear();
        bitstream.write_vec(out);
        match bitstream.frame_type() {
            FrameType::IDR => Ok(true),
            FrameType::P | FrameType::I => Ok(false),
            other => Err(VideoError::Encoder(format!(
                "the encoder made a frame of type {other:?}"
            ))),
        }
    }
}
