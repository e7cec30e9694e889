//! [`ImageDecoder`]: JPEG / PNG / WebP to RGB8, with a pixel limit checked before decoding.

use std::io::Cursor;

use image::ImageDecoder as _;
use zune_core::bytestream::ZCursor;
use zune_core::colorspace::ColorSpace;
use zune_core::options::DecoderOptions;

use super::{Codec, ImageError, RgbImage};

/// Which library decodes JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JpegBackend {
    /// zune-jpeg (pure Rust; the `image` crate's JPEG decoder). The default.
    #[default]
    Zune,
    /// libjpeg-turbo through the `turbojpeg` crate (feature `turbojpeg`, links the system
    /// library).
    #[cfg(feature = "turbojpeg")]
    TurboJpeg,
}

impl JpegBackend {
    /// Every backend compiled into this build: `[Zune]`, plus `TurboJpeg` with the
    /// `turbojpeg` feature.
    pub const AVAILABLE: &'static [JpegBackend] = &[
        JpegBackend::Zune,
        #[cfg(feature = "turbojpeg")]
        JpegBackend::TurboJpeg,
    ];
}

/// Configuration of an [`ImageDecoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Largest accepted image in pixels (width x height), checked from the header before any
    /// pixel is decoded. Default: 16 megapixels (4096 x 4096).
    pub max_pixels: u64,
    /// JPEG decoder.
    pub jpeg: JpegBackend,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            max_pixels: 4096 * 4096,
            jpeg: JpegBackend::default(),
        }
    }
}

impl DecoderConfig {
    /// Sets the pixel limit.
    pub fn max_pixels(mut self, max_pixels: u64) -> Self {
        self.max_pixels = max_pixels;
        self
    }

    /// Sets the JPEG backend.
    pub fn jpeg(mut self, backend: JpegBackend) -> Self {
        self.jpeg = backend;
        self
    }
}

/// Decodes compressed images into a reused [`RgbImage`].
///
/// ```
/// use livepose_core::image::{DecoderConfig, ImageDecoder, ImageError, RgbImage};
///
/// let mut decoder = ImageDecoder::new(DecoderConfig::default().max_pixels(100));
/// let mut image = RgbImage::new();
/// // A PNG header that claims 1000 x 1000 pixels is refused before decoding.
/// let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
/// png.extend_from_slice(&1000u32.to_be_bytes());
/// png.extend_from_slice(&1000u32.to_be_bytes());
/// png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
/// assert!(matches!(decoder.decode(&png, &mut image), Err(ImageError::TooLarge { .. })));
/// ```
pub struct ImageDecoder {
    config: DecoderConfig,
    /// Decoded samples of non-RGB8 PNG/WebP images before conversion.
    scratch: Vec<u8>,
    #[cfg(feature = "turbojpeg")]
    turbo: Option<turbojpeg::Decompressor>,
}

impl std::fmt::Debug for ImageDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImageDecoder")
            .field("config", &self.config)
            .finish()
    }
}

impl Default for ImageDecoder {
    fn default() -> Self {
        Self::new(DecoderConfig::default())
    }
}

fn corrupt(codec: Codec, message: impl std::fmt::Display) -> ImageError {
    ImageError::Corrupt {
        codec: match codec {
            Codec::Jpeg => "JPEG",
            Codec::Png => "PNG",
            Codec::Webp => "WebP",
            Codec::H264 => "H.264",
        },
        message: message.to_string(),
    }
}

