//! One viewer of a room: latest-wins slots of its own for the camera's results and, if it
//! asked, frames (so a slow viewer gets fresh ones, never a backlog, and never slows the
//! camera or the others), a small queue of notices about the room, and its last
//! `viewer_stats` report.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use livepose_core::slot::LatestSlot;
use livepose_core::wire::control::ViewerStats;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::meter::ViewerReport;
use crate::message::OutMessage;

/// Notices that may wait for a slow viewer before new ones are dropped.
const NOTICE_QUEUE: usize = 8;

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

/// One viewer of a room (or one of the cluster's relays, which are fed like viewers).
#[derive(Debug)]
pub(crate) struct Viewer {
    /// Listed as in `GET /rooms/{room}`.
    pub(crate) id: String,
    /// How it watches: `socket`, `socket.io`, `mjpeg` (or `nats` for a relay).
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
    /// Control messages about the room (JSON), a few at most: a notice never displaces a
    /// result, nor the reverse.
    notices: mpsc::Sender<String>,
    notices_rx: Mutex<Option<mpsc::Receiver<String>>>,
}

impl Viewer {
    /// A viewer called `id`, watching `via` a socket kind, getting `wants` frames.
    pub(crate) fn new(id: String, via: &'static str, wants: Frames) -> Arc<Self> {
        let (notices, notices_rx) = mpsc::channel(NOTICE_QUEUE);
        Arc::new(Viewer {
            id,
            via,
            results: LatestSlot::new(),
            wants,
            frames: (wants != Frames::None).then(LatestSlot::new),
            report: Mutex::new(None),
            notices,
            notices_rx: Mutex::new(Some(notices_rx)),
        })
    }

    /// The receiving end of the room's notices (for the viewer's writer; once).
    pub(crate) fn take_notices(&self) -> Option<mpsc::Receiver<String>> {
        self.notices_rx.lock().take()
    }

    /// Queues a notice (JSON); a viewer whose queue is full misses it.
    pub(crate) fn notify(&self, text: &str) {
        let _ = self.notices.try_send(text.to_string());
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

    /// Closes its slots: its writer ends.
    pub(crate) fn close(&self) {
        self.results.close();
        if let Some(frames) = &self.frames {
            frames.close();
        }
    }
}
