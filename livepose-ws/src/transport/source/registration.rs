//! What a running source holds, given back when its task ends, however: the room's camera
//! seat, its place in the `livepose_sources` gauge, and its entry among the running sources.

use std::sync::Arc;

use crate::rooms::{CameraSeat, RoomName};
use crate::state::AppState;

/// What a source's task holds: the room's camera seat, its place in the gauge and in the
/// running sources. Dropping it (the task ended, however) gives all of it back.
pub(crate) struct Registration {
    state: Arc<AppState>,
    room: RoomName,
    id: u64,
    /// `None` only while dropping.
    seat: Option<CameraSeat>,
}

impl Registration {
    /// The registration of source `id` of `room`, in the gauge and holding `seat`.
    pub(crate) fn new(state: Arc<AppState>, room: RoomName, id: u64, seat: CameraSeat) -> Self {
        Registration {
            state,
            room,
            id,
            seat: Some(seat),
        }
    }

    /// The room's name.
    pub(crate) fn room(&self) -> &RoomName {
        &self.room
    }

    /// The camera seat it holds.
    pub(crate) fn seat(&self) -> Option<&CameraSeat> {
        self.seat.as_ref()
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        drop(self.seat.take());
        self.state.metrics.sources.dec();
        let mut running = self.state.sources.running.lock();
        if running.get(&self.room).is_some_and(|r| r.id == self.id) {
            running.remove(&self.room);
        }
        tracing::info!(room = %self.room, "source ended");
    }
}
