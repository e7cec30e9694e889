//! What leaves the server for a client: results and control messages as reference-counted
//! bytes ([`OutMessage`]: the socket writer and every room viewer share one message without
//! copying it), and the one builder of `error` messages ([`error`]), whatever the transport.

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

/// An `error` control message (docs/protocol.md §6): its `code`, the `message` for people,
/// the `sequence` of the frame it is about when there is one, and whether the connection
/// ends after it (`fatal`). Every error a client is sent, on any transport, is built here.
pub(crate) fn error(code: &str, message: &str, sequence: Option<u64>, fatal: bool) -> String {
    ServerMessage::Error(ErrorReport {
        code: code.to_string(),
        message: message.to_string(),
        sequence,
        fatal,
    })
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_have_the_protocols_shape() {
        let fatal: serde_json::Value =
            serde_json::from_str(&error("camera_taken", "taken", None, true)).unwrap();
        assert_eq!(
            fatal,
            serde_json::json!({"type": "error", "code": "camera_taken", "message": "taken", "fatal": true})
        );
        let about_a_frame = error("bad_image", "no", Some(7), false);
        assert!(about_a_frame.contains("\"sequence\":7"), "{about_a_frame}");
    }
}
