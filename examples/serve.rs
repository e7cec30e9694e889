//! The example server: pose estimation over WebSocket at `ws://HOST:PORT/ws`, plus
//! `GET /health` and `GET /streams`.
//!
//! ```text
//! cargo run --release --example serve -- --models ../shared/models
//! cargo run --release --example serve -- --port 9000 --model full --hands --workers 2
//! ```
//!
//! Stops on Ctrl-C, closing every stream.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use livepose::core::wire::control::ModelKind;
use livepose::ws::{Server, ServerConfig};

#[derive(Clone, Copy, ValueEnum)]
enum Model {
    Lite,
    Full,
}

/// Pose estimation over WebSocket.
#[derive(Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "LIVEPOSE_HOST", default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// Port.
    #[arg(long, env = "LIVEPOSE_PORT", default_value_t = 8765)]
    port: u16,
    /// Models directory (pose_detection.onnx, pose_landmark_{lite,full}.onnx, hand models).
    #[arg(long, env = "LIVEPOSE_MODELS", default_value = "models")]
    models: PathBuf,
    /// Default landmark model (clients may ask for the other).
    #[arg(long, value_enum, default_value = "lite")]
    model: Model,
    /// Load the hand models.
    #[arg(long)]
    hands: bool,
    /// Inference worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let mut config = ServerConfig::default()
        .addr(SocketAddr::new(args.host, args.port))
        .models_dir(&args.models)
        .model(match args.model {
            Model::Lite => ModelKind::Lite,
            Model::Full => ModelKind::Full,
        })
        .hands(args.hands);
    if let Some(n) = args.workers {
        config = config.workers(n);
    }
    let server = match Server::start(config).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("serve: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "livepose: ws://{}/ws (health: /health, streams: /streams)",
        server.local_addr()
    );
    let _ = tokio::signal::ctrl_c().await;
    println!("shutting down");
    server.shutdown().await;
}
