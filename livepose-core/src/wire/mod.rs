//! Wire protocol v1 (the full specification is `docs/protocol.md`).
//!
//! - Binary messages, little-endian, one WebSocket binary message each: a
//!   [frame] from client to server (header + image bytes) and a [result] from
//!   server to client (timings + poses). Both start with the same 8-byte preamble:
//!   magic `LPOS`, version, message type, header length.
//! - [Control messages](control) are JSON text frames with a `type`.
//! - [Compatibility](compat): the JSON+base64 frames and JSON results of the Python backends
//!   livepose replaces.
//!
//! Decoders borrow: [`FrameView`] and [`ResultView`] validate a message once and then read
//! fields straight from the received bytes, with no copy. They reject truncated, oversized,
//! wrong-magic, wrong-version and inconsistent messages with a [`WireError`], and never panic
//! (property-tested and fuzzed).
//!
//! ```
//! use livepose_core::image::Codec;
//! use livepose_core::wire::{FrameHeader, FrameView, ImageFormat};
//!
//! let header = FrameHeader::new(7, 1_700_000_000_000, ImageFormat::Encoded(Codec::Jpeg));
//! let mut message = Vec::new();
//! header.encode_with_payload(b"\xff\xd8\xff...jpeg bytes", &mut message).unwrap();
//!
//! let frame = FrameView::parse(&message).unwrap();
//! assert_eq!(frame.header.sequence, 7);
//! assert_eq!(frame.payload, b"\xff\xd8\xff...jpeg bytes");
//! ```

mod bytes;
pub mod compat;
pub mod control;
mod error;
pub mod frame;
pub mod result;

pub use crate::error_code::{ErrorCode, UnknownCode};
pub use error::WireError;
pub use frame::{FrameBuffer, FrameFlags, FrameHeader, FrameView, ImageFormat};
pub use result::{ResultFlags, ResultMessage, ResultView};

use bytes::Fields;

/// The four bytes every binary message starts with.
pub const MAGIC: [u8; 4] = *b"LPOS";
/// The protocol version this crate speaks.
pub const VERSION: u8 = 1;
/// Length of the common preamble: magic, version, type, header length.
pub const PREAMBLE_LEN: usize = 8;

/// Binary message types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// Client to server: one image.
    Frame,
    /// Server to client: the poses found in one frame.
    Result,
}

impl MessageType {
    /// The wire code.
    pub const fn code(self) -> u8 {
        match self {
            MessageType::Frame => 1,
            MessageType::Result => 2,
        }
    }

    /// The type for a wire code, if known.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(MessageType::Frame),
            2 => Some(MessageType::Result),
            _ => None,
        }
    }
}

/// Limits a decoder enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted message in bytes (default 16 MiB).
    pub max_message_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 << 20,
        }
    }
}

/// Reads the type of a binary message after checking its magic and version, so a server can
/// dispatch without parsing the rest.
///
/// ```
/// use livepose_core::wire::{peek_type, MessageType, WireError};
/// assert_eq!(peek_type(b"LPOS\x01\x02\x40\x00"), Ok(MessageType::Result));
/// assert!(matches!(peek_type(b"GET / HTTP"), Err(WireError::BadMagic { .. })));
/// ```
pub fn peek_type(bytes: &[u8]) -> Result<MessageType, WireError> {
    let f = Fields::new(bytes);
    check_magic_and_version(&f)?;
    let code = f.u8(5, "message type")?;
    MessageType::from_code(code)
        .ok_or_else(|| WireError::Inconsistent(format!("unknown message type {code}")))
}

fn check_magic_and_version(f: &Fields<'_>) -> Result<(), WireError> {
    let magic = f.slice(0, 4, "magic")?;
    if magic != MAGIC {
        let mut found = [0u8; 4];
        found.copy_from_slice(magic);
        return Err(WireError::BadMagic { found });
    }
    let version = f.u8(4, "version")?;
    if version != VERSION {
        return Err(WireError::UnsupportedVersion {
            found: version,
            supported: VERSION,
        });
    }
    Ok(())
}

/// Checks the preamble of a message of type `expected` and returns its header length.
///
/// Order of checks: size limit, magic, version, type, then the header length (at least
/// `min_header_len`, a multiple of 4, inside the message).
fn parse_preamble(
    bytes: &[u8],
    expected: MessageType,
    min_header_len: usize,
    limits: &Limits,
) -> Result<usize, WireError> {
    if bytes.len() > limits.max_message_bytes {
        return Err(WireError::Oversized {
            len: bytes.len(),
            max: limits.max_message_bytes,
        });
    }
    let f = Fields::new(bytes);
    f.slice(0, PREAMBLE_LEN, "preamble")?;
    check_magic_and_version(&f)?;
    let found = f.u8(5, "message type")?;
    if found != expected.code() {
        return Err(WireError::UnexpectedType {
            found,
            expected: expected.code(),
        });
    }
    let header_len = usize::from(f.u16(6, "header length")?);
    if header_len < min_header_len || !header_len.is_multiple_of(4) {
        return Err(WireError::Inconsistent(format!(
            "header length {header_len} (version 1 needs a multiple of 4, at least {min_header_len})"
        )));
    }
    f.slice(0, header_len, "header")?;
    Ok(header_len)
}

/// Writes the common preamble.
fn put_preamble(out: &mut Vec<u8>, kind: MessageType, header_len: u16) {
    use bytes::PutLe;
    out.extend_from_slice(&MAGIC);
    out.put_u8(VERSION);
    out.put_u8(kind.code());
    out.put_u16(header_len);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_rejects_wrong_version_and_unknown_type() {
        assert_eq!(
            peek_type(b"LPOS\x02\x01"),
            Err(WireError::UnsupportedVersion {
                found: 2,
                supported: 1
            })
        );
        assert!(matches!(
            peek_type(b"LPOS\x01\x09"),
            Err(WireError::Inconsistent(_))
        ));
        assert!(matches!(peek_type(b"LP"), Err(WireError::Truncated { .. })));
    }
}
