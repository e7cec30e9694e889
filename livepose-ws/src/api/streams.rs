//! `GET /streams[?scope=cluster]`: the open streams and their counts (this node's, or every
//! node's), behind the server's token.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::response::Response;

use super::views::{answer, Scope};
use crate::admission::AdminToken;
use crate::state::AppState;

/// `/streams[?scope=cluster]`.
pub(crate) async fn streams(
    _: AdminToken,
    State(state): State<Arc<AppState>>,
    Query(scope): Query<Scope>,
) -> Response {
    answer(&state, &scope, "streams").await
}
