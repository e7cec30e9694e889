//! What a stream's connection remembers between its messages, and opening one.

use std::sync::Arc;
use std::time::Instant;

use livepose_core::wire::control::{ResultFormat, StreamOptions};

use crate::rate::FrameRateCap;
use crate::rooms::Room;
use crate::scheduler::{StreamCore, StreamSettings};
use crate::state::AppState;

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

impl Session {
    /// A new stream with the server's defaults, listed in `/streams` as `{prefix}{n}`, and
    /// its session: results in `results` until the client says otherwise; `room`, the room
    /// whose camera it is.
    pub(crate) fn open(
        state: &AppState,
        prefix: &str,
        results: ResultFormat,
        room: Option<Arc<Room>>,
    ) -> Session {
        let settings = StreamSettings {
            model: state.config.model,
            results,
        };
        let tracker = state.config.pipeline_builder().tracker();
        let stream = StreamCore::new(state.next_id(prefix), tracker, settings);
        if let Some(room) = &room {
            stream.publish_to(room.clone());
            room.set_camera_stream(&stream.id);
        }
        state
            .streams
            .lock()
            .insert(stream.id.clone(), stream.clone());
        Session {
            stream,
            options: StreamOptions::default(),
            said_hello: false,
            image: Vec::new(),
            cap: FrameRateCap::new(state.config.max_fps, Instant::now()),
            room,
        }
    }
}
