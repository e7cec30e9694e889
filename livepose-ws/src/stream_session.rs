//! A pose stream's socket (`/ws`, or a room's camera): a reader that turns messages into
//! frames and options ([`crate::inbound`]), and a writer task that sends results, control
//! messages, pings and `stats`, until either side ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use livepose_core::wire::control::{ErrorReport, ResultFormat, ServerMessage};
use parking_lot::Mutex;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite;

use crate::inbound;
use crate::metrics::Connected;
use crate::outbox::{Outbox, Outgoing};
use crate::rooms::Room;
use crate::scheduler::StreamCore;
use crate::session::Session;
use crate::state::AppState;

/// Serves one pose stream until its socket closes (or stops answering pings); `room`: the
/// room whose camera it is, and `evicted`, which says when another node's camera holds the
/// room (the stream then ends with a fatal `camera_taken`).
pub(crate) async fn stream_session(
    state: Arc<AppState>,
    socket: WebSocket,
    room: Option<Arc<Room>>,
    mut evicted: Option<watch::Receiver<Option<String>>>,
) {
    let _connected = Connected::new(&state.metrics);
    let mut session = Session::open(&state, "s", ResultFormat::Binary, room);
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
                stream.send_text(fatal_error("camera_taken", &why));
                break;
            }
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

/// A fatal `error` control message.
fn fatal_error(code: &str, message: &str) -> String {
    ServerMessage::Error(ErrorReport {
        code: code.to_string(),
        message: message.to_string(),
        sequence: None,
        fatal: true,
    })
    .to_json()
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

/// Sends what the stream's [`Outbox`] gives (results, control messages, `stats`) and pings,
/// closing a connection that answers none of two.
async fn write(mut sink: futures_util::stream::SplitSink<WebSocket, Message>, w: Writer) {
    let stream = &w.stream;
    let mut outbox = Outbox::new(stream.clone(), Some(w.heartbeat), w.stats_every);
    while let Some(outgoing) = outbox.next(&w.state).await {
        let message = match outgoing {
            Outgoing::Result(out) => out.into_message(),
            Outgoing::Control(text) => Message::Text(text.into()),
            Outgoing::Ping => {
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
        };
        if sink.send(message).await.is_err() {
            break;
        }
    }
    let mut close = w.close_with.lock().take();
    if close.is_none() && w.state.is_draining() {
        close = Some(restart_frame());
    }
    match close {
        Some(frame) => {
            let _ = sink.send(Message::Close(Some(frame))).await;
        }
        None => {
            let _ = sink.close().await;
        }
    }
}

/// The close frame of a server shutting down: 1012 (service restart), reconnect.
pub(crate) fn restart_frame() -> CloseFrame {
    CloseFrame {
        code: close_code::RESTART,
        reason: "server shutting down: reconnect".into(),
    }
}
