//! A server on a thread of its own, for callers without an async runtime (the Python and
//! Node packages, blocking programs): [`BackgroundServer::start`] returns once the server
//! listens, [`BackgroundServer::stop`] closes every stream and waits for the thread.
//!
//! ```no_run
//! use livepose_ws::{BackgroundServer, ServerConfig};
//!
//! let mut server = BackgroundServer::start(ServerConfig::default().models_dir("models"))?;
//! println!("listening on ws://{}/ws", server.local_addr());
//! server.stop();
//! # Ok::<(), livepose_ws::ServerError>(())
//! ```

use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::{Server, ServerConfig, ServerError};

/// Worker threads of the background server's async runtime (sockets only: inference runs
/// on the server's own worker pool).
const RUNTIME_THREADS: usize = 2;

/// A [`Server`] running on its own thread and tokio runtime.
#[derive(Debug)]
pub struct BackgroundServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl BackgroundServer {
    /// Starts the server and blocks until it listens, or returns why it could not start.
    pub fn start(config: ServerConfig) -> Result<Self, ServerError> {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("livepose-server".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(RUNTIME_THREADS)
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(ServerError::Runtime(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Server::start(config).await {
                        Ok(server) => {
                            let _ = ready_tx.send(Ok(server.local_addr()));
                            let _ = stop_rx.await;
                            server.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(ServerError::Runtime)?;
        let addr = ready_rx.recv().map_err(|_| {
            ServerError::Runtime(std::io::Error::other(
                "the server thread ended before it listened",
            ))
        })??;
        Ok(BackgroundServer {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// The address the server listens on (the real port when started with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether [`stop`](Self::stop) has not been called.
    pub fn is_running(&self) -> bool {
        self.stop.is_some()
    }

    /// Closes every stream (close frames to clients), drains the workers and waits for the
    /// server's thread to end. Calling it again does nothing.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_listens_and_stops() {
        let config = ServerConfig::default()
            .addr("127.0.0.1:0".parse().unwrap())
            .workers(1)
            .inference(false);
        let mut server = BackgroundServer::start(config).unwrap();
        let addr = server.local_addr();
        assert_ne!(addr.port(), 0);
        assert!(std::net::TcpStream::connect(addr).is_ok());
        server.stop();
        assert!(!server.is_running());
        assert!(std::net::TcpStream::connect(addr).is_err());
        server.stop();
    }

    #[test]
    fn a_taken_port_is_an_error() {
        let config = ServerConfig::default()
            .addr("127.0.0.1:0".parse().unwrap())
            .workers(1)
            .inference(false);
        let first = BackgroundServer::start(config.clone()).unwrap();
        let taken = config.addr(first.local_addr());
        assert!(matches!(
            BackgroundServer::start(taken),
            Err(ServerError::Bind { .. })
        ));
    }
}
