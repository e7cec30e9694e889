//! Control messages: JSON text frames, each an object with a `type`.
//!
//! Client to server: [`ClientMessage::Hello`] (first message, optional) and
//! [`ClientMessage::Config`] (change options mid-stream). Server to client:
//! [`ServerMessage::Welcome`], [`ServerMessage::Stats`], [`ServerMessage::Error`] and
//! [`ServerMessage::Rate`] (the rate the server is actually processing, so the client can
//! send no faster), and [`ServerMessage::KeyframeRequest`] (an H.264 stream should send a
//! keyframe next). Unknown fields are ignored, so either side may add fields; an unknown
//! `type` is an error naming it.
//!
//! ```
//! use livepose_core::wire::control::{ClientMessage, ResultFormat};
//!
//! let hello = ClientMessage::from_json(r#"{"type":"hello","protocol":1,"results":"json","hands":true}"#).unwrap();
//! let ClientMessage::Hello(hello) = hello else { unreachable!() };
//! assert_eq!(hello.options.results, Some(ResultFormat::Json));
//! assert_eq!(hello.options.hands, Some(true));
//! ```

use serde::{Deserialize, Serialize};

use super::{ErrorCode, WireError};
use crate::stats::LatencySummary;
use crate::types::StageTimings;

/// The option names the protocol carries (defined with the pipeline's options).
pub use crate::options::{ModelKind, RunMode, SmoothingKind, UnknownOption};

/// How results are sent to a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResultFormat {
    /// Binary result messages (protocol v1), the default.
    #[default]
    Binary,
    /// JSON in the shape of the Python backends livepose replaces.
    Json,
}

/// Stream options a client may set in `hello` or `config`. Absent fields keep their value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Result encoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<ResultFormat>,
    /// Landmark model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelKind>,
    /// Run hand landmarks too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hands: Option<bool>,
    /// Smoothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoothing: Option<SmoothingKind>,
    /// Tracking mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<RunMode>,
    /// Most results per second the client wants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_result_fps: Option<f32>,
}

/// The client's first message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    /// Protocol version the client speaks.
    pub protocol: u8,
    /// Free-form client name and version, for logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// Options.
    #[serde(flatten)]
    pub options: StreamOptions,
}

/// A control message from the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Opening handshake.
    Hello(Hello),
    /// Changes options mid-stream.
    Config(StreamOptions),
    /// A room viewer's own figures, reported to the server for the room's statistics.
    ViewerStats(ViewerStats),
}

/// What a room viewer measures on its side (`viewer_stats`): the rate it shows results at
/// and how old they are when shown.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ViewerStats {
    /// Results (or annotated frames) shown per second.
    pub fps: f64,
    /// Capture to display, in milliseconds, when the viewer can tell (one that shows
    /// annotated frames, or whose clock is not the camera's, may leave it out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// Limits the server enforces, announced in `welcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnouncedLimits {
    /// Largest message accepted.
    pub max_message_bytes: u64,
    /// Largest image accepted, in pixels.
    pub max_pixels: u64,
    /// Most frames per second accepted from this connection.
    pub max_fps: u32,
}

/// The server's answer to `hello`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Welcome {
    /// Protocol version the server speaks.
    pub protocol: u8,
    /// Server name and version.
    pub server: String,
    /// Id of this stream (as listed by `GET /streams`).
    pub stream_id: String,
    /// The options in force.
    pub options: StreamOptions,
    /// Limits.
    pub limits: AnnouncedLimits,
    /// The frame formats (§3) the server takes (`jpeg`, `png`, `webp`, `h264`, `rgb8`,
    /// `rgba8`); empty or absent from an older server: all but `h264`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub formats: Vec<String>,
}

/// Periodic statistics for an on-screen overlay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Frames per second received.
    pub fps_in: f64,
    /// Results per second sent.
    pub fps_out: f64,
    /// Frames dropped so far (latest-wins).
    pub dropped: u64,
    /// Frames refused so far by the per-connection rate cap (`limits.max_fps` of
    /// `welcome`); they get no result.
    #[serde(default)]
    pub frames_rate_limited: u64,
    /// Results sent so far.
    pub results: u64,
    /// Server-side latency per result.
    pub latency_us: LatencySummary,
    /// Stage timings of a recent frame, µs.
    pub timings_us: StageTimings,
}

/// An error report. The connection stays open unless `fatal`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// Stable machine-readable code (`truncated`, `bad_magic`, `image_too_large`, …).
    pub code: String,
    /// Human-readable explanation naming the problem.
    pub message: String,
    /// Sequence number of the offending frame, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Whether the server closes the connection after this.
    #[serde(default)]
    pub fatal: bool,
}

