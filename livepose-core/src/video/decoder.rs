//! [`H264Decoder`]: one stream's OpenH264 decoder, fed every access unit in order.

use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use super::annexb::scan_access_unit;
use super::VideoError;
use crate::image::RgbImage;

/// OpenH264's `DECODING_STATE` bits that mean a reference or parameter set is missing
/// (`dsRefLost`, `dsNoParamSets`): the stream resumes at the next keyframe.
const MISSING_REFERENCE: i64 = 0x02 | 0x10;

/// Decodes one H.264 stream, access unit by access unit, with Cisco's OpenH264 (compiled
/// from source; error concealment off, one thread). The decoder's state (reference
/// pictures, parameter sets) belongs to the stream and is freed when this is dropped.
///
/// Every access unit is checked with [`scan_access_unit`] and its SPS against the pixel
/// limit before OpenH264 sees it. Until the first keyframe, and after any error, a frame
/// that is not a keyframe is refused with [`VideoError::NeedKeyframe`] without being
/// decoded (the server then asks the client for a keyframe). A new SPS with a new size in
/// a keyframe changes the resolution. Each keyframe that carries its SPS and PPS goes to a
/// fresh OpenH264 instance (an IDR picture references nothing before it, so nothing is
/// lost): input that OpenH264 accepted can leave it in a state where even a clean keyframe
/// fails (found by the mutation stress test in `tests/video_real.rs`), and a stream must
/// always recover at its next keyframe.
pub struct H264Decoder {
    decoder: Decoder,
    max_pixels: u64,
    /// Why the next access unit must be a keyframe, if it must.
    awaiting: Option<&'static str>,
    /// An SPS and a PPS were seen (the first keyframe must bring them).
    have_parameter_sets: bool,
    /// Width and height of the last picture.
    size: Option<(u32, u32)>,
}

impl std::fmt::Debug for H264Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H264Decoder")
            .field("max_pixels", &self.max_pixels)
            .field("awaiting", &self.awaiting)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A decoded picture, borrowed from the decoder until its next access unit: 8-bit 4:2:0
/// planes (BT.601, limited range).
pub struct Picture<'a> {
    yuv: DecodedYUV<'a>,
}

impl Picture<'_> {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.yuv.dimensions().0 as u32
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.yuv.dimensions().1 as u32
    }

    /// The Y, U and V planes, each with its stride in bytes (U and V at half the width
    /// and height).
    pub fn planes(&self) -> [(&[u8], usize); 3] {
        let (sy, su, sv) = self.yuv.strides();
        [(self.yuv.y(), sy), (self.yuv.u(), su), (self.yuv.v(), sv)]
    }

    /// Converts the picture to RGB into `out` (its buffer is reused).
    pub fn write_rgb(&self, out: &mut RgbImage) {
        let buffer = out.reset(self.width(), self.height());
        self.yuv.write_rgb8(buffer);
    }
}

impl H264Decoder {
    /// A decoder that refuses pictures of more than `max_pixels` pixels.
    pub fn new(max_pixels: u64) -> Result<Self, VideoError> {
        Ok(H264Decoder {
            decoder: openh264_decoder()?,
            max_pixels,
            awaiting: Some("no keyframe yet"),
            have_parameter_sets: false,
            size: None,
        })
    }

    /// Whether the next access unit must be a keyframe (before the first one, and after an
    /// error or [`skip_to_keyframe`](Self::skip_to_keyframe)).
    pub fn awaiting_keyframe(&self) -> bool {
        self.awaiting.is_some()
    }

    /// Width and height of the last picture decoded.
    pub fn size(&self) -> Option<(u32, u32)> {
        self.size
    }

    /// Refuses frames until the next keyframe: for a caller that dropped access units
    /// (a stream whose decoding fell behind), whose successors cannot be decoded.
    pub fn skip_to_keyframe(&mut self) {
        self.awaiting = Some("access units were skipped");
    }

    /// Decodes one access unit (Annex B); returns its picture, or `None` when it completes
    /// none. On an error the decoder waits for the next keyframe.
    pub fn decode(&mut self, access_unit: &[u8]) -> Result<Option<Picture<'_>>, VideoError> {
        let info = scan_access_unit(access_unit)
            .and_then(|info| info.check_limits(self.max_pixels).map(|()| info));
        let info = match info {
            Ok(info) => info,
            Err(e) => {
                self.awaiting = Some("the last access unit was refused");
                return Err(e);
            }
        };
        if let Some(why) = self.awaiting {
            if !info.keyframe {
                return Err(VideoError::NeedKeyframe(why));
            }
        }
        if info.keyframe && info.sps.is_some() && info.has_pps {
            // Dropping the old instance frees its state.
            self.decoder = openh264_decoder()?;
        }
        if info.keyframe && !self.have_parameter_sets && (info.sps.is_none() || !info.has_pps) {
            return Err(VideoError::BadVideo(
                "the first keyframe does not carry its SPS and PPS".into(),
            ));
        }
        let max_pixels = self.max_pixels;
        match self.decoder.decode(access_unit) {
            Ok(picture) => {
                self.awaiting = None;
                self.have_parameter_sets = true;
                let Some(yuv) = picture else {
                    return Ok(None);
                };
                let (width, height) = yuv.dimensions();
                if (width as u64) * (height as u64) > max_pixels {
                    // The SPS was checked; OpenH264 disagreeing with it is a bad stream.
                    self.awaiting = Some("the last picture was over the limit");
                    return Err(VideoError::TooLarge {
                        width: width as u32,
                        height: height as u32,
                        max_pixels,
                    });
                }
                self.size = Some((width as u32, height as u32));
                Ok(Some(Picture { yuv }))
            }
            Err(e) => {
                let state = e.native_code();
                if state & MISSING_REFERENCE != 0 {
                    self.awaiting = Some("a reference picture is missing");
                    Err(VideoError::NeedKeyframe("a reference picture is missing"))
                } else {
                    self.awaiting = Some("the last access unit did not decode");
                    Err(VideoError::BadVideo(format!(
                        "the decoder rejected the bitstream (OpenH264 decoding state 0x{state:x})"
                    )))
                }
            }
        }
    }

    /// Decodes one access unit and converts its picture to RGB into `out`; returns whether
    /// there was a picture.
    pub fn decode_rgb(
        &mut self,
        access_unit: &[u8],
        out: &mut RgbImage,
    ) -> Result<bool, VideoError> {
        match self.decode(access_unit)? {
            Some(picture) => {
                picture.write_rgb(out);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

fn openh264_decoder() -> Result<Decoder, VideoError> {
    let config = DecoderConfig::new().flush_after_decode(Flush::Flush);
    Decoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| VideoError::BadVideo(format!("cannot create the decoder: {e}")))
}
