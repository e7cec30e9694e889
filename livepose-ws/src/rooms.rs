//! Rooms: one camera publishes frames, many viewers receive its results and, if they ask,
//! the camera's frames. Each viewer has latest-wins slots of its own, so a slow viewer
//! gets fresh results and frames, never a backlog, and never slows the camera or others.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use livepose_core::slot::LatestSlot;

use crate::scheduler::OutMessage;

/// One viewer of a room.
#[derive(Debug, Default)]
pub struct Viewer {
    /// The camera's latest result.
    pub results: LatestSlot<OutMessage>,
    /// The camera's latest frame message (protocol v1 bytes), for viewers that asked.
    pub frames: Option<LatestSlot<Vec<u8>>>,
}

impl Viewer {
    /// A viewer; `frames`: also pass the camera's frames through.
    pub fn new(frames: bool) -> Arc<Self> {
        Arc::new(Viewer {
            results: LatestSlot::new(),
            frames: frames.then(LatestSlot::new),
        })
    }

    fn close(&self) {
        self.results.close();
        if let Some(frames) = &self.frames {
            frames.close();
        }
    }
}

/// A room.
#[derive(Debug, Default)]
pub struct Room {
    viewers: Mutex<Vec<Arc<Viewer>>>,
    camera: Mutex<bool>,
}

impl Room {
    /// Sends a camera result to every viewer (latest wins per viewer).
    pub fn publish_result(&self, out: &OutMessage) {
        for viewer in self
            .viewers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = viewer.results.put(out.clone());
        }
    }

    /// Passes a camera frame message to the viewers that asked for frames.
    pub fn publish_frame(&self, message: &[u8]) {
        for viewer in self
            .viewers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            if let Some(frames) = &viewer.frames {
                let _ = frames.put(message.to_vec());
            }
        }
    }

    /// Adds a viewer.
    pub fn join(&self, viewer: Arc<Viewer>) {
        self.viewers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(viewer);
    }

    /// Removes a viewer and closes its slots.
    pub fn leave(&self, viewer: &Arc<Viewer>) {
        viewer.close();
        self.viewers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|v| !Arc::ptr_eq(v, viewer));
    }

    /// Claims the camera seat; false if a camera is already publishing.
    pub fn claim_camera(&self) -> bool {
        let mut camera = self.camera.lock().unwrap_or_else(|e| e.into_inner());
        !std::mem::replace(&mut *camera, true)
    }

    /// Frees the camera seat.
    pub fn release_camera(&self) {
        *self.camera.lock().unwrap_or_else(|e| e.into_inner()) = false;
    }

    /// Viewers connected now.
    pub fn viewer_count(&self) -> usize {
        self.viewers.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The rooms by name.
#[derive(Debug, Default)]
pub struct Rooms {
    rooms: Mutex<HashMap<String, Arc<Room>>>,
}

impl Rooms {
    /// The room `name` (created on first use) with `viewer` in it. Found and joined under
    /// the lock [`tidy`](Self::tidy) takes, so a room cannot be forgotten between the two
    /// (its viewer would then wait for a camera that publishes to a new room).
    pub fn join(&self, name: &str, viewer: Arc<Viewer>) -> Arc<Room> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let room = rooms.entry(name.to_string()).or_default().clone();
        room.join(viewer);
        room
    }

    /// The room `name` (created on first use) with its camera seat claimed, under the
    /// same lock; `None` if a camera is already publishing there.
    pub fn claim_camera(&self, name: &str) -> Option<Arc<Room>> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        let room = rooms.entry(name.to_string()).or_default().clone();
        room.claim_camera().then_some(room)
    }

    /// Forgets `name` if it has neither camera nor viewers.
    pub fn tidy(&self, name: &str) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if rooms.get(name).is_some_and(|r| {
            r.viewer_count() == 0 && !*r.camera.lock().unwrap_or_else(|e| e.into_inner())
        }) {
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
        room.publish_result(&OutMessage::Text("1".into()));
        room.publish_result(&OutMessage::Text("2".into()));
        room.publish_frame(b"frame");
        assert_eq!(a.results.take(), Some(OutMessage::Text("2".into())));
        assert_eq!(a.results.counters().dropped, 1, "latest wins per viewer");
        assert_eq!(b.frames.as_ref().unwrap().take(), Some(b"frame".to_vec()));
        room.leave(&a);
        assert!(a.results.is_closed());
        assert_eq!(room.viewer_count(), 1);
        assert!(room.claim_camera() && !room.claim_camera());
        room.release_camera();
        assert!(room.claim_camera());
    }
}
