//! The rooms' administration over HTTP, behind the room token: `POST /rooms/{room}/source` and
//! `DELETE /rooms/{room}/source` (a server-side camera source), and `DELETE /rooms/{room}`
//! (closes the room's camera, source and viewers); and `GET /sources` (behind the server's
//! token, like `/streams`). Source URLs are shown with their secrets hidden.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use crate::admission::{AdminToken, RoomPath, RoomToken};
use crate::sources::{SourceSpec, SpecError};
use crate::state::AppState;
use crate::transport::source::{self, StartError};

/// The body of `POST /rooms/{room}/source`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceRequest {
    /// `http(s)://` (MJPEG), `rtsp(s)://`, or a local file (`file:///path` or a path).
    url: String,
    /// Stop the source when the room's last viewer leaves (default: the server's
    /// `source_stop_when_unwatched`).
    #[serde(default)]
    stop_when_unwatched: Option<bool>,
}

/// `POST /rooms/{room}/source`: starts a source as the room's camera. 201 with the source;
/// 400 for a bad body or URL, 403 for a URL the server's `source_allow` rule refuses (a
/// local file by default), 409 if the room has a camera or source, 429 when `max_sources`
/// run already, 503 without ffmpeg.
pub(crate) async fn post_source(
    _: RoomToken,
    RoomPath(room): RoomPath,
    State(state): State<Arc<AppState>>,
    body: Bytes,
) -> Response {
    let request: SourceRequest = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(e) => {
            let why = format!("the body must be JSON {{\"url\": \"...\"}}: {e}");
            return (StatusCode::BAD_REQUEST, why).into_response();
        }
    };
    let unwatched = request
        .stop_when_unwatched
        .unwrap_or(state.config.source_stop_when_unwatched);
    let parsed = SourceSpec::parse(&request.url, unwatched);
    // A URL that is wrong whatever the server: 400. Then the server's rule (403), before
    // whether a file exists is told.
    if let Err(e) = &parsed {
        if !matches!(e, SpecError::NoFile(_)) {
            return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
        }
    }
    if let Err(e) = state.config.source_policy.admits_posted(&request.url) {
        return (StatusCode::FORBIDDEN, e.to_string()).into_response();
    }
    let mut spec = match parsed {
        Ok(spec) => spec,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    spec.tls = state.config.source_tls.clone();
    let answer = serde_json::json!({
        "room": room,
        "url": spec.public_url(),
        "kind": spec.kind.as_str(),
        "stop_when_unwatched": spec.stop_when_unwatched,
    });
    match source::start(&state, &room, spec) {
        Ok(()) => (StatusCode::CREATED, Json(answer)).into_response(),
        Err(e) => {
            let status = match e {
                StartError::NoFfmpeg => StatusCode::SERVICE_UNAVAILABLE,
                StartError::SourceExists(_) | StartError::CameraTaken(_) => StatusCode::CONFLICT,
                StartError::TooMany(_) => StatusCode::TOO_MANY_REQUESTS,
            };
            (status, e.to_string()).into_response()
        }
    }
}

/// `DELETE /rooms/{room}/source`: stops the room's source (its ffmpeg has ended when this
/// answers). 204, or 404 if the room has none.
pub(crate) async fn delete_source(
    _: RoomToken,
    RoomPath(room): RoomPath,
    State(state): State<Arc<AppState>>,
) -> Response {
    if state.sources.stop(room.as_str()).await {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            format!("room {room:?} has no source"),
        )
            .into_response()
    }
}

/// `DELETE /rooms/{room}`: closes the room: its camera (socket or source) and viewers end.
/// 204, or 404 if there is no such room.
pub(crate) async fn delete_room(
    _: RoomToken,
    RoomPath(room): RoomPath,
    State(state): State<Arc<AppState>>,
) -> Response {
    let removed = state.rooms.remove(room.as_str()).is_some();
    let had_source = state.sources.stop(room.as_str()).await;
    if removed || had_source {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::NOT_FOUND, format!("no room {room:?}")).into_response()
    }
}

/// `GET /sources`: the running sources, by room (secrets hidden).
pub(crate) async fn sources(
    _: AdminToken,
    State(state): State<Arc<AppState>>,
) -> Json<serde_json::Value> {
    let list: Vec<_> = state
        .sources
        .list()
        .into_iter()
        .map(|(room, url)| serde_json::json!({"room": room, "url": url}))
        .collect();
    Json(serde_json::json!({ "sources": list }))
}
