//! Server configuration: [`ServerConfig`], built from [`ServeOptions`] (which holds the
//! defaults and checks them) by [`ServeOptions::config`], or from its `Default` with the
//! setters below, which also set what only Rust code sets (stats interval, inference off)
//! and, unlike [`ServeOptions::config`], do not check their values.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use livepose_core::image::DecoderConfig;
use livepose_core::inference::PipelineBuilder;
use livepose_core::options::{ModelKind, Options, OptionsError};

use super::options::ServeOptions;
use crate::sources::{SourcePolicy, TlsCheck};

/// How the server runs: [`ServeOptions`] (defaults there), checked, plus what only Rust
/// code sets (stats interval, inference off for transport benchmarks). Build it from
/// options with [`ServeOptions::config`], or from the defaults with the setters below.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on (port 0: any free port).
    pub(crate) addr: SocketAddr,
    /// Inference worker threads.
    pub(crate) workers: usize,
    /// Default landmark model (a client may ask for the other).
    pub(crate) model: ModelKind,
    /// Load the hand models (clients may then ask for hands).
    pub(crate) hands: bool,
    /// Models directory (`None`: `LIVEPOSE_MODELS`, else `~/.cache/livepose/models`).
    pub(crate) models_dir: Option<PathBuf>,
    /// Largest WebSocket message accepted.
    pub(crate) max_message_bytes: usize,
    /// Largest image accepted, in pixels (checked from the image header before decoding).
    pub(crate) max_pixels: u64,
    /// Most open streams in total.
    pub(crate) max_connections: usize,
    /// Most open streams from one IP address.
    pub(crate) max_connections_per_ip: usize,
    /// Most frames per second accepted from one connection (more get a `rate_limited`
    /// error and are not inferred).
    pub(crate) max_fps: u32,
    /// Ping interval; a connection that answers none of two pings is closed.
    pub(crate) heartbeat: Duration,
    /// Interval of the `stats` messages (and `rate` hints when a client sends faster than
    /// its stream is processed).
    pub(crate) stats_interval: Duration,
    /// Origins allowed to open a socket (`Origin` header); empty: any.
    pub(crate) allowed_origins: Vec<String>,
    /// Token a room's camera must present to publish (`/ws/rooms/{room}/camera`); without
    /// one, rooms are off.
    pub(crate) room_token: Option<String>,
    /// Token a viewer must present (`/ws/rooms/{room}/view`); `None`: anyone may view.
    pub(crate) view_token: Option<String>,
    /// Token for `/streams`, `/sources` and `/metrics` (`None`: the server's token).
    pub(crate) admin_token: Option<String>,
    /// Run the models (default). Off, every frame is answered at once with an empty result
    /// (no decode, no inference): the transport alone, for measuring it.
    pub(crate) inference: bool,
    /// Bearer token required on `/ws` and `/estimate_pose` (`Authorization: Bearer …` or
    /// `?token=…`, which browsers can send on a WebSocket); `None`: open.
    pub(crate) token: Option<String>,
    /// Serve the browser demo at `/` (default on).
    pub(crate) demo: bool,
    /// Serve Socket.IO at `/socket.io/` (default on).
    pub(crate) socketio: bool,
    /// Server-side camera sources started with the server: (room, URL).
    pub(crate) sources: Vec<(String, String)>,
    /// Sources stop when their room's last viewer leaves (unless a source says otherwise).
    pub(crate) source_stop_when_unwatched: bool,
    /// Longest a connection may take to send its request's headers.
    pub(crate) header_timeout: Duration,
    /// Longest an `/estimate_pose` request may take to send its body.
    pub(crate) body_timeout: Duration,
    /// Most sources running at once.
    pub(crate) max_sources: usize,
    /// What a posted source may read.
    pub(crate) source_policy: SourcePolicy,
    /// How https:// and rtsps:// sources check certificates.
    pub(crate) source_tls: TlsCheck,
    /// RTSP sources' H.264 re-encoded to JPEG rather than passed through.
    pub(crate) source_reencode: bool,
    /// Cluster mode: the NATS server's URL.
    pub(crate) nats: Option<String>,
    /// This node's id in the cluster.
    pub(crate) node_id: Option<String>,
}

impl Default for ServerConfig {
    /// [`ServeOptions`]' defaults.
    fn default() -> Self {
        ServerConfig::from_options(&ServeOptions::default())
    }
}

impl ServeOptions {
    /// Checks the options and builds the server's configuration.
    pub fn config(&self) -> Result<ServerConfig, OptionsError> {
        self.validate()?;
        Ok(ServerConfig::from_options(self))
    }
}

