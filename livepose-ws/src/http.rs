//! The plain HTTP endpoints: `GET /health`, `GET /streams`, `GET /metrics` (the last two
//! behind the server's token when it has one) and `POST /estimate_pose`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use livepose_core::wire::control::{ResultFormat, RunMode, ServerMessage};

use crate::admission::{admit, token_refusal};
use crate::out::OutMessage;
use crate::scheduler::{InFrame, StreamCore, StreamSettings};
use crate::state::AppState;

/// Longest an `/estimate_pose` request waits for its result.
const ESTIMATE_TIMEOUT: Duration = Duration::from_secs(30);

/// `/health`: the server is up.
pub(crate) async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// Before `/streams` and `/metrics`, which show what runs: the server's token when it has
/// one (a Prometheus scraper sends it as a bearer token).
pub(crate) async fn require_token(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match token_refusal(&state, request.headers(), &query) {
        Some(refusal) => refusal,
        None => next.run(request).await,
    }
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

/// `/streams[?scope=cluster]`: the open streams and their counts (this node's, or every
/// node's).
pub(crate) async fn streams(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    crate::views::answer(&state, &query, "streams").await
}

/// This node's streams, as `/streams` shows them.
pub(crate) fn streams_json(state: &AppState) -> serde_json::Value {
    let streams = state.streams.lock();
    let list: Vec<_> = streams
        .values()
        .map(|s| {
            serde_json::json!({
                "id": s.id,
                "frames_received": s.frames_received(),
                "frames_dropped": s.frames_dropped(),
                "frames_processed": s.processed.load(Ordering::Relaxed),
            })
        })
        .collect();
    serde_json::json!({ "streams": list })
}

/// `/metrics`: the OpenMetrics text.
pub(crate) async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

/// `/estimate_pose`: one image in, one JSON result out (image mode, the compatibility
/// shape), for clients that cannot hold a socket. Admitted like a socket (token, origin,
/// connection limits, its place held while the image is processed); the body may be as
/// large as a socket message.
pub(crate) async fn estimate_pose(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    if let Some(refusal) = token_refusal(&state, &headers, &query) {
        return refusal;
    }
    let _admission = match admit(&state, peer, &headers) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.into_response(),
    };
    let builder = state.config.pipeline_builder().mode(RunMode::Image);
    let stream = StreamCore::new(
        state.next_id("r"),
        builder.tracker(),
        StreamSettings {
            model: state.config.model,
            results: ResultFormat::Json,
        },
    );
    let frame = InFrame {
        image: body,
        raw: None,
        sequence: 0,
        capture_ts_us: 0,
        received_us: state.clock.now_wall_us(),
    };
    state.pool.submit(&stream, frame);
    let answer = tokio::time::timeout(ESTIMATE_TIMEOUT, stream.outbound.wait()).await;
    stream.close();
    match answer {
        Ok(Some(OutMessage::Text(text))) => {
            // A result in the JSON shape, or an `error` control message (§6.2).
            let is_error = matches!(ServerMessage::from_json(&text), Ok(ServerMessage::Error(_)));
            let status = if is_error {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::OK
            };
            (
                status,
                [(header::CONTENT_TYPE, "application/json")],
                text.to_string(),
            )
                .into_response()
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("no result within {} s", ESTIMATE_TIMEOUT.as_secs()),
        )
            .into_response(),
    }
}
