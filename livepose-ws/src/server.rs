//! The HTTP and WebSocket server: `GET /ws` (one pose stream per socket), `GET /health`,
//! `GET /streams`, `GET /metrics`, `POST /estimate_pose`, and the browser demo at `/`.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use livepose_core::clock::MonotonicClock;
use livepose_core::image::PixelLayout;
use livepose_core::inference::PipelineBuilder;
use livepose_core::wire::compat;
use livepose_core::wire::control::{
    AnnouncedLimits, ClientMessage, RateHint, ResultFormat, ServerMessage, Stats, StreamOptions,
    Welcome,
};
use livepose_core::wire::{FrameView, ImageFormat, Limits};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::rooms::{Room, Rooms, Viewer};
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
    /// The worker threads could not be started.
    #[error("cannot start the inference workers: {0}")]
    Workers(std::io::Error),
    /// The thread or async runtime of a [`BackgroundServer`](crate::BackgroundServer) could
    /// not be started.
    #[error("cannot start the server's runtime: {0}")]
    Runtime(std::io::Error),
}

struct AppState {
    config: ServerConfig,
    pool: WorkerPool,
    metrics: Arc<Metrics>,
    streams: Mutex<HashMap<String, Arc<StreamCore>>>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    rooms: Rooms,
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
        if config.inference {
            builder.build_engine()?;
        }
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
        let metrics = Arc::new(Metrics::default());
        let state = Arc::new(AppState {
            pool: WorkerPool::start(config.workers, builder, config.inference, metrics.clone())
                .map_err(ServerError::Workers)?,
            metrics,
            config,
            streams: Mutex::new(HashMap::new()),
            per_ip: Mutex::new(HashMap::new()),
            rooms: Rooms::default(),
            next_id: AtomicU64::new(1),
            clock: MonotonicClock::system(),
        });
        let mut app = Router::new();
        if state.config.demo {
            app = crate::demo::routes(app);
        }
        let guarded = Router::new()
            .route("/streams", get(streams))
            .route("/metrics", get(metrics_text))
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                require_token,
            ));
        let app = app
            .route("/ws", get(ws_upgrade))
            .route("/ws/rooms/{room}/camera", get(camera_upgrade))
            .route("/ws/rooms/{room}/view", get(view_upgrade))
            .merge(guarded)
            .route("/health", get(health))
            // One image per request, as large as a socket message may be.
            .route(
                "/estimate_pose",
                post(estimate_pose).layer(axum::extract::DefaultBodyLimit::max(
                    state.config.max_message_bytes,
                )),
            )
            .with_state(state.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            // Results and control messages are small: without TCP_NODELAY, Nagle's algorithm
            // holds each one until the client's delayed ACK of the previous (up to 40 ms).
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::warn!("TCP_NODELAY not set: {e}");
                }
            });
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

    /// The server's counters.
    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
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

/// Before `/streams` and `/metrics`, which show what runs: the server's token when it has
/// one (a Prometheus scraper sends it as a bearer token).
async fn require_token(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match token_refusal(&state, request.headers(), &query) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
}

/// `/streams`: the open streams and their counts.
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

