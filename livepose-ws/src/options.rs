//! [`ServeOptions`]: what a front end may set on the server (the `livepose serve` flags,
//! Python's `serve(...)`, Node's `serve({...})`), as one serde-deserialisable struct with
//! each default written once; [`ServerConfig`] is built from it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use livepose_core::options::{ModelKind, Options, OptionsError};
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::ServerConfig;

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
    /// Bearer token required on `/ws`, `/estimate_pose`, `/streams` and `/metrics`.
    pub token: Option<String>,
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
    /// Serve the browser demo at `/`.
    pub demo: bool,
    /// Serve Socket.IO at `/socket.io/` (WebSocket and long-polling transports).
    pub socketio: bool,
    /// Server-side camera sources, `ROOM=URL` each (`http(s)://` MJPEG, `rtsp(s)://`, or a
    /// local file, looped); they need `room_token` and ffmpeg.
    pub sources: Vec<String>,
    /// Stop a source when its room's last viewer leaves.
    pub source_stop_when_unwatched: bool,
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
            room_token: None,
            view_token: None,
            allowed_origins: Vec::new(),
            max_connections: 256,
            max_connections_per_ip: 32,
            max_fps: 60,
            max_message_bytes: 16 << 20,
            max_pixels: 40_000_000,
            heartbeat_secs: 10.0,
            demo: true,
            socketio: true,
            sources: Vec::new(),
            source_stop_when_unwatched: false,
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
        if !(0.01..=86_400.0).contains(&self.heartbeat_secs) {
            return Err(OptionsError::out_of_range(
                "heartbeat_secs",
                format!(
                    "must be from 0.01 to 86400 seconds, got {}",
                    self.heartbeat_secs
                ),
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
            let (room, _) = crate::source_spec::parse_pair(pair)
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
    /// Checks the options and builds the server's configuration.
    pub fn config(&self) -> Result<ServerConfig, OptionsError> {
        self.validate()?;
        Ok(ServerConfig::from_options(self))
    }

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

#[cfg(test)]
mod tests {
    use livepose_core::options::parse_options;

    use super::*;

    #[test]
    fn defaults_are_the_configs_defaults() {
        let options = parse_options::<ServeOptions>(serde_json::json!({})).unwrap();
        assert_eq!(options, ServeOptions::default());
        let config = options.config().unwrap();
        let default = ServerConfig::default();
        assert_eq!(format!("{config:?}"), format!("{default:?}"));
        assert_eq!(config.addr.to_string(), "127.0.0.1:8765");
    }

    #[test]
    fn every_refusal_names_its_option() {
        for (json, option) in [
            (serde_json::json!({"host": "localhost"}), "host"),
            (serde_json::json!({"port": 70000}), "port"),
            (serde_json::json!({"workers": 0}), "workers"),
            (serde_json::json!({"max_fps": 0}), "max_fps"),
            (serde_json::json!({"heartbeat_secs": 0}), "heartbeat_secs"),
            (serde_json::json!({"view_token": "v"}), "view_token"),
            (serde_json::json!({"sources": ["a=http://cam"]}), "sources"),
            (serde_json::json!({"node_id": "a"}), "node_id"),
            (
                serde_json::json!({"room_token": "r", "sources": ["a=ftp://cam"]}),
                "sources",
            ),
            (
                serde_json::json!({"room_token": "r", "sources": ["a=http://x", "a=http://y"]}),
                "sources",
            ),
            (serde_json::json!({"model": "heavy"}), "model"),
            (
                serde_json::json!({"allowed_origins": "x"}),
                "allowed_origins",
            ),
        ] {
            match parse_options::<ServeOptions>(json.clone()) {
                Err(OptionsError::OutOfRange { option: o, .. })
                | Err(OptionsError::InvalidValue { option: o, .. }) => {
                    assert_eq!(o, option, "{json}")
                }
                other => panic!("{json}: {other:?}"),
            }
        }
        let err = parse_options::<ServeOptions>(serde_json::json!({"host": "localhost"}));
        assert!(err
            .unwrap_err()
            .to_string()
            .contains("\"localhost\" is not an IP address"));
    }

    #[test]
    fn options_reach_the_config() {
        let options: ServeOptions = parse_options(serde_json::json!({
            "host": "0.0.0.0", "port": 0, "model": "full", "hands": true, "workers": 3,
            "token": "t", "room_token": "r", "view_token": "v", "allowed_origins": ["https://a"],
            "max_connections": 9, "max_connections_per_ip": 2, "max_fps": 5,
            "max_message_bytes": 4096, "max_pixels": 100, "heartbeat_secs": 0.5, "demo": false,
            "socketio": false, "sources": ["door=http://cam:81/stream"],
            "source_stop_when_unwatched": true,
            "models_dir": "/m", "nats": "nats://127.0.0.1:4222", "node_id": "a",
        }))
        .unwrap();
        let c = options.config().unwrap();
        assert_eq!(c.addr.to_string(), "0.0.0.0:0");
        assert_eq!((c.model, c.hands, c.workers), (ModelKind::Full, true, 3));
        assert_eq!(c.token.as_deref(), Some("t"));
        assert_eq!(
            (c.room_token.as_deref(), c.view_token.as_deref()),
            (Some("r"), Some("v"))
        );
        assert_eq!(c.allowed_origins, ["https://a"]);
        assert_eq!(
            (c.max_connections, c.max_connections_per_ip, c.max_fps),
            (9, 2, 5)
        );
        assert_eq!((c.max_message_bytes, c.max_pixels), (4096, 100));
        assert_eq!(c.heartbeat, Duration::from_millis(500));
        assert!(!c.demo && !c.socketio);
        assert_eq!(
            c.sources,
            [("door".to_string(), "http://cam:81/stream".to_string())]
        );
        assert!(c.source_stop_when_unwatched);
        assert_eq!(c.nats.as_deref(), Some("nats://127.0.0.1:4222"));
        assert_eq!(c.node_id.as_deref(), Some("a"));
        assert_eq!(c.models_dir.as_deref(), Some(std::path::Path::new("/m")));
    }
}