impl ImageDecoder {
    /// A decoder with `config`.
    pub fn new(config: DecoderConfig) -> Self {
        ImageDecoder {
            config,
            scratch: Vec::new(),
            #[cfg(feature = "turbojpeg")]
            turbo: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> DecoderConfig {
        self.config
    }

    /// Reads the dimensions from the header only, after recognising the format.
    pub fn dimensions(&self, bytes: &[u8]) -> Result<(u32, u32), ImageError> {
        let codec = Codec::sniff(bytes).ok_or(ImageError::UnknownFormat)?;
        let (w, h) = match codec {
            Codec::Jpeg => {
                let mut decoder = zune_decoder(bytes, self.config.max_pixels);
                decoder.decode_headers().map_err(|e| corrupt(codec, e))?;
                let (w, h) = decoder
                    .dimensions()
                    .ok_or_else(|| corrupt(codec, "no frame header"))?;
                (w as u64, h as u64)
            }
            Codec::Png | Codec::Webp | Codec::H264 => {
                let (w, h) = image_decoder(codec, bytes)?.dimensions();
                (u64::from(w), u64::from(h))
            }
        };
        Ok((w as u32, h as u32))
    }

    /// Decodes `bytes` (format recognised from its first bytes) into `out`.
    ///
    /// Fails with [`ImageError::TooLarge`] before decoding any pixel if the header declares
    /// more than [`DecoderConfig::max_pixels`].
    pub fn decode(&mut self, bytes: &[u8], out: &mut RgbImage) -> Result<(), ImageError> {
        match Codec::sniff(bytes).ok_or(ImageError::UnknownFormat)? {
            Codec::Jpeg => self.decode_jpeg(bytes, out),
            codec => self.decode_with_image(codec, bytes, out),
        }
    }

    fn decode_jpeg(&mut self, bytes: &[u8], out: &mut RgbImage) -> Result<(), ImageError> {
        match self.config.jpeg {
            JpegBackend::Zune => {
                let mut decoder = zune_decoder(bytes, self.config.max_pixels);
                decoder
                    .decode_headers()
                    .map_err(|e| corrupt(Codec::Jpeg, e))?;
                let (w, h) = decoder
                    .dimensions()
                    .ok_or_else(|| corrupt(Codec::Jpeg, "no frame header"))?;
                check_size(self.config.max_pixels, w as u64, h as u64)?;
                let buffer = out.reset(w as u32, h as u32);
                decoder
                    .decode_into(buffer)
                    .map_err(|e| corrupt(Codec::Jpeg, e))
            }
            #[cfg(feature = "turbojpeg")]
            JpegBackend::TurboJpeg => self.decode_turbojpeg(bytes, out),
        }
    }

    #[cfg(feature = "turbojpeg")]
    fn decode_turbojpeg(&mut self, bytes: &[u8], out: &mut RgbImage) -> Result<(), ImageError> {
        let turbo = match &mut self.turbo {
            Some(turbo) => turbo,
            slot => {
                slot.insert(turbojpeg::Decompressor::new().map_err(|e| corrupt(Codec::Jpeg, e))?)
            }
        };
        let header = turbo
            .read_header(bytes)
            .map_err(|e| corrupt(Codec::Jpeg, e))?;
        check_size(
            self.config.max_pixels,
            header.width as u64,
            header.height as u64,
        )?;
        let (width, height) = (header.width, header.height);
        let pixels = out.reset(width as u32, height as u32);
        let image = turbojpeg::Image {
            pixels,
            width,
            pitch: width * 3,
            height,
            format: turbojpeg::PixelFormat::RGB,
        };
        turbo
            .decompress(bytes, image)
            .map_err(|e| corrupt(Codec::Jpeg, e))
    }

    fn decode_with_image(
        &mut self,
        codec: Codec,
        bytes: &[u8],
        out: &mut RgbImage,
    ) -> Result<(), ImageError> {
        // PNG: check the IHDR dimensions before the decoder even validates the header.
        if let Some((w, h)) = png_ihdr_dimensions(bytes) {
            check_size(self.config.max_pixels, w.into(), h.into())?;
        }
        let decoder = image_decoder(codec, bytes)?;
        let (w, h) = decoder.dimensions();
        check_size(self.config.max_pixels, u64::from(w), u64::from(h))?;
        let color = decoder.color_type();
        let total = usize::try_from(decoder.total_bytes())
            .map_err(|_| corrupt(codec, "image too large for memory"))?;
        let buffer = out.reset(w, h);
        if color == image::ColorType::Rgb8 {
            return decoder
                .read_image_boxed(buffer)
                .map_err(|e| corrupt(codec, e));
        }
        super::fit_buffer(&mut self.scratch, total);
        decoder
            .read_image_boxed(&mut self.scratch)
            .map_err(|e| corrupt(codec, e))?;
        to_rgb8(color, &self.scratch, buffer)
            .ok_or_else(|| corrupt(codec, format!("unsupported colour type {color:?}")))
    }
}

/// Width and height from a PNG's IHDR chunk (bytes 16..24, big-endian), if present.
fn png_ihdr_dimensions(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let be = |at: usize| Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    Some((be(16)?, be(20)?))
}

/// Checks declared dimensions against the pixel limit.
fn check_size(max_pixels: u64, width: u64, height: u64) -> Result<(), ImageError> {
    if width == 0 || height == 0 || width > u64::from(u32::MAX) || height > u64::from(u32::MAX) {
        return Err(ImageError::BadDimensions { width, height });
    }
    if width * height > max_pixels {
        return Err(ImageError::TooLarge {
            width,
            height,
            max_pixels,
        });
    }
    Ok(())
}

fn zune_decoder(bytes: &[u8], max_pixels: u64) -> zune_jpeg::JpegDecoder<ZCursor<&[u8]>> {
    // zune's own per-side limit is set generously; the real check is max_pixels on the area.
    let side = usize::try_from(max_pixels.min(1 << 30)).unwrap_or(usize::MAX);
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_strict_mode(true)
        .set_max_width(side)
        .set_max_height(side);
    zune_jpeg::JpegDecoder::new_with_options(ZCursor::new(bytes), options)
}

/// The `image` crate's decoder for `codec` (PNG or WebP); reads the header only.
fn image_decoder<'a>(
    codec: Codec,
    bytes: &'a [u8],
) -> Result<Box<dyn image::ImageDecoder + 'a>, ImageError> {
    let cursor = Cursor::new(bytes);
    Ok(match codec {
        Codec::Png => {
            Box::new(image::codecs::png::PngDecoder::new(cursor).map_err(|e| corrupt(codec, e))?)
        }
        Codec::Webp => {
            Box::new(image::codecs::webp::WebPDecoder::new(cursor).map_err(|e| corrupt(codec, e))?)
        }
        Codec::Jpeg => return Err(corrupt(codec, "JPEG is decoded by zune-jpeg")),
        Codec::H264 => {
            return Err(corrupt(
                codec,
                "an H.264 access unit is decoded by a stream's video::H264Decoder",
            ))
        }
    })
}

