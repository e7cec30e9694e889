//! Smoothing of landmark sets across frames.
//!
//! A [`LandmarkSmoother`] keeps one filter per coordinate of every landmark (x, y, z) and a
//! separate low-pass for visibility. Two methods:
//!
//! - [`Method::Ema`]: exponential moving average, `alpha` = weight of the new value (the
//!   Python backends livepose replaces use 0.7);
//! - [`Method::OneEuro`]: the One Euro filter, time-aware (the frequency comes from frame
//!   timestamps, so dropped frames do not distort it), with MediaPipe's presets
//!   ([`SmoothingConfig::mediapipe_image`], [`mediapipe_world`](SmoothingConfig::mediapipe_world),
//!   [`mediapipe_aux`](SmoothingConfig::mediapipe_aux)), and livepose's steadier preset
//!   ([`SmoothingConfig::steady_image`]: a floor under which speed counts as noise).
//!
//! Call [`LandmarkSmoother::reset`] when the tracked subject is lost, so the next person does
//! not inherit the last one's history.
//!
//! ```
//! use livepose_core::smoothing::{LandmarkSmoother, SmoothingConfig};
//! use livepose_core::types::Landmark;
//! use livepose_core::Timestamp;
//!
//! let mut smoother = LandmarkSmoother::new(SmoothingConfig::ema(0.7));
//! let mut frame = [Landmark { x: 0.0, visibility: 1.0, ..Default::default() }];
//! smoother.apply(&mut frame, Timestamp::from_micros(0), 1.0);
//! let mut frame = [Landmark { x: 1.0, visibility: 1.0, ..Default::default() }];
//! smoother.apply(&mut frame, Timestamp::from_micros(33_333), 1.0);
//! assert!((frame[0].x - 0.7).abs() < 1e-6);
//! ```

mod filters;

pub use filters::{LowPass, OneEuro, OneEuroParams};

use crate::clock::Timestamp;
use crate::types::{Landmark, Point3};

/// How coordinates are filtered.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Exponential moving average with this weight on the new value (0 < alpha <= 1).
    Ema {
        /// Weight of the newest sample.
        alpha: f32,
    },
    /// One Euro filter.
    OneEuro(OneEuroParams),
}

/// Configuration of a [`LandmarkSmoother`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothingConfig {
    /// Filter for x, y, z.
    pub method: Method,
    /// Low-pass weight of the newest visibility value (1 = unsmoothed).
    pub visibility_alpha: f32,
}

impl SmoothingConfig {
    /// EMA on coordinates and visibility with weight `alpha` on the new value.
    pub fn ema(alpha: f32) -> Self {
        SmoothingConfig {
            method: Method::Ema { alpha },
            visibility_alpha: alpha,
        }
    }

    /// One Euro on coordinates; visibility low-passed with `visibility_alpha`.
    pub fn one_euro(params: OneEuroParams, visibility_alpha: f32) -> Self {
        SmoothingConfig {
            method: Method::OneEuro(params),
            visibility_alpha,
        }
    }

    /// MediaPipe Pose's filter for the 33 image landmarks (One Euro 0.05 / 80 / 1, visibility
    /// alpha 0.1). Use with `value_scale = 1 / object size`.
    pub fn mediapipe_image() -> Self {
        Self::one_euro(OneEuroParams::MEDIAPIPE_IMAGE, 0.1)
    }

    /// livepose's steadier filter for the 33 image landmarks
    /// ([`OneEuroParams::STEADY_IMAGE`], visibility alpha 0.1). Use with
    /// `value_scale = 1 / object size`.
    pub fn steady_image() -> Self {
        Self::one_euro(OneEuroParams::STEADY_IMAGE, 0.1)
    }

    /// MediaPipe Pose's filter for world landmarks (One Euro 0.1 / 40 / 1, no value scaling).
    pub fn mediapipe_world() -> Self {
        Self::one_euro(OneEuroParams::MEDIAPIPE_WORLD, 0.1)
    }

    /// MediaPipe Pose's filter for the auxiliary region-of-interest landmarks
    /// (One Euro 0.01 / 10 / 1).
    pub fn mediapipe_aux() -> Self {
        Self::one_euro(OneEuroParams::MEDIAPIPE_AUX, 0.1)
    }
}

/// A landmark type the smoother can filter: three coordinates and maybe a visibility.
pub trait Smoothable {
    /// x, y, z.
    fn xyz(&self) -> [f32; 3];
    /// Replaces x, y, z.
    fn set_xyz(&mut self, xyz: [f32; 3]);
    /// The visibility, if this type has one.
    fn visibility(&self) -> Option<f32>;
    /// Replaces the visibility (no-op for types without one).
    fn set_visibility(&mut self, visibility: f32);
}

