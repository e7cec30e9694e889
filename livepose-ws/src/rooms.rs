//! Rooms: one camera publishes frames, many viewers receive its results and, if they ask,
//! the camera's frames. Each viewer has latest-wins slots of its own, so a slow viewer
//! gets fresh results and frames, never a backlog, and never slows the camera or others.
//! A room can be closed (`DELETE /rooms/{room}`): its camera and viewers then end; a
//! server-side source ([`crate::source`]) also watches its viewer count and sends its
//! viewers notices (`source_lost`, `source_back`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use livepose_core::slot::LatestSlot;
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};

use crate::out::OutMessage;

/// One viewer of a room.
#[derive(Debug)]
pub(crate) struct Viewer {
    /// The camera's latest result.
    pub(crate) results: LatestSlot<OutMessage>,
    /// The camera's latest frame message (protocol v1 bytes), for viewers that asked.
    pub(crate) frames: Option<LatestSlot<Bytes>>,
    /// Control messages about the room (JSON), a few at most; see [`Room::notify`].
    notices: Notices,
}

impl Viewer {
    /// A viewer; `frames`: also pass the camera's frames through.
    pub(crate) fn new(frames: bool) -> Arc<Self> {
        Arc::new(Viewer {
            results: LatestSlot::new(),
            frames: frames.then(LatestSlot::new),
            notices: Notices::new(),
        })
    }

    /// The receiving end of the room's notices (for the viewer's writer; once).
    pub(crate) fn take_notices(&self) -> Option<mpsc::Receiver<String>> {
        self.notices.rx.lock().take()
    }

    fn close(&self) {
        self.results.close();
        if let Some(frames) = &self.frames {
            frames.close();
        }
    }
}

/// Notices that may wait for a slow viewer before new ones are dropped.
const NOTICE_QUEUE: usize = 8;

/// A viewer's small queue of notices: a notice never displaces a result, nor the reverse.
#[derive(Debug)]
struct Notices {
    tx: mpsc::Sender<String>,
    rx: Mutex<Option<mpsc::Receiver<String>>>,
}

impl Notices {
    fn new() -> Self {
        let (tx, rx) = mpsc::channel(NOTICE_QUEUE);
        Notices {
            tx,
            rx: Mutex::new(Some(rx)),
        }
    }
}

/// A room.
#[derive(Debug, Default)]
pub(crate) struct Room {
    viewers: Mutex<Vec<Arc<Viewer>>>,
    camera: Mutex<bool>,
    signals: RoomSignals,
}

/// What a room's camera and source wait on: its closing, and its number of viewers.
#[derive(Debug, Default)]
struct RoomSignals {
    closed: watch::Sender<bool>,
    viewers: watch::Sender<usize>,
}

impl Room {
    /// Sends a camera result to every viewer (latest wins per viewer).
    pub(crate) fn publish_result(&self, out: &OutMessage) {
        for viewer in self.viewers.lock().iter() {
            let _ = viewer.results.put(out.clone());
        }
    }

    /// Passes a camera frame message to the viewers that asked for frames (shared, not
    /// copied).
    pub(crate) fn publish_frame(&self, message: &Bytes) {
        for viewer in self.viewers.lock().iter() {
            if let Some(frames) = &viewer.frames {
                let _ = frames.put(message.clone());
            }
        }
    }

    /// Adds a viewer (a closed room's viewer is closed at once).
    pub(crate) fn join(&self, viewer: Arc<Viewer>) {
        // Under the lock `close` takes: a viewer joins before the room closes, or sees it.
        let mut viewers = self.viewers.lock();
        if self.is_closed() {
            viewer.close();
        }
        viewers.push(viewer);
        self.signals.viewers.send_replace(viewers.len());
    }

    /// Removes a viewer and closes its slots.
    pub(crate) fn leave(&self, viewer: &Arc<Viewer>) {
        viewer.close();
        let mut viewers = self.viewers.lock();
        viewers.retain(|v| !Arc::ptr_eq(v, viewer));
        self.signals.viewers.send_replace(viewers.len());
    }

    /// Claims the camera seat; false if a camera is already publishing.
    pub(crate) fn claim_camera(&self) -> bool {
        let mut camera = self.camera.lock();
        !std::mem::replace(&mut *camera, true)
    }

    /// Frees the camera seat.
    pub(crate) fn release_camera(&self) {
        *self.camera.lock() = false;
    }

    /// Viewers connected now.
    pub(crate) fn viewer_count(&self) -> usize {
        self.viewers.lock().len()
    }
}

/// Closing a room, and what its camera, source and viewers are told.
impl Room {
    /// Sends a control message (JSON) to every viewer; one whose queue is full misses it.
    pub(crate) fn notify(&self, text: &str) {
        for viewer in self.viewers.lock().iter() {
            let _ = viewer.notices.tx.try_send(text.to_string());
        }
    }

