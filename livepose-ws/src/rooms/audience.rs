//! Who gets a room's camera output: its viewers (counted, and told the room's notices) and
//! its relays (the cluster's, [`crate::cluster`]: fed the camera's results and frames like a
//! viewer, but neither counted nor told anything), each with latest-wins slots of its own;
//! and the room's closing, which ends them all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use parking_lot::Mutex;
use tokio::sync::watch;

use super::viewer::{Frames, Viewer};
use crate::message::OutMessage;

/// A room's viewers and relays.
#[derive(Debug, Default)]
pub(crate) struct Audience {
    viewers: Mutex<Vec<Arc<Viewer>>>,
    relays: Mutex<Vec<Arc<Viewer>>>,
    /// Viewers and relays that want annotated frames: the workers draw only while there are
    /// some.
    annotated: AtomicUsize,
    /// The number of viewers, as it changes (a source may stop with its last viewer).
    count: watch::Sender<usize>,
    /// Set once the room is closed (`DELETE /rooms/{room}`, shutdown).
    closed: watch::Sender<bool>,
}

impl Audience {
    /// Sends a camera result to every viewer and relay (latest wins per viewer).
    pub(crate) fn publish_result(&self, out: &OutMessage) {
        for viewer in self.viewers.lock().iter().chain(self.relays.lock().iter()) {
            let _ = viewer.results.put(out.clone());
        }
    }

    /// Passes a frame message (a camera's, or an annotated JPEG) to those that want such
    /// frames (shared, not copied).
    pub(crate) fn publish_frames(&self, wants: Frames, message: &Bytes) {
        for viewer in self.viewers.lock().iter().chain(self.relays.lock().iter()) {
            if let (true, Some(frames)) = (viewer.wants == wants, &viewer.frames) {
                let _ = frames.put(message.clone());
            }
        }
    }

    /// Sends a control message (JSON) to every viewer; one whose queue is full misses it.
    pub(crate) fn notify(&self, text: &str) {
        for viewer in self.viewers.lock().iter() {
            viewer.notify(text);
        }
    }

    /// Whether any viewer or relay wants annotated frames (checked before copying a frame
    /// for them).
    pub(crate) fn wants_annotated(&self) -> bool {
        self.annotated.load(Ordering::Relaxed) > 0
    }

    /// Whether any viewer (not relay) wants `frames`.
    pub(crate) fn viewers_want(&self, frames: Frames) -> bool {
        self.viewers.lock().iter().any(|v| v.wants == frames)
    }

    /// Adds a viewer (a closed room's viewer is closed at once).
    pub(crate) fn join(&self, viewer: Arc<Viewer>) {
        // Under the lock `close` takes: a viewer joins before the room closes, or sees it.
        let mut viewers = self.viewers.lock();
        if self.is_closed() {
            viewer.close();
        }
        if viewer.wants == Frames::Annotated {
            self.annotated.fetch_add(1, Ordering::Relaxed);
        }
        viewers.push(viewer);
        self.count.send_replace(viewers.len());
    }

    /// Removes a viewer and closes its slots.
    pub(crate) fn leave(&self, viewer: &Arc<Viewer>) {
        viewer.close();
        let mut viewers = self.viewers.lock();
        if remove(&mut viewers, viewer) && viewer.wants == Frames::Annotated {
            self.annotated.fetch_sub(1, Ordering::Relaxed);
        }
        self.count.send_replace(viewers.len());
    }

    /// Adds a relay: it gets the camera's results and frames, and is no viewer.
    pub(crate) fn add_relay(&self, relay: Arc<Viewer>) {
        if relay.wants == Frames::Annotated {
            self.annotated.fetch_add(1, Ordering::Relaxed);
        }
        self.relays.lock().push(relay);
    }

    /// Removes a relay and closes its slots.
    pub(crate) fn remove_relay(&self, relay: &Arc<Viewer>) {
        relay.close();
        if remove(&mut self.relays.lock(), relay) && relay.wants == Frames::Annotated {
            self.annotated.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Viewers connected now.
    pub(crate) fn count(&self) -> usize {
        self.viewers.lock().len()
    }

    /// The viewers connected now.
    pub(crate) fn viewers(&self) -> Vec<Arc<Viewer>> {
        self.viewers.lock().clone()
    }

    /// The number of viewers, as it changes.
    pub(crate) fn watch_count(&self) -> watch::Receiver<usize> {
        self.count.subscribe()
    }

    /// Closes every viewer's slots, and [`closed`](Self::closed) resolves.
    pub(crate) fn close(&self) {
        let viewers = self.viewers.lock();
        self.closed.send_replace(true);
        for viewer in viewers.iter() {
            viewer.close();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Resolves once closed.
    pub(crate) async fn closed(&self) {
        let mut closed = self.closed.subscribe();
        let _ = closed.wait_for(|c| *c).await;
    }
}

/// Removes `one` from `list`; whether it was there.
fn remove(list: &mut Vec<Arc<Viewer>>, one: &Arc<Viewer>) -> bool {
    let before = list.len();
    list.retain(|v| !Arc::ptr_eq(v, one));
    list.len() < before
}
