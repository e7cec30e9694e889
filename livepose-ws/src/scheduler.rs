//! Streams and the inference worker pool.
//!
//! Each stream has a latest-wins inbound slot (the socket reader overwrites; a displaced
//! frame is counted as dropped, never queued) and a latest-wins outbound slot (a slow reader
//! gets the newest result, never a backlog). Streams with a waiting frame sit in one FIFO
//! queue, each at most once: a worker takes the stream at the front, processes its newest
//! frame with its own [`Tracker`], and if another frame arrived meanwhile puts the stream at
//! the back. So a stream with a fresh frame waits at most one round of the others, and no
//! stream starves. Workers are OS threads, one [`Engine`] each (ONNX Runtime sessions run
//! with `&mut self`), built once per model kind they are asked for.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use axum::body::Bytes;
use livepose_core::clock::MonotonicClock;
use livepose_core::inference::{Engine, Frame, PipelineBuilder, PoseResult, Tracker};
use livepose_core::slot::LatestSlot;
use livepose_core::stats::{LatencyHistogram, LatencySummary};
use livepose_core::types::StageTimings;
use livepose_core::wire::compat;
use livepose_core::wire::control::{ModelKind, ResultFormat};
use livepose_core::wire::{ResultFlags, ResultMessage};
use parking_lot::{Condvar, Mutex};

use crate::metrics::Metrics;
use crate::out::{error_json, OutMessage};
use crate::rooms::Room;