impl ServerConfig {
    /// The configuration for options already validated ([`ServeOptions::config`] checks
    /// them first).
    fn from_options(o: &ServeOptions) -> Self {
        ServerConfig {
            addr: SocketAddr::new(o.host, o.port),
            workers: o
                .workers
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            model: o.model,
            hands: o.hands,
            models_dir: o.models_dir.clone(),
            max_message_bytes: o.max_message_bytes,
            max_pixels: o.max_pixels,
            max_connections: o.max_connections,
            max_connections_per_ip: o.max_connections_per_ip,
            max_fps: o.max_fps,
            heartbeat: o.heartbeat(),
            stats_interval: Duration::from_secs(1),
            allowed_origins: o.allowed_origins.clone(),
            room_token: o.room_token.clone(),
            view_token: o.view_token.clone(),
            admin_token: o.admin_token.clone(),
            inference: true,
            token: o.token.clone(),
            demo: o.demo,
            socketio: o.socketio,
            sources: o
                .sources
                .iter()
                .filter_map(|pair| pair.split_once('='))
                .map(|(room, url)| (room.to_string(), url.to_string()))
                .collect(),
            source_stop_when_unwatched: o.source_stop_when_unwatched,
            header_timeout: Duration::from_secs_f64(o.header_timeout_secs),
            body_timeout: Duration::from_secs_f64(o.body_timeout_secs),
            max_sources: o.max_sources,
            source_policy: SourcePolicy::new(&o.source_allow),
            source_tls: match (&o.source_ca_file, o.source_tls_insecure) {
                (_, true) => TlsCheck::Off,
                (Some(ca), false) => TlsCheck::VerifyWith(ca.clone()),
                (None, false) => TlsCheck::Verify,
            },
            source_reencode: o.source_reencode,
            nats: o.nats.clone(),
            node_id: o.node_id.clone(),
        }
    }

    /// Listen on `addr`.
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }
    /// Number of inference workers (at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }
    /// Default landmark model.
    pub fn model(mut self, model: ModelKind) -> Self {
        self.model = model;
        self
    }
    /// Load the hand models.
    pub fn hands(mut self, on: bool) -> Self {
        self.hands = on;
        self
    }
    /// Models directory.
    pub fn models_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.models_dir = Some(dir.into());
        self
    }
    /// Largest message.
    pub fn max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self
    }

    /// Largest image in pixels.
    pub fn max_pixels(mut self, pixels: u64) -> Self {
        self.max_pixels = pixels;
        self
    }
    /// Most open streams, in total and per IP address.
    pub fn max_connections(mut self, total: usize, per_ip: usize) -> Self {
        self.max_connections = total;
        self.max_connections_per_ip = per_ip;
        self
    }
    /// Most frames per second per connection.
    pub fn max_fps(mut self, fps: u32) -> Self {
        self.max_fps = fps;
        self
    }
    /// Ping interval.
    pub fn heartbeat(mut self, interval: Duration) -> Self {
        self.heartbeat = interval;
        self
    }
    /// Interval of the `stats` messages.
    pub fn stats_interval(mut self, interval: Duration) -> Self {
        self.stats_interval = interval;
        self
    }
    /// Origins allowed to connect.
    pub fn allowed_origins(mut self, origins: impl IntoIterator<Item = String>) -> Self {
        self.allowed_origins = origins.into_iter().collect();
        self
    }
    /// Enable rooms: cameras publish with `publish`, viewers need `view` if given.
    pub fn rooms(mut self, publish: impl Into<String>, view: Option<String>) -> Self {
        self.room_token = Some(publish.into());
        self.view_token = view;
        self
    }
    /// The token for `/streams`, `/sources` and `/metrics` (default: the server's token).
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }
    /// Run the models, or answer every frame with an empty result (transport only).
    pub fn inference(mut self, on: bool) -> Self {
        self.inference = on;
        self
    }
    /// Require this bearer token.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
    /// Serve the browser demo at `/`, or not (the page is static and needs no token; its
    /// socket does, with `/?token=…`).
    pub fn demo(mut self, on: bool) -> Self {
        self.demo = on;
        self
    }

    /// Serve Socket.IO at `/socket.io/`, or not.
    pub fn socketio(mut self, on: bool) -> Self {
        self.socketio = on;
        self
    }

    /// What a source posted over HTTP may read: `scheme:` entries (`rtsp:`, `file:`) and
    /// hosts (default: anything but the server's own files).
    pub fn source_allow(mut self, allow: impl IntoIterator<Item = String>) -> Self {
        let allow: Vec<String> = allow.into_iter().collect();
        self.source_policy = SourcePolicy::new(&allow);
        self
    }

    /// Adds a server-side camera source for `room` (needs rooms; checked at start).
    pub fn source(mut self, room: impl Into<String>, url: impl Into<String>) -> Self {
        self.sources.push((room.into(), url.into()));
        self
    }

    /// Cluster mode through the NATS server at `url` (JetStream on), as node `node_id`
    /// (`None`: host name and process id).
    pub fn cluster(mut self, url: impl Into<String>, node_id: Option<String>) -> Self {
        self.nats = Some(url.into());
        self.node_id = node_id;
        self
    }

    /// Sources stop when their room's last viewer leaves (unless a source says otherwise).
    pub fn source_stop_when_unwatched(mut self, on: bool) -> Self {
        self.source_stop_when_unwatched = on;
        self
    }

    /// RTSP sources' H.264 re-encoded to JPEG by ffmpeg instead of decoded in the server.
    pub fn source_reencode(mut self, on: bool) -> Self {
        self.source_reencode = on;
        self
    }

    /// The pipeline builder workers and streams are made from.
    pub fn pipeline_builder(&self) -> PipelineBuilder {
        let mut builder = PipelineBuilder::default()
            .model(self.model)
            .hands(self.hands)
            .decoder(DecoderConfig::default().max_pixels(self.max_pixels));
        if let Some(dir) = &self.models_dir {
            builder = builder.models_dir(dir);
        }
        builder
    }
}
