//! A room's camera on this node, as the cluster sees it: the claim on its seat, and the
//! relay of its results to the other nodes while the claim is held.

use std::sync::Arc;

use super::claims::{claim, ClaimOutcome};
use super::node::Node;
use super::relay::CameraRelay;
use crate::rooms::Room;

/// Holds a camera's seat in the cluster while it lives (aborts on drop: the claim is
/// released and the relay stops).
pub(crate) struct HeldCamera(tokio::task::JoinHandle<()>);

impl Drop for HeldCamera {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl HeldCamera {
    /// Claims room `name`'s camera seat in the cluster for a camera that holds the seat on
    /// this node, and relays the room while the claim is held. `on_taken(node)` runs if
    /// another node's camera holds the room, now or later (after this node lost NATS for
    /// longer than the claim lives): the caller then ends its camera with `camera_taken`.
    pub(crate) fn start(
        node: &Arc<Node>,
        name: &str,
        room: &Arc<Room>,
        on_taken: impl FnOnce(String) + Send + 'static,
    ) -> HeldCamera {
        let (cluster, name, room) = (node.clone(), name.to_string(), room.clone());
        HeldCamera(tokio::spawn(async move {
            match claim(&cluster, &name).await {
                ClaimOutcome::Taken { node } => on_taken(node),
                ClaimOutcome::Held(mut claim) => {
                    // Relayed only once the claim is in the bucket: a camera admitted while
                    // NATS was down must not be heard beside the room's real one.
                    if let Err(node) = claim.held().await {
                        return on_taken(node);
                    }
                    let _relay = CameraRelay::start(&cluster, &name, &room);
                    let node = claim.lost().await;
                    on_taken(node);
                }
            }
        }))
    }
}
