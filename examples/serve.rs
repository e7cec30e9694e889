//! The example server: pose estimation over WebSocket at `ws://HOST:PORT/ws`, the browser
//! demo at `http://HOST:PORT/`, plus `GET /health`, `GET /streams`, `GET /metrics` and
//! `POST /estimate_pose`. Every option is a flag, most also an environment variable.
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
    /// Models folder (pose_detection, pose_landmark_{lite,full}, hand models; .onnx, .tflite
    /// or .task); default: LIVEPOSE_MODELS, else ~/.cache/livepose/models.
    #[arg(long)]
    models: Option<PathBuf>,
    /// Default landmark model (clients may ask for the other).
    #[arg(long, value_enum, default_value = "lite")]
    model: Model,
    /// Load the hand models.
    #[arg(long)]
    hands: bool,
    /// Inference worker threads (default: one per core).
    #[arg(long)]
    workers: Option<usize>,
    /// Require this bearer token (`Authorization: Bearer …` or `?token=…`).
    #[arg(long, env = "LIVEPOSE_TOKEN")]
    token: Option<String>,
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
    #[arg(long, default_value_t = 256)]
    max_connections: usize,
    /// Most open streams per IP address.
    #[arg(long, default_value_t = 32)]
    max_connections_per_ip: usize,
    /// Most frames per second per connection.
    #[arg(long, default_value_t = 60)]
    max_fps: u32,
    /// Largest message in bytes.
    #[arg(long, default_value_t = 16 << 20)]
    max_message_bytes: usize,
    /// Seconds between pings (a connection that answers none of two is closed).
    #[arg(long, default_value_t = 10.0)]
    heartbeat_secs: f64,
    /// Do not serve the browser demo at `/`.
    #[arg(long)]
    no_demo: bool,
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
        .model(match args.model {
            Model::Lite => ModelKind::Lite,
            Model::Full => ModelKind::Full,
        })
        .hands(args.hands)
        .allowed_origins(args.allowed_origins)
        .max_connections(args.max_connections, args.max_connections_per_ip)
        .max_fps(args.max_fps)
        .max_message_bytes(args.max_message_bytes)
        .demo(!args.no_demo)
        .heartbeat(std::time::Duration::from_secs_f64(
            args.heartbeat_secs.max(0.01),
        ));
    if let Some(dir) = &args.models {
        config = config.models_dir(dir);
    }
    if let Some(token) = args.token {
        config = config.token(token);
    }
    if let Some(publish) = args.room_token {
        config = config.rooms(publish, args.view_token);
    }
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
    let addr = server.local_addr();
    println!("livepose: ws://{addr}/ws (health: /health, streams: /streams)");
    if !args.no_demo {
        println!("demo: http://{addr}/");
    }
    let _ = tokio::signal::ctrl_c().await;
    println!("shutting down");
    server.shutdown().await;
}
