//! Inference on ONNX Runtime: MediaPipe's BlazePose and hand models.
//!
//! The API: [`Pipeline`] (built by [`PipelineBuilder`] or from [`PipelineOptions`]) gives a
//! [`PoseResult`] per frame; [`Engine`] and [`Tracker`] split it into the shared models and
//! one stream's state; [`SessionConfig`] sets ONNX Runtime's sessions; [`model_files`] finds
//! and converts the model files; [`release_free_memory`] gives freed heap back to the OS.
//!
//! Inside, one module per stage (public, hidden from the docs, for the tests and benches
//! that drive a stage alone): `runtime` (loading ONNX Runtime), `session` (one model per
//! session, signature checks, warm-up, pruned outputs), `ssd` (anchors, decoding, weighted
//! NMS) under `detector` (people) and `palm` (palms), `roi` (regions of interest),
//! `landmarks` (crop, landmark model, refinement, world landmarks), `hand_landmarks` and
//! `hands` (finding and tracking each person's hands), `segmentation` (the person mask),
//! `options` and `pipeline`.

#[doc(hidden)]
pub mod detector;
#[doc(hidden)]
pub mod hand_landmarks;
#[doc(hidden)]
pub mod hands;
#[doc(hidden)]
pub mod landmarks;
mod memory;
pub use memory::release_free_memory;
pub mod model_files;
mod options;
#[doc(hidden)]
pub mod palm;
mod pipeline;
#[doc(hidden)]
pub mod roi;
#[doc(hidden)]
pub mod runtime;
mod segmentation;
#[doc(hidden)]
pub mod session;
mod ssd;

pub use detector::{Detection, PoseDetector};
pub use landmarks::{LandmarkOutput, PoseLandmarker};
pub use options::{PipelineOptions, MAX_POSES};
pub use pipeline::{
    Engine, Frame, Pipeline, PipelineBuilder, PipelineError, PoseResult, Tracker, TrackerOptions,
};
pub use runtime::RuntimeError;
pub use segmentation::{SegmentationMask, MASK_SIZE};
pub use session::{
    ExecutionProvider, GraphOptimization, InferenceError, Model, ModelSource, SessionConfig,
};
