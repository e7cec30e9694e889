//! Socket.IO at `/socket.io/` (socketioxide: Engine.IO 4 / Socket.IO 5, WebSocket and HTTP
//! long-polling), for front ends written against Flask-SocketIO or python-socketio: each
//! connection is a pose stream like one on `/ws`, with the same latest-wins slots, worker
//! pool, limits, token, `/streams` and `/metrics`, and rooms by a `join` event.
//!
//! - Handshake (`auth` object or query): `token`, `result_event` (default `pose_data`),
//!   `results` (`json`, the default here, or `binary`), and the stream options of `hello`.
//! - In: `frame` with `{image: "data:image/jpeg;base64,…" | <binary>, timestamp?,
//!   sequence?}`, or a binary attachment alone (a JPEG/PNG/WebP, or a protocol v1 frame);
//!   `config` with stream options; `join` with `{room, role: "camera" | "viewer", token?,
//!   frames?}`.
//! - Out: results as `result_event` (the JSON result object, or protocol v1 bytes), and
//!   `welcome`, `stats`, `rate` and `error` as events of those names.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::ConnectInfo;
use axum::http::{HeaderValue, Method, StatusCode};
use livepose_core::wire::control::{ResultFormat, StreamOptions, ViewerStats};
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{Map, Value};
use socketioxide::extract::{Data, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::admission::{admit, has_token, refusal, Admission, Refusal};
use crate::cluster::HeldCamera;
use crate::config::ServerConfig;
use crate::inbound;
use crate::metrics::Connected;
use crate::out::OutMessage;
use crate::outbox::{Outbox, Outgoing};
use crate::rooms::{Frames, Room, Viewer};
use crate::scheduler::StreamCore;
use crate::session::Session;
use crate::state::AppState;
use crate::stream_options::apply_options;

/// Results go out as this event unless the handshake names another.
pub(crate) const RESULT_EVENT: &str = "pose_data";
/// Most Socket.IO packets waiting for one client: a client that reads no faster loses
/// results beyond these (latest wins), never builds a backlog.
const BUFFERED_PACKETS: usize = 8;

/// The Socket.IO layer for the router, its namespace `/` serving pose streams.
pub(crate) fn layer(state: &Arc<AppState>) -> SocketIoLayer {
    let (layer, io) = SocketIo::builder()
        .ping_interval(state.config.heartbeat)
        .ping_timeout(state.config.heartbeat)
        .max_buffer_size(BUFFERED_PACKETS)
        .max_payload(state.config.max_message_bytes as u64)
        .ws_max_message_size(state.config.max_message_bytes)
        .build_layer();
    let on_connect = {
        let state = state.clone();
        move |socket: SocketRef, TryData(auth): TryData<Value>| {
            let state = state.clone();
            async move { connect(state, socket, auth.unwrap_or(Value::Null)) }
        }
    };
    let check = {
        let state = state.clone();
        move |socket: SocketRef, TryData(auth): TryData<Value>| {
            let state = state.clone();
            async move { admit_socket(&state, &socket, auth.unwrap_or(Value::Null)) }
        }
    };
    io.ns("/", on_connect.with(check));
    layer
}

/// CORS for pages served elsewhere than the server (Socket.IO's long-polling is plain HTTP
/// requests, which browsers check): the origins of `--allowed-origin`, or with none any
/// origin (as the sockets themselves accept), credentials allowed.
pub(crate) fn cors(config: &ServerConfig) -> CorsLayer {
    let origins = if config.allowed_origins.is_empty() {
        AllowOrigin::mirror_request()
    } else {
        AllowOrigin::list(
            config
                .allowed_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    CorsLayer::new()
        .allow_origin(origins)
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(AllowHeaders::mirror_request())
}

/// What the handshake may say: the `auth` object, then the query string.
#[derive(Debug, Default, Deserialize)]
struct Handshake {
    #[serde(default)]
    result_event: Option<String>,
    #[serde(flatten)]
    options: StreamOptions,
}

impl Handshake {
    /// The `auth` object and the query string together (`auth` wins): query values that
    /// read as JSON scalars (`true`, `30`) count as such, others as strings.
    fn read(socket: &SocketRef, auth: Value) -> Result<Self, String> {
        let mut map = match auth {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        for (name, value) in query(socket) {
            let value = serde_json::from_str::<Value>(&value)
                .ok()
                .filter(|v| !v.is_object() && !v.is_array())
                .unwrap_or(Value::String(value));
            map.entry(name).or_insert(value);
        }
        serde_json::from_value(Value::Object(map)).map_err(|e| format!("handshake: {e}"))
    }
}

/// The handshake request's query parameters.
fn query(socket: &SocketRef) -> HashMap<String, String> {
    let query = socket.req_parts().uri.query().unwrap_or("");
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// One admitted connection's place, kept in the socket's extensions until it is dropped.
#[derive(Clone)]
struct Place {
    _admission: Arc<Admission>,
}

/// The connect middleware: the server's token, then the origin and connection limits. A
/// refusal reaches the client as `connect_error` with its reason.
fn admit_socket(state: &Arc<AppState>, socket: &SocketRef, auth: Value) -> Result<(), String> {
    let parts = socket.req_parts();
    if let Some(token) = &state.config.token {
        let given = auth.get("token").and_then(Value::as_str);
        if given != Some(token.as_str()) && !has_token(token, &parts.headers, &query(socket)) {
            let Refusal { why, .. } = refusal(
                state,
                StatusCode::UNAUTHORIZED,
                "a token is required: send it in the handshake's `auth` ({token: …}), as \
                 `?token=` or as `Authorization: Bearer`"
                    .into(),
            );
            return Err(why);
        }
    }
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
    let admission = admit(state, peer, &parts.headers).map_err(|r| r.why)?;
    socket.extensions.insert(Place {
        _admission: Arc::new(admission),
    });
    Ok(())
}

/// A connection's pose stream and where its results go.
struct Connection {
    stream: Arc<StreamCore>,
    session: Mutex<Session>,
    result_event: String,
    /// The room this connection joined, if any.
    seat: Mutex<Option<Seat>>,
    /// Wakes the writer when the connection joins a room.
    joined: tokio::sync::Notify,
    _connected: Connected,
}

impl Connection {
    /// The room this connection has a seat in, if any.
    fn room(&self) -> Option<Arc<Room>> {
        match &*self.seat.lock() {
            Some(Seat::Camera(_, room, _) | Seat::Viewer(_, room, _)) => Some(room.clone()),
            None => None,
        }
    }

    /// The room viewer this connection is, if it joined as one.
    fn viewer(&self) -> Option<Arc<Viewer>> {
        match &*self.seat.lock() {
            Some(Seat::Viewer(_, _, viewer)) => Some(viewer.clone()),
            _ => None,
        }
    }
}

/// A connection's place in a room.
enum Seat {
    /// A room's camera, and its claim on the room in a cluster.
    Camera(String, Arc<Room>, Option<HeldCamera>),
    Viewer(String, Arc<Room>, Arc<Viewer>),
}

/// A connection admitted by [`admit_socket`]: its stream, its writer and its handlers.
fn connect(state: Arc<AppState>, socket: SocketRef, auth: Value) {
    let handshake = match Handshake::read(&socket, auth) {
        Ok(handshake) => handshake,
        Err(message) => {
            emit_error(&socket, "bad_handshake", &message, true);
            let _ = socket.disconnect();
            return;
        }
    };
    let mut session = Session::open(&state, "io", ResultFormat::Json, None);
    // The handshake chose the results: a JSON frame does not switch them.
    session.said_hello = true;
    let stream = session.stream.clone();
    let id = stream.id.clone();
    // Socket.IO front ends read JSON unless they ask for binary.
    let options = StreamOptions {
        results: Some(handshake.options.results.unwrap_or(ResultFormat::Json)),
        ..handshake.options
    };
    apply_options(&state, &mut session, options);
    let connection = Arc::new(Connection {
        stream: stream.clone(),
        session: Mutex::new(session),
        result_event: handshake
            .result_event
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| RESULT_EVENT.to_string()),
        seat: Mutex::new(None),
        joined: tokio::sync::Notify::new(),
        _connected: Connected::new(&state.metrics),
    });
    tracing::debug!(stream = %id, "socket.io connected");
    tokio::spawn(write(state.clone(), socket.clone(), connection.clone()));
    on(
        &socket,
        "frame",
        &state,
        &connection,
        |state, c, Data(frame): Data<FrameEvent>| on_frame(state, c, frame),
    );
    on(
        &socket,
        "config",
        &state,
        &connection,
        |state, c, Data(options): Data<StreamOptions>| {
            apply_options(state, &mut c.session.lock(), options)
        },
    );
    on(
        &socket,
        "join",
        &state,
        &connection,
        |state, c, Data(join): Data<Join>| on_join(state, c, join),
    );
    on(
        &socket,
        "viewer_stats",
        &state,
        &connection,
        |state, c, Data(stats): Data<ViewerStats>| match c.viewer() {
            Some(viewer) => viewer.report(stats, Instant::now()),
            None => {
                let message = "viewer_stats is for room viewers (`join` as a viewer first)";
                state.send_error(&c.stream, "unknown_type", message, 0)
            }
        },
    );
    let on_disconnect = {
        let state = state.clone();
        let connection = connection.clone();
        move |socket: SocketRef| {
            let (state, connection) = (state.clone(), connection.clone());
            async move { disconnect(&state, &socket, &connection) }
        }
    };
    socket.on_disconnect(on_disconnect);
}

/// Registers `handler` for `event`, with the server state and the connection; events are
/// handled one by one in the order they arrive.
fn on<T, F>(
    socket: &SocketRef,
    event: &'static str,
    state: &Arc<AppState>,
    c: &Arc<Connection>,
    handler: F,
) where
    T: serde::de::DeserializeOwned + Send + Sync + 'static,
    F: Fn(&Arc<AppState>, &Arc<Connection>, Data<T>) + Clone + Send + Sync + 'static,
{
    let (state, c) = (state.clone(), c.clone());
    // The work is done in the closure, which socketioxide calls in the order events arrive,
    // not in the future it returns, which runs on a task of its own: frames spawned as
    // tasks would race for the session, and latest wins would keep whichever ran last.
    socket.on(event, move |TryData(data): TryData<T>| {
        match data {
            Ok(data) => handler(&state, &c, Data(data)),
            Err(e) => {
                let message = format!("a `{event}` event this server cannot read: {e}");
                state.send_error(&c.stream, "bad_json", &message, 0);
            }
        }
        std::future::ready(())
    });
}

/// Ends the connection's stream and gives back its room seat and its place.
fn disconnect(state: &AppState, socket: &SocketRef, c: &Connection) {
    c.stream.close();
    state.streams.lock().remove(&c.stream.id);
    if let Some(seat) = c.seat.lock().take() {
        leave(state, c, seat);
    }
    socket.extensions.remove::<Place>();
    state.release_memory_soon();
    tracing::debug!(stream = %c.stream.id, "socket.io closed");
}

/// Another node's camera holds the room this connection is the camera of: it stops being
/// the camera (`camera_taken`).
fn evicted(state: &AppState, c: &Connection, room: &Arc<Room>, node: &str) {
    let mut seat = c.seat.lock();
    if matches!(&*seat, Some(Seat::Camera(_, seated, _)) if Arc::ptr_eq(seated, room)) {
        if let Some(seat) = seat.take() {
            leave(state, c, seat);
        }
        let why = format!("this room's camera is on node {node}");
        state.send_error(&c.stream, "camera_taken", &why, 0);
    }
}

/// Gives back the connection's seat: a camera stops publishing to its room.
fn leave(state: &AppState, c: &Connection, seat: Seat) {
    match seat {
        Seat::Camera(name, room, _held) => {
            c.stream.unpublish();
            c.session.lock().room = None;
            room.release_camera();
            state.rooms.tidy(&name);
        }
        Seat::Viewer(name, room, viewer) => {
            room.leave(&viewer);
            state.rooms.tidy(&name);
        }
    }
}

/// A `frame` event: an object with an `image`, or an image (or protocol v1 frame) alone.
#[derive(Deserialize)]
#[serde(untagged)]
enum FrameEvent {
    Object {
        image: ImageData,
        #[serde(default)]
        timestamp: Option<f64>,
        #[serde(default)]
        sequence: Option<u64>,
    },
    Binary(Bytes),
}

/// An `image` field: base64 text (a data URL) or a binary attachment, told apart by what
/// the packet holds, not by whether the bytes happen to be UTF-8.
enum ImageData {
    Text(String),
    Binary(Bytes),
}

impl<'de> Deserialize<'de> for ImageData {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = ImageData;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a data URL or base64 string, or a binary attachment")
            }
            fn visit_str<E>(self, text: &str) -> Result<ImageData, E> {
                Ok(ImageData::Text(text.to_string()))
            }
            fn visit_string<E>(self, text: String) -> Result<ImageData, E> {
                Ok(ImageData::Text(text))
            }
            fn visit_bytes<E>(self, bytes: &[u8]) -> Result<ImageData, E> {
                Ok(ImageData::Binary(Bytes::copy_from_slice(bytes)))
            }
            fn visit_byte_buf<E>(self, bytes: Vec<u8>) -> Result<ImageData, E> {
                Ok(ImageData::Binary(bytes.into()))
            }
        }
        deserializer.deserialize_any(Visit)
    }
}

fn on_frame(state: &AppState, c: &Connection, frame: FrameEvent) {
    let mut session = c.session.lock();
    match frame {
        FrameEvent::Binary(bytes) if bytes.starts_with(&livepose_core::wire::MAGIC) => {
            inbound::on_binary(state, &mut session, bytes)
        }
        FrameEvent::Binary(bytes) => {
            inbound::on_encoded_image(state, &mut session, bytes, None, None)
        }
        FrameEvent::Object {
            image: ImageData::Binary(bytes),
            timestamp,
            sequence,
        } => inbound::on_encoded_image(state, &mut session, bytes, sequence, timestamp),
        FrameEvent::Object {
            image: ImageData::Text(text),
            timestamp,
            sequence,
        } => inbound::on_base64_image(state, &mut session, &text, sequence, timestamp),
    }
}

/// A `join` event: this connection becomes a room's camera or viewer.
#[derive(Deserialize)]
struct Join {
    room: String,
    role: JoinRole,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    frames: JoinFrames,
}

/// A viewer's `frames` in `join`: `true` (the camera's frames), `"annotated"`, or none.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum JoinFrames {
    #[default]
    None,
    Camera(bool),
    Named(AnnotatedName),
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum AnnotatedName {
    Annotated,
}

impl JoinFrames {
    fn wants(&self) -> Frames {
        match self {
            JoinFrames::Camera(true) => Frames::Camera,
            JoinFrames::Named(AnnotatedName::Annotated) => Frames::Annotated,
            JoinFrames::None | JoinFrames::Camera(false) => Frames::None,
        }
    }
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "snake_case")]
enum JoinRole {
    Camera,
    Viewer,
}

