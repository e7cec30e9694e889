//! The crate-level error: one enum that every module's error converts into.

use crate::image::ImageError;
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
    /// The slot was closed.
    #[error("the frame slot is closed")]
    SlotClosed,
}

impl<T> From<SlotClosed<T>> for Error {
    fn from(_: SlotClosed<T>) -> Self {
        Error::SlotClosed
    }
}
