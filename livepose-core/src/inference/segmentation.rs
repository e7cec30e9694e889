//! The person segmentation mask (optional, off by default as in MediaPipe): the landmark
//! model's 256x256 mask of each region of interest, passed through a sigmoid
//! (`TensorsToSegmentationCalculator`, activation SIGMOID) and warped back onto the frame
//! (MediaPipe's `WarpAffineCalculator` with the inverse of the crop), several people merged
//! by taking the larger value.

use crate::image::RotatedRect;

/// Side of the model's mask.
pub const MASK_SIZE: usize = 256;

/// A mask over the whole frame: per pixel, the probability (0..255) that it shows a person.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SegmentationMask {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl SegmentationMask {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Row-major values, 0 (background) to 255 (person).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The value at (`x`, `y`), if inside.
    pub fn get(&self, x: u32, y: u32) -> Option<u8> {
        (x < self.width && y < self.height).then(|| self.data[(y * self.width + x) as usize])
    }

    /// Resizes to `width` x `height` and clears to background (allocation reused).
    pub(crate) fn reset(&mut self, width: u32, height: u32) {
        self.width = width;
        self.height = height;
        self.data.clear();
        self.data.resize(width as usize * height as usize, 0);
    }

    /// Warps `mask` (MASK_SIZE² logits of the crop of `roi`) onto the frame, keeping the
    /// larger value where people overlap.
    pub(crate) fn paste(&mut self, logits: &[f32], roi: &RotatedRect) {
        if logits.len() != MASK_SIZE * MASK_SIZE || !(roi.width > 0.0 && roi.height > 0.0) {
            return;
        }
        let (sin, cos) = roi.rotation.sin_cos();
        // The frame pixels the rotated region covers (axis-aligned bounds).
        let half_x = (roi.width * cos.abs() + roi.height * sin.abs()) / 2.0;
        let half_y = (roi.width * sin.abs() + roi.height * cos.abs()) / 2.0;
        let x0 = (roi.center_x - half_x).floor().max(0.0) as u32;
        let y0 = (roi.center_y - half_y).floor().max(0.0) as u32;
        let x1 = ((roi.center_x + half_x).ceil().max(0.0) as u32).min(self.width);
        let y1 = ((roi.center_y + half_y).ceil().max(0.0) as u32).min(self.height);
        let n = MASK_SIZE as f32;
        let at = |u: usize, v: usize| logits[v * MASK_SIZE + u];
        for y in y0..y1 {
            let row = (y * self.width) as usize;
            for x in x0..x1 {
                // Pixel centre into the crop's mask coordinates (inverse of RotatedRect::project).
                let (dx, dy) = (x as f32 + 0.5 - roi.center_x, y as f32 + 0.5 - roi.center_y);
                let u = (dx * cos + dy * sin) / roi.width + 0.5;
                let v = (-dx * sin + dy * cos) / roi.height + 0.5;
                if !(0.0..1.0).contains(&u) || !(0.0..1.0).contains(&v) {
                    continue;
                }
                let (fu, fv) = ((u * n - 0.5).max(0.0), (v * n - 0.5).max(0.0));
                let (iu, iv) = (fu as usize, fv as usize);
                let (iu1, iv1) = ((iu + 1).min(MASK_SIZE - 1), (iv + 1).min(MASK_SIZE - 1));
                let (tu, tv) = (fu - iu as f32, fv - iv as f32);
                let top = at(iu, iv) * (1.0 - tu) + at(iu1, iv) * tu;
                let bottom = at(iu, iv1) * (1.0 - tu) + at(iu1, iv1) * tu;
                let logit = top * (1.0 - tv) + bottom * tv;
                let value = (255.0 / (1.0 + (-logit).exp())).round() as u8;
                let slot = &mut self.data[row + x as usize];
                *slot = (*slot).max(value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paste_maps_the_crop_back_with_its_rotation() {
        // Left half of the crop is "person" (large logit), right half background.
        let mut logits = vec![-20.0f32; MASK_SIZE * MASK_SIZE];
        for v in 0..MASK_SIZE {
            for u in 0..MASK_SIZE / 2 {
                logits[v * MASK_SIZE + u] = 20.0;
            }
        }
        let mut mask = SegmentationMask::default();
        mask.reset(100, 100);
        mask.paste(&logits, &RotatedRect::new(50.0, 50.0, 40.0, 40.0, 0.0));
        assert_eq!(mask.get(35, 50), Some(255));
        assert_eq!(mask.get(65, 50), Some(0));
        assert_eq!(mask.get(5, 5), Some(0), "outside the region");
        // A quarter turn clockwise: the crop's left (u small) lies above the centre on screen.
        mask.reset(100, 100);
        let turned = RotatedRect::new(50.0, 50.0, 40.0, 40.0, std::f32::consts::FRAC_PI_2);
        mask.paste(&logits, &turned);
        let up = mask.get(50, 35).unwrap();
        let down = mask.get(50, 65).unwrap();
        assert!(up == 255 && down == 0, "up {up} down {down}");
        // Overlapping people keep the larger value.
        mask.paste(&vec![-20.0; MASK_SIZE * MASK_SIZE], &turned);
        assert_eq!(mask.get(50, 35), Some(255));
    }
}
