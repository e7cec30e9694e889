//! What every handler of one server shares ([`AppState`]): the configuration, the worker
//! pool, the metrics, the open streams, the per-IP counts, the rooms, the running sources,
//! the cluster; and the two things done with several of them at once: seating a room's
//! camera (in the room, and in the cluster when there is one) and sending a stream an error.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use livepose_core::clock::MonotonicClock;
use parking_lot::Mutex;

use crate::cluster::Cluster;
use crate::config::ServerConfig;
use crate::message;
use crate::metrics::Metrics;
use crate::pool::WorkerPool;
use crate::rooms::{CameraKind, CameraSeat, Frames, Room, RoomName, Rooms, Viewer};
use crate::sources::Sources;
use crate::streams::{StreamCore, Streams};

/// One client address's places: its admitted streams (sockets, `/estimate_pose` requests)
/// and its connections whose first request has not arrived yet, those that sent nothing
/// (`idle`) and those that sent part of it (`partial`: a request whose headers do not end).
#[derive(Debug, Default)]
pub(crate) struct Places {
    pub(crate) streams: usize,
    pub(crate) idle: usize,
    pub(crate) partial: usize,
}

impl Places {
    pub(crate) fn is_empty(&self) -> bool {
        self.streams == 0 && self.idle == 0 && self.partial == 0
    }
}

/// The server's shared state.
pub(crate) struct AppState {
    pub(crate) config: ServerConfig,
    pub(crate) pool: WorkerPool,
    pub(crate) metrics: Arc<Metrics>,
    /// Open pose streams by id (`/streams`).
    pub(crate) streams: Streams,
    /// What each client address holds (`admission::limits`).
    pub(crate) per_ip: Mutex<HashMap<IpAddr, Places>>,
    pub(crate) rooms: Arc<Rooms>,
    /// Server-side camera sources, by room.
    pub(crate) sources: Sources,
    pub(crate) clock: MonotonicClock,
    /// A [`release_memory_soon`](Self::release_memory_soon) is pending.
    trim_pending: Arc<AtomicBool>,
    /// This node's membership in a cluster (`--nats`).
    pub(crate) cluster: Option<Cluster>,
    /// Shutting down: `/ready` says no, and closing sockets tell clients to reconnect.
    draining: AtomicBool,
}

/// How long after a connection closes the server gives free memory back: closes within it
/// share one trim.
const TRIM_DELAY: Duration = Duration::from_secs(1);

impl AppState {
    pub(crate) fn new(
        config: ServerConfig,
        pool: WorkerPool,
        metrics: Arc<Metrics>,
        cluster: Option<Cluster>,
    ) -> Self {
        AppState {
            config,
            pool,
            metrics,
            streams: Streams::default(),
            per_ip: Mutex::new(HashMap::new()),
            rooms: Arc::default(),
            sources: Sources::default(),
            clock: MonotonicClock::system(),
            trim_pending: Arc::default(),
            cluster,
            draining: AtomicBool::new(false),
        }
    }

    /// Whether the server is shutting down.
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Starts shutting down (`/ready` turns false).
    pub(crate) fn drain(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// Seats a camera of `kind` in room `name`: the seat in the room, and in cluster mode
    /// the room's claim across the cluster (held with the seat, and while held the room is
    /// relayed to the other nodes); `on_taken(node)` runs if another node's camera has the
    /// room, now or later. `None` if a camera sits in the room here already.
    pub(crate) fn take_camera_seat(
        &self,
        name: &RoomName,
        kind: CameraKind,
        on_taken: impl FnOnce(String) + Send + 'static,
    ) -> Option<CameraSeat> {
        let mut seat = CameraSeat::take(&self.rooms, name, kind)?;
        if let Some(cluster) = &self.cluster {
            seat.hold(cluster.hold_camera(name.as_str(), seat.room(), on_taken));
        }
        Some(seat)
    }

    /// `viewer` into room `name` (made on first use), fed from the other nodes in cluster
    /// mode; a viewer that shows the camera's frames has an H.264 camera asked for a
    /// keyframe (on this node: a camera on another node sends its next periodic one).
    pub(crate) fn join_room(&self, name: &RoomName, viewer: Arc<Viewer>) -> Arc<Room> {
        let wants_frames = viewer.wants == Frames::Camera;
        let room = self.rooms.join(name, viewer);
        self.watch_room(name, &room);
        let camera = room.occupant().and_then(|o| o.stream_id);
        if let Some(stream) = camera
            .filter(|_| wants_frames)
            .and_then(|id| self.streams.get(&id))
        {
            stream.viewer_joined(self.clock.now_wall_us());
        }
        room
    }

    /// In cluster mode, feeds room `name` from the other nodes while it has viewers here.
    fn watch_room(&self, name: &RoomName, room: &Arc<Room>) {
        if let Some(cluster) = &self.cluster {
            cluster.watch_room(name.as_str(), room);
        }
    }

    /// Gives the memory freed by closed connections back to the OS a moment from now (glibc
    /// keeps freed memory in its heaps: after a burst of connections the process would stay
    /// at its high-water mark). Closes in the meantime share the one trim, so a storm of
    /// disconnects trims about once a second, and once after the last.
    pub(crate) fn release_memory_soon(&self) {
        if self.trim_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let pending = self.trim_pending.clone();
        tokio::spawn(async move {
            tokio::time::sleep(TRIM_DELAY).await;
            pending.store(false, Ordering::Release);
            let _ =
                tokio::task::spawn_blocking(livepose_core::inference::release_free_memory).await;
        });
    }

    /// Sends `stream` a non-fatal `error` message about frame `sequence` and counts it in
    /// `livepose_errors_total`.
    pub(crate) fn send_error(
        &self,
        stream: &StreamCore,
        code: &'static str,
        message: &str,
        sequence: u64,
    ) {
        self.metrics.record_error(code);
        stream.send_text(message::error(code, message, Some(sequence), false));
    }
}
