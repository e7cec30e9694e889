//! What leaves the server for a client: results and control messages. Both hold
//! reference-counted bytes, so the socket writer and every room viewer share one message
//! without copying it.

use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes};
use livepose_core::wire::control::{ErrorReport, ServerMessage};

/// A message for a client's socket.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OutMessage {
    /// A binary protocol v1 result.
    Binary(Bytes),
    /// Text: a JSON result in the compatibility shape, or a control message.
    Text(Utf8Bytes),
}

impl OutMessage {
    /// A text message.
    pub(crate) fn text(text: impl Into<Utf8Bytes>) -> Self {
        OutMessage::Text(text.into())
    }

    /// The WebSocket message (no copy).
    pub(crate) fn into_message(self) -> Message {
        match self {
            OutMessage::Binary(bytes) => Message::Binary(bytes),
            OutMessage::Text(text) => Message::Text(text),
        }
    }
}

/// An `error` control message (not fatal) about frame `sequence`.
pub(crate) fn error_json(code: &str, message: &str, sequence: u64) -> String {
    ServerMessage::Error(ErrorReport {
        code: code.to_string(),
        message: message.to_string(),
        sequence: Some(sequence),
        fatal: false,
    })
    .to_json()
}