/// Converts decoded samples of colour type `color` to packed RGB8; `None` if unsupported.
fn to_rgb8(color: image::ColorType, samples: &[u8], out: &mut [u8]) -> Option<()> {
    use image::ColorType as C;
    let (channels, bytes_per_sample) = match color {
        C::L8 => (1, 1),
        C::La8 => (2, 1),
        C::Rgb8 => (3, 1),
        C::Rgba8 => (4, 1),
        C::L16 => (1, 2),
        C::La16 => (2, 2),
        C::Rgb16 => (3, 2),
        C::Rgba16 => (4, 2),
        _ => return None,
    };
    let pixel_bytes = channels * bytes_per_sample;
    // 16-bit samples are native-endian; keep the high byte.
    let sample = |px: &[u8], c: usize| -> u8 {
        if bytes_per_sample == 1 {
            px[c]
        } else {
            (u16::from_ne_bytes([px[2 * c], px[2 * c + 1]]) >> 8) as u8
        }
    };
    for (dst, px) in out
        .chunks_exact_mut(3)
        .zip(samples.chunks_exact(pixel_bytes))
    {
        if channels < 3 {
            dst.fill(sample(px, 0));
        } else {
            dst[0] = sample(px, 0);
            dst[1] = sample(px, 1);
            dst[2] = sample(px, 2);
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_png(color: image::ExtendedColorType, w: u32, h: u32, data: &[u8]) -> Vec<u8> {
        use image::ImageEncoder;
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(data, w, h, color)
            .unwrap();
        out
    }

    #[test]
    fn png_colour_types_become_rgb8() {
        let mut decoder = ImageDecoder::default();
        let mut out = RgbImage::new();
        let gray = encode_png(image::ExtendedColorType::L8, 2, 1, &[10, 200]);
        decoder.decode(&gray, &mut out).unwrap();
        assert_eq!(out.data(), &[10, 10, 10, 200, 200, 200]);
        let rgba = encode_png(image::ExtendedColorType::Rgba8, 1, 1, &[1, 2, 3, 4]);
        decoder.decode(&rgba, &mut out).unwrap();
        assert_eq!(
            (out.width(), out.height(), out.data()),
            (1, 1, &[1u8, 2, 3][..])
        );
        let rgb16: Vec<u8> = [0x1234u16, 0xABCD, 0xFFFF]
            .iter()
            .flat_map(|v| v.to_ne_bytes()) // the encoder takes native-endian samples
            .collect();
        let png16 = encode_png(image::ExtendedColorType::Rgb16, 1, 1, &rgb16);
        decoder.decode(&png16, &mut out).unwrap();
        assert_eq!(out.data(), &[0x12, 0xAB, 0xFF]);
        assert_eq!(decoder.dimensions(&png16).unwrap(), (1, 1));
    }

    #[test]
    fn corrupt_and_unknown_inputs_are_errors() {
        let mut decoder = ImageDecoder::default();
        let mut out = RgbImage::new();
        assert_eq!(
            decoder.decode(b"GIF89a....", &mut out),
            Err(ImageError::UnknownFormat)
        );
        assert!(matches!(
            decoder.decode(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0], &mut out),
            Err(ImageError::Corrupt { codec: "JPEG", .. })
        ));
        let png = encode_png(image::ExtendedColorType::Rgb8, 4, 4, &[7; 48]);
        assert!(matches!(
            decoder.decode(&png[..png.len() - 20], &mut out),
            Err(ImageError::Corrupt { codec: "PNG", .. })
        ));
        assert!(matches!(
            decoder.decode(b"RIFF\x10\0\0\0WEBPVP8 garbage", &mut out),
            Err(ImageError::Corrupt { codec: "WebP", .. })
        ));
    }

    #[test]
    fn pixel_limit_applies_to_every_codec() {
        let mut decoder = ImageDecoder::new(DecoderConfig::default().max_pixels(15));
        let mut out = RgbImage::new();
        let png = encode_png(image::ExtendedColorType::Rgb8, 4, 4, &[7; 48]);
        assert_eq!(
            decoder.decode(&png, &mut out),
            Err(ImageError::TooLarge {
                width: 4,
                height: 4,
                max_pixels: 15
            })
        );
    }
}
