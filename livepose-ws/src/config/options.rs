//! [`ServeOptions`]: what a front end may set on the server (the `livepose serve` flags,
//! Python's `serve(...)`, Node's `serve({...})`), as one serde-deserialisable struct with
//! each default written once, and its checks. The `ServerConfig` is built from it
//! (`ServeOptions::config`, in `config::server`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use livepose_core::options::{ModelKind, Options, OptionsError};
use serde::{Deserialize, Deserializer, Serialize};

/// The server's options. Defaults: `127.0.0.1:8765`, the lite model, no hands, one worker
/// per core, models from `LIVEPOSE_MODELS` (else `~/.cache/livepose/models`), no tokens,
/// rooms off, any origin, 256 connections (32 per IP), 60 frames per second per connection,
/// 16 MiB messages, 40 megapixel images, a ping every 10 s, the browser demo and Socket.IO
/// on.
///
/// ```
/// use livepose_core::options::parse_options;
/// use livepose_ws::ServeOptions;
///
/// let options: ServeOptions = parse_options(serde_json::json!({"port": 0, "max_fps": 30})).unwrap();
/// let config = options.config().unwrap(); // for Server::start
/// # let _ = config;
/// assert!(parse_options::<ServeOptions>(serde_json::json!({"host": "localhost"})).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeOptions {
    /// Address to listen on.
    #[serde(deserialize_with = "ip_address")]
    pub host: IpAddr,
    /// Port (0: any free port).
    pub port: u16,
    /// Folder of the models (`None`: `LIVEPOSE_MODELS`, else `~/.cache/livepose/models`).
    pub models_dir: Option<PathBuf>,
    /// Default landmark model (a client may ask for the other).
    pub model: ModelKind,
    /// Load the hand models (clients may then ask for hands).
    pub hands: bool,
    /// Inference worker threads (`None`: one per core).
    pub workers: Option<usize>,
    /// Bearer token required on `/ws`, `/estimate_pose` and Socket.IO (and, without an
    /// `admin_token`, on `/streams`, `/sources` and `/metrics`).
    pub token: Option<String>,
    /// Token required on `/streams`, `/sources` and `/metrics` (`None`: the `token`; a
    /// server with a room or view token but neither refuses them, one with no token at
    /// all leaves them open).
    pub admin_token: Option<String>,
    /// Enables rooms: the token a room's camera must present to publish.
    pub room_token: Option<String>,
    /// The token a room's viewers must present (`None`: anyone may view).
    pub view_token: Option<String>,
    /// Origins allowed to open a socket (empty: any).
    pub allowed_origins: Vec<String>,
    /// Most open streams in total.
    pub max_connections: usize,
    /// Most open streams per IP address.
    pub max_connections_per_ip: usize,
    /// Most frames per second per connection.
    pub max_fps: u32,
    /// Largest message in bytes.
    pub max_message_bytes: usize,
    /// Largest image in pixels (checked from its header, before decoding).
    pub max_pixels: u64,
    /// Seconds between pings (a connection that answers none of two is closed).
    pub heartbeat_secs: f64,
    /// Seconds a connection has to send its request's headers (else it is closed).
    pub header_timeout_secs: f64,
    /// Seconds an `/estimate_pose` request has to send its body (else 408).
    pub body_timeout_secs: f64,
    /// Serve the browser demo at `/`.
    pub demo: bool,
    /// Serve Socket.IO at `/socket.io/` (WebSocket and long-polling transports).
    pub socketio: bool,
    /// Server-side camera sources, `ROOM=URL` each (`http(s)://` MJPEG, `rtsp(s)://`, or a
    /// local file, looped); they need `room_token` and ffmpeg.
    pub sources: Vec<String>,
    /// Stop a source when its room's last viewer leaves.
    pub source_stop_when_unwatched: bool,
    /// Most sources running at once (the configured ones and those posted).
    pub max_sources: usize,
    /// What a source posted over HTTP may read: `scheme:` entries (`rtsp:`, `file:`) and
    /// hosts; empty: anything but the server's own files.
    pub source_allow: Vec<String>,
    /// Do not check the certificates of `https://` and `rtsps://` sources.
    pub source_tls_insecure: bool,
    /// Re-encode RTSP cameras' H.264 to JPEG in ffmpeg instead of passing it through to the
    /// server's decoder (for a camera whose H.264 the decoder refuses).
    pub source_reencode: bool,
    /// Check the certificates of `https://` and `rtsps://` sources against the certificate
    /// authorities in this PEM file (`None`: the system's).
    pub source_ca_file: Option<PathBuf>,
    /// Cluster mode: the NATS server (`nats://HOST:4222`, with JetStream) that nodes share
    /// rooms and stream lists through; `None`: this node alone.
    pub nats: Option<String>,
    /// This node's id in the cluster (default: host name and process id).
    pub node_id: Option<String>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            host: IpAddr::from([127, 0, 0, 1]),
            port: 8765,
            models_dir: None,
            model: ModelKind::Lite,
            hands: false,
            workers: None,
            token: None,
            admin_token: None,
            room_token: None,
            view_token: None,
            allowed_origins: Vec::new(),
            max_connections: 256,
            max_connections_per_ip: 32,
            max_fps: 60,
            max_message_bytes: 16 << 20,
            max_pixels: 40_000_000,
            heartbeat_secs: 10.0,
            header_timeout_secs: 10.0,
            body_timeout_secs: 30.0,
            demo: true,
            socketio: true,
            sources: Vec::new(),
            source_stop_when_unwatched: false,
            max_sources: 16,
            source_allow: Vec::new(),
            source_tls_insecure: false,
            source_reencode: false,
            source_ca_file: None,
            nats: None,
            node_id: None,
        }
    }
}

