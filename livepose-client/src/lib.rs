//! # livepose-client
//!
//! A Rust client of livepose's pose stream, on livepose-core alone (no server in its
//! dependencies): connects (and reconnects with exponential backoff),
//! says hello, sends frames latest-wins (a frame that finds the connection busy or down
//! replaces the waiting one; nothing queues), and delivers results and control messages.
//!
//! With [`ClientConfig::adapt`] the client adapts to the server ([`adapt`]): it sends no
//! faster than a target rate that follows the server's `rate` hints, `rate_limited`
//! refusals and the measured round trip (send to result) against a latency budget, and
//! chooses a JPEG quality ([`Client::quality`]) that [`Client::send_rgb`] encodes with (a
//! caller that encodes itself reads it); each change is an [`Event::Adapted`]. Without it
//! (the default) every frame given is sent as soon as the connection takes it.
//!
//! ```no_run
//! use livepose_client::{Client, ClientConfig, Event};
//!
//! # async fn run(jpeg: Vec<u8>) -> Result<(), Box<dyn std::error::Error>> {
//! let mut client = Client::start(ClientConfig::new("ws://127.0.0.1:8765/ws"));
//! client.send_jpeg(jpeg, 0);
//! while let Some(event) = client.next_event().await {
//!     if let Event::Result(result) = event {
//!         println!("frame {}: {} people", result.sequence, result.poses.len());
//!         break;
//!     }
//! }
//! # Ok(()) }
//! ```

#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod adapt;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use livepose_core::image::{encode_jpeg, Codec, ImageError, RgbView};
use livepose_core::slot::LatestSlot;
use livepose_core::wire::control::{ClientMessage, Hello, ServerMessage, StreamOptions};
use livepose_core::wire::{
    FrameFlags, FrameHeader, ImageFormat, ResultMessage, ResultView, VERSION,
};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub use adapt::{AdaptConfig, AdaptReason, Adaptation, Adapter};

/// The JPEG quality [`Client::send_rgb`] encodes with when the client does not adapt.
pub const FIXED_QUALITY: f32 = 0.8;
/// The round trips of a connection's first results are not counted (the server's first
/// inferences on a stream are slower than the rest).
const WARMUP_RESULTS: u32 = 3;
/// Send times kept for round trips (frames awaiting a result).
const MAX_IN_FLIGHT_TIMES: usize = 64;

/// How the client connects.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `ws://host:port/ws` (a token may go in the query).
    pub url: String,
    /// Options sent in the `hello`.
    pub options: StreamOptions,
    /// First wait before reconnecting; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest wait between reconnection attempts.
    pub max_backoff: Duration,
    /// Adaptive quality and rate (`None`: off, every frame sent as soon as possible).
    pub adapt: Option<AdaptConfig>,
}

impl ClientConfig {
    /// Defaults: binary results, reconnect after 100 ms, backing off to 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        ClientConfig {
            url: url.into(),
            options: StreamOptions::default(),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            adapt: None,
        }
    }

    /// Adapts the send rate and the JPEG quality to the server (see [`adapt`]).
    pub fn adapt(mut self, config: AdaptConfig) -> Self {
        self.adapt = Some(config);
        self
    }

    /// Options for the `hello`.
    pub fn options(mut self, options: StreamOptions) -> Self {
        self.options = options;
        self
    }
}

/// What the client reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Connected (again, after the first time); the hello has been sent.
    Connected,
    /// The connection dropped or could not be made; the client retries.
    Disconnected(String),
    /// A result.
    Result(ResultMessage),
    /// A control message (welcome, stats, rate, error).
    Control(ServerMessage),
    /// The adaptive controller changed the quality or the target rate.
    Adapted(Adaptation),
}

/// The client; dropping it closes the connection.
#[derive(Debug)]
pub struct Client {
    frames: Arc<LatestSlot<(u64, Vec<u8>)>>,
    events: mpsc::Receiver<Event>,
    sequence: AtomicU64,
    adapter: Option<Arc<Mutex<Adapter>>>,
    sent: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Starts connecting in the background (on the current tokio runtime).
    pub fn start(config: ClientConfig) -> Client {
        let frames = Arc::new(LatestSlot::new());
        let (tx, events) = mpsc::channel(64);
        let adapter = config
            .adapt
            .clone()
            .map(|c| Arc::new(Mutex::new(Adapter::new(c, Instant::now()))));
        let sent = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(run(
            config,
            frames.clone(),
            adapter.clone(),
            sent.clone(),
            tx,
        ));
        Client {
            frames,
            events,
            sequence: AtomicU64::new(0),
            adapter,
            sent,
            task,
        }
    }

