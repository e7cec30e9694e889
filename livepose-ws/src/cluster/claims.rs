//! A room's camera seat across the cluster: the key of the room in the `livepose_cameras`
//! bucket, created by the node whose camera takes the seat (creation is atomic: of two
//! nodes racing, one wins and the other's camera gets `camera_taken`). The bucket's
//! `max_age` is the claim's time-to-live ([`CLAIM_TTL`]); the holder renews it every third
//! of that with a revision-checked update, and deletes it when the camera leaves. A node
//! that dies stops renewing, and its claim expires.
//!
//! While NATS is unreachable a camera is admitted on its node alone (local rooms keep
//! working), with its claim pending: the renewer takes it when NATS returns, or tells the
//! camera it was lost if another node took the room meanwhile.

use async_nats::jetstream::kv::{CreateErrorKind, Operation, UpdateErrorKind};
use std::sync::Arc;
use tokio::sync::watch;

use super::node::{Bucket, Node, CLAIM_TTL, CLAIM_WAIT};
use super::subjects::room_token;

/// What claiming a room's camera seat gave.
pub(crate) enum ClaimOutcome {
    /// The seat is this node's (or pending while NATS is unreachable).
    Held(Claim),
    /// Another node's camera holds it.
    Taken {
        /// The node that holds it.
        node: String,
    },
}

/// Where a claim stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Standing {
    /// Waiting for NATS.
    Pending,
    /// In the bucket, this node's.
    Held,
    /// Another node (named) took the room.
    Lost(String),
}

/// A claim: renewed (or taken, while pending) as long as it lives, released when dropped.
pub(crate) struct Claim {
    cluster: Arc<Node>,
    key: String,
    renewer: tokio::task::JoinHandle<()>,
    standing: watch::Receiver<Standing>,
}

impl Claim {
    /// Resolves once the claim is in the bucket (at once unless it is pending); `Err(node)`
    /// if another node took the room first.
    pub(crate) async fn held(&mut self) -> Result<(), String> {
        let standing = self
            .standing
            .wait_for(|s| *s != Standing::Pending)
            .await
            .map(|s| s.clone());
        match standing {
            Ok(Standing::Lost(node)) => Err(node),
            Ok(_) => Ok(()),
            Err(_) => std::future::pending().await,
        }
    }

