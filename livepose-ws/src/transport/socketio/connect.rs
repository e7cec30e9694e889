//! A connection admitted by the connect middleware: its pose stream (like one on `/ws`), its
//! event handlers (`frame`, `config`, `join`, `viewer_stats`) and its disconnection, all set
//! up in the middleware, before the connect packet goes out (socketioxide runs the connect
//! handler on a task of its own after it: events sent right after the ack, and a disconnect
//! before that task ran, would otherwise find no handler); then, once connected, its writer.
//! The stream leaves the stream table at disconnection, or when the connection is dropped
//! without one (a socket that closed before its connect packet could be sent).

use std::sync::Arc;
use std::time::Instant;

use livepose_core::wire::control::{ResultFormat, StreamOptions, ViewerStats};
use parking_lot::Mutex;
use serde_json::Value;
use socketioxide::extract::{Data, SocketRef, TryData};

use super::admit::Place;
use super::connection::{Connection, Listed};
use super::events::{on_frame, FrameEvent, Join};
use super::handshake::{Handshake, RESULT_EVENT};
use super::join::{leave, on_join};
use super::writer::{emit_error, write};
use crate::metrics::Connected;
use crate::sessions::{apply_options, Session};
use crate::state::AppState;

/// What the middleware left for the connect handler: the connection, or why its handshake
/// was refused (told to the client once it is connected).
#[derive(Clone)]
pub(crate) enum Prepared {
    Ready(Arc<Connection>),
    Refused(String),
}

/// Sets up an admitted connection (in the connect middleware): its stream, its event
/// handlers and its disconnection.
pub(crate) fn prepare(state: &Arc<AppState>, socket: &SocketRef, auth: Value) {
    let handshake = match Handshake::read(socket, auth) {
        Ok(handshake) => handshake,
        Err(message) => {
            socket.extensions.insert(Prepared::Refused(message));
            return;
        }
    };
    let mut session = Session::open(state, "io", ResultFormat::Json, None);
    // The handshake chose the results: a JSON frame does not switch them.
    session.said_hello = true;
    let stream = session.stream.clone();
    let id = stream.id.clone();
    // Socket.IO front ends read JSON unless they ask for binary.
    let options = StreamOptions {
        results: Some(handshake.options.results.unwrap_or(ResultFormat::Json)),
        ..handshake.options
    };
    apply_options(state, &mut session, options);
    let connection = Arc::new(Connection {
        stream: stream.clone(),
        session: Mutex::new(session),
        result_event: handshake
            .result_event
            .filter(|e| !e.is_empty())
            .unwrap_or_else(|| RESULT_EVENT.to_string()),
        joined: Mutex::new(None),
        join_signal: tokio::sync::Notify::new(),
        _connected: Connected::new(&state.metrics),
        _listed: Listed::new(state, &stream),
    });
    tracing::debug!(stream = %id, "socket.io connecting");
    on(
        socket,
        "frame",
        state,
        &connection,
        |state, c, Data(frame): Data<FrameEvent>| on_frame(state, c, frame),
    );
    on(
        socket,
        "config",
        state,
        &connection,
        |state, c, Data(options): Data<StreamOptions>| {
            apply_options(state, &mut c.session.lock(), options)
        },
    );
    on(
        socket,
        "join",
        state,
        &connection,
        |state, c, Data(join): Data<Join>| on_join(state, c, join),
    );
    on(
        socket,
        "viewer_stats",
        state,
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
    socket.extensions.insert(Prepared::Ready(connection));
}

/// The connect handler (the connect packet has gone out): starts the connection's writer,
/// or tells a refused handshake why and disconnects.
pub(crate) fn connect(state: Arc<AppState>, socket: SocketRef) {
    match socket.extensions.remove::<Prepared>() {
        Some(Prepared::Ready(connection)) => {
            tracing::debug!(stream = %connection.stream.id, "socket.io connected");
            tokio::spawn(write(state, socket, connection));
        }
        Some(Prepared::Refused(message)) => {
            emit_error(&socket, "bad_handshake", &message);
            let _ = socket.disconnect();
        }
        None => {
            let _ = socket.disconnect();
        }
    }
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

/// Ends the connection's stream and gives back its room place and its admission.
fn disconnect(state: &AppState, socket: &SocketRef, c: &Connection) {
    c.stream.close();
    state.streams.remove(&c.stream.id);
    if let Some(joined) = c.joined.lock().take() {
        leave(state, c, joined);
    }
    socket.extensions.remove::<Place>();
    state.release_memory_soon();
    tracing::debug!(stream = %c.stream.id, "socket.io closed");
}
