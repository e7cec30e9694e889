//! `livepose-ws`: real-time pose estimation over WebSocket, a tokio server around
//! [`livepose_core`].
//!
//! One WebSocket per camera stream at `GET /ws`: binary frames (protocol v1, see
//! `docs/protocol.md`) or the JSON+base64 format of existing clients, detected per message;
//! results as protocol v1 binary (default) or, for JSON clients, in their JSON shape.
//! Per stream a latest-wins slot sits between the socket and inference (never a queue),
//! streams share a worker pool fairly, and closing a socket ends its inference at once.
//! Socket.IO at `/socket.io/` speaks the same streams to Flask-SocketIO-style front ends;
//! rooms carry one camera (a socket, a Socket.IO connection or a server-side source read by
//! ffmpeg) to many viewers; several servers share rooms through NATS (`--nats`).
//!
//! The API:
//! - [`ServeOptions`]: what a front end sets (the `livepose serve` flags, Python's
//!   `serve(...)` keywords, Node's `serve({...})` object), one serde-deserialisable struct
//!   with each default written once; [`ServeOptions::config`] checks it and builds the
//!   [`ServerConfig`]. `ServerConfig::default()` is `ServeOptions::default()`'s
//!   configuration, and its setters also reach what only Rust code sets (the stats interval,
//!   inference off).
//! - [`Server`]: started on the current tokio runtime, shut down gracefully; or
//!   [`BackgroundServer`]: on a thread and runtime of its own, for callers without one.
//! - [`ServerError`] and [`ClusterError`]: why a server could not start.
//! - The Rust client is the `livepose-client` crate (it depends on livepose-core alone).
//!
//! ```no_run
//! use livepose_ws::{Server, ServerConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::start(ServerConfig::default().models_dir("models")).await?;
//! println!("listening on ws://{}/ws", server.local_addr());
//! # Ok(()) }
//! ```
//!
//! The modules, each importing only from those above it in this table (no cycles:
//! `scripts/check-module-cycles.py`); `docs/architecture.md` has each file.
//!
//! | module | job |
//! | --- | --- |
//! | `message` | results and control messages as shared bytes; the one builder of `error` messages |
//! | `metrics` | the OpenMetrics counters, gauges and histogram; `Connected` |
//! | `rooms` | rooms: `RoomName` (the one check of a name), viewers, the audience, `CameraSeat` (the one guard of a camera seat), figures, annotation |
//! | `sources` | server-side sources: the URL checked, its secrets hidden (`RedactedUrl`), the ffmpeg subprocess, the running ones |
//! | `config` | [`ServeOptions`] and [`ServerConfig`] |
//! | `streams` | a stream's shared state between its connection and the workers; the open streams |
//! | `pool` | the inference worker pool |
//! | `cluster` | cluster mode over NATS: camera claims, relays and feeds of rooms, cluster views |
//! | `state` | what every handler shares; seating a room's camera |
//! | `admission` | what a request must pass: its token (one extractor type per kind), its room's name, the connection limits |
//! | `sessions` | what a stream's connection does with its stream: messages in, options, what to send next, rate caps |
//! | `transport` | the WebSocket routes, Socket.IO, and server-side sources as cameras |
//! | `api` | the HTTP routes: health, streams, `/estimate_pose`, rooms, MJPEG, admin, cluster views |
//! | `demo` | the browser demo's files, served at `/` |
//! | `router`, `accept`, `server` | every route; the accept loop (per-address places from accept, header timeout); [`Server`]: bind, serve, shut down |
//! | `background` | [`BackgroundServer`] |

#![warn(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod accept;
mod admission;
mod api;
mod background;
mod cluster;
mod config;
mod demo;
mod message;
mod metrics;
mod pool;
mod rooms;
mod router;
mod server;
mod sessions;
mod sources;
mod state;
mod streams;
mod transport;

pub use background::BackgroundServer;
pub use cluster::ClusterError;
pub use config::{ServeOptions, ServerConfig};
pub use server::{Server, ServerError};
