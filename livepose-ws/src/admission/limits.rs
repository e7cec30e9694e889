//! The server's limits on connections: draining, the origin, the connection limits in
//! total and per IP address, checked before a socket is upgraded (or an `/estimate_pose`
//! image is read). A connection admitted holds an [`Admission`], which gives its place back
//! when it drops, on every path. Per address, `max_connections_per_ip` bounds its streams
//! plus its connections in the middle of their first request, and separately its
//! connections waiting for their first request ([`Pending`], taken at accept).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::http::{header, HeaderMap, StatusCode};

use super::refusal::Refusal;
use crate::state::{AppState, Places};

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
    let places = per_ip.entry(peer.ip()).or_default();
    // Its connections in the middle of sending a request count too (a request whose
    // headers never end holds a place like a stream).
    let held = places.streams + places.partial;
    if held >= state.config.max_connections_per_ip {
        drop(per_ip);
        return Err(refusal(
            state,
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_connections",
            format!("{held} connections are open from {} already", peer.ip()),
        ));
    }
    places.streams += 1;
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
        release(&self.state, self.ip, |places| &mut places.streams);
    }
}

/// Gives back one place of `ip`'s (the one `which` picks), forgetting the address when it
/// holds nothing.
fn release(state: &AppState, ip: IpAddr, which: impl Fn(&mut Places) -> &mut usize) {
    let mut per_ip = state.per_ip.lock();
    if let Some(places) = per_ip.get_mut(&ip) {
        let count = which(places);
        *count = count.saturating_sub(1);
        if places.is_empty() {
            per_ip.remove(&ip);
        }
    }
}

/// How many connections waiting for their first request an address may have, in
/// `max_connections_per_ip`s: room for the bursts of new connections clients open (HTTP
/// long-polling opens one per request), while those that never send a request are bounded
/// (and closed after the header timeout).
const PENDING_PER_PLACE: usize = 4;

/// A connection accepted whose first request has not arrived yet: it holds a place of its
/// address's from accept, given back when the request arrives or the connection ends.
/// Beyond [`PENDING_PER_PLACE`] × `max_connections_per_ip` such connections an address's
/// next is refused at accept; one that has sent part of a request
/// ([`started`](Self::started)) also counts against the address's streams, so that
/// requests whose headers never end cannot pile up.
pub(crate) struct Pending {
    state: Arc<AppState>,
    ip: IpAddr,
    started: bool,
}

impl Pending {
    /// Takes a place for a connection just accepted from `ip`, unless the address has
    /// too many connections waiting for their request already.
    pub(crate) fn take(state: &Arc<AppState>, ip: IpAddr) -> Option<Pending> {
        let mut per_ip = state.per_ip.lock();
        let places = per_ip.entry(ip).or_default();
        let most = PENDING_PER_PLACE * state.config.max_connections_per_ip;
        if places.idle + places.partial >= most {
            if places.is_empty() {
                per_ip.remove(&ip);
            }
            return None;
        }
        places.idle += 1;
        Some(Pending {
            state: state.clone(),
            ip,
            started: false,
        })
    }

    /// The connection's first bytes arrived (its request has begun).
    pub(crate) fn started(&mut self) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        let mut per_ip = self.state.per_ip.lock();
        if let Some(places) = per_ip.get_mut(&self.ip) {
            places.idle = places.idle.saturating_sub(1);
            places.partial += 1;
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.started {
            release(&self.state, self.ip, |places| &mut places.partial);
        } else {
            release(&self.state, self.ip, |places| &mut places.idle);
        }
    }
}
