//! [`ErrorCode`]: every `code` an `error` control message may carry (docs/protocol.md §5,
//! §6.2 and §8), one name each, so that a server builds its errors from this list and a
//! client can match on it. Receivers must still accept codes they do not know (a newer
//! server may add some): [`ErrorReport::code`](crate::wire::control::ErrorReport::code)
//! stays a string. A leaf module (it imports nothing of the crate), so that the errors of
//! `image`, `inference` and `wire` can each name their code; public as
//! [`crate::wire::ErrorCode`].

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// The code of an `error` control message.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order docs/protocol.md lists them.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it is sent (snake_case).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }
        }

        impl std::str::FromStr for ErrorCode {
            type Err = UnknownCode;

            fn from_str(name: &str) -> Result<Self, UnknownCode> {
                match name {
                    $($name => Ok(ErrorCode::$variant),)*
                    _ => Err(UnknownCode(name.to_string())),
                }
            }
        }
    };
}

codes! {
    // Binary messages (§5), in the order they are checked.
    /// The message is longer than the receiver's size limit (a WebSocket server then closes
    /// with 1009).
    Oversized = "oversized",
    /// The message ends before a field it declares.
    Truncated = "truncated",
    /// Not a livepose message (the magic is not `LPOS`).
    BadMagic = "bad_magic",
    /// A protocol version the receiver does not speak: a binary message's, or a `hello`'s.
    UnsupportedVersion = "unsupported_version",
    /// A message type not expected on that side.
    UnexpectedType = "unexpected_type",
    /// Lengths or counts that contradict the rest of the message.
    Inconsistent = "inconsistent",
    /// An unknown image format code.
    UnknownImageFormat = "unknown_image_format",
    /// A raw frame of zero width or height.
    BadDimensions = "bad_dimensions",
    /// More items than a wire field holds (encoding only).
    TooMany = "too_many",
    // JSON (§6, §7).
    /// A text message that is not valid JSON of the expected shape.
    BadJson = "bad_json",
    /// A JSON frame's image that is not base64 or a data URL.
    BadImageData = "bad_image_data",
    /// A control message of a `type` the server does not know.
    UnknownType = "unknown_type",
    // Frames (§8).
    /// An image that does not decode.
    BadImage = "bad_image",
    /// An image (raw, or encoded: read from its header) of more pixels than `max_pixels`.
    ImageTooLarge = "image_too_large",
    /// A frame over the per-connection rate (`limits.max_fps`).
    RateLimited = "rate_limited",
    /// The models could not be loaded.
    Models = "models",
    /// Inference failed on a frame.
    Inference = "inference",
    // Connections and rooms (§8).
    /// A token is missing or wrong.
    Unauthorized = "unauthorized",
    /// Rooms are off (no room token configured).
    RoomsOff = "rooms_off",
    /// The room has a camera already (here or on another node).
    CameraTaken = "camera_taken",
    /// The room was removed (`DELETE /rooms/{room}`).
    RoomRemoved = "room_removed",
    /// A Socket.IO handshake that does not parse.
    BadHandshake = "bad_handshake",
    /// The server is shutting down: reconnect (to another node).
    ShuttingDown = "shutting_down",
    /// A server fault (a message it could not serialise).
    Internal = "internal",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A code that is not one of [`ErrorCode::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code {0:?}")]
pub struct UnknownCode(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_as_text_and_json() {
        for &code in ErrorCode::ALL {
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(code));
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{code}\""));
            assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        }
        assert!("no_such_code".parse::<ErrorCode>().is_err());
    }
}
