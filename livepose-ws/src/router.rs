//! Every route of the server: the WebSocket routes (`transport::ws`), Socket.IO at
//! `/socket.io/` (`transport::socketio`, a layer), the HTTP routes (`api`), and the browser
//! demo at `/`.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::api::{admin, estimate, health, mjpeg, rooms, streams};
use crate::state::AppState;
use crate::transport::{socketio, ws};

/// Every route of the server.
pub(crate) fn router(state: &Arc<AppState>) -> Router {
    let mut app = Router::new();
    if state.config.demo {
        app = crate::demo::routes(app);
    }
    // Each handler names the token it needs among its arguments (`crate::admission`).
    let app = app
        .route("/ws", get(ws::ws_upgrade))
        .route("/ws/rooms/{room}/camera", get(ws::camera_upgrade))
        .route("/ws/rooms/{room}/view", get(ws::view_upgrade))
        .route("/rooms", get(rooms::list))
        .route("/rooms/{room}", get(rooms::one).delete(admin::delete_room))
        .route("/rooms/{room}/mjpeg", get(mjpeg::mjpeg))
        .route(
            "/rooms/{room}/source",
            post(admin::post_source).delete(admin::delete_source),
        )
        .route("/streams", get(streams::streams))
        .route("/metrics", get(health::metrics))
        .route("/sources", get(admin::sources))
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        // One image per request, as large as a socket message may be.
        .route(
            "/estimate_pose",
            post(estimate::estimate_pose)
                .layer(DefaultBodyLimit::max(state.config.max_message_bytes)),
        )
        .with_state(state.clone());
    if state.config.socketio {
        app.layer(socketio::layer(state))
            .layer(socketio::cors(&state.config))
    } else {
        app
    }
}
