//! Views of the whole cluster (`?scope=cluster`): every node lists itself in the
//! `livepose_nodes` bucket (`node`) and answers view requests on one subject; a node asked
//! for a cluster view publishes the request with a reply inbox, gathers answers until every
//! listed node has answered or the timeout passes, and names the listed nodes that did not
//! answer.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::node::{Bucket, Node};
use super::subjects::views_subject;

/// Longest a cluster view waits for answers.
pub(crate) const GATHER_TIMEOUT: Duration = Duration::from_secs(1);

/// One node's answer to a view request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ViewAnswer {
    pub(crate) node: String,
    pub(crate) answer: Value,
}

/// The answers to a cluster view.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gathered {
    /// Each answering node's answer, by node id.
    pub(crate) answers: Vec<ViewAnswer>,
    /// Listed nodes that did not answer in time.
    pub(crate) missing: Vec<String>,
}

/// The nodes listed now (empty if they cannot be read before `deadline`).
async fn listed(cluster: &Node, deadline: tokio::time::Instant) -> BTreeSet<String> {
    let list = async {
        let store = cluster.bucket(Bucket::Nodes).await.ok()?;
        let mut keys = store.keys().await.ok()?;
        let mut nodes = BTreeSet::new();
        while let Some(Ok(key)) = keys.next().await {
            if let Ok(Some(node)) = store.get(&key).await {
                nodes.insert(String::from_utf8_lossy(&node).into_owned());
            }
        }
        Some(nodes)
    };
    tokio::time::timeout_at(deadline, list)
        .await
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Answers view requests with `answer(request)` (the path asked for: `streams`, `rooms`,
/// `rooms/NAME`) until the cluster shuts down.
pub(crate) fn serve(cluster: &Arc<Node>, answer: impl Fn(&str) -> Value + Send + Sync + 'static) {
    let weak = Arc::downgrade(cluster);
    let client = cluster.client().clone();
    let task = tokio::spawn(async move {
        let Ok(mut requests) = client.subscribe(views_subject()).await else {
            tracing::warn!("cluster views: cannot subscribe");
            return;
        };
        while let Some(request) = requests.next().await {
            let (Some(reply), Some(cluster)) = (request.reply, weak.upgrade()) else {
                continue;
            };
            let path = String::from_utf8_lossy(&request.payload).into_owned();
            let body = ViewAnswer {
                node: cluster.node_id().to_string(),
                answer: answer(&path),
            };
            let body = serde_json::to_vec(&body).unwrap_or_default();
            let _ = client.publish(reply, body.into()).await;
        }
    });
    cluster.keep(task);
}

/// Asks every node for `path` and gathers the answers, within [`GATHER_TIMEOUT`] in all.
/// While NATS is down this node cannot ask: it answers at once with no answer and no list.
pub(crate) async fn gather(cluster: &Node, path: &str) -> Gathered {
    let mut gathered = Gathered::default();
    if !cluster.is_online() {
        return gathered;
    }
    let deadline = tokio::time::Instant::now() + GATHER_TIMEOUT;
    let client = cluster.client();
    let expected = listed(cluster, deadline).await;
    let inbox = client.new_inbox();
    let ask = async {
        let replies = client.subscribe(inbox.clone()).await.ok()?;
        client
            .publish_with_reply(views_subject(), inbox, path.to_string().into())
            .await
            .ok()?;
        client.flush().await.ok()?;
        Some(replies)
    };
    let Ok(Some(mut replies)) = tokio::time::timeout_at(deadline, ask).await else {
        gathered.missing = expected.into_iter().collect();
        return gathered;
    };
    let mut answered = BTreeSet::new();
    while !expected.is_subset(&answered) || expected.is_empty() {
        let Ok(Some(reply)) = tokio::time::timeout_at(deadline, replies.next()).await else {
            break;
        };
        if let Ok(answer) = serde_json::from_slice::<ViewAnswer>(&reply.payload) {
            if answered.insert(answer.node.clone()) {
                gathered.answers.push(answer);
            }
        }
    }
    gathered.missing = expected.difference(&answered).cloned().collect();
    // Dropping the subscriber unsubscribes (without waiting for NATS).
    drop(replies);
    gathered.answers.sort_by(|a, b| a.node.cmp(&b.node));
    gathered
}
