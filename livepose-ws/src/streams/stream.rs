//! One stream's shared state, between its connection and the worker pool: a latest-wins
//! inbound slot (the connection overwrites; a displaced frame is counted as dropped, never
//! queued) and a latest-wins outbound slot (a slow reader gets the newest result, never a
//! backlog), its tracker and settings, its counters, a small queue of control messages, and
//! the room it publishes to if it is a room's camera.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use livepose_core::inference::Tracker;
use livepose_core::slot::LatestSlot;
use livepose_core::stats::{LatencyHistogram, LatencySummary};
use livepose_core::types::StageTimings;
use livepose_core::wire::control::{
    KeyframeReason, KeyframeRequest, ModelKind, ResultFormat, ServerMessage,
};
use parking_lot::{Mutex, MutexGuard};

use crate::message::OutMessage;
use crate::rooms::Room;

/// Control messages that may wait for a slow client before new ones are dropped.
pub(crate) const CONTROL_QUEUE: usize = 16;

/// Viewers that join within this of the last one asked share its keyframe request.
pub(crate) const JOIN_REQUEST_EVERY_US: u64 = 1_000_000;

/// A frame waiting for inference.
#[derive(Debug)]
pub(crate) struct InFrame {
    /// The image: a JPEG, PNG or WebP file, or packed RGB8 pixels if `raw` is set (for an
    /// encoded image, a view of the socket's message: not copied).
    pub(crate) image: Bytes,
    /// Width and height of raw RGB8 pixels (`None`: an encoded image).
    pub(crate) raw: Option<(u32, u32)>,
    /// Client sequence number, echoed.
    pub(crate) sequence: u64,
    /// Client capture timestamp (µs), echoed, never used for ordering.
    pub(crate) capture_ts_us: i64,
    /// When the server received it (µs since the Unix epoch).
    pub(crate) received_us: u64,
}

/// Per-stream settings a worker needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StreamSettings {
    /// Landmark model.
    pub(crate) model: ModelKind,
    /// Results as protocol v1 binary or the JSON compatibility shape.
    pub(crate) results: ResultFormat,
}

/// One stream's shared state.
#[derive(Debug)]
pub(crate) struct StreamCore {
    /// Id listed by `GET /streams`.
    pub(crate) id: String,
    /// Frames for inference (latest wins).
    pub(crate) inbound: LatestSlot<InFrame>,
    /// Results (and control messages) for the socket writer.
    pub(crate) outbound: LatestSlot<OutMessage>,
    tracker: Mutex<Tracker>,
    settings: Mutex<StreamSettings>,
    /// In the worker pool's queue, or a frame of it in a worker.
    queued: AtomicBool,
    closed: AtomicBool,
    /// Frames processed so far.
    pub(crate) processed: AtomicU64,
    /// Frames refused by the per-connection rate cap so far.
    pub(crate) rate_limited: AtomicU64,
    /// Results displaced in the outbound slot before the writer sent them.
    pub(crate) results_dropped: AtomicU64,
    /// H.264 access units dropped undecoded (the decoder fell behind, or waited for a
    /// keyframe).
    pub(crate) video_dropped: AtomicU64,
    /// Its frames are H.264 (its decoder started).
    pub(crate) receives_video: AtomicBool,
    /// When a room viewer's join last asked this camera for a keyframe (the clock's µs).
    join_asked_us: AtomicU64,
    /// Control messages (welcome, errors, stats): a small queue of their own, so they never
    /// displace a result and results never displace them.
    control: tokio::sync::mpsc::Sender<String>,
    control_rx: Mutex<Option<tokio::sync::mpsc::Receiver<String>>>,
    /// Server-side latency of this stream's results.
    latency: Mutex<LatencyHistogram>,
    /// Least time between two results sent, µs (the client's `max_result_fps`; 0: none).
    pub(crate) min_result_interval_us: AtomicU64,
    /// The room this stream publishes to, if it is a room's camera.
    room: Mutex<Option<Arc<Room>>>,
    /// Stage timings of the latest result.
    last_timings: Mutex<StageTimings>,
}

impl StreamCore {
    /// A stream with `tracker` (per-stream options) and `settings`.
    pub(crate) fn new(id: String, tracker: Tracker, settings: StreamSettings) -> Arc<Self> {
        let (control, control_rx) = tokio::sync::mpsc::channel(CONTROL_QUEUE);
        Arc::new(StreamCore {
            control,
            control_rx: Mutex::new(Some(control_rx)),
            latency: Mutex::new(LatencyHistogram::new()),
            min_result_interval_us: AtomicU64::new(0),
            room: Mutex::new(None),
            last_timings: Mutex::new(StageTimings::default()),
            id,
            inbound: LatestSlot::new(),
            outbound: LatestSlot::new(),
            tracker: Mutex::new(tracker),
            settings: Mutex::new(settings),
            queued: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            processed: AtomicU64::new(0),
            rate_limited: AtomicU64::new(0),
            results_dropped: AtomicU64::new(0),
            video_dropped: AtomicU64::new(0),
            receives_video: AtomicBool::new(false),
            join_asked_us: AtomicU64::new(0),
        })
    }