/// Control messages that may wait for a slow client before new ones are dropped.
pub(crate) const CONTROL_QUEUE: usize = 16;

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
    inbound: LatestSlot<InFrame>,
    /// Results (and control messages) for the socket writer.
    pub(crate) outbound: LatestSlot<OutMessage>,
    tracker: Mutex<Tracker>,
    settings: Mutex<StreamSettings>,
    queued: AtomicBool,
    closed: AtomicBool,
    /// Frames processed so far.
    pub(crate) processed: AtomicU64,
    /// Frames refused by the per-connection rate cap so far.
    pub(crate) rate_limited: AtomicU64,
    /// Results displaced in the outbound slot before the writer sent them.
    pub(crate) results_dropped: AtomicU64,
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
        })
    }

    /// Frames displaced before inference so far.
    pub(crate) fn frames_dropped(&self) -> u64 {
        self.inbound.counters().dropped
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

    /// Changes the settings (from a `config` message); the next frame uses them.
    pub(crate) fn set_settings(&self, settings: StreamSettings) {
        *self.settings.lock() = settings;
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

    /// Ends the stream: no frame of it is processed after this returns (one already in a
    /// worker finishes, its result is discarded), and both slots wake their waiters.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.inbound.close();
        self.outbound.close();
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
    fn runnable(&self) -> bool {
        let c = self.inbound.counters();
        !self.is_closed() && c.puts > c.taken + c.dropped && !self.result_pending()
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
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

    /// Latency summary and latest stage timings of this stream's results.
    pub(crate) fn result_stats(&self) -> (LatencySummary, StageTimings) {
        (self.latency.lock().summary(), *self.last_timings.lock())
    }
}

struct Queue {
    streams: Mutex<(VecDeque<Arc<StreamCore>>, bool)>,
    ready: Condvar,
}

/// The inference workers.
pub(crate) struct WorkerPool {
    queue: Arc<Queue>,
    workers: Vec<JoinHandle<()>>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for WorkerPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerPool")
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl WorkerPool {
    /// Starts `workers` threads whose engines come from `builder` (models directory, hands,
    /// session options); each builds an engine per landmark model on first use.
    /// With `inference` off, workers answer every frame with an empty result at once. Fails
    /// if the OS refuses a thread.
    pub(crate) fn start(
        workers: usize,
        builder: PipelineBuilder,
        inference: bool,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Self> {
        let queue = Arc::new(Queue {
            streams: Mutex::new((VecDeque::new(), false)),
            ready: Condvar::new(),
        });
        let workers = (0..workers.max(1))
            .map(|i| {
                let (queue, builder, metrics) = (queue.clone(), builder.clone(), metrics.clone());
                std::thread::Builder::new()
                    .name(format!("livepose-worker-{i}"))
                    .spawn(move || worker(&queue, &builder, inference, &metrics))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(WorkerPool {
            queue,
            workers,
            metrics,
        })
    }

    /// Hands `frame` to `stream` (latest wins) and queues the stream if it is not queued.
    /// Returns false if the stream is closed.
    pub(crate) fn submit(&self, stream: &Arc<StreamCore>, frame: InFrame) -> bool {
        match stream.inbound.put(frame) {
            Err(_) => return false,
            Ok(displaced) => {
                self.metrics.frames_received.inc();
                if let Some(room) = &*stream.room.lock() {
                    room.frame_in(Instant::now());
                }
                if displaced.is_some() {
                    self.metrics.frames_dropped.inc();
                }
            }
        }
        // Not while a result waits for the writer: its `resume` queues the stream then.
        if !stream.result_pending() {
            self.enqueue(stream);
        }
        true
    }

    fn enqueue(&self, stream: &Arc<StreamCore>) {
        enqueue(&self.queue, stream);
    }

    /// For the socket writer, after it took a result: queues the stream again if a frame
    /// waits (the workers skip a stream whose result has not been taken).
    pub(crate) fn resume(&self, stream: &Arc<StreamCore>) {
        if stream.runnable() {
            self.enqueue(stream);
        }
    }

    /// Stops the workers after the frames they hold (queued streams are dropped).
    pub(crate) fn shutdown(&mut self) {
        {
            let mut guard = self.queue.streams.lock();
            guard.0.clear();
            guard.1 = true;
        }
        self.queue.ready.notify_all();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

impl Drop for WorkerPool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn enqueue(queue: &Queue, stream: &Arc<StreamCore>) {
    if stream.queued.swap(true, Ordering::SeqCst) {
        return;
    }
    queue.streams.lock().0.push_back(stream.clone());
    queue.ready.notify_one();
}

fn worker(queue: &Queue, builder: &PipelineBuilder, inference: bool, metrics: &Metrics) {
    let mut state = WorkerState {
        echo: !inference,
        engines: HashMap::new(),
        builder,
        clock: MonotonicClock::system(),
        metrics,
        message: ResultMessage::default(),
        buffers: Buffers::default(),
    };
    // The default model's engine now, so the first frame does not wait for model loading.
    if inference {
        match builder.build_engine() {
            Ok(engine) => {
                state.engines.insert(builder.model_kind(), engine);
            }
            Err(e) => tracing::error!("worker cannot load the models: {e}"),
        }
    }
    loop {
        let stream = {
            let mut guard = queue.streams.lock();
            loop {
                if guard.1 {
                    return;
                }
                if let Some(s) = guard.0.pop_front() {
                    break s;
                }
                queue.ready.wait(&mut guard);
            }
        };
        // `queued` stays set while the frame is in flight: at most one frame of a stream is
        // processed at a time, and results leave in order. A stream whose last result is
        // still waiting for its socket writer (a client that does not read) gets no
        // inference: its frame waits, latest wins, until the writer takes the result and
        // calls `resume`.
        if !stream.result_pending() {
            if let Some(frame) = stream.inbound.take().filter(|_| !stream.is_closed()) {
                let out = state.infer(&stream, &frame);
                stream.processed.fetch_add(1, Ordering::SeqCst);
                if !stream.is_closed() {
                    if let Some(room) = &*stream.room.lock() {
                        room.publish_result(&out);
                    }
                    if let Ok(Some(_)) = stream.outbound.put(out) {
                        stream.results_dropped.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        }
        stream.queued.store(false, Ordering::SeqCst);
        // A frame that arrived meanwhile, with the writer ready: back of the queue. (If the
        // writer takes the result after this check, its `resume` queues the stream.)
        if stream.runnable() {
            enqueue(queue, &stream);
        }
    }
}

/// One worker's engines and reused buffers.
struct WorkerState<'a> {
    /// Answer with empty results, without decoding or inference.
    echo: bool,
    engines: HashMap<ModelKind, Engine>,
    builder: &'a PipelineBuilder,
    clock: MonotonicClock,
    metrics: &'a Metrics,
    message: ResultMessage,
    buffers: Buffers,
}

impl WorkerState<'_> {
    /// Runs one frame of `stream` on the engine for its model (built on first use) and
    /// encodes the result, or an error message.
    fn infer(&mut self, stream: &StreamCore, frame: &InFrame) -> OutMessage {
        let settings = *stream.settings.lock();
        if self.echo {
            let now = self.clock.now_wall_us();
            fill(&mut self.message, &PoseResult::default(), frame, now, now);
            self.message.frames_dropped = stream.frames_dropped();
            return encode(
                &self.message,
                &PoseResult::default(),
                settings.results,
                &mut self.buffers,
            );
        }
        let engine = match self.engines.entry(settings.model) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                match self.builder.clone().model(settings.model).build_engine() {
                    Ok(engine) => v.insert(engine),
                    Err(e) => {
                        self.metrics.record_error("models");
                        return OutMessage::text(error_json(
                            "models",
                            &e.to_string(),
                            frame.sequence,
                        ));
                    }
                }
            }
        };
        let started = self.clock.now_wall_us();
        let mut tracker = stream.tracker.lock();
        self.metrics.inferences.inc();
        let input = match frame.raw {
            None => Ok(Frame::Encoded(&frame.image)),
            Some((w, h)) => livepose_core::image::RgbView::new(w, h, &frame.image).map(Frame::Rgb),
        };
        let processed = match input {
            Ok(input) => engine.process(&mut tracker, input, None),
            Err(e) => Err(e.into()),
        };
        match processed {
            Ok(result) => {
                let ended = self.clock.now_wall_us();
                if let Some(room) = &*stream.room.lock() {
                    room.result_out(ended.saturating_sub(frame.received_us), Instant::now());
                    if room.wants_annotated() {
                        // The pixels inference saw: decoded by the engine, or sent raw.
                        let pixels = match frame.raw {
                            None => Ok(engine.decoded_frame()),
                            Some((w, h)) => livepose_core::image::RgbView::new(w, h, &frame.image),
                        };
                        if let Ok(pixels) = pixels {
                            room.annotate(pixels, &result.poses);
                        }
                    }
                }
                fill(&mut self.message, result, frame, started, ended);
                self.message.frames_dropped = stream.frames_dropped();
                let latency = ended.saturating_sub(frame.received_us);
                self.metrics.record_result(latency, &result.timings);
                stream.latency.lock().record(latency);
                *stream.last_timings.lock() = result.timings;
                encode(&self.message, result, settings.results, &mut self.buffers)
            }
            Err(e) => {
                let code = match &e {
                    livepose_core::inference::PipelineError::Image(_) => "bad_image",
                    _ => "inference",
                };
                self.metrics.record_error(code);
                OutMessage::text(error_json(code, &e.to_string(), frame.sequence))
            }
        }
    }
}

fn fill(message: &mut ResultMessage, result: &PoseResult, frame: &InFrame, start: u64, end: u64) {
    message.sequence = frame.sequence;
    message.capture_ts_us = frame.capture_ts_us;
    message.server_recv_us = frame.received_us;
    message.server_start_us = start;
    message.server_end_us = end;
    message.flags = result.flags & !ResultFlags::TIMESTAMP_ADJUSTED;
    message.timings = result.timings;
    message.poses.clone_from(&result.poses);
}

/// A worker's encoding buffers, reused from result to result.
#[derive(Default)]
struct Buffers {
    bytes: Vec<u8>,
    text: String,
}

fn encode(
    message: &ResultMessage,
    result: &PoseResult,
    format: ResultFormat,
    Buffers { bytes, text }: &mut Buffers,
) -> OutMessage {
    match format {
        ResultFormat::Binary => {
            // Encoded in the worker's buffer, then one allocation: the message the socket
            // writer and the room's viewers share.
            match message.encode_into(bytes) {
                Ok(()) => OutMessage::Binary(Bytes::copy_from_slice(bytes)),
                // Only a count beyond its 16-bit field, which a pose result cannot reach.
                Err(e) => OutMessage::text(error_json(e.code(), &e.to_string(), message.sequence)),
            }
        }
        ResultFormat::Json => {
            let (w, h) = result.frame_size;
            compat::encode_result(message, w, h, text);
            OutMessage::text(text.as_str())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(sequence: u64) -> InFrame {
        InFrame {
            image: Bytes::from_static(b"not decoded: inference is off"),
            raw: None,
            sequence,
            capture_ts_us: 0,
            received_us: 0,
        }
    }

    /// Waits up to 5 s for `done`.
    fn eventually(done: impl Fn() -> bool) -> bool {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < until {
            if done() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        done()
    }

    #[test]
    fn a_stream_whose_result_is_not_taken_gets_no_more_inference_until_it_is() {
        let builder = PipelineBuilder::default();
        let pool = WorkerPool::start(2, builder.clone(), false, Arc::default()).unwrap();
        let settings = StreamSettings {
            model: ModelKind::Lite,
            results: ResultFormat::Binary,
        };
        let stream = StreamCore::new("s1".into(), builder.tracker(), settings);
        pool.submit(&stream, frame(1));
        assert!(eventually(|| stream.processed.load(Ordering::SeqCst) == 1));
        // The writer has not taken result 1 (a client that does not read): frame 2 waits.
        pool.submit(&stream, frame(2));
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(stream.processed.load(Ordering::SeqCst), 1);
        // The writer takes the result and resumes the stream: frame 2 is inferred.
        assert!(matches!(
            stream.outbound.take(),
            Some(OutMessage::Binary(_))
        ));
        pool.resume(&stream);
        assert!(eventually(|| stream.processed.load(Ordering::SeqCst) == 2));
        assert_eq!(stream.frames_dropped(), 0);
    }
}
