//! What this node shows of itself: its streams (`/streams`) and its rooms' figures
//! (`/rooms`, `/rooms/{room}`, docs/protocol.md §8.2), as JSON, for its own answers and for
//! the cluster's (`?scope=cluster`).

use std::sync::atomic::Ordering;
use std::time::Instant;

use serde::Serialize;

use crate::rooms::{CameraFigures, Room, RoomName, ViewersFigures};
use crate::sources::RedactedUrl;
use crate::state::AppState;

/// This node's streams, as `/streams` shows them.
pub(crate) fn streams_json(state: &AppState) -> serde_json::Value {
    let list: Vec<_> = state
        .streams
        .list()
        .iter()
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

/// A room's figures, as `GET /rooms/{room}` shows them (docs/protocol.md §8.2).
#[derive(Debug, Serialize)]
struct RoomFigures {
    room: RoomName,
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
    url: RedactedUrl,
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

fn figures(state: &AppState, name: &RoomName, room: &Room) -> RoomFigures {
    let now = Instant::now();
    let stream = room.occupant().map(|occupant| {
        let id = occupant.stream_id.as_ref();
        let stream = id.and_then(|id| state.streams.get(id));
        (occupant, stream)
    });
    let (camera, frames_dropped) = match stream {
        Some((occupant, stream)) => {
            let options = stream.as_ref().map(|s| s.model_and_hands());
            let source = state.sources.get(name.as_str());
            let info = CameraInfo {
                kind: occupant.kind.as_str(),
                source: source.map(|(url, kind)| SourceInfo { kind, url }),
                stream_id: occupant.stream_id,
                model: options.map(|(model, _)| model.as_str()),
                hands: options.map(|(_, hands)| hands),
            };
            (Some(info), stream.map_or(0, |s| s.frames_dropped()))
        }
        None => (None, 0),
    };
    let viewers = room.audience.viewers();
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
        room: name.clone(),
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
    let name = RoomName::parse(name).ok()?;
    let room = state.rooms.get(name.as_str())?;
    serde_json::to_value(figures(state, &name, &room)).ok()
}