    /// A room viewer that shows the camera's frames joined (at `now_us`): an H.264 camera is
    /// asked for a keyframe (`keyframe_request`, `join`) so that the viewer can start
    /// decoding, at most once per [`JOIN_REQUEST_EVERY_US`] however many join.
    pub(crate) fn viewer_joined(&self, now_us: u64) {
        if !self.receives_video.load(Ordering::Acquire) {
            return;
        }
        let last = self.join_asked_us.load(Ordering::Acquire);
        if last != 0 && now_us.saturating_sub(last) < JOIN_REQUEST_EVERY_US {
            return;
        }
        if self
            .join_asked_us
            .compare_exchange(last, now_us.max(1), Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let request = ServerMessage::KeyframeRequest(KeyframeRequest {
                reason: KeyframeReason::Join,
                sequence: None,
            });
            self.send_text(request.to_json());
        }
    }

    /// Frames displaced before inference so far (H.264 access units dropped undecoded
    /// included).
    pub(crate) fn frames_dropped(&self) -> u64 {
        self.inbound.counters().dropped + self.video_dropped.load(Ordering::Relaxed)
    }

    /// Frames received so far.
    pub(crate) fn frames_received(&self) -> u64 {
        self.inbound.counters().puts
    }

    /// The landmark model it runs and whether it looks for hands.
    pub(crate) fn model_and_hands(&self) -> (ModelKind, bool) {
        (
            self.settings.lock().model,
            self.tracker.lock().options().hands,
        )
    }

    /// Its settings now.
    pub(crate) fn settings(&self) -> StreamSettings {
        *self.settings.lock()
    }

    /// Changes the settings (from a `config` message); the next frame uses them.
    pub(crate) fn set_settings(&self, settings: StreamSettings) {
        *self.settings.lock() = settings;
    }

    /// Its tracker, for the worker running its frame.
    pub(crate) fn tracker(&self) -> MutexGuard<'_, Tracker> {
        self.tracker.lock()
    }

    /// Replaces the tracker (new options; tracking starts over).
    pub(crate) fn set_tracker(&self, tracker: Tracker) {
        *self.tracker.lock() = tracker;
    }

    /// Makes this stream a room's camera: its results go to the room's viewers too.
    pub(crate) fn publish_to(&self, room: Arc<Room>) {
        *self.room.lock() = Some(room);
    }

    /// Stops publishing to its room.
    pub(crate) fn unpublish(&self) {
        *self.room.lock() = None;
    }

    /// The room it publishes to, if any.
    pub(crate) fn room(&self) -> Option<Arc<Room>> {
        self.room.lock().clone()
    }

    /// Ends the stream: no frame of it is processed after this returns (one already in a
    /// worker finishes, its result is discarded), and both slots wake their waiters.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.inbound.close();
        self.outbound.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Whether a result waits in the outbound slot for a socket writer that is behind (a
    /// client that does not read). Results held back on purpose (`max_result_fps`) do not
    /// count: there the newest result should be ready when its turn comes.
    pub(crate) fn result_pending(&self) -> bool {
        if self.min_result_interval_us.load(Ordering::Relaxed) > 0 {
            return false;
        }
        let c = self.outbound.counters();
        c.puts > c.taken + c.dropped
    }

    /// Open, a frame waiting, and no result waiting: a worker may take it.
    pub(crate) fn runnable(&self) -> bool {
        let c = self.inbound.counters();
        !self.is_closed() && c.puts > c.taken + c.dropped && !self.result_pending()
    }

    /// Marks it queued for the workers; false if it was already (then it is not queued
    /// again: a stream is in the queue at most once).
    pub(crate) fn mark_queued(&self) -> bool {
        !self.queued.swap(true, Ordering::SeqCst)
    }

    /// Its frame is done: it may be queued again.
    pub(crate) fn unmark_queued(&self) {
        self.queued.store(false, Ordering::SeqCst);
    }

    /// Queues a control message for the writer; if the client is so slow that
    /// [`CONTROL_QUEUE`] of them wait already, this one is dropped.
    pub(crate) fn send_text(&self, text: String) {
        if self.control.try_send(text).is_err() {
            tracing::debug!(stream = %self.id, "control queue full: message dropped");
        }
    }

    /// The receiving end of the control messages (for the socket writer; once).
    pub(crate) fn take_control(&self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        self.control_rx.lock().take()
    }

    /// Records a result's server-side latency and stage timings.
    pub(crate) fn record_result(&self, latency_us: u64, timings: StageTimings) {
        self.latency.lock().record(latency_us);
        *self.last_timings.lock() = timings;
    }

    /// Latency summary and latest stage timings of this stream's results.
    pub(crate) fn result_stats(&self) -> (LatencySummary, StageTimings) {
        (self.latency.lock().summary(), *self.last_timings.lock())
    }
}
