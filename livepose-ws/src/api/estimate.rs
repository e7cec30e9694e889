//! `POST /estimate_pose`: one image in, one JSON result out, for clients that cannot hold a
//! socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use livepose_core::wire::control::{ResultFormat, RunMode, ServerMessage};

use crate::admission::{admit, StreamToken};
use crate::message::OutMessage;
use crate::state::AppState;
use crate::streams::{InFrame, StreamCore, StreamSettings};

/// Longest an `/estimate_pose` request waits for its result.
const ESTIMATE_TIMEOUT: Duration = Duration::from_secs(30);

/// `/estimate_pose`: one image in, one JSON result out (image mode, the compatibility
/// shape), for clients that cannot hold a socket. Admitted like a socket (token, origin,
/// connection limits, its place held while the image is processed); the body may be as
/// large as a socket message.
pub(crate) async fn estimate_pose(
    _: StreamToken,
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _admission = match admit(&state, peer, &headers) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.into_response(),
    };
    let builder = state.config.pipeline_builder().mode(RunMode::Image);
    let stream = StreamCore::new(
        state.streams.next_id("r"),
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
