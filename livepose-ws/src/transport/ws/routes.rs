//! The WebSocket routes: `GET /ws` (a pose stream of its own) and a room's
//! `/ws/rooms/{room}/camera` and `/ws/rooms/{room}/view`. Each names its token and its room
//! among its arguments (refused before anything else), admits the connection and hands the
//! upgraded socket to its session; a camera takes the room's seat first.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::watch;

use super::close::refuse;
use super::stream::stream_session;
use super::viewer::viewer_session;
use crate::admission::{admit, RoomPath, RoomToken, StreamToken, ViewToken};
use crate::rooms::{CameraKind, Frames, RoomName};
use crate::state::AppState;

/// What a socket is for.
enum Role {
    /// A pose stream of its own.
    Stream,
    /// A room's camera.
    Camera(RoomName),
    /// A room's viewer, and which frames it wants besides the results.
    Viewer(RoomName, Frames),
}

/// `GET /ws`.
pub(crate) async fn ws_upgrade(
    _: StreamToken,
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(state, peer, headers, ws, Role::Stream)
}

/// `GET /ws/rooms/{room}/camera`: needs the room token.
pub(crate) async fn camera_upgrade(
    _: RoomToken,
    RoomPath(room): RoomPath,
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(state, peer, headers, ws, Role::Camera(room))
}

/// A view's query.
#[derive(Deserialize)]
pub(crate) struct ViewQuery {
    /// `1`/`true` (the camera's frames), `annotated`, else none.
    frames: Option<String>,
}

/// `GET /ws/rooms/{room}/view[?frames=1]`: needs the view token, else the server's token,
/// when there is one.
pub(crate) async fn view_upgrade(
    _: ViewToken,
    RoomPath(room): RoomPath,
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<ViewQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let frames = Frames::from_query(query.frames.as_deref());
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
                Role::Stream => stream_session(state, socket, None, None).await,
                Role::Camera(name) => {
                    // In a cluster, another node's camera may hold the room.
                    let (taken, evicted) = watch::channel(None);
                    let on_taken = move |node| {
                        taken.send_replace(Some(node));
                    };
                    match state.take_camera_seat(&name, CameraKind::Socket, on_taken) {
                        Some(seat) => {
                            stream_session(state, socket, Some(seat), Some(evicted)).await
                        }
                        None => {
                            refuse(socket, "camera_taken", "this room has a camera already").await
                        }
                    }
                }
                Role::Viewer(name, frames) => {
                    viewer_session(&state, socket, &name, frames).await;
                    state.rooms.tidy(name.as_str());
                }
            }
            drop(admission);
        })
        .into_response()
}
