//! `GET /rooms/{room}/mjpeg`, behind the view token: the room's annotated frames as
//! `multipart/x-mixed-replace` for an `<img src=…>`; the viewer leaves the room when hyper
//! drops the response body (the client went).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};

use crate::admission::{admit, Admission, RoomPath, ViewToken};
use crate::metrics::Connected;
use crate::rooms::{Frames, Room, RoomName, Viewer};
use crate::state::AppState;

/// The boundary between the parts of an MJPEG response.
const BOUNDARY: &str = "livepose-frame";

/// An MJPEG viewer, in the room while its response body lives: hyper drops the body when
/// the client goes, and with it the viewer, its place and its connection count.
struct MjpegViewer {
    state: Arc<AppState>,
    name: RoomName,
    room: Arc<Room>,
    viewer: Arc<Viewer>,
    _admission: Admission,
    _connected: Connected,
}

impl Drop for MjpegViewer {
    fn drop(&mut self) {
        self.room.audience.leave(&self.viewer);
        self.state.rooms.tidy(self.name.as_str());
        self.state.release_memory_soon();
    }
}

/// `GET /rooms/{room}/mjpeg`: the room's annotated frames as they are drawn, one JPEG per
/// part, latest wins (a slow client skips frames, it never queues them).
pub(crate) async fn mjpeg(
    _: ViewToken,
    RoomPath(name): RoomPath,
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    let admission = match admit(&state, peer, &headers) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.into_response(),
    };
    let viewer = Viewer::new(state.streams.next_id("m"), "mjpeg", Frames::Annotated);
    let room = state.join_room(&name, viewer.clone());
    let held = MjpegViewer {
        _connected: Connected::new(&state.metrics),
        state,
        name,
        room,
        viewer,
        _admission: admission,
    };
    // Each frame goes out as three chunks (part header, the shared JPEG, CRLF): no copy.
    let parts = futures_util::stream::unfold(held, |held| async move {
        let frames = held.viewer.frames.as_ref()?;
        let jpeg = frames.wait().await?;
        let head = format!(
            "--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpeg.len()
        );
        let chunks = [Bytes::from(head), jpeg, Bytes::from_static(b"\r\n")];
        Some((
            futures_util::stream::iter(chunks.map(Ok::<_, std::convert::Infallible>)),
            held,
        ))
    });
    let body = Body::from_stream(futures_util::StreamExt::flatten(parts));
    (
        [
            (
                header::CONTENT_TYPE,
                format!("multipart/x-mixed-replace; boundary={BOUNDARY}"),
            ),
            (header::CACHE_CONTROL, "no-cache, no-store".to_string()),
        ],
        body,
    )
        .into_response()
}
