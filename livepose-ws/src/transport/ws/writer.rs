//! A pose stream socket's writer task: sends what the stream's `Outbox` gives (results,
//! control messages, `stats`) and pings, closing a connection that answers none of two;
//! closes with the reader's close frame, or 1012 when the server shuts down.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::SplitSink;
use futures_util::SinkExt;
use parking_lot::Mutex;

use super::close::restart_frame;
use crate::sessions::{Outbox, Outgoing};
use crate::state::AppState;
use crate::streams::StreamCore;

/// What the socket writer needs.
pub(crate) struct Writer {
    pub(crate) state: Arc<AppState>,
    pub(crate) stream: Arc<StreamCore>,
    /// When the last pong came, in milliseconds from `started` (set by the reader).
    pub(crate) last_pong: Arc<AtomicU64>,
    /// Woken when the connection is dead (no pong): the reader stops.
    pub(crate) dead: Arc<tokio::sync::Notify>,
    /// The close frame the reader asks for, if any.
    pub(crate) close_with: Arc<Mutex<Option<CloseFrame>>>,
    pub(crate) heartbeat: Duration,
    pub(crate) stats_every: Duration,
    /// When the session started.
    pub(crate) started: Instant,
}

/// Sends what the stream's [`Outbox`] gives (results, control messages, `stats`) and pings,
/// closing a connection that answers none of two.
pub(crate) async fn write(mut sink: SplitSink<WebSocket, Message>, w: Writer) {
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
