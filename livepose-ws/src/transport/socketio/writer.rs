//! A Socket.IO connection's writer: results as the result event (the JSON result object, or
//! protocol v1 bytes), control messages and a viewer's room notices as events named by
//! their `type` (`welcome`, `stats`, `rate`, `error`, `source_lost`, ...), a viewer's room
//! frames as `frame`; at most a few packets are buffered per client (latest wins).

use std::sync::Arc;

use serde_json::Value;
use socketioxide::extract::SocketRef;

use super::connection::Connection;
use crate::message::{self, OutMessage};
use crate::rooms::Viewer;
use crate::sessions::{Outbox, Outgoing};
use crate::state::AppState;

/// Emits what the connection's [`Outbox`] gives, and a viewer's room results, frames and
/// notices: results as the result event, frames as `frame`, control messages and notices
/// as events named by their `type`. A client whose buffer is full loses the packet (latest
/// wins); a closed socket ends the writer.
pub(crate) async fn write(state: Arc<AppState>, socket: SocketRef, c: Arc<Connection>) {
    let mut outbox = Outbox::new(c.stream.clone(), None, state.config.stats_interval);
    // The room notices (`source_lost`, `source_back`) of the viewer place held now.
    let mut notices: Option<(Arc<Viewer>, tokio::sync::mpsc::Receiver<String>)> = None;
    loop {
        let viewer = c.viewer();
        let same = matches!((&viewer, &notices), (Some(v), Some((n, _))) if Arc::ptr_eq(v, n));
        if !same {
            notices = viewer
                .as_ref()
                .and_then(|v| Some((v.clone(), v.take_notices()?)));
        }
        let room_notice = async {
            match &mut notices {
                Some((_, rx)) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        let room_result = async {
            match &viewer {
                Some(viewer) => viewer.results.wait().await,
                None => std::future::pending().await,
            }
        };
        let room_frame = async {
            match viewer.as_ref().and_then(|v| v.frames.as_ref()) {
                Some(frames) => frames.wait().await,
                None => std::future::pending().await,
            }
        };
        let room = c.room();
        let room_closed = async {
            match &room {
                Some(room) => room.closed().await,
                None => std::future::pending().await,
            }
        };
        let sent = tokio::select! {
            outgoing = outbox.next(&state) => match outgoing {
                Some(Outgoing::Result(out)) => emit_result(&socket, &c.result_event, out),
                Some(Outgoing::Control(text)) => emit_control(&socket, &text),
                Some(Outgoing::Ping) => continue,
                None => break,
            },
            Some(out) = room_result => emit_result(&socket, &c.result_event, out),
            Some(frame) = room_frame => socket.emit("frame", &frame),
            Some(text) = room_notice => emit_control(&socket, &text),
            _ = c.join_signal.notified() => continue,
            // `DELETE /rooms/{room}`: its connections end, as its sockets do.
            _ = room_closed => {
                if state.is_draining() {
                    emit_error(&socket, "shutting_down", "server shutting down: reconnect");
                } else {
                    emit_error(&socket, "room_removed", "this room was removed");
                }
                let _ = socket.clone().disconnect();
                break;
            }
        };
        if let Err(socketioxide::SendError::Socket(socketioxide::SocketError::Closed)) = sent {
            break;
        }
    }
}

/// A result: protocol v1 bytes as a binary attachment, a JSON result as its object.
fn emit_result(
    socket: &SocketRef,
    event: &str,
    out: OutMessage,
) -> Result<(), socketioxide::SendError> {
    match out {
        OutMessage::Binary(bytes) => socket.emit(event, &bytes),
        OutMessage::Text(text) => match serde_json::from_str::<Value>(&text) {
            // JSON results have no `type`; an error in a result's place (a frame that did
            // not decode) does, and goes out as that event.
            Ok(value) => match value.get("type").and_then(Value::as_str) {
                Some(kind) => socket.emit(kind, &value),
                None => socket.emit(event, &value),
            },
            Err(_) => Ok(()),
        },
    }
}

/// A control message as the event its `type` names (`welcome`, `stats`, `rate`, `error`;
/// to a viewer, `source_lost` and `source_back`).
fn emit_control(socket: &SocketRef, text: &str) -> Result<(), socketioxide::SendError> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            let kind = value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("message");
            socket.emit(kind, &value)
        }
        Err(_) => Ok(()),
    }
}

/// A fatal error, outside the stream's own messages (its handshake, its room's removal).
pub(crate) fn emit_error(socket: &SocketRef, code: &str, why: &str) {
    let _ = emit_control(socket, &message::error(code, why, None, true));
}
