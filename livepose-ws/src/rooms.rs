//! Rooms: one camera publishes frames, many viewers receive its results and, if they ask,
//! the camera's frames or the server's annotated frames. Each viewer has latest-wins slots
//! of its own, so a slow viewer gets fresh results and frames, never a backlog, and never
//! slows the camera or others. A room also keeps its figures (`GET /rooms`).

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
        })
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
    /// `socket` (`/ws/rooms/{room}/camera`) or `socket.io` (a `join` as camera).
    pub(crate) kind: &'static str,
    /// Its stream's id in `/streams`, once open.
    pub(crate) stream_id: Option<String>,
}

/// A room.
#[derive(Debug, Default)]
pub(crate) struct Room {
    viewers: Mutex<Vec<Arc<Viewer>>>,
    camera: Mutex<Option<CameraSeat>>,
    /// Viewers that want annotated frames: the workers draw only while there are some.
    annotated_viewers: AtomicUsize,
    annotator: Annotator,
    meter: Mutex<RoomMeter>,
}

impl Room {
    /// Sends a camera result to every viewer (latest wins per viewer).
    pub(crate) fn publish_result(&self, out: &OutMessage) {
        for viewer in self.viewers.lock().iter() {
            let _ = viewer.results.put(out.clone());
        }
    }

    /// Passes a camera frame message to the viewers that asked for the camera's frames
    /// (shared, not copied).
    pub(crate) fn publish_frame(&self, message: &Bytes) {
        self.publish_frames(Frames::Camera, message);
    }

    fn publish_frames(&self, wants: Frames, message: &Bytes) {
        for viewer in self.viewers.lock().iter() {
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

    /// Adds a viewer.
    pub(crate) fn join(&self, viewer: Arc<Viewer>) {
        if viewer.wants == Frames::Annotated {
            self.annotated_viewers.fetch_add(1, Ordering::Relaxed);
        }
        self.viewers.lock().push(viewer);
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
}
