//! What a stream's connection remembers between its messages, and opening one.

use std::sync::Arc;
use std::time::Instant;

use livepose_core::wire::control::{ResultFormat, StreamOptions};

use super::rate::FrameRateCap;
use super::video::VideoInbound;
use crate::rooms::{CameraSeat, Room};
use crate::state::AppState;
use crate::streams::{StreamCore, StreamSettings};

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
    /// The stream's H.264 decoder, from its first H.264 frame.
    pub(crate) video: Option<VideoInbound>,
}

impl Session {
    /// A new stream with the server's defaults, listed in `/streams` as `{prefix}{n}`, and
    /// its session: results in `results` until the client says otherwise; `seat`, the camera
    /// seat it publishes to.
    pub(crate) fn open(
        state: &AppState,
        prefix: &str,
        results: ResultFormat,
        seat: Option<&CameraSeat>,
    ) -> Session {
        let settings = StreamSettings {
            model: state.config.model,
            results,
        };
        let tracker = state.config.pipeline_builder().tracker();
        let stream = StreamCore::new(state.streams.next_id(prefix), tracker, settings);
        state.streams.insert(stream.clone());
        let mut session = Session {
            stream,
            options: StreamOptions::default(),
            said_hello: false,
            image: Vec::new(),
            cap: FrameRateCap::new(state.config.max_fps, Instant::now()),
            room: None,
            video: None,
        };
        if let Some(seat) = seat {
            session.publish_to(seat);
        }
        session
    }

    /// Makes this the camera of `seat`'s room: its results, and its frames, go to the
    /// room's viewers.
    pub(crate) fn publish_to(&mut self, seat: &CameraSeat) {
        self.stream.publish_to(seat.room().clone());
        seat.set_stream(&self.stream.id);
        self.room = Some(seat.room().clone());
    }

    /// Stops publishing to its room.
    pub(crate) fn unpublish(&mut self) {
        self.stream.unpublish();
        self.room = None;
    }
}
