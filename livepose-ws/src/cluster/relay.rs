//! The camera side of a room across nodes. The node whose camera holds a room relays it
//! ([`CameraRelay`]): a relay viewer in the room (latest wins, like any viewer) whose results
//! it publishes on the room's `results` subject, its frames on `frames` and its annotated
//! frames on `annotated` while some node said in the last few seconds that it has viewers
//! wanting them (it draws only then), and a heartbeat on `camera` every second (`left` when
//! the camera goes). The viewers' side is `feed`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::StreamExt;
use parking_lot::Mutex;

use super::node::Node;
use super::subjects::{header, headers, room_subject, RoomSubject, KIND_HEADER};
use crate::message::OutMessage;
use crate::rooms::{Frames, Room, Viewer};

/// How often the camera's node says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often a node with viewers that want frames says so; the camera's node publishes
/// frames while the last such word is younger than three of these.
pub(crate) const INTEREST_EVERY: Duration = Duration::from_secs(2);

/// Publishes a room's camera for the other nodes while it lives.
pub(crate) struct CameraRelay {
    cluster: Arc<Node>,
    name: String,
    relays: Arc<Relays>,
    task: tokio::task::JoinHandle<()>,
}

/// The relay viewers in the camera's room: one for results and camera frames, and one for
/// annotated frames while some node wants them (the camera's node draws only then).
struct Relays {
    room: Arc<Room>,
    frames: Arc<Viewer>,
    annotated: Mutex<Option<Arc<Viewer>>>,
}

impl Relays {
    /// The annotated relay, added to the room if it is not there.
    fn want_annotated(&self, node: &str) -> Arc<Viewer> {
        self.annotated
            .lock()
            .get_or_insert_with(|| {
                let relay =
                    Viewer::new(format!("nats:{node}:annotated"), "nats", Frames::Annotated);
                self.room.audience.add_relay(relay.clone());
                relay
            })
            .clone()
    }

    /// Removes the annotated relay, if there is one.
    fn drop_annotated(&self) {
        if let Some(relay) = self.annotated.lock().take() {
            self.room.audience.remove_relay(&relay);
        }
    }
}

impl CameraRelay {
    /// Starts relaying room `name`, whose camera is on this node.
    pub(crate) fn start(cluster: &Arc<Node>, name: &str, room: &Arc<Room>) -> Self {
        let frames = Viewer::new(
            format!("nats:{}", cluster.node_id()),
            "nats",
            Frames::Camera,
        );
        room.audience.add_relay(frames.clone());
        let relays = Arc::new(Relays {
            room: room.clone(),
            frames,
            annotated: Mutex::new(None),
        });
        let task = tokio::spawn(publish(cluster.clone(), name.to_string(), relays.clone()));
        CameraRelay {
            cluster: cluster.clone(),
            name: name.to_string(),
            relays,
            task,
        }
    }
}

impl Drop for CameraRelay {
    fn drop(&mut self) {
        self.task.abort();
        self.relays.room.audience.remove_relay(&self.relays.frames);
        self.relays.drop_annotated();
        let client = self.cluster.client().clone();
        let subject = room_subject(&self.name, RoomSubject::Camera);
        let headers = headers(self.cluster.node_id(), "left");
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = client
                    .publish_with_headers(subject, headers, Bytes::new())
                    .await;
            });
        }
    }
}

/// The next item of an optional slot, or never.
async fn next_of(slot: Option<&livepose_core::slot::LatestSlot<Bytes>>) -> Option<Bytes> {
    match slot {
        Some(slot) => slot.wait().await,
        None => std::future::pending().await,
    }
}

/// The camera side: results, frames and annotated frames (while wanted), the heartbeat.
async fn publish(cluster: Arc<Node>, name: String, relays: Arc<Relays>) {
    let client = cluster.client().clone();
    let node = cluster.node_id().to_string();
    let results = room_subject(&name, RoomSubject::Results);
    let frames_subject = room_subject(&name, RoomSubject::Frames);
    let annotated_subject = room_subject(&name, RoomSubject::Annotated);
    let camera = room_subject(&name, RoomSubject::Camera);
    let mut interest = match client
        .subscribe(room_subject(&name, RoomSubject::Interest))
        .await
    {
        Ok(subscriber) => Some(subscriber),
        Err(e) => {
            tracing::warn!(room = %name, "no frames for other nodes: {e}");
            None
        }
    };
    let relay = &relays.frames;
    let mut frames_until: Option<Instant> = None;
    let mut annotated_until: Option<Instant> = None;
    let mut beat = tokio::time::interval(HEARTBEAT);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // While NATS is down nothing is published: async-nats would queue it all and send a
    // stale backlog (and heartbeats) when it returns.
    let online = cluster.online();
    let wanted = |until: Option<Instant>| until.is_some_and(|until| Instant::now() < until);
    loop {
        let annotated = relays.annotated.lock().clone();
        let asked = async {
            match &mut interest {
                Some(interest) => interest.next().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            out = relay.results.wait() => {
                let (kind, payload) = match out {
                    Some(OutMessage::Binary(bytes)) => ("binary", bytes),
                    Some(OutMessage::Text(text)) => ("text", Bytes::from(text.as_str().to_owned())),
                    None => return,
                };
                if *online.borrow() {
                    let _ = client.publish_with_headers(results.clone(), headers(&node, kind), payload).await;
                }
            }
            Some(frame) = next_of(relay.frames.as_ref()) => {
                if *online.borrow() && wanted(frames_until) {
                    let _ = client
                        .publish_with_headers(frames_subject.clone(), headers(&node, "frame"), frame)
                        .await;
                }
            }
            Some(jpeg) = next_of(annotated.as_ref().and_then(|a| a.frames.as_ref())) => {
                if *online.borrow() {
                    let _ = client
                        .publish_with_headers(annotated_subject.clone(), headers(&node, "annotated"), jpeg)
                        .await;
                }
            }
            Some(asked) = asked => {
                let until = Some(Instant::now() + 3 * INTEREST_EVERY);
                match header(&asked, KIND_HEADER) {
                    Some("annotated") => {
                        annotated_until = until;
                        relays.want_annotated(&node);
                    }
                    _ => frames_until = until,
                }
            }
            _ = beat.tick(), if *online.borrow() => {
                let _ = client.publish_with_headers(camera.clone(), headers(&node, "alive"), Bytes::new()).await;
                // No node asked for annotated frames lately: stop drawing them.
                if !wanted(annotated_until) {
                    relays.drop_annotated();
                }
            }
        }
    }
}
