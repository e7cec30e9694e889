//! [`PipelineOptions`]: the pipeline's options as one serde-deserialisable struct, with
//! each default written once, for the front ends (the CLI's `run`, Python's `Pipeline(...)`,
//! Node's `new Pipeline({...})`); [`PipelineBuilder`] takes them and offers the rest.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::pipeline::PipelineBuilder;
use super::session::SessionConfig;
use crate::options::{ModelKind, Options, OptionsError, RunMode, SmoothingKind};

/// Most people a pipeline tracks.
pub const MAX_POSES: usize = 64;

/// What a front end may set on a pipeline. Defaults: the lite model, no hands, live mode,
/// One Euro smoothing, one ONNX Runtime thread per model, one person, models from
/// `LIVEPOSE_MODELS` or `~/.cache/livepose/models`.
///
/// ```
/// use livepose_core::inference::PipelineOptions;
/// use livepose_core::options::{parse_options, ModelKind};
///
/// let options: PipelineOptions = parse_options(serde_json::json!({"model": "full", "num_poses": 2})).unwrap();
/// assert_eq!((options.model, options.num_poses, options.threads), (ModelKind::Full, 2, 1));
/// let builder = options.builder(); // then `.build()` loads the models
/// # let _ = builder;
/// assert!(parse_options::<PipelineOptions>(serde_json::json!({"threads": 0})).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineOptions {
    /// Landmark model.
    pub model: ModelKind,
    /// Hand landmarks too (MediaPipe Holistic's full hand models).
    pub hands: bool,
    /// Track across frames, or take every frame on its own.
    pub mode: RunMode,
    /// Landmark smoothing in live mode.
    pub smoothing: SmoothingKind,
    /// ONNX Runtime threads per model (at least 1).
    pub threads: usize,
    /// Most people tracked (1 to [`MAX_POSES`]).
    pub num_poses: usize,
    /// Folder of the models (`None`: `LIVEPOSE_MODELS`, else `~/.cache/livepose/models`).
    pub models_dir: Option<PathBuf>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        // The builder's defaults, written once there.
        let builder = PipelineBuilder::default();
        PipelineOptions {
            model: builder.model,
            hands: false,
            mode: builder.mode,
            smoothing: builder.smoothing,
            threads: 1,
            num_poses: builder.num_poses,
            models_dir: None,
        }
    }
}

impl Options for PipelineOptions {
    fn validate(&self) -> Result<(), OptionsError> {
        if self.threads == 0 {
            return Err(OptionsError::out_of_range("threads", "must be at least 1"));
        }
        if !(1..=MAX_POSES).contains(&self.num_poses) {
            return Err(OptionsError::out_of_range(
                "num_poses",
                format!("must be 1 to {MAX_POSES}, got {}", self.num_poses),
            ));
        }
        Ok(())
    }
}

impl PipelineOptions {
    /// Reads options from a JSON object ([`parse_options`](crate::options::parse_options)).
    pub fn from_json(json: &str) -> Result<Self, OptionsError> {
        <Self as Options>::from_json(json)
    }

    /// A builder with these options (load the models with
    /// [`build`](PipelineBuilder::build)).
    pub fn builder(&self) -> PipelineBuilder {
        let mut builder = PipelineBuilder::default()
            .model(self.model)
            .hands(self.hands)
            .mode(self.mode)
            .smoothing(self.smoothing)
            .num_poses(self.num_poses)
            .session(SessionConfig::default().intra_threads(self.threads));
        if let Some(dir) = &self.models_dir {
            builder = builder.models_dir(dir);
        }
        builder
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{option_names, parse_options};

    #[test]
    fn names_and_defaults() {
        assert_eq!(
            option_names::<PipelineOptions>(),
            [
                "hands",
                "mode",
                "model",
                "models_dir",
                "num_poses",
                "smoothing",
                "threads"
            ]
        );
        let defaults = PipelineOptions::default();
        assert_eq!(
            parse_options::<PipelineOptions>(serde_json::json!({})),
            Ok(defaults.clone())
        );
        let builder = defaults.builder();
        assert_eq!(builder.model_kind(), ModelKind::Lite);
        let tracker = builder.tracker_options();
        assert_eq!(
            (
                tracker.mode,
                tracker.smoothing,
                tracker.num_poses,
                tracker.hands
            ),
            (RunMode::Live, SmoothingKind::OneEuro, 1, false)
        );
    }

    #[test]
    fn out_of_range_values_are_refused_by_name() {
        for (json, option) in [
            (r#"{"threads": 0}"#, "threads"),
            (r#"{"num_poses": 0}"#, "num_poses"),
            (r#"{"num_poses": 65}"#, "num_poses"),
            (r#"{"threads": -1}"#, "threads"),
            (r#"{"mode": "video"}"#, "mode"),
            (r#"{"models_dir": 3}"#, "models_dir"),
        ] {
            match PipelineOptions::from_json(json) {
                Err(OptionsError::OutOfRange { option: o, .. })
                | Err(OptionsError::InvalidValue { option: o, .. }) => {
                    assert_eq!(o, option, "{json}")
                }
                other => panic!("{json}: {other:?}"),
            }
        }
    }
}