impl Smoothable for Landmark {
    fn xyz(&self) -> [f32; 3] {
        [self.x, self.y, self.z]
    }
    fn set_xyz(&mut self, [x, y, z]: [f32; 3]) {
        self.x = x;
        self.y = y;
        self.z = z;
    }
    fn visibility(&self) -> Option<f32> {
        Some(self.visibility)
    }
    fn set_visibility(&mut self, visibility: f32) {
        self.visibility = visibility;
    }
}

impl Smoothable for Point3 {
    fn xyz(&self) -> [f32; 3] {
        [self.x, self.y, self.z]
    }
    fn set_xyz(&mut self, [x, y, z]: [f32; 3]) {
        self.x = x;
        self.y = y;
        self.z = z;
    }
    fn visibility(&self) -> Option<f32> {
        None
    }
    fn set_visibility(&mut self, _: f32) {}
}

#[derive(Debug, Clone)]
enum CoordFilters {
    Ema {
        alpha: f32,
        filters: Vec<[LowPass; 3]>,
    },
    OneEuro(OneEuroParams, Vec<[OneEuro; 3]>),
}

/// Filters a set of landmarks frame after frame. See the [module docs](self).
///
/// Buffers are sized on the first frame (or when the landmark count changes) and reused after.
#[derive(Debug, Clone)]
pub struct LandmarkSmoother {
    config: SmoothingConfig,
    coords: CoordFilters,
    visibility: Vec<LowPass>,
}

impl LandmarkSmoother {
    /// A smoother with no history.
    pub fn new(config: SmoothingConfig) -> Self {
        let coords = match config.method {
            Method::Ema { alpha } => CoordFilters::Ema {
                alpha,
                filters: Vec::new(),
            },
            Method::OneEuro(params) => CoordFilters::OneEuro(params, Vec::new()),
        };
        LandmarkSmoother {
            config,
            coords,
            visibility: Vec::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> SmoothingConfig {
        self.config
    }

    /// Smooths `landmarks` (observed at `t`) in place.
    ///
    /// `value_scale` scales the speed estimate of the One Euro filter: pass
    /// `1 / object size` for image landmarks (MediaPipe's choice, so speed is relative to the
    /// person's size) and `1.0` for world landmarks. EMA ignores it.
    ///
    /// A change in the number of landmarks resets the history.
    pub fn apply<L: Smoothable>(&mut self, landmarks: &mut [L], t: Timestamp, value_scale: f32) {
        if self.visibility.len() != landmarks.len() {
            self.resize(landmarks.len());
        }
        match &mut self.coords {
            CoordFilters::Ema { alpha, filters } => {
                for (lm, f) in landmarks.iter_mut().zip(filters.iter_mut()) {
                    let [x, y, z] = lm.xyz();
                    lm.set_xyz([
                        f[0].apply(x, *alpha),
                        f[1].apply(y, *alpha),
                        f[2].apply(z, *alpha),
                    ]);
                }
            }
            CoordFilters::OneEuro(_, filters) => {
                for (lm, f) in landmarks.iter_mut().zip(filters.iter_mut()) {
                    let [x, y, z] = lm.xyz();
                    lm.set_xyz([
                        f[0].apply(x, t, value_scale),
                        f[1].apply(y, t, value_scale),
                        f[2].apply(z, t, value_scale),
                    ]);
                }
            }
        }
        let alpha = self.config.visibility_alpha;
        for (lm, f) in landmarks.iter_mut().zip(self.visibility.iter_mut()) {
            if let Some(v) = lm.visibility() {
                lm.set_visibility(f.apply(v, alpha));
            }
        }
    }

    /// Forgets all history (call when the tracked subject is lost).
    pub fn reset(&mut self) {
        let n = self.visibility.len();
        self.resize(0);
        self.resize(n);
    }

    fn resize(&mut self, n: usize) {
        self.visibility.clear();
        self.visibility.resize(n, LowPass::default());
        match &mut self.coords {
            CoordFilters::Ema { filters, .. } => {
                filters.clear();
                filters.resize(n, [LowPass::default(); 3]);
            }
            CoordFilters::OneEuro(params, filters) => {
                filters.clear();
                filters.resize(n, [OneEuro::new(*params); 3]);
            }
        }
    }
}

#[cfg(test)]
mod tests;
