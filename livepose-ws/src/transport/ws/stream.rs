//! A pose stream's socket (`/ws`, or a room's camera): the reader, which turns messages into
//! frames and options (`sessions::inbound`), until the socket closes, stops answering pings,
//! its room is removed, or another node's camera takes its room; the writer is `writer`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use futures_util::StreamExt;
use livepose_core::wire::control::ResultFormat;
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite;

use super::writer::{write, Writer};
use crate::message;
use crate::metrics::Connected;
use crate::rooms::{CameraSeat, Room};
use crate::sessions::{inbound, Session};
use crate::state::AppState;

/// Serves one pose stream until its socket closes (or stops answering pings); `seat`: the
/// room's camera seat it holds if it is a room's camera (given back when this returns), and
/// `evicted`, which says when another node's camera holds the room (the stream then ends
/// with a fatal `camera_taken`).
pub(crate) async fn stream_session(
    state: Arc<AppState>,
    socket: WebSocket,
    seat: Option<CameraSeat>,
    mut evicted: Option<watch::Receiver<Option<String>>>,
) {
    let _connected = Connected::new(&state.metrics);
    let mut session = Session::open(&state, "s", ResultFormat::Binary, seat.as_ref());
    let stream = session.stream.clone();
    let id = stream.id.clone();
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
    loop {
        let message = tokio::select! {
            message = source.next() => message,
            _ = dead.notified() => break,
            _ = room_closed(session.room.as_deref()) => break,
            node = holder(&mut evicted) => {
                let why = format!("this room's camera is on node {node}");
                state.metrics.record_error("camera_taken");
                stream.send_text(message::error("camera_taken", &why, None, true));
                break;
            }
        };
        let message = match message {
            Some(Ok(message)) => message,
            Some(Err(e)) => {
                match read_failure(e) {
                    // RFC 6455 §8.1: text that is not UTF-8 fails the connection with 1007.
                    ReadFailure::InvalidUtf8 => {
                        *close_with.lock() = Some(CloseFrame {
                            code: close_code::INVALID,
                            reason: "a text message was not valid UTF-8".into(),
                        });
                    }
                    // docs/protocol.md §5: `oversized`, then 1009 (message too big).
                    ReadFailure::TooBig => {
                        let limit = state.config.max_message_bytes;
                        let why = format!("a message over the limit of {limit} bytes");
                        state.metrics.record_error("oversized");
                        stream.send_text(message::error("oversized", &why, None, true));
                        *close_with.lock() = Some(CloseFrame {
                            code: close_code::SIZE,
                            reason: "message too big".into(),
                        });
                    }
                    ReadFailure::Other => {}
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
    state.streams.remove(&id);
    let _ = writer.await;
    drop(seat);
    state.release_memory_soon();
    tracing::debug!(stream = %id, "closed");
}

/// Resolves when `room` (a camera's room) is removed; never without one.
async fn room_closed(room: Option<&Room>) {
    match room {
        Some(room) => room.closed().await,
        None => std::future::pending().await,
    }
}

/// The node whose camera took the room, once there is one; never without `evicted`.
async fn holder(evicted: &mut Option<watch::Receiver<Option<String>>>) -> String {
    let Some(evicted) = evicted else {
        return std::future::pending().await;
    };
    let node = evicted
        .wait_for(Option::is_some)
        .await
        .map(|node| node.clone().unwrap_or_default());
    match node {
        Ok(node) => node,
        Err(_) => std::future::pending().await,
    }
}

/// Why reading the socket failed, where the close code depends on it.
enum ReadFailure {
    /// A text message that is not UTF-8.
    InvalidUtf8,
    /// A message over the size limit.
    TooBig,
    /// Anything else (a reset, a protocol violation): the socket just ends.
    Other,
}

fn read_failure(e: axum::Error) -> ReadFailure {
    match e.into_inner().downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Utf8(_)) => ReadFailure::InvalidUtf8,
        Some(tungstenite::Error::Capacity(_)) => ReadFailure::TooBig,
        _ => ReadFailure::Other,
    }
}