fn on_join(state: &Arc<AppState>, c: &Arc<Connection>, join: Join) {
    let Some(room_token) = &state.config.room_token else {
        return state.send_error(
            &c.stream,
            "rooms_off",
            "rooms are off: the server has no room token configured",
            0,
        );
    };
    let needed = match join.role {
        JoinRole::Camera => Some(room_token),
        JoinRole::Viewer => state
            .config
            .view_token
            .as_ref()
            .or(state.config.token.as_ref()),
    };
    if needed.is_some_and(|t| join.token.as_ref() != Some(t)) {
        let message = match join.role {
            JoinRole::Camera => "publishing to a room needs the room token (`token` in `join`)",
            JoinRole::Viewer => "viewing this room needs the view token (`token` in `join`)",
        };
        return state.send_error(&c.stream, "unauthorized", message, 0);
    }
    let mut seat = c.seat.lock();
    if let Some(old) = seat.take() {
        leave(state, c, old);
    }
    match join.role {
        JoinRole::Camera => match state.rooms.claim_camera(&join.room, "socket.io") {
            Some(room) => {
                // Listed again if it had left the list as a viewer.
                let stream = c.stream.clone();
                state.streams.lock().insert(stream.id.clone(), stream);
                c.stream.publish_to(room.clone());
                room.set_camera_stream(&c.stream.id);
                c.session.lock().room = Some(room.clone());
                let held = state.hold_camera(&join.room, &room, {
                    let (state, c, room) = (state.clone(), c.clone(), room.clone());
                    move |node| evicted(&state, &c, &room, &node)
                });
                *seat = Some(Seat::Camera(join.room, room, held));
                c.joined.notify_one();
            }
            None => state.send_error(
                &c.stream,
                "camera_taken",
                "this room has a camera already",
                0,
            ),
        },
        JoinRole::Viewer => {
            let viewer = Viewer::new(c.stream.id.clone(), "socket.io", join.frames.wants());
            let room = state.rooms.join(&join.room, viewer.clone());
            state.watch_room(&join.room, &room);
            // A viewer sends no frames: not a stream of its own any more.
            state.streams.lock().remove(&c.stream.id);
            *seat = Some(Seat::Viewer(join.room, room, viewer));
            c.joined.notify_one();
        }
    }
}

