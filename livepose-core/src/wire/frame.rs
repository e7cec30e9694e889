//! The frame message (client to server): a 40-byte header, then the image bytes.
//!
//! ```text
//! offset size field
//!  0     4    magic "LPOS"
//!  4     1    version (1)
//!  5     1    message type (1 = frame)
//!  6     2    header length (u16, >= 40, multiple of 4; bytes 40.. are extensions, skipped)
//!  8     8    sequence (u64)
//! 16     8    capture timestamp (i64, µs, client clock, echoed back, never trusted)
//! 24     1    image format (1 JPEG, 2 PNG, 3 WebP, 4 RGB8, 5 RGBA8, 6 H.264)
//! 25     1    reserved (0)
//! 26     2    flags (u16; bit 0 = reset tracking, bit 1 = keyframe)
//! 28     4    width  (u32; raw formats only, else 0)
//! 32     4    height (u32; raw formats only, else 0)
//! 36     4    payload length (u32) = message length - header length
//! ```

use super::bytes::Fields;
use super::{parse_preamble, Limits, MessageType, WireError, MAGIC, VERSION};
use crate::image::{Codec, PixelLayout};

/// Length of the version-1 frame header.
pub const FRAME_HEADER_LEN: usize = 40;

/// What the payload of a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// A compressed image; its dimensions come from the bitstream.
    Encoded(Codec),
    /// Uncompressed pixels, rows top to bottom, no padding.
    Raw {
        /// Channel layout.
        layout: PixelLayout,
        /// Width in pixels (non-zero).
        width: u32,
        /// Height in pixels (non-zero).
        height: u32,
    },
}

impl ImageFormat {
    /// The format's name in the golden vectors and the bindings: `jpeg`, `png`, `webp`,
    /// `h264`, `rgb8` or `rgba8`.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Encoded(Codec::Jpeg) => "jpeg",
            ImageFormat::Encoded(Codec::Png) => "png",
            ImageFormat::Encoded(Codec::Webp) => "webp",
            ImageFormat::Encoded(Codec::H264) => "h264",
            ImageFormat::Raw {
                layout: PixelLayout::Rgb8,
                ..
            } => "rgb8",
            ImageFormat::Raw {
                layout: PixelLayout::Rgba8,
                ..
            } => "rgba8",
        }
    }

    /// The format named `name` (see [`name`](Self::name)); `width` and `height` are kept for
    /// the raw formats and ignored for the encoded ones.
    pub fn from_name(
        name: &str,
        width: u32,
        height: u32,
    ) -> Result<Self, crate::options::UnknownOption> {
        let raw = |layout| ImageFormat::Raw {
            layout,
            width,
            height,
        };
        Ok(match name {
            "jpeg" => ImageFormat::Encoded(Codec::Jpeg),
            "png" => ImageFormat::Encoded(Codec::Png),
            "webp" => ImageFormat::Encoded(Codec::Webp),
            "h264" => ImageFormat::Encoded(Codec::H264),
            "rgb8" => raw(PixelLayout::Rgb8),
            "rgba8" => raw(PixelLayout::Rgba8),
            other => {
                return Err(crate::options::UnknownOption {
                    what: "image format",
                    value: other.to_string(),
                    expected: "jpeg, png, webp, h264, rgb8, rgba8",
                })
            }
        })
    }

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            ImageFormat::Encoded(Codec::Jpeg) => 1,
            ImageFormat::Encoded(Codec::Png) => 2,
            ImageFormat::Encoded(Codec::Webp) => 3,
            ImageFormat::Encoded(Codec::H264) => 6,
            ImageFormat::Raw {
                layout: PixelLayout::Rgb8,
                ..
            } => 4,
            ImageFormat::Raw {
                layout: PixelLayout::Rgba8,
                ..
            } => 5,
        }
    }

    /// Width and height as written on the wire (0, 0 for encoded formats).
    fn wire_dimensions(self) -> (u32, u32) {
        match self {
            ImageFormat::Encoded(_) => (0, 0),
            ImageFormat::Raw { width, height, .. } => (width, height),
        }
    }

    fn from_wire(code: u8, width: u32, height: u32) -> Result<Self, WireError> {
        let layout = match code {
            1 => return Ok(ImageFormat::Encoded(Codec::Jpeg)),
            2 => return Ok(ImageFormat::Encoded(Codec::Png)),
            3 => return Ok(ImageFormat::Encoded(Codec::Webp)),
            6 => return Ok(ImageFormat::Encoded(Codec::H264)),
            4 => PixelLayout::Rgb8,
            5 => PixelLayout::Rgba8,
            other => return Err(WireError::UnknownImageFormat(other)),
        };
        if width == 0 || height == 0 {
            return Err(WireError::BadDimensions { width, height });
        }
        Ok(ImageFormat::Raw {
            layout,
            width,
            height,
        })
    }

    /// The payload length a raw format requires (`None` for encoded formats).
    pub fn raw_len(self) -> Option<u64> {
        match self {
            ImageFormat::Encoded(_) => None,
            ImageFormat::Raw {
                layout,
                width,
                height,
            } => Some(
                // Saturates for absurd dimensions, which then match no payload length.
                u64::from(width)
                    .saturating_mul(u64::from(height))
                    .saturating_mul(layout.bytes_per_pixel() as u64),
            ),
        }
    }
}

