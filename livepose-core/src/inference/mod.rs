//! Inference on ONNX Runtime: MediaPipe BlazePose detector and landmark models.
//!
//! - [`runtime`]: finds and loads the ONNX Runtime library (explicit path, `ORT_DYLIB_PATH`,
//!   the Python `onnxruntime` package), with typed errors.
//! - [`session`]: one model per session, [`SessionConfig`] (threads, spinning, graph
//!   optimisation, execution providers), signature checks and warm-up at load.
//! - [`detector`]: SSD anchors, decoding, weighted NMS.
//! - [`roi`]: regions of interest from alignment points.
//! - [`landmarks`]: crop, landmark model, heatmap refinement, projection, world landmarks.
//! - [`pipeline`]: [`Pipeline`] — decode, detect, landmarks, tracking, smoothing.

pub mod detector;
pub mod hand_landmarks;
pub mod hands;
pub mod landmarks;
pub mod onnx_graph;
pub mod palm;
pub mod pipeline;
pub mod roi;
pub mod runtime;
pub mod session;
pub mod ssd;

pub use detector::{Detection, PoseDetector};
pub use landmarks::{LandmarkOutput, PoseLandmarker};
pub use pipeline::{Frame, Pipeline, PipelineBuilder, PipelineError, PoseResult};
pub use runtime::RuntimeError;
pub use session::{
    ExecutionProvider, GraphOptimization, InferenceError, Model, ModelSource, SessionConfig,
};
