//! The crate-level error: one enum that every module's error converts into (with `?`).
//!
//! | module error | variant |
//! | --- | --- |
//! | [`WireError`] | [`Error::Wire`] |
//! | [`UnknownOption`] (an option's value name, `options`) | [`Error::UnknownOption`] |
//! | [`OptionsError`] (an options object, `options`) | [`Error::Options`] |
//! | [`ImageError`] | [`Error::Image`] |
//! | [`VideoError`] | [`Error::Video`] |
//! | [`GraphError`] (`onnx`) | [`Error::Graph`] |
//! | [`TfliteError`] | [`Error::Tflite`] |
//! | [`ConvertError`] (`tflite::convert`) | [`Error::Convert`] |
//! | [`RuntimeError`] (`inference::runtime`) | [`Error::Runtime`] |
//! | [`InferenceError`] (`inference::session`) | [`Error::Inference`] |
//! | [`ModelFileError`] (`inference::model_files`) | [`Error::ModelFile`] |
//! | [`PipelineError`] | [`Error::Pipeline`] |
//! | [`SlotClosed`] | [`Error::SlotClosed`] (the item is dropped) |

use crate::image::ImageError;
use crate::inference::model_files::ModelFileError;
use crate::inference::{InferenceError, PipelineError, RuntimeError};
use crate::onnx::GraphError;
use crate::options::{OptionsError, UnknownOption};
use crate::slot::SlotClosed;
use crate::tflite::{ConvertError, TfliteError};
use crate::video::VideoError;
use crate::wire::WireError;

/// Any error livepose-core reports. Each module also has its own error type; this enum lets
/// callers use `?` across modules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A wire message could not be decoded or encoded.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// A name that is none of an option's values (model, smoothing, mode, image format).
    #[error(transparent)]
    UnknownOption(#[from] UnknownOption),
    /// Options that were refused (an unknown name, a bad value).
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// An image could not be decoded or transformed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// An H.264 access unit was refused, or a frame could not be encoded.
    #[error(transparent)]
    Video(#[from] VideoError),
    /// An ONNX model could not be read or pruned.
    #[error(transparent)]
    Graph(#[from] GraphError),
    /// A TFLite model could not be read.
    #[error(transparent)]
    Tflite(#[from] TfliteError),
    /// A TFLite model could not be converted to ONNX.
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// The ONNX Runtime library could not be found or loaded.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A model could not be loaded or run.
    #[error(transparent)]
    Inference(#[from] InferenceError),
    /// A model file could not be found, read or converted.
    #[error(transparent)]
    ModelFile(#[from] ModelFileError),
    /// The pose pipeline failed on a frame.
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// The slot was closed.
    #[error("the frame slot is closed")]
    SlotClosed,
}

impl<T> From<SlotClosed<T>> for Error {
    fn from(_: SlotClosed<T>) -> Self {
        Error::SlotClosed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `?` from a function returning `Result<(), E>` into one returning
    /// `Result<(), Error>`, and the variant it lands in.
    fn lift<E>(e: E) -> Error
    where
        Error: From<E>,
    {
        fn fails<E>(e: E) -> Result<(), E> {
            Err(e)
        }
        fn caller<E>(e: E) -> Result<(), Error>
        where
            Error: From<E>,
        {
            fails(e)?;
            Ok(())
        }
        caller(e).unwrap_err()
    }

    #[test]
    fn every_module_error_converts_with_question_mark() {
        let wire = crate::wire::FrameView::parse(b"").unwrap_err();
        assert!(matches!(lift(wire), Error::Wire(_)));
        let option = "huge".parse::<crate::options::ModelKind>().unwrap_err();
        assert!(matches!(lift(option), Error::UnknownOption(_)));
        let options = crate::inference::PipelineOptions::from_json("{\"threads\": 0}").unwrap_err();
        assert!(matches!(lift(options), Error::Options(_)));
        assert!(matches!(lift(ImageError::UnknownFormat), Error::Image(_)));
        let video = crate::video::scan_access_unit(b"").unwrap_err();
        assert!(matches!(lift(video), Error::Video(_)));
        let graph = crate::onnx::prune_outputs(b"", &[]).unwrap_err();
        assert!(matches!(lift(graph), Error::Graph(_)));
        let tflite = crate::tflite::TfliteModel::parse(b"").unwrap_err();
        assert!(matches!(lift(tflite), Error::Tflite(_)));
        let convert = crate::tflite::tflite_to_onnx(b"", "empty").unwrap_err();
        assert!(matches!(lift(convert), Error::Convert(_)));
        let runtime = || RuntimeError::Environment("no environment".into());
        assert!(matches!(lift(runtime()), Error::Runtime(_)));
        let inference = InferenceError::Runtime(runtime());
        assert!(matches!(lift(inference), Error::Inference(_)));
        let model_file = ModelFileError::NotFound {
            role: "pose landmarks (lite)".into(),
            dir: "models".into(),
            looked_for: "pose_landmark_lite.onnx".into(),
        };
        assert!(matches!(lift(model_file), Error::ModelFile(_)));
        let pipeline = PipelineError::from(ImageError::UnknownFormat);
        assert!(matches!(lift(pipeline), Error::Pipeline(_)));
        let slot = crate::LatestSlot::new();
        slot.close();
        let closed = slot.put(1u8).unwrap_err();
        assert!(matches!(lift(closed), Error::SlotClosed));
    }
}