/// `/metrics`: the Prometheus text.
async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    // Open streams' counts plus closed streams' totals, read under the lock a closing
    // stream moves its counts with: every `_total` only goes up.
    let (count, received, dropped) = {
        let streams = state.streams.lock().unwrap_or_else(|e| e.into_inner());
        let m = &state.metrics;
        (
            streams.len(),
            streams.values().map(|s| s.frames_received()).sum::<u64>()
                + m.closed_received.load(Ordering::Relaxed),
            streams.values().map(|s| s.frames_dropped()).sum::<u64>()
                + m.closed_dropped.load(Ordering::Relaxed),
        )
    };
    let text = state.metrics.render(
        count,
        received,
        dropped,
        state.pool.inferences.load(Ordering::SeqCst),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// The refusal of a request that lacks the configured token, naming what is missing.
fn token_refusal(
    state: &AppState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Option<Response> {
    let token = state.config.token.as_ref()?;
    if has_token(token, headers, query) {
        return None;
    }
    Some(refuse(
        state,
        StatusCode::UNAUTHORIZED,
        "a token is required: send `Authorization: Bearer <token>` or `?token=<token>`".into(),
    ))
}

fn refuse(state: &AppState, status: StatusCode, why: String) -> Response {
    state.metrics.rejected_total.fetch_add(1, Ordering::Relaxed);
    (status, why).into_response()
}

/// Whether `headers`/`query` carry `token` (bearer header or `?token=`).
fn has_token(token: &str, headers: &HeaderMap, query: &HashMap<String, String>) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    bearer == Some(token) || query.get("token").map(String::as_str) == Some(token)
}

/// Checks the origin and the connection limits and counts the connection: the count is held
/// by the returned [`Admission`] and released when it drops, on every path (a finished
/// session, or an upgrade that never completes and drops its callback).
fn admit(
    state: &Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Admission, Box<Response>> {
    if !state.config.allowed_origins.is_empty() {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if !origin.is_some_and(|o| state.config.allowed_origins.iter().any(|a| a == o)) {
            return Err(Box::new(refuse(
                state,
                StatusCode::FORBIDDEN,
                format!("origin {origin:?} is not allowed"),
            )));
        }
    }
    let open = state
        .streams
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .len();
    if open >= state.config.max_connections {
        return Err(Box::new(refuse(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the server is full ({open} streams)"),
        )));
    }
    let mut per_ip = state.per_ip.lock().unwrap_or_else(|e| e.into_inner());
    let count = per_ip.entry(peer.ip()).or_insert(0);
    if *count >= state.config.max_connections_per_ip {
        let n = *count;
        drop(per_ip);
        return Err(Box::new(refuse(
            state,
            StatusCode::TOO_MANY_REQUESTS,
            format!("{n} streams are open from {} already", peer.ip()),
        )));
    }
    *count += 1;
    state
        .metrics
        .connections_total
        .fetch_add(1, Ordering::Relaxed);
    Ok(Admission {
        state: state.clone(),
        ip: peer.ip(),
    })
}

/// One admitted connection's place in the per-IP count; dropping it gives the place back.
struct Admission {
    state: Arc<AppState>,
    ip: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut per_ip = self.state.per_ip.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// What a socket is for.
enum Role {
    /// A pose stream of its own.
    Stream,
    /// A room's camera.
    Camera(String),
    /// A room's viewer; `true`: also the camera's frames.
    Viewer(String, bool),
}

async fn upgrade(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
    role: Role,
) -> Response {
    let admission = match admit(&state, peer, &headers) {
        Ok(admission) => admission,
        Err(refusal) => return *refusal,
    };
    let max = state.config.max_message_bytes;
    ws.max_message_size(max)
        .on_upgrade(move |socket| async move {
            match role {
                Role::Stream => stream_session(state.clone(), socket, None).await,
                Role::Camera(name) => {
                    if let Some(room) = state.rooms.claim_camera(&name) {
                        stream_session(state.clone(), socket, Some(room.clone())).await;
                        room.release_camera();
                    } else {
                        refuse_socket(socket, "camera_taken", "this room has a camera already")
                            .await;
                    }
                    state.rooms.tidy(&name);
                }
                Role::Viewer(name, frames) => {
                    viewer_session(&state, socket, &name, frames).await;
                    state.rooms.tidy(&name);
                }
            }
            drop(admission);
        })
        .into_response()
}

/// A connected viewer in `livepose_connections`, for as long as it lives.
struct ViewerCount<'a>(&'a Metrics);

impl<'a> ViewerCount<'a> {
    fn new(metrics: &'a Metrics) -> Self {
        metrics.viewers.fetch_add(1, Ordering::Relaxed);
        ViewerCount(metrics)
    }
}

impl Drop for ViewerCount<'_> {
    fn drop(&mut self) {
        self.0.viewers.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Sends a fatal error and closes.
async fn refuse_socket(mut socket: WebSocket, code: &str, message: &str) {
    let text = ServerMessage::Error(livepose_core::wire::control::ErrorReport {
        code: code.to_string(),
        message: message.to_string(),
        sequence: None,
        fatal: true,
    })
    .to_json();
    let _ = socket.send(Message::Text(text.into())).await;
    let _ = socket.close().await;
}

async fn ws_upgrade(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refusal) = token_refusal(&state, &headers, &query) {
        return refusal;
    }
    upgrade(state, peer, headers, ws, Role::Stream).await
}

/// The refusal of a room socket on a server without rooms (no room token configured).
fn rooms_off(state: &AppState) -> Response {
    refuse(
        state,
        StatusCode::FORBIDDEN,
        "rooms are off: the server has no room token configured".into(),
    )
}

async fn camera_upgrade(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(room): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let Some(token) = &state.config.room_token else {
        return rooms_off(&state);
    };
    if !has_token(token, &headers, &query) {
        return refuse(
            &state,
            StatusCode::UNAUTHORIZED,
            "publishing to a room needs the room token (`?token=` or a bearer header)".into(),
        );
    }
    upgrade(state, peer, headers, ws, Role::Camera(room)).await
}

async fn view_upgrade(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(room): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if state.config.room_token.is_none() {
        return rooms_off(&state);
    }
    // The view token when there is one, else the server's token when there is one: a
    // server with a token never shows its rooms to anyone.
    if let Some(token) = state
        .config
        .view_token
        .as_ref()
        .or(state.config.token.as_ref())
    {
        if !has_token(token, &headers, &query) {
            return refuse(
                &state,
                StatusCode::UNAUTHORIZED,
                "viewing this room needs the view token (or the server's token when no view \
                 token is set)"
                    .into(),
            );
        }
    }
    let frames = query.get("frames").is_some_and(|v| v == "1" || v == "true");
    upgrade(state, peer, headers, ws, Role::Viewer(room, frames)).await
}

/// A viewer: the room's results (and frames, if asked) until the socket closes.
async fn viewer_session(state: &AppState, socket: WebSocket, name: &str, frames: bool) {
    let _counted = ViewerCount::new(&state.metrics);
    let viewer = Viewer::new(frames);
    let room = state.rooms.join(name, viewer.clone());
    let (mut sink, mut source) = socket.split();
    let writer = {
        let viewer = viewer.clone();
        tokio::spawn(async move {
            loop {
                let frame = async {
                    match &viewer.frames {
                        Some(frames) => frames.wait().await,
                        None => std::future::pending().await,
                    }
                };
                let message = tokio::select! {
                    out = viewer.results.wait() => match out {
                        Some(OutMessage::Binary(bytes)) => Message::Binary(bytes.into()),
                        Some(OutMessage::Text(text)) => Message::Text(text.into()),
                        None => break,
                    },
                    Some(bytes) = frame => Message::Binary(bytes.into()),
                };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        })
    };
    while let Some(Ok(message)) = source.next().await {
        if matches!(message, Message::Close(_)) {
            break;
        }
    }
    room.leave(&viewer);
    let _ = writer.await;
}

/// One image in, one JSON result out (image mode, the compatibility shape), for clients
/// that cannot hold a socket.
async fn estimate_pose(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(refusal) = token_refusal(&state, &headers, &query) {
        return refusal;
    }
    // Origin and connection limits as for a socket, the place held while the image is
    // processed.
    let _admission = match admit(&state, peer, &headers) {
        Ok(admission) => admission,
        Err(refusal) => return *refusal,
    };
    let builder = state
        .config
        .pipeline_builder()
        .mode(livepose_core::wire::control::RunMode::Image);
    let id = format!("r{}", state.next_id.fetch_add(1, Ordering::SeqCst));
    let stream = StreamCore::new(
        id,
        builder.tracker(),
        StreamSettings {
            model: state.config.model,
            results: ResultFormat::Json,
        },
    );
    let frame = InFrame {
        image: body.to_vec(),
        raw: None,
        sequence: 0,
        capture_ts_us: 0,
        received_us: state.clock.now_wall_us(),
    };
    state.pool.submit(&stream, frame);
    let answer = tokio::time::timeout(Duration::from_secs(30), stream.outbound.wait()).await;
    stream.close();
    match answer {
        Ok(Some(OutMessage::Text(text))) => {
            // A result in the JSON shape, or an `error` control message (§6.2).
            let is_error = matches!(ServerMessage::from_json(&text), Ok(ServerMessage::Error(_)));
            let status = if is_error {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            (status, [(header::CONTENT_TYPE, "application/json")], text).into_response()
        }
        _ => (StatusCode::SERVICE_UNAVAILABLE, "no result within 30 s").into_response(),
    }
}

/// The next control message, or never if there is no receiver.
async fn recv(control: &mut Option<tokio::sync::mpsc::Receiver<String>>) -> Option<String> {
    match control {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Frames in and results out since the last report, for the `stats` and `rate` messages.
struct RateWindow {
    since: Instant,
    received: u64,
    results: u64,
    total_results: u64,
}

impl RateWindow {
    fn new(stream: &StreamCore) -> Self {
        RateWindow {
            since: Instant::now(),
            received: stream.frames_received(),
            results: 0,
            total_results: 0,
        }
    }

    /// The `stats` message, and a `rate` hint when the client sends faster than the server
    /// processes its stream; starts the next window.
    fn report(&mut self, stream: &StreamCore) -> Vec<String> {
        let seconds = self.since.elapsed().as_secs_f64().max(1e-3);
        let received = stream.frames_received();
        let fps_in = (received - self.received) as f64 / seconds;
        let fps_out = self.results as f64 / seconds;
        self.total_results += self.results;
        let (latency_us, timings_us) = stream.result_stats();
        let mut out = vec![ServerMessage::Stats(Stats {
            fps_in,
            fps_out,
            dropped: stream.frames_dropped(),
            frames_rate_limited: stream.rate_limited.load(Ordering::Relaxed),
            results: self.total_results,
            latency_us,
            timings_us,
        })
        .to_json()];
        if fps_in > fps_out * 1.2 && fps_out > 0.0 {
            out.push(
                ServerMessage::Rate(RateHint {
                    processing_fps: fps_out,
                    max_send_fps: fps_out,
                })
                .to_json(),
            );
        }
        self.since = Instant::now();
        self.received = received;
        self.results = 0;
        out
    }
}

/// What a connection remembers between messages.
struct Session {
    stream: Arc<StreamCore>,
    options: StreamOptions,
    said_hello: bool,
    image: Vec<u8>,
    /// Start of the current one-second window and frames admitted in it.
    window: (Instant, u32),
    /// The room whose camera this is: its viewers may get the frames too.
    room: Option<Arc<Room>>,
}

impl Session {
    /// Counts frame `sequence` (0 when not known yet) against the per-connection rate cap;
    /// false if it is over. The first frame refused in a second gets a `rate_limited`
    /// error carrying its sequence (every later frame of that second is refused too), and
    /// `stats` counts every refused frame in `frames_rate_limited`.
    fn admit(&mut self, state: &AppState, sequence: u64) -> bool {
        let now = Instant::now();
        if now.duration_since(self.window.0) >= Duration::from_secs(1) {
            self.window = (now, 0);
        }
        self.window.1 += 1;
        if self.window.1 <= state.config.max_fps {
            return true;
        }
        state
            .metrics
            .rate_limited_total
            .fetch_add(1, Ordering::Relaxed);
        self.stream.rate_limited.fetch_add(1, Ordering::Relaxed);
        if self.window.1 == state.config.max_fps + 1 {
            self.stream.send_text(error_json(
                "rate_limited",
                &format!(
                    "more than {} frames per second: this frame and the next are refused until \
                     the next second (refused frames get no result; `stats` counts them in \
                     frames_rate_limited)",
                    state.config.max_fps
                ),
                sequence,
            ));
        }
        false
    }
}

async fn stream_session(state: Arc<AppState>, socket: WebSocket, room: Option<Arc<Room>>) {
    let id = format!("s{}", state.next_id.fetch_add(1, Ordering::SeqCst));
    let builder = state.config.pipeline_builder();
    let settings = StreamSettings {
        model: state.config.model,
        results: ResultFormat::Binary,
    };
    let stream = StreamCore::new(id.clone(), builder.tracker(), settings);
    if let Some(room) = &room {
        stream.publish_to(room.clone());
    }
    state
        .streams
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), stream.clone());
    tracing::debug!(stream = %id, "connected");
    let (mut sink, mut source) = socket.split();
    let started = Instant::now();
    let millis = move || started.elapsed().as_millis() as u64;
    let last_pong = Arc::new(AtomicU64::new(0));
    let dead = Arc::new(tokio::sync::Notify::new());
    let writer = {
        let (stream, last_pong, dead) = (stream.clone(), last_pong.clone(), dead.clone());
        let interval = state.config.heartbeat;
        let stats_every = state.config.stats_interval;
        let mut control = stream.take_control();
        tokio::spawn(async move {
            let start = tokio::time::Instant::now();
            let mut pings = tokio::time::interval_at(start + interval, interval);
            let mut stats_ticks = tokio::time::interval_at(start + stats_every, stats_every);
            let mut rates = RateWindow::new(&stream);
            let mut next_result = tokio::time::Instant::now();
            loop {
                // With a `max_result_fps`, results wait for their turn; meanwhile a newer
                // one replaces a waiting one (latest wins).
                let ready = tokio::time::Instant::now() >= next_result;
                let message = tokio::select! {
                    _ = tokio::time::sleep_until(next_result), if !ready => continue,
                    out = stream.outbound.wait(), if ready => match out {
                        Some(out) => {
                            rates.results += 1;
                            let gap = stream.min_result_interval_us.load(Ordering::Relaxed);
                            next_result = tokio::time::Instant::now() + Duration::from_micros(gap);
                            match out {
                                OutMessage::Binary(bytes) => Message::Binary(bytes.into()),
                                OutMessage::Text(text) => Message::Text(text.into()),
                            }
                        }
                        None => break,
                    },
                    Some(text) = recv(&mut control) => Message::Text(text.into()),
                    _ = pings.tick() => {
                        let silent = millis().saturating_sub(last_pong.load(Ordering::SeqCst));
                        if silent > 2 * interval.as_millis() as u64 + 50 {
                            tracing::debug!(stream = %stream.id, "no pong: closing");
                            stream.close();
                            dead.notify_one();
                            break;
                        }
                        Message::Ping(Bytes::new())
                    }
                    _ = stats_ticks.tick() => {
                        for text in rates.report(&stream) {
                            stream.send_text(text);
                        }
                        continue;
                    }
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
        window: (Instant::now(), 0),
        room,
    };
    loop {
        let message = tokio::select! {
            message = source.next() => message,
            _ = dead.notified() => break,
        };
        let Some(Ok(message)) = message else { break };
        match message {
            Message::Binary(bytes) => on_binary(&state, &mut session, &bytes),
            Message::Text(text) => on_text(&state, &mut session, text.as_str()),
            Message::Pong(_) => last_pong.store(millis(), Ordering::SeqCst),
            Message::Close(_) => break,
            Message::Ping(_) => {}
        }
    }
    // Disconnected: no further inference for this stream. Its counts move to the closed
    // streams' totals under the same lock /metrics reads them with, so no scrape sees a
    // `_total` go down.
    stream.close();
    {
        let mut streams = state.streams.lock().unwrap_or_else(|e| e.into_inner());
        let m = &state.metrics;
        m.closed_received
            .fetch_add(stream.frames_received(), Ordering::Relaxed);
        m.closed_dropped
            .fetch_add(stream.frames_dropped(), Ordering::Relaxed);
        streams.remove(&id);
    }
    let _ = writer.await;
    tracing::debug!(stream = %id, "closed");
}

fn on_binary(state: &AppState, session: &mut Session, bytes: &[u8]) {
    let limits = Limits {
        max_message_bytes: state.config.max_message_bytes,
    };
    match FrameView::parse_with(bytes, &limits) {
        Ok(view) => {
            if !session.admit(state, view.header.sequence) {
                return;
            }
            if let Some(room) = &session.room {
                room.publish_frame(bytes);
            }
            match view.header.format {
                ImageFormat::Encoded(_) => {
                    let frame = InFrame {
                        image: view.payload.to_vec(),
                        raw: None,
                        sequence: view.header.sequence,
                        capture_ts_us: view.header.capture_ts_us,
                        received_us: state.clock.now_wall_us(),
                    };
                    state.pool.submit(&session.stream, frame);
                }
                ImageFormat::Raw {
                    layout,
                    width,
                    height,
                } => {
                    let pixels = u64::from(width) * u64::from(height);
                    if pixels > state.config.max_pixels {
                        session.stream.send_text(error_json(
                            "image_too_large",
                            &format!(
                                "{width}x{height} is {pixels} pixels, more than the {} allowed",
                                state.config.max_pixels
                            ),
                            view.header.sequence,
                        ));
                        return;
                    }
                    // RGBA arrives from canvases; the pipeline takes RGB.
                    let image = match layout {
                        PixelLayout::Rgb8 => view.payload.to_vec(),
                        PixelLayout::Rgba8 => view
                            .payload
                            .chunks_exact(4)
                            .flat_map(|p| [p[0], p[1], p[2]])
                            .collect(),
                    };
                    let frame = InFrame {
                        image,
                        raw: Some((width, height)),
                        sequence: view.header.sequence,
                        capture_ts_us: view.header.capture_ts_us,
                        received_us: state.clock.now_wall_us(),
                    };
                    state.pool.submit(&session.stream, frame);
                }
            }
        }
        Err(e) => {
            state.metrics.errors.fetch_add(1, Ordering::Relaxed);
            session
                .stream
                .send_text(error_json(e.code(), &e.to_string(), 0))
        }
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
    if let Some(kind) = unknown_control_type(text) {
        session.stream.send_text(error_json(
            "unknown_type",
            &format!(
                "unknown message type {kind:?} (expected \"hello\" or \"config\", or a frame)"
            ),
            0,
        ));
        return;
    }
    // Not a control message: a frame in the JSON+base64 format of existing clients, who get
    // JSON results unless they said otherwise in a hello. Counted against the frame rate
    // like binary frames, whatever other fields it has.
    if !session.admit(state, 0) {
        return;
    }
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
                raw: None,
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

/// The `type` of a JSON object that is not a control message but says it is one: a string
/// `type` and no `image` (a JSON+base64 frame has an `image`, and any `type` beside it is
/// the client's own).
fn unknown_control_type(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Tagged {
        #[serde(rename = "type", default)]
        kind: Option<serde_json::Value>,
        #[serde(default)]
        image: Option<serde::de::IgnoredAny>,
    }
    let tagged = serde_json::from_str::<Tagged>(text).ok()?;
    match (tagged.kind?, tagged.image) {
        (serde_json::Value::String(kind), None) => Some(kind),
        _ => None,
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
    let gap = o
        .max_result_fps
        .filter(|fps| *fps > 0.0)
        .map_or(0, |fps| (1e6 / f64::from(fps)) as u64);
    session
        .stream
        .min_result_interval_us
        .store(gap, Ordering::Relaxed);
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
            max_fps: state.config.max_fps,
        },
    });
    session.stream.send_text(welcome.to_json());
}
