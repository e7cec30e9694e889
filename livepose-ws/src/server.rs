//! The HTTP and WebSocket server: `GET /ws` (one pose stream per socket), `GET /health`,
//! `GET /streams`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use livepose_core::clock::MonotonicClock;
use livepose_core::inference::PipelineBuilder;
use livepose_core::wire::compat;
use livepose_core::wire::control::{
    AnnouncedLimits, ClientMessage, ResultFormat, ServerMessage, StreamOptions, Welcome,
};
use livepose_core::wire::{FrameView, ImageFormat, Limits};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::ServerConfig;
use crate::scheduler::{error_json, InFrame, OutMessage, StreamCore, StreamSettings, WorkerPool};

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
    /// The models could not be loaded.
    #[error(transparent)]
    Models(#[from] livepose_core::inference::PipelineError),
}

struct AppState {
    config: ServerConfig,
    pool: WorkerPool,
    streams: Mutex<HashMap<String, Arc<StreamCore>>>,
    next_id: AtomicU64,
    clock: MonotonicClock,
}

/// A running server.
pub struct Server {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
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
        builder.build_engine()?;
        let listener =
            TcpListener::bind(config.addr)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.addr,
                    source,
                })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
        let state = Arc::new(AppState {
            pool: WorkerPool::start(config.workers, builder),
            config,
            streams: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            clock: MonotonicClock::system(),
        });
        let app = Router::new()
            .route("/ws", get(ws_upgrade))
            .route("/health", get(health))
            .route("/streams", get(streams))
            .with_state(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("server stopped: {e}");
            }
        });
        tracing::info!("livepose-ws listening on {addr}");
        Ok(Server {
            addr,
            state,
            shutdown: Some(tx),
            task,
        })
    }

    /// The address it listens on (the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Frames inferred so far, all streams.
    pub fn inferences(&self) -> u64 {
        self.state.pool.inferences.load(Ordering::SeqCst)
    }

    /// Streams connected now.
    pub fn stream_count(&self) -> usize {
        self.state
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Closes every stream and stops accepting; waits for the server task.
    pub async fn shutdown(mut self) {
        for stream in self
            .state
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            stream.close();
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

async fn streams(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    let streams = state.streams.lock().unwrap_or_else(|e| e.into_inner());
    let list: Vec<_> = streams
        .values()
        .map(|s| {
            serde_json::json!({
                "id": s.id,
                "frames_received": s.frames_received(),
                "frames_dropped": s.frames_dropped(),
                "frames_processed": s.processed.load(Ordering::SeqCst),
            })
        })
        .collect();
    Json(serde_json::json!({ "streams": list }))
}

async fn ws_upgrade(State(state): State<Arc<AppState>>, ws: WebSocketUpgrade) -> Response {
    let max = state.config.max_message_bytes;
    ws.max_message_size(max)
        .on_upgrade(move |socket| stream_session(state, socket))
        .into_response()
}

/// What a connection remembers between messages.
struct Session {
    stream: Arc<StreamCore>,
    options: StreamOptions,
    said_hello: bool,
    image: Vec<u8>,
}

async fn stream_session(state: Arc<AppState>, socket: WebSocket) {
    let id = format!("s{}", state.next_id.fetch_add(1, Ordering::SeqCst));
    let builder = state.config.pipeline_builder();
    let settings = StreamSettings {
        model: state.config.model,
        results: ResultFormat::Binary,
    };
    let stream = StreamCore::new(id.clone(), builder.tracker(), settings);
    state
        .streams
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), stream.clone());
    tracing::debug!(stream = %id, "connected");
    let (mut sink, mut source) = socket.split();
    let writer = {
        let stream = stream.clone();
        tokio::spawn(async move {
            while let Some(out) = stream.outbound.wait().await {
                let message = match out {
                    OutMessage::Binary(bytes) => Message::Binary(bytes.into()),
                    OutMessage::Text(text) => Message::Text(text.into()),
                };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        })
    };
    let mut session = Session {
        stream: stream.clone(),
        options: StreamOptions::default(),
        said_hello: false,
        image: Vec::new(),
    };
    while let Some(Ok(message)) = source.next().await {
        match message {
            Message::Binary(bytes) => on_binary(&state, &mut session, &bytes),
            Message::Text(text) => on_text(&state, &mut session, text.as_str()),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => {}
        }
    }
    // Disconnected: no further inference for this stream.
    stream.close();
    state
        .streams
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&id);
    let _ = writer.await;
    tracing::debug!(stream = %id, "closed");
}

