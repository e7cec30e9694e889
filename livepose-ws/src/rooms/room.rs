//! One room: one camera publishes, many viewers receive its results and, if they ask, the
//! camera's frames or the server's annotated frames ([`Audience`]). A room also records who
//! sits in its camera seat (taken and given back through a [`CameraSeat`]), keeps its
//! figures (`GET /rooms`) and draws annotated frames once for all who want them.
//!
//! [`CameraSeat`]: super::seat::CameraSeat

use std::sync::Arc;
use std::time::Instant;

use livepose_core::image::RgbView;
use livepose_core::types::Pose;
use parking_lot::{Mutex, MutexGuard};

use super::annotate::Annotator;
use super::audience::Audience;
use super::meter::RoomMeter;
use super::viewer::Frames;

/// What kind of camera sits in a seat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CameraKind {
    /// `/ws/rooms/{room}/camera`.
    Socket,
    /// A Socket.IO connection that joined as the camera.
    SocketIo,
    /// A server-side source.
    Source,
}

impl CameraKind {
    /// Its name in `GET /rooms/{room}`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CameraKind::Socket => "socket",
            CameraKind::SocketIo => "socket.io",
            CameraKind::Source => "source",
        }
    }
}

/// Who sits in a room's camera seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Occupant {
    pub(crate) kind: CameraKind,
    /// Its stream's id in `/streams`, once open.
    pub(crate) stream_id: Option<String>,
}

/// A room.
#[derive(Debug, Default)]
pub(crate) struct Room {
    /// Its viewers and relays, and its closing.
    pub(crate) audience: Audience,
    occupant: Mutex<Option<Occupant>>,
    annotator: Annotator,
    meter: Mutex<RoomMeter>,
}

impl Room {
    /// Draws `poses` on a copy of `frame` and sends the JPEG to those that want annotated
    /// frames: drawn and encoded once, off the caller's thread, latest wins.
    pub(crate) fn annotate(self: &Arc<Self>, frame: RgbView<'_>, poses: &[Pose]) {
        let room = self.clone();
        self.annotator.submit(frame, poses, move |jpeg| {
            room.audience.publish_frames(Frames::Annotated, &jpeg);
        });
    }

    /// Annotated frames drawn (once each, whatever the number of viewers), and replaced
    /// before they were drawn.
    pub(crate) fn annotated_counts(&self) -> (u64, u64) {
        self.annotator.counts()
    }

    /// Counts a camera frame arriving at `now`.
    pub(crate) fn frame_in(&self, now: Instant) {
        self.meter.lock().frame_in(now);
    }

    /// Counts a result made at `now`, `latency_us` after its frame arrived.
    pub(crate) fn result_out(&self, latency_us: u64, now: Instant) {
        self.meter.lock().result_out(latency_us, now);
    }

    /// The meter, to read figures from.
    pub(crate) fn meter(&self) -> MutexGuard<'_, RoomMeter> {
        self.meter.lock()
    }

    /// Who sits in the camera seat.
    pub(crate) fn occupant(&self) -> Option<Occupant> {
        self.occupant.lock().clone()
    }

    /// Seats a camera of `kind`; false if one sits there already (for
    /// [`CameraSeat`](super::seat::CameraSeat) alone, through the rooms' table).
    pub(super) fn seat(&self, kind: CameraKind) -> bool {
        let mut occupant = self.occupant.lock();
        if occupant.is_some() {
            return false;
        }
        *occupant = Some(Occupant {
            kind,
            stream_id: None,
        });
        true
    }

    /// Records the camera's stream id.
    pub(super) fn set_camera_stream(&self, id: &str) {
        if let Some(occupant) = &mut *self.occupant.lock() {
            occupant.stream_id = Some(id.to_string());
        }
    }

    /// Frees the camera seat (for [`CameraSeat`](super::seat::CameraSeat)'s drop alone).
    pub(super) fn vacate(&self) {
        *self.occupant.lock() = None;
    }

    /// Whether nobody is in it: no camera, no viewer (it may be forgotten).
    pub(super) fn is_empty(&self) -> bool {
        self.audience.count() == 0 && self.occupant.lock().is_none()
    }

    /// Closes the room (`DELETE /rooms/{room}`, shutdown): its viewers' slots close, and
    /// [`closed`](Self::closed) resolves for its camera and source.
    pub(crate) fn close(&self) {
        self.audience.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.audience.is_closed()
    }

    /// Resolves once the room is closed.
    pub(crate) async fn closed(&self) {
        self.audience.closed().await;
    }
}
