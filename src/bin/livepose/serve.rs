//! `livepose serve`: pose estimation over WebSocket at `ws://HOST:PORT/ws`, the browser demo
//! at `http://HOST:PORT/`, plus `GET /health`, `GET /streams`, `GET /metrics` and
//! `POST /estimate_pose`. Every option is a flag (`ServeArgs`: the fields of `ServeOptions`,
//! checked before the server starts); `--host`, `--port` and the tokens also read
//! `LIVEPOSE_HOST`, `LIVEPOSE_PORT`, `LIVEPOSE_TOKEN`, `LIVEPOSE_ROOM_TOKEN` and
//! `LIVEPOSE_VIEW_TOKEN`. Stops on Ctrl-C or SIGTERM, gracefully: `/ready` turns false,
//! every stream and room viewer is closed with code 1012 (reconnect), and in a cluster the
//! node's camera claims are released.

use livepose::ws::Server;

use crate::options::ServeArgs;
use crate::Error;

#[derive(clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    server: ServeArgs,
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
    // Listen for Ctrl-C before saying where the server is: a SIGINT that follows the
    // address at once must stop it cleanly, not kill the process (tokio's `ctrl_c` only
    // installs its handler when first polled).
    let interrupted = interrupt()?;
    let options = args.server.options()?;
    let (demo, socketio) = (options.demo, options.socketio);
    let cluster = options.nats.clone();
    let config = options.config()?;
    let server = Server::start(config).await?;
    let addr = server.local_addr();
    println!("livepose: ws://{addr}/ws (health: /health, streams: /streams)");
    if socketio {
        println!("socket.io: http://{addr}/socket.io/");
    }
    if demo {
        println!("demo: http://{addr}/");
    }
    if let Some(nats) = cluster {
        println!("cluster: {nats} (views: /streams?scope=cluster, /rooms?scope=cluster)");
    }
    interrupted.await;
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM; the handlers are installed when this returns.
#[cfg(unix)]
fn interrupt() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn interrupt() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
