//! The crate-level error: one enum that every module's error converts into.

use crate::image::ImageError;
use crate::inference::{InferenceError, PipelineError};
use crate::slot::SlotClosed;
use crate::wire::WireError;

/// Any error livepose-core reports. Each module also has its own error type; this enum lets
/// callers use `?` across modules.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A wire message could not be decoded or encoded.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// An image could not be decoded or transformed.
    #[error(transparent)]
    Image(#[from] ImageError),
    /// A model could not be loaded or run.
    #[error(transparent)]
    Inference(#[from] InferenceError),
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
