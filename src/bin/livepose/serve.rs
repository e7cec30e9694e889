//! `livepose serve`: pose estimation over WebSocket at `ws://HOST:PORT/ws`, the browser demo
//! at `http://HOST:PORT/`, plus `GET /health`, `GET /streams`, `GET /metrics` and
//! `POST /estimate_pose`. Every option is a flag, most also an environment variable. Stops
//! on Ctrl-C, closing every stream.

use std::net::SocketAddr;
use std::path::PathBuf;

use livepose::ws::{Server, ServerConfig};

use crate::options::Model;
use crate::Error;

#[derive(clap::Args)]
pub(crate) struct Args {
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

pub(crate) fn main(args: Args) -> Result<(), Error> {
    tokio::runtime::Runtime::new()?.block_on(serve(args))
}

async fn serve(args: Args) -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut config = ServerConfig::default()
        .addr(SocketAddr::new(args.host, args.port))
        .model(args.model.into())
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
    let server = Server::start(config).await?;
    let addr = server.local_addr();
    println!("livepose: ws://{addr}/ws (health: /health, streams: /streams)");
    if !args.no_demo {
        println!("demo: http://{addr}/");
    }
    let _ = tokio::signal::ctrl_c().await;
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}
