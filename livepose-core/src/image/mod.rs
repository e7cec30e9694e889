//! Image operations for the pose models: decode, downscale, letterbox, rotated crop.
//!
//! - [`ImageDecoder`] decodes JPEG (zune-jpeg, or libjpeg-turbo with the `turbojpeg`
//!   feature), PNG and WebP into an RGB8 [`RgbImage`] that is reused across frames, and
//!   refuses images whose declared size exceeds a pixel limit *before* decoding
//!   (decompression bombs).
//! - [`Downscaler`] shrinks an image to a target short side with `fast_image_resize`.
//! - [`draw_poses`] draws skeletons onto a frame and [`encode_jpeg`] encodes it: the
//!   server's annotated streams, for viewers that cannot draw.
//! - [`crop_rotated`] samples a rotated rectangle of the full-resolution image into an
//!   NxN RGB float tensor (bilinear, with a chosen value range and border) — the operation the
//!   pose detector (via [`letterbox`]) and the landmark model need.
//!
//! ```
//! use livepose_core::image::{crop_rotated, Border, RgbImage, RotatedRect, TensorSpec};
//!
//! let image = RgbImage::from_rgb8(4, 2, vec![255; 4 * 2 * 3]).unwrap();
//! let spec = TensorSpec { size: 8, range: (0.0, 1.0), border: Border::Replicate };
//! let mut tensor = Vec::new();
//! let rect = RotatedRect::new(2.0, 1.0, 4.0, 4.0, 0.3);
//! crop_rotated(image.view(), &rect, &spec, &mut tensor);
//! assert_eq!(tensor.len(), 8 * 8 * 3);
//! assert!(tensor.iter().all(|v| (*v - 1.0).abs() < 1e-6));
//! ```

mod crop;
mod decode;
mod draw;
mod encode;
mod jpeg_split;
mod resize;

pub use crop::{crop_rotated, letterbox, letterbox_rect, Border, RotatedRect, TensorSpec};
pub use decode::{DecoderConfig, ImageDecoder, JpegBackend};
pub use draw::{draw_poses, DrawStyle, HAND_CONNECTIONS, POSE_CONNECTIONS};
pub use encode::encode_jpeg;
pub use jpeg_split::JpegSplitter;
pub use resize::Downscaler;

use crate::error_code::ErrorCode;

/// A compressed image format: a still image, or an H.264 access unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP (lossy or lossless).
    Webp,
    /// One H.264 access unit in Annex B form (protocol frame format 6): a picture that may
    /// depend on the ones before it, decoded in order by
    /// [`H264Decoder`](crate::video) (feature `h264`), never by [`ImageDecoder`] (which
    /// does not recognise it: [`sniff`](Self::sniff) gives `None`).
    H264,
}

impl Codec {
    /// Recognises the format from the first bytes.
    ///
    /// ```
    /// use livepose_core::image::Codec;
    /// assert_eq!(Codec::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Codec::Jpeg));
    /// assert_eq!(Codec::sniff(b"GIF89a"), None);
    /// ```
    pub fn sniff(bytes: &[u8]) -> Option<Codec> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Codec::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Codec::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Codec::Webp)
        } else {
            None
        }
    }

    /// The MIME type.
    pub fn mime(self) -> &'static str {
        match self {
            Codec::Jpeg => "image/jpeg",
            Codec::Png => "image/png",
            Codec::Webp => "image/webp",
            Codec::H264 => "video/h264",
        }
    }

    /// Whether this is a video codec, whose frames are decoded in order by one stream's
    /// decoder rather than each on its own.
    pub fn is_video(self) -> bool {
        self == Codec::H264
    }

    /// The image codec of a MIME type (`image/jpg` is accepted for JPEG; `video/h264` is
    /// not an image and gives `None`).
    pub fn from_mime(mime: &str) -> Option<Codec> {
        match mime.trim().to_ascii_lowercase().as_str() {
            "image/jpeg" | "image/jpg" => Some(Codec::Jpeg),
            "image/png" => Some(Codec::Png),
            "image/webp" => Some(Codec::Webp),
            _ => None,
        }
    }
}

