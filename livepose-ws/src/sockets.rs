//! The WebSocket endpoints: `GET /ws` (a pose stream of its own) and a room's
//! `/ws/rooms/{room}/camera` and `/ws/rooms/{room}/view`. Each checks its token, admits
//! the connection and hands the upgraded socket to its session.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use futures_util::SinkExt;
use livepose_core::wire::control::{ErrorReport, ServerMessage};
use tokio::sync::watch;

use crate::admission::{admit, room_token_refusal, token_refusal, view_refusal};
use crate::rooms::Frames;
use crate::state::AppState;
use crate::stream_session::stream_session;
use crate::viewer_session::viewer_session;

/// What a socket is for.
enum Role {
    /// A pose stream of its own.
    Stream,
    /// A room's camera.
    Camera(String),
    /// A room's viewer, and which frames it wants besides the results.
    Viewer(String, Frames),
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
    if let Some(refusal) = view_refusal(&state, &headers, &query) {
        return refusal;
    }
    let frames = Frames::from_query(query.get("frames").map(String::as_str));
    upgrade(state, peer, headers, ws, Role::Viewer(room, frames))
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
                Role::Stream => stream_session(state.clone(), socket, None, None).await,
                Role::Camera(name) => {
                    if let Some(room) = state.rooms.claim_camera(&name, "socket") {
                        // In a cluster, another node's camera may hold the room.
                        let (taken, evicted) = watch::channel(None);
                        let held = state.hold_camera(&name, &room, move |node| {
                            taken.send_replace(Some(node));
                        });
                        let room_seat = Some(room.clone());
                        stream_session(state.clone(), socket, room_seat, Some(evicted)).await;
                        drop(held);
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
