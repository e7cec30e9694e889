//! What a stream's connection remembers between its messages.

use std::sync::Arc;

use livepose_core::wire::control::StreamOptions;

use crate::rate::FrameRateCap;
use crate::rooms::Room;
use crate::scheduler::StreamCore;

/// What a connection remembers between messages.
pub(crate) struct Session {
    pub(crate) stream: Arc<StreamCore>,
    pub(crate) options: StreamOptions,
    pub(crate) said_hello: bool,
    /// The decoded payload of a JSON+base64 frame (handed to inference, not kept).
    pub(crate) image: Vec<u8>,
    pub(crate) cap: FrameRateCap,
    /// The room whose camera this is: its viewers may get the frames too.
    pub(crate) room: Option<Arc<Room>>,
}
