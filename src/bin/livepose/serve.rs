//! `livepose serve`: pose estimation over WebSocket at `ws://HOST:PORT/ws`, the browser demo
//! at `http://HOST:PORT/`, plus `GET /health`, `GET /streams`, `GET /metrics` and
//! `POST /estimate_pose`. Every option is a flag (`ServeArgs`: the fields of `ServeOptions`,
//! checked before the server starts); `--host`, `--port` and the tokens also read
//! `LIVEPOSE_HOST`, `LIVEPOSE_PORT`, `LIVEPOSE_TOKEN`, `LIVEPOSE_ROOM_TOKEN` and
//! `LIVEPOSE_VIEW_TOKEN`. Stops on Ctrl-C, closing every stream.

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
    interrupted.await;
    println!("shutting down");
    server.shutdown().await;
    Ok(())
}

/// Completes on Ctrl-C (SIGINT); the handler is installed when this returns.
#[cfg(unix)]
fn interrupt() -> std::io::Result<impl std::future::Future<Output = ()>> {
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        signal.recv().await;
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn interrupt() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
