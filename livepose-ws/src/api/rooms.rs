//! The rooms' figures over plain HTTP, behind the view token: `GET /rooms` and
//! `GET /rooms/{room}` (this node's, or with `?scope=cluster` every node's).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;

use super::views::{answer, Scope};
use crate::admission::{RoomPath, ViewToken};
use crate::state::AppState;

/// `GET /rooms[?scope=cluster]`: every room's figures.
pub(crate) async fn list(
    _: ViewToken,
    State(state): State<Arc<AppState>>,
    Query(scope): Query<Scope>,
) -> Response {
    answer(&state, &scope, "rooms").await
}

/// `GET /rooms/{room}[?scope=cluster]`: one room's figures; 404 if no one is in it (on
/// this node, or on any).
pub(crate) async fn one(
    _: ViewToken,
    RoomPath(name): RoomPath,
    State(state): State<Arc<AppState>>,
    Query(scope): Query<Scope>,
) -> Response {
    answer(&state, &scope, &format!("rooms/{name}")).await
}
