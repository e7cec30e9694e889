//! The server's limits on connections: draining, the origin, the connection limits in
//! total and per IP address, checked before a socket is upgraded (or an `/estimate_pose`
//! image is read). A connection admitted holds an [`Admission`], which gives its place back
//! when it drops, on every path.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};

use super::refusal::Refusal;
use crate::state::AppState;

/// A refusal by the limits, counted.
fn refusal(state: &AppState, status: StatusCode, code: &'static str, why: String) -> Refusal {
    Refusal::new(status, code, why).counted(&state.metrics)
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
            "shutting_down",
            "the server is shutting down: connect to another node".into(),
        ));
    }
    if !state.config.allowed_origins.is_empty() {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if !origin.is_some_and(|o| state.config.allowed_origins.iter().any(|a| a == o)) {
            return Err(refusal(
                state,
                StatusCode::FORBIDDEN,
                "origin",
                format!("origin {origin:?} is not allowed"),
            ));
        }
    }
    let open = state.streams.len();
    if open >= state.config.max_connections {
        return Err(refusal(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "server_full",
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
            "too_many_connections",
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
