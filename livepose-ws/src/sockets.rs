//! The WebSocket endpoints: `GET /ws` (a pose stream of its own) and a room's
//! `/ws/rooms/{room}/camera` and `/ws/rooms/{room}/view`. Each checks its token, admits
//! the connection and hands the upgraded socket to its session.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use livepose_core::wire::control::{ErrorReport, ServerMessage};

use crate::admission::{admit, has_token, refuse, token_refusal};
use crate::state::AppState;
use crate::stream_session::stream_session;
use crate::viewer_session::viewer_session;

/// What a socket is for.
enum Role {
    /// A pose stream of its own.
    Stream,
    /// A room's camera.
    Camera(String),
    /// A room's viewer; `true`: also the camera's frames.
    Viewer(String, bool),
}

/// `GET /ws`.
pub(crate) async fn ws_upgrade(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refusal) = token_refusal(&state, &headers, &query) {
        return refusal;
    }
    upgrade(state, peer, headers, ws, Role::Stream)
}

/// `GET /ws/rooms/{room}/camera`: needs the room token.
pub(crate) async fn camera_upgrade(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(room): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    if let Some(refusal) = room_token_refusal(&state, &headers, &query) {
        return refusal;
    }
    upgrade(state, peer, headers, ws, Role::Camera(room))
}

/// `GET /ws/rooms/{room}/view[?frames=1]`: needs the view token, else the server's token,
/// when there is one.
pub(crate) async fn view_upgrade(
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
    // A server with a token never shows its rooms to anyone.
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
    upgrade(state, peer, headers, ws, Role::Viewer(room, frames))
}

/// The refusal of a request that publishes to a room (a camera socket, a room's source or
/// its removal) without the room token, or on a server without rooms.
pub(crate) fn room_token_refusal(
    state: &AppState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Option<Response> {
    let Some(token) = &state.config.room_token else {
        return Some(rooms_off(state));
    };
    if has_token(token, headers, query) {
        return None;
    }
    Some(refuse(
        state,
        StatusCode::UNAUTHORIZED,
        "publishing to a room needs the room token (`?token=` or a bearer header)".into(),
    ))
}

/// The refusal of a room socket on a server without rooms (no room token configured).
fn rooms_off(state: &AppState) -> Response {
    refuse(
        state,
        StatusCode::FORBIDDEN,
        "rooms are off: the server has no room token configured".into(),
    )
}

/// Admits the connection and upgrades it; the admission lives as long as the session.
fn upgrade(
    state: Arc<AppState>,
    peer: SocketAddr,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
    role: Role,
) -> Response {
    let admission = match admit(&state, peer, &headers) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.into_response(),
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

/// Sends a fatal error and closes.
async fn refuse_socket(mut socket: WebSocket, code: &str, message: &str) {
    let text = ServerMessage::Error(ErrorReport {
        code: code.to_string(),
        message: message.to_string(),
        sequence: None,
        fatal: true,
    })
    .to_json();
    let _ = socket.send(Message::Text(text.into())).await;
    let _ = socket.close().await;
}
