//! The rooms by name: a room is made when a viewer joins or a camera takes its seat, and
//! forgotten when it has neither ([`Rooms::tidy`]) or is removed (`DELETE /rooms/{room}`).
//! Joining and seating find the room under the lock that tidying takes, so a room cannot be
//! forgotten between the two.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;

use super::name::RoomName;
use super::room::{CameraKind, Room};
use super::viewer::Viewer;

/// The rooms by name.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    rooms: Mutex<HashMap<RoomName, Arc<Room>>>,
}

impl Rooms {
    /// The room `name` (made on first use) with `viewer` in it. Found and joined under the
    /// lock [`tidy`](Self::tidy) takes, so a room cannot be forgotten between the two (its
    /// viewer would then wait for a camera that publishes to a new room).
    pub(crate) fn join(&self, name: &RoomName, viewer: Arc<Viewer>) -> Arc<Room> {
        let mut rooms = self.rooms.lock();
        let room = rooms.entry(name.clone()).or_default().clone();
        room.audience.join(viewer);
        room
    }

    /// The room `name` (made on first use) with a camera of `kind` seated, under the same
    /// lock; `None` if a camera sits there already. For
    /// [`CameraSeat::take`](super::seat::CameraSeat::take) alone.
    pub(super) fn seat_camera(&self, name: &RoomName, kind: CameraKind) -> Option<Arc<Room>> {
        let mut rooms = self.rooms.lock();
        let room = rooms.entry(name.clone()).or_default().clone();
        room.seat(kind).then_some(room)
    }

    /// The room `name`, if it exists.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Room>> {
        self.rooms.lock().get(name).cloned()
    }

    /// Every room and its name, sorted by name.
    pub(crate) fn list(&self) -> Vec<(RoomName, Arc<Room>)> {
        let mut rooms: Vec<_> = self
            .rooms
            .lock()
            .iter()
            .map(|(name, room)| (name.clone(), room.clone()))
            .collect();
        rooms.sort_by(|a, b| a.0.cmp(&b.0));
        rooms
    }

    /// Closes every room (shutting down).
    pub(crate) fn close_all(&self) {
        for room in self.rooms.lock().values() {
            room.close();
        }
    }

    /// Forgets room `name` and closes it; `None` if there is no such room.
    pub(crate) fn remove(&self, name: &str) -> Option<Arc<Room>> {
        let room = self.rooms.lock().remove(name)?;
        room.close();
        Some(room)
    }

    /// Forgets `name` if it has neither camera nor viewers.
    pub(crate) fn tidy(&self, name: &str) {
        let mut rooms = self.rooms.lock();
        if rooms.get(name).is_some_and(|room| room.is_empty()) {
            rooms.remove(name);
        }
    }
}
