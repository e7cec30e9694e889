//! NATS subjects, key-value keys and message headers of the cluster. A room's name becomes
//! one token that is valid in both subjects and keys (letters, digits, `-` and `_` kept;
//! every other byte as `=XX`), so any room name maps to its own subjects and no name can
//! reach into another's (`.`, `*`, `>` and spaces are escaped). A token is at most three
//! times its name's bytes: room names are at most 128 bytes (`rooms::RoomName`), so every
//! subject stays far within a NATS control line.

use async_nats::HeaderMap;

/// The prefix of every subject livepose uses.
pub(crate) const PREFIX: &str = "livepose";

/// A room name as one subject token and key.
pub(crate) fn room_token(room: &str) -> String {
    let mut token = String::with_capacity(room.len());
    for byte in room.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' {
            token.push(byte as char);
        } else {
            token.push_str(&format!("={byte:02X}"));
        }
    }
    if token.is_empty() {
        token.push('=');
    }
    token
}

/// What a room's camera node publishes, and its viewers' nodes subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RoomSubject {
    /// Results (protocol v1 bytes or JSON text; header `Livepose-Kind`).
    Results,
    /// The camera's frame messages (protocol v1), while some node has viewers that want them.
    Frames,
    /// Annotated frames (JPEG), while some node has viewers that want them.
    Annotated,
    /// The camera's heartbeat (`alive`) and its leaving (`left`).
    Camera,
    /// A viewer node's interest in frames or annotated frames (header `Livepose-Kind`),
    /// repeated while it has viewers that want them.
    Interest,
}

impl RoomSubject {
    fn as_str(self) -> &'static str {
        match self {
            RoomSubject::Results => "results",
            RoomSubject::Frames => "frames",
            RoomSubject::Annotated => "annotated",
            RoomSubject::Camera => "camera",
            RoomSubject::Interest => "interest",
        }
    }
}

/// The subject of `room`'s `what`.
pub(crate) fn room_subject(room: &str, what: RoomSubject) -> String {
    format!("{PREFIX}.room.{}.{}", room_token(room), what.as_str())
}

/// The header naming the node that published a message.
pub(crate) const NODE_HEADER: &str = "Livepose-Node";
/// The header naming what a message is (`binary` or `text` results, `frame`, `annotated`,
/// `alive`, `left`).
pub(crate) const KIND_HEADER: &str = "Livepose-Kind";

/// The headers of a message of `kind` from `node`.
pub(crate) fn headers(node: &str, kind: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(NODE_HEADER, node);
    headers.insert(KIND_HEADER, kind);
    headers
}

/// Header `name` of `message`.
pub(crate) fn header<'a>(message: &'a async_nats::Message, name: &str) -> Option<&'a str> {
    message.headers.as_ref()?.get(name).map(|v| v.as_str())
}

/// The subject every node answers cluster views on (`?scope=cluster`).
pub(crate) fn views_subject() -> String {
    format!("{PREFIX}.views")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_stay_readable_and_others_are_escaped_one_to_one() {
        assert_eq!(room_token("lab-1_B"), "lab-1_B");
        assert_eq!(room_token("a.b"), "a=2Eb");
        assert_eq!(room_token("*"), "=2A");
        assert_eq!(room_token(">"), "=3E");
        assert_eq!(room_token("hall 2"), "hall=202");
        assert_eq!(room_token("é"), "=C3=A9");
        assert_eq!(room_token(""), "=");
        // Escaping cannot make two names meet: `=` itself is escaped.
        assert_ne!(room_token("a=2Eb"), room_token("a.b"));
        assert_eq!(
            room_subject("a.b", RoomSubject::Results),
            "livepose.room.a=2Eb.results"
        );
    }

    #[test]
    fn every_token_is_a_valid_subject_token_and_key() {
        for room in ["lab", "a.b.c", "x y", "*>", "=", "über", "\u{0}", "../etc"] {
            let token = room_token(room);
            assert!(!token.is_empty());
            assert!(
                token
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'='),
                "{room:?} -> {token}"
            );
        }
    }
}