/// Emits what the connection's [`Outbox`] gives, and a viewer's room results, frames and
/// notices: results as the result event, frames as `frame`, control messages and notices
/// as events named by their `type`. A client whose buffer is full loses the packet (latest wins); a closed
/// socket ends the writer.
async fn write(state: Arc<AppState>, socket: SocketRef, c: Arc<Connection>) {
    let mut outbox = Outbox::new(c.stream.clone(), None, state.config.stats_interval);
    // The room notices (`source_lost`, `source_back`) of the viewer seat held now.
    let mut notices: Option<(Arc<Viewer>, tokio::sync::mpsc::Receiver<String>)> = None;
    loop {
        let viewer = c.viewer();
        let same = matches!((&viewer, &notices), (Some(v), Some((n, _))) if Arc::ptr_eq(v, n));
        if !same {
            notices = viewer
                .as_ref()
                .and_then(|v| Some((v.clone(), v.take_notices()?)));
        }
        let room_notice = async {
            match &mut notices {
                Some((_, rx)) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        let room_result = async {
            match &viewer {
                Some(viewer) => viewer.results.wait().await,
                None => std::future::pending().await,
            }
        };
        let room_frame = async {
            match viewer.as_ref().and_then(|v| v.frames.as_ref()) {
                Some(frames) => frames.wait().await,
                None => std::future::pending().await,
            }
        };
        let room = c.room();
        let room_closed = async {
            match &room {
                Some(room) => room.closed().await,
                None => std::future::pending().await,
            }
        };
        let sent = tokio::select! {
            outgoing = outbox.next(&state) => match outgoing {
                Some(Outgoing::Result(out)) => emit_result(&socket, &c.result_event, out),
                Some(Outgoing::Control(text)) => emit_control(&socket, &text),
                Some(Outgoing::Ping) => continue,
                None => break,
            },
            Some(out) = room_result => emit_result(&socket, &c.result_event, out),
            Some(frame) = room_frame => socket.emit("frame", &frame),
            Some(text) = room_notice => emit_control(&socket, &text),
            _ = c.joined.notified() => continue,
            // `DELETE /rooms/{room}`: its connections end, as its sockets do.
            _ = room_closed => {
                if state.is_draining() {
                    emit_error(&socket, "shutting_down", "server shutting down: reconnect", true);
                } else {
                    emit_error(&socket, "room_removed", "this room was removed", true);
                }
                let _ = socket.clone().disconnect();
                break;
            }
        };
        if let Err(socketioxide::SendError::Socket(socketioxide::SocketError::Closed)) = sent {
            break;
        }
    }
}

/// A result: protocol v1 bytes as a binary attachment, a JSON result as its object.
fn emit_result(
    socket: &SocketRef,
    event: &str,
    out: OutMessage,
) -> Result<(), socketioxide::SendError> {
    match out {
        OutMessage::Binary(bytes) => socket.emit(event, &bytes),
        OutMessage::Text(text) => match serde_json::from_str::<Value>(&text) {
            // JSON results have no `type`; an error in a result's place (a frame that did
            // not decode) does, and goes out as that event.
            Ok(value) => match value.get("type").and_then(Value::as_str) {
                Some(kind) => socket.emit(kind, &value),
                None => socket.emit(event, &value),
            },
            Err(_) => Ok(()),
        },
    }
}

/// A control message as the event its `type` names (`welcome`, `stats`, `rate`, `error`;
/// to a viewer, `source_lost` and `source_back`).
fn emit_control(socket: &SocketRef, text: &str) -> Result<(), socketioxide::SendError> {
    match serde_json::from_str::<Value>(text) {
        Ok(value) => {
            let kind = value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("message");
            socket.emit(kind, &value)
        }
        Err(_) => Ok(()),
    }
}

/// A fatal error before the stream exists.
fn emit_error(socket: &SocketRef, code: &str, message: &str, fatal: bool) {
    let _ = socket.emit(
        "error",
        &serde_json::json!({"type": "error", "code": code, "message": message, "fatal": fatal}),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_events_take_every_shape_front_ends_send() {
        let json = serde_json::json!({"image": "data:image/jpeg;base64,/9j/", "sequence": 3});
        let Ok(FrameEvent::Object {
            image: ImageData::Text(text),
            sequence: Some(3),
            ..
        }) = serde_json::from_value::<FrameEvent>(json)
        else {
            panic!("a JSON frame");
        };
        assert!(text.starts_with("data:image/jpeg"));
        let join: Join =
            serde_json::from_value(serde_json::json!({"room": "r", "role": "viewer"})).unwrap();
        assert!(join.role == JoinRole::Viewer && join.frames.wants() == Frames::None);
        assert!(join.token.is_none());
        let frames = |value: Value| {
            serde_json::from_value::<Join>(
                serde_json::json!({"room": "r", "role": "viewer", "frames": value}),
            )
            .map(|join| join.frames.wants())
            .ok()
        };
        assert_eq!(frames(true.into()), Some(Frames::Camera));
        assert_eq!(frames(false.into()), Some(Frames::None));
        assert_eq!(frames("annotated".into()), Some(Frames::Annotated));
        assert_eq!(frames("drawn".into()), None);
        let handshake: Handshake = serde_json::from_value(serde_json::json!({
            "token": "t", "result_event": "pose_result", "results": "binary", "hands": true
        }))
        .unwrap();
        assert_eq!(handshake.result_event.as_deref(), Some("pose_result"));
        assert_eq!(handshake.options.results, Some(ResultFormat::Binary));
        assert_eq!(handshake.options.hands, Some(true));
    }
}