impl ErrorReport {
    /// A non-fatal report with `code` and `message`, about no frame in particular; see
    /// [`about`](Self::about) and [`fatal`](Self::fatal).
    ///
    /// ```
    /// use livepose_core::wire::control::{ErrorReport, ServerMessage};
    /// use livepose_core::wire::ErrorCode;
    ///
    /// let report = ErrorReport::new(ErrorCode::Oversized, "70000 bytes, 65536 allowed").fatal();
    /// assert_eq!(
    ///     ServerMessage::Error(report).to_json(),
    ///     r#"{"type":"error","code":"oversized","message":"70000 bytes, 65536 allowed","fatal":true}"#
    /// );
    /// ```
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorReport {
            code: code.as_str().to_owned(),
            message: message.into(),
            sequence: None,
            fatal: false,
        }
    }

    /// About frame `sequence`.
    pub fn about(mut self, sequence: u64) -> Self {
        self.sequence = Some(sequence);
        self
    }

    /// Fatal: the server closes the connection after it.
    pub fn fatal(mut self) -> Self {
        self.fatal = true;
        self
    }

    /// The code, if it is one of [`ErrorCode::ALL`] (a newer server may send others).
    pub fn error_code(&self) -> Option<ErrorCode> {
        self.code.parse().ok()
    }

    /// A non-fatal report of a wire error.
    pub fn from_wire(error: &WireError, sequence: Option<u64>) -> Self {
        ErrorReport {
            code: error.code().to_owned(),
            message: error.to_string(),
            sequence,
            fatal: false,
        }
    }
}

/// A rate hint: send no faster than this.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateHint {
    /// Frames per second the server is processing for this stream.
    pub processing_fps: f64,
    /// Frames per second the client should send at most.
    pub max_send_fps: f64,
}

/// A room's server-side camera source stopped giving frames (ffmpeg exited, the stream
/// ended, or no frame came for a while); the server retries after `retry_in_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLost {
    /// The room.
    pub room: String,
    /// The source's URL, any password replaced by `***`.
    pub url: String,
    /// Why, in words (`ffmpeg exited with exit status: 1`, `no frame for 10 s`, …).
    pub reason: String,
    /// Milliseconds until the next attempt to reconnect.
    pub retry_in_ms: u64,
}

/// A room's server-side camera source gives frames again after a `source_lost`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceBack {
    /// The room.
    pub room: String,
    /// The source's URL, any password replaced by `***`.
    pub url: String,
}

/// Why a room's viewers lost its camera on another node (cluster mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CameraLostReason {
    /// The camera's node stopped saying it is alive (it died or is unreachable).
    NodeLost,
    /// This node lost its connection to NATS.
    NatsDown,
    /// The camera left the room.
    CameraLeft,
}

/// To a room's viewers on one node: its camera, on another node, is no longer heard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraLost {
    /// The room.
    pub room: String,
    /// The node the camera was on.
    pub node: String,
    /// Why.
    pub reason: CameraLostReason,
}

/// To a room's viewers: the camera's node is heard again after a `camera_lost`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CameraBack {
    /// The room.
    pub room: String,
    /// The node the camera is on.
    pub node: String,
}

/// Why the server asks an H.264 stream for a keyframe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyframeReason {
    /// The stream's first H.264 frame was not a keyframe: nothing decodes before one.
    Start,
    /// A frame did not decode (its `error` came just before); decoding resumes at the next
    /// keyframe.
    DecodeError,
    /// The server's decoding of this stream fell behind: it dropped the frames waiting and
    /// resumes at the next keyframe.
    Behind,
    /// A room viewer that shows the camera's frames joined and needs a keyframe to start
    /// decoding them.
    Join,
}

/// To an H.264 stream: send a keyframe (an IDR access unit with its SPS and PPS) next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyframeRequest {
    /// Why.
    pub reason: KeyframeReason,
    /// The frame that showed the need (the refused or undecodable one), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
}

/// A control message from the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Answer to `hello`.
    Welcome(Welcome),
    /// Statistics.
    Stats(Stats),
    /// An error report.
    Error(ErrorReport),
    /// A rate hint.
    Rate(RateHint),
    /// To a room's viewers: its server-side source dropped.
    SourceLost(SourceLost),
    /// To a room's viewers: its server-side source is back.
    SourceBack(SourceBack),
    /// To a room's viewers (cluster mode): its camera on another node is no longer heard.
    CameraLost(CameraLost),
    /// To a room's viewers (cluster mode): its camera's node is heard again.
    CameraBack(CameraBack),
    /// To an H.264 stream: send a keyframe next.
    KeyframeRequest(KeyframeRequest),
}