bitflags::bitflags! {
    /// Frame flags. Unknown bits are preserved and ignored.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct FrameFlags: u16 {
        /// Drop tracking state before this frame (camera switched, scene cut).
        const RESET_TRACKING = 1;
        /// An H.264 frame holding an IDR access unit with its SPS and PPS: decodable without
        /// the frames before it. Set exactly on those.
        const KEYFRAME = 2;
        const _ = !0;
    }
}

/// The header of a frame message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Client-chosen sequence number, echoed in the result.
    pub sequence: u64,
    /// Client capture time in µs on the client's clock; echoed, never used for ordering.
    pub capture_ts_us: i64,
    /// What the payload is.
    pub format: ImageFormat,
    /// Flags.
    pub flags: FrameFlags,
}

impl FrameHeader {
    /// A header with no flags.
    pub fn new(sequence: u64, capture_ts_us: i64, format: ImageFormat) -> Self {
        FrameHeader {
            sequence,
            capture_ts_us,
            format,
            flags: FrameFlags::empty(),
        }
    }

    /// The 40 header bytes for a payload of `payload_len` bytes.
    ///
    /// Fails if the payload does not fit the 32-bit length field or does not match a raw
    /// format's dimensions.
    pub fn encode(&self, payload_len: usize) -> Result<[u8; FRAME_HEADER_LEN], WireError> {
        let len = u32::try_from(payload_len).map_err(|_| WireError::TooMany {
            what: "payload bytes",
            count: payload_len,
            max: u32::MAX as usize,
        })?;
        if let Some(expected) = self.format.raw_len() {
            if expected != u64::from(len) {
                return Err(WireError::Inconsistent(format!(
                    "raw payload of {len} bytes, {:?} needs {expected}",
                    self.format
                )));
            }
        }
        let (width, height) = self.format.wire_dimensions();
        let mut out = [0u8; FRAME_HEADER_LEN];
        let mut put = |at: usize, field: &[u8]| out[at..at + field.len()].copy_from_slice(field);
        put(0, &MAGIC);
        put(4, &[VERSION, MessageType::Frame.code()]);
        put(6, &(FRAME_HEADER_LEN as u16).to_le_bytes());
        put(8, &self.sequence.to_le_bytes());
        put(16, &self.capture_ts_us.to_le_bytes());
        put(24, &[self.format.code(), 0]);
        put(26, &self.flags.bits().to_le_bytes());
        put(28, &width.to_le_bytes());
        put(32, &height.to_le_bytes());
        put(36, &len.to_le_bytes());
        Ok(out)
    }

    /// Clears `out` and writes the whole message: header, then a copy of `payload`.
    pub fn encode_with_payload(&self, payload: &[u8], out: &mut Vec<u8>) -> Result<(), WireError> {
        let header = self.encode(payload.len())?;
        out.clear();
        out.reserve(FRAME_HEADER_LEN + payload.len());
        out.extend_from_slice(&header);
        out.extend_from_slice(payload);
        Ok(())
    }
}

/// A decoded frame that borrows its payload from the received message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameView<'a> {
    /// The header fields.
    pub header: FrameHeader,
    /// The image bytes (borrowed, not copied).
    pub payload: &'a [u8],
}

impl<'a> FrameView<'a> {
    /// Parses a frame message with the default [`Limits`].
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WireError> {
        Self::parse_with(bytes, &Limits::default())
    }

