//! `new Pipeline(options)` and `await pipeline.process(buffer)`: the pose pipeline, run on
//! libuv's thread pool so the JavaScript thread never waits for inference.

use std::sync::{Arc, Mutex};

use livepose_core::inference::{
    runtime, Frame, Pipeline as CorePipeline, PoseResult as CoreResult, SessionConfig,
};
use livepose_core::wire::control::{ModelKind, RunMode, SmoothingKind, UnknownOption};
use livepose_core::wire::ResultFlags;
use livepose_core::Timestamp;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{self, Code};
use crate::result::{Pose, Timings};

/// Pipeline options; every field is optional.
#[napi(object)]
pub struct PipelineOptions {
    /// `"lite"` (default) or `"full"`.
    pub model: Option<String>,
    /// Track hands too (default `false`).
    pub hands: Option<bool>,
    /// `"live"` (tracking, default) or `"image"` (every frame on its own).
    pub mode: Option<String>,
    /// `"one_euro"` (default), `"ema"` or `"none"`.
    pub smoothing: Option<String>,
    /// ONNX Runtime threads per model (default 1).
    pub threads: Option<u32>,
    /// Folder of the `.onnx` models (default: `LIVEPOSE_MODELS`).
    pub models_dir: Option<String>,
    /// Most people tracked (default 1).
    pub num_poses: Option<u32>,
}

/// Parses an option name into a config error on failure.
pub fn option<T: std::str::FromStr<Err = UnknownOption>>(
    value: Option<&str>,
    default: T,
) -> Result<T> {
    value.map_or(Ok(default), |v| {
        v.parse().map_err(|e| errors::error(Code::Config, e))
    })
}

fn positive(value: Option<u32>, what: &str) -> Result<usize> {
    match value {
        None => Ok(1),
        Some(0) => Err(errors::error(
            Code::Config,
            format!("{what} must be at least 1"),
        )),
        Some(n) => Ok(n as usize),
    }
}

/// What `process` resolves to: the people found in one frame.
#[napi(object)]
pub struct PoseResult {
    pub poses: Vec<Pose>,
    pub timings: Timings,
    /// The timestamp the frame was processed at (µs).
    pub timestamp_us: i64,
    /// The caller's timestamp was not after the previous one and was moved forward.
    pub timestamp_adjusted: bool,
    /// The pose detector ran on this frame (else tracking found the people).
    pub detector_ran: bool,
    /// `[width, height]` of the frame in pixels.
    pub frame_size: Vec<u32>,
}

impl From<&CoreResult> for PoseResult {
    fn from(r: &CoreResult) -> Self {
        PoseResult {
            poses: r.poses.iter().map(Pose::from).collect(),
            timings: r.timings.into(),
            timestamp_us: i64::try_from(r.timestamp.as_micros()).unwrap_or(i64::MAX),
            timestamp_adjusted: r.flags.contains(ResultFlags::TIMESTAMP_ADJUSTED),
            detector_ran: r.flags.contains(ResultFlags::DETECTOR_RAN),
            frame_size: vec![r.frame_size.0, r.frame_size.1],
        }
    }
}

/// MediaPipe BlazePose on ONNX Runtime for one stream of frames.
#[napi]
pub struct Pipeline {
    inner: Arc<Mutex<CorePipeline>>,
}

#[napi]
impl Pipeline {
    /// Loads the models (throws `ERR_LIVEPOSE_CONFIG` for a bad option,
    /// `ERR_LIVEPOSE_MODEL` when models or ONNX Runtime are missing).
    #[napi(constructor)]
    pub fn new(options: Option<PipelineOptions>) -> Result<Self> {
        let o = options.unwrap_or(PipelineOptions {
            model: None,
            hands: None,
            mode: None,
            smoothing: None,
            threads: None,
            models_dir: None,
            num_poses: None,
        });
        let mut builder = CorePipeline::builder()
            .model(option(o.model.as_deref(), ModelKind::Lite)?)
            .mode(option(o.mode.as_deref(), RunMode::Live)?)
            .smoothing(option(o.smoothing.as_deref(), SmoothingKind::OneEuro)?)
            .hands(o.hands.unwrap_or(false))
            .num_poses(positive(o.num_poses, "numPoses")?)
            .session(SessionConfig::default().intra_threads(positive(o.threads, "threads")?));
        if let Some(dir) = o.models_dir {
            builder = builder.models_dir(dir);
        }
        let pipeline = builder.build().map_err(errors::pipeline)?;
        Ok(Pipeline {
            inner: Arc::new(Mutex::new(pipeline)),
        })
    }

    /// Processes one JPEG/PNG/WebP image off the JavaScript thread. `timestampUs` is the
    /// frame's time on the caller's clock; one that is not after the previous frame's is
    /// moved forward (`timestampAdjusted`), never an error.
    #[napi(ts_return_type = "Promise<PoseResult>")]
    pub fn process(&self, image: Buffer, timestamp_us: Option<i64>) -> Result<AsyncTask<Process>> {
        let ts = match timestamp_us {
            Some(us) if us < 0 => {
                return Err(errors::error(
                    Code::Config,
                    format!("timestampUs must not be negative, got {us}"),
                ))
            }
            us => us.map(|us| Timestamp::from_micros(us as u64)),
        };
        Ok(AsyncTask::new(Process {
            pipeline: self.inner.clone(),
            image: image.to_vec(),
            timestamp: ts,
        }))
    }

    /// Forgets every tracked person (a new video, a scene cut).
    #[napi]
    pub fn reset(&self) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).reset();
    }
}

/// One `process` call on the thread pool.
pub struct Process {
    pipeline: Arc<Mutex<CorePipeline>>,
    image: Vec<u8>,
    timestamp: Option<Timestamp>,
}

impl Task for Process {
    type Output = CoreResult;
    type JsValue = PoseResult;

    fn compute(&mut self) -> Result<CoreResult> {
        let mut pipeline = self.pipeline.lock().unwrap_or_else(|e| e.into_inner());
        let result = pipeline
            .process(Frame::Encoded(&self.image), self.timestamp)
            .map_err(errors::pipeline)?;
        Ok(result.clone())
    }

    fn resolve(&mut self, _env: Env, output: CoreResult) -> Result<PoseResult> {
        Ok(PoseResult::from(&output))
    }
}

/// Loads ONNX Runtime (from `path`, else `ORT_DYLIB_PATH`, which `index.js` points at the
/// `onnxruntime-node` package) and returns the library file in use.
#[napi]
pub fn onnxruntime_library(path: Option<String>) -> Result<String> {
    let rt = runtime::runtime(path.as_deref().map(std::path::Path::new))
        .map_err(|e| errors::error(Code::Model, e))?;
    Ok(rt.library.display().to_string())
}
