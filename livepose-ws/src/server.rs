//! The server: [`Server`] loads the models, binds, starts the workers, joins the cluster,
//! starts the configured sources, serves the router (`router`) through the accept loop
//! (`accept`) and shuts down gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::accept;
use crate::cluster::{self, Cluster};
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::pool::WorkerPool;
use crate::rooms::RoomName;
use crate::router::router;
use crate::sources::SourceSpec;
use crate::state::AppState;
use crate::transport::source;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Binding the listening socket failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Cluster mode could not start (a NATS URL that does not parse).
    #[error(transparent)]
    Cluster(#[from] cluster::ClusterError),
    /// The models could not be loaded.
    #[error(transparent)]
    Models(#[from] livepose_core::inference::PipelineError),
    /// The worker threads could not be started.
    #[error("cannot start the inference workers: {0}")]
    Workers(std::io::Error),
    /// A configured source could not be started (no room token, a bad URL, no ffmpeg).
    #[error("cannot start source {room:?}: {why}")]
    Source {
        /// The room.
        room: String,
        /// Why.
        why: String,
    },
    /// The thread or async runtime of a [`BackgroundServer`](crate::BackgroundServer) could
    /// not be started.
    #[error("cannot start the server's runtime: {0}")]
    Runtime(std::io::Error),
}

/// How often a running server gives free heap memory back to the OS: glibc keeps what
/// frames and results freed in per-thread heaps, about as much again as the server uses
/// under load, and returns it only when asked.
const TRIM_INTERVAL: Duration = Duration::from_secs(5);

/// A running server.
pub struct Server {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
    trimmer: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.trimmer.abort();
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// Loads the models once (to fail early on a bad models directory), binds `config.addr`
    /// and serves in the background on the current tokio runtime.
    pub async fn start(config: ServerConfig) -> Result<Server, ServerError> {
        let builder = config.pipeline_builder();
        // Fail now, not on the first frame, if the models are missing.
        if config.inference {
            builder.build_engine()?;
        }
        let bind_error = |source| ServerError::Bind {
            addr: config.addr,
            source,
        };
        let listener = TcpListener::bind(config.addr).await.map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        let metrics = Arc::new(Metrics::default());
        let pool = WorkerPool::start(config.workers, builder, config.inference, metrics.clone())
            .map_err(ServerError::Workers)?;
        let cluster = match &config.nats {
            Some(url) => {
                let node_id = config
                    .node_id
                    .clone()
                    .unwrap_or_else(cluster::default_node_id);
                Some(Cluster::connect(url, node_id).await?)
            }
            None => None,
        };
        let state = Arc::new(AppState::new(config, pool, metrics, cluster));
        if let Some(cluster) = &state.cluster {
            let weak = Arc::downgrade(&state);
            cluster.serve_views(move |path| match weak.upgrade() {
                Some(state) => crate::api::local_view(&state, path),
                None => serde_json::Value::Null,
            });
        }
        start_sources(&state).await?;
        let app = router(&state);
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(accept::serve(listener, app, state.clone(), rx));
        let trimmer = tokio::spawn(async {
            let mut ticks = tokio::time::interval(TRIM_INTERVAL);
            loop {
                ticks.tick().await;
                let trim = livepose_core::inference::release_free_memory;
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        });
        tracing::info!("livepose-ws listening on {addr}");
        Ok(Server {
            addr,
            state,
            shutdown: tx,
            task,
            trimmer,
        })
    }

    /// The OpenMetrics text of `GET /metrics`.
    pub fn metrics_text(&self) -> String {
        self.state.metrics.render()
    }

    /// The address it listens on (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Frames inferred so far, all streams.
    pub fn inferences(&self) -> u64 {
        self.state.metrics.inferences.get()
    }

    /// Streams connected now.
    pub fn stream_count(&self) -> usize {
        self.state.streams.len()
    }

    /// Shuts down gracefully: `/ready` turns false, sources stop (their ffmpeg ends before
    /// this returns), every stream and room viewer is closed with close code 1012 (service
    /// restart: reconnect), the node leaves its cluster (its camera claims released), the
    /// closed sockets are given up to [`CLOSE_GRACE`] to finish (so their close frames are
    /// sent before the process exits), and the server stops accepting; waits for the
    /// server task.
    pub async fn shutdown(mut self) {
        self.state.drain();
        self.state.sources.stop_all().await;
        self.state.streams.close_all();
        self.state.rooms.close_all();
        if let Some(cluster) = &self.state.cluster {
            cluster.shutdown().await;
        }
        until_disconnected(&self.state.metrics, CLOSE_GRACE).await;
        self.trimmer.abort();
        self.shutdown.send_replace(true);
        let _ = (&mut self.task).await;
    }
}

/// How long [`Server::shutdown`] waits for the sockets it closed to finish.
const CLOSE_GRACE: Duration = Duration::from_secs(3);

/// Waits until no connection is open, or `within` has passed. Upgraded sockets are not
/// tracked by the HTTP server's graceful shutdown: without this wait a process that exits
/// right after shutdown could drop a stream before its close frame (1012) was written.
async fn until_disconnected(metrics: &Metrics, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    while metrics.connections.get() > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Starts the configured sources (`--source ROOM=URL`), all or none: each is checked
/// before the first starts.
async fn start_sources(state: &Arc<AppState>) -> Result<(), ServerError> {
    let config = &state.config;
    let mut specs = Vec::new();
    for (room, url) in &config.sources {
        let error = |why: String| ServerError::Source {
            room: room.clone(),
            why,
        };
        if config.room_token.is_none() {
            return Err(error("sources need rooms: set a room token".into()));
        }
        let name = RoomName::parse(room).map_err(|e| error(e.to_string()))?;
        if specs.iter().any(|(r, _)| r == &name) {
            return Err(error("a room has one source at most".into()));
        }
        let unwatched = config.source_stop_when_unwatched;
        let mut spec = SourceSpec::parse(url, unwatched).map_err(|e| error(e.to_string()))?;
        spec.tls = config.source_tls.clone();
        specs.push((name, spec));
    }
    for (room, spec) in specs {
        if let Err(e) = source::start(state, &room, spec) {
            state.sources.stop_all().await;
            return Err(ServerError::Source {
                room: room.to_string(),
                why: e.to_string(),
            });
        }
    }
    Ok(())
}
