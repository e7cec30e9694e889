//! Who may connect: the token, the origin and the connection limits, checked before a
//! socket is upgraded (or an `/estimate_pose` image is read). A connection admitted holds
//! an [`Admission`], which gives its place back when it drops, on every path.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::state::AppState;

/// The refusal of a request that lacks the configured token, naming what is missing.
pub(crate) fn token_refusal(
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

/// Why a connection was refused, and the HTTP status that says so.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) why: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, self.why).into_response()
    }
}

/// A refusal, counted in `livepose_rejected_connections_total`.
pub(crate) fn refusal(state: &AppState, status: StatusCode, why: String) -> Refusal {
    state.metrics.rejected_total.inc();
    Refusal { status, why }
}

/// A refusal as a response, counted in `livepose_rejected_connections_total`.
pub(crate) fn refuse(state: &AppState, status: StatusCode, why: String) -> Response {
    refusal(state, status, why).into_response()
}

/// Whether `headers`/`query` carry `token` (bearer header or `?token=`).
pub(crate) fn has_token(token: &str, headers: &HeaderMap, query: &HashMap<String, String>) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    bearer == Some(token) || query.get("token").map(String::as_str) == Some(token)
}

/// The refusal of a room endpoint on a server without rooms (no room token configured).
pub(crate) fn rooms_off(state: &AppState) -> Response {
    refuse(
        state,
        StatusCode::FORBIDDEN,
        "rooms are off: the server has no room token configured".into(),
    )
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

/// Why a request may not watch rooms (a view socket, `GET /rooms`, an MJPEG stream): rooms
/// are off, or it lacks the view token (the server's token when no view token is set; a
/// server with a token never shows its rooms to anyone).
pub(crate) fn view_refusal(
    state: &AppState,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Option<Response> {
    if state.config.room_token.is_none() {
        return Some(rooms_off(state));
    }
    let token = state
        .config
        .view_token
        .as_ref()
        .or(state.config.token.as_ref())?;
    (!has_token(token, headers, query)).then(|| {
        refuse(
            state,
            StatusCode::UNAUTHORIZED,
            "viewing rooms needs the view token (or the server's token when no view token is \
             set)"
                .into(),
        )
    })
}

/// Checks the origin and the connection limits and counts the connection: the count is held
/// by the returned [`Admission`] and released when it drops, on every path (a finished
/// session, or an upgrade that never completes and drops its callback).
pub(crate) fn admit(
    state: &Arc<AppState>,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Result<Admission, Refusal> {
    if state.is_draining() {
        return Err(refusal(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down: connect to another node".into(),
        ));
    }
    if !state.config.allowed_origins.is_empty() {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if !origin.is_some_and(|o| state.config.allowed_origins.iter().any(|a| a == o)) {
            return Err(refusal(
                state,
                StatusCode::FORBIDDEN,
                format!("origin {origin:?} is not allowed"),
            ));
        }
    }
    let open = state.streams.lock().len();
    if open >= state.config.max_connections {
        return Err(refusal(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the server is full ({open} streams)"),
        ));
    }
    let mut per_ip = state.per_ip.lock();
    let count = per_ip.entry(peer.ip()).or_insert(0);
    if *count >= state.config.max_connections_per_ip {
        let n = *count;
        drop(per_ip);
        return Err(refusal(
            state,
            StatusCode::TOO_MANY_REQUESTS,
            format!("{n} streams are open from {} already", peer.ip()),
        ));
    }
    *count += 1;
    state.metrics.connections_total.inc();
    Ok(Admission {
        state: state.clone(),
        ip: peer.ip(),
    })
}

/// One admitted connection's place in the per-IP count; dropping it gives the place back.
pub(crate) struct Admission {
    state: Arc<AppState>,
    ip: IpAddr,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut per_ip = self.state.per_ip.lock();
        if let Some(count) = per_ip.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}
