//! The running server-side sources by room (`transport::source` starts them): listing and
//! stopping them.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::redact::RedactedUrl;
use crate::rooms::RoomName;

/// How long stopping a source waits for its task (and ffmpeg) to end.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// One running source.
pub(crate) struct Running {
    /// Tells this run apart from a later one of the same room.
    pub(crate) id: u64,
    pub(crate) url: RedactedUrl,
    /// `mjpeg`, `rtsp` or `file`.
    pub(crate) kind: &'static str,
    pub(crate) stop: watch::Sender<bool>,
    pub(crate) task: JoinHandle<()>,
}

/// The running sources, by room.
#[derive(Default)]
pub(crate) struct Sources {
    pub(crate) running: Mutex<HashMap<RoomName, Running>>,
    pub(crate) next_id: AtomicU64,
}

impl Sources {
    /// The rooms with a source and their URLs (secrets hidden).
    pub(crate) fn list(&self) -> Vec<(RoomName, RedactedUrl)> {
        let mut list: Vec<_> = self
            .running
            .lock()
            .iter()
            .map(|(room, r)| (room.clone(), r.url.clone()))
            .collect();
        list.sort_by(|a, b| a.0.cmp(&b.0));
        list
    }

    /// The URL (secrets hidden) and kind of `room`'s source, if it has one.
    pub(crate) fn get(&self, room: &str) -> Option<(RedactedUrl, &'static str)> {
        let running = self.running.lock();
        running.get(room).map(|r| (r.url.clone(), r.kind))
    }

    /// Stops the source of `room` and waits (a while) for its ffmpeg to end; false if it
    /// had none.
    pub(crate) async fn stop(&self, room: &str) -> bool {
        let Some(running) = self.running.lock().remove(room) else {
            return false;
        };
        finish(running).await;
        true
    }

    /// Stops every source and waits (a while) for them.
    pub(crate) async fn stop_all(&self) {
        let all: Vec<Running> = self.running.lock().drain().map(|(_, r)| r).collect();
        for running in all {
            finish(running).await;
        }
    }
}

async fn finish(running: Running) {
    running.stop.send_replace(true);
    let mut task = running.task;
    if tokio::time::timeout(STOP_WAIT, &mut task).await.is_err() {
        // Dropping the task's future kills its ffmpeg (`kill_on_drop`).
        task.abort();
    }
}
