//! This node's membership in the cluster, as the rest of the server sees it ([`Cluster`]):
//! joining, a camera's claim on its room, feeding rooms with viewers here, the cluster's
//! views, and leaving.

use std::sync::Arc;

use serde_json::Value;

use super::camera::HeldCamera;
use super::feed::Feeds;
use super::node::{ClusterError, Node};
use super::views::{self, Gathered};
use crate::rooms::Room;

/// This node's membership in a cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    node: Arc<Node>,
    feeds: Arc<Feeds>,
}

impl Cluster {
    /// Joins the cluster through the NATS server at `url` as `node_id` (connecting in the
    /// background, retrying, so the server starts while NATS is down).
    pub(crate) async fn connect(url: &str, node_id: String) -> Result<Self, ClusterError> {
        Ok(Cluster {
            node: Node::connect(url, node_id).await?,
            feeds: Arc::default(),
        })
    }

    /// Claims room `name`'s camera seat across the cluster for the camera seated here, and
    /// relays the room while it holds it (until the returned claim drops); `on_taken(node)`
    /// runs if another node's camera has it, now or later.
    pub(crate) fn hold_camera(
        &self,
        name: &str,
        room: &Arc<Room>,
        on_taken: impl FnOnce(String) + Send + 'static,
    ) -> HeldCamera {
        HeldCamera::start(&self.node, name, room, on_taken)
    }

    /// Feeds room `name` from the other nodes while it has viewers here.
    pub(crate) fn watch_room(&self, name: &str, room: &Arc<Room>) {
        self.feeds.ensure(&self.node, name, room);
    }

    /// Answers the other nodes' view requests with `answer(path)` (`streams`, `rooms`,
    /// `rooms/NAME`) until the node leaves.
    pub(crate) fn serve_views(&self, answer: impl Fn(&str) -> Value + Send + Sync + 'static) {
        views::serve(&self.node, answer);
    }

    /// Every node's answer to `path`.
    pub(crate) async fn gather(&self, path: &str) -> Gathered {
        views::gather(&self.node, path).await
    }

    /// Leaves the cluster: its claims released, its listing withdrawn.
    pub(crate) async fn shutdown(&self) {
        self.node.shutdown().await;
    }
}