fn on_binary(state: &AppState, session: &mut Session, bytes: &[u8]) {
    let limits = Limits {
        max_message_bytes: state.config.max_message_bytes,
    };
    match FrameView::parse_with(bytes, &limits) {
        Ok(view) => match view.header.format {
            ImageFormat::Encoded(_) => {
                let frame = InFrame {
                    image: view.payload.to_vec(),
                    sequence: view.header.sequence,
                    capture_ts_us: view.header.capture_ts_us,
                    received_us: state.clock.now_wall_us(),
                };
                state.pool.submit(&session.stream, frame);
            }
            ImageFormat::Raw { .. } => session.stream.send_text(error_json(
                "unsupported_format",
                "raw RGB frames are not accepted by this server yet; send JPEG, PNG or WebP",
                view.header.sequence,
            )),
        },
        Err(e) => session
            .stream
            .send_text(error_json(e.code(), &e.to_string(), 0)),
    }
}

fn on_text(state: &AppState, session: &mut Session, text: &str) {
    if let Ok(message) = ClientMessage::from_json(text) {
        let options = match message {
            ClientMessage::Hello(hello) => {
                session.said_hello = true;
                hello.options
            }
            ClientMessage::Config(options) => options,
        };
        apply_options(state, session, options);
        return;
    }
    // Not a control message: a frame in the JSON+base64 format of existing clients, who get
    // JSON results unless they said otherwise in a hello.
    match compat::decode_frame(text, &mut session.image) {
        Ok(meta) => {
            if !session.said_hello && session.options.results.is_none() {
                apply_options(
                    state,
                    session,
                    StreamOptions {
                        results: Some(ResultFormat::Json),
                        ..StreamOptions::default()
                    },
                );
                session.said_hello = true;
            }
            let frame = InFrame {
                image: std::mem::take(&mut session.image),
                sequence: meta.sequence.unwrap_or(0),
                capture_ts_us: meta.timestamp.map_or(0, |t| (t * 1000.0) as i64),
                received_us: state.clock.now_wall_us(),
            };
            state.pool.submit(&session.stream, frame);
        }
        Err(e) => session
            .stream
            .send_text(error_json(e.code(), &e.to_string(), 0)),
    }
}

/// Merges `update` into the session's options, rebuilds the tracker if tracking options
/// changed, and answers with a `welcome` carrying the options in force.
fn apply_options(state: &AppState, session: &mut Session, update: StreamOptions) {
    let o = &mut session.options;
    let tracking_changed = update.mode.is_some_and(|m| Some(m) != o.mode)
        || update.smoothing.is_some_and(|m| Some(m) != o.smoothing)
        || update.hands.is_some_and(|m| Some(m) != o.hands);
    o.results = update.results.or(o.results);
    o.model = update.model.or(o.model);
    o.hands = update.hands.or(o.hands);
    o.smoothing = update.smoothing.or(o.smoothing);
    o.mode = update.mode.or(o.mode);
    o.max_result_fps = update.max_result_fps.or(o.max_result_fps);
    let model = o.model.unwrap_or(state.config.model);
    session.stream.set_settings(StreamSettings {
        model,
        results: o.results.unwrap_or_default(),
    });
    if tracking_changed {
        let mut builder: PipelineBuilder = state.config.pipeline_builder();
        if let Some(mode) = o.mode {
            builder = builder.mode(mode);
        }
        if let Some(smoothing) = o.smoothing {
            builder = builder.smoothing(smoothing);
        }
        let mut options = builder.tracker_options();
        options.hands = o.hands.unwrap_or(options.hands) && state.config.hands;
        session
            .stream
            .set_tracker(livepose_core::inference::Tracker::new(options));
    }
    let welcome = ServerMessage::Welcome(Welcome {
        protocol: livepose_core::wire::VERSION,
        server: format!("livepose-ws {}", env!("CARGO_PKG_VERSION")),
        stream_id: session.stream.id.clone(),
        options: StreamOptions {
            model: Some(model),
            results: Some(o.results.unwrap_or_default()),
            ..o.clone()
        },
        limits: AnnouncedLimits {
            max_message_bytes: state.config.max_message_bytes as u64,
            max_pixels: state.config.max_pixels,
            max_fps: 0,
        },
    });
    session.stream.send_text(welcome.to_json());
}