/// Channel layout of raw pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PixelLayout {
    /// 3 bytes per pixel: red, green, blue.
    Rgb8,
    /// 4 bytes per pixel: red, green, blue, alpha (alpha is ignored).
    Rgba8,
}

impl PixelLayout {
    /// Bytes per pixel.
    pub const fn bytes_per_pixel(self) -> usize {
        match self {
            PixelLayout::Rgb8 => 3,
            PixelLayout::Rgba8 => 4,
        }
    }
}

/// Why an image operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// The declared dimensions exceed the pixel limit; nothing was decoded.
    #[error("image of {width}x{height} pixels exceeds the limit of {max_pixels} pixels")]
    TooLarge {
        /// Declared width.
        width: u64,
        /// Declared height.
        height: u64,
        /// The limit.
        max_pixels: u64,
    },
    /// Zero or unrepresentable dimensions.
    #[error("invalid image dimensions {width}x{height}")]
    BadDimensions {
        /// Width.
        width: u64,
        /// Height.
        height: u64,
    },
    /// The bytes are not a JPEG, PNG or WebP image.
    #[error("unrecognised image format (expected JPEG, PNG or WebP)")]
    UnknownFormat,
    /// The codec rejected the bytes (corrupt or truncated image).
    #[error("corrupt {codec} image: {message}")]
    Corrupt {
        /// The codec's name.
        codec: &'static str,
        /// The codec's explanation.
        message: String,
    },
    /// A pixel buffer's length does not match its dimensions.
    #[error("pixel buffer of {actual} bytes, {expected} expected")]
    BufferSize {
        /// Bytes expected.
        expected: u64,
        /// Bytes given.
        actual: u64,
    },
    /// Resizing failed.
    #[error("resize failed: {0}")]
    Resize(String),
}

impl ImageError {
    /// The code of the `error` control message that reports it (docs/protocol.md §8):
    /// `image_too_large` for an image over the pixel limit, `bad_image` for the rest.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ImageError::TooLarge { .. } => ErrorCode::ImageTooLarge,
            _ => ErrorCode::BadImage,
        }
    }
}

/// Bytes a reused buffer may hold beyond twice what the current frame needs before it is
/// given back.
const BUFFER_SLACK: usize = 4 << 20;

/// Resizes a reused frame buffer to `len` bytes. Its allocation is kept from frame to
/// frame, except when it is more than twice `len` plus [`BUFFER_SLACK`]: then it is freed
/// and one of `len` bytes made, so that one huge frame does not pin its size for the life
/// of a stream.
pub(crate) fn fit_buffer(buffer: &mut Vec<u8>, len: usize) {
    if buffer.capacity() > 2 * len + BUFFER_SLACK {
        *buffer = Vec::with_capacity(len);
    }
    buffer.resize(len, 0);
}