    /// Resolves with the node that took the room if this node loses it (after losing NATS
    /// for longer than the claim's time-to-live); never otherwise.
    pub(crate) async fn lost(&mut self) -> String {
        let standing = self
            .standing
            .wait_for(|s| matches!(s, Standing::Lost(_)))
            .await
            .map(|s| s.clone());
        match standing {
            Ok(Standing::Lost(node)) => node,
            _ => std::future::pending().await,
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.renewer.abort();
        let revision = self.cluster.held.lock().remove(&self.key);
        if let (Some(revision), Ok(runtime)) = (revision, tokio::runtime::Handle::try_current()) {
            let (cluster, key) = (self.cluster.clone(), self.key.clone());
            runtime.spawn(async move { cluster.release_claim(&key, revision).await });
        }
    }
}

/// Claims `room`'s camera seat for this node.
pub(crate) async fn claim(cluster: &Arc<Node>, room: &str) -> ClaimOutcome {
    let key = room_token(room);
    let first = if *cluster.online().borrow() {
        tokio::time::timeout(CLAIM_WAIT, try_create(cluster, &key))
            .await
            .unwrap_or(Attempt::Unreachable)
    } else {
        Attempt::Unreachable
    };
    let revision = match first {
        Attempt::Created(revision) => Some(revision),
        Attempt::HeldBy(node) => return ClaimOutcome::Taken { node },
        Attempt::Unreachable => {
            tracing::warn!(
                room,
                "NATS unreachable: camera admitted here, its claim pending"
            );
            None
        }
    };
    if let Some(revision) = revision {
        cluster.held.lock().insert(key.clone(), revision);
    }
    let first = match revision {
        Some(_) => Standing::Held,
        None => Standing::Pending,
    };
    let (standing_tx, standing) = watch::channel(first);
    let renewer = tokio::spawn(renew(
        Arc::downgrade(cluster),
        key.clone(),
        revision,
        standing_tx,
    ));
    ClaimOutcome::Held(Claim {
        cluster: cluster.clone(),
        key,
        renewer,
        standing,
    })
}

enum Attempt {
    Created(u64),
    HeldBy(String),
    Unreachable,
}

/// Creates the key, or says who holds it.
async fn try_create(cluster: &Node, key: &str) -> Attempt {
    let store = match cluster.bucket(Bucket::Cameras).await {
        Ok(store) => store,
        Err(e) => {
            tracing::debug!("camera claims: no bucket: {e}");
            return Attempt::Unreachable;
        }
    };
    match store
        .create(key, cluster.node_id().to_string().into())
        .await
    {
        Ok(revision) => Attempt::Created(revision),
        Err(e) if e.kind() == CreateErrorKind::AlreadyExists => match store.entry(key).await {
            // Ours: a create or update of this node's that timed out here but reached NATS
            // (async-nats sends what was queued once it reconnects).
            Ok(Some(entry)) if entry.operation != Operation::Put => Attempt::Unreachable,
            Ok(Some(entry)) if entry.value.as_ref() == cluster.node_id().as_bytes() => {
                Attempt::Created(entry.revision)
            }
            Ok(Some(entry)) => Attempt::HeldBy(String::from_utf8_lossy(&entry.value).into_owned()),
            // Expired or deleted between the two calls: try again at the next tick.
            Ok(None) | Err(_) => Attempt::Unreachable,
        },
        Err(e) => {
            tracing::debug!("camera claims: {e}");
            cluster.forget_bucket(Bucket::Cameras).await;
            Attempt::Unreachable
        }
    }
}

/// Renews the claim every third of its time-to-live (or takes it, while pending) until it
/// is dropped or lost.
async fn renew(
    cluster: std::sync::Weak<Node>,
    key: String,
    mut revision: Option<u64>,
    standing: watch::Sender<Standing>,
) {
    let mut ticks = tokio::time::interval(CLAIM_TTL / 3);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(cluster) = cluster.upgrade() else {
            return;
        };
        // Shutting down: `release_all` deletes what is held; renewing would bring it back.
        if cluster.is_closing() {
            return;
        }
        let attempt = async {
            match revision {
                Some(held) => {
                    let store = cluster.bucket(Bucket::Cameras).await.ok()?;
                    let update = store
                        .update(&key, cluster.node_id().to_string().into(), held)
                        .await;
                    match update {
                        Ok(next) => Some(Ok(next)),
                        // Expired while NATS was away, or taken: take it again if free.
                        Err(e) if e.kind() == UpdateErrorKind::WrongLastRevision => {
                            Some(match try_create(&cluster, &key).await {
                                Attempt::Created(next) => Ok(next),
                                Attempt::HeldBy(node) => Err(node),
                                Attempt::Unreachable => return None,
                            })
                        }
                        Err(_) => {
                            cluster.forget_bucket(Bucket::Cameras).await;
                            None
                        }
                    }
                }
                None => match try_create(&cluster, &key).await {
                    Attempt::Created(next) => Some(Ok(next)),
                    Attempt::HeldBy(node) => Some(Err(node)),
                    Attempt::Unreachable => None,
                },
            }
        };
        match tokio::time::timeout(CLAIM_WAIT, attempt).await {
            Ok(Some(Ok(next))) if !cluster.is_closing() => {
                revision = Some(next);
                cluster.held.lock().insert(key.clone(), next);
                standing.send_replace(Standing::Held);
            }
            Ok(Some(Ok(_))) => return,
            Ok(Some(Err(node))) => {
                tracing::warn!(room = %key, %node, "camera claim lost to another node");
                cluster.held.lock().remove(&key);
                standing.send_replace(Standing::Lost(node));
                return;
            }
            // NATS unreachable: try again at the next tick.
            Ok(None) | Err(_) => {}
        }
    }
}
