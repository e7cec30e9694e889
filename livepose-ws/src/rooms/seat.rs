//! A camera's seat in a room. [`CameraSeat::take`] is the only way to take one, and dropping
//! the [`CameraSeat`] the only way to give it back, so whatever holds it (a WebSocket camera,
//! a Socket.IO camera, a server-side source) gives it back on every path it ends by: the
//! room forgets its camera and is forgotten itself if nobody is left in it. What was held
//! with the seat (the cluster's claim on the room, [`CameraSeat::hold`]) is dropped first.

use std::sync::Arc;

use super::name::RoomName;
use super::room::{CameraKind, Room};
use super::table::Rooms;

/// A room's camera seat, held.
pub(crate) struct CameraSeat {
    /// Held for as long as the seat, and dropped just before it is given back.
    held: Option<Box<dyn Send + Sync>>,
    rooms: Arc<Rooms>,
    name: RoomName,
    room: Arc<Room>,
}

impl std::fmt::Debug for CameraSeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraSeat")
            .field("room", &self.name)
            .finish_non_exhaustive()
    }
}

impl CameraSeat {
    /// Seats a camera of `kind` in room `name` (made if it does not exist); `None` if a
    /// camera sits there already.
    pub(crate) fn take(rooms: &Arc<Rooms>, name: &RoomName, kind: CameraKind) -> Option<Self> {
        let room = rooms.seat_camera(name, kind)?;
        Some(CameraSeat {
            held: None,
            rooms: rooms.clone(),
            name: name.clone(),
            room,
        })
    }

    /// The room.
    pub(crate) fn room(&self) -> &Arc<Room> {
        &self.room
    }

    /// The room's name.
    pub(crate) fn name(&self) -> &RoomName {
        &self.name
    }

    /// Records the camera's stream (shown in `GET /rooms/{room}`).
    pub(crate) fn set_stream(&self, id: &str) {
        self.room.set_camera_stream(id);
    }

    /// Holds `held` for as long as the seat (dropped before the seat is given back).
    pub(crate) fn hold(&mut self, held: impl Send + Sync + 'static) {
        self.held = Some(Box::new(held));
    }
}

impl Drop for CameraSeat {
    fn drop(&mut self) {
        drop(self.held.take());
        self.room.vacate();
        self.rooms.tidy(self.name.as_str());
    }
}
