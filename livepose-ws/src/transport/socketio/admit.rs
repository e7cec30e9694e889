//! The connect middleware: the server's token ([`StreamToken`], the same check as `/ws`,
//! also read from the handshake's `auth`), then the origin and connection limits. A refusal
//! reaches the client as `connect_error` with its reason; an admitted connection keeps its
//! [`Admission`] in the socket's extensions until it disconnects.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use serde_json::Value;
use socketioxide::extract::SocketRef;

use crate::admission::{admit, Admission, Presented, StreamToken, TokenKind};
use crate::state::AppState;

/// One admitted connection's place, kept in the socket's extensions until it is dropped.
#[derive(Clone)]
pub(crate) struct Place {
    _admission: Arc<Admission>,
}

/// Admits the connection, or says why not.
pub(crate) fn admit_socket(
    state: &Arc<AppState>,
    socket: &SocketRef,
    auth: &Value,
) -> Result<(), String> {
    let parts = socket.req_parts();
    let given = auth.get("token").and_then(Value::as_str);
    let presented = Presented::handshake(&parts.headers, parts.uri.query(), given);
    if let Err(refusal) = StreamToken::check(&state.config, &presented) {
        return Err(refusal.counted(&state.metrics).why);
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