    /// The JPEG quality (0–1) to encode the next frame with: the controller's when the
    /// client adapts, else [`FIXED_QUALITY`].
    pub fn quality(&self) -> f32 {
        self.adapter
            .as_ref()
            .map_or(FIXED_QUALITY, |a| a.lock().quality())
    }

    /// The most frames a second the client sends now; `None` when it does not adapt.
    pub fn target_fps(&self) -> Option<f64> {
        self.adapter.as_ref().map(|a| a.lock().target_fps())
    }

    /// The last median round trip (send to result); `None` when the client does not adapt
    /// or no result came back yet.
    pub fn latency(&self) -> Option<Duration> {
        self.adapter.as_ref().and_then(|a| a.lock().latency())
    }

    /// Encodes `image` as a JPEG of [`Client::quality`] and sends it like
    /// [`Client::send_jpeg`]; returns its sequence number.
    pub fn send_rgb(&self, image: RgbView<'_>, capture_ts_us: i64) -> Result<u64, ImageError> {
        let mut jpeg = Vec::new();
        let quality = (self.quality() * 100.0).round().clamp(1.0, 100.0) as u8;
        encode_jpeg(image, quality, &mut jpeg)?;
        Ok(self.send_jpeg(jpeg, capture_ts_us))
    }

    /// Sends a JPEG captured at `capture_ts_us` (echoed in its result); returns its
    /// sequence number. Latest wins: an unsent frame is replaced.
    pub fn send_jpeg(&self, jpeg: Vec<u8>, capture_ts_us: i64) -> u64 {
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let mut message = Vec::with_capacity(jpeg.len() + 40);
        let header = FrameHeader::new(sequence, capture_ts_us, ImageFormat::Encoded(Codec::Jpeg));
        if header.encode_with_payload(&jpeg, &mut message).is_ok() {
            let _ = self.frames.put((sequence, message));
        }
        sequence
    }

    /// Whether a frame given is still waiting to be sent. An H.264 sender skips its camera
    /// frame while this is true rather than encode one that would displace the waiting
    /// access unit (the protocol's order: docs/protocol.md §3.2).
    pub fn is_sending(&self) -> bool {
        let c = self.frames.counters();
        c.puts > c.taken + c.dropped
    }

    /// Sends an H.264 access unit (Annex B; `keyframe`: an IDR with its SPS and PPS)
    /// captured at `capture_ts_us`; returns its sequence number and whether it displaced an
    /// unsent one (the sender's next access unit must then be a keyframe).
    pub fn send_h264(&self, access_unit: &[u8], keyframe: bool, capture_ts_us: i64) -> (u64, bool) {
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let mut header =
            FrameHeader::new(sequence, capture_ts_us, ImageFormat::Encoded(Codec::H264));
        if keyframe {
            header.flags |= FrameFlags::KEYFRAME;
        }
        let mut message = Vec::with_capacity(access_unit.len() + 40);
        let displaced = header
            .encode_with_payload(access_unit, &mut message)
            .is_ok()
            && matches!(self.frames.put((sequence, message)), Ok(Some(_)));
        (sequence, displaced)
    }

    /// The next event; `None` once the client is closed.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Frames sent on a connection so far.
    pub fn frames_sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Frames replaced before they were sent.
    pub fn frames_dropped(&self) -> u64 {
        self.frames.counters().dropped
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.frames.close();
        self.task.abort();
    }
}

/// The adaptive controller's side of one connection: send times by sequence (for round
/// trips) and the results left before round trips count.
struct Pacing {
    adapter: Arc<Mutex<Adapter>>,
    sent: VecDeque<(u64, Instant)>,
    warmup: u32,
    last_send: Option<Instant>,
}

impl Pacing {
    fn new(adapter: Arc<Mutex<Adapter>>) -> Self {
        Pacing {
            adapter,
            sent: VecDeque::new(),
            warmup: WARMUP_RESULTS,
            last_send: None,
        }
    }

    /// When the next frame may go.
    fn next_send(&self) -> Option<tokio::time::Instant> {
        let interval = self.adapter.lock().send_interval();
        self.last_send
            .map(|t| tokio::time::Instant::from_std(t + interval))
    }

    fn sent(&mut self, sequence: u64, now: Instant) {
        self.last_send = Some(now);
        self.sent.push_back((sequence, now));
        if self.sent.len() > MAX_IN_FLIGHT_TIMES {
            self.sent.pop_front();
        }
        self.adapter.lock().sent(now);
    }

