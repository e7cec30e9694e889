//! H.264 video for the uplink: frames of format `h264` (protocol §3) carry one access
//! unit each, in Annex B form.
//!
//! - [`scan_access_unit`] checks an access unit and reads what it holds (keyframe or not,
//!   its SPS, with the picture size); [`AccessUnitInfo::check_limits`] refuses a picture
//!   over the pixel limit *before* a decoder allocates for it. Pure Rust, always built.
//! - [`H264Decoder`] (feature `h264`) decodes access units in order with Cisco's
//!   OpenH264, compiled from source: every access unit must be decoded (the pictures
//!   after a keyframe are predicted from the ones before), inference takes the newest
//!   picture ([`Picture::write_rgb`], then [`Frame::Rgb`](crate::inference::Frame)). A
//!   frame that needs a reference the decoder lacks is refused with
//!   [`VideoError::NeedKeyframe`] until the next keyframe; a bad bitstream gives
//!   [`VideoError::BadVideo`], never a panic.
//! - [`H264Encoder`] (feature `h264`) encodes RGB frames into access units, for clients.
//! - [`AccessUnitSplitter`] cuts a byte stream (ffmpeg's `-c:v copy -f h264` output, a
//!   `.h264` file) into access units.
//!
//! ```
//! # #[cfg(feature = "h264")] {
//! use livepose_core::image::RgbImage;
//! use livepose_core::video::{EncoderSettings, H264Decoder, H264Encoder};
//!
//! let frame = RgbImage::from_rgb8(64, 48, vec![128; 64 * 48 * 3]).unwrap();
//! let mut encoder = H264Encoder::new(EncoderSettings::default()).unwrap();
//! let mut access_unit = Vec::new();
//! let keyframe = encoder.encode(frame.view(), 0, &mut access_unit).unwrap();
//! assert!(keyframe, "the first frame is a keyframe");
//!
//! let mut decoder = H264Decoder::new(1 << 24).unwrap();
//! let mut rgb = RgbImage::new();
//! assert!(decoder.decode_rgb(&access_unit, &mut rgb).unwrap());
//! assert_eq!((rgb.width(), rgb.height()), (64, 48));
//! # }
//! ```

mod annexb;
mod bits;
#[cfg(feature = "h264")]
mod decoder;
#[cfg(feature = "h264")]
mod encoder;
mod splitter;
mod sps;
#[cfg(all(test, feature = "h264"))]
mod tests;

pub use annexb::{
    nal_units, scan_access_unit, write_annexb, AccessUnitInfo, NalType, NalUnit, NalUnits,
};
#[cfg(feature = "h264")]
pub use decoder::{H264Decoder, Picture};
#[cfg(feature = "h264")]
pub use encoder::{EncoderSettings, H264Encoder};
pub use splitter::AccessUnitSplitter;
pub use sps::Sps;

/// Why an access unit was refused or a frame could not be encoded. [`code`](Self::code)
/// gives the protocol's error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VideoError {
    /// Not an access unit in Annex B form, a malformed or unsupported NAL unit or SPS, a
    /// `KEYFRAME` flag that contradicts the content, or a bitstream the decoder rejected.
    #[error("bad H.264 access unit: {0}")]
    BadVideo(String),
    /// The SPS declares a picture over the pixel limit; nothing was decoded.
    #[error("H.264 picture of {width}x{height} pixels exceeds the limit of {max_pixels} pixels")]
    TooLarge {
        /// Width the SPS declares (after cropping).
        width: u32,
        /// Height the SPS declares (after cropping).
        height: u32,
        /// The limit.
        max_pixels: u64,
    },
    /// A frame that depends on earlier ones came while the decoder has no reference for it:
    /// before the first keyframe, or after an error. It was not decoded; decoding resumes
    /// at the next keyframe.
    #[error("{0}: waiting for a keyframe (an IDR access unit with its SPS and PPS)")]
    NeedKeyframe(&'static str),
    /// The encoder failed (odd dimensions, or the library refused the settings).
    #[error("H.264 encoder: {0}")]
    Encoder(String),
}

impl VideoError {
    /// A stable code: `bad_video`, `image_too_large` (the code raw and decoded images over
    /// the limit get too), `need_keyframe` (which the livepose server reports as a
    /// `keyframe_request` rather than an `error`), or `encoder` (local, never sent).
    pub fn code(&self) -> &'static str {
        match self {
            VideoError::BadVideo(_) => "bad_video",
            VideoError::TooLarge { .. } => "image_too_large",
            VideoError::NeedKeyframe(_) => "need_keyframe",
            VideoError::Encoder(_) => "encoder",
        }
    }
}
