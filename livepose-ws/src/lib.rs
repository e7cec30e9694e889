//! `livepose-ws`: real-time pose estimation over WebSocket, a tokio server around
//! [`livepose_core`].
//!
//! One WebSocket per camera stream at `GET /ws`: binary frames (protocol v1, see
//! `docs/protocol.md`) or the JSON+base64 format of existing clients, detected per message;
//! results as protocol v1 binary (default) or, for JSON clients, in their JSON shape.
//! Per stream a latest-wins slot sits between the socket and inference (never a queue),
//! streams share a worker pool fairly, and closing a socket ends its
//! inference at once.
//!
//! Configuration: [`ServeOptions`] is what a front end sets (the `livepose serve` flags,
//! Python's `serve(...)` keywords, Node's `serve({...})` object), one serde-deserialisable
//! struct with each default written once; [`ServeOptions::config`] checks it and builds the
//! [`ServerConfig`] that [`Server::start`] and [`BackgroundServer::start`] take.
//! `ServerConfig::default()` is `ServeOptions::default()`'s configuration, and its setters
//! also reach what only Rust code sets (the stats interval, inference off).
//!
//! | module | job |
//! | --- | --- |
//! | [`server`] | [`Server`]: bind, router, graceful shutdown |
//! | [`background`] | [`BackgroundServer`]: a server on a thread and runtime of its own |
//! | `options` | [`ServeOptions`]: the options of every front end, their defaults and checks |
//! | [`config`] | [`ServerConfig`]: built from checked options, or from the defaults by setters (which check nothing), plus what only Rust code sets |
//! | [`client`] | the Rust client: hello, latest-wins sending, reconnection |
//! | [`demo`] | the browser demo's files, served at `/` |
//! | `scheduler` | streams (latest-wins in and out, a tracker each) and the worker pool |
//! | `out` | results and control messages as shared, reference-counted bytes |
//! | `rooms`, `room_http` | one camera, many viewers; `POST`/`DELETE /rooms/{room}/source`, `DELETE /rooms/{room}` |
//! | `source`, `source_spec` | server-side camera sources: ffmpeg reads HTTP MJPEG, RTSP or a looped file into a room; their URLs checked |
//! | `state`, `session`, `stream_options`, `rate`, `inbound` | per-server and per-stream state, `hello` / `config`, rate caps, a stream's messages |
//! | `admission`, `sockets`, `stream_session`, `viewer_session` | tokens, origins and connection limits; the WebSocket routes and their reader and writer loops |
//! | `http`, `metrics` | `/health`, `/streams`, `/metrics`, `/estimate_pose`; the OpenMetrics counters |
//!
//! ```no_run
//! use livepose_ws::{Server, ServerConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::start(ServerConfig::default().models_dir("models")).await?;
//! println!("listening on ws://{}/ws", server.local_addr());
//! # Ok(()) }
//! ```

mod admission;
mod annotate;
pub mod background;
pub mod client;
mod cluster;
pub mod config;
pub mod demo;
mod http;
mod inbound;
mod metrics;
mod options;
mod out;
mod outbox;
mod rate;
mod room_admin;
mod room_http;
mod room_stats;
mod rooms;
mod scheduler;
pub mod server;
mod session;
mod socketio;
mod sockets;
mod source;
mod source_registry;
mod source_spec;
mod state;
mod stream_options;
mod stream_session;
mod viewer_session;
mod views;

pub use background::BackgroundServer;
pub use cluster::ClusterError;
pub use config::ServerConfig;
pub use options::ServeOptions;
pub use server::{Server, ServerError};
