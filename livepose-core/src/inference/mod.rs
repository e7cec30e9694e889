//! Inference on ONNX Runtime: MediaPipe's BlazePose and hand models.
//!
//! - [`runtime`]: finds and loads the ONNX Runtime library (explicit path, `ORT_DYLIB_PATH`,
//!   the Python `onnxruntime` package), with typed errors.
//! - [`session`]: one model per session, [`SessionConfig`] (threads, spinning, graph
//!   optimisation, execution providers), signature checks and warm-up at load; outputs
//!   livepose does not read (the segmentation head) are pruned at load with
//!   [`crate::onnx::prune_outputs`].
//! - [`model_files`]: models by role or path as `.onnx`, `.tflite` (converted with
//!   [`crate::tflite`]) or `.task`; the conversion cache; the models folder.
//! - [`ssd`]: SSD anchors, decoding, weighted NMS; [`detector`] (people) and [`palm`]
//!   (palms) on top of it.
//! - [`roi`]: regions of interest (pose, palm, hand from pose, hand from landmarks).
//! - [`landmarks`]: crop, landmark model, heatmap refinement, projection, world landmarks.
//! - [`hand_landmarks`] and [`hands`]: the hand landmark model; finding and tracking each
//!   person's hands.
//! - [`segmentation`]: the optional person mask.
//! - [`release_free_memory`]: glibc's `malloc_trim` after loading models.
//! - [`options`]: [`PipelineOptions`], what the front ends may set, each default once.
//! - [`pipeline`]: [`Pipeline`] — decode, detect, landmarks, tracking, smoothing, angles,
//!   hands, segmentation.

pub mod detector;
pub mod hand_landmarks;
pub mod hands;
pub mod landmarks;
mod memory;
pub use memory::release_free_memory;
pub mod model_files;
pub mod options;
pub mod palm;
pub mod pipeline;
pub mod roi;
pub mod runtime;
pub mod segmentation;
pub mod session;
pub mod ssd;

pub use detector::{Detection, PoseDetector};
pub use landmarks::{LandmarkOutput, PoseLandmarker};
pub use options::PipelineOptions;
pub use pipeline::{
    Engine, Frame, Pipeline, PipelineBuilder, PipelineError, PoseResult, Tracker, TrackerOptions,
};
pub use runtime::RuntimeError;
pub use session::{
    ExecutionProvider, GraphOptimization, InferenceError, Model, ModelSource, SessionConfig,
};
