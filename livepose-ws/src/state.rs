//! What every handler of one server shares.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use livepose_core::clock::MonotonicClock;
use parking_lot::Mutex;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::out::error_json;
use crate::rooms::Rooms;
use crate::scheduler::{StreamCore, WorkerPool};

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
    next_id: AtomicU64,
    pub(crate) clock: MonotonicClock,
}

impl AppState {
    pub(crate) fn new(config: ServerConfig, pool: WorkerPool, metrics: Arc<Metrics>) -> Self {
        AppState {
            config,
            pool,
            metrics,
            streams: Mutex::new(HashMap::new()),
            per_ip: Mutex::new(HashMap::new()),
            rooms: Rooms::default(),
            next_id: AtomicU64::new(1),
            clock: MonotonicClock::system(),
        }
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
