//! Starting a server-side source as a room's camera: it takes the room's camera seat (and,
//! in a cluster, the room's claim), is registered by room, counted in `livepose_sources`,
//! and its task started. The task holds a [`Registration`] that gives all of it back when
//! the task ends, on every path (`registration`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::watch;

use super::ingest::{self, Ingest};
use super::registration::Registration;
use crate::rooms::{CameraKind, RoomName};
use crate::sources::{find_ffmpeg, Running, SourceSpec};
use crate::state::AppState;

/// Why a source could not be started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error("ffmpeg is not installed (no `ffmpeg` on PATH): server-side sources need it")]
    NoFfmpeg,
    #[error("room {0:?} has a source already (DELETE /rooms/{0}/source first)")]
    SourceExists(RoomName),
    #[error("room {0:?} has a camera already")]
    CameraTaken(RoomName),
    #[error("{0} sources run already: the server's limit (max_sources, --max-sources)")]
    TooMany(usize),
}

/// Starts `spec` as the camera of room `room`.
pub(crate) fn start(
    state: &Arc<AppState>,
    room: &RoomName,
    spec: SourceSpec,
) -> Result<(), StartError> {
    let exe = find_ffmpeg().ok_or(StartError::NoFfmpeg)?;
    let mut running = state.sources.running.lock();
    if running.contains_key(room) {
        return Err(StartError::SourceExists(room.clone()));
    }
    if running.len() >= state.config.max_sources {
        return Err(StartError::TooMany(running.len()));
    }
    let id = state.sources.next_id.fetch_add(1, Ordering::Relaxed);
    // In a cluster, another node's camera may hold the room: the source then stops.
    let on_taken = {
        let (state, room) = (state.clone(), room.clone());
        move |node: String| {
            tracing::warn!(%room, %node, "source stopped: the room's camera is on another node");
            let running = state.sources.running.lock();
            if let Some(running) = running.get(&room).filter(|r| r.id == id) {
                running.stop.send_replace(true);
            }
        }
    };
    let seat = state
        .take_camera_seat(room, CameraKind::Source, on_taken)
        .ok_or_else(|| StartError::CameraTaken(room.clone()))?;
    let (stop, stop_rx) = watch::channel(false);
    let url = spec.public_url().clone();
    let kind = spec.kind.as_str();
    tracing::info!(%room, %url, "source started");
    state.metrics.sources.inc();
    let registration = Registration::new(state.clone(), room.clone(), id, seat);
    let task = tokio::spawn(ingest::run(Ingest {
        state: state.clone(),
        spec,
        ffmpeg: exe,
        stop: stop_rx,
        registration,
    }));
    running.insert(
        room.clone(),
        Running {
            id,
            url,
            kind,
            stop,
            task,
        },
    );
    Ok(())
}
