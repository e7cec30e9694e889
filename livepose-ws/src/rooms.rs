//! Rooms: one camera publishes frames, many viewers receive its results and, if they ask,
//! the camera's frames or the server's annotated frames. Each viewer has latest-wins slots
//! of its own, so a slow viewer gets fresh results and frames, never a backlog, and never
//! slows the camera or others. A room also keeps its figures (`GET /rooms`), and can be
//! closed (`DELETE /rooms/{room}`): its camera and viewers then end. Its viewers get
//! notices (`source_lost`, `camera_lost`, ...) in a small queue of their own; relays (the
//! cluster's, [`crate::cluster`]) get the camera's results and frames (not notices) without
//! counting as viewers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use livepose_core::image::RgbView;
use livepose_core::slot::LatestSlot;
use livepose_core::types::Pose;
use livepose_core::wire::control::ViewerStats;
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};

use crate::annotate::Annotator;
use crate::out::OutMessage;
use crate::room_stats::{RoomMeter, ViewerReport};

/// Which frames a viewer gets besides the results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Frames {
    /// Results only.
    #[default]
    None,
    /// The camera's frame messages (protocol v1), unchanged.
    Camera,
    /// JPEG frames with the skeletons drawn by the server.
    Annotated,
}

impl Frames {
    /// The `frames` query value of a view: `1`/`true` (camera), `annotated`, else none.
    pub(crate) fn from_query(value: Option<&str>) -> Self {
        match value {
            Some("1" | "true") => Frames::Camera,
            Some("annotated") => Frames::Annotated,
            _ => Frames::None,
        }
    }

    /// The name `GET /rooms/{room}` shows.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Frames::None => "none",
            Frames::Camera => "camera",
            Frames::Annotated => "annotated",
        }
    }
}

/// One viewer of a room.
#[derive(Debug)]
pub(crate) struct Viewer {
    /// Listed as in `GET /rooms/{room}`.
    pub(crate) id: String,
    /// How it watches: `socket`, `socket.io` or `mjpeg`.
    pub(crate) via: &'static str,
    /// The camera's latest result.
    pub(crate) results: LatestSlot<OutMessage>,
    /// Which frames it gets.
    pub(crate) wants: Frames,
    /// The latest frame for it (camera frame message or annotated JPEG), unless it wants
    /// none.
    pub(crate) frames: Option<LatestSlot<Bytes>>,
    /// Its last `viewer_stats`.
    report: Mutex<Option<ViewerReport>>,
    /// Control messages about the room (JSON), a few at most; see [`Room::notify`].
    notices: Notices,
}

impl Viewer {
    /// A viewer called `id`, watching `via` a socket kind, getting `wants` frames.
    pub(crate) fn new(id: String, via: &'static str, wants: Frames) -> Arc<Self> {
        Arc::new(Viewer {
            id,
            via,
            results: LatestSlot::new(),
            wants,
            frames: (wants != Frames::None).then(LatestSlot::new),
            report: Mutex::new(None),
            notices: Notices::new(),
        })
    }

    /// The receiving end of the room's notices (for the viewer's writer; once).
    pub(crate) fn take_notices(&self) -> Option<mpsc::Receiver<String>> {
        self.notices.rx.lock().take()
    }

    /// Keeps its `viewer_stats`, received at `now`.
    pub(crate) fn report(&self, stats: ViewerStats, now: Instant) {
        *self.report.lock() = Some(ViewerReport { stats, at: now });
    }

    /// Its report, if recent enough at `now`.
    pub(crate) fn current_report(&self, now: Instant) -> Option<ViewerStats> {
        self.report.lock().and_then(|r| r.current(now))
    }

    /// Results (and frames) it missed because newer ones replaced them.
    pub(crate) fn dropped(&self) -> u64 {
        self.results.counters().dropped + self.frames.as_ref().map_or(0, |f| f.counters().dropped)
    }

    fn close(&self) {
        self.results.close();
        if let Some(frames) = &self.frames {
            frames.close();
        }
    }
}