fn from_json<'de, T: Deserialize<'de>>(text: &'de str, max_len: usize) -> Result<T, WireError> {
    if text.len() > max_len {
        return Err(WireError::Oversized {
            len: text.len(),
            max: max_len,
        });
    }
    serde_json::from_str(text).map_err(|e| WireError::Json(e.to_string()))
}

fn to_json<T: Serialize>(value: &T) -> String {
    // These types serialise to JSON infallibly (no maps with non-string keys, no custom
    // serialisers); non-finite floats become `null`.
    serde_json::to_string(value).unwrap_or_else(|e| {
        format!("{{\"type\":\"error\",\"code\":\"internal\",\"message\":\"{e}\"}}")
    })
}

/// Longest control message accepted (64 KiB).
pub const MAX_CONTROL_LEN: usize = 64 << 10;

impl ClientMessage {
    /// Parses a client control message. A `hello` of a protocol version other than
    /// [`VERSION`](super::VERSION) is [`WireError::UnsupportedVersion`]
    /// (`unsupported_version`): the server does not speak it, and does not pretend to.
    pub fn from_json(text: &str) -> Result<Self, WireError> {
        let message = from_json(text, MAX_CONTROL_LEN)?;
        match message {
            ClientMessage::Hello(Hello { protocol, .. }) if protocol != super::VERSION => {
                Err(WireError::UnsupportedVersion {
                    found: protocol,
                    supported: super::VERSION,
                })
            }
            message => Ok(message),
        }
    }

    /// Serialises to JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

impl ServerMessage {
    /// Parses a server control message.
    pub fn from_json(text: &str) -> Result<Self, WireError> {
        from_json(text, MAX_CONTROL_LEN)
    }

