//! Rotated crop into a model tensor, and letterboxing (a crop with no rotation).
//!
//! The geometry is OpenCV's `warpPerspective` as MediaPipe's `ImageToTensorCalculator` uses
//! it: the corners of the rotated rectangle (in pixel coordinates, pixel `i` centred on `i`)
//! map onto the corners `0..N` of the output, and output pixel `(u, v)` samples the source at
//! `centre + R(rotation) * (u * w / N - w / 2, v * h / N - h / 2)` with bilinear interpolation.

use super::RgbView;

/// A rectangle rotated about its centre, in source-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    /// Centre x in pixels.
    pub center_x: f32,
    /// Centre y in pixels.
    pub center_y: f32,
    /// Width in pixels.
    pub width: f32,
    /// Height in pixels.
    pub height: f32,
    /// Rotation in radians; positive turns the rectangle clockwise on screen (y points down),
    /// as MediaPipe's `NormalizedRect::rotation`.
    pub rotation: f32,
}

impl RotatedRect {
    /// A rectangle.
    pub fn new(center_x: f32, center_y: f32, width: f32, height: f32, rotation: f32) -> Self {
        RotatedRect {
            center_x,
            center_y,
            width,
            height,
            rotation,
        }
    }

    /// Maps a point given in the rectangle's own normalised frame (`u`, `v` in 0..1 across
    /// its width and height, before rotation) to source-image pixels. This is how landmarks
    /// predicted on a crop go back to the frame.
    ///
    /// ```
    /// use livepose_core::image::RotatedRect;
    /// let rect = RotatedRect::new(100.0, 50.0, 40.0, 20.0, std::f32::consts::FRAC_PI_2);
    /// let (x, y) = rect.project(1.0, 0.5); // middle of the right edge
    /// assert!((x - 100.0).abs() < 1e-4 && (y - 70.0).abs() < 1e-4);
    /// ```
    pub fn project(&self, u: f32, v: f32) -> (f32, f32) {
        let (sin, cos) = self.rotation.sin_cos();
        let lx = (u - 0.5) * self.width;
        let ly = (v - 0.5) * self.height;
        (
            self.center_x + lx * cos - ly * sin,
            self.center_y + lx * sin + ly * cos,
        )
    }
}

/// What the crop samples outside the source image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Border {
    /// Pixel value 0 (black), mapped through the value range like any pixel.
    #[default]
    Zero,
    /// The nearest edge pixel.
    Replicate,
}

/// The tensor a crop produces: `size x size x 3` floats, rows top to bottom, RGB interleaved
/// (NHWC without the batch dimension).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TensorSpec {
    /// Side length in pixels.
    pub size: usize,
    /// Value of pixel 0 and of pixel 255: `(0.0, 1.0)` or `(-1.0, 1.0)` for the pose models.
    pub range: (f32, f32),
    /// Sampling outside the image.
    pub border: Border,
}

/// Samples `rect` of `src` into `out` (resized to `size * size * 3`, allocation reused).
pub fn crop_rotated(src: RgbView<'_>, rect: &RotatedRect, spec: &TensorSpec, out: &mut Vec<f32>) {
    let n = spec.size;
    out.resize(n * n * 3, 0.0);
    if n == 0 {
        return;
    }
    let sampler = Sampler::new(src, spec);
    let (sin, cos) = rect.rotation.sin_cos();
    let (step_x, step_y) = (rect.width / n as f32, rect.height / n as f32);
    // Source position of output pixel (0, 0), and the steps along an output row and column.
    let (half_w, half_h) = (rect.width * 0.5, rect.height * 0.5);
    let origin_x = rect.center_x - half_w * cos + half_h * sin;
    let origin_y = rect.center_y - half_w * sin - half_h * cos;
    let (du_x, du_y) = (cos * step_x, sin * step_x);
    let (dv_x, dv_y) = (-sin * step_y, cos * step_y);
    let (step_ux, step_uy) = (to_fixed(du_x), to_fixed(du_y));
    for (v, row) in out.chunks_exact_mut(n * 3).enumerate() {
        let (row_x, row_y) = (origin_x + v as f32 * dv_x, origin_y + v as f32 * dv_y);
        match (to_fixed(row_x), to_fixed(row_y), step_ux, step_uy) {
            // The common case: walk the row in 16.16 fixed point, no float-to-int per pixel.
            (Some(x0), Some(y0), Some(dx), Some(dy)) => {
                for (u, px) in row.chunks_exact_mut(3).enumerate() {
                    let u = u as i64;
                    px.copy_from_slice(&sampler.sample(x0 + u * dx, y0 + u * dy));
                }
            }
            // Non-finite or astronomically large coordinates: every sample is border.
            _ => {
                for px in row.chunks_exact_mut(3) {
                    px.copy_from_slice(&sampler.sample(i64::MIN / 2, i64::MIN / 2));
                }
            }
        }
    }
}

