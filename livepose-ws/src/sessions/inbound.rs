//! What a stream's client sends: protocol v1 frames (binary), control messages (`hello`,
//! `config`) and JSON+base64 frames (text); over Socket.IO also images as they are (binary
//! attachments) and JSON frames already parsed. Each is checked against the frame-rate cap
//! and the image limits before it reaches the stream's latest-wins slot.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use livepose_core::image::{Codec, PixelLayout};
use livepose_core::wire::compat;
use livepose_core::wire::control::{ClientMessage, ResultFormat, StreamOptions};
use livepose_core::wire::{FrameView, ImageFormat, Limits};

use super::options::apply_options;
use super::rate::Verdict;
use super::session::Session;
use super::video::{Unit, VideoInbound};
use crate::rooms::Frames;
use crate::state::AppState;
use crate::streams::InFrame;

/// A binary message: a protocol v1 frame. An encoded payload goes to inference as a view
/// of the message, not a copy (an H.264 access unit to the stream's decoder first); a
/// room's viewers share the message itself.
pub(crate) fn on_binary(state: &Arc<AppState>, session: &mut Session, bytes: Bytes) {
    let limits = Limits {
        max_message_bytes: state.config.max_message_bytes,
    };
    let view = match FrameView::parse_with(&bytes, &limits) {
        Ok(view) => view,
        Err(e) => return state.send_error(&session.stream, e.code(), &e.to_string(), 0),
    };
    let sequence = view.header.sequence;
    let admitted = admit(state, session, sequence);
    let h264 = view.header.format == ImageFormat::Encoded(Codec::H264);
    // An H.264 unit over the frame-rate cap is decoded all the same (later ones need it).
    if !admitted && !h264 {
        return;
    }
    if let Some(room) = &session.room {
        room.audience.publish_frames(Frames::Camera, &bytes);
    }
    if h264 {
        let unit = Unit {
            bytes: bytes.slice_ref(view.payload),
            sequence,
            capture_ts_us: view.header.capture_ts_us,
            received_us: state.clock.now_wall_us(),
            received: std::time::Instant::now(),
            infer: admitted,
        };
        return on_h264(state, session, unit);
    }
    let (image, raw) = match view.header.format {
        ImageFormat::Encoded(_) => (bytes.slice_ref(view.payload), None),
        ImageFormat::Raw {
            layout,
            width,
            height,
        } => {
            let pixels = u64::from(width) * u64::from(height);
            if pixels > state.config.max_pixels {
                let message = format!(
                    "{width}x{height} is {pixels} pixels, more than the {} allowed",
                    state.config.max_pixels
                );
                return state.send_error(&session.stream, "image_too_large", &message, sequence);
            }
            // RGBA arrives from canvases; the pipeline takes RGB.
            let image = match layout {
                PixelLayout::Rgb8 => bytes.slice_ref(view.payload),
                PixelLayout::Rgba8 => view
                    .payload
                    .chunks_exact(4)
                    .flat_map(|p| [p[0], p[1], p[2]])
                    .collect::<Vec<u8>>()
                    .into(),
            };
            (image, Some((width, height)))
        }
    };
    let frame = InFrame {
        image,
        raw,
        sequence,
        capture_ts_us: view.header.capture_ts_us,
        received_us: state.clock.now_wall_us(),
    };
    state.pool.submit(&session.stream, frame);
}

/// An H.264 access unit to the stream's decoder (started at the stream's first one).
fn on_h264(state: &Arc<AppState>, session: &mut Session, unit: Unit) {
    if session.video.is_none() {
        match VideoInbound::start(state, &session.stream) {
            Ok(video) => {
                session.video = Some(video);
                session.stream.receives_video.store(true, Ordering::Release);
            }
            Err(e) => {
                let message = format!("cannot start this stream's H.264 decoder: {e}");
                return state.send_error(&session.stream, "bad_video", &message, unit.sequence);
            }
        }
    }
    if let Some(video) = &session.video {
        video.push(&session.stream, unit);
    }
}

