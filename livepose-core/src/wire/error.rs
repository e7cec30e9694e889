//! [`WireError`]: why a message was rejected.

use crate::error_code::ErrorCode;

/// Why a wire message could not be decoded (or encoded). Every variant names the problem
/// precisely enough to be sent back to the client as is; [`WireError::code`] gives a stable
/// machine-readable code for the `error` control message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The message ends before a field or section it declares.
    #[error("truncated message: {what} needs {needed} bytes, {available} available")]
    Truncated {
        /// The field or section that did not fit.
        what: &'static str,
        /// Bytes needed from the start of the message.
        needed: usize,
        /// Bytes in the message.
        available: usize,
    },
    /// The message is larger than the configured limit.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    Oversized {
        /// Message length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The first four bytes are not `LPOS`.
    #[error("bad magic {found:02x?}: not a livepose message (expected \"LPOS\")")]
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The protocol version is not one this decoder speaks.
    #[error("unsupported protocol version {found} (this decoder speaks version {supported})")]
    UnsupportedVersion {
        /// Version in the message.
        found: u8,
        /// Version this decoder speaks.
        supported: u8,
    },
    /// The message type is not the one expected here.
    #[error("unexpected message type {found} (expected {expected})")]
    UnexpectedType {
        /// Type code found.
        found: u8,
        /// Type code expected.
        expected: u8,
    },
    /// The image format code is unknown.
    #[error("unknown image format code {0}")]
    UnknownImageFormat(u8),
    /// A length or count field contradicts the rest of the message.
    #[error("inconsistent message: {0}")]
    Inconsistent(String),
    /// Raw pixels with zero or absurd dimensions.
    #[error("invalid raw image dimensions {width}x{height}")]
    BadDimensions {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
    },
    /// A count does not fit the wire field (encoding only).
    #[error("too many {what}: {count} (the wire field holds at most {max})")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// How many there were.
        count: usize,
        /// The most the field holds.
        max: usize,
    },
    /// A JSON text message is not valid JSON of the expected shape.
    #[error("invalid JSON message: {0}")]
    Json(String),
    /// A JSON frame's image is not a valid base64 or data URL.
    #[error("invalid image data in JSON frame: {0}")]
    BadImageData(String),
}

impl WireError {
    /// The code of the `error` control message that reports it.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            WireError::Truncated { .. } => ErrorCode::Truncated,
            WireError::Oversized { .. } => ErrorCode::Oversized,
            WireError::BadMagic { .. } => ErrorCode::BadMagic,
            WireError::UnsupportedVersion { .. } => ErrorCode::UnsupportedVersion,
            WireError::UnexpectedType { .. } => ErrorCode::UnexpectedType,
            WireError::UnknownImageFormat(_) => ErrorCode::UnknownImageFormat,
            WireError::Inconsistent(_) => ErrorCode::Inconsistent,
            WireError::BadDimensions { .. } => ErrorCode::BadDimensions,
            WireError::TooMany { .. } => ErrorCode::TooMany,
            WireError::Json(_) => ErrorCode::BadJson,
            WireError::BadImageData(_) => ErrorCode::BadImageData,
        }
    }

    /// A stable snake_case code for the `error` control message ([`Self::error_code`] as
    /// text).
    pub fn code(&self) -> &'static str {
        self.error_code().as_str()
    }
}
