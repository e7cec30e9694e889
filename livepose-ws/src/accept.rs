//! The accept loop. Each TCP connection takes a pending place of its address's from accept
//! ([`Pending`]: refused, closed at once, when too many of the address's connections are
//! waiting for their request already; once its first bytes arrive it counts against the
//! address's streams too), gets TCP_NODELAY, and is served by hyper (HTTP/1.1, upgrades
//! for WebSocket) with a header read timeout; its pending place is given back when its
//! first request arrives, and a connection whose first request has not arrived within the
//! header timeout is closed. At shutdown it stops accepting and lets the connections finish
//! the requests in flight (upgraded sockets are closed by the server's shutdown, not here).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::admission::Pending;
use crate::state::AppState;

/// Longest the requests in flight at shutdown are waited for.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Serves `app` on `listener` until `shutdown` turns true.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout);
    let mut connections = JoinSet::new();
    loop {
        // Reap the connections that ended.
        while connections.try_join_next().is_some() {}
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped(&mut shutdown) => break,
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait a little rather than spin.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Some(pending) = Pending::take(&state, peer.ip()) else {
            tracing::debug!(%peer, "refused at accept: its address has too many requests pending");
            state.metrics.rejected_total.inc();
            continue;
        };
        // Results and control messages are small: without TCP_NODELAY, Nagle's algorithm
        // holds each one until the client's delayed ACK of the previous (up to 40 ms).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!("TCP_NODELAY not set: {e}");
        }
        let connection = Connection {
            http: http.clone(),
            app: app.clone(),
            peer,
            pending,
            first_request_within: state.config.header_timeout,
        };
        connections.spawn(connection.serve(tcp, shutdown.clone()));
    }
    // Stopped accepting: the requests in flight finish (bounded).
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(DRAIN_GRACE, drained).await.is_err() {
        tracing::debug!("connections still busy at shutdown: closed");
        connections.abort_all();
    }
}

/// One accepted connection, until it is served.
struct Connection {
    http: http1::Builder,
    app: Router,
    peer: SocketAddr,
    pending: Pending,
    first_request_within: Duration,
}

impl Connection {
    async fn serve(self, tcp: TcpStream, mut shutdown: watch::Receiver<bool>) {
        let Connection {
            http,
            app,
            peer,
            pending,
            first_request_within,
        } = self;
        let pending = Arc::new(Mutex::new(Some(pending)));
        let service = {
            let pending = pending.clone();
            hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
                // A request arrived: the connection's pending place is given back (an
                // admitted stream takes a place of its own).
                pending.lock().take();
                request.extensions_mut().insert(ConnectInfo(peer));
                app.clone().oneshot(request.map(axum::body::Body::new))
            })
        };
        let io = FirstBytes {
            tcp,
            pending: Some(pending.clone()),
        };
        let conn = http
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades();
        tokio::pin!(conn);
        // Its first request, within the header timeout (hyper's timeout starts only with
        // the first byte; a connection that sends nothing is closed too).
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = tokio::time::sleep(first_request_within) => {}
            _ = stopped(&mut shutdown) => {}
        }
        if pending.lock().is_some() {
            tracing::debug!(%peer, "no request within the header timeout: closed");
            return;
        }
        tokio::select! {
            _ = conn.as_mut() => {}
            _ = stopped(&mut shutdown) => {
                conn.as_mut().graceful_shutdown();
                let _ = conn.await;
            }
        }
    }
}

/// Resolves once the server is shutting down.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` gives is not `Send`: dropped here.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// The connection's socket, telling its pending place when the first bytes arrive.
struct FirstBytes {
    tcp: TcpStream,
    /// Until the first bytes are read.
    pending: Option<Arc<Mutex<Option<Pending>>>>,
}

impl AsyncRead for FirstBytes {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.tcp).poll_read(cx, buf);
        if buf.filled().len() > before {
            if let Some(pending) = self.pending.take() {
                if let Some(pending) = pending.lock().as_mut() {
                    pending.started();
                }
            }
        }
        read
    }
}

impl AsyncWrite for FirstBytes {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}
