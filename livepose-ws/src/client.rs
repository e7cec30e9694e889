//! A Rust client of the pose stream: connects (and reconnects with exponential backoff),
//! says hello, sends frames latest-wins (a frame that finds the connection busy or down
//! replaces the waiting one; nothing queues), and delivers results and control messages.
//!
//! ```no_run
//! use livepose_ws::client::{Client, ClientConfig, Event};
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

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livepose_core::image::Codec;
use livepose_core::slot::LatestSlot;
use livepose_core::wire::control::{ClientMessage, Hello, ServerMessage, StreamOptions};
use livepose_core::wire::{FrameHeader, ImageFormat, ResultMessage, ResultView, VERSION};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

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
}

impl ClientConfig {
    /// Defaults: binary results, reconnect after 100 ms, backing off to 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        ClientConfig {
            url: url.into(),
            options: StreamOptions::default(),
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
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
}

/// The client; dropping it closes the connection.
#[derive(Debug)]
pub struct Client {
    frames: Arc<LatestSlot<Vec<u8>>>,
    events: mpsc::Receiver<Event>,
    sequence: AtomicU64,
    task: tokio::task::JoinHandle<()>,
}

impl Client {
    /// Starts connecting in the background (on the current tokio runtime).
    pub fn start(config: ClientConfig) -> Client {
        let frames = Arc::new(LatestSlot::new());
        let (tx, events) = mpsc::channel(64);
        let task = tokio::spawn(run(config, frames.clone(), tx));
        Client {
            frames,
            events,
            sequence: AtomicU64::new(0),
            task,
        }
    }

    /// Sends a JPEG captured at `capture_ts_us` (echoed in its result); returns its
    /// sequence number. Latest wins: an unsent frame is replaced.
    pub fn send_jpeg(&self, jpeg: Vec<u8>, capture_ts_us: i64) -> u64 {
        let sequence = self.sequence.fetch_add(1, Ordering::Relaxed) + 1;
        let mut message = Vec::with_capacity(jpeg.len() + 40);
        let header = FrameHeader::new(sequence, capture_ts_us, ImageFormat::Encoded(Codec::Jpeg));
        if header.encode_with_payload(&jpeg, &mut message).is_ok() {
            let _ = self.frames.put(message);
        }
        sequence
    }

    /// The next event; `None` once the client is closed.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
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

async fn run(config: ClientConfig, frames: Arc<LatestSlot<Vec<u8>>>, events: mpsc::Sender<Event>) {
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
                let why = loop {
                    tokio::select! {
                        frame = frames.wait() => match frame {
                            Some(bytes) => {
                                if let Err(e) = sink.send(Message::Binary(bytes.into())).await {
                                    break e.to_string();
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
                            if events.send(event).await.is_err() {
                                return;
                            }
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