/// An RGB8 image that owns its pixels; reused across frames, its buffer grows to the
/// largest frame and is given back after a frame far larger than the current one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RgbImage {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl RgbImage {
    /// An empty image (0x0).
    pub fn new() -> Self {
        Self::default()
    }

    /// An image from packed RGB8 rows.
    pub fn from_rgb8(width: u32, height: u32, data: Vec<u8>) -> Result<Self, ImageError> {
        check_len(width, height, 3, data.len())?;
        Ok(RgbImage {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Packed RGB8 rows.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The pixels, giving the image up (its buffer, for reuse).
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// A borrowed view.
    pub fn view(&self) -> RgbView<'_> {
        RgbView {
            width: self.width,
            height: self.height,
            data: &self.data,
        }
    }

    /// Sets the size and returns the pixel buffer to fill (contents unspecified). Reuses the
    /// allocation when it is large enough, and gives it back when it is far larger than
    /// needed ([`fit_buffer`]).
    pub(crate) fn reset(&mut self, width: u32, height: u32) -> &mut [u8] {
        self.width = width;
        self.height = height;
        fit_buffer(&mut self.data, width as usize * height as usize * 3);
        &mut self.data
    }

    /// Copies raw pixels (RGB8 or RGBA8, alpha dropped) into this image.
    pub fn copy_from_raw(
        &mut self,
        layout: PixelLayout,
        width: u32,
        height: u32,
        pixels: &[u8],
    ) -> Result<(), ImageError> {
        check_len(width, height, layout.bytes_per_pixel(), pixels.len())?;
        let out = self.reset(width, height);
        match layout {
            PixelLayout::Rgb8 => out.copy_from_slice(pixels),
            PixelLayout::Rgba8 => {
                for (dst, src) in out.chunks_exact_mut(3).zip(pixels.chunks_exact(4)) {
                    dst.copy_from_slice(&src[..3]);
                }
            }
        }
        Ok(())
    }
}

fn check_len(width: u32, height: u32, bpp: usize, actual: usize) -> Result<(), ImageError> {
    let expected = u64::from(width)
        .saturating_mul(u64::from(height))
        .saturating_mul(bpp as u64);
    if width == 0 || height == 0 {
        return Err(ImageError::BadDimensions {
            width: width.into(),
            height: height.into(),
        });
    }
    if expected != actual as u64 {
        return Err(ImageError::BufferSize {
            expected,
            actual: actual as u64,
        });
    }
    Ok(())
}

/// A borrowed RGB8 image: packed rows, `data.len() == width * height * 3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RgbView<'a> {
    width: u32,
    height: u32,
    data: &'a [u8],
}

impl<'a> RgbView<'a> {
    /// A view of packed RGB8 rows.
    pub fn new(width: u32, height: u32, data: &'a [u8]) -> Result<Self, ImageError> {
        check_len(width, height, 3, data.len())?;
        Ok(RgbView {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Packed RGB8 rows.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniff_and_mime() {
        assert_eq!(Codec::sniff(b"\x89PNG\r\n\x1a\nrest"), Some(Codec::Png));
        assert_eq!(Codec::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(Codec::Webp));
        assert_eq!(Codec::sniff(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(Codec::sniff(&[]), None);
        for codec in [Codec::Jpeg, Codec::Png, Codec::Webp] {
            assert_eq!(Codec::from_mime(codec.mime()), Some(codec));
        }
        assert_eq!(Codec::from_mime("IMAGE/JPG"), Some(Codec::Jpeg));
    }

    #[test]
    fn a_huge_frame_does_not_pin_its_buffer() {
        // Regression: a 6000x6000 frame left its 108 MB buffer for the life of the stream.
        let mut img = RgbImage::new();
        img.reset(6000, 6000);
        assert!(img.data.capacity() >= 6000 * 6000 * 3);
        img.reset(640, 480);
        assert_eq!(img.data().len(), 640 * 480 * 3);
        assert!(img.data.capacity() < 2 * 640 * 480 * 3 + BUFFER_SLACK);
        // Ordinary frames keep their allocation.
        let before = img.data.as_ptr();
        img.reset(600, 480);
        img.reset(640, 480);
        assert_eq!(img.data.as_ptr(), before);
    }

    #[test]
    fn raw_copy_drops_alpha_and_checks_length() {
        let mut img = RgbImage::new();
        img.copy_from_raw(PixelLayout::Rgba8, 2, 1, &[1, 2, 3, 255, 4, 5, 6, 255])
            .unwrap();
        assert_eq!(img.data(), &[1, 2, 3, 4, 5, 6]);
        assert_eq!(
            img.copy_from_raw(PixelLayout::Rgb8, 2, 1, &[0; 5]),
            Err(ImageError::BufferSize {
                expected: 6,
                actual: 5
            })
        );
        assert!(matches!(
            RgbView::new(0, 5, &[]),
            Err(ImageError::BadDimensions { .. })
        ));
    }
}