impl Options for ServeOptions {
    fn validate(&self) -> Result<(), OptionsError> {
        let at_least_one = [
            ("workers", self.workers.unwrap_or(1) as u64),
            ("max_connections", self.max_connections as u64),
            ("max_connections_per_ip", self.max_connections_per_ip as u64),
            ("max_fps", u64::from(self.max_fps)),
            ("max_pixels", self.max_pixels),
            ("max_sources", self.max_sources as u64),
        ];
        for (option, value) in at_least_one {
            if value == 0 {
                return Err(OptionsError::out_of_range(option, "must be at least 1"));
            }
        }
        if self.max_message_bytes < 1024 {
            return Err(OptionsError::out_of_range(
                "max_message_bytes",
                format!("must be at least 1024, got {}", self.max_message_bytes),
            ));
        }
        for (option, secs) in [
            ("header_timeout_secs", self.header_timeout_secs),
            ("body_timeout_secs", self.body_timeout_secs),
        ] {
            if !(0.01..=3_600.0).contains(&secs) {
                return Err(OptionsError::out_of_range(
                    option,
                    format!("must be from 0.01 to 3600 seconds, got {secs}"),
                ));
            }
        }
        if !(0.01..=86_400.0).contains(&self.heartbeat_secs) {
            return Err(OptionsError::out_of_range(
                "heartbeat_secs",
                format!(
                    "must be from 0.01 to 86400 seconds, got {}",
                    self.heartbeat_secs
                ),
            ));
        }
        if self.source_tls_insecure && self.source_ca_file.is_some() {
            return Err(OptionsError::out_of_range(
                "source_ca_file",
                "contradicts source_tls_insecure (set one of them)",
            ));
        }
        if self.view_token.is_some() && self.room_token.is_none() {
            return Err(OptionsError::out_of_range(
                "view_token",
                "needs room_token (rooms are off without it)",
            ));
        }
        if self.node_id.is_some() && self.nats.is_none() {
            return Err(OptionsError::out_of_range(
                "node_id",
                "needs nats (a node id names this node in a cluster)",
            ));
        }
        if self.node_id.as_deref().is_some_and(str::is_empty) {
            return Err(OptionsError::out_of_range("node_id", "must not be empty"));
        }
        if !self.sources.is_empty() && self.room_token.is_none() {
            return Err(OptionsError::out_of_range(
                "sources",
                "needs room_token (a source publishes to a room, and rooms are off without it)",
            ));
        }
        let mut rooms = std::collections::HashSet::new();
        for pair in &self.sources {
            let (room, _) = crate::sources::parse_pair(pair)
                .map_err(|why| OptionsError::out_of_range("sources", why))?;
            if !rooms.insert(room.clone()) {
                return Err(OptionsError::out_of_range(
                    "sources",
                    format!("room {room:?} has two sources"),
                ));
            }
        }
        Ok(())
    }
}

impl ServeOptions {
    /// The ping interval.
    pub(crate) fn heartbeat(&self) -> Duration {
        Duration::from_secs_f64(self.heartbeat_secs)
    }
}

/// An IP address, refused with a message that says so.
fn ip_address<'de, D: Deserializer<'de>>(deserializer: D) -> Result<IpAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse()
        .map_err(|_| serde::de::Error::custom(format!("{text:?} is not an IP address")))
}
