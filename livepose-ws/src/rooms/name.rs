//! A room's name, checked once for every way a room is named: the WebSocket camera and view
//! routes, a Socket.IO `join`, `POST`/`DELETE /rooms/{room}/source`, `DELETE /rooms/{room}`,
//! the room figures and MJPEG routes, and `--source ROOM=URL`. Nothing else makes a
//! [`RoomName`], so a room, its log lines and its NATS subjects only ever see a checked one.
//!
//! A name is 1 to [`MAX_BYTES`] bytes of UTF-8 with no control character (a `\n` would forge
//! log lines) and none of `/`, `?`, `#` (a name is one URL path segment, so every room is
//! reachable at `/rooms/{room}`). The length keeps every NATS subject the cluster builds from
//! a name within NATS' limits: a subject token escapes each byte to at most 3
//! (`cluster/subjects.rs`), so a name's token is at most 384 bytes, and the longest subject
//! (`$JS.API.DIRECT.GET.KV_livepose_cameras.$KV.livepose_cameras.` and the token, a camera
//! claim's lookup) is under 450 bytes: with its reply subject and sizes, far within the
//! 4096-byte control line nats-server allows by default, and within 1024 if lowered.

use std::borrow::Borrow;
use std::fmt;

/// The longest room name, in bytes of UTF-8.
pub(crate) const MAX_BYTES: usize = 128;

/// A checked room name (`Debug` shows it as a string).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct RoomName(String);

/// Why a room name is refused (error code [`BadRoomName::CODE`]). The message never repeats
/// the name: it may be 100 KB, or hold the control characters it is refused for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadRoomName {
    #[error("a room name must not be empty")]
    Empty,
    #[error("a room name is at most {MAX_BYTES} bytes of UTF-8 (this one has {0})")]
    TooLong(usize),
    #[error("a room name must not hold control characters")]
    Control,
    #[error("a room name must not hold `/`, `?` or `#` (it is one URL path segment)")]
    Reserved,
}

impl BadRoomName {
    /// The error code a client is told (docs/protocol.md).
    pub(crate) const CODE: &'static str = "bad_room";
}

impl RoomName {
    /// Checks `name`.
    pub(crate) fn parse(name: &str) -> Result<Self, BadRoomName> {
        if name.is_empty() {
            return Err(BadRoomName::Empty);
        }
        if name.len() > MAX_BYTES {
            return Err(BadRoomName::TooLong(name.len()));
        }
        if name.chars().any(char::is_control) {
            return Err(BadRoomName::Control);
        }
        if name.contains(['/', '?', '#']) {
            return Err(BadRoomName::Reserved);
        }
        Ok(RoomName(name.to_string()))
    }

    /// The name.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl Borrow<str> for RoomName {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for RoomName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_short_printable_path_segment() {
        for good in [
            "lab",
            "hall 2",
            "r",
            "über",
            "a.b",
            "*>",
            &"x".repeat(MAX_BYTES),
        ] {
            assert_eq!(
                RoomName::parse(good).map(|n| n.to_string()),
                Ok(good.into())
            );
        }
        assert_eq!(RoomName::parse(""), Err(BadRoomName::Empty));
        assert_eq!(RoomName::parse("a\nb"), Err(BadRoomName::Control));
        assert_eq!(RoomName::parse("tab\t"), Err(BadRoomName::Control));
        assert_eq!(RoomName::parse("\u{85}"), Err(BadRoomName::Control));
        for reserved in ["a/b", "a?b", "a#b"] {
            assert_eq!(RoomName::parse(reserved), Err(BadRoomName::Reserved));
        }
        let long = "x".repeat(MAX_BYTES + 1);
        assert_eq!(RoomName::parse(&long), Err(BadRoomName::TooLong(129)));
        // Bytes, not characters: 65 two-byte characters are 130 bytes.
        assert_eq!(
            RoomName::parse(&"ü".repeat(65)),
            Err(BadRoomName::TooLong(130))
        );
        let huge = "y".repeat(100_000);
        let why = RoomName::parse(&huge).unwrap_err().to_string();
        assert!(why.len() < 100 && !why.contains("yyy"), "{why}");
    }
}
