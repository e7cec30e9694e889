//! A room viewer's socket: the camera's results (and frames, camera or annotated, if asked)
//! and the room's notices, until it closes or the room is removed; it may report its own
//! figures with `viewer_stats`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use livepose_core::wire::control::ClientMessage;
use tokio::sync::mpsc;

use super::close::restart_frame;
use crate::message;
use crate::metrics::Connected;
use crate::rooms::{Frames, RoomName, Viewer};
use crate::state::AppState;

/// Replies to a viewer's own messages waiting for its socket: a viewer that sends
/// unreadable messages faster than it reads loses replies, not memory.
const MAX_REPLIES: usize = 4;

/// Serves a viewer of room `name` until its socket closes; `frames`: which frames it gets
/// besides the results.
pub(crate) async fn viewer_session(
    state: &Arc<AppState>,
    socket: WebSocket,
    name: &RoomName,
    frames: Frames,
) {
    let _connected = Connected::new(&state.metrics);
    let viewer = Viewer::new(state.streams.next_id("v"), "socket", frames);
    let room = state.join_room(name, viewer.clone());
    let (mut sink, mut source) = socket.split();
    let (replies, mut replies_out) = mpsc::channel::<String>(MAX_REPLIES);
    let writer = {
        let viewer = viewer.clone();
        let mut notices = viewer.take_notices();
        let draining = state.clone();
        tokio::spawn(async move {
            loop {
                let notice = async {
                    match &mut notices {
                        Some(notices) => notices.recv().await,
                        None => std::future::pending().await,
                    }
                };
                let frame = async {
                    match &viewer.frames {
                        Some(frames) => frames.wait().await,
                        None => std::future::pending().await,
                    }
                };
                let message = tokio::select! {
                    out = viewer.results.wait() => match out {
                        Some(out) => out.into_message(),
                        None => break,
                    },
                    Some(bytes) = frame => Message::Binary(bytes),
                    Some(text) = notice => Message::Text(text.into()),
                    Some(text) = replies_out.recv() => Message::Text(text.into()),
                };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            if draining.is_draining() {
                let _ = sink.send(Message::Close(Some(restart_frame()))).await;
            } else {
                let _ = sink.close().await;
            }
        })
    };
    loop {
        let message = tokio::select! {
            message = source.next() => message,
            _ = room.closed() => break,
        };
        let Some(Ok(message)) = message else { break };
        match message {
            Message::Close(_) => break,
            Message::Text(text) => match ClientMessage::from_json(text.as_str()) {
                Ok(ClientMessage::ViewerStats(stats)) => viewer.report(stats, Instant::now()),
                Ok(_) => reply(
                    state,
                    &replies,
                    "unknown_type",
                    "a viewer sends only `viewer_stats`",
                ),
                Err(e) => reply(state, &replies, e.code(), &e.to_string()),
            },
            Message::Binary(_) => reply(
                state,
                &replies,
                "unknown_type",
                "a viewer sends no frames (a room's camera sends to /ws/rooms/{room}/camera)",
            ),
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    room.audience.leave(&viewer);
    drop(replies);
    let _ = writer.await;
    state.release_memory_soon();
}

/// Sends the viewer a non-fatal `error` and counts it.
fn reply(state: &AppState, replies: &mpsc::Sender<String>, code: &'static str, message: &str) {
    state.metrics.record_error(code);
    let _ = replies.try_send(message::error(code, message, Some(0), false));
}
