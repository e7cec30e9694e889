//! The command line's pipeline and server flags. Each maps onto a field of
//! [`PipelineOptions`] or [`ServeOptions`], whose `Default` gives the default `--help` shows,
//! and whose validation refuses what types cannot (`--num-poses 0`).

use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use livepose::core::inference::PipelineOptions;
use livepose::core::options::{ModelKind, Options, OptionsError, RunMode, SmoothingKind};
use livepose::ws::ServeOptions;

/// A named value (`lite`, `one_euro`); the command line also takes `-` for `_`.
fn choice<T: FromStr>(value: &str) -> Result<T, T::Err> {
    value.replace('-', "_").parse()
}

/// Flags of the pipeline (`livepose run`).
#[derive(clap::Args)]
pub(crate) struct PipelineArgs {
    /// Landmark model: lite or full.
    #[arg(long, value_parser = choice::<ModelKind>, default_value_t = PipelineOptions::default().model)]
    model: ModelKind,
    /// live: track across frames; image: every frame on its own.
    #[arg(long, value_parser = choice::<RunMode>, default_value_t = PipelineOptions::default().mode)]
    mode: RunMode,
    /// Most people to track.
    #[arg(long, default_value_t = PipelineOptions::default().num_poses)]
    num_poses: usize,
    /// Landmark smoothing in live mode: one_euro (MediaPipe's parameters), steady (steadier
    /// on a still person, no more lag on fast motion), ema (alpha 0.7) or none.
    #[arg(long, value_parser = choice::<SmoothingKind>, default_value_t = PipelineOptions::default().smoothing)]
    smoothing: SmoothingKind,
    /// Hand landmarks too (palm_detection_full and hand_landmark_full).
    #[arg(long)]
    hands: bool,
    /// ONNX Runtime threads per model.
    #[arg(long, default_value_t = PipelineOptions::default().threads)]
    threads: usize,
    /// Models folder (pose_detection and pose_landmark_{lite,full}, hand models; .onnx,
    /// .tflite or .task); default: LIVEPOSE_MODELS, else ~/.cache/livepose/models.
    #[arg(long)]
    models: Option<PathBuf>,
}

impl PipelineArgs {
    /// The options these flags say, checked.
    pub(crate) fn options(self) -> Result<PipelineOptions, OptionsError> {
        let options = PipelineOptions {
            model: self.model,
            hands: self.hands,
            mode: self.mode,
            smoothing: self.smoothing,
            threads: self.threads,
            num_poses: self.num_poses,
            models_dir: self.models,
        };
        options.validate()?;
        Ok(options)
    }
}

