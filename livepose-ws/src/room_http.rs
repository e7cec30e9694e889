//! The rooms over plain HTTP, behind the view token: `GET /rooms` and `GET /rooms/{room}`
//! (each room's figures), and `GET /rooms/{room}/mjpeg`, the room's annotated frames as
//! `multipart/x-mixed-replace` for an `<img src=…>`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::admission::{admit, view_refusal, Admission};
use crate::metrics::Connected;
use crate::room_stats::{CameraFigures, ViewersFigures};
use crate::rooms::{Frames, Room, Viewer};
use crate::state::AppState;

/// The boundary between the parts of an MJPEG response.
const BOUNDARY: &str = "livepose-frame";

/// A room's figures, as `GET /rooms/{room}` shows them (docs/protocol.md §8.2).
#[derive(Debug, Serialize)]
struct RoomFigures {
    room: String,
    camera: Option<CameraInfo>,
    viewers: usize,
    #[serde(flatten)]
    figures: CameraFigures,
    /// Camera frames replaced before inference took them (latest wins).
    frames_dropped: u64,
    /// Results and frames that viewers missed because newer ones replaced them.
    viewer_drops: u64,
    /// Annotated frames drawn and encoded (once each for all the viewers that want them).
    annotated_frames: u64,
    /// Annotated frames replaced before they were drawn.
    annotated_dropped: u64,
    viewer_reports: ViewersFigures,
    viewer_list: Vec<ViewerInfo>,
}

#[derive(Debug, Serialize)]
struct CameraInfo {
    kind: &'static str,
    /// A server-side source's kind and URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    source: Option<SourceInfo>,
    stream_id: Option<String>,
    model: Option<&'static str>,
    hands: Option<bool>,
}

#[derive(Debug, Serialize)]
struct SourceInfo {
    kind: &'static str,
    url: String,
}

#[derive(Debug, Serialize)]
struct ViewerInfo {
    id: String,
    via: &'static str,
    frames: &'static str,
    dropped: u64,
    fps: Option<f64>,
    latency_ms: Option<f64>,
}

fn figures(state: &AppState, name: &str, room: &Room) -> RoomFigures {
    let now = Instant::now();
    let stream = room.camera().map(|seat| {
        let id = seat.stream_id.as_ref();
        let stream = id.and_then(|id| state.streams.lock().get(id).cloned());
        (seat, stream)
    });
    let (camera, frames_dropped) = match stream {
        Some((seat, stream)) => {
            let options = stream.as_ref().map(|s| s.model_and_hands());
            let source = state.sources.get(name);
            let info = CameraInfo {
                kind: seat.kind,
                source: source.map(|(url, kind)| SourceInfo { kind, url }),
                stream_id: seat.stream_id,
                model: options.map(|(model, _)| model.as_str()),
                hands: options.map(|(_, hands)| hands),
            };
            (Some(info), stream.map_or(0, |s| s.frames_dropped()))
        }
        None => (None, 0),
    };
    let viewers = room.viewers();
    let reports: Vec<_> = viewers
        .iter()
        .filter_map(|v| v.current_report(now))
        .collect();
    let viewer_list = viewers
        .iter()
        .map(|v| {
            let report = v.current_report(now);
            ViewerInfo {
                id: v.id.clone(),
                via: v.via,
                frames: v.wants.as_str(),
                dropped: v.dropped(),
                fps: report.map(|r| r.fps),
                latency_ms: report.and_then(|r| r.latency_ms),
            }
        })
        .collect();
    let (annotated_frames, annotated_dropped) = room.annotated_counts();
    RoomFigures {
        room: name.to_string(),
        camera,
        viewers: viewers.len(),
        figures: room.meter().figures(now),
        frames_dropped,
        viewer_drops: viewers.iter().map(|v| v.dropped()).sum(),
        annotated_frames,
        annotated_dropped,
        viewer_reports: ViewersFigures::of(&reports),
        viewer_list,
    }
}

/// This node's rooms' figures, as `GET /rooms` shows them.
pub(crate) fn rooms_json(state: &AppState) -> serde_json::Value {
    let rooms: Vec<_> = state
        .rooms
        .list()
        .iter()
        .map(|(name, room)| figures(state, name, room))
        .collect();
    serde_json::json!({ "rooms": rooms })
}

/// Room `name`'s figures on this node, if it is here.
pub(crate) fn room_json(state: &AppState, name: &str) -> Option<serde_json::Value> {
    let room = state.rooms.get(name)?;
    serde_json::to_value(figures(state, name, &room)).ok()
}

/// `GET /rooms[?scope=cluster]`: every room's figures (this node's, or every node's).
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refusal) = view_refusal(&state, &headers, &query) {
        return refusal;
    }
    crate::views::answer(&state, &query, "rooms").await
}

/// `GET /rooms/{room}[?scope=cluster]`: one room's figures; 404 if no one is in it (on
/// this node, or on any).
pub(crate) async fn one(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refusal) = view_refusal(&state, &headers, &query) {
        return refusal;
    }
    crate::views::answer(&state, &query, &format!("rooms/{name}")).await
}

/// An MJPEG viewer, in the room while its response body lives: hyper drops the body when
/// the client goes, and with it the viewer, its place and its connection count.
struct MjpegViewer {
    state: Arc<AppState>,
    name: String,
    room: Arc<Room>,
    viewer: Arc<Viewer>,
    _admission: Admission,
    _connected: Connected,
}

impl Drop for MjpegViewer {
    fn drop(&mut self) {
        self.room.leave(&self.viewer);
        self.state.rooms.tidy(&self.name);
        self.state.release_memory_soon();
    }
}

/// `GET /rooms/{room}/mjpeg`: the room's annotated frames as they are drawn, one JPEG per
/// part, latest wins (a slow client skips frames, it never queues them).
pub(crate) async fn mjpeg(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refusal) = view_refusal(&state, &headers, &query) {
        return refusal;
    }
    let admission = match admit(&state, peer, &headers) {
        Ok(admission) => admission,
        Err(refusal) => return refusal.into_response(),
    };
    let viewer = Viewer::new(state.next_id("m"), "mjpeg", Frames::Annotated);
    let room = state.rooms.join(&name, viewer.clone());
    state.watch_room(&name, &room);
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
