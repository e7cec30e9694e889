//! Cluster mode (`livepose serve --nats URL`): livepose nodes share rooms and the lists of
//! what they run over NATS, so a room's camera may land on one node and its viewers on
//! others behind a load balancer. Without `--nats` none of this exists.
//!
//! | module | job |
//! | --- | --- |
//! | `member` | [`Cluster`]: what the rest of the server calls |
//! | `node` | this node on NATS: the connection, the key-value buckets, its listing, leaving |
//! | `subjects` | room names as one subject token and key (`=XX` escapes); subjects; headers |
//! | `claims` | a room's camera seat across the cluster: a key with a time-to-live in `livepose_cameras`, created atomically, renewed, released on drop; pending while NATS is down |
//! | `camera` | [`HeldCamera`](camera::HeldCamera): a camera's claim and, while held, its relay |
//! | `relay` | the camera's node publishes the room's results, frames (while some node wants them) and a heartbeat |
//! | `feed` | a node with viewers of a room subscribes while it has any; `camera_lost` / `camera_back` |
//! | `views` | `/streams`, `/rooms` and `/rooms/{room}` for the whole cluster (`?scope=cluster`), gathered by request/reply with a timeout; the nodes that did not answer are listed |
//!
//! NATS is at-most-once: a result lost on the way is not sent again (latest wins anyway).
//! When NATS goes down, local rooms keep working; the client reconnects and resubscribes
//! by itself, and claims are taken again by their holders.

mod camera;
mod claims;
mod feed;
mod member;
mod node;
mod relay;
mod subjects;
mod views;

pub(crate) use member::Cluster;
pub(crate) use node::default_node_id;
pub use node::ClusterError;
pub(crate) use views::Gathered;
