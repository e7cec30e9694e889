//! Rooms across nodes. The node whose camera holds a room relays it ([`CameraRelay`]): a
//! relay viewer in the room (latest wins, like any viewer) whose results it publishes on the
//! room's `results` subject, its frames on `frames` and its annotated frames on `annotated`
//! while some node said in the last few seconds that it has viewers wanting them (it draws
//! only then), and a heartbeat on `camera` every second (`left` when the camera goes). A node with viewers of a room feeds it ([`Feeds`]) while
//! it has any: it subscribes to those subjects and hands what comes to its viewers, skipping
//! what it published itself; when the camera's heartbeat stops for [`CAMERA_SILENCE`], or
//! NATS goes down, it tells them `camera_lost`, and `camera_back` when the camera's messages
//! return.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use async_nats::HeaderMap;
use axum::body::Bytes;
use futures_util::StreamExt;
use livepose_core::wire::control::{CameraBack, CameraLost, CameraLostReason, ServerMessage};
use parking_lot::Mutex;

use super::subjects::{room_subject, RoomSubject};
use super::Cluster;
use crate::out::OutMessage;
use crate::rooms::{Frames, Room, Viewer};

/// A remote camera silent this long is lost (its heartbeat comes every second).
pub(crate) const CAMERA_SILENCE: Duration = Duration::from_secs(3);
/// How often the camera's node says it is alive.
const HEARTBEAT: Duration = Duration::from_secs(1);
/// How often a node with viewers that want frames says so; the camera's node publishes
/// frames while the last such word is younger than three of these.
const INTEREST_EVERY: Duration = Duration::from_secs(2);

const NODE_HEADER: &str = "Livepose-Node";
const KIND_HEADER: &str = "Livepose-Kind";

fn headers(node: &str, kind: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(NODE_HEADER, node);
    headers.insert(KIND_HEADER, kind);
    headers
}

fn header<'a>(message: &'a async_nats::Message, name: &str) -> Option<&'a str> {
    message.headers.as_ref()?.get(name).map(|v| v.as_str())
}

/// `camera_lost` for the viewers of `room`, whose camera was on `node`.
fn camera_lost(room: &str, node: &str, reason: CameraLostReason) -> String {
    ServerMessage::CameraLost(CameraLost {
        room: room.to_string(),
        node: node.to_string(),
        reason,
    })
    .to_json()
}

/// `camera_back` for the viewers of `room`, whose camera is on `node`.
fn camera_back(room: &str, node: &str) -> String {
    ServerMessage::CameraBack(CameraBack {
        room: room.to_string(),
        node: node.to_string(),
    })
    .to_json()
}

/// Publishes a room's camera for the other nodes while it lives.
pub(crate) struct CameraRelay {
    cluster: Arc<Cluster>,
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
                self.room.add_relay(relay.clone());
                relay
            })
            .clone()
    }

    /// Removes the annotated relay, if there is one.
    fn drop_annotated(&self) {
        if let Some(relay) = self.annotated.lock().take() {
            self.room.remove_relay(&relay);
        }
    }
}

