//! The open streams by id: what `GET /streams` lists, what the connection limit counts, and
//! what a shutdown closes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::stream::StreamCore;

/// The open streams.
#[derive(Debug)]
pub(crate) struct Streams {
    by_id: Mutex<HashMap<String, Arc<StreamCore>>>,
    next_id: AtomicU64,
}

impl Default for Streams {
    fn default() -> Self {
        Streams {
            by_id: Mutex::default(),
            next_id: AtomicU64::new(1),
        }
    }
}

impl Streams {
    /// A new stream id: `prefix` and a number unique in this server.
    pub(crate) fn next_id(&self, prefix: &str) -> String {
        format!("{prefix}{}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Lists `stream` (again, if it was listed before).
    pub(crate) fn insert(&self, stream: Arc<StreamCore>) {
        self.by_id.lock().insert(stream.id.clone(), stream);
    }

    /// Unlists stream `id`; the stream, if it was listed.
    pub(crate) fn remove(&self, id: &str) -> Option<Arc<StreamCore>> {
        self.by_id.lock().remove(id)
    }

    /// Stream `id`, if listed.
    pub(crate) fn get(&self, id: &str) -> Option<Arc<StreamCore>> {
        self.by_id.lock().get(id).cloned()
    }

    /// How many are listed.
    pub(crate) fn len(&self) -> usize {
        self.by_id.lock().len()
    }

    /// The listed streams.
    pub(crate) fn list(&self) -> Vec<Arc<StreamCore>> {
        self.by_id.lock().values().cloned().collect()
    }

    /// Closes every listed stream (shutting down).
    pub(crate) fn close_all(&self) {
        for stream in self.by_id.lock().values() {
            stream.close();
        }
    }
}
