//! The server's own state: `GET /health` (up), `GET /ready` (whether to send it new
//! connections) and `GET /metrics` (OpenMetrics text, behind the server's token).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::admission::AdminToken;
use crate::state::AppState;

/// `/health`: the server is up.
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// `/ready`: whether to send this node new connections (false while shutting down), for a
/// load balancer's readiness probe.
pub(crate) async fn ready(State(state): State<Arc<AppState>>) -> Response {
    if state.is_draining() {
        let body = Json(serde_json::json!({"ready": false, "why": "shutting down"}));
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    } else {
        Json(serde_json::json!({"ready": true})).into_response()
    }
}

/// `/metrics`: the OpenMetrics text (a Prometheus scraper sends the admin token as a
/// bearer token).
pub(crate) async fn metrics(_: AdminToken, State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}
