//! `new Pipeline(options)` and `await pipeline.process(buffer)`: the pose pipeline, run on
//! libuv's thread pool so the JavaScript thread never waits for inference.

use std::sync::{Arc, Mutex};

use livepose_core::image::RgbView;
use livepose_core::inference::{
    runtime, Frame, Pipeline as CorePipeline, PipelineOptions, PoseResult as CoreResult,
};
use livepose_core::wire::ResultFlags;
use livepose_core::Timestamp;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{self, Code, Outcome};
use crate::options;
use crate::result::{Pose, Timings};

/// Raw pixels: packed rows of RGB (3 bytes per pixel) or RGBA (4, alpha ignored), told
/// apart by the length of `data`.
#[napi(object)]
pub struct RawImage {
    /// `width * height * 3` or `width * height * 4` bytes.
    pub data: Uint8Array,
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

impl RawImage {
    /// The pixels as packed RGB, in one pass (RGBA loses its alpha).
    fn to_rgb(&self) -> Outcome<Vec<u8>> {
        let pixels = u64::from(self.width) * u64::from(self.height);
        let len = self.data.len() as u64;
        if pixels > 0 && len == pixels * 3 {
            Ok(self.data.to_vec())
        } else if pixels > 0 && len == pixels * 4 {
            Ok(self
                .data
                .chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect())
        } else {
            Err(errors::error(
                Code::Config,
                format!(
                    "raw pixels of {}x{} need {} (RGB) or {} (RGBA) bytes, got {len}",
                    self.width,
                    self.height,
                    pixels * 3,
                    pixels * 4
                ),
            ))
        }
    }
}

/// What `process` takes: an encoded image, or raw pixels.
enum Input {
    Encoded(Vec<u8>),
    Rgb {
        width: u32,
        height: u32,
        data: Vec<u8>,
    },
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
    /// Loads the models. Options (every one optional, defaults and checks are core's
    /// `PipelineOptions`): `model` ("lite", "full"), `hands`, `mode` ("live", "image"),
    /// `smoothing` ("one_euro", "steady", "ema", "none"), `threads`, `numPoses`, `modelsDir`. Throws
    /// `ERR_LIVEPOSE_CONFIG` for a bad option, `ERR_LIVEPOSE_MODEL` when models or ONNX
    /// Runtime are missing.
    #[napi(constructor, ts_args_type = "options?: PipelineOptions")]
    pub fn new(env: Env, options: Option<Unknown<'_>>) -> Result<Self> {
        let build = || -> Outcome<CorePipeline> {
            let options: PipelineOptions = options::parse(&env, options)?;
            options.builder().build().map_err(errors::pipeline)
        };
        let pipeline = build().map_err(|f| f.throw(&env))?;
        Ok(Pipeline {
            inner: Arc::new(Mutex::new(pipeline)),
        })
    }

    /// Processes one image off the JavaScript thread: JPEG/PNG/WebP bytes (a `Buffer` or
    /// `Uint8Array`), or raw pixels `{data, width, height}` (RGB or RGBA). `timestampUs` is
    /// the frame's time on the caller's clock; one that is not after the previous frame's
    /// is moved forward (`timestampAdjusted`), never an error.
    #[napi(ts_return_type = "Promise<PoseResult>")]
    pub fn process(
        &self,
        env: Env,
        image: Either<Uint8Array, RawImage>,
        timestamp_us: Option<i64>,
    ) -> Result<AsyncTask<Process>> {
        let prepare = || -> Outcome<Process> {
            let timestamp = match timestamp_us {
                Some(us) if us < 0 => {
                    return Err(errors::error(
                        Code::Config,
                        format!("timestampUs must not be negative, got {us}"),
                    ))
                }
                us => us.map(|us| Timestamp::from_micros(us as u64)),
            };
            let input = match &image {
                Either::A(bytes) => Input::Encoded(bytes.to_vec()),
                Either::B(raw) => Input::Rgb {
                    width: raw.width,
                    height: raw.height,
                    data: raw.to_rgb()?,
                },
            };
            Ok(Process {
                pipeline: self.inner.clone(),
                input,
                timestamp,
            })
        };
        Ok(AsyncTask::new(prepare().map_err(|f| f.throw(&env))?))
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
    input: Input,
    timestamp: Option<Timestamp>,
}

impl Task for Process {
    type Output = Outcome<CoreResult>;
    type JsValue = PoseResult;

    fn compute(&mut self) -> Result<Outcome<CoreResult>> {
        let mut pipeline = self.pipeline.lock().unwrap_or_else(|e| e.into_inner());
        let frame = match &self.input {
            Input::Encoded(bytes) => Frame::Encoded(bytes),
            Input::Rgb {
                width,
                height,
                data,
            } => match RgbView::new(*width, *height, data) {
                Ok(view) => Frame::Rgb(view),
                Err(e) => return Ok(Err(errors::error(Code::Image, e))),
            },
        };
        Ok(pipeline
            .process(frame, self.timestamp)
            .cloned()
            .map_err(errors::pipeline))
    }

    fn resolve(&mut self, env: Env, output: Outcome<CoreResult>) -> Result<PoseResult> {
        output
            .map(|result| PoseResult::from(&result))
            .map_err(|f| f.throw(&env))
    }
}

/// Loads ONNX Runtime (from `path`, else `ORT_DYLIB_PATH`, which `index.js` points at the
/// `onnxruntime-node` package) and returns the library file in use.
#[napi]
pub fn onnxruntime_library(env: Env, path: Option<String>) -> Result<String> {
    let rt = runtime::runtime(path.as_deref().map(std::path::Path::new))
        .map_err(|e| errors::error(Code::Model, e).throw(&env))?;
    Ok(rt.library.display().to_string())
}