    /// Serialises to JSON.
    pub fn to_json(&self) -> String {
        to_json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_round_trip() {
        let msgs = [
            ClientMessage::ViewerStats(ViewerStats {
                fps: 24.5,
                latency_ms: Some(81.0),
            }),
            ClientMessage::ViewerStats(ViewerStats {
                fps: 12.0,
                latency_ms: None,
            }),
            ClientMessage::Hello(Hello {
                protocol: 1,
                client: Some("test/1".into()),
                options: StreamOptions {
                    results: Some(ResultFormat::Binary),
                    model: Some(ModelKind::Full),
                    hands: Some(false),
                    smoothing: Some(SmoothingKind::OneEuro),
                    mode: Some(RunMode::Live),
                    max_result_fps: Some(30.0),
                },
            }),
            ClientMessage::Config(StreamOptions {
                smoothing: Some(SmoothingKind::Ema),
                ..Default::default()
            }),
        ];
        for msg in msgs {
            let json = msg.to_json();
            assert_eq!(ClientMessage::from_json(&json).unwrap(), msg, "{json}");
        }
    }

    #[test]
    fn server_messages_round_trip() {
        let msgs = [
            ServerMessage::Error(ErrorReport::from_wire(
                &WireError::BadMagic { found: *b"GET " },
                Some(3),
            )),
            ServerMessage::Rate(RateHint {
                processing_fps: 24.5,
                max_send_fps: 25.0,
            }),
            ServerMessage::Stats(Stats {
                fps_in: 30.0,
                fps_out: 29.0,
                dropped: 3,
                frames_rate_limited: 2,
                results: 100,
                latency_us: LatencySummary::default(),
                timings_us: StageTimings::from_slice(&[1, 2, 3, 4, 5, 6, 7]),
            }),
            ServerMessage::Welcome(Welcome {
                protocol: 1,
                server: "livepose/0.1.0".into(),
                stream_id: "s1".into(),
                options: StreamOptions::default(),
                limits: AnnouncedLimits {
                    max_message_bytes: 1 << 20,
                    max_pixels: 1 << 24,
                    max_fps: 60,
                },
                formats: vec!["jpeg".into(), "h264".into()],
            }),
            ServerMessage::SourceLost(SourceLost {
                room: "door".into(),
                url: "rtsp://admin:***@cam/live".into(),
                reason: "no frame for 10 s".into(),
                retry_in_ms: 2000,
            }),
            ServerMessage::SourceBack(SourceBack {
                room: "door".into(),
                url: "http://cam:81/stream".into(),
            }),
            ServerMessage::CameraLost(CameraLost {
                room: "hall".into(),
                node: "a".into(),
                reason: CameraLostReason::NatsDown,
            }),
            ServerMessage::CameraBack(CameraBack {
                room: "hall".into(),
                node: "a".into(),
            }),
            ServerMessage::KeyframeRequest(KeyframeRequest {
                reason: KeyframeReason::Behind,
                sequence: None,
            }),
        ];
        for msg in msgs {
            let json = msg.to_json();
            assert_eq!(ServerMessage::from_json(&json).unwrap(), msg, "{json}");
        }
    }

    #[test]
    fn camera_messages_have_their_documented_shape() {
        let lost = ServerMessage::CameraLost(CameraLost {
            room: "r".into(),
            node: "a".into(),
            reason: CameraLostReason::NodeLost,
        });
        assert_eq!(
            lost.to_json(),
            r#"{"type":"camera_lost","room":"r","node":"a","reason":"node_lost"}"#
        );
        let back = ServerMessage::CameraBack(CameraBack {
            room: "r".into(),
            node: "a".into(),
        });
        assert_eq!(
            back.to_json(),
            r#"{"type":"camera_back","room":"r","node":"a"}"#
        );
    }

    #[test]
    fn keyframe_requests_have_their_documented_shape() {
        for (reason, name) in [
            (KeyframeReason::Start, "start"),
            (KeyframeReason::DecodeError, "decode_error"),
            (KeyframeReason::Behind, "behind"),
            (KeyframeReason::Join, "join"),
        ] {
            let msg = ServerMessage::KeyframeRequest(KeyframeRequest {
                reason,
                sequence: Some(17),
            });
            let json = format!(r#"{{"type":"keyframe_request","reason":"{name}","sequence":17}}"#);
            assert_eq!(msg.to_json(), json);
            assert_eq!(ServerMessage::from_json(&json).unwrap(), msg);
        }
        let unknown = ServerMessage::from_json(r#"{"type":"keyframe_request","reason":"whim"}"#);
        assert!(matches!(unknown, Err(WireError::Json(_))));
    }

    #[test]
    fn source_messages_have_their_documented_shape() {
        let lost = ServerMessage::from_json(
            r#"{"type":"source_lost","room":"r","url":"u","reason":"eof","retry_in_ms":500}"#,
        )
        .unwrap();
        assert!(matches!(&lost, ServerMessage::SourceLost(l) if l.retry_in_ms == 500));
        let back = ServerMessage::SourceBack(SourceBack {
            room: "r".into(),
            url: "u".into(),
        });
        assert_eq!(
            back.to_json(),
            r#"{"type":"source_back","room":"r","url":"u"}"#
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let unknown = ClientMessage::from_json(r#"{"type":"launch"}"#).unwrap_err();
        assert!(unknown.to_string().contains("launch"), "{unknown}");
        let no_type = ClientMessage::from_json(r#"{"protocol":1}"#).unwrap_err();
        assert!(no_type.to_string().contains("type"), "{no_type}");
        assert!(matches!(
            ClientMessage::from_json("{"),
            Err(WireError::Json(_))
        ));
        let huge = format!(
            r#"{{"type":"config","x":"{}"}}"#,
            "a".repeat(MAX_CONTROL_LEN)
        );
        assert!(matches!(
            ClientMessage::from_json(&huge),
            Err(WireError::Oversized { .. })
        ));
    }

    #[test]
    fn a_hello_of_another_version_is_unsupported_version() {
        for protocol in [0, 2, 255] {
            let text = format!(r#"{{"type":"hello","protocol":{protocol},"results":"json"}}"#);
            let error = ClientMessage::from_json(&text).unwrap_err();
            assert_eq!(
                error,
                WireError::UnsupportedVersion {
                    found: protocol,
                    supported: 1
                }
            );
            assert_eq!(error.code(), "unsupported_version");
        }
        let v1 = ClientMessage::from_json(r#"{"type":"hello","protocol":1}"#).unwrap();
        assert!(matches!(
            v1,
            ClientMessage::Hello(Hello { protocol: 1, .. })
        ));
    }

    #[test]
    fn error_reports_are_built_from_codes() {
        let report = ErrorReport::new(ErrorCode::ImageTooLarge, "too big").about(4);
        assert_eq!(
            ServerMessage::Error(report.clone()).to_json(),
            r#"{"type":"error","code":"image_too_large","message":"too big","sequence":4,"fatal":false}"#
        );
        assert_eq!(report.error_code(), Some(ErrorCode::ImageTooLarge));
        let newer = ErrorReport {
            code: "from_the_future".into(),
            ..report
        };
        assert_eq!(newer.error_code(), None);
        let wire = ErrorReport::from_wire(&WireError::Json("x".into()), None);
        assert_eq!(wire.error_code(), Some(ErrorCode::BadJson));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let msg = ClientMessage::from_json(r#"{"type":"config","hands":true,"future_option":7}"#)
            .unwrap();
        assert_eq!(
            msg,
            ClientMessage::Config(StreamOptions {
                hands: Some(true),
                ..Default::default()
            })
        );
    }
}