/// Flags of the server (`livepose serve`).
#[derive(clap::Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LIVEPOSE_HOST", default_value_t = ServeOptions::default().host)]
    host: IpAddr,
    /// Port (0: any free port).
    #[arg(long, env = "LIVEPOSE_PORT", default_value_t = ServeOptions::default().port)]
    port: u16,
    /// Models folder (pose_detection, pose_landmark_{lite,full}, hand models; .onnx, .tflite
    /// or .task); default: LIVEPOSE_MODELS, else ~/.cache/livepose/models.
    #[arg(long)]
    models: Option<PathBuf>,
    /// Default landmark model (clients may ask for the other): lite or full.
    #[arg(long, value_parser = choice::<ModelKind>, default_value_t = ServeOptions::default().model)]
    model: ModelKind,
    /// Load the hand models.
    #[arg(long)]
    hands: bool,
    /// Inference worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Require this bearer token (`Authorization: Bearer …` or `?token=…`).
    #[arg(long, env = "LIVEPOSE_TOKEN")]
    token: Option<String>,
    /// The token for /streams, /sources and /metrics (default: --token; with only room or
    /// view tokens set and neither, they are refused).
    #[arg(long, env = "LIVEPOSE_ADMIN_TOKEN")]
    admin_token: Option<String>,
    /// Enable rooms: the token a room's camera must present to publish.
    #[arg(long, env = "LIVEPOSE_ROOM_TOKEN")]
    room_token: Option<String>,
    /// The token a room's viewers must present (default: anyone may view).
    #[arg(long, env = "LIVEPOSE_VIEW_TOKEN")]
    view_token: Option<String>,
    /// Origins allowed to open a socket (repeat; default: any).
    #[arg(long = "allowed-origin")]
    allowed_origins: Vec<String>,
    /// Most open streams in total.
    #[arg(long, default_value_t = ServeOptions::default().max_connections)]
    max_connections: usize,
    /// Most open streams per IP address.
    #[arg(long, default_value_t = ServeOptions::default().max_connections_per_ip)]
    max_connections_per_ip: usize,
    /// Most frames per second per connection.
    #[arg(long, default_value_t = ServeOptions::default().max_fps)]
    max_fps: u32,
    /// Largest message in bytes.
    #[arg(long, default_value_t = ServeOptions::default().max_message_bytes)]
    max_message_bytes: usize,
    /// Largest image in pixels (checked from its header, before decoding).
    #[arg(long, default_value_t = ServeOptions::default().max_pixels)]
    max_pixels: u64,
    /// Seconds between pings (a connection that answers none of two is closed).
    #[arg(long, default_value_t = ServeOptions::default().heartbeat_secs)]
    heartbeat_secs: f64,
    /// Seconds a connection has to send its request's headers (else it is closed).
    #[arg(long, default_value_t = ServeOptions::default().header_timeout_secs)]
    header_timeout_secs: f64,
    /// Seconds an /estimate_pose request has to send its body (else 408).
    #[arg(long, default_value_t = ServeOptions::default().body_timeout_secs)]
    body_timeout_secs: f64,
    /// Do not serve the browser demo at `/`.
    #[arg(long)]
    no_demo: bool,
    /// Serve Socket.IO at `/socket.io/` (`--socketio false` turns it off).
    #[arg(long, num_args = 0..=1, default_value_t = ServeOptions::default().socketio, default_missing_value = "true", action = clap::ArgAction::Set)]
    socketio: bool,
    /// A server-side camera: `ROOM=URL` (repeat), an HTTP MJPEG stream (an ESP32 board's
    /// `http://IP:81/stream`), `rtsp://…` or a local video file (looped), read with ffmpeg
    /// into the room as its camera. Needs `--room-token`.
    #[arg(long = "source", value_name = "ROOM=URL")]
    sources: Vec<String>,
    /// Stop a source when its room's last viewer leaves.
    #[arg(long)]
    source_stop_when_unwatched: bool,
    /// Most sources running at once, configured and posted.
    #[arg(long, default_value_t = ServeOptions::default().max_sources)]
    max_sources: usize,
    /// What a source posted over HTTP may read (repeat): a scheme (`rtsp:`, `file:`) or a
    /// host. Default: anything but the server's own files.
    #[arg(long = "source-allow", value_name = "SCHEME:|HOST")]
    source_allow: Vec<String>,
    /// Do not check the certificates of https:// and rtsps:// sources.
    #[arg(long)]
    source_tls_insecure: bool,
    /// Re-encode RTSP cameras' H.264 to JPEG in ffmpeg instead of decoding it in the server.
    #[arg(long)]
    source_reencode: bool,
    /// Check the certificates of https:// and rtsps:// sources against this PEM file's
    /// certificate authorities (default: the system's).
    #[arg(long, value_name = "PEM")]
    source_ca_file: Option<std::path::PathBuf>,
    /// Cluster mode: share rooms and stream lists with other nodes through this NATS server
    /// (JetStream on: `nats-server -js`), e.g. `nats://127.0.0.1:4222`.
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
    /// This node's id in the cluster (default: host name and process id).
    #[arg(long, value_name = "ID")]
    node_id: Option<String>,
}

impl ServeArgs {
    /// The options these flags say, checked.
    pub(crate) fn options(self) -> Result<ServeOptions, OptionsError> {
        let options = ServeOptions {
            host: self.host,
            port: self.port,
            models_dir: self.models,
            model: self.model,
            hands: self.hands,
            workers: self.workers,
            token: self.token,
            admin_token: self.admin_token,
            room_token: self.room_token,
            view_token: self.view_token,
            allowed_origins: self.allowed_origins,
            max_connections: self.max_connections,
            max_connections_per_ip: self.max_connections_per_ip,
            max_fps: self.max_fps,
            max_message_bytes: self.max_message_bytes,
            max_pixels: self.max_pixels,
            heartbeat_secs: self.heartbeat_secs,
            header_timeout_secs: self.header_timeout_secs,
            body_timeout_secs: self.body_timeout_secs,
            demo: !self.no_demo,
            socketio: self.socketio,
            sources: self.sources,
            source_stop_when_unwatched: self.source_stop_when_unwatched,
            max_sources: self.max_sources,
            source_allow: self.source_allow,
            source_tls_insecure: self.source_tls_insecure,
            source_reencode: self.source_reencode,
            source_ca_file: self.source_ca_file,
            nats: self.nats,
            node_id: self.node_id,
        };
        options.validate()?;
        Ok(options)
    }
}
