//! How the server ends a WebSocket of its own accord: refusing one it upgraded (a fatal
//! `error`, then a close), and the close frame of a server shutting down.

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use futures_util::SinkExt;

use crate::message;

/// Sends a fatal `error` and closes.
pub(crate) async fn refuse(mut socket: WebSocket, code: &str, why: &str) {
    let text = message::error(code, why, None, true);
    let _ = socket.send(Message::Text(text.into())).await;
    let _ = socket.close().await;
}

/// The close frame of a server shutting down: 1012 (service restart), reconnect.
pub(crate) fn restart_frame() -> CloseFrame {
    CloseFrame {
        code: close_code::RESTART,
        reason: "server shutting down: reconnect".into(),
    }
}
