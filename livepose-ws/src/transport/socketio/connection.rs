//! One Socket.IO connection: its pose stream and session, where its results go, and the
//! room it joined, if any (as the camera, holding the room's camera seat, or as a viewer).

use std::sync::Arc;

use parking_lot::Mutex;

use crate::metrics::Connected;
use crate::rooms::{CameraSeat, Room, RoomName, Viewer};
use crate::sessions::Session;
use crate::state::AppState;
use crate::streams::StreamCore;

/// A connection's pose stream and where its results go.
pub(crate) struct Connection {
    pub(crate) stream: Arc<StreamCore>,
    pub(crate) session: Mutex<Session>,
    pub(crate) result_event: String,
    /// The room this connection joined, if any.
    pub(crate) joined: Mutex<Option<Joined>>,
    /// Wakes the writer when the connection joins a room.
    pub(crate) join_signal: tokio::sync::Notify,
    pub(crate) _connected: Connected,
    pub(crate) _listed: Listed,
}

/// A connection's stream in the stream table, until the connection is dropped: a socket
/// that closed before its disconnect handler could run leaves no ghost behind.
pub(crate) struct Listed {
    state: Arc<AppState>,
    stream: Arc<StreamCore>,
}

impl Listed {
    pub(crate) fn new(state: &Arc<AppState>, stream: &Arc<StreamCore>) -> Self {
        Listed {
            state: state.clone(),
            stream: stream.clone(),
        }
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        self.stream.close();
        self.state.streams.remove(&self.stream.id);
    }
}

/// A connection's place in a room.
pub(crate) enum Joined {
    /// The room's camera: its seat (and the cluster's claim, held with it).
    Camera(CameraSeat),
    /// A viewer of the room.
    Viewer(RoomName, Arc<Room>, Arc<Viewer>),
}

impl Joined {
    /// The room.
    pub(crate) fn room(&self) -> &Arc<Room> {
        match self {
            Joined::Camera(seat) => seat.room(),
            Joined::Viewer(_, room, _) => room,
        }
    }
}

impl Connection {
    /// The room this connection is in, if any.
    pub(crate) fn room(&self) -> Option<Arc<Room>> {
        self.joined.lock().as_ref().map(|j| j.room().clone())
    }

    /// The room viewer this connection is, if it joined as one.
    pub(crate) fn viewer(&self) -> Option<Arc<Viewer>> {
        match &*self.joined.lock() {
            Some(Joined::Viewer(_, _, viewer)) => Some(viewer.clone()),
            _ => None,
        }
    }
}
