//! `POST /estimate_pose`: one image in, one JSON result out, for clients that cannot hold a
//! socket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
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
/// connection limits) before its body is read, its place held while the body arrives and
/// the image is processed; the body may be as large as a socket message (413 beyond) and
/// must arrive within `body_timeout_secs` (408 after).
pub(crate) async fn estimate_pose(
    _: StreamToken,
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let _admission = match admit(&state, peer, &headers) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.into_response(),
    };
    let body = match read_body(&state, &headers, body).await {
        Ok(body) => body,
        Err(refusal) => return refusal,
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

/// The request's body, at most `max_message_bytes` (413: at once when its `Content-Length`
/// says more), within `body_timeout` (408). Both answers close the connection.
async fn read_body(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let limit = state.config.max_message_bytes;
    let too_large = || {
        let why = format!("the body is over the limit of {limit} bytes");
        refuse(StatusCode::PAYLOAD_TOO_LARGE, why)
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let timeout = state.config.body_timeout;
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(_)) => Err(too_large()),
        Err(_) => {
            let why = format!("the body did not arrive within {} s", timeout.as_secs_f64());
            Err(refuse(StatusCode::REQUEST_TIMEOUT, why))
        }
    }
}

/// A refusal that closes the connection (the rest of the body is not read).
fn refuse(status: StatusCode, why: String) -> Response {
    (status, [(header::CONNECTION, "close")], why).into_response()
}
