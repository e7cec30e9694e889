//! CORS for Socket.IO from pages served elsewhere than the server (its long-polling is plain
//! HTTP requests, which browsers check).

use axum::http::{HeaderValue, Method};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::config::ServerConfig;

/// The rule: with `--allowed-origin`, only the listed origins, with credentials (cookies,
/// HTTP authentication); with none, any origin (as the sockets themselves accept) but
/// without credentials (`Access-Control-Allow-Origin: *`), so a page of another site can
/// never make requests that carry the user's credentials.
pub(crate) fn cors(config: &ServerConfig) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers(AllowHeaders::mirror_request());
    if config.allowed_origins.is_empty() {
        return layer.allow_origin(AllowOrigin::any());
    }
    let listed = config
        .allowed_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok());
    layer
        .allow_origin(AllowOrigin::list(listed))
        .allow_credentials(true)
}
