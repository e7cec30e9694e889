//! A pose-estimation server in a few lines: `livepose::ws::Server` with the lite model on
//! `ws://127.0.0.1:8765/ws` (and the browser demo at `/`), until Ctrl-C. The `livepose
//! serve` command is this with a flag for every option.
//!
//! ```text
//! livepose models fetch          # once: MediaPipe's models into ~/.cache/livepose/models
//! cargo run --release --example serve
//! ```

use livepose::core::wire::control::ModelKind;
use livepose::ws::{Server, ServerConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = ServerConfig::default()
        .addr(([127, 0, 0, 1], 8765).into())
        .model(ModelKind::Lite)
        .max_fps(30);
    let server = Server::start(config).await?;
    println!("listening on ws://{}/ws", server.local_addr());
    tokio::signal::ctrl_c().await?;
    server.shutdown().await;
    Ok(())
}