    /// Closes the room: its viewers' slots close, and [`closed`](Self::closed) resolves
    /// for its camera and source.
    pub(crate) fn close(&self) {
        let viewers = self.viewers.lock();
        self.signals.closed.send_replace(true);
        for viewer in viewers.iter() {
            viewer.close();
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        *self.signals.closed.borrow()
    }

    /// Resolves once the room is closed.
    pub(crate) async fn closed(&self) {
        let mut closed = self.signals.closed.subscribe();
        let _ = closed.wait_for(|c| *c).await;
    }

    /// The number of viewers, as it changes.
    pub(crate) fn watch_viewers(&self) -> watch::Receiver<usize> {
        self.signals.viewers.subscribe()
    }
}

/// The rooms by name.
#[derive(Debug, Default)]
pub(crate) struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
}

impl Rooms {
    /// The room `name` (created on first use) with `viewer` in it. Found and joined under
    /// the lock [`tidy`](Self::tidy) takes, so a room cannot be forgotten between the two
    /// (its viewer would then wait for a camera that publishes to a new room).
    pub(crate) fn join(&self, name: &str, viewer: Arc<Viewer>) -> Arc<Room> {
        let mut rooms = self.rooms.lock();
        let room = rooms.entry(name.to_string()).or_default().clone();
        room.join(viewer);
        room
    }

    /// The room `name` (created on first use) with its camera seat claimed, under the
    /// same lock; `None` if a camera is already publishing there.
    pub(crate) fn claim_camera(&self, name: &str) -> Option<Arc<Room>> {
        let mut rooms = self.rooms.lock();
        let room = rooms.entry(name.to_string()).or_default().clone();
        room.claim_camera().then_some(room)
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
        if rooms
            .get(name)
            .is_some_and(|r| r.viewer_count() == 0 && !*r.camera.lock())
        {
            rooms.remove(name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joined_room_is_never_forgotten_under_its_viewer() {
        // Viewers join and leave while another thread tidies: every viewer must be in the
        // room that the name maps to (where a camera would publish) until it leaves.
        let rooms = Arc::new(Rooms::default());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tidier = {
            let (rooms, stop) = (rooms.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    rooms.tidy("hall");
                }
            })
        };
        for _ in 0..20_000 {
            let viewer = Viewer::new(false);
            let room = rooms.join("hall", viewer.clone());
            let camera_room = rooms.claim_camera("hall").expect("no camera yet");
            assert!(
                Arc::ptr_eq(&room, &camera_room),
                "the viewer's room was forgotten"
            );
            camera_room.release_camera();
            room.leave(&viewer);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        tidier.join().unwrap();
    }

    #[test]
    fn viewers_get_the_latest_and_leaving_closes() {
        let room = Room::default();
        let (a, b) = (Viewer::new(false), Viewer::new(true));
        room.join(a.clone());
        room.join(b.clone());
        room.publish_result(&OutMessage::text("1"));
        room.publish_result(&OutMessage::text("2"));
        room.publish_frame(&Bytes::from_static(b"frame"));
        assert_eq!(a.results.take(), Some(OutMessage::text("2")));
        assert_eq!(a.results.counters().dropped, 1, "latest wins per viewer");
        assert_eq!(
            b.frames.as_ref().unwrap().take(),
            Some(Bytes::from_static(b"frame"))
        );
        room.leave(&a);
        assert!(a.results.is_closed());
        assert_eq!(room.viewer_count(), 1);
        assert!(room.claim_camera() && !room.claim_camera());
        room.release_camera();
        assert!(room.claim_camera());
    }

    #[tokio::test]
    async fn removing_a_room_closes_it_and_notices_reach_its_viewers() {
        let rooms = Rooms::default();
        let viewer = Viewer::new(false);
        let room = rooms.join("hall", viewer.clone());
        let mut count = room.watch_viewers();
        assert_eq!(*count.borrow_and_update(), 1);
        let mut notices = viewer.take_notices().unwrap();
        room.notify(r#"{"type":"source_back"}"#);
        assert_eq!(
            notices.recv().await.as_deref(),
            Some(r#"{"type":"source_back"}"#)
        );
        assert!(rooms.remove("hall").is_some() && rooms.remove("hall").is_none());
        room.closed().await;
        assert!(viewer.results.is_closed());
        // A viewer joining the closed room is closed at once.
        let late = Viewer::new(false);
        room.join(late.clone());
        assert!(late.results.is_closed());
        room.leave(&viewer);
        count.changed().await.unwrap();
        assert_eq!(*count.borrow(), 1);
    }
}
