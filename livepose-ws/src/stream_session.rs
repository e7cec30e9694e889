//! A pose stream's socket (`/ws`, or a room's camera): a reader that turns messages into
//! frames and options ([`crate::inbound`]), and a writer task that sends results, control
//! messages, pings and `stats`, until either side ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use livepose_core::wire::control::{ResultFormat, StreamOptions};
use parking_lot::Mutex;
use tokio_tungstenite::tungstenite;

use crate::inbound;
use crate::metrics::Connected;
use crate::rate::{FrameRateCap, RateWindow};
use crate::rooms::Room;
use crate::scheduler::{StreamCore, StreamSettings};
use crate::session::Session;
use crate::state::AppState;

/// Serves one pose stream until its socket closes (or stops answering pings).
pub(crate) async fn stream_session(
    state: Arc<AppState>,
    socket: WebSocket,
    room: Option<Arc<Room>>,
) {
    let _connected = Connected::new(&state.metrics);
    let id = state.next_id("s");
    let settings = StreamSettings {
        model: state.config.model,
        results: ResultFormat::Binary,
    };
    let stream = StreamCore::new(
        id.clone(),
        state.config.pipeline_builder().tracker(),
        settings,
    );
    if let Some(room) = &room {
        stream.publish_to(room.clone());
    }
    state.streams.lock().insert(id.clone(), stream.clone());
    tracing::debug!(stream = %id, "connected");
    let (sink, mut source) = socket.split();
    let started = Instant::now();
    let millis = move || started.elapsed().as_millis() as u64;
    let last_pong = Arc::new(AtomicU64::new(0));
    let dead = Arc::new(tokio::sync::Notify::new());
    // Set by the reader when the socket must close with a code of its own.
    let close_with: Arc<Mutex<Option<CloseFrame>>> = Arc::default();
    let writer = tokio::spawn(write(
        sink,
        Writer {
            state: state.clone(),
            stream: stream.clone(),
            last_pong: last_pong.clone(),
            dead: dead.clone(),
            close_with: close_with.clone(),
            heartbeat: state.config.heartbeat,
            stats_every: state.config.stats_interval,
            started,
        },
    ));
    let mut session = Session {
        stream: stream.clone(),
        options: StreamOptions::default(),
        said_hello: false,
        image: Vec::new(),
        cap: FrameRateCap::new(state.config.max_fps, Instant::now()),
        room,
    };
    loop {
        let message = tokio::select! {
            message = source.next() => message,
            _ = dead.notified() => break,
        };
        let message = match message {
            Some(Ok(message)) => message,
            Some(Err(e)) => {
                if is_invalid_utf8(e) {
                    // RFC 6455 §8.1: text that is not UTF-8 fails the connection with 1007.
                    *close_with.lock() = Some(CloseFrame {
                        code: close_code::INVALID,
                        reason: "a text message was not valid UTF-8".into(),
                    });
                }
                break;
            }
            None => break,
        };
        match message {
            Message::Binary(bytes) => inbound::on_binary(&state, &mut session, bytes),
            Message::Text(text) => inbound::on_text(&state, &mut session, text.as_str()),
            Message::Pong(_) => last_pong.store(millis(), Ordering::Relaxed),
            Message::Close(_) => break,
            Message::Ping(_) => {}
        }
    }
    // Disconnected: no further inference for this stream.
    stream.close();
    state.streams.lock().remove(&id);
    let _ = writer.await;
    state.release_memory_soon();
    tracing::debug!(stream = %id, "closed");
}

/// Whether a read failed on a text message that is not UTF-8.
fn is_invalid_utf8(e: axum::Error) -> bool {
    e.into_inner()
        .downcast_ref::<tungstenite::Error>()
        .is_some_and(|e| matches!(e, tungstenite::Error::Utf8(_)))
}

/// What the socket writer needs.
struct Writer {
    state: Arc<AppState>,
    stream: Arc<StreamCore>,
    last_pong: Arc<AtomicU64>,
    dead: Arc<tokio::sync::Notify>,
    close_with: Arc<Mutex<Option<CloseFrame>>>,
    heartbeat: Duration,
    stats_every: Duration,
    /// When the session started: `last_pong` counts milliseconds from it.
    started: Instant,
}

/// Sends results (at most one per `max_result_fps` interval, latest wins), control
/// messages, pings (closing a connection that answers none of two) and `stats`.
async fn write(mut sink: futures_util::stream::SplitSink<WebSocket, Message>, w: Writer) {
    let stream = &w.stream;
    let mut control = stream.take_control();
    let start = tokio::time::Instant::now();
    let mut pings = tokio::time::interval_at(start + w.heartbeat, w.heartbeat);
    let mut stats_ticks = tokio::time::interval_at(start + w.stats_every, w.stats_every);
    let mut rates = RateWindow::new(stream, Instant::now());
    let mut next_result = tokio::time::Instant::now();
    loop {
        // With a `max_result_fps`, results wait for their turn; meanwhile a newer one
        // replaces a waiting one (latest wins).
        let ready = tokio::time::Instant::now() >= next_result;
        let message = tokio::select! {
            _ = tokio::time::sleep_until(next_result), if !ready => continue,
            out = stream.outbound.wait(), if ready => match out {
                Some(out) => {
                    // The workers skip this stream while its result waits: a frame that
                    // came meanwhile may go now.
                    w.state.pool.resume(stream);
                    rates.results += 1;
                    let gap = stream.min_result_interval_us.load(Ordering::Relaxed);
                    next_result = tokio::time::Instant::now() + Duration::from_micros(gap);
                    out.into_message()
                }
                None => break,
            },
            Some(text) = recv(&mut control) => Message::Text(text.into()),
            _ = pings.tick() => {
                let now = w.started.elapsed().as_millis() as u64;
                let silent = now.saturating_sub(w.last_pong.load(Ordering::Relaxed));
                if silent > 2 * w.heartbeat.as_millis() as u64 + 50 {
                    tracing::debug!(stream = %stream.id, "no pong: closing");
                    stream.close();
                    w.dead.notify_one();
                    break;
                }
                Message::Ping(Bytes::new())
            }
            _ = stats_ticks.tick() => {
                for text in rates.report(stream, Instant::now()) {
                    stream.send_text(text);
                }
                continue;
            }
        };
        if sink.send(message).await.is_err() {
            break;
        }
    }
    let close = w.close_with.lock().take();
    match close {
        Some(frame) => {
            let _ = sink.send(Message::Close(Some(frame))).await;
        }
        None => {
            let _ = sink.close().await;
        }
    }
}

/// The next control message, or never if there is no receiver.
async fn recv(control: &mut Option<tokio::sync::mpsc::Receiver<String>>) -> Option<String> {
    match control {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