/// Fractional bits of the fixed-point sample positions.
const FIXED_BITS: u32 = 16;

/// `v` in 16.16 fixed point, if finite and within a billion pixels.
fn to_fixed(v: f32) -> Option<i64> {
    (v.is_finite() && v.abs() < 1e9)
        .then(|| (f64::from(v) * f64::from(1u32 << FIXED_BITS)).round() as i64)
}

/// Fits the whole of `src` into a square tensor, centred, keeping its aspect ratio, the rest
/// filled by `spec.border` (MediaPipe's `keep_aspect_ratio`). Returns the rectangle sampled,
/// whose [`RotatedRect::project`] maps tensor coordinates back to the image.
pub fn letterbox(src: RgbView<'_>, spec: &TensorSpec, out: &mut Vec<f32>) -> RotatedRect {
    let rect = letterbox_rect(src.width(), src.height());
    crop_rotated(src, &rect, spec, out);
    rect
}

/// The square that [`letterbox`] samples: centred on a `width` x `height` image, side the
/// longer edge.
pub fn letterbox_rect(width: u32, height: u32) -> RotatedRect {
    let (w, h) = (width as f32, height as f32);
    let side = w.max(h);
    RotatedRect::new(w * 0.5, h * 0.5, side, side, 0.0)
}

/// Fixed-point one of the interpolation weights: positions are rounded to 1/32 pixel and the
/// result to a whole 8-bit value, exactly as OpenCV's `warpPerspective` with `INTER_LINEAR`
/// (`INTER_BITS = 5`), which MediaPipe uses for its model inputs.
const ONE: i32 = 1 << 5;

/// Bilinear sampling of an RGB8 image into the tensor's value range.
struct Sampler<'a> {
    data: &'a [u8],
    width: i64,
    height: i64,
    scale: f32,
    offset: f32,
    border: Border,
}

impl<'a> Sampler<'a> {
    fn new(src: RgbView<'a>, spec: &TensorSpec) -> Self {
        Sampler {
            data: src.data(),
            width: i64::from(src.width()),
            height: i64::from(src.height()),
            scale: (spec.range.1 - spec.range.0) / 255.0,
            offset: spec.range.0,
            border: spec.border,
        }
    }

    /// Bilinear sample at the 16.16 fixed-point position `(x, y)`, rounded to 1/32 pixel,
    /// as an 8-bit value mapped into the value range.
    #[inline(always)]
    fn sample(&self, x: i64, y: i64) -> [f32; 3] {
        let shift = FIXED_BITS - ONE.trailing_zeros();
        let half = 1i64 << (shift - 1);
        let (x, y) = ((x + half) >> shift, (y + half) >> shift);
        let bits = ONE.trailing_zeros();
        let (ix, iy) = (x >> bits, y >> bits);
        let wx = (x & i64::from(ONE - 1)) as i32;
        let wy = (y & i64::from(ONE - 1)) as i32;
        let inside = ix >= 0 && iy >= 0 && ix + 1 < self.width && iy + 1 < self.height;
        if inside {
            let at = ((iy * self.width + ix) * 3) as usize;
            let below = at + (self.width * 3) as usize;
            if let (Some(top), Some(bottom)) =
                (self.data.get(at..at + 6), self.data.get(below..below + 6))
            {
                let px = |s: &[u8], i: usize| [s[i], s[i + 1], s[i + 2]];
                return self.mix(px(top, 0), px(top, 3), px(bottom, 0), px(bottom, 3), wx, wy);
            }
        }
        let (p00, p01) = (self.pixel(ix, iy), self.pixel(ix.saturating_add(1), iy));
        let (p10, p11) = (
            self.pixel(ix, iy.saturating_add(1)),
            self.pixel(ix.saturating_add(1), iy.saturating_add(1)),
        );
        self.mix(p00, p01, p10, p11, wx, wy)
    }