/// What sits in a room's camera seat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CameraSeat {
    /// `socket` (`/ws/rooms/{room}/camera`), `socket.io` (a `join` as camera) or `source`
    /// (a server-side source).
    pub(crate) kind: &'static str,
    /// Its stream's id in `/streams`, once open.
    pub(crate) stream_id: Option<String>,
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
    /// Consumers that are not viewers: the cluster's relay of this room to other nodes.
    relays: Mutex<Vec<Arc<Viewer>>>,
    camera: Mutex<Option<CameraSeat>>,
    /// Viewers that want annotated frames: the workers draw only while there are some.
    annotated_viewers: AtomicUsize,
    annotator: Annotator,
    meter: Mutex<RoomMeter>,
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
        for viewer in self.viewers.lock().iter().chain(self.relays.lock().iter()) {
            let _ = viewer.results.put(out.clone());
        }
    }

    /// Passes a camera frame message to the viewers that asked for the camera's frames
    /// (shared, not copied).
    pub(crate) fn publish_frame(&self, message: &Bytes) {
        self.publish_frames(Frames::Camera, message);
    }

    fn publish_frames(&self, wants: Frames, message: &Bytes) {
        for viewer in self.viewers.lock().iter().chain(self.relays.lock().iter()) {
            if let (true, Some(frames)) = (viewer.wants == wants, &viewer.frames) {
                let _ = frames.put(message.clone());
            }
        }
    }

    /// Whether any viewer wants annotated frames (checked before copying a frame for them).
    pub(crate) fn wants_annotated(&self) -> bool {
        self.annotated_viewers.load(Ordering::Relaxed) > 0
    }

    /// Draws `poses` on a copy of `frame` and sends the JPEG to the viewers that want
    /// annotated frames: drawn and encoded once, off the caller's thread, latest wins.
    pub(crate) fn annotate(self: &Arc<Self>, frame: RgbView<'_>, poses: &[Pose]) {
        let room = self.clone();
        self.annotator.submit(frame, poses, move |jpeg| {
            room.publish_frames(Frames::Annotated, &jpeg);
        });
    }

    /// Annotated frames drawn (once each, whatever the number of viewers), and replaced
    /// before they were drawn.
    pub(crate) fn annotated_counts(&self) -> (u64, u64) {
        self.annotator.counts()
    }

    /// Counts a camera frame arriving at `now`.
    pub(crate) fn frame_in(&self, now: Instant) {
        self.meter.lock().frame_in(now);
    }

    /// Counts a result made at `now`, `latency_us` after its frame arrived.
    pub(crate) fn result_out(&self, latency_us: u64, now: Instant) {
        self.meter.lock().result_out(latency_us, now);
    }

    /// The meter, to read figures from.
    pub(crate) fn meter(&self) -> parking_lot::MutexGuard<'_, RoomMeter> {
        self.meter.lock()
    }

    /// Whether any viewer (not relay) wants `frames`.
    pub(crate) fn viewers_want(&self, frames: Frames) -> bool {
        self.viewers.lock().iter().any(|v| v.wants == frames)
    }

    /// Passes annotated frames drawn elsewhere (another node, in a cluster) to the viewers
    /// that want them.
    pub(crate) fn publish_annotated(&self, jpeg: &Bytes) {
        self.publish_frames(Frames::Annotated, jpeg);
    }

    /// Adds a viewer (a closed room's viewer is closed at once).
    pub(crate) fn join(&self, viewer: Arc<Viewer>) {
        // Under the lock `close` takes: a viewer joins before the room closes, or sees it.
        let mut viewers = self.viewers.lock();
        if self.is_closed() {
            viewer.close();
        }
        if viewer.wants == Frames::Annotated {
            self.annotated_viewers.fetch_add(1, Ordering::Relaxed);
        }
        viewers.push(viewer);
        self.signals.viewers.send_replace(viewers.len());
    }

    /// Removes a viewer and closes its slots.
    pub(crate) fn leave(&self, viewer: &Arc<Viewer>) {
        viewer.close();
        let mut viewers = self.viewers.lock();
        let before = viewers.len();
        viewers.retain(|v| !Arc::ptr_eq(v, viewer));
        if viewers.len() < before && viewer.wants == Frames::Annotated {
            self.annotated_viewers.fetch_sub(1, Ordering::Relaxed);
        }
        self.signals.viewers.send_replace(viewers.len());
    }

    /// Adds a relay: it gets the camera's results and frames, and is no viewer.
    pub(crate) fn add_relay(&self, relay: Arc<Viewer>) {
        if relay.wants == Frames::Annotated {
            self.annotated_viewers.fetch_add(1, Ordering::Relaxed);
        }
        self.relays.lock().push(relay);
    }

    /// Removes a relay and closes its slots.
    pub(crate) fn remove_relay(&self, relay: &Arc<Viewer>) {
        relay.close();
        let mut relays = self.relays.lock();
        let before = relays.len();
        relays.retain(|r| !Arc::ptr_eq(r, relay));
        if relays.len() < before && relay.wants == Frames::Annotated {
            self.annotated_viewers.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Claims the camera seat for a camera of `kind`; false if a camera is already
    /// publishing.
    pub(crate) fn claim_camera(&self, kind: &'static str) -> bool {
        let mut camera = self.camera.lock();
        if camera.is_some() {
            return false;
        }
        *camera = Some(CameraSeat {
            kind,
            stream_id: None,
        });
        true
    }

    /// Records the camera's stream id (shown in `GET /rooms/{room}`).
    pub(crate) fn set_camera_stream(&self, id: &str) {
        if let Some(seat) = &mut *self.camera.lock() {
            seat.stream_id = Some(id.to_string());
        }
    }

    /// Frees the camera seat.
    pub(crate) fn release_camera(&self) {
        *self.camera.lock() = None;
    }

    /// Who sits in the camera seat.
    pub(crate) fn camera(&self) -> Option<CameraSeat> {
        self.camera.lock().clone()
    }

    /// Viewers connected now.
    pub(crate) fn viewer_count(&self) -> usize {
        self.viewers.lock().len()
    }

    /// The viewers connected now.
    pub(crate) fn viewers(&self) -> Vec<Arc<Viewer>> {
        self.viewers.lock().clone()
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
    pub(crate) fn claim_camera(&self, name: &str, kind: &'static str) -> Option<Arc<Room>> {
        let mut rooms = self.rooms.lock();
        let room = rooms.entry(name.to_string()).or_default().clone();
        room.claim_camera(kind).then_some(room)
    }

    /// The room `name`, if it exists.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Room>> {
        self.rooms.lock().get(name).cloned()
    }

    /// Every room and its name, sorted by name.
    pub(crate) fn list(&self) -> Vec<(String, Arc<Room>)> {
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
        if rooms
            .get(name)
            .is_some_and(|r| r.viewer_count() == 0 && r.camera.lock().is_none())
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
            let viewer = Viewer::new("v".into(), "socket", Frames::None);
            let room = rooms.join("hall", viewer.clone());
            let camera_room = rooms.claim_camera("hall", "socket").expect("no camera yet");
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
        let a = Viewer::new("a".into(), "socket", Frames::None);
        let b = Viewer::new("b".into(), "socket", Frames::Camera);
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
        assert!(room.claim_camera("socket") && !room.claim_camera("socket"));
        room.release_camera();
        assert!(room.claim_camera("socket"));
    }

    #[test]
    fn annotated_frames_go_only_to_viewers_that_want_them_and_are_counted() {
        let room = Arc::new(Room::default());
        let camera = Viewer::new("c".into(), "socket", Frames::Camera);
        let drawn = Viewer::new("d".into(), "mjpeg", Frames::Annotated);
        room.join(camera.clone());
        assert!(!room.wants_annotated());
        room.join(drawn.clone());
        assert!(room.wants_annotated());
        room.publish_frame(&Bytes::from_static(b"frame"));
        assert_eq!(drawn.frames.as_ref().unwrap().take(), None);
        let pixels = vec![10u8; 8 * 8 * 3];
        room.annotate(RgbView::new(8, 8, &pixels).unwrap(), &[]);
        let jpeg = drawn
            .frames
            .as_ref()
            .unwrap()
            .wait_timeout(std::time::Duration::from_secs(10))
            .item()
            .expect("an annotated frame");
        assert_eq!(&jpeg[..2], &[0xFF, 0xD8]);
        assert_eq!(
            camera.frames.as_ref().unwrap().take(),
            Some(Bytes::from_static(b"frame")),
            "the camera viewer got the camera frame only"
        );
        room.leave(&drawn);
        room.leave(&drawn);
        assert!(!room.wants_annotated(), "leaving twice counts once");
    }

    #[tokio::test]
    async fn removing_a_room_closes_it_and_notices_reach_its_viewers() {
        let rooms = Rooms::default();
        let viewer = Viewer::new("v".into(), "socket", Frames::None);
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
        let late = Viewer::new("l".into(), "socket", Frames::None);
        room.join(late.clone());
        assert!(late.results.is_closed());
        room.leave(&viewer);
        count.changed().await.unwrap();
        assert_eq!(*count.borrow(), 1);
    }
}