    fn result(&mut self, sequence: u64, now: Instant) {
        let mut sent_at = None;
        while let Some(&(s, t)) = self.sent.front() {
            if s > sequence {
                break;
            }
            if s == sequence {
                sent_at = Some(t);
            }
            self.sent.pop_front();
        }
        if self.warmup > 0 {
            self.warmup -= 1;
        } else if let Some(t) = sent_at {
            self.adapter
                .lock()
                .round_trip(now.saturating_duration_since(t));
        }
    }

    fn control(&mut self, message: &ServerMessage) {
        match message {
            ServerMessage::Rate(rate) => self.adapter.lock().hint(rate.max_send_fps),
            ServerMessage::Error(e) if e.code == "rate_limited" => {
                self.adapter.lock().hint(f64::INFINITY);
            }
            _ => {}
        }
    }

    fn update(&mut self, now: Instant) -> Option<Adaptation> {
        self.adapter.lock().update(now)
    }
}

/// Waits until `at` (now when `None`), then for the next frame.
async fn paced_frame(
    frames: &LatestSlot<(u64, Vec<u8>)>,
    at: Option<tokio::time::Instant>,
) -> Option<(u64, Vec<u8>)> {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
    frames.wait().await
}

async fn run(
    config: ClientConfig,
    frames: Arc<LatestSlot<(u64, Vec<u8>)>>,
    adapter: Option<Arc<Mutex<Adapter>>>,
    sent: Arc<AtomicU64>,
    events: mpsc::Sender<Event>,
) {
    let mut backoff = config.min_backoff;
    loop {
        // TCP_NODELAY (`true`): frames go out at once, not held by Nagle's algorithm.
        match tokio_tungstenite::connect_async_with_config(&config.url, None, true).await {
            Ok((socket, _)) => {
                backoff = config.min_backoff;
                let (mut sink, mut source) = socket.split();
                let hello = ClientMessage::Hello(Hello {
                    protocol: VERSION,
                    client: Some(format!("livepose-ws client {}", env!("CARGO_PKG_VERSION"))),
                    options: config.options.clone(),
                });
                if sink
                    .send(Message::Text(hello.to_json().into()))
                    .await
                    .is_err()
                {
                    continue;
                }
                if events.send(Event::Connected).await.is_err() {
                    return;
                }
                let mut pacing = adapter.clone().map(Pacing::new);
                let why = loop {
                    let next_send = pacing.as_ref().and_then(Pacing::next_send);
                    let mut adapted = None;
                    tokio::select! {
                        frame = paced_frame(&frames, next_send) => match frame {
                            Some((sequence, bytes)) => {
                                if let Err(e) = sink.send(Message::Binary(bytes.into())).await {
                                    break e.to_string();
                                }
                                sent.fetch_add(1, Ordering::Relaxed);
                                if let Some(p) = &mut pacing {
                                    let now = Instant::now();
                                    p.sent(sequence, now);
                                    adapted = p.update(now);
                                }
                            }
                            None => {
                                let _ = sink.close().await;
                                return;
                            }
                        },
                        message = source.next() => {
                            let event = match message {
                                Some(Ok(Message::Binary(bytes))) => match ResultView::parse(&bytes) {
                                    Ok(view) => Event::Result(view.to_message()),
                                    Err(e) => Event::Disconnected(format!("bad result from the server: {e}")),
                                },
                                Some(Ok(Message::Text(text))) => match ServerMessage::from_json(text.as_str()) {
                                    Ok(control) => Event::Control(control),
                                    Err(_) => continue,
                                },
                                Some(Ok(Message::Close(_))) | None => break "closed by the server".into(),
                                Some(Ok(_)) => continue,
                                Some(Err(e)) => break e.to_string(),
                            };
                            if let Some(p) = &mut pacing {
                                let now = Instant::now();
                                match &event {
                                    Event::Result(result) => p.result(result.sequence, now),
                                    Event::Control(control) => p.control(control),
                                    _ => {}
                                }
                                adapted = p.update(now);
                            }
                            if events.send(event).await.is_err() {
                                return;
                            }
                        }
                    }
                    if let Some(change) = adapted {
                        if events.send(Event::Adapted(change)).await.is_err() {
                            return;
                        }
                    }
                };
                if events.send(Event::Disconnected(why)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                if events
                    .send(Event::Disconnected(e.to_string()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(config.max_backoff);
    }
}
