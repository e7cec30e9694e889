//! Pipeline options as command-line values, shared by `run` and `serve`.

use clap::ValueEnum;
use livepose::core::wire::control::{ModelKind, RunMode, SmoothingKind};

/// Landmark model.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Model {
    Lite,
    Full,
}

impl From<Model> for ModelKind {
    fn from(model: Model) -> ModelKind {
        match model {
            Model::Lite => ModelKind::Lite,
            Model::Full => ModelKind::Full,
        }
    }
}

/// `live` tracks across frames; `image` takes every frame on its own.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Mode {
    Live,
    Image,
}

impl From<Mode> for RunMode {
    fn from(mode: Mode) -> RunMode {
        match mode {
            Mode::Live => RunMode::Live,
            Mode::Image => RunMode::Image,
        }
    }
}

/// Landmark smoothing in live mode.
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Smoothing {
    OneEuro,
    Ema,
    None,
}

impl From<Smoothing> for SmoothingKind {
    fn from(smoothing: Smoothing) -> SmoothingKind {
        match smoothing {
            Smoothing::OneEuro => SmoothingKind::OneEuro,
            Smoothing::Ema => SmoothingKind::Ema,
            Smoothing::None => SmoothingKind::None,
        }
    }
}