    /// Parses a frame message, enforcing `limits`.
    pub fn parse_with(bytes: &'a [u8], limits: &Limits) -> Result<Self, WireError> {
        let header_len = parse_preamble(bytes, MessageType::Frame, FRAME_HEADER_LEN, limits)?;
        let f = Fields::new(bytes);
        let sequence = f.u64(8, "sequence")?;
        let capture_ts_us = f.i64(16, "capture timestamp")?;
        let format_code = f.u8(24, "image format")?;
        let flags = FrameFlags::from_bits_retain(f.u16(26, "flags")?);
        let width = f.u32(28, "width")?;
        let height = f.u32(32, "height")?;
        let payload_len = f.u32(36, "payload length")? as usize;
        let format = ImageFormat::from_wire(format_code, width, height)?;
        let payload = f.slice(header_len, payload_len, "payload")?;
        let actual = bytes.len() - header_len;
        if actual != payload_len {
            return Err(WireError::Inconsistent(format!(
                "payload length field says {payload_len} bytes, message carries {actual}"
            )));
        }
        if let Some(expected) = format.raw_len() {
            if expected != payload_len as u64 {
                return Err(WireError::Inconsistent(format!(
                    "raw {width}x{height} {format:?} needs {expected} payload bytes, got {payload_len}"
                )));
            }
        }
        Ok(FrameView {
            header: FrameHeader {
                sequence,
                capture_ts_us,
                format,
                flags,
            },
            payload,
        })
    }
}

/// A reusable buffer that builds frame messages without copying the payload: an encoder
/// writes the image straight after reserved header space (via [`std::io::Write`]), then
/// [`finish`](Self::finish) fills the header in place.
///
/// ```
/// use std::io::Write;
/// use livepose_core::image::Codec;
/// use livepose_core::wire::{FrameBuffer, FrameHeader, FrameView, ImageFormat};
///
/// let mut buffer = FrameBuffer::new();
/// buffer.write_all(b"\xff\xd8\xff jpeg from an encoder").unwrap();
/// let header = FrameHeader::new(1, 0, ImageFormat::Encoded(Codec::Jpeg));
/// let message = buffer.finish(&header).unwrap();
/// assert_eq!(FrameView::parse(message).unwrap().payload, b"\xff\xd8\xff jpeg from an encoder");
/// buffer.clear(); // ready for the next frame, capacity kept
/// ```
#[derive(Debug, Clone)]
pub struct FrameBuffer {
    bytes: Vec<u8>,
}

impl Default for FrameBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        FrameBuffer {
            bytes: vec![0; FRAME_HEADER_LEN],
        }
    }

    /// Drops the payload, keeping the capacity.
    pub fn clear(&mut self) {
        self.bytes.truncate(FRAME_HEADER_LEN);
    }

    /// The payload written so far.
    pub fn payload(&self) -> &[u8] {
        self.bytes.get(FRAME_HEADER_LEN..).unwrap_or_default()
    }

    /// Writes `header` in front of the payload and returns the complete message.
    pub fn finish(&mut self, header: &FrameHeader) -> Result<&[u8], WireError> {
        let encoded = header.encode(self.bytes.len() - FRAME_HEADER_LEN)?;
        self.bytes[..FRAME_HEADER_LEN].copy_from_slice(&encoded);
        Ok(&self.bytes)
    }
}

