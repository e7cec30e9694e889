//! [`Downscaler`]: shrink to a target short side with `fast_image_resize`.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::{ImageError, RgbImage, RgbView};

/// Shrinks images so that their short side is at most a target, keeping the aspect ratio.
/// Owns its output buffer and the resizer's scratch memory, both reused across frames.
///
/// ```
/// use livepose_core::image::{Downscaler, RgbImage};
///
/// let big = RgbImage::from_rgb8(1920, 1080, vec![128; 1920 * 1080 * 3]).unwrap();
/// let mut downscaler = Downscaler::new();
/// let small = downscaler.to_short_side(big.view(), 384).unwrap();
/// assert_eq!((small.width(), small.height()), (683, 384));
/// ```
pub struct Downscaler {
    resizer: Resizer,
    options: ResizeOptions,
    out: RgbImage,
}

impl std::fmt::Debug for Downscaler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downscaler")
            .field("algorithm", &self.options.algorithm)
            .finish()
    }
}

impl Default for Downscaler {
    fn default() -> Self {
        Self::new()
    }
}

impl Downscaler {
    /// A downscaler with an antialiased bilinear filter (convolution).
    pub fn new() -> Self {
        Self::with_algorithm(ResizeAlg::Convolution(FilterType::Bilinear))
    }

    /// A downscaler with another `fast_image_resize` algorithm
    /// (`ResizeAlg::Interpolation(FilterType::Bilinear)` reproduces OpenCV's `INTER_LINEAR`).
    pub fn with_algorithm(algorithm: ResizeAlg) -> Self {
        Downscaler {
            resizer: Resizer::new(),
            options: ResizeOptions::new().resize_alg(algorithm),
            out: RgbImage::new(),
        }
    }

    /// The size `(w, h)` would have with its short side at most `target_short_side`.
    pub fn target_size(w: u32, h: u32, target_short_side: u32) -> (u32, u32) {
        let short = w.min(h);
        if short <= target_short_side || target_short_side == 0 {
            return (w, h);
        }
        let scale = f64::from(target_short_side) / f64::from(short);
        let fit = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
        if w <= h {
            (target_short_side, fit(h))
        } else {
            (fit(w), target_short_side)
        }
    }

    /// `src` with its short side reduced to `target_short_side`; `src` itself (no copy) if it
    /// is already that small.
    pub fn to_short_side<'a>(
        &'a mut self,
        src: RgbView<'a>,
        target_short_side: u32,
    ) -> Result<RgbView<'a>, ImageError> {
        let (w, h) = Self::target_size(src.width(), src.height(), target_short_side);
        if (w, h) == (src.width(), src.height()) {
            return Ok(src);
        }
        let src_image = ImageRef::new(src.width(), src.height(), src.data(), PixelType::U8x3)
            .map_err(|e| ImageError::Resize(e.to_string()))?;
        let buffer = self.out.reset(w, h);
        let mut dst = Image::from_slice_u8(w, h, buffer, PixelType::U8x3)
            .map_err(|e| ImageError::Resize(e.to_string()))?;
        self.resizer
            .resize(&src_image, &mut dst, &self.options)
            .map_err(|e| ImageError::Resize(e.to_string()))?;
        Ok(self.out.view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_sizes() {
        assert_eq!(Downscaler::target_size(640, 480, 384), (512, 384));
        assert_eq!(Downscaler::target_size(1080, 1920, 384), (384, 683));
        assert_eq!(Downscaler::target_size(300, 200, 384), (300, 200));
    }

    #[test]
    fn small_images_pass_through_uncopied() {
        let img = RgbImage::from_rgb8(10, 10, vec![1; 300]).unwrap();
        let mut d = Downscaler::new();
        let out = d.to_short_side(img.view(), 384).unwrap();
        assert!(std::ptr::eq(out.data().as_ptr(), img.data().as_ptr()));
    }

    #[test]
    fn halving_averages_neighbours() {
        // Columns alternate 0 and 200: a 2x downscale averages them to about 100.
        let data: Vec<u8> = (0..8 * 8)
            .flat_map(|i| if i % 2 == 0 { [0u8; 3] } else { [200; 3] })
            .collect();
        let img = RgbImage::from_rgb8(8, 8, data).unwrap();
        let mut d = Downscaler::new();
        let out = d.to_short_side(img.view(), 4).unwrap();
        assert_eq!((out.width(), out.height()), (4, 4));
        // Columns average to 100; the edge columns lean towards their own neighbour (86, 114).
        assert!(
            out.data().iter().all(|v| (80..=120).contains(v)),
            "{:?}",
            out.data()
        );
        let mean = out.data().iter().map(|v| f32::from(*v)).sum::<f32>() / 48.0;
        assert!((mean - 100.0).abs() < 1.0, "{mean}");
    }
}
