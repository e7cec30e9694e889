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

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv::{CreateErrorKind, UpdateErrorKind};
use tokio::sync::watch;

use super::subjects::room_token;
use super::{Bucket, Cluster, CLAIM_TTL};

/// Longest a claim waits for NATS before the camera is admitted with its claim pending.
const CLAIM_WAIT: Duration = Duration::from_secs(2);

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

/// A held claim: renewed while it lives, released when dropped.
pub(crate) struct Claim {
    cluster: Arc<Cluster>,
    key: String,
    renewer: tokio::task::JoinHandle<()>,
    lost: watch::Receiver<bool>,
}

impl Claim {
    /// Resolves if another node took the room (after this node lost NATS for longer than
    /// the claim's time-to-live); never otherwise.
    pub(crate) async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
        if !*self.lost.borrow() {
            std::future::pending::<()>().await;
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.renewer.abort();
        let revision = self.cluster.held.lock().remove(&self.key);
        if let (Some(revision), Ok(runtime)) = (revision, tokio::runtime::Handle::try_current()) {
            let (cluster, key) = (self.cluster.clone(), self.key.clone());
            runtime.spawn(async move { release(&cluster, &key, revision).await });
        }
    }
}

/// Claims `room`'s camera seat for this node.
pub(crate) async fn claim(cluster: &Arc<Cluster>, room: &str) -> ClaimOutcome {
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
    let (lost_tx, lost) = watch::channel(false);
    let renewer = tokio::spawn(renew(
        Arc::downgrade(cluster),
        key.clone(),
        revision,
        lost_tx,
    ));
    ClaimOutcome::Held(Claim {
        cluster: cluster.clone(),
        key,
        renewer,
        lost,
    })
}

enum Attempt {
    Created(u64),
    HeldBy(String),
    Unreachable,
}

/// Creates the key, or says who holds it.
async fn try_create(cluster: &Cluster, key: &str) -> Attempt {
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
        Err(e) if e.kind() == CreateErrorKind::AlreadyExists => match store.get(key).await {
            Ok(Some(node)) => Attempt::HeldBy(String::from_utf8_lossy(&node).into_owned()),
            // Gone between the two calls: say taken rather than loop.
            Ok(None) => Attempt::HeldBy("unknown".into()),
            Err(_) => Attempt::Unreachable,
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
    cluster: std::sync::Weak<Cluster>,
    key: String,
    mut revision: Option<u64>,
    lost: watch::Sender<bool>,
) {
    let mut ticks = tokio::time::interval(CLAIM_TTL / 3);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(cluster) = cluster.upgrade() else {
            return;
        };
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
            Ok(Some(Ok(next))) => {
                revision = Some(next);
                cluster.held.lock().insert(key.clone(), next);
            }
            Ok(Some(Err(node))) => {
                tracing::warn!(room = %key, %node, "camera claim lost to another node");
                cluster.held.lock().remove(&key);
                lost.send_replace(true);
                return;
            }
            // NATS unreachable: try again at the next tick.
            Ok(None) | Err(_) => {}
        }
    }
}

/// Deletes the claim if it is still this node's (`revision`).
async fn release(cluster: &Cluster, key: &str, revision: u64) {
    let delete = async {
        let store = cluster.bucket(Bucket::Cameras).await.ok()?;
        store.delete_expect_revision(key, Some(revision)).await.ok()
    };
    if tokio::time::timeout(CLAIM_WAIT, delete)
        .await
        .ok()
        .flatten()
        .is_none()
    {
        tracing::debug!(room = %key, "claim not released (it expires by itself)");
    }
}

/// Releases every claim this node holds (shutting down).
pub(crate) async fn release_all(cluster: &Cluster) {
    let held: Vec<(String, u64)> = cluster.held.lock().drain().collect();
    for (key, revision) in held {
        release(cluster, &key, revision).await;
    }
}
