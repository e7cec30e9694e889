//! JPEG encoding of RGB frames (`jpeg-encoder`, SIMD where the CPU has it): what the
//! server's annotated streams send.

use super::{ImageError, RgbView};

/// Encodes `image` as a baseline JPEG of `quality` (1–100, clamped) into `out` (cleared
/// first; its allocation is reused).
///
/// ```
/// use livepose_core::image::{encode_jpeg, Codec, RgbImage};
///
/// let image = RgbImage::from_rgb8(16, 8, vec![128; 16 * 8 * 3]).unwrap();
/// let mut jpeg = Vec::new();
/// encode_jpeg(image.view(), 80, &mut jpeg).unwrap();
/// assert_eq!(Codec::sniff(&jpeg), Some(Codec::Jpeg));
/// ```
pub fn encode_jpeg(image: RgbView<'_>, quality: u8, out: &mut Vec<u8>) -> Result<(), ImageError> {
    let too_large = || ImageError::BadDimensions {
        width: image.width().into(),
        height: image.height().into(),
    };
    let width = u16::try_from(image.width()).map_err(|_| too_large())?;
    let height = u16::try_from(image.height()).map_err(|_| too_large())?;
    out.clear();
    jpeg_encoder::Encoder::new(&mut *out, quality.clamp(1, 100))
        .encode(image.data(), width, height, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| ImageError::Corrupt {
            codec: "JPEG encoder",
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{DecoderConfig, ImageDecoder, RgbImage};

    #[test]
    fn what_is_encoded_decodes_to_nearly_the_same_pixels() {
        let data: Vec<u8> = (0..64 * 48)
            .flat_map(|i| {
                let (x, y) = ((i % 64) as u8, (i / 64) as u8);
                [x * 4, y * 5, 100]
            })
            .collect();
        let image = RgbImage::from_rgb8(64, 48, data).unwrap();
        let mut jpeg = vec![1, 2, 3];
        encode_jpeg(image.view(), 90, &mut jpeg).unwrap();
        let mut decoded = RgbImage::new();
        ImageDecoder::new(DecoderConfig::default())
            .decode(&jpeg, &mut decoded)
            .unwrap();
        assert_eq!((decoded.width(), decoded.height()), (64, 48));
        let error: f64 = image
            .data()
            .iter()
            .zip(decoded.data())
            .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
            .sum::<f64>()
            / image.data().len() as f64;
        assert!(error < 4.0, "mean absolute error {error}");
    }

    #[test]
    fn an_image_too_wide_for_jpeg_is_refused() {
        let image = RgbImage::from_rgb8(70_000, 1, vec![0; 70_000 * 3]).unwrap();
        assert!(matches!(
            encode_jpeg(image.view(), 80, &mut Vec::new()),
            Err(ImageError::BadDimensions { .. })
        ));
    }
}
