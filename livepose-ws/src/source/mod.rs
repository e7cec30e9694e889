//! Server-side camera sources: the server pulls a stream (HTTP MJPEG, RTSP, or a local
//! file, looped) through an ffmpeg subprocess and feeds it into a room exactly as a camera
//! socket would. Set with `--source ROOM=URL` or `POST /rooms/{room}/source`, removed with
//! `DELETE /rooms/{room}/source` or `DELETE /rooms/{room}`.
//!
//! - [`crate::source_spec`]: the URL, checked and sorted into kinds;
//! - [`ffmpeg`]: the subprocess and its arguments;
//! - [`ingest`]: the task that feeds the room, reconnects and tells the viewers.
//!
//! Every source holds its room's camera seat, a stream in `/streams` (`src{n}`) and one in
//! the `livepose_sources` gauge while its task runs, and its task owns its ffmpeg: all of
//! it is released on every path the task ends by.

mod ffmpeg;
mod ingest;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::watch;

pub(crate) use crate::source_spec::SourceSpec;

use crate::source_registry::Running;
use crate::state::AppState;

/// Why a source could not be started.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error("ffmpeg is not installed (no `ffmpeg` on PATH): server-side sources need it")]
    NoFfmpeg,
    #[error("room {0:?} has a source already (DELETE /rooms/{0}/source first)")]
    SourceExists(String),
    #[error("room {0:?} has a camera already")]
    CameraTaken(String),
}

/// Starts `spec` as the camera of room `room`.
pub(crate) fn start(state: &Arc<AppState>, room: &str, spec: SourceSpec) -> Result<(), StartError> {
    let exe = ffmpeg::find().ok_or(StartError::NoFfmpeg)?;
    let mut running = state.sources.running.lock();
    if running.contains_key(room) {
        return Err(StartError::SourceExists(room.to_string()));
    }
    let seat = state
        .rooms
        .claim_camera(room, "source")
        .ok_or_else(|| StartError::CameraTaken(room.to_string()))?;
    let id = state.sources.next_id.fetch_add(1, Ordering::Relaxed);
    let (stop, stop_rx) = watch::channel(false);
    let url = spec.public_url();
    let kind = spec.kind.as_str();
    tracing::info!(room, %url, "source started");
    // In a cluster, another node's camera may hold the room: the source then stops.
    let held = state.hold_camera(room, &seat, {
        let (state, room) = (state.clone(), room.to_string());
        move |node| {
            tracing::warn!(%room, %node, "source stopped: the room's camera is on another node");
            if let Some(running) = state
                .sources
                .running
                .lock()
                .get(&room)
                .filter(|r| r.id == id)
            {
                running.stop.send_replace(true);
            }
        }
    });
    let guard = Seat {
        state: state.clone(),
        room_name: room.to_string(),
        room: seat.clone(),
        id,
        _held: held,
    };
    state.metrics.sources.inc();
    let task = tokio::spawn(ingest::run(ingest::Ingest {
        state: state.clone(),
        room_name: room.to_string(),
        room: seat,
        spec,
        ffmpeg: exe,
        stop: stop_rx,
        guard,
    }));
    running.insert(
        room.to_string(),
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

/// What a source's task holds: the room's camera seat, its place in the gauge and in the
/// running sources. Dropping it (the task ended, however) gives all of it back.
pub(crate) struct Seat {
    state: Arc<AppState>,
    room_name: String,
    room: Arc<crate::rooms::Room>,
    id: u64,
    /// Its claim on the room in a cluster (released after the seat, when dropped).
    _held: Option<crate::cluster::HeldCamera>,
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.room.release_camera();
        self.state.rooms.tidy(&self.room_name);
        self.state.metrics.sources.dec();
        let mut running = self.state.sources.running.lock();
        if running
            .get(&self.room_name)
            .is_some_and(|r| r.id == self.id)
        {
            running.remove(&self.room_name);
        }
        tracing::info!(room = %self.room_name, "source ended");
    }
}