/// A text message: a control message, or a JSON+base64 frame of existing clients.
pub(crate) fn on_text(state: &AppState, session: &mut Session, text: &str) {
    let control = ClientMessage::from_json(text);
    if let Ok(message) = control {
        let options = match message {
            ClientMessage::Hello(hello) => {
                session.said_hello = true;
                hello.options
            }
            ClientMessage::Config(options) => options,
            ClientMessage::ViewerStats(_) => {
                let message = "viewer_stats is for room viewers (`/ws/rooms/{room}/view`)";
                return state.send_error(&session.stream, "unknown_type", message, 0);
            }
        };
        apply_options(state, session, options);
        return;
    }
    if let Some(kind) = unknown_control_type(text) {
        if let (Err(e), "hello" | "config") = (control, kind.as_str()) {
            // A known control message with a bad field: say which.
            return state.send_error(&session.stream, e.code(), &e.to_string(), 0);
        }
        let message =
            format!("unknown message type {kind:?} (expected \"hello\" or \"config\", or a frame)");
        return state.send_error(&session.stream, "unknown_type", &message, 0);
    }
    // Not a control message: a frame in the JSON+base64 format of existing clients, who get
    // JSON results unless they said otherwise in a hello. Counted against the frame rate
    // like binary frames, whatever other fields it has.
    if !admit(state, session, 0) {
        return;
    }
    match compat::decode_frame(text, &mut session.image) {
        Ok(meta) => submit_compat(state, session, meta.sequence, meta.timestamp),
        Err(e) => state.send_error(&session.stream, e.code(), &e.to_string(), 0),
    }
}

/// The image of a JSON+base64 frame that arrived parsed (a Socket.IO `frame` event):
/// a `data:` URL or bare base64, with the frame's `sequence` and `timestamp` (ms).
pub(crate) fn on_base64_image(
    state: &AppState,
    session: &mut Session,
    image: &str,
    sequence: Option<u64>,
    timestamp: Option<f64>,
) {
    if !admit(state, session, sequence.unwrap_or(0)) {
        return;
    }
    match compat::decode_image(image, &mut session.image) {
        Ok(_) => submit_compat(state, session, sequence, timestamp),
        Err(e) => state.send_error(&session.stream, e.code(), &e.to_string(), 0),
    }
}

/// An encoded image (JPEG, PNG or WebP bytes) that arrived as it is (a Socket.IO binary
/// attachment), with the frame's `sequence` and `timestamp` (ms): no copy.
pub(crate) fn on_encoded_image(
    state: &AppState,
    session: &mut Session,
    image: Bytes,
    sequence: Option<u64>,
    timestamp: Option<f64>,
) {
    if admit(state, session, sequence.unwrap_or(0)) {
        submit_encoded(state, session, image, sequence, timestamp);
    }
}

/// Submits the JSON+base64 frame decoded into `session.image`. Its client gets JSON results
/// unless it said otherwise.
fn submit_compat(
    state: &AppState,
    session: &mut Session,
    sequence: Option<u64>,
    timestamp: Option<f64>,
) {
    if !session.said_hello && session.options.results.is_none() {
        let json = StreamOptions {
            results: Some(ResultFormat::Json),
            ..StreamOptions::default()
        };
        apply_options(state, session, json);
        session.said_hello = true;
    }
    let image = std::mem::take(&mut session.image).into();
    submit_encoded(state, session, image, sequence, timestamp);
}

/// Hands an admitted encoded image to the stream's latest-wins slot.
fn submit_encoded(
    state: &AppState,
    session: &Session,
    image: Bytes,
    sequence: Option<u64>,
    timestamp: Option<f64>,
) {
    let frame = InFrame {
        image,
        raw: None,
        sequence: sequence.unwrap_or(0),
        capture_ts_us: timestamp.map_or(0, |t| (t * 1000.0) as i64),
        received_us: state.clock.now_wall_us(),
    };
    state.pool.submit(&session.stream, frame);
}

/// Counts frame `sequence` (0 when not known yet) against the per-connection rate cap;
/// false if it is over. The first frame refused in a second gets a `rate_limited` error
/// carrying its sequence (every later frame of that second is refused too), and `stats`
/// counts every refused frame in `frames_rate_limited`.
fn admit(state: &AppState, session: &mut Session, sequence: u64) -> bool {
    let first = match session.cap.check(std::time::Instant::now()) {
        Verdict::Admitted => return true,
        Verdict::Refused { first } => first,
    };
    state.metrics.rate_limited_total.inc();
    session
        .stream
        .rate_limited
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if first {
        let message = format!(
            "more than {} frames per second: this frame and the next are refused until the \
             next second (refused frames get no result; `stats` counts them in \
             frames_rate_limited)",
            state.config.max_fps
        );
        state.send_error(&session.stream, "rate_limited", &message, sequence);
    }
    false
}

/// The `type` of a JSON object that is not a control message but says it is one: a string
/// `type` and no `image` (a JSON+base64 frame has an `image`, and any `type` beside it is
/// the client's own).
fn unknown_control_type(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Tagged {
        #[serde(rename = "type", default)]
        kind: Option<serde_json::Value>,
        #[serde(default)]
        image: Option<serde::de::IgnoredAny>,
    }
    let tagged = serde_json::from_str::<Tagged>(text).ok()?;
    match (tagged.kind?, tagged.image) {
        (serde_json::Value::String(kind), None) => Some(kind),
        _ => None,
    }
}
