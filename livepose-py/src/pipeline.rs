//! `livepose.Pipeline`: the pose pipeline for one stream. `process` takes encoded image
//! bytes or an RGB numpy array and runs without the GIL.

use std::path::PathBuf;
use std::sync::Mutex;

use livepose_core::image::RgbView;
use livepose_core::inference::{runtime, Frame, Pipeline as CorePipeline, PipelineOptions};
use livepose_core::Timestamp;
use numpy::{PyReadonlyArray3, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::errors::{self, Kind};
use crate::options;
use crate::result::PoseResult;

/// MediaPipe BlazePose on ONNX Runtime for one stream of frames.
#[pyclass(module = "livepose", frozen)]
pub struct Pipeline {
    inner: Mutex<CorePipeline>,
    description: String,
}

#[pymethods]
impl Pipeline {
    /// Options (keyword only): `model` ("lite" or "full"), `hands`, `mode` ("live" or
    /// "image"), `smoothing` ("one_euro", "steady", "ema", "none"), `threads`, `num_poses`,
    /// `models_dir`; the defaults and checks are core's `PipelineOptions`.
    #[new]
    #[pyo3(signature = (**options))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let options: PipelineOptions = options::parse(options, &[])?;
        let description = format!(
            "Pipeline(model={:?}, hands={}, mode={:?}, smoothing={:?}, threads={}, num_poses={})",
            options.model.as_str(),
            if options.hands { "True" } else { "False" },
            options.mode.as_str(),
            options.smoothing.as_str(),
            options.threads,
            options.num_poses,
        );
        let builder = options.builder();
        let pipeline = py.detach(|| builder.build()).map_err(errors::pipeline)?;
        Ok(Pipeline {
            inner: Mutex::new(pipeline),
            description,
        })
    }

    /// Processes one frame: JPEG/PNG/WebP bytes, or a `uint8` array of shape (H, W, 3) in
    /// RGB order. `timestamp_us` is the frame's time on the caller's clock (µs); one that
    /// is not after the previous frame's is moved forward, never an error
    /// (`result.timestamp_adjusted`). Without one, the pipeline's clock is used.
    #[pyo3(signature = (image, timestamp_us = None))]
    fn process(
        &self,
        py: Python<'_>,
        image: &Bound<'_, PyAny>,
        timestamp_us: Option<u64>,
    ) -> PyResult<PoseResult> {
        let ts = timestamp_us.map(Timestamp::from_micros);
        if let Ok(bytes) = image.cast::<PyBytes>() {
            let data = bytes.as_bytes();
            return py.detach(|| self.run(Frame::Encoded(data), ts));
        }
        if let Ok(array) = image.extract::<PyReadonlyArray3<'_, u8>>() {
            let shape = array.shape();
            let (h, w, c) = (shape[0], shape[1], shape[2]);
            if c != 3 {
                return Err(errors::error(
                    Kind::Config,
                    format!("an image array has shape (H, W, 3) in RGB order, got ({h}, {w}, {c})"),
                    None,
                ));
            }
            let (Ok(w), Ok(h)) = (u32::try_from(w), u32::try_from(h)) else {
                return Err(errors::error(
                    Kind::Image,
                    format!("image of {w}x{h} pixels is too large"),
                    None,
                ));
            };
            let owned;
            let data = match array.as_slice() {
                Ok(data) => data,
                Err(_) => {
                    // Not C-contiguous (a slice or a transposed view): one copy.
                    owned = array.as_array().iter().copied().collect::<Vec<u8>>();
                    &owned
                }
            };
            let view = RgbView::new(w, h, data).map_err(|e| errors::error(Kind::Image, e, None))?;
            return py.detach(|| self.run(Frame::Rgb(view), ts));
        }
        if let Ok(bytes) = image.extract::<Vec<u8>>() {
            // bytearray, memoryview and other buffers of bytes: copied once.
            return py.detach(|| self.run(Frame::Encoded(&bytes), ts));
        }
        Err(errors::error(
            Kind::Config,
            format!(
                "process() takes JPEG/PNG/WebP bytes or a numpy uint8 array of shape (H, W, 3), not {}",
                image.get_type().name()?
            ),
            None,
        ))
    }

    /// Forgets every tracked person (a new video, a scene cut).
    fn reset(&self) -> PyResult<()> {
        self.lock()?.reset();
        Ok(())
    }

    fn __repr__(&self) -> String {
        self.description.clone()
    }
}

impl Pipeline {
    fn lock(&self) -> PyResult<std::sync::MutexGuard<'_, CorePipeline>> {
        // A panic while processing (a bug) must not make the pipeline unusable forever.
        Ok(self.inner.lock().unwrap_or_else(|e| e.into_inner()))
    }

    fn run(&self, frame: Frame<'_>, ts: Option<Timestamp>) -> PyResult<PoseResult> {
        let mut pipeline = self.lock()?;
        let result = pipeline.process(frame, ts).map_err(errors::pipeline)?;
        Ok(PoseResult::new(result.clone()))
    }
}

/// Loads ONNX Runtime (from `path`, else `ORT_DYLIB_PATH`, else the `onnxruntime` package)
/// and returns the library file in use. Called by the package on import.
#[pyfunction]
#[pyo3(signature = (path = None))]
pub fn onnxruntime_library(path: Option<PathBuf>) -> PyResult<String> {
    let rt = runtime::runtime(path.as_deref()).map_err(|e| errors::error(Kind::Model, e, None))?;
    Ok(rt.library.display().to_string())
}