impl std::io::Write for FrameBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn format_names_round_trip() {
        for format in [
            ImageFormat::Encoded(Codec::Jpeg),
            ImageFormat::Encoded(Codec::Png),
            ImageFormat::Encoded(Codec::Webp),
            ImageFormat::Encoded(Codec::H264),
            ImageFormat::Raw {
                layout: PixelLayout::Rgb8,
                width: 2,
                height: 3,
            },
            ImageFormat::Raw {
                layout: PixelLayout::Rgba8,
                width: 2,
                height: 3,
            },
        ] {
            assert_eq!(ImageFormat::from_name(format.name(), 2, 3), Ok(format));
        }
        let err = ImageFormat::from_name("gif", 0, 0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown image format \"gif\" (expected one of: jpeg, png, webp, h264, rgb8, rgba8)"
        );
    }
    use super::*;

    fn jpeg_frame(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        FrameHeader::new(42, -5, ImageFormat::Encoded(Codec::Jpeg))
            .encode_with_payload(payload, &mut out)
            .unwrap();
        out
    }

    #[test]
    fn round_trip() {
        let msg = jpeg_frame(b"abc");
        assert_eq!(msg.len(), FRAME_HEADER_LEN + 3);
        let view = FrameView::parse(&msg).unwrap();
        assert_eq!(view.header.sequence, 42);
        assert_eq!(view.header.capture_ts_us, -5);
        assert_eq!(view.payload, b"abc");
        assert!(
            std::ptr::eq(view.payload.as_ptr(), msg[40..].as_ptr()),
            "borrowed"
        );
    }

    #[test]
    fn raw_frames_check_dimensions() {
        let format = ImageFormat::Raw {
            layout: PixelLayout::Rgb8,
            width: 2,
            height: 1,
        };
        let mut out = Vec::new();
        FrameHeader::new(1, 0, format)
            .encode_with_payload(&[1, 2, 3, 4, 5, 6], &mut out)
            .unwrap();
        assert_eq!(FrameView::parse(&out).unwrap().header.format, format);
        assert!(FrameHeader::new(1, 0, format)
            .encode_with_payload(&[1, 2, 3], &mut out)
            .is_err());
    }

    #[test]
    fn rejects_each_kind_of_bad_message() {
        let good = jpeg_frame(b"abcd");
        let mut bad_magic = good.clone();
        bad_magic[0] = b'X';
        assert!(matches!(
            FrameView::parse(&bad_magic),
            Err(WireError::BadMagic { .. })
        ));
        let mut bad_version = good.clone();
        bad_version[4] = 9;
        assert!(matches!(
            FrameView::parse(&bad_version),
            Err(WireError::UnsupportedVersion { found: 9, .. })
        ));
        let mut bad_type = good.clone();
        bad_type[5] = 2;
        assert!(matches!(
            FrameView::parse(&bad_type),
            Err(WireError::UnexpectedType {
                found: 2,
                expected: 1
            })
        ));
        assert!(matches!(
            FrameView::parse(&good[..good.len() - 1]),
            Err(WireError::Truncated {
                what: "payload",
                ..
            })
        ));
        assert!(matches!(
            FrameView::parse(&good[..20]),
            Err(WireError::Truncated { what: "header", .. })
        ));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(
            FrameView::parse(&trailing),
            Err(WireError::Inconsistent(_))
        ));
        let mut bad_format = good.clone();
        bad_format[24] = 77;
        assert_eq!(
            FrameView::parse(&bad_format),
            Err(WireError::UnknownImageFormat(77))
        );
        let limits = Limits {
            max_message_bytes: 10,
        };
        assert!(matches!(
            FrameView::parse_with(&good, &limits),
            Err(WireError::Oversized { max: 10, .. })
        ));
        let mut raw_zero = good.clone();
        raw_zero[24] = 4;
        assert!(matches!(
            FrameView::parse(&raw_zero),
            Err(WireError::BadDimensions { .. })
        ));
        let mut short_header = good;
        short_header[6] = 36;
        assert!(matches!(
            FrameView::parse(&short_header),
            Err(WireError::Inconsistent(_))
        ));
    }

    #[test]
    fn absurd_raw_dimensions_are_inconsistent_not_overflow() {
        // Found by the frame_decode fuzz target: 4G x 4G x 4 overflowed u64.
        let mut msg = jpeg_frame(b"");
        msg[24] = 5;
        msg[28..36].copy_from_slice(&[0xFF; 8]);
        assert!(matches!(
            FrameView::parse(&msg),
            Err(WireError::Inconsistent(_))
        ));
    }

    #[test]
    fn header_extensions_are_skipped() {
        // A later minor revision with an 8-byte header extension.
        let mut msg = jpeg_frame(b"xy");
        msg[6] = 48;
        msg.splice(40..40, [0xEE; 8]);
        let view = FrameView::parse(&msg).unwrap();
        assert_eq!(view.payload, b"xy");
    }

    #[test]
    fn unknown_flags_are_kept() {
        let mut msg = jpeg_frame(b"");
        msg[26] = 0b101;
        let flags = FrameView::parse(&msg).unwrap().header.flags;
        assert!(flags.contains(FrameFlags::RESET_TRACKING));
        assert_eq!(flags.bits(), 0b101);
    }

    #[test]
    fn frame_buffer_reuses_its_allocation() {
        use std::io::Write;
        let mut buffer = FrameBuffer::new();
        let header = FrameHeader::new(3, 9, ImageFormat::Encoded(Codec::Png));
        buffer.write_all(&[7; 100]).unwrap();
        let first = buffer.finish(&header).unwrap().to_vec();
        assert_eq!(first, {
            let mut v = Vec::new();
            header.encode_with_payload(&[7; 100], &mut v).unwrap();
            v
        });
        let capacity = buffer.bytes.capacity();
        buffer.clear();
        buffer.write_all(&[1; 50]).unwrap();
        assert_eq!(buffer.payload(), &[1; 50]);
        buffer.finish(&header).unwrap();
        assert_eq!(buffer.bytes.capacity(), capacity);
    }
}
