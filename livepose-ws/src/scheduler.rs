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
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use livepose_core::clock::MonotonicClock;
use livepose_core::inference::{Engine, Frame, PipelineBuilder, PoseResult, Tracker};
use livepose_core::slot::LatestSlot;
use livepose_core::stats::{LatencyHistogram, LatencySummary};
use livepose_core::types::StageTimings;
use livepose_core::wire::compat;
use livepose_core::wire::control::{ModelKind, ResultFormat};
use livepose_core::wire::{ResultFlags, ResultMessage};

use crate::metrics::Metrics;
use crate::rooms::Room;

/// Control messages that may wait for a slow client before new ones are dropped.
pub const CONTROL_QUEUE: usize = 16;

/// A frame waiting for inference.
#[derive(Debug)]
pub struct InFrame {
    /// The image: a JPEG, PNG or WebP file, or packed RGB8 pixels if `raw` is set.
    pub image: Vec<u8>,
    /// Width and height of raw RGB8 pixels (`None`: an encoded image).
    pub raw: Option<(u32, u32)>,
    /// Client sequence number, echoed.
    pub sequence: u64,
    /// Client capture timestamp (µs), echoed, never used for ordering.
    pub capture_ts_us: i64,
    /// When the server received it (µs since the Unix epoch).
    pub received_us: u64,
}

/// What goes back to the client.
#[derive(Debug, Clone, PartialEq)]
pub enum OutMessage {
    /// A binary protocol v1 result.
    Binary(Vec<u8>),
    /// Text: a JSON result in the compatibility shape, or a control message.
    Text(String),
}

/// Per-stream settings a worker needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamSettings {
    /// Landmark model.
    pub model: ModelKind,
    /// Results as protocol v1 binary or the JSON compatibility shape.
    pub results: ResultFormat,
}

/// One stream's shared state.
#[derive(Debug)]
pub struct StreamCore {
    /// Id listed by `GET /streams`.
    pub id: String,
    inbound: LatestSlot<InFrame>,
    /// Results (and control messages) for the socket writer.
    pub outbound: LatestSlot<OutMessage>,
    tracker: Mutex<Tracker>,
    settings: Mutex<StreamSettings>,
    queued: AtomicBool,
    closed: AtomicBool,
    /// Frames processed so far.
    pub processed: AtomicU64,
    /// Frames refused by the per-connection rate cap so far.
    pub rate_limited: AtomicU64,
    /// Results displaced in the outbound slot before the writer sent them.
    pub results_dropped: AtomicU64,
    /// Control messages (welcome, errors, stats): a small queue of their own, so they never
    /// displace a result and results never displace them.
    control: tokio::sync::mpsc::Sender<String>,
    control_rx: Mutex<Option<tokio::sync::mpsc::Receiver<String>>>,
    /// Server-side latency of this stream's results.
    latency: Mutex<LatencyHistogram>,
    /// Least time between two results sent, µs (the client's `max_result_fps`; 0: none).
    pub min_result_interval_us: AtomicU64,
    /// The room this stream publishes to, if it is a room's camera.
    room: Mutex<Option<Arc<Room>>>,
    /// Stage timings of the latest result.
    last_timings: Mutex<StageTimings>,
}

