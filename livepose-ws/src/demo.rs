//! The browser demo, compiled into the server: `GET /` (the page), `GET /viewer` (the room
//! viewer page) and `GET /js/{file}` (their ES modules). The page takes the webcam or a
//! video file, sends JPEG frames to `/ws` as
//! protocol v1 binary messages, decodes the results with `js/protocol.js` (a JavaScript
//! decoder of protocol v1, tested against the golden vectors) and draws the skeletons over
//! the video with interpolation between results, under an overlay of fps, end-to-end
//! latency and the server's stage timings; the JPEG quality and the send rate adapt to the
//! server's rate hints and the measured round trip (`js/adapt.js`). The viewer page watches
//! a room (`/ws/rooms/{room}/view`): skeletons, over the camera's frames, or the server's
//! annotated frames. Sources: `livepose-ws/demo/`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

/// One file of the demo: its name under `/js/` (or `index.html`) and its text.
struct Asset {
    name: &'static str,
    text: &'static str,
}

const INDEX: &str = include_str!("../demo/index.html");
const VIEWER: &str = include_str!("../demo/viewer.html");

/// The page's modules, served from `/js/`.
const MODULES: &[Asset] = &[
    Asset {
        name: "adapt.js",
        text: include_str!("../demo/js/adapt.js"),
    },
    Asset {
        name: "app.js",
        text: include_str!("../demo/js/app.js"),
    },
    Asset {
        name: "protocol.js",
        text: include_str!("../demo/js/protocol.js"),
    },
    Asset {
        name: "rooms.js",
        text: include_str!("../demo/js/rooms.js"),
    },
    Asset {
        name: "skeleton.js",
        text: include_str!("../demo/js/skeleton.js"),
    },
    Asset {
        name: "stream.js",
        text: include_str!("../demo/js/stream.js"),
    },
    Asset {
        name: "viewer.js",
        text: include_str!("../demo/js/viewer.js"),
    },
];

/// Adds the demo's routes to `router`.
pub(crate) fn routes<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .route("/", get(index))
        .route("/viewer", get(viewer))
        .route("/js/{file}", get(module))
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

async fn viewer() -> Response {
    asset("text/html; charset=utf-8", VIEWER)
}

async fn module(Path(file): Path<String>) -> Response {
    match MODULES.iter().find(|m| m.name == file) {
        Some(m) => asset("text/javascript; charset=utf-8", m.text),
        None => (StatusCode::NOT_FOUND, format!("no demo module {file:?}")).into_response(),
    }
}

fn asset(content_type: &'static str, text: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
        .into_response()
}
