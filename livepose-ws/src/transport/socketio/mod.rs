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
//!
//! | module | job |
//! | --- | --- |
//! | `cors` | CORS for pages served elsewhere (long-polling is plain HTTP) |
//! | `handshake` | what the handshake may say (`auth`, then the query) |
//! | `admit` | the connect middleware: the token, the limits; the admission kept with the socket |
//! | `connect` | a connection's stream, event handlers and disconnection (set up before the ack); its writer |
//! | `connection` | a connection's state, and the room place it holds (`Joined`) |
//! | `events` | the `frame` and `join` events decoded; a frame to the session |
//! | `join` | joining a room as camera (its seat) or viewer, leaving it |
//! | `writer` | results, control messages, room frames and notices out as events |

mod admit;
mod connect;
mod connection;
mod cors;
mod events;
mod handshake;
mod join;
mod writer;

use std::sync::Arc;

use serde_json::Value;
use socketioxide::extract::{SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::layer::SocketIoLayer;
use socketioxide::SocketIo;

pub(crate) use cors::cors;

use crate::state::AppState;

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
        move |socket: SocketRef| {
            let state = state.clone();
            async move { connect::connect(state, socket) }
        }
    };
    // Admission, then the connection's stream and handlers, before the connect packet.
    let check = {
        let state = state.clone();
        move |socket: SocketRef, TryData(auth): TryData<Value>| {
            let state = state.clone();
            async move {
                let auth = auth.unwrap_or(Value::Null);
                admit::admit_socket(&state, &socket, &auth)?;
                connect::prepare(&state, &socket, auth);
                Ok::<(), String>(())
            }
        }
    };
    io.ns("/", on_connect.with(check));
    layer
}