    #[inline(always)]
    fn mix(
        &self,
        p00: [u8; 3],
        p01: [u8; 3],
        p10: [u8; 3],
        p11: [u8; 3],
        wx: i32,
        wy: i32,
    ) -> [f32; 3] {
        let mut acc = [0i32; 3];
        for c in 0..3 {
            let t = i32::from(p00[c]) * (ONE - wx) + i32::from(p01[c]) * wx;
            let b = i32::from(p10[c]) * (ONE - wx) + i32::from(p11[c]) * wx;
            acc[c] = t * (ONE - wy) + b * wy;
        }
        self.finish(acc)
    }

    /// Rounds fixed-point samples (pixel value x ONE x ONE) to 8 bits, as OpenCV does, and
    /// maps them into the value range.
    #[inline(always)]
    fn finish(&self, acc: [i32; 3]) -> [f32; 3] {
        let round = (ONE * ONE) / 2;
        let shift = 2 * ONE.trailing_zeros();
        acc.map(|v| ((v + round) >> shift) as f32 * self.scale + self.offset)
    }

    /// The pixel at `(x, y)`, or the border's value outside the image.
    fn pixel(&self, x: i64, y: i64) -> [u8; 3] {
        let (x, y) = match self.border {
            Border::Zero => {
                if x < 0 || y < 0 || x >= self.width || y >= self.height {
                    return [0; 3];
                }
                (x, y)
            }
            Border::Replicate => (x.clamp(0, self.width - 1), y.clamp(0, self.height - 1)),
        };
        let at = ((y * self.width + x) * 3) as usize;
        match self.data.get(at..at + 3) {
            Some(p) => [p[0], p[1], p[2]],
            None => [0; 3],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::RgbImage;
    use std::f32::consts::{FRAC_PI_2, PI};

    fn gradient(w: u32, h: u32) -> RgbImage {
        let data = (0..h)
            .flat_map(|y| {
                (0..w).flat_map(move |x| {
                    [
                        (x * 7 % 256) as u8,
                        (y * 11 % 256) as u8,
                        ((x + y) % 256) as u8,
                    ]
                })
            })
            .collect();
        RgbImage::from_rgb8(w, h, data).unwrap()
    }

    const UNIT: TensorSpec = TensorSpec {
        size: 8,
        range: (0.0, 255.0),
        border: Border::Zero,
    };

    #[test]
    fn axis_aligned_full_crop_is_a_copy() {
        let img = gradient(8, 8);
        let mut out = Vec::new();
        crop_rotated(
            img.view(),
            &RotatedRect::new(4.0, 4.0, 8.0, 8.0, 0.0),
            &UNIT,
            &mut out,
        );
        let expected: Vec<f32> = img.data().iter().map(|v| f32::from(*v)).collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn value_range_maps_0_and_255() {
        let img = RgbImage::from_rgb8(2, 1, vec![0, 0, 0, 255, 255, 255]).unwrap();
        let spec = TensorSpec {
            size: 2,
            range: (-1.0, 1.0),
            border: Border::Replicate,
        };
        let mut out = Vec::new();
        crop_rotated(
            img.view(),
            &RotatedRect::new(1.0, 0.5, 2.0, 2.0, 0.0),
            &spec,
            &mut out,
        );
        assert_eq!(&out[..6], &[-1.0, -1.0, -1.0, 1.0, 1.0, 1.0]);
    }

    #[test]
    fn rotating_the_rect_matches_rotating_the_image() {
        // Rotating the image 90 degrees clockwise maps (x, y) to (H - 1 - y, x); the same
        // crop taken from the rotated image with rotation + 90 degrees must be identical.
        let (w, h) = (13u32, 9u32);
        let img = gradient(w, h);
        let mut rotated = vec![0u8; img.data().len()];
        for y in 0..h {
            for x in 0..w {
                let (nx, ny) = (h - 1 - y, x);
                let src = ((y * w + x) * 3) as usize;
                let dst = ((ny * h + nx) * 3) as usize;
                rotated[dst..dst + 3].copy_from_slice(&img.data()[src..src + 3]);
            }
        }
        let rotated = RgbImage::from_rgb8(h, w, rotated).unwrap();
        let spec = TensorSpec {
            size: 16,
            range: (0.0, 1.0),
            border: Border::Replicate,
        };
        let rect = RotatedRect::new(6.3, 4.1, 7.5, 5.0, 0.4);
        let turned = RotatedRect::new(
            h as f32 - 1.0 - rect.center_y,
            rect.center_x,
            7.5,
            5.0,
            0.4 + FRAC_PI_2,
        );
        let (mut a, mut b) = (Vec::new(), Vec::new());
        crop_rotated(img.view(), &rect, &spec, &mut a);
        crop_rotated(rotated.view(), &turned, &spec, &mut b);
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-3, "max difference {worst}");
    }

    #[test]
    fn positive_rotation_is_clockwise_on_screen() {
        // A bright pixel right of the centre: with the rect turned 90 degrees clockwise, the
        // crop's "up" (-v) points right on screen, so the pixel lands above the crop's centre
        // (centre (4.5, 4.5), offset 2.5 pixels: row 2), half a pixel left (column 4).
        let mut data = vec![0u8; 9 * 9 * 3];
        let bright = ((4 * 9 + 7) * 3) as usize; // (x 7, y 4)
        data[bright..bright + 3].copy_from_slice(&[255; 3]);
        let img = RgbImage::from_rgb8(9, 9, data).unwrap();
        let spec = TensorSpec {
            size: 9,
            range: (0.0, 1.0),
            border: Border::Zero,
        };
        let mut out = Vec::new();
        crop_rotated(
            img.view(),
            &RotatedRect::new(4.5, 4.5, 9.0, 9.0, FRAC_PI_2),
            &spec,
            &mut out,
        );
        let brightest = (0..81)
            .max_by(|a, b| out[a * 3].total_cmp(&out[b * 3]))
            .unwrap();
        assert_eq!(
            (brightest % 9, brightest / 9),
            (4, 2),
            "(u, v) of the bright pixel"
        );
        let rect = RotatedRect::new(4.5, 4.5, 9.0, 9.0, FRAC_PI_2);
        let (x, y) = rect.project(4.0 / 9.0, 2.0 / 9.0);
        assert!((x - 7.0).abs() < 1e-4 && (y - 4.0).abs() < 1e-4, "{x} {y}");
    }

    #[test]
    fn full_turn_is_identity() {
        let img = gradient(10, 6);
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let rect = RotatedRect::new(5.0, 3.0, 6.0, 6.0, 0.3);
        crop_rotated(img.view(), &rect, &UNIT, &mut a);
        crop_rotated(
            img.view(),
            &RotatedRect {
                rotation: 0.3 + 2.0 * PI,
                ..rect
            },
            &UNIT,
            &mut b,
        );
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max);
        assert!(worst < 0.01, "{worst}");
    }

    #[test]
    fn letterbox_pads_the_short_side() {
        let img = RgbImage::from_rgb8(8, 4, vec![255; 8 * 4 * 3]).unwrap();
        let spec = TensorSpec {
            size: 8,
            range: (-1.0, 1.0),
            border: Border::Zero,
        };
        let mut out = Vec::new();
        let rect = letterbox(img.view(), &spec, &mut out);
        let row = |v: usize| &out[v * 24..(v + 1) * 24];
        assert!(row(0).iter().all(|v| *v == -1.0), "top padding");
        assert!(row(7).iter().all(|v| *v == -1.0), "bottom padding");
        assert!(row(3).iter().all(|v| *v == 1.0), "image rows");
        let (x, y) = rect.project(0.5, 0.5);
        assert_eq!((x, y), (4.0, 2.0));
    }

    #[test]
    fn degenerate_rects_do_not_panic() {
        let img = gradient(4, 4);
        let mut out = Vec::new();
        for rect in [
            RotatedRect::new(f32::NAN, 0.0, 4.0, 4.0, 0.0),
            RotatedRect::new(0.0, 0.0, f32::INFINITY, 4.0, 0.0),
            RotatedRect::new(1e30, -1e30, 0.0, 0.0, 1.0),
        ] {
            crop_rotated(img.view(), &rect, &UNIT, &mut out);
            assert_eq!(out.len(), 8 * 8 * 3);
        }
        let empty = TensorSpec { size: 0, ..UNIT };
        crop_rotated(
            img.view(),
            &RotatedRect::new(2.0, 2.0, 4.0, 4.0, 0.0),
            &empty,
            &mut out,
        );
        assert!(out.is_empty());
    }
}
