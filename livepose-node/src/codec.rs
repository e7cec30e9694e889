//! `encodeFrame`, `decodeFrame`, `decodeResult`: protocol v1 messages (docs/protocol.md),
//! the same codec the server speaks; tested against the golden vectors.

use livepose_core::wire::{FrameFlags, FrameHeader, FrameView, ImageFormat, ResultView};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{self, Code, Outcome};
use crate::result::{Pose, Timings};

/// Header fields of a frame message; every field is optional.
#[napi(object)]
pub struct FrameOptions {
    /// Chosen by the client, echoed in the result (default 0).
    pub sequence: Option<Either<i64, BigInt>>,
    /// The client's capture time in µs, echoed (default 0).
    pub capture_ts_us: Option<Either<i64, BigInt>>,
    /// `"jpeg"` (default), `"png"`, `"webp"`, `"rgb8"` or `"rgba8"`.
    pub format: Option<String>,
    /// Pixels per row (raw formats only).
    pub width: Option<u32>,
    /// Rows (raw formats only).
    pub height: Option<u32>,
    /// Frame flags (bit 0: reset tracking).
    pub flags: Option<u32>,
}

fn unsigned(value: Option<Either<i64, BigInt>>, what: &str) -> Outcome<u64> {
    match value {
        None => Ok(0),
        Some(Either::A(n)) => u64::try_from(n)
            .map_err(|_| errors::error(Code::Config, format!("{what} must not be negative"))),
        Some(Either::B(big)) => match big.get_u64() {
            (false, v, true) => Ok(v),
            _ => Err(errors::error(
                Code::Config,
                format!("{what} does not fit in 64 unsigned bits"),
            )),
        },
    }
}

fn signed(value: Option<Either<i64, BigInt>>, what: &str) -> Outcome<i64> {
    match value {
        None => Ok(0),
        Some(Either::A(n)) => Ok(n),
        Some(Either::B(big)) => match big.get_i64() {
            (v, true) => Ok(v),
            _ => Err(errors::error(
                Code::Config,
                format!("{what} does not fit in 64 signed bits"),
            )),
        },
    }
}

/// Encodes a frame message: the 40-byte header and `payload`.
#[napi]
pub fn encode_frame(env: Env, payload: Buffer, options: Option<FrameOptions>) -> Result<Buffer> {
    encode(&payload, options).map_err(|f| f.throw(&env))
}

fn encode(payload: &[u8], options: Option<FrameOptions>) -> Outcome<Buffer> {
    let o = options.unwrap_or(FrameOptions {
        sequence: None,
        capture_ts_us: None,
        format: None,
        width: None,
        height: None,
        flags: None,
    });
    let (width, height) = (o.width.unwrap_or(0), o.height.unwrap_or(0));
    let format = ImageFormat::from_name(o.format.as_deref().unwrap_or("jpeg"), width, height)
        .map_err(|e| errors::error(Code::Config, e))?;
    let flags = u16::try_from(o.flags.unwrap_or(0))
        .map_err(|_| errors::error(Code::Config, "flags must fit in 16 bits"))?;
    let mut header = FrameHeader::new(
        unsigned(o.sequence, "sequence")?,
        signed(o.capture_ts_us, "captureTsUs")?,
        format,
    );
    header.flags = FrameFlags::from_bits_retain(flags);
    let mut out = Vec::with_capacity(payload.len() + 40);
    header
        .encode_with_payload(payload, &mut out)
        .map_err(errors::wire)?;
    Ok(out.into())
}

/// A decoded frame message.
#[napi(object)]
pub struct DecodedFrame {
    pub sequence: BigInt,
    pub capture_ts_us: BigInt,
    /// `"jpeg"`, `"png"`, `"webp"`, `"rgb8"` or `"rgba8"`.
    pub format: String,
    /// Raw formats: pixels per row; encoded formats: 0.
    pub width: u32,
    /// Raw formats: rows; encoded formats: 0.
    pub height: u32,
    pub flags: u32,
    pub payload: Buffer,
}

/// Decodes a frame message (throws `ERR_LIVEPOSE_PROTOCOL` with `protocolCode`).
#[napi]
pub fn decode_frame(env: Env, message: Buffer) -> Result<DecodedFrame> {
    let view = FrameView::parse(&message).map_err(|e| errors::wire(e).throw(&env))?;
    let (width, height) = match view.header.format {
        ImageFormat::Raw { width, height, .. } => (width, height),
        ImageFormat::Encoded(_) => (0, 0),
    };
    Ok(DecodedFrame {
        sequence: BigInt::from(view.header.sequence),
        capture_ts_us: BigInt::from(view.header.capture_ts_us),
        format: view.header.format.name().to_string(),
        width,
        height,
        flags: u32::from(view.header.flags.bits()),
        payload: view.payload.to_vec().into(),
    })
}

/// A decoded result message. 64-bit fields are `bigint`s.
#[napi(object)]
pub struct WireResult {
    pub sequence: BigInt,
    pub capture_ts_us: BigInt,
    pub server_recv_us: BigInt,
    pub server_start_us: BigInt,
    pub server_end_us: BigInt,
    pub frames_dropped: BigInt,
    pub flags: u32,
    pub timings: Timings,
    pub poses: Vec<Pose>,
}

/// Decodes a result message (throws `ERR_LIVEPOSE_PROTOCOL` with `protocolCode`).
#[napi]
pub fn decode_result(env: Env, message: Buffer) -> Result<WireResult> {
    let m = ResultView::parse(&message)
        .map_err(|e| errors::wire(e).throw(&env))?
        .to_message();
    Ok(WireResult {
        sequence: BigInt::from(m.sequence),
        capture_ts_us: BigInt::from(m.capture_ts_us),
        server_recv_us: BigInt::from(m.server_recv_us),
        server_start_us: BigInt::from(m.server_start_us),
        server_end_us: BigInt::from(m.server_end_us),
        frames_dropped: BigInt::from(m.frames_dropped),
        flags: u32::from(m.flags.bits()),
        timings: m.timings.into(),
        poses: m.poses.iter().map(Pose::from).collect(),
    })
}