impl StreamCore {
    /// A stream with `tracker` (per-stream options) and `settings`.
    pub fn new(id: String, tracker: Tracker, settings: StreamSettings) -> Arc<Self> {
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
    pub fn frames_dropped(&self) -> u64 {
        self.inbound.counters().dropped
    }

    /// Frames received so far.
    pub fn frames_received(&self) -> u64 {
        self.inbound.counters().puts
    }

    /// Changes the settings (from a `config` message); the next frame uses them.
    pub fn set_settings(&self, settings: StreamSettings) {
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = settings;
    }

    /// Replaces the tracker (new options; tracking starts over).
    pub fn set_tracker(&self, tracker: Tracker) {
        *self.tracker.lock().unwrap_or_else(|e| e.into_inner()) = tracker;
    }

    /// Makes this stream a room's camera: its results go to the room's viewers too.
    pub fn publish_to(&self, room: Arc<Room>) {
        *self.room.lock().unwrap_or_else(|e| e.into_inner()) = Some(room);
    }

    /// Ends the stream: no frame of it is processed after this returns (one already in a
    /// worker finishes, its result is discarded), and both slots wake their waiters.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.inbound.close();
        self.outbound.close();
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Queues a control message for the writer; if the client is so slow that
    /// [`CONTROL_QUEUE`] of them wait already, this one is dropped.
    pub fn send_text(&self, text: String) {
        if self.control.try_send(text).is_err() {
            tracing::debug!(stream = %self.id, "control queue full: message dropped");
        }
    }

    /// The receiving end of the control messages (for the socket writer; once).
    pub fn take_control(&self) -> Option<tokio::sync::mpsc::Receiver<String>> {
        self.control_rx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    }

    /// Latency summary and latest stage timings of this stream's results.
    pub fn result_stats(&self) -> (LatencySummary, StageTimings) {
        (
            self.latency
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .summary(),
            *self.last_timings.lock().unwrap_or_else(|e| e.into_inner()),
        )
    }
}

struct Queue {
    streams: Mutex<(VecDeque<Arc<StreamCore>>, bool)>,
    ready: Condvar,
}

/// The inference workers.
pub struct WorkerPool {
    queue: Arc<Queue>,
    workers: Vec<JoinHandle<()>>,
    /// Frames processed by all workers (for tests and metrics).
    pub inferences: Arc<AtomicU64>,
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
    pub fn start(
        workers: usize,
        builder: PipelineBuilder,
        inference: bool,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<Self> {
        let queue = Arc::new(Queue {
            streams: Mutex::new((VecDeque::new(), false)),
            ready: Condvar::new(),
        });
        let inferences = Arc::new(AtomicU64::new(0));
        let workers = (0..workers.max(1))
            .map(|i| {
                let (queue, builder, inferences, metrics) = (
                    queue.clone(),
                    builder.clone(),
                    inferences.clone(),
                    metrics.clone(),
                );
                std::thread::Builder::new()
                    .name(format!("livepose-worker-{i}"))
                    .spawn(move || worker(&queue, &builder, inference, &inferences, &metrics))
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        Ok(WorkerPool {
            queue,
            workers,
            inferences,
        })
    }

    /// Hands `frame` to `stream` (latest wins) and queues the stream if it is not queued.
    /// Returns false if the stream is closed.
    pub fn submit(&self, stream: &Arc<StreamCore>, frame: InFrame) -> bool {
        if stream.inbound.put(frame).is_err() {
            return false;
        }
        self.enqueue(stream);
        true
    }

    fn enqueue(&self, stream: &Arc<StreamCore>) {
        enqueue(&self.queue, stream);
    }

    /// Stops the workers after the frames they hold (queued streams are dropped).
    pub fn shutdown(&mut self) {
        {
            let mut guard = self.queue.streams.lock().unwrap_or_else(|e| e.into_inner());
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
    queue
        .streams
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .0
        .push_back(stream.clone());
    queue.ready.notify_one();
}

fn worker(
    queue: &Queue,
    builder: &PipelineBuilder,
    inference: bool,
    inferences: &AtomicU64,
    metrics: &Metrics,
) {
    let mut state = WorkerState {
        echo: !inference,
        engines: HashMap::new(),
        builder,
        clock: MonotonicClock::system(),
        inferences,
        metrics,
        message: ResultMessage::default(),
        text: String::new(),
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
            let mut guard = queue.streams.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if guard.1 {
                    return;
                }
                if let Some(s) = guard.0.pop_front() {
                    break s;
                }
                guard = queue.ready.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
        };
        // `queued` stays set while the frame is in flight: at most one frame of a stream is
        // processed at a time, and results leave in order.
        if let Some(frame) = stream.inbound.take().filter(|_| !stream.is_closed()) {
            let out = state.infer(&stream, &frame);
            stream.processed.fetch_add(1, Ordering::SeqCst);
            if !stream.is_closed() {
                if let Some(room) = &*stream.room.lock().unwrap_or_else(|e| e.into_inner()) {
                    room.publish_result(&out);
                }
                if let Ok(Some(_)) = stream.outbound.put(out) {
                    stream.results_dropped.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        stream.queued.store(false, Ordering::SeqCst);
        // A frame that arrived while this one was processed: back of the queue.
        let c = stream.inbound.counters();
        if !stream.is_closed() && c.puts > c.taken + c.dropped {
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
    inferences: &'a AtomicU64,
    metrics: &'a Metrics,
    message: ResultMessage,
    text: String,
}

impl WorkerState<'_> {
    /// Runs one frame of `stream` on the engine for its model (built on first use) and
    /// encodes the result, or an error message.
    fn infer(&mut self, stream: &StreamCore, frame: &InFrame) -> OutMessage {
        let settings = *stream.settings.lock().unwrap_or_else(|e| e.into_inner());
        if self.echo {
            let now = self.clock.now_wall_us();
            fill(&mut self.message, &PoseResult::default(), frame, now, now);
            self.message.frames_dropped = stream.frames_dropped();
            return encode(
                &self.message,
                &PoseResult::default(),
                settings.results,
                &mut self.text,
            );
        }
        let engine = match self.engines.entry(settings.model) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                match self.builder.clone().model(settings.model).build_engine() {
                    Ok(engine) => v.insert(engine),
                    Err(e) => {
                        return OutMessage::Text(error_json(
                            "models",
                            &e.to_string(),
                            frame.sequence,
                        ))
                    }
                }
            }
        };
        let started = self.clock.now_wall_us();
        let mut tracker = stream.tracker.lock().unwrap_or_else(|e| e.into_inner());
        self.inferences.fetch_add(1, Ordering::SeqCst);
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
                fill(&mut self.message, result, frame, started, ended);
                self.message.frames_dropped = stream.frames_dropped();
                let latency = ended.saturating_sub(frame.received_us);
                self.metrics.record_result(latency, &result.timings);
                stream
                    .latency
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .record(latency);
                *stream
                    .last_timings
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = result.timings;
                encode(&self.message, result, settings.results, &mut self.text)
            }
            Err(e) => {
                self.metrics.errors.fetch_add(1, Ordering::Relaxed);
                let code = match &e {
                    livepose_core::inference::PipelineError::Image(_) => "bad_image",
                    _ => "inference",
                };
                OutMessage::Text(error_json(code, &e.to_string(), frame.sequence))
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

fn encode(
    message: &ResultMessage,
    result: &PoseResult,
    format: ResultFormat,
    text: &mut String,
) -> OutMessage {
    match format {
        ResultFormat::Binary => {
            let mut bytes = Vec::new();
            match message.encode_into(&mut bytes) {
                Ok(()) => OutMessage::Binary(bytes),
                Err(e) => OutMessage::Text(error_json(e.code(), &e.to_string(), message.sequence)),
            }
        }
        ResultFormat::Json => {
            let (w, h) = result.frame_size;
            compat::encode_result(message, w, h, text);
            OutMessage::Text(text.clone())
        }
    }
}

/// An `error` control message.
pub fn error_json(code: &str, message: &str, sequence: u64) -> String {
    livepose_core::wire::control::ServerMessage::Error(livepose_core::wire::control::ErrorReport {
        code: code.to_string(),
        message: message.to_string(),
        sequence: Some(sequence),
        fatal: false,
    })
    .to_json()
}
