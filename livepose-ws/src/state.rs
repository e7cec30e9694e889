//! What every handler of one server shares.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use livepose_core::clock::MonotonicClock;
use parking_lot::Mutex;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::out::error_json;
use crate::rooms::Rooms;
use crate::scheduler::{StreamCore, WorkerPool};
use crate::source::Sources;

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
}

/// How long after a connection closes the server gives free memory back: closes within it
/// share one trim.
const TRIM_DELAY: Duration = Duration::from_secs(1);

impl AppState {
    pub(crate) fn new(config: ServerConfig, pool: WorkerPool, metrics: Arc<Metrics>) -> Self {
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
