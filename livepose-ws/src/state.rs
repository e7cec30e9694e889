//! What every handler of one server shares.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use livepose_core::clock::MonotonicClock;
use parking_lot::Mutex;

use crate::cluster::{Cluster, HeldCamera};
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::out::error_json;
use crate::rooms::{Room, Rooms};
use crate::scheduler::{StreamCore, WorkerPool};
use crate::source_registry::Sources;

/// The server's shared state.
pub(crate) struct AppState {
    pub(crate) config: ServerConfig,
    pub(crate) pool: WorkerPool,
    pub(crate) metrics: Arc<Metrics>,
    /// Open pose streams by id (`/streams`).
    pub(crate) streams: Mutex<HashMap<String, Arc<StreamCore>>>,
    /// Admitted connections per client address.
    pub(crate) per_ip: Mutex<HashMap<IpAddr, usize>>,
    pub(crate) rooms: Rooms,
    /// Server-side camera sources, by room.
    pub(crate) sources: Sources,
    next_id: AtomicU64,
    pub(crate) clock: MonotonicClock,
    /// A [`release_memory_soon`](Self::release_memory_soon) is pending.
    trim_pending: Arc<AtomicBool>,
    /// This node's membership in a cluster (`--nats`).
    pub(crate) cluster: Option<Arc<Cluster>>,
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
        cluster: Option<Arc<Cluster>>,
    ) -> Self {
        AppState {
            config,
            pool,
            metrics,
            streams: Mutex::new(HashMap::new()),
            per_ip: Mutex::new(HashMap::new()),
            rooms: Rooms::default(),
            sources: Sources::default(),
            next_id: AtomicU64::new(1),
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

    /// In cluster mode, claims room `name`'s camera seat across the cluster for the camera
    /// this node seated, and relays the room while it holds it; `on_taken(node)` runs if
    /// another node's camera has it. `None` outside cluster mode.
    pub(crate) fn hold_camera(
        &self,
        name: &str,
        room: &Arc<Room>,
        on_taken: impl FnOnce(String) + Send + 'static,
    ) -> Option<HeldCamera> {
        Some(self.cluster.as_ref()?.hold_camera(name, room, on_taken))
    }

    /// In cluster mode, feeds room `name` from the other nodes while it has viewers here.
    pub(crate) fn watch_room(&self, name: &str, room: &Arc<Room>) {
        if let Some(cluster) = &self.cluster {
            cluster.feeds.ensure(cluster, name, room);
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

    /// A new stream id: `prefix` and a number unique in this server.
    pub(crate) fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.next_id.fetch_add(1, Ordering::Relaxed))
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
        stream.send_text(error_json(code, message, sequence));
    }
}
