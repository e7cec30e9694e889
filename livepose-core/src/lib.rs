//! # livepose-core
//!
//! The deterministic heart of livepose: no sockets, no threads of its own and no hidden OS
//! clock (time is passed in, as in quinn's protocol core), so everything here is testable
//! without sleeping.
//!
//! Where time comes from, precisely: timestamps are read from a [`clock::TimeSource`] that
//! the caller chooses. The operating system's clocks ([`clock::SystemTimeSource`]) are
//! only a default of the convenience constructors: [`MonotonicClock::system`] (and its
//! `Default`), [`inference::Tracker::new`] (the primitive is
//! [`Tracker::with_clock`](inference::Tracker::with_clock)) and a
//! [`PipelineBuilder`](inference::PipelineBuilder) given no
//! [`time_source`](inference::PipelineBuilder::time_source). Two things measure real time
//! and cannot be given a clock, neither of which changes a result's poses: the pipeline's
//! stage timings ([`types::StageTimings`], how long each stage took, by
//! [`std::time::Instant`]) and the deadline of [`LatestSlot::wait_timeout`], which blocks
//! the calling thread.
//!
//! What most programs need is at the root: [`Pipeline`] (built by [`PipelineBuilder`], or
//! from [`PipelineOptions`]), its [`PoseResult`] of [`Pose`]s, the options' kinds
//! ([`ModelKind`], [`RunMode`], [`SmoothingKind`]), [`LatestSlot`] and [`MonotonicClock`].
//! The modules hold the rest:
//!
//! | module | job |
//! | --- | --- |
//! | [`slot`] | [`LatestSlot`]: capacity-one, latest-wins hand-off between a producer and a consumer |
//! | [`clock`] | [`MonotonicClock`]: strictly increasing microsecond timestamps, wall-clock conversion |
//! | [`smoothing`] | EMA and One Euro filters for landmark sets |
//! | [`wire`] | protocol v1: binary frame/result codec, JSON control messages, JSON+base64 compatibility |
//! | [`image`] | decode JPEG/PNG/WebP, downscale, letterbox, rotated crop into model tensors |
//! | [`video`] | H.264 access units: Annex B, SPS limits, decoding and encoding (OpenH264, feature `h264`) |
//! | [`onnx`] | ONNX models as bytes: protobuf reader and pruner, the converter's writer |
//! | [`tflite`] | MediaPipe's `.tflite` files without TensorFlow, converted to ONNX in memory |
//! | [`inference`] | ONNX Runtime sessions, BlazePose and hand models, model files, the pipeline |
//! | [`stats`] | per-stream counters and latency histograms |
//! | [`types`] | the pose data model shared by the pipeline and the wire format |
//! | [`options`] | option names (model, mode, smoothing) and typed parsing of options objects for every front end |
//! | [`angles`] | named 3D joint angles from world landmarks |
//! | [`error`] | [`Error`]: any of the modules' errors, for `?` across modules |
//!
//! Layers: each module imports only from those before it in this list: [`options`] →
//! [`types`], [`clock`], [`slot`], [`stats`] → [`angles`], [`smoothing`] → [`image`] → [`video`] →
//! [`onnx`] → [`tflite`] → [`inference`] and [`wire`] (neither uses the other: the options
//! and result flags both need are in [`options`] and [`types`]) → [`error`].
//!
//! ```
//! use livepose_core::{LatestSlot, MonotonicClock};
//!
//! let slot = LatestSlot::new();
//! let clock = MonotonicClock::system();
//! slot.put((clock.now(), "frame 1")).unwrap();
//! slot.put((clock.now(), "frame 2")).unwrap(); // displaces frame 1, counted as dropped
//! let (_, newest) = slot.take().unwrap();
//! assert_eq!(newest, "frame 2");
//! assert_eq!(slot.counters().dropped, 1);
//! ```
// One exception, allowed where it is: glibc's malloc_trim after loading models
// (inference/memory.rs).
#![deny(unsafe_code)]
#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod angles;
pub mod clock;
pub mod error;
mod error_code;
pub mod image;
pub mod inference;
pub mod onnx;
pub mod options;
pub mod slot;
pub mod smoothing;
pub mod stats;
pub mod tflite;
pub mod types;
pub mod video;
pub mod wire;

pub use clock::{MonotonicClock, Timestamp};
pub use error::Error;
pub use inference::{
    Frame, Pipeline, PipelineBuilder, PipelineError, PipelineOptions, PoseResult, Tracker,
};
pub use options::{ModelKind, RunMode, SmoothingKind};
pub use slot::LatestSlot;
pub use types::{Hand, Joint, JointAngle, Landmark, Pose};
