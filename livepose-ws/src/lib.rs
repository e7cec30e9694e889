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
//! ```no_run
//! use livepose_ws::{Server, ServerConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::start(ServerConfig::default().models_dir("models")).await?;
//! println!("listening on ws://{}/ws", server.local_addr());
//! # Ok(()) }
//! ```

mod admission;
pub mod background;
pub mod client;
pub mod config;
pub mod demo;
mod http;
mod inbound;
mod metrics;
mod options;
mod out;
mod rate;
mod rooms;
mod scheduler;
pub mod server;
mod session;
mod sockets;
mod state;
mod stream_options;
mod stream_session;
mod viewer_session;

pub use background::BackgroundServer;
pub use config::ServerConfig;
pub use options::ServeOptions;
pub use server::{Server, ServerError};
