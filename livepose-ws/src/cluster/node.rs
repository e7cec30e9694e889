//! This node on NATS: the connection (in the background, retrying, so the server starts
//! while NATS is down) and whether it is up, the key-value buckets, the camera claims this
//! node holds, its listing in `livepose_nodes` (renewed every third of [`NODE_TTL`], so a
//! dead node drops out), its tasks, and leaving (claims released, listing withdrawn).

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::jetstream::context::AccountErrorKind;
use async_nats::jetstream::{self, kv};
use tokio::sync::watch;

use super::subjects::room_token;

/// How long a camera claim lives unless its holder renews it (it renews every third of it).
pub(crate) const CLAIM_TTL: Duration = Duration::from_secs(6);
/// How long a node stays listed without announcing itself (it does every third of it).
pub(crate) const NODE_TTL: Duration = Duration::from_secs(6);
/// Longest the start waits for NATS to check that it has JetStream.
const JETSTREAM_CHECK_WAIT: Duration = Duration::from_secs(3);
/// Longest a claim's creation, renewal or release waits for NATS.
pub(crate) const CLAIM_WAIT: Duration = Duration::from_secs(2);

/// The cluster's key-value buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Bucket {
    /// Room → node holding its camera.
    Cameras,
    /// Node → its id, while it lives.
    Nodes,
}

impl Bucket {
    fn config(self) -> kv::Config {
        let (bucket, max_age) = match self {
            Bucket::Cameras => ("livepose_cameras", CLAIM_TTL),
            Bucket::Nodes => ("livepose_nodes", NODE_TTL),
        };
        kv::Config {
            bucket: bucket.to_string(),
            history: 1,
            max_age,
            ..Default::default()
        }
    }
}

/// This node on NATS.
pub(crate) struct Node {
    node_id: String,
    client: async_nats::Client,
    js: jetstream::Context,
    online: watch::Sender<bool>,
    /// Buckets opened so far (created if missing; forgotten on error, so that a NATS
    /// restarted without its data gets them again).
    buckets: tokio::sync::Mutex<HashMap<Bucket, kv::Store>>,
    /// The camera claims this node holds: key → revision (see `claims`).
    pub(super) held: parking_lot::Mutex<HashMap<String, u64>>,
    /// Shutting down: no claim is renewed or taken any more.
    closing: std::sync::atomic::AtomicBool,
    tasks: parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("node_id", &self.node_id)
            .finish()
    }
}

/// Why cluster mode could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot use NATS at {url}: {message}")]
pub struct ClusterError {
    url: String,
    message: String,
}

