//! The viewers' side of a room across nodes. A node with viewers of a room feeds it
//! ([`Feeds`]) while it has any: it subscribes to the room's subjects and hands what comes to
//! its viewers, skipping what it published itself; when the camera's heartbeat stops for
//! [`CAMERA_SILENCE`], or NATS goes down, it tells them `camera_lost`, and `camera_back` when
//! the camera's messages return.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use futures_util::StreamExt;
use livepose_core::wire::control::{CameraBack, CameraLost, CameraLostReason, ServerMessage};
use parking_lot::Mutex;

use super::node::Node;
use super::relay::INTEREST_EVERY;
use super::subjects::{header, headers, room_subject, RoomSubject, KIND_HEADER, NODE_HEADER};
use crate::message::OutMessage;
use crate::rooms::{Frames, Room};

/// A remote camera silent this long is lost (its heartbeat comes every second).
pub(crate) const CAMERA_SILENCE: Duration = Duration::from_secs(3);

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

/// A fed room, and the task feeding it.
type Fed = (Weak<Room>, tokio::task::JoinHandle<()>);

/// The rooms this node feeds from other nodes, by name.
#[derive(Debug, Default)]
pub(crate) struct Feeds {
    feeds: Mutex<HashMap<String, Fed>>,
}

impl Feeds {
    /// Feeds room `name` from the other nodes while it has viewers (if not already).
    pub(crate) fn ensure(self: &Arc<Self>, node: &Arc<Node>, name: &str, room: &Arc<Room>) {
        let mut feeds = self.feeds.lock();
        if let Some((fed, task)) = feeds.get(name) {
            if !task.is_finished() && fed.upgrade().is_some_and(|fed| Arc::ptr_eq(&fed, room)) {
                return;
            }
        }
        // Watched from here, not from inside the task: a viewer that leaves before the task
        // first runs must still be seen leaving.
        let mut viewers = room.audience.watch_count();
        viewers.mark_changed();
        let task = tokio::spawn(feed(
            Arc::downgrade(node),
            Arc::downgrade(self),
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
        if room.audience.count() > 0 && !room.is_closed() {
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
    cluster: Weak<Node>,
    feeds: Weak<Feeds>,
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
                room.audience.notify(&camera_back(&name, node));
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
            room.audience
                .notify(&camera_lost(&name, &camera.node, reason));
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
                room.audience.publish_result(&out);
            }
            Some(message) = frames.next() => {
                let Some(node) = header(&message, NODE_HEADER).filter(|n| *n != me) else { continue };
                heard(&mut remote, node);
                room.audience.publish_frames(Frames::Camera, &message.payload);
            }
            Some(message) = annotated.next() => {
                let Some(node) = header(&message, NODE_HEADER).filter(|n| *n != me) else { continue };
                heard(&mut remote, node);
                room.audience.publish_frames(Frames::Annotated, &message.payload);
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
                    if room.audience.viewers_want(wants) {
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
                let Some(feeds) = feeds.upgrade() else { return };
                if no_viewers && feeds.may_end(&name, &room) {
                    return;
                }
            }
            () = room.closed() => {
                if let Some(feeds) = feeds.upgrade() {
                    feeds.may_end(&name, &room);
                }
                return;
            }
        }
    }
}