impl CameraRelay {
    /// Starts relaying room `name`, whose camera is on this node.
    pub(crate) fn start(cluster: &Arc<Cluster>, name: &str, room: &Arc<Room>) -> Self {
        let frames = Viewer::new(
            format!("nats:{}", cluster.node_id()),
            "nats",
            Frames::Camera,
        );
        room.add_relay(frames.clone());
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
        self.relays.room.remove_relay(&self.relays.frames);
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
async fn publish(cluster: Arc<Cluster>, name: String, relays: Arc<Relays>) {
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

/// A fed room, and the task feeding it.
type Fed = (Weak<Room>, tokio::task::JoinHandle<()>);

/// The rooms this node feeds from other nodes, by name.
#[derive(Default)]
pub(crate) struct Feeds {
    feeds: Mutex<HashMap<String, Fed>>,
}

impl Feeds {
    /// Feeds room `name` from the other nodes while it has viewers (if not already).
    pub(crate) fn ensure(&self, cluster: &Arc<Cluster>, name: &str, room: &Arc<Room>) {
        let mut feeds = self.feeds.lock();
        if let Some((fed, task)) = feeds.get(name) {
            if !task.is_finished() && fed.upgrade().is_some_and(|fed| Arc::ptr_eq(&fed, room)) {
                return;
            }
        }
        // Watched from here, not from inside the task: a viewer that leaves before the task
        // first runs must still be seen leaving.
        let mut viewers = room.watch_viewers();
        viewers.mark_changed();
        let task = tokio::spawn(feed(
            Arc::downgrade(cluster),
            name.to_string(),
            room.clone(),
            viewers,
        ));
        feeds.insert(name.to_string(), (Arc::downgrade(room), task));
    }

    /// Whether the feed of `room` may end: it has no viewer left (checked under the lock
    /// [`ensure`](Self::ensure) takes, so that a viewer joining meanwhile keeps it).
    fn may_end(&self, name: &str, room: &Arc<Room>) -> bool {
        let mut feeds = self.feeds.lock();
        if room.viewer_count() > 0 && !room.is_closed() {
            return false;
        }
        if feeds
            .get(name)
            .is_some_and(|(fed, _)| fed.upgrade().is_some_and(|fed| Arc::ptr_eq(&fed, room)))
        {
            feeds.remove(name);
        }
        true
    }
}

/// What a feed knows of the room's remote camera.
struct RemoteCamera {
    node: String,
    last_heard: Instant,
    lost: bool,
}

/// The viewer side of one room: subscribes, hands results and frames to the viewers, says
/// `camera_lost` / `camera_back`, and ends when the room has no viewer left.
async fn feed(
    cluster: Weak<Cluster>,
    name: String,
    room: Arc<Room>,
    mut viewers: tokio::sync::watch::Receiver<usize>,
) {
    let Some(strong) = cluster.upgrade() else {
        return;
    };
    let client = strong.client().clone();
    let me = strong.node_id().to_string();
    let mut online = strong.online();
    drop(strong);
    let subscribe = |what| client.subscribe(room_subject(&name, what));
    let (Ok(mut results), Ok(mut frames), Ok(mut annotated), Ok(mut camera)) = (
        subscribe(RoomSubject::Results).await,
        subscribe(RoomSubject::Frames).await,
        subscribe(RoomSubject::Annotated).await,
        subscribe(RoomSubject::Camera).await,
    ) else {
        tracing::warn!(room = %name, "cannot subscribe to the room's subjects");
        return;
    };
    let interest = room_subject(&name, RoomSubject::Interest);
    let mut remote: Option<RemoteCamera> = None;
    let mut check = tokio::time::interval(Duration::from_millis(250));
    let mut ask = tokio::time::interval(INTEREST_EVERY);
    // Heard from the camera's node: note it, and say `camera_back` after a loss.
    let heard = |remote: &mut Option<RemoteCamera>, node: &str| match remote {
        Some(camera) if camera.node == node => {
            camera.last_heard = Instant::now();
            if std::mem::replace(&mut camera.lost, false) {
                room.notify(&camera_back(&name, node));
            }
        }
        _ => {
            *remote = Some(RemoteCamera {
                node: node.to_string(),
                last_heard: Instant::now(),
                lost: false,
            })
        }
    };
    let lose = |remote: &mut Option<RemoteCamera>, reason: CameraLostReason| {
        if let Some(camera) = remote.as_mut().filter(|c| !c.lost) {
            camera.lost = true;
            room.notify(&camera_lost(&name, &camera.node, reason));
        }
    };
    loop {
        tokio::select! {
            Some(message) = results.next() => {
                let Some(node) = header(&message, NODE_HEADER).filter(|n| *n != me) else { continue };
                heard(&mut remote, node);
                let out = match header(&message, KIND_HEADER) {
                    Some("text") => match std::str::from_utf8(&message.payload) {
                        Ok(text) => OutMessage::text(text.to_owned()),
                        Err(_) => continue,
                    },
                    _ => OutMessage::Binary(message.payload.clone()),
                };
                room.publish_result(&out);
            }
            Some(message) = frames.next() => {
                let Some(node) = header(&message, NODE_HEADER).filter(|n| *n != me) else { continue };
                heard(&mut remote, node);
                room.publish_frame(&message.payload);
            }
            Some(message) = annotated.next() => {
                let Some(node) = header(&message, NODE_HEADER).filter(|n| *n != me) else { continue };
                heard(&mut remote, node);
                room.publish_annotated(&message.payload);
            }
            Some(message) = camera.next() => {
                let Some(node) = header(&message, NODE_HEADER).filter(|n| *n != me) else { continue };
                match header(&message, KIND_HEADER) {
                    // Only the camera this node follows: a late `left` of an earlier holder
                    // says nothing of the room's camera now.
                    Some("left") if remote.as_ref().is_some_and(|c| c.node == node) => {
                        lose(&mut remote, CameraLostReason::CameraLeft);
                        remote = None;
                    }
                    Some("left") => {}
                    _ => heard(&mut remote, node),
                }
            }
            _ = check.tick() => {
                if remote.as_ref().is_some_and(|c| c.last_heard.elapsed() > CAMERA_SILENCE) {
                    lose(&mut remote, CameraLostReason::NodeLost);
                }
            }
            _ = ask.tick(), if *online.borrow() => {
                for (wants, kind) in [(Frames::Camera, "frames"), (Frames::Annotated, "annotated")] {
                    if room.viewers_want(wants) {
                        let _ = client.publish_with_headers(interest.clone(), headers(&me, kind), Bytes::new()).await;
                    }
                }
            }
            Ok(()) = online.changed() => {
                if !*online.borrow() {
                    lose(&mut remote, CameraLostReason::NatsDown);
                }
            }
            changed = viewers.changed() => {
                let no_viewers = changed.is_err() || *viewers.borrow() == 0;
                let Some(cluster) = cluster.upgrade() else { return };
                if no_viewers && cluster.feeds.may_end(&name, &room) {
                    return;
                }
            }
            () = room.closed() => {
                if let Some(cluster) = cluster.upgrade() {
                    cluster.feeds.may_end(&name, &room);
                }
                return;
            }
        }
    }
}