impl Node {
    /// Connects to `url` (in the background, retrying, so the server starts while NATS is
    /// down) and announces the node every few seconds.
    pub(crate) async fn connect(url: &str, node_id: String) -> Result<Arc<Self>, ClusterError> {
        let (online, _) = watch::channel(false);
        let events = online.clone();
        let client = async_nats::ConnectOptions::new()
            .name(format!("livepose {node_id}"))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((100 * 2u64.saturating_pow(attempts.min(5) as u32)).min(2000))
            })
            .event_callback(move |event| {
                let events = events.clone();
                async move {
                    match event {
                        async_nats::Event::Connected => {
                            events.send_replace(true);
                        }
                        async_nats::Event::Disconnected => {
                            events.send_replace(false);
                        }
                        other => tracing::debug!("nats: {other}"),
                    }
                }
            })
            .connect(url)
            .await
            .map_err(|e| ClusterError {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        let node = Arc::new(Node {
            node_id,
            js: jetstream::new(client.clone()),
            client,
            online,
            buckets: tokio::sync::Mutex::new(HashMap::new()),
            held: parking_lot::Mutex::new(HashMap::new()),
            closing: std::sync::atomic::AtomicBool::new(false),
            tasks: parking_lot::Mutex::new(Vec::new()),
        });
        node.check_jetstream()
            .await
            .map_err(|message| ClusterError {
                url: url.to_string(),
                message,
            })?;
        node.keep(tokio::spawn(announce(Arc::downgrade(&node))));
        Ok(node)
    }

    /// Refuses a NATS without JetStream (the camera claims live in a JetStream key-value
    /// bucket: without it two nodes could both seat a room's camera). Checked if NATS
    /// answers within [`JETSTREAM_CHECK_WAIT`]; a NATS still down then is not checked (the
    /// node starts, as it does while NATS is down).
    async fn check_jetstream(&self) -> Result<(), String> {
        let mut online = self.online();
        let up = tokio::time::timeout(JETSTREAM_CHECK_WAIT, online.wait_for(|up| *up)).await;
        if !matches!(up, Ok(Ok(_))) {
            tracing::warn!("NATS not reachable yet: JetStream not checked");
            return Ok(());
        }
        match self.js.query_account().await {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    AccountErrorKind::JetStreamUnavailable | AccountErrorKind::JetStream(_)
                ) =>
            {
                Err(format!(
                    "JetStream is not enabled ({e}): run nats-server -js (the cluster keeps \
                     its camera claims in JetStream)"
                ))
            }
            Err(e) => {
                tracing::warn!("JetStream not checked: {e}");
                Ok(())
            }
        }
    }

    /// Whether the node is leaving the cluster.
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Whether NATS is connected now.
    pub(crate) fn is_online(&self) -> bool {
        *self.online.borrow()
    }

    /// This node's id.
    pub(crate) fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Whether NATS is connected, as it changes.
    pub(crate) fn online(&self) -> watch::Receiver<bool> {
        self.online.subscribe()
    }

    pub(crate) fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Keeps a task of the cluster's, aborted at [`shutdown`](Self::shutdown).
    pub(crate) fn keep(&self, task: tokio::task::JoinHandle<()>) {
        self.tasks.lock().push(task);
    }

    /// The bucket, opened (and created if missing) on first use.
    pub(crate) async fn bucket(&self, bucket: Bucket) -> Result<kv::Store, String> {
        let mut buckets = self.buckets.lock().await;
        if let Some(store) = buckets.get(&bucket) {
            return Ok(store.clone());
        }
        let name = bucket.config().bucket;
        let store = match self.js.get_key_value(name.clone()).await {
            Ok(store) => store,
            Err(_) => {
                let created = self.js.create_key_value(bucket.config()).await;
                match created {
                    Ok(store) => store,
                    // Another node created it meanwhile.
                    Err(e) => self
                        .js
                        .get_key_value(name)
                        .await
                        .map_err(|_| e.to_string())?,
                }
            }
        };
        buckets.insert(bucket, store.clone());
        Ok(store)
    }

    /// Forgets an opened bucket after an error, so that the next use opens it again.
    pub(crate) async fn forget_bucket(&self, bucket: Bucket) {
        self.buckets.lock().await.remove(&bucket);
    }

    /// Deletes camera claim `key` if it is still this node's (`revision`).
    pub(crate) async fn release_claim(&self, key: &str, revision: u64) {
        let delete = async {
            let store = self.bucket(Bucket::Cameras).await.ok()?;
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

    /// Leaves the cluster: stops announcing this node and removes it from the list, releases
    /// every camera claim it holds, all at once (their renewers stop at their next tick,
    /// seeing the node closing), and flushes what is still to be sent.
    pub(crate) async fn shutdown(&self) {
        self.closing
            .store(true, std::sync::atomic::Ordering::Release);
        for task in self.tasks.lock().drain(..) {
            task.abort();
        }
        let held: Vec<(String, u64)> = self.held.lock().drain().collect();
        let releases = held
            .iter()
            .map(|(key, revision)| self.release_claim(key, *revision));
        futures_util::future::join_all(releases).await;
        self.withdraw().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.client.flush()).await;
    }

    /// Removes this node from the list (shutting down).
    async fn withdraw(&self) {
        let delete = async {
            let store = self.bucket(Bucket::Nodes).await.ok()?;
            store.delete(room_token(self.node_id())).await.ok()
        };
        let _ = tokio::time::timeout(Duration::from_secs(1), delete).await;
    }
}

/// Lists this node in the nodes bucket until it is dropped or shut down.
async fn announce(node: Weak<Node>) {
    let mut ticks = tokio::time::interval(NODE_TTL / 3);
    loop {
        ticks.tick().await;
        let Some(node) = node.upgrade() else {
            return;
        };
        let put = async {
            let store = node.bucket(Bucket::Nodes).await?;
            let key = room_token(node.node_id());
            store
                .put(key, node.node_id().to_string().into())
                .await
                .map_err(|e| e.to_string())
        };
        if tokio::time::timeout(Duration::from_secs(2), put)
            .await
            .map_or(true, |r| r.is_err())
        {
            node.forget_bucket(Bucket::Nodes).await;
        }
    }
}

/// A node id when none is given: the host name and the process id.
pub(crate) fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let host = if host.is_empty() {
        "node".to_string()
    } else {
        host
    };
    format!("{host}-{}", std::process::id())
}
